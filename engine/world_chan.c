/* world_chan.c - channels handed out by key: one event channel per cell
 * (made on the first request), one buffered mailbox per agent (made on the
 * first request, freed by the death hook in world.c) and the scenario's
 * named channels. */
#include "world_int.h"

#include <stdlib.h>
#include <string.h>

sw_chan sw_world_cell_chan_peek(const sw_world *w, int32_t x, int32_t y) {
    if (!w->cell_chan || !sw__cell_wrap(w, &x, &y)) return SW_CHAN_NONE;
    return w->cell_chan[sw_world_cell_index(w, x, y)];
}

sw_chan sw_world_cell_chan_at(const sw_world *w, uint32_t cell) {
    return w->cell_chan && cell < w->ncells ? w->cell_chan[cell] : SW_CHAN_NONE;
}

/* The most channel records reserved at the first cell channel (4 MB of
 * them asked for; sw__grow doubles the table until it holds the ask, so up
 * to 8 MB made): a town asks for most of its cells' channels in its first tick
 * (Schelling small ~1,150 of 1,600), and made one by one they grew the
 * table by doubling, copying it each time (256 -> 2,048 records: ~115 KB
 * copied a run); a larger world (the 10-million-cell forest) keeps
 * growing it as its channels come, without a table of every cell made
 * before any is asked for. */
#define CELL_CHANS_RESERVED (1u << 16)

/* The cell-channel table, and room in the scheduler's channel table for
 * the cells' channels (up to CELL_CHANS_RESERVED; a failed reservation
 * only leaves the table to grow as before). */
static __attribute__((noinline)) bool cell_chans_make(sw_world *w) {
    w->cell_chan = calloc(w->ncells, sizeof *w->cell_chan);
    if (!w->cell_chan) return false;
    uint32_t want = w->ncells < CELL_CHANS_RESERVED ? w->ncells : CELL_CHANS_RESERVED;
    (void)sw__chans_reserve(w->s, (uint64_t)w->s->nchans + want);
    return true;
}

/* Cell c's new channel, the channel table grown for it (or SW_CHAN_NONE:
 * out of memory, the error set). */
static __attribute__((noinline)) sw_chan cell_chan_grown(sw_world *w, uint32_t c) {
    w->cell_chan[c] = sw__chan_new_event(w->s, c);
    return w->cell_chan[c];
}

/* The world's first cell channel: the tables made, then as any other.
 * Out of line, as are the other calls of sw_world_cell_chan, so that its
 * common case saves no registers. */
static __attribute__((noinline)) sw_chan cell_chan_first(sw_world *w, int32_t x, int32_t y) {
    return cell_chans_make(w) ? sw_world_cell_chan(w, x, y) : SW_CHAN_NONE;
}

sw_chan sw_world_cell_chan(sw_world *w, int32_t x, int32_t y) {
    if (!sw__cell_wrap(w, &x, &y)) return SW_CHAN_NONE;
    if (__builtin_expect(!w->cell_chan, 0)) return cell_chan_first(w, x, y);
    uint32_t c = sw_world_cell_index(w, x, y);
    sw_chan ch = w->cell_chan[c];
    if (ch != SW_CHAN_NONE) return ch;
    /* made here, calling nothing, when the channel table has room (see
       cell_chans_make); else made by a tail call */
    ch = sw__chan_new_event_if_room(w->s, c);
    if (__builtin_expect(ch == SW_CHAN_NONE, 0)) return cell_chan_grown(w, c);
    w->cell_chan[c] = ch;
    return ch;
}

sw_chan sw_world_mailbox(sw_world *w, sw_id id) {
    uint32_t slot;
    if (!sw__slot_of(w, id, &slot) || sw__world_reserve(w, slot + 1) != SW_OK) return SW_CHAN_NONE;
    w->any_mailbox = true;
    if (w->mailbox[slot] == SW_CHAN_NONE)
        w->mailbox[slot] = sw_chan_new(w->s, &(sw_chan_desc){.kind = SW_CHAN_BUFFERED,
                                                              .capacity = w->d.mailbox_capacity,
                                                              .key = id});
    return w->mailbox[slot];
}

int sw_world_chan_declare(sw_world *w, const char *name, const sw_chan_desc *desc) {
    if (!name || sw_world_chan(w, name) != SW_CHAN_NONE) {
        sw__world_errf(w, "a channel named \"%s\" is already declared", name ? name : "(null)");
        return SW_E_INVALID;
    }
    sw__named *nm = realloc(w->named, (size_t)(w->nnamed + 1) * sizeof *nm);
    if (!nm) return SW_E_NOMEM;
    w->named = nm;
    sw_chan ch = sw_chan_new(w->s, desc);
    if (!ch) {
        sw__world_errf(w, "%s", sw_sched_errmsg(w->s));
        return SW_E_INVALID;
    }
    char *copy = strdup(name);
    if (!copy) {
        sw_chan_free(w->s, ch);
        return SW_E_NOMEM;
    }
    w->named[w->nnamed++] = (sw__named){copy, ch};
    return SW_OK;
}

sw_chan sw_world_chan(const sw_world *w, const char *name) {
    for (int i = 0; i < w->nnamed; i++)
        if (strcmp(w->named[i].name, name) == 0) return w->named[i].ch;
    return SW_CHAN_NONE;
}

int sw_world_chan_count(const sw_world *w) { return w->nnamed; }
const char *sw_world_chan_name(const sw_world *w, int i) {
    return i >= 0 && i < w->nnamed ? w->named[i].name : NULL;
}
sw_chan sw_world_chan_at(const sw_world *w, int i) {
    return i >= 0 && i < w->nnamed ? w->named[i].ch : SW_CHAN_NONE;
}
