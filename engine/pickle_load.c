/* pickle_load.c - unpickling: a schema, a state and agent records back into
 * a running scheduler.
 *
 * Loading never trusts the bytes. Every count is bounded by the bytes left
 * before anything is allocated, every index and handle is checked against the
 * table it points into, and the cross-references are checked as a whole in
 * sw_unpickler_finish: each slot is exactly one of a tasklet or a free slot;
 * each runnable tasklet is in the batch once; each sleeper is in exactly one
 * timer with its own wake tick; each blocked tasklet is in exactly one wait
 * queue, the one its handle names, and the channel's balance matches its
 * queue. A pickle that passes is a scheduler that sw_sched_step can run.
 *
 * The schema is mapped onto the running code by name. A function whose
 * layout is unchanged (same frame size, same fields at the same offsets and
 * types) has its frames copied as they are; otherwise field by field: fields
 * the code added take their defaults, fields it dropped are dropped, and a
 * field whose type changed is an error naming it. A resume point the code no
 * longer has is an error only when some tasklet is suspended at it. */
#include "pickle_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct copy_op {
    uint32_t src, dst, size;
} copy_op;

typedef struct plan {
    int target;          /* target function index, or -1: missing in the code */
    bool raw;            /* same layout: copy the frame bytes as they are */
    uint32_t ncopy;
    copy_op *copy;
    int32_t *field_dst;  /* snapshot field -> target offset, or -1 if dropped */
    int32_t *pc_map;     /* snapshot resume point -> target one, or -1 */
} plan;

typedef struct tslot {
    uint32_t slot;
    uint64_t wake;
} tslot;

struct sw_unpickler {
    sw_sched *s;
    sw_pickle_schema *sc;
    plan *plans;
    int *kind_map;
    bool finished;
    char err[768];

    uint32_t ntasks;
    uint8_t *mark;       /* per slot: bit 1 tasklet, 2 free, 4 queued/timed, 8 in batch */
    uint64_t nagents, got;

    uint32_t nfree, *free_slot, *free_gen;
    uint32_t nready, *ready;
    uint32_t nwheel, *wheel_slot;
    uint64_t *wheel_wake;
    uint32_t novf;
    tslot *ovf;
    uint32_t *wait_off;  /* per channel: start of its waiters in `waiters` */
    uint32_t nwaiters, *waiters;
    uint32_t nchanfree, *chanfree;
    int64_t *rank;
    uint8_t *random;
    uint32_t nkind_settings;

    uint8_t *extra;        /* a copy of the sections after SCHD */
    size_t extra_len;
};

static void failf(sw_unpickler *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void failf(sw_unpickler *u, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(u->err, sizeof u->err, fmt, ap);
    va_end(ap);
}

const char *sw_unpickler_errmsg(const sw_unpickler *u) { return u ? u->err : "no unpickler"; }

/* Discard everything dynamic in `s`, keeping registry, hooks and context. */
static void clear_dynamic(sw_sched *s) {
    sw__frames_free_all(s);
    s->slab_cur = NULL;
    s->slab_left = 0;
    s->frames = 0;
    s->cascade_retry = false;
    sw__chans_free_all(s);
    s->chan_free = SW__NIL;
    s->chans_live = 0;
    for (uint32_t i = 0; i < SW__WHEEL; i++) s->wheel[i].n = 0;
    s->novf = 0;
    s->armed = 0;
    s->ready.n = 0;
    s->ready_pos = 0;
    s->ready_lazy = false;
    s->front = s->back_head = s->back_tail = SW__NIL;
    s->ntasks = 0;
    s->free_head = SW__NIL;
    s->live = 0;
    for (int i = 0; i < s->nkinds; i++) s->kinds[i].live = 0;
    s->blocked_hard = 0;
    s->hold = 0;
    s->error = SW_OK;
}

/* ---- mapping the schema onto the code ------------------------------------------- */

static const sw_kind *env_kind(const sw_pickle_env *env, const char *name) {
    for (const sw_kind *const *k = env ? env->kinds : NULL; k && *k; k++)
        if ((*k)->name && strcmp((*k)->name, name) == 0) return *k;
    return NULL;
}

static const sw_func *env_func(const sw_pickle_env *env, const char *name) {
    for (const sw_func *const *f = env ? env->funcs : NULL; f && *f; f++)
        if ((*f)->name && strcmp((*f)->name, name) == 0) return *f;
    return NULL;
}

static int find_func_index(const sw_sched *s, const char *name) {
    for (int i = 0; i < s->nfuncs; i++)
        if (strcmp(s->funcs[i].fn->name, name) == 0) return i;
    return -1;
}

static bool make_plan(sw_unpickler *u, uint32_t fi) {
    const sw__pfunc *pf = &u->sc->funcs[fi];
    plan *p = &u->plans[fi];
    sw_sched *s = u->s;
    if (p->target < 0) return true;
    const sw__funcent *e = &s->funcs[p->target];
    const sw_func *fn = e->fn;
    p->pc_map = malloc(pf->npoints * sizeof *p->pc_map);
    p->field_dst = malloc((pf->nfields ? pf->nfields : 1) * sizeof *p->field_dst);
    p->copy = malloc((pf->nfields ? pf->nfields : 1) * sizeof *p->copy);
    if (!p->pc_map || !p->field_dst || !p->copy) {
        failf(u, "out of memory");
        return false;
    }
    for (uint32_t i = 0; i < pf->npoints; i++) {
        p->pc_map[i] = -1;
        for (int j = 0; j < e->npoints; j++)
            if (strcmp(e->points[j], pf->points[i]) == 0) p->pc_map[i] = j;
    }
    size_t ntarget = sw_fields_count(fn->fields);
    bool same = pf->frame_size == fn->frame_size && ntarget == pf->nfields;
    for (uint32_t i = 0; i < pf->nfields; i++) {
        const sw__pfield *sf = &pf->fields[i];
        const sw_field *tf = sw_fields_find(fn->fields, sf->name);
        p->field_dst[i] = -1;
        if (!tf) {
            same = false;
            continue;
        }
        if ((uint8_t)tf->type != sf->type) {
            failf(u, "field %s.%s is %s in the snapshot but %s in the code: a changed type "
                     "cannot be converted", pf->name, sf->name, sw_type_name((sw_type)sf->type),
                  sw_type_name(tf->type));
            return false;
        }
        if ((size_t)tf->offset + sw_type_size(tf->type) > fn->frame_size) {
            failf(u, "field %s.%s lies outside its frame in the code", pf->name, sf->name);
            return false;
        }
        same = same && tf->offset == sf->offset;
        p->field_dst[i] = (int32_t)tf->offset;
        p->copy[p->ncopy++] = (copy_op){sf->offset, tf->offset, (uint32_t)sw_type_size(tf->type)};
    }
    p->raw = same;
    return true;
}

static bool map_schema(sw_unpickler *u, const sw_pickle_env *env) {
    sw_sched *s = u->s;
    sw_pickle_schema *sc = u->sc;
    u->kind_map = malloc((sc->nkinds ? sc->nkinds : 1) * sizeof *u->kind_map);
    u->plans = calloc(sc->nfuncs ? sc->nfuncs : 1, sizeof *u->plans);
    if (!u->kind_map || !u->plans) {
        failf(u, "out of memory");
        return false;
    }
    /* kinds first, in the snapshot's order, so that a fresh scheduler gets
       the same indices as the one pickled */
    for (uint32_t i = 0; i < sc->nkinds; i++) {
        const char *name = sc->kinds[i].name;
        const sw_kind *k = sw_sched_find_kind(s, name);
        if (!k) k = env_kind(env, name);
        if (!k) {
            failf(u, "the snapshot has agents of kind \"%s\", which this program does not "
                     "have", name);
            return false;
        }
        int ki = sw_sched_add_kind(s, k);
        if (ki < 0) {
            failf(u, "cannot register kind \"%s\": %s", name, sw_sched_errmsg(s));
            return false;
        }
        u->kind_map[i] = ki;
    }
    for (uint32_t i = 0; i < sc->nfuncs; i++) {
        const sw__pfunc *pf = &sc->funcs[i];
        plan *p = &u->plans[i];
        p->target = -1;
        if (pf->kind >= 0) {
            p->target = s->kinds[u->kind_map[pf->kind]].func;
        } else {
            int ti = find_func_index(s, pf->name);
            if (ti < 0) {
                const sw_func *fn = env_func(env, pf->name);
                if (fn) {
                    ti = sw_sched_add_func(s, fn);
                    if (ti < 0) {
                        failf(u, "cannot register function \"%s\": %s", pf->name, sw_sched_errmsg(s));
                        return false;
                    }
                }
            }
            if (ti >= 0 && s->funcs[ti].kind) {
                failf(u, "\"%s\" is a resumable function in the snapshot but an agent kind in "
                         "the code", pf->name);
                return false;
            }
            p->target = ti; /* -1: an error only if some frame needs it */
        }
        if (!make_plan(u, i)) return false;
    }
    return true;
}

/* ---- the scheduler's state --------------------------------------------------------- */

static bool read_msg(sw__rd *r, sw_msg *m) {
    const uint8_t *q = sw__rd_bytes(r, 32, "queued message");
    if (!q) return false;
    memcpy(&m->tag, q, 4);
    memcpy(&m->i, q + 4, 4);
    memcpy(&m->who, q + 8, 8);
    memcpy(&m->x, q + 16, 8);
    memcpy(&m->y, q + 24, 8);
    return true;
}

/* Allocate `n` u32s, n bounded by the bytes left (each entry takes one). */
static uint32_t *alloc_u32(sw__rd *r, uint64_t n, const char *what) {
    if (r->bad) return NULL;
    if (n > sw__rd_left(r)) {
        sw__rd_fail(r, "%s: count %llu past the end", what, (unsigned long long)n);
        return NULL;
    }
    uint32_t *a = malloc((size_t)(n ? n : 1) * sizeof *a);
    if (!a) sw__rd_fail(r, "out of memory");
    return a;
}

static bool read_sched(sw_unpickler *u, sw__rd *r) {
    sw_sched *s = u->s;
    s->now = sw__rd_u64(r, "tick");
    s->d.seed = sw__rd_u64(r, "seed");
    uint64_t wd = sw__rd_uvmax(r, UINT32_MAX, "watchdog");
    s->d.watchdog = wd ? (uint32_t)wd : 1000000;
    s->d.random_order = sw__rd_u8(r, "random order") != 0;
    s->ordered = sw__rd_u8(r, "ordered") != 0;
    s->cascade_retry = sw__rd_u8(r, "cascade retry") != 0;
    s->hold = sw__rd_sv(r, "hold");
    s->resumes = sw__rd_uv(r, "resumes");
    if (!r->bad && s->now > UINT64_MAX / 2) sw__rd_fail(r, "tick %llu is out of range", (unsigned long long)s->now);
    uint64_t ntasks = sw__rd_uvmax(r, UINT32_MAX - 2, "slot count");
    uint64_t nfree = sw__rd_uv(r, "free slot count");
    if (r->bad) return false;
    /* every slot is a tasklet record or a free-list entry (2+ bytes here) */
    if (nfree > sw__rd_left(r) / 2 || ntasks != nfree + u->nagents) {
        sw__rd_fail(r, "%llu slots, but %llu free and %llu tasklets", (unsigned long long)ntasks,
                    (unsigned long long)nfree, (unsigned long long)u->nagents);
        return false;
    }
    u->ntasks = (uint32_t)ntasks;
    u->mark = calloc(ntasks ? ntasks : 1, 1);
    uint32_t cap = ntasks > 1024 ? (uint32_t)ntasks : 1024;
    struct sw__task *tasks = sw__alloc(s, s->tasks, (size_t)cap * sizeof *tasks);
    if (!u->mark || !tasks) {
        sw__rd_fail(r, "out of memory for %llu slots", (unsigned long long)ntasks);
        return false;
    }
    s->tasks = tasks;
    s->taskcap = cap;
    memset(tasks, 0, (size_t)ntasks * sizeof *tasks);
    s->ntasks = (uint32_t)ntasks;
    u->free_slot = alloc_u32(r, nfree, "free slots");
    u->free_gen = alloc_u32(r, nfree, "free slots");
    if (r->bad) return false;
    u->nfree = (uint32_t)nfree;
    for (uint32_t i = 0; i < u->nfree && !r->bad; i++) {
        u->free_slot[i] = (uint32_t)sw__rd_uvmax(r, ntasks ? ntasks - 1 : 0, "free slot");
        u->free_gen[i] = (uint32_t)sw__rd_uvmax(r, UINT32_MAX, "free slot generation");
        if (!r->bad && (ntasks == 0 || u->free_gen[i] == 0)) sw__rd_fail(r, "bad free slot");
    }
    uint64_t n = sw__rd_uv(r, "batch size");
    u->ready = alloc_u32(r, n, "batch");
    if (r->bad) return false;
    u->nready = (uint32_t)n;
    for (uint32_t i = 0; i < u->nready && !r->bad; i++)
        u->ready[i] = (uint32_t)sw__rd_uvmax(r, ntasks ? ntasks - 1 : 0, "batch slot");
    if (!r->bad && u->nready && !ntasks) sw__rd_fail(r, "a batch without slots");
    /* the wheel: buckets by increasing distance, 1..255 */
    uint64_t nb = sw__rd_uvmax(r, SW__WHEEL - 1, "timer bucket count");
    size_t total = 0;
    const uint8_t *save = r->p;
    uint64_t last = 0;
    for (uint64_t b = 0; b < nb && !r->bad; b++) { /* first pass: count */
        uint64_t d = sw__rd_uvmax(r, SW__WHEEL - 1, "timer distance");
        uint64_t cnt = sw__rd_uv(r, "timer bucket size");
        if (r->bad) break;
        if (d <= last || cnt == 0 || cnt > sw__rd_left(r)) {
            sw__rd_fail(r, "timer buckets out of order or empty");
            break;
        }
        last = d;
        total += (size_t)cnt;
        for (uint64_t i = 0; i < cnt && !r->bad; i++) sw__rd_uv(r, "timer slot");
    }
    if (r->bad) return false;
    r->p = save;
    u->wheel_slot = malloc((total ? total : 1) * sizeof *u->wheel_slot);
    u->wheel_wake = malloc((total ? total : 1) * sizeof *u->wheel_wake);
    if (!u->wheel_slot || !u->wheel_wake) {
        sw__rd_fail(r, "out of memory");
        return false;
    }
    for (uint64_t b = 0; b < nb && !r->bad; b++) {
        uint64_t d = sw__rd_uv(r, "timer distance");
        uint64_t cnt = sw__rd_uv(r, "timer bucket size");
        for (uint64_t i = 0; i < cnt && !r->bad; i++) {
            u->wheel_wake[u->nwheel] = s->now + d;
            u->wheel_slot[u->nwheel++] = (uint32_t)sw__rd_uvmax(r, ntasks ? ntasks - 1 : 0, "timer slot");
        }
    }
    n = sw__rd_uv(r, "overflow timer count");
    if (!r->bad && n > sw__rd_left(r) / 2) sw__rd_fail(r, "overflow timer count past the end");
    if (r->bad) return false;
    u->ovf = malloc((size_t)(n ? n : 1) * sizeof *u->ovf);
    if (!u->ovf) {
        sw__rd_fail(r, "out of memory");
        return false;
    }
    u->novf = (uint32_t)n;
    /* an overflow timer must still be ahead of the next cascade, or it
       would never fire */
    uint64_t next_cascade = ((s->now >> SW__WHEEL_BITS) + 1) << SW__WHEEL_BITS;
    for (uint32_t i = 0; i < u->novf && !r->bad; i++) {
        uint64_t d = sw__rd_uvmax(r, UINT64_MAX / 4, "overflow timer distance");
        u->ovf[i].wake = s->now + d;
        u->ovf[i].slot = (uint32_t)sw__rd_uvmax(r, ntasks ? ntasks - 1 : 0, "overflow timer slot");
        if (!r->bad && u->ovf[i].wake < next_cascade && !s->cascade_retry)
            sw__rd_fail(r, "overflow timer at tick %llu would never fire", (unsigned long long)u->ovf[i].wake);
    }
    /* channels */
    uint64_t nchans = sw__rd_uvmax(r, UINT32_MAX - 2, "channel count");
    uint64_t chans_live = sw__rd_uv(r, "live channel count");
    if (!r->bad && (nchans > sw__rd_left(r) / 2 || chans_live > nchans))
        sw__rd_fail(r, "channel count past the end");
    if (r->bad) return false;
    if (nchans) {
        s->chans = sw__alloc(s, NULL, (size_t)nchans * sizeof *s->chans);
        u->wait_off = malloc((size_t)(nchans + 1) * sizeof *u->wait_off);
        if (!s->chans || !u->wait_off) {
            sw__rd_fail(r, "out of memory for channels");
            return false;
        }
        memset(s->chans, 0, (size_t)nchans * sizeof *s->chans);
        s->chancap = s->nchans = (uint32_t)nchans;
    }
    /* waiters: gather into one array; a first guess sized by bytes left */
    uint32_t wcap = 64;
    u->waiters = malloc(wcap * sizeof *u->waiters);
    if (!u->waiters) {
        sw__rd_fail(r, "out of memory");
        return false;
    }
    uint64_t buffered = 0, live = 0;
    for (uint32_t i = 0; i < s->nchans && !r->bad; i++) {
        sw__chan *c = &s->chans[i];
        c->head = c->tail = SW__NIL;
        c->next_free = SW__NIL;
        u->wait_off[i] = u->nwaiters;
        c->gen = (uint32_t)sw__rd_uvmax(r, UINT32_MAX, "channel generation");
        uint8_t flags = sw__rd_u8(r, "channel flags");
        if (r->bad) break;
        if (c->gen == 0 || flags > 3 || (!(flags & 1) && flags)) {
            sw__rd_fail(r, "channel %u: bad generation or flags", i);
            break;
        }
        if (!(flags & 1)) continue;
        live++;
        c->live = 1;
        c->closed = (flags & 2) != 0;
        c->kind = sw__rd_u8(r, "channel kind");
        int pref = (int)sw__rd_u8(r, "channel preference") - 1;
        int64_t balance = sw__rd_sv(r, "channel balance");
        uint64_t ccap = sw__rd_uvmax(r, SW__PK_MAX_CHANBUF, "channel ccapacity");
        c->key = sw__rd_uv(r, "channel key");
        uint64_t count = sw__rd_uv(r, "queued message count");
        if (r->bad) break;
        if (c->kind > SW_CHAN_EVENT || pref < -1 || pref > 1) {
            sw__rd_fail(r, "channel %u: bad kind or preference", i);
            break;
        }
        c->pref = (int8_t)pref;
        if ((c->kind == SW_CHAN_BUFFERED) != (ccap > 0) || count > ccap ||
            balance < -(int64_t)UINT32_MAX || balance > UINT32_MAX) {
            sw__rd_fail(r, "channel %u: ccapacity %llu, %llu queued, balance %lld do not fit", i,
                        (unsigned long long)ccap, (unsigned long long)count, (long long)balance);
            break;
        }
        buffered += ccap;
        if (buffered > SW__PK_MAX_CHANBUF || count * 32 > sw__rd_left(r)) {
            sw__rd_fail(r, "channel %u: buffers past the limit or the end", i);
            break;
        }
        c->balance = (int32_t)balance;
        c->cap = (uint32_t)ccap;
        c->count = (uint32_t)count;
        if (ccap) {
            c->buf = sw__alloc(s, NULL, (size_t)ccap * sizeof *c->buf);
            if (!c->buf) {
                sw__rd_fail(r, "out of memory for channel buffers");
                break;
            }
            memset(c->buf, 0, (size_t)ccap * sizeof *c->buf);
        }
        for (uint32_t m = 0; m < c->count && !r->bad; m++) read_msg(r, &c->buf[m]);
        uint64_t nw = sw__rd_uv(r, "waiter count");
        if (!r->bad && nw > sw__rd_left(r)) sw__rd_fail(r, "waiter count past the end");
        for (uint64_t w = 0; w < nw && !r->bad; w++) {
            if (u->nwaiters == wcap) {
                uint32_t *bigger = realloc(u->waiters, 2 * (size_t)wcap * sizeof *bigger);
                if (!bigger) {
                    sw__rd_fail(r, "out of memory");
                    break;
                }
                u->waiters = bigger;
                wcap *= 2;
            }
            u->waiters[u->nwaiters++] = (uint32_t)sw__rd_uvmax(r, ntasks ? ntasks - 1 : 0, "waiter slot");
        }
    }
    if (r->bad) return false;
    if (u->wait_off) u->wait_off[s->nchans] = u->nwaiters;
    if (live != chans_live) {
        sw__rd_fail(r, "%llu live channels, the header says %llu", (unsigned long long)live,
                    (unsigned long long)chans_live);
        return false;
    }
    s->chans_live = (uint32_t)live;
    n = sw__rd_uvmax(r, nchans - live, "free channel count");
    u->chanfree = alloc_u32(r, n, "free channels");
    if (r->bad) return false;
    u->nchanfree = (uint32_t)n;
    for (uint32_t i = 0; i < u->nchanfree && !r->bad; i++)
        u->chanfree[i] = (uint32_t)sw__rd_uvmax(r, nchans ? nchans - 1 : 0, "free channel");
    if (!r->bad && u->nchanfree != nchans - live) sw__rd_fail(r, "the channel free list misses some");
    uint64_t nk = sw__rd_uv(r, "kind count");
    if (!r->bad && nk != u->sc->nkinds) sw__rd_fail(r, "%llu kind settings for %u kinds",
                                                   (unsigned long long)nk, u->sc->nkinds);
    if (r->bad) return false;
    u->rank = malloc((nk ? nk : 1) * sizeof *u->rank);
    u->random = malloc(nk ? nk : 1);
    if (!u->rank || !u->random) {
        sw__rd_fail(r, "out of memory");
        return false;
    }
    u->nkind_settings = (uint32_t)nk;
    for (uint32_t i = 0; i < nk && !r->bad; i++) {
        u->rank[i] = sw__rd_sv(r, "kind rank");
        u->random[i] = sw__rd_u8(r, "kind random flag");
        if (!r->bad && (u->rank[i] < INT32_MIN || u->rank[i] > INT32_MAX || u->random[i] > 1))
            sw__rd_fail(r, "bad kind settings");
    }
    if (!r->bad && r->p != r->end) sw__rd_fail(r, "%zu stray bytes after the scheduler", sw__rd_left(r));
    return !r->bad;
}

sw_unpickler *sw_unpickler_new(sw_sched *target, const sw_pickle_env *env, const void *schema,
                               size_t schema_len, const void *state, size_t state_len,
                               uint64_t nagents, char *err, size_t errlen) {
    sw_unpickler *u = calloc(1, sizeof *u);
    if (!u) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    u->s = target;
    u->nagents = nagents;
    clear_dynamic(target);
    u->sc = sw_pickle_schema_parse(schema, schema_len, u->err, sizeof u->err);
    if (!u->sc || !map_schema(u, env)) goto fail;
    state_len = sw__pk_unseal(state, state_len, "snapshot state", u->err, sizeof u->err);
    if (state_len == SIZE_MAX) goto fail;
    sw__rd r;
    sw__rd_init(&r, state, state_len, "snapshot state", u->err, sizeof u->err);
    const uint8_t *magic = sw__rd_bytes(&r, 4, "magic");
    if (magic && memcmp(magic, "SWST", 4) != 0) sw__rd_fail(&r, "not a Swarmlet state");
    uint64_t fmt = sw__rd_uv(&r, "format");
    if (!r.bad && fmt != SW_PICKLE_FORMAT) sw__rd_fail(&r, "format %llu, expected %d", (unsigned long long)fmt, SW_PICKLE_FORMAT);
    const uint8_t *tag = sw__rd_bytes(&r, 4, "section tag");
    if (tag && memcmp(tag, "SCHD", 4) != 0) sw__rd_fail(&r, "the scheduler section is missing");
    uint64_t n = sw__rd_uv(&r, "section length");
    const uint8_t *body = sw__rd_bytes(&r, (size_t)n, "scheduler section");
    if (r.bad) goto fail;
    /* the extra sections are loaded by sw_unpickler_finish, after the
       caller may have let go of `state`: keep a copy */
    u->extra_len = sw__rd_left(&r);
    u->extra = malloc(u->extra_len ? u->extra_len : 1);
    if (!u->extra) {
        failf(u, "out of memory");
        goto fail;
    }
    memcpy(u->extra, r.p, u->extra_len);
    sw__rd_init(&r, body, (size_t)n, "snapshot scheduler state", u->err, sizeof u->err);
    if (nagents > UINT32_MAX) {
        failf(u, "%llu tasklets is more than a scheduler holds", (unsigned long long)nagents);
        goto fail;
    }
    if (!read_sched(u, &r)) goto fail;
    return u;
fail:
    snprintf(err, errlen, "%s", u->err);
    sw_unpickler_free(u);
    return NULL;
}

/* ---- agents ------------------------------------------------------------------------------ */

static void free_chain(sw_sched *s, sw__frame *f) {
    while (f) {
        sw__frame *p = f->parent;
        sw__frame_free(s, f);
        f = p;
    }
}

static int load_agent(sw_unpickler *u, const void *rec, size_t len);

int sw_unpickler_agent(sw_unpickler *u, const void *rec, size_t len) {
    if (u->got >= u->nagents) {
        failf(u, "more tasklet records than the snapshot declares");
        return SW_E_FORMAT;
    }
    int rc = load_agent(u, rec, len);
    if (rc != SW_OK) { /* say which record, only now: formatting costs */
        char tail[48];
        snprintf(tail, sizeof tail, " (tasklet record %llu)", (unsigned long long)u->got);
        size_t n = strlen(u->err);
        if (n + strlen(tail) < sizeof u->err) memcpy(u->err + n, tail, strlen(tail) + 1);
    }
    return rc;
}

static int load_agent(sw_unpickler *u, const void *rec, size_t len) {
    sw_sched *s = u->s;
    const sw_pickle_schema *sc = u->sc;
    const char *what = "tasklet record";
    len = sw__pk_unseal(rec, len, what, u->err, sizeof u->err);
    if (len == SIZE_MAX) return SW_E_FORMAT;
    sw__rd r;
    sw__rd_init(&r, rec, len, what, u->err, sizeof u->err);
    uint32_t kind = (uint32_t)sw__rd_uv(&r, "kind");
    uint32_t slot = (uint32_t)sw__rd_uvmax(&r, u->ntasks ? u->ntasks - 1 : 0, "slot");
    uint32_t gen = (uint32_t)sw__rd_uvmax(&r, UINT32_MAX, "generation");
    uint8_t state = sw__rd_u8(&r, "state");
    int8_t status = (int8_t)sw__rd_u8(&r, "status");
    uint32_t spin = (uint32_t)sw__rd_uvmax(&r, UINT32_MAX, "spin");
    uint64_t rng = sw__rd_uv(&r, "random counter");
    uint64_t wait = sw__rd_uv(&r, "wait");
    uint32_t depth = (uint32_t)sw__rd_uvmax(&r, SW__PK_MAX_DEPTH, "depth");
    if (r.bad) return SW_E_FORMAT;
    if (kind >= sc->nkinds || u->ntasks == 0 || gen == 0 || (u->mark[slot] & 3)) {
        sw__rd_fail(&r, "bad kind, generation, or a slot used twice (slot %u)", slot);
        return SW_E_FORMAT;
    }
    bool blocked = state == SW_TASK_RECV || state == SW_TASK_SEND;
    if (state != SW_TASK_RUNNABLE && state != SW_TASK_SLEEPING && !blocked && state != SW_TASK_ZOMBIE) {
        sw__rd_fail(&r, "state %u is not one a tasklet has between ticks", state);
        return SW_E_FORMAT;
    }
    if ((state == SW_TASK_ZOMBIE) != (depth == 0)) {
        sw__rd_fail(&r, "%u frames for a tasklet in state %s", depth, sw_task_state_name((sw_task_state)state));
        return SW_E_FORMAT;
    }
    if (state == SW_TASK_SLEEPING ? (wait <= s->now && !s->cascade_retry) : (!blocked && wait != 0)) {
        sw__rd_fail(&r, "wait %llu does not fit state %s", (unsigned long long)wait,
                    sw_task_state_name((sw_task_state)state));
        return SW_E_FORMAT;
    }
    const char *kname = sc->kinds[kind].name;
    sw__frame *top = NULL;
    for (uint32_t d = 0; d < depth; d++) {
        bool is_top = d + 1 == depth;
        uint32_t fi = (uint32_t)sw__rd_uv(&r, "function");
        uint32_t pc = (uint32_t)sw__rd_uv(&r, "resume point");
        uint64_t ref = sw__rd_uv(&r, "pending target");
        if (r.bad) goto bad;
        if (fi >= sc->nfuncs || (d == 0 ? fi != sc->kinds[kind].func : sc->funcs[fi].kind >= 0)) {
            sw__rd_fail(&r, "frame %u names function %u, which cannot be there", d, fi);
            goto bad;
        }
        const sw__pfunc *pf = &sc->funcs[fi];
        const plan *p = &u->plans[fi];
        if (pc >= pf->npoints) {
            sw__rd_fail(&r, "resume point %u of %s does not exist", pc, pf->name);
            goto bad;
        }
        const uint8_t *bytes = sw__rd_bytes(&r, pf->frame_size, "frame");
        if (!bytes) goto bad;
        if (p->target < 0) {
            failf(u, "the snapshot has a %s (id %llu) suspended in function \"%s\", which this "
                     "program does not have", kname, (unsigned long long)sw_handle_make(slot, gen), pf->name);
            goto bad;
        }
        if (p->pc_map[pc] < 0) {
            failf(u, "the snapshot has a %s (id %llu) suspended at resume point %s:%s, which "
                     "the code no longer has", kname, (unsigned long long)sw_handle_make(slot, gen),
                  pf->name, pf->points[pc]);
            goto bad;
        }
        const sw_func *tfn = s->funcs[p->target].fn;
        /* the pending target: a message for a blocked top frame, a call
           result below it, nothing on a top frame that is not blocked */
        size_t need = is_top ? sizeof(sw_msg) : sizeof(sw_value);
        uint32_t tref = SW__NO_REF;
        if (ref != 0) {
            if (is_top && !blocked) {
                sw__rd_fail(&r, "a pending target on a tasklet that is not blocked");
                goto bad;
            }
            uint64_t off;
            if (ref & 1) {
                off = ref >> 1;
                if (!p->raw) {
                    failf(u, "the %s (id %llu) waits with its target at byte %llu of %s, which is "
                             "not a declared field and the frame's layout changed", kname,
                          (unsigned long long)sw_handle_make(slot, gen), (unsigned long long)off, pf->name);
                    goto bad;
                }
            } else {
                uint64_t f = ref / 2 - 1;
                if (f >= pf->nfields) {
                    sw__rd_fail(&r, "pending target names field %llu of %u", (unsigned long long)f, pf->nfields);
                    goto bad;
                }
                if (sw_type_size((sw_type)pf->fields[f].type) < need) {
                    sw__rd_fail(&r, "pending target %s.%s is too small", pf->name, pf->fields[f].name);
                    goto bad;
                }
                if (p->field_dst[f] < 0) {
                    failf(u, "the %s (id %llu) waits with its target in field %s.%s, which the code "
                             "no longer has", kname, (unsigned long long)sw_handle_make(slot, gen),
                          pf->name, pf->fields[f].name);
                    goto bad;
                }
                off = (uint64_t)p->field_dst[f];
            }
            if (off + need > tfn->frame_size) {
                sw__rd_fail(&r, "pending target outside the frame");
                goto bad;
            }
            tref = (uint32_t)off;
        } else if (is_top && blocked) {
            sw__rd_fail(&r, "a blocked tasklet without a pending target");
            goto bad;
        }
        sw__frame *f = sw__frame_new(s, p->target);
        if (!f) {
            failf(u, "out of memory for frames");
            goto bad;
        }
        char *dst = (char *)(f + 1);
        if (p->raw) {
            memcpy(dst, bytes, pf->frame_size);
        } else {
            if (pf->kind >= 0) { /* fields new to the code take their defaults */
                for (const sw_field *fl = tfn->fields; fl && fl->name; fl++) {
                    bool known = false;
                    for (uint32_t i = 0; i < pf->nfields && !known; i++)
                        known = strcmp(pf->fields[i].name, fl->name) == 0;
                    if (!known && fl->def != 0) sw_field_set_number(fl, dst, fl->def);
                }
            }
            for (uint32_t i = 0; i < p->ncopy; i++)
                memcpy(dst + p->copy[i].dst, bytes + p->copy[i].src, p->copy[i].size);
        }
        f->pc = (uint16_t)p->pc_map[pc];
        f->ref = tref;
        f->parent = top;
        top = f;
    }
    if (r.p != r.end) {
        sw__rd_fail(&r, "%zu stray bytes", sw__rd_left(&r));
        goto bad;
    }
    struct sw__task *k = &s->tasks[slot];
    k->top = top;
    k->rng = rng;
    k->wait = wait;
    k->gen = gen;
    k->next = SW__NIL;
    k->pos = SW__NIL;
    k->spin = spin;
    k->kind = (uint16_t)u->kind_map[kind];
    k->state = state;
    k->status = status;
    u->mark[slot] |= 1;
    u->got++;
    return SW_OK;
bad:
    free_chain(s, top);
    return SW_E_FORMAT;
}

/* ---- putting it together ---------------------------------------------------------------- */

static bool vec_push(sw_sched *s, sw__vec32 *v, uint32_t x) {
    if (v->n == v->cap) {
        uint32_t cap = v->cap ? v->cap * 2 : 64;
        uint32_t *items = sw__alloc(s, v->items, (size_t)cap * sizeof *items);
        if (!items) return false;
        v->items = items;
        v->cap = cap;
    }
    v->items[v->n++] = x;
    return true;
}

static const char *state_of(const sw_sched *s, uint32_t slot) {
    return sw_task_state_name((sw_task_state)s->tasks[slot].state);
}

static int link_all(sw_unpickler *u) {
    sw_sched *s = u->s;
    uint8_t *mark = u->mark;
    if (u->got != u->nagents) {
        failf(u, "the snapshot declares %llu tasklets but holds %llu", (unsigned long long)u->nagents,
              (unsigned long long)u->got);
        return SW_E_FORMAT;
    }
    /* free slots, LIFO order kept: it decides the ids of future spawns */
    uint32_t prev = SW__NIL;
    for (uint32_t i = 0; i < u->nfree; i++) {
        uint32_t slot = u->free_slot[i];
        if (mark[slot] & 3) {
            failf(u, "slot %u is free and taken at once", slot);
            return SW_E_FORMAT;
        }
        mark[slot] |= 2;
        s->tasks[slot].gen = u->free_gen[i];
        s->tasks[slot].state = SW_TASK_FREE;
        s->tasks[slot].next = SW__NIL;
        if (prev == SW__NIL) s->free_head = slot;
        else s->tasks[prev].next = slot;
        prev = slot;
    }
    for (uint32_t i = 0; i < u->ntasks; i++) {
        if (!(mark[i] & 3)) {
            failf(u, "slot %u is neither a tasklet nor free", i);
            return SW_E_FORMAT;
        }
    }
    for (uint32_t i = 0; i < u->nready; i++) {
        uint32_t slot = u->ready[i];
        uint8_t st = s->tasks[slot].state;
        if (!(mark[slot] & 1) || (mark[slot] & 8) || (st != SW_TASK_RUNNABLE && st != SW_TASK_ZOMBIE)) {
            failf(u, "slot %u is in the run batch but is %s", slot, state_of(s, slot));
            return SW_E_FORMAT;
        }
        mark[slot] |= 8;
        /* the back FIFO, as sw__make_runnable leaves it between ticks */
        s->tasks[slot].next = SW__NIL;
        if (s->back_tail == SW__NIL) s->back_head = slot;
        else s->tasks[s->back_tail].next = slot;
        s->back_tail = slot;
    }
    for (uint32_t i = 0; i < u->nwheel + u->novf; i++) {
        bool ovf = i >= u->nwheel;
        uint32_t slot = ovf ? u->ovf[i - u->nwheel].slot : u->wheel_slot[i];
        uint64_t wake = ovf ? u->ovf[i - u->nwheel].wake : u->wheel_wake[i];
        struct sw__task *k = &s->tasks[slot];
        if (!(mark[slot] & 1) || (mark[slot] & 4) || k->state != SW_TASK_SLEEPING || k->wait != wake) {
            failf(u, "slot %u has a timer for tick %llu but is %s", slot, (unsigned long long)wake,
                  state_of(s, slot));
            return SW_E_FORMAT;
        }
        mark[slot] |= 4;
        s->armed++;
        if (!ovf) {
            sw__vec32 *b = &s->wheel[wake & SW__WHEEL_MASK];
            k->pos = b->n;
            if (!vec_push(s, b, slot)) goto oom;
        } else {
            if (s->novf == s->ovfcap) {
                uint32_t ocap = s->ovfcap ? s->ovfcap * 2 : 64;
                while (ocap < u->novf) ocap *= 2;
                sw__ovf *o = sw__alloc(s, s->ovf, (size_t)ocap * sizeof *o);
                if (!o) goto oom;
                s->ovf = o;
                s->ovfcap = ocap;
            }
            k->pos = s->novf | SW__POS_OVF;
            s->ovf[s->novf++] = (sw__ovf){wake, slot};
        }
    }
    for (uint32_t ci = 0; ci < s->nchans; ci++) {
        sw__chan *c = &s->chans[ci];
        sw_chan handle = sw_handle_make(ci, c->gen);
        int64_t senders = 0, receivers = 0;
        for (uint32_t w = u->wait_off[ci]; w < u->wait_off[ci + 1]; w++) {
            uint32_t slot = u->waiters[w];
            struct sw__task *k = &s->tasks[slot];
            bool ok = (mark[slot] & 1) && !(mark[slot] & 4) && k->wait == handle &&
                      (k->state == SW_TASK_RECV || (k->state == SW_TASK_SEND && c->kind != SW_CHAN_EVENT));
            if (!ok || c->closed) {
                failf(u, "slot %u waits on channel %u but is %s", slot, ci, state_of(s, slot));
                return SW_E_FORMAT;
            }
            mark[slot] |= 4;
            if (k->state == SW_TASK_SEND) senders++; else receivers++;
            k->next = SW__NIL;
            k->pos = c->tail;
            if (c->tail == SW__NIL) c->head = slot;
            else s->tasks[c->tail].next = slot;
            c->tail = slot;
            if (c->kind != SW_CHAN_EVENT) s->blocked_hard++;
        }
        bool fits = c->balance == senders - receivers && !(senders && receivers);
        if (c->kind == SW_CHAN_BUFFERED) fits = fits && (!receivers || c->count == 0) && (!senders || c->count == c->cap);
        if (!fits) {
            failf(u, "channel %u: balance %d does not match its %lld senders and %lld receivers",
                  ci, c->balance, (long long)senders, (long long)receivers);
            return SW_E_FORMAT;
        }
    }
    prev = SW__NIL;
    for (uint32_t i = 0; i < u->nchanfree; i++) {
        uint32_t ci = u->chanfree[i];
        sw__chan *c = &s->chans[ci];
        if (c->live || c->next_free != SW__NIL || ci == prev) {
            failf(u, "channel %u is free twice or also live", ci);
            return SW_E_FORMAT;
        }
        c->next_free = ci; /* a marker until linked below */
        if (prev == SW__NIL) s->chan_free = ci;
        else s->chans[prev].next_free = ci;
        prev = ci;
    }
    if (prev != SW__NIL) s->chans[prev].next_free = SW__NIL;
    /* every tasklet that waits is where it waits */
    for (uint32_t slot = 0; slot < u->ntasks; slot++) {
        if (!(mark[slot] & 1)) continue;
        struct sw__task *k = &s->tasks[slot];
        bool want_batch = k->state == SW_TASK_RUNNABLE || k->state == SW_TASK_ZOMBIE;
        if (want_batch != ((mark[slot] & 8) != 0) || (!want_batch && !(mark[slot] & 4))) {
            failf(u, "the %s in slot %u is %s but not where that puts it", s->kinds[k->kind].kind->name,
                  slot, state_of(s, slot));
            return SW_E_FORMAT;
        }
        if (k->state != SW_TASK_ZOMBIE) {
            s->live++;
            s->kinds[k->kind].live++;
        }
    }
    for (uint32_t i = 0; i < u->nkind_settings; i++) {
        s->kinds[u->kind_map[i]].rank = (int)u->rank[i];
        s->kinds[u->kind_map[i]].random = u->random[i] != 0;
    }
    return SW_OK;
oom:
    failf(u, "out of memory");
    return SW_E_NOMEM;
}

int sw_unpickler_finish(sw_unpickler *u, const sw_pickle_section *sections, int nsections) {
    int rc = link_all(u);
    if (rc != SW_OK) return rc;
    /* the extra sections, each claimed by exactly one handler */
    sw__rd r;
    sw__rd_init(&r, u->extra, u->extra_len, "snapshot state", u->err, sizeof u->err);
    bool seen[16] = {0};
    while (!r.bad && r.p != r.end) {
        const uint8_t *tag = sw__rd_bytes(&r, 4, "section tag");
        uint64_t n = sw__rd_uv(&r, "section length");
        const uint8_t *body = sw__rd_bytes(&r, (size_t)n, "section");
        if (r.bad) return SW_E_FORMAT;
        int which = -1;
        for (int i = 0; i < nsections && i < 16; i++)
            if (memcmp(sections[i].tag, tag, 4) == 0) which = i;
        if (which < 0 || seen[which]) {
            failf(u, "the snapshot has a section \"%.4s\" that nothing here can load%s", (const char *)tag,
                  which >= 0 ? " (twice)" : "");
            return SW_E_FORMAT;
        }
        seen[which] = true;
        rc = sections[which].load(u->s, sections[which].ud, body, (size_t)n, u->err, sizeof u->err);
        if (rc != SW_OK) return rc;
    }
    for (int i = 0; i < nsections && i < 16; i++) {
        if (!seen[i]) {
            failf(u, "the snapshot has no \"%s\" section", sections[i].tag);
            return SW_E_FORMAT;
        }
    }
    u->finished = true;
    return SW_OK;
}

void sw_unpickler_free(sw_unpickler *u) {
    if (!u) return;
    if (!u->finished) clear_dynamic(u->s);
    if (u->plans) {
        for (uint32_t i = 0; u->sc && i < u->sc->nfuncs; i++) {
            free(u->plans[i].copy);
            free(u->plans[i].field_dst);
            free(u->plans[i].pc_map);
        }
    }
    free(u->plans);
    free(u->kind_map);
    sw_pickle_schema_free(u->sc);
    free(u->mark);
    free(u->free_slot);
    free(u->free_gen);
    free(u->ready);
    free(u->wheel_slot);
    free(u->wheel_wake);
    free(u->ovf);
    free(u->wait_off);
    free(u->waiters);
    free(u->chanfree);
    free(u->rank);
    free(u->random);
    free(u->extra);
    free(u);
}
