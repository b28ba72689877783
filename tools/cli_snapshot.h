/* cli_snapshot.h - snapshots in the command line's run loops (cmd_snapshot.c):
 * --snapshot-every, output.snapshot_every, SIGINT/SIGTERM, the final
 * snapshot. `swarmlet run` and `swarmlet resume` share it. */
#ifndef SW_CLI_SNAPSHOT_H
#define SW_CLI_SNAPSHOT_H

#include "scenario.h"

#include <stdint.h>

typedef struct sw_cli_snap sw_cli_snap;

/* Take --snapshot-every N (or =N) out of argv, so the command's own parser
 * never sees it. 0, or 2 after printing a message for a bad value. */
int sw_cli_snap_args(int *argc, char **argv, const char *cmd, uint64_t *every);
/* Start: snapshots every `every` ticks (0: the scenario's
 * output.snapshot_every) into DIR/<scenario name>.db, and on SIGINT/SIGTERM
 * a snapshot at the end of the current tick. NULL only when out of memory. */
sw_cli_snap *sw_cli_snap_begin(sw_sim *sim, const char *dir, uint64_t every, const char *cmd);
/* After each tick: 0 carry on; 1 stop (interrupted; the snapshot is written
 * and the resume command printed); -1 a snapshot failed (message printed). */
int sw_cli_snap_tick(sw_cli_snap *c);
/* At the end of the loop with its exit status: write the final snapshot when
 * snapshots are on (or `always`) and the run succeeded; free. Returns the
 * exit status to use. */
int sw_cli_snap_end(sw_cli_snap *c, int rc, bool always);

#endif
