/* test_world_near.c - near-queries over the continuous space: ids, hits and
 * sums against brute force, bucket edges, and the running agent's own calls. */
#include <criterion/criterion.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swarmlet.h"

#include "test_world.h"

/* ---- continuous space against brute force --------------------------------------------- */

static double urand(uint64_t *r) {
    *r = *r * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*r >> 11) * 0x1.0p-53;
}

static int cmp_id(const void *a, const void *b) {
    sw_id x = *(const sw_id *)a, y = *(const sw_id *)b;
    return x < y ? -1 : x > y;
}

Test(world_near, space_near_matches_brute_force_with_periodic_minimum_image) {
    static const double cells[] = {0.3, 1.0, 2.5, 3.0, 7.0, 50.0};
    static const double radii[] = {0.0, 0.5, 1.0, 2.9, 4.5, 10.0, 100.0};
    static const uint32_t dims[][2] = {{10, 10}, {10, 7}, {13, 5}, {1, 9}};
    uint64_t r = 99;
    for (int topo = 0; topo < 2; topo++)
        for (size_t di = 0; di < 4; di++)
            for (size_t ci = 0; ci < 6; ci++) {
                uint32_t W = dims[di][0], H = dims[di][1];
                sw_world *w = sw_world_new(&(sw_world_desc){.width = W, .height = H,
                                                            .topology = (sw_topology)topo,
                                                            .space_cell = cells[ci]});
                sw_sched *s = sw_world_sched(w);
                enum { N = 150 };
                sw_id ids[N];
                double px[N], py[N];
                for (int i = 0; i < N; i++) {
                    px[i] = urand(&r) * W;
                    py[i] = urand(&r) * H;
                    if (i % 10 == 0) px[i] = 0;              /* on the seam */
                    if (i % 15 == 0) py[i] = H - 1e-9;
                    ids[i] = sw_world_spawn_at_point(w, &idle, NULL, px[i], py[i], 0);
                    cr_assert_neq(ids[i], SW_ID_NONE);
                }
                /* move some, to exercise relinking */
                for (int i = 0; i < N; i += 3) {
                    px[i] = urand(&r) * W;
                    py[i] = urand(&r) * H;
                    cr_assert_eq(sw_world_space_place(w, ids[i], px[i], py[i]), SW_OK);
                }
                cr_assert_eq(sw_world_space_count(w), N);
                for (int q = 0; q < 40; q++) {
                    double qx = q < 4 ? (q & 1) * (W - 1e-9) : urand(&r) * W;
                    double qy = q < 4 ? (q >> 1) * (H - 1e-9) : urand(&r) * H;
                    for (size_t ri = 0; ri < 7; ri++) {
                        double rad = radii[ri];
                        sw_id got[N], want[N];
                        uint32_t n = sw_world_space_near(w, qx, qy, rad, got, N);
                        uint32_t m = 0;
                        for (int i = 0; i < N; i++) {
                            double dx = px[i] - qx, dy = py[i] - qy;
                            if (topo) {
                                dx -= W * round(dx / W);
                                dy -= H * round(dy / H);
                            }
                            if (dx * dx + dy * dy <= rad * rad) want[m++] = ids[i];
                        }
                        cr_assert_eq(n, m, "%s %ux%u bucket %g r=%g at (%g,%g): %u found, %u within",
                                     topo ? "torus" : "bounded", W, H, cells[ci], rad, qx, qy, n, m);
                        qsort(got, n, sizeof *got, cmp_id);
                        qsort(want, m, sizeof *want, cmp_id);
                        cr_assert_arr_eq(got, want, m * sizeof *got);
                    }
                }
                (void)s;
                sw_world_free(w);
            }
}

/* ---- near-queries: hits, sums and bucket order ---------------------------------------- */
static const sw_kind mover2 = {.name = "mover2", .frame_size = sizeof(mover_f),
                               .fields = mover_fields, .run = idle_run};

/* The sums near_sums gives, made the slow way: a loop over near_hits. */
static sw_space_sums sums_by_hits(sw_world *w, double x, double y, double r, double r_in,
                                  const sw_kind *kind, sw_id skip) {
    static sw_space_hit hits[512];
    uint32_t n = sw_world_space_near_hits(w, x, y, r, kind, hits, 512);
    cr_assert_leq(n, 512);
    sw_space_sums m = {0};
    for (uint32_t i = 0; i < n; i++) {
        if (hits[i].id == skip) continue;
        const mover_f *f = hits[i].frame;
        m.n++;
        m.dx += hits[i].dx;
        m.dy += hits[i].dy;
        if (hits[i].dx * hits[i].dx + hits[i].dy * hits[i].dy < r_in * r_in) {
            m.n_in++;
            m.dx_in += hits[i].dx;
            m.dy_in += hits[i].dy;
        }
        m.vx += f->vx;
        m.vy += f->vy;
    }
    return m;
}

/* Bit for bit: the same additions in the same order (two queries that take
 * the same path, or the branching fold and a loop over near_hits). */
static void assert_same_sums(sw_space_sums a, sw_space_sums b, const char *what) {
    cr_assert_eq(a.n, b.n, "%s: %u found, %u by hits", what, a.n, b.n);
    cr_assert_eq(a.n_in, b.n_in, "%s: %u inside, %u by hits", what, a.n_in, b.n_in);
    cr_assert(a.dx == b.dx && a.dy == b.dy, "%s: offsets %.17g,%.17g vs %.17g,%.17g", what,
              a.dx, a.dy, b.dx, b.dy);
    cr_assert(a.dx_in == b.dx_in && a.dy_in == b.dy_in, "%s: inner offsets differ", what);
    cr_assert(a.vx == b.vx && a.vy == b.vy, "%s: pairs %.17g,%.17g vs %.17g,%.17g", what, a.vx,
              a.vy, b.vx, b.vy);
}

/* The same agents, and sums equal within 1e-12 of the sum of the terms'
 * magnitudes (`scale`, at least 1): the lane scan adds four agents at a time
 * in lanes, so in another order than a plain loop, which rounds otherwise,
 * by far less than this; a neighbour missed, counted twice or the skipped
 * agent leaking in changes a count or a sum by far more. */
static void assert_near_sums(sw_space_sums a, sw_space_sums b, double scale, const char *what) {
    cr_assert_eq(a.n, b.n, "%s: %u found, %u wanted", what, a.n, b.n);
    cr_assert_eq(a.n_in, b.n_in, "%s: %u inside, %u wanted", what, a.n_in, b.n_in);
    double tol = 1e-12 * (scale > 1 ? scale : 1);
    const double got[6] = {a.dx, a.dy, a.dx_in, a.dy_in, a.vx, a.vy};
    const double want[6] = {b.dx, b.dy, b.dx_in, b.dy_in, b.vx, b.vy};
    static const char *names[6] = {"dx", "dy", "dx_in", "dy_in", "vx", "vy"};
    for (int i = 0; i < 6; i++)
        cr_assert(fabs(got[i] - want[i]) <= tol, "%s: %s %.17g vs %.17g (tolerance %g)", what,
                  names[i], got[i], want[i], tol);
}

/* The sums made by brute force over every agent of `ids` (O(n) per query):
 * those alive, in space and of `kind` (NULL: any), but `skip`, within r of
 * (x, y) by sw_world_space_delta (the minimum image on a torus), their
 * pairs from their frames (mover_f). *scale: the sum of the terms'
 * magnitudes, for assert_near_sums. */
static sw_space_sums sums_by_brute_force(sw_world *w, const sw_id *ids, int n, double x, double y,
                                         double r, double r_in, const sw_kind *kind, sw_id skip,
                                         double *scale) {
    sw_sched *s = sw_world_sched(w);
    sw_space_sums m = {0};
    *scale = 0;
    for (int i = 0; i < n; i++) {
        double px, py, dx, dy;
        if (ids[i] == skip || !sw_sched_alive(s, ids[i]) || !sw_world_space_pos(w, ids[i], &px, &py))
            continue;
        if (kind && sw_sched_kind_of(s, ids[i]) != kind) continue;
        sw_world_space_delta(w, x, y, px, py, &dx, &dy);
        if (dx * dx + dy * dy > r * r) continue;
        const mover_f *f = sw_sched_frame(s, ids[i]);
        m.n++;
        m.dx += dx;
        m.dy += dy;
        if (dx * dx + dy * dy < r_in * r_in) {
            m.n_in++;
            m.dx_in += dx;
            m.dy_in += dy;
        }
        m.vx += f->vx;
        m.vy += f->vy;
        *scale += fabs(dx) + fabs(dy) + fabs(f->vx) + fabs(f->vy);
    }
    return m;
}

Test(world_near, space_near_sums_are_those_of_a_loop_over_near_hits) {
    static const double cells[] = {0.7, 2.0, 5.0, 30.0};
    uint64_t r = 5;
    for (int topo = 0; topo < 2; topo++)
        for (int mixed = 0; mixed < 2; mixed++) /* a second kind: the filtered fold */
            for (size_t ci = 0; ci < 4; ci++) {
                const uint32_t W = 20, H = 13;
                sw_world *w = sw_world_new(&(sw_world_desc){.width = W, .height = H,
                                                            .topology = (sw_topology)topo,
                                                            .space_cell = cells[ci]});
                enum { N = 300 };
                sw_id ids[N];
                for (int i = 0; i < N; i++) {
                    mover_f p = {2 * urand(&r) - 1, 2 * urand(&r) - 1};
                    const sw_kind *k = mixed && i % 3 == 0 ? &mover2 : &mover;
                    ids[i] = sw_world_spawn_at_point(w, k, &p, urand(&r) * W, urand(&r) * H, 0);
                    cr_assert_neq(ids[i], SW_ID_NONE);
                    sw_world_space_set_direction(w, ids[i], p.vx, p.vy); /* pairs = frames */
                }
                for (int i = 0; i < N; i += 4) /* moves and a death: buckets change */
                    cr_assert_eq(sw_world_space_place(w, ids[i], urand(&r) * W, urand(&r) * H), SW_OK);
                cr_assert_eq(sw_sched_kill(sw_world_sched(w), ids[7]), SW_OK);
                for (int q = 0; q < 60; q++) {
                    double rad = q % 5 == 0 ? 9.0 : 0.5 + 4 * urand(&r), rin = q % 7 == 0 ? 0 : 1.0;
                    sw_id skip = q % 4 == 3 ? SW_ID_NONE : ids[8 + q];
                    double x, y;
                    if (q % 4 == 0) { /* the usual query: an agent's neighbours, at its point */
                        cr_assert(sw_world_space_pos(w, skip, &x, &y));
                    } else { /* elsewhere, the skipped agent too */
                        x = urand(&r) * W;
                        y = urand(&r) * H;
                    }
                    sw_space_sums got;
                    uint32_t n = sw_world_space_near_sums(w, x, y, rad, rin, &mover, skip,
                                                          offsetof(mover_f, vx), &got);
                    cr_assert_eq(n, got.n);
                    char what[160];
                    snprintf(what, sizeof what, "%s%s bucket %g r=%g at (%g,%g)",
                             topo ? "torus" : "bounded", mixed ? " mixed" : "", cells[ci], rad, x, y);
                    assert_same_sums(got, sums_by_hits(w, x, y, rad, rin, &mover, skip), what);
                    /* the lane scan (no kind filter, the direction pairs) and the
                       filtered fold of the directions, against brute force */
                    double scale;
                    sw_space_sums want = sums_by_brute_force(w, ids, N, x, y, rad, rin, NULL, skip,
                                                             &scale);
                    sw_world_space_near_sums(w, x, y, rad, rin, NULL, skip, SW_SPACE_DIR_PAIR, &got);
                    assert_near_sums(got, want, scale, what);
                    want = sums_by_brute_force(w, ids, N, x, y, rad, rin, &mover, skip, &scale);
                    sw_world_space_near_sums(w, x, y, rad, rin, &mover, skip, SW_SPACE_DIR_PAIR, &got);
                    assert_near_sums(got, want, scale, what);
                    if (q == 0) { /* and some are found at all (got.n read before the call rewrites got) */
                        uint32_t movers = got.n;
                        uint32_t near9 = sw_world_space_near_sums(w, x, y, 9, 1, NULL, SW_ID_NONE,
                                                                  SW_SPACE_NO_PAIR, &got);
                        cr_assert_gt(movers + near9, 0);
                    }
                }
                sw_world_free(w);
            }
}

Test(world_near, space_near_sums_without_a_pair_or_an_inner_radius) {
    sw_world *w = sw_world_new(&(sw_world_desc){.width = 10, .height = 10, .space_cell = 2});
    mover_f p = {1, 2};
    sw_id a = sw_world_spawn_at_point(w, &mover, &p, 5, 5, 0);
    sw_world_spawn_at_point(w, &mover, &p, 5.5, 5, 0);
    sw_world_spawn_at_point(w, &mover, &p, 7, 5, 0);
    sw_space_sums m;
    cr_assert_eq(sw_world_space_near_sums(w, 5, 5, 2, 1, NULL, a, SW_SPACE_NO_PAIR, &m), 2);
    cr_assert_eq(m.n_in, 1);
    cr_assert_float_eq(m.dx, 2.5, 0);
    cr_assert_float_eq(m.dx_in, 0.5, 0);
    cr_assert(m.vx == 0 && m.vy == 0, "no pair asked for, none added");
    cr_assert_eq(sw_world_space_near_sums(w, 5, 5, 2, -1, &mover, SW_ID_NONE,
                                          offsetof(mover_f, vx), &m), 3);
    cr_assert_eq(m.n_in, 0, "a negative inner radius has nothing inside");
    cr_assert(m.vx == 3 && m.vy == 6);
    cr_assert_eq(sw_world_space_near_sums(w, 5, 5, NAN, 1, NULL, SW_ID_NONE, SW_SPACE_NO_PAIR, &m), 0);
    cr_assert_eq(sw_world_space_near_sums(w, 5, 5, 2, 1, &idle, SW_ID_NONE, SW_SPACE_NO_PAIR, &m), 0,
                 "a kind with no agents");
    sw_world_free(w);
}

/* An inner radius wider than the radius: only the agents within r count,
 * and those of them within r_in (all of them) are inside; an agent between
 * r and r_in is in neither. The lane scan takes "within r_in" as within r
 * too, so such a query must not reach it, with or without the skipped
 * agent, on both topologies. */
Test(world_near, space_near_sums_with_an_inner_radius_wider_than_the_radius) {
    for (int topo = 0; topo < 2; topo++) {
        sw_world *w = sw_world_new(&(sw_world_desc){.width = 10, .height = 10, .space_cell = 2,
                                                    .topology = (sw_topology)topo});
        mover_f p = {1, 2};
        sw_id a = sw_world_spawn_at_point(w, &mover, &p, 5, 5, 0);
        sw_id b = sw_world_spawn_at_point(w, &mover, &p, 5.5, 5, 0); /* within r */
        sw_id c = sw_world_spawn_at_point(w, &mover, &p, 5, 6.5, 0); /* between r and r_in */
        sw_world_spawn_at_point(w, &mover, &p, 8, 5, 0);             /* beyond both */
        sw_world_space_set_direction(w, b, 0.6, 0.8);
        sw_world_space_set_direction(w, c, 1, 0);
        sw_space_sums m;
        cr_assert_eq(sw_world_space_near_sums(w, 5, 5, 1, 2, NULL, a, SW_SPACE_DIR_PAIR, &m), 1);
        cr_assert_eq(m.n_in, 1, "the agent between r and r_in is not inside: %u", m.n_in);
        cr_assert(m.dx == 0.5 && m.dy == 0 && m.dx_in == 0.5 && m.dy_in == 0);
        cr_assert(m.vx == 0.6 && m.vy == 0.8);
        cr_assert_eq(sw_world_space_near_sums(w, 5, 5, 1, 2, NULL, SW_ID_NONE, SW_SPACE_NO_PAIR, &m),
                     2);
        cr_assert_eq(m.n_in, 2);
        cr_assert(m.dx == 0.5 && m.dy == 0 && m.dx_in == 0.5 && m.dy_in == 0);
        sw_world_free(w);
    }
}

/* Points on bucket edges (multiples of a bucket size that binary floating
 * point cannot hold exactly) and queries whose interval ends on an edge:
 * the buckets a query reads are worked out by multiplying by the inverse
 * size, which can round across an edge the other way from the division
 * that placed a point; every point within r must still be found. */
Test(world_near, space_near_finds_points_on_bucket_edges) {
    static const double cells[] = {0.3, 0.7, 1.1, 2.9};
    for (int topo = 0; topo < 2; topo++)
        for (size_t ci = 0; ci < 4; ci++) {
            const uint32_t W = 11, H = 7;
            double c = cells[ci];
            sw_world *w = sw_world_new(&(sw_world_desc){.width = W, .height = H,
                                                        .topology = (sw_topology)topo,
                                                        .space_cell = c});
            enum { N = 400 };
            sw_id ids[N];
            double px[N], py[N];
            int n = 0;
            for (int i = 0; n < N && i * c < W; i++)
                for (int j = 0; n < N && j * c < H; j += 3) {
                    px[n] = i * c;
                    py[n] = j * c;
                    ids[n] = sw_world_spawn_at_point(w, &idle, NULL, px[n], py[n], 0);
                    cr_assert_neq(ids[n], SW_ID_NONE);
                    n++;
                }
            for (int q = 0; q < 60; q++) {
                double qx = (q % 13) * c, qy = (q % 5) * c * 3;
                double rad = (q % 4 + 1) * c; /* the interval ends on an edge */
                if (qx >= W || qy >= H) continue;
                sw_id got[N];
                uint32_t m = 0, found = sw_world_space_near(w, qx, qy, rad, got, N);
                for (int i = 0; i < n; i++) {
                    double dx = px[i] - qx, dy = py[i] - qy;
                    if (topo) {
                        if (dx > W / 2.0) dx -= W; else if (dx < -(W / 2.0)) dx += W;
                        if (dy > H / 2.0) dy -= H; else if (dy < -(H / 2.0)) dy += H;
                    }
                    m += dx * dx + dy * dy <= rad * rad;
                }
                cr_assert_eq(found, m, "%s bucket %g r=%g at (%g,%g): %u found, %u within",
                             topo ? "torus" : "bounded", c, rad, qx, qy, found, m);
            }
            sw_world_free(w);
        }
}

/* A world whose sums scans read every bucket to sw_world_desc.space_read
 * entries (padding included) gives the sums of one that reads each
 * bucket's agents only, bit for bit: the same agents at the same points,
 * queries about them and across the empty half of the space, whose buckets
 * have no storage (which the padding must not read), both topologies. */
Test(world_near, space_read_pads_the_scan_with_the_same_sums) {
    const uint32_t reads[] = {4, 12, 64};
    for (int topo = 0; topo < 2; topo++)
        for (size_t k = 0; k < sizeof reads / sizeof *reads; k++) {
            sw_world *w[2];
            sw_id ids[2][90];
            uint64_t r = 5;
            for (int v = 0; v < 2; v++)
                w[v] = sw_world_new(&(sw_world_desc){.width = 60, .height = 45,
                                                     .topology = (sw_topology)topo, .space_cell = 6,
                                                     .space_read = v ? reads[k] : 0});
            for (int i = 0; i < 90; i++) { /* the left third only */
                double x = urand(&r) * 20, y = urand(&r) * 45, dx = urand(&r), dy = urand(&r);
                for (int v = 0; v < 2; v++) {
                    ids[v][i] = sw_world_spawn_at_point(w[v], &idle, NULL, x, y, 0);
                    sw_world_space_set_direction(w[v], ids[v][i], dx, dy);
                }
            }
            for (int q = 0; q < 200; q++) {
                int i = q % 90;
                double x, y, rad = 1 + 7 * urand(&r), rin = rad * urand(&r);
                cr_assert(sw_world_space_pos(w[0], ids[0][i], &x, &y));
                if (q >= 90) { /* anywhere, the empty buckets too */
                    x = urand(&r) * 60;
                    y = urand(&r) * 45;
                }
                for (int dir = 0; dir < 2; dir++) {
                    size_t pair = dir ? SW_SPACE_DIR_PAIR : SW_SPACE_NO_PAIR;
                    sw_space_sums a, b;
                    sw_world_space_near_sums(w[0], x, y, rad, rin, NULL, ids[0][i], pair, &a);
                    sw_world_space_near_sums(w[1], x, y, rad, rin, NULL, ids[1][i], pair, &b);
                    assert_same_sums(b, a, "read to space_read");
                }
            }
            sw_world_free(w[0]);
            sw_world_free(w[1]);
        }
}

/* ---- the running agent's own space calls ---------------------------------------- */

static int flier_checks; /* how many self-queries were compared */

/* Each tick: compares its own query (sw_space_near_sums) with the world's
 * for its kind, skipping itself, at its point (or, one tick in three,
 * elsewhere); then flies to a random point (some off a bounded space) with
 * sw_space_move_to. */
static sw_step flier_run(sw_tasklet *t, void *frame) {
    mover_f *f = frame;
    SW_BEGIN(t, fly);
    for (;;) {
        sw_world *w = sw_world_of(t);
        double x, y, r = 0.5 + 4 * sw_rand_unit(t);
        cr_assert(sw_world_space_pos(w, sw_self(t), &x, &y));
        double qx = x, qy = y;
        if (flier_checks % 3 == 2) {
            qx = sw_rand_unit(t) * sw_world_width(w);
            qy = sw_rand_unit(t) * sw_world_height(w);
        }
        const sw_kind *kind = sw_sched_kind_of(sw_world_sched(w), sw_self(t));
        sw_space_sums own, want;
        uint32_t n = sw_space_near_sums(t, qx, qy, r, 1.0, offsetof(mover_f, vx), &own);
        sw_world_space_near_sums(w, qx, qy, r, 1.0, kind, sw_self(t), offsetof(mover_f, vx), &want);
        cr_assert_eq(n, own.n);
        assert_same_sums(own, want, "self query");
        /* each flier's direction is its frame's pair (kept so below): the
           pairs beside the points give the same sums as the frames' (within
           rounding: the lane scan adds in another order), and the self and
           world queries the same, bit for bit */
        sw_space_sums own_dir, want_dir;
        sw_space_near_sums(t, qx, qy, r, 1.0, SW_SPACE_DIR_PAIR, &own_dir);
        sw_world_space_near_sums(w, qx, qy, r, 1.0, kind, sw_self(t), SW_SPACE_DIR_PAIR, &want_dir);
        double scale = 4.0 * own.n * (r + 1); /* |offset| <= r, |pair| <= 1 per lane */
        assert_near_sums(own_dir, own, scale, "self query, directions beside the points");
        assert_near_sums(want_dir, own, scale, "world query, directions beside the points");
        assert_same_sums(own_dir, want_dir, "self and world query, directions");
        flier_checks++;
        double W = sw_world_width(w), H = sw_world_height(w);
        double nx = (1.2 * sw_rand_unit(t) - 0.1) * W, ny = (1.2 * sw_rand_unit(t) - 0.1) * H;
        double hx = 2 * sw_rand_unit(t) - 1, hy = 2 * sw_rand_unit(t) - 1;
        double h0 = sw_world_space_heading(w, sw_self(t));
        int rc = sw_space_move_to(t, nx, ny, hx, hy);
        bool torus = sw_world_desc_of(w)->topology == SW_TOPO_TORUS;
        bool inside = nx >= 0 && ny >= 0 && nx < W && ny < H;
        double px, py;
        cr_assert(sw_world_space_pos(w, sw_self(t), &px, &py));
        if (torus || inside) {
            cr_assert_eq(rc, SW_OK);
            cr_assert(px >= 0 && px < W && py >= 0 && py < H);
            if (inside) cr_assert(px == nx && py == ny);
            cr_assert(sw_world_space_heading(w, sw_self(t)) == atan2(hy, hx));
        } else {
            cr_assert_eq(rc, SW_E_INVALID, "off a bounded space: not moved");
            cr_assert(px == x && py == y);
            cr_assert(sw_world_space_heading(w, sw_self(t)) == h0, "nor turned");
        }
        if (rc == SW_OK) { /* what the others add up next: its direction now */
            f->vx = hx;
            f->vy = hy;
        }
        SW_SLEEP(t, fly, 1);
    }
    SW_END(t);
}
static const sw_kind flier = {.name = "flier", .frame_size = sizeof(mover_f),
                              .fields = mover_fields, .run = flier_run};

/* Two sizes: one where most queries reach near half the space (the
 * minimum image per point), and a wider one where an agent's own query at
 * its point takes the lean path (world_near.c: self_sums_lean), with no
 * seam in reach or, near the edges (about a third of them), across it. */
Test(world_near, space_self_queries_and_moves_match_the_world_calls) {
    uint64_t r = 11;
    const struct { uint32_t w, h; double cell; } sizes[] = {{17, 12, 2.5}, {60, 45, 3}};
    for (int z = 0; z < 2; z++) {
        for (int topo = 0; topo < 2; topo++)
            for (int mixed = 0; mixed < 2; mixed++) { /* other kinds about: the filtered fold */
                uint32_t W = sizes[z].w, H = sizes[z].h;
                sw_world *w = sw_world_new(&(sw_world_desc){.width = W, .height = H, .seed = 3,
                                                            .topology = (sw_topology)topo,
                                                            .space_cell = sizes[z].cell});
                for (int i = 0; i < 120; i++) {
                    mover_f p = {2 * urand(&r) - 1, 2 * urand(&r) - 1};
                    const sw_kind *k = mixed && i % 3 == 0 ? &mover : &flier;
                    sw_id id = sw_world_spawn_at_point(w, k, &p, urand(&r) * W, urand(&r) * H, 0);
                    cr_assert_neq(id, SW_ID_NONE);
                    sw_world_space_set_direction(w, id, p.vx, p.vy); /* its pair from the start */
                }
                flier_checks = 0;
                for (int step = 0; step < 5; step++) cr_assert_eq(sw_world_step(w), SW_OK);
                cr_assert_eq(flier_checks, 5 * (mixed ? 80 : 120));
                sw_world_free(w);
            }
    }
}

/* The radii an asker's own query takes in turn: the same radii again
 * (the kept checks of world_near.c's lean_radii read back), the same r with
 * another r_in (which must not read r_in's kept square), an r_in wider
 * than r, a radius needing the minimum image per point and a NaN radius
 * (the general path: checks that fail keep nothing), then the first again. */
static const double asker_radii[][2] = {{3, 1},   {3, 1},   {3, 1.5}, {3, 1.5}, {2.5, 1.5},
                                        {3, 1},   {3, 4},   {3, 1},   {40, 1},  {3, 1},
                                        {NAN, 1}, {3, NAN}, {3, 0},   {3, -1},  {3, 1}};
static int asker_checks; /* how many self-queries were compared */

static sw_step asker_run(sw_tasklet *t, void *frame) {
    (void)frame;
    SW_BEGIN(t, ask);
    for (;;) {
        sw_world *w = sw_world_of(t);
        double x, y;
        cr_assert(sw_world_space_pos(w, sw_self(t), &x, &y));
        const sw_kind *kind = sw_sched_kind_of(sw_world_sched(w), sw_self(t));
        for (size_t i = 0; i < sizeof asker_radii / sizeof asker_radii[0]; i++) {
            double r = asker_radii[i][0], r_in = asker_radii[i][1];
            sw_space_sums own, want;
            uint32_t n = sw_space_near_sums(t, x, y, r, r_in, SW_SPACE_DIR_PAIR, &own);
            sw_world_space_near_sums(w, x, y, r, r_in, kind, sw_self(t), SW_SPACE_DIR_PAIR, &want);
            cr_assert_eq(n, own.n);
            assert_same_sums(own, want, "self query, radii in turn");
            asker_checks++;
        }
        /* a step, so that the queries read points that moved */
        double W = sw_world_width(w), H = sw_world_height(w);
        cr_assert_eq(sw_space_move_to(t, fmod(x + 0.7 * W / 3, W), fmod(y + 1.3, H), 1, 0.5),
                     SW_OK);
        SW_SLEEP(t, ask, 1);
    }
    SW_END(t);
}
static const sw_kind asker = {.name = "asker", .frame_size = sizeof(mover_f),
                              .fields = mover_fields, .run = asker_run};

/* A flock asks with the same radii at every step, and the lean path keeps
 * the checks that depend on them alone (per world): a query with other
 * radii, then the first again, in one world and then in another of another
 * size, gives the world query's sums bit for bit each time. It fails if the
 * kept checks are read for radii other than those that passed (a changed
 * r_in, tried), or are kept from a world or radius that failed them. */
Test(world_near, space_self_queries_keep_their_radius_checks_per_radius) {
    uint64_t r = 5;
    const struct { uint32_t w, h; double cell; } sizes[] = {{60, 45, 3}, {40, 40, 4}};
    for (int z = 0; z < 2; z++) {
        uint32_t W = sizes[z].w, H = sizes[z].h;
        sw_world *w = sw_world_new(&(sw_world_desc){.width = W, .height = H, .seed = 9,
                                                    .topology = SW_TOPO_TORUS,
                                                    .space_cell = sizes[z].cell});
        for (int i = 0; i < 150; i++) {
            mover_f p = {2 * urand(&r) - 1, 2 * urand(&r) - 1};
            sw_id id = sw_world_spawn_at_point(w, &asker, &p, urand(&r) * W, urand(&r) * H, 0);
            cr_assert_neq(id, SW_ID_NONE);
            sw_world_space_set_direction(w, id, p.vx, p.vy);
        }
        asker_checks = 0;
        for (int step = 0; step < 3; step++) cr_assert_eq(sw_world_step(w), SW_OK);
        cr_assert_eq(asker_checks, 3 * 150 * (int)(sizeof asker_radii / sizeof asker_radii[0]));
        sw_world_free(w);
    }
}

static int loner_n = -1, loner_after_kill = 1;

/* Queries once off space (taken out by its spawner): the agents of its kind
 * near the point, not of others; then kills itself and tries to move. */
static sw_step loner_run(sw_tasklet *t, void *frame) {
    (void)frame;
    SW_BEGIN(t);
    sw_space_sums m;
    loner_n = (int)sw_space_near_sums(t, 5, 5, 100, 1, SW_SPACE_NO_PAIR, &m);
    sw_kill(t, sw_self(t));
    loner_after_kill = sw_space_move_to(t, 1, 1, 1, 0);
    SW_END(t);
}
static const sw_kind loner = {.name = "loner", .frame_size = 8, .run = loner_run};

Test(world_near, space_self_calls_count_their_kind_and_refuse_a_dead_agent) {
    sw_world *w = sw_world_new(&(sw_world_desc){.width = 10, .height = 10, .space_cell = 2});
    sw_id a = sw_world_spawn_at_point(w, &loner, NULL, 5, 5, 0);
    sw_world_spawn_at_point(w, &idle, NULL, 5.5, 5, 0);
    sw_world_spawn_at_point(w, &idle, NULL, 1, 9, 0);
    sw_id b = sw_world_spawn_at_point(w, &mover, NULL, 9, 9, 0);
    cr_assert_eq(sw_world_space_unplace(w, a), SW_OK);
    cr_assert_eq(sw_sched_kill(sw_world_sched(w), b), SW_OK);
    cr_assert_eq(sw_world_step(w), SW_OK);
    cr_assert_eq(loner_n, 0, "others' kinds are not counted, nor itself");
    cr_assert_eq(loner_after_kill, SW_E_STALE);
    cr_assert_eq(sw_world_space_count(w), 2);
    sw_world_free(w);
}

/* The direction pair beside each point (SW_SPACE_DIR_PAIR): the direction
 * given last, exactly, through moves across buckets and out of space and
 * back; (0, 0) when never given or after a heading set as an angle. */
Test(world_near, space_direction_pairs_are_the_directions_given) {
    sw_world *w = sw_world_new(&(sw_world_desc){.width = 20, .height = 20, .space_cell = 2,
                                                .topology = SW_TOPO_TORUS});
    sw_id a = sw_world_spawn_at_point(w, &mover, NULL, 5, 5, 0);
    sw_id b = sw_world_spawn_at_point(w, &mover, NULL, 5.5, 5, 0);
    sw_id c = sw_world_spawn_at_point(w, &mover, NULL, 5, 5.5, 0);
    cr_assert(a && b && c);
    sw_space_sums m;
    cr_assert_eq(sw_world_space_near_sums(w, 5, 5, 3, 0, NULL, SW_ID_NONE, SW_SPACE_DIR_PAIR, &m), 3);
    cr_assert(m.vx == 0 && m.vy == 0 && !signbit(m.vx), "no direction given: (0, 0)");
    const double ax = 0.1 + 0x1p-40, ay = -0.7, bx = 1e-300, by = 3.25;
    sw_world_space_set_direction(w, a, ax, ay);
    sw_world_space_set_direction(w, b, bx, by);
    sw_world_space_set_direction(w, c, 0.5, 0.5);
    sw_world_space_set_heading(w, c, 1.0); /* an angle: no direction in effect */
    cr_assert_eq(sw_world_space_near_sums(w, 5, 5, 3, 0, NULL, SW_ID_NONE, SW_SPACE_DIR_PAIR, &m), 3);
    cr_assert(m.vx == 0.0 + ax + bx && m.vy == 0.0 + ay + by, "%.17g %.17g", m.vx, m.vy);
    /* a skipped at its point (the branch-free fold) and elsewhere (the branching one) */
    cr_assert_eq(sw_world_space_near_sums(w, 5, 5, 3, 0, NULL, a, SW_SPACE_DIR_PAIR, &m), 2);
    cr_assert(m.vx == 0.0 + bx && m.vy == 0.0 + by);
    cr_assert_eq(sw_world_space_near_sums(w, 5.1, 5, 3, 0, NULL, a, SW_SPACE_DIR_PAIR, &m), 2);
    cr_assert(m.vx == 0.0 + bx && m.vy == 0.0 + by);
    /* across buckets (and the seam), out of space and back: the pair goes along */
    cr_assert_eq(sw_world_space_place(w, a, 19.5, 0.5), SW_OK);
    cr_assert_eq(sw_world_space_near_sums(w, 0.2, 19.9, 1.5, 0, &mover, SW_ID_NONE,
                                          SW_SPACE_DIR_PAIR, &m), 1);
    cr_assert(m.vx == ax && m.vy == ay);
    cr_assert_eq(sw_world_space_unplace(w, a), SW_OK);
    cr_assert_eq(sw_world_space_place(w, a, 5, 5), SW_OK);
    cr_assert_eq(sw_world_space_near_sums(w, 5, 5, 0.1, 0, NULL, SW_ID_NONE, SW_SPACE_DIR_PAIR, &m), 1);
    cr_assert(m.vx == ax && m.vy == ay);
    cr_assert(sw_world_space_heading(w, a) == atan2(ay, ax));
    /* a heading set as an angle on an agent out of space: placed without a pair */
    cr_assert_eq(sw_world_space_unplace(w, b), SW_OK);
    sw_world_space_set_heading(w, b, -2.0);
    cr_assert_eq(sw_world_space_place(w, b, 5.5, 5), SW_OK);
    cr_assert_eq(sw_world_space_near_sums(w, 5.5, 5, 0.1, 0, NULL, SW_ID_NONE, SW_SPACE_DIR_PAIR, &m), 1);
    cr_assert(m.vx == 0 && m.vy == 0);
    cr_assert(sw_world_space_heading(w, b) == -2.0);
    /* the frame-offset pair still reads the frames */
    cr_assert_eq(sw_world_space_near_sums(w, 5, 5, 3, 0, NULL, SW_ID_NONE, offsetof(mover_f, vx), &m), 3);
    cr_assert(m.vx == 0 && m.vy == 0, "the movers' frames are zero");
    sw_world_free(w);
}

/* A slot reused after a death starts with no direction, though its last
 * agent gave one (the new agent's bucket entry must not copy it). */
Test(world_near, space_direction_pair_of_a_reused_slot_starts_empty) {
    sw_world *w = sw_world_new(&(sw_world_desc){.width = 20, .height = 20, .space_cell = 2});
    sw_id a = sw_world_spawn_at_point(w, &mover, NULL, 5, 5, 0);
    cr_assert(a);
    sw_world_space_set_direction(w, a, 1.0, 0.0);
    cr_assert_eq(sw_sched_kill(sw_world_sched(w), a), SW_OK);
    cr_assert_eq(sw_world_step(w), SW_OK);
    sw_id b = sw_world_spawn_at_point(w, &mover, NULL, 5, 5, 0);
    cr_assert_eq(sw_handle_slot(b), sw_handle_slot(a), "the test needs the slot reused");
    sw_space_sums m;
    cr_assert_eq(sw_world_space_near_sums(w, 5, 5, 3, 0, NULL, SW_ID_NONE, SW_SPACE_DIR_PAIR, &m), 1);
    cr_assert(m.vx == 0 && m.vy == 0, "the dead agent's direction: (%g, %g)", m.vx, m.vy);
    sw_world_free(w);
}

/* The sums query reads the skipped agent's direction pair as (0, 0) for its
 * scan and puts it back after: a later query counts it, bit for bit, and
 * the pairs of the others are as given. */
Test(world_near, space_sums_skipping_an_agent_leave_its_direction_pair) {
    sw_world *w = sw_world_new(&(sw_world_desc){.width = 20, .height = 20, .space_cell = 2,
                                                .topology = SW_TOPO_TORUS});
    sw_id a = sw_world_spawn_at_point(w, &mover, NULL, 5, 5, 0);
    sw_id b = sw_world_spawn_at_point(w, &mover, NULL, 5.5, 5.25, 0);
    cr_assert(a && b);
    const double ax = 0.3 + 0x1p-45, ay = -1.5, bx = -2.0 / 3, by = 0x1p-60;
    sw_world_space_set_direction(w, a, ax, ay);
    sw_world_space_set_direction(w, b, bx, by);
    sw_space_sums m;
    for (int round = 0; round < 3; round++) {
        cr_assert_eq(sw_world_space_near_sums(w, 5, 5, 3, 1, NULL, a, SW_SPACE_DIR_PAIR, &m), 1);
        cr_assert(m.vx == 0.0 + bx && m.vy == 0.0 + by, "b's pair alone: %.17g %.17g", m.vx, m.vy);
        cr_assert_eq(sw_world_space_near_sums(w, 5, 5, 0.1, 0, NULL, SW_ID_NONE, SW_SPACE_DIR_PAIR, &m), 1);
        cr_assert(m.vx == ax && m.vy == ay, "a's pair back: %.17g %.17g", m.vx, m.vy);
        cr_assert_eq(sw_world_space_near_sums(w, 5, 5, 3, 0, NULL, SW_ID_NONE, SW_SPACE_DIR_PAIR, &m), 2);
        cr_assert(m.vx == 0.0 + ax + bx && m.vy == 0.0 + ay + by);
    }
    sw_world_free(w);
}

/* A crowd of agents within r_in, around a point near the seam: from the
 * frames (the branching fold), the same sums, bit for bit, as a loop over
 * near_hits; from the direction pairs beside the points (the lane scan),
 * those of brute force within rounding; with and without the skipped agent,
 * on both topologies (across the seam on a torus: shifted bucket ranges). */
Test(world_near, space_near_sums_with_a_crowd_within_the_inner_radius) {
    for (int topo = 0; topo < 2; topo++) {
        sw_world *w = sw_world_new(&(sw_world_desc){.width = 30, .height = 30, .space_cell = 3,
                                                    .topology = (sw_topology)topo});
        uint64_t r = 17;
        enum { N = 400 };
        sw_id ids[N];
        for (int i = 0; i < N; i++) { /* a crowd around (0.5, 0.5), across the seam on a torus */
            mover_f p = {2 * urand(&r) - 1, 2 * urand(&r) - 1};
            double x = 0.5 + 1.6 * (urand(&r) - 0.5), y = 0.5 + 1.6 * (urand(&r) - 0.5);
            if (!topo && (x < 0 || y < 0)) x = fabs(x), y = fabs(y);
            ids[i] = sw_world_spawn_at_point(w, &mover, &p, x, y, 0);
            cr_assert_neq(ids[i], SW_ID_NONE);
            sw_world_space_set_direction(w, ids[i], p.vx, p.vy); /* the same pairs beside the points */
        }
        for (int q = 0; q < 4; q++) {
            sw_id skip = q % 2 ? SW_ID_NONE : ids[q];
            double x = 0.5, y = 0.5;
            if (skip) cr_assert(sw_world_space_pos(w, skip, &x, &y));
            sw_space_sums got;
            sw_world_space_near_sums(w, x, y, 2.5, 1.0 + q, &mover, skip, offsetof(mover_f, vx), &got);
            cr_assert_gt(got.n_in, 200, "the test needs a crowd within r_in: %u", got.n_in);
            sw_space_sums want = sums_by_hits(w, x, y, 2.5, 1.0 + q, &mover, skip);
            assert_same_sums(got, want, topo ? "torus crowd" : "bounded crowd");
            double scale;
            want = sums_by_brute_force(w, ids, N, x, y, 2.5, 1.0 + q, NULL, skip, &scale);
            sw_world_space_near_sums(w, x, y, 2.5, 1.0 + q, NULL, skip, SW_SPACE_DIR_PAIR, &got);
            assert_near_sums(got, want, scale, topo ? "torus crowd, directions" : "bounded crowd, directions");
        }
        sw_world_free(w);
    }
}
