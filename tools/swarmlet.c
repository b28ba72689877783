/* swarmlet.c - the command line's entry point: dispatch to a subcommand. */
#include "cli.h"
#include "swarmlet.h"

#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} commands[] = {
    {"run", sw_cmd_run, "run a scenario headlessly, writing stats.csv (and snapshots)"},
    {"resume", sw_cmd_resume, "continue a run from a snapshot database"},
    {"snapshots", sw_cmd_snapshots, "list the snapshots in a database"},
    {"inspect", sw_cmd_inspect, "show a snapshot's world or one agent"},
    {"view", sw_cmd_view, "watch a scenario or snapshot in a window"},
    {"bench", sw_cmd_bench, "benchmarks: micro, models, snapshot"},
    {"kinds", sw_cmd_kinds, "list the built-in agent kinds and their parameters"},
    {"demo", sw_cmd_demo, "a small built-in demo of tasklets and channels"},
};

static void usage(FILE *out) {
    fprintf(out, "usage: swarmlet COMMAND [ARGS...]\n\n"
                 "Swarmlet %s: agent-based simulation with stackless tasklets.\n\ncommands:\n",
            SW_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'swarmlet COMMAND --help' explains each command's flags.\n"
                 "Exit status: 0 success, 1 runtime failure (deadlock, I/O), 2 bad input or usage.\n");
}

/* Keep up to KEEP_FREED_BYTES of freed memory for the next world rather than
 * hand it back to the system, and take blocks up to HEAP_BLOCK_BYTES from
 * the heap rather than from a mapping of their own: a command that builds
 * world after world (bench models' 100 seeded runs, a sweep) otherwise
 * page-faults each world's tables in afresh (wolf-sheep large: ~10 % of its
 * time, Schelling large ~20 %; docs/models.md, "The allocator between
 * worlds"). A managed runtime keeps its heap the same way. Setting either
 * turns off glibc's own moving thresholds, so both are set; blocks above
 * HEAP_BLOCK_BYTES (a world of millions) are still mapped and grown in
 * place. */
enum { KEEP_FREED_BYTES = 64 << 20, HEAP_BLOCK_BYTES = 32 << 20 };

int main(int argc, char **argv) {
#ifdef __GLIBC__
    mallopt(M_TRIM_THRESHOLD, KEEP_FREED_BYTES);
    mallopt(M_MMAP_THRESHOLD, HEAP_BLOCK_BYTES);
#endif
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("swarmlet %s\n", SW_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "swarmlet: unknown command \"%s\" (commands: run, resume, snapshots, inspect, "
                    "view, bench, kinds, demo; see swarmlet --help)\n", argv[1]);
    return 2;
}
