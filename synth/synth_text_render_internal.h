/*
 * synth_text_render_internal.h: what the files of synth_text share (not a public API).
 *
 * A template is a string with placeholders (doc/kg2samples-templates.md):
 * "{x}" names a slot, "{is|are}" picks the singular or plural form by the
 * number of the template's default slot, "{o:is|are}" by the number of slot
 * o. Built-in templates are lists separated by ';' in string literals and
 * point into them; templates from user files point into strings the
 * synth_text owns.
 */
#ifndef SYNTH_TEXT_RENDER_INTERNAL_H
#define SYNTH_TEXT_RENDER_INTERNAL_H
#include "synth_text_internal.h"

#include <string.h>

enum synth_tpl_flags {
	SYNTH_TPL_POSS = 1 << 0, /* has "{x}'s" or "{x} as": only for a name in {x} */
	SYNTH_TPL_MOD = 1 << 1,  /* a restrictor that cannot follow "are" ("whose ...", "with ...") */
	SYNTH_TPL_NAME_S = 1 << 2, /* statements: only for names in {s} */
	SYNTH_TPL_NAME_O = 1 << 3, /* statements: only for names in {o} */
};

struct synth_tpl {
	const char *s;
	size_t len;
	unsigned flags;
};

struct synth_tpls {
	struct synth_tpl *v;
	size_t n, cap;
};

enum synth_lex_flags {
	SYNTH_LEX_FWD_MANY = 1 << 0, /* forward noun phrases are plural ("the genres of X") */
	SYNTH_LEX_INV_ONE = 1 << 1,  /* inverse noun phrases are singular ("the country whose capital is X") */
};

/* The words of one relation, keyed by predicate IRI. */
struct synth_lex {
	const char *iri;
	const char *subject, *object; /* singular nouns, NULL: from synth_rel_words */
	unsigned flags;
	struct synth_tpls fwd;  /* noun phrases of the objects of {x}: "the birthplace of {x}" */
	struct synth_tpls fwdq; /* questions for the objects of {x}: "Where was {x} born?" */
	struct synth_tpls inv;  /* restrictors of the subjects whose object is {x}: "born in {x}" */
	struct synth_tpls invq; /* questions for the subjects of {x}: "Who was born in {x}?" */
	struct synth_tpls stmt; /* statements with {s} and {o}: "{s} {s:was|were} born in {o}" */
};

/* A built-in lexicon entry; "fb:" and "kg:" in iri stand for the Freebase and urn:kg: prefixes. */
struct synth_builtin_rel {
	const char *iri;
	const char *subject, *object;
	unsigned flags;
	const char *fwd, *fwdq, *inv, *invq, *stmt; /* ';'-separated templates, or NULL */
};

extern const struct synth_builtin_rel synth_builtin_rels[];
extern const size_t synth_builtin_nrels;

struct synth_prompt {
	enum synth_prompt_style style;
	const char *text;  /* the prompt */
	const char *tools; /* NULL, or a paragraph with "{tools}", appended when tools are given */
};

extern const struct synth_prompt synth_builtin_prompts[];
extern const size_t synth_builtin_nprompts;
extern const char *const synth_builtin_plain[]; /* prompts without tools */
extern const size_t synth_builtin_nplain;

#define SYNTH_NPATTERNS 14
extern const char *const synth_pattern_names[SYNTH_NPATTERNS];

struct synth_text {
	char *lang;
	struct synth_lex *lex;
	size_t nlex, caplex;
	uint32_t *slots; /* open addressing over lex, index + 1, 0 = empty */
	size_t nslots;
	struct synth_lex fallback[3]; /* by enum synth_rel_form: templates with {p} for relations without an entry */
	struct synth_prompt *prompts;
	size_t nprompts;
	const char *const *plain;
	size_t nplain;
	struct synth_tpls questions[SYNTH_NPATTERNS]; /* from user files */
	int replace_questions;
	int replace_system;
	char **owned; /* strings from user files and built IRIs */
	size_t nowned, capowned;
};

/* ---- synth_text_tpl.c: the tables ---- */

/* Owned copies; the synth_text frees them. */
const char *synth_text_own(struct synth_text *tx, char *s);

void synth_tpls_add(struct synth_tpls *l, const char *s, size_t len);
/* Adds the ';'-separated templates of list (NULL adds none). */
void synth_tpls_add_list(struct synth_tpls *l, const char *list);

/* The entry for iri, created (empty) when missing. */
struct synth_lex *synth_text_lex_get(struct synth_text *tx, const char *iri, int create);

/*
 * Checks a template: balanced braces, only the slot names in allowed (a
 * string of names separated by ','), and every name in required present.
 * @return NULL when it is good, else a message.
 */
const char *synth_tpl_check(const char *s, const char *allowed, const char *required);

/* The placeholders a question template of pattern number idx may use ("np,noun,nouns,e1,r1"). */
const char *synth_pattern_slots(int idx);

/* Pattern number of name, or -1. */
int synth_pattern_index(const char *name);
/* How many anchors and hops pattern idx has (what its question templates fill). */
void synth_pattern_shape(int idx, int *anchors, int *hops);

/* The lexicon's hash table after it grew; an entry by IRI (NULL when missing); the built-in entries. */
void synth_text_rehash(struct synth_text *tx);
const struct synth_lex *synth_text_lex_find(const struct synth_text *tx, const char *iri);
void synth_text_load_builtins(struct synth_text *tx);
/* Frees an entry's lists. */
void synth_lex_release(struct synth_lex *l);

static inline int synth_word_is(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && !memcmp(s, w, n);
}

/* ---- synth_text_file.c: filling the tables (synth_text_new) ---- */

/* Loads one template file into tx. @return 0, LING_EIO, LING_EDATA. */
int synth_text_load_file(struct synth_text *tx, const char *path, struct ling_err *err);
/*
 * ---- synth_text.c: the rendering context, shared with synth_text_reply.c ----
 *
 * Text is appended to c->out. Template text (lits) may take the sentence's
 * capital; names (name) stay verbatim. A template's {slots} are filled from
 * a struct synth_tx_slots (slot_*), and query nodes render as noun phrases
 * (np), predicates (pred_ok) and whole questions (question).
 */

enum { CAP_NONE, CAP_UP, CAP_DOWN };

struct synth_tx_ctx {
	const struct synth_text *tx;
	uint64_t *rng;
	struct ling_buf *out;
	int cap; /* what to do with the first letter of the next template text */
	int nest; /* > 0 while rendering a phrase inside another one: no commas there */
	const struct synth_fact *facts; /* SL_FACTS */
	size_t nfacts;
};

/* A random element of an array. */
#define PICK(c, arr) ((arr)[synth_tx_pick((c), sizeof(arr) / sizeof((arr)[0]))])
/* Which template list of a relation's lexicon entry. */
enum list_kind { L_FWD, L_FWDQ, L_INV, L_INVQ, L_STMT };

enum slot_kind { SL_NODE, SL_NAME, SL_LIST, SL_TEXT, SL_NOUN, SL_VERB, SL_COORD, SL_PRED, SL_NUM, SL_FACTS };
struct synth_tx_slot {
	const char *key;
	enum slot_kind kind;
	const struct synth_node *node; /* NODE, COORD, PRED */
	const char *str; /* NAME, TEXT, NOUN, VERB */
	const char *const *list; /* LIST */
	size_t n; /* LIST, NUM; FACTS: the group's first fact */
	int plural;
};

struct synth_tx_slots {
	struct synth_tx_slot v[12];
	int n;
	int dflt; /* slot whose number "{a|b}" follows, -1 for `plural` */
	int plural;
};

/* Uniform in [0, n), 0 when n < 2. */
uint32_t synth_tx_pick(struct synth_tx_ctx *c, size_t n);
void synth_tx_lits(struct synth_tx_ctx *c, const char *s);
void synth_tx_name(struct synth_tx_ctx *c, const char *s);
void synth_tx_noun(struct synth_tx_ctx *c, const char *w, int plural);
/* A relation's lexicon entry and its words, with fallbacks. */
const struct synth_lex *synth_tx_lex_of(const struct synth_tx_ctx *c, const struct synth_rel_words *rw);
const char *synth_tx_phrase_of(const struct synth_rel_words *rw);
const char *synth_tx_subject_of(const struct synth_tx_ctx *c, const struct synth_rel_words *rw);
const char *synth_tx_object_of(const struct synth_tx_ctx *c, const struct synth_rel_words *rw);
int synth_tx_form_of(const struct synth_rel_words *rw);
const struct synth_tpl *synth_tx_choose(struct synth_tx_ctx *c, const struct synth_rel_words *rw, enum list_kind k, unsigned without, unsigned with);
/* Slots of a template. */
void synth_tx_slots_init(struct synth_tx_slots *s, int plural);
struct synth_tx_slot *synth_tx_slot_add(struct synth_tx_slots *s, const char *key, enum slot_kind kind, int plural);
void synth_tx_slot_node(struct synth_tx_slots *s, const char *key, enum slot_kind kind, const struct synth_node *n, int plural);
void synth_tx_slot_str(struct synth_tx_slots *s, const char *key, enum slot_kind kind, const char *str, int plural);
void synth_tx_slot_list(struct synth_tx_slots *s, const char *key, const char *const *v, size_t n);
const struct synth_tx_slot *synth_tx_slot_find(const struct synth_tx_slots *s, const char *k, size_t n);
/* Renders template text with its slots. */
void synth_tx_expands(struct synth_tx_ctx *c, const char *s, const struct synth_tx_slots *sl);
void synth_tx_expand_tpl(struct synth_tx_ctx *c, const struct synth_tpl *t, const struct synth_tx_slots *sl);
/* Query nodes in words. */
int synth_tx_node_plural(const struct synth_tx_ctx *c, const struct synth_node *n);
const char *synth_tx_node_noun(const struct synth_tx_ctx *c, const struct synth_node *n);
int synth_tx_same_rel(const struct synth_node *a, const struct synth_node *b);
void synth_tx_hop_with(struct synth_tx_ctx *c, const struct synth_node *h, const struct synth_tx_slot *xs, int plural);
void synth_tx_np(struct synth_tx_ctx *c, const struct synth_node *n);
int synth_tx_pred_ok(struct synth_tx_ctx *c, const struct synth_node *n);
void synth_tx_question(struct synth_tx_ctx *c, const struct synth_node *q);
void synth_tx_ctx_init(struct synth_tx_ctx *c, const struct synth_text *tx, uint64_t *rng, struct ling_buf *out);

/* Facts of one relation and direction form a group; the others of the group that starts at first, as a list. */
int synth_tx_same_group(const struct synth_fact *a, const struct synth_fact *b);
size_t synth_tx_group_size(const struct synth_tx_ctx *c, size_t first);
void synth_tx_facts_list(struct synth_tx_ctx *c, size_t first);
#endif
