#include "kg_term_canon_internal.h"

#include "../common/ling_utf8.h"

#include <stdio.h>
#include <string.h>
#include <xxhash.h>

void kg_canon_init(struct kg_canon *c)
{
	memset(c, 0, sizeof(*c));
	ling_unicode_init(&c->uni);
}

void kg_canon_release(struct kg_canon *c)
{
	int i;

	for (i = 0; i < 3; i++)
		ling_buf_release(&c->nfc[i]);
	ling_unicode_release(&c->uni);
	memset(c, 0, sizeof(*c));
}

int kg_canon_fold(struct kg_canon *c, const char *s, size_t n, struct ling_buf *out, struct ling_err *err)
{
	return ling_unicode_normalize(&c->uni, LING_UNICODE_NFC_CASEFOLD, 0, s, n, out, "a label", err);
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
