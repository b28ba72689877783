/* viewer.h - the SDL2 front end (built only when SDL2, SDL2_ttf and
 * SDL2_image are found; SW_HAVE_VIEWER is then defined). */
#ifndef SW_VIEWER_H
#define SW_VIEWER_H

#include <stddef.h>

#include "scenario.h"

/* `swarmlet view SCENARIO|DB [--snapshot ID] [--screenshot FILE.png --ticks N]`. */
int sw_viewer_main(int argc, char **argv);
/* Draw the statistics curves of a simulation (all rows so far) into a PNG,
 * with the same code as the viewer's live plot. SW_OK or a negative status
 * with a message in err. */
int sw_viewer_plot_png(const sw_sim *sim, const char *path, int width, int height, char *err,
                       size_t errlen);

#endif
