/*
 * synth: verified tool-use and instruction samples from a KG store
 * (KG2Tool, Ling TR 1.3 and 4.4; DESIGN.md 3.2; the sample shape is
 * doc/kg2samples-format.md).
 *
 * synth_open() opens the store read-only, builds its tool catalogue
 * (kg/kg.h) and loads a compact snapshot of the relations that have
 * tools: entities with their display names (and the values of literal
 * relations), adjacency in both directions, and the names search_entities
 * resolves from their lowercase spelling. From then on everything runs in memory: instantiating the 14
 * first-order-logic query patterns of BetaE (1p 2p 3p 2i 3i ip pi 2u up 2in
 * 3in inp pin pni) around sampled anchors, computing the gold answers on
 * entity ids, planning the tool calls a model would make (on names, as
 * kg_tool_call() executes them), wording the conversation (synth_text_internal.h),
 * verifying it and writing it as one JSON line.
 *
 * Verification, of every sample before it is written: each call's arguments
 * parse as JSON and validate against the tool's JSON Schema; executing each
 * call again from its arguments gives the recorded result text; the answer
 * (the union of the results of the last tool-calling turn) equals the gold
 * set of the query, and the final answer text names every answer. A sample
 * that fails, or cannot be made (an empty or too large answer, an entity
 * without a name, an ambiguous name that changes the answer, ...), is
 * rejected, counted by reason, and the index is tried again with a fresh
 * random state (up to SYNTH_MAX_ATTEMPTS times; then it is given up).
 *
 * Determinism: sample k of a run (0 <= k < count) depends only on the
 * store, the options and k: its category is drawn from the mix by a random
 * state seeded by hash(seed, k), attempt j by hash(seed, k, j). A shard i/n
 * makes the contiguous range [i*count/n, (i+1)*count/n), so the outputs of
 * shards 0..n-1 concatenated are the unsharded output, byte for byte, and
 * so is the output with any number of threads.
 *
 * Ownership: a struct synth is used by one thread; synth_run() starts its
 * own workers. The library never prints.
 */
#ifndef SYNTH_H
#define SYNTH_H

#include "../common/ling_err.h"

#include <stddef.h>
#include <stdint.h>

enum synth_category {
	/* the 14 FOL patterns, in BetaE's order */
	SYNTH_CAT_1P, SYNTH_CAT_2P, SYNTH_CAT_3P, SYNTH_CAT_2I, SYNTH_CAT_3I, SYNTH_CAT_IP, SYNTH_CAT_PI,
	SYNTH_CAT_2U, SYNTH_CAT_UP, SYNTH_CAT_2IN, SYNTH_CAT_3IN, SYNTH_CAT_INP, SYNTH_CAT_PIN, SYNTH_CAT_PNI,
	/* other tool use */
	SYNTH_CAT_PARALLEL, SYNTH_CAT_MULTIPLE, SYNTH_CAT_IRRELEVANCE, SYNTH_CAT_MULTI_TURN,
	/* instruction samples, without tools */
	SYNTH_CAT_FACT, SYNTH_CAT_LIST, SYNTH_CAT_COUNT, SYNTH_CAT_COMPARE, SYNTH_CAT_DESCRIBE,
	SYNTH_NCAT
};
#define SYNTH_NPATTERNS 14

/* "1p", ..., "pni", "parallel", ..., "describe". */
const char *synth_category_name(int cat);
/* The category called name, or -1. */
int synth_category_find(const char *name);

enum synth_reject {
	SYNTH_REJ_NO_PATH,       /* the walk from the anchor found no edge to follow */
	SYNTH_REJ_EMPTY,         /* the answer (or an intersection on the way) is empty */
	SYNTH_REJ_FEW,           /* too few answers or facts for the category (list, count, describe) */
	SYNTH_REJ_TOO_MANY,      /* more answers than --max-answers */
	SYNTH_REJ_FANOUT,        /* a set hopped from, or passed to a logic tool, is too large */
	SYNTH_REJ_NEGATION,      /* the negated branch removes nothing */
	SYNTH_REJ_UNNAMED,       /* an entity on the way has no name */
	SYNTH_REJ_AMBIGUOUS,     /* entities sharing a name make the calls answer differently from the gold set */
	SYNTH_REJ_TOOLS,         /* not enough tools to offer (irrelevance, multiple) */
	SYNTH_REJ_SCHEMA,        /* verification: arguments do not validate against the schema (a bug) */
	SYNTH_REJ_REPLAY,        /* verification: a call's result differs on replay (a bug) */
	SYNTH_REJ_ANSWER,        /* verification: answer differs from gold or is not named in the text (a bug) */
	SYNTH_REJ_REVISIT,       /* the path comes back to an entity already on it, or to an anchor the user named */
	SYNTH_REJ_ASKED,         /* an answer is named in the question (a name the user wrote is or holds it) */
	SYNTH_REJ_SAME_NAME,     /* two anchors of the question have one name (case aside) */
	SYNTH_NREJECT
};

/* "empty answer", "too many answers", ... as the summary prints them. */
const char *synth_reject_name(int reason);

#define SYNTH_MAX_ATTEMPTS 256

enum synth_format {
	SYNTH_FORMAT_OPENAI, /* doc/kg2samples-format.md: the tools only in "tools" */
	SYNTH_FORMAT_HERMES, /* calls as <tool_call> text, results as <tool_response> text, the tools in the
				system prompt's <tools> block and no "tools" */
	SYNTH_FORMAT_BFCL,   /* BFCL v4 question lines (id CATEGORY_INDEX); the ground truth goes to the sink's
				aux line; no multi_turn, instruction or search samples */
};

struct synth_options {
	const char *store_dir;
	uint64_t count;                  /* samples in the whole run (default 1000) */
	uint64_t seed;                   /* default 0 */
	uint64_t shard, nshards;         /* this process makes shard `shard` of `nshards` (default 0 of 1) */
	double mix[SYNTH_NCAT];          /* relative weight of each category (see synth_options_init) */
	const char *lang;                /* language of names and wording (default "en") */
	const char *const *templates;    /* user template files (doc/kg2samples-templates.md) */
	size_t ntemplates;
	enum synth_format format;
	unsigned max_tools;              /* tools offered to a `multiple` sample, the most any sample gets (default 16) */
	unsigned max_answers;            /* most answers of a question (default 20) */
	uint64_t min_facts;              /* a relation needs this many facts to get tools (default 10) */
	int threads;                     /* default 1 */
	/*
	 * A focused run (kg2samples --entities, --changed-since): every query
	 * starts at one of these entities (its first anchor; a described
	 * entity), drawn uniformly by the sample's random state. Entities are
	 * named by IRI (with or without <>) or display name; those without an
	 * edge in a relation with tools are left out (synth_info says how many
	 * were found). With focus_given and no entity found, the run makes nothing.
	 */
	int focus_given;
	const char *const *focus;        /* the entities named (may be empty) */
	size_t nfocus;
	int changed_given;               /* also the entities the store's batches changed after mark changed_since */
	uint64_t changed_since;
	uint64_t per_entity;             /* focused: count = per_entity * entities found (0: keep count) */
};

/*
 * Default options. The default mix: weight 1 for each of the 14 patterns and
 * for parallel, multiple, irrelevance and multi_turn; 0.4 for each
 * instruction category (so 90% tool use, 10% instruction).
 */
void synth_options_init(struct synth_options *o);

/*
 * Applies a --mix spec, a comma-separated list of NAME=WEIGHT, left to
 * right: NAME is a category, or a group ("patterns": the 14 patterns,
 * "tool_use": every tool-use category, "instruction": the 5 instruction
 * categories, "all"), whose weight is split evenly among its categories.
 * Weights are finite numbers >= 0. @return 0 or LING_EUSAGE.
 */
int synth_mix_parse(struct synth_options *o, const char *spec, struct ling_err *err);

/*
 * Applies a --patterns list (comma-separated categories or groups as for
 * --mix): the categories not named get weight 0. @return 0 or LING_EUSAGE.
 */
int synth_patterns_parse(struct synth_options *o, const char *list, struct ling_err *err);

struct synth_counts {
	uint64_t asked;                     /* indexes of this shard: its share of count (set by synth_run) */
	uint64_t written;                   /* samples made (all handed to the sink unless it stopped the run) */
	uint64_t per_cat[SYNTH_NCAT];
	uint64_t rejected;                  /* attempts rejected, all reasons */
	uint64_t per_reason[SYNTH_NREJECT];
	uint64_t given_up;                  /* indexes with no sample after SYNTH_MAX_ATTEMPTS attempts */
};

/* What synth_open() found in the store. */
struct synth_info {
	uint64_t entities;  /* in the relations with tools */
	uint64_t named;     /* of those, with a display name */
	uint64_t relations; /* relations with tools (each has a forward and an inverse tool) */
	uint64_t facts;     /* their triples */
	uint64_t tools;     /* the whole catalogue, logic tools included */
	/* a focused run: entities named (with changed_given: changed), found; the store's change mark */
	uint64_t focus_named, focus_found;
	uint64_t mark;      /* with changed_given: kg_change_mark() of the store as opened */
};

/*
 * Where the samples go, in order. emit gets one line without "\n"; with
 * SYNTH_FORMAT_BFCL also the ground-truth line in aux (else aux is NULL).
 * @return 0, or a negative ling_errc to stop the run. progress, when set,
 * is called from the calling thread now and then.
 */
struct synth_sink {
	void *ctx;
	int (*emit)(void *ctx, const char *line, size_t len, const char *aux, size_t auxlen, struct ling_err *err);
	void (*progress)(void *ctx, uint64_t done, uint64_t total, const struct synth_counts *c);
};

struct synth;

/*
 * Opens the store, the catalogue, the snapshot and the templates.
 * @return 0; LING_EUSAGE (bad options), LING_ESTORE, LING_EIO, LING_EDATA
 * (a template file, with its position); LING_EDATA too when the store has
 * no relation with tools.
 */
int synth_open(struct synth **out, const struct synth_options *o, struct ling_err *err);

/*
 * Makes the samples of the shard. When it returns 0, written + given_up ==
 * asked: a run that gave indexes up wrote fewer samples than asked.
 * @return 0 or what sink->emit returned.
 */
int synth_run(struct synth *s, const struct synth_sink *sink, struct ling_err *err);

const struct synth_counts *synth_counts(const struct synth *s);
const struct synth_info *synth_info(const struct synth *s);
void synth_close(struct synth *s);

#endif
