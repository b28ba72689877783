/* scenario.h - scenario files, and the simulation they describe.
 *
 * A scenario is a JSON file (documented in docs/scenarios.md) naming a world,
 * the agents to put in it with their parameters, scheduled world events, the
 * statistics to record and the output wanted. sw_scenario_load validates it
 * strictly: every mistake gets one message naming the file, the JSON path and
 * what would be valid, e.g.
 *   scenarios/x.json: $.agents[2].kind: unknown agent kind "wolff" (known: grass, sheep, wolf)
 *
 * An sw_sim is a running simulation built from a scenario: the world with its
 * agents, the scenario's events not yet delivered, and its statistics (one
 * row per tick from tick 0). The command line, the viewer and the snapshot
 * code all drive a simulation through this API, so none of them has a second
 * copy of the world's logic. */
#ifndef SW_SCENARIO_H
#define SW_SCENARIO_H

#include <stdio.h>

#include "world.h"

typedef struct sw_scenario sw_scenario;
typedef struct sw_sim sw_sim;

/* ---- scenarios ------------------------------------------------------------ */

/* Load and validate a scenario file against the agent kinds `kinds`
 * (NULL-terminated). NULL on any error, with the message written to
 * err[errlen] ("FILE: $.path: what is wrong (what would be valid)"). */
sw_scenario *sw_scenario_load(const char *path, const sw_kind *const *kinds, char *err,
                              size_t errlen);
/* The same from text in memory; `origin` names it in messages. */
sw_scenario *sw_scenario_parse(const char *json, size_t len, const char *origin,
                               const sw_kind *const *kinds, char *err, size_t errlen);
void sw_scenario_free(sw_scenario *sc);

const char *sw_scenario_name(const sw_scenario *sc);
const char *sw_scenario_description(const sw_scenario *sc);
uint64_t sw_scenario_seed(const sw_scenario *sc);
sw_tick sw_scenario_ticks(const sw_scenario *sc);
/* output.snapshot_every (0: none). */
sw_tick sw_scenario_snapshot_every(const sw_scenario *sc);
/* Command-line overrides (--seed, --ticks). */
void sw_scenario_set_seed(sw_scenario *sc, uint64_t seed);
void sw_scenario_set_ticks(sw_scenario *sc, sw_tick ticks);
/* The scenario as canonical JSON text, overrides applied: what a snapshot
 * stores, and what sw_scenario_parse reads back into an equal scenario. */
const char *sw_scenario_json(const sw_scenario *sc);
/* The kinds the scenario uses, NULL-terminated (viewer colours, snapshots). */
const sw_kind *const *sw_scenario_kinds(const sw_scenario *sc);
/* The viewer's colour for a kind: the scenario's "color" for it, else the
 * kind's own, else a default from a fixed palette, skipping palette colours
 * close to another kind's of the scenario so that kinds stay distinct.
 * 0xRRGGBB. */
uint32_t sw_scenario_kind_color(const sw_scenario *sc, const sw_kind *kind);

/* How the viewer draws a kind's agents when zoomed in ("mark" in the
 * scenario's agents entry). SW_MARK_DEFAULT: the viewer chooses from the
 * placement (squares for one-per-cell kinds, discs for kinds sharing cells,
 * arrows in continuous space). SW_MARK_NONE: not drawn as agents at all
 * (a layer shows them). */
typedef enum sw_mark {
    SW_MARK_DEFAULT = 0,
    SW_MARK_SQUARE,
    SW_MARK_DISC,
    SW_MARK_ARROW,
    SW_MARK_DOT,
    SW_MARK_NONE,
} sw_mark;

/* The scenario's "mark" for a kind, or SW_MARK_DEFAULT when it gives none. */
sw_mark sw_scenario_kind_mark(const sw_scenario *sc, const sw_kind *kind);
/* The name a mark has in a scenario ("square", ...; "default" for
 * SW_MARK_DEFAULT). */
const char *sw_mark_name(sw_mark mark);

/* ---- simulations ----------------------------------------------------------- */

enum {
    SW_SIM_EMPTY = 1, /* build the world, channels, layers and statistics but
                         spawn no agents: a snapshot is about to fill it */
};

/* Build a simulation at tick 0 from a scenario (which must outlive it).
 * NULL on failure with the message in err. */
sw_sim *sw_sim_new(const sw_scenario *sc, int flags, char *err, size_t errlen);
void sw_sim_free(sw_sim *sim);

const sw_scenario *sw_sim_scenario(const sw_sim *sim);
sw_world *sw_sim_world(const sw_sim *sim);
sw_tick sw_sim_now(const sw_sim *sim);
/* The tick the run ends at (the scenario's ticks, unless overridden). */
sw_tick sw_sim_end(const sw_sim *sim);
/* Advance one tick (events due are delivered at its start) and record its
 * statistics row. SW_OK, or the scheduler's SW_E_DEADLOCK / SW_E_WATCHDOG
 * with sw_sched_report(sw_world_sched(...)) saying why. */
int sw_sim_step(sw_sim *sim);

/* ---- statistics -------------------------------------------------------------- */

/* Columns: "tick", then one count per kind in the scenario (named after the
 * kind), then the scenario's declared statistics in order. */
int sw_sim_stat_count(const sw_sim *sim);
const char *sw_sim_stat_name(const sw_sim *sim, int column);
/* Rows recorded so far (one per tick from the first tick this simulation
 * recorded: 0 for a fresh run, the snapshot's tick for a resumed one). */
size_t sw_sim_stat_rows(const sw_sim *sim);
/* A value: row r, column c (column 0 is the tick). */
double sw_sim_stat_value(const sw_sim *sim, size_t row, int column);
/* Recompute the current tick's row (after a snapshot was loaded into an
 * empty simulation) and make it the first row. */
void sw_sim_stats_restart(sw_sim *sim);
/* Write rows [from, rows) as CSV; with `header`, the header line first.
 * Numbers are printed so that the same run gives byte-identical files. */
int sw_sim_stats_write_csv(const sw_sim *sim, FILE *out, size_t from, bool header);

#endif
