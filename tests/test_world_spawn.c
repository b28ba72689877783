/* test_world_spawn.c - spawning placed agents and populating the world:
 * placement before init, by kind, and each populate mode, deterministic per
 * stream. */
#include <criterion/criterion.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swarmlet.h"

#include "support.h"
#include "test_world.h"
#include "world_int.h" /* the scheduler's allocator, to fail one allocation */

/* ---- spawning at a cell --------------------------------------------------------------- */

Test(world_spawn, spawn_at_places_before_init_and_by_kind) {
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

/* ---- populate ------------------------------------------------------------------------------- */

Test(world_spawn, populate_modes_place_as_asked) {
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

Test(world_spawn, populate_is_deterministic_per_stream) {
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

/* ---- a reused slot's heading ------------------------------------------------------------ */

/* Kill `old`, let its slot be freed, and spawn a grid agent that takes the
 * slot over (asserted, or the test would prove nothing). */
static sw_id respawn_in_slot(sw_world *w, sw_id old) {
    cr_assert_eq(sw_sched_kill(sw_world_sched(w), old), SW_OK);
    cr_assert_eq(sw_world_step(w), SW_OK);
    sw_id b = sw_world_spawn_at(w, &idle, NULL, 1, 1, 0);
    cr_assert_eq(sw_handle_slot(b), sw_handle_slot(old), "the slot is reused");
    return b;
}

/* A birth clears its slot's heading only once a heading was ever given
 * (world.c's spawn hook: a miss per birth saved in wolf-sheep); an angle or
 * a direction left by the slot's last agent must still not pass on. */
Test(world_spawn, a_reused_slot_starts_without_its_last_agents_heading) {
    sw_world *w = mk(5, 5, SW_TOPO_BOUNDED);
    sw_id a = sw_world_spawn_at(w, &idle, NULL, 2, 2, 0);
    cr_assert_eq(sw_world_space_heading(w, a), 0.0);
    sw_world_space_set_heading(w, a, 1.25); /* an angle */
    cr_assert_eq(sw_world_space_heading(w, a), 1.25);
    sw_id b = respawn_in_slot(w, a);
    cr_assert_eq(sw_world_space_heading(w, b), 0.0);
    sw_world_free(w);

    w = mk(5, 5, SW_TOPO_BOUNDED);
    a = sw_world_spawn_at(w, &idle, NULL, 2, 2, 0);
    sw_world_space_set_direction(w, a, 0.0, 2.0); /* a direction: heading pi/2 */
    cr_assert_eq(sw_world_space_heading(w, a), atan2(2.0, 0.0));
    b = respawn_in_slot(w, a);
    cr_assert_eq(sw_world_space_heading(w, b), 0.0);
    sw_world_free(w);

    /* and where none was ever given, every newborn's heading is 0 */
    w = mk(5, 5, SW_TOPO_BOUNDED);
    a = sw_world_spawn_at(w, &idle, NULL, 2, 2, 0);
    b = respawn_in_slot(w, a);
    cr_assert_eq(sw_world_space_heading(w, b), 0.0);
    sw_world_free(w);
}

/* ---- the spawn hook's common case ------------------------------------------------------- */

/* world.c's spawn hook links a birth in a covered slot on no cell by itself
 * and leaves every other case (a slot past the arrays, headings, a point) to
 * spawn_place: a reused slot must end up on its new cell alone, after the
 * cell's residents, and births that grow the arrays on the cells they name. */
Test(world_spawn, a_birth_in_a_reused_slot_joins_the_back_of_its_new_cell) {
    sw_world *w = mk(5, 5, SW_TOPO_BOUNDED);
    sw_id a = sw_world_spawn_at(w, &idle, NULL, 2, 2, 0);
    sw_id c = sw_world_spawn_at(w, &idle, NULL, 1, 1, 0);
    sw_id b = respawn_in_slot(w, a); /* at (1, 1), behind c */
    int32_t x, y;
    cr_assert(sw_world_cell_of(w, b, &x, &y));
    cr_assert_eq(x, 1);
    cr_assert_eq(y, 1);
    cr_assert_eq(sw_world_count_at(w, 2, 2), 0, "the old cell lost its agent");
    sw_id got[4];
    cr_assert_eq(sw_world_agents_at(w, 1, 1, &idle, got, 4), 2);
    cr_assert_eq(got[0], c);
    cr_assert_eq(got[1], b);
    cr_assert_eq(sw_world_occupied_cells(w), 1);
    sw_world_free(w);

    /* thousands of births: the per-slot arrays grow under the hook */
    w = mk(5, 5, SW_TOPO_BOUNDED);
    enum { N = 5000 };
    for (int i = 0; i < N; i++) {
        sw_id id = sw_world_spawn_at(w, &idle, NULL, i % 5, (i / 5) % 5, 0);
        cr_assert_neq(id, SW_ID_NONE);
        cr_assert(sw_world_cell_of(w, id, &x, &y));
        cr_assert(x == i % 5 && y == (i / 5) % 5, "agent %d at (%d, %d)", i, x, y);
    }
    for (int32_t cy = 0; cy < 5; cy++)
        for (int32_t cx = 0; cx < 5; cx++) cr_assert_eq(sw_world_count_at(w, cx, cy), N / 25);
    cr_assert_eq(sw_world_occupied_cells(w), 25);
    sw_world_free(w);
}

/* ---- many at once ----------------------------------------------------------------------- */

/* Turns taken, in order, by `turner` agents (for comparing two worlds). */
static sw_id turns_log[64];
static int turns_n;

static sw_step turner_run(sw_tasklet *t, void *frame) {
    (void)frame;
    SW_BEGIN(t, nap);
    for (;;) {
        if (turns_n < 64) turns_log[turns_n++] = sw_self(t);
        SW_SLEEP(t, nap, 1);
    }
    SW_END(t);
}

/* An agent that notes where its init found it and logs its turns. */
static const sw_kind turner = {.name = "turner", .frame_size = sizeof(idle_f), .fields = idle_fields,
                               .init = idle_init, .run = turner_run};

/* A world with a history: six agents spawned, slots 1, 4 and 2 freed in that
 * order, so that new agents reuse them (LIFO) before taking fresh ones. */
static sw_world *mk_used(void) {
    sw_world *w = mk(6, 5, SW_TOPO_TORUS);
    sw_id ids[6];
    for (int i = 0; i < 6; i++) ids[i] = sw_world_spawn_at(w, &turner, NULL, i, i % 5, 0);
    cr_assert_eq(sw_sched_kill(sw_world_sched(w), ids[1]), SW_OK);
    cr_assert_eq(sw_sched_kill(sw_world_sched(w), ids[4]), SW_OK);
    cr_assert_eq(sw_sched_kill(sw_world_sched(w), ids[2]), SW_OK);
    cr_assert_eq(sw_world_step(w), SW_OK);
    return w;
}

/* Every agent of both worlds the same: id, kind, frame bytes, cell and its
 * place in its cell's list. */
static void assert_same_worlds(sw_world *a, sw_world *b) {
    sw_sched *sa = sw_world_sched(a), *sb = sw_world_sched(b);
    cr_assert_eq(sw_sched_count(sa), sw_sched_count(sb));
    sw_id ia = sw_sched_next(sa, SW_ID_NONE), ib = sw_sched_next(sb, SW_ID_NONE);
    for (; ia || ib; ia = sw_sched_next(sa, ia), ib = sw_sched_next(sb, ib)) {
        cr_assert_eq(ia, ib);
        cr_assert_eq(sw_sched_kind_of(sa, ia), sw_sched_kind_of(sb, ib));
        cr_assert_eq(memcmp(sw_sched_frame(sa, ia), sw_sched_frame(sb, ib), sizeof(idle_f)), 0,
                     "agent %llx's frame", (unsigned long long)ia);
        int32_t xa, ya, xb, yb;
        cr_assert(sw_world_cell_of(a, ia, &xa, &ya));
        cr_assert(sw_world_cell_of(b, ib, &xb, &yb));
        cr_assert(xa == xb && ya == yb);
    }
    for (int32_t y = 0; y < 5; y++)
        for (int32_t x = 0; x < 6; x++) {
            sw_id ga[16], gb[16];
            uint32_t na = sw_world_agents_at(a, x, y, &turner, ga, 16);
            cr_assert_eq(na, sw_world_agents_at(b, x, y, &turner, gb, 16));
            cr_assert_eq(memcmp(ga, gb, na * sizeof *ga), 0, "cell (%d, %d)'s order", x, y);
        }
    cr_assert_eq(sw_world_occupied_cells(a), sw_world_occupied_cells(b));
}

/* The order in which the agents of a world take their turns next tick. */
static int turns_of(sw_world *w, sw_id *out) {
    turns_n = 0;
    cr_assert_eq(sw_world_step(w), SW_OK);
    memcpy(out, turns_log, (size_t)turns_n * sizeof *out);
    return turns_n;
}

/* a and b give the same `want` turns at their next tick, in the same order. */
static void assert_same_turns(sw_world *a, sw_world *b, int want) {
    sw_id ta[64], tb[64];
    int na = turns_of(a, ta);
    cr_assert_eq(na, want);
    cr_assert_eq(turns_of(b, tb), na);
    cr_assert_eq(memcmp(ta, tb, (size_t)na * sizeof *ta), 0, "the same order of turns");
}

Test(world_spawn, spawn_many_leaves_the_state_of_single_spawns) {
    enum { N = 12 };
    /* images of their own (stride) on cells with repeats, then one image
       for all (stride 0) */
    idle_f img[N];
    uint32_t cells[N];
    for (int i = 0; i < N; i++) {
        img[i] = (idle_f){.x = i, .y = 100 + i, .seen_x = 7, .seen_y = 7};
        cells[i] = (uint32_t)(i * 7 % 30) % 17;
    }
    for (int stride = 0; stride < 2; stride++) {
        sw_world *a = mk_used(), *b = mk_used();
        size_t st = stride ? sizeof *img : 0;
        cr_assert_eq(sw_world_spawn_many(a, &turner, img, st, cells, N, 0), N);
        for (int i = 0; i < N; i++) {
            const idle_f *im = (const idle_f *)((const char *)img + (size_t)i * st);
            sw_id id = sw_world_spawn_at(b, &turner, im, (int32_t)(cells[i] % 6), (int32_t)(cells[i] / 6), 0);
            cr_assert_neq(id, SW_ID_NONE);
            /* the init saw its cell: placed before init, as a single spawn */
            idle_f *f = sw_sched_frame(sw_world_sched(b), id);
            cr_assert(f->seen_x == (int32_t)(cells[i] % 6) && f->seen_y == (int32_t)(cells[i] / 6));
        }
        assert_same_worlds(a, b);
        assert_same_turns(a, b, 3 + N); /* the three survivors and the newcomers */
        sw_world_free(a);
        sw_world_free(b);
    }
}

Test(world_spawn, spawn_many_checks_every_cell_before_spawning) {
    sw_world *w = mk(4, 4, SW_TOPO_BOUNDED);
    idle_f img = {0};
    const uint32_t cells[3] = {0, 15, 16};
    cr_assert_eq(sw_world_spawn_many(w, &turner, &img, 0, cells, 3, 0), SW_E_INVALID);
    cr_assert(strstr(sw_world_errmsg(w), "outside") != NULL);
    cr_assert_eq(sw_sched_count(sw_world_sched(w)), 0, "none spawned");
    cr_assert_eq(sw_world_spawn_many(w, NULL, &img, 0, cells, 2, 0), SW_E_INVALID);
    cr_assert_eq(sw_world_spawn_many(w, &turner, NULL, 0, NULL, 0, 0), 0, "nothing asked");
    cr_assert_eq(sw_world_spawn_many(w, &turner, &img, 0, cells, 2, 5), 2, "with a delay");
    cr_assert_eq(sw_world_count_at(w, 3, 3), 1);
    sw_world_free(w);
}

typedef struct { int32_t i; char room[600]; } big_f; /* ~400 to a 256 KiB slab */
static const sw_kind big = {.name = "big", .frame_size = sizeof(big_f), .run = idle_run};

typedef int64_t (*spawn_many_fn)(sw_world *w, const sw_kind *kind, const void *images, size_t stride,
                                 const uint32_t *cells, uint64_t n, sw_tick delay);

/* Out of memory midway (the task table, or a frame slab after the first
 * runs) in `spawn` (sw_world_spawn_many or its final-image twin): the first
 * r agents are in the world, each on its cell with its image, as after r
 * single spawns, the rest nowhere, and the scheduler says why; the world
 * runs on, takes the rest, and frees cleanly (the sanitizer build checks
 * for leaks). Not covered: spawn_many's sw__world_reserve failing. The
 * world's per-slot arrays come from libc's realloc, not the scheduler's
 * allocator hook that fails here, so no N reaches that path (N = 1000 stays
 * within the world's first 1,024 slots; a larger N would only grow them). */
static void check_out_of_memory_midway(spawn_many_fn spawn) {
    enum { N = 1000 };
    static big_f img[N];
    static uint32_t cells[N];
    for (int i = 0; i < N; i++) {
        img[i].i = i;
        cells[i] = (uint32_t)(i * 13) % 64;
    }
    bool partial = false;
    for (long fail_at = 1; fail_at <= 8; fail_at++) {
        sw_world *w = mk(8, 8, SW_TOPO_BOUNDED);
        sw_test_failing a = {.fail_at = fail_at};
        w->s->d.alloc = sw_test_failing_alloc;
        w->s->d.alloc_ud = &a;
        int64_t r = spawn(w, &big, img, sizeof *img, cells, N, 0);
        cr_assert(r >= 0 && r <= N);
        if (r < N) {
            partial = partial || r > 0;
            cr_assert_neq(sw_sched_errmsg(w->s)[0], '\0', "failed silently at %ld", fail_at);
        }
        cr_assert_eq(sw_sched_count(w->s), (uint32_t)r);
        uint64_t placed = 0;
        for (int32_t y = 0; y < 8; y++)
            for (int32_t x = 0; x < 8; x++) placed += sw_world_count_at(w, x, y);
        cr_assert_eq(placed, (uint64_t)r, "every agent made is placed, no other");
        int64_t i = 0;
        for (sw_id id = sw_sched_next(w->s, SW_ID_NONE); id; id = sw_sched_next(w->s, id), i++) {
            cr_assert_eq(sw_handle_slot(id), (uint32_t)i);
            cr_assert_eq(((big_f *)sw_sched_frame(w->s, id))->i, i);
            int32_t x, y;
            cr_assert(sw_world_cell_of(w, id, &x, &y));
            cr_assert_eq((uint32_t)(y * 8 + x), cells[i]);
        }
        cr_assert_eq(i, r);
        w->s->d.alloc_ud = &(sw_test_failing){0}; /* no more failures */
        cr_assert_eq(sw_world_step(w), SW_OK);
        cr_assert_eq(spawn(w, &big, img, sizeof *img, cells, N - r, 0), N - r, "and it goes on");
        sw_world_free(w);
    }
    cr_assert(partial, "some failure came midway, after some agents were made");
}

Test(world_spawn, spawn_many_out_of_memory_midway_leaves_a_consistent_prefix) {
    check_out_of_memory_midway(sw_world_spawn_many);
}

Test(world_spawn, spawn_many_final_out_of_memory_midway_leaves_a_consistent_prefix) {
    check_out_of_memory_midway(sw_world_spawn_many_final);
}

static void count_spawns(sw_sched *s, sw_id id, void *ud) {
    (void)s;
    (void)id;
    ++*(int *)ud;
}

/* A batch does the world's spawn hook's work itself; a hook put in its
 * place (sw_sched_on_spawn) must still see every spawn, one by one. */
Test(world_spawn, spawn_many_calls_a_replaced_spawn_hook_for_each_agent) {
    sw_world *w = mk(4, 4, SW_TOPO_BOUNDED);
    int seen = 0;
    sw_sched_on_spawn(sw_world_sched(w), count_spawns, &seen);
    idle_f img = {0};
    const uint32_t cells[3] = {0, 5, 5};
    cr_assert_eq(sw_world_spawn_many(w, &turner, &img, 0, cells, 3, 0), 3);
    cr_assert_eq(seen, 3);
    cr_assert_eq(sw_sched_count(sw_world_sched(w)), 3);
    sw_world_free(w);
}

/* Final images: the same ids, frames, cells, lists and turns as single
 * spawns whose init left those frames, and no init run (turner's would
 * overwrite seen_x and seen_y with the cell). With and without headings in
 * the world (a birth then takes the placement's slower path, which clears
 * the slot's heading). */
Test(world_spawn, spawn_many_final_leaves_the_state_of_single_spawns_without_init) {
    enum { N = 12 };
    idle_f img[N], done[N];
    uint32_t cells[N];
    for (int i = 0; i < N; i++) {
        cells[i] = (uint32_t)(i * 7 % 30) % 17;
        img[i] = (idle_f){.x = i, .y = 100 + i, .seen_x = 7, .seen_y = 7};
        /* what turner's init leaves */
        done[i] = (idle_f){.x = i, .y = 100 + i, .seen_x = (int32_t)(cells[i] % 6), .seen_y = (int32_t)(cells[i] / 6)};
    }
    for (int headings = 0; headings < 2; headings++) {
        sw_world *a = mk_used(), *b = mk_used(), *c = mk_used();
        if (headings) {
            sw_id any = sw_sched_next(sw_world_sched(a), SW_ID_NONE);
            sw_world_space_set_heading(a, any, 1.0);
            sw_world_space_set_heading(b, any, 1.0);
            sw_world_space_set_heading(c, any, 1.0);
        }
        cr_assert_eq(sw_world_spawn_many_final(a, &turner, done, sizeof *done, cells, N, 0), N);
        for (int i = 0; i < N; i++)
            cr_assert_neq(sw_world_spawn_at(b, &turner, &img[i], (int32_t)(cells[i] % 6), (int32_t)(cells[i] / 6), 0),
                          SW_ID_NONE);
        assert_same_worlds(a, b);
        assert_same_turns(a, b, 3 + N); /* the three survivors and the newcomers */
        /* no init: the images as they were, one image for all (stride 0) */
        cr_assert_eq(sw_world_spawn_many_final(c, &turner, img, 0, cells, N, 0), N);
        sw_sched *sc = sw_world_sched(c);
        int newcomers = 0;
        for (sw_id id = sw_sched_next(sc, SW_ID_NONE); id; id = sw_sched_next(sc, id)) {
            const idle_f *f = sw_sched_frame(sc, id);
            if (f->seen_x == 7 && f->seen_y == 7 && f->x == 0 && f->y == 100) newcomers++;
        }
        cr_assert_eq(newcomers, N, "every image left as it was");
        sw_world_free(a);
        sw_world_free(b);
        sw_world_free(c);
    }
}

/* A hook in the world's place sees each final agent, placed as a single
 * spawn's (the world's placement pending for a hook that hands on), and no
 * init runs. */
static sw_spawn_fn worlds_hook;
static void *worlds_ud;
static int hooked;
static void handing_on(sw_sched *s, sw_id id, void *ud) {
    (void)ud;
    hooked++;
    worlds_hook(s, id, worlds_ud);
}

/* A 4 x 4 world whose spawn hook is handing_on, which counts each spawn and
 * hands it on to the world's own. */
static sw_world *mk_handing_on(void) {
    sw_world *w = mk(4, 4, SW_TOPO_BOUNDED);
    sw_sched *s = sw_world_sched(w);
    worlds_hook = s->on_spawn;
    worlds_ud = s->spawn_ud;
    hooked = 0;
    sw_sched_on_spawn(s, handing_on, NULL);
    return w;
}

Test(world_spawn, spawn_many_final_calls_a_replaced_spawn_hook_for_each_agent) {
    sw_world *w = mk_handing_on();
    sw_sched *s = sw_world_sched(w);
    idle_f img = {.seen_x = 9, .seen_y = 9};
    const uint32_t cells[3] = {0, 5, 5};
    cr_assert_eq(sw_world_spawn_many_final(w, &turner, &img, 0, cells, 3, 0), 3);
    cr_assert_eq(hooked, 3);
    cr_assert_eq(sw_world_count_at(w, 0, 0), 1);
    cr_assert_eq(sw_world_count_at(w, 1, 1), 2, "placed by the world's hook, handed on");
    for (sw_id id = sw_sched_next(s, SW_ID_NONE); id; id = sw_sched_next(s, id))
        cr_assert_eq(((idle_f *)sw_sched_frame(s, id))->seen_x, 9, "no init");
    sw_world_free(w);
}

/* The same with init: each agent's hook, then its init (a single spawn's
 * order), so that init finds the agent on the cell the world's hook, handed
 * on, placed it on. */
Test(world_spawn, spawn_many_with_a_replaced_hook_runs_init_after_the_hook) {
    sw_world *w = mk_handing_on();
    sw_sched *s = sw_world_sched(w);
    idle_f img = {.seen_x = 9, .seen_y = 9};
    const uint32_t cells[3] = {0, 5, 6};
    cr_assert_eq(sw_world_spawn_many(w, &turner, &img, 0, cells, 3, 0), 3);
    cr_assert_eq(hooked, 3);
    int i = 0;
    for (sw_id id = sw_sched_next(s, SW_ID_NONE); id; id = sw_sched_next(s, id), i++) {
        const idle_f *f = sw_sched_frame(s, id);
        cr_assert(f->seen_x == (int32_t)(cells[i] % 4) && f->seen_y == (int32_t)(cells[i] / 4),
                  "agent %d: init saw its cell (%d, %d)", i, f->seen_x, f->seen_y);
    }
    cr_assert_eq(i, 3);
    sw_world_free(w);
}

/* ---- a birth from a running agent (sw_spawn_at) ------------------------------------------- */

/* A breeder's births with sw_spawn_at: birth_n a turn of birth_kind at
 * (birth_x, birth_y), their ids in births[], and its turns counted. */
enum { BIRTHS_MAX = 2100 };
static sw_id births[BIRTHS_MAX];
static int nbirths, birth_n, breeder_turns;
static int32_t birth_x, birth_y;
static const sw_kind *birth_kind;

static sw_step breeder_run(sw_tasklet *t, void *frame) {
    (void)frame;
    SW_BEGIN(t, rest);
    for (;;) {
        breeder_turns++;
        for (int i = 0; i < birth_n && nbirths < BIRTHS_MAX; i++)
            births[nbirths++] = sw_spawn_at(t, birth_kind, NULL, birth_x, birth_y, 1);
        SW_SLEEP(t, rest, 1);
    }
    SW_END(t);
}
static const sw_kind breeder = {.name = "breeder", .frame_size = sizeof(idle_f), .run = breeder_run};

/* An idle agent whose init spawns another (from outside the run): the
 * table may grow, and move, under its parent's step. */
static void nester_init(sw_tasklet *t, void *frame) {
    idle_init(t, frame);
    cr_assert_neq(sw_world_spawn_at(sw_world_of(t), &idle, NULL, 0, 0, 5), SW_ID_NONE);
}
static const sw_kind nester = {.name = "nester", .frame_size = sizeof(idle_f), .init = nester_init,
                               .run = idle_run};

static void births_reset(const sw_kind *kind, int n, int32_t x, int32_t y) {
    nbirths = breeder_turns = 0;
    birth_kind = kind;
    birth_n = n;
    birth_x = x;
    birth_y = y;
}

/* With the world's own spawn hook, sw_spawn_at places the newborn itself
 * (no call through the hook): on its wrapped cell before its init runs,
 * behind the cell's residents, alive and of its kind; a cell off a bounded
 * grid spawns nothing. */
Test(world_spawn, a_birth_from_a_running_agent_is_placed_before_its_init_behind_the_residents) {
    sw_world *w = mk(5, 5, SW_TOPO_TORUS);
    sw_sched *s = sw_world_sched(w);
    sw_id resident = sw_world_spawn_at(w, &other, NULL, 2, 4, 0);
    cr_assert_neq(sw_world_spawn_at(w, &breeder, NULL, 0, 0, 0), SW_ID_NONE);
    births_reset(&idle, 1, 7, -1); /* wraps to (2, 4) */
    cr_assert_eq(sw_world_step(w), SW_OK);
    cr_assert_eq(breeder_turns, 1);
    cr_assert_eq(nbirths, 1);
    cr_assert(sw_sched_alive(s, births[0]));
    cr_assert_eq(sw_sched_kind_of(s, births[0]), &idle);
    const idle_f *f = sw_sched_frame(s, births[0]);
    cr_assert(f->seen_x == 2 && f->seen_y == 4, "init saw (%d, %d)", f->seen_x, f->seen_y);
    sw_id got[4];
    cr_assert_eq(sw_world_agents_at(w, 2, 4, NULL, got, 4), 2);
    cr_assert_eq(got[0], resident);
    cr_assert_eq(got[1], births[0], "the newborn joins the back of its cell's list");
    cr_assert_eq(sw_world_occupied_cells(w), 2);
    sw_world_free(w);

    w = mk(5, 5, SW_TOPO_BOUNDED);
    cr_assert_neq(sw_world_spawn_at(w, &breeder, NULL, 0, 0, 0), SW_ID_NONE);
    births_reset(&idle, 1, 5, 0);
    cr_assert_eq(sw_world_step(w), SW_OK);
    cr_assert_eq(births[0], SW_ID_NONE, "off a bounded grid: no birth");
    cr_assert_eq(sw_sched_count(sw_world_sched(w)), 1);
    sw_world_free(w);
}

/* A spawn hook put in the world's place (sw_sched_on_spawn) still sees every
 * birth from a running agent, and placing is then up to it (here: handed
 * on to the world's own). */
Test(world_spawn, a_birth_from_a_running_agent_calls_a_replaced_spawn_hook) {
    sw_world *w = mk_handing_on();
    cr_assert_neq(sw_world_spawn_at(w, &breeder, NULL, 0, 0, 0), SW_ID_NONE);
    hooked = 0;
    births_reset(&idle, 3, 1, 1);
    cr_assert_eq(sw_world_step(w), SW_OK);
    cr_assert_eq(nbirths, 3);
    cr_assert_eq(hooked, 3);
    cr_assert_eq(sw_world_count_at(w, 1, 1), 3);
    for (int i = 0; i < 3; i++) {
        const idle_f *f = sw_sched_frame(sw_world_sched(w), births[i]);
        cr_assert(f->seen_x == 1 && f->seen_y == 1, "birth %d: init saw its cell", i);
    }
    sw_world_free(w);
}

/* Births whose inits spawn grow the tasklet table past its first block
 * while their parent runs, between one birth's making, placing and init
 * and the next's: every newborn is alive on the cell it was put on, every
 * init's spawn on its own, and the parent goes on with its own record (it
 * sleeps, and takes its next turn). */
Test(world_spawn, births_whose_init_spawns_leave_the_parent_on_its_own_record) {
    sw_world *w = mk(5, 5, SW_TOPO_BOUNDED);
    sw_sched *s = sw_world_sched(w);
    cr_assert_neq(sw_world_spawn_at(w, &breeder, NULL, 0, 0, 0), SW_ID_NONE);
    births_reset(&nester, 1500, 3, 2);
    cr_assert_eq(sw_world_step(w), SW_OK);
    cr_assert_eq(nbirths, 1500);
    for (int i = 0; i < nbirths; i++) cr_assert(sw_sched_alive(s, births[i]), "birth %d", i);
    cr_assert_eq(sw_world_count_at(w, 3, 2), 1500);
    cr_assert_eq(sw_world_count_at(w, 0, 0), 1 + 1500, "the breeder and each init's spawn");
    birth_n = 0;
    cr_assert_eq(sw_world_step(w), SW_OK);
    cr_assert_eq(breeder_turns, 2, "the parent slept on its own record and woke");
    cr_assert_eq(sw_sched_count(s), 1 + 2 * 1500);
    sw_world_free(w);
}
