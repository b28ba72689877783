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
 * What it takes: the "group" layer (who lives where: 0 empty, else the
 * resident's group), and derived from it and the residents, each cell's
 * counts of residents within each radius r in use (all, and per group) and
 * the `need` of the resident there (its min_same where its radius is r,
 * NO_NEED, -1, elsewhere: no count falls to it, so a mover's test "did
 * this count just fall to its need" almost never passes where nobody of
 * that radius lives, and is predicted well), kept exact by every arrival
 * and departure in one record per cell attached to the world (see `town`:
 * not pickled, made again from the layer after a snapshot load); and
 * ".schelling_empty", the cells where nobody lives, listed in a layer (so
 * that a resumed town draws the same cells), so that a mover draws its new
 * cell with one number (see move_away).
 * A check is then one load, and a mover knows, cell by cell, exactly which
 * alike neighbours its departure took below their minimum. Residents of
 * different radii may share a world: each move updates the counts of every
 * radius in use. A sleeping resident's `happy` and `alike` fields go stale
 * as its neighbours move; the kind's refresh hook recomputes them from the
 * counts (two loads) before statistics read them.
 *
 * sw_kind_resident_polled is the same resident polling every tick (the
 * model as first written): the reference the tests hold the sleeping one
 * to, in distribution. */
#include "models.h"
#include "model_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int32_t group;    /* 1 or more */
    int32_t radius;   /* Chebyshev radius of the neighbourhood */
    int32_t min_same; /* happy with at least this many alike neighbours */
    bool happy;
    double alike;     /* fraction of its neighbours in its group (1 with none) */
    int32_t x, y, layer;          /* its cell; the "group" layer */
    int32_t count_radius;         /* its radius's and group's places in the world's */
    int32_t count_group;          /* counts (town_of checks them at every use) */
    uint32_t rng_ctr;             /* its random stream's next draw, and the stream */
    uint64_t rng_key;             /* (model_util.h; 0: not worked out yet) */
    sw_chan chan;                 /* its cell's channel, where it sleeps */
    sw_msg news;                  /* unused: kept so that snapshots made while
                                     a resident slept into it still load */
} resident;

/* Whole 16-byte chunks: a spawn copies the image by chunks, and a tail or
 * padding would take memcpy and memset calls (frame.c). */
_Static_assert(sizeof(resident) % 16 == 0, "a resident's frame is whole 16-byte chunks");

enum { WAKE_TAG = 1 }; /* the message a mover posts: "an alike neighbour left" */

/* The "need" of a cell where no resident of the layer's radius lives (with 0
 * there, the many empty cells with no alike neighbour would pass the test,
 * at random, before the group check turns them down). The group check alone
 * keeps the wake-ups exact. */
enum { NO_NEED = -1 };

/* The layer listing the empty cells (see "the empty cells" below). */
static const char EMPTY_LAYER[] = ".schelling_empty";

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


/* ---- the counts ----------------------------------------------------------------- */

/* What makes a check one load and a wake-up exact, per cell: who lives
 * there (its group's place among the groups in use + 1; 0 empty, -1 a
 * value of the "group" layer that no resident holds) and, per radius r in
 * use, the `need` of the resident there if its radius is r (its min_same;
 * NO_NEED elsewhere), the residents within r (the cell's own included) and
 * those of each group in use. Derived data: it follows from the "group"
 * layer and the residents' radii and minimums, so it is not pickled but
 * attached to the world (sw_world_attach), kept exact by every arrival and
 * departure, and made again when missing (a world loaded from a snapshot)
 * or when a resident of a radius or group not yet counted arrives.
 *
 * One record per cell, of int8s where every count fits (radii up to 5:
 * at most 121 residents in a square; up to 126 groups), else of int32s: a
 * move's square then touches a few cache lines of one small array, where
 * the four count layers of doubles it replaces (group, need, all, same:
 * 32 bytes a cell, 51 KB for the small town, more than the first-level
 * cache) took four times as many lines of eight times the memory (records
 * of int32s, 32 KB, were no faster than the layers). */
typedef struct town {
    int empties;       /* the list of empty cells' layer (EMPTY_LAYER) */
    bool narrow;       /* records of int8s, else of int32s */
    uint32_t shift;    /* log2 of a field's bytes: 0 or 2 */
    uint32_t stride;   /* fields per cell: 1 + radii * (2 + groups) */
    int nradii, ngroups;
    int32_t *radius;   /* the radii in use, ascending */
    int32_t *group;    /* the groups in use, ascending */
    void *cell;        /* per cell: TOWN_GROUP, then per radius i from town_need(i) */
} town;

enum { TOWN_GROUP = 0, NARROW_MAX = 127, NARROW_RADIUS = 5 /* (2r + 1)^2 <= NARROW_MAX */ };
static const char town_key = 0; /* the attachment's key: its address */

/* Radius i's need in a cell's record; its count of all follows, then the
 * count of each group in use. */
static inline uint32_t town_need(const town *t, int i) { return 1 + (uint32_t)i * (2 + (uint32_t)t->ngroups); }

/* Field `field` of cell 0's record, as the base of its column: cell c's
 * is element c * stride from there (cnt_get). */
static inline void *town_col(const town *t, uint32_t field) {
    return (char *)t->cell + ((size_t)field << t->shift);
}

/* Element i of a column of int8s (`narrow`) or int32s. Inline with
 * `narrow` a constant, each caller gets code for one width. */
static inline __attribute__((always_inline)) int32_t cnt_get(const void *col, size_t i, bool narrow) {
    return narrow ? ((const int8_t *)col)[i] : ((const int32_t *)col)[i];
}
static inline __attribute__((always_inline)) void cnt_set(void *col, size_t i, int32_t v, bool narrow) {
    if (narrow)
        ((int8_t *)col)[i] = (int8_t)v;
    else
        ((int32_t *)col)[i] = v;
}
static inline __attribute__((always_inline)) int32_t cnt_add(void *col, size_t i, int32_t d, bool narrow) {
    int32_t v = cnt_get(col, i, narrow) + d;
    cnt_set(col, i, v, narrow);
    return v;
}

/* A resident's min_same as its cell's need: in int8s, clamped to
 * NO_NEED..NARROW_MAX, which no count of at most 121 tells apart (a need
 * of 0 or less is never reached either: a count includes the resident). */
static inline int32_t town_need_value(int32_t min_same, bool narrow) {
    if (!narrow) return min_same;
    return min_same < NO_NEED ? NO_NEED : min_same > NARROW_MAX ? NARROW_MAX : min_same;
}

static void town_free(void *p) {
    town *t = p;
    if (!t) return;
    free(t->radius);
    free(t->group);
    free(t->cell);
    free(t);
}

/* The place of v in the ascending v[0..n), or -1. */
static int town_index(const int32_t *v, int n, int32_t x) {
    for (int i = 0; i < n; i++)
        if (v[i] == x) return i;
    return -1;
}

/* A cell's "group" layer value as its record holds it: 0 empty, its
 * group's place + 1, or -1 (a value no resident in use holds). */
static int32_t town_who(const town *t, double v) {
    if (v == 0) return 0;
    if (!(v >= 1 && v <= INT32_MAX) || v != (double)(int32_t)v) return -1;
    int s = town_index(t->group, t->ngroups, (int32_t)v);
    return s < 0 ? -1 : s + 1;
}

/* Add `delta` to element c * S of column `cnt` for every cell c within
 * Chebyshev radius r of (x, y): the cells, with the same multiplicity (a
 * torus smaller than the square repeats some), whose neighbourhood as
 * look_around reads it holds (x, y), the square being symmetric. */
static void add_around(const sw_world *w, void *cnt, bool narrow, uint32_t S, int32_t x, int32_t y,
                       int32_t r, int32_t delta) {
    const sw_world_desc *d = sw_world_desc_of(w);
    int32_t W = (int32_t)d->width, H = (int32_t)d->height;
    if (d->topology == SW_TOPO_TORUS || 2 * r + 1 > W || 2 * r + 1 > H) {
        for (int32_t dy = -r; dy <= r; dy++) {
            for (int32_t dx = -r; dx <= r; dx++) {
                int32_t cx = x + dx, cy = y + dy;
                if (sw_world_wrap(w, &cx, &cy))
                    cnt_add(cnt, (size_t)sw_world_cell_index(w, cx, cy) * S, delta, narrow);
            }
        }
        return;
    }
    int32_t x0 = x - r < 0 ? 0 : x - r, x1 = x + r >= W ? W - 1 : x + r;
    int32_t y0 = y - r < 0 ? 0 : y - r, y1 = y + r >= H ? H - 1 : y + r;
    for (int32_t cy = y0; cy <= y1; cy++)
        for (int32_t cx = x0; cx <= x1; cx++)
            cnt_add(cnt, ((size_t)cy * (size_t)W + (size_t)cx) * S, delta, narrow);
}

/* Whether the grid is bounded and holds the whole square around any cell
 * once: then a neighbourhood is a clipped rectangle of rows. */
static bool plain_square(const sw_world *w, int32_t r) {
    const sw_world_desc *d = sw_world_desc_of(w);
    return d->topology != SW_TOPO_TORUS && 2 * r + 1 <= (int32_t)d->width &&
           2 * r + 1 <= (int32_t)d->height;
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

/* Count into columns out[k] (k < n <= 3; element c * S for cell c) the
 * cells within r of each cell that hold group groups[k] (0: anyone), from
 * the "group" layer `grp` (with `placed`, one that town_lanes reads) by box
 * sums: one pass down the grid keeps the column sums of the rows within r,
 * and each row slides a window along them; the n counts travel packed in
 * 21-bit lanes of one word (three counts for the price of one, and no lane
 * can carry into the next while (2r + 1)^2 < 2^21). Inline, so that each
 * caller's n, groups and width are constants in the loops. False when the
 * square is not plain, a lane could overflow, or out of memory: the caller
 * counts square by square. */
static inline __attribute__((always_inline)) bool count_box(const sw_world *w, const double *grp, int32_t r,
                                                            int n, void *const *out, bool narrow,
                                                            uint32_t S, const int32_t *groups,
                                                            bool placed) {
#define CELL_LANES(v) (placed ? town_lanes(v) : lanes_of((v), n, groups))
    if (!plain_square(w, r) || (int64_t)(2 * r + 1) * (2 * r + 1) >= 1 << LANE) return false;
    int32_t W = (int32_t)sw_world_width(w), H = (int32_t)sw_world_height(w);
    /* the outputs in locals (registers, n being a constant): an int8 store
       may alias out[], which would be loaded again after each */
    void *o[3] = {out[0], n > 1 ? out[1] : NULL, n > 2 ? out[2] : NULL};
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
            for (int k = 0; k < n; k++)
                cnt_set(o[k], (row + (size_t)x) * S, (int32_t)(sum >> LANE * k & ((1u << LANE) - 1)), narrow);
            sum -= c[x - r];
        }
    }
    free(col);
    return true;
#undef CELL_LANES
}

/* Radius i's counts square by square (where count_box cannot): each
 * resident of the "group" layer adds itself around its cell. */
static void count_squares(const sw_world *w, const double *grp, town *t, int i) {
    int32_t W = (int32_t)sw_world_width(w), H = (int32_t)sw_world_height(w), r = t->radius[i];
    uint32_t all = town_need(t, i) + 1, S = t->stride;
    for (uint32_t c = 0; c < (uint32_t)W * (uint32_t)H; c++)
        for (int k = 0; k <= t->ngroups; k++) cnt_set(town_col(t, all + (uint32_t)k), (size_t)c * S, 0, t->narrow);
    for (int32_t y = 0; y < H; y++)
        for (int32_t x = 0; x < W; x++) {
            double v = grp[(size_t)y * (size_t)W + (size_t)x];
            if (v == 0) continue;
            add_around(w, town_col(t, all), t->narrow, S, x, y, r, 1);
            int32_t who = town_who(t, v);
            if (who > 0) add_around(w, town_col(t, all + (uint32_t)who), t->narrow, S, x, y, r, 1);
        }
}

/* Radius i's counts from the "group" layer of a placed town (groups 1 and
 * 2, a layer that town_lanes reads, records of int8s): three counts a pass. */
static bool count_placed(const sw_world *w, const double *grp, town *t, int i) {
    uint32_t all = town_need(t, i) + 1;
    void *const out[3] = {town_col(t, all), town_col(t, all + 1), town_col(t, all + 2)};
    return count_box(w, grp, t->radius[i], 3, out, true, t->stride, (const int32_t[]){0, 1, 2}, true);
}

/* Radius i's counts from the "group" layer by box sums, three counts a
 * pass (count 0 of a record all, count 1 + s group s). False where
 * count_box cannot. */
static bool count_boxes(const sw_world *w, const double *grp, town *t, int i) {
    uint32_t all = town_need(t, i) + 1;
    for (int k = 0, n = 1 + t->ngroups; k < n; k += 3) {
        int m = n - k < 3 ? n - k : 3;
        int32_t groups[3];
        void *out[3];
        for (int j = 0; j < m; j++) {
            groups[j] = k + j == 0 ? 0 : t->group[k + j - 1];
            out[j] = town_col(t, all + (uint32_t)(k + j));
        }
        bool ok = t->narrow ? count_box(w, grp, t->radius[i], m, out, true, t->stride, groups, false)
                            : count_box(w, grp, t->radius[i], m, out, false, t->stride, groups, false);
        if (!ok) return false;
    }
    return true;
}

/* Each cell's record: who lives there (0 where `placed`: the caller writes
 * it), every need NO_NEED; `narrow` t's width, a constant. */
static inline __attribute__((always_inline)) void town_clear(town *t, const double *grp, uint32_t ncells,
                                                             bool placed, bool narrow) {
    /* the columns in locals: an int8 store may alias t, whose fields would
       be loaded again after each */
    size_t S = t->stride;
    void *who = town_col(t, TOWN_GROUP);
    for (uint32_t c = 0; c < ncells; c++) cnt_set(who, c * S, placed ? 0 : town_who(t, grp[c]), narrow);
    for (int i = 0, n = t->nradii; i < n; i++) {
        void *need = town_col(t, town_need(t, i));
        for (uint32_t c = 0; c < ncells; c++) cnt_set(need, c * S, NO_NEED, narrow);
    }
}

/* A town of these radii and groups (ascending, distinct), who lives where
 * and the counts from the "group" layer `grp`, every need NO_NEED (the
 * caller writes the residents' own). `placed`: sw_schelling_new's town
 * (groups 1 and 2, a layer of 0, 1 and 2 alone), whose cells' residents
 * the caller writes too (read here, the layer's cells taken or not at
 * random cost a mispredicted branch in three). NULL when out of memory. */
static town *town_make(const sw_world *w, const double *grp, int empties, const int32_t *radii,
                       int nradii, const int32_t *groups, int ngroups, bool placed) {
    uint32_t ncells = sw_world_width(w) * sw_world_height(w);
    town *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->empties = empties;
    t->nradii = nradii;
    t->ngroups = ngroups;
    t->narrow = radii[nradii - 1] <= NARROW_RADIUS && ngroups < NARROW_MAX;
    t->shift = t->narrow ? 0 : 2;
    t->stride = 1 + (uint32_t)nradii * (2 + (uint32_t)ngroups);
    t->radius = malloc((size_t)nradii * sizeof *t->radius);
    t->group = malloc((size_t)ngroups * sizeof *t->group);
    t->cell = malloc((size_t)ncells * t->stride * (t->narrow ? 1 : 4));
    if (!t->radius || !t->group || !t->cell) {
        town_free(t);
        return NULL;
    }
    memcpy(t->radius, radii, (size_t)nradii * sizeof *radii);
    memcpy(t->group, groups, (size_t)ngroups * sizeof *groups);
    if (placed && t->narrow)
        town_clear(t, grp, ncells, true, true);
    else if (t->narrow)
        town_clear(t, grp, ncells, false, true);
    else
        town_clear(t, grp, ncells, placed, false);
    for (int i = 0; i < nradii; i++) {
        bool boxed = placed && t->narrow ? count_placed(w, grp, t, i) : count_boxes(w, grp, t, i);
        if (!boxed) count_squares(w, grp, t, i);
    }
    return t;
}

static bool is_resident(const sw_kind *k);

/* Put x into the ascending, distinct v[0..*n) (room for one more). */
static void set_put(int32_t *v, int *n, int32_t x) {
    int i = *n;
    for (int j = 0; j < *n; j++)
        if (v[j] == x) return;
    while (i > 0 && v[i - 1] > x) {
        v[i] = v[i - 1];
        i--;
    }
    v[i] = x;
    (*n)++;
}

/* The radii and groups of every resident on the "group" layer, of town
 * `old` and of f: *radii and *groups (the caller frees them). False when
 * out of memory. */
static bool town_sets(sw_world *w, const town *old, const resident *f, int32_t **radii, int *nradii,
                      int32_t **groups, int *ngroups) {
    sw_sched *s = sw_world_sched(w);
    size_t most = 1 + (old ? (size_t)old->nradii + (size_t)old->ngroups : 0);
    for (sw_id id = sw_sched_next(s, SW_ID_NONE); id; id = sw_sched_next(s, id)) most++;
    *radii = malloc(most * sizeof **radii);
    *groups = malloc(most * sizeof **groups);
    *nradii = *ngroups = 0;
    if (!*radii || !*groups) return false;
    set_put(*radii, nradii, f->radius);
    set_put(*groups, ngroups, f->group);
    for (int i = 0; old && i < old->nradii; i++) set_put(*radii, nradii, old->radius[i]);
    for (int i = 0; old && i < old->ngroups; i++) set_put(*groups, ngroups, old->group[i]);
    for (sw_id id = sw_sched_next(s, SW_ID_NONE); id; id = sw_sched_next(s, id)) {
        if (!is_resident(sw_sched_kind_of(s, id))) continue;
        const resident *o = sw_sched_frame(s, id);
        if (o->layer < 0 || o->group < 1) continue;
        set_put(*radii, nradii, o->radius);
        set_put(*groups, ngroups, o->group);
    }
    return true;
}

/* Write each resident's min_same as the need of its radius on its cell,
 * where the "group" layer shows it there. */
static void town_needs(sw_world *w, const double *grp, town *t) {
    sw_sched *s = sw_world_sched(w);
    int32_t W = (int32_t)sw_world_width(w), H = (int32_t)sw_world_height(w);
    for (sw_id id = sw_sched_next(s, SW_ID_NONE); id; id = sw_sched_next(s, id)) {
        if (!is_resident(sw_sched_kind_of(s, id))) continue;
        const resident *o = sw_sched_frame(s, id);
        if (o->layer < 0 || o->x < 0 || o->y < 0 || o->x >= W || o->y >= H) continue;
        size_t c = (size_t)o->y * (size_t)W + (size_t)o->x;
        int i = town_index(t->radius, t->nradii, o->radius);
        if (i >= 0 && grp[c] == o->group)
            cnt_set(town_col(t, town_need(t, i)), c * t->stride, town_need_value(o->min_same, t->narrow), t->narrow);
    }
}

/* town_of's slow path: the world's counts made (again) where missing or
 * without f's radius or group, then f's places in them noted in its
 * frame. NULL when out of memory. */
static __attribute__((noinline)) town *town_find(sw_world *w, resident *f) {
    town *t = sw_world_attached(w, &town_key);
    if (!t || town_index(t->radius, t->nradii, f->radius) < 0 || town_index(t->group, t->ngroups, f->group) < 0) {
        int32_t *radii = NULL, *groups = NULL;
        int nradii, ngroups;
        const double *grp = sw_world_layer_data(w, f->layer);
        /* the list of empty cells, made (to be filled at the first move)
           where missing: a snapshot from before it */
        int empties = sw__model_layer(w, EMPTY_LAYER, -1);
        town *made = NULL;
        if (empties >= 0 && town_sets(w, t, f, &radii, &nradii, &groups, &ngroups))
            made = town_make(w, grp, empties, radii, nradii, groups, ngroups, false);
        free(radii);
        free(groups);
        if (!made) return NULL;
        town_needs(w, grp, made);
        if (sw_world_attach(w, &town_key, made, town_free) != SW_OK) {
            town_free(made);
            return NULL;
        }
        t = made;
    }
    f->count_radius = town_index(t->radius, t->nradii, f->radius);
    f->count_group = town_index(t->group, t->ngroups, f->group);
    return t;
}

/* The world's counts, with f's places in them (its frame keeps them; they
 * are checked at every use, so a stale or pickled pair is only a look-up).
 * NULL when out of memory. */
static inline town *town_of(sw_world *w, resident *f) {
    town *t = sw_world_attached(w, &town_key);
    if (__builtin_expect(t && (uint32_t)f->count_radius < (uint32_t)t->nradii &&
                             t->radius[f->count_radius] == f->radius &&
                             (uint32_t)f->count_group < (uint32_t)t->ngroups &&
                             t->group[f->count_group] == f->group,
                         1))
        return t;
    return town_find(w, f);
}

/* Columns of f's radius's count of all and count of its group. */
static inline void *town_all_of(const town *t, const resident *f) {
    return town_col(t, town_need(t, f->count_radius) + 1);
}
static inline void *town_same_of(const town *t, const resident *f) {
    return town_col(t, town_need(t, f->count_radius) + 2 + (uint32_t)f->count_group);
}

/* Post "an alike neighbour left" on cell c's channel: it wakes the
 * resident asleep there, if any. */
static __attribute__((noinline)) void wake(sw_world *w, uint32_t c) {
    sw_chan ch = sw_world_cell_chan_at(w, c);
    if (ch) sw_chan_post(sw_world_sched(w), ch, &(sw_msg){.tag = WAKE_TAG, .i = (int32_t)c});
}

/* The columns a move of one resident updates for one radius: who lives
 * where, the need, the count of all and that of the mover's group (`who`:
 * its group's place + 1, as `grp` holds it), elements c * S. */
typedef struct square_cols {
    void *grp, *need, *all, *same;
    uint32_t S;
    int32_t who;
} square_cols;

/* The columns of f's radius i in town t. */
static square_cols cols_of(const town *t, const resident *f, int i) {
    uint32_t need = town_need(t, i);
    return (square_cols){town_col(t, TOWN_GROUP), town_col(t, need), town_col(t, need + 1),
                         town_col(t, need + 2 + (uint32_t)f->count_group), t->stride, f->count_group + 1};
}

/* After a resident left (x, y): wake each resident of its group and of
 * radius r around it that is now below its minimum (those still above it,
 * and the other groups, cannot have changed their minds). Posting finds
 * nobody when the resident is awake already (unhappy, or woken earlier
 * this tick). */
static void wake_around(sw_world *w, square_cols q, bool narrow, int32_t x, int32_t y, int32_t r) {
    for (int32_t dy = -r; dy <= r; dy++) {
        for (int32_t dx = -r; dx <= r; dx++) {
            int32_t cx = x + dx, cy = y + dy;
            if (!sw_world_wrap(w, &cx, &cy)) continue;
            uint32_t c = sw_world_cell_index(w, cx, cy);
            size_t i = (size_t)c * q.S;
            if (cnt_get(q.grp, i, narrow) == q.who && cnt_get(q.same, i, narrow) - 1 < cnt_get(q.need, i, narrow))
                wake(w, c);
        }
    }
}

/* One cell (index c) of a square being recounted: a resident arriving
 * counts in, one leaving counts out and wakes the sleeper there whom that
 * leaves unhappy. The columns by value, in registers: int8 stores may
 * alias anything in memory, so that read through a pointer they would be
 * loaded again after each. */
static inline __attribute__((always_inline)) void recount_cell(sw_world *w, square_cols q, bool narrow,
                                                               size_t c, bool leaving) {
    size_t i = c * q.S;
    if (!leaving) {
        cnt_add(q.all, i, 1, narrow);
        cnt_add(q.same, i, 1, narrow);
        return;
    }
    cnt_add(q.all, i, -1, narrow);
    int32_t n = cnt_add(q.same, i, -1, narrow);
    /* asleep means it was happy: same - 1 >= need before this -1, so it is
       unhappy now exactly when same == need (the awake, already unhappy ones
       are below that and left alone); rare where someone lives, never where
       nobody does (NO_NEED) */
    if (__builtin_expect(n == cnt_get(q.need, i, narrow), 0) && cnt_get(q.grp, i, narrow) == q.who)
        wake(w, (uint32_t)c);
}

/* recount_square's rows, `span` cells each: inline, so that the
 * comparison's widths (3 and 5) get fully unrolled loops. */
static inline __attribute__((always_inline)) void recount_rows(sw_world *w, square_cols q, bool narrow,
                                                               int32_t W, int32_t x0, int32_t y0, int32_t y1,
                                                               int32_t span, bool leaving) {
    for (int32_t cy = y0; cy <= y1; cy++) {
        size_t row = (size_t)cy * (size_t)W + (size_t)x0;
        for (int32_t i = 0; i < span; i++) recount_cell(w, q, narrow, row + (size_t)i, leaving);
    }
}

/* recount_rows with the comparison's widths (3 and 5, and 2, radius 1's at
 * the left and right edges) as constants, so each gets its own unrolled
 * loop; called with `narrow` and `leaving` constant too. */
static inline __attribute__((always_inline)) void recount_spans(sw_world *w, square_cols q, bool narrow,
                                                                int32_t W, int32_t x0, int32_t y0, int32_t y1,
                                                                int32_t span, bool leaving) {
    if (span == 3)
        recount_rows(w, q, narrow, W, x0, y0, y1, 3, leaving);
    else if (span == 2) /* radius 1 at the left or right edge */
        recount_rows(w, q, narrow, W, x0, y0, y1, 2, leaving);
    else if (span == 5)
        recount_rows(w, q, narrow, W, x0, y0, y1, 5, leaving);
    else
        recount_rows(w, q, narrow, W, x0, y0, y1, span, leaving);
}

/* A departure's (or arrival's) counts in one pass over the clipped square
 * of a plain one (plain_square): both counts move together, and a
 * departure wakes as it goes (each cell is seen once, so its count is
 * final when it is looked at). */
static __attribute__((noinline)) void recount_square(sw_world *w, const square_cols *qp, bool narrow, int32_t x,
                                                     int32_t y, int32_t r, bool leaving) {
    square_cols q = *qp;
    const sw_world_desc *d = sw_world_desc_of(w);
    int32_t W = (int32_t)d->width, H = (int32_t)d->height;
    int32_t x0 = x - r < 0 ? 0 : x - r, x1 = x + r >= W ? W - 1 : x + r;
    int32_t y0 = y - r < 0 ? 0 : y - r, y1 = y + r >= H ? H - 1 : y + r;
    int32_t span = x1 - x0 + 1;
    if (narrow && leaving)
        recount_spans(w, q, true, W, x0, y0, y1, span, true);
    else if (narrow)
        recount_spans(w, q, true, W, x0, y0, y1, span, false);
    else if (leaving)
        recount_spans(w, q, false, W, x0, y0, y1, span, true);
    else
        recount_spans(w, q, false, W, x0, y0, y1, span, false);
}

/* Count a resident arriving on (delta +1) or leaving (-1) its cell for
 * every radius in use, its own first; a departure wakes whom it concerns.
 * Its cell's record is the caller's. */
static void recount(sw_world *w, town *t, const resident *f, int32_t delta) {
    for (int k = -1; k < t->nradii; k++) {
        int i = k < 0 ? f->count_radius : k;
        if (k == f->count_radius) continue;
        int32_t r = t->radius[i];
        square_cols q = cols_of(t, f, i);
        if (plain_square(w, r)) {
            recount_square(w, &q, t->narrow, f->x, f->y, r, delta < 0);
            continue;
        }
        add_around(w, q.all, t->narrow, q.S, f->x, f->y, r, delta);
        add_around(w, q.same, t->narrow, q.S, f->x, f->y, r, delta);
        if (delta < 0) wake_around(w, q, t->narrow, f->x, f->y, r);
    }
}

/* Whether it is happy where it lives now, from its count (one load). */
static bool content(sw_world *w, const town *t, const resident *f) {
    size_t i = (size_t)sw_world_cell_index(w, f->x, f->y) * t->stride;
    /* the count includes the resident itself */
    return cnt_get(town_same_of(t, f), i, t->narrow) - 1 >= f->min_same;
}

/* Its mood where it lives now, from the counts: what look_around finds. */
static void mood(sw_world *w, const town *t, resident *f) {
    size_t i = (size_t)sw_world_cell_index(w, f->x, f->y) * t->stride;
    /* the counts include the resident itself */
    int32_t same = cnt_get(town_same_of(t, f), i, t->narrow) - 1;
    int32_t all = cnt_get(town_all_of(t, f), i, t->narrow) - 1;
    f->happy = same >= f->min_same;
    f->alike = all > 0 ? (double)same / all : 1.0;
}

/* recount_square around (x, y) at least r (a constant: 1 or 2) from every
 * edge of a bounded grid, in a town of one radius and two groups (records
 * of 5 int8s, a constant too): no clipping, the cells at fixed offsets
 * from the square's corner, fully unrolled. An arrival, which wakes
 * nobody, only adds. A departure decides whom to wake without a branch per
 * cell: where the alike count fell to the cell's need and the cell is of
 * the mover's group (recount_cell's test), a bit; then it wakes the
 * sleepers of the set bits in increasing order, which is recount_rows'
 * order (a post touches no count). The per-cell branches it replaces went
 * the rare way on 7 % of the cells, at random: about one move in two
 * mispredicted one. The mover's own cell is emptied before a departure
 * (so that its bit stays clear). */
static inline __attribute__((always_inline)) void recount_inner(sw_world *w, const square_cols *q, int32_t W,
                                                                int32_t x, int32_t y, int32_t r, bool leaving) {
    enum { S = 5 };
    /* (in registers: see move_plan) */
    int8_t *restrict all = q->all, *restrict same = q->same;
    const int8_t *restrict need = q->need, *restrict grp = q->grp;
    const int32_t who = q->who;
    size_t corner = (size_t)(y - r) * (size_t)W + (size_t)(x - r);
    const int32_t span = 2 * r + 1;
    uint32_t woken = 0; /* bit dy * span + dx: the sleeper there is to be woken */
#pragma GCC unroll 5
    for (int32_t dy = 0; dy < span; dy++) {
        size_t row = (corner + (size_t)dy * (size_t)W) * S;
#pragma GCC unroll 5
        for (int32_t dx = 0; dx < span; dx++) {
            size_t i = row + (size_t)dx * S;
            if (!leaving) {
                all[i]++;
                same[i]++;
                continue;
            }
            all[i]--;
            int8_t s = --same[i];
            woken |= (uint32_t)((s == need[i]) & (grp[i] == who)) << (dy * span + dx);
        }
    }
    if (!leaving) return;
    while (__builtin_expect(woken != 0, 0)) {
        int b = __builtin_ctz(woken);
        woken &= woken - 1;
        wake(w, (uint32_t)(corner + (size_t)(b / span) * (size_t)W + (size_t)(b % span)));
    }
}

/* What a move works with, read before any count is written: a store of
 * an int8 may alias anything, so that what is read through t or f after
 * one is loaded again (about 40 instructions a move). */
typedef struct move_plan {
    square_cols q;     /* the columns of the mover's radius */
    double *layer;     /* the "group" layer */
    int32_t W, H, r, group, need;
    bool fast;         /* one radius in use, a plain square: recount_square */
    bool inner;        /* and records of 5 int8s, radius 1 or 2: recount_inner
                          where the square fits the grid */
} move_plan;

static inline __attribute__((always_inline)) move_plan plan_move(sw_world *w, const town *t, const resident *f) {
    const sw_world_desc *d = sw_world_desc_of(w);
    int32_t r = f->radius;
    bool fast = t->nradii == 1 && plain_square(w, r);
    return (move_plan){.q = cols_of(t, f, f->count_radius), .layer = sw_world_layer_data(w, f->layer),
                       .W = (int32_t)d->width, .H = (int32_t)d->height, .r = r, .group = f->group,
                       .need = town_need_value(f->min_same, t->narrow), .fast = fast,
                       .inner = fast && t->narrow && t->stride == 5 && (r == 1 || r == 2)};
}

/* The counts of f leaving or arriving on (x, y), with the wake-ups a
 * departure calls for: recount_inner, recount_square or recount (every
 * radius; f then on (x, y) too). `narrow`: t's width, a constant. */
static inline __attribute__((always_inline)) void move_counts(sw_world *w, town *t, const resident *f,
                                                              const move_plan *p, int32_t x, int32_t y,
                                                              bool leaving, bool narrow) {
    int32_t r = p->r;
    if (narrow && p->inner && x >= r && y >= r && x + r < p->W && y + r < p->H) {
        if (r == 1)
            recount_inner(w, &p->q, p->W, x, y, 1, leaving);
        else
            recount_inner(w, &p->q, p->W, x, y, 2, leaving);
    } else if (p->fast) {
        recount_square(w, &p->q, narrow, x, y, r, leaving);
    } else {
        recount(w, t, f, leaving ? -1 : +1);
    }
}

/* A departure from (x, y), f's cell: the cell emptied (the "group" layer
 * and the record), then its counts and wake-ups (seeing the counts
 * without the arrival). */
static inline __attribute__((always_inline)) void depart(sw_world *w, town *t, const resident *f,
                                                         const move_plan *p, int32_t x, int32_t y, bool narrow) {
    size_t c = (size_t)y * (size_t)p->W + (size_t)x;
    p->layer[c] = 0;
    cnt_set(p->q.grp, c * p->q.S, 0, narrow);
    cnt_set(p->q.need, c * p->q.S, NO_NEED, narrow);
    move_counts(w, t, f, p, x, y, true, narrow);
}

/* An arrival on (x, y), f's cell now: the cell taken, then its counts. */
static inline __attribute__((always_inline)) void settle(sw_world *w, town *t, const resident *f,
                                                         const move_plan *p, int32_t x, int32_t y, bool narrow) {
    size_t c = (size_t)y * (size_t)p->W + (size_t)x;
    p->layer[c] = p->group;
    cnt_set(p->q.grp, c * p->q.S, p->q.who, narrow);
    cnt_set(p->q.need, c * p->q.S, p->need, narrow);
    move_counts(w, t, f, p, x, y, false, narrow);
}

/* depart and settle in a town of int32 records: out of line, so that the
 * common town's move keeps one copy, inline in move_away. */
static __attribute__((noinline)) void depart_wide(sw_world *w, town *t, const resident *f, const move_plan *p,
                                                  int32_t x, int32_t y) {
    depart(w, t, f, p, x, y, false);
}
static __attribute__((noinline)) void settle_wide(sw_world *w, town *t, const resident *f, const move_plan *p,
                                                  int32_t x, int32_t y) {
    settle(w, t, f, p, x, y, false);
}

/* Move f to (x, y): its departure's counts, the move, its arrival's. */
static inline void relocate(sw_tasklet *tk, sw_world *w, town *t, resident *f, int32_t x, int32_t y) {
    move_plan p = plan_move(w, t, f);
    int32_t fx = f->x, fy = f->y;
    if (__builtin_expect(t->narrow, 1))
        depart(w, t, f, &p, fx, fy, true);
    else
        depart_wide(w, t, f, &p, fx, fy);
    sw_move_to(tk, x, y); /* (sw_world_place less its look-up of the mover's slot) */
    f->x = x;
    f->y = y;
    if (__builtin_expect(t->narrow, 1))
        settle(w, t, f, &p, x, y, true);
    else
        settle_wide(w, t, f, &p, x, y);
}

/* A resident's first arrival (its init): its counts, and the list of
 * empty cells to be made again (it was not drawn from it). */
static void arrive(sw_world *w, town *t, resident *f) {
    move_plan p = plan_move(w, t, f);
    if (t->narrow)
        settle(w, t, f, &p, f->x, f->y, true);
    else
        settle_wide(w, t, f, &p, f->x, f->y);
    sw_world_layer_data(w, t->empties)[0] = -1;
}

/* ---- the empty cells ------------------------------------------------------------ */

/* The cells where no resident lives, listed in the layer EMPTY_LAYER,
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
 * count that is not what it says, or no draw found: listed_empty. */
static bool move_away(sw_tasklet *t, sw_world *w, town *tn, resident *f) {
    int32_t x, y;
    double *e = sw_world_layer_data(w, tn->empties);
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
    relocate(t, w, tn, f, x, y);
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
    /* the "group" layer (made if missing), then the world's counts (made,
       or made again with this resident's radius and group, where needed) */
    f->layer = sw__model_layer(w, "group", 0);
    town *tn = f->layer >= 0 ? town_of(w, f) : NULL;
    if (!tn) {
        f->layer = -1; /* out of memory: it leaves at once */
        return;
    }
    arrive(w, tn, f);
}

/* Statistics read `happy` and `alike` as of now, slept through or not. */
static void resident_refresh(sw_sched *s, sw_id id, void *frame) {
    (void)id;
    resident *f = frame;
    if (f->layer < 0) return;
    sw_world *w = sw_world_of_sched(s);
    town *tn = town_of(w, f);
    if (tn) mood(w, tn, f);
}

static sw_step resident_run(sw_tasklet *t, void *frame) {
    resident *f = frame;
    SW_BEGIN(t, settle, rest);
    if (f->layer < 0) SW_EXIT(t);
    for (;;) {
        {
            sw_world *w = sw_world_of(t);
            town *tn = town_of(w, f);
            if (__builtin_expect(!tn, 0)) SW_EXIT(t); /* out of memory */
            /* `alike` is left to the refresh hook: only statistics read it */
            f->happy = content(w, tn, f);
            if (!f->happy && move_away(t, w, tn, f)) f->happy = content(w, tn, f);
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
        town *tn = town_of(w, f);
        if (__builtin_expect(!tn, 0)) SW_EXIT(t); /* out of memory */
        look_around(w, f);
        if (!f->happy && move_away(t, w, tn, f)) look_around(w, f);
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
    SW_FIELD(resident, count_radius, SW_T_I32),
    SW_FIELD(resident, count_group, SW_T_I32),
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

/* (declared above, for town_sets) */
static bool is_resident(const sw_kind *k) {
    return k == &sw_kind_resident || k == &sw_kind_resident_polled;
}

/* Place `n` residents on distinct uniformly random cells of an empty town
 * (a partial Fisher-Yates over the cells, from the world's own stream):
 * the first half group 1, the rest group 2, written into the "group"
 * layer. Their cells, in that order, or NULL when out of memory. */
static uint32_t *place_town(sw_world *w, const resident *one, uint32_t n) {
    uint32_t ncells = sw_world_width(w) * sw_world_height(w);
    uint32_t *cells = malloc((size_t)ncells * sizeof *cells);
    if (!cells) return NULL;
    for (uint32_t c = 0; c < ncells; c++) cells[c] = c;
    double *grp = sw_world_layer_data(w, one->layer);
    uint64_t key = sw_rng_key(sw_world_desc_of(w)->seed, 0x7363686c706c6163ULL /* "schlplac" */);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t j = i + (uint32_t)sw__model_below(sw_rng_at(key, i), ncells - i);
        uint32_t c = cells[j];
        cells[j] = cells[i];
        cells[i] = c;
        grp[c] = i < n / 2 ? 1 : 2;
    }
    return cells;
}

/* The town's counts, attached to the world: its residents (place_town's
 * first n cells: the first half group 1, the rest group 2) all of one's
 * radius and minimum, counted at once (box sums of three counts a pass,
 * rather than a square per resident). False when out of memory. */
static bool count_town(sw_world *w, const resident *one, int empties, const uint32_t *cells, uint32_t n) {
    const int32_t groups[2] = {1, 2};
    town *t = town_make(w, sw_world_layer_data(w, one->layer), empties, &one->radius, 1, groups, 2, true);
    if (!t) return false;
    void *who = town_col(t, TOWN_GROUP), *need = town_col(t, town_need(t, 0));
    int32_t min_same = town_need_value(one->min_same, t->narrow);
    for (uint32_t i = 0; i < n; i++) {
        size_t c = (size_t)cells[i] * t->stride;
        cnt_set(who, c, i < n / 2 ? 1 : 2, t->narrow); /* groups 1 and 2: places 0 and 1 */
        cnt_set(need, c, min_same, t->narrow);
    }
    if (sw_world_attach(w, &town_key, t, town_free) == SW_OK) return true;
    town_free(t);
    return false;
}

/* The town's empty cells into its list: those place_town's partial shuffle
 * left after the n it placed. */
static void list_town_empties(sw_world *w, int empties, const uint32_t *cells, uint32_t n) {
    uint32_t ncells = sw_world_width(w) * sw_world_height(w);
    double *e = sw_world_layer_data(w, empties);
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
 * its cell, clamped radius, layers and places in the counts filled in here
 * (everyone was counted at once before), so no init runs. The runs' images on the stack: a
 * town's worth on the heap moved the run's later reallocations (they
 * copied). */
static bool spawn_town(sw_world *w, const sw_kind *kind, const resident *one, const resident *two,
                       const uint32_t *cells, uint32_t n) {
    enum { RUN = 64 };
    resident images[RUN];
    /* an image is copied whole only when its group changes (once or twice
       a slot): the runs differ in their cells alone */
    for (uint32_t j = 0; j < RUN; j++) images[j].group = 0;
    uint32_t W = sw_world_width(w);
    uint64_t m = W > 1 ? UINT64_MAX / W + 1 : 0;
    for (uint32_t i = 0; i < n; i += RUN) {
        uint32_t k = n - i < RUN ? n - i : RUN;
        for (uint32_t j = 0; j < k; j++) {
            const resident *f = i + j < n / 2 ? one : two;
            if (images[j].group != f->group) images[j] = *f;
            uint32_t c = cells[i + j], y = town_row(c, W, m);
            images[j].x = (int32_t)(c - y * W);
            images[j].y = (int32_t)y;
        }
        if (sw_world_spawn_many_final(w, kind, images, sizeof *images, cells + i, k, 0) != (int64_t)k)
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
    /* the layers and counts, made here once rather than looked up by every
       resident */
    int32_t most = (int32_t)d.size;
    int32_t r = d.radius < 0 ? 0 : d.radius > most ? most : d.radius;
    resident one = {.group = 1, .radius = r, .min_same = d.min_same};
    resident two = one;
    two.group = 2;
    two.count_group = 1; /* (the town's groups: 1, 2) */
    one.layer = two.layer = sw_world_layer_add(w, "group", 0);
    int empties = one.layer >= 0 ? sw_world_layer_add(w, EMPTY_LAYER, -1) : -1;
    if (empties < 0) {
        sw_world_free(w);
        return NULL;
    }
    /* everyone placed first, then counted at once, then spawned */
    uint32_t *cells = place_town(w, &one, d.agents);
    bool ok = cells != NULL && count_town(w, &one, empties, cells, d.agents);
    if (ok) list_town_empties(w, empties, cells, d.agents);
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

int32_t sw__schelling_count(sw_world *w, int32_t r, int32_t g, uint32_t c) {
    const town *t = sw_world_attached(w, &town_key);
    if (!t || c >= sw_world_width(w) * sw_world_height(w)) return INT32_MIN;
    int i = town_index(t->radius, t->nradii, r), s = g > 0 ? town_index(t->group, t->ngroups, g) : 0;
    if (i < 0 || s < 0) return INT32_MIN;
    uint32_t field = town_need(t, i) + (g < 0 ? 0 : g == 0 ? 1 : 2 + (uint32_t)s);
    return cnt_get(town_col(t, field), (size_t)c * t->stride, t->narrow);
}
