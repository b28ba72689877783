/* rng_exp.h - exponential random numbers without a logarithm.
 *
 * The keys of random activation (activation.c) are independent Exp(1)
 * draws; -log(U) cost a call of ~50 instructions each, ~1,330 of them in
 * a run of the small Schelling town. The ziggurat (Marsaglia and Tsang,
 * "The Ziggurat Method for Generating Random Variables", J. Stat. Softw.
 * 5(8), 2000) draws the same law from the same one 64-bit number in about
 * ten: 256 layers of equal area under exp(-x), a layer chosen by the
 * number's low 8 bits and a point in it by its high 53; a point inside the
 * part of the layer wholly under the curve (97.8 % of draws) is the result
 * at once, the rest take sw__rng_exp_slow (the wedge's test against
 * exp(-x), or the tail past the base layer by its memorylessness). The
 * tables are exact hexadecimal doubles (rng_exp_tables.c, written by
 * tools/gen_exp_tables), the same on every machine: libm enters only the
 * slow path (2.2 % of draws), where -log(U) used it for every one. */
#ifndef SW_RNG_EXP_H
#define SW_RNG_EXP_H

#include "rng.h"

extern const double sw__exp_r;          /* the base layer's right edge: the tail starts there */
extern const uint64_t sw__exp_ke[256];  /* a layer's 53-bit point below this: under the curve */
extern const double sw__exp_we[256];    /* a layer's width / 2^53: the point's x by a product */
extern const double sw__exp_fe[256];    /* exp(-x) at a layer's right edge */

/* The draws that fall outside a layer's part under the curve. */
double sw__rng_exp_slow(uint64_t u);

/* An Exp(1) number from u, one output of the mixer (sw_rng_mix: its 64
 * bits uniform); any more numbers it needs (1.1 % of draws) come from a
 * stream keyed by u itself, so the result is a pure function of u. */
static inline double sw_rng_exp(uint64_t u) {
    uint32_t layer = (uint32_t)u & 255;
    uint64_t point = u >> 11;
    if (__builtin_expect(point < sw__exp_ke[layer], 1)) return (double)point * sw__exp_we[layer];
    return sw__rng_exp_slow(u);
}

#endif
