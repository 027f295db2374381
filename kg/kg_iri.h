/*
 * kg_iri: IRI reference resolution (RFC 3986 section 5.2, applied to IRIs as
 * RDF 1.1 Turtle and RDF/XML require) and a syntax check for absolute IRIs.
 */
#ifndef KG_IRI_H
#define KG_IRI_H

#include "../common/ling_mem.h"

#include <stddef.h>

/*
 * Resolves the reference ref (ref_len bytes) against the absolute IRI base and
 * appends the result to out. Removes dot segments as RFC 3986 5.2.4 says.
 * When base is NULL, ref is appended as it is.
 */
void kg_iri_resolve(struct ling_buf *out, const char *base, size_t base_len, const char *ref, size_t ref_len);

/* @return 1 when s starts with a scheme (ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"), else 0. */
int kg_iri_is_absolute(const char *s, size_t n);

#endif
