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

#include "test_world.h"

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
