/*
 * ling_unicode: ICU's normalisers behind one function. UTF-16 is ICU's
 * working form; the conversions cost less than the normalisation itself, and
 * the ASCII and quick-check paths skip both for most text.
 */
#include "ling_unicode.h"

#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include "banned.h"

/* UTF-16 lengths stay well inside int32_t, ICU's length type, even after growing threefold and more. */
#define MAX_INPUT ((size_t)1 << 29)

void ling_unicode_init(struct ling_unicode *u)
{
	memset(u, 0, sizeof(*u));
}

void ling_unicode_release(struct ling_unicode *u)
{
	free(u->u16);
	free(u->u16b);
	memset(u, 0, sizeof(*u));
}

int ling_unicode_is_ascii(const char *s, size_t n)
{
	uint64_t acc = 0, w;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		acc |= w;
	}
	for (; i < n; i++)
		acc |= (unsigned char)s[i];
	return !(acc & 0x8080808080808080ULL);
}

static int ascii_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static char ascii_lower(unsigned char c)
{
	return (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
}

/* ASCII white space collapsed (and lowered when lower is set), as dedup's exact form did it. */
static inline void ascii_collapse(int lower, const char *s, size_t n, struct ling_buf *out)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	char *o, *start;
	int space = 0;

	/* Local pointers: stores through a char pointer would make the compiler reload out. */
	ling_buf_reserve(out, n);
	o = start = out->data + out->len;
	while (p < end) {
		unsigned char c = *p++;

		if (ascii_space(c)) {
			space = 1;
			continue;
		}
		if (space && o > start)
			*o++ = ' ';
		space = 0;
		*o++ = lower ? ascii_lower(c) : (char)c;
		/* The rest of a word. */
		while (p < end && *p > ' ') {
			c = *p++;
			*o++ = lower ? ascii_lower(c) : (char)c;
		}
	}
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
}

/* The ASCII path: every form is the identity or A-Z -> a-z on ASCII. */
static void ascii_form(enum ling_unicode_form form, unsigned flags, const char *s, size_t n, struct ling_buf *out)
{
	int lower = form != LING_UNICODE_NFC && form != LING_UNICODE_NFKC && form != LING_UNICODE_NFD;
	size_t i, at = out->len;

	if (flags & LING_UNICODE_COLLAPSE_SPACE) {
		/* Constant arguments: each call gets its own loop without the test inside. */
		if (lower)
			ascii_collapse(1, s, n, out);
		else
			ascii_collapse(0, s, n, out);
		return;
	}
	ling_buf_add(out, s, n);
	if (lower)
		for (i = at; i < out->len; i++)
			out->data[i] = ascii_lower((unsigned char)out->data[i]);
}

/* s as UTF-16 in u->u16. @return its length, or -1 for ill-formed UTF-8. */
static int32_t to_u16(struct ling_unicode *u, const char *s, size_t n)
{
	UErrorCode ec = U_ZERO_ERROR;
	int32_t len = 0;

	u->u16 = xgrow(u->u16, &u->u16_cap, n + 1, sizeof(UChar));
	u_strFromUTF8((UChar *)u->u16, (int32_t)u->u16_cap, &len, s, (int32_t)n, &ec);
	return U_FAILURE(ec) ? -1 : len;
}

/* Runs one ICU step from src[0..len) into u->u16b, growing it once when ICU says how much it needs. */
static int32_t icu_step(struct ling_unicode *u, enum ling_unicode_form form, const UNormalizer2 *norm,
			const UChar *src, int32_t len, UErrorCode *ec)
{
	int32_t got = 0;
	int tries;

	u->u16b = xgrow(u->u16b, &u->u16b_cap, (size_t)len * 3 + 16, sizeof(UChar));
	for (tries = 0; tries < 2; tries++) {
		UChar *dst = (UChar *)u->u16b;
		int32_t cap = (int32_t)u->u16b_cap;

		*ec = U_ZERO_ERROR;
		if (norm)
			got = unorm2_normalize(norm, src, len, dst, cap, ec);
		else if (form == LING_UNICODE_LOWER)
			got = u_strToLower(dst, cap, src, len, "", ec);
		else
			got = u_strFoldCase(dst, cap, src, len, U_FOLD_CASE_DEFAULT, ec);
		if (*ec != U_BUFFER_OVERFLOW_ERROR)
			break;
		/* NFKC can grow a string more than threefold (U+FDFA becomes 18 characters). */
		u->u16b = xgrow(u->u16b, &u->u16b_cap, (size_t)got + 1, sizeof(UChar));
	}
	return got;
}

static const UNormalizer2 *normalizer(enum ling_unicode_form form, UErrorCode *ec)
{
	switch (form) {
	case LING_UNICODE_NFKC: return unorm2_getNFKCInstance(ec);
	case LING_UNICODE_NFD: return unorm2_getNFDInstance(ec);
	case LING_UNICODE_NFKC_CASEFOLD: return unorm2_getNFKCCasefoldInstance(ec);
	case LING_UNICODE_NFC:
	case LING_UNICODE_NFC_CASEFOLD: return unorm2_getNFCInstance(ec);
	case LING_UNICODE_LOWER:
	default: return NULL;
	}
}

/* Swaps the two scratch buffers, so that the result of a step is the input of the next. */
static void swap_scratch(struct ling_unicode *u)
{
	uint16_t *p = u->u16;
	size_t c = u->u16_cap;

	u->u16 = u->u16b, u->u16_cap = u->u16b_cap;
	u->u16b = p, u->u16b_cap = c;
}

/* Appends s[0..len) as UTF-8. @return 0, or -1 when ICU fails (s comes from ICU: never ill-formed). */
static int add_u16(const UChar *s, int32_t len, struct ling_buf *out, UErrorCode *ec)
{
	int32_t need = 0;

	u_strToUTF8(NULL, 0, &need, s, len, ec);
	if (*ec != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(*ec))
		return -1;
	*ec = U_ZERO_ERROR;
	ling_buf_reserve(out, (size_t)need);
	u_strToUTF8(out->data + out->len, need + 1, NULL, s, len, ec);
	if (U_FAILURE(*ec))
		return -1;
	out->len += (size_t)need;
	out->data[out->len] = '\0';
	return 0;
}

/* As add_u16, each run of White_Space as one ' ' between other characters. */
static void add_u16_collapsed(const UChar *s, int32_t len, size_t start, struct ling_buf *out)
{
	int32_t i = 0;
	int space = 0;

	while (i < len) {
		UChar32 cp;

		U16_NEXT(s, i, len, cp);
		if (u_isUWhiteSpace(cp)) {
			space = 1;
			continue;
		}
		if (space && out->len > start)
			ling_buf_addc(out, ' ');
		space = 0;
		ling_buf_add_utf8(out, (unsigned long)cp);
	}
}

/*
 * s[0..n) in form as UTF-16, left in u->u16 with its length in *len. With
 * quick, text that ICU's quick check finds already in form (not for
 * NFC_CASEFOLD) is not converted and 1 is returned: the caller copies s.
 * @return 0, 1, or LING_ELIMIT / LING_EDATA with err set.
 */
static int u16_form(struct ling_unicode *u, enum ling_unicode_form form, int quick, const char *s, size_t n,
		    int32_t *len, const char *what, struct ling_err *err)
{
	UErrorCode ec = U_ZERO_ERROR;
	const UNormalizer2 *norm;

	if (n > MAX_INPUT)
		return ling_err_set(err, LING_ELIMIT, "%s is too long to normalise", what);
	if ((*len = to_u16(u, s, n)) < 0)
		return ling_err_set(err, LING_EDATA, "invalid UTF-8 in %s", what);
	if (form != LING_UNICODE_LOWER) {
		norm = normalizer(form, &ec);
		if (U_FAILURE(ec))
			goto icu_fail;
		if (quick && form != LING_UNICODE_NFC_CASEFOLD &&
		    unorm2_quickCheck(norm, (const UChar *)u->u16, *len, &ec) == UNORM_YES && U_SUCCESS(ec))
			return 1;
		*len = icu_step(u, form, norm, (const UChar *)u->u16, *len, &ec);
		if (U_FAILURE(ec))
			goto icu_fail;
		swap_scratch(u);
	}
	if (form == LING_UNICODE_NFC_CASEFOLD || form == LING_UNICODE_LOWER) {
		*len = icu_step(u, form, NULL, (const UChar *)u->u16, *len, &ec);
		if (U_FAILURE(ec))
			goto icu_fail;
		swap_scratch(u);
	}
	return 0;
icu_fail:
	return ling_err_set(err, LING_EDATA, "cannot normalise %s: %s", what, u_errorName(ec));
}

int ling_unicode_normalize(struct ling_unicode *u, enum ling_unicode_form form, unsigned flags, const char *s,
			   size_t n, struct ling_buf *out, const char *what, struct ling_err *err)
{
	UErrorCode ec = U_ZERO_ERROR;
	int32_t len;
	int rc;

	if (!what)
		what = "the text";
	if (ling_unicode_is_ascii(s, n)) {
		ascii_form(form, flags, s, n, out);
		return 0;
	}
	rc = u16_form(u, form, !(flags & LING_UNICODE_COLLAPSE_SPACE), s, n, &len, what, err);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		ling_buf_add(out, s, n);
		return 0;
	}
	if (flags & LING_UNICODE_COLLAPSE_SPACE)
		add_u16_collapsed((const UChar *)u->u16, len, out->len, out);
	else if (add_u16((const UChar *)u->u16, len, out, &ec))
		return ling_err_set(err, LING_EDATA, "cannot normalise %s: %s", what, u_errorName(ec));
	return 0;
}

int ling_unicode_normalize16(struct ling_unicode *u, enum ling_unicode_form form, const char *s, size_t n,
			     const uint16_t **out, size_t *out_len, const char *what, struct ling_err *err)
{
	int32_t len;
	int rc;

	if ((rc = u16_form(u, form, 0, s, n, &len, what ? what : "the text", err)) < 0)
		return rc;
	*out = u->u16;
	*out_len = (size_t)len;
	return 0;
}
