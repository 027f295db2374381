/*
 * synth_internal: what the files of synth/ share (and tests/unit/test_synth.c
 * sees). Not a public API.
 *
 * Data flows one way, one step per file; a file calls only the files above it:
 *  - synth_set.c, synth_json.c: sets of numbers; a small JSON reader
 *    for tool arguments, and JSON Schema validation of them;
 *  - synth_graph.c: the in-memory snapshot of the relations that have tools;
 *  - synth_query.c: the 14 patterns as query trees, instantiated around
 *    sampled anchors, and their gold answers and evidence on entity ids;
 *  - synth_exec.c: tool calls executed on names (as kg_tool_call does);
 *  - synth_sample.c: the sample being made (messages, calls, answer);
 *  - synth_plan.c: the calls that answer a query, turn by turn;
 *  - synth_make.c: one conversation per category around those calls;
 *  - synth_verify.c: the checks of a finished sample;
 *  - synth_render.c: its JSON line;
 *  - synth.c: options, the mix, the run loop and its threads.
 * The words come from synth_text_internal.h (synth_text*.c), which depends
 * on none of these, and kg/kg.h (kg_words).
 *
 * Functions that can reject a sample return 0 or SYNTH_REJECT(reason) (a
 * positive int); reasons are enum synth_reject.
 */
#ifndef SYNTH_INTERNAL_H
#define SYNTH_INTERNAL_H

#include "synth.h"
#include "synth_text_internal.h"
#include "../kg/kg.h"
#include "../common/ling_json.h"
#include "../common/ling_mem.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SYNTH_NONE UINT32_MAX
#define SYNTH_REJECT(reason) (1 + (int)(reason))
#define SYNTH_REASON(rc) ((rc) - 1)

/* Most members of a set that the next hop calls a tool on (one call per member). */
#define SYNTH_FANOUT 4
/* Most names in a set passed to a logic tool, or in one result, at least (max_answers when larger). */
#define SYNTH_BRANCH 32
/* Bound on a set computed on the way; beyond it a walk gives up early. */
#define SYNTH_SET_LIMIT 4096

/* ---- small arrays (synth_set.c) ---- */

/* Sets are struct ling_u32s (common/ling_mem.h) kept sorted and distinct. */
/* Sorts and removes duplicates. */
void synth_set_sort_unique(struct ling_u32s *a);
/* out = a ∩ b, a ∪ b, a \ b over sorted distinct arrays (out distinct from a and b). */
void synth_set_and(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, struct ling_u32s *out);
void synth_set_or(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, struct ling_u32s *out);
void synth_set_minus(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, struct ling_u32s *out);
int synth_set_has(const uint32_t *a, size_t n, uint32_t x);
void synth_set_copy(struct ling_u32s *dst, const uint32_t *v, size_t n);
/* @return 1 when a and b hold the same values in the same order. */
int synth_set_equal(const struct ling_u32s *a, const struct ling_u32s *b);

/* ---- JSON (synth_json.c) ---- */

/* Strings are written with ling_json_add_str(b, s, n, 0) (common/ling_json.h): escaped as jansson escapes them. */

enum synth_jtype { SYNTH_J_NULL, SYNTH_J_FALSE, SYNTH_J_TRUE, SYNTH_J_INT, SYNTH_J_REAL, SYNTH_J_STR, SYNTH_J_ARR, SYNTH_J_OBJ };

/* A parsed JSON value: strings (and keys) decoded into the reader's scratch buffer. */
struct synth_jv {
	enum synth_jtype type;
	uint32_t str, len;    /* string, and the text of a number: offset and length in the scratch buffer */
	uint32_t key, klen;   /* member of an object: its key */
	uint32_t kid, n;      /* array or object: first element (index) and count */
	uint32_t next;        /* next sibling, SYNTH_NONE at the end */
};

struct synth_jreader {
	struct synth_jv *v;
	size_t nv, cap;
	struct ling_buf scratch;
};

/*
 * Parses text (strict JSON, one value, white space around it allowed) into
 * r; the root is r->v[0]. @return 0, or -1 when it is not valid JSON.
 */
int synth_json_parse(struct synth_jreader *r, const char *text, size_t len);
void synth_jreader_release(struct synth_jreader *r);
static inline const char *synth_jv_str(const struct synth_jreader *r, const struct synth_jv *v)
{
	return r->scratch.data + v->str;
}

/*
 * A JSON Schema, the subset kg_tools writes: type, properties, required,
 * additionalProperties, items, min/maxItems, enum of strings, minimum and
 * maximum of numbers.
 */
struct synth_schema {
	unsigned types;              /* bit (1 << enum synth_jtype) per allowed type; 0: any */
	size_t nprops;
	char **prop;                 /* property names */
	struct synth_schema **props;
	unsigned char *required;
	int closed;                  /* additionalProperties false */
	struct synth_schema *items;
	long min_items, max_items;   /* -1: none */
	char **enums;                /* strings allowed, NULL: any */
	size_t nenums;
	int has_min, has_max;        /* minimum, maximum of a number */
	double minimum, maximum;
};

/* Compiles a schema's JSON text. @return NULL when it is not JSON or uses what the subset lacks. */
struct synth_schema *synth_schema_new(const char *json, char *why, size_t whylen);
void synth_schema_free(struct synth_schema *s);
/* @return 1 when value v of r validates against s. */
int synth_schema_valid(const struct synth_schema *s, const struct synth_jreader *r, const struct synth_jv *v);

/* ---- the snapshot (synth_graph.c) ---- */

/*
 * A directed relation d is 2*r (relation r forward: subject -> objects) or
 * 2*r + 1 (inverse: object -> subjects); d ^ 1 is the other direction.
 */
struct synth_edge {
	uint32_t dir;
	uint32_t to;
};

struct synth_rel {
	kg_id pred;
	const char *iri;               /* the predicate IRI (the tool's) */
	uint32_t tool[2];              /* tool of the forward and of the inverse direction */
	struct synth_rel_words words;  /* from the forward tool */
	enum kg_value_type value;      /* KG_VALUE_ENTITY, or the type of a literal relation's values */
	uint64_t facts;                /* distinct (subject, object) pairs */
};

/*
 * Entities are numbered 0..nent-1; names 0..nnames-1 in byte order, so that
 * sorting name numbers sorts names. Each entity's edges, in both directions,
 * are sorted by (dir, to); each directed relation's distinct sources are
 * listed for sampling.
 *
 * The literal objects of a literal relation are entities too, one per
 * (literal, type of the relation), named by their value as the tools show
 * it (kg_value_canonical); their only edges go back to their subjects
 * along the relation's inverse, whose tool takes the value as a typed
 * argument. A value and an entity may share a name: tools never confuse
 * them, since entity tools have no edges into values and value tools none
 * into entities. The IRI of a literal entity is its N-Triples form.
 *
 * The search table holds the names that search_entities resolves, on the
 * store, from their ASCII lowercase spelling to exactly themselves
 * (["Alien"] for "alien"): the only searches samples make.
 */
struct synth_graph {
	const struct kg_toolset *ts;    /* borrowed */
	uint32_t nent;
	char *iri_pool;                 /* entity IRIs (N-Triples form without <>), NUL-terminated */
	uint32_t *iri_off;
	uint32_t *ent_name;             /* name number, or SYNTH_NONE when the entity has none */
	unsigned char *ent_label;       /* 1: a value that reads as the name of something else (build_labels) */
	uint32_t nnames;
	char *name_pool;                /* names, NUL-terminated, in byte order */
	uint32_t *name_off, *name_len;
	uint32_t *name_ent_off, *name_ent; /* entities of each name */
	uint32_t *name_slot;            /* hash table of name numbers + 1, 0 empty */
	size_t name_mask;
	uint32_t nrel;
	struct synth_rel *rel;
	uint32_t *adj_off;              /* nent + 1 */
	struct synth_edge *adj;
	uint32_t *src_off, *src;        /* 2 * nrel + 1; sources of each directed relation */
	double *dir_cum;                /* cumulative sampling weight of the directed relations */
	uint32_t ntools;
	uint32_t *tool_dir;             /* per tool: its directed relation, or SYNTH_NONE */
	struct synth_schema **schema;   /* per tool: its compiled parameters schema */
	uint32_t *rel_tools;            /* the relation tools, for distractors */
	uint32_t nrel_tools;
	uint32_t tool_and, tool_or, tool_minus, tool_search; /* the logic tools, SYNTH_NONE when missing */
	uint64_t nfacts;
	uint32_t *search_slot;          /* hash table (of the lowercase spelling) of searchable name numbers + 1 */
	size_t search_mask;
	uint32_t nsearch;
	uint32_t *focus;                /* a focused run: the entities queries start at, sorted (synth_focus.c); else NULL */
	uint32_t nfocus;
};

/*
 * Facts as the loader collects them, before the indexes: entities with
 * their IRI and name (NULL for none), and (subject, relation, object)
 * triples over entity numbers, relations in the order of the forward tools
 * of ts. Tests fill one by hand.
 */
struct synth_raw {
	uint32_t nent;
	char **iri;
	char **name;
	uint32_t (*fact)[3];
	size_t nfacts;
};

/* Makes g from the catalogue and raw (whose arrays it takes over and frees). @return 0 or LING_EDATA. */
int synth_graph_build(struct synth_graph *g, const struct kg_toolset *ts, struct synth_raw *raw,
		      struct ling_err *err);
/* Loads the facts of every relation tool of ts from st, and the names in lang, then builds g. */
int synth_graph_load(struct synth_graph *g, struct kg_store *st, const struct kg_toolset *ts, const char *lang,
		     struct ling_err *err);
void synth_graph_release(struct synth_graph *g);

static inline const char *synth_name(const struct synth_graph *g, uint32_t name)
{
	return g->name_pool + g->name_off[name];
}
static inline const char *synth_iri(const struct synth_graph *g, uint32_t ent)
{
	return g->iri_pool + g->iri_off[ent];
}
/* The name number of the name s[0..n), or SYNTH_NONE. */
uint32_t synth_name_find(const struct synth_graph *g, const char *s, size_t n);
/* Appends s[0..n) with ASCII A-Z in lowercase. */
void synth_ascii_lower(const char *s, size_t n, struct ling_buf *out);
/* The searchable name whose ASCII lowercase spelling is s[0..n), or SYNTH_NONE. */
uint32_t synth_search_find(const struct synth_graph *g, const char *s, size_t n);
/* Whether entity e is a literal (a value, or a literal object of an entity relation, which has no name). */
static inline int synth_is_literal(const struct synth_graph *g, uint32_t e)
{
	return g->iri_pool[g->iri_off[e]] == '"';
}
/* The type of the argument that directed relation d's tool takes: a value for a literal relation's inverse. */
static inline enum kg_value_type synth_dir_value(const struct synth_graph *g, uint32_t d)
{
	return d & 1 ? g->rel[d >> 1].value : KG_VALUE_ENTITY;
}
/* The edges of ent along directed relation d: [*b, *e). */
void synth_adj(const struct synth_graph *g, uint32_t ent, uint32_t d, const struct synth_edge **b,
	       const struct synth_edge **e);
/* A directed relation drawn by weight (the square root of its facts): spread over relations, not their sizes. */
uint32_t synth_pick_dir(const struct synth_graph *g, uint64_t *rng);

/* ---- focused runs (synth_focus.c) ---- */

/*
 * out = the entities names[0..n) name (IRIs, with or without <>, or display
 * names), sorted and distinct, without values and entities that have no edge.
 */
void synth_focus_resolve(const struct synth_graph *g, const char *const *names, size_t n, struct ling_u32s *out);
/*
 * Where a query starts: a directed relation d and an anchor a among its
 * sources, d drawn by synth_pick_dir and a uniformly; in a focused run a
 * focus entity drawn uniformly and one of its edges.
 */
void synth_pick_start(const struct synth_graph *g, uint64_t *rng, uint32_t *d, uint32_t *a);

/* ---- queries (synth_query.c) ---- */

#define SYNTH_QMAX 16

struct synth_qnode {
	enum synth_op op;
	uint32_t x;                 /* ANCHOR: entity; HOP: directed relation */
	uint8_t kid[3], negated[3];
	uint8_t nkids;
};

struct synth_query {
	int pattern;                         /* SYNTH_CAT_1P .. SYNTH_CAT_PNI */
	int nn;                              /* nodes; the root is the last */
	struct synth_qnode n[SYNTH_QMAX];
	struct ling_u32s val[SYNTH_QMAX];    /* gold: each node's entities, sorted */
	struct ling_u32s answer;             /* gold: the root's names, sorted */
	struct synth_node tn[SYNTH_QMAX];    /* the tree as synth_text sees it (synth_query_words) */
};

struct synth_limits {
	size_t max_answers;
	size_t branch;    /* most names per set passed to a logic tool or per call result */
};

void synth_query_release(struct synth_query *q);
void synth_query_reset(struct synth_query *q, int pattern);
uint8_t synth_q_anchor(struct synth_query *q, uint32_t ent);
uint8_t synth_q_hop(struct synth_query *q, uint32_t dir, uint8_t kid);
/* AND of 2 or 3 kids (k2 = 0xff for none); neg: bit i set when kid i is negated. */
uint8_t synth_q_and(struct synth_query *q, uint8_t k0, uint8_t k1, uint8_t k2, unsigned neg);
uint8_t synth_q_or(struct synth_query *q, uint8_t k0, uint8_t k1);

/* Instantiates pattern around a sampled anchor and computes the gold answer. @return 0 or SYNTH_REJECT. */
int synth_query_sample(const struct synth_graph *g, const struct synth_limits *lim, int pattern, uint64_t *rng,
		       struct synth_query *q, struct ling_u32s *tmp);
/* Evaluates q on entity ids (q->val, q->answer) and checks the limits. @return 0 or SYNTH_REJECT. */
int synth_query_gold(const struct synth_graph *g, const struct synth_limits *lim, struct synth_query *q);
/* Appends the triples the answer rests on, as (subject, relation, object) entity/relation numbers. */
void synth_query_evidence(const struct synth_graph *g, const struct synth_query *q, struct ling_u32s *out,
			  struct ling_u32s *tmp);
/* Fills q->tn and returns the root, for synth_text. */
const struct synth_node *synth_query_words(const struct synth_graph *g, struct synth_query *q);
/* A 1p query: dir from ent. */
void synth_query_1p(struct synth_query *q, uint32_t ent, uint32_t dir);
/* Sources of a directed relation. */
static inline uint32_t synth_dir_sources(const struct synth_graph *g, uint32_t d)
{
	return g->src_off[d + 1] - g->src_off[d];
}

/* ---- samples (synth_sample.c), calls (synth_exec.c), plans (synth_plan.c), checks (synth_verify.c) ---- */

struct synth_call {
	uint32_t tool;
	uint32_t args, args_len;     /* arguments JSON text, in the sample's text */
	uint32_t res, res_len;       /* result JSON text */
	uint32_t names, nnames;      /* result names, in the sample's names */
	uint32_t turn;               /* while planning: the turn it belongs to */
};

enum synth_role { SYNTH_MSG_USER, SYNTH_MSG_CALLS, SYNTH_MSG_REPLY };

struct synth_msg {
	enum synth_role role;
	uint32_t text, text_len;     /* USER and REPLY content; CALLS: the thought, if has_text */
	int has_text;
	uint32_t call, ncalls;       /* CALLS */
};

struct synth_sample {
	uint64_t index;
	int cat;
	const char *pattern;         /* NULL: null */
	int instruction;
	struct ling_buf text;        /* every string of the sample */
	uint32_t system, system_len;
	struct synth_msg *msg;
	size_t nmsg, msg_cap;
	struct synth_call *call;     /* tool use: in message order; instruction: meta.calls */
	size_t ncall, call_cap;
	struct ling_u32s names;      /* call results */
	struct ling_u32s tools;      /* offered tools, in order */
	struct ling_u32s answer;     /* names, sorted */
	struct ling_u32s evidence;   /* (subject, relation, object) triples */
	int check_text;              /* the last reply must name every answer */
};

void synth_sample_reset(struct synth_sample *s);
void synth_sample_release(struct synth_sample *s);
uint32_t synth_sample_add_text(struct synth_sample *s, const char *t, size_t n);
struct synth_msg *synth_sample_add_msg(struct synth_sample *s, enum synth_role role);
/* Appends the JSON array of the offered tools' schemas. */
void synth_sample_tools_json(const struct synth_graph *g, const struct synth_sample *s, struct ling_buf *out);

/* A step of a plan: what the calls of one node do in its turn (for ReAct thoughts). */
struct synth_plan_step {
	uint32_t turn;
	enum synth_step_kind kind;
	uint32_t dir;     /* HOP: the directed relation */
	uint32_t name;    /* HOP from a name of the question, SEARCH: the name found; else SYNTH_NONE */
	uint32_t n;       /* HOP: names it starts from; AND, OR: sets */
};

/* Scratch space of one worker thread. */
struct synth_ws {
	struct synth_query q[4];
	struct ling_u32s tmp, tmp2, tmp3;
	struct ling_u32s nval[4][SYNTH_QMAX]; /* names of each node while planning */
	uint32_t avail[4][SYNTH_QMAX];        /* the turn after which a node's value is known */
	struct synth_call *pend;              /* planned calls, before they are grouped in turns */
	size_t npend, pend_cap;
	struct synth_jreader jr;
	struct ling_buf buf, buf2;
	struct ling_u32s sets[4];
	struct ling_u32s mark;
	struct ling_u32s vals;                /* the values of a range, while a call runs */
	int limit[4];                         /* per query: the limit its last hop's calls ask for, 0 none */
	int reverse[4];                       /* per query: those calls also sort reverse_alphabetical */
	uint32_t range_to[4];                 /* per query: the name its 1p inverse hop's range ends at, or SYNTH_NONE */
	struct ling_buf range_name;           /* how the question names that range: "between 1990 and 1992" */
	const char **strs;                    /* answer names for synth_text */
	size_t strs_cap;
	const struct synth_rel_words **words;  /* relation words of offered tools, for synth_text */
	size_t words_cap;
	struct synth_fact facts[12];
	uint32_t used[8];
	int search[4];                        /* per query: the anchor node looked up with search_entities, or -1 */
	struct ling_buf asked;                /* how the user spells that anchor (NUL-terminated) */
	struct synth_plan_step *steps;        /* the plan's steps, for ReAct thoughts */
	size_t nsteps, steps_cap;
	struct synth_step *tsteps;            /* one turn's steps in words */
	size_t tsteps_cap;
};

void synth_ws_release(struct synth_ws *ws);

/*
 * Executes relation tool of directed relation d on name (all entities of
 * that name), into out (sorted names). @return 0, SYNTH_REJECT(UNNAMED) when
 * a result has no name, SYNTH_REJECT(FANOUT) beyond limit results.
 */
int synth_exec_rel(const struct synth_graph *g, uint32_t d, uint32_t name, struct ling_u32s *out, size_t limit);
/*
 * The subjects along directed relation d (an inverse with a range) of every
 * value (or integer name) v of type vt with want <= v <= to, into out
 * (sorted names); uses ws->vals, tmp2 and tmp3. @return as synth_exec_rel.
 */
int synth_exec_range(const struct synth_graph *g, struct synth_ws *ws, uint32_t d, enum kg_value_type vt,
		     const struct ling_buf *want, const struct ling_buf *to, struct ling_u32s *out);
/* The logic tools on sorted name sets. */
void synth_exec_and(const struct ling_u32s *sets, size_t n, struct ling_u32s *out, struct ling_u32s *tmp);
void synth_exec_or(const struct ling_u32s *sets, size_t n, struct ling_u32s *out, struct ling_u32s *tmp);
/* Appends the JSON array text of names. */
void synth_names_json(const struct synth_graph *g, const uint32_t *names, size_t n, struct ling_buf *out);

/* The arguments of a relation tool's call, past its schema, as kg_tool_call reads them. */
struct synth_call_args {
	const struct synth_jv *param; /* the required parameter */
	int value;                    /* a literal relation's inverse: its canonical value is in want */
	int range;                    /* "to": want..to */
	int descending, by_value;     /* "sort" */
	size_t limit;                 /* "limit"; 0: none */
};

/*
 * Reads the arguments (root, already valid for t's schema) of relation tool
 * t into a: the parameter's canonical value into want for a literal
 * relation's inverse, the end of a range into to. @return 0, or -1 when
 * kg_tool_call refuses them (a value not of the type, a range ending
 * before it starts).
 */
int synth_call_args(const struct kg_tool *t, const struct synth_jreader *r, const struct synth_jv *root,
		    struct synth_call_args *a, struct ling_buf *want, struct ling_buf *to);

/*
 * Executes a call from its arguments text, as a replay: parses and validates
 * the arguments against the tool's schema, resolves names, runs the tool.
 * @return 0 with out set (the result's names in its order: sorted unless
 * "sort" asks otherwise), SYNTH_REJECT(SCHEMA) for arguments
 * that do not validate, SYNTH_REJECT(REPLAY) for a name no entity has,
 * SYNTH_REJECT(UNNAMED) for a result without a name.
 */
int synth_exec_call(const struct synth_graph *g, struct synth_ws *ws, uint32_t tool, const char *args, size_t len,
		    struct ling_u32s *out);

/*
 * Plans the calls that answer queries q[0..nq) of ws->q (their values are
 * computed into ws->nval) in turns after the sample's current messages: calls
 * of one turn are independent, a call comes in the turn after the values it
 * needs. Appends the calls to s and one CALLS message per turn (with a
 * thought when react is set; rng and tx word it). @return 0 or SYNTH_REJECT.
 */
int synth_plan(const struct synth_graph *g, const struct synth_limits *lim, struct synth_ws *ws,
	       struct synth_sample *s, const int *qs, size_t nq, const struct synth_text *tx, int react,
	       uint64_t *rng, int meta_only);

/* The words of query qi of ws as the user asks it: with the searched anchor spelled as ws->asked. */
const struct synth_node *synth_query_asked(const struct synth_graph *g, struct synth_ws *ws, int qi);

/* Verifies a finished sample (see synth.h). @return 0 or SYNTH_REJECT. */
int synth_verify(const struct synth_graph *g, struct synth_ws *ws, const struct synth_sample *s);

/* ---- the words of a question asking for only a few answers (synth_text_limit.c) ---- */

/* Appends the request for n answers ("Just name three."); reverse: the last n alphabetically. */
void synth_text_limit_ask(size_t n, int reverse, uint64_t *rng, struct ling_buf *out);
/* Appends the reply listing names[0..n) as some of the answers (reverse: the last ones), in their order. */
void synth_text_limit_answer(const char *const *names, size_t n, int reverse, uint64_t *rng, struct ling_buf *out);

/* ---- the generator (synth_make.c, synth_render.c) ---- */

struct synth_gen {
	const struct synth_graph *g;
	const struct synth_text *tx;
	struct synth_limits lim;
	unsigned max_tools;
	uint64_t seed;
	const char *uuid;
	const char *lang;
	enum synth_format format;
};

/* Makes sample index of category cat. @return 0 or SYNTH_REJECT. */
int synth_make(const struct synth_gen *gen, struct synth_ws *ws, int cat, uint64_t *rng, struct synth_sample *s);
/* Appends the sample's JSON line (without "\n") to out, and with BFCL its ground truth to aux. */
void synth_render(const struct synth_gen *gen, const struct synth_sample *s, struct ling_buf *out,
		  struct ling_buf *aux);
/* The 16 hex digits of a sample's id: hash of (store uuid, seed, index). */
void synth_sample_id(const char *uuid, uint64_t seed, uint64_t index, char hex[17]);

#endif
