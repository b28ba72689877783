/* test_world_space.c - the continuous space: placing and moving agents at
 * points, bucket order and storage, and wrapping. */
#include <criterion/criterion.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swarmlet.h"
#include "world_int.h" /* sw__world_bucket_of: the one definition of a point's bucket */

#include "test_world.h"

/* ---- placement in the buckets -------------------------------------------------------- */

Test(world_space, space_buckets_keep_arrival_order_through_moves_and_deaths) {
    sw_world *w = sw_world_new(&(sw_world_desc){.width = 10, .height = 10, .space_cell = 5});
    sw_id id[5];
    for (int i = 0; i < 5; i++) id[i] = sw_world_spawn_at_point(w, &mover, NULL, 1 + 0.5 * i, 1, 0);
    cr_assert_eq(sw_world_space_place(w, id[1], 3.9, 1.2), SW_OK); /* same bucket: keeps its place */
    cr_assert_eq(sw_world_space_place(w, id[2], 8, 8), SW_OK);     /* leaves */
    cr_assert_eq(sw_sched_kill(sw_world_sched(w), id[3]), SW_OK);
    cr_assert_eq(sw_world_space_place(w, id[2], 2, 2), SW_OK);     /* comes back last */
    sw_id got[8], want[] = {id[0], id[1], id[4], id[2]};
    cr_assert_eq(sw_world_space_near(w, 2, 2, 4, got, 8), 4);
    cr_assert_arr_eq(got, want, sizeof want);
    double x, y;
    cr_assert(sw_world_space_pos(w, id[1], &x, &y));
    cr_assert(x == 3.9 && y == 1.2);
    cr_assert(sw_world_space_pos(w, id[4], &x, &y));
    cr_assert(x == 3 && y == 1, "moved down the bucket, its place is still its own");
    /* many in one bucket: the array grows and shrinks, order kept */
    sw_id many[100];
    for (int i = 0; i < 100; i++) many[i] = sw_world_spawn_at_point(w, &mover, NULL, 6 + i * 0.03, 6, 0);
    for (int i = 0; i < 100; i += 2) cr_assert_eq(sw_world_space_unplace(w, many[i]), SW_OK);
    sw_id near[100];
    cr_assert_eq(sw_world_space_near(w, 7.5, 6, 1.6, near, 100), 50);
    for (int i = 0; i < 50; i++) cr_assert_eq(near[i], many[2 * i + 1]);
    cr_assert_eq(sw_world_space_count(w), 54);
    sw_world_free(w);
}

Test(world_space, space_an_agent_wandering_over_a_fine_index_keeps_its_place) {
    /* 10,000 buckets visited one after another (their storage is swept as
       they empty): the index stays exact */
    sw_world *w = sw_world_new(&(sw_world_desc){.width = 100, .height = 100, .space_cell = 1});
    sw_id a = sw_world_spawn_at_point(w, &mover, NULL, 0.5, 0.5, 0);
    sw_id b = sw_world_spawn_at_point(w, &mover, NULL, 50.5, 50.5, 0);
    for (int i = 0; i < 10000; i++) {
        double x = i % 100 + 0.5, y = i / 100 + 0.5;
        cr_assert_eq(sw_world_space_place(w, a, x, y), SW_OK);
        sw_id got[3];
        uint32_t n = sw_world_space_near(w, x, y, 0.1, got, 3);
        if (i == 5050) { /* on b's point, after it in its bucket */
            cr_assert_eq(n, 2);
            cr_assert(got[0] == b && got[1] == a);
        } else {
            cr_assert_eq(n, 1, "step %d: %u found", i, n);
            cr_assert_eq(got[0], a);
        }
    }
    double x, y;
    cr_assert(sw_world_space_pos(w, b, &x, &y));
    cr_assert(x == 50.5 && y == 50.5);
    cr_assert_eq(sw_world_space_count(w), 2);
    sw_world_free(w);
}

Test(world_space, space_wraps_on_a_torus_and_rejects_points_off_a_bounded_space) {
    sw_world *w = mk(10, 10, SW_TOPO_TORUS);
    sw_id a = sw_world_spawn_at_point(w, &idle, NULL, -0.5, 10.25, 0);
    double x, y;
    cr_assert(sw_world_space_pos(w, a, &x, &y));
    cr_assert_float_eq(x, 9.5, 1e-12);
    cr_assert_float_eq(y, 0.25, 1e-12);
    double dx, dy;
    sw_world_space_delta(w, 9.5, 0.25, 0.5, 9.75, &dx, &dy);
    cr_assert_float_eq(dx, 1.0, 1e-12);
    cr_assert_float_eq(dy, -0.5, 1e-12);
    cr_assert_eq(sw_world_space_place(w, a, NAN, 1), SW_E_INVALID);
    sw_world_space_set_heading(w, a, 1.25);
    cr_assert_float_eq(sw_world_space_heading(w, a), 1.25, 0);
    sw_world_free(w);
    w = mk(10, 10, SW_TOPO_BOUNDED);
    a = sw_world_spawn_at_point(w, &idle, NULL, 1, 1, 0);
    cr_assert_eq(sw_world_space_place(w, a, 10.0, 5), SW_E_INVALID);
    cr_assert_eq(sw_world_space_place(w, a, -0.1, 5), SW_E_INVALID);
    cr_assert_eq(sw_world_spawn_at_point(w, &idle, NULL, 11, 1, 0), SW_ID_NONE);
    cr_assert_eq(sw_world_space_unplace(w, a), SW_OK);
    cr_assert_eq(sw_world_space_count(w), 0);
    sw_world_free(w);
}

/* A bucket's storage past its agents holds sentinels that no query admits,
 * not even one of infinite radius (a NaN point): through growth (9 agents in
 * one bucket: capacity 4, 8, 16), leaving (the last entry blanked), deaths
 * and moves, a query of every agent counts exactly those in space, by the
 * lane scan (no kind, the direction pairs) and by the listing queries. */
Test(world_space, space_bucket_padding_is_never_found) {
    for (int topo = 0; topo < 2; topo++) {
        sw_world *w = sw_world_new(&(sw_world_desc){.width = 10, .height = 10, .space_cell = 2,
                                                    .topology = (sw_topology)topo});
        sw_id id[14];
        for (int i = 0; i < 14; i++) { /* nine in bucket (0, 0), the others spread */
            double x = i < 9 ? 0.1 + 0.2 * i : 1 + (i - 8) * 1.3, y = i < 9 ? 0.5 : 7;
            id[i] = sw_world_spawn_at_point(w, &mover, NULL, x, y, 0);
            cr_assert_neq(id[i], SW_ID_NONE);
            sw_world_space_set_direction(w, id[i], 1, 0);
        }
        uint32_t expect = 14;
        for (int round = 0; round < 4; round++) {
            sw_space_sums m;
            uint32_t n = sw_world_space_near_sums(w, 0.3, 0.5, INFINITY, 0, NULL, SW_ID_NONE,
                                                  SW_SPACE_DIR_PAIR, &m);
            cr_assert_eq(n, expect, "round %d: %u found of %u", round, n, expect);
            cr_assert(m.vx == expect && m.vy == 0, "pairs %g %g", m.vx, m.vy);
            sw_id got[16];
            cr_assert_eq(sw_world_space_near(w, 0.3, 0.5, INFINITY, got, 16), expect);
            cr_assert_eq(sw_world_space_count(w), expect);
            if (round == 0) cr_assert_eq(sw_world_space_unplace(w, id[8]), SW_OK); /* the last */
            if (round == 1) cr_assert_eq(sw_sched_kill(sw_world_sched(w), id[2]), SW_OK);
            if (round == 2) cr_assert_eq(sw_world_space_place(w, id[4], 9, 9), SW_OK); /* leaves */
            expect -= round < 2;
        }
        sw_world_free(w);
    }
}

/* sw_world_desc.space_read, in whole groups of four (at most 64), is what
 * every bucket's storage holds at least, from its first agent on and
 * through growth, so that a sums scan can read that many entries of any
 * bucket with storage (world_near.c: scan_length). */
Test(world_space, space_read_gives_every_bucket_storage_for_what_a_scan_reads) {
    const uint32_t asked[] = {0, 1, 5, 12, 64, 1000}, groups[] = {0, 4, 8, 12, 64, 64};
    for (size_t k = 0; k < sizeof asked / sizeof *asked; k++) {
        sw_world *w = sw_world_new(&(sw_world_desc){.width = 10, .height = 10, .space_cell = 2,
                                                    .space_read = asked[k]});
        cr_assert_eq(w->sread, groups[k], "%u asked: %u", asked[k], w->sread);
        for (int i = 0; i < 70; i++) /* one in bucket (4, 4), then 69 in bucket (0, 0) */
            cr_assert_neq(sw_world_spawn_at_point(w, &mover, NULL, i ? 0.01 * i : 9, 0.5, 0),
                          SW_ID_NONE);
        uint32_t stored = 0;
        for (uint32_t b = 0; b < w->bw * w->bh; b++) {
            const sw__sbucket *bk = &w->buckets[b];
            if (!bk->p) continue;
            stored++;
            cr_assert_geq(bk->cap, w->sread, "bucket %u: %u of %u", b, bk->cap, w->sread);
            cr_assert_geq(bk->cap, bk->n);
            cr_assert_eq(bk->cap % SW__LANES, 0);
        }
        cr_assert_eq(stored, 2);
        sw_world_free(w);
    }
}

/* ---- the running agent's move within its bucket ------------------------------------ */

/* Steps a little each tick with sw_space_move_to, mostly within its bucket
 * (move_within_bucket in world_space.c), now and then across into the
 * next, giving a new direction each time. */
static int stepper_ticks;
static sw_step stepper_run(sw_tasklet *t, void *frame) {
    (void)frame;
    SW_BEGIN(t, step);
    for (;;) {
        double x, y;
        cr_assert(sw_world_space_pos(sw_world_of(t), sw_self(t), &x, &y));
        int k = stepper_ticks++;
        double dx = cos(0.7 * k), dy = sin(0.7 * k);
        cr_assert_eq(sw_space_move_to(t, x + 0.3, y + 0.1 * dy, dx, dy), SW_OK);
        SW_SLEEP(t, step, 1);
    }
    SW_END(t);
}
static const sw_kind stepper = {.name = "stepper", .frame_size = 8, .run = stepper_run};

Test(world_space, space_self_moves_within_a_bucket_keep_its_place_point_and_direction) {
    for (int topo = 0; topo < 2; topo++) {
        sw_world *w = sw_world_new(&(sw_world_desc){.width = 40, .height = 10, .seed = 1,
                                                    .topology = (sw_topology)topo,
                                                    .space_cell = 5});
        sw_id before = sw_world_spawn_at_point(w, &mover, NULL, 0.5, 7.5, 0);
        sw_id s = sw_world_spawn_at_point(w, &stepper, NULL, 0.6, 7.5, 0);
        sw_id after = sw_world_spawn_at_point(w, &mover, NULL, 0.7, 7.5, 0);
        stepper_ticks = 0;
        for (int k = 0; k < 60; k++) {
            double x0, y0;
            cr_assert(sw_world_space_pos(w, s, &x0, &y0));
            cr_assert_eq(sw_world_step(w), SW_OK);
            double x, y, dx = cos(0.7 * k), dy = sin(0.7 * k);
            cr_assert(sw_world_space_pos(w, s, &x, &y));
            cr_assert(x == x0 + 0.3 && y == y0 + 0.1 * dy, "tick %d: moved to its point", k);
            cr_assert(sw_world_space_heading(w, s) == atan2(dy, dx), "tick %d: its heading", k);
            /* its pair in the bucket is its direction now: the sums over it
               alone (the others skipped by kind) are that pair */
            sw_space_sums m;
            cr_assert_eq(sw_world_space_near_sums(w, x, y, 0.01, 0, &stepper, SW_ID_NONE,
                                                  SW_SPACE_DIR_PAIR, &m), 1);
            cr_assert(m.vx == dx && m.vy == dy, "tick %d: its direction pair", k);
            if (x < 5) { /* still in the first bucket: between the two it came between */
                sw_id got[3], want[] = {before, s, after};
                cr_assert_eq(sw_world_space_near(w, 2.5, 7.5, 2.6, got, 3), 3);
                cr_assert_arr_eq(got, want, sizeof want, "tick %d: its place kept", k);
            }
        }
        sw_world_free(w);
    }
}

/* Moves each tick to (jump_x, jump_y) with sw_space_move_to, keeping the rc. */
static double jump_x, jump_y;
static int jump_rc;
static sw_step jumper_run(sw_tasklet *t, void *frame) {
    (void)frame;
    SW_BEGIN(t, step);
    for (;;) {
        jump_rc = sw_space_move_to(t, jump_x, jump_y, 0.6, 0.8);
        SW_SLEEP(t, step, 1);
    }
    SW_END(t);
}
static const sw_kind jumper = {.name = "jumper", .frame_size = 8, .run = jumper_run};

/* From the middle of its bucket (set by sw_world_space_place) the jumper
 * moves to (tx, ty): then its bucket must be the point's own, the point
 * within that bucket's edges; a point outside a bounded space is refused
 * and leaves it where it was. */
static void jump_from_middle(sw_world *w, sw_id id, uint32_t bx, uint32_t by, double tx, double ty) {
    const double *ex = w->bedge, *ey = w->bedge + w->bw + 1;
    const double mx = (ex[bx] + ex[bx + 1]) / 2, my = (ey[by] + ey[by + 1]) / 2;
    cr_assert_eq(sw_world_space_place(w, id, mx, my), SW_OK);
    jump_x = tx;
    jump_y = ty;
    jump_rc = -12345;
    cr_assert_eq(sw_world_step(w), SW_OK);
    const bool inside = tx >= 0 && ty >= 0 && tx < w->d.width && ty < w->d.height;
    double x, y, wx = tx, wy = ty;
    cr_assert(sw_world_space_pos(w, id, &x, &y));
    if (!inside && w->d.topology != SW_TOPO_TORUS) {
        cr_assert_eq(jump_rc, SW_E_INVALID, "(%a, %a) refused", tx, ty);
        wx = mx;
        wy = my;
    } else {
        cr_assert_eq(jump_rc, SW_OK, "(%a, %a) taken", tx, ty);
        if (wx >= w->d.width) wx -= w->d.width; /* the torus wraps the far edge to 0 */
        if (wy >= w->d.height) wy -= w->d.height;
    }
    cr_assert(x == wx && y == wy, "at (%a, %a), want (%a, %a)", x, y, wx, wy);
    uint32_t slot;
    cr_assert(sw__slot_of(w, id, &slot));
    const uint32_t b = w->sbucket[slot];
    cr_assert_eq(b, sw__world_bucket_of(w, x, y), "(%a, %a): its bucket", x, y);
    const uint32_t cy = b / w->bw, cx = b % w->bw;
    cr_assert(x >= ex[cx] && x < ex[cx + 1] && y >= ey[cy] && y < ey[cy + 1],
              "(%a, %a) within its bucket's edges", x, y);
}

Test(world_space, space_moves_onto_bucket_edges_and_the_extent_land_in_the_points_bucket) {
    /* an inexact bucket size (edges not multiples worked out exactly) and
       a narrower last bucket; moves onto the edges of the bucket the agent
       is in (its own low edges, the next bucket's, the extent) take or
       skip move_within_bucket's path: either way the bucket is the point's */
    for (int topo = 0; topo < 2; topo++) {
        sw_world *w = sw_world_new(&(sw_world_desc){.width = 10, .height = 7, .seed = 1,
                                                    .topology = (sw_topology)topo,
                                                    .space_cell = 0.7});
        cr_assert(w);
        const double *ex = w->bedge, *ey = w->bedge + w->bw + 1;
        sw_id id = sw_world_spawn_at_point(w, &jumper, NULL, 0.1, 0.1, 0);
        sw_world_space_set_direction(w, id, 1, 0); /* the direction arrays made */
        uint32_t empty_buckets = 0;
        for (uint32_t by = 0; by < w->bh; by++) {
            for (uint32_t bx = 0; bx < w->bw; bx++) {
                if (ex[bx] == ex[bx + 1] || ey[by] == ey[by + 1]) {
                    empty_buckets++; /* a last bucket rounding leaves with no points */
                    continue;
                }
                const double mx = (ex[bx] + ex[bx + 1]) / 2, my = (ey[by] + ey[by + 1]) / 2;
                jump_from_middle(w, id, bx, by, ex[bx + 1], my); /* the next column's edge */
                jump_from_middle(w, id, bx, by, ex[bx], my);     /* its own */
                jump_from_middle(w, id, bx, by, mx, ey[by + 1]);
                jump_from_middle(w, id, bx, by, mx, ey[by]);
                jump_from_middle(w, id, bx, by, ex[bx + 1], ey[by + 1]);
                jump_from_middle(w, id, bx, by, nextafter(ex[bx + 1], 0), my);
                jump_from_middle(w, id, bx, by, mx, nextafter(ey[by + 1], 0));
            }
        }
        cr_assert(ex[w->bw] == 10 && ey[w->bh] == 7, "the last edges are W and H");
        cr_assert_lt(empty_buckets, w->bw + w->bh, "at most a last row and column skipped");
        sw_world_free(w);
    }
}

/* ---- a point's bucket ------------------------------------------------------------------ */

/* floor(v / bs) as the quotient gives it, clamped to the last bucket: the
 * definition sw__world_bucket_of keeps (it multiplies where it may). */
static uint32_t quotient_bucket(double v, double bs, uint32_t nb) {
    uint32_t b = (uint32_t)(v / bs);
    return b >= nb ? nb - 1 : b;
}

Test(world_space, space_a_points_bucket_is_the_quotients_floor_at_every_edge) {
    /* bucket sizes whose inverse is inexact, some with a narrower last bucket */
    const double sizes[] = {0.1, 0.3, 1.0 / 3, 0.7, 2.5, 25, 150.0 / 7, 100.0 / 6, 0.03, 7.77};
    uint32_t product_differs = 0; /* edge points where v * (1 / bs) alone floors otherwise */
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        const double bs = sizes[k], inv = 1.0 / bs;
        sw_world *w = sw_world_new(&(sw_world_desc){.width = 150, .height = 40, .space_cell = bs});
        cr_assert(w && w->bsize == bs, "bucket size %g kept", bs);
        const uint32_t nbx = w->bw, nby = w->bh;
        for (uint32_t e = 0; e <= nbx; e++) {
            double v = e * bs; /* each edge and the doubles about it */
            for (int u = 0; u < 8; u++) v = nextafter(v, 0);
            for (int u = 0; u < 17; u++, v = nextafter(v, INFINITY)) {
                if (!(v >= 0 && v < 150)) continue;
                double y = fmod(v, 40);
                uint32_t want = quotient_bucket(y, bs, nby) * nbx + quotient_bucket(v, bs, nbx);
                cr_assert_eq(sw__world_bucket_of(w, v, y), want, "bs %g x %a y %a", bs, v, y);
                uint32_t bx = want % nbx; /* the column's edges say the same */
                cr_assert(v >= w->bedge[bx] && v < w->bedge[bx + 1], "bs %g x %a edges", bs, v);
                product_differs += (uint32_t)(v * inv) != (uint32_t)(v / bs);
            }
        }
        const double *rows = w->bedge + nbx + 1;
        for (uint32_t e = 0; e <= nby; e++) { /* the same about each row edge */
            double v = e * bs;
            for (int u = 0; u < 8; u++) v = nextafter(v, 0);
            for (int u = 0; u < 17; u++, v = nextafter(v, INFINITY)) {
                if (!(v >= 0 && v < 40)) continue;
                double x = fmod(v * 3.7, 150);
                uint32_t want = quotient_bucket(v, bs, nby) * nbx + quotient_bucket(x, bs, nbx);
                cr_assert_eq(sw__world_bucket_of(w, x, v), want, "bs %g x %a y %a", bs, x, v);
                uint32_t by = want / nbx; /* the row's edges say the same */
                cr_assert(v >= rows[by] && v < rows[by + 1], "bs %g y %a edges", bs, v);
                product_differs += (uint32_t)(v * inv) != (uint32_t)(v / bs);
            }
        }
        /* no edge past the extent, the last the extent itself: a point
           within a column's edges is inside the space (what a move's "still
           in its bucket" also tells by them) */
        const double *ey = w->bedge + nbx + 1;
        cr_assert(w->bedge[0] == 0 && ey[0] == 0 && w->bedge[nbx] == 150 && ey[nby] == 40,
                  "bs %g: the first and last edges", bs);
        for (uint32_t e = 1; e <= nbx; e++) cr_assert_leq(w->bedge[e - 1], w->bedge[e]);
        for (uint32_t e = 1; e <= nby; e++) cr_assert_leq(ey[e - 1], ey[e]);
        for (int i = 0; i < 20000; i++) { /* and anywhere */
            double x = 150.0 * rand() / ((double)RAND_MAX + 1), y = 40.0 * rand() / ((double)RAND_MAX + 1);
            uint32_t want = quotient_bucket(y, bs, nby) * nbx + quotient_bucket(x, bs, nbx);
            cr_assert_eq(sw__world_bucket_of(w, x, y), want, "bs %g x %a y %a", bs, x, y);
        }
        sw_world_free(w);
    }
    cr_assert_gt(product_differs, 0, "the edges tried include points the product alone misplaces");
}

/* ---- bucket storage by groups of four ---------------------------------------------------- */

Test(world_space, space_bucket_groups_keep_points_and_pairs_through_growth_and_leaving) {
    /* one bucket grown from 4 to 64 entries, every third agent leaving: each
       agent's point and direction pair must stay with it (the pairs are
       whole numbers, so their sums are exact in any order) */
    sw_world *w = sw_world_new(&(sw_world_desc){.width = 10, .height = 10, .space_cell = 10});
    sw_id id[50];
    for (int i = 0; i < 50; i++) {
        id[i] = sw_world_spawn_at_point(w, &mover, NULL, 0.1 * i, 9.9 - 0.1 * i, 0);
        sw_world_space_set_direction(w, id[i], i, -2.0 * i);
    }
    double want_vx = 0, want_vy = 0, want_x = 0, want_y = 0;
    uint32_t want_n = 0;
    for (int i = 0; i < 50; i++) {
        if (i % 3 == 0) {
            cr_assert_eq(sw_world_space_unplace(w, id[i]), SW_OK);
            continue;
        }
        double x, y;
        cr_assert(sw_world_space_pos(w, id[i], &x, &y));
        cr_assert(x == 0.1 * i && y == 9.9 - 0.1 * i, "agent %d at (%g, %g)", i, x, y);
        want_n++;
        want_vx += i;
        want_vy += -2.0 * i;
        want_x += x;
        want_y += y;
    }
    sw_space_sums m;
    cr_assert_eq(sw_world_space_near_sums(w, 0, 0, 100, 0, NULL, SW_ID_NONE, SW_SPACE_DIR_PAIR, &m),
                 want_n);
    cr_assert(m.vx == want_vx && m.vy == want_vy, "pairs (%g, %g)", m.vx, m.vy);
    cr_assert(fabs(m.dx - want_x) < 1e-9 && fabs(m.dy - want_y) < 1e-9, "points (%g, %g)", m.dx, m.dy);
    sw_id got[64];
    cr_assert_eq(sw_world_space_near(w, 5, 5, 100, got, 64), want_n);
    for (uint32_t i = 0, j = 0; i < 50; i++) /* arrival order kept */
        if (i % 3) cr_assert_eq(got[j++], id[i]);
    sw_world_free(w);
}
