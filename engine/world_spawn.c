/* world_spawn.c - spawning agents already placed: at a cell or a point
 * (the spawn hook in world.c places them before their init runs), and
 * populating the world with many at once by a placement rule, from the
 * world's own random streams. */
#include "world_int.h"
#include "rng.h"

#include <stdlib.h>

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
    if (!sw__cell_wrap(w, &x, &y)) {
        if (!t)
            sw__world_errf(w, "cell (%d, %d) is outside the %ux%u world", x, y, w->d.width,
                           w->d.height);
        return SW_ID_NONE;
    }
    w->px = x;
    w->py = y;
    return spawn_placed(w, t, 1, kind, params, delay);
}

/* sw_world_spawn_at_point (t NULL: says why it failed) and sw_spawn_at_point. */
static sw_id spawn_at_point(sw_world *w, sw_tasklet *t, const sw_kind *kind, const void *params,
                            double x, double y, sw_tick delay) {
    if (!sw__space_wrap(w, &x, &y)) {
        if (!t)
            sw__world_errf(w, "point (%g, %g) is outside the %ux%u space", x, y, w->d.width,
                           w->d.height);
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

/* sw_spawn_at onto cell c, on the grid, from tasklet t, with the spawn hook
 * the world's own: the world places the newborn itself (the hook's every
 * case, sw__world_spawned_in), with no call through the hook's pointer and
 * no placement handed over in `pending` (a birth a few animal steps in
 * wolf-sheep). */
static sw_id spawn_own_at_cell(sw_world *w, sw_tasklet *t, const sw_kind *kind, const void *params,
                               uint32_t c, sw_tick delay) {
    uint32_t slot = sw__spawn_unhooked(t, kind, params, delay);
    if (slot == SW__NIL) return SW_ID_NONE;
    sw__world_spawned_in(w, slot, c);
    sw_id id = sw_handle_make(slot, w->s->tasks[slot].gen);
    sw__spawn_unhooked_init(t, kind, slot);
    return id;
}

sw_id sw_spawn_at(sw_tasklet *t, const sw_kind *kind, const void *params, int32_t x, int32_t y,
                  sw_tick delay) {
    sw_world *w = sw_world_of(t);
    if (__builtin_expect(sw__world_spawn_hook_is_ours(w) && sw__cell_wrap(w, &x, &y), 1))
        return spawn_own_at_cell(w, t, kind, params, sw_world_cell_index(w, x, y), delay);
    return spawn_at_cell(w, t, kind, params, x, y, delay);
}

sw_id sw_world_spawn_at_point(sw_world *w, const sw_kind *kind, const void *params, double x,
                              double y, sw_tick delay) {
    return spawn_at_point(w, NULL, kind, params, x, y, delay);
}

sw_id sw_spawn_at_point(sw_tasklet *t, const sw_kind *kind, const void *params, double x,
                        double y, sw_tick delay) {
    return spawn_at_point(sw_world_of(t), t, kind, params, x, y, delay);
}

/* A batch made with a spawn hook other than the world's: each agent made,
 * then that hook called as a single spawn calls it (with the world's
 * placement pending, for a hook that hands on to the world's), then, with
 * `init`, its init run (a single spawn's order: hook, then init); without,
 * none (the images are final: sw_world_spawn_many_final). */
static int64_t spawn_many_hooked(sw_world *w, const sw_kind *kind, const void *images,
                                 size_t stride, const uint32_t *cells, uint64_t n, sw_tick delay,
                                 bool init) {
    sw__spawn_batch b;
    int rc = sw__spawn_batch_begin(w->s, kind, n, &b);
    if (rc == SW_E_NOMEM) return 0;
    if (rc < 0) return rc;
    const char *image = images;
    for (uint64_t i = 0; i < n; i++, image += stride) {
        uint32_t slot = sw__spawn_batch_make(&b, image, delay);
        if (slot == SW__NIL) return (int64_t)i;
        sw_sched *s = w->s;
        sw__cell_xy(w, cells[i], &w->px, &w->py);
        w->pending = 1;
        const sw_id id = sw_handle_make(slot, s->tasks[slot].gen);
        if (s->on_spawn) s->on_spawn(s, id, s->spawn_ud);
        w->pending = 0;
        if (init) sw__spawn_batch_init(&b, id);
    }
    return (int64_t)n;
}

/* sw_world_spawn_many (init: each agent's init run) and
 * sw_world_spawn_many_final (not); inline, so that each has its loop
 * without the test. */
static inline __attribute__((always_inline)) int64_t spawn_many(sw_world *w, const sw_kind *kind, const void *images, size_t stride,
                          const uint32_t *cells, uint64_t n, sw_tick delay, bool init) {
    if (!kind || (n && (!images || !cells))) {
        sw__world_errf(w, "spawn_many: no kind, images or cells");
        return SW_E_INVALID;
    }
    /* every cell checked before the first spawn: all or (out of memory
       only) a prefix */
    for (uint64_t i = 0; i < n; i++)
        if (cells[i] >= w->ncells) {
            sw__world_errf(w, "spawn_many: cell %u is outside the %ux%u world", cells[i],
                           w->d.width, w->d.height);
            return SW_E_INVALID;
        }
    /* another spawn hook: it must see every spawn, as single spawns */
    if (!sw__world_spawn_hook_is_ours(w))
        return spawn_many_hooked(w, kind, images, stride, cells, n, delay, init);
    sw__spawn_batch b;
    int rc = sw__spawn_batch_begin(w->s, kind, n, &b);
    if (rc == SW_E_NOMEM) return 0;
    if (rc < 0) return rc;
    /* the per-slot arrays for every slot the batch may take, once (the
       hook's placement then never grows them) */
    uint64_t top = (uint64_t)w->s->ntasks + n;
    if (top > UINT32_MAX - 1) top = UINT32_MAX - 1; /* the table's own limit */
    if (top > w->slotcap && sw__world_reserve(w, (uint32_t)top) != SW_OK) return 0;
    const char *image = images;
    if (!init) {
        /* final images: made a run at a time, then placed (no init between
           one agent and the next to see the difference) */
        enum { RUN = 64 };
        uint32_t slots[RUN];
        for (uint64_t i = 0; i < n;) {
            uint64_t k = n - i < RUN ? n - i : RUN;
            uint64_t made = sw__spawn_batch_make_n(&b, image + i * stride, stride, k, delay, slots);
            sw__world_spawned_all_in(w, slots, cells + i, made, (uint16_t)b.ki);
            i += made;
            if (made < k) return (int64_t)i;
        }
        return (int64_t)n;
    }
    for (uint64_t i = 0; i < n; i++, image += stride) {
        uint32_t slot = sw__spawn_batch_make(&b, image, delay);
        if (slot == SW__NIL) return (int64_t)i;
        sw__world_spawned_in(w, slot, cells[i]);
        sw__spawn_batch_init(&b, sw_handle_make(slot, w->s->tasks[slot].gen));
    }
    return (int64_t)n;
}

int64_t sw_world_spawn_many(sw_world *w, const sw_kind *kind, const void *images, size_t stride,
                            const uint32_t *cells, uint64_t n, sw_tick delay) {
    return spawn_many(w, kind, images, stride, cells, n, delay, true);
}

int64_t sw_world_spawn_many_final(sw_world *w, const sw_kind *kind, const void *images,
                                  size_t stride, const uint32_t *cells, uint64_t n, sw_tick delay) {
    return spawn_many(w, kind, images, stride, cells, n, delay, false);
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
            sw__world_errf(w, "%llu %s agents need distinct cells but only %llu of %u cells are free",
                           (unsigned long long)count, kind->name, (unsigned long long)free_cells,
                           w->ncells);
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
            int32_t x, y;
            sw__cell_xy(w, c, &x, &y);
            if (!sw_world_spawn_at(w, kind, params, x, y, 0)) {
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
            int32_t x, y;
            sw__cell_xy(w, c, &x, &y);
            if (!sw_world_spawn_at(w, kind, params, x, y, 0)) return SW_E_NOMEM;
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
