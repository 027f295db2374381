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
/* Declared by the scoring code: AST matching, execution and answer accuracy, perplexity, MetaQA. */

#endif
