/* frame.c - heap frames for tasklets, from per-size free lists.
 *
 * A frame is an sw__frame header followed by the function's fields. Frames
 * are carved from 256 KiB slabs by size class (multiples of 16 bytes, up to
 * 1 KiB) and recycled through per-class free lists, so spawning costs a few
 * instructions and a million sleeping tasklets cost exactly their frames.
 * Frames of consecutively spawned tasklets are adjacent, which the tick loop
 * relies on to stream through them. Larger frames go to the allocator. */
#include "sched_int.h"

#include <string.h>

/* A little under 256 KiB, so that with malloc's chunk header a slab fills
 * exactly 64 pages when it is mmap'ed (a round 256 KiB would take 65). */
#define SLAB_BYTES (256u * 1024u - 64u)

uint32_t sw__frame_size(const sw_sched *s, const sw__frame *f) {
    return s->funcs[f->fn].fn->frame_size;
}

static size_t class_of(size_t bytes) { return (bytes + 15) / 16; }

/* Room for a frame of class `cls` (cls * 16 bytes), its contents left as
 * they are: from the pool, a slab, or the allocator. NULL when out of memory. */
static inline __attribute__((always_inline)) sw__frame *frame_alloc(sw_sched *s, size_t cls) {
    sw__frame *f;
    if (cls >= SW__POOL_CLASSES) {
        f = sw__alloc(s, NULL, cls * 16);
        if (!f) return NULL;
    } else if (s->pool[cls]) {
        f = s->pool[cls];
        memcpy(&s->pool[cls], f, sizeof(void *));
    } else {
        /* Frames of 16, 32 or 64 bytes (or multiples of 64) start on their
           own size within a cache line, so that a frame never straddles two
           lines: a sparse tick wakes tasklets in no particular order, and a
           straddling frame costs a second miss. */
        size_t need = cls * 16;
        size_t align = need % 64 == 0 ? 64 : (need & (need - 1)) == 0 ? need : 16;
        /* align is a power of two: the padding by a mask (the remainders
           it replaces were two divisions a spawn) */
        size_t pad = (size_t)(-(uintptr_t)s->slab_cur) & (align - 1);
        if (s->slab_left < need + pad) {
            char *slab = sw__alloc(s, NULL, SLAB_BYTES);
            if (!slab) return NULL;
            memcpy(slab, &s->slabs, sizeof(void *));
            s->slabs = slab;
            s->slab_cur = slab + 16;
            s->slab_left = SLAB_BYTES - 16;
            pad = (size_t)(-(uintptr_t)s->slab_cur) & (align - 1);
        }
        f = (sw__frame *)(s->slab_cur + pad);
        s->slab_cur += need + pad;
        s->slab_left -= need + pad;
    }
    return f;
}

/* A frame's header for function fn, counted; its parent (NULL) and pc (0)
 * are the caller's: zeroed already by a frame_new, set by a frame_new_copy. */
static inline void frame_header(sw_sched *s, sw__frame *f, int fn) {
    s->frames++;
    f->fn = (uint16_t)fn;
    f->ref = SW__NO_REF;
}

sw__frame *sw__frame_new(sw_sched *s, int fn) {
    size_t cls = class_of(sizeof(sw__frame) + s->funcs[fn].fn->frame_size);
    sw__frame *f = frame_alloc(s, cls);
    if (!f) return NULL;
    memset(f, 0, cls * 16);
    frame_header(s, f, fn);
    return f;
}

/* A run of 16 bytes, read and written at any alignment (a frame's image may
 * be anywhere: a parent's frame, a stack, a pickle's buffer). */
typedef uint64_t sw__chunk16 __attribute__((vector_size(16), aligned(1), may_alias));

/* One 16-byte chunk at offset i from src to dst. An empty asm holds the
 * chunk in a vector register: GCC would otherwise see the copies as a
 * memcpy and call it again (the register's constraint is the target's). */
static inline __attribute__((always_inline)) void chunk_copy(char *dst, const char *src, size_t i) {
    sw__chunk16 c = *(const sw__chunk16 *)(const void *)(src + i);
#if defined(__x86_64__) || defined(__i386__)
    __asm__("" : "+x"(c));
#elif defined(__aarch64__)
    __asm__("" : "+w"(c));
#endif
    *(sw__chunk16 *)(void *)(dst + i) = c;
}

/* Frames up to this many chunks are copied by a jump into a run of
 * unrolled copies (chunk_copies). */
enum { UNROLLED_CHUNKS = 16 };

#define CHUNK_CASE(k)                                                                              \
    case k:                                                                                        \
        chunk_copy(dst, src, (k - 1) * 16);                                                        \
        __attribute__((fallthrough))

/* The first n (<= UNROLLED_CHUNKS) chunks of src to dst: a size known only
 * at run time (a batch of spawns, whose kind is a variable) then costs a
 * jump and the copies, where a loop paid its test and count per chunk (a
 * Schelling resident's seven chunks: ~46 instructions → ~18); a constant
 * size folds to the copies alone, as the loop did. */
static inline __attribute__((always_inline)) void chunk_copies(char *dst, const char *src, size_t n) {
    switch (n) {
        CHUNK_CASE(16); CHUNK_CASE(15); CHUNK_CASE(14); CHUNK_CASE(13);
        CHUNK_CASE(12); CHUNK_CASE(11); CHUNK_CASE(10); CHUNK_CASE(9);
        CHUNK_CASE(8); CHUNK_CASE(7); CHUNK_CASE(6); CHUNK_CASE(5);
        CHUNK_CASE(4); CHUNK_CASE(3); CHUNK_CASE(2); CHUNK_CASE(1);
    default:
        break;
    }
}
#undef CHUNK_CASE

/* Copy `size` bytes of `src` to `dst` and zero dst's bytes from `size` to
 * `room` (room >= size, a multiple of 16). A spawn from an image (every
 * birth of wolf-sheep: ~1,000 a tick in the large model) copies a frame of
 * a few 16-byte chunks and zeroes nothing, the class having no padding:
 * chunk moves here, where memcpy and memset were two library calls of a
 * size known only at run time (about 35 instructions a birth with their
 * dispatch). The odd tail and the padding, rare, keep the calls. */
static inline __attribute__((always_inline)) void frame_fill(char *dst, const char *src,
                                                             size_t size, size_t room) {
    size_t i = 0;
    if (size <= UNROLLED_CHUNKS * 16) {
        chunk_copies(dst, src, size / 16);
        i = size & ~(size_t)15;
    } else {
        for (; i + 16 <= size; i += 16) chunk_copy(dst, src, i);
    }
    if (__builtin_expect(i < size, 0)) {
        memcpy(dst + i, src + i, size - i);
        i = size;
    }
    if (__builtin_expect(i < room, 0)) memset(dst + i, 0, room - i);
}

sw__frame *sw__frame_new_copy(sw_sched *s, int fn, const void *image, size_t size) {
    size_t cls = class_of(sizeof(sw__frame) + size);
    sw__frame *f = frame_alloc(s, cls);
    if (!f) return NULL;
    frame_header(s, f, fn);
    f->parent = NULL;
    f->pc = 0;
    /* the fields from the image, only the class's padding after them zeroed
       (zeroing all of it first wrote each byte twice) */
    frame_fill((char *)(f + 1), image, size, cls * 16 - sizeof(sw__frame));
    return f;
}

void sw__frame_free(sw_sched *s, sw__frame *f) {
    size_t cls = class_of(sizeof(sw__frame) + s->funcs[f->fn].fn->frame_size);
    s->frames--;
    if (cls >= SW__POOL_CLASSES) {
        sw__alloc(s, f, 0);
        return;
    }
    memcpy(f, &s->pool[cls], sizeof(void *));
    s->pool[cls] = f;
}

void sw__frames_free_all(sw_sched *s) {
    /* big frames are owned by live tasklets only */
    for (uint32_t slot = 0; slot < s->ntasks; slot++) {
        struct sw__task *k = &s->tasks[slot];
        if (k->state == SW_TASK_FREE || !k->top) continue;
        sw__frame *f = k->top;
        while (f) {
            sw__frame *p = f->parent;
            if (class_of(sizeof(sw__frame) + s->funcs[f->fn].fn->frame_size) >= SW__POOL_CLASSES)
                sw__alloc(s, f, 0);
            f = p;
        }
        k->top = NULL;
    }
    char *slab = s->slabs;
    while (slab) {
        char *next;
        memcpy(&next, slab, sizeof next);
        sw__alloc(s, slab, 0);
        slab = next;
    }
    s->slabs = NULL;
    memset(s->pool, 0, sizeof s->pool);
}
