/* activation.c - the order in which a tick's tasklets take their turns: the
 * ordering pass over the batch (by kind rank, shuffled among random kinds,
 * with a per-kind cache of the ranks) and the keyed turns of the tasklets of
 * random kinds woken during the tick (a heap by key, and the run loop of such
 * a tick, run_keyed).
 *
 * Called once a tick from sw_sched_step (sched.c), when some kind has a rank
 * or a random order; a tick without either never enters this file. The run
 * loop of a keyed tick lives here, beside the keys it merges, and shares
 * sw__run_task (sched_int.h, always inline) with the plain loop in sched.c. */
#include "sched_int.h"
#include "rng_exp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the ordering pass's scratch and shuffles ----------------------------------- */

/* Grow-only scratch of the ordering pass (kept across ticks: no allocation
 * per tick once the batches stop growing), counted in 8-byte words. */
static bool order_aux(sw_sched *s, size_t bytes) {
    uint64_t words = ((uint64_t)bytes + 7) / 8;
    if (words <= s->order_auxcap) return true;
    void *p = sw__grow(s, s->order_aux, &s->order_auxcap, words, 8, 128);
    if (p) s->order_aux = p;
    return p != NULL;
}

static bool order_out(sw_sched *s, uint32_t n) {
    if (n <= s->order_cap) return true;
    uint32_t *p = sw__grow(s, s->order_buf, &s->order_cap, n, sizeof *p, 64);
    if (p) s->order_buf = p;
    return p != NULL;
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
    uint64_t x = sw_rng_at_input(key, *ctr);
    for (uint32_t i = m - 1; i > 0; i--, x += SW_RNG_GAMMA) {
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
    uint64_t x = sw_rng_at_input(key, *ctr);
    for (uint32_t i = m - 1; i > 0; i--, x += SW_RNG_GAMMA) {
        uint32_t j = (uint32_t)(((__uint128_t)sw_rng_mix(x) * (i + 1)) >> 64);
        uint32_t a = items[i];
        items[i] = items[j];
        items[j] = a;
    }
    *ctr += m - 1;
}

/* A kind's ordering word: its rank's index among the distinct ranks, and
 * SW__ORDER_RANDOM (sched_int.h) when its places are shuffled, and: */
#define ORDER_RECORD 0x40000000u /* this tick, it shares a rank with fixed places */
#define ORDER_GROUP 0x3fffffffu

/* ---- the per-kind cache of the ordering pass ------------------------------------
 * Each kind's ordering word depends only on the kinds' ranks and random flags,
 * which change rarely (when a kind is added or set), so it is kept from tick to
 * tick: a tick checks the cache against the kinds (a few words) instead of
 * sorting the ranks again. */

static bool kind_random(const sw_sched *s, int i) { return s->kinds[i].random || s->d.random_order; }

/* (d.random_order enters every word through kind_random: no check of its own.) */
static bool kcache_fresh(const sw_sched *s) {
    if (s->kcache_n != s->nkinds) return false;
    for (int i = 0; i < s->nkinds; i++)
        if (s->krank[i] != s->kinds[i].rank || ((s->kword[i] & SW__ORDER_RANDOM) != 0) != kind_random(s, i))
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
        w[i] = lo | (kind_random(s, i) ? SW__ORDER_RANDOM : 0);
        s->any_random |= kind_random(s, i);
        nrandom += kind_random(s, i);
    }
    s->kuniform = nr == 1 && (nrandom == 0 || nrandom == (uint32_t)nk);
    s->nranks = nr;
    s->kcache_n = nk;
    return true;
}

/* ---- keys: the activation of the woken in random kinds ---------------------------
 * The model: every tasklet of a random kind draws, each tick, an independent
 * key, and the tick runs them by (rank group, key). The batch (the runnable at
 * the start of the run phase) is shuffled by Fisher-Yates as before; its keys
 * are the sorted keys of that many draws, handed out in the shuffled order,
 * which is the same joint law as sorting independent keys (the ranks of
 * independent keys are a uniform permutation, independent of their sorted
 * values). Keys are exponential (Exp(1), drawn by rng_exp.h's ziggurat: no
 * logarithm), so the sorted ones come one after the other (Renyi):
 * z(k) = z(k-1) + E(k) / (m - k + 1) over m places. They are computed only
 * in a tick that needs them, and only up to the place running.
 *
 * A tasklet of a random kind woken during the run phase (by a channel) draws
 * its own key, from a stream keyed by the seed and the tick, at its id; if
 * that comes after the key of the turn in progress, it takes its turn in this
 * tick, merged into the batch by key (through a heap); otherwise it joins the
 * next tick's batch. One that has had its turn this tick joins the next tick's
 * batch: no tasklet takes two turns in a tick through a wake-up. Spawned and
 * yielding tasklets and FIFO kinds keep the FIFO behind the batch. */

/* Grow the per-slot marks to cover `need` slots, and the table's room
 * (zeroed: no mark). */
static bool marks_fit(sw_sched *s, uint32_t need) {
    if (need <= s->markcap) return true;
    uint32_t old = s->markcap;
    uint64_t *m = sw__grow(s, s->marks, &s->markcap, need > s->taskcap ? need : s->taskcap, sizeof *m, 64);
    if (!m) return false;
    memset(m + old, 0, (size_t)(s->markcap - old) * sizeof *m);
    s->marks = m;
    return true;
}

/* A tasklet that joins the FIFO in the run phase of a keyed tick (spawned or
 * yielding) stays there: marked so that the triage lets it through. */
void sw__mark_fifo_keyed(sw_sched *s, uint32_t slot) {
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

/* The keys of a wholly random group (every place random: every tick of
 * Schelling and flocking) are drawn ahead into kt.kz (one per batch place),
 * so that the run loop, which compares the first woken tasklet waiting with
 * the next place's key, reads doubles instead of stepping the cursor. They
 * are drawn as far as some comparison will read them, and no further: through
 * the place asked for, and on while the keys stay at or below a limit, the
 * key of a woken tasklet of that group that waits for them (the first of the
 * heap, or one being sorted out that will wait behind the turn in progress).
 * Such a tasklet waits until the first place whose key passes its own, and
 * until then every place is compared with it (woken_first), so every key
 * drawn is read. The keys are the same doubles, summed in the same order; a
 * group none of whose keys is asked for draws none (its keys are a stream of
 * their own). */

/* Draw the keys of wholly random group g (m places from start) through place
 * p, continuing those drawn so far, and beyond p while the last key drawn is
 * at most lz, when lg is g (a woken tasklet of group lg and key lz waits). */
static void keys_fill(sw_sched *s, uint32_t g, uint32_t start, uint32_t m, uint32_t p, uint32_t lg, double lz) {
    uint32_t q = s->kt.kzend > start ? s->kt.kzend : start, end = start + m, k = q - start;
    double *kz = s->kt.kz, z = k ? kz[q - 1] : 0, limit = lg == g ? lz : -INFINITY;
    /* sw_rng_at(batch_rng, g << 32 | k) for k = k + 1, k + 2, ...: the
       mixer's input steps by the golden gamma (as in shuffle_run) */
    uint64_t x = sw_rng_at_input(s->kt.batch_rng, (uint64_t)g << 32 | k);
    for (uint32_t left = m - k; q < end; left--) { /* left: m - k + 1 of the key drawn */
        x += SW_RNG_GAMMA;
        double e = sw_rng_exp(sw_rng_mix(x));
        z += e / (double)left;
        kz[q++] = z;
        if (q > p && z > limit) break;
    }
    s->kt.kzend = q;
}

/* Walk the key cursor through place p (see cursor_to) across groups and the
 * places of groups that mix random and fixed kinds; in a wholly random group,
 * draw its keys through p (and on, see keys_fill: lg, lz) and leave the
 * cursor before p, for cursor_to. */
static void cursor_walk(sw_sched *s, uint32_t p, uint32_t lg, double lz) {
    const uint32_t *items = s->ready.items + s->kt.base, *gend = s->kt.gend, *grc = s->kt.grc,
                   *rpos = s->kt.rpos;
    sw__cursor c = s->kt.kc;
    while (c.pos <= p) {
        while (c.pos >= gend[c.g]) {
            c.rbase += grc[c.g++];
            c.k = 0;
            c.z = 0;
            c.slot = 0;
        }
        uint32_t g = c.g, m = grc[g], end = gend[g], start = g ? gend[g - 1] : 0;
        if (m == end - start) {
            if (p >= end) { /* no key of this group is asked for */
                c.pos = end;
                continue;
            }
            keys_fill(s, g, start, m, p, lg, lz);
            break;
        }
        for (uint32_t stop = p < end ? p + 1 : end; c.pos < stop; c.pos++) {
            c.rnd = m && c.k < m && rpos[c.rbase + c.k] == c.pos;
            if (!c.rnd) continue;
            c.k++;
            double e = sw_rng_exp(sw_rng_at(s->kt.batch_rng, (uint64_t)g << 32 | c.k));
            c.z += e / (double)(m - c.k + 1);
            c.slot = items[c.pos];
        }
    }
    s->kt.kc = c;
}

/* Advance the key cursor over the batch through place p (relative to the
 * batch's start; p never goes back by more than one place, to the last place
 * asked for): afterwards kc.g is p's rank group, kc.rnd whether p is a random
 * place, and kc.z, kc.slot the key and slot of the last random place of that
 * group up to p (0 when none). */
static inline void cursor_to(sw_sched *s, uint32_t p, uint32_t lg, double lz) {
    if (p < s->kt.kc.pos) return;
    if (p >= s->kt.kzend) {
        cursor_walk(s, p, lg, lz);
        if (p >= s->kt.kzend) return;
    }
    /* in a wholly random group whose keys are drawn through p */
    s->kt.kc.pos = p + 1;
    s->kt.kc.rnd = true;
    s->kt.kc.z = s->kt.kz[p];
    s->kt.kc.slot = s->ready.items[s->kt.base + p];
}

static bool key_before(uint32_t g, double z, uint32_t slot, uint32_t g2, double z2, uint32_t slot2) {
    if (g != g2) return g < g2;
    if (z != z2) return z < z2;
    return slot < slot2;
}

/* Whether a tasklet of rank group g and key z comes after the turn in progress. */
static bool after_current(sw_sched *s, uint32_t g, double z, uint32_t slot) {
    if (s->kt.cur_src == SW__CUR_END) return false;
    /* a woken tasklet's turn, until the batch moves on (the run loop leaves
       cur_src alone for the batch's turns, to save a store a turn) */
    if (s->kt.cur_src == SW__CUR_WOKEN && s->kt.woken_at == s->ready_pos)
        return key_before(s->kt.cur_key.g, s->kt.cur_key.z, s->kt.cur_key.slot, g, z, slot);
    if (s->ready_pos == s->kt.base) return true; /* no turn yet */
    cursor_to(s, s->ready_pos - 1 - s->kt.base, g, z);
    return key_before(s->kt.kc.g, s->kt.kc.z, s->kt.kc.slot, g, z, slot);
}

/* Whether the first woken of the heap runs before the batch's place p: in an
 * earlier rank group, or in p's group before p's key. A fixed place (a FIFO
 * kind sharing the rank) keeps its place: the woken wait for the next random
 * place or the end of their group.
 *
 * When it does not, the places after p that come before it too are found
 * here, from keys already drawn (or the group's end, for a woken tasklet of a
 * later group), and wake_at set to the first place that may not: the run
 * loop asks again only there, or when the heap's first changes (heap_push,
 * heap_pop reset wake_at), instead of at every turn. */
static bool woken_first(sw_sched *s, uint32_t p) {
    const sw__woken *h = &s->heap[0];
    cursor_to(s, p, h->g, h->z);
    uint32_t g = s->kt.kc.g;
    if (h->g != g) {
        if (h->g > g) s->wake_at = s->kt.base + s->kt.gend[g];
        return h->g < g;
    }
    if (!s->kt.kc.rnd) return false;
    if (key_before(h->g, h->z, h->slot, g, s->kt.kc.z, s->kt.kc.slot)) return true;
    if (p < s->kt.kzend) { /* p's group is wholly random: its keys are in kz */
        const double *kz = s->kt.kz;
        uint32_t q = p + 1, e = s->kt.kzend;
        while (q < e && kz[q] < h->z) q++;
        s->wake_at = s->kt.base + q;
    }
    return false;
}

static bool heap_less(const sw__woken *a, const sw__woken *b) { return key_before(a->g, a->z, a->slot, b->g, b->z, b->slot); }

static bool heap_push(sw_sched *s, sw__woken w) {
    if (s->nheap == s->heapcap) {
        sw__woken *h = sw__grow(s, s->heap, &s->heapcap, (uint64_t)s->nheap + 1, sizeof *h, 64);
        if (!h) return false;
        s->heap = h;
    }
    uint32_t i = s->nheap++;
    while (i > 0 && heap_less(&w, &s->heap[(i - 1) / 2])) {
        s->heap[i] = s->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->heap[i] = w;
    if (i == 0) s->wake_at = 0; /* a new first: see woken_first */
    return true;
}

static sw__woken heap_pop(sw_sched *s) {
    sw__woken top = s->heap[0], last = s->heap[--s->nheap];
    s->wake_at = 0; /* a new first: see woken_first */
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
    for (uint32_t i = s->kt.marked; i < s->ready_pos; i++)
        if (s->marks[items[i]] != (turn | 1)) s->marks[items[i]] = turn;
    s->kt.marked = s->ready_pos;
}

/* Sort what joined the FIFO during the turn just ended (the entries after
 * back_seen): the woken of random kinds leave it, to take their turn by key
 * (this tick or the next); the rest stay, to run behind the batch in FIFO
 * order, without being moved or copied. */
static __attribute__((noinline)) void triage(sw_sched *s) {
    uint64_t turn = s->epoch << 1;
    uint32_t prev = s->kt.back_seen, slot = prev == SW__NIL ? s->back_head : s->tasks[prev].next;
    while (slot != SW__NIL) {
        struct sw__task *k = &s->tasks[slot];
        uint32_t next = k->next;
        if (k->state != SW_TASK_RUNNABLE || sw__kind_fifo(s, k->kind) || slot >= s->markcap) {
            prev = slot; /* stays */
            slot = next;
            continue;
        }
        if (s->kt.marked != s->ready_pos) mark_batch_run(s);
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
            /* after the batch nothing comes after the turn in progress: no key */
            double z = s->kt.cur_src == SW__CUR_END
                           ? 0
                           : sw_rng_exp(sw_rng_at(s->kt.woken_rng, sw_handle_make(slot, k->gen)));
            uint32_t g = s->kword[k->kind] & ORDER_GROUP; /* a random kind: cached */
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
    s->kt.back_seen = prev;
}

/* The triage's common case: what joined the FIFO is of fixed kinds
 * (wolf-sheep's grass, woken by the sheep that graze it), which stay
 * whatever their state: stepped over by a small function that saves no
 * register (wolf-sheep small -0.8 % instructions; inline, it cost the run
 * loop a register). The first entry of a random kind goes on to the triage
 * proper, a tail call. */
static __attribute__((noinline)) void triage_fifo(sw_sched *s) {
    const struct sw__task *tasks = s->tasks;
    uint32_t prev = s->kt.back_seen, slot = prev == SW__NIL ? s->back_head : tasks[prev].next;
    while (slot != SW__NIL && sw__kind_fifo(s, tasks[slot].kind)) {
        prev = slot;
        slot = tasks[slot].next;
    }
    s->kt.back_seen = prev;
    if (slot != SW__NIL) triage(s);
}

/* Start a keyed run phase over the batch ready[base..), laid out in rank
 * groups (gend: each group's end, grc: its random places, rpos: the random
 * places of groups that mix random and fixed kinds, in order). */
static void keyed_begin(sw_sched *s, uint32_t base, const uint32_t *gend, const uint32_t *grc,
                        const uint32_t *rpos, double *kz) {
    if (!marks_fit(s, s->ntasks)) {
        sw__errf(s, "out of memory ordering the tick's wake-ups");
        s->error = SW_E_NOMEM;
        return; /* the woken run unordered this tick */
    }
    s->keyed = true;
    s->epoch++;
    s->kt = (sw__keyed_tick){
        .base = base,
        .marked = base,
        .gend = gend,
        .grc = grc,
        .rpos = rpos,
        .kz = kz,
        .back_seen = SW__NIL,
        .batch_rng = sw_rng_key(s->d.seed, 0x6b65797300000000ULL ^ s->now),
        .woken_rng = sw_rng_key(s->d.seed, 0x776f6b656e000000ULL ^ s->now),
        .cur_src = SW__CUR_BATCH,
    };
    s->def_head = s->def_tail = SW__NIL;
    s->nheap = 0;
    s->wake_at = 0;
}

/* ---- the ordering pass ------------------------------------------------------------ */

/* Tombstones among the n entries: a count that the compiler vectorises, so
 * that a batch without one (the common case) is passed over at a fraction of
 * an instruction an entry, and only a batch with some is compacted. */
static uint32_t count_tombs(const uint32_t *items, uint32_t n) {
    uint32_t tombs = 0;
    for (uint32_t i = 0; i < n; i++) tombs += items[i] == SW__TOMB;
    return tombs;
}

/* Drop the tombstones of items[0..n) in place, keeping the order; returns the
 * entries left. */
static uint32_t drop_tombs(uint32_t *items, uint32_t n) {
    uint32_t i = 0;
    while (i < n && items[i] != SW__TOMB) i++;
    uint32_t m = i;
    for (; i < n; i++) {
        uint32_t slot = items[i];
        items[m] = slot;
        m += slot != SW__TOMB;
    }
    return m;
}

/* Drop the batch's dead entries (tombstones, zombies) in place and note
 * where each run of entries of one kind
 * starts and its kind (runs[0..*nruns), then runs[*nruns] = the entries
 * left; rkind NULL: no scratch). Returns the entries left. A batch is mostly
 * a few long runs (see scatter_runs), so noting runs rather than each
 * entry's kind saves a store an entry, and a count per kind incremented
 * through memory, whose chain of stores and loads bounded the loop. The
 * restrict pointers tell the compiler that the stores cannot change what the
 * loop reads, so it keeps everything in registers; inlined twice (with and
 * without runs), so that the loop tests no flag per entry.
 *
 * The first `lazy` entries (a swapped-in bucket: see gather_batch) are
 * tombstones or SLEEPING, never zombies (a tasklet killed while in the
 * bucket left a tombstone there instead): they lose their tombstones and,
 * with runs, only their kinds are read; without runs the bucket was passed
 * over already (gather_lazy). Its tasklets stay SLEEPING until their turn. */
static inline __attribute__((always_inline)) uint32_t gather_entries(sw_sched *s, uint32_t *restrict items,
                                                                     uint32_t lazy, uint32_t total,
                                                                     uint16_t *restrict rkind,
                                                                     uint32_t *restrict runs, uint32_t *nruns) {
    struct sw__task *tasks = s->tasks;
    uint32_t n = lazy, tombs = 0, nr = 0, prev = UINT32_MAX, i = 0;
    /* up to the bucket's first tombstone (most buckets have none) the
       entries stay where they are: their kinds are read, nothing is stored
       (~5 instructions an entry fewer) */
    for (; rkind && i < lazy; i++) {
        uint32_t slot = items[i];
        if (slot == SW__TOMB) break;
        uint16_t kind = tasks[slot].kind;
        if (kind != prev) {
            runs[nr] = i;
            rkind[nr++] = kind;
            prev = kind;
        }
    }
    if (rkind) n = i;
    for (; rkind && i < lazy; i++) {
        uint32_t slot = items[i];
        if (slot == SW__TOMB) {
            tombs++;
            continue;
        }
        uint16_t kind = tasks[slot].kind;
        if (kind != prev) {
            runs[nr] = n;
            rkind[nr++] = kind;
            prev = kind;
        }
        items[n++] = slot;
    }
    for (i = lazy; i < total; i++) {
        uint32_t slot = items[i];
        if (slot == SW__TOMB) {
            tombs++;
            continue;
        }
        struct sw__task *k = &tasks[slot];
        if (k->state == SW_TASK_ZOMBIE) {
            sw__slot_free(s, slot);
            continue;
        }
        if (k->state == SW_TASK_SLEEPING) k->state = SW_TASK_RUNNABLE;
        items[n] = slot;
        if (rkind) {
            uint16_t kind = k->kind;
            if (kind != prev) {
                runs[nr] = n;
                rkind[nr++] = kind;
                prev = kind;
            }
        }
        n++;
    }
    if (s->ready_lazy) s->armed += tombs; /* see fire_timers */
    if (rkind) {
        runs[nr] = n;
        *nruns = nr;
    }
    return n;
}

/* The swapped-in bucket at the head of a batch that needs no entry's kind
 * (its first `lazy` entries) loses its tombstones: counted first, which is
 * all a bucket without any needs (flocking's, Schelling's), and only then
 * dropped. The entries behind it (the FIFO's: spawned or woken between
 * ticks) move up over the gap. Returns the bucket's entries left. */
static uint32_t gather_lazy(sw_sched *s, uint32_t *items, uint32_t lazy, uint32_t total) {
    uint32_t tombs = count_tombs(items, lazy);
    if (!tombs) return lazy;
    uint32_t left = drop_tombs(items, lazy);
    memmove(items + left, items + lazy, (size_t)(total - lazy) * sizeof *items);
    s->armed += tombs; /* see fire_timers */
    return left;
}

/* The gather (gather_entries; the bucket first through gather_lazy when no
 * kind is noted). A swapped-in bucket's tasklets are not touched: they stay
 * SLEEPING until their turn (as in a tick without ordering), and
 * `batch_asleep` tells task_destroy that such a tasklet, killed before its
 * turn, is queued (its `pos` no longer gives its place). */
static uint32_t gather_batch(sw_sched *s, uint32_t *restrict items, uint32_t lazy, uint32_t total,
                             uint16_t *restrict rkind, uint32_t *restrict runs, uint32_t *nruns) {
    if (!s->ready_lazy) {
        lazy = 0;
    } else {
        s->batch_asleep = true;
        if (!rkind) { /* the bucket needs no pass at all without tombstones */
            uint32_t left = gather_lazy(s, items, lazy, total);
            total -= lazy - left;
            lazy = left;
        }
    }
    if (rkind) return gather_entries(s, items, lazy, total, rkind, runs, nruns);
    return gather_entries(s, items, lazy, total, NULL, NULL, NULL);
}

/* The counting sort's scatter, one run per kind (restrict: as above). A
 * batch is mostly a few long runs of one kind (the tasklets that slept one
 * tick come back in the order they ran: by rank already), so when its runs
 * are long on average they move whole, a copy each; otherwise entry by entry. */
#define SCATTER_RUN_MIN 16 /* the average run length that makes copying whole runs pay */
static void scatter_runs(uint32_t *restrict out, uint32_t *restrict offk, const uint16_t *restrict rkind,
                         const uint32_t *restrict items, const uint32_t *restrict runs, uint32_t nruns) {
    bool whole = (uint64_t)nruns * SCATTER_RUN_MIN <= runs[nruns];
    for (uint32_t r = 0; r < nruns; r++) {
        uint32_t b = runs[r], e = runs[r + 1], kind = rkind[r], o = offk[kind];
        if (whole)
            memcpy(out + o, items + b, (size_t)(e - b) * sizeof *out);
        else
            for (uint32_t i = b; i < e; i++) out[o + i - b] = items[i];
        offk[kind] = o + e - b;
    }
}

/* Put the batch in activation order: by kind rank (stable), and shuffled
 * among the places held by kinds that ask for a random order: within each
 * rank, in increasing rank order, a Fisher-Yates over the sub-sequence of
 * places held by random kinds, all from one stream keyed by the tick.
 *
 * One pass over the batch drops the dead entries and notes its runs of one
 * kind; a second, over those runs, scatters the entries by rank into a buffer that then becomes the batch (a counting
 * sort: stable), recording where the random places fell when a rank mixes
 * random and fixed kinds. No tasklet is touched after the first pass, and
 * the scratch is kept on the scheduler. The rank groups and random places
 * stay in the scratch through the run phase, for the keys. */
void sw__order_batch(sw_sched *s) {
    sw__vec32 *r = &s->ready;
    s->keyed = false;
    uint32_t lazy_end = r->n; /* the swapped-in bucket's end, if ready_lazy */
    /* gather what was woken between ticks and in tick-start hooks (the
       intrusive FIFO) behind the timers into the one array to order; out of
       memory, the rest stay queued behind it, in the same order */
    uint32_t *fifo = r->items, nf = r->n, capf = r->cap; /* in registers: no call an entry */
    for (uint32_t slot = s->back_head; slot != SW__NIL;) {
        uint32_t next = s->tasks[slot].next;
        if (__builtin_expect(nf == capf, 0)) {
            r->n = nf;
            if (!sw__vec_push(s, r, slot)) {
                s->back_head = slot;
                sw__errf(s, "out of memory ordering the tick's wake-ups");
                s->error = SW_E_NOMEM;
                return; /* they run unordered this tick */
            }
            fifo = r->items;
            nf = r->n;
            capf = r->cap;
        } else {
            fifo[nf++] = slot;
        }
        slot = next;
    }
    r->n = nf;
    s->back_head = s->back_tail = SW__NIL;
    uint32_t rp = s->ready_pos, total = r->n - rp;
    int nk = s->nkinds;
    bool cached = kcache_fresh(s) || kcache_build(s);
    uint32_t nr = s->nranks;
    /* scratch: per entry the key of its place (see keys_fill); per kind
       its count, next place and ordering word of this tick; per rank group
       its count, random count, next place, next random place and end; per
       entry its place if random; and where each run of one kind starts and
       its kind (at most one run per entry, and the end) */
    size_t tab = ((size_t)nk * 3 + (size_t)nr * 5 + 1) * sizeof(uint32_t);
    bool scratch = cached && order_aux(s, tab + (size_t)total * (sizeof(double) + 2 * sizeof(uint32_t) +
                                                                  sizeof(uint16_t)));
    uint32_t *cntk = NULL, *offk = NULL, *kinfo = NULL, *cnt = NULL, *rcnt = NULL, *off = NULL,
             *poff = NULL, *gend = NULL, *pos = NULL, *runs = NULL, nruns = 0;
    uint16_t *rkind = NULL;
    double *kz = NULL;
    if (scratch) {
        kz = s->order_aux;
        cntk = (uint32_t *)(kz + total);
        offk = cntk + nk;
        kinfo = offk + nk;
        cnt = kinfo + nk;
        rcnt = cnt + nr;
        off = rcnt + nr;
        poff = off + nr;
        gend = poff + nr;
        pos = gend + nr;
        runs = pos + total;
        rkind = (uint16_t *)(runs + total + 1);
        memset(cntk, 0, (size_t)nk * sizeof *cntk);
    }
    uint32_t *items = r->items + rp;
    /* one rank group whose kinds are all random or all fixed (flocking,
       Schelling): the places need no kinds, so the gather notes none */
    bool uniform = scratch && s->kuniform;
    uint32_t n = gather_batch(s, items, lazy_end - rp, total, uniform ? NULL : rkind, runs, &nruns);
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
    for (uint32_t q = 0; q < nruns; q++) cntk[rkind[q]] += runs[q + 1] - runs[q];
    if (uniform) {
        cnt[0] = n;
        rcnt[0] = kw[0] & SW__ORDER_RANDOM ? n : 0;
        any_random = rcnt[0] != 0;
    }
    for (int i = 0; i < nk && !uniform; i++) {
        if (!cntk[i]) continue;
        uint32_t g = kw[i] & ORDER_GROUP;
        kind_per_rank &= cnt[g] == 0;
        cnt[g] += cntk[i];
        if (kw[i] & SW__ORDER_RANDOM) {
            rcnt[g] += cntk[i];
            any_random = true;
        }
    }
    for (uint32_t g = 0, o = 0; g < nr; g++) gend[g] = o += cnt[g];
    if (s->any_random) keyed_begin(s, rp, gend, rcnt, pos, kz);
    if (n == 0) return;
    uint64_t key = any_random ? sw_rng_key(s->d.seed, 0x0dde5eed00000000ULL ^ s->now) : 0, ctr = 0;
    uint32_t g0 = uniform ? 0 : kw[rkind[0]] & ORDER_GROUP;
    if (cnt[g0] == n) { /* one rank: nothing to sort */
        uint32_t m = rcnt[g0];
        if (m == 0 || m == n) {
            if (m >= 2) shuffle_run(items, m, key, &ctr);
            return;
        }
        uint32_t q = 0;
        for (uint32_t x = 0; x < nruns; x++)
            if (kw[rkind[x]] & SW__ORDER_RANDOM)
                for (uint32_t i = runs[x]; i < runs[x + 1]; i++) pos[q++] = i;
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
        scatter_runs(out, offk, rkind, items, runs, nruns);
    } else {
        for (int i = 0; i < nk; i++) {
            uint32_t g = kw[i] & ORDER_GROUP;
            kinfo[i] = kw[i] | ((kw[i] & SW__ORDER_RANDOM) && rcnt[g] != cnt[g] ? ORDER_RECORD : 0);
        }
        for (uint32_t x = 0; x < nruns; x++) {
            uint32_t kv = kinfo[rkind[x]], g = kv & ORDER_GROUP;
            for (uint32_t i = runs[x]; i < runs[x + 1]; i++) {
                uint32_t d = off[g]++;
                out[d] = items[i];
                if (kv & ORDER_RECORD) pos[poff[g]++] = d;
            }
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

/* ---- the run phase of a keyed tick ------------------------------------------------- */

/* A keyed tick's batch was just gathered (order_batch reads each entry's
 * tasklet record, except in a batch left asleep, whose records the last tick
 * touched), so while its records fit in L2 they are still there and the run
 * loop prefetches only the frames, which the gather did not touch: about ten
 * instructions a turn fewer. Larger batches prefetch both. */
#ifndef SW__WARM_BATCH
#define SW__WARM_BATCH 8192u /* 384 KiB of records */
#endif

/* Where the run loop must next ask whether the heap's first goes before the
 * batch's place (see woken_first, wake_at), at most the batch's end n. */
static inline uint32_t batch_stop(const sw_sched *s, uint32_t n) { return s->wake_at < n ? s->wake_at : n; }

/* The run phase of a keyed tick (see "keys"): the run-next stack (after the
 * turn that filled it: sw__run_turn), then the batch merged by key with
 * the woken that take their turn in this tick, then the FIFO of the rest.
 * What joined the FIFO during a turn is sorted out before the next turn
 * starts, against the key of the turn that woke it. */
static inline __attribute__((always_inline)) void run_keyed(sw_sched *s, bool warm) {
    const uint32_t *items = s->ready.items;
    uint32_t pos = s->ready_pos, n = s->ready.n, pf_end = sw__prefetch_end(n);
    uint32_t nheap = 0; /* s->nheap, which changes only here and in the triage */
    /* below `stop` the batch's next place takes the turn without asking the
       heap: its end, or while woken wait, where the first may go first
       (wake_at, which like nheap changes only here and in the triage) */
    uint32_t stop = n;
    for (;;) {
        uint32_t slot;
        if (s->back_tail != s->kt.back_seen) {
            s->ready_pos = pos; /* read only by the triage: stored for it */
            triage_fifo(s);
            nheap = s->nheap;
            stop = nheap ? batch_stop(s, n) : n;
        }
        if (__builtin_expect(pos >= stop, 0)) {
            if (nheap && (pos == n || (pos >= s->wake_at && woken_first(s, pos - s->kt.base)))) {
                sw__woken w = heap_pop(s);
                nheap--;
                stop = nheap ? batch_stop(s, n) : n;
                slot = w.slot;
                s->kt.cur_src = SW__CUR_WOKEN;
                s->kt.woken_at = pos;
                s->kt.cur_key = w;
                goto run;
            }
            if (pos == n) {
                if (s->back_head == SW__NIL) break;
                /* all sorted out: FIFO kinds, spawned, yielded */
                slot = s->back_head;
                uint32_t next = s->tasks[slot].next;
                s->back_head = next;
                if (next == SW__NIL)
                    s->back_tail = SW__NIL;
                else /* the next one's frame, meanwhile: nothing else fetches it */
                    __builtin_prefetch(s->tasks[next].top, 1);
                if (slot == s->kt.back_seen) s->kt.back_seen = SW__NIL;
                s->kt.cur_src = SW__CUR_END;
                goto run;
            }
            stop = batch_stop(s, n); /* the first waits: woken_first may have moved wake_at on */
        }
        slot = items[pos++];
        if (pos < pf_end) {
            __builtin_prefetch(s->tasks[items[pos + SW__PREFETCH_FRAME]].top, 1);
            if (!warm) {
                uint32_t ahead = items[pos + SW__PREFETCH_TASK];
                __builtin_prefetch(&s->tasks[ahead], 1);
                __builtin_prefetch((char *)&s->tasks[ahead + 1] - 1, 1);
            }
        }
    run:
        sw__run_turn(s, slot, true);
    }
    /* the woken that come too late: the next tick's batch, as wake-ups
       between ticks are (and as a snapshot saves them) */
    s->ready_pos = pos;
    s->back_head = s->def_head;
    s->back_tail = s->def_tail;
    s->def_head = s->def_tail = SW__NIL;
}

/* The loop in two copies, for a warm batch and a larger one: each keeps one
 * value fewer live, and reloads fewer from the stack a turn (flocking -9.7,
 * wolf-sheep -7.7 instructions a turn). */
void sw__run_keyed(sw_sched *s) {
    if (s->ready.n - s->kt.base > SW__WARM_BATCH)
        run_keyed(s, false);
    else
        run_keyed(s, true);
}
