#include "kg_term_canon_internal.h"

#include "../common/ling_utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <xxhash.h>

void kg_canon_init(struct kg_canon *c)
{
	memset(c, 0, sizeof(*c));
}

void kg_canon_release(struct kg_canon *c)
{
	int i;

	for (i = 0; i < 3; i++)
		ling_buf_release(&c->nfc[i]);
	free(c->u16);
	free(c->u16b);
	memset(c, 0, sizeof(*c));
}

static int is_ascii(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

/* UTF-8 -> UTF-16 into c->u16. @return the UTF-16 length, or -1 on invalid UTF-8. */
static int32_t to_u16(struct kg_canon *c, const char *s, size_t n)
{
	UErrorCode ec = U_ZERO_ERROR;
	int32_t len = 0;

	if (n > INT32_MAX / 2)
		return -1;
	c->u16 = xgrow(c->u16, &c->u16_cap, n + 1, sizeof(UChar));
	u_strFromUTF8((UChar *)c->u16, (int32_t)c->u16_cap, &len, s, (int32_t)n, &ec);
	return U_FAILURE(ec) ? -1 : len;
}

static int from_u16(const UChar *u, int32_t len, struct ling_buf *out)
{
	UErrorCode ec = U_ZERO_ERROR;
	int32_t need = 0;

	u_strToUTF8(NULL, 0, &need, u, len, &ec);
	if (ec != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(ec))
		return -1;
	ec = U_ZERO_ERROR;
	ling_buf_reserve(out, (size_t)need);
	u_strToUTF8(out->data + out->len, need + 1, NULL, u, len, &ec);
	if (U_FAILURE(ec))
		return -1;
	out->len += (size_t)need;
	out->data[out->len] = '\0';
	return 0;
}

/* NFC of c->u16[0..len) into c->u16b. @return the new length or -1. */
static int32_t nfc_u16(struct kg_canon *c, int32_t len)
{
	UErrorCode ec = U_ZERO_ERROR;
	const UNormalizer2 *nfc = unorm2_getNFCInstance(&ec);
	int32_t n;

	if (U_FAILURE(ec))
		return -1;
	/* NFC can grow a string at most threefold. */
	c->u16b = xgrow(c->u16b, &c->u16b_cap, (size_t)len * 3 + 1, sizeof(UChar));
	n = unorm2_normalize(nfc, (const UChar *)c->u16, len, (UChar *)c->u16b, (int32_t)c->u16b_cap, &ec);
	return U_FAILURE(ec) ? -1 : n;
}

int kg_canon_nfc(struct kg_canon *c, const char *s, size_t n, struct ling_buf *out, struct ling_err *err)
{
	UErrorCode ec = U_ZERO_ERROR;
	int32_t len;

	/* ASCII is always NFC; most of a KG is ASCII, so skip ICU for it. */
	if (is_ascii(s, n)) {
		ling_buf_add(out, s, n);
		return 0;
	}
	len = to_u16(c, s, n);
	if (len < 0)
		return ling_err_set(err, LING_EDATA, "invalid UTF-8 in a term");
	if (unorm2_quickCheck(unorm2_getNFCInstance(&ec), (const UChar *)c->u16, len, &ec) == UNORM_YES &&
	    U_SUCCESS(ec)) {
		ling_buf_add(out, s, n);
		return 0;
	}
	len = nfc_u16(c, len);
	if (len < 0 || from_u16((const UChar *)c->u16b, len, out))
		return ling_err_set(err, LING_EDATA, "cannot normalise a term to NFC");
	return 0;
}

int kg_canon_fold(struct kg_canon *c, const char *s, size_t n, struct ling_buf *out, struct ling_err *err)
{
	UErrorCode ec = U_ZERO_ERROR;
	int32_t len, folded;

	len = to_u16(c, s, n);
	if (len < 0)
		return ling_err_set(err, LING_EDATA, "invalid UTF-8 in a label");
	len = nfc_u16(c, len);
	if (len < 0)
		return ling_err_set(err, LING_EDATA, "cannot normalise a label");
	/* Full case folding can grow a string at most threefold. */
	c->u16 = xgrow(c->u16, &c->u16_cap, (size_t)len * 3 + 1, sizeof(UChar));
	folded = u_strFoldCase((UChar *)c->u16, (int32_t)c->u16_cap, (const UChar *)c->u16b, len,
			       U_FOLD_CASE_DEFAULT, &ec);
	if (U_FAILURE(ec) || from_u16((const UChar *)c->u16, folded, out))
		return ling_err_set(err, LING_EDATA, "cannot case-fold a label");
	return 0;
}

int kg_canon_term(struct kg_canon *c, const struct kg_term *t, const char *scope, struct ling_buf *out,
		  struct ling_err *err)
{
	struct kg_term n = *t;
	char label[24];
	size_t i;

	if (t->type == KG_TERM_BNODE) {
		if (scope) {
			uint64_t seed = XXH3_64bits(scope, strlen(scope));

			snprintf(label, sizeof(label), "b%016llx",
				 (unsigned long long)XXH3_64bits_withSeed(t->value, t->len, seed));
			n.value = label;
			n.len = strlen(label);
		}
		kg_term_write_nt(out, &n);
		return 0;
	}
	/*
	 * IRIs, lexical forms and datatypes are kept as written: RDF 1.1 compares
	 * them character by character, so normalising would change what the
	 * store holds (U+2FA1D is not U+2A600).
	 */
	if (ling_utf8_valid_prefix(t->value, t->len) != t->len ||
	    (t->datatype && ling_utf8_valid_prefix(t->datatype, t->datatype_len) != t->datatype_len))
		return ling_err_set(err, LING_EDATA, "invalid UTF-8 in a term");
	if (t->lang) {
		/* Language tags compare case-insensitively (RDF 1.1 Concepts 3.3); keep them lowercase. */
		ling_buf_reset(&c->nfc[2]);
		for (i = 0; i < t->lang_len; i++) {
			char ch = t->lang[i];

			ling_buf_addc(&c->nfc[2], (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch));
		}
		n.lang = c->nfc[2].data;
		n.lang_len = c->nfc[2].len;
	}
	kg_term_write_nt(out, &n);
	return 0;
}
