/* channel.h - channels: how tasklets wait for each other and for the world.
 *
 * Three kinds, all with waiters queued FIFO inside the channel (never on a
 * stack), so a snapshot can list them in order:
 *
 * - SW_CHAN_RENDEZVOUS: Stackless semantics. A send hands its message to the
 *   first waiting receiver; with none, the sender blocks in the queue. A
 *   receive takes from the first waiting sender or blocks. `balance` is the
 *   number of senders waiting (> 0) or minus the receivers waiting (< 0).
 *   `preference` decides who runs on when a waiter is woken: the receiver
 *   (SW_PREFER_RECEIVER, Stackless's default -1: the woken receiver runs at
 *   once and the sender resumes right after it), the sender (SW_PREFER_SENDER,
 *   +1: a woken sender runs at once), or neither (0: the woken tasklet goes to
 *   the back of the run queue and the caller carries on).
 * - SW_CHAN_BUFFERED: a bounded FIFO queue of `capacity` messages. A send
 *   blocks only when the queue is full, a receive only when it is empty.
 * - SW_CHAN_EVENT: a broadcast. A send never blocks: it wakes every tasklet
 *   waiting at that moment, each receiving the message, in the order they
 *   began to wait, and is dropped when nobody waits ("fire reached this cell").
 *
 * Closing a channel wakes every waiter with sw_status() == SW_E_CLOSED; later
 * sends fail at once with SW_E_CLOSED, and receives do too once a buffered
 * channel is drained. Waiting on an event channel is waiting for the world:
 * such waiters never count towards a deadlock. */
#ifndef SW_CHANNEL_H
#define SW_CHANNEL_H

#include "base.h"

typedef struct sw_sched sw_sched;

typedef enum {
    SW_CHAN_RENDEZVOUS = 0,
    SW_CHAN_BUFFERED = 1,
    SW_CHAN_EVENT = 2,
} sw_chan_kind;

enum { SW_PREFER_RECEIVER = -1, SW_PREFER_NEITHER = 0, SW_PREFER_SENDER = 1 };

typedef struct sw_chan_desc {
    sw_chan_kind kind;
    uint32_t capacity; /* buffered channels: the bound (>= 1) */
    int preference;    /* rendezvous channels; 0 is read as the default unless
                          `explicit_neither` is set */
    bool explicit_neither;
    uint64_t key;      /* free for the owner (the world's cell or agent key) */
} sw_chan_desc;

/* Make a channel. Returns its handle, or SW_CHAN_NONE (see sw_sched_errmsg). */
sw_chan sw_chan_new(sw_sched *s, const sw_chan_desc *desc);
/* Free a channel. Waiters are woken as by sw_chan_close first. */
int sw_chan_free(sw_sched *s, sw_chan ch);
/* Close: wake every waiter with SW_E_CLOSED. Idempotent. */
int sw_chan_close(sw_sched *s, sw_chan ch);

/* Senders waiting (> 0) or minus receivers waiting (< 0); 0 for a stale handle. */
int32_t sw_chan_balance(const sw_sched *s, sw_chan ch);
/* Messages queued in a buffered channel. */
uint32_t sw_chan_queued(const sw_sched *s, sw_chan ch);
int sw_chan_preference(const sw_sched *s, sw_chan ch);
int sw_chan_set_preference(sw_sched *s, sw_chan ch, int preference);
bool sw_chan_closed(const sw_sched *s, sw_chan ch);
bool sw_chan_alive(const sw_sched *s, sw_chan ch);
sw_chan_kind sw_chan_kind_of(const sw_sched *s, sw_chan ch);
uint64_t sw_chan_key(const sw_sched *s, sw_chan ch);

/* Send from outside any tasklet (the world, a scheduled event, a test). It
 * never blocks: it fails with SW_E_FULL where a tasklet would have to wait
 * (no receiver on a rendezvous channel, a full buffer). Woken tasklets go to
 * the back of the run queue. */
int sw_chan_post(sw_sched *s, sw_chan ch, const sw_msg *msg);
/* A hint, with no effect on behaviour: start bringing channel `ch`'s record
 * into the cache, ahead of a post or receive that is coming soon (one whose
 * channel is found early and used after other work). */
void sw_chan_prefetch(const sw_sched *s, sw_chan ch);

/* The tasklets waiting on a channel, in queue order: up to `cap` ids are
 * written to `out`; returns how many are waiting. */
uint32_t sw_chan_waiters(const sw_sched *s, sw_chan ch, sw_id *out, uint32_t cap);

#endif
