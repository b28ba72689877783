/* bench_floor.c - `swarmlet bench floor`: the comparison's models as plain
 * C programs with no engine (floor_models.c), timed as `bench models` times
 * Swarmlet's: the median over seeded runs (100 by default) of construction
 * plus all steps, and of the steps alone, each configuration in a child
 * process of its own. What the models' own work costs: with
 * --vs-swarmlet, Swarmlet's model of each configuration runs too (just
 * before it, in a child of its own) and the ratio Swarmlet / plain says how
 * far above that floor the engine is. */
#include "bench.h"
#include "cli.h"
#include "floor_models.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One model behind one face: new, step (turns taken, -1 out of memory), free. */
typedef struct {
    const char *key; /* as in bench models: "<key>_ms" */
    const char *label;
    int ticks;
    void *(*build)(uint64_t seed);
    int64_t (*step)(void *m);
    void (*free)(void *m);
} floor_config;

static void *ws_small(uint64_t seed) {
    return sw_floor_ws_new(&(sw_floor_ws_desc){.width = 25, .height = 25, .sheep = 60, .wolves = 40,
        .regrowth = 20, .sheep_reproduce = 0.2, .wolf_reproduce = 0.1, .sheep_gain = 5,
        .wolf_gain = 13}, seed);
}
static void *ws_large(uint64_t seed) {
    return sw_floor_ws_new(&(sw_floor_ws_desc){.width = 100, .height = 100, .sheep = 1000,
        .wolves = 500, .regrowth = 10, .sheep_reproduce = 0.4, .wolf_reproduce = 0.2,
        .sheep_gain = 5, .wolf_gain = 13}, seed);
}
static void *fl_small(uint64_t seed) {
    return sw_floor_flock_new(&(sw_floor_flock_desc){.size = 100, .birds = 200, .visual = 5}, seed);
}
static void *fl_large(uint64_t seed) {
    return sw_floor_flock_new(&(sw_floor_flock_desc){.size = 150, .birds = 400, .visual = 15}, seed);
}
static void *sc_small(uint64_t seed) {
    return sw_floor_schelling_new(&(sw_floor_schelling_desc){.size = 40, .agents = 1000, .radius = 1,
                                                             .min_same = 3}, seed);
}
static void *sc_large(uint64_t seed) {
    return sw_floor_schelling_new(&(sw_floor_schelling_desc){.size = 100, .agents = 8000, .radius = 2,
                                                             .min_same = 8}, seed);
}

static int64_t ws_step(void *m) { return sw_floor_ws_step(m); }
static int64_t fl_step(void *m) { return sw_floor_flock_step(m); }
static int64_t sc_step(void *m) { return sw_floor_schelling_step(m); }
static void ws_free(void *m) { sw_floor_ws_free(m); }
static void fl_free(void *m) { sw_floor_flock_free(m); }
static void sc_free(void *m) { sw_floor_schelling_free(m); }

static const floor_config configs[] = {
    {"wolf_sheep_small", "wolf-sheep small", 100, ws_small, ws_step, ws_free},
    {"wolf_sheep_large", "wolf-sheep large", 100, ws_large, ws_step, ws_free},
    {"flocking_small", "flocking small", 100, fl_small, fl_step, fl_free},
    {"flocking_large", "flocking large", 100, fl_large, fl_step, fl_free},
    {"schelling_small", "schelling small", 20, sc_small, sc_step, sc_free},
    {"schelling_large", "schelling large", 20, sc_large, sc_step, sc_free},
};
enum { NCONFIGS = sizeof configs / sizeof *configs };

typedef struct {
    double total_ms, steps_ms;
    double turns; /* agent turns in a run, the mean over the runs */
    double swarmlet_ms, swarmlet_steps_ms; /* with --vs-swarmlet */
} floor_result;

/* One seeded run: its times and turns into the three arrays at r. */
static int run_once(const floor_config *c, uint64_t seed, double *total, double *steps, double *turns) {
    double t0 = sw_cli_seconds() * 1e3;
    void *m = c->build(seed);
    if (!m) return 1;
    double t1 = sw_cli_seconds() * 1e3;
    int64_t n = 0;
    for (int i = 0; i < c->ticks && n >= 0; i++) {
        int64_t k = c->step(m);
        n = k < 0 ? -1 : n + k;
    }
    double t2 = sw_cli_seconds() * 1e3;
    c->free(m); /* not timed, as in bench models */
    *total = t2 - t0;
    *steps = t2 - t1;
    *turns = (double)n;
    return n < 0;
}

typedef struct {
    const floor_config *c;
    int runs;
} floor_job;

/* The medians of one configuration's seeded runs (seeds 1..runs, as bench
 * models). */
static int run_config(const void *arg, void *out) {
    const floor_job *j = arg;
    floor_result *res = out;
    double *total = malloc((size_t)j->runs * sizeof *total);
    double *steps = malloc((size_t)j->runs * sizeof *steps);
    int rc = !total || !steps;
    double turns = 0;
    for (int r = 0; r < j->runs && !rc; r++) {
        double t;
        rc = run_once(j->c, (uint64_t)r + 1, &total[r], &steps[r], &t);
        turns += t;
    }
    if (rc) {
        fprintf(stderr, "swarmlet bench floor: %s: out of memory\n", j->c->label);
    } else {
        *res = (floor_result){.total_ms = sw_bench_median(total, j->runs),
                              .steps_ms = sw_bench_median(steps, j->runs),
                              .turns = turns / j->runs};
    }
    free(total);
    free(steps);
    return rc;
}

static void usage(FILE *f) {
    fprintf(f, "usage: swarmlet bench floor [--json] [--quick] [--runs N] [--only KEYS] [--vs-swarmlet]\n\n"
               "Times wolf-sheep, flocking and Schelling (small and large, the comparison's\n"
               "parameters) written as plain C programs with no engine, as bench models times\n"
               "Swarmlet's: median of N seeded runs (default 100) of construction plus all steps.\n"
               "  --json          one JSON object keyed by figure\n"
               "  --quick         3 runs (a smoke test)\n"
               "  --runs N        seeded runs per configuration\n"
               "  --only K        only the configurations whose key contains one of the\n"
               "                  comma-separated words (e.g. wolf_sheep_small,flocking)\n"
               "  --vs-swarmlet   time Swarmlet's model of each too, and the ratio\n"
               "                  Swarmlet / plain (how far above the floor the engine is)\n");
}

static void print_row(const floor_config *c, const floor_result *r, bool vs) {
    printf("%-18s %10.3f %10.3f %12.0f", c->label, r->total_ms, r->steps_ms, r->turns);
    if (vs) printf(" %12.3f %7.2fx", r->swarmlet_ms, r->swarmlet_ms / r->total_ms);
    printf("\n");
    fflush(stdout);
}

static void print_json(const sw_bench_opts *o, const floor_result *res, bool vs) {
    printf("{\"runs\": %d", o->runs);
    for (int i = 0; i < NCONFIGS; i++) {
        const char *k = configs[i].key;
        if (!sw_bench_selected(o->only, k)) continue;
        printf(", \"%s_ms\": %.4f, \"%s_steps_ms\": %.4f, \"%s_turns\": %.1f", k, res[i].total_ms, k,
               res[i].steps_ms, k, res[i].turns);
        if (vs)
            printf(", \"%s_swarmlet_ms\": %.4f, \"%s_swarmlet_steps_ms\": %.4f, \"%s_swarmlet_vs_plain\": %.3f",
                   k, res[i].swarmlet_ms, k, res[i].swarmlet_steps_ms, k, res[i].swarmlet_ms / res[i].total_ms);
    }
    printf("}\n");
}

/* argv into *o and *vs: 0 to go on, else the exit status. */
static int parse(int argc, char **argv, sw_bench_opts *o, bool *vs) {
    for (int i = 1; i < argc; i++) {
        int took = sw_bench_common_flag("floor", argc, argv, &i, o);
        if (took == 2) return 2;
        if (took) continue;
        if (strcmp(argv[i], "--vs-swarmlet") == 0) {
            *vs = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return -1;
        } else {
            fprintf(stderr, "swarmlet bench floor: unknown flag \"%s\"\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    return 0;
}

int sw_bench_floor(int argc, char **argv) {
    sw_bench_opts o = {.runs = 100};
    bool vs = false;
    int rc = parse(argc, argv, &o, &vs);
    if (rc) return rc < 0 ? 0 : rc;
    if (o.quick && o.runs == 100) o.runs = 3;
    floor_result res[NCONFIGS];
    if (!o.json) {
        printf("%-18s %10s %10s %12s", "plain C (median", "total ms", "steps ms", "turns/run");
        if (vs) printf(" %12s %8s", "Swarmlet ms", "ratio");
        printf("\n%-18s\n", "  of seeded runs)");
    }
    for (int i = 0; i < NCONFIGS; i++) {
        if (!sw_bench_selected(o.only, configs[i].key)) continue;
        if (vs && sw_bench_models_time(configs[i].key, o.runs, &res[i].swarmlet_ms,
                                       &res[i].swarmlet_steps_ms) != 0)
            return 1;
        double sw_ms = res[i].swarmlet_ms, sw_steps = res[i].swarmlet_steps_ms;
        if (sw_bench_apart(run_config, &(floor_job){&configs[i], o.runs}, &res[i], sizeof res[i]))
            return 1;
        res[i].swarmlet_ms = sw_ms;
        res[i].swarmlet_steps_ms = sw_steps;
        if (!o.json) print_row(&configs[i], &res[i], vs);
    }
    if (o.json) print_json(&o, res, vs);
    else if (vs) printf("\nratio = Swarmlet / plain C (> 1: the engine's cost above the models' own work).\n");
    return 0;
}
