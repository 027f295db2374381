/*
 * ling_rand: the one seeded random generator of the suite, splitmix64
 * (Steele, Lea and Flood 2014; the seeding generator of xoshiro). A state is
 * a uint64_t the caller owns and seeds; equal seeds give equal sequences on
 * every platform, which is what makes `--seed` runs byte-identical. It is
 * fast and statistically sound for sampling, and not for cryptography.
 */
#ifndef LING_RAND_H
#define LING_RAND_H

#include <stdint.h>

/* The next 64 random bits; advances *state. */
static inline uint64_t ling_rand_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) for n > 0 (Lemire's multiply-shift on the top 32 bits: no modulo bias worth naming). */
static inline uint32_t ling_rand_below(uint64_t *state, uint32_t n)
{
	return (uint32_t)(((ling_rand_next(state) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double ling_rand_unit(uint64_t *state)
{
	return (double)(ling_rand_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

#endif
