/* text.c - the viewer's fonts and a small cache of rendered strings.
 *
 * The HUD and the inspector redraw a few dozen short strings every frame and
 * most of them do not change between frames, so each (string, colour) pair
 * is rasterised once with TTF_RenderUTF8_Blended into a texture and kept in a
 * fixed-size table; the entry least recently used is replaced when the table
 * is full. A frame rarely shows more than a hundred strings, so a linear
 * probe over 256 entries costs less than rasterising one of them. */
#include "text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SIZE 256

typedef struct entry {
    uint64_t hash;
    char *str;
    uint32_t rgb;
    SDL_Texture *tex;
    int w, h;
    uint64_t used;
} entry;

struct sw_text {
    SDL_Renderer *r;
    TTF_Font *font;
    int height;
    uint64_t clock;
    entry cache[CACHE_SIZE];
};

static const char *const sans_paths[] = {
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/local/share/fonts/DejaVuSans.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
    NULL};
static const char *const mono_paths[] = {
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/TTF/DejaVuSansMono.ttf",
    "/usr/share/fonts/dejavu/DejaVuSansMono.ttf",
    "/usr/local/share/fonts/DejaVuSansMono.ttf",
    NULL};

sw_text *sw_text_new(SDL_Renderer *r, const char *path, int size, bool mono, char *err,
                     size_t errlen) {
    sw_text *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->r = r;
    const char *env = getenv("SW_VIEWER_FONT");
    if (path) t->font = TTF_OpenFont(path, size);
    else if (env && *env && !mono) t->font = TTF_OpenFont(env, size);
    for (const char *const *p = mono ? mono_paths : sans_paths; !t->font && !path && *p; p++)
        t->font = TTF_OpenFont(*p, size);
    if (!t->font) {
        snprintf(err, errlen,
                 "cannot open a font (%s%s); install fonts-dejavu-core or set SW_VIEWER_FONT "
                 "to a .ttf file",
                 path ? path : "DejaVu Sans", path ? "" : " in the usual places");
        free(t);
        return NULL;
    }
    t->height = TTF_FontLineSkip(t->font);
    return t;
}

void sw_text_flush(sw_text *t) {
    if (!t) return;
    for (int i = 0; i < CACHE_SIZE; i++) {
        if (t->cache[i].tex) SDL_DestroyTexture(t->cache[i].tex);
        free(t->cache[i].str);
        memset(&t->cache[i], 0, sizeof t->cache[i]);
    }
}

void sw_text_free(sw_text *t) {
    if (!t) return;
    sw_text_flush(t);
    TTF_CloseFont(t->font);
    free(t);
}

int sw_text_height(const sw_text *t) { return t->height; }

static uint64_t hash_of(const char *s, uint32_t rgb) {
    uint64_t h = 1469598103934665603ULL ^ rgb;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The cached texture for (s, rgb), rasterising it on a miss. */
static entry *lookup(sw_text *t, const char *s, uint32_t rgb) {
    uint64_t h = hash_of(s, rgb);
    entry *victim = &t->cache[0];
    for (int i = 0; i < CACHE_SIZE; i++) {
        entry *e = &t->cache[i];
        if (e->str && e->hash == h && e->rgb == rgb && strcmp(e->str, s) == 0) {
            e->used = ++t->clock;
            return e;
        }
        if (e->used < victim->used) victim = e;
    }
    SDL_Color c = {(Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb, 255};
    SDL_Surface *surf = TTF_RenderUTF8_Blended(t->font, s, c);
    if (!surf) return NULL;
    SDL_Texture *tex = SDL_CreateTextureFromSurface(t->r, surf);
    int w = surf->w, hgt = surf->h;
    SDL_FreeSurface(surf);
    if (!tex) return NULL;
    char *copy = strdup(s);
    if (!copy) {
        SDL_DestroyTexture(tex);
        return NULL;
    }
    if (victim->tex) SDL_DestroyTexture(victim->tex);
    free(victim->str);
    *victim = (entry){.hash = h, .str = copy, .rgb = rgb, .tex = tex, .w = w, .h = hgt,
                      .used = ++t->clock};
    return victim;
}

int sw_text_width(sw_text *t, const char *s) {
    int w = 0;
    if (*s) TTF_SizeUTF8(t->font, s, &w, NULL);
    return w;
}

int sw_text_draw(sw_text *t, const char *s, int x, int y, uint32_t rgb) {
    if (!*s) return 0;
    entry *e = lookup(t, s, rgb);
    if (!e) return 0;
    SDL_Rect dst = {x, y, e->w, e->h};
    SDL_RenderCopy(t->r, e->tex, NULL, &dst);
    return e->w;
}

int sw_text_drawf(sw_text *t, int x, int y, uint32_t rgb, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return sw_text_draw(t, buf, x, y, rgb);
}
