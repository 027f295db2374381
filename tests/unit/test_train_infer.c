/*
 * Unit tests for train_infer (the KV-cache forward): a prefill from an empty
 * cache gives train_forward's logits bit for bit; the same positions run in
 * pieces (a prefix, single tokens across an attention block boundary, the
 * rest), after a truncation, give them to rounding; bad calls leave the
 * cache as it was.
 */
#include "tap.h"

#include "common/ling_err.h"
#include "common/ling_mem.h"
#include "train/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

#define T 100

/* The largest |a - b| relative to the largest |b| of n values. */
static double rel_diff(const float *a, const float *b, size_t n)
{
	double worst = 0, scale = 1e-30;

	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)a[i] - (double)b[i]);

		worst = d > worst ? d : worst;
		scale = fabs((double)b[i]) > scale ? fabs((double)b[i]) : scale;
	}
	return worst / scale;
}

static struct train_model *tiny_model(int norm_head)
{
	struct train_config cfg;
	struct ling_err err;
	struct train_model *m;

	if (train_config_preset(&cfg, "tiny", &err))
		return NULL;
	cfg.initializer_range = 0.3; /* logits far from uniform */
	cfg.norm_head = norm_head;
	m = train_model_new(&cfg, train_cpu_backend_new(2));
	train_model_init(m, 11);
	return m;
}

static void test_model(int norm_head)
{
	struct train_model *m = tiny_model(norm_head);
	const struct train_config *c = train_model_config(m);
	size_t V = (size_t)c->vocab_size;
	struct train_forward_opts fo = TRAIN_FORWARD_OPTS_INIT;
	struct train_infer *s;
	struct train_loss loss;
	struct ling_err err;
	int32_t tokens[T], bad;
	float *want = xmalloc(T * V * sizeof(float)), *got = xmalloc(T * V * sizeof(float));
	struct train_batch b = { 1, T, tokens, NULL, NULL };
	double worst = 0;

	for (int t = 0; t < T; t++)
		tokens[t] = (int32_t)((t * 37 + 5) % c->vocab_size);
	is_int(train_forward(m, &b, &fo, &loss, &err), 0, "norm_head %d: train_forward", norm_head);
	memcpy(want, train_model_logits(m), T * V * sizeof(float));
	is_int(train_infer_new(&s, m, 256, &err), 0, "a state of 256 positions");

	/* one prefill from an empty cache: the same bits */
	is_int(train_infer_forward(s, tokens, T, got, 1, &err), 0, "a prefill of %d tokens", T);
	is_int(train_infer_len(s), T, "they are cached");
	ok(!memcmp(got, want, T * V * sizeof(float)), "its logits are train_forward's, bit for bit");

	/* in pieces: 37 tokens, then one at a time across position 64, then the rest */
	train_infer_truncate(s, 0);
	is_int(train_infer_len(s), 0, "truncated to nothing");
	is_int(train_infer_forward(s, tokens, 37, got, 1, &err), 0, "37 tokens");
	for (int t = 37; t < 70; t++)
		if (train_infer_forward(s, tokens + t, 1, got + (size_t)t * V, 0, &err))
			break;
	is_int(train_infer_len(s), 70, "then 33 one by one");
	is_int(train_infer_forward(s, tokens + 70, T - 70, got + 70 * V, 1, &err), 0, "then the rest");
	worst = rel_diff(got, want, T * V);
	ok(worst < 1e-5, "every position's logits agree to rounding (%.2g)", worst);

	/* truncated in the middle, the rest run again; the last position only */
	train_infer_truncate(s, 50);
	train_infer_truncate(s, 80); /* beyond what is cached: nothing */
	is_int(train_infer_len(s), 50, "truncated to 50");
	is_int(train_infer_forward(s, tokens + 50, T - 50, got, 0, &err), 0, "50 more, the last logits alone");
	worst = rel_diff(got, want + (T - 1) * V, V);
	ok(worst < 1e-5, "the last position's logits (%.2g)", worst);

	/* bad calls leave the cache alone */
	bad = c->vocab_size;
	is_int(train_infer_forward(s, &bad, 1, got, 0, &err), LING_EDATA, "a token id of vocab_size");
	ok(strstr(err.msg, "position 100: token id 97 is not below vocab_size 97") != NULL, "named: %s", err.msg);
	is_int(train_infer_forward(s, tokens, 0, got, 0, &err), LING_EDATA, "no tokens");
	is_int(train_infer_forward(s, tokens, T, got, 1, &err), 0, "100 more fit 256");
	is_int(train_infer_forward(s, tokens, 57, got, 0, &err), LING_EDATA, "57 more do not");
	ok(strstr(err.msg, "57 more tokens after 200 do not fit a context of 256") != NULL, "named: %s", err.msg);
	is_int(train_infer_len(s), 200, "the cache is as it was");
	train_infer_free(s);

	is_int(train_infer_new(&s, m, 0, &err), LING_EUSAGE, "a context of 0");
	is_int(train_infer_new(&s, m, c->max_position_embeddings + 1, &err), LING_EUSAGE,
	       "a context above max_position_embeddings");
	ok(s == NULL, "no state");
	free(want);
	free(got);
	train_model_free(m);
}

int main(void)
{
	test_model(1);
	test_model(0);
	return done_testing();
}
