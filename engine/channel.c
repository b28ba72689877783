/* channel.c - rendezvous, buffered and event channels.
 *
 * Channels live in one array indexed by slot, with a generation per slot like
 * tasklets. Waiters form an intrusive doubly linked FIFO through the
 * tasklets' `next` and `pos` fields, so a killed waiter leaves in O(1) and a
 * snapshot can list the queue in order. A blocked tasklet's frame header
 * records where, inside its frame, the message to send or the place to
 * receive into lives (`ref`), never a pointer.
 *
 * A handoff to the preferred side (Stackless's default: the receiver) runs
 * the woken tasklet inline, on the current one's C stack, under a view of its
 * own, which gives the same order as switching through the scheduler
 * without the round trip. SW_SEND to a waiting receiver and SW_RECV that
 * blocks, on a rendezvous channel of the default preference, have fast paths
 * that do exactly what the general code would (hand_to_receiver, and the
 * start of sw__recv_at); everything else takes the general path. */
#include "sched_int.h"

#include <stddef.h>
#include <string.h>

/* ---- table ------------------------------------------------------------------ */

_Static_assert(sizeof(sw__chan) == 64, "channel records are 64 bytes");

sw__chan *sw__chan_get(const sw_sched *s, sw_chan ch) {
    uint32_t slot = sw_handle_slot(ch);
    if (slot >= s->nchans) return NULL;
    sw__chan *c = &s->chans[slot];
    if (!c->live || c->gen != sw_handle_gen(ch)) return NULL;
    return c;
}

/* A free channel record's slot: the free list's first, else a new one at
 * the end (the table doubling). Its `gen` is kept, the rest is the
 * caller's to set. SW__NIL when out of memory. */
static uint32_t chan_slot(sw_sched *s) {
    uint32_t slot = sw__chan_slot_if_room(s);
    if (slot != SW__NIL) return slot;
    /* full: grow the table, then take the record past the end */
    if (sw__chans_reserve(s, (uint64_t)s->nchans + 1) != SW_OK) return SW__NIL;
    return sw__chan_slot_if_room(s);
}

/* A new open channel of `kind` in a free record, every other field zero:
 * its handle, or SW_CHAN_NONE when out of memory (the error set). */
static inline __attribute__((always_inline)) sw_chan chan_open(sw_sched *s, sw_chan_kind kind, int pref,
                                                               uint32_t cap, sw_msg *buf, uint64_t key) {
    uint32_t slot = chan_slot(s);
    if (slot == SW__NIL) {
        sw__errf(s, "out of memory for channels");
        return SW_CHAN_NONE;
    }
    return sw__chan_open_at(s, slot, kind, pref, cap, buf, key);
}

sw_chan sw_chan_new(sw_sched *s, const sw_chan_desc *desc) {
    sw_chan_desc d = desc ? *desc : (sw_chan_desc){0};
    if (d.kind > SW_CHAN_EVENT || d.preference < -1 || d.preference > 1) {
        sw__errf(s, "invalid channel description");
        return SW_CHAN_NONE;
    }
    if (d.kind == SW_CHAN_BUFFERED && d.capacity == 0) {
        sw__errf(s, "a buffered channel needs a capacity of at least 1");
        return SW_CHAN_NONE;
    }
    sw_msg *buf = NULL;
    if (d.kind == SW_CHAN_BUFFERED) {
        buf = sw__alloc(s, NULL, (size_t)d.capacity * sizeof *buf);
        if (!buf) {
            sw__errf(s, "out of memory for a channel of capacity %u", d.capacity);
            return SW_CHAN_NONE;
        }
    }
    int pref = d.preference;
    if (pref == 0 && !d.explicit_neither)
        pref = d.kind == SW_CHAN_RENDEZVOUS ? SW_PREFER_RECEIVER : SW_PREFER_NEITHER;
    sw_chan ch = chan_open(s, d.kind, pref, d.capacity, buf, d.key);
    if (ch == SW_CHAN_NONE) sw__alloc(s, buf, 0);
    return ch;
}

int sw__chans_reserve(sw_sched *s, uint64_t n) {
    if (n <= s->chancap) return SW_OK;
    sw__chan *c = sw__grow(s, s->chans, &s->chancap, n, sizeof *c, 256);
    if (!c) return SW_E_NOMEM;
    s->chans = c;
    return SW_OK;
}

sw_chan sw__chan_new_event(sw_sched *s, uint64_t key) {
    /* sw_chan_new's record for {.kind = SW_CHAN_EVENT, .key = key}, without
       the description's checks */
    return chan_open(s, SW_CHAN_EVENT, SW_PREFER_NEITHER, 0, NULL, key);
}

int sw_chan_free(sw_sched *s, sw_chan ch) {
    sw__chan *c = sw__chan_get(s, ch);
    if (!c) return SW_E_STALE;
    sw_chan_close(s, ch);
    sw__alloc(s, c->buf, 0);
    uint32_t slot = sw_handle_slot(ch);
    c->live = 0;
    c->buf = NULL;
    c->gen = c->gen == UINT32_MAX ? 1 : c->gen + 1;
    c->next_free = s->chan_free;
    s->chan_free = slot;
    s->chans_live--;
    return SW_OK;
}

void sw__chans_free_all(sw_sched *s) {
    for (uint32_t i = 0; i < s->nchans; i++) sw__alloc(s, s->chans[i].buf, 0);
    sw__alloc(s, s->chans, 0);
    s->chans = NULL;
    s->nchans = s->chancap = 0;
}

/* ---- wait queues --------------------------------------------------------------- */

/* The common queue is one waiter at most (a receiver waiting on its mailbox):
 * enqueue and dequeue expect an empty queue before and after, which keeps
 * that case free of taken jumps. */
static inline void enqueue(sw_sched *s, sw__chan *c, struct sw__task *k, uint32_t slot) {
    uint32_t tail = c->tail;
    k->next = SW__NIL;
    k->pos = tail;
    uint32_t *link = __builtin_expect(tail == SW__NIL, 1) ? &c->head : &s->tasks[tail].next;
    *link = slot;
    c->tail = slot;
}

/* Take the first waiter off c; `hard`: c is not an event channel (a
 * constant where the caller knows it). */
static inline uint32_t dequeue(sw_sched *s, sw__chan *c, bool hard) {
    uint32_t slot = c->head;
    uint32_t next = s->tasks[slot].next;
    c->head = next;
    uint32_t *link = __builtin_expect(next == SW__NIL, 1) ? &c->tail : &s->tasks[next].pos;
    *link = SW__NIL;
    if (hard) s->blocked_hard--;
    return slot;
}

void sw__chan_unlink(sw_sched *s, sw__chan *c, uint32_t slot) {
    struct sw__task *k = &s->tasks[slot];
    if (k->pos == SW__NIL)
        c->head = k->next;
    else
        s->tasks[k->pos].next = k->next;
    if (k->next == SW__NIL)
        c->tail = k->pos;
    else
        s->tasks[k->next].pos = k->pos;
    c->balance += k->state == SW_TASK_SEND ? -1 : 1;
    if (c->kind != SW_CHAN_EVENT)
        s->blocked_hard--;
    else
        c->lone = 0; /* (the queue is no longer known to be one discarding waiter) */
    k->discard = 0;
    if (c->head == SW__NIL) c->discarding = 0;
}

/* A channel record's eight bytes after its generation (live, kind,
 * preference, closed, and `discarding`) as one number, so that the fast
 * paths of SW_SEND and SW_RECV check a handle and the channel's state with
 * two comparisons. `discarding` rides along for free (the constant compared
 * with still fits an instruction's 32-bit immediate): a receiver that drops
 * its message may wait only where it is zero, so the fast paths, which copy
 * into the waiter's frame, never meet one. */
_Static_assert(offsetof(sw__chan, live) == 4 && offsetof(sw__chan, kind) == 5 && offsetof(sw__chan, pref) == 6 &&
                   offsetof(sw__chan, closed) == 7 && offsetof(sw__chan, discarding) == 8,
               "the channel's state bytes are live, kind, pref, closed, discarding");

static inline uint64_t chan_state(const sw__chan *c) {
    uint64_t w;
    memcpy(&w, &c->live, sizeof w);
    return w;
}

/* The state of a live, open rendezvous channel of preference `pref` where
 * no receiver that drops its message waits. */
static inline uint64_t chan_state_of(int pref) {
    struct { uint8_t live, kind; int8_t pref; uint8_t closed; uint32_t discarding; } h = {
        1, SW_CHAN_RENDEZVOUS, (int8_t)pref, 0, 0};
    uint64_t w;
    memcpy(&w, &h, sizeof w);
    return w;
}

/* `ch` names `c` (as sw__chan_get checks, c being ch's slot), a live, open
 * rendezvous channel of the default preference with no receiver waiting
 * that drops its message. */
static inline bool chan_is_default_rendezvous(const sw__chan *c, sw_chan ch) {
    return __builtin_expect(c->gen == sw_handle_gen(ch), 1) &&
           __builtin_expect(chan_state(c) == chan_state_of(SW_PREFER_RECEIVER), 1);
}

/* Copy a message that its sender has likely just written, field by field.
 * Senders fill a message a field at a time right before SW_SEND, and a CPU
 * cannot forward a narrow store to a wider load that covers it: copying with
 * two 16-byte loads would wait for those stores to reach the cache (a stall
 * of the same order as the whole handoff; measured ~6% of it). Loads of the
 * fields' own widths are forwarded, and are as good for a message written
 * whole. The empty asm keeps the compiler from merging them again. */
#define SW__MSG_COPY_FIELD(dst, msg, type, field)   \
    do {                                            \
        type v_;                                    \
        memcpy(&v_, &(msg)->field, sizeof v_);      \
        __asm__("" : "+r"(v_));                     \
        memcpy(&(dst)->field, &v_, sizeof v_);      \
    } while (0)

static inline void msg_copy(sw_msg *dst, const sw_msg *msg) {
    SW__MSG_COPY_FIELD(dst, msg, uint32_t, tag);
    SW__MSG_COPY_FIELD(dst, msg, uint32_t, i);
    SW__MSG_COPY_FIELD(dst, msg, uint64_t, who);
    SW__MSG_COPY_FIELD(dst, msg, uint64_t, x);
    SW__MSG_COPY_FIELD(dst, msg, uint64_t, y);
}
_Static_assert(sizeof(sw_msg) == 32, "msg_copy copies every field of a message");

/* run_woken_now sets the inline view's slot and clears its keyed flag with
 * one store (the view's slot is loaded whole, at the same address, by the
 * woken's operations, so the store buffer forwards it). */
_Static_assert(offsetof(sw_tasklet, keyed) == offsetof(sw_tasklet, slot) + 4 &&
                   __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "a view's slot and keyed flag are eight adjacent bytes, slot first");

/* The message slot a waiting tasklet's frame `f` names (its `ref`). */
static inline sw_msg *frame_ref_at(sw__frame *f) { return (sw_msg *)((char *)(f + 1) + f->ref); }
static inline sw_msg *frame_ref(struct sw__task *k) { return frame_ref_at(k->top); }

/* Where inside the running frame `p` lies, or SW__NO_REF when outside. */
static uint32_t ref_of(sw_sched *s, struct sw__task *k, const void *p) {
    ptrdiff_t off = (const char *)p - (const char *)(k->top + 1);
    uint32_t size = s->funcs[k->top->fn].frame_size;
    if (off < 0 || (size_t)off + sizeof(sw_msg) > size) return SW__NO_REF;
    return (uint32_t)off;
}

/* The receivers' destination check, cached in the channel (`dst_ok`): the
 * index of the function whose frame a receiver last blocked with through
 * the general path (low 32 bits), and the bound its frame offsets stay under
 * (high 32 bits: the frame size less sizeof(sw_msg), plus one, so that
 * ref_of's two tests are one unsigned comparison). A function's frame size
 * never changes, so the pair stays true whoever receives next; a new or
 * loaded channel's zero accepts nothing. The fast path of SW_RECV checks its
 * destination against it with one load from the channel record it reads
 * anyway, instead of ref_of's three dependent loads through the function's
 * record (a handoff 1.5 % faster; the check left out altogether, 6 %). A
 * destination it does not accept takes the general path, which checks it in
 * full and caches the result for the next receiver. */
static inline uint64_t dst_ok_of(const sw_sched *s, const sw__frame *f) {
    uint32_t size = s->funcs[f->fn].frame_size;
    uint64_t bound = size >= sizeof(sw_msg) ? size - sizeof(sw_msg) + 1 : 0;
    return f->fn | bound << 32;
}

/* Whether the channel's cached check accepts `off`, an offset in frame `f`
 * (as an unsigned number: huge when negative). */
static inline bool dst_cached_ok(const sw__chan *c, const sw__frame *f, uint64_t off) {
    uint64_t ok = c->dst_ok;
    return __builtin_expect((uint32_t)ok == f->fn, 1) && __builtin_expect(off < ok >> 32, 1);
}

/* Block the running tasklet on c; `hard`: c is not an event channel (known
 * to fast paths, whose callers pass a constant). */
static inline __attribute__((always_inline)) sw_step block(sw_sched *s, sw_tasklet *t, struct sw__task *k,
                                                           sw__chan *c, sw_chan ch, bool sending, uint32_t ref,
                                                           bool hard) {
    k->state = sending ? SW_TASK_SEND : SW_TASK_RECV;
    k->status = SW_OK;
    k->wait = ch;
    k->spin = 0;
    k->top->ref = ref;
    enqueue(s, c, k, t->slot);
    c->balance += sending ? 1 : -1;
    if (hard) s->blocked_hard++;
    return SW_STEP_WAIT;
}

/* The rest of an inline run, for a woken tasklet that did not simply block
 * (out of line: it called, returned, exited, failed, was killed, or handed
 * off in turn): finish running it with sw__run_task's loop, then resume the
 * caller, or have it follow the tasklets the woken switched to.
 * `resume_counted`: see run_woken_now. */
static __attribute__((noinline)) sw_step run_woken_rest(sw_sched *s, sw_tasklet *t, sw_step r,
                                                       bool resume_counted) {
    uint32_t woken = s->nest.slot;
    s->resumes++; /* its first resume, in run_woken_now */
    /* SW_STEP_EXIT when it is gone: nobody to switch to */
    r = sw__run_on(s, &s->nest, woken, r, true);
    struct sw__task *k = t->task; /* kept up to date if the table moved */
    if (k->state == SW_TASK_ZOMBIE) return SW_STEP_EXIT;
    if (r == SW_STEP_SWITCH) {
        /* the woken handed off in turn, so it and its partner head the
           run-next stack (see wake): this tasklet runs right after them,
           where the run-next stack would have had it */
        uint32_t me = t->slot;
        k->state = SW_TASK_RUNNABLE;
        k->next = s->tasks[woken].next;
        s->tasks[woken].next = me;
        if (resume_counted) k->spin--; /* the scheduler will count it */
        return SW_STEP_SWITCH;
    }
    if (!resume_counted) SW__SPIN_OR_FAIL(s, k, t->slot);
    s->resumes++;
    return SW_STEP_CONTINUE;
}

/* The handoff's fast path. Switching to the woken tasklet and back means the
 * current one returns to the scheduler, which pops the woken, runs it until it
 * suspends, then pops and resumes the current one. Running the woken right
 * here, on this C stack, does the same in the same order without the round
 * trip; one level only, so a chain of handoffs cannot grow the C stack. The
 * woken runs under its own view (s->nest), so the caller's view needs no
 * saving and restoring, and keeps its random-number key; and a handoff runs
 * inline exactly when the running view is s->nest (no flag to set and clear). The current tasklet
 * stays RUNNING meanwhile, so that if the woken kills it, its frames outlive
 * the C function still using them (as for killing oneself). This is
 * sw__run_task, less its check for a zombie (the woken was waiting on a
 * channel a moment ago, and killing it would have taken it off) and less the
 * watchdog's check of the woken's first resume: blocking zeroed its count,
 * and the limit is at least 1. `resume_counted`: the caller has already
 * counted the current tasklet's resume after the handoff towards the
 * watchdog, having found room for it (the fast path of SW_SEND counts its
 * operation and that resume with one check). `uncounted`: the woken was
 * taken off its channel without counting it out of blocked_hard (the fast
 * path of SW_SEND), because it most often blocks again on a rendezvous
 * channel through the fast path of SW_RECV, which then does not count it in
 * either (it returns SW__STEP_WAIT_HARD instead): two read-modify-writes of
 * the scheduler's record saved; whatever else it does, the count is settled
 * here or in run_woken_rest. blocked_hard is read only at the end of a
 * tick. */
static inline __attribute__((always_inline)) sw_step run_woken_now(sw_sched *s, sw_tasklet *t,
                                                                   struct sw__task *w, uint32_t woken,
                                                                   sw__frame *f, bool resume_counted,
                                                                   bool uncounted) {
    sw_tasklet *v = &s->nest;
    v->task = w;
    uint64_t slot_keyed = woken; /* v->slot = woken and v->keyed = 0, in one store */
    memcpy(&v->slot, &slot_keyed, sizeof slot_keyed);
    w->state = SW_TASK_RUNNING;
    w->spin = 1;
    sw_step r = s->funcs[f->fn].run(v, f + 1);
    s = t->sched; /* fewer registers to keep across the call */
    /* the common case: the woken blocked again on a rendezvous channel
       (SW__STEP_WAIT_HARD, not counted in blocked_hard), which it cannot
       have done after being killed: every operation checks that. Else it
       slept, yielded, blocked elsewhere (SW_STEP_WAIT, counted), or did not
       suspend (run_woken_rest) */
    if (__builtin_expect(r != SW__STEP_WAIT_HARD, 0)) {
        if (uncounted) s->blocked_hard--; /* it left the channel for good */
        if (r != SW_STEP_WAIT) return run_woken_rest(s, t, r, resume_counted);
    } else if (!uncounted) {
        s->blocked_hard++; /* it left the channel and blocked again */
    }
    s->resumes += 2; /* the woken's and, below, this tasklet's */
    struct sw__task *k = t->task; /* kept up to date if the table moved */
    if (__builtin_expect(k->state == SW_TASK_ZOMBIE, 0)) return SW_STEP_EXIT; /* the woken killed it */
    /* resumed, as the scheduler would have counted it */
    if (!resume_counted) SW__SPIN_OR_FAIL(s, k, t->slot);
    return SW_STEP_CONTINUE;
}

/* Wake `slot` after a completed handoff. When the channel prefers the woken
 * side, the woken tasklet runs at once and the current one right after it. */
static inline sw_step wake(sw_sched *s, sw_tasklet *t, sw__chan *c, uint32_t slot, bool woken_is_receiver) {
    struct sw__task *w = &s->tasks[slot];
    w->status = SW_OK;
    if (woken_is_receiver && w->discard) /* its frame has no target (ref is none already) */
        w->discard = 0;
    else
        w->top->ref = SW__NO_REF;
    int prefer_woken = woken_is_receiver ? SW_PREFER_RECEIVER : SW_PREFER_SENDER;
    if (t && c->pref == prefer_woken) {
        if (t != &s->nest) return run_woken_now(s, t, w, slot, w->top, false, false);
        sw__push_front(s, t->slot);
        sw__push_front(s, slot);
        return SW_STEP_SWITCH;
    }
    sw__make_runnable(s, slot);
    return SW_STEP_CONTINUE;
}


/* Give a waiter of an event channel the message, in its frame, unless it
 * drops it: then its frame, which it need not have in the cache until it
 * runs, is left alone (that record's flag is all a post reads of it). Out
 * of the loop below, which stays small for the common one-waiter queue. */
static inline void wake_one_msg(struct sw__task *w, const sw_msg *msg) {
    if (w->discard) {
        w->discard = 0;
        return;
    }
    sw__frame *f = w->top;
    msg_copy(frame_ref_at(f), msg);
    f->ref = SW__NO_REF;
}

/* A send on an event channel: every waiter gets the message and joins the
 * back of the run queue, in the order they began to wait. The wait queue is
 * already linked in that order through `next`, the run queue's link, so it
 * is spliced onto the run queue whole; each waiter is touched once, for its
 * message and state (its record, then, unless it drops the message, its
 * frame: the misses of a wake-up).
 *
 * The post's common case (an event channel whose one waiter drops the
 * message: a grass cell of wolf-sheep) writes that waiter's record without
 * a load from it. `lone` is set by a receiver without destination that
 * finds the queue empty, and cleared when that receiver leaves (woken,
 * closed, killed): while the queue is that one waiter (head == tail), it is
 * the receiver that set it. That record is cold in a large world (the
 * waiter has slept for ticks), and the stores need not wait for it, where a
 * load of its `next` or `discard` would stall the poster; the channel says
 * all that the loads would (one waiter, so its `next` is SW__NIL already; it
 * drops the message; its kind, which also spares the keyed triage the
 * record: see sw__fifo_joined). */
static inline __attribute__((always_inline)) void wake_all(sw_sched *s, sw__chan *c, const sw_msg *msg) {
    uint32_t head = c->head;
    if (head == SW__NIL) return;
    uint32_t tail = s->back_tail;
    if (c->lone && head == c->tail) { /* (a waiter behind it: the loop) */
        struct sw__task *w = &s->tasks[head];
        w->discard = 0;
        w->status = SW_OK;
        w->state = SW_TASK_RUNNABLE;
        sw__fifo_joined(s, tail, head, (uint32_t)c->lone - 1);
    } else {
        for (uint32_t slot = head; slot != SW__NIL;) {
            struct sw__task *w = &s->tasks[slot];
            slot = w->next;
            wake_one_msg(w, msg);
            w->status = SW_OK;
            w->state = SW_TASK_RUNNABLE;
        }
    }
    if (tail == SW__NIL)
        s->back_head = head;
    else
        s->tasks[tail].next = head;
    s->back_tail = c->tail;
    c->head = c->tail = SW__NIL;
    c->balance = 0; /* sends never wait on an event channel */
    c->lone = 0;    /* (whoever set it has left) */
}

/* ---- operations ------------------------------------------------------------------ */

/* Deliver msg on open channel c without blocking, as SW_SEND and
 * sw_chan_post both do: to every waiter of an event channel, to the first
 * waiting receiver, or into the buffer. SW_OK, with *step what the sender
 * does next (the handoff's, sw_chan_post passing no sender), or SW_E_FULL
 * when a sender would have to wait. */
static inline __attribute__((always_inline)) int deliver(sw_sched *s, sw_tasklet *t, sw__chan *c,
                                                         const sw_msg *msg, sw_step *step) {
    *step = SW_STEP_CONTINUE;
    if (c->kind == SW_CHAN_EVENT) {
        wake_all(s, c, msg);
        return SW_OK;
    }
    if (c->balance < 0) { /* a receiver waits: hand over directly */
        uint32_t r = dequeue(s, c, true); /* not an event channel: returned above */
        c->balance++;
        if (c->head == SW__NIL) c->discarding = 0;
        if (!s->tasks[r].discard) msg_copy(frame_ref(&s->tasks[r]), msg);
        *step = wake(s, t, c, r, true);
        return SW_OK;
    }
    if (c->kind == SW_CHAN_BUFFERED && c->count < c->cap) {
        msg_copy(&c->buf[(c->first + c->count++) % c->cap], msg);
        return SW_OK;
    }
    return SW_E_FULL;
}

/* SW_SEND after the common checks, every case. Out of line: sw__send_at keeps
 * the one case that dominates (a receiver waiting) free of stack frames. */
static __attribute__((noinline)) sw_step send_any(sw_sched *s, sw_tasklet *t, struct sw__task *k,
                                                  sw__chan *c, sw_chan ch, const sw_msg *msg) {
    if (c->closed) {
        k->status = SW_E_CLOSED;
        return SW_STEP_CONTINUE;
    }
    k->status = SW_OK;
    sw_step step;
    if (deliver(s, t, c, msg, &step) == SW_OK) return step;
    uint32_t ref = ref_of(s, k, msg);
    if (ref == SW__NO_REF) {
        sw__errf(s, "SW_SEND: the message must be a field of the sender's frame");
        s->error = SW_E_INVALID;
        return SW_STEP_FAIL;
    }
    return block(s, t, k, c, ch, true, ref, true);
}

/* SW_SEND's common case, a receiver waiting on a rendezvous channel that
 * prefers receivers (Stackless's default): hand the message over and run the
 * receiver at once. The caller has counted the operation and the resume
 * after it, and checked the channel (chan_is_default_rendezvous). */
static inline __attribute__((always_inline)) sw_step hand_to_receiver(sw_sched *s, sw_tasklet *t,
                                                                      struct sw__task *k, sw__chan *c,
                                                                      const sw_msg *msg) {
    k->status = SW_OK;
    /* a rendezvous channel, but blocked_hard is left as it is: the woken
       most likely blocks again at once, and run_woken_now settles it */
    uint32_t r = dequeue(s, c, false);
    c->balance++;
    struct sw__task *w = &s->tasks[r];
    sw__frame *f = w->top;
    msg_copy(frame_ref_at(f), msg);
    f->ref = SW__NO_REF;
    w->status = SW_OK;
    return run_woken_now(s, t, w, r, f, true, true);
}

/* SW_SEND, every case but the one above, counted first: a loop sending to a
 * closed or stale channel never suspends either, and must not hang the tick. */
static __attribute__((noinline)) sw_step send_slow(sw_sched *s, sw_tasklet *t, sw_chan ch, const sw_msg *msg) {
    struct sw__task *k = t->task;
    SW__SPIN_OR_FAIL(s, k, t->slot);
    sw__chan *c = sw__chan_get(s, ch);
    if (!c) {
        k->status = SW_E_STALE;
        return SW_STEP_CONTINUE;
    }
    return send_any(s, t, k, c, ch, msg);
}

sw_step sw__send_at(sw_tasklet *t, int pc, sw_chan ch, const sw_msg *msg) {
    sw_sched *s = t->sched;
    struct sw__task *k = t->task;
    k->top->pc = (uint16_t)pc;
    if (k->state == SW_TASK_ZOMBIE) return SW_STEP_EXIT;
    uint32_t slot = sw_handle_slot(ch);
    /* the fast path, where the watchdog has room for this operation and the
       resume after the handoff, counted together (the limit is at least 1) */
    if (__builtin_expect(k->spin < s->d.watchdog - 1 && slot < s->nchans, 1)) {
        sw__chan *c = &s->chans[slot];
        /* a receiver waits, outside an inline run */
        if (chan_is_default_rendezvous(c, ch) && __builtin_expect(c->balance < 0, 1) &&
            __builtin_expect(t != &s->nest, 1)) {
            k->spin += 2;
            return hand_to_receiver(s, t, k, c, msg);
        }
    }
    return send_slow(s, t, ch, msg);
}

static sw_step recv_any(sw_sched *s, sw_tasklet *t, struct sw__task *k, sw__chan *c, sw_chan ch, sw_msg *dst);

/* SW_RECV on an open event channel, where nothing is ever taken at once
 * (senders never wait there, nothing is buffered): it blocks, which is
 * what recv_any comes to, without recv_any's tests (a wolf-sheep grass cell
 * grown again: ~30 instructions fewer; a tree or a resident ~15). A
 * destination outside the frame goes on to recv_any, which reports it. */
static inline __attribute__((always_inline)) sw_step recv_event(sw_sched *s, sw_tasklet *t, struct sw__task *k,
                                                                sw__chan *c, sw_chan ch, sw_msg *dst) {
    if (!dst) { /* dropping the message: see wake_all's lone waiter (block sets the status) */
        k->discard = 1;
        if (c->head == SW__NIL) c->lone = (uint64_t)k->kind + 1;
        return block(s, t, k, c, ch, false, SW__NO_REF, false);
    }
    uint32_t ref = ref_of(s, k, dst);
    if (__builtin_expect(ref == SW__NO_REF, 0)) return recv_any(s, t, k, c, ch, dst);
    return block(s, t, k, c, ch, false, ref, false);
}

/* SW_RECV after the common checks, every case (see send_any). */
static __attribute__((noinline)) sw_step recv_any(sw_sched *s, sw_tasklet *t, struct sw__task *k,
                                                  sw__chan *c, sw_chan ch, sw_msg *dst) {
    k->status = SW_OK;
    if (c->kind == SW_CHAN_BUFFERED && c->count > 0) {
        if (dst) *dst = c->buf[c->first];
        c->first = (c->first + 1) % c->cap;
        c->count--;
        if (c->balance > 0) { /* a sender waited for room */
            uint32_t w = dequeue(s, c, true); /* a buffered channel */
            c->balance--;
            c->buf[(c->first + c->count++) % c->cap] = *frame_ref(&s->tasks[w]);
            return wake(s, t, c, w, false);
        }
        return SW_STEP_CONTINUE;
    }
    if (c->balance > 0) { /* a sender waits (rendezvous) */
        uint32_t w = dequeue(s, c, true); /* senders never wait on an event channel */
        c->balance--;
        if (dst) *dst = *frame_ref(&s->tasks[w]);
        return wake(s, t, c, w, false);
    }
    if (c->closed) {
        k->status = SW_E_CLOSED;
        return SW_STEP_CONTINUE;
    }
    /* from here on an open channel with nothing to take: a rendezvous or
       buffered one, or an event channel whose receiver's destination is not
       in its frame (recv_event, finding no ref, came here; it fails below) */
    if (!dst) {
        /* no target in its frame (ref none, as a snapshot stores it), the
           fact kept in its record, where every wake looks first; on a
           rendezvous channel the channel is marked too, to keep the fast
           paths (which copy into the waiter's frame unasked) off it */
        k->discard = 1;
        if (c->kind == SW_CHAN_RENDEZVOUS) c->discarding = 1;
        return block(s, t, k, c, ch, false, SW__NO_REF, true);
    }
    uint32_t ref = ref_of(s, k, dst);
    if (ref == SW__NO_REF) {
        sw__errf(s, "SW_RECV: the destination must be a field of the receiver's frame");
        s->error = SW_E_INVALID;
        return SW_STEP_FAIL;
    }
    if (c->kind == SW_CHAN_RENDEZVOUS) c->dst_ok = dst_ok_of(s, k->top); /* for the fast path's next time */
    return block(s, t, k, c, ch, false, ref, true);
}

/* SW_RECV, every case but its fast path (below), counted first. */
static __attribute__((noinline)) sw_step recv_slow(sw_sched *s, sw_tasklet *t, sw_chan ch, sw_msg *dst) {
    struct sw__task *k = t->task;
    SW__SPIN_OR_FAIL(s, k, t->slot);
    sw__chan *c = sw__chan_get(s, ch);
    if (!c) {
        k->status = SW_E_STALE;
        return SW_STEP_CONTINUE;
    }
    if (c->kind == SW_CHAN_EVENT && !c->closed) return recv_event(s, t, k, c, ch, dst);
    return recv_any(s, t, k, c, ch, dst);
}

sw_step sw__recv_at(sw_tasklet *t, int pc, sw_chan ch, sw_msg *dst) {
    sw_sched *s = t->sched;
    struct sw__task *k = t->task;
    k->top->pc = (uint16_t)pc;
    if (k->state == SW_TASK_ZOMBIE) return SW_STEP_EXIT;
    /* the fast path: blocking on a rendezvous channel with nobody to take
       from, as recv_any would, where the watchdog has room for this
       operation (which blocking then zeroes, so it is not stored) and the
       channel's cached check accepts the destination (any failing check
       leaves it to recv_any) */
    sw__frame *f = k->top;
    uint64_t off = (uintptr_t)dst - (uintptr_t)f - sizeof *f; /* huge when dst is below */
    uint32_t slot = sw_handle_slot(ch);
    if (__builtin_expect(slot < s->nchans && k->spin < s->d.watchdog, 1)) {
        sw__chan *c = &s->chans[slot];
        uint32_t ref = (uint32_t)off;
        /* nobody to take from (other preferences go the long way, to the
           same effect) */
        if (dst_cached_ok(c, f, off) && chan_is_default_rendezvous(c, ch) &&
            __builtin_expect(c->balance <= 0, 1)) {
            /* run inline by a handoff: not counted in blocked_hard here
               but by run_woken_now, which most often has nothing to do (the
               handoff left the count as it was) */
            if (t == &s->nest) {
                block(s, t, k, c, ch, false, ref, false);
                return SW__STEP_WAIT_HARD;
            }
            return block(s, t, k, c, ch, false, ref, true);
        }
    }
    return recv_slow(s, t, ch, dst);
}

sw_step sw__wait_at(sw_tasklet *t, int pc, sw_chan ch) {
    sw_sched *s = t->sched;
    struct sw__task *k = t->task;
    k->top->pc = (uint16_t)pc;
    if (k->state == SW_TASK_ZOMBIE) return SW_STEP_EXIT;
    /* an open event channel, the watchdog with room for this operation
       (which blocking zeroes, so it is not stored): recv_event's block with
       nothing to check on a destination. Else SW_RECV's every case. */
    sw__chan *c = sw__chan_get(s, ch);
    if (__builtin_expect(c && k->spin < s->d.watchdog && c->kind == SW_CHAN_EVENT && !c->closed, 1))
        return recv_event(s, t, k, c, ch, NULL);
    return recv_slow(s, t, ch, NULL);
}

void sw_chan_prefetch(const sw_sched *s, sw_chan ch) {
    uint32_t slot = sw_handle_slot(ch);
    if (slot < s->nchans) __builtin_prefetch(&s->chans[slot], 1);
}

int sw_chan_post(sw_sched *s, sw_chan ch, const sw_msg *msg) {
    sw__chan *c = sw__chan_get(s, ch);
    if (!c) return SW_E_STALE;
    if (c->closed) return SW_E_CLOSED;
    sw_step step; /* no sender: the woken runs in its turn */
    return deliver(s, NULL, c, msg, &step);
}

int sw_chan_close(sw_sched *s, sw_chan ch) {
    sw__chan *c = sw__chan_get(s, ch);
    if (!c) return SW_E_STALE;
    c->closed = 1;
    while (c->head != SW__NIL) {
        uint32_t w = dequeue(s, c, c->kind != SW_CHAN_EVENT);
        struct sw__task *k = &s->tasks[w];
        k->status = SW_E_CLOSED;
        if (k->discard)
            k->discard = 0; /* its frame has no target */
        else
            k->top->ref = SW__NO_REF;
        sw__make_runnable(s, w);
    }
    c->balance = 0;
    c->discarding = 0;
    /* `lone` may be left set: a closed channel is never posted to (wake_all)
       nor waited on, and a record reused is opened anew (sw__chan_open_at) */
    return SW_OK;
}

/* ---- queries ----------------------------------------------------------------------- */

int32_t sw_chan_balance(const sw_sched *s, sw_chan ch) {
    sw__chan *c = sw__chan_get(s, ch);
    return c ? c->balance : 0;
}
uint32_t sw_chan_queued(const sw_sched *s, sw_chan ch) {
    sw__chan *c = sw__chan_get(s, ch);
    return c ? c->count : 0;
}
int sw_chan_preference(const sw_sched *s, sw_chan ch) {
    sw__chan *c = sw__chan_get(s, ch);
    return c ? c->pref : 0;
}
int sw_chan_set_preference(sw_sched *s, sw_chan ch, int preference) {
    sw__chan *c = sw__chan_get(s, ch);
    if (!c) return SW_E_STALE;
    if (preference < -1 || preference > 1) return SW_E_INVALID;
    c->pref = (int8_t)preference;
    return SW_OK;
}
bool sw_chan_closed(const sw_sched *s, sw_chan ch) {
    sw__chan *c = sw__chan_get(s, ch);
    return c ? c->closed : true;
}
bool sw_chan_alive(const sw_sched *s, sw_chan ch) { return sw__chan_get(s, ch) != NULL; }
sw_chan_kind sw_chan_kind_of(const sw_sched *s, sw_chan ch) {
    sw__chan *c = sw__chan_get(s, ch);
    return c ? (sw_chan_kind)c->kind : SW_CHAN_RENDEZVOUS;
}
uint64_t sw_chan_key(const sw_sched *s, sw_chan ch) {
    sw__chan *c = sw__chan_get(s, ch);
    return c ? c->key : 0;
}

uint32_t sw_chan_waiters(const sw_sched *s, sw_chan ch, sw_id *out, uint32_t cap) {
    sw__chan *c = sw__chan_get(s, ch);
    if (!c) return 0;
    uint32_t n = 0;
    for (uint32_t slot = c->head; slot != SW__NIL; slot = s->tasks[slot].next) {
        if (n < cap) out[n] = sw_handle_make(slot, s->tasks[slot].gen);
        n++;
    }
    return n;
}
