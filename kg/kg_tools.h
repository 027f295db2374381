/*
 * kg_tools: the tool catalogue of a store, and executing one tool call.
 *
 * A store's relations become function-calling tools (KG2Tool, Ling TR 4.4;
 * DESIGN.md 3.2). For every predicate with at least min_facts triples whose
 * objects are mostly entities (IRIs or blank nodes), there is a forward tool
 * (subject name -> object names, `get_person_place_of_birth(person)`) and an
 * inverse tool (object name -> subject names,
 * `find_people_by_place_of_birth(place_of_birth)`; kg_tools.c has the naming
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
 */
#ifndef KG_TOOLS_H
#define KG_TOOLS_H
#include "kg_store.h"

#include <stdio.h>

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

struct kg_tool {
	char *name;            /* unique snake_case, e.g. "get_place_of_birth" */
	char *description;     /* one sentence, e.g. "Returns the place of birth of a person." */
	enum kg_tool_kind kind;
	char *param;           /* forward, inverse and search: the one parameter's name; else NULL */
	char *parameters;      /* the JSON Schema of the arguments, compact JSON text */
	char *schema;          /* the whole OpenAI tool object {"type":"function","function":{...}}, compact */
	/* forward and inverse only: */
	kg_id predicate;
	char *predicate_iri;
	char *relation_phrase; /* the relation in words, e.g. "place of birth" */
	char *subject_noun;    /* what the subjects are, e.g. "person" ("entity" when unknown) */
	char *object_noun;     /* what the objects are, e.g. "place" ("entity" when unknown) */
	enum kg_phrase_form form;
	uint64_t facts;        /* triples of the predicate */
	size_t twin;           /* index of the tool of the other direction */
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
 * any language. Appends it to out and returns 1, or returns 0 (out unchanged)
 * when the entity has no label at all; negative on a store error.
 */
int kg_entity_name(struct kg_store *st, kg_id id, const char *lang, struct ling_buf *out, struct ling_err *err);

/*
 * Executes one call: args_json must be a JSON object matching the tool's
 * schema (extra or missing keys, wrong types: LING_EDATA). Replaces the
 * content of result with the result array text.
 * @return 0; LING_EUSAGE for an unknown tool; LING_EDATA for bad arguments
 * or a name no entity has; LING_ESTORE.
 */
int kg_tool_call(struct kg_store *st, const struct kg_toolset *ts, const char *name, const char *args_json,
		 struct ling_buf *result, struct ling_err *err);
struct ling_input;

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
#endif
