/* test_model_wolf_sheep.c - wolf-sheep predation behaves as the comparison's
 * model: the species coexist with the default parameters, grass regrows
 * exactly `regrowth` ticks after it is eaten, newborns wait a tick, every
 * animal acts once per tick, and the same seed gives the same run (and the
 * large bench world the run it had); and the random Moore step all the
 * animals take. */
#include <criterion/criterion.h>

#include "models.h"
#include "model_util.h"

#include <stdlib.h>
#include <string.h>

static uint32_t count_of(sw_world *w, const sw_kind *k) {
    sw_sched *s = sw_world_sched(w);
    return sw_sched_count_kind(s, sw_sched_kind_index(s, k));
}

Test(wolf_sheep, species_coexist_with_the_default_parameters) {
    for (uint64_t seed = 1; seed <= 4; seed++) {
        sw_world *w = sw_wolf_sheep_new(&(sw_wolf_sheep_desc){.seed = seed});
        cr_assert_not_null(w);
        uint32_t most_sheep = 0;
        for (int tick = 1; tick <= 300; tick++) {
            cr_assert_eq(sw_world_step(w), SW_OK);
            uint32_t sheep = count_of(w, &sw_kind_sheep), wolves = count_of(w, &sw_kind_wolf);
            cr_assert(sheep > 0 && wolves > 0, "seed %llu: extinction at tick %d (%u sheep, %u wolves)",
                      (unsigned long long)seed, tick, sheep, wolves);
            if (sheep > most_sheep) most_sheep = sheep;
        }
        cr_assert_gt(most_sheep, 60, "the sheep never grew beyond their start");
        sw_world_free(w);
    }
}

Test(wolf_sheep, eaten_grass_regrows_exactly_after_regrowth_ticks) {
    /* one sheep alone on a small field: each cell it eats must read 0 for
       exactly `regrowth` tick ends (unless eaten again), then 1 */
    enum { R = 7, TICKS = 200 };
    sw_world *w = sw_wolf_sheep_new(&(sw_wolf_sheep_desc){.width = 5, .height = 5, .sheep = 1,
                                                         .regrowth = R, .sheep_reproduce = 1e-300,
                                                         .sheep_gain = 1000, .seed = 9});
    cr_assert_not_null(w);
    double *g = sw_world_layer_data(w, sw_world_layer_find(w, "grass"));
    int eaten_at[25];
    for (int c = 0; c < 25; c++) eaten_at[c] = -1;
    int checked = 0;
    double prev[25];
    memcpy(prev, g, sizeof prev);
    for (int tick = 1; tick <= TICKS; tick++) {
        cr_assert_eq(sw_world_step(w), SW_OK);
        for (int c = 0; c < 25; c++) {
            if (prev[c] == 1 && g[c] == 0) eaten_at[c] = tick;
            if (prev[c] == 0 && g[c] == 1 && eaten_at[c] > 0) {
                cr_assert_eq(tick - eaten_at[c], R, "cell %d eaten at %d regrew at %d", c, eaten_at[c], tick);
                checked++;
            }
        }
        memcpy(prev, g, sizeof prev);
    }
    cr_assert_gt(checked, 10, "too few regrowths observed (%d)", checked);
    sw_world_free(w);
}

Test(wolf_sheep, grass_starting_to_grow_matches_its_countdown) {
    /* not grown at the start with countdown c: grown at the grass phase of
       tick 1 + c, so every cell is grown by the end of tick `regrowth` */
    sw_world *w = sw_wolf_sheep_new(&(sw_wolf_sheep_desc){.width = 30, .height = 30, .sheep = 0,
                                                         .wolves = 1, .regrowth = 12,
                                                         .wolf_gain = 1000, .seed = 3});
    cr_assert_not_null(w);
    double *g = sw_world_layer_data(w, sw_world_layer_find(w, "grass"));
    double grown0 = 0;
    for (int c = 0; c < 900; c++) grown0 += g[c];
    cr_assert(grown0 > 350 && grown0 < 550, "about half grown at the start, got %g of 900", grown0);
    for (int tick = 1; tick <= 12; tick++) cr_assert_eq(sw_world_step(w), SW_OK);
    for (int c = 0; c < 900; c++) cr_assert_eq(g[c], 1, "cell %d still not grown", c);
    sw_world_free(w);
}

Test(wolf_sheep, grown_grass_waits_on_its_cells_channel_and_eaten_grass_sleeps) {
    /* issue #3: a grown cell's grass is a tasklet blocked on its cell's event
       channel (with no destination: it never reads who ate it), an eaten
       one sleeps its regrowth; a sheep's post wakes it all the same */
    sw_world *w = sw_wolf_sheep_new(&(sw_wolf_sheep_desc){.width = 20, .height = 20, .sheep = 80,
                                                         .wolves = 1, .regrowth = 9, .seed = 5});
    cr_assert_not_null(w);
    sw_sched *s = sw_world_sched(w);
    double *g = sw_world_layer_data(w, sw_world_layer_find(w, "grass"));
    const sw_field *cell = sw_fields_find(sw_kind_grass.fields, "cell");
    cr_assert_not_null(cell);
    int waiting = 0, sleeping = 0;
    for (int tick = 1; tick <= 30; tick++) {
        cr_assert_eq(sw_world_step(w), SW_OK);
        if (tick < 10) continue; /* past every start-up countdown */
        for (sw_id id = sw_sched_next(s, SW_ID_NONE); id; id = sw_sched_next(s, id)) {
            if (sw_sched_kind_of(s, id) != &sw_kind_grass) continue;
            uint32_t c = (uint32_t)sw_field_get_number(cell, sw_sched_frame(s, id));
            sw_task_info info;
            cr_assert_eq(sw_sched_inspect(s, id, &info), SW_OK);
            if (g[c] >= 1) {
                cr_assert_eq(info.state, SW_TASK_RECV, "grown cell %u: state %d", c, info.state);
                cr_assert_eq(info.chan, sw_world_cell_chan_at(w, c));
                waiting++;
            } else {
                cr_assert_eq(info.state, SW_TASK_SLEEPING, "eaten cell %u: state %d", c, info.state);
                sleeping++;
            }
        }
    }
    cr_assert(waiting > 100 && sleeping > 100, "%d waiting, %d sleeping: too few to tell", waiting, sleeping);
    sw_world_free(w);
}

/* Ids of live animals (sheep and wolves), sorted. */
static size_t animals(sw_world *w, sw_id *out, size_t cap) {
    sw_sched *s = sw_world_sched(w);
    size_t n = 0;
    for (sw_id id = sw_sched_next(s, SW_ID_NONE); id; id = sw_sched_next(s, id)) {
        const sw_kind *k = sw_sched_kind_of(s, id);
        if ((k == &sw_kind_sheep || k == &sw_kind_wolf) && n < cap) out[n++] = id;
    }
    return n;
}

/* Random numbers an animal has drawn from its stream so far. */
static uint64_t draws(sw_sched *s, sw_id id) {
    const sw_field *f = sw_fields_find(sw_sched_kind_of(s, id)->fields, "rng_ctr");
    cr_assert_not_null(f);
    return (uint64_t)sw_field_get_number(f, sw_sched_frame(s, id));
}

static bool contains(const sw_id *v, size_t n, sw_id id) {
    for (size_t i = 0; i < n; i++)
        if (v[i] == id) return true;
    return false;
}

Test(wolf_sheep, every_animal_acts_once_per_tick_and_newborns_wait) {
    enum { CAP = 4096 };
    sw_id *before = malloc(CAP * sizeof *before), *after = malloc(CAP * sizeof *after);
    uint64_t *ctr = calloc(1u << 20, sizeof *ctr);
    sw_world *w = sw_wolf_sheep_new(&(sw_wolf_sheep_desc){.seed = 5});
    sw_sched *s = sw_world_sched(w);
    size_t nb = animals(w, before, CAP);
    int births = 0;
    for (int tick = 1; tick <= 60; tick++) {
        for (size_t i = 0; i < nb; i++) ctr[sw_handle_slot(before[i])] = draws(s, before[i]);
        cr_assert_eq(sw_world_step(w), SW_OK);
        size_t na = animals(w, after, CAP);
        for (size_t i = 0; i < na; i++) {
            sw_task_info info;
            cr_assert_eq(sw_sched_inspect(s, after[i], &info), SW_OK);
            if (contains(before, nb, after[i])) {
                /* it walked: at least one draw this tick */
                cr_assert_gt(draws(s, after[i]), ctr[sw_handle_slot(after[i])], "tick %d: an animal did not act", tick);
            } else {
                cr_assert_eq(draws(s, after[i]), 0, "tick %d: a newborn acted in its birth tick", tick);
                cr_assert_eq(info.state, SW_TASK_SLEEPING);
                cr_assert_eq(info.wake, (sw_tick)tick + 1);
                births++;
            }
        }
        memcpy(before, after, na * sizeof *after);
        nb = na;
    }
    cr_assert_gt(births, 20);
    sw_world_free(w);
    free(before);
    free(after);
    free(ctr);
}

Test(wolf_sheep, same_seed_same_run) {
    uint32_t a[2][100];
    for (int run = 0; run < 2; run++) {
        sw_world *w = sw_wolf_sheep_new(&(sw_wolf_sheep_desc){.width = 40, .sheep = 300, .wolves = 100, .seed = 77});
        for (int i = 0; i < 100; i++) {
            cr_assert_eq(sw_world_step(w), SW_OK);
            a[run][i] = count_of(w, &sw_kind_sheep) * 10000 + count_of(w, &sw_kind_wolf);
        }
        sw_world_free(w);
    }
    cr_assert_arr_eq(a[0], a[1], sizeof a[0]);
    sw_world *w = sw_wolf_sheep_new(&(sw_wolf_sheep_desc){.width = 40, .sheep = 300, .wolves = 100, .seed = 78});
    bool differs = false;
    for (int i = 0; i < 100; i++) {
        sw_world_step(w);
        differs |= a[0][i] != count_of(w, &sw_kind_sheep) * 10000 + count_of(w, &sw_kind_wolf);
    }
    cr_assert(differs, "another seed gave the very same run");
    sw_world_free(w);
}

/* The comparison's large world with the seed of scenarios/bench/wolf_sheep_large.json:
 * its sheep and wolf counts at a few ticks, as the scenario's stats.csv of
 * the engine before the speed-ups (main at b88ce69) has them. Optimisations
 * of the model's path (inlining, prefetching, births, the grass's wake-up)
 * must leave every draw and every turn where it was; this pins that. */
Test(wolf_sheep, the_large_bench_world_keeps_its_results) {
    static const struct { int tick; uint32_t sheep, wolves; double cover; } want[] = {
        {1, 1275, 584, 0.514},   {2, 1631, 653, 0.5047},   {25, 1354, 4285, 0.4939},
        {50, 1449, 1855, 0.6391}, {75, 1558, 3340, 0.5304}, {100, 1433, 2609, -1},
    };
    sw_world *w = sw_wolf_sheep_new(&(sw_wolf_sheep_desc){.width = 100, .height = 100,
        .sheep = 1000, .wolves = 500, .regrowth = 10, .sheep_reproduce = 0.4,
        .wolf_reproduce = 0.2, .seed = 42});
    cr_assert_not_null(w);
    int layer = sw_world_layer_find(w, "grass");
    size_t next = 0;
    for (int tick = 1; tick <= 100; tick++) {
        cr_assert_eq(sw_world_step(w), SW_OK);
        if (want[next].tick != tick) continue;
        cr_expect_eq(count_of(w, &sw_kind_sheep), want[next].sheep, "sheep at tick %d", tick);
        cr_expect_eq(count_of(w, &sw_kind_wolf), want[next].wolves, "wolves at tick %d", tick);
        if (want[next].cover >= 0) {
            const double *g = sw_world_layer_data(w, layer);
            double sum = 0;
            for (int c = 0; c < 100 * 100; c++) sum += g[c];
            /* stats.csv prints the mean to four places here */
            cr_expect_float_eq(sum / 10000, want[next].cover, 1e-9, "grass cover at tick %d", tick);
        }
        next++;
    }
    cr_assert_eq(next, sizeof want / sizeof want[0]);
    sw_world_free(w);
}

/* The smallest random number that sw__model_below maps to j of n. */
static uint64_t draw_for(uint64_t j, uint64_t n) {
    return (uint64_t)((((unsigned __int128)j << 64) + n - 1) / n);
}

Test(wolf_sheep, moore_step_picks_uniformly_among_the_neighbours_on_the_grid) {
    /* against the plain enumeration: the neighbours on the grid in row-major
       order of offsets, the j-th of n chosen by the j-th n-th of the draws */
    static const int dx[8] = {-1, 0, 1, -1, 1, -1, 0, 1}, dy[8] = {-1, -1, -1, 0, 0, 1, 1, 1};
    static const uint32_t sizes[][2] = {{1, 1}, {1, 4}, {4, 1}, {2, 2}, {3, 3}, {5, 4}};
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        uint32_t W = sizes[si][0], H = sizes[si][1];
        sw_world *w = sw_world_new(&(sw_world_desc){.width = W, .height = H});
        cr_assert_not_null(w);
        for (int32_t y = 0; y < (int32_t)H; y++)
            for (int32_t x = 0; x < (int32_t)W; x++) {
                int ok[8], n = 0;
                for (int k = 0; k < 8; k++)
                    if (x + dx[k] >= 0 && x + dx[k] < (int32_t)W && y + dy[k] >= 0 && y + dy[k] < (int32_t)H)
                        ok[n++] = k;
                for (int j = 0; j < (n ? n : 1); j++) {
                    /* the first and the last draw of each share */
                    uint64_t lo = n ? draw_for((uint64_t)j, (uint64_t)n) : 0;
                    uint64_t hi = n && j + 1 < n ? draw_for((uint64_t)j + 1, (uint64_t)n) - 1 : UINT64_MAX;
                    for (int e = 0; e < 2; e++) {
                        int32_t nx = x, ny = y;
                        sw__model_moore_step(w, e ? hi : lo, &nx, &ny);
                        int32_t wx = n ? x + dx[ok[j]] : x, wy = n ? y + dy[ok[j]] : y;
                        cr_assert(nx == wx && ny == wy,
                                  "%ux%u from (%d, %d), choice %d of %d: went to (%d, %d), not (%d, %d)",
                                  W, H, x, y, j, n, nx, ny, wx, wy);
                    }
                }
            }
        sw_world_free(w);
    }
}
