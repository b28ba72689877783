/* test_model_flocking.c - boids align: the order parameter |mean velocity|
 * starts near zero and rises substantially; velocities become unit vectors,
 * positions stay in the periodic space, headings follow the velocity; the
 * same seed gives the same flight. */
#include <criterion/criterion.h>

#include "models.h"
#include "model_util.h"
#include "world_int.h" /* w->sread: the same flock read without padding */

#include <math.h>
#include <string.h>

Test(flocking, birds_align) {
    for (uint64_t seed = 1; seed <= 3; seed++) {
        sw_world *w = sw_flocking_new(&(sw_flocking_desc){.size = 60, .birds = 200, .visual = 6, .seed = seed});
        cr_assert_not_null(w);
        double start = sw_flocking_order(w);
        for (int i = 0; i < 300; i++) cr_assert_eq(sw_world_step(w), SW_OK);
        double end = sw_flocking_order(w);
        cr_assert_lt(start, 0.2, "a random flock is disordered: %.3f", start);
        cr_assert_gt(end, 0.5, "seed %llu: order rose only from %.3f to %.3f", (unsigned long long)seed, start, end);
        sw_world_free(w);
    }
}

Test(flocking, unit_velocities_wrapped_positions_and_headings) {
    sw_world *w = sw_flocking_new(&(sw_flocking_desc){.seed = 8});
    sw_sched *s = sw_world_sched(w);
    for (int i = 0; i < 5; i++) cr_assert_eq(sw_world_step(w), SW_OK);
    uint32_t n = 0;
    for (sw_id id = sw_sched_next(s, SW_ID_NONE); id; id = sw_sched_next(s, id), n++) {
        const double *b = sw_sched_frame(s, id); /* x, y, vx, vy first */
        double x, y;
        cr_assert(sw_world_space_pos(w, id, &x, &y));
        cr_assert(x >= 0 && x < 100 && y >= 0 && y < 100);
        cr_assert_eq(b[0], x);
        cr_assert_eq(b[1], y);
        cr_assert_float_eq(hypot(b[2], b[3]), 1.0, 1e-12);
        cr_assert_float_eq(sw_world_space_heading(w, id), atan2(b[3], b[2]), 1e-12);
    }
    cr_assert_eq(n, 200);
    sw_world_free(w);
}

Test(flocking, a_lone_bird_flies_straight) {
    /* no neighbours: its normalised velocity never changes */
    sw_world *w = sw_flocking_new(&(sw_flocking_desc){.size = 50, .birds = 1, .seed = 2});
    sw_sched *s = sw_world_sched(w);
    sw_id id = sw_sched_next(s, SW_ID_NONE);
    const double *b = sw_sched_frame(s, id);
    double vx = b[2] / hypot(b[2], b[3]), vy = b[3] / hypot(b[2], b[3]);
    double x0 = b[0], y0 = b[1];
    for (int i = 0; i < 10; i++) cr_assert_eq(sw_world_step(w), SW_OK);
    cr_assert_float_eq(b[2], vx, 1e-12);
    cr_assert_float_eq(b[3], vy, 1e-12);
    double dx = fmod(x0 + 10 * vx + 500, 50) - b[0], dy = fmod(y0 + 10 * vy + 500, 50) - b[1];
    cr_assert_float_eq(dx, 0, 1e-9);
    cr_assert_float_eq(dy, 0, 1e-9);
    sw_world_free(w);
}

/* A point that left the torus, as the bird wrapped it before the world did
 * (one period added or taken; the world takes one rounded onto the edge to
 * 0, as its fmod does). */
static double wrapped(double v, double extent) {
    v = v < 0 ? v + extent : v >= extent ? v - extent : v;
    return v < extent ? v : 0;
}

Test(flocking, a_bird_across_the_seam_lands_where_the_wrap_puts_it) {
    /* a lone bird crosses the edges of a 20 x 20 torus every few steps: each
       step its point is its last plus its velocity, wrapped, bit for bit, in
       its frame and in the world (the world wraps it: the move's fast path
       takes only points within the bucket's edges) */
    sw_world *w = sw_flocking_new(&(sw_flocking_desc){.size = 20, .birds = 1, .seed = 4});
    sw_sched *s = sw_world_sched(w);
    sw_id id = sw_sched_next(s, SW_ID_NONE);
    const double *b = sw_sched_frame(s, id);
    int crossed = 0;
    for (int i = 0; i < 200; i++) {
        double x0 = b[0], y0 = b[1];
        cr_assert_eq(sw_world_step(w), SW_OK);
        double x = wrapped(x0 + b[2] * 1.0, 20), y = wrapped(y0 + b[3] * 1.0, 20), wx, wy;
        cr_assert(sw_world_space_pos(w, id, &wx, &wy));
        cr_assert(b[0] == x && b[1] == y, "step %d: (%a, %a), not (%a, %a)", i, b[0], b[1], x, y);
        cr_assert(wx == x && wy == y, "step %d: the world's (%a, %a)", i, wx, wy);
        crossed += fabs(x - x0) > 10 || fabs(y - y0) > 10;
    }
    cr_assert_gt(crossed, 5, "the seam crossed often (%d)", crossed);
    sw_world_free(w);
}

Test(flocking, same_seed_same_flight) {
    double order[2];
    for (int run = 0; run < 2; run++) {
        sw_world *w = sw_flocking_new(&(sw_flocking_desc){.size = 150, .birds = 400, .visual = 15, .seed = 6});
        for (int i = 0; i < 100; i++) cr_assert_eq(sw_world_step(w), SW_OK);
        order[run] = sw_flocking_order(w);
        sw_world_free(w);
    }
    cr_assert_eq(order[0], order[1]);
}

/* The builder's buckets: a whole number across, wide enough to hold about
 * ten birds (never less than the visual range wanted), and narrow enough
 * that a query keeps its per-range shifts (visual + 2 width < size / 2,
 * with room); a visual range near half the size leaves none, and gets
 * buckets as wide as itself. */
Test(flocking, buckets_hold_about_ten_birds_and_keep_the_scan_without_minimum_image) {
    const struct { uint32_t size, birds; double visual, want; } c[] = {
        {150, 400, 15, 25},  /* ten birds: 23.7 wide, 6 across */
        {100, 200, 5, 20},   /* 22.4 would need the minimum image: 5 across */
        {60, 200, 6, 10},    /* 6 across of 10: 6 + 20 < 30 */
        {1000, 100000, 1, 10}, /* dense: ten birds in 10 x 10 */
        {30, 100, 10, 10},   /* visual 10 of 30: no width keeps the shifts */
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        sw_world *w = sw_flocking_new(&(sw_flocking_desc){.size = c[i].size, .birds = c[i].birds,
                                                          .visual = c[i].visual, .seed = 1});
        cr_assert_not_null(w);
        double cell = sw_world_desc_of(w)->space_cell;
        cr_assert_float_eq(cell, c[i].want, 1e-12, "case %zu: %g", i, cell);
        double across = c[i].size / cell;
        cr_assert_float_eq(across, round(across), 1e-9, "a whole number of buckets across");
        if (c[i].visual < 0.45 * c[i].size / 2)
            cr_assert_lt(c[i].visual + 2 * cell, c[i].size / 2.0);
        sw_world_free(w);
    }
}

/* The builder's reading of the buckets (sw_world_desc.space_read): where
 * a bird's square fits in a bucket (2 visual <= width: at most 2 x 2
 * buckets a query), every bucket read to its about ten birds (the world
 * reads whole groups: three of four); wider queries read each bucket's
 * birds only. */
Test(flocking, sparse_queries_read_each_bucket_to_three_groups) {
    const struct { uint32_t size, birds; double visual; uint32_t read; } c[] = {
        {100, 200, 5, 10},  /* the small benchmark: 2 x 5 <= 20 */
        {150, 400, 15, 0},  /* the large one: 2 x 15 > 25 */
        {60, 200, 6, 0},    /* 12 > 10 */
        {1000, 100000, 1, 10},
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        sw_world *w = sw_flocking_new(&(sw_flocking_desc){.size = c[i].size, .birds = c[i].birds,
                                                          .visual = c[i].visual, .seed = 1});
        cr_assert_not_null(w);
        cr_assert_eq(sw_world_desc_of(w)->space_read, c[i].read, "case %zu: %u", i,
                     sw_world_desc_of(w)->space_read);
        sw_world_free(w);
    }
}

/* The small benchmark's flock, whose queries read every bucket to three
 * groups, flies exactly as the same flock read to its birds only: every
 * bird's frame (point, velocity) bit for bit after 100 ticks. */
Test(flocking, a_flock_read_to_three_groups_flies_as_one_read_to_its_birds) {
    sw_world *w[2];
    for (int v = 0; v < 2; v++) {
        w[v] = sw_flocking_new(&(sw_flocking_desc){.size = 100, .birds = 200, .visual = 5, .seed = 9});
        cr_assert_not_null(w[v]);
    }
    cr_assert_eq(w[0]->sread, 12);
    w[1]->sread = 0; /* its buckets' storage stays as large: only the reading changes */
    for (int i = 0; i < 100; i++)
        for (int v = 0; v < 2; v++) cr_assert_eq(sw_world_step(w[v]), SW_OK);
    sw_sched *s[2] = {sw_world_sched(w[0]), sw_world_sched(w[1])};
    int birds = 0;
    for (sw_id a = sw_sched_next(s[0], SW_ID_NONE), b = sw_sched_next(s[1], SW_ID_NONE); a || b;
         a = sw_sched_next(s[0], a), b = sw_sched_next(s[1], b), birds++) {
        cr_assert(a == b, "the same birds");
        cr_assert_eq(memcmp(sw_sched_frame(s[0], a), sw_sched_frame(s[1], b), sw_kind_boid.frame_size), 0,
                     "bird %d", birds);
    }
    cr_assert_eq(birds, 200);
    for (int v = 0; v < 2; v++) sw_world_free(w[v]);
}

/* The flight's 1 / max(n, 1) table (agents/flocking.c): each entry the
 * quotient, bit for bit, as the division at run time gives it. */
Test(flocking, the_reciprocal_table_holds_the_quotients) {
    for (volatile uint32_t n = 0; n < SW__FLOCK_RECIPS; n++) {
        volatile double one = 1.0;
        double want = one / (n > 0 ? n : 1);
        cr_assert(memcmp(&sw__flock_recip[n], &want, sizeof want) == 0, "1 / %u: %a, not %a", n,
                  sw__flock_recip[n], want);
    }
}
