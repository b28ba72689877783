/* tasklet.h - stackless tasklets: resumable functions with heap frames.
 *
 * A tasklet is a resumable C function plus a chain of heap frames that hold
 * everything that must survive a suspension. Nothing lives on the C stack
 * across a suspension point: a suspension stores the name of the point to
 * resume at in the frame and returns to the scheduler, which later calls the
 * function again; SW_BEGIN jumps back to that point (the switch technique of
 * protothreads, with named points instead of line numbers).
 *
 *     typedef struct { int32_t meals; sw_msg news; } cat;
 *
 *     static sw_step cat_run(sw_tasklet *t, void *frame) {
 *         cat *f = frame;
 *         SW_BEGIN(t, nap, listen);
 *         for (;;) {
 *             SW_SLEEP(t, nap, 10);                        // resume point "nap"
 *             SW_RECV(t, listen, sw_chan_named(t, "bowl"), &f->news);
 *             if (sw_status(t) == SW_E_CLOSED) break;      // nobody will feed us
 *             f->meals++;
 *         }
 *         SW_END(t);
 *     }
 *
 * Rules: SW_BEGIN is the first statement of the function; every value that
 * must survive a suspension is a field of the frame (locals do not survive);
 * the pointers passed to SW_RECV, SW_SEND and SW_CALL point into the frame;
 * no suspension inside a `switch` of your own (its resume label would belong
 * to that switch: use if/else there).
 * Resume-point names are local to their function and stable across edits, so a
 * pickled frame (function name, resume-point name, fields by name) survives
 * changes to the code around it. */
#ifndef SW_TASKLET_H
#define SW_TASKLET_H

#include "base.h"

typedef struct sw_sched sw_sched;

/* The running tasklet's view of itself, handed to its resumable function.
 * Valid only during that call. */
typedef struct sw_tasklet sw_tasklet;

/* What a resumable function returns to the scheduler. Agent code never names
 * these: the SW_ macros return them. */
typedef enum {
    SW_STEP_CONTINUE = 0, /* the operation completed; carry on inline */
    SW_STEP_WAIT,         /* suspended: asleep, blocked, or yielded */
    SW_STEP_SWITCH,       /* suspended so that the tasklet it woke runs first */
    SW_STEP_CALL,         /* pushed a callee frame: run it now */
    SW_STEP_RETURN,       /* popped its frame: resume the caller */
    SW_STEP_EXIT,         /* the tasklet is finished */
    SW_STEP_FAIL,         /* the scheduler recorded an error (watchdog, misuse); stays last:
                             the scheduler's one private step follows it (sched_int.h) */
} sw_step;

typedef sw_step (*sw_run_fn)(sw_tasklet *t, void *frame);

/* A resumable function that tasklets can call (a nested frame). */
typedef struct sw_func {
    const char *name;        /* stable: snapshots refer to it */
    sw_run_fn run;
    uint32_t frame_size;     /* bytes of its frame */
    const sw_field *fields;  /* its frame's schema, SW_FIELD_END-terminated */
} sw_func;

/* Where the scenario loader puts new agents of a kind (a scenario can
 * override it): nowhere, a uniformly random cell (several per cell allowed),
 * distinct random cells (at most one per cell), one on every cell with a
 * probability (`density`), or a uniformly random point of continuous space. */
typedef enum {
    SW_PLACE_NONE = 0,
    SW_PLACE_CELL,
    SW_PLACE_CELL_UNIQUE,
    SW_PLACE_EVERY_CELL,
    SW_PLACE_POINT,
} sw_place;

/* An agent kind: the root function of its tasklets plus their frame schema.
 * `init`, if set, runs at spawn after the parameters are applied (it may draw
 * random numbers and talk to the world, but not suspend). */
typedef struct sw_kind {
    const char *name;
    uint32_t frame_size;
    const sw_field *fields;
    void (*init)(sw_tasklet *t, void *frame);
    sw_run_fn run;
    const char *doc;        /* one line for `swarmlet kinds` and the docs */
    uint32_t color;         /* 0xRRGGBB for the viewer (0: a default) */
    sw_place place;         /* default placement by the scenario loader */
    /* Optional: bring fields that derive from the world up to date before
     * the frame is read from outside (statistics). A kind whose agents sleep
     * while their surroundings change sets it, so that what is read means
     * "as of now" without the agents waking up to recompute it. It must not
     * change anything but derived fields of this frame. */
    void (*refresh)(sw_sched *s, sw_id id, void *frame);
} sw_kind;

/* ---- inside a resumable function --------------------------------------- */

/* This tasklet's handle. */
sw_id sw_self(const sw_tasklet *t);
/* The current tick. */
sw_tick sw_now(const sw_tasklet *t);
/* The scheduler running this tasklet. */
sw_sched *sw_sched_of(const sw_tasklet *t);
/* The kind of this tasklet. */
const sw_kind *sw_kind_of(const sw_tasklet *t);
/* The result of the last channel operation: SW_OK, SW_E_CLOSED (the channel
 * was closed: a send failed, or a receive found it closed and drained), or
 * SW_E_STALE (the channel had been freed). */
int sw_status(const sw_tasklet *t);
/* The user context given to the scheduler (the world, in a simulation). */
void *sw_context(const sw_tasklet *t);
/* The root frame (agent fields) of this tasklet, whatever is nested above it. */
void *sw_root_frame(const sw_tasklet *t);

/* Per-agent random numbers, keyed by (seed, agent id, per-agent counter). */
uint64_t sw_rand_u64(sw_tasklet *t);
/* Uniform in [0, 1). */
double sw_rand_unit(sw_tasklet *t);
/* Uniform integer in [0, n) without bias; 0 when n is 0. */
uint64_t sw_rand_below(sw_tasklet *t, uint64_t n);

/* Spawn a tasklet of `kind` (registered or not). `params`, if not NULL, is a
 * frame image copied in before init; else fields take their defaults. With
 * `delay` 0 it first runs in the current tick (at the back of the run queue)
 * or, between ticks, at the start of the next one; else `delay` ticks later.
 * Returns its handle, or SW_ID_NONE (the scheduler's errmsg says why). */
sw_id sw_spawn(sw_tasklet *t, const sw_kind *kind, const void *params, sw_tick delay);
/* Kill another tasklet (or this one: then return SW_EXIT next). A tasklet
 * blocked on a channel or asleep leaves that queue or timer at once and its
 * frames are freed. SW_E_STALE if `id` is dead or was never alive. */
int sw_kill(sw_tasklet *t, sw_id id);

/* ---- suspension points -------------------------------------------------- */

/* Declare the resume points of this function and jump to the current one.
 * (Asked for its points, a function is handed a view whose resume point is
 * none of them: the `default` of SW_END answers, so a resume tests nothing
 * more than its point.) */
#define SW_BEGIN(t, ...)                                                        \
    enum { sw_pc__start = 0, SW__EACH(SW__PC_ENUM, __VA_ARGS__) sw_pc__count }; \
    static const char *const sw__pc_names[] = {"start", SW__EACH(SW__PC_STR, __VA_ARGS__) NULL}; \
    switch (sw__pc(t)) {                                                       \
    case sw_pc__start:

/* Back of this tick's run queue. */
#define SW_YIELD(t, point) SW__SUSPEND_ALWAYS(t, point, sw__yield(t))
/* Sleep `n` ticks (n >= 1): resumes exactly at tick now+n. n = 0 yields. */
#define SW_SLEEP(t, point, n) SW__SUSPEND_ALWAYS(t, point, sw__sleep(t, (n)))
/* Receive into *dst (in the frame); blocks until a sender comes. Afterwards
 * sw_status(t) is SW_OK, or SW_E_CLOSED when the channel was closed (or
 * SW_E_STALE when it was freed). `dst` NULL receives and drops the message
 * (a wait for the event alone): the status is the same, and nothing that
 * wakes the tasklet touches its frame, which makes a wake-up on a busy event
 * channel one cache miss cheaper. */
#define SW_RECV(t, point, chan, dst) SW__SUSPEND_AT(point, sw__recv_at(t, sw_pc_##point, (chan), (dst)))
/* SW_RECV(t, point, chan, NULL) made for an event channel: wait for the
 * next event there, dropping its message, in fewer steps (any other channel
 * takes SW_RECV's path, to the same effect). */
#define SW_WAIT(t, point, chan) SW__SUSPEND_AT(point, sw__wait_at(t, sw_pc_##point, (chan)))
/* Send *msg (in the frame); blocks while the channel cannot take it. */
#define SW_SEND(t, point, chan, msg) SW__SUSPEND_AT(point, sw__send_at(t, sw_pc_##point, (chan), (msg)))
/* Call resumable function `fn` with a frame initialised from `args` (a
 * pointer to an image of the callee's frame, or NULL for zeros); its return
 * value lands in *result (in the frame; NULL to drop it). */
#define SW_CALL(t, point, fn, args, result) SW__SUSPEND_ALWAYS(t, point, sw__call(t, (fn), (args), (result)))
/* Return `value` (an sw_value) from a nested call. */
#define SW_RETURN(t, value) return sw__return(t, (value))
/* End this tasklet. */
#define SW_EXIT(t) return sw__exit(t)
/* Close SW_BEGIN. Falling off the end returns zero from a nested call, or
 * exits the tasklet from its root function. */
#define SW_END(t)                                         \
    return sw__finish(t);                                 \
    default:                                              \
        return sw__bad_pc(t, sw__pc_names, sw_pc__count); \
    }                                                     \
    return SW_STEP_FAIL

/* ---- machinery behind the macros (not API) ------------------------------ */

#if defined(__GNUC__)
#define SW__FALLTHROUGH __attribute__((fallthrough))
#else
#define SW__FALLTHROUGH ((void)0)
#endif

/* Suspend with operation `op`, which records the resume point itself (it
 * has the frame at hand: one load and store fewer per operation, which counts
 * on a channel handoff's hot path). */
#define SW__SUSPEND_AT(point, op)                                   \
    do {                                                            \
        {                                                           \
            sw_step sw__s = (op);                                   \
            if (sw__s != SW_STEP_CONTINUE) return sw__s;            \
        }                                                           \
        SW__FALLTHROUGH;                                            \
    case sw_pc_##point:;                                            \
    } while (0)

/* Suspend with an operation that always suspends (sw__yield, sw__sleep and
 * sw__call never return SW_STEP_CONTINUE: they wait, call, exit or fail),
 * the point recorded first. Its result is returned as it is, by a tail call:
 * a resumable function whose other calls are all of this kind (with
 * sw__bad_pc out of line, below) needs no stack frame and
 * saves no register. An agent that sleeps every tick saves 3 pushes and 3
 * pops per resume (dense ticks of `bench micro`: 10 % fewer instructions). */
#define SW__SUSPEND_ALWAYS(t, point, op)                            \
    do {                                                            \
        sw__set_pc(t, sw_pc_##point);                               \
        return (op);                                                \
    case sw_pc_##point:;                                            \
    } while (0)

#define SW__PC_ENUM(p) sw_pc_##p,
#define SW__PC_STR(p) #p,
#define SW__EACH(m, ...) SW__EACH_N(__VA_ARGS__, SW__E24, SW__E23, SW__E22, SW__E21, SW__E20, \
    SW__E19, SW__E18, SW__E17, SW__E16, SW__E15, SW__E14, SW__E13, SW__E12, SW__E11, SW__E10, \
    SW__E9, SW__E8, SW__E7, SW__E6, SW__E5, SW__E4, SW__E3, SW__E2, SW__E1)(m, __VA_ARGS__)
#define SW__EACH_N(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, _17, \
    _18, _19, _20, _21, _22, _23, _24, N, ...) N
#define SW__E1(m, a) m(a)
#define SW__E2(m, a, ...) m(a) SW__E1(m, __VA_ARGS__)
#define SW__E3(m, a, ...) m(a) SW__E2(m, __VA_ARGS__)
#define SW__E4(m, a, ...) m(a) SW__E3(m, __VA_ARGS__)
#define SW__E5(m, a, ...) m(a) SW__E4(m, __VA_ARGS__)
#define SW__E6(m, a, ...) m(a) SW__E5(m, __VA_ARGS__)
#define SW__E7(m, a, ...) m(a) SW__E6(m, __VA_ARGS__)
#define SW__E8(m, a, ...) m(a) SW__E7(m, __VA_ARGS__)
#define SW__E9(m, a, ...) m(a) SW__E8(m, __VA_ARGS__)
#define SW__E10(m, a, ...) m(a) SW__E9(m, __VA_ARGS__)
#define SW__E11(m, a, ...) m(a) SW__E10(m, __VA_ARGS__)
#define SW__E12(m, a, ...) m(a) SW__E11(m, __VA_ARGS__)
#define SW__E13(m, a, ...) m(a) SW__E12(m, __VA_ARGS__)
#define SW__E14(m, a, ...) m(a) SW__E13(m, __VA_ARGS__)
#define SW__E15(m, a, ...) m(a) SW__E14(m, __VA_ARGS__)
#define SW__E16(m, a, ...) m(a) SW__E15(m, __VA_ARGS__)
#define SW__E17(m, a, ...) m(a) SW__E16(m, __VA_ARGS__)
#define SW__E18(m, a, ...) m(a) SW__E17(m, __VA_ARGS__)
#define SW__E19(m, a, ...) m(a) SW__E18(m, __VA_ARGS__)
#define SW__E20(m, a, ...) m(a) SW__E19(m, __VA_ARGS__)
#define SW__E21(m, a, ...) m(a) SW__E20(m, __VA_ARGS__)
#define SW__E22(m, a, ...) m(a) SW__E21(m, __VA_ARGS__)
#define SW__E23(m, a, ...) m(a) SW__E22(m, __VA_ARGS__)
#define SW__E24(m, a, ...) m(a) SW__E23(m, __VA_ARGS__)

/* The frame header, just before each frame's fields. */
typedef struct sw__frame {
    struct sw__frame *parent; /* the caller's frame; NULL for the root */
    uint16_t fn;              /* index of the function in the registry */
    uint16_t pc;              /* resume point index (0 = start) */
    uint32_t ref;             /* frame offset of the pending SW_RECV/SW_SEND/SW_CALL target */
} sw__frame;

struct sw_tasklet {
    sw_sched *sched;
    struct sw__task *task; /* the scheduler's record of the running tasklet */
    uint32_t slot;
    uint32_t keyed;        /* rng_key is this tasklet's (cleared whenever the view changes hands) */
    void *context;
    uint64_t rng_key;      /* its random-number key, worked out at its first draw */
};

struct sw__task {
    sw__frame *top;   /* innermost frame */
    uint64_t rng;     /* per-agent random-number counter */
    uint64_t wait;    /* wake tick when asleep, channel handle when blocked */
    uint32_t gen;     /* generation of this slot's current occupant */
    uint32_t next;    /* run queue / channel wait queue / free list link */
    uint32_t pos;     /* previous in a channel queue, or place in a timer bucket */
    uint32_t spin;    /* resumes and operations since it last blocked */
    uint16_t kind;    /* index of the kind in the scheduler's kind table */
    uint8_t state;    /* enum sw__state */
    int8_t status;    /* result of the last channel operation */
    uint8_t discard;  /* blocked in a receive that drops its message (SW_RECV with
                         dst NULL): wakes leave the frame alone. Set only while so
                         blocked; every end of the wait clears it (channel.c) */
    uint8_t spare_[3];
};

static inline void sw__set_pc(sw_tasklet *t, int pc) { t->task->top->pc = (uint16_t)pc; }
static inline int sw__pc(const sw_tasklet *t) { return t->task->top->pc; }
/* Whether t is the view that sw_run_points hands a function to ask for its
 * resume points (kinds.c). */
bool sw__describing(const sw_tasklet *t);
sw_step sw__yield(sw_tasklet *t);
sw_step sw__sleep(sw_tasklet *t, sw_tick n);
/* SW_RECV and SW_SEND at resume point `pc`, which they record first. */
sw_step sw__recv_at(sw_tasklet *t, int pc, sw_chan ch, sw_msg *dst);
sw_step sw__send_at(sw_tasklet *t, int pc, sw_chan ch, const sw_msg *msg);
sw_step sw__wait_at(sw_tasklet *t, int pc, sw_chan ch);
sw_step sw__call(sw_tasklet *t, const sw_func *fn, const void *args, sw_value *result);
sw_step sw__return(sw_tasklet *t, sw_value v);
sw_step sw__exit(sw_tasklet *t);
sw_step sw__finish(sw_tasklet *t);
/* A resume point that SW_BEGIN does not know: SW_STEP_FAIL with an error,
 * or, for the view of sw_run_points, the function's resume-point names.
 * Cold and out of line, so that every resumable function's fast path saves no
 * register for it (it is reached by a tail call). */
__attribute__((cold, noinline)) sw_step sw__bad_pc(sw_tasklet *t, const char *const *names, int count);

/* The resume-point names of a resumable function (index 0 is "start"), found
 * by asking the function itself; NULL if it does not begin with SW_BEGIN. */
const char *const *sw_run_points(sw_run_fn run, int *count);

#endif
