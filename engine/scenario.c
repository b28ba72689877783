/* scenario.c - loading scenario files: the entry points and accessors.
 *
 * Reading is three steps. This file reads the text (a missing file, a
 * directory, an empty file, a NUL byte) and parses it with cJSON, turning a
 * syntax error into FILE:LINE:COLUMN with its likely cause (an unclosed
 * string, array or object; nesting too deep). scenario_parse.c then walks
 * the tree section by section with the checks of scenario_check.c; every
 * check a person could fail stops the load with one message, "FILE:
 * $.json.path: what is wrong (what would be valid)", and nothing is left
 * half-built: the partly filled sw_scenario is freed. The validated tree is
 * kept (with --seed/--ticks overrides written back into it) because its
 * printed form is the canonical JSON that snapshots store.
 *
 * Inputs are hostile by assumption: the loader is fuzzed (fuzz/fuzz_scenario.c). */
#include "scenario_check.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- entry points ------------------------------------------------------------------- */

/* Line and column (from 1) of byte `off` of `text`. */
static void line_col(const char *text, size_t off, int *line, int *col) {
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

sw_scenario *sw_scenario_parse(const char *json, size_t len, const char *origin,
                               const sw_kind *const *kinds, char *err, size_t errlen) {
    sw__pctx p = {.origin = origin ? origin : "(scenario)", .known = kinds, .err = err, .errlen = errlen};
    if (err && errlen) err[0] = '\0';
    if (!json) {
        sw__scn_fail(&p, "$", "no text");
        return NULL;
    }
    size_t skip = 0;
    while (skip < len && json[skip] && strchr(" \t\r\n", json[skip])) skip++;
    if (skip == len) {
        if (err && errlen) snprintf(err, errlen, "%s: the file is empty (a scenario is a JSON object; see docs/scenarios.md)", p.origin);
        return NULL;
    }
    const char *nul = memchr(json, '\0', len);
    if (nul) {
        int line, col;
        line_col(json, (size_t)(nul - json), &line, &col);
        if (err && errlen)
            snprintf(err, errlen, "%s:%d:%d: not valid JSON: a NUL byte (is this a text file?)", p.origin, line, col);
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, false);
    size_t at = end && end >= json && end <= json + len ? (size_t)(end - json) : len;
    if (root) { /* only whitespace may follow the value */
        while (at < len && json[at] && strchr(" \t\r\n", json[at])) at++;
        if (at < len) {
            cJSON_Delete(root);
            root = NULL;
        }
    }
    if (!root) {
        /* cJSON only says where it gave up; find the likelier cause first: an
           unclosed string, array or object, or nesting past cJSON's limit */
        int depth = 0, maxdepth = 0;
        bool in_str = false;
        for (size_t i = 0; i < len; i++) {
            char ch = json[i];
            if (in_str) {
                if (ch == '\\') i++;
                else if (ch == '"') in_str = false;
            } else if (ch == '"') {
                in_str = true;
            } else if (ch == '{' || ch == '[') {
                if (++depth > maxdepth) maxdepth = depth;
            } else if (ch == '}' || ch == ']') {
                depth--;
            }
        }
        const char *why = "not valid JSON";
        if (maxdepth > CJSON_NESTING_LIMIT) {
            why = "not valid JSON: nested more than " SW__STR(CJSON_NESTING_LIMIT) " levels deep";
        } else if ((in_str || depth > 0) && at < len) {
            at = len;
        }
        int line, col;
        line_col(json, at, &line, &col);
        if (err && errlen) {
            if (at >= len)
                snprintf(err, errlen, "%s:%d:%d: not valid JSON: the text ends too early (an unclosed "
                         "string, array or object?)", p.origin, line, col);
            else {
                /* the text need not be NUL-terminated: copy what is shown */
                char near[21];
                size_t k = 0;
                for (; k < 20 && at + k < len; k++) near[k] = json[at + k];
                near[k] = '\0';
                snprintf(err, errlen, "%s:%d:%d: %s near '%s'", p.origin, line, col, why, near);
            }
            sw__scn_one_line(err);
        }
        return NULL;
    }
    sw_scenario *sc = calloc(1, sizeof *sc);
    if (!sc) {
        cJSON_Delete(root);
        sw__scn_fail(&p, "$", "out of memory");
        return NULL;
    }
    sc->root = root;
    sc->origin = sw__scn_dupstr(p.origin);
    p.sc = sc;
    if (!sc->origin || !sw__scn_parse_root(&p, root)) {
        sw_scenario_free(sc);
        return NULL;
    }
    return sc;
}

static sw_scenario *load_file(const char *path, const sw_kind *const *kinds, char *err, size_t errlen) {
    struct stat st;
    if (stat(path, &st) != 0) {
        if (err && errlen) snprintf(err, errlen, "%s: cannot open the scenario: %s", path, strerror(errno));
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        if (err && errlen) snprintf(err, errlen, "%s: is a directory, not a scenario file (e.g. scenarios/wolf_sheep.json)", path);
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (err && errlen) snprintf(err, errlen, "%s: cannot open the scenario: %s", path, strerror(errno));
        return NULL;
    }
    /* scenarios are small: refuse anything past 64 MiB rather than read a
       device or a huge file into memory */
    size_t cap = 65536, len = 0, limit = (size_t)64 << 20;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            if (cap >= limit) {
                free(buf);
                fclose(f);
                if (err && errlen) snprintf(err, errlen, "%s: too large for a scenario file (more than 64 MiB)", path);
                return NULL;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    bool bad = !buf || ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        if (err && errlen) snprintf(err, errlen, "%s: cannot read the scenario", path);
        return NULL;
    }
    sw_scenario *sc = sw_scenario_parse(buf, len, path, kinds, err, errlen);
    free(buf);
    return sc;
}

sw_scenario *sw_scenario_load(const char *path, const sw_kind *const *kinds, char *err, size_t errlen) {
    if (err && errlen) err[0] = '\0';
    sw_scenario *sc = load_file(path, kinds, err, errlen);
    if (!sc && err && errlen) sw__scn_one_line(err);
    return sc;
}

void sw_scenario_free(sw_scenario *sc) {
    if (!sc) return;
    for (int i = 0; i < sc->nagents; i++) {
        free(sc->agents[i].at);
        free(sc->agents[i].params);
    }
    free(sc->agents);
    for (int i = 0; i < sc->nlayers; i++) free(sc->layers[i].name);
    free(sc->layers);
    for (int i = 0; i < sc->nchans; i++) free(sc->chans[i].name);
    free(sc->chans);
    free(sc->events);
    for (int i = 0; i < sc->nstats; i++) free(sc->stats[i].name);
    free(sc->stats);
    free(sc->kinds);
    free(sc->colors);
    free(sc->has_color);
    free(sc->rank);
    free(sc->random);
    free(sc->marks);
    free(sc->name);
    free(sc->description);
    free(sc->origin);
    cJSON_Delete(sc->root);
    free(sc->json);
    free(sc);
}

const char *sw_scenario_name(const sw_scenario *sc) { return sc->name; }
const char *sw_scenario_description(const sw_scenario *sc) { return sc->description; }
uint64_t sw_scenario_seed(const sw_scenario *sc) { return sc->seed; }
sw_tick sw_scenario_ticks(const sw_scenario *sc) { return sc->ticks; }
sw_tick sw_scenario_snapshot_every(const sw_scenario *sc) { return sc->snapshot_every; }

/* Write an override back into the kept document, so the canonical JSON (and
 * so a snapshot) records the run that really happened. */
static void set_root_number(sw_scenario *sc, const char *key, double v) {
    free(sc->json);
    sc->json = NULL;
    cJSON *num = cJSON_CreateNumber(v);
    if (!num) return;
    if (cJSON_GetObjectItemCaseSensitive(sc->root, key))
        cJSON_ReplaceItemInObjectCaseSensitive(sc->root, key, num);
    else
        cJSON_AddItemToObject(sc->root, key, num);
}

void sw_scenario_set_seed(sw_scenario *sc, uint64_t seed) {
    sc->seed = seed;
    sc->world.seed = seed;
    set_root_number(sc, "seed", (double)seed);
}

void sw_scenario_set_ticks(sw_scenario *sc, sw_tick ticks) {
    sc->ticks = ticks;
    set_root_number(sc, "ticks", (double)ticks);
}

const char *sw_scenario_json(const sw_scenario *sc) {
    sw_scenario *m = (sw_scenario *)sc; /* a cache: logically const */
    if (!m->json) m->json = cJSON_PrintUnformatted(m->root);
    return m->json;
}

const sw_kind *const *sw_scenario_kinds(const sw_scenario *sc) { return sc->kinds; }

/* Colours closer than this (distance in RGB) are hard to tell apart at a
 * glance, the more so on small marks. */
#define NEAR_COLOR 80

static bool colors_near(uint32_t a, uint32_t b) {
    int dr = (int)((a >> 16) & 255) - (int)((b >> 16) & 255);
    int dg = (int)((a >> 8) & 255) - (int)((b >> 8) & 255);
    int db = (int)(a & 255) - (int)(b & 255);
    return dr * dr + dg * dg + db * db < NEAR_COLOR * NEAR_COLOR;
}

uint32_t sw_scenario_kind_color(const sw_scenario *sc, const sw_kind *kind) {
    /* Tableau's ten colours without grey and brown (close to dark ground),
     * ordered so that each is as far as can be from those before it: the
     * first few kinds, the usual case, get the most distinct colours. */
    static const uint32_t palette[] = {0x4e79a7, 0xf28e2b, 0x59a14f, 0xff9da7,
                                       0xb07aa1, 0x76b7b2, 0xe15759, 0xedc948};
    enum { NPAL = sizeof palette / sizeof *palette };
    int self = -1;
    for (int i = 0; i < sc->nkinds && self < 0; i++)
        if (sc->kinds[i] == kind) self = i;
    if (self < 0) return kind && kind->color ? kind->color : palette[0];
    if (sc->has_color[self]) return sc->colors[self];
    if (kind->color) return kind->color;
    /* A palette colour: the kinds before this one without a colour of their
     * own took the first ones; skip those and any palette colour close to a
     * colour some kind of the scenario gives itself, so that two kinds are
     * never drawn alike by default. */
    int earlier = 0;
    for (int i = 0; i < self; i++)
        if (!sc->has_color[i] && !sc->kinds[i]->color) earlier++;
    int seen = 0;
    for (int j = 0; j < NPAL; j++) {
        bool taken = false;
        for (int i = 0; i < sc->nkinds && !taken; i++) {
            uint32_t c = sc->has_color[i] ? sc->colors[i] : sc->kinds[i]->color;
            taken = (sc->has_color[i] || sc->kinds[i]->color) && colors_near(palette[j], c);
        }
        if (!taken && seen++ == earlier) return palette[j];
    }
    /* More kinds than distinct palette colours: cycle. */
    return palette[(unsigned)earlier % NPAL];
}

sw_mark sw_scenario_kind_mark(const sw_scenario *sc, const sw_kind *kind) {
    for (int i = 0; sc && i < sc->nkinds; i++)
        if (sc->kinds[i] == kind) return sc->marks[i];
    return SW_MARK_DEFAULT;
}
