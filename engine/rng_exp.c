/* rng_exp.c - the ziggurat's rare draws (see rng_exp.h): a point in a
 * layer's wedge, accepted when it lies under exp(-x), else a fresh draw;
 * and the tail past the base layer, r + Exp(1) by the exponential's
 * memorylessness, the one place a logarithm remains. The numbers after u
 * are sw_rng_mix(u + k * SW_RNG_GAMMA), k = 1, 2, ...: a stream keyed by u
 * (as SplitMix64 seeded with u), so that the draw stays a pure function of
 * u, whoever asks and in whatever order. */
#include "rng_exp.h"

#include <math.h>

double sw__rng_exp_slow(uint64_t u) {
    uint64_t x = u;
    for (;;) {
        uint32_t layer = (uint32_t)u & 255;
        uint64_t point = u >> 11;
        double v = (double)point * sw__exp_we[layer];
        if (point < sw__exp_ke[layer]) return v;
        if (layer == 0) /* (0, 1): the logarithm is finite */
            return sw__exp_r - log(((double)(sw_rng_mix(x += SW_RNG_GAMMA) >> 11) + 0.5) * 0x1.0p-53);
        double y = sw_rng_unit(sw_rng_mix(x += SW_RNG_GAMMA));
        if (sw__exp_fe[layer] + y * (sw__exp_fe[layer - 1] - sw__exp_fe[layer]) < exp(-v)) return v;
        u = sw_rng_mix(x += SW_RNG_GAMMA);
    }
}
