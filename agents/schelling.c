/* schelling.c - Schelling's segregation model, with residents that sleep
 * while they are happy.
 *
 * The comparison's model (docs/models.md): residents of two groups on a
 * bounded grid, at most one per cell. Each tick, in a fresh random order,
 * a resident counts the neighbours of its own group within Chebyshev radius
 * `radius`; with at least `min_same` it is happy and stays, else it moves to
 * a uniformly random empty cell.
 *
 * Polling every resident every tick costs a neighbourhood count each, yet
 * after the first ticks nearly everyone is happy and stays happy: a
 * resident's count of alike neighbours can only fall when an alike
 * neighbour leaves (arrivals only raise it, the other group's moves do not
 * touch it). So a happy resident sleeps on its cell's event channel, and
 * the mover whose departure takes it below its minimum posts there; an
 * unhappy one stays scheduled every tick and tries to move, as before. With
 * woken tasklets taking their turn where a polled one would (the scheduler's
 * random order), it is the same model, at the cost of the moves alone.
 *
 * What it takes, all in world layers (so snapshots stay data-only):
 * - "group": who lives where (0: empty, else the resident's group);
 * - per radius r in use, counts kept exact by every arrival and departure:
 *   "schelling_r<r>_all" (residents within r of each cell, the cell's own
 *   included), "schelling_r<r>_g<g>" (those of group g), and
 *   "schelling_r<r>_need" (the min_same of the resident of radius r on the
 *   cell; NO_NEED, -1, on other cells: no count falls to it, so a mover's
 *   test "did this count just fall to its need" almost never passes where
 *   nobody of that radius lives, and is predicted well);
 * - ".schelling_empty": the cells where nobody lives, listed, so that a mover
 *   draws its new cell with one number (see move_away).
 * A check is then one load, and a mover knows, cell by cell, exactly which
 * alike neighbours its departure took below their minimum. Residents of
 * different radii may share a world: each move updates the counts of every
 * radius in use. A sleeping resident's `happy` and `alike` fields go stale
 * as its neighbours move; the kind's refresh hook recomputes them from the
 * counts (one load each) before statistics read them.
 *
 * sw_kind_resident_polled is the same resident polling every tick (the
 * model as first written): the reference the tests hold the sleeping one
 * to, in distribution. */
#include "models.h"
#include "model_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

typedef struct {
    int32_t group;    /* 1 or more */
    int32_t radius;   /* Chebyshev radius of the neighbourhood */
    int32_t min_same; /* happy with at least this many alike neighbours */
    bool happy;
    bool mixed;                   /* other radii are in use (their counts too) */
    double alike;     /* fraction of its neighbours in its group (1 with none) */
    int32_t x, y, layer;          /* its cell; the "group" layer */
    int32_t near_all, near_same;  /* its radius's count layers: all, its group */
    int32_t need;                 /* its radius's "need" layer */
    int32_t layers_seen;          /* layers the world had when it last looked */
    int32_t empties;              /* the ".schelling_empty" layer's index + 1 (0: not
                                     looked up yet, as in snapshots from before it) */
    uint32_t rng_ctr;             /* its random stream's next draw, and the stream */
    uint64_t rng_key;             /* (model_util.h; 0: not worked out yet) */
    sw_chan chan;                 /* its cell's channel, where it sleeps */
    sw_msg news;                  /* unused: kept so that snapshots made while
                                     a resident slept into it still load */
} resident;

enum { WAKE_TAG = 1 }; /* the message a mover posts: "an alike neighbour left" */

/* The "need" of a cell where no resident of the layer's radius lives (with 0
 * there, the many empty cells with no alike neighbour would pass the test,
 * at random, before the group check turns them down). The group check alone
 * keeps the wake-ups exact: a layer from a snapshot with 0 there works. */
static const double NO_NEED = -1;

/* Count the occupied cells and those of group `me` (bit pattern) in rows
 * y0..y1, columns x0..x0+span-1, cell by cell on whole bit patterns (the
 * layer holds only +0.0 and the groups, so equal numbers have equal bits). */
static void count_rows(const double *g, int32_t W, int32_t y0, int32_t y1, int32_t x0, int32_t span,
                       uint64_t me, int32_t *all, int32_t *same) {
    int32_t a = 0, s = 0;
    for (int32_t y = y0; y <= y1; y++) {
        const double *row = g + (size_t)y * (size_t)W + x0;
        for (int32_t x = 0; x < span; x++) {
            uint64_t v;
            memcpy(&v, &row[x], sizeof v);
            a += v != 0;
            s += v == me;
        }
    }
    *all += a;
    *same += s;
}

/* Count the alike neighbours of the resident on (x, y); store its mood. */
static void look_around(sw_world *w, resident *f) {
    const double *g = sw_world_layer_data(w, f->layer);
    const sw_world_desc *d = sw_world_desc_of(w);
    int32_t W = (int32_t)d->width, H = (int32_t)d->height;
    int32_t r = f->radius, same = 0, all = 0;
    double mine = f->group;
    if (d->topology == SW_TOPO_TORUS || 2 * r + 1 > W || 2 * r + 1 > H) {
        for (int32_t dy = -r; dy <= r; dy++) {
            for (int32_t dx = -r; dx <= r; dx++) {
                int32_t x = f->x + dx, y = f->y + dy;
                if (!sw_world_wrap(w, &x, &y)) continue;
                double v = g[(size_t)y * (size_t)W + (size_t)x];
                all += v != 0;
                same += v == mine;
            }
        }
    } else {
        /* bounded: clip the square once */
        int32_t x0 = f->x - r < 0 ? 0 : f->x - r, x1 = f->x + r >= W ? W - 1 : f->x + r;
        int32_t y0 = f->y - r < 0 ? 0 : f->y - r, y1 = f->y + r >= H ? H - 1 : f->y + r;
        uint64_t me;
        memcpy(&me, &mine, sizeof me);
        count_rows(g, W, y0, y1, x0, x1 - x0 + 1, me, &all, &same);
    }
    /* the loops counted the resident itself */
    all -= 1;
    same -= 1;
    f->happy = same >= f->min_same;
    f->alike = all > 0 ? (double)same / all : 1.0;
}


/* ---- the count layers ----------------------------------------------------------- */

/* Add `delta` to `cnt` on every cell within Chebyshev radius r of (x, y):
 * the cells, with the same multiplicity (a torus smaller than the square
 * repeats some), whose neighbourhood as look_around reads it holds (x, y),
 * the square being symmetric. */
static void add_around(const sw_world *w, double *cnt, int32_t x, int32_t y, int32_t r,
                       double delta) {
    const sw_world_desc *d = sw_world_desc_of(w);
    int32_t W = (int32_t)d->width, H = (int32_t)d->height;
    if (d->topology == SW_TOPO_TORUS || 2 * r + 1 > W || 2 * r + 1 > H) {
        for (int32_t dy = -r; dy <= r; dy++) {
            for (int32_t dx = -r; dx <= r; dx++) {
                int32_t cx = x + dx, cy = y + dy;
                if (sw_world_wrap(w, &cx, &cy)) cnt[sw_world_cell_index(w, cx, cy)] += delta;
            }
        }
        return;
    }
    int32_t x0 = x - r < 0 ? 0 : x - r, x1 = x + r >= W ? W - 1 : x + r;
    int32_t y0 = y - r < 0 ? 0 : y - r, y1 = y + r >= H ? H - 1 : y + r;
    for (int32_t cy = y0; cy <= y1; cy++) {
        double *row = cnt + (size_t)cy * (size_t)W;
        for (int32_t cx = x0; cx <= x1; cx++) row[cx] += delta;
    }
}

/* Whether the grid is bounded and holds the whole square around any cell
 * once: then a neighbourhood is a clipped rectangle of rows. */
static bool plain_square(const sw_world *w, int32_t r) {
    const sw_world_desc *d = sw_world_desc_of(w);
    return d->topology != SW_TOPO_TORUS && 2 * r + 1 <= (int32_t)d->width &&
           2 * r + 1 <= (int32_t)d->height;
}

/* Read decimal digits (no sign, at least one) at *p into *v. */
static bool get_uint(const char **p, int32_t *v) {
    const char *q = *p;
    int64_t x = 0;
    while (*q >= '0' && *q <= '9' && x <= INT32_MAX) x = x * 10 + (*q++ - '0');
    if (q == *p || x > INT32_MAX) return false;
    *v = (int32_t)x;
    *p = q;
    return true;
}

/* Read a count layer's name back: its radius and group (0: all, -1: need). */
static bool count_layer_parse(const char *name, int32_t *r, int32_t *g) {
    if (strncmp(name, "schelling_r", 11) != 0) return false;
    const char *p = name + 11;
    if (!get_uint(&p, r)) return false;
    if (strcmp(p, "_all") == 0) {
        *g = 0;
        return true;
    }
    if (strcmp(p, "_need") == 0) {
        *g = -1;
        return true;
    }
    if (strncmp(p, "_g", 2) != 0) return false;
    p += 2;
    return get_uint(&p, g) && *g > 0 && *p == '\0';
}

enum { LANE = 21 }; /* bits of a count in count_box's packed words */

/* A cell of the "group" layer holding `v` as count_box's lanes: lane k
 * (bits LANE * k on) 1 where group groups[k] lives (0: anyone). */
static inline __attribute__((always_inline)) uint64_t lanes_of(double v, int n, const int32_t *groups) {
    uint64_t l = 0;
    for (int k = 0; k < n; k++) l |= (uint64_t)(groups[k] ? v == groups[k] : v != 0) << LANE * k;
    return l;
}

/* lanes_of for groups 0, 1, 2 (n = 3) of a "group" layer holding only 0,
 * 1 and 2 (sw_schelling_new's town, which it has just placed): a load by
 * the group, where lanes_of takes three comparisons (a town's construction
 * ~8 % fewer instructions). */
static inline uint64_t town_lanes(double v) {
    static const uint64_t lanes[3] = {0, 1 | (uint64_t)1 << LANE, 1 | (uint64_t)1 << 2 * LANE};
    return lanes[(int)v];
}

/* Count layers[k] (k < n <= 3) of radius r, that of group groups[k] (0:
 * anyone), from the "group" layer (with `town`, one that town_lanes reads)
 * by box sums: one pass down the grid keeps
 * the column sums of the rows within r, and each row slides a window along
 * them; the n counts travel packed in 21-bit lanes of one word (three layers
 * for the price of one, and no lane can carry into the next while
 * (2r + 1)^2 < 2^21). Inline, so that each caller's n and groups are
 * constants in the loops. False when the square is not plain, a lane could
 * overflow, or out of memory: the caller counts square by square. */
static inline __attribute__((always_inline)) bool count_box(sw_world *w, int group_layer, int32_t r, int n,
                                                            const int *layers, const int32_t *groups,
                                                            bool town) {
#define CELL_LANES(v) (town ? town_lanes(v) : lanes_of((v), n, groups))
    if (!plain_square(w, r) || (int64_t)(2 * r + 1) * (2 * r + 1) >= 1 << LANE) return false;
    const double *grp = sw_world_layer_data(w, group_layer);
    double *out[3];
    for (int k = 0; k < n; k++) out[k] = sw_world_layer_data(w, layers[k]);
    int32_t W = (int32_t)sw_world_width(w), H = (int32_t)sw_world_height(w);
    /* the column sums, padded with r empty columns on each side */
    uint64_t *col = calloc((size_t)W + 2 * (size_t)r, sizeof *col);
    if (!col) return false;
    uint64_t *c = col + r;
    for (int32_t y = 0; y < r && y < H; y++)
        for (int32_t x = 0; x < W; x++) c[x] += CELL_LANES(grp[(size_t)y * (size_t)W + (size_t)x]);
    for (int32_t y = 0; y < H; y++) {
        /* the window becomes rows y - r .. y + r */
        if (y + r < H) {
            const double *in = grp + (size_t)(y + r) * (size_t)W;
            for (int32_t x = 0; x < W; x++) c[x] += CELL_LANES(in[x]);
        }
        if (y - r - 1 >= 0) {
            const double *in = grp + (size_t)(y - r - 1) * (size_t)W;
            for (int32_t x = 0; x < W; x++) c[x] -= CELL_LANES(in[x]);
        }
        uint64_t sum = 0;
        for (int32_t k = -r; k < r; k++) sum += c[k];
        size_t row = (size_t)y * (size_t)W;
        for (int32_t x = 0; x < W; x++) {
            sum += c[x + r];
            for (int k = 0; k < n; k++) out[k][row + (size_t)x] = (double)(sum >> LANE * k & ((1u << LANE) - 1));
            sum -= c[x - r];
        }
    }
    free(col);
    return true;
#undef CELL_LANES
}

/* Set count layer `l` (radius r, group g > 0 or 0 for all) from the
 * "group" layer: a box sum where it can, else each resident's square.
 * Exact either way (counts are small integers). */
static void count_all(sw_world *w, int group_layer, int l, int32_t r, int32_t g) {
    if (count_box(w, group_layer, r, 1, &l, &g, false)) return;
    const double *grp = sw_world_layer_data(w, group_layer);
    double *cnt = sw_world_layer_data(w, l);
    int32_t W = (int32_t)sw_world_width(w), H = (int32_t)sw_world_height(w);
    memset(cnt, 0, (size_t)W * (size_t)H * sizeof *cnt);
    for (int32_t y = 0; y < H; y++)
        for (int32_t x = 0; x < W; x++) {
            double v = grp[(size_t)y * (size_t)W + (size_t)x];
            if (g == 0 ? v != 0 : v == g) add_around(w, cnt, x, y, r, 1);
        }
}

/* A new count layer of radius r for group g, "schelling_r<r>_all" (g = 0),
 * "schelling_r<r>_g<g>" (g > 0) or "schelling_r<r>_need" (g < 0): zeros
 * (NO_NEED for the "need" layer). Negative when out of memory. */
static int add_count_layer(sw_world *w, int32_t r, int32_t g) {
    char name[48];
    if (g == 0)
        snprintf(name, sizeof name, "schelling_r%d_all", (int)r);
    else if (g < 0)
        snprintf(name, sizeof name, "schelling_r%d_need", (int)r);
    else
        snprintf(name, sizeof name, "schelling_r%d_g%d", (int)r, (int)g);
    return sw_world_layer_add(w, name, g < 0 ? NO_NEED : 0);
}

/* The count layers of radius r that a resident of group g uses, found in
 * one pass over the layers' names: l[0] all, l[1] group g, l[2] need (-1
 * where missing). Returns whether count layers of other radii are there
 * too (see other_radii). */
static bool find_count_layers(const sw_world *w, int32_t r, int32_t g, int l[3]) {
    bool others = false;
    l[0] = l[1] = l[2] = -1;
    int n = sw_world_layer_count(w);
    for (int i = 0; i < n; i++) {
        int32_t lr, lg;
        if (!count_layer_parse(sw_world_layer_name(w, i), &lr, &lg)) continue;
        if (lr != r)
            others = true;
        else if (lg == 0)
            l[0] = i;
        else if (lg == g)
            l[1] = i;
        else if (lg < 0)
            l[2] = i;
    }
    return others;
}

/* The same, each missing one made now from who lives where (the "group"
 * layer; the "need" layer starts at NO_NEED and is filled by arrivals):
 * negative where out of memory. Out of line: inside resident_init it cost
 * the residents sw_schelling_new spawns an instruction each. */
static __attribute__((noinline)) bool count_layers(sw_world *w, int group_layer, int32_t r, int32_t g, int l[3]) {
    const int32_t groups[3] = {0, g, -1};
    bool others = find_count_layers(w, r, g, l);
    for (int k = 0; k < 3; k++) {
        if (l[k] >= 0) continue;
        l[k] = add_count_layer(w, r, groups[k]);
        if (l[k] >= 0 && groups[k] >= 0) count_all(w, group_layer, l[k], r, groups[k]);
    }
    return others;
}

/* Whether residents of a radius other than its own share the world (looked
 * up again only when the world has gained layers since it last looked). */
static bool other_radii(const sw_world *w, resident *f) {
    int n = sw_world_layer_count(w);
    if (n != f->layers_seen) {
        int l[3];
        f->layers_seen = n;
        f->mixed = find_count_layers(w, f->radius, f->group, l);
    }
    return f->mixed;
}

/* Post "an alike neighbour left" on cell c's channel: it wakes the
 * resident asleep there, if any. */
static __attribute__((noinline)) void wake(sw_world *w, uint32_t c) {
    sw_chan ch = sw_world_cell_chan_at(w, c);
    if (ch) sw_chan_post(sw_world_sched(w), ch, &(sw_msg){.tag = WAKE_TAG, .i = (int32_t)c});
}

/* After a resident of group g left (x, y): wake each resident of radius r
 * around it that is now below its minimum (those still above it, and the
 * other group, cannot have changed their minds). Posting finds nobody when
 * the resident is awake already (unhappy, or woken earlier this tick). */
static void wake_around(sw_world *w, const double *grp, const double *same, const double *need,
                        int32_t x, int32_t y, int32_t r, int32_t g) {
    for (int32_t dy = -r; dy <= r; dy++) {
        for (int32_t dx = -r; dx <= r; dx++) {
            int32_t cx = x + dx, cy = y + dy;
            if (!sw_world_wrap(w, &cx, &cy)) continue;
            uint32_t c = sw_world_cell_index(w, cx, cy);
            if (grp[c] == g && same[c] - 1 < need[c]) wake(w, c);
        }
    }
}

/* One cell (index c) of a square being recounted: a resident
 * of group gg arriving counts in, one leaving counts out and wakes the
 * sleeper there whom that leaves unhappy. */
static inline __attribute__((always_inline)) void recount_cell(
    sw_world *w, const double *restrict grp, double *restrict all, double *restrict same,
    const double *restrict need, size_t c, double gg, bool leaving) {
    if (!leaving) {
        all[c] += 1;
        same[c] += 1;
        return;
    }
    all[c] -= 1;
    double n = same[c] -= 1;
    /* asleep means it was happy: same - 1 >= need before this -1, so it is
       unhappy now exactly when same == need (the awake, already unhappy ones
       are below that and left alone); rare where someone lives, never where
       nobody does (NO_NEED) */
    if (__builtin_expect(n == need[c], 0) && grp[c] == gg) wake(w, (uint32_t)c);
}

/* recount_square's rows, `span` cells each: inline, so that the
 * comparison's widths (3 and 5) get fully unrolled loops. */
static inline __attribute__((always_inline)) void recount_rows(
    sw_world *w, const double *restrict grp, double *restrict all, double *restrict same,
    const double *restrict need, int32_t W, int32_t x0, int32_t y0, int32_t y1, int32_t span,
    double gg, bool leaving) {
    for (int32_t cy = y0; cy <= y1; cy++) {
        size_t row = (size_t)cy * (size_t)W + (size_t)x0;
        for (int32_t i = 0; i < span; i++)
            recount_cell(w, grp, all, same, need, row + (size_t)i, gg, leaving);
    }
}

/* recount_rows with the comparison's widths (3 and 5, and 2, radius 1's at
 * the left and right edges) as constants, so each gets its own unrolled
 * loop; called with `leaving` constant too. */
static inline __attribute__((always_inline)) void recount_spans(
    sw_world *w, const double *restrict grp, double *restrict all, double *restrict same,
    const double *restrict need, int32_t W, int32_t x0, int32_t y0, int32_t y1, int32_t span,
    double gg, bool leaving) {
    if (span == 3)
        recount_rows(w, grp, all, same, need, W, x0, y0, y1, 3, gg, leaving);
    else if (span == 2) /* radius 1 at the left or right edge */
        recount_rows(w, grp, all, same, need, W, x0, y0, y1, 2, gg, leaving);
    else if (span == 5)
        recount_rows(w, grp, all, same, need, W, x0, y0, y1, 5, gg, leaving);
    else
        recount_rows(w, grp, all, same, need, W, x0, y0, y1, span, gg, leaving);
}

/* recount's common case in one pass over the clipped square: both counts
 * move together, and a departure wakes as it goes (each cell is seen once,
 * so its count is final when it is looked at). */
static __attribute__((noinline)) void recount_square(sw_world *w, const double *grp, double *all, double *same,
                           const double *need, int32_t x, int32_t y, int32_t r, int32_t g,
                           bool leaving) {
    const sw_world_desc *d = sw_world_desc_of(w);
    int32_t W = (int32_t)d->width, H = (int32_t)d->height;
    int32_t x0 = x - r < 0 ? 0 : x - r, x1 = x + r >= W ? W - 1 : x + r;
    int32_t y0 = y - r < 0 ? 0 : y - r, y1 = y + r >= H ? H - 1 : y + r;
    int32_t span = x1 - x0 + 1;
    double gg = g;
    if (leaving)
        recount_spans(w, grp, all, same, need, W, x0, y0, y1, span, gg, true);
    else
        recount_spans(w, grp, all, same, need, W, x0, y0, y1, span, gg, false);
}

/* Count a resident arriving on (delta +1) or leaving (-1) its cell in the
 * layers of every radius in use; a departure wakes whom it concerns. The
 * "group" and "need" layers are the caller's. */
static void recount(sw_world *w, resident *f, double delta) {
    const double *grp = sw_world_layer_data(w, f->layer);
    double *all = sw_world_layer_data(w, f->near_all), *same = sw_world_layer_data(w, f->near_same);
    const double *need = sw_world_layer_data(w, f->need);
    if (plain_square(w, f->radius)) {
        recount_square(w, grp, all, same, need, f->x, f->y, f->radius, f->group, delta < 0);
    } else {
        add_around(w, all, f->x, f->y, f->radius, delta);
        add_around(w, same, f->x, f->y, f->radius, delta);
        if (delta < 0) wake_around(w, grp, same, need, f->x, f->y, f->radius, f->group);
    }
    if (!other_radii(w, f)) return;
    int n = sw_world_layer_count(w);
    for (int i = 0; i < n; i++) {
        int32_t r, g;
        if (!count_layer_parse(sw_world_layer_name(w, i), &r, &g) || r == f->radius) continue;
        if (g != 0 && g != f->group) continue;
        double *cnt = sw_world_layer_data(w, i);
        add_around(w, cnt, f->x, f->y, r, delta);
        if (g == 0 || delta > 0) continue;
        int l[3];
        find_count_layers(w, r, g, l);
        if (l[2] >= 0) wake_around(w, grp, cnt, sw_world_layer_data(w, l[2]), f->x, f->y, r, g);
    }
}

static void arrive(sw_world *w, resident *f) {
    uint32_t c = sw_world_cell_index(w, f->x, f->y);
    sw_world_layer_data(w, f->layer)[c] = f->group;
    sw_world_layer_data(w, f->need)[c] = f->min_same;
    /* not drawn from the list of empty cells, which still holds c: made
       again at the next move */
    sw_world_layer_data(w, f->empties - 1)[0] = -1;
    recount(w, f, +1);
}

/* Whether it is happy where it lives now, from its count (one load). */
static bool content(sw_world *w, const resident *f) {
    /* the count includes the resident itself */
    return sw_world_layer_data(w, f->near_same)[sw_world_cell_index(w, f->x, f->y)] - 1 >= f->min_same;
}

/* Its mood where it lives now, from the counts: what look_around finds. */
static void mood(sw_world *w, resident *f) {
    uint32_t c = sw_world_cell_index(w, f->x, f->y);
    /* the counts include the resident itself */
    double same = sw_world_layer_data(w, f->near_same)[c] - 1;
    double all = sw_world_layer_data(w, f->near_all)[c] - 1;
    f->happy = same >= f->min_same;
    f->alike = all > 0 ? same / all : 1.0;
}

/* Two counts at once: an inner square's rows (3 or 5 cells) go a pair of
 * cells per 16-byte vector and one alone (GCC's vector extensions: SSE2 on
 * x86-64, plain code elsewhere). Loads and stores by memcpy: no alignment. */
typedef double cnt_v2 __attribute__((vector_size(16)));

static inline cnt_v2 cnt_load(const double *p) {
    cnt_v2 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void cnt_store(double *p, cnt_v2 v) { memcpy(p, &v, sizeof v); }

/* Bit k (k = 0, 1) set where lane k of `s` equals that of `n` and lane k
 * of `g` that of `me`: two comparisons, an and and a movmskpd on x86-64
 * (written with SSE2's intrinsics there: GCC's vector extensions took the
 * lanes apart and put them back first). */
static inline uint32_t cnt_both(cnt_v2 s, cnt_v2 n, cnt_v2 g, cnt_v2 me) {
#if defined(__SSE2__)
    return (uint32_t)_mm_movemask_pd(_mm_and_pd(_mm_cmpeq_pd(s, n), _mm_cmpeq_pd(g, me)));
#else
    return (uint32_t)(s[0] == n[0] && g[0] == me[0]) | (uint32_t)(s[1] == n[1] && g[1] == me[1]) << 1;
#endif
}

/* The same for one cell: bit 0. */
static inline uint32_t cnt_both1(double s, const double *n, const double *g, double me) {
#if defined(__SSE2__)
    return (uint32_t)_mm_movemask_pd(_mm_and_pd(_mm_cmpeq_sd(_mm_set_sd(s), _mm_load_sd(n)),
                                                _mm_cmpeq_sd(_mm_load_sd(g), _mm_set_sd(me)))) & 1;
#else
    return s == *n && *g == me;
#endif
}

/* recount_square around (x, y) at least r (a constant: 1 or 2) from every
 * edge of a bounded grid: no clipping, the cells at fixed offsets from the
 * square's corner, fully unrolled, two cells a vector and the row's last
 * alone. An arrival, which wakes nobody, only adds. A departure decides
 * whom to wake without a branch per cell: where the alike count fell to
 * the cell's need and the cell is of the mover's group (recount_cell's
 * test), a bit, row by row; then it wakes the sleepers of the set bits in
 * increasing order, which is recount_rows' order (a post touches no count).
 * The per-cell branches it replaces went the rare way on 7 % of the cells,
 * at random: about one move in two mispredicted one (small town: −4 %
 * time, though +24 instructions a move). The caller writes the mover's
 * own cell in the "group" and "need" layers after this: a 16-byte load
 * over a store still in flight waits for it; its bit is dropped instead. */
static inline __attribute__((always_inline)) void recount_inner(
    sw_world *w, const double *restrict grp, double *restrict all, double *restrict same,
    const double *restrict need, int32_t W, int32_t x, int32_t y, int32_t r, double gg,
    bool leaving) {
    size_t corner = (size_t)(y - r) * (size_t)W + (size_t)(x - r);
    if (!leaving) {
        const cnt_v2 one = {1, 1};
#pragma GCC unroll 5
        for (int32_t dy = 0; dy <= 2 * r; dy++) {
            size_t row = corner + (size_t)dy * (size_t)W;
#pragma GCC unroll 2
            for (int32_t i = 0; i < 2 * r; i += 2) {
                cnt_store(all + row + i, cnt_load(all + row + i) + one);
                cnt_store(same + row + i, cnt_load(same + row + i) + one);
            }
            all[row + 2 * r] += 1;
            same[row + 2 * r] += 1;
        }
        return;
    }
    const cnt_v2 one = {1, 1}, mine = {gg, gg};
    const int32_t span = 2 * r + 1;
    uint32_t woken = 0; /* bit dy * span + dx: the sleeper there is to be woken */
#pragma GCC unroll 5
    for (int32_t dy = 0; dy <= 2 * r; dy++) {
        size_t row = corner + (size_t)dy * (size_t)W;
#pragma GCC unroll 2
        for (int32_t i = 0; i < 2 * r; i += 2) {
            cnt_store(all + row + i, cnt_load(all + row + i) - one);
            cnt_v2 s = cnt_load(same + row + i) - one;
            cnt_store(same + row + i, s);
            woken |= cnt_both(s, cnt_load(need + row + i), cnt_load(grp + row + i), mine)
                     << (dy * span + i);
        }
        all[row + 2 * r] -= 1;
        double s = same[row + 2 * r] -= 1;
        woken |= cnt_both1(s, need + row + 2 * r, grp + row + 2 * r, gg) << (dy * span + 2 * r);
    }
    woken &= ~((uint32_t)1 << (r * span + r)); /* the mover's own cell */
    while (__builtin_expect(woken != 0, 0)) {
        int b = __builtin_ctz(woken);
        woken &= woken - 1;
        wake(w, (uint32_t)(corner + (size_t)(b / span) * (size_t)W + (size_t)(b % span)));
    }
}

/* Whether a resident of radius r on (x, y) of a bounded grid W x H can take
 * recount_inner's path: radius 1 or 2, its square inside the grid. */
static inline bool inner_cell(int32_t W, int32_t H, int32_t x, int32_t y, int32_t r) {
    return (r == 1 || r == 2) && x >= r && y >= r && x + r < W && y + r < H;
}

/* leave() and arrive() of a move in one: the layers looked up once, and
 * where the old and the new cell are inner cells (most moves), the
 * unrolled recounts. The same order of updates and wake-ups as leave, place,
 * arrive: the departure's wake-ups see the counts without the arrival
 * (whether the departed cell reads empty during its own recount does not
 * matter: its group no longer matches, or its bit is dropped). */
static void relocate(sw_tasklet *t, sw_world *w, resident *f, int32_t x, int32_t y) {
    const sw_world_desc *d = sw_world_desc_of(w);
    int32_t W = (int32_t)d->width, H = (int32_t)d->height, r = f->radius;
    double *grp = sw_world_layer_data(w, f->layer), *need = sw_world_layer_data(w, f->need);
    double *all = sw_world_layer_data(w, f->near_all), *same = sw_world_layer_data(w, f->near_same);
    /* no other radius in use (whose counts recount keeps too), bounded, the
       square narrower than the grid: a square is a clipped rectangle of
       rows, recount_square's, or at inner cells recount_inner's (recount
       would look the layers up again: a border move ~40 instructions more) */
    bool fast = !other_radii(w, f) && plain_square(w, r);
    size_t from = (size_t)f->y * (size_t)W + (size_t)f->x, to = (size_t)y * (size_t)W + (size_t)x;
    double gg = f->group;
    if (fast && inner_cell(W, H, f->x, f->y, r)) {
        if (r == 1)
            recount_inner(w, grp, all, same, need, W, f->x, f->y, 1, gg, true);
        else
            recount_inner(w, grp, all, same, need, W, f->x, f->y, 2, gg, true);
        grp[from] = 0;
        need[from] = NO_NEED;
    } else {
        grp[from] = 0;
        need[from] = NO_NEED;
        if (!fast)
            recount(w, f, -1);
        else
            recount_square(w, grp, all, same, need, f->x, f->y, r, f->group, true);
    }
    sw_move_to(t, x, y); /* (sw_world_place less its look-up of the mover's slot) */
    f->x = x;
    f->y = y;
    grp[to] = f->group;
    need[to] = f->min_same;
    if (!fast)
        recount(w, f, +1);
    else if (!inner_cell(W, H, x, y, r))
        recount_square(w, grp, all, same, need, x, y, r, f->group, false);
    else if (r == 1)
        recount_inner(w, grp, all, same, need, W, x, y, 1, gg, false);
    else
        recount_inner(w, grp, all, same, need, W, x, y, 2, gg, false);
}

/* ---- the empty cells ------------------------------------------------------------ */

/* The cells where no resident lives, listed in the layer ".schelling_empty",
 * so that a mover draws its new cell with one number and one load (the
 * grid's rejection sampling took ~4.7 draws a move in the small town and
 * more in fuller ones, and its rounds' exits went either way at random):
 * entry 0 holds their number E, entries 1..E the cells' indices, in no
 * particular order (a move writes the cell it leaves where the cell it
 * takes was listed). The list fits: while a resident lives on the "group"
 * layer, E <= cells - 1. -1 in entry 0: to be made again from the "group"
 * layer (in cell order) before the next draw; an arrival that was not drawn
 * from the list (a resident's init) sets it. A layer, so that snapshots keep
 * the list's order and a resumed town draws the same cells. */
static const char EMPTY_LAYER[] = ".schelling_empty";

/* The list's layer data, looked up (made, if missing) on the first call: a
 * resident from a snapshot taken before the list existed comes without it.
 * NULL when out of memory. */
static double *empty_cells(sw_world *w, resident *f) {
    if (__builtin_expect(f->empties <= 0, 0)) {
        int l = sw__model_layer(w, EMPTY_LAYER, -1);
        if (l < 0) return NULL;
        f->empties = l + 1;
    }
    return sw_world_layer_data(w, f->empties - 1);
}

/* List the cells of the "group" layer where nobody lives, in cell order
 * (the bound only guards the layer: a mover's own cell is never empty). */
static void empty_cells_make(const double *grp, double *e, uint32_t ncells) {
    uint32_t n = 0;
    for (uint32_t c = 0; c < ncells && n + 1 < ncells; c++)
        if (grp[c] == 0) e[1 + n++] = c;
    e[0] = n;
}

/* The cell of the list's entry k as (x, y). */
static void listed_cell(const double *e, uint32_t k, uint32_t W, int32_t *x, int32_t *y) {
    uint32_t c = (uint32_t)e[k];
    *x = (int32_t)(c % W);
    *y = (int32_t)(c / W);
}

/* A uniform number in [0, n) from the resident's own stream (the key
 * worked out at its first draw): the tasklet's stream (sw_rand_u64) works
 * its key out again at the first draw of every turn, which cost a move
 * ~45 of its ~60 instructions, one draw a move. */
static inline __attribute__((always_inline)) uint32_t draw_below(sw_tasklet *t, resident *f, uint32_t n) {
    if (__builtin_expect(f->rng_key == 0, 0)) f->rng_key = sw__model_rng_key(t);
    return (uint32_t)sw__model_below(sw__model_rand(f->rng_key, f->rng_ctr++), n);
}

/* Whether entry k of the list is a cell (never used as an index before it
 * is checked: the list is a layer, which a snapshot could hand over written
 * by hand) where nobody lives: the checks of the rare paths. */
static inline bool listed_ok(const double *e, uint32_t k, const double *grp, uint32_t ncells) {
    double v = e[k];
    return v >= 0 && v < ncells && grp[(uint32_t)v] == 0;
}

/* move_away's exact case: the list is not what it says (a count or an
 * entry out of range, a lived-in cell listed: a snapshot written by hand),
 * or other agents' cells kept its draws from finding an empty one (see
 * listed_draw). A uniform one of the listed cells that the grid has empty,
 * counted and then ranked; entry 0 when there is none. The list is made
 * again first where its count is out of range, and again if some entry is
 * no empty cell or those entries are not all the cells the grid has
 * empty. */
static __attribute__((noinline)) uint32_t listed_empty(sw_tasklet *t, sw_world *w, resident *f, double *e) {
    const double *grp = sw_world_layer_data(w, f->layer);
    uint32_t W = sw_world_width(w), ncells = W * sw_world_height(w), free, n;
    int32_t x, y;
    for (int pass = 0;; pass++) {
        if (pass == 1 || !(e[0] >= 0 && e[0] < ncells)) empty_cells_make(grp, e, ncells);
        n = (uint32_t)e[0];
        uint32_t wrong = 0;
        free = 0;
        for (uint32_t k = 1; k <= n; k++) {
            if (!listed_ok(e, k, grp, ncells)) {
                wrong++;
                continue;
            }
            listed_cell(e, k, W, &x, &y);
            free += sw_world_count_at(w, x, y) == 0;
        }
        if (pass == 1 || (!wrong && free == ncells - sw_world_occupied_cells(w))) break;
    }
    if (free == 0) return 0;
    uint32_t j = draw_below(t, f, free);
    for (uint32_t k = 1;; k++) {
        if (!listed_ok(e, k, grp, ncells)) continue;
        listed_cell(e, k, W, &x, &y);
        if (sw_world_count_at(w, x, y) == 0 && j-- == 0) return k;
    }
}

/* Draws among other agents before listed_empty counts (listed_draw_shared). */
enum { LISTED_DRAWS = 64 };

/* move_away's draw where agents of other kinds hold some listed cells: a
 * draw that lands on one is drawn again (a uniform one among the others),
 * up to LISTED_DRAWS times, so that a move costs a few draws, not a count
 * of the whole list; 0 (listed_empty's turn) after that, or at an entry
 * that is no empty cell of the "group" layer (the list is to be made
 * again). */
static __attribute__((noinline)) uint32_t listed_draw_shared(sw_tasklet *t, sw_world *w, resident *f,
                                                             const double *e, uint32_t n, uint32_t ncells) {
    const double *grp = sw_world_layer_data(w, f->layer);
    uint32_t W = sw_world_width(w);
    for (int tries = 0; tries < LISTED_DRAWS; tries++) {
        uint32_t k = 1 + draw_below(t, f, n);
        if (!listed_ok(e, k, grp, ncells)) return 0;
        int32_t x, y;
        listed_cell(e, k, W, &x, &y);
        if (sw_world_count_at(w, x, y) == 0) return k;
    }
    return 0;
}

/* Move to a uniformly random empty cell, if there is one: the list's entry
 * k for a uniform k (from the resident's stream), its cell left listed in
 * that entry. Residents alone on the grid (its occupied cells as many as
 * the cells off the list, each a resident's) leave every listed cell
 * empty: one draw, its entry checked to be a cell (the list is data; an
 * entry naming a lived-in cell, which only a list written by hand holds,
 * is not caught there). Other agents on the grid: listed_draw_shared. An entry or
 * count that is not what it says, or no draw found: listed_empty. Without
 * the list (out of memory), the grid's draw. */
static bool move_away(sw_tasklet *t, sw_world *w, resident *f) {
    int32_t x, y;
    double *e = empty_cells(w, f);
    if (__builtin_expect(!e, 0)) {
        if (!sw_world_random_empty_cell(w, t, &x, &y)) return false;
        relocate(t, w, f, x, y);
        return true;
    }
    const sw_world_desc *d = sw_world_desc_of(w);
    uint32_t W = d->width, ncells = W * d->height, k = 0;
    double e0 = e[0];
    if (__builtin_expect(e0 >= 0 && e0 < ncells, 1)) {
        uint32_t n = (uint32_t)e0;
        if (__builtin_expect(sw_world_occupied_cells(w) + n == ncells, 1)) {
            if (n == 0) return false; /* a full town */
            k = 1 + draw_below(t, f, n);
            /* range only (the list is data: a hand-written snapshot could
               name anything); whether the cell is lived in is not looked
               up here: that load, on the move's chain, cost 2 % */
            if (__builtin_expect(!(e[k] >= 0 && e[k] < ncells), 0)) k = 0;
        } else if (n > 0) {
            k = listed_draw_shared(t, w, f, e, n, ncells);
        }
    }
    if (__builtin_expect(k == 0, 0)) {
        k = listed_empty(t, w, f, e);
        if (k == 0) return false;
    }
    listed_cell(e, k, W, &x, &y);
    e[k] = (uint32_t)f->y * W + (uint32_t)f->x;
    relocate(t, w, f, x, y);
    return true;
}

/* ---- the residents ---------------------------------------------------------------- */

static void resident_init(sw_tasklet *t, void *frame) {
    resident *f = frame;
    sw_world *w = sw_world_of(t);
    /* a neighbourhood wider than the world only repeats cells */
    int32_t most = (int32_t)(sw_world_width(w) > sw_world_height(w) ? sw_world_width(w) : sw_world_height(w));
    if (f->radius < 0) f->radius = 0;
    if (f->radius > most) f->radius = most;
    /* group 0 would read as an empty cell: such a resident cannot take part */
    if (f->group < 1 || !sw_world_cell_of(w, sw_self(t), &f->x, &f->y)) {
        f->layer = -1;
        return;
    }
    /* sw_schelling_new hands over the layers it made (with the layer count
       then, which scenarios cannot set: internal state): else look them up */
    if (f->layers_seen < 1 || f->layers_seen != sw_world_layer_count(w)) {
        int l[3] = {-1, -1, -1};
        f->layer = sw__model_layer(w, "group", 0);
        if (f->layer >= 0) f->mixed = count_layers(w, f->layer, f->radius, f->group, l);
        f->near_all = l[0];
        f->near_same = l[1];
        f->need = l[2];
        f->empties = sw__model_layer(w, EMPTY_LAYER, -1) + 1;
        f->layers_seen = sw_world_layer_count(w); /* other radii: looked for, in the same pass */
    }
    if (f->layer < 0 || f->near_all < 0 || f->near_same < 0 || f->need < 0 || f->empties <= 0) {
        f->layer = -1; /* out of memory: it leaves at once */
        return;
    }
    arrive(w, f);
}

/* Statistics read `happy` and `alike` as of now, slept through or not. */
static void resident_refresh(sw_sched *s, sw_id id, void *frame) {
    (void)id;
    resident *f = frame;
    if (f->layer >= 0) mood(sw_world_of_sched(s), f);
}

static sw_step resident_run(sw_tasklet *t, void *frame) {
    resident *f = frame;
    SW_BEGIN(t, settle, rest);
    if (f->layer < 0) SW_EXIT(t);
    for (;;) {
        {
            sw_world *w = sw_world_of(t);
            /* `alike` is left to the refresh hook: only statistics read it */
            f->happy = content(w, f);
            if (!f->happy && move_away(t, w, f)) f->happy = content(w, f);
        }
        if (f->happy) {
            /* asleep until an alike neighbour's departure may have made it
               unhappy; then it looks again at its turn */
            f->chan = sw_cell_chan(t, f->x, f->y);
            if (f->chan != SW_CHAN_NONE) {
                /* what woke it does not matter (its count says all), so
                   the post leaves its frame alone: a discard receive */
                SW_WAIT(t, rest, f->chan);
                if (sw_status(t) == SW_OK) continue;
            }
            /* no channel to sleep on (out of memory, or closed by someone
               else): poll, as the reference does */
        }
        SW_SLEEP(t, settle, 1);
    }
    SW_END(t);
}

static sw_step polled_run(sw_tasklet *t, void *frame) {
    resident *f = frame;
    SW_BEGIN(t, settle);
    if (f->layer < 0) SW_EXIT(t);
    for (;;) {
        sw_world *w = sw_world_of(t);
        look_around(w, f);
        if (!f->happy && move_away(t, w, f)) look_around(w, f);
        SW_SLEEP(t, settle, 1);
    }
    SW_END(t);
}

static const sw_field resident_fields[] = {
    SW_PARAM(resident, group, SW_T_I32, 1, "its group (1 or 2; any number >= 1)"),
    SW_PARAM(resident, radius, SW_T_I32, 1, "Chebyshev radius of its neighbourhood"),
    SW_PARAM(resident, min_same, SW_T_I32, 3, "alike neighbours it needs to be happy"),
    SW_FIELD(resident, happy, SW_T_BOOL),
    SW_FIELD(resident, alike, SW_T_F64),
    SW_FIELD(resident, x, SW_T_I32),
    SW_FIELD(resident, y, SW_T_I32),
    SW_FIELD(resident, layer, SW_T_I32),
    SW_FIELD(resident, near_all, SW_T_I32),
    SW_FIELD(resident, near_same, SW_T_I32),
    SW_FIELD(resident, need, SW_T_I32),
    SW_FIELD(resident, layers_seen, SW_T_I32),
    SW_FIELD(resident, mixed, SW_T_BOOL),
    SW_FIELD(resident, empties, SW_T_I32),
    SW_FIELD(resident, rng_key, SW_T_U64),
    SW_FIELD(resident, rng_ctr, SW_T_U32),
    SW_FIELD(resident, chan, SW_T_CHAN),
    SW_FIELD(resident, news, SW_T_MSG),
    SW_FIELD_END};

const sw_kind sw_kind_resident = {
    .name = "resident", .frame_size = sizeof(resident), .fields = resident_fields,
    .init = resident_init, .run = resident_run, .refresh = resident_refresh, .color = 0xd9534f,
    .place = SW_PLACE_CELL_UNIQUE,
    .doc = "moves to a random empty cell while too few neighbours are alike, sleeps while "
           "happy (Schelling)"};

const sw_kind sw_kind_resident_polled = {
    .name = "resident_polled", .frame_size = sizeof(resident), .fields = resident_fields,
    .init = resident_init, .run = polled_run, .refresh = resident_refresh, .color = 0xd9534f,
    .place = SW_PLACE_CELL_UNIQUE,
    .doc = "the Schelling resident polling its neighbourhood every tick (the reference)"};

static bool is_resident(const sw_kind *k) {
    return k == &sw_kind_resident || k == &sw_kind_resident_polled;
}

/* Place `n` residents on distinct uniformly random cells of an empty town
 * (a partial Fisher-Yates over the cells, from the world's own stream):
 * the first half group 1, the rest group 2, written into the "group" and
 * "need" layers. Their cells, in that order, or NULL when out of memory. */
static uint32_t *place_town(sw_world *w, const resident *one, uint32_t n) {
    uint32_t ncells = sw_world_width(w) * sw_world_height(w);
    uint32_t *cells = malloc((size_t)ncells * sizeof *cells);
    if (!cells) return NULL;
    for (uint32_t c = 0; c < ncells; c++) cells[c] = c;
    double *grp = sw_world_layer_data(w, one->layer), *need = sw_world_layer_data(w, one->need);
    uint64_t key = sw_rng_key(sw_world_desc_of(w)->seed, 0x7363686c706c6163ULL /* "schlplac" */);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t j = i + (uint32_t)sw__model_below(sw_rng_at(key, i), ncells - i);
        uint32_t c = cells[j];
        cells[j] = cells[i];
        cells[i] = c;
        grp[c] = i < n / 2 ? 1 : 2;
        need[c] = one->min_same;
    }
    return cells;
}

/* The town's empty cells into its list: those place_town's partial shuffle
 * left after the n it placed. */
static void list_town_empties(sw_world *w, const resident *one, const uint32_t *cells, uint32_t n) {
    uint32_t ncells = sw_world_width(w) * sw_world_height(w);
    double *e = sw_world_layer_data(w, one->empties - 1);
    e[0] = ncells - n;
    for (uint32_t i = n; i < ncells; i++) e[1 + i - n] = cells[i];
}

/* The quotient c / W (W >= 1) of any 32-bit c, by a multiply-high with
 * m = ceil(2^64 / W) (0 for W = 1) rather than a division: exact for
 * every 32-bit c (Lemire, Kaser and Kurz, "Faster remainder by direct
 * computation", 2019). */
static inline uint32_t town_row(uint32_t c, uint32_t W, uint64_t m) {
    return W == 1 ? c : (uint32_t)(((__uint128_t)m * c) >> 64);
}

/* Spawn the residents place_town placed, in its order, each on its cell,
 * a run at a time (sw_world_spawn_many_final): each frame image is final,
 * its cell, clamped radius and layers filled in here (everyone was counted
 * at once before), so no init runs. The runs' images on the stack: a
 * town's worth on the heap moved the run's later reallocations (they
 * copied). */
static bool spawn_town(sw_world *w, const sw_kind *kind, const resident *one, const resident *two,
                       const uint32_t *cells, uint32_t n) {
    enum { RUN = 64 };
    resident town[RUN];
    /* an image is copied whole only when its group changes (once or twice
       a slot): the runs differ in their cells alone */
    for (uint32_t j = 0; j < RUN; j++) town[j].group = 0;
    uint32_t W = sw_world_width(w);
    uint64_t m = W > 1 ? UINT64_MAX / W + 1 : 0;
    for (uint32_t i = 0; i < n; i += RUN) {
        uint32_t k = n - i < RUN ? n - i : RUN;
        for (uint32_t j = 0; j < k; j++) {
            const resident *f = i + j < n / 2 ? one : two;
            if (town[j].group != f->group) town[j] = *f;
            uint32_t c = cells[i + j], y = town_row(c, W, m);
            town[j].x = (int32_t)(c - y * W);
            town[j].y = (int32_t)y;
        }
        if (sw_world_spawn_many_final(w, kind, town, sizeof *town, cells + i, k, 0) != (int64_t)k)
            return false;
    }
    return true;
}

sw_world *sw_schelling_new(const sw_schelling_desc *desc) {
    sw_schelling_desc d = desc ? *desc : (sw_schelling_desc){0};
    if (!d.size) d.size = 40;
    if (!d.agents) d.agents = 1000;
    if (!d.radius) d.radius = 1;
    if (!d.min_same) d.min_same = 3;
    const sw_kind *kind = d.polled ? &sw_kind_resident_polled : &sw_kind_resident;
    sw_world *w = sw_world_new(&(sw_world_desc){.width = d.size, .height = d.size, .seed = d.seed});
    if (!w) return NULL;
    if ((uint64_t)d.agents > (uint64_t)d.size * d.size) {
        sw_world_free(w); /* more residents than cells */
        return NULL;
    }
    sw_sched_set_kind_random(sw_world_sched(w), kind, true);
    /* the layers, made here once rather than looked up by every resident */
    int32_t most = (int32_t)d.size;
    int32_t r = d.radius < 0 ? 0 : d.radius > most ? most : d.radius;
    resident one = {.group = 1, .radius = r, .min_same = d.min_same};
    resident two = one;
    two.group = 2;
    one.layer = two.layer = sw_world_layer_add(w, "group", 0);
    if (one.layer >= 0) {
        one.near_all = two.near_all = add_count_layer(w, r, 0);
        one.need = two.need = add_count_layer(w, r, -1);
        one.near_same = add_count_layer(w, r, 1);
        two.near_same = add_count_layer(w, r, 2);
        one.empties = two.empties = sw_world_layer_add(w, EMPTY_LAYER, -1) + 1;
        one.layers_seen = two.layers_seen = sw_world_layer_count(w);
    }
    if (one.layer < 0 || one.near_all < 0 || one.need < 0 || one.near_same < 0 || two.near_same < 0 ||
        one.empties <= 0) {
        sw_world_free(w);
        return NULL;
    }
    /* everyone placed first, then counted at once (a box sum per layer
       rather than a square per resident), then spawned */
    uint32_t *cells = place_town(w, &one, d.agents);
    bool ok = cells != NULL;
    if (ok && !count_box(w, one.layer, r, 3, (const int[]){one.near_all, one.near_same, two.near_same},
                         (const int32_t[]){0, 1, 2}, true)) {
        count_all(w, one.layer, one.near_all, r, 0);
        count_all(w, one.layer, one.near_same, r, 1);
        count_all(w, one.layer, two.near_same, r, 2);
    }
    if (ok) list_town_empties(w, &one, cells, d.agents);
    ok = ok && spawn_town(w, kind, &one, &two, cells, d.agents);
    free(cells);
    if (!ok) {
        sw_world_free(w);
        return NULL;
    }
    return w;
}

double sw_schelling_segregation(sw_world *w, uint32_t *unhappy) {
    sw_sched *s = sw_world_sched(w);
    double sum = 0;
    uint32_t n = 0, sad = 0;
    for (sw_id id = sw_sched_next(s, SW_ID_NONE); id; id = sw_sched_next(s, id)) {
        if (!is_resident(sw_sched_kind_of(s, id))) continue;
        resident r = *(resident *)sw_sched_frame(s, id);
        if (r.layer < 0) continue;
        look_around(w, &r); /* from the "group" layer: not from the counts */
        sum += r.alike;
        sad += !r.happy;
        n++;
    }
    if (unhappy) *unhappy = sad;
    return n ? sum / n : 0.0;
}
