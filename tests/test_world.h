/* test_world.h - the agent kinds and the world maker that the world's tests
 * (tests/test_world*.c, one per file of engine/world*.c) share. Each test
 * file uses some of them: the unused attribute spares the others a warning. */
#ifndef SW_TEST_WORLD_H
#define SW_TEST_WORLD_H

#include <criterion/criterion.h>

#include "swarmlet.h"

#define SW_TEST_SHARED __attribute__((unused))

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

SW_TEST_SHARED static const sw_field idle_fields[] = {
    SW_FIELD(idle_f, x, SW_T_I32), SW_FIELD(idle_f, y, SW_T_I32),
    SW_FIELD(idle_f, seen_x, SW_T_I32), SW_FIELD(idle_f, seen_y, SW_T_I32), SW_FIELD_END};
/* An agent that sleeps, noting where its init found it. */
SW_TEST_SHARED static const sw_kind idle = {.name = "idle", .frame_size = sizeof(idle_f),
                                            .fields = idle_fields, .init = idle_init,
                                            .run = idle_run};
/* The same without init: a second kind. */
SW_TEST_SHARED static const sw_kind other = {.name = "other", .frame_size = sizeof(idle_f),
                                             .fields = idle_fields, .run = idle_run};

typedef struct {
    double vx, vy; /* a pair for sw_world_space_near_sums to add up */
} mover_f;

SW_TEST_SHARED static const sw_field mover_fields[] = {
    SW_FIELD(mover_f, vx, SW_T_F64), SW_FIELD(mover_f, vy, SW_T_F64), SW_FIELD_END};
/* An agent that sleeps, with a pair of doubles in its frame. */
SW_TEST_SHARED static const sw_kind mover = {.name = "mover", .frame_size = sizeof(mover_f),
                                             .fields = mover_fields, .run = idle_run};

SW_TEST_SHARED static sw_world *mk(uint32_t w, uint32_t h, sw_topology topo) {
    sw_world *wd = sw_world_new(&(sw_world_desc){.width = w, .height = h, .topology = topo, .seed = 7});
    cr_assert_not_null(wd);
    return wd;
}

#endif
