/* test_bench_micro.c - `swarmlet bench micro` runs and reports every figure:
 * a smoke test of the command (with --quick), not a timing. */
#include <criterion/criterion.h>
#include "support.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

Test(bench_micro, quick_json_has_every_key) {
    char *out = NULL;
    int rc = sw_test_sh(&out, "%s bench micro --quick --json 2>/dev/null", SW_BINARY);
    cr_assert_eq(rc, 0, "%s", out);
    cJSON *root = cJSON_Parse(out);
    cr_assert_not_null(root, "not JSON: %s", out);
    static const char *const keys[] = {"handoff_ns", "spawn_ns", "bytes_per_tasklet", "dense_wakeups_per_sec",
                                       "sparse_wakeups_per_sec", "floor_call_ns"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, keys[i]);
        cr_assert(cJSON_IsNumber(v), "%s missing in %s", keys[i], out);
        cr_assert_gt(v->valuedouble, 0, "%s is %g", keys[i], v->valuedouble);
    }
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "quick")));
    cJSON_Delete(root);
    free(out);
}

Test(bench_micro, table_names_each_figure_and_its_baseline) {
    char *out = NULL;
    int rc = sw_test_sh(&out, "%s bench micro --quick", SW_BINARY);
    cr_assert_eq(rc, 0, "%s", out);
    static const char *const lines[] = {"channel handoff", "Go 130-150 ns", "spawn + first run", "goroutine 1.4-3 us",
                                        "engine bytes per blocked tasklet", "dense ticks", "sparse ticks",
                                        "floor: one indirect call"};
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) cr_assert(strstr(out, lines[i]), "no \"%s\" in:\n%s", lines[i], out);
    free(out);
}

Test(bench_micro, usage_errors_exit_2) {
    char *out = NULL;
    cr_assert_eq(sw_test_sh(&out, "%s bench", SW_BINARY), 2);
    cr_assert(strstr(out, "micro"), "%s", out);
    free(out);
    cr_assert_eq(sw_test_sh(&out, "%s bench nosuch", SW_BINARY), 2);
    cr_assert(strstr(out, "unknown suite \"nosuch\""), "%s", out);
    free(out);
    cr_assert_eq(sw_test_sh(&out, "%s bench micro --bogus", SW_BINARY), 2);
    cr_assert(strstr(out, "--bogus"), "%s", out);
    free(out);
    cr_assert_eq(sw_test_sh(&out, "%s bench micro --help", SW_BINARY), 0);
    cr_assert(strstr(out, "--quick"), "%s", out);
    free(out);
}
