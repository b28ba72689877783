/* bench_models.c - placeholder until its module lands; its owner replaces this file. */
#include "bench.h"

#include <stdio.h>

int sw_bench_models(int argc, char **argv) {
    (void)argc; (void)argv;
    fprintf(stderr, "swarmlet bench models: not available in this build yet\n");
    return 2;
}
