/* floor_models.c - the comparison's models as plain C programs (see
 * floor_models.h): the floor `swarmlet bench floor` measures Swarmlet
 * against.
 *
 * Each model is what one would write for that model alone, in an
 * afternoon, with no engine: its agents in an array of small structs, one
 * sequential random stream (SplitMix64 over a counter, engine/rng.h's
 * mixer), a fresh Fisher-Yates order each step, and no more index than the
 * model needs: wolf-sheep a per-cell list of sheep made once a step for the
 * wolves (and, per cell, the step its grass is grown from: no grass phase),
 * flocking its birds sorted by bucket at each step's start (a counting
 * sort; buckets as wide as the visual distance plus a step's flight), Schelling a grid of groups, each cell's count of either group
 * around it (kept by every move, so that a resident's check is one load),
 * and a list of the empty cells.
 * Nothing depends on the benchmark's parameters; no SIMD intrinsics. */
#include "floor_models.h"

#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- what the three share ------------------------------------------------------- */

typedef struct {
    uint64_t state;
} stream;

static inline uint64_t next_u64(stream *r) {
    r->state += SW_RNG_GAMMA;
    return sw_rng_mix(r->state);
}

/* Uniform in [0, n) by multiply-shift (as the models' sw__model_below). */
static inline uint32_t next_below(stream *r, uint32_t n) {
    return (uint32_t)(((__uint128_t)next_u64(r) * n) >> 64);
}

static inline double next_unit(stream *r) { return sw_rng_unit(next_u64(r)); }

static stream stream_of(uint64_t seed) { return (stream){sw_rng_key(seed, 0x666c6f6f72ULL /* "floor" */)}; }

/* A fresh random order of `n` elements of `size` bytes, in place (inlined,
 * so that each caller's copies are of its element's constant size). */
static inline __attribute__((always_inline)) void shuffle(stream *r, void *base, uint32_t n, size_t size) {
    char *a = base, tmp[32];
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = next_below(r, i);
        memcpy(tmp, a + (size_t)(i - 1) * size, size);
        memcpy(a + (size_t)(i - 1) * size, a + (size_t)j * size, size);
        memcpy(a + (size_t)j * size, tmp, size);
    }
}

/* ---- wolf-sheep ------------------------------------------------------------------- */

typedef struct {
    int32_t x, y; /* x < 0: dead, dropped at its kind's next phase */
    double energy;
} animal;
_Static_assert(sizeof(animal) <= 32, "shuffle's buffer");

typedef struct {
    animal *a;
    uint32_t n, cap;
} herd;

struct sw_floor_ws {
    sw_floor_ws_desc d;
    stream rng;
    int32_t tick;     /* the step running (1 in the first) */
    herd sheep, wolves;
    int32_t *grow_at; /* per cell: grown from the grass phase of this step on */
    int32_t *first;   /* per cell: its first sheep (index), -1 none */
    int32_t *next;    /* per sheep: the next sheep on its cell */
    uint32_t *listed; /* the cells whose list is not empty */
    uint32_t nlisted, list_cap;
};

/* Room for every animal of the herd to give birth once. */
static bool herd_reserve(herd *h) {
    if (h->cap >= 2 * h->n + 1) return true;
    uint32_t cap = 2 * h->n + 16;
    animal *a = realloc(h->a, (size_t)cap * sizeof *a);
    if (!a) return false;
    h->a = a;
    h->cap = cap;
    return true;
}

/* Drop the dead, keeping the others (in any order: the next phase shuffles). */
static void herd_compact(herd *h) {
    uint32_t k = 0;
    for (uint32_t i = 0; i < h->n; i++)
        if (h->a[i].x >= 0) h->a[k++] = h->a[i];
    h->n = k;
}

static bool herd_populate(herd *h, stream *r, uint32_t n, const sw_floor_ws_desc *d, double gain) {
    h->n = n;
    if (!herd_reserve(h)) return false;
    for (uint32_t i = 0; i < n; i++) {
        h->a[i].x = (int32_t)next_below(r, d->width);
        h->a[i].y = (int32_t)next_below(r, d->height);
        h->a[i].energy = next_below(r, (uint32_t)(2 * gain));
    }
    return true;
}

/* A uniformly random one of the Moore neighbours on the grid (inlined: a
 * call per step of every animal, with its pointers, cost a fifth more). */
static inline __attribute__((always_inline)) void moore_step(stream *r, int32_t W, int32_t H, int32_t *x, int32_t *y) {
    static const int8_t dx[8] = {-1, 0, 1, -1, 1, -1, 0, 1};
    static const int8_t dy[8] = {-1, -1, -1, 0, 0, 1, 1, 1};
    if (*x > 0 && *x < W - 1 && *y > 0 && *y < H - 1) {
        uint32_t k = next_below(r, 8);
        *x += dx[k];
        *y += dy[k];
        return;
    }
    uint8_t ok[8];
    uint32_t n = 0;
    for (uint32_t k = 0; k < 8; k++) {
        int32_t nx = *x + dx[k], ny = *y + dy[k];
        if (nx >= 0 && nx < W && ny >= 0 && ny < H) ok[n++] = (uint8_t)k;
    }
    if (n == 0) return;
    uint32_t k = ok[next_below(r, n)];
    *x += dx[k];
    *y += dy[k];
}

/* The animal's energy after a step's food, or its death; then perhaps a
 * young one on its cell, with half its energy. Births go to the end of the
 * herd, past this phase's animals: they act from the next step on. */
static void live_on(sw_floor_ws *m, herd *h, uint32_t i, double reproduce) {
    animal *a = &h->a[i];
    if (a->energy < 0) {
        a->x = -1;
        return;
    }
    if (next_unit(&m->rng) < reproduce) {
        a->energy /= 2;
        h->a[h->n++] = *a;
    }
}

static uint32_t sheep_phase(sw_floor_ws *m) {
    herd *h = &m->sheep;
    int32_t W = (int32_t)m->d.width, H = (int32_t)m->d.height;
    herd_compact(h);
    shuffle(&m->rng, h->a, h->n, sizeof *h->a);
    uint32_t n = h->n;
    for (uint32_t i = 0; i < n; i++) {
        animal *a = &h->a[i];
        moore_step(&m->rng, W, H, &a->x, &a->y);
        a->energy -= 1;
        int32_t *g = &m->grow_at[a->y * W + a->x];
        if (*g < m->tick) { /* grown: eaten, it grows again `regrowth` steps on */
            *g = m->tick + m->d.regrowth;
            a->energy += m->d.sheep_gain;
        }
        live_on(m, h, i, m->d.sheep_reproduce);
    }
    return n;
}

/* Room for a list entry per sheep. */
static bool lists_reserve(sw_floor_ws *m, uint32_t n) {
    if (m->list_cap >= n) return true;
    int32_t *next = realloc(m->next, (size_t)n * sizeof *next);
    if (next) m->next = next;
    uint32_t *listed = realloc(m->listed, (size_t)n * sizeof *listed);
    if (listed) m->listed = listed;
    if (!next || !listed) return false;
    m->list_cap = n;
    return true;
}

/* Each cell's living sheep as a list, for the wolves (every cell's list is
 * empty before: see unlist_sheep). */
static bool list_sheep(sw_floor_ws *m) {
    const herd *h = &m->sheep;
    if (!lists_reserve(m, h->n)) return false;
    m->nlisted = 0;
    for (uint32_t i = 0; i < h->n; i++) {
        if (h->a[i].x < 0) continue;
        int32_t c = h->a[i].y * (int32_t)m->d.width + h->a[i].x;
        if (m->first[c] < 0) m->listed[m->nlisted++] = (uint32_t)c;
        m->next[i] = m->first[c];
        m->first[c] = (int32_t)i;
    }
    return true;
}

/* Every cell's list emptied again, by the cells that had one: a pass over
 * (at most) the sheep, not over the grid. */
static void unlist_sheep(sw_floor_ws *m) {
    for (uint32_t k = 0; k < m->nlisted; k++) m->first[m->listed[k]] = -1;
}

/* Eat a uniformly random living sheep of cell `c`, if any. */
static bool eat_sheep(sw_floor_ws *m, int32_t c) {
    uint32_t n = 0;
    for (int32_t s = m->first[c]; s >= 0; s = m->next[s]) n += m->sheep.a[s].x >= 0;
    if (n == 0) return false;
    uint32_t k = next_below(&m->rng, n);
    for (int32_t s = m->first[c];; s = m->next[s]) {
        if (m->sheep.a[s].x < 0) continue;
        if (k-- == 0) {
            m->sheep.a[s].x = -1;
            return true;
        }
    }
}

static uint32_t wolf_phase(sw_floor_ws *m) {
    herd *h = &m->wolves;
    int32_t W = (int32_t)m->d.width, H = (int32_t)m->d.height;
    herd_compact(h);
    shuffle(&m->rng, h->a, h->n, sizeof *h->a);
    uint32_t n = h->n;
    for (uint32_t i = 0; i < n; i++) {
        animal *a = &h->a[i];
        moore_step(&m->rng, W, H, &a->x, &a->y);
        a->energy -= 1;
        if (eat_sheep(m, a->y * W + a->x)) a->energy += m->d.wolf_gain;
        live_on(m, h, i, m->d.wolf_reproduce);
    }
    return n;
}

sw_floor_ws *sw_floor_ws_new(const sw_floor_ws_desc *d, uint64_t seed) {
    sw_floor_ws *m = calloc(1, sizeof *m);
    if (!m || !d->width || !d->height) {
        free(m);
        return NULL;
    }
    m->d = *d;
    m->rng = stream_of(seed);
    size_t cells = (size_t)d->width * d->height;
    m->grow_at = malloc(cells * sizeof *m->grow_at);
    m->first = malloc(cells * sizeof *m->first);
    if (!m->grow_at || !m->first || !herd_populate(&m->sheep, &m->rng, d->sheep, d, d->sheep_gain) ||
        !herd_populate(&m->wolves, &m->rng, d->wolves, d, d->wolf_gain)) {
        sw_floor_ws_free(m);
        return NULL;
    }
    memset(m->first, 0xff, cells * sizeof *m->first); /* no lists */
    /* grown (from step 0) with probability 1/2, else countdown c: grown at
       the grass phase of step 1 + c */
    for (size_t c = 0; c < cells; c++)
        m->grow_at[c] = next_unit(&m->rng) < 0.5 || d->regrowth <= 0
                            ? 0
                            : 1 + (int32_t)next_below(&m->rng, (uint32_t)d->regrowth);
    return m;
}

/* Sheep, then wolves, then grass: the grass needs no phase of its own, as
 * each cell keeps the step it is grown from (the polled countdown's rule). */
int64_t sw_floor_ws_step(sw_floor_ws *m) {
    m->tick++;
    if (!herd_reserve(&m->sheep) || !herd_reserve(&m->wolves)) return -1;
    int64_t turns = sheep_phase(m);
    if (!list_sheep(m)) return -1;
    turns += wolf_phase(m);
    unlist_sheep(m);
    return turns;
}

static uint32_t herd_living(const herd *h) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < h->n; i++) n += h->a[i].x >= 0;
    return n;
}

void sw_floor_ws_counts(const sw_floor_ws *m, uint32_t *sheep, uint32_t *wolves) {
    *sheep = herd_living(&m->sheep);
    *wolves = herd_living(&m->wolves);
}

void sw_floor_ws_free(sw_floor_ws *m) {
    if (!m) return;
    free(m->sheep.a);
    free(m->wolves.a);
    free(m->grow_at);
    free(m->first);
    free(m->next);
    free(m->listed);
    free(m);
}

/* ---- flocking ------------------------------------------------------------------------ */

/* The flock in structure-of-arrays form, sorted by bucket at the start of
 * each step (a counting sort), so that a query reads each row of buckets
 * as one contiguous range. A bird moves within the step, in its own slot:
 * later birds read where it is now; only its bucket is as of the step's
 * start. It has flown at most `speed` since, so buckets as wide as the
 * visual distance plus the speed still hold every neighbour within the
 * 3 x 3 around the querying bird's bucket. Within a step a bird's point is
 * not wrapped (the sort wraps it): a neighbour's offset is then its point
 * plus its bucket column's and row's shift across the seam, the minimum
 * image itself while a bucket is narrower than a quarter of the space
 * less a flight; else each offset's minimum image is taken. */
struct sw_floor_flock {
    sw_floor_flock_desc d;
    stream rng;
    double *x, *y, *vx, *vy;     /* per slot, in bucket order */
    double *x2, *y2, *vx2, *vy2; /* the sort's other buffers */
    uint32_t *order;             /* the slots in this step's random order */
    uint32_t *start;             /* per bucket: its first slot; then the end */
    uint32_t *bucket;            /* per slot: its bucket (for the sort) */
    int32_t across;              /* buckets per side (1: one bucket for all) */
    double per_width;            /* 1 / a bucket's width */
    bool shifts;                 /* the shifts give the minimum image (above) */
};

enum { FLOCK_SPEED = 1 }; /* and separation 1, factors 0.03, 0.015, 0.05 */

static uint32_t bucket_of(const sw_floor_flock *m, double x, double y) {
    int32_t bx = (int32_t)(x * m->per_width), by = (int32_t)(y * m->per_width);
    if (bx >= m->across) bx = m->across - 1;
    if (by >= m->across) by = m->across - 1;
    return (uint32_t)(by * m->across + bx);
}

/* Back into [0, size) after at most a flight out of it. */
static inline double wrap(double v, double size) { return v < 0 ? v + size : v >= size ? v - size : v; }

static void swap_buffers(double **a, double **b) {
    double *t = *a;
    *a = *b;
    *b = t;
}

/* Birds into bucket order: count, prefix sums, scatter. */
static void sort_by_bucket(sw_floor_flock *m) {
    uint32_t n = m->d.birds, nb = (uint32_t)(m->across * m->across);
    memset(m->start, 0, (nb + 1) * sizeof *m->start);
    for (uint32_t i = 0; i < n; i++) {
        m->x[i] = wrap(m->x[i], m->d.size);
        m->y[i] = wrap(m->y[i], m->d.size);
        m->bucket[i] = bucket_of(m, m->x[i], m->y[i]);
        m->start[m->bucket[i] + 1]++;
    }
    for (uint32_t b = 0; b < nb; b++) m->start[b + 1] += m->start[b];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k = m->start[m->bucket[i]]++;
        m->x2[k] = m->x[i];
        m->y2[k] = m->y[i];
        m->vx2[k] = m->vx[i];
        m->vy2[k] = m->vy[i];
    }
    /* the scatter moved each start to its bucket's end: back by one bucket */
    memmove(m->start + 1, m->start, nb * sizeof *m->start);
    m->start[0] = 0;
    swap_buffers(&m->x, &m->x2);
    swap_buffers(&m->y, &m->y2);
    swap_buffers(&m->vx, &m->vx2);
    swap_buffers(&m->vy, &m->vy2);
}

/* The shortest of d, d - size and d + size. */
static inline double min_image(double d, double size) {
    return d > size / 2 ? d - size : d < -size / 2 ? d + size : d;
}

typedef struct {
    uint32_t n;
    double cx, cy, sx, sy, mx, my; /* cohere, separate, match */
} steer;

/* Add the birds of slots [from, to), shifted by (shx, shy) (or at their
 * minimum image), within the visual distance of the point (x, y) of slot i. */
static void steer_by_range(const sw_floor_flock *m, uint32_t i, double x, double y, uint32_t from,
                           uint32_t to, double shx, double shy, steer *s) {
    double size = m->d.size, vis2 = m->d.visual * m->d.visual;
    bool image = !m->shifts;
    steer t = *s; /* in registers through the loop */
    for (uint32_t k = from; k < to; k++) {
        double dx = m->x[k] - x, dy = m->y[k] - y;
        if (image) {
            dx = min_image(dx, size);
            dy = min_image(dy, size);
        } else {
            dx += shx;
            dy += shy;
        }
        double d2 = dx * dx + dy * dy;
        if (d2 > vis2 || k == i) continue;
        t.n++;
        t.cx += dx;
        t.cy += dy;
        t.mx += m->vx[k];
        t.my += m->vy[k];
        if (d2 < 1.0) { /* closer than the separation, 1 */
            t.sx -= dx;
            t.sy -= dy;
        }
    }
    *s = t;
}

/* A bucket row or column next to b, wrapped, and the shift across the seam
 * that puts its birds beside b's. */
static inline int32_t next_to(int32_t b, int32_t o, int32_t A, double size, double *shift) {
    int32_t n = b + o;
    *shift = n < 0 ? -size : n >= A ? size : 0;
    return n < 0 ? n + A : n >= A ? n - A : n;
}

/* The 3 x 3 buckets around slot i's point (or the one bucket): a row of
 * three in one range unless it crosses the seam. */
static void steer_of(const sw_floor_flock *m, uint32_t i, steer *s) {
    *s = (steer){0};
    int32_t A = m->across;
    double size = m->d.size, x = wrap(m->x[i], size), y = wrap(m->y[i], size);
    if (A == 1) {
        steer_by_range(m, i, x, y, 0, m->d.birds, 0, 0, s);
        return;
    }
    uint32_t b = bucket_of(m, x, y);
    int32_t bx = (int32_t)b % A, by = (int32_t)b / A;
    for (int32_t oy = -1; oy <= 1; oy++) {
        double shy, shx;
        int32_t row = next_to(by, oy, A, size, &shy) * A;
        if (bx > 0 && bx < A - 1) {
            steer_by_range(m, i, x, y, m->start[row + bx - 1], m->start[row + bx + 2], 0, shy, s);
            continue;
        }
        for (int32_t ox = -1; ox <= 1; ox++) {
            int32_t k = row + next_to(bx, ox, A, size, &shx);
            steer_by_range(m, i, x, y, m->start[k], m->start[k + 1], shx, shy, s);
        }
    }
}

static void fly(sw_floor_flock *m, uint32_t i) {
    steer s;
    steer_of(m, i, &s);
    double k = 1.0 / (s.n ? s.n : 1);
    double vx = m->vx[i] + (s.cx * 0.03 + s.sx * 0.015 + s.mx * 0.05) * k;
    double vy = m->vy[i] + (s.cy * 0.03 + s.sy * 0.015 + s.my * 0.05) * k;
    double norm = sqrt(vx * vx + vy * vy);
    if (norm > 0) {
        vx /= norm;
        vy /= norm;
    }
    m->vx[i] = vx;
    m->vy[i] = vy;
    m->x[i] += vx * FLOCK_SPEED; /* wrapped by the next sort */
    m->y[i] += vy * FLOCK_SPEED;
}

sw_floor_flock *sw_floor_flock_new(const sw_floor_flock_desc *d, uint64_t seed) {
    sw_floor_flock *m = calloc(1, sizeof *m);
    if (!m || !(d->size > 0) || !(d->visual > 0)) {
        free(m);
        return NULL;
    }
    m->d = *d;
    m->rng = stream_of(seed);
    /* fewer than 3 across, one bucket for all (then each bird's minimum
       image alone finds its neighbours) */
    m->across = (int32_t)fmin(floor(d->size / (d->visual + FLOCK_SPEED)), 4096);
    if (m->across < 3) m->across = 1;
    m->per_width = m->across / d->size;
    m->shifts = m->across > 1 && 2 * (d->size / m->across) + FLOCK_SPEED < d->size / 2;
    size_t n = d->birds, nb = (size_t)m->across * (size_t)m->across;
    double **arrays[] = {&m->x, &m->y, &m->vx, &m->vy, &m->x2, &m->y2, &m->vx2, &m->vy2};
    bool ok = true;
    for (size_t a = 0; a < sizeof arrays / sizeof *arrays; a++)
        ok = (*arrays[a] = malloc((n ? n : 1) * sizeof(double))) && ok;
    m->order = malloc((n ? n : 1) * sizeof *m->order);
    m->bucket = malloc((n ? n : 1) * sizeof *m->bucket);
    m->start = malloc((nb + 1) * sizeof *m->start);
    if (!ok || !m->order || !m->bucket || !m->start) {
        sw_floor_flock_free(m);
        return NULL;
    }
    for (uint32_t i = 0; i < d->birds; i++) {
        m->x[i] = next_unit(&m->rng) * d->size;
        m->y[i] = next_unit(&m->rng) * d->size;
        m->vx[i] = 2 * next_unit(&m->rng) - 1;
        m->vy[i] = 2 * next_unit(&m->rng) - 1;
        m->order[i] = i;
    }
    return m;
}

/* Birds one by one in a fresh random order, each seeing the moves of those
 * before it. */
int64_t sw_floor_flock_step(sw_floor_flock *m) {
    sort_by_bucket(m);
    shuffle(&m->rng, m->order, m->d.birds, sizeof *m->order);
    for (uint32_t i = 0; i < m->d.birds; i++) fly(m, m->order[i]);
    return m->d.birds;
}

double sw_floor_flock_order(const sw_floor_flock *m) {
    double mx = 0, my = 0;
    for (uint32_t i = 0; i < m->d.birds; i++) {
        mx += m->vx[i];
        my += m->vy[i];
    }
    return m->d.birds ? sqrt(mx * mx + my * my) / m->d.birds : 0.0;
}

void sw_floor_flock_pos(const sw_floor_flock *m, uint32_t i, double *x, double *y) {
    *x = wrap(m->x[i], m->d.size);
    *y = wrap(m->y[i], m->d.size);
}

void sw_floor_flock_free(sw_floor_flock *m) {
    if (!m) return;
    double *arrays[] = {m->x, m->y, m->vx, m->vy, m->x2, m->y2, m->vx2, m->vy2};
    for (size_t a = 0; a < sizeof arrays / sizeof *arrays; a++) free(arrays[a]);
    free(m->order);
    free(m->bucket);
    free(m->start);
    free(m);
}

/* ---- Schelling ---------------------------------------------------------------------------- */

typedef struct {
    uint32_t cell;
    uint8_t group;
} resident;

struct sw_floor_schelling {
    sw_floor_schelling_desc d;
    stream rng;
    resident *r;
    uint8_t *grid;    /* per cell: 0 empty, else its resident's group */
    uint16_t *near;   /* per group (1, 2) and cell: that group's residents within
                         the radius, the cell's own included (kept by every move) */
    uint32_t *empty;  /* the empty cells, in any order */
    uint32_t nempty;
};

/* The clipped square of radius r around cell c of a W-wide grid. */
typedef struct {
    int32_t x0, x1, y0, y1;
} square;

static square square_around(uint32_t c, int32_t W, int32_t r) {
    int32_t x = (int32_t)c % W, y = (int32_t)c / W;
    return (square){x - r < 0 ? 0 : x - r, x + r >= W ? W - 1 : x + r, y - r < 0 ? 0 : y - r,
                    y + r >= W ? W - 1 : y + r};
}

static uint16_t *near_of(const sw_floor_schelling *m, uint8_t g) {
    return m->near + (size_t)(g - 1) * m->d.size * m->d.size;
}

/* A resident of group g arrives on cell c (delta 1) or leaves it (-1): the
 * counts of the cells around it change. */
static void count_move(sw_floor_schelling *m, uint32_t c, uint8_t g, int delta) {
    int32_t W = (int32_t)m->d.size;
    square q = square_around(c, W, m->d.radius);
    uint16_t *n = near_of(m, g);
    for (int32_t y = q.y0; y <= q.y1; y++)
        for (int32_t x = q.x0; x <= q.x1; x++) n[y * W + x] = (uint16_t)(n[y * W + x] + delta);
}

/* The residents of group g within the radius of cell c, and all of them,
 * the one on c included, counted on the grid (for the statistics: a check
 * of the counts, too). */
static void count_around(const sw_floor_schelling *m, uint32_t c, uint8_t g, int32_t *same,
                         int32_t *all) {
    int32_t W = (int32_t)m->d.size, s = 0, a = 0;
    square q = square_around(c, W, m->d.radius);
    for (int32_t y = q.y0; y <= q.y1; y++) {
        const uint8_t *row = m->grid + (size_t)y * (size_t)W;
        for (int32_t x = q.x0; x <= q.x1; x++) {
            s += row[x] == g;
            a += row[x] != 0;
        }
    }
    *same = s;
    *all = a;
}

static bool happy(const sw_floor_schelling *m, const resident *p) {
    return near_of(m, p->group)[p->cell] - 1 >= m->d.min_same; /* itself not counted */
}

/* To a uniformly random empty cell, whose place in the list the cell left
 * takes. */
static void move_away(sw_floor_schelling *m, resident *p) {
    uint32_t k = next_below(&m->rng, m->nempty), to = m->empty[k];
    m->empty[k] = p->cell;
    m->grid[p->cell] = 0;
    count_move(m, p->cell, p->group, -1);
    m->grid[to] = p->group;
    count_move(m, to, p->group, 1);
    p->cell = to;
}

sw_floor_schelling *sw_floor_schelling_new(const sw_floor_schelling_desc *d, uint64_t seed) {
    uint64_t cells = (uint64_t)d->size * d->size;
    sw_floor_schelling *m = calloc(1, sizeof *m);
    /* a count of up to (2 radius + 1)^2 fits in 16 bits */
    if (!m || d->agents > cells || cells > UINT32_MAX || d->radius < 0 || d->radius > 127) {
        free(m);
        return NULL;
    }
    m->d = *d;
    m->rng = stream_of(seed);
    m->r = malloc((size_t)d->agents * sizeof *m->r);
    m->grid = calloc(cells, 1);
    m->near = calloc(2 * cells, sizeof *m->near);
    m->empty = malloc(cells * sizeof *m->empty);
    if (!m->r || !m->grid || !m->near || !m->empty) {
        sw_floor_schelling_free(m);
        return NULL;
    }
    /* distinct random cells by a partial Fisher-Yates over all cells: the
       ones left over are the empty ones */
    for (uint32_t c = 0; c < cells; c++) m->empty[c] = c;
    for (uint32_t i = 0; i < d->agents; i++) {
        uint32_t j = i + next_below(&m->rng, (uint32_t)cells - i), c = m->empty[j];
        m->empty[j] = m->empty[i];
        m->r[i] = (resident){.cell = c, .group = i < d->agents / 2 ? 1 : 2};
        m->grid[c] = m->r[i].group;
        count_move(m, c, m->r[i].group, 1);
    }
    m->nempty = (uint32_t)cells - d->agents;
    memmove(m->empty, m->empty + d->agents, (size_t)m->nempty * sizeof *m->empty);
    return m;
}

/* Residents in a fresh random order: an unhappy one moves (if it can). */
int64_t sw_floor_schelling_step(sw_floor_schelling *m) {
    shuffle(&m->rng, m->r, m->d.agents, sizeof *m->r);
    for (uint32_t i = 0; i < m->d.agents; i++)
        if (m->nempty && !happy(m, &m->r[i])) move_away(m, &m->r[i]);
    return m->d.agents;
}

double sw_floor_schelling_segregation(const sw_floor_schelling *m, uint32_t *unhappy) {
    double sum = 0;
    uint32_t sad = 0;
    for (uint32_t i = 0; i < m->d.agents; i++) {
        int32_t same, all;
        count_around(m, m->r[i].cell, m->r[i].group, &same, &all);
        sum += all > 1 ? (double)(same - 1) / (all - 1) : 1.0;
        sad += same - 1 < m->d.min_same;
    }
    if (unhappy) *unhappy = sad;
    return m->d.agents ? sum / m->d.agents : 0.0;
}

void sw_floor_schelling_free(sw_floor_schelling *m) {
    if (!m) return;
    free(m->r);
    free(m->grid);
    free(m->near);
    free(m->empty);
    free(m);
}
