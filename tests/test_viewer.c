/* test_viewer.c - the viewer, driven as a user drives it: synthesized SDL
 * events into the state object, then checks of the simulation underneath and
 * of the pixels it draws (SDL's dummy video driver and software renderer, set
 * by tests/CMakeLists.txt: no display needed, output byte-identical to a real
 * window's software rendering). */
#include <criterion/criterion.h>
#include "support.h"

#include <stdlib.h>
#include <string.h>

#ifdef SW_HAVE_VIEWER
#include <SDL_image.h>
#include <math.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "support.h"
#include "swarmlet.h"

#if defined(__has_include) && __has_include("snapshot.h")
#define HAVE_SNAPSHOTS 1
#endif

/* ---- helpers ------------------------------------------------------------------- */

static const char *scenario(const char *name, const char *json) {
    static char path[4][1024];
    static int turn;
    char *p = path[turn++ % 4];
    /* Each test runs in its own process, maybe at the same time as others:
     * a directory per process. */
    char sub[256];
    snprintf(sub, sizeof sub, "%s_%d_%d", name, (int)getpid(), turn);
    const char *dir = sw_test_dir(sub);
    cr_assert(dir);
    snprintf(p, 1024, "%s/%s.json", dir, name);
    cr_assert_eq(sw_test_write(p, json), 0);
    return p;
}

#define FIRE_JSON                                                                              \
    "{\"format\": 1, \"name\": \"fire\", \"description\": \"test fire\", \"seed\": 3,"         \
    " \"ticks\": 100, \"world\": {\"width\": 120, \"height\": 80},"                             \
    " \"layers\": [{\"name\": \"forest\"}],"                                                    \
    " \"agents\": [{\"kind\": \"tree\", \"place\": \"every_cell\", \"density\": 0.65}],"         \
    " \"stats\": [{\"name\": \"burning\", \"kind\": \"tree\", \"field\": \"state\","            \
    " \"op\": \"count\", \"equals\": 2}]}"

#define FLOCK_JSON                                                                             \
    "{\"format\": 1, \"name\": \"flock\", \"description\": \"test boids\", \"seed\": 5,"       \
    " \"ticks\": 100, \"world\": {\"width\": 60, \"height\": 60, \"topology\": \"torus\"},"    \
    " \"agents\": [{\"kind\": \"boid\", \"count\": 150}]}"

static sw_viewer *open_at(const char *path, const char *db, int w, int h) {
    char err[2048];
    bool bad = false;
    sw_viewer *v = sw_viewer_open(&(sw_viewer_desc){.path = path, .db = db, .width = w, .height = h,
                                                    .hidden = true},
                                  err, sizeof err, &bad);
    cr_assert(v, "sw_viewer_open: %s", err);
    return v;
}

static uint32_t px(const SDL_Surface *s, int x, int y) {
    return ((const uint32_t *)((const char *)s->pixels + (size_t)y * (size_t)s->pitch))[x] & 0xffffff;
}

static void key(sw_viewer *v, SDL_Keycode sym, Uint16 mod) {
    SDL_Event ev = {0};
    ev.type = SDL_KEYDOWN;
    ev.key.keysym.sym = sym;
    ev.key.keysym.mod = mod;
    cr_assert_eq(SDL_PushEvent(&ev), 1, "%s", SDL_GetError());
    sw_viewer_poll(v);
}

static void click(sw_viewer *v, int x, int y) {
    SDL_Event ev = {0};
    ev.type = SDL_MOUSEBUTTONDOWN;
    ev.button.button = SDL_BUTTON_LEFT;
    ev.button.x = x;
    ev.button.y = y;
    SDL_PushEvent(&ev);
    ev.type = SDL_MOUSEBUTTONUP;
    SDL_PushEvent(&ev);
    sw_viewer_poll(v);
}

static void cell_center(sw_viewer *v, int x, int y, int *sx, int *sy) {
    float fx, fy;
    sw_viewer_world_to_screen(v, x + 0.5, y + 0.5, &fx, &fy);
    *sx = (int)fx;
    *sy = (int)fy;
}

static sw_tick now(sw_viewer *v) { return sw_sim_now(sw_viewer_sim(v)); }

/* Pixels of `rect` whose colour differs from the dominant background. */
static int bright_pixels(const SDL_Surface *s, SDL_Rect r) {
    int n = 0;
    for (int y = r.y; y < r.y + r.h; y++)
        for (int x = r.x; x < r.x + r.w; x++) {
            uint32_t c = px(s, x, y);
            if (((c >> 16) & 255) > 150 && ((c >> 8) & 255) > 150 && (c & 255) > 150) n++;
        }
    return n;
}

/* ---- what the picture shows ------------------------------------------------------ */

Test(viewer, fire_front_is_drawn_where_the_fire_is) {
    sw_viewer *v = open_at(scenario("fire", FIRE_JSON), NULL, 1000, 700);
    sw_viewer_step(v, 12);
    SDL_Surface *s = sw_viewer_capture(v);
    cr_assert(s);
    sw_world *w = sw_sim_world(sw_viewer_sim(v));
    int layer = sw_world_layer_find(w, "forest");
    cr_assert_geq(layer, 0);
    const double *forest = sw_world_layer_data(w, layer);
    /* Bare ground, green, burning, burnt: what docs/viewer.md promises. */
    const uint32_t want[4] = {0x23252b, 0x2e8b3a, 0xff5a14, 0x4a3a32};
    int counts[4] = {0}, wrong = 0, burning_drawn = 0;
    for (int y = 0; y < 80; y++)
        for (int x = 0; x < 120; x++) {
            int st = (int)forest[y * 120 + x], sx, sy;
            cr_assert(st >= 0 && st <= 3);
            counts[st]++;
            cell_center(v, x, y, &sx, &sy);
            uint32_t c = px(s, sx, sy);
            if (c != want[st]) wrong++;
            if (c == want[2]) burning_drawn++;
        }
    cr_assert_eq(wrong, 0, "%d cells drawn in the wrong colour", wrong);
    cr_assert_gt(counts[2], 5, "the fire should be burning at tick 12");
    cr_assert_eq(burning_drawn, counts[2]);
    cr_assert_gt(counts[3], counts[2], "burnt trees behind the front");
    /* The fire started on the left: nothing burns on the right half. */
    for (int y = 0; y < 80; y++)
        for (int x = 60; x < 120; x++) cr_assert_leq(forest[y * 120 + x], 1);
    SDL_FreeSurface(s);
    sw_viewer_close(v);
}

/* Count the world's pixels of colour `ca` into *na and of colour `cb` into *nb. */
static void count_two(SDL_Surface *s, SDL_Rect wr, uint32_t ca, long *na, uint32_t cb, long *nb) {
    *na = *nb = 0;
    for (int y = wr.y; y < wr.y + wr.h; y++)
        for (int x = wr.x; x < wr.x + wr.w; x++) {
            uint32_t c = px(s, x, y);
            *na += c == ca;
            *nb += c == cb;
        }
}

Test(viewer, kinds_are_drawn_in_their_colours_and_proportions) {
    /* Zoomed out (a texel per cell): three sheep to one wolf, no grass. */
    sw_viewer *v = open_at(scenario("flock_ws",
        "{\"format\": 1, \"name\": \"ws\", \"description\": \"d\", \"seed\": 9, \"ticks\": 10,"
        " \"world\": {\"width\": 400, \"height\": 300},"
        " \"agents\": [{\"kind\": \"sheep\", \"count\": 3000}, {\"kind\": \"wolf\", \"count\": 1000,"
        " \"color\": \"#ff0000\"}]}"), NULL, 1280, 800);
    cr_assert_lt(sw_viewer_zoom(v), 4.0, "expected the zoomed-out path");
    SDL_Surface *s = sw_viewer_capture(v);
    SDL_Rect wr = sw_viewer_world_rect(v);
    long sheep, wolves;
    count_two(s, wr, 0xf2f2f2, &sheep, 0xff0000, &wolves); /* the scenario's colour beats the kind's */
    double z = sw_viewer_zoom(v);
    cr_assert_gt(wolves, 0);
    double ratio = (double)sheep / (double)wolves;
    cr_assert(ratio > 2.4 && ratio < 3.8, "sheep:wolf pixels %ld:%ld", sheep, wolves);
    /* About zoom^2 pixels per agent (a few share cells). */
    double per_agent = (double)(sheep + wolves) / 4000.0;
    cr_assert(per_agent > 0.8 * z * z && per_agent < 1.2 * z * z, "%.2f px per agent at zoom %.2f",
              per_agent, z);
    SDL_FreeSurface(s);
    sw_viewer_close(v);
}

/* Many agents are painted by two threads; the picture must be exactly the
 * one-thread picture (the higher slot wins a shared texel either way). */
Test(viewer, painting_with_two_threads_draws_the_same_picture) {
    sw_viewer *v = open_at(scenario("many",
        "{\"format\": 1, \"name\": \"many\", \"description\": \"d\", \"seed\": 2,"
        " \"world\": {\"width\": 700, \"height\": 500},"
        " \"agents\": [{\"kind\": \"sheep\", \"count\": 150000},"
        " {\"kind\": \"wolf\", \"count\": 100000, \"color\": \"#ff0000\"}]}"), NULL, 1000, 700);
    unsetenv("SW_VIEWER_ONE_THREAD");
    SDL_Surface *two = sw_viewer_capture(v);
    setenv("SW_VIEWER_ONE_THREAD", "1", 1);
    key(v, SDLK_r, 0);  /* the same world again, painted afresh */
    SDL_Surface *one = sw_viewer_capture(v);
    unsetenv("SW_VIEWER_ONE_THREAD");
    SDL_Rect wr = sw_viewer_world_rect(v);
    long diff = 0, red = 0;
    for (int y = 0; y < wr.h - 40; y++)
        for (int x = 0; x < wr.w; x++) {
            diff += px(one, x, y) != px(two, x, y);
            red += px(one, x, y) == 0xff0000;
        }
    cr_assert_eq(diff, 0, "%ld pixels differ", diff);
    cr_assert_gt(red, 10000);
    SDL_FreeSurface(one);
    SDL_FreeSurface(two);
    sw_viewer_close(v);
}

Test(viewer, hud_shows_text_and_plot) {
    sw_viewer *v = open_at(scenario("fire", FIRE_JSON), NULL, 1000, 700);
    sw_viewer_step(v, 20);
    SDL_Surface *s = sw_viewer_capture(v);
    SDL_Rect pr = sw_viewer_panel_rect(v);
    cr_assert_gt(pr.w, 200);
    /* The title and tick lines: light text on the dark panel. */
    int title = bright_pixels(s, (SDL_Rect){pr.x, 0, pr.w, 60});
    cr_assert_gt(title, 150, "HUD title area looks blank (%d light pixels)", title);
    /* The plot draws the statistic ("burning": orange) somewhere in the panel. */
    int orange = 0;
    for (int y = 60; y < pr.h; y++)
        for (int x = pr.x; x < pr.x + pr.w; x++) orange += px(s, x, y) == 0xff7f0e;
    cr_assert_gt(orange, 40, "no curve of the declared statistic in the plot");
    SDL_FreeSurface(s);
    sw_viewer_close(v);
}

Test(viewer, continuous_agents_are_drawn_as_arrows) {
    sw_viewer *v = open_at(scenario("flock", FLOCK_JSON), NULL, 900, 600);
    sw_viewer_step(v, 3);
    SDL_Surface *s = sw_viewer_capture(v);
    SDL_Rect wr = sw_viewer_world_rect(v);
    int blue = 0;
    for (int y = wr.y; y < wr.y + wr.h; y++)
        for (int x = wr.x; x < wr.x + wr.w; x++) blue += px(s, x, y) == 0x4da3ff;
    cr_assert_gt(blue, 150 * 10, "expected 150 arrows of a few dozen pixels, got %d pixels", blue);
    SDL_FreeSurface(s);
    sw_viewer_close(v);
}

/* ---- marks ------------------------------------------------------------------------------ */

/* One magenta sheep alone on cell (5, 4), drawn with `mark` (NULL: the
 * viewer's default), zoomed in. What its cell looks like: magenta pixels in
 * the cell, and whether a point near the cell's corner, its centre, and points
 * a third of a cell right and left of the centre are magenta. */
typedef struct mark_shot {
    double zoom;
    int pixels, world_pixels;
    bool corner, centre, right, left;
} mark_shot;

static mark_shot shoot_mark(const char *mark) {
    char json[1024], m[64] = "";
    if (mark) snprintf(m, sizeof m, ", \"mark\": \"%s\"", mark);
    snprintf(json, sizeof json,
             "{\"format\": 1, \"name\": \"mark\", \"description\": \"d\", \"world\": {\"width\": 12, \"height\": 8},"
             " \"agents\": [{\"kind\": \"sheep\", \"at\": [[5, 4]], \"color\": \"#ff00ff\"%s}]}", m);
    sw_viewer *v = open_at(scenario("mark", json), NULL, 900, 600);
    mark_shot r = {.zoom = sw_viewer_zoom(v)};
    cr_assert_geq(r.zoom, 16, "expected marks, zoomed in (zoom %.1f)", r.zoom);
    SDL_Surface *s = sw_viewer_capture(v);
    cr_assert(s);
    float ax, ay;
    sw_viewer_world_to_screen(v, 5, 4, &ax, &ay);
    int z = (int)r.zoom;
    for (int y = (int)ay; y < (int)ay + z; y++)
        for (int x = (int)ax; x < (int)ax + z; x++) r.pixels += px(s, x, y) == 0xff00ff;
    SDL_Rect wr = sw_viewer_world_rect(v);
    for (int y = wr.y; y < wr.y + wr.h; y++)
        for (int x = wr.x; x < wr.x + wr.w; x++) r.world_pixels += px(s, x, y) == 0xff00ff;
    int cx = (int)(ax + r.zoom / 2), cy = (int)(ay + r.zoom / 2), third = (int)(r.zoom / 3);
    r.corner = px(s, (int)(ax + r.zoom * 0.1), (int)(ay + r.zoom * 0.1)) == 0xff00ff;
    r.centre = px(s, cx, cy) == 0xff00ff;
    r.right = px(s, cx + third, cy) == 0xff00ff;
    r.left = px(s, cx - third, cy) == 0xff00ff;
    SDL_FreeSurface(s);
    sw_viewer_close(v);
    return r;
}

Test(viewer, the_scenarios_mark_chooses_the_shape) {
    mark_shot def = shoot_mark(NULL), disc = shoot_mark("disc"), square = shoot_mark("square");
    mark_shot dot = shoot_mark("dot"), arrow = shoot_mark("arrow"), none = shoot_mark("none");
    double z2 = def.zoom * def.zoom;
    cr_log_info("zoom %.1f: square %d, disc %d, dot %d, arrow %d, none %d pixels", def.zoom, square.pixels,
                disc.pixels, dot.pixels, arrow.pixels, none.world_pixels);
    /* Unset: a kind that shares cells is a disc, exactly as "disc" draws it. */
    cr_assert_eq(def.pixels, disc.pixels);
    cr_assert_eq(def.world_pixels, def.pixels, "the mark stays inside its cell");
    /* A square of 0.88 of the cell's side covers 77% of it and reaches its
     * corners; the disc (an octagon of radius 0.4) about 45%, and not the
     * corners; a dot less than a tenth; the arrow (tip radius 0.45, pointing
     * along +x for a grid kind without a heading field) about 17%. */
    cr_assert(square.pixels > 0.72 * z2 && square.pixels < 0.82 * z2, "square: %d px at zoom %.1f",
              square.pixels, square.zoom);
    cr_assert(disc.pixels > 0.40 * z2 && disc.pixels < 0.50 * z2, "disc: %d px", disc.pixels);
    cr_assert(dot.pixels > 0.05 * z2 && dot.pixels < 0.13 * z2, "dot: %d px", dot.pixels);
    cr_assert(arrow.pixels > 0.13 * z2 && arrow.pixels < 0.21 * z2, "arrow: %d px", arrow.pixels);
    cr_assert(square.corner && !disc.corner && !dot.corner && !arrow.corner);
    cr_assert(square.centre && disc.centre && dot.centre && arrow.centre);
    cr_assert(!dot.right && !dot.left, "a dot is small");
    cr_assert(arrow.right && !arrow.left, "the arrow points to +x");
    /* "none": the kind is not drawn at all. */
    cr_assert_eq(none.world_pixels, 0, "%d pixels of a kind marked none", none.world_pixels);
}

Test(viewer, a_kind_marked_none_is_not_drawn_zoomed_out_either) {
    sw_viewer *v = open_at(scenario("none_out",
        "{\"format\": 1, \"name\": \"ws\", \"description\": \"d\", \"seed\": 9, \"ticks\": 10,"
        " \"world\": {\"width\": 400, \"height\": 300},"
        " \"agents\": [{\"kind\": \"sheep\", \"count\": 3000, \"mark\": \"none\", \"color\": \"#ff00ff\"},"
        " {\"kind\": \"wolf\", \"count\": 1000, \"color\": \"#ff0000\"}]}"), NULL, 1280, 800);
    cr_assert_lt(sw_viewer_zoom(v), 4.0, "expected the zoomed-out path");
    SDL_Surface *s = sw_viewer_capture(v);
    SDL_Rect wr = sw_viewer_world_rect(v);
    long sheep, wolves;
    count_two(s, wr, 0xff00ff, &sheep, 0xff0000, &wolves);
    cr_assert_eq(sheep, 0);
    cr_assert_gt(wolves, 500);
    SDL_FreeSurface(s);
    sw_viewer_close(v);
}

Test(viewer, wolves_and_sheep_in_distinct_colours) {
    char path[1024];
    snprintf(path, sizeof path, "%s/scenarios/wolf_sheep.json", SW_SOURCE_DIR);
    sw_viewer *v = open_at(path, "/nonexistent/x.db", 1280, 800);
    cr_assert_geq(sw_viewer_zoom(v), 4.0);
    SDL_Surface *s = sw_viewer_capture(v);
    SDL_Rect wr = sw_viewer_world_rect(v);
    long sheep = 0, wolves = 0;
    for (int y = wr.y; y < wr.y + wr.h; y++)
        for (int x = wr.x; x < wr.x + wr.w; x++) {
            sheep += px(s, x, y) == 0xf2f2f2;
            wolves += px(s, x, y) == 0xd04040;
        }
    cr_assert_gt(sheep, 1000);
    cr_assert_gt(wolves, 1000, "the wolves' red (#d04040) from the scenario");
    SDL_FreeSurface(s);
    sw_viewer_close(v);
}

/* ---- controls ------------------------------------------------------------------------ */

Test(viewer, space_plays_and_pauses_arrow_steps) {
    sw_viewer *v = open_at(scenario("fire", FIRE_JSON), NULL, 800, 600);
    cr_assert(!sw_viewer_playing(v));
    sw_viewer_frame(v);
    cr_assert_eq(now(v), 0, "paused at start: frames do not advance");
    key(v, SDLK_SPACE, 0);
    cr_assert(sw_viewer_playing(v));
    for (int i = 0; i < 5; i++) sw_viewer_frame(v);
    cr_assert_eq(now(v), 5, "one tick per frame at the default speed");
    key(v, SDLK_SPACE, 0);
    cr_assert(!sw_viewer_playing(v));
    sw_viewer_frame(v);
    cr_assert_eq(now(v), 5);
    key(v, SDLK_RIGHT, 0);
    cr_assert_eq(now(v), 6);
    key(v, SDLK_PERIOD, 0);
    cr_assert_eq(now(v), 7);
    double sp = sw_viewer_speed(v);
    key(v, SDLK_EQUALS, 0);
    key(v, SDLK_EQUALS, 0);
    cr_assert_gt(sw_viewer_speed(v), sp);
    key(v, SDLK_SPACE, 0);
    sw_viewer_frame(v);
    cr_assert_eq(now(v), 7 + (sw_tick)sw_viewer_speed(v));
    key(v, SDLK_MINUS, 0);
    key(v, SDLK_MINUS, 0);
    key(v, SDLK_MINUS, 0);
    cr_assert_lt(sw_viewer_speed(v), sp);
    sw_viewer_close(v);
}

/* Slow ticks run on a worker thread while the window keeps drawing; the
 * result is the same simulation, and the same picture, as stepping inline. */
Test(viewer, slow_ticks_step_on_a_worker_with_the_same_result) {
    setenv("SW_VIEWER_ASYNC_MS", "0", 1);  /* every tick counts as slow */
    const char *path = scenario("fire", FIRE_JSON);
    sw_viewer *v = open_at(path, NULL, 1000, 700);
    key(v, SDLK_SPACE, 0);
    for (int i = 0; i < 40; i++) {
        sw_viewer_frame(v);
        if (i == 20) {
            /* Camera events while it may be stepping: handled at once. */
            SDL_Event ev = {0};
            ev.type = SDL_MOUSEWHEEL;
            ev.wheel.y = 1;
            SDL_PushEvent(&ev);
            sw_viewer_poll(v);
        }
    }
    key(v, SDLK_SPACE, 0);   /* pause: the batch in flight completes */
    key(v, SDLK_f, 0);
    sw_tick t = now(v);      /* settles */
    cr_assert(t >= 2 && t <= 40, "tick %llu after 40 frames", (unsigned long long)t);
    SDL_Surface *a = sw_viewer_capture(v);
    unsetenv("SW_VIEWER_ASYNC_MS");

    sw_viewer *w = open_at(path, NULL, 1000, 700);
    sw_viewer_step(w, (int64_t)t);
    SDL_Surface *b = sw_viewer_capture(w);
    SDL_Rect wr = sw_viewer_world_rect(v);
    long diff = 0;
    for (int y = 0; y < wr.h - 40; y++)
        for (int x = 0; x < wr.w; x++) diff += px(a, x, y) != px(b, x, y);
    cr_assert_eq(diff, 0, "%ld pixels differ from the inline run at tick %llu", diff,
                 (unsigned long long)t);
    SDL_FreeSurface(a);
    SDL_FreeSurface(b);
    sw_viewer_close(w);
    sw_viewer_close(v);
}

Test(viewer, quitting_while_a_tick_is_computed) {
    setenv("SW_VIEWER_ASYNC_MS", "0", 1);
    sw_viewer *v = open_at(scenario("fire", FIRE_JSON), NULL, 800, 600);
    key(v, SDLK_SPACE, 0);
    for (int i = 0; i < 5; i++) sw_viewer_frame(v);
    key(v, SDLK_q, 0);
    cr_assert(sw_viewer_quitting(v));
    sw_viewer_close(v);  /* waits for the worker */
    unsetenv("SW_VIEWER_ASYNC_MS");
}

Test(viewer, click_inspects_an_agent_live) {
    sw_viewer *v = open_at(scenario("fire", FIRE_JSON), NULL, 1000, 700);
    sw_world *w = sw_sim_world(sw_viewer_sim(v));
    sw_sched *s = sw_world_sched(w);
    /* A green tree far from the fire: it sleeps on its own cell's channel. */
    int32_t tx = -1, ty = -1;
    sw_id tree = SW_ID_NONE;
    for (sw_id id = sw_sched_next(s, SW_ID_NONE); id; id = sw_sched_next(s, id)) {
        int32_t x, y;
        if (sw_world_cell_of(w, id, &x, &y) && x > 100) {
            tree = id;
            tx = x;
            ty = y;
            break;
        }
    }
    cr_assert(tree);
    sw_viewer_step(v, 1);
    int sx, sy;
    cell_center(v, tx, ty, &sx, &sy);
    click(v, sx, sy);
    cr_assert_eq(sw_viewer_selected(v), tree);
    const char *text = sw_viewer_inspector_text(v);
    char want[128];
    snprintf(want, sizeof want, "tree #%u", sw_handle_slot(tree));
    cr_assert(strstr(text, want), "%s", text);
    cr_assert(strstr(text, "receiving at tree:wait_for_fire"), "%s", text);
    snprintf(want, sizeof want, "waits to receive on cell (%d, %d)", tx, ty);
    cr_assert(strstr(text, want), "%s", text);
    cr_assert(strstr(text, "state = 1"), "fields by name from the schema:\n%s", text);
    /* The cell it waits on is highlighted (cyan outline around it). */
    SDL_Surface *shot = sw_viewer_capture(v);
    float ax, ay;
    sw_viewer_world_to_screen(v, tx, ty, &ax, &ay);
    int cyan = 0;
    for (int y = (int)ay - 4; y < (int)ay + 4 + (int)sw_viewer_zoom(v); y++)
        for (int x = (int)ax - 4; x < (int)ax + 4 + (int)sw_viewer_zoom(v); x++)
            cyan += px(shot, x, y) == 0x33e0ff;
    cr_assert_gt(cyan, 8, "the awaited cell is not highlighted");
    SDL_FreeSurface(shot);
    /* Live: the text follows the tick (no tick in it here, so check the
     * panel's inspection of a cell, then of a tree that burns). */
    click(v, sx, sy);  /* the same cell again: the only agent there stays selected */
    cr_assert_eq(sw_viewer_selected(v), tree);
    /* An empty cell is inspected as a cell. */
    const double *forest = sw_world_layer_data(w, sw_world_layer_find(w, "forest"));
    for (int c = 0; c < 120 * 80; c++)
        if (forest[c] == 0) {
            cell_center(v, c % 120, c / 120, &sx, &sy);
            click(v, sx, sy);
            cr_assert_eq(sw_viewer_selected(v), SW_ID_NONE);
            cr_assert_eq(sw_viewer_selected_cell(v), c);
            cr_assert(strstr(sw_viewer_inspector_text(v), "forest = 0"), "%s", sw_viewer_inspector_text(v));
            break;
        }
    sw_viewer_close(v);
}

Test(viewer, inspector_updates_as_the_agent_changes) {
    sw_viewer *v = open_at(scenario("fire", FIRE_JSON), NULL, 1000, 700);
    sw_world *w = sw_sim_world(sw_viewer_sim(v));
    /* A tree in column 1 catches fire within the first ticks. */
    sw_id ids[1];
    int32_t y = 0;
    for (; y < 80; y++)
        if (sw_world_agents_at(w, 1, y, NULL, ids, 1) && sw_world_agents_at(w, 0, y, NULL, ids, 1)) break;
    cr_assert_lt(y, 80);
    sw_world_agents_at(w, 1, y, NULL, ids, 1);
    int sx, sy;
    cell_center(v, 1, y, &sx, &sy);
    click(v, sx, sy);
    cr_assert_eq(sw_viewer_selected(v), ids[0]);
    cr_assert(strstr(sw_viewer_inspector_text(v), "state = 1"), "%s", sw_viewer_inspector_text(v));
    for (int i = 0; i < 4; i++) key(v, SDLK_RIGHT, 0);
    cr_assert(strstr(sw_viewer_inspector_text(v), "state = 3"), "burnt after a few ticks:\n%s",
              sw_viewer_inspector_text(v));
    sw_viewer_close(v);
}

Test(viewer, inspector_says_when_the_agent_died) {
    sw_viewer *v = open_at(scenario("flock", FLOCK_JSON), NULL, 900, 600);
    sw_world *w = sw_sim_world(sw_viewer_sim(v));
    sw_id bird = sw_sched_next(sw_world_sched(w), SW_ID_NONE);
    double bx, by;
    cr_assert(sw_world_space_pos(w, bird, &bx, &by));
    float sx, sy;
    sw_viewer_world_to_screen(v, bx, by, &sx, &sy);
    click(v, (int)sx, (int)sy);
    cr_assert_eq(sw_viewer_selected(v), bird);
    key(v, SDLK_RIGHT, 0);
    cr_assert_eq(sw_sched_kill(sw_world_sched(w), bird), SW_OK);
    const char *text = sw_viewer_inspector_text(v);
    cr_assert(strstr(text, "died at tick 1"), "%s", text);
    SDL_Surface *s = sw_viewer_capture(v);  /* and drawing does not trip on it */
    cr_assert(s);
    SDL_FreeSurface(s);
    sw_viewer_close(v);
}

Test(viewer, flocking_click_selects_nearest_bird_and_follow_tracks_it) {
    sw_viewer *v = open_at(scenario("flock", FLOCK_JSON), NULL, 900, 600);
    sw_world *w = sw_sim_world(sw_viewer_sim(v));
    sw_id bird = sw_sched_next(sw_world_sched(w), SW_ID_NONE);
    double bx, by;
    cr_assert(sw_world_space_pos(w, bird, &bx, &by));
    float sx, sy;
    sw_viewer_world_to_screen(v, bx, by, &sx, &sy);
    click(v, (int)sx, (int)sy);
    cr_assert_eq(sw_viewer_selected(v), bird);
    cr_assert(strstr(sw_viewer_inspector_text(v), "heading"), "%s", sw_viewer_inspector_text(v));
    key(v, SDLK_c, 0);
    for (int i = 0; i < 5; i++) key(v, SDLK_RIGHT, 0);
    sw_viewer_render(v);
    cr_assert(sw_world_space_pos(w, bird, &bx, &by));
    sw_viewer_world_to_screen(v, bx, by, &sx, &sy);
    SDL_Rect wr = sw_viewer_world_rect(v);
    cr_assert(fabsf(sx - wr.w / 2.0f) < 2 && fabsf(sy - wr.h / 2.0f) < 2,
              "followed bird at (%.1f, %.1f), not centred", sx, sy);
    sw_viewer_close(v);
}

Test(viewer, wheel_zooms_at_the_cursor_and_drag_pans) {
    sw_viewer *v = open_at(scenario("fire", FIRE_JSON), NULL, 1000, 700);
    SDL_Event ev = {0};
    ev.type = SDL_MOUSEMOTION;
    ev.motion.x = 200;
    ev.motion.y = 300;
    SDL_PushEvent(&ev);
    sw_viewer_poll(v);
    double wx, wy, wx2, wy2, z = sw_viewer_zoom(v);
    sw_viewer_screen_to_world(v, 200, 300, &wx, &wy);
    ev = (SDL_Event){0};
    ev.type = SDL_MOUSEWHEEL;
    ev.wheel.y = 3;
    SDL_PushEvent(&ev);
    sw_viewer_poll(v);
    cr_assert_gt(sw_viewer_zoom(v), z * 1.9);
    sw_viewer_screen_to_world(v, 200, 300, &wx2, &wy2);
    cr_assert(fabs(wx - wx2) < 1e-6 && fabs(wy - wy2) < 1e-6, "the point under the cursor moved");
    /* Drag 100 px right: the world point under (300, 300) is what was under (200, 300). */
    sw_viewer_screen_to_world(v, 200, 300, &wx, &wy);
    ev = (SDL_Event){0};
    ev.type = SDL_MOUSEBUTTONDOWN;
    ev.button.button = SDL_BUTTON_LEFT;
    ev.button.x = 200;
    ev.button.y = 300;
    SDL_PushEvent(&ev);
    ev.type = SDL_MOUSEMOTION;
    ev.motion.x = 300;
    ev.motion.y = 300;
    SDL_PushEvent(&ev);
    ev = (SDL_Event){0};
    ev.type = SDL_MOUSEBUTTONUP;
    ev.button.button = SDL_BUTTON_LEFT;
    ev.button.x = 300;
    ev.button.y = 300;
    SDL_PushEvent(&ev);
    sw_viewer_poll(v);
    sw_viewer_screen_to_world(v, 300, 300, &wx2, &wy2);
    cr_assert(fabs(wx - wx2) < 1e-6 && fabs(wy - wy2) < 1e-6);
    cr_assert_eq(sw_viewer_selected(v), SW_ID_NONE, "a drag is not a click");
    cr_assert_eq(sw_viewer_selected_cell(v), -1);
    /* F fits the whole world again. */
    key(v, SDLK_f, 0);
    cr_assert(fabs(sw_viewer_zoom(v) - z) < 1e-9);
    sw_viewer_close(v);
}

/* The whole world lies inside the world rectangle, and fills one of its sides. */
static void assert_fitted(sw_viewer *v) {
    SDL_Rect wr = sw_viewer_world_rect(v);
    float ax, ay, bx, by;
    sw_viewer_world_to_screen(v, 0, 0, &ax, &ay);
    sw_viewer_world_to_screen(v, 120, 80, &bx, &by);
    cr_assert(ax >= 0 && ay >= 0 && bx <= wr.w && by <= wr.h, "(%g,%g)-(%g,%g) outside %dx%d", ax,
              ay, bx, by, wr.w, wr.h);
    cr_assert(bx - ax > wr.w - 40 || by - ay > wr.h - 40, "the world does not fill the window");
}

Test(viewer, fits_windows_smaller_and_larger_than_the_world) {
    sw_viewer *v = open_at(scenario("fire", FIRE_JSON), NULL, 400, 300);
    double small = sw_viewer_zoom(v);
    assert_fitted(v);
    SDL_Surface *s = sw_viewer_capture(v);
    cr_assert_eq(s->w, 400);
    SDL_FreeSurface(s);
    sw_viewer_resize(v, 1600, 1000);
    assert_fitted(v);
    cr_assert_gt(sw_viewer_zoom(v), 2 * small);
    s = sw_viewer_capture(v);
    cr_assert_eq(s->w, 1600);
    cr_assert_eq(s->h, 1000);
    SDL_FreeSurface(s);
    sw_viewer_close(v);
    /* A world with more cells than the window has pixels. */
    v = open_at(scenario("huge", "{\"format\": 1, \"name\": \"huge\", \"description\": \"d\","
                         " \"world\": {\"width\": 2400, \"height\": 1600},"
                         " \"agents\": [{\"kind\": \"sheep\", \"count\": 20000}]}"), NULL, 640, 480);
    cr_assert_lt(sw_viewer_zoom(v), 0.5);
    SDL_Rect wr = sw_viewer_world_rect(v);
    float ax, ay, bx, by;
    sw_viewer_world_to_screen(v, 0, 0, &ax, &ay);
    sw_viewer_world_to_screen(v, 2400, 1600, &bx, &by);
    cr_assert(ax >= 0 && ay >= 0 && bx <= wr.w && by <= wr.h);
    s = sw_viewer_capture(v);
    int white = 0;
    for (int y = 0; y < wr.h; y++)
        for (int x = 0; x < wr.w; x++) white += px(s, x, y) == 0xf2f2f2;
    cr_assert_gt(white, 1000, "sheep are still visible when several cells share a pixel");
    SDL_FreeSurface(s);
    sw_viewer_close(v);
}

Test(viewer, reset_help_and_quit_keys) {
    sw_viewer *v = open_at(scenario("fire", FIRE_JSON), NULL, 800, 600);
    sw_viewer_step(v, 9);
    key(v, SDLK_r, 0);
    cr_assert_eq(now(v), 0);
    cr_assert_eq(sw_sim_stat_rows(sw_viewer_sim(v)), 1);
    SDL_Surface *before = sw_viewer_capture(v);
    key(v, SDLK_h, 0);
    cr_assert(sw_viewer_help_shown(v));
    SDL_Surface *help = sw_viewer_capture(v);
    SDL_Rect wr = sw_viewer_world_rect(v);
    int diff = 0;
    for (int y = 0; y < wr.h; y++)
        for (int x = 0; x < wr.w; x++) diff += px(before, x, y) != px(help, x, y);
    cr_assert_gt(diff, 5000, "the help overlay is not drawn");
    SDL_FreeSurface(before);
    SDL_FreeSurface(help);
    key(v, SDLK_ESCAPE, 0);
    cr_assert(!sw_viewer_help_shown(v));
    cr_assert(!sw_viewer_quitting(v), "Esc first closes the help");
    SDL_Event text = {0};
    text.type = SDL_TEXTINPUT;
    strcpy(text.text.text, "?");
    SDL_PushEvent(&text);
    sw_viewer_poll(v);
    cr_assert(sw_viewer_help_shown(v), "? shows the help");
    SDL_PushEvent(&text);
    sw_viewer_poll(v);
    cr_assert(!sw_viewer_help_shown(v), "? again hides it");
    key(v, SDLK_q, 0);
    cr_assert(sw_viewer_quitting(v));
    sw_viewer_close(v);

    v = open_at(scenario("fire", FIRE_JSON), NULL, 800, 600);
    key(v, SDLK_ESCAPE, 0);
    cr_assert(sw_viewer_quitting(v));
    sw_viewer_close(v);
    v = open_at(scenario("fire", FIRE_JSON), NULL, 800, 600);
    SDL_Event ev = {.type = SDL_QUIT};
    SDL_PushEvent(&ev);
    cr_assert(!sw_viewer_poll(v));
    sw_viewer_close(v);
}

/* A model's bookkeeping layer (Schelling's list of empty cells,
 * ".schelling_empty") is neither a background G offers nor a value the
 * inspector lists; the other layers are both. */
Test(viewer, bookkeeping_layers_are_neither_drawn_nor_listed) {
    sw_viewer *v = open_at(SW_SOURCE_DIR "/scenarios/schelling.json", "/nonexistent/x.db", 900, 600);
    sw_world *w = sw_sim_world(sw_viewer_sim(v));
    int hidden = sw_world_layer_find(w, ".schelling_empty"), n = sw_world_layer_count(w);
    cr_assert_geq(hidden, 0, "the scenario's residents keep their list in a layer");
    cr_assert(!sw_world_layer_shown(w, hidden));
    cr_assert(sw_world_layer_shown(w, sw_world_layer_find(w, "group")));
    cr_assert(!sw_world_layer_shown(w, n), "out of range");
    /* two rounds of G: every shown layer once a round, then "none" */
    int seen_none = 0, seen[64] = {0};
    cr_assert_leq(n, 64);
    for (int i = 0; i < 2 * n + 2; i++) {
        key(v, SDLK_g, 0);
        const char *msg = sw_viewer_message(v);
        cr_assert(!strstr(msg, ".schelling_empty"), "G offered the bookkeeping layer: %s", msg);
        if (strstr(msg, "background: none")) {
            seen_none++;
            continue;
        }
        int l = sw_world_layer_find(w, msg + strlen("background: "));
        cr_assert_geq(l, 0, "%s", msg);
        seen[l]++;
        sw_viewer_render(v); /* and it is drawn */
    }
    cr_assert_geq(seen_none, 2);
    for (int l = 0; l < n; l++)
        cr_assert_eq(seen[l] > 0, l != hidden, "layer %s", sw_world_layer_name(w, l));
    /* an empty cell's inspection lists the shown layers only */
    const double *group = sw_world_layer_data(w, sw_world_layer_find(w, "group"));
    int c = 0;
    while (group[c] != 0) c++;
    int sx, sy;
    cell_center(v, c % (int)sw_world_width(w), c / (int)sw_world_width(w), &sx, &sy);
    click(v, sx, sy);
    const char *text = sw_viewer_inspector_text(v);
    cr_assert(strstr(text, "group = 0"), "%s", text);
    cr_assert(!strstr(text, ".schelling_empty"), "%s", text);
    sw_viewer_close(v);
}

/* ---- snapshots ----------------------------------------------------------------------------- */

#ifdef HAVE_SNAPSHOTS
static bool same_world(SDL_Surface *a, SDL_Surface *b, SDL_Rect wr) {
    /* The world, not the status line at the bottom (it says what happened). */
    for (int y = 0; y < wr.h - 40; y++)
        for (int x = 0; x < wr.w; x++)
            if (px(a, x, y) != px(b, x, y)) return false;
    return true;
}

Test(viewer, save_then_load_shows_the_same_world) {
    const char *path = scenario("fire", FIRE_JSON);
    char db[1100];
    snprintf(db, sizeof db, "%s.db", path);
    sw_viewer *v = open_at(path, db, 1000, 700);
    key(v, SDLK_l, 0);
    cr_assert(strstr(sw_viewer_message(v), "no snapshots yet"), "%s", sw_viewer_message(v));
    sw_viewer_step(v, 10);
    key(v, SDLK_s, 0);
    cr_assert(strstr(sw_viewer_message(v), "saved snapshot 1 at tick 10"), "%s", sw_viewer_message(v));
    SDL_Surface *at_save = sw_viewer_capture(v);
    sw_viewer_step(v, 15);
    key(v, SDLK_s, 0);
    cr_assert(strstr(sw_viewer_message(v), "saved snapshot 2 at tick 25"), "%s", sw_viewer_message(v));
    SDL_Surface *at_25 = sw_viewer_capture(v);
    sw_viewer_step(v, 5);
    SDL_Rect wr = sw_viewer_world_rect(v);
    /* L: the latest. */
    key(v, SDLK_l, 0);
    cr_assert_eq(now(v), 25, "%s", sw_viewer_message(v));
    SDL_Surface *loaded = sw_viewer_capture(v);
    cr_assert(same_world(at_25, loaded, wr), "the loaded world differs from the saved one");
    SDL_FreeSurface(loaded);
    /* Shift+L: choose; up moves to the older one, Enter loads it. */
    key(v, SDLK_l, KMOD_LSHIFT);
    key(v, SDLK_UP, 0);
    key(v, SDLK_RETURN, 0);
    cr_assert_eq(now(v), 10, "%s", sw_viewer_message(v));
    loaded = sw_viewer_capture(v);
    cr_assert(same_world(at_save, loaded, wr), "snapshot 1 differs from the world when it was saved");
    /* And it plays on from there exactly as the original did. */
    sw_viewer_step(v, 15);
    SDL_Surface *again = sw_viewer_capture(v);
    cr_assert(same_world(at_25, again, wr), "playing on from the snapshot diverged");
    SDL_FreeSurface(again);
    SDL_FreeSurface(loaded);
    SDL_FreeSurface(at_save);
    SDL_FreeSurface(at_25);
    sw_viewer_close(v);

    /* From the command line: a chosen snapshot, and one that is not there. */
    char png[1200], *out = NULL;
    snprintf(png, sizeof png, "%s.png", db);
    int rc = sw_test_sh(&out, "%s view %s --snapshot 1 --screenshot %s", SW_BINARY, db, png);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "(tick 10)"), "%s", out);
    free(out);
    rc = sw_test_sh(&out, "%s view %s --snapshot 7 --screenshot %s", SW_BINARY, db, png);
    cr_assert_eq(rc, 2, "%s", out);
    cr_assert(strstr(out, "no snapshot 7"), "%s", out);
    free(out);

    /* Opening the database shows the latest snapshot, ready to play. */
    v = open_at(db, NULL, 1000, 700);
    cr_assert_eq(now(v), 25);
    cr_assert_str_eq(sw_viewer_db(v), db);
    key(v, SDLK_SPACE, 0);
    sw_viewer_frame(v);
    cr_assert_eq(now(v), 26);
    sw_viewer_close(v);
}
#endif

/* ---- the command line ------------------------------------------------------------------------- */

Test(viewer, cli_screenshot_without_a_display) {
    const char *path = scenario("fire", FIRE_JSON);
    char png[1100];
    snprintf(png, sizeof png, "%s.png", path);
    char *out = NULL;
    int rc = sw_test_sh(&out, "env -u DISPLAY -u SDL_VIDEODRIVER %s view %s --screenshot %s --ticks 7 --size 640x400",
                        SW_BINARY, path, png);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "tick 7"), "%s", out);
    free(out);
    SDL_Surface *s = IMG_Load(png);
    cr_assert(s, "%s", IMG_GetError());
    cr_assert_eq(s->w, 640);
    cr_assert_eq(s->h, 400);
    SDL_FreeSurface(s);

    rc = sw_test_sh(&out, "%s view %s/nope.json --screenshot %s", SW_BINARY, SW_TEST_TMP, png);
    cr_assert_eq(rc, 2, "%s", out);
    free(out);
    /* A bad mark is a bad scenario: one line naming it, exit 2. */
    char bad_mark[1100];
    snprintf(bad_mark, sizeof bad_mark, "%s.mark.json", path);
    cr_assert_eq(sw_test_write(bad_mark, "{\"format\": 1, \"name\": \"m\", \"description\": \"d\","
                                         " \"world\": {\"width\": 5, \"height\": 5},"
                                         " \"agents\": [{\"kind\": \"sheep\", \"count\": 1, \"mark\": \"squares\"}]}"), 0);
    rc = sw_test_sh(&out, "%s view %s --screenshot %s", SW_BINARY, bad_mark, png);
    cr_assert_eq(rc, 2, "%s", out);
    cr_assert(strstr(out, "$.agents[0].mark: unknown mark \"squares\" (did you mean \"square\"? valid: "
                          "\"arrow\", \"disc\", \"dot\", \"none\", \"square\")"), "%s", out);
    free(out);
    rc = sw_test_sh(&out, "%s view %s --size big", SW_BINARY, path);
    cr_assert_eq(rc, 2, "%s", out);
    cr_assert(strstr(out, "--size"), "%s", out);
    free(out);
    rc = sw_test_sh(&out, "%s view", SW_BINARY);
    cr_assert_eq(rc, 2, "%s", out);
    free(out);
#ifdef HAVE_SNAPSHOTS
    /* Databases: missing, or not a database at all. */
    char bad[1100];
    snprintf(bad, sizeof bad, "%s.db", path);
    rc = sw_test_sh(&out, "%s view %s --screenshot %s", SW_BINARY, bad, png);
    cr_assert_eq(rc, 2, "%s", out);
    cr_assert(strstr(out, "no such file"), "%s", out);
    free(out);
    cr_assert_eq(sw_test_write(bad, "this is not a database"), 0);
    rc = sw_test_sh(&out, "%s view %s --screenshot %s", SW_BINARY, bad, png);
    cr_assert_eq(rc, 2, "%s", out);
    cr_assert(strstr(out, "not an SQLite database"), "%s", out);
    free(out);
#endif
    rc = sw_test_sh(&out, "%s view --help", SW_BINARY);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "--screenshot"), "%s", out);
    free(out);
}

/* A real window on an X server: the event loop plays, and the picture is read
 * back from the window itself. Skipped where xvfb-run is not installed. */
Test(viewer, real_window_under_xvfb) {
    char *out = NULL;
    if (sw_test_sh(&out, "command -v xvfb-run") != 0) {
        free(out);
        cr_skip_test("xvfb-run is not installed");
    }
    free(out);
    const char *path = scenario("fire", FIRE_JSON);
    char png[1100];
    snprintf(png, sizeof png, "%s.png", path);
    /* LSan reports X11's own leaks (libdbus), not ours: see TOOLCHAIN.md. */
    int rc = sw_test_sh(&out, "ASAN_OPTIONS=detect_leaks=0 xvfb-run -a env SDL_VIDEODRIVER=x11 "
                              "%s view %s --play --frames 20 --screenshot %s --size 800x500",
                        SW_BINARY, path, png);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "after 20 frames at tick 20"), "%s", out);
    free(out);
    SDL_Surface *s = IMG_Load(png);
    cr_assert(s, "%s", IMG_GetError());
    cr_assert_eq(s->w, 800);
    SDL_Surface *c = SDL_ConvertSurfaceFormat(s, SDL_PIXELFORMAT_ARGB8888, 0);
    int fire = 0;
    for (int y = 0; y < c->h; y++)
        for (int x = 0; x < c->w; x++) fire += px(c, x, y) == 0xff5a14 || px(c, x, y) == 0x4a3a32;
    cr_assert_gt(fire, 500, "no burning or burnt trees in the window after 20 ticks");
    SDL_FreeSurface(c);
    SDL_FreeSurface(s);
}

/* SDL's offscreen video driver (EGL, no X server): the same picture as the
 * software renderer, as far as flat colours go. */
Test(viewer, offscreen_driver_screenshot) {
    const char *path = scenario("fire", FIRE_JSON);
    char png[1100];
    snprintf(png, sizeof png, "%s.png", path);
    char *out = NULL;
    /* LSan reports EGL's own leaks, not ours: see TOOLCHAIN.md. */
    int rc = sw_test_sh(&out, "env -u DISPLAY SDL_VIDEODRIVER=offscreen ASAN_OPTIONS=detect_leaks=0 "
                              "%s view %s --screenshot %s --ticks 12 --size 800x500",
                        SW_BINARY, path, png);
    if (rc != 0 && strstr(out, "offscreen not available")) {
        free(out);
        cr_skip_test("this SDL has no offscreen driver");
    }
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    SDL_Surface *s = IMG_Load(png);
    cr_assert(s, "%s", IMG_GetError());
    SDL_Surface *c = SDL_ConvertSurfaceFormat(s, SDL_PIXELFORMAT_ARGB8888, 0);
    int fire = 0, green = 0;
    for (int y = 0; y < c->h; y++)
        for (int x = 0; x < c->w; x++) {
            fire += px(c, x, y) == 0xff5a14;
            green += px(c, x, y) == 0x2e8b3a;
        }
    cr_assert_gt(fire, 20, "no burning trees drawn");
    cr_assert_gt(green, 20000, "no green forest drawn");
    SDL_FreeSurface(c);
    SDL_FreeSurface(s);
}

Test(viewer, every_scenario_renders) {
    char *list = NULL;
    sw_test_sh(&list, "ls %s/scenarios/*.json 2>/dev/null", SW_SOURCE_DIR);
    int n = 0;
    for (char *line = strtok(list, "\n"); line; line = strtok(NULL, "\n")) {
        sw_viewer *v = open_at(line, "/nonexistent/x.db", 900, 600);
        sw_viewer_step(v, 5);
        SDL_Surface *s = sw_viewer_capture(v);
        SDL_Rect pr = sw_viewer_panel_rect(v), wr = sw_viewer_world_rect(v);
        cr_assert_gt(bright_pixels(s, (SDL_Rect){pr.x, 0, pr.w, 60}), 100, "%s: blank HUD", line);
        /* The world is not one flat colour. */
        uint32_t first = px(s, wr.w / 2, wr.h / 2);
        int other = 0;
        for (int y = 0; y < wr.h; y += 3)
            for (int x = 0; x < wr.w; x += 3) other += px(s, x, y) != first;
        cr_assert_gt(other, 500, "%s: the world looks empty", line);
        SDL_FreeSurface(s);
        sw_viewer_close(v);
        n++;
    }
    free(list);
    cr_log_info("rendered %d scenarios", n);
    cr_assert_gt(n, 0, "no scenarios/*.json found: nothing was checked");
}

#else

/* A build without SDL2 says so, and exits 2. */
Test(viewer, build_without_sdl_says_it_has_no_viewer) {
    char *out = NULL;
    int rc = sw_test_sh(&out, "%s view %s/scenarios/forest_fire.json", SW_BINARY, SW_SOURCE_DIR);
    cr_assert_eq(rc, 2, "%s", out);
    cr_assert(strstr(out, "no viewer"), "%s", out);
    free(out);
}

#endif
