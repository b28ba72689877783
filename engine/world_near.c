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
 * buckets across the seam would miss points. Returns how many ranges.
 *
 * The minimum image: the points of buckets [a, b] lie within r + bs (plus
 * rounding) of c, which is nearer than half the extent when r + 2 bs is.
 * Then every point of a range is on the same side of the seam, so its
 * minimum-image offset is (p - c) - s[i] for the range's shift s[i] (0, or
 * ±extent for the range across the seam), the same subtraction, bit for
 * bit, as sw_world_space_delta makes. Otherwise (a radius near half the
 * extent) *wrap is set: each point's offset needs the test. */
static inline int bucket_ranges(double c, double r, double extent, double bs, double inv,
                                uint32_t nb, bool torus, uint32_t a[2], uint32_t b[2],
                                double s[2], bool *wrap) {
    double lo = c - r, hi = c + r;
    s[0] = s[1] = 0.0;
    *wrap = torus && !(r + 2 * bs < extent / 2);
    if (torus) {
        if (2 * r >= extent) {
            a[0] = 0;
            b[0] = nb - 1;
            return 1;
        }
        if (lo >= 0 && hi < extent) { /* the usual case: not across the seam */
            a[0] = bucket_at(lo, inv, nb);
            b[0] = bucket_at(hi, inv, nb);
            return 1;
        }
        /* across the seam: [0, hi'] and [lo', extent], merged when they meet */
        double p0 = lo < 0 ? hi : hi - extent, p1 = lo < 0 ? lo + extent : lo;
        a[0] = 0;
        b[0] = p0 < 0 ? 0 : bucket_at(p0, inv, nb);
        uint32_t a1 = p1 < 0 ? 0 : bucket_at(p1, inv, nb), b1 = nb - 1;
        if (a1 <= b[0] + 1) { /* overlapping or touching: merge */
            if (b1 > b[0]) b[0] = b1;
            *wrap = true;
            return 1;
        }
        a[1] = a1;
        b[1] = b1;
        if (lo < 0) s[1] = extent; /* the far range lies near the end: p - c > extent / 2 */
        else s[0] = -extent;       /* near the start: p - c < -extent / 2 */
        return 2;
    }
    if (hi < 0 || lo >= extent) return 0;
    a[0] = bucket_at(lo < 0 ? 0 : lo, inv, nb);
    b[0] = bucket_at(hi >= extent ? extent : hi, inv, nb);
    return 1;
}

/* The buckets a query reads: rows [ay[j], by[j]] shifted by sy[j], columns
 * [ax[i], bx[i]] shifted by sx[i] (see bucket_ranges). */
typedef struct space_ranges {
    int nx, ny;
    uint32_t ax[2], bx[2], ay[2], by[2];
    double sx[2], sy[2];
    bool wrap;    /* offsets need the minimum image tested per point */
    bool shifted; /* some range is shifted (across the seam) */
} space_ranges;

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
} space_query;

enum { SCAN_HITS, SCAN_IDS, SCAN_SUMS }; /* what a query makes of the agents it finds */

/* Four doubles worked on together, one agent per lane, and the lane masks
 * (all ones or zeros) their comparisons give: GCC's vector extensions, each
 * lane exactly the scalar operation; without AVX, two vectors of two (v2d,
 * see sum_scan). Both builds give the same sums bit for bit: IEEE
 * operations lane by lane, no contraction into fused multiply-adds
 * (-ffp-contract=off on this file, and neither target has FMA). */
typedef double v4d __attribute__((vector_size(32)));
typedef int64_t v4m __attribute__((vector_size(32)));

/* The helpers on them are macros: a function taking or returning a 32-byte
 * vector changes the ABI without AVX, which GCC warns about even when the
 * function is inlined (at link time, too). */
#define V4_ALL(v) ((v4d){(v), (v), (v), (v)})
/* The lanes' sums of a, b, c and d, in lanes 0 to 3, each in one fixed
 * order, the same on every CPU: (v0 + v1) + (v2 + v3). Transposed by
 * shuffles, so that the four take three additions. */
#define V4_SUM4(a, b, c, d) \
    (V4_HALVES_LO(V4_PAIRS(a, b), V4_PAIRS(c, d)) + V4_HALVES_HI(V4_PAIRS(a, b), V4_PAIRS(c, d)))
/* {a0 + a1, b0 + b1, a2 + a3, b2 + b3} */
#define V4_PAIRS(a, b) \
    (__builtin_shufflevector(a, b, 0, 4, 2, 6) + __builtin_shufflevector(a, b, 1, 5, 3, 7))
#define V4_HALVES_LO(u, v) __builtin_shufflevector(u, v, 0, 1, 4, 5)
#define V4_HALVES_HI(u, v) __builtin_shufflevector(u, v, 2, 3, 6, 7)

typedef double v2d __attribute__((vector_size(16)));
typedef int64_t v2m __attribute__((vector_size(16)));

/* How many entries of bucket b a sums scan reads: its agents, or `least`
 * (w->sread) if more, padding included; none without storage (a bucket's
 * storage holds at least w->sread entries: world_space.c). The padding's
 * sentinels add zeros (see sum_scan), so the sums are the same; a loop
 * over a bucket's groups whose length is the same for most buckets (a
 * world whose queries read buckets of about that many agents) leaves them
 * without being mispredicted as often. */
static inline uint32_t scan_length(const sw__sbucket *b, uint32_t least) {
    uint32_t pad = b->cap ? least : 0;
    return b->n > pad ? b->n : pad;
}

/* Fold the buckets of q's ranges into q->sums, for a query without a kind
 * filter whose skipped agent, if any, sits at the query point, four agents
 * at a time, one per lane: each lane keeps its own sums, added up at the end
 * in a fixed order (V4_SUM4). A bucket's sentinels (a NaN point) fill its
 * last group. No branch on the distance tests, which go either way (a
 * branch would often be mispredicted): an agent outside adds zeros, which
 * leave every sum as it was bit for bit (sums start at +0, and s + 0 == s
 * for every s but -0, which a sum starting at +0 never is). The skipped
 * agent is folded in like the others, adding zeros to the offsets, and
 * taken back out of the counts after. The query's r_in is within its r
 * (space_scan sends the others to the branching fold), so a point within
 * r_in is within r: `inside` needs no second mask (one operation less per
 * group of four, the same lanes bit for bit). With `dir` (SW_SPACE_DIR_PAIR) the
 * pairs are the direction pairs of the buckets, the skipped agent's read as
 * (0, 0): it is within r, adding then taking out its pair would round, and
 * a mask would cost for every agent read; it is put back after the scan.
 * That is the scan's only write to the world, undone before it returns (a
 * world is used by one thread at a time). `wrap`: the minimum image per
 * agent; `shift`: per range (bucket_ranges); neither: no seam in reach. */
static inline __attribute__((always_inline)) void
sum_scan(const sw_world *w, const space_query *q, const space_ranges *rg, sw__sbucket *own,
         uint32_t own_i, bool wrap, bool shift, bool dir, bool avx) {
    /* With AVX a group's four lanes are one v4d; without, two v2d halves
       (lanes 0-1 and 2-3), each with its own sums, put together at the end:
       the same operations lane by lane, so the same sums bit for bit. (Four
       doubles as one vector without AVX, the compiler makes a comparison
       one lane at a time through general registers and memory: 2.7 times as
       slow as main's scan.) */
    const v4d ext_x = V4_ALL(q->W), ext_y = V4_ALL(q->H);
    const v4d half_x = V4_ALL(q->hw), half_y = V4_ALL(q->hh);
    const v4d r2 = V4_ALL(q->r2), rin2 = V4_ALL(q->rin2);
    const v4d at_x = V4_ALL(q->x), at_y = V4_ALL(q->y);
    const v2d ext_x2 = {q->W, q->W}, ext_y2 = {q->H, q->H};
    const v2d half_x2 = {q->hw, q->hw}, half_y2 = {q->hh, q->hh};
    const v2d r22 = {q->r2, q->r2}, rin22 = {q->rin2, q->rin2};
    const v2d at_x2 = {q->x, q->x}, at_y2 = {q->y, q->y};
    v4d all_x = {0}, all_y = {0}, in_x = {0}, in_y = {0}, vel_x = {0}, vel_y = {0};
    v4m count = {0}, count_in = {0}; /* minus the counts, per lane */
    v2d all_x0 = {0}, all_y0 = {0}, in_x0 = {0}, in_y0 = {0}, vel_x0 = {0}, vel_y0 = {0};
    v2d all_x1 = {0}, all_y1 = {0}, in_x1 = {0}, in_y1 = {0}, vel_x1 = {0}, vel_y1 = {0};
    v2m count0 = {0}, count_in0 = {0}, count1 = {0}, count_in1 = {0};
    double own_dx = 0, own_dy = 0;
    if (!dir) own = NULL;
    if (own) {
        own_dx = *sw__sb_dx(own, own_i);
        own_dy = *sw__sb_dy(own, own_i);
        *sw__sb_dx(own, own_i) = *sw__sb_dy(own, own_i) = 0.0;
    }
    const sw__sbucket *buckets = w->buckets;
    const size_t bw = w->bw;
    const uint32_t least = w->sread;
    /* The lanes of a group at p (x; y, dx, dy at p + o, 2 o, 3 o: see
       sw__sbucket) as vectors of type VD (masks VM), into the sums with
       suffix S. The offsets are negated, at - p (the load folds into the
       subtraction): exactly -(p - at), and so on below: (at - p) + s ==
       -((p - at) - s), the minimum image of -d is -(that of d), and the
       sums are negated back at the end, so they are those of the offsets
       exactly. An agent outside adds zeros (see above). */
#define SCAN_LANES(VD, VM, p, o, S, C)                                          \
    do {                                                                        \
        VD dx = at_x##C - *(const VD *)(const void *)(p);                       \
        VD dy = at_y##C - *(const VD *)(const void *)((p) + (o));               \
        if (shift) {                                                            \
            dx = dx + sx##C;                                                    \
            dy = dy + sy##C;                                                    \
        }                                                                       \
        if (wrap) { /* the branches of sw_world_space_delta, without them */   \
            dx = dx - (VD)((VM)ext_x##C & (VM)(dx > half_x##C)) +               \
                 (VD)((VM)ext_x##C & (VM)(dx < -half_x##C));                    \
            dy = dy - (VD)((VM)ext_y##C & (VM)(dy > half_y##C)) +               \
                 (VD)((VM)ext_y##C & (VM)(dy < -half_y##C));                    \
        }                                                                       \
        VD d2 = dx * dx + dy * dy;                                              \
        VM in = (VM)(d2 <= r2##C), inside = (VM)(d2 < rin2##C);                 \
        all_x##S += (VD)((VM)dx & in);                                          \
        all_y##S += (VD)((VM)dy & in);                                          \
        in_x##S += (VD)((VM)dx & inside);                                       \
        in_y##S += (VD)((VM)dy & inside);                                       \
        count##S += in;                                                         \
        count_in##S += inside;                                                  \
        if (dir) { /* the pairs beside the points: no walk to a frame */        \
            vel_x##S += (VD)(*(const VM *)(const void *)((p) + 2 * (o)) & in);  \
            vel_y##S += (VD)(*(const VM *)(const void *)((p) + 3 * (o)) & in);  \
        }                                                                       \
    } while (0)
    for (int j = 0; j < rg->ny; j++) {
        const v4d sy = V4_ALL(shift ? rg->sy[j] : 0.0);
        const v2d sy2 = {sy[0], sy[0]};
        for (uint32_t cy = rg->ay[j], cy1 = rg->by[j]; cy <= cy1; cy++)
            for (int i = 0; i < rg->nx; i++) {
                const v4d sx = V4_ALL(shift ? rg->sx[i] : 0.0);
                const v2d sx2 = {sx[0], sx[0]};
                const sw__sbucket *b = buckets + cy * bw + rg->ax[i];
                const sw__sbucket *bend = buckets + cy * bw + rg->bx[i] + 1;
                for (; b < bend; b++) {
                    /* 32-byte aligned groups (see sw__sbucket) */
                    const char *p = __builtin_assume_aligned((const char *)b->p, 32);
                    const char *end = p + (size_t)b->n * (4 * sizeof(double));
                    if (least) /* the same for every bucket: a branch, not a longer wait for end */
                        end = p + (size_t)scan_length(b, least) * (4 * sizeof(double));
                    const size_t o = SW__LANES * sizeof(double); /* x, y, dx, dy of a group */
                    for (; p < end; p += 4 * SW__LANES * sizeof(double)) {
                        if (avx) {
                            SCAN_LANES(v4d, v4m, p, o, , );
                        } else {
                            SCAN_LANES(v2d, v2m, p, o, 0, 2);
                            SCAN_LANES(v2d, v2m, p + 2 * sizeof(double), o, 1, 2);
                        }
                    }
                }
            }
    }
#undef SCAN_LANES
    if (own) {
        *sw__sb_dx(own, own_i) = own_dx;
        *sw__sb_dy(own, own_i) = own_dy;
    }
    if (!avx) { /* the halves' sums as the four lanes */
        all_x = __builtin_shufflevector(all_x0, all_x1, 0, 1, 2, 3);
        all_y = __builtin_shufflevector(all_y0, all_y1, 0, 1, 2, 3);
        in_x = __builtin_shufflevector(in_x0, in_x1, 0, 1, 2, 3);
        in_y = __builtin_shufflevector(in_y0, in_y1, 0, 1, 2, 3);
        vel_x = __builtin_shufflevector(vel_x0, vel_x1, 0, 1, 2, 3);
        vel_y = __builtin_shufflevector(vel_y0, vel_y1, 0, 1, 2, 3);
        count = __builtin_shufflevector(count0, count1, 0, 1, 2, 3);
        count_in = __builtin_shufflevector(count_in0, count_in1, 0, 1, 2, 3);
    }
    sw_space_sums *m = q->sums;
    /* the four offset sums, negated back (0 - s: +0 stays +0) */
    v4d off = (v4d){0, 0, 0, 0} - V4_SUM4(all_x, all_y, in_x, in_y);
    m->dx = off[0];
    m->dy = off[1];
    m->dx_in = off[2];
    m->dy_in = off[3];
    if (dir) {
        v4d vel = V4_SUM4(vel_x, vel_y, vel_x, vel_y);
        m->vx = vel[0];
        m->vy = vel[1];
    }
    /* the two counts' lanes added up together, as the offsets' are (whole
       numbers: any order gives the same) */
    v4m pairs = __builtin_shufflevector(count, count_in, 0, 4, 2, 6) +
                __builtin_shufflevector(count, count_in, 1, 5, 3, 7);
    v2m both = __builtin_shufflevector(pairs, pairs, 0, 1) + __builtin_shufflevector(pairs, pairs, 2, 3);
    uint32_t n = -(uint32_t)both[0], nin = -(uint32_t)both[1];
    bool skipped = q->skip != SW__NIL; /* at the point: within r, and within r_in if r_in > 0 */
    m->n = n - skipped;
    m->n_in = nin - (skipped && q->rin2 > 0);
}

/* The lane scan, each case its own copy of the loops, so that unused
 * branches vanish. `skip_b`, `skip_i`: the skipped agent's bucket entry as
 * skip_at found it (NULL: none); with direction pairs summed, sum_scan
 * reads its pair as (0, 0). */
static inline __attribute__((always_inline)) void
sum_query(const sw_world *w, const space_query *q, const space_ranges *rg, sw__sbucket *skip_b,
          uint32_t skip_i, bool avx) {
    bool dir = q->pair == SW_SPACE_DIR_PAIR;
    sw__sbucket *own = dir ? skip_b : NULL;
    uint32_t i = dir ? skip_i : 0;
    if (rg->wrap && dir) sum_scan(w, q, rg, own, i, true, false, true, avx);
    else if (rg->wrap) sum_scan(w, q, rg, own, i, true, false, false, avx);
    else if (rg->shifted && dir) sum_scan(w, q, rg, own, i, false, true, true, avx);
    else if (rg->shifted) sum_scan(w, q, rg, own, i, false, true, false, avx);
    else if (dir) sum_scan(w, q, rg, own, i, false, false, true, avx);
    else sum_scan(w, q, rg, own, i, false, false, false, avx);
}

/* Fold one agent found (slot, its offset, its task, its direction pair)
 * into q->sums: the branching fold, for a query with a kind filter, a frame
 * pair, or a skipped agent away from the point; the sums are then those of
 * a loop over the hits, bit for bit. */
static inline __attribute__((always_inline)) void
fold_hit(space_query *q, uint32_t slot, double dx, double dy, double d2,
         const struct sw__task *k, double pdx, double pdy) {
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
        m->vx += pdx;
        m->vy += pdy;
    } else if (q->pair != SW_SPACE_NO_PAIR) {
        const double *v = frame_pair(k, q->pair);
        m->vx += v[0];
        m->vy += v[1];
    }
}

/* Scan buckets [b, bend) (a run of one row, its offsets shifted by (sx,
 * sy)): the agents within r, in bucket then arrival order, written as ids,
 * or (only those of kind `ki`) as hits with offsets and frames or folded
 * into q->sums by fold_hit. Inlined into each case, so that the unused
 * branches disappear. (A bucket holds live agents only: the death hook
 * takes them out.) */
static inline __attribute__((always_inline)) void
scan_run(const sw_world *w, space_query *q, const sw__sbucket *b, const sw__sbucket *bend,
         double sx, double sy, bool wrap, bool want_ids) {
    const struct sw__task *tasks = w->s->tasks;
    const double x = q->x, y = q->y, r2 = q->r2;
    uint32_t n = q->n;
    for (; b < bend; b++) {
        const uint32_t *slots = sw__sb_slot(b);
        for (uint32_t i = 0; i < b->n; i++) {
            const double *e = sw__sb_x(b, i); /* x, and y, dx, dy a vector's width on */
            double dx = e[0] - x - sx, dy = e[SW__LANES] - y - sy;
            if (wrap) {
                if (dx > q->hw) dx -= q->W; else if (dx < -q->hw) dx += q->W;
                if (dy > q->hh) dy -= q->H; else if (dy < -q->hh) dy += q->H;
            }
            double d2 = dx * dx + dy * dy;
            if (d2 > r2) continue;
            uint32_t slot = slots[i];
            if (want_ids) {
                if (n < q->cap) q->ids[n] = sw__id_of_kind(w->s, slot, -1);
                n++;
                continue;
            }
            const struct sw__task *k = &tasks[slot];
            if (q->ki != -1 && k->kind != q->ki) continue;
            if (q->sums) {
                fold_hit(q, slot, dx, dy, d2, k, e[2 * SW__LANES], e[3 * SW__LANES]);
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

/* The buckets of the ranges, row by row (row-major bucket order), each
 * row's columns as one or two runs. */
static inline __attribute__((always_inline)) void
scan_buckets(const sw_world *w, space_query *q, const space_ranges *rg, bool wrap, bool want_ids) {
    for (int j = 0; j < rg->ny; j++)
        for (uint32_t cy = rg->ay[j]; cy <= rg->by[j]; cy++) {
            const sw__sbucket *row = w->buckets + (size_t)cy * w->bw;
            for (int i = 0; i < rg->nx; i++)
                scan_run(w, q, row + rg->ax[i], row + rg->bx[i] + 1, rg->sx[i], rg->sy[j], wrap,
                         want_ids);
        }
}

/* Whether the agent a sums query skips is nowhere in space (then forgotten)
 * or at the query point (as sum_scan needs it); *own, *own_i: its bucket
 * entry when it has one (sum_query's, not looked up again). */
static inline bool skip_at(const sw_world *w, space_query *q, sw__sbucket **own, uint32_t *own_i) {
    if (q->skip == SW__NIL) return true;
    uint32_t i;
    sw__sbucket *b = q->skip < w->slotcap ? sw__world_sbucket(w, q->skip, &i) : NULL;
    if (!b) {
        q->skip = SW__NIL;
        return true;
    }
    *own = b;
    *own_i = i;
    return *sw__sb_x(b, i) == q->x && *sw__sb_y(b, i) == q->y;
}

/* Run query `q` (its output, kind filter and fold settings filled in) for
 * the agents within r of (x, y). */
static inline __attribute__((always_inline)) uint32_t
space_scan(const sw_world *w, space_query *q, double x, double y, double r, bool avx) {
    if (!(r >= 0) || !isfinite(x) || !isfinite(y) || q->ki == -2) return 0;
    bool torus = w->d.topology == SW_TOPO_TORUS, wrapx, wrapy;
    if (torus && !sw__space_wrap(w, &x, &y)) return 0;
    double re = r + space_slack(w, r);
    space_ranges rg;
    rg.nx = bucket_ranges(x, re, w->d.width, w->bsize, w->binv, w->bw, torus, rg.ax, rg.bx, rg.sx,
                          &wrapx);
    rg.ny = bucket_ranges(y, re, w->d.height, w->bsize, w->binv, w->bh, torus, rg.ay, rg.by, rg.sy,
                          &wrapy);
    if (rg.nx == 0 || rg.ny == 0) return 0;
    rg.wrap = wrapx || wrapy;
    rg.shifted = rg.nx == 2 || rg.ny == 2;
    if (rg.wrap) /* the test per point takes the minimum image: no shifts */
        rg.sx[0] = rg.sx[1] = rg.sy[0] = rg.sy[1] = 0.0;
    q->x = x;
    q->y = y;
    q->r2 = r * r;
    q->W = w->d.width;
    q->H = w->d.height;
    q->hw = q->W / 2;
    q->hh = q->H / 2;
    /* each case its own copy of the loops, so that unused branches vanish */
    sw__sbucket *skip_b = NULL;
    uint32_t skip_i = 0;
    bool lanes = q->sums && q->ki == -1 && q->rin2 <= q->r2 &&
                 (q->pair == SW_SPACE_NO_PAIR || q->pair == SW_SPACE_DIR_PAIR) &&
                 skip_at(w, q, &skip_b, &skip_i);
    int mode = q->ids ? SCAN_IDS : lanes ? SCAN_SUMS : SCAN_HITS;
    if (mode == SCAN_SUMS) sum_query(w, q, &rg, skip_b, skip_i, avx);
    else if (mode == SCAN_IDS && rg.wrap) scan_buckets(w, q, &rg, true, true);
    else if (mode == SCAN_IDS) scan_buckets(w, q, &rg, false, true);
    else if (rg.wrap) scan_buckets(w, q, &rg, true, false);
    else scan_buckets(w, q, &rg, false, false);
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
    return space_scan(w, &q, x, y, r, false);
}

uint32_t sw_world_space_near_hits(const sw_world *w, double x, double y, double r,
                                  const sw_kind *kind, sw_space_hit *out, uint32_t cap) {
    space_query q = {.ki = hits_filter(w, kind), .hits = out, .cap = cap, .skip = SW__NIL};
    return space_scan(w, &q, x, y, r, false);
}

/* The sums queries are built twice on x86-64: for AVX2, where each
 * operation on four lanes is one instruction, and for the baseline (SSE2),
 * where it is two; the loader picks one (ifunc resolvers, below: ELF
 * only). Setup and scan are inlined into each, so that the query stays in
 * registers. Both give the same sums bit for bit (see sum_scan).
 * -DSW_NO_AVX2_SCAN builds the baseline alone (to compare the two builds'
 * flights). Other CPUs (arm64: NEON) get the baseline, two lanes per
 * vector. */
#if defined(__x86_64__) && defined(__ELF__) && defined(__GNUC__) && !defined(SW_NO_AVX2_SCAN)
#define SW__AVX2_SCAN 1
#else
#define SW__AVX2_SCAN 0
#endif

static inline __attribute__((always_inline)) uint32_t
world_near_sums(const sw_world *w, double x, double y, double r, double r_in, const sw_kind *kind,
                sw_id skip, size_t pair, sw_space_sums *sums, bool avx) {
    *sums = (sw_space_sums){0};
    space_query q = {.ki = hits_filter(w, kind), .sums = sums,
                     .rin2 = r_in > 0 ? r_in * r_in : 0, .pair = pair,
                     .skip = sw_sched_alive(w->s, skip) ? sw_handle_slot(skip) : SW__NIL};
    space_scan(w, &q, x, y, r, avx);
    return sums->n;
}

/* What a bird's own query (below) has worked out and checked, for its scan. */
typedef struct self_query {
    const sw_world *w;
    sw__sbucket *own; /* the bird's bucket entry, at the point */
    uint32_t own_i;
    uint32_t slot;
    double x, y, r2, rin2;
    sw_space_sums *sums;
} self_query;

/* The lane scan of a self_query over ranges `rg` (without the minimum
 * image per point; `shift`: some range lies across the seam). */
static inline __attribute__((always_inline)) void
self_scan(const self_query *sq, const space_ranges *rg, bool shift, bool avx) {
    const sw_world *w = sq->w;
    const double W = w->d.width, H = w->d.height;
    const space_query q = {.x = sq->x, .y = sq->y, .r2 = sq->r2, .W = W, .H = H, .hw = W / 2,
                           .hh = H / 2, .ki = -1, .sums = sq->sums, .rin2 = sq->rin2,
                           .skip = sq->slot, .pair = SW_SPACE_DIR_PAIR};
    sum_scan(w, &q, rg, sq->own, sq->own_i, false, shift, true, avx); /* writes every sum */
}

/* bucket_at with the bucket count also as a double (nbd == nb): the same
 * bucket, without converting nb at every call. */
static inline uint32_t lean_bucket(double v, double inv, double nbd, uint32_t nb) {
    double q = v * inv;
    return q >= nbd ? nb - 1 : (uint32_t)q;
}

/* bucket_ranges along one axis for a bird's own query (see self_sums_lean:
 * a torus, c inside, re + 2 bs < extent / 2, so no minimum image per
 * point): the same ranges and shifts, by the same operations, without the
 * cases that cannot arise there (the whole axis, a range's end before 0:
 * lo + extent > extent / 2 when lo < 0, hi - extent >= 0 when hi >= extent).
 * 0 when the two ranges across the seam meet (bucket_ranges' merge, which
 * would need the minimum image per point; it cannot arise either, as they
 * lie more than 2 bs apart, but is kept as a check: the general path). */
static inline __attribute__((always_inline)) int
lean_axis(double c, double re, double extent, double inv, double nbd, uint32_t nb,
          uint32_t a[2], uint32_t b[2], double s[2]) {
    double lo = c - re, hi = c + re;
    s[0] = s[1] = 0.0;
    if (lo >= 0 && hi < extent) {
        a[0] = lean_bucket(lo, inv, nbd, nb);
        b[0] = lean_bucket(hi, inv, nbd, nb);
        return 1;
    }
    double p0 = lo < 0 ? hi : hi - extent, p1 = lo < 0 ? lo + extent : lo;
    a[0] = 0;
    b[0] = lean_bucket(p0, inv, nbd, nb);
    a[1] = lean_bucket(p1, inv, nbd, nb);
    b[1] = nb - 1;
    if (a[1] <= b[0] + 1) return 0;
    if (lo < 0) s[1] = extent;
    else s[0] = -extent;
    return 2;
}

/* A bird's own query whose reach crosses the seam: the ranges of
 * bucket_ranges (lean_axis), each with its shift. False when they meet
 * around the torus (then the minimum image per point: the general path).
 * Out of line, so that the usual case keeps its few registers free of this
 * one's; its arguments in registers (a record built for it was stored and
 * read back), the radii's values read from w->lean. */
static inline __attribute__((always_inline)) bool
self_sums_seam(const sw_world *w, sw__sbucket *own, uint32_t own_i, uint32_t slot,
               sw_space_sums *sums, double x, double y, bool avx) {
    const sw__lean_radii *c = &w->lean;
    space_ranges rg;
    rg.nx = lean_axis(x, c->re, c->W, w->binv, c->bw, w->bw, rg.ax, rg.bx, rg.sx);
    rg.ny = lean_axis(y, c->re, c->H, w->binv, c->bh, w->bh, rg.ay, rg.by, rg.sy);
    if (!rg.nx || !rg.ny) return false;
    const self_query sq = {w, own, own_i, slot, x, y, c->r2, c->rin2, sums};
    self_scan(&sq, &rg, true, avx);
    return true;
}

typedef bool self_seam_fn(const sw_world *, sw__sbucket *, uint32_t, uint32_t, sw_space_sums *,
                          double, double);

__attribute__((noinline)) static bool self_sums_seam_base(const sw_world *w, sw__sbucket *own,
                                                          uint32_t own_i, uint32_t slot,
                                                          sw_space_sums *sums, double x,
                                                          double y) {
    return self_sums_seam(w, own, own_i, slot, sums, x, y, false);
}

/* The checks of a bird's own query that depend on its radii and the
 * world's shape alone (those of space_scan and bucket_ranges: a torus, r
 * not negative nor NaN, no minimum image per point, r_in within r), made
 * and, when they pass, kept in w->lean with the values worked out
 * (sw__lean_radii): the same expressions, so the same bits. False (nothing
 * kept) when they do not pass: the general path answers. Out of line: a
 * flock's radii pass once. */
__attribute__((noinline, cold)) static bool lean_radii(sw_world *w, double r, double r_in) {
    sw__lean_radii *c = &w->lean;
    const double W = c->W, H = c->H, bs = w->bsize;
    if (w->d.topology != SW_TOPO_TORUS || !(r >= 0)) return false;
    const double re = r + space_slack(w, r);
    if (!(re + 2 * bs < W / 2 && re + 2 * bs < H / 2)) return false;
    const double r2 = r * r, rin2 = r_in > 0 ? r_in * r_in : 0;
    if (!(rin2 <= r2)) return false;
    c->r = r;
    c->r_in = r_in;
    c->re = re;
    c->r2 = r2;
    c->rin2 = rin2;
    return true;
}

/* A bird's own query in the common case, straight to the lane scan: the
 * direction pairs summed, every live agent of its kind (no filter), a
 * torus and a radius that needs no minimum image per point (lean_radii,
 * kept for the radii last asked with), and the bird itself at the point.
 * With no seam within reach (most queries), one range of buckets per axis,
 * unshifted; else `seam` (self_sums_seam). The checks and the buckets are
 * those of space_scan, bucket_ranges and skip_at in that case, with the
 * bird's bucket entry looked up once, and no query record or dispatch
 * between them: the same buckets read in the same order, so the same sums
 * bit for bit. False (nothing written) when the case does not hold: the
 * general path answers. */
static inline __attribute__((always_inline)) bool
self_sums_lean(sw_tasklet *t, sw_world *w, double x, double y, double r, double r_in,
               size_t pair, sw_space_sums *sums, self_seam_fn *seam, bool avx) {
    const struct sw__task *k = t->task;
    const sw_sched *s = w->s;
    const uint32_t slot = t->slot;
    const sw__lean_radii *c = &w->lean;
    if (pair != SW_SPACE_DIR_PAIR || k->state == SW_TASK_ZOMBIE ||
        s->kinds[k->kind].live != s->live || slot >= w->slotcap)
        return false;
    if ((r != c->r || r_in != c->r_in) && !lean_radii(w, r, r_in)) return false;
    /* the bird at the point: then the point is inside the space (so finite,
       and as sw__space_wrap leaves it), as every point in a bucket is */
    const uint32_t b = w->sbucket[slot], own_i = w->sindex[slot];
    if (b == SW__NIL) return false;
    sw__sbucket *own = &w->buckets[b];
    if (*sw__sb_x(own, own_i) != x || *sw__sb_y(own, own_i) != y) return false;
    const double W = c->W, H = c->H, re = c->re;
    const double lox = x - re, hix = x + re, loy = y - re, hiy = y + re;
    if (!(lox >= 0 && hix < W && loy >= 0 && hiy < H)) /* across the seam */
        return seam(w, own, own_i, slot, sums, x, y);
    const self_query sq = {w, own, own_i, slot, x, y, c->r2, c->rin2, sums};
    const double inv = w->binv;
    const space_ranges rg = {.nx = 1, .ny = 1,
                             .ax = {lean_bucket(lox, inv, c->bw, w->bw)},
                             .bx = {lean_bucket(hix, inv, c->bw, w->bw)},
                             .ay = {lean_bucket(loy, inv, c->bh, w->bh)},
                             .by = {lean_bucket(hiy, inv, c->bh, w->bh)}};
    self_scan(&sq, &rg, false, avx);
    return true;
}

static inline __attribute__((always_inline)) uint32_t
self_near_sums(sw_tasklet *t, double x, double y, double r, double r_in, size_t pair,
               sw_space_sums *sums, bool avx) {
    const sw_world *w = sw_world_of(t);
    *sums = (sw_space_sums){0};
    uint16_t kind = t->task->kind; /* every live agent of its kind: no agent found checked */
    space_query q = {.ki = w->s->kinds[kind].live == w->s->live ? -1 : kind, .sums = sums,
                     .rin2 = r_in > 0 ? r_in * r_in : 0, .pair = pair,
                     .skip = t->task->state == SW_TASK_ZOMBIE ? SW__NIL : t->slot};
    space_scan(w, &q, x, y, r, avx);
    return sums->n;
}

/* The baseline build (every x86-64 CPU, and other CPUs), and the AVX2 build
 * below where there is one. */
static uint32_t world_near_sums_base(const sw_world *w, double x, double y, double r, double r_in,
                                     const sw_kind *kind, sw_id skip, size_t pair,
                                     sw_space_sums *sums) {
    return world_near_sums(w, x, y, r, r_in, kind, skip, pair, sums, false);
}

__attribute__((noinline)) static uint32_t
self_near_sums_general_base(sw_tasklet *t, double x, double y, double r, double r_in,
                            size_t pair, sw_space_sums *sums) {
    return self_near_sums(t, x, y, r, r_in, pair, sums, false);
}

static uint32_t self_near_sums_base(sw_tasklet *t, double x, double y, double r, double r_in,
                                    size_t pair, sw_space_sums *sums) {
    if (self_sums_lean(t, sw_world_of(t), x, y, r, r_in, pair, sums, self_sums_seam_base, false))
        return sums->n;
    return self_near_sums_general_base(t, x, y, r, r_in, pair, sums);
}

#if SW__AVX2_SCAN
__attribute__((target("avx2"), noinline)) static uint32_t
world_near_sums_avx2(const sw_world *w, double x, double y, double r, double r_in,
                     const sw_kind *kind, sw_id skip, size_t pair, sw_space_sums *sums) {
    return world_near_sums(w, x, y, r, r_in, kind, skip, pair, sums, true);
}

/* The general path on its own (noinline), so that the lean one's entry
 * and exit stay as small as its own work needs. */
__attribute__((target("avx2"), noinline)) static uint32_t
self_near_sums_general_avx2(sw_tasklet *t, double x, double y, double r, double r_in,
                            size_t pair, sw_space_sums *sums) {
    return self_near_sums(t, x, y, r, r_in, pair, sums, true);
}

__attribute__((target("avx2"), noinline)) static bool
self_sums_seam_avx2(const sw_world *w, sw__sbucket *own, uint32_t own_i, uint32_t slot,
                    sw_space_sums *sums, double x, double y) {
    return self_sums_seam(w, own, own_i, slot, sums, x, y, true);
}

__attribute__((target("avx2"), noinline)) static uint32_t
self_near_sums_avx2(sw_tasklet *t, double x, double y, double r, double r_in, size_t pair,
                    sw_space_sums *sums) {
    if (self_sums_lean(t, sw_world_of(t), x, y, r, r_in, pair, sums, self_sums_seam_avx2, true))
        return sums->n;
    return self_near_sums_general_avx2(t, x, y, r, r_in, pair, sums);
}

/* The choice is made once, when the program is loaded (an ifunc, as GCC's
 * target_clones makes): the caller then calls the chosen build directly.
 * The resolvers run before the sanitizers' run-time is set up, so they are
 * not instrumented; `used`, as clang does not count an ifunc as a use. */
typedef uint32_t world_sums_fn(const sw_world *, double, double, double, double, const sw_kind *,
                               sw_id, size_t, sw_space_sums *);
typedef uint32_t self_sums_fn(sw_tasklet *, double, double, double, double, size_t,
                              sw_space_sums *);

__attribute__((used, no_sanitize_address, no_sanitize("undefined"))) static world_sums_fn *
resolve_world_near_sums(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? world_near_sums_avx2 : world_near_sums_base;
}

__attribute__((used, no_sanitize_address, no_sanitize("undefined"))) static self_sums_fn *
resolve_self_near_sums(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? self_near_sums_avx2 : self_near_sums_base;
}

uint32_t sw_world_space_near_sums(const sw_world *w, double x, double y, double r, double r_in,
                                  const sw_kind *kind, sw_id skip, size_t pair,
                                  sw_space_sums *sums)
    __attribute__((ifunc("resolve_world_near_sums")));
uint32_t sw_space_near_sums(sw_tasklet *t, double x, double y, double r, double r_in, size_t pair,
                            sw_space_sums *sums) __attribute__((ifunc("resolve_self_near_sums")));
#else
uint32_t sw_world_space_near_sums(const sw_world *w, double x, double y, double r, double r_in,
                                  const sw_kind *kind, sw_id skip, size_t pair,
                                  sw_space_sums *sums) {
    return world_near_sums_base(w, x, y, r, r_in, kind, skip, pair, sums);
}

uint32_t sw_space_near_sums(sw_tasklet *t, double x, double y, double r, double r_in, size_t pair,
                            sw_space_sums *sums) {
    return self_near_sums_base(t, x, y, r, r_in, pair, sums);
}
#endif
