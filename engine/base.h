/* base.h - types every Swarmlet subsystem shares.
 *
 * Handles (sw_id, sw_chan) are plain 64-bit numbers: a slot index in the low
 * 32 bits and a generation in the high 32 bits, so a handle to something that
 * has died is detected instead of dereferenced, and a handle can be pickled,
 * printed or sent to another process as it is. Zero is never a valid handle.
 *
 * Messages and return values are small plain data, never pointers: that is
 * what lets every suspended tasklet be pickled. */
#ifndef SW_BASE_H
#define SW_BASE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>

#define SW_VERSION "0.1.0"

typedef uint64_t sw_id;   /* a tasklet (agent): generation << 32 | slot */
typedef uint64_t sw_chan; /* a channel: generation << 32 | slot */
typedef uint64_t sw_tick;

#define SW_ID_NONE ((sw_id)0)
#define SW_CHAN_NONE ((sw_chan)0)

static inline uint32_t sw_handle_slot(uint64_t h) { return (uint32_t)h; }
static inline uint32_t sw_handle_gen(uint64_t h) { return (uint32_t)(h >> 32); }
static inline uint64_t sw_handle_make(uint32_t slot, uint32_t gen) {
    return ((uint64_t)gen << 32) | slot;
}

/* Status codes: SW_OK or a negative SW_E... The human message, where there is
 * one, is kept on the object that failed (sw_sched_errmsg and friends). */
typedef enum {
    SW_OK = 0,
    SW_E_NOMEM = -1,    /* an allocation failed */
    SW_E_INVALID = -2,  /* bad argument or API misuse */
    SW_E_STALE = -3,    /* a handle to something that no longer exists */
    SW_E_CLOSED = -4,   /* the channel is closed */
    SW_E_DEADLOCK = -5, /* blocked tasklets that nothing can ever wake */
    SW_E_WATCHDOG = -6, /* a tasklet ran too long without suspending */
    SW_E_NOTFOUND = -7, /* no such name (kind, function, resume point, field) */
    SW_E_FULL = -8,     /* a bounded resource is exhausted */
    SW_E_IO = -9,       /* reading or writing a file failed */
    SW_E_FORMAT = -10,  /* malformed input (scenario, snapshot) */
} sw_result;

/* A short English name for a status ("closed", "deadlock", ...). */
const char *sw_status_name(int status);

/* A message: a tag saying what it is, plus a few numbers and a handle. */
typedef struct sw_msg {
    int32_t tag;
    int32_t i;  /* a small integer payload (a count, a cell index, ...) */
    sw_id who;  /* an agent this message is about, or SW_ID_NONE */
    double x, y;
} sw_msg;

/* The value a nested resumable call returns to its caller. */
typedef union sw_value {
    int64_t i;
    double f;
    sw_id id;
} sw_value;

/* Field types in a frame schema. The schema is at once the pickling format,
 * the inspector's view and the scenario's parameter list. */
typedef enum {
    SW_T_NONE = 0,
    SW_T_BOOL,  /* bool */
    SW_T_I32,   /* int32_t */
    SW_T_I64,   /* int64_t */
    SW_T_U32,   /* uint32_t */
    SW_T_U64,   /* uint64_t */
    SW_T_F32,   /* float */
    SW_T_F64,   /* double */
    SW_T_ID,    /* sw_id: an agent handle */
    SW_T_CHAN,  /* sw_chan: a channel handle */
    SW_T_MSG,   /* sw_msg */
    SW_T_VALUE, /* sw_value */
    SW_T_COUNT_
} sw_type;

/* Size in bytes of a field of this type (0 for SW_T_NONE or out of range). */
size_t sw_type_size(sw_type type);
/* The type's name as written in schemas and snapshots ("f64", "id", ...). */
const char *sw_type_name(sw_type type);
/* The type with that name, or SW_T_NONE. */
sw_type sw_type_from_name(const char *name);

/* One field of a frame: name, type, byte offset, and the default a scenario
 * parameter takes when the scenario does not set it. `param` marks the fields
 * a scenario may set; the others are internal state. */
typedef struct sw_field {
    const char *name;
    sw_type type;
    uint32_t offset;
    double def;
    bool param;
    const char *doc;
} sw_field;

/* Declare fields: SW_FIELD for internal state (default 0), SW_PARAM for
 * scenario parameters with a default and a one-line description. */
#define SW_FIELD(T, member, type) {#member, type, (uint32_t)offsetof(T, member), 0.0, false, NULL}
#define SW_PARAM(T, member, type, def, doc) {#member, type, (uint32_t)offsetof(T, member), def, true, doc}
#define SW_FIELD_END {NULL, SW_T_NONE, 0, 0.0, false, NULL}

/* The number of fields before the terminating SW_FIELD_END. */
size_t sw_fields_count(const sw_field *fields);
/* The field with that name, or NULL. */
const sw_field *sw_fields_find(const sw_field *fields, const char *name);
/* Store `v` (converted to the field's type) into frame+offset. Numbers only:
 * msg and value fields are left alone and SW_E_INVALID returned. */
int sw_field_set_number(const sw_field *f, void *frame, double v);
/* Read a numeric field as a double (ids and channels as their raw value). */
double sw_field_get_number(const sw_field *f, const void *frame);

/* sw_field_get_number's body, inline for passes over every agent (the
 * statistics: with a million agents a call per field read is a fifth of a
 * row's cost). NAN for a field that is not a number. */
static inline double sw__field_number(const sw_field *f, const void *frame) {
    const char *p = (const char *)frame + f->offset;
    switch (f->type) {
    case SW_T_BOOL: { bool b; memcpy(&b, p, sizeof b); return b; }
    case SW_T_I32: { int32_t x; memcpy(&x, p, 4); return x; }
    case SW_T_I64: { int64_t x; memcpy(&x, p, 8); return (double)x; }
    case SW_T_U32: { uint32_t x; memcpy(&x, p, 4); return x; }
    case SW_T_U64: case SW_T_ID: case SW_T_CHAN: { uint64_t x; memcpy(&x, p, 8); return (double)x; }
    case SW_T_F32: { float x; memcpy(&x, p, 4); return x; }
    case SW_T_F64: { double x; memcpy(&x, p, 8); return x; }
    default: return __builtin_nan("");
    }
}

#endif
