/*
 * ling_bytes: 64-bit integers in a fixed byte order, as keys and values of
 * the stores (big-endian ids, so that byte order is numeric order) and as
 * counter lanes and file headers (little-endian), on any host.
 */
#ifndef LING_BYTES_H
#define LING_BYTES_H

#include <stdint.h>

static inline void ling_put_be64(void *dst, uint64_t v)
{
	unsigned char *p = dst;

	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static inline uint64_t ling_get_be64(const void *src)
{
	const unsigned char *p = src;
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static inline void ling_put_le64(void *dst, uint64_t v)
{
	unsigned char *p = dst;

	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

static inline uint64_t ling_get_le64(const void *src)
{
	const unsigned char *p = src;
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

#endif
