/* sir.c - an epidemic: susceptible, infected, recovered.
 *
 * People wander a torus one random Moore step per tick. A sick person stays
 * in bed for `duration` ticks (one sleep, costing nothing), and each tick
 * infects each susceptible person on its cell or the eight around it with
 * probability `beta`; then it recovers, immune, and walks again.
 *
 * Who is sick where is mirrored in the "infected" layer (the number of sick
 * people on each cell), so a susceptible person learns its exposure by
 * reading nine numbers: with k sick people around it stays healthy with
 * probability (1 - beta)^k, which is "each sick neighbour infects it with
 * probability beta". The three states are one kind with a `state` field
 * rather than three kinds: a person keeps its identity (and its random
 * stream) through the illness, and the scenario counts each state with a
 * "count ... equals" statistic. */
#include "models.h"
#include "model_util.h"

#include <math.h>

typedef struct {
    int32_t state;    /* SW_SIR_S, SW_SIR_I or SW_SIR_R */
    double beta;      /* infection probability per sick neighbour and tick */
    int32_t duration; /* ticks ill */
    int32_t x, y, layer;
    int32_t caught;   /* tick it fell ill (-1: never) */
} person;

static void fall_ill(sw_tasklet *t, person *f) {
    sw_world *w = sw_world_of(t);
    f->state = SW_SIR_I;
    f->caught = (int32_t)sw_now(t);
    sw_world_layer_data(w, f->layer)[sw_world_cell_index(w, f->x, f->y)] += 1;
}

static void person_init(sw_tasklet *t, void *frame) {
    person *f = frame;
    sw_world *w = sw_world_of(t);
    f->caught = -1;
    f->layer = sw__model_layer(w, "infected", 0);
    if (f->layer < 0 || !sw_world_cell_of(w, sw_self(t), &f->x, &f->y)) {
        f->layer = -1;
        return;
    }
    if (f->state == SW_SIR_I) fall_ill(t, f);
}

/* The number of sick people on the cells within one step of (x, y). */
static double sick_around(sw_world *w, const double *sick, int32_t x, int32_t y) {
    double k = 0;
    for (int32_t dy = -1; dy <= 1; dy++) {
        for (int32_t dx = -1; dx <= 1; dx++) {
            int32_t cx = x + dx, cy = y + dy;
            if (sw_world_wrap(w, &cx, &cy)) k += sick[sw_world_cell_index(w, cx, cy)];
        }
    }
    return k;
}

static sw_step person_run(sw_tasklet *t, void *frame) {
    person *f = frame;
    SW_BEGIN(t, in_bed, walk);
    if (f->layer < 0) SW_EXIT(t);
    for (;;) {
        if (f->state == SW_SIR_I) {
            SW_SLEEP(t, in_bed, (sw_tick)(f->duration > 0 ? f->duration : 1));
            sw_world *w = sw_world_of(t);
            sw_world_layer_data(w, f->layer)[sw_world_cell_index(w, f->x, f->y)] -= 1;
            f->state = SW_SIR_R;
        }
        {
            sw_world *w = sw_world_of(t);
            sw__model_moore_step(w, sw_rand_u64(t), &f->x, &f->y);
            sw_world_place(w, sw_self(t), f->x, f->y);
            if (f->state == SW_SIR_S) {
                double k = sick_around(w, sw_world_layer_data(w, f->layer), f->x, f->y);
                if (k > 0 && sw_rand_unit(t) >= pow(1 - f->beta, k)) fall_ill(t, f);
            }
        }
        if (f->state != SW_SIR_I) SW_SLEEP(t, walk, 1);
    }
    SW_END(t);
}

static const sw_field person_fields[] = {
    SW_PARAM(person, state, SW_T_I32, 0, "0 susceptible, 1 infected, 2 recovered"),
    SW_PARAM(person, beta, SW_T_F64, 0.08, "infection probability per sick neighbour per tick"),
    SW_PARAM(person, duration, SW_T_I32, 30, "ticks of illness before recovery"),
    SW_FIELD(person, x, SW_T_I32),
    SW_FIELD(person, y, SW_T_I32),
    SW_FIELD(person, layer, SW_T_I32),
    SW_FIELD(person, caught, SW_T_I32),
    SW_FIELD_END};

const sw_kind sw_kind_person = {
    .name = "person", .frame_size = sizeof(person), .fields = person_fields,
    .init = person_init, .run = person_run, .color = 0x7fb3d5, .place = SW_PLACE_CELL,
    .doc = "walks; catches the illness from sick neighbours, stays in bed, recovers (SIR)"};

sw_world *sw_sir_new(const sw_sir_desc *desc) {
    sw_sir_desc d = desc ? *desc : (sw_sir_desc){0};
    if (!d.size) d.size = 60;
    if (!d.people) d.people = 1500;
    if (!d.infected) d.infected = 5;
    if (!(d.beta > 0)) d.beta = 0.08;
    if (!d.duration) d.duration = 30;
    sw_world *w = sw_world_new(&(sw_world_desc){.width = d.size, .height = d.size, .seed = d.seed,
                                                .topology = SW_TOPO_TORUS});
    if (!w) return NULL;
    person well = {.state = SW_SIR_S, .beta = d.beta, .duration = d.duration};
    person sick = well;
    sick.state = SW_SIR_I;
    uint32_t healthy = d.people > d.infected ? d.people - d.infected : 0;
    if (sw_world_layer_add(w, "infected", 0) < 0 ||
        sw_world_populate(w, &sw_kind_person, &well, healthy, SW_PLACE_CELL, 0, 1) < 0 ||
        sw_world_populate(w, &sw_kind_person, &sick, d.infected, SW_PLACE_CELL, 0, 2) < 0) {
        sw_world_free(w);
        return NULL;
    }
    return w;
}

void sw_sir_counts(sw_world *w, uint32_t out[3]) {
    sw_sched *s = sw_world_sched(w);
    out[0] = out[1] = out[2] = 0;
    for (sw_id id = sw_sched_next(s, SW_ID_NONE); id; id = sw_sched_next(s, id)) {
        if (sw_sched_kind_of(s, id) != &sw_kind_person) continue;
        const person *p = sw_sched_frame(s, id);
        if (p->state >= 0 && p->state <= 2) out[p->state]++;
    }
}
