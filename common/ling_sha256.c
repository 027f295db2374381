/*
 * ling_sha256: SHA-256 as FIPS 180-4 section 6.2 states it (moved from
 * tokenize/tok_dataset.c). One 64-byte block at a time; no unrolling, as the
 * callers hash files at disk speed.
 */
#include "ling_sha256.h"

#include "ling_input.h"
#include "ling_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"

#define CHUNK (1 << 16)

/* FIPS 180-4 4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
static const uint32_t round_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror32(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

void ling_sha256_init(struct ling_sha256 *s)
{
	/* FIPS 180-4 5.3.3 */
	static const uint32_t h0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

	memcpy(s->h, h0, sizeof(h0));
	s->len = 0;
	s->n = 0;
}

static void hash_block(struct ling_sha256 *s, const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, h, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (i = 16; i < 64; i++)
		w[i] = w[i - 16] + (ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3)) + w[i - 7] +
		       (ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10));
	a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
	for (i = 0; i < 64; i++) {
		t1 = h + (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25)) + ((e & f) ^ (~e & g)) + round_k[i] + w[i];
		t2 = (ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		h = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
	}
	s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d;
	s->h[4] += e, s->h[5] += f, s->h[6] += g, s->h[7] += h;
}

void ling_sha256_update(struct ling_sha256 *s, const void *data, size_t len)
{
	const unsigned char *p = data;

	if (!len)
		return;
	s->len += len;
	if (s->n) {
		size_t take = 64 - s->n < len ? 64 - s->n : len;

		memcpy(s->buf + s->n, p, take);
		s->n += take, p += take, len -= take;
		if (s->n < 64)
			return;
		hash_block(s, s->buf);
		s->n = 0;
	}
	for (; len >= 64; p += 64, len -= 64)
		hash_block(s, p);
	memcpy(s->buf, p, len);
	s->n = len;
}

void ling_sha256_final(struct ling_sha256 *s, unsigned char digest[LING_SHA256_LEN])
{
	/* FIPS 180-4 5.1.1: a 1 bit, zeros up to 56 mod 64 bytes, the length in bits as 64-bit big-endian. */
	uint64_t bits = s->len * 8;
	unsigned char pad[72] = { 0x80 };
	size_t padlen = (s->n < 56 ? 56 : 120) - s->n;
	int i;

	for (i = 0; i < 8; i++)
		pad[padlen + (size_t)i] = (unsigned char)(bits >> (56 - 8 * i));
	ling_sha256_update(s, pad, padlen + 8);
	for (i = 0; i < LING_SHA256_LEN; i++)
		digest[i] = (unsigned char)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

void ling_sha256_final_hex(struct ling_sha256 *s, char hex[LING_SHA256_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char digest[LING_SHA256_LEN];
	int i;

	ling_sha256_final(s, digest);
	for (i = 0; i < LING_SHA256_LEN; i++) {
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 15];
	}
	hex[LING_SHA256_HEX_LEN] = '\0';
}

void ling_sha256_hex(const void *data, size_t len, char hex[LING_SHA256_HEX_LEN + 1])
{
	struct ling_sha256 s;

	ling_sha256_init(&s);
	ling_sha256_update(&s, data, len);
	ling_sha256_final_hex(&s, hex);
}

static int hash_decompressed(struct ling_sha256 *s, const char *path, char *chunk, struct ling_err *err)
{
	struct ling_input *in;
	ssize_t n;
	int rc;

	if ((rc = ling_input_open(&in, path, err)))
		return rc;
	while ((n = ling_input_read(in, chunk, CHUNK, err)) > 0)
		ling_sha256_update(s, chunk, (size_t)n);
	ling_input_close(in);
	return n < 0 ? (int)n : 0;
}

static int hash_stored(struct ling_sha256 *s, const char *path, char *chunk, struct ling_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return ling_err_at(err, LING_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
	while ((n = read(fd, chunk, CHUNK)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			ling_sha256_update(s, chunk, (size_t)n);
	close(fd);
	if (n < 0)
		return ling_err_at(err, LING_EIO, path, 0, 0, "read error: %s", strerror(errno));
	return 0;
}

int ling_sha256_file_hex(const char *path, unsigned flags, char hex[LING_SHA256_HEX_LEN + 1],
			 struct ling_err *err)
{
	char *chunk = xmalloc(CHUNK);
	struct ling_sha256 s;
	int rc;

	ling_sha256_init(&s);
	if (flags & LING_SHA256_DECOMPRESS)
		rc = hash_decompressed(&s, path, chunk, err);
	else
		rc = hash_stored(&s, path, chunk, err);
	if (!rc)
		ling_sha256_final_hex(&s, hex);
	free(chunk);
	return rc;
}
