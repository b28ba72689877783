/* text.h - text for the viewer: one TrueType font, rendered strings cached
 * as textures so that a HUD redrawn sixty times a second does not rasterise
 * the same glyphs sixty times. Internal to the viewer. */
#ifndef SW_VIEWER_TEXT_H
#define SW_VIEWER_TEXT_H

#include <SDL.h>
#include <SDL_ttf.h>
#include <stdbool.h>

typedef struct sw_text sw_text;

/* Open the font at `size` points for drawing with renderer `r`: `path`, or
 * $SW_VIEWER_FONT, or the first DejaVu Sans found in the usual places. NULL
 * (with a message in err) when no font can be opened; TTF_Init must have run. */
sw_text *sw_text_new(SDL_Renderer *r, const char *path, int size, bool mono, char *err,
                     size_t errlen);
void sw_text_free(sw_text *t);
/* Line height in pixels. */
int sw_text_height(const sw_text *t);
/* Width in pixels of `s` as it would be drawn. */
int sw_text_width(sw_text *t, const char *s);
/* Draw `s` (UTF-8, one line) with its top-left corner at (x, y) in colour
 * 0xRRGGBB. Returns the width drawn. */
int sw_text_draw(sw_text *t, const char *s, int x, int y, uint32_t rgb);
/* printf-style sw_text_draw. */
int sw_text_drawf(sw_text *t, int x, int y, uint32_t rgb, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Forget every cached texture (call when the renderer's targets change). */
void sw_text_flush(sw_text *t);

#endif
