/* world.c - the world as a whole: making and freeing it, its per-slot
 * arrays, the scheduler's spawn and death hooks, its plain accessors and its
 * per-cell layers.
 *
 * The spatial indexes themselves live in world_grid.c (the grid's cell
 * lists) and world_space.c (the continuous space's buckets; its queries in
 * world_near.c); channels by key in world_chan.c; placed spawning in
 * world_spawn.c. The scheduler's spawn and death hooks here keep the
 * indexes exact whoever spawns or kills. */
#include "world_int.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sw__world_errf(sw_world *w, const char *fmt, ...) {
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
        sw__world_errf(w, "too many agents for the grid (%u)", slots);
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
        sw__world_errf(w, "out of memory for %u agents", slots);
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

/* ---- hooks ---------------------------------------------------------------------- */

/* The spawn hook's every case (see on_spawn): `pending` as it was read. */
static __attribute__((noinline)) void spawn_place(sw_sched *s, sw_world *w, uint32_t slot, int pending) {
    if (sw__reserve_slot(w, slot) != SW_OK) return;
    /* no direction given yet, before the bucket entry copies it: the slot's
       last agent may have left one -- unless no heading was ever given (only
       sw__world_set_heading and the directions write one), as in wolf-sheep,
       where clearing it was a cache miss per birth */
    if (w->hdx || w->any_angle) w->heading[slot] = 0;
    if (pending == 1) sw__cell_move(w, slot, w->px, w->py, s->tasks[slot].kind);
    else if (pending == 2) (void)sw__space_link(w, slot, w->pfx, w->pfy); /* no memory: unplaced */
}

/* Whether a birth in `slot` is the common one (wolf-sheep: ~1,000 a tick in
 * the large model): a slot the arrays already cover, left on no cell by its
 * last agent's death, in a world without headings. Then placing it on a
 * cell is a link alone, which calls nothing and saves no registers; the
 * rest (which may allocate) goes to spawn_place. The one test for the
 * spawn hook, a spawn onto a cell index and a batch's every agent. */
static inline __attribute__((always_inline)) bool spawn_is_plain_in(const sw_world *w, uint32_t slot,
                                                                    bool no_headings) {
    return __builtin_expect(slot < w->slotcap && no_headings && w->g[slot].cell == SW__NIL, 1);
}
/* The world's part of it, which a batch reads once (placing its agents
 * gives no headings). */
static inline __attribute__((always_inline)) bool spawn_no_headings(const sw_world *w) {
    return !w->hdx && !w->any_angle;
}
static inline __attribute__((always_inline)) bool spawn_is_plain(const sw_world *w, uint32_t slot) {
    return spawn_is_plain_in(w, slot, spawn_no_headings(w));
}

/* What the spawn hook does with a tasklet just made in `slot`: place it as
 * `pending` says (the common birth alone here, see spawn_is_plain). */
static inline __attribute__((always_inline)) void place_spawned(sw_sched *s, sw_world *w, uint32_t slot,
                                                                int pending) {
    if (__builtin_expect(pending != 1, 0) || !spawn_is_plain(w, slot)) {
        spawn_place(s, w, slot, pending);
        return;
    }
    sw__cell_link(w, slot, (uint32_t)w->py * w->d.width + (uint32_t)w->px, s->tasks[slot].kind);
}

static void on_spawn(sw_sched *s, sw_id id, void *ud) {
    sw_world *w = ud;
    int pending = w->pending;
    w->pending = 0;
    place_spawned(s, w, sw_handle_slot(id), pending);
}

bool sw__world_spawn_hook_is_ours(const sw_world *w) {
    return w->s->on_spawn == on_spawn && w->s->spawn_ud == w;
}

/* place_spawned with the placement a cell index and the kind index known:
 * the common case links `c` as it is, without a division into (x, y) and
 * the product back (a batch's every agent); only spawn_place's rare cases
 * need the coordinates. */
static inline __attribute__((always_inline)) void spawned_in(sw_world *w, uint32_t slot, uint32_t c,
                                                             uint16_t kind, bool no_headings) {
    if (!spawn_is_plain_in(w, slot, no_headings)) {
        sw__cell_xy(w, c, &w->px, &w->py);
        spawn_place(w->s, w, slot, 1);
        return;
    }
    sw__cell_link(w, slot, c, kind);
}

void sw__world_spawned_in(sw_world *w, uint32_t slot, uint32_t c) {
    spawned_in(w, slot, c, w->s->tasks[slot].kind, spawn_no_headings(w));
}

/* sw__world_spawned_in for each of n agents of kind index `kind`, made in
 * slots[i] for cells[i]: the world's part of the test read once, the kind
 * not read back per agent. */
void sw__world_spawned_all_in(sw_world *w, const uint32_t *slots, const uint32_t *cells, uint64_t n,
                              uint16_t kind) {
    if (spawn_no_headings(w)) /* (the loop apart: not left to the compiler to unswitch) */
        for (uint64_t i = 0; i < n; i++) spawned_in(w, slots[i], cells[i], kind, true);
    else
        for (uint64_t i = 0; i < n; i++) spawned_in(w, slots[i], cells[i], kind, false);
}

/* The death hook's part for a world with continuous-space agents or
 * mailboxes (see on_death). */
static __attribute__((noinline)) void death_space_mail(sw_sched *s, sw_world *w, uint32_t slot) {
    if (w->nspace) sw__space_unlink(w, slot);
    if (w->any_mailbox && w->mailbox[slot] != SW_CHAN_NONE) {
        sw_chan_free(s, w->mailbox[slot]);
        w->mailbox[slot] = SW_CHAN_NONE;
    }
}

static void on_death(sw_sched *s, sw_id id, void *ud) {
    sw_world *w = ud;
    uint32_t slot = sw_handle_slot(id);
    if (slot >= w->slotcap) return;
    /* only the records a world uses: in a grid-only world without mailboxes
       (wolf-sheep, where a death is as common as a birth) a death reads
       none of the per-slot arrays of the space and of mailboxes, each a
       cache miss of its own in a large world; and the hook is then a leaf
       (the rest out of line), which saves and restores no registers: six
       pushes and pops a death before */
    sw__cell_unlink(w, slot);
    if (__builtin_expect(w->nspace || w->any_mailbox, 0)) death_space_mail(s, w, slot);
}

/* ---- lifecycle -------------------------------------------------------------------- */

/* desc.space_read in whole groups of SW__LANES, at most 64 entries (more
 * would only read more padding). */
static uint32_t space_read(uint32_t entries) {
    if (entries > 64) entries = 64;
    return (entries + SW__LANES - 1) / SW__LANES * SW__LANES;
}

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
    w->sread = space_read(d.space_read);
    w->buckets = calloc((size_t)w->bw * w->bh, sizeof *w->buckets);
    w->bedge = malloc(((size_t)w->bw + w->bh + 2) * sizeof *w->bedge);
    if (!w->s || !w->buckets || !w->bedge || sw__world_reserve(w, 1024) != SW_OK) {
        sw_world_free(w);
        return NULL;
    }
    sw__world_space_edges(w);
    /* the bird's query's kept radius checks: none yet (see sw__lean_radii) */
    w->lean = (sw__lean_radii){.r = NAN, .r_in = NAN, .W = w->d.width, .H = w->d.height,
                               .bw = w->bw, .bh = w->bh};
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
    free(w->buckets); free(w->bstored); free(w->bedge);
    for (int i = 0; i < w->nlayers; i++) {
        free(w->layers[i].name);
        free(w->layers[i].data);
    }
    free(w->layers);
    for (int i = 0; i < w->nnamed; i++) free(w->named[i].name);
    free(w->named);
    for (int i = 0; i < w->nattached; i++)
        if (w->attached[i].free_fn) w->attached[i].free_fn(w->attached[i].data);
    free(w->attached);
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

/* ---- a model's derived data ------------------------------------------------------------- */

int sw_world_attach(sw_world *w, const void *key, void *data, void (*free_fn)(void *)) {
    int i = 0;
    while (i < w->nattached && w->attached[i].key != key) i++;
    if (i == w->nattached) {
        if (!data) return SW_OK;
        sw__attached *a = realloc(w->attached, ((size_t)w->nattached + 1) * sizeof *a);
        if (!a) return SW_E_NOMEM;
        w->attached = a;
        w->nattached++;
    } else if (w->attached[i].free_fn && w->attached[i].data != data) {
        w->attached[i].free_fn(w->attached[i].data); /* (the same data again: kept, not freed) */
    }
    if (data)
        w->attached[i] = (sw__attached){key, data, free_fn};
    else
        w->attached[i] = w->attached[--w->nattached];
    return SW_OK;
}

void *sw_world_attached(const sw_world *w, const void *key) {
    for (int i = 0; i < w->nattached; i++)
        if (w->attached[i].key == key) return w->attached[i].data;
    return NULL;
}

/* ---- layers ------------------------------------------------------------------------------- */

int sw_world_layer_add(sw_world *w, const char *name, double init) {
    if (!name || sw_world_layer_find(w, name) >= 0) {
        sw__world_errf(w, "a layer named \"%s\" already exists", name ? name : "(null)");
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
bool sw_world_layer_shown(const sw_world *w, int i) {
    return i >= 0 && i < w->nlayers && w->layers[i].name[0] != '.';
}
double *sw_world_layer_data(sw_world *w, int i) {
    /* one unsigned compare for both bounds (nlayers >= 0): a call every
       sheep step and two every grass turn in wolf-sheep */
    return (unsigned)i < (unsigned)w->nlayers ? w->layers[i].data : NULL;
}
