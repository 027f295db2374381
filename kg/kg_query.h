/*
 * kg_query: triple patterns with variables, joined (basic graph patterns),
 * entity lookup by label, k-hop neighbourhoods and a dump, over a kg_store.
 *
 * Pattern syntax, one pattern per string, 3 or 4 terms separated by spaces:
 *   ?var  <iri>  prefix:local  "literal"  "literal"@lang  "literal"^^<iri>  _:b…  a
 * An IRI without a scheme gets the prefix from kg_query_opts (default urn:kg:,
 * the prefix kg-load gives delimited files), so <directed_by> works on MetaQA.
 * Known prefixes: rdf rdfs owl xsd skos schema foaf dbo fb wd kg.
 */
#ifndef KG_QUERY_H
#define KG_QUERY_H

#include "kg_store.h"

#include <stdio.h>

enum kg_query_output { KG_OUTPUT_JSONL, KG_OUTPUT_NTRIPLES };

struct kg_query_opts {
	const char *iri_prefix;   /* for IRIs with no scheme; NULL: urn:kg: */
	enum kg_query_output output;
	unsigned long long limit; /* 0: no limit */
};

/* Runs the join of patterns[0..n) and writes each solution to out. @return 0 or a negative ling_errc. */
int kg_query_patterns(struct kg_store *st, const char *const *patterns, int n, const struct kg_query_opts *opts,
		      FILE *out, struct ling_err *err);

/* Writes the entities whose label folds to the same text as label (lang NULL = any). */
int kg_query_label(struct kg_store *st, const char *label, const char *lang, const struct kg_query_opts *opts,
		   FILE *out, struct ling_err *err);

/*
 * Writes the triples within hops of entity (an N-Triples term, a prefixed name,
 * or a label), in both directions, at most fanout per node and direction.
 */
int kg_query_neighbours(struct kg_store *st, const char *entity, int hops, unsigned long long fanout,
			const struct kg_query_opts *opts, FILE *out, struct ling_err *err);

/* Writes every quad as N-Quads, in SPO order. */
int kg_query_dump(struct kg_store *st, FILE *out, struct ling_err *err);

#endif
