/* pickle_state.c - the scheduler's part of the state ("SCHD"), read into
 * the target and the unpickler's lists, and the final check and linking of
 * everything the agent records and the state say about each other: each slot
 * is exactly one of a tasklet or a free slot; each runnable tasklet is in the
 * run queue once; each sleeper is in exactly one timer with its own wake
 * tick; each blocked tasklet is in exactly one wait queue, the one its handle
 * names, and the channel's balance matches its queue. Every count is bounded
 * by the bytes left before anything is allocated. */
#include "pickle_int.h"

#include <stdio.h>
#include <stdlib.h>

#define failf sw__unpickler_fail

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

bool sw__unpickler_read_sched(sw_unpickler *u, sw__rd *r) {
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
        u->bucket_wake[u->nbuckets] = s->now + d;
        u->bucket_n[u->nbuckets++] = (uint32_t)cnt;
        for (uint64_t i = 0; i < cnt && !r->bad; i++) sw__rd_uv(r, "timer slot");
    }
    if (r->bad) return false;
    r->p = save;
    u->wheel_slot = malloc((total ? total : 1) * sizeof *u->wheel_slot);
    if (!u->wheel_slot) {
        sw__rd_fail(r, "out of memory");
        return false;
    }
    for (uint64_t b = 0; b < nb && !r->bad; b++) {
        sw__rd_uv(r, "timer distance");
        uint64_t cnt = sw__rd_uv(r, "timer bucket size");
        for (uint64_t i = 0; i < cnt && !r->bad; i++)
            u->wheel_slot[u->nwheel++] = (uint32_t)sw__rd_uvmax(r, ntasks ? ntasks - 1 : 0, "timer slot");
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
/* ---- putting it together ---------------------------------------------------------------- */

static const char *state_of(const sw_sched *s, uint32_t slot) {
    return sw_task_state_name((sw_task_state)s->tasks[slot].state);
}

int sw__unpickler_link(sw_unpickler *u) {
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
    /* the wheel's buckets, each made once with its size (they arrive
       empty from sw__sched_clear_dynamic) */
    for (uint32_t b = 0; b < u->nbuckets; b++) {
        sw__vec32 *v = &s->wheel[u->bucket_wake[b] & SW__WHEEL_MASK];
        if (v->cap < u->bucket_n[b]) {
            uint32_t *items = sw__alloc(s, v->items, (size_t)u->bucket_n[b] * sizeof *items);
            if (!items) goto oom;
            v->items = items;
            v->cap = u->bucket_n[b];
        }
    }
    uint32_t bucket = 0, left = u->nbuckets ? u->bucket_n[0] : 0;
    for (uint32_t i = 0; i < u->nwheel + u->novf; i++) {
        bool ovf = i >= u->nwheel;
        uint32_t slot;
        uint64_t wake;
        if (!ovf) {
            while (!left) left = u->bucket_n[++bucket];
            left--;
            slot = u->wheel_slot[i];
            wake = u->bucket_wake[bucket];
            /* the slots are in no order: fetch ahead */
            if (i + 8 < u->nwheel) {
                __builtin_prefetch(&s->tasks[u->wheel_slot[i + 8]]);
                __builtin_prefetch(&mark[u->wheel_slot[i + 8]]);
            }
        } else {
            slot = u->ovf[i - u->nwheel].slot;
            wake = u->ovf[i - u->nwheel].wake;
        }
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
            if (!sw__vec_push(s, b, slot)) goto oom;
        } else if (!sw__ovf_push(s, slot, wake)) {
            goto oom;
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
