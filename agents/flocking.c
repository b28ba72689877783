/* flocking.c - boids in a periodic continuous space.
 *
 * The comparison's model (docs/models.md): each tick, birds one by one in a
 * fresh random order look at the birds within `visual` (Euclidean, minimum
 * image), steer towards them (cohesion), away from those closer than
 * `separation` (separation) and along their velocity (alignment), normalise
 * the velocity and fly `speed` ahead. Later birds of a tick see the moves of
 * earlier ones, as in the comparison.
 *
 * A bird's position lives in the world's continuous space (whose bucket
 * index answers "who is near", with each neighbour's offset and frame); its
 * velocity lives in its frame, and is given to the world as the bird's
 * direction at every change (from its birth on), so the index keeps it
 * beside the bird's point, bit for bit: the other birds sum it from there
 * (SW_SPACE_DIR_PAIR) without walking to this bird's frame. The heading
 * (atan2) the world works out only when the viewer asks. */
#include "models.h"
#include "model_util.h"

#include <math.h>

typedef struct {
    double x, y; /* a copy of its place in the world's space (its own query point) */
    double vx, vy;
    double speed, separation, visual;
    double cohere, separate, match; /* the three steering factors */
} boid;

static void boid_init(sw_tasklet *t, void *frame) {
    boid *f = frame;
    /* velocity components uniform in [-1, 1], not normalised (as compared) */
    f->vx = 2 * sw_rand_unit(t) - 1;
    f->vy = 2 * sw_rand_unit(t) - 1;
    sw_world_space_pos(sw_world_of(t), sw_self(t), &f->x, &f->y);
    /* its velocity as its direction from the start: the pair the others'
       queries sum (SW_SPACE_DIR_PAIR) is the velocity, bit for bit */
    sw_world_space_set_direction(sw_world_of(t), sw_self(t), f->vx, f->vy);
}

/* 1 / max(n, 1) for the neighbour counts n below SW__FLOCK_RECIPS: each
 * entry the quotient itself (a constant expression, which the compiler
 * rounds as the division does: tests/test_model_flocking.c compares them),
 * so a flight reads its factor where it divided, off the chain of
 * dependent operations from the query's count to the move, bit for bit the
 * same. Larger counts divide. Not static: the test reads it (declared in
 * model_util.h, with its size). */
#define RECIP1(n) 1.0 / ((n) ? (n) : 1)
#define RECIP4(n) RECIP1(n), RECIP1((n) + 1), RECIP1((n) + 2), RECIP1((n) + 3)
#define RECIP16(n) RECIP4(n), RECIP4((n) + 4), RECIP4((n) + 8), RECIP4((n) + 12)
#define RECIP64(n) RECIP16(n), RECIP16((n) + 16), RECIP16((n) + 32), RECIP16((n) + 48)
const double sw__flock_recip[SW__FLOCK_RECIPS] = {RECIP64(0), RECIP64(64)};
#undef RECIP64
#undef RECIP16
#undef RECIP4
#undef RECIP1

/* Two lanes of doubles: the velocity's two divisions by its norm as one
 * vector division, each lane exactly the scalar quotient. */
typedef double flock_v2d __attribute__((vector_size(16)));

/* One bird's step: steer by its neighbours, then fly. The world folds the
 * neighbours' offsets (all, and those closer than the separation) and
 * velocities (their directions, kept beside their points) into sums in one pass over its
 * index: the same sums, in the same order, as a loop over the list of
 * neighbours would make. The query and the move are the running agent's
 * own calls (sw_space_*), which need no id looked up. */
static void fly(sw_tasklet *t, boid *f) {
    sw_world *w = sw_world_of(t);
    sw_space_sums m; /* the birds within `visual` of its point, but itself */
    sw_space_near_sums(t, f->x, f->y, f->visual, f->separation, SW_SPACE_DIR_PAIR, &m);
    /* cohere = sum of headings, separate = minus the sum of those closer
       than the separation, match = sum of velocities */
    double k = m.n < SW__FLOCK_RECIPS ? sw__flock_recip[m.n] : 1.0 / m.n;
    f->vx += (m.dx * f->cohere + -m.dx_in * f->separate + m.vx * f->match) * k;
    f->vy += (m.dy * f->cohere + -m.dy_in * f->separate + m.vy * f->match) * k;
    double norm = sqrt(f->vx * f->vx + f->vy * f->vy);
    if (norm > 0) {
        flock_v2d v = (flock_v2d){f->vx, f->vy} / (flock_v2d){norm, norm};
        f->vx = v[0];
        f->vy = v[1];
    }
    const sw_world_desc *d = sw_world_desc_of(w);
    double W = d->width, H = d->height;
    double x = f->x + f->vx * f->speed, y = f->y + f->vy * f->speed;
    /* placed, with its velocity as its direction (the heading, when the
       viewer asks); a torus wraps a point that left it (about one step in
       a hundred in the benchmarks), the world's wrap the same bits as
       x + W or x - W would give (fmod is exact; then the same addition) */
    if (sw_space_move_to(t, x, y, f->vx, f->vy) == SW_OK) {
        f->x = x; /* the world keeps a point inside as it is... */
        f->y = y;
        if (!(x >= 0 && x < W && y >= 0 && y < H)) /* ...and wraps one outside */
            sw_world_space_pos(w, sw_self(t), &f->x, &f->y);
    } else { /* the wall of a bounded space: bounce off it */
        if (x < 0 || x >= W) f->vx = -f->vx;
        if (y < 0 || y >= H) f->vy = -f->vy;
        sw_world_space_set_direction(w, sw_self(t), f->vx, f->vy);
    }
}

static sw_step boid_run(sw_tasklet *t, void *frame) {
    boid *f = frame;
    SW_BEGIN(t, flap);
    for (;;) {
        fly(t, f);
        SW_SLEEP(t, flap, 1);
    }
    SW_END(t);
}

static const sw_field boid_fields[] = {
    SW_FIELD(boid, x, SW_T_F64),
    SW_FIELD(boid, y, SW_T_F64),
    SW_FIELD(boid, vx, SW_T_F64),
    SW_FIELD(boid, vy, SW_T_F64),
    SW_PARAM(boid, speed, SW_T_F64, 1.0, "distance flown per tick"),
    SW_PARAM(boid, separation, SW_T_F64, 1.0, "keeps away from birds closer than this"),
    SW_PARAM(boid, visual, SW_T_F64, 5.0, "sees birds within this distance"),
    SW_PARAM(boid, cohere, SW_T_F64, 0.03, "weight of steering towards neighbours"),
    SW_PARAM(boid, separate, SW_T_F64, 0.015, "weight of steering away from close ones"),
    SW_PARAM(boid, match, SW_T_F64, 0.05, "weight of matching neighbours' velocity"),
    SW_FIELD_END};

const sw_kind sw_kind_boid = {
    .name = "boid", .frame_size = sizeof(boid), .fields = boid_fields, .init = boid_init,
    .run = boid_run, .color = 0x4da3ff, .place = SW_PLACE_POINT,
    .doc = "flies with its neighbours: cohesion, separation, alignment (flocking)"};

/* The birds a bucket holds, about (bucket_width). */
#define SW__FLOCK_BUCKET_BIRDS 10

/* The width of the space's buckets for `d`'s flock (filled in). A query
 * reads the buckets its square of side 2 visual touches, each to the end of
 * its last group of four: fewer, fuller buckets cost less than many nearly
 * empty ones (each bucket read has its overhead, each a group part empty),
 * up to where the buckets get so wide that a query needs the minimum image
 * tested per bird (visual + 2 width >= size / 2, see bucket_ranges in
 * world_near.c), which costs more than it saves. So: about ten birds a
 * bucket (or the visual range, if wider), rounded to a whole number of
 * buckets across (none narrower than the others), then narrowed until the
 * scan keeps its per-range shifts, with a tenth of room. Where no width
 * keeps them (a visual range near half the size), as wide as the visual
 * range: the minimum image per bird either way. (bench models: flocking
 * large reads 6 x 6 buckets of 25 rather than 10 x 10 of 15, about 4 %
 * faster; flocking small 5 x 5 of 20 rather than 10 x 10 of 10, about
 * the same.) Only the index changes: the birds found are the same, their
 * sums added in another order (the last digits of a flight). */
static double bucket_width(const sw_flocking_desc *d) {
    double size = d->size, want = sqrt(SW__FLOCK_BUCKET_BIRDS * size * size / d->birds);
    if (want < d->visual) want = d->visual;
    double across = floor(size / want);
    if (across < 1) across = 1;
    double limit = 0.9 * (size / 2 - d->visual) / 2; /* widest that keeps the shifts, less a tenth */
    if (!(limit >= d->visual)) return d->visual < size ? d->visual : size;
    while (size / across > limit) across++;
    return size / across;
}

/* How many entries of each bucket a bird's query reads at least
 * (sw_world_desc.space_read), for buckets `width` wide. Where a bird's
 * square (side 2 visual) fits in a bucket, a query reads at most 2 x 2
 * buckets of a few groups of four each (flocking small: 5.5 groups in 2.2
 * buckets), and the loop over a bucket's groups, whose length follows the
 * bucket's count, is mispredicted at its end about once a bucket: reading
 * every bucket to the groups that the birds a bucket holds about fill
 * makes most of those loops the same length, for some groups of padding.
 * Wider queries read more groups (flocking large: 18 in 5 buckets), where
 * the padding costs more than the mispredictions: none. (bench models:
 * small 0.97 as long with 12, 1.02 with 8, 1.00 with 16; large 1.04 as
 * long with 12.) Only the reading changes: the same sums. */
static uint32_t bucket_read(const sw_flocking_desc *d, double width) {
    return 2 * d->visual <= width ? SW__FLOCK_BUCKET_BIRDS : 0; /* read as 12: whole groups */
}

sw_world *sw_flocking_new(const sw_flocking_desc *desc) {
    sw_flocking_desc d = desc ? *desc : (sw_flocking_desc){0};
    if (!d.size) d.size = 100;
    if (!d.birds) d.birds = 200;
    if (!(d.visual > 0)) d.visual = 5;
    const double width = bucket_width(&d);
    sw_world *w = sw_world_new(&(sw_world_desc){.width = d.size, .height = d.size, .seed = d.seed,
                                                .topology = SW_TOPO_TORUS, .space_cell = width,
                                                .space_read = bucket_read(&d, width)});
    if (!w) return NULL;
    sw_sched_set_kind_random(sw_world_sched(w), &sw_kind_boid, true);
    boid p = {.speed = 1.0, .separation = 1.0, .visual = d.visual,
              .cohere = 0.03, .separate = 0.015, .match = 0.05};
    if (sw_world_populate(w, &sw_kind_boid, &p, d.birds, SW_PLACE_POINT, 0, 1) < 0) {
        sw_world_free(w);
        return NULL;
    }
    return w;
}

double sw_flocking_order(sw_world *w) {
    sw_sched *s = sw_world_sched(w);
    double mx = 0, my = 0;
    uint32_t n = 0;
    for (sw_id id = sw_sched_next(s, SW_ID_NONE); id; id = sw_sched_next(s, id)) {
        if (sw_sched_kind_of(s, id) != &sw_kind_boid) continue;
        const boid *b = sw_sched_frame(s, id);
        mx += b->vx;
        my += b->vy;
        n++;
    }
    return n ? sqrt(mx * mx + my * my) / n : 0.0;
}
