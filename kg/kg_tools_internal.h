/*
 * kg_tools_internal: what kg_tools.c (the catalogue and schemas),
 * kg_tool_names.c (the words of relations and the names of tools) and
 * kg_tool_call.c (executing calls) share.
 * Not a public API: the contract is kg.h.
 */
#ifndef KG_TOOLS_INTERNAL_H
#define KG_TOOLS_INTERNAL_H

#include "kg.h"
#include "../common/ling_idmap.h"

#include <jansson.h>
#include <string.h>

#define NAME_MAX_LEN 64
/* Words of a phrase, at most. */
#define MAX_WORDS 24
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static inline int is_upper(int c) { return c >= 'A' && c <= 'Z'; }
static inline int is_lower(int c) { return c >= 'a' && c <= 'z'; }
static inline int is_digit(int c) { return c >= '0' && c <= '9'; }
static inline int is_alnum(int c) { return is_upper(c) || is_lower(c) || is_digit(c); }
static inline int to_lower(int c) { return is_upper(c) ? c - 'A' + 'a' : c; }

static inline int in_list(const char *w, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(w, list[i]))
			return 1;
	return 0;
}

static inline int kg_bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	return c ? c : (an > bn) - (an < bn);
}

/* Ids collected from the quads of a pattern. */
struct id_vec {
	kg_id *v;
	size_t n, cap;
	size_t limit; /* 0: all */
	int slot;     /* which quad slot to collect */
};

/* ---- kg_tools.c: reading the store, the per-toolset caches ---- */

/* The name cache is emptied when it holds this many names, so memory stays bounded. */
#define NAME_CACHE_MAX (1u << 20)

/* The caches map a term id to a string they own, stored as (uintptr_t)char * in the value. */
struct kg_tools_private {
	struct ling_idmap names; /* display names */
	struct ling_idmap terms; /* N-Triples forms, of the objects of literal relations */
	size_t *order;         /* tool indexes sorted by name, for kg_toolset_find */
};

/* Empties a cache. */
void kg_tool_cache_clear(struct ling_idmap *c);
/* The display name (label, else N-Triples form) and the N-Triples form of a term, cached per toolset. */
int kg_tool_display_name(struct kg_store *st, const struct kg_toolset *ts, kg_id id, const char **name, struct ling_err *err);
int kg_tool_term_nt(struct kg_store *st, const struct kg_toolset *ts, kg_id id, const char **nt, struct ling_err *err);
/* A JSON value as compact text (consumes v). */
char *kg_tool_dump_compact(json_t *v);


/* Appends the ids in quad slot `slot` of the quads matching (s, p, o) (0 = unbound) to out. */
int kg_tool_collect(struct kg_store *st, kg_id s, kg_id p, kg_id o, int slot, struct id_vec *out, struct ling_err *err);
/* Sorts and removes duplicates. */
void kg_id_vec_unique(struct id_vec *v);
/* The id of a term in N-Triples form. */
kg_id kg_iri_id(const char *nt);

/* ---- kg_tool_names.c: phrases, relations and names ---- */

struct phrase {
	char *w[MAX_WORDS];
	int n;
};

struct rel {
	kg_id p;
	uint64_t facts;
	char *iri;              /* N-Triples form */
	struct phrase r;        /* the relation phrase */
	struct phrase ctx;      /* words that tell it from another relation with the same phrase */
	struct phrase local;    /* the words of the local name that mean something */
	struct phrase full;     /* every word of the local name */
	struct phrase ns;       /* the namespace, as words */
	struct phrase s, o;     /* subject and object nouns, singular; empty: unknown */
	enum kg_phrase_form form;
	enum kg_value_type value;
	int level;              /* how long a name it needs to be unique, 0..MAX_LEVEL */
	char *fwd, *inv;
};

/* Names every relation's two tools, longer where names would collide (see kg_tool_names.c). */
void kg_tool_assign_names(struct rel *rels, size_t n);
/* Cuts a name to NAME_MAX_LEN at a '_'. */
void kg_tool_fit_name(struct ling_buf *b);
/* Phrases: copies, the last word's number, joined with sep or as snake_case, freed. */
void kg_phrase_copy(struct phrase *dst, const struct phrase *src);
int kg_phrase_last_is_plural(const struct phrase *p);
void kg_phrase_inflect_last(struct phrase *p, int to_plural);
void kg_phrase_join(const struct phrase *p, const char *sep, struct ling_buf *out);
void kg_phrase_snake(const struct phrase *p, struct ling_buf *out);
void kg_phrase_release(struct phrase *p);
/* A verb phrase in its base form ("contains" -> "contain"). */
void kg_verb_base(struct phrase *p);

/* A relation's words from the store (labels, domain, range) or its IRI. @return 0 or an error. */
int kg_rel_words(struct kg_store *st, struct rel *r, struct ling_err *err);
/* The words a name of the given level is made of. */
void kg_rel_level_words(const struct rel *r, int level, struct phrase *out);
void kg_rel_release(struct rel *r);
/* The noun of a literal relation's values ("date", "number"). */
const char *kg_value_noun(enum kg_value_type t);

/* A tool name and its relation; ordered by name, then relation. */
struct name_ref {
	const char *name;
	size_t rel;
};
int kg_name_ref_cmp(const void *a, const void *b);

#endif
