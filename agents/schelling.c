/* schelling.c - Schelling's segregation model.
 *
 * The comparison's model (docs/models.md): residents of two groups on a
 * bounded grid, at most one per cell. Each tick, in a fresh random order,
 * a resident counts the neighbours of its own group within Chebyshev radius
 * `radius`; with at least `min_same` it is happy and stays, else it moves to
 * a uniformly random empty cell.
 *
 * Who lives where is mirrored in the "group" layer (0: empty, else the
 * resident's group), kept exact by the residents as they move: counting
 * alike neighbours then reads (2r+1)^2 numbers instead of walking agents. */
#include "models.h"
#include "model_util.h"

#include <string.h>

typedef struct {
    int32_t group;    /* 1 or 2 */
    int32_t radius;   /* Chebyshev radius of the neighbourhood */
    int32_t min_same; /* happy with at least this many alike neighbours */
    bool happy;
    double alike;     /* fraction of its neighbours in its group (1 with none) */
    int32_t x, y, layer;
} resident;

/* Two cells of the layer as four 32-bit halves (GCC/Clang vector extension:
 * one SSE2 register; a comparison gives -1 in each lane where it holds). */
typedef uint32_t halves4 __attribute__((vector_size(16)));
typedef int32_t counts4 __attribute__((vector_size(16)));

/* Count the occupied cells and those of group `me` (bit pattern) in rows
 * y0..y1, columns x0..x0+span-1. Two cells at a time, on their high halves
 * only: the layer's numbers (0, 1, 2: small integers) have all-zero low
 * halves, and while every low half seen is zero, comparing the high halves
 * is comparing the numbers. Otherwise (a layer written by something else)
 * false is returned and the caller counts the plain way. */
static inline bool count_rows_fast(const double *g, int32_t W, int32_t y0, int32_t y1,
                                   int32_t x0, int32_t span, uint64_t me, int32_t *all,
                                   int32_t *same) {
    if ((uint32_t)me != 0) return false;
    const halves4 zero = {0, 0, 0, 0}, me4 = {0, (uint32_t)(me >> 32), 0, (uint32_t)(me >> 32)};
    counts4 z4 = {0, 0, 0, 0}, s4 = {0, 0, 0, 0};
    halves4 low = zero;
    uint64_t low1 = 0;
    int32_t z = 0, s = 0;
    for (int32_t y = y0; y <= y1; y++) {
        const double *row = g + (size_t)y * (size_t)W + x0;
        int32_t x = 0;
        for (; x + 2 <= span; x += 2) {
            halves4 v;
            memcpy(&v, &row[x], sizeof v);
            low |= v;
            z4 -= (counts4)(v == zero);
            s4 -= (counts4)(v == me4);
        }
        if (x < span) {
            uint64_t v;
            memcpy(&v, &row[x], sizeof v);
            low1 |= v;
            z += v == 0;
            s += v == me;
        }
    }
    if ((low[0] | low[2] | (uint32_t)low1) != 0) return false;
    *all += (y1 - y0 + 1) * span - (z + z4[1] + z4[3]);
    *same += s + s4[1] + s4[3];
    return true;
}

/* The same count, cell by cell on whole bit patterns. */
static inline void count_rows(const double *g, int32_t W, int32_t y0, int32_t y1, int32_t x0,
                              int32_t span, uint64_t me, int32_t *all, int32_t *same) {
    if (count_rows_fast(g, W, y0, y1, x0, span, me, all, same)) return;
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
        /* bounded: clip the square once, then a tight loop comparing the
           cells' bit patterns (the layer holds only +0.0, 1.0 and 2.0, so
           equal numbers have equal bits), which integer units do faster */
        int32_t x0 = f->x - r < 0 ? 0 : f->x - r, x1 = f->x + r >= W ? W - 1 : f->x + r;
        int32_t y0 = f->y - r < 0 ? 0 : f->y - r, y1 = f->y + r >= H ? H - 1 : f->y + r;
        uint64_t me;
        memcpy(&me, &mine, sizeof me);
        int32_t span = x1 - x0 + 1;
        /* the comparison's widths (3 and 5) get loops the compiler unrolls */
        if (span == 3)
            count_rows(g, W, y0, y1, x0, 3, me, &all, &same);
        else if (span == 5)
            count_rows(g, W, y0, y1, x0, 5, me, &all, &same);
        else
            count_rows(g, W, y0, y1, x0, span, me, &all, &same);
    }
    /* the loops counted the resident itself */
    all -= 1;
    same -= 1;
    f->happy = same >= f->min_same;
    f->alike = all > 0 ? (double)same / all : 1.0;
}

static void resident_init(sw_tasklet *t, void *frame) {
    resident *f = frame;
    sw_world *w = sw_world_of(t);
    /* a neighbourhood wider than the world only repeats cells */
    int32_t most = (int32_t)(sw_world_width(w) > sw_world_height(w) ? sw_world_width(w) : sw_world_height(w));
    if (f->radius < 0) f->radius = 0;
    if (f->radius > most) f->radius = most;
    f->layer = sw__model_layer(w, "group", 0);
    if (f->layer < 0 || !sw_world_cell_of(w, sw_self(t), &f->x, &f->y)) {
        f->layer = -1;
        return;
    }
    sw_world_layer_data(w, f->layer)[sw_world_cell_index(w, f->x, f->y)] = f->group;
}

static sw_step resident_run(sw_tasklet *t, void *frame) {
    resident *f = frame;
    SW_BEGIN(t, settle);
    if (f->layer < 0) SW_EXIT(t);
    for (;;) {
        sw_world *w = sw_world_of(t);
        look_around(w, f);
        int32_t x, y;
        if (!f->happy && sw_world_random_empty_cell(w, t, &x, &y)) {
            double *g = sw_world_layer_data(w, f->layer);
            g[sw_world_cell_index(w, f->x, f->y)] = 0;
            g[sw_world_cell_index(w, x, y)] = f->group;
            sw_world_place(w, sw_self(t), x, y);
            f->x = x;
            f->y = y;
            look_around(w, f); /* its mood where it now lives, for the statistics */
        }
        SW_SLEEP(t, settle, 1);
    }
    SW_END(t);
}

static const sw_field resident_fields[] = {
    SW_PARAM(resident, group, SW_T_I32, 1, "its group (1 or 2)"),
    SW_PARAM(resident, radius, SW_T_I32, 1, "Chebyshev radius of its neighbourhood"),
    SW_PARAM(resident, min_same, SW_T_I32, 3, "alike neighbours it needs to be happy"),
    SW_FIELD(resident, happy, SW_T_BOOL),
    SW_FIELD(resident, alike, SW_T_F64),
    SW_FIELD(resident, x, SW_T_I32),
    SW_FIELD(resident, y, SW_T_I32),
    SW_FIELD(resident, layer, SW_T_I32),
    SW_FIELD_END};

const sw_kind sw_kind_resident = {
    .name = "resident", .frame_size = sizeof(resident), .fields = resident_fields,
    .init = resident_init, .run = resident_run, .color = 0xd9534f, .place = SW_PLACE_CELL_UNIQUE,
    .doc = "moves to a random empty cell while too few neighbours are alike (Schelling)"};

sw_world *sw_schelling_new(const sw_schelling_desc *desc) {
    sw_schelling_desc d = desc ? *desc : (sw_schelling_desc){0};
    if (!d.size) d.size = 40;
    if (!d.agents) d.agents = 1000;
    if (!d.radius) d.radius = 1;
    if (!d.min_same) d.min_same = 3;
    sw_world *w = sw_world_new(&(sw_world_desc){.width = d.size, .height = d.size, .seed = d.seed});
    if (!w) return NULL;
    sw_sched_set_kind_random(sw_world_sched(w), &sw_kind_resident, true);
    resident one = {.group = 1, .radius = d.radius, .min_same = d.min_same};
    resident two = one;
    two.group = 2;
    if (sw_world_layer_add(w, "group", 0) < 0 ||
        sw_world_populate(w, &sw_kind_resident, &one, d.agents / 2, SW_PLACE_CELL_UNIQUE, 0, 1) < 0 ||
        sw_world_populate(w, &sw_kind_resident, &two, d.agents - d.agents / 2, SW_PLACE_CELL_UNIQUE,
                          0, 2) < 0) {
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
        if (sw_sched_kind_of(s, id) != &sw_kind_resident) continue;
        resident r = *(resident *)sw_sched_frame(s, id);
        if (r.layer < 0) continue;
        look_around(w, &r);
        sum += r.alike;
        sad += !r.happy;
        n++;
    }
    if (unhappy) *unhappy = sad;
    return n ? sum / n : 0.0;
}
