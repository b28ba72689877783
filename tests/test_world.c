/* test_world.c - the world as a whole: the hooks that keep its indexes
 * exact, layers, channels by key and its descriptor, each against a simple
 * reference. The grid, the space, near-queries and placed spawning have
 * test_world_grid.c, _space.c, _near.c and _spawn.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swarmlet.h"
#include "pickle.h"

#include "test_world.h"

static sw_step quitter_run(sw_tasklet *t, void *frame) {
    SW_BEGIN(t);
    SW_END(t);
}
static const sw_kind quitter = {.name = "quitter", .frame_size = 8, .fields = NULL, .run = quitter_run};

/* ---- the hooks ---------------------------------------------------------------------- */

Test(world, kill_and_exit_remove_agents_from_the_grid_and_space) {
    sw_world *w = mk(4, 4, SW_TOPO_BOUNDED);
    sw_sched *s = sw_world_sched(w);
    sw_id a = sw_world_spawn_at(w, &idle, NULL, 1, 1, 0);
    sw_id b = sw_world_spawn_at(w, &idle, NULL, 1, 1, 0);
    sw_id c = sw_world_spawn_at(w, &idle, NULL, 1, 1, 0);
    sw_id q = sw_world_spawn_at(w, &quitter, NULL, 2, 2, 0);
    sw_id p = sw_world_spawn_at_point(w, &idle, NULL, 3.5, 0.5, 0);
    cr_assert_eq(sw_world_count_at(w, 1, 1), 3);
    cr_assert_eq(sw_world_space_count(w), 1);
    cr_assert_eq(sw_sched_kill(s, b), SW_OK);
    sw_id got[4];
    cr_assert_eq(sw_world_agents_at(w, 1, 1, NULL, got, 4), 2);
    cr_assert_eq(got[0], a);
    cr_assert_eq(got[1], c);
    cr_assert_not(sw_world_cell_of(w, b, NULL, NULL));
    cr_assert_eq(sw_world_count_at(w, 2, 2), 1);
    cr_assert_eq(sw_world_step(w), SW_OK); /* the quitter exits on its first run */
    cr_assert_not(sw_sched_alive(s, q));
    cr_assert_eq(sw_world_count_at(w, 2, 2), 0);
    cr_assert_eq(sw_world_occupied_cells(w), 1);
    cr_assert_eq(sw_sched_kill(s, p), SW_OK);
    cr_assert_eq(sw_world_space_count(w), 0);
    cr_assert_eq(sw_world_space_near(w, 3.5, 0.5, 10, got, 4), 0);
    /* a new agent reusing the dead ones' slots starts off the grid */
    sw_id d = sw_sched_spawn(s, &idle, NULL, 0);
    cr_assert_not(sw_world_cell_of(w, d, NULL, NULL));
    cr_assert_not(sw_world_space_pos(w, d, NULL, NULL));
    sw_world_free(w);
}

/* ---- layers and channels ---------------------------------------------------------------------- */

Test(world, layers_are_named_initialised_arrays) {
    sw_world *w = mk(3, 2, SW_TOPO_BOUNDED);
    cr_assert_eq(sw_world_layer_count(w), 0);
    cr_assert_eq(sw_world_layer_add(w, "grass", 2.5), 0);
    cr_assert_eq(sw_world_layer_add(w, "heat", -1), 1);
    cr_assert_lt(sw_world_layer_add(w, "grass", 0), 0, "duplicate name");
    cr_assert(strstr(sw_world_errmsg(w), "grass") != NULL);
    cr_assert_eq(sw_world_layer_find(w, "heat"), 1);
    cr_assert_lt(sw_world_layer_find(w, "nope"), 0);
    cr_assert_str_eq(sw_world_layer_name(w, 0), "grass");
    cr_assert_null(sw_world_layer_name(w, 2));
    cr_assert_null(sw_world_layer_data(w, -1));
    double *g = sw_world_layer_data(w, 0);
    for (int c = 0; c < 6; c++) cr_assert_float_eq(g[c], 2.5, 0);
    g[sw_world_cell_index(w, 2, 1)] = 9;
    cr_assert_float_eq(sw_world_layer_data(w, 0)[5], 9, 0);
    cr_assert_float_eq(sw_world_layer_data(w, 1)[5], -1, 0);
    sw_world_free(w);
}

static int cmp_chan(const void *a, const void *b) {
    sw_chan x = *(const sw_chan *)a, y = *(const sw_chan *)b;
    return (x > y) - (x < y);
}


/* ---- a model's derived data --------------------------------------------------------- */

static int freed[3];
static void count_free(void *p) { freed[*(int *)p]++; }

/* Data attached by key is found by its key alone; attaching again under a
 * key frees what was there (by its free_fn); NULL removes it; the world
 * frees what it holds when freed, each piece once. */
Test(world, attached_data_is_found_by_key_and_freed_once) {
    static const char key_a = 0, key_b = 0;
    static int data[3] = {0, 1, 2};
    freed[0] = freed[1] = freed[2] = 0;
    sw_world *w = mk(4, 4, SW_TOPO_BOUNDED);
    cr_assert_null(sw_world_attached(w, &key_a));
    cr_assert_eq(sw_world_attach(w, &key_a, &data[0], count_free), SW_OK);
    cr_assert_eq(sw_world_attach(w, &key_b, &data[1], count_free), SW_OK);
    cr_assert_eq(sw_world_attached(w, &key_a), &data[0]);
    cr_assert_eq(sw_world_attached(w, &key_b), &data[1]);
    cr_assert_eq(sw_world_attach(w, &key_a, &data[2], count_free), SW_OK); /* replaced */
    cr_assert_eq(freed[0], 1);
    cr_assert_eq(sw_world_attached(w, &key_a), &data[2]);
    cr_assert_eq(sw_world_attach(w, &key_b, NULL, NULL), SW_OK); /* removed */
    cr_assert_eq(freed[1], 1);
    cr_assert_null(sw_world_attached(w, &key_b));
    cr_assert_eq(sw_world_attached(w, &key_a), &data[2]);
    cr_assert_eq(sw_world_attach(w, &key_a, &data[2], count_free), SW_OK); /* the same again */
    cr_assert_eq(freed[2], 0, "data attached again under its key was freed");
    cr_assert_eq(sw_world_attached(w, &key_a), &data[2]);
    sw_world_free(w);
    cr_assert(freed[0] == 1 && freed[1] == 1 && freed[2] == 1, "freed %d %d %d", freed[0], freed[1], freed[2]);
}

/* The first cell channel reserves the scheduler's channel table for the
 * cells' channels (up to 65,536 of them: world_chan.c): every cell's
 * channel of a world past that bound, with channels made before and
 * after, is its own live event channel keyed by its cell, and the others
 * keep theirs. */
Test(world, every_cell_channel_is_its_own_past_the_reserved_table) {
    enum { W = 300, H = 300, N = W * H };
    sw_world *w = mk(W, H, SW_TOPO_BOUNDED);
    sw_sched *s = sw_world_sched(w);
    cr_assert_eq(sw_world_chan_declare(w, "before", &(sw_chan_desc){.kind = SW_CHAN_BUFFERED, .capacity = 4,
                                                                    .key = 7}), SW_OK);
    sw_chan *all = malloc(N * sizeof *all);
    cr_assert_not_null(all);
    for (uint32_t c = 0; c < N; c++) {
        all[c] = sw_world_cell_chan(w, (int32_t)(c % W), (int32_t)(c / W));
        cr_assert_neq(all[c], SW_CHAN_NONE);
        if (c == 0)
            cr_assert_eq(sw_world_chan_declare(w, "after", &(sw_chan_desc){.kind = SW_CHAN_RENDEZVOUS, .key = 9}),
                         SW_OK);
    }
    for (uint32_t c = 0; c < N; c++) {
        cr_assert_eq(sw_world_cell_chan_at(w, c), all[c]);
        cr_assert_eq(sw_chan_kind_of(s, all[c]), SW_CHAN_EVENT);
        cr_assert_eq(sw_chan_key(s, all[c]), c, "cell %u's channel keyed by its cell", c);
    }
    sw_chan before = sw_world_chan(w, "before"), after = sw_world_chan(w, "after");
    cr_assert_eq(sw_chan_kind_of(s, before), SW_CHAN_BUFFERED);
    cr_assert_eq(sw_chan_key(s, before), 7);
    cr_assert_eq(sw_chan_kind_of(s, after), SW_CHAN_RENDEZVOUS);
    cr_assert_eq(sw_chan_key(s, after), 9);
    qsort(all, N, sizeof *all, cmp_chan);
    for (uint32_t c = 1; c < N; c++) cr_assert_neq(all[c], all[c - 1], "two cells share a channel");
    cr_assert(!bsearch(&before, all, N, sizeof *all, cmp_chan) && !bsearch(&after, all, N, sizeof *all, cmp_chan));
    free(all);
    sw_world_free(w);
}

Test(world, cell_channels_are_made_lazily_and_only_on_request) {
    sw_world *w = mk(8, 8, SW_TOPO_BOUNDED);
    sw_world_populate(w, &idle, NULL, 30, SW_PLACE_CELL, 0, 0);
    cr_assert_eq(sw_world_step(w), SW_OK);
    for (int c = 0; c < 64; c++) cr_assert_eq(sw_world_cell_chan_peek(w, c % 8, c / 8), SW_CHAN_NONE);
    cr_assert_eq(sw_world_cell_chan_at(w, 4 * 8 + 3), SW_CHAN_NONE);
    sw_chan ch = sw_world_cell_chan(w, 3, 4);
    cr_assert_neq(ch, SW_CHAN_NONE);
    cr_assert_eq(sw_world_cell_chan(w, 3, 4), ch, "the same channel every time");
    cr_assert_eq(sw_world_cell_chan_peek(w, 3, 4), ch);
    cr_assert_eq(sw_chan_kind_of(sw_world_sched(w), ch), SW_CHAN_EVENT);
    int made = 0;
    for (int c = 0; c < 64; c++) {
        made += sw_world_cell_chan_peek(w, c % 8, c / 8) != SW_CHAN_NONE;
        cr_assert_eq(sw_world_cell_chan_at(w, (uint32_t)c), sw_world_cell_chan_peek(w, c % 8, c / 8),
                     "by index as by coordinates");
    }
    cr_assert_eq(made, 1);
    cr_assert_eq(sw_world_cell_chan_at(w, 64), SW_CHAN_NONE, "past the last cell");
    cr_assert_eq(sw_world_cell_chan(w, 8, 0), SW_CHAN_NONE, "off a bounded grid");
    cr_assert_eq(sw_world_cell_chan_peek(w, -1, 0), SW_CHAN_NONE);
    sw_world_free(w);
    w = mk(8, 8, SW_TOPO_TORUS);
    cr_assert_eq(sw_world_cell_chan(w, -1, 8), sw_world_cell_chan(w, 7, 0), "wrapped on a torus");
    sw_world_free(w);
}

Test(world, mailboxes_are_buffered_and_freed_when_their_agent_dies) {
    sw_world *w = sw_world_new(&(sw_world_desc){.width = 2, .height = 2, .mailbox_capacity = 3});
    sw_sched *s = sw_world_sched(w);
    sw_id a = sw_sched_spawn(s, &idle, NULL, 0);
    sw_chan mb = sw_world_mailbox(w, a);
    cr_assert_neq(mb, SW_CHAN_NONE);
    cr_assert_eq(sw_world_mailbox(w, a), mb);
    cr_assert_eq(sw_chan_kind_of(s, mb), SW_CHAN_BUFFERED);
    sw_msg m = {.tag = 1};
    for (int i = 0; i < 3; i++) cr_assert_eq(sw_chan_post(s, mb, &m), SW_OK);
    cr_assert_eq(sw_chan_post(s, mb, &m), SW_E_FULL, "capacity 3");
    cr_assert_eq(sw_sched_kill(s, a), SW_OK);
    cr_assert_not(sw_chan_alive(s, mb), "freed with its agent");
    cr_assert_eq(sw_world_mailbox(w, a), SW_CHAN_NONE, "a dead agent has no mailbox");
    sw_id b = sw_sched_spawn(s, &idle, NULL, 0); /* may reuse a's slot */
    sw_chan mb2 = sw_world_mailbox(w, b);
    cr_assert_neq(mb2, SW_CHAN_NONE);
    cr_assert_neq(mb2, mb);
    cr_assert_eq(sw_chan_queued(s, mb2), 0, "a fresh, empty mailbox");
    sw_world_free(w);
}

Test(world, a_pickled_world_keeps_its_cells_by_kind_and_frees_loaded_mailboxes) {
    sw_world *a = mk(4, 3, SW_TOPO_BOUNDED);
    sw_id i1 = sw_world_spawn_at(a, &idle, NULL, 2, 1, 0);
    sw_id o1 = sw_world_spawn_at(a, &other, NULL, 2, 1, 0);
    sw_id i2 = sw_world_spawn_at(a, &idle, NULL, 2, 1, 0);
    cr_assert(i1 && o1 && i2);
    sw_chan mb = sw_world_mailbox(a, o1);
    cr_assert_neq(mb, SW_CHAN_NONE);
    sw_pickle_buf buf = {0};
    char err[256];
    sw_pickle_section sa = sw_pickle_world_section(a);
    cr_assert_eq(sw_pickle_save(sw_world_sched(a), &sa, 1, &buf, err, sizeof err), SW_OK, "%s", err);

    sw_world *b = mk(4, 3, SW_TOPO_BOUNDED);
    const sw_kind *kinds[] = {&idle, &other, NULL};
    const sw_func *funcs[] = {NULL};
    sw_pickle_section sb = sw_pickle_world_section(b);
    cr_assert_eq(sw_pickle_load(sw_world_sched(b), &(sw_pickle_env){kinds, funcs}, &sb, 1, buf.data,
                                buf.len, err, sizeof err),
                 SW_OK, "%s", err);
    sw_id got[4];
    cr_assert_eq(sw_world_agents_at(b, 2, 1, &idle, got, 4), 2, "kinds survive in the cell's list");
    cr_assert(got[0] == i1 && got[1] == i2);
    cr_assert_eq(sw_world_agent_at(b, 2, 1, &other, 0), o1);
    sw_sched *sb_s = sw_world_sched(b);
    cr_assert(sw_chan_alive(sb_s, mb), "the mailbox is loaded with its handle");
    cr_assert_eq(sw_sched_kill(sb_s, o1), SW_OK);
    cr_assert_not(sw_chan_alive(sb_s, mb), "the loaded mailbox is freed when its agent dies");
    cr_assert_eq(sw_world_count_at(b, 2, 1), 2);
    sw_pickle_buf_fini(&buf);
    sw_world_free(a);
    sw_world_free(b);
}

Test(world, named_channels_are_declared_once) {
    sw_world *w = mk(2, 2, SW_TOPO_BOUNDED);
    cr_assert_eq(sw_world_chan(w, "dawn"), SW_CHAN_NONE);
    cr_assert_eq(sw_world_chan_declare(w, "dawn", &(sw_chan_desc){.kind = SW_CHAN_EVENT}), SW_OK);
    cr_assert_eq(sw_world_chan_declare(w, "queue", &(sw_chan_desc){.kind = SW_CHAN_BUFFERED, .capacity = 4}),
                 SW_OK);
    cr_assert_eq(sw_world_chan_declare(w, "dawn", &(sw_chan_desc){.kind = SW_CHAN_EVENT}), SW_E_INVALID);
    cr_assert_eq(sw_world_chan_count(w), 2);
    cr_assert_str_eq(sw_world_chan_name(w, 1), "queue");
    cr_assert_eq(sw_world_chan_at(w, 1), sw_world_chan(w, "queue"));
    cr_assert_eq(sw_chan_kind_of(sw_world_sched(w), sw_world_chan(w, "queue")), SW_CHAN_BUFFERED);
    cr_assert_null(sw_world_chan_name(w, 2));
    cr_assert_eq(sw_world_chan_at(w, -1), SW_CHAN_NONE);
    sw_world_free(w);
}

/* ---- descriptors ------------------------------------------------------------------- */

Test(world, huge_or_degenerate_descriptors_are_refused_or_defaulted) {
    cr_assert_null(sw_world_new(&(sw_world_desc){.width = 1u << 17, .height = 1u << 17}));
    /* a grid's node numbers are int32 (world_int.h): 2^31 cells are too many */
    cr_assert_null(sw_world_new(&(sw_world_desc){.width = 1u << 16, .height = 1u << 15}));
    sw_world *w = sw_world_new(NULL);
    cr_assert_not_null(w);
    cr_assert_eq(sw_world_width(w), 1);
    cr_assert_eq(sw_world_height(w), 1);
    sw_world_free(w);
    /* a bucket size far too small for the world is widened, and stays exact */
    w = sw_world_new(&(sw_world_desc){.width = 4000, .height = 4000, .space_cell = 1e-6});
    cr_assert_not_null(w);
    sw_id a = sw_world_spawn_at_point(w, &idle, NULL, 100, 100, 0);
    sw_id got[2];
    cr_assert_eq(sw_world_space_near(w, 100.5, 100, 0.6, got, 2), 1);
    cr_assert_eq(got[0], a);
    sw_world_free(w);
    sw_world_free(NULL);
}

/* The directions a near-query sums (SW_SPACE_DIR_PAIR) are pickled exactly
 * (a bird's velocity is one, and the flight must resume bit for bit); a
 * snapshot from before they were pickled (its world section ends after the
 * layers) loads with each heading as the direction of its angle. */
static void dir_sums(sw_world *w, double *vx, double *vy) {
    sw_space_sums m;
    sw_world_space_near_sums(w, 3, 3, 10, 0, NULL, SW_ID_NONE, SW_SPACE_DIR_PAIR, &m);
    *vx = m.vx;
    *vy = m.vy;
}

Test(world, pickled_directions_resume_exactly_and_old_snapshots_take_the_heading) {
    sw_world_desc d = {.width = 6, .height = 6, .space_cell = 2, .topology = SW_TOPO_TORUS};
    sw_world *a = sw_world_new(&d);
    sw_id p = sw_world_spawn_at_point(a, &idle, NULL, 1, 1, 0);
    sw_id q = sw_world_spawn_at_point(a, &idle, NULL, 4, 4.5, 0);
    sw_id r = sw_world_spawn_at_point(a, &idle, NULL, 2, 5, 0);
    cr_assert(p && q && r);
    sw_world_space_set_direction(a, p, 0.1 + 0x1p-45, -0.3);
    sw_world_space_set_direction(a, q, -0.9, 0.2 + 0x1p-44);
    sw_world_space_set_heading(a, r, 0.75); /* an angle: no pair */
    double wx, wy;
    dir_sums(a, &wx, &wy);
    sw_pickle_buf buf = {0};
    char err[256];
    sw_pickle_section sa = sw_pickle_world_section(a);
    cr_assert_eq(sw_pickle_save(sw_world_sched(a), &sa, 1, &buf, err, sizeof err), SW_OK, "%s", err);
    sw_world *b = sw_world_new(&d);
    const sw_kind *kinds[] = {&idle, NULL};
    const sw_func *funcs[] = {NULL};
    sw_pickle_section sb = sw_pickle_world_section(b);
    cr_assert_eq(sw_pickle_load(sw_world_sched(b), &(sw_pickle_env){kinds, funcs}, &sb, 1, buf.data,
                                buf.len, err, sizeof err),
                 SW_OK, "%s", err);
    double gx, gy;
    dir_sums(b, &gx, &gy);
    cr_assert(gx == wx && gy == wy, "%.17g %.17g vs %.17g %.17g", gx, gy, wx, wy);
    for (sw_id id = p; id; id = id == p ? q : id == q ? r : SW_ID_NONE)
        cr_assert(sw_world_space_heading(b, id) == sw_world_space_heading(a, id));

    /* the world section alone, without its directions: the old format */
    sw_pickle_buf wb = {0};
    cr_assert_eq(sa.save(sw_world_sched(a), a, &wb, err, sizeof err), SW_OK, "%s", err);
    size_t tail = 1 + 2 * (1 + 16); /* two directions of slots below 128 */
    cr_assert_gt(wb.len, tail);
    cr_assert_eq(wb.data[wb.len - tail], 2, "the directions come last");
    cr_assert_eq(sb.load(sw_world_sched(b), b, wb.data, wb.len, err, sizeof err), SW_OK, "%s", err);
    dir_sums(b, &gx, &gy);
    cr_assert(gx == wx && gy == wy, "the whole section again: exact");
    cr_assert_eq(sb.load(sw_world_sched(b), b, wb.data, wb.len - tail, err, sizeof err), SW_OK, "%s", err);
    double hp = sw_world_space_heading(a, p), hq = sw_world_space_heading(a, q);
    double hr = sw_world_space_heading(a, r);
    dir_sums(b, &gx, &gy);
    double ox = 0.0 + cos(hp) + cos(hq) + cos(hr), oy = 0.0 + sin(hp) + sin(hq) + sin(hr);
    /* the near-query's order is by bucket: compare with a tolerance */
    cr_assert(fabs(gx - ox) < 1e-12 && fabs(gy - oy) < 1e-12, "%.17g %.17g vs %.17g %.17g", gx, gy, ox, oy);
    /* stray bytes after the directions are refused */
    uint8_t *longer = malloc(wb.len + 1);
    memcpy(longer, wb.data, wb.len);
    longer[wb.len] = 0;
    cr_assert_eq(sb.load(sw_world_sched(b), b, longer, wb.len + 1, err, sizeof err), SW_E_FORMAT);
    free(longer);
    sw_pickle_buf_fini(&wb);
    sw_pickle_buf_fini(&buf);
    sw_world_free(a);
    sw_world_free(b);
}
