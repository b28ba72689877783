/* test_activation.c - the activation order of a tick (activation.c): FIFO by
 * default, by kind rank, shuffled among random kinds (seeded, pinned), kills
 * before a turn in a shuffled batch, rank changes between ticks, and the
 * keyed turns of the woken of random kinds (their law, one turn a tick,
 * ranks, FIFO kinds, determinism and snapshots). */
#include <criterion/criterion.h>
#include "pickle.h"
#include "swarmlet.h"
#include "support.h"
#include "sched_fixtures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* ---- activation order ------------------------------------------------------------- */

typedef struct { int32_t name; } orderer;
static sw_step orderer_run(sw_tasklet *t, void *frame) {
    orderer *f = frame;
    SW_BEGIN(t, nap);
    for (;;) {
        sw_test_tr("%s%d", sw_kind_of(t)->name, f->name);
        SW_SLEEP(t, nap, 1);
    }
    SW_END(t);
}
static const sw_kind sheep_kind = {.name = "s", .frame_size = sizeof(orderer), .run = orderer_run};
static const sw_kind wolf_kind = {.name = "w", .frame_size = sizeof(orderer), .run = orderer_run};

/* Spawns three of each kind, alternating (`first`'s i, then `second`'s i;
 * `second`'s #1 starting `late` ticks later), and runs two traced ticks. */
static int run_herds(sw_sched *s, const sw_kind *first, const sw_kind *second, sw_tick late) {
    for (int i = 0; i < 3; i++) {
        sw_sched_spawn(s, first, &(orderer){i}, 0);
        sw_sched_spawn(s, second, &(orderer){i}, i == 1 ? late : 0);
    }
    return sw_test_run_traced(s, 2);
}

Test(activation, activation_fifo_by_default) {
    sw_sched *s = sw_sched_new(NULL);
    cr_assert_eq(run_herds(s, &sheep_kind, &wolf_kind, 0), SW_OK);
    cr_assert_str_eq(sw_test_trace, "s0 w0 s1 w1 s2 w2 s0 w0 s1 w1 s2 w2");
    sw_sched_free(s);
}

Test(activation, activation_by_kind_rank) {
    sw_sched *s = sw_sched_new(NULL);
    cr_assert_eq(sw_sched_set_kind_rank(s, &wolf_kind, 2), SW_OK);
    cr_assert_eq(sw_sched_set_kind_rank(s, &sheep_kind, 1), SW_OK);
    cr_assert_eq(run_herds(s, &wolf_kind, &sheep_kind, 0), SW_OK);
    cr_assert_str_eq(sw_test_trace, "s0 s1 s2 w0 w1 w2 s0 s1 s2 w0 w1 w2");
    sw_sched_free(s);
}

/* Every kind in one rank, none random: the ordering pass (which then notes no
 * entry's kind) keeps the FIFO order. */
Test(activation, activation_one_shared_rank_is_fifo) {
    sw_sched *s = sw_sched_new(NULL);
    cr_assert_eq(sw_sched_set_kind_rank(s, &wolf_kind, 5), SW_OK);
    cr_assert_eq(sw_sched_set_kind_rank(s, &sheep_kind, 5), SW_OK);
    cr_assert_eq(run_herds(s, &wolf_kind, &sheep_kind, 1), SW_OK);
    cr_assert_str_eq(sw_test_trace, "w0 s0 w1 w2 s2 s1 w0 s0 w1 w2 s2 s1");
    sw_sched_free(s);
}

/* Batches made of long runs of one kind (as every tick's are, once the
 * tasklets that slept a tick come back in the order they ran) are moved run by
 * run: still a stable sort by rank, with a cancelled timer's gap closed. */
Test(activation, activation_by_rank_moves_long_runs_stably) {
    sw_sched *s = sw_sched_new(NULL);
    cr_assert_eq(sw_sched_set_kind_rank(s, &wolf_kind, 1), SW_OK);
    sw_id victim = SW_ID_NONE;
    for (int i = 0; i < 120; i++) {
        bool wolf = i < 40 || i >= 80; /* runs: 40 wolves, 40 sheep, 40 wolves */
        sw_id id = sw_sched_spawn(s, wolf ? &wolf_kind : &sheep_kind, &(orderer){i}, 0);
        if (i == 50) victim = id;
    }
    char want[4][4096] = {{0}};
    for (int tick = 0; tick < 4; tick++) {
        size_t len = 0;
        for (int pass = 0; pass < 2; pass++) /* sheep (rank 0), then wolves, each in spawn order */
            for (int i = 0; i < 120; i++) {
                bool wolf = i < 40 || i >= 80;
                if (wolf != (pass == 1) || (i == 50 && tick >= 1)) continue;
                len += (size_t)snprintf(want[tick] + len, sizeof want[tick] - len, "%s%s%d", len ? " " : "",
                                        wolf ? "w" : "s", i);
            }
    }
    for (int tick = 0; tick < 4; tick++) {
        cr_assert_eq(sw_test_step_traced(s), SW_OK);
        cr_assert_str_eq(sw_test_trace, want[tick], "tick %d", tick + 1);
        if (tick == 0) cr_assert_eq(sw_sched_kill(s, victim), SW_OK); /* a tombstone in the next batch */
    }
    sw_sched_free(s);
}

/* In a tick whose batch is a swapped-in bucket shuffled whole (one rank, every
 * kind random), the batch's tasklets stay asleep until their turn; one killed
 * before its turn never runs, and its slot is freed when its turn comes. */
static sw_id g_slay[20];
static int g_slay_ran[20];
static sw_tick g_slay_tick;
typedef struct { int32_t i; } slayer;
static sw_step slayer_run(sw_tasklet *t, void *frame) {
    slayer *f = frame;
    SW_BEGIN(t, nap);
    for (;;) {
        g_slay_ran[f->i]++;
        if (sw_now(t) == 2 && g_slay_tick != 2) { /* the first of tick 2 kills the rest */
            g_slay_tick = 2;
            for (int i = 0; i < 20; i++)
                if (i != f->i) cr_assert_eq(sw_kill(t, g_slay[i]), SW_OK);
        }
        SW_SLEEP(t, nap, 1);
    }
    SW_END(t);
}
static const sw_kind slayer_kind = {.name = "slayer", .frame_size = sizeof(slayer), .run = slayer_run};

Test(activation, killed_before_its_turn_in_a_shuffled_batch_never_runs) {
    sw_sched *s = sw_sched_new(&(sw_sched_desc){.seed = 5, .random_order = true});
    for (int i = 0; i < 20; i++) g_slay[i] = sw_sched_spawn(s, &slayer_kind, &(slayer){i}, 0);
    memset(g_slay_ran, 0, sizeof g_slay_ran);
    g_slay_tick = 0;
    cr_assert_eq(sw_sched_step(s), SW_OK); /* tick 1: the spawned, from the FIFO */
    cr_assert_eq(sw_sched_step(s), SW_OK); /* tick 2: the bucket, shuffled */
    int survivor = -1, ran = 0;
    for (int i = 0; i < 20; i++) {
        ran += g_slay_ran[i];
        if (sw_sched_alive(s, g_slay[i])) survivor = i;
    }
    cr_assert_eq(ran, 21, "20 turns in tick 1, one in tick 2");
    cr_assert_eq(sw_sched_count(s), 1);
    cr_assert_eq(sw_sched_count_kind(s, 0), 1);
    cr_assert_eq(g_slay_ran[survivor], 2);
    cr_assert_eq(sw_sched_resumes(s), 1);
    /* every killed slot was freed at its turn: new tasklets reuse them */
    for (int i = 0; i < 19; i++) sw_sched_spawn(s, &slayer_kind, &(slayer){survivor}, 0);
    cr_assert_eq(sw_sched_slot_limit(s), 20);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_eq(g_slay_ran[survivor], 3 + 19);
    sw_task_info info;
    cr_assert_eq(sw_sched_inspect(s, g_slay[survivor], &info), SW_OK);
    cr_assert_eq(info.state, SW_TASK_SLEEPING);
    cr_assert_eq(info.wake, 4);
    cr_assert_eq(sw_sched_kill(s, g_slay[survivor]), SW_OK); /* an ordinary timer, cancelled */
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_eq(g_slay_ran[survivor], 3 + 19 + 19);
    sw_sched_free(s);
}

/* The same in a batch sorted by rank (two random kinds in two ranks, as
 * wolf-sheep's sheep and wolves): the gather reads only the kinds of the
 * swapped-in bucket, whose tasklets stay asleep until their turn, so one
 * killed before its turn, in either rank, is queued and freed at its turn. */
static const sw_kind slayer_late_kind = {.name = "slayer_late", .frame_size = sizeof(slayer), .run = slayer_run};

Test(activation, killed_before_its_turn_in_a_ranked_batch_never_runs) {
    sw_sched *s = sw_sched_new(&(sw_sched_desc){.seed = 9});
    cr_assert_eq(sw_sched_set_kind_random(s, &slayer_kind, true), SW_OK);
    cr_assert_eq(sw_sched_set_kind_random(s, &slayer_late_kind, true), SW_OK);
    cr_assert_eq(sw_sched_set_kind_rank(s, &slayer_late_kind, 1), SW_OK);
    for (int i = 0; i < 20; i++)
        g_slay[i] = sw_sched_spawn(s, i % 2 ? &slayer_late_kind : &slayer_kind, &(slayer){i}, 0);
    memset(g_slay_ran, 0, sizeof g_slay_ran);
    g_slay_tick = 0;
    cr_assert_eq(sw_sched_step(s), SW_OK); /* tick 1: the spawned, from the FIFO */
    cr_assert_eq(sw_sched_step(s), SW_OK); /* tick 2: the bucket, sorted and shuffled */
    int survivor = -1, ran = 0;
    for (int i = 0; i < 20; i++) {
        ran += g_slay_ran[i];
        if (sw_sched_alive(s, g_slay[i])) survivor = i;
    }
    cr_assert_eq(ran, 21, "20 turns in tick 1, one in tick 2");
    cr_assert_eq(survivor % 2, 0, "the first turn of tick 2 is in rank 0");
    cr_assert_eq(sw_sched_count(s), 1);
    cr_assert_eq(sw_sched_count_kind(s, sw_sched_add_kind(s, &slayer_late_kind)), 0);
    cr_assert_eq(sw_sched_resumes(s), 1);
    for (int i = 0; i < 19; i++) sw_sched_spawn(s, &slayer_late_kind, &(slayer){survivor}, 0);
    cr_assert_eq(sw_sched_slot_limit(s), 20, "every killed slot was freed at its turn");
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_eq(g_slay_ran[survivor], 3 + 19);
    sw_sched_free(s);
}

/* A swapped-in bucket with tombstones (timers cancelled between ticks, and
 * one in a tick-start hook, after the bucket was swapped in), ahead of
 * tasklets spawned in that hook: the ordering pass closes the gaps, with
 * or without noting kinds, and every live tasklet takes exactly one turn a
 * tick. The timers stay counted right: with everything else gone, a
 * tasklet blocked for ever is a deadlock the very tick the last timer
 * fires. */
static sw_id g_gap_victim, *g_gap_ids;
static void kill_in_hook(sw_sched *s, void *ud) {
    (void)ud;
    if (!g_gap_victim) return;
    cr_assert_eq(sw_sched_kill(s, g_gap_victim), SW_OK);
    g_gap_victim = SW_ID_NONE;
    for (int i = 0; i < 5; i++) /* behind the bucket, in the FIFO; they reuse killed slots */
        g_gap_ids[i * 4] = sw_sched_spawn(s, &slayer_late_kind, &(slayer){i * 4}, 0);
}

static void bucket_gaps(bool ranked) {
    sw_sched *s = sw_sched_new(&(sw_sched_desc){.seed = 3, .random_order = !ranked});
    if (ranked) {
        cr_assert_eq(sw_sched_set_kind_random(s, &slayer_kind, true), SW_OK);
        cr_assert_eq(sw_sched_set_kind_rank(s, &slayer_late_kind, 1), SW_OK);
    }
    cr_assert_eq(sw_sched_on_tick_start(s, kill_in_hook, NULL), SW_OK);
    sw_id ids[20];
    for (int i = 0; i < 20; i++) ids[i] = sw_sched_spawn(s, i % 3 ? &slayer_kind : &slayer_late_kind, &(slayer){i}, 0);
    memset(g_slay_ran, 0, sizeof g_slay_ran);
    g_slay_tick = 2; /* no slaying */
    g_gap_victim = SW_ID_NONE;
    cr_assert_eq(sw_sched_step(s), SW_OK);
    bool alive[20];
    for (int i = 0; i < 20; i++) alive[i] = true;
    for (int i = 0; i < 20; i += 4) { /* tombstones, the first at the bucket's head */
        cr_assert_eq(sw_sched_kill(s, ids[i]), SW_OK);
        alive[i] = false;
    }
    g_gap_victim = ids[19]; /* and the hook spawns five */
    g_gap_ids = ids;
    alive[19] = false;
    memset(g_slay_ran, 0, sizeof g_slay_ran);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    for (int i = 0; i < 20; i++)
        cr_assert_eq(g_slay_ran[i], i % 4 == 0 ? 1 : alive[i], "tasklet %d (ranked %d)", i, ranked);
    cr_assert_eq(sw_sched_count(s), 19);
    for (int i = 0; i < 19; i++) cr_assert_eq(sw_sched_kill(s, ids[i]), SW_OK);
    sw_chan ch = sw_chan_new(s, &(sw_chan_desc){0});
    sw_sched_spawn(s, &heron_kind, &(waiter){.mode = 0, .ch = ch}, 0);
    cr_assert_eq(sw_sched_step(s), SW_E_DEADLOCK, "no timer left: the heron waits for ever");
    sw_sched_free(s);
}

Test(activation, tombstones_in_a_swapped_bucket_leave_no_gap) {
    bucket_gaps(false);
    bucket_gaps(true);
}

/* The ordering pass keeps each kind's place between ticks: a rank or flag set
 * between ticks, and a kind first seen mid-run, must still be obeyed. */
Test(activation, activation_follows_rank_changes_between_ticks) {
    sw_sched *s = sw_sched_new(NULL);
    for (int i = 0; i < 2; i++) {
        sw_sched_spawn(s, &sheep_kind, &(orderer){i}, 0);
        sw_sched_spawn(s, &wolf_kind, &(orderer){i}, 0);
    }
    cr_assert_eq(sw_test_step_traced(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "s0 w0 s1 w1");
    cr_assert_eq(sw_sched_set_kind_rank(s, &wolf_kind, -1), SW_OK);
    cr_assert_eq(sw_test_step_traced(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "w0 w1 s0 s1");
    sw_sched_spawn(s, &heron_kind, &(waiter){.mode = 0, .ch = sw_chan_new(s, &(sw_chan_desc){0})}, 0);
    cr_assert_eq(sw_sched_set_kind_rank(s, &heron_kind, -2), SW_OK);
    cr_assert_eq(sw_sched_set_kind_rank(s, &sheep_kind, -3), SW_OK);
    cr_assert_eq(sw_test_step_traced(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "s0 s1 w0 w1");
    cr_assert_eq(sw_sched_set_kind_random(s, &wolf_kind, true), SW_OK);
    cr_assert_eq(sw_sched_set_kind_rank(s, &wolf_kind, 0), SW_OK);
    for (int i = 2; i < 30; i++) sw_sched_spawn(s, &wolf_kind, &(orderer){i}, 0);
    cr_assert_eq(sw_sched_step(s), SW_OK); /* the newcomers join the sleepers' rhythm */
    cr_assert_eq(sw_test_step_traced(s), SW_OK);
    cr_assert(strncmp(sw_test_trace, "s0 s1 w", 7) == 0, "%s", sw_test_trace);
    cr_assert(!sw_test_trace_cut, "the trace was cut short: the check below would be blind");
    cr_assert(strstr(sw_test_trace, "w0 w1 w2 w3 w4 w5") == NULL, "the wolves were not shuffled: %s", sw_test_trace);
    sw_sched_free(s);
}

enum { FLOCK = 40, ORDER_TICKS = 4 };

static void random_orders(uint64_t seed, int out[ORDER_TICKS][FLOCK]) {
    sw_sched *s = sw_sched_new(&(sw_sched_desc){.seed = seed});
    cr_assert_eq(sw_sched_set_kind_random(s, &sheep_kind, true), SW_OK);
    cr_assert_eq(sw_sched_set_kind_rank(s, &wolf_kind, 1), SW_OK);
    for (int i = 0; i < FLOCK; i++) sw_sched_spawn(s, &sheep_kind, &(orderer){i}, 0);
    sw_sched_spawn(s, &wolf_kind, &(orderer){0}, 0);
    for (int tick = 0; tick < ORDER_TICKS; tick++) {
        cr_assert_eq(sw_test_step_traced(s), SW_OK);
        const char *p = sw_test_trace;
        for (int i = 0; i < FLOCK; i++) {
            int n, used;
            cr_assert_eq(sscanf(p, " s%d%n", &n, &used), 1, "%s", sw_test_trace);
            out[tick][i] = n;
            p += used;
        }
        cr_assert_str_eq(p, " w0"); /* the wolf's rank keeps it last */
    }
    sw_sched_free(s);
}

Test(activation, random_order_is_seeded_permutation) {
    int a[ORDER_TICKS][FLOCK], b[ORDER_TICKS][FLOCK], c[ORDER_TICKS][FLOCK];
    random_orders(11, a);
    random_orders(11, b);
    random_orders(12, c);
    for (int tick = 0; tick < ORDER_TICKS; tick++) {
        bool seen[FLOCK] = {0};
        for (int i = 0; i < FLOCK; i++) {
            cr_assert(a[tick][i] >= 0 && a[tick][i] < FLOCK && !seen[a[tick][i]]);
            seen[a[tick][i]] = true;
        }
        cr_assert_arr_eq(a[tick], b[tick], sizeof a[tick], "same seed, same order");
    }
    cr_assert(memcmp(a[0], a[1], sizeof a[0]) != 0, "a fresh order every tick");
    cr_assert(memcmp(a[1], a[2], sizeof a[0]) != 0, "a fresh order every tick");
    cr_assert(memcmp(a, c, sizeof a) != 0, "another seed, another order");
    int ident = 0;
    for (int i = 0; i < FLOCK; i++) ident += a[0][i] == i;
    cr_assert_lt(ident, FLOCK / 2, "shuffled, not FIFO");
}

/* Mixed orders pinned to exact values: kinds that share a rank with a random
 * kind, negative and repeated ranks, sleeps that mix the timer batch with
 * spawns, kills and random draws. The hash was taken from the first
 * implementation (three passes per rank); any faster ordering pass must give
 * these very orders. */
typedef struct { int32_t name, nap; } mixer;
static uint64_t g_order_hash;
static sw_step mixer_run(sw_tasklet *t, void *frame) {
    mixer *f = frame;
    SW_BEGIN(t, nap);
    for (;;) {
        uint64_t r = sw_rand_below(t, 1000);
        g_order_hash = (g_order_hash ^ (uint64_t)f->name ^ (sw_now(t) << 32)) * 0x100000001b3ULL;
        g_order_hash = (g_order_hash ^ r) * 0x100000001b3ULL;
        if (r < 20) {
            sw_spawn(t, sw_kind_of(t), &(mixer){f->name + 1000, (int32_t)(r % 4)}, r % 2);
        } else if (r < 30) {
            sw_sched *s = sw_sched_of(t);
            sw_id v = sw_sched_id_at(s, (uint32_t)sw_rand_below(t, sw_sched_slot_limit(s)));
            if (v && v != sw_self(t)) sw_kill(t, v);
        }
        SW_SLEEP(t, nap, 1 + (sw_tick)(f->nap ? r % (uint64_t)f->nap : 0));
    }
    SW_END(t);
}
static const sw_kind mix_a = {.name = "mix_a", .frame_size = sizeof(mixer), .run = mixer_run};
static const sw_kind mix_b = {.name = "mix_b", .frame_size = sizeof(mixer), .run = mixer_run};
static const sw_kind mix_c = {.name = "mix_c", .frame_size = sizeof(mixer), .run = mixer_run};
static const sw_kind mix_d = {.name = "mix_d", .frame_size = sizeof(mixer), .run = mixer_run};
static const sw_kind mix_e = {.name = "mix_e", .frame_size = sizeof(mixer), .run = mixer_run};

static uint64_t mixed_orders(bool all_random, bool ranks) {
    sw_sched *s = sw_sched_new(&(sw_sched_desc){.seed = 77, .random_order = all_random});
    const sw_kind *k[5] = {&mix_a, &mix_b, &mix_c, &mix_d, &mix_e};
    if (ranks) {
        int rank[5] = {0, 0, -3, 5, 5};
        for (int i = 0; i < 5; i++) cr_assert_eq(sw_sched_set_kind_rank(s, k[i], rank[i]), SW_OK);
    }
    bool rnd[5] = {true, false, true, false, true};
    for (int i = 0; i < 5; i++)
        if (rnd[i]) cr_assert_eq(sw_sched_set_kind_random(s, k[i], true), SW_OK);
    for (int i = 0; i < 300; i++)
        sw_sched_spawn(s, k[(i * 7) % 5], &(mixer){i, i % 5}, (sw_tick)(i % 3));
    g_order_hash = 0xcbf29ce484222325ULL;
    cr_assert_eq(sw_sched_run(s, 40), SW_OK);
    uint64_t h = g_order_hash ^ sw_sched_count(s);
    sw_sched_free(s);
    return h;
}

Test(activation, activation_orders_pinned) {
    uint64_t h[4] = {mixed_orders(false, true), mixed_orders(true, true), mixed_orders(false, false),
                     mixed_orders(true, false)};
    cr_assert_eq(h[0], 0x83259868eed5fa6cULL, "ranks, some kinds random");
    cr_assert_eq(h[1], 0x687e646346349306ULL, "ranks, every kind random");
    cr_assert_eq(h[2], 0xda0e2fd39c9a76d4ULL, "one rank, some kinds random");
    cr_assert_eq(h[3], 0x13ed9f1adab543e4ULL, "one rank, every kind random");
}

/* ---- random activation of the woken ------------------------------------------------
 * POLLED tasklets of a random kind take a turn every tick (they sleep one
 * tick); on even ticks the posters among them post to a channel on which
 * dozers (also of a random kind, or both kinds FIFO) wait. In the model the
 * scheduler promises, every tasklet of a random kind has a uniform key per
 * tick, so a dozer woken by the poller at place p of the order takes its turn
 * in this tick with probability 1 - p / (POLLED + 1), and then has on average
 * (POLLED - p) / 2 pollers after it. */

enum { POLLED = 20 };
typedef struct { sw_chan ch; int32_t poster; } poller;
typedef struct { sw_chan ch; sw_msg m; int32_t runs; } dozer;

static struct {
    int turns, post_at, dozer_runs, dozer_turn; /* this tick */
    int trials, same, twice, bin_trials[2], bin_same[2];
    double expect, bin_expect[2], after, expect_after;
    uint64_t hash;
} g_act;

/* A channel the posters post to as well, right after their own (0: none). */
static sw_chan g_also;

static sw_step poller_run(sw_tasklet *t, void *frame) {
    poller *f = frame;
    SW_BEGIN(t, nap);
    for (;;) {
        g_act.turns++;
        if (f->poster && sw_now(t) % 2 == 0) {
            if (!g_act.post_at) g_act.post_at = g_act.turns;
            sw_chan_post(sw_sched_of(t), f->ch, &(sw_msg){.i = g_act.turns});
            if (g_also) sw_chan_post(sw_sched_of(t), g_also, &(sw_msg){.i = g_act.turns});
        }
        SW_SLEEP(t, nap, 1);
    }
    SW_END(t);
}

/* Dozers that receive without a destination (a lone one on an event
 * channel is woken without its record being read: channel.c, wake_all's
 * lone-waiter branch). */
static bool g_deaf;

static sw_step dozer_run(sw_tasklet *t, void *frame) {
    dozer *f = frame;
    SW_BEGIN(t, wait);
    for (;;) {
        SW_RECV(t, wait, f->ch, g_deaf ? NULL : &f->m);
        g_act.dozer_runs++;
        g_act.dozer_turn = g_act.turns;
        g_act.hash = (g_act.hash ^ sw_now(t) << 24 ^ (uint64_t)g_act.turns << 12 ^ sw_self(t)) * 0x100000001b3ULL;
        f->runs++;
    }
    SW_END(t);
}
static const sw_field poller_fields[] = {SW_FIELD(poller, ch, SW_T_CHAN), SW_FIELD(poller, poster, SW_T_I32),
                                         SW_FIELD_END};
static const sw_field dozer_fields[] = {SW_FIELD(dozer, ch, SW_T_CHAN), SW_FIELD(dozer, m, SW_T_MSG),
                                        SW_FIELD(dozer, runs, SW_T_I32), SW_FIELD_END};
/* A FIFO kind's lone waiter that drops the message, on g_also's channel:
 * woken by the lone-waiter branch of wake_all, which tells the triage its
 * kind (sw__fifo_joined). It counts nothing. */
static sw_step ldozer_run(sw_tasklet *t, void *frame) {
    dozer *f = frame;
    SW_BEGIN(t, wait);
    for (;;) SW_RECV(t, wait, f->ch, NULL);
    SW_END(t);
}
static const sw_kind poller_kind = {.name = "poller", .frame_size = sizeof(poller), .fields = poller_fields,
                                    .run = poller_run};
static const sw_kind dozer_kind = {.name = "dozer", .frame_size = sizeof(dozer), .fields = dozer_fields,
                                   .run = dozer_run};
/* pollers of a FIFO kind, for ranks shared by random and fixed places */
static const sw_kind stayer_kind = {.name = "stayer", .frame_size = sizeof(poller), .fields = poller_fields,
                                    .run = poller_run};

static const sw_kind ldozer_kind = {.name = "ldozer", .frame_size = sizeof(dozer), .fields = dozer_fields,
                                    .run = ldozer_run};
static bool g_lone_fifo; /* activation_world adds an ldozer on a channel of its own */

static void act_start(sw_sched *s, void *ud) {
    (void)s, (void)ud;
    g_act.turns = g_act.post_at = g_act.dozer_runs = 0;
}

static void act_end(sw_sched *s, void *ud) {
    (void)s, (void)ud;
    if (g_act.dozer_runs > 1) g_act.twice++;
    if (!g_act.post_at) return;
    double p = g_act.post_at, e = 1 - p / (POLLED + 1);
    int bin = g_act.post_at > POLLED / 2;
    g_act.trials++;
    g_act.expect += e;
    g_act.bin_trials[bin]++;
    g_act.bin_expect[bin] += e;
    if (!g_act.dozer_runs) return;
    g_act.same++;
    g_act.bin_same[bin]++;
    g_act.after += POLLED - g_act.dozer_turn;
    g_act.expect_after += (POLLED - p) / 2;
}

static sw_sched *activation_world(uint64_t seed, bool random, sw_chan_kind ck, int posters, int dozers) {
    sw_sched *s = sw_sched_new(&(sw_sched_desc){.seed = seed});
    cr_assert(s);
    if (random) {
        cr_assert_eq(sw_sched_set_kind_random(s, &poller_kind, true), SW_OK);
        cr_assert_eq(sw_sched_set_kind_random(s, &dozer_kind, true), SW_OK);
    }
    sw_chan ch = sw_chan_new(s, &(sw_chan_desc){.kind = ck});
    for (int i = 0; i < dozers; i++) sw_sched_spawn(s, &dozer_kind, &(dozer){.ch = ch}, 0);
    g_also = 0;
    if (g_lone_fifo) {
        g_also = sw_chan_new(s, &(sw_chan_desc){.kind = SW_CHAN_EVENT});
        sw_sched_spawn(s, &ldozer_kind, &(dozer){.ch = g_also}, 0);
    }
    for (int i = 0; i < POLLED; i++) sw_sched_spawn(s, &poller_kind, &(poller){ch, i < posters}, 0);
    sw_sched_on_tick_start(s, act_start, NULL);
    sw_sched_on_tick_end(s, act_end, NULL);
    return s;
}

/* Run the world over several seeds, accumulating in g_act. */
static void activation_trials(bool random, sw_chan_kind ck, int posters, int ticks) {
    memset(&g_act, 0, sizeof g_act);
    for (uint64_t seed = 1; seed <= 4; seed++) {
        sw_sched *s = activation_world(seed, random, ck, posters, 1);
        cr_assert_eq(sw_sched_run(s, (sw_tick)ticks), SW_OK, "%s", sw_sched_errmsg(s));
        sw_sched_free(s);
    }
    cr_assert_gt(g_act.trials, ticks, "too few trials to test anything");
}

static void assert_keyed_activation(sw_chan_kind ck) {
    activation_trials(true, ck, 1, 1000);
    cr_assert_eq(g_act.twice, 0, "a woken tasklet took two turns in a tick");
    double rate = (double)g_act.same / g_act.trials, want = g_act.expect / g_act.trials;
    cr_assert(fabs(rate - want) < 0.05, "woken ran in the same tick %.3f of the time, want %.3f", rate, want);
    for (int b = 0; b < 2; b++) {
        double r = (double)g_act.bin_same[b] / g_act.bin_trials[b], w = g_act.bin_expect[b] / g_act.bin_trials[b];
        cr_assert(fabs(r - w) < 0.08, "%s half of the order: rate %.3f, want %.3f", b ? "late" : "early", r, w);
    }
    /* merged into the order, not queued behind it */
    double after = g_act.after / g_act.same, want_after = g_act.expect_after / g_act.same;
    cr_assert(fabs(after - want_after) < 1.0, "pollers after the woken: %.2f, want %.2f", after, want_after);
}

Test(activation, woken_of_random_kind_take_their_keyed_turn) {
    assert_keyed_activation(SW_CHAN_RENDEZVOUS); /* one receiver woken */
    assert_keyed_activation(SW_CHAN_EVENT);      /* every waiter woken at once */
}

/* The same with a dozer that drops the message, alone on its event channel:
 * the post that wakes it tells the triage its kind (sw__fifo_joined), which
 * must not let a random kind through as if it kept the FIFO order. */
Test(activation, woken_that_drop_the_message_take_their_keyed_turn) {
    g_deaf = true;
    assert_keyed_activation(SW_CHAN_EVENT);
    g_deaf = false;
}

/* A random dozer (with a destination: woken through wake_all's loop) joins
 * the FIFO, then in the same turn a lone FIFO waiter joins behind it: the
 * lone one may be marked sorted out only if everything before it was
 * (sw__fifo_joined's back_seen == prev_tail), or the random dozer, not yet
 * triaged, would be stepped over and run behind the batch. */
Test(activation, woken_ahead_of_a_lone_fifo_waiter_take_their_keyed_turn) {
    g_lone_fifo = true;
    assert_keyed_activation(SW_CHAN_EVENT);
    g_lone_fifo = false;
    g_also = 0;
}

Test(activation, woken_that_drop_the_message_of_fifo_kinds_run_behind_the_batch) {
    g_deaf = true;
    activation_trials(false, SW_CHAN_EVENT, 1, 300);
    g_deaf = false;
    cr_assert_eq(g_act.same, g_act.trials, "a woken tasklet of a FIFO kind waited for the next tick");
    cr_assert_eq(g_act.after, 0, "a woken tasklet of a FIFO kind ran before the batch ended");
}

Test(activation, woken_never_take_two_turns_in_a_tick) {
    activation_trials(true, SW_CHAN_EVENT, POLLED, 600); /* every poller wakes the dozer */
    cr_assert_eq(g_act.twice, 0, "a woken tasklet took two turns in a tick");
    /* woken by the first poller, it runs in this tick unless its key is the lowest */
    double rate = (double)g_act.same / g_act.trials;
    cr_assert(rate > 0.9 && rate < 0.99, "same-tick rate %.3f, want about %.3f", rate, (double)POLLED / (POLLED + 1));
}

/* Rank first: a dozer of a later rank than the poller that wakes it always
 * takes its turn in this tick (after the pollers); of an earlier rank, never. */
Test(activation, woken_of_random_kinds_keep_their_rank) {
    int rank[2] = {1, -1};
    for (int r = 0; r < 2; r++) {
        memset(&g_act, 0, sizeof g_act);
        sw_sched *s = activation_world(3, true, SW_CHAN_EVENT, 1, 1);
        cr_assert_eq(sw_sched_set_kind_rank(s, &dozer_kind, rank[r]), SW_OK);
        cr_assert_eq(sw_sched_run(s, 200), SW_OK);
        sw_sched_free(s);
        cr_assert_eq(g_act.trials, 100);
        cr_assert_eq(g_act.twice, 0);
        cr_assert_eq(g_act.same, r == 0 ? 100 : 0, "rank %d: %d of 100 in the same tick", rank[r], g_act.same);
        cr_assert_eq(g_act.after, 0);
    }
}

/* A rank shared with a FIFO kind: the woken still take their turn by key
 * among the random places, never twice, sometimes in this tick and
 * sometimes in the next. */
Test(activation, woken_in_a_rank_shared_with_a_fifo_kind) {
    memset(&g_act, 0, sizeof g_act);
    sw_sched *s = activation_world(4, true, SW_CHAN_EVENT, 1, 1);
    sw_chan ch = ((poller *)sw_sched_frame(s, sw_sched_next(s, sw_sched_next(s, SW_ID_NONE))))->ch;
    for (int i = 0; i < POLLED / 2; i++) sw_sched_spawn(s, &stayer_kind, &(poller){ch, 0}, 0);
    cr_assert_eq(sw_sched_run(s, 1000), SW_OK);
    sw_sched_free(s);
    cr_assert_eq(g_act.twice, 0);
    double rate = (double)g_act.same / g_act.trials;
    cr_assert(rate > 0.3 && rate < 0.7, "same-tick rate %.3f", rate);
}

Test(activation, woken_of_fifo_kinds_run_behind_the_batch) {
    activation_trials(false, SW_CHAN_EVENT, 1, 300);
    cr_assert_eq(g_act.same, g_act.trials, "a woken tasklet of a FIFO kind waited for the next tick");
    cr_assert_eq(g_act.after, 0, "a woken tasklet of a FIFO kind ran before the batch ended");
    activation_trials(false, SW_CHAN_EVENT, POLLED, 300);
    cr_assert_eq(g_act.same, g_act.trials);
}

static uint64_t activation_hash(uint64_t seed) {
    memset(&g_act, 0, sizeof g_act);
    g_act.hash = 0xcbf29ce484222325ULL;
    sw_sched *s = activation_world(seed, true, SW_CHAN_EVENT, 3, 4);
    cr_assert_eq(sw_sched_run(s, 300), SW_OK);
    sw_sched_free(s);
    return g_act.hash;
}

Test(activation, keyed_activation_is_deterministic) {
    uint64_t a = activation_hash(8), b = activation_hash(8), c = activation_hash(9);
    cr_assert_eq(a, b, "one seed, two runs, two orders");
    cr_assert_neq(a, c, "another seed, the same order");
}

/* A snapshot between ticks holds the woken that were put off to the next
 * tick (they are runnable): the resumed run must go on identically. */
static sw_pickle_buf act_pickle(const sw_sched *s) {
    sw_pickle_buf b = {0};
    char err[256];
    cr_assert_eq(sw_pickle_save(s, NULL, 0, &b, err, sizeof err), SW_OK, "%s", err);
    return b;
}

Test(activation, snapshot_with_put_off_woken_resumes_identically) {
    static const sw_kind *const kinds[] = {&poller_kind, &dozer_kind, NULL};
    static const sw_pickle_env env = {kinds, NULL};
    sw_sched *a = activation_world(21, true, SW_CHAN_EVENT, 2, 6);
    int put_off = 0;
    for (int i = 0; i < 200 && put_off < 2; i++) {
        cr_assert_eq(sw_sched_step(a), SW_OK);
        /* on an even tick, a dozer that did not run was put off */
        put_off = 0;
        for (sw_id id = sw_sched_next(a, SW_ID_NONE); id; id = sw_sched_next(a, id)) {
            sw_task_info info;
            cr_assert_eq(sw_sched_inspect(a, id, &info), SW_OK);
            put_off += sw_sched_kind_of(a, id) == &dozer_kind && info.state == SW_TASK_RUNNABLE;
        }
    }
    cr_assert_geq(put_off, 2, "no dozer was put off to the next tick: nothing to test");
    sw_pickle_buf pa = act_pickle(a);
    sw_sched *b = sw_sched_new(&(sw_sched_desc){.seed = 5});
    cr_assert_eq(sw_sched_set_kind_random(b, &poller_kind, false), SW_OK); /* the snapshot sets them */
    sw_sched_on_tick_start(b, act_start, NULL);
    sw_sched_on_tick_end(b, act_end, NULL);
    char err[512];
    cr_assert_eq(sw_pickle_load(b, &env, NULL, 0, pa.data, pa.len, err, sizeof err), SW_OK, "%s", err);
    sw_pickle_buf_fini(&pa);
    for (int tick = 0; tick < 100; tick++) {
        g_act.hash = 1;
        cr_assert_eq(sw_sched_step(a), SW_OK);
        uint64_t ha = g_act.hash;
        g_act.hash = 1;
        cr_assert_eq(sw_sched_step(b), SW_OK);
        cr_assert_eq(g_act.hash, ha, "tick %d: the dozers ran otherwise", tick);
        sw_pickle_buf x = act_pickle(a), y = act_pickle(b);
        cr_assert_eq(x.len, y.len);
        cr_assert(memcmp(x.data, y.data, x.len) == 0, "tick %d: the pickles differ", tick);
        sw_pickle_buf_fini(&x);
        sw_pickle_buf_fini(&y);
    }
    sw_sched_free(a);
    sw_sched_free(b);
}

/* dozers of a FIFO kind, woken with the random ones by the same post */
static const sw_kind fdozer_kind = {.name = "fdozer", .frame_size = sizeof(dozer), .fields = dozer_fields,
                                    .run = dozer_run};

/* (ck: the channel's kind; buffered, each post wakes one dozer, and the
 * dozers are woken one at a time over the tick) */
static uint64_t keyed_hash_on(sw_chan_kind ck, uint64_t seed, int polled, int stayers, bool stayers_random,
                              int stayer_rank, bool stayers_post, int posters, int dozers, int fdozers) {
    memset(&g_act, 0, sizeof g_act);
    g_act.hash = 0xcbf29ce484222325ULL;
    sw_sched *s = sw_sched_new(&(sw_sched_desc){.seed = seed});
    cr_assert(s);
    cr_assert_eq(sw_sched_set_kind_random(s, &poller_kind, true), SW_OK);
    cr_assert_eq(sw_sched_set_kind_random(s, &dozer_kind, true), SW_OK);
    cr_assert_eq(sw_sched_set_kind_random(s, &stayer_kind, stayers_random), SW_OK);
    cr_assert_eq(sw_sched_set_kind_rank(s, &stayer_kind, stayer_rank), SW_OK);
    cr_assert_eq(sw_sched_set_kind_rank(s, &dozer_kind, stayer_rank), SW_OK);
    sw_chan ch = sw_chan_new(s, &(sw_chan_desc){.kind = ck, .capacity = ck == SW_CHAN_BUFFERED ? 1u << 16 : 0});
    for (int i = 0; i < dozers + fdozers; i++)
        sw_sched_spawn(s, i % 2 && i / 2 < fdozers ? &fdozer_kind : &dozer_kind, &(dozer){.ch = ch}, 0);
    for (int i = 0; i < polled; i++) sw_sched_spawn(s, &poller_kind, &(poller){ch, !stayers_post && i < posters}, 0);
    for (int i = 0; i < stayers; i++) sw_sched_spawn(s, &stayer_kind, &(poller){ch, stayers_post && i < posters}, 0);
    sw_sched_on_tick_start(s, act_start, NULL);
    cr_assert_eq(sw_sched_run(s, 200), SW_OK, "%s", sw_sched_errmsg(s));
    sw_sched_free(s);
    return g_act.hash;
}

static uint64_t keyed_hash(uint64_t seed, int polled, int stayers, bool stayers_random, int stayer_rank,
                           bool stayers_post, int posters, int dozers, int fdozers) {
    return keyed_hash_on(SW_CHAN_EVENT, seed, polled, stayers, stayers_random, stayer_rank, stayers_post, posters,
                         dozers, fdozers);
}

/* The keyed turns pinned, bit for bit: worlds whose woken take their turns
 * through every path of the key cursor -- a wholly random rank (keys drawn
 * ahead, many more places than are drawn at a time), a rank shared with a
 * FIFO kind (the cursor steps over the fixed places), and a wholly random
 * rank none of whose keys is asked for (the woken wake in the next rank) --
 * hashed by where each woken dozer ran. The values are those of the engine
 * whose exponential keys come from the ziggurat (rng_exp.h; before it,
 * -log(U): main at bd786fe had other values, the same through every change
 * of the cursor since 68f8423): any change to a key, its sum, a comparison
 * or the cursor's walk changes them. */
Test(activation, keyed_turns_pinned) {
    uint64_t got[5] = {
        keyed_hash(31, 60, 0, false, 0, false, 6, 8, 0),  /* one wholly random rank */
        keyed_hash(32, 40, 12, false, 0, false, 5, 6, 0), /* random and FIFO places in one rank */
        keyed_hash(33, 40, 12, false, 0, true, 4, 6, 0),  /* the same, woken by the FIFO places */
        keyed_hash(34, 30, 25, true, 1, true, 5, 6, 0),   /* the first rank's keys never asked for */
        keyed_hash(35, 40, 0, false, 0, false, 3, 6, 5),  /* woken of FIFO and random kinds at once */
    };
    static const uint64_t want[5] = {0x96b78424b820bc2eULL, 0x3e5aa44551d13347ULL, 0xd46f8ffca76132eeULL,
                                     0x04a6db5710b37edcULL, 0xb49911ec106f0e3fULL};
    for (int i = 0; i < 5; i++)
        cr_assert_eq(got[i], want[i], "world %d: the woken ran otherwise (0x%016llx)", i, (unsigned long long)got[i]);
}

/* Many woken waiting at once, woken at many turns of the tick: a tasklet
 * woken after another whose key it precedes becomes the heap's first while
 * the other waits, and must take its turn at its own key, not at the place
 * the other waits for (woken_first skips the places that come before the
 * first; a new first asks again). One rank, and a rank shared with a FIFO
 * kind, and woken that wait for the next rank. The values are those of the
 * keys from the ziggurat (rng_exp.h); with -log(U) keys, main's from 4a1b210,
 * before the skip, to bd786fe (the first fails with a new first left waiting
 * where the old one would have waited). */
Test(activation, keyed_turns_pinned_with_many_waiting) {
    uint64_t got[3] = {
        keyed_hash_on(SW_CHAN_BUFFERED, 41, 200, 0, false, 0, false, 60, 40, 0),  /* one wholly random rank */
        keyed_hash_on(SW_CHAN_BUFFERED, 42, 150, 50, false, 0, false, 60, 40, 0), /* random and FIFO places */
        keyed_hash_on(SW_CHAN_BUFFERED, 43, 120, 60, true, 1, false, 50, 40, 0),  /* woken wait for the next rank */
    };
    static const uint64_t want[3] = {0x250fbdae57e653ebULL, 0xa742ec9974d72f0eULL, 0x4d1e9881c15ad891ULL};
    for (int i = 0; i < 3; i++)
        cr_assert_eq(got[i], want[i], "world %d: the woken ran otherwise (0x%016llx)", i, (unsigned long long)got[i]);
}
