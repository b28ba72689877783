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
 * longer has is an error only when some tasklet is suspended at it.
 *
 * Reading the scheduler's state and linking it together at the end live in
 * pickle_state.c. */
#include "pickle_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void sw__unpickler_fail(sw_unpickler *u, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(u->err, sizeof u->err, fmt, ap);
    va_end(ap);
}

const char *sw_unpickler_errmsg(const sw_unpickler *u) { return u ? u->err : "no unpickler"; }

/* Discard everything dynamic in `s`, keeping registry, hooks and context. */
void sw__sched_clear_dynamic(sw_sched *s) {
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
        sw__unpickler_fail(u, "out of memory");
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
            sw__unpickler_fail(u, "field %s.%s is %s in the snapshot but %s in the code: a changed type "
                     "cannot be converted", pf->name, sf->name, sw_type_name((sw_type)sf->type),
                  sw_type_name(tf->type));
            return false;
        }
        if ((size_t)tf->offset + sw_type_size(tf->type) > fn->frame_size) {
            sw__unpickler_fail(u, "field %s.%s lies outside its frame in the code", pf->name, sf->name);
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
        sw__unpickler_fail(u, "out of memory");
        return false;
    }
    /* kinds first, in the snapshot's order, so that a fresh scheduler gets
       the same indices as the one pickled */
    for (uint32_t i = 0; i < sc->nkinds; i++) {
        const char *name = sc->kinds[i].name;
        const sw_kind *k = sw_sched_find_kind(s, name);
        if (!k) k = env_kind(env, name);
        if (!k) {
            sw__unpickler_fail(u, "the snapshot has agents of kind \"%s\", which this program does not "
                     "have", name);
            return false;
        }
        int ki = sw_sched_add_kind(s, k);
        if (ki < 0) {
            sw__unpickler_fail(u, "cannot register kind \"%s\": %s", name, sw_sched_errmsg(s));
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
                        sw__unpickler_fail(u, "cannot register function \"%s\": %s", pf->name, sw_sched_errmsg(s));
                        return false;
                    }
                }
            }
            if (ti >= 0 && s->funcs[ti].kind) {
                sw__unpickler_fail(u, "\"%s\" is a resumable function in the snapshot but an agent kind in "
                         "the code", pf->name);
                return false;
            }
            p->target = ti; /* -1: an error only if some frame needs it */
        }
        if (!make_plan(u, i)) return false;
    }
    return true;
}


sw_unpickler *sw_unpickler_new(sw_sched *target, const sw_pickle_env *env, const void *schema,
                               size_t schema_len, const void *state, size_t state_len,
                               uint64_t nagents, char *err, size_t errlen) {
    return sw__unpickler_new(target, env, schema, schema_len, state, state_len, nagents, false, err, errlen);
}

sw_unpickler *sw__unpickler_new(sw_sched *target, const sw_pickle_env *env, const void *schema,
                                size_t schema_len, const void *state, size_t state_len, uint64_t nagents,
                                bool borrow, char *err, size_t errlen) {
    sw_unpickler *u = calloc(1, sizeof *u);
    if (!u) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    u->s = target;
    u->nagents = nagents;
    sw__sched_clear_dynamic(target);
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
    u->extra_owned = !borrow;
    u->extra = borrow ? (uint8_t *)r.p : malloc(u->extra_len ? u->extra_len : 1);
    if (!u->extra) {
        sw__unpickler_fail(u, "out of memory");
        goto fail;
    }
    if (!borrow) memcpy(u->extra, r.p, u->extra_len);
    sw__rd_init(&r, body, (size_t)n, "snapshot scheduler state", u->err, sizeof u->err);
    if (nagents > UINT32_MAX) {
        sw__unpickler_fail(u, "%llu tasklets is more than a scheduler holds", (unsigned long long)nagents);
        goto fail;
    }
    if (!sw__unpickler_read_sched(u, &r)) goto fail;
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
        sw__unpickler_fail(u, "more tasklet records than the snapshot declares");
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
            sw__unpickler_fail(u, "the snapshot has a %s (id %llu) suspended in function \"%s\", which this "
                     "program does not have", kname, (unsigned long long)sw_handle_make(slot, gen), pf->name);
            goto bad;
        }
        if (p->pc_map[pc] < 0) {
            sw__unpickler_fail(u, "the snapshot has a %s (id %llu) suspended at resume point %s:%s, which "
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
                    sw__unpickler_fail(u, "the %s (id %llu) waits with its target at byte %llu of %s, which is "
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
                    sw__unpickler_fail(u, "the %s (id %llu) waits with its target in field %s.%s, which the code "
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
        } else if (is_top && state == SW_TASK_SEND) {
            /* a receiver without one drops its message (SW_RECV with dst
               NULL): its record's flag is derived from that below */
            sw__rd_fail(&r, "a blocked sender without a pending target");
            goto bad;
        }
        sw__frame *f = sw__frame_new(s, p->target);
        if (!f) {
            sw__unpickler_fail(u, "out of memory for frames");
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
    k->discard = state == SW_TASK_RECV && top->ref == SW__NO_REF;
    u->mark[slot] |= 1;
    u->got++;
    return SW_OK;
bad:
    free_chain(s, top);
    return SW_E_FORMAT;
}


/* Mark the rendezvous channels where a receiver that drops its message
 * waits (channel.c, `discarding`), once the wait queues are linked. */
static void mark_discarding(sw_sched *s) {
    for (uint32_t slot = 0; slot < s->ntasks; slot++) {
        const struct sw__task *k = &s->tasks[slot];
        if (k->state != SW_TASK_RECV || !k->discard) continue;
        sw__chan *c = sw__chan_get(s, k->wait);
        if (c && c->kind == SW_CHAN_RENDEZVOUS) c->discarding = 1;
    }
}

int sw_unpickler_finish(sw_unpickler *u, const sw_pickle_section *sections, int nsections) {
    int rc = sw__unpickler_link(u);
    if (rc != SW_OK) return rc;
    mark_discarding(u->s);
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
            sw__unpickler_fail(u, "the snapshot has a section \"%.4s\" that nothing here can load%s", (const char *)tag,
                  which >= 0 ? " (twice)" : "");
            return SW_E_FORMAT;
        }
        seen[which] = true;
        rc = sections[which].load(u->s, sections[which].ud, body, (size_t)n, u->err, sizeof u->err);
        if (rc != SW_OK) return rc;
    }
    for (int i = 0; i < nsections && i < 16; i++) {
        if (!seen[i]) {
            sw__unpickler_fail(u, "the snapshot has no \"%s\" section", sections[i].tag);
            return SW_E_FORMAT;
        }
    }
    u->finished = true;
    return SW_OK;
}

void sw_unpickler_free(sw_unpickler *u) {
    if (!u) return;
    if (!u->finished) sw__sched_clear_dynamic(u->s);
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
    free(u->ovf);
    free(u->wait_off);
    free(u->waiters);
    free(u->chanfree);
    free(u->rank);
    free(u->random);
    if (u->extra_owned) free(u->extra);
    free(u);
}
