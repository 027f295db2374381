/*
 * synth_text: the words of kg2samples. Questions, final answers, system
 * prompts and instruction texts, from built-in templates and user template
 * files (format in doc/kg2samples-templates.md).
 *
 * Everything here is a pure function of its inputs and the caller's random
 * state, so the same seed gives the same bytes. Nothing here reads the store:
 * the caller passes names and relation words. Phrasing follows the shape of
 * the query (a tree of hops, intersections, unions and negations), so every
 * pattern gets many phrasings from relation phrases composed into noun
 * phrases ("the place of birth of the director of Alien").
 *
 * Never shape templates after MetaQA's question files: they are an
 * evaluation set.
 */
#ifndef SYNTH_TEXT_INTERNAL_H
#define SYNTH_TEXT_INTERNAL_H
#include "../common/ling_rand.h"
#include "../common/ling_err.h"
#include "../common/ling_mem.h"
#include <stddef.h>
#include <stdint.h>

/* How a relation phrase reads: the values of kg_tools' enum kg_phrase_form. */
enum synth_rel_form {
	SYNTH_FORM_NOUN, /* "place of birth"; also "unknown": then a phrase ending in a preposition counts as PREP */
	SYNTH_FORM_PREP, /* "directed by", "spoken in" */
	SYNTH_FORM_VERB, /* a verb in the third person, "contains" */
};

/*
 * A relation in words; the strings come from kg_tools (struct kg_tool of the
 * forward direction). Relations with a built-in or user lexicon entry (keyed
 * by iri) take their words from it; the others are phrased from these.
 */
struct synth_rel_words {
	const char *iri;          /* predicate IRI: the key of lexicon entries */
	const char *phrase;       /* "place of birth" */
	const char *subject_noun; /* "person" */
	const char *object_noun;  /* "place" */
	int form;                 /* enum synth_rel_form (kg_tool.form); 0 when unknown */
};

enum synth_op {
	SYNTH_ANCHOR, /* a named entity */
	SYNTH_HOP,    /* relation applied to kid[0]: objects (forward) or subjects (inverse) */
	SYNTH_AND,    /* intersection of kids; a kid with negated[i] set is excluded instead */
	SYNTH_OR,     /* union of kids */
};

struct synth_node {
	enum synth_op op;
	const char *name;                   /* SYNTH_ANCHOR */
	int label;                          /* SYNTH_ANCHOR: a value that names something else too: said as a label */
	const struct synth_rel_words *rel;  /* SYNTH_HOP */
	int inverse;                        /* SYNTH_HOP: 1 = from object to subjects */
	const struct synth_node *kid[3];
	unsigned char negated[3];           /* SYNTH_AND */
	int nkids;
};

struct synth_text;

/*
 * Loads the built-in templates for lang and then the user template files
 * (their entries come first in the choice, or replace built-in ones as the
 * format says). @return 0, LING_EIO, LING_EDATA (positioned in the file).
 */
int synth_text_new(struct synth_text **out, const char *lang, const char *const *files, size_t nfiles,
		   struct ling_err *err);
void synth_text_free(struct synth_text *tx);

/* Number of distinct system prompts (at least 20 built in). */
size_t synth_text_system_count(const struct synth_text *tx);

enum synth_prompt_style { SYNTH_PROMPT_OPENAI, SYNTH_PROMPT_REACT, SYNTH_PROMPT_PLAIN };

/*
 * Appends system prompt number i (i < synth_text_system_count) to out; with
 * tools_json (the JSON array of offered tools), prompts that list the tools in
 * their text include it. Sets *style to the prompt's style.
 */
void synth_text_system(const struct synth_text *tx, size_t i, const char *tools_json, enum synth_prompt_style *style,
		       struct ling_buf *out);

/* A system prompt for a conversation without tools (instruction samples). */
void synth_text_system_plain(const struct synth_text *tx, uint64_t *rng, struct ling_buf *out);

/* Appends a user question for query q of pattern ("1p", "2p", ..., "pni"). */
void synth_text_question(const struct synth_text *tx, const struct synth_node *q, const char *pattern,
			 uint64_t *rng, struct ling_buf *out);

/*
 * Now and then appends a few words a user writes before a first question
 * ("Quick question: ", ending in a space) or after a last one (" Thanks!");
 * often nothing.
 */
void synth_text_question_lead(const struct synth_text *tx, uint64_t *rng, struct ling_buf *out);
void synth_text_question_tail(const struct synth_text *tx, uint64_t *rng, struct ling_buf *out);

/* Appends the final assistant answer to q stating the n answers (n >= 1) in words. */
void synth_text_answer(const struct synth_text *tx, const struct synth_node *q, const char *const *answers,
		       size_t n, uint64_t *rng, struct ling_buf *out);

/*
 * The same for one answer among several in one message (parallel calls):
 * always says what was asked ("The capital of France is Paris."), never
 * only "The only one is Paris.".
 */
void synth_text_answer_part(const struct synth_text *tx, const struct synth_node *q, const char *const *answers,
			    size_t n, uint64_t *rng, struct ling_buf *out);

/* Appends a short follow-up question for a second turn asking q2 (e.g. "And for Heat?"), given q1 came before. */
void synth_text_followup(const struct synth_text *tx, const struct synth_node *q1, const struct synth_node *q2,
			 uint64_t *rng, struct ling_buf *out);

/* Appends the assistant's reply when no offered tool can answer q: says so and why, without a call. */
void synth_text_irrelevant(const struct synth_text *tx, const struct synth_node *q, uint64_t *rng,
			   struct ling_buf *out);

/*
 * The same, naming what the offered tools can do (offered: the relations of
 * the offered relation tools, forward sense; noffered may be 0).
 */
void synth_text_irrelevant_tools(const struct synth_text *tx, const struct synth_node *q,
				 const struct synth_rel_words *const *offered, size_t noffered, uint64_t *rng,
				 struct ling_buf *out);

/* What a turn of tool calls does, for its ReAct thought. */
enum synth_step_kind {
	SYNTH_STEP_SEARCH, /* resolve the user's spelling `name` with search_entities */
	SYNTH_STEP_HOP,    /* a relation from `name` (a name of the question) or from n names found before */
	SYNTH_STEP_AND,    /* intersect n sets */
	SYNTH_STEP_OR,     /* unite n sets */
	SYNTH_STEP_MINUS,  /* remove the excluded set */
};

struct synth_step {
	enum synth_step_kind kind;
	const struct synth_rel_words *rel; /* HOP */
	int inverse;                       /* HOP: from objects to subjects */
	const char *name;                  /* HOP: the name it starts from, NULL when from earlier results; SEARCH */
	int label;                         /* HOP: name is a value said as a label (synth_node.label) */
	size_t n;                          /* HOP: names it starts from (one call each); AND, OR: sets */
};

/*
 * Appends the ReAct thought of one tool-calling turn (with SYNTH_PROMPT_REACT
 * prompts): "Thought: " and what the turn's steps do next, after a word on
 * what the last turn found; not the whole plan again. turn counts from 1;
 * last: the turn whose results answer the question.
 */
void synth_text_step_thought(const struct synth_text *tx, const struct synth_step *steps, size_t n, unsigned turn,
			     int last, uint64_t *rng, struct ling_buf *out);

/*
 * Appends what a ReAct reply writes before its answer: "Thought: I now know
 * the final answer.\nFinal Answer: " (answered = 0: no tool could answer).
 */
void synth_text_final_thought(const struct synth_text *tx, int answered, uint64_t *rng, struct ling_buf *out);

/* One fact of an entity's neighbourhood, for descriptions. */
struct synth_fact {
	const struct synth_rel_words *rel;
	int inverse;        /* 1: the entity is the object */
	const char *other;  /* the other entity's name */
};

enum synth_instruction {
	SYNTH_INSTR_FACT,     /* question q (a 1p or 2p), answers */
	SYNTH_INSTR_LIST,     /* "List ..." q, answers */
	SYNTH_INSTR_COUNT,    /* "How many ..." q, count = n answers */
	SYNTH_INSTR_COMPARE,  /* two 1p queries q and q2 over the same relation: do they share answers? */
	SYNTH_INSTR_DESCRIBE, /* describe entity `name` from facts */
};

/*
 * Appends the user prompt (to user) and the assistant reply (to reply) of an
 * instruction sample. Which arguments count depends on kind (see the enum).
 * For COMPARE, answers/n are q's answers and answers2/n2 are q2's.
 */
struct synth_instruction_args {
	enum synth_instruction kind;
	const struct synth_node *q, *q2;
	const char *const *answers, *const *answers2;
	size_t n, n2;
	const char *name;                     /* DESCRIBE */
	const struct synth_fact *facts;       /* DESCRIBE */
	size_t nfacts;
};
void synth_text_instruction(const struct synth_text *tx, const struct synth_instruction_args *a, uint64_t *rng,
			    struct ling_buf *user, struct ling_buf *reply);
#endif
