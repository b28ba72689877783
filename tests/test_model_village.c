/* test_model_village.c - the village runs without deadlock for thousands of
 * ticks; needs stay bounded (nobody starves in a queue or waits forever for a
 * chat); people eat, sleep and chat; walking is a nested call; the tavern
 * never seats more than it has seats; the same seed gives the same village. */
#include <criterion/criterion.h>

#include "models.h"

#include <string.h>

static double field(sw_sched *s, sw_id id, const char *name) {
    const sw_field *f = sw_fields_find(sw_kind_villager.fields, name);
    cr_assert_not_null(f, "no field %s", name);
    return sw_field_get_number(f, sw_sched_frame(s, id));
}

Test(village, needs_stay_bounded_and_every_errand_happens) {
    sw_world *w = sw_village_new(&(sw_village_desc){.seed = 1});
    cr_assert_not_null(w);
    sw_sched *s = sw_world_sched(w);
    bool saw_walk = false;
    for (int tick = 1; tick <= 3000; tick++) {
        int rc = sw_world_step(w);
        cr_assert_eq(rc, SW_OK, "tick %d: %s\n%s", tick, sw_sched_errmsg(s), sw_sched_report(s));
        int seated = 0;
        for (sw_id id = sw_sched_next(s, SW_ID_NONE); id; id = sw_sched_next(s, id)) {
            sw_task_info info;
            cr_assert_eq(sw_sched_inspect(s, id, &info), SW_OK);
            if (info.kind != &sw_kind_villager) continue;
            if (strcmp(info.func, "walk_to") == 0) {
                cr_assert_eq(info.depth, 2, "walk_to runs nested in the villager");
                saw_walk = true;
            }
            if (strcmp(info.func, "villager") == 0 && strcmp(info.point, "drink") == 0) seated++;
        }
        cr_assert_leq(seated, 6, "tick %d: %d seated at six seats", tick, seated);
    }
    cr_assert(saw_walk);
    double meals = 0, naps = 0, chats = 0, peak = 0;
    int n = 0;
    for (sw_id id = sw_sched_next(s, SW_ID_NONE); id; id = sw_sched_next(s, id)) {
        if (sw_sched_kind_of(s, id) != &sw_kind_villager) continue;
        meals += field(s, id, "meals");
        naps += field(s, id, "naps");
        chats += field(s, id, "chats");
        double p = field(s, id, "peak");
        if (p > peak) peak = p;
        n++;
    }
    cr_assert_eq(n, 60);
    /* over 3000 ticks each need comes due every 150-220 ticks or so */
    cr_assert_gt(meals / n, 8, "%.1f meals each", meals / n);
    cr_assert_gt(naps / n, 5, "%.1f nights each", naps / n);
    cr_assert_gt(chats / n, 5, "%.1f chats each", chats / n);
    cr_assert_lt(peak, 2.5, "a need grew to %.2f", peak);
    sw_world_free(w);
}

Test(village, hunger_waits_for_dawn_when_bread_runs_out) {
    /* a baker who bakes too little: the hungry queue on the shelf, blocked
       on the buffered channel, until the next dawn brings bread */
    sw_world *w = sw_village_new(&(sw_village_desc){.villagers = 40, .day = 300, .seed = 2});
    sw_sched *s = sw_world_sched(w);
    sw_chan shelf = sw_world_chan(w, "shelf");
    int most_waiting = 0;
    for (int tick = 1; tick <= 1200; tick++) {
        cr_assert_eq(sw_world_step(w), SW_OK);
        int waiting = -sw_chan_balance(s, shelf);
        if (waiting > most_waiting) most_waiting = waiting;
        if (tick % 300 == 2) cr_assert_eq(sw_chan_balance(s, shelf) >= 0, true, "tick %d: dawn fed nobody", tick);
    }
    cr_assert_gt(most_waiting, 0, "nobody ever queued for bread");
    sw_world_free(w);
}

Test(village, same_seed_same_village) {
    double sum[2] = {0, 0};
    for (int run = 0; run < 2; run++) {
        sw_world *w = sw_village_new(&(sw_village_desc){.seed = 9});
        sw_sched *s = sw_world_sched(w);
        for (int i = 0; i < 1000; i++) cr_assert_eq(sw_world_step(w), SW_OK);
        for (sw_id id = sw_sched_next(s, SW_ID_NONE); id; id = sw_sched_next(s, id))
            if (sw_sched_kind_of(s, id) == &sw_kind_villager)
                sum[run] += field(s, id, "hunger") + 3 * field(s, id, "walked") + 7 * field(s, id, "chats");
        sw_world_free(w);
    }
    cr_assert_eq(sum[0], sum[1]);
}
