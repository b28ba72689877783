/* test_world.c - the world: grid lists, neighbourhoods, continuous space,
 * placement, layers and channels by key, each against a simple reference. */
#include <criterion/criterion.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swarmlet.h"
#include "pickle.h"

typedef struct {
    int32_t x, y;
    int32_t seen_x, seen_y; /* where init found itself */
} idle_f;

static sw_step idle_run(sw_tasklet *t, void *frame) {
    SW_BEGIN(t, nap);
    for (;;) SW_SLEEP(t, nap, 1000);
    SW_END(t);
}

static void idle_init(sw_tasklet *t, void *frame) {
    idle_f *f = frame;
    f->seen_x = f->seen_y = -1;
    sw_world_cell_of(sw_world_of(t), sw_self(t), &f->seen_x, &f->seen_y);
}

static const sw_field idle_fields[] = {SW_FIELD(idle_f, x, SW_T_I32), SW_FIELD(idle_f, y, SW_T_I32),
                                       SW_FIELD(idle_f, seen_x, SW_T_I32),
                                       SW_FIELD(idle_f, seen_y, SW_T_I32), SW_FIELD_END};
static const sw_kind idle = {.name = "idle", .frame_size = sizeof(idle_f), .fields = idle_fields,
                             .init = idle_init, .run = idle_run};
static const sw_kind other = {.name = "other", .frame_size = sizeof(idle_f), .fields = idle_fields,
                              .run = idle_run};

static sw_step quitter_run(sw_tasklet *t, void *frame) {
    SW_BEGIN(t);
    SW_END(t);
}
static const sw_kind quitter = {.name = "quitter", .frame_size = 8, .fields = NULL, .run = quitter_run};

static sw_world *mk(uint32_t w, uint32_t h, sw_topology topo) {
    sw_world *wd = sw_world_new(&(sw_world_desc){.width = w, .height = h, .topology = topo, .seed = 7});
    cr_assert_not_null(wd);
    return wd;
}

/* ---- grid lists against a reference ------------------------------------------- */

#define RW 6
#define RH 5
#define RN 120

Test(world, grid_lists_match_a_reference_through_moves_removals_and_kills) {
    sw_world *w = mk(RW, RH, SW_TOPO_BOUNDED);
    sw_sched *s = sw_world_sched(w);
    sw_id ids[RN];
    int cell[RN];          /* reference: -1 off the grid */
    uint64_t stamp[RN];    /* reference arrival order */
    bool alive[RN];
    uint64_t clock = 0;
    for (int i = 0; i < RN; i++) {
        ids[i] = sw_sched_spawn(s, i % 3 ? &idle : &other, NULL, 0); /* lists mix kinds */
        cell[i] = -1;
        alive[i] = true;
    }
    uint64_t r = 12345;
    for (int op = 0; op < 4000; op++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        int i = (int)((r >> 33) % RN);
        int what = (int)((r >> 20) % 10);
        int x = (int)((r >> 40) % RW), y = (int)((r >> 50) % RH);
        if (!alive[i]) {
            cr_assert_eq(sw_world_place(w, ids[i], x, y), SW_E_STALE);
            continue;
        }
        if (what < 6) {
            cr_assert_eq(sw_world_place(w, ids[i], x, y), SW_OK);
            cell[i] = y * RW + x;
            stamp[i] = clock++;
        } else if (what < 8) {
            cr_assert_eq(sw_world_unplace(w, ids[i]), SW_OK);
            cell[i] = -1;
        } else if (what == 8 && op % 3 == 0) {
            cr_assert_eq(sw_sched_kill(s, ids[i]), SW_OK);
            alive[i] = false;
            cell[i] = -1;
        } else {
            cr_assert_eq(sw_world_place(w, ids[i], -1, 0), SW_E_INVALID, "off a bounded grid");
        }
        /* compare every cell with the reference */
        uint32_t occupied = 0;
        for (int c = 0; c < RW * RH; c++) {
            sw_id got[RN], want[RN];
            uint32_t n = sw_world_agents_at(w, c % RW, c / RW, NULL, got, RN);
            uint32_t m = 0;
            /* reference list: agents on c sorted by arrival stamp */
            for (int j = 0; j < RN; j++)
                if (cell[j] == c) {
                    uint32_t k = m++;
                    while (k > 0 && stamp[j] < stamp[(int)(want[k - 1] >> 48)]) {
                        want[k] = want[k - 1];
                        k--;
                    }
                    want[k] = (sw_id)j << 48; /* index parked in the high bits */
                }
            cr_assert_eq(n, m, "cell %d: %u agents, reference %u (op %d)", c, n, m, op);
            cr_assert_eq(sw_world_count_at(w, c % RW, c / RW), m);
            for (uint32_t k = 0; k < m; k++)
                cr_assert_eq(got[k], ids[want[k] >> 48], "cell %d position %u (op %d)", c, k, op);
            /* by kind: the reference's sub-list of "other", listed, counted
               (cap 0) and picked one by one */
            sw_id sub[RN];
            uint32_t ms = 0;
            for (uint32_t k = 0; k < m; k++)
                if ((want[k] >> 48) % 3 == 0) sub[ms++] = ids[want[k] >> 48];
            cr_assert_eq(sw_world_agents_at(w, c % RW, c / RW, &other, got, RN), ms);
            cr_assert_eq(sw_world_agents_at(w, c % RW, c / RW, &other, NULL, 0), ms);
            for (uint32_t k = 0; k < ms; k++) {
                cr_assert_eq(got[k], sub[k], "cell %d: other #%u (op %d)", c, k, op);
                cr_assert_eq(sw_world_agent_at(w, c % RW, c / RW, &other, k), sub[k]);
            }
            cr_assert_eq(sw_world_agent_at(w, c % RW, c / RW, &other, ms), SW_ID_NONE);
            for (uint32_t k = 0; k < m; k++)
                cr_assert_eq(sw_world_agent_at(w, c % RW, c / RW, NULL, k), ids[want[k] >> 48]);
            occupied += m > 0;
        }
        cr_assert_eq(sw_world_occupied_cells(w), occupied);
        int32_t cx, cy;
        bool on = sw_world_cell_of(w, ids[i], &cx, &cy);
        cr_assert_eq(on, cell[i] >= 0);
        if (on) cr_assert_eq(cy * RW + cx, cell[i]);
    }
    sw_world_free(w);
}

Test(world, kill_and_exit_remove_agents_from_the_grid_and_space) {
    sw_world *w = mk(4, 4, SW_TOPO_BOUNDED);
    sw_sched *s = sw_world_sched(w);
    sw_id a = sw_world_spawn_at(w, &idle, NULL, 1, 1, 0);
    sw_id b = sw_world_spawn_at(w, &idle, NULL, 1, 1, 0);
    sw_id c = sw_world_spawn_at(w, &idle, NULL, 1, 1, 0);
    sw_id q = sw_world_spawn_at(w, &quitter, NULL, 2, 2, 0);
    sw_id p = sw_world_spawn_at_point(w, &idle, NULL, 3.5, 0.5, 0);
    cr_assert_eq(sw_world_count_at(w, 1, 1), 3);
    cr_assert_eq(sw_world_space_count(w), 1);
    cr_assert_eq(sw_sched_kill(s, b), SW_OK);
    sw_id got[4];
    cr_assert_eq(sw_world_agents_at(w, 1, 1, NULL, got, 4), 2);
    cr_assert_eq(got[0], a);
    cr_assert_eq(got[1], c);
    cr_assert_not(sw_world_cell_of(w, b, NULL, NULL));
    cr_assert_eq(sw_world_count_at(w, 2, 2), 1);
    cr_assert_eq(sw_world_step(w), SW_OK); /* the quitter exits on its first run */
    cr_assert_not(sw_sched_alive(s, q));
    cr_assert_eq(sw_world_count_at(w, 2, 2), 0);
    cr_assert_eq(sw_world_occupied_cells(w), 1);
    cr_assert_eq(sw_sched_kill(s, p), SW_OK);
    cr_assert_eq(sw_world_space_count(w), 0);
    cr_assert_eq(sw_world_space_near(w, 3.5, 0.5, 10, got, 4), 0);
    /* a new agent reusing the dead ones' slots starts off the grid */
    sw_id d = sw_sched_spawn(s, &idle, NULL, 0);
    cr_assert_not(sw_world_cell_of(w, d, NULL, NULL));
    cr_assert_not(sw_world_space_pos(w, d, NULL, NULL));
    sw_world_free(w);
}

Test(world, spawn_at_places_before_init_and_by_kind) {
    sw_world *w = mk(5, 5, SW_TOPO_TORUS);
    sw_id a = sw_world_spawn_at(w, &idle, NULL, 7, -1, 0); /* wraps to (2, 4) */
    idle_f *f = sw_sched_frame(sw_world_sched(w), a);
    cr_assert_eq(f->seen_x, 2);
    cr_assert_eq(f->seen_y, 4);
    sw_world_spawn_at(w, &other, NULL, 2, 4, 0);
    sw_id got[4];
    cr_assert_eq(sw_world_agents_at(w, 2, 4, &other, got, 4), 1);
    cr_assert_eq(sw_world_agents_at(w, 2, 4, &idle, got, 4), 1);
    cr_assert_eq(got[0], a);
    sw_world_free(w);
    w = mk(5, 5, SW_TOPO_BOUNDED);
    cr_assert_eq(sw_world_spawn_at(w, &idle, NULL, 5, 0, 0), SW_ID_NONE);
    cr_assert(strstr(sw_world_errmsg(w), "outside") != NULL);
    sw_world_free(w);
}

/* ---- neighbourhoods against a brute-force reference -------------------------------- */

static int64_t min_image(int64_t d, int64_t n) {
    d %= n;
    if (d < 0) d += n;
    if (d > n / 2) d -= n;
    return d;
}

Test(world, neighbourhoods_match_brute_force_on_bounded_grids_and_tori_of_every_small_size) {
    static const uint32_t sizes[] = {1, 2, 3, 4, 5, 7};
    for (int topo = 0; topo < 2; topo++)
        for (size_t iw = 0; iw < 6; iw++)
            for (size_t ih = 0; ih < 6; ih++) {
                uint32_t W = sizes[iw], H = sizes[ih];
                sw_world *w = mk(W, H, (sw_topology)topo);
                for (int nb = 0; nb < 2; nb++)
                    for (int r = 0; r <= 4; r++)
                        for (int32_t y = 0; y < (int32_t)H; y++)
                            for (int32_t x = 0; x < (int32_t)W; x++) {
                                int32_t xy[2 * 128];
                                uint32_t n = sw_world_cells_around(w, x, y, (sw_neighborhood)nb, r, xy, 128);
                                bool want[49] = {false};
                                uint32_t m = 0;
                                for (uint32_t c = 0; c < W * H; c++) {
                                    int64_t dx = (int64_t)(c % W) - x, dy = (int64_t)(c / W) - y;
                                    if (topo) {
                                        dx = min_image(dx, W);
                                        dy = min_image(dy, H);
                                    }
                                    if (dx == 0 && dy == 0) continue;
                                    int64_t d = nb == SW_MOORE ? (llabs(dx) > llabs(dy) ? llabs(dx) : llabs(dy))
                                                               : llabs(dx) + llabs(dy);
                                    if (d <= r) {
                                        want[c] = true;
                                        m++;
                                    }
                                }
                                cr_assert_eq(n, m, "%ux%u %s %s r=%d at (%d,%d): %u cells, want %u", W, H,
                                             topo ? "torus" : "bounded", nb ? "von Neumann" : "Moore", r, x,
                                             y, n, m);
                                for (uint32_t k = 0; k < n; k++) {
                                    uint32_t c = (uint32_t)(xy[2 * k + 1] * (int32_t)W + xy[2 * k]);
                                    cr_assert(want[c], "unexpected or repeated cell (%d,%d)", xy[2 * k], xy[2 * k + 1]);
                                    want[c] = false; /* a second visit fails */
                                }
                            }
                sw_world_free(w);
            }
}

Test(world, neighbourhood_order_is_row_major_and_clipped_at_borders) {
    sw_world *w = mk(5, 4, SW_TOPO_BOUNDED);
    int32_t xy[16];
    cr_assert_eq(sw_world_cells_around(w, 0, 0, SW_MOORE, 1, xy, 8), 3);
    int32_t want[] = {1, 0, 0, 1, 1, 1};
    cr_assert_arr_eq(xy, want, sizeof want);
    cr_assert_eq(sw_world_cells_around(w, 2, 0, SW_MOORE, 1, xy, 8), 5);
    cr_assert_eq(sw_world_cells_around(w, 2, 2, SW_MOORE, 1, xy, 8), 8);
    cr_assert_eq(sw_world_cells_around(w, 0, 0, SW_VON_NEUMANN, 1, xy, 8), 2);
    cr_assert_eq(sw_world_cells_around(w, 2, 2, SW_VON_NEUMANN, 1, xy, 8), 4);
    int32_t vn[] = {2, 1, 1, 2, 3, 2, 2, 3};
    cr_assert_arr_eq(xy, vn, sizeof vn);
    /* a huge radius is clipped to the grid, not iterated */
    cr_assert_eq(sw_world_cells_around(w, 2, 2, SW_MOORE, 1 << 30, NULL, 0), 19);
    cr_assert_eq(sw_world_cells_around(w, 2, 2, SW_MOORE, -1, xy, 8), 0);
    cr_assert_eq(sw_world_cells_around(w, -1, 2, SW_MOORE, 1, xy, 8), 0, "a centre off the grid");
    sw_world_free(w);
    w = mk(5, 5, SW_TOPO_TORUS);
    cr_assert_eq(sw_world_cells_around(w, 0, 0, SW_MOORE, 1, xy, 8), 8);
    int32_t tw[] = {4, 4, 0, 4, 1, 4, 4, 0, 1, 0, 4, 1, 0, 1, 1, 1};
    cr_assert_arr_eq(xy, tw, sizeof tw);
    cr_assert_eq(sw_world_cells_around(w, 0, 0, SW_MOORE, 1 << 30, NULL, 0), 24);
    sw_world_free(w);
}

Test(world, agents_around_lists_each_agent_once_even_on_a_tiny_torus) {
    sw_world *w = mk(2, 2, SW_TOPO_TORUS);
    for (int c = 0; c < 4; c++) sw_world_spawn_at(w, &idle, NULL, c % 2, c / 2, 0);
    sw_id got[16];
    cr_assert_eq(sw_world_agents_around(w, 0, 0, SW_MOORE, 1, false, NULL, got, 16), 3);
    cr_assert_eq(sw_world_agents_around(w, 0, 0, SW_MOORE, 1, true, NULL, got, 16), 4);
    cr_assert_eq(sw_world_agents_around(w, 0, 0, SW_MOORE, 5, true, &idle, got, 16), 4);
    cr_assert_eq(sw_world_agents_around(w, 0, 0, SW_MOORE, 5, true, &other, got, 16), 0);
    sw_world_free(w);
    w = mk(1, 1, SW_TOPO_TORUS);
    sw_world_spawn_at(w, &idle, NULL, 0, 0, 0);
    cr_assert_eq(sw_world_agents_around(w, 0, 0, SW_MOORE, 1, false, NULL, got, 16), 0);
    cr_assert_eq(sw_world_agents_around(w, 0, 0, SW_VON_NEUMANN, 3, true, NULL, got, 16), 1);
    sw_world_free(w);
}

/* ---- continuous space against brute force --------------------------------------------- */

static double urand(uint64_t *r) {
    *r = *r * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*r >> 11) * 0x1.0p-53;
}

static int cmp_id(const void *a, const void *b) {
    sw_id x = *(const sw_id *)a, y = *(const sw_id *)b;
    return x < y ? -1 : x > y;
}

Test(world, space_near_matches_brute_force_with_periodic_minimum_image) {
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

typedef struct {
    double vx, vy; /* a pair for sw_world_space_near_sums to add up */
} mover_f;

static const sw_field mover_fields[] = {SW_FIELD(mover_f, vx, SW_T_F64),
                                        SW_FIELD(mover_f, vy, SW_T_F64), SW_FIELD_END};
static const sw_kind mover = {.name = "mover", .frame_size = sizeof(mover_f), .fields = mover_fields,
                              .run = idle_run};
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

static void assert_same_sums(sw_space_sums a, sw_space_sums b, const char *what) {
    cr_assert_eq(a.n, b.n, "%s: %u found, %u by hits", what, a.n, b.n);
    cr_assert_eq(a.n_in, b.n_in, "%s: %u inside, %u by hits", what, a.n_in, b.n_in);
    /* bit for bit: the same additions in the same order */
    cr_assert(a.dx == b.dx && a.dy == b.dy, "%s: offsets %.17g,%.17g vs %.17g,%.17g", what,
              a.dx, a.dy, b.dx, b.dy);
    cr_assert(a.dx_in == b.dx_in && a.dy_in == b.dy_in, "%s: inner offsets differ", what);
    cr_assert(a.vx == b.vx && a.vy == b.vy, "%s: pairs %.17g,%.17g vs %.17g,%.17g", what, a.vx,
              a.vy, b.vx, b.vy);
}

Test(world, space_near_sums_are_those_of_a_loop_over_near_hits) {
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
                    if (q == 0) /* and some are found at all */
                        cr_assert_gt(got.n + sw_world_space_near_sums(w, x, y, 9, 1, NULL, SW_ID_NONE,
                                                                      SW_SPACE_NO_PAIR, &got), 0);
                }
                sw_world_free(w);
            }
}

Test(world, space_near_sums_without_a_pair_or_an_inner_radius) {
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

/* Points on bucket edges (multiples of a bucket size that binary floating
 * point cannot hold exactly) and queries whose interval ends on an edge:
 * the buckets a query reads are worked out by multiplying by the inverse
 * size, which can round across an edge the other way from the division
 * that placed a point; every point within r must still be found. */
Test(world, space_near_finds_points_on_bucket_edges) {
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
        f->vx = hx; /* what the others add up next */
        f->vy = hy;
        SW_SLEEP(t, fly, 1);
    }
    SW_END(t);
}
static const sw_kind flier = {.name = "flier", .frame_size = sizeof(mover_f),
                              .fields = mover_fields, .run = flier_run};

Test(world, space_self_queries_and_moves_match_the_world_calls) {
    uint64_t r = 11;
    for (int topo = 0; topo < 2; topo++)
        for (int mixed = 0; mixed < 2; mixed++) { /* other kinds about: the filtered fold */
            sw_world *w = sw_world_new(&(sw_world_desc){.width = 17, .height = 12, .seed = 3,
                                                        .topology = (sw_topology)topo,
                                                        .space_cell = 2.5});
            for (int i = 0; i < 120; i++) {
                mover_f p = {2 * urand(&r) - 1, 2 * urand(&r) - 1};
                const sw_kind *k = mixed && i % 3 == 0 ? &mover : &flier;
                cr_assert_neq(sw_world_spawn_at_point(w, k, &p, urand(&r) * 17, urand(&r) * 12, 0),
                              SW_ID_NONE);
            }
            flier_checks = 0;
            for (int step = 0; step < 5; step++) cr_assert_eq(sw_world_step(w), SW_OK);
            cr_assert_eq(flier_checks, 5 * (mixed ? 80 : 120));
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

Test(world, space_self_calls_count_their_kind_and_refuse_a_dead_agent) {
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

Test(world, space_buckets_keep_arrival_order_through_moves_and_deaths) {
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

Test(world, space_an_agent_wandering_over_a_fine_index_keeps_its_place) {
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

Test(world, space_wraps_on_a_torus_and_rejects_points_off_a_bounded_space) {
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

/* ---- random empty cells and populate ---------------------------------------------------- */

Test(world, random_empty_cell_is_uniform_over_empty_cells) {
    sw_world *w = mk(4, 4, SW_TOPO_BOUNDED);
    int taken[] = {0, 5, 6, 15};
    for (int i = 0; i < 4; i++) sw_world_spawn_at(w, &idle, NULL, taken[i] % 4, taken[i] / 4, 0);
    int hits[16] = {0};
    enum { DRAWS = 24000 };
    for (int i = 0; i < DRAWS; i++) {
        int32_t x, y;
        cr_assert(sw_world_random_empty_cell(w, NULL, &x, &y));
        hits[y * 4 + x]++;
    }
    for (int c = 0; c < 16; c++) {
        bool is_taken = c == 0 || c == 5 || c == 6 || c == 15;
        if (is_taken) cr_assert_eq(hits[c], 0, "drew occupied cell %d", c);
        else cr_assert(abs(hits[c] - DRAWS / 12) < DRAWS / 12 / 5, "cell %d drawn %d times", c, hits[c]);
    }
    sw_world_free(w);
}

Test(world, random_empty_cell_is_exact_when_nearly_full_and_fails_when_full) {
    sw_world *w = mk(30, 30, SW_TOPO_BOUNDED);
    for (int c = 0; c < 900; c++)
        if (c != 417) sw_world_spawn_at(w, &idle, NULL, c % 30, c / 30, 0);
    for (int i = 0; i < 50; i++) {
        int32_t x = -1, y = -1;
        cr_assert(sw_world_random_empty_cell(w, NULL, &x, &y));
        cr_assert_eq(y * 30 + x, 417);
    }
    sw_world_spawn_at(w, &idle, NULL, 417 % 30, 417 / 30, 0);
    int32_t x, y;
    cr_assert_not(sw_world_random_empty_cell(w, NULL, &x, &y));
    sw_world_free(w);
}

Test(world, populate_modes_place_as_asked) {
    sw_world *w = mk(20, 10, SW_TOPO_BOUNDED);
    sw_sched *s = sw_world_sched(w);
    cr_assert_eq(sw_world_populate(w, &idle, NULL, 50, SW_PLACE_CELL, 0, 0), 50);
    uint32_t on = 0;
    for (int c = 0; c < 200; c++) on += sw_world_count_at(w, c % 20, c / 20);
    cr_assert_eq(on, 50);
    sw_world_free(w);

    w = mk(20, 10, SW_TOPO_BOUNDED);
    cr_assert_eq(sw_world_populate(w, &idle, NULL, 150, SW_PLACE_CELL_UNIQUE, 0, 1), 150);
    cr_assert_eq(sw_world_occupied_cells(w), 150);
    cr_assert_eq(sw_world_populate(w, &idle, NULL, 50, SW_PLACE_CELL_UNIQUE, 0, 2), 50);
    cr_assert_eq(sw_world_occupied_cells(w), 200, "unique cells fill the grid exactly");
    cr_assert_eq(sw_world_populate(w, &idle, NULL, 1, SW_PLACE_CELL_UNIQUE, 0, 3), SW_E_FULL);
    cr_assert_eq(sw_world_populate(w, &idle, NULL, 0, SW_PLACE_CELL_UNIQUE, 0, 3), 0, "none asked, none placed");
    cr_assert(strstr(sw_world_errmsg(w), "distinct cells") != NULL);
    sw_world_free(w);

    w = mk(20, 10, SW_TOPO_BOUNDED);
    cr_assert_eq(sw_world_populate(w, &idle, NULL, 0, SW_PLACE_EVERY_CELL, 1.0, 0), 200);
    for (int c = 0; c < 200; c++) cr_assert_eq(sw_world_count_at(w, c % 20, c / 20), 1);
    sw_world_free(w);

    w = mk(100, 100, SW_TOPO_BOUNDED);
    int64_t n = sw_world_populate(w, &idle, NULL, 0, SW_PLACE_EVERY_CELL, 0.3, 0);
    cr_assert(n > 3000 - 4 * 46 && n < 3000 + 4 * 46, "density 0.3 of 10000 cells gave %lld", (long long)n);
    cr_assert_eq(sw_world_occupied_cells(w), (uint32_t)n);
    sw_world_free(w);

    w = mk(7, 3, SW_TOPO_TORUS);
    s = sw_world_sched(w);
    cr_assert_eq(sw_world_populate(w, &idle, NULL, 40, SW_PLACE_POINT, 0, 0), 40);
    cr_assert_eq(sw_world_space_count(w), 40);
    cr_assert_eq(sw_world_occupied_cells(w), 0);
    cr_assert_eq(sw_world_populate(w, &idle, NULL, 5, SW_PLACE_NONE, 0, 0), 5);
    cr_assert_eq(sw_sched_count(s), 45);
    cr_assert_eq(sw_world_space_count(w), 40);
    sw_world_free(w);
}

Test(world, populate_is_deterministic_per_stream) {
    int32_t pos[3][30][2];
    for (int run = 0; run < 3; run++) {
        sw_world *w = mk(50, 50, SW_TOPO_BOUNDED);
        sw_sched *s = sw_world_sched(w);
        sw_world_populate(w, &idle, NULL, 30, SW_PLACE_CELL, 0, run == 2 ? 1 : 0);
        int k = 0;
        for (sw_id id = sw_sched_next(s, SW_ID_NONE); id; id = sw_sched_next(s, id), k++)
            sw_world_cell_of(w, id, &pos[run][k][0], &pos[run][k][1]);
        cr_assert_eq(k, 30);
        sw_world_free(w);
    }
    cr_assert_arr_eq(pos[0], pos[1], sizeof pos[0]);
    cr_assert(memcmp(pos[0], pos[2], sizeof pos[0]) != 0, "another stream, other cells");
}

/* ---- layers and channels ---------------------------------------------------------------------- */

Test(world, layers_are_named_initialised_arrays) {
    sw_world *w = mk(3, 2, SW_TOPO_BOUNDED);
    cr_assert_eq(sw_world_layer_count(w), 0);
    cr_assert_eq(sw_world_layer_add(w, "grass", 2.5), 0);
    cr_assert_eq(sw_world_layer_add(w, "heat", -1), 1);
    cr_assert_lt(sw_world_layer_add(w, "grass", 0), 0, "duplicate name");
    cr_assert(strstr(sw_world_errmsg(w), "grass") != NULL);
    cr_assert_eq(sw_world_layer_find(w, "heat"), 1);
    cr_assert_lt(sw_world_layer_find(w, "nope"), 0);
    cr_assert_str_eq(sw_world_layer_name(w, 0), "grass");
    cr_assert_null(sw_world_layer_name(w, 2));
    cr_assert_null(sw_world_layer_data(w, -1));
    double *g = sw_world_layer_data(w, 0);
    for (int c = 0; c < 6; c++) cr_assert_float_eq(g[c], 2.5, 0);
    g[sw_world_cell_index(w, 2, 1)] = 9;
    cr_assert_float_eq(sw_world_layer_data(w, 0)[5], 9, 0);
    cr_assert_float_eq(sw_world_layer_data(w, 1)[5], -1, 0);
    sw_world_free(w);
}

Test(world, cell_channels_are_made_lazily_and_only_on_request) {
    sw_world *w = mk(8, 8, SW_TOPO_BOUNDED);
    sw_world_populate(w, &idle, NULL, 30, SW_PLACE_CELL, 0, 0);
    cr_assert_eq(sw_world_step(w), SW_OK);
    for (int c = 0; c < 64; c++) cr_assert_eq(sw_world_cell_chan_peek(w, c % 8, c / 8), SW_CHAN_NONE);
    cr_assert_eq(sw_world_cell_chan_at(w, 4 * 8 + 3), SW_CHAN_NONE);
    sw_chan ch = sw_world_cell_chan(w, 3, 4);
    cr_assert_neq(ch, SW_CHAN_NONE);
    cr_assert_eq(sw_world_cell_chan(w, 3, 4), ch, "the same channel every time");
    cr_assert_eq(sw_world_cell_chan_peek(w, 3, 4), ch);
    cr_assert_eq(sw_chan_kind_of(sw_world_sched(w), ch), SW_CHAN_EVENT);
    int made = 0;
    for (int c = 0; c < 64; c++) {
        made += sw_world_cell_chan_peek(w, c % 8, c / 8) != SW_CHAN_NONE;
        cr_assert_eq(sw_world_cell_chan_at(w, (uint32_t)c), sw_world_cell_chan_peek(w, c % 8, c / 8),
                     "by index as by coordinates");
    }
    cr_assert_eq(made, 1);
    cr_assert_eq(sw_world_cell_chan_at(w, 64), SW_CHAN_NONE, "past the last cell");
    cr_assert_eq(sw_world_cell_chan(w, 8, 0), SW_CHAN_NONE, "off a bounded grid");
    cr_assert_eq(sw_world_cell_chan_peek(w, -1, 0), SW_CHAN_NONE);
    sw_world_free(w);
    w = mk(8, 8, SW_TOPO_TORUS);
    cr_assert_eq(sw_world_cell_chan(w, -1, 8), sw_world_cell_chan(w, 7, 0), "wrapped on a torus");
    sw_world_free(w);
}

Test(world, mailboxes_are_buffered_and_freed_when_their_agent_dies) {
    sw_world *w = sw_world_new(&(sw_world_desc){.width = 2, .height = 2, .mailbox_capacity = 3});
    sw_sched *s = sw_world_sched(w);
    sw_id a = sw_sched_spawn(s, &idle, NULL, 0);
    sw_chan mb = sw_world_mailbox(w, a);
    cr_assert_neq(mb, SW_CHAN_NONE);
    cr_assert_eq(sw_world_mailbox(w, a), mb);
    cr_assert_eq(sw_chan_kind_of(s, mb), SW_CHAN_BUFFERED);
    sw_msg m = {.tag = 1};
    for (int i = 0; i < 3; i++) cr_assert_eq(sw_chan_post(s, mb, &m), SW_OK);
    cr_assert_eq(sw_chan_post(s, mb, &m), SW_E_FULL, "capacity 3");
    cr_assert_eq(sw_sched_kill(s, a), SW_OK);
    cr_assert_not(sw_chan_alive(s, mb), "freed with its agent");
    cr_assert_eq(sw_world_mailbox(w, a), SW_CHAN_NONE, "a dead agent has no mailbox");
    sw_id b = sw_sched_spawn(s, &idle, NULL, 0); /* may reuse a's slot */
    sw_chan mb2 = sw_world_mailbox(w, b);
    cr_assert_neq(mb2, SW_CHAN_NONE);
    cr_assert_neq(mb2, mb);
    cr_assert_eq(sw_chan_queued(s, mb2), 0, "a fresh, empty mailbox");
    sw_world_free(w);
}

Test(world, a_pickled_world_keeps_its_cells_by_kind_and_frees_loaded_mailboxes) {
    sw_world *a = mk(4, 3, SW_TOPO_BOUNDED);
    sw_id i1 = sw_world_spawn_at(a, &idle, NULL, 2, 1, 0);
    sw_id o1 = sw_world_spawn_at(a, &other, NULL, 2, 1, 0);
    sw_id i2 = sw_world_spawn_at(a, &idle, NULL, 2, 1, 0);
    cr_assert(i1 && o1 && i2);
    sw_chan mb = sw_world_mailbox(a, o1);
    cr_assert_neq(mb, SW_CHAN_NONE);
    sw_pickle_buf buf = {0};
    char err[256];
    sw_pickle_section sa = sw_pickle_world_section(a);
    cr_assert_eq(sw_pickle_save(sw_world_sched(a), &sa, 1, &buf, err, sizeof err), SW_OK, "%s", err);

    sw_world *b = mk(4, 3, SW_TOPO_BOUNDED);
    const sw_kind *kinds[] = {&idle, &other, NULL};
    const sw_func *funcs[] = {NULL};
    sw_pickle_section sb = sw_pickle_world_section(b);
    cr_assert_eq(sw_pickle_load(sw_world_sched(b), &(sw_pickle_env){kinds, funcs}, &sb, 1, buf.data,
                                buf.len, err, sizeof err),
                 SW_OK, "%s", err);
    sw_id got[4];
    cr_assert_eq(sw_world_agents_at(b, 2, 1, &idle, got, 4), 2, "kinds survive in the cell's list");
    cr_assert(got[0] == i1 && got[1] == i2);
    cr_assert_eq(sw_world_agent_at(b, 2, 1, &other, 0), o1);
    sw_sched *sb_s = sw_world_sched(b);
    cr_assert(sw_chan_alive(sb_s, mb), "the mailbox is loaded with its handle");
    cr_assert_eq(sw_sched_kill(sb_s, o1), SW_OK);
    cr_assert_not(sw_chan_alive(sb_s, mb), "the loaded mailbox is freed when its agent dies");
    cr_assert_eq(sw_world_count_at(b, 2, 1), 2);
    sw_pickle_buf_fini(&buf);
    sw_world_free(a);
    sw_world_free(b);
}

Test(world, named_channels_are_declared_once) {
    sw_world *w = mk(2, 2, SW_TOPO_BOUNDED);
    cr_assert_eq(sw_world_chan(w, "dawn"), SW_CHAN_NONE);
    cr_assert_eq(sw_world_chan_declare(w, "dawn", &(sw_chan_desc){.kind = SW_CHAN_EVENT}), SW_OK);
    cr_assert_eq(sw_world_chan_declare(w, "queue", &(sw_chan_desc){.kind = SW_CHAN_BUFFERED, .capacity = 4}),
                 SW_OK);
    cr_assert_eq(sw_world_chan_declare(w, "dawn", &(sw_chan_desc){.kind = SW_CHAN_EVENT}), SW_E_INVALID);
    cr_assert_eq(sw_world_chan_count(w), 2);
    cr_assert_str_eq(sw_world_chan_name(w, 1), "queue");
    cr_assert_eq(sw_world_chan_at(w, 1), sw_world_chan(w, "queue"));
    cr_assert_eq(sw_chan_kind_of(sw_world_sched(w), sw_world_chan(w, "queue")), SW_CHAN_BUFFERED);
    cr_assert_null(sw_world_chan_name(w, 2));
    cr_assert_eq(sw_world_chan_at(w, -1), SW_CHAN_NONE);
    sw_world_free(w);
}

/* ---- an agent moving itself -------------------------------------------------- */

typedef struct {
    int32_t steps;
    int32_t rc_move, rc_off; /* what sw_move_to answered */
} walker_f;
static int walker_after_kill = 1; /* its answer once dead (its frame is gone then) */

/* Walks one cell right each tick with sw_move_to, then tries a cell off the
 * grid, and on its third step kills itself and tries once more. */
static sw_step walker_run(sw_tasklet *t, void *frame) {
    walker_f *f = frame;
    SW_BEGIN(t, walk);
    for (;;) {
        int32_t x, y;
        cr_assert(sw_world_cell_of(sw_world_of(t), sw_self(t), &x, &y));
        f->rc_move = sw_move_to(t, x + 1, y);
        f->rc_off = sw_move_to(t, x + 1, -1);
        if (++f->steps == 3) {
            sw_kill(t, sw_self(t));
            walker_after_kill = sw_move_to(t, 0, 0);
            SW_EXIT(t);
        }
        SW_SLEEP(t, walk, 1);
    }
    SW_END(t);
}
static const sw_kind walker = {.name = "walker", .frame_size = sizeof(walker_f), .run = walker_run};

Test(world, move_to_moves_the_running_agent_to_the_end_of_the_cells_list) {
    sw_world *w = mk(8, 2, SW_TOPO_BOUNDED);
    sw_sched *s = sw_world_sched(w);
    sw_id a = sw_world_spawn_at(w, &walker, NULL, 0, 0, 0);
    sw_id b = sw_world_spawn_at(w, &idle, NULL, 1, 0, 0);
    cr_assert(a && b);
    walker_f *f = sw_sched_frame(s, a);
    cr_assert_not_null(f);
    cr_assert_eq(sw_world_step(w), SW_OK);
    cr_assert_eq(f->rc_move, SW_OK);
    cr_assert_eq(f->rc_off, SW_E_INVALID, "off a bounded grid: not moved");
    sw_id got[4];
    cr_assert_eq(sw_world_agents_at(w, 1, 0, NULL, got, 4), 2);
    cr_assert_eq(got[0], b);
    cr_assert_eq(got[1], a, "it joins the end of the cell's list");
    cr_assert_eq(sw_world_count_at(w, 0, 0), 0);
    cr_assert_eq(sw_world_occupied_cells(w), 1);
    cr_assert_eq(sw_world_step(w), SW_OK);
    cr_assert_eq(sw_world_agents_at(w, 2, 0, NULL, got, 4), 1);
    cr_assert_eq(got[0], a);
    cr_assert_eq(sw_world_occupied_cells(w), 2);
    cr_assert_eq(sw_world_step(w), SW_OK); /* third step: moves, kills itself, tries again */
    cr_assert_not(sw_sched_alive(s, a));
    cr_assert_eq(walker_after_kill, SW_E_STALE);
    cr_assert_eq(sw_world_count_at(w, 3, 0), 0, "the dead walker is off the grid");
    cr_assert_eq(sw_world_count_at(w, 0, 0), 0, "and did not come back after it died");
    cr_assert_eq(sw_world_occupied_cells(w), 1);
    sw_world_free(w);
}

Test(world, huge_or_degenerate_descriptors_are_refused_or_defaulted) {
    cr_assert_null(sw_world_new(&(sw_world_desc){.width = 1u << 17, .height = 1u << 17}));
    /* a grid's node numbers are int32 (world_int.h): 2^31 cells are too many */
    cr_assert_null(sw_world_new(&(sw_world_desc){.width = 1u << 16, .height = 1u << 15}));
    sw_world *w = sw_world_new(NULL);
    cr_assert_not_null(w);
    cr_assert_eq(sw_world_width(w), 1);
    cr_assert_eq(sw_world_height(w), 1);
    sw_world_free(w);
    /* a bucket size far too small for the world is widened, and stays exact */
    w = sw_world_new(&(sw_world_desc){.width = 4000, .height = 4000, .space_cell = 1e-6});
    cr_assert_not_null(w);
    sw_id a = sw_world_spawn_at_point(w, &idle, NULL, 100, 100, 0);
    sw_id got[2];
    cr_assert_eq(sw_world_space_near(w, 100.5, 100, 0.6, got, 2), 1);
    cr_assert_eq(got[0], a);
    sw_world_free(w);
    sw_world_free(NULL);
}
