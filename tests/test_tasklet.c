/* test_tasklet.c - resumable functions: named resume points, nested SW_CALL
 * chains that suspend, frames reclaimed on kill, misuse caught, sizes. */
#include <criterion/criterion.h>
#include "swarmlet.h"
#include "support.h"
#include "sched_int.h" /* struct sizes are a tripwire for the hot loops */

#include <stdio.h>
#include <string.h>

/* ---- three levels: traveller -> errand -> walk ------------------------------ */

static sw_chan g_gate;

/* Level 3: sleeps twice, waits at the gate, returns a value built from both. */
typedef struct { int32_t leg; sw_msg ticket; } walk;
static sw_step walk_run(sw_tasklet *t, void *frame) {
    walk *f = frame;
    SW_BEGIN(t, step1, step2, gate);
    sw_test_tr("walk%d@%llu", f->leg, (unsigned long long)sw_now(t));
    SW_SLEEP(t, step1, 2);
    SW_SLEEP(t, step2, 2);
    SW_RECV(t, gate, g_gate, &f->ticket);
    sw_test_tr("gate%d@%llu", f->leg, (unsigned long long)sw_now(t));
    SW_RETURN(t, ((sw_value){.i = f->leg * 100 + f->ticket.i}));
    SW_END(t);
}
static const sw_func walk_func = {.name = "walk", .run = walk_run, .frame_size = sizeof(walk)};

/* Level 2: two walks, a rest, returns their sum. */
typedef struct { int32_t legs; sw_value a, b; } errand;
static sw_step errand_run(sw_tasklet *t, void *frame) {
    errand *f = frame;
    SW_BEGIN(t, first, rest, second);
    SW_CALL(t, first, &walk_func, &(walk){.leg = 1}, &f->a);
    SW_SLEEP(t, rest, 1);
    SW_CALL(t, second, &walk_func, &(walk){.leg = 2}, &f->b);
    SW_RETURN(t, ((sw_value){.i = f->a.i + f->b.i}));
    SW_END(t);
}
static const sw_func errand_func = {.name = "errand", .run = errand_run, .frame_size = sizeof(errand)};

/* Level 1: the agent. */
typedef struct { int32_t mode; sw_value got; int64_t done_at; } traveller;
static sw_step traveller_run(sw_tasklet *t, void *frame) {
    traveller *f = frame;
    SW_BEGIN(t, go, nothing);
    SW_CALL(t, go, &errand_func, NULL, &f->got);
    f->done_at = (int64_t)sw_now(t);
    sw_test_tr("home=%lld@%lld", (long long)f->got.i, (long long)f->done_at);
    SW_CALL(t, nothing, &errand_func, NULL, NULL); /* result dropped */
    SW_END(t);
}
static const sw_field traveller_fields[] = {SW_FIELD(traveller, mode, SW_T_I32), SW_FIELD(traveller, got, SW_T_VALUE),
                                            SW_FIELD(traveller, done_at, SW_T_I64), SW_FIELD_END};
static const sw_kind traveller_kind = {.name = "traveller", .frame_size = sizeof(traveller),
                                       .fields = traveller_fields, .run = traveller_run};

static sw_sched *world(void) {
    sw_test_trace[0] = '\0';
    sw_sched *s = sw_sched_new(&(sw_sched_desc){.seed = 1});
    sw_sched_hold(s, 1);
    g_gate = sw_chan_new(s, &(sw_chan_desc){.kind = SW_CHAN_BUFFERED, .capacity = 8});
    return s;
}

Test(tasklet, nested_calls_suspend_and_return_values) {
    sw_sched *s = world();
    sw_id id = sw_sched_spawn(s, &traveller_kind, NULL, 0);
    cr_assert_eq(sw_sched_step(s), SW_OK); /* tick 1: walk 1 starts, sleeps to 3 */
    sw_task_info info;
    cr_assert_eq(sw_sched_inspect(s, id, &info), SW_OK);
    cr_assert_eq(info.depth, 3);
    cr_assert_str_eq(info.func, "walk");
    cr_assert_str_eq(info.point, "step1");
    cr_assert_eq(info.state, SW_TASK_SLEEPING);
    cr_assert_eq(sw_sched_frames(s), 3);
    cr_assert_eq(sw_sched_run(s, 4), SW_OK); /* tick 5: waits at the gate */
    cr_assert_eq(sw_sched_inspect(s, id, &info), SW_OK);
    cr_assert_str_eq(info.point, "gate");
    cr_assert_eq(info.state, SW_TASK_RECV);
    cr_assert_eq(sw_chan_post(s, g_gate, &(sw_msg){.i = 7}), SW_OK);
    cr_assert_eq(sw_chan_post(s, g_gate, &(sw_msg){.i = 9}), SW_OK); /* ready for walk 2 */
    cr_assert_eq(sw_sched_run(s, 20), SW_OK);
    /* walk 1: 1..5, gate at 6 (posted between ticks 5 and 6); rest to 7;
       walk 2: 7..11, its ticket already waiting */
    cr_assert_str_eq(sw_test_trace, "walk1@1 gate1@6 walk2@7 gate2@11 home=316@11 walk1@11", "%s", sw_test_trace);
    traveller *f = sw_sched_frame(s, id);
    cr_assert_eq(f->got.i, 316);
    cr_assert_eq(sw_sched_frames(s), 3); /* the second errand is under way */
    sw_sched_free(s);
}

Test(tasklet, kill_while_nested_frees_every_frame) {
    sw_sched *s = world();
    sw_id a = sw_sched_spawn(s, &traveller_kind, NULL, 0);
    sw_id b = sw_sched_spawn(s, &traveller_kind, NULL, 0);
    cr_assert_eq(sw_sched_run(s, 5), SW_OK);
    cr_assert_eq(sw_sched_frames(s), 6);
    cr_assert_eq(sw_chan_balance(s, g_gate), -2);
    cr_assert_eq(sw_sched_kill(s, a), SW_OK); /* blocked three deep */
    cr_assert_eq(sw_sched_frames(s), 3);
    cr_assert_eq(sw_chan_balance(s, g_gate), -1);
    cr_assert_eq(sw_chan_post(s, g_gate, &(sw_msg){.i = 1}), SW_OK);
    cr_assert_eq(sw_sched_step(s), SW_OK); /* b is resting in errand: two deep, asleep */
    sw_task_info info;
    cr_assert_eq(sw_sched_inspect(s, b, &info), SW_OK);
    cr_assert_eq(info.depth, 2);
    cr_assert_str_eq(info.point, "rest");
    cr_assert_eq(sw_sched_kill(s, b), SW_OK);
    cr_assert_eq(sw_sched_frames(s), 0);
    cr_assert_eq(sw_sched_run(s, 300), SW_OK);
    sw_sched_free(s);
}

/* A callee that kills its own tasklet, and one that falls off its end. */
typedef struct { int32_t mode; } quitter;
static sw_step quitter_run(sw_tasklet *t, void *frame) {
    quitter *f = frame;
    SW_BEGIN(t, nap);
    sw_test_tr("q%d", f->mode);
    if (f->mode == 1) {
        sw_kill(t, sw_self(t));
        SW_SLEEP(t, nap, 1);
        sw_test_tr("never");
    }
    SW_END(t); /* returns zero */
}
static const sw_func quitter_func = {.name = "quitter", .run = quitter_run, .frame_size = sizeof(quitter)};

typedef struct { int32_t mode; sw_value v; } caller;
static sw_step caller_run(sw_tasklet *t, void *frame) {
    caller *f = frame;
    SW_BEGIN(t, call);
    f->v.i = 55;
    SW_CALL(t, call, &quitter_func, &(quitter){.mode = f->mode}, &f->v);
    sw_test_tr("back%d=%lld", f->mode, (long long)f->v.i);
    SW_END(t);
}
static const sw_kind caller_kind = {.name = "caller", .frame_size = sizeof(caller), .run = caller_run};

Test(tasklet, callee_kill_self_and_fall_off_end) {
    sw_sched *s = world();
    sw_sched_spawn(s, &caller_kind, &(caller){.mode = 1}, 0);
    sw_sched_spawn(s, &caller_kind, &(caller){.mode = 2}, 0);
    cr_assert_eq(sw_sched_run(s, 3), SW_OK);
    cr_assert_str_eq(sw_test_trace, "q1 q2 back2=0");
    cr_assert_eq(sw_sched_count(s), 0);
    cr_assert_eq(sw_sched_frames(s), 0);
    /* calling registered the function by name */
    cr_assert_eq(sw_sched_find_func(s, "quitter"), &quitter_func);
    sw_sched_free(s);
}

/* ---- misuse ---------------------------------------------------------------------- */

typedef struct { int32_t mode; sw_value v; sw_chan ch; } misuser;
static sw_step misuser_run(sw_tasklet *t, void *frame) {
    misuser *f = frame;
    static sw_msg outside;
    static sw_value outside_v;
    SW_BEGIN(t, rx, call, tx);
    if (f->mode == 0) SW_RECV(t, rx, f->ch, &outside);
    if (f->mode == 1) SW_CALL(t, call, &quitter_func, NULL, &outside_v);
    if (f->mode == 2) SW_SEND(t, tx, f->ch, &outside);
    SW_END(t);
}
static const sw_kind misuser_kind = {.name = "misuser", .frame_size = sizeof(misuser), .run = misuser_run};

Test(tasklet, pointers_outside_the_frame_are_refused) {
    static const char *const want[] = {"SW_RECV", "SW_CALL", "SW_SEND"};
    for (int mode = 0; mode < 3; mode++) {
        sw_sched *s = world();
        sw_chan ch = sw_chan_new(s, &(sw_chan_desc){0});
        sw_id id = sw_sched_spawn(s, &misuser_kind, &(misuser){.mode = mode, .ch = ch}, 0);
        cr_assert_eq(sw_sched_step(s), SW_E_INVALID);
        cr_assert(strstr(sw_sched_errmsg(s), want[mode]), "%s", sw_sched_errmsg(s));
        cr_assert_not(sw_sched_alive(s, id));
        cr_assert_eq(sw_chan_balance(s, ch), 0);
        cr_assert_eq(sw_sched_step(s), SW_OK);
        sw_sched_free(s);
    }
}

static sw_step no_begin_run(sw_tasklet *t, void *frame) {
    (void)t; (void)frame;
    return SW_STEP_EXIT;
}

Test(tasklet, registry_by_name) {
    sw_sched *s = world();
    int count = 0;
    const char *const *points = sw_run_points(walk_run, &count);
    cr_assert_eq(count, 4);
    cr_assert_str_eq(points[0], "start");
    cr_assert_str_eq(points[3], "gate");
    cr_assert_null(sw_run_points(no_begin_run, &count));
    int k = sw_sched_add_kind(s, &traveller_kind);
    cr_assert_geq(k, 0);
    cr_assert_eq(sw_sched_add_kind(s, &traveller_kind), k);
    sw_kind clash = traveller_kind;
    cr_assert_eq(sw_sched_add_kind(s, &clash), SW_E_INVALID);
    cr_assert(strstr(sw_sched_errmsg(s), "already registered"));
    sw_kind bad = {.name = "bad", .run = no_begin_run};
    cr_assert_eq(sw_sched_add_kind(s, &bad), SW_E_INVALID);
    cr_assert(strstr(sw_sched_errmsg(s), "SW_BEGIN"));
    cr_assert_eq(sw_sched_add_kind(s, NULL), SW_E_INVALID);
    cr_assert_eq(sw_sched_find_kind(s, "traveller"), &traveller_kind);
    cr_assert_null(sw_sched_find_kind(s, "nobody"));
    int fi = sw_sched_add_func(s, &errand_func);
    cr_assert_geq(fi, 0);
    cr_assert_eq(sw_sched_func_at(s, fi), &errand_func);
    const char *const *ep = sw_sched_func_points(s, fi, &count);
    cr_assert_eq(count, 4);
    cr_assert_str_eq(ep[2], "rest");
    /* a kind's root function is registered under the kind's name */
    const sw_func *root = sw_sched_find_func(s, "traveller");
    cr_assert_not_null(root);
    cr_assert_eq(root->run, traveller_run);
    sw_func dup = {.name = "traveller", .run = walk_run, .frame_size = 4};
    cr_assert_eq(sw_sched_add_func(s, &dup), SW_E_INVALID);
    cr_assert_eq(sw_sched_kind_count(s), 1);
    cr_assert_eq(sw_sched_kind_at(s, 0), &traveller_kind);
    cr_assert_null(sw_sched_kind_at(s, 1));
    sw_sched_free(s);
}

/* ---- the view from inside -------------------------------------------------------------- */

typedef struct { int64_t x; sw_value v; } inner_f;
static sw_id g_self;
static void *g_root;
static sw_step inner_run(sw_tasklet *t, void *frame) {
    (void)frame;
    SW_BEGIN(t);
    g_self = sw_self(t);
    g_root = sw_root_frame(t);
    cr_assert_eq(sw_kind_of(t)->name[0], 'o');
    cr_assert_eq(sw_context(t), (void *)&sw_test_trace);
    cr_assert_eq(sw_now(t), sw_sched_now(sw_sched_of(t)));
    SW_END(t);
}
static const sw_func inner_func = {.name = "inner", .run = inner_run, .frame_size = sizeof(inner_f)};
static sw_step outer_run(sw_tasklet *t, void *frame) {
    inner_f *f = frame;
    SW_BEGIN(t, call);
    SW_CALL(t, call, &inner_func, NULL, &f->v);
    SW_END(t);
}
static const sw_kind outer_kind = {.name = "outer", .frame_size = sizeof(inner_f), .run = outer_run};

Test(tasklet, view_from_inside_a_callee) {
    sw_sched *s = sw_sched_new(&(sw_sched_desc){.context = &sw_test_trace});
    sw_id id = sw_sched_spawn(s, &outer_kind, &(inner_f){.x = 3}, 0);
    void *root = sw_sched_frame(s, id);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_eq(g_self, id);
    cr_assert_eq(g_root, root);
    sw_sched_free(s);
}

/* ---- frames of every size ------------------------------------------------------------- */

typedef struct { char blob[3000]; sw_msg m; } big;
static sw_step big_run(sw_tasklet *t, void *frame) {
    big *f = frame;
    SW_BEGIN(t, wait);
    f->blob[2999] = 1;
    SW_RECV(t, wait, g_gate, &f->m);
    SW_END(t);
}
static const sw_kind big_kind = {.name = "big", .frame_size = sizeof(big), .run = big_run};

Test(tasklet, large_frames_from_the_allocator) {
    sw_sched *s = world();
    sw_id ids[10];
    for (int i = 0; i < 10; i++) ids[i] = sw_sched_spawn(s, &big_kind, NULL, 0);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_eq(sw_sched_frames(s), 10);
    for (int i = 0; i < 5; i++) cr_assert_eq(sw_sched_kill(s, ids[i]), SW_OK);
    cr_assert_eq(sw_sched_frames(s), 5);
    sw_sched_free(s); /* the other five are freed with it (ASan checks) */
}

Test(tasklet, hot_structures_keep_their_size) {
    cr_assert_eq(sizeof(sw__frame), 16);
    cr_assert_eq(sizeof(struct sw__task), 48);
    cr_assert_eq(sizeof(sw_msg), 32);
    cr_assert_eq(sizeof(sw_value), 8);
}

/* Frames of 16, 32 and 64 bytes (header included) never straddle a cache
 * line, whatever was carved before them. */
typedef struct { int64_t a; } f8;
typedef struct { int64_t a[2]; } f16;
typedef struct { int64_t a[6]; } f48;
static sw_step plain_run(sw_tasklet *t, void *frame) {
    (void)frame;
    SW_BEGIN(t, nap);
    SW_SLEEP(t, nap, 5);
    SW_END(t);
}
static const sw_kind k8 = {.name = "k8", .frame_size = sizeof(f8), .run = plain_run};
static const sw_kind k16 = {.name = "k16", .frame_size = sizeof(f16), .run = plain_run};
static const sw_kind k48 = {.name = "k48", .frame_size = sizeof(f48), .run = plain_run};

Test(tasklet, small_frames_stay_within_a_cache_line) {
    sw_sched *s = world();
    const sw_kind *kinds[] = {&k8, &k16, &k48, &big_kind};
    for (int i = 0; i < 3000; i++) {
        const sw_kind *k = kinds[(i * 7) % 4];
        sw_id id = sw_sched_spawn(s, k, NULL, 0);
        uintptr_t at = (uintptr_t)sw_sched_frame(s, id) - sizeof(sw__frame);
        size_t size = sizeof(sw__frame) + k->frame_size;
        if (size <= 64) cr_assert_eq(at / 64, (at + size - 1) / 64, "a %zu-byte frame straddles a line", size);
    }
    sw_sched_free(s);
}

/* The world's cell channels come from sw__chan_new_event_if_room, else (the
 * table full) sw__chan_new_event: the very record sw_chan_new makes for an
 * event channel of that key, in a new slot and in one a buffered or
 * rendezvous channel left, and once the table is full. */
static void assert_same_record(sw_sched *s, sw_chan ref, sw_chan got, const char *what) {
    cr_assert_neq(ref, SW_CHAN_NONE, "%s", what);
    cr_assert_neq(got, SW_CHAN_NONE, "%s", what);
    sw__chan r = *sw__chan_get(s, ref), g = *sw__chan_get(s, got);
    cr_assert_eq(r.gen, g.gen, "%s", what);
    cr_assert_eq(memcmp(&r, &g, sizeof r), 0, "%s: the records differ", what);
    cr_assert_eq(sw_chan_kind_of(s, got), SW_CHAN_EVENT, "%s", what);
}

Test(tasklet, event_channel_records_are_sw_chan_news) {
    sw_sched *s = world();
    for (int reuse = 0; reuse < 2; reuse++) {
        if (reuse) { /* four records left by other kinds, for the two pairs below */
            sw_chan left[4];
            for (int i = 0; i < 4; i++) {
                left[i] = i % 2 ? sw_chan_new(s, &(sw_chan_desc){.kind = SW_CHAN_RENDEZVOUS, .preference = 1})
                                : sw_chan_new(s, &(sw_chan_desc){.kind = SW_CHAN_BUFFERED, .capacity = 3, .key = 9});
                if (i % 2 == 0) cr_assert_eq(sw_chan_post(s, left[i], &(sw_msg){.tag = 1}), SW_OK);
            }
            for (int i = 0; i < 4; i++) cr_assert_eq(sw_chan_free(s, left[i]), SW_OK);
        }
        sw_chan ref = sw_chan_new(s, &(sw_chan_desc){.kind = SW_CHAN_EVENT, .key = 77});
        assert_same_record(s, ref, sw__chan_new_event(s, 77), reuse ? "sw__chan_new_event, reused" : "sw__chan_new_event");
        ref = sw_chan_new(s, &(sw_chan_desc){.kind = SW_CHAN_EVENT, .key = 77});
        assert_same_record(s, ref, sw__chan_new_event_if_room(s, 77),
                           reuse ? "sw__chan_new_event_if_room, reused" : "sw__chan_new_event_if_room");
    }
    /* the table full: the inline path gives nothing, the call grows it */
    int filled = 0;
    while (sw__chan_new_event_if_room(s, 5) != SW_CHAN_NONE) cr_assert_lt(++filled, 1 << 20, "never full");
    cr_assert_eq(sw__chan_new_event_if_room(s, 77), SW_CHAN_NONE);
    sw_chan got = sw__chan_new_event(s, 77);
    assert_same_record(s, sw_chan_new(s, &(sw_chan_desc){.kind = SW_CHAN_EVENT, .key = 77}), got,
                       "sw__chan_new_event, the table full");
    sw_sched_free(s);
}

/* A tasklet resumed at a point its function does not declare fails with an
 * error, whatever the point, even the one sw_run_points hands its view
 * (SW_END's `default` answers both: only that view is described). */
Test(tasklet, unknown_resume_point_fails_even_the_describing_ones) {
    static const uint16_t bad[] = {4, 1000, UINT16_MAX};
    for (int i = 0; i < 3; i++) {
        sw_sched *s = world();
        sw_id id = sw_sched_spawn(s, &traveller_kind, NULL, 0);
        sw__frame *f = (sw__frame *)sw_sched_frame(s, id) - 1;
        f->pc = bad[i];
        cr_assert_eq(sw_sched_step(s), SW_E_INVALID, "pc %u", bad[i]);
        cr_assert(strstr(sw_sched_errmsg(s), "unknown resume point"), "pc %u: %s", bad[i], sw_sched_errmsg(s));
        cr_assert_not(sw_sched_alive(s, id), "pc %u", bad[i]);
        sw_sched_free(s);
    }
    int count = 0;
    cr_assert_not_null(sw_run_points(traveller_kind.run, &count));
    cr_assert_gt(count, 1);
}
