#include <criterion/criterion.h>
#include "support.h"
#include <stdlib.h>

Test(cli, demo_runs) {
    char *out = NULL;
    int rc = sw_test_sh(&out, "%s demo", SW_BINARY);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "everyone went home (ok)"), "%s", out);
    free(out);
}
