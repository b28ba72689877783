/* stats.c - a simulation's statistics: one row per tick, and the CSV.
 *
 * Columns: "tick", then the count of live agents of each kind the scenario's
 * `agents` list names (in order of first appearance), then the scenario's
 * declared statistics in order. A row is computed after its tick has run, in
 * one pass over the live agents (only when some statistic reads a field) and
 * one pass over each layer a statistic names; every sum is taken in slot or
 * cell order, so the same run gives the same bits. Before an agent's fields
 * are read, its kind's `refresh` hook (if any) brings derived fields up to
 * date: agents that sleep through changes around them still report values
 * as of this tick.
 *
 * Numbers are printed as integers when integral, else in the shortest form
 * that reads back to the same double (at most 17 significant digits), with
 * NaN, Inf and -Inf for the non-finite values pandas and R both read. */
#include "scenario_int.h"
#include "sim_int.h"
#include "sched_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int sw__sim_stats_init(sw_sim *sim) {
    const sw_scenario *sc = sim->sc;
    sim->ncols = 1 + sc->nagent_kinds + sc->nstats;
    sim->acc = calloc((size_t)sc->nstats + 1, sizeof *sim->acc);
    sim->accn = calloc((size_t)sc->nstats + 1, sizeof *sim->accn);
    return sim->acc && sim->accn ? SW_OK : SW_E_NOMEM;
}

void sw__sim_stats_fini(sw_sim *sim) {
    free(sim->rows);
    free(sim->acc);
    free(sim->accn);
}

static void accumulate(sw__stat_op op, double v, double *acc, uint64_t *n) {
    switch (op) {
    case SW__OP_MEAN: case SW__OP_SUM: *acc += v; break;
    case SW__OP_MIN: if (*n == 0 || v < *acc) *acc = v; break;
    case SW__OP_MAX: if (*n == 0 || v > *acc) *acc = v; break;
    case SW__OP_COUNT: break;
    }
    (*n)++;
}

static double finish(sw__stat_op op, double acc, uint64_t n) {
    switch (op) {
    case SW__OP_MEAN: return n ? acc / (double)n : NAN;
    case SW__OP_SUM: return acc;
    case SW__OP_MIN: case SW__OP_MAX: return n ? acc : NAN;
    case SW__OP_COUNT: return (double)n;
    }
    return NAN;
}

/* A statistic that needs the agents' fields (not just a count of a kind). */
static bool reads_fields(const sw__stat_spec *st) { return st->kind >= 0 && st->field; }

int sw__sim_stats_record(sw_sim *sim) {
    const sw_scenario *sc = sim->sc;
    if (sim->nrows == sim->caprows) {
        size_t cap = sim->caprows ? sim->caprows * 2 : 256;
        double *rows = realloc(sim->rows, cap * (size_t)sim->ncols * sizeof *rows);
        if (!rows) return SW_E_NOMEM;
        sim->rows = rows;
        sim->caprows = cap;
    }
    double *row = sim->rows + sim->nrows * (size_t)sim->ncols;
    row[0] = (double)sw_sched_now(sim->s);
    for (int k = 0; k < sc->nagent_kinds; k++)
        row[1 + k] = sw_sched_count_kind(sim->s, sim->kind_index[k]);

    bool any_fields = false;
    for (int j = 0; j < sc->nstats; j++) {
        sim->acc[j] = 0;
        sim->accn[j] = 0;
        any_fields |= reads_fields(&sc->stats[j]);
    }
    if (any_fields) {
        /* One pass over the scheduler's task table (sched_int.h) rather than
           through sw_sched_next/_kind_of/_frame, which re-validate the handle
           at every call: with a million agents this pass is the whole cost
           of a statistics row. */
        const sw_sched *s = sim->s;
        int skind[256];
        int nst = sc->nstats < 256 ? sc->nstats : 256;
        /* the kinds some statistic reads a field of: the others' agents (a
           wolf-sheep world's grass: two thirds of it) are passed over with
           one test, their frames not read (kinds beyond the table: read) */
        bool read[256] = {false};
        for (int j = 0; j < nst; j++) {
            skind[j] = reads_fields(&sc->stats[j]) ? sim->kind_index[sc->stats[j].kind] : -1;
            if (skind[j] >= 0 && skind[j] < 256) read[skind[j]] = true;
        }
        for (uint32_t slot = 0; slot < s->ntasks; slot++) {
            const struct sw__task *k = &s->tasks[slot];
            if (k->kind < 256 && !read[k->kind]) continue;
            /* frames are scattered over the heap: ask for one a little
               ahead, whatever its kind (a passed-over kind's frame is
               fetched all the same; only its reading is saved) */
            if (slot + 16 < s->ntasks) __builtin_prefetch(s->tasks[slot + 16].top);
            if (k->state == SW_TASK_FREE || k->state == SW_TASK_ZOMBIE) continue;
            const char *frame = NULL;
            for (int j = 0; j < nst; j++) {
                if (skind[j] != (int)k->kind) continue;
                const sw__stat_spec *st = &sc->stats[j];
                if (!frame) {
                    sw__frame *f = sw__root_frame(k);
                    if (!f) break;
                    frame = (const char *)(f + 1);
                    /* fields as of now, for agents that slept through changes */
                    sw__refresh(sim->s, k, slot, f + 1);
                }
                double v = sw__field_number(st->field, frame);
                if (st->op == SW__OP_COUNT) {
                    /* count the agents whose field equals the value, or is
                       non-zero when no value is given */
                    if (st->has_equals ? v == st->equals : v != 0) sim->accn[j]++;
                } else {
                    accumulate(st->op, v, &sim->acc[j], &sim->accn[j]);
                }
            }
        }
    }
    for (int j = 0; j < sc->nstats; j++) {
        const sw__stat_spec *st = &sc->stats[j];
        double v;
        if (st->layer >= 0) {
            const double *data = sw_world_layer_data(sim->w, sim->layer_index[st->layer]);
            size_t n = (size_t)sw_world_width(sim->w) * sw_world_height(sim->w);
            double acc = 0;
            uint64_t cnt = 0;
            for (size_t c = 0; c < n; c++) accumulate(st->op, data[c], &acc, &cnt);
            v = finish(st->op, acc, cnt);
        } else if (!st->field) {
            v = sw_sched_count_kind(sim->s, sim->kind_index[st->kind]);
        } else {
            v = finish(st->op, sim->acc[j], sim->accn[j]);
        }
        row[1 + sc->nagent_kinds + j] = v;
    }
    sim->nrows++;
    return SW_OK;
}

int sw_sim_stat_count(const sw_sim *sim) { return sim->ncols; }

const char *sw_sim_stat_name(const sw_sim *sim, int column) {
    const sw_scenario *sc = sim->sc;
    if (column == 0) return "tick";
    if (column < 0 || column >= sim->ncols) return NULL;
    if (column <= sc->nagent_kinds) return sc->kinds[column - 1]->name;
    return sc->stats[column - 1 - sc->nagent_kinds].name;
}

size_t sw_sim_stat_rows(const sw_sim *sim) { return sim->nrows; }

double sw_sim_stat_value(const sw_sim *sim, size_t row, int column) {
    if (row >= sim->nrows || column < 0 || column >= sim->ncols) return NAN;
    return sim->rows[row * (size_t)sim->ncols + (size_t)column];
}

void sw_sim_stats_restart(sw_sim *sim) {
    sim->nrows = 0;
    /* events up to the current tick were delivered before the snapshot */
    sw_tick now = sw_sched_now(sim->s);
    sim->next_event = 0;
    while (sim->next_event < sim->sc->nevents && sim->sc->events[sim->next_event].tick <= now)
        sim->next_event++;
    sw__sim_hold_update(sim);
    sw__sim_stats_record(sim);
}

/* The shortest of %.15g, %.16g, %.17g that reads back to v exactly. */
static void format_number(double v, char *buf, size_t cap) {
    if (isnan(v)) {
        snprintf(buf, cap, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, cap, v > 0 ? "Inf" : "-Inf");
        return;
    }
    if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        snprintf(buf, cap, "%lld", (long long)v); /* also turns -0 into 0 */
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}

int sw_sim_stats_write_csv(const sw_sim *sim, FILE *out, size_t from, bool header) {
    if (header) {
        for (int c = 0; c < sim->ncols; c++)
            if (fprintf(out, "%s%s", c ? "," : "", sw_sim_stat_name(sim, c)) < 0) return SW_E_IO;
        if (fputc('\n', out) == EOF) return SW_E_IO;
    }
    char buf[64];
    for (size_t r = from; r < sim->nrows; r++) {
        for (int c = 0; c < sim->ncols; c++) {
            format_number(sim->rows[r * (size_t)sim->ncols + (size_t)c], buf, sizeof buf);
            if (c && fputc(',', out) == EOF) return SW_E_IO;
            if (fputs(buf, out) == EOF) return SW_E_IO;
        }
        if (fputc('\n', out) == EOF) return SW_E_IO;
    }
    return ferror(out) ? SW_E_IO : SW_OK;
}
