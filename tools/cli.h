/* cli.h - the `swarmlet` command line: one function per subcommand.
 * Each returns the process exit status: 0 success, 1 a runtime failure
 * (deadlock, watchdog, I/O), 2 bad input or usage. */
#ifndef SW_CLI_H
#define SW_CLI_H

#include <stdbool.h>
#include <stdint.h>

int sw_cmd_run(int argc, char **argv);
int sw_cmd_resume(int argc, char **argv);
int sw_cmd_snapshots(int argc, char **argv);
int sw_cmd_inspect(int argc, char **argv);
int sw_cmd_view(int argc, char **argv);
int sw_cmd_bench(int argc, char **argv);
int sw_cmd_demo(int argc, char **argv);
int sw_cmd_kinds(int argc, char **argv);

/* Seconds on the monotonic clock (cli_util.c). */
double sw_cli_seconds(void);
/* A whole decimal number from 0 to 2^53 and nothing else: false otherwise. */
bool sw_cli_parse_count(const char *s, uint64_t *out);

#endif
