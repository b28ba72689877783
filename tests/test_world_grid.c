/* test_world_grid.c - the grid: cell lists, neighbourhoods, empty cells and
 * an agent moving itself, each against a simple reference. */
#include <criterion/criterion.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swarmlet.h"

#include "test_world.h"

/* ---- grid lists against a reference ------------------------------------------- */

#define RW 6
#define RH 5
#define RN 120

Test(world_grid, grid_lists_match_a_reference_through_moves_removals_and_kills) {
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

/* ---- neighbourhoods against a brute-force reference -------------------------------- */

static int64_t min_image(int64_t d, int64_t n) {
    d %= n;
    if (d < 0) d += n;
    if (d > n / 2) d -= n;
    return d;
}

Test(world_grid, neighbourhoods_match_brute_force_on_bounded_grids_and_tori_of_every_small_size) {
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

Test(world_grid, neighbourhood_order_is_row_major_and_clipped_at_borders) {
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

Test(world_grid, agents_around_lists_each_agent_once_even_on_a_tiny_torus) {
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

/* ---- random empty cells ---------------------------------------------------------------- */

Test(world_grid, random_empty_cell_is_uniform_over_empty_cells) {
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

Test(world_grid, random_empty_cell_is_exact_when_nearly_full_and_fails_when_full) {
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

/* ---- an agent moving itself -------------------------------------------------- */

typedef struct {
    int32_t steps;
    int32_t rc_move, rc_off; /* what sw_move_to answered */
} walker_f;
static int walker_after_kill = 1; /* its answer once dead (its frame is gone then) */
static int walker_after_kill_off = 1; /* the same for a cell off the grid */

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
            walker_after_kill_off = sw_move_to(t, -1, 0);
            SW_EXIT(t);
        }
        SW_SLEEP(t, walk, 1);
    }
    SW_END(t);
}
static const sw_kind walker = {.name = "walker", .frame_size = sizeof(walker_f), .run = walker_run};

Test(world_grid, move_to_moves_the_running_agent_to_the_end_of_the_cells_list) {
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
    cr_assert_eq(walker_after_kill_off, SW_E_STALE, "dead before off the grid");
    cr_assert_eq(sw_world_count_at(w, 3, 0), 0, "the dead walker is off the grid");
    cr_assert_eq(sw_world_count_at(w, 0, 0), 0, "and did not come back after it died");
    cr_assert_eq(sw_world_occupied_cells(w), 1);
    sw_world_free(w);
}

/* Moves to the cell its frame names, once a tick. */
typedef struct {
    int32_t x, y, rc;
} hopper_f;
static sw_step hopper_run(sw_tasklet *t, void *frame) {
    hopper_f *f = frame;
    SW_BEGIN(t, hop);
    for (;;) {
        f->rc = sw_move_to(t, f->x, f->y);
        SW_SLEEP(t, hop, 1);
    }
    SW_END(t);
}
static const sw_kind hopper = {.name = "hopper", .frame_size = sizeof(hopper_f), .run = hopper_run};

/* sw_move_to's two paths: an agent on a cell (its node relinked, keeping its
 * kind), and one off the grid (placed as new). A move to its own cell makes
 * it the cell's last arrival, as a move anywhere does. */
Test(world_grid, move_to_own_cell_goes_last_and_an_unplaced_agent_is_placed) {
    sw_world *w = mk(4, 3, SW_TOPO_BOUNDED);
    sw_sched *s = sw_world_sched(w);
    sw_id a = sw_world_spawn_at(w, &hopper, &(hopper_f){.x = 1, .y = 1}, 1, 1, 0);
    sw_id b = sw_world_spawn_at(w, &idle, NULL, 1, 1, 0);
    sw_id c = sw_world_spawn_at(w, &hopper, &(hopper_f){.x = 1, .y = 1}, 1, 1, 0);
    sw_id d = sw_sched_spawn(s, &hopper, &(hopper_f){.x = 3, .y = 2}, 0); /* off the grid */
    cr_assert(a && b && c && d);
    cr_assert_not(sw_world_cell_of(w, d, NULL, NULL));
    cr_assert_eq(sw_world_step(w), SW_OK);
    sw_id got[4];
    cr_assert_eq(sw_world_agents_at(w, 1, 1, NULL, got, 4), 3);
    cr_assert_eq(got[0], b, "a and c stayed on their cell, now after b");
    cr_assert_eq(got[1], a);
    cr_assert_eq(got[2], c);
    cr_assert_eq(sw_world_agents_at(w, 1, 1, &hopper, got, 4), 2, "their kind is still theirs");
    cr_assert_eq(sw_world_agent_at(w, 1, 1, &idle, 0), b);
    int32_t x, y;
    cr_assert(sw_world_cell_of(w, d, &x, &y), "the unplaced hopper is on the grid now");
    cr_assert(x == 3 && y == 2);
    cr_assert_eq(sw_world_agent_at(w, 3, 2, &hopper, 0), d);
    cr_assert_eq(sw_world_occupied_cells(w), 2);
    /* a leaves for an empty cell, d for c's: both lists and the count follow */
    ((hopper_f *)sw_sched_frame(s, a))->x = 0;
    ((hopper_f *)sw_sched_frame(s, d))->x = 1, ((hopper_f *)sw_sched_frame(s, d))->y = 1;
    cr_assert_eq(sw_world_step(w), SW_OK);
    cr_assert_eq(((hopper_f *)sw_sched_frame(s, d))->rc, SW_OK);
    cr_assert_eq(sw_world_agents_at(w, 1, 1, NULL, got, 4), 3);
    cr_assert_eq(got[0], b);
    cr_assert_eq(got[1], c);
    cr_assert_eq(got[2], d);
    cr_assert_eq(sw_world_agent_at(w, 0, 1, NULL, 0), a);
    cr_assert_eq(sw_world_count_at(w, 3, 2), 0);
    cr_assert_eq(sw_world_occupied_cells(w), 2);
    sw_world_free(w);
}
