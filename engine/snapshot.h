/* snapshot.h - snapshots of a running simulation in an SQLite database.
 *
 * One database file per run holds any number of snapshots. Each is written in
 * one transaction (WAL journal), so a crash or kill -9 in the middle of a
 * write leaves every earlier snapshot intact. The file says what it is
 * (PRAGMA application_id 'SWLT', user_version = schema version) and a wrong
 * file is refused with a message. It is plain SQL (docs/snapshots.md):
 *
 *   snapshot(id, tick, taken_at, reason, scenario, engine_version, format,
 *            seed, agents, first_row, chunks, first_chunk, save_seconds,
 *            schema, state)
 *   kind(snapshot, idx, name, agents, color)        -- one row per agent kind
 *   field(snapshot, func, func_name, idx, name, type, offset, def, param)
 *   agent(snapshot, id, kind, x, y, alive, chunk, pos) -- one row per tasklet
 *   chunk(snapshot, seq, agents, data)  -- pickled agent records, 16,384 each
 *   agents (a view: agent joined with kind names)
 *
 * The pickled state of each agent (pickle.h) is record `pos` of chunk `chunk`
 * of its snapshot, beside the columns people query. Loading reads the chunks
 * back into a simulation built, empty, from the scenario stored with the
 * snapshot. */
#ifndef SW_SNAPSHOT_H
#define SW_SNAPSHOT_H

#include "pickle.h"
#include "scenario.h"

#define SW_SNAPSHOT_APP_ID 0x53574C54 /* 'SWLT' */
#define SW_SNAPSHOT_SCHEMA 1

typedef struct sw_snapshot_db sw_snapshot_db;

typedef enum {
    SW_SNAPSHOT_READ = 0,   /* an existing database, not written to */
    SW_SNAPSHOT_WRITE = 1,  /* an existing database, written to */
    SW_SNAPSHOT_CREATE = 2, /* write, creating the file if missing */
} sw_snapshot_mode;

/* Open a snapshot database. NULL with a message in err ("PATH: no such
 * file", "PATH: not an SQLite database", "PATH: an SQLite database, but not
 * Swarmlet snapshots", "made by a newer Swarmlet", ...). Close with
 * sw_snapshot_close. A handle is used by one thread at a time (it is opened
 * without SQLite's mutexes); distinct handles may be used at once. */
sw_snapshot_db *sw_snapshot_open(const char *path, sw_snapshot_mode mode, char *err, size_t errlen);
/* Close (checkpointing the WAL). NULL does nothing. */
void sw_snapshot_close(sw_snapshot_db *db);
/* The message of the last failure on this database. */
const char *sw_snapshot_errmsg(const sw_snapshot_db *db);
const char *sw_snapshot_path(const sw_snapshot_db *db);

/* Save the simulation as it is now (between ticks) with a reason ("every 100
 * ticks", "final", "interrupted", "viewer"). Returns the new snapshot's id
 * (> 0), or a negative status with sw_snapshot_errmsg saying why; nothing is
 * written then. Memory: the agents are pickled one at a time. */
int64_t sw_snapshot_save(sw_snapshot_db *db, const sw_sim *sim, const char *reason);

/* A snapshot's summary. */
typedef struct sw_snapshot_info {
    int64_t id;
    sw_tick tick;
    char taken_at[32];      /* UTC, ISO 8601 */
    char reason[64];
    char engine_version[16];
    uint64_t agents;
    double save_seconds;
    char kinds[256];        /* "sheep 120, wolf 30" */
} sw_snapshot_info;

/* All snapshots, oldest first: *out (the caller frees it with free()) gets
 * *n entries. SW_OK or a status. */
int sw_snapshot_list(sw_snapshot_db *db, sw_snapshot_info **out, size_t *n);
/* The id of a snapshot: `id` if > 0 and present; else the one at tick
 * `tick` if tick >= 0 (the latest such); else the latest. 0 if there is
 * none, with a message. */
int64_t sw_snapshot_find(sw_snapshot_db *db, int64_t id, int64_t tick);
/* The scenario stored with a snapshot, as JSON text (the caller frees it). */
char *sw_snapshot_scenario(sw_snapshot_db *db, int64_t id);

/* Load snapshot `id` into `sim`, built by sw_sim_new(scenario, SW_SIM_EMPTY)
 * from the snapshot's scenario: tasklets, channels, timers, world, pending
 * events, statistics restarted at the snapshot's tick. Kinds and functions
 * not already in the simulation are looked up in `env`. SW_OK, or a status
 * (SW_E_FORMAT for a damaged or incompatible snapshot) with a message; the
 * simulation must then be freed. */
int sw_snapshot_load(sw_snapshot_db *db, int64_t id, sw_sim *sim, const sw_pickle_env *env);

/* The whole resume in one call: find the snapshot (as sw_snapshot_find),
 * parse its scenario against `kinds`, set its end tick to `ticks` if not 0,
 * build an empty simulation and load the snapshot into it. On success
 * *scenario gets the scenario (free it after the simulation). NULL with a
 * message in err otherwise. */
sw_sim *sw_snapshot_resume(sw_snapshot_db *db, int64_t id, int64_t tick, sw_tick ticks,
                           const sw_pickle_env *env, sw_scenario **scenario, char *err, size_t errlen);

/* Agents of one kind in a snapshot, by what their tasklets are doing. */
typedef struct sw_snapshot_census {
    char kind[64];
    uint64_t runnable, sleeping, receiving, sending, killed;
} sw_snapshot_census;

/* Count a snapshot's agents by kind and tasklet state, decoding the records
 * without the agents' code: *out (free() it) gets one entry per kind. SW_OK
 * or a status with a message. */
int sw_snapshot_census_of(sw_snapshot_db *db, int64_t id, sw_snapshot_census **out, size_t *n);

/* One agent of a snapshot, described without its code (see
 * sw_pickle_describe_agent), appended to `out`. `agent` is its id, or its
 * slot (any number below 2^32). SW_E_NOTFOUND if absent. */
int sw_snapshot_describe_agent(sw_snapshot_db *db, int64_t id, sw_id agent, bool json, sw_pickle_buf *out);

#endif
