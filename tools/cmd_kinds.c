/* cmd_kinds.c - placeholder until its module lands; its owner replaces this file. */
#include "cli.h"

#include <stdio.h>

int sw_cmd_kinds(int argc, char **argv) {
    (void)argc; (void)argv;
    fprintf(stderr, "swarmlet kinds: not available in this build yet\n");
    return 2;
}

