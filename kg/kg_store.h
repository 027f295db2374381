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
#ifndef KG_STORE_H
#define KG_STORE_H

#include "kg_rdf.h"
#include "../common/ling_err.h"
#include "../common/ling_mem.h"

#include <stdint.h>

/* 2: terms as written (1 keyed them after NFC; refused, as its ids differ). */
#define KG_STORE_FORMAT_VERSION 2

typedef uint64_t kg_id;

/* kg_id 0 is never a term: in a quad's graph slot it means the default graph. */
#define KG_ID_DEFAULT_GRAPH ((kg_id)0)

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
};

struct kg_load_counts {
	uint64_t quads_read;     /* quads handed to kg_loader_add (committed statements) */
	uint64_t quads_changed;  /* quads added to (or removed from) the store */
	uint64_t terms_added;    /* new dictionary entries */
};

struct kg_loader;

/*
 * Starts a load. source_key scopes blank node labels (use the content hash of
 * the input); graph, when not NULL, puts every triple without a graph into it.
 */
int kg_loader_new(struct kg_loader **out, struct kg_store *st, const char *source_key,
		  const struct kg_term *graph, unsigned flags, struct ling_err *err);
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

/* Called per entity whose label matches. */
typedef int (*kg_id_fn)(void *ctx, kg_id id);
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

#endif
