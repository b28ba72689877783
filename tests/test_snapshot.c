/* test_snapshot.c - the SQLite store: save and load in process, every class
 * of bad file through the real binary (exit status 2 and a message), and
 * kill -9 in the middle of a write. */
#include <criterion/criterion.h>

#include "registry.h"
#include "snapshot.h"
#include "support.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const sw_pickle_env env = {sw_agents_kinds, sw_agents_funcs};

static sw_scenario *scenario(const char *name, sw_tick ticks) {
    char path[1024], err[1024];
    snprintf(path, sizeof path, "%s/scenarios/%s.json", SW_SOURCE_DIR, name);
    sw_scenario *sc = sw_scenario_load(path, sw_agents_kinds, err, sizeof err);
    cr_assert(sc, "%s", err);
    if (ticks) sw_scenario_set_ticks(sc, ticks);
    return sc;
}

static sw_pickle_buf pickle_sim(const sw_sim *sim) {
    sw_pickle_buf b = {0};
    char err[256];
    sw_pickle_section sec = sw_pickle_world_section(sw_sim_world(sim));
    cr_assert_eq(sw_pickle_save(sw_world_sched(sw_sim_world(sim)), &sec, 1, &b, err, sizeof err), SW_OK, "%s", err);
    return b;
}

/* Run `sc` for `ticks` ticks, save one snapshot to a new database at `path`,
 * and free the simulation and `sc`. */
static void save_after(const char *path, sw_scenario *sc, int ticks) {
    char err[1024];
    sw_sim *sim = sw_sim_new(sc, 0, err, sizeof err);
    cr_assert(sim, "%s", err);
    for (int i = 0; i < ticks; i++) sw_sim_step(sim);
    sw_snapshot_db *db = sw_snapshot_open(path, SW_SNAPSHOT_CREATE, err, sizeof err);
    cr_assert(db, "%s", err);
    cr_assert_gt(sw_snapshot_save(db, sim, "test"), 0, "%s", sw_snapshot_errmsg(db));
    sw_snapshot_close(db);
    sw_sim_free(sim);
    sw_scenario_free(sc);
}

/* A database with one wolf-sheep snapshot at tick 30. */
static void make_db(const char *path) { save_after(path, scenario("wolf_sheep", 100), 30); }

Test(snapshot, save_then_resume_is_the_same_simulation) {
    const char *dir = sw_test_dir("roundtrip");
    char path[1200], err[1024];
    snprintf(path, sizeof path, "%s/ws.db", dir);
    sw_scenario *sc = scenario("wolf_sheep", 100);
    sw_sim *sim = sw_sim_new(sc, 0, err, sizeof err);
    cr_assert(sim, "%s", err);
    for (int i = 0; i < 37; i++) sw_sim_step(sim);
    sw_snapshot_db *db = sw_snapshot_open(path, SW_SNAPSHOT_CREATE, err, sizeof err);
    cr_assert(db, "%s", err);
    int64_t id = sw_snapshot_save(db, sim, "test");
    cr_assert_eq(id, 1, "%s", sw_snapshot_errmsg(db));
    sw_scenario *sc2 = NULL;
    sw_sim *back = sw_snapshot_resume(db, 0, -1, 0, &env, &sc2, err, sizeof err);
    cr_assert(back, "%s", err);
    cr_assert_eq(sw_sim_now(back), 37);
    sw_pickle_buf a = pickle_sim(sim), b = pickle_sim(back);
    cr_assert_eq(a.len, b.len);
    cr_assert(memcmp(a.data, b.data, a.len) == 0, "the loaded simulation pickles differently");
    /* and they stay together */
    for (int i = 0; i < 20; i++) cr_assert_eq(sw_sim_step(sim), sw_sim_step(back));
    for (int c = 0; c < sw_sim_stat_count(sim); c++)
        cr_assert_eq(sw_sim_stat_value(sim, sw_sim_stat_rows(sim) - 1, c),
                     sw_sim_stat_value(back, sw_sim_stat_rows(back) - 1, c), "column %d", c);
    sw_snapshot_info *list;
    size_t n;
    cr_assert_eq(sw_snapshot_list(db, &list, &n), SW_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(list[0].tick, 37);
    cr_assert(strstr(list[0].kinds, "sheep"), "%s", list[0].kinds);
    free(list);
    sw_pickle_buf_fini(&a);
    sw_pickle_buf_fini(&b);
    sw_sim_free(back);
    sw_scenario_free(sc2);
    sw_snapshot_close(db);
    sw_sim_free(sim);
    sw_scenario_free(sc);
}

Test(snapshot, file_identifies_itself_and_is_queryable) {
    const char *dir = sw_test_dir("sql");
    char path[1200];
    snprintf(path, sizeof path, "%s/ws.db", dir);
    make_db(path);
    char *out = NULL;
    int rc = sw_test_sh(&out, "sqlite3 '%s' 'PRAGMA application_id; PRAGMA integrity_check; "
                              "SELECT kind, count(*) FROM agents WHERE snapshot = 1 GROUP BY kind ORDER BY kind;'", path);
    cr_assert_eq(rc, 0, "%s", out);
    char want[64];
    snprintf(want, sizeof want, "%d\nok\n", SW_SNAPSHOT_APP_ID);
    cr_assert(strncmp(out, want, strlen(want)) == 0, "%s", out);
    cr_assert(strstr(out, "grass|1600"), "%s", out);
    free(out);
}

/* ---- bad files through the binary ----------------------------------------------- */

static void expect_2(const char *what, const char *needle, const char *fmt, const char *arg) {
    char *out = NULL;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, fmt, arg);
    int rc = sw_test_sh(&out, "%s %s", SW_BINARY, cmd);
    cr_assert_eq(rc, 2, "%s: exit status %d, output: %s", what, rc, out);
    cr_assert(strstr(out, needle), "%s: the message does not say \"%s\": %s", what, needle, out);
    cr_assert(!strstr(out, "Sanitizer"), "%s", out);
    free(out);
}

Test(snapshot, bad_files_exit_2_with_a_message) {
    const char *dir = sw_test_dir("bad");
    char p[1200], q[1300];
    snprintf(p, sizeof p, "%s/missing.db", dir);
    expect_2("missing", "no such file", "resume %s", p);
    expect_2("missing", "no such file", "snapshots %s", p);
    snprintf(p, sizeof p, "%s/text.db", dir);
    cr_assert_eq(sw_test_write(p, "this is not a database at all, just some text that is long enough\n"), 0);
    expect_2("text", "not an SQLite database", "resume %s", p);
    expect_2("text", "not an SQLite database", "inspect %s", p);
    snprintf(p, sizeof p, "%s/empty.db", dir);
    cr_assert_eq(sw_test_write(p, ""), 0);
    expect_2("empty", "an empty file", "resume %s", p);
    snprintf(p, sizeof p, "%s/other.db", dir);
    cr_assert_eq(sw_test_sh(NULL, "sqlite3 '%s' 'CREATE TABLE t(x); INSERT INTO t VALUES(1);'", p), 0);
    expect_2("another SQLite file", "not Swarmlet snapshots", "resume %s", p);
    snprintf(p, sizeof p, "%s/good.db", dir);
    make_db(p);
    expect_2("no such snapshot", "no snapshot with id 9", "resume %s --snapshot 9", p);
    expect_2("no such tick", "no snapshot at tick 5", "resume %s --tick 5", p);
    /* truncated: half the file */
    snprintf(q, sizeof q, "%s/half.db", dir);
    cr_assert_eq(sw_test_sh(NULL, "head -c $(( $(stat -c %%s '%s') / 2 )) '%s' > '%s'", p, p, q), 0);
    expect_2("truncated", "half.db", "resume %s", q);
}

/* Flip bit 0 of byte `at` of blob column `col` of one row. */
static void flip_bit(const char *db, const char *table, const char *col, const char *where, int at) {
    sqlite3 *h;
    sqlite3_stmt *st;
    char sql[256];
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE %s", col, table, where);
    cr_assert_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_bytes(st, 0);
    cr_assert_gt(n, at);
    unsigned char *blob = malloc((size_t)n);
    memcpy(blob, sqlite3_column_blob(st, 0), (size_t)n);
    sqlite3_finalize(st);
    blob[at] ^= 1;
    snprintf(sql, sizeof sql, "UPDATE %s SET %s = ? WHERE %s", table, col, where);
    cr_assert_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_blob(st, 1, blob, n, SQLITE_TRANSIENT);
    cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(h);
    free(blob);
}

Test(snapshot, damaged_state_exits_2) {
    const char *dir = sw_test_dir("flip");
    char p[1200];
    snprintf(p, sizeof p, "%s/ws.db", dir);
    make_db(p);
    /* one bit flipped in the middle of an agent's pickled frame */
    flip_bit(p, "chunk", "data", "rowid = 1", 3000);
    expect_2("flipped agent", "damaged", "resume %s", p);
    flip_bit(p, "chunk", "data", "rowid = 1", 3000); /* undone */
    flip_bit(p, "snapshot", "state", "id = 1", 40);
    expect_2("damaged state", "damaged", "resume %s", p);
}

/* ---- snapshots made by other code ------------------------------------------------- */

typedef struct { int32_t naps; } ghost;

static sw_step ghost_run(sw_tasklet *t, void *frame) {
    ghost *f = frame;
    SW_BEGIN(t, haunt);
    for (;;) {
        SW_SLEEP(t, haunt, 2);
        f->naps++;
    }
    SW_END(t);
}
static const sw_field ghost_fields[] = {SW_FIELD(ghost, naps, SW_T_I32), SW_FIELD_END};
static const sw_kind ghost_kind = {.name = "ghost", .frame_size = sizeof(ghost), .fields = ghost_fields,
                                   .run = ghost_run, .place = SW_PLACE_CELL};

static sw_step old_sheep_run(sw_tasklet *t, void *frame) {
    SW_BEGIN(t, graze_in_version_0);
    for (;;) SW_SLEEP(t, graze_in_version_0, 3);
    SW_END(t);
}
static const sw_kind old_sheep = {.name = "sheep", .frame_size = sizeof(ghost), .fields = ghost_fields,
                                  .run = old_sheep_run, .place = SW_PLACE_CELL};

static void db_with(const char *path, const sw_kind *kind) {
    const sw_kind *kinds[] = {kind, NULL};
    char json[512], err[1024];
    snprintf(json, sizeof json, "{\"format\": 1, \"name\": \"other\", \"description\": \"x\", \"seed\": 1, "
                                "\"ticks\": 50, \"world\": {\"width\": 8, \"height\": 8}, "
                                "\"agents\": [{\"kind\": \"%s\", \"count\": 5, \"place\": \"cell\"}]}", kind->name);
    sw_scenario *sc = sw_scenario_parse(json, strlen(json), "test", kinds, err, sizeof err);
    cr_assert(sc, "%s", err);
    save_after(path, sc, 5);
}

Test(snapshot, code_lacking_a_kind_or_resume_point_exits_2) {
    const char *dir = sw_test_dir("other");
    char p[1200];
    snprintf(p, sizeof p, "%s/ghost.db", dir);
    db_with(p, &ghost_kind);
    expect_2("unknown kind", "\"ghost\"", "resume %s", p);
    snprintf(p, sizeof p, "%s/oldsheep.db", dir);
    db_with(p, &old_sheep);
    expect_2("unknown resume point", "sheep:graze_in_version_0", "resume %s", p);
    /* inspect needs no code: it still shows the old sheep */
    char *out = NULL;
    int rc = sw_test_sh(&out, "%s inspect %s --agent 0", SW_BINARY, p);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "graze_in_version_0") && strstr(out, "naps"), "%s", out);
    free(out);
}

/* ---- kill -9 in the middle of writing ------------------------------------------------ */

Test(snapshot, kill_9_mid_write_keeps_earlier_snapshots) {
    const char *dir = sw_test_dir("kill");
    char path[1200];
    snprintf(path, sizeof path, "%s/ff.db", dir);
    for (int round = 0; round < 3; round++) {
        int fds[2];
        cr_assert_eq(pipe(fds), 0);
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            char err[1024];
            sw_scenario *sc = scenario("forest_fire", 1000);
            sw_sim *sim = sw_sim_new(sc, 0, err, sizeof err);
            sw_snapshot_db *db = sw_snapshot_open(path, SW_SNAPSHOT_CREATE, err, sizeof err);
            if (!sim || !db) _exit(3);
            for (;;) { /* until killed */
                sw_sim_step(sim);
                if (sw_snapshot_save(db, sim, "kill test") <= 0) _exit(4);
                if (write(fds[1], "x", 1) != 1) _exit(5);
            }
        }
        close(fds[1]);
        char c;
        cr_assert_eq(read(fds[0], &c, 1), 1, "the writer died before its first snapshot");
        usleep(1000u * (unsigned)(7 + 11 * round)); /* somewhere inside a later write */
        kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        close(fds[0]);
        cr_assert(WIFSIGNALED(st), "the writer exited by itself (%d)", WEXITSTATUS(st));
    }
    char *out = NULL;
    int rc = sw_test_sh(&out, "sqlite3 '%s' 'PRAGMA integrity_check'", path);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_str_eq(out, "ok\n");
    free(out);
    char err[1024];
    sw_snapshot_db *db = sw_snapshot_open(path, SW_SNAPSHOT_READ, err, sizeof err);
    cr_assert(db, "%s", err);
    sw_snapshot_info *list;
    size_t n;
    cr_assert_eq(sw_snapshot_list(db, &list, &n), SW_OK);
    cr_assert_geq(n, 3);
    for (size_t i = 0; i < n; i++) cr_assert_gt(list[i].agents, 0, "snapshot %zu is empty", i);
    sw_tick last = list[n - 1].tick;
    free(list);
    sw_snapshot_close(db);
    rc = sw_test_sh(&out, "%s resume %s --ticks %llu --out %s/res -q", SW_BINARY, path, (unsigned long long)last + 3, dir);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
}

Test(snapshot, snapshots_and_inspect_show_the_population) {
    const char *dir = sw_test_dir("inspect");
    char p[1200];
    snprintf(p, sizeof p, "%s/ws.db", dir);
    make_db(p);
    char *out = NULL;
    int rc = sw_test_sh(&out, "%s snapshots %s", SW_BINARY, p);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "test") && strstr(out, "grass 1600"), "%s", out);
    free(out);
    rc = sw_test_sh(&out, "%s inspect %s", SW_BINARY, p);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "at tick 30") && strstr(out, "world: 40x40") && strstr(out, "sheep"), "%s", out);
    free(out);
    rc = sw_test_sh(&out, "%s inspect %s --json", SW_BINARY, p);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "\"tick\":30") && strstr(out, "\"kind\":\"wolf\""), "%s", out);
    free(out);
    /* slot 0 is the first grass tuft (the scenario places grass first) */
    rc = sw_test_sh(&out, "%s inspect %s --agent 0 --json", SW_BINARY, p);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "\"kind\": \"grass\"") && strstr(out, "\"frames\": [{\"function\": \"grass\""), "%s", out);
    free(out);
    rc = sw_test_sh(&out, "%s inspect %s --agent 99999", SW_BINARY, p);
    cr_assert_eq(rc, 2, "%s", out);
    cr_assert(strstr(out, "no agent 99999"), "%s", out);
    free(out);
}

/* ---- many agents: several chunks, statements of rows and a tail ------------------ */

Test(snapshot, many_agents_span_chunks_and_load_back) {
    const char *dir = sw_test_dir("chunks");
    char path[1200], err[1024];
    snprintf(path, sizeof path, "%s/sir.db", dir);
    /* 40,001 agents: three chunks of records, and a last statement of rows
       shorter than the others */
    const char *json = "{\"format\": 1, \"name\": \"chunks\", \"description\": \"chunks\", \"seed\": 7,"
                       " \"ticks\": 10, \"world\": {\"width\": 201, \"height\": 201, \"topology\": \"torus\"},"
                       " \"layers\": [{\"name\": \"infected\", \"init\": 0}],"
                       " \"agents\": [{\"kind\": \"person\", \"count\": 40001, \"place\": \"cell\"}]}";
    sw_scenario *sc = sw_scenario_parse(json, strlen(json), "test", sw_agents_kinds, err, sizeof err);
    cr_assert(sc, "%s", err);
    sw_sim *sim = sw_sim_new(sc, 0, err, sizeof err);
    cr_assert(sim, "%s", err);
    sw_sim_step(sim);
    sw_snapshot_db *db = sw_snapshot_open(path, SW_SNAPSHOT_CREATE, err, sizeof err);
    cr_assert(db, "%s", err);
    cr_assert_eq(sw_snapshot_save(db, sim, "first"), 1, "%s", sw_snapshot_errmsg(db));
    sw_sim_step(sim);
    cr_assert_eq(sw_snapshot_save(db, sim, "second"), 2, "%s", sw_snapshot_errmsg(db));
    /* rows numbered consecutively after the first snapshot's, each saying
       where its record is: record i of the snapshot is record i % n of chunk
       i / n, n being the first chunk's size */
    char *out = NULL;
    int rc = sw_test_sh(&out, "sqlite3 '%s' \"SELECT s.id, s.agents, s.chunks, s.first_row,"
                              " (SELECT count(*) FROM agent a WHERE a.snapshot = s.id),"
                              " (SELECT max(rowid) - min(rowid) + 1 FROM agent a WHERE a.snapshot = s.id),"
                              " (SELECT sum(agents) FROM chunk c WHERE c.snapshot = s.id),"
                              " (SELECT count(*) FROM agent a WHERE a.snapshot = s.id AND"
                              "  (a.chunk != (a.rowid - s.first_row) / (SELECT agents FROM chunk c WHERE c.rowid = s.first_chunk)"
                              "   OR a.pos != (a.rowid - s.first_row) %% (SELECT agents FROM chunk c WHERE c.rowid = s.first_chunk)))"
                              " FROM snapshot s ORDER BY s.id; PRAGMA integrity_check;\"", path);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "1|40001|3|1|40001|40001|40001|0\n2|40001|3|40002|40001|40001|40001|0\nok"), "%s", out);
    free(out);
    /* an agent of the last chunk, described from its row */
    sw_pickle_buf d = {0};
    cr_assert_eq(sw_snapshot_describe_agent(db, 2, 40000, true, &d), SW_OK, "%s", sw_snapshot_errmsg(db));
    cr_assert(d.len && strstr((const char *)d.data, "person"), "%.*s", (int)d.len, (const char *)d.data);
    sw_pickle_buf_fini(&d);
    /* both load back, the second as the simulation is now */
    for (int64_t id = 1; id <= 2; id++) {
        sw_sim *back = sw_sim_new(sc, SW_SIM_EMPTY, err, sizeof err);
        cr_assert(back, "%s", err);
        cr_assert_eq(sw_snapshot_load(db, id, back, &env), SW_OK, "%s", sw_snapshot_errmsg(db));
        cr_assert_eq(sw_sim_now(back), (sw_tick)id);
        if (id == 2) {
            sw_pickle_buf a = pickle_sim(sim), b = pickle_sim(back);
            cr_assert_eq(a.len, b.len);
            cr_assert(memcmp(a.data, b.data, a.len) == 0, "the loaded simulation pickles differently");
            sw_pickle_buf_fini(&a);
            sw_pickle_buf_fini(&b);
        }
        sw_sim_free(back);
    }
    sw_snapshot_close(db);
    sw_sim_free(sim);
    sw_scenario_free(sc);
}
