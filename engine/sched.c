/* sched.c - the tasklet table and the tick loop. Its neighbours: the timer
 * wheel (timers.c), the activation order of a tick's tasklets (activation.c),
 * what a running tasklet calls (tasklet.c), and the registry of kinds and
 * functions (kinds.c); their shared private declarations are in sched_int.h.
 *
 * Tasklets live in one array indexed by slot (48 bytes each), so the hot
 * loops stream through memory. Free slots form a LIFO list through `next`;
 * a slot's generation is bumped when it is freed, so old handles go stale.
 *
 * The run queue has three parts, run in this order: a stack of tasklets to
 * run next (a channel handoff that prefers the woken side, when it cannot run
 * the woken tasklet inline, pushes it and then the current one), the batch
 * woken at the start of the tick, and a FIFO of tasklets woken during the
 * tick -- which between ticks also holds the spawned and the woken, so that
 * waking never allocates; the next tick orders them into the batch. When a
 * kind has a random order, the run loop sorts what joined the FIFO after
 * each turn: the woken of random kinds take a keyed turn, merged into the
 * batch or put off to the next tick (see activation.c, "keys").
 *
 * Expected load: millions of tasklets, most asleep or blocked; per tick, a
 * few wake-ups each for a fraction of them. The run loop, sw__sleep and the
 * channel handoff are the hot paths (see `swarmlet bench micro`): the run
 * loop stays here, inline in sw_sched_step with sw__run_task (sched_int.h);
 * the pieces it calls from the other files are reached through LTO or are
 * static inline in sched_int.h. */
#include "sched_int.h"
#include "rng.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- memory and messages ------------------------------------------------- */

static void *default_alloc(void *ud, void *p, size_t n) {
    (void)ud;
    if (n == 0) {
        free(p);
        return NULL;
    }
    return realloc(p, n);
}

void *sw__alloc(sw_sched *s, void *p, size_t n) { return s->d.alloc(s->d.alloc_ud, p, n); }

void *sw__grow(sw_sched *s, void *p, uint32_t *cap, uint64_t need, size_t size, uint32_t first) {
    if (need > UINT32_MAX) return NULL;
    uint32_t c = *cap ? *cap : first;
    while (c < need) c = c > UINT32_MAX / 2 ? (uint32_t)need : c * 2;
    void *q = sw__alloc(s, p, (size_t)c * size);
    if (q) *cap = c;
    return q;
}

void sw__errf(sw_sched *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
    va_end(ap);
}

void sw__reportf(sw_sched *s, const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (s->report_len + len + 1 > s->report_cap) {
        size_t cap = s->report_cap ? s->report_cap * 2 : 1024;
        while (cap < s->report_len + len + 1) cap *= 2;
        char *r = sw__alloc(s, s->report, cap);
        if (!r) return;
        s->report = r;
        s->report_cap = cap;
    }
    memcpy(s->report + s->report_len, line, len + 1);
    s->report_len += len;
}

const char *sw_sched_errmsg(const sw_sched *s) { return s ? s->errmsg : "no scheduler"; }
const char *sw_sched_report(const sw_sched *s) { return s->report ? s->report : ""; }

bool sw__vec_push(sw_sched *s, sw__vec32 *v, uint32_t x) {
    if (v->n == v->cap) {
        uint32_t *items = sw__grow(s, v->items, &v->cap, (uint64_t)v->n + 1, sizeof *items, 64);
        if (!items) return false;
        v->items = items;
    }
    v->items[v->n++] = x;
    return true;
}

static void vec_free(sw_sched *s, sw__vec32 *v) {
    sw__alloc(s, v->items, 0);
    memset(v, 0, sizeof *v);
}

/* ---- lifecycle ------------------------------------------------------------ */

sw_sched *sw_sched_new(const sw_sched_desc *desc) {
    sw_sched_desc d = desc ? *desc : (sw_sched_desc){0};
    if (!d.alloc) d.alloc = default_alloc;
    if (!d.watchdog) d.watchdog = 1000000;
    sw_sched *s = d.alloc(d.alloc_ud, NULL, sizeof *s);
    if (!s) return NULL;
    memset(s, 0, sizeof *s);
    s->d = d;
    s->free_head = SW__NIL;
    s->chan_free = SW__NIL;
    s->front = s->back_head = s->back_tail = SW__NIL;
    s->def_head = s->def_tail = SW__NIL;
    s->kcache_n = -1;
    s->cur.sched = s->nest.sched = s;
    s->cur.context = s->nest.context = d.context;
    s->ordered = d.random_order;
    return s;
}

void sw_sched_free(sw_sched *s) {
    if (!s) return;
    sw__frames_free_all(s);
    sw__chans_free_all(s);
    for (uint32_t i = 0; i < SW__WHEEL; i++) vec_free(s, &s->wheel[i]);
    vec_free(s, &s->ready);
    sw__alloc(s, s->order_buf, 0);
    sw__alloc(s, s->order_aux, 0);
    sw__alloc(s, s->kword, 0);
    sw__alloc(s, s->krank, 0);
    sw__alloc(s, s->heap, 0);
    sw__alloc(s, s->marks, 0);
    sw__alloc(s, s->ovf, 0);
    sw__alloc(s, s->tasks, 0);
    sw__alloc(s, s->kinds, 0);
    sw__alloc(s, s->funcs, 0);
    sw__alloc(s, s->report, 0);
    s->d.alloc(s->d.alloc_ud, s, 0);
}

uint64_t sw_sched_seed(const sw_sched *s) { return s->d.seed; }
sw_tick sw_sched_now(const sw_sched *s) { return s->now; }
void *sw_sched_context(const sw_sched *s) { return s->d.context; }
void sw_sched_set_context(sw_sched *s, void *context) {
    s->d.context = context;
    s->cur.context = s->nest.context = context;
}
uint64_t sw_sched_resumes(const sw_sched *s) { return s->resumes; }
uint64_t sw_sched_frames(const sw_sched *s) { return s->frames; }
void sw_sched_hold(sw_sched *s, int delta) { s->hold += delta; }

uint64_t sw_sched_rand(const sw_sched *s, uint64_t stream, uint64_t counter) {
    return sw_rng_at(sw_rng_key(s->d.seed, stream ^ 0x5157a11e70000000ULL), counter);
}

int sw_sched_on_tick_start(sw_sched *s, sw_hook_fn fn, void *ud) {
    if (!fn || s->nstart == SW__MAX_HOOKS) return SW_E_FULL;
    s->start_hooks[s->nstart++] = (sw__hook){fn, ud};
    return SW_OK;
}

int sw_sched_on_tick_end(sw_sched *s, sw_hook_fn fn, void *ud) {
    if (!fn || s->nend == SW__MAX_HOOKS) return SW_E_FULL;
    s->end_hooks[s->nend++] = (sw__hook){fn, ud};
    return SW_OK;
}

/* ---- tasklets -------------------------------------------------------------- */

/* Room in the table for `need` slots. */
static __attribute__((noinline)) bool tasks_reserve(sw_sched *s, uint64_t need) {
    if (need <= s->taskcap) return true;
    struct sw__task *t = sw__grow(s, s->tasks, &s->taskcap, need, sizeof *t, 1024);
    if (!t) return false;
    s->tasks = t;
    /* the running tasklets' views must follow the table they point into
       (an idle inline-run view too: harmless, and no test needed) */
    if (s->cur.task) s->cur.task = &t[s->cur.slot];
    s->nest.task = &t[s->nest.slot];
    return true;
}

static uint32_t slot_alloc(sw_sched *s) {
    if (s->free_head != SW__NIL) {
        uint32_t slot = s->free_head;
        s->free_head = s->tasks[slot].next;
        return slot;
    }
    if (s->ntasks == UINT32_MAX - 1) return SW__NIL;
    if (__builtin_expect(s->ntasks == s->taskcap, 0) && !tasks_reserve(s, (uint64_t)s->ntasks + 1))
        return SW__NIL;
    uint32_t slot = s->ntasks++;
    memset(&s->tasks[slot], 0, sizeof s->tasks[slot]);
    s->tasks[slot].gen = 1;
    return slot;
}

void sw_sched_on_death(sw_sched *s, sw_death_fn fn, void *ud) {
    s->on_death = fn;
    s->death_ud = ud;
}

void sw_sched_on_spawn(sw_sched *s, sw_spawn_fn fn, void *ud) {
    s->on_spawn = fn;
    s->spawn_ud = ud;
}

static void notify_death(sw_sched *s, uint32_t slot) {
    if (s->on_death) s->on_death(s, sw_handle_make(slot, s->tasks[slot].gen), s->death_ud);
}

static void free_frames(sw_sched *s, struct sw__task *k) {
    sw__frame *f = k->top;
    while (f) {
        sw__frame *p = f->parent;
        sw__frame_free(s, f);
        f = p;
    }
    k->top = NULL;
}

/* Remove a live tasklet from whatever holds it and reclaim its frames. A
 * tasklet queued to run becomes a zombie whose slot is freed when dequeued. */
static void task_destroy(sw_sched *s, uint32_t slot) {
    struct sw__task *k = &s->tasks[slot];
    if (k->state == SW_TASK_RUNNING) {
        /* killed itself: its function is still running on its frames, which
           sw__run_task reclaims when it returns */
        k->state = SW_TASK_ZOMBIE;
        s->live--;
        s->kinds[k->kind].live--;
        notify_death(s, slot);
        return;
    }
    /* fired into an ordered batch still asleep (see gather_batch): it is
       queued, like a runnable one, and never runs */
    bool asleep = k->state == SW_TASK_SLEEPING && s->batch_asleep && k->wait == s->now;
    switch ((sw_task_state)k->state) {
    case SW_TASK_SLEEPING:
        if (!asleep) sw__timer_cancel(s, slot);
        break;
    case SW_TASK_RECV:
    case SW_TASK_SEND: {
        sw__chan *c = sw__chan_get(s, k->wait);
        if (c) sw__chan_unlink(s, c, slot);
        break;
    }
    default:
        break;
    }
    free_frames(s, k);
    s->live--;
    s->kinds[k->kind].live--;
    bool queued = k->state == SW_TASK_RUNNABLE || asleep;
    k->state = SW_TASK_ZOMBIE; /* not alive any more, as the death hook sees it */
    notify_death(s, slot);
    if (!queued) sw__slot_free(s, slot);
}

/* The frame size of `kind`, registered as kind `ki`: the registry's copy,
 * or the descriptor's own where the compiler sees it (a spawn inlined into a
 * model's step, its kind a constant: every birth of wolf-sheep), so that the
 * frame's class, the pool it comes from and the image's copy fold to
 * constants (no three dependent loads, no copy loop). The two are equal:
 * the registry copied the descriptor's. */
static inline size_t kind_frame_size(const sw_sched *s, const sw_kind *kind, int ki) {
    return __builtin_constant_p(kind->frame_size) ? kind->frame_size
                                                  : s->funcs[s->kinds[ki].func].frame_size;
}

/* Make a `kind` (registry index `ki`, frame `size` bytes) up to its hook
 * and init: slot, frame, queue, counts. Its slot, or SW__NIL when out of
 * memory (nothing left behind). `size`: the frame's size, or 0 to look it
 * up only when there is an image. Shared by the single spawn and the batch,
 * so that both leave the same state. */
static inline __attribute__((always_inline)) uint32_t spawn_make(sw_sched *s, const sw_kind *kind, int ki,
                                                                 const void *params, sw_tick delay,
                                                                 size_t size) {
    uint32_t slot = slot_alloc(s);
    if (slot == SW__NIL) {
        sw__errf(s, "out of memory spawning a %s", kind->name);
        return SW__NIL;
    }
    sw__frame *f = params ? sw__frame_new_copy(s, s->kinds[ki].func, params,
                                               size ? size : kind_frame_size(s, kind, ki))
                          : sw__frame_new(s, s->kinds[ki].func);
    if (!f) {
        sw__slot_free(s, slot);
        sw__errf(s, "out of memory spawning a %s", kind->name);
        return SW__NIL;
    }
    void *frame = f + 1;
    if (!params) {
        for (const sw_field *fl = kind->fields; fl && fl->name; fl++)
            if (fl->def != 0) sw_field_set_number(fl, frame, fl->def);
    }
    struct sw__task *k = &s->tasks[slot];
    k->top = f;
    k->rng = 0;
    k->spin = 0;
    k->status = 0;
    k->kind = (uint16_t)ki;
    /* queue it before init runs, so that the only step that can fail comes
       before any side effect, and so that init may kill or inspect it */
    if (delay == 0) {
        sw__make_runnable(s, slot);
        sw__mark_fifo(s, slot);
    } else if (!sw__timer_arm_fast(s, k, slot, s->now + delay) && !sw__timer_arm(s, slot, s->now + delay)) {
        k->top = NULL;
        sw__frame_free(s, f);
        sw__slot_free(s, slot);
        sw__errf(s, "out of memory spawning a %s", kind->name);
        return SW__NIL;
    }
    s->live++;
    s->kinds[ki].live++;
    return slot;
}

/* Run `kind`'s init on the tasklet in `slot`, just made and alive, on its
 * root frame (its only one: it has not run). */
static inline void spawn_run_init(sw_sched *s, const sw_kind *kind, uint32_t slot) {
    if (kind->init) {
        /* hooks may have spawned and moved the table; init may kill it */
        sw_tasklet view = {.sched = s, .task = &s->tasks[slot], .slot = slot, .context = s->d.context};
        kind->init(&view, s->tasks[slot].top + 1);
    }
}

/* spawn_run_init, unless a hook has killed the tasklet `id` already. */
static inline void spawn_init(sw_sched *s, const sw_kind *kind, sw_id id, uint32_t slot) {
    if (kind->init && sw__task_get(s, id)) spawn_run_init(s, kind, slot);
}

/* Spawn a `kind`, whose index in the registry is `ki`. flatten: the frame
 * copy inlined (out of line, ~40 instructions a spawn more), which GCC's
 * own choice stopped doing once spawn_make had a third caller. */
__attribute__((flatten)) static sw_id spawn_kind(sw_sched *s, const sw_kind *kind, int ki, const void *params,
                                                 sw_tick delay) {
    uint32_t slot = spawn_make(s, kind, ki, params, delay, 0);
    if (slot == SW__NIL) return SW_ID_NONE;
    sw_id id = sw_handle_make(slot, s->tasks[slot].gen);
    if (s->on_spawn) s->on_spawn(s, id, s->spawn_ud);
    spawn_init(s, kind, id, slot);
    return id;
}

/* The registry index of `kind` (registered now if new), trying the last
 * spawned kind's index (spawn_hint) before the registry's search; negative
 * when it cannot be registered. */
static inline int spawn_kind_index(sw_sched *s, const sw_kind *kind) {
    uint32_t hint = s->spawn_hint;
    if (hint < (uint32_t)s->nkinds && s->kinds[hint].kind == kind) return (int)hint;
    int ki = sw_sched_add_kind(s, kind);
    if (ki >= 0) s->spawn_hint = (uint32_t)ki;
    return ki;
}

/* spawn_kind_index for a spawn from tasklet t: a parent's own kind (every
 * birth of wolf-sheep) is known to be registered, with no look at the hint. */
static inline int spawner_kind_index(sw_tasklet *t, const sw_kind *kind) {
    uint32_t own = t->task->kind;
    return t->sched->kinds[own].kind == kind ? (int)own : spawn_kind_index(t->sched, kind);
}

/* Spawn a `kind` (see spawn_kind_index). */
static sw_id spawn(sw_sched *s, const sw_kind *kind, const void *params, sw_tick delay) {
    int ki = spawn_kind_index(s, kind);
    return ki < 0 ? SW_ID_NONE : spawn_kind(s, kind, ki, params, delay);
}

sw_id sw_sched_spawn(sw_sched *s, const sw_kind *kind, const void *params, sw_tick delay) {
    if (!s || !kind) return SW_ID_NONE;
    return spawn(s, kind, params, delay);
}

/* ---- a batch of spawns (sw_world_spawn_many) -------------------------------- */

int sw__spawn_batch_begin(sw_sched *s, const sw_kind *kind, uint64_t n, sw__spawn_batch *b) {
    int ki = sw_sched_add_kind(s, kind);
    if (ki < 0) return ki;
    s->spawn_hint = (uint32_t)ki;
    /* with no free slot, room for the whole batch at once rather than a
       check and maybe a copy of the table per spawn: the table the single
       spawns would have grown to. With free slots, nothing reserved: the
       spawns take them first and grow the table, if need be, as they go */
    if (s->free_head == SW__NIL && !tasks_reserve(s, s->ntasks + n)) {
        sw__errf(s, "out of memory spawning %llu %s", (unsigned long long)n, kind->name);
        return SW_E_NOMEM;
    }
    *b = (sw__spawn_batch){.s = s, .kind = kind, .ki = ki, .size = kind_frame_size(s, kind, ki)};
    return SW_OK;
}

/* flatten: the frame copy inlined, as in the single spawn (an out-of-line
   sw__frame_new_copy was ~40 instructions a spawn more) */
__attribute__((flatten)) uint32_t sw__spawn_batch_make(sw__spawn_batch *b, const void *image, sw_tick delay) {
    return spawn_make(b->s, b->kind, b->ki, image, delay, b->size);
}

/* sw__spawn_batch_make_n's loop, for a frame of `size` bytes. */
static inline __attribute__((always_inline)) uint64_t make_run(sw__spawn_batch *b, const char *image,
                                                               size_t stride, uint64_t n, sw_tick delay,
                                                               uint32_t *slots, size_t size) {
    for (uint64_t i = 0; i < n; i++, image += stride) {
        uint32_t slot = spawn_make(b->s, b->kind, b->ki, image, delay, size);
        if (slot == SW__NIL) return i;
        slots[i] = slot;
    }
    return n;
}

/* flatten, as above, and one loop: the kind's frame size, its class and
   alignment are the same for each agent, worked out once rather than per
   call (with the call's own entry and exit, ~40 instructions an agent).
   The loop twice, so that in the first the compiler knows the size is not
   0 (spawn_make's "look it up") and keeps the class out of the loop. */
__attribute__((flatten)) uint64_t sw__spawn_batch_make_n(sw__spawn_batch *b, const void *images,
                                                         size_t stride, uint64_t n, sw_tick delay,
                                                         uint32_t *slots) {
    size_t size = b->size;
    return size ? make_run(b, images, stride, n, delay, slots, size)
                : make_run(b, images, stride, n, delay, slots, 0);
}

void sw__spawn_batch_init(sw__spawn_batch *b, sw_id id) {
    spawn_init(b->s, b->kind, id, sw_handle_slot(id));
}

sw_id sw_spawn(sw_tasklet *t, const sw_kind *kind, const void *params, sw_tick delay) {
    sw_sched *s = t->sched;
    uint32_t cur = t->slot;
    int ki = spawner_kind_index(t, kind);
    sw_id id = ki < 0 ? SW_ID_NONE : spawn_kind(s, kind, ki, params, delay);
    t->task = &s->tasks[cur]; /* the table may have moved */
    return id;
}

uint32_t sw__spawn_unhooked(sw_tasklet *t, const sw_kind *kind, const void *params, sw_tick delay) {
    sw_sched *s = t->sched;
    uint32_t cur = t->slot;
    int ki = spawner_kind_index(t, kind);
    uint32_t slot = ki < 0 ? SW__NIL : spawn_make(s, kind, ki, params, delay, 0);
    t->task = &s->tasks[cur]; /* the table may have moved */
    return slot;
}

void sw__spawn_unhooked_init(sw_tasklet *t, const sw_kind *kind, uint32_t slot) {
    sw_sched *s = t->sched;
    uint32_t cur = t->slot;
    spawn_run_init(s, kind, slot);
    t->task = &s->tasks[cur]; /* init may have spawned */
}

int sw_sched_kill(sw_sched *s, sw_id id) {
    struct sw__task *k = sw__task_get(s, id);
    if (!k) return SW_E_STALE;
    task_destroy(s, sw_handle_slot(id));
    return SW_OK;
}

int sw_kill(sw_tasklet *t, sw_id id) { return sw_sched_kill(t->sched, id); }

bool sw_sched_alive(const sw_sched *s, sw_id id) { return sw__task_get(s, id) != NULL; }
uint32_t sw_sched_count(const sw_sched *s) { return s->live; }
uint32_t sw_sched_count_kind(const sw_sched *s, int ki) {
    return ki >= 0 && ki < s->nkinds ? s->kinds[ki].live : 0;
}
uint32_t sw_sched_slot_limit(const sw_sched *s) { return s->ntasks; }

sw_id sw_sched_id_at(const sw_sched *s, uint32_t slot) {
    if (slot >= s->ntasks) return SW_ID_NONE;
    const struct sw__task *k = &s->tasks[slot];
    if (k->state == SW_TASK_FREE || k->state == SW_TASK_ZOMBIE) return SW_ID_NONE;
    return sw_handle_make(slot, k->gen);
}

sw_id sw_sched_next(const sw_sched *s, sw_id after) {
    uint32_t slot = after == SW_ID_NONE ? 0 : sw_handle_slot(after) + 1;
    for (; slot < s->ntasks; slot++) {
        sw_id id = sw_sched_id_at(s, slot);
        if (id) return id;
    }
    return SW_ID_NONE;
}

void *sw_sched_frame(const sw_sched *s, sw_id id) {
    struct sw__task *k = sw__task_get(s, id);
    sw__frame *f = k ? sw__root_frame(k) : NULL;
    return f ? f + 1 : NULL;
}

void *sw_sched_frame_fresh(sw_sched *s, sw_id id) {
    struct sw__task *k = sw__task_get(s, id);
    sw__frame *f = k ? sw__root_frame(k) : NULL;
    if (!f) return NULL;
    sw__refresh(s, k, sw_handle_slot(id), f + 1);
    return f + 1;
}

const sw_kind *sw_sched_kind_of(const sw_sched *s, sw_id id) {
    struct sw__task *k = sw__task_get(s, id);
    return k ? s->kinds[k->kind].kind : NULL;
}

const char *sw_task_state_name(sw_task_state st) {
    static const char *const names[] = {"free", "runnable", "running", "sleeping",
                                        "receiving", "sending", "zombie"};
    return (unsigned)st < sizeof names / sizeof *names ? names[st] : "?";
}

int sw_sched_inspect(const sw_sched *s, sw_id id, sw_task_info *out) {
    struct sw__task *k = sw__task_get(s, id);
    if (!k) return SW_E_STALE;
    memset(out, 0, sizeof *out);
    out->id = id;
    out->kind = s->kinds[k->kind].kind;
    out->state = (sw_task_state)k->state;
    if (k->state == SW_TASK_SLEEPING) out->wake = k->wait;
    if (k->state == SW_TASK_RECV || k->state == SW_TASK_SEND) out->chan = k->wait;
    for (sw__frame *f = k->top; f; f = f->parent) out->depth++;
    const sw__funcent *fe = &s->funcs[k->top->fn];
    out->func = fe->fn->name;
    out->point = k->top->pc < fe->npoints ? fe->points[k->top->pc] : "?";
    out->rng_counter = k->rng;
    return SW_OK;
}

/* ---- the tick --------------------------------------------------------------- */

/* A tasklet that exited, failed or was killed while running: leave and free. */
static void task_gone(sw_sched *s, uint32_t slot) {
    struct sw__task *k = &s->tasks[slot];
    if (k->state != SW_TASK_ZOMBIE) {
        s->live--;
        s->kinds[k->kind].live--;
        k->state = SW_TASK_ZOMBIE;
        notify_death(s, slot);
        k = &s->tasks[slot]; /* the hook may have spawned */
    }
    free_frames(s, k);
    sw__slot_free(s, slot);
}

/* The cold ends of sw__run_task (sched_int.h): a tasklet killed while queued,
 * and one that exited, failed or was killed while running. */
void sw__run_zombie(sw_sched *s, uint32_t slot) { sw__slot_free(s, slot); }
void sw__run_gone(sw_sched *s, uint32_t slot) { task_gone(s, slot); }

static void report_blocked(sw_sched *s) {
    sw__reportf(s, "deadlock at tick %llu: %llu tasklet(s) blocked on channels that nothing can wake\n",
                (unsigned long long)s->now, (unsigned long long)s->blocked_hard);
    for (uint32_t slot = 0; slot < s->ntasks; slot++) {
        struct sw__task *k = &s->tasks[slot];
        if (k->state != SW_TASK_RECV && k->state != SW_TASK_SEND) continue;
        sw__chan *c = sw__chan_get(s, k->wait);
        if (c && c->kind == SW_CHAN_EVENT) continue;
        const sw__funcent *fe = &s->funcs[k->top->fn];
        sw__reportf(s, "  %s #%u (id %llu) at %s:%s %s channel %u (%s, balance %d)\n",
                    s->kinds[k->kind].kind->name, slot,
                    (unsigned long long)sw_handle_make(slot, k->gen), fe->fn->name,
                    k->top->pc < fe->npoints ? fe->points[k->top->pc] : "?",
                    k->state == SW_TASK_RECV ? "receiving on" : "sending on",
                    sw_handle_slot(k->wait),
                    c ? (c->kind == SW_CHAN_BUFFERED ? "buffered" : "rendezvous") : "freed",
                    c ? c->balance : 0);
    }
}

int sw_sched_step(sw_sched *s) {
    s->report_len = 0;
    if (s->report) s->report[0] = '\0';
    s->error = SW_OK;
    s->resumes = 0;
    s->now++;
    sw__fire_timers(s);
    for (int i = 0; i < s->nstart; i++) s->start_hooks[i].fn(s, s->start_hooks[i].ud);
    if (s->ordered) sw__order_batch(s);
    s->in_run = true;
    if (s->keyed) {
        sw__run_keyed(s);
        goto done;
    }
    /* The run queue, in order: the run-next stack (after the turn that
       filled it: sw__run_turn), the batch, the FIFO of tasklets woken during
       the tick. The batch's array and length do not change during the run
       phase (cancelled timers become tombstones in place), so the loop keeps
       them in registers. */
    const uint32_t *items = s->ready.items;
    uint32_t pos = s->ready_pos, n = s->ready.n, pf_end = sw__prefetch_end(n);
    for (;;) {
        uint32_t slot;
        if (pos < n) {
            slot = items[pos++];
            /* prefetch ahead in the batch, in two stages: the tasklets of a
               sparse tick are scattered across a large table, and each
               frame's address is known only once its tasklet has arrived */
            if (pos < pf_end) {
                uint32_t ahead = items[pos + SW__PREFETCH_TASK], near = items[pos + SW__PREFETCH_FRAME];
                if (ahead != SW__TOMB) { /* a 48-byte record may straddle two lines */
                    __builtin_prefetch(&s->tasks[ahead], 1);
                    __builtin_prefetch((char *)&s->tasks[ahead + 1] - 1, 1);
                }
                if (near != SW__TOMB) __builtin_prefetch(s->tasks[near].top, 1);
            }
            if (__builtin_expect(slot == SW__TOMB, 0)) {
                s->armed += s->ready_lazy; /* see fire_timers */
                continue;
            }
        } else if (s->back_head != SW__NIL) {
            slot = s->back_head;
            s->back_head = s->tasks[slot].next;
            if (s->back_head == SW__NIL) s->back_tail = SW__NIL;
        } else {
            break;
        }
        sw__run_turn(s, slot, false);
    }
done:
    s->keyed = false;
    s->batch_asleep = false;
    s->cur.task = NULL;
    s->in_run = false;
    s->ready.n = 0;
    s->ready_pos = 0;
    s->ready_lazy = false;
    for (int i = 0; i < s->nend; i++) s->end_hooks[i].fn(s, s->end_hooks[i].ud);
    if (s->error) return s->error;
    if (s->blocked_hard > 0 && s->armed == 0 && s->hold <= 0 && s->back_head == SW__NIL) {
        report_blocked(s);
        sw__errf(s, "deadlock at tick %llu: %llu tasklet(s) blocked forever",
                 (unsigned long long)s->now, (unsigned long long)s->blocked_hard);
        return SW_E_DEADLOCK;
    }
    return SW_OK;
}

int sw_sched_run(sw_sched *s, sw_tick ticks) {
    for (sw_tick i = 0; i < ticks; i++) {
        int rc = sw_sched_step(s);
        if (rc != SW_OK) return rc;
    }
    return SW_OK;
}
