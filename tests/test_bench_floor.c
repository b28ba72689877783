/* test_bench_floor.c - `swarmlet bench floor` runs and reports every figure
 * (with --quick: a smoke test of the command, not a timing), and turns bad
 * flags down with exit status 2. */
#include <criterion/criterion.h>
#include "support.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const configs[] = {"wolf_sheep_small", "wolf_sheep_large", "flocking_small",
                                      "flocking_large", "schelling_small", "schelling_large"};

static double number_of(const cJSON *root, const char *config, const char *suffix, const char *out) {
    char key[64];
    snprintf(key, sizeof key, "%s%s", config, suffix);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    cr_assert(cJSON_IsNumber(v), "%s missing in %s", key, out);
    return v->valuedouble;
}

Test(bench_floor, quick_json_has_every_key) {
    char *out = NULL;
    int rc = sw_test_sh(&out, "%s bench floor --quick --json 2>/dev/null", SW_BINARY);
    cr_assert_eq(rc, 0, "%s", out);
    cJSON *root = cJSON_Parse(out);
    cr_assert_not_null(root, "not JSON: %s", out);
    for (size_t i = 0; i < sizeof configs / sizeof *configs; i++) {
        cr_assert_gt(number_of(root, configs[i], "_ms", out), 0);
        cr_assert_gt(number_of(root, configs[i], "_steps_ms", out), 0);
        cr_assert_gt(number_of(root, configs[i], "_turns", out), 0);
        cr_assert_null(cJSON_GetObjectItemCaseSensitive(root, "flocking_small_swarmlet_ms"),
                       "Swarmlet timed without --vs-swarmlet: %s", out);
    }
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(root, "runs")->valueint, 3);
    cJSON_Delete(root);
    free(out);
}

Test(bench_floor, vs_swarmlet_times_both_and_gives_the_ratio) {
    char *out = NULL;
    int rc = sw_test_sh(&out, "%s bench floor --runs 2 --only schelling_small,flocking_small "
                              "--vs-swarmlet --json 2>/dev/null", SW_BINARY);
    cr_assert_eq(rc, 0, "%s", out);
    cJSON *root = cJSON_Parse(out);
    cr_assert_not_null(root, "not JSON: %s", out);
    const char *both[] = {"schelling_small", "flocking_small"};
    for (int i = 0; i < 2; i++) {
        double plain = number_of(root, both[i], "_ms", out), sw = number_of(root, both[i], "_swarmlet_ms", out);
        double ratio = number_of(root, both[i], "_swarmlet_vs_plain", out);
        cr_assert_gt(plain, 0);
        cr_assert_gt(sw, 0);
        cr_assert_float_eq(ratio, sw / plain, 0.01 * ratio + 1e-3, "%s", out);
    }
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(root, "wolf_sheep_small_ms"), "--only ignored: %s", out);
    cJSON_Delete(root);
    free(out);
}

Test(bench_floor, the_table_names_each_model) {
    char *out = NULL;
    int rc = sw_test_sh(&out, "%s bench floor --quick --only small --vs-swarmlet", SW_BINARY);
    cr_assert_eq(rc, 0, "%s", out);
    static const char *const lines[] = {"wolf-sheep small", "flocking small", "schelling small", "Swarmlet ms",
                                        "ratio = Swarmlet / plain C"};
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) cr_assert(strstr(out, lines[i]), "no \"%s\" in:\n%s", lines[i], out);
    cr_assert_null(strstr(out, "large"), "--only small ran a large model:\n%s", out);
    free(out);
}

Test(bench_floor, bad_flags_exit_2_with_a_clear_message) {
    static const struct {
        const char *args, *says;
    } bad[] = {
        {"--bogus", "unknown flag \"--bogus\""},
        {"--runs 0", "--runs: \"0\" is not a count from 1 to 100000"},
        {"--runs x", "--runs: \"x\" is not a count"},
        {"--runs", "unknown flag \"--runs\""}, /* no value */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *out = NULL;
        cr_assert_eq(sw_test_sh(&out, "%s bench floor %s", SW_BINARY, bad[i].args), 2, "%s: %s", bad[i].args, out);
        cr_assert(strstr(out, "swarmlet bench floor"), "%s: %s", bad[i].args, out);
        cr_assert(strstr(out, bad[i].says), "%s: no \"%s\" in %s", bad[i].args, bad[i].says, out);
        free(out);
    }
    char *out = NULL;
    cr_assert_eq(sw_test_sh(&out, "%s bench floor --help", SW_BINARY), 0);
    cr_assert(strstr(out, "--vs-swarmlet"), "%s", out);
    free(out);
    cr_assert_eq(sw_test_sh(&out, "%s bench nosuch", SW_BINARY), 2);
    cr_assert(strstr(out, "floor"), "the suites' list names floor: %s", out);
    free(out);
}
