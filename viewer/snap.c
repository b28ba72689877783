/* snap.c - the viewer's snapshots: save (S), load (L, shift+L), and opening
 * a snapshot database from the command line.
 *
 * Placeholder until the snapshot module (engine/snapshot.h) lands: every
 * action says that this build cannot do it yet. */
#include "app_int.h"

#include <stdio.h>
#include <string.h>

bool sw__viewer_is_db(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    char head[16] = {0};
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return n == sizeof head && memcmp(head, "SQLite format 3", 16) == 0;
}

int sw__viewer_open_db(sw_viewer *v, char *err, size_t errlen) {
    snprintf(err, errlen, "%s: this build cannot open snapshot databases yet", v->path);
    return SW_E_INVALID;
}

int sw__viewer_save(sw_viewer *v) {
    sw__viewer_say(v, "snapshots are not available in this build yet");
    return SW_E_INVALID;
}

int sw__viewer_load(sw_viewer *v, int64_t id) {
    (void)id;
    sw__viewer_say(v, "snapshots are not available in this build yet");
    return SW_E_INVALID;
}

int sw__viewer_list_snaps(sw_viewer *v) {
    sw__viewer_say(v, "snapshots are not available in this build yet");
    return 0;
}
