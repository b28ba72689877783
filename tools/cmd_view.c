/* cmd_view.c - `swarmlet view`: the SDL2 viewer when this build has one. */
#include "cli.h"

#include <stdio.h>

#ifdef SW_HAVE_VIEWER
#include "viewer.h"

int sw_cmd_view(int argc, char **argv) { return sw_viewer_main(argc, argv); }
#else
int sw_cmd_view(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "swarmlet view: this build has no viewer (SDL2 was not found when it was built)\n");
    return 2;
}
#endif
