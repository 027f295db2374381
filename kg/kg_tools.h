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

/* What the objects of a relation are; for literals, the type of their values. */
enum kg_value_type {
	KG_VALUE_ENTITY,  /* IRIs and blank nodes, by name: {"type":"string"} */
	KG_VALUE_INTEGER, /* xsd:integer, int, long, short, byte, (non)negative, positive, unsigned: {"type":"integer"} */
	KG_VALUE_NUMBER,  /* xsd:decimal, double, float: {"type":"number"} */
	KG_VALUE_DATE,    /* xsd:date: {"type":"string","format":"date"}, YYYY-MM-DD */
	KG_VALUE_YEAR,    /* xsd:gYear: {"type":"integer"} */
	KG_VALUE_TEXT,    /* plain and language strings and every other datatype: {"type":"string"} */
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
	enum kg_value_type value; /* what the objects are: the forward tool returns them, the inverse takes one */
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
 * any language. Labels that contain U+0000 are passed over: a name travels as a
 * C string (tool arguments), so it would be cut there. Appends it to out and
 * returns 1, or returns 0 (out unchanged) when the entity has no such label;
 * negative on a store error.
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

/*
 * The argument check of kg_tool_call without a store: args_json must be a
 * JSON object with exactly t's parameters, of the types t->parameters
 * gives; a literal relation's inverse tool takes only a value of its type
 * (kg_value_of_arg). The names in the arguments are not looked up.
 * @return 0, or LING_EDATA with the message kg_tool_call would give.
 */
int kg_tool_args_check(const struct kg_tool *t, const char *args_json, struct ling_err *err);
/* ---- literal values (kg_value.c) ---- */

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

/* "entity", "integer", "number", "date", "year", "text". */
const char *kg_value_type_name(enum kg_value_type t);

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
