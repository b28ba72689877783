/* pickle_int.h - the pickler's private helpers: byte writing and bounds-
 * checked reading (LEB128 varints, zigzag, fixed little-endian numbers), and
 * the parsed schema shared by the loader and the describer. Not API. */
#ifndef SW_PICKLE_INT_H
#define SW_PICKLE_INT_H

#include "pickle.h"
#include "sched_int.h"

#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "pickles store frame images as they are in memory: a big-endian port must swap fields"
#endif

#define SW__PK_MAGIC "SWPK"
#define SW__PK_MAX_NAME 256u        /* bytes in a name */
#define SW__PK_MAX_FRAME (1u << 20) /* bytes in a frame */
#define SW__PK_MAX_DEPTH 4096u      /* frames in a chain */
#define SW__PK_MAX_CHANBUF (1u << 22) /* messages over all buffered channels */

/* ---- writing --------------------------------------------------------------- */

bool sw__pk_reserve(sw_pickle_buf *b, size_t extra);

static inline bool sw__pk_bytes(sw_pickle_buf *b, const void *p, size_t n) {
    if (b->cap - b->len < n && !sw__pk_reserve(b, n)) return false;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    return true;
}

static inline bool sw__pk_u8(sw_pickle_buf *b, uint8_t x) { return sw__pk_bytes(b, &x, 1); }

/* Write x as a varint at p, unchecked (up to 10 bytes); returns its end.
 * For writers that reserve room for a whole list once. */
static inline uint8_t *sw__pk_put_uv(uint8_t *p, uint64_t x) {
    while (x >= 0x80) {
        *p++ = (uint8_t)(x | 0x80);
        x >>= 7;
    }
    *p++ = (uint8_t)x;
    return p;
}

static inline bool sw__pk_uv(sw_pickle_buf *b, uint64_t x) {
    if (b->cap - b->len < 10 && !sw__pk_reserve(b, 10)) return false;
    b->len = (size_t)(sw__pk_put_uv(b->data + b->len, x) - b->data);
    return true;
}

static inline bool sw__pk_sv(sw_pickle_buf *b, int64_t x) {
    return sw__pk_uv(b, ((uint64_t)x << 1) ^ (uint64_t)(x >> 63));
}

static inline bool sw__pk_u64(sw_pickle_buf *b, uint64_t x) { return sw__pk_bytes(b, &x, 8); }
static inline bool sw__pk_f64(sw_pickle_buf *b, double x) { return sw__pk_bytes(b, &x, 8); }

static inline bool sw__pk_str(sw_pickle_buf *b, const char *s) {
    size_t n = s ? strlen(s) : 0;
    return sw__pk_uv(b, n) && sw__pk_bytes(b, s, n);
}

/* ---- checksums -----------------------------------------------------------------
 * Every part (schema, state, agent record) ends with a 32-bit checksum of its
 * other bytes, so that damage anywhere, even inside a frame's numbers, is
 * caught before loading instead of running on. Word-at-a-time multiply-xor:
 * each step is a bijection of the running value, so any change confined to
 * one word always changes the 64-bit result. */

static inline uint32_t sw__pk_sum(const uint8_t *p, size_t n) {
    uint64_t h = 0x9ae16a3b2f90404fULL ^ n;
    const uint8_t *end = p + n;
    bool whole = n >= 8;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    /* the last 0..7 bytes as a little-endian number (a memcpy of a variable
       size is a call): the top of the word that ends the data, if there is
       one */
    uint64_t w = 0;
    if (whole && n) {
        memcpy(&w, end - 8, 8);
        w >>= 8 * (8 - n);
    } else {
        for (size_t i = 0; i < n; i++) w |= (uint64_t)p[i] << (8 * i);
    }
    h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
    h ^= h >> 32;
    return (uint32_t)h;
}

/* Append the checksum of bytes [start, len) of b. */
static inline bool sw__pk_seal(sw_pickle_buf *b, size_t start) {
    uint32_t sum = sw__pk_sum(b->data + start, b->len - start);
    return sw__pk_bytes(b, &sum, 4);
}

/* The length of a part without its checksum, or SIZE_MAX (with a message in
 * err) when it is too short or the checksum does not match. */
size_t sw__pk_unseal(const void *data, size_t len, const char *what, char *err, size_t errlen);
/* Recompute every checksum in a one-buffer pickle (sw_pickle_save) as far as
 * its lengths can be followed: lets the fuzzer and the damage tests reach the
 * validation behind the checksums. */
void sw__pk_reseal(uint8_t *data, size_t len);

/* ---- reading: every call checks bounds; the first failure sticks ------------ */

typedef struct sw__rd {
    const uint8_t *p, *start, *end;
    const char *what; /* which part is being read, for messages */
    char *err;
    size_t errlen;
    bool bad;
} sw__rd;

void sw__rd_fail(sw__rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline void sw__rd_init(sw__rd *r, const void *p, size_t n, const char *what, char *err,
                               size_t errlen) {
    r->p = r->start = p;
    r->end = r->p + n;
    r->what = what;
    r->err = err;
    r->errlen = errlen;
    r->bad = false;
}

static inline size_t sw__rd_left(const sw__rd *r) { return (size_t)(r->end - r->p); }

static inline const uint8_t *sw__rd_bytes(sw__rd *r, size_t n, const char *field) {
    if (r->bad) return NULL;
    if (sw__rd_left(r) < n) {
        sw__rd_fail(r, "truncated: %s needs %zu bytes, %zu left", field, n, sw__rd_left(r));
        return NULL;
    }
    const uint8_t *q = r->p;
    r->p += n;
    return q;
}

/* The general case of sw__rd_uv (pickle.c). */
uint64_t sw__rd_uv_slow(sw__rd *r, const char *field);

/* A varint. Away from the end (10 bytes left, the longest a varint can be)
 * the first nine bytes need no bounds check; the rest, a tenth byte, an
 * error or the end, take the general path. */
static inline uint64_t sw__rd_uv(sw__rd *r, const char *field) {
    const uint8_t *p = r->p;
    if (__builtin_expect(!r->bad && r->end - p >= 10, 1)) {
        uint64_t x = p[0];
        if (x < 0x80) {
            r->p = p + 1;
            return x;
        }
        x &= 0x7f;
        for (unsigned i = 1; i < 9; i++) {
            uint64_t c = p[i];
            x |= (c & 0x7f) << (7 * i);
            if (c < 0x80) {
                r->p = p + i + 1;
                return x;
            }
        }
    }
    return sw__rd_uv_slow(r, field);
}

static inline uint64_t sw__rd_uv_inline(sw__rd *r, const char *field) {
    uint64_t x = 0;
    for (unsigned shift = 0; !r->bad; shift += 7) {
        if (r->p == r->end) {
            sw__rd_fail(r, "truncated in %s", field);
            break;
        }
        uint8_t c = *r->p++;
        if (shift == 63 && c > 1) {
            sw__rd_fail(r, "%s: number too large", field);
            break;
        }
        x |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) return x;
    }
    return 0;
}

/* A varint that must be <= max. */
static inline uint64_t sw__rd_uvmax(sw__rd *r, uint64_t max, const char *field) {
    uint64_t x = sw__rd_uv(r, field);
    if (!r->bad && x > max) {
        sw__rd_fail(r, "%s is %llu, more than %llu", field, (unsigned long long)x,
                    (unsigned long long)max);
        return 0;
    }
    return r->bad ? 0 : x;
}

static inline int64_t sw__rd_sv(sw__rd *r, const char *field) {
    uint64_t x = sw__rd_uv(r, field);
    return (int64_t)(x >> 1) ^ -(int64_t)(x & 1);
}

static inline uint8_t sw__rd_u8(sw__rd *r, const char *field) {
    const uint8_t *q = sw__rd_bytes(r, 1, field);
    return q ? *q : 0;
}

static inline uint64_t sw__rd_u64(sw__rd *r, const char *field) {
    const uint8_t *q = sw__rd_bytes(r, 8, field);
    uint64_t x = 0;
    if (q) memcpy(&x, q, 8);
    return x;
}

static inline double sw__rd_f64(sw__rd *r, const char *field) {
    const uint8_t *q = sw__rd_bytes(r, 8, field);
    double x = 0;
    if (q) memcpy(&x, q, 8);
    return x;
}

/* A name: 1..SW__PK_MAX_NAME printable bytes, copied NUL-terminated into
 * `out` (at least SW__PK_MAX_NAME + 1 bytes). */
bool sw__rd_name(sw__rd *r, char *out, const char *field);

/* ---- the parsed schema ---------------------------------------------------------- */

typedef struct sw__pfield {
    char *name;
    uint8_t type;   /* sw_type */
    uint32_t offset;
    double def;
    bool param;
} sw__pfield;

typedef struct sw__pfunc {
    char *name;
    int kind;          /* index of the kind whose root this is, or -1 */
    uint32_t frame_size;
    uint32_t npoints;
    char **points;
    uint32_t nfields;
    sw__pfield *fields;
} sw__pfunc;

typedef struct sw__pkind {
    char *name;
    uint32_t func;     /* its root function */
    uint32_t color;
} sw__pkind;

struct sw_pickle_schema {
    uint32_t nkinds, nfuncs;
    sw__pkind *kinds;
    sw__pfunc *funcs;
};

/* The field of `fn` that starts at `offset`, or -1. */
int sw__pfunc_field_at(const sw__pfunc *fn, uint32_t offset);

/* Frame `ref` encoding: 0 none; 2*(field index)+2 a field; 2*offset+1 a raw
 * offset (only when no field starts there). */
uint64_t sw__pk_ref_code(const sw_func *fn, uint32_t ref);

/* ---- the unpickler's insides (pickle_load.c, pickle_state.c) ---------------------- */

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
    uint32_t nwheel, *wheel_slot; /* the wheel's slots, bucket after bucket */
    uint32_t nbuckets;
    uint64_t bucket_wake[SW__WHEEL];
    uint32_t bucket_n[SW__WHEEL];
    uint32_t novf;
    tslot *ovf;
    uint32_t *wait_off;  /* per channel: start of its waiters in `waiters` */
    uint32_t nwaiters, *waiters;
    uint32_t nchanfree, *chanfree;
    int64_t *rank;
    uint8_t *random;
    uint32_t nkind_settings;

    uint8_t *extra;        /* the sections after SCHD: a copy, or the caller's */
    size_t extra_len;
    bool extra_owned;
};

void sw__unpickler_fail(sw_unpickler *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* sw_unpickler_new; with `borrow`, `state` must stay where it is until
 * sw_unpickler_finish has returned (no copy of the world's bytes is made). */
sw_unpickler *sw__unpickler_new(sw_sched *target, const sw_pickle_env *env, const void *schema,
                                size_t schema_len, const void *state, size_t state_len, uint64_t nagents,
                                bool borrow, char *err, size_t errlen);
/* Read the "SCHD" section into the target and the unpickler's lists. */
bool sw__unpickler_read_sched(sw_unpickler *u, sw__rd *r);
/* Check the records and the state against each other and link queues,
 * timers and free lists. SW_OK or a status with the message in u->err. */
int sw__unpickler_link(sw_unpickler *u);
/* Discard a scheduler's tasklets, channels and timers, keeping its registry,
 * hooks and context. */
void sw__sched_clear_dynamic(sw_sched *s);

#endif
