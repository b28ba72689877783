/* probe_kinds.c - three tiny agent kinds for trying the engine out.
 *
 * They belong to the command line, not to any model: they let `swarmlet run`
 * exercise every part of a scenario (random walks and deaths, scheduled
 * events, a deadlock report) whatever models are built in, and they are what
 * the end-to-end tests run. Their names start with "probe_" so they never
 * collide with a model's kinds.
 *
 * - probe_walker: a random walk on the grid (one Moore step per tick); dies
 *   with probability p_die and splits with probability p_split each tick.
 * - probe_listener: sleeps on the named channel "probe" (declare it in the
 *   scenario) and counts the messages it hears, adding their tag.
 * - probe_waiter: waits for a message in its own mailbox, which nobody
 *   sends: a scenario with one deadlocks, which shows the deadlock report.
 * - probe_spinner: yields forever without ever sleeping, so its tick never
 *   ends: the watchdog stops it, which shows the watchdog report. */
#include "probe_kinds.h"

typedef struct {
    double p_die, p_split;
    int32_t x, y, steps;
} walker;

static sw_step walker_run(sw_tasklet *t, void *frame) {
    walker *f = frame;
    SW_BEGIN(t, walk);
    for (;;) {
        SW_SLEEP(t, walk, 1);
        {
            sw_world *w = sw_world_of(t);
            int32_t xy[16];
            uint32_t n = sw_world_cells_around(w, f->x, f->y, SW_MOORE, 1, xy, 8);
            if (n > 8) n = 8;
            if (n) {
                uint32_t k = (uint32_t)sw_rand_below(t, n);
                f->x = xy[2 * k];
                f->y = xy[2 * k + 1];
                sw_world_place(w, sw_self(t), f->x, f->y);
            }
            f->steps++;
            if (sw_rand_unit(t) < f->p_die) SW_EXIT(t);
            if (sw_rand_unit(t) < f->p_split) {
                walker child = {.p_die = f->p_die, .p_split = f->p_split};
                sw_spawn_at(t, sw_kind_of(t), &child, f->x, f->y, 1);
            }
        }
    }
    SW_END(t);
}

static void walker_init(sw_tasklet *t, void *frame) {
    walker *f = frame;
    sw_world_cell_of(sw_world_of(t), sw_self(t), &f->x, &f->y);
}

static const sw_field walker_fields[] = {
    SW_PARAM(walker, p_die, SW_T_F64, 0.0, "chance of dying each tick"),
    SW_PARAM(walker, p_split, SW_T_F64, 0.0, "chance of splitting in two each tick"),
    SW_FIELD(walker, x, SW_T_I32), SW_FIELD(walker, y, SW_T_I32), SW_FIELD(walker, steps, SW_T_I32),
    SW_FIELD_END};

const sw_kind sw_probe_walker = {.name = "probe_walker", .frame_size = sizeof(walker),
                                 .fields = walker_fields, .init = walker_init, .run = walker_run,
                                 .doc = "random walk on the grid; may die or split each tick",
                                 .color = 0x4e79a7, .place = SW_PLACE_CELL};

typedef struct {
    int32_t heard;
    int64_t tags;
    sw_msg msg;
} listener;

static sw_step listener_run(sw_tasklet *t, void *frame) {
    listener *f = frame;
    SW_BEGIN(t, listen);
    for (;;) {
        SW_RECV(t, listen, sw_chan_named(t, "probe"), &f->msg);
        if (sw_status(t) != SW_OK) break;
        f->heard++;
        f->tags += f->msg.tag;
    }
    SW_END(t);
}

static const sw_field listener_fields[] = {
    SW_FIELD(listener, heard, SW_T_I32), SW_FIELD(listener, tags, SW_T_I64),
    SW_FIELD(listener, msg, SW_T_MSG), SW_FIELD_END};

const sw_kind sw_probe_listener = {.name = "probe_listener", .frame_size = sizeof(listener),
                                   .fields = listener_fields, .run = listener_run,
                                   .doc = "counts the messages on the named channel \"probe\"",
                                   .color = 0xf28e2b, .place = SW_PLACE_NONE};

typedef struct {
    sw_msg msg;
} waiter;

static sw_step waiter_run(sw_tasklet *t, void *frame) {
    waiter *f = frame;
    SW_BEGIN(t, wait);
    SW_RECV(t, wait, sw_mailbox(t, sw_self(t)), &f->msg);
    SW_END(t);
}

static const sw_field waiter_fields[] = {SW_FIELD(waiter, msg, SW_T_MSG), SW_FIELD_END};

const sw_kind sw_probe_waiter = {.name = "probe_waiter", .frame_size = sizeof(waiter),
                                 .fields = waiter_fields, .run = waiter_run,
                                 .doc = "waits for a letter nobody sends: shows the deadlock report",
                                 .color = 0xe15759, .place = SW_PLACE_NONE};

typedef struct {
    int64_t spins;
} spinner;

static sw_step spinner_run(sw_tasklet *t, void *frame) {
    spinner *f = frame;
    SW_BEGIN(t, spin);
    for (;;) {
        f->spins++;
        SW_YIELD(t, spin);
    }
    SW_END(t);
}

static const sw_field spinner_fields[] = {SW_FIELD(spinner, spins, SW_T_I64), SW_FIELD_END};

const sw_kind sw_probe_spinner = {.name = "probe_spinner", .frame_size = sizeof(spinner),
                                  .fields = spinner_fields, .run = spinner_run,
                                  .doc = "yields forever within one tick: shows the watchdog report",
                                  .color = 0x76b7b2, .place = SW_PLACE_NONE};

const sw_kind *const sw_probe_kinds[] = {&sw_probe_walker, &sw_probe_listener, &sw_probe_waiter,
                                         &sw_probe_spinner, NULL};

const sw_kind *const *sw_cli_kinds(void) {
    static const sw_kind *all[256];
    if (!all[0]) {
        size_t n = 0;
        for (size_t i = 0; sw_agents_kinds[i] && n < 250; i++) all[n++] = sw_agents_kinds[i];
        for (size_t i = 0; sw_probe_kinds[i]; i++) all[n++] = sw_probe_kinds[i];
        all[n] = NULL;
    }
    return all;
}
