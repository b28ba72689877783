/* app.c - the viewer's state and controls: opening a scenario or snapshot,
 * the event handler, the frame loop's stepping, camera and selection.
 *
 * Everything the user can do is an SDL event handled here, so the tests push
 * the same events a person would and then look at the simulation. Time only
 * enters through the play loop (ticks per frame, with a per-frame budget so
 * a slow model cannot freeze the window); stepping, saving, loading and
 * inspecting are deterministic. */
#include "app_int.h"
#include "registry.h"

#include <SDL_image.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Ticks per frame while playing; index SPEED_DEFAULT is one tick a frame. */
static const double speeds[] = {1.0 / 30, 1.0 / 10, 0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};
#define NSPEEDS ((int)(sizeof speeds / sizeof *speeds))
#define SPEED_DEFAULT 4
#define STEP_BUDGET_MS 40  /* stepping time per frame before we draw anyway */
#define PANEL_W 340

void sw__viewer_say(sw_viewer *v, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->msg, sizeof v->msg, fmt, ap);
    va_end(ap);
    v->msg_at = SDL_GetTicks64();
    if (!v->desc.hidden) printf("swarmlet view: %s\n", v->msg);
}

/* ---- geometry ----------------------------------------------------------------- */

static int panel_width(const sw_viewer *v) {
    int p = PANEL_W;
    if (v->w < 3 * p) p = v->w / 3;
    return p < 160 ? (v->w < 480 ? 0 : 160) : p;
}

SDL_Rect sw_viewer_world_rect(const sw_viewer *v) {
    return (SDL_Rect){0, 0, v->w - panel_width(v), v->h};
}

SDL_Rect sw_viewer_panel_rect(const sw_viewer *v) {
    int p = panel_width(v);
    return (SDL_Rect){v->w - p, 0, p, v->h};
}

void sw_viewer_world_to_screen(const sw_viewer *v, double wx, double wy, float *sx, float *sy) {
    *sx = (float)((wx - v->camx) * v->zoom);
    *sy = (float)((wy - v->camy) * v->zoom);
}

void sw_viewer_screen_to_world(const sw_viewer *v, float sx, float sy, double *wx, double *wy) {
    *wx = v->camx + sx / v->zoom;
    *wy = v->camy + sy / v->zoom;
}

double sw_viewer_zoom(const sw_viewer *v) { return v->zoom; }

void sw_viewer_resize(sw_viewer *v, int width, int height) {
    if (v->win && width > 0 && height > 0) {
        int ww, wh;
        SDL_GetWindowSize(v->win, &ww, &wh);
        /* A call from a test rather than from a window event: resize the
         * window itself, so that drawing and read-back agree on its size. */
        if (ww != width || wh != height) SDL_SetWindowSize(v->win, width, height);
    }
    if (v->ren) SDL_GetRendererOutputSize(v->ren, &v->w, &v->h);
    if (v->fit_mode) sw__viewer_fit(v);
}

/* Zoom by `factor` keeping the world point under (sx, sy) where it is. */
static void zoom_at(sw_viewer *v, double factor, float sx, float sy) {
    double wx, wy;
    sw_viewer_screen_to_world(v, sx, sy, &wx, &wy);
    double z = v->zoom * factor;
    if (z < 1e-3) z = 1e-3;
    if (z > 400) z = 400;
    v->zoom = z;
    v->camx = wx - sx / z;
    v->camy = wy - sy / z;
    v->fit_mode = false;
}

static void center_on(sw_viewer *v, double wx, double wy) {
    SDL_Rect wr = sw_viewer_world_rect(v);
    v->camx = wx - wr.w / 2.0 / v->zoom;
    v->camy = wy - wr.h / 2.0 / v->zoom;
}

/* ---- state ------------------------------------------------------------------------ */

sw_sim *sw_viewer_sim(const sw_viewer *v) {
    sw__viewer_settle((sw_viewer *)v); /* the caller is about to use the engine */
    return v->sim;
}
bool sw_viewer_playing(const sw_viewer *v) { return v->playing; }
bool sw_viewer_quitting(const sw_viewer *v) { return v->quitting; }
double sw_viewer_speed(const sw_viewer *v) { return speeds[v->speed]; }
sw_id sw_viewer_selected(const sw_viewer *v) { return v->sel; }
int64_t sw_viewer_selected_cell(const sw_viewer *v) { return v->sel_cell; }
const char *sw_viewer_message(const sw_viewer *v) { return v->msg; }
const char *sw_viewer_db(const sw_viewer *v) { return v->db; }
bool sw_viewer_help_shown(const sw_viewer *v) { return v->help; }
const char *sw_viewer_inspector_text(sw_viewer *v) {
    sw__viewer_settle(v);
    return sw__viewer_inspect(v);
}

int sw_viewer_step(sw_viewer *v, int64_t n) {
    sw__viewer_settle(v);
    int rc = SW_OK;
    for (int64_t i = 0; i < n; i++) {
        rc = sw_sim_step(v->sim);
        v->last_rc = rc;
        if (rc != SW_OK) {
            v->playing = false;
            const char *rep = sw_sched_report(sw_world_sched(sw_sim_world(v->sim)));
            sw__viewer_say(v, "stopped at tick %llu: %s%s%.200s",
                           (unsigned long long)sw_sim_now(v->sim), sw_status_name(rc),
                           rep && *rep ? ": " : "", rep ? rep : "");
            break;
        }
    }
    return rc;
}

static void select_none(sw_viewer *v) {
    v->sel = SW_ID_NONE;
    v->sel_cell = -1;
    v->sel_dead = false;
    v->sel_kind = NULL;
    v->follow = false;
}

void sw__viewer_swap_sim(sw_viewer *v, sw_sim *sim) {
    sw_world *old = v->sim ? sw_sim_world(v->sim) : NULL;
    bool same = old && sw_world_width(old) == sw_world_width(sw_sim_world(sim)) &&
                sw_world_height(old) == sw_world_height(sw_sim_world(sim));
    sw__viewer_settle(v);
    sw_sim_free(v->sim);
    v->sim = sim;
    v->async = false; /* measured again on the new world */
    v->sim_gen++;
    v->tex_dirty = true; /* a new sim may reuse the old one's address */
    v->nkinds = 0;
    v->last_rc = SW_OK;
    v->at_end = false;
    v->rate_tick0 = sw_sim_now(sim);
    /* A selection survives only if the same agent exists in the new world. */
    if (v->sel && !sw_sched_alive(sw_world_sched(sw_sim_world(sim)), v->sel)) select_none(v);
    if (!same) sw__viewer_fit(v);
}

static void reset(sw_viewer *v) {
    char err[1024];
    sw_sim *sim = sw_sim_new(v->sc, 0, err, sizeof err);
    if (!sim) {
        sw__viewer_say(v, "cannot reset: %s", err);
        return;
    }
    sw__viewer_swap_sim(v, sim);
    v->playing = false;
    sw__viewer_say(v, "reset to tick 0 of %s", sw_scenario_name(v->sc));
}

/* ---- inspection -------------------------------------------------------------------------- */

static void select_agent(sw_viewer *v, sw_id id) {
    select_none(v);
    v->sel = id;
    v->sel_kind = sw_sched_kind_of(sw_world_sched(sw_sim_world(v->sim)), id);
}

/* What is under window pixel (sx, sy): the nearest continuous-space agent
 * within a few pixels, else an agent on the cell (the one whose mark is
 * under the cursor when zoomed in; the next one in the cell on repeated
 * clicks when zoomed out), else the cell itself. */
static void inspect_at(sw_viewer *v, int sx, int sy) {
    sw_world *w = sw_sim_world(v->sim);
    double wx, wy;
    sw_viewer_screen_to_world(v, (float)sx, (float)sy, &wx, &wy);
    if (sw_world_space_count(w) > 0) {
        sw_id near[256];
        double r = fmax(0.75, 8 / v->zoom);
        uint32_t n = sw_world_space_near(w, wx, wy, r, near, 256);
        if (n > 256) n = 256;
        sw_id best = SW_ID_NONE;
        double bd = INFINITY;
        sw__viewer_sync_kinds(v);
        for (uint32_t i = 0; i < n; i++) {
            double px, py, dx, dy;
            /* Kinds the scenario does not draw ("mark": "none") are not
             * picked from empty-looking space. */
            if (sw__viewer_is_patch(v, sw_sched_kind_of(sw_world_sched(w), near[i]))) continue;
            sw_world_space_pos(w, near[i], &px, &py);
            sw_world_space_delta(w, wx, wy, px, py, &dx, &dy);
            if (dx * dx + dy * dy < bd) {
                bd = dx * dx + dy * dy;
                best = near[i];
            }
        }
        if (best) {
            select_agent(v, best);
            return;
        }
    }
    int32_t cx = (int32_t)floor(wx), cy = (int32_t)floor(wy);
    if (wx < 0 || wy < 0 || cx >= (int32_t)sw_world_width(w) || cy >= (int32_t)sw_world_height(w)) {
        select_none(v);
        return;
    }
    /* Agents drawn on the cell first (in the order they are drawn); the
     * ground's own agent (a tree, grass) when there is nothing else. */
    sw_id all[16], ids[16], ground[16];
    uint32_t m = sw_world_agents_at(w, cx, cy, NULL, all, 16), n = 0, ng = 0;
    if (m > 16) m = 16;
    sw__viewer_sync_kinds(v);
    sw_sched *s = sw_world_sched(w);
    for (uint32_t i = 0; i < m; i++) {
        if (sw__viewer_is_patch(v, sw_sched_kind_of(s, all[i]))) ground[ng++] = all[i];
        else ids[n++] = all[i];
    }
    bool on_ground = n == 0;
    if (on_ground) {
        memcpy(ids, ground, ng * sizeof *ids);
        n = ng;
    }
    if (n > 0) {
        uint32_t pick = 0;
        if (v->zoom >= 4.0 && !on_ground) {
            uint32_t g = n == 1 ? 1 : n <= 4 ? 2 : n <= 9 ? 3 : 4;
            uint32_t gx = (uint32_t)((wx - cx) * g), gy = (uint32_t)((wy - cy) * g);
            pick = gy * g + gx;
            if (pick >= n) pick = n - 1;
        } else {
            for (uint32_t i = 0; i < n; i++)
                if (ids[i] == v->sel) pick = (i + 1) % n;
        }
        select_agent(v, ids[pick]);
        return;
    }
    select_none(v);
    v->sel_cell = (int64_t)sw_world_cell_index(w, cx, cy);
}

/* ---- events ---------------------------------------------------------------------------------- */

static void set_speed(sw_viewer *v, int idx) {
    v->speed = idx < 0 ? 0 : idx >= NSPEEDS ? NSPEEDS - 1 : idx;
    double s = speeds[v->speed];
    if (s >= 1) sw__viewer_say(v, "speed: %g ticks per frame", s);
    else sw__viewer_say(v, "speed: a tick every %g frames", 1 / s);
}

static void toggle_play(sw_viewer *v) {
    if (v->last_rc != SW_OK && !v->playing) {
        sw__viewer_say(v, "the simulation stopped (%s): R resets, L loads a snapshot",
                       sw_status_name(v->last_rc));
        return;
    }
    v->playing = !v->playing;
    v->tick_credit = 0;
    if (v->playing && v->at_end) v->at_end = false;
}

static void key_down(sw_viewer *v, const SDL_KeyboardEvent *k) {
    SDL_Keycode sym = k->keysym.sym;
    bool shift = (k->keysym.mod & KMOD_SHIFT) != 0;
    if (v->chooser) {
        switch (sym) {
        case SDLK_ESCAPE: v->chooser = false; return;
        case SDLK_UP: if (v->snap_pick > 0) v->snap_pick--; return;
        case SDLK_DOWN: if (v->snap_pick + 1 < v->nsnaps) v->snap_pick++; return;
        case SDLK_RETURN: case SDLK_KP_ENTER: case SDLK_l:
            v->chooser = false;
            if (v->snap_pick < v->nsnaps) sw__viewer_load(v, v->snaps[v->snap_pick].id);
            return;
        case SDLK_q: v->quitting = true; return;
        default: return;
        }
    }
    switch (sym) {
    case SDLK_ESCAPE:
        if (v->help) v->help = false;
        else v->quitting = true;
        break;
    case SDLK_q: v->quitting = true; break;
    case SDLK_h: v->help = !v->help; break;
    case SDLK_SPACE: toggle_play(v); break;
    case SDLK_RIGHT: case SDLK_PERIOD:
        v->playing = false;
        if (v->last_rc == SW_OK) sw_viewer_step(v, 1);
        break;
    case SDLK_EQUALS: case SDLK_PLUS: case SDLK_KP_PLUS: case SDLK_UP: set_speed(v, v->speed + 1); break;
    case SDLK_MINUS: case SDLK_KP_MINUS: case SDLK_DOWN: set_speed(v, v->speed - 1); break;
    case SDLK_f: sw__viewer_fit(v); break;
    case SDLK_c:
        v->follow = v->sel && !v->follow;
        sw__viewer_say(v, v->follow ? "following the selected agent" : "not following");
        break;
    case SDLK_g: {
        const sw_world *w = sw_sim_world(v->sim);
        v->layer = sw__viewer_next_layer(w, v->layer);
        sw__viewer_say(v, "background: %s", v->layer < 0 ? "none" : sw_world_layer_name(w, v->layer));
        break;
    }
    case SDLK_r: reset(v); break;
    case SDLK_s: sw__viewer_save(v); break;
    case SDLK_l:
        if (shift) {
            if (sw__viewer_list_snaps(v) > 0) v->chooser = true;
        } else {
            sw__viewer_load(v, 0);
        }
        break;
    default: break;
    }
}

/* Events the window thread may handle while the worker steps: the camera,
 * the help, pause, speed and quitting. Everything else waits for the tick. */
static bool needs_engine(const sw_viewer *v, const SDL_Event *ev) {
    if (ev->type == SDL_MOUSEBUTTONUP) return v->down && !v->dragged;  /* a click inspects */
    if (ev->type != SDL_KEYDOWN) return false;
    switch (ev->key.keysym.sym) {
    case SDLK_SPACE: case SDLK_h: case SDLK_q: case SDLK_ESCAPE: case SDLK_f:
    case SDLK_EQUALS: case SDLK_PLUS: case SDLK_KP_PLUS: case SDLK_MINUS: case SDLK_KP_MINUS:
        return false;
    case SDLK_UP: case SDLK_DOWN: return false;
    default: return true;
    }
}

bool sw_viewer_handle(sw_viewer *v, const SDL_Event *ev) {
    if (v->busy && needs_engine(v, ev)) sw__viewer_settle(v);
    SDL_Rect wr = sw_viewer_world_rect(v);
    switch (ev->type) {
    case SDL_QUIT: v->quitting = true; break;
    case SDL_WINDOWEVENT:
        if (ev->window.event == SDL_WINDOWEVENT_SIZE_CHANGED || ev->window.event == SDL_WINDOWEVENT_RESIZED)
            sw_viewer_resize(v, ev->window.data1, ev->window.data2);
        else if (ev->window.event == SDL_WINDOWEVENT_CLOSE)
            v->quitting = true;
        break;
    case SDL_KEYDOWN: key_down(v, &ev->key); break;
    case SDL_TEXTINPUT:
        /* '?' is shift+slash on some layouts and a key of its own on others:
         * the text it types is the same everywhere. */
        if (strcmp(ev->text.text, "?") == 0 && !v->chooser) v->help = !v->help;
        break;
    case SDL_MOUSEWHEEL: {
        int mx = v->mouse_x, my = v->mouse_y;
        if (ev->wheel.y != 0) zoom_at(v, pow(1.25, ev->wheel.y), (float)mx, (float)my);
        break;
    }
    case SDL_MOUSEBUTTONDOWN:
        v->mouse_x = ev->button.x;
        v->mouse_y = ev->button.y;
        if (ev->button.x < wr.x + wr.w) {
            v->down = true;
            v->dragged = false;
            v->down_x = ev->button.x;
            v->down_y = ev->button.y;
            v->down_camx = v->camx;
            v->down_camy = v->camy;
        }
        break;
    case SDL_MOUSEMOTION:
        v->mouse_x = ev->motion.x;
        v->mouse_y = ev->motion.y;
        if (v->down) {
            int dx = ev->motion.x - v->down_x, dy = ev->motion.y - v->down_y;
            if (!v->dragged && dx * dx + dy * dy > 9) v->dragged = true;
            if (v->dragged) {
                v->camx = v->down_camx - dx / v->zoom;
                v->camy = v->down_camy - dy / v->zoom;
                v->fit_mode = false;
                v->follow = false;
            }
        }
        break;
    case SDL_MOUSEBUTTONUP:
        if (v->down && !v->dragged && ev->button.button == SDL_BUTTON_LEFT) {
            inspect_at(v, ev->button.x, ev->button.y);
            v->help = false;
        }
        v->down = false;
        break;
    default: break;
    }
    return !v->quitting;
}

bool sw_viewer_poll(sw_viewer *v) {
    SDL_Event ev;
    while (SDL_PollEvent(&ev)) sw_viewer_handle(v, &ev);
    return !v->quitting;
}

/* ---- frames ------------------------------------------------------------------------------------ */

void sw__viewer_after_steps(sw_viewer *v) {
    sw_tick end = sw_sim_end(v->sim);
    if (sw_sim_now(v->sim) == end && !v->at_end && v->playing) {
        v->playing = false;
        v->at_end = true;
        sw__viewer_say(v, "reached the scenario's last tick (%llu); space plays on",
                       (unsigned long long)end);
    }
}

/* Ticks slower than this (ms) move stepping to the worker thread. */
static uint64_t async_ms(void) {
    const char *e = getenv("SW_VIEWER_ASYNC_MS");
    return e && *e ? (uint64_t)strtoull(e, NULL, 10) : 25;
}

static void advance(sw_viewer *v) {
    if (v->busy) {
        if (!sw__viewer_async_done(v)) return;
        sw__viewer_settle(v);
    }
    if (!v->playing) return;
    v->tick_credit += speeds[v->speed];
    int64_t n = (int64_t)v->tick_credit;
    v->tick_credit -= (double)n;
    if (n <= 0) return;
    if (v->async) {
        /* Ticks are slow: one per batch, a batch per frame at most, so that
         * pausing or any action waits for one tick, never for a thousand. */
        v->tick_credit = 0;
        sw__viewer_async_start(v, 1);
        return;
    }
    uint64_t t0 = SDL_GetTicks64(), limit = async_ms();
    for (int64_t i = 0; i < n && v->playing; i++) {
        uint64_t s0 = SDL_GetTicks64();
        if (sw_viewer_step(v, 1) != SW_OK) break;
        if (SDL_GetTicks64() - s0 >= limit) v->async = true;
        sw__viewer_after_steps(v);
        if (SDL_GetTicks64() - t0 > STEP_BUDGET_MS) {
            v->tick_credit = 0;
            break;
        }
    }
}

static void update_rates(sw_viewer *v) {
    uint64_t now = SDL_GetTicks64();
    v->rate_frames++;
    if (now - v->rate_t0 >= 500) {
        double dt = (double)(now - v->rate_t0) / 1000.0;
        sw_tick t = v->shown_tick; /* not the engine's: it may be stepping */
        v->tps = t >= v->rate_tick0 ? (double)(t - v->rate_tick0) / dt : 0;
        v->fps = (double)v->rate_frames / dt;
        v->rate_t0 = now;
        v->rate_tick0 = t;
        v->rate_frames = 0;
    }
}

void sw_viewer_render(sw_viewer *v) {
    if (v->busy) {
        sw__viewer_render_cached(v);
        return;
    }
    sw_world *w = sw_sim_world(v->sim);
    if (v->follow && v->sel) {
        int32_t x, y;
        double px, py;
        if (sw_world_cell_of(w, v->sel, &x, &y)) center_on(v, x + 0.5, y + 0.5);
        else if (sw_world_space_pos(w, v->sel, &px, &py)) center_on(v, px, py);
    }
    bool rt = sw__viewer_rt_begin(v);
    SDL_SetRenderDrawColor(v->ren, 0x15, 0x16, 0x1a, 255);
    SDL_RenderClear(v->ren);
    sw__viewer_draw_world(v);
    sw__viewer_draw_panel(v);
    if (rt) sw__viewer_rt_end(v);
    v->shown_tick = sw_sim_now(v->sim);
    sw__viewer_draw_overlays(v);
}

void sw_viewer_frame(sw_viewer *v) {
    advance(v);
    sw_viewer_render(v);
    SDL_RenderPresent(v->ren);
    update_rates(v);
}

SDL_Surface *sw_viewer_capture(sw_viewer *v) {
    sw__viewer_settle(v);
    SDL_GetRendererOutputSize(v->ren, &v->w, &v->h);
    sw_viewer_render(v);
    /* Read back before SDL_RenderPresent: after it the back buffer's content
     * is undefined. */
    SDL_Surface *shot = SDL_CreateRGBSurfaceWithFormat(0, v->w, v->h, 32, SDL_PIXELFORMAT_ARGB8888);
    if (!shot) return NULL;
    if (SDL_RenderReadPixels(v->ren, NULL, SDL_PIXELFORMAT_ARGB8888, shot->pixels, shot->pitch) != 0) {
        SDL_FreeSurface(shot);
        return NULL;
    }
    return shot;
}

int sw_viewer_screenshot(sw_viewer *v, const char *path, char *err, size_t errlen) {
    SDL_Surface *shot = sw_viewer_capture(v);
    if (!shot) {
        snprintf(err, errlen, "cannot read the window back: %s", SDL_GetError());
        return SW_E_IO;
    }
    int rc = IMG_SavePNG(shot, path);
    SDL_FreeSurface(shot);
    if (rc != 0) {
        snprintf(err, errlen, "%s: cannot write the screenshot: %s", path, IMG_GetError());
        return SW_E_IO;
    }
    return SW_OK;
}

/* ---- opening and closing ------------------------------------------------------------------------- */

static char *dup_str(const char *s) { return s ? strdup(s) : NULL; }

/* The default database for snapshots of a scenario run: out/<name>.db. */
static char *default_db(const sw_scenario *sc) {
    char buf[1024];
    snprintf(buf, sizeof buf, "out/%s.db", sw_scenario_name(sc));
    return strdup(buf);
}

static int load_input(sw_viewer *v, char *err, size_t errlen) {
    if (sw__viewer_is_db(v->path)) {
        v->from_db = true;
        return sw__viewer_open_db(v, err, errlen);
    }
    v->sc = sw_scenario_load(v->path, sw_agents_kinds, err, errlen);
    if (!v->sc) return SW_E_FORMAT;
    if (v->desc.has_seed) sw_scenario_set_seed(v->sc, v->desc.seed);
    if (v->desc.ticks > 0) sw_scenario_set_ticks(v->sc, (sw_tick)v->desc.ticks);
    v->sim = sw_sim_new(v->sc, 0, err, errlen);
    return v->sim ? SW_OK : SW_E_FORMAT;
}

sw_viewer *sw_viewer_open(const sw_viewer_desc *desc, char *err, size_t errlen, bool *bad_input) {
    if (bad_input) *bad_input = false;
    sw_viewer *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    v->desc = *desc;
    v->path = dup_str(desc->path);
    v->sel_cell = -1;
    v->speed = SPEED_DEFAULT;
    v->layer = 0; /* the first layer (the next shown, if it is bookkeeping: paint_layer) */
    v->fit_mode = true;
    v->w = desc->width > 0 ? desc->width : 1280;
    v->h = desc->height > 0 ? desc->height : 800;

    /* The input first: a bad file is exit status 2 whether or not there is a
     * display. */
    if (!v->path || load_input(v, err, errlen) != SW_OK) {
        if (!v->path) snprintf(err, errlen, "no scenario or database given");
        if (bad_input) *bad_input = true;
        sw_viewer_close(v);
        return NULL;
    }
    if (!v->db) v->db = desc->db ? strdup(desc->db) : default_db(v->sc);

    /* Without a display, a hidden window needs none: SDL's dummy driver with
     * the software renderer draws exactly what a real window would. */
    const char *drv = getenv("SDL_VIDEODRIVER");
    if (desc->hidden && (!drv || !*drv) && !getenv("DISPLAY") && !getenv("WAYLAND_DISPLAY"))
        SDL_SetHint(SDL_HINT_VIDEODRIVER, "dummy");
    if (!desc->hidden && (!drv || !*drv) && !getenv("DISPLAY") && !getenv("WAYLAND_DISPLAY")) {
        snprintf(err, errlen, "no display (DISPLAY is not set): run it under xvfb-run, or use "
                              "--screenshot FILE.png --ticks N to render without one");
        sw_viewer_close(v);
        return NULL;
    }
    if (SDL_Init(SDL_INIT_VIDEO) != 0 || TTF_Init() != 0) {
        snprintf(err, errlen, "cannot start SDL: %s", SDL_GetError());
        sw_viewer_close(v);
        return NULL;
    }
    char title[256];
    snprintf(title, sizeof title, "swarmlet - %s", sw_scenario_name(v->sc));
    v->win = SDL_CreateWindow(title, SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, v->w, v->h,
                              SDL_WINDOW_RESIZABLE | (desc->hidden ? SDL_WINDOW_HIDDEN : SDL_WINDOW_SHOWN));
    if (!v->win) {
        snprintf(err, errlen, "cannot open a window: %s", SDL_GetError());
        sw_viewer_close(v);
        return NULL;
    }
    SDL_SetWindowMinimumSize(v->win, 320, 240);
    Uint32 flags = SDL_RENDERER_ACCELERATED | (desc->hidden ? 0 : SDL_RENDERER_PRESENTVSYNC);
    v->ren = SDL_CreateRenderer(v->win, -1, flags);
    if (!v->ren) v->ren = SDL_CreateRenderer(v->win, -1, SDL_RENDERER_SOFTWARE);
    if (!v->ren) {
        snprintf(err, errlen, "cannot create a renderer: %s", SDL_GetError());
        sw_viewer_close(v);
        return NULL;
    }
    SDL_RendererInfo info;
    if (SDL_GetRendererInfo(v->ren, &info) == 0) v->software = (info.flags & SDL_RENDERER_SOFTWARE) != 0;
    SDL_SetRenderDrawBlendMode(v->ren, SDL_BLENDMODE_BLEND);
    SDL_GetRendererOutputSize(v->ren, &v->w, &v->h);
    if (!(v->font = sw_text_new(v->ren, NULL, 13, false, err, errlen)) ||
        !(v->bold = sw_text_new(v->ren, NULL, 16, false, err, errlen)) ||
        !(v->mono = sw_text_new(v->ren, NULL, 12, true, err, errlen))) {
        sw_viewer_close(v);
        return NULL;
    }
    sw__viewer_fit(v);
    v->rate_t0 = SDL_GetTicks64();
    v->rate_tick0 = sw_sim_now(v->sim);
    if (v->from_db)
        snprintf(v->msg, sizeof v->msg, "opened %s at tick %llu", v->path,
                 (unsigned long long)sw_sim_now(v->sim));
    else
        snprintf(v->msg, sizeof v->msg, "space plays, H shows every key");
    v->msg_at = SDL_GetTicks64();
    return v;
}

void sw_viewer_close(sw_viewer *v) {
    if (!v) return;
    sw__viewer_async_fini(v); /* the worker first: it may be mid-tick */
    bool sdl = v->win != NULL || SDL_WasInit(SDL_INIT_VIDEO);
    sw_text_free(v->font);
    sw_text_free(v->bold);
    sw_text_free(v->mono);
    if (v->tex) SDL_DestroyTexture(v->tex);
    if (v->plot_tex) SDL_DestroyTexture(v->plot_tex);
    if (v->ren) SDL_DestroyRenderer(v->ren);
    if (v->win) SDL_DestroyWindow(v->win);
    if (sdl) {
        if (TTF_WasInit()) TTF_Quit();
        SDL_Quit();
    }
    free(v->pix);
    free(v->pix2);
    free(v->verts);
    free(v->insp);
    free(v->snaps);
    sw_sim_free(v->sim);
    sw_scenario_free(v->sc);
    free(v->path);
    free(v->db);
    free(v);
}
