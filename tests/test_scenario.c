/* test_scenario.c - the scenario loader: what it accepts, the defaults it
 * fills in, and one clear message for every mistake a person can make. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "support.h"

typedef struct {
    double gain;
    int32_t age;
    bool tame;
    float energy;
} beast;

static sw_step beast_run(sw_tasklet *t, void *frame) {
    SW_BEGIN(t, nap);
    for (;;) SW_SLEEP(t, nap, 1);
    SW_END(t);
}

static const sw_field beast_fields[] = {
    SW_PARAM(beast, gain, SW_T_F64, 4.0, "energy per meal"),
    SW_PARAM(beast, age, SW_T_I32, 3, "starting age"),
    SW_PARAM(beast, tame, SW_T_BOOL, 0, "tame or not"),
    SW_FIELD(beast, energy, SW_T_F32), SW_FIELD_END};
static const sw_kind sheep = {.name = "sheep", .frame_size = sizeof(beast), .fields = beast_fields,
                              .run = beast_run, .place = SW_PLACE_CELL, .color = 0xeeeeee};
static const sw_kind wolf = {.name = "wolf", .frame_size = sizeof(beast), .fields = beast_fields,
                             .run = beast_run, .place = SW_PLACE_CELL};
static const sw_kind grass = {.name = "grass", .frame_size = sizeof(beast), .fields = beast_fields,
                              .run = beast_run, .place = SW_PLACE_EVERY_CELL};
static const sw_kind *const kinds[] = {&sheep, &wolf, &grass, NULL};

static char err[1024];

static sw_scenario *parse(const char *json) {
    return sw_scenario_parse(json, strlen(json), "x.json", kinds, err, sizeof err);
}

/* A valid scenario with `extra` spliced in at the top level (and `agents`
 * replaced when extra names it first). */
static const char *with(const char *extra) {
    static char buf[8192];
    snprintf(buf, sizeof buf,
             "{\"format\": 1, \"name\": \"t\", \"description\": \"a test\", %s%s"
             "\"world\": {\"width\": 10, \"height\": 8}%s}",
             extra, *extra ? ", " : "",
             strstr(extra, "\"agents\"") ? "" : ", \"agents\": [{\"kind\": \"sheep\", \"count\": 5}]");
    return buf;
}

#define expect_error(json, ...)                                                                   \
    do {                                                                                          \
        sw_scenario *sc_ = parse(json);                                                           \
        cr_assert_null(sc_, "accepted: %s", json);                                                \
        const char *want_[] = {__VA_ARGS__};                                                      \
        for (size_t i_ = 0; i_ < sizeof want_ / sizeof *want_; i_++)                              \
            cr_assert(strstr(err, want_[i_]) != NULL, "message \"%s\" lacks \"%s\"", err, want_[i_]); \
        cr_assert(strchr(err, '\n') == NULL, "one line: %s", err);                                 \
    } while (0)

Test(scenario, a_minimal_scenario_loads_with_documented_defaults) {
    sw_scenario *sc = parse(with(""));
    cr_assert_not_null(sc, "%s", err);
    cr_assert_str_eq(sw_scenario_name(sc), "t");
    cr_assert_str_eq(sw_scenario_description(sc), "a test");
    cr_assert_eq(sw_scenario_seed(sc), 42);
    cr_assert_eq(sw_scenario_ticks(sc), 100);
    cr_assert_eq(sw_scenario_snapshot_every(sc), 0);
    const sw_kind *const *k = sw_scenario_kinds(sc);
    cr_assert_eq(k[0], &sheep);
    cr_assert_null(k[1]);
    sw_scenario_free(sc);
}

Test(scenario, a_full_scenario_loads) {
    sw_scenario *sc = parse(
        "{\"format\": 1, \"name\": \"wolf_sheep-2\", \"description\": \"d\", \"seed\": 9, \"ticks\": 5,"
        " \"world\": {\"width\": 51, \"height\": 40, \"topology\": \"torus\", \"space_cell\": 5.0,"
        "            \"watchdog\": 1000, \"mailbox_capacity\": 8},"
        " \"schedule\": {\"order\": [\"sheep\", \"wolf\", \"grass\"], \"random\": [\"sheep\", \"wolf\"]},"
        " \"layers\": [{\"name\": \"heat\", \"init\": 1.5}, {\"name\": \"grass\"}],"
        " \"channels\": [{\"name\": \"dawn\", \"kind\": \"event\"}, {\"name\": \"q\", \"kind\": \"buffered\", \"capacity\": 8},"
        "                {\"name\": \"door\", \"kind\": \"rendezvous\", \"preference\": 0}],"
        " \"agents\": [{\"kind\": \"wolf\", \"count\": 10, \"params\": {\"gain\": 20, \"age\": 1, \"tame\": true},"
        "               \"color\": \"#ff0000\"},"
        "              {\"kind\": \"sheep\", \"count\": 100, \"place\": \"cell_unique\"},"
        "              {\"kind\": \"grass\", \"place\": \"every_cell\", \"density\": 0.5},"
        "              {\"kind\": \"sheep\", \"at\": [[3, 4], [10, 2]]},"
        "              {\"kind\": \"sheep\", \"place\": \"point\", \"count\": 2}],"
        " \"events\": [{\"tick\": 3, \"channel\": \"dawn\", \"message\": {\"tag\": 1, \"i\": -2, \"x\": 0.5, \"y\": 1}}],"
        " \"stats\": [{\"name\": \"mean_wolf_age\", \"kind\": \"wolf\", \"field\": \"age\", \"op\": \"mean\"},"
        "            {\"name\": \"tame\", \"kind\": \"wolf\", \"field\": \"tame\", \"op\": \"count\", \"equals\": 1},"
        "            {\"name\": \"heat.max\", \"layer\": \"heat\", \"op\": \"max\"}],"
        " \"output\": {\"snapshot_every\": 2}}");
    cr_assert_not_null(sc, "%s", err);
    const sw_kind *const *k = sw_scenario_kinds(sc);
    cr_assert_eq(k[0], &wolf, "kinds in order of first appearance in agents");
    cr_assert_eq(k[1], &sheep);
    cr_assert_eq(k[2], &grass);
    cr_assert_null(k[3]);
    cr_assert_eq(sw_scenario_snapshot_every(sc), 2);
    cr_assert_eq(sw_scenario_kind_color(sc, &wolf), 0xff0000, "the scenario's colour");
    cr_assert_eq(sw_scenario_kind_color(sc, &sheep), 0xeeeeee, "the kind's own colour");
    cr_assert_neq(sw_scenario_kind_color(sc, &grass), 0, "a palette colour");
    sw_scenario_free(sc);
}

Test(scenario, kinds_named_only_by_stats_or_schedule_come_after_the_agents_kinds) {
    sw_scenario *sc = parse(with("\"schedule\": {\"order\": [\"grass\", \"sheep\"]}, "
                                 "\"stats\": [{\"name\": \"wolves\", \"kind\": \"wolf\", \"op\": \"count\"}]"));
    cr_assert_not_null(sc, "%s", err);
    const sw_kind *const *k = sw_scenario_kinds(sc);
    cr_assert_eq(k[0], &sheep);
    cr_assert_eq(k[1], &grass);
    cr_assert_eq(k[2], &wolf);
    sw_scenario_free(sc);
}

Test(scenario, canonical_json_reads_back_equal_and_carries_overrides) {
    sw_scenario *sc = parse(with("\"seed\": 5, \"events\": [], \"layers\": [{\"name\": \"g\", \"init\": 0.1}]"));
    cr_assert_not_null(sc, "%s", err);
    sw_scenario_set_seed(sc, 77);
    sw_scenario_set_ticks(sc, 12);
    cr_assert_eq(sw_scenario_seed(sc), 77);
    cr_assert_eq(sw_scenario_ticks(sc), 12);
    const char *json = sw_scenario_json(sc);
    cr_assert_not_null(json);
    sw_scenario *back = sw_scenario_parse(json, strlen(json), "snapshot", kinds, err, sizeof err);
    cr_assert_not_null(back, "%s", err);
    cr_assert_eq(sw_scenario_seed(back), 77);
    cr_assert_eq(sw_scenario_ticks(back), 12);
    cr_assert_str_eq(sw_scenario_json(back), json);
    sw_scenario_free(back);
    sw_scenario_free(sc);
}

/* ---- not JSON --------------------------------------------------------------------- */

Test(scenario, invalid_json_names_line_and_column) {
    expect_error("{\n  \"format\": 1,\n  \"name\": ]\n}", "x.json:3:11: not valid JSON");
    expect_error("{\"format\": 1", "x.json:1:13:", "ends too early");
    expect_error("{\"a\": 1} trailing", "x.json:1:10: not valid JSON");
    expect_error("{\"a\": 1}\n\n  {", "x.json:3:4:", "ends too early");
    expect_error("{\"a\": 1}\n\n  x", "x.json:3:3: not valid JSON near 'x'");
    expect_error("{\"a\": NaN}", "not valid JSON");
    expect_error("", "x.json: the file is empty");
    expect_error("  \n\t ", "the file is empty");
    expect_error("[1, 2]", "x.json: $: expected an object, got an array");
    expect_error("42", "$: expected an object, got a number");
}

Test(scenario, deep_nesting_is_an_error_not_a_crash) {
    static char deep[20000];
    size_t n = 0;
    for (int i = 0; i < 5000; i++) deep[n++] = '[';
    for (int i = 0; i < 5000; i++) deep[n++] = ']';
    deep[n] = '\0';
    expect_error(deep, "not valid JSON: nested more than 1000 levels deep");
}

/* ---- structure ------------------------------------------------------------------- */

Test(scenario, required_keys_and_format) {
    expect_error("{\"name\": \"t\"}", "$: missing required key \"format\"", "\"format\": 1");
    expect_error("{\"format\": 2, \"name\": \"t\"}", "$.format: unsupported format");
    expect_error("{\"format\": 1, \"description\": \"d\"}", "$: missing required key \"name\"");
    expect_error("{\"format\": 1, \"name\": \"t\"}", "missing required key \"description\"");
    expect_error("{\"format\": 1, \"name\": \"t\", \"description\": \"\"}", "$.description: must not be empty");
    expect_error("{\"format\": 1, \"name\": \"t\", \"description\": \"d\"}", "$: missing required key \"world\"");
    expect_error("{\"format\": 1, \"name\": \"t\", \"description\": \"d\", \"world\": {\"width\": 3, \"height\": 3}}",
                 "missing required key \"agents\"");
    expect_error(with("\"agents\": []"), "$.agents: must list at least one kind of agent");
}

Test(scenario, unknown_keys_suggest_the_nearest_valid_one) {
    expect_error(with("\"tick\": 5"), "x.json: $: unknown key \"tick\" (did you mean \"ticks\"?", "valid keys: agents,");
    expect_error(with("\"wrld\": {}"), "did you mean \"world\"?");
    expect_error(with("\"zzzzzzzz\": 1"), "$: unknown key \"zzzzzzzz\" (valid keys:");
    expect_error("{\"format\": 1, \"name\": \"t\", \"description\": \"d\", "
                 "\"world\": {\"width\": 3, \"height\": 3, \"topolgy\": \"torus\"}}",
                 "$.world: unknown key \"topolgy\" (did you mean \"topology\"?");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"cuont\": 3}]"),
                 "$.agents[0]: unknown key \"cuont\" (did you mean \"count\"?");
    expect_error(with("\"events\": [{\"tick\": 1, \"channel\": \"c\", \"mesage\": {}}]"), "did you mean \"message\"?");
    expect_error(with("\"seed\": 1, \"seed\": 2"), "$: key \"seed\" appears twice");
    expect_error(with("\"a\\nb\\u0001\": 1"), "$: unknown key \"a?b?\"");
}

Test(scenario, wrong_types_say_what_was_expected) {
    expect_error(with("\"seed\": \"42\""), "$.seed: expected an integer, got a string");
    expect_error(with("\"ticks\": 1.5"), "$.ticks: expected an integer, got 1.5");
    expect_error(with("\"ticks\": true"), "$.ticks: expected an integer, got a boolean");
    expect_error(with("\"layers\": {}"), "$.layers: expected an array, got an object");
    expect_error(with("\"schedule\": {\"random\": 3}"), "$.schedule.random: expected true, false or an array");
    expect_error(with("\"agents\": [{\"kind\": 3, \"count\": 1}]"), "$.agents[0].kind: expected an agent kind name");
    expect_error(with("\"agents\": [7]"), "$.agents[0]: expected an object, got a number");
    expect_error("{\"format\": 1, \"name\": \"t\", \"description\": \"d\", \"world\": {\"width\": null, \"height\": 3}}",
                 "$.world.width: expected an integer, got null");
}

Test(scenario, names_are_checked) {
    expect_error("{\"format\": 1, \"name\": \"Wolf Sheep\", \"description\": \"d\"}",
                 "$.name: invalid name \"Wolf Sheep\"", "lowercase");
    expect_error("{\"format\": 1, \"name\": \"../x\", \"description\": \"d\"}", "$.name: invalid name");
    expect_error("{\"format\": 1, \"name\": \"\", \"description\": \"d\"}", "$.name: must not be empty");
}

/* ---- numbers ------------------------------------------------------------------------ */

Test(scenario, out_of_range_and_non_finite_numbers_are_refused) {
    expect_error(with("\"ticks\": -1"), "$.ticks: -1 is out of range (valid: 0 to");
    expect_error(with("\"seed\": 1e999"), "$.seed: number out of range (must be finite");
    expect_error(with("\"seed\": 1e300"), "$.seed:", "out of range");
    expect_error("{\"format\": 1, \"name\": \"t\", \"description\": \"d\", \"world\": {\"width\": 0, \"height\": 3}}",
                 "$.world.width: 0 is out of range (valid: 1 to 1048576)");
    expect_error("{\"format\": 1, \"name\": \"t\", \"description\": \"d\", \"world\": {\"width\": 3, \"height\": 3, "
                 "\"space_cell\": -1e999}}", "$.world.space_cell: number out of range");
    expect_error(with("\"layers\": [{\"name\": \"g\", \"init\": 1e999}]"), "$.layers[0].init: number out of range");
    expect_error(with("\"events\": [{\"tick\": 0, \"channel\": \"x\"}]"), "$.events[0].tick: 0 is out of range (valid: 1 to");
}

Test(scenario, worlds_and_populations_too_big_for_memory_are_refused) {
    expect_error("{\"format\": 1, \"name\": \"t\", \"description\": \"d\", "
                 "\"world\": {\"width\": 1048576, \"height\": 1048576}}",
                 "$.world: a 1048576x1048576 world has", "too many to fit in memory");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"count\": 1e12}]"), "$.agents[0].count:", "out of range");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"count\": 30000000}, {\"kind\": \"wolf\", \"count\": 30000000}]"),
                 "$.agents[1].count: the scenario asks for 60000000 agents in all, too many");
    expect_error("{\"format\": 1, \"name\": \"t\", \"description\": \"d\", "
                 "\"world\": {\"width\": 100000, \"height\": 100000, \"space_cell\": 0.001}}", "$.world", "too many");
}

/* ---- agents ---------------------------------------------------------------------------- */

Test(scenario, unknown_kinds_list_the_known_ones) {
    expect_error(with("\"agents\": [{\"kind\": \"wolff\", \"count\": 1}]"),
                 "x.json: $.agents[0].kind: unknown agent kind \"wolff\" (did you mean \"wolf\"? known: grass, sheep, wolf)");
    expect_error(with("\"agents\": [{\"kind\": \"dragon\", \"count\": 1}]"),
                 "unknown agent kind \"dragon\" (known: grass, sheep, wolf)");
    expect_error(with("\"schedule\": {\"order\": [\"sheep\", \"shep\"]}"), "$.schedule.order[1]: unknown agent kind \"shep\"");
    expect_error(with("\"schedule\": {\"order\": [\"sheep\", \"sheep\"]}"), "$.schedule.order[1]: kind \"sheep\" is listed twice");
}

Test(scenario, parameters_are_checked_against_the_kinds_schema) {
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"count\": 1, \"params\": {\"gian\": 2}}]"),
                 "$.agents[0].params: kind \"sheep\" has no parameter \"gian\" (did you mean \"gain\"? parameters: age, gain, tame)");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"count\": 1, \"params\": {\"energy\": 2}}]"),
                 "\"energy\" is internal state of kind \"sheep\", not a parameter (parameters: age, gain, tame)");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"count\": 1, \"params\": {\"gain\": \"lots\"}}]"),
                 "$.agents[0].params.gain: expected a number, got a string");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"count\": 1, \"params\": {\"age\": 2.5}}]"),
                 "$.agents[0].params.age: expected an integer (parameter type i32), got 2.5");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"count\": 1, \"params\": {\"age\": 3e9}}]"),
                 "$.agents[0].params.age: 3000000000 is out of range for a parameter of type i32");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"count\": 1, \"params\": {\"gain\": 1e999}}]"),
                 "$.agents[0].params.gain: number out of range");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"count\": 1, \"params\": {\"gain\": true}}]"),
                 "expected a number (parameter type f64), got a boolean");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"count\": 1, \"params\": [1]}]"),
                 "$.agents[0].params: expected an object of parameters");
}

Test(scenario, placements_are_checked) {
    expect_error(with("\"agents\": [{\"kind\": \"sheep\"}]"), "$.agents[0]: missing required key \"count\"");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"count\": 81, \"place\": \"cell_unique\"}]"),
                 "$.agents[0].count: 81 agents need distinct cells but the 10x8 world has only 80");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"count\": 50, \"place\": \"cell_unique\"},"
                      " {\"kind\": \"wolf\", \"count\": 31, \"place\": \"cell_unique\"}]"),
                 "$.agents[1]: the agents placed on distinct cells so far (81) outnumber the 80 cells");
    expect_error(with("\"agents\": [{\"kind\": \"grass\", \"count\": 5}]"),
                 "$.agents[0]: \"count\" is not valid with \"place\": \"every_cell\"");
    expect_error(with("\"agents\": [{\"kind\": \"grass\", \"density\": 1.5}]"), "$.agents[0].density: 1.5 is out of range");
    expect_error(with("\"agents\": [{\"kind\": \"grass\", \"density\": 0}]"), "$.agents[0].density: 0 is out of range");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"count\": 3, \"density\": 0.5}]"),
                 "\"density\" is only valid with \"place\": \"every_cell\"");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"count\": 3, \"place\": \"everywhere\"}]"),
                 "$.agents[0].place: unknown placement \"everywhere\" (valid: \"at\", \"cell\"");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"at\": [[10, 0]]}]"),
                 "$.agents[0].at[0]: cell [10, 0] is outside the 10x8 world (x from 0 to 9, y from 0 to 7)");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"at\": [[1, 2, 3]]}]"), "$.agents[0].at[0]: expected a cell [x, y]");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"at\": [[1, 2]], \"count\": 2}]"),
                 "\"count\" is 2 but \"at\" lists 1 cells");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"place\": \"at\"}]"), "\"place\": \"at\" needs \"at\"");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"count\": 1, \"color\": \"red\"}]"),
                 "$.agents[0].color: invalid colour \"red\" (expected \"#rrggbb\"");
}

/* ---- layers, channels, events, stats -------------------------------------------------------- */

Test(scenario, duplicate_names_are_refused) {
    expect_error(with("\"layers\": [{\"name\": \"g\"}, {\"name\": \"g\"}]"), "$.layers[1].name: a layer named \"g\" is already declared");
    expect_error(with("\"channels\": [{\"name\": \"c\"}, {\"name\": \"c\"}]"), "$.channels[1].name: a channel named \"c\" is already declared");
    expect_error(with("\"stats\": [{\"name\": \"s\", \"kind\": \"sheep\", \"op\": \"count\"},"
                      " {\"name\": \"s\", \"kind\": \"sheep\", \"op\": \"count\"}]"),
                 "$.stats[1].name: a statistic named \"s\" is already declared");
    expect_error(with("\"stats\": [{\"name\": \"sheep\", \"kind\": \"sheep\", \"op\": \"count\"}]"),
                 "\"sheep\" is already the column counting that kind's agents");
    expect_error(with("\"stats\": [{\"name\": \"tick\", \"kind\": \"sheep\", \"op\": \"count\"}]"), "\"tick\" is the name of the first column");
}

Test(scenario, channels_are_checked) {
    expect_error(with("\"channels\": [{\"name\": \"c\", \"kind\": \"mailbox\"}]"),
                 "$.channels[0].kind: unknown channel kind \"mailbox\" (valid: \"buffered\", \"event\", \"rendezvous\")");
    expect_error(with("\"channels\": [{\"name\": \"c\", \"capacity\": 3}]"), "\"capacity\" is only valid for a \"buffered\" channel");
    expect_error(with("\"channels\": [{\"name\": \"c\", \"kind\": \"buffered\", \"capacity\": 0}]"), "$.channels[0].capacity: 0 is out of range");
    expect_error(with("\"channels\": [{\"name\": \"c\", \"kind\": \"rendezvous\", \"preference\": 2}]"),
                 "$.channels[0].preference: 2 is out of range (valid: -1 to 1)");
}

Test(scenario, events_name_declared_channels) {
    expect_error(with("\"channels\": [{\"name\": \"dawn\"}], \"events\": [{\"tick\": 3, \"channel\": \"dwan\"}]"),
                 "$.events[0].channel: no channel named \"dwan\" is declared in \"channels\" (did you mean \"dawn\"? declared: dawn)");
    expect_error(with("\"events\": [{\"tick\": 3, \"channel\": \"x\"}]"), "(declared: none)");
    expect_error(with("\"channels\": [{\"name\": \"d\"}], \"events\": [{\"tick\": 3, \"channel\": \"d\", \"message\": {\"tag\": 1e10}}]"),
                 "$.events[0].message.tag: 10000000000 is out of range");
    expect_error(with("\"channels\": [{\"name\": \"d\"}], \"events\": [{\"tick\": 3, \"channel\": \"d\", \"message\": {\"who\": 1}}]"),
                 "$.events[0].message: unknown key \"who\"");
}

Test(scenario, stats_name_known_kinds_fields_and_layers) {
    expect_error(with("\"stats\": [{\"name\": \"s\", \"kind\": \"sheep\", \"field\": \"gian\", \"op\": \"mean\"}]"),
                 "$.stats[0].field: kind \"sheep\" has no numeric field \"gian\" (did you mean \"gain\"? fields: age, energy, gain, tame)");
    expect_error(with("\"stats\": [{\"name\": \"s\", \"kind\": \"cow\", \"field\": \"age\", \"op\": \"mean\"}]"),
                 "$.stats[0].kind: unknown agent kind \"cow\"");
    expect_error(with("\"stats\": [{\"name\": \"s\", \"layer\": \"grass\", \"op\": \"mean\"}]"),
                 "$.stats[0].layer: no layer named \"grass\" is declared in \"layers\" (declared: none)");
    expect_error(with("\"stats\": [{\"name\": \"s\", \"kind\": \"sheep\", \"field\": \"age\", \"op\": \"median\"}]"),
                 "$.stats[0].op: unknown operation \"median\"");
    expect_error(with("\"stats\": [{\"name\": \"s\", \"kind\": \"sheep\", \"op\": \"mean\"}]"),
                 "$.stats[0]: missing required key \"field\"");
    expect_error(with("\"stats\": [{\"name\": \"s\", \"op\": \"mean\"}]"), "give exactly one of \"kind\"");
    expect_error(with("\"stats\": [{\"name\": \"s\", \"kind\": \"sheep\", \"field\": \"age\", \"op\": \"mean\", \"equals\": 1}]"),
                 "\"equals\" is only valid with \"op\": \"count\"");
    expect_error(with("\"layers\": [{\"name\": \"g\"}], \"stats\": [{\"name\": \"s\", \"layer\": \"g\", \"op\": \"count\"}]"),
                 "\"op\": \"count\" is not valid for a layer");
    expect_error(with("\"stats\": [{\"name\": \"a,b\", \"kind\": \"sheep\", \"op\": \"count\"}]"), "$.stats[0].name: invalid name");
}

/* ---- files ------------------------------------------------------------------------------------ */

Test(scenario, files_that_cannot_be_scenarios_are_refused) {
    const char *dir = sw_test_dir("scenario_files");
    cr_assert_not_null(dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/missing.json", dir);
    cr_assert_null(sw_scenario_load(path, kinds, err, sizeof err));
    cr_assert(strstr(err, "missing.json: cannot open the scenario: No such file or directory") != NULL, "%s", err);
    cr_assert_null(sw_scenario_load(dir, kinds, err, sizeof err));
    cr_assert(strstr(err, "is a directory") != NULL, "%s", err);
    snprintf(path, sizeof path, "%s/empty.json", dir);
    cr_assert_eq(sw_test_write(path, ""), 0);
    cr_assert_null(sw_scenario_load(path, kinds, err, sizeof err));
    cr_assert(strstr(err, "empty.json: the file is empty") != NULL, "%s", err);
    snprintf(path, sizeof path, "%s/ok.json", dir);
    cr_assert_eq(sw_test_write(path, with("")), 0);
    sw_scenario *sc = sw_scenario_load(path, kinds, err, sizeof err);
    cr_assert_not_null(sc, "%s", err);
    sw_scenario_free(sc);
    snprintf(path, sizeof path, "%s/nul.json", dir);
    FILE *f = fopen(path, "wb");
    fwrite("{\"a\"\0: 1}", 1, 9, f);
    fclose(f);
    cr_assert_null(sw_scenario_load(path, kinds, err, sizeof err));
    cr_assert(strstr(err, "nul.json:1:5: not valid JSON: a NUL byte") != NULL, "%s", err);
}

Test(scenario, errors_fit_a_small_buffer_and_a_null_one) {
    char small[16];
    cr_assert_null(sw_scenario_parse("{", 1, "x.json", kinds, small, sizeof small));
    cr_assert_eq(strlen(small), sizeof small - 1);
    cr_assert_null(sw_scenario_parse("{", 1, "x.json", kinds, NULL, 0));
    cr_assert_null(sw_scenario_parse(with("\"tick\": 1"), strlen(with("\"tick\": 1")), "x", kinds, NULL, 0));
}

/* ---- marks and colours for the viewer ------------------------------------------------------ */

Test(scenario, marks_parse_and_round_trip) {
    sw_scenario *sc = parse(with("\"agents\": [{\"kind\": \"sheep\", \"count\": 2, \"mark\": \"square\"},"
                                 " {\"kind\": \"wolf\", \"count\": 1, \"mark\": \"none\"},"
                                 " {\"kind\": \"sheep\", \"count\": 1, \"mark\": \"square\"},"
                                 " {\"kind\": \"grass\", \"place\": \"every_cell\"}]"));
    cr_assert_not_null(sc, "%s", err);
    cr_assert_eq(sw_scenario_kind_mark(sc, &sheep), SW_MARK_SQUARE);
    cr_assert_eq(sw_scenario_kind_mark(sc, &wolf), SW_MARK_NONE);
    cr_assert_eq(sw_scenario_kind_mark(sc, &grass), SW_MARK_DEFAULT, "unset: the viewer chooses");
    /* Kept in the canonical JSON, and read back the same. */
    const char *json = sw_scenario_json(sc);
    cr_assert(strstr(json, "\"mark\":\"square\"") && strstr(json, "\"mark\":\"none\""), "%s", json);
    sw_scenario *back = sw_scenario_parse(json, strlen(json), "snapshot", kinds, err, sizeof err);
    cr_assert_not_null(back, "%s", err);
    cr_assert_eq(sw_scenario_kind_mark(back, &sheep), SW_MARK_SQUARE);
    cr_assert_eq(sw_scenario_kind_mark(back, &wolf), SW_MARK_NONE);
    cr_assert_eq(sw_scenario_kind_mark(back, &grass), SW_MARK_DEFAULT);
    cr_assert_str_eq(sw_scenario_json(back), json);
    sw_scenario_free(back);
    sw_scenario_free(sc);

    /* Every documented value, by name. */
    static const char *const names[] = {"square", "disc", "arrow", "dot", "none"};
    static const sw_mark marks[] = {SW_MARK_SQUARE, SW_MARK_DISC, SW_MARK_ARROW, SW_MARK_DOT, SW_MARK_NONE};
    for (int i = 0; i < 5; i++) {
        char extra[256];
        snprintf(extra, sizeof extra, "\"agents\": [{\"kind\": \"wolf\", \"count\": 1, \"mark\": \"%s\"}]", names[i]);
        sc = parse(with(extra));
        cr_assert_not_null(sc, "%s: %s", names[i], err);
        cr_assert_eq(sw_scenario_kind_mark(sc, &wolf), marks[i], "%s", names[i]);
        cr_assert_str_eq(sw_mark_name(marks[i]), names[i]);
        cr_assert_eq(sw_scenario_kind_mark(sc, &sheep), SW_MARK_DEFAULT, "a kind not in the scenario");
        sw_scenario_free(sc);
    }
    cr_assert_str_eq(sw_mark_name(SW_MARK_DEFAULT), "default");
}

Test(scenario, marks_are_checked) {
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"count\": 1, \"mark\": \"sqare\"}]"),
                 "x.json: $.agents[0].mark: unknown mark \"sqare\" (did you mean \"square\"? "
                 "valid: \"arrow\", \"disc\", \"dot\", \"none\", \"square\")");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"count\": 1, \"mark\": \"triangle\"}]"),
                 "$.agents[0].mark: unknown mark \"triangle\" (valid: \"arrow\", \"disc\", \"dot\", \"none\", \"square\")");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"count\": 1, \"mark\": \"Disc\"}]"),
                 "unknown mark \"Disc\" (did you mean \"disc\"?");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"count\": 1, \"mark\": \"default\"}]"),
                 "unknown mark \"default\"", "(leave \"mark\" out for the viewer's choice; valid:");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"count\": 1, \"mark\": 3}]"),
                 "$.agents[0].mark: expected a mark name (a string), got a number (valid: \"arrow\",");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"count\": 1, \"mark\": null}]"),
                 "$.agents[0].mark: expected a mark name (a string), got null");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"count\": 1, \"mrak\": \"disc\"}]"),
                 "$.agents[0]: unknown key \"mrak\" (did you mean \"mark\"?");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"count\": 1, \"mark\": \"disc\"},"
                      " {\"kind\": \"sheep\", \"count\": 1, \"mark\": \"dot\"}]"),
                 "$.agents[1].mark: kind \"sheep\" already has another mark (\"disc\"); give each kind one mark");
    expect_error(with("\"agents\": [{\"kind\": \"sheep\", \"count\": 1, \"mark\": \"disc\", \"mark\": \"dot\"}]"),
                 "$.agents[0]: key \"mark\" appears twice");
}

/* `swarmlet run` refuses a bad mark like any other mistake: exit 2, one line. */
Test(scenario, a_bad_mark_exits_2_from_the_command_line) {
    const char *dir = sw_test_dir("scenario_mark_cli");
    cr_assert_not_null(dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/bad.json", dir);
    cr_assert_eq(sw_test_write(path, "{\"format\": 1, \"name\": \"bad\", \"description\": \"d\","
                                     " \"world\": {\"width\": 5, \"height\": 5},"
                                     " \"agents\": [{\"kind\": \"sheep\", \"count\": 3, \"mark\": \"circle\"}]}"), 0);
    char *out = NULL;
    int rc = sw_test_sh(&out, "%s run %s --out %s/out -q", SW_BINARY, path, dir);
    cr_assert_eq(rc, 2, "%s", out);
    cr_assert(strstr(out, "bad.json: $.agents[0].mark: unknown mark \"circle\" (valid: \"arrow\", \"disc\", "
                          "\"dot\", \"none\", \"square\")"), "%s", out);
    free(out);
}

Test(scenario, default_colours_are_distinct_from_each_other_and_from_given_ones) {
    /* wolf and grass have no colour of their own: two different palette
     * colours, neither close to the sheep's own nor to a scenario colour. */
    sw_scenario *sc = parse(with("\"agents\": [{\"kind\": \"sheep\", \"count\": 1},"
                                 " {\"kind\": \"wolf\", \"count\": 1}, {\"kind\": \"grass\"}]"));
    cr_assert_not_null(sc, "%s", err);
    uint32_t w = sw_scenario_kind_color(sc, &wolf), g = sw_scenario_kind_color(sc, &grass);
    cr_assert_neq(w, g);
    cr_assert_neq(w, 0);
    cr_assert_neq(g, 0);
    sw_scenario_free(sc);
    /* The scenario gives the wolf the palette's first colour (near enough):
     * the grass does not get it too. */
    sc = parse(with("\"agents\": [{\"kind\": \"wolf\", \"count\": 1, \"color\": \"#4e79a8\"},"
                    " {\"kind\": \"grass\"}]"));
    cr_assert_not_null(sc, "%s", err);
    g = sw_scenario_kind_color(sc, &grass);
    int dr = (int)(g >> 16) - 0x4e, dg = (int)((g >> 8) & 255) - 0x79, db = (int)(g & 255) - 0xa8;
    cr_assert_gt(dr * dr + dg * dg + db * db, 80 * 80, "grass #%06x is too close to the wolf's #4e79a8", g);
    sw_scenario_free(sc);
}
