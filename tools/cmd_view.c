/* cmd_view.c - placeholder until the viewer lands; its owner replaces this file. */
#include "cli.h"

#include <stdio.h>

int sw_cmd_view(int argc, char **argv) {
    (void)argc; (void)argv;
    fprintf(stderr, "swarmlet view: this build has no viewer\n");
    return 2;
}
