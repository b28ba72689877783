/* pickle.c - writing pickles: the schema, the state and agent records, and
 * the one-buffer container; plus the byte helpers and the schema parser that
 * loading and describing share.
 *
 * Layout (all numbers LEB128 varints unless said otherwise; "s" = zigzag):
 *
 *   schema  "SWSC" format
 *           nfuncs, each: name, kind+1 (0: a plain function), frame_size,
 *                   npoints, point names ("start" first), nfields, each:
 *                   name, type (u8), offset, default (f64 LE), param (u8)
 *           nkinds, each: root function index, colour
 *   state   "SWST" format, then sections: tag (4 bytes), length, bytes.
 *           "SCHD" (always first): now (u64), seed (u64), watchdog,
 *                   random_order (u8), ordered (u8), cascade_retry (u8),
 *                   s hold, resumes, ntasks,
 *                   free slots in LIFO order (n, then slot, gen each),
 *                   the run queue (n, slots), wheel (buckets by increasing wake:
 *                   n, then wake-now, count, slots each), overflow (n, then
 *                   wake-now, slot each), channels (n, live, then for each
 *                   slot gen, flags, and if live: kind, pref+1, s balance,
 *                   capacity, key, queued messages oldest first (count, 32
 *                   bytes each), waiters head first (n, slots)), the channel
 *                   free list (n, slots), kind settings (n, then s rank,
 *                   random (u8) each)
 *           then the extra sections (the world's).
 *   agent   kind, slot, gen, state (u8), status (u8), spin, rng, wait,
 *           depth, frames root first: function, point, ref code, the frame's
 *           frame_size bytes as in memory.
 *   Schema, state and each agent record end with a 4-byte checksum.
 *   buffer  "SWPK" format, schema length + schema, state length + state,
 *           nagents, each: length + record.
 *
 * Tombstones in the wheel and the buffered channels' ring offsets are not
 * kept: loading rebuilds equivalent structures, and a pickle of the loaded
 * scheduler is byte-identical to the original's. */
#include "pickle_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- bytes --------------------------------------------------------------------- */

bool sw__pk_reserve(sw_pickle_buf *b, size_t extra) {
    if (b->cap - b->len >= extra) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra) {
        if (cap > SIZE_MAX / 2) return false;
        cap *= 2;
    }
    uint8_t *d = realloc(b->data, cap);
    if (!d) return false;
    b->data = d;
    b->cap = cap;
    return true;
}

void sw_pickle_buf_fini(sw_pickle_buf *b) {
    if (!b) return;
    free(b->data);
    memset(b, 0, sizeof *b);
}

void sw__rd_fail(sw__rd *r, const char *fmt, ...) {
    if (r->bad) return;
    r->bad = true;
    if (!r->err || !r->errlen) return;
    int n = snprintf(r->err, r->errlen, "%s, byte %zu: ", r->what ? r->what : "pickle",
                     (size_t)(r->p - r->start));
    if (n < 0 || (size_t)n >= r->errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

uint64_t sw__rd_uv_slow(sw__rd *r, const char *field) { return sw__rd_uv_inline(r, field); }

bool sw__rd_name(sw__rd *r, char *out, const char *field) {
    uint64_t n = sw__rd_uvmax(r, SW__PK_MAX_NAME, field);
    const uint8_t *q = sw__rd_bytes(r, (size_t)n, field);
    if (!q) return false;
    if (n == 0) {
        sw__rd_fail(r, "%s is empty", field);
        return false;
    }
    for (uint64_t i = 0; i < n; i++) {
        if (q[i] < 0x20 || q[i] == 0x7f || q[i] == '"' || q[i] == '\\') {
            /* names are identifiers; this keeps them safe to quote in JSON */
            sw__rd_fail(r, "%s contains a control byte, a quote or a backslash", field);
            return false;
        }
    }
    memcpy(out, q, (size_t)n);
    out[n] = '\0';
    return true;
}

size_t sw__pk_unseal(const void *data, size_t len, const char *what, char *err, size_t errlen) {
    if (!data || len < 4) {
        snprintf(err, errlen, "%s: truncated (%zu bytes)", what, len);
        return SIZE_MAX;
    }
    uint32_t want;
    memcpy(&want, (const uint8_t *)data + len - 4, 4);
    if (sw__pk_sum(data, len - 4) != want) {
        snprintf(err, errlen, "%s: checksum mismatch: the snapshot is damaged", what);
        return SIZE_MAX;
    }
    return len - 4;
}

static bool reseal_part(sw__rd *r, uint8_t *base) {
    uint64_t n = sw__rd_uv(r, "length");
    const uint8_t *q = sw__rd_bytes(r, (size_t)n, "part");
    if (!q || n < 4) return false;
    uint32_t sum = sw__pk_sum(q, (size_t)n - 4);
    memcpy(base + (q - r->start) + n - 4, &sum, 4);
    return true;
}

void sw__pk_reseal(uint8_t *data, size_t len) {
    sw__rd r;
    sw__rd_init(&r, data, len, "reseal", NULL, 0);
    if (!sw__rd_bytes(&r, 4, "magic")) return;
    sw__rd_uv(&r, "format");
    if (!reseal_part(&r, data) || !reseal_part(&r, data)) return;
    uint64_t n = sw__rd_uv(&r, "count");
    for (uint64_t i = 0; i < n && reseal_part(&r, data); i++) {}
}

int sw__pfunc_field_at(const sw__pfunc *fn, uint32_t offset) {
    for (uint32_t i = 0; i < fn->nfields; i++)
        if (fn->fields[i].offset == offset) return (int)i;
    return -1;
}

uint64_t sw__pk_ref_code(const sw_func *fn, uint32_t ref) {
    if (ref == SW__NO_REF) return 0;
    for (uint32_t i = 0; fn->fields && fn->fields[i].name; i++)
        if (fn->fields[i].offset == ref) return 2 * (uint64_t)i + 2;
    return 2 * (uint64_t)ref + 1;
}

/* ---- the schema ------------------------------------------------------------------ */

int sw_pickle_save_schema(const sw_sched *s, sw_pickle_buf *out) {
    size_t start = out->len;
    bool ok = sw__pk_bytes(out, "SWSC", 4) && sw__pk_uv(out, SW_PICKLE_FORMAT);
    ok = ok && sw__pk_uv(out, (uint64_t)s->nfuncs);
    for (int i = 0; ok && i < s->nfuncs; i++) {
        const sw__funcent *e = &s->funcs[i];
        int kind = e->kind ? sw_sched_kind_index(s, e->kind) : -1;
        ok = sw__pk_str(out, e->fn->name) && sw__pk_uv(out, (uint64_t)(kind + 1)) &&
             sw__pk_uv(out, e->fn->frame_size) && sw__pk_uv(out, (uint64_t)e->npoints);
        for (int p = 0; ok && p < e->npoints; p++) ok = sw__pk_str(out, e->points[p]);
        size_t nf = sw_fields_count(e->fn->fields);
        ok = ok && sw__pk_uv(out, nf);
        for (size_t f = 0; ok && f < nf; f++) {
            const sw_field *fl = &e->fn->fields[f];
            ok = sw__pk_str(out, fl->name) && sw__pk_u8(out, (uint8_t)fl->type) &&
                 sw__pk_uv(out, fl->offset) && sw__pk_f64(out, fl->def) &&
                 sw__pk_u8(out, fl->param ? 1 : 0);
        }
    }
    ok = ok && sw__pk_uv(out, (uint64_t)s->nkinds);
    for (int i = 0; ok && i < s->nkinds; i++)
        ok = sw__pk_uv(out, (uint64_t)s->kinds[i].func) && sw__pk_uv(out, s->kinds[i].kind->color);
    ok = ok && sw__pk_seal(out, start);
    return ok ? SW_OK : SW_E_NOMEM;
}

void sw_pickle_schema_free(sw_pickle_schema *sc) {
    if (!sc) return;
    for (uint32_t i = 0; sc->funcs && i < sc->nfuncs; i++) {
        sw__pfunc *f = &sc->funcs[i];
        free(f->name);
        for (uint32_t p = 0; f->points && p < f->npoints; p++) free(f->points[p]);
        free(f->points);
        for (uint32_t k = 0; f->fields && k < f->nfields; k++) free(f->fields[k].name);
        free(f->fields);
    }
    free(sc->funcs);
    free(sc->kinds);
    free(sc);
}

static char *dup_name(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

sw_pickle_schema *sw_pickle_schema_parse(const void *data, size_t len, char *err, size_t errlen) {
    len = sw__pk_unseal(data, len, "snapshot schema", err, errlen);
    if (len == SIZE_MAX) return NULL;
    sw__rd r;
    sw__rd_init(&r, data, len, "snapshot schema", err, errlen);
    const uint8_t *magic = sw__rd_bytes(&r, 4, "magic");
    if (magic && memcmp(magic, "SWSC", 4) != 0) sw__rd_fail(&r, "not a Swarmlet schema");
    uint64_t fmt = sw__rd_uv(&r, "format");
    if (!r.bad && fmt != SW_PICKLE_FORMAT)
        sw__rd_fail(&r, "format %llu, this build reads format %d", (unsigned long long)fmt,
                    SW_PICKLE_FORMAT);
    sw_pickle_schema *sc = calloc(1, sizeof *sc);
    if (!sc) {
        sw__rd_fail(&r, "out of memory");
        return NULL;
    }
    char name[SW__PK_MAX_NAME + 1];
    /* each function takes at least 5 bytes: bounding counts by what is left
       keeps a hostile count from allocating much */
    uint64_t nfuncs = sw__rd_uvmax(&r, UINT16_MAX, "function count");
    if (!r.bad && nfuncs > sw__rd_left(&r) / 5) sw__rd_fail(&r, "function count past the end");
    if (!r.bad && nfuncs) {
        sc->funcs = calloc((size_t)nfuncs, sizeof *sc->funcs);
        if (!sc->funcs) sw__rd_fail(&r, "out of memory");
        else sc->nfuncs = (uint32_t)nfuncs;
    }
    for (uint32_t i = 0; !r.bad && i < sc->nfuncs; i++) {
        sw__pfunc *f = &sc->funcs[i];
        if (!sw__rd_name(&r, name, "function name")) break;
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(sc->funcs[j].name, name) == 0) sw__rd_fail(&r, "function \"%s\" twice", name);
        f->name = dup_name(name);
        f->kind = (int)sw__rd_uvmax(&r, UINT16_MAX + 1u, "function's kind") - 1;
        f->frame_size = (uint32_t)sw__rd_uvmax(&r, SW__PK_MAX_FRAME, "frame size");
        uint64_t np = sw__rd_uvmax(&r, 4096, "resume point count");
        if (!r.bad && (np == 0 || np > sw__rd_left(&r) / 2))
            sw__rd_fail(&r, "function \"%s\": bad resume point count %llu", name, (unsigned long long)np);
        if (!f->name || r.bad) break;
        f->points = calloc((size_t)np, sizeof *f->points);
        if (!f->points) { sw__rd_fail(&r, "out of memory"); break; }
        f->npoints = (uint32_t)np;
        for (uint32_t p = 0; !r.bad && p < f->npoints; p++) {
            if (!sw__rd_name(&r, name, "resume point name")) break;
            if (!(f->points[p] = dup_name(name))) sw__rd_fail(&r, "out of memory");
        }
        uint64_t nf = sw__rd_uvmax(&r, 4096, "field count");
        if (!r.bad && nf > sw__rd_left(&r) / 12) sw__rd_fail(&r, "field count past the end");
        if (r.bad) break;
        if (nf) {
            f->fields = calloc((size_t)nf, sizeof *f->fields);
            if (!f->fields) { sw__rd_fail(&r, "out of memory"); break; }
            f->nfields = (uint32_t)nf;
        }
        for (uint32_t k = 0; !r.bad && k < f->nfields; k++) {
            sw__pfield *fl = &f->fields[k];
            if (!sw__rd_name(&r, name, "field name")) break;
            if (!(fl->name = dup_name(name))) { sw__rd_fail(&r, "out of memory"); break; }
            fl->type = sw__rd_u8(&r, "field type");
            fl->offset = (uint32_t)sw__rd_uvmax(&r, SW__PK_MAX_FRAME, "field offset");
            fl->def = sw__rd_f64(&r, "field default");
            fl->param = sw__rd_u8(&r, "field param flag") != 0;
            if (r.bad) break;
            size_t size = sw_type_size((sw_type)fl->type);
            if (size == 0)
                sw__rd_fail(&r, "field %s.%s has an unknown type %u", f->name, fl->name, fl->type);
            else if ((uint64_t)fl->offset + size > f->frame_size)
                sw__rd_fail(&r, "field %s.%s lies outside its %u-byte frame", f->name, fl->name,
                            f->frame_size);
            for (uint32_t j = 0; !r.bad && j < k; j++)
                if (strcmp(f->fields[j].name, fl->name) == 0)
                    sw__rd_fail(&r, "field %s.%s twice", f->name, fl->name);
        }
    }
    uint64_t nkinds = sw__rd_uvmax(&r, UINT16_MAX, "kind count");
    if (!r.bad && nkinds > sw__rd_left(&r) / 2) sw__rd_fail(&r, "kind count past the end");
    if (!r.bad && nkinds) {
        sc->kinds = calloc((size_t)nkinds, sizeof *sc->kinds);
        if (!sc->kinds) sw__rd_fail(&r, "out of memory");
        else sc->nkinds = (uint32_t)nkinds;
    }
    for (uint32_t i = 0; !r.bad && i < sc->nkinds; i++) {
        uint64_t fi = sw__rd_uv(&r, "kind's function");
        uint64_t color = sw__rd_uvmax(&r, 0xffffff, "kind's colour");
        if (r.bad) break;
        if (fi >= sc->nfuncs || sc->funcs[fi].kind != (int)i) {
            sw__rd_fail(&r, "kind %u does not name its own root function", i);
            break;
        }
        sc->kinds[i].func = (uint32_t)fi;
        sc->kinds[i].name = sc->funcs[fi].name;
        sc->kinds[i].color = (uint32_t)color;
    }
    for (uint32_t i = 0; !r.bad && i < sc->nfuncs; i++) {
        int k = sc->funcs[i].kind;
        if (k >= 0 && ((uint32_t)k >= sc->nkinds || sc->kinds[k].func != i))
            sw__rd_fail(&r, "function \"%s\" claims a kind that does not own it", sc->funcs[i].name);
    }
    if (!r.bad && r.p != r.end) sw__rd_fail(&r, "%zu stray bytes at the end", sw__rd_left(&r));
    if (r.bad) {
        sw_pickle_schema_free(sc);
        return NULL;
    }
    return sc;
}

int sw_pickle_schema_kinds(const sw_pickle_schema *sc) { return sc ? (int)sc->nkinds : 0; }
const char *sw_pickle_schema_kind_name(const sw_pickle_schema *sc, int kind) {
    return sc && kind >= 0 && (uint32_t)kind < sc->nkinds ? sc->kinds[kind].name : NULL;
}

/* ---- the state ----------------------------------------------------------------------- */

static bool save_msg(sw_pickle_buf *b, const sw_msg *m) {
    uint8_t raw[32];
    int32_t tag = m->tag, i = m->i;
    memcpy(raw, &tag, 4);
    memcpy(raw + 4, &i, 4);
    memcpy(raw + 8, &m->who, 8);
    memcpy(raw + 16, &m->x, 8);
    memcpy(raw + 24, &m->y, 8);
    return sw__pk_bytes(b, raw, sizeof raw);
}

static bool save_sched(const sw_sched *s, sw_pickle_buf *b) {
    bool ok = sw__pk_u64(b, s->now) && sw__pk_u64(b, s->d.seed) && sw__pk_uv(b, s->d.watchdog) &&
              sw__pk_u8(b, s->d.random_order) && sw__pk_u8(b, s->ordered) &&
              sw__pk_u8(b, s->cascade_retry) &&
              sw__pk_sv(b, s->hold) && sw__pk_uv(b, s->resumes) && sw__pk_uv(b, s->ntasks);
    /* free slots, head first */
    uint64_t nfree = 0;
    for (uint32_t i = s->free_head; i != SW__NIL && nfree <= s->ntasks; i = s->tasks[i].next) nfree++;
    ok = ok && sw__pk_uv(b, nfree);
    for (uint32_t i = s->free_head; ok && i != SW__NIL; i = s->tasks[i].next)
        ok = sw__pk_uv(b, i) && sw__pk_uv(b, s->tasks[i].gen);
    /* the batch for the next tick */
    /* between ticks the woken and the newly spawned wait in the back FIFO */
    uint64_t nready = 0;
    for (uint32_t i = s->back_head; i != SW__NIL && nready <= s->ntasks; i = s->tasks[i].next) nready++;
    ok = ok && sw__pk_uv(b, nready);
    for (uint32_t i = s->back_head; ok && i != SW__NIL; i = s->tasks[i].next) ok = sw__pk_uv(b, i);
    /* the wheel, by increasing wake; each bucket holds one wake tick */
    uint64_t nb = 0;
    for (uint32_t d = 1; d < SW__WHEEL; d++) {
        const sw__vec32 *v = &s->wheel[(s->now + d) & SW__WHEEL_MASK];
        for (uint32_t i = 0; i < v->n; i++)
            if (v->items[i] != SW__TOMB) { nb++; break; }
    }
    ok = ok && sw__pk_uv(b, nb);
    for (uint32_t d = 1; ok && d < SW__WHEEL; d++) {
        const sw__vec32 *v = &s->wheel[(s->now + d) & SW__WHEEL_MASK];
        uint64_t n = 0;
        for (uint32_t i = 0; i < v->n; i++) n += v->items[i] != SW__TOMB;
        if (!n) continue;
        ok = sw__pk_uv(b, d) && sw__pk_uv(b, n);
        for (uint32_t i = 0; ok && i < v->n; i++)
            if (v->items[i] != SW__TOMB) ok = sw__pk_uv(b, v->items[i]);
    }
    uint64_t novf = 0;
    for (uint32_t i = 0; i < s->novf; i++) novf += s->ovf[i].slot != SW__TOMB;
    ok = ok && sw__pk_uv(b, novf);
    for (uint32_t i = 0; ok && i < s->novf; i++)
        if (s->ovf[i].slot != SW__TOMB)
            ok = sw__pk_uv(b, s->ovf[i].wake - s->now) && sw__pk_uv(b, s->ovf[i].slot);
    /* channels */
    ok = ok && sw__pk_uv(b, s->nchans) && sw__pk_uv(b, s->chans_live);
    for (uint32_t i = 0; ok && i < s->nchans; i++) {
        const sw__chan *c = &s->chans[i];
        ok = sw__pk_uv(b, c->gen) && sw__pk_u8(b, (uint8_t)(c->live ? 1 | (c->closed ? 2 : 0) : 0));
        if (!ok || !c->live) continue;
        ok = sw__pk_u8(b, c->kind) && sw__pk_u8(b, (uint8_t)(c->pref + 1)) &&
             sw__pk_sv(b, c->balance) && sw__pk_uv(b, c->cap) && sw__pk_uv(b, c->key) &&
             sw__pk_uv(b, c->count);
        for (uint32_t m = 0; ok && m < c->count; m++) ok = save_msg(b, &c->buf[(c->first + m) % c->cap]);
        uint64_t nw = 0;
        for (uint32_t w = c->head; w != SW__NIL; w = s->tasks[w].next) nw++;
        ok = ok && sw__pk_uv(b, nw);
        for (uint32_t w = c->head; ok && w != SW__NIL; w = s->tasks[w].next) ok = sw__pk_uv(b, w);
    }
    uint64_t ncf = 0;
    for (uint32_t i = s->chan_free; i != SW__NIL && ncf <= s->nchans; i = s->chans[i].next_free) ncf++;
    ok = ok && sw__pk_uv(b, ncf);
    for (uint32_t i = s->chan_free; ok && i != SW__NIL; i = s->chans[i].next_free) ok = sw__pk_uv(b, i);
    /* kind settings */
    ok = ok && sw__pk_uv(b, (uint64_t)s->nkinds);
    for (int i = 0; ok && i < s->nkinds; i++)
        ok = sw__pk_sv(b, s->kinds[i].rank) && sw__pk_u8(b, s->kinds[i].random ? 1 : 0);
    return ok;
}

static bool begin_section(sw_pickle_buf *b, const char *tag, size_t *mark) {
    /* the length is written as a fixed 5-byte varint so it can be patched */
    if (!sw__pk_bytes(b, tag, 4) || !sw__pk_reserve(b, 5)) return false;
    *mark = b->len;
    b->len += 5;
    return true;
}

static void end_section(sw_pickle_buf *b, size_t mark) {
    uint64_t n = b->len - mark - 5;
    for (int i = 0; i < 5; i++) {
        b->data[mark + (size_t)i] = (uint8_t)((n & 0x7f) | (i < 4 ? 0x80 : 0));
        n >>= 7;
    }
}

int sw_pickle_save_state(const sw_sched *s, const sw_pickle_section *sections, int nsections,
                         sw_pickle_buf *out, char *err, size_t errlen) {
    if (s->in_run || s->front != SW__NIL || s->ready_pos < s->ready.n || s->ready_lazy) {
        snprintf(err, errlen, "a scheduler can only be pickled between ticks");
        return SW_E_INVALID;
    }
    size_t mark, start = out->len;
    if (!sw__pk_bytes(out, "SWST", 4) || !sw__pk_uv(out, SW_PICKLE_FORMAT) ||
        !begin_section(out, "SCHD", &mark) || !save_sched(s, out)) {
        snprintf(err, errlen, "out of memory pickling the scheduler");
        return SW_E_NOMEM;
    }
    end_section(out, mark);
    for (int i = 0; i < nsections; i++) {
        if (!begin_section(out, sections[i].tag, &mark)) {
            snprintf(err, errlen, "out of memory pickling section %s", sections[i].tag);
            return SW_E_NOMEM;
        }
        int rc = sections[i].save(s, sections[i].ud, out, err, errlen);
        if (rc != SW_OK) return rc;
        if (out->len - mark - 5 >= (1ull << 35)) {
            snprintf(err, errlen, "section %s is too large", sections[i].tag);
            return SW_E_FULL;
        }
        end_section(out, mark);
    }
    if (!sw__pk_seal(out, start)) {
        snprintf(err, errlen, "out of memory pickling");
        return SW_E_NOMEM;
    }
    return SW_OK;
}

/* ---- agents ----------------------------------------------------------------------------- */

int sw_pickle_save_agent(const sw_sched *s, uint32_t slot, sw_pickle_buf *out) {
    if (slot >= s->ntasks) return 0;
    const struct sw__task *k = &s->tasks[slot];
    if (k->state == SW_TASK_FREE) return 0;
    /* frames root first: walk the chain into a small array, adding up the
       room the record needs (so that writing it checks nothing) */
    const sw__frame *chain[64], **fr = chain;
    uint32_t depth = 0, cap = 64;
    size_t need = 9 * 10 + 4;
    for (const sw__frame *f = k->top; f; f = f->parent) {
        if (depth == cap) {
            const sw__frame **bigger = malloc(2 * (size_t)cap * sizeof *bigger);
            if (!bigger) {
                if (fr != chain) free(fr);
                return SW_E_NOMEM;
            }
            memcpy(bigger, fr, (size_t)depth * sizeof *fr);
            if (fr != chain) free(fr);
            fr = bigger;
            cap *= 2;
        }
        fr[depth++] = f;
        need += 3 * 10 + s->funcs[f->fn].fn->frame_size;
    }
    if (out->cap - out->len < need && !sw__pk_reserve(out, need)) {
        if (fr != chain) free(fr);
        return SW_E_NOMEM;
    }
    uint64_t wait = (k->state == SW_TASK_SLEEPING || k->state == SW_TASK_RECV ||
                     k->state == SW_TASK_SEND) ? k->wait : 0;
    size_t start = out->len;
    uint8_t *p = out->data + start;
    p = sw__pk_put_uv(p, k->kind);
    p = sw__pk_put_uv(p, slot);
    p = sw__pk_put_uv(p, k->gen);
    *p++ = k->state;
    *p++ = (uint8_t)k->status;
    p = sw__pk_put_uv(p, k->spin);
    p = sw__pk_put_uv(p, k->rng);
    p = sw__pk_put_uv(p, wait);
    p = sw__pk_put_uv(p, depth);
    for (uint32_t i = depth; i-- > 0;) {
        const sw__frame *f = fr[i];
        const sw_func *fn = s->funcs[f->fn].fn;
        p = sw__pk_put_uv(p, f->fn);
        p = sw__pk_put_uv(p, f->pc);
        p = sw__pk_put_uv(p, sw__pk_ref_code(fn, f->ref));
        memcpy(p, f + 1, fn->frame_size);
        p += fn->frame_size;
    }
    if (fr != chain) free(fr);
    uint32_t sum = sw__pk_sum(out->data + start, (size_t)(p - (out->data + start)));
    memcpy(p, &sum, 4);
    out->len = (size_t)(p + 4 - out->data);
    return 1;
}

/* ---- one buffer ---------------------------------------------------------------------------- */

static bool put_blob(sw_pickle_buf *out, const sw_pickle_buf *part) {
    return sw__pk_uv(out, part->len) && sw__pk_bytes(out, part->data, part->len);
}

int sw_pickle_save(const sw_sched *s, const sw_pickle_section *sections, int nsections,
                   sw_pickle_buf *out, char *err, size_t errlen) {
    sw_pickle_buf part = {0};
    int rc = SW_E_NOMEM;
    if (!sw__pk_bytes(out, SW__PK_MAGIC, 4) || !sw__pk_uv(out, SW_PICKLE_FORMAT)) goto oom;
    if (sw_pickle_save_schema(s, &part) != SW_OK || !put_blob(out, &part)) goto oom;
    part.len = 0;
    rc = sw_pickle_save_state(s, sections, nsections, &part, err, errlen);
    if (rc != SW_OK) goto done;
    rc = SW_E_NOMEM;
    if (!put_blob(out, &part)) goto oom;
    uint64_t n = 0;
    for (uint32_t i = 0; i < s->ntasks; i++) n += s->tasks[i].state != SW_TASK_FREE;
    if (!sw__pk_uv(out, n)) goto oom;
    for (uint32_t i = 0; i < s->ntasks; i++) {
        part.len = 0;
        int r = sw_pickle_save_agent(s, i, &part);
        if (r < 0) goto oom;
        if (r == 1 && !put_blob(out, &part)) goto oom;
    }
    rc = SW_OK;
    goto done;
oom:
    snprintf(err, errlen, "out of memory pickling");
done:
    sw_pickle_buf_fini(&part);
    return rc;
}

int sw_pickle_load(sw_sched *target, const sw_pickle_env *env, const sw_pickle_section *sections,
                   int nsections, const void *data, size_t len, char *err, size_t errlen) {
    sw__rd r;
    sw__rd_init(&r, data, len, "pickle", err, errlen);
    const uint8_t *magic = sw__rd_bytes(&r, 4, "magic");
    if (magic && memcmp(magic, SW__PK_MAGIC, 4) != 0) sw__rd_fail(&r, "not a Swarmlet pickle");
    uint64_t fmt = sw__rd_uv(&r, "format");
    if (!r.bad && fmt != SW_PICKLE_FORMAT)
        sw__rd_fail(&r, "format %llu, this build reads format %d", (unsigned long long)fmt,
                    SW_PICKLE_FORMAT);
    uint64_t n = sw__rd_uv(&r, "schema length");
    const uint8_t *schema = sw__rd_bytes(&r, (size_t)n, "schema");
    size_t schema_len = (size_t)n;
    n = sw__rd_uv(&r, "state length");
    const uint8_t *state = sw__rd_bytes(&r, (size_t)n, "state");
    size_t state_len = (size_t)n;
    uint64_t nagents = sw__rd_uv(&r, "agent count");
    if (!r.bad && nagents > sw__rd_left(&r)) sw__rd_fail(&r, "agent count past the end");
    if (r.bad) return SW_E_FORMAT;
    sw_unpickler *u = sw_unpickler_new(target, env, schema, schema_len, state, state_len, nagents,
                                       err, errlen);
    if (!u) return SW_E_FORMAT;
    int rc = SW_OK;
    for (uint64_t i = 0; rc == SW_OK && i < nagents; i++) {
        n = sw__rd_uv(&r, "agent record length");
        const uint8_t *rec = sw__rd_bytes(&r, (size_t)n, "agent record");
        if (r.bad) {
            rc = SW_E_FORMAT;
            break;
        }
        rc = sw_unpickler_agent(u, rec, (size_t)n);
        if (rc != SW_OK) snprintf(err, errlen, "%s", sw_unpickler_errmsg(u));
    }
    if (rc == SW_OK && r.p != r.end) {
        sw__rd_fail(&r, "%zu stray bytes at the end", sw__rd_left(&r));
        rc = SW_E_FORMAT;
    }
    if (rc == SW_OK) {
        rc = sw_unpickler_finish(u, sections, nsections);
        if (rc != SW_OK) snprintf(err, errlen, "%s", sw_unpickler_errmsg(u));
    }
    sw_unpickler_free(u);
    return rc;
}
