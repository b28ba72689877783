/* test_e2e_snapshot.c - snapshot and resume with the real binary on the real
 * scenario files.
 *
 * For each scenario: run T ticks uninterrupted; run again with snapshots;
 * resume from a snapshot in the middle, and again from a snapshot that the
 * resumed run itself wrote. The stats rows after each snapshot tick must be
 * byte-identical to the uninterrupted run's, and so must the final
 * snapshots' agent rows (id, kind, position and pickled state). Also: SIGINT
 * during a run snapshots, exits 0 and resumes exactly. */
#include <criterion/criterion.h>

#include "support.h"

#include <dirent.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The rows of stats.csv after tick `after` (header excluded). */
static char *rows_after(const char *csv_path, unsigned long long after) {
    size_t len;
    char *all = sw_test_slurp(csv_path, &len);
    cr_assert(all, "cannot read %s", csv_path);
    char *p = strchr(all, '\n');
    cr_assert(p, "%s has no header", csv_path);
    p++;
    while (*p) {
        unsigned long long t = strtoull(p, NULL, 10);
        if (t > after) break;
        char *nl = strchr(p, '\n');
        if (!nl) break;
        p = nl + 1;
    }
    char *out = strdup(p);
    free(all);
    return out;
}

/* Append the rows of a query, one line each, to a growing string. */
static void dump(sqlite3 *h, const char *sql, char **out, size_t *len, size_t *cap) {
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(h));
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const char *v = (const char *)sqlite3_column_text(st, c);
            size_t need = (v ? strlen(v) : 4) + 4;
            while (*len + need >= *cap) *out = realloc(*out, *cap *= 2);
            *len += (size_t)snprintf(*out + *len, *cap - *len, "%s%c", v ? v : "NULL", c + 1 < sqlite3_column_count(st) ? ' ' : '\n');
        }
    }
    sqlite3_finalize(st);
}

/* The latest snapshot in `db`: its agent rows (id, kind, position) and its
 * pickled agent records, as one string. */
static char *final_agents(const char *db, unsigned long long *tick) {
    sqlite3 *h;
    cr_assert_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK, "%s", db);
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    out[0] = '\0';
    dump(h, "SELECT a.id, a.kind, a.x, a.y, a.alive, a.chunk, a.pos FROM snapshot s JOIN agent a ON a.rowid >= "
            "s.first_row AND a.rowid < s.first_row + s.agents WHERE s.id = (SELECT max(id) FROM snapshot) "
            "ORDER BY a.rowid", &out, &len, &cap);
    dump(h, "SELECT c.seq, c.agents, hex(c.data) FROM snapshot s JOIN chunk c ON c.rowid >= s.first_chunk AND "
            "c.rowid < s.first_chunk + s.chunks WHERE s.id = (SELECT max(id) FROM snapshot) ORDER BY c.rowid",
         &out, &len, &cap);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(h, "SELECT tick FROM snapshot ORDER BY id DESC LIMIT 1", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    *tick = (unsigned long long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    cr_assert_gt(len, 0);
    return out;
}

static unsigned long long scenario_ticks(const char *path) {
    char *text = sw_test_slurp(path, NULL);
    cr_assert(text, "%s", path);
    const char *p = strstr(text, "\"ticks\"");
    cr_assert(p, "%s has no ticks", path);
    p = strchr(p, ':');
    unsigned long long t = strtoull(p + 1, NULL, 10);
    free(text);
    return t;
}

/* The one .db file in dir. */
static void find_db(const char *dir, char *out, size_t cap) {
    DIR *d = opendir(dir);
    cr_assert(d, "%s", dir);
    struct dirent *e;
    out[0] = '\0';
    while ((e = readdir(d)))
        if (strlen(e->d_name) > 3 && strcmp(e->d_name + strlen(e->d_name) - 3, ".db") == 0)
            snprintf(out, cap, "%s/%s", dir, e->d_name);
    closedir(d);
    cr_assert(out[0], "no snapshot database in %s", dir);
}

static void check_scenario(const char *name) {
    char scen[1024], base[1024], ref[1100], run[1100], res1[1100], res2[1100], db[1200];
    snprintf(scen, sizeof scen, "%s/scenarios/%s.json", SW_SOURCE_DIR, name);
    unsigned long long T = scenario_ticks(scen);
    if (T > 200) T = 200;
    unsigned long long K = T / 4 ? T / 4 : 1;
    snprintf(base, sizeof base, "%s", sw_test_dir(name));
    snprintf(ref, sizeof ref, "%s/ref", base);
    snprintf(run, sizeof run, "%s/run", base);
    snprintf(res1, sizeof res1, "%s/res1", base);
    snprintf(res2, sizeof res2, "%s/res2", base);
    char *out = NULL;
    /* uninterrupted, with only the final snapshot */
    int rc = sw_test_sh(&out, "%s run %s --ticks %llu --out %s -q --snapshot-every %llu", SW_BINARY, scen, T, ref, T);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    rc = sw_test_sh(&out, "%s run %s --ticks %llu --out %s -q --snapshot-every %llu", SW_BINARY, scen, T, run, K);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    find_db(run, db, sizeof db);
    /* resume from the first snapshot; the resumed run snapshots too */
    unsigned long long at1 = K, step2 = K / 2 ? K / 2 : 1;
    rc = sw_test_sh(&out, "%s resume %s --tick %llu --out %s -q --snapshot-every %llu", SW_BINARY, db, at1, res1, step2);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    char csv[1200];
    snprintf(csv, sizeof csv, "%s/stats.csv", ref);
    char *want = rows_after(csv, at1);
    snprintf(csv, sizeof csv, "%s/stats.csv", res1);
    char *got = rows_after(csv, at1);
    cr_assert(strlen(want) > 0, "%s: no rows after tick %llu", name, at1);
    cr_assert_str_eq(got, want, "%s: stats after resuming at tick %llu differ", name, at1);
    free(want);
    free(got);
    char refdb[1200];
    find_db(ref, refdb, sizeof refdb);
    unsigned long long t1 = 0, t2 = 0;
    char *a = final_agents(refdb, &t1), *b = final_agents(db, &t2);
    cr_assert_eq(t1, T);
    cr_assert_eq(t2, T);
    cr_assert(strcmp(a, b) == 0, "%s: the final snapshots' agents differ after a resume", name);
    free(b);
    /* a resume from a snapshot the resumed run wrote */
    unsigned long long at2 = (at1 / step2 + 2) * step2; /* a tick the resumed run snapshotted */
    /* Every scenario runs long enough for this; a silent skip would hide the check. */
    cr_assert_lt(at2, T, "%s: no second resume point before tick %llu", name, T);
    rc = sw_test_sh(&out, "%s resume %s --tick %llu --out %s -q", SW_BINARY, db, at2, res2);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    snprintf(csv, sizeof csv, "%s/stats.csv", ref);
    want = rows_after(csv, at2);
    snprintf(csv, sizeof csv, "%s/stats.csv", res2);
    got = rows_after(csv, at2);
    cr_assert(strlen(want) > 0, "%s: no rows after tick %llu", name, at2);
    cr_assert_str_eq(got, want, "%s: stats after a resume from a resume (tick %llu) differ", name, at2);
    free(want);
    free(got);
    b = final_agents(db, &t2);
    cr_assert(strcmp(a, b) == 0, "%s: final agents differ after a resume from a resume", name);
    free(b);
    free(a);
}

Test(e2e_snapshot, wolf_sheep) { check_scenario("wolf_sheep"); }
Test(e2e_snapshot, forest_fire) { check_scenario("forest_fire"); }
Test(e2e_snapshot, schelling) { check_scenario("schelling"); }
Test(e2e_snapshot, flocking) { check_scenario("flocking"); }
/* The benchmark flocks too: their birds sum each other's velocities as the
 * directions kept in the space index, which the snapshot must carry
 * exactly for the resumed flight to be the same (docs/models.md). */
Test(e2e_snapshot, flocking_bench_small) { check_scenario("bench/flocking_small"); }
Test(e2e_snapshot, flocking_bench_large) { check_scenario("bench/flocking_large"); }
Test(e2e_snapshot, sir) { check_scenario("sir"); }
Test(e2e_snapshot, village) { check_scenario("village"); }

Test(e2e_snapshot, every_scenario_is_covered) {
    static const char *const covered[] = {"wolf_sheep", "forest_fire", "schelling", "flocking", "sir", "village", NULL};
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/scenarios", SW_SOURCE_DIR);
    DIR *d = opendir(dir);
    cr_assert(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0) continue;
        bool found = false;
        for (int i = 0; covered[i]; i++)
            found |= strlen(covered[i]) == n - 5 && strncmp(covered[i], e->d_name, n - 5) == 0;
        cr_assert(found, "scenarios/%s has no resume test here", e->d_name);
    }
    closedir(d);
}

/* Run `scenario` for far too long to finish, send it `sig` after `secs`
 * seconds, and return its exit status with its output in *out (malloc'd). */
static int interrupt_run(const char *base, const char *scen, const char *sig, const char *secs,
                         char **out) {
    char cmd[8192], path[1200];
    snprintf(cmd, sizeof cmd, "%s run %s --ticks 100000000 --out %s/run -q > %s/out.txt 2>&1 & pid=$!; "
                              "sleep %s; kill -%s $pid; wait $pid; echo $? > %s/rc.txt",
             SW_BINARY, scen, base, base, secs, sig, base);
    cr_assert_eq(system(cmd), 0);
    snprintf(path, sizeof path, "%s/rc.txt", base);
    char *rc = sw_test_slurp(path, NULL);
    snprintf(path, sizeof path, "%s/out.txt", base);
    *out = sw_test_slurp(path, NULL);
    cr_assert(rc && *out);
    int status = atoi(rc);
    free(rc);
    return status;
}

Test(e2e_snapshot, sigint_snapshots_and_resumes_exactly) {
    char base[1024], scen[1024], path[1200];
    snprintf(base, sizeof base, "%s", sw_test_dir("sigint"));
    snprintf(scen, sizeof scen, "%s/scenarios/wolf_sheep.json", SW_SOURCE_DIR);
    char *out = NULL;
    int rc = interrupt_run(base, scen, "INT", "0.7", &out);
    cr_assert_eq(rc, 0, "exit status %d after SIGINT: %s", rc, out);
    cr_assert(strstr(out, "resume with: swarmlet resume"), "%s", out);
    const char *at = strstr(out, "interrupted at tick ");
    cr_assert(at, "%s", out);
    unsigned long long tick = strtoull(at + strlen("interrupted at tick "), NULL, 10);
    free(out);
    unsigned long long end = tick + 30;
    char *o = NULL;
    int st = sw_test_sh(&o, "%s resume %s/run/wolf_sheep.db --ticks %llu -q", SW_BINARY, base, end);
    cr_assert_eq(st, 0, "%s", o);
    free(o);
    st = sw_test_sh(&o, "%s run %s --ticks %llu --out %s/ref -q", SW_BINARY, scen, end, base);
    cr_assert_eq(st, 0, "%s", o);
    free(o);
    /* the interrupted run's stats.csv, completed by the resume, is the whole run */
    snprintf(path, sizeof path, "%s/run/stats.csv", base);
    char *got = sw_test_slurp(path, NULL);
    snprintf(path, sizeof path, "%s/ref/stats.csv", base);
    char *want = sw_test_slurp(path, NULL);
    cr_assert(got && want);
    cr_assert_str_eq(got, want, "stats.csv after SIGINT + resume differs from an uninterrupted run");
    free(got);
    free(want);
}

Test(e2e_snapshot, sigterm_snapshots_too) {
    char base[1024], scen[1024];
    snprintf(base, sizeof base, "%s", sw_test_dir("sigterm"));
    snprintf(scen, sizeof scen, "%s/scenarios/sir.json", SW_SOURCE_DIR);
    char *out = NULL;
    int rc = interrupt_run(base, scen, "TERM", "0.5", &out);
    cr_assert_eq(rc, 0, "exit status %d after SIGTERM: %s", rc, out);
    cr_assert(strstr(out, "terminated at tick"), "%s", out);
    free(out);
    char *o = NULL;
    int st = sw_test_sh(&o, "%s snapshots %s/run/sir.db", SW_BINARY, base);
    cr_assert_eq(st, 0, "%s", o);
    cr_assert(strstr(o, "terminated"), "%s", o);
    free(o);
}

Test(e2e_snapshot, bench_snapshot_runs) {
    char *out = NULL;
    int rc = sw_test_sh(&out, "%s bench snapshot --agents 5000 --quick --json --dir %s", SW_BINARY, sw_test_dir("bench"));
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "\"save_s\"") && strstr(out, "\"sqlite_insert_s\"") && strstr(out, "\"load_overhead\""),
              "%s", out);
    free(out);
}
