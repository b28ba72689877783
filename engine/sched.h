/* sched.h - the tick scheduler: owns tasklets, channels and timers.
 *
 * A tick (sw_sched_step):
 *   1. the timers due at the new tick fire, in the order they were armed;
 *   2. tick-start hooks run (the world delivers scheduled events here);
 *   3. the tasklets woken so far, with those spawned between ticks, are put
 *      in activation order (FIFO; or by kind rank, and shuffled with a fresh
 *      seeded order each tick for kinds or scenarios that ask for it);
 *   4. the run queue runs until every tasklet has blocked, slept or exited;
 *      tasklets woken during the tick join the back of the queue;
 *   5. tick-end hooks run (world layers, statistics, snapshots, the viewer);
 *   6. if nothing can ever run again while tasklets are still blocked on
 *      rendezvous or buffered channels, the step reports SW_E_DEADLOCK.
 *
 * Everything is deterministic: no order depends on an address or a hash. The
 * same seed gives the same run. */
#ifndef SW_SCHED_H
#define SW_SCHED_H

#include "base.h"
#include "tasklet.h"
#include "channel.h"

/* Memory hook, realloc-like: size 0 frees and returns NULL. Lets tests fail
 * the n-th allocation. */
typedef void *(*sw_alloc_fn)(void *ud, void *ptr, size_t size);

typedef struct sw_sched_desc {
    uint64_t seed;
    uint32_t watchdog; /* resumes + operations allowed without blocking or
                          sleeping, within one tick (0: 1,000,000) */
    bool random_order; /* shuffle every kind's wake-ups each tick */
    void *context;     /* returned by sw_context() to agents */
    sw_alloc_fn alloc; /* NULL: the C library */
    void *alloc_ud;
} sw_sched_desc;

typedef void (*sw_hook_fn)(sw_sched *s, void *ud);

/* Create a scheduler at tick 0. NULL when out of memory. */
sw_sched *sw_sched_new(const sw_sched_desc *desc);
/* Free everything: tasklets, frames, channels. NULL does nothing. */
void sw_sched_free(sw_sched *s);
/* The message of the last failure, or "" . */
const char *sw_sched_errmsg(const sw_sched *s);
/* After SW_E_DEADLOCK or SW_E_WATCHDOG: the report, one line per tasklet
 * involved (kind, id, resume point, what it waits on). */
const char *sw_sched_report(const sw_sched *s);

uint64_t sw_sched_seed(const sw_sched *s);
sw_tick sw_sched_now(const sw_sched *s);
void *sw_sched_context(const sw_sched *s);
void sw_sched_set_context(sw_sched *s, void *context);

/* ---- the registry of kinds and resumable functions, by name ------------- */

/* Register a kind (and its root function under the kind's name). Returns its
 * index (>= 0) or a negative status: a different kind or function already has
 * that name, or its run function does not begin with SW_BEGIN. Registering
 * the same descriptor again returns the same index. */
int sw_sched_add_kind(sw_sched *s, const sw_kind *kind);
/* Register a resumable function that tasklets SW_CALL. Index or status. */
int sw_sched_add_func(sw_sched *s, const sw_func *fn);
const sw_kind *sw_sched_find_kind(const sw_sched *s, const char *name);
const sw_func *sw_sched_find_func(const sw_sched *s, const char *name);
int sw_sched_kind_index(const sw_sched *s, const sw_kind *kind);
int sw_sched_kind_count(const sw_sched *s);
const sw_kind *sw_sched_kind_at(const sw_sched *s, int index);
int sw_sched_func_count(const sw_sched *s);
/* The function at `index`: kinds' root functions come back as an sw_func
 * made from the kind. */
const sw_func *sw_sched_func_at(const sw_sched *s, int index);
/* The resume-point names of registered function `index` ("start" first). */
const char *const *sw_sched_func_points(const sw_sched *s, int index, int *count);

/* ---- activation order ---------------------------------------------------- */

/* Kinds with a lower rank run first in each tick (default rank 0 for all:
 * pure FIFO). */
int sw_sched_set_kind_rank(sw_sched *s, const sw_kind *kind, int rank);
/* Shuffle this kind's wake-ups in a fresh seeded order each tick. */
int sw_sched_set_kind_random(sw_sched *s, const sw_kind *kind, bool random);

/* ---- tasklets from outside ------------------------------------------------ */

/* As sw_spawn, from outside any tasklet (a loader, a test). */
sw_id sw_sched_spawn(sw_sched *s, const sw_kind *kind, const void *params, sw_tick delay);
/* As sw_kill, from outside any tasklet. */
int sw_sched_kill(sw_sched *s, sw_id id);
bool sw_sched_alive(const sw_sched *s, sw_id id);
/* Live tasklets, in all or of one kind. */
uint32_t sw_sched_count(const sw_sched *s);
uint32_t sw_sched_count_kind(const sw_sched *s, int kind_index);
/* Iterate live tasklets by slot: pass SW_ID_NONE first; returns SW_ID_NONE
 * after the last. */
sw_id sw_sched_next(const sw_sched *s, sw_id after);
/* The root frame (agent fields) of a live tasklet, or NULL. */
void *sw_sched_frame(const sw_sched *s, sw_id id);
/* The same, its derived fields first brought up to date by its kind's
 * `refresh` hook (see sw_kind), as statistics read them: what an inspector
 * shows of an agent that sleeps while its surroundings change. */
void *sw_sched_frame_fresh(sw_sched *s, sw_id id);
const sw_kind *sw_sched_kind_of(const sw_sched *s, sw_id id);
/* The handle of the live tasklet in `slot`, or SW_ID_NONE. */
sw_id sw_sched_id_at(const sw_sched *s, uint32_t slot);
/* One past the highest slot ever used (for arrays indexed by slot). */
uint32_t sw_sched_slot_limit(const sw_sched *s);

typedef enum {
    SW_TASK_FREE = 0,
    SW_TASK_RUNNABLE, /* in the run queue or about to run */
    SW_TASK_RUNNING,
    SW_TASK_SLEEPING, /* waiting for a timer */
    SW_TASK_RECV,     /* blocked receiving on a channel */
    SW_TASK_SEND,     /* blocked sending on a channel */
    SW_TASK_ZOMBIE,   /* killed while queued to run; freed when dequeued */
} sw_task_state;

const char *sw_task_state_name(sw_task_state st);

/* What a tasklet is doing, for inspectors and reports. */
typedef struct sw_task_info {
    sw_id id;
    const sw_kind *kind;
    sw_task_state state;
    sw_tick wake;       /* SLEEPING: the tick it wakes */
    sw_chan chan;       /* RECV/SEND: the channel */
    int depth;          /* frames in its chain (1 = only the root) */
    const char *func;   /* innermost function's name */
    const char *point;  /* resume point in that function */
    uint64_t rng_counter;
} sw_task_info;

int sw_sched_inspect(const sw_sched *s, sw_id id, sw_task_info *out);

/* ---- running ------------------------------------------------------------- */

/* Run one tick. SW_OK, SW_E_DEADLOCK or SW_E_WATCHDOG (with a report), or
 * SW_E_NOMEM. After an error the scheduler stays consistent: it can be
 * inspected, snapshotted or freed. */
int sw_sched_step(sw_sched *s);
/* Run `ticks` ticks, stopping at the first error. */
int sw_sched_run(sw_sched *s, sw_tick ticks);

/* Hooks, called in the order added. At most 16 of each. */
int sw_sched_on_tick_start(sw_sched *s, sw_hook_fn fn, void *ud);
int sw_sched_on_tick_end(sw_sched *s, sw_hook_fn fn, void *ud);

/* Called whenever a tasklet dies (exits, is killed or fails), after it has
 * left every queue and before its slot can be reused: the world uses it to
 * keep its spatial index exact. At most one. */
typedef void (*sw_death_fn)(sw_sched *s, sw_id id, void *ud);
void sw_sched_on_death(sw_sched *s, sw_death_fn fn, void *ud);

/* Called for each new tasklet after its frame is set up and before its
 * kind's init runs (the world places it here, so init sees its position).
 * At most one. */
typedef void (*sw_spawn_fn)(sw_sched *s, sw_id id, void *ud);
void sw_sched_on_spawn(sw_sched *s, sw_spawn_fn fn, void *ud);

/* Outside wake-ups still to come (the world's scheduled events): while the
 * count is above zero, blocked tasklets are not a deadlock. */
void sw_sched_hold(sw_sched *s, int delta);

/* Stats of the last step: tasklets resumed. */
uint64_t sw_sched_resumes(const sw_sched *s);
/* Frames in use by live tasklets (one per tasklet plus one per nested call
 * in progress): a cheap check that killing reclaims every frame. */
uint64_t sw_sched_frames(const sw_sched *s);

/* ---- tick-level random numbers ---------------------------------------------
 * For world code outside any tasklet (setup, layers): keyed by (seed, stream,
 * counter), with the caller keeping the counter. */
uint64_t sw_sched_rand(const sw_sched *s, uint64_t stream, uint64_t counter);

#endif
