/* plot.c - the statistics charts, live and as PNG.
 *
 * The simulation records one row per tick: the tick, one count per kind and
 * the scenario's declared statistics. Populations and declared statistics
 * usually live on different scales (a few hundred wolves, a 0..1 fraction of
 * burnt trees), so they get one chart each, stacked. A chart scales its y
 * axis to "nice" bounds around 0 and the values shown (below 0 too) and its
 * x axis to the ticks recorded. When there are more rows than pixel columns,
 * each column draws the min-max envelope of its rows, so a long run costs a
 * fixed amount of drawing and spikes are never lost between samples.
 *
 * sw_viewer_plot_png draws with a software renderer into a plain surface:
 * no window and no display are needed, and SDL's video subsystem is never
 * initialised. */
#include "plot.h"
#include "viewer.h"

#include <SDL_image.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const uint32_t palette[] = {0xe6550d, 0x3182bd, 0x31a354, 0x756bb1, 0xd6616b,
                                   0x8c6d31, 0x17becf, 0xbcbd22, 0x7f7f7f, 0xe377c2};

enum { BG = 0x1e1f24, FRAME = 0x5a5d66, GRID = 0x33353c, LABEL = 0xb8bcc6, TITLE = 0xe8eaf0 };

/* Population columns come first, named after their kinds, in the order of
 * the scenario's kinds; a kind named only by the schedule or a statistic has
 * no column, so count the leading columns whose names match. */
int sw_plot_kind_columns(const sw_sim *sim) {
    const sw_kind *const *k = sw_scenario_kinds(sw_sim_scenario(sim));
    int cols = sw_sim_stat_count(sim), n = 0;
    while (k && k[n] && 1 + n < cols && strcmp(k[n]->name, sw_sim_stat_name(sim, 1 + n)) == 0) n++;
    return n;
}

uint32_t sw_plot_color(const sw_sim *sim, int col) {
    int nk = sw_plot_kind_columns(sim);
    if (col >= 1 && col <= nk) {
        const sw_scenario *sc = sw_sim_scenario(sim);
        uint32_t c = sw_scenario_kind_color(sc, sw_scenario_kinds(sc)[col - 1]);
        /* Dark kinds (wolves) fade into the dark background: lighten them
         * halfway to white, keeping their hue. */
        int luma = (int)((((c >> 16) & 255) * 299 + ((c >> 8) & 255) * 587 + (c & 255) * 114) / 1000);
        if (luma < 110) {
            uint32_t out = 0;
            for (int sh = 0; sh <= 16; sh += 8) out |= ((((c >> sh) & 255) + 255) / 2) << sh;
            c = out;
        }
        return c;
    }
    /* A statistic whose name says what it counts gets the colour a reader
     * expects (green trees green, burning ones orange); the others take the
     * palette in order, skipping colours already given by name. */
    static const struct { const char *word; uint32_t rgb; } named[] = {
        {"burning", 0xff7f0e}, {"burnt", 0x9c7a64}, {"green", 0x31a354}, {"grass", 0x31a354},
        {"infected", 0xe15759}, {"susceptible", 0x6baed6}, {"recovered", 0x4e79a7},
        {"unhappy", 0xe15759}, {"happy", 0x31a354}};
    const char *name = sw_sim_stat_name(sim, col);
    for (size_t j = 0; j < sizeof named / sizeof *named; j++)
        if (strstr(name, named[j].word)) return named[j].rgb;
    int i = 0;
    for (int c = nk + 1; c < col; c++) {
        bool by_name = false;
        for (size_t j = 0; j < sizeof named / sizeof *named; j++)
            by_name |= strstr(sw_sim_stat_name(sim, c), named[j].word) != NULL;
        i += !by_name;
    }
    return palette[i % (int)(sizeof palette / sizeof *palette)];
}

static void set_color(SDL_Renderer *r, uint32_t rgb) {
    SDL_SetRenderDrawColor(r, (Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb, 255);
}

/* The smallest 1, 2 or 5 times a power of ten that is >= x. */
static double nice_step(double x) {
    if (!(x > 0)) return 1;
    double p = pow(10, floor(log10(x)));
    double m = x / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

static void fmt_num(char *buf, size_t n, double v) {
    double a = fabs(v);
    if (a >= 1e6) snprintf(buf, n, "%.3gM", v / 1e6);
    else if (a >= 1e4) snprintf(buf, n, "%.3gk", v / 1e3);
    else if (a == floor(a)) snprintf(buf, n, "%.0f", v);
    else snprintf(buf, n, "%.3g", v);
}

/* The legend of the columns cs[0..ncs): one entry per series with its latest
 * value, wrapped over lines `w` pixels wide starting at (x, y). Draws only
 * when `draw`; returns the number of lines, so a caller can measure first. */
static int legend(SDL_Renderer *r, sw_text *font, const sw_sim *sim, int x, int y, int w,
                  const int *cs, int ncs, bool draw) {
    int lh = sw_text_height(font), lines = 1, lx = x;
    size_t rows = sw_sim_stat_rows(sim);
    for (int ci = 0; ci < ncs; ci++) {
        int c = cs[ci];
        char label[160], num[32];
        fmt_num(num, sizeof num, rows ? sw_sim_stat_value(sim, rows - 1, c) : 0);
        snprintf(label, sizeof label, "%s %s", sw_sim_stat_name(sim, c), num);
        int ew = 14 + sw_text_width(font, label) + 12;
        if (lx + ew > x + w && lx > x) {
            lx = x;
            y += lh;
            lines++;
        }
        if (draw) {
            set_color(r, sw_plot_color(sim, c));
            SDL_RenderFillRect(r, &(SDL_Rect){lx, y + lh / 2 - 4, 10, 8});
            sw_text_draw(font, label, lx + 14, y, LABEL);
        }
        lx += ew;
    }
    return lines;
}

/* The height a chart needs besides its plotting box: the title, the legend's
 * lines and the room chart() leaves around the box for the tick labels. */
static int chart_overhead(sw_text *font, const sw_sim *sim, int w, const char *title,
                          const int *cs, int ncs) {
    int lh = sw_text_height(font);
    return 2 + (title ? lh : 0) + legend(NULL, font, sim, 0, 0, w - 4, cs, ncs, false) * lh + 2 +
           2 * lh;
}

/* One chart of the columns cs[0..ncs) in `area`. */
static void chart(SDL_Renderer *r, sw_text *font, const sw_sim *sim, SDL_Rect area,
                  const char *title, const int *cs, int ncs) {
    int lh = sw_text_height(font);
    size_t rows = sw_sim_stat_rows(sim);
    set_color(r, BG);
    SDL_RenderFillRect(r, &area);
    int ly = area.y + 2;
    if (title) {
        sw_text_draw(font, title, area.x + 4, ly, TITLE);
        ly += lh;
    }
    ly += legend(r, font, sim, area.x + 4, ly, area.w - 4, cs, ncs, true) * lh + 2;

    /* The y axis spans the values shown and 0, rounded out to nice steps:
     * counts and fractions start at 0, and a series of negative values
     * (a mean velocity) gets the part of the axis below 0. */
    double ymin = 0, ymax = 0;
    for (size_t i = 0; i < rows; i++)
        for (int ci = 0; ci < ncs; ci++) {
            double v = sw_sim_stat_value(sim, i, cs[ci]);
            if (!isfinite(v)) continue;
            if (v > ymax) ymax = v;
            if (v < ymin) ymin = v;
        }
    if (!(ymax > ymin)) ymax = ymin + 1;
    double step = nice_step((ymax - ymin) / 4);
    /* Tick k is at k * step, for k in kbot..ktop; the slack keeps a value
     * that is a multiple of the step up to rounding from adding a tick. */
    double kbot = floor(ymin / step + 1e-9), ktop = ceil(ymax / step - 1e-9);
    if (ktop <= kbot) ktop = kbot + 1;
    double ybot = kbot * step, ytop = ktop * step;
    double t0 = rows ? sw_sim_stat_value(sim, 0, 0) : 0;
    double t1 = rows ? sw_sim_stat_value(sim, rows - 1, 0) : 0;
    if (t1 < t0 + 10) t1 = t0 + 10;

    /* The plotting box, leaving room for y labels on the left, x below. */
    char ylab[32];
    int left = 0;
    for (double k = kbot; k <= ktop; k++) {
        fmt_num(ylab, sizeof ylab, k * step + 0.0);
        int tw = sw_text_width(font, ylab);
        if (tw > left) left = tw;
    }
    left += 10;
    SDL_Rect box = {area.x + left, ly + lh / 2, area.w - left - 8, area.y + area.h - ly - 2 * lh};
    if (box.w < 20 || box.h < 20) return;
    for (double k = kbot; k <= ktop; k++) {
        int py = box.y + box.h - (int)lround((k - kbot) / (ktop - kbot) * box.h);
        set_color(r, GRID);
        SDL_RenderDrawLine(r, box.x, py, box.x + box.w - 1, py);
        fmt_num(ylab, sizeof ylab, k * step + 0.0);
        sw_text_draw(font, ylab, box.x - 6 - sw_text_width(font, ylab), py - lh / 2, LABEL);
    }
    char xl[32];
    snprintf(xl, sizeof xl, "%.0f", t0);
    sw_text_draw(font, xl, box.x, box.y + box.h + 2, LABEL);
    snprintf(xl, sizeof xl, "tick %.0f", t1);
    sw_text_draw(font, xl, box.x + box.w - sw_text_width(font, xl), box.y + box.h + 2, LABEL);
    set_color(r, FRAME);
    SDL_RenderDrawRect(r, &box);
    if (rows == 0) return;

    SDL_RenderSetClipRect(r, &(SDL_Rect){box.x, box.y - 1, box.w, box.h + 2});
    double sx = (box.w - 1) / (t1 - t0), sy = (box.h - 1) / (ytop - ybot);
    /* The pixel row of the axis' bottom; a value v is drawn at base - (v - ybot) * sy. */
    int base = box.y + box.h - 1;
    for (int ci = 0; ci < ncs; ci++) {
        int c = cs[ci];
        set_color(r, sw_plot_color(sim, c));
        if (rows <= (size_t)box.w * 2) {
            SDL_FPoint pts[512];
            int n = 0;
            for (size_t i = 0; i < rows; i++) {
                double v = sw_sim_stat_value(sim, i, c);
                pts[n++] = (SDL_FPoint){(float)(box.x + (sw_sim_stat_value(sim, i, 0) - t0) * sx),
                                        (float)(base - ((isfinite(v) ? v : 0) - ybot) * sy)};
                if (n == 512) {
                    SDL_RenderDrawLinesF(r, pts, n);
                    pts[0] = pts[n - 1];
                    n = 1;
                }
            }
            if (n > 1) SDL_RenderDrawLinesF(r, pts, n);
            else SDL_RenderDrawPointF(r, pts[0].x, pts[0].y);
        } else {
            /* Envelope per pixel column, joined to the previous column. */
            size_t i = 0;
            float prev_lo = -1, prev_hi = -1;
            for (int px = 0; px < box.w && i < rows; px++) {
                double lo = INFINITY, hi = -INFINITY;
                while (i < rows && (sw_sim_stat_value(sim, i, 0) - t0) * sx < px + 1) {
                    double v = sw_sim_stat_value(sim, i, c);
                    if (!isfinite(v)) v = 0;
                    if (v < lo) lo = v;
                    if (v > hi) hi = v;
                    i++;
                }
                if (lo > hi) continue;
                float ylo = (float)(base - (lo - ybot) * sy), yhi = (float)(base - (hi - ybot) * sy);
                if (prev_lo >= 0) {
                    /* Bridge the gap so the curve stays connected. */
                    if (yhi > prev_lo) yhi = prev_lo;
                    if (ylo < prev_hi) ylo = prev_hi;
                }
                SDL_RenderDrawLineF(r, (float)(box.x + px), ylo, (float)(box.x + px), yhi);
                prev_lo = (float)(base - (lo - ybot) * sy);
                prev_hi = (float)(base - (hi - ybot) * sy);
            }
        }
    }
    SDL_RenderSetClipRect(r, NULL);
}

void sw_plot_draw(SDL_Renderer *r, sw_text *font, const sw_sim *sim, SDL_Rect area) {
    int cols = sw_sim_stat_count(sim);
    int nk = sw_plot_kind_columns(sim);
    /* Kinds with one agent on every cell (grass, trees) keep a constant
     * count that would flatten every other curve: leave them out of the
     * populations chart when there are other kinds (the CSV has them). */
    const sw_kind *const *kinds = sw_scenario_kinds(sw_sim_scenario(sim));
    int moving = 0;
    for (int i = 0; i < nk; i++) moving += kinds[i]->place != SW_PLACE_EVERY_CELL;
    int pop[64], npop = 0;
    for (int i = 0; i < nk && npop < 64; i++)
        if (moving == 0 || kinds[i]->place != SW_PLACE_EVERY_CELL) pop[npop++] = 1 + i;
    if (cols - 1 <= nk) {
        chart(r, font, sim, area, "Populations", pop, npop);
        return;
    }
    /* Declared statistics on very different scales (a 0..1 fraction next to
     * a count in thousands) would flatten each other: group them by size,
     * a group spanning at most a factor GROUP_SPAN, one chart per group (at
     * most three; the rest join the last). */
    enum { GROUP_SPAN = 20, MAX_GROUPS = 3 };
    int st[64], nst = 0;
    double top[64];
    size_t rows = sw_sim_stat_rows(sim);
    for (int c = 1 + nk; c < cols && nst < 64; c++) {
        double m = 0;
        for (size_t i = 0; i < rows; i++) {
            double x = fabs(sw_sim_stat_value(sim, i, c));
            if (x > m && isfinite(x)) m = x;
        }
        top[nst] = m;
        st[nst++] = c;
    }
    int group[64] = {0}, ngroups = 0;
    bool placed[64] = {false};
    for (int g = 0; g < MAX_GROUPS; g++) {
        /* Seed the group with the largest series not yet placed. */
        int seed = -1;
        for (int i = 0; i < nst; i++)
            if (!placed[i] && (seed < 0 || top[i] > top[seed])) seed = i;
        if (seed < 0) break;
        ngroups++;
        for (int i = 0; i < nst; i++)
            if (!placed[i] && (g == MAX_GROUPS - 1 || top[i] * GROUP_SPAN >= top[seed] || top[seed] == 0)) {
                placed[i] = true;
                group[i] = g;
            }
    }
    /* Each chart needs its title, legend (wrapped over as many lines as it
     * takes) and tick labels; the plotting boxes share what is left, the
     * populations' box weighing 2 and the statistics' boxes 2 * ngroups - 1
     * (2 for a single group) between them. */
    int cs[MAX_GROUPS][64], ncs[MAX_GROUPS] = {0};
    for (int i = 0; i < nst; i++) cs[group[i]][ncs[group[i]]++] = st[i];
    int over[1 + MAX_GROUPS], total_over = 0;
    over[0] = chart_overhead(font, sim, area.w, "Populations", pop, npop);
    for (int g = 0; g < ngroups; g++)
        over[1 + g] = chart_overhead(font, sim, area.w, g == 0 ? "Statistics" : NULL, cs[g], ncs[g]);
    for (int g = 0; g <= ngroups; g++) total_over += over[g];
    int boxes = area.h - 4 * ngroups - total_over;
    if (boxes < 0) boxes = 0;
    int wstat = ngroups > 1 ? 2 * ngroups - 1 : 2;
    int b1 = boxes * 2 / (2 + wstat), bs = (boxes - b1) / ngroups;
    chart(r, font, sim, (SDL_Rect){area.x, area.y, area.w, over[0] + b1}, "Populations", pop, npop);
    int y = area.y + over[0] + b1 + 4;
    for (int g = 0; g < ngroups; g++) {
        int h = over[1 + g] + bs;
        if (g + 1 == ngroups) h = area.y + area.h - y;  /* the rounding's leftovers */
        if (h < 0) h = 0;
        chart(r, font, sim, (SDL_Rect){area.x, y, area.w, h}, g == 0 ? "Statistics" : NULL, cs[g],
              ncs[g]);
        y += h + 4;
    }
}

int sw_viewer_plot_png(const sw_sim *sim, const char *path, int width, int height, char *err,
                       size_t errlen) {
    if (width <= 0) width = 900;
    if (height <= 0) height = 560;
    int rc = SW_E_IO;
    bool ttf_was = TTF_WasInit() > 0;
    if (!ttf_was && TTF_Init() != 0) {
        snprintf(err, errlen, "cannot start SDL_ttf: %s", TTF_GetError());
        return SW_E_IO;
    }
    SDL_Surface *surf = SDL_CreateRGBSurfaceWithFormat(0, width, height, 32,
                                                       SDL_PIXELFORMAT_ARGB8888);
    SDL_Renderer *r = surf ? SDL_CreateSoftwareRenderer(surf) : NULL;
    sw_text *font = NULL, *big = NULL;
    if (!r) {
        snprintf(err, errlen, "cannot create a renderer for the plot: %s", SDL_GetError());
        goto done;
    }
    if (!(font = sw_text_new(r, NULL, 13, false, err, errlen))) goto done;
    if (!(big = sw_text_new(r, NULL, 17, false, err, errlen))) goto done;
    set_color(r, BG);
    SDL_RenderClear(r);
    char title[256];
    snprintf(title, sizeof title, "%s - %zu ticks", sw_scenario_name(sw_sim_scenario(sim)),
             sw_sim_stat_rows(sim) ? sw_sim_stat_rows(sim) - 1 : 0);
    sw_text_draw(big, title, 12, 8, TITLE);
    int top = 14 + sw_text_height(big);
    sw_plot_draw(r, font, sim, (SDL_Rect){8, top, width - 16, height - top - 8});
    SDL_RenderPresent(r);
    if (IMG_SavePNG(surf, path) != 0) {
        snprintf(err, errlen, "%s: cannot write the plot: %s", path, IMG_GetError());
        goto done;
    }
    rc = SW_OK;
done:
    sw_text_free(big);
    sw_text_free(font);
    if (r) SDL_DestroyRenderer(r);
    SDL_FreeSurface(surf);
    if (!ttf_was) TTF_Quit();
    return rc;
}
