/* forest_fire.c - a forest fire spreading through trees that sleep.
 *
 * The comparison's model (docs/models.md): each cell holds a green tree with
 * probability `density`; the whole left column starts burning; each tick
 * every burning tree ignites its green von Neumann neighbours, then is burnt.
 *
 * A green tree is a tasklet blocked on its cell's event channel: it costs
 * nothing until fire reaches it. A burning tree marks each green neighbour
 * burning in the "forest" layer (0 empty, 1 green, 2 burning, 3 burnt) and
 * posts on that neighbour's channel; the woken tree smoulders one tick and
 * then passes the fire on. The layer is also what lets a tree that the fire
 * reached in tick 1, before it had started listening, notice at its first
 * run. Burnt trees stay, blocked on their channel for good, as the viewer's
 * and the statistics' burnt marks. So a tick costs time only along the
 * burning front, whatever the size of the forest. */
#include "models.h"
#include "model_util.h"

typedef struct {
    int32_t state;       /* SW_TREE_GREEN, _BURNING or _BURNT */
    bool ignite_left;    /* trees of the left column start burning */
    int32_t x, y, layer; /* its cell and the "forest" layer */
    sw_chan chan;        /* its cell's channel: where fire arrives */
    sw_msg news;
} tree;

static void tree_init(sw_tasklet *t, void *frame) {
    tree *f = frame;
    sw_world *w = sw_world_of(t);
    f->layer = sw__model_layer(w, "forest", 0);
    if (f->layer < 0 || !sw_world_cell_of(w, sw_self(t), &f->x, &f->y)) {
        f->layer = -1; /* off the grid: it will leave at once */
        return;
    }
    f->chan = sw_cell_chan(t, f->x, f->y);
    f->state = f->ignite_left && f->x == 0 ? SW_TREE_BURNING : SW_TREE_GREEN;
    sw_world_layer_data(w, f->layer)[sw_world_cell_index(w, f->x, f->y)] = f->state;
}

/* Set fire to the tree on (x, y), if there is a green one. */
static void ignite(sw_world *w, double *forest, int32_t x, int32_t y) {
    if (!sw_world_wrap(w, &x, &y)) return;
    uint32_t c = sw_world_cell_index(w, x, y);
    if (forest[c] != SW_TREE_GREEN) return;
    forest[c] = SW_TREE_BURNING;
    sw_chan ch = sw_world_cell_chan_peek(w, x, y);
    if (ch) sw_chan_post(sw_world_sched(w), ch, &(sw_msg){.tag = SW_TREE_BURNING});
}

static sw_step tree_run(sw_tasklet *t, void *frame) {
    tree *f = frame;
    SW_BEGIN(t, wait_for_fire, smoulder, ash);
    if (f->layer < 0) SW_EXIT(t);
    if (f->state == SW_TREE_GREEN) {
        sw_world *w = sw_world_of(t);
        if (sw_world_layer_data(w, f->layer)[sw_world_cell_index(w, f->x, f->y)] == SW_TREE_GREEN)
            SW_RECV(t, wait_for_fire, f->chan, &f->news); /* asleep until fire comes */
        f->state = SW_TREE_BURNING;
        SW_SLEEP(t, smoulder, 1); /* caught fire this tick: spreads it next tick */
    }
    {
        sw_world *w = sw_world_of(t);
        double *forest = sw_world_layer_data(w, f->layer);
        ignite(w, forest, f->x - 1, f->y);
        ignite(w, forest, f->x + 1, f->y);
        ignite(w, forest, f->x, f->y - 1);
        ignite(w, forest, f->x, f->y + 1);
        f->state = SW_TREE_BURNT;
        forest[sw_world_cell_index(w, f->x, f->y)] = SW_TREE_BURNT;
    }
    for (;;) SW_RECV(t, ash, f->chan, &f->news); /* a burnt mark: nothing wakes it */
    SW_END(t);
}

static const sw_field tree_fields[] = {
    SW_FIELD(tree, state, SW_T_I32),
    SW_PARAM(tree, ignite_left, SW_T_BOOL, 1, "trees in the left column start burning"),
    SW_FIELD(tree, x, SW_T_I32),
    SW_FIELD(tree, y, SW_T_I32),
    SW_FIELD(tree, layer, SW_T_I32),
    SW_FIELD(tree, chan, SW_T_CHAN),
    SW_FIELD(tree, news, SW_T_MSG),
    SW_FIELD_END};

const sw_kind sw_kind_tree = {
    .name = "tree", .frame_size = sizeof(tree), .fields = tree_fields, .init = tree_init,
    .run = tree_run, .color = 0x2e8b3a, .place = SW_PLACE_EVERY_CELL,
    .doc = "sleeps on its cell until fire comes, burns one tick, passes it on (forest fire)"};

sw_world *sw_forest_fire_new(const sw_forest_fire_desc *desc) {
    sw_forest_fire_desc d = desc ? *desc : (sw_forest_fire_desc){0};
    if (!d.width) d.width = 100;
    if (!d.height) d.height = d.width;
    if (!(d.density > 0)) d.density = 0.7;
    sw_world *w = sw_world_new(&(sw_world_desc){.width = d.width, .height = d.height,
                                                .seed = d.seed});
    if (!w) return NULL;
    tree p = {.ignite_left = true};
    if (sw_world_layer_add(w, "forest", 0) < 0 ||
        sw_world_populate(w, &sw_kind_tree, &p, 0, SW_PLACE_EVERY_CELL, d.density, 1) < 0) {
        sw_world_free(w);
        return NULL;
    }
    return w;
}

const double *sw_forest_fire_layer(sw_world *w) {
    return sw_world_layer_data(w, sw_world_layer_find(w, "forest"));
}
