/* sched.c - the tick loop, the tasklet table and the timer wheel (the
 * registry of kinds and functions is in kinds.c).
 *
 * Tasklets live in one array indexed by slot (48 bytes each), so the hot
 * loops stream through memory. Free slots form a LIFO list through `next`;
 * a slot's generation is bumped when it is freed, so old handles go stale.
 *
 * Timers: a wheel of 256 buckets, each a plain array of slots in arming
 * order, plus an overflow list for wake-ups 256 or more ticks ahead that is
 * cascaded into the wheel every 256 ticks, in front of the bucket's own
 * entries (they were armed earlier), so timers due together fire in arming
 * order. Arming appends (O(1)); cancelling overwrites the entry with a
 * tombstone found through the tasklet's `pos` (O(1)); firing walks the bucket
 * in order. When nothing else is waiting to run, a due bucket is swapped in
 * as the tick's batch without touching the tasklets ("lazy": they are still
 * marked SLEEPING until they run, and the loop prefetches them ahead), which
 * is what keeps a tick of ten million wake-ups streaming through memory.
 *
 * The run queue has three parts, run in this order: a stack of tasklets to
 * run next (a channel handoff that prefers the woken side, when it cannot run
 * the woken tasklet inline, pushes it and then the current one), the batch
 * woken at the start of the tick, and a FIFO of tasklets woken during the
 * tick -- which between ticks also holds the spawned and the woken, so that
 * waking never allocates; the next tick orders them into the batch. When a
 * kind has a random order, the run loop sorts what joined the FIFO after
 * each turn: the woken of random kinds take a keyed turn, merged into the
 * batch or put off to the next tick (see "keys").
 *
 * Expected load: millions of tasklets, most asleep or blocked; per tick, a
 * few wake-ups each for a fraction of them. The run loop, sw__sleep and the
 * channel handoff are the hot paths (see `swarmlet bench micro`). */
#include "sched_int.h"
#include "rng.h"

#include <math.h>
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
        uint32_t cap = v->cap ? v->cap * 2 : 64;
        uint32_t *items = sw__alloc(s, v->items, (size_t)cap * sizeof *items);
        if (!items) return false;
        v->items = items;
        v->cap = cap;
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

/* ---- the run queue -------------------------------------------------------- */

/* sw__make_runnable and sw__push_front are inline, in sched_int.h. */

static void mark_fifo_keyed(sw_sched *s, uint32_t slot); /* see "keys" */

/* A tasklet joining the FIFO stays there in a keyed run phase (see "keys"). */
static inline void mark_fifo(sw_sched *s, uint32_t slot) {
    if (__builtin_expect(s->keyed && s->in_run, 0)) mark_fifo_keyed(s, slot);
}

/* ---- timers --------------------------------------------------------------- */

static bool vec_reserve(sw_sched *s, sw__vec32 *v, uint32_t need) {
    if (need <= v->cap) return true;
    uint32_t cap = v->cap ? v->cap : 64;
    while (cap < need) cap *= 2;
    uint32_t *items = sw__alloc(s, v->items, (size_t)cap * sizeof *items);
    if (!items) return false;
    v->items = items;
    v->cap = cap;
    return true;
}

/* The common case of arming, inline where it is hot (a birth): within the
 * wheel's turn, into a bucket with room. False, with nothing changed, when
 * sw__timer_arm must do it. */
static inline bool timer_arm_fast(sw_sched *s, struct sw__task *k, uint32_t slot, sw_tick wake) {
    if (wake - s->now >= SW__WHEEL) return false;
    sw__vec32 *b = &s->wheel[wake & SW__WHEEL_MASK];
    if (b->n == b->cap) return false;
    k->pos = b->n;
    b->items[b->n++] = slot;
    k->state = SW_TASK_SLEEPING;
    k->wait = wake;
    s->armed++;
    return true;
}

/* Arm first, then change the tasklet: on failure it is left as it was. */
bool sw__timer_arm(sw_sched *s, uint32_t slot, sw_tick wake) {
    struct sw__task *k = &s->tasks[slot];
    if (wake - s->now < SW__WHEEL) {
        sw__vec32 *b = &s->wheel[wake & SW__WHEEL_MASK];
        if (__builtin_expect(b->n < b->cap, 1)) { /* as in sw__sleep */
            k->pos = b->n;
            b->items[b->n++] = slot;
        } else {
            if (!sw__vec_push(s, b, slot)) return false;
            k->pos = b->n - 1;
        }
    } else {
        if (s->novf == s->ovfcap) {
            uint32_t cap = s->ovfcap ? s->ovfcap * 2 : 64;
            sw__ovf *o = sw__alloc(s, s->ovf, (size_t)cap * sizeof *o);
            if (!o) return false;
            s->ovf = o;
            s->ovfcap = cap;
        }
        k->pos = s->novf | SW__POS_OVF;
        s->ovf[s->novf++] = (sw__ovf){wake, slot};
    }
    k->state = SW_TASK_SLEEPING;
    k->wait = wake;
    s->armed++;
    return true;
}

void sw__timer_cancel(sw_sched *s, uint32_t slot) {
    struct sw__task *k = &s->tasks[slot];
    s->armed--;
    if (k->pos & SW__POS_OVF) {
        s->ovf[k->pos & ~SW__POS_OVF].slot = SW__TOMB;
    } else if (k->wait == s->now && s->ready_lazy) {
        /* fired lazily, not yet run: its tombstone is counted back in when
           the run loop passes it, like any tombstone of a swapped bucket */
        s->ready.items[k->pos] = SW__TOMB;
    } else {
        s->wheel[k->wait & SW__WHEEL_MASK].items[k->pos] = SW__TOMB;
    }
}

/* Every SW__WHEEL ticks, bring the overflow timers due within the next turn
 * of the wheel into their buckets, keeping the overflow's order. An overflow
 * timer due at tick W was armed at or before W - SW__WHEEL, so before every
 * timer armed straight into W's bucket: cascaded timers go in *front* of the
 * bucket's entries, which keeps "timers due in a tick fire in arming order".
 * Everything is reserved before anything moves, so a failed allocation leaves
 * the wheel as it was (the cascade is retried next tick, and a timer whose
 * tick has passed fires in the tick of the retry). */
static bool cascade(sw_sched *s) {
    uint32_t add[SW__WHEEL] = {0}, at[SW__WHEEL];
    bool any = false;
    for (uint32_t i = 0; i < s->novf; i++) {
        sw__ovf o = s->ovf[i];
        if (o.slot == SW__TOMB) continue;
        if ((int64_t)(o.wake - s->now) < 0) o.wake = s->now; /* overdue after a failed cascade */
        if (o.wake - s->now < SW__WHEEL) {
            add[o.wake & SW__WHEEL_MASK]++;
            any = true;
        }
    }
    for (uint32_t b = 0; any && b < SW__WHEEL; b++)
        if (add[b] && !vec_reserve(s, &s->wheel[b], s->wheel[b].n + add[b])) return false;
    for (uint32_t b = 0; any && b < SW__WHEEL; b++) {
        sw__vec32 *v = &s->wheel[b];
        at[b] = 0;
        if (!add[b]) continue;
        memmove(v->items + add[b], v->items, (size_t)v->n * sizeof *v->items);
        for (uint32_t i = add[b]; i < v->n + add[b]; i++)
            if (v->items[i] != SW__TOMB) s->tasks[v->items[i]].pos = i;
        v->n += add[b];
    }
    uint32_t keep = 0;
    for (uint32_t i = 0; i < s->novf; i++) {
        sw__ovf o = s->ovf[i];
        if (o.slot == SW__TOMB) continue;
        struct sw__task *k = &s->tasks[o.slot];
        if ((int64_t)(o.wake - s->now) < 0) o.wake = k->wait = s->now;
        if (o.wake - s->now < SW__WHEEL) {
            uint32_t b = o.wake & SW__WHEEL_MASK;
            s->wheel[b].items[at[b]] = o.slot;
            k->pos = at[b]++;
        } else {
            k->pos = keep | SW__POS_OVF;
            s->ovf[keep++] = o;
        }
    }
    s->novf = keep;
    return true;
}

/* Put the timers due now in line to run. When nothing else is waiting, the
 * whole bucket becomes the batch without touching a tasklet; otherwise its
 * tasklets join the back of the queue after those already waiting. */
static void fire_timers(sw_sched *s) {
    if (s->novf && ((s->now & SW__WHEEL_MASK) == 0 || s->cascade_retry)) {
        s->cascade_retry = !cascade(s);
        if (s->cascade_retry) {
            sw__errf(s, "out of memory moving timers into the wheel");
            s->error = SW_E_NOMEM;
        }
    }
    sw__vec32 *b = &s->wheel[s->now & SW__WHEEL_MASK];
    if (b->n == 0) return;
    if (s->ready.n == 0 && s->back_head == SW__NIL) {
        sw__vec32 t = s->ready;
        s->ready = *b;
        *b = t;
        s->ready_lazy = true;
        /* uncount them all now, without a pass over the bucket; each
           tombstone is counted back when the run loop (or the ordering
           pass) skips it, since its timer was uncounted when cancelled */
        s->armed -= s->ready.n;
        return;
    }
    for (uint32_t i = 0; i < b->n; i++) {
        uint32_t slot = b->items[i];
        if (slot == SW__TOMB) continue;
        s->armed--;
        sw__make_runnable(s, slot);
    }
    b->n = 0;
}

/* ---- tasklets -------------------------------------------------------------- */

static uint32_t slot_alloc(sw_sched *s) {
    if (s->free_head != SW__NIL) {
        uint32_t slot = s->free_head;
        s->free_head = s->tasks[slot].next;
        return slot;
    }
    if (s->ntasks == UINT32_MAX - 1) return SW__NIL;
    if (s->ntasks == s->taskcap) {
        uint32_t cap = s->taskcap ? s->taskcap * 2 : 1024;
        struct sw__task *t = sw__alloc(s, s->tasks, (size_t)cap * sizeof *t);
        if (!t) return SW__NIL;
        s->tasks = t;
        s->taskcap = cap;
        /* the running tasklets' views must follow the table they point into
           (an idle inline-run view too: harmless, and no test needed) */
        if (s->cur.task) s->cur.task = &t[s->cur.slot];
        s->nest.task = &t[s->nest.slot];
    }
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

static void slot_free(sw_sched *s, uint32_t slot) {
    struct sw__task *k = &s->tasks[slot];
    k->state = SW_TASK_FREE;
    k->gen = k->gen == UINT32_MAX ? 1 : k->gen + 1;
    k->next = s->free_head;
    s->free_head = slot;
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
    /* fired into a shuffled batch still asleep (see gather_asleep): it is
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
    if (!queued) slot_free(s, slot);
}

/* `hint`: a kind index likely to be `kind`'s (the spawner's own kind, or the
 * last spawned), checked before the registry's search. */
static sw_id spawn(sw_sched *s, const sw_kind *kind, const void *params, sw_tick delay, uint32_t hint) {
    int ki = (int)hint;
    if (!(hint < (uint32_t)s->nkinds && s->kinds[hint].kind == kind)) {
        ki = sw_sched_add_kind(s, kind);
        if (ki < 0) return SW_ID_NONE;
        s->spawn_hint = (uint32_t)ki;
    }
    uint32_t slot = slot_alloc(s);
    if (slot == SW__NIL) {
        sw__errf(s, "out of memory spawning a %s", kind->name);
        return SW_ID_NONE;
    }
    sw__frame *f = sw__frame_new(s, s->kinds[ki].func);
    if (!f) {
        slot_free(s, slot);
        sw__errf(s, "out of memory spawning a %s", kind->name);
        return SW_ID_NONE;
    }
    void *frame = f + 1;
    if (params) {
        memcpy(frame, params, kind->frame_size);
    } else {
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
        mark_fifo(s, slot);
    } else if (!timer_arm_fast(s, k, slot, s->now + delay) && !sw__timer_arm(s, slot, s->now + delay)) {
        k->top = NULL;
        sw__frame_free(s, f);
        slot_free(s, slot);
        sw__errf(s, "out of memory spawning a %s", kind->name);
        return SW_ID_NONE;
    }
    s->live++;
    s->kinds[ki].live++;
    sw_id id = sw_handle_make(slot, k->gen);
    if (s->on_spawn) s->on_spawn(s, id, s->spawn_ud);
    if (kind->init && sw__task_get(s, id)) {
        /* hooks may have spawned and moved the table; init may kill it */
        sw_tasklet view = {.sched = s, .task = &s->tasks[slot], .slot = slot, .context = s->d.context};
        kind->init(&view, frame);
    }
    return id;
}

sw_id sw_sched_spawn(sw_sched *s, const sw_kind *kind, const void *params, sw_tick delay) {
    if (!s || !kind) return SW_ID_NONE;
    return spawn(s, kind, params, delay, s->spawn_hint);
}

sw_id sw_spawn(sw_tasklet *t, const sw_kind *kind, const void *params, sw_tick delay) {
    sw_sched *s = t->sched;
    uint32_t cur = t->slot;
    uint32_t own = t->task->kind;
    sw_id id = spawn(s, kind, params, delay, s->kinds[own].kind == kind ? own : s->spawn_hint);
    t->task = &s->tasks[cur]; /* the table may have moved */
    return id;
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

static sw__frame *root_frame(const struct sw__task *k) {
    sw__frame *f = k->top;
    while (f && f->parent) f = f->parent;
    return f;
}

void *sw_sched_frame(const sw_sched *s, sw_id id) {
    struct sw__task *k = sw__task_get(s, id);
    sw__frame *f = k ? root_frame(k) : NULL;
    return f ? f + 1 : NULL;
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

/* ---- inside a tasklet ------------------------------------------------------ */

sw_id sw_self(const sw_tasklet *t) { return sw_handle_make(t->slot, t->task->gen); }
sw_tick sw_now(const sw_tasklet *t) { return t->sched->now; }
sw_sched *sw_sched_of(const sw_tasklet *t) { return t->sched; }
const sw_kind *sw_kind_of(const sw_tasklet *t) { return t->sched->kinds[t->task->kind].kind; }
int sw_status(const sw_tasklet *t) { return t->task->status; }
void *sw_context(const sw_tasklet *t) { return t->context; }
void *sw_root_frame(const sw_tasklet *t) { return root_frame(t->task) + 1; }

/* The key (two SplitMix64 rounds) is worked out at the first draw after the
 * view was handed to this tasklet, then kept in the view: a draw is one round. */
static inline __attribute__((always_inline)) uint64_t rand_next(sw_tasklet *t) {
    uint64_t key;
    if (__builtin_expect(t->keyed, 0)) {
        key = t->rng_key;
    } else {
        key = sw_rng_key(t->sched->d.seed, sw_self(t));
        t->rng_key = key;
        t->keyed = 1;
    }
    return sw_rng_at(key, t->task->rng++);
}

uint64_t sw_rand_u64(sw_tasklet *t) { return rand_next(t); }

double sw_rand_unit(sw_tasklet *t) { return sw_rng_unit(rand_next(t)); }

/* Lemire's nearly divisionless method: a draw whose low half is below
 * 2^64 mod n is biased and drawn again. That test needs a division, and only
 * draws with a low half below n can fail it: rarely, so out of line. */
static __attribute__((noinline)) uint64_t rand_below_slow(sw_tasklet *t, uint64_t n, __uint128_t m) {
    uint64_t threshold = (0 - n) % n;
    while ((uint64_t)m < threshold) {
        m = (__uint128_t)rand_next(t) * n;
        if ((uint64_t)m >= n) break;
    }
    return (uint64_t)(m >> 64);
}

uint64_t sw_rand_below(sw_tasklet *t, uint64_t n) {
    if (n == 0) return 0;
    __uint128_t m = (__uint128_t)rand_next(t) * n;
    if (__builtin_expect((uint64_t)m >= n, 1)) return (uint64_t)(m >> 64);
    return rand_below_slow(t, n, m);
}

/* Past the watchdog's limit (see sw__spin_check): the tasklet is reported,
 * and killed by the caller's SW_STEP_FAIL. */
bool sw__spin_fail(sw_sched *s, struct sw__task *k, uint32_t slot) {
    sw_id id = sw_handle_make(slot, k->gen);
    const sw__funcent *fe = &s->funcs[k->top->fn];
    sw__reportf(s, "watchdog: %s #%u (id %llu) ran %u resumes/operations in tick %llu without "
                   "blocking or sleeping; last resume point %s:%s\n",
                s->kinds[k->kind].kind->name, slot, (unsigned long long)id, k->spin - 1,
                (unsigned long long)s->now, fe->fn->name,
                k->top->pc < fe->npoints ? fe->points[k->top->pc] : "?");
    sw__errf(s, "watchdog: a %s ran too long without suspending (see the report)",
             s->kinds[k->kind].kind->name);
    s->error = SW_E_WATCHDOG;
    return false;
}

sw_step sw__spin_fail_step(sw_sched *s, struct sw__task *k, uint32_t slot) {
    sw__spin_fail(s, k, slot);
    return SW_STEP_FAIL;
}

sw_step sw__yield(sw_tasklet *t) {
    sw_sched *s = t->sched;
    if (t->task->state == SW_TASK_ZOMBIE) return SW_STEP_EXIT;
    sw__make_runnable(s, t->slot);
    mark_fifo(s, t->slot);
    return SW_STEP_WAIT;
}

/* Sleeps beyond the wheel's turn, into a full bucket, or of 0 ticks. Out of
 * line, so that the common case below needs no stack frame at all. */
static __attribute__((noinline)) sw_step sleep_slow(sw_tasklet *t, sw_tick n) {
    sw_sched *s = t->sched;
    if (n == 0) return sw__yield(t);
    if (!sw__timer_arm(s, t->slot, s->now + n)) {
        sw__errf(s, "out of memory arming a timer");
        s->error = SW_E_NOMEM;
        return SW_STEP_FAIL;
    }
    t->task->spin = 0;
    return SW_STEP_WAIT;
}

sw_step sw__sleep(sw_tasklet *t, sw_tick n) {
    sw_sched *s = t->sched;
    struct sw__task *k = t->task;
    if (k->state == SW_TASK_ZOMBIE) return SW_STEP_EXIT;
    if (n - 1 < SW__WHEEL - 1) {
        /* the common case: within the wheel's turn, and the bucket has room */
        sw_tick wake = s->now + n;
        sw__vec32 *b = &s->wheel[wake & SW__WHEEL_MASK];
        if (__builtin_expect(b->n < b->cap, 1)) {
            k->pos = b->n;
            b->items[b->n++] = t->slot;
            k->state = SW_TASK_SLEEPING;
            k->wait = wake;
            k->spin = 0;
            s->armed++;
            return SW_STEP_WAIT;
        }
    }
    return sleep_slow(t, n);
}

sw_step sw__call(sw_tasklet *t, const sw_func *fn, const void *args, sw_value *result) {
    sw_sched *s = t->sched;
    struct sw__task *k = t->task;
    if (k->state == SW_TASK_ZOMBIE) return SW_STEP_EXIT;
    SW__SPIN_OR_FAIL(s, k, t->slot);
    int fi = fn ? sw__func_index(s, fn) : SW_E_INVALID;
    if (fi < 0) {
        sw__errf(s, "SW_CALL of a function that cannot be registered: %s", s->errmsg);
        s->error = SW_E_INVALID;
        return SW_STEP_FAIL;
    }
    uint32_t ref = SW__NO_REF;
    if (result) {
        ptrdiff_t off = (char *)result - (char *)(k->top + 1);
        uint32_t size = s->funcs[k->top->fn].fn->frame_size;
        if (off < 0 || (size_t)off + sizeof(sw_value) > size) {
            sw__errf(s, "SW_CALL result must point into the caller's frame");
            s->error = SW_E_INVALID;
            return SW_STEP_FAIL;
        }
        ref = (uint32_t)off;
    }
    sw__frame *f = sw__frame_new(s, fi);
    if (!f) {
        sw__errf(s, "out of memory calling %s", fn->name);
        s->error = SW_E_NOMEM;
        return SW_STEP_FAIL;
    }
    if (args) memcpy(f + 1, args, fn->frame_size);
    k->top->ref = ref;
    f->parent = k->top;
    k->top = f;
    return SW_STEP_CALL;
}

sw_step sw__return(sw_tasklet *t, sw_value v) {
    sw_sched *s = t->sched;
    struct sw__task *k = t->task;
    sw__frame *f = k->top;
    if (!f->parent) return SW_STEP_EXIT;
    sw__frame *p = f->parent;
    if (p->ref != SW__NO_REF) memcpy((char *)(p + 1) + p->ref, &v, sizeof v);
    p->ref = SW__NO_REF;
    k->top = p;
    sw__frame_free(s, f);
    return k->state == SW_TASK_ZOMBIE ? SW_STEP_EXIT : SW_STEP_RETURN;
}

sw_step sw__exit(sw_tasklet *t) {
    (void)t;
    return SW_STEP_EXIT;
}

sw_step sw__finish(sw_tasklet *t) {
    if (t->task->top->parent) return sw__return(t, (sw_value){0});
    return SW_STEP_EXIT;
}

sw_step sw__bad_pc(sw_tasklet *t) {
    sw_sched *s = t->sched;
    sw__errf(s, "tasklet #%u resumed at an unknown resume point %u", t->slot, t->task->top->pc);
    s->error = SW_E_INVALID;
    return SW_STEP_FAIL;
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
    slot_free(s, slot);
}

/* The cold ends of sw__run_task (sched_int.h): a tasklet killed while queued,
 * and one that exited, failed or was killed while running. */
void sw__run_zombie(sw_sched *s, uint32_t slot) { slot_free(s, slot); }
void sw__run_gone(sw_sched *s, uint32_t slot) { task_gone(s, slot); }

/* Grow-only scratch of the ordering pass (kept across ticks: no allocation
 * per tick once the batches stop growing). */
static bool order_aux(sw_sched *s, size_t bytes) {
    if (bytes <= s->order_auxcap) return true;
    size_t cap = s->order_auxcap ? s->order_auxcap : 1024;
    while (cap < bytes) cap *= 2;
    void *p = sw__alloc(s, s->order_aux, cap);
    if (!p) return false;
    s->order_aux = p;
    s->order_auxcap = cap;
    return true;
}

static bool order_out(sw_sched *s, uint32_t n) {
    if (n <= s->order_cap) return true;
    uint32_t cap = s->order_cap ? s->order_cap : 64;
    while (cap < n) cap = cap > UINT32_MAX / 2 ? n : cap * 2;
    uint32_t *p = sw__alloc(s, s->order_buf, (size_t)cap * sizeof *p);
    if (!p) return false;
    s->order_buf = p;
    s->order_cap = cap;
    return true;
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Fisher-Yates over the m places pos[0..m) of items, walking from the last
 * back and swapping each with an earlier place chosen uniformly, from the
 * tick's stream at counter *ctr. The draws are sw_rng_at(key, c) for
 * c = *ctr, *ctr + 1, ...: the mixer's input steps by the golden gamma, so
 * the loop adds it instead of multiplying the counter each draw. */
static void shuffle_places(uint32_t *items, const uint32_t *pos, uint32_t m, uint64_t key, uint64_t *ctr) {
    uint64_t x = key + (*ctr + 1) * 0x9e3779b97f4a7c15ULL;
    for (uint32_t i = m - 1; i > 0; i--, x += 0x9e3779b97f4a7c15ULL) {
        uint32_t j = (uint32_t)(((__uint128_t)sw_rng_mix(x) * (i + 1)) >> 64);
        uint32_t pi = pos[i], pj = pos[j];
        uint32_t a = items[pi];
        items[pi] = items[pj];
        items[pj] = a;
    }
    *ctr += m - 1;
}

/* The same over the places 0..m (a rank group that is all random: the common
 * case, every tick in wolf-sheep and flocking), one load fewer a swap. */
static void shuffle_run(uint32_t *items, uint32_t m, uint64_t key, uint64_t *ctr) {
    uint64_t x = key + (*ctr + 1) * 0x9e3779b97f4a7c15ULL;
    for (uint32_t i = m - 1; i > 0; i--, x += 0x9e3779b97f4a7c15ULL) {
        uint32_t j = (uint32_t)(((__uint128_t)sw_rng_mix(x) * (i + 1)) >> 64);
        uint32_t a = items[i];
        items[i] = items[j];
        items[j] = a;
    }
    *ctr += m - 1;
}

/* A kind's ordering word: its rank's index among the distinct ranks, and: */
#define ORDER_RANDOM 0x80000000u /* its places are shuffled */
#define ORDER_RECORD 0x40000000u /* this tick, it shares a rank with fixed places */
#define ORDER_GROUP 0x3fffffffu

/* ---- the per-kind cache of the ordering pass ------------------------------------
 * Each kind's ordering word depends only on the kinds' ranks and random flags,
 * which change rarely (when a kind is added or set), so it is kept from tick to
 * tick: a tick checks the cache against the kinds (a few words) instead of
 * sorting the ranks again. */

static bool kind_random(const sw_sched *s, int i) { return s->kinds[i].random || s->d.random_order; }

static bool kcache_fresh(const sw_sched *s) {
    if (s->kcache_n != s->nkinds || s->kcache_all != s->d.random_order) return false;
    for (int i = 0; i < s->nkinds; i++)
        if (s->krank[i] != s->kinds[i].rank || ((s->kword[i] & ORDER_RANDOM) != 0) != kind_random(s, i))
            return false;
    return true;
}

/* Rebuild the cache; false, with the old one dropped, when out of memory. */
static bool kcache_build(sw_sched *s) {
    int nk = s->nkinds;
    size_t cap = nk ? (size_t)nk : 1;
    s->kcache_n = -1;
    uint32_t *w = sw__alloc(s, s->kword, cap * sizeof *w);
    if (w) s->kword = w;
    int *rk = sw__alloc(s, s->krank, 2 * cap * sizeof *rk); /* the ranks, then the distinct ranks */
    if (rk) s->krank = rk;
    if (!w || !rk) return false;
    int *d = rk + cap;
    for (int i = 0; i < nk; i++) d[i] = rk[i] = s->kinds[i].rank;
    if (nk > 16) {
        qsort(d, (size_t)nk, sizeof *d, cmp_int);
    } else {
        for (int i = 1; i < nk; i++) {
            int v = d[i], j = i;
            for (; j > 0 && d[j - 1] > v; j--) d[j] = d[j - 1];
            d[j] = v;
        }
    }
    uint32_t nr = 0;
    for (int i = 0; i < nk; i++)
        if (nr == 0 || d[nr - 1] != d[i]) d[nr++] = d[i];
    s->any_random = false;
    uint32_t nrandom = 0;
    for (int i = 0; i < nk; i++) {
        uint32_t lo = 0, hi = nr - 1;
        while (lo < hi) {
            uint32_t mid = (lo + hi) / 2;
            if (d[mid] < rk[i]) lo = mid + 1; else hi = mid;
        }
        w[i] = lo | (kind_random(s, i) ? ORDER_RANDOM : 0);
        s->any_random |= kind_random(s, i);
        nrandom += kind_random(s, i);
    }
    s->kuniform = nr == 1 && (nrandom == 0 || nrandom == (uint32_t)nk);
    s->nranks = nr;
    s->kcache_n = nk;
    s->kcache_all = s->d.random_order;
    return true;
}

/* ---- keys: the activation of the woken in random kinds ---------------------------
 * The model: every tasklet of a random kind draws, each tick, an independent
 * key, and the tick runs them by (rank group, key). The batch (the runnable at
 * the start of the run phase) is shuffled by Fisher-Yates as before; its keys
 * are the sorted keys of that many draws, handed out in the shuffled order,
 * which is the same joint law as sorting independent keys (the ranks of
 * independent keys are a uniform permutation, independent of their sorted
 * values). Keys are exponential, z = -ln(U), so the sorted ones come one after
 * the other (Renyi): z(k) = z(k-1) + E(k) / (m - k + 1) over m places. They are
 * computed only in a tick that needs them, and only up to the place running.
 *
 * A tasklet of a random kind woken during the run phase (by a channel) draws
 * its own key, from a stream keyed by the seed and the tick, at its id; if
 * that comes after the key of the turn in progress, it takes its turn in this
 * tick, merged into the batch by key (through a heap); otherwise it joins the
 * next tick's batch. One that has had its turn this tick joins the next tick's
 * batch: no tasklet takes two turns in a tick through a wake-up. Spawned and
 * yielding tasklets and FIFO kinds keep the FIFO behind the batch. */

static double open_unit(uint64_t x) { return ((double)(x >> 11) + 0.5) * 0x1.0p-53; } /* (0, 1) */

/* Grow the per-slot marks to cover `need` slots (zeroed: no mark). */
static bool marks_fit(sw_sched *s, uint32_t need) {
    if (need <= s->markcap) return true;
    uint32_t cap = s->markcap ? s->markcap : 64;
    while (cap < need) cap = cap > UINT32_MAX / 2 ? need : cap * 2;
    if (cap < s->taskcap) cap = s->taskcap;
    uint64_t *m = sw__alloc(s, s->marks, (size_t)cap * sizeof *m);
    if (!m) return false;
    memset(m + s->markcap, 0, (size_t)(cap - s->markcap) * sizeof *m);
    s->marks = m;
    s->markcap = cap;
    return true;
}

/* A tasklet that joins the FIFO in the run phase of a keyed tick (spawned or
 * yielding) stays there: marked so that the triage lets it through. */
static void mark_fifo_keyed(sw_sched *s, uint32_t slot) {
    if (marks_fit(s, slot + 1)) {
        s->marks[slot] = s->epoch << 1 | 1;
    } else { /* it runs in this tick all the same, behind the batch */
        sw__errf(s, "out of memory ordering the tick's wake-ups");
        s->error = SW_E_NOMEM;
    }
}

static void list_append(sw_sched *s, uint32_t *head, uint32_t *tail, uint32_t slot) {
    s->tasks[slot].next = SW__NIL;
    if (*tail == SW__NIL)
        *head = slot;
    else
        s->tasks[*tail].next = slot;
    *tail = slot;
}

/* Advance the key cursor over the batch through place p (relative to the
 * batch's start): afterwards kc_g is p's rank group, kc_rnd whether p is a
 * random place, and kc_z, kc_slot the key and slot of the last random place
 * of that group up to p (0 when none). */
static void cursor_to(sw_sched *s, uint32_t p) {
    const uint32_t *items = s->ready.items + s->kb_base;
    while (s->kc_pos <= p) {
        uint32_t q = s->kc_pos++;
        while (q >= s->kb_gend[s->kc_g]) {
            s->kc_rbase += s->kb_grc[s->kc_g++];
            s->kc_k = 0;
            s->kc_z = 0;
            s->kc_slot = 0;
        }
        uint32_t g = s->kc_g, m = s->kb_grc[g], start = g ? s->kb_gend[g - 1] : 0;
        s->kc_rnd = m == s->kb_gend[g] - start ||
                    (m && s->kc_k < m && s->kb_rpos[s->kc_rbase + s->kc_k] == q);
        if (!s->kc_rnd) continue;
        s->kc_k++;
        double e = -log(open_unit(sw_rng_at(s->kb_rng, (uint64_t)g << 32 | s->kc_k)));
        s->kc_z += e / (double)(m - s->kc_k + 1);
        s->kc_slot = items[q];
    }
}

static bool key_before(uint32_t g, double z, uint32_t slot, uint32_t g2, double z2, uint32_t slot2) {
    if (g != g2) return g < g2;
    if (z != z2) return z < z2;
    return slot < slot2;
}

/* Whether a tasklet of rank group g and key z comes after the turn in progress. */
static bool after_current(sw_sched *s, uint32_t g, double z, uint32_t slot) {
    if (s->cur_src == SW__CUR_END) return false;
    /* a woken tasklet's turn, until the batch moves on (the run loop leaves
       cur_src alone for the batch's turns, to save a store a turn) */
    if (s->cur_src == SW__CUR_WOKEN && s->woken_at == s->ready_pos)
        return key_before(s->cur_g, s->cur_z, s->cur_slot, g, z, slot);
    if (s->ready_pos == s->kb_base) return true; /* no turn yet */
    cursor_to(s, s->ready_pos - 1 - s->kb_base);
    return key_before(s->kc_g, s->kc_z, s->kc_slot, g, z, slot);
}

/* Whether the first woken of the heap runs before the batch's place p: in an
 * earlier rank group, or in p's group before p's key. A fixed place (a FIFO
 * kind sharing the rank) keeps its place: the woken wait for the next random
 * place or the end of their group. */
static bool woken_first(sw_sched *s, uint32_t p) {
    cursor_to(s, p);
    const sw__woken *h = &s->heap[0];
    if (h->g != s->kc_g) return h->g < s->kc_g;
    return s->kc_rnd && key_before(h->g, h->z, h->slot, s->kc_g, s->kc_z, s->kc_slot);
}

static bool heap_less(const sw__woken *a, const sw__woken *b) { return key_before(a->g, a->z, a->slot, b->g, b->z, b->slot); }

static bool heap_push(sw_sched *s, sw__woken w) {
    if (s->nheap == s->heapcap) {
        uint32_t cap = s->heapcap ? s->heapcap * 2 : 64;
        sw__woken *h = sw__alloc(s, s->heap, (size_t)cap * sizeof *h);
        if (!h) return false;
        s->heap = h;
        s->heapcap = cap;
    }
    uint32_t i = s->nheap++;
    while (i > 0 && heap_less(&w, &s->heap[(i - 1) / 2])) {
        s->heap[i] = s->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->heap[i] = w;
    return true;
}

static sw__woken heap_pop(sw_sched *s) {
    sw__woken top = s->heap[0], last = s->heap[--s->nheap];
    uint32_t i = 0, n = s->nheap;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && heap_less(&s->heap[c + 1], &s->heap[c])) c++;
        if (!heap_less(&s->heap[c], &last)) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n) s->heap[i] = last;
    return top;
}

/* Mark the batch's tasklets that have had their turn since the last call: done
 * when a tasklet of a random kind is woken (only then is it asked), so that
 * the run loop marks none (a spawned tasklet in a slot freed by the batch
 * keeps its own mark). */
static void mark_batch_run(sw_sched *s) {
    uint64_t turn = s->epoch << 1;
    const uint32_t *items = s->ready.items;
    for (uint32_t i = s->kb_marked; i < s->ready_pos; i++)
        if (s->marks[items[i]] != (turn | 1)) s->marks[items[i]] = turn;
    s->kb_marked = s->ready_pos;
}

/* Sort what joined the FIFO during the turn just ended (the entries after
 * back_seen): the woken of random kinds leave it, to take their turn by key
 * (this tick or the next); the rest stay, to run behind the batch in FIFO
 * order, without being moved or copied. */
static void triage(sw_sched *s) {
    uint64_t turn = s->epoch << 1;
    uint32_t prev = s->back_seen, slot = prev == SW__NIL ? s->back_head : s->tasks[prev].next;
    while (slot != SW__NIL) {
        struct sw__task *k = &s->tasks[slot];
        uint32_t next = k->next;
        uint32_t w = (int)k->kind < s->kcache_n ? s->kword[k->kind] : 0;
        if (k->state != SW_TASK_RUNNABLE || !(w & ORDER_RANDOM) || slot >= s->markcap) {
            prev = slot; /* stays */
            slot = next;
            continue;
        }
        if (s->kb_marked != s->ready_pos) mark_batch_run(s);
        if (s->marks[slot] == (turn | 1)) { /* spawned or yielded: stays */
            s->marks[slot] = turn;
            prev = slot;
            slot = next;
            continue;
        }
        /* leaves the FIFO */
        if (prev == SW__NIL)
            s->back_head = next;
        else
            s->tasks[prev].next = next;
        if (s->back_tail == slot) s->back_tail = prev;
        if (s->marks[slot] == turn) { /* had its turn */
            list_append(s, &s->def_head, &s->def_tail, slot);
        } else {
            s->marks[slot] = turn;
            double z = -log(open_unit(sw_rng_at(s->kw_rng, sw_handle_make(slot, k->gen))));
            uint32_t g = w & ORDER_GROUP;
            if (!after_current(s, g, z, slot)) {
                list_append(s, &s->def_head, &s->def_tail, slot);
            } else if (!heap_push(s, (sw__woken){z, g, slot})) {
                sw__errf(s, "out of memory ordering the tick's wake-ups");
                s->error = SW_E_NOMEM;
                list_append(s, &s->def_head, &s->def_tail, slot); /* the next tick, then */
            }
        }
        slot = next;
    }
    s->back_seen = prev;
}

/* Start a keyed run phase over the batch ready[base..), laid out in rank
 * groups (gend: each group's end, grc: its random places, rpos: the random
 * places of groups that mix random and fixed kinds, in order). */
static void keyed_begin(sw_sched *s, uint32_t base, const uint32_t *gend, const uint32_t *grc,
                        const uint32_t *rpos) {
    if (!marks_fit(s, s->ntasks)) {
        sw__errf(s, "out of memory ordering the tick's wake-ups");
        s->error = SW_E_NOMEM;
        return; /* the woken run unordered this tick */
    }
    s->keyed = true;
    s->epoch++;
    s->cur_src = SW__CUR_BATCH;
    s->kb_base = s->kb_marked = base;
    s->kb_gend = gend;
    s->kb_grc = grc;
    s->kb_rpos = rpos;
    s->kc_pos = s->kc_g = s->kc_k = s->kc_rbase = s->kc_slot = 0;
    s->kc_rnd = false;
    s->kc_z = 0;
    s->kb_rng = sw_rng_key(s->d.seed, 0x6b65797300000000ULL ^ s->now);
    s->kw_rng = sw_rng_key(s->d.seed, 0x776f6b656e000000ULL ^ s->now);
    s->def_head = s->def_tail = s->back_seen = SW__NIL;
    s->nheap = 0;
}

/* Drop the batch's dead entries (tombstones, zombies) in place, mark the
 * lazily fired runnable, and note each entry's kind, the count per kind and
 * where each run of one kind starts (runs[0..*nruns); keys NULL: no scratch).
 * Returns the entries left. The restrict pointers tell the compiler that the
 * stores cannot change what the loop reads, so it keeps everything in
 * registers; inlined twice (with and without keys), so that the loop tests
 * no flag per entry. */
static inline __attribute__((always_inline)) uint32_t gather_entries(sw_sched *s, uint32_t *restrict items,
                                                                     uint32_t total, uint16_t *restrict keys,
                                                                     uint32_t *restrict cntk,
                                                                     uint32_t *restrict runs, uint32_t *nruns) {
    struct sw__task *tasks = s->tasks;
    uint32_t n = 0, tombs = 0, nr = 0, prev = UINT32_MAX;
    for (uint32_t i = 0; i < total; i++) {
        uint32_t slot = items[i];
        if (slot == SW__TOMB) {
            tombs++;
            continue;
        }
        struct sw__task *k = &tasks[slot];
        if (k->state == SW_TASK_ZOMBIE) {
            slot_free(s, slot);
            continue;
        }
        if (k->state == SW_TASK_SLEEPING) k->state = SW_TASK_RUNNABLE;
        items[n] = slot;
        if (keys) {
            uint16_t kind = k->kind;
            keys[n] = kind;
            cntk[kind]++;
            if (kind != prev) {
                runs[nr++] = n;
                prev = kind;
            }
        }
        n++;
    }
    if (s->ready_lazy) s->armed += tombs; /* see fire_timers */
    if (keys) *nruns = nr;
    return n;
}

static uint32_t gather_batch(sw_sched *s, uint32_t *restrict items, uint32_t total, uint16_t *restrict keys,
                             uint32_t *restrict cntk, uint32_t *restrict runs, uint32_t *nruns) {
    if (keys) return gather_entries(s, items, total, keys, cntk, runs, nruns);
    return gather_entries(s, items, total, NULL, NULL, NULL, NULL);
}

/* The gather of a batch that needs no entry's kind and is shuffled whole (one
 * rank, every kind random: flocking, Schelling) and whose first `lazy` entries
 * are a swapped-in bucket: those only lose their tombstones, without touching
 * their tasklets, which stay SLEEPING until their turn (as in a tick without
 * ordering) -- `batch_asleep` tells task_destroy that such a tasklet, killed
 * before its turn, is queued (its `pos` no longer gives its place). Only the
 * FIFO's entries (spawned or woken between ticks) are checked for zombies,
 * in order, as gather_entries does. Returns the entries left. */
static uint32_t gather_asleep(sw_sched *s, uint32_t *restrict items, uint32_t lazy, uint32_t total) {
    uint32_t n = 0, tombs = 0;
    for (uint32_t i = 0; i < lazy; i++) {
        uint32_t slot = items[i];
        items[n] = slot;
        n += slot != SW__TOMB;
        tombs += slot == SW__TOMB;
    }
    s->armed += tombs; /* see fire_timers */
    for (uint32_t i = lazy; i < total; i++) {
        uint32_t slot = items[i];
        if (s->tasks[slot].state == SW_TASK_ZOMBIE) {
            slot_free(s, slot);
            continue;
        }
        items[n++] = slot;
    }
    s->batch_asleep = true;
    return n;
}

/* The counting sort's scatter, one run per kind (restrict: as above). A
 * batch is mostly a few long runs of one kind (the tasklets that slept one
 * tick come back in the order they ran: by rank already), so when its runs
 * are long on average they move whole, a copy each; otherwise entry by entry. */
#define SCATTER_RUN_MIN 16 /* the average run length that makes copying whole runs pay */
static void scatter_by_kind(uint32_t *restrict out, uint32_t *restrict offk, const uint16_t *restrict keys,
                            const uint32_t *restrict items, uint32_t n, const uint32_t *restrict runs,
                            uint32_t nruns) {
    if ((uint64_t)nruns * SCATTER_RUN_MIN <= n) {
        for (uint32_t r = 0; r < nruns; r++) {
            uint32_t b = runs[r], e = r + 1 < nruns ? runs[r + 1] : n, kind = keys[b];
            memcpy(out + offk[kind], items + b, (size_t)(e - b) * sizeof *out);
            offk[kind] += e - b;
        }
        return;
    }
    for (uint32_t i = 0; i < n; i++) out[offk[keys[i]]++] = items[i];
}

/* Put the batch in activation order: by kind rank (stable), and shuffled
 * among the places held by kinds that ask for a random order: within each
 * rank, in increasing rank order, a Fisher-Yates over the sub-sequence of
 * places held by random kinds, all from one stream keyed by the tick.
 *
 * One pass over the batch drops the dead entries, counts each kind's
 * entries and notes each entry's kind; a second, over those notes, scatters
 * the entries by rank into a buffer that then becomes the batch (a counting
 * sort: stable), recording where the random places fell when a rank mixes
 * random and fixed kinds. No tasklet is touched after the first pass, and
 * the scratch is kept on the scheduler. The rank groups and random places
 * stay in the scratch through the run phase, for the keys. */
static void order_batch(sw_sched *s) {
    sw__vec32 *r = &s->ready;
    s->keyed = false;
    uint32_t lazy_end = r->n; /* the swapped-in bucket's end, if ready_lazy */
    /* gather what was woken between ticks and in tick-start hooks (the
       intrusive FIFO) behind the timers into the one array to order; out of
       memory, the rest stay queued behind it, in the same order */
    for (uint32_t slot = s->back_head; slot != SW__NIL;) {
        uint32_t next = s->tasks[slot].next;
        if (!sw__vec_push(s, r, slot)) {
            s->back_head = slot;
            sw__errf(s, "out of memory ordering the tick's wake-ups");
            s->error = SW_E_NOMEM;
            return; /* they run unordered this tick */
        }
        slot = next;
    }
    s->back_head = s->back_tail = SW__NIL;
    uint32_t rp = s->ready_pos, total = r->n - rp;
    int nk = s->nkinds;
    bool cached = kcache_fresh(s) || kcache_build(s);
    uint32_t nr = s->nranks;
    /* scratch: per kind its count, next place and ordering word of this
       tick; per rank group its count, random count, next place, next random
       place and end; per entry its place if random and its kind; and where
       each run of one kind starts (at most one per entry, and one more) */
    size_t tab = ((size_t)nk * 3 + (size_t)nr * 5 + 1) * sizeof(uint32_t);
    bool scratch = cached && order_aux(s, tab + (size_t)total * (2 * sizeof(uint32_t) + sizeof(uint16_t)));
    uint32_t *cntk = NULL, *offk = NULL, *kinfo = NULL, *cnt = NULL, *rcnt = NULL, *off = NULL,
             *poff = NULL, *gend = NULL, *pos = NULL, *runs = NULL, nruns = 0;
    uint16_t *keys = NULL;
    if (scratch) {
        cntk = s->order_aux;
        offk = cntk + nk;
        kinfo = offk + nk;
        cnt = kinfo + nk;
        rcnt = cnt + nr;
        off = rcnt + nr;
        poff = off + nr;
        gend = poff + nr;
        pos = gend + nr;
        runs = pos + total;
        keys = (uint16_t *)(runs + total + 1);
        memset(cntk, 0, (size_t)nk * sizeof *cntk);
    }
    uint32_t *items = r->items + rp;
    /* one rank group whose kinds are all random or all fixed (flocking,
       Schelling): the places need no kinds, so the gather notes none */
    bool uniform = scratch && s->kuniform;
    uint32_t n = uniform && s->ready_lazy && (s->kword[0] & ORDER_RANDOM)
                     ? gather_asleep(s, items, lazy_end - rp, total)
                     : gather_batch(s, items, total, uniform ? NULL : keys, cntk, runs, &nruns);
    r->n = rp + n;
    s->ready_lazy = false;
    if (!scratch) {
        if (n >= 2 || (cached && s->any_random)) {
            sw__errf(s, "out of memory ordering the tick's wake-ups");
            s->error = SW_E_NOMEM;
        }
        return;
    }
    /* the counts per rank group */
    const uint32_t *kw = s->kword;
    memset(cnt, 0, (size_t)nr * sizeof *cnt);
    memset(rcnt, 0, (size_t)nr * sizeof *rcnt);
    bool any_random = false, kind_per_rank = true;
    if (uniform) {
        cnt[0] = n;
        rcnt[0] = kw[0] & ORDER_RANDOM ? n : 0;
        any_random = rcnt[0] != 0;
    }
    for (int i = 0; i < nk && !uniform; i++) {
        if (!cntk[i]) continue;
        uint32_t g = kw[i] & ORDER_GROUP;
        kind_per_rank &= cnt[g] == 0;
        cnt[g] += cntk[i];
        if (kw[i] & ORDER_RANDOM) {
            rcnt[g] += cntk[i];
            any_random = true;
        }
    }
    for (uint32_t g = 0, o = 0; g < nr; g++) gend[g] = o += cnt[g];
    if (s->any_random) keyed_begin(s, rp, gend, rcnt, pos);
    if (n == 0) return;
    uint64_t key = any_random ? sw_rng_key(s->d.seed, 0x0dde5eed00000000ULL ^ s->now) : 0, ctr = 0;
    uint32_t g0 = uniform ? 0 : kw[keys[0]] & ORDER_GROUP;
    if (cnt[g0] == n) { /* one rank: nothing to sort */
        uint32_t m = rcnt[g0];
        if (m == 0 || m == n) {
            if (m >= 2) shuffle_run(items, m, key, &ctr);
            return;
        }
        uint32_t q = 0;
        for (uint32_t i = 0; i < n; i++)
            if (kw[keys[i]] & ORDER_RANDOM) pos[q++] = i;
        if (m >= 2) shuffle_places(items, pos, m, key, &ctr);
        return;
    }
    if (!order_out(s, n)) {
        sw__errf(s, "out of memory ordering the tick's wake-ups");
        s->error = SW_E_NOMEM;
        s->keyed = false; /* the layout does not match the batch */
        return;
    }
    uint32_t *out = s->order_buf;
    for (uint32_t g = 0, o = 0, p = 0; g < nr; g++) {
        off[g] = o;
        poff[g] = p;
        o += cnt[g];
        p += rcnt[g];
    }
    if (kind_per_rank) {
        /* the common case (one kind per rank): each kind's places are one
           run, wholly random or wholly fixed */
        for (int i = 0; i < nk; i++) offk[i] = off[kw[i] & ORDER_GROUP];
        scatter_by_kind(out, offk, keys, items, n, runs, nruns);
    } else {
        for (int i = 0; i < nk; i++) {
            uint32_t g = kw[i] & ORDER_GROUP;
            kinfo[i] = kw[i] | ((kw[i] & ORDER_RANDOM) && rcnt[g] != cnt[g] ? ORDER_RECORD : 0);
        }
        for (uint32_t i = 0; i < n; i++) {
            uint32_t kv = kinfo[keys[i]], g = kv & ORDER_GROUP, d = off[g]++;
            out[d] = items[i];
            if (kv & ORDER_RECORD) pos[poff[g]++] = d;
        }
    }
    if (any_random) {
        for (uint32_t g = 0, o = 0, p = 0; g < nr; o += cnt[g], p += rcnt[g], g++) {
            uint32_t m = rcnt[g];
            if (m < 2) continue;
            if (m == cnt[g])
                shuffle_run(out + o, m, key, &ctr);
            else
                shuffle_places(out, pos + p, m, key, &ctr);
        }
    }
    if (rp == 0) { /* the output becomes the batch, and the batch's array the scratch */
        uint32_t *old = r->items, oldcap = r->cap;
        r->items = out;
        r->cap = s->order_cap;
        s->order_buf = old;
        s->order_cap = oldcap;
    } else {
        memcpy(items, out, (size_t)n * sizeof *out);
    }
}

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

/* Where the run loop stops prefetching: SW__PREFETCH_TASK places before the
 * batch's end. (Not prefetching at all for tables that fit in the cache saves
 * instructions but measured slower on wolf-sheep small: the frames, in their
 * slabs, are not all in L1.) */
static uint32_t prefetch_end(uint32_t n) { return n > SW__PREFETCH_TASK ? n - SW__PREFETCH_TASK : 0; }

/* A keyed tick's batch was just gathered (order_batch reads each entry's
 * tasklet record, except in a batch left asleep, whose records the last tick
 * touched), so while its records fit in L2 they are still there and the run
 * loop prefetches only the frames, which the gather did not touch: about ten
 * instructions a turn fewer. Larger batches prefetch both. */
#ifndef SW__WARM_BATCH
#define SW__WARM_BATCH 8192u /* 384 KiB of records */
#endif

/* The run phase of a keyed tick (see "keys"): the run-next stack, then the
 * batch merged by key with the woken that take their turn in this tick, then
 * the FIFO of the rest. What joined the FIFO during a turn is sorted out
 * before the next turn starts, against the key of the turn that woke it. */
static void run_keyed(sw_sched *s) {
    const uint32_t *items = s->ready.items;
    uint32_t pos = s->ready_pos, n = s->ready.n, pf_end = prefetch_end(n);
    uint32_t pf_task_end = n - s->kb_base > SW__WARM_BATCH ? pf_end : 0;
    uint32_t nheap = 0; /* s->nheap, which changes only here and in the triage */
    for (;;) {
        uint32_t slot;
        if (__builtin_expect(s->front != SW__NIL, 0)) {
            slot = s->front;
            s->front = s->tasks[slot].next;
            if (slot < s->markcap) s->marks[slot] = s->epoch << 1;
        } else {
            if (s->back_tail != s->back_seen) {
                s->ready_pos = pos; /* read only by the triage: stored for it */
                triage(s);
                nheap = s->nheap;
            }
            if (nheap && (pos == n || woken_first(s, pos - s->kb_base))) {
                sw__woken w = heap_pop(s);
                nheap--;
                slot = w.slot;
                s->cur_src = SW__CUR_WOKEN;
                s->woken_at = pos;
                s->cur_g = w.g;
                s->cur_z = w.z;
                s->cur_slot = w.slot;
            } else if (pos < n) {
                slot = items[pos++];
                if (pos < pf_end) {
                    __builtin_prefetch(s->tasks[items[pos + SW__PREFETCH_FRAME]].top, 1);
                    if (pos < pf_task_end) {
                        uint32_t ahead = items[pos + SW__PREFETCH_TASK];
                        __builtin_prefetch(&s->tasks[ahead], 1);
                        __builtin_prefetch((char *)&s->tasks[ahead + 1] - 1, 1);
                    }
                }
            } else if (s->back_head != SW__NIL) { /* all sorted out: FIFO kinds, spawned, yielded */
                slot = s->back_head;
                s->back_head = s->tasks[slot].next;
                if (s->back_head == SW__NIL) s->back_tail = SW__NIL;
                if (slot == s->back_seen) s->back_seen = SW__NIL;
                s->cur_src = SW__CUR_END;
            } else {
                break;
            }
        }
        sw__run_task(s, slot);
    }
    /* the woken that come too late: the next tick's batch, as wake-ups
       between ticks are (and as a snapshot saves them) */
    s->ready_pos = pos;
    s->back_head = s->def_head;
    s->back_tail = s->def_tail;
    s->def_head = s->def_tail = SW__NIL;
}

int sw_sched_step(sw_sched *s) {
    s->report_len = 0;
    if (s->report) s->report[0] = '\0';
    s->error = SW_OK;
    s->resumes = 0;
    s->now++;
    fire_timers(s);
    for (int i = 0; i < s->nstart; i++) s->start_hooks[i].fn(s, s->start_hooks[i].ud);
    if (s->ordered) order_batch(s);
    s->in_run = true;
    if (s->keyed) {
        run_keyed(s);
        goto done;
    }
    /* The run queue, in order: the run-next stack, the batch, the FIFO of
       tasklets woken during the tick. The batch's array and length do not
       change during the run phase (cancelled timers become tombstones in
       place), so the loop keeps them in registers. */
    const uint32_t *items = s->ready.items;
    uint32_t pos = s->ready_pos, n = s->ready.n, pf_end = prefetch_end(n);
    for (;;) {
        uint32_t slot;
        if (__builtin_expect(s->front != SW__NIL, 0)) {
            slot = s->front;
            s->front = s->tasks[slot].next;
        } else if (pos < n) {
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
        sw__run_task(s, slot);
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
