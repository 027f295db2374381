/*
 * kg: the knowledge-graph stage, its one public header. Mains (kg-load,
 * kg-parse, kg-query, kg-stat), synth/ and the later stages include this and
 * nothing else from kg/ (tests/tools/check-includes.sh checks it).
 *
 * What it offers, in the order of the sections below:
 *  - RDF terms and quads, and parsers for N-Triples, N-Quads, Turtle,
 *    RDF/XML and delimited files that feed a struct kg_sink
 *    (kg_rdf.c, kg_ntriples.c, kg_turtle.c, kg_rdfxml.c, kg_tsv.c, kg_term.c,
 *    kg_iri.c);
 *  - the store, a RocksDB directory: loading in transactions, reading by
 *    triple pattern and label, counters, and its summary (kg_store.c,
 *    kg_summary.c);
 *  - queries: joins of triple patterns, label lookup, neighbourhoods, dump
 *    (kg_query.c);
 *  - tools: the function-calling tool catalogue of a store and executing
 *    calls (kg_tools.c, kg_tool_names.c, kg_tool_call.c), with the literal
 *    values they take and return (kg_value.c);
 *  - English word forms for names and sentences (kg_words.c).
 *
 * The files of kg/ share more through internal headers, which nothing
 * outside kg/ includes but its unit tests: kg_rdf_internal.h (the parsers of
 * each syntax, escapes, IRI resolution), kg_term_canon_internal.h (the
 * canonical form of terms, ICU) and kg_tools_internal.h (the catalogue's
 * parts).
 *
 * Errors: functions return 0 or a negative enum ling_errc and fill the
 * caller's struct ling_err (common/ling_err.h); nothing here prints or exits.
 */
#ifndef KG_H
#define KG_H

#include "../common/ling_err.h"
#include "../common/ling_input.h"
#include "../common/ling_mem.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ==== RDF terms, quads and parsing ==== */

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

/*
 * @return 1 when the IRI s[0..n) is absolute: it starts with a scheme
 * (ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"), else 0.
 */
int kg_iri_is_absolute(const char *s, size_t n);

/* ==== the store ==== */

/*
 * kg_store: the knowledge-graph store, a RocksDB directory (DESIGN.md 3.1).
 *
 * Terms are kept in their N-Triples form as written (RDF 1.1 compares IRIs
 * and literals character by character; no Unicode normalisation), with
 * lowercase language tags; a term's 64-bit id is the XXH3 hash of that form,
 * so a load maps terms to ids without reading the store, and the dictionary
 * (id -> term) detects the (astronomically rare) collision. Blank nodes are
 * skolemised per source: their label is hashed with a key of the source (the
 * content hash of the input file), so loading the same file twice gives the
 * same nodes and two files never share one by accident.
 *
 * Quads are keyed in three orders (SPOG, POSG, OSPG), big-endian ids, so each
 * triple pattern is one prefix scan. Counters (triples per predicate, degree
 * per entity, labels per language, entities per type) are RocksDB merge
 * operands, added only for quads that were not in the store yet.
 *
 * Every key lives in one column family under a one-byte tag: the C API
 * ingests SST files atomically only within one family, and a bulk load must
 * be all or nothing. A load is one transaction: kg_loader_apply() either
 * ingests one SST file (bulk) or writes one WriteBatch (small), with the
 * indexes, dictionary, labels and counters together. Killed at any moment,
 * the store holds the load completely or not at all.
 *
 * Ownership: a kg_store is used by one thread; a kg_loader belongs to its store
 * and must be freed before it.
 */

/* 2: terms as written (1 keyed them after NFC; refused, as its ids differ). */
#define KG_STORE_FORMAT_VERSION 2

typedef uint64_t kg_id;

/* kg_id 0 is never a term: in a quad's graph slot it means the default graph. */
#define KG_ID_DEFAULT_GRAPH ((kg_id)0)

/* Called per entity: by kg_store_find_label for each whose label matches, by kg_changed_since for each changed. */
typedef int (*kg_id_fn)(void *ctx, kg_id id);

enum kg_store_flags {
	KG_STORE_READONLY = 1 << 0,
	KG_STORE_CREATE = 1 << 1,   /* create the directory when it is missing */
};

struct kg_store;

/* @return 0, LING_ESTORE (not a store, newer format, RocksDB error) or LING_EIO. */
int kg_store_open(struct kg_store **out, const char *dir, unsigned flags, struct ling_err *err);
void kg_store_close(struct kg_store *st);

/* ---- loading ---- */

enum kg_loader_flags {
	KG_LOADER_DELETE = 1 << 0,  /* remove the quads instead of adding them */
	/*
	 * Each apply is one numbered change batch (see "Deltas and changes"
	 * below): it writes a WriteBatch even when no quad changes (its meta
	 * keys must land), takes the next change mark and records the entities
	 * it changed under it.
	 */
	KG_LOADER_TRACK = 1 << 1,
};

struct kg_load_counts {
	uint64_t quads_read;     /* quads handed to kg_loader_add (committed statements) */
	uint64_t quads_changed;  /* quads added to (or removed from) the store */
	uint64_t terms_added;    /* new dictionary entries */
	uint64_t quads_deleted;  /* of quads_changed, those removed (a load with kg_loader_set_delete) */
	uint64_t batches;        /* tracked applies (KG_LOADER_TRACK) written */
};

struct kg_loader;

/*
 * Starts a load. source_key scopes blank node labels (use the content hash of
 * the input); graph, when not NULL, puts every triple without a graph into it.
 */
int kg_loader_new(struct kg_loader **out, struct kg_store *st, const char *source_key,
		  const struct kg_term *graph, unsigned flags, struct ling_err *err);

/* Room for a source key and its NUL. */
#define KG_SOURCE_KEY_SIZE 40

/*
 * The source key of the input at path, for kg_loader_new(): the XXH3-128
 * hash of the file's bytes as stored (a compressed file is hashed
 * compressed) in 32 hex digits, so loading the same file again maps its
 * blank nodes to the same nodes, whatever its name. stdin ("-") cannot be
 * read twice: its key is stdin_key, cut to KG_SOURCE_KEY_SIZE - 1 bytes.
 * @return 0, or LING_EIO with err set (the file cannot be opened or read).
 */
int kg_loader_source_key(const char *path, const char *stdin_key, char out[KG_SOURCE_KEY_SIZE],
			 struct ling_err *err);

/* Adds one quad of the current statement. Errors: LING_EDATA for a term that is not valid UTF-8. */
int kg_loader_add(struct kg_loader *ld, const struct kg_quad *q, struct ling_err *err);
void kg_loader_commit(struct kg_loader *ld);
void kg_loader_rollback(struct kg_loader *ld);
/* Quads buffered (committed) since the last apply. */
uint64_t kg_loader_pending(const struct kg_loader *ld);
/* Applies the committed quads in one transaction and adds to counts. */
int kg_loader_apply(struct kg_loader *ld, struct kg_load_counts *counts, struct ling_err *err);
/* Frees the loader; quads not applied are dropped. */
void kg_loader_free(struct kg_loader *ld);

/* ---- deltas and changes ---- */

/*
 * A load may mix additions and deletions (kg-load --kafka): after
 * kg_loader_set_delete(ld, 1) the quads added remove, after (ld, 0) they
 * add, whatever the loader's flags said. Within one apply, the last
 * operation on a quad wins, so applying a stream of deltas in batches gives
 * the store that applying them one by one gives.
 */
void kg_loader_set_delete(struct kg_loader *ld, int deleting);

/*
 * Puts the meta key name (no NUL; "format", "uuid" and "change_mark" are the
 * store's own) with value into the next apply's WriteBatch, with its quads:
 * a consumer's offsets become durable exactly with the data they stand for.
 * Later puts of the same name before the apply win.
 */
void kg_loader_meta_put(struct kg_loader *ld, const char *name, const char *value);

/*
 * Feeds one delta message msg[0..len) to ld: each line is "+ STATEMENT" (add)
 * or "- STATEMENT" (delete), STATEMENT one N-Quads (or N-Triples) statement;
 * empty lines and whitespace-only lines are skipped. A bad line (no "+ " or
 * "- " prefix, not N-Quads, invalid UTF-8) is rolled back and given to
 * on_error with err's file set to where (say "topic/0@17"), line to the line
 * in the message and col to the column; on_error returns 0 to skip it, non-zero
 * to stop. Blank nodes are scoped by ld's source key.
 * @return 0, LING_EDATA when on_error stopped (the message's earlier
 * statements stay in ld, committed), or what kg_loader_add returned.
 */
int kg_delta_add(struct kg_loader *ld, const char *msg, size_t len, const char *where,
		 int (*on_error)(void *ctx, const struct ling_err *err), void *ctx, struct ling_err *err);

/*
 * Changes. Every apply of a KG_LOADER_TRACK loader takes the next change
 * mark (1, 2, ...; kept in the store, so marks only grow) and records, in
 * the same WriteBatch as its quads, the entities whose quads it added or
 * removed: the subjects and the objects that are IRIs or blank nodes. A
 * later stage remembers the mark it has seen and asks what changed since.
 * Loads without the flag (kg-load of files) record nothing.
 */

/* The current change mark: the number of the last tracked batch applied, 0 for none. @return 0 or LING_ESTORE. */
int kg_change_mark(struct kg_store *st, uint64_t *mark, struct ling_err *err);

/*
 * Calls fn once for each entity changed by a batch numbered above mark, in
 * ascending id order; fn returns 0 to go on, non-zero to stop (a negative
 * return is passed back). @return 0, fn's negative return, or LING_ESTORE.
 */
int kg_changed_since(struct kg_store *st, uint64_t mark, kg_id_fn fn, void *ctx, struct ling_err *err);

/* ---- reading ---- */

/* Id of a term as the store would key it (lowercase language tag). Sets *found when the dictionary has it. */
int kg_store_term_id(struct kg_store *st, const struct kg_term *t, kg_id *id, int *found, struct ling_err *err);
/* Parses an N-Triples term ("<iri>", "_:b…", "\"lit\"@en") and returns its id as above. */
int kg_store_nt_id(struct kg_store *st, const char *nt, kg_id *id, int *found, struct ling_err *err);
/*
 * The id of a term written in canonical N-Triples form (lowercase language
 * tag), computed without reading the store: what kg_store_nt_id gives for it
 * when the store holds it. For IRIs known in advance, such as rdfs:label.
 */
kg_id kg_store_canonical_id(const char *nt, size_t len);
/* Appends the N-Triples form of id to out. LING_ESTORE when the id is unknown. */
int kg_store_term_nt(struct kg_store *st, kg_id id, struct ling_buf *out, struct ling_err *err);

struct kg_pattern {
	kg_id s, p, o, g;
	unsigned bound; /* KG_BOUND_* bits: which of s, p, o, g are fixed */
};

enum kg_bound { KG_BOUND_S = 1 << 0, KG_BOUND_P = 1 << 1, KG_BOUND_O = 1 << 2, KG_BOUND_G = 1 << 3 };

/* Called per matching quad (s, p, o, g). @return 0 to go on, 1 to stop, negative on error. */
typedef int (*kg_quad_fn)(void *ctx, const kg_id quad[4]);

/* Calls fn for each quad matching pat, using the best index. @return 0 or a negative ling_errc. */
int kg_store_match(struct kg_store *st, const struct kg_pattern *pat, kg_quad_fn fn, void *ctx,
		   struct ling_err *err);

/*
 * Entities with a label (rdfs:label, skos:prefLabel, schema:name) equal to
 * label after Unicode NFC and ICU case folding (the label index is the one
 * place terms are normalised); lang NULL means any language.
 */
int kg_store_find_label(struct kg_store *st, const char *label, const char *lang, kg_id_fn fn, void *ctx,
			struct ling_err *err);

struct kg_stats {
	uint64_t quads;
	uint64_t terms;
	uint64_t entities;   /* subjects and objects that are IRIs or blank nodes, with degree > 0 */
	uint64_t predicates; /* with at least one triple */
	uint64_t disk_bytes; /* SST and log files */
};

int kg_store_stats(struct kg_store *st, struct kg_stats *out, struct ling_err *err);

/* Named counters: kind 'p' (per predicate id), 'y' (per type id), 'l' (per language; key is the tag). */
typedef int (*kg_count_fn)(void *ctx, const char *key, size_t key_len, const int64_t *lanes, size_t nlanes);
int kg_store_counts(struct kg_store *st, char kind, kg_count_fn fn, void *ctx, struct ling_err *err);
/* Degree of an entity: out (as subject) and in (as object). */
int kg_store_degree(struct kg_store *st, kg_id id, int64_t *out_degree, int64_t *in_degree, struct ling_err *err);

/* A 64-bit id from 8 big-endian bytes, as the count keys of kind 'p' and 'y' hold it. */
kg_id kg_id_from_be(const void *p);

/* The meta value stored under name ("format", "uuid", ...) into out. @return 1 found, 0 not, <0 error. */
int kg_store_meta_get(struct kg_store *st, const char *name, struct ling_buf *out, struct ling_err *err);

/* ---- summary (kg_summary.c): what kg-stat shows ---- */

/* A named counter: a predicate or a type (N-Triples form), or a language tag ("" for none). */
struct kg_count {
	char *name;
	int64_t count;
};

struct kg_count_list {
	struct kg_count *items; /* largest count first, then by name (bytes) */
	size_t n, cap;
};

/* The totals and counter lists of a store. Owns its lists: kg_summary_release() frees them. */
struct kg_summary {
	struct kg_stats stats;
	struct kg_count_list predicates; /* triples per predicate */
	struct kg_count_list languages;  /* labels per language tag */
	struct kg_count_list types;      /* entities per rdf:type */
};

/*
 * Reads the summary of st into out (which need not be initialised).
 * @return 0, or LING_ESTORE with err set and out released.
 */
int kg_summary_read(struct kg_store *st, struct kg_summary *out, struct ling_err *err);
void kg_summary_release(struct kg_summary *s);

/*
 * Appends s as one line of compact JSON and "\n":
 * {"quads":N,"terms":N,"entities":N,"predicates":N,"disk_bytes":N,
 * "top_predicates":[{"name":"<iri>","count":N},...],"label_languages":[...],
 * "top_types":[...]}. top bounds the predicate and type lists (0: all);
 * every language is listed.
 */
void kg_summary_json(const struct kg_summary *s, size_t top, struct ling_buf *out);

/*
 * Appends s as text: one "name  value" line per total (disk in MiB), then
 * each list under a title with its length, one "  count  name" line per
 * entry ("(none)" for the empty language tag), at most top entries of the
 * predicate and type lists (0: all) and a line saying how many more there are.
 */
void kg_summary_text(const struct kg_summary *s, size_t top, struct ling_buf *out);

/* ==== queries ==== */

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

/* ==== tools ==== */

/*
 * kg_tools: the tool catalogue of a store, and executing one tool call.
 *
 * A store's relations become function-calling tools (KG2Tool, Ling TR 4.4;
 * DESIGN.md 3.2). For every predicate with at least min_facts triples whose
 * objects are mostly entities (IRIs or blank nodes), there is a forward tool
 * (subject name -> object names, `get_person_place_of_birth(person)`) and an
 * inverse tool (object name -> subject names,
 * `find_people_by_place_of_birth(place_of_birth)`; kg_tool_names.c has the naming
 * rules). Predicates that only label or link out
 * (rdfs:label, skos:altLabel, schema:description, schema:url, owl:sameAs,
 * rdf:type, rdfs:domain, rdfs:range, ...) get no tool. Besides those, the
 * logic tools `intersection`, `union` and `difference` over answer sets and
 * `search_entities` (exact, case-insensitive label lookup).
 *
 * Names and descriptions come from the relation's labels in the store
 * (rdfs:label of the predicate, the labels of its rdfs:domain and rdfs:range)
 * and, failing those, from its IRI (Freebase `a.b.c` and `a.b.c..d.e.f`
 * paths, camelCase, snake_case local names). They are readable snake_case and
 * unique; the catalogue of a store is a pure function of its contents, so
 * kg2samples and `kg-query --call` agree on every name (given the same
 * min_facts).
 *
 * Entities are named by kg_entity_name(); tools take and return names, not
 * IRIs. A name stands for every entity whose display name equals it exactly,
 * so a call on an ambiguous name answers for all of them (kg2samples rejects
 * samples that would depend on that).
 *
 * An entity without any label is named by its N-Triples form ("<iri>",
 * "_:b…"; a literal object by its N-Triples form too), which resolves back to
 * it as an argument.
 *
 * The tool vocabulary (names, descriptions, phrases, nouns) is English, from
 * the English or untagged labels of predicates and classes; lang applies to
 * entity names.
 *
 * A toolset caches entity names for its calls: use it from one thread, as the
 * store.
 *
 * A call's result is a compact JSON array of distinct names sorted by bytes,
 * e.g. ["Alien","Heat"], or [] when there is none. That text is exactly what
 * a sample records as the tool message's content.
 *
 * Optional parameters. Every relation tool also takes (KG_TOOL_OPT_*):
 *  - "sort": the order of the result, one of two words. For names and text
 *    values "alphabetical" (by bytes, the default order) or
 *    "reverse_alphabetical" (its reverse); for the values of an integer,
 *    number, year or date relation "ascending" or "descending", by value
 *    (kg_value_cmp: 9 before 10), a value that did not read as one of the
 *    type last in ascending order. Without sort the order is by bytes.
 *  - "limit": an integer >= 1, at most that many names: the first ones in
 *    the result's order (after sort).
 * The result stays a pure function of the arguments: sort, then limit.
 * The inverse tool of an integer, number, year or date relation also takes
 * "to", a value of the same type >= its parameter's (an error otherwise):
 * then it answers for every value v with param <= v <= to (kg_value_cmp),
 * e.g. find_films_by_release_year({"release_year":1990,"to":1995}). So does
 * the inverse tool of an entity relation with more than KG_TOOL_ENUM_MAX
 * objects that are all named by integers (MetaQA's release years): "to"
 * is then a name like its parameter, both canonical integers ("1990",
 * "1995"), and the range compares the objects' names as integers.
 * An inverse tool whose parameter can take only a few values (at most
 * KG_TOOL_ENUM_MAX distinct names of objects, or canonical values of a text
 * relation) lists them as the parameter's "enum" (t->enums, sorted by
 * bytes), and a call with another value is an error. Its twin tool and the
 * others have none.
 *
 * Literal relations. A predicate with at least min_facts triples whose
 * objects are mostly literals gets tools too, typed by the datatype most of
 * its literals have (enum kg_value_type): its forward tool returns values,
 * its inverse tool takes one, e.g. get_film_release_year(film) ->
 * ["1979"] and find_films_by_release_year({"release_year": 1979}). Values
 * are strings in results, like names (so set tools and answers stay lists
 * of strings): the canonical form of the literal under the relation's type
 * (kg_value_canonical: "01979"^^xsd:integer shows as "1979", "1.50" as
 * "1.5" for a number, a date without its timezone), else its lexical form.
 * The inverse tool's parameter is a JSON integer for integers and years, a
 * JSON number for decimals, doubles and floats, a string with format "date"
 * (YYYY-MM-DD) for xsd:date, and a string for the others; it matches the
 * literals whose canonical value equals the argument's
 * (kg_value_of_arg), so 1979 finds "1979"^^xsd:gYear and
 * "+1979"^^xsd:integer alike, and a value no literal has answers [].
 * Literal relations' tools see only their literal objects, and text
 * relations whose values are long (descriptions) get none.
 */

enum kg_tool_kind {
	KG_TOOL_FORWARD,      /* {"<param>": name} -> objects of predicate */
	KG_TOOL_INVERSE,      /* {"<param>": name} -> subjects of predicate */
	KG_TOOL_INTERSECTION, /* {"sets": [[names], [names], ...]} (2 or more) -> names in every set */
	KG_TOOL_UNION,        /* {"sets": [[names], ...]} (2 or more) -> names in any set */
	KG_TOOL_DIFFERENCE,   /* {"items": [names], "exclude": [names]} -> items not in exclude */
	KG_TOOL_SEARCH,       /* {"name": text} -> names of entities whose label folds to text */
};

/* How relation_phrase reads, so that text can be built around it. */
enum kg_phrase_form {
	KG_PHRASE_NOUN, /* "place of birth": the place of birth of X; Xs whose place of birth is Y */
	KG_PHRASE_PREP, /* ends in a preposition, "directed by", "nominated for": what X is directed by */
	KG_PHRASE_VERB, /* a verb in the third person, "contains": what X contains */
};

/* What the objects of a relation are; for literals, the type of their values. */
enum kg_value_type {
	KG_VALUE_ENTITY,  /* IRIs and blank nodes, by name: {"type":"string"} */
	KG_VALUE_INTEGER, /* xsd:integer, int, long, short, byte, (non)negative, positive, unsigned: {"type":"integer"} */
	KG_VALUE_NUMBER,  /* xsd:decimal, double, float: {"type":"number"} */
	KG_VALUE_DATE,    /* xsd:date: {"type":"string","format":"date"}, YYYY-MM-DD */
	KG_VALUE_YEAR,    /* xsd:gYear: {"type":"integer"} */
	KG_VALUE_TEXT,    /* plain and language strings and every other datatype: {"type":"string"} */
};

/* The optional parameters of a relation tool (see "Optional parameters" above). */
enum kg_tool_opts {
	KG_TOOL_OPT_LIMIT = 1 << 0,      /* "limit" */
	KG_TOOL_OPT_SORT = 1 << 1,       /* "sort": by name (alphabetical, reverse_alphabetical) */
	KG_TOOL_OPT_SORT_VALUE = 1 << 2, /* "sort": by value (ascending, descending) */
	KG_TOOL_OPT_RANGE = 1 << 3,      /* "to": the end of a range of values */
};

/* Most values an inverse tool's parameter lists as its enum. */
#define KG_TOOL_ENUM_MAX 24

struct kg_tool {
	char *name;            /* unique snake_case, e.g. "get_place_of_birth" */
	char *description;     /* one sentence, e.g. "Returns the places of birth of a person, as a list of names." */
	enum kg_tool_kind kind;
	char *param;           /* forward, inverse and search: the required parameter's name; else NULL */
	char *parameters;      /* the JSON Schema of the arguments, compact JSON text */
	char *schema;          /* the whole OpenAI tool object {"type":"function","function":{...}}, compact */
	/* forward and inverse only: */
	kg_id predicate;
	char *predicate_iri;
	char *relation_phrase; /* the relation in words, e.g. "place of birth" */
	char *subject_noun;    /* what the subjects are, e.g. "person" ("entity" when unknown) */
	char *object_noun;     /* what the objects are, e.g. "place" ("entity" when unknown) */
	enum kg_phrase_form form;
	enum kg_value_type value; /* what the objects are: the forward tool returns them, the inverse takes one */
	uint64_t facts;        /* triples of the predicate */
	size_t twin;           /* index of the tool of the other direction */
	unsigned opts;         /* enum kg_tool_opts: its optional parameters (relation tools) */
	char **enums;          /* the values param takes, sorted by bytes, or NULL: any */
	size_t nenums;
	enum kg_value_type range_type; /* with KG_TOOL_OPT_RANGE: how the range compares (KG_VALUE_INTEGER for names) */
};

struct kg_toolset {
	struct kg_tool *tools; /* relation tools ordered by predicate IRI (forward, inverse), then logic tools */
	size_t ntools;
	char *lang;            /* language of entity names */
	struct kg_tools_private *priv; /* lookup index and a cache of entity names; owned */
};

struct kg_toolset_opts {
	uint64_t min_facts;    /* 0: the default, 10 */
	const char *lang;      /* NULL: "en" */
};

/* Builds the catalogue of st. @return 0, LING_ESTORE. */
int kg_toolset_build(struct kg_store *st, const struct kg_toolset_opts *opts, struct kg_toolset **out,
		     struct ling_err *err);
void kg_toolset_free(struct kg_toolset *ts);

/* The tool called name, or NULL. */
const struct kg_tool *kg_toolset_find(const struct kg_toolset *ts, const char *name);

/*
 * The display name of an entity in lang: its rdfs:label in lang (exact tag,
 * then a tag with lang as prefix such as en-GB), then an untagged rdfs:label,
 * then the same for skos:prefLabel and schema:name, then the smallest rdfs:label in
 * any language. Labels that contain U+0000 are passed over: a name travels as a
 * C string (tool arguments), so it would be cut there. Appends it to out and
 * returns 1, or returns 0 (out unchanged) when the entity has no such label;
 * negative on a store error.
 */
int kg_entity_name(struct kg_store *st, kg_id id, const char *lang, struct ling_buf *out, struct ling_err *err);

/*
 * Executes one call: args_json must be a JSON object matching the tool's
 * schema (unknown or missing required keys, wrong types, a value outside
 * the enum or below the minimum, a range that ends before it starts:
 * LING_EDATA). Replaces the content of result with the result array text.
 * @return 0; LING_EUSAGE for an unknown tool; LING_EDATA for bad arguments
 * or a name no entity has; LING_ESTORE.
 */
int kg_tool_call(struct kg_store *st, const struct kg_toolset *ts, const char *name, const char *args_json,
		 struct ling_buf *result, struct ling_err *err);

/*
 * The argument check of kg_tool_call without a store: args_json must be a
 * JSON object with t's required parameters and only its parameters, of the
 * types, enums and minimums t->parameters gives; a literal relation's
 * inverse tool takes only a value of its type (kg_value_of_arg), and "to"
 * no less than it. The names in the arguments are not looked up.
 * @return 0, or LING_EDATA with the message kg_tool_call would give.
 */
int kg_tool_args_check(const struct kg_tool *t, const char *args_json, struct ling_err *err);

struct kg_calls_counts {
	uint64_t calls;  /* records read */
	uint64_t errors; /* records answered with {"error":...} */
};

/*
 * Runs the calls of a JSON Lines input, one {"name": NAME, "arguments": ARGS}
 * per line, where ARGS is the JSON text of the arguments as a string (as in
 * OpenAI tool calls) or the object itself. Writes one line per record to
 * out: {"result":"<result text>"} or {"error":"<what is wrong>"} for a bad
 * record or a failed call (a blank line is skipped and answers nothing).
 * @return 0, LING_EIO (reading the input or writing out), LING_ESTORE.
 */
int kg_tool_calls_jsonl(struct kg_store *st, const struct kg_toolset *ts, struct ling_input *in, FILE *out,
			struct kg_calls_counts *counts, struct ling_err *err);

/* ==== literal values ==== */

/*
 * kg_value: the types of literal relations and the canonical values their
 * tools show and take (see "Literal relations" above).
 */

/* The type of a literal with datatype IRI datatype[0..n) (NULL: a plain or language string). */
enum kg_value_type kg_value_type_of(const char *datatype, size_t n);

/*
 * Appends the value a literal of lexical form lex[0..n) shows as in the tools
 * of a relation of type t (not KG_VALUE_ENTITY): its canonical form when
 * the lexical form reads as a value of t, else the lexical form itself.
 *  - integer: [+-]digits within 64 bits, as decimal digits with '-' only
 *    when negative, no leading zeros;
 *  - year: the same, and a gYear (-?YYYY with an optional timezone) as its
 *    year number: "1979Z" is 1979;
 *  - number: XSD decimal or double syntax, finite, as the shortest digits
 *    that read back as the same IEEE double, written as Python's repr()
 *    writes floats but without ".0" ("1.5", "3", "0.0001", "1e+16");
 *  - date: YYYY-MM-DD with an optional timezone, a real day of the years 1
 *    to 9999, without the timezone;
 *  - text: the lexical form.
 * @return 1 when it appended a canonical form (an argument can match the
 * literal), 0 when it appended the lexical form as it is (none can).
 */
int kg_value_canonical(enum kg_value_type t, const char *lex, size_t n, struct ling_buf *out);

/*
 * Appends the canonical value that an inverse tool's argument stands for:
 * for integer and year a JSON integer, for number a JSON integer or real,
 * given by its JSON text s[0..n) (is_string 0); for date a string
 * YYYY-MM-DD and for text any string, given by its content (is_string 1).
 * @return 0, or -1 (out unchanged) when the argument does not fit t.
 */
int kg_value_of_arg(enum kg_value_type t, int is_string, const char *s, size_t n, struct ling_buf *out);

/*
 * Whether value[0..n) is a canonical value of t, which an argument can ask
 * for: then the argument is the value itself, written as a JSON number
 * (integer, year, number) or a JSON string (date, text).
 */
int kg_value_is_canonical(enum kg_value_type t, const char *value, size_t n);

/*
 * Compares two values shown by a relation of type t (not KG_VALUE_ENTITY)
 * by value: integers and years as numbers, numbers as doubles, dates (and
 * text) by bytes; a value that is not canonical for t (kg_value_is_canonical)
 * comes after every canonical one, and two such by bytes. Equal values are
 * equal bytes. @return <0, 0, >0.
 */
int kg_value_cmp(enum kg_value_type t, const char *a, size_t an, const char *b, size_t bn);

/* Whether values of t have an order other than text's (integer, number, year, date). */
int kg_value_is_ordered(enum kg_value_type t);

/* "entity", "integer", "number", "date", "year", "text". */
const char *kg_value_type_name(enum kg_value_type t);

/* ==== English words ==== */

/*
 * kg_words: English word forms for the names and sentences made from a
 * graph's vocabulary, in one place: kg_tools names tools and writes their
 * descriptions with them, and synth's wording builds its questions and
 * answers with them, so a relation reads the same in a tool and in a sample.
 *
 * The rules are the usual ones (consonant + y -> ies, s x z ch sh -> es,
 * else s) plus one table of irregular nouns, read in both directions; an
 * irregular plural stays as it is ("people").
 * Words are ASCII; anything else passes through as a regular noun.
 */

/* Appends the plural of the noun w[0..n) to out ("person" -> "people", "category" -> "categories"). */
void kg_words_plural(const char *w, size_t n, struct ling_buf *out);

/*
 * Appends the singular of the noun w[0..n) to out ("people" -> "person",
 * "places" -> "place"); a word that does not look plural is appended as it is.
 */
void kg_words_singular(const char *w, size_t n, struct ling_buf *out);

/* "an" before a vowel sound as spelled (but "a union"), else "a". */
const char *kg_words_article(const char *noun);

#endif
