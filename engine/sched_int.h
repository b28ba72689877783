/* sched_int.h - the scheduler's private structures, shared by its files
 * (sched.c, timers.c, activation.c, tasklet.c, kinds.c), channel.c, frame.c and
 * the pickler. Not API: agents never include it. The declarations below are
 * grouped by the file that defines them; the hot helpers at the end are
 * static inline, so that no split between files costs a call on a hot path. */
#ifndef SW_SCHED_INT_H
#define SW_SCHED_INT_H

#include "sched.h"

#define SW__NIL UINT32_MAX        /* end of an intrusive list */
#define SW__TOMB UINT32_MAX       /* a cancelled timer entry */
#define SW__WHEEL_BITS 8
#define SW__WHEEL (1u << SW__WHEEL_BITS)
#define SW__WHEEL_MASK (SW__WHEEL - 1)
#define SW__POS_OVF 0x80000000u   /* pos flag: the timer is in the overflow list */
#define SW__NO_REF UINT32_MAX     /* frame ref: no pending target */
#define SW__MAX_HOOKS 16
#define SW__POOL_CLASSES 64       /* frame size classes of 16 bytes: up to 1 KiB */
#ifndef SW__PREFETCH_TASK         /* batch entries ahead to prefetch a tasklet, */
#define SW__PREFETCH_TASK 16
#endif
#ifndef SW__PREFETCH_FRAME        /* and its frame (tuned with bench micro) */
#define SW__PREFETCH_FRAME 8
#endif

/* SW_STEP_WAIT from a tasklet that a channel handoff runs inline, blocked
 * again on a rendezvous channel but not yet counted as blocked (channel.c,
 * run_woken_now): only the inline run ever sees it, so it stays out of the
 * public enum, as the one value past its last. */
#define SW__STEP_WAIT_HARD ((sw_step)(SW_STEP_FAIL + 1))

typedef struct sw__vec32 {
    uint32_t *items;
    uint32_t n, cap;
} sw__vec32;

typedef struct sw__ovf {
    uint64_t wake;
    uint32_t slot;
} sw__ovf;

typedef struct sw__chan {
    uint32_t gen;
    uint8_t live;
    uint8_t kind;   /* sw_chan_kind */
    int8_t pref;
    uint8_t closed;
    uint32_t discarding; /* nonzero: a receiver that drops its message may wait
                            on this rendezvous channel (channel.c): read with the
                            four state bytes before it, it keeps such a waiter
                            off the fast paths. Cleared when the queue empties */
    int32_t balance;
    uint32_t head, tail; /* wait queue of tasklet slots, through next/pos */
    uint32_t cap, count, first; /* ring buffer of a buffered channel */
    uint32_t next_free;
    sw_msg *buf;
    uint64_t key;
    union {
        uint64_t dst_ok; /* rendezvous: a receiver's destination check, cached
                            (channel.c, dst_ok_of) */
        uint64_t lone;   /* event: set by a waiter that drops the message and
                            found the queue empty, its kind index + 1, until it
                            leaves; while the queue holds it alone, it says so
                            (channel.c, wake_all); 0: unknown (a loaded channel) */
    }; /* 64 bytes in all: indexing the table is a shift */
} sw__chan;

typedef struct sw__funcent {
    sw_run_fn run;       /* = fn->run, one load nearer for the run loop */
    uint32_t frame_size; /* = fn->frame_size, likewise for SW_RECV/SW_SEND checks */
    const sw_func *fn;   /* points at `own` for kinds */
    sw_func own;
    const sw_kind *kind; /* set when this is a kind's root function */
    const char *const *points;
    int npoints;
} sw__funcent;

typedef struct sw__kindent {
    const sw_kind *kind;
    int func;   /* index of its root function */
    int rank;
    bool random;
    uint32_t live;
} sw__kindent;

/* A tasklet woken during a tick that takes its turn later in the tick: its
 * rank group and key (see activation.c, "keys"). */
typedef struct sw__woken {
    double z;
    uint32_t g, slot;
} sw__woken;

/* The key cursor over a keyed tick's batch (see activation.c, cursor_to):
 * the next place to key, its rank group, the keys drawn in that group, where
 * the group's random places start in kt.rpos, and the last random place
 * keyed so far (its slot and key) and whether the last place was random. */
typedef struct sw__cursor {
    uint32_t pos, g, k, rbase, slot;
    bool rnd;
    double z;
} sw__cursor;

enum { SW__CUR_BATCH, SW__CUR_WOKEN, SW__CUR_END };

/* What a keyed run phase knows of its batch, its keys and the turn in
 * progress (activation.c, "keys"): set whole at the start of the phase. */
typedef struct sw__keyed_tick {
    uint32_t base;         /* the batch's first place in `ready` */
    uint32_t marked;       /* the batch's places below this are marked (see mark_batch_run) */
    const uint32_t *gend, *grc, *rpos; /* per rank group: end, random count; random places */
    sw__cursor kc;         /* the key cursor over the batch */
    double *kz;            /* per place: the key of a wholly random group's place */
    uint32_t kzend;        /* kz holds keys below this place (see keys_fill) */
    uint32_t back_seen;    /* the FIFO's last entry sorted out so far (see triage) */
    uint64_t batch_rng, woken_rng; /* this tick's streams: batch keys, woken keys */
    uint8_t cur_src;       /* whose turn it is: SW__CUR_* (see after_current) */
    uint32_t woken_at;     /* ready_pos when the last woken tasklet's turn began */
    sw__woken cur_key;     /* the key of a woken tasklet whose turn it is */
} sw__keyed_tick;

typedef struct sw__hook {
    sw_hook_fn fn;
    void *ud;
} sw__hook;

struct sw_sched {
    sw_sched_desc d;
    sw_tick now;
    bool in_run;       /* inside the run phase of a tick */
    bool ordered;      /* some kind has a rank or random order */

    struct sw__task *tasks;
    uint32_t ntasks, taskcap; /* slots used so far, allocated */
    uint32_t free_head;       /* free slots, LIFO through next */
    uint32_t live;

    sw__kindent *kinds;
    int nkinds, kindcap;
    uint32_t spawn_hint;  /* kind index of the last spawn that searched the registry */
    sw__funcent *funcs;
    int nfuncs, funccap;

    sw__chan *chans;
    uint32_t nchans, chancap, chan_free, chans_live;

    sw__vec32 wheel[SW__WHEEL];
    sw__ovf *ovf;
    uint32_t novf, ovfcap;
    uint64_t armed;     /* timers armed (including lazily fired this tick) */

    sw__vec32 ready;    /* the batch run at the start of the run phase */
    uint32_t ready_pos;
    bool ready_lazy;    /* entries may still be SLEEPING (a swapped-in bucket) */
    bool batch_asleep;  /* the same, in a batch the ordering pass shuffled: the
                           entries' pos no longer give their places */
    bool cascade_retry; /* the last cascade failed for memory: retry next tick */
    uint32_t front;     /* stack of tasklets to run next (switches) */
    uint32_t back_head, back_tail;
    uint32_t *order_buf; /* the ordering pass's output, swapped with the batch */
    uint32_t order_cap;
    void *order_aux;     /* its per-entry kinds and positions, per-rank tables */
    uint32_t order_auxcap; /* in 8-byte words */

    /* the ordering pass's per-kind cache (see order_batch), checked each
       tick against the kinds' ranks and flags, rebuilt when they differ */
    uint32_t *kword;     /* per kind: its rank's index among the distinct ranks | random */
    int *krank;          /* per kind: the rank it was cached with */
    int kcache_n;        /* kinds cached (-1: none) */
    uint32_t nranks;     /* distinct ranks */
    bool any_random;     /* some kind is random: keyed activation (below) */
    bool kuniform;       /* one rank, and every kind random or every kind fixed:
                            the ordering pass needs no entry's kind */

    /* keyed activation of the woken in a tick of a random kind (activation.c,
       "keys"): valid in the run phase of a tick with `keyed` set */
    bool keyed;
    sw__keyed_tick kt;                  /* this run phase's batch layout, keys and turn */
    struct sw__woken *heap;             /* woken to run this tick, by key */
    uint32_t nheap, heapcap;
    uint32_t def_head, def_tail;        /* woken too late: the next tick's batch */
    uint64_t *marks;                    /* per slot: epoch*2 (had its turn) | 1 (stays FIFO) */
    uint32_t markcap;
    uint32_t wake_at;                   /* the heap's first waits at least until this place (see
                                           activation.c, woken_first; here, not in kt: a hole) */
    uint64_t epoch;                     /* keyed run phases so far */

    uint64_t blocked_hard; /* tasklets blocked on non-event channels */
    int64_t hold;
    uint64_t resumes;
    int error;          /* pending error of this tick (watchdog) */

    sw__hook start_hooks[SW__MAX_HOOKS], end_hooks[SW__MAX_HOOKS];
    int nstart, nend;
    sw_death_fn on_death;
    sw_spawn_fn on_spawn;
    void *spawn_ud;
    void *death_ud;

    uint64_t frames;               /* frames in use, in every chain */
    void *pool[SW__POOL_CLASSES]; /* free frames by size class */
    void *slabs;                   /* every slab, linked through its first word */
    char *slab_cur;
    size_t slab_left;

    sw_tasklet cur;     /* the running tasklet's view */
    sw_tasklet nest;    /* the view of a tasklet a handoff runs inline (channel.c);
                           meaningful only while it runs */
    char errmsg[512];
    char *report;
    size_t report_len, report_cap;
};

enum { SW__ST_FREE = SW_TASK_FREE };

/* ---- the table, memory and messages (sched.c) ---- */
void *sw__alloc(sw_sched *s, void *p, size_t n);
/* Room for `need` items of `size` bytes in p, which holds *cap of them: the
 * room doubled from *cap (or `first`) until it fits. Returns the new block,
 * *cap updated, or NULL, with nothing changed, when out of memory. The
 * scheduler's tables of tasks, timers, channels and its ordering scratch
 * grow through here (the registry's small int-counted tables, kinds.c, do
 * not). */
void *sw__grow(sw_sched *s, void *p, uint32_t *cap, uint64_t need, size_t size, uint32_t first);
/* Append x to v, doubling its room when full; false when out of memory. */
bool sw__vec_push(sw_sched *s, sw__vec32 *v, uint32_t x);
void sw__errf(sw_sched *s, const char *fmt, ...);
void sw__reportf(sw_sched *s, const char *fmt, ...);
/* The cold ends of sw__run_task, out of line. */
void sw__run_zombie(sw_sched *s, uint32_t slot);
void sw__run_gone(sw_sched *s, uint32_t slot);
/* ---- the registry (kinds.c) ---- */
int sw__func_index(sw_sched *s, const sw_func *fn);
/* Answer sw_run_points with a function's resume-point names (sw__bad_pc,
 * for the view sw__describing recognises). */
sw_step sw__describe(const char *const *names, int count);
/* ---- timers (timers.c) ---- */
/* Arm a timer for `slot` (then SLEEPING); false, with nothing changed, when
 * out of memory. */
bool sw__timer_arm(sw_sched *s, uint32_t slot, sw_tick wake);
/* Append slot's timer (beyond the wheel) to the overflow list, noting its
 * place in its `pos`; false, with nothing changed, when out of memory. */
bool sw__ovf_push(sw_sched *s, uint32_t slot, sw_tick wake);
void sw__timer_cancel(sw_sched *s, uint32_t slot);
/* Put the timers due now in line to run (the start of a tick). */
void sw__fire_timers(sw_sched *s);
/* ---- activation order (activation.c) ---- */
/* Put the batch in activation order (a tick of an ordered scheduler). */
void sw__order_batch(sw_sched *s);
/* The run phase of a tick that sw__order_batch left keyed. Never inlined:
 * link-time optimisation put it inside sw_sched_step, and the plain run loop
 * beside it lost registers to it (dense ticks ~5 % slower, bench micro). */
__attribute__((noinline)) void sw__run_keyed(sw_sched *s);
/* Mark a tasklet joining the FIFO in a keyed run phase (see sw__mark_fifo). */
void sw__mark_fifo_keyed(sw_sched *s, uint32_t slot);
/* ---- inside a tasklet (tasklet.c) ---- */
/* The watchdog's report, when sw__spin_check finds the limit passed. */
bool sw__spin_fail(sw_sched *s, struct sw__task *k, uint32_t slot);
/* The same, as an operation's result: SW_STEP_FAIL (a tail call, so that the
 * operations' fast paths need no stack frame). */
sw_step sw__spin_fail_step(sw_sched *s, struct sw__task *k, uint32_t slot);
/* ---- frames (frame.c) ---- */
sw__frame *sw__frame_new(sw_sched *s, int fn);
/* sw__frame_new with the fields copied from `image`; `size` is the
 * function's frame_size, passed so that a caller which knows it as a
 * constant (a spawn inlined into a model's step) lets the copy fold */
sw__frame *sw__frame_new_copy(sw_sched *s, int fn, const void *image, size_t size);
void sw__frame_free(sw_sched *s, sw__frame *f);
void sw__frames_free_all(sw_sched *s);
uint32_t sw__frame_size(const sw_sched *s, const sw__frame *f);
/* ---- channels (channel.c) ---- */
sw__chan *sw__chan_get(const sw_sched *s, sw_chan ch);
/* sw_chan_new(s, &(sw_chan_desc){.kind = SW_CHAN_EVENT, .key = key}), the
 * same record, without the description's checks: the world's cell channels */
sw_chan sw__chan_new_event(sw_sched *s, uint64_t key);
/* Room in the channel table for n records in all (the table growing by
 * doubling from its size now, as chan_slot grows it): SW_OK, or SW_E_NOMEM
 * (the table as it was). A world reserves for its cell channels at once
 * (world_chan.c), so that they are made without the table's copies. */
int sw__chans_reserve(sw_sched *s, uint64_t n);
/* Open record `slot` (free, its `gen` kept) as a channel of `kind`, every
 * other field zero: its handle (chan_open in channel.c, and the event
 * channel below, share it). */
static inline sw_chan sw__chan_open_at(sw_sched *s, uint32_t slot, sw_chan_kind kind, int pref, uint32_t cap,
                                       sw_msg *buf, uint64_t key) {
    sw__chan *c = &s->chans[slot];
    *c = (sw__chan){.gen = c->gen, .live = 1, .kind = (uint8_t)kind, .pref = (int8_t)pref,
                    .head = SW__NIL, .tail = SW__NIL, .cap = cap, .buf = buf, .key = key};
    s->chans_live++;
    return sw_handle_make(slot, c->gen);
}
/* A free record of the channel table without growing it (the free list's
 * first, else one past the end, its generation starting at 1), or SW__NIL
 * when the table is full (channel.c's chan_slot then grows it). */
static inline uint32_t sw__chan_slot_if_room(sw_sched *s) {
    uint32_t slot = s->chan_free;
    if (slot != SW__NIL) {
        s->chan_free = s->chans[slot].next_free;
        return slot;
    }
    if (s->nchans == s->chancap) return SW__NIL;
    slot = s->nchans++;
    s->chans[slot].gen = 1;
    return slot;
}
/* sw__chan_new_event where the table has a record to give without growing
 * (the free list's first, else one past the end): the same record and
 * handle, inline and calling nothing, so that a caller's common case needs
 * no registers saved (the world's cell channels, ~1,150 made in a small
 * Schelling town's first tick). SW_CHAN_NONE when the table is full: then
 * sw__chan_new_event. */
static inline sw_chan sw__chan_new_event_if_room(sw_sched *s, uint64_t key) {
    uint32_t slot = sw__chan_slot_if_room(s);
    if (slot == SW__NIL) return SW_CHAN_NONE;
    return sw__chan_open_at(s, slot, SW_CHAN_EVENT, SW_PREFER_NEITHER, 0, NULL, key);
}
void sw__chan_unlink(sw_sched *s, sw__chan *c, uint32_t slot);
void sw__chans_free_all(sw_sched *s);

/* ---- the hot helpers, inline: every handoff and wake-up goes through them -- */

/* Join the back of the run queue. Never allocates, so waking can never fail:
 * between ticks (and in tick-start hooks) the woken join the same intrusive
 * FIFO, which is what a snapshot lists and what the next tick's ordering
 * pass gathers into the batch. */
static inline void sw__make_runnable(sw_sched *s, uint32_t slot) {
    struct sw__task *k = &s->tasks[slot];
    k->state = SW_TASK_RUNNABLE;
    k->next = SW__NIL;
    if (s->back_tail == SW__NIL)
        s->back_head = slot;
    else
        s->tasks[s->back_tail].next = slot;
    s->back_tail = slot;
}

/* Run next, before anything else queued (a handoff to the preferred side). */
static inline void sw__push_front(sw_sched *s, uint32_t slot) {
    s->tasks[slot].state = SW_TASK_RUNNABLE;
    s->tasks[slot].next = s->front;
    s->front = slot;
}

/* Count one resume or non-blocking operation; false (with a report) past the
 * watchdog's limit. */
static inline bool sw__spin_check(sw_sched *s, struct sw__task *k, uint32_t slot) {
    if (__builtin_expect(++k->spin <= s->d.watchdog, 1)) return true;
    return sw__spin_fail(s, k, slot);
}

/* Count one operation of the running tasklet; past the watchdog's limit,
 * return SW_STEP_FAIL (with a report) from the calling operation. */
#define SW__SPIN_OR_FAIL(s, k, slot)                                  \
    do {                                                              \
        if (__builtin_expect(++(k)->spin > (s)->d.watchdog, 0))       \
            return sw__spin_fail_step((s), (k), (slot));              \
    } while (0)

static inline struct sw__task *sw__task_get(const sw_sched *s, sw_id id) {
    uint32_t slot = sw_handle_slot(id);
    if (slot >= s->ntasks) return NULL;
    struct sw__task *k = &s->tasks[slot];
    if (k->gen != sw_handle_gen(id) || k->state == SW_TASK_FREE || k->state == SW_TASK_ZOMBIE) return NULL;
    return k;
}

/* A kind's ordering word (s->kword) marks a kind whose tasklets take their
 * turns in random order (activation.c). */
#define SW__ORDER_RANDOM 0x80000000u

/* Whether tasklets of kind index `kind` keep the FIFO order in a keyed run
 * phase: not a random kind (kinds added since the ordering pass's cache was
 * built count as not random). */
static inline bool sw__kind_fifo(const sw_sched *s, uint32_t kind) {
    return (int)kind >= s->kcache_n || !(s->kword[kind] & SW__ORDER_RANDOM);
}

/* `slot`, of kind index `kind`, has just joined the FIFO behind `prev_tail`
 * (SW__NIL: it is its only entry). If everything before it was sorted out
 * already in this keyed run phase and its kind keeps the FIFO order, it is
 * sorted out too: what the triage (activation.c, triage_fifo) would conclude
 * at the next turn, told by a caller that knows the kind without the
 * tasklet's record, so that the triage need not read that record (a cache
 * miss in large worlds: wolf-sheep's grass, woken by the sheep). */
static inline void sw__fifo_joined(sw_sched *s, uint32_t prev_tail, uint32_t slot, uint32_t kind) {
    if (s->keyed && s->in_run && s->kt.back_seen == prev_tail && sw__kind_fifo(s, kind))
        s->kt.back_seen = slot;
}

/* A tasklet joining the FIFO stays there in a keyed run phase (see
 * activation.c, "keys"). */
static inline void sw__mark_fifo(sw_sched *s, uint32_t slot) {
    if (__builtin_expect(s->keyed && s->in_run, 0)) sw__mark_fifo_keyed(s, slot);
}

/* Free a slot (sched.c's table; inline, for the ordering pass's gather too). */
static inline void sw__slot_free(sw_sched *s, uint32_t slot) {
    struct sw__task *k = &s->tasks[slot];
    k->state = SW_TASK_FREE;
    k->gen = k->gen == UINT32_MAX ? 1 : k->gen + 1;
    k->next = s->free_head;
    s->free_head = slot;
}

/* The outermost frame of a tasklet: its kind's, holding its fields. */
static inline sw__frame *sw__root_frame(const struct sw__task *k) {
    sw__frame *f = k->top;
    while (f && f->parent) f = f->parent;
    return f;
}

/* The common case of arming, inline where it is hot (a birth): within the
 * wheel's turn, into a bucket with room. False, with nothing changed, when
 * sw__timer_arm must do it. */
static inline bool sw__timer_arm_fast(sw_sched *s, struct sw__task *k, uint32_t slot, sw_tick wake) {
    if (wake - s->now >= SW__WHEEL) return false;
    sw__vec32 *b = &s->wheel[wake & SW__WHEEL_MASK];
    if (b->n == b->cap) return false;
    k->pos = b->n;
    b->items[b->n++] = slot;
    k->state = SW_TASK_SLEEPING;
    k->wait = wake;
    s->armed++;
    return true;
}

/* Bring the derived fields of a live agent's root frame up to date (its
 * kind's refresh hook, if any): before anyone reads it from outside. */
static inline void sw__refresh(sw_sched *s, const struct sw__task *k, uint32_t slot, void *frame) {
    const sw_kind *kind = s->kinds[k->kind].kind;
    if (kind->refresh) kind->refresh(s, sw_handle_make(slot, k->gen), frame);
}

/* Where the run loops stop prefetching: SW__PREFETCH_TASK places before the
 * batch's end. (Not prefetching at all for tables that fit in the cache saves
 * instructions but measured slower on wolf-sheep small: the frames, in their
 * slabs, are not all in L1.) */
static inline uint32_t sw__prefetch_end(uint32_t n) { return n > SW__PREFETCH_TASK ? n - SW__PREFETCH_TASK : 0; }

/* Run on tasklet `slot` under view t, whose resumable function has just
 * returned r: resume it while it calls or returns, until it suspends
 * (SW_STEP_WAIT or SW_STEP_SWITCH, returned) or is gone (killed, finished,
 * failed or past the watchdog: reclaimed, and SW_STEP_EXIT returned).
 * `nested` (a constant): t is the view of a tasklet a handoff runs inline
 * (channel.c), whose blocking again may come uncounted (SW__STEP_WAIT_HARD):
 * counted here.
 *
 * A suspension needs no check for a zombie: every operation that suspends
 * (sleep, yield, receive, send, wait) returns SW_STEP_EXIT instead when the
 * tasklet was killed before it (each checks first), and nothing between that
 * check and its return runs code that could kill it, or checks again after
 * (run_woken_now). That saves the turn a load and a branch (pinned by
 * sched/killed_during_its_turn_every_suspension_ends_it). */
static inline __attribute__((always_inline)) sw_step sw__run_on(sw_sched *s, sw_tasklet *t, uint32_t slot,
                                                                sw_step r, bool nested) {
    for (;;) {
        if (nested && r == SW__STEP_WAIT_HARD) {
            s->blocked_hard++;
            r = SW_STEP_WAIT;
        }
        if (__builtin_expect(r == SW_STEP_WAIT || r == SW_STEP_SWITCH, 1)) return r;
        struct sw__task *k = t->task; /* spawning may have moved the table */
        if (__builtin_expect(k->state == SW_TASK_ZOMBIE, 0)) break;
        if (r != SW_STEP_CALL && r != SW_STEP_RETURN) break; /* EXIT, FAIL, or no SW_END */
        if (!sw__spin_check(s, k, slot)) break;
        s->resumes++;
        sw__frame *f = k->top;
        r = s->funcs[f->fn].run(t, f + 1);
    }
    sw__run_gone(s, slot);
    return SW_STEP_EXIT;
}

/* Run tasklet `slot` until it suspends, exits or fails: the run loop's body.
 * This and the loop in sw_sched_step are the hottest code in the engine: a
 * channel handoff is two trips through here (or one here and one inline,
 * channel.c's run_woken_now), so it keeps to a few loads and one indirect
 * call, inline in both places. */
static inline __attribute__((always_inline)) sw_step sw__run_task(sw_sched *s, uint32_t slot) {
    struct sw__task *k = &s->tasks[slot];
    if (__builtin_expect(k->state == SW_TASK_ZOMBIE, 0)) {
        sw__run_zombie(s, slot); /* killed while queued: never runs */
        return SW_STEP_EXIT;
    }
    sw_tasklet *t = &s->cur;
    t->task = k;
    t->slot = slot;
    t->keyed = 0;
    k->state = SW_TASK_RUNNING;
    if (!sw__spin_check(s, k, slot)) {
        sw__run_gone(s, slot);
        return SW_STEP_EXIT;
    }
    s->resumes++;
    sw__frame *f = k->top;
    sw_step r = s->funcs[f->fn].run(t, f + 1);
    /* the common result first, alone: sw__run_turn tests the same, and the
       compiler then tests it once (not as one of a range) */
    if (__builtin_expect(r == SW_STEP_WAIT, 1)) return r;
    return sw__run_on(s, t, slot, r, false);
}

/* Run `slot`'s turn, then whatever it left on the run-next stack. Only a
 * channel handoff that prefers the woken side and cannot run it inline
 * pushes there (channel.c, wake: the woken, then the running tasklet), and
 * its operation returns SW_STEP_SWITCH, which the running tasklet returns in
 * turn (or SW_STEP_EXIT, when the woken it ran inline killed it): a turn
 * that ends in SW_STEP_WAIT leaves the stack empty, so the run loops look
 * at it only after another result, instead of before every turn (a load and
 * a branch a turn). `marks` (a constant): the keyed loop's, which marks the
 * stack's tasklets as having had their turn (activation.c). */
static inline __attribute__((always_inline)) void sw__run_turn(sw_sched *s, uint32_t slot, bool marks) {
    if (__builtin_expect(sw__run_task(s, slot) == SW_STEP_WAIT, 1)) return;
    while (s->front != SW__NIL) { /* the whole stack, whatever its turns end in */
        slot = s->front;
        s->front = s->tasks[slot].next;
        if (marks && slot < s->markcap) s->marks[slot] = s->epoch << 1;
        sw__run_task(s, slot);
    }
}

/* sw_spawn from tasklet t without the spawn hook, for the world when the
 * hook is its own (sw_spawn_at: a birth placed by the world itself, with no
 * call through the hook's pointer): the new tasklet's slot, made and queued
 * (SW__NIL when out of memory, nothing left behind). The caller places it,
 * as the hook would have, then runs its init with sw__spawn_unhooked_init
 * (no hook having run, nothing can have killed it in between). */
uint32_t sw__spawn_unhooked(sw_tasklet *t, const sw_kind *kind, const void *params, sw_tick delay);
void sw__spawn_unhooked_init(sw_tasklet *t, const sw_kind *kind, uint32_t slot);

/* A batch of spawns of one kind (sw_world_spawn_many): the kind looked up
 * and the table grown once. Each spawn is sw__spawn_batch_make (as a single
 * spawn up to its hook: SW__NIL when out of memory, nothing left behind),
 * then whatever the spawn hook does, done by the caller (the batch calls no
 * hook), then sw__spawn_batch_init: the same state as single spawns. */
typedef struct {
    sw_sched *s;
    const sw_kind *kind;
    int ki;
    size_t size; /* the kind's frame size */
} sw__spawn_batch;

int sw__spawn_batch_begin(sw_sched *s, const sw_kind *kind, uint64_t n, sw__spawn_batch *b);
uint32_t sw__spawn_batch_make(sw__spawn_batch *b, const void *image, sw_tick delay);
void sw__spawn_batch_init(sw__spawn_batch *b, sw_id id);
/* For final images (no init to run between one agent and the next): up to
 * n agents made as by sw__spawn_batch_make, from images + i * stride, their
 * slots into slots[i]; how many (fewer only when out of memory). Making
 * them all before placing any leaves the state of single spawns: a spawn's
 * making and its placement touch nothing of each other's. */
uint64_t sw__spawn_batch_make_n(sw__spawn_batch *b, const void *images, size_t stride, uint64_t n,
                                sw_tick delay, uint32_t *slots);

#endif
