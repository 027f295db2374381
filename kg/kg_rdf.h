/*
 * kg_rdf: RDF terms, quads and the parser interface shared by every syntax.
 *
 * A parser reads a ling_input and calls a struct kg_sink for each quad. Term
 * strings point into the parser's buffers and are valid only during the call.
 * Every string a parser hands out is valid UTF-8 with escapes already decoded;
 * IRIs are absolute (resolved against the base). No Unicode normalisation:
 * terms are what the document wrote (RDF 1.1 compares them by character).
 *
 * Statements are all-or-nothing: a parser calls sink->commit() after each
 * complete statement (an N-Triples line, a Turtle statement ending in '.', a
 * whole RDF/XML document). When a statement is bad, the parser calls
 * sink->rollback() (the sink drops the quads it got since the last commit),
 * then sink->error() with the position; a non-zero return stops the parse,
 * zero skips to the next statement (where the syntax allows recovery).
 *
 * Blank node labels are unique within one parse: labels written in the
 * document come out as "b" + label, labels the parser invents as "g" + a
 * counter, so the two never collide.
 */
#ifndef KG_RDF_H
#define KG_RDF_H

#include "../common/ling_err.h"
#include "../common/ling_input.h"
#include "../common/ling_mem.h"

#include <stddef.h>

enum kg_term_type {
	KG_TERM_NONE = 0, /* the default graph, in kg_quad.g */
	KG_TERM_IRI,
	KG_TERM_BNODE,
	KG_TERM_LITERAL,
};

struct kg_term {
	enum kg_term_type type;
	const char *value;    /* IRI, blank node label (no "_:"), or literal lexical form */
	size_t len;
	const char *datatype; /* literal only: datatype IRI, NULL for xsd:string and lang strings */
	size_t datatype_len;
	const char *lang;     /* literal only: language tag as written, NULL when none */
	size_t lang_len;
};

struct kg_quad {
	struct kg_term s, p, o, g;
};

enum kg_format {
	KG_FORMAT_AUTO = 0,
	KG_FORMAT_NTRIPLES,
	KG_FORMAT_NQUADS,
	KG_FORMAT_TURTLE,
	KG_FORMAT_RDFXML,
	KG_FORMAT_TSV,
};

struct kg_sink {
	void *ctx;
	/* One quad of the current statement. @return 0, or a negative ling_errc (with err set) to stop. */
	int (*quad)(void *ctx, const struct kg_quad *q, struct ling_err *err);
	/* The current statement is complete: keep its quads. May be NULL. */
	void (*commit)(void *ctx);
	/* Drop the quads received since the last commit. May be NULL. */
	void (*rollback)(void *ctx);
	/* A bad statement (already rolled back). @return 0 to skip it and go on, non-zero to stop. */
	int (*error)(void *ctx, const struct ling_err *err);
};

struct kg_parse_opts {
	enum kg_format format;
	const char *base;       /* base IRI (Turtle, RDF/XML); NULL: relative IRIs are errors */
	char delimiter;         /* TSV field separator; 0 means tab */
	const char *tsv_prefix; /* TSV: IRI prefix for fields that are not IRIs already; NULL: "urn:kg:" */
	int tsv_labels;         /* TSV: also emit <field IRI> rdfs:label "field" for each entity field */
};

/* The character an ECHAR escape \c stands for (tbnrf"'\), or -1 when c is not one. */
int kg_echar(int c);

/* Maps a name ("ntriples", "nt", "nquads", "turtle", "ttl", "rdfxml", "xml", "tsv") to a format. */
enum kg_format kg_format_from_name(const char *name);
/* Guesses from a file name (after stripping .gz/.zst): .nt .nq .ttl .rdf .owl .xml .tsv .txt. */
enum kg_format kg_format_from_path(const char *path);
const char *kg_format_name(enum kg_format f);

/*
 * Fills in what opts leaves open for the input at path ("-" is stdin): the
 * format from the file name (stdin: N-Triples), and the base IRI
 * file://<absolute path>, kept in base_buf.
 * @return 0, or LING_EUSAGE (err set) when the name does not tell the format.
 */
int kg_parse_opts_for_path(struct kg_parse_opts *opts, const char *path, struct ling_buf *base_buf,
			   struct ling_err *err);

/*
 * Parses all of in and feeds sink.
 * @return 0 when the input was read to its end (bad statements skipped with the
 * sink's consent count as success), else a negative ling_errc with err set:
 * LING_EDATA for a syntax error the sink chose to stop at, LING_EIO for a read
 * error, or whatever sink->quad returned.
 */
int kg_parse(struct ling_input *in, const struct kg_parse_opts *opts, const struct kg_sink *sink,
	     struct ling_err *err);

/* The syntax-specific parsers kg_parse dispatches to; same contract. */
int kg_parse_ntriples(struct ling_input *in, const struct kg_parse_opts *opts, const struct kg_sink *sink,
		      struct ling_err *err, int quads);
int kg_parse_turtle(struct ling_input *in, const struct kg_parse_opts *opts, const struct kg_sink *sink,
		    struct ling_err *err);
int kg_parse_rdfxml(struct ling_input *in, const struct kg_parse_opts *opts, const struct kg_sink *sink,
		    struct ling_err *err);
int kg_parse_tsv(struct ling_input *in, const struct kg_parse_opts *opts, const struct kg_sink *sink,
		 struct ling_err *err);

/*
 * Parses one N-Triples term, the whole of s[0..n): <iri>, _:label or a
 * literal with escapes, @lang or ^^<datatype>. The strings of *t live in
 * storage (their previous contents are replaced); a blank node keeps its label
 * as written. @return 0, or LING_EDATA with err set.
 */
int kg_nt_term_parse(const char *s, size_t n, struct kg_term *t, struct ling_buf *storage, struct ling_err *err);

/*
 * Appends the N-Triples form of t to out: <iri>, _:label, "lexical" with
 * ^^<datatype> or @lang. Escapes in literals: \" \\ \n \r \t \b \f, and the other
 * control characters as \uXXXX; everything else stays UTF-8. In IRIs, the
 * characters N-Triples forbids (controls, space, <>"{}|^`\) are written as \uXXXX.
 */
void kg_term_write_nt(struct ling_buf *out, const struct kg_term *t);

#endif
