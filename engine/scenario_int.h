/* scenario_int.h - a validated scenario as plain data, shared by the loader
 * (scenario.c) and the simulation built from it (sim.c). Not API.
 *
 * Everything here has been checked by the loader: names are unique, indexes
 * are in range, numbers are finite and fit their fields, so sim.c never
 * re-validates. Kinds are numbered in the order the scenario first names them:
 * the kinds of `agents` first (these get a count column each), then any other
 * kind named only by `schedule` or `stats`. */
#ifndef SW_SCENARIO_INT_H
#define SW_SCENARIO_INT_H

#include "scenario.h"

typedef struct cJSON cJSON;

typedef enum { SW__OP_MEAN, SW__OP_SUM, SW__OP_MIN, SW__OP_MAX, SW__OP_COUNT } sw__stat_op;

typedef struct sw__agent_spec {
    int kind;                /* index into sc->kinds */
    uint64_t count;          /* agents to place (ignored by every_cell) */
    sw_place place;
    bool at_cells;           /* "place": "at": the cells in `at` */
    double density;          /* every_cell */
    int32_t *at;             /* x,y pairs, nat of them */
    uint32_t nat;
    unsigned char *params;   /* the kind's frame image: defaults, then overrides */
} sw__agent_spec;

typedef struct sw__layer_spec {
    char *name;
    double init;
} sw__layer_spec;

typedef struct sw__chan_spec {
    char *name;
    sw_chan_desc desc;
} sw__chan_spec;

typedef struct sw__event_spec {
    sw_tick tick;
    int chan;                /* index into sc->chans */
    sw_msg msg;
} sw__event_spec;

typedef struct sw__stat_spec {
    char *name;
    int kind;                /* index into sc->kinds, or -1 for a layer statistic */
    int layer;               /* index into sc->layers, or -1 */
    const sw_field *field;   /* NULL: a count of the kind's agents */
    sw__stat_op op;
    bool has_equals;
    double equals;
} sw__stat_spec;

struct sw_scenario {
    char *origin;
    char *name, *description;
    uint64_t seed;
    sw_tick ticks;
    sw_tick snapshot_every;
    sw_world_desc world;

    const sw_kind **kinds;   /* NULL-terminated, nkinds of them */
    int nkinds;
    int nagent_kinds;        /* the first nagent_kinds come from `agents` */
    uint32_t *colors;        /* per kind: 0xRRGGBB, valid where has_color */
    bool *has_color;
    sw_mark *marks;          /* per kind: the scenario's "mark", or SW_MARK_DEFAULT */
    int *rank;               /* per kind: place in schedule.order, or -1 */
    bool *random;            /* per kind: shuffled each tick */
    bool ordered;            /* schedule.order given */

    sw__agent_spec *agents;
    int nagents;
    sw__layer_spec *layers;
    int nlayers;
    sw__chan_spec *chans;
    int nchans;
    sw__event_spec *events;  /* sorted by tick, stable */
    int nevents;
    sw__stat_spec *stats;
    int nstats;

    cJSON *root;             /* the validated document, overrides applied */
    char *json;              /* its canonical text, made on demand */
};

/* The most cells and agents a scenario may ask for: past these a run would
 * not fit in memory, and it is kinder to say so than to start swapping. */
#define SW__MAX_CELLS (1ull << 28)
#define SW__MAX_AGENTS 50000000ull
/* Integers are exact in JSON numbers (doubles) up to 2^53. */
#define SW__MAX_EXACT 9007199254740992.0

#endif
