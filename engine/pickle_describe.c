/* pickle_describe.c - an agent record decoded through the stored schema
 * alone, as text or JSON: what `swarmlet inspect` and the viewer show
 * without the agent's code. The record is validated as it is read, like the
 * loader does, so a damaged record gives a message and never a crash. */
#include "pickle_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static bool outf(sw_pickle_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool outf(sw_pickle_buf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return false;
    return sw__pk_bytes(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* The shortest of %.15g..%.17g that reads back exactly. */
static void put_double(sw_pickle_buf *b, double v, bool json) {
    if (!isfinite(v)) {
        outf(b, json ? "null" : "%g", v);
        return;
    }
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v) break;
    }
    outf(b, "%s", tmp);
}

static void put_value(sw_pickle_buf *b, sw_type type, const uint8_t *p, bool json) {
    switch (type) {
    case SW_T_BOOL: outf(b, "%s", p[0] ? "true" : "false"); break;
    case SW_T_I32: { int32_t x; memcpy(&x, p, 4); outf(b, "%" PRId32, x); break; }
    case SW_T_I64: { int64_t x; memcpy(&x, p, 8); outf(b, "%" PRId64, x); break; }
    case SW_T_U32: { uint32_t x; memcpy(&x, p, 4); outf(b, "%" PRIu32, x); break; }
    case SW_T_U64: case SW_T_ID: case SW_T_CHAN: { uint64_t x; memcpy(&x, p, 8); outf(b, "%" PRIu64, x); break; }
    case SW_T_F32: { float x; memcpy(&x, p, 4); put_double(b, x, json); break; }
    case SW_T_F64: { double x; memcpy(&x, p, 8); put_double(b, x, json); break; }
    case SW_T_VALUE: { int64_t x; memcpy(&x, p, 8); outf(b, "%" PRId64, x); break; }
    case SW_T_MSG: {
        int32_t tag, i;
        uint64_t who;
        double x, y;
        memcpy(&tag, p, 4); memcpy(&i, p + 4, 4); memcpy(&who, p + 8, 8);
        memcpy(&x, p + 16, 8); memcpy(&y, p + 24, 8);
        outf(b, json ? "{\"tag\": %d, \"i\": %d, \"who\": %" PRIu64 ", \"x\": " : "{tag %d, i %d, who %" PRIu64 ", x ",
             tag, i, who);
        put_double(b, x, json);
        outf(b, json ? ", \"y\": " : ", y ");
        put_double(b, y, json);
        outf(b, "}");
        break;
    }
    default: outf(b, "null"); break;
    }
}

int sw_pickle_describe_agent(const sw_pickle_schema *sc, const void *rec, size_t len, bool json,
                             sw_pickle_buf *out, char *err, size_t errlen) {
    len = sw__pk_unseal(rec, len, "agent record", err, errlen);
    if (len == SIZE_MAX) return SW_E_FORMAT;
    sw__rd r;
    sw__rd_init(&r, rec, len, "agent record", err, errlen);
    uint64_t kind = sw__rd_uv(&r, "kind");
    uint64_t slot = sw__rd_uvmax(&r, UINT32_MAX, "slot");
    uint64_t gen = sw__rd_uvmax(&r, UINT32_MAX, "generation");
    uint8_t state = sw__rd_u8(&r, "state");
    int8_t status = (int8_t)sw__rd_u8(&r, "status");
    sw__rd_uv(&r, "spin");
    uint64_t rng = sw__rd_uv(&r, "random counter");
    uint64_t wait = sw__rd_uv(&r, "wait");
    uint64_t depth = sw__rd_uvmax(&r, SW__PK_MAX_DEPTH, "depth");
    if (r.bad) return SW_E_FORMAT;
    if (kind >= sc->nkinds || state > SW_TASK_ZOMBIE) {
        sw__rd_fail(&r, "bad kind or state");
        return SW_E_FORMAT;
    }
    uint64_t id = sw_handle_make((uint32_t)slot, (uint32_t)gen);
    const char *st = sw_task_state_name((sw_task_state)state);
    if (json) {
        outf(out, "{\"id\": %" PRIu64 ", \"kind\": \"%s\", \"slot\": %" PRIu64 ", \"state\": \"%s\", "
                  "\"random_counter\": %" PRIu64 ", \"status\": \"%s\"",
             id, sc->kinds[kind].name, slot, st, rng, sw_status_name(status));
        if (state == SW_TASK_SLEEPING) outf(out, ", \"wakes_at\": %" PRIu64, wait);
        if (state == SW_TASK_RECV || state == SW_TASK_SEND)
            outf(out, ", \"channel\": {\"slot\": %u, \"gen\": %u}", sw_handle_slot(wait), sw_handle_gen(wait));
        outf(out, ", \"frames\": [");
    } else {
        outf(out, "%s #%" PRIu64 " (id %" PRIu64 ")\n  tasklet: %s", sc->kinds[kind].name, slot, id, st);
        if (state == SW_TASK_SLEEPING) outf(out, ", wakes at tick %" PRIu64, wait);
        if (state == SW_TASK_RECV) outf(out, ", receiving on channel %u (generation %u)", sw_handle_slot(wait), sw_handle_gen(wait));
        if (state == SW_TASK_SEND) outf(out, ", sending on channel %u (generation %u)", sw_handle_slot(wait), sw_handle_gen(wait));
        if (state == SW_TASK_RUNNABLE) outf(out, ", runs next tick");
        outf(out, "\n  random counter: %" PRIu64 "\n", rng);
    }
    for (uint64_t d = 0; d < depth; d++) {
        uint64_t fi = sw__rd_uv(&r, "function");
        uint64_t pc = sw__rd_uv(&r, "resume point");
        uint64_t ref = sw__rd_uv(&r, "pending target");
        if (r.bad) return SW_E_FORMAT;
        if (fi >= sc->nfuncs || pc >= sc->funcs[fi].npoints) {
            sw__rd_fail(&r, "bad function or resume point");
            return SW_E_FORMAT;
        }
        const sw__pfunc *pf = &sc->funcs[fi];
        const uint8_t *bytes = sw__rd_bytes(&r, pf->frame_size, "frame");
        if (!bytes) return SW_E_FORMAT;
        const char *target = NULL;
        if (ref && !(ref & 1) && ref / 2 - 1 < pf->nfields) target = pf->fields[ref / 2 - 1].name;
        if (json) {
            outf(out, "%s{\"function\": \"%s\", \"point\": \"%s\"", d ? ", " : "", pf->name, pf->points[pc]);
            if (target) outf(out, ", \"pending\": \"%s\"", target);
            outf(out, ", \"fields\": {");
        } else {
            outf(out, "  %s %s at %s", d ? "called" : "frame", pf->name, pf->points[pc]);
            if (target) outf(out, " (pending: %s)", target);
            outf(out, "\n");
        }
        for (uint32_t i = 0; i < pf->nfields; i++) {
            const sw__pfield *f = &pf->fields[i];
            if (json) outf(out, "%s\"%s\": ", i ? ", " : "", f->name);
            else outf(out, "    %-16s ", f->name);
            put_value(out, (sw_type)f->type, bytes + f->offset, json);
            if (!json) outf(out, "  (%s)\n", sw_type_name((sw_type)f->type));
        }
        if (json) outf(out, "}}");
    }
    if (r.p != r.end) {
        sw__rd_fail(&r, "%zu stray bytes", sw__rd_left(&r));
        return SW_E_FORMAT;
    }
    if (json) outf(out, "]}");
    return SW_OK;
}
