/* timers.c - the timer wheel: arming, cancelling, the overflow's cascade and
 * firing the timers due at the start of a tick.
 *
 * A wheel of 256 buckets, each a plain array of slots in arming order, plus
 * an overflow list for wake-ups 256 or more ticks ahead that is cascaded
 * into the wheel every 256 ticks, in front of the bucket's own entries (they
 * were armed earlier), so timers due together fire in arming order. Arming
 * appends (O(1)); cancelling overwrites the entry with a tombstone found
 * through the tasklet's `pos` (O(1)); firing walks the bucket in order. When
 * nothing else is waiting to run, a due bucket is swapped in as the tick's
 * batch without touching the tasklets ("lazy": they are still marked
 * SLEEPING until they run, and the loop prefetches them ahead), which is what
 * keeps a tick of ten million wake-ups streaming through memory.
 *
 * The hot cases of arming are not here: a birth's (sw__timer_arm_fast) is
 * static inline in sched_int.h, and sw__sleep (tasklet.c) appends to the bucket
 * itself; this file holds the general and the cold paths. */
#include "sched_int.h"

#include <string.h>

/* ---- arming and cancelling ------------------------------------------------ */

static bool vec_reserve(sw_sched *s, sw__vec32 *v, uint32_t need) {
    if (need <= v->cap) return true;
    uint32_t *items = sw__grow(s, v->items, &v->cap, need, sizeof *items, 64);
    if (items) v->items = items;
    return items != NULL;
}

bool sw__ovf_push(sw_sched *s, uint32_t slot, sw_tick wake) {
    if (s->novf == s->ovfcap) {
        sw__ovf *o = sw__grow(s, s->ovf, &s->ovfcap, (uint64_t)s->novf + 1, sizeof *o, 64);
        if (!o) return false;
        s->ovf = o;
    }
    s->tasks[slot].pos = s->novf | SW__POS_OVF;
    s->ovf[s->novf++] = (sw__ovf){wake, slot};
    return true;
}

/* Arm first, then change the tasklet: on failure it is left as it was. */
bool sw__timer_arm(sw_sched *s, uint32_t slot, sw_tick wake) {
    struct sw__task *k = &s->tasks[slot];
    if (wake - s->now < SW__WHEEL) {
        /* (the bucket-has-room case is sw__timer_arm_fast, tried first by
           every caller) */
        sw__vec32 *b = &s->wheel[wake & SW__WHEEL_MASK];
        if (!sw__vec_push(s, b, slot)) return false;
        k->pos = b->n - 1;
    } else if (!sw__ovf_push(s, slot, wake)) {
        return false;
    }
    k->state = SW_TASK_SLEEPING;
    k->wait = wake;
    s->armed++;
    return true;
}

void sw__timer_cancel(sw_sched *s, uint32_t slot) {
    struct sw__task *k = &s->tasks[slot];
    s->armed--;
    if (k->pos & SW__POS_OVF) {
        s->ovf[k->pos & ~SW__POS_OVF].slot = SW__TOMB;
    } else if (k->wait == s->now && s->ready_lazy) {
        /* fired lazily, not yet run: its tombstone is counted back in when
           the run loop passes it, like any tombstone of a swapped bucket */
        s->ready.items[k->pos] = SW__TOMB;
    } else {
        s->wheel[k->wait & SW__WHEEL_MASK].items[k->pos] = SW__TOMB;
    }
}

/* ---- the cascade and firing ----------------------------------------------- */

/* Every SW__WHEEL ticks, bring the overflow timers due within the next turn
 * of the wheel into their buckets, keeping the overflow's order. An overflow
 * timer due at tick W was armed at or before W - SW__WHEEL, so before every
 * timer armed straight into W's bucket: cascaded timers go in *front* of the
 * bucket's entries, which keeps "timers due in a tick fire in arming order".
 * Everything is reserved before anything moves, so a failed allocation leaves
 * the wheel as it was (the cascade is retried next tick, and a timer whose
 * tick has passed fires in the tick of the retry). */
static bool cascade(sw_sched *s) {
    uint32_t add[SW__WHEEL] = {0}, at[SW__WHEEL];
    bool any = false;
    for (uint32_t i = 0; i < s->novf; i++) {
        sw__ovf o = s->ovf[i];
        if (o.slot == SW__TOMB) continue;
        if ((int64_t)(o.wake - s->now) < 0) o.wake = s->now; /* overdue after a failed cascade */
        if (o.wake - s->now < SW__WHEEL) {
            add[o.wake & SW__WHEEL_MASK]++;
            any = true;
        }
    }
    for (uint32_t b = 0; any && b < SW__WHEEL; b++)
        if (add[b] && !vec_reserve(s, &s->wheel[b], s->wheel[b].n + add[b])) return false;
    for (uint32_t b = 0; any && b < SW__WHEEL; b++) {
        sw__vec32 *v = &s->wheel[b];
        at[b] = 0;
        if (!add[b]) continue;
        memmove(v->items + add[b], v->items, (size_t)v->n * sizeof *v->items);
        for (uint32_t i = add[b]; i < v->n + add[b]; i++)
            if (v->items[i] != SW__TOMB) s->tasks[v->items[i]].pos = i;
        v->n += add[b];
    }
    uint32_t keep = 0;
    for (uint32_t i = 0; i < s->novf; i++) {
        sw__ovf o = s->ovf[i];
        if (o.slot == SW__TOMB) continue;
        struct sw__task *k = &s->tasks[o.slot];
        if ((int64_t)(o.wake - s->now) < 0) o.wake = k->wait = s->now;
        if (o.wake - s->now < SW__WHEEL) {
            uint32_t b = o.wake & SW__WHEEL_MASK;
            s->wheel[b].items[at[b]] = o.slot;
            k->pos = at[b]++;
        } else {
            k->pos = keep | SW__POS_OVF;
            s->ovf[keep++] = o;
        }
    }
    s->novf = keep;
    return true;
}

/* After a bucket was swapped in as the batch it holds the array the last
 * batch left: empty, and as large as a batch. That array goes on to the
 * next tick's bucket, with its entries, when that one's is smaller, so that
 * the sleeps of one tick (every animal of wolf-sheep, every bird) append
 * into room instead of growing the bucket a doubling at a time: until the
 * wheel had turned once, each tick's bucket started small and grew by two
 * or three reallocations (wolf-sheep small: ~86 k instructions a run, 1.2 %,
 * in realloc). Positions stay as they were (the entries keep their
 * indices), so cancelling and the snapshot's walk see the same bucket.
 * Out of line: it runs once a tick, and sw_sched_step, which inlines
 * sw__fire_timers, need not keep its registers. */
static __attribute__((noinline)) void hand_on(sw_sched *s, sw__vec32 *b) {
    sw__vec32 *next = &s->wheel[(s->now + 1) & SW__WHEEL_MASK];
    if (next->cap >= b->cap) return;
    if (next->n) memcpy(b->items, next->items, (size_t)next->n * sizeof *b->items);
    sw__vec32 t = *next;
    next->items = b->items;
    next->cap = b->cap;
    b->items = t.items;
    b->cap = t.cap;
    b->n = 0;
}

/* Put the timers due now in line to run. When nothing else is waiting, the
 * whole bucket becomes the batch without touching a tasklet (and the array
 * it leaves goes on to the next tick's bucket: hand_on); otherwise its
 * tasklets join the back of the queue after those already waiting. */
void sw__fire_timers(sw_sched *s) {
    if (s->novf && ((s->now & SW__WHEEL_MASK) == 0 || s->cascade_retry)) {
        s->cascade_retry = !cascade(s);
        if (s->cascade_retry) {
            sw__errf(s, "out of memory moving timers into the wheel");
            s->error = SW_E_NOMEM;
        }
    }
    sw__vec32 *b = &s->wheel[s->now & SW__WHEEL_MASK];
    if (b->n == 0) return;
    if (s->ready.n == 0 && s->back_head == SW__NIL) {
        sw__vec32 t = s->ready;
        s->ready = *b;
        *b = t;
        s->ready_lazy = true;
        /* uncount them all now, without a pass over the bucket; each
           tombstone is counted back when the run loop (or the ordering
           pass) skips it, since its timer was uncounted when cancelled */
        s->armed -= s->ready.n;
        hand_on(s, b);
        return;
    }
    for (uint32_t i = 0; i < b->n; i++) {
        uint32_t slot = b->items[i];
        if (slot == SW__TOMB) continue;
        s->armed--;
        sw__make_runnable(s, slot);
    }
    b->n = 0;
}
