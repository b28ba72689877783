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

/* An agent in a continuous-space bucket: its position beside its slot, so a
 * near-query reads each bucket as one contiguous run instead of following a
 * list from slot to slot. */
typedef struct sw__spoint {
    double x, y;
    uint32_t slot, unused;
} sw__spoint;

/* A continuous-space bucket: its agents in arrival order (leaving closes
 * the gap, so the order stays), in storage grown by doubling. Zeroed: empty,
 * no storage. */
typedef struct sw__sbucket {
    sw__spoint *p;
    uint32_t n, cap;
} sw__sbucket;

struct sw_world {
    sw_world_desc d;
    sw_sched *s;
    char errmsg[256];
    uint32_t ncells;

    /* per slot */
    uint32_t slotcap;
    sw__gslot *g;              /* grid cell and the cell's list, in arrival order */
    double *heading;           /* heading NaN: atan2(hdy, hdx) */
    double *hdx, *hdy;         /* the direction given for the heading, worked out when
                                  read; NULL until the first direction is given */
    uint32_t *sbucket;         /* bucket, or SW__NIL: not in space */
    uint32_t *sindex;          /* its place in the bucket's array */
    sw_chan *mailbox;          /* SW_CHAN_NONE until asked for */

    /* per cell */
    uint32_t *cell_head, *cell_tail, *cell_count;
    uint32_t occupied;
    sw_chan *cell_chan;        /* allocated on the first cell channel */

    /* continuous-space buckets (row-major, bw x bh of size bsize) */
    double bsize;
    uint32_t bw, bh;
    sw__sbucket *buckets;      /* calloc'd: a world without space agents never
                                  touches the pages */
    uint32_t *bstored;         /* the buckets given storage, to free them */
    uint32_t nbstored, bstored_cap;
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

/* Make the per-slot arrays cover `slots` slots. */
int sw__world_reserve(sw_world *w, uint32_t slots);
/* The heading of `slot` (radians), worked out from its direction if it was
 * given as one; and setting it as a number (what the pickler saves and
 * loads). */
double sw__world_heading(const sw_world *w, uint32_t slot);
void sw__world_set_heading(sw_world *w, uint32_t slot, double heading);

/* The bucket of a point inside the space: floor(x / bsize) per axis, the
 * last bucket taking what rounding puts past it. The one definition of
 * where a point belongs (the pickler checks loaded points with it). */
static inline uint32_t sw__world_bucket_of(const sw_world *w, double x, double y) {
    uint32_t bx = (uint32_t)(x / w->bsize), by = (uint32_t)(y / w->bsize);
    if (bx >= w->bw) bx = w->bw - 1;
    if (by >= w->bh) by = w->bh - 1;
    return by * w->bw + bx;
}
/* Empty every bucket (storage kept) and take every slot out of space. */
void sw__world_space_clear(sw_world *w);
/* Put `slot` (not in space) at the end of bucket `b` at (x, y), which the
 * caller has checked lies in it. SW_E_NOMEM when the bucket cannot grow. */
int sw__world_space_append(sw_world *w, uint32_t slot, uint32_t b, double x, double y);
/* The non-empty buckets in ascending order, as a malloc'd array (*out, NULL
 * when none) of *n indices; SW_E_NOMEM. */
int sw__world_space_used(const sw_world *w, uint32_t **out, uint32_t *n);

#endif
