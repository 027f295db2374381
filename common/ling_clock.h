/*
 * ling_clock: seconds on a monotonic clock, for rates, progress lines and
 * benchmarks (never for anything that must be reproducible).
 */
#ifndef LING_CLOCK_H
#define LING_CLOCK_H

#include <time.h>

static inline double ling_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
