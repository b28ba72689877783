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

#endif
