/* test_models.c - every scenario file in scenarios/ and scenarios/bench/
 * loads against the built-in kinds and runs; the village's channels and
 * dawn events, declared by its scenario, really feed people; and
 * `swarmlet bench models` runs and prints its figures. */
#include <criterion/criterion.h>

#include "models.h"
#include "registry.h"
#include "scenario.h"
#include "support.h"

#include <glob.h>
#include <stdlib.h>
#include <string.h>

static sw_sim *load(const char *path, sw_scenario **sc) {
    char err[1024] = "";
    *sc = sw_scenario_load(path, sw_agents_kinds, err, sizeof err);
    cr_assert_not_null(*sc, "%s", err);
    sw_sim *sim = sw_sim_new(*sc, 0, err, sizeof err);
    cr_assert_not_null(sim, "%s: %s", path, err);
    return sim;
}

static int stat_column(sw_sim *sim, const char *name) {
    for (int c = 0; c < sw_sim_stat_count(sim); c++)
        if (strcmp(sw_sim_stat_name(sim, c), name) == 0) return c;
    cr_assert_fail("no statistic named %s", name);
    return -1;
}

Test(models, every_scenario_loads_and_runs) {
    glob_t g;
    int found = 0;
    const char *patterns[] = {SW_SOURCE_DIR "/scenarios/*.json", SW_SOURCE_DIR "/scenarios/bench/*.json"};
    for (int p = 0; p < 2; p++) {
        cr_assert_eq(glob(patterns[p], 0, NULL, &g), 0, "no scenarios match %s", patterns[p]);
        for (size_t i = 0; i < g.gl_pathc; i++, found++) {
            sw_scenario *sc;
            sw_sim *sim = load(g.gl_pathv[i], &sc);
            cr_assert(strlen(sw_scenario_description(sc)) > 40, "%s: describe it", g.gl_pathv[i]);
            cr_assert_gt(sw_world_now(sw_sim_world(sim)) + sw_sched_count(sw_world_sched(sw_sim_world(sim))), 0,
                         "%s has no agents", g.gl_pathv[i]);
            for (int t = 0; t < 5; t++) {
                int rc = sw_sim_step(sim);
                cr_assert_eq(rc, SW_OK, "%s tick %d: %s", g.gl_pathv[i], t + 1,
                             sw_sched_report(sw_world_sched(sw_sim_world(sim))));
            }
            sw_sim_free(sim);
            sw_scenario_free(sc);
        }
        globfree(&g);
    }
    cr_assert_geq(found, 14);
}

Test(models, bench_scenarios_use_the_comparison_parameters) {
    sw_scenario *sc;
    sw_sim *sim = load(SW_SOURCE_DIR "/scenarios/bench/wolf_sheep_large.json", &sc);
    sw_world *w = sw_sim_world(sim);
    cr_assert_eq(sw_world_width(w), 100);
    cr_assert_eq(sw_world_topology(w), SW_TOPO_BOUNDED);
    cr_assert_eq(sw_scenario_ticks(sc), 100);
    cr_assert_eq(sw_sim_stat_value(sim, 0, stat_column(sim, "sheep")), 1000);
    cr_assert_eq(sw_sim_stat_value(sim, 0, stat_column(sim, "wolf")), 500);
    cr_assert_eq(sw_sim_stat_value(sim, 0, stat_column(sim, "grass")), 10000);
    sw_sim_free(sim);
    sw_scenario_free(sc);

    sim = load(SW_SOURCE_DIR "/scenarios/bench/flocking_large.json", &sc);
    w = sw_sim_world(sim);
    cr_assert_eq(sw_world_width(w), 150);
    cr_assert_eq(sw_world_topology(w), SW_TOPO_TORUS);
    cr_assert_eq(sw_sim_stat_value(sim, 0, stat_column(sim, "boid")), 400);
    sw_sim_free(sim);
    sw_scenario_free(sc);
}

Test(models, the_village_scenario_feeds_its_people) {
    sw_scenario *sc;
    sw_sim *sim = load(SW_SOURCE_DIR "/scenarios/village.json", &sc);
    for (int t = 0; t < 600; t++) cr_assert_eq(sw_sim_step(sim), SW_OK);
    size_t last = sw_sim_stat_rows(sim) - 1;
    cr_assert_gt(sw_sim_stat_value(sim, last, stat_column(sim, "meals")), 60, "dawn never fed anybody");
    cr_assert_gt(sw_sim_stat_value(sim, last, stat_column(sim, "chats")), 30);
    cr_assert_lt(sw_sim_stat_value(sim, last, stat_column(sim, "highest_need")), 2.5);
    sw_sim_free(sim);
    sw_scenario_free(sc);
}

Test(models, the_scenario_epidemic_ends) {
    sw_scenario *sc;
    sw_sim *sim = load(SW_SOURCE_DIR "/scenarios/sir.json", &sc);
    while (sw_sim_now(sim) < sw_sim_end(sim)) cr_assert_eq(sw_sim_step(sim), SW_OK);
    size_t last = sw_sim_stat_rows(sim) - 1;
    double peak = 0;
    int inf = stat_column(sim, "infected");
    for (size_t r = 0; r <= last; r++)
        if (sw_sim_stat_value(sim, r, inf) > peak) peak = sw_sim_stat_value(sim, r, inf);
    cr_assert_gt(peak, 150);
    cr_assert_eq(sw_sim_stat_value(sim, last, inf), 0, "still %g ill at the end", sw_sim_stat_value(sim, last, inf));
    sw_sim_free(sim);
    sw_scenario_free(sc);
}

Test(models, bench_models_prints_every_figure) {
    char *out = NULL;
    int rc = sw_test_sh(&out, "%s bench models --quick --runs 1 --json", SW_BINARY);
    cr_assert_eq(rc, 0, "%s", out);
    const char *keys[] = {"\"wolf_sheep_small_ms\"", "\"wolf_sheep_large_steps_ms\"", "\"flocking_large_ms\"",
                          "\"schelling_small_vs_agents_jl\"", "\"forest_fire_1m_ms\"",
                          "\"forest_fire_1m_ns_per_burning_tree\""};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) cr_assert(strstr(out, keys[i]), "%s missing:\n%s", keys[i], out);
    free(out);
    rc = sw_test_sh(&out, "%s bench models --runs 0 2>&1", SW_BINARY);
    cr_assert_eq(rc, 2, "%s", out);
    free(out);
}

Test(models, every_showcase_resumes_bit_for_bit) {
    /* run 60 ticks straight, and 30 + snapshot + resume to 60: the same
       stats.csv, nested walk_to calls and blocked channel queues included */
    const char *names[] = {"wolf_sheep", "forest_fire", "schelling", "flocking", "sir", "village"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char *out = NULL, full[400], part[420];
        snprintf(full, sizeof full, "%s", sw_test_dir(names[i]));
        snprintf(part, sizeof part, "%s/split", full);
        int rc = sw_test_sh(&out, "%s run %s/scenarios/%s.json --ticks 60 --out %s/straight -q && "
                                  "%s run %s/scenarios/%s.json --ticks 30 --snapshot-every 30 --out %s -q && "
                                  "%s resume %s/%s.db --ticks 60 -q",
                            SW_BINARY, SW_SOURCE_DIR, names[i], full, SW_BINARY, SW_SOURCE_DIR, names[i],
                            part, SW_BINARY, part, names[i]);
        cr_assert_eq(rc, 0, "%s: %s", names[i], out);
        free(out);
        char a[480], b[480];
        snprintf(a, sizeof a, "%s/straight/stats.csv", full);
        snprintf(b, sizeof b, "%s/stats.csv", part);
        size_t la, lb;
        char *ta = sw_test_slurp(a, &la), *tb = sw_test_slurp(b, &lb);
        cr_assert(ta && tb, "%s: missing stats", names[i]);
        cr_assert(la == lb && memcmp(ta, tb, la) == 0, "%s: the resumed run differs", names[i]);
        free(ta);
        free(tb);
    }
}
