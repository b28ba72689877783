/* test_plot.c - `swarmlet run --plot`'s picture: the statistics curves of a
 * run, drawn by the viewer's plot code into a PNG without any display. */
#include <criterion/criterion.h>
#include "support.h"

#ifdef SW_HAVE_VIEWER
#include <SDL_image.h>
#include <stdio.h>
#include <stdlib.h>

#include "registry.h"
#include "support.h"
#include "swarmlet.h"
#include "plot.h"
#include "viewer.h"

static uint32_t px(const SDL_Surface *s, int x, int y) {
    return ((const uint32_t *)((const char *)s->pixels + (size_t)y * (size_t)s->pitch))[x] & 0xffffff;
}

Test(plot, png_has_a_curve_per_series) {
    const char *dir = sw_test_dir("plot");
    char path[1024], png[1100], err[1024];
    snprintf(path, sizeof path, "%s/ws.json", dir);
    snprintf(png, sizeof png, "%s/ws.png", dir);
    cr_assert_eq(sw_test_write(path,
        "{\"format\": 1, \"name\": \"ws\", \"description\": \"d\", \"seed\": 4, \"ticks\": 60,"
        " \"world\": {\"width\": 40, \"height\": 40}, \"layers\": [{\"name\": \"grass\"}],"
        " \"agents\": [{\"kind\": \"sheep\", \"count\": 100, \"color\": \"#00ff00\"},"
        " {\"kind\": \"wolf\", \"count\": 30, \"color\": \"#ffaa00\"},"
        " {\"kind\": \"grass\", \"place\": \"every_cell\", \"density\": 1}],"
        " \"stats\": [{\"name\": \"grass_grown\", \"layer\": \"grass\", \"op\": \"mean\"}]}"), 0);
    sw_scenario *sc = sw_scenario_load(path, sw_agents_kinds, err, sizeof err);
    cr_assert(sc, "%s", err);
    sw_sim *sim = sw_sim_new(sc, 0, err, sizeof err);
    cr_assert(sim, "%s", err);
    for (int i = 0; i < 60; i++) cr_assert_eq(sw_sim_step(sim), SW_OK);
    cr_assert_eq(sw_viewer_plot_png(sim, png, 800, 500, err, sizeof err), SW_OK, "%s", err);
    SDL_Surface *s = IMG_Load(png);
    cr_assert(s, "%s", IMG_GetError());
    cr_assert_eq(s->w, 800);
    cr_assert_eq(s->h, 500);
    SDL_Surface *c = SDL_ConvertSurfaceFormat(s, SDL_PIXELFORMAT_ARGB8888, 0);
    int green = 0, orange = 0, stat = 0;
    uint32_t stat_color = sw_plot_color(sim, 4);  /* tick, sheep, wolf, grass, then the statistic */
    cr_assert_str_eq(sw_sim_stat_name(sim, 4), "grass_grown");
    cr_assert_eq(stat_color, 0x31a354, "a statistic about grass is drawn green");
    for (int y = 0; y < c->h; y++)
        for (int x = 0; x < c->w; x++) {
            uint32_t p = px(c, x, y);
            green += p == 0x00ff00;
            orange += p == 0xffaa00;
            stat += p == stat_color;
        }
    /* A curve over 60 ticks across ~700 pixels, plus its legend swatch. */
    cr_assert_gt(green, 300, "sheep curve: %d px", green);
    cr_assert_gt(orange, 300, "wolf curve: %d px", orange);
    cr_assert_gt(stat, 300, "statistic curve: %d px", stat);
    SDL_FreeSurface(c);
    SDL_FreeSurface(s);

    cr_assert_neq(sw_viewer_plot_png(sim, "/nonexistent/dir/x.png", 0, 0, err, sizeof err), SW_OK);
    cr_assert(strstr(err, "/nonexistent/dir/x.png"), "%s", err);
    sw_sim_free(sim);
    sw_scenario_free(sc);
}


/* Runs `json` (written as plot_<name>/<name>.json, a directory of its own:
 * tests run in parallel) for 30 ticks and plots it into <name>.png beside it,
 * width x height; returns the picture as ARGB8888. */
static SDL_Surface *plot_of(const char *name, const char *json, int width, int height,
                            sw_scenario **sc, sw_sim **sim) {
    char sub[64], path[1024], png[1100], err[1024];
    snprintf(sub, sizeof sub, "plot_%s", name);
    const char *dir = sw_test_dir(sub);
    cr_assert(dir);
    snprintf(path, sizeof path, "%s/%s.json", dir, name);
    snprintf(png, sizeof png, "%s/%s.png", dir, name);
    cr_assert_eq(sw_test_write(path, json), 0);
    *sc = sw_scenario_load(path, sw_agents_kinds, err, sizeof err);
    cr_assert(*sc, "%s", err);
    *sim = sw_sim_new(*sc, 0, err, sizeof err);
    cr_assert(*sim, "%s", err);
    for (int i = 0; i < 30; i++) cr_assert_eq(sw_sim_step(*sim), SW_OK);
    cr_assert_eq(sw_viewer_plot_png(*sim, png, width, height, err, sizeof err), SW_OK, "%s", err);
    SDL_Surface *s = IMG_Load(png);
    cr_assert(s, "%s", IMG_GetError());
    SDL_Surface *c = SDL_ConvertSurfaceFormat(s, SDL_PIXELFORMAT_ARGB8888, 0);
    SDL_FreeSurface(s);
    cr_assert(c);
    return c;
}

static int count_color(const SDL_Surface *s, uint32_t rgb) {
    int n = 0;
    for (int y = 0; y < s->h; y++)
        for (int x = 0; x < s->w; x++) n += px(s, x, y) == rgb;
    return n;
}

/* A statistic below 0 (a mean velocity, here a layer filled with -3) gets the
 * part of the y axis below 0: its curve is inside the plot, not clipped away
 * under an axis that starts at 0. */
Test(plot, negative_values_are_drawn) {
    sw_scenario *sc;
    sw_sim *sim;
    SDL_Surface *c = plot_of("neg",
        "{\"format\": 1, \"name\": \"neg\", \"description\": \"d\", \"seed\": 4, \"ticks\": 60,"
        " \"world\": {\"width\": 20, \"height\": 20},"
        " \"layers\": [{\"name\": \"grass\"}, {\"name\": \"down\", \"init\": -3},"
        "              {\"name\": \"up\", \"init\": 0.5}],"
        " \"agents\": [{\"kind\": \"sheep\", \"count\": 10, \"color\": \"#00ff00\"}],"
        " \"stats\": [{\"name\": \"below\", \"layer\": \"down\", \"op\": \"mean\"},"
        "             {\"name\": \"above\", \"layer\": \"up\", \"op\": \"mean\"}]}",
        800, 500, &sc, &sim);
    cr_assert_str_eq(sw_sim_stat_name(sim, 2), "below");
    cr_assert_eq(sw_sim_stat_value(sim, 30, 2), -3);
    uint32_t below = sw_plot_color(sim, 2), above = sw_plot_color(sim, 3);
    cr_assert_neq(below, above);
    /* A line across ~700 pixels, not just the legend's 10 x 8 swatch. */
    int nb = count_color(c, below), na = count_color(c, above);
    cr_assert_gt(nb, 300, "negative curve: %d px", nb);
    cr_assert_gt(na, 300, "positive curve: %d px", na);
    /* The negative curve lies under the positive one. */
    int yb = -1, ya = -1;
    for (int y = c->h - 1; y >= 0 && (yb < 0 || ya < 0); y--) {
        int nbr = 0, nar = 0;
        for (int x = 0; x < c->w; x++) {
            nbr += px(c, x, y) == below;
            nar += px(c, x, y) == above;
        }
        if (nbr > 300 && yb < 0) yb = y;
        if (nar > 300 && ya < 0) ya = y;
    }
    cr_assert(yb > ya && ya > 0, "negative curve at row %d, positive at %d", yb, ya);
    SDL_FreeSurface(c);
    sw_sim_free(sim);
    sw_scenario_free(sc);
}

/* A legend of five long names wraps over several lines in a narrow plot: the
 * chart under it keeps room for its curves (it used to be squeezed out). */
Test(plot, a_wrapped_legend_leaves_room_for_the_curves) {
    sw_scenario *sc;
    sw_sim *sim;
    SDL_Surface *c = plot_of("legend",
        "{\"format\": 1, \"name\": \"legend\", \"description\": \"d\", \"seed\": 4, \"ticks\": 60,"
        " \"world\": {\"width\": 20, \"height\": 20},"
        " \"layers\": [{\"name\": \"grass\"}, {\"name\": \"a\", \"init\": 1}, {\"name\": \"b\", \"init\": 2},"
        "              {\"name\": \"c\", \"init\": 3}, {\"name\": \"d\", \"init\": 4},"
        "              {\"name\": \"e\", \"init\": 5}],"
        " \"agents\": [{\"kind\": \"sheep\", \"count\": 10, \"color\": \"#00ff00\"}],"
        " \"stats\": [{\"name\": \"mean_of_the_first_layer\", \"layer\": \"a\", \"op\": \"mean\"},"
        "             {\"name\": \"mean_of_the_second_layer\", \"layer\": \"b\", \"op\": \"mean\"},"
        "             {\"name\": \"mean_of_the_third_layer\", \"layer\": \"c\", \"op\": \"mean\"},"
        "             {\"name\": \"mean_of_the_fourth_layer\", \"layer\": \"d\", \"op\": \"mean\"},"
        "             {\"name\": \"mean_of_the_fifth_layer\", \"layer\": \"e\", \"op\": \"mean\"}]}",
        260, 330, &sc, &sim);
    for (int col = 2; col <= 6; col++) {
        int n = count_color(c, sw_plot_color(sim, col));
        /* The swatch is 80 pixels; a curve across the ~200 pixel box adds more. */
        cr_assert_gt(n, 80 + 100, "%s: %d px", sw_sim_stat_name(sim, col), n);
    }
    SDL_FreeSurface(c);
    sw_sim_free(sim);
    sw_scenario_free(sc);
}

#endif
