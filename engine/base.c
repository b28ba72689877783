/* base.c - status names and frame-schema helpers shared by every module. */
#include "base.h"

#include <math.h>
#include <string.h>

const char *sw_status_name(int status) {
    switch (status) {
    case SW_OK: return "ok";
    case SW_E_NOMEM: return "out of memory";
    case SW_E_INVALID: return "invalid argument";
    case SW_E_STALE: return "stale handle";
    case SW_E_CLOSED: return "channel closed";
    case SW_E_DEADLOCK: return "deadlock";
    case SW_E_WATCHDOG: return "watchdog";
    case SW_E_NOTFOUND: return "not found";
    case SW_E_FULL: return "full";
    case SW_E_IO: return "i/o error";
    case SW_E_FORMAT: return "bad format";
    default: return "unknown status";
    }
}

static const struct { const char *name; size_t size; } type_info[SW_T_COUNT_] = {
    [SW_T_NONE] = {"none", 0},       [SW_T_BOOL] = {"bool", sizeof(bool)},
    [SW_T_I32] = {"i32", 4},         [SW_T_I64] = {"i64", 8},
    [SW_T_U32] = {"u32", 4},         [SW_T_U64] = {"u64", 8},
    [SW_T_F32] = {"f32", 4},         [SW_T_F64] = {"f64", 8},
    [SW_T_ID] = {"id", 8},           [SW_T_CHAN] = {"chan", 8},
    [SW_T_MSG] = {"msg", sizeof(sw_msg)}, [SW_T_VALUE] = {"value", sizeof(sw_value)},
};

size_t sw_type_size(sw_type type) {
    return (type > SW_T_NONE && type < SW_T_COUNT_) ? type_info[type].size : 0;
}

const char *sw_type_name(sw_type type) {
    return (type >= SW_T_NONE && type < SW_T_COUNT_) ? type_info[type].name : "?";
}

sw_type sw_type_from_name(const char *name) {
    for (int i = 1; i < SW_T_COUNT_; i++)
        if (name && strcmp(type_info[i].name, name) == 0) return (sw_type)i;
    return SW_T_NONE;
}

size_t sw_fields_count(const sw_field *fields) {
    size_t n = 0;
    while (fields && fields[n].name) n++;
    return n;
}

const sw_field *sw_fields_find(const sw_field *fields, const char *name) {
    for (size_t i = 0; fields && fields[i].name; i++)
        if (strcmp(fields[i].name, name) == 0) return &fields[i];
    return NULL;
}

int sw_field_set_number(const sw_field *f, void *frame, double v) {
    char *p = (char *)frame + f->offset;
    switch (f->type) {
    case SW_T_BOOL: { bool b = v != 0; memcpy(p, &b, sizeof b); return SW_OK; }
    case SW_T_I32: { int32_t x = (int32_t)v; memcpy(p, &x, 4); return SW_OK; }
    case SW_T_I64: { int64_t x = (int64_t)v; memcpy(p, &x, 8); return SW_OK; }
    case SW_T_U32: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); return SW_OK; }
    case SW_T_U64: case SW_T_ID: case SW_T_CHAN: { uint64_t x = (uint64_t)v; memcpy(p, &x, 8); return SW_OK; }
    case SW_T_F32: { float x = (float)v; memcpy(p, &x, 4); return SW_OK; }
    case SW_T_F64: { memcpy(p, &v, 8); return SW_OK; }
    default: return SW_E_INVALID;
    }
}

double sw_field_get_number(const sw_field *f, const void *frame) { return sw__field_number(f, frame); }
