/*
 * train_config: BailingMoeConfig from an HF config.json (doc/model.md), its
 * presets, its checks and its parameter count.
 */
#include "train.h"

#include "../common/ling_mem.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

/* Sizes far beyond any real model: products of them stay well inside 64 bits. */
#define MAX_DIM (1 << 24)
#define MAX_COUNT 4096

struct preset {
	const char *name;
	struct train_config cfg;
};

/* doc/model.md table; tiny and demo are ours (tiny is the parity test's shape, demo a few M parameters). */
static const struct preset presets[] = {
	{ "ling-lite", { .vocab_size = 126464, .hidden_size = 2048, .num_hidden_layers = 28, .num_attention_heads = 16,
			 .num_key_value_heads = 4, .head_dim = 128, .num_experts = 64, .num_shared_experts = 2,
			 .num_experts_per_tok = 6, .moe_intermediate_size = 1408, .intermediate_size = 5632,
			 .first_k_dense_replace = 0, .norm_topk_prob = 1, .norm_head = 1, .pad_token_id = 126081,
			 .max_position_embeddings = 16384, .rope_theta = 600000, .rms_norm_eps = 1e-6,
			 .initializer_range = 0.006 } },
	{ "ling-lite-1.5", { .vocab_size = 126464, .hidden_size = 2048, .num_hidden_layers = 28,
			     .num_attention_heads = 16, .num_key_value_heads = 4, .head_dim = 128, .num_experts = 64,
			     .num_shared_experts = 2, .num_experts_per_tok = 6, .moe_intermediate_size = 1408,
			     .intermediate_size = 1408, .first_k_dense_replace = 0, .norm_topk_prob = 1,
			     .norm_head = 0, .pad_token_id = 126081, .max_position_embeddings = 32768,
			     .rope_theta = 600000, .rms_norm_eps = 1e-6, .initializer_range = 0.006 } },
	{ "ling-plus", { .vocab_size = 126464, .hidden_size = 5376, .num_hidden_layers = 88, .num_attention_heads = 56,
			 .num_key_value_heads = 8, .head_dim = 96, .num_experts = 64, .num_shared_experts = 1,
			 .num_experts_per_tok = 4, .moe_intermediate_size = 3072, .intermediate_size = 12288,
			 .first_k_dense_replace = 0, .norm_topk_prob = 1, .norm_head = 1, .pad_token_id = 126081,
			 .max_position_embeddings = 16384, .rope_theta = 600000, .rms_norm_eps = 1e-6,
			 .initializer_range = 0.006 } },
	{ "tiny", { .vocab_size = 97, .hidden_size = 64, .num_hidden_layers = 3, .num_attention_heads = 4,
		    .num_key_value_heads = 2, .head_dim = 16, .num_experts = 8, .num_shared_experts = 1,
		    .num_experts_per_tok = 2, .moe_intermediate_size = 32, .intermediate_size = 96,
		    .first_k_dense_replace = 1, .norm_topk_prob = 1, .norm_head = 1, .pad_token_id = 0,
		    .max_position_embeddings = 512, .rope_theta = 10000, .rms_norm_eps = 1e-6,
		    .initializer_range = 0.02 } },
	{ "demo", { .vocab_size = 4096, .hidden_size = 256, .num_hidden_layers = 4, .num_attention_heads = 4,
		    .num_key_value_heads = 2, .head_dim = 64, .num_experts = 8, .num_shared_experts = 1,
		    .num_experts_per_tok = 2, .moe_intermediate_size = 256, .intermediate_size = 768,
		    .first_k_dense_replace = 1, .norm_topk_prob = 1, .norm_head = 1, .pad_token_id = 0,
		    .max_position_embeddings = 2048, .rope_theta = 10000, .rms_norm_eps = 1e-6,
		    .initializer_range = 0.02 } },
};

const char *train_config_preset_names(void)
{
	return "ling-lite, ling-lite-1.5, ling-plus, tiny, demo";
}

int train_config_preset(struct train_config *cfg, const char *name, struct ling_err *err)
{
	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++) {
		if (!strcmp(presets[i].name, name)) {
			*cfg = presets[i].cfg;
			return 0;
		}
	}
	return ling_err_set(err, LING_EUSAGE, "unknown preset '%s' (presets: %s)", name, train_config_preset_names());
}

/* ---- reading ---- */

/* The value under key or its alias, NULL when absent or null (HF treats null as unset). */
static json_t *lookup(json_t *root, const char *key, const char *alias, const char **found)
{
	json_t *v = json_object_get(root, key);

	*found = key;
	if ((!v || json_is_null(v)) && alias) {
		v = json_object_get(root, alias);
		*found = alias;
	}
	if (v && json_is_null(v))
		v = NULL;
	if (!v)
		*found = key;
	return v;
}

static int get_int(json_t *root, const char *key, const char *alias, int required, int dflt, int *out,
		   const char *name, struct ling_err *err)
{
	const char *k;
	json_t *v = lookup(root, key, alias, &k);
	json_int_t x;

	if (!v) {
		if (required)
			return ling_err_at(err, LING_EDATA, name, 0, 0, "missing key %s", key);
		*out = dflt;
		return 0;
	}
	if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) && fabs(json_real_value(v)) < 1e9)
		x = (json_int_t)json_real_value(v);
	else if (!json_is_integer(v))
		return ling_err_at(err, LING_EDATA, name, 0, 0, "%s must be an integer", k);
	else
		x = json_integer_value(v);
	if (x < INT_MIN || x > INT_MAX)
		return ling_err_at(err, LING_EDATA, name, 0, 0, "%s (%lld) is out of range", k, (long long)x);
	*out = (int)x;
	return 0;
}

static int get_double(json_t *root, const char *key, double dflt, double *out, const char *name,
		      struct ling_err *err)
{
	const char *k;
	json_t *v = lookup(root, key, NULL, &k);

	if (!v) {
		*out = dflt;
		return 0;
	}
	if (!json_is_number(v))
		return ling_err_at(err, LING_EDATA, name, 0, 0, "%s must be a number", key);
	*out = json_number_value(v);
	return 0;
}

static int get_bool(json_t *root, const char *key, int dflt, int *out, const char *name, struct ling_err *err)
{
	const char *k;
	json_t *v = lookup(root, key, NULL, &k);

	if (!v) {
		*out = dflt;
		return 0;
	}
	if (!json_is_boolean(v))
		return ling_err_at(err, LING_EDATA, name, 0, 0, "%s must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

/* What we do not implement yet is refused, not ignored: the model would silently differ from HF's. */
static int refuse_unsupported(json_t *root, const char *name, struct ling_err *err)
{
	const char *k;
	json_t *v;
	int b;
	int rc;

	if ((v = lookup(root, "model_type", NULL, &k)) &&
	    (!json_is_string(v) || strcmp(json_string_value(v), "bailing_moe")))
		return ling_err_at(err, LING_EDATA, name, 0, 0, "model_type must be \"bailing_moe\"");
	if ((v = lookup(root, "hidden_act", NULL, &k)) && (!json_is_string(v) || strcmp(json_string_value(v), "silu")))
		return ling_err_at(err, LING_EDATA, name, 0, 0, "hidden_act: only \"silu\" is supported");
	if (lookup(root, "rope_scaling", NULL, &k))
		return ling_err_at(err, LING_EDATA, name, 0, 0, "rope_scaling is not supported yet (must be null)");
	/* HF's default for use_bias is true (it adds attention.dense.bias), so an absent key means true. */
	if ((rc = get_bool(root, "use_bias", 1, &b, name, err)))
		return rc;
	if (b)
		return ling_err_at(err, LING_EDATA, name, 0, 0,
				   "use_bias true is not supported yet (HF's default when the key is absent: set it false)");
	if ((rc = get_bool(root, "use_qkv_bias", 0, &b, name, err)))
		return rc;
	if (b)
		return ling_err_at(err, LING_EDATA, name, 0, 0, "use_qkv_bias true is not supported yet");
	if ((rc = get_bool(root, "tie_word_embeddings", 0, &b, name, err)))
		return rc;
	if (b)
		return ling_err_at(err, LING_EDATA, name, 0, 0, "tie_word_embeddings true is not supported yet");
	return 0;
}

static int read_keys(struct train_config *c, json_t *root, const char *name, struct ling_err *err)
{
	int rc = 0;

	(void)((rc = get_int(root, "vocab_size", NULL, 1, 0, &c->vocab_size, name, err)) ||
		(rc = get_int(root, "hidden_size", NULL, 1, 0, &c->hidden_size, name, err)) ||
		(rc = get_int(root, "num_hidden_layers", NULL, 1, 0, &c->num_hidden_layers, name, err)) ||
		(rc = get_int(root, "num_attention_heads", NULL, 1, 0, &c->num_attention_heads, name, err)) ||
		(rc = get_int(root, "num_key_value_heads", NULL, 1, 0, &c->num_key_value_heads, name, err)) ||
		(rc = get_int(root, "head_dim", NULL, 0, 0, &c->head_dim, name, err)) ||
		(rc = get_int(root, "num_experts", "n_routed_experts", 1, 0, &c->num_experts, name, err)) ||
		(rc = get_int(root, "num_shared_experts", "n_shared_experts", 0, 0, &c->num_shared_experts, name,
			      err)) ||
		(rc = get_int(root, "num_experts_per_tok", NULL, 1, 0, &c->num_experts_per_tok, name, err)) ||
		(rc = get_int(root, "moe_intermediate_size", NULL, 1, 0, &c->moe_intermediate_size, name, err)) ||
		(rc = get_int(root, "first_k_dense_replace", NULL, 0, 0, &c->first_k_dense_replace, name, err)) ||
		(rc = get_int(root, "intermediate_size", NULL, c->first_k_dense_replace > 0, 0, &c->intermediate_size,
			      name, err)) ||
		(rc = get_int(root, "pad_token_id", NULL, 0, -1, &c->pad_token_id, name, err)) ||
		(rc = get_int(root, "max_position_embeddings", NULL, 0, 16384, &c->max_position_embeddings, name,
			      err)) ||
		(rc = get_bool(root, "norm_topk_prob", 1, &c->norm_topk_prob, name, err)) ||
		(rc = get_bool(root, "norm_head", 0, &c->norm_head, name, err)) ||
		(rc = get_double(root, "rope_theta", 10000, &c->rope_theta, name, err)) ||
		(rc = get_double(root, "rms_norm_eps", 1e-5, &c->rms_norm_eps, name, err)) ||
		(rc = get_double(root, "initializer_range", 0.02, &c->initializer_range, name, err)));
	return rc;
}

int train_config_parse(struct train_config *cfg, const char *text, size_t len, const char *name,
		       struct ling_err *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	struct train_config c;
	int rc;

	memset(&c, 0, sizeof(c));
	if (!root)
		return ling_err_at(err, LING_EDATA, name, jerr.line, jerr.column, "not JSON: %s", jerr.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return ling_err_at(err, LING_EDATA, name, 0, 0, "not a JSON object");
	}
	rc = refuse_unsupported(root, name, err);
	if (!rc)
		rc = read_keys(&c, root, name, err);
	/* HF: head_dim = config.head_dim or hidden_size // num_attention_heads */
	if (!rc && c.head_dim == 0 && c.num_attention_heads > 0 && c.hidden_size > 0) {
		if (c.hidden_size % c.num_attention_heads) {
			rc = ling_err_at(err, LING_EDATA, name, 0, 0,
					 "num_attention_heads (%d) does not divide hidden_size (%d)",
					 c.num_attention_heads, c.hidden_size);
		}
		c.head_dim = c.hidden_size / c.num_attention_heads;
	}
	json_decref(root);
	if (!rc)
		rc = train_config_check(&c, name, err);
	if (!rc)
		*cfg = c;
	return rc;
}

int train_config_load(struct train_config *cfg, const char *path, struct ling_err *err)
{
	FILE *f = fopen(path, "rb");
	struct ling_buf text = LING_BUF_INIT;
	char chunk[65536];
	size_t n;
	int rc;

	if (!f)
		return ling_err_at(err, LING_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		ling_buf_add(&text, chunk, n);
		if (text.len > (64u << 20)) {
			fclose(f);
			ling_buf_release(&text);
			return ling_err_at(err, LING_EDATA, path, 0, 0, "too large for a config.json");
		}
	}
	if (ferror(f)) {
		fclose(f);
		ling_buf_release(&text);
		return ling_err_at(err, LING_EIO, path, 0, 0, "cannot read: %s", strerror(errno));
	}
	fclose(f);
	rc = train_config_parse(cfg, text.data ? text.data : "", text.len, path, err);
	ling_buf_release(&text);
	return rc;
}

/* ---- checks ---- */

static int check_range(long long v, long long lo, long long hi, const char *key, const char *name,
		       struct ling_err *err)
{
	if (v < lo || v > hi)
		return ling_err_at(err, LING_EDATA, name, 0, 0, "%s (%lld) must be in [%lld, %lld]", key, v, lo, hi);
	return 0;
}

int train_config_check(const struct train_config *c, const char *name, struct ling_err *err)
{
	int rc = 0;

	if ((rc = check_range(c->vocab_size, 1, MAX_DIM, "vocab_size", name, err)) ||
	    (rc = check_range(c->hidden_size, 1, MAX_DIM, "hidden_size", name, err)) ||
	    (rc = check_range(c->num_hidden_layers, 1, MAX_COUNT, "num_hidden_layers", name, err)) ||
	    (rc = check_range(c->num_attention_heads, 1, MAX_COUNT, "num_attention_heads", name, err)) ||
	    (rc = check_range(c->num_key_value_heads, 1, MAX_COUNT, "num_key_value_heads", name, err)) ||
	    (rc = check_range(c->head_dim, 2, 1 << 16, "head_dim", name, err)) ||
	    (rc = check_range(c->num_experts, 1, MAX_COUNT, "num_experts", name, err)) ||
	    (rc = check_range(c->num_shared_experts, 0, MAX_COUNT, "num_shared_experts", name, err)) ||
	    (rc = check_range(c->num_experts_per_tok, 1, MAX_COUNT, "num_experts_per_tok", name, err)) ||
	    (rc = check_range(c->moe_intermediate_size, 1, MAX_DIM, "moe_intermediate_size", name, err)) ||
	    (rc = check_range(c->first_k_dense_replace, 0, c->num_hidden_layers, "first_k_dense_replace", name,
			      err)) ||
	    (rc = check_range(c->max_position_embeddings, 1, MAX_DIM, "max_position_embeddings", name, err)) ||
	    (rc = check_range(c->pad_token_id, -1, c->vocab_size - 1, "pad_token_id", name, err)))
		return rc;
	if (c->first_k_dense_replace > 0 &&
	    (rc = check_range(c->intermediate_size, 1, MAX_DIM, "intermediate_size", name, err)))
		return rc;
	if (c->num_attention_heads % c->num_key_value_heads)
		return ling_err_at(err, LING_EDATA, name, 0, 0,
				   "num_key_value_heads (%d) does not divide num_attention_heads (%d)",
				   c->num_key_value_heads, c->num_attention_heads);
	if (c->head_dim % 2)
		return ling_err_at(err, LING_EDATA, name, 0, 0, "head_dim (%d) must be even for RoPE", c->head_dim);
	if (c->num_experts_per_tok > c->num_experts)
		return ling_err_at(err, LING_EDATA, name, 0, 0, "num_experts_per_tok (%d) is more than num_experts (%d)",
				   c->num_experts_per_tok, c->num_experts);
	if ((long long)c->moe_intermediate_size * (c->num_shared_experts ? c->num_shared_experts : 1) > MAX_DIM)
		return ling_err_at(err, LING_EDATA, name, 0, 0, "moe_intermediate_size * num_shared_experts is too large");
	if ((long long)(c->num_attention_heads + 2 * c->num_key_value_heads) * c->head_dim > MAX_DIM)
		return ling_err_at(err, LING_EDATA, name, 0, 0, "heads * head_dim is too large");
	if (!(c->rms_norm_eps > 0 && c->rms_norm_eps < 1))
		return ling_err_at(err, LING_EDATA, name, 0, 0, "rms_norm_eps (%g) must be in (0, 1)", c->rms_norm_eps);
	if (!(c->rope_theta > 1 && isfinite(c->rope_theta)))
		return ling_err_at(err, LING_EDATA, name, 0, 0, "rope_theta (%g) must be more than 1", c->rope_theta);
	if (!(c->initializer_range >= 0 && c->initializer_range < 10))
		return ling_err_at(err, LING_EDATA, name, 0, 0, "initializer_range (%g) must be in [0, 10)",
				   c->initializer_range);
	return 0;
}

int train_config_layer_is_moe(const struct train_config *cfg, int layer)
{
	return layer >= cfg->first_k_dense_replace;
}

/* doc/model.md: total = 2VH + H + sum over layers of (attention + MLP + 2H). */
struct train_param_count train_config_count(const struct train_config *c)
{
	uint64_t H = (uint64_t)c->hidden_size, V = (uint64_t)c->vocab_size, hd = (uint64_t)c->head_dim;
	uint64_t attn = H * hd * (uint64_t)(c->num_attention_heads + 2 * c->num_key_value_heads) +
			H * hd * (uint64_t)c->num_attention_heads;
	uint64_t expert = 3 * H * (uint64_t)c->moe_intermediate_size;
	uint64_t shared = expert * (uint64_t)c->num_shared_experts, router = (uint64_t)c->num_experts * H;
	struct train_param_count n = { 2 * V * H + H, 2 * V * H + H };

	for (int i = 0; i < c->num_hidden_layers; i++) {
		n.total += attn + 2 * H;
		n.active += attn + 2 * H;
		if (train_config_layer_is_moe(c, i)) {
			n.total += (uint64_t)c->num_experts * expert + shared + router;
			n.active += (uint64_t)c->num_experts_per_tok * expert + shared + router;
		} else {
			n.total += 3 * H * (uint64_t)c->intermediate_size;
			n.active += 3 * H * (uint64_t)c->intermediate_size;
		}
	}
	return n;
}

/* ---- writing ---- */

/* A double as JSON that reads back as the same double and stays a float in Python ("1e-06", "10000.0"). */
static void add_real(struct ling_buf *out, double v)
{
	char s[64];

	snprintf(s, sizeof(s), "%.15g", v);
	if (strtod(s, NULL) != v)
		snprintf(s, sizeof(s), "%.17g", v);
	ling_buf_adds(out, s);
	if (!strpbrk(s, ".eEn"))
		ling_buf_adds(out, ".0");
}

void train_config_to_json(const struct train_config *c, const char *dtype_name, struct ling_buf *out)
{
	ling_buf_adds(out, "{\n  \"architectures\": [\"BailingMoeForCausalLM\"],\n  \"model_type\": \"bailing_moe\",\n");
	ling_buf_addf(out, "  \"vocab_size\": %d,\n  \"hidden_size\": %d,\n  \"num_hidden_layers\": %d,\n",
		      c->vocab_size, c->hidden_size, c->num_hidden_layers);
	ling_buf_addf(out, "  \"num_attention_heads\": %d,\n  \"num_key_value_heads\": %d,\n  \"head_dim\": %d,\n",
		      c->num_attention_heads, c->num_key_value_heads, c->head_dim);
	ling_buf_addf(out, "  \"num_experts\": %d,\n  \"num_shared_experts\": %d,\n  \"num_experts_per_tok\": %d,\n",
		      c->num_experts, c->num_shared_experts, c->num_experts_per_tok);
	ling_buf_addf(out, "  \"moe_intermediate_size\": %d,\n  \"intermediate_size\": %d,\n", c->moe_intermediate_size,
		      c->intermediate_size);
	ling_buf_addf(out, "  \"first_k_dense_replace\": %d,\n  \"norm_topk_prob\": %s,\n  \"norm_head\": %s,\n",
		      c->first_k_dense_replace, c->norm_topk_prob ? "true" : "false", c->norm_head ? "true" : "false");
	ling_buf_adds(out, "  \"hidden_act\": \"silu\",\n  \"rms_norm_eps\": ");
	add_real(out, c->rms_norm_eps);
	ling_buf_adds(out, ",\n  \"rope_theta\": ");
	add_real(out, c->rope_theta);
	ling_buf_adds(out, ",\n  \"rope_scaling\": null,\n  \"initializer_range\": ");
	add_real(out, c->initializer_range);
	ling_buf_addf(out, ",\n  \"max_position_embeddings\": %d,\n", c->max_position_embeddings);
	if (c->pad_token_id >= 0)
		ling_buf_addf(out, "  \"pad_token_id\": %d,\n", c->pad_token_id);
	else
		ling_buf_adds(out, "  \"pad_token_id\": null,\n");
	ling_buf_adds(out, "  \"tie_word_embeddings\": false,\n  \"use_bias\": false,\n  \"use_qkv_bias\": false,\n"
			   "  \"attention_dropout\": 0.0,\n  \"embedding_dropout\": 0.0,\n  \"output_dropout\": 0.0,\n"
			   "  \"use_cache\": true,\n");
	ling_buf_addf(out, "  \"torch_dtype\": \"%s\"\n}\n", dtype_name);
}
