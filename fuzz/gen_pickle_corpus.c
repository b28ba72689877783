/* gen_pickle_corpus.c - writes the seed corpus of fuzz_pickle: pickles of
 * small 16x16 simulations of each model, at a few ticks. Run it from the
 * build directory: gen_pickle_corpus DIR. */
#include "pickle.h"
#include "registry.h"
#include "scenario.h"

#include <stdio.h>
#include <string.h>

static const char *const agents[] = {
    "{\"kind\": \"grass\", \"place\": \"every_cell\", \"density\": 1}, {\"kind\": \"sheep\", \"count\": 20}, "
    "{\"kind\": \"wolf\", \"count\": 6}",
    "{\"kind\": \"tree\", \"place\": \"every_cell\", \"density\": 0.7}",
    "{\"kind\": \"person\", \"count\": 30, \"params\": {\"state\": 1}}",
    "{\"kind\": \"resident\", \"count\": 40, \"place\": \"cell_unique\"}",
    "{\"kind\": \"boid\", \"count\": 20, \"place\": \"point\"}",
    "{\"kind\": \"market\", \"place\": \"at\", \"at\": [[3, 3]]}, {\"kind\": \"tavern\", \"place\": \"at\", "
    "\"at\": [[12, 12]]}, {\"kind\": \"villager\", \"count\": 8}",
};

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : ".";
    int n = 0;
    for (size_t i = 0; i < sizeof agents / sizeof *agents; i++) {
        char json[2048], err[1024];
        snprintf(json, sizeof json,
                 "{\"format\": 1, \"name\": \"seed%zu\", \"description\": \"fuzz seed\", \"seed\": 3, "
                 "\"ticks\": 100, \"world\": {\"width\": 16, \"height\": 16}, \"channels\": ["
                 "{\"name\": \"dawn\", \"kind\": \"event\"}, {\"name\": \"shelf\", \"kind\": \"buffered\", "
                 "\"capacity\": 20}, {\"name\": \"seats\", \"kind\": \"buffered\", \"capacity\": 6}, "
                 "{\"name\": \"chat\", \"kind\": \"rendezvous\", \"preference\": -1}], "
                 "\"events\": [{\"tick\": 2, \"channel\": \"dawn\", \"message\": {\"tag\": 4}}], "
                 "\"agents\": [%s]}", i, agents[i]);
        sw_scenario *sc = sw_scenario_parse(json, strlen(json), "seed", sw_agents_kinds, err, sizeof err);
        if (!sc) {
            fprintf(stderr, "seed %zu: %s\n", i, err);
            return 1;
        }
        sw_sim *sim = sw_sim_new(sc, 0, err, sizeof err);
        if (!sim) {
            fprintf(stderr, "seed %zu: %s\n", i, err);
            return 1;
        }
        for (int t = 0; t <= 12; t++) {
            if (t == 0 || t == 3 || t == 12) {
                sw_pickle_buf b = {0};
                sw_pickle_section sec = sw_pickle_world_section(sw_sim_world(sim));
                if (sw_pickle_save(sw_world_sched(sw_sim_world(sim)), &sec, 1, &b, err, sizeof err) != SW_OK) {
                    fprintf(stderr, "%s\n", err);
                    return 1;
                }
                char path[1024];
                snprintf(path, sizeof path, "%s/seed%zu_t%d", dir, i, t);
                FILE *f = fopen(path, "wb");
                if (!f || fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0) return 1;
                sw_pickle_buf_fini(&b);
                n++;
            }
            sw_sim_step(sim);
        }
        sw_sim_free(sim);
        sw_scenario_free(sc);
    }
    printf("%d seeds in %s\n", n, dir);
    return 0;
}
