/* test_sim.c - simulations built from scenarios: parameters reaching
 * agents, deterministic placement, the schedule's order, scheduled events,
 * statistics and their CSV. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

static char trace[8192]; /* one letter per agent run, in run order */
static size_t ntrace;

static void note(char c) {
    if (ntrace + 1 < sizeof trace) trace[ntrace++] = c;
    trace[ntrace] = '\0';
}

typedef struct {
    double weight;
    int32_t legs, age;
    int32_t x, y;
} cow_f;

static sw_step cow_run(sw_tasklet *t, void *frame) {
    cow_f *f = frame;
    SW_BEGIN(t, graze);
    for (;;) {
        note(sw_kind_of(t)->name[0]);
        f->age++;
        SW_SLEEP(t, graze, 1);
    }
    SW_END(t);
}

static void cow_init(sw_tasklet *t, void *frame) {
    cow_f *f = frame;
    f->x = f->y = -1;
    sw_world_cell_of(sw_world_of(t), sw_self(t), &f->x, &f->y);
}

static const sw_field cow_fields[] = {
    SW_PARAM(cow_f, weight, SW_T_F64, 10.0, "kg"), SW_PARAM(cow_f, legs, SW_T_I32, 4, "legs"),
    SW_FIELD(cow_f, age, SW_T_I32), SW_FIELD(cow_f, x, SW_T_I32), SW_FIELD(cow_f, y, SW_T_I32),
    SW_FIELD_END};
static const sw_kind cow = {.name = "cow", .frame_size = sizeof(cow_f), .fields = cow_fields,
                            .init = cow_init, .run = cow_run, .place = SW_PLACE_CELL};
static const sw_kind hen = {.name = "hen", .frame_size = sizeof(cow_f), .fields = cow_fields,
                            .init = cow_init, .run = cow_run, .place = SW_PLACE_CELL};

typedef struct {
    int32_t heard, last_tick, last_tag;
    sw_msg msg;
} ear_f;

static sw_step bell_run(sw_tasklet *t, void *frame) {
    ear_f *f = frame;
    SW_BEGIN(t, listen);
    for (;;) {
        SW_RECV(t, listen, sw_chan_named(t, "bell"), &f->msg);
        f->heard++;
        f->last_tick = (int32_t)sw_now(t);
        f->last_tag = f->msg.tag;
    }
    SW_END(t);
}

static sw_step door_run(sw_tasklet *t, void *frame) {
    ear_f *f = frame;
    SW_BEGIN(t, knock);
    for (;;) {
        SW_RECV(t, knock, sw_chan_named(t, "door"), &f->msg);
        f->heard++;
        f->last_tick = (int32_t)sw_now(t);
        f->last_tag = f->msg.tag;
    }
    SW_END(t);
}

static const sw_field ear_fields[] = {SW_FIELD(ear_f, heard, SW_T_I32), SW_FIELD(ear_f, last_tick, SW_T_I32),
                                      SW_FIELD(ear_f, last_tag, SW_T_I32), SW_FIELD(ear_f, msg, SW_T_MSG),
                                      SW_FIELD_END};
static const sw_kind bell = {.name = "bell", .frame_size = sizeof(ear_f), .fields = ear_fields, .run = bell_run};
static const sw_kind door = {.name = "door", .frame_size = sizeof(ear_f), .fields = ear_fields, .run = door_run};

static const sw_kind *const kinds[] = {&cow, &hen, &bell, &door, NULL};
static char err[1024];

static sw_scenario *load(const char *json) {
    sw_scenario *sc = sw_scenario_parse(json, strlen(json), "t.json", kinds, err, sizeof err);
    cr_assert_not_null(sc, "%s", err);
    return sc;
}

static sw_sim *start(const sw_scenario *sc) {
    sw_sim *sim = sw_sim_new(sc, 0, err, sizeof err);
    cr_assert_not_null(sim, "%s", err);
    return sim;
}

#define HEAD "{\"format\": 1, \"name\": \"t\", \"description\": \"d\", "

/* The CSV of a whole run, as a malloc'd string. */
static char *run_csv(const char *json, uint64_t seed) {
    sw_scenario *sc = load(json);
    sw_scenario_set_seed(sc, seed);
    sw_sim *sim = start(sc);
    while (sw_sim_now(sim) < sw_sim_end(sim)) cr_assert_eq(sw_sim_step(sim), SW_OK);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(sw_sim_stats_write_csv(sim, f, 0, true), SW_OK);
    fclose(f);
    sw_sim_free(sim);
    sw_scenario_free(sc);
    return buf;
}

Test(sim, parameters_reach_agents_with_defaults_for_the_rest) {
    sw_scenario *sc = load(HEAD "\"world\": {\"width\": 5, \"height\": 5},"
                                "\"agents\": [{\"kind\": \"cow\", \"count\": 3, \"params\": {\"weight\": 612.5}},"
                                "             {\"kind\": \"cow\", \"count\": 2}]}");
    sw_sim *sim = start(sc);
    sw_sched *s = sw_world_sched(sw_sim_world(sim));
    int k = 0;
    for (sw_id id = sw_sched_next(s, SW_ID_NONE); id; id = sw_sched_next(s, id), k++) {
        cow_f *f = sw_sched_frame(s, id);
        cr_assert_float_eq(f->weight, k < 3 ? 612.5 : 10.0, 0, "agent %d", k);
        cr_assert_eq(f->legs, 4);
        cr_assert(f->x >= 0 && f->y >= 0, "placed before init");
    }
    cr_assert_eq(k, 5);
    sw_sim_free(sim);
    sw_scenario_free(sc);
}

Test(sim, placement_is_deterministic_and_per_entry) {
    const char *a = HEAD "\"world\": {\"width\": 30, \"height\": 30},"
                         "\"agents\": [{\"kind\": \"cow\", \"count\": 20}, {\"kind\": \"hen\", \"count\": 20}]}";
    const char *b = HEAD "\"world\": {\"width\": 30, \"height\": 30},"
                         "\"agents\": [{\"kind\": \"cow\", \"count\": 20}, {\"kind\": \"hen\", \"count\": 20},"
                         "             {\"kind\": \"hen\", \"count\": 5}]}";
    int32_t pos[3][45][2];
    uint64_t ids[3][45];
    const char *docs[3] = {a, a, b};
    for (int run = 0; run < 3; run++) {
        sw_scenario *sc = load(docs[run]);
        sw_sim *sim = start(sc);
        sw_world *w = sw_sim_world(sim);
        sw_sched *s = sw_world_sched(w);
        int k = 0;
        for (sw_id id = sw_sched_next(s, SW_ID_NONE); id; id = sw_sched_next(s, id), k++) {
            ids[run][k] = id;
            sw_world_cell_of(w, id, &pos[run][k][0], &pos[run][k][1]);
        }
        cr_assert_eq(k, run == 2 ? 45 : 40);
        sw_sim_free(sim);
        sw_scenario_free(sc);
    }
    cr_assert_arr_eq(pos[0], pos[1], 40 * sizeof pos[0][0]);
    cr_assert_arr_eq(ids[0], ids[1], 40 * sizeof ids[0][0]);
    cr_assert_arr_eq(pos[0], pos[2], 40 * sizeof pos[0][0], "an entry added at the end moves nobody");
}

Test(sim, every_placement_mode_spawns_where_asked) {
    sw_scenario *sc = load(HEAD "\"world\": {\"width\": 6, \"height\": 5},"
                                "\"agents\": [{\"kind\": \"cow\", \"place\": \"every_cell\"},"
                                "             {\"kind\": \"hen\", \"at\": [[0, 0], [5, 4], [5, 4]]},"
                                "             {\"kind\": \"bell\", \"count\": 2},"
                                "             {\"kind\": \"hen\", \"count\": 4, \"place\": \"point\"}]}");
    sw_sim *sim = start(sc);
    sw_world *w = sw_sim_world(sim);
    cr_assert_eq(sw_sched_count(sw_world_sched(w)), 30 + 3 + 2 + 4);
    cr_assert_eq(sw_world_count_at(w, 5, 4), 3);
    cr_assert_eq(sw_world_count_at(w, 0, 0), 2);
    cr_assert_eq(sw_world_count_at(w, 2, 2), 1);
    cr_assert_eq(sw_world_space_count(w), 4);
    cr_assert_eq(sw_sim_stat_count(sim), 4, "tick, cow, hen, bell");
    cr_assert_eq(sw_sim_stat_value(sim, 0, 1), 30);
    cr_assert_eq(sw_sim_stat_value(sim, 0, 2), 7);
    cr_assert_eq(sw_sim_stat_value(sim, 0, 3), 2);
    sw_sim_free(sim);
    sw_scenario_free(sc);
}

Test(sim, cell_unique_conflicts_found_only_at_build_time_are_reported) {
    sw_scenario *sc = load(HEAD "\"world\": {\"width\": 2, \"height\": 2},"
                                "\"agents\": [{\"kind\": \"cow\", \"place\": \"every_cell\"},"
                                "             {\"kind\": \"hen\", \"count\": 1, \"place\": \"cell_unique\"}]}");
    cr_assert_null(sw_sim_new(sc, 0, err, sizeof err));
    cr_assert(strstr(err, "t.json: $.agents[1]: cannot place the \"hen\" agents:") != NULL, "%s", err);
    sw_scenario_free(sc);
}

Test(sim, schedule_order_runs_kinds_in_the_given_order) {
    sw_scenario *sc = load(HEAD "\"ticks\": 3, \"world\": {\"width\": 4, \"height\": 4},"
                                "\"schedule\": {\"order\": [\"hen\", \"cow\"]},"
                                "\"agents\": [{\"kind\": \"cow\", \"count\": 3}, {\"kind\": \"hen\", \"count\": 2}]}");
    sw_sim *sim = start(sc);
    ntrace = 0;
    trace[0] = '\0';
    for (int i = 0; i < 3; i++) cr_assert_eq(sw_sim_step(sim), SW_OK);
    cr_assert_str_eq(trace, "hhccchhccchhccc");
    sw_sim_free(sim);
    sw_scenario_free(sc);

    sc = load(HEAD "\"ticks\": 3, \"world\": {\"width\": 4, \"height\": 4},"
                   "\"agents\": [{\"kind\": \"cow\", \"count\": 3}, {\"kind\": \"hen\", \"count\": 2}]}");
    sim = start(sc);
    ntrace = 0;
    trace[0] = '\0';
    cr_assert_eq(sw_sim_step(sim), SW_OK);
    cr_assert_str_eq(trace, "ccchh", "without an order: spawn order");
    sw_sim_free(sim);
    sw_scenario_free(sc);
}

Test(sim, random_schedule_shuffles_each_tick_by_seed) {
    char traces[2][4096];
    for (int run = 0; run < 2; run++) {
        sw_scenario *sc = load(HEAD "\"world\": {\"width\": 4, \"height\": 4},"
                                    "\"schedule\": {\"random\": true},"
                                    "\"agents\": [{\"kind\": \"cow\", \"count\": 10}, {\"kind\": \"hen\", \"count\": 10}]}");
        sw_scenario_set_seed(sc, (uint64_t)run + 1);
        sw_sim *sim = start(sc);
        ntrace = 0;
        trace[0] = '\0';
        for (int i = 0; i < 5; i++) cr_assert_eq(sw_sim_step(sim), SW_OK);
        memcpy(traces[run], trace, ntrace + 1);
        sw_sim_free(sim);
        sw_scenario_free(sc);
    }
    cr_assert_eq(strlen(traces[0]), 100);
    cr_assert(strncmp(traces[0], "cccccccccchhhhhhhhhh", 20) != 0, "shuffled: %.20s", traces[0]);
    cr_assert(strncmp(traces[0], traces[0] + 20, 20) != 0, "a fresh order each tick");
    cr_assert_str_neq(traces[0], traces[1], "another seed, another order");
}

Test(sim, events_arrive_at_the_start_of_their_tick) {
    sw_scenario *sc = load(HEAD "\"ticks\": 10, \"world\": {\"width\": 2, \"height\": 2},"
                                "\"channels\": [{\"name\": \"bell\"}],"
                                "\"agents\": [{\"kind\": \"bell\", \"count\": 3}],"
                                "\"events\": [{\"tick\": 7, \"channel\": \"bell\", \"message\": {\"tag\": 2}},"
                                "             {\"tick\": 4, \"channel\": \"bell\", \"message\": {\"tag\": 9}},"
                                "             {\"tick\": 7, \"channel\": \"bell\", \"message\": {\"tag\": 5}}],"
                                "\"stats\": [{\"name\": \"heard\", \"kind\": \"bell\", \"field\": \"heard\", \"op\": \"sum\"},"
                                "            {\"name\": \"tag\", \"kind\": \"bell\", \"field\": \"last_tag\", \"op\": \"max\"}]}");
    sw_sim *sim = start(sc);
    while (sw_sim_now(sim) < sw_sim_end(sim)) cr_assert_eq(sw_sim_step(sim), SW_OK);
    /* column 2 heard, 3 tag */
    cr_assert_eq(sw_sim_stat_value(sim, 3, 2), 0);
    cr_assert_eq(sw_sim_stat_value(sim, 4, 2), 3, "all three heard the tick-4 bell at tick 4");
    cr_assert_eq(sw_sim_stat_value(sim, 4, 3), 9);
    /* two events in one tick: a listener hears the first, and is not yet
       waiting again when the second is posted */
    cr_assert_eq(sw_sim_stat_value(sim, 7, 2), 6);
    cr_assert_eq(sw_sim_stat_value(sim, 7, 3), 2, "events of one tick go in file order");
    sw_sim_free(sim);
    sw_scenario_free(sc);
}

Test(sim, a_pending_event_holds_off_the_deadlock_report_until_it_is_delivered) {
    sw_scenario *sc = load(HEAD "\"ticks\": 20, \"world\": {\"width\": 2, \"height\": 2},"
                                "\"channels\": [{\"name\": \"door\", \"kind\": \"buffered\", \"capacity\": 2}],"
                                "\"agents\": [{\"kind\": \"door\", \"count\": 1}],"
                                "\"events\": [{\"tick\": 5, \"channel\": \"door\", \"message\": {\"tag\": 1}}]}");
    sw_sim *sim = start(sc);
    for (int t = 1; t <= 4; t++) cr_assert_eq(sw_sim_step(sim), SW_OK, "tick %d", t);
    /* tick 5 delivers the knock; the door waits again, and now nothing can
       ever knock: that is a deadlock, reported at the end of this tick */
    cr_assert_eq(sw_sim_step(sim), SW_E_DEADLOCK);
    sw_sched *s = sw_world_sched(sw_sim_world(sim));
    ear_f *f = sw_sched_frame(s, sw_sched_next(s, SW_ID_NONE));
    cr_assert_eq(f->heard, 1);
    cr_assert_eq(f->last_tick, 5);
    cr_assert(strstr(sw_sched_report(s), "door") != NULL, "%s", sw_sched_report(s));
    cr_assert_eq(sw_sim_stat_rows(sim), 6, "the deadlocked tick is recorded too");
    sw_sim_free(sim);
    sw_scenario_free(sc);
}

Test(sim, statistics_compute_each_operation) {
    sw_scenario *sc = load(HEAD "\"ticks\": 2, \"world\": {\"width\": 4, \"height\": 2},"
                                "\"layers\": [{\"name\": \"grass\", \"init\": 0.5}],"
                                "\"agents\": [{\"kind\": \"cow\", \"count\": 2, \"params\": {\"weight\": 1}},"
                                "             {\"kind\": \"cow\", \"count\": 1, \"params\": {\"weight\": 7, \"legs\": 3}}],"
                                "\"stats\": [{\"name\": \"mean_w\", \"kind\": \"cow\", \"field\": \"weight\", \"op\": \"mean\"},"
                                "            {\"name\": \"sum_w\", \"kind\": \"cow\", \"field\": \"weight\", \"op\": \"sum\"},"
                                "            {\"name\": \"min_w\", \"kind\": \"cow\", \"field\": \"weight\", \"op\": \"min\"},"
                                "            {\"name\": \"max_w\", \"kind\": \"cow\", \"field\": \"weight\", \"op\": \"max\"},"
                                "            {\"name\": \"three_legged\", \"kind\": \"cow\", \"field\": \"legs\", \"op\": \"count\", \"equals\": 3},"
                                "            {\"name\": \"hens\", \"kind\": \"hen\", \"op\": \"count\"},"
                                "            {\"name\": \"hen_weight\", \"kind\": \"hen\", \"field\": \"weight\", \"op\": \"mean\"},"
                                "            {\"name\": \"grass_sum\", \"layer\": \"grass\", \"op\": \"sum\"},"
                                "            {\"name\": \"grass_max\", \"layer\": \"grass\", \"op\": \"max\"},"
                                "            {\"name\": \"age\", \"kind\": \"cow\", \"field\": \"age\", \"op\": \"mean\"}]}");
    sw_sim *sim = start(sc);
    sw_world *w = sw_sim_world(sim);
    sw_world_layer_data(w, sw_world_layer_find(w, "grass"))[3] = 4.0;
    cr_assert_eq(sw_sim_step(sim), SW_OK);
    cr_assert_eq(sw_sim_stat_count(sim), 12);
    const char *names[] = {"tick", "cow", "mean_w", "sum_w", "min_w", "max_w", "three_legged", "hens",
                           "hen_weight", "grass_sum", "grass_max", "age"};
    for (int c = 0; c < 12; c++) cr_assert_str_eq(sw_sim_stat_name(sim, c), names[c]);
    cr_assert_null(sw_sim_stat_name(sim, 12));
    double want[] = {1, 3, 3, 9, 1, 7, 1, 0, NAN, 7 * 0.5 + 4.0, 4.0, 1};
    for (int c = 0; c < 12; c++) {
        double v = sw_sim_stat_value(sim, 1, c);
        if (isnan(want[c])) cr_assert(isnan(v), "%s: the mean of no agents is NaN", names[c]);
        else cr_assert_float_eq(v, want[c], 1e-12, "%s = %g, want %g", names[c], v, want[c]);
    }
    cr_assert(isnan(sw_sim_stat_value(sim, 5, 0)), "no such row");
    sw_sim_free(sim);
    sw_scenario_free(sc);
}

Test(sim, csv_has_a_header_a_row_per_tick_and_exact_numbers) {
    char *csv = run_csv(HEAD "\"ticks\": 3, \"world\": {\"width\": 1, \"height\": 1},"
                             "\"layers\": [{\"name\": \"g\", \"init\": 0.1}],"
                             "\"agents\": [{\"kind\": \"cow\", \"count\": 2, \"params\": {\"weight\": -0.0}}],"
                             "\"stats\": [{\"name\": \"g\", \"layer\": \"g\", \"op\": \"mean\"},"
                             "            {\"name\": \"w\", \"kind\": \"cow\", \"field\": \"weight\", \"op\": \"min\"},"
                             "            {\"name\": \"h\", \"kind\": \"hen\", \"field\": \"weight\", \"op\": \"max\"},"
                             "            {\"name\": \"third\", \"layer\": \"g\", \"op\": \"sum\"}]}",
                        1);
    cr_assert_str_eq(csv, "tick,cow,g,w,h,third\n"
                          "0,2,0.1,0,NaN,0.1\n"
                          "1,2,0.1,0,NaN,0.1\n"
                          "2,2,0.1,0,NaN,0.1\n"
                          "3,2,0.1,0,NaN,0.1\n");
    free(csv);
}

Test(sim, same_seed_same_csv_other_seed_other_csv) {
    const char *doc = HEAD "\"ticks\": 20, \"world\": {\"width\": 40, \"height\": 40},"
                           "\"schedule\": {\"random\": [\"cow\"]},"
                           "\"agents\": [{\"kind\": \"cow\", \"count\": 30}],"
                           "\"stats\": [{\"name\": \"x\", \"kind\": \"cow\", \"field\": \"x\", \"op\": \"mean\"}]}";
    char *a = run_csv(doc, 5), *b = run_csv(doc, 5), *c = run_csv(doc, 6);
    cr_assert_str_eq(a, b);
    cr_assert_str_neq(a, c);
    free(a);
    free(b);
    free(c);
}

Test(sim, an_empty_simulation_spawns_nobody_and_restart_makes_one_row) {
    sw_scenario *sc = load(HEAD "\"ticks\": 10, \"world\": {\"width\": 3, \"height\": 3},"
                                "\"channels\": [{\"name\": \"door\", \"kind\": \"buffered\"}],"
                                "\"agents\": [{\"kind\": \"cow\", \"count\": 4}],"
                                "\"events\": [{\"tick\": 2, \"channel\": \"door\"}]}");
    sw_scenario_set_ticks(sc, 6);
    sw_sim *sim = sw_sim_new(sc, SW_SIM_EMPTY, err, sizeof err);
    cr_assert_not_null(sim, "%s", err);
    cr_assert_eq(sw_sim_end(sim), 6);
    cr_assert_eq(sw_sched_count(sw_world_sched(sw_sim_world(sim))), 0);
    cr_assert_eq(sw_world_chan_count(sw_sim_world(sim)), 1);
    for (int i = 0; i < 3; i++) cr_assert_eq(sw_sim_step(sim), SW_OK);
    cr_assert_eq(sw_sim_stat_rows(sim), 4);
    sw_sim_stats_restart(sim);
    cr_assert_eq(sw_sim_stat_rows(sim), 1);
    cr_assert_eq(sw_sim_stat_value(sim, 0, 0), 3);
    cr_assert_eq(sw_sim_step(sim), SW_OK);
    cr_assert_eq(sw_sim_stat_value(sim, 1, 0), 4);
    cr_assert_eq(sw_sim_scenario(sim), sc);
    sw_sim_free(sim);
    sw_scenario_free(sc);
    sw_sim_free(NULL);
}
