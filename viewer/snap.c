/* snap.c - the viewer's snapshots: save (S), load (L, shift+L), and opening
 * a snapshot database given on the command line.
 *
 * The database is opened for each operation and closed right after it, so
 * the viewer never holds it open while the user plays: quitting at any
 * moment (Esc, the window's close button) cannot leave it half-written, and
 * `swarmlet run` or `swarmlet snapshots` can use the same file meanwhile.
 * Each save is one SQLite transaction (snapshot.h), so even a crash during a
 * save keeps every earlier snapshot.
 *
 * Built against the snapshot module when engine/snapshot.h exists; without
 * it every action says that this build cannot do it. */
#include "app_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

bool sw__viewer_is_db(const char *path) {
    /* By name too, so that a missing or damaged database gets the snapshot
     * module's message ("no such file", "not an SQLite database") rather
     * than a JSON parser's. */
    size_t n0 = strlen(path);
    if ((n0 > 3 && strcmp(path + n0 - 3, ".db") == 0) ||
        (n0 > 7 && strcmp(path + n0 - 7, ".sqlite") == 0))
        return true;
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    char head[16] = {0};
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return n == sizeof head && memcmp(head, "SQLite format 3", 16) == 0;
}

#if defined(__has_include) && __has_include("snapshot.h")
#include "registry.h"
#include "snapshot.h"

static const sw_pickle_env env = {.kinds = sw_agents_kinds, .funcs = sw_agents_funcs};

/* Make the directories above `path` (out/ for out/name.db). */
static void make_parents(const char *path) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) return;
            *p = '/';
        }
}

int sw__viewer_save(sw_viewer *v) {
    char err[1024];
    make_parents(v->db);
    sw_snapshot_db *db = sw_snapshot_open(v->db, SW_SNAPSHOT_CREATE, err, sizeof err);
    if (!db) {
        sw__viewer_say(v, "cannot save: %s", err);
        return SW_E_IO;
    }
    int64_t id = sw_snapshot_save(db, v->sim, "viewer");
    if (id <= 0) sw__viewer_say(v, "cannot save: %s", sw_snapshot_errmsg(db));
    else
        sw__viewer_say(v, "saved snapshot %lld at tick %llu to %s", (long long)id,
                       (unsigned long long)sw_sim_now(v->sim), v->db);
    sw_snapshot_close(db);
    return id > 0 ? SW_OK : (int)id;
}

/* Load snapshot `id` (0: the latest) of `path` into a fresh simulation and
 * make it the viewer's. */
static int load_from(sw_viewer *v, const char *path, int64_t id, char *err, size_t errlen) {
    sw_snapshot_db *db = sw_snapshot_open(path, SW_SNAPSHOT_READ, err, errlen);
    if (!db) return SW_E_IO;
    int64_t found = sw_snapshot_find(db, id, -1);
    if (found <= 0) {
        if (id > 0) snprintf(err, errlen, "%s: no snapshot %lld (swarmlet snapshots %s lists them)",
                             path, (long long)id, path);
        else snprintf(err, errlen, "%s: no snapshots yet (S saves one)", path);
        sw_snapshot_close(db);
        return SW_E_NOTFOUND;
    }
    sw_scenario *sc = NULL;
    sw_sim *sim = sw_snapshot_resume(db, found, -1, 0, &env, &sc, err, errlen);
    sw_snapshot_close(db);
    if (!sim) return SW_E_FORMAT;
    sw_scenario *old = v->sc;
    if (v->sim) sw__viewer_swap_sim(v, sim);
    else v->sim = sim;
    v->sc = sc;
    sw_scenario_free(old);
    v->nkinds = 0;
    v->playing = false;
    return (int)found;
}

int sw__viewer_load(sw_viewer *v, int64_t id) {
    char err[1024];
    FILE *f = fopen(v->db, "rb");
    if (!f) {
        sw__viewer_say(v, "no snapshots yet: %s does not exist (S saves one)", v->db);
        return SW_E_NOTFOUND;
    }
    fclose(f);
    int rc = load_from(v, v->db, id, err, sizeof err);
    if (rc < 0) {
        sw__viewer_say(v, "cannot load: %s", err);
        return rc;
    }
    sw__viewer_say(v, "loaded snapshot %d (tick %llu) from %s", rc,
                   (unsigned long long)sw_sim_now(v->sim), v->db);
    return SW_OK;
}

int sw__viewer_list_snaps(sw_viewer *v) {
    char err[1024];
    FILE *f = fopen(v->db, "rb");
    if (!f) {
        sw__viewer_say(v, "no snapshots yet: %s does not exist (S saves one)", v->db);
        return 0;
    }
    fclose(f);
    sw_snapshot_db *db = sw_snapshot_open(v->db, SW_SNAPSHOT_READ, err, sizeof err);
    if (!db) {
        sw__viewer_say(v, "cannot list snapshots: %s", err);
        return 0;
    }
    sw_snapshot_info *info = NULL;
    size_t n = 0;
    if (sw_snapshot_list(db, &info, &n) != SW_OK) {
        sw__viewer_say(v, "cannot list snapshots: %s", sw_snapshot_errmsg(db));
        n = 0;
    }
    sw_snapshot_close(db);
    free(v->snaps);
    v->snaps = n ? calloc(n, sizeof *v->snaps) : NULL;
    v->nsnaps = v->snaps ? (int)n : 0;
    for (int i = 0; i < v->nsnaps; i++) {
        v->snaps[i] = (sw_viewer_snap){.id = info[i].id, .tick = info[i].tick};
        snprintf(v->snaps[i].reason, sizeof v->snaps[i].reason, "%s", info[i].reason);
        snprintf(v->snaps[i].taken_at, sizeof v->snaps[i].taken_at, "%s", info[i].taken_at);
    }
    free(info);
    v->snap_pick = v->nsnaps - 1;  /* the latest */
    if (v->nsnaps == 0) sw__viewer_say(v, "no snapshots yet in %s (S saves one)", v->db);
    return v->nsnaps;
}

int sw__viewer_open_db(sw_viewer *v, char *err, size_t errlen) {
    if (!v->db) v->db = strdup(v->desc.db ? v->desc.db : v->path);
    int rc = load_from(v, v->path, v->desc.snapshot, err, errlen);
    return rc < 0 ? rc : SW_OK;
}

#else

int sw__viewer_open_db(sw_viewer *v, char *err, size_t errlen) {
    snprintf(err, errlen, "%s: this build cannot open snapshot databases", v->path);
    return SW_E_INVALID;
}

int sw__viewer_save(sw_viewer *v) {
    sw__viewer_say(v, "snapshots are not available in this build");
    return SW_E_INVALID;
}

int sw__viewer_load(sw_viewer *v, int64_t id) {
    (void)id;
    sw__viewer_say(v, "snapshots are not available in this build");
    return SW_E_INVALID;
}

int sw__viewer_list_snaps(sw_viewer *v) {
    sw__viewer_say(v, "snapshots are not available in this build");
    return 0;
}

#endif
