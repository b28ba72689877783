/* app.h - the viewer as a state object: open it on a scenario or a snapshot
 * database, feed it SDL events, ask it for frames. `swarmlet view` is a loop
 * over these calls, and the tests drive the same calls with synthesized
 * events (SDL_PushEvent or a direct sw_viewer_handle), then check the
 * simulation underneath.
 *
 * Keys (also shown by the help overlay, H or ?):
 *   space play/pause     right arrow or . step one tick     + / - speed
 *   wheel zoom at cursor  drag pan   F fit   C follow the selected agent
 *   click inspect an agent or a cell   G next background layer
 *   S save a snapshot    L load the latest   Shift+L choose one
 *   R reset to the scenario's start   H or ? help   Esc, Q or close: quit */
#ifndef SW_VIEWER_APP_H
#define SW_VIEWER_APP_H

#include <SDL.h>
#include <stdbool.h>

#include "scenario.h"

typedef struct sw_viewer sw_viewer;

typedef struct sw_viewer_desc {
    const char *path;      /* a scenario (.json) or a snapshot database */
    int64_t snapshot;      /* with a database: the snapshot id (0: the latest) */
    const char *db;        /* where S saves snapshots (NULL: out/<scenario>.db, or
                              the database it was opened from) */
    int width, height;     /* window size (0: 1280 x 800) */
    bool hidden;           /* no visible window: screenshots, tests, benchmarks */
    uint64_t seed;         /* with has_seed: overrides the scenario's seed */
    bool has_seed;
    int64_t ticks;         /* > 0: overrides the scenario's length */
} sw_viewer_desc;

/* Start SDL (video + ttf), load the scenario or snapshot and open the window.
 * NULL with a message in err when the input is bad (the caller exits 2) or
 * SDL cannot start; *bad_input says which (may be NULL). */
sw_viewer *sw_viewer_open(const sw_viewer_desc *desc, char *err, size_t errlen, bool *bad_input);
/* Close the window, free the simulation and quit SDL. NULL does nothing. */
void sw_viewer_close(sw_viewer *v);

/* Handle one event. Returns false once the viewer should quit. */
bool sw_viewer_handle(sw_viewer *v, const SDL_Event *ev);
/* Drain SDL's event queue through sw_viewer_handle; false once quitting. */
bool sw_viewer_poll(sw_viewer *v);
/* One frame: advance the simulation as play/speed say, then draw and present. */
void sw_viewer_frame(sw_viewer *v);
/* Draw the current state into the back buffer without presenting it. */
void sw_viewer_render(sw_viewer *v);
/* Draw, and read the picture back (ARGB8888). The caller frees it with
 * SDL_FreeSurface. NULL on failure. */
SDL_Surface *sw_viewer_capture(sw_viewer *v);
/* Draw and save the picture as a PNG. SW_OK or SW_E_IO (message in err). */
int sw_viewer_screenshot(sw_viewer *v, const char *path, char *err, size_t errlen);

/* Advance n ticks now, whatever the play state (stops at an error). */
int sw_viewer_step(sw_viewer *v, int64_t n);

/* State, for the command line and the tests. */
sw_sim *sw_viewer_sim(const sw_viewer *v);
bool sw_viewer_playing(const sw_viewer *v);
bool sw_viewer_quitting(const sw_viewer *v);
/* Ticks per frame while playing (fractions < 1 mean a tick every few frames). */
double sw_viewer_speed(const sw_viewer *v);
/* The inspected agent (SW_ID_NONE: none; see sw_viewer_selected_cell). */
sw_id sw_viewer_selected(const sw_viewer *v);
/* The inspected cell when no agent is selected, or -1. */
int64_t sw_viewer_selected_cell(const sw_viewer *v);
/* The inspector's text as shown, lines separated by '\n' ("" when nothing is
 * selected). Valid until the next call into the viewer. */
const char *sw_viewer_inspector_text(sw_viewer *v);
/* The last status message ("saved snapshot 3 at tick 120 to out/x.db"). */
const char *sw_viewer_message(const sw_viewer *v);
/* The database S saves into. */
const char *sw_viewer_db(const sw_viewer *v);
bool sw_viewer_help_shown(const sw_viewer *v);
/* Where a world point lands in the window, and the world point under a
 * window pixel (cells are unit squares: cell (x, y) spans [x, x+1)). */
void sw_viewer_world_to_screen(const sw_viewer *v, double wx, double wy, float *sx, float *sy);
void sw_viewer_screen_to_world(const sw_viewer *v, float sx, float sy, double *wx, double *wy);
/* Pixels per cell. */
double sw_viewer_zoom(const sw_viewer *v);
/* The part of the window the world is drawn in (the rest is the side panel). */
SDL_Rect sw_viewer_world_rect(const sw_viewer *v);
SDL_Rect sw_viewer_panel_rect(const sw_viewer *v);
/* Resize as a window event would (tests; a real window sends the event). */
void sw_viewer_resize(sw_viewer *v, int width, int height);

#endif
