/* bench_snapshot.c - `swarmlet bench snapshot`: writing and loading a
 * snapshot of 1,000,000 agents, beside what SQLite itself needs for the same
 * rows, measured in the same run.
 *
 * The population is the SIR model's people (a 1000 x 1000 torus, every one
 * asleep or walking after one tick). Our figures: sw_snapshot_save (pickling
 * every agent into its row, plus the schema, state and kind tables, in one
 * WAL transaction) and sw_snapshot_load (open, load into an empty
 * simulation, close). The baseline: a fresh database with the same pragmas
 * and the same agent table, into which the same number of rows with blobs of
 * the same average size (the pickled records' bytes per agent) are inserted
 * in one transaction the way the store inserts its own agent rows (see
 * base_write), then read back with every column touched. "overhead" is ours
 * over the baseline, minus one:
 * what pickling adds. Also the peak memory during the save against the
 * simulation's own (a snapshot must not double it), and the file size. Each
 * figure is the median of 3 rounds (--rounds N, up to 9; 1 with --quick, which
 * also uses 100,000 agents: a smoke test of the command, not a measurement). */
#include "bench.h"
#include "cli.h"
#include "registry.h"
#include "snapshot.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double rss_mb(void) { /* current resident set, from /proc */
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
        fclose(f);
    }
    return (double)res * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
}

static double peak_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

/* The baseline: n rows of the agent table with `blob` bytes of state, the
 * way the snapshot store writes its own agent rows: a fresh database with the
 * same page size, journal and cache, a connection without mutexes, one
 * transaction, ROWS rows to a statement with SQLite numbering them, the
 * snapshot bound once per statement, blobs bound without a copy. */
#define ROWS 64
static double base_write(const char *path, uint64_t n, int blob) {
    unlink(path);
    double t0 = sw_cli_seconds();
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK)
        return -1;
    sqlite3_exec(db, "PRAGMA page_size=65536; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     " PRAGMA cache_size=-16384;"
                     "CREATE TABLE agent(snapshot INTEGER NOT NULL, id INTEGER NOT NULL, kind INTEGER NOT NULL,"
                     " x REAL, y REAL, alive INTEGER NOT NULL, state BLOB NOT NULL); BEGIN IMMEDIATE",
                 NULL, NULL, NULL);
    char sql[ROWS * 48 + 128];
    size_t len = (size_t)snprintf(sql, sizeof sql, "INSERT INTO agent(snapshot, id, kind, x, y, alive, state) VALUES");
    for (int r = 0; r < ROWS; r++) {
        int p = 2 + 6 * r;
        len += (size_t)snprintf(sql + len, sizeof sql - len, "%s(?1,?%d,?%d,?%d,?%d,?%d,?%d)", r ? "," : "", p,
                                p + 1, p + 2, p + 3, p + 4, p + 5);
    }
    sqlite3_stmt *st = NULL, *one = NULL;
    sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO agent(snapshot, id, kind, x, y, alive, state) VALUES(?1,?2,?3,?4,?5,?6,?7)",
                       -1, &one, NULL);
    sqlite3_bind_int64(st, 1, 1);
    sqlite3_bind_int64(one, 1, 1);
    unsigned char *data = calloc(ROWS, (size_t)blob + 1); /* a buffer per row of a statement */
    for (uint64_t i = 0; data && st && one && i < n; i++) {
        int r = (int)(i % ROWS);
        bool full = n - (i - (uint64_t)r) >= ROWS; /* else the tail, row by row */
        sqlite3_stmt *q = full ? st : one;
        int p = full ? 2 + 6 * r : 2;
        unsigned char *row = data + (size_t)r * ((size_t)blob + 1);
        row[i % (uint64_t)blob] = (unsigned char)i; /* not all-equal pages */
        sqlite3_bind_int64(q, p, (int64_t)(i | 1ull << 32));
        sqlite3_bind_int(q, p + 1, 0);
        sqlite3_bind_double(q, p + 2, (double)(i % 1000));
        sqlite3_bind_double(q, p + 3, (double)(i / 1000));
        sqlite3_bind_int(q, p + 4, 1);
        sqlite3_bind_blob(q, p + 5, row, blob, SQLITE_STATIC);
        if (!full || r == ROWS - 1) {
            sqlite3_step(q);
            sqlite3_reset(q);
        }
    }
    sqlite3_finalize(st);
    sqlite3_finalize(one);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
    free(data);
    return sw_cli_seconds() - t0;
}

static double base_read(const char *path, uint64_t n) {
    double t0 = sw_cli_seconds();
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) return -1;
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "SELECT id, kind, x, y, alive, state FROM agent WHERE rowid >= 1 AND rowid <= ? ORDER BY rowid",
                       -1, &st, NULL);
    sqlite3_bind_int64(st, 1, (int64_t)n);
    uint64_t sum = 0, rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        sum += (uint64_t)sqlite3_column_int64(st, 0) + (uint64_t)sqlite3_column_int(st, 1);
        sum += (uint64_t)(sqlite3_column_double(st, 2) + sqlite3_column_double(st, 3));
        const unsigned char *b = sqlite3_column_blob(st, 5);
        int len = sqlite3_column_bytes(st, 5);
        if (b && len) sum += b[len - 1];
        rows++;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (sum == 42) fprintf(stderr, " "); /* keep the loop */
    if (rows != n) return -1;
    return sw_cli_seconds() - t0;
}

static void usage(FILE *out) {
    fprintf(out, "usage: swarmlet bench snapshot [--agents N] [--rounds N] [--quick] [--json] [--dir DIR]\n\n"
                 "Write and load a snapshot of N agents (default 1,000,000) beside SQLite's own cost for\n"
                 "the same rows, measured in the same run (median of --rounds, default 3).\n"
                 "--quick: 100,000 agents, one round.\n"
                 "--dir: where the scratch databases go (default: /tmp).\n");
}

int sw_bench_snapshot(int argc, char **argv) {
    uint64_t agents = 1000000;
    bool json = false, quick = false, set = false;
    int rounds = 0;
    const char *dir = "/tmp";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = true;
        else if (strcmp(argv[i], "--quick") == 0) quick = true;
        else if (strcmp(argv[i], "--agents") == 0 && i + 1 < argc) {
            if (!sw_cli_parse_count(argv[++i], &agents)) { usage(stderr); return 2; }
            set = true;
        }
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) dir = argv[++i];
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) { usage(stdout); return 0; }
        else { usage(stderr); return 2; }
    }
    if (quick && !set) agents = 100000;
    if (agents < 1000 || agents > 50000000) {
        fprintf(stderr, "swarmlet bench snapshot: --agents from 1000 to 50000000\n");
        return 2;
    }
    if (rounds < 0 || rounds > 9) {
        fprintf(stderr, "swarmlet bench snapshot: --rounds from 1 to 9\n");
        return 2;
    }
    if (!rounds) rounds = quick ? 1 : 3;
    uint32_t side = 1;
    while ((uint64_t)side * side < agents) side++;
    char json_text[1024], err[1024];
    snprintf(json_text, sizeof json_text,
             "{\"format\": 1, \"name\": \"bench_snapshot\", \"description\": \"snapshot benchmark\", \"seed\": 1,"
             " \"ticks\": 10, \"world\": {\"width\": %u, \"height\": %u, \"topology\": \"torus\"},"
             " \"layers\": [{\"name\": \"infected\", \"init\": 0}],"
             " \"agents\": [{\"kind\": \"person\", \"count\": %llu, \"place\": \"cell\"}]}",
             side, side, (unsigned long long)agents);
    sw_scenario *sc = sw_scenario_parse(json_text, strlen(json_text), "bench", sw_agents_kinds, err, sizeof err);
    if (!sc) {
        fprintf(stderr, "swarmlet bench snapshot: %s\n", err);
        return 1;
    }
    sw_sim *sim = sw_sim_new(sc, 0, err, sizeof err);
    if (!sim) {
        fprintf(stderr, "swarmlet bench snapshot: %s\n", err);
        sw_scenario_free(sc);
        return 1;
    }
    sw_sim_step(sim);
    double sim_mb = rss_mb();
    char ours[1200], base[1200];
    snprintf(ours, sizeof ours, "%s/swarmlet_bench_snapshot_%d.db", dir, (int)getpid());
    snprintf(base, sizeof base, "%s/swarmlet_bench_sqlite_%d.db", dir, (int)getpid());
    double ws[9], bw[9], ls[9], br[9];
    double peak_before = peak_mb(), peak_after = 0;
    int blob = 0;
    long long file_bytes = 0;
    int rc = 0;
    const sw_pickle_env env = {sw_agents_kinds, sw_agents_funcs};
    for (int r = 0; r < rounds && rc == 0; r++) {
        char wal[1300];
        unlink(ours);
        snprintf(wal, sizeof wal, "%s-wal", ours);
        unlink(wal);
        double t0 = sw_cli_seconds();
        sw_snapshot_db *db = sw_snapshot_open(ours, SW_SNAPSHOT_CREATE, err, sizeof err);
        int64_t id = db ? sw_snapshot_save(db, sim, "bench") : 0;
        if (id <= 0) {
            fprintf(stderr, "swarmlet bench snapshot: %s\n", db ? sw_snapshot_errmsg(db) : err);
            sw_snapshot_close(db);
            rc = 1;
            break;
        }
        sw_snapshot_close(db);
        ws[r] = sw_cli_seconds() - t0;
        if (r == 0) peak_after = peak_mb(); /* later rounds have also loaded a copy */
        sqlite3 *h;
        if (sqlite3_open(ours, &h) == SQLITE_OK) {
            sqlite3_stmt *st;
            if (sqlite3_prepare_v2(h, "SELECT (SELECT sum(length(data)) FROM chunk) * 1.0 / (SELECT count(*) FROM agent)", -1, &st, NULL) == SQLITE_OK &&
                sqlite3_step(st) == SQLITE_ROW)
                blob = (int)(sqlite3_column_double(st, 0) + 0.5);
            sqlite3_finalize(st);
            sqlite3_close(h);
        }
        struct stat sb;
        if (stat(ours, &sb) == 0) file_bytes = (long long)sb.st_size;
        bw[r] = base_write(base, agents, blob > 0 ? blob : 1);
        /* load into a fresh empty simulation */
        sw_sim *empty = sw_sim_new(sc, SW_SIM_EMPTY, err, sizeof err);
        t0 = sw_cli_seconds(); /* open, load, close: as the baseline's read */
        db = sw_snapshot_open(ours, SW_SNAPSHOT_READ, err, sizeof err);
        if (!empty || !db || sw_snapshot_load(db, id, empty, &env) != SW_OK) {
            fprintf(stderr, "swarmlet bench snapshot: %s\n", db ? sw_snapshot_errmsg(db) : err);
            rc = 1;
        }
        sw_snapshot_close(db);
        ls[r] = sw_cli_seconds() - t0;
        sw_sim_free(empty);
        br[r] = base_read(base, agents);
    }
    unlink(ours);
    unlink(base);
    if (rc == 0) {
        double w = median(ws, rounds), b = median(bw, rounds), l = median(ls, rounds), rd = median(br, rounds);
        if (json) {
            printf("{\"agents\": %llu, \"rounds\": %d, \"state_bytes_per_agent\": %d, \"file_mb\": %.1f,"
                   " \"save_s\": %.3f, \"sqlite_insert_s\": %.3f, \"save_overhead\": %.3f,"
                   " \"load_s\": %.3f, \"sqlite_read_s\": %.3f, \"load_overhead\": %.3f,"
                   " \"sim_rss_mb\": %.1f, \"peak_rss_before_mb\": %.1f, \"peak_rss_after_save_mb\": %.1f}\n",
                   (unsigned long long)agents, rounds, blob, (double)file_bytes / 1048576.0, w, b, w / b - 1, l, rd,
                   l / rd - 1, sim_mb, peak_before, peak_after);
        } else {
            printf("snapshot of %llu agents (%d-byte pickled state each, %.1f MB file), median of %d:\n",
                   (unsigned long long)agents, blob, (double)file_bytes / 1048576.0, rounds);
            printf("  write: %.3f s   SQLite alone, same rows: %.3f s   pickling adds %+.0f%%\n", w, b, 100 * (w / b - 1));
            printf("  load:  %.3f s   SQLite alone, same rows: %.3f s   unpickling adds %+.0f%%\n", l, rd, 100 * (l / rd - 1));
            printf("  memory: simulation %.0f MB; peak %.0f MB before the first save, %.0f MB after\n", sim_mb,
                   peak_before, peak_after);
        }
    }
    sw_sim_free(sim);
    sw_scenario_free(sc);
    return rc;
}
