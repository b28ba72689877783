/* plot.h - NetLogo-style time series of a simulation's statistics, drawn
 * with any SDL renderer: the live plot in the viewer's side panel and the
 * PNG of `swarmlet run --plot` are the same code. Internal to the viewer. */
#ifndef SW_VIEWER_PLOT_H
#define SW_VIEWER_PLOT_H

#include <SDL.h>

#include "scenario.h"
#include "text.h"

/* The colour of statistics column `col` (>= 1): a kind's own colour for a
 * population column, a fixed palette for declared statistics. */
uint32_t sw_plot_color(const sw_sim *sim, int col);
/* The number of population columns (one per kind of the scenario). */
int sw_plot_kind_columns(const sw_sim *sim);
/* Draw every recorded row of the simulation's statistics into `area`: one
 * chart of the populations and, when the scenario declares statistics, a
 * second one of those (each with its own scale), with titles, axes, tick
 * labels and a legend giving each series' latest value. */
void sw_plot_draw(SDL_Renderer *r, sw_text *font, const sw_sim *sim, SDL_Rect area);

#endif
