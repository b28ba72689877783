/* cmd_bench.c - `swarmlet bench SUITE [FLAGS]`: dispatch to a benchmark
 * suite (micro, models, floor, snapshot; one file each, see bench.h). The suite gets
 * argv with its own name first, so its flags start at argv[1]. */
#include "bench.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} suites[] = {
    {"micro", sw_bench_micro, "the runtime's hot paths: handoff, spawn, memory, dense and sparse ticks"},
    {"models", sw_bench_models, "the built-in models at scale"},
    {"floor", sw_bench_floor, "the comparison's models as plain C, with no engine"},
    {"snapshot", sw_bench_snapshot, "writing and loading snapshots"},
};

static void usage(FILE *out) {
    fprintf(out, "usage: swarmlet bench SUITE [--json] [SUITE FLAGS...]\n\nsuites:\n");
    for (size_t i = 0; i < sizeof suites / sizeof *suites; i++)
        fprintf(out, "  %-9s %s\n", suites[i].name, suites[i].summary);
    fprintf(out, "\n--json prints one JSON object instead of a table. "
                 "'swarmlet bench SUITE --help' lists a suite's flags.\n");
}

int sw_cmd_bench(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof suites / sizeof *suites; i++)
        if (strcmp(argv[1], suites[i].name) == 0) return suites[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "swarmlet bench: unknown suite \"%s\" (suites: micro, models, floor, snapshot)\n", argv[1]);
    return 2;
}
