/* floor_models.c - the comparison's models as plain C programs (see
 * floor_models.h): the floor `swarmlet bench floor` measures Swarmlet
 * against.
 *
 * Each model is what one would write for that model alone, in an
 * afternoon, with no engine: its agents in an array of small structs, one
 * sequential random stream (SplitMix64 over a counter, engine/rng.h's
 * mixer), a fresh Fisher-Yates order each step, and no more index than the
 * model needs: wolf-sheep a per-cell list of sheep made once a step for the
 * wolves, flocking a bucket grid of doubly linked lists kept up to date as
 * birds move, Schelling a grid of groups and a list of the empty cells.
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
    uint32_t next_cap;
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

/* A uniformly random one of the Moore neighbours on the grid. */
static void moore_step(stream *r, int32_t W, int32_t H, int32_t *x, int32_t *y) {
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

/* Each cell's living sheep as a list, for the wolves. */
static bool list_sheep(sw_floor_ws *m) {
    const herd *h = &m->sheep;
    if (m->next_cap < h->n) {
        int32_t *next = realloc(m->next, (size_t)h->n * sizeof *next);
        if (!next) return false;
        m->next = next;
        m->next_cap = h->n;
    }
    memset(m->first, 0xff, (size_t)m->d.width * m->d.height * sizeof *m->first);
    for (uint32_t i = 0; i < h->n; i++) {
        if (h->a[i].x < 0) continue;
        int32_t c = h->a[i].y * (int32_t)m->d.width + h->a[i].x;
        m->next[i] = m->first[c];
        m->first[c] = (int32_t)i;
    }
    return true;
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
    return turns + wolf_phase(m);
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
    free(m);
}

/* ---- flocking ------------------------------------------------------------------------ */

typedef struct {
    double x, y, vx, vy;
    int32_t bucket, prev, next; /* its bucket's list */
} bird;

struct sw_floor_flock {
    sw_floor_flock_desc d;
    stream rng;
    bird *b;
    uint32_t *order;
    int32_t *head;   /* per bucket: its first bird, -1 none */
    int32_t across;  /* buckets per side (1: one bucket, read once) */
    double per_width; /* 1 / a bucket's width */
};

static int32_t bucket_of(const sw_floor_flock *m, double x, double y) {
    int32_t bx = (int32_t)(x * m->per_width), by = (int32_t)(y * m->per_width);
    if (bx >= m->across) bx = m->across - 1;
    if (by >= m->across) by = m->across - 1;
    return by * m->across + bx;
}

static void bucket_link(sw_floor_flock *m, int32_t i, int32_t k) {
    bird *p = &m->b[i];
    p->bucket = k;
    p->prev = -1;
    p->next = m->head[k];
    if (p->next >= 0) m->b[p->next].prev = i;
    m->head[k] = i;
}

static void bucket_unlink(sw_floor_flock *m, int32_t i) {
    bird *p = &m->b[i];
    if (p->prev >= 0) m->b[p->prev].next = p->next;
    else m->head[p->bucket] = p->next;
    if (p->next >= 0) m->b[p->next].prev = p->prev;
}

/* The shortest of d, d - size and d + size. */
static inline double min_image(double d, double size) {
    return d > size / 2 ? d - size : d < -size / 2 ? d + size : d;
}

typedef struct {
    uint32_t n;
    double cx, cy, sx, sy, mx, my; /* cohere, separate, match */
} steer;

/* Add the birds of bucket k within the visual distance of bird i, their
 * points shifted by (shx, shy): the bucket's image beside bird i's when the
 * 3 x 3 buckets around it cross the seam. With one bucket for all, each
 * bird's minimum image instead. */
static void steer_by_bucket(const sw_floor_flock *m, int32_t i, int32_t k, double shx, double shy,
                            steer *s) {
    const bird *me = &m->b[i];
    double size = m->d.size, vis2 = m->d.visual * m->d.visual;
    bool one = m->across == 1;
    steer t = *s; /* in registers through the loop, not through memory */
    for (int32_t j = m->head[k]; j >= 0; j = m->b[j].next) {
        const bird *o = &m->b[j];
        double dx = o->x + shx - me->x, dy = o->y + shy - me->y;
        if (one) {
            dx = min_image(dx, size);
            dy = min_image(dy, size);
        }
        double d2 = dx * dx + dy * dy;
        if (d2 > vis2 || j == i) continue;
        t.n++;
        t.cx += dx;
        t.cy += dy;
        t.mx += o->vx;
        t.my += o->vy;
        if (d2 < 1.0) { /* closer than the separation, 1 */
            t.sx -= dx;
            t.sy -= dy;
        }
    }
    *s = t;
}

/* A bucket row or column next to `b`, wrapped, and the shift of its birds'
 * coordinate that puts them beside b's. */
static inline int32_t next_to(int32_t b, int32_t o, int32_t A, double size, double *shift) {
    int32_t n = b + o;
    *shift = n < 0 ? -size : n >= A ? size : 0;
    return n < 0 ? n + A : n >= A ? n - A : n;
}

static void steer_of(const sw_floor_flock *m, int32_t i, steer *s) {
    *s = (steer){0};
    if (m->across == 1) {
        steer_by_bucket(m, i, 0, 0, 0, s);
        return;
    }
    int32_t A = m->across, k = m->b[i].bucket, bx = k % A, by = k / A;
    double size = m->d.size;
    for (int32_t oy = -1; oy <= 1; oy++) {
        double shy, shx;
        int32_t y = next_to(by, oy, A, size, &shy);
        for (int32_t ox = -1; ox <= 1; ox++) {
            int32_t x = next_to(bx, ox, A, size, &shx);
            steer_by_bucket(m, i, y * A + x, shx, shy, s);
        }
    }
}

static inline double wrap(double v, double size) { return v < 0 ? v + size : v >= size ? v - size : v; }

static void fly(sw_floor_flock *m, int32_t i) {
    steer s;
    steer_of(m, i, &s);
    bird *p = &m->b[i];
    double k = 1.0 / (s.n ? s.n : 1);
    p->vx += (s.cx * 0.03 + s.sx * 0.015 + s.mx * 0.05) * k;
    p->vy += (s.cy * 0.03 + s.sy * 0.015 + s.my * 0.05) * k;
    double norm = sqrt(p->vx * p->vx + p->vy * p->vy);
    if (norm > 0) {
        p->vx /= norm;
        p->vy /= norm;
    }
    p->x = wrap(p->x + p->vx, m->d.size); /* speed 1 */
    p->y = wrap(p->y + p->vy, m->d.size);
    int32_t b = bucket_of(m, p->x, p->y);
    if (b != p->bucket) {
        bucket_unlink(m, i);
        bucket_link(m, i, b);
    }
}

sw_floor_flock *sw_floor_flock_new(const sw_floor_flock_desc *d, uint64_t seed) {
    sw_floor_flock *m = calloc(1, sizeof *m);
    if (!m || !(d->size > 0) || !(d->visual > 0)) {
        free(m);
        return NULL;
    }
    m->d = *d;
    m->rng = stream_of(seed);
    /* buckets at least as wide as the visual distance: 3 x 3 of them hold
       every neighbour; fewer than 3 across, one bucket for all */
    m->across = (int32_t)fmin(floor(d->size / d->visual), 4096);
    if (m->across < 3) m->across = 1;
    m->per_width = m->across / d->size;
    m->b = malloc((size_t)d->birds * sizeof *m->b);
    m->order = malloc((size_t)d->birds * sizeof *m->order);
    m->head = malloc((size_t)m->across * m->across * sizeof *m->head);
    if (!m->b || !m->order || !m->head) {
        sw_floor_flock_free(m);
        return NULL;
    }
    memset(m->head, 0xff, (size_t)m->across * m->across * sizeof *m->head);
    for (uint32_t i = 0; i < d->birds; i++) {
        bird *p = &m->b[i];
        p->x = next_unit(&m->rng) * d->size;
        p->y = next_unit(&m->rng) * d->size;
        p->vx = 2 * next_unit(&m->rng) - 1;
        p->vy = 2 * next_unit(&m->rng) - 1;
        bucket_link(m, (int32_t)i, bucket_of(m, p->x, p->y));
        m->order[i] = i;
    }
    return m;
}

/* Birds one by one in a fresh random order, each seeing the moves of those
 * before it. */
int64_t sw_floor_flock_step(sw_floor_flock *m) {
    shuffle(&m->rng, m->order, m->d.birds, sizeof *m->order);
    for (uint32_t i = 0; i < m->d.birds; i++) fly(m, (int32_t)m->order[i]);
    return m->d.birds;
}

double sw_floor_flock_order(const sw_floor_flock *m) {
    double mx = 0, my = 0;
    for (uint32_t i = 0; i < m->d.birds; i++) {
        mx += m->b[i].vx;
        my += m->b[i].vy;
    }
    return m->d.birds ? sqrt(mx * mx + my * my) / m->d.birds : 0.0;
}

void sw_floor_flock_pos(const sw_floor_flock *m, uint32_t i, double *x, double *y) {
    *x = m->b[i].x;
    *y = m->b[i].y;
}

void sw_floor_flock_free(sw_floor_flock *m) {
    if (!m) return;
    free(m->b);
    free(m->order);
    free(m->head);
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
    uint32_t *empty;  /* the empty cells, in any order */
    uint32_t nempty;
};

/* The residents of group g within the radius of cell c, and all of them,
 * the one on c included. */
static void count_around(const sw_floor_schelling *m, uint32_t c, uint8_t g, int32_t *same,
                         int32_t *all) {
    int32_t W = (int32_t)m->d.size, r = m->d.radius;
    int32_t x = (int32_t)c % W, y = (int32_t)c / W;
    int32_t x0 = x - r < 0 ? 0 : x - r, x1 = x + r >= W ? W - 1 : x + r;
    int32_t y0 = y - r < 0 ? 0 : y - r, y1 = y + r >= W ? W - 1 : y + r;
    int32_t s = 0, a = 0;
    for (int32_t cy = y0; cy <= y1; cy++) {
        const uint8_t *row = m->grid + (size_t)cy * (size_t)W;
        for (int32_t cx = x0; cx <= x1; cx++) {
            s += row[cx] == g;
            a += row[cx] != 0;
        }
    }
    *same = s;
    *all = a;
}

static bool happy(const sw_floor_schelling *m, const resident *p) {
    int32_t same, all;
    count_around(m, p->cell, p->group, &same, &all);
    return same - 1 >= m->d.min_same; /* itself not counted */
}

/* To a uniformly random empty cell, whose place in the list the cell left
 * takes. */
static void move_away(sw_floor_schelling *m, resident *p) {
    uint32_t k = next_below(&m->rng, m->nempty), to = m->empty[k];
    m->empty[k] = p->cell;
    m->grid[p->cell] = 0;
    m->grid[to] = p->group;
    p->cell = to;
}

sw_floor_schelling *sw_floor_schelling_new(const sw_floor_schelling_desc *d, uint64_t seed) {
    uint64_t cells = (uint64_t)d->size * d->size;
    sw_floor_schelling *m = calloc(1, sizeof *m);
    if (!m || d->agents > cells || cells > UINT32_MAX) {
        free(m);
        return NULL;
    }
    m->d = *d;
    m->rng = stream_of(seed);
    m->r = malloc((size_t)d->agents * sizeof *m->r);
    m->grid = calloc(cells, 1);
    m->empty = malloc(cells * sizeof *m->empty);
    if (!m->r || !m->grid || !m->empty) {
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
    free(m->empty);
    free(m);
}
