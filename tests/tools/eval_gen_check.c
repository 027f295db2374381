/*
 * eval_gen_check: checks of eval's generation (eval_gen.c) on a real
 * checkpoint, for tests/t6000-eval-gen.sh.
 *
 *	eval_gen_check open CKPT [TOKENIZER]
 *		opens the checkpoint; prints "template T vocab V context C tokenizer N"
 *	eval_gen_check cache CKPT NEW SEED
 *		20 prompts (a shared system prefix, agent-loop continuations, a
 *		prompt diverging mid-cache, a repeat, a shortening, a long one),
 *		NEW tokens each with the KV cache, in one model in turn (so each
 *		reuses the cached prefix of the last), against a second model that
 *		recomputes the whole sequence at every step (eval_logits); a line
 *		per prompt, "equal" when every token matches and the reused prefix
 *		is the expected one
 *	eval_gen_check logits CKPT TOKENS.json LOGITS.safetensors
 *		eval_logits of the first row of TOKENS.json ([[ids...]]) against
 *		the tensor "logits" [1,T,V] that `ling-train forward --logits`
 *		wrote; prints the differing values and the largest difference
 *	eval_gen_check stops CKPT
 *		stop token, stop string, length, full context, bad prompts
 *	eval_gen_check text CKPT TEXT NEW
 *		TEXT (special tokens matched) continued greedily, at most NEW
 *		tokens, stopping at <|im_end|> or "</tool_call>"; prints the
 *		output's text, then its token count and the stop reason
 *	eval_gen_check speed CKPT PROMPT NEW [THREADS]
 *		prefill and decode tokens/s (not for tests: timings vary)
 * Exit 0 when every check holds, 1 when one fails or the checkpoint is
 * refused (the error on stderr), 2 on bad arguments.
 */
#include "eval/eval.h"

#include "common/ling_clock.h"
#include "common/ling_err.h"
#include "common/ling_mem.h"
#include "tokenize/tokenize.h"
#include "train/train.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

static int failures;

static void check(int ok, const char *what)
{
	if (!ok) {
		printf("  FAILED: %s\n", what);
		failures++;
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: eval_gen_check (open CKPT [TOKENIZER] | cache CKPT NEW SEED | logits CKPT TOKENS LOGITS |\n"
			"                      stops CKPT | text CKPT TEXT NEW | speed CKPT PROMPT NEW [THREADS])\n");
	exit(2);
}

static long number(const char *s, long lo, long hi)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || end == s || v < lo || v > hi)
		usage();
	return v;
}

static int threads; /* 0: every core */

static struct eval_model *open_model(const char *ckpt, const char *tokenizer, int max_context)
{
	struct eval_model_opts o = { ckpt, tokenizer, NULL, threads, max_context };
	struct eval_model *m;
	struct ling_err err;

	if (eval_model_open(&m, &o, &err)) {
		ling_err_print("eval_gen_check", &err);
		exit(1);
	}
	return m;
}

/* A small seeded generator (the prompts do not depend on anything else). */
static uint32_t next_rand(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*s >> 33);
}

static void add_random(struct ling_u32s *a, size_t n, size_t vocab, uint64_t *s)
{
	for (size_t i = 0; i < n; i++)
		ling_u32s_push(a, next_rand(s) % (uint32_t)vocab);
}

static void copy_u32s(struct ling_u32s *to, const uint32_t *v, size_t n)
{
	to->n = 0;
	for (size_t i = 0; i < n; i++)
		ling_u32s_push(to, v[i]);
}

static uint32_t argmax(const float *x, size_t n)
{
	size_t best = 0;

	for (size_t i = 1; i < n; i++)
		if (x[i] > x[best])
			best = i;
	return (uint32_t)best;
}

/* Greedy decoding by recomputing the whole sequence at every step. */
static void reference(struct eval_model *m, const struct ling_u32s *prompt, int steps, struct ling_u32s *out)
{
	size_t V = eval_model_vocab_size(m);
	struct ling_u32s seq = LING_U32S_INIT;
	float *logits = xmalloc((prompt->n + (size_t)steps) * V * sizeof(float));
	struct ling_err err;

	copy_u32s(&seq, prompt->v, prompt->n);
	out->n = 0;
	for (int i = 0; i < steps; i++) {
		uint32_t next;

		if (eval_logits(m, seq.v, seq.n, logits, &err)) {
			ling_err_print("eval_gen_check", &err);
			exit(1);
		}
		next = argmax(logits + (seq.n - 1) * V, V);
		ling_u32s_push(out, next);
		ling_u32s_push(&seq, next);
	}
	ling_u32s_release(&seq);
	free(logits);
}

/* The 20 prompts: prompt i is made from the ones before it and what they generated. */
static void make_prompt(int i, const struct ling_u32s *system, const struct ling_u32s *last,
			const struct ling_u32s *last_out, size_t vocab, uint64_t *s, struct ling_u32s *p)
{
	p->n = 0;
	if (i < 10) { /* a new question after the shared system prompt and tools */
		copy_u32s(p, system->v, system->n);
		add_random(p, 4 + next_rand(s) % 20, vocab, s);
	} else if (i < 15) { /* the agent loop: the conversation so far, the answer, a tool's result */
		copy_u32s(p, last->v, last->n);
		for (size_t j = 0; j < last_out->n; j++)
			ling_u32s_push(p, last_out->v[j]);
		add_random(p, 6, vocab, s);
	} else if (i == 15) { /* diverges in the middle of the cached sequence */
		copy_u32s(p, last->v, last->n / 2);
		add_random(p, 10, vocab, s);
	} else if (i == 16) { /* the same prompt again */
		copy_u32s(p, last->v, last->n);
	} else if (i == 17) { /* a prefix of the cached sequence */
		copy_u32s(p, last->v, last->n / 2);
	} else if (i == 18) { /* nothing in common */
		add_random(p, 30, vocab, s);
		p->v[0] = (last->v[0] + 1) % (uint32_t)vocab;
	} else { /* long: prefill across attention blocks */
		copy_u32s(p, system->v, system->n);
		add_random(p, 150, vocab, s);
	}
}

static size_t common_prefix(const struct ling_u32s *a, const struct ling_u32s *b)
{
	size_t i = 0;

	while (i < a->n && i < b->n && a->v[i] == b->v[i])
		i++;
	return i;
}

static void print_ids(const char *name, const struct ling_u32s *a)
{
	printf("  %s:", name);
	for (size_t i = 0; i < a->n; i++)
		printf(" %u", a->v[i]);
	printf("\n");
}

static int cmd_cache(const char *ckpt, int steps, uint64_t seed)
{
	struct eval_model *cached = open_model(ckpt, NULL, 0), *fresh = open_model(ckpt, NULL, 0);
	struct ling_u32s system = LING_U32S_INIT, prompt = LING_U32S_INIT, last = LING_U32S_INIT;
	struct ling_u32s out = LING_U32S_INIT, last_out = LING_U32S_INIT, want = LING_U32S_INIT;
	struct ling_u32s in_cache = LING_U32S_INIT; /* what the cached model's KV cache holds */
	struct eval_stop stop = { NULL, 0, NULL, 0, steps };
	struct eval_generator gen = eval_model_generator(cached); /* as the agent loop calls it */
	size_t vocab = eval_model_vocab_size(cached), total = 0, reused_total = 0, distinct = 0;
	char *seen = xcalloc(vocab, 1);
	uint64_t s = seed;

	add_random(&system, 48, vocab, &s);
	for (int i = 0; i < 20; i++) {
		struct eval_gen_stats before, after;
		enum eval_stop_reason why;
		struct ling_err err;
		size_t reuse;

		make_prompt(i, &system, &last, &last_out, vocab, &s, &prompt);
		reuse = common_prefix(&in_cache, &prompt);
		if (reuse > prompt.n - 1)
			reuse = prompt.n - 1;
		eval_model_stats(cached, &before);
		if (gen.generate(gen.ctx, prompt.v, prompt.n, &stop, &out, &why, &err)) {
			ling_err_print("eval_gen_check", &err);
			return 1;
		}
		eval_model_stats(cached, &after);
		reference(fresh, &prompt, steps, &want);
		printf("prompt %d: %zu tokens, %zu reused, %zu prefilled, %zu generated: %s\n", i, prompt.n,
		       (size_t)(after.reused_tokens - before.reused_tokens),
		       (size_t)(after.prefilled_tokens - before.prefilled_tokens), out.n,
		       out.n == want.n && !memcmp(out.v, want.v, out.n * sizeof(uint32_t)) &&
				       after.reused_tokens - before.reused_tokens == reuse
			       ? "equal"
			       : "DIFFERENT");
		check(why == EVAL_STOP_LENGTH, "stopped for another reason than the length");
		check(after.reused_tokens - before.reused_tokens == reuse, "not the expected prefix reused");
		if (out.n != want.n || memcmp(out.v, want.v, out.n * sizeof(uint32_t))) {
			failures++;
			print_ids("cached", &out);
			print_ids("recomputed", &want);
		}
		total += out.n;
		reused_total += reuse;
		for (size_t j = 0; j < out.n; j++) {
			distinct += !seen[out.v[j]];
			seen[out.v[j]] = 1;
		}
		copy_u32s(&in_cache, prompt.v, prompt.n);
		for (size_t j = 0; j + 1 < out.n; j++) /* the last token generated was never run */
			ling_u32s_push(&in_cache, out.v[j]);
		copy_u32s(&last, prompt.v, prompt.n);
		copy_u32s(&last_out, out.v, out.n);
	}
	printf("20 prompts, %zu tokens generated (%zu distinct), %zu prompt tokens reused: %s\n", total, distinct,
	       reused_total, failures ? "FAILED" : "all equal");
	free(seen);
	ling_u32s_release(&system);
	ling_u32s_release(&prompt);
	ling_u32s_release(&last);
	ling_u32s_release(&out);
	ling_u32s_release(&last_out);
	ling_u32s_release(&want);
	ling_u32s_release(&in_cache);
	eval_model_free(cached);
	eval_model_free(fresh);
	return failures ? 1 : 0;
}

/* The first row of a JSON array of arrays of ids. */
static void read_tokens(const char *path, struct ling_u32s *out)
{
	json_t *root = json_load_file(path, 0, NULL), *row = json_array_get(root, 0);
	size_t i;
	json_t *v;

	if (!json_is_array(row)) {
		fprintf(stderr, "eval_gen_check: %s: not [[ids...]]\n", path);
		exit(2);
	}
	json_array_foreach(row, i, v)
		ling_u32s_push(out, (uint32_t)json_integer_value(v));
	json_decref(root);
}

static int cmd_logits(const char *ckpt, const char *tokens_path, const char *logits_path)
{
	struct eval_model *m = open_model(ckpt, NULL, 0);
	struct ling_u32s tokens = LING_U32S_INIT;
	size_t V = eval_model_vocab_size(m), n, differ = 0;
	float *got, *want;
	double worst = 0;
	struct ling_err err;

	read_tokens(tokens_path, &tokens);
	n = tokens.n * V;
	got = xmalloc(n * sizeof(float));
	want = xmalloc(n * sizeof(float));
	{
		struct train_tensor t = { "logits", 3, { 1, (int64_t)tokens.n, (int64_t)V, 0 }, want };

		if (train_ckpt_read(logits_path, &t, 1, 0, &err) || eval_logits(m, tokens.v, tokens.n, got, &err)) {
			ling_err_print("eval_gen_check", &err);
			return 1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)got[i] - (double)want[i]);

		differ += memcmp(&got[i], &want[i], sizeof(float)) != 0;
		worst = d > worst ? d : worst;
	}
	printf("%zu positions, %zu logits: %zu differ, largest difference %g\n", tokens.n, n, differ, worst);
	free(got);
	free(want);
	ling_u32s_release(&tokens);
	eval_model_free(m);
	return differ ? 1 : 0;
}

static const char *reason(enum eval_stop_reason why)
{
	static const char *const names[] = { "token", "string", "length", "context" };

	return names[why];
}

static int memchr_u32(const uint32_t *v, uint32_t x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return 1;
	return 0;
}

static void expect_error(struct eval_model *m, const uint32_t *p, size_t n, int max_new, int code, const char *what)
{
	struct eval_stop stop = { NULL, 0, NULL, 0, max_new };
	struct ling_u32s out = LING_U32S_INIT;
	enum eval_stop_reason why;
	struct ling_err err;
	int rc = eval_generate(m, p, n, &stop, &out, &why, &err);

	printf("%s: %s\n", what, rc ? err.msg : "accepted");
	check(rc == code, "not the expected error");
	ling_u32s_release(&out);
}

static int printable(char c)
{
	return c > ' ' && c < 127;
}

/* Generating with stop string needle ends the output (first) at its first token whose text completes needle. */
static void check_stop_string(struct eval_model *m, const struct ling_u32s *prompt, const struct ling_u32s *first,
			      const char *needle)
{
	struct ling_u32s out = LING_U32S_INIT;
	struct ling_buf text = LING_BUF_INIT;
	const char *strings[1] = { needle };
	struct eval_stop stop = { NULL, 0, strings, 1, (int)first->n };
	enum eval_stop_reason why;
	struct ling_err err;
	size_t at;

	for (at = 0; at < first->n; at++) { /* ids the tokenizer lacks have no text */
		size_t len = text.len;

		if (tok_decode(eval_model_tok(m), &first->v[at], 1, &text, &err))
			ling_buf_truncate(&text, len);
		if (text.data && strstr(text.data, needle))
			break;
	}
	if (eval_generate(m, prompt->v, prompt->n, &stop, &out, &why, &err)) {
		ling_err_print("eval_gen_check", &err);
		exit(1);
	}
	printf("stop string \"%s\": %zu tokens, stopped for %s\n", needle, out.n, reason(why));
	check(why == EVAL_STOP_STRING && out.n == at + 1 && !memcmp(out.v, first->v, out.n * 4),
	      "not the output up to the stop string");
	ling_buf_release(&text);
	ling_u32s_release(&out);
}

static int cmd_stops(const char *ckpt)
{
	struct eval_model *m = open_model(ckpt, NULL, 0), *small;
	struct ling_u32s prompt = LING_U32S_INIT, out = LING_U32S_INIT, first = LING_U32S_INIT;
	struct ling_buf text = LING_BUF_INIT;
	size_t vocab = eval_model_vocab_size(m), at;
	enum eval_stop_reason why;
	struct eval_stop stop = { NULL, 0, NULL, 0, 24 };
	char needle[64] = "";
	struct ling_err err;
	uint64_t s = 7;
	uint32_t big;

	add_random(&prompt, 20, vocab, &s);
	if (eval_generate(m, prompt.v, prompt.n, &stop, &first, &why, &err))
		goto fail;
	printf("length: %zu tokens, stopped for %s\n", first.n, reason(why));
	print_ids("output", &first);
	check(first.n == 24 && why == EVAL_STOP_LENGTH, "not 24 tokens for the length");

	/* a stop token: the output ends at its first occurrence (one that is not the first token) */
	for (at = 10; at > 1 && memchr_u32(first.v, first.v[at], at); at--)
		;
	stop.tokens = &first.v[at];
	stop.ntokens = 1;
	if (eval_generate(m, prompt.v, prompt.n, &stop, &out, &why, &err))
		goto fail;
	printf("stop token %u: %zu tokens, stopped for %s\n", first.v[at], out.n, reason(why));
	check(why == EVAL_STOP_TOKEN && out.n == at + 1 && !memcmp(out.v, first.v, out.n * 4),
	      "not the output up to the stop token");

	/* stop strings: the text of a later token; two characters across two tokens' texts */
	stop.ntokens = 0;
	for (size_t i = 4; i < first.n && !needle[0]; i++) {
		ling_buf_reset(&text);
		if (!tok_decode(eval_model_tok(m), &first.v[i], 1, &text, &err) && text.len >= 1 &&
		    text.len < sizeof(needle) && strlen(text.data) == text.len && !strstr(text.data, "\xEF\xBF\xBD"))
			memcpy(needle, text.data, text.len + 1);
	}
	check(needle[0] != 0, "a token of whole characters in the output");
	if (needle[0])
		check_stop_string(m, &prompt, &first, needle);
	needle[0] = 0;
	for (size_t i = 4; i + 1 < first.n && !needle[0]; i++) {
		struct ling_buf a = LING_BUF_INIT, b = LING_BUF_INIT;

		if (!tok_decode(eval_model_tok(m), &first.v[i], 1, &a, &err) &&
		    !tok_decode(eval_model_tok(m), &first.v[i + 1], 1, &b, &err) && a.len && b.len &&
		    printable(a.data[a.len - 1]) && printable(b.data[0])) {
			needle[0] = a.data[a.len - 1];
			needle[1] = b.data[0];
			needle[2] = 0;
		}
		ling_buf_release(&a);
		ling_buf_release(&b);
	}
	check(needle[0] != 0, "two tokens of plain text in a row in the output");
	if (needle[0])
		check_stop_string(m, &prompt, &first, needle);

	/* the context fills */
	small = open_model(ckpt, NULL, (int)prompt.n + 5);
	if (eval_generate(small, prompt.v, prompt.n, &stop, &out, &why, &err))
		goto fail;
	printf("context %zu: %zu tokens, stopped for %s\n", prompt.n + 5, out.n, reason(why));
	check(why == EVAL_STOP_CONTEXT && out.n == 5 && !memcmp(out.v, first.v, out.n * 4),
	      "not 5 tokens for the context");
	for (size_t i = 0; i < first.n; i++)
		ling_u32s_push(&prompt, first.v[i]);
	expect_error(small, prompt.v, prompt.n, 4, LING_EDATA, "a prompt longer than the context");
	prompt.n -= first.n;
	eval_model_free(small);

	/* bad prompts leave the cache as it was */
	big = (uint32_t)vocab;
	expect_error(m, &big, 1, 4, LING_EDATA, "a token id of the vocabulary's size");
	expect_error(m, prompt.v, 0, 4, LING_EDATA, "an empty prompt");
	expect_error(m, prompt.v, prompt.n, 0, LING_EUSAGE, "max_new_tokens 0");
	if (eval_generate(m, prompt.v, prompt.n, &stop, &out, &why, &err))
		goto fail;
	check(out.n == first.n && !memcmp(out.v, first.v, out.n * 4), "after the errors: another output");
	printf("after the errors: %s\n", out.n == first.n && !memcmp(out.v, first.v, out.n * 4) ? "the same output" : "DIFFERENT");
	ling_buf_release(&text);
	ling_u32s_release(&prompt);
	ling_u32s_release(&out);
	ling_u32s_release(&first);
	eval_model_free(m);
	return failures ? 1 : 0;
fail:
	ling_err_print("eval_gen_check", &err);
	return 1;
}

static int cmd_text(const char *ckpt, const char *text, int steps)
{
	struct eval_model *m = open_model(ckpt, NULL, 0);
	struct tok *t = eval_model_tok(m);
	struct ling_u32s prompt = LING_U32S_INIT, out = LING_U32S_INIT;
	struct ling_buf decoded = LING_BUF_INIT;
	const char *strings[1] = { "</tool_call>" };
	long end = tok_token_id(t, "<|im_end|>", strlen("<|im_end|>"));
	uint32_t end_id = end < 0 ? 0 : (uint32_t)end;
	struct eval_stop stop = { &end_id, end < 0 ? 0 : 1, strings, 1, steps };
	enum eval_stop_reason why;
	struct ling_err err;
	int rc;

	if ((rc = tok_encode(t, text, strlen(text), TOK_ENCODE_SPECIAL, &prompt, &err)) ||
	    (rc = eval_generate(m, prompt.v, prompt.n, &stop, &out, &why, &err)) ||
	    (rc = tok_decode(t, out.v, out.n, &decoded, &err)))
		ling_err_print("eval_gen_check", &err);
	else
		printf("%s\n%zu tokens, stopped for %s\n", decoded.data ? decoded.data : "", out.n, reason(why));
	ling_buf_release(&decoded);
	ling_u32s_release(&prompt);
	ling_u32s_release(&out);
	eval_model_free(m);
	return rc ? 1 : 0;
}

static int cmd_speed(const char *ckpt, int prompt_len, int steps)
{
	struct eval_model *m = open_model(ckpt, NULL, 0);
	struct ling_u32s prompt = LING_U32S_INIT, out = LING_U32S_INIT;
	struct eval_stop stop = { NULL, 0, NULL, 0, steps };
	enum eval_stop_reason why;
	struct eval_gen_stats st;
	struct ling_err err;
	uint64_t s = 3;

	add_random(&prompt, (size_t)prompt_len, eval_model_vocab_size(m), &s);
	for (int rep = 0; rep < 3; rep++) {
		prompt.v[0] = (uint32_t)rep; /* no reuse */
		if (eval_generate(m, prompt.v, prompt.n, &stop, &out, &why, &err)) {
			ling_err_print("eval_gen_check", &err);
			return 1;
		}
	}
	eval_model_stats(m, &st);
	printf("prefill %.0f tokens/s (%d-token prompts), decode %.1f tokens/s\n", (double)st.prefilled_tokens / st.prefill_seconds,
	       prompt_len, (double)(st.generated_tokens - st.generate_calls) / st.decode_seconds);
	ling_u32s_release(&prompt);
	ling_u32s_release(&out);
	eval_model_free(m);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "open") && argc <= 4) {
		struct eval_model *m = open_model(argv[2], argc == 4 ? argv[3] : NULL, 0);

		printf("template %s vocab %zu context %zu tokenizer %zu\n", eval_model_template(m), eval_model_vocab_size(m),
		       eval_model_max_context(m), tok_vocab_size(eval_model_tok(m)));
		eval_model_free(m);
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "cache"))
		return cmd_cache(argv[2], (int)number(argv[3], 1, 1000), (uint64_t)number(argv[4], 0, 1L << 30));
	if (argc == 5 && !strcmp(argv[1], "logits"))
		return cmd_logits(argv[2], argv[3], argv[4]);
	if (argc == 5 && !strcmp(argv[1], "text"))
		return cmd_text(argv[2], argv[3], (int)number(argv[4], 1, 1 << 20));
	if (argc == 3 && !strcmp(argv[1], "stops"))
		return cmd_stops(argv[2]);
	if (argc == 6 && !strcmp(argv[1], "speed"))
		threads = (int)number(argv[--argc], 1, 256);
	if (argc == 5 && !strcmp(argv[1], "speed"))
		return cmd_speed(argv[2], (int)number(argv[3], 1, 1 << 20), (int)number(argv[4], 1, 1 << 20));
	usage();
	return 2;
}
