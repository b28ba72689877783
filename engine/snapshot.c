/* snapshot.c - the SQLite store of snapshots.
 *
 * A save is one IMMEDIATE transaction on a WAL database: its kind and field
 * rows, one lean agent row per tasklet (id, kind, position: what people
 * query), the agents' pickled records packed in chunks of up to
 * SW__CHUNK_AGENTS, each agent row saying which chunk and place hold its
 * record, and last the snapshot row (with the pickled schema and state), whose
 * counts are known by then, so that its large blobs are written once. Agent
 * rows go in many to a statement (see save_agents). Chunks, not a blob
 * per row, because a row costs SQLite about a microsecond whatever it holds:
 * loading reads a thousand chunks instead of a million rows, and needs no
 * agent row at all. The agents are pickled one at a time into one reused
 * chunk buffer, so a snapshot costs little memory beside the simulation.
 * Agent and chunk rows get consecutive rowids ([first_row, first_row +
 * agents), [first_chunk, first_chunk + chunks)), which is how they are read
 * back without an index. A failure rolls everything back, and a crash
 * mid-write leaves the WAL's last commit: earlier snapshots are never
 * touched. */
#include "snapshot.h"
#include "pickle_int.h"
#include "scenario_int.h"
#include "sim_int.h"
#include "world_int.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#define SW__CHUNK_AGENTS 16384
#define SW__CHUNK_BYTES (2048u * 1024u)
#define SW__PAGE_SIZE "65536" /* for new databases */

struct sw_snapshot_db {
    sqlite3 *db;
    char *path;
    bool writable;
    char errmsg[1024];
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS snapshot("
    " id INTEGER PRIMARY KEY, tick INTEGER NOT NULL, taken_at TEXT NOT NULL, reason TEXT NOT NULL,"
    " scenario TEXT NOT NULL, engine_version TEXT NOT NULL, format INTEGER NOT NULL,"
    " seed INTEGER NOT NULL, agents INTEGER NOT NULL, first_row INTEGER NOT NULL,"
    " chunks INTEGER NOT NULL, first_chunk INTEGER NOT NULL,"
    " save_seconds REAL, schema BLOB NOT NULL, state BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS kind("
    " snapshot INTEGER NOT NULL, idx INTEGER NOT NULL, name TEXT NOT NULL, agents INTEGER NOT NULL,"
    " color INTEGER NOT NULL, PRIMARY KEY(snapshot, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS field("
    " snapshot INTEGER NOT NULL, func INTEGER NOT NULL, func_name TEXT NOT NULL, idx INTEGER NOT NULL,"
    " name TEXT NOT NULL, type TEXT NOT NULL, offset INTEGER NOT NULL, def REAL, param INTEGER NOT NULL,"
    " PRIMARY KEY(snapshot, func, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS agent("
    " snapshot INTEGER NOT NULL, id INTEGER NOT NULL, kind INTEGER NOT NULL, x REAL, y REAL,"
    " alive INTEGER NOT NULL, chunk INTEGER NOT NULL, pos INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS chunk("
    " snapshot INTEGER NOT NULL, seq INTEGER NOT NULL, agents INTEGER NOT NULL, data BLOB NOT NULL);"
    "CREATE VIEW IF NOT EXISTS agents AS SELECT a.snapshot, a.id, k.name AS kind, a.x, a.y, a.alive"
    " FROM agent a JOIN kind k ON k.snapshot = a.snapshot AND k.idx = a.kind;";

static void dberr(sw_snapshot_db *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void dberr(sw_snapshot_db *d, const char *fmt, ...) {
    int n = snprintf(d->errmsg, sizeof d->errmsg, "%s: ", d->path ? d->path : "snapshot database");
    if (n < 0 || (size_t)n >= sizeof d->errmsg) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->errmsg + n, sizeof d->errmsg - (size_t)n, fmt, ap);
    va_end(ap);
}

const char *sw_snapshot_errmsg(const sw_snapshot_db *d) { return d ? d->errmsg : "no database"; }
const char *sw_snapshot_path(const sw_snapshot_db *d) { return d ? d->path : ""; }

static bool exec(sw_snapshot_db *d, const char *sql) {
    char *msg = NULL;
    if (sqlite3_exec(d->db, sql, NULL, NULL, &msg) == SQLITE_OK) return true;
    dberr(d, "%s", msg ? msg : sqlite3_errmsg(d->db));
    sqlite3_free(msg);
    return false;
}

static int64_t pragma_int(sw_snapshot_db *d, const char *sql, bool *ok) {
    sqlite3_stmt *st = NULL;
    int64_t v = 0;
    *ok = false;
    if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) == SQLITE_OK) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            v = sqlite3_column_int64(st, 0);
            *ok = true;
        } else if (rc == SQLITE_DONE) {
            *ok = true;
        }
    }
    if (!*ok) {
        int code = sqlite3_errcode(d->db);
        if (code == SQLITE_NOTADB)
            dberr(d, "not an SQLite database, so not a Swarmlet snapshot file");
        else
            dberr(d, "cannot read it: %s", sqlite3_errmsg(d->db));
    }
    sqlite3_finalize(st);
    return v;
}

void sw_snapshot_close(sw_snapshot_db *d) {
    if (!d) return;
    sqlite3_close(d->db);
    free(d->path);
    free(d);
}

sw_snapshot_db *sw_snapshot_open(const char *path, sw_snapshot_mode mode, char *err, size_t errlen) {
    sw_snapshot_db *d = calloc(1, sizeof *d);
    if (!d || !path) {
        snprintf(err, errlen, "out of memory");
        free(d);
        return NULL;
    }
    size_t n = strlen(path) + 1;
    d->path = malloc(n);
    if (d->path) memcpy(d->path, path, n);
    struct stat stt;
    bool exists = stat(path, &stt) == 0;
    if (!exists && mode != SW_SNAPSHOT_CREATE) {
        dberr(d, "no such file");
        goto fail;
    }
    if (exists && !S_ISREG(stt.st_mode)) {
        dberr(d, "not a regular file");
        goto fail;
    }
    int flags = SQLITE_OPEN_NOMUTEX; /* a handle is used by one thread at a time */
    flags |= mode == SW_SNAPSHOT_CREATE ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                : mode == SW_SNAPSHOT_WRITE ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
    if (sqlite3_open_v2(path, &d->db, flags, NULL) != SQLITE_OK) {
        dberr(d, "cannot open: %s", d->db ? sqlite3_errmsg(d->db) : "out of memory");
        goto fail;
    }
    d->writable = mode != SW_SNAPSHOT_READ;
    sqlite3_busy_timeout(d->db, 5000);
    bool ok;
    int64_t app = pragma_int(d, "PRAGMA application_id", &ok);
    if (!ok) goto fail;
    int64_t ver = pragma_int(d, "PRAGMA user_version", &ok);
    if (!ok) goto fail;
    int64_t tables = pragma_int(d, "SELECT count(*) FROM sqlite_master", &ok);
    if (!ok) goto fail;
    if (app == 0 && tables == 0 && mode == SW_SNAPSHOT_CREATE) {
        /* a new (or empty) file: make it ours */
        char sql[256];
        snprintf(sql, sizeof sql, "PRAGMA application_id=%d; PRAGMA user_version=%d;",
                 SW_SNAPSHOT_APP_ID, SW_SNAPSHOT_SCHEMA);
        /* large pages: a snapshot is mostly long runs of rows and blobs, and
           SQLite spends less per row and per byte on them */
        if (!exec(d, "PRAGMA page_size=" SW__PAGE_SIZE) || !exec(d, "PRAGMA journal_mode=WAL") || !exec(d, sql) ||
            !exec(d, schema_sql))
            goto fail;
        app = SW_SNAPSHOT_APP_ID;
        ver = SW_SNAPSHOT_SCHEMA;
    }
    if (app != SW_SNAPSHOT_APP_ID) {
        if (tables == 0 && stt.st_size == 0)
            dberr(d, "an empty file, not Swarmlet snapshots");
        else
            dberr(d, "an SQLite database, but not Swarmlet snapshots (application_id %lld)", (long long)app);
        goto fail;
    }
    if (ver > SW_SNAPSHOT_SCHEMA) {
        dberr(d, "made by a newer Swarmlet (snapshot schema %lld; this one reads %d)", (long long)ver,
              SW_SNAPSHOT_SCHEMA);
        goto fail;
    }
    if (ver < 1) {
        dberr(d, "snapshot schema version %lld is not one Swarmlet ever wrote", (long long)ver);
        goto fail;
    }
    if (d->writable && (!exec(d, "PRAGMA journal_mode=WAL") || !exec(d, "PRAGMA synchronous=NORMAL")))
        goto fail;
    exec(d, "PRAGMA cache_size=-16384"); /* 16 MiB: saves append, loads stream */
    return d;
fail:
    snprintf(err, errlen, "%s", d->errmsg);
    sw_snapshot_close(d);
    return NULL;
}

/* ---- saving ------------------------------------------------------------------ */

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool step_done(sw_snapshot_db *d, sqlite3_stmt *st) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) return true;
    dberr(d, "write failed: %s", sqlite3_errmsg(d->db));
    return false;
}

static bool save_tables(sw_snapshot_db *d, int64_t id, const sw_sched *s) {
    sqlite3_stmt *k = NULL, *f = NULL;
    bool ok = sqlite3_prepare_v2(d->db, "INSERT INTO kind VALUES(?,?,?,?,?)", -1, &k, NULL) == SQLITE_OK &&
              sqlite3_prepare_v2(d->db, "INSERT INTO field VALUES(?,?,?,?,?,?,?,?,?)", -1, &f, NULL) == SQLITE_OK;
    if (!ok) dberr(d, "%s", sqlite3_errmsg(d->db));
    for (int i = 0; ok && i < s->nkinds; i++) {
        sqlite3_bind_int64(k, 1, id);
        sqlite3_bind_int(k, 2, i);
        sqlite3_bind_text(k, 3, s->kinds[i].kind->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(k, 4, s->kinds[i].live);
        sqlite3_bind_int64(k, 5, s->kinds[i].kind->color);
        ok = step_done(d, k);
    }
    for (int i = 0; ok && i < s->nfuncs; i++) {
        const sw_func *fn = s->funcs[i].fn;
        for (int j = 0; ok && fn->fields && fn->fields[j].name; j++) {
            const sw_field *fl = &fn->fields[j];
            sqlite3_bind_int64(f, 1, id);
            sqlite3_bind_int(f, 2, i);
            sqlite3_bind_text(f, 3, fn->name, -1, SQLITE_STATIC);
            sqlite3_bind_int(f, 4, j);
            sqlite3_bind_text(f, 5, fl->name, -1, SQLITE_STATIC);
            sqlite3_bind_text(f, 6, sw_type_name(fl->type), -1, SQLITE_STATIC);
            sqlite3_bind_int64(f, 7, fl->offset);
            sqlite3_bind_double(f, 8, fl->def);
            sqlite3_bind_int(f, 9, fl->param);
            ok = step_done(d, f);
        }
    }
    sqlite3_finalize(k);
    sqlite3_finalize(f);
    return ok;
}

/* Write the chunk being filled, if it holds any agent. */
static bool flush_chunk(sw_snapshot_db *d, sqlite3_stmt *cs, int64_t id, int64_t rowid, int64_t seq,
                        uint32_t nagents, const sw_pickle_buf *buf) {
    if (!nagents) return true;
    sqlite3_bind_int64(cs, 1, rowid);
    sqlite3_bind_int64(cs, 2, id);
    sqlite3_bind_int64(cs, 3, seq);
    sqlite3_bind_int64(cs, 4, nagents);
    sqlite3_bind_blob(cs, 5, buf->data, (int)buf->len, SQLITE_STATIC);
    return step_done(d, cs);
}

/* Agent rows go in SW__ROWS_PER_INSERT at a time: one statement per row
 * would cost SQLite a cursor opened, a seek from the root and a statement
 * halted for each. SQLite numbers them (max(rowid) + 1 each, so they are
 * consecutive: checked at the end). A statement's rows are consecutive
 * records of one chunk (chunks end on statement boundaries), so the snapshot
 * (?1), the chunk (?2) and the first row's place in it (?3) are bound once
 * per statement and each row binds only its own five values. */
#define SW__ROWS_PER_INSERT 64
#define SW__AGENT_PARAMS 5 /* per row */
_Static_assert(SW__CHUNK_AGENTS % SW__ROWS_PER_INSERT == 0, "chunks end on statement boundaries");

typedef struct agent_row {
    sw_id id;
    double x, y;
    uint16_t kind;
    bool placed, alive;
} agent_row;

static sqlite3_stmt *prepare_agent_insert(sw_snapshot_db *d, int rows) {
    size_t cap = 64 + (size_t)rows * 64;
    char *sql = malloc(cap);
    if (!sql) {
        dberr(d, "out of memory");
        return NULL;
    }
    size_t n = (size_t)snprintf(sql, cap, "INSERT INTO agent(snapshot, id, kind, x, y, alive, chunk, pos) VALUES");
    for (int r = 0; r < rows; r++) {
        int p = 4 + r * SW__AGENT_PARAMS;
        n += (size_t)snprintf(sql + n, cap - n, "%s(?1,?%d,?%d,?%d,?%d,?%d,?2,?3+%d)", r ? "," : "", p, p + 1,
                              p + 2, p + 3, p + 4, r);
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(d->db, sql, (int)n + 1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        dberr(d, "%s", sqlite3_errmsg(d->db));
        st = NULL;
    }
    free(sql);
    return st;
}

/* Insert `n` rows (a statement made for n) of chunk `chunk` from place `pos`. */
static bool insert_rows(sw_snapshot_db *d, sqlite3_stmt *st, int64_t chunk, uint32_t pos, const agent_row *rows,
                        int n) {
    sqlite3_bind_int64(st, 2, chunk);
    sqlite3_bind_int64(st, 3, pos);
    for (int r = 0; r < n; r++) {
        const agent_row *a = &rows[r];
        int p = 4 + r * SW__AGENT_PARAMS;
        sqlite3_bind_int64(st, p, (int64_t)a->id);
        sqlite3_bind_int(st, p + 1, a->kind);
        if (a->placed) {
            sqlite3_bind_double(st, p + 2, a->x);
            sqlite3_bind_double(st, p + 3, a->y);
        } else {
            sqlite3_bind_null(st, p + 2);
            sqlite3_bind_null(st, p + 3);
        }
        sqlite3_bind_int(st, p + 4, a->alive);
    }
    return step_done(d, st);
}

/* The last rows, fewer than a full statement. */
static bool insert_tail(sw_snapshot_db *d, int64_t id, int64_t chunk, uint32_t pos, const agent_row *rows, int n) {
    sqlite3_stmt *st = prepare_agent_insert(d, n);
    if (!st) return false;
    sqlite3_bind_int64(st, 1, id);
    bool ok = insert_rows(d, st, chunk, pos, rows, n);
    sqlite3_finalize(st);
    return ok;
}

static bool save_agents(sw_snapshot_db *d, int64_t id, int64_t first, int64_t first_chunk, const sw_sched *s,
                        const sw_world *w, uint64_t *count, uint64_t *nchunks) {
    sqlite3_stmt *st = prepare_agent_insert(d, SW__ROWS_PER_INSERT), *cs = NULL;
    if (!st) return false;
    if (sqlite3_prepare_v2(d->db, "INSERT INTO chunk(rowid, snapshot, seq, agents, data) VALUES(?,?,?,?,?)", -1,
                           &cs, NULL) != SQLITE_OK) {
        dberr(d, "%s", sqlite3_errmsg(d->db));
        sqlite3_finalize(st);
        return false;
    }
    sqlite3_bind_int64(st, 1, id); /* bindings outlive sqlite3_reset */
    agent_row rows[SW__ROWS_PER_INSERT];
    int nrows = 0;
    int64_t last = 0;
    sw_pickle_buf buf = {0};
    bool ok = true;
    uint64_t n = 0;
    int64_t seq = 0;
    uint32_t in_chunk = 0;
    for (uint32_t slot = 0; ok && slot < s->ntasks; slot++) {
        const struct sw__task *k = &s->tasks[slot];
        if (k->state == SW_TASK_FREE) continue;
        /* the record goes straight into the chunk after its length, which
           takes one byte unless the record is 128 bytes or more */
        size_t at = buf.len;
        if (!sw__pk_reserve(&buf, 1)) goto oom;
        buf.len++;
        int r = sw_pickle_save_agent(s, slot, &buf);
        if (r != 1) goto oom;
        size_t len = buf.len - at - 1;
        if (len < 0x80) {
            buf.data[at] = (uint8_t)len;
        } else {
            uint8_t pre[10];
            size_t np = 0;
            for (size_t v = len; ; v >>= 7) {
                pre[np++] = (uint8_t)(v >= 0x80 ? (v & 0x7f) | 0x80 : v);
                if (v < 0x80) break;
            }
            if (!sw__pk_reserve(&buf, np - 1)) goto oom;
            memmove(buf.data + at + np, buf.data + at + 1, len);
            memcpy(buf.data + at, pre, np);
            buf.len += np - 1;
        }
        agent_row *a = &rows[nrows++];
        a->id = sw_handle_make(slot, k->gen);
        a->kind = k->kind;
        a->placed = w && sw_pickle_world_pos(w, slot, &a->x, &a->y);
        a->alive = k->state != SW_TASK_ZOMBIE;
        n++;
        in_chunk++;
        if (nrows < SW__ROWS_PER_INSERT) continue;
        ok = insert_rows(d, st, seq, in_chunk - (uint32_t)nrows, rows, nrows);
        last = sqlite3_last_insert_rowid(d->db);
        nrows = 0;
        if (ok && (in_chunk == SW__CHUNK_AGENTS || buf.len >= SW__CHUNK_BYTES)) {
            ok = flush_chunk(d, cs, id, first_chunk + seq, seq, in_chunk, &buf);
            seq++;
            in_chunk = 0;
            buf.len = 0;
        }
    }
    if (ok && nrows) {
        ok = insert_tail(d, id, seq, in_chunk - (uint32_t)nrows, rows, nrows);
        last = sqlite3_last_insert_rowid(d->db);
    }
    if (ok && in_chunk) {
        ok = flush_chunk(d, cs, id, first_chunk + seq, seq, in_chunk, &buf);
        seq++;
    }
    if (ok && n && last != first + (int64_t)n - 1) {
        /* cannot happen while max(rowid) + n fits in 63 bits */
        dberr(d, "the agent rows did not get consecutive row ids");
        ok = false;
    }
    if (0) {
    oom:
        dberr(d, "out of memory pickling an agent");
        ok = false;
    }
    sqlite3_finalize(st);
    sqlite3_finalize(cs);
    sw_pickle_buf_fini(&buf);
    *count = n;
    *nchunks = (uint64_t)seq;
    return ok;
}

int64_t sw_snapshot_save(sw_snapshot_db *d, const sw_sim *sim, const char *reason) {
    if (!d->writable) {
        dberr(d, "opened read-only");
        return SW_E_INVALID;
    }
    double t0 = mono();
    const sw_sched *s = sim->s;
    sw_world *w = sim->w;
    sw_pickle_buf schema = {0}, state = {0};
    sw_pickle_section sec = sw_pickle_world_section(w);
    char perr[512];
    int rc = sw_pickle_save_schema(s, &schema);
    if (rc == SW_OK) rc = sw_pickle_save_state(s, &sec, 1, &state, perr, sizeof perr);
    else snprintf(perr, sizeof perr, "out of memory");
    if (rc != SW_OK) {
        dberr(d, "cannot pickle the simulation: %s", perr);
        sw_pickle_buf_fini(&schema);
        sw_pickle_buf_fini(&state);
        return rc;
    }
    time_t now = time(NULL);
    struct tm tmv;
    char when[32];
    gmtime_r(&now, &tmv);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    int64_t id = 0;
    sqlite3_stmt *st = NULL;
    bool ok = exec(d, "BEGIN IMMEDIATE");
    bool began = ok;
    bool got;
    /* the new rows' ids, known before any is written: the snapshot row goes
       in last, whole, so that its large blobs are written once (an UPDATE
       at the end would rewrite them) */
    int64_t first = ok ? pragma_int(d, "SELECT coalesce(max(rowid), 0) + 1 FROM agent", &got) : 0;
    ok = ok && got;
    int64_t first_chunk = ok ? pragma_int(d, "SELECT coalesce(max(rowid), 0) + 1 FROM chunk", &got) : 0;
    ok = ok && got;
    if (ok) id = pragma_int(d, "SELECT coalesce(max(id), 0) + 1 FROM snapshot", &got);
    ok = ok && got;
    uint64_t count = 0, nchunks = 0;
    ok = ok && save_tables(d, id, s) && save_agents(d, id, first, first_chunk, s, w, &count, &nchunks);
    if (ok && sqlite3_prepare_v2(d->db, "INSERT INTO snapshot(id, tick, taken_at, reason, scenario, engine_version, "
                                        "format, seed, agents, first_row, chunks, first_chunk, save_seconds, "
                                        "schema, state) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &st,
                                 NULL) != SQLITE_OK) {
        dberr(d, "%s", sqlite3_errmsg(d->db));
        ok = false;
    }
    if (ok) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, (int64_t)s->now);
        sqlite3_bind_text(st, 3, when, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, reason ? reason : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, sw_scenario_json(sim->sc), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, SW_VERSION, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 7, SW_PICKLE_FORMAT);
        sqlite3_bind_int64(st, 8, (int64_t)s->d.seed);
        sqlite3_bind_int64(st, 9, (int64_t)count);
        sqlite3_bind_int64(st, 10, first);
        sqlite3_bind_int64(st, 11, (int64_t)nchunks);
        sqlite3_bind_int64(st, 12, first_chunk);
        sqlite3_bind_double(st, 13, mono() - t0);
        sqlite3_bind_blob64(st, 14, schema.data, schema.len, SQLITE_STATIC);
        sqlite3_bind_blob64(st, 15, state.data, state.len, SQLITE_STATIC);
        ok = step_done(d, st);
    }
    sqlite3_finalize(st);
    sw_pickle_buf_fini(&schema);
    sw_pickle_buf_fini(&state);
    ok = ok && exec(d, "COMMIT");
    if (!ok) {
        if (began) sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
        return SW_E_IO;
    }
    return id;
}

/* ---- reading -------------------------------------------------------------------- */

int sw_snapshot_list(sw_snapshot_db *d, sw_snapshot_info **out, size_t *n) {
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL, *ks = NULL;
    if (sqlite3_prepare_v2(d->db, "SELECT id, tick, taken_at, reason, engine_version, agents, save_seconds "
                                  "FROM snapshot ORDER BY id", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(d->db, "SELECT name, agents FROM kind WHERE snapshot = ? ORDER BY idx", -1, &ks,
                           NULL) != SQLITE_OK) {
        dberr(d, "cannot list snapshots: %s", sqlite3_errmsg(d->db));
        sqlite3_finalize(st);
        return SW_E_FORMAT;
    }
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            sw_snapshot_info *bigger = realloc(*out, cap * sizeof *bigger);
            if (!bigger) {
                rc = SQLITE_NOMEM;
                break;
            }
            *out = bigger;
        }
        sw_snapshot_info *i = &(*out)[(*n)++];
        memset(i, 0, sizeof *i);
        i->id = sqlite3_column_int64(st, 0);
        i->tick = (sw_tick)sqlite3_column_int64(st, 1);
        snprintf(i->taken_at, sizeof i->taken_at, "%s", (const char *)sqlite3_column_text(st, 2) ?: "");
        snprintf(i->reason, sizeof i->reason, "%s", (const char *)sqlite3_column_text(st, 3) ?: "");
        snprintf(i->engine_version, sizeof i->engine_version, "%s", (const char *)sqlite3_column_text(st, 4) ?: "");
        i->agents = (uint64_t)sqlite3_column_int64(st, 5);
        i->save_seconds = sqlite3_column_double(st, 6);
        sqlite3_bind_int64(ks, 1, i->id);
        size_t len = 0;
        while (sqlite3_step(ks) == SQLITE_ROW && len < sizeof i->kinds) {
            int w = snprintf(i->kinds + len, sizeof i->kinds - len, "%s%s %lld", len ? ", " : "",
                             (const char *)sqlite3_column_text(ks, 0) ?: "?", (long long)sqlite3_column_int64(ks, 1));
            if (w < 0) break;
            len += (size_t)w;
        }
        sqlite3_reset(ks);
    }
    sqlite3_finalize(st);
    sqlite3_finalize(ks);
    if (rc != SQLITE_DONE) {
        dberr(d, "cannot list snapshots: %s", sqlite3_errmsg(d->db));
        return SW_E_FORMAT;
    }
    return SW_OK;
}

int64_t sw_snapshot_find(sw_snapshot_db *d, int64_t id, int64_t tick) {
    sqlite3_stmt *st = NULL;
    const char *sql = id > 0 ? "SELECT id FROM snapshot WHERE id = ?"
                      : tick >= 0 ? "SELECT id FROM snapshot WHERE tick = ? ORDER BY id DESC LIMIT 1"
                                  : "SELECT id FROM snapshot ORDER BY id DESC LIMIT 1";
    if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) != SQLITE_OK) {
        dberr(d, "cannot read snapshots: %s", sqlite3_errmsg(d->db));
        return 0;
    }
    if (id > 0) sqlite3_bind_int64(st, 1, id);
    else if (tick >= 0) sqlite3_bind_int64(st, 1, tick);
    int64_t found = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (!found) {
        if (id > 0) dberr(d, "no snapshot with id %lld (see swarmlet snapshots)", (long long)id);
        else if (tick >= 0) dberr(d, "no snapshot at tick %lld (see swarmlet snapshots)", (long long)tick);
        else dberr(d, "holds no snapshot yet");
    }
    return found;
}

char *sw_snapshot_scenario(sw_snapshot_db *d, int64_t id) {
    sqlite3_stmt *st = NULL;
    char *json = NULL;
    if (sqlite3_prepare_v2(d->db, "SELECT scenario FROM snapshot WHERE id = ?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT) {
            const char *t = (const char *)sqlite3_column_text(st, 0);
            size_t n = (size_t)sqlite3_column_bytes(st, 0);
            json = malloc(n + 1);
            if (json) {
                memcpy(json, t, n);
                json[n] = '\0';
            }
        }
    }
    if (!json) dberr(d, "snapshot %lld has no scenario", (long long)id);
    sqlite3_finalize(st);
    return json;
}

int sw_snapshot_load(sw_snapshot_db *d, int64_t id, sw_sim *sim, const sw_pickle_env *env) {
    sqlite3_stmt *st = NULL, *row = NULL;
    int rc = SW_E_FORMAT;
    sw_unpickler *u = NULL;
    char perr[768];
    if (sqlite3_prepare_v2(d->db, "SELECT format, agents, chunks, first_chunk, schema, state FROM snapshot "
                                  "WHERE id = ?", -1, &st, NULL) != SQLITE_OK) {
        dberr(d, "cannot read snapshot %lld: %s", (long long)id, sqlite3_errmsg(d->db));
        return SW_E_FORMAT;
    }
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        dberr(d, "no snapshot with id %lld", (long long)id);
        goto done;
    }
    int64_t format = sqlite3_column_int64(st, 0), nagents = sqlite3_column_int64(st, 1);
    int64_t nchunks = sqlite3_column_int64(st, 2), first = sqlite3_column_int64(st, 3);
    if (format != SW_PICKLE_FORMAT) {
        dberr(d, "snapshot %lld is in pickle format %lld; this Swarmlet reads format %d", (long long)id,
              (long long)format, SW_PICKLE_FORMAT);
        goto done;
    }
    if (nagents < 0 || nagents > UINT32_MAX || nchunks < 0 || nchunks > nagents || first < 1 ||
        first > INT64_MAX - nchunks) {
        dberr(d, "snapshot %lld: bad agent count or chunk range", (long long)id);
        goto done;
    }
    /* the state stays in the snapshot row's statement, left open until
       the unpickler is done with it */
    u = sw__unpickler_new(sim->s, env, sqlite3_column_blob(st, 4), (size_t)sqlite3_column_bytes(st, 4),
                          sqlite3_column_blob(st, 5), (size_t)sqlite3_column_bytes(st, 5), (uint64_t)nagents, true,
                          perr, sizeof perr);
    row = st;
    st = NULL;
    if (!u) {
        dberr(d, "snapshot %lld: %s", (long long)id, perr);
        goto done;
    }
    if (sqlite3_prepare_v2(d->db, "SELECT data, agents, snapshot FROM chunk WHERE rowid >= ? AND rowid < ? "
                                  "ORDER BY rowid", -1, &st, NULL) != SQLITE_OK) {
        dberr(d, "cannot read agents: %s", sqlite3_errmsg(d->db));
        goto done;
    }
    sqlite3_bind_int64(st, 1, first);
    sqlite3_bind_int64(st, 2, first + nchunks);
    int step;
    int64_t seen = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        sw__rd r;
        sw__rd_init(&r, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), "agent chunk", perr,
                    sizeof perr);
        int64_t count = sqlite3_column_int64(st, 1);
        if (sqlite3_column_int64(st, 2) != id || count < 1 || count > SW__CHUNK_AGENTS) {
            dberr(d, "snapshot %lld: chunk %lld belongs elsewhere or has %lld agents", (long long)id,
                  (long long)seen, (long long)count);
            goto done;
        }
        for (int64_t i = 0; i < count; i++) {
            uint64_t n = sw__rd_uv(&r, "record length");
            const uint8_t *rec = sw__rd_bytes(&r, (size_t)n, "record");
            if (!rec) {
                dberr(d, "snapshot %lld: %s", (long long)id, perr);
                goto done;
            }
            if (sw_unpickler_agent(u, rec, (size_t)n) != SW_OK) {
                dberr(d, "snapshot %lld: %s", (long long)id, sw_unpickler_errmsg(u));
                goto done;
            }
        }
        if (r.p != r.end) {
            dberr(d, "snapshot %lld: stray bytes after the agents of a chunk", (long long)id);
            goto done;
        }
        seen++;
    }
    if (step != SQLITE_DONE) {
        dberr(d, "cannot read agents: %s", sqlite3_errmsg(d->db));
        goto done;
    }
    if (seen != nchunks) {
        dberr(d, "snapshot %lld: %lld agent chunks of %lld are missing", (long long)id, (long long)(nchunks - seen),
              (long long)nchunks);
        goto done;
    }
    sw_pickle_section sec = sw_pickle_world_section(sim->w);
    rc = sw_unpickler_finish(u, &sec, 1);
    if (rc != SW_OK) {
        dberr(d, "snapshot %lld: %s", (long long)id, sw_unpickler_errmsg(u));
        goto done;
    }
    /* the simulation's own view: named channels, its hold, its statistics */
    for (int i = 0; i < sim->sc->nchans; i++) sim->chans[i] = sw_world_chan(sim->w, sim->sc->chans[i].name);
    for (int i = 0; i < sim->sc->nkinds; i++) sim->kind_index[i] = sw_sched_kind_index(sim->s, sim->sc->kinds[i]);
    sw_tick now = sw_sched_now(sim->s);
    bool pending = false;
    for (int i = 0; i < sim->sc->nevents; i++) pending |= sim->sc->events[i].tick > now;
    sim->held = pending ? 1 : 0; /* the pickled hold already counts it */
    sw_sim_stats_restart(sim);
done:
    sqlite3_finalize(st);
    sw_unpickler_free(u);
    sqlite3_finalize(row);
    return rc;
}

sw_sim *sw_snapshot_resume(sw_snapshot_db *d, int64_t id, int64_t tick, sw_tick ticks, const sw_pickle_env *env,
                           sw_scenario **scenario, char *err, size_t errlen) {
    *scenario = NULL;
    int64_t found = sw_snapshot_find(d, id, tick);
    if (!found) {
        snprintf(err, errlen, "%s", d->errmsg);
        return NULL;
    }
    char *json = sw_snapshot_scenario(d, found);
    if (!json) {
        snprintf(err, errlen, "%s", d->errmsg);
        return NULL;
    }
    char origin[600], perr[1024];
    snprintf(origin, sizeof origin, "%s (snapshot %lld)", d->path, (long long)found);
    sw_scenario *sc = sw_scenario_parse(json, strlen(json), origin, env ? env->kinds : NULL, perr, sizeof perr);
    free(json);
    if (!sc) {
        snprintf(err, errlen, "%s", perr);
        return NULL;
    }
    if (ticks) sw_scenario_set_ticks(sc, ticks);
    sw_sim *sim = sw_sim_new(sc, SW_SIM_EMPTY, perr, sizeof perr);
    if (!sim) {
        snprintf(err, errlen, "%s: %s", d->path, perr);
        sw_scenario_free(sc);
        return NULL;
    }
    if (sw_snapshot_load(d, found, sim, env) != SW_OK) {
        snprintf(err, errlen, "%s", d->errmsg);
        sw_sim_free(sim);
        sw_scenario_free(sc);
        return NULL;
    }
    *scenario = sc;
    return sim;
}

int sw_snapshot_describe_agent(sw_snapshot_db *d, int64_t id, sw_id agent, bool json, sw_pickle_buf *out) {
    sqlite3_stmt *st = NULL;
    int rc = SW_E_NOTFOUND;
    sw_pickle_schema *sc = NULL;
    char perr[512];
    if (sqlite3_prepare_v2(d->db, "SELECT s.schema, c.data, a.pos FROM snapshot s JOIN agent a ON a.rowid >= "
                                  "s.first_row AND a.rowid < s.first_row + s.agents JOIN chunk c ON c.rowid = "
                                  "s.first_chunk + a.chunk WHERE s.id = ?1 AND (a.id = ?2 OR "
                                  "(?2 < 4294967296 AND (a.id & 4294967295) = ?2))", -1, &st,
                           NULL) != SQLITE_OK) {
        dberr(d, "%s", sqlite3_errmsg(d->db));
        return SW_E_FORMAT;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, (int64_t)agent);
    if (sqlite3_step(st) != SQLITE_ROW) {
        dberr(d, "snapshot %lld has no agent with id %llu", (long long)id, (unsigned long long)agent);
        goto done;
    }
    rc = SW_E_FORMAT;
    sc = sw_pickle_schema_parse(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), perr, sizeof perr);
    if (!sc) {
        dberr(d, "snapshot %lld: %s", (long long)id, perr);
        goto done;
    }
    sw__rd r;
    sw__rd_init(&r, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), "agent chunk", perr, sizeof perr);
    int64_t pos = sqlite3_column_int64(st, 2);
    const uint8_t *rec = NULL;
    uint64_t n = 0;
    for (int64_t i = 0; i <= pos && !r.bad; i++) {
        n = sw__rd_uv(&r, "record length");
        rec = sw__rd_bytes(&r, (size_t)n, "record");
    }
    if (r.bad || pos < 0 ||
        sw_pickle_describe_agent(sc, rec, (size_t)n, json, out, perr, sizeof perr) != SW_OK) {
        dberr(d, "snapshot %lld: %s", (long long)id, pos < 0 ? "bad agent row" : perr);
        goto done;
    }
    rc = SW_OK;
done:
    sw_pickle_schema_free(sc);
    sqlite3_finalize(st);
    return rc;
}

int sw_snapshot_census_of(sw_snapshot_db *d, int64_t id, sw_snapshot_census **out, size_t *n) {
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    char perr[512];
    sw_pickle_schema *sc = NULL;
    int rc = SW_E_FORMAT;
    if (sqlite3_prepare_v2(d->db, "SELECT schema FROM snapshot WHERE id = ?", -1, &st, NULL) != SQLITE_OK) {
        dberr(d, "%s", sqlite3_errmsg(d->db));
        return SW_E_FORMAT;
    }
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW)
        sc = sw_pickle_schema_parse(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), perr, sizeof perr);
    else
        snprintf(perr, sizeof perr, "no such snapshot");
    sqlite3_finalize(st);
    st = NULL;
    if (!sc) {
        dberr(d, "snapshot %lld: %s", (long long)id, perr);
        return SW_E_FORMAT;
    }
    sw_snapshot_census *c = calloc(sc->nkinds ? sc->nkinds : 1, sizeof *c);
    if (!c) {
        dberr(d, "out of memory");
        goto done;
    }
    for (uint32_t k = 0; k < sc->nkinds; k++) snprintf(c[k].kind, sizeof c[k].kind, "%s", sc->kinds[k].name);
    if (sqlite3_prepare_v2(d->db, "SELECT c.data, c.agents FROM snapshot s JOIN chunk c ON c.rowid >= s.first_chunk "
                                  "AND c.rowid < s.first_chunk + s.chunks WHERE s.id = ? ORDER BY c.rowid", -1, &st,
                           NULL) != SQLITE_OK) {
        dberr(d, "%s", sqlite3_errmsg(d->db));
        goto done;
    }
    sqlite3_bind_int64(st, 1, id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        sw__rd r;
        sw__rd_init(&r, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), "agent chunk", perr,
                    sizeof perr);
        for (int64_t i = 0, cnt = sqlite3_column_int64(st, 1); i < cnt && !r.bad; i++) {
            uint64_t len = sw__rd_uv(&r, "record length");
            const uint8_t *rec = sw__rd_bytes(&r, (size_t)len, "record");
            if (!rec) break;
            sw__rd q;
            sw__rd_init(&q, rec, (size_t)len, "agent record", perr, sizeof perr);
            uint64_t kind = sw__rd_uv(&q, "kind");
            sw__rd_uv(&q, "slot");
            sw__rd_uv(&q, "generation");
            uint8_t state = sw__rd_u8(&q, "state");
            if (q.bad || kind >= sc->nkinds) {
                r.bad = true;
                snprintf(perr, sizeof perr, "a damaged agent record");
                break;
            }
            switch ((sw_task_state)state) {
            case SW_TASK_RUNNABLE: c[kind].runnable++; break;
            case SW_TASK_SLEEPING: c[kind].sleeping++; break;
            case SW_TASK_RECV: c[kind].receiving++; break;
            case SW_TASK_SEND: c[kind].sending++; break;
            default: c[kind].killed++; break;
            }
        }
        if (r.bad) {
            dberr(d, "snapshot %lld: %s", (long long)id, perr);
            goto done;
        }
    }
    *out = c;
    *n = sc->nkinds;
    c = NULL;
    rc = SW_OK;
done:
    free(c);
    sqlite3_finalize(st);
    sw_pickle_schema_free(sc);
    return rc;
}
