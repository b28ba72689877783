/* test_model_sir.c - the epidemic peaks and ends: infections rise from a
 * handful, then fall to zero, leaving most people recovered; nobody is lost
 * or double-counted; the "infected" layer counts the sick exactly; the same
 * seed gives the same epidemic. */
#include <criterion/criterion.h>

#include "models.h"

Test(sir, the_epidemic_peaks_and_ends) {
    sw_world *w = sw_sir_new(&(sw_sir_desc){.seed = 1});
    cr_assert_not_null(w);
    uint32_t c[3], peak = 0;
    int peak_tick = 0, end_tick = -1;
    for (int tick = 1; tick <= 800 && end_tick < 0; tick++) {
        cr_assert_eq(sw_world_step(w), SW_OK);
        sw_sir_counts(w, c);
        cr_assert_eq(c[0] + c[1] + c[2], 1500);
        if (c[1] > peak) peak = c[1], peak_tick = tick;
        if (c[1] == 0) end_tick = tick;
    }
    cr_assert_gt(peak, 150, "no outbreak: at most %u ill", peak);
    cr_assert_gt(peak_tick, 10);
    cr_assert_gt(end_tick, peak_tick, "the epidemic never ended");
    cr_assert_gt(c[2], 750, "only %u recovered", c[2]);
    sw_world_free(w);
}

Test(sir, the_infected_layer_counts_the_sick) {
    sw_world *w = sw_sir_new(&(sw_sir_desc){.size = 30, .people = 400, .infected = 4, .seed = 3});
    const double *sick = sw_world_layer_data(w, sw_world_layer_find(w, "infected"));
    for (int tick = 0; tick < 80; tick++) {
        uint32_t c[3];
        sw_sir_counts(w, c);
        double total = 0;
        for (int i = 0; i < 900; i++) total += sick[i];
        cr_assert_eq(total, c[1], "tick %d", tick);
        cr_assert_eq(sw_world_step(w), SW_OK);
    }
    sw_world_free(w);
}

Test(sir, same_seed_same_epidemic) {
    uint32_t a[2][3];
    for (int run = 0; run < 2; run++) {
        sw_world *w = sw_sir_new(&(sw_sir_desc){.seed = 12});
        for (int i = 0; i < 120; i++) cr_assert_eq(sw_world_step(w), SW_OK);
        sw_sir_counts(w, a[run]);
        sw_world_free(w);
    }
    cr_assert_arr_eq(a[0], a[1], sizeof a[0]);
}
