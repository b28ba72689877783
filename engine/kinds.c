/* kinds.c - the registry of agent kinds and resumable functions, by name.
 *
 * Snapshots name functions and resume points, never addresses, so every
 * resumable function a tasklet can be suspended in is registered here under
 * a stable name, with the resume-point names it declares in SW_BEGIN (found
 * by calling it with a view whose resume point none declares: SW_END's
 * `default` then returns its names, see g_describing). A
 * kind's root function is registered under the kind's name. A handful of
 * kinds and functions per simulation: linear searches are fine. */
#include "sched_int.h"

#include <string.h>

static _Thread_local const char *const *g_points;
static _Thread_local int g_npoints;

/* The view that asks a function for its resume points: its resume point is
 * none that SW_BEGIN declares (at most SW__EACH's 24), so the function's
 * switch goes to SW_END's `default`, sw__bad_pc, which answers with
 * sw__describe. */
static _Thread_local sw__frame g_describing_frame;
static _Thread_local struct sw__task g_describing_task;
static _Thread_local sw_tasklet g_describing;

bool sw__describing(const sw_tasklet *t) { return t == &g_describing; }

sw_step sw__describe(const char *const *names, int count) {
    g_points = names;
    g_npoints = count;
    return SW_STEP_EXIT;
}

const char *const *sw_run_points(sw_run_fn run, int *count) {
    g_points = NULL;
    g_npoints = 0;
    g_describing_frame.pc = UINT16_MAX; /* set each time: a function without SW_BEGIN may change it */
    g_describing_task.top = &g_describing_frame;
    g_describing.task = &g_describing_task;
    if (run) run(&g_describing, NULL);
    if (count) *count = g_npoints;
    return g_points;
}

static int add_func_entry(sw_sched *s, const sw_func *fn, const sw_kind *kind) {
    for (int i = 0; i < s->nfuncs; i++) {
        if (strcmp(s->funcs[i].fn->name, fn->name) == 0) {
            sw__errf(s, "a resumable function named \"%s\" is already registered", fn->name);
            return SW_E_INVALID;
        }
    }
    if (s->nfuncs >= UINT16_MAX) {
        sw__errf(s, "too many resumable functions");
        return SW_E_FULL;
    }
    int npoints = 0;
    const char *const *points = sw_run_points(fn->run, &npoints);
    if (!points || npoints < 1) {
        sw__errf(s, "resumable function \"%s\" does not begin with SW_BEGIN", fn->name);
        return SW_E_INVALID;
    }
    if (s->nfuncs == s->funccap) {
        int cap = s->funccap ? s->funccap * 2 : 16;
        sw__funcent *f = sw__alloc(s, s->funcs, (size_t)cap * sizeof *f);
        if (!f) {
            sw__errf(s, "out of memory registering \"%s\"", fn->name);
            return SW_E_NOMEM;
        }
        s->funcs = f;
        s->funccap = cap;
        for (int i = 0; i < s->nfuncs; i++)
            if (s->funcs[i].kind) s->funcs[i].fn = &s->funcs[i].own;
    }
    sw__funcent *e = &s->funcs[s->nfuncs];
    memset(e, 0, sizeof *e);
    if (kind) {
        e->own = (sw_func){kind->name, kind->run, kind->frame_size, kind->fields};
        e->fn = &e->own;
        e->kind = kind;
    } else {
        e->fn = fn;
    }
    e->run = e->fn->run;
    e->frame_size = e->fn->frame_size;
    e->points = points;
    e->npoints = npoints;
    return s->nfuncs++;
}

int sw__func_index(sw_sched *s, const sw_func *fn) {
    for (int i = 0; i < s->nfuncs; i++)
        if (s->funcs[i].fn == fn) return i;
    return sw_sched_add_func(s, fn);
}

int sw_sched_add_func(sw_sched *s, const sw_func *fn) {
    if (!fn || !fn->name || !fn->run) return SW_E_INVALID;
    for (int i = 0; i < s->nfuncs; i++)
        if (s->funcs[i].fn == fn) return i;
    return add_func_entry(s, fn, NULL);
}

int sw_sched_add_kind(sw_sched *s, const sw_kind *kind) {
    if (!kind || !kind->name || !kind->run) return SW_E_INVALID;
    /* every spawn comes through here: the pointers first, names only for a
       descriptor not seen before */
    for (int i = 0; i < s->nkinds; i++)
        if (s->kinds[i].kind == kind) return i;
    for (int i = 0; i < s->nkinds; i++) {
        if (strcmp(s->kinds[i].kind->name, kind->name) == 0) {
            sw__errf(s, "an agent kind named \"%s\" is already registered", kind->name);
            return SW_E_INVALID;
        }
    }
    if (s->nkinds >= UINT16_MAX) return SW_E_FULL;
    sw_func tmp = {kind->name, kind->run, kind->frame_size, kind->fields};
    if (s->nkinds == s->kindcap) {
        int cap = s->kindcap ? s->kindcap * 2 : 16;
        sw__kindent *k = sw__alloc(s, s->kinds, (size_t)cap * sizeof *k);
        if (!k) {
            sw__errf(s, "out of memory registering kind \"%s\"", kind->name);
            return SW_E_NOMEM;
        }
        s->kinds = k;
        s->kindcap = cap;
    }
    int fi = add_func_entry(s, &tmp, kind);
    if (fi < 0) return fi;
    s->kinds[s->nkinds] = (sw__kindent){.kind = kind, .func = fi};
    return s->nkinds++;
}

const sw_kind *sw_sched_find_kind(const sw_sched *s, const char *name) {
    for (int i = 0; i < s->nkinds; i++)
        if (strcmp(s->kinds[i].kind->name, name) == 0) return s->kinds[i].kind;
    return NULL;
}

const sw_func *sw_sched_find_func(const sw_sched *s, const char *name) {
    for (int i = 0; i < s->nfuncs; i++)
        if (strcmp(s->funcs[i].fn->name, name) == 0) return s->funcs[i].fn;
    return NULL;
}

int sw_sched_kind_index(const sw_sched *s, const sw_kind *kind) {
    for (int i = 0; i < s->nkinds; i++)
        if (s->kinds[i].kind == kind) return i;
    return SW_E_NOTFOUND;
}

int sw_sched_kind_count(const sw_sched *s) { return s->nkinds; }
const sw_kind *sw_sched_kind_at(const sw_sched *s, int i) {
    return i >= 0 && i < s->nkinds ? s->kinds[i].kind : NULL;
}
int sw_sched_func_count(const sw_sched *s) { return s->nfuncs; }
const sw_func *sw_sched_func_at(const sw_sched *s, int i) {
    return i >= 0 && i < s->nfuncs ? s->funcs[i].fn : NULL;
}
const char *const *sw_sched_func_points(const sw_sched *s, int i, int *count) {
    if (i < 0 || i >= s->nfuncs) return NULL;
    if (count) *count = s->funcs[i].npoints;
    return s->funcs[i].points;
}

int sw_sched_set_kind_rank(sw_sched *s, const sw_kind *kind, int rank) {
    int k = sw_sched_add_kind(s, kind);
    if (k < 0) return k;
    s->kinds[k].rank = rank;
    s->ordered = true;
    return SW_OK;
}

int sw_sched_set_kind_random(sw_sched *s, const sw_kind *kind, bool random) {
    int k = sw_sched_add_kind(s, kind);
    if (k < 0) return k;
    s->kinds[k].random = random;
    s->ordered = true;
    return SW_OK;
}
