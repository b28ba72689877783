/* rng.h - counter-based random numbers.
 *
 * A number is a pure function of (key, counter): no hidden stream, so the
 * numbers an agent draws do not depend on what else was scheduled, and the
 * state to pickle is one counter. The mixer is SplitMix64's (Steele, Lea and
 * Flood 2014), which passes BigCrush as a counter-based generator; the key is
 * itself a mix of the seed and the agent's id. */
#ifndef SW_RNG_H
#define SW_RNG_H

#include <stdint.h>

static inline uint64_t sw_rng_mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The key of one stream: a seed and a stream number (an agent's id). */
static inline uint64_t sw_rng_key(uint64_t seed, uint64_t stream) {
    return sw_rng_mix(seed ^ sw_rng_mix(stream + 0x632be59bd9b4e019ULL));
}

/* The mixer's input for sw_rng_at(key, counter): the input of the next
 * counter is this plus SW_RNG_GAMMA, so a loop over consecutive counters
 * adds instead of multiplying (sw_rng_at(key, c) == sw_rng_mix(
 * sw_rng_at_input(key, c - 1) + SW_RNG_GAMMA), modulo 2^64). */
#define SW_RNG_GAMMA 0x9e3779b97f4a7c15ULL
static inline uint64_t sw_rng_at_input(uint64_t key, uint64_t counter) {
    return key + (counter + 1) * SW_RNG_GAMMA;
}

/* The counter-th number of the stream with that key. */
static inline uint64_t sw_rng_at(uint64_t key, uint64_t counter) { return sw_rng_mix(sw_rng_at_input(key, counter)); }

/* [0, 1) with 53 random bits. */
static inline double sw_rng_unit(uint64_t x) { return (double)(x >> 11) * 0x1.0p-53; }

#endif
