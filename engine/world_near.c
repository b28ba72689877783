/* world_near.c - near-queries over the continuous space: the agents within
 * a radius of a point, as ids (sw_world_space_near), as hits with offsets
 * and frames (sw_world_space_near_hits), or folded into sums
 * (sw_world_space_near_sums, sw_space_near_sums), in bucket then arrival
 * order. */
#include "world_int.h"

#include <math.h>

/* The bucket of coordinate v >= 0 along an axis of nb buckets: floor(v / bs)
 * by a multiplication with inv = 1 / bs, clamped (truncating is flooring
 * here, and needs no call). The product can round to the other side of a
 * bucket edge than the quotient sw__world_bucket_of places points by, so
 * callers widen the interval they look up by space_slack (below). */
/* The pair of doubles at byte offset `pair` of a live agent's root frame. */
static inline const double *frame_pair(const struct sw__task *k, size_t pair) {
    return (const double *)(const void *)((const char *)(sw__root_frame(k) + 1) + pair);
}

static inline uint32_t bucket_at(double v, double inv, uint32_t nb) {
    double q = v * inv;
    return q >= nb ? nb - 1 : (uint32_t)q;
}

/* The widening of every interval a query looks up, far above the rounding
 * of a product, a quotient or a distance test over a space this size (about
 * 1e-16 of it) and far below anything that changes which buckets are read
 * in practice. Only widening: a query may read a bucket more, never one
 * less, and the agents it finds are those of the distance test alone. */
static inline double space_slack(const sw_world *w, double r) {
    return 1e-9 * ((double)w->d.width + (double)w->d.height + r);
}

/* The buckets along one axis that can hold points within r (already widened
 * by the slack) of coordinate c: up to two ranges [a[i], b[i]], ascending.
 * On a torus the query interval is wrapped in coordinates, not in bucket
 * numbers: the last bucket may be narrower than the others, so counting
 * buckets across the seam would miss points. Returns how many ranges. *seam
 * is set when a point found may lie across the seam, so that its offset
 * needs the minimum image: the points of buckets [a, b] lie within r + bs
 * (plus rounding) of c, which is nearer than half the extent when r + 2 bs
 * is. */
static inline int bucket_ranges(double c, double r, double extent, double bs, double inv,
                                uint32_t nb, bool torus, uint32_t a[2], uint32_t b[2],
                                bool *seam) {
    double lo = c - r, hi = c + r;
    *seam = torus;
    if (torus) {
        if (2 * r >= extent) {
            a[0] = 0;
            b[0] = nb - 1;
            return 1;
        }
        if (lo >= 0 && hi < extent) { /* the usual case: not across the seam */
            a[0] = bucket_at(lo, inv, nb);
            b[0] = bucket_at(hi, inv, nb);
            *seam = !(r + 2 * bs < extent / 2);
            return 1;
        }
        /* across the seam: [0, hi'] and [lo', extent], merged when they meet */
        double p0 = lo < 0 ? hi : hi - extent, p1 = lo < 0 ? lo + extent : lo;
        a[0] = 0;
        b[0] = p0 < 0 ? 0 : bucket_at(p0, inv, nb);
        uint32_t a1 = p1 < 0 ? 0 : bucket_at(p1, inv, nb), b1 = nb - 1;
        if (a1 <= b[0] + 1) { /* overlapping or touching: merge */
            if (b1 > b[0]) b[0] = b1;
            return 1;
        }
        a[1] = a1;
        b[1] = b1;
        return 2;
    }
    if (hi < 0 || lo >= extent) return 0;
    a[0] = bucket_at(lo < 0 ? 0 : lo, inv, nb);
    b[0] = bucket_at(hi >= extent ? extent : hi, inv, nb);
    return 1;
}

/* What one near-query carries through its scan. */
typedef struct space_query {
    double x, y, r2;
    double W, H, hw, hh; /* the minimum image exactly as sw_world_space_delta takes it */
    int ki;              /* kind filter for hits (see sw__kind_filter) */
    sw_id *ids;          /* ids out, or NULL: hits out */
    sw_space_hit *hits;
    uint32_t cap, n;
    /* sums instead of a list (sw_world_space_near_sums) */
    sw_space_sums *sums;
    double rin2;
    uint32_t skip; /* a slot never folded in (SW__NIL: none) */
    size_t pair;
    uint32_t nfound;  /* slots found whose pair is still to be added */
    uint32_t *found;  /* SPACE_FOUND of them */
} space_query;

#define SPACE_FOUND 256

enum { SCAN_HITS, SCAN_IDS, SCAN_SUMS }; /* what a query makes of the agents it finds */

/* Add the pairs of the agents in q->found to the sums, in the order found
 * (their frames are read here, together, rather than one per candidate
 * between the distance tests). */
static void sums_flush(const sw_world *w, space_query *q) {
    const struct sw__task *tasks = w->s->tasks;
    double vx = q->sums->vx, vy = q->sums->vy;
    for (uint32_t i = 0; i < q->nfound; i++) {
        if (q->found[i] == q->skip) continue; /* found at the point, not wanted */
        const double *v = frame_pair(&tasks[q->found[i]], q->pair);
        vx += v[0];
        vy += v[1];
    }
    q->sums->vx = vx;
    q->sums->vy = vy;
    q->nfound = 0;
}

/* Two doubles (an x and a y) worked on together, and the lane masks
 * (all ones or zeros) their comparisons give: GCC's vector extensions, SSE2
 * on x86-64 and NEON on arm64, each lane exactly the scalar operation. */
typedef double v2d __attribute__((vector_size(16)));
typedef int64_t v2m __attribute__((vector_size(16)));

/* v where mask is all ones, +0 where it is zero. */
static inline v2d v2_keep(v2d v, v2m mask) { return (v2d)((v2m)v & mask); }

/* Fold the buckets of rows [ay[j], by[j]] and columns [ax[i], bx[i]] (in
 * the order scan_buckets takes them) into q->sums, for a query without a
 * kind filter whose skipped agent, if any, sits at the query point. No
 * branch on the distance tests, which go either way (a branch would often
 * be mispredicted; even one on the rarely true test against r_in cost more
 * than it saved): an agent outside adds zeros, which leave every sum as it
 * was bit for bit (sums start at +0, and s + 0 == s for every s but -0,
 * which a sum starting at +0 never is), and its slot is written but not
 * counted. The skipped agent is folded in like the others, adding zeros to
 * the offsets, and taken back out of the counts after (and of the pairs, by
 * sums_flush). With `dir` (SW_SPACE_DIR_PAIR) the pairs are the direction
 * pairs beside the points, the skipped agent's read as (0, 0): it is within
 * r, adding then taking out its pair would round, and a mask kept it out at
 * a cost for every agent read; it is put back after the scan. That is the
 * scan's only write to the world, undone before it returns (a world is used
 * by one thread at a time). The sums stay in registers for the whole scan. */
static inline __attribute__((always_inline)) void
sum_scan(const sw_world *w, space_query *q, int nx, const uint32_t *ax, const uint32_t *bx,
         int ny, const uint32_t *ay, const uint32_t *by, bool wrap, bool dir) {
    const v2d at = {q->x, q->y}, ext = {q->W, q->H}, half = {q->hw, q->hh};
    const v2d nhalf = -half;
    const v2d r2 = {q->r2, q->r2}, rin2 = {q->rin2, q->rin2};
    v2d all = {0, 0}, inner = {0, 0}, vel = {0, 0};
    v2m count = {0, 0}, count_in = {0, 0}; /* minus the counts (both lanes alike) */
    uint32_t nfound = 0;
    uint32_t *restrict found = q->found; /* written only here: no reloads after each write */
    bool pair = !dir && q->pair != SW_SPACE_NO_PAIR;
    sw__spoint *own = dir && q->skip != SW__NIL ? sw__world_spoint(w, q->skip) : NULL;
    double own_dx = 0, own_dy = 0;
    if (own) {
        own_dx = own->dx;
        own_dy = own->dy;
        own->dx = own->dy = 0.0;
    }
    const sw__sbucket *buckets = w->buckets;
    const size_t bw = w->bw;
    for (int j = 0; j < ny; j++)
        for (uint32_t cy = ay[j], cy1 = by[j]; cy <= cy1; cy++)
            for (int i = 0; i < nx; i++) {
                const sw__sbucket *b = buckets + cy * bw + ax[i];
                const sw__sbucket *bend = buckets + cy * bw + bx[i] + 1;
                for (; b < bend; b++) {
                    const sw__spoint *p = b->p, *end = p + b->n;
                    for (; p < end; p++) {
                        v2d d = (v2d){p->x, p->y} - at;
                        if (wrap) /* as the branches of sw_world_space_delta, without them */
                            d = d - v2_keep(ext, d > half) + v2_keep(ext, d < nhalf);
                        v2d sq = d * d;
                        /* dx*dx + dy*dy in both lanes (the same sum either way round) */
                        v2d d2 = sq + __builtin_shufflevector(sq, sq, 1, 0);
                        v2m in = (v2m)(d2 <= r2), inside = in & (v2m)(d2 < rin2);
                        all += v2_keep(d, in);
                        inner += v2_keep(d, inside);
                        count += in;
                        count_in += inside;
                        if (dir) /* the pair beside the point: no walk to a frame */
                            vel += v2_keep((v2d){p->dx, p->dy}, in);
                        if (pair) {
                            found[nfound] = p->slot;
                            nfound -= (uint32_t)in[0];
                            if (nfound == SPACE_FOUND) {
                                q->nfound = nfound;
                                sums_flush(w, q);
                                nfound = 0;
                            }
                        }
                    }
                }
            }
    if (own) {
        own->dx = own_dx;
        own->dy = own_dy;
    }
    sw_space_sums *m = q->sums;
    m->dx = all[0];
    m->dy = all[1];
    m->dx_in = inner[0];
    m->dy_in = inner[1];
    if (dir) {
        m->vx = vel[0];
        m->vy = vel[1];
    }
    uint32_t n = -(uint32_t)count[0], nin = -(uint32_t)count_in[0];
    bool skipped = q->skip != SW__NIL; /* at the point: within r, and within r_in if r_in > 0 */
    m->n = n - skipped;
    m->n_in = nin - (skipped && q->rin2 > 0);
    q->nfound = nfound;
}

/* Fold one agent found (slot, its offset, its task) into q->sums: the
 * branching fold, for a query with a kind filter. */
static inline __attribute__((always_inline)) void
fold_hit(space_query *q, uint32_t slot, double dx, double dy, double d2,
         const struct sw__task *k, const sw__spoint *p) {
    sw_space_sums *m = q->sums;
    if (slot == q->skip) return;
    m->n++;
    m->dx += dx;
    m->dy += dy;
    if (d2 < q->rin2) {
        m->n_in++;
        m->dx_in += dx;
        m->dy_in += dy;
    }
    if (q->pair == SW_SPACE_DIR_PAIR) {
        m->vx += p->dx;
        m->vy += p->dy;
    } else if (q->pair != SW_SPACE_NO_PAIR) {
        const double *v = frame_pair(k, q->pair);
        m->vx += v[0];
        m->vy += v[1];
    }
}

/* Scan buckets [b, bend) (a run of one row): the agents within r, in
 * bucket then arrival order, written as ids, or (only those of kind `ki`)
 * as hits with offsets and frames or folded into q->sums by fold_hit.
 * Inlined into each case, so that the unused branches disappear. (A bucket
 * holds live agents only: the death hook takes them out.) */
static inline __attribute__((always_inline)) void
scan_run(const sw_world *w, space_query *q, const sw__sbucket *b, const sw__sbucket *bend,
         bool wrap, bool want_ids) {
    const struct sw__task *tasks = w->s->tasks;
    const double x = q->x, y = q->y, r2 = q->r2;
    uint32_t n = q->n;
    for (; b < bend; b++) {
        const sw__spoint *p = b->p, *end = p + b->n;
        for (; p < end; p++) {
            double dx = p->x - x, dy = p->y - y;
            if (wrap) {
                if (dx > q->hw) dx -= q->W; else if (dx < -q->hw) dx += q->W;
                if (dy > q->hh) dy -= q->H; else if (dy < -q->hh) dy += q->H;
            }
            double d2 = dx * dx + dy * dy;
            if (d2 > r2) continue;
            uint32_t slot = p->slot;
            if (want_ids) {
                if (n < q->cap) q->ids[n] = sw__id_of_kind(w->s, slot, -1);
                n++;
                continue;
            }
            const struct sw__task *k = &tasks[slot];
            if (q->ki != -1 && k->kind != q->ki) continue;
            if (q->sums) {
                fold_hit(q, slot, dx, dy, d2, k, p);
                continue;
            }
            if (n < q->cap) {
                q->hits[n] = (sw_space_hit){sw_handle_make(slot, k->gen), dx, dy, sw__root_frame(k) + 1};
            }
            n++;
        }
    }
    q->n = n;
}

/* The buckets of rows [ay[j], by[j]] and columns [ax[i], bx[i]], row by row
 * (row-major bucket order), each row's columns as one or two runs. */
static inline __attribute__((always_inline)) void
scan_buckets(const sw_world *w, space_query *q, int nx, const uint32_t *ax, const uint32_t *bx,
             int ny, const uint32_t *ay, const uint32_t *by, bool wrap, bool want_ids) {
    for (int j = 0; j < ny; j++)
        for (uint32_t cy = ay[j]; cy <= by[j]; cy++) {
            const sw__sbucket *row = w->buckets + (size_t)cy * w->bw;
            scan_run(w, q, row + ax[0], row + bx[0] + 1, wrap, want_ids);
            if (nx == 2) scan_run(w, q, row + ax[1], row + bx[1] + 1, wrap, want_ids);
        }
}

/* Whether the agent a sums query skips is nowhere in space (then forgotten)
 * or at the query point (as sum_scan needs it). */
static inline bool skip_at(const sw_world *w, space_query *q) {
    if (q->skip == SW__NIL) return true;
    const sw__spoint *p = q->skip < w->slotcap ? sw__world_spoint(w, q->skip) : NULL;
    if (!p) {
        q->skip = SW__NIL;
        return true;
    }
    return p->x == q->x && p->y == q->y;
}

/* Run query `q` (its output, kind filter and fold settings filled in) for
 * the agents within r of (x, y). */
static inline __attribute__((always_inline)) uint32_t
space_scan(const sw_world *w, space_query *q, double x, double y, double r) {
    if (!(r >= 0) || !isfinite(x) || !isfinite(y) || q->ki == -2) return 0;
    bool torus = w->d.topology == SW_TOPO_TORUS, seamx, seamy;
    if (torus && !sw__space_wrap(w, &x, &y)) return 0;
    double re = r + space_slack(w, r);
    uint32_t ax[2], bx[2], ay[2], by[2];
    int nx = bucket_ranges(x, re, w->d.width, w->bsize, w->binv, w->bw, torus, ax, bx, &seamx);
    int ny = bucket_ranges(y, re, w->d.height, w->bsize, w->binv, w->bh, torus, ay, by, &seamy);
    if (nx == 0 || ny == 0) return 0;
    q->x = x;
    q->y = y;
    q->r2 = r * r;
    q->W = w->d.width;
    q->H = w->d.height;
    q->hw = q->W / 2;
    q->hh = q->H / 2;
    /* each case its own copy of the loops, so that unused branches vanish */
    bool wrap = seamx || seamy;
    int mode = q->ids ? SCAN_IDS : q->sums && q->ki == -1 && skip_at(w, q) ? SCAN_SUMS : SCAN_HITS;
    if (mode == SCAN_IDS && wrap) scan_buckets(w, q, nx, ax, bx, ny, ay, by, true, true);
    else if (mode == SCAN_IDS) scan_buckets(w, q, nx, ax, bx, ny, ay, by, false, true);
    else if (mode == SCAN_SUMS && q->pair == SW_SPACE_DIR_PAIR && wrap)
        sum_scan(w, q, nx, ax, bx, ny, ay, by, true, true);
    else if (mode == SCAN_SUMS && q->pair == SW_SPACE_DIR_PAIR)
        sum_scan(w, q, nx, ax, bx, ny, ay, by, false, true);
    else if (mode == SCAN_SUMS && wrap) sum_scan(w, q, nx, ax, bx, ny, ay, by, true, false);
    else if (mode == SCAN_SUMS) sum_scan(w, q, nx, ax, bx, ny, ay, by, false, false);
    else if (wrap) scan_buckets(w, q, nx, ax, bx, ny, ay, by, true, false);
    else scan_buckets(w, q, nx, ax, bx, ny, ay, by, false, false);
    if (q->sums && q->nfound) sums_flush(w, q);
    return q->n;
}

/* The kind filter of a hits query: every live agent of that kind (the
 * usual case, a world of birds) needs no agent found checked. */
static inline int hits_filter(const sw_world *w, const sw_kind *kind) {
    int ki = sw__kind_filter(w, kind);
    return ki >= 0 && w->s->kinds[ki].live == w->s->live ? -1 : ki;
}

uint32_t sw_world_space_near(const sw_world *w, double x, double y, double r, sw_id *out,
                             uint32_t cap) {
    space_query q = {.ki = -1, .ids = out, .cap = cap, .skip = SW__NIL};
    return space_scan(w, &q, x, y, r);
}

uint32_t sw_world_space_near_hits(const sw_world *w, double x, double y, double r,
                                  const sw_kind *kind, sw_space_hit *out, uint32_t cap) {
    space_query q = {.ki = hits_filter(w, kind), .hits = out, .cap = cap, .skip = SW__NIL};
    return space_scan(w, &q, x, y, r);
}

uint32_t sw_world_space_near_sums(const sw_world *w, double x, double y, double r, double r_in,
                                  const sw_kind *kind, sw_id skip, size_t pair,
                                  sw_space_sums *sums) {
    *sums = (sw_space_sums){0};
    uint32_t found[SPACE_FOUND];
    space_query q = {.ki = hits_filter(w, kind), .sums = sums, .found = found,
                     .rin2 = r_in > 0 ? r_in * r_in : 0, .pair = pair,
                     .skip = sw_sched_alive(w->s, skip) ? sw_handle_slot(skip) : SW__NIL};
    space_scan(w, &q, x, y, r);
    return sums->n;
}

uint32_t sw_space_near_sums(sw_tasklet *t, double x, double y, double r, double r_in, size_t pair,
                            sw_space_sums *sums) {
    const sw_world *w = sw_world_of(t);
    *sums = (sw_space_sums){0};
    uint16_t kind = t->task->kind; /* every live agent of its kind: no agent found checked */
    uint32_t found[SPACE_FOUND];
    space_query q = {.ki = w->s->kinds[kind].live == w->s->live ? -1 : kind, .sums = sums,
                     .found = found, .rin2 = r_in > 0 ? r_in * r_in : 0, .pair = pair,
                     .skip = t->task->state == SW_TASK_ZOMBIE ? SW__NIL : t->slot};
    space_scan(w, &q, x, y, r);
    return sums->n;
}
