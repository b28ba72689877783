/* tasklet.c - what a running tasklet calls (tasklet.h): its view (sw_self, sw_now, ...), its
 * own random numbers, the watchdog's count, and the operations that suspend
 * it or change its frames (yield, sleep, call, return, exit).
 *
 * The operations are what SW_* macros in agent code expand to, so their fast
 * paths are kept free of stack frames (the slow cases are out of line, and
 * sw__sleep arms its timer itself rather than through timers.c). */
#include "sched_int.h"
#include "rng.h"

#include <string.h>

/* ---- the view ------------------------------------------------------------- */

sw_id sw_self(const sw_tasklet *t) { return sw_handle_make(t->slot, t->task->gen); }
sw_tick sw_now(const sw_tasklet *t) { return t->sched->now; }
sw_sched *sw_sched_of(const sw_tasklet *t) { return t->sched; }
const sw_kind *sw_kind_of(const sw_tasklet *t) { return t->sched->kinds[t->task->kind].kind; }
int sw_status(const sw_tasklet *t) { return t->task->status; }
void *sw_context(const sw_tasklet *t) { return t->context; }
void *sw_root_frame(const sw_tasklet *t) { return sw__root_frame(t->task) + 1; }

/* ---- random numbers ------------------------------------------------------- */

/* The key (two SplitMix64 rounds) is worked out at the first draw after the
 * view was handed to this tasklet, then kept in the view: a draw is one round. */
static inline __attribute__((always_inline)) uint64_t rand_next(sw_tasklet *t) {
    uint64_t key;
    if (__builtin_expect(t->keyed, 0)) {
        key = t->rng_key;
    } else {
        key = sw_rng_key(t->sched->d.seed, sw_self(t));
        t->rng_key = key;
        t->keyed = 1;
    }
    return sw_rng_at(key, t->task->rng++);
}

uint64_t sw_rand_u64(sw_tasklet *t) { return rand_next(t); }

double sw_rand_unit(sw_tasklet *t) { return sw_rng_unit(rand_next(t)); }

/* Lemire's nearly divisionless method: a draw whose low half is below
 * 2^64 mod n is biased and drawn again. That test needs a division, and only
 * draws with a low half below n can fail it: rarely, so out of line. */
static __attribute__((noinline)) uint64_t rand_below_slow(sw_tasklet *t, uint64_t n, __uint128_t m) {
    uint64_t threshold = (0 - n) % n;
    while ((uint64_t)m < threshold) {
        m = (__uint128_t)rand_next(t) * n;
        if ((uint64_t)m >= n) break;
    }
    return (uint64_t)(m >> 64);
}

uint64_t sw_rand_below(sw_tasklet *t, uint64_t n) {
    if (n == 0) return 0;
    __uint128_t m = (__uint128_t)rand_next(t) * n;
    if (__builtin_expect((uint64_t)m >= n, 1)) return (uint64_t)(m >> 64);
    return rand_below_slow(t, n, m);
}

/* ---- the watchdog and the operations ------------------------------------- */

/* Past the watchdog's limit (see sw__spin_check): the tasklet is reported,
 * and killed by the caller's SW_STEP_FAIL. */
bool sw__spin_fail(sw_sched *s, struct sw__task *k, uint32_t slot) {
    sw_id id = sw_handle_make(slot, k->gen);
    const sw__funcent *fe = &s->funcs[k->top->fn];
    sw__reportf(s, "watchdog: %s #%u (id %llu) ran %u resumes/operations in tick %llu without "
                   "blocking or sleeping; last resume point %s:%s\n",
                s->kinds[k->kind].kind->name, slot, (unsigned long long)id, k->spin - 1,
                (unsigned long long)s->now, fe->fn->name,
                k->top->pc < fe->npoints ? fe->points[k->top->pc] : "?");
    sw__errf(s, "watchdog: a %s ran too long without suspending (see the report)",
             s->kinds[k->kind].kind->name);
    s->error = SW_E_WATCHDOG;
    return false;
}

sw_step sw__spin_fail_step(sw_sched *s, struct sw__task *k, uint32_t slot) {
    sw__spin_fail(s, k, slot);
    return SW_STEP_FAIL;
}

sw_step sw__yield(sw_tasklet *t) {
    sw_sched *s = t->sched;
    if (t->task->state == SW_TASK_ZOMBIE) return SW_STEP_EXIT;
    sw__make_runnable(s, t->slot);
    sw__mark_fifo(s, t->slot);
    return SW_STEP_WAIT;
}

/* Sleeps beyond the wheel's turn, into a full bucket, or of 0 ticks. Out of
 * line, so that the common case below needs no stack frame at all. */
static __attribute__((noinline)) sw_step sleep_slow(sw_tasklet *t, sw_tick n) {
    sw_sched *s = t->sched;
    if (n == 0) return sw__yield(t);
    if (!sw__timer_arm(s, t->slot, s->now + n)) {
        sw__errf(s, "out of memory arming a timer");
        s->error = SW_E_NOMEM;
        return SW_STEP_FAIL;
    }
    t->task->spin = 0;
    return SW_STEP_WAIT;
}

sw_step sw__sleep(sw_tasklet *t, sw_tick n) {
    sw_sched *s = t->sched;
    struct sw__task *k = t->task;
    if (k->state == SW_TASK_ZOMBIE) return SW_STEP_EXIT;
    if (n - 1 < SW__WHEEL - 1) {
        /* the common case: within the wheel's turn, and the bucket has room
           (sw__timer_arm_fast, written out: calling it here measured no
           faster on dense ticks, and 2-5 % slower in some runs) */
        sw_tick wake = s->now + n;
        sw__vec32 *b = &s->wheel[wake & SW__WHEEL_MASK];
        if (__builtin_expect(b->n < b->cap, 1)) {
            k->pos = b->n;
            b->items[b->n++] = t->slot;
            k->state = SW_TASK_SLEEPING;
            k->wait = wake;
            k->spin = 0;
            s->armed++;
            return SW_STEP_WAIT;
        }
    }
    return sleep_slow(t, n);
}

sw_step sw__call(sw_tasklet *t, const sw_func *fn, const void *args, sw_value *result) {
    sw_sched *s = t->sched;
    struct sw__task *k = t->task;
    if (k->state == SW_TASK_ZOMBIE) return SW_STEP_EXIT;
    SW__SPIN_OR_FAIL(s, k, t->slot);
    int fi = fn ? sw__func_index(s, fn) : SW_E_INVALID;
    if (fi < 0) {
        sw__errf(s, "SW_CALL of a function that cannot be registered: %s", s->errmsg);
        s->error = SW_E_INVALID;
        return SW_STEP_FAIL;
    }
    uint32_t ref = SW__NO_REF;
    if (result) {
        ptrdiff_t off = (char *)result - (char *)(k->top + 1);
        uint32_t size = s->funcs[k->top->fn].fn->frame_size;
        if (off < 0 || (size_t)off + sizeof(sw_value) > size) {
            sw__errf(s, "SW_CALL result must point into the caller's frame");
            s->error = SW_E_INVALID;
            return SW_STEP_FAIL;
        }
        ref = (uint32_t)off;
    }
    sw__frame *f = sw__frame_new(s, fi);
    if (!f) {
        sw__errf(s, "out of memory calling %s", fn->name);
        s->error = SW_E_NOMEM;
        return SW_STEP_FAIL;
    }
    if (args) memcpy(f + 1, args, fn->frame_size);
    k->top->ref = ref;
    f->parent = k->top;
    k->top = f;
    return SW_STEP_CALL;
}

sw_step sw__return(sw_tasklet *t, sw_value v) {
    sw_sched *s = t->sched;
    struct sw__task *k = t->task;
    sw__frame *f = k->top;
    if (!f->parent) return SW_STEP_EXIT;
    sw__frame *p = f->parent;
    if (p->ref != SW__NO_REF) memcpy((char *)(p + 1) + p->ref, &v, sizeof v);
    p->ref = SW__NO_REF;
    k->top = p;
    sw__frame_free(s, f);
    return k->state == SW_TASK_ZOMBIE ? SW_STEP_EXIT : SW_STEP_RETURN;
}

sw_step sw__exit(sw_tasklet *t) {
    (void)t;
    return SW_STEP_EXIT;
}

sw_step sw__finish(sw_tasklet *t) {
    if (t->task->top->parent) return sw__return(t, (sw_value){0});
    return SW_STEP_EXIT;
}

sw_step sw__bad_pc(sw_tasklet *t, const char *const *names, int count) {
    if (sw__describing(t)) return sw__describe(names, count);
    sw_sched *s = t->sched;
    sw__errf(s, "tasklet #%u resumed at an unknown resume point %u", t->slot, t->task->top->pc);
    s->error = SW_E_INVALID;
    return SW_STEP_FAIL;
}
