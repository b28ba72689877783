/* bench.h - `swarmlet bench` suites, one file each. Each is called like a
 * main(): argv[0] is the suite's name ("micro"), its flags (e.g. --json)
 * follow from argv[1]; it returns an exit status (0, 1 failure, 2 usage). */
#ifndef SW_BENCH_H
#define SW_BENCH_H

#include <stdbool.h>
#include <stddef.h>

int sw_bench_micro(int argc, char **argv);    /* bench_micro.c */
int sw_bench_models(int argc, char **argv);   /* bench_models.c */
int sw_bench_floor(int argc, char **argv);    /* bench_floor.c */
int sw_bench_snapshot(int argc, char **argv); /* bench_snapshot.c */

/* ---- what the model suites share (bench_common.c) ---------------------------- */

/* The median of v[0..n) (n >= 1), which it sorts. */
double sw_bench_median(double *v, int n);
/* Whether `key` contains one of the comma-separated words of `only` (NULL:
 * everything). */
bool sw_bench_selected(const char *only, const char *key);

/* The flags both model suites take. */
typedef struct {
    bool json, quick;
    const char *only; /* --only's words, NULL: all */
    int runs;         /* seeded runs per configuration */
} sw_bench_opts;
/* If argv[*i] is one of those flags (--json, --quick, --runs N, --only K),
 * take it (and its value, stepping *i past it) into *o and return 1; 0 if it
 * is not one of them; 2 for a bad value, said on stderr in `suite`'s name. */
int sw_bench_common_flag(const char *suite, int argc, char **argv, int *i, sw_bench_opts *o);

/* A job that fills `out` and returns 0, or returns non-zero. */
typedef int sw_bench_job_fn(const void *arg, void *out);
/* Run fn(arg, out) in a child process of its own and copy its `size` bytes
 * of result back into out: 0, or 1 when the job failed. */
int sw_bench_apart(sw_bench_job_fn *fn, const void *arg, void *out, size_t size);

/* Swarmlet's own model `key` (a configuration of bench models, e.g.
 * "wolf_sheep_small") timed as bench models times it, in a child process:
 * the medians over `runs` seeds of construction plus all steps, and of the
 * steps alone. 0; 1 when it failed; 2 when there is no such model. */
int sw_bench_models_time(const char *key, int runs, double *total_ms, double *steps_ms);

#endif
