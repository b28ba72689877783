/* world_space.c - the continuous space: its bucket storage, placing and
 * moving agents at points (wrapped on a torus), and their headings and
 * directions. Near-queries over the buckets are in world_near.c.
 *
 * The continuous-space index is an array per bucket of positions and slots
 * (what a near-query reads, contiguous), keeping its agents in arrival
 * order, so iteration order never depends on an address. */
#include "world_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- continuous-space buckets ------------------------------------------------- */

/* Free the storage of the empty buckets. Agents wandering over a fine
 * index would otherwise leave storage in every bucket they ever visited;
 * sweeping when the buckets with storage outnumber twice the agents in
 * space (which fill at most that many) keeps it in proportion, at a cost
 * spread over the many new buckets between two sweeps. */
static void buckets_sweep(sw_world *w) {
    uint32_t kept = 0;
    for (uint32_t i = 0; i < w->nbstored; i++) {
        sw__sbucket *bk = &w->buckets[w->bstored[i]];
        if (bk->n) {
            w->bstored[kept++] = w->bstored[i];
            continue;
        }
        free(bk->p);
        *bk = (sw__sbucket){0};
    }
    w->nbstored = kept;
}

/* A bucket's block for `cap` entries (see sw__sbucket): 32-byte aligned,
 * so that a query's loads of four doubles never split a cache line, and a
 * size that aligned_alloc accepts (a multiple of the alignment). */
static double *block_new(uint32_t cap) {
    size_t bytes = (size_t)cap * (4 * sizeof(double) + sizeof(uint32_t));
    return aligned_alloc(32, (bytes + 31) & ~(size_t)31);
}

/* Give bucket `b` room for one more agent (storage on first use, recorded
 * so that freeing the world finds it without visiting every bucket). The
 * arrays move apart as cap doubles, so the block is made anew and copied
 * (a realloc would keep neither the layout nor the alignment). */
static int bucket_grow(sw_world *w, uint32_t b) {
    sw__sbucket *bk = &w->buckets[b];
    if (bk->n < bk->cap) return SW_OK;
    if (!bk->p && w->nbstored >= 2 * ((uint64_t)w->nspace + 64)) buckets_sweep(w);
    if (!bk->p && w->nbstored == w->bstored_cap) {
        uint32_t cap = w->bstored_cap ? 2 * w->bstored_cap : 64;
        uint32_t *st = realloc(w->bstored, (size_t)cap * sizeof *st);
        if (!st) return SW_E_NOMEM;
        w->bstored = st;
        w->bstored_cap = cap;
    }
    if (bk->cap > UINT32_MAX / 4) return SW_E_NOMEM;
    /* the first storage holds what the sums queries read (w->sread) */
    const uint32_t cap = bk->cap ? 2 * bk->cap : w->sread > SW__LANES ? w->sread : SW__LANES;
    sw__sbucket nb = {block_new(cap), bk->n, cap};
    if (!nb.p) return SW_E_NOMEM;
    if (bk->n) { /* the groups as they are (the layout of a group does not depend on cap) */
        memcpy(nb.p, bk->p, (size_t)bk->cap * 4 * sizeof(double));
        memcpy(sw__sb_slot(&nb), sw__sb_slot(bk), bk->n * sizeof(uint32_t));
    }
    for (uint32_t i = nb.n; i < nb.cap; i++) sw__sb_blank(&nb, i);
    if (!bk->p) w->bstored[w->nbstored++] = b;
    free(bk->p);
    *bk = nb;
    return SW_OK;
}

int sw__world_space_append(sw_world *w, uint32_t slot, uint32_t b, double x, double y) {
    if (__builtin_expect(w->buckets[b].n == w->buckets[b].cap, 0) && bucket_grow(w, b) != SW_OK) {
        sw__world_errf(w, "out of memory for a space bucket");
        return SW_E_NOMEM;
    }
    sw__sbucket *bk = &w->buckets[b];
    uint32_t i = bk->n++;
    *sw__sb_x(bk, i) = x;
    *sw__sb_y(bk, i) = y;
    sw__world_dir_pair(w, slot, sw__sb_dx(bk, i), sw__sb_dy(bk, i));
    sw__sb_slot(bk)[i] = slot;
    w->sbucket[slot] = b;
    w->sindex[slot] = i;
    w->nspace++;
    return SW_OK;
}

void sw__world_space_clear(sw_world *w) {
    for (uint32_t i = 0; i < w->nbstored; i++) { /* every entry a sentinel again */
        sw__sbucket *bk = &w->buckets[w->bstored[i]];
        for (uint32_t j = 0; j < bk->n; j++) sw__sb_blank(bk, j);
        bk->n = 0;
    }
    for (uint32_t i = 0; i < w->slotcap; i++) w->sbucket[i] = w->sindex[i] = SW__NIL;
    w->nspace = 0;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int sw__world_space_used(const sw_world *w, uint32_t **out, uint32_t *n) {
    *out = NULL;
    *n = 0;
    if (!w->nbstored) return SW_OK;
    uint32_t *v = malloc((size_t)w->nbstored * sizeof *v);
    if (!v) return SW_E_NOMEM;
    for (uint32_t i = 0; i < w->nbstored; i++)
        if (w->buckets[w->bstored[i]].n) v[(*n)++] = w->bstored[i];
    qsort(v, *n, sizeof *v, cmp_u32);
    *out = v;
    return SW_OK;
}

/* The least v >= 0 whose bucket along an axis of buckets bs wide is k or
 * beyond (0 < k): floor(v / bs) is not decreasing in v, and k bs is within
 * a few units in the last place of it. */
static double axis_edge(uint32_t k, double bs) {
    double v = k * bs;
    while ((uint32_t)(v / bs) < k) v = nextafter(v, INFINITY);
    for (double p; v > 0 && (uint32_t)((p = nextafter(v, 0)) / bs) >= k;) v = p;
    return v;
}

void sw__world_space_edges(sw_world *w) {
    double *ex = w->bedge, *ey = w->bedge + w->bw + 1;
    ex[0] = ey[0] = 0;
    /* none past the extent (a last column that rounding leaves empty of
       points inside), the last the extent itself (not +inf): a point within
       a column's edges is then inside the space */
    for (uint32_t k = 1; k < w->bw; k++) ex[k] = fmin(axis_edge(k, w->bsize), w->d.width);
    for (uint32_t k = 1; k < w->bh; k++) ey[k] = fmin(axis_edge(k, w->bsize), w->d.height);
    ex[w->bw] = w->d.width;
    ey[w->bh] = w->d.height;
}

/* ---- continuous space ------------------------------------------------------------------- */

bool sw__world_space_wrap_slow(const sw_world *w, double *x, double *y) {
    if (!isfinite(*x) || !isfinite(*y)) return false;
    double W = w->d.width, H = w->d.height;
    if (w->d.topology == SW_TOPO_TORUS) {
        *x = fmod(*x, W);
        if (*x < 0) *x += W;
        if (*x >= W) *x = 0; /* fmod of a tiny negative can round up to W */
        *y = fmod(*y, H);
        if (*y < 0) *y += H;
        if (*y >= H) *y = 0;
        return true;
    }
    return *x >= 0 && *y >= 0 && *x < W && *y < H;
}

/* Put `slot` (a live agent) at (x, y), or move it there; *bk, *at: its
 * bucket and its index there then. */
static inline int space_place(sw_world *w, uint32_t slot, double x, double y, sw__sbucket **bk,
                              uint32_t *at) {
    if (!sw__space_wrap(w, &x, &y)) return SW_E_INVALID;
    if (sw__reserve_slot(w, slot) != SW_OK) return SW_E_NOMEM;
    uint32_t b = sw__world_bucket_of(w, x, y);
    *bk = &w->buckets[b];
    if (w->sbucket[slot] == b) { /* same bucket: keep its place in the order */
        *at = w->sindex[slot];
        *sw__sb_x(*bk, *at) = x;
        *sw__sb_y(*bk, *at) = y;
        return SW_OK;
    }
    sw__space_unlink(w, slot);
    int rc = sw__world_space_append(w, slot, b, x, y);
    *at = w->sindex[slot];
    return rc;
}

int sw_world_space_place(sw_world *w, sw_id id, double x, double y) {
    uint32_t slot, at;
    sw__sbucket *bk;
    if (!sw__slot_of(w, id, &slot)) return SW_E_STALE;
    return space_place(w, slot, x, y, &bk, &at);
}

int sw_world_space_unplace(sw_world *w, sw_id id) {
    uint32_t slot;
    if (!sw__slot_of(w, id, &slot)) return SW_E_STALE;
    if (slot < w->slotcap) sw__space_unlink(w, slot);
    return SW_OK;
}

bool sw_world_space_pos(const sw_world *w, sw_id id, double *x, double *y) {
    uint32_t slot, i;
    const sw__sbucket *bk;
    if (!sw__slot_of(w, id, &slot) || slot >= w->slotcap || !(bk = sw__world_sbucket(w, slot, &i)))
        return false;
    if (x) *x = *sw__sb_x(bk, i);
    if (y) *y = *sw__sb_y(bk, i);
    return true;
}

double sw__world_heading(const sw_world *w, uint32_t slot) {
    double h = w->heading[slot];
    return isnan(h) && w->hdx ? atan2(w->hdy[slot], w->hdx[slot]) : h;
}

void sw__world_set_heading(sw_world *w, uint32_t slot, double heading) {
    w->any_angle = true; /* from now on a birth clears its slot's heading (world.c) */
    w->heading[slot] = heading;
    if (isnan(heading) && w->hdx) w->hdx[slot] = w->hdy[slot] = NAN; /* read back as NaN */
    uint32_t i;
    sw__sbucket *bk = sw__world_sbucket(w, slot, &i); /* no direction in effect now */
    if (bk) *sw__sb_dx(bk, i) = *sw__sb_dy(bk, i) = 0.0;
}

void sw_world_space_set_heading(sw_world *w, sw_id id, double heading) {
    uint32_t slot;
    if (sw__slot_of(w, id, &slot) && slot < w->slotcap) sw__world_set_heading(w, slot, heading);
}

/* The per-slot directions, made on the first sw_world_space_set_direction
 * (a world nobody gives one to does without them). */
static bool directions_make(sw_world *w) {
    w->hdx = malloc((size_t)w->slotcap * sizeof *w->hdx);
    w->hdy = malloc((size_t)w->slotcap * sizeof *w->hdy);
    if (!w->hdx || !w->hdy) {
        free(w->hdx);
        free(w->hdy);
        w->hdx = w->hdy = NULL;
        return false;
    }
    for (uint32_t i = 0; i < w->slotcap; i++) w->hdx[i] = w->hdy[i] = NAN;
    return true;
}

/* Give `slot` (< slotcap) the direction (dx, dy) as its heading, and as
 * the direction pair of its entry `i` in bucket `bk` (NULL: not in space). False
 * when out of memory: the heading is then set as an angle (and the pair is
 * (0, 0), as for any heading so set). */
static inline __attribute__((always_inline)) bool direction_put(sw_world *w, uint32_t slot, sw__sbucket *bk, uint32_t i,
                                 double dx, double dy) {
    if (__builtin_expect(!w->hdx, 0) && !directions_make(w)) {
        sw__world_set_heading(w, slot, atan2(dy, dx));
        return false;
    }
    w->heading[slot] = NAN; /* marks the direction as the heading to work out */
    w->hdx[slot] = dx;
    w->hdy[slot] = dy;
    if (bk) {
        *sw__sb_dx(bk, i) = dx;
        *sw__sb_dy(bk, i) = dy;
    }
    return true;
}

bool sw__world_set_direction(sw_world *w, uint32_t slot, double dx, double dy) {
    uint32_t i;
    sw__sbucket *bk = sw__world_sbucket(w, slot, &i);
    return direction_put(w, slot, bk, i, dx, dy);
}

void sw_world_space_set_direction(sw_world *w, sw_id id, double dx, double dy) {
    uint32_t slot;
    if (sw__slot_of(w, id, &slot) && slot < w->slotcap) sw__world_set_direction(w, slot, dx, dy);
}

/* sw_space_move_to in the usual case (a bird's step): a point inside the
 * space, the same bucket as before (told by the bucket's edges, which its
 * number gives before the new point is worked out: fewer operations after
 * the flight's last division; a point within them is inside the space, see
 * sw__world_space_edges), the per-slot directions made. What space_place
 * and direction_put then do, with the entry's place worked out once. False
 * (nothing written) otherwise. */
static inline bool move_within_bucket(sw_world *w, uint32_t slot, double x, double y, double dx,
                                      double dy) {
    if (slot >= w->slotcap || !w->hdx) return false;
    const uint32_t b = w->sbucket[slot]; /* its bucket now, known before the point is */
    if (b == SW__NIL) return false;
    const uint32_t by = b / w->bw, bx = b - by * w->bw;
    const double *ex = w->bedge, *ey = w->bedge + w->bw + 1;
    if (!(x >= ex[bx] && x < ex[bx + 1] && y >= ey[by] && y < ey[by + 1])) return false;
    sw__sbucket *bk = &w->buckets[b];
    const uint32_t i = w->sindex[slot];
    *sw__sb_x(bk, i) = x;
    *sw__sb_y(bk, i) = y;
    return direction_put(w, slot, bk, i, dx, dy); /* (the directions are made: true) */
}

int sw_space_move_to(sw_tasklet *t, double x, double y, double dx, double dy) {
    sw_world *w = sw_world_of(t);
    if (__builtin_expect(t->task->state == SW_TASK_ZOMBIE, 0)) return SW_E_STALE;
    if (move_within_bucket(w, t->slot, x, y, dx, dy)) return SW_OK;
    sw__sbucket *bk;
    uint32_t at;
    int rc = space_place(w, t->slot, x, y, &bk, &at);
    if (rc == SW_OK) direction_put(w, t->slot, bk, at, dx, dy); /* placed: slot < slotcap */
    return rc;
}

double sw_world_space_heading(const sw_world *w, sw_id id) {
    uint32_t slot;
    return sw__slot_of(w, id, &slot) && slot < w->slotcap ? sw__world_heading(w, slot) : 0.0;
}

void sw_world_space_delta(const sw_world *w, double x1, double y1, double x2, double y2,
                          double *dx, double *dy) {
    double ddx = x2 - x1, ddy = y2 - y1;
    if (w->d.topology == SW_TOPO_TORUS) {
        double W = w->d.width, H = w->d.height;
        if (ddx > W / 2) ddx -= W; else if (ddx < -W / 2) ddx += W;
        if (ddy > H / 2) ddy -= H; else if (ddy < -H / 2) ddy += H;
    }
    *dx = ddx;
    *dy = ddy;
}

uint32_t sw_world_space_count(const sw_world *w) { return w->nspace; }
