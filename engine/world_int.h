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

/* Where an agent is on the grid, and its neighbours in the cell's list (one
 * record per slot, so a move touches one cache line of it). */
typedef struct sw__gslot {
    int32_t x, y;        /* x < 0: not on the grid */
    uint32_t next, prev; /* the cell's list, in arrival order */
} sw__gslot;

/* A cell's list of agents: its ends and its length side by side, so that a
 * move touches one record of the cell it leaves and one of the cell it joins
 * (16 bytes: a record never straddles two cache lines). */
typedef struct sw__cell {
    uint32_t head, tail; /* SW__NIL when empty */
    uint32_t count;
    uint32_t spare_;
} sw__cell;

struct sw_world {
    sw_world_desc d;
    sw_sched *s;
    char errmsg[256];
    uint32_t ncells;

    /* per slot */
    uint32_t slotcap;
    sw__gslot *g;              /* grid cell and the cell's list, in arrival order */
    double *sx, *sy, *heading; /* continuous space; heading NaN: atan2(hdy, hdx) */
    double *hdx, *hdy;         /* the direction given for the heading, worked out when
                                  read; NULL until the first direction is given */
    uint32_t *sbucket;         /* bucket, or SW__NIL: not in space */
    uint32_t *snext, *sprev;   /* the bucket's list, in arrival order */
    sw_chan *mailbox;          /* SW_CHAN_NONE until asked for */

    /* per cell */
    sw__cell *cells;
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

/* Append `slot` to the list of cell (x, y) (index c), which it is not on. */
static inline void sw__cell_link(sw_world *w, uint32_t slot, int32_t x, int32_t y, uint32_t c) {
    sw__cell *cl = &w->cells[c];
    uint32_t tail = cl->tail;
    w->g[slot] = (sw__gslot){x, y, SW__NIL, tail};
    if (tail == SW__NIL) cl->head = slot; else w->g[tail].next = slot;
    cl->tail = slot;
    if (cl->count++ == 0) w->occupied++;
}

/* Make the per-slot arrays cover `slots` slots. */
int sw__world_reserve(sw_world *w, uint32_t slots);
/* The heading of `slot` (radians), worked out from its direction if it was
 * given as one; and setting it as a number (what the pickler saves and
 * loads). */
double sw__world_heading(const sw_world *w, uint32_t slot);
void sw__world_set_heading(sw_world *w, uint32_t slot, double heading);

#endif
