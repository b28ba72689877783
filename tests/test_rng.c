/* test_rng.c - counter-based random numbers: per agent, keyed by (seed, id,
 * counter), independent of scheduling; sw_rand_below without visible bias. */
#include <criterion/criterion.h>
#include "swarmlet.h"
#include "rng.h"

#include <math.h>
#include <string.h>

Test(rng, pure_function_of_key_and_counter) {
    uint64_t k = sw_rng_key(42, 7);
    cr_assert_eq(sw_rng_at(k, 3), sw_rng_at(k, 3));
    cr_assert_neq(sw_rng_at(k, 3), sw_rng_at(k, 4));
    cr_assert_neq(sw_rng_key(42, 7), sw_rng_key(43, 7));
    cr_assert_neq(sw_rng_key(42, 7), sw_rng_key(42, 8));
    /* SplitMix64's finaliser: a known value keeps the stream stable across
       releases (snapshots depend on it) */
    cr_assert_eq(sw_rng_mix(0x9e3779b97f4a7c15ULL), 0xe220a8397b1dcdafULL);
    for (uint64_t i = 0; i < 1000; i++) {
        double u = sw_rng_unit(sw_rng_at(k, i));
        cr_assert(u >= 0.0 && u < 1.0);
    }
    cr_assert_eq(sw_rng_unit(UINT64_MAX), 1.0 - 0x1.0p-53);
}

/* Draws `n` numbers at its first run and records them. */
typedef struct { int32_t n; } drawer;
static uint64_t g_draws[2][16];
static int g_run;
static sw_step drawer_run(sw_tasklet *t, void *frame) {
    drawer *f = frame;
    SW_BEGIN(t);
    for (int i = 0; i < f->n; i++) {
        uint64_t x = sw_rand_u64(t);
        if (f->n <= 16) g_draws[g_run][i] = x;
    }
    SW_END(t);
}
static const sw_kind drawer_kind = {.name = "drawer", .frame_size = sizeof(drawer), .run = drawer_run};
static const sw_kind noise_kind = {.name = "noise", .frame_size = sizeof(drawer), .run = drawer_run};

Test(rng, per_agent_stream_ignores_other_tasklets) {
    sw_id ids[2];
    for (g_run = 0; g_run < 2; g_run++) {
        sw_sched *s = sw_sched_new(&(sw_sched_desc){.seed = 99});
        /* in the second run, a noisy kind drawing many numbers runs first */
        if (g_run == 1) sw_sched_set_kind_rank(s, &noise_kind, -1);
        ids[g_run] = sw_sched_spawn(s, &drawer_kind, &(drawer){.n = 16}, 0);
        if (g_run == 1)
            for (int i = 0; i < 5; i++) sw_sched_spawn(s, &noise_kind, &(drawer){.n = 1000}, 0);
        cr_assert_eq(sw_sched_step(s), SW_OK);
        sw_sched_free(s);
    }
    cr_assert_eq(ids[0], ids[1]);
    cr_assert_arr_eq(g_draws[0], g_draws[1], sizeof g_draws[0]);
    /* and the stream is the documented one: key (seed, id), counter 0, 1, ... */
    uint64_t key = sw_rng_key(99, ids[0]);
    for (int i = 0; i < 16; i++) cr_assert_eq(g_draws[0][i], sw_rng_at(key, (uint64_t)i));
}

typedef struct { int32_t n; uint64_t below; int64_t counts[16]; } tally;
static sw_step tally_run(sw_tasklet *t, void *frame) {
    tally *f = frame;
    SW_BEGIN(t, done);
    for (int i = 0; i < f->n; i++) {
        uint64_t x = sw_rand_below(t, f->below);
        cr_assert_lt(x, f->below);
        f->counts[x]++;
    }
    cr_assert_eq(sw_rand_below(t, 0), 0);
    cr_assert_eq(sw_rand_below(t, 1), 0);
    uint64_t huge = (UINT64_MAX / 2) + 3; /* rejection is most likely here */
    for (int i = 0; i < 100; i++) cr_assert_lt(sw_rand_below(t, huge), huge);
    for (int i = 0; i < 1000; i++) {
        double u = sw_rand_unit(t);
        cr_assert(u >= 0 && u < 1);
    }
    SW_SLEEP(t, done, 1000000); /* stay, so the test can read the counts */
    SW_END(t);
}
static const sw_kind tally_kind = {.name = "tally", .frame_size = sizeof(tally), .run = tally_run};

Test(rng, rand_below_chi_square) {
    enum { DRAWS = 140000 };
    static const uint64_t ranges[] = {2, 3, 7, 10, 16};
    /* 0.1% critical values of chi-square for k-1 degrees of freedom */
    static const double crit[] = {10.83, 13.82, 22.46, 27.88, 37.70};
    for (int r = 0; r < 5; r++) {
        uint64_t n = ranges[r];
        sw_sched *s = sw_sched_new(&(sw_sched_desc){.seed = 2024 + (uint64_t)r});
        sw_id id = sw_sched_spawn(s, &tally_kind, &(tally){.n = DRAWS, .below = n}, 0);
        cr_assert_eq(sw_sched_step(s), SW_OK);
        const tally *f = sw_sched_frame(s, id); /* asleep now, counts in its frame */
        cr_assert_not_null(f);
        double expect = (double)DRAWS / (double)n, chi = 0;
        int64_t total = 0;
        for (uint64_t i = 0; i < n; i++) {
            chi += pow((double)f->counts[i] - expect, 2) / expect;
            total += f->counts[i];
        }
        cr_assert_eq(total, DRAWS);
        cr_assert_lt(chi, crit[r], "range %llu: chi-square %.2f", (unsigned long long)n, chi);
        sw_sched_free(s);
    }
}

typedef struct { int64_t first; } counter_f;
static sw_step counter_run(sw_tasklet *t, void *frame) {
    SW_BEGIN(t, nap);
    for (;;) {
        sw_rand_u64(t);
        sw_rand_unit(t);
        SW_SLEEP(t, nap, 1);
    }
    SW_END(t);
}
static const sw_kind counter_kind = {.name = "counter", .frame_size = sizeof(counter_f), .run = counter_run};

Test(rng, counter_is_per_agent_state) {
    sw_sched *s = sw_sched_new(&(sw_sched_desc){.seed = 5});
    sw_id id = sw_sched_spawn(s, &counter_kind, NULL, 0);
    cr_assert_eq(sw_sched_run(s, 3), SW_OK);
    sw_task_info info;
    cr_assert_eq(sw_sched_inspect(s, id, &info), SW_OK);
    cr_assert_eq(info.rng_counter, 6);
    cr_assert_eq(sw_sched_rand(s, 1, 0), sw_sched_rand(s, 1, 0));
    cr_assert_neq(sw_sched_rand(s, 1, 0), sw_sched_rand(s, 2, 0));
    cr_assert_neq(sw_sched_rand(s, 1, 0), sw_sched_rand(s, 1, 1));
    sw_sched_free(s);
}

/* The key is worked out once per resume and kept in the running view, which
 * the scheduler hands from tasklet to tasklet: every draw must still be the
 * drawing tasklet's own number, across an inline handoff (the receiver runs
 * on the sender's view and gives it back), a spawn whose init draws, a
 * nested call, and a slot reused by a new tasklet within one tick. */
enum { KEYED_SEED = 31 };
static int g_checked;
typedef struct { sw_chan ch; int32_t role, rounds; uint64_t ctr; sw_msg m; sw_value got; } keyed;
static const sw_kind keyed_kind;

static void draw_checked(sw_tasklet *t, uint64_t *ctr) {
    uint64_t x = sw_rand_u64(t);
    cr_assert_eq(x, sw_rng_at(sw_rng_key(KEYED_SEED, sw_self(t)), (*ctr)++), "draw %llu of id %llu",
                 (unsigned long long)*ctr - 1, (unsigned long long)sw_self(t));
    g_checked++;
}

static void keyed_init(sw_tasklet *t, void *frame) {
    keyed *f = frame;
    draw_checked(t, &f->ctr);
    draw_checked(t, &f->ctr);
}

typedef struct { int32_t n; uint64_t ctr; } keyed_callee;
static sw_step keyed_callee_run(sw_tasklet *t, void *frame) {
    keyed_callee *f = frame;
    SW_BEGIN(t, nap);
    /* the callee draws from its tasklet's stream: the counter is per tasklet */
    f->ctr = sw_root_frame(t) ? ((keyed *)sw_root_frame(t))->ctr : 0;
    draw_checked(t, &f->ctr);
    SW_SLEEP(t, nap, 1);
    draw_checked(t, &f->ctr);
    ((keyed *)sw_root_frame(t))->ctr = f->ctr;
    SW_RETURN(t, ((sw_value){.i = f->n}));
    SW_END(t);
}
static const sw_func keyed_callee_func = {.name = "keyed_callee", .run = keyed_callee_run,
                                          .frame_size = sizeof(keyed_callee)};

static sw_step keyed_run(sw_tasklet *t, void *frame) {
    keyed *f = frame;
    SW_BEGIN(t, put, get, call, nap);
    for (; f->rounds > 0; f->rounds--) {
        draw_checked(t, &f->ctr);
        if (f->role == 0) {
            f->m.i = f->rounds;
            SW_SEND(t, put, f->ch, &f->m); /* the receiver runs inline, on this view */
            draw_checked(t, &f->ctr);
            sw_spawn(t, &keyed_kind, &(keyed){.role = 2, .rounds = 1}, 0); /* init draws */
            draw_checked(t, &f->ctr);
        } else if (f->role == 1) {
            SW_RECV(t, get, f->ch, &f->m);
            draw_checked(t, &f->ctr);
        } else {
            SW_CALL(t, call, &keyed_callee_func, &(keyed_callee){.n = 1}, &f->got);
            draw_checked(t, &f->ctr);
        }
        draw_checked(t, &f->ctr);
        if (f->role != 2) SW_SLEEP(t, nap, 1);
    }
    SW_END(t); /* role 2 exits here: its slot is reused by the next spawn */
}
static const sw_kind keyed_kind = {.name = "keyed", .frame_size = sizeof(keyed), .init = keyed_init,
                                   .run = keyed_run};

Test(rng, cached_key_follows_the_running_tasklet) {
    sw_sched *s = sw_sched_new(&(sw_sched_desc){.seed = KEYED_SEED});
    sw_chan ch = sw_chan_new(s, &(sw_chan_desc){.kind = SW_CHAN_RENDEZVOUS});
    cr_assert_eq(sw_chan_preference(s, ch), SW_PREFER_RECEIVER);
    g_checked = 0;
    sw_sched_spawn(s, &keyed_kind, &(keyed){.ch = ch, .role = 1, .rounds = 8}, 0);
    sw_sched_spawn(s, &keyed_kind, &(keyed){.ch = ch, .role = 0, .rounds = 8}, 0);
    cr_assert_eq(sw_sched_run(s, 20), SW_OK);
    cr_assert_eq(sw_sched_count(s), 0);
    /* 2 in each init; sender 4 a round, receiver 3; 8 spawns, 5 in their run */
    cr_assert_eq(g_checked, 2 * 2 + 8 * 4 + 8 * 3 + 8 * (2 + 5), "%d draws", g_checked);
    sw_sched_free(s);
}
