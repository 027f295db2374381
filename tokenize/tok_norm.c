/*
 * tok_norm: HF normalizers (NFC, NFKC, Lowercase, Prepend, Replace). The
 * Unicode ones go through ling_unicode (ICU). ASCII text is unchanged by NFC
 * and NFKC, so it skips ICU.
 */
#include "tok_internal.h"

#include "../common/ling_unicode.h"

#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

/* HF NFC, NFKC and Lowercase (ICU's root-locale lowercase mapping, not case folding). */
static enum ling_unicode_form unicode_form(enum tok_norm_kind kind)
{
	return kind == TOK_NORM_NFC ? LING_UNICODE_NFC : kind == TOK_NORM_NFKC ? LING_UNICODE_NFKC : LING_UNICODE_LOWER;
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
			if (ling_unicode_is_ascii(cur->data, cur->len)) {
				if (n->kind == TOK_NORM_LOWERCASE) {
					size_t k;

					for (k = 0; k < cur->len; k++)
						if (cur->data[k] >= 'A' && cur->data[k] <= 'Z')
							cur->data[k] = (char)(cur->data[k] - 'A' + 'a');
				}
				continue;
			}
			ling_buf_reset(other);
			if ((rc = ling_unicode_normalize(&t->uni, unicode_form(n->kind), 0, cur->data, cur->len, other,
							 NULL, err)))
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
