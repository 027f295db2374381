/*
 * tok_norm: HF normalizers (NFC, NFKC, Lowercase, Prepend, Replace). The one
 * module of tokenize/ that uses ICU. ASCII text is unchanged by NFC and NFKC,
 * so it skips ICU.
 */
#include "tok_internal.h"

#include <stdlib.h>
#include <string.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include "../common/banned.h"

static int is_ascii(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

/* Normalises src into dst with ICU (NFC or NFKC), or lowercases it. */
static int icu_apply(enum tok_norm_kind kind, const struct ling_buf *src, struct ling_buf *dst, struct ling_err *err)
{
	UErrorCode ec = U_ZERO_ERROR;
	const UNormalizer2 *n2 = NULL;
	UChar *u16 = NULL, *v16 = NULL;
	int32_t ulen = 0, vlen, olen = 0;
	int rc = 0;

	if (src->len > INT32_MAX / 4)
		return ling_err_set(err, LING_ELIMIT, "text too long to normalise");
	u_strFromUTF8(NULL, 0, &ulen, src->data ? src->data : "", (int32_t)src->len, &ec);
	ec = U_ZERO_ERROR;
	u16 = xmalloc(((size_t)ulen + 1) * sizeof(UChar));
	u_strFromUTF8(u16, ulen + 1, NULL, src->data ? src->data : "", (int32_t)src->len, &ec);
	if (U_FAILURE(ec))
		goto icu_fail;
	vlen = ulen * 3 + 16;
	v16 = xmalloc((size_t)vlen * sizeof(UChar));
	if (kind == TOK_NORM_LOWERCASE) {
		vlen = u_strToLower(v16, vlen, u16, ulen, "", &ec);
	} else {
		n2 = kind == TOK_NORM_NFC ? unorm2_getNFCInstance(&ec) : unorm2_getNFKCInstance(&ec);
		if (U_FAILURE(ec))
			goto icu_fail;
		vlen = unorm2_normalize(n2, u16, ulen, v16, vlen, &ec);
	}
	if (U_FAILURE(ec))
		goto icu_fail;
	u_strToUTF8(NULL, 0, &olen, v16, vlen, &ec);
	ec = U_ZERO_ERROR;
	ling_buf_reset(dst);
	ling_buf_reserve(dst, (size_t)olen + 1);
	u_strToUTF8(dst->data, olen + 1, NULL, v16, vlen, &ec);
	if (U_FAILURE(ec))
		goto icu_fail;
	dst->len = (size_t)olen;
	dst->data[olen] = '\0';
	goto out;
icu_fail:
	rc = ling_err_set(err, LING_EDATA, "unicode normalisation failed: %s", u_errorName(ec));
out:
	free(u16);
	free(v16);
	return rc;
}

static int replace_all(struct tok_regex *re, const char *with, const struct ling_buf *src, struct ling_buf *dst,
		       struct ling_err *err)
{
	size_t pos = 0, ms, me;
	int rc;

	ling_buf_reset(dst);
	while (pos <= src->len && (rc = tok_regex_find(re, src->data ? src->data : "", src->len, pos, &ms, &me, err)) == 1) {
		ling_buf_add(dst, src->data + pos, ms - pos);
		ling_buf_adds(dst, with);
		if (me == ms) {
			if (ms >= src->len) {
				pos = src->len + 1;
				break;
			}
			ling_buf_addc(dst, src->data[ms]);
			me++;
		}
		pos = me;
	}
	if (rc < 0)
		return rc;
	if (pos < src->len)
		ling_buf_add(dst, src->data + pos, src->len - pos);
	return 0;
}

int tok_normalize(struct tok *t, const char *s, size_t len, struct ling_buf *out, struct ling_err *err)
{
	struct ling_buf *cur = out, *other = &t->tbuf, *tmp;
	size_t i;
	int rc;

	ling_buf_reset(out);
	ling_buf_add(out, s, len);
	for (i = 0; i < t->nnorm; i++) {
		const struct tok_norm *n = &t->norm[i];

		switch (n->kind) {
		case TOK_NORM_NFC:
		case TOK_NORM_NFKC:
		case TOK_NORM_LOWERCASE:
			if (is_ascii(cur->data, cur->len)) {
				if (n->kind == TOK_NORM_LOWERCASE) {
					size_t k;

					for (k = 0; k < cur->len; k++)
						if (cur->data[k] >= 'A' && cur->data[k] <= 'Z')
							cur->data[k] = (char)(cur->data[k] - 'A' + 'a');
				}
				continue;
			}
			if ((rc = icu_apply(n->kind, cur, other, err)))
				return rc;
			break;
		case TOK_NORM_PREPEND:
			if (!cur->len)
				continue;
			ling_buf_reset(other);
			ling_buf_adds(other, n->str);
			ling_buf_add(other, cur->data, cur->len);
			break;
		case TOK_NORM_REPLACE:
			if ((rc = replace_all(n->re, n->str, cur, other, err)))
				return rc;
			break;
		}
		tmp = cur;
		cur = other;
		other = tmp;
	}
	if (cur != out) {
		ling_buf_reset(out);
		ling_buf_add(out, cur->data, cur->len);
	}
	return 0;
}
