/* cmd_snapshot.c - placeholder until its module lands; its owner replaces this file. */
#include "cli.h"

#include <stdio.h>

int sw_cmd_resume(int argc, char **argv) {
    (void)argc; (void)argv;
    fprintf(stderr, "swarmlet resume: not available in this build yet\n");
    return 2;
}

int sw_cmd_snapshots(int argc, char **argv) {
    (void)argc; (void)argv;
    fprintf(stderr, "swarmlet snapshots: not available in this build yet\n");
    return 2;
}

int sw_cmd_inspect(int argc, char **argv) {
    (void)argc; (void)argv;
    fprintf(stderr, "swarmlet inspect: not available in this build yet\n");
    return 2;
}

