/* test_e2e_run.c - `swarmlet run` end to end, with the real binary: the
 * CSV is byte-identical across runs, each kind of bad input exits 2 with its
 * message, a deadlock exits 1 with the scheduler's report. */
#include <criterion/criterion.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

static const char *walkers =
    "{\"format\": 1, \"name\": \"walkers\", \"description\": \"random walkers that die and split\",\n"
    " \"seed\": 3, \"ticks\": 40,\n"
    " \"world\": {\"width\": 25, \"height\": 20, \"topology\": \"torus\"},\n"
    " \"channels\": [{\"name\": \"probe\"}],\n"
    " \"agents\": [{\"kind\": \"probe_walker\", \"count\": 40, \"params\": {\"p_die\": 0.02, \"p_split\": 0.03}},\n"
    "            {\"kind\": \"probe_listener\", \"count\": 2}],\n"
    " \"events\": [{\"tick\": 10, \"channel\": \"probe\", \"message\": {\"tag\": 3}}],\n"
    " \"stats\": [{\"name\": \"mean_x\", \"kind\": \"probe_walker\", \"field\": \"x\", \"op\": \"mean\"},\n"
    "           {\"name\": \"heard\", \"kind\": \"probe_listener\", \"field\": \"heard\", \"op\": \"sum\"}]}\n";

/* A scratch directory holding walkers.json; returns its path (static). */
static const char *setup(const char *name) {
    static char dir[4096];
    const char *d = sw_test_dir(name);
    cr_assert_not_null(d);
    snprintf(dir, sizeof dir, "%s", d);
    char path[4200];
    snprintf(path, sizeof path, "%s/walkers.json", dir);
    cr_assert_eq(sw_test_write(path, walkers), 0);
    return dir;
}

static char *slurp_in(const char *dir, const char *file) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return sw_test_slurp(path, NULL);
}

Test(e2e_run, same_seed_gives_byte_identical_csv_and_another_seed_another) {
    const char *dir = setup("identical");
    char *out = NULL;
    int rc = sw_test_sh(&out, "cd '%s' && '%s' run walkers.json --out a", dir, SW_BINARY);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "walkers: 40 ticks in") != NULL, "%s", out);
    cr_assert(strstr(out, "final population: probe_walker") != NULL, "%s", out);
    cr_assert(strstr(out, "statistics: a/stats.csv") != NULL, "%s", out);
    cr_assert(strchr(out, '\r') == NULL, "no progress line when stderr is not a terminal");
    free(out);
    cr_assert_eq(sw_test_sh(NULL, "cd '%s' && '%s' run walkers.json --out b", dir, SW_BINARY), 0);
    cr_assert_eq(sw_test_sh(NULL, "cd '%s' && '%s' run walkers.json --out c --seed 4", dir, SW_BINARY), 0);
    char *a = slurp_in(dir, "a/stats.csv"), *b = slurp_in(dir, "b/stats.csv"), *c = slurp_in(dir, "c/stats.csv");
    cr_assert_not_null(a);
    cr_assert_not_null(c);
    cr_assert_str_eq(a, b);
    cr_assert_str_neq(a, c);
    cr_assert(strncmp(a, "tick,probe_walker,probe_listener,mean_x,heard\n0,40,2,", 52) == 0, "%.80s", a);
    int lines = 0;
    for (const char *p = a; *p; p++) lines += *p == '\n';
    cr_assert_eq(lines, 42, "a header and ticks 0..40");
    cr_assert(strstr(a, "\n10,") != NULL);
    free(a);
    free(b);
    free(c);
}

Test(e2e_run, ticks_override_and_default_output_directory) {
    const char *dir = setup("defaults");
    char *out = NULL;
    int rc = sw_test_sh(&out, "cd '%s' && '%s' run walkers.json --ticks=5 --quiet", dir, SW_BINARY);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    char *csv = slurp_in(dir, "out/walkers/stats.csv");
    cr_assert_not_null(csv, "default output: out/<name>/stats.csv");
    int lines = 0;
    for (const char *p = csv; *p; p++) lines += *p == '\n';
    cr_assert_eq(lines, 7);
    free(csv);
    rc = sw_test_sh(&out, "cd '%s' && '%s' run walkers.json --ticks 0 --out deep/er/dir", dir, SW_BINARY);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    csv = slurp_in(dir, "deep/er/dir/stats.csv");
    cr_assert_not_null(csv, "parents are created");
    free(csv);
}

/* Run `args` in `dir`; require exit status `want` and `msg` in the output. */
static void expect_run(const char *dir, const char *args, int want, const char *msg) {
    char *out = NULL;
    int rc = sw_test_sh(&out, "cd '%s' && '%s' %s", dir, SW_BINARY, args);
    cr_assert_eq(rc, want, "swarmlet %s: exit %d, want %d\n%s", args, rc, want, out);
    cr_assert(strstr(out, msg) != NULL, "swarmlet %s: output lacks \"%s\":\n%s", args, msg, out);
    free(out);
}

Test(e2e_run, usage_mistakes_exit_2) {
    const char *dir = setup("usage");
    expect_run(dir, "run", 2, "swarmlet run: which scenario?");
    expect_run(dir, "run walkers.json --frobnicate", 2, "unknown option \"--frobnicate\"");
    expect_run(dir, "run walkers.json --ticks", 2, "--ticks needs a value");
    expect_run(dir, "run walkers.json --ticks ten", 2, "--ticks: \"ten\" is not a whole number");
    expect_run(dir, "run walkers.json --ticks -5", 2, "is not a whole number");
    expect_run(dir, "run walkers.json --seed 1.5", 2, "--seed: \"1.5\" is not a whole number");
    expect_run(dir, "run walkers.json --seed 99999999999999999999", 2, "is not a whole number");
    expect_run(dir, "run walkers.json --out", 2, "--out needs a value");
    expect_run(dir, "run walkers.json --out=", 2, "--out needs a non-empty value");
    expect_run(dir, "run walkers.json other.json", 2, "one scenario at a time");
    expect_run(dir, "run --help", 0, "--plot FILE.png");
    expect_run(dir, "run -h", 0, "Exit status: 0 success; 1 the run failed");
    expect_run(dir, "--help", 0, "run a scenario headlessly");
    expect_run(dir, "kinds", 0, "probe_walker - random walk");
    expect_run(dir, "kinds probe_walker", 0, "p_split");
    expect_run(dir, "kinds probe_walkr", 2, "unknown agent kind \"probe_walkr\"");
}

Test(e2e_run, bad_scenario_files_exit_2_with_their_message) {
    const char *dir = setup("bad_files");
    char path[4200];
    struct { const char *file, *text, *msg; } cases[] = {
        {"empty.json", "", "empty.json: the file is empty"},
        {"notjson.json", "{\n  \"format\": 1\n  \"name\": \"x\"\n}", "notjson.json:3:3: not valid JSON"},
        {"kind.json", "{\"format\": 1, \"name\": \"x\", \"description\": \"d\", \"world\": {\"width\": 5, \"height\": 5},"
                      " \"agents\": [{\"kind\": \"probe_walkr\", \"count\": 1}]}",
         "kind.json: $.agents[0].kind: unknown agent kind \"probe_walkr\" (did you mean \"probe_walker\"?"},
        {"key.json", "{\"format\": 1, \"name\": \"x\", \"description\": \"d\", \"world\": {\"width\": 5, \"height\": 5},"
                     " \"agents\": [{\"kind\": \"probe_walker\", \"count\": 1}], \"stat\": []}",
         "key.json: $: unknown key \"stat\" (did you mean \"stats\"?"},
        {"param.json", "{\"format\": 1, \"name\": \"x\", \"description\": \"d\", \"world\": {\"width\": 5, \"height\": 5},"
                       " \"agents\": [{\"kind\": \"probe_walker\", \"count\": 1, \"params\": {\"p_dei\": 1}}]}",
         "param.json: $.agents[0].params: kind \"probe_walker\" has no parameter \"p_dei\" (did you mean \"p_die\"?"},
        {"range.json", "{\"format\": 1, \"name\": \"x\", \"description\": \"d\", \"world\": {\"width\": 5, \"height\": 5},"
                       " \"agents\": [{\"kind\": \"probe_walker\", \"count\": 26, \"place\": \"cell_unique\"}]}",
         "range.json: $.agents[0].count: 26 agents need distinct cells"},
        {"huge.json", "{\"format\": 1, \"name\": \"x\", \"description\": \"d\", \"seed\": 1e999,"
                      " \"world\": {\"width\": 5, \"height\": 5}, \"agents\": [{\"kind\": \"probe_walker\", \"count\": 1}]}",
         "huge.json: $.seed: number out of range"},
        {"event.json", "{\"format\": 1, \"name\": \"x\", \"description\": \"d\", \"world\": {\"width\": 5, \"height\": 5},"
                       " \"agents\": [{\"kind\": \"probe_walker\", \"count\": 1}], \"events\": [{\"tick\": 2, \"channel\": \"probe\"}]}",
         "event.json: $.events[0].channel: no channel named \"probe\" is declared"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, cases[i].file);
        cr_assert_eq(sw_test_write(path, cases[i].text), 0);
        char args[256];
        snprintf(args, sizeof args, "run %s", cases[i].file);
        expect_run(dir, args, 2, cases[i].msg);
    }
    expect_run(dir, "run missing.json", 2, "missing.json: cannot open the scenario: No such file or directory");
    expect_run(dir, "run .", 2, ".: is a directory");
}

Test(e2e_run, an_unwritable_output_exits_2_before_running) {
    const char *dir = setup("unwritable");
    char path[4200];
    snprintf(path, sizeof path, "%s/afile", dir);
    cr_assert_eq(sw_test_write(path, "x"), 0);
    expect_run(dir, "run walkers.json --out afile/sub", 2, "--out afile/sub: cannot create the output directory");
    expect_run(dir, "run walkers.json --out afile", 2, "cannot create the output directory: Not a directory");
    cr_assert_eq(sw_test_sh(NULL, "mkdir -p '%s/ro/stats.csv'", dir), 0); /* stats.csv is a directory */
    expect_run(dir, "run walkers.json --out ro", 2, "ro/stats.csv: cannot write the statistics");
}

/* Write `json` to `dir`/`file` and run it with --out o; returns the exit status. */
static int write_and_run(const char *dir, const char *file, const char *json, char **out) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    cr_assert_eq(sw_test_write(path, json), 0);
    return sw_test_sh(out, "cd '%s' && '%s' run %s --out o", dir, SW_BINARY, file);
}

Test(e2e_run, a_deadlock_exits_1_with_the_schedulers_report) {
    const char *dir = setup("deadlock");
    char *out = NULL;
    int rc = write_and_run(dir, "stuck.json",
        "{\"format\": 1, \"name\": \"stuck\", \"description\": \"a waiter nobody writes to\", \"ticks\": 50,"
        " \"world\": {\"width\": 3, \"height\": 3},"
        " \"agents\": [{\"kind\": \"probe_waiter\", \"count\": 2}]}", &out);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "swarmlet run: deadlock at tick 1: 2 tasklet(s) blocked forever") != NULL, "%s", out);
    cr_assert(strstr(out, "probe_waiter") != NULL, "the report names the blocked kind:\n%s", out);
    free(out);
    char *csv = slurp_in(dir, "o/stats.csv");
    cr_assert_not_null(csv);
    cr_assert_str_eq(csv, "tick,probe_waiter\n0,2\n1,2\n", "rows up to the deadlock");
    free(csv);
}

Test(e2e_run, a_runaway_agent_exits_1_with_the_watchdogs_report) {
    const char *dir = setup("watchdog");
    char *out = NULL;
    int rc = write_and_run(dir, "spin.json",
        "{\"format\": 1, \"name\": \"spin\", \"description\": \"an agent that never sleeps\", \"ticks\": 5,"
        " \"world\": {\"width\": 3, \"height\": 3, \"watchdog\": 1000},"
        " \"agents\": [{\"kind\": \"probe_spinner\", \"count\": 1}]}", &out);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "swarmlet run: watchdog: a probe_spinner ran too long") != NULL, "%s", out);
    cr_assert(strstr(out, "probe_spinner #0") != NULL, "the report names it:\n%s", out);
    free(out);
}

Test(e2e_run, a_terminal_gets_a_progress_line_and_quiet_silences_it) {
    const char *dir = setup("progress");
    if (sw_test_sh(NULL, "command -v script") != 0) {
        cr_skip_test("no script(1): cannot give the run a terminal"); /* reported, not a silent pass */
    }
    char *out = NULL;
    /* script(1) runs the command on a pseudo-terminal, so isatty(2) holds */
    int rc = sw_test_sh(&out, "cd '%s' && script -qfec \"'%s' run walkers.json --out t\" /dev/null", dir, SW_BINARY);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "\rtick ") != NULL, "%s", out);
    cr_assert(strstr(out, "/40  ") != NULL && strstr(out, " ticks/s  population ") != NULL &&
              strstr(out, "  ETA ") != NULL, "%s", out);
    free(out);
    rc = sw_test_sh(&out, "cd '%s' && script -qfec \"'%s' run walkers.json --out t --quiet\" /dev/null", dir, SW_BINARY);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "\rtick ") == NULL, "%s", out);
    free(out);
}

Test(e2e_run, plot_needs_the_viewer) {
    const char *dir = setup("plot");
#ifdef SW_HAVE_VIEWER
    char *out = NULL;
    int rc = sw_test_sh(&out, "cd '%s' && '%s' run walkers.json --plot p.png --quiet", dir, SW_BINARY);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    char *png = slurp_in(dir, "p.png");
    cr_assert_not_null(png);
    cr_assert(memcmp(png, "\x89PNG", 4) == 0);
    free(png);
#else
    expect_run(dir, "run walkers.json --plot p.png", 2,
               "swarmlet run: --plot: this build has no viewer (SDL2 was not found when it was built)");
#endif
}

Test(e2e_run, every_shipped_scenario_runs) {
    glob_t g;
    char pattern[4200];
    snprintf(pattern, sizeof pattern, "%s/scenarios/*.json", SW_SOURCE_DIR);
    /* scenarios/ ships with the source: finding none is a failure, not a pass. */
    int found = glob(pattern, 0, NULL, &g);
    cr_assert_eq(found, 0, "no scenarios/*.json under %s", SW_SOURCE_DIR);
    snprintf(pattern, sizeof pattern, "%s/scenarios/bench/*.json", SW_SOURCE_DIR);
    found = glob(pattern, GLOB_APPEND, NULL, &g);
    cr_assert_eq(found, 0, "no scenarios/bench/*.json under %s", SW_SOURCE_DIR);
    cr_assert_gt(g.gl_pathc, 0);
    const char *dir = sw_test_dir("shipped");
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char *out = NULL;
        int rc = sw_test_sh(&out, "cd '%s' && '%s' run '%s' --ticks 3 --out o%zu --quiet", dir, SW_BINARY,
                            g.gl_pathv[i], i);
        cr_assert_eq(rc, 0, "%s: %s", g.gl_pathv[i], out);
        free(out);
    }
    globfree(&g);
}
