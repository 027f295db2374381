/*
 * eval: a trained checkpoint answering questions by calling a KG's tools
 * (Ling TR §1d; DESIGN.md §1), and the scores that say how well it does.
 *
 * Three layers, each usable alone:
 *   generation  (eval_gen.c)    a checkpoint on the CPU through train/'s model
 *                               and op table: batched prefill, a KV cache,
 *                               greedy decoding with stop criteria;
 *   the agent   (eval_agent.c,  render system + tools + conversation with
 *                eval_parse.c)  tokenize/'s chat templates, generate, parse
 *                               the tool calls, execute them on the store
 *                               with kg/'s catalogue, feed the results back;
 *   scoring     (eval_score.c)  BFCL-style AST matching of calls, execution
 *                               and answer accuracy, perplexity, MetaQA.
 * bin/ling-eval and bin/ling-chat are thin mains over these.
 *
 * The library never prints. Objects are used by one thread at a time.
 */
#ifndef EVAL_H
#define EVAL_H

#include "../common/ling_err.h"
#include "../common/ling_mem.h"

#include <stddef.h>
#include <stdint.h>

struct kg_store;
struct kg_toolset;
struct tok;

/* ==== generation (eval_gen.c) ==== */

/* A checkpoint loaded for inference: weights, tokenizer, template, KV cache. */
struct eval_model;

struct eval_model_opts {
	const char *checkpoint; /* a checkpoint directory: RUN/ckpt-STEP, RUN/latest, RUN (its latest), a convert output */
	const char *tokenizer;  /* NULL: CHECKPOINT/tokenizer.json */
	const char *template;   /* NULL: the checkpoint's chat template name, else "qwen" */
	int threads;            /* 0: every core */
	int max_context;        /* tokens the KV cache holds; 0: the config's max_position_embeddings */
};

/*
 * Loads the checkpoint (config.json and its weights, train_ckpt_read), its
 * tokenizer and its template (chat_template_name of tokenizer_config.json,
 * as ling-train writes them into every checkpoint), and makes a KV cache of
 * max_context positions. A tokenizer whose vocabulary does not fit the
 * model's (a token id >= vocab_size) is LING_EDATA.
 * @return 0, LING_EIO, LING_EDATA (a bad or truncated checkpoint, a
 * tokenizer too large, an unknown template named in tokenizer_config.json),
 * LING_EUSAGE (an unknown template given, max_context above the model's
 * max_position_embeddings, no tokenizer.json and none given).
 */
int eval_model_open(struct eval_model **out, const struct eval_model_opts *o, struct ling_err *err);
void eval_model_free(struct eval_model *m);

struct tok *eval_model_tok(struct eval_model *m);
const char *eval_model_template(const struct eval_model *m);
size_t eval_model_vocab_size(const struct eval_model *m);
size_t eval_model_max_context(const struct eval_model *m);

/* When generation stops (the stopping token or text is kept in the output). */
struct eval_stop {
	const uint32_t *tokens;       /* stop after generating any of these (end of turn) */
	size_t ntokens;
	const char *const *strings;   /* stop once the decoded output ends with any of these ("</tool_call>") */
	size_t nstrings;
	int max_new_tokens;           /* > 0 */
};

enum eval_stop_reason { EVAL_STOP_TOKEN, EVAL_STOP_STRING, EVAL_STOP_LENGTH, EVAL_STOP_CONTEXT };

/*
 * Greedy decoding of prompt's continuation into out (replaced; ties go to
 * the lowest id). The KV cache keeps the last sequence: a prompt that
 * shares a prefix with it (the system prompt and tools of the previous
 * question, or the conversation so far in the agent loop) reuses the cached
 * keys and values and prefills only the rest, in one batched forward. The
 * tokens are those of recomputing the whole sequence at every step (the
 * logits agree to rounding: a decoding step's products are matrix-vector
 * ones; t6000 checks the tokens). Stop strings are matched in the output
 * decoded token by token (ids the tokenizer lacks decode to nothing).
 * EVAL_STOP_CONTEXT: prompt and output fill max_context (a prompt of
 * exactly max_context tokens gives no token).
 * @return 0 with *why set, LING_EDATA (an empty prompt, a token id >=
 * vocab, a prompt longer than the context; the cache is then unchanged),
 * LING_EUSAGE (max_new_tokens <= 0).
 */
int eval_generate(struct eval_model *m, const uint32_t *prompt, size_t n, const struct eval_stop *stop,
		  struct ling_u32s *out, enum eval_stop_reason *why, struct ling_err *err);

/*
 * The logits of every position of tokens (n * vocab floats into logits), in
 * one forward from an empty cache: the numbers `ling-train forward` gives
 * for the same checkpoint and tokens, bit for bit. n <= max_context. The
 * cache then holds tokens (a later eval_generate may reuse them).
 * @return 0 or LING_EDATA (as eval_generate's prompt).
 */
int eval_logits(struct eval_model *m, const uint32_t *tokens, size_t n, float *logits, struct ling_err *err);

struct eval_generator;
/* The model as the agent loop's generator: eval_generate on m. */
struct eval_generator eval_model_generator(struct eval_model *m);

/* What the model has computed so far (for reports, and for tests of prefix reuse). */
struct eval_gen_stats {
	uint64_t generate_calls;
	uint64_t prompt_tokens;    /* of every eval_generate prompt */
	uint64_t reused_tokens;    /* of those, taken from the KV cache */
	uint64_t prefilled_tokens; /* of those, run in a prefill */
	uint64_t generated_tokens;
	double prefill_seconds, decode_seconds;
};

void eval_model_stats(const struct eval_model *m, struct eval_gen_stats *out);

/* ==== tool calls in model output (eval_parse.c) ==== */

/* One call the model wrote. A malformed block has name or arguments NULL and error set. */
struct eval_call {
	char *name;
	char *arguments; /* compact JSON object text */
	char *error;     /* why the block could not be read as a call, else NULL */
};

struct eval_calls {
	struct eval_call *v;
	size_t n;
	char *content;   /* the text outside the call blocks, trimmed, after a <think>..</think> block */
};

/*
 * The calls in one assistant message as the template writes them: for the
 * ChatML ("qwen") template Hermes blocks
 * <tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call>; for "ling"
 * its equivalent. Never fails on bad text: every block that is not a call
 * becomes an eval_call with error set; an unclosed block at the end too.
 * Details (eval_parse.c): arguments may also be a JSON string holding the
 * object (they come back as the object's compact text); duplicate keys, a
 * missing "name" or "arguments", a block inside a block and a stray
 * </tool_call> are malformed calls (a malformed call keeps its name when it
 * could be read). Every string of out is valid UTF-8 without NUL (a bad byte
 * becomes U+FFFD). Both templates write the same blocks, so template_name
 * (which may be NULL) does not change the reading today.
 */
void eval_parse_calls(const char *template_name, const char *text, size_t len, struct eval_calls *out);
void eval_calls_free(struct eval_calls *c);

/* ==== the agent loop (eval_agent.c) ==== */

/* Something that generates: the model, or a scripted fake in tests. */
struct eval_generator {
	int (*generate)(void *ctx, const uint32_t *prompt, size_t n, const struct eval_stop *stop,
			struct ling_u32s *out, enum eval_stop_reason *why, struct ling_err *err);
	void *ctx;
};

/* One assistant turn: what it wrote, its calls and their results. */
struct eval_turn {
	char *text;             /* the decoded assistant message */
	struct eval_calls calls;
	char **results;         /* per call: the store's result array, or {"error": "..."} */
	int *ok;                /* per call: 1 when executed, 0 when malformed, unknown or bad arguments */
	enum eval_stop_reason why;
};

struct eval_transcript {
	struct eval_turn *turns;
	size_t nturns;
	char *answer;           /* the last assistant text without calls ("" when none) */
	int round_limit;        /* 1 when the loop ended at max_rounds with calls still pending */
	uint64_t prompt_tokens, generated_tokens;
};

struct eval_agent_opts {
	struct eval_generator gen;
	struct tok *tok;
	const char *template_name;      /* "qwen" or "ling" */
	struct kg_store *store;
	const struct kg_toolset *tools;
	const char *const *offer;       /* names of the tools to offer; NULL: the whole catalogue */
	size_t noffer;
	const char *system;             /* the system prompt; NULL: none */
	int max_rounds;                 /* tool-calling turns whose results go back to the model; 0: 5 */
	int max_new_tokens;             /* per turn; 0: 512 */
	/* Called after each turn (ling-chat shows calls and results as they happen); may be NULL. */
	void (*on_turn)(void *ctx, const struct eval_turn *turn);
	void *on_turn_ctx;
};

struct eval_agent;

int eval_agent_new(struct eval_agent **out, const struct eval_agent_opts *o, struct ling_err *err);
void eval_agent_free(struct eval_agent *a);

/*
 * Asks one question (a user message after the system prompt and tools):
 * generate; parse calls; execute each on the store (unknown tools, bad
 * arguments and malformed blocks give an {"error": ...} result, as a real
 * runtime would); append the results as tool messages; generate again,
 * until a turn without calls or max_rounds. Fills out (freed by
 * eval_transcript_free).
 * At most max_rounds + 1 turns are generated: when the last one still
 * calls tools, its calls are executed and recorded but not answered
 * (round_limit). A turn's several blocks are parallel calls; generation
 * stops at each "</tool_call>" and the turn goes on only with another call
 * or its end (a model that writes on, say a made-up <tool_response>, is cut
 * there). A call to a tool of the store that is not offered is an unknown tool.
 * @return 0, LING_EDATA (a question that is not UTF-8), or an error of
 * generation or of the store (not of the model's text); on error out holds
 * the turns so far and must be freed too.
 */
int eval_agent_ask(struct eval_agent *a, const char *question, struct eval_transcript *out, struct ling_err *err);
void eval_transcript_free(struct eval_transcript *t);

/* ==== scoring (eval_score.c) ==== */

/*
 * Scores compare what the model did (a transcript) with a gold record; they
 * need no model, so tests build transcripts by hand.
 *
 * Matching calls (BFCL's AST checker, Patil et al. 2024, applied to the
 * first tool-calling turn): the same number of calls as the gold turn, and
 * each gold call matched by a different model call, in any order (parallel
 * calls). A model call matches a gold call when
 *   - the function name is the same (exactly);
 *   - every parameter the tool's schema requires is present;
 *   - no parameter is missing from the schema's "properties" (unknown);
 *   - each value has the JSON type its schema gives ("integer": a JSON
 *     integer; "number": an integer or a real; "string", "boolean",
 *     "array" with "items", "object" with "properties", "null", or a list of
 *     types; a parameter without a type takes the gold value's type) and
 *     equals the gold value: strings after BFCL's normalisation (the
 *     characters " ,./-_*^" removed, lowercased, ' made "), numbers
 *     by value (2 equals 2.0 for "number"), arrays in order, objects key
 *     by key;
 *   - an optional parameter the gold call has is present too, and one the
 *     gold call lacks is absent, unless the value is the schema's "default"
 *     (BFCL: an optional parameter is either given the gold value or
 *     omitted, where omitting is allowed).
 * A model call whose block could not be read (eval_call.error) matches
 * nothing. An irrelevance sample (no gold calls) is right when the model
 * made no call that could be read (BFCL's irrelevance check: a block that
 * does not decode is no call).
 */
enum eval_ast_verdict {
	EVAL_AST_OK,
	EVAL_AST_NO_CALL,        /* the gold calls a tool; the model never did */
	EVAL_AST_CALLED,         /* irrelevance: the model called a tool */
	EVAL_AST_MALFORMED,      /* a call block that is not a call, or arguments that are not a JSON object */
	EVAL_AST_COUNT,          /* not as many calls as the gold turn */
	EVAL_AST_NAME,           /* a function the gold turn does not call */
	EVAL_AST_MISSING,        /* a required (or gold) parameter absent */
	EVAL_AST_UNKNOWN,        /* a parameter the tool does not have */
	EVAL_AST_TYPE,           /* a value of the wrong JSON type */
	EVAL_AST_VALUE,          /* a value not equal to the gold one, or an optional one the gold lacks */
	EVAL_AST_NVERDICTS
};

/* The verdict's name in reports: "ok", "no_call", "called", "malformed", "count", "name", ... */
const char *eval_ast_verdict_name(enum eval_ast_verdict v);

/*
 * BFCL's string normalisation: appends s[0..n) to out without the
 * characters " ,./-_*^", ' replaced by " and lowercased as Python's
 * str.lower() does (Unicode; ASCII letters only where s is not UTF-8).
 */
void eval_normalize_string(const char *s, size_t n, struct ling_buf *out);

/*
 * Matches one model call against one gold call. tools_json is the offered
 * tools as a JSON array of OpenAI tool objects (a sample's "tools"; NULL or
 * a tool missing from it: values are compared by the gold value's type).
 * why (may be NULL) receives a short reason on a mismatch.
 * @return the verdict (EVAL_AST_OK when they match).
 */
enum eval_ast_verdict eval_ast_match_call(const struct eval_call *model, const struct eval_call *gold,
					  const char *tools_json, struct ling_buf *why);

/*
 * Matches a model turn's calls against a gold turn's, in any order (each
 * gold call takes the first unused model call that matches it). When none
 * matches, the verdict of the first unmatched gold call against the first
 * unused model call of the same name (EVAL_AST_NAME when none has it).
 */
enum eval_ast_verdict eval_ast_match(const struct eval_call *model, size_t nmodel, const struct eval_call *gold,
				     size_t ngold, const char *tools_json, struct ling_buf *why);

/* A held-out kg2samples tool-use sample (doc/kg2samples-format.md), as scoring needs it. */
struct eval_sample {
	char *id;
	char *category;         /* "1p", ..., "irrelevance" */
	char *pattern;          /* NULL for irrelevance */
	char *system;           /* the system message, NULL when there is none */
	char *question;         /* the first user message */
	int user_turns;         /* user messages (2 for multi_turn: only the first is asked) */
	char *tools_json;       /* the "tools" array, compact JSON */
	char **offer;           /* the offered tools' names, in order */
	size_t noffer;
	struct eval_call *gold; /* the first assistant turn with tool_calls (arguments compact JSON) */
	size_t ngold;           /* 0 for irrelevance */
	char **answer;          /* the gold answer set */
	size_t nanswer;
};

/*
 * Reads one kg2samples line. Instruction samples (kind "instruction") are
 * LING_ESTOP (not scored here, not an error). A line that is not such a
 * sample (bad JSON, missing or mistyped fields, no user message, a tool call
 * whose arguments are not a JSON object text) is LING_EDATA with err at
 * file:lineno.
 * @return 0 with s filled (eval_sample_release frees it), LING_ESTOP, LING_EDATA.
 */
int eval_sample_parse(struct eval_sample *s, const char *line, size_t len, const char *file, long lineno,
		      struct ling_err *err);
void eval_sample_release(struct eval_sample *s);

/*
 * The answer set of a transcript: the union of the results of the executed
 * calls (ok) of its last turn with calls, each a JSON array of strings:
 * *n distinct strings sorted by bytes in a new array *v (NULL when none;
 * free with eval_strings_free). A result that is not an array adds
 * nothing, nor do its items that are not strings.
 */
void eval_answer_set(const struct eval_transcript *t, char ***v, size_t *n);
void eval_strings_free(char **v, size_t n);

/*
 * Whether text names name: name occurs in text after both are NFC
 * case-folded, with the characters ",./-_*^()" removed and runs of white
 * space made one space, between word boundaries (BFCL's agentic answer
 * check). Text that is not UTF-8 names nothing.
 * @return the byte offset of the first occurrence in the normalised text,
 * or -1.
 */
long eval_text_names(const char *text, const char *name);

/* What one question scored. */
struct eval_score {
	enum eval_ast_verdict ast;  /* the first tool-calling turn against the gold's */
	int ast_ok;                 /* ast == EVAL_AST_OK */
	int exec_ok;                /* the answer set equals the gold answer (irrelevance: no call) */
	int answer_ok;              /* the final text names every gold answer (irrelevance: no call) */
	char *why;                  /* the AST mismatch in words, or NULL */
};

/* Scores a transcript against s. */
void eval_score_sample(const struct eval_sample *s, const struct eval_transcript *t, struct eval_score *out);
void eval_score_release(struct eval_score *sc);

/* One MetaQA question: `question with [entity]<TAB>a|b|c`. */
struct eval_metaqa_item {
	char *question;         /* the question with the brackets removed */
	char *entity;           /* the text between the brackets */
	char **answers;
	size_t nanswers;
};

/*
 * Reads one MetaQA line (without its newline; a trailing CR is dropped).
 * LING_EDATA with err at file:lineno for a line without exactly one TAB,
 * without exactly one non-empty [entity], with an empty answer, not valid
 * UTF-8, or holding a NUL byte.
 */
int eval_metaqa_parse(struct eval_metaqa_item *q, const char *line, size_t len, const char *file, long lineno,
		      struct ling_err *err);
void eval_metaqa_release(struct eval_metaqa_item *q);

/*
 * MetaQA's scores of a transcript. The prediction is the answer set
 * (eval_answer_set); exact: it equals the gold set; hits1: its top answer,
 * the one the final text names first (else the first by bytes), is a gold
 * answer; answer: the final text names every gold answer.
 */
struct eval_metaqa_score {
	int exact, hits1, answer;
	char *top;              /* the top answer, NULL when the set is empty */
};

void eval_metaqa_score(const struct eval_metaqa_item *q, const struct eval_transcript *t,
		       struct eval_metaqa_score *out);
void eval_metaqa_score_release(struct eval_metaqa_score *sc);

/* ==== runs (eval_run.c): ling-eval's work over whole files ==== */

#include <stdio.h>

/*
 * A run opens jobs copies of the checkpoint and the store once, asks the
 * questions of each file through the agent loop (jobs questions at a time,
 * one per model copy; the store is used by one of them at a time) and keeps
 * every score for the report. Results, the dump and the report do not
 * depend on jobs: each question is answered by greedy decoding alone.
 */
struct eval_run;

#define EVAL_DEFAULT_SYSTEM \
	"You are a knowledge assistant connected to a knowledge graph through function calls. Look facts up " \
	"instead of guessing, and base your answer only on what the functions return."

struct eval_run_opts {
	struct eval_model_opts model;  /* threads: compute threads of each copy */
	int jobs;                      /* model copies asking at once; 0: 1 */
	const char *store;             /* the KG store directory; NULL: perplexity only */
	const char *const *tools;      /* MetaQA: the tools offered; NULL: the store's whole catalogue */
	size_t ntools;
	const char *system;            /* MetaQA: the system prompt; NULL: EVAL_DEFAULT_SYSTEM */
	long long limit;               /* questions asked per file, spread evenly (documents for perplexity); 0: all */
	int max_rounds, max_new_tokens; /* per question (0: the agent's defaults) */
	FILE *dump;                    /* one JSON line per question, in file order; NULL: none */
	/* A bad line (err at file:line): report it; return nonzero to end the run (LING_EDATA, err that line). */
	int (*on_bad)(void *ctx, const struct ling_err *err);
	/* Something skipped that is worth a word (a sample whose tools the store lacks). */
	void (*on_note)(void *ctx, const struct ling_err *note);
	/* Questions answered so far of the current file (for a progress line). */
	void (*on_progress)(void *ctx, const char *file, uint64_t done, uint64_t total);
	void *ctx;
};

/*
 * Opens the store (read-only), its catalogue and jobs copies of the model.
 * Tools named in o->tools must be in the catalogue (LING_EUSAGE).
 * @return 0, or what eval_model_open and kg_store_open return.
 */
int eval_run_new(struct eval_run **out, const struct eval_run_opts *o, struct ling_err *err);
void eval_run_free(struct eval_run *r);

/*
 * Asks the tool-use samples of a kg2samples JSON Lines file (plain, gzip or
 * zstd) and scores them per category and pattern. Instruction samples are
 * passed over, multi_turn ones too (the agent asks one question); a sample
 * offering a tool the store lacks is skipped and counted (on_note); a line
 * that is not a sample goes to on_bad.
 * @return 0, LING_EIO (reading, or writing the dump), LING_EDATA (a bad line
 * beyond what on_bad allows), or an error of generation or of the store.
 */
int eval_run_samples(struct eval_run *r, const char *path, struct ling_err *err);

/*
 * Asks the questions of a MetaQA file (eval_metaqa_parse) with the offered
 * tools and system prompt, and scores exact match, Hits@1 and answer
 * accuracy. When a question-type file lies beside it (D/vanilla/qa_X.txt
 * and D/qa_X_qtype.txt, line by line), scores are given per type too, and
 * over the reachable subset: the questions whose every gold answer the
 * type's relation path reaches from the topic entity in this store.
 * @return as eval_run_samples.
 */
int eval_run_metaqa(struct eval_run *r, const char *path, struct ling_err *err);

/*
 * Perplexity and bits per byte of the first model copy on a split of a
 * `tokenize build` dataset: every document in windows of the model's
 * context, each token after a window's first scored (masked: only those
 * whose loss-mask value is 1). Bytes are those of each scored token's text.
 * @return 0, LING_EIO, LING_EDATA (a manifest or shard that does not read,
 * a token beyond the vocabulary).
 */
int eval_run_perplexity(struct eval_run *r, const char *dir, const char *split, int masked, struct ling_err *err);

/* The report (doc/ling-eval.1.md, "REPORT"): JSON, indented, ending in a newline. */
void eval_run_report(const struct eval_run *r, struct ling_buf *out);

/* The scores as a table for people (the stderr summary). */
void eval_run_table(const struct eval_run *r, struct ling_buf *out);

#endif
