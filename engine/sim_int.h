/* sim_int.h - the simulation's private state, shared by sim.c and stats.c
 * (and readable by the snapshot code). Not API. */
#ifndef SW_SIM_INT_H
#define SW_SIM_INT_H

#include "scenario.h"

struct sw_sim {
    const sw_scenario *sc;
    sw_world *w;
    sw_sched *s;
    sw_tick end;
    int *kind_index;      /* per scenario kind: its index in the scheduler */
    sw_chan *chans;       /* per scenario channel: its handle */
    int *layer_index;     /* per scenario layer: its index in the world */
    int next_event;       /* first scenario event not yet delivered */
    int held;             /* the hold this simulation has on the scheduler (0 or 1) */

    /* statistics: nrows rows of ncols doubles */
    int ncols;
    double *rows;
    size_t nrows, caprows;
    double *acc;          /* scratch per declared statistic: sum/min/max */
    uint64_t *accn;       /* scratch per declared statistic: values seen */
};

/* Release or take the scheduler hold so it matches the events still to come. */
void sw__sim_hold_update(sw_sim *sim);
/* stats.c: set up the columns; compute and append the current tick's row;
 * free. */
int sw__sim_stats_init(sw_sim *sim);
int sw__sim_stats_record(sw_sim *sim);
void sw__sim_stats_fini(sw_sim *sim);

#endif
