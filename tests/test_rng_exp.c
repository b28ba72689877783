/* test_rng_exp.c - the ziggurat's exponential numbers (rng_exp.h): Exp(1)
 * in law, the wedge and the tail included, and a pure function of the one
 * mixer output it is given. */
#include <criterion/criterion.h>
#include "rng_exp.h"

#include <math.h>

enum { DRAWS = 4000000, BINS = 100 };

typedef struct {
    uint32_t bins[BINS]; /* by 1 - exp(-e): equally likely bins for Exp(1) */
    double sum, sumsq;
    uint32_t tail, slow; /* past the base layer's edge r; not under a layer's curve at once */
    double tail_excess;  /* the sum of e - r over the tail */
} exp_tally;

static void tally_draws(exp_tally *t, uint64_t seed) {
    uint64_t key = sw_rng_key(seed, 0x657870);
    for (uint64_t i = 0; i < DRAWS; i++) {
        uint64_t u = sw_rng_at(key, i);
        double e = sw_rng_exp(u);
        cr_assert(e >= 0 && isfinite(e));
        int b = (int)((1 - exp(-e)) * BINS);
        t->bins[b < BINS ? b : BINS - 1]++;
        t->sum += e;
        t->sumsq += e * e;
        t->slow += (u >> 11) >= sw__exp_ke[u & 255];
        if (e > sw__exp_r) {
            t->tail++;
            t->tail_excess += e - sw__exp_r;
        }
    }
}

/* Chi-square over 100 equally likely bins (99 degrees of freedom: 160 is
 * beyond its 0.01 % point; a slow path that accepts every wedge point reads
 * ~700), mean and variance 1, and the tail past r as likely as exp(-r) with
 * a mean excess of 1 (memorylessness: a tail drawn from the wrong origin
 * reads r / 2 + 1). The draws are seeded: the figures do not vary from run
 * to run. */
Test(rng_exp, draws_are_exponential) {
    static exp_tally t;
    tally_draws(&t, 7);
    double want = (double)DRAWS / BINS, chi = 0;
    for (int b = 0; b < BINS; b++) chi += (t.bins[b] - want) * (t.bins[b] - want) / want;
    cr_assert_lt(chi, 160, "chi-square %.1f over %d bins", chi, BINS);
    double mean = t.sum / DRAWS, var = t.sumsq / DRAWS - mean * mean, se = 1 / sqrt((double)DRAWS);
    cr_assert_lt(fabs(mean - 1), 5 * se, "mean %.6f", mean);
    cr_assert_lt(fabs(var - 1), 5 * sqrt(8.0) * se, "variance %.6f", var);
    double p = exp(-sw__exp_r), tails = p * DRAWS;
    cr_assert_lt(fabs(t.tail - tails), 5 * sqrt(tails), "%u draws past r, %.0f expected", t.tail, tails);
    cr_assert_lt(fabs(t.tail_excess / t.tail - 1), 5 / sqrt((double)t.tail), "tail's mean excess %.3f",
                 t.tail_excess / t.tail);
    /* the slow path is taken (~2.2 % of draws: the wedges, the top layer, the tail) */
    cr_assert(t.slow > DRAWS / 100 && t.slow < DRAWS / 20, "%u slow draws", t.slow);
}

/* A pure function of u (the keys of activation.c depend on nothing else),
 * pinned on known values: one taken at once and one through each slow
 * path (a wedge, the tail), so that the streams, and the runs drawn from
 * them, stay the same across releases. */
Test(rng_exp, pure_function_of_the_draw) {
    uint64_t key = sw_rng_key(1, 2), wedge = 0, tail = 0, fast = sw_rng_at(key, 0);
    for (uint64_t i = 0; !wedge || !tail; i++) {
        uint64_t u = sw_rng_at(key, i);
        if ((u >> 11) < sw__exp_ke[u & 255]) continue;
        if ((u & 255) == 0 && !tail) tail = u;
        if ((u & 255) != 0 && !wedge) wedge = u;
    }
    cr_assert_eq(sw_rng_exp(fast), sw_rng_exp(fast));
    cr_assert_eq(sw_rng_exp(wedge), sw_rng_exp(wedge));
    cr_assert_eq(sw_rng_exp(tail), sw_rng_exp(tail));
    cr_assert_eq(sw_rng_exp(fast), 0x1.3811da06f24c6p+0, "%a", sw_rng_exp(fast));
    cr_assert_eq(sw_rng_exp(wedge), 0x1.d2b41541f2e2fp-1, "%a", sw_rng_exp(wedge));
    cr_assert_eq(sw_rng_exp(tail), 0x1.3d8f3d96b91b2p+3, "%a", sw_rng_exp(tail));
}
