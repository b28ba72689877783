/* bench.h - `swarmlet bench` suites, one file each. Each takes the
 * arguments after the suite's name (e.g. --json) and returns an exit status. */
#ifndef SW_BENCH_H
#define SW_BENCH_H

int sw_bench_micro(int argc, char **argv);    /* bench_micro.c */
int sw_bench_models(int argc, char **argv);   /* bench_models.c */
int sw_bench_snapshot(int argc, char **argv); /* bench_snapshot.c */

#endif
