/* sched_fixtures.h - tasklet kinds shared by the scheduler's tests
 * (test_sched.c, test_timers.c, test_activation.c); defined in support.c,
 * which every test executable links. */
#ifndef SW_TEST_SCHED_FIXTURES_H
#define SW_TEST_SCHED_FIXTURES_H

#include "swarmlet.h"

/* Blocks on its channel: receiving (mode 0) or sending forever. Two kinds
 * run it (a second kind, for reports that name kinds). */
typedef struct { sw_chan ch; sw_msg m; int32_t mode; } waiter;
sw_step waiter_run(sw_tasklet *t, void *frame);
extern const sw_kind waiter_kind, heron_kind;

/* Sleeps `n` ticks once, records how long in g_slept[idx] and traces idx. */
typedef struct {
    int64_t n, start, woke;
    int32_t idx;
} sleeper;
extern int64_t g_slept[64];
extern const sw_kind sleeper_kind;

/* Sleeps until tick `until` (from whenever it was spawned to start), then
 * traces "<name>@<tick>". */
typedef struct { int32_t name; int64_t until; } alarm_;
extern const sw_kind alarm_kind;

#endif
