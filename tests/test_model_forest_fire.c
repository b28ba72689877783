/* test_model_forest_fire.c - the forest fire matches a plain cellular
 * automaton tick by tick, burns further in denser forests, crosses a large
 * grid above the percolation threshold and not well below it, and costs
 * time only along the burning front. */
#include <criterion/criterion.h>

#include "models.h"

#include <stdlib.h>
#include <string.h>

/* Run until nothing wakes any more (the fire is out); returns the ticks. */
static int burn_out(sw_world *w, int limit) {
    int ticks = 0;
    do {
        cr_assert_eq(sw_world_step(w), SW_OK);
        ticks++;
    } while (sw_sched_resumes(sw_world_sched(w)) > 0 && ticks < limit);
    return ticks;
}

static double burnt_fraction(sw_world *w) {
    const double *f = sw_forest_fire_layer(w);
    size_t n = (size_t)sw_world_width(w) * sw_world_height(w), trees = 0, burnt = 0;
    for (size_t c = 0; c < n; c++) {
        trees += f[c] != 0;
        burnt += f[c] == SW_TREE_BURNT;
    }
    return trees ? (double)burnt / (double)trees : 0;
}

static bool crossed(sw_world *w) {
    const double *f = sw_forest_fire_layer(w);
    uint32_t W = sw_world_width(w), H = sw_world_height(w);
    for (uint32_t y = 0; y < H; y++)
        if (f[(size_t)y * W + W - 1] == SW_TREE_BURNT) return true;
    return false;
}

Test(forest_fire, matches_the_cellular_automaton_tick_by_tick) {
    enum { N = 60 };
    sw_world *w = sw_forest_fire_new(&(sw_forest_fire_desc){.width = N, .density = 0.62, .seed = 11});
    cr_assert_not_null(w);
    const double *layer = sw_forest_fire_layer(w);
    double ref[N * N], next[N * N];
    memcpy(ref, layer, sizeof ref);
    for (int y = 0; y < N; y++) /* the left column burns, the rest is green or empty */
        cr_assert(ref[y * N] == 0 || ref[y * N] == SW_TREE_BURNING);
    for (int tick = 1; tick <= 150; tick++) {
        memcpy(next, ref, sizeof next);
        for (int c = 0; c < N * N; c++) {
            if (ref[c] != SW_TREE_BURNING) continue;
            int x = c % N, y = c / N;
            const int nx[4] = {x - 1, x + 1, x, x}, ny[4] = {y, y, y - 1, y + 1};
            for (int k = 0; k < 4; k++)
                if (nx[k] >= 0 && ny[k] >= 0 && nx[k] < N && ny[k] < N && ref[ny[k] * N + nx[k]] == SW_TREE_GREEN)
                    next[ny[k] * N + nx[k]] = SW_TREE_BURNING;
            next[c] = SW_TREE_BURNT;
        }
        memcpy(ref, next, sizeof ref);
        cr_assert_eq(sw_world_step(w), SW_OK);
        for (int c = 0; c < N * N; c++)
            cr_assert_eq(layer[c], ref[c], "tick %d cell (%d, %d): %g, automaton %g", tick, c % N,
                         c / N, layer[c], ref[c]);
    }
    /* and each tree's own state agrees with the layer */
    sw_sched *s = sw_world_sched(w);
    for (sw_id id = sw_sched_next(s, SW_ID_NONE); id; id = sw_sched_next(s, id)) {
        int32_t x, y;
        cr_assert(sw_world_cell_of(w, id, &x, &y));
        const int32_t *state = sw_sched_frame(s, id); /* the first field */
        cr_assert_eq(*state, layer[y * N + x]);
    }
    sw_world_free(w);
}

Test(forest_fire, burns_further_at_higher_density) {
    double sparse = 0, dense = 0;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        sw_world *a = sw_forest_fire_new(&(sw_forest_fire_desc){.width = 100, .density = 0.5, .seed = seed});
        sw_world *b = sw_forest_fire_new(&(sw_forest_fire_desc){.width = 100, .density = 0.8, .seed = seed});
        burn_out(a, 100000);
        burn_out(b, 100000);
        sparse += burnt_fraction(a);
        dense += burnt_fraction(b);
        sw_world_free(a);
        sw_world_free(b);
    }
    cr_assert_lt(sparse / 3, 0.2, "density 0.5 burnt %.2f of the trees", sparse / 3);
    cr_assert_gt(dense / 3, 0.9, "density 0.8 burnt only %.2f of the trees", dense / 3);
}

Test(forest_fire, crosses_above_the_percolation_threshold_only) {
    /* site percolation on the square lattice: p_c = 0.5927 */
    int low = 0, high = 0;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        sw_world *a = sw_forest_fire_new(&(sw_forest_fire_desc){.width = 200, .density = 0.45, .seed = seed});
        sw_world *b = sw_forest_fire_new(&(sw_forest_fire_desc){.width = 200, .density = 0.75, .seed = seed});
        burn_out(a, 100000);
        burn_out(b, 100000);
        low += crossed(a);
        high += crossed(b);
        sw_world_free(a);
        sw_world_free(b);
    }
    cr_assert_eq(low, 0, "the fire crossed a forest of density 0.45 (%d of 4)", low);
    cr_assert_eq(high, 4, "the fire failed to cross a forest of density 0.75 (%d of 4)", high);
}

Test(forest_fire, only_the_burning_front_costs_time) {
    sw_world *w = sw_forest_fire_new(&(sw_forest_fire_desc){.width = 400, .density = 0.7, .seed = 2});
    sw_sched *s = sw_world_sched(w);
    uint32_t trees = sw_sched_count(s);
    cr_assert_eq(sw_world_step(w), SW_OK); /* tick 1: every tree lies down once */
    const double *f = sw_forest_fire_layer(w);
    for (int tick = 2; tick <= 60; tick++) {
        size_t burning = 0;
        for (size_t c = 0; c < 400u * 400u; c++) burning += f[c] == SW_TREE_BURNING;
        cr_assert_eq(sw_world_step(w), SW_OK);
        /* the trees resumed are those that were burning, plus those they lit */
        size_t lit = 0;
        for (size_t c = 0; c < 400u * 400u; c++) lit += f[c] == SW_TREE_BURNING;
        cr_assert_eq(sw_sched_resumes(s), burning + lit, "tick %d", tick);
        cr_assert_lt(sw_sched_resumes(s), trees / 50);
    }
    sw_world_free(w);
}

Test(forest_fire, same_seed_same_fire) {
    sw_world *a = sw_forest_fire_new(&(sw_forest_fire_desc){.width = 120, .density = 0.6, .seed = 5});
    sw_world *b = sw_forest_fire_new(&(sw_forest_fire_desc){.width = 120, .density = 0.6, .seed = 5});
    burn_out(a, 100000);
    burn_out(b, 100000);
    cr_assert_eq(memcmp(sw_forest_fire_layer(a), sw_forest_fire_layer(b), 120 * 120 * sizeof(double)), 0);
    sw_world_free(a);
    sw_world_free(b);
}
