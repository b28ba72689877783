/* model_util.h - small helpers the built-in models share. Internal to agents/.
 *
 * Walking one random Moore step and finding (or making) a world layer are
 * the same few lines in several models; they live here so each model file
 * reads as its story. */
#ifndef SW_AGENTS_MODEL_UTIL_H
#define SW_AGENTS_MODEL_UTIL_H

#include "swarmlet.h"

/* The index of layer `name`, added (every cell `init`) if the scenario did
 * not declare it. Negative only when out of memory. */
static inline int sw__model_layer(sw_world *w, const char *name, double init) {
    int l = sw_world_layer_find(w, name);
    return l >= 0 ? l : sw_world_layer_add(w, name, init);
}

/* Move (*x, *y) to a uniformly random one of its Moore neighbours: 8 inside
 * the grid or on a torus, fewer at the borders of a bounded grid. Interior
 * cells (the common case) take one draw and no enumeration. */
static inline void sw__model_moore_step(sw_tasklet *t, const sw_world *w, int32_t *x, int32_t *y) {
    static const int8_t dx[8] = {-1, 0, 1, -1, 1, -1, 0, 1};
    static const int8_t dy[8] = {-1, -1, -1, 0, 0, 1, 1, 1};
    int32_t W = (int32_t)sw_world_width(w), H = (int32_t)sw_world_height(w);
    if (sw_world_topology(w) == SW_TOPO_TORUS) {
        int k = (int)sw_rand_below(t, 8);
        int32_t nx = *x + dx[k], ny = *y + dy[k];
        *x = nx < 0 ? nx + W : nx >= W ? nx - W : nx;
        *y = ny < 0 ? ny + H : ny >= H ? ny - H : ny;
        return;
    }
    if (*x > 0 && *y > 0 && *x < W - 1 && *y < H - 1) {
        int k = (int)sw_rand_below(t, 8);
        *x += dx[k];
        *y += dy[k];
        return;
    }
    int ok[8], n = 0;
    for (int k = 0; k < 8; k++) {
        int32_t nx = *x + dx[k], ny = *y + dy[k];
        if (nx >= 0 && ny >= 0 && nx < W && ny < H) ok[n++] = k;
    }
    if (n == 0) return; /* a 1x1 world: nowhere to go */
    int k = ok[sw_rand_below(t, (uint64_t)n)];
    *x += dx[k];
    *y += dy[k];
}

#endif
