/* scenario.c - loading and validating scenario files.
 *
 * A scenario is read in one pass over the cJSON tree, top-level keys in a
 * fixed order, and every check that a person could fail stops the load with
 * one message: "FILE: $.json.path: what is wrong (what would be valid)".
 * Nothing is half-built on failure: the partly filled sw_scenario is freed.
 * The validated tree is kept (with --seed/--ticks overrides written back into
 * it) because its printed form is the canonical JSON that snapshots store.
 *
 * Inputs are hostile by assumption (the loader is fuzzed): every number is
 * checked for finiteness and range before it is converted, every string and
 * array length is bounded, and sizes are checked against SW__MAX_CELLS and
 * SW__MAX_AGENTS before anything is allocated from them. */
#include "scenario_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct pctx {
    const char *origin;
    const sw_kind *const *known;
    char *err;
    size_t errlen;
    sw_scenario *sc;
} pctx;

#define SW__STR2(x) #x
#define SW__STR(x) SW__STR2(x)

/* Paths are built on the stack as the walk descends; this bounds them. */
#define PATH_MAX_LEN 256

/* Messages are one line: names quoted from the file may hold control
 * characters (a key "a\nb" is valid JSON), so those are shown as '?'. */
static void one_line(char *s) {
    for (; s && *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = '?';
}

static bool fail(pctx *p, const char *path, const char *fmt, ...) {
    if (!p->err || !p->errlen) return false;
    int n = snprintf(p->err, p->errlen, "%s: %s: ", p->origin, path);
    if (n >= 0 && (size_t)n < p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    one_line(p->err);
    return false;
}

static char *dupstr(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static const char *type_desc(const cJSON *v) {
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    return "an invalid value";
}

/* ---- "did you mean" ---------------------------------------------------------- */

/* Levenshtein distance, capped: names longer than 63 bytes are never close. */
static int edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return 99;
    int row[64];
    for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            int best = diag + cost;
            if (row[j] + 1 < best) best = row[j] + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The candidate closest to `word`, if close enough to be a likely typo. */
static const char *closest(const char *word, const char *const *cands, size_t n) {
    const char *best = NULL;
    int bestd = 99;
    for (size_t i = 0; i < n; i++) {
        int d = edit_distance(word, cands[i]);
        if (d < bestd) {
            bestd = d;
            best = cands[i];
        }
    }
    int len = (int)strlen(word);
    int limit = len / 3 > 2 ? len / 3 : 2;
    return best && bestd <= limit ? best : NULL;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "a, b, c" into buf, sorted. */
static const char *join_sorted(const char *const *names, size_t n, char *buf, size_t cap) {
    const char *tmp[64];
    if (n > 64) n = 64;
    memcpy(tmp, names, n * sizeof *tmp);
    qsort(tmp, n, sizeof *tmp, cmp_str);
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && len < cap; i++) {
        int w = snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", tmp[i]);
        if (w < 0) break;
        len += (size_t)w;
    }
    if (n == 0) snprintf(buf, cap, "none");
    return buf;
}

/* ---- generic checks ------------------------------------------------------------ */

/* `v` must be an object whose keys are all in `allowed` (NULL-terminated),
 * each at most once. */
static bool check_object(pctx *p, const char *path, const cJSON *v, const char *const *allowed) {
    if (!cJSON_IsObject(v)) return fail(p, path, "expected an object, got %s", type_desc(v));
    size_t nallowed = 0;
    while (allowed[nallowed]) nallowed++;
    for (const cJSON *c = v->child; c; c = c->next) {
        bool ok = false;
        for (size_t i = 0; i < nallowed && !ok; i++) ok = strcmp(c->string, allowed[i]) == 0;
        if (!ok) {
            char list[1024];
            const char *near = closest(c->string, allowed, nallowed);
            join_sorted(allowed, nallowed, list, sizeof list);
            if (near)
                return fail(p, path, "unknown key \"%.64s\" (did you mean \"%s\"? valid keys: %s)",
                            c->string, near, list);
            return fail(p, path, "unknown key \"%.64s\" (valid keys: %s)", c->string, list);
        }
        for (const cJSON *d = v->child; d != c; d = d->next)
            if (strcmp(d->string, c->string) == 0)
                return fail(p, path, "key \"%.64s\" appears twice", c->string);
    }
    return true;
}

/* A truncated path is still a useful message: the result is only checked
 * to say so to the compiler. */
static void subpath(char *out, const char *path, const char *key) {
    if (snprintf(out, PATH_MAX_LEN, "%s.%.64s", path, key) >= PATH_MAX_LEN) out[PATH_MAX_LEN - 1] = '\0';
}

static void indexpath(char *out, const char *path, int i) {
    if (snprintf(out, PATH_MAX_LEN, "%s[%d]", path, i) >= PATH_MAX_LEN) out[PATH_MAX_LEN - 1] = '\0';
}

/* A number in [lo, hi]; when `integer`, also integral. Absent: `def` unless
 * `required`. */
static bool get_number(pctx *p, const char *path, const cJSON *obj, const char *key, bool required,
                       bool integer, double lo, double hi, double def, double *out) {
    char sub[PATH_MAX_LEN];
    subpath(sub, path, key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        if (required) return fail(p, path, "missing required key \"%s\"", key);
        *out = def;
        return true;
    }
    if (!cJSON_IsNumber(v))
        return fail(p, sub, "expected %s, got %s", integer ? "an integer" : "a number", type_desc(v));
    double x = v->valuedouble;
    if (!isfinite(x)) return fail(p, sub, "number out of range (must be finite, from %.17g to %.17g)", lo, hi);
    if (integer && x != floor(x)) return fail(p, sub, "expected an integer, got %.17g", x);
    if (x < lo || x > hi) return fail(p, sub, "%.17g is out of range (valid: %.17g to %.17g)", x, lo, hi);
    *out = x;
    return true;
}

/* A string matching the name pattern [a-z0-9_-]+ (or, with `loose`, any
 * printable ASCII without quotes or commas, for CSV column names), at most
 * 64 bytes. */
static bool check_name(pctx *p, const char *path, const cJSON *v, bool loose) {
    if (!cJSON_IsString(v)) return fail(p, path, "expected a string, got %s", type_desc(v));
    const char *s = v->valuestring;
    size_t n = strlen(s);
    if (n == 0) return fail(p, path, "must not be empty");
    if (n > 64) return fail(p, path, "name is too long (%zu bytes; at most 64)", n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ok = loose ? (c >= 0x21 && c < 0x7f && c != '"' && c != ',' && c != '\'')
                        : ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-');
        if (!ok)
            return fail(p, path, "invalid name \"%.64s\" (%s)", s,
                        loose ? "use letters, digits and punctuation other than quotes and commas; no spaces"
                              : "use lowercase letters, digits, '_' and '-'");
    }
    return true;
}

static const sw_kind *find_known(const pctx *p, const char *name) {
    for (size_t i = 0; p->known && p->known[i]; i++)
        if (strcmp(p->known[i]->name, name) == 0) return p->known[i];
    return NULL;
}

static bool unknown_kind(pctx *p, const char *path, const char *name) {
    const char *names[64] = {0};
    size_t n = 0;
    for (size_t i = 0; p->known && p->known[i] && n < 64; i++) names[n++] = p->known[i]->name;
    char list[1024];
    join_sorted(names, n, list, sizeof list);
    const char *near = closest(name, names, n);
    if (near)
        return fail(p, path, "unknown agent kind \"%.64s\" (did you mean \"%s\"? known: %s)", name, near, list);
    return fail(p, path, "unknown agent kind \"%.64s\" (known: %s)", name, list);
}

/* The scenario's index for a kind, adding it if new; -1 when out of memory. */
static int kind_slot(sw_scenario *sc, const sw_kind *k) {
    for (int i = 0; i < sc->nkinds; i++)
        if (sc->kinds[i] == k) return i;
    int n = sc->nkinds + 1;
    const sw_kind **kinds = realloc(sc->kinds, (size_t)(n + 1) * sizeof *kinds);
    if (!kinds) return -1;
    sc->kinds = kinds;
    uint32_t *colors = realloc(sc->colors, (size_t)n * sizeof *colors);
    if (colors) sc->colors = colors;
    bool *has = realloc(sc->has_color, (size_t)n * sizeof *has);
    if (has) sc->has_color = has;
    int *rank = realloc(sc->rank, (size_t)n * sizeof *rank);
    if (rank) sc->rank = rank;
    bool *rnd = realloc(sc->random, (size_t)n * sizeof *rnd);
    if (rnd) sc->random = rnd;
    sw_mark *marks = realloc(sc->marks, (size_t)n * sizeof *marks);
    if (marks) sc->marks = marks;
    if (!colors || !has || !rank || !rnd || !marks) return -1;
    kinds[sc->nkinds] = k;
    kinds[n] = NULL;
    colors[sc->nkinds] = 0;
    has[sc->nkinds] = false;
    rank[sc->nkinds] = -1;
    rnd[sc->nkinds] = false;
    marks[sc->nkinds] = SW_MARK_DEFAULT;
    sc->nkinds = n;
    return n - 1;
}

/* A kind named by the string `v`, registered in the scenario; -1 on error. */
static int get_kind(pctx *p, const char *path, const cJSON *v) {
    if (!cJSON_IsString(v)) {
        fail(p, path, "expected an agent kind name (a string), got %s", type_desc(v));
        return -1;
    }
    const sw_kind *k = find_known(p, v->valuestring);
    if (!k) {
        unknown_kind(p, path, v->valuestring);
        return -1;
    }
    int i = kind_slot(p->sc, k);
    if (i < 0) fail(p, path, "out of memory");
    return i;
}

static bool oom(pctx *p, const char *path) { return fail(p, path, "out of memory"); }

/* ---- top-level sections ------------------------------------------------------------ */

static const char *const top_keys[] = {"format", "name", "description", "seed", "ticks", "world",
                                       "schedule", "layers", "channels", "agents", "events",
                                       "stats", "output", NULL};

static bool parse_world(pctx *p, const cJSON *root) {
    static const char *const keys[] = {"width", "height", "topology", "space_cell", "watchdog",
                                       "mailbox_capacity", NULL};
    sw_scenario *sc = p->sc;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "world");
    if (!v) return fail(p, "$", "missing required key \"world\" (e.g. \"world\": {\"width\": 50, \"height\": 50})");
    const char *path = "$.world";
    if (!check_object(p, path, v, keys)) return false;
    double w, h, sc_cell, wd, mb;
    if (!get_number(p, path, v, "width", true, true, 1, 1 << 20, 0, &w) ||
        !get_number(p, path, v, "height", true, true, 1, 1 << 20, 0, &h))
        return false;
    if (w * h > (double)SW__MAX_CELLS)
        return fail(p, path, "a %.0fx%.0f world has %.0f cells, too many to fit in memory (at most %llu)",
                    w, h, w * h, (unsigned long long)SW__MAX_CELLS);
    const cJSON *topo = cJSON_GetObjectItemCaseSensitive(v, "topology");
    sc->world.topology = SW_TOPO_BOUNDED;
    if (topo) {
        if (!cJSON_IsString(topo) ||
            (strcmp(topo->valuestring, "torus") != 0 && strcmp(topo->valuestring, "bounded") != 0)) {
            if (cJSON_IsString(topo))
                return fail(p, "$.world.topology", "unknown topology \"%.64s\" (valid: \"bounded\", \"torus\")",
                            topo->valuestring);
            return fail(p, "$.world.topology", "expected \"bounded\" or \"torus\", got %s", type_desc(topo));
        }
        if (strcmp(topo->valuestring, "torus") == 0) sc->world.topology = SW_TOPO_TORUS;
    }
    if (!get_number(p, path, v, "space_cell", false, false, 1e-3, 1e9, 1.0, &sc_cell) ||
        !get_number(p, path, v, "watchdog", false, true, 1, UINT32_MAX, 1000000, &wd) ||
        !get_number(p, path, v, "mailbox_capacity", false, true, 1, 1 << 20, 64, &mb))
        return false;
    if (ceil(w / sc_cell) * ceil(h / sc_cell) > (double)(1 << 26))
        return fail(p, "$.world.space_cell", "%g is too small for a %.0fx%.0f world: it would make %.0f buckets "
                    "(at most %d; use about the usual neighbour-query radius)",
                    sc_cell, w, h, ceil(w / sc_cell) * ceil(h / sc_cell), 1 << 26);
    sc->world.width = (uint32_t)w;
    sc->world.height = (uint32_t)h;
    sc->world.space_cell = sc_cell;
    sc->world.watchdog = (uint32_t)wd;
    sc->world.mailbox_capacity = (uint32_t)mb;
    return true;
}

/* The range of values a field of this type can hold from a scenario. */
static bool field_range(sw_type t, double *lo, double *hi, bool *integer) {
    *integer = true;
    switch (t) {
    case SW_T_BOOL: *lo = 0; *hi = 1; return true;
    case SW_T_I32: *lo = INT32_MIN; *hi = INT32_MAX; return true;
    case SW_T_U32: *lo = 0; *hi = UINT32_MAX; return true;
    case SW_T_I64: *lo = -SW__MAX_EXACT; *hi = SW__MAX_EXACT; return true;
    case SW_T_U64: case SW_T_ID: case SW_T_CHAN: *lo = 0; *hi = SW__MAX_EXACT; return true;
    case SW_T_F32: *integer = false; *lo = -FLT_MAX; *hi = FLT_MAX; return true;
    case SW_T_F64: *integer = false; *lo = -DBL_MAX; *hi = DBL_MAX; return true;
    default: return false;
    }
}

static bool parse_params(pctx *p, const char *path, const cJSON *v, const sw_kind *k,
                         unsigned char *frame) {
    const char *names[64];
    size_t n = 0;
    for (const sw_field *f = k->fields; f && f->name; f++)
        if (f->param && n < 64) names[n++] = f->name;
    if (!cJSON_IsObject(v)) return fail(p, path, "expected an object of parameters, got %s", type_desc(v));
    for (const cJSON *c = v->child; c; c = c->next) {
        char sub[PATH_MAX_LEN];
        subpath(sub, path, c->string);
        for (const cJSON *d = v->child; d != c; d = d->next)
            if (strcmp(d->string, c->string) == 0)
                return fail(p, path, "key \"%.64s\" appears twice", c->string);
        const sw_field *f = sw_fields_find(k->fields, c->string);
        char list[1024];
        join_sorted(names, n, list, sizeof list);
        if (!f || !f->param) {
            const char *near = closest(c->string, names, n);
            if (f)
                return fail(p, path, "\"%.64s\" is internal state of kind \"%s\", not a parameter (parameters: %s)",
                            c->string, k->name, list);
            if (near)
                return fail(p, path, "kind \"%s\" has no parameter \"%.64s\" (did you mean \"%s\"? parameters: %s)",
                            k->name, c->string, near, list);
            return fail(p, path, "kind \"%s\" has no parameter \"%.64s\" (parameters: %s)", k->name,
                        c->string, list);
        }
        double lo, hi, x;
        bool integer;
        if (!field_range(f->type, &lo, &hi, &integer))
            return fail(p, sub, "parameter of type %s cannot be set from a scenario", sw_type_name(f->type));
        if (cJSON_IsBool(c)) {
            if (f->type != SW_T_BOOL)
                return fail(p, sub, "expected a number (parameter type %s), got a boolean", sw_type_name(f->type));
            x = cJSON_IsTrue(c) ? 1 : 0;
        } else if (cJSON_IsNumber(c)) {
            x = c->valuedouble;
            if (!isfinite(x)) return fail(p, sub, "number out of range (must be finite)");
            if (integer && x != floor(x))
                return fail(p, sub, "expected an integer (parameter type %s), got %.17g", sw_type_name(f->type), x);
            if (x < lo || x > hi)
                return fail(p, sub, "%.17g is out of range for a parameter of type %s (valid: %.17g to %.17g)",
                            x, sw_type_name(f->type), lo, hi);
        } else {
            return fail(p, sub, "expected a %s, got %s", f->type == SW_T_BOOL ? "boolean" : "number",
                        type_desc(c));
        }
        sw_field_set_number(f, frame, x);
    }
    return true;
}

static bool parse_color(pctx *p, const char *path, const cJSON *v, uint32_t *out) {
    if (!cJSON_IsString(v)) return fail(p, path, "expected a colour \"#rrggbb\", got %s", type_desc(v));
    const char *s = v->valuestring;
    if (strlen(s) != 7 || s[0] != '#' || strspn(s + 1, "0123456789abcdefABCDEF") != 6)
        return fail(p, path, "invalid colour \"%.64s\" (expected \"#rrggbb\", e.g. \"#ff8800\")", s);
    *out = (uint32_t)strtoul(s + 1, NULL, 16);
    return true;
}

/* The values of "mark", indexed by sw_mark (SW_MARK_DEFAULT is not one). */
static const char *const mark_names[] = {"default", "square", "disc", "arrow", "dot", "none"};
#define NMARKS ((int)(sizeof mark_names / sizeof *mark_names))

static bool parse_mark(pctx *p, const char *path, const cJSON *v, sw_mark *out) {
    const char *valid = "valid: \"arrow\", \"disc\", \"dot\", \"none\", \"square\"";
    if (!cJSON_IsString(v)) return fail(p, path, "expected a mark name (a string), got %s (%s)", type_desc(v), valid);
    for (int i = 1; i < NMARKS; i++)
        if (strcmp(v->valuestring, mark_names[i]) == 0) {
            *out = (sw_mark)i;
            return true;
        }
    if (strcmp(v->valuestring, mark_names[0]) == 0)
        return fail(p, path, "unknown mark \"default\" (leave \"mark\" out for the viewer's choice; %s)", valid);
    const char *near = closest(v->valuestring, mark_names + 1, NMARKS - 1);
    return fail(p, path, "unknown mark \"%.64s\" (%s%s%s%s)", v->valuestring, near ? "did you mean \"" : "",
                near ? near : "", near ? "\"? " : "", valid);
}

static const struct { const char *name; sw_place place; bool at; } place_names[] = {
    {"none", SW_PLACE_NONE, false},       {"cell", SW_PLACE_CELL, false},
    {"cell_unique", SW_PLACE_CELL_UNIQUE, false}, {"every_cell", SW_PLACE_EVERY_CELL, false},
    {"point", SW_PLACE_POINT, false},     {"at", SW_PLACE_CELL, true},
};

static bool parse_agent(pctx *p, int index, const cJSON *v, uint64_t *total, uint64_t *unique_cells) {
    static const char *const keys[] = {"kind", "count", "params", "place", "density", "at", "color", "mark",
                                       NULL};
    char path[PATH_MAX_LEN], sub[PATH_MAX_LEN];
    indexpath(path, "$.agents", index);
    if (!check_object(p, path, v, keys)) return false;
    sw_scenario *sc = p->sc;
    sw__agent_spec *a = &sc->agents[index];
    const cJSON *kv = cJSON_GetObjectItemCaseSensitive(v, "kind");
    if (!kv) return fail(p, path, "missing required key \"kind\"");
    subpath(sub, path, "kind");
    a->kind = get_kind(p, sub, kv);
    if (a->kind < 0) return false;
    const sw_kind *k = sc->kinds[a->kind];
    if (sc->nagent_kinds < sc->nkinds) sc->nagent_kinds = sc->nkinds;

    /* placement */
    a->place = k->place;
    const cJSON *pv = cJSON_GetObjectItemCaseSensitive(v, "place");
    subpath(sub, path, "place");
    if (pv) {
        bool found = false;
        if (cJSON_IsString(pv))
            for (size_t i = 0; i < sizeof place_names / sizeof *place_names && !found; i++)
                if (strcmp(pv->valuestring, place_names[i].name) == 0) {
                    a->place = place_names[i].place;
                    a->at_cells = place_names[i].at;
                    found = true;
                }
        if (!found) {
            if (!cJSON_IsString(pv)) return fail(p, sub, "expected a string, got %s", type_desc(pv));
            return fail(p, sub, "unknown placement \"%.64s\" (valid: \"at\", \"cell\", \"cell_unique\", "
                        "\"every_cell\", \"none\", \"point\")", pv->valuestring);
        }
    }
    const cJSON *atv = cJSON_GetObjectItemCaseSensitive(v, "at");
    if (atv && !a->at_cells) {
        if (pv) return fail(p, path, "\"at\" is only valid with \"place\": \"at\"");
        a->at_cells = true; /* "at" alone means place at those cells */
        a->place = SW_PLACE_CELL;
    }
    const cJSON *cv = cJSON_GetObjectItemCaseSensitive(v, "count");
    const cJSON *dv = cJSON_GetObjectItemCaseSensitive(v, "density");
    double ncells = (double)sc->world.width * sc->world.height;
    if (a->at_cells) {
        subpath(sub, path, "at");
        if (!atv) return fail(p, path, "\"place\": \"at\" needs \"at\": a list of [x, y] cells");
        if (dv) return fail(p, path, "\"density\" is only valid with \"place\": \"every_cell\"");
        if (!cJSON_IsArray(atv)) return fail(p, sub, "expected an array of [x, y] cells, got %s", type_desc(atv));
        int n = cJSON_GetArraySize(atv);
        if ((uint64_t)n > SW__MAX_AGENTS) return fail(p, sub, "too many cells");
        a->at = malloc((size_t)(n ? n : 1) * 2 * sizeof *a->at);
        if (!a->at) return oom(p, sub);
        int i = 0;
        for (const cJSON *c = atv->child; c; c = c->next, i++) {
            char cp[PATH_MAX_LEN];
            indexpath(cp, sub, i);
            if (!cJSON_IsArray(c) || cJSON_GetArraySize(c) != 2 || !cJSON_IsNumber(c->child) ||
                !cJSON_IsNumber(c->child->next))
                return fail(p, cp, "expected a cell [x, y] (two integers), got %s",
                            cJSON_IsArray(c) ? "an array of another shape" : type_desc(c));
            double x = c->child->valuedouble, y = c->child->next->valuedouble;
            if (!isfinite(x) || !isfinite(y) || x != floor(x) || y != floor(y))
                return fail(p, cp, "cell coordinates must be integers");
            if (x < 0 || y < 0 || x >= sc->world.width || y >= sc->world.height)
                return fail(p, cp, "cell [%.17g, %.17g] is outside the %ux%u world (x from 0 to %u, y from 0 to %u)",
                            x, y, sc->world.width, sc->world.height, sc->world.width - 1, sc->world.height - 1);
            a->at[2 * i] = (int32_t)x;
            a->at[2 * i + 1] = (int32_t)y;
        }
        a->nat = (uint32_t)n;
        a->count = (uint64_t)n;
        if (cv) {
            double c;
            if (!get_number(p, path, v, "count", true, true, 0, SW__MAX_EXACT, 0, &c)) return false;
            if ((uint64_t)c != a->count)
                return fail(p, path, "\"count\" is %.0f but \"at\" lists %d cells (leave \"count\" out)", c, n);
        }
        *unique_cells += a->count;
    } else if (a->place == SW_PLACE_EVERY_CELL) {
        if (cv) return fail(p, path, "\"count\" is not valid with \"place\": \"every_cell\"%s%s%s (use \"density\": "
                            "the chance that each cell gets one, or another \"place\")",
                            pv ? "" : " (kind \"", pv ? "" : k->name, pv ? "" : "\"'s default placement)");
        if (!get_number(p, path, v, "density", false, false, 0, 1, 1.0, &a->density)) return false;
        if (!(a->density > 0)) {
            subpath(sub, path, "density");
            return fail(p, sub, "0 is out of range (valid: more than 0, up to 1)");
        }
        a->count = (uint64_t)ceil(ncells * a->density);
    } else {
        if (dv) return fail(p, path, "\"density\" is only valid with \"place\": \"every_cell\"");
        double c;
        if (!get_number(p, path, v, "count", true, true, 0, (double)SW__MAX_AGENTS, 0, &c)) return false;
        a->count = (uint64_t)c;
        if (a->place == SW_PLACE_CELL_UNIQUE) {
            if ((double)a->count > ncells) {
                subpath(sub, path, "count");
                return fail(p, sub, "%llu agents need distinct cells but the %ux%u world has only %.0f "
                            "(use \"place\": \"cell\" to allow several per cell, or a bigger world)",
                            (unsigned long long)a->count, sc->world.width, sc->world.height, ncells);
            }
            *unique_cells += a->count;
        }
    }
    *total += a->count;
    if (*total > SW__MAX_AGENTS) {
        subpath(sub, path, a->place == SW_PLACE_EVERY_CELL ? "density" : "count");
        return fail(p, sub, "the scenario asks for %llu agents in all, too many to fit in memory (at most %llu)",
                    (unsigned long long)*total, (unsigned long long)SW__MAX_AGENTS);
    }
    if (*unique_cells > ncells)
        return fail(p, path, "the agents placed on distinct cells so far (%llu) outnumber the %.0f cells of the world",
                    (unsigned long long)*unique_cells, ncells);

    /* parameters: defaults first, then the scenario's values */
    a->params = calloc(1, k->frame_size ? k->frame_size : 1);
    if (!a->params) return oom(p, path);
    for (const sw_field *f = k->fields; f && f->name; f++)
        if (f->param) sw_field_set_number(f, a->params, f->def);
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(v, "params");
    subpath(sub, path, "params");
    if (params && !parse_params(p, sub, params, k, a->params)) return false;

    const cJSON *col = cJSON_GetObjectItemCaseSensitive(v, "color");
    if (col) {
        uint32_t rgb = 0;
        subpath(sub, path, "color");
        if (!parse_color(p, sub, col, &rgb)) return false;
        if (sc->has_color[a->kind] && sc->colors[a->kind] != rgb)
            return fail(p, sub, "kind \"%s\" already has another colour (#%06x); give each kind one colour",
                        k->name, sc->colors[a->kind]);
        sc->colors[a->kind] = rgb;
        sc->has_color[a->kind] = true;
    }
    const cJSON *mv = cJSON_GetObjectItemCaseSensitive(v, "mark");
    if (mv) {
        sw_mark mark = SW_MARK_DEFAULT;
        subpath(sub, path, "mark");
        if (!parse_mark(p, sub, mv, &mark)) return false;
        if (sc->marks[a->kind] != SW_MARK_DEFAULT && sc->marks[a->kind] != mark)
            return fail(p, sub, "kind \"%s\" already has another mark (\"%s\"); give each kind one mark",
                        k->name, mark_names[sc->marks[a->kind]]);
        sc->marks[a->kind] = mark;
    }
    return true;
}

static bool parse_agents(pctx *p, const cJSON *root) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "agents");
    if (!v) return fail(p, "$", "missing required key \"agents\" (a list such as [{\"kind\": \"...\", \"count\": 10}])");
    if (!cJSON_IsArray(v)) return fail(p, "$.agents", "expected an array, got %s", type_desc(v));
    int n = cJSON_GetArraySize(v);
    if (n == 0) return fail(p, "$.agents", "must list at least one kind of agent");
    if (n > 4096) return fail(p, "$.agents", "too many entries (%d; at most 4096)", n);
    p->sc->agents = calloc((size_t)n, sizeof *p->sc->agents);
    if (!p->sc->agents) return oom(p, "$.agents");
    p->sc->nagents = n;
    uint64_t total = 0, unique = 0;
    int i = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++)
        if (!parse_agent(p, i, c, &total, &unique)) return false;
    return true;
}

static bool parse_schedule(pctx *p, const cJSON *root) {
    static const char *const keys[] = {"order", "random", NULL};
    sw_scenario *sc = p->sc;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "schedule");
    if (!v) return true;
    if (!check_object(p, "$.schedule", v, keys)) return false;
    const cJSON *order = cJSON_GetObjectItemCaseSensitive(v, "order");
    if (order) {
        if (!cJSON_IsArray(order))
            return fail(p, "$.schedule.order", "expected an array of kind names, got %s", type_desc(order));
        int i = 0;
        for (const cJSON *c = order->child; c; c = c->next, i++) {
            char path[PATH_MAX_LEN];
            indexpath(path, "$.schedule.order", i);
            int k = get_kind(p, path, c);
            if (k < 0) return false;
            if (sc->rank[k] >= 0) return fail(p, path, "kind \"%s\" is listed twice", sc->kinds[k]->name);
            sc->rank[k] = i;
        }
        sc->ordered = true;
    }
    const cJSON *rnd = cJSON_GetObjectItemCaseSensitive(v, "random");
    if (rnd) {
        if (cJSON_IsBool(rnd)) {
            sc->world.random_order = cJSON_IsTrue(rnd);
        } else if (cJSON_IsArray(rnd)) {
            int i = 0;
            for (const cJSON *c = rnd->child; c; c = c->next, i++) {
                char path[PATH_MAX_LEN];
                indexpath(path, "$.schedule.random", i);
                int k = get_kind(p, path, c);
                if (k < 0) return false;
                if (sc->random[k]) return fail(p, path, "kind \"%s\" is listed twice", sc->kinds[k]->name);
                sc->random[k] = true;
            }
        } else {
            return fail(p, "$.schedule.random", "expected true, false or an array of kind names, got %s",
                        type_desc(rnd));
        }
    }
    return true;
}

static bool parse_layers(pctx *p, const cJSON *root) {
    static const char *const keys[] = {"name", "init", NULL};
    sw_scenario *sc = p->sc;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "layers");
    if (!v) return true;
    if (!cJSON_IsArray(v)) return fail(p, "$.layers", "expected an array, got %s", type_desc(v));
    int n = cJSON_GetArraySize(v);
    if (n > 64) return fail(p, "$.layers", "too many layers (%d; at most 64)", n);
    sc->layers = calloc((size_t)(n ? n : 1), sizeof *sc->layers);
    if (!sc->layers) return oom(p, "$.layers");
    int i = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++) {
        char path[PATH_MAX_LEN], sub[PATH_MAX_LEN];
        indexpath(path, "$.layers", i);
        if (!check_object(p, path, c, keys)) return false;
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(c, "name");
        subpath(sub, path, "name");
        if (!nm) return fail(p, path, "missing required key \"name\"");
        if (!check_name(p, sub, nm, false)) return false;
        for (int j = 0; j < i; j++)
            if (strcmp(sc->layers[j].name, nm->valuestring) == 0)
                return fail(p, sub, "a layer named \"%s\" is already declared", nm->valuestring);
        if (!get_number(p, path, c, "init", false, false, -DBL_MAX, DBL_MAX, 0, &sc->layers[i].init))
            return false;
        sc->layers[i].name = dupstr(nm->valuestring);
        sc->nlayers = i + 1;
        if (!sc->layers[i].name) return oom(p, path);
    }
    return true;
}

static bool parse_channels(pctx *p, const cJSON *root) {
    static const char *const keys[] = {"name", "kind", "capacity", "preference", NULL};
    sw_scenario *sc = p->sc;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "channels");
    if (!v) return true;
    if (!cJSON_IsArray(v)) return fail(p, "$.channels", "expected an array, got %s", type_desc(v));
    int n = cJSON_GetArraySize(v);
    if (n > 1024) return fail(p, "$.channels", "too many channels (%d; at most 1024)", n);
    sc->chans = calloc((size_t)(n ? n : 1), sizeof *sc->chans);
    if (!sc->chans) return oom(p, "$.channels");
    int i = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++) {
        char path[PATH_MAX_LEN], sub[PATH_MAX_LEN];
        indexpath(path, "$.channels", i);
        if (!check_object(p, path, c, keys)) return false;
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(c, "name");
        subpath(sub, path, "name");
        if (!nm) return fail(p, path, "missing required key \"name\"");
        if (!check_name(p, sub, nm, false)) return false;
        for (int j = 0; j < i; j++)
            if (strcmp(sc->chans[j].name, nm->valuestring) == 0)
                return fail(p, sub, "a channel named \"%s\" is already declared", nm->valuestring);
        sw_chan_desc d = {.kind = SW_CHAN_EVENT};
        const cJSON *kv = cJSON_GetObjectItemCaseSensitive(c, "kind");
        subpath(sub, path, "kind");
        if (kv) {
            if (!cJSON_IsString(kv)) return fail(p, sub, "expected a string, got %s", type_desc(kv));
            if (strcmp(kv->valuestring, "event") == 0) d.kind = SW_CHAN_EVENT;
            else if (strcmp(kv->valuestring, "rendezvous") == 0) d.kind = SW_CHAN_RENDEZVOUS;
            else if (strcmp(kv->valuestring, "buffered") == 0) d.kind = SW_CHAN_BUFFERED;
            else
                return fail(p, sub, "unknown channel kind \"%.64s\" (valid: \"buffered\", \"event\", \"rendezvous\")",
                            kv->valuestring);
        }
        double cap, pref;
        if (cJSON_GetObjectItemCaseSensitive(c, "capacity") && d.kind != SW_CHAN_BUFFERED)
            return fail(p, path, "\"capacity\" is only valid for a \"buffered\" channel");
        if (cJSON_GetObjectItemCaseSensitive(c, "preference") && d.kind != SW_CHAN_RENDEZVOUS)
            return fail(p, path, "\"preference\" is only valid for a \"rendezvous\" channel");
        if (!get_number(p, path, c, "capacity", false, true, 1, 1 << 20, 16, &cap) ||
            !get_number(p, path, c, "preference", false, true, -1, 1, -1, &pref))
            return false;
        if (d.kind == SW_CHAN_BUFFERED) d.capacity = (uint32_t)cap;
        if (d.kind == SW_CHAN_RENDEZVOUS) {
            d.preference = (int)pref;
            d.explicit_neither = pref == 0;
        }
        sc->chans[i].desc = d;
        sc->chans[i].name = dupstr(nm->valuestring);
        sc->nchans = i + 1;
        if (!sc->chans[i].name) return oom(p, path);
    }
    return true;
}

static int cmp_event(const void *a, const void *b) {
    const sw__event_spec *x = a, *y = b;
    if (x->tick != y->tick) return x->tick < y->tick ? -1 : 1;
    return x->msg.who < y->msg.who ? -1 : x->msg.who > y->msg.who; /* who holds the index */
}

static bool parse_events(pctx *p, const cJSON *root) {
    static const char *const keys[] = {"tick", "channel", "message", NULL};
    static const char *const msg_keys[] = {"tag", "i", "x", "y", NULL};
    sw_scenario *sc = p->sc;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "events");
    if (!v) return true;
    if (!cJSON_IsArray(v)) return fail(p, "$.events", "expected an array, got %s", type_desc(v));
    int n = cJSON_GetArraySize(v);
    if (n > 1000000) return fail(p, "$.events", "too many events (%d; at most 1000000)", n);
    sc->events = calloc((size_t)(n ? n : 1), sizeof *sc->events);
    if (!sc->events) return oom(p, "$.events");
    int i = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++) {
        char path[PATH_MAX_LEN], sub[PATH_MAX_LEN];
        indexpath(path, "$.events", i);
        if (!check_object(p, path, c, keys)) return false;
        sw__event_spec *e = &sc->events[i];
        double tick;
        if (!get_number(p, path, c, "tick", true, true, 1, SW__MAX_EXACT, 0, &tick)) return false;
        e->tick = (sw_tick)tick;
        const cJSON *ch = cJSON_GetObjectItemCaseSensitive(c, "channel");
        subpath(sub, path, "channel");
        if (!ch) return fail(p, path, "missing required key \"channel\"");
        if (!cJSON_IsString(ch)) return fail(p, sub, "expected a channel name, got %s", type_desc(ch));
        e->chan = -1;
        const char *names[1024];
        for (int j = 0; j < sc->nchans; j++) {
            names[j] = sc->chans[j].name;
            if (strcmp(sc->chans[j].name, ch->valuestring) == 0) e->chan = j;
        }
        if (e->chan < 0) {
            char list[1024];
            join_sorted(names, (size_t)sc->nchans, list, sizeof list);
            const char *near = closest(ch->valuestring, names, (size_t)sc->nchans);
            if (near)
                return fail(p, sub, "no channel named \"%.64s\" is declared in \"channels\" (did you mean \"%s\"? "
                            "declared: %s)", ch->valuestring, near, list);
            return fail(p, sub, "no channel named \"%.64s\" is declared in \"channels\" (declared: %s)",
                        ch->valuestring, list);
        }
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(c, "message");
        subpath(sub, path, "message");
        double tag = 0, iv = 0, x = 0, y = 0;
        if (m && (!check_object(p, sub, m, msg_keys) ||
                  !get_number(p, sub, m, "tag", false, true, INT32_MIN, INT32_MAX, 0, &tag) ||
                  !get_number(p, sub, m, "i", false, true, INT32_MIN, INT32_MAX, 0, &iv) ||
                  !get_number(p, sub, m, "x", false, false, -DBL_MAX, DBL_MAX, 0, &x) ||
                  !get_number(p, sub, m, "y", false, false, -DBL_MAX, DBL_MAX, 0, &y)))
            return false;
        e->msg = (sw_msg){.tag = (int32_t)tag, .i = (int32_t)iv, .x = x, .y = y, .who = (sw_id)i};
    }
    sc->nevents = n;
    /* by tick, then in file order (the index is parked in msg.who until sorted) */
    qsort(sc->events, (size_t)n, sizeof *sc->events, cmp_event);
    for (int j = 0; j < n; j++) sc->events[j].msg.who = SW_ID_NONE;
    return true;
}

static const char *const op_names[] = {"mean", "sum", "min", "max", "count"};

static bool parse_stat(pctx *p, int i, const cJSON *c) {
    static const char *const keys[] = {"name", "kind", "layer", "field", "op", "equals", NULL};
    sw_scenario *sc = p->sc;
    sw__stat_spec *st = &sc->stats[i];
    char path[PATH_MAX_LEN], sub[PATH_MAX_LEN];
    indexpath(path, "$.stats", i);
    st->kind = st->layer = -1;
    if (!check_object(p, path, c, keys)) return false;
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(c, "name");
    subpath(sub, path, "name");
    if (!nm) return fail(p, path, "missing required key \"name\"");
    if (!check_name(p, sub, nm, true)) return false;
    if (strcmp(nm->valuestring, "tick") == 0)
        return fail(p, sub, "\"tick\" is the name of the first column; choose another name");
    for (int j = 0; j < i; j++)
        if (strcmp(sc->stats[j].name, nm->valuestring) == 0)
            return fail(p, sub, "a statistic named \"%s\" is already declared", nm->valuestring);
    for (int j = 0; j < sc->nagent_kinds; j++)
        if (strcmp(sc->kinds[j]->name, nm->valuestring) == 0)
            return fail(p, sub, "\"%s\" is already the column counting that kind's agents; choose another name",
                        nm->valuestring);
    st->name = dupstr(nm->valuestring);
    if (!st->name) return oom(p, path);

    const cJSON *ov = cJSON_GetObjectItemCaseSensitive(c, "op");
    subpath(sub, path, "op");
    if (!ov) return fail(p, path, "missing required key \"op\" (valid: \"count\", \"max\", \"mean\", \"min\", \"sum\")");
    if (!cJSON_IsString(ov)) return fail(p, sub, "expected a string, got %s", type_desc(ov));
    int op = -1;
    for (int j = 0; j < 5; j++)
        if (strcmp(ov->valuestring, op_names[j]) == 0) op = j;
    if (op < 0) {
        const char *near = closest(ov->valuestring, op_names, 5);
        return fail(p, sub, "unknown operation \"%.64s\" (%s%s%svalid: \"count\", \"max\", \"mean\", \"min\", \"sum\")",
                    ov->valuestring, near ? "did you mean \"" : "", near ? near : "", near ? "\"? " : "");
    }
    st->op = (sw__stat_op)op;

    const cJSON *kv = cJSON_GetObjectItemCaseSensitive(c, "kind");
    const cJSON *lv = cJSON_GetObjectItemCaseSensitive(c, "layer");
    const cJSON *fv = cJSON_GetObjectItemCaseSensitive(c, "field");
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(c, "equals");
    if ((kv != NULL) == (lv != NULL))
        return fail(p, path, "give exactly one of \"kind\" (a statistic over agents) or \"layer\" (over a layer's cells)");
    if (ev && st->op != SW__OP_COUNT) return fail(p, path, "\"equals\" is only valid with \"op\": \"count\"");
    if (lv) {
        subpath(sub, path, "layer");
        if (fv) return fail(p, path, "\"field\" is not valid with \"layer\" (a layer has one value per cell)");
        if (ev) return fail(p, path, "\"equals\" is not valid with \"layer\"");
        if (st->op == SW__OP_COUNT)
            return fail(p, sub, "\"op\": \"count\" is not valid for a layer (valid: \"max\", \"mean\", \"min\", \"sum\")");
        if (!cJSON_IsString(lv)) return fail(p, sub, "expected a layer name, got %s", type_desc(lv));
        const char *names[64];
        for (int j = 0; j < sc->nlayers; j++) {
            names[j] = sc->layers[j].name;
            if (strcmp(names[j], lv->valuestring) == 0) st->layer = j;
        }
        if (st->layer < 0) {
            char list[1024];
            join_sorted(names, (size_t)sc->nlayers, list, sizeof list);
            return fail(p, sub, "no layer named \"%.64s\" is declared in \"layers\" (declared: %s)",
                        lv->valuestring, list);
        }
        return true;
    }
    subpath(sub, path, "kind");
    st->kind = get_kind(p, sub, kv);
    if (st->kind < 0) return false;
    const sw_kind *k = sc->kinds[st->kind];
    if (!fv) {
        if (st->op != SW__OP_COUNT)
            return fail(p, path, "missing required key \"field\" (which of kind \"%s\"'s fields to take the %s of)",
                        k->name, op_names[op]);
        if (ev) return fail(p, path, "\"equals\" needs a \"field\" to compare");
        return true;
    }
    subpath(sub, path, "field");
    if (!cJSON_IsString(fv)) return fail(p, sub, "expected a field name, got %s", type_desc(fv));
    const char *names[64];
    size_t n = 0;
    double lo, hi;
    bool integer;
    for (const sw_field *f = k->fields; f && f->name && n < 64; f++)
        if (field_range(f->type, &lo, &hi, &integer)) names[n++] = f->name;
    st->field = sw_fields_find(k->fields, fv->valuestring);
    if (!st->field || !field_range(st->field->type, &lo, &hi, &integer)) {
        char list[1024];
        join_sorted(names, n, list, sizeof list);
        const char *near = closest(fv->valuestring, names, n);
        return fail(p, sub, "kind \"%s\" has no numeric field \"%.64s\" (%s%s%sfields: %s)", k->name,
                    fv->valuestring, near ? "did you mean \"" : "", near ? near : "", near ? "\"? " : "", list);
    }
    if (ev) {
        st->has_equals = true;
        if (!get_number(p, path, c, "equals", true, false, -DBL_MAX, DBL_MAX, 0, &st->equals)) return false;
    }
    return true;
}

static bool parse_stats(pctx *p, const cJSON *root) {
    sw_scenario *sc = p->sc;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "stats");
    if (!v) return true;
    if (!cJSON_IsArray(v)) return fail(p, "$.stats", "expected an array, got %s", type_desc(v));
    int n = cJSON_GetArraySize(v);
    if (n > 256) return fail(p, "$.stats", "too many statistics (%d; at most 256)", n);
    sc->stats = calloc((size_t)(n ? n : 1), sizeof *sc->stats);
    if (!sc->stats) return oom(p, "$.stats");
    int i = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++) {
        sc->nstats = i + 1;
        if (!parse_stat(p, i, c)) return false;
    }
    return true;
}

static bool parse_output(pctx *p, const cJSON *root) {
    static const char *const keys[] = {"snapshot_every", NULL};
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "output");
    if (!v) return true;
    if (!check_object(p, "$.output", v, keys)) return false;
    double every;
    if (!get_number(p, "$.output", v, "snapshot_every", false, true, 0, SW__MAX_EXACT, 0, &every)) return false;
    p->sc->snapshot_every = (sw_tick)every;
    return true;
}

static bool parse_root(pctx *p, const cJSON *root) {
    sw_scenario *sc = p->sc;
    if (!check_object(p, "$", root, top_keys)) return false;
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!fmt) return fail(p, "$", "missing required key \"format\" (add \"format\": 1)");
    if (!cJSON_IsNumber(fmt) || fmt->valuedouble != 1)
        return fail(p, "$.format", "unsupported format %s (this version of Swarmlet reads \"format\": 1)",
                    cJSON_IsNumber(fmt) ? "number" : type_desc(fmt));
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(root, "name");
    if (!nm) return fail(p, "$", "missing required key \"name\" (it names the output directory, e.g. \"wolf_sheep\")");
    if (!check_name(p, "$.name", nm, false)) return false;
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(root, "description");
    if (!desc) return fail(p, "$", "missing required key \"description\" (a sentence or two saying what the scenario shows)");
    if (!cJSON_IsString(desc)) return fail(p, "$.description", "expected a string, got %s", type_desc(desc));
    if (!desc->valuestring[0]) return fail(p, "$.description", "must not be empty");
    sc->name = dupstr(nm->valuestring);
    sc->description = dupstr(desc->valuestring);
    if (!sc->name || !sc->description) return oom(p, "$");
    double seed, ticks;
    if (!get_number(p, "$", root, "seed", false, true, 0, SW__MAX_EXACT, 42, &seed) ||
        !get_number(p, "$", root, "ticks", false, true, 0, SW__MAX_EXACT, 100, &ticks))
        return false;
    sc->seed = (uint64_t)seed;
    sc->ticks = (sw_tick)ticks;
    sc->world.seed = sc->seed;
    return parse_world(p, root) && parse_agents(p, root) && parse_schedule(p, root) &&
           parse_layers(p, root) && parse_channels(p, root) && parse_events(p, root) &&
           parse_stats(p, root) && parse_output(p, root);
}

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
    pctx p = {.origin = origin ? origin : "(scenario)", .known = kinds, .err = err, .errlen = errlen};
    if (err && errlen) err[0] = '\0';
    if (!json) {
        fail(&p, "$", "no text");
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
            one_line(err);
        }
        return NULL;
    }
    sw_scenario *sc = calloc(1, sizeof *sc);
    if (!sc) {
        cJSON_Delete(root);
        fail(&p, "$", "out of memory");
        return NULL;
    }
    sc->root = root;
    sc->origin = dupstr(p.origin);
    p.sc = sc;
    if (!sc->origin || !parse_root(&p, root)) {
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
    if (!sc && err && errlen) one_line(err);
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

const char *sw_mark_name(sw_mark mark) {
    return (int)mark >= 0 && (int)mark < NMARKS ? mark_names[mark] : "default";
}
