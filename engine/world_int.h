/* world_int.h - the world's private structures and helpers, shared by its
 * files (world*.c) and the pickler. Not API. Arrays "per slot" are indexed
 * by tasklet slot and grown with the scheduler's slot limit; SW__NIL marks
 * "none". */
#ifndef SW_WORLD_INT_H
#define SW_WORLD_INT_H

#include "world.h"
#include "sched_int.h"

typedef struct sw__layer {
    char *name;
    double *data;
} sw__layer;

/* A model's derived data, attached by key (sw_world_attach). */
typedef struct sw__attached {
    const void *key;
    void *data;
    void (*free_fn)(void *);
} sw__attached;

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

/* A continuous-space bucket: its agents' x, y, direction pairs (the last
 * direction given, exactly; (0, 0) when none is in effect) and slots, in
 * arrival order (leaving closes the gap, so the order stays). The points
 * and pairs are stored by groups of SW__LANES agents, each group the four
 * x, then the four y, dx and dy (16 doubles, 128 bytes, 32-byte aligned):
 * a near-query reads a group as four vectors at fixed offsets, one agent
 * per lane, from one run of memory per bucket, and sums the neighbours'
 * directions (SW_SPACE_DIR_PAIR) from there instead of walking to each
 * neighbour's frame. The groups share one block `p` with the slots (cap
 * doubles x 4 of groups, then cap slots), cap a multiple of SW__LANES,
 * grown by doubling; the entries from n to cap are sentinels (a NaN point,
 * which no distance test admits, a (0, 0) pair, slot SW__NIL), so a query
 * reads whole groups with no remainder loop. Zeroed: empty, no storage. */
#define SW__LANES 4
typedef struct sw__sbucket {
    double *p;
    uint32_t n, cap;
} sw__sbucket;

/* Entry i's x (field 0), y (1), dx (2) or dy (3) in bucket b. */
static inline double *sw__sb_at(const sw__sbucket *b, uint32_t i, unsigned field) {
    return b->p + (size_t)(i & ~(uint32_t)(SW__LANES - 1)) * 4 + field * SW__LANES +
           (i & (SW__LANES - 1));
}
static inline double *sw__sb_x(const sw__sbucket *b, uint32_t i) { return sw__sb_at(b, i, 0); }
static inline double *sw__sb_y(const sw__sbucket *b, uint32_t i) { return sw__sb_at(b, i, 1); }
static inline double *sw__sb_dx(const sw__sbucket *b, uint32_t i) { return sw__sb_at(b, i, 2); }
static inline double *sw__sb_dy(const sw__sbucket *b, uint32_t i) { return sw__sb_at(b, i, 3); }
static inline uint32_t *sw__sb_slot(const sw__sbucket *b) {
    return (uint32_t *)(void *)(b->p + 4 * (size_t)b->cap);
}
/* Make entry i of bucket b a sentinel (see sw__sbucket). */
static inline void sw__sb_blank(const sw__sbucket *b, uint32_t i) {
    double *e = sw__sb_x(b, i);
    e[0] = e[SW__LANES] = __builtin_nan("");
    e[2 * SW__LANES] = e[3 * SW__LANES] = 0.0;
    sw__sb_slot(b)[i] = SW__NIL;
}

/* What a bird's own query (self_sums_lean in world_near.c) works out and
 * checks from its radii and the world's fixed shape alone (a torus, no
 * minimum image per point, r_in within r), kept for the last radii that
 * passed, since a flock asks with the same radii at every step: a query
 * with those (r, r_in) reads these instead. `r` is NaN until some pass
 * (the world is calloc'd: sw_world_new sets it), and a NaN radius
 * never matches, so it is checked anew each time. The doubles of the
 * extents and bucket counts are the world's, kept converted. */
typedef struct sw__lean_radii {
    double r, r_in;     /* the radii that passed */
    double re, r2, rin2; /* r widened by the slack, r^2, r_in^2 (0 when r_in <= 0) */
    double W, H;         /* the extents, as doubles */
    double bw, bh;       /* the bucket counts per axis, as doubles */
} sw__lean_radii;

struct sw_world {
    sw_world_desc d;
    sw_sched *s;
    char errmsg[256];
    uint32_t ncells;

    /* per slot */
    uint32_t slotcap;
    sw__gslot *g;              /* grid cell and the cell's list (the cells' nodes
                                  come before it, in the same block) */
    double *heading;           /* heading NaN: atan2(hdy, hdx) */
    double *hdx, *hdy;         /* the direction given for the heading, worked out when
                                  read; NULL until the first direction is given */
    bool any_angle;            /* some heading was set as an angle (sw__world_set_heading);
                                  with hdx NULL too, every heading is still 0 and a
                                  birth need not clear its slot's */
    uint32_t *sbucket;         /* bucket, or SW__NIL: not in space */
    uint32_t *sindex;          /* its place in the bucket's array */
    sw_chan *mailbox;          /* SW_CHAN_NONE until asked for */
    bool any_mailbox;          /* some agent has had one (else a death skips `mailbox`) */

    /* per cell */
    uint32_t occupied;
    sw_chan *cell_chan;        /* allocated on the first cell channel */

    /* continuous-space buckets (row-major, bw x bh of size bsize) */
    double bsize;
    double binv;               /* 1 / bsize: queries multiply (see bucket_ranges) */
    uint32_t bw, bh;
    uint32_t sread;            /* desc.space_read in whole groups; every bucket's
                                  storage at least this large (world_space.c) */
    double *bedge;             /* bw + 1 column edges, then bh + 1 row edges: the
                                  first coordinate of each column and row as
                                  sw__world_bucket_of places points (the
                                  extent at the end; see sw__world_space_edges) */
    sw__sbucket *buckets;      /* calloc'd: a world without space agents never
                                  touches the pages */
    uint32_t *bstored;         /* the buckets given storage, to free them */
    uint32_t nbstored, bstored_cap;
    uint32_t nspace;
    sw__lean_radii lean;       /* a bird's own query's radius checks, kept (world_near.c) */

    sw__layer *layers;
    int nlayers;
    sw__named *named;
    int nnamed;
    sw__attached *attached;    /* models' derived data (sw_world_attach) */
    int nattached;

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

/* The coordinates of cell index c (the inverse of sw_world_cell_index). */
static inline void sw__cell_xy(const sw_world *w, uint32_t c, int32_t *x, int32_t *y) {
    *x = (int32_t)(c % w->d.width);
    *y = (int32_t)(c / w->d.width);
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
/* Give `slot` (< slotcap) the direction (dx, dy) as its heading and its
 * bucket entry's direction pair (what the pickler loads); false when out of
 * memory (the heading is then set as the angle). */
bool sw__world_set_direction(sw_world *w, uint32_t slot, double dx, double dy);

/* Whether the heading of `slot` (< slotcap) is the direction given last
 * (not none given, nor a heading set as an angle since): then its bucket
 * entry holds that direction as its pair, and the pickler saves it
 * exactly. (v != v: v is NaN, without <math.h> in every file that
 * includes this one.) */
static inline bool sw__world_dir_given(const sw_world *w, uint32_t slot) {
    return w->hdx && w->heading[slot] != w->heading[slot] && w->hdx[slot] == w->hdx[slot];
}
/* The direction pair of `slot` (< slotcap) as its bucket entry holds it:
 * the direction given last if sw__world_dir_given, else (0, 0). */
static inline void sw__world_dir_pair(const sw_world *w, uint32_t slot, double *dx, double *dy) {
    bool given = sw__world_dir_given(w, slot);
    *dx = given ? w->hdx[slot] : 0.0;
    *dy = given ? w->hdy[slot] : 0.0;
}
/* The bucket holding `slot` (< slotcap), or NULL when it is not in space;
 * *i: its index there. */
static inline sw__sbucket *sw__world_sbucket(const sw_world *w, uint32_t slot, uint32_t *i) {
    uint32_t b = w->sbucket[slot];
    *i = w->sindex[slot];
    return b == SW__NIL ? NULL : &w->buckets[b];
}

/* floor(v / bs) for 0 <= v (a coordinate inside the space), by the product
 * v * inv (inv = 1 / bs) where that cannot differ: the product and the
 * quotient are each within a few units in the last place of v / bs, so
 * they floor alike unless v / bs lies within that of a whole number. The
 * product's fraction q - floor(q) is exact; within 2^-20 of either end
 * (far more than the rounding at q < 2^30, a few 2^-23), or past 2^30,
 * the quotient decides. A multiplication where a division was (asked
 * twice by every placement and by a bird's move out of its bucket: a move
 * within it compares with the bucket's edges instead, see
 * sw__world_space_edges); the bucket the same, bit for bit. */
static inline uint32_t sw__bucket_floor(double v, double bs, double inv) {
    double q = v * inv;
    if (__builtin_expect(q < 0x1p30, 1)) {
        uint32_t b = (uint32_t)q;
        double f = q - (double)b;
        if (__builtin_expect(f > 0x1p-20 && f < 1 - 0x1p-20, 1)) return b;
    }
    return (uint32_t)(v / bs);
}
/* The bucket of a point inside the space: floor(x / bsize) per axis (the
 * quotient's floor: see sw__bucket_floor), the last bucket taking what
 * rounding puts past it. The one definition of where a point belongs (the
 * pickler checks loaded points with it). */
static inline uint32_t sw__world_bucket_of(const sw_world *w, double x, double y) {
    uint32_t bx = sw__bucket_floor(x, w->bsize, w->binv), by = sw__bucket_floor(y, w->bsize, w->binv);
    if (bx >= w->bw) bx = w->bw - 1;
    if (by >= w->bh) by = w->bh - 1;
    return by * w->bw + bx;
}
/* Fill w->bedge: edge k of an axis is the least coordinate that
 * sw__world_bucket_of puts in column (row) k or beyond, so that a point
 * inside the space is in column k exactly when edge[k] <= x < edge[k + 1]
 * (the last edge the extent: the last column takes what rounding puts past
 * it, up to the end of the space; edge 0 is 0). A moving agent's "still in
 * the same bucket" is then two comparisons per axis instead of the bucket
 * worked out anew, and they also tell that the point is inside the space:
 * any point, NaN included, within a column's edges is. */
void sw__world_space_edges(sw_world *w);
/* Empty every bucket (storage kept) and take every slot out of space. */
void sw__world_space_clear(sw_world *w);
/* Put `slot` (not in space) at the end of bucket `b` at (x, y), which the
 * caller has checked lies in it, with its direction pair (sw__world_dir_pair).
 * SW_E_NOMEM when the bucket cannot grow. */
int sw__world_space_append(sw_world *w, uint32_t slot, uint32_t b, double x, double y);
/* The non-empty buckets in ascending order, as a malloc'd array (*out, NULL
 * when none) of *n indices; SW_E_NOMEM. */
int sw__world_space_used(const sw_world *w, uint32_t **out, uint32_t *n);

/* ---- helpers the world's files share (world.c, world_grid.c, world_space.c,
 * world_near.c, world_spawn.c, world_chan.c): static inline, so that each
 * hot path keeps them inlined as when they were one file. */

/* Say why the last call failed (sw_world_errmsg). */
void sw__world_errf(sw_world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The spawn hook's work for a tasklet just made in `slot` on cell index c
 * (< ncells), for a batch of spawns, which calls no hook. */
void sw__world_spawned_in(sw_world *w, uint32_t slot, uint32_t c);
/* The same for n agents of kind index `kind`, in slots[i] for cells[i]. */
void sw__world_spawned_all_in(sw_world *w, const uint32_t *slots, const uint32_t *cells, uint64_t n,
                              uint16_t kind);
/* The scheduler's spawn hook is still the world's (sw_sched_on_spawn can
 * replace it: a batch, which calls no hook, then spawns one by one). */
bool sw__world_spawn_hook_is_ours(const sw_world *w);

/* The per-slot arrays cover `slot` (the spawn hook has made them, so the
 * call is the rare case). */
static inline int sw__reserve_slot(sw_world *w, uint32_t slot) {
    return __builtin_expect(slot < w->slotcap, 1) ? SW_OK : sw__world_reserve(w, slot + 1);
}

/* Take `slot` out of its cell's list, leaving its own fields as they were. */
static inline void sw__cell_detach(sw_world *w, uint32_t slot) {
    const sw__gslot g = w->g[slot];
    sw__node(w, g.prev)->next = g.next;
    sw__node(w, g.next)->prev = g.prev;
    w->occupied -= --sw__node(w, sw__cell_id(w, g.cell))->cell == 0;
}

/* Move `slot`, which is on a cell, to the end of cell c's list: detach,
 * then what sw__cell_link does, but its node keeps its kind (every link
 * writes the task's kind, the same), so only its cell and links are
 * rewritten. Taken off first, then appended, so a move to its own cell
 * still makes it the last arrival. */
static inline void sw__cell_relink(sw_world *w, uint32_t slot, uint32_t c) {
    sw__cell_detach(w, slot);
    uint32_t id = sw__cell_id(w, c);
    sw__gslot *cell = sw__node(w, id), *me = sw__node(w, slot);
    uint32_t tail = cell->prev;
    me->cell = c;
    me->next = id;
    me->prev = tail;
    sw__node(w, tail)->next = slot;
    cell->prev = slot;
    w->occupied += cell->cell++ == 0;
}

static inline void sw__cell_unlink(sw_world *w, uint32_t slot) {
    if (w->g[slot].cell == SW__NIL) return;
    sw__cell_detach(w, slot);
    w->g[slot] = (sw__gslot){SW__NIL, 0, 0, SW__NIL, SW__NIL};
}

/* Put `slot` on cell (x, y), taking it off its cell first if it is on one. */
static inline void sw__cell_move(sw_world *w, uint32_t slot, int32_t x, int32_t y, uint16_t kind) {
    if (w->g[slot].cell != SW__NIL) sw__cell_detach(w, slot); /* linking sets all it cleared */
    sw__cell_link(w, slot, (uint32_t)y * w->d.width + (uint32_t)x, kind);
}

/* Take `slot` out of its bucket, closing the gap so that the others keep
 * their arrival order (a bucket holds about as many agents as a query near
 * it reads, so the shift costs no more than one query). */
static inline void sw__space_unlink(sw_world *w, uint32_t slot) {
    uint32_t b = w->sbucket[slot];
    if (b == SW__NIL) return;
    sw__sbucket *bk = &w->buckets[b];
    uint32_t *slots = sw__sb_slot(bk);
    for (uint32_t i = w->sindex[slot] + 1; i < bk->n; i++) {
        const double *e = sw__sb_x(bk, i);
        double *to = sw__sb_x(bk, i - 1);
        for (int f = 0; f < 4; f++) to[f * SW__LANES] = e[f * SW__LANES];
        slots[i - 1] = slots[i];
        w->sindex[slots[i]] = i - 1;
    }
    sw__sb_blank(bk, --bk->n);
    w->sbucket[slot] = w->sindex[slot] = SW__NIL;
    w->nspace--;
}

/* Put `slot` (not in space) at (x, y), inside the space, at the end of its
 * bucket. */
static inline int sw__space_link(sw_world *w, uint32_t slot, double x, double y) {
    return sw__world_space_append(w, slot, sw__world_bucket_of(w, x, y), x, y);
}

/* Coordinate v wrapped onto an axis of n cells. */
static inline int32_t sw__wrap1(int64_t v, uint32_t n) {
    if ((uint64_t)v < n) return (int32_t)v; /* already on the torus: no division */
    int64_t m = v % (int64_t)n;
    return (int32_t)(m < 0 ? m + n : m);
}

/* sw_world_wrap, inline for the hot paths of the world's files. (Width and
 * height are at most INT32_MAX, so the unsigned compare also rejects
 * negatives.) A cell on the grid, the usual case (every step of an animal,
 * every cell it asks about), is taken as it is before the topology is
 * read: wrapping leaves it unchanged on a torus too, and the test the
 * bounded grid needs anyway decides it (two instructions fewer a call). */
static inline bool sw__cell_wrap(const sw_world *w, int32_t *x, int32_t *y) {
    if (__builtin_expect((uint32_t)*x < w->d.width && (uint32_t)*y < w->d.height, 1)) return true;
    if (w->d.topology != SW_TOPO_TORUS) return false;
    *x = sw__wrap1(*x, w->d.width);
    *y = sw__wrap1(*y, w->d.height);
    return true;
}

/* The slot of a live agent (sw_sched_alive, inline). */
static inline bool sw__slot_of(const sw_world *w, sw_id id, uint32_t *slot) {
    if (!sw__task_get(w->s, id)) return false;
    *slot = sw_handle_slot(id);
    return true;
}

/* The scheduler's index of `kind`, for comparing with a tasklet's: -1 for
 * any kind (NULL), -2 for a kind never registered (no agent is of it). */
static inline int sw__kind_filter(const sw_world *w, const sw_kind *kind) {
    if (!kind) return -1;
    int ki = sw_sched_kind_index(w->s, kind);
    return ki >= 0 ? ki : -2;
}

/* The id of the agent in `slot` if it is alive and of kind `ki` (as
 * sw__kind_filter gives it), else SW_ID_NONE (sw_sched_id_at and
 * sw_sched_kind_of, inline). */
static inline sw_id sw__id_of_kind(const sw_sched *s, uint32_t slot, int ki) {
    const struct sw__task *k = &s->tasks[slot];
    if (k->state == SW_TASK_FREE || k->state == SW_TASK_ZOMBIE) return SW_ID_NONE;
    if (ki != -1 && k->kind != ki) return SW_ID_NONE;
    return sw_handle_make(slot, k->gen);
}

/* sw__space_wrap for a point outside the space or not finite (world_space.c). */
bool sw__world_space_wrap_slow(const sw_world *w, double *x, double *y);

/* Wrap a point into a periodic space; false if it is outside a bounded one
 * or not finite. A point already inside (the usual case) is left as it is,
 * which is what fmod would do with it, without the fmod. */
static inline bool sw__space_wrap(const sw_world *w, double *x, double *y) {
    if (*x >= 0 && *y >= 0 && *x < (double)w->d.width && *y < (double)w->d.height) return true;
    return sw__world_space_wrap_slow(w, x, y);
}

#endif
