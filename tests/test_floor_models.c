/* test_floor_models.c - the plain-C models of `swarmlet bench floor`
 * (tools/floor_models.c) are the same models as Swarmlet's: over 100 seeds
 * each, a few outcome statistics agree in distribution with those of
 * agents/wolf_sheep.c, flocking.c and schelling.c (the runs cannot agree bit
 * for bit: the random streams differ). The z-bound of 4 lets a true model
 * pass (a false alarm about once in 16,000 statistics) and catches real
 * rule differences, tried in the plain models and reverted: p_sheep 0.3
 * instead of 0.2 gave z = -5.2 on the sheep at step 50; a bird counting
 * itself among its neighbours z = 19 on the crowding; a resident counting
 * itself among the alike z = 49 on the segregation (r = 2) and 8 (r = 1). */
#include <criterion/criterion.h>

#include "floor_models.h"
#include "models.h"

#include <math.h>

enum { SEEDS = 100 };

/* Mean and variance of SEEDS values. */
typedef struct {
    double sum, sq;
} moments;

static void add(moments *m, double v) {
    m->sum += v;
    m->sq += v * v;
}

/* The difference of the means over its standard error (0 when both samples
 * are constant). */
static double z_of(const moments *a, const moments *b) {
    double ma = a->sum / SEEDS, mb = b->sum / SEEDS;
    double va = (a->sq - SEEDS * ma * ma) / (SEEDS - 1), vb = (b->sq - SEEDS * mb * mb) / (SEEDS - 1);
    double se = sqrt((va + vb) / SEEDS);
    return se > 0 ? (ma - mb) / se : 0;
}

static void assert_same(const char *what, const moments *engine, const moments *plain) {
    double z = z_of(engine, plain);
    cr_log_info("%s: Swarmlet %.4f, plain C %.4f, z %.2f", what, engine->sum / SEEDS, plain->sum / SEEDS, z);
    cr_assert_lt(fabs(z), 4.0, "%s: Swarmlet %.4f, plain C %.4f (z = %.2f)", what, engine->sum / SEEDS,
                 plain->sum / SEEDS, z);
}

/* ---- wolf-sheep: the counts at step 50 (before wolves die out in some seeds) ---- */

enum { WS_STEPS = 50 };

static uint32_t count_of(sw_world *w, const sw_kind *k) {
    sw_sched *s = sw_world_sched(w);
    return sw_sched_count_kind(s, sw_sched_kind_index(s, k));
}

Test(floor_models, wolf_sheep_is_swarmlets_model) {
    moments e[2] = {{0}}, p[2] = {{0}};
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        sw_world *w = sw_wolf_sheep_new(&(sw_wolf_sheep_desc){.seed = seed});
        cr_assert_not_null(w);
        for (int t = 0; t < WS_STEPS; t++) cr_assert_eq(sw_world_step(w), SW_OK);
        add(&e[0], count_of(w, &sw_kind_sheep));
        add(&e[1], count_of(w, &sw_kind_wolf));
        sw_world_free(w);
        /* the defaults of sw_wolf_sheep_desc: the comparison's small model */
        sw_floor_ws *m = sw_floor_ws_new(&(sw_floor_ws_desc){.width = 25, .height = 25, .sheep = 60,
            .wolves = 40, .regrowth = 20, .sheep_reproduce = 0.2, .wolf_reproduce = 0.1,
            .sheep_gain = 5, .wolf_gain = 13}, seed + 1000);
        cr_assert_not_null(m);
        for (int t = 0; t < WS_STEPS; t++) cr_assert_geq(sw_floor_ws_step(m), 0);
        uint32_t sheep, wolves;
        sw_floor_ws_counts(m, &sheep, &wolves);
        add(&p[0], sheep);
        add(&p[1], wolves);
        sw_floor_ws_free(m);
    }
    assert_same("sheep at step 50", &e[0], &p[0]);
    assert_same("wolves at step 50", &e[1], &p[1]);
}

/* ---- flocking: alignment and crowding after the steps ----------------------------------- */

enum { MAX_BIRDS = 200 };

/* The mean number of other birds within `visual` of a bird (minimum image):
 * how tightly the flocks have gathered, which the alignment alone hardly
 * tells (a flock that counts each bird among its own neighbours aligns
 * about as well, but gathers less). */
static double crowding(const double *x, const double *y, uint32_t n, double size, double visual) {
    uint64_t pairs = 0;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = i + 1; j < n; j++) {
            double dx = fabs(x[i] - x[j]), dy = fabs(y[i] - y[j]);
            dx = fmin(dx, size - dx);
            dy = fmin(dy, size - dy);
            pairs += dx * dx + dy * dy <= visual * visual;
        }
    return n ? 2.0 * (double)pairs / n : 0;
}

static double engine_crowding(sw_world *w, double size, double visual) {
    double x[MAX_BIRDS], y[MAX_BIRDS];
    uint32_t n = 0;
    sw_sched *s = sw_world_sched(w);
    for (sw_id id = sw_sched_next(s, SW_ID_NONE); id && n < MAX_BIRDS; id = sw_sched_next(s, id))
        if (sw_world_space_pos(w, id, &x[n], &y[n])) n++;
    return crowding(x, y, n, size, visual);
}

static double plain_crowding(const sw_floor_flock *m, uint32_t birds, double size, double visual) {
    double x[MAX_BIRDS], y[MAX_BIRDS];
    for (uint32_t i = 0; i < birds; i++) sw_floor_flock_pos(m, i, &x[i], &y[i]);
    return crowding(x, y, birds, size, visual);
}

static void flocks_agree(double size, uint32_t birds, double visual, int steps) {
    moments e[2] = {{0}}, p[2] = {{0}};
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        sw_world *w = sw_flocking_new(&(sw_flocking_desc){.size = (uint32_t)size, .birds = birds,
                                                          .visual = visual, .seed = seed});
        cr_assert_not_null(w);
        for (int t = 0; t < steps; t++) cr_assert_eq(sw_world_step(w), SW_OK);
        add(&e[0], sw_flocking_order(w));
        add(&e[1], engine_crowding(w, size, visual));
        sw_world_free(w);
        sw_floor_flock *m = sw_floor_flock_new(&(sw_floor_flock_desc){.size = size, .birds = birds,
                                                                     .visual = visual}, seed + 1000);
        cr_assert_not_null(m);
        for (int t = 0; t < steps; t++) cr_assert_eq(sw_floor_flock_step(m), birds);
        add(&p[0], sw_floor_flock_order(m));
        add(&p[1], plain_crowding(m, birds, size, visual));
        sw_floor_flock_free(m);
    }
    assert_same("alignment", &e[0], &p[0]);
    assert_same("crowding", &e[1], &p[1]);
}

Test(floor_models, flocking_is_swarmlets_model) { flocks_agree(100, 200, 5, 100); }

/* Birds that see each other across the seam, and with one bucket for all
 * (visual distance over a third of the size), still flock as Swarmlet's. */
Test(floor_models, flocking_across_the_seam_and_in_one_bucket) { flocks_agree(20, 30, 8, 10); }

/* ---- Schelling: segregation and the unhappy after 20 steps ----------------------------- */

static void schelling_agrees(uint32_t size, uint32_t agents, int32_t radius, int32_t min_same) {
    moments e[2] = {{0}}, p[2] = {{0}};
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        sw_world *w = sw_schelling_new(&(sw_schelling_desc){.size = size, .agents = agents,
            .radius = radius, .min_same = min_same, .seed = seed});
        cr_assert_not_null(w);
        for (int t = 0; t < 20; t++) cr_assert_eq(sw_world_step(w), SW_OK);
        uint32_t sad;
        add(&e[0], sw_schelling_segregation(w, &sad));
        add(&e[1], sad);
        sw_world_free(w);
        sw_floor_schelling *m = sw_floor_schelling_new(&(sw_floor_schelling_desc){.size = size,
            .agents = agents, .radius = radius, .min_same = min_same}, seed + 1000);
        cr_assert_not_null(m);
        for (int t = 0; t < 20; t++) cr_assert_eq(sw_floor_schelling_step(m), agents);
        add(&p[0], sw_floor_schelling_segregation(m, &sad));
        add(&p[1], sad);
        sw_floor_schelling_free(m);
    }
    assert_same("segregation after 20 steps", &e[0], &p[0]);
    assert_same("unhappy after 20 steps", &e[1], &p[1]);
}

Test(floor_models, schelling_small_is_swarmlets_model) { schelling_agrees(40, 1000, 1, 3); }
Test(floor_models, schelling_at_radius_two_is_swarmlets_model) { schelling_agrees(30, 600, 2, 8); }

/* ---- what cannot be built ---------------------------------------------------------------- */

Test(floor_models, impossible_worlds_are_null) {
    cr_assert_null(sw_floor_schelling_new(&(sw_floor_schelling_desc){.size = 3, .agents = 10}, 1));
    cr_assert_null(sw_floor_ws_new(&(sw_floor_ws_desc){.width = 0, .height = 5}, 1));
    cr_assert_null(sw_floor_flock_new(&(sw_floor_flock_desc){.size = 10, .birds = 3, .visual = 0}, 1));
    sw_floor_ws_free(NULL);
    sw_floor_flock_free(NULL);
    sw_floor_schelling_free(NULL);
}
