/* world_grid.c - the grid: placing agents on cells and moving them,
 * listing the agents at a cell and around it (Moore and von Neumann
 * neighbourhoods, bounded or on a torus), and drawing an empty cell.
 *
 * The grid index is intrusive doubly linked lists through per-slot arrays
 * (sw__gslot, world_int.h, with the list operations the hooks share); its
 * lists keep their agents in arrival order, so iteration order never
 * depends on an address. */
#include "world_int.h"
#include "rng.h"

#include <stdlib.h>

void sw__world_clear_cells(sw_world *w) {
    for (uint32_t c = 0; c < w->ncells; c++) {
        uint32_t id = sw__cell_id(w, c);
        *sw__node(w, id) = (sw__gslot){0, 0, 0, id, id};
    }
    w->occupied = 0;
}

/* ---- cells ------------------------------------------------------------------------- */

bool sw_world_wrap(const sw_world *w, int32_t *x, int32_t *y) { return sw__cell_wrap(w, x, y); }

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
                if (!sw__cell_wrap(w, &cx, &cy)) continue;                                        \
                BODY                                                                          \
            }                                                                                 \
        }                                                                                     \
    } while (0)

uint32_t sw_world_cells_around(const sw_world *w, int32_t x, int32_t y, sw_neighborhood nb,
                               int radius, int32_t *xy, uint32_t cap) {
    uint32_t n = 0;
    if (radius < 0 || !sw__cell_wrap(w, &x, &y)) return 0;
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

int sw_world_place(sw_world *w, sw_id id, int32_t x, int32_t y) {
    uint32_t slot;
    if (!sw__slot_of(w, id, &slot)) return SW_E_STALE;
    if (!sw__cell_wrap(w, &x, &y)) return SW_E_INVALID;
    if (sw__reserve_slot(w, slot) != SW_OK) return SW_E_NOMEM;
    sw__cell_move(w, slot, x, y, w->s->tasks[slot].kind);
    return SW_OK;
}

/* sw_move_to's every case but the usual one: a tasklet that killed itself,
 * a cell off a bounded grid, an agent on no cell yet. */
static int move_unusual(sw_world *w, sw_tasklet *t, int32_t x, int32_t y) {
    uint32_t slot = t->slot;
    if (t->task->state == SW_TASK_ZOMBIE) return SW_E_STALE;
    if (!sw__cell_wrap(w, &x, &y)) return SW_E_INVALID;
    if (sw__reserve_slot(w, slot) != SW_OK) return SW_E_NOMEM;
    sw__cell_move(w, slot, x, y, t->task->kind);
    return SW_OK;
}

int sw_move_to(sw_tasklet *t, int32_t x, int32_t y) {
    sw_world *w = sw_world_of(t);
    uint32_t slot = t->slot;
    /* the usual move: from a cell (a node there means the slot is covered)
       to one on the grid. A tasklet that killed itself has no node (the
       death hook took it off its cell), so it is told apart only on the
       unusual path: the running tasklet's record is not read here */
    bool usual = sw__cell_wrap(w, &x, &y) && slot < w->slotcap && w->g[slot].cell != SW__NIL;
    if (__builtin_expect(usual, 1)) {
        sw__cell_relink(w, slot, (uint32_t)y * w->d.width + (uint32_t)x);
        return SW_OK;
    }
    return move_unusual(w, t, x, y);
}

int sw_world_unplace(sw_world *w, sw_id id) {
    uint32_t slot;
    if (!sw__slot_of(w, id, &slot)) return SW_E_STALE;
    if (slot < w->slotcap) sw__cell_unlink(w, slot);
    return SW_OK;
}

bool sw_world_cell_of(const sw_world *w, sw_id id, int32_t *x, int32_t *y) {
    uint32_t slot;
    if (!sw__slot_of(w, id, &slot) || slot >= w->slotcap || w->g[slot].cell == SW__NIL)
        return false;
    int32_t cx, cy;
    sw__cell_xy(w, w->g[slot].cell, &cx, &cy);
    if (x) *x = cx;
    if (y) *y = cy;
    return true;
}

uint32_t sw_world_count_at(const sw_world *w, int32_t x, int32_t y) {
    if (!sw__cell_wrap(w, &x, &y)) return 0;
    return sw__cell_count(w, sw_world_cell_index(w, x, y));
}

/* Runs BODY for each agent of kind `ki` (see sw__kind_filter, not -2) on
 * cell c, in arrival order, with `slot` its slot. The nodes know their
 * kinds, so the walk reads the cell's list alone. (Lists hold live agents
 * only: the death hook takes the dead off.) */
#define SW__FOR_CELL_AGENTS(w, c, ki, slot, BODY)                                              \
    do {                                                                                      \
        for (uint32_t slot = sw__cell_first(w, c), end_ = sw__cell_id(w, c); slot != end_;     \
             slot = (w)->g[slot].next) {                                                      \
            if ((ki) != -1 && (w)->g[slot].kind != (ki)) continue;                            \
            BODY                                                                              \
        }                                                                                     \
    } while (0)

/* Cell c's agents of kind `ki` (see sw__kind_filter) appended to out[n..cap),
 * returning the new n. Only the agents written are looked up in the tasklet
 * table. */
static uint32_t list_cell(const sw_world *w, uint32_t c, int ki, sw_id *out, uint32_t cap,
                          uint32_t n) {
    if (ki == -2) return n;
    SW__FOR_CELL_AGENTS(w, c, ki, slot, {
        if (n < cap) out[n] = sw__id_of_kind(w->s, slot, -1);
        n++;
    });
    return n;
}

uint32_t sw_world_agents_at(const sw_world *w, int32_t x, int32_t y, const sw_kind *kind,
                            sw_id *out, uint32_t cap) {
    if (!sw__cell_wrap(w, &x, &y)) return 0;
    return list_cell(w, sw_world_cell_index(w, x, y), sw__kind_filter(w, kind), out, cap, 0);
}

sw_id sw_world_agent_at(const sw_world *w, int32_t x, int32_t y, const sw_kind *kind,
                        uint32_t i) {
    int ki = sw__kind_filter(w, kind);
    if (ki == -2 || !sw__cell_wrap(w, &x, &y)) return SW_ID_NONE;
    SW__FOR_CELL_AGENTS(w, sw_world_cell_index(w, x, y), ki, slot, {
        if (i-- == 0) return sw__id_of_kind(w->s, slot, -1);
    });
    return SW_ID_NONE;
}

uint32_t sw_world_agents_around(const sw_world *w, int32_t x, int32_t y, sw_neighborhood nb,
                                int radius, bool include_center, const sw_kind *kind,
                                sw_id *out, uint32_t cap) {
    uint32_t n = 0;
    if (radius < 0 || !sw__cell_wrap(w, &x, &y)) return 0;
    int ki = sw__kind_filter(w, kind);
    SW__FOR_NEIGHBOURS(w, x, y, nb, radius, include_center, {
        n = list_cell(w, sw_world_cell_index(w, cx, cy), ki, out, cap, n);
    });
    return n;
}

uint32_t sw_world_occupied_cells(const sw_world *w) { return w->occupied; }

/* Uniform in [0, n), from tasklet t's stream, or the world's own (`key`)
 * when t is NULL. */
static inline uint32_t empty_cell_draw(sw_world *w, sw_tasklet *t, uint64_t key, uint32_t n) {
    uint64_t r = t ? sw_rand_u64(t) : sw_rng_at(key, w->rng_ctr++);
    return (uint32_t)(((__uint128_t)r * n) >> 64);
}

bool sw_world_random_empty_cell(sw_world *w, sw_tasklet *t, int32_t *x, int32_t *y) {
    uint32_t empty = w->ncells - w->occupied;
    if (empty == 0) return false;
    /* the world's stream's key, needed only without a tasklet (worked out
       on every call, it cost a Schelling move ~10 instructions) */
    uint64_t key = t ? 0 : sw_rng_key(w->d.seed, 0xe3b7ce11ULL);
    /* rejection sampling is uniform and fast while empty cells are common;
       a rank scan is the exact fallback when they are rare. Four candidates
       a round, the first empty one taken (the first empty cell of a run of
       independent uniform draws is uniform over the empty cells; the rest of
       the round's draws are dropped): their four loads overlap, and the
       round's one branch goes the same way most of the time (with 5/8 of
       the cells taken, as in the comparison's town, 85 % of the rounds find
       one), where one draw a round made it a coin flip (~4 % of a Schelling
       run, measured) */
    for (int tries = 0; tries < 16; tries++) {
        uint32_t c[4];
        unsigned hit = 0;
        for (int k = 0; k < 4; k++) c[k] = empty_cell_draw(w, t, key, w->ncells);
        for (int k = 0; k < 4; k++) hit |= (unsigned)(sw__cell_count(w, c[k]) == 0) << k;
        if (hit) {
            sw__cell_xy(w, c[__builtin_ctz(hit)], x, y);
            return true;
        }
    }
    uint32_t k = empty_cell_draw(w, t, key, empty);
    for (uint32_t c = 0; c < w->ncells; c++) {
        if (sw__cell_count(w, c) != 0) continue;
        if (k-- == 0) {
            sw__cell_xy(w, c, x, y);
            return true;
        }
    }
    return false;
}
