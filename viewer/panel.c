/* panel.c - the side panel (HUD, live plot, inspector) and the overlays
 * (status message, help, snapshot chooser).
 *
 * The inspector is generic: it knows nothing about any model. It reads an
 * agent's fields through its kind's field schema (the same table that
 * pickles it and that scenarios set parameters through), and its tasklet's
 * state through sw_sched_inspect, and names channels by what the world
 * keyed them to: a cell, an agent's mailbox, or a scenario name. */
#include "app_int.h"
#include "plot.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PANEL_BG = 0x1b1c21, RULE = 0x34363d, TEXT = 0xdfe2ea, DIM = 0x9aa0ad, ACCENT = 0xffd84d };

static void fill(SDL_Renderer *r, SDL_Rect rc, uint32_t rgb, Uint8 a) {
    SDL_SetRenderDrawColor(r, (Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb, a);
    SDL_RenderFillRect(r, &rc);
}

/* ---- the inspector's text ------------------------------------------------------------ */

static void add(sw_viewer *v, size_t *len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(sw_viewer *v, size_t *len, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = v->insp_cap - *len;
        int n = vsnprintf(v->insp ? v->insp + *len : NULL, v->insp ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) return;
        if (v->insp && (size_t)n < room) {
            *len += (size_t)n;
            return;
        }
        size_t cap = (v->insp_cap ? v->insp_cap * 2 : 1024) + (size_t)n;
        char *p = realloc(v->insp, cap);
        if (!p) return;
        v->insp = p;
        v->insp_cap = cap;
    }
}

/* A channel, named by what it is keyed to. */
static void describe_chan(sw_viewer *v, sw_chan ch, char *buf, size_t n) {
    sw_world *w = sw_sim_world(v->sim);
    sw_sched *s = sw_world_sched(w);
    if (!ch) {
        snprintf(buf, n, "none");
        return;
    }
    if (!sw_chan_alive(s, ch)) {
        snprintf(buf, n, "channel #%u (gone)", sw_handle_slot(ch));
        return;
    }
    for (int i = 0; i < sw_world_chan_count(w); i++)
        if (sw_world_chan_at(w, i) == ch) {
            snprintf(buf, n, "channel \"%s\"", sw_world_chan_name(w, i));
            return;
        }
    uint64_t key = sw_chan_key(s, ch);
    uint32_t ww = sw_world_width(w);
    if (key < (uint64_t)ww * sw_world_height(w)) {
        int32_t x = (int32_t)(key % ww), y = (int32_t)(key / ww);
        if (sw_world_cell_chan_peek(w, x, y) == ch) {
            snprintf(buf, n, "cell (%d, %d)", x, y);
            return;
        }
    }
    if (sw_chan_kind_of(s, ch) == SW_CHAN_BUFFERED && sw_handle_gen(key) != 0) {
        const sw_kind *k = sw_sched_kind_of(s, (sw_id)key);
        snprintf(buf, n, "mailbox of %s #%u", k ? k->name : "?", sw_handle_slot(key));
        return;
    }
    static const char *const kinds[] = {"rendezvous", "buffered", "event"};
    snprintf(buf, n, "%s channel #%u", kinds[sw_chan_kind_of(s, ch) % 3], sw_handle_slot(ch));
}

static void describe_id(sw_viewer *v, sw_id id, char *buf, size_t n) {
    sw_sched *s = sw_world_sched(sw_sim_world(v->sim));
    if (!id) snprintf(buf, n, "none");
    else if (sw_sched_alive(s, id)) snprintf(buf, n, "%s #%u", sw_sched_kind_of(s, id)->name, sw_handle_slot(id));
    else snprintf(buf, n, "#%u (dead)", sw_handle_slot(id));
}

static void field_value(sw_viewer *v, const sw_field *f, const void *frame, char *buf, size_t n) {
    const char *p = (const char *)frame + f->offset;
    switch (f->type) {
    case SW_T_BOOL: snprintf(buf, n, "%s", *(const bool *)p ? "true" : "false"); break;
    case SW_T_I32: snprintf(buf, n, "%d", *(const int32_t *)p); break;
    case SW_T_I64: snprintf(buf, n, "%lld", (long long)*(const int64_t *)p); break;
    case SW_T_U32: snprintf(buf, n, "%u", *(const uint32_t *)p); break;
    case SW_T_U64: snprintf(buf, n, "%llu", (unsigned long long)*(const uint64_t *)p); break;
    case SW_T_F32: snprintf(buf, n, "%.6g", (double)*(const float *)p); break;
    case SW_T_F64: snprintf(buf, n, "%.6g", *(const double *)p); break;
    case SW_T_ID: describe_id(v, *(const sw_id *)p, buf, n); break;
    case SW_T_CHAN: describe_chan(v, *(const sw_chan *)p, buf, n); break;
    case SW_T_MSG: {
        const sw_msg *m = (const sw_msg *)p;
        char who[64];
        describe_id(v, m->who, who, sizeof who);
        snprintf(buf, n, "{tag %d, i %d, who %s, x %.4g, y %.4g}", m->tag, m->i, who, m->x, m->y);
        break;
    }
    case SW_T_VALUE: snprintf(buf, n, "%lld", (long long)((const sw_value *)p)->i); break;
    default: snprintf(buf, n, "?"); break;
    }
}

const char *sw__viewer_inspect(sw_viewer *v) {
    size_t len = 0;
    add(v, &len, "%s", "");
    sw_world *w = sw_sim_world(v->sim);
    sw_sched *s = sw_world_sched(w);
    char buf[256];
    if (v->sel) {
        if (!sw_sched_alive(s, v->sel)) {
            if (!v->sel_dead) {
                v->sel_dead = true;
                v->sel_died = sw_sim_now(v->sim);
            }
            add(v, &len, "%s #%u\ndied at tick %llu\n", v->sel_kind ? v->sel_kind->name : "agent",
                sw_handle_slot(v->sel), (unsigned long long)v->sel_died);
            return v->insp;
        }
        sw_task_info ti;
        sw_sched_inspect(s, v->sel, &ti);
        add(v, &len, "%s #%u (generation %u)\n", ti.kind->name, sw_handle_slot(v->sel),
            sw_handle_gen(v->sel));
        int32_t x, y;
        double px, py;
        if (sw_world_cell_of(w, v->sel, &x, &y)) add(v, &len, "cell (%d, %d)\n", x, y);
        else if (sw_world_space_pos(w, v->sel, &px, &py))
            add(v, &len, "at (%.2f, %.2f) heading %.0f deg\n", px, py,
                fmod(sw_world_space_heading(w, v->sel) * 180 / M_PI + 360, 360));
        add(v, &len, "tasklet: %s at %s:%s", sw_task_state_name(ti.state), ti.func ? ti.func : "?",
            ti.point ? ti.point : "?");
        if (ti.depth > 1) add(v, &len, " (%d frames deep)", ti.depth);
        add(v, &len, "\n");
        if (ti.state == SW_TASK_SLEEPING)
            add(v, &len, "wakes at tick %llu (in %llu)\n", (unsigned long long)ti.wake,
                (unsigned long long)(ti.wake - sw_sim_now(v->sim)));
        if (ti.state == SW_TASK_RECV || ti.state == SW_TASK_SEND) {
            describe_chan(v, ti.chan, buf, sizeof buf);
            add(v, &len, "%s on %s\n", ti.state == SW_TASK_RECV ? "waits to receive" : "waits to send",
                buf);
        }
        add(v, &len, "random draws: %llu\n", (unsigned long long)ti.rng_counter);
        const void *frame = sw_sched_frame_fresh(s, v->sel); /* as of now, like the stats */
        if (frame && ti.kind->fields) {
            add(v, &len, "fields:\n");
            for (const sw_field *f = ti.kind->fields; f->name; f++) {
                field_value(v, f, frame, buf, sizeof buf);
                add(v, &len, "  %s = %s\n", f->name, buf);
            }
        }
        return v->insp;
    }
    if (v->sel_cell >= 0) {
        uint32_t ww = sw_world_width(w);
        int32_t x = (int32_t)(v->sel_cell % ww), y = (int32_t)(v->sel_cell / ww);
        add(v, &len, "cell (%d, %d)\n", x, y);
        for (int i = 0; i < sw_world_layer_count(w); i++)
            if (sw_world_layer_shown(w, i))
                add(v, &len, "  %s = %.6g\n", sw_world_layer_name(w, i),
                    sw_world_layer_data(w, i)[v->sel_cell]);
        sw_id ids[8];
        uint32_t n = sw_world_agents_at(w, x, y, NULL, ids, 8);
        add(v, &len, "agents here: %u\n", n);
        sw_chan ch = sw_world_cell_chan_peek(w, x, y);
        if (ch) {
            sw_id waiting[1];
            add(v, &len, "its channel: %u waiting\n", sw_chan_waiters(s, ch, waiting, 0));
        }
    }
    return v->insp;
}

/* ---- the side panel ------------------------------------------------------------------------ */

/* The plot reads every row of the statistics: with a long run that is worth
 * doing once per tick, not once per frame. It is kept in a texture and
 * redrawn when a row was added, the simulation replaced or the size changed. */
static void draw_plot(sw_viewer *v, SDL_Rect area) {
    SDL_Renderer *r = v->ren;
    if (!v->plot_tex || v->plot_w != area.w || v->plot_h != area.h) {
        if (v->plot_tex) SDL_DestroyTexture(v->plot_tex);
        v->plot_tex = SDL_CreateTexture(r, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_TARGET, area.w, area.h);
        if (v->plot_tex) SDL_SetTextureBlendMode(v->plot_tex, SDL_BLENDMODE_NONE);
        v->plot_w = area.w;
        v->plot_h = area.h;
        v->plot_rows = (size_t)-1;
    }
    size_t rows = sw_sim_stat_rows(v->sim);
    if (!v->plot_tex) {
        sw_plot_draw(r, v->font, v->sim, area);
        return;
    }
    if (rows != v->plot_rows || v->plot_gen != v->sim_gen) {
        SDL_Texture *prev = SDL_GetRenderTarget(r);
        SDL_SetRenderTarget(r, v->plot_tex);
        SDL_SetRenderDrawColor(r, (PANEL_BG >> 16) & 255, (PANEL_BG >> 8) & 255, PANEL_BG & 255, 255);
        SDL_RenderClear(r);
        sw_plot_draw(r, v->font, v->sim, (SDL_Rect){0, 0, area.w, area.h});
        SDL_SetRenderTarget(r, prev);
        v->plot_rows = rows;
        v->plot_gen = v->sim_gen;
    }
    SDL_RenderCopy(r, v->plot_tex, NULL, &area);
}

static void fmt_rate(char *buf, size_t n, double r) {
    if (r >= 1e6) snprintf(buf, n, "%.2fM", r / 1e6);
    else if (r >= 1e4) snprintf(buf, n, "%.1fk", r / 1e3);
    else snprintf(buf, n, "%.0f", r);
}

void sw__viewer_draw_panel(sw_viewer *v) {
    SDL_Rect pr = sw_viewer_panel_rect(v);
    if (pr.w <= 0) return;
    SDL_Renderer *r = v->ren;
    fill(r, pr, PANEL_BG, 255);
    fill(r, (SDL_Rect){pr.x, 0, 1, pr.h}, RULE, 255);
    sw_world *w = sw_sim_world(v->sim);
    sw_sched *s = sw_world_sched(w);
    int x = pr.x + 12, y = 10, lh = sw_text_height(v->font);

    sw_text_draw(v->bold, sw_scenario_name(v->sc), x, y, TEXT);
    y += sw_text_height(v->bold) + 4;
    const char *state = v->last_rc != SW_OK ? "stopped" : v->playing ? "playing" : "paused";
    sw_text_drawf(v->font, x, y, TEXT, "tick %llu / %llu   %s", (unsigned long long)sw_sim_now(v->sim),
                  (unsigned long long)sw_sim_end(v->sim), state);
    y += lh;
    char tps[32], spd[48];
    fmt_rate(tps, sizeof tps, v->tps);
    double sp = sw_viewer_speed(v);
    if (sp >= 1) snprintf(spd, sizeof spd, "x%g", sp);
    else snprintf(spd, sizeof spd, "1/%g", 1 / sp);
    if (v->fps > 0)
        sw_text_drawf(v->font, x, y, DIM, "%s ticks/s   %.0f fps   speed %s", tps, v->fps, spd);
    else
        sw_text_drawf(v->font, x, y, DIM, "seed %llu   speed %s",
                      (unsigned long long)sw_scenario_seed(v->sc), spd);
    y += lh + 6;

    /* Population by kind, with the colour it is drawn in. */
    sw__viewer_sync_kinds(v);
    uint32_t total = 0;
    for (int i = 0; i < v->nkinds; i++) {
        uint32_t n = sw_sched_count_kind(s, i);
        total += n;
        if (y + lh > pr.h / 2) continue;
        fill(r, (SDL_Rect){x, y + lh / 2 - 5, 10, 10}, v->kind_rgb[i], 255);
        sw_text_draw(v->font, v->kinds[i]->name, x + 16, y, TEXT);
        char num[32];
        snprintf(num, sizeof num, "%u", n);
        sw_text_draw(v->font, num, pr.x + pr.w - 14 - sw_text_width(v->font, num), y, TEXT);
        y += lh;
    }
    sw_text_drawf(v->font, x, y, DIM, "%u agents, %u cells occupied", total, sw_world_occupied_cells(w));
    y += lh + 8;

    /* The live plot takes what the inspector leaves. */
    const char *insp = sw__viewer_inspect(v);
    int insp_lines = 0;
    for (const char *p = insp; *p; p++) insp_lines += *p == '\n';
    int mlh = sw_text_height(v->mono);
    /* Room for a typical inspection is kept whether or not one is shown, so
     * the plot does not jump when an agent is clicked. */
    int insp_h = (insp_lines > 12 ? insp_lines : 12) * mlh + lh + 10;
    int plot_h = pr.h - y - insp_h - lh - 8;
    if (plot_h > pr.h * 60 / 100) plot_h = pr.h * 60 / 100;
    if (plot_h < 120) plot_h = pr.h - y - 4 * mlh - lh > 120 ? 120 : 0;
    if (plot_h > 0) {
        draw_plot(v, (SDL_Rect){pr.x + 6, y, pr.w - 12, plot_h});
        y += plot_h + 8;
    }
    fill(r, (SDL_Rect){pr.x + 8, y, pr.w - 16, 1}, RULE, 255);
    y += 6;
    if (!*insp) {
        sw_text_draw(v->font, "click an agent or a cell to inspect it", x, y, DIM);
    } else {
        sw_text_draw(v->font, v->follow ? "Inspector (following)" : "Inspector", x, y, ACCENT);
        y += lh + 2;
        SDL_RenderSetClipRect(r, &(SDL_Rect){pr.x, y, pr.w - 4, pr.h - y - lh});
        char line[512];
        for (const char *p = insp; *p && y < pr.h - lh;) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            if (n >= sizeof line) n = sizeof line - 1;
            memcpy(line, p, n);
            line[n] = '\0';
            sw_text_draw(v->mono, line, x, y, line[0] == ' ' ? DIM : TEXT);
            y += mlh;
            p += n + (nl ? 1 : 0);
        }
        SDL_RenderSetClipRect(r, NULL);
    }
    sw_text_draw(v->font, "H: help", pr.x + pr.w - 12 - sw_text_width(v->font, "H: help"),
                 pr.h - lh - 4, DIM);
}

/* ---- overlays -------------------------------------------------------------------------------- */

static const char *const help_lines[][2] = {
    {"space", "play / pause"},
    {"right arrow, .", "step one tick"},
    {"+ / -  (up / down)", "faster / slower"},
    {"mouse wheel", "zoom at the cursor"},
    {"drag", "pan"},
    {"F", "fit the world to the window"},
    {"click", "inspect an agent or a cell (click again: next agent on it)"},
    {"C", "follow the inspected agent"},
    {"G", "next background layer"},
    {"S", "save a snapshot into the run's database"},
    {"L", "load the latest snapshot"},
    {"shift+L", "choose a snapshot to load"},
    {"R", "reset to the scenario's start"},
    {"H or ?", "this help"},
    {"Esc, Q, close", "quit"},
};

void sw__viewer_draw_overlays(sw_viewer *v) {
    SDL_Renderer *r = v->ren;
    SDL_Rect wr = sw_viewer_world_rect(v);
    int lh = sw_text_height(v->font);
    if (sw_viewer_panel_rect(v).w <= 0) {
        /* Too narrow for the side panel: the essentials over the world. */
        char line[160];
        snprintf(line, sizeof line, "%s  tick %llu  %s", sw_scenario_name(v->sc),
                 (unsigned long long)v->shown_tick, /* no engine call: it may be stepping */
                 v->last_rc != SW_OK ? "stopped" : v->playing ? "playing" : "paused");
        fill(r, (SDL_Rect){4, 4, sw_text_width(v->font, line) + 12, lh + 6}, 0x000000, 170);
        sw_text_draw(v->font, line, 10, 7, TEXT);
    }
    if (v->msg[0] && SDL_GetTicks64() - v->msg_at < 6000) {
        int tw = sw_text_width(v->font, v->msg);
        SDL_Rect box = {wr.x + 8, wr.h - lh - 14, tw + 16, lh + 8};
        fill(r, box, 0x000000, 170);
        sw_text_draw(v->font, v->msg, box.x + 8, box.y + 4, TEXT);
    }
    if (v->help) {
        int n = (int)(sizeof help_lines / sizeof *help_lines);
        int kw = 0, dw = 0;
        for (int i = 0; i < n; i++) {
            int a = sw_text_width(v->font, help_lines[i][0]), b = sw_text_width(v->font, help_lines[i][1]);
            if (a > kw) kw = a;
            if (b > dw) dw = b;
        }
        int bw = kw + dw + 60, bh = (n + 2) * (lh + 3) + 24;
        SDL_Rect box = {wr.x + (wr.w - bw) / 2, (wr.h - bh) / 2, bw, bh};
        if (box.x < 4) box.x = 4;
        if (box.y < 4) box.y = 4;
        fill(r, box, 0x0c0d10, 225);
        SDL_SetRenderDrawColor(r, 0x60, 0x63, 0x6c, 255);
        SDL_RenderDrawRect(r, &box);
        int y = box.y + 12;
        sw_text_draw(v->bold, "Keys", box.x + 20, y, ACCENT);
        y += sw_text_height(v->bold) + 8;
        for (int i = 0; i < n; i++) {
            sw_text_draw(v->font, help_lines[i][0], box.x + 20, y, ACCENT);
            sw_text_draw(v->font, help_lines[i][1], box.x + 40 + kw, y, TEXT);
            y += lh + 3;
        }
    }
    if (v->chooser) {
        int rows = v->nsnaps < 20 ? v->nsnaps : 20;
        int bw = 520, bh = (rows + 3) * (lh + 3) + 16;
        SDL_Rect box = {wr.x + (wr.w - bw) / 2, (wr.h - bh) / 2, bw, bh};
        fill(r, box, 0x0c0d10, 230);
        int y = box.y + 10;
        sw_text_draw(v->bold, "Load a snapshot", box.x + 16, y, ACCENT);
        y += sw_text_height(v->bold) + 6;
        int first = v->snap_pick >= rows ? v->snap_pick - rows + 1 : 0;
        for (int i = first; i < first + rows && i < v->nsnaps; i++) {
            if (i == v->snap_pick) fill(r, (SDL_Rect){box.x + 8, y - 1, bw - 16, lh + 2}, 0x3a3d46, 255);
            sw_text_drawf(v->font, box.x + 16, y, TEXT, "snapshot %lld   tick %llu",
                          (long long)v->snaps[i].id, (unsigned long long)v->snaps[i].tick);
            sw_text_drawf(v->font, box.x + 220, y, DIM, "%s  %s", v->snaps[i].reason,
                          v->snaps[i].taken_at);
            y += lh + 3;
        }
        sw_text_draw(v->font, "up/down choose, Enter loads, Esc cancels", box.x + 16, y + 4, DIM);
    }
}
