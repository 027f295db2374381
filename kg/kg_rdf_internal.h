/*
 * kg_rdf_internal: what the parsers of kg/ share. Not a public API: the
 * contract of parsing is kg.h (kg_parse, struct kg_sink); this is how it is
 * built.
 *
 * kg_parse (kg_rdf.c) dispatches to one parser per syntax, each with the
 * contract of kg_parse. They decode escapes with kg_echar and resolve
 * relative references against the base with kg_iri_resolve (kg_iri.c).
 */
#ifndef KG_RDF_INTERNAL_H
#define KG_RDF_INTERNAL_H

#include "kg.h"

/* The syntax-specific parsers kg_parse dispatches to; same contract. quads: N-Quads (a graph slot). */
int kg_parse_ntriples(struct ling_input *in, const struct kg_parse_opts *opts, const struct kg_sink *sink,
		      struct ling_err *err, int quads);
int kg_parse_turtle(struct ling_input *in, const struct kg_parse_opts *opts, const struct kg_sink *sink,
		    struct ling_err *err);
int kg_parse_rdfxml(struct ling_input *in, const struct kg_parse_opts *opts, const struct kg_sink *sink,
		    struct ling_err *err);
int kg_parse_tsv(struct ling_input *in, const struct kg_parse_opts *opts, const struct kg_sink *sink,
		 struct ling_err *err);

/* The number of scratch buffers kg_nq_parse_line takes. */
#define KG_NT_SCRATCH 5

/*
 * Parses one N-Quads (or N-Triples) line s[0..n), without its newline, into
 * q; the unescaped strings live in scratch[0..KG_NT_SCRATCH) (initialised
 * by the caller, reused from line to line). @return 1 for a statement, 0 for
 * a blank or comment line, or LING_EDATA with err's col and message set.
 */
int kg_nq_parse_line(const char *s, size_t n, struct kg_quad *q, struct ling_buf scratch[KG_NT_SCRATCH],
		     struct ling_err *err);

/* The character an ECHAR escape \c stands for (tbnrf"'\), or -1 when c is not one. */
int kg_echar(int c);

/*
 * Resolves the IRI reference ref (ref_len bytes) against the absolute IRI
 * base and appends the result to out (RFC 3986 section 5.2, applied to IRIs
 * as RDF 1.1 Turtle and RDF/XML require). Removes dot segments as RFC 3986
 * 5.2.4 says. When base is NULL, ref is appended as it is.
 */
void kg_iri_resolve(struct ling_buf *out, const char *base, size_t base_len, const char *ref, size_t ref_len);

#endif
