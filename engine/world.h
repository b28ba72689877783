/* world.h - the world agents live in: a grid, a continuous space, layers,
 * and channels handed out by key.
 *
 * - A 2-D grid, bounded or a torus, whose cells hold any number of agents
 *   (kept in arrival order), with Moore and von Neumann neighbourhoods.
 * - Per-cell numeric layers (grass, heat, ...): plain arrays of doubles.
 * - A continuous 2-D space over the same extent ([0,width) x [0,height),
 *   periodic when the grid is a torus) with a bucket index for neighbour
 *   queries (each bucket an array of its agents' positions, in arrival
 *   order), and a heading per agent for drawing. Queries list the agents
 *   near a point (sw_world_space_near, _near_hits) or fold them into sums
 *   (sw_world_space_near_sums).
 * - Channels by key: one event channel per cell, made on first request (a
 *   cell nobody listens on has none); one buffered mailbox per agent, made on
 *   first request and freed when the agent dies; named channels declared by
 *   the scenario.
 *
 * The world owns a scheduler whose context is the world, so agent code gets
 * it back with sw_world_of(t). Moving, spawning and killing keep the spatial
 * indexes exact, and every order that affects results is arrival order or
 * slot order, never an address. */
#ifndef SW_WORLD_H
#define SW_WORLD_H

#include "sched.h"

typedef struct sw_world sw_world;

typedef enum { SW_TOPO_BOUNDED = 0, SW_TOPO_TORUS = 1 } sw_topology;
typedef enum { SW_MOORE = 0, SW_VON_NEUMANN = 1 } sw_neighborhood;

typedef struct sw_world_desc {
    uint32_t width, height; /* grid size in cells (0: 1) */
    sw_topology topology;
    uint64_t seed;
    uint32_t watchdog;      /* passed to the scheduler (0: its default) */
    bool random_order;      /* every kind's wake-ups shuffled each tick */
    double space_cell;      /* bucket size of the continuous-space index (0: 1.0);
                               best near the usual query radius */
    uint32_t space_read;    /* the sums queries read at least this many entries of
                               every bucket with storage, padding included (rounded
                               up to a group of four, at most 64; 0: a bucket's
                               agents only): the same sums, and a loop over each
                               bucket whose length varies less (sw_flocking_new) */
    uint32_t mailbox_capacity; /* per-agent mailboxes (0: 64) */
} sw_world_desc;

/* Create an empty world at tick 0 with its own scheduler. NULL when out of
 * memory or when width*height does not fit in 31 bits. */
sw_world *sw_world_new(const sw_world_desc *desc);
/* Free the world, its scheduler and everything in them. NULL does nothing. */
void sw_world_free(sw_world *w);
/* The message of the last failure. */
const char *sw_world_errmsg(const sw_world *w);

sw_sched *sw_world_sched(const sw_world *w);
/* The world of a running tasklet (its scheduler's context). */
sw_world *sw_world_of(const sw_tasklet *t);
/* The world a scheduler belongs to, or NULL. */
sw_world *sw_world_of_sched(const sw_sched *s);

uint32_t sw_world_width(const sw_world *w);
uint32_t sw_world_height(const sw_world *w);
sw_topology sw_world_topology(const sw_world *w);
sw_tick sw_world_now(const sw_world *w);
/* Run one tick of the world (sw_sched_step). */
int sw_world_step(sw_world *w);

/* ---- cells ------------------------------------------------------------------ */

/* Normalise (x, y): wrap it on a torus; false if it is off a bounded grid. */
bool sw_world_wrap(const sw_world *w, int32_t *x, int32_t *y);
/* The cell index y*width+x of a valid cell. */
static inline uint32_t sw_world_cell_index(const sw_world *w, int32_t x, int32_t y);
/* The world's description, inline (below). */
static inline const sw_world_desc *sw_world_desc_of(const sw_world *w);
/* The cells around (x, y) within `radius` (Chebyshev for Moore, Manhattan for
 * von Neumann), not (x, y) itself, in row-major order of offsets, wrapped on a
 * torus and clipped on a bounded grid (so fewer at borders). Each cell comes
 * once: on a torus smaller than the neighbourhood, a cell is reached at its
 * minimum-image offset only, and the centre is never its own neighbour (a 1x1
 * torus has none). A centre off a bounded grid has no neighbours. Writes up to
 * `cap` cells as x,y pairs into xy[2*i], xy[2*i+1]; returns how many exist. */
uint32_t sw_world_cells_around(const sw_world *w, int32_t x, int32_t y, sw_neighborhood nb,
                               int radius, int32_t *xy, uint32_t cap);

/* ---- agents on the grid ------------------------------------------------------ */

/* Put an agent on cell (x, y), or move it there (it joins the end of the
 * cell's list). SW_E_STALE for a dead agent, SW_E_INVALID off a bounded grid
 * (a torus wraps). */
int sw_world_place(sw_world *w, sw_id id, int32_t x, int32_t y);
/* Put the running agent on cell (x, y), or move it there: sw_world_place
 * for itself, without looking its id up (agent code moving every tick).
 * SW_E_STALE once it has killed itself, SW_E_INVALID off a bounded grid. */
int sw_move_to(sw_tasklet *t, int32_t x, int32_t y);
/* Take an agent off the grid. */
int sw_world_unplace(sw_world *w, sw_id id);
/* Where an agent is on the grid; false if it is not on it. */
bool sw_world_cell_of(const sw_world *w, sw_id id, int32_t *x, int32_t *y);
/* Number of agents on a cell (0 off a bounded grid). */
uint32_t sw_world_count_at(const sw_world *w, int32_t x, int32_t y);
/* The agents on a cell in arrival order, optionally only of `kind` (NULL: any):
 * up to `cap` written to `out`; returns how many there are (with `cap` 0, a
 * count that reads the cell's list alone). */
uint32_t sw_world_agents_at(const sw_world *w, int32_t x, int32_t y, const sw_kind *kind,
                            sw_id *out, uint32_t cap);
/* The i-th (from 0, in arrival order) agent of `kind` (NULL: any) on a cell,
 * or SW_ID_NONE when it has no more than i of them: picking one of the n
 * that sw_world_agents_at counts, without listing them all. */
sw_id sw_world_agent_at(const sw_world *w, int32_t x, int32_t y, const sw_kind *kind,
                        uint32_t i);
/* The agents on the cells around (x, y) (as sw_world_cells_around, plus the
 * cell itself when `include_center`), cell by cell in that order. */
uint32_t sw_world_agents_around(const sw_world *w, int32_t x, int32_t y, sw_neighborhood nb,
                                int radius, bool include_center, const sw_kind *kind,
                                sw_id *out, uint32_t cap);
/* Cells with at least one agent on them. */
uint32_t sw_world_occupied_cells(const sw_world *w);
/* A uniformly random empty cell, drawn with the tasklet's own random numbers
 * (or, with t NULL, the world's own stream). False when every cell is taken. */
bool sw_world_random_empty_cell(sw_world *w, sw_tasklet *t, int32_t *x, int32_t *y);

/* ---- agents in continuous space ------------------------------------------------ */

/* Put or move an agent to (x, y) in continuous space (wrapped when periodic;
 * SW_E_INVALID outside a bounded space or not finite). */
int sw_world_space_place(sw_world *w, sw_id id, double x, double y);
int sw_world_space_unplace(sw_world *w, sw_id id);
bool sw_world_space_pos(const sw_world *w, sw_id id, double *x, double *y);
/* The heading (radians, 0 = +x, counter-clockwise) the viewer draws. */
void sw_world_space_set_heading(sw_world *w, sw_id id, double heading);
double sw_world_space_heading(const sw_world *w, sw_id id);
/* Set the heading as a direction: sw_world_space_heading then answers
 * atan2(dy, dx), worked out only when somebody asks (the viewer, a
 * snapshot), so an agent that turns every tick pays no atan2 for it. */
void sw_world_space_set_direction(sw_world *w, sw_id id, double dx, double dy);
/* Move the running agent to (x, y) in continuous space (wrapped when
 * periodic) and give it the direction (dx, dy): sw_world_space_place and
 * sw_world_space_set_direction for itself, without looking its id up
 * (agent code flying every tick). SW_E_INVALID outside a bounded space or
 * not finite, SW_E_STALE once it has killed itself, SW_E_NOMEM: then it
 * stays where it was, its direction unchanged. */
int sw_space_move_to(sw_tasklet *t, double x, double y, double dx, double dy);
/* The agents within Euclidean distance `r` of (x, y) (minimum image when
 * periodic), in bucket order (row-major bucket index) then arrival order: up
 * to `cap` written to `out`; returns how many there are. */
uint32_t sw_world_space_near(const sw_world *w, double x, double y, double r, sw_id *out,
                             uint32_t cap);
/* An agent found by sw_world_space_near_hits: its id, its displacement from
 * the query point (the minimum image when periodic, exactly as
 * sw_world_space_delta gives it) and its root frame (as sw_sched_frame: the
 * agent's fields; valid until that agent spawns, calls, returns or dies). */
typedef struct sw_space_hit {
    sw_id id;
    double dx, dy;
    void *frame;
} sw_space_hit;
/* sw_world_space_near for agents of `kind` only (NULL: any), each with its
 * offset and frame: the same agents in the same order, without a lookup per
 * agent afterwards. Up to `cap` written to `out`; returns how many there are. */
uint32_t sw_world_space_near_hits(const sw_world *w, double x, double y, double r,
                                  const sw_kind *kind, sw_space_hit *out, uint32_t cap);
/* What sw_world_space_near_sums folds over the agents near a point. */
typedef struct sw_space_sums {
    uint32_t n;       /* agents within r */
    double dx, dy;    /* the sum of their offsets from the point */
    uint32_t n_in;    /* those strictly closer than r_in */
    double dx_in, dy_in; /* the sum of their offsets */
    double vx, vy;    /* the sum of their pair of fields at `pair` (below) */
} sw_space_sums;
/* Fold the agents of sw_world_space_near_hits(w, x, y, r, kind, ...) but
 * `skip` (an id, or SW_ID_NONE) into sums, without listing them: what
 * steering rules such as boids' need, in one pass over the index. Offsets
 * are taken and added exactly as near_hits gives them, in its order, so the
 * sums are bit for bit those of a loop over its hits. r_in <= 0 (or NaN):
 * none is inside. `pair` is the byte offset in each agent's root frame of
 * two consecutive doubles (a velocity, say) to sum, SW_SPACE_DIR_PAIR to sum
 * the agents' directions instead, or SW_SPACE_NO_PAIR. Fastest without a
 * kind filter (or when every live agent is of that kind) and with `skip` at
 * (x, y) or not in space. Returns sums->n.
 *
 * SW_SPACE_DIR_PAIR: each agent's direction (dx, dy) as last given by
 * sw_world_space_set_direction or sw_space_move_to, bit for bit ((0, 0)
 * when none is in effect: never given, or a heading set as an angle since).
 * The world keeps it beside the agent's point in its index, so the sum
 * needs no walk to each neighbour's frame (three dependent loads, most of a
 * flocking step's cache misses): an agent that gives its velocity as its
 * direction each move can sum its neighbours' velocities this way. It is
 * pickled exactly with the world (snapshots from before it was load with
 * the pair of each heading set as a direction taken as (cos, sin) of the
 * angle saved). */
#define SW_SPACE_NO_PAIR ((size_t)-1)
#define SW_SPACE_DIR_PAIR ((size_t)-2)
uint32_t sw_world_space_near_sums(const sw_world *w, double x, double y, double r, double r_in,
                                  const sw_kind *kind, sw_id skip, size_t pair,
                                  sw_space_sums *sums);
/* sw_world_space_near_sums for the running agent: the agents of its own
 * kind within r of (x, y), but itself, without looking its id or its kind
 * up (agent code steering every tick). Fastest when (x, y) is its own point
 * in space (the agent keeps a copy: reading it back from the world would
 * put more loads before the query can start). Returns sums->n. */
uint32_t sw_space_near_sums(sw_tasklet *t, double x, double y, double r, double r_in,
                            size_t pair, sw_space_sums *sums);
/* The shortest displacement from (x1, y1) to (x2, y2) (minimum image). */
void sw_world_space_delta(const sw_world *w, double x1, double y1, double x2, double y2,
                          double *dx, double *dy);
/* Agents placed in continuous space. */
uint32_t sw_world_space_count(const sw_world *w);

/* ---- spawning where it matters ------------------------------------------------ */

/* Spawn an agent already on cell (x, y) (its init sees its position). From a
 * tasklet, use sw_spawn_at. SW_ID_NONE on failure. */
sw_id sw_world_spawn_at(sw_world *w, const sw_kind *kind, const void *params, int32_t x,
                        int32_t y, sw_tick delay);
sw_id sw_spawn_at(sw_tasklet *t, const sw_kind *kind, const void *params, int32_t x, int32_t y,
                  sw_tick delay);
/* Spawn an agent already at point (x, y) of continuous space. */
sw_id sw_world_spawn_at_point(sw_world *w, const sw_kind *kind, const void *params, double x,
                              double y, sw_tick delay);
sw_id sw_spawn_at_point(sw_tasklet *t, const sw_kind *kind, const void *params, double x,
                        double y, sw_tick delay);
/* Spawn n agents of `kind` at once, agent i on cell cells[i] (an index as
 * sw_world_cell_index gives) from the frame image images + i * stride
 * (stride 0: one image for all), in that order: the same ids, slots, frames,
 * cells and turns as n calls of sw_world_spawn_at, each agent's init
 * running before the next is made, for less work per agent. Returns how
 * many it spawned: n, or fewer when out of memory (those are in the world,
 * as after that many single spawns; sw_world_errmsg or the scheduler's says
 * why), or a negative status with none spawned (SW_E_INVALID: a cell outside
 * the world, or no kind). */
int64_t sw_world_spawn_many(sw_world *w, const sw_kind *kind, const void *images, size_t stride,
                            const uint32_t *cells, uint64_t n, sw_tick delay);
/* sw_world_spawn_many for images that are already final: each is the
 * agent's frame as its init would leave it, and init is not run (a builder
 * that placed and counted everyone itself, as Schelling's town: the call
 * through a pointer and the init's own tests per agent saved). Hooks (the
 * spawn hook, a replaced one included) see each agent as they would. */
int64_t sw_world_spawn_many_final(sw_world *w, const sw_kind *kind, const void *images,
                                  size_t stride, const uint32_t *cells, uint64_t n, sw_tick delay);
/* Spawn `count` agents placed as `place` says (for SW_PLACE_EVERY_CELL,
 * `count` is ignored and each cell gets one with probability `density`),
 * using the world's random stream `stream` for positions. Returns how many
 * were spawned, or a negative status (e.g. SW_E_FULL: more unique cells
 * asked for than the grid has). */
int64_t sw_world_populate(sw_world *w, const sw_kind *kind, const void *params, uint64_t count,
                          sw_place place, double density, uint64_t stream);

/* ---- layers ------------------------------------------------------------------------ */

/* Add a per-cell layer of doubles, every cell set to `init`. Returns its
 * index, or a negative status (a layer with that name exists). A name that
 * begins with '.' marks a model's own bookkeeping kept in a layer (so that
 * snapshots keep it), not a quantity per cell: the viewer neither draws nor
 * lists it (sw_world_layer_shown). Scenario layers cannot be named so. */
int sw_world_layer_add(sw_world *w, const char *name, double init);
int sw_world_layer_find(const sw_world *w, const char *name);
int sw_world_layer_count(const sw_world *w);
const char *sw_world_layer_name(const sw_world *w, int layer);
/* Whether a layer is a quantity per cell to show (its name does not begin
 * with '.'); false for an index out of range. */
bool sw_world_layer_shown(const sw_world *w, int layer);
/* The layer's cells, width*height doubles in row-major order (y*width+x). */
double *sw_world_layer_data(sw_world *w, int layer);

/* ---- a model's derived data ------------------------------------------------------------ */

/* A model's private data kept with the world, found by `key` (any address
 * the model owns): what follows from the world's pickled state (layers,
 * agents) and is kept beside it for speed, such as Schelling's counts of
 * each cell's neighbours. It is not pickled: a world loaded from a snapshot
 * has none, and the model makes it again from what it derives from.
 * Attaching under a key already used replaces what was there (freeing it
 * by its free_fn, unless it is the same data); NULL data removes it. The world frees what it holds with
 * `free_fn` (may be NULL) in sw_world_free. SW_E_NOMEM when out of memory
 * (then `data` is not taken: the caller still owns it). */
int sw_world_attach(sw_world *w, const void *key, void *data, void (*free_fn)(void *));
/* The data attached under `key`, or NULL. */
void *sw_world_attached(const sw_world *w, const void *key);

/* ---- channels by key ------------------------------------------------------------------ */

/* The event channel of cell (x, y), made on first request. SW_CHAN_NONE off a
 * bounded grid or when out of memory. */
sw_chan sw_world_cell_chan(sw_world *w, int32_t x, int32_t y);
/* The cell channel if it exists, without making it. */
sw_chan sw_world_cell_chan_peek(const sw_world *w, int32_t x, int32_t y);
/* The same by cell index (sw_world_cell_index; SW_CHAN_NONE past the last
 * cell): an agent that keeps its cell as an index need not keep the handle. */
sw_chan sw_world_cell_chan_at(const sw_world *w, uint32_t cell);
/* An agent's mailbox (buffered), made on first request, freed when it dies. */
sw_chan sw_world_mailbox(sw_world *w, sw_id id);
/* Declare a named channel; SW_E_INVALID if the name is taken. */
int sw_world_chan_declare(sw_world *w, const char *name, const sw_chan_desc *desc);
/* A named channel, or SW_CHAN_NONE. */
sw_chan sw_world_chan(const sw_world *w, const char *name);
int sw_world_chan_count(const sw_world *w);
const char *sw_world_chan_name(const sw_world *w, int index);
sw_chan sw_world_chan_at(const sw_world *w, int index);

/* Shorthands for agent code. */
static inline sw_chan sw_cell_chan(sw_tasklet *t, int32_t x, int32_t y) {
    return sw_world_cell_chan(sw_world_of(t), x, y);
}
static inline sw_chan sw_chan_named(sw_tasklet *t, const char *name) {
    return sw_world_chan(sw_world_of(t), name);
}
static inline sw_chan sw_mailbox(sw_tasklet *t, sw_id id) {
    return sw_world_mailbox(sw_world_of(t), id);
}

/* The description the world runs with (its size, topology, seed, ... after
 * defaults), read inline: a world begins with it (world.c checks), so hot
 * agent code can ask for its size without a call. Read-only. */
static inline const sw_world_desc *sw_world_desc_of(const sw_world *w) {
    return (const sw_world_desc *)(const void *)w;
}

static inline uint32_t sw_world_cell_index(const sw_world *w, int32_t x, int32_t y) {
    return (uint32_t)y * sw_world_desc_of(w)->width + (uint32_t)x;
}

#endif
