/* render.c - drawing the world: layers, agents, selection highlights.
 *
 * Two paths, chosen by zoom:
 * - Zoomed out (a cell smaller than MARK_ZOOM pixels) the whole world is one
 *   streaming texture with a texel per cell (or per tex_scale x tex_scale
 *   block for worlds larger than a texture may be): the background layer is
 *   shaded into it, then every live agent writes its kind's colour into the
 *   texel under it, and the texture is scaled onto the window in one copy.
 *   That is one pass over the agents' positions and one upload per frame,
 *   whatever the number of agents: a million agents cost a few milliseconds
 *   and not a million draw calls.
 * - Zoomed in, the texture carries only the layer, and the agents in view
 *   are drawn as marks (squares, discs, dots, arrows pointing along their
 *   heading) batched into a single SDL_RenderGeometry call. Several agents
 *   on one cell share it in a small sub-grid, in arrival order. A kind's
 *   mark is the scenario's "mark" for it, else chosen from its placement
 *   (see mark_of); "none" leaves its agents undrawn on both paths.
 * The world is read only through the engine's public API. */
#include "app_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MARK_ZOOM 4.0     /* pixels per cell from which agents become marks */
#define MAX_TEX 4096      /* texture side we allow ourselves */
#define BACKGROUND 0x15161a
#define EMPTY_CELL 0x23252b

static inline uint32_t argb(uint32_t rgb) { return 0xff000000u | rgb; }

static int luma(uint32_t c) {
    return (int)((((c >> 16) & 255) * 299 + ((c >> 8) & 255) * 587 + (c & 255) * 114) / 1000);
}

static uint32_t mix(uint32_t a, uint32_t b, double t) {
    if (t < 0) t = 0;
    if (t > 1) t = 1;
    uint32_t out = 0;
    for (int sh = 0; sh <= 16; sh += 8) {
        double ca = (a >> sh) & 255, cb = (b >> sh) & 255;
        out |= (uint32_t)lround(ca + (cb - ca) * t) << sh;
    }
    return out;
}

/* A layer's colour, from its name: what a user would paint it. */
static uint32_t layer_color(const char *name) {
    static const struct { const char *word; uint32_t rgb; } table[] = {
        {"grass", 0x3f8f3a}, {"food", 0x3f8f3a}, {"sugar", 0xc9b23c}, {"heat", 0xd9622b},
        {"fire", 0xd9622b}, {"temp", 0xd9622b}, {"water", 0x3a78c9}, {"rain", 0x3a78c9},
        {"chem", 0x9b59b6}, {"pher", 0x9b59b6}, {"scent", 0x9b59b6}, {"infect", 0xc0392b}};
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        if (strstr(name, table[i].word)) return table[i].rgb;
    return 0x4f7f8f;
}

/* Layers whose values are states rather than amounts, and their colours by
 * value (0 is bare ground). */
static const struct { const char *name; uint32_t rgb[4]; } state_layers[] = {
    {"forest", {EMPTY_CELL, 0x2e8b3a, 0xff5a14, 0x4a3a32}},
};

/* The field a kind's agents are coloured by: an integer "state" or "group"
 * field (SIR's susceptible/infected/recovered, Schelling's two groups). */
static const sw_field *state_field(const sw_kind *k) {
    static const char *const names[] = {"state", "group", NULL};
    for (const char *const *n = names; *n; n++) {
        const sw_field *f = k && k->fields ? sw_fields_find(k->fields, *n) : NULL;
        if (f && (f->type == SW_T_I32 || f->type == SW_T_U32 || f->type == SW_T_BOOL)) return f;
    }
    return NULL;
}

/* A numeric "heading" field (radians, 0 = +x, counter-clockwise, as the
 * engine's continuous-space heading): what an arrow on a grid points along. */
static const sw_field *heading_field(const sw_kind *k) {
    const sw_field *f = k && k->fields ? sw_fields_find(k->fields, "heading") : NULL;
    return f && (f->type == SW_T_F64 || f->type == SW_T_F32) ? f : NULL;
}

static uint32_t state_color(uint32_t base, double def, double val);

void sw__viewer_sync_kinds(sw_viewer *v) {
    sw_world *w = sw_sim_world(v->sim);
    sw_sched *s = sw_world_sched(w);
    int n = sw_sched_kind_count(s);
    if (n > SW_VIEWER_MAX_KINDS) n = SW_VIEWER_MAX_KINDS;
    if (n == v->nkinds) return;
    for (int i = 0; i < n; i++) {
        const sw_kind *k = sw_sched_kind_at(s, i);
        v->kinds[i] = k;
        v->kind_rgb[i] = sw_scenario_kind_color(v->sc, k) & 0xffffff;
        v->kind_mark[i] = sw_scenario_kind_mark(v->sc, k);
        v->kind_heading[i] = heading_field(k);
        /* A kind with one agent on every cell (trees, grass) is the ground
         * itself: the model mirrors its state in a layer, which is drawn, and
         * drawing the agents on top would hide it. The scenario may say
         * otherwise: "mark": "none" hides any kind, and any other mark draws
         * even a ground kind. */
        v->kind_patch[i] = v->kind_mark[i] == SW_MARK_NONE ||
                           (v->kind_mark[i] == SW_MARK_DEFAULT && k->place == SW_PLACE_EVERY_CELL &&
                            sw_world_layer_count(w) > 0);
        v->kind_state[i] = state_field(k);
        if (v->kind_state[i])
            for (int j = 0; j < 16; j++)
                v->state_lut[i][j] = state_color(v->kind_rgb[i], 0, j - 4);
    }
    v->nkinds = n;
}

static int kind_index(const sw_viewer *v, const sw_kind *k) {
    for (int i = 0; i < v->nkinds; i++)
        if (v->kinds[i] == k) return i;
    return -1;
}

/* The colour for state value `val` of a kind coloured `base`: the base colour
 * for the field's default value, then distinct colours that are not too close
 * to the base, so that every state stands out. */
static uint32_t state_color(uint32_t base, double def, double val) {
    static const uint32_t pal[] = {0xe15759, 0x4e79a7, 0x9a9a9a, 0xf28e2b, 0x59a14f,
                                   0xb07aa1, 0xedc948, 0x76b7b2};
    long k = lround(val - def);
    if (k == 0) return base;
    if (k < 0) k = -k + 3;
    int seen = 0;
    for (int i = 0; i < 64; i++) {
        uint32_t c = pal[i % 8];
        int dr = (int)((c >> 16) & 255) - (int)((base >> 16) & 255);
        int dg = (int)((c >> 8) & 255) - (int)((base >> 8) & 255);
        int db = (int)(c & 255) - (int)(base & 255);
        if (dr * dr + dg * dg + db * db < 60 * 60) continue;
        if (++seen == k) return c;
    }
    return pal[k % 8];
}

/* An agent's colour: its kind's, varied by its state field if it has one. */
static uint32_t agent_color(const sw_viewer *v, sw_sched *s, sw_id id, const sw_kind *k) {
    int i = kind_index(v, k);
    if (i < 0) return 0xffffff;
    const sw_field *f = v->kind_state[i];
    if (!f) return v->kind_rgb[i];
    const char *frame = sw_sched_frame(s, id);
    if (!frame) return v->kind_rgb[i];
    /* The hot path of a million coloured agents: read the integer directly
     * and look its colour up. */
    long val = f->type == SW_T_BOOL ? *(const bool *)(frame + f->offset)
                                    : (long)*(const int32_t *)(frame + f->offset);
    long j = val - lround(f->def) + 4;
    if (j >= 0 && j < 16) return v->state_lut[i][j];
    return state_color(v->kind_rgb[i], f->def, (double)val);
}

bool sw__viewer_is_patch(const sw_viewer *v, const sw_kind *k) {
    int i = kind_index(v, k);
    return i >= 0 && v->kind_patch[i];
}

/* The mark a kind's agents are drawn with when zoomed in: the scenario's,
 * else squares for kinds with one agent per cell, arrows in continuous
 * space, discs for kinds that share cells. */
static sw_mark mark_of(const sw_viewer *v, const sw_kind *k, bool in_space) {
    int i = kind_index(v, k);
    if (i >= 0 && v->kind_mark[i] != SW_MARK_DEFAULT) return v->kind_mark[i];
    if (in_space) return SW_MARK_ARROW;
    if (k && (k->place == SW_PLACE_CELL_UNIQUE || k->place == SW_PLACE_EVERY_CELL)) return SW_MARK_SQUARE;
    return SW_MARK_DISC;
}

/* The heading an arrow on a grid cell points along: the kind's "heading"
 * field, else along +x. */
static double grid_heading(const sw_viewer *v, sw_sched *s, sw_id id, const sw_kind *k) {
    int i = kind_index(v, k);
    const sw_field *f = i >= 0 ? v->kind_heading[i] : NULL;
    const char *frame = f ? sw_sched_frame(s, id) : NULL;
    if (!frame) return 0;
    double h = f->type == SW_T_F64 ? *(const double *)(frame + f->offset) : *(const float *)(frame + f->offset);
    return isfinite(h) ? h : 0;
}

void sw__viewer_fit(sw_viewer *v) {
    sw_world *w = sw_sim_world(v->sim);
    SDL_Rect wr = sw_viewer_world_rect(v);
    double ww = sw_world_width(w), wh = sw_world_height(w);
    double z = fmin((wr.w - 16) / ww, (wr.h - 16) / wh);
    if (!(z > 0)) z = 1e-3;
    v->zoom = z;
    v->camx = ww / 2 - wr.w / 2.0 / z;
    v->camy = wh / 2 - wr.h / 2.0 / z;
    v->fit_mode = true;
}

/* (Re)make the streaming texture for the current world size. */
static bool ensure_texture(sw_viewer *v) {
    sw_world *w = sw_sim_world(v->sim);
    int ww = (int)sw_world_width(w), wh = (int)sw_world_height(w);
    /* Below a pixel per cell, a texel per pixel: several cells share a
     * texel and any agent among them colours it, where a scaled-down texture
     * would sample one cell in several and lose most agents. */
    int scale = v->zoom < 1 ? (int)floor(1 / v->zoom) : 1;
    if (scale < 1) scale = 1;
    while ((ww + scale - 1) / scale > MAX_TEX || (wh + scale - 1) / scale > MAX_TEX) scale++;
    int tw = (ww + scale - 1) / scale, th = (wh + scale - 1) / scale;
    if (v->tex && tw == v->tex_w && th == v->tex_h && scale == v->tex_scale) return true;
    if (v->tex) SDL_DestroyTexture(v->tex);
    free(v->pix);
    v->tex = SDL_CreateTexture(v->ren, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STREAMING,
                               tw, th);
    v->pix = malloc((size_t)tw * (size_t)th * 4);
    if (!v->tex || !v->pix) {
        if (v->tex) SDL_DestroyTexture(v->tex);
        free(v->pix);
        v->tex = NULL;
        v->pix = NULL;
        return false;
    }
    SDL_SetTextureScaleMode(v->tex, SDL_ScaleModeNearest);
    v->tex_dirty = true;
    v->tex_w = tw;
    v->tex_h = th;
    v->tex_scale = scale;
    return true;
}

int sw__viewer_next_layer(const sw_world *w, int layer) {
    int n = sw_world_layer_count(w);
    for (int i = layer < 0 ? 0 : layer + 1; i < n; i++)
        if (sw_world_layer_shown(w, i)) return i;
    return -1;
}

/* The background: the chosen layer shaded from dark to its colour by value
 * relative to the layer's largest value, or a flat ground. */
static void paint_layer(sw_viewer *v) {
    sw_world *w = sw_sim_world(v->sim);
    uint32_t ww = sw_world_width(w);
    size_t n = (size_t)v->tex_w * (size_t)v->tex_h;
    if (v->layer >= sw_world_layer_count(w)) v->layer = sw_world_layer_count(w) - 1;
    /* a model's bookkeeping (a name beginning with '.') is no picture */
    if (v->layer >= 0 && !sw_world_layer_shown(w, v->layer)) v->layer = sw__viewer_next_layer(w, v->layer);
    if (v->layer < 0) {
        for (size_t i = 0; i < n; i++) v->pix[i] = argb(EMPTY_CELL);
        return;
    }
    const double *d = sw_world_layer_data(w, v->layer);
    const char *name = sw_world_layer_name(w, v->layer);
    uint32_t lut[64];
    double k = 0, hi = 0;
    bool states = false;
    for (size_t i = 0; i < sizeof state_layers / sizeof *state_layers; i++)
        if (strcmp(name, state_layers[i].name) == 0) {
            for (int j = 0; j < 64; j++) lut[j] = argb(state_layers[i].rgb[j < 4 ? j : 3]);
            k = 1;
            states = true;
        }
    int s = v->tex_scale;
    if (!states) {
        /* The scale comes from the cells that are drawn (one per texel), so a
         * world of a hundred million cells is not read in full every tick. */
        for (int ty = 0; ty < v->tex_h; ty++)
            for (int tx = 0; tx < v->tex_w; tx++) {
                double x = d[(size_t)ty * s * ww + (size_t)tx * s];
                if (x > hi) hi = x;
            }
        uint32_t col = layer_color(name);
        for (int i = 0; i < 64; i++) lut[i] = argb(mix(EMPTY_CELL, col, 0.15 + 0.85 * i / 63.0));
        lut[0] = argb(EMPTY_CELL);
        k = hi > 0 ? 63.0 / hi : 0;
    }
    for (int ty = 0; ty < v->tex_h; ty++)
        for (int tx = 0; tx < v->tex_w; tx++) {
            /* One sample per texel: the block's top-left cell. */
            double x = d[(size_t)ty * s * ww + (size_t)tx * s];
            int i = x > 0 ? (int)(x * k + (states ? 0.5 : 0.999)) : 0;
            v->pix[(size_t)ty * v->tex_w + tx] = lut[i > 63 ? 63 : i];
        }
}

/* Every live agent writes its colour into the texel under it: agents of
 * slots [from, to) into `pix`, where 0 means "no agent here". */
typedef struct paint_job {
    sw_viewer *v;
    uint32_t from, to;
    uint32_t *pix;
} paint_job;

static int paint_range(void *arg) {
    paint_job *j = arg;
    sw_viewer *v = j->v;
    sw_world *w = sw_sim_world(v->sim);
    sw_sched *s = sw_world_sched(w);
    const sw_kind *last = NULL;
    uint32_t last_c = 0;
    bool patch = false, stated = false;
    int sc = v->tex_scale, tw = v->tex_w, th = v->tex_h;
    for (uint32_t slot = j->from; slot < j->to; slot++) {
        sw_id id = sw_sched_id_at(s, slot);
        if (!id) continue;
        int32_t x, y;
        if (!sw_world_cell_of(w, id, &x, &y)) {
            double px, py;
            if (!sw_world_space_pos(w, id, &px, &py)) continue;
            x = (int32_t)px;
            y = (int32_t)py;
        }
        x /= sc;
        y /= sc;
        if ((unsigned)x >= (unsigned)tw || (unsigned)y >= (unsigned)th) continue;
        const sw_kind *k = sw_sched_kind_of(s, id);
        if (k != last) {
            last = k;
            int i = kind_index(v, k);
            patch = i >= 0 && v->kind_patch[i];
            stated = i >= 0 && v->kind_state[i];
            last_c = argb(i >= 0 ? v->kind_rgb[i] : 0xffffff);
        }
        if (patch) continue;
        j->pix[(size_t)y * tw + x] = stated ? argb(agent_color(v, s, id, k)) : last_c;
    }
    return 0;
}

/* With many agents the pass is split in two halves by slot, the second on
 * another thread writing into its own buffer, merged so that the higher slot
 * wins a shared texel exactly as in one pass: the picture does not depend on
 * the threads. Everything the threads call only reads the world. */
#define PARALLEL_AGENTS 200000

static void paint_agents(sw_viewer *v) {
    sw_sched *s = sw_world_sched(sw_sim_world(v->sim));
    uint32_t limit = sw_sched_slot_limit(s);
    /* A world of nothing but ground agents (ten million trees) has nothing
     * to paint over its layer: skip the pass over them. */
    uint32_t ground = 0;
    for (int i = 0; i < v->nkinds; i++)
        if (v->kind_patch[i]) ground += sw_sched_count_kind(s, i);
    if (ground == sw_sched_count(s)) return;
    size_t n = (size_t)v->tex_w * (size_t)v->tex_h;
    const char *one = getenv("SW_VIEWER_ONE_THREAD");
    if (limit >= PARALLEL_AGENTS && SDL_GetCPUCount() > 1 && !(one && *one == '1')) {
        if (!v->pix2 || v->pix2_n != n) {
            free(v->pix2);
            v->pix2 = malloc(n * 4);
            v->pix2_n = v->pix2 ? n : 0;
        }
        if (v->pix2) {
            memset(v->pix2, 0, n * 4);
            paint_job hi = {v, limit / 2, limit, v->pix2}, lo = {v, 0, limit / 2, v->pix};
            SDL_Thread *th = SDL_CreateThread(paint_range, "sw-paint", &hi);
            paint_range(&lo);
            if (th) SDL_WaitThread(th, NULL);
            else paint_range(&hi);
            if (th)
                for (size_t i = 0; i < n; i++)
                    if (v->pix2[i]) v->pix[i] = v->pix2[i];
            return;
        }
    }
    paint_range(&(paint_job){v, 0, limit, v->pix});
}

static void push_tri(sw_viewer *v, SDL_FPoint a, SDL_FPoint b, SDL_FPoint c, uint32_t rgb) {
    if (v->nverts + 3 > v->verts_cap) {
        size_t cap = v->verts_cap ? v->verts_cap * 2 : 4096;
        SDL_Vertex *nv = realloc(v->verts, cap * sizeof *nv);
        if (!nv) return;
        v->verts = nv;
        v->verts_cap = cap;
    }
    SDL_Color col = {(Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb, 255};
    v->verts[v->nverts++] = (SDL_Vertex){a, col, {0, 0}};
    v->verts[v->nverts++] = (SDL_Vertex){b, col, {0, 0}};
    v->verts[v->nverts++] = (SDL_Vertex){c, col, {0, 0}};
}

static void push_square(sw_viewer *v, float cx, float cy, float r, uint32_t rgb) {
    SDL_FPoint a = {cx - r, cy - r}, b = {cx + r, cy - r}, c = {cx + r, cy + r}, d = {cx - r, cy + r};
    push_tri(v, a, b, c, rgb);
    push_tri(v, a, c, d, rgb);
}

static void push_disc(sw_viewer *v, float cx, float cy, float r, uint32_t rgb) {
    static const float cs[9] = {1, 0.7071f, 0, -0.7071f, -1, -0.7071f, 0, 0.7071f, 1};
    static const float sn[9] = {0, 0.7071f, 1, 0.7071f, 0, -0.7071f, -1, -0.7071f, 0};
    SDL_FPoint c = {cx, cy};
    for (int i = 0; i < 8; i++)
        push_tri(v, c, (SDL_FPoint){cx + r * cs[i], cy + r * sn[i]},
                 (SDL_FPoint){cx + r * cs[i + 1], cy + r * sn[i + 1]}, rgb);
}

/* An arrow head along `heading` (world y grows downwards on screen, and the
 * engine's heading is counter-clockwise in world coordinates, so the screen
 * direction is (cos h, sin h) with y as the world's). */
static void push_arrow(sw_viewer *v, float cx, float cy, float r, double heading, uint32_t rgb) {
    float c = (float)cos(heading), s = (float)sin(heading);
    SDL_FPoint tip = {cx + c * r, cy + s * r};
    SDL_FPoint l = {cx - c * r * 0.8f - s * r * 0.6f, cy - s * r * 0.8f + c * r * 0.6f};
    SDL_FPoint rt = {cx - c * r * 0.8f + s * r * 0.6f, cy - s * r * 0.8f - c * r * 0.6f};
    SDL_FPoint notch = {cx - c * r * 0.4f, cy - s * r * 0.4f};
    push_tri(v, tip, l, notch, rgb);
    push_tri(v, tip, notch, rt, rgb);
}

/* One agent's mark centred on (cx, cy), `size` pixels across its slot. */
static void push_mark(sw_viewer *v, sw_mark mark, float cx, float cy, float size, double heading,
                      uint32_t c) {
    /* A thin ring in a contrasting shade keeps dark agents (wolves) visible
     * on dark ground and light ones on light grass. */
    uint32_t ring = luma(c) < 110 ? 0xa8acb4 : 0x101114;
    switch (mark) {
    case SW_MARK_SQUARE:
        push_square(v, cx, cy, size * 0.44f, c);
        break;
    case SW_MARK_DOT: {
        float r = fmaxf(size * 0.18f, 1.5f);
        if (size >= 6) push_disc(v, cx, cy, r + 1, ring);
        push_disc(v, cx, cy, r, c);
        break;
    }
    case SW_MARK_ARROW:
        push_arrow(v, cx, cy, size * 0.45f, heading, c);
        break;
    case SW_MARK_NONE:
        break;
    case SW_MARK_DISC:
    case SW_MARK_DEFAULT:
    default:
        if (size >= 6) push_disc(v, cx, cy, size * 0.4f + 1, ring);
        push_disc(v, cx, cy, size * 0.4f, c);
        break;
    }
}

static void visible_cells(const sw_viewer *v, int *x0, int *y0, int *x1, int *y1) {
    sw_world *w = sw_sim_world(v->sim);
    SDL_Rect wr = sw_viewer_world_rect(v);
    double ax = v->camx, ay = v->camy;
    double bx = v->camx + wr.w / v->zoom, by = v->camy + wr.h / v->zoom;
    *x0 = (int)fmax(0, floor(ax));
    *y0 = (int)fmax(0, floor(ay));
    *x1 = (int)fmin(sw_world_width(w), ceil(bx));
    *y1 = (int)fmin(sw_world_height(w), ceil(by));
}

static void draw_marks(sw_viewer *v) {
    sw_world *w = sw_sim_world(v->sim);
    sw_sched *s = sw_world_sched(w);
    int x0, y0, x1, y1;
    visible_cells(v, &x0, &y0, &x1, &y1);
    v->nverts = 0;
    float z = (float)v->zoom;
    sw_id ids[16];
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            uint32_t m = sw_world_agents_at(w, x, y, NULL, ids, 16), n = 0;
            if (m > 16) m = 16;
            for (uint32_t i = 0; i < m; i++)
                if (!sw__viewer_is_patch(v, sw_sched_kind_of(s, ids[i]))) ids[n++] = ids[i];
            if (n == 0) continue;
            int g = n == 1 ? 1 : n <= 4 ? 2 : n <= 9 ? 3 : 4;
            float sub = z / (float)g;
            for (uint32_t i = 0; i < n; i++) {
                const sw_kind *k = sw_sched_kind_of(s, ids[i]);
                float sx, sy;
                sw_viewer_world_to_screen(v, x, y, &sx, &sy);
                float cx = sx + sub * ((float)(i % (uint32_t)g) + 0.5f);
                float cy = sy + sub * ((float)(i / (uint32_t)g) + 0.5f);
                sw_mark mark = mark_of(v, k, false);
                push_mark(v, mark, cx, cy, sub, mark == SW_MARK_ARROW ? grid_heading(v, s, ids[i], k) : 0,
                          agent_color(v, s, ids[i], k));
            }
        }
    /* Continuous space: cull by position. An arrow is drawn a little larger
     * than the point it stands for, at least 4 pixels from centre to tip. */
    uint32_t limit = sw_sched_slot_limit(s);
    if (sw_world_space_count(w) > 0) {
        float r = fmaxf(z * 0.6f, 4.0f);
        const sw_kind *last = NULL;
        sw_mark mark = SW_MARK_ARROW;
        for (uint32_t slot = 0; slot < limit; slot++) {
            sw_id id = sw_sched_id_at(s, slot);
            double px, py;
            if (!id || !sw_world_space_pos(w, id, &px, &py)) continue;
            if (px < x0 - 1 || px > x1 + 1 || py < y0 - 1 || py > y1 + 1) continue;
            const sw_kind *k = sw_sched_kind_of(s, id);
            if (k != last) {
                last = k;
                mark = mark_of(v, k, true);
            }
            if (mark == SW_MARK_NONE) continue;
            float sx, sy;
            sw_viewer_world_to_screen(v, px, py, &sx, &sy);
            uint32_t c = agent_color(v, s, id, k);
            /* Other marks fill the slot such an arrow would (tip at r). */
            if (mark == SW_MARK_ARROW) push_arrow(v, sx, sy, r, sw_world_space_heading(w, id), c);
            else push_mark(v, mark, sx, sy, r / 0.45f, 0, c);
        }
    }
    if (v->nverts) SDL_RenderGeometry(v->ren, NULL, v->verts, (int)v->nverts, NULL, 0);
}

static void draw_grid_lines(sw_viewer *v) {
    int x0, y0, x1, y1;
    visible_cells(v, &x0, &y0, &x1, &y1);
    SDL_SetRenderDrawColor(v->ren, 0x30, 0x32, 0x38, 255);
    float ax, ay, bx, by;
    sw_viewer_world_to_screen(v, x0, y0, &ax, &ay);
    sw_viewer_world_to_screen(v, x1, y1, &bx, &by);
    for (int x = x0; x <= x1; x++) {
        float sx, sy;
        sw_viewer_world_to_screen(v, x, y0, &sx, &sy);
        SDL_RenderDrawLineF(v->ren, sx, ay, sx, by);
    }
    for (int y = y0; y <= y1; y++) {
        float sx, sy;
        sw_viewer_world_to_screen(v, x0, y, &sx, &sy);
        SDL_RenderDrawLineF(v->ren, ax, sy, bx, sy);
    }
}

static void outline(sw_viewer *v, double wx, double wy, double size, uint32_t rgb, int gap, int thick) {
    float sx, sy;
    sw_viewer_world_to_screen(v, wx, wy, &sx, &sy);
    float s = (float)(size * v->zoom);
    if (s < 6) {
        sx -= (6 - s) / 2;
        sy -= (6 - s) / 2;
        s = 6;
    }
    SDL_SetRenderDrawColor(v->ren, (Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb, 255);
    for (int i = gap; i < gap + thick; i++)
        SDL_RenderDrawRectF(v->ren, &(SDL_FRect){sx - 1 - i, sy - 1 - i, s + 2 + 2 * i, s + 2 + 2 * i});
}

/* The selected agent (yellow) and, when it waits on a cell's channel, that
 * cell (cyan). */
static void draw_selection(sw_viewer *v) {
    sw_world *w = sw_sim_world(v->sim);
    sw_sched *s = sw_world_sched(w);
    if (v->sel && sw_sched_alive(s, v->sel)) {
        sw_task_info ti;
        if (sw_sched_inspect(s, v->sel, &ti) == SW_OK && ti.chan &&
            sw_chan_alive(s, ti.chan)) {
            uint64_t key = sw_chan_key(s, ti.chan);
            uint32_t ww = sw_world_width(w);
            if (key < (uint64_t)ww * sw_world_height(w)) {
                int32_t cx = (int32_t)(key % ww), cy = (int32_t)(key / ww);
                if (sw_world_cell_chan_peek(w, cx, cy) == ti.chan)
                    outline(v, cx, cy, 1, 0x33e0ff, 3, 2); /* outside the agent's own mark */
            }
        }
        int32_t x, y;
        double px, py;
        if (sw_world_cell_of(w, v->sel, &x, &y)) outline(v, x, y, 1, 0xffe033, 0, 2);
        else if (sw_world_space_pos(w, v->sel, &px, &py)) outline(v, px - 0.75, py - 0.75, 1.5, 0xffe033, 0, 2);
    } else if (v->sel_cell >= 0) {
        uint32_t ww = sw_world_width(w);
        outline(v, (double)(v->sel_cell % ww), (double)(v->sel_cell / ww), 1, 0xffe033, 0, 1);
    }
}

void sw__viewer_draw_world(sw_viewer *v) {
    SDL_Rect wr = sw_viewer_world_rect(v);
    sw_world *w = sw_sim_world(v->sim);
    sw__viewer_sync_kinds(v);
    SDL_RenderSetClipRect(v->ren, &wr);
    SDL_SetRenderDrawColor(v->ren, (BACKGROUND >> 16) & 255, (BACKGROUND >> 8) & 255,
                           BACKGROUND & 255, 255);
    SDL_RenderFillRect(v->ren, &wr);
    if (!ensure_texture(v)) {
        SDL_RenderSetClipRect(v->ren, NULL);
        return;
    }
    bool marks = v->zoom >= MARK_ZOOM;
    if (v->tex_dirty || v->tex_sim != v->sim || v->tex_tick != sw_sim_now(v->sim) ||
        v->tex_layer != v->layer || v->tex_marks != marks) {
        paint_layer(v);
        if (!marks) paint_agents(v);
        SDL_UpdateTexture(v->tex, NULL, v->pix, v->tex_w * 4);
        v->tex_sim = v->sim;
        v->tex_tick = sw_sim_now(v->sim);
        v->tex_layer = v->layer;
        v->tex_marks = marks;
        v->tex_dirty = false;
    }

    /* Copy only the visible part of the texture, so that a deep zoom does not
     * ask the renderer to scale a texture to a million pixels. */
    int x0, y0, x1, y1;
    visible_cells(v, &x0, &y0, &x1, &y1);
    int sc = v->tex_scale;
    int tx0 = x0 / sc, ty0 = y0 / sc, tx1 = (x1 + sc - 1) / sc, ty1 = (y1 + sc - 1) / sc;
    if (tx1 > v->tex_w) tx1 = v->tex_w;
    if (ty1 > v->tex_h) ty1 = v->tex_h;
    if (tx1 > tx0 && ty1 > ty0) {
        float ax, ay, bx, by;
        sw_viewer_world_to_screen(v, (double)tx0 * sc, (double)ty0 * sc, &ax, &ay);
        double ex = fmin((double)tx1 * sc, sw_world_width(w)), ey = fmin((double)ty1 * sc, sw_world_height(w));
        sw_viewer_world_to_screen(v, ex, ey, &bx, &by);
        /* A partial last block (width not a multiple of the scale) still maps
         * texel for texel; the stretch is at most one texel. */
        SDL_Rect src = {tx0, ty0, tx1 - tx0, ty1 - ty0};
        SDL_RenderCopyF(v->ren, v->tex, &src, &(SDL_FRect){ax, ay, bx - ax, by - ay});
    }
    if (v->zoom >= 16) draw_grid_lines(v);
    if (marks) draw_marks(v);
    /* The world's edge. */
    float ax, ay, bx, by;
    sw_viewer_world_to_screen(v, 0, 0, &ax, &ay);
    sw_viewer_world_to_screen(v, sw_world_width(w), sw_world_height(w), &bx, &by);
    SDL_SetRenderDrawColor(v->ren, 0x55, 0x58, 0x60, 255);
    SDL_RenderDrawRectF(v->ren, &(SDL_FRect){ax - 1, ay - 1, bx - ax + 2, by - ay + 2});
    draw_selection(v);
    SDL_RenderSetClipRect(v->ren, NULL);
}
