/* test_channel.c - every channel rule: Stackless balance and preference
 * (checked against an exact trace of who ran when), FIFO waiters, kill while
 * blocked, close, buffered and event channels, posting from outside. */
#include <criterion/criterion.h>
#include "swarmlet.h"
#include "support.h"

#include <stdio.h>
#include <string.h>

/* ---- a trace of who ran when ------------------------------------------------ */

static void trace_reset(void) { sw_test_trace[0] = '\0'; }

/* ---- agents ------------------------------------------------------------------- */

/* Receives `n` messages (1 if n is 0), tracing each, then exits. */
typedef struct {
    sw_chan ch;
    int32_t name, n, got;
    sw_msg m;
} rx;

static sw_step rx_run(sw_tasklet *t, void *frame) {
    rx *f = frame;
    SW_BEGIN(t, take);
    do {
        sw_test_tr("R%d:wait", f->name);
        SW_RECV(t, take, f->ch, &f->m);
        if (sw_status(t) != SW_OK) {
            sw_test_tr("R%d:%s", f->name, sw_status_name(sw_status(t)));
            SW_EXIT(t);
        }
        sw_test_tr("R%d:got%d", f->name, f->m.i);
    } while (++f->got < f->n);
    SW_END(t);
}
static const sw_field rx_fields[] = {SW_FIELD(rx, ch, SW_T_CHAN), SW_FIELD(rx, name, SW_T_I32),
                                     SW_FIELD(rx, n, SW_T_I32), SW_FIELD(rx, got, SW_T_I32),
                                     SW_FIELD(rx, m, SW_T_MSG), SW_FIELD_END};
static const sw_kind rx_kind = {.name = "rx", .frame_size = sizeof(rx), .fields = rx_fields, .run = rx_run};

/* Sends values first, first+1, ... (`n` of them, 1 if n is 0), tracing. */
typedef struct {
    sw_chan ch;
    int32_t name, n, sent, first;
    sw_msg m;
} tx;

static sw_step tx_run(sw_tasklet *t, void *frame) {
    tx *f = frame;
    SW_BEGIN(t, put);
    do {
        f->m = (sw_msg){.tag = 1, .i = f->first + f->sent};
        sw_test_tr("S%d:send%d", f->name, f->m.i);
        SW_SEND(t, put, f->ch, &f->m);
        if (sw_status(t) != SW_OK) {
            sw_test_tr("S%d:%s", f->name, sw_status_name(sw_status(t)));
            SW_EXIT(t);
        }
        sw_test_tr("S%d:sent%d", f->name, f->m.i);
    } while (++f->sent < f->n);
    SW_END(t);
}
static const sw_field tx_fields[] = {SW_FIELD(tx, ch, SW_T_CHAN), SW_FIELD(tx, name, SW_T_I32),
                                     SW_FIELD(tx, n, SW_T_I32), SW_FIELD(tx, sent, SW_T_I32),
                                     SW_FIELD(tx, first, SW_T_I32), SW_FIELD(tx, m, SW_T_MSG),
                                     SW_FIELD_END};
static const sw_kind tx_kind = {.name = "tx", .frame_size = sizeof(tx), .fields = tx_fields, .run = tx_run};

/* Traces once and exits: a bystander that shows where the queue stands. */
typedef struct { int32_t name; } by;
static sw_step by_run(sw_tasklet *t, void *frame) {
    by *f = frame;
    SW_BEGIN(t);
    sw_test_tr("X%d", f->name);
    SW_END(t);
}
static const sw_kind by_kind = {.name = "by", .frame_size = sizeof(by), .run = by_run};

static sw_sched *mk(void) {
    trace_reset();
    sw_sched *s = sw_sched_new(&(sw_sched_desc){.seed = 7});
    cr_assert_not_null(s);
    sw_sched_hold(s, 1); /* blocked tasklets here are waiting on the test, not deadlocked */
    return s;
}

static sw_chan mkchan(sw_sched *s, sw_chan_kind kind, uint32_t cap, int pref) {
    sw_chan ch = sw_chan_new(s, &(sw_chan_desc){.kind = kind, .capacity = cap, .preference = pref,
                                                 .explicit_neither = pref == 0});
    cr_assert_neq(ch, SW_CHAN_NONE, "%s", sw_sched_errmsg(s));
    return ch;
}

static sw_id spawn_rx(sw_sched *s, sw_chan ch, int name, int n) {
    return sw_sched_spawn(s, &rx_kind, &(rx){.ch = ch, .name = name, .n = n}, 0);
}
static sw_id spawn_tx(sw_sched *s, sw_chan ch, int name, int n, int first) {
    return sw_sched_spawn(s, &tx_kind, &(tx){.ch = ch, .name = name, .n = n, .first = first}, 0);
}
static void spawn_by(sw_sched *s, int name) { sw_sched_spawn(s, &by_kind, &(by){name}, 0); }

/* ---- preference and balance ----------------------------------------------------- */

/* A receiver waits; a sender arrives; a bystander is queued behind the sender. */
static const char *receiver_waits(int pref, int32_t *balance_mid) {
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_RENDEZVOUS, 0, pref);
    spawn_rx(s, ch, 1, 1);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    *balance_mid = sw_chan_balance(s, ch);
    spawn_tx(s, ch, 1, 1, 5);
    spawn_by(s, 1);
    cr_assert_eq(sw_sched_step(s), SW_OK, "%s", sw_sched_report(s));
    cr_assert_eq(sw_chan_balance(s, ch), 0);
    cr_assert_eq(sw_sched_count(s), 0);
    sw_sched_free(s);
    return sw_test_trace;
}

/* A sender waits; a receiver arrives; a bystander is queued behind it. */
static const char *sender_waits(int pref, int32_t *balance_mid) {
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_RENDEZVOUS, 0, pref);
    spawn_tx(s, ch, 1, 1, 5);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    *balance_mid = sw_chan_balance(s, ch);
    spawn_rx(s, ch, 1, 1);
    spawn_by(s, 1);
    cr_assert_eq(sw_sched_step(s), SW_OK, "%s", sw_sched_report(s));
    cr_assert_eq(sw_chan_balance(s, ch), 0);
    sw_sched_free(s);
    return sw_test_trace;
}

Test(channel, default_preference_is_receiver) {
    sw_sched *s = mk();
    sw_chan r = sw_chan_new(s, &(sw_chan_desc){0});
    sw_chan b = sw_chan_new(s, &(sw_chan_desc){.kind = SW_CHAN_BUFFERED, .capacity = 1});
    cr_assert_eq(sw_chan_preference(s, r), SW_PREFER_RECEIVER);
    cr_assert_eq(sw_chan_preference(s, b), SW_PREFER_NEITHER);
    cr_assert_eq(sw_chan_set_preference(s, r, 1), SW_OK);
    cr_assert_eq(sw_chan_preference(s, r), SW_PREFER_SENDER);
    cr_assert_eq(sw_chan_set_preference(s, r, 2), SW_E_INVALID);
    cr_assert_eq(sw_chan_new(s, &(sw_chan_desc){.preference = 3}), SW_CHAN_NONE);
    cr_assert_eq(sw_chan_new(s, &(sw_chan_desc){.kind = SW_CHAN_BUFFERED}), SW_CHAN_NONE);
    sw_sched_free(s);
}

Test(channel, prefer_receiver_runs_receiver_then_sender) {
    int32_t bal;
    cr_assert_str_eq(receiver_waits(-1, &bal), "R1:wait S1:send5 R1:got5 S1:sent5 X1");
    cr_assert_eq(bal, -1);
    /* the receiver arrives second: the waiting sender is not preferred, goes
       to the back, and the receiver carries on */
    cr_assert_str_eq(sender_waits(-1, &bal), "S1:send5 R1:wait R1:got5 X1 S1:sent5");
    cr_assert_eq(bal, 1);
}

Test(channel, prefer_sender_runs_woken_sender_first) {
    int32_t bal;
    cr_assert_str_eq(sender_waits(1, &bal), "S1:send5 R1:wait S1:sent5 R1:got5 X1");
    cr_assert_eq(bal, 1);
    cr_assert_str_eq(receiver_waits(1, &bal), "R1:wait S1:send5 S1:sent5 X1 R1:got5");
    cr_assert_eq(bal, -1);
}

Test(channel, prefer_neither_sends_woken_to_back) {
    int32_t bal;
    cr_assert_str_eq(receiver_waits(0, &bal), "R1:wait S1:send5 S1:sent5 X1 R1:got5");
    cr_assert_str_eq(sender_waits(0, &bal), "S1:send5 R1:wait R1:got5 X1 S1:sent5");
}

Test(channel, ping_pong_interleaving) {
    /* two values each way through one channel with the default preference:
       every send hands over at once and the sender resumes right after */
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_RENDEZVOUS, 0, -1);
    spawn_rx(s, ch, 1, 3);
    spawn_tx(s, ch, 1, 3, 1);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "R1:wait S1:send1 R1:got1 R1:wait S1:sent1 S1:send2 R1:got2 R1:wait "
                              "S1:sent2 S1:send3 R1:got3 S1:sent3");
    sw_sched_free(s);
}

Test(channel, balance_counts_waiters_fifo) {
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_RENDEZVOUS, 0, -1);
    sw_id r[3];
    for (int i = 0; i < 3; i++) r[i] = spawn_rx(s, ch, i + 1, 1);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_eq(sw_chan_balance(s, ch), -3);
    sw_id w[4];
    cr_assert_eq(sw_chan_waiters(s, ch, w, 4), 3);
    for (int i = 0; i < 3; i++) cr_assert_eq(w[i], r[i]);
    sw_task_info info;
    cr_assert_eq(sw_sched_inspect(s, r[1], &info), SW_OK);
    cr_assert_eq(info.state, SW_TASK_RECV);
    cr_assert_eq(info.chan, ch);
    cr_assert_str_eq(info.point, "take");
    trace_reset();
    for (int i = 0; i < 3; i++) cr_assert_eq(sw_chan_post(s, ch, &(sw_msg){.i = 10 + i}), SW_OK);
    cr_assert_eq(sw_chan_balance(s, ch), 0);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "R1:got10 R2:got11 R3:got12");
    /* senders queue FIFO too: balance goes positive */
    trace_reset();
    for (int i = 0; i < 3; i++) spawn_tx(s, ch, i + 1, 1, 20 + i);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_eq(sw_chan_balance(s, ch), 3);
    spawn_rx(s, ch, 9, 3);
    cr_assert_eq(sw_test_step_traced(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "R9:wait R9:got20 R9:wait R9:got21 R9:wait R9:got22 S1:sent20 "
                              "S2:sent21 S3:sent22");
    sw_sched_free(s);
}

/* ---- kill and close ------------------------------------------------------------- */

static int g_deaths;
static void on_death(sw_sched *s, sw_id id, void *ud) {
    (void)s; (void)ud;
    cr_assert_not(sw_sched_alive(s, id)); /* already gone from every queue */
    g_deaths++;
}

Test(channel, kill_while_blocked_leaves_queue) {
    sw_sched *s = mk();
    g_deaths = 0;
    sw_sched_on_death(s, on_death, NULL);
    sw_chan ch = mkchan(s, SW_CHAN_RENDEZVOUS, 0, -1);
    sw_id r[3];
    for (int i = 0; i < 3; i++) r[i] = spawn_rx(s, ch, i + 1, 1);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_eq(sw_sched_frames(s), 3);
    cr_assert_eq(sw_sched_kill(s, r[1]), SW_OK);
    cr_assert_eq(g_deaths, 1);
    cr_assert_eq(sw_sched_frames(s), 2);
    cr_assert_eq(sw_chan_balance(s, ch), -2);
    sw_id w[3];
    cr_assert_eq(sw_chan_waiters(s, ch, w, 3), 2);
    cr_assert_eq(w[0], r[0]);
    cr_assert_eq(w[1], r[2]);
    cr_assert_not(sw_sched_alive(s, r[1]));
    cr_assert_eq(sw_sched_kill(s, r[1]), SW_E_STALE);
    /* kill the head and the tail too: the queue stays consistent */
    cr_assert_eq(sw_sched_kill(s, r[0]), SW_OK);
    cr_assert_eq(sw_chan_waiters(s, ch, w, 3), 1);
    cr_assert_eq(w[0], r[2]);
    trace_reset();
    cr_assert_eq(sw_chan_post(s, ch, &(sw_msg){.i = 4}), SW_OK);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "R3:got4");
    cr_assert_eq(sw_chan_balance(s, ch), 0);
    cr_assert_eq(sw_sched_frames(s), 0);
    cr_assert_eq(g_deaths, 3);
    sw_sched_free(s);
}

Test(channel, kill_blocked_sender) {
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_RENDEZVOUS, 0, -1);
    sw_id a = spawn_tx(s, ch, 1, 1, 1);
    spawn_tx(s, ch, 2, 1, 2);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_eq(sw_chan_balance(s, ch), 2);
    cr_assert_eq(sw_sched_kill(s, a), SW_OK);
    cr_assert_eq(sw_chan_balance(s, ch), 1);
    spawn_rx(s, ch, 1, 1);
    cr_assert_eq(sw_test_step_traced(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "R1:wait R1:got2 S2:sent2");
    sw_sched_free(s);
}

Test(channel, close_wakes_waiters_with_closed) {
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_RENDEZVOUS, 0, -1);
    spawn_rx(s, ch, 1, 1);
    spawn_rx(s, ch, 2, 1);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_eq(sw_chan_close(s, ch), SW_OK);
    cr_assert_eq(sw_chan_close(s, ch), SW_OK); /* idempotent */
    cr_assert(sw_chan_closed(s, ch));
    cr_assert_eq(sw_chan_balance(s, ch), 0);
    cr_assert_eq(sw_test_step_traced(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "R1:channel closed R2:channel closed");
    /* later sends fail at once and do not block; receives too */
    trace_reset();
    spawn_tx(s, ch, 1, 1, 1);
    spawn_rx(s, ch, 3, 1);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "S1:send1 S1:channel closed R3:wait R3:channel closed");
    cr_assert_eq(sw_chan_post(s, ch, &(sw_msg){0}), SW_E_CLOSED);
    cr_assert_eq(sw_sched_count(s), 0);
    sw_sched_free(s);
}

Test(channel, close_wakes_blocked_senders) {
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_BUFFERED, 1, 0);
    spawn_tx(s, ch, 1, 3, 1);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "S1:send1 S1:sent1 S1:send2");
    trace_reset();
    sw_chan_close(s, ch);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "S1:channel closed");
    sw_sched_free(s);
}

Test(channel, free_wakes_and_goes_stale) {
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_RENDEZVOUS, 0, -1);
    spawn_rx(s, ch, 1, 1);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_eq(sw_chan_free(s, ch), SW_OK);
    cr_assert_not(sw_chan_alive(s, ch));
    cr_assert_eq(sw_chan_free(s, ch), SW_E_STALE);
    cr_assert_eq(sw_chan_post(s, ch, &(sw_msg){0}), SW_E_STALE);
    cr_assert_eq(sw_chan_close(s, ch), SW_E_STALE);
    cr_assert_eq(sw_chan_set_preference(s, ch, 0), SW_E_STALE);
    /* the slot is reused with a new generation: the old handle stays stale */
    sw_chan again = mkchan(s, SW_CHAN_RENDEZVOUS, 0, -1);
    cr_assert_eq(sw_handle_slot(again), sw_handle_slot(ch));
    cr_assert_neq(again, ch);
    cr_assert_not(sw_chan_alive(s, ch));
    cr_assert_eq(sw_test_step_traced(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "R1:channel closed");
    /* a tasklet using the stale handle is told so, and not blocked */
    trace_reset();
    spawn_rx(s, ch, 2, 1);
    spawn_tx(s, ch, 2, 1, 1);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "R2:wait R2:stale handle S2:send1 S2:stale handle");
    cr_assert_eq(sw_chan_balance(s, again), 0);
    sw_sched_free(s);
}

/* ---- buffered --------------------------------------------------------------------- */

Test(channel, buffered_blocks_when_full_and_empty) {
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_BUFFERED, 2, 0);
    spawn_tx(s, ch, 1, 4, 1);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "S1:send1 S1:sent1 S1:send2 S1:sent2 S1:send3");
    cr_assert_eq(sw_chan_queued(s, ch), 2);
    cr_assert_eq(sw_chan_balance(s, ch), 1);
    cr_assert_eq(sw_chan_post(s, ch, &(sw_msg){0}), SW_E_FULL);
    trace_reset();
    spawn_rx(s, ch, 1, 5);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    /* the receiver takes 1, which lets the sender's 3 into the buffer; the
       sender (preference neither) resumes at the back of the queue */
    cr_assert_str_eq(sw_test_trace, "R1:wait R1:got1 R1:wait R1:got2 R1:wait R1:got3 R1:wait S1:sent3 "
                              "S1:send4 S1:sent4 R1:got4 R1:wait");
    cr_assert_eq(sw_chan_queued(s, ch), 0);
    cr_assert_eq(sw_chan_balance(s, ch), -1);
    sw_sched_free(s);
}

Test(channel, buffered_drains_then_reports_closed) {
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_BUFFERED, 3, 0);
    for (int i = 0; i < 2; i++) cr_assert_eq(sw_chan_post(s, ch, &(sw_msg){.i = 7 + i}), SW_OK);
    cr_assert_eq(sw_chan_queued(s, ch), 2);
    sw_chan_close(s, ch);
    spawn_rx(s, ch, 1, 5);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "R1:wait R1:got7 R1:wait R1:got8 R1:wait R1:channel closed");
    sw_sched_free(s);
}

Test(channel, buffered_wraps_around_in_order) {
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_BUFFERED, 3, 0);
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 2; i++) cr_assert_eq(sw_chan_post(s, ch, &(sw_msg){.i = round * 2 + i}), SW_OK);
        trace_reset();
        spawn_rx(s, ch, round, 2);
        cr_assert_eq(sw_sched_step(s), SW_OK);
        char want[128];
        snprintf(want, sizeof want, "R%d:wait R%d:got%d R%d:wait R%d:got%d", round, round, round * 2,
                 round, round, round * 2 + 1);
        cr_assert_str_eq(sw_test_trace, want);
    }
    sw_sched_free(s);
}

/* ---- events ----------------------------------------------------------------------- */

Test(channel, event_broadcasts_in_wait_order) {
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_EVENT, 0, 0);
    for (int i = 1; i <= 4; i++) spawn_rx(s, ch, i, 1);
    cr_assert_eq(sw_sched_step(s), SW_OK); /* not a deadlock: they wait for the world */
    cr_assert_eq(sw_chan_balance(s, ch), -4);
    trace_reset();
    spawn_tx(s, ch, 1, 2, 3);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    /* the sender never blocks; the second send finds nobody and is dropped */
    cr_assert_str_eq(sw_test_trace, "S1:send3 S1:sent3 S1:send4 S1:sent4 R1:got3 R2:got3 R3:got3 R4:got3");
    cr_assert_eq(sw_chan_balance(s, ch), 0);
    trace_reset();
    spawn_rx(s, ch, 5, 1);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "R5:wait");
    cr_assert_eq(sw_chan_post(s, ch, &(sw_msg){.i = 9}), SW_OK);
    cr_assert_eq(sw_chan_post(s, ch, &(sw_msg){.i = 10}), SW_OK); /* nobody: dropped */
    cr_assert_eq(sw_test_step_traced(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "R5:got9");
    sw_sched_free(s);
}

Test(channel, event_many_waiters) {
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_EVENT, 0, 0);
    enum { N = 1000 };
    for (int i = 0; i < N; i++) spawn_rx(s, ch, i, 1);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_eq(sw_chan_balance(s, ch), -N);
    cr_assert_eq(sw_chan_post(s, ch, &(sw_msg){.i = 1}), SW_OK);
    cr_assert_eq(sw_chan_balance(s, ch), 0);
    cr_assert_eq(sw_test_step_traced(s), SW_OK);
    cr_assert_eq(sw_sched_count(s), 0);
    cr_assert_eq(sw_sched_resumes(s), N);
    sw_sched_free(s);
}

/* ---- receives that drop the message (SW_RECV with dst NULL) ------------------------ */

/* Receives `n` messages (1 if n is 0) with no destination, tracing each; its
 * `seen` field is a canary: nothing that wakes it may write to its frame.
 * With `waits`, by SW_WAIT, which must behave as SW_RECV with NULL does on
 * every kind of channel (the tests below run both ways). */
typedef struct {
    sw_chan ch;
    int32_t name, n, got;
    bool waits;
    sw_msg seen;
} deaf;

static sw_step deaf_run(sw_tasklet *t, void *frame) {
    deaf *f = frame;
    SW_BEGIN(t, take, wait);
    do {
        sw_test_tr("D%d:wait", f->name);
        if (f->waits)
            SW_WAIT(t, wait, f->ch);
        else
            SW_RECV(t, take, f->ch, NULL);
        if (sw_status(t) != SW_OK) {
            sw_test_tr("D%d:%s", f->name, sw_status_name(sw_status(t)));
            SW_EXIT(t);
        }
        sw_test_tr("D%d:woke", f->name);
    } while (++f->got < f->n);
    SW_END(t);
}
static const sw_kind deaf_kind = {.name = "deaf", .frame_size = sizeof(deaf), .run = deaf_run};

static const sw_msg canary = {.tag = 0xfeed, .i = -7, .who = 0x1234567, .x = 0xdeadbeef, .y = 42};

static bool deaf_waits; /* spawn_deaf's receivers use SW_WAIT */

static sw_id spawn_deaf(sw_sched *s, sw_chan ch, int name, int n) {
    return sw_sched_spawn(s, &deaf_kind,
                          &(deaf){.ch = ch, .name = name, .n = n, .waits = deaf_waits, .seen = canary}, 0);
}

/* A test of the receivers that drop the message, run with SW_RECV(..., NULL)
 * and again with SW_WAIT (its name + _by_sw_wait): the same traces. */
#define DEAF_TEST(name)                                     \
    static void name##_body(void);                          \
    Test(channel, name) {                                   \
        deaf_waits = false;                                 \
        name##_body();                                      \
    }                                                       \
    Test(channel, name##_by_sw_wait) {                      \
        deaf_waits = true;                                  \
        name##_body();                                      \
    }                                                       \
    static void name##_body(void)

static void assert_canary(sw_sched *s, sw_id id) {
    deaf *f = sw_sched_frame(s, id);
    cr_assert_not_null(f);
    cr_assert(memcmp(&f->seen, &canary, sizeof canary) == 0, "a wake-up wrote into the frame");
}

DEAF_TEST(event_receive_without_destination_drops_the_message) {
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_EVENT, 0, 0);
    spawn_rx(s, ch, 1, 2);
    sw_id d = spawn_deaf(s, ch, 2, 3);
    spawn_rx(s, ch, 3, 2);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_eq(sw_chan_balance(s, ch), -3); /* it waits like any receiver */
    trace_reset();
    cr_assert_eq(sw_chan_post(s, ch, &(sw_msg){.i = 7}), SW_OK);
    cr_assert_eq(sw_chan_balance(s, ch), 0);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    /* woken in wait order, the others still getting the message */
    cr_assert_str_eq(sw_test_trace, "R1:got7 R1:wait D2:woke D2:wait R3:got7 R3:wait");
    assert_canary(s, d);
    trace_reset();
    cr_assert_eq(sw_chan_post(s, ch, &(sw_msg){.i = 8}), SW_OK);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "R1:got8 D2:woke D2:wait R3:got8");
    assert_canary(s, d);
    trace_reset();
    cr_assert_eq(sw_chan_close(s, ch), SW_OK); /* the status still says why it woke */
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "D2:channel closed");
    cr_assert_eq(sw_sched_count(s), 0);
    sw_sched_free(s);
}

/* A waiter that drops the message, alone on an event channel, is woken
 * without its record being read (channel.c, wake_all's lone-waiter
 * branch): the channel must stop saying so as soon as another waiter joins
 * or it leaves. */
DEAF_TEST(event_lone_waiter_that_drops_the_message) {
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_EVENT, 0, 0);
    sw_id d = spawn_deaf(s, ch, 1, 3);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    trace_reset();
    cr_assert_eq(sw_chan_post(s, ch, &(sw_msg){.i = 5}), SW_OK); /* alone */
    cr_assert_eq(sw_chan_balance(s, ch), 0);
    cr_assert_eq(sw_chan_waiters(s, ch, NULL, 0), 0);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "D1:woke D1:wait");
    assert_canary(s, d);
    /* a receiver with a destination joins behind it: both hear, in order */
    spawn_rx(s, ch, 2, 1);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_eq(sw_chan_balance(s, ch), -2);
    trace_reset();
    cr_assert_eq(sw_chan_post(s, ch, &(sw_msg){.i = 6}), SW_OK);
    cr_assert_eq(sw_chan_balance(s, ch), 0);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "D1:woke D1:wait R2:got6");
    assert_canary(s, d);
    /* alone again, then killed; a receiver that waits after it gets the
       message in its frame */
    cr_assert_eq(sw_sched_kill(s, d), SW_OK);
    sw_id r = spawn_rx(s, ch, 3, 1);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    trace_reset();
    cr_assert_eq(sw_chan_post(s, ch, &(sw_msg){.i = 7}), SW_OK);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "R3:got7");
    cr_assert_null(sw_sched_frame(s, r)); /* it got its one message and exited */
    /* a second waiter that drops the message, behind a first */
    sw_id a = spawn_deaf(s, ch, 4, 1), b = spawn_deaf(s, ch, 5, 1);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    trace_reset();
    cr_assert_eq(sw_chan_post(s, ch, &(sw_msg){.i = 8}), SW_OK);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "D4:woke D5:woke");
    cr_assert_null(sw_sched_frame(s, a));
    cr_assert_null(sw_sched_frame(s, b));
    /* one that drops the message with a receiver behind it, woken together
       (the general path); then a receiver alone gets its message */
    spawn_deaf(s, ch, 7, 1);
    spawn_rx(s, ch, 8, 1);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    trace_reset();
    cr_assert_eq(sw_chan_post(s, ch, &(sw_msg){.i = 9}), SW_OK);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "D7:woke R8:got9");
    spawn_rx(s, ch, 9, 1);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    trace_reset();
    cr_assert_eq(sw_chan_post(s, ch, &(sw_msg){.i = 10}), SW_OK);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "R9:got10");
    /* closed: a receive without destination does not wait (the event
       channel's shortcut for it, in recv_slow, checks) */
    cr_assert_eq(sw_chan_close(s, ch), SW_OK);
    spawn_deaf(s, ch, 6, 1);
    cr_assert_eq(sw_test_step_traced(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "D6:wait D6:channel closed");
    cr_assert_eq(sw_sched_count(s), 0);
    sw_sched_free(s);
}

DEAF_TEST(rendezvous_receive_without_destination_from_a_tasklet) {
    /* the receiver waits first: the sender's handoff must not copy into it
       (the fast path would), and runs it at once as usual */
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_RENDEZVOUS, 0, -1);
    sw_id d = spawn_deaf(s, ch, 1, 3);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_eq(sw_chan_balance(s, ch), -1);
    spawn_tx(s, ch, 1, 2, 5);
    spawn_by(s, 1);
    cr_assert_eq(sw_sched_step(s), SW_OK, "%s", sw_sched_report(s));
    cr_assert_str_eq(sw_test_trace,
                     "D1:wait S1:send5 D1:woke D1:wait S1:sent5 S1:send6 D1:woke D1:wait S1:sent6 X1");
    assert_canary(s, d);
    cr_assert_eq(sw_chan_balance(s, ch), -1);
    /* killed while waiting: the channel is an ordinary one again */
    cr_assert_eq(sw_sched_kill(s, d), SW_OK);
    cr_assert_eq(sw_chan_balance(s, ch), 0);
    trace_reset();
    spawn_rx(s, ch, 2, 1);
    spawn_tx(s, ch, 2, 1, 9);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "R2:wait S2:send9 R2:got9 S2:sent9");
    cr_assert_eq(sw_sched_count(s), 0);
    sw_sched_free(s);
}

DEAF_TEST(rendezvous_receive_without_destination_takes_a_waiting_sender) {
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_RENDEZVOUS, 0, -1);
    spawn_tx(s, ch, 1, 1, 5);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_eq(sw_chan_balance(s, ch), 1);
    trace_reset();
    spawn_deaf(s, ch, 1, 1);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "D1:wait D1:woke S1:sent5");
    cr_assert_eq(sw_chan_balance(s, ch), 0);
    cr_assert_eq(sw_sched_count(s), 0);
    sw_sched_free(s);
}

DEAF_TEST(rendezvous_receive_without_destination_from_a_post_and_close) {
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_RENDEZVOUS, 0, -1);
    sw_id d = spawn_deaf(s, ch, 1, 2);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_eq(sw_chan_post(s, ch, &(sw_msg){.i = 3}), SW_OK);
    cr_assert_eq(sw_test_step_traced(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "D1:woke D1:wait");
    assert_canary(s, d);
    trace_reset();
    cr_assert_eq(sw_chan_close(s, ch), SW_OK);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "D1:channel closed");
    sw_sched_free(s);
}

DEAF_TEST(buffered_receive_without_destination_drops_the_oldest) {
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_BUFFERED, 4, 0);
    for (int i = 1; i <= 3; i++) cr_assert_eq(sw_chan_post(s, ch, &(sw_msg){.i = i}), SW_OK);
    spawn_deaf(s, ch, 1, 2);
    spawn_rx(s, ch, 2, 2);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    /* the deaf one takes 1 and 2 off the queue; then a wait, woken by a post */
    cr_assert_str_eq(sw_test_trace, "D1:wait D1:woke D1:wait D1:woke R2:wait R2:got3 R2:wait");
    cr_assert_eq(sw_chan_queued(s, ch), 0);
    trace_reset();
    sw_id d = spawn_deaf(s, ch, 3, 2);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_eq(sw_chan_post(s, ch, &(sw_msg){.i = 4}), SW_OK); /* to R2, the first waiting */
    cr_assert_eq(sw_chan_post(s, ch, &(sw_msg){.i = 5}), SW_OK); /* to D3 */
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "D3:wait R2:got4 D3:woke D3:wait");
    assert_canary(s, d);
    sw_sched_free(s);
}

/* A freed channel's handle: the receive does not wait, and says so. */
DEAF_TEST(receive_without_destination_on_a_freed_channel) {
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_EVENT, 0, 0);
    cr_assert_eq(sw_chan_free(s, ch), SW_OK);
    spawn_deaf(s, ch, 1, 1);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "D1:wait D1:stale handle");
    cr_assert_eq(sw_sched_count(s), 0);
    sw_sched_free(s);
}

/* ---- posting from outside ---------------------------------------------------------- */

Test(channel, post_from_outside) {
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_RENDEZVOUS, 0, -1);
    cr_assert_eq(sw_chan_post(s, ch, &(sw_msg){.i = 1}), SW_E_FULL); /* nobody to take it */
    cr_assert_eq(sw_chan_post(s, SW_CHAN_NONE, &(sw_msg){0}), SW_E_STALE);
    cr_assert_eq(sw_chan_post(s, ch + (1ull << 32), &(sw_msg){0}), SW_E_STALE);
    spawn_rx(s, ch, 1, 2);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    /* posting wakes the receiver at the back of the queue, never inline */
    cr_assert_eq(sw_chan_post(s, ch, &(sw_msg){.i = 2}), SW_OK);
    cr_assert_eq(sw_chan_post(s, ch, &(sw_msg){.i = 3}), SW_E_FULL); /* woken, not waiting */
    spawn_by(s, 1);
    cr_assert_eq(sw_test_step_traced(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "R1:got2 R1:wait X1");
    sw_sched_free(s);
}

Test(channel, queries_on_stale_handles) {
    sw_sched *s = mk();
    sw_chan bogus = sw_handle_make(12, 1);
    cr_assert_eq(sw_chan_balance(s, bogus), 0);
    cr_assert_eq(sw_chan_queued(s, bogus), 0);
    cr_assert(sw_chan_closed(s, bogus));
    cr_assert_not(sw_chan_alive(s, bogus));
    cr_assert_eq(sw_chan_waiters(s, bogus, NULL, 0), 0);
    sw_chan ch = sw_chan_new(s, &(sw_chan_desc){.kind = SW_CHAN_EVENT, .key = 99});
    cr_assert_eq(sw_chan_kind_of(s, ch), SW_CHAN_EVENT);
    cr_assert_eq(sw_chan_key(s, ch), 99);
    sw_sched_free(s);
}

/* ---- the handoff's fast path: the woken side runs at once, on the sender's
 * C stack; everything it may do must look as if it had been switched to ---- */

/* Receives once on `in`, then (mode 1) kills `victim`, (mode 2) relays what
 * it got on `out`, (mode 3) spawns enough tasklets to move the table, (mode
 * 4) the same from world code, past sw_spawn's care of the caller's view,
 * (mode 5) kills `victim` and relays. */
typedef struct { sw_chan in, out; sw_id victim; int32_t mode; sw_msg m; } relay;
static sw_step relay_run(sw_tasklet *t, void *frame) {
    relay *f = frame;
    SW_BEGIN(t, take, pass);
    SW_RECV(t, take, f->in, &f->m);
    sw_test_tr("A:got%d", f->m.i);
    if (f->mode == 1 || f->mode == 5) cr_assert_eq(sw_kill(t, f->victim), SW_OK);
    if (f->mode == 2 || f->mode == 5) {
        sw_test_tr("A:send%d", f->m.i);
        SW_SEND(t, pass, f->out, &f->m);
        sw_test_tr("A:sent%d", f->m.i);
    }
    if (f->mode == 3)
        for (int i = 0; i < 5000; i++) cr_assert_neq(sw_spawn(t, &by_kind, &(by){i}, 3), SW_ID_NONE);
    if (f->mode == 4) {
        sw_id me = sw_self(t);
        for (int i = 0; i < 5000; i++) cr_assert_neq(sw_sched_spawn(sw_sched_of(t), &by_kind, &(by){i}, 3), SW_ID_NONE);
        cr_assert_eq(sw_self(t), me); /* the view followed the table */
        cr_assert_eq(sw_status(t), SW_OK);
    }
    SW_END(t);
}
static const sw_kind relay_kind = {.name = "relay", .frame_size = sizeof(relay), .run = relay_run};

Test(channel, woken_receiver_kills_the_sender) {
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_RENDEZVOUS, 0, -1);
    sw_id a = sw_sched_spawn(s, &relay_kind, &(relay){.in = ch, .mode = 1}, 0);
    sw_id snd = spawn_tx(s, ch, 1, 2, 5);
    ((relay *)sw_sched_frame(s, a))->victim = snd;
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "S1:send5 A:got5"); /* the sender never resumes */
    cr_assert_not(sw_sched_alive(s, snd));
    cr_assert_eq(sw_sched_frames(s), 0);
    cr_assert_eq(sw_sched_count(s), 0);
    sw_sched_free(s);
}

/* S1 (sending `sends` values from 5) -> c1 -> relay A -> c2 -> R3 (one
 * receive), all rendezvous; returns c1. */
static sw_chan spawn_relay_chain(sw_sched *s, int sends) {
    sw_chan c1 = mkchan(s, SW_CHAN_RENDEZVOUS, 0, -1), c2 = mkchan(s, SW_CHAN_RENDEZVOUS, 0, -1);
    spawn_rx(s, c2, 3, 1);
    sw_sched_spawn(s, &relay_kind, &(relay){.in = c1, .out = c2, .mode = 2}, 0);
    spawn_tx(s, c1, 1, sends, 5);
    return c1;
}

Test(channel, woken_receiver_hands_off_in_turn) {
    sw_sched *s = mk();
    spawn_relay_chain(s, 1);
    spawn_by(s, 1);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    /* S hands to A, A to R3; then A, then S, then the bystander */
    cr_assert_str_eq(sw_test_trace, "R3:wait S1:send5 A:got5 A:send5 R3:got5 A:sent5 S1:sent5 X1");
    cr_assert_eq(sw_sched_resumes(s), 8); /* R3 A S A R3 A S X, as with round trips */
    sw_sched_free(s);
}

/* A, run inline by S1's send, kills S1 and hands off in turn: A and R3 head
 * the run-next stack while S1's turn ends in SW_STEP_EXIT, not
 * SW_STEP_SWITCH; the run loop runs them next all the same (sched_int.h,
 * sw__run_turn), before the bystander. */
Test(channel, woken_receiver_kills_the_sender_and_hands_off_in_turn) {
    sw_sched *s = mk();
    sw_chan c1 = mkchan(s, SW_CHAN_RENDEZVOUS, 0, -1), c2 = mkchan(s, SW_CHAN_RENDEZVOUS, 0, -1);
    spawn_rx(s, c2, 3, 1);
    sw_id a = sw_sched_spawn(s, &relay_kind, &(relay){.in = c1, .out = c2, .mode = 5}, 0);
    sw_id snd = spawn_tx(s, c1, 1, 2, 5);
    ((relay *)sw_sched_frame(s, a))->victim = snd;
    spawn_by(s, 1);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "R3:wait S1:send5 A:got5 A:send5 R3:got5 A:sent5 X1");
    cr_assert_not(sw_sched_alive(s, snd));
    cr_assert_eq(sw_sched_count(s), 0);
    cr_assert_eq(sw_sched_frames(s), 0);
    sw_sched_free(s);
}

Test(channel, woken_receiver_moves_the_table) {
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_RENDEZVOUS, 0, -1);
    sw_sched_spawn(s, &relay_kind, &(relay){.in = ch, .mode = 3}, 0);
    spawn_tx(s, ch, 1, 2, 5);
    spawn_rx(s, ch, 2, 1);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "S1:send5 A:got5 S1:sent5 S1:send6 R2:wait R2:got6 S1:sent6");
    cr_assert_eq(sw_sched_count(s), 5000);
    sw_sched_free(s);
}

Test(channel, woken_receiver_moves_the_table_from_world_code) {
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_RENDEZVOUS, 0, -1);
    sw_sched_spawn(s, &relay_kind, &(relay){.in = ch, .mode = 4}, 0);
    spawn_tx(s, ch, 1, 1, 5);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "S1:send5 A:got5 S1:sent5");
    cr_assert_eq(sw_sched_count(s), 5000);
    sw_sched_free(s);
}

/* ---- a handoff's bookkeeping: random streams and the watchdog ---------------------- */

/* Draws a number, sends it, draws again (trace: the low digits of each draw);
 * or, as a receiver, draws once per message. */
typedef struct { sw_chan ch; int32_t sending, n, i; sw_msg m; } dice;
static sw_step dice_run(sw_tasklet *t, void *frame) {
    dice *f = frame;
    SW_BEGIN(t, put, get);
    for (f->i = 0; f->i < f->n; f->i++) {
        sw_test_tr("%c%llu", f->sending ? 'S' : 'R', (unsigned long long)(sw_rand_u64(t) % 1000));
        if (f->sending)
            SW_SEND(t, put, f->ch, &f->m);
        else
            SW_RECV(t, get, f->ch, &f->m);
    }
    SW_END(t);
}
static const sw_kind dice_kind = {.name = "dice", .frame_size = sizeof(dice), .run = dice_run};

/* The draws of each tasklet, in its own order, whatever runs when. */
static void dice_draws(int pref, char *sender, char *receiver, size_t cap) {
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_RENDEZVOUS, 0, pref);
    sw_sched_spawn(s, &dice_kind, &(dice){.ch = ch, .n = 4}, 0);
    sw_sched_spawn(s, &dice_kind, &(dice){.ch = ch, .sending = 1, .n = 3}, 0);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    sender[0] = receiver[0] = '\0';
    for (char *tok = strtok(sw_test_trace, " "); tok; tok = strtok(NULL, " ")) {
        char *out = tok[0] == 'S' ? sender : receiver;
        snprintf(out + strlen(out), cap - strlen(out), "%s ", tok);
    }
    sw_sched_free(s);
}

Test(channel, handoff_keeps_each_tasklets_random_stream) {
    /* the woken runs inline under the default preference, in the back of the
       queue under none: the same draws either way, so the inline run neither
       lends its key to the sender nor takes the sender's */
    char s_inline[256], r_inline[256], s_queued[256], r_queued[256];
    dice_draws(SW_PREFER_RECEIVER, s_inline, r_inline, sizeof s_inline);
    dice_draws(SW_PREFER_NEITHER, s_queued, r_queued, sizeof s_queued);
    cr_assert_str_eq(s_inline, s_queued);
    cr_assert_str_eq(r_inline, r_queued);
    cr_assert_neq(strlen(s_inline), 0);
    cr_assert_neq(strlen(r_inline), 0);
}

/* A sender in a handoff loop never blocks: each handoff counts its operation
 * and its resume after the receiver ran, so it passes the watchdog's limit
 * within a known handoff, before or after that handoff's message. */
static const char *watchdog_handoffs(uint32_t limit) {
    trace_reset();
    sw_sched *s = sw_sched_new(&(sw_sched_desc){.seed = 7, .watchdog = limit});
    sw_chan ch = mkchan(s, SW_CHAN_RENDEZVOUS, 0, -1);
    spawn_rx(s, ch, 1, 100);
    sw_id snd = spawn_tx(s, ch, 1, 100, 0);
    cr_assert_eq(sw_sched_step(s), SW_E_WATCHDOG);
    char want[100];
    snprintf(want, sizeof want, "watchdog: tx #%u", sw_handle_slot(snd));
    cr_assert(strstr(sw_sched_report(s), want), "%s", sw_sched_report(s));
    cr_assert_not(sw_sched_alive(s, snd));
    sw_sched_free(s);
    const char *last = strrchr(sw_test_trace, ' ');
    return last ? last + 1 : sw_test_trace;
}

Test(channel, watchdog_counts_every_handoff_of_a_sender) {
    /* resumed once (1), then handoff k counts 2k and 2k+1 */
    cr_assert_str_eq(watchdog_handoffs(10), "R1:wait"); /* 5th resume after its send: over */
    cr_assert(strstr(sw_test_trace, "R1:got4") && !strstr(sw_test_trace, "S1:sent4"), "%s", sw_test_trace);
    cr_assert_str_eq(watchdog_handoffs(11), "S1:send5"); /* 6th send: over */
    cr_assert(strstr(sw_test_trace, "S1:sent4") && !strstr(sw_test_trace, "R1:got5"), "%s", sw_test_trace);
    cr_assert_str_eq(watchdog_handoffs(12), "R1:wait");
    cr_assert(strstr(sw_test_trace, "R1:got5") && !strstr(sw_test_trace, "S1:sent5"), "%s", sw_test_trace);
}

/* ---- blocked-tasklet accounting of inline handoffs --------------------------------- */

/* A handoff that runs the receiver inline counts it as blocked only by what
 * the receiver does next (channel.c: SW__STEP_WAIT_HARD); the deadlock check
 * at the end of the tick sees the exact number whatever that is. These
 * schedulers hold no count (sw_sched_hold), so a wrong count is a deadlock. */
static sw_sched *mk_unheld(void) {
    trace_reset();
    sw_sched *s = sw_sched_new(&(sw_sched_desc){.seed = 7});
    cr_assert_not_null(s);
    return s;
}

static void assert_deadlock_of(sw_sched *s, unsigned n) {
    cr_assert_eq(sw_sched_step(s), SW_E_DEADLOCK, "%s", sw_sched_errmsg(s));
    char want[64];
    snprintf(want, sizeof want, ": %u tasklet(s) blocked forever", n);
    cr_assert(strstr(sw_sched_errmsg(s), want), "%s", sw_sched_errmsg(s));
}

Test(channel, inline_receiver_that_exits_is_not_counted_blocked) {
    sw_sched *s = mk_unheld();
    sw_chan ch = mkchan(s, SW_CHAN_RENDEZVOUS, 0, -1);
    spawn_rx(s, ch, 1, 1);
    spawn_tx(s, ch, 1, 1, 5);
    cr_assert_eq(sw_sched_step(s), SW_OK, "%s", sw_sched_errmsg(s));
    cr_assert_str_eq(sw_test_trace, "R1:wait S1:send5 R1:got5 S1:sent5");
    cr_assert_eq(sw_sched_count(s), 0);
    sw_sched_free(s);
}

Test(channel, inline_receiver_that_blocks_again_is_counted_once) {
    sw_sched *s = mk_unheld();
    sw_chan ch = mkchan(s, SW_CHAN_RENDEZVOUS, 0, -1);
    sw_chan other = mkchan(s, SW_CHAN_RENDEZVOUS, 0, -1);
    spawn_rx(s, other, 2, 1); /* blocked all along: the count is 2 */
    spawn_rx(s, ch, 1, 3);
    spawn_tx(s, ch, 1, 2, 5);
    assert_deadlock_of(s, 2);
    cr_assert(strstr(sw_test_trace, "R1:got6 R1:wait S1:sent6"), "%s", sw_test_trace);
    sw_sched_free(s);
}

/* Receives once, then sleeps `nap` ticks, or waits on an event channel
 * (`nap` 0), then exits. */
typedef struct {
    sw_chan ch, ev;
    int32_t nap;
    sw_msg m;
} rx_then;
static sw_step rx_then_run(sw_tasklet *t, void *frame) {
    rx_then *f = frame;
    SW_BEGIN(t, take, nap, event);
    SW_RECV(t, take, f->ch, &f->m);
    sw_test_tr("R:got%d", f->m.i);
    if (f->nap > 0) {
        SW_SLEEP(t, nap, f->nap);
    } else {
        SW_RECV(t, event, f->ev, &f->m);
    }
    sw_test_tr("R:done");
    SW_END(t);
}
static const sw_kind rx_then_kind = {.name = "rx_then", .frame_size = sizeof(rx_then), .run = rx_then_run};

Test(channel, inline_receiver_that_sleeps_or_waits_on_an_event_is_not_counted_blocked) {
    sw_sched *s = mk_unheld();
    sw_chan ch = mkchan(s, SW_CHAN_RENDEZVOUS, 0, -1);
    sw_chan ev = mkchan(s, SW_CHAN_EVENT, 0, 0);
    sw_sched_spawn(s, &rx_then_kind, &(rx_then){.ch = ch, .nap = 3}, 0);
    sw_sched_spawn(s, &rx_then_kind, &(rx_then){.ch = ch, .ev = ev}, 0);
    spawn_tx(s, ch, 1, 2, 5);
    for (int i = 0; i < 5; i++) cr_assert_eq(sw_sched_step(s), SW_OK, "tick %d: %s", i, sw_sched_errmsg(s));
    cr_assert(strstr(sw_test_trace, "R:got5") && strstr(sw_test_trace, "R:got6") && strstr(sw_test_trace, "R:done"), "%s",
              sw_test_trace);
    cr_assert_eq(sw_sched_count(s), 1); /* the one waiting on the event channel */
    sw_sched_free(s);
}

/* Receives in a nested call: the inline run goes on through the call. */
typedef struct { sw_chan ch; sw_msg m; } take_frame;
static sw_step take_run(sw_tasklet *t, void *frame) {
    take_frame *f = frame;
    SW_BEGIN(t, take);
    SW_RECV(t, take, f->ch, &f->m);
    sw_test_tr("C:got%d", f->m.i);
    SW_RETURN(t, (sw_value){0});
    SW_END(t);
}
static const sw_func take_func = {.name = "take", .run = take_run, .frame_size = sizeof(take_frame)};
typedef struct { sw_chan ch; int32_t n; sw_msg m; } caller_frame;
static sw_step caller_run(sw_tasklet *t, void *frame) {
    caller_frame *f = frame;
    SW_BEGIN(t, take, call);
    SW_RECV(t, take, f->ch, &f->m);
    sw_test_tr("P:got%d", f->m.i);
    for (f->n = 0; f->n < 2; f->n++) SW_CALL(t, call, &take_func, &(take_frame){.ch = f->ch}, NULL);
    SW_END(t);
}
static const sw_kind caller_kind = {.name = "caller", .frame_size = sizeof(caller_frame), .run = caller_run};

Test(channel, inline_receiver_that_blocks_in_a_call_is_counted_once) {
    sw_sched *s = mk_unheld();
    sw_chan ch = mkchan(s, SW_CHAN_RENDEZVOUS, 0, -1);
    sw_sched_spawn(s, &caller_kind, &(caller_frame){.ch = ch}, 0);
    spawn_tx(s, ch, 1, 2, 5);
    assert_deadlock_of(s, 1);
    cr_assert_str_eq(sw_test_trace, "S1:send5 P:got5 S1:sent5 S1:send6 C:got6 S1:sent6");
    sw_sched_free(s);
}

/* The sender's handoff ends in a switch (the receiver handed off in turn):
 * the sender resumes after its send, where the run-next stack has it, and
 * sends again. */
Test(channel, sender_whose_receiver_hands_off_resumes_after_its_send) {
    sw_sched *s = mk();
    sw_chan c1 = spawn_relay_chain(s, 2);
    cr_assert_eq(sw_sched_step(s), SW_OK, "%s", sw_sched_errmsg(s));
    cr_assert_str_eq(sw_test_trace, "R3:wait S1:send5 A:got5 A:send5 R3:got5 A:sent5 S1:sent5 S1:send6");
    cr_assert_eq(sw_chan_balance(s, c1), 1); /* the second send waits */
    sw_sched_free(s);
}

/* ---- the receiver's destination check, cached in the channel --------------------- */

/* Receives once into the message at byte `at` of its frame (anywhere: the
 * check must refuse what lies outside), then traces what it got. Two kinds
 * with the same run function but frames of different sizes. */
typedef struct {
    sw_chan ch;
    int32_t at, pad;
    sw_msg m;
    char room[64];
} probe;
static sw_step probe_run(sw_tasklet *t, void *frame) {
    probe *f = frame;
    SW_BEGIN(t, take);
    SW_RECV(t, take, f->ch, (sw_msg *)((char *)frame + f->at));
    sw_test_tr("P:got%d", ((sw_msg *)((char *)frame + f->at))->i);
    SW_END(t);
}
static const sw_kind probe_kind = {.name = "probe", .frame_size = sizeof(probe), .run = probe_run};
/* the same frame's first fields only: `room` lies outside */
static const sw_kind probe_narrow_kind = {.name = "probe_narrow", .frame_size = offsetof(probe, room),
                                          .run = probe_run};

/* A probe of `kind` receiving at `at` on `ch`: blocks and gets 7 from a post
 * (valid), or is refused with SW_E_INVALID. */
static void probe_once(sw_sched *s, sw_chan ch, const sw_kind *kind, int32_t at, bool valid) {
    trace_reset();
    sw_id id = sw_sched_spawn(s, kind, &(probe){.ch = ch, .at = at}, 0);
    cr_assert_neq(id, SW_ID_NONE, "%s", sw_sched_errmsg(s));
    if (!valid) {
        cr_assert_eq(sw_sched_step(s), SW_E_INVALID, "%s at %d accepted", kind->name, at);
        cr_assert(strstr(sw_sched_errmsg(s), "SW_RECV"), "%s", sw_sched_errmsg(s));
        cr_assert_not(sw_sched_alive(s, id));
        cr_assert_eq(sw_chan_balance(s, ch), 0);
        return;
    }
    cr_assert_eq(sw_sched_step(s), SW_OK, "%s at %d: %s", kind->name, at, sw_sched_errmsg(s));
    cr_assert_eq(sw_chan_balance(s, ch), -1, "%s at %d did not block", kind->name, at);
    cr_assert_eq(sw_chan_post(s, ch, &(sw_msg){.i = 7}), SW_OK);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "P:got7");
    cr_assert_not(sw_sched_alive(s, id));
}

Test(channel, receivers_destination_check_holds_for_every_function_and_offset) {
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_RENDEZVOUS, 0, -1);
    int32_t last = (int32_t)(sizeof(probe) - sizeof(sw_msg)); /* the last offset that fits */
    /* the first receive fills the channel's cache; the others are checked
       against it (the fast path) or miss it (the general path) */
    probe_once(s, ch, &probe_kind, (int32_t)offsetof(probe, m), true);
    probe_once(s, ch, &probe_kind, last, true);
    probe_once(s, ch, &probe_kind, (int32_t)offsetof(probe, room), true);
    probe_once(s, ch, &probe_kind, last + 1, false);                /* one byte past the end */
    probe_once(s, ch, &probe_kind, -8, false);                      /* the frame's header */
    probe_once(s, ch, &probe_kind, -(int32_t)sizeof(sw_msg), false);
    probe_once(s, ch, &probe_kind, last, true);
    /* a smaller frame on the same channel: what fitted the larger one does not */
    probe_once(s, ch, &probe_narrow_kind, last, false);
    probe_once(s, ch, &probe_narrow_kind, (int32_t)offsetof(probe, room), false);
    probe_once(s, ch, &probe_narrow_kind, (int32_t)offsetof(probe, m) + 1, false);
    probe_once(s, ch, &probe_narrow_kind, (int32_t)offsetof(probe, m), true);
    probe_once(s, ch, &probe_narrow_kind, (int32_t)offsetof(probe, m) + 1, false);
    /* and back: the larger frame's offsets are accepted again */
    probe_once(s, ch, &probe_kind, last, true);
    probe_once(s, ch, &probe_kind, last + 1, false);
    sw_sched_free(s);
}

/* An event channel's receive blocks without recv_any's tests (recv_event)
 * but checks its destination all the same. */
Test(channel, event_receivers_destination_is_checked) {
    sw_sched *s = mk();
    sw_chan ch = mkchan(s, SW_CHAN_EVENT, 0, 0);
    int32_t last = (int32_t)(sizeof(probe) - sizeof(sw_msg));
    probe_once(s, ch, &probe_kind, (int32_t)offsetof(probe, m), true);
    probe_once(s, ch, &probe_kind, last, true);
    probe_once(s, ch, &probe_kind, last + 1, false);
    probe_once(s, ch, &probe_kind, -8, false);
    probe_once(s, ch, &probe_narrow_kind, (int32_t)offsetof(probe, room), false);
    probe_once(s, ch, &probe_narrow_kind, (int32_t)offsetof(probe, m), true);
    sw_sched_free(s);
}
