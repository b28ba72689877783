/* scenario_check.h - the scenario loader's validation toolkit, shared by
 * scenario_check.c (messages, "did you mean", generic checks),
 * scenario_parse.c (the sections of a scenario) and scenario.c (entry
 * points). Not API.
 *
 * Every check that fails writes one message, "ORIGIN: $.json.path: what is
 * wrong (what would be valid)", into the context's buffer and returns false,
 * so callers chain checks with && and return at the first failure. */
#ifndef SW_SCENARIO_CHECK_H
#define SW_SCENARIO_CHECK_H

#include "scenario_int.h"

#include <cjson/cJSON.h>

typedef struct sw__pctx {
    const char *origin;
    const sw_kind *const *known;
    char *err;
    size_t errlen;
    sw_scenario *sc;
} sw__pctx;

#define SW__STR2(x) #x
#define SW__STR(x) SW__STR2(x)

/* Paths are built on the stack as the walk descends; this bounds them. */
#define SW__PATH_MAX 256

/* Make a message printable on one line: control characters become '?'. */
void sw__scn_one_line(char *s);
/* Record a failure at `path`; always returns false. */
bool sw__scn_fail(sw__pctx *p, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* strdup with malloc (NULL when out of memory). */
char *sw__scn_dupstr(const char *s);
/* "a number", "an object", ... for messages. */
const char *sw__scn_type_desc(const cJSON *v);
/* The candidate nearest to `word` by edit distance, if near enough. */
const char *sw__scn_closest(const char *word, const char *const *cands, size_t n);
/* The names sorted and quoted, comma-separated, into buf[cap]. */
const char *sw__scn_join_sorted(const char *const *names, size_t n, char *buf, size_t cap);
/* `v` is an object whose keys are all in `allowed` (NULL-terminated), once each. */
bool sw__scn_check_object(sw__pctx *p, const char *path, const cJSON *v, const char *const *allowed);
/* path.key and path[i] into out[SW__PATH_MAX] (truncated if need be). */
void sw__scn_subpath(char *out, const char *path, const char *key);
void sw__scn_indexpath(char *out, const char *path, int i);
/* A number in [lo, hi]; when `integer`, also integral. Absent: `def` unless
 * `required`. */
bool sw__scn_get_number(sw__pctx *p, const char *path, const cJSON *obj, const char *key,
                        bool required, bool integer, double lo, double hi, double def, double *out);
/* A name: [a-z0-9_-]+ (or, `loose`, printable ASCII without quotes or commas), <= 64 bytes. */
bool sw__scn_check_name(sw__pctx *p, const char *path, const cJSON *v, bool loose);
/* Validate the whole tree into p->sc (scenario_parse.c). */
bool sw__scn_parse_root(sw__pctx *p, const cJSON *root);

#endif
