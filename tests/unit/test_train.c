/*
 * Unit tests for train/: config reading and its errors, the parameter layout
 * and names, and the backward against double-sided finite differences on
 * elements of every kind of parameter (with the aux losses on, a loss mask
 * and two packed documents). NormHead's norm is detached by design, so the
 * head is checked on a model with norm_head off.
 */
#include "tap.h"

#include "common/ling_err.h"
#include "common/ling_mem.h"
#include "train/train.h"
#include "train/train_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

static const char tiny_json[] =
	"{\"model_type\":\"bailing_moe\",\"vocab_size\":97,\"hidden_size\":64,\"num_hidden_layers\":3,"
	"\"num_attention_heads\":4,\"num_key_value_heads\":2,\"head_dim\":16,\"num_experts\":8,"
	"\"num_experts_per_tok\":2,\"num_shared_experts\":1,\"moe_intermediate_size\":32,\"intermediate_size\":96,"
	"\"first_k_dense_replace\":1,\"norm_topk_prob\":true,\"norm_head\":true,\"rope_theta\":10000,"
	"\"rms_norm_eps\":1e-6,\"pad_token_id\":0,\"initializer_range\":0.02,\"tie_word_embeddings\":false,"
	"\"use_bias\":false,\"use_qkv_bias\":false}";

/* tiny_json with `from` replaced by `to` (from must occur). */
static int parse_edited(const char *from, const char *to, struct train_config *cfg, struct ling_err *err)
{
	struct ling_buf b = LING_BUF_INIT;
	const char *at = strstr(tiny_json, from);
	int rc;

	if (!at)
		return 99;
	ling_buf_add(&b, tiny_json, (size_t)(at - tiny_json));
	ling_buf_adds(&b, to);
	ling_buf_adds(&b, at + strlen(from));
	ling_err_clear(err);
	rc = train_config_parse(cfg, b.data, b.len, "cfg.json", err);
	ling_buf_release(&b);
	return rc;
}

static void test_config(void)
{
	struct train_config cfg;
	struct ling_err err;
	struct train_param_count n;
	char path[4096];

	ling_err_clear(&err);
	is_int(train_config_parse(&cfg, tiny_json, strlen(tiny_json), "cfg.json", &err), 0, "the parity config reads");
	is_int(cfg.head_dim, 16, "head_dim");
	is_int(cfg.num_shared_experts, 1, "shared experts");
	is_int(cfg.pad_token_id, 0, "pad_token_id");

	is_int(parse_edited("\"num_experts\":8", "\"n_routed_experts\":8", &cfg, &err), 0, "n_routed_experts alias");
	is_int(cfg.num_experts, 8, "the alias's value");
	is_int(parse_edited("\"num_shared_experts\":1", "\"n_shared_experts\":2", &cfg, &err), 0, "n_shared_experts alias");
	is_int(cfg.num_shared_experts, 2, "the alias's value");
	is_int(parse_edited("\"head_dim\":16,", "", &cfg, &err), 0, "head_dim absent");
	is_int(cfg.head_dim, 16, "head_dim defaults to hidden / heads");
	is_int(parse_edited("\"pad_token_id\":0", "\"pad_token_id\":null", &cfg, &err), 0, "pad_token_id null");
	is_int(cfg.pad_token_id, -1, "means no pad row");
	is_int(parse_edited("\"use_bias\":false,", "\"unknown_key\":[1,2],", &cfg, &err), LING_EDATA,
	       "use_bias absent is HF's true: refused");
	ok(strstr(err.msg, "use_bias"), "the message names use_bias: %s", err.msg);
	is_int(parse_edited("\"vocab_size\":97,", "\"extra\":{\"a\":1},\"vocab_size\":97,", &cfg, &err), 0,
	       "unknown keys are ignored");

	is_int(parse_edited("\"head_dim\":16,\"num_attention_heads\":4", "\"num_attention_heads\":6", &cfg, &err),
	       99, "(edit guard)");
	is_int(parse_edited("\"num_attention_heads\":4", "\"num_attention_heads\":3", &cfg, &err), LING_EDATA,
	       "kv heads must divide heads (with head_dim given, hidden need not be heads * head_dim)");
	is_str(err.msg, "num_key_value_heads (2) does not divide num_attention_heads (3)", "message");
	{
		static const char no_hd[] =
			"{\"vocab_size\":97,\"hidden_size\":64,\"num_hidden_layers\":1,\"num_attention_heads\":6,"
			"\"num_key_value_heads\":2,\"num_experts\":4,\"num_experts_per_tok\":2,"
			"\"moe_intermediate_size\":8,\"use_bias\":false}";

		ling_err_clear(&err);
		is_int(train_config_parse(&cfg, no_hd, strlen(no_hd), "cfg.json", &err), LING_EDATA,
		       "heads not dividing hidden");
		is_str(err.msg, "num_attention_heads (6) does not divide hidden_size (64)", "message");
		is_str(err.file, "cfg.json", "the error names the file");
	}
	is_int(parse_edited("\"num_experts_per_tok\":2", "\"num_experts_per_tok\":9", &cfg, &err), LING_EDATA,
	       "top-k > experts");
	is_str(err.msg, "num_experts_per_tok (9) is more than num_experts (8)", "message");
	is_int(parse_edited("\"moe_intermediate_size\":32,", "", &cfg, &err), LING_EDATA, "missing key");
	is_str(err.msg, "missing key moe_intermediate_size", "message");
	is_int(parse_edited("\"hidden_size\":64", "\"hidden_size\":\"64\"", &cfg, &err), LING_EDATA, "a string size");
	is_str(err.msg, "hidden_size must be an integer", "message");
	is_int(parse_edited("\"tie_word_embeddings\":false", "\"tie_word_embeddings\":true", &cfg, &err), LING_EDATA,
	       "tied embeddings refused");
	is_int(parse_edited("\"pad_token_id\":0", "\"pad_token_id\":97", &cfg, &err), LING_EDATA, "pad out of range");
	is_int(parse_edited("\"first_k_dense_replace\":1", "\"first_k_dense_replace\":4", &cfg, &err), LING_EDATA,
	       "more dense layers than layers");
	is_int(parse_edited("\"model_type\":\"bailing_moe\"", "\"model_type\":\"llama\"", &cfg, &err), LING_EDATA,
	       "another model_type");
	is_int(parse_edited("{", "[", &cfg, &err), LING_EDATA, "not JSON");

	is_int(train_config_preset(&cfg, "ling-lite", &err), 0, "ling-lite preset");
	n = train_config_count(&cfg);
	is_int(n.total, 16801974272ll, "Ling-Lite total parameters");
	is_int(n.active, 2753153024ll, "Ling-Lite active parameters");
	is_int(train_config_preset(&cfg, "ling-plus", &err), 0, "ling-plus preset");
	n = train_config_count(&cfg);
	ok(fabs((double)n.total / 1e9 - 290.6) < 0.05 && fabs((double)n.active / 1e9 - 29.0) < 0.05,
	   "Ling-Plus about 290.6B / 29.0B (%.2f / %.2f)", (double)n.total / 1e9, (double)n.active / 1e9);
	is_int(train_config_preset(&cfg, "nope", &err), LING_EUSAGE, "unknown preset");

	snprintf(path, sizeof(path), "%s/ling-lite-config.json", getenv("LING_DATA") ? getenv("LING_DATA") : "tests/data");
	ling_err_clear(&err);
	is_int(train_config_load(&cfg, path, &err), 0, "the real Ling-Lite config.json reads (%s)", err.msg);
	n = train_config_count(&cfg);
	is_int(n.total, 16801974272ll, "its total");
	is_int(n.active, 2753153024ll, "its active");
	is_int(train_config_load(&cfg, "/nonexistent/config.json", &err), LING_EIO, "a missing file");
}

static void test_layout(void)
{
	struct train_config cfg;
	struct ling_err err;
	struct train_model *m;
	const struct train_param *p, *q;
	size_t n, total = 0, begin, end;
	int good = 1;

	train_config_preset(&cfg, "tiny", &err);
	m = train_model_new(&cfg, train_cpu_backend_new(1));
	p = train_model_params(m, &n);
	/* embedding, 3 layers of 4 + (dense 3 | router 1 + 3*8 experts + 3 shared), norm, head */
	is_int(n, 1 + 3 * 4 + 3 + 2 * (1 + 24 + 3) + 2, "the number of tensors");
	is_int(train_model_slabs(m), 5, "slabs: embedding, 3 layers, head");
	for (size_t i = 0; i < n; i++) {
		train_model_slab(m, p[i].slab, &begin, &end);
		good &= p[i].offset >= begin && p[i].offset + p[i].numel <= end && p[i].offset % 16 == 0;
		total += p[i].numel;
		if (i)
			good &= p[i].offset >= p[i - 1].offset + p[i - 1].numel;
	}
	ok(good, "each tensor lies inside its slab, aligned, in order, not overlapping");
	train_model_slab(m, 4, &begin, &end);
	is_int(end, train_model_size(m), "the slabs end where the parameters do");
	is_int(total, train_config_count(&cfg).total, "the tensors hold the counted parameters");
	q = train_model_find(m, "model.layers.1.attention.query_key_value.weight");
	ok(q && q->shape[0] == (4 + 2 * 2) * 16 && q->shape[1] == 64 && q->slab == 2, "qkv [(nh+2nkv)hd, H] in slab 2");
	q = train_model_find(m, "model.layers.0.mlp.down_proj.weight");
	ok(q && q->shape[0] == 64 && q->shape[1] == 96, "layer 0 is dense: down_proj [H, I]");
	ok(!train_model_find(m, "model.layers.0.mlp.gate.weight"), "a dense layer has no router");
	q = train_model_find(m, "model.layers.2.mlp.experts.7.down_proj.weight");
	ok(q && q->shape[0] == 64 && q->shape[1] == 32, "expert 7 down_proj [H, Ie]");
	q = train_model_find(m, "model.layers.2.mlp.shared_experts.gate_proj.weight");
	ok(q && q->shape[0] == 32 && q->shape[1] == 64, "shared expert gate_proj [Ie*S, H]");
	q = train_model_find(m, "model.layers.1.mlp.gate.weight");
	ok(q && q->shape[0] == 8 && q->shape[1] == 64, "router [E, H]");
	ok(train_model_find(m, "lm_head.weight") && train_model_find(m, "model.norm.weight") &&
	   train_model_find(m, "model.word_embeddings.weight"), "head, final norm, embedding");
	train_model_init(m, 7);
	q = train_model_find(m, "model.layers.1.post_attention_layernorm.weight");
	ok(train_model_data(m)[q->offset] == 1.0f && train_model_data(m)[q->offset + 63] == 1.0f, "norms start at 1");
	train_model_free(m);
}

/* The batch of the parity test: 2 rows x 24, a mask with zeros, row 1 two documents, a pad token inside. */
static int32_t batch_tokens[2 * 24];
static uint8_t batch_mask[2 * 24];
static int32_t batch_docs[2 * 24];

static struct train_batch make_batch(void)
{
	struct train_batch b = { 2, 24, batch_tokens, batch_mask, batch_docs };

	for (int i = 0; i < 48; i++) {
		batch_tokens[i] = (int32_t)((i * 37 + 11) % 97);
		batch_mask[i] = (uint8_t)(i % 7 != 3);
		batch_docs[i] = i >= 24 && i % 24 >= 10;
	}
	batch_tokens[5] = 0; /* the pad token */
	return b;
}

/* The chosen experts of every MoE layer after the last forward, appended to out. */
static void routing_of(const struct train_model *m, struct ling_buf *out)
{
	for (int i = 0; i < m->cfg.num_hidden_layers; i++)
		if (m->layers[i].moe)
			ling_buf_add(out, m->acts[i].top_e, (size_t)m->N * m->cfg.num_experts_per_tok * sizeof(int32_t));
}

/* The loss, or NAN when the routing differs from `routing` (the loss jumps there: no derivative to check). */
static double loss_of(struct train_model *m, const struct train_batch *b, const struct train_forward_opts *fo,
		      const struct ling_buf *routing)
{
	struct train_loss loss;
	struct ling_err err;
	struct ling_buf now = LING_BUF_INIT;
	int same;

	if (train_forward(m, b, fo, &loss, &err))
		return NAN;
	routing_of(m, &now);
	same = now.len == routing->len && !memcmp(now.data, routing->data, now.len);
	ling_buf_release(&now);
	return same ? loss.loss : NAN;
}

/*
 * Checks the analytic gradient of param name against (L(w+h) - L(w-h)) / 2h on its two largest-gradient
 * elements. @return 1 when both agree to 2% (fp32 losses, h 1e-2 on weights of std 0.15).
 */
static int fd_check(struct train_model *m, const struct train_batch *b, const struct train_forward_opts *fo,
		    const char *name)
{
	const struct train_param *p = train_model_find(m, name);
	float *w = train_model_data(m), *g = train_model_grad(m);
	size_t best[2] = { 0, 0 };
	int good = 1;
	struct ling_buf routing = LING_BUF_INIT;

	if (!p) {
		diag("no tensor %s", name);
		return 0;
	}
	for (size_t j = 0; j < p->numel; j++) {
		float a = fabsf(g[p->offset + j]);

		if (a > fabsf(g[p->offset + best[0]])) {
			best[1] = best[0];
			best[0] = j;
		} else if (j != best[0] && a > fabsf(g[p->offset + best[1]])) {
			best[1] = j;
		}
	}
	loss_of(m, b, fo, &routing);
	routing_of(m, &routing);
	for (int r = 0; r < 2; r++) {
		size_t j = p->offset + best[r];
		float keep = w[j], h = 1e-2f;
		double up = NAN, down = NAN, fd, an = g[j];

		/* a step that changes which experts a token gets crosses a jump: take a smaller one */
		for (int tries = 0; tries < 4 && (isnan(up) || isnan(down)); tries++, h /= 4) {
			w[j] = keep + h;
			up = loss_of(m, b, fo, &routing);
			w[j] = keep - h;
			down = loss_of(m, b, fo, &routing);
			w[j] = keep;
		}
		h *= 4;
		fd = (up - down) / (2.0 * h);
		if (!(fabs(fd - an) <= 0.02 * fabs(an) + 2e-5)) {
			diag("%s[%zu]: analytic %.7g, finite difference %.7g", name, best[r], an, fd);
			good = 0;
		}
	}
	loss_of(m, b, fo, &routing); /* leave the model as it was */
	ling_buf_release(&routing);
	return good && g[p->offset + best[0]] != 0;
}

static struct train_model *fd_model(int norm_head)
{
	struct train_config cfg;
	struct ling_err err;
	struct train_model *m;

	train_config_preset(&cfg, "tiny", &err);
	cfg.initializer_range = 0.15; /* larger weights: larger gradients, clearer routing */
	cfg.norm_head = norm_head;
	m = train_model_new(&cfg, train_cpu_backend_new(2));
	train_model_init(m, 11);
	return m;
}

static void test_finite_differences(void)
{
	static const char *const names[] = {
		"model.word_embeddings.weight",
		"model.layers.0.input_layernorm.weight",
		"model.layers.0.attention.query_key_value.weight",
		"model.layers.0.attention.dense.weight",
		"model.layers.0.post_attention_layernorm.weight",
		"model.layers.0.mlp.gate_proj.weight",
		"model.layers.0.mlp.up_proj.weight",
		"model.layers.0.mlp.down_proj.weight",
		"model.layers.1.attention.query_key_value.weight",
		"model.layers.2.input_layernorm.weight",
		"model.layers.1.mlp.gate.weight",
		"model.layers.2.mlp.gate.weight",
		"model.layers.1.mlp.shared_experts.gate_proj.weight",
		"model.layers.2.mlp.shared_experts.down_proj.weight",
		"model.norm.weight",
	};
	struct train_batch b = make_batch();
	struct train_forward_opts fo = TRAIN_FORWARD_OPTS_INIT;
	struct train_loss loss;
	struct ling_err err;
	struct train_model *m = fd_model(1);
	const struct train_param *emb;
	char name[128];
	int pad_zero = 1;

	fo.aux = 1;
	fo.balance_coef = 0.2; /* large enough that the aux gradients show in the check */
	fo.z_coef = 0.02;
	train_model_zero_grad(m);
	is_int(train_forward(m, &b, &fo, &loss, &err), 0, "forward");
	ok(loss.counted > 0 && loss.counted < 46 && isfinite(loss.loss), "loss %.6g over %lld targets", loss.loss,
	   loss.counted);
	train_backward(m);
	emb = train_model_find(m, "model.word_embeddings.weight");
	for (int j = 0; j < 64; j++)
		pad_zero &= train_model_grad(m)[emb->offset + j] == 0;
	ok(pad_zero, "the pad row of the embedding gets no gradient");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ok(fd_check(m, &b, &fo, names[i]), "finite differences: %s", names[i]);
	/* every expert of a layer: those with tokens must agree (one without tokens has a zero gradient) */
	for (int e = 0; e < 8; e += 3) {
		snprintf(name, sizeof(name), "model.layers.1.mlp.experts.%d.up_proj.weight", e);
		ok(fd_check(m, &b, &fo, name), "finite differences: %s", name);
		snprintf(name, sizeof(name), "model.layers.2.mlp.experts.%d.down_proj.weight", e + 1);
		ok(fd_check(m, &b, &fo, name), "finite differences: %s", name);
	}
	train_model_free(m);

	/* The head's own gradient is the true derivative only without NormHead's detached norm. */
	m = fd_model(0);
	train_model_zero_grad(m);
	train_forward(m, &b, &fo, &loss, &err);
	train_backward(m);
	ok(fd_check(m, &b, &fo, "lm_head.weight"), "finite differences: lm_head.weight (norm_head off)");
	ok(fd_check(m, &b, &fo, "model.layers.2.attention.dense.weight"), "finite differences: dense, norm_head off");
	train_model_free(m);
}

/* NormHead: the head's gradient is the detached one, d(loss)/d(Wn) / norm, not the true derivative. */
static void test_normhead_detached(void)
{
	struct train_batch b = make_batch();
	struct train_forward_opts fo = TRAIN_FORWARD_OPTS_INIT;
	struct train_loss loss;
	struct ling_err err;
	struct train_model *m = fd_model(1), *plain = fd_model(0);
	const struct train_param *p = train_model_find(m, "lm_head.weight");
	float *w = train_model_data(m), *wp = train_model_data(plain);
	size_t V = 97, H = 64;
	double *norm = xcalloc(H, sizeof(double)), worst = 0;

	/* plain's head = m's head normalised: then plain's gradient / norm is m's detached gradient */
	for (size_t v = 0; v < V; v++)
		for (size_t j = 0; j < H; j++)
			norm[j] += (double)w[p->offset + v * H + j] * w[p->offset + v * H + j];
	for (size_t j = 0; j < H; j++)
		norm[j] = sqrt(norm[j]) + 1e-7;
	for (size_t v = 0; v < V; v++)
		for (size_t j = 0; j < H; j++)
			wp[p->offset + v * H + j] = (float)(w[p->offset + v * H + j] / norm[j]);
	train_model_zero_grad(m);
	train_model_zero_grad(plain);
	train_forward(m, &b, &fo, &loss, &err);
	train_backward(m);
	train_forward(plain, &b, &fo, &loss, &err);
	train_backward(plain);
	for (size_t v = 0; v < V; v++)
		for (size_t j = 0; j < H; j++) {
			size_t i = p->offset + v * H + j;
			double want = train_model_grad(plain)[i] / norm[j], d = fabs(train_model_grad(m)[i] - want);

			worst = d / (fabs(want) + 1e-6) > worst ? d / (fabs(want) + 1e-6) : worst;
		}
	ok(worst < 1e-3, "NormHead's head gradient is the detached one (worst relative difference %.3g)", worst);
	free(norm);
	train_model_free(m);
	train_model_free(plain);
}

/* Results do not depend on the number of threads. */
static void test_threads(void)
{
	struct train_config cfg;
	struct ling_err err;
	struct train_batch b = make_batch();
	struct train_forward_opts fo = TRAIN_FORWARD_OPTS_INIT;
	struct train_loss l1, l3;
	struct train_model *m1, *m3;

	train_config_preset(&cfg, "tiny", &err);
	m1 = train_model_new(&cfg, train_cpu_backend_new(1));
	m3 = train_model_new(&cfg, train_cpu_backend_new(3));
	train_model_init(m1, 5);
	train_model_init(m3, 5);
	train_forward(m1, &b, &fo, &l1, &err);
	train_backward(m1);
	train_forward(m3, &b, &fo, &l3, &err);
	train_backward(m3);
	ok(l1.loss == l3.loss, "the same loss on 1 and 3 threads (%.9g %.9g)", l1.loss, l3.loss);
	ok(!memcmp(train_model_grad(m1), train_model_grad(m3), train_model_size(m1) * sizeof(float)),
	   "the same gradient bits on 1 and 3 threads");
	train_model_free(m1);
	train_model_free(m3);
}

static void test_bad_batch(void)
{
	struct train_config cfg;
	struct ling_err err;
	struct train_batch b = make_batch();
	struct train_forward_opts fo = TRAIN_FORWARD_OPTS_INIT;
	struct train_loss loss;
	struct train_model *m;

	train_config_preset(&cfg, "tiny", &err);
	m = train_model_new(&cfg, train_cpu_backend_new(1));
	batch_tokens[30] = 97;
	is_int(train_forward(m, &b, &fo, &loss, &err), LING_EDATA, "a token id >= vocab");
	is_str(err.msg, "row 1, position 6: token id 97 is not below vocab_size 97", "message");
	batch_tokens[30] = 3;
	batch_docs[40] = 0;
	is_int(train_forward(m, &b, &fo, &loss, &err), LING_EDATA, "a decreasing document index");
	batch_docs[40] = 1;
	b.B = 0;
	is_int(train_forward(m, &b, &fo, &loss, &err), LING_EDATA, "an empty batch");
	b.B = 2;
	m->cfg.max_position_embeddings = 20;
	is_int(train_forward(m, &b, &fo, &loss, &err), LING_EDATA, "rows longer than max_position_embeddings");
	is_str(err.msg, "rows of 24 tokens are longer than max_position_embeddings (20)", "message");
	m->cfg.max_position_embeddings = 512;
	memset(batch_mask, 0, sizeof(batch_mask));
	is_int(train_forward(m, &b, &fo, &loss, &err), 0, "a batch with nothing counted");
	ok(loss.loss == 0 && loss.counted == 0, "has loss 0");
	train_model_free(m);
}

int main(void)
{
	test_config();
	test_layout();
	test_finite_differences();
	test_normhead_detached();
	test_threads();
	test_bad_batch();
	return done_testing();
}
