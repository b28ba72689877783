/* cmd_placeholders.c - commands whose modules have not landed yet. Each
 * helper that lands a command deletes its line here. */
#include "cli.h"

#include <stdio.h>

static int not_yet(const char *name) {
    fprintf(stderr, "swarmlet %s: not available in this build yet\n", name);
    return 2;
}

int sw_cmd_run(int argc, char **argv) { (void)argc; (void)argv; return not_yet("run"); }
int sw_cmd_resume(int argc, char **argv) { (void)argc; (void)argv; return not_yet("resume"); }
int sw_cmd_snapshots(int argc, char **argv) { (void)argc; (void)argv; return not_yet("snapshots"); }
int sw_cmd_inspect(int argc, char **argv) { (void)argc; (void)argv; return not_yet("inspect"); }
int sw_cmd_view(int argc, char **argv) {
    (void)argc; (void)argv;
    fprintf(stderr, "swarmlet view: this build has no viewer\n");
    return 2;
}
int sw_cmd_bench(int argc, char **argv) { (void)argc; (void)argv; return not_yet("bench"); }
int sw_cmd_kinds(int argc, char **argv) { (void)argc; (void)argv; return not_yet("kinds"); }
