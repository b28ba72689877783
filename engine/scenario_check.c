/* scenario_check.c - the scenario loader's messages and generic checks:
 * one-line messages with the JSON path, "did you mean" by edit distance,
 * objects with only known keys, numbers in range, names. */
#include "scenario_check.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Messages are one line: names quoted from the file may hold control
 * characters (a key "a\nb" is valid JSON), so those are shown as '?'. */
void sw__scn_one_line(char *s) {
    for (; s && *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = '?';
}

bool sw__scn_fail(sw__pctx *p, const char *path, const char *fmt, ...) {
    if (!p->err || !p->errlen) return false;
    int n = snprintf(p->err, p->errlen, "%s: %s: ", p->origin, path);
    if (n >= 0 && (size_t)n < p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    sw__scn_one_line(p->err);
    return false;
}

char *sw__scn_dupstr(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

const char *sw__scn_type_desc(const cJSON *v) {
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    return "an invalid value";
}

/* ---- "did you mean" ---------------------------------------------------------- */

/* Levenshtein distance, capped: names longer than 63 bytes are never close. */
static int edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return 99;
    int row[64];
    for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            int best = diag + cost;
            if (row[j] + 1 < best) best = row[j] + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The candidate sw__scn_closest to `word`, if close enough to be a likely typo. */
const char *sw__scn_closest(const char *word, const char *const *cands, size_t n) {
    const char *best = NULL;
    int bestd = 99;
    for (size_t i = 0; i < n; i++) {
        int d = edit_distance(word, cands[i]);
        if (d < bestd) {
            bestd = d;
            best = cands[i];
        }
    }
    int len = (int)strlen(word);
    int limit = len / 3 > 2 ? len / 3 : 2;
    return best && bestd <= limit ? best : NULL;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "a, b, c" into buf, sorted. */
const char *sw__scn_join_sorted(const char *const *names, size_t n, char *buf, size_t cap) {
    const char *tmp[64];
    if (n > 64) n = 64;
    memcpy(tmp, names, n * sizeof *tmp);
    qsort(tmp, n, sizeof *tmp, cmp_str);
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && len < cap; i++) {
        int w = snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", tmp[i]);
        if (w < 0) break;
        len += (size_t)w;
    }
    if (n == 0) snprintf(buf, cap, "none");
    return buf;
}

/* ---- generic checks ------------------------------------------------------------ */

/* `v` must be an object whose keys are all in `allowed` (NULL-terminated),
 * each at most once. */
bool sw__scn_check_object(sw__pctx *p, const char *path, const cJSON *v, const char *const *allowed) {
    if (!cJSON_IsObject(v)) return sw__scn_fail(p, path, "expected an object, got %s", sw__scn_type_desc(v));
    size_t nallowed = 0;
    while (allowed[nallowed]) nallowed++;
    for (const cJSON *c = v->child; c; c = c->next) {
        bool ok = false;
        for (size_t i = 0; i < nallowed && !ok; i++) ok = strcmp(c->string, allowed[i]) == 0;
        if (!ok) {
            char list[1024];
            const char *near = sw__scn_closest(c->string, allowed, nallowed);
            sw__scn_join_sorted(allowed, nallowed, list, sizeof list);
            if (near)
                return sw__scn_fail(p, path, "unknown key \"%.64s\" (did you mean \"%s\"? valid keys: %s)",
                            c->string, near, list);
            return sw__scn_fail(p, path, "unknown key \"%.64s\" (valid keys: %s)", c->string, list);
        }
        for (const cJSON *d = v->child; d != c; d = d->next)
            if (strcmp(d->string, c->string) == 0)
                return sw__scn_fail(p, path, "key \"%.64s\" appears twice", c->string);
    }
    return true;
}

/* A truncated path is still a useful message: the result is only checked
 * to say so to the compiler. */
void sw__scn_subpath(char *out, const char *path, const char *key) {
    if (snprintf(out, SW__PATH_MAX, "%s.%.64s", path, key) >= SW__PATH_MAX) out[SW__PATH_MAX - 1] = '\0';
}

void sw__scn_indexpath(char *out, const char *path, int i) {
    if (snprintf(out, SW__PATH_MAX, "%s[%d]", path, i) >= SW__PATH_MAX) out[SW__PATH_MAX - 1] = '\0';
}

/* A number in [lo, hi]; when `integer`, also integral. Absent: `def` unless
 * `required`. */
bool sw__scn_get_number(sw__pctx *p, const char *path, const cJSON *obj, const char *key, bool required,
                       bool integer, double lo, double hi, double def, double *out) {
    char sub[SW__PATH_MAX];
    sw__scn_subpath(sub, path, key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        if (required) return sw__scn_fail(p, path, "missing required key \"%s\"", key);
        *out = def;
        return true;
    }
    if (!cJSON_IsNumber(v))
        return sw__scn_fail(p, sub, "expected %s, got %s", integer ? "an integer" : "a number", sw__scn_type_desc(v));
    double x = v->valuedouble;
    if (!isfinite(x)) return sw__scn_fail(p, sub, "number out of range (must be finite, from %.17g to %.17g)", lo, hi);
    if (integer && x != floor(x)) return sw__scn_fail(p, sub, "expected an integer, got %.17g", x);
    if (x < lo || x > hi) return sw__scn_fail(p, sub, "%.17g is out of range (valid: %.17g to %.17g)", x, lo, hi);
    *out = x;
    return true;
}

/* A string matching the name pattern [a-z0-9_-]+ (or, with `loose`, any
 * printable ASCII without quotes or commas, for CSV column names), at most
 * 64 bytes. */
bool sw__scn_check_name(sw__pctx *p, const char *path, const cJSON *v, bool loose) {
    if (!cJSON_IsString(v)) return sw__scn_fail(p, path, "expected a string, got %s", sw__scn_type_desc(v));
    const char *s = v->valuestring;
    size_t n = strlen(s);
    if (n == 0) return sw__scn_fail(p, path, "must not be empty");
    if (n > 64) return sw__scn_fail(p, path, "name is too long (%zu bytes; at most 64)", n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ok = loose ? (c >= 0x21 && c < 0x7f && c != '"' && c != ',' && c != '\'')
                        : ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-');
        if (!ok)
            return sw__scn_fail(p, path, "invalid name \"%.64s\" (%s)", s,
                        loose ? "use letters, digits and punctuation other than quotes and commas; no spaces"
                              : "use lowercase letters, digits, '_' and '-'");
    }
    return true;
}
