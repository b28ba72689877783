/* cmd_run.c - `swarmlet run SCENARIO`: run a scenario headlessly.
 *
 * Load and validate the scenario, apply the command line's overrides, create
 * the output directory and open DIR/stats.csv before the first tick (so a bad
 * --out fails at once, not after an hour of simulation), then run tick by
 * tick in run_loop, appending one CSV row per tick, with a live progress line
 * on a terminal. Exit status: 0 done, 1 the run failed (deadlock, watchdog,
 * I/O), 2 bad input or usage. */
#include "cli.h"
#include "cli_snapshot.h"
#include "probe_kinds.h"
#include "scenario.h"
#ifdef SW_HAVE_VIEWER
#include "viewer.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct run_opts {
    const char *scenario;
    const char *out;    /* NULL: out/<name> */
    const char *plot;   /* NULL: no plot */
    bool has_ticks, has_seed, quiet;
    uint64_t ticks, seed;
} run_opts;

/* What the run loop works on. */
typedef struct run_ctx {
    sw_sim *sim;
    FILE *csv;
    const char *csv_path;
    bool progress;      /* draw the progress line on stderr */
    double t0;          /* wall clock at the start, seconds */
    int status;         /* the last sw_sim_step status */
    sw_cli_snap *snap;  /* snapshots: every N ticks, on SIGINT/SIGTERM, final */
} run_ctx;

static void usage(FILE *out) {
    fprintf(out,
            "usage: swarmlet run SCENARIO [--ticks N] [--seed S] [--out DIR] [--quiet] [--plot FILE.png]\n"
            "\n"
            "Run a scenario file headlessly to its last tick, writing one row of statistics per\n"
            "tick (from tick 0) to DIR/stats.csv.\n"
            "\n"
            "  --ticks N        run N ticks instead of the scenario's \"ticks\"\n"
            "  --seed S         use seed S (0 to 2^53) instead of the scenario's \"seed\"\n"
            "  --out DIR        write the output into DIR (default: out/<scenario name>/),\n"
            "                   created with its parents if missing\n"
            "  --quiet, -q      no progress line (there is none either when stderr is not a terminal)\n"
            "  --plot FILE.png  draw the statistics curves into a PNG at the end (needs the viewer)\n"
            "  --snapshot-every N  snapshot every N ticks into DIR/<name>.db (and at the end);\n"
            "                   SIGINT/SIGTERM always snapshot, then exit 0 (docs/snapshots.md)\n"
            "  --help, -h       show this help\n"
            "\n"
            "The same scenario and seed always give a byte-identical stats.csv.\n"
            "Exit status: 0 success; 1 the run failed (deadlock or watchdog: the scheduler's report\n"
            "is printed; or an I/O error); 2 bad input or usage (a bad flag, a bad scenario file,\n"
            "an output directory that cannot be written).\n"
            "Scenario format: docs/scenarios.md. Agent kinds: swarmlet kinds.\n");
}

/* 0 ok, 1 --help shown, 2 usage error (message printed). */
static int parse_args(int argc, char **argv, run_opts *o) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            o->quiet = true;
            continue;
        }
        static const char *const valued[] = {"--ticks", "--seed", "--out", "--plot"};
        const char *flag = NULL, *val = NULL;
        for (size_t k = 0; k < 4 && !flag; k++) {
            size_t n = strlen(valued[k]);
            if (strcmp(a, valued[k]) == 0) {
                flag = valued[k];
                if (i + 1 >= argc) {
                    fprintf(stderr, "swarmlet run: %s needs a value (see swarmlet run --help)\n", flag);
                    return 2;
                }
                val = argv[++i];
            } else if (strncmp(a, valued[k], n) == 0 && a[n] == '=') {
                flag = valued[k];
                val = a + n + 1;
            }
        }
        if (flag) {
            if (strcmp(flag, "--ticks") == 0 || strcmp(flag, "--seed") == 0) {
                uint64_t v;
                if (!sw_cli_parse_count(val, &v)) {
                    fprintf(stderr, "swarmlet run: %s: \"%s\" is not a whole number from 0 to 2^53\n", flag, val);
                    return 2;
                }
                if (flag[2] == 't') { o->ticks = v; o->has_ticks = true; }
                else { o->seed = v; o->has_seed = true; }
            } else if (!*val) {
                fprintf(stderr, "swarmlet run: %s needs a non-empty value\n", flag);
                return 2;
            } else if (strcmp(flag, "--out") == 0) {
                o->out = val;
            } else {
                o->plot = val;
            }
            continue;
        }
        if (a[0] == '-' && a[1]) {
            fprintf(stderr, "swarmlet run: unknown option \"%s\" (options: --ticks, --seed, --out, --quiet, "
                            "--plot, --snapshot-every, --help)\n", a);
            return 2;
        }
        if (o->scenario) {
            fprintf(stderr, "swarmlet run: one scenario at a time (got \"%s\" and \"%s\")\n", o->scenario, a);
            return 2;
        }
        o->scenario = a;
    }
    if (!o->scenario) {
        fprintf(stderr, "swarmlet run: which scenario? (usage: swarmlet run SCENARIO [flags]; e.g. "
                        "swarmlet run scenarios/wolf_sheep.json)\n");
        return 2;
    }
    return 0;
}

/* mkdir -p. 0 or an errno. */
static int make_dirs(const char *path) {
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) return errno;
        buf[i] = c;
    }
    struct stat st;
    if (stat(path, &st) != 0) return errno;
    if (!S_ISDIR(st.st_mode)) return ENOTDIR;
    return 0;
}

static void format_duration(double s, char *buf, size_t cap) {
    if (!(s >= 0) || s > 1e9) {
        snprintf(buf, cap, "?");
        return;
    }
    unsigned long t = (unsigned long)(s + 0.5);
    if (t >= 3600) snprintf(buf, cap, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, cap, "%lu:%02lu", t / 60, t % 60);
}

static void draw_progress(run_ctx *c, bool last) {
    sw_tick now = sw_sim_now(c->sim), end = sw_sim_end(c->sim);
    double el = sw_cli_seconds() - c->t0;
    double rate = el > 0 ? (double)now / el : 0;
    char eta[32];
    format_duration(rate > 0 ? (double)(end - now) / rate : -1, eta, sizeof eta);
    fprintf(stderr, "\rtick %llu/%llu  %.0f ticks/s  population %u  ETA %s   ",
            (unsigned long long)now, (unsigned long long)end, rate,
            sw_sched_count(sw_world_sched(sw_sim_world(c->sim))), eta);
    if (last) fprintf(stderr, "\r%*s\r", 78, "");
    fflush(stderr);
}

/* Step to the end tick, appending each tick's row to the CSV. Returns the
 * exit status. The one place a run advances: snapshots and signal handling
 * hook in here. */
static int run_loop(run_ctx *c) {
    double next_draw = 0;
    while (sw_sim_now(c->sim) < sw_sim_end(c->sim)) {
        size_t before = sw_sim_stat_rows(c->sim);
        c->status = sw_sim_step(c->sim);
        if (sw_sim_stats_write_csv(c->sim, c->csv, before, false) != SW_OK) {
            if (c->progress) draw_progress(c, true);
            fprintf(stderr, "swarmlet run: %s: write failed: %s\n", c->csv_path, strerror(errno));
            return 1;
        }
        if (c->status != SW_OK) break;
        int sr = sw_cli_snap_tick(c->snap);
        if (sr < 0) return 1;
        if (sr) break;
        if (c->progress) {
            double t = sw_cli_seconds();
            if (t >= next_draw) {
                draw_progress(c, false);
                next_draw = t + 0.1;
            }
        }
    }
    if (c->progress) draw_progress(c, true);
    if (c->status != SW_OK) {
        sw_sched *s = sw_world_sched(sw_sim_world(c->sim));
        const char *why = sw_sched_errmsg(s);
        fprintf(stderr, "swarmlet run: %s\n", why && *why ? why : sw_status_name(c->status));
        const char *report = sw_sched_report(s);
        if (report && *report) fprintf(stderr, "%s%s", report, report[strlen(report) - 1] == '\n' ? "" : "\n");
        return 1;
    }
    return 0;
}

static void summary(const run_ctx *c, double secs) {
    const sw_sim *sim = c->sim;
    const sw_scenario *sc = sw_sim_scenario(sim);
    sw_tick now = sw_sim_now(sim);
    printf("%s: %llu ticks in %.3f s (%.0f ticks/s), seed %llu\n", sw_scenario_name(sc),
           (unsigned long long)now, secs, secs > 0 ? (double)now / secs : 0.0,
           (unsigned long long)sw_scenario_seed(sc));
    printf("final population:");
    size_t last = sw_sim_stat_rows(sim) - 1;
    const sw_kind *const *kinds = sw_scenario_kinds(sc);
    /* the count columns come right after the tick, one per kind in `agents` */
    for (int col = 1; col < sw_sim_stat_count(sim); col++) {
        bool is_kind = false;
        for (size_t k = 0; kinds[k]; k++) is_kind |= strcmp(kinds[k]->name, sw_sim_stat_name(sim, col)) == 0;
        if (!is_kind) break;
        printf("%s %s %.0f", col > 1 ? "," : "", sw_sim_stat_name(sim, col), sw_sim_stat_value(sim, last, col));
    }
    printf("\nstatistics: %s\n", c->csv_path);
}

int sw_cmd_run(int argc, char **argv) {
    run_opts o = {0};
    uint64_t snap_every = 0;
    if (sw_cli_snap_args(&argc, argv, "run", &snap_every)) return 2;
    int pr = parse_args(argc, argv, &o);
    if (pr) return pr == 1 ? 0 : 2;
#ifndef SW_HAVE_VIEWER
    if (o.plot) {
        fprintf(stderr, "swarmlet run: --plot: this build has no viewer (SDL2 was not found when it was built)\n");
        return 2;
    }
#endif
    char err[1024];
    sw_scenario *sc = sw_scenario_load(o.scenario, sw_cli_kinds(), err, sizeof err);
    if (!sc) {
        fprintf(stderr, "swarmlet run: %s\n", err);
        return 2;
    }
    if (o.has_seed) sw_scenario_set_seed(sc, o.seed);
    if (o.has_ticks) sw_scenario_set_ticks(sc, o.ticks);

    char dir[4096], csv_path[4200];
    if (o.out) snprintf(dir, sizeof dir, "%s", o.out);
    else snprintf(dir, sizeof dir, "out/%s", sw_scenario_name(sc));
    int e = make_dirs(dir);
    if (e) {
        fprintf(stderr, "swarmlet run: --out %s: cannot create the output directory: %s\n", dir, strerror(e));
        sw_scenario_free(sc);
        return 2;
    }
    snprintf(csv_path, sizeof csv_path, "%s/stats.csv", dir);
    FILE *csv = fopen(csv_path, "w");
    if (!csv) {
        fprintf(stderr, "swarmlet run: %s: cannot write the statistics: %s\n", csv_path, strerror(errno));
        sw_scenario_free(sc);
        return 2;
    }

    sw_sim *sim = sw_sim_new(sc, 0, err, sizeof err);
    if (!sim) {
        fprintf(stderr, "swarmlet run: %s\n", err);
        fclose(csv);
        remove(csv_path); /* no run, no statistics: leave no empty file behind */
        sw_scenario_free(sc);
        /* the loader has checked what it can; what is left is out of memory
           or agents that do not fit where the scenario puts them */
        return strstr(err, "out of memory") ? 1 : 2;
    }
    run_ctx c = {.sim = sim, .csv = csv, .csv_path = csv_path,
                 .progress = !o.quiet && isatty(2), .t0 = sw_cli_seconds(),
                 .snap = sw_cli_snap_begin(sim, dir, snap_every, "run")};
    int rc = 0;
    if (sw_sim_stats_write_csv(sim, csv, 0, true) != SW_OK) {
        fprintf(stderr, "swarmlet run: %s: write failed: %s\n", csv_path, strerror(errno));
        rc = 1;
    }
    if (rc == 0) rc = run_loop(&c);
    double secs = sw_cli_seconds() - c.t0;
    if (fclose(csv) != 0 && rc == 0) {
        fprintf(stderr, "swarmlet run: %s: write failed: %s\n", csv_path, strerror(errno));
        rc = 1;
    }
    rc = sw_cli_snap_end(c.snap, rc, false);
    if (rc == 0) summary(&c, secs);
#ifdef SW_HAVE_VIEWER
    if (o.plot && sw_sim_stat_rows(sim) > 0) {
        char perr[512] = "";
        if (sw_viewer_plot_png(sim, o.plot, 1000, 600, perr, sizeof perr) != SW_OK) {
            fprintf(stderr, "swarmlet run: --plot %s: %s\n", o.plot, perr);
            if (rc == 0) rc = 1;
        } else if (rc == 0) {
            printf("plot: %s\n", o.plot);
        }
    }
#endif
    sw_sim_free(sim);
    sw_scenario_free(sc);
    return rc;
}
