/* world.c - the grid, the continuous space, layers and keyed channels.
 *
 * The grid index is intrusive doubly linked lists through per-slot arrays;
 * the continuous-space index is an array per bucket of positions and slots
 * (what a near-query reads, contiguous). Both keep their agents in arrival
 * order, so iteration order never depends on an address. The scheduler's
 * spawn and death hooks keep the indexes exact whoever spawns or kills. */
#include "world_int.h"
#include "rng.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void errf(sw_world *w, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->errmsg, sizeof w->errmsg, fmt, ap);
    va_end(ap);
}

/* sw_world_desc_of (world.h) reads the description at the start of a world */
_Static_assert(offsetof(struct sw_world, d) == 0, "a world must begin with its description");

const char *sw_world_errmsg(const sw_world *w) { return w ? w->errmsg : "no world"; }

static void *grow(void *p, size_t n, size_t size) {
    return realloc(p, n * size);
}

int sw__world_reserve(sw_world *w, uint32_t slots) {
    if (slots <= w->slotcap) return SW_OK;
    uint32_t cap = w->slotcap ? w->slotcap : 1024;
    while (cap < slots) cap = cap > UINT32_MAX / 2 ? slots : cap * 2;
    /* node numbers are int32 (the cells' are negative): the agents' too */
    if (cap > (uint32_t)INT32_MAX) cap = slots;
    if (slots > (uint32_t)INT32_MAX) {
        errf(w, "too many agents for the grid (%u)", slots);
        return SW_E_NOMEM;
    }
    /* the cells' list nodes, then the agents', in one block */
    sw__gslot *base = w->g ? w->g - w->ncells : NULL;
    sw__gslot *g = grow(base, (size_t)w->ncells + cap, sizeof *g);
    if (g) w->g = g + w->ncells;
    double *hd = grow(w->heading, cap, sizeof *hd);
    if (hd) w->heading = hd;
    /* directions only once somebody gives one (sw_world_space_set_direction) */
    double *hx = w->hdx ? grow(w->hdx, cap, sizeof *hx) : NULL;
    if (hx) w->hdx = hx;
    double *hy = w->hdy ? grow(w->hdy, cap, sizeof *hy) : NULL;
    if (hy) w->hdy = hy;
    uint32_t *sb = grow(w->sbucket, cap, sizeof *sb);
    if (sb) w->sbucket = sb;
    uint32_t *si = grow(w->sindex, cap, sizeof *si);
    if (si) w->sindex = si;
    sw_chan *mb = grow(w->mailbox, cap, sizeof *mb);
    if (mb) w->mailbox = mb;
    if (!g || !hd || (w->hdx && !hx) || (w->hdy && !hy) || !sb || !si || !mb) {
        errf(w, "out of memory for %u agents", slots);
        return SW_E_NOMEM;
    }
    for (uint32_t i = w->slotcap; i < cap; i++) {
        w->g[i] = (sw__gslot){SW__NIL, 0, 0, SW__NIL, SW__NIL};
        w->heading[i] = 0;
        w->sbucket[i] = w->sindex[i] = SW__NIL;
        w->mailbox[i] = SW_CHAN_NONE;
    }
    for (uint32_t i = w->slotcap; w->hdx && i < cap; i++) w->hdx[i] = w->hdy[i] = NAN;
    w->slotcap = cap;
    return SW_OK;
}

void sw__world_clear_cells(sw_world *w) {
    for (uint32_t c = 0; c < w->ncells; c++) {
        uint32_t id = sw__cell_id(w, c);
        *sw__node(w, id) = (sw__gslot){0, 0, 0, id, id};
    }
    w->occupied = 0;
}

/* The per-slot arrays cover `slot` (the spawn hook has made them, so the
 * call is the rare case). */
static inline int reserve_slot(sw_world *w, uint32_t slot) {
    return __builtin_expect(slot < w->slotcap, 1) ? SW_OK : sw__world_reserve(w, slot + 1);
}

/* ---- grid lists ------------------------------------------------------------- */

/* Take `slot` out of its cell's list, leaving its own fields as they were. */
static inline void cell_detach(sw_world *w, uint32_t slot) {
    const sw__gslot g = w->g[slot];
    sw__node(w, g.prev)->next = g.next;
    sw__node(w, g.next)->prev = g.prev;
    w->occupied -= --sw__node(w, sw__cell_id(w, g.cell))->cell == 0;
}

static inline void cell_unlink(sw_world *w, uint32_t slot) {
    if (w->g[slot].cell == SW__NIL) return;
    cell_detach(w, slot);
    w->g[slot] = (sw__gslot){SW__NIL, 0, 0, SW__NIL, SW__NIL};
}

/* Put `slot` on cell (x, y), taking it off its cell first if it is on one. */
static inline void cell_move(sw_world *w, uint32_t slot, int32_t x, int32_t y, uint16_t kind) {
    if (w->g[slot].cell != SW__NIL) cell_detach(w, slot); /* linking sets all it cleared */
    sw__cell_link(w, slot, (uint32_t)y * w->d.width + (uint32_t)x, kind);
}

/* ---- continuous-space buckets ------------------------------------------------- */

static inline uint32_t bucket_of(const sw_world *w, double x, double y) {
    return sw__world_bucket_of(w, x, y);
}

/* Take `slot` out of its bucket, closing the gap so that the others keep
 * their arrival order (a bucket holds about as many agents as a query near
 * it reads, so the shift costs no more than one query). */
static inline void space_unlink(sw_world *w, uint32_t slot) {
    uint32_t b = w->sbucket[slot];
    if (b == SW__NIL) return;
    sw__sbucket *bk = &w->buckets[b];
    for (uint32_t i = w->sindex[slot] + 1; i < bk->n; i++) {
        bk->p[i - 1] = bk->p[i];
        w->sindex[bk->p[i].slot] = i - 1;
    }
    bk->n--;
    w->sbucket[slot] = w->sindex[slot] = SW__NIL;
    w->nspace--;
}

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

/* Give bucket `b` room for one more agent (storage on first use, recorded
 * so that freeing the world finds it without visiting every bucket). */
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
    if (bk->cap > UINT32_MAX / 2) return SW_E_NOMEM;
    uint32_t cap = bk->cap ? 2 * bk->cap : 4;
    sw__spoint *p = realloc(bk->p, (size_t)cap * sizeof *p);
    if (!p) return SW_E_NOMEM;
    if (!bk->p) w->bstored[w->nbstored++] = b;
    bk->p = p;
    bk->cap = cap;
    return SW_OK;
}

int sw__world_space_append(sw_world *w, uint32_t slot, uint32_t b, double x, double y) {
    if (__builtin_expect(w->buckets[b].n == w->buckets[b].cap, 0) && bucket_grow(w, b) != SW_OK) {
        errf(w, "out of memory for a space bucket");
        return SW_E_NOMEM;
    }
    sw__sbucket *bk = &w->buckets[b];
    bk->p[bk->n] = (sw__spoint){x, y, slot, 0};
    w->sbucket[slot] = b;
    w->sindex[slot] = bk->n++;
    w->nspace++;
    return SW_OK;
}

static inline int space_link(sw_world *w, uint32_t slot, double x, double y) {
    return sw__world_space_append(w, slot, bucket_of(w, x, y), x, y);
}

void sw__world_space_clear(sw_world *w) {
    for (uint32_t i = 0; i < w->nbstored; i++) w->buckets[w->bstored[i]].n = 0;
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

/* ---- hooks ---------------------------------------------------------------------- */

static void on_spawn(sw_sched *s, sw_id id, void *ud) {
    sw_world *w = ud;
    uint32_t slot = sw_handle_slot(id);
    (void)s;
    int pending = w->pending;
    w->pending = 0;
    if (reserve_slot(w, slot) != SW_OK) return;
    if (pending == 1) cell_move(w, slot, w->px, w->py, s->tasks[slot].kind);
    else if (pending == 2) (void)space_link(w, slot, w->pfx, w->pfy); /* no memory: unplaced */
    w->heading[slot] = 0;
}

static void on_death(sw_sched *s, sw_id id, void *ud) {
    sw_world *w = ud;
    uint32_t slot = sw_handle_slot(id);
    if (slot >= w->slotcap) return;
    /* only the records a world uses: in a grid-only world without mailboxes
       (wolf-sheep, where a death is as common as a birth) a death reads
       none of the per-slot arrays of the space and of mailboxes, each a
       cache miss of its own in a large world */
    cell_unlink(w, slot);
    if (w->nspace) space_unlink(w, slot);
    if (w->any_mailbox && w->mailbox[slot] != SW_CHAN_NONE) {
        sw_chan_free(s, w->mailbox[slot]);
        w->mailbox[slot] = SW_CHAN_NONE;
    }
}

/* ---- lifecycle -------------------------------------------------------------------- */

sw_world *sw_world_new(const sw_world_desc *desc) {
    sw_world_desc d = desc ? *desc : (sw_world_desc){0};
    if (!d.width) d.width = 1;
    if (!d.height) d.height = 1;
    if (!(d.space_cell > 0) || !isfinite(d.space_cell)) d.space_cell = 1.0;
    if (!d.mailbox_capacity) d.mailbox_capacity = 64;
    if ((uint64_t)d.width * d.height > INT32_MAX) return NULL; /* see sw__gslot */
    sw_world *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->d = d;
    w->ncells = d.width * d.height;
    w->s = sw_sched_new(&(sw_sched_desc){.seed = d.seed, .watchdog = d.watchdog,
                                         .random_order = d.random_order, .context = w});
    /* a tiny bucket size would make more buckets than memory: cap them at
       2^26 by widening the buckets (queries stay exact, only slower) */
    while (ceil(d.width / d.space_cell) * ceil(d.height / d.space_cell) > (double)(1 << 26))
        d.space_cell *= 2;
    w->d.space_cell = d.space_cell;
    w->bsize = d.space_cell;
    w->binv = 1.0 / d.space_cell;
    w->bw = (uint32_t)ceil(d.width / d.space_cell);
    w->bh = (uint32_t)ceil(d.height / d.space_cell);
    if (w->bw < 1) w->bw = 1;
    if (w->bh < 1) w->bh = 1;
    w->buckets = calloc((size_t)w->bw * w->bh, sizeof *w->buckets);
    if (!w->s || !w->buckets || sw__world_reserve(w, 1024) != SW_OK) {
        sw_world_free(w);
        return NULL;
    }
    sw__world_clear_cells(w);
    sw_sched_on_spawn(w->s, on_spawn, w);
    sw_sched_on_death(w->s, on_death, w);
    return w;
}

void sw_world_free(sw_world *w) {
    if (!w) return;
    sw_sched_free(w->s);
    if (w->g) free(w->g - w->ncells);
    free(w->heading); free(w->hdx); free(w->hdy);
    free(w->sbucket); free(w->sindex); free(w->mailbox);
    free(w->cell_chan);
    for (uint32_t i = 0; w->buckets && i < w->nbstored; i++) free(w->buckets[w->bstored[i]].p);
    free(w->buckets); free(w->bstored);
    for (int i = 0; i < w->nlayers; i++) {
        free(w->layers[i].name);
        free(w->layers[i].data);
    }
    free(w->layers);
    for (int i = 0; i < w->nnamed; i++) free(w->named[i].name);
    free(w->named);
    free(w);
}

sw_sched *sw_world_sched(const sw_world *w) { return w->s; }
sw_world *sw_world_of(const sw_tasklet *t) { return sw_context(t); }
sw_world *sw_world_of_sched(const sw_sched *s) { return sw_sched_context(s); }
uint32_t sw_world_width(const sw_world *w) { return w->d.width; }
uint32_t sw_world_height(const sw_world *w) { return w->d.height; }
sw_topology sw_world_topology(const sw_world *w) { return w->d.topology; }
sw_tick sw_world_now(const sw_world *w) { return sw_sched_now(w->s); }
int sw_world_step(sw_world *w) { return sw_sched_step(w->s); }

/* ---- cells ------------------------------------------------------------------------- */

static int32_t wrap1(int64_t v, uint32_t n) {
    if ((uint64_t)v < n) return (int32_t)v; /* already on the torus: no division */
    int64_t m = v % (int64_t)n;
    return (int32_t)(m < 0 ? m + n : m);
}

/* sw_world_wrap, inline for the hot paths of this file. (Width and height
 * are at most INT32_MAX, so the unsigned compare also rejects negatives.) */
static inline bool cell_wrap(const sw_world *w, int32_t *x, int32_t *y) {
    if (w->d.topology == SW_TOPO_TORUS) {
        *x = wrap1(*x, w->d.width);
        *y = wrap1(*y, w->d.height);
        return true;
    }
    return (uint32_t)*x < w->d.width && (uint32_t)*y < w->d.height;
}

bool sw_world_wrap(const sw_world *w, int32_t *x, int32_t *y) { return cell_wrap(w, x, y); }

/* The offsets along one axis of length n that a neighbourhood of `radius`
 * around coordinate c visits, as [*lo, *hi]. On a torus narrower than the
 * neighbourhood, each cell is visited once, at its minimum-image offset (so a
 * tiny torus never lists a cell twice, nor the centre as its own neighbour);
 * on a bounded grid the range is clipped to the grid, so a huge radius costs
 * no more than the grid. */
static void offset_range(const sw_world *w, int64_t c, int radius, uint32_t n, int64_t *lo,
                         int64_t *hi) {
    if (w->d.topology == SW_TOPO_TORUS) {
        if (2 * (int64_t)radius + 1 >= n) {
            *lo = -(int64_t)((n - 1) / 2);
            *hi = (int64_t)(n / 2);
        } else {
            *lo = -radius;
            *hi = radius;
        }
        return;
    }
    *lo = -radius > -c ? -radius : -c;
    *hi = radius < (int64_t)n - 1 - c ? radius : (int64_t)n - 1 - c;
}

/* Calls visit(cx, cy) for each cell of the neighbourhood, in row-major order
 * of offsets. The loops are shared by the two functions below. */
#define SW__FOR_NEIGHBOURS(w, x, y, nb, radius, include_center, BODY)                          \
    do {                                                                                      \
        int64_t lox_, hix_, loy_, hiy_;                                                       \
        offset_range(w, x, radius, (w)->d.width, &lox_, &hix_);                              \
        offset_range(w, y, radius, (w)->d.height, &loy_, &hiy_);                             \
        for (int64_t dy_ = loy_; dy_ <= hiy_; dy_++) {                                        \
            for (int64_t dx_ = lox_; dx_ <= hix_; dx_++) {                                    \
                if (dx_ == 0 && dy_ == 0 && !(include_center)) continue;                      \
                if ((nb) == SW_VON_NEUMANN && llabs(dx_) + llabs(dy_) > (radius)) continue;   \
                int32_t cx = (int32_t)(((x) + dx_) % (int64_t)(w)->d.width);                  \
                int32_t cy = (int32_t)(((y) + dy_) % (int64_t)(w)->d.height);                 \
                if (!cell_wrap(w, &cx, &cy)) continue;                                        \
                BODY                                                                          \
            }                                                                                 \
        }                                                                                     \
    } while (0)

uint32_t sw_world_cells_around(const sw_world *w, int32_t x, int32_t y, sw_neighborhood nb,
                               int radius, int32_t *xy, uint32_t cap) {
    uint32_t n = 0;
    if (radius < 0 || !cell_wrap(w, &x, &y)) return 0;
    SW__FOR_NEIGHBOURS(w, x, y, nb, radius, false, {
        if (n < cap) {
            xy[2 * n] = cx;
            xy[2 * n + 1] = cy;
        }
        n++;
    });
    return n;
}

/* ---- agents on the grid --------------------------------------------------------------- */

/* The slot of a live agent (sw_sched_alive, inline). */
static inline bool slot_of(const sw_world *w, sw_id id, uint32_t *slot) {
    if (!sw__task_get(w->s, id)) return false;
    *slot = sw_handle_slot(id);
    return true;
}

int sw_world_place(sw_world *w, sw_id id, int32_t x, int32_t y) {
    uint32_t slot;
    if (!slot_of(w, id, &slot)) return SW_E_STALE;
    if (!cell_wrap(w, &x, &y)) return SW_E_INVALID;
    if (reserve_slot(w, slot) != SW_OK) return SW_E_NOMEM;
    cell_move(w, slot, x, y, w->s->tasks[slot].kind);
    return SW_OK;
}

int sw_move_to(sw_tasklet *t, int32_t x, int32_t y) {
    sw_world *w = sw_world_of(t);
    uint32_t slot = t->slot;
    if (__builtin_expect(t->task->state == SW_TASK_ZOMBIE, 0)) return SW_E_STALE;
    if (!cell_wrap(w, &x, &y)) return SW_E_INVALID;
    if (reserve_slot(w, slot) != SW_OK) return SW_E_NOMEM;
    cell_move(w, slot, x, y, t->task->kind);
    return SW_OK;
}

int sw_world_unplace(sw_world *w, sw_id id) {
    uint32_t slot;
    if (!slot_of(w, id, &slot)) return SW_E_STALE;
    if (slot < w->slotcap) cell_unlink(w, slot);
    return SW_OK;
}

bool sw_world_cell_of(const sw_world *w, sw_id id, int32_t *x, int32_t *y) {
    uint32_t slot;
    if (!slot_of(w, id, &slot) || slot >= w->slotcap || w->g[slot].cell == SW__NIL) return false;
    if (x) *x = (int32_t)(w->g[slot].cell % w->d.width);
    if (y) *y = (int32_t)(w->g[slot].cell / w->d.width);
    return true;
}

uint32_t sw_world_count_at(const sw_world *w, int32_t x, int32_t y) {
    if (!cell_wrap(w, &x, &y)) return 0;
    return sw__cell_count(w, sw_world_cell_index(w, x, y));
}

/* The scheduler's index of `kind`, for comparing with a tasklet's: -1 for
 * any kind (NULL), -2 for a kind never registered (no agent is of it). */
static inline int kind_filter(const sw_world *w, const sw_kind *kind) {
    if (!kind) return -1;
    int ki = sw_sched_kind_index(w->s, kind);
    return ki >= 0 ? ki : -2;
}

/* The id of the agent in `slot` if it is alive and of kind `ki` (as
 * kind_filter gives it), else SW_ID_NONE (sw_sched_id_at and
 * sw_sched_kind_of, inline). */
static inline sw_id id_of_kind(const sw_sched *s, uint32_t slot, int ki) {
    const struct sw__task *k = &s->tasks[slot];
    if (k->state == SW_TASK_FREE || k->state == SW_TASK_ZOMBIE) return SW_ID_NONE;
    if (ki != -1 && k->kind != ki) return SW_ID_NONE;
    return sw_handle_make(slot, k->gen);
}

/* Cell c's agents of kind `ki` (see kind_filter) appended to out[n..cap),
 * returning the new n. Only the agents written are looked up in the tasklet
 * table: the nodes know their kinds, so counting reads the cell's list alone.
 * (Lists hold live agents only: the death hook takes the dead off.) */
static uint32_t list_cell(const sw_world *w, uint32_t c, int ki, sw_id *out, uint32_t cap,
                          uint32_t n) {
    if (ki == -2) return n;
    for (uint32_t slot = sw__cell_first(w, c), end = sw__cell_id(w, c); slot != end;
         slot = w->g[slot].next) {
        if (ki != -1 && w->g[slot].kind != ki) continue;
        if (n < cap) out[n] = id_of_kind(w->s, slot, -1);
        n++;
    }
    return n;
}

uint32_t sw_world_agents_at(const sw_world *w, int32_t x, int32_t y, const sw_kind *kind,
                            sw_id *out, uint32_t cap) {
    if (!cell_wrap(w, &x, &y)) return 0;
    return list_cell(w, sw_world_cell_index(w, x, y), kind_filter(w, kind), out, cap, 0);
}

sw_id sw_world_agent_at(const sw_world *w, int32_t x, int32_t y, const sw_kind *kind,
                        uint32_t i) {
    int ki = kind_filter(w, kind);
    if (ki == -2 || !cell_wrap(w, &x, &y)) return SW_ID_NONE;
    uint32_t c = sw_world_cell_index(w, x, y);
    for (uint32_t slot = sw__cell_first(w, c), end = sw__cell_id(w, c); slot != end;
         slot = w->g[slot].next) {
        if (ki != -1 && w->g[slot].kind != ki) continue;
        if (i-- == 0) return id_of_kind(w->s, slot, -1);
    }
    return SW_ID_NONE;
}

uint32_t sw_world_agents_around(const sw_world *w, int32_t x, int32_t y, sw_neighborhood nb,
                                int radius, bool include_center, const sw_kind *kind,
                                sw_id *out, uint32_t cap) {
    uint32_t n = 0;
    if (radius < 0 || !cell_wrap(w, &x, &y)) return 0;
    int ki = kind_filter(w, kind);
    SW__FOR_NEIGHBOURS(w, x, y, nb, radius, include_center, {
        n = list_cell(w, sw_world_cell_index(w, cx, cy), ki, out, cap, n);
    });
    return n;
}

uint32_t sw_world_occupied_cells(const sw_world *w) { return w->occupied; }

bool sw_world_random_empty_cell(sw_world *w, sw_tasklet *t, int32_t *x, int32_t *y) {
    uint32_t empty = w->ncells - w->occupied;
    if (empty == 0) return false;
    uint64_t key = sw_rng_key(w->d.seed, 0xe3b7ce11ULL);
    /* rejection sampling is uniform and fast while empty cells are common;
       a rank scan is the exact fallback when they are rare */
    for (int tries = 0; tries < 64; tries++) {
        uint64_t r = t ? sw_rand_u64(t) : sw_rng_at(key, w->rng_ctr++);
        uint32_t c = (uint32_t)(((__uint128_t)r * w->ncells) >> 64);
        if (sw__cell_count(w, c) == 0) {
            *x = (int32_t)(c % w->d.width);
            *y = (int32_t)(c / w->d.width);
            return true;
        }
    }
    uint64_t r = t ? sw_rand_u64(t) : sw_rng_at(key, w->rng_ctr++);
    uint32_t k = (uint32_t)(((__uint128_t)r * empty) >> 64);
    for (uint32_t c = 0; c < w->ncells; c++) {
        if (sw__cell_count(w, c) != 0) continue;
        if (k-- == 0) {
            *x = (int32_t)(c % w->d.width);
            *y = (int32_t)(c / w->d.width);
            return true;
        }
    }
    return false;
}

/* ---- continuous space ------------------------------------------------------------------- */

static bool space_wrap_slow(const sw_world *w, double *x, double *y) {
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

/* Wrap a point into a periodic space; false if it is outside a bounded one
 * or not finite. A point already inside (the usual case) is left as it is,
 * which is what fmod would do with it, without the fmod. */
static inline bool space_wrap(const sw_world *w, double *x, double *y) {
    if (*x >= 0 && *y >= 0 && *x < (double)w->d.width && *y < (double)w->d.height) return true;
    return space_wrap_slow(w, x, y);
}

/* Put `slot` (a live agent) at (x, y), or move it there. */
static inline int space_place(sw_world *w, uint32_t slot, double x, double y) {
    if (!space_wrap(w, &x, &y)) return SW_E_INVALID;
    if (reserve_slot(w, slot) != SW_OK) return SW_E_NOMEM;
    uint32_t b = bucket_of(w, x, y);
    if (w->sbucket[slot] == b) { /* same bucket: keep its place in the order */
        sw__spoint *p = &w->buckets[b].p[w->sindex[slot]];
        p->x = x;
        p->y = y;
        return SW_OK;
    }
    space_unlink(w, slot);
    return sw__world_space_append(w, slot, b, x, y);
}

int sw_world_space_place(sw_world *w, sw_id id, double x, double y) {
    uint32_t slot;
    if (!slot_of(w, id, &slot)) return SW_E_STALE;
    return space_place(w, slot, x, y);
}

int sw_world_space_unplace(sw_world *w, sw_id id) {
    uint32_t slot;
    if (!slot_of(w, id, &slot)) return SW_E_STALE;
    if (slot < w->slotcap) space_unlink(w, slot);
    return SW_OK;
}

bool sw_world_space_pos(const sw_world *w, sw_id id, double *x, double *y) {
    uint32_t slot;
    if (!slot_of(w, id, &slot) || slot >= w->slotcap || w->sbucket[slot] == SW__NIL) return false;
    const sw__spoint *p = &w->buckets[w->sbucket[slot]].p[w->sindex[slot]];
    if (x) *x = p->x;
    if (y) *y = p->y;
    return true;
}

double sw__world_heading(const sw_world *w, uint32_t slot) {
    double h = w->heading[slot];
    return isnan(h) && w->hdx ? atan2(w->hdy[slot], w->hdx[slot]) : h;
}

void sw__world_set_heading(sw_world *w, uint32_t slot, double heading) {
    w->heading[slot] = heading;
    if (isnan(heading) && w->hdx) w->hdx[slot] = w->hdy[slot] = NAN; /* read back as NaN */
}

void sw_world_space_set_heading(sw_world *w, sw_id id, double heading) {
    uint32_t slot;
    if (slot_of(w, id, &slot) && slot < w->slotcap) sw__world_set_heading(w, slot, heading);
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

/* Give `slot` (< slotcap) the direction (dx, dy) as its heading. */
static inline void direction_set(sw_world *w, uint32_t slot, double dx, double dy) {
    if (!w->hdx && !directions_make(w)) { /* out of memory: the heading now */
        w->heading[slot] = atan2(dy, dx);
        return;
    }
    w->heading[slot] = NAN; /* marks the direction as the heading to work out */
    w->hdx[slot] = dx;
    w->hdy[slot] = dy;
}

void sw_world_space_set_direction(sw_world *w, sw_id id, double dx, double dy) {
    uint32_t slot;
    if (slot_of(w, id, &slot) && slot < w->slotcap) direction_set(w, slot, dx, dy);
}

int sw_space_move_to(sw_tasklet *t, double x, double y, double dx, double dy) {
    sw_world *w = sw_world_of(t);
    if (__builtin_expect(t->task->state == SW_TASK_ZOMBIE, 0)) return SW_E_STALE;
    int rc = space_place(w, t->slot, x, y);
    if (rc == SW_OK) direction_set(w, t->slot, dx, dy); /* placed: slot < slotcap */
    return rc;
}

double sw_world_space_heading(const sw_world *w, sw_id id) {
    uint32_t slot;
    return slot_of(w, id, &slot) && slot < w->slotcap ? sw__world_heading(w, slot) : 0.0;
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

/* The bucket of coordinate v >= 0 along an axis of nb buckets: floor(v / bs)
 * by a multiplication with inv = 1 / bs, clamped (truncating is flooring
 * here, and needs no call). The product can round to the other side of a
 * bucket edge than the quotient sw__world_bucket_of places points by, so
 * callers widen the interval they look up by space_slack (below). */
static inline uint32_t bucket_at(double v, double inv, uint32_t nb) {
    double q = v * inv;
    return q >= nb ? nb - 1 : (uint32_t)q;
}

/* The widening of every interval a query looks up, far above the rounding
 * of a product, a quotient or a distance test over a space this size (about
 * 1e-16 of it) and far below anything that changes which buckets are read
 * in practice. Only widening: a query may read a bucket more, never one
 * less, and the agents it finds are those of the distance test alone. */
static inline double space_slack(const sw_world *w, double r) {
    return 1e-9 * ((double)w->d.width + (double)w->d.height + r);
}

/* The buckets along one axis that can hold points within r (already widened
 * by the slack) of coordinate c: up to two ranges [a[i], b[i]], ascending.
 * On a torus the query interval is wrapped in coordinates, not in bucket
 * numbers: the last bucket may be narrower than the others, so counting
 * buckets across the seam would miss points. Returns how many ranges. *seam
 * is set when a point found may lie across the seam, so that its offset
 * needs the minimum image: the points of buckets [a, b] lie within r + bs
 * (plus rounding) of c, which is nearer than half the extent when r + 2 bs
 * is. */
static inline int bucket_ranges(double c, double r, double extent, double bs, double inv,
                                uint32_t nb, bool torus, uint32_t a[2], uint32_t b[2],
                                bool *seam) {
    double lo = c - r, hi = c + r;
    *seam = torus;
    if (torus) {
        if (2 * r >= extent) {
            a[0] = 0;
            b[0] = nb - 1;
            return 1;
        }
        if (lo >= 0 && hi < extent) { /* the usual case: not across the seam */
            a[0] = bucket_at(lo, inv, nb);
            b[0] = bucket_at(hi, inv, nb);
            *seam = !(r + 2 * bs < extent / 2);
            return 1;
        }
        /* across the seam: [0, hi'] and [lo', extent], merged when they meet */
        double p0 = lo < 0 ? hi : hi - extent, p1 = lo < 0 ? lo + extent : lo;
        a[0] = 0;
        b[0] = p0 < 0 ? 0 : bucket_at(p0, inv, nb);
        uint32_t a1 = p1 < 0 ? 0 : bucket_at(p1, inv, nb), b1 = nb - 1;
        if (a1 <= b[0] + 1) { /* overlapping or touching: merge */
            if (b1 > b[0]) b[0] = b1;
            return 1;
        }
        a[1] = a1;
        b[1] = b1;
        return 2;
    }
    if (hi < 0 || lo >= extent) return 0;
    a[0] = bucket_at(lo < 0 ? 0 : lo, inv, nb);
    b[0] = bucket_at(hi >= extent ? extent : hi, inv, nb);
    return 1;
}

/* What one near-query carries through its scan. */
typedef struct space_query {
    double x, y, r2;
    double W, H, hw, hh; /* the minimum image exactly as sw_world_space_delta takes it */
    int ki;              /* kind filter for hits (see kind_filter) */
    sw_id *ids;          /* ids out, or NULL: hits out */
    sw_space_hit *hits;
    uint32_t cap, n;
    /* sums instead of a list (sw_world_space_near_sums) */
    sw_space_sums *sums;
    double rin2;
    uint32_t skip; /* a slot never folded in (SW__NIL: none) */
    size_t pair;
    uint32_t nfound;  /* slots found whose pair is still to be added */
    uint32_t *found;  /* SPACE_FOUND of them */
} space_query;

#define SPACE_FOUND 256

enum { SCAN_HITS, SCAN_IDS, SCAN_SUMS }; /* what a query makes of the agents it finds */

/* Add the pairs of the agents in q->found to the sums, in the order found
 * (their frames are read here, together, rather than one per candidate
 * between the distance tests). */
static void sums_flush(const sw_world *w, space_query *q) {
    const struct sw__task *tasks = w->s->tasks;
    double vx = q->sums->vx, vy = q->sums->vy;
    for (uint32_t i = 0; i < q->nfound; i++) {
        if (q->found[i] == q->skip) continue; /* found at the point, not wanted */
        const sw__frame *f = tasks[q->found[i]].top;
        while (f->parent) f = f->parent;
        const double *v = (const double *)(const void *)((const char *)(f + 1) + q->pair);
        vx += v[0];
        vy += v[1];
    }
    q->sums->vx = vx;
    q->sums->vy = vy;
    q->nfound = 0;
}

/* Two doubles (an x and a y) worked on together, and the lane masks
 * (all ones or zeros) their comparisons give: GCC's vector extensions, SSE2
 * on x86-64 and NEON on arm64, each lane exactly the scalar operation. */
typedef double v2d __attribute__((vector_size(16)));
typedef int64_t v2m __attribute__((vector_size(16)));

/* v where mask is all ones, +0 where it is zero. */
static inline v2d v2_keep(v2d v, v2m mask) { return (v2d)((v2m)v & mask); }

/* Fold the buckets of rows [ay[j], by[j]] and columns [ax[i], bx[i]] (in
 * the order scan_buckets takes them) into q->sums, for a query without a
 * kind filter whose skipped agent, if any, sits at the query point. No
 * branch on the distance test, which goes either way (a branch would often
 * be mispredicted): an agent outside adds zeros, which leave every sum as it
 * was bit for bit (sums start at +0, and s + 0 == s for every s but -0,
 * which a sum starting at +0 never is), and its slot is written but not
 * counted. The skipped agent is folded in like the others, adding zeros to
 * the sums, and taken back out of the counts after (and of the pairs, by
 * sums_flush). The sums stay in registers for the whole scan. */
static inline __attribute__((always_inline)) void
sum_scan(const sw_world *w, space_query *q, int nx, const uint32_t *ax, const uint32_t *bx,
         int ny, const uint32_t *ay, const uint32_t *by, bool wrap) {
    const v2d at = {q->x, q->y}, ext = {q->W, q->H}, half = {q->hw, q->hh};
    const v2d nhalf = -half;
    const v2d r2 = {q->r2, q->r2}, rin2 = {q->rin2, q->rin2};
    v2d all = {0, 0}, inner = {0, 0};
    v2m count = {0, 0}, count_in = {0, 0}; /* minus the counts (both lanes alike) */
    uint32_t nfound = 0;
    uint32_t *restrict found = q->found; /* written only here: no reloads after each write */
    bool pair = q->pair != SW_SPACE_NO_PAIR;
    const sw__sbucket *buckets = w->buckets;
    const size_t bw = w->bw;
    for (int j = 0; j < ny; j++)
        for (uint32_t cy = ay[j], cy1 = by[j]; cy <= cy1; cy++)
            for (int i = 0; i < nx; i++) {
                const sw__sbucket *b = buckets + cy * bw + ax[i];
                const sw__sbucket *bend = buckets + cy * bw + bx[i] + 1;
                for (; b < bend; b++) {
                    const sw__spoint *p = b->p, *end = p + b->n;
                    for (; p < end; p++) {
                        v2d d = (v2d){p->x, p->y} - at;
                        if (wrap) /* as the branches of sw_world_space_delta, without them */
                            d = d - v2_keep(ext, d > half) + v2_keep(ext, d < nhalf);
                        v2d sq = d * d;
                        /* dx*dx + dy*dy in both lanes (the same sum either way round) */
                        v2d d2 = sq + __builtin_shufflevector(sq, sq, 1, 0);
                        v2m in = (v2m)(d2 <= r2), inside = in & (v2m)(d2 < rin2);
                        all += v2_keep(d, in);
                        inner += v2_keep(d, inside);
                        count += in;
                        count_in += inside;
                        if (pair) {
                            found[nfound] = p->slot;
                            nfound -= (uint32_t)in[0];
                            if (nfound == SPACE_FOUND) {
                                q->nfound = nfound;
                                sums_flush(w, q);
                                nfound = 0;
                            }
                        }
                    }
                }
            }
    sw_space_sums *m = q->sums;
    m->dx = all[0];
    m->dy = all[1];
    m->dx_in = inner[0];
    m->dy_in = inner[1];
    uint32_t n = -(uint32_t)count[0], nin = -(uint32_t)count_in[0];
    bool skipped = q->skip != SW__NIL; /* at the point: within r, and within r_in if r_in > 0 */
    m->n = n - skipped;
    m->n_in = nin - (skipped && q->rin2 > 0);
    q->nfound = nfound;
}

/* Fold one agent found (slot, its offset, its task) into q->sums: the
 * branching fold, for a query with a kind filter. */
static inline __attribute__((always_inline)) void
fold_hit(space_query *q, uint32_t slot, double dx, double dy, double d2,
         const struct sw__task *k) {
    sw_space_sums *m = q->sums;
    if (slot == q->skip) return;
    m->n++;
    m->dx += dx;
    m->dy += dy;
    if (d2 < q->rin2) {
        m->n_in++;
        m->dx_in += dx;
        m->dy_in += dy;
    }
    if (q->pair != SW_SPACE_NO_PAIR) {
        const sw__frame *f = k->top;
        while (f->parent) f = f->parent;
        const double *v = (const double *)(const void *)((const char *)(f + 1) + q->pair);
        m->vx += v[0];
        m->vy += v[1];
    }
}

/* Scan buckets [b, bend) (a run of one row): the agents within r, in
 * bucket then arrival order, written as ids, or (only those of kind `ki`)
 * as hits with offsets and frames or folded into q->sums by fold_hit.
 * Inlined into each case, so that the unused branches disappear. (A bucket
 * holds live agents only: the death hook takes them out.) */
static inline __attribute__((always_inline)) void
scan_run(const sw_world *w, space_query *q, const sw__sbucket *b, const sw__sbucket *bend,
         bool wrap, bool want_ids) {
    const struct sw__task *tasks = w->s->tasks;
    const double x = q->x, y = q->y, r2 = q->r2;
    uint32_t n = q->n;
    for (; b < bend; b++) {
        const sw__spoint *p = b->p, *end = p + b->n;
        for (; p < end; p++) {
            double dx = p->x - x, dy = p->y - y;
            if (wrap) {
                if (dx > q->hw) dx -= q->W; else if (dx < -q->hw) dx += q->W;
                if (dy > q->hh) dy -= q->H; else if (dy < -q->hh) dy += q->H;
            }
            double d2 = dx * dx + dy * dy;
            if (d2 > r2) continue;
            uint32_t slot = p->slot;
            if (want_ids) {
                if (n < q->cap) q->ids[n] = id_of_kind(w->s, slot, -1);
                n++;
                continue;
            }
            const struct sw__task *k = &tasks[slot];
            if (q->ki != -1 && k->kind != q->ki) continue;
            if (q->sums) {
                fold_hit(q, slot, dx, dy, d2, k);
                continue;
            }
            if (n < q->cap) {
                const sw__frame *f = k->top;
                while (f->parent) f = f->parent;
                q->hits[n] = (sw_space_hit){sw_handle_make(slot, k->gen), dx, dy, (void *)(f + 1)};
            }
            n++;
        }
    }
    q->n = n;
}

/* The buckets of rows [ay[j], by[j]] and columns [ax[i], bx[i]], row by row
 * (row-major bucket order), each row's columns as one or two runs. */
static inline __attribute__((always_inline)) void
scan_buckets(const sw_world *w, space_query *q, int nx, const uint32_t *ax, const uint32_t *bx,
             int ny, const uint32_t *ay, const uint32_t *by, bool wrap, bool want_ids) {
    for (int j = 0; j < ny; j++)
        for (uint32_t cy = ay[j]; cy <= by[j]; cy++) {
            const sw__sbucket *row = w->buckets + (size_t)cy * w->bw;
            scan_run(w, q, row + ax[0], row + bx[0] + 1, wrap, want_ids);
            if (nx == 2) scan_run(w, q, row + ax[1], row + bx[1] + 1, wrap, want_ids);
        }
}

/* Whether the agent a sums query skips is nowhere in space (then forgotten)
 * or at the query point (as sum_scan needs it). */
static inline bool skip_at(const sw_world *w, space_query *q) {
    if (q->skip == SW__NIL) return true;
    if (q->skip >= w->slotcap || w->sbucket[q->skip] == SW__NIL) {
        q->skip = SW__NIL;
        return true;
    }
    const sw__spoint *p = &w->buckets[w->sbucket[q->skip]].p[w->sindex[q->skip]];
    return p->x == q->x && p->y == q->y;
}

/* Run query `q` (its output, kind filter and fold settings filled in) for
 * the agents within r of (x, y). */
static inline __attribute__((always_inline)) uint32_t
space_scan(const sw_world *w, space_query *q, double x, double y, double r) {
    if (!(r >= 0) || !isfinite(x) || !isfinite(y) || q->ki == -2) return 0;
    bool torus = w->d.topology == SW_TOPO_TORUS, seamx, seamy;
    if (torus && !space_wrap(w, &x, &y)) return 0;
    double re = r + space_slack(w, r);
    uint32_t ax[2], bx[2], ay[2], by[2];
    int nx = bucket_ranges(x, re, w->d.width, w->bsize, w->binv, w->bw, torus, ax, bx, &seamx);
    int ny = bucket_ranges(y, re, w->d.height, w->bsize, w->binv, w->bh, torus, ay, by, &seamy);
    if (nx == 0 || ny == 0) return 0;
    q->x = x;
    q->y = y;
    q->r2 = r * r;
    q->W = w->d.width;
    q->H = w->d.height;
    q->hw = q->W / 2;
    q->hh = q->H / 2;
    /* each case its own copy of the loops, so that unused branches vanish */
    bool wrap = seamx || seamy;
    int mode = q->ids ? SCAN_IDS : q->sums && q->ki == -1 && skip_at(w, q) ? SCAN_SUMS : SCAN_HITS;
    if (mode == SCAN_IDS && wrap) scan_buckets(w, q, nx, ax, bx, ny, ay, by, true, true);
    else if (mode == SCAN_IDS) scan_buckets(w, q, nx, ax, bx, ny, ay, by, false, true);
    else if (mode == SCAN_SUMS && wrap) sum_scan(w, q, nx, ax, bx, ny, ay, by, true);
    else if (mode == SCAN_SUMS) sum_scan(w, q, nx, ax, bx, ny, ay, by, false);
    else if (wrap) scan_buckets(w, q, nx, ax, bx, ny, ay, by, true, false);
    else scan_buckets(w, q, nx, ax, bx, ny, ay, by, false, false);
    if (q->sums && q->nfound) sums_flush(w, q);
    return q->n;
}

/* The kind filter of a hits query: every live agent of that kind (the
 * usual case, a world of birds) needs no agent found checked. */
static inline int hits_filter(const sw_world *w, const sw_kind *kind) {
    int ki = kind_filter(w, kind);
    return ki >= 0 && w->s->kinds[ki].live == w->s->live ? -1 : ki;
}

uint32_t sw_world_space_near(const sw_world *w, double x, double y, double r, sw_id *out,
                             uint32_t cap) {
    space_query q = {.ki = -1, .ids = out, .cap = cap, .skip = SW__NIL};
    return space_scan(w, &q, x, y, r);
}

uint32_t sw_world_space_near_hits(const sw_world *w, double x, double y, double r,
                                  const sw_kind *kind, sw_space_hit *out, uint32_t cap) {
    space_query q = {.ki = hits_filter(w, kind), .hits = out, .cap = cap, .skip = SW__NIL};
    return space_scan(w, &q, x, y, r);
}

uint32_t sw_world_space_near_sums(const sw_world *w, double x, double y, double r, double r_in,
                                  const sw_kind *kind, sw_id skip, size_t pair,
                                  sw_space_sums *sums) {
    *sums = (sw_space_sums){0};
    uint32_t found[SPACE_FOUND];
    space_query q = {.ki = hits_filter(w, kind), .sums = sums, .found = found,
                     .rin2 = r_in > 0 ? r_in * r_in : 0, .pair = pair,
                     .skip = sw_sched_alive(w->s, skip) ? sw_handle_slot(skip) : SW__NIL};
    space_scan(w, &q, x, y, r);
    return sums->n;
}

uint32_t sw_space_near_sums(sw_tasklet *t, double x, double y, double r, double r_in, size_t pair,
                            sw_space_sums *sums) {
    const sw_world *w = sw_world_of(t);
    *sums = (sw_space_sums){0};
    uint16_t kind = t->task->kind; /* every live agent of its kind: no agent found checked */
    uint32_t found[SPACE_FOUND];
    space_query q = {.ki = w->s->kinds[kind].live == w->s->live ? -1 : kind, .sums = sums,
                     .found = found, .rin2 = r_in > 0 ? r_in * r_in : 0, .pair = pair,
                     .skip = t->task->state == SW_TASK_ZOMBIE ? SW__NIL : t->slot};
    space_scan(w, &q, x, y, r);
    return sums->n;
}

uint32_t sw_world_space_count(const sw_world *w) { return w->nspace; }

/* ---- spawning ----------------------------------------------------------------------------- */

/* Spawn with the placement `pending` (1: the cell px, py; 2: the point
 * pfx, pfy) for the spawn hook to make: from tasklet `t`, or from outside
 * the run when it is NULL. */
static sw_id spawn_placed(sw_world *w, sw_tasklet *t, int pending, const sw_kind *kind,
                          const void *params, sw_tick delay) {
    w->pending = pending;
    sw_id id = t ? sw_spawn(t, kind, params, delay) : sw_sched_spawn(w->s, kind, params, delay);
    w->pending = 0;
    return id;
}

/* sw_world_spawn_at (t NULL: says why it failed) and sw_spawn_at. */
static sw_id spawn_at_cell(sw_world *w, sw_tasklet *t, const sw_kind *kind, const void *params,
                           int32_t x, int32_t y, sw_tick delay) {
    if (!cell_wrap(w, &x, &y)) {
        if (!t) errf(w, "cell (%d, %d) is outside the %ux%u world", x, y, w->d.width, w->d.height);
        return SW_ID_NONE;
    }
    w->px = x;
    w->py = y;
    return spawn_placed(w, t, 1, kind, params, delay);
}

/* sw_world_spawn_at_point (t NULL: says why it failed) and sw_spawn_at_point. */
static sw_id spawn_at_point(sw_world *w, sw_tasklet *t, const sw_kind *kind, const void *params,
                            double x, double y, sw_tick delay) {
    if (!space_wrap(w, &x, &y)) {
        if (!t) errf(w, "point (%g, %g) is outside the %ux%u space", x, y, w->d.width, w->d.height);
        return SW_ID_NONE;
    }
    w->pfx = x;
    w->pfy = y;
    return spawn_placed(w, t, 2, kind, params, delay);
}

sw_id sw_world_spawn_at(sw_world *w, const sw_kind *kind, const void *params, int32_t x,
                        int32_t y, sw_tick delay) {
    return spawn_at_cell(w, NULL, kind, params, x, y, delay);
}

sw_id sw_spawn_at(sw_tasklet *t, const sw_kind *kind, const void *params, int32_t x, int32_t y,
                  sw_tick delay) {
    return spawn_at_cell(sw_world_of(t), t, kind, params, x, y, delay);
}

sw_id sw_world_spawn_at_point(sw_world *w, const sw_kind *kind, const void *params, double x,
                              double y, sw_tick delay) {
    return spawn_at_point(w, NULL, kind, params, x, y, delay);
}

sw_id sw_spawn_at_point(sw_tasklet *t, const sw_kind *kind, const void *params, double x,
                        double y, sw_tick delay) {
    return spawn_at_point(sw_world_of(t), t, kind, params, x, y, delay);
}

int64_t sw_world_populate(sw_world *w, const sw_kind *kind, const void *params, uint64_t count,
                          sw_place place, double density, uint64_t stream) {
    uint64_t key = sw_rng_key(w->d.seed, 0x9091a7e000000000ULL ^ stream), ctr = 0;
#define DRAW_BELOW(n) ((uint64_t)(((__uint128_t)sw_rng_at(key, ctr++) * (n)) >> 64))
    int64_t made = 0;
    switch (place) {
    case SW_PLACE_NONE:
        for (uint64_t i = 0; i < count; i++, made++)
            if (!sw_sched_spawn(w->s, kind, params, 0)) return SW_E_NOMEM;
        return made;
    case SW_PLACE_CELL:
        for (uint64_t i = 0; i < count; i++, made++) {
            int32_t x = (int32_t)DRAW_BELOW(w->d.width), y = (int32_t)DRAW_BELOW(w->d.height);
            if (!sw_world_spawn_at(w, kind, params, x, y, 0)) return SW_E_NOMEM;
        }
        return made;
    case SW_PLACE_CELL_UNIQUE: {
        uint64_t free_cells = w->ncells - w->occupied;
        if (count == 0) return 0; /* nothing to place, even on a full grid */
        if (count > free_cells) {
            errf(w, "%llu %s agents need distinct cells but only %llu of %u cells are free",
                 (unsigned long long)count, kind->name, (unsigned long long)free_cells, w->ncells);
            return SW_E_FULL;
        }
        /* a partial Fisher-Yates over the free cells: uniform, no retries */
        uint32_t *cells = malloc((size_t)free_cells * sizeof *cells);
        if (!cells) return SW_E_NOMEM;
        uint32_t nf = 0;
        for (uint32_t c = 0; c < w->ncells; c++)
            if (sw__cell_count(w, c) == 0) cells[nf++] = c;
        for (uint64_t i = 0; i < count; i++, made++) {
            uint32_t j = (uint32_t)(i + DRAW_BELOW(nf - i));
            uint32_t c = cells[j];
            cells[j] = cells[i];
            cells[i] = c;
            if (!sw_world_spawn_at(w, kind, params, (int32_t)(c % w->d.width),
                                   (int32_t)(c / w->d.width), 0)) {
                free(cells);
                return SW_E_NOMEM;
            }
        }
        free(cells);
        return made;
    }
    case SW_PLACE_EVERY_CELL:
        for (uint32_t c = 0; c < w->ncells; c++) {
            if (sw_rng_unit(sw_rng_at(key, ctr++)) >= density) continue;
            if (!sw_world_spawn_at(w, kind, params, (int32_t)(c % w->d.width),
                                   (int32_t)(c / w->d.width), 0))
                return SW_E_NOMEM;
            made++;
        }
        return made;
    case SW_PLACE_POINT:
        for (uint64_t i = 0; i < count; i++, made++) {
            double x = sw_rng_unit(sw_rng_at(key, ctr++)) * w->d.width;
            double y = sw_rng_unit(sw_rng_at(key, ctr++)) * w->d.height;
            if (!sw_world_spawn_at_point(w, kind, params, x, y, 0)) return SW_E_NOMEM;
        }
        return made;
    }
#undef DRAW_BELOW
    return SW_E_INVALID;
}

/* ---- layers ------------------------------------------------------------------------------- */

int sw_world_layer_add(sw_world *w, const char *name, double init) {
    if (!name || sw_world_layer_find(w, name) >= 0) {
        errf(w, "a layer named \"%s\" already exists", name ? name : "(null)");
        return SW_E_INVALID;
    }
    sw__layer *l = realloc(w->layers, (size_t)(w->nlayers + 1) * sizeof *l);
    if (!l) return SW_E_NOMEM;
    w->layers = l;
    double *data = malloc((size_t)w->ncells * sizeof *data);
    char *nm = strdup(name);
    if (!data || !nm) {
        free(data);
        free(nm);
        return SW_E_NOMEM;
    }
    for (uint32_t i = 0; i < w->ncells; i++) data[i] = init;
    w->layers[w->nlayers] = (sw__layer){nm, data};
    return w->nlayers++;
}

int sw_world_layer_find(const sw_world *w, const char *name) {
    for (int i = 0; i < w->nlayers; i++)
        if (strcmp(w->layers[i].name, name) == 0) return i;
    return SW_E_NOTFOUND;
}

int sw_world_layer_count(const sw_world *w) { return w->nlayers; }
const char *sw_world_layer_name(const sw_world *w, int i) {
    return i >= 0 && i < w->nlayers ? w->layers[i].name : NULL;
}
double *sw_world_layer_data(sw_world *w, int i) {
    return i >= 0 && i < w->nlayers ? w->layers[i].data : NULL;
}

/* ---- channels by key ---------------------------------------------------------------------- */

sw_chan sw_world_cell_chan_peek(const sw_world *w, int32_t x, int32_t y) {
    if (!w->cell_chan || !cell_wrap(w, &x, &y)) return SW_CHAN_NONE;
    return w->cell_chan[sw_world_cell_index(w, x, y)];
}

sw_chan sw_world_cell_chan_at(const sw_world *w, uint32_t cell) {
    return w->cell_chan && cell < w->ncells ? w->cell_chan[cell] : SW_CHAN_NONE;
}

sw_chan sw_world_cell_chan(sw_world *w, int32_t x, int32_t y) {
    if (!cell_wrap(w, &x, &y)) return SW_CHAN_NONE;
    if (!w->cell_chan) {
        w->cell_chan = calloc(w->ncells, sizeof *w->cell_chan);
        if (!w->cell_chan) return SW_CHAN_NONE;
    }
    uint32_t c = sw_world_cell_index(w, x, y);
    if (w->cell_chan[c] == SW_CHAN_NONE)
        w->cell_chan[c] = sw_chan_new(w->s, &(sw_chan_desc){.kind = SW_CHAN_EVENT, .key = c});
    return w->cell_chan[c];
}

sw_chan sw_world_mailbox(sw_world *w, sw_id id) {
    uint32_t slot;
    if (!slot_of(w, id, &slot) || sw__world_reserve(w, slot + 1) != SW_OK) return SW_CHAN_NONE;
    w->any_mailbox = true;
    if (w->mailbox[slot] == SW_CHAN_NONE)
        w->mailbox[slot] = sw_chan_new(w->s, &(sw_chan_desc){.kind = SW_CHAN_BUFFERED,
                                                              .capacity = w->d.mailbox_capacity,
                                                              .key = id});
    return w->mailbox[slot];
}

int sw_world_chan_declare(sw_world *w, const char *name, const sw_chan_desc *desc) {
    if (!name || sw_world_chan(w, name) != SW_CHAN_NONE) {
        errf(w, "a channel named \"%s\" is already declared", name ? name : "(null)");
        return SW_E_INVALID;
    }
    sw__named *nm = realloc(w->named, (size_t)(w->nnamed + 1) * sizeof *nm);
    if (!nm) return SW_E_NOMEM;
    w->named = nm;
    sw_chan ch = sw_chan_new(w->s, desc);
    if (!ch) {
        errf(w, "%s", sw_sched_errmsg(w->s));
        return SW_E_INVALID;
    }
    char *copy = strdup(name);
    if (!copy) {
        sw_chan_free(w->s, ch);
        return SW_E_NOMEM;
    }
    w->named[w->nnamed++] = (sw__named){copy, ch};
    return SW_OK;
}

sw_chan sw_world_chan(const sw_world *w, const char *name) {
    for (int i = 0; i < w->nnamed; i++)
        if (strcmp(w->named[i].name, name) == 0) return w->named[i].ch;
    return SW_CHAN_NONE;
}

int sw_world_chan_count(const sw_world *w) { return w->nnamed; }
const char *sw_world_chan_name(const sw_world *w, int i) {
    return i >= 0 && i < w->nnamed ? w->named[i].name : NULL;
}
sw_chan sw_world_chan_at(const sw_world *w, int i) {
    return i >= 0 && i < w->nnamed ? w->named[i].ch : SW_CHAN_NONE;
}
