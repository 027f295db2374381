/*
 * ling_sha256: SHA-256 (FIPS 180-4), incremental, self-contained.
 *
 * The suite hashes sources and shards to record them in manifests
 * (tokenize's manifest.json), so the digest must be the standard one and the
 * same on every platform; speed matters little next to the I/O. No crypto
 * library is linked for it: a portable 150-line implementation is cheaper
 * than a dependency.
 *
 * Life cycle: ling_sha256_init() fills a caller-owned struct (no heap
 * memory, nothing to release), ling_sha256_update() any number of times,
 * ling_sha256_final() once; after final the struct must be initialised
 * again before reuse. Splitting the input over update calls never changes
 * the digest.
 *
 * Replaces the copy private to tokenize/tok_dataset.c (struct sha256,
 * sha256_init/update/final_hex, tok_sha256_hex, sha256_file): same
 * algorithm, same lowercase hex, same error messages; adoption changes no
 * output byte.
 */
#ifndef LING_SHA256_H
#define LING_SHA256_H

#include "ling_err.h"

#include <stddef.h>
#include <stdint.h>

#define LING_SHA256_LEN 32      /* bytes in a digest */
#define LING_SHA256_HEX_LEN 64  /* characters in its hex form, without the NUL */

struct ling_sha256 {
	uint32_t h[8];           /* the chaining state */
	uint64_t len;            /* bytes hashed so far */
	unsigned char buf[64];   /* a partial block */
	size_t n;                /* bytes in buf, < 64 */
};

/* Starts a new hash in *s. */
void ling_sha256_init(struct ling_sha256 *s);

/* Hashes len more bytes of data (data may be NULL when len is 0). */
void ling_sha256_update(struct ling_sha256 *s, const void *data, size_t len);

/* Pads, writes the 32-byte digest and leaves *s spent (init before reuse). */
void ling_sha256_final(struct ling_sha256 *s, unsigned char digest[LING_SHA256_LEN]);

/* As ling_sha256_final(), the digest as 64 lowercase hex digits and a NUL. */
void ling_sha256_final_hex(struct ling_sha256 *s, char hex[LING_SHA256_HEX_LEN + 1]);

/* The hex digest of len bytes at data (tok_sha256_hex). */
void ling_sha256_hex(const void *data, size_t len, char hex[LING_SHA256_HEX_LEN + 1]);

enum ling_sha256_file_flags {
	/* Hash the decompressed content (gzip, zstd or plain, as ling_input reads it), not the stored bytes. */
	LING_SHA256_DECOMPRESS = 1 << 0,
};

/*
 * The hex digest of the file at path (its stored bytes, or its content with
 * LING_SHA256_DECOMPRESS).
 * @return 0, or LING_EIO with err at path ("cannot open: ...", "read error:
 * ...") when the file cannot be read; with LING_SHA256_DECOMPRESS, what
 * ling_input_open/ling_input_read return (LING_EIO, or LING_EDATA for a
 * corrupt compressed stream). hex is unspecified after an error.
 */
int ling_sha256_file_hex(const char *path, unsigned flags, char hex[LING_SHA256_HEX_LEN + 1],
			 struct ling_err *err);

#endif
