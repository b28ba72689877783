/* bench_models.c - `swarmlet bench models`: the comparison's models, timed as
 * the ABM framework comparison times them, beside its published figures.
 *
 * Wolf-sheep, flocking and Schelling (and the forest fire, which the
 * comparison's table does not time), small and large, with the parameters
 * of docs/models.md (the worlds are built in C by the same kinds the
 * scenarios in scenarios/bench/ use). Each figure is the median over seeded
 * runs (100 by default) of model construction plus all steps (what Agents.jl,
 * Mesa and NetLogo time) and of the steps alone (what MASON times), with the
 * agent-steps per second (tasklets resumed, per second of stepping). The
 * published figures beside them are the comparison's, scaled to this kind of
 * machine (estimates, not re-run here); the ratio is theirs over ours.
 * Each model and size runs in a child process of its own (run_config_apart).
 *
 * Then a forest of 10,000,000 cells (3163 x 3163, density 0.7) burns to the
 * end: construction, the first tick (every tree runs once to lie down on its
 * cell's channel) and the fire itself are timed apart, with the time per tick
 * against the number of trees burning, to show that sleeping trees cost
 * nothing. `--quick` runs 3 seeds and a 1,000,000-cell forest: a smoke test
 * of the command, not a measurement. */
#include "bench.h"
#include "cli.h"
#include "models.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the comparison's six configurations --------------------------------------- */

typedef struct {
    const char *key;     /* JSON prefix */
    const char *label;
    int ticks;
    double agents_jl, ark_jl; /* published, ms, on this kind of machine */
    sw_world *(*build)(uint64_t seed);
} config;

static sw_world *ws_small(uint64_t seed) {
    return sw_wolf_sheep_new(&(sw_wolf_sheep_desc){.width = 25, .height = 25, .sheep = 60,
        .wolves = 40, .regrowth = 20, .sheep_reproduce = 0.2, .wolf_reproduce = 0.1, .seed = seed});
}
static sw_world *ws_large(uint64_t seed) {
    return sw_wolf_sheep_new(&(sw_wolf_sheep_desc){.width = 100, .height = 100, .sheep = 1000,
        .wolves = 500, .regrowth = 10, .sheep_reproduce = 0.4, .wolf_reproduce = 0.2, .seed = seed});
}
static sw_world *fl_small(uint64_t seed) {
    return sw_flocking_new(&(sw_flocking_desc){.size = 100, .birds = 200, .visual = 5, .seed = seed});
}
static sw_world *fl_large(uint64_t seed) {
    return sw_flocking_new(&(sw_flocking_desc){.size = 150, .birds = 400, .visual = 15, .seed = seed});
}
static sw_world *sc_small(uint64_t seed) {
    return sw_schelling_new(&(sw_schelling_desc){.size = 40, .agents = 1000, .radius = 1,
                                                 .min_same = 3, .seed = seed});
}
static sw_world *sc_large(uint64_t seed) {
    return sw_schelling_new(&(sw_schelling_desc){.size = 100, .agents = 8000, .radius = 2,
                                                 .min_same = 8, .seed = seed});
}

static sw_world *ff_small(uint64_t seed) {
    return sw_forest_fire_new(&(sw_forest_fire_desc){.width = 100, .density = 0.7, .seed = seed});
}
static sw_world *ff_large(uint64_t seed) {
    return sw_forest_fire_new(&(sw_forest_fire_desc){.width = 500, .density = 0.9, .seed = seed});
}

/* Forest fire has no published figure in the comparison's table: 0 = none. */
static const config configs[] = {
    {"wolf_sheep_small", "wolf-sheep small", 100, 2, 0.7, ws_small},
    {"wolf_sheep_large", "wolf-sheep large", 100, 260, 36, ws_large},
    {"flocking_small", "flocking small", 100, 8, 6, fl_small},
    {"flocking_large", "flocking large", 100, 50, 19, fl_large},
    {"schelling_small", "schelling small", 20, 2, 1.2, sc_small},
    {"schelling_large", "schelling large", 20, 35, 21, sc_large},
    {"forest_fire_small", "forest fire small", 100, 0, 0, ff_small},
    {"forest_fire_large", "forest fire large", 100, 0, 0, ff_large},
};
enum { NCONFIGS = sizeof configs / sizeof *configs };

typedef struct {
    double total_ms, steps_ms, agent_steps_per_s;
} result;

static int run_config(const config *c, int runs, result *out) {
    double *total = malloc((size_t)runs * sizeof *total);
    double *steps = malloc((size_t)runs * sizeof *steps);
    double *rate = malloc((size_t)runs * sizeof *rate);
    int rc = 0;
    for (int r = 0; r < runs && total && steps && rate; r++) {
        double t0 = (sw_cli_seconds() * 1e3);
        sw_world *w = c->build((uint64_t)r + 1);
        if (!w) {
            fprintf(stderr, "swarmlet bench models: %s: out of memory\n", c->label);
            rc = 1;
            break;
        }
        double t1 = (sw_cli_seconds() * 1e3);
        uint64_t resumed = 0;
        for (int i = 0; i < c->ticks; i++) {
            int st = sw_world_step(w);
            if (st != SW_OK) {
                fprintf(stderr, "swarmlet bench models: %s: %s\n", c->label,
                        sw_sched_errmsg(sw_world_sched(w)));
                rc = 1;
                break;
            }
            resumed += sw_sched_resumes(sw_world_sched(w));
        }
        double t2 = (sw_cli_seconds() * 1e3);
        sw_world_free(w); /* not timed: the comparison does not time teardown */
        if (rc) break;
        total[r] = t2 - t0;
        steps[r] = t2 - t1;
        rate[r] = t2 > t1 ? (double)resumed / ((t2 - t1) * 1e-3) : 0;
    }
    if (!total || !steps || !rate) rc = 1;
    if (!rc) {
        out->total_ms = sw_bench_median(total, runs);
        out->steps_ms = sw_bench_median(steps, runs);
        out->agent_steps_per_s = sw_bench_median(rate, runs);
    }
    free(total);
    free(steps);
    free(rate);
    return rc;
}

/* run_config as a job of sw_bench_apart: each model in a process of its own. */
typedef struct {
    const config *c;
    int runs;
} config_job;

static int run_config_job(const void *arg, void *out) {
    const config_job *j = arg;
    return run_config(j->c, j->runs, out);
}

static int run_config_apart(const config *c, int runs, result *out) {
    return sw_bench_apart(run_config_job, &(config_job){c, runs}, out, sizeof *out);
}

int sw_bench_models_time(const char *key, int runs, double *total_ms, double *steps_ms) {
    for (int i = 0; i < NCONFIGS; i++) {
        if (strcmp(configs[i].key, key) != 0) continue;
        result r;
        if (run_config_apart(&configs[i], runs, &r)) return 1;
        *total_ms = r.total_ms;
        *steps_ms = r.steps_ms;
        return 0;
    }
    return 2;
}

/* ---- the big forest fire ------------------------------------------------------------ */

#define FIRE_BANDS 6

typedef struct {
    uint32_t side;
    double build_ms, first_tick_ms, fire_ms;
    uint64_t ticks, trees, burnt, resumed;
    /* time per tick by the number of trees resumed in it (the burning front) */
    uint64_t band_ticks[FIRE_BANDS], band_resumed[FIRE_BANDS];
    double band_ms[FIRE_BANDS];
} fire_result;

static const uint64_t band_lo[FIRE_BANDS] = {0, 1, 100, 1000, 3000, 10000};

static int run_fire(uint32_t side, fire_result *out) {
    memset(out, 0, sizeof *out);
    out->side = side;
    double t0 = (sw_cli_seconds() * 1e3);
    sw_world *w = sw_forest_fire_new(&(sw_forest_fire_desc){.width = side, .height = side,
                                                            .density = 0.7, .seed = 1});
    if (!w) {
        fprintf(stderr, "swarmlet bench models: forest fire: out of memory\n");
        return 1;
    }
    sw_sched *s = sw_world_sched(w);
    double t1 = (sw_cli_seconds() * 1e3);
    out->trees = sw_sched_count(s);
    out->build_ms = t1 - t0;
    sw_world_step(w); /* every tree runs once, to sleep on its cell */
    double t2 = (sw_cli_seconds() * 1e3);
    out->first_tick_ms = t2 - t1;
    for (;;) {
        double a = (sw_cli_seconds() * 1e3);
        int rc = sw_world_step(w);
        double b = (sw_cli_seconds() * 1e3);
        uint64_t n = sw_sched_resumes(s);
        if (rc != SW_OK) {
            fprintf(stderr, "swarmlet bench models: forest fire: %s\n", sw_sched_errmsg(s));
            sw_world_free(w);
            return 1;
        }
        out->ticks++;
        out->resumed += n;
        out->fire_ms += b - a;
        int band = 0;
        while (band + 1 < FIRE_BANDS && n >= band_lo[band + 1]) band++;
        out->band_ticks[band]++;
        out->band_resumed[band] += n;
        out->band_ms[band] += b - a;
        if (n == 0) break; /* the fire is out: nothing will ever wake again */
    }
    const double *forest = sw_forest_fire_layer(w);
    for (size_t c = 0; c < (size_t)side * side; c++) out->burnt += forest[c] == SW_TREE_BURNT;
    sw_world_free(w);
    return 0;
}

/* ---- output ------------------------------------------------------------------------------ */

static void usage(FILE *f) {
    fprintf(f, "usage: swarmlet bench models [--json] [--quick] [--runs N] [--only KEYS]\n\n"
               "Times wolf-sheep, flocking and Schelling (small and large, as in the ABM\n"
               "framework comparison: median of N seeded runs, default 100), beside the\n"
               "published Agents.jl and Ark.jl figures, then burns a 10,000,000-cell forest.\n"
               "  --json     one JSON object keyed by figure\n"
               "  --quick    3 runs and a 1,000,000-cell forest (a smoke test)\n"
               "  --runs N   seeded runs per configuration\n"
               "  --only K   only the figures whose key contains one of the comma-separated\n"
               "             words (e.g. wolf_sheep_large,flocking; forest_fire_10m: the big\n"
               "             forest), to re-measure a few on their own\n");
}

int sw_bench_models(int argc, char **argv) {
    sw_bench_opts o = {.runs = 100};
    for (int i = 1; i < argc; i++) {
        int took = sw_bench_common_flag("models", argc, argv, &i, &o);
        if (took == 2) return 2;
        if (took) continue;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        fprintf(stderr, "swarmlet bench models: unknown flag \"%s\"\n", argv[i]);
        usage(stderr);
        return 2;
    }
    bool json = o.json, quick = o.quick;
    const char *only = o.only;
    int runs = o.runs;
    if (quick && runs == 100) runs = 3;
    uint32_t side = quick ? 1000 : 3163;
    const char *fkey = quick ? "forest_fire_1m" : "forest_fire_10m";

    result res[NCONFIGS];
    if (!json)
        printf("%-18s %10s %10s %14s %11s %7s %9s %7s\n", "model (median of", "total ms",
               "steps ms", "agent-steps/s", "Agents.jl", "ratio", "Ark.jl", "ratio");
    if (!json) printf("%-18s\n", "  seeded runs)");
    for (int i = 0; i < NCONFIGS; i++) {
        if (!sw_bench_selected(only, configs[i].key)) continue;
        if (run_config_apart(&configs[i], runs, &res[i])) return 1;
        if (!json && configs[i].agents_jl > 0) {
            printf("%-18s %10.3f %10.3f %14.3g %8.1f ms %6.1fx %6.1f ms %6.1fx\n", configs[i].label,
                   res[i].total_ms, res[i].steps_ms, res[i].agent_steps_per_s, configs[i].agents_jl,
                   configs[i].agents_jl / res[i].total_ms, configs[i].ark_jl,
                   configs[i].ark_jl / res[i].total_ms);
        } else if (!json) {
            printf("%-18s %10.3f %10.3f %14.3g %11s %7s %9s %7s\n", configs[i].label, res[i].total_ms,
                   res[i].steps_ms, res[i].agent_steps_per_s, "-", "", "-", "");
        }
        fflush(stdout);
    }
    fire_result fr;
    bool fire = sw_bench_selected(only, fkey);
    if (fire && run_fire(side, &fr)) return 1;

    if (json) {
        printf("{\"runs\": %d", runs);
        for (int i = 0; i < NCONFIGS; i++) {
            const char *k = configs[i].key;
            if (!sw_bench_selected(only, k)) continue;
            printf(", \"%s_ms\": %.4f, \"%s_steps_ms\": %.4f, \"%s_agent_steps_per_s\": %.0f", k,
                   res[i].total_ms, k, res[i].steps_ms, k, res[i].agent_steps_per_s);
            if (configs[i].agents_jl > 0)
                printf(", \"%s_agents_jl_ms\": %g, \"%s_ark_jl_ms\": %g, \"%s_vs_agents_jl\": %.2f, "
                       "\"%s_vs_ark_jl\": %.2f",
                       k, configs[i].agents_jl, k, configs[i].ark_jl, k,
                       configs[i].agents_jl / res[i].total_ms, k, configs[i].ark_jl / res[i].total_ms);
        }
        if (!fire) {
            printf("}\n");
            return 0;
        }
        printf(", \"%s_cells\": %llu, \"%s_trees\": %llu, \"%s_build_ms\": %.1f, "
               "\"%s_first_tick_ms\": %.1f, \"%s_ms\": %.1f, \"%s_ticks\": %llu, "
               "\"%s_burnt\": %llu, \"%s_ns_per_burning_tree\": %.1f",
               fkey, (unsigned long long)side * side, fkey, (unsigned long long)fr.trees, fkey,
               fr.build_ms, fkey, fr.first_tick_ms, fkey, fr.fire_ms, fkey,
               (unsigned long long)fr.ticks, fkey, (unsigned long long)fr.burnt, fkey,
               fr.resumed ? fr.fire_ms * 1e6 / (double)fr.resumed : 0.0);
        printf("}\n");
        return 0;
    }
    if (!fire) return 0;
    printf("\nforest fire, %u x %u cells (%llu trees, density 0.7), burnt to the end:\n", side,
           side, (unsigned long long)fr.trees);
    printf("  construction            %10.1f ms\n", fr.build_ms);
    printf("  first tick              %10.1f ms  (every tree runs once, to sleep on its cell)\n",
           fr.first_tick_ms);
    printf("  the fire                %10.1f ms  over %llu ticks, %llu trees burnt\n", fr.fire_ms,
           (unsigned long long)fr.ticks, (unsigned long long)fr.burnt);
    printf("  per burning tree        %10.1f ns\n",
           fr.resumed ? fr.fire_ms * 1e6 / (double)fr.resumed : 0.0);
    printf("  trees resumed per tick   ticks   mean us/tick   ns per resumed tree\n");
    for (int b = 0; b < FIRE_BANDS; b++) {
        if (!fr.band_ticks[b]) continue;
        char range[32];
        if (b + 1 < FIRE_BANDS)
            snprintf(range, sizeof range, "%llu-%llu", (unsigned long long)band_lo[b],
                     (unsigned long long)band_lo[b + 1] - 1);
        else
            snprintf(range, sizeof range, ">= %llu", (unsigned long long)band_lo[b]);
        printf("  %-22s %7llu %14.1f %21.1f\n", range, (unsigned long long)fr.band_ticks[b],
               fr.band_ms[b] * 1e3 / (double)fr.band_ticks[b],
               fr.band_resumed[b] ? fr.band_ms[b] * 1e6 / (double)fr.band_resumed[b] : 0.0);
    }
    printf("\nPublished figures: Agents.jl and Ark.jl from the ABM framework comparison, scaled to\n"
           "this kind of machine (estimates, see docs/models.md); ratio = theirs / ours (> 1: faster).\n");
    return 0;
}
