/* floor_models.h - the comparison's three models written as plain C, with no
 * engine: one dedicated program each, as a competent C programmer would
 * write it (arrays of small structs, a sequential random stream, a fresh
 * Fisher-Yates order each step, a grid or a bucket index where the model
 * needs one). `swarmlet bench floor` times them: what the models' own work
 * costs, the floor under any engine (docs/models.md, "The plain-C floor").
 *
 * They follow /work/shared/MODELS.md's rules, as agents/wolf_sheep.c,
 * flocking.c and schelling.c do: tests/test_floor_models.c holds them to
 * Swarmlet's models in distribution. Each model is _new (a world at step 0,
 * or NULL when out of memory or impossible), _step (the number of agents
 * that took a turn, or -1 when out of memory), a statistic or two, and
 * _free (NULL does nothing). */
#ifndef SW_FLOOR_MODELS_H
#define SW_FLOOR_MODELS_H

#include <stdbool.h>
#include <stdint.h>

/* ---- wolf-sheep-grass: a bounded grid, many animals per cell --------------- */

typedef struct sw_floor_ws_desc {
    uint32_t width, height;
    uint32_t sheep, wolves;                 /* at the start */
    int32_t regrowth;                       /* grass regrowth time in steps */
    double sheep_reproduce, wolf_reproduce; /* probability per step */
    double sheep_gain, wolf_gain;           /* energy from food */
} sw_floor_ws_desc;

typedef struct sw_floor_ws sw_floor_ws;

sw_floor_ws *sw_floor_ws_new(const sw_floor_ws_desc *d, uint64_t seed);
int64_t sw_floor_ws_step(sw_floor_ws *m);
/* The living sheep and wolves. */
void sw_floor_ws_counts(const sw_floor_ws *m, uint32_t *sheep, uint32_t *wolves);
void sw_floor_ws_free(sw_floor_ws *m);

/* ---- flocking: a periodic continuous space, a bucket grid ------------------- */

typedef struct sw_floor_flock_desc {
    double size;   /* the space is size x size, periodic */
    uint32_t birds;
    double visual; /* visual distance (speed 1, separation 1, factors 0.03, 0.015, 0.05) */
} sw_floor_flock_desc;

typedef struct sw_floor_flock sw_floor_flock;

sw_floor_flock *sw_floor_flock_new(const sw_floor_flock_desc *d, uint64_t seed);
int64_t sw_floor_flock_step(sw_floor_flock *m);
/* |mean velocity| of the flock, as sw_flocking_order. */
double sw_floor_flock_order(const sw_floor_flock *m);
/* Where bird i (below the desc's birds) is. */
void sw_floor_flock_pos(const sw_floor_flock *m, uint32_t i, double *x, double *y);
void sw_floor_flock_free(sw_floor_flock *m);

/* ---- Schelling: a bounded grid, one resident per cell ---------------------- */

typedef struct sw_floor_schelling_desc {
    uint32_t size;    /* size x size cells */
    uint32_t agents;  /* half in group 1, half in group 2 */
    int32_t radius;   /* Chebyshev radius */
    int32_t min_same; /* happy with at least this many alike neighbours */
} sw_floor_schelling_desc;

typedef struct sw_floor_schelling sw_floor_schelling;

sw_floor_schelling *sw_floor_schelling_new(const sw_floor_schelling_desc *d, uint64_t seed);
int64_t sw_floor_schelling_step(sw_floor_schelling *m);
/* As sw_schelling_segregation: the mean over residents of the share of their
 * neighbours in their group (1 with none), and the number unhappy. */
double sw_floor_schelling_segregation(const sw_floor_schelling *m, uint32_t *unhappy);
void sw_floor_schelling_free(sw_floor_schelling *m);

#endif
