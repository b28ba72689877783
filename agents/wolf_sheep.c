/* wolf_sheep.c - wolf-sheep predation with grass regrowth.
 *
 * The model of the ABM framework comparison (docs/models.md): on a bounded
 * grid, each tick all sheep act in a fresh random order, then all wolves in a
 * fresh random order, then the grass. A sheep steps to a random Moore
 * neighbour, loses 1 energy, eats the grass of its cell if grown, starves
 * below zero, else breeds with a probability (halving its energy with the
 * lamb). A wolf does the same but eats a random sheep of its cell.
 *
 * The grass is written the tasklet way: a grown grass cell does not poll. It
 * sleeps on its cell's event channel until a sheep eats it (the sheep clears
 * the "grass" layer and posts on the channel), then sleeps its regrowth time
 * and grows back. With countdown semantics this is exactly the comparison's
 * polled grass: eaten in tick t, it is grown again at the grass phase of
 * tick t + regrowth. The "grass" layer (1 = grown) is the truth sheep read,
 * and what the viewer draws. (With the comparison's short regrowth times
 * nearly every cell is eaten every few ticks, so here a sleeping cell is no
 * cheaper than a polled one; the forest fire shows where sleeping wins.)
 *
 * Sheep and wolves draw from a random stream kept in their frame
 * (model_util.h), which costs a third of sw_rand_u64 per draw.
 *
 * Newborns are spawned with a delay of one tick, so they first act in the
 * tick after their birth; each kind's run order (rank and shuffling) is set
 * by the builder below or by the scenario's "schedule". */
#include "models.h"
#include "model_util.h"

/* ---- sheep ------------------------------------------------------------------ */

/* 48 bytes: with the frame's header, one cache line (the run loop fetches a
 * tasklet's frame ahead by its first line). */
typedef struct {
    uint64_t rng_key; /* its random stream (model_util.h); in the image a parent
                         spawns its lamb from, the parent's key: non-zero marks
                         a newborn (setup and scenario images leave it 0) */
    uint32_t rng_ctr; /* draws so far (2^32: more than a sheep lives) */
    int32_t x, y;     /* the cell it is on (kept with the world's index) */
    int32_t grass;    /* index of the "grass" layer */
    double energy;
    double gain;      /* energy from eating grass */
    double reproduce; /* probability of a lamb per tick */
} sheep;
_Static_assert(sizeof(sheep) == 48, "with the 16-byte frame header, one cache line");

/* What a sheep of the setup needs beyond a lamb: its cell, the layer and
 * its energy. Out of line, so that a lamb's init (a birth every few sheep
 * steps) saves and restores no registers for it. */
static __attribute__((noinline)) void sheep_setup(sw_tasklet *t, sheep *f) {
    sw_world *w = sw_world_of(t);
    sw_world_cell_of(w, sw_self(t), &f->x, &f->y);
    f->grass = sw__model_layer(w, "grass", 0);
    f->energy = (double)sw__model_below(sw__model_rand(f->rng_key, f->rng_ctr++), (uint64_t)(2 * f->gain));
}

static void sheep_init(sw_tasklet *t, void *frame) {
    sheep *f = frame;
    bool newborn = f->rng_key != 0; /* a lamb: its parent gave it cell, layer and energy */
    f->rng_key = sw__model_rng_key(t);
    f->rng_ctr = 0;
    if (!newborn) sheep_setup(t, f);
}

/* Tell the grass of channel `ch` (if any) that it was eaten. */
static void wake_grass(sw_tasklet *t, sw_chan ch) {
    if (ch) sw_chan_post(sw_sched_of(t), ch, &(sw_msg){.tag = 1, .who = sw_self(t)});
}

/* flatten: with LTO, the world's and the scheduler's calls of a step (the
 * Moore step, sw_move_to, the post, sw_spawn_at, SW_SLEEP) are inlined into
 * it, calls within them too (docs/tuning.md, wolf-sheep's second round: 11 %
 * fewer instructions in the large model, 7 % less time). Only the hooks reached through pointers stay
 * calls. */
__attribute__((flatten)) static sw_step sheep_run(sw_tasklet *t, void *frame) {
    sheep *f = frame;
    SW_BEGIN(t, graze);
    for (;;) {
        sw_world *w = sw_world_of(t);
        sw__model_moore_step(w, sw__model_rand(f->rng_key, f->rng_ctr++), &f->x, &f->y);
        double *grass = sw_world_layer_data(w, f->grass);
        uint32_t c = sw_world_cell_index(w, f->x, f->y);
        sw_chan eaten = SW_CHAN_NONE;
        bool grown = grass && grass[c] >= 1;
        if (grown) {
            /* the grass is woken at the end of the step (nothing in between
               looks at it): its channel is a cache miss, fetched meanwhile */
            eaten = sw_world_cell_chan_peek(w, f->x, f->y);
            if (eaten) sw_chan_prefetch(sw_sched_of(t), eaten);
        }
        sw_move_to(t, f->x, f->y);
        f->energy -= 1;
        if (grown) {
            grass[c] = 0; /* eaten: the grass will start regrowing */
            f->energy += f->gain;
        }
        if (f->energy < 0) {
            wake_grass(t, eaten);
            SW_EXIT(t); /* starved */
        }
        if (sw__model_unit(f->rng_key, f->rng_ctr++) < f->reproduce) {
            f->energy /= 2;
            /* the image is the parent's own frame, its key marking a newborn
               (spawn copies it; a copy on the stack first was 48 bytes more) */
            sw_spawn_at(t, &sw_kind_sheep, f, f->x, f->y, 1);
        }
        wake_grass(t, eaten);
        SW_SLEEP(t, graze, 1);
    }
    SW_END(t);
}

static const sw_field sheep_fields[] = {
    SW_FIELD(sheep, energy, SW_T_F64),
    SW_PARAM(sheep, gain, SW_T_F64, 5, "energy gained from eating grass"),
    SW_PARAM(sheep, reproduce, SW_T_F64, 0.2, "probability of a lamb each tick"),
    SW_FIELD(sheep, x, SW_T_I32),
    SW_FIELD(sheep, y, SW_T_I32),
    SW_FIELD(sheep, grass, SW_T_I32),
    SW_FIELD(sheep, rng_key, SW_T_U64),
    SW_FIELD(sheep, rng_ctr, SW_T_U32),
    SW_FIELD_END};

const sw_kind sw_kind_sheep = {
    .name = "sheep", .frame_size = sizeof(sheep), .fields = sheep_fields, .init = sheep_init,
    .run = sheep_run, .color = 0xf2f2f2, .place = SW_PLACE_CELL,
    .doc = "grazes: walks, eats grown grass, breeds, starves (wolf-sheep)"};

/* ---- wolves ------------------------------------------------------------------ */

/* 48 bytes, as a sheep. */
typedef struct {
    uint64_t rng_key; /* its random stream; a parent's in its cub's image (as a sheep's) */
    uint64_t rng_ctr;
    int32_t x, y;
    double energy;
    double gain;      /* energy from eating a sheep */
    double reproduce; /* probability of a cub per tick */
} wolf;
_Static_assert(sizeof(wolf) == 48, "with the 16-byte frame header, one cache line");

/* As sheep_setup: a wolf of the setup's cell and energy. */
static __attribute__((noinline)) void wolf_setup(sw_tasklet *t, wolf *f) {
    sw_world_cell_of(sw_world_of(t), sw_self(t), &f->x, &f->y);
    f->energy = (double)sw__model_below(sw__model_rand(f->rng_key, f->rng_ctr++), (uint64_t)(2 * f->gain));
}

static void wolf_init(sw_tasklet *t, void *frame) {
    wolf *f = frame;
    bool newborn = f->rng_key != 0; /* a cub: its parent gave it cell and energy */
    f->rng_key = sw__model_rng_key(t);
    f->rng_ctr = 0;
    if (!newborn) wolf_setup(t, f);
}

/* flatten: as sheep_run */
__attribute__((flatten)) static sw_step wolf_run(sw_tasklet *t, void *frame) {
    wolf *f = frame;
    SW_BEGIN(t, prowl);
    for (;;) {
        sw_world *w = sw_world_of(t);
        /* the cell in locals for the move and the cell's list: the world's
           stores (uint32_t) may alias the frame's int32_t, so the fields were
           read again after each (7 instructions a turn; the spawn still
           reads the fields: keeping x, y live to it cost more. In a sheep's
           step, locals measured 0.6 M instructions more over the large run) */
        int32_t x = f->x, y = f->y;
        sw__model_moore_step(w, sw__model_rand(f->rng_key, f->rng_ctr++), &x, &y);
        f->x = x, f->y = y;
        sw_move_to(t, x, y);
        f->energy -= 1;
        uint32_t n = 0;
        if (sw_world_count_at(w, x, y) > 1) /* not alone: any sheep here? */
            n = sw_world_agents_at(w, x, y, &sw_kind_sheep, NULL, 0);
        if (n > 0) {
            uint32_t i = (uint32_t)sw__model_below(sw__model_rand(f->rng_key, f->rng_ctr++), n);
            sw_kill(t, sw_world_agent_at(w, x, y, &sw_kind_sheep, i));
            f->energy += f->gain;
        }
        if (f->energy < 0) SW_EXIT(t);
        if (sw__model_unit(f->rng_key, f->rng_ctr++) < f->reproduce) {
            f->energy /= 2;
            /* from the parent's own frame, with its key: a newborn */
            sw_spawn_at(t, &sw_kind_wolf, f, f->x, f->y, 1);
        }
        SW_SLEEP(t, prowl, 1);
    }
    SW_END(t);
}

static const sw_field wolf_fields[] = {
    SW_FIELD(wolf, energy, SW_T_F64),
    SW_PARAM(wolf, gain, SW_T_F64, 13, "energy gained from eating a sheep"),
    SW_PARAM(wolf, reproduce, SW_T_F64, 0.1, "probability of a cub each tick"),
    SW_FIELD(wolf, x, SW_T_I32),
    SW_FIELD(wolf, y, SW_T_I32),
    SW_FIELD(wolf, rng_key, SW_T_U64),
    SW_FIELD(wolf, rng_ctr, SW_T_U64),
    SW_FIELD_END};

const sw_kind sw_kind_wolf = {
    .name = "wolf", .frame_size = sizeof(wolf), .fields = wolf_fields, .init = wolf_init,
    .run = wolf_run, .color = 0x5a5a66, .place = SW_PLACE_CELL,
    .doc = "hunts: walks, eats a sheep on its cell, breeds, starves (wolf-sheep)"};

/* ---- grass --------------------------------------------------------------------- */

/* The grass waits on its cell's channel for "eaten" and never reads the
 * message: it receives with no destination (SW_RECV's NULL), so a sheep's
 * post touches only its task record, never this frame (which the run loop
 * fetches when the grass wakes). Its cell's channel is looked up by the
 * cell's index rather than kept. */
typedef struct {
    int32_t regrowth;  /* ticks from eaten to grown */
    int32_t countdown; /* ticks still to grow at the start */
    int32_t layer;     /* index of the "grass" layer */
    int32_t cell;      /* its cell index, or -1 when not on the grid */
} grass;

static void grass_init(sw_tasklet *t, void *frame) {
    grass *f = frame;
    sw_world *w = sw_world_of(t);
    int32_t x, y;
    f->cell = -1;
    f->layer = sw__model_layer(w, "grass", 0);
    double *g = sw_world_layer_data(w, f->layer);
    if (!g || !sw_world_cell_of(w, sw_self(t), &x, &y)) return;
    f->cell = (int32_t)sw_world_cell_index(w, x, y);
    sw_cell_chan(t, x, y); /* made now: the sheep look for it */
    /* the layer shows the grass; off the cell lists, it does not lengthen
       every wolf's search for sheep */
    sw_world_unplace(w, sw_self(t));
    if (f->regrowth < 0) f->regrowth = 0;
    /* fully grown with probability 1/2, else partway through regrowing */
    if (sw_rand_unit(t) < 0.5) {
        g[f->cell] = 1;
        f->countdown = f->regrowth;
    } else {
        g[f->cell] = 0;
        f->countdown = f->regrowth > 0 ? (int32_t)sw_rand_below(t, (uint64_t)f->regrowth) : 0;
    }
}

/* flatten: as sheep_run (SW_WAIT's path on an event channel inlined) */
__attribute__((flatten)) static sw_step grass_run(sw_tasklet *t, void *frame) {
    grass *f = frame;
    SW_BEGIN(t, sprout, eaten, regrow);
    if (f->cell < 0) SW_EXIT(t);
    /* not grown at its first grass phase: either it started so, or a sheep
       ate it in tick 1 before it could start listening (then countdown is
       the full regrowth time, as if it had heard) */
    if (sw_world_layer_data(sw_world_of(t), f->layer)[f->cell] < 1 && f->countdown > 0)
        SW_SLEEP(t, sprout, (sw_tick)f->countdown);
    for (;;) {
        sw_world_layer_data(sw_world_of(t), f->layer)[f->cell] = 1; /* grown */
        /* until a sheep eats it (who did is of no interest: SW_WAIT, the
           receive that drops the message, made for an event channel) */
        SW_WAIT(t, eaten, sw_world_cell_chan_at(sw_world_of(t), (uint32_t)f->cell));
        if (sw_status(t) != SW_OK) SW_EXIT(t);
        if (f->regrowth > 0) SW_SLEEP(t, regrow, (sw_tick)f->regrowth);
    }
    SW_END(t);
}

static const sw_field grass_fields[] = {
    SW_PARAM(grass, regrowth, SW_T_I32, 20, "ticks for eaten grass to grow back"),
    SW_FIELD(grass, countdown, SW_T_I32),
    SW_FIELD(grass, layer, SW_T_I32),
    SW_FIELD(grass, cell, SW_T_I32),
    SW_FIELD_END};

const sw_kind sw_kind_grass = {
    .name = "grass", .frame_size = sizeof(grass), .fields = grass_fields, .init = grass_init,
    .run = grass_run, .color = 0x3f9b3f, .place = SW_PLACE_EVERY_CELL,
    .doc = "a grass cell: sleeps until a sheep eats it, then regrows (wolf-sheep)"};

/* ---- the comparison's world, built in C -------------------------------------------- */

sw_world *sw_wolf_sheep_new(const sw_wolf_sheep_desc *desc) {
    sw_wolf_sheep_desc d = desc ? *desc : (sw_wolf_sheep_desc){0};
    if (!d.width) d.width = 25;
    if (!d.height) d.height = d.width;
    if (!d.sheep && !d.wolves) d.sheep = 60, d.wolves = 40;
    if (!d.regrowth) d.regrowth = 20;
    if (!d.sheep_reproduce) d.sheep_reproduce = 0.2;
    if (!d.wolf_reproduce) d.wolf_reproduce = 0.1;
    if (!d.sheep_gain) d.sheep_gain = 5;
    if (!d.wolf_gain) d.wolf_gain = 13;
    sw_world *w = sw_world_new(&(sw_world_desc){
        .width = d.width, .height = d.height, .seed = d.seed,
        .topology = d.torus ? SW_TOPO_TORUS : SW_TOPO_BOUNDED});
    if (!w) return NULL;
    sw_sched *s = sw_world_sched(w);
    /* each tick: sheep (shuffled), then wolves (shuffled), then grass */
    sw_sched_set_kind_rank(s, &sw_kind_sheep, 0);
    sw_sched_set_kind_random(s, &sw_kind_sheep, true);
    sw_sched_set_kind_rank(s, &sw_kind_wolf, 1);
    sw_sched_set_kind_random(s, &sw_kind_wolf, true);
    sw_sched_set_kind_rank(s, &sw_kind_grass, 2);
    sheep sp = {.gain = d.sheep_gain, .reproduce = d.sheep_reproduce};
    wolf wp = {.gain = d.wolf_gain, .reproduce = d.wolf_reproduce};
    grass gp = {.regrowth = d.regrowth};
    if (sw_world_layer_add(w, "grass", 0) < 0 ||
        sw_world_populate(w, &sw_kind_grass, &gp, 0, SW_PLACE_EVERY_CELL, 1.0, 3) < 0 ||
        sw_world_populate(w, &sw_kind_sheep, &sp, d.sheep, SW_PLACE_CELL, 0, 1) < 0 ||
        sw_world_populate(w, &sw_kind_wolf, &wp, d.wolves, SW_PLACE_CELL, 0, 2) < 0) {
        sw_world_free(w);
        return NULL;
    }
    return w;
}
