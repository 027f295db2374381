/*
 * kg_term_canon_internal: the canonical form the store keys terms by, and
 * label folding (through common/ling_unicode, which owns the ICU calls), for
 * kg_store.c and kg_query.c. Not a public API: kg.h says what the store keys
 * terms by.
 *
 * Canonical form: the N-Triples term (kg_term_write_nt) of the term with its
 * IRI, lexical form and datatype as written (RDF 1.1 compares them character
 * by character: no Unicode normalisation), its language tag in lowercase,
 * and a blank node label replaced by "b" + 16 hex digits of the hash of
 * (scope, label), so blank nodes of different sources never meet. Only label
 * lookup keys are normalised (kg_canon_fold: NFC, then case folding).
 */
#ifndef KG_TERM_CANON_INTERNAL_H
#define KG_TERM_CANON_INTERNAL_H

#include "kg.h"
#include "../common/ling_unicode.h"

#include <stdint.h>

struct kg_canon {
	struct ling_buf nfc[3];  /* scratch; nfc[2] holds the lowercase language tag */
	struct ling_unicode uni; /* label folding */
};

void kg_canon_init(struct kg_canon *c);
void kg_canon_release(struct kg_canon *c);

/*
 * Appends the canonical form of t to out. scope NULL keeps blank node labels
 * as they are (for terms read back from the store).
 * @return 0, or LING_EDATA when a string is not valid UTF-8.
 */
int kg_canon_term(struct kg_canon *c, const struct kg_term *t, const char *scope, struct ling_buf *out,
		  struct ling_err *err);

/*
 * Appends the ICU full case folding of NFC(s) to out, for case-insensitive
 * label keys (LING_UNICODE_NFC_CASEFOLD). @return 0 or LING_EDATA "invalid
 * UTF-8 in a label" (see ling_unicode_normalize for the rare others).
 */
int kg_canon_fold(struct kg_canon *c, const char *s, size_t n, struct ling_buf *out, struct ling_err *err);

#endif
