/* pickle.h - the whole scheduler (every tasklet with its frame chain, every
 * channel with its waiters in order, the timer wheel, the run batch, the
 * registry's schemas) as plain bytes, and back.
 *
 * A pickle has three parts, so a store can keep each agent in its own row:
 *
 * - the *schema*: kinds, resumable functions, their resume-point names and
 *   their frame fields (name, type, offset). Everything else refers to kinds,
 *   functions, points and fields by index into this table, so an agent record
 *   costs a few bytes plus its frames;
 * - the *state*: tick, seed, slot table (free list and generations), the
 *   batch to run next tick, timers in firing order, channels with their
 *   buffers and wait queues, kind ranks, and sections added by the world;
 * - one *agent record* per tasklet: kind, id, state, what it waits on, its
 *   random-number counter, and its frame chain root first (function, resume
 *   point, pending target `ref` as a field, the frame's bytes).
 *
 * The format is versioned, little-endian and data only. Loading validates
 * every length, index, handle, name and value before use: a truncated,
 * corrupted or hostile pickle is an SW_E_FORMAT with a message, never a crash.
 * Loading maps the snapshot's schema onto the running code by name: a field
 * the code added takes its default, a field it removed is dropped, and a
 * missing kind or function, a missing resume point that a tasklet is
 * suspended at, or a field whose type changed fails with a message naming it.
 *
 * A scheduler is pickled only between ticks (sw_sched_step has returned). */
#ifndef SW_PICKLE_H
#define SW_PICKLE_H

#include "sched.h"

#define SW_PICKLE_FORMAT 1 /* bumped on any incompatible change */

/* A growable byte buffer. Zero-initialise; release with sw_pickle_buf_fini. */
typedef struct sw_pickle_buf {
    uint8_t *data;
    size_t len, cap;
} sw_pickle_buf;

void sw_pickle_buf_fini(sw_pickle_buf *b);

/* Where loading looks up kinds and resumable functions by name, after those
 * already registered in the target scheduler. Both lists NULL-terminated;
 * either may be NULL. */
typedef struct sw_pickle_env {
    const sw_kind *const *kinds;
    const sw_func *const *funcs;
} sw_pickle_env;

/* An extra section of the state, written and read by another module (the
 * world): `tag` is four characters. `save` appends its bytes to `out`;
 * `load` gets exactly those bytes back after every tasklet and channel is in
 * place. Both return SW_OK or a status, with a message in `err`. */
typedef struct sw_pickle_section {
    char tag[5];
    int (*save)(const sw_sched *s, void *ud, sw_pickle_buf *out, char *err, size_t errlen);
    int (*load)(sw_sched *s, void *ud, const uint8_t *data, size_t len, char *err, size_t errlen);
    void *ud;
} sw_pickle_section;

/* ---- saving, part by part ------------------------------------------------ */

/* Append the schema of `s` (its whole registry) to `out`. */
int sw_pickle_save_schema(const sw_sched *s, sw_pickle_buf *out);
/* Append the state of `s` (everything but the agents) to `out`, followed by
 * the given extra sections (may be NULL / 0). SW_E_INVALID if `s` is inside
 * a tick; the message goes to `err`. */
int sw_pickle_save_state(const sw_sched *s, const sw_pickle_section *sections, int nsections,
                         sw_pickle_buf *out, char *err, size_t errlen);
/* Append the record of the tasklet in `slot` to `out`. Returns 1 when the
 * slot holds a tasklet (live, or killed and not yet reaped: a "zombie"), 0
 * when it is free, or a negative status. A cheap call: meant for millions. */
int sw_pickle_save_agent(const sw_sched *s, uint32_t slot, sw_pickle_buf *out);

/* ---- loading, part by part ------------------------------------------------ */

typedef struct sw_unpickler sw_unpickler;

/* Start loading into `target`: discard its tasklets, channels and timers
 * (keeping its registry, hooks and context), map the schema onto the code
 * (registering what `env` provides), and read the state. `nagents` is the
 * number of agent records that will follow. Returns NULL with a message in
 * `err` (the target is then empty but valid). */
sw_unpickler *sw_unpickler_new(sw_sched *target, const sw_pickle_env *env, const void *schema,
                               size_t schema_len, const void *state, size_t state_len,
                               uint64_t nagents, char *err, size_t errlen);
/* Load one agent record. SW_OK or SW_E_FORMAT (see sw_unpickler_errmsg). */
int sw_unpickler_agent(sw_unpickler *u, const void *rec, size_t len);
/* Check that everything fits together, link queues and timers, and load the
 * extra sections through `sections` (matched by tag; a section in the pickle
 * that no entry claims is an error). On success the target is ready to step. */
int sw_unpickler_finish(sw_unpickler *u, const sw_pickle_section *sections, int nsections);
const char *sw_unpickler_errmsg(const sw_unpickler *u);
/* Free the unpickler. If sw_unpickler_finish has not succeeded, the target is
 * emptied (valid, with no tasklets or channels). NULL does nothing. */
void sw_unpickler_free(sw_unpickler *u);

/* ---- the whole pickle in one buffer ------------------------------------------- */

/* Pickle `s` into one self-contained buffer: a header, the schema, the state
 * and every agent record. */
int sw_pickle_save(const sw_sched *s, const sw_pickle_section *sections, int nsections,
                   sw_pickle_buf *out, char *err, size_t errlen);
/* Load a buffer made by sw_pickle_save into `target` (see sw_unpickler_new).
 * SW_OK, or SW_E_FORMAT / SW_E_NOMEM with a message. After a failure the
 * scheduler is empty and usable; a world whose section was given may still
 * index agents that are gone, so free it (the snapshot store always does). */
int sw_pickle_load(sw_sched *target, const sw_pickle_env *env, const sw_pickle_section *sections,
                   int nsections, const void *data, size_t len, char *err, size_t errlen);

/* ---- the world ------------------------------------------------------------------ */

typedef struct sw_world sw_world;

/* The world's section ("WRLD"): grid occupancy in arrival order, positions,
 * headings, mailboxes, cell and named channels, layers. Pass it to the save
 * and load calls above with the world's own scheduler. Loading checks that
 * the snapshot's world has the shape of `w` (built from the same scenario). */
sw_pickle_section sw_pickle_world_section(sw_world *w);
/* Where the agent in `slot` is: its cell (x, y as whole numbers) or its point
 * in continuous space. False when it is in neither. */
bool sw_pickle_world_pos(const sw_world *w, uint32_t slot, double *x, double *y);

/* ---- reading a pickle without the code ----------------------------------------- */

typedef struct sw_pickle_schema sw_pickle_schema;

/* Parse and validate a schema. NULL with a message in `err`. */
sw_pickle_schema *sw_pickle_schema_parse(const void *data, size_t len, char *err, size_t errlen);
void sw_pickle_schema_free(sw_pickle_schema *sc);
int sw_pickle_schema_kinds(const sw_pickle_schema *sc);
const char *sw_pickle_schema_kind_name(const sw_pickle_schema *sc, int kind);

/* Describe one agent record, decoded through the stored schema alone: its
 * kind, id, tasklet state (resume point, what it waits on or when it wakes)
 * and every frame's fields by name. As text (`json` false) or as one JSON
 * object. Appends to `out`; SW_E_FORMAT with a message on a bad record. */
int sw_pickle_describe_agent(const sw_pickle_schema *sc, const void *rec, size_t len, bool json,
                             sw_pickle_buf *out, char *err, size_t errlen);

#endif
