/* pickle_world.c - the world's section of a pickle ("WRLD"): the grid's
 * occupancy with each cell's arrival order, continuous-space positions with
 * each bucket's order, headings, mailboxes, cell channels, named channels,
 * layers and the world's random counter.
 *
 * The world's shape (size, topology, bucket size) comes from the scenario and
 * is only checked: a snapshot loads into a world built from the same
 * scenario. Loading runs after the scheduler is in place, so every slot and
 * channel handle named here is checked against it; each live agent is in at
 * most one cell list and one bucket list, and a bucket is the one its
 * position falls in.
 *
 * Layout (varints unless said): width, height, topology (u8), bw, bh,
 * space_cell (f64), rng counter (u64), slot count; occupied cells (n, then
 * cell, count, slots each); space buckets (n, then bucket, count, then slot,
 * x (f64), y (f64) each); headings (n, then slot, f64 each); mailboxes (n,
 * then slot, handle); cell channels (n, then cell, handle); named channels
 * (n, then name, handle); layers (n, then name, ncells f64 each);
 * directions (n, then slot, dx (f64), dy (f64) each: the agents whose
 * heading is a direction given, whose pair near-queries sum exactly, see
 * SW_SPACE_DIR_PAIR). Snapshots from before the directions end after the
 * layers: each heading they saved that is not 0 is then loaded as the
 * direction (cos, sin) of its angle, the nearest the pair can be had. */
#include "pickle_int.h"
#include "world_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int save_world(const sw_sched *s, void *ud, sw_pickle_buf *b, char *err, size_t errlen) {
    const sw_world *w = ud;
    bool ok = sw__pk_uv(b, w->d.width) && sw__pk_uv(b, w->d.height) &&
              sw__pk_u8(b, (uint8_t)w->d.topology) && sw__pk_uv(b, w->bw) && sw__pk_uv(b, w->bh) &&
              sw__pk_f64(b, w->bsize) && sw__pk_u64(b, w->rng_ctr) && sw__pk_uv(b, s->ntasks);
    uint32_t limit = s->ntasks < w->slotcap ? s->ntasks : w->slotcap;
    uint64_t n = 0;
    for (uint32_t c = 0; c < w->ncells; c++) n += sw__cell_count(w, c) > 0;
    ok = ok && sw__pk_uv(b, n);
    /* room for every occupied cell's index and count and every slot (5
       bytes each at most), reserved once: the lists are written unchecked */
    uint64_t listed = 0;
    for (uint32_t c = 0; c < w->ncells; c++) listed += sw__cell_count(w, c);
    ok = ok && listed <= s->ntasks && sw__pk_reserve(b, 5 * (2 * n + listed));
    uint8_t *p = ok ? b->data + b->len : NULL;
    for (uint32_t c = 0; ok && c < w->ncells; c++) {
        /* the heads are in cell order, their slots in no order: fetch the
           record of a head some cells ahead while writing this one */
        if (c + 16 < w->ncells) __builtin_prefetch(sw__node(w, sw__cell_first(w, c + 16)));
        uint32_t end = sw__cell_id(w, c);
        if (!sw__cell_count(w, c)) continue;
        p = sw__pk_put_uv(p, c);
        p = sw__pk_put_uv(p, sw__cell_count(w, c));
        for (uint32_t i = sw__cell_first(w, c); i != end; i = w->g[i].next) p = sw__pk_put_uv(p, i);
    }
    if (ok) b->len = (size_t)(p - b->data);
    /* the buckets in ascending order, found among those with storage
       rather than by visiting every bucket of a fine index */
    uint32_t *used = NULL, nused = 0;
    if (ok && sw__world_space_used(w, &used, &nused) != SW_OK) {
        snprintf(err, errlen, "out of memory listing the space buckets");
        return SW_E_NOMEM;
    }
    ok = ok && sw__pk_uv(b, nused);
    for (uint32_t u = 0; ok && u < nused; u++) {
        const sw__sbucket *bk = &w->buckets[used[u]];
        ok = sw__pk_uv(b, used[u]) && sw__pk_uv(b, bk->n);
        for (uint32_t i = 0; ok && i < bk->n; i++)
            ok = sw__pk_uv(b, sw__sb_slot(bk)[i]) && sw__pk_f64(b, *sw__sb_x(bk, i)) &&
                 sw__pk_f64(b, *sw__sb_y(bk, i));
    }
    free(used);
    n = 0;
    for (uint32_t i = 0; i < limit; i++) n += sw__world_heading(w, i) != 0 && sw_sched_id_at(s, i);
    ok = ok && sw__pk_uv(b, n);
    for (uint32_t i = 0; ok && i < limit; i++)
        if (sw__world_heading(w, i) != 0 && sw_sched_id_at(s, i)) ok = sw__pk_uv(b, i) && sw__pk_f64(b, sw__world_heading(w, i));
    n = 0;
    for (uint32_t i = 0; i < limit; i++) n += w->mailbox[i] != SW_CHAN_NONE;
    ok = ok && sw__pk_uv(b, n);
    for (uint32_t i = 0; ok && i < limit; i++)
        if (w->mailbox[i] != SW_CHAN_NONE) ok = sw__pk_uv(b, i) && sw__pk_uv(b, w->mailbox[i]);
    n = 0;
    for (uint32_t c = 0; w->cell_chan && c < w->ncells; c++) n += w->cell_chan[c] != SW_CHAN_NONE;
    ok = ok && sw__pk_uv(b, n);
    for (uint32_t c = 0; ok && w->cell_chan && c < w->ncells; c++)
        if (w->cell_chan[c] != SW_CHAN_NONE) ok = sw__pk_uv(b, c) && sw__pk_uv(b, w->cell_chan[c]);
    ok = ok && sw__pk_uv(b, (uint64_t)w->nnamed);
    for (int i = 0; ok && i < w->nnamed; i++) ok = sw__pk_str(b, w->named[i].name) && sw__pk_uv(b, w->named[i].ch);
    ok = ok && sw__pk_uv(b, (uint64_t)w->nlayers);
    for (int i = 0; ok && i < w->nlayers; i++)
        ok = sw__pk_str(b, w->layers[i].name) &&
             sw__pk_bytes(b, w->layers[i].data, (size_t)w->ncells * sizeof(double));
    n = 0;
    for (uint32_t i = 0; i < limit; i++) n += sw__world_dir_given(w, i) && sw_sched_id_at(s, i);
    ok = ok && sw__pk_uv(b, n);
    for (uint32_t i = 0; ok && i < limit; i++)
        if (sw__world_dir_given(w, i) && sw_sched_id_at(s, i))
            ok = sw__pk_uv(b, i) && sw__pk_f64(b, w->hdx[i]) && sw__pk_f64(b, w->hdy[i]);
    if (!ok) {
        snprintf(err, errlen, "out of memory pickling the world");
        return SW_E_NOMEM;
    }
    return SW_OK;
}

/* A live channel handle, or none. */
static sw_chan read_chan(sw__rd *r, const sw_sched *s, bool allow_none, const char *what) {
    uint64_t h = sw__rd_uv(r, what);
    if (r->bad) return SW_CHAN_NONE;
    if (h == SW_CHAN_NONE && allow_none) return h;
    if (!sw_chan_alive(s, h)) sw__rd_fail(r, "%s names channel %llu, which does not exist", what, (unsigned long long)h);
    return h;
}

/* Where the reader that runs ahead through the cell lists is. */
typedef struct ahead_pos {
    uint64_t cells, in_cell; /* cells not yet begun, slots left in this one */
} ahead_pos;

static inline void ahead_step(sw__rd *a, ahead_pos *ap, const sw_world *w) {
    while (!ap->in_cell) {
        if (!ap->cells || a->bad) return;
        ap->cells--;
        sw__rd_uv(a, "cell");
        ap->in_cell = sw__rd_uv(a, "count");
    }
    if (a->bad) return;
    uint64_t slot = sw__rd_uv(a, "slot");
    ap->in_cell--;
    if (slot < w->slotcap) __builtin_prefetch(&w->g[slot], 1);
}

/* The directions, the last part of the section; or, from a snapshot made
 * before they were pickled (the section ends before them), each heading
 * loaded that is not 0 taken as the direction of its angle. SW_E_NOMEM. */
static int load_directions(sw__rd *r, const sw_sched *s, sw_world *w) {
    if (r->p == r->end) {
        for (uint32_t slot = 0; slot < s->ntasks; slot++) {
            double h = w->heading[slot];
            if (h != 0 && !isnan(h) && !sw__world_set_direction(w, slot, cos(h), sin(h)))
                return SW_E_NOMEM;
        }
        return SW_OK;
    }
    uint64_t n = sw__rd_uvmax(r, s->ntasks, "direction count");
    for (uint64_t i = 0; i < n && !r->bad; i++) {
        uint32_t slot = (uint32_t)sw__rd_uvmax(r, s->ntasks ? s->ntasks - 1 : 0, "direction slot");
        double dx = sw__rd_f64(r, "direction x"), dy = sw__rd_f64(r, "direction y");
        if (r->bad) break;
        if (!sw_sched_id_at(s, slot)) {
            sw__rd_fail(r, "direction of slot %u, which is not a live agent", slot);
            break;
        }
        if (!sw__world_set_direction(w, slot, dx, dy)) return SW_E_NOMEM;
    }
    return SW_OK;
}

static int load_world(sw_sched *s, void *ud, const uint8_t *data, size_t len, char *err, size_t errlen) {
    sw_world *w = ud;
    sw__rd r;
    sw__rd_init(&r, data, len, "snapshot world", err, errlen);
    uint64_t width = sw__rd_uv(&r, "width"), height = sw__rd_uv(&r, "height");
    uint8_t topo = sw__rd_u8(&r, "topology");
    uint64_t bw = sw__rd_uv(&r, "bucket columns"), bh = sw__rd_uv(&r, "bucket rows");
    double bsize = sw__rd_f64(&r, "bucket size");
    uint64_t rng = sw__rd_u64(&r, "world random counter");
    uint64_t nslots = sw__rd_uv(&r, "slot count");
    if (r.bad) return SW_E_FORMAT;
    if (width != w->d.width || height != w->d.height || topo != (uint8_t)w->d.topology ||
        bw != w->bw || bh != w->bh || bsize != w->bsize) {
        snprintf(err, errlen, "the snapshot's world is %llux%llu (%s), but the scenario makes a "
                 "%ux%u (%s) world", (unsigned long long)width, (unsigned long long)height,
                 topo ? "torus" : "bounded", w->d.width, w->d.height, w->d.topology ? "torus" : "bounded");
        return SW_E_FORMAT;
    }
    if (nslots != s->ntasks) {
        sw__rd_fail(&r, "%llu slots, the scheduler has %u", (unsigned long long)nslots, s->ntasks);
        return SW_E_FORMAT;
    }
    /* start from an empty world of this shape (slots that reserve adds
       come initialised) */
    uint32_t old_cap = w->slotcap;
    if (sw__world_reserve(w, s->ntasks + 1) != SW_OK) {
        snprintf(err, errlen, "out of memory for the world's %u slots", s->ntasks);
        return SW_E_NOMEM;
    }
    for (uint32_t i = 0; i < old_cap; i++) {
        w->g[i] = (sw__gslot){SW__NIL, 0, 0, SW__NIL, SW__NIL};
        w->heading[i] = 0;
        w->mailbox[i] = SW_CHAN_NONE;
    }
    sw__world_clear_cells(w);
    sw__world_space_clear(w);
    if (w->cell_chan) memset(w->cell_chan, 0, (size_t)w->ncells * sizeof *w->cell_chan);
    w->occupied = 0;
    w->pending = 0;
    w->rng_ctr = rng;

    uint64_t n = sw__rd_uvmax(&r, w->ncells, "occupied cell count");
    uint64_t last = 0;
    /* the slots come in cell order, so their records are written in no
       order: a second reader runs some slots ahead (unchecked: the main one
       checks) and fetches the records they will write */
    sw__rd ahead;
    sw__rd_init(&ahead, r.p, sw__rd_left(&r), NULL, NULL, 0);
    ahead_pos ap = {n, 0};
    for (int i = 0; i < 16; i++) ahead_step(&ahead, &ap, w);
    for (uint64_t i = 0; i < n && !r.bad; i++) {
        uint64_t c = sw__rd_uvmax(&r, w->ncells - 1, "cell");
        uint64_t cnt = sw__rd_uvmax(&r, s->ntasks, "agents in a cell");
        if (r.bad) break;
        if ((i && c <= last) || cnt == 0) {
            sw__rd_fail(&r, "cells out of order or empty");
            break;
        }
        last = c;
        for (uint64_t j = 0; j < cnt && !r.bad; j++) {
            uint32_t slot = (uint32_t)sw__rd_uvmax(&r, s->ntasks ? s->ntasks - 1 : 0, "agent in a cell");
            if (r.bad) break;
            ahead_step(&ahead, &ap, w);
            if (w->g[slot].cell != SW__NIL) {
                sw__rd_fail(&r, "slot %u is on two cells", slot);
                break;
            }
            /* (a slot that is no live agent is refused below, and its
               node's kind is set there) */
            sw__cell_link(w, slot, (uint32_t)c, 0);
        }
    }
    /* that each is a live agent, and its kind on its node, in slot order:
       the cells list them in no particular order, and a random walk
       through the tasklet table would miss the cache at every agent */
    for (uint32_t slot = 0; !r.bad && slot < s->ntasks; slot++) {
        if (w->g[slot].cell == SW__NIL) continue;
        if (!sw_sched_id_at(s, slot))
            sw__rd_fail(&r, "slot %u is on a cell but is not a live agent", slot);
        else
            w->g[slot].kind = s->tasks[slot].kind;
    }
    uint32_t nbk = w->bw * w->bh;
    n = sw__rd_uvmax(&r, nbk, "space bucket count");
    last = 0;
    for (uint64_t i = 0; i < n && !r.bad; i++) {
        uint64_t k = sw__rd_uvmax(&r, nbk - 1, "bucket");
        uint64_t cnt = sw__rd_uvmax(&r, s->ntasks, "agents in a bucket");
        if (r.bad) break;
        if ((i && k <= last) || cnt == 0) {
            sw__rd_fail(&r, "buckets out of order or empty");
            break;
        }
        last = k;
        for (uint64_t j = 0; j < cnt && !r.bad; j++) {
            uint32_t slot = (uint32_t)sw__rd_uvmax(&r, s->ntasks ? s->ntasks - 1 : 0, "agent in space");
            double x = sw__rd_f64(&r, "x"), y = sw__rd_f64(&r, "y");
            if (r.bad) break;
            bool inside = isfinite(x) && isfinite(y) && x >= 0 && y >= 0 && x < w->d.width && y < w->d.height;
            if (!sw_sched_id_at(s, slot) || w->sbucket[slot] != SW__NIL || !inside) {
                sw__rd_fail(&r, "slot %u in space is not a live agent, is there twice, or lies outside", slot);
                break;
            }
            if (sw__world_bucket_of(w, x, y) != k) {
                sw__rd_fail(&r, "slot %u is listed in a bucket its position is not in", slot);
                break;
            }
            if (sw__world_space_append(w, slot, (uint32_t)k, x, y) != SW_OK) {
                snprintf(err, errlen, "out of memory for the space buckets");
                return SW_E_NOMEM;
            }
        }
    }
    n = sw__rd_uvmax(&r, s->ntasks, "heading count");
    for (uint64_t i = 0; i < n && !r.bad; i++) {
        uint32_t slot = (uint32_t)sw__rd_uvmax(&r, s->ntasks ? s->ntasks - 1 : 0, "heading slot");
        double h = sw__rd_f64(&r, "heading");
        if (!r.bad) sw__world_set_heading(w, slot, h);
    }
    n = sw__rd_uvmax(&r, s->ntasks, "mailbox count");
    for (uint64_t i = 0; i < n && !r.bad; i++) {
        uint32_t slot = (uint32_t)sw__rd_uvmax(&r, s->ntasks ? s->ntasks - 1 : 0, "mailbox slot");
        sw_chan ch = read_chan(&r, s, false, "mailbox");
        if (!r.bad && (!sw_sched_id_at(s, slot) || w->mailbox[slot] != SW_CHAN_NONE))
            sw__rd_fail(&r, "mailbox of slot %u, which is not a live agent", slot);
        if (!r.bad) {
            w->mailbox[slot] = ch;
            w->any_mailbox = true;
        }
    }
    n = sw__rd_uvmax(&r, w->ncells, "cell channel count");
    if (n && !r.bad && !w->cell_chan) {
        w->cell_chan = calloc(w->ncells, sizeof *w->cell_chan);
        if (!w->cell_chan) {
            snprintf(err, errlen, "out of memory for cell channels");
            return SW_E_NOMEM;
        }
    }
    for (uint64_t i = 0; i < n && !r.bad; i++) {
        uint32_t c = (uint32_t)sw__rd_uvmax(&r, w->ncells - 1, "channel's cell");
        sw_chan ch = read_chan(&r, s, false, "cell channel");
        if (!r.bad) w->cell_chan[c] = ch;
    }
    n = sw__rd_uv(&r, "named channel count");
    if (!r.bad && n != (uint64_t)w->nnamed)
        sw__rd_fail(&r, "%llu named channels, the scenario declares %d", (unsigned long long)n, w->nnamed);
    char name[SW__PK_MAX_NAME + 1];
    for (int i = 0; i < w->nnamed && !r.bad; i++) {
        if (!sw__rd_name(&r, name, "channel name")) break;
        sw_chan ch = read_chan(&r, s, false, "named channel");
        if (!r.bad && strcmp(name, w->named[i].name) != 0)
            sw__rd_fail(&r, "named channel \"%s\" where the scenario has \"%s\"", name, w->named[i].name);
        if (!r.bad) w->named[i].ch = ch;
    }
    /* layers: the scenario's, plus those agent kinds made as they spawned
       (an empty simulation has not made those yet) */
    n = sw__rd_uvmax(&r, 4096, "layer count");
    if (!r.bad && n < (uint64_t)w->nlayers)
        sw__rd_fail(&r, "%llu layers, the scenario has %d", (unsigned long long)n, w->nlayers);
    for (uint64_t i = 0; i < n && !r.bad; i++) {
        if (!sw__rd_name(&r, name, "layer name")) break;
        const uint8_t *q = sw__rd_bytes(&r, (size_t)w->ncells * sizeof(double), "layer cells");
        if (!q) break;
        int li = sw_world_layer_find(w, name);
        if (li < 0) li = sw_world_layer_add(w, name, 0);
        if (li < 0 || (uint64_t)li != i) {
            sw__rd_fail(&r, "layer \"%s\" is not where the snapshot has it", name);
            break;
        }
        memcpy(w->layers[li].data, q, (size_t)w->ncells * sizeof(double));
    }
    if (!r.bad && load_directions(&r, s, w) != SW_OK) {
        snprintf(err, errlen, "out of memory for the agents' directions");
        return SW_E_NOMEM;
    }
    if (!r.bad && r.p != r.end) sw__rd_fail(&r, "%zu stray bytes", sw__rd_left(&r));
    return r.bad ? SW_E_FORMAT : SW_OK;
}

sw_pickle_section sw_pickle_world_section(sw_world *w) {
    return (sw_pickle_section){"WRLD", save_world, load_world, w};
}

bool sw_pickle_world_pos(const sw_world *w, uint32_t slot, double *x, double *y) {
    if (slot >= w->slotcap) return false;
    if (w->g[slot].cell != SW__NIL) {
        int32_t cx, cy;
        sw__cell_xy(w, w->g[slot].cell, &cx, &cy);
        *x = cx;
        *y = cy;
        return true;
    }
    uint32_t i;
    const sw__sbucket *bk = sw__world_sbucket(w, slot, &i);
    if (bk) {
        *x = *sw__sb_x(bk, i);
        *y = *sw__sb_y(bk, i);
        return true;
    }
    return false;
}
