/* model_util.h - small helpers the built-in models share. Internal to agents/.
 *
 * Walking one random Moore step, finding (or making) a world layer and a
 * cheap per-agent random stream are the same few lines in several models;
 * they live here so each model file reads as its story. */
#ifndef SW_AGENTS_MODEL_UTIL_H
#define SW_AGENTS_MODEL_UTIL_H

#include "swarmlet.h"

/* Flocking's 1 / max(n, 1) for the neighbour counts n below
 * SW__FLOCK_RECIPS (agents/flocking.c; declared here for its test). */
#define SW__FLOCK_RECIPS 128
extern const double sw__flock_recip[SW__FLOCK_RECIPS];

/* The index of layer `name`, added (every cell `init`) if the scenario did
 * not declare it. Negative only when out of memory. */
static inline int sw__model_layer(sw_world *w, const char *name, double init) {
    int l = sw_world_layer_find(w, name);
    return l >= 0 ? l : sw_world_layer_add(w, name, init);
}

/* A per-agent random stream kept in the agent's frame: the design's
 * counter-based generator (rng.h), keyed by the seed and the agent's id, with
 * the key worked out once at spawn rather than at every draw (sw_rand_u64
 * derives it each time, which was a fifth of wolf-sheep's instructions).
 * Key and counter are frame fields, so they are pickled and inspected like
 * any other state. The stream differs from the engine's sw_rand_* stream of
 * the same agent (a different key), so the two never repeat each other. */
static inline uint64_t sw__model_rng_key(sw_tasklet *t) {
    return sw_rng_key(sw_sched_seed(sw_sched_of(t)) ^ 0x6d6f64656c73ULL /* "models" */, sw_self(t));
}
/* The draw number `ctr` of the stream: callers pass their counter and step
 * it (f->rng_ctr++), whatever its width. */
static inline uint64_t sw__model_rand(uint64_t key, uint64_t ctr) {
    return sw_rng_at(key, ctr);
}
/* Uniform in [0, 1). */
static inline double sw__model_unit(uint64_t key, uint64_t ctr) {
    return sw_rng_unit(sw__model_rand(key, ctr));
}
/* Uniform in [0, n) by multiply-shift: exact for powers of two, otherwise
 * off by at most n / 2^64, far below anything a model can observe. */
static inline uint64_t sw__model_below(uint64_t r, uint64_t n) {
    return (uint64_t)(((__uint128_t)r * n) >> 64);
}

/* sw__model_below(r, 8), one of 8 Moore neighbours: the draw's top three
 * bits, the same number (the multiply-shift is exact for a power of two),
 * by a shift where GCC multiplied. */
static inline int sw__model_below8(uint64_t r) { return (int)(r >> 61); }

/* Move (*x, *y) to a uniformly random one of its Moore neighbours, chosen by
 * the random number `r`: 8 inside the grid or on a torus, fewer at the
 * borders of a bounded grid. The neighbours are numbered 0..7 in row-major
 * order of offsets; at a border the ones on the grid keep that order and
 * `r` picks among them, as if they had been listed. */
static inline void sw__model_moore_step(const sw_world *w, uint64_t r, int32_t *x, int32_t *y) {
    static const int8_t dx[8] = {-1, 0, 1, -1, 1, -1, 0, 1};
    static const int8_t dy[8] = {-1, -1, -1, 0, 0, 1, 1, 1};
    const sw_world_desc *d = sw_world_desc_of(w);
    int32_t W = (int32_t)d->width, H = (int32_t)d->height;
    if (d->topology == SW_TOPO_TORUS) {
        int k = sw__model_below8(r);
        int32_t nx = *x + dx[k], ny = *y + dy[k];
        *x = nx < 0 ? nx + W : nx >= W ? nx - W : nx;
        *y = ny < 0 ? ny + H : ny >= H ? ny - H : ny;
        return;
    }
    /* inside (0 < x < W - 1, and as much for y; one unsigned compare each):
       no enumeration */
    if ((uint32_t)(*x - 1) < (uint32_t)(W - 2) && (uint32_t)(*y - 1) < (uint32_t)(H - 2)) {
        int k = sw__model_below8(r);
        *x += dx[k];
        *y += dy[k];
        return;
    }
    /* at a border: the neighbours still on the grid as a bit set (bit k:
       neighbour k), then the chosen one's bit. Their number is the product
       of the columns and rows left (3, less one per border the cell is on)
       less the cell itself: no popcount, which without -mpopcnt is a call
       to libgcc's software one (~21 instructions) */
    unsigned ok = 0xff, nx = 3, ny = 3;
    if (*x == 0) ok &= ~0x29u, nx--;     /* 0, 3, 5: dx = -1 */
    if (*x == W - 1) ok &= ~0x94u, nx--; /* 2, 4, 7: dx = +1 */
    if (*y == 0) ok &= ~0x07u, ny--;     /* 0, 1, 2: dy = -1 */
    if (*y == H - 1) ok &= ~0xe0u, ny--; /* 5, 6, 7: dy = +1 */
    if (ok == 0) return; /* a 1x1 world: nowhere to go */
    for (uint64_t j = sw__model_below(r, (uint64_t)(nx * ny - 1)); j > 0; j--)
        ok &= ok - 1;
    int k = __builtin_ctz(ok);
    *x += dx[k];
    *y += dy[k];
}

#endif
