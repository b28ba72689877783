/* test_model_schelling.c - Schelling's residents segregate: the share of
 * alike neighbours rises and nearly everyone ends happy; residents keep one
 * per cell and the "group" layer stays exact; the same seed, the same town. */
#include <criterion/criterion.h>

#include "models.h"

Test(schelling, segregation_rises_and_unhappiness_falls) {
    for (uint64_t seed = 1; seed <= 3; seed++) {
        sw_world *w = sw_schelling_new(&(sw_schelling_desc){.seed = seed});
        cr_assert_not_null(w);
        uint32_t unhappy0, unhappy1;
        double before = sw_schelling_segregation(w, &unhappy0);
        for (int i = 0; i < 20; i++) cr_assert_eq(sw_world_step(w), SW_OK);
        double after = sw_schelling_segregation(w, &unhappy1);
        cr_assert(before > 0.4 && before < 0.6, "a random town is mixed: %.3f", before);
        cr_assert_gt(after, 0.75, "seed %llu: segregation only %.3f", (unsigned long long)seed, after);
        cr_assert_gt(unhappy0, 200);
        cr_assert_lt(unhappy1, 20, "still %u unhappy", unhappy1);
        sw_world_free(w);
    }
}

Test(schelling, one_resident_per_cell_and_an_exact_group_layer) {
    sw_world *w = sw_schelling_new(&(sw_schelling_desc){.size = 30, .agents = 700, .radius = 2,
                                                        .min_same = 8, .seed = 4});
    sw_sched *s = sw_world_sched(w);
    const double *g = sw_world_layer_data(w, sw_world_layer_find(w, "group"));
    for (int tick = 0; tick < 15; tick++) {
        cr_assert_eq(sw_world_occupied_cells(w), 700, "tick %d: two residents share a cell", tick);
        uint32_t listed = 0;
        for (int c = 0; c < 900; c++) {
            sw_id who[2];
            uint32_t n = sw_world_agents_at(w, c % 30, c / 30, NULL, who, 2);
            cr_assert_leq(n, 1);
            if (n == 0) {
                cr_assert_eq(g[c], 0);
                continue;
            }
            const int32_t *group = sw_sched_frame(s, who[0]); /* the first field */
            cr_assert_eq(g[c], *group, "tick %d cell %d", tick, c);
            listed++;
        }
        cr_assert_eq(listed, 700);
        cr_assert_eq(sw_world_step(w), SW_OK);
    }
    sw_world_free(w);
}

Test(schelling, same_seed_same_town) {
    double seg[2];
    uint32_t sad[2];
    for (int run = 0; run < 2; run++) {
        sw_world *w = sw_schelling_new(&(sw_schelling_desc){.size = 100, .agents = 8000, .radius = 2,
                                                            .min_same = 8, .seed = 21});
        for (int i = 0; i < 20; i++) cr_assert_eq(sw_world_step(w), SW_OK);
        seg[run] = sw_schelling_segregation(w, &sad[run]);
        sw_world_free(w);
    }
    cr_assert_eq(seg[0], seg[1]);
    cr_assert_eq(sad[0], sad[1]);
    cr_assert_gt(seg[0], 0.75);
}
