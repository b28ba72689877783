/* test_timers.c - the timer wheel (timers.c): sleeps and spawn delays wake
 * exactly on time, timers due together fire in arming order, a killed
 * sleeper's timer is cancelled (also in the tick-start hook of its tick). */
#include <criterion/criterion.h>
#include "pickle.h"
#include "swarmlet.h"
#include "support.h"
#include "sched_fixtures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- timers --------------------------------------------------------------------- */



Test(timers, sleep_wakes_exactly_n_ticks_later) {
    static const int64_t ns[] = {1, 2, 7, 100, 254, 255, 256, 257, 300, 510, 511, 512, 513,
                                 767, 768, 769, 1000, 1023, 1024, 1025, 2000};
    enum { NN = sizeof ns / sizeof *ns };
    static const int offsets[] = {0, 1, 100, 253, 254, 255, 256, 257, 511, 700};
    for (size_t o = 0; o < sizeof offsets / sizeof *offsets; o++) {
        sw_sched *s = sw_sched_new(&(sw_sched_desc){.seed = 1});
        cr_assert_eq(sw_sched_run(s, (sw_tick)offsets[o]), SW_OK);
        for (int i = 0; i < NN; i++) {
            g_slept[i] = -1;
            cr_assert_neq(sw_sched_spawn(s, &sleeper_kind, &(sleeper){.n = ns[i], .idx = i}, 0), SW_ID_NONE);
        }
        for (int tick = 0; tick < 2100 && sw_sched_count(s) > 0; tick++)
            cr_assert_eq(sw_sched_step(s), SW_OK);
        for (int i = 0; i < NN; i++)
            cr_assert_eq(g_slept[i], ns[i], "offset %d: slept %lld instead of %lld", offsets[o],
                         (long long)g_slept[i], (long long)ns[i]);
        sw_sched_free(s);
    }
}

Test(timers, spawn_delay_runs_at_tick_plus_delay) {
    sw_sched *s = sw_sched_new(NULL);
    static const sw_tick delays[] = {1, 255, 256, 257, 600};
    for (int i = 0; i < 5; i++)
        sw_sched_spawn(s, &sleeper_kind, &(sleeper){.n = 1, .idx = i}, delays[i]);
    for (sw_tick tick = 1; tick <= 602; tick++) {
        cr_assert_eq(sw_test_step_traced(s), SW_OK);
        for (int i = 0; i < 5; i++) {
            char want[16];
            snprintf(want, sizeof want, "%d", i);
            /* each starts at `delay` and wakes one tick later */
            if (tick == delays[i] + 1) cr_assert(strstr(sw_test_trace, want), "tick %llu", (unsigned long long)tick);
        }
    }
    cr_assert_eq(sw_sched_count(s), 0);
    sw_sched_free(s);
}


Test(timers, timers_due_together_fire_in_arming_order) {
    /* all wake at tick 300; A and D go through the overflow list (armed 256
       or more ticks ahead), the others straight into the wheel */
    sw_sched *s = sw_sched_new(NULL);
    struct { char name; sw_tick start; } arm[] = {{'A', 1}, {'D', 44}, {'E', 45}, {'C', 50}, {'B', 100}};
    for (int i = 4; i >= 0; i--) /* spawned in reverse: arming order is what counts */
        sw_sched_spawn(s, &alarm_kind, &(alarm_){.name = arm[i].name, .until = 300}, arm[i].start);
    cr_assert_eq(sw_test_run_traced(s, 300), SW_OK);
    cr_assert_str_eq(sw_test_trace, "A@300 D@300 E@300 C@300 B@300");
    sw_sched_free(s);
}

Test(timers, kill_sleeping_cancels_timer) {
    sw_sched *s = sw_sched_new(NULL);
    sw_id a = sw_sched_spawn(s, &alarm_kind, &(alarm_){.name = 'a', .until = 10}, 0);
    sw_id b = sw_sched_spawn(s, &alarm_kind, &(alarm_){.name = 'b', .until = 400}, 0);
    sw_sched_spawn(s, &alarm_kind, &(alarm_){.name = 'c', .until = 10}, 0);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    sw_task_info info;
    cr_assert_eq(sw_sched_inspect(s, a, &info), SW_OK);
    cr_assert_eq(info.state, SW_TASK_SLEEPING);
    cr_assert_eq(info.wake, 10);
    cr_assert_eq(sw_sched_kill(s, a), SW_OK);
    cr_assert_eq(sw_sched_kill(s, b), SW_OK); /* from the overflow list */
    cr_assert_eq(sw_test_run_traced(s, 500), SW_OK);
    cr_assert_str_eq(sw_test_trace, "c@10");
    sw_sched_spawn(s, &waiter_kind, &(waiter){.ch = sw_chan_new(s, &(sw_chan_desc){0})}, 0);
    cr_assert_eq(sw_sched_step(s), SW_E_DEADLOCK);
    sw_sched_free(s);
}

/* A tick-start hook that kills a tasklet due this very tick. */
static sw_id g_victim;
static void kill_hook(sw_sched *s, void *ud) {
    (void)ud;
    if (sw_sched_now(s) == 5) cr_assert_eq(sw_sched_kill(s, g_victim), SW_OK);
}

Test(timers, kill_in_tick_start_hook_of_due_timer) {
    sw_sched *s = sw_sched_new(NULL);
    sw_sched_spawn(s, &alarm_kind, &(alarm_){.name = 'x', .until = 5}, 0);
    g_victim = sw_sched_spawn(s, &alarm_kind, &(alarm_){.name = 'y', .until = 5}, 0);
    sw_sched_spawn(s, &alarm_kind, &(alarm_){.name = 'z', .until = 5}, 0);
    sw_sched_on_tick_start(s, kill_hook, NULL);
    cr_assert_eq(sw_test_run_traced(s, 6), SW_OK);
    cr_assert_str_eq(sw_test_trace, "x@5 z@5");
    cr_assert_eq(sw_sched_count(s), 0);
    /* no timer is left counted: a blocked tasklet is now a deadlock */
    sw_sched_spawn(s, &waiter_kind, &(waiter){.ch = sw_chan_new(s, &(sw_chan_desc){0})}, 0);
    cr_assert_eq(sw_sched_step(s), SW_E_DEADLOCK);
    sw_sched_free(s);
}

/* Sleeps one tick at a time, `n` times, then exits. */
typedef struct { int32_t n; } napper;
static sw_step napper_run(sw_tasklet *t, void *frame) {
    napper *f = frame;
    SW_BEGIN(t, nap);
    while (f->n > 0) {
        f->n--;
        SW_SLEEP(t, nap, 1);
    }
    SW_END(t);
}
static const sw_kind napper_kind = {.name = "napper", .frame_size = sizeof(napper), .run = napper_run};

/* The array a swapped-in batch leaves goes on to the next tick's bucket
 * (timers.c, hand_on), with the entries already there: tasklets sleeping a
 * tick at a time then never grow a bucket (no allocation from the third
 * tick on; before, each tick's fresh bucket grew by doublings), and timers
 * armed long before into a bucket whose entries moved still fire in arming
 * order, are cancelled at their place when killed, and leave nothing
 * counted. */
Test(timers, a_batchs_array_goes_on_to_the_next_bucket) {
    sw_test_failing a = {0};
    sw_sched *s = sw_sched_new(&(sw_sched_desc){.seed = 1, .alloc = sw_test_failing_alloc, .alloc_ud = &a});
    /* due at tick 9 (and 10), armed at tick 1: their bucket is handed the
       large array at tick 8 (and 9), entries and all */
    sw_sched_spawn(s, &alarm_kind, &(alarm_){.name = 'a', .until = 9}, 0);
    sw_id b = sw_sched_spawn(s, &alarm_kind, &(alarm_){.name = 'b', .until = 9}, 0);
    sw_sched_spawn(s, &alarm_kind, &(alarm_){.name = 'c', .until = 9}, 0);
    sw_id d = sw_sched_spawn(s, &alarm_kind, &(alarm_){.name = 'd', .until = 10}, 0);
    sw_sched_spawn(s, &alarm_kind, &(alarm_){.name = 'e', .until = 10}, 0);
    for (int i = 0; i < 300; i++) cr_assert_neq(sw_sched_spawn(s, &napper_kind, &(napper){.n = 40}, 0), SW_ID_NONE);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_eq(sw_sched_step(s), SW_OK);
    long calls = a.calls;
    for (int tick = 3; tick <= 8; tick++) cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_eq(a.calls, calls, "%ld allocations in ticks 3-8", a.calls - calls);
    cr_assert_eq(sw_sched_kill(s, b), SW_OK); /* after its bucket's entries moved */
    cr_assert_eq(sw_sched_kill(s, d), SW_OK); /* before */
    cr_assert_eq(sw_test_step_traced(s), SW_OK); /* tick 9 */
    for (int tick = 10; tick <= 45; tick++) cr_assert_eq(sw_sched_step(s), SW_OK);
    cr_assert_str_eq(sw_test_trace, "a@9 c@9 e@10");
    cr_assert_eq(a.calls, calls, "%ld allocations in ticks 9-45", a.calls - calls);
    cr_assert_eq(sw_sched_count(s), 0);
    /* no timer is left counted: a blocked tasklet is now a deadlock */
    sw_sched_spawn(s, &waiter_kind, &(waiter){.ch = sw_chan_new(s, &(sw_chan_desc){0})}, 0);
    cr_assert_eq(sw_sched_step(s), SW_E_DEADLOCK);
    sw_sched_free(s);
    cr_assert_eq(a.live, 0);
}
