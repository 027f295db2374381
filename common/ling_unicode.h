/*
 * ling_unicode: Unicode normalisation and case mapping of UTF-8 text, the
 * one module of common/ that uses ICU (unorm2, u_strFoldCase, u_strToLower):
 * UTF-8 -> UTF-16 -> ICU -> UTF-8, with the buffers kept between calls.
 *
 * ASCII fast path: text of bytes < 0x80 never reaches ICU. ASCII is its own
 * NFC, NFKC and NFD, and every case form of ASCII is its A-Z -> a-z mapping, so
 * the result is the same as through ICU, only faster (most of a KG and of
 * web text is ASCII). Non-ASCII text that ICU's quick check finds already
 * normalised is copied as it came.
 *
 * The one place the suite calls ICU's normalizer; the forms its callers use:
 *   kg/kg_term_canon.c   kg_canon_fold  LING_UNICODE_NFC_CASEFOLD, "a label"
 *   dedup/dedup_minhash.c dedup_normalize_exact
 *                        LING_UNICODE_NFKC_CASEFOLD with
 *                        LING_UNICODE_COLLAPSE_SPACE, "the text"
 *                        dedup_normalize_near  LING_UNICODE_NFD, "the text"
 *   tokenize/tok_norm.c  icu_apply      LING_UNICODE_NFC, LING_UNICODE_NFKC,
 *                        LING_UNICODE_LOWER (HF NFC, NFKC, Lowercase)
 * Differences from the copies, none visible on valid input of sane size:
 * kg_canon_fold had no ASCII path (same result); tok_norm's output buffer
 * was 3n+16 UTF-16 units without a retry, so text with many U+FDFA failed
 * NFKC with U_BUFFER_OVERFLOW_ERROR (here it grows and succeeds); tok_norm
 * named an invalid input "unicode normalisation failed: U_INVALID_CHAR_FOUND"
 * (its input is always valid: it comes out of jansson).
 *
 * The struct holds no ICU type (STYLE: third-party types stay out of our
 * headers); its UTF-16 buffers are uint16_t, which is what UChar is in C.
 * Ownership: the caller owns the struct and the output buffer; a
 * struct ling_unicode is not shared between threads (one per worker).
 */
#ifndef LING_UNICODE_H
#define LING_UNICODE_H

#include "ling_err.h"
#include "ling_mem.h"

#include <stddef.h>
#include <stdint.h>

enum ling_unicode_form {
	LING_UNICODE_NFC,           /* canonical composition (UAX #15) */
	LING_UNICODE_NFKC,          /* compatibility composition: ﬁ -> fi, ² -> 2 */
	/* NFKC_Casefold (UAX #31, ICU's nfkc_cf): NFKC, full case folding, default ignorables removed. */
	LING_UNICODE_NFKC_CASEFOLD,
	/* NFC, then full default case folding (ß -> ss, Σ -> σ); keeps compatibility characters. */
	LING_UNICODE_NFC_CASEFOLD,
	/* Full lowercase mapping in the root locale (İ -> i̇, Σ -> σ, final sigma by context); not NFC. */
	LING_UNICODE_LOWER,
	/* Canonical decomposition (é -> e + U+0301): dedup's near form drops the marks it splits off. */
	LING_UNICODE_NFD,
};

enum ling_unicode_flags {
	/*
	 * After the form: each run of White_Space characters (u_isUWhiteSpace;
	 * in ASCII ' ' and \t..\r) becomes one ' ' between two other characters;
	 * runs at the start and the end are dropped. dedup's exact key.
	 */
	LING_UNICODE_COLLAPSE_SPACE = 1 << 0,
};

struct ling_unicode {
	uint16_t *u16, *u16b;   /* UTF-16 scratch, grown on demand */
	size_t u16_cap, u16b_cap;
};

void ling_unicode_init(struct ling_unicode *u);
void ling_unicode_release(struct ling_unicode *u);

/* Whether s[0..n) is all ASCII (bytes < 0x80), eight bytes at a time. */
int ling_unicode_is_ascii(const char *s, size_t n);

/*
 * Appends s[0..n) in form to out (flags: enum ling_unicode_flags). The
 * input may hold NUL bytes (U+0000, kept). On error out is as it was.
 * what names the text in messages ("a term"; NULL: "the text").
 * @return 0; LING_EDATA "invalid UTF-8 in <what>" for ill-formed UTF-8
 * (overlongs, surrogates, truncated sequences: what u_strFromUTF8 refuses);
 * LING_ELIMIT "<what> is too long to normalise" beyond 2^29 bytes;
 * LING_EDATA "cannot normalise <what>: <ICU error name>" when ICU fails
 * otherwise (its data missing).
 */
int ling_unicode_normalize(struct ling_unicode *u, enum ling_unicode_form form, unsigned flags, const char *s,
			   size_t n, struct ling_buf *out, const char *what, struct ling_err *err);

/*
 * As ling_unicode_normalize() without flags, the result left in UTF-16 for a
 * caller that walks its code points (dedup's near form), without a UTF-8
 * round trip or the ASCII and quick-check paths: *out points to *out_len
 * units in u's scratch, valid until the next call on u.
 * @return as ling_unicode_normalize().
 */
int ling_unicode_normalize16(struct ling_unicode *u, enum ling_unicode_form form, const char *s, size_t n,
			     const uint16_t **out, size_t *out_len, const char *what, struct ling_err *err);

#endif
