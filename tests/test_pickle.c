/* test_pickle.c - pickling a whole scheduler and loading it back.
 *
 * The reference is the uninterrupted run: a scheduler pickled, loaded into a
 * fresh one and stepped must pickle byte-identically to the original stepped
 * alike, tick after tick (every tasklet, queue, timer and free slot), and
 * spawn the same ids. Schema changes, truncation and corruption give errors,
 * never crashes. */
#include <criterion/criterion.h>

#include "pickle.h"
#include "pickle_int.h"
#include "swarmlet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a small zoo that exercises every kind of waiting ----------------------------- */

typedef struct {
    int32_t ticks;
    sw_value got;
} nap_frame;

static sw_step nap_run(sw_tasklet *t, void *frame) {
    nap_frame *f = frame;
    SW_BEGIN(t, doze);
    SW_SLEEP(t, doze, (sw_tick)f->ticks);
    SW_RETURN(t, ((sw_value){.i = f->ticks * 10}));
    SW_END(t);
}
static const sw_field nap_fields[] = {SW_FIELD(nap_frame, ticks, SW_T_I32), SW_FIELD_END};
static const sw_func nap_func = {"nap", nap_run, sizeof(nap_frame), nap_fields};

typedef struct {
    int32_t steps;
    double energy;
    sw_value slept;
    sw_chan ch;
    sw_msg msg;
} walker;

static sw_step walker_run(sw_tasklet *t, void *frame);
static const sw_field walker_fields[] = {
    SW_FIELD(walker, steps, SW_T_I32), SW_PARAM(walker, energy, SW_T_F64, 5, "energy"),
    SW_FIELD(walker, slept, SW_T_VALUE), SW_FIELD(walker, ch, SW_T_CHAN), SW_FIELD(walker, msg, SW_T_MSG),
    SW_FIELD_END};
static const sw_kind walker_kind = {.name = "walker", .frame_size = sizeof(walker), .fields = walker_fields,
                                    .run = walker_run};

static sw_step walker_run(sw_tasklet *t, void *frame) {
    walker *f = frame;
    SW_BEGIN(t, walk, call, talk, hear, pause);
    while (f->energy > 0) {
        SW_SLEEP(t, walk, 1 + sw_rand_below(t, 300)); /* long sleeps reach the overflow list */
        f->steps++;
        f->energy -= sw_rand_unit(t);
        uint64_t what = sw_rand_below(t, 6);
        if (what == 0) {
            nap_frame args = {.ticks = 1 + (int32_t)sw_rand_below(t, 4)};
            SW_CALL(t, call, &nap_func, &args, &f->slept);
        } else if (what == 1) {
            f->msg = (sw_msg){.tag = 7, .i = f->steps, .who = sw_self(t), .x = f->energy};
            SW_SEND(t, talk, f->ch, &f->msg);
        } else if (what == 2) {
            SW_RECV(t, hear, f->ch, &f->msg);
        } else if (what == 3 && sw_sched_count(sw_sched_of(t)) < 400) {
            walker child = {.energy = f->energy / 2, .ch = f->ch};
            sw_spawn(t, &walker_kind, &child, sw_rand_below(t, 2));
        } else if (what == 4) {
            SW_YIELD(t, pause);
        }
    }
    SW_END(t);
}

typedef struct {
    sw_chan ev;
    sw_msg msg;
    int32_t heard;
} watcher;

static sw_step watcher_run(sw_tasklet *t, void *frame) {
    watcher *f = frame;
    SW_BEGIN(t, wait);
    for (;;) {
        SW_RECV(t, wait, f->ev, &f->msg);
        if (sw_status(t) == SW_E_CLOSED) break;
        f->heard++;
    }
    SW_END(t);
}
static const sw_field watcher_fields[] = {SW_FIELD(watcher, ev, SW_T_CHAN), SW_FIELD(watcher, msg, SW_T_MSG),
                                          SW_FIELD(watcher, heard, SW_T_I32), SW_FIELD_END};
static const sw_kind watcher_kind = {.name = "watcher", .frame_size = sizeof(watcher), .fields = watcher_fields,
                                     .run = watcher_run};

static const sw_kind *const zoo_kinds[] = {&walker_kind, &watcher_kind, NULL};
static const sw_func *const zoo_funcs[] = {&nap_func, NULL};
static const sw_pickle_env zoo_env = {zoo_kinds, zoo_funcs};

typedef struct zoo {
    sw_sched *s;
    sw_chan rv, buf, ev;
} zoo;

/* A tick-start hook that broadcasts now and then, and kills a walker. */
static void zoo_hook(sw_sched *s, void *ud) {
    (void)ud;
    if (sw_sched_now(s) % 7 == 0) {
        for (sw_id id = sw_sched_next(s, SW_ID_NONE); id; id = sw_sched_next(s, id)) {
            if (sw_sched_kind_of(s, id) == &watcher_kind) {
                watcher *w = sw_sched_frame(s, id);
                sw_chan_post(s, w->ev, &(sw_msg){.tag = 1, .i = (int32_t)sw_sched_now(s)});
                break;
            }
        }
    }
    if (sw_sched_now(s) % 11 == 0) {
        sw_id victim = sw_sched_next(s, SW_ID_NONE);
        if (victim) sw_sched_kill(s, victim);
    }
}

static sw_sched *zoo_new(void) {
    sw_sched *s = sw_sched_new(&(sw_sched_desc){.seed = 1234});
    cr_assert(s);
    sw_chan rv = sw_chan_new(s, &(sw_chan_desc){.kind = SW_CHAN_RENDEZVOUS});
    sw_chan buf = sw_chan_new(s, &(sw_chan_desc){.kind = SW_CHAN_BUFFERED, .capacity = 3});
    sw_chan ev = sw_chan_new(s, &(sw_chan_desc){.kind = SW_CHAN_EVENT});
    sw_chan dead = sw_chan_new(s, &(sw_chan_desc){.kind = SW_CHAN_RENDEZVOUS});
    sw_chan_free(s, dead); /* leaves a free channel slot behind */
    for (int i = 0; i < 60; i++)
        sw_sched_spawn(s, &walker_kind, &(walker){.energy = 5 + i % 7, .ch = i % 2 ? rv : buf}, 0);
    for (int i = 0; i < 5; i++) sw_sched_spawn(s, &watcher_kind, &(watcher){.ev = ev}, 0);
    sw_sched_on_tick_start(s, zoo_hook, NULL);
    return s;
}

static sw_sched *fresh(void) {
    sw_sched *s = sw_sched_new(&(sw_sched_desc){.seed = 99});
    cr_assert(s);
    sw_sched_on_tick_start(s, zoo_hook, NULL);
    return s;
}

static sw_pickle_buf pickle(const sw_sched *s) {
    sw_pickle_buf b = {0};
    char err[256];
    int rc = sw_pickle_save(s, NULL, 0, &b, err, sizeof err);
    cr_assert_eq(rc, SW_OK, "%s", err);
    return b;
}

static void assert_same(const sw_pickle_buf *a, const sw_pickle_buf *b, const char *when) {
    cr_assert_eq(a->len, b->len, "%s: pickles differ in length (%zu vs %zu)", when, a->len, b->len);
    cr_assert(memcmp(a->data, b->data, a->len) == 0, "%s: pickles differ", when);
}

/* ---- exactness ---------------------------------------------------------------------- */

Test(pickle, load_then_pickle_is_byte_identical) {
    sw_sched *a = zoo_new();
    cr_assert_eq(sw_sched_run(a, 40), SW_OK);
    sw_pickle_buf pa = pickle(a);
    sw_sched *b = fresh();
    char err[512];
    int rc = sw_pickle_load(b, &zoo_env, NULL, 0, pa.data, pa.len, err, sizeof err);
    cr_assert_eq(rc, SW_OK, "%s", err);
    sw_pickle_buf pb = pickle(b);
    assert_same(&pa, &pb, "right after loading");
    cr_assert_eq(sw_sched_count(a), sw_sched_count(b));
    cr_assert_eq(sw_sched_now(a), sw_sched_now(b));
    cr_assert_eq(sw_sched_frames(a), sw_sched_frames(b));
    sw_pickle_buf_fini(&pa);
    sw_pickle_buf_fini(&pb);
    sw_sched_free(a);
    sw_sched_free(b);
}

Test(pickle, resumed_run_matches_uninterrupted_tick_by_tick) {
    sw_sched *a = zoo_new();
    cr_assert_eq(sw_sched_run(a, 200), SW_OK); /* past a wheel cascade */
    sw_pickle_buf pa = pickle(a);
    sw_sched *b = fresh();
    char err[512];
    cr_assert_eq(sw_pickle_load(b, &zoo_env, NULL, 0, pa.data, pa.len, err, sizeof err), SW_OK, "%s", err);
    sw_pickle_buf_fini(&pa);
    for (int tick = 0; tick < 400; tick++) {
        int ra = sw_sched_step(a), rb = sw_sched_step(b);
        cr_assert_eq(ra, rb, "tick %d: %d vs %d", tick, ra, rb);
        if (tick % 10 == 0 || tick > 380) {
            sw_pickle_buf x = pickle(a), y = pickle(b);
            char when[64];
            snprintf(when, sizeof when, "tick %llu", (unsigned long long)sw_sched_now(a));
            assert_same(&x, &y, when);
            sw_pickle_buf_fini(&x);
            sw_pickle_buf_fini(&y);
        }
    }
    cr_assert_gt(sw_sched_count(a), 0, "the zoo died out: the test would prove little");
    /* the same ids for the next spawns: the free list survived */
    sw_id ia = sw_sched_spawn(a, &watcher_kind, NULL, 1), ib = sw_sched_spawn(b, &watcher_kind, NULL, 1);
    cr_assert_eq(ia, ib);
    sw_sched_free(a);
    sw_sched_free(b);
}

Test(pickle, blocked_nested_and_queued_state_survives) {
    sw_sched *a = zoo_new();
    int calls = 0, blocked = 0, sleepers = 0;
    for (int i = 0; i < 300 && !(calls && blocked && sleepers); i++) {
        cr_assert_eq(sw_sched_step(a), SW_OK);
        calls = blocked = sleepers = 0;
        for (sw_id id = sw_sched_next(a, SW_ID_NONE); id; id = sw_sched_next(a, id)) {
            sw_task_info info;
            sw_sched_inspect(a, id, &info);
            calls += info.depth > 1;
            blocked += info.state == SW_TASK_SEND || info.state == SW_TASK_RECV;
            sleepers += info.state == SW_TASK_SLEEPING;
        }
    }
    cr_assert(calls && blocked && sleepers, "no nested call, blocked or sleeping tasklet to test");
    sw_pickle_buf pa = pickle(a);
    sw_sched *b = fresh();
    char err[512];
    cr_assert_eq(sw_pickle_load(b, &zoo_env, NULL, 0, pa.data, pa.len, err, sizeof err), SW_OK, "%s", err);
    for (sw_id id = sw_sched_next(a, SW_ID_NONE); id; id = sw_sched_next(a, id)) {
        sw_task_info x, y;
        cr_assert_eq(sw_sched_inspect(a, id, &x), SW_OK);
        cr_assert_eq(sw_sched_inspect(b, id, &y), SW_OK, "agent %llu missing", (unsigned long long)id);
        cr_assert_eq(x.state, y.state);
        cr_assert_eq(x.depth, y.depth);
        cr_assert_eq(x.wake, y.wake);
        cr_assert_eq(x.chan, y.chan);
        cr_assert_str_eq(x.point, y.point);
        cr_assert_eq(x.rng_counter, y.rng_counter);
    }
    sw_pickle_buf_fini(&pa);
    sw_sched_free(a);
    sw_sched_free(b);
}

/* ---- receivers that drop their message ---------------------------------------------- */

/* Waits on `ch` with no destination (SW_RECV's NULL), counting wake-ups:
 * blocked so, its frame has no pending target, which is how the snapshot
 * stores it and how the loader knows that it drops the message. `seen` is a
 * canary: nothing that wakes it may write to its frame. */
typedef struct {
    sw_chan ch;
    int32_t heard;
    sw_msg seen;
} deaf;

static sw_step deaf_run(sw_tasklet *t, void *frame) {
    deaf *f = frame;
    SW_BEGIN(t, wait);
    for (;;) {
        SW_RECV(t, wait, f->ch, NULL);
        if (sw_status(t) != SW_OK) break;
        f->heard++;
    }
    SW_END(t);
}
static const sw_field deaf_fields[] = {SW_FIELD(deaf, ch, SW_T_CHAN), SW_FIELD(deaf, heard, SW_T_I32),
                                       SW_FIELD(deaf, seen, SW_T_MSG), SW_FIELD_END};
static const sw_kind deaf_kind = {.name = "deaf", .frame_size = sizeof(deaf), .fields = deaf_fields,
                                  .run = deaf_run};

/* Sends once on `ch` from a tasklet: to a waiting receiver of a rendezvous
 * channel, SW_SEND's fast path, which must leave a deaf receiver to the
 * general one. */
typedef struct {
    sw_chan ch;
    sw_msg m;
} teller;

static sw_step teller_run(sw_tasklet *t, void *frame) {
    teller *f = frame;
    SW_BEGIN(t, tell);
    SW_SEND(t, tell, f->ch, &f->m);
    SW_END(t);
}
static const sw_field teller_fields[] = {SW_FIELD(teller, ch, SW_T_CHAN), SW_FIELD(teller, m, SW_T_MSG),
                                         SW_FIELD_END};
static const sw_kind teller_kind = {.name = "teller", .frame_size = sizeof(teller), .fields = teller_fields,
                                    .run = teller_run};

static const sw_kind *const deaf_kinds[] = {&deaf_kind, &teller_kind, NULL};
static const sw_pickle_env deaf_env = {deaf_kinds, NULL};

static const sw_msg canary = {.tag = 0xfeed, .i = -7, .who = 0x1234567, .x = 0xdeadbeef, .y = 42};

static void assert_deaf(sw_sched *s, sw_id id, int32_t heard) {
    deaf *f = sw_sched_frame(s, id);
    cr_assert_not_null(f);
    cr_assert_eq(f->heard, heard);
    cr_assert(memcmp(&f->seen, &canary, sizeof canary) == 0, "a wake-up wrote into the frame");
}

Test(pickle, receivers_without_destination_survive) {
    sw_sched *a = sw_sched_new(&(sw_sched_desc){.seed = 5});
    cr_assert(a);
    sw_sched_hold(a, 1); /* the rendezvous waiter waits on the test */
    sw_chan ev = sw_chan_new(a, &(sw_chan_desc){.kind = SW_CHAN_EVENT});
    sw_chan rv = sw_chan_new(a, &(sw_chan_desc){.kind = SW_CHAN_RENDEZVOUS});
    sw_id e1 = sw_sched_spawn(a, &deaf_kind, &(deaf){.ch = ev, .seen = canary}, 0);
    sw_id e2 = sw_sched_spawn(a, &deaf_kind, &(deaf){.ch = ev, .seen = canary}, 0);
    sw_id r1 = sw_sched_spawn(a, &deaf_kind, &(deaf){.ch = rv, .seen = canary}, 0);
    cr_assert_eq(sw_sched_step(a), SW_OK);
    cr_assert_eq(sw_chan_balance(a, ev), -2);
    cr_assert_eq(sw_chan_balance(a, rv), -1);
    sw_pickle_buf pa = pickle(a);
    sw_sched *b = sw_sched_new(&(sw_sched_desc){.seed = 99});
    cr_assert(b);
    char err[512];
    cr_assert_eq(sw_pickle_load(b, &deaf_env, NULL, 0, pa.data, pa.len, err, sizeof err), SW_OK, "%s", err);
    sw_pickle_buf pb = pickle(b);
    assert_same(&pa, &pb, "right after loading");
    sw_pickle_buf_fini(&pa);
    sw_pickle_buf_fini(&pb);
    /* in the loaded scheduler, a post and a tasklet's send wake them, with
       nothing written into their frames */
    cr_assert_eq(sw_chan_post(b, ev, &(sw_msg){.i = 1}), SW_OK);
    cr_assert_eq(sw_chan_balance(b, ev), 0);
    cr_assert_neq(sw_sched_spawn(b, &teller_kind, &(teller){.ch = rv, .m = {.i = 2}}, 0), SW_ID_NONE);
    cr_assert_eq(sw_sched_step(b), SW_OK, "%s", sw_sched_report(b));
    cr_assert_eq(sw_chan_balance(b, ev), -2);
    cr_assert_eq(sw_chan_balance(b, rv), -1);
    assert_deaf(b, e1, 1);
    assert_deaf(b, e2, 1);
    assert_deaf(b, r1, 1);
    /* and the original, stepped alike, pickles the same */
    cr_assert_eq(sw_chan_post(a, ev, &(sw_msg){.i = 1}), SW_OK);
    cr_assert_neq(sw_sched_spawn(a, &teller_kind, &(teller){.ch = rv, .m = {.i = 2}}, 0), SW_ID_NONE);
    cr_assert_eq(sw_sched_step(a), SW_OK);
    sw_pickle_buf x = pickle(a), y = pickle(b);
    assert_same(&x, &y, "a tick after loading");
    sw_pickle_buf_fini(&x);
    sw_pickle_buf_fini(&y);
    cr_assert_eq(sw_chan_close(b, rv), SW_OK);
    cr_assert_eq(sw_sched_step(b), SW_OK);
    cr_assert_not(sw_sched_alive(b, r1));
    sw_sched_free(a);
    sw_sched_free(b);
}

/* A blocked sender still needs its message: no target is an error for it. */
Test(pickle, blocked_sender_without_target_is_an_error) {
    sw_sched *a = sw_sched_new(&(sw_sched_desc){.seed = 5});
    cr_assert(a);
    sw_sched_hold(a, 1);
    sw_chan rv = sw_chan_new(a, &(sw_chan_desc){.kind = SW_CHAN_RENDEZVOUS});
    sw_id id = sw_sched_spawn(a, &teller_kind, &(teller){.ch = rv}, 0);
    cr_assert_eq(sw_sched_step(a), SW_OK);
    cr_assert_eq(sw_chan_balance(a, rv), 1);
    char err[512];
    for (int none = 0; none <= 1; none++) {
        /* the pickle with the sender's target, then with none (ref code 0) */
        if (none) a->tasks[sw_handle_slot(id)].top->ref = SW__NO_REF;
        sw_pickle_buf pa = pickle(a);
        sw_sched *b = sw_sched_new(&(sw_sched_desc){.seed = 99});
        int rc = sw_pickle_load(b, &deaf_env, NULL, 0, pa.data, pa.len, err, sizeof err);
        if (none)
            cr_assert(rc != SW_OK && strstr(err, "sender without a pending target"), "%d: %s", rc, err);
        else
            cr_assert_eq(rc, SW_OK, "%s", err);
        sw_sched_free(b);
        sw_pickle_buf_fini(&pa);
    }
    sw_sched_free(a);
}

/* ---- schema changes ---------------------------------------------------------------------- */

/* The walker as a later version of the code might have it. */
typedef struct {
    double energy;
    int32_t steps;
    float mood;
    sw_value slept;
    sw_chan ch;
    sw_msg msg;
} walker2;

static sw_step walker2_run(sw_tasklet *t, void *frame) {
    walker2 *f = frame;
    SW_BEGIN(t, walk, call, talk, hear, pause);
    SW_SLEEP(t, walk, 1);
    SW_CALL(t, call, &nap_func, NULL, &f->slept);
    SW_SEND(t, talk, f->ch, &f->msg);
    SW_RECV(t, hear, f->ch, &f->msg);
    SW_YIELD(t, pause);
    SW_END(t);
}

static sw_step walker3_run(sw_tasklet *t, void *frame) { /* "walk" renamed "stroll" */
    walker2 *f = frame;
    SW_BEGIN(t, stroll, call, talk, hear, pause);
    SW_SLEEP(t, stroll, 1);
    SW_CALL(t, call, &nap_func, NULL, &f->slept);
    SW_SEND(t, talk, f->ch, &f->msg);
    SW_RECV(t, hear, f->ch, &f->msg);
    SW_YIELD(t, pause);
    SW_END(t);
}

static bool has_nested(const sw_sched *s) {
    for (sw_id id = sw_sched_next(s, SW_ID_NONE); id; id = sw_sched_next(s, id)) {
        sw_task_info info;
        sw_sched_inspect(s, id, &info);
        if (info.depth > 1) return true;
    }
    return false;
}

/* The zoo after at least `ticks` ticks, at a tick where some walker is inside
 * a nested call. */
static sw_pickle_buf zoo_pickle_after(int ticks) {
    sw_sched *a = zoo_new();
    cr_assert_eq(sw_sched_run(a, (sw_tick)ticks), SW_OK);
    for (int i = 0; i < 200 && !has_nested(a); i++) cr_assert_eq(sw_sched_step(a), SW_OK);
    cr_assert(has_nested(a));
    sw_pickle_buf p = pickle(a);
    sw_sched_free(a);
    return p;
}

Test(pickle, added_field_takes_default_removed_field_dropped) {
    static const sw_field fields[] = {
        SW_FIELD(walker2, energy, SW_T_F64), SW_FIELD(walker2, steps, SW_T_I32),
        SW_PARAM(walker2, mood, SW_T_F32, 0.5, "new"), SW_FIELD(walker2, slept, SW_T_VALUE),
        SW_FIELD(walker2, ch, SW_T_CHAN), SW_FIELD(walker2, msg, SW_T_MSG), SW_FIELD_END};
    static const sw_kind k2 = {.name = "walker", .frame_size = sizeof(walker2), .fields = fields, .run = walker2_run};
    const sw_kind *kinds[] = {&k2, &watcher_kind, NULL};
    sw_pickle_env env = {kinds, zoo_funcs};
    sw_sched *ref = zoo_new();
    cr_assert_eq(sw_sched_run(ref, 30), SW_OK);
    sw_pickle_buf p = pickle(ref);
    sw_sched *b = fresh();
    char err[512];
    cr_assert_eq(sw_pickle_load(b, &env, NULL, 0, p.data, p.len, err, sizeof err), SW_OK, "%s", err);
    int checked = 0;
    for (sw_id id = sw_sched_next(ref, SW_ID_NONE); id; id = sw_sched_next(ref, id)) {
        if (sw_sched_kind_of(ref, id) != &walker_kind) continue;
        const walker *old = sw_sched_frame(ref, id);
        const walker2 *now = sw_sched_frame(b, id);
        cr_assert(now);
        cr_assert_eq(now->energy, old->energy);
        cr_assert_eq(now->steps, old->steps);
        cr_assert_eq(now->ch, old->ch);
        cr_assert_float_eq(now->mood, 0.5f, 1e-6, "a new field takes its default");
        checked++;
    }
    cr_assert_gt(checked, 0);
    sw_pickle_buf_fini(&p);
    sw_sched_free(ref);
    sw_sched_free(b);
}

static void expect_load_error(const sw_pickle_env *env, const char *needle) {
    sw_pickle_buf p = zoo_pickle_after(30);
    sw_sched *b = fresh();
    char err[512] = "";
    int rc = sw_pickle_load(b, env, NULL, 0, p.data, p.len, err, sizeof err);
    cr_assert_neq(rc, SW_OK, "loading should fail with \"%s\"", needle);
    cr_assert(strstr(err, needle), "message \"%s\" does not name \"%s\"", err, needle);
    cr_assert_eq(sw_sched_count(b), 0, "a failed load leaves the target empty");
    cr_assert_eq(sw_sched_step(b), SW_OK, "and usable");
    sw_pickle_buf_fini(&p);
    sw_sched_free(b);
}

Test(pickle, changed_field_type_is_named) {
    typedef struct { int32_t steps; float energy; sw_value slept; sw_chan ch; sw_msg msg; } w3;
    static const sw_field fields[] = {
        SW_FIELD(w3, steps, SW_T_I32), SW_FIELD(w3, energy, SW_T_F32), SW_FIELD(w3, slept, SW_T_VALUE),
        SW_FIELD(w3, ch, SW_T_CHAN), SW_FIELD(w3, msg, SW_T_MSG), SW_FIELD_END};
    static const sw_kind k = {.name = "walker", .frame_size = sizeof(w3), .fields = fields, .run = walker2_run};
    const sw_kind *kinds[] = {&k, &watcher_kind, NULL};
    sw_pickle_env env = {kinds, zoo_funcs};
    expect_load_error(&env, "walker.energy");
}

Test(pickle, missing_kind_is_named) {
    const sw_kind *kinds[] = {&walker_kind, NULL};
    sw_pickle_env env = {kinds, zoo_funcs};
    expect_load_error(&env, "\"watcher\"");
}

Test(pickle, missing_function_is_named) {
    sw_pickle_env env = {zoo_kinds, NULL};
    expect_load_error(&env, "\"nap\"");
}

Test(pickle, removed_resume_point_is_named) {
    static const sw_field fields[] = {
        SW_FIELD(walker2, energy, SW_T_F64), SW_FIELD(walker2, steps, SW_T_I32),
        SW_FIELD(walker2, slept, SW_T_VALUE), SW_FIELD(walker2, ch, SW_T_CHAN),
        SW_FIELD(walker2, msg, SW_T_MSG), SW_FIELD_END};
    static const sw_kind k = {.name = "walker", .frame_size = sizeof(walker2), .fields = fields, .run = walker3_run};
    const sw_kind *kinds[] = {&k, &watcher_kind, NULL};
    sw_pickle_env env = {kinds, zoo_funcs};
    expect_load_error(&env, "walker:walk");
}

/* ---- damage ------------------------------------------------------------------------------- */

Test(pickle, every_truncation_is_an_error) {
    sw_pickle_buf p = zoo_pickle_after(25);
    sw_sched *b = fresh();
    char err[512];
    size_t step = p.len / 3000 + 1;
    for (size_t n = 0; n < p.len; n += step) {
        err[0] = '\0';
        int rc = sw_pickle_load(b, &zoo_env, NULL, 0, p.data, n, err, sizeof err);
        cr_assert_neq(rc, SW_OK, "a pickle cut to %zu of %zu bytes loaded", n, p.len);
        cr_assert(err[0], "no message for a cut at %zu", n);
    }
    cr_assert_eq(sw_pickle_load(b, &zoo_env, NULL, 0, p.data, p.len, err, sizeof err), SW_OK, "%s", err);
    sw_pickle_buf_fini(&p);
    sw_sched_free(b);
}

Test(pickle, bit_flips_never_crash) {
    sw_pickle_buf p = zoo_pickle_after(25);
    uint8_t *copy = malloc(p.len);
    char err[512];
    uint64_t x = 88172645463325252ull;
    int failed = 0;
    for (int i = 0; i < 1500; i++) {
        memcpy(copy, p.data, p.len);
        for (int k = 0; k < 1 + i % 3; k++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            copy[x % p.len] ^= (uint8_t)(1u << (x >> 60 & 7));
        }
        sw_sched *b = fresh();
        int rc = sw_pickle_load(b, &zoo_env, NULL, 0, copy, p.len, err, sizeof err);
        if (rc == SW_OK) {
            sw_sched_run(b, 20); /* whatever loaded must run without crashing */
        } else {
            failed++;
        }
        sw_sched_free(b);
    }
    cr_assert_gt(failed, 100, "hardly any flip was caught");
    free(copy);
    sw_pickle_buf_fini(&p);
}

Test(pickle, damage_behind_the_checksums_never_crashes) {
    sw_pickle_buf p = zoo_pickle_after(25);
    uint8_t *copy = malloc(p.len);
    char err[512];
    uint64_t x = 0x2545f4914f6cdd1dull;
    int failed = 0, loaded = 0;
    for (int i = 0; i < 3000; i++) {
        memcpy(copy, p.data, p.len);
        for (int k = 0; k < 1 + i % 3; k++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            copy[x % p.len] ^= (uint8_t)(1u << (x >> 60 & 7));
        }
        sw__pk_reseal(copy, p.len); /* the validator, not the checksum, must catch it */
        sw_sched *b = fresh();
        if (sw_pickle_load(b, &zoo_env, NULL, 0, copy, p.len, err, sizeof err) == SW_OK) {
            loaded++;
            sw_sched_run(b, 20); /* whatever loads must run without crashing */
        } else {
            cr_assert(err[0]);
            failed++;
        }
        sw_sched_free(b);
    }
    cr_assert_gt(failed, 300, "hardly any damage was caught (%d of 3000)", failed);
    cr_assert_gt(loaded, 0, "no damage loaded: reseal does not work, the test proves nothing");
    free(copy);
    sw_pickle_buf_fini(&p);
}

Test(pickle, wrong_magic_and_format) {
    sw_pickle_buf p = zoo_pickle_after(5);
    sw_sched *b = fresh();
    char err[512];
    p.data[0] = 'X';
    cr_assert_eq(sw_pickle_load(b, &zoo_env, NULL, 0, p.data, p.len, err, sizeof err), SW_E_FORMAT);
    cr_assert(strstr(err, "not a Swarmlet pickle"), "%s", err);
    p.data[0] = 'S';
    p.data[4] = 99;
    cr_assert_eq(sw_pickle_load(b, &zoo_env, NULL, 0, p.data, p.len, err, sizeof err), SW_E_FORMAT);
    cr_assert(strstr(err, "format 99"), "%s", err);
    sw_pickle_buf_fini(&p);
    sw_sched_free(b);
}

Test(pickle, describe_agent_without_code) {
    sw_sched *a = zoo_new();
    cr_assert_eq(sw_sched_run(a, 12), SW_OK);
    sw_pickle_buf schema = {0}, rec = {0}, out = {0};
    cr_assert_eq(sw_pickle_save_schema(a, &schema), SW_OK);
    char err[256];
    sw_pickle_schema *sc = sw_pickle_schema_parse(schema.data, schema.len, err, sizeof err);
    cr_assert(sc, "%s", err);
    cr_assert_eq(sw_pickle_schema_kinds(sc), 2);
    sw_id id = sw_sched_next(a, SW_ID_NONE);
    cr_assert_eq(sw_pickle_save_agent(a, sw_handle_slot(id), &rec), 1);
    cr_assert_eq(sw_pickle_describe_agent(sc, rec.data, rec.len, true, &out, err, sizeof err), SW_OK, "%s", err);
    out.data = realloc(out.data, out.len + 1);
    out.data[out.len] = 0;
    cr_assert(strstr((char *)out.data, "\"kind\": \"walker\""), "%s", (char *)out.data);
    cr_assert(strstr((char *)out.data, "\"energy\": "), "%s", (char *)out.data);
    cr_assert(strstr((char *)out.data, "\"point\": "), "%s", (char *)out.data);
    sw_pickle_schema_free(sc);
    sw_pickle_buf_fini(&schema);
    sw_pickle_buf_fini(&rec);
    sw_pickle_buf_fini(&out);
    sw_sched_free(a);
}

/* ---- out of memory ------------------------------------------------------------------------ */

typedef struct {
    long left; /* allocations still allowed; < 0: unlimited */
} budget;

static void *failing_alloc(void *ud, void *p, size_t n) {
    budget *b = ud;
    if (n == 0) {
        free(p);
        return NULL;
    }
    if (b->left == 0) return NULL;
    if (b->left > 0) b->left--;
    return realloc(p, n);
}

Test(pickle, loading_survives_every_allocation_failure) {
    sw_pickle_buf p = zoo_pickle_after(30);
    char err[512];
    int ok = 0, failed = 0;
    for (long n = 0; n < 400; n++) {
        budget b = {-1};
        sw_sched *s = sw_sched_new(&(sw_sched_desc){.seed = 5, .alloc = failing_alloc, .alloc_ud = &b});
        cr_assert(s);
        b.left = n;
        int rc = sw_pickle_load(s, &zoo_env, NULL, 0, p.data, p.len, err, sizeof err);
        b.left = -1;
        if (rc == SW_OK) {
            ok++;
            cr_assert_eq(sw_sched_run(s, 10), SW_OK, "after a load that needed %ld allocations", n);
        } else {
            failed++;
            cr_assert_eq(sw_sched_count(s), 0);
            cr_assert_eq(sw_sched_step(s), SW_OK, "a failed load leaves a usable scheduler");
        }
        sw_sched_free(s);
        if (ok) break; /* every count below this one failed cleanly */
    }
    cr_assert_gt(failed, 3, "loading made too few allocations to test");
    cr_assert_eq(ok, 1, "loading never succeeded within the budget");
    sw_pickle_buf_fini(&p);
}

/* ---- the byte helpers ------------------------------------------------------------ */

/* The checksum as first written (word by word, the tail through memcpy): the
 * fast tail must give the same sums, or old snapshots would read as damaged. */
static uint32_t reference_sum(const uint8_t *p, size_t n) {
    uint64_t h = 0x9ae16a3b2f90404fULL ^ n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, n);
    h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
    h ^= h >> 32;
    return (uint32_t)h;
}

Test(pickle, checksum_is_the_same_for_every_length) {
    uint8_t buf[80];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(i * 37 + 11);
    for (size_t start = 0; start < 8; start++)
        for (size_t n = 0; start + n <= sizeof buf; n++)
            cr_assert_eq(sw__pk_sum(buf + start, n), reference_sum(buf + start, n), "start %zu length %zu", start, n);
}

/* Varints of every length read back the same near the end of the buffer (the
 * checked path) and away from it (the unchecked one); one cut short, or past
 * 64 bits, is an error either way. */
Test(pickle, varints_read_back_at_every_distance_from_the_end) {
    const uint64_t values[] = {0, 1, 127, 128, 300, 16383, 16384, 1u << 21, 0xffffffffu, 1ull << 35,
                               1ull << 56, 1ull << 63, UINT64_MAX};
    for (size_t v = 0; v < sizeof values / sizeof *values; v++) {
        for (size_t pad = 0; pad < 14; pad++) {
            sw_pickle_buf b = {0};
            cr_assert(sw__pk_uv(&b, values[v]));
            size_t len = b.len;
            for (size_t i = 0; i < pad; i++) cr_assert(sw__pk_u8(&b, 0x55));
            sw__rd r;
            char err[128];
            sw__rd_init(&r, b.data, b.len, "test", err, sizeof err);
            cr_assert_eq(sw__rd_uv(&r, "value"), values[v]);
            cr_assert(!r.bad);
            cr_assert_eq((size_t)(r.p - r.start), len);
            sw__rd_init(&r, b.data, len - 1, "test", err, sizeof err); /* cut short */
            sw__rd_uv(&r, "value");
            cr_assert(r.bad || len == 1, "value %llu", (unsigned long long)values[v]);
            sw_pickle_buf_fini(&b);
        }
    }
    uint8_t big[16];
    memset(big, 0xff, 9);
    big[9] = 0x02; /* bit 64 */
    memset(big + 10, 0, 6);
    for (size_t n = 10; n <= sizeof big; n++) {
        sw__rd r;
        char err[128];
        sw__rd_init(&r, big, n, "test", err, sizeof err);
        sw__rd_uv(&r, "value");
        cr_assert(r.bad && strstr(err, "too large"), "%s", err);
    }
}
