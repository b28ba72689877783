/* scenario_parse.c - the sections of a scenario file, validated one by one
 * into a plain sw_scenario: world, agents (kinds, parameters through the
 * kinds' field schemas, placement), schedule, layers, channels, events,
 * statistics, output. Every number is checked for finiteness and range
 * before it is converted, and sizes against SW__MAX_CELLS and SW__MAX_AGENTS
 * before anything is allocated from them. */
#include "scenario_check.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sw_kind *find_known(const sw__pctx *p, const char *name) {
    for (size_t i = 0; p->known && p->known[i]; i++)
        if (strcmp(p->known[i]->name, name) == 0) return p->known[i];
    return NULL;
}

static bool unknown_kind(sw__pctx *p, const char *path, const char *name) {
    const char *names[64] = {0};
    size_t n = 0;
    for (size_t i = 0; p->known && p->known[i] && n < 64; i++) names[n++] = p->known[i]->name;
    char list[1024];
    sw__scn_join_sorted(names, n, list, sizeof list);
    const char *near = sw__scn_closest(name, names, n);
    if (near)
        return sw__scn_fail(p, path, "unknown agent kind \"%.64s\" (did you mean \"%s\"? known: %s)", name, near, list);
    return sw__scn_fail(p, path, "unknown agent kind \"%.64s\" (known: %s)", name, list);
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
static int get_kind(sw__pctx *p, const char *path, const cJSON *v) {
    if (!cJSON_IsString(v)) {
        sw__scn_fail(p, path, "expected an agent kind name (a string), got %s", sw__scn_type_desc(v));
        return -1;
    }
    const sw_kind *k = find_known(p, v->valuestring);
    if (!k) {
        unknown_kind(p, path, v->valuestring);
        return -1;
    }
    int i = kind_slot(p->sc, k);
    if (i < 0) sw__scn_fail(p, path, "out of memory");
    return i;
}

static bool oom(sw__pctx *p, const char *path) { return sw__scn_fail(p, path, "out of memory"); }

/* ---- top-level sections ------------------------------------------------------------ */

static const char *const top_keys[] = {"format", "name", "description", "seed", "ticks", "world",
                                       "schedule", "layers", "channels", "agents", "events",
                                       "stats", "output", NULL};

static bool parse_world(sw__pctx *p, const cJSON *root) {
    static const char *const keys[] = {"width", "height", "topology", "space_cell", "watchdog",
                                       "mailbox_capacity", NULL};
    sw_scenario *sc = p->sc;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "world");
    if (!v) return sw__scn_fail(p, "$", "missing required key \"world\" (e.g. \"world\": {\"width\": 50, \"height\": 50})");
    const char *path = "$.world";
    if (!sw__scn_check_object(p, path, v, keys)) return false;
    double w, h, sc_cell, wd, mb;
    if (!sw__scn_get_number(p, path, v, "width", true, true, 1, 1 << 20, 0, &w) ||
        !sw__scn_get_number(p, path, v, "height", true, true, 1, 1 << 20, 0, &h))
        return false;
    if (w * h > (double)SW__MAX_CELLS)
        return sw__scn_fail(p, path, "a %.0fx%.0f world has %.0f cells, too many to fit in memory (at most %llu)",
                    w, h, w * h, (unsigned long long)SW__MAX_CELLS);
    const cJSON *topo = cJSON_GetObjectItemCaseSensitive(v, "topology");
    sc->world.topology = SW_TOPO_BOUNDED;
    if (topo) {
        if (!cJSON_IsString(topo) ||
            (strcmp(topo->valuestring, "torus") != 0 && strcmp(topo->valuestring, "bounded") != 0)) {
            if (cJSON_IsString(topo))
                return sw__scn_fail(p, "$.world.topology", "unknown topology \"%.64s\" (valid: \"bounded\", \"torus\")",
                            topo->valuestring);
            return sw__scn_fail(p, "$.world.topology", "expected \"bounded\" or \"torus\", got %s", sw__scn_type_desc(topo));
        }
        if (strcmp(topo->valuestring, "torus") == 0) sc->world.topology = SW_TOPO_TORUS;
    }
    if (!sw__scn_get_number(p, path, v, "space_cell", false, false, 1e-3, 1e9, 1.0, &sc_cell) ||
        !sw__scn_get_number(p, path, v, "watchdog", false, true, 1, UINT32_MAX, 1000000, &wd) ||
        !sw__scn_get_number(p, path, v, "mailbox_capacity", false, true, 1, 1 << 20, 64, &mb))
        return false;
    if (ceil(w / sc_cell) * ceil(h / sc_cell) > (double)(1 << 26))
        return sw__scn_fail(p, "$.world.space_cell", "%g is too small for a %.0fx%.0f world: it would make %.0f buckets "
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

static bool parse_params(sw__pctx *p, const char *path, const cJSON *v, const sw_kind *k,
                         unsigned char *frame) {
    const char *names[64];
    size_t n = 0;
    for (const sw_field *f = k->fields; f && f->name; f++)
        if (f->param && n < 64) names[n++] = f->name;
    if (!cJSON_IsObject(v)) return sw__scn_fail(p, path, "expected an object of parameters, got %s", sw__scn_type_desc(v));
    for (const cJSON *c = v->child; c; c = c->next) {
        char sub[SW__PATH_MAX];
        sw__scn_subpath(sub, path, c->string);
        for (const cJSON *d = v->child; d != c; d = d->next)
            if (strcmp(d->string, c->string) == 0)
                return sw__scn_fail(p, path, "key \"%.64s\" appears twice", c->string);
        const sw_field *f = sw_fields_find(k->fields, c->string);
        char list[1024];
        sw__scn_join_sorted(names, n, list, sizeof list);
        if (!f || !f->param) {
            const char *near = sw__scn_closest(c->string, names, n);
            if (f)
                return sw__scn_fail(p, path, "\"%.64s\" is internal state of kind \"%s\", not a parameter (parameters: %s)",
                            c->string, k->name, list);
            if (near)
                return sw__scn_fail(p, path, "kind \"%s\" has no parameter \"%.64s\" (did you mean \"%s\"? parameters: %s)",
                            k->name, c->string, near, list);
            return sw__scn_fail(p, path, "kind \"%s\" has no parameter \"%.64s\" (parameters: %s)", k->name,
                        c->string, list);
        }
        double lo, hi, x;
        bool integer;
        if (!field_range(f->type, &lo, &hi, &integer))
            return sw__scn_fail(p, sub, "parameter of type %s cannot be set from a scenario", sw_type_name(f->type));
        if (cJSON_IsBool(c)) {
            if (f->type != SW_T_BOOL)
                return sw__scn_fail(p, sub, "expected a number (parameter type %s), got a boolean", sw_type_name(f->type));
            x = cJSON_IsTrue(c) ? 1 : 0;
        } else if (cJSON_IsNumber(c)) {
            x = c->valuedouble;
            if (!isfinite(x)) return sw__scn_fail(p, sub, "number out of range (must be finite)");
            if (integer && x != floor(x))
                return sw__scn_fail(p, sub, "expected an integer (parameter type %s), got %.17g", sw_type_name(f->type), x);
            if (x < lo || x > hi)
                return sw__scn_fail(p, sub, "%.17g is out of range for a parameter of type %s (valid: %.17g to %.17g)",
                            x, sw_type_name(f->type), lo, hi);
        } else {
            return sw__scn_fail(p, sub, "expected a %s, got %s", f->type == SW_T_BOOL ? "boolean" : "number",
                        sw__scn_type_desc(c));
        }
        sw_field_set_number(f, frame, x);
    }
    return true;
}

static bool parse_color(sw__pctx *p, const char *path, const cJSON *v, uint32_t *out) {
    if (!cJSON_IsString(v)) return sw__scn_fail(p, path, "expected a colour \"#rrggbb\", got %s", sw__scn_type_desc(v));
    const char *s = v->valuestring;
    if (strlen(s) != 7 || s[0] != '#' || strspn(s + 1, "0123456789abcdefABCDEF") != 6)
        return sw__scn_fail(p, path, "invalid colour \"%.64s\" (expected \"#rrggbb\", e.g. \"#ff8800\")", s);
    *out = (uint32_t)strtoul(s + 1, NULL, 16);
    return true;
}

/* The values of "mark", indexed by sw_mark (SW_MARK_DEFAULT is not one). */
static const char *const mark_names[] = {"default", "square", "disc", "arrow", "dot", "none"};
#define NMARKS ((int)(sizeof mark_names / sizeof *mark_names))

const char *sw_mark_name(sw_mark mark) {
    return (int)mark >= 0 && (int)mark < NMARKS ? mark_names[mark] : "default";
}

static bool parse_mark(sw__pctx *p, const char *path, const cJSON *v, sw_mark *out) {
    const char *valid = "valid: \"arrow\", \"disc\", \"dot\", \"none\", \"square\"";
    if (!cJSON_IsString(v)) return sw__scn_fail(p, path, "expected a mark name (a string), got %s (%s)", sw__scn_type_desc(v), valid);
    for (int i = 1; i < NMARKS; i++)
        if (strcmp(v->valuestring, mark_names[i]) == 0) {
            *out = (sw_mark)i;
            return true;
        }
    if (strcmp(v->valuestring, mark_names[0]) == 0)
        return sw__scn_fail(p, path, "unknown mark \"default\" (leave \"mark\" out for the viewer's choice; %s)", valid);
    const char *near = sw__scn_closest(v->valuestring, mark_names + 1, NMARKS - 1);
    return sw__scn_fail(p, path, "unknown mark \"%.64s\" (%s%s%s%s)", v->valuestring, near ? "did you mean \"" : "",
                near ? near : "", near ? "\"? " : "", valid);
}

static const struct { const char *name; sw_place place; bool at; } place_names[] = {
    {"none", SW_PLACE_NONE, false},       {"cell", SW_PLACE_CELL, false},
    {"cell_unique", SW_PLACE_CELL_UNIQUE, false}, {"every_cell", SW_PLACE_EVERY_CELL, false},
    {"point", SW_PLACE_POINT, false},     {"at", SW_PLACE_CELL, true},
};

static bool parse_agent(sw__pctx *p, int index, const cJSON *v, uint64_t *total, uint64_t *unique_cells) {
    static const char *const keys[] = {"kind", "count", "params", "place", "density", "at", "color", "mark",
                                       NULL};
    char path[SW__PATH_MAX], sub[SW__PATH_MAX];
    sw__scn_indexpath(path, "$.agents", index);
    if (!sw__scn_check_object(p, path, v, keys)) return false;
    sw_scenario *sc = p->sc;
    sw__agent_spec *a = &sc->agents[index];
    const cJSON *kv = cJSON_GetObjectItemCaseSensitive(v, "kind");
    if (!kv) return sw__scn_fail(p, path, "missing required key \"kind\"");
    sw__scn_subpath(sub, path, "kind");
    a->kind = get_kind(p, sub, kv);
    if (a->kind < 0) return false;
    const sw_kind *k = sc->kinds[a->kind];
    if (sc->nagent_kinds < sc->nkinds) sc->nagent_kinds = sc->nkinds;

    /* placement */
    a->place = k->place;
    const cJSON *pv = cJSON_GetObjectItemCaseSensitive(v, "place");
    sw__scn_subpath(sub, path, "place");
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
            if (!cJSON_IsString(pv)) return sw__scn_fail(p, sub, "expected a string, got %s", sw__scn_type_desc(pv));
            return sw__scn_fail(p, sub, "unknown placement \"%.64s\" (valid: \"at\", \"cell\", \"cell_unique\", "
                        "\"every_cell\", \"none\", \"point\")", pv->valuestring);
        }
    }
    const cJSON *atv = cJSON_GetObjectItemCaseSensitive(v, "at");
    if (atv && !a->at_cells) {
        if (pv) return sw__scn_fail(p, path, "\"at\" is only valid with \"place\": \"at\"");
        a->at_cells = true; /* "at" alone means place at those cells */
        a->place = SW_PLACE_CELL;
    }
    const cJSON *cv = cJSON_GetObjectItemCaseSensitive(v, "count");
    const cJSON *dv = cJSON_GetObjectItemCaseSensitive(v, "density");
    double ncells = (double)sc->world.width * sc->world.height;
    if (a->at_cells) {
        sw__scn_subpath(sub, path, "at");
        if (!atv) return sw__scn_fail(p, path, "\"place\": \"at\" needs \"at\": a list of [x, y] cells");
        if (dv) return sw__scn_fail(p, path, "\"density\" is only valid with \"place\": \"every_cell\"");
        if (!cJSON_IsArray(atv)) return sw__scn_fail(p, sub, "expected an array of [x, y] cells, got %s", sw__scn_type_desc(atv));
        int n = cJSON_GetArraySize(atv);
        if ((uint64_t)n > SW__MAX_AGENTS) return sw__scn_fail(p, sub, "too many cells");
        a->at = malloc((size_t)(n ? n : 1) * 2 * sizeof *a->at);
        if (!a->at) return oom(p, sub);
        int i = 0;
        for (const cJSON *c = atv->child; c; c = c->next, i++) {
            char cp[SW__PATH_MAX];
            sw__scn_indexpath(cp, sub, i);
            if (!cJSON_IsArray(c) || cJSON_GetArraySize(c) != 2 || !cJSON_IsNumber(c->child) ||
                !cJSON_IsNumber(c->child->next))
                return sw__scn_fail(p, cp, "expected a cell [x, y] (two integers), got %s",
                            cJSON_IsArray(c) ? "an array of another shape" : sw__scn_type_desc(c));
            double x = c->child->valuedouble, y = c->child->next->valuedouble;
            if (!isfinite(x) || !isfinite(y) || x != floor(x) || y != floor(y))
                return sw__scn_fail(p, cp, "cell coordinates must be integers");
            if (x < 0 || y < 0 || x >= sc->world.width || y >= sc->world.height)
                return sw__scn_fail(p, cp, "cell [%.17g, %.17g] is outside the %ux%u world (x from 0 to %u, y from 0 to %u)",
                            x, y, sc->world.width, sc->world.height, sc->world.width - 1, sc->world.height - 1);
            a->at[2 * i] = (int32_t)x;
            a->at[2 * i + 1] = (int32_t)y;
        }
        a->nat = (uint32_t)n;
        a->count = (uint64_t)n;
        if (cv) {
            double c;
            if (!sw__scn_get_number(p, path, v, "count", true, true, 0, SW__MAX_EXACT, 0, &c)) return false;
            if ((uint64_t)c != a->count)
                return sw__scn_fail(p, path, "\"count\" is %.0f but \"at\" lists %d cells (leave \"count\" out)", c, n);
        }
        *unique_cells += a->count;
    } else if (a->place == SW_PLACE_EVERY_CELL) {
        if (cv) return sw__scn_fail(p, path, "\"count\" is not valid with \"place\": \"every_cell\"%s%s%s (use \"density\": "
                            "the chance that each cell gets one, or another \"place\")",
                            pv ? "" : " (kind \"", pv ? "" : k->name, pv ? "" : "\"'s default placement)");
        if (!sw__scn_get_number(p, path, v, "density", false, false, 0, 1, 1.0, &a->density)) return false;
        if (!(a->density > 0)) {
            sw__scn_subpath(sub, path, "density");
            return sw__scn_fail(p, sub, "0 is out of range (valid: more than 0, up to 1)");
        }
        a->count = (uint64_t)ceil(ncells * a->density);
    } else {
        if (dv) return sw__scn_fail(p, path, "\"density\" is only valid with \"place\": \"every_cell\"");
        double c;
        if (!sw__scn_get_number(p, path, v, "count", true, true, 0, (double)SW__MAX_AGENTS, 0, &c)) return false;
        a->count = (uint64_t)c;
        if (a->place == SW_PLACE_CELL_UNIQUE) {
            if ((double)a->count > ncells) {
                sw__scn_subpath(sub, path, "count");
                return sw__scn_fail(p, sub, "%llu agents need distinct cells but the %ux%u world has only %.0f "
                            "(use \"place\": \"cell\" to allow several per cell, or a bigger world)",
                            (unsigned long long)a->count, sc->world.width, sc->world.height, ncells);
            }
            *unique_cells += a->count;
        }
    }
    *total += a->count;
    if (*total > SW__MAX_AGENTS) {
        sw__scn_subpath(sub, path, a->place == SW_PLACE_EVERY_CELL ? "density" : "count");
        return sw__scn_fail(p, sub, "the scenario asks for %llu agents in all, too many to fit in memory (at most %llu)",
                    (unsigned long long)*total, (unsigned long long)SW__MAX_AGENTS);
    }
    if (*unique_cells > ncells)
        return sw__scn_fail(p, path, "the agents placed on distinct cells so far (%llu) outnumber the %.0f cells of the world",
                    (unsigned long long)*unique_cells, ncells);

    /* parameters: defaults first, then the scenario's values */
    a->params = calloc(1, k->frame_size ? k->frame_size : 1);
    if (!a->params) return oom(p, path);
    for (const sw_field *f = k->fields; f && f->name; f++)
        if (f->param) sw_field_set_number(f, a->params, f->def);
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(v, "params");
    sw__scn_subpath(sub, path, "params");
    if (params && !parse_params(p, sub, params, k, a->params)) return false;

    const cJSON *col = cJSON_GetObjectItemCaseSensitive(v, "color");
    if (col) {
        uint32_t rgb = 0;
        sw__scn_subpath(sub, path, "color");
        if (!parse_color(p, sub, col, &rgb)) return false;
        if (sc->has_color[a->kind] && sc->colors[a->kind] != rgb)
            return sw__scn_fail(p, sub, "kind \"%s\" already has another colour (#%06x); give each kind one colour",
                        k->name, sc->colors[a->kind]);
        sc->colors[a->kind] = rgb;
        sc->has_color[a->kind] = true;
    }
    const cJSON *mv = cJSON_GetObjectItemCaseSensitive(v, "mark");
    if (mv) {
        sw_mark mark = SW_MARK_DEFAULT;
        sw__scn_subpath(sub, path, "mark");
        if (!parse_mark(p, sub, mv, &mark)) return false;
        if (sc->marks[a->kind] != SW_MARK_DEFAULT && sc->marks[a->kind] != mark)
            return sw__scn_fail(p, sub, "kind \"%s\" already has another mark (\"%s\"); give each kind one mark",
                        k->name, mark_names[sc->marks[a->kind]]);
        sc->marks[a->kind] = mark;
    }
    return true;
}

/* The optional array root.key, at most `max` entries (`what` names them in
 * the message): *out is NULL and *n 0 when the key is absent. */
static bool get_list(sw__pctx *p, const cJSON *root, const char *key, int max, const char *what,
                     const cJSON **out, int *n) {
    char path[SW__PATH_MAX];
    sw__scn_subpath(path, "$", key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    *out = NULL;
    *n = 0;
    if (!v) return true;
    if (!cJSON_IsArray(v)) return sw__scn_fail(p, path, "expected an array, got %s", sw__scn_type_desc(v));
    int k = cJSON_GetArraySize(v);
    if (k > max) return sw__scn_fail(p, path, "too many %s (%d; at most %d)", what, k, max);
    *out = v;
    *n = k;
    return true;
}

/* The required "name" of the list entry `c` at `path`, a valid name (`loose`
 * as sw__scn_check_name); its own path is left in sub. NULL on failure. */
static const cJSON *entry_name(sw__pctx *p, const char *path, const cJSON *c, bool loose, char *sub) {
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(c, "name");
    sw__scn_subpath(sub, path, "name");
    if (!nm) {
        sw__scn_fail(p, path, "missing required key \"name\"");
        return NULL;
    }
    return sw__scn_check_name(p, sub, nm, loose) ? nm : NULL;
}

static bool parse_agents(sw__pctx *p, const cJSON *root) {
    const cJSON *v;
    int n;
    if (!get_list(p, root, "agents", 4096, "entries", &v, &n)) return false;
    if (!v) return sw__scn_fail(p, "$", "missing required key \"agents\" (a list such as [{\"kind\": \"...\", \"count\": 10}])");
    if (n == 0) return sw__scn_fail(p, "$.agents", "must list at least one kind of agent");
    p->sc->agents = calloc((size_t)n, sizeof *p->sc->agents);
    if (!p->sc->agents) return oom(p, "$.agents");
    p->sc->nagents = n;
    uint64_t total = 0, unique = 0;
    int i = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++)
        if (!parse_agent(p, i, c, &total, &unique)) return false;
    return true;
}

static bool parse_schedule(sw__pctx *p, const cJSON *root) {
    static const char *const keys[] = {"order", "random", NULL};
    sw_scenario *sc = p->sc;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "schedule");
    if (!v) return true;
    if (!sw__scn_check_object(p, "$.schedule", v, keys)) return false;
    const cJSON *order = cJSON_GetObjectItemCaseSensitive(v, "order");
    if (order) {
        if (!cJSON_IsArray(order))
            return sw__scn_fail(p, "$.schedule.order", "expected an array of kind names, got %s", sw__scn_type_desc(order));
        int i = 0;
        for (const cJSON *c = order->child; c; c = c->next, i++) {
            char path[SW__PATH_MAX];
            sw__scn_indexpath(path, "$.schedule.order", i);
            int k = get_kind(p, path, c);
            if (k < 0) return false;
            if (sc->rank[k] >= 0) return sw__scn_fail(p, path, "kind \"%s\" is listed twice", sc->kinds[k]->name);
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
                char path[SW__PATH_MAX];
                sw__scn_indexpath(path, "$.schedule.random", i);
                int k = get_kind(p, path, c);
                if (k < 0) return false;
                if (sc->random[k]) return sw__scn_fail(p, path, "kind \"%s\" is listed twice", sc->kinds[k]->name);
                sc->random[k] = true;
            }
        } else {
            return sw__scn_fail(p, "$.schedule.random", "expected true, false or an array of kind names, got %s",
                        sw__scn_type_desc(rnd));
        }
    }
    return true;
}

static bool parse_layers(sw__pctx *p, const cJSON *root) {
    static const char *const keys[] = {"name", "init", NULL};
    sw_scenario *sc = p->sc;
    const cJSON *v;
    int n;
    if (!get_list(p, root, "layers", 64, "layers", &v, &n)) return false;
    if (!v) return true;
    sc->layers = calloc((size_t)(n ? n : 1), sizeof *sc->layers);
    if (!sc->layers) return oom(p, "$.layers");
    int i = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++) {
        char path[SW__PATH_MAX], sub[SW__PATH_MAX];
        sw__scn_indexpath(path, "$.layers", i);
        if (!sw__scn_check_object(p, path, c, keys)) return false;
        const cJSON *nm = entry_name(p, path, c, false, sub);
        if (!nm) return false;
        for (int j = 0; j < i; j++)
            if (strcmp(sc->layers[j].name, nm->valuestring) == 0)
                return sw__scn_fail(p, sub, "a layer named \"%s\" is already declared", nm->valuestring);
        if (!sw__scn_get_number(p, path, c, "init", false, false, -DBL_MAX, DBL_MAX, 0, &sc->layers[i].init))
            return false;
        sc->layers[i].name = sw__scn_dupstr(nm->valuestring);
        sc->nlayers = i + 1;
        if (!sc->layers[i].name) return oom(p, path);
    }
    return true;
}

static bool parse_channels(sw__pctx *p, const cJSON *root) {
    static const char *const keys[] = {"name", "kind", "capacity", "preference", NULL};
    sw_scenario *sc = p->sc;
    const cJSON *v;
    int n;
    if (!get_list(p, root, "channels", 1024, "channels", &v, &n)) return false;
    if (!v) return true;
    sc->chans = calloc((size_t)(n ? n : 1), sizeof *sc->chans);
    if (!sc->chans) return oom(p, "$.channels");
    int i = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++) {
        char path[SW__PATH_MAX], sub[SW__PATH_MAX];
        sw__scn_indexpath(path, "$.channels", i);
        if (!sw__scn_check_object(p, path, c, keys)) return false;
        const cJSON *nm = entry_name(p, path, c, false, sub);
        if (!nm) return false;
        for (int j = 0; j < i; j++)
            if (strcmp(sc->chans[j].name, nm->valuestring) == 0)
                return sw__scn_fail(p, sub, "a channel named \"%s\" is already declared", nm->valuestring);
        sw_chan_desc d = {.kind = SW_CHAN_EVENT};
        const cJSON *kv = cJSON_GetObjectItemCaseSensitive(c, "kind");
        sw__scn_subpath(sub, path, "kind");
        if (kv) {
            if (!cJSON_IsString(kv)) return sw__scn_fail(p, sub, "expected a string, got %s", sw__scn_type_desc(kv));
            if (strcmp(kv->valuestring, "event") == 0) d.kind = SW_CHAN_EVENT;
            else if (strcmp(kv->valuestring, "rendezvous") == 0) d.kind = SW_CHAN_RENDEZVOUS;
            else if (strcmp(kv->valuestring, "buffered") == 0) d.kind = SW_CHAN_BUFFERED;
            else
                return sw__scn_fail(p, sub, "unknown channel kind \"%.64s\" (valid: \"buffered\", \"event\", \"rendezvous\")",
                            kv->valuestring);
        }
        double cap, pref;
        if (cJSON_GetObjectItemCaseSensitive(c, "capacity") && d.kind != SW_CHAN_BUFFERED)
            return sw__scn_fail(p, path, "\"capacity\" is only valid for a \"buffered\" channel");
        if (cJSON_GetObjectItemCaseSensitive(c, "preference") && d.kind != SW_CHAN_RENDEZVOUS)
            return sw__scn_fail(p, path, "\"preference\" is only valid for a \"rendezvous\" channel");
        if (!sw__scn_get_number(p, path, c, "capacity", false, true, 1, 1 << 20, 16, &cap) ||
            !sw__scn_get_number(p, path, c, "preference", false, true, -1, 1, -1, &pref))
            return false;
        if (d.kind == SW_CHAN_BUFFERED) d.capacity = (uint32_t)cap;
        if (d.kind == SW_CHAN_RENDEZVOUS) {
            d.preference = (int)pref;
            d.explicit_neither = pref == 0;
        }
        sc->chans[i].desc = d;
        sc->chans[i].name = sw__scn_dupstr(nm->valuestring);
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

static bool parse_events(sw__pctx *p, const cJSON *root) {
    static const char *const keys[] = {"tick", "channel", "message", NULL};
    static const char *const msg_keys[] = {"tag", "i", "x", "y", NULL};
    sw_scenario *sc = p->sc;
    const cJSON *v;
    int n;
    if (!get_list(p, root, "events", 1000000, "events", &v, &n)) return false;
    if (!v) return true;
    sc->events = calloc((size_t)(n ? n : 1), sizeof *sc->events);
    if (!sc->events) return oom(p, "$.events");
    int i = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++) {
        char path[SW__PATH_MAX], sub[SW__PATH_MAX];
        sw__scn_indexpath(path, "$.events", i);
        if (!sw__scn_check_object(p, path, c, keys)) return false;
        sw__event_spec *e = &sc->events[i];
        double tick;
        if (!sw__scn_get_number(p, path, c, "tick", true, true, 1, SW__MAX_EXACT, 0, &tick)) return false;
        e->tick = (sw_tick)tick;
        const cJSON *ch = cJSON_GetObjectItemCaseSensitive(c, "channel");
        sw__scn_subpath(sub, path, "channel");
        if (!ch) return sw__scn_fail(p, path, "missing required key \"channel\"");
        if (!cJSON_IsString(ch)) return sw__scn_fail(p, sub, "expected a channel name, got %s", sw__scn_type_desc(ch));
        e->chan = -1;
        const char *names[1024];
        for (int j = 0; j < sc->nchans; j++) {
            names[j] = sc->chans[j].name;
            if (strcmp(sc->chans[j].name, ch->valuestring) == 0) e->chan = j;
        }
        if (e->chan < 0) {
            char list[1024];
            sw__scn_join_sorted(names, (size_t)sc->nchans, list, sizeof list);
            const char *near = sw__scn_closest(ch->valuestring, names, (size_t)sc->nchans);
            if (near)
                return sw__scn_fail(p, sub, "no channel named \"%.64s\" is declared in \"channels\" (did you mean \"%s\"? "
                            "declared: %s)", ch->valuestring, near, list);
            return sw__scn_fail(p, sub, "no channel named \"%.64s\" is declared in \"channels\" (declared: %s)",
                        ch->valuestring, list);
        }
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(c, "message");
        sw__scn_subpath(sub, path, "message");
        double tag = 0, iv = 0, x = 0, y = 0;
        if (m && (!sw__scn_check_object(p, sub, m, msg_keys) ||
                  !sw__scn_get_number(p, sub, m, "tag", false, true, INT32_MIN, INT32_MAX, 0, &tag) ||
                  !sw__scn_get_number(p, sub, m, "i", false, true, INT32_MIN, INT32_MAX, 0, &iv) ||
                  !sw__scn_get_number(p, sub, m, "x", false, false, -DBL_MAX, DBL_MAX, 0, &x) ||
                  !sw__scn_get_number(p, sub, m, "y", false, false, -DBL_MAX, DBL_MAX, 0, &y)))
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

static bool parse_stat(sw__pctx *p, int i, const cJSON *c) {
    static const char *const keys[] = {"name", "kind", "layer", "field", "op", "equals", NULL};
    sw_scenario *sc = p->sc;
    sw__stat_spec *st = &sc->stats[i];
    char path[SW__PATH_MAX], sub[SW__PATH_MAX];
    sw__scn_indexpath(path, "$.stats", i);
    st->kind = st->layer = -1;
    if (!sw__scn_check_object(p, path, c, keys)) return false;
    const cJSON *nm = entry_name(p, path, c, true, sub);
    if (!nm) return false;
    if (strcmp(nm->valuestring, "tick") == 0)
        return sw__scn_fail(p, sub, "\"tick\" is the name of the first column; choose another name");
    for (int j = 0; j < i; j++)
        if (strcmp(sc->stats[j].name, nm->valuestring) == 0)
            return sw__scn_fail(p, sub, "a statistic named \"%s\" is already declared", nm->valuestring);
    for (int j = 0; j < sc->nagent_kinds; j++)
        if (strcmp(sc->kinds[j]->name, nm->valuestring) == 0)
            return sw__scn_fail(p, sub, "\"%s\" is already the column counting that kind's agents; choose another name",
                        nm->valuestring);
    st->name = sw__scn_dupstr(nm->valuestring);
    if (!st->name) return oom(p, path);

    const cJSON *ov = cJSON_GetObjectItemCaseSensitive(c, "op");
    sw__scn_subpath(sub, path, "op");
    if (!ov) return sw__scn_fail(p, path, "missing required key \"op\" (valid: \"count\", \"max\", \"mean\", \"min\", \"sum\")");
    if (!cJSON_IsString(ov)) return sw__scn_fail(p, sub, "expected a string, got %s", sw__scn_type_desc(ov));
    int op = -1;
    for (int j = 0; j < 5; j++)
        if (strcmp(ov->valuestring, op_names[j]) == 0) op = j;
    if (op < 0) {
        const char *near = sw__scn_closest(ov->valuestring, op_names, 5);
        return sw__scn_fail(p, sub, "unknown operation \"%.64s\" (%s%s%svalid: \"count\", \"max\", \"mean\", \"min\", \"sum\")",
                    ov->valuestring, near ? "did you mean \"" : "", near ? near : "", near ? "\"? " : "");
    }
    st->op = (sw__stat_op)op;

    const cJSON *kv = cJSON_GetObjectItemCaseSensitive(c, "kind");
    const cJSON *lv = cJSON_GetObjectItemCaseSensitive(c, "layer");
    const cJSON *fv = cJSON_GetObjectItemCaseSensitive(c, "field");
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(c, "equals");
    if ((kv != NULL) == (lv != NULL))
        return sw__scn_fail(p, path, "give exactly one of \"kind\" (a statistic over agents) or \"layer\" (over a layer's cells)");
    if (ev && st->op != SW__OP_COUNT) return sw__scn_fail(p, path, "\"equals\" is only valid with \"op\": \"count\"");
    if (lv) {
        sw__scn_subpath(sub, path, "layer");
        if (fv) return sw__scn_fail(p, path, "\"field\" is not valid with \"layer\" (a layer has one value per cell)");
        if (ev) return sw__scn_fail(p, path, "\"equals\" is not valid with \"layer\"");
        if (st->op == SW__OP_COUNT)
            return sw__scn_fail(p, sub, "\"op\": \"count\" is not valid for a layer (valid: \"max\", \"mean\", \"min\", \"sum\")");
        if (!cJSON_IsString(lv)) return sw__scn_fail(p, sub, "expected a layer name, got %s", sw__scn_type_desc(lv));
        const char *names[64];
        for (int j = 0; j < sc->nlayers; j++) {
            names[j] = sc->layers[j].name;
            if (strcmp(names[j], lv->valuestring) == 0) st->layer = j;
        }
        if (st->layer < 0) {
            char list[1024];
            sw__scn_join_sorted(names, (size_t)sc->nlayers, list, sizeof list);
            return sw__scn_fail(p, sub, "no layer named \"%.64s\" is declared in \"layers\" (declared: %s)",
                        lv->valuestring, list);
        }
        return true;
    }
    sw__scn_subpath(sub, path, "kind");
    st->kind = get_kind(p, sub, kv);
    if (st->kind < 0) return false;
    const sw_kind *k = sc->kinds[st->kind];
    if (!fv) {
        if (st->op != SW__OP_COUNT)
            return sw__scn_fail(p, path, "missing required key \"field\" (which of kind \"%s\"'s fields to take the %s of)",
                        k->name, op_names[op]);
        if (ev) return sw__scn_fail(p, path, "\"equals\" needs a \"field\" to compare");
        return true;
    }
    sw__scn_subpath(sub, path, "field");
    if (!cJSON_IsString(fv)) return sw__scn_fail(p, sub, "expected a field name, got %s", sw__scn_type_desc(fv));
    const char *names[64];
    size_t n = 0;
    double lo, hi;
    bool integer;
    for (const sw_field *f = k->fields; f && f->name && n < 64; f++)
        if (field_range(f->type, &lo, &hi, &integer)) names[n++] = f->name;
    st->field = sw_fields_find(k->fields, fv->valuestring);
    if (!st->field || !field_range(st->field->type, &lo, &hi, &integer)) {
        char list[1024];
        sw__scn_join_sorted(names, n, list, sizeof list);
        const char *near = sw__scn_closest(fv->valuestring, names, n);
        return sw__scn_fail(p, sub, "kind \"%s\" has no numeric field \"%.64s\" (%s%s%sfields: %s)", k->name,
                    fv->valuestring, near ? "did you mean \"" : "", near ? near : "", near ? "\"? " : "", list);
    }
    if (ev) {
        st->has_equals = true;
        if (!sw__scn_get_number(p, path, c, "equals", true, false, -DBL_MAX, DBL_MAX, 0, &st->equals)) return false;
    }
    return true;
}

static bool parse_stats(sw__pctx *p, const cJSON *root) {
    sw_scenario *sc = p->sc;
    const cJSON *v;
    int n;
    if (!get_list(p, root, "stats", 256, "statistics", &v, &n)) return false;
    if (!v) return true;
    sc->stats = calloc((size_t)(n ? n : 1), sizeof *sc->stats);
    if (!sc->stats) return oom(p, "$.stats");
    int i = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++) {
        sc->nstats = i + 1;
        if (!parse_stat(p, i, c)) return false;
    }
    return true;
}

static bool parse_output(sw__pctx *p, const cJSON *root) {
    static const char *const keys[] = {"snapshot_every", NULL};
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "output");
    if (!v) return true;
    if (!sw__scn_check_object(p, "$.output", v, keys)) return false;
    double every;
    if (!sw__scn_get_number(p, "$.output", v, "snapshot_every", false, true, 0, SW__MAX_EXACT, 0, &every)) return false;
    p->sc->snapshot_every = (sw_tick)every;
    return true;
}

bool sw__scn_parse_root(sw__pctx *p, const cJSON *root) {
    sw_scenario *sc = p->sc;
    if (!sw__scn_check_object(p, "$", root, top_keys)) return false;
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!fmt) return sw__scn_fail(p, "$", "missing required key \"format\" (add \"format\": 1)");
    if (!cJSON_IsNumber(fmt) || fmt->valuedouble != 1)
        return sw__scn_fail(p, "$.format", "unsupported format %s (this version of Swarmlet reads \"format\": 1)",
                    cJSON_IsNumber(fmt) ? "number" : sw__scn_type_desc(fmt));
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(root, "name");
    if (!nm) return sw__scn_fail(p, "$", "missing required key \"name\" (it names the output directory, e.g. \"wolf_sheep\")");
    if (!sw__scn_check_name(p, "$.name", nm, false)) return false;
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(root, "description");
    if (!desc) return sw__scn_fail(p, "$", "missing required key \"description\" (a sentence or two saying what the scenario shows)");
    if (!cJSON_IsString(desc)) return sw__scn_fail(p, "$.description", "expected a string, got %s", sw__scn_type_desc(desc));
    if (!desc->valuestring[0]) return sw__scn_fail(p, "$.description", "must not be empty");
    sc->name = sw__scn_dupstr(nm->valuestring);
    sc->description = sw__scn_dupstr(desc->valuestring);
    if (!sc->name || !sc->description) return oom(p, "$");
    double seed, ticks;
    if (!sw__scn_get_number(p, "$", root, "seed", false, true, 0, SW__MAX_EXACT, 42, &seed) ||
        !sw__scn_get_number(p, "$", root, "ticks", false, true, 0, SW__MAX_EXACT, 100, &ticks))
        return false;
    sc->seed = (uint64_t)seed;
    sc->ticks = (sw_tick)ticks;
    sc->world.seed = sc->seed;
    return parse_world(p, root) && parse_agents(p, root) && parse_schedule(p, root) &&
           parse_layers(p, root) && parse_channels(p, root) && parse_events(p, root) &&
           parse_stats(p, root) && parse_output(p, root);
}
