/* cmd_snapshot.c - `swarmlet resume`, `swarmlet snapshots`, `swarmlet
 * inspect`, and the snapshot hooks of the run loops (cli_snapshot.h).
 *
 * Resume rebuilds the simulation from the scenario stored in the snapshot and
 * loads the snapshot into it; stats.csv in the output directory keeps its
 * rows up to the snapshot's tick and gets the rows after it, so a run stopped
 * and resumed ends with the same file as one never stopped. Every bad input
 * (missing file, not SQLite, another database, damaged or incompatible
 * snapshot) is one message and exit status 2. */
#include "cli.h"
#include "cli_snapshot.h"
#include "probe_kinds.h"
#include "registry.h"
#include "snapshot.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- the run loops' hooks ------------------------------------------------------- */

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) { g_stop = sig; }

struct sw_cli_snap {
    sw_sim *sim;
    sw_snapshot_db *db;
    char path[4200];
    uint64_t every;
    const char *cmd;
    bool interrupted, failed;
};

int sw_cli_snap_args(int *argc, char **argv, const char *cmd, uint64_t *every) {
    *every = 0;
    int w = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i], *val = NULL;
        if (strcmp(a, "--snapshot-every") == 0) {
            if (i + 1 >= *argc) {
                fprintf(stderr, "swarmlet %s: --snapshot-every needs a number of ticks\n", cmd);
                return 2;
            }
            val = argv[++i];
        } else if (strncmp(a, "--snapshot-every=", 17) == 0) {
            val = a + 17;
        } else {
            argv[w++] = argv[i];
            continue;
        }
        if (!sw_cli_parse_count(val, every) || *every == 0) {
            fprintf(stderr, "swarmlet %s: --snapshot-every: \"%s\" is not a whole number of ticks from 1 to 2^53\n",
                    cmd, val);
            return 2;
        }
    }
    *argc = w;
    argv[w] = NULL;
    return 0;
}

sw_cli_snap *sw_cli_snap_begin(sw_sim *sim, const char *dir, uint64_t every, const char *cmd) {
    sw_cli_snap *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->sim = sim;
    c->cmd = cmd;
    c->every = every ? every : sw_scenario_snapshot_every(sw_sim_scenario(sim));
    snprintf(c->path, sizeof c->path, "%s/%s.db", dir, sw_scenario_name(sw_sim_scenario(sim)));
    g_stop = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return c;
}

/* Write a snapshot now; false (message printed) on failure. */
static bool snap_now(sw_cli_snap *c, const char *reason) {
    char err[1200];
    if (!c->db) {
        if (strcmp(c->cmd, "run") == 0) {
            /* one database per run: a new run replaces the last one's, as it
               replaces its stats.csv (resume appends to its own) */
            char side[4300];
            unlink(c->path);
            snprintf(side, sizeof side, "%s-wal", c->path);
            unlink(side);
            snprintf(side, sizeof side, "%s-shm", c->path);
            unlink(side);
        }
        c->db = sw_snapshot_open(c->path, SW_SNAPSHOT_CREATE, err, sizeof err);
        if (!c->db) {
            fprintf(stderr, "\nswarmlet %s: cannot write snapshots: %s\n", c->cmd, err);
            c->failed = true;
            return false;
        }
    }
    if (sw_snapshot_save(c->db, c->sim, reason) <= 0) {
        fprintf(stderr, "\nswarmlet %s: snapshot at tick %llu failed: %s\n", c->cmd,
                (unsigned long long)sw_sim_now(c->sim), sw_snapshot_errmsg(c->db));
        c->failed = true;
        return false;
    }
    return true;
}

int sw_cli_snap_tick(sw_cli_snap *c) {
    if (!c) return 0;
    sw_tick now = sw_sim_now(c->sim);
    if (g_stop) {
        c->interrupted = true;
        if (!snap_now(c, g_stop == SIGTERM ? "terminated" : "interrupted")) return -1;
        fprintf(stderr, "\nswarmlet %s: %s at tick %llu; snapshot written to %s\n"
                        "resume with: swarmlet resume %s\n", c->cmd, g_stop == SIGTERM ? "terminated" : "interrupted",
                (unsigned long long)now, c->path, c->path);
        return 1;
    }
    if (c->every && now % c->every == 0 && now < sw_sim_end(c->sim)) {
        char reason[64];
        snprintf(reason, sizeof reason, "every %llu ticks", (unsigned long long)c->every);
        if (!snap_now(c, reason)) return -1;
    }
    return 0;
}

int sw_cli_snap_end(sw_cli_snap *c, int rc, bool always) {
    if (!c) return rc;
    if (rc == 0 && !c->interrupted && (c->every || always)) {
        if (!snap_now(c, "final")) rc = 1;
        else printf("snapshots: %s\n", c->path);
    } else if (c->failed && rc == 0) {
        rc = 1;
    }
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sw_snapshot_close(c->db);
    free(c);
    return rc;
}

/* ---- shared bits ------------------------------------------------------------------- */

static const sw_pickle_env *cli_env(void) {
    static sw_pickle_env env;
    env.kinds = sw_cli_kinds();
    env.funcs = sw_agents_funcs;
    return &env;
}

static bool want_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return true;
    return false;
}

/* The value of a flag at argv[*i] ("--x V" or "--x=V"); NULL if argv[*i] is
 * not that flag. *bad is set when it is but has no value. */
static const char *flag_value(int argc, char **argv, int *i, const char *flag, bool *bad) {
    size_t n = strlen(flag);
    if (strcmp(argv[*i], flag) == 0) {
        if (*i + 1 >= argc) {
            *bad = true;
            return NULL;
        }
        return argv[++*i];
    }
    if (strncmp(argv[*i], flag, n) == 0 && argv[*i][n] == '=') return argv[*i] + n + 1;
    return NULL;
}

/* ---- swarmlet resume ------------------------------------------------------------------ */

static void resume_usage(FILE *out) {
    fprintf(out,
            "usage: swarmlet resume DB [--snapshot ID | --tick T] [--ticks N] [--out DIR] [--quiet]\n"
            "                          [--snapshot-every N]\n"
            "\n"
            "Continue a run from a snapshot (the latest unless one is named) to its end tick,\n"
            "exactly as if it had never stopped.\n"
            "\n"
            "  --snapshot ID       resume from the snapshot with this id (see swarmlet snapshots)\n"
            "  --tick T            resume from the latest snapshot taken at tick T\n"
            "  --ticks N           run to tick N instead of the run's end tick\n"
            "  --out DIR           write stats.csv there (default: the database's directory); rows\n"
            "                      after the snapshot's tick replace any already in DIR/stats.csv\n"
            "  --snapshot-every N  snapshot every N ticks (default: the scenario's)\n"
            "  --quiet, -q         no progress line\n"
            "\n"
            "Further snapshots, and a final one, go into the same database.\n"
            "Exit status: 0 done; 1 the run failed (deadlock, watchdog, I/O); 2 bad input: a missing\n"
            "or damaged database, a snapshot made by code that lacks a kind, function or resume point.\n");
}

/* Prepare DIR/stats.csv: keep the header and the rows up to `tick`, or start
 * it with a header. Returns the file open for appending, or NULL. */
static FILE *open_stats(const sw_sim *sim, const char *path, sw_tick tick) {
    FILE *old = fopen(path, "r");
    char *keep = NULL;
    size_t klen = 0;
    if (old) {
        FILE *mem = open_memstream(&keep, &klen);
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        bool first = true;
        while (mem && (n = getline(&line, &cap, old)) > 0) {
            if (!first) {
                char *end;
                unsigned long long t = strtoull(line, &end, 10);
                if (end == line || t > tick) break;
            }
            first = false;
            fwrite(line, 1, (size_t)n, mem);
        }
        free(line);
        fclose(old);
        if (mem) fclose(mem);
    }
    FILE *f = fopen(path, "w");
    if (f && keep && klen) fwrite(keep, 1, klen, f);
    else if (f) sw_sim_stats_write_csv(sim, f, sw_sim_stat_rows(sim), true); /* the header alone */
    free(keep);
    return f;
}

int sw_cmd_resume(int argc, char **argv) {
    if (want_help(argc, argv)) {
        resume_usage(stdout);
        return 0;
    }
    uint64_t every = 0;
    if (sw_cli_snap_args(&argc, argv, "resume", &every)) return 2;
    const char *dbpath = NULL, *out = NULL;
    int64_t id = 0, tick = -1;
    uint64_t ticks = 0;
    bool quiet = false;
    for (int i = 1; i < argc; i++) {
        bool bad = false;
        const char *v;
        uint64_t num;
        if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            quiet = true;
        } else if ((v = flag_value(argc, argv, &i, "--snapshot", &bad)) || bad) {
            if (bad || !sw_cli_parse_count(v, &num) || num == 0) goto badval;
            id = (int64_t)num;
        } else if ((v = flag_value(argc, argv, &i, "--tick", &bad)) || bad) {
            if (bad || !sw_cli_parse_count(v, &num)) goto badval;
            tick = (int64_t)num;
        } else if ((v = flag_value(argc, argv, &i, "--ticks", &bad)) || bad) {
            if (bad || !sw_cli_parse_count(v, &num) || num == 0) goto badval;
            ticks = num;
        } else if ((v = flag_value(argc, argv, &i, "--out", &bad)) || bad) {
            if (bad || !*v) goto badval;
            out = v;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "swarmlet resume: unknown option \"%s\" (options: --snapshot, --tick, --ticks, --out, "
                            "--snapshot-every, --quiet, --help)\n", argv[i]);
            return 2;
        } else if (dbpath) {
            fprintf(stderr, "swarmlet resume: one database at a time (got \"%s\" and \"%s\")\n", dbpath, argv[i]);
            return 2;
        } else {
            dbpath = argv[i];
        }
        continue;
    badval:
        fprintf(stderr, "swarmlet resume: %s needs a valid value (see swarmlet resume --help)\n", argv[i]);
        return 2;
    }
    if (!dbpath) {
        fprintf(stderr, "swarmlet resume: which database? (usage: swarmlet resume DB [flags]; e.g. "
                        "swarmlet resume out/wolf_sheep/wolf_sheep.db)\n");
        return 2;
    }
    if (id > 0 && tick >= 0) {
        fprintf(stderr, "swarmlet resume: --snapshot and --tick both name a snapshot: give one\n");
        return 2;
    }
    char err[1400];
    sw_snapshot_db *db = sw_snapshot_open(dbpath, SW_SNAPSHOT_WRITE, err, sizeof err);
    if (!db) {
        fprintf(stderr, "swarmlet resume: %s\n", err);
        return 2;
    }
    sw_scenario *sc = NULL;
    double t0 = sw_cli_seconds();
    sw_sim *sim = sw_snapshot_resume(db, id, tick, ticks, cli_env(), &sc, err, sizeof err);
    sw_snapshot_close(db);
    if (!sim) {
        fprintf(stderr, "swarmlet resume: %s\n", err);
        return 2;
    }
    double tload = sw_cli_seconds() - t0;
    sw_tick from = sw_sim_now(sim);
    char dir[4096], csv_path[4200];
    if (out) {
        snprintf(dir, sizeof dir, "%s", out);
        mkdir(dir, 0777);
    } else {
        snprintf(dir, sizeof dir, "%s", dbpath);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = '\0';
        else snprintf(dir, sizeof dir, ".");
    }
    snprintf(csv_path, sizeof csv_path, "%s/stats.csv", dir);
    FILE *csv = open_stats(sim, csv_path, from);
    if (!csv) {
        fprintf(stderr, "swarmlet resume: %s: cannot write the statistics: %s\n", csv_path, strerror(errno));
        sw_sim_free(sim);
        sw_scenario_free(sc);
        return 2;
    }
    /* snapshots go into the database resumed from, wherever the CSV goes */
    char dbdir[4096];
    snprintf(dbdir, sizeof dbdir, "%s", dbpath);
    char *slash = strrchr(dbdir, '/');
    if (slash) *slash = '\0';
    else snprintf(dbdir, sizeof dbdir, ".");
    sw_cli_snap *snap = sw_cli_snap_begin(sim, dbdir, every, "resume");
    snprintf(snap->path, sizeof snap->path, "%s", dbpath);
    int rc = 0, status = SW_OK;
    bool progress = !quiet && isatty(2);
    while (sw_sim_now(sim) < sw_sim_end(sim)) {
        size_t before = sw_sim_stat_rows(sim);
        status = sw_sim_step(sim);
        if (sw_sim_stats_write_csv(sim, csv, before, false) != SW_OK) {
            fprintf(stderr, "swarmlet resume: %s: write failed: %s\n", csv_path, strerror(errno));
            rc = 1;
            break;
        }
        if (status != SW_OK) break;
        if (progress && sw_sim_now(sim) % 16 == 0)
            fprintf(stderr, "\rtick %llu/%llu", (unsigned long long)sw_sim_now(sim), (unsigned long long)sw_sim_end(sim));
        int r = sw_cli_snap_tick(snap);
        if (r < 0) rc = 1;
        if (r) break;
    }
    if (progress) fprintf(stderr, "\r%40s\r", "");
    if (status != SW_OK) {
        sw_sched *s = sw_world_sched(sw_sim_world(sim));
        fprintf(stderr, "swarmlet resume: %s: %s\n%s", sw_status_name(status), sw_sched_errmsg(s), sw_sched_report(s));
        rc = 1;
    }
    if (fclose(csv) != 0 && rc == 0) rc = 1;
    rc = sw_cli_snap_end(snap, rc, sw_sim_now(sim) > from); /* a final one, unless nothing ran */
    if (rc == 0)
        printf("%s: resumed at tick %llu (loaded in %.3f s), ran to tick %llu in %.3f s\nstatistics: %s\n",
               sw_scenario_name(sc), (unsigned long long)from, tload, (unsigned long long)sw_sim_now(sim),
               sw_cli_seconds() - t0, csv_path);
    sw_sim_free(sim);
    sw_scenario_free(sc);
    return rc;
}

/* ---- swarmlet snapshots ------------------------------------------------------------------ */

int sw_cmd_snapshots(int argc, char **argv) {
    if (want_help(argc, argv)) {
        printf("usage: swarmlet snapshots DB\n\nList the snapshots in a database: id, tick, when, why, and agents by kind.\n"
               "Exit status: 0, or 2 for a missing or wrong file.\n");
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "swarmlet snapshots: usage: swarmlet snapshots DB\n");
        return 2;
    }
    char err[1400];
    sw_snapshot_db *db = sw_snapshot_open(argv[1], SW_SNAPSHOT_READ, err, sizeof err);
    if (!db) {
        fprintf(stderr, "swarmlet snapshots: %s\n", err);
        return 2;
    }
    sw_snapshot_info *list;
    size_t n;
    if (sw_snapshot_list(db, &list, &n) != SW_OK) {
        fprintf(stderr, "swarmlet snapshots: %s\n", sw_snapshot_errmsg(db));
        sw_snapshot_close(db);
        return 2;
    }
    printf("%4s %8s  %-20s  %-18s %9s  %s\n", "id", "tick", "taken at (UTC)", "reason", "agents", "by kind");
    for (size_t i = 0; i < n; i++)
        printf("%4lld %8llu  %-20s  %-18s %9llu  %s\n", (long long)list[i].id, (unsigned long long)list[i].tick,
               list[i].taken_at, list[i].reason, (unsigned long long)list[i].agents, list[i].kinds);
    if (n == 0) printf("(no snapshots)\n");
    free(list);
    sw_snapshot_close(db);
    return 0;
}

/* ---- swarmlet inspect ------------------------------------------------------------------ */

static void inspect_usage(FILE *out) {
    fprintf(out, "usage: swarmlet inspect DB [--snapshot ID] [--agent ID] [--json]\n\n"
                 "Show a snapshot (the latest unless named): its tick and population by kind; or one\n"
                 "agent: its fields by name and its tasklet (resume point, what it waits on or when it\n"
                 "wakes), decoded from the schema stored in the snapshot, without the agent's code.\n"
                 "An agent ID is the full id or its slot number (as `#12` in listings).\n"
                 "Exit status: 0, or 2 for a missing or wrong file, snapshot or agent.\n");
}

/* The world summary: the snapshot, the scenario's world, agents by kind and
 * by what their tasklets are doing. */
static int inspect_summary(sw_snapshot_db *db, int64_t id, bool json) {
    sw_snapshot_info *list = NULL, *me = NULL;
    size_t n = 0, nk = 0;
    sw_snapshot_census *census = NULL;
    if (sw_snapshot_list(db, &list, &n) != SW_OK || sw_snapshot_census_of(db, id, &census, &nk) != SW_OK) {
        fprintf(stderr, "swarmlet inspect: %s\n", sw_snapshot_errmsg(db));
        free(list);
        return 2;
    }
    for (size_t i = 0; i < n; i++)
        if (list[i].id == id) me = &list[i];
    char *text = sw_snapshot_scenario(db, id);
    cJSON *sc = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(sc, "name");
    const cJSON *world = cJSON_GetObjectItemCaseSensitive(sc, "world");
    const cJSON *wd = cJSON_GetObjectItemCaseSensitive(world, "width"), *ht = cJSON_GetObjectItemCaseSensitive(world, "height");
    const cJSON *topo = cJSON_GetObjectItemCaseSensitive(world, "topology");
    const char *nm = cJSON_IsString(name) ? name->valuestring : "?";
    const char *tp = cJSON_IsString(topo) ? topo->valuestring : "bounded";
    int w = cJSON_IsNumber(wd) ? wd->valueint : 0, h = cJSON_IsNumber(ht) ? ht->valueint : 0;
    if (!me) {
        fprintf(stderr, "swarmlet inspect: snapshot %lld vanished\n", (long long)id);
    } else if (json) {
        cJSON *o = cJSON_CreateObject(), *wo = cJSON_CreateObject(), *ks = cJSON_CreateArray();
        cJSON_AddNumberToObject(o, "snapshot", (double)me->id);
        cJSON_AddNumberToObject(o, "tick", (double)me->tick);
        cJSON_AddStringToObject(o, "taken_at", me->taken_at);
        cJSON_AddStringToObject(o, "reason", me->reason);
        cJSON_AddStringToObject(o, "scenario", nm);
        cJSON_AddNumberToObject(wo, "width", w);
        cJSON_AddNumberToObject(wo, "height", h);
        cJSON_AddStringToObject(wo, "topology", tp);
        cJSON_AddItemToObject(o, "world", wo);
        cJSON_AddNumberToObject(o, "agents", (double)me->agents);
        for (size_t k = 0; k < nk; k++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "kind", census[k].kind);
            cJSON_AddNumberToObject(e, "runnable", (double)census[k].runnable);
            cJSON_AddNumberToObject(e, "sleeping", (double)census[k].sleeping);
            cJSON_AddNumberToObject(e, "receiving", (double)census[k].receiving);
            cJSON_AddNumberToObject(e, "sending", (double)census[k].sending);
            cJSON_AddNumberToObject(e, "killed", (double)census[k].killed);
            cJSON_AddItemToArray(ks, e);
        }
        cJSON_AddItemToObject(o, "kinds", ks);
        char *text_out = cJSON_PrintUnformatted(o);
        if (text_out) printf("%s\n", text_out);
        free(text_out);
        cJSON_Delete(o);
    } else {
        printf("snapshot %lld of \"%s\" at tick %llu (%s, %s UTC), Swarmlet %s\n", (long long)me->id, nm,
               (unsigned long long)me->tick, me->reason, me->taken_at, me->engine_version);
        printf("world: %dx%d %s\nagents: %llu\n", w, h, tp, (unsigned long long)me->agents);
        printf("  %-16s %9s %9s %9s %9s %9s\n", "kind", "runnable", "sleeping", "receiving", "sending", "killed");
        for (size_t k = 0; k < nk; k++)
            printf("  %-16s %9llu %9llu %9llu %9llu %9llu\n", census[k].kind, (unsigned long long)census[k].runnable,
                   (unsigned long long)census[k].sleeping, (unsigned long long)census[k].receiving,
                   (unsigned long long)census[k].sending, (unsigned long long)census[k].killed);
        printf("one agent: swarmlet inspect %s --snapshot %lld --agent ID\n", sw_snapshot_path(db), (long long)me->id);
    }
    cJSON_Delete(sc);
    free(list);
    free(census);
    return me ? 0 : 2;
}

int sw_cmd_inspect(int argc, char **argv) {
    if (want_help(argc, argv)) {
        inspect_usage(stdout);
        return 0;
    }
    const char *dbpath = NULL;
    int64_t id = 0;
    uint64_t agent = 0;
    bool has_agent = false, json = false;
    for (int i = 1; i < argc; i++) {
        bool bad = false;
        const char *v;
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if ((v = flag_value(argc, argv, &i, "--snapshot", &bad)) || bad) {
            uint64_t num;
            if (bad || !sw_cli_parse_count(v, &num) || !num) goto badval;
            id = (int64_t)num;
        } else if ((v = flag_value(argc, argv, &i, "--agent", &bad)) || bad) {
            if (bad) goto badval;
            if (*v == '#') v++;
            char *end;
            errno = 0;
            agent = strtoull(v, &end, 10);
            if (!*v || *end || errno) goto badval;
            has_agent = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "swarmlet inspect: unknown option \"%s\" (options: --snapshot, --agent, --json)\n", argv[i]);
            return 2;
        } else if (dbpath) {
            fprintf(stderr, "swarmlet inspect: one database at a time\n");
            return 2;
        } else {
            dbpath = argv[i];
        }
        continue;
    badval:
        fprintf(stderr, "swarmlet inspect: %s needs a valid value (see swarmlet inspect --help)\n", argv[i]);
        return 2;
    }
    if (!dbpath) {
        inspect_usage(stderr);
        return 2;
    }
    char err[1400];
    sw_snapshot_db *db = sw_snapshot_open(dbpath, SW_SNAPSHOT_READ, err, sizeof err);
    if (!db) {
        fprintf(stderr, "swarmlet inspect: %s\n", err);
        return 2;
    }
    int rc = 0;
    int64_t found = sw_snapshot_find(db, id, -1);
    if (!found) {
        fprintf(stderr, "swarmlet inspect: %s\n", sw_snapshot_errmsg(db));
        sw_snapshot_close(db);
        return 2;
    }
    if (has_agent) {
        sw_pickle_buf out = {0};
        int r = sw_snapshot_describe_agent(db, found, agent, json, &out);
        if (r != SW_OK) {
            fprintf(stderr, "swarmlet inspect: %s: snapshot %lld has no agent %llu\n", dbpath, (long long)found,
                    (unsigned long long)agent);
            rc = 2;
        } else {
            fwrite(out.data, 1, out.len, stdout);
            if (json) printf("\n");
        }
        sw_pickle_buf_fini(&out);
    } else {
        rc = inspect_summary(db, found, json);
    }
    sw_snapshot_close(db);
    return rc;
}
