/* bench.h - `swarmlet bench` suites, one file each. Each is called like a
 * main(): argv[0] is the suite's name ("micro"), its flags (e.g. --json)
 * follow from argv[1]; it returns an exit status (0, 1 failure, 2 usage). */
#ifndef SW_BENCH_H
#define SW_BENCH_H

int sw_bench_micro(int argc, char **argv);    /* bench_micro.c */
int sw_bench_models(int argc, char **argv);   /* bench_models.c */
int sw_bench_snapshot(int argc, char **argv); /* bench_snapshot.c */

#endif
