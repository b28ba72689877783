/* world_int.h - the world's private structures, shared by world.c and the
 * pickler. Not API. Arrays "per slot" are indexed by tasklet slot and grown
 * with the scheduler's slot limit; SW__NIL marks "none". */
#ifndef SW_WORLD_INT_H
#define SW_WORLD_INT_H

#include "world.h"
#include "sched_int.h"

typedef struct sw__layer {
    char *name;
    double *data;
} sw__layer;

typedef struct sw__named {
    char *name;
    sw_chan ch;
} sw__named;

/* A node of the grid's lists: an agent's (one per slot: its cell, its kind
 * and its neighbours in the cell's list, so a move touches one cache line
 * of it and a search by kind need not read the tasklet table), or a cell's.
 * Each cell's list is circular through the cell's own node, which holds
 * the cell's head (next), tail (prev) and agent count (cell): a move then
 * has no "first or last in its list?" to branch on (a coin toss on a
 * crowded grid, so a mispredicted branch each time). Links are node
 * numbers: an agent's slot, or for cell c, c - ncells (negative as int32:
 * the cells' nodes sit just before the agents', see sw__world_reserve). */
typedef struct sw__gslot {
    uint32_t cell;       /* agent: its cell index (SW__NIL: not on the grid); cell: its count */
    uint16_t kind;       /* agent: its kind's index in the scheduler */
    uint16_t spare_;
    uint32_t next, prev; /* the cell's list, in arrival order (SW__NIL: not on one) */
} sw__gslot;

struct sw_world {
    sw_world_desc d;
    sw_sched *s;
    char errmsg[256];
    uint32_t ncells;

    /* per slot */
    uint32_t slotcap;
    sw__gslot *g;              /* grid cell and the cell's list (the cells' nodes
                                  come before it, in the same block) */
    double *sx, *sy, *heading; /* continuous space; heading NaN: atan2(hdy, hdx) */
    double *hdx, *hdy;         /* the direction given for the heading, worked out when
                                  read; NULL until the first direction is given */
    uint32_t *sbucket;         /* bucket, or SW__NIL: not in space */
    uint32_t *snext, *sprev;   /* the bucket's list, in arrival order */
    sw_chan *mailbox;          /* SW_CHAN_NONE until asked for */
    bool any_mailbox;          /* some agent has had one (else a death skips `mailbox`) */

    /* per cell */
    uint32_t occupied;
    sw_chan *cell_chan;        /* allocated on the first cell channel */

    /* continuous-space buckets */
    double bsize;
    uint32_t bw, bh;
    uint32_t *bucket_head, *bucket_tail;
    uint32_t nspace;

    sw__layer *layers;
    int nlayers;
    sw__named *named;
    int nnamed;

    /* where the agent being spawned goes (sw_world_spawn_at*) */
    int pending;               /* 0 none, 1 cell, 2 point */
    int32_t px, py;
    double pfx, pfy;
    uint64_t rng_ctr;          /* counter of the world's own random stream */
};

/* The node number of cell c's list, and its node. */
static inline uint32_t sw__cell_id(const sw_world *w, uint32_t c) { return c - w->ncells; }
static inline sw__gslot *sw__node(const sw_world *w, uint32_t n) { return &w->g[(int32_t)n]; }
static inline uint32_t sw__cell_count(const sw_world *w, uint32_t c) {
    return sw__node(w, sw__cell_id(w, c))->cell;
}
/* The first node of cell c's list: an agent's slot, or the cell's own node
 * (sw__cell_id) when it is empty; a walk ends when it comes back to it. */
static inline uint32_t sw__cell_first(const sw_world *w, uint32_t c) {
    return sw__node(w, sw__cell_id(w, c))->next;
}

/* Append `slot`, an agent of kind index `kind`, to the list of cell c
 * (it is on no list). */
static inline void sw__cell_link(sw_world *w, uint32_t slot, uint32_t c, uint16_t kind) {
    uint32_t id = sw__cell_id(w, c);
    sw__gslot *cell = sw__node(w, id);
    uint32_t tail = cell->prev;
    w->g[slot] = (sw__gslot){c, kind, 0, id, tail};
    sw__node(w, tail)->next = slot;
    cell->prev = slot;
    w->occupied += cell->cell++ == 0;
}

/* Make the per-slot arrays cover `slots` slots. */
int sw__world_reserve(sw_world *w, uint32_t slots);
/* Empty every cell's list (the agents' nodes are left as they are). */
void sw__world_clear_cells(sw_world *w);
/* The heading of `slot` (radians), worked out from its direction if it was
 * given as one; and setting it as a number (what the pickler saves and
 * loads). */
double sw__world_heading(const sw_world *w, uint32_t slot);
void sw__world_set_heading(sw_world *w, uint32_t slot, double heading);

#endif
