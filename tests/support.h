/* support.h - helpers shared by the tests. */
#ifndef SW_TEST_SUPPORT_H
#define SW_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "swarmlet.h" /* sw_sched, for the traced runs */

/* Run a shell command; return its exit status (or -1), capturing stdout and
 * stderr together into a malloc'd string in *out (may be NULL). */
int sw_test_sh(char **out, const char *fmt, ...);
/* A fresh empty directory under the test's scratch area; returns its path
 * (static storage, valid until the next call). */
const char *sw_test_dir(const char *name);
/* Read a whole file into a malloc'd NUL-terminated string, or NULL. */
char *sw_test_slurp(const char *path, size_t *len);
/* Write a string to a file; 0 on success. */
int sw_test_write(const char *path, const char *text);

/* A trace of events, for tests of run order: sw_test_tr("a%d", 1) appends
 * "a1", space-separated; clear it with sw_test_trace[0] = '\0'. Text past
 * its size is dropped (see sw_test_trace_cut). */
extern char sw_test_trace[8192];
/* Set when the trace dropped text since it was last empty: a test that
 * checks something is absent from the trace must check this too. */
extern bool sw_test_trace_cut;
/* Clear the trace, then run `ticks` ticks or one step: the opening of
 * every test that checks what a run traced. */
int sw_test_run_traced(sw_sched *s, sw_tick ticks);
int sw_test_step_traced(sw_sched *s);
void sw_test_tr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* An allocator for sw_sched_desc.alloc that fails its fail_at-th call
 * (counting from when it is set; 0: never) and counts the blocks it has
 * handed out and not yet freed (meaningful when it made them all). */
typedef struct {
    long fail_at, calls, live;
} sw_test_failing;
void *sw_test_failing_alloc(void *ud, void *p, size_t n);

#endif
