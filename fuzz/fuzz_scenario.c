/* fuzz_scenario.c - libFuzzer target for the scenario loader.
 *
 * Any bytes go to sw_scenario_parse against the built-in kinds. A scenario
 * that loads must print canonical JSON that loads again to the same text;
 * when its world and population are small it is also built and run for two
 * ticks, so the parameters and placements the loader lets through are
 * exercised by the code that uses them. Errors must be one line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "scenario_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[1024];
    sw_scenario *sc = sw_scenario_parse((const char *)data, size, "fuzz.json", sw_agents_kinds, err, sizeof err);
    if (!sc) {
        if (strchr(err, '\n') || err[0] == '\0') abort(); /* one line, never empty */
        return 0;
    }
    const char *json = sw_scenario_json(sc);
    if (!json) abort();
    sw_scenario *back = sw_scenario_parse(json, strlen(json), "canonical", sw_agents_kinds, err, sizeof err);
    if (!back || strcmp(sw_scenario_json(back), json) != 0) abort();
    sw_scenario_free(back);
    uint64_t agents = 0;
    for (int i = 0; i < sc->nagents; i++) agents += sc->agents[i].count;
    if ((uint64_t)sc->world.width * sc->world.height <= 4096 && agents <= 2000) {
        sw_sim *sim = sw_sim_new(sc, 0, err, sizeof err);
        for (int t = 0; sim && t < 2 && sw_sim_step(sim) == SW_OK; t++) {}
        sw_sim_free(sim);
    }
    sw_scenario_free(sc);
    return 0;
}
