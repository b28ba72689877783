/* bench_snapshot.c - placeholder until its module lands; its owner replaces this file. */
#include "bench.h"

#include <stdio.h>

int sw_bench_snapshot(int argc, char **argv) {
    (void)argc; (void)argv;
    fprintf(stderr, "swarmlet bench snapshot: not available in this build yet\n");
    return 2;
}
