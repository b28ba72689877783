/* sim.c - a running simulation built from a scenario: world, events, stats.
 *
 * sw_sim_new turns a validated scenario into a world: layers and named
 * channels first, then the kinds registered in the scenario's order (so kind
 * indexes, and with them snapshots, do not depend on who spawns first), the
 * schedule's ranks and shuffles, and the agents, entry by entry, each with
 * its own random stream (the entry's index) so that adding an entry at the
 * end does not move the agents of the ones before it.
 *
 * Scheduled events are delivered by a tick-start hook; while any is still to
 * come the simulation holds the scheduler (sw_sched_hold), so tasklets that
 * wait for one are not taken for a deadlock. Statistics are one row per tick,
 * computed after the tick (stats.c). */
#include "scenario_int.h"
#include "sim_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sw_sim *fail(sw_sim *sim, char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        int n = snprintf(err, errlen, "%s: ", sim && sim->sc ? sim->sc->origin : "scenario");
        if (n >= 0 && (size_t)n < errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    sw_sim_free(sim);
    return NULL;
}

/* Deliver the events due at the tick that is starting. Events for ticks
 * already past (a simulation resumed from a snapshot) are dropped: they were
 * delivered before the snapshot was taken. */
static void deliver_events(sw_sched *s, void *ud) {
    sw_sim *sim = ud;
    const sw_scenario *sc = sim->sc;
    sw_tick now = sw_sched_now(s);
    while (sim->next_event < sc->nevents && sc->events[sim->next_event].tick <= now) {
        const sw__event_spec *e = &sc->events[sim->next_event++];
        /* on a rendezvous channel with nobody receiving, or a full buffer, the
           message is dropped: the world does not wait */
        if (e->tick == now) sw_chan_post(s, sim->chans[e->chan], &e->msg);
    }
    sw__sim_hold_update(sim);
}

void sw__sim_hold_update(sw_sim *sim) {
    /* hold once while any event is still to come: the scheduler must not call
       a wait for it a deadlock */
    int want = sim->next_event < sim->sc->nevents ? 1 : 0;
    if (want != sim->held) {
        sw_sched_hold(sim->s, want - sim->held);
        sim->held = want;
    }
}

static int spawn_entry(sw_sim *sim, int i, char *err, size_t errlen) {
    const sw__agent_spec *a = &sim->sc->agents[i];
    const sw_kind *k = sim->sc->kinds[a->kind];
    if (a->at_cells) {
        for (uint32_t j = 0; j < a->nat; j++)
            if (!sw_world_spawn_at(sim->w, k, a->params, a->at[2 * j], a->at[2 * j + 1], 0)) {
                snprintf(err, errlen, "%s: $.agents[%d]: cannot spawn a \"%s\": %s", sim->sc->origin, i,
                         k->name, sw_sched_errmsg(sim->s));
                return SW_E_NOMEM;
            }
        return SW_OK;
    }
    int64_t made = sw_world_populate(sim->w, k, a->params, a->count, a->place, a->density, (uint64_t)i);
    if (made < 0) {
        const char *why = made == SW_E_FULL ? sw_world_errmsg(sim->w)
                          : sw_sched_errmsg(sim->s)[0] ? sw_sched_errmsg(sim->s)
                                                       : sw_status_name((int)made);
        snprintf(err, errlen, "%s: $.agents[%d]: cannot place the \"%s\" agents: %s", sim->sc->origin, i,
                 k->name, why);
        return (int)made;
    }
    return SW_OK;
}

sw_sim *sw_sim_new(const sw_scenario *sc, int flags, char *err, size_t errlen) {
    if (err && errlen) err[0] = '\0';
    sw_sim *sim = calloc(1, sizeof *sim);
    if (!sim) return fail(NULL, err, errlen, "out of memory");
    sim->sc = sc;
    sim->end = sc->ticks;
    sim->w = sw_world_new(&sc->world);
    if (!sim->w)
        return fail(sim, err, errlen, "out of memory for a %ux%u world", sc->world.width, sc->world.height);
    sim->s = sw_world_sched(sim->w);
    sim->kind_index = calloc((size_t)sc->nkinds + 1, sizeof *sim->kind_index);
    sim->chans = calloc((size_t)sc->nchans + 1, sizeof *sim->chans);
    sim->layer_index = calloc((size_t)sc->nlayers + 1, sizeof *sim->layer_index);
    if (!sim->kind_index || !sim->chans || !sim->layer_index) return fail(sim, err, errlen, "out of memory");

    for (int i = 0; i < sc->nlayers; i++) {
        sim->layer_index[i] = sw_world_layer_add(sim->w, sc->layers[i].name, sc->layers[i].init);
        if (sim->layer_index[i] < 0)
            return fail(sim, err, errlen, "$.layers[%d]: %s", i, sw_world_errmsg(sim->w));
    }
    for (int i = 0; i < sc->nchans; i++) {
        if (sw_world_chan_declare(sim->w, sc->chans[i].name, &sc->chans[i].desc) != SW_OK)
            return fail(sim, err, errlen, "$.channels[%d]: %s", i, sw_world_errmsg(sim->w));
        sim->chans[i] = sw_world_chan(sim->w, sc->chans[i].name);
    }
    for (int i = 0; i < sc->nkinds; i++) {
        const sw_kind *k = sc->kinds[i];
        sim->kind_index[i] = sw_sched_add_kind(sim->s, k);
        if (sim->kind_index[i] < 0)
            return fail(sim, err, errlen, "agent kind \"%s\" cannot be used: %s", k->name, sw_sched_errmsg(sim->s));
        /* kinds left out of schedule.order run after those named in it */
        if (sc->ordered && sw_sched_set_kind_rank(sim->s, k, sc->rank[i] >= 0 ? sc->rank[i] : sc->nkinds) != SW_OK)
            return fail(sim, err, errlen, "cannot order kind \"%s\": %s", k->name, sw_sched_errmsg(sim->s));
        if (sc->random[i] && sw_sched_set_kind_random(sim->s, k, true) != SW_OK)
            return fail(sim, err, errlen, "cannot shuffle kind \"%s\": %s", k->name, sw_sched_errmsg(sim->s));
    }
    if (sw_sched_on_tick_start(sim->s, deliver_events, sim) != SW_OK)
        return fail(sim, err, errlen, "cannot add the event hook: %s", sw_sched_errmsg(sim->s));
    if (sw__sim_stats_init(sim) != SW_OK) return fail(sim, err, errlen, "out of memory for statistics");

    if (!(flags & SW_SIM_EMPTY)) {
        for (int i = 0; i < sc->nagents; i++) {
            char msg[512];
            if (spawn_entry(sim, i, msg, sizeof msg) != SW_OK) {
                if (err && errlen) snprintf(err, errlen, "%s", msg);
                sw_sim_free(sim);
                return NULL;
            }
        }
    }
    sw__sim_hold_update(sim);
    if (sw__sim_stats_record(sim) != SW_OK) return fail(sim, err, errlen, "out of memory for statistics");
    return sim;
}

void sw_sim_free(sw_sim *sim) {
    if (!sim) return;
    sw_world_free(sim->w);
    free(sim->kind_index);
    free(sim->chans);
    free(sim->layer_index);
    sw__sim_stats_fini(sim);
    free(sim);
}

const sw_scenario *sw_sim_scenario(const sw_sim *sim) { return sim->sc; }
sw_world *sw_sim_world(const sw_sim *sim) { return sim->w; }
sw_tick sw_sim_now(const sw_sim *sim) { return sw_world_now(sim->w); }
sw_tick sw_sim_end(const sw_sim *sim) { return sim->end; }

int sw_sim_step(sw_sim *sim) {
    int rc = sw_world_step(sim->w);
    /* the tick happened even when it ended in a deadlock: record it, so the
       CSV shows the state the report describes */
    if (sw__sim_stats_record(sim) != SW_OK && rc == SW_OK) rc = SW_E_NOMEM;
    return rc;
}
