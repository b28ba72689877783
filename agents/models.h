/* models.h - Swarmlet's built-in models: their agent kinds, and builders
 * that make each model's world directly in C (tests and `swarmlet bench
 * models` use them; scenario files in scenarios/ build the same worlds through
 * the scenario loader).
 *
 * The first four models follow the public ABM framework comparison
 * (docs/models.md, /work/shared/MODELS.md) exactly; the last two are
 * Swarmlet's own showcases of sleeping agents, nested calls and channels.
 *
 * A builder returns a world at tick 0 with its agents spawned and its run
 * order set, or NULL when out of memory (or the desc is impossible, e.g. more
 * agents than cells where they must be unique). The caller frees it with
 * sw_world_free. Zero fields in a desc take the documented default. */
#ifndef SW_AGENTS_MODELS_H
#define SW_AGENTS_MODELS_H

#include "swarmlet.h"

/* ---- wolf-sheep predation with grass regrowth (wolf_sheep.c) ------------- */

extern const sw_kind sw_kind_sheep; /* moves, eats grass, breeds, starves */
extern const sw_kind sw_kind_wolf;  /* moves, eats sheep, breeds, starves */
extern const sw_kind sw_kind_grass; /* sleeps until eaten, then regrows */

/* Sheep and wolves on a bounded grid with a "grass" layer (1 = grown). */
typedef struct sw_wolf_sheep_desc {
    uint32_t width, height; /* default 25 x 25 */
    uint32_t sheep, wolves; /* default 60, 40 */
    int32_t regrowth;       /* grass regrowth time in ticks (default 20) */
    double sheep_reproduce, wolf_reproduce; /* default 0.2, 0.1 */
    double sheep_gain, wolf_gain;           /* energy from food (default 5, 13) */
    bool torus;             /* default bounded, as in the comparison */
    uint64_t seed;
} sw_wolf_sheep_desc;

sw_world *sw_wolf_sheep_new(const sw_wolf_sheep_desc *desc);

/* ---- forest fire (forest_fire.c) ------------------------------------------ */

extern const sw_kind sw_kind_tree; /* sleeps on its cell until fire comes */

/* Tree states, in the tree's `state` field and the "forest" layer (where 0
 * is also an empty cell). */
enum { SW_TREE_GREEN = 1, SW_TREE_BURNING = 2, SW_TREE_BURNT = 3 };

typedef struct sw_forest_fire_desc {
    uint32_t width, height; /* default 100 x 100 */
    double density;         /* default 0.7 */
    uint64_t seed;
} sw_forest_fire_desc;

sw_world *sw_forest_fire_new(const sw_forest_fire_desc *desc);
/* The "forest" layer of a world (NULL if it has none). */
const double *sw_forest_fire_layer(sw_world *w);

/* ---- Schelling segregation (schelling.c) ------------------------------------ */

extern const sw_kind sw_kind_resident; /* moves away while unhappy, sleeps while happy */
/* The same resident looking around every tick instead of sleeping: the
 * reference the sleeping one is tested against (not in the scenario registry). */
extern const sw_kind sw_kind_resident_polled;

typedef struct sw_schelling_desc {
    uint32_t size;      /* the grid is size x size (default 40) */
    uint32_t agents;    /* half in group 1, half in group 2 (default 1000) */
    int32_t radius;     /* Chebyshev radius (default 1) */
    int32_t min_same;   /* happy with at least this many alike (default 3) */
    uint64_t seed;
    bool polled;        /* residents of sw_kind_resident_polled (the reference) */
} sw_schelling_desc;

sw_world *sw_schelling_new(const sw_schelling_desc *desc);
/* Mean over residents (of either kind) of the fraction of their neighbours in
 * their own group (residents with no neighbour count as 1), and the number
 * unhappy, counted afresh from the "group" layer as of now. */
double sw_schelling_segregation(sw_world *w, uint32_t *unhappy);
/* For tests: the residents' count at cell c (sw_world_cell_index) of those
 * within radius r (the cell's own included) of group g (0: anyone), or
 * with g = -1 the need there (min_same of the resident there if its radius
 * is r, else -1); INT32_MIN where the world keeps no such count. */
int32_t sw__schelling_count(sw_world *w, int32_t r, int32_t g, uint32_t c);

/* ---- flocking / boids (flocking.c) --------------------------------------------- */

extern const sw_kind sw_kind_boid;

typedef struct sw_flocking_desc {
    uint32_t size;      /* the space is size x size, periodic (default 100) */
    uint32_t birds;     /* default 200 */
    double visual;      /* visual distance (default 5) */
    uint64_t seed;
} sw_flocking_desc;

sw_world *sw_flocking_new(const sw_flocking_desc *desc);
/* The order parameter |mean velocity| of the flock, in [0, 1] once every
 * bird has moved (velocities are then unit vectors). */
double sw_flocking_order(sw_world *w);

/* ---- an epidemic (sir.c) ----------------------------------------------------------- */

extern const sw_kind sw_kind_person;

enum { SW_SIR_S = 0, SW_SIR_I = 1, SW_SIR_R = 2 };

typedef struct sw_sir_desc {
    uint32_t size;       /* torus of size x size (default 60) */
    uint32_t people;     /* default 1500 */
    uint32_t infected;   /* infected at the start (default 5) */
    double beta;         /* infection probability per contact per tick (default 0.08) */
    int32_t duration;    /* ticks ill (default 30) */
    uint64_t seed;
} sw_sir_desc;

sw_world *sw_sir_new(const sw_sir_desc *desc);
/* Counts of susceptible, infected and recovered people. */
void sw_sir_counts(sw_world *w, uint32_t out[3]);

/* ---- the village (village.c) ---------------------------------------------------------- */

extern const sw_kind sw_kind_villager;
extern const sw_kind sw_kind_market;
extern const sw_kind sw_kind_tavern;
extern const sw_func sw_func_walk_to;

typedef struct sw_village_desc {
    uint32_t size;       /* default 40 */
    uint32_t villagers;  /* default 60 */
    uint32_t day;        /* ticks between dawns (default 100) */
    uint64_t seed;
} sw_village_desc;

/* The world with its channels declared ("dawn", "shelf", "seats", "chat")
 * and a tick-start hook firing "dawn" every `day` ticks, as the scenario's
 * scheduled events do. */
sw_world *sw_village_new(const sw_village_desc *desc);

#endif
