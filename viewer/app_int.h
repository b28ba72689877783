/* app_int.h - the viewer's state, shared by its files (app.c: events and
 * control; render.c: the world; panel.c: HUD, inspector, overlays; snap.c:
 * snapshots; async.c: slow ticks on a worker thread; plot.c, text.c).
 * Not API: tests use app.h. */
#ifndef SW_VIEWER_APP_INT_H
#define SW_VIEWER_APP_INT_H

#include "app.h"
#include "text.h"

#define SW_VIEWER_MAX_KINDS 64

typedef struct sw_viewer_snap {
    int64_t id;
    sw_tick tick;
    char reason[64];    /* "viewer", "every 100 ticks", ... */
    char taken_at[32];
} sw_viewer_snap;

struct sw_viewer {
    sw_viewer_desc desc;
    char *path;               /* what was opened */
    char *db;                 /* where S saves */
    bool from_db;             /* opened from a snapshot database */
    sw_scenario *sc;
    sw_sim *sim;

    SDL_Window *win;
    SDL_Renderer *ren;
    bool software;            /* the renderer is SDL's software one */
    sw_text *font, *bold, *mono;
    int w, h;                 /* output size in pixels */

    /* Camera: `zoom` pixels per cell; (camx, camy) is the world point at the
     * world rectangle's top-left corner. Until the user zooms or pans, the
     * view keeps fitting the world to the window as it is resized. */
    double zoom, camx, camy;
    bool fit_mode;

    bool playing, quitting, help;
    int speed;                /* index into the speed table */
    double tick_credit;       /* fractional ticks owed while playing slowly */
    int last_rc;              /* the last step's status */
    bool at_end;              /* reached the scenario's last tick */

    /* Measured rates, refreshed about twice a second. */
    uint64_t rate_t0;
    sw_tick rate_tick0;
    uint64_t rate_frames;
    double tps, fps;

    /* Inspection. */
    sw_id sel;
    int64_t sel_cell;         /* the clicked cell (or -1) */
    sw_tick sel_died;         /* tick the selected agent was last seen alive */
    bool sel_dead;
    const sw_kind *sel_kind;
    bool follow;
    char *insp;               /* inspector text, rebuilt on demand */
    size_t insp_cap;

    /* Mouse. */
    bool down, dragged;
    int down_x, down_y;
    double down_camx, down_camy;
    int mouse_x, mouse_y;

    /* The world texture: one texel per `tex_scale` x `tex_scale` cells. */
    SDL_Texture *tex;
    int tex_w, tex_h, tex_scale;
    uint32_t *pix;
    uint32_t *pix2;           /* the second painting thread's texels */
    size_t pix2_n;
    int layer;                /* layer drawn under the agents (-1: none) */
    /* What the texture shows, so that it is repainted only when the world
     * changed: between ticks nothing moves, and a paused or slowly playing
     * world costs one texture copy per frame. */
    const sw_sim *tex_sim;
    sw_tick tex_tick;
    int tex_layer;
    bool tex_marks;
    bool tex_dirty;           /* force a repaint (benchmarks, loads) */

    /* Kind colours, by the scheduler's kind index. */
    int nkinds;
    const sw_kind *kinds[SW_VIEWER_MAX_KINDS];
    uint32_t kind_rgb[SW_VIEWER_MAX_KINDS];
    bool kind_patch[SW_VIEWER_MAX_KINDS];             /* drawn by the layer, not as agents */
    sw_mark kind_mark[SW_VIEWER_MAX_KINDS];           /* the scenario's "mark", or SW_MARK_DEFAULT */
    const sw_field *kind_heading[SW_VIEWER_MAX_KINDS]; /* a grid kind's "heading" field, for arrows */
    const sw_field *kind_state[SW_VIEWER_MAX_KINDS];  /* colours by this field, or NULL */
    uint32_t state_lut[SW_VIEWER_MAX_KINDS][16];      /* its colours, value - default + 4 */

    /* Vertex buffer for agents drawn as marks. */
    SDL_Vertex *verts;
    size_t nverts, verts_cap;

    /* Snapshot chooser (Shift+L). */
    bool chooser;
    sw_viewer_snap *snaps;
    int nsnaps, snap_pick;

    char msg[512];
    uint64_t msg_at;

    /* Stepping on a worker thread (async.c), for worlds whose ticks are too
     * slow to compute between two frames. While `busy`, the window thread
     * touches nothing of the engine: it redraws from frame_rt, the last full
     * frame, moved and scaled to the current camera. */
    bool async;               /* ticks are slow: step on the worker */
    bool busy;                /* the worker is stepping */
    SDL_Thread *worker;
    SDL_atomic_t job_done;
    int64_t job_n, job_stepped;
    int job_rc;
    uint64_t job_t0;
    SDL_Texture *frame_rt;    /* the last full frame (async only) */
    int rt_w, rt_h;
    double rt_zoom, rt_camx, rt_camy;
    sw_tick shown_tick;       /* the tick the last full frame showed */

    /* The live plot, redrawn only when a row was added (panel.c). */
    SDL_Texture *plot_tex;
    int plot_w, plot_h;
    size_t plot_rows;
    uint64_t plot_gen;
    uint64_t sim_gen;         /* bumped whenever the simulation is replaced */
};

/* render.c */
void sw__viewer_draw_world(sw_viewer *v);
void sw__viewer_sync_kinds(sw_viewer *v);
void sw__viewer_fit(sw_viewer *v);
/* The first layer after `layer` (-1: from the start) that is shown, not a
 * model's bookkeeping (sw_world_layer_shown); -1 when none is: G's cycle
 * through the backgrounds, "none" between its rounds. */
int sw__viewer_next_layer(const sw_world *w, int layer);

/* Kinds drawn as the ground layer rather than as agents (one on every cell). */
bool sw__viewer_is_patch(const sw_viewer *v, const sw_kind *k);
/* panel.c */
void sw__viewer_draw_panel(sw_viewer *v);
void sw__viewer_draw_overlays(sw_viewer *v);
const char *sw__viewer_inspect(sw_viewer *v);
/* app.c */
/* Replace the running simulation (reset, load): keep the camera when the
 * world has the same size, refit otherwise; the caller frees the old
 * scenario afterwards if it changed. */
void sw__viewer_swap_sim(sw_viewer *v, sw_sim *sim);
void sw__viewer_say(sw_viewer *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* async.c */
/* Run n ticks on the worker thread (the caller checked !busy). */
void sw__viewer_async_start(sw_viewer *v, int64_t n);
/* If the worker is stepping, wait for it and take its results (status,
 * end of the run, messages). Every call that reads or changes the engine
 * settles first. */
void sw__viewer_settle(sw_viewer *v);
/* The worker finished (without waiting). */
bool sw__viewer_async_done(sw_viewer *v);
/* Draw while busy: the last full frame under the current camera. */
void sw__viewer_render_cached(sw_viewer *v);
/* After a full frame: keep it for sw__viewer_render_cached (async only). */
bool sw__viewer_rt_begin(sw_viewer *v);
void sw__viewer_rt_end(sw_viewer *v);
void sw__viewer_async_fini(sw_viewer *v);
/* Bookkeeping after ticks were stepped (either way): the end of the run. */
void sw__viewer_after_steps(sw_viewer *v);

/* snap.c: snapshots (no-ops saying so until the snapshot module exists). */
int sw__viewer_save(sw_viewer *v);
int sw__viewer_load(sw_viewer *v, int64_t id);
int sw__viewer_list_snaps(sw_viewer *v);
/* Open a database given on the command line: fills v->sc and v->sim. */
int sw__viewer_open_db(sw_viewer *v, char *err, size_t errlen);
bool sw__viewer_is_db(const char *path);

#endif
