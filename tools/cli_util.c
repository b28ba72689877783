/* cli_util.c - small helpers every command shares: the wall clock it times
 * itself with, and the parser for the whole numbers its flags take. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double sw_cli_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

bool sw_cli_parse_count(const char *s, uint64_t *out) {
    if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 16) return false;
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    if (errno || v > (1ull << 53)) return false;
    *out = v;
    return true;
}
