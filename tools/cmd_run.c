/* cmd_run.c - placeholder until its module lands; its owner replaces this file. */
#include "cli.h"

#include <stdio.h>

int sw_cmd_run(int argc, char **argv) {
    (void)argc; (void)argv;
    fprintf(stderr, "swarmlet run: not available in this build yet\n");
    return 2;
}

