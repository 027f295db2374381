/*
 * train_infer: the model run forward for generation, with a KV cache
 * (train.h, "inference"). The layer order and every computation are
 * train_model.c's (train_attention_in/out, train_mlp_forward,
 * train_head_linear, the linear entry point) on the backend's ops; only
 * the attention reads its keys and values from the cache
 * (attention_kv_fwd) instead of from the batch.
 *
 * Shapes: n new tokens, H hidden, V vocab, D = (nh + 2*nkv)*hd the fused
 * qkv width, KV = nkv*hd the cached width per layer and position.
 */
#include "train_internal.h"

#include "../common/ling_mem.h"

#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

struct train_infer {
	struct train_model *m;
	int max_context, len;
	size_t kv_width;           /* KV */
	float *k, *v;              /* [L, max_context, KV] keys (after RoPE) and values */
	float *rope_cos, *rope_sin; /* [max_context, hd/2] */
	float *head_wn, *head_inv; /* NormHead's weight [V,H] and inverse column norms [H] */
	struct train_linear head;

	/* Rows of one forward (cap of them), reused by every layer: no backward needs them. */
	int cap;
	struct train_layer_acts a;
	float *out;           /* [cap,H] a layer's output, the next one's input */
	float *router_logits; /* [cap,E] */
	float *lnf, *rstdf;   /* [cap,H], [cap] */
	int32_t *pos;         /* [cap] */
};

static size_t max_size(size_t a, size_t b)
{
	return a > b ? a : b;
}

static void free_rows(struct train_infer *s)
{
	struct train_layer_acts *a = &s->a;

	free(a->x);
	free(a->ln1);
	free(a->rstd1);
	free(a->qkv);
	free(a->att);
	free(a->h);
	free(a->ln2);
	free(a->rstd2);
	free(a->g);
	free(a->u);
	free(a->a);
	free(a->router_p);
	free(a->router_lse);
	free(a->top_e);
	free(a->top_w);
	free(a->top_sum);
	free(a->perm_tok);
	free(a->slot_pos);
	free(a->xp);
	free(a->gp);
	free(a->up);
	free(a->ap);
	free(a->yp);
	free(s->out);
	free(s->router_logits);
	free(s->lnf);
	free(s->rstdf);
	free(s->pos);
}

static float *floats(size_t n)
{
	return xmalloc((n ? n : 1) * sizeof(float));
}

static int32_t *ints(size_t n)
{
	return xmalloc((n ? n : 1) * sizeof(int32_t));
}

/* Room for n rows: the buffers grow (at least doubling) only past the largest forward so far. */
static void reserve_rows(struct train_infer *s, int n)
{
	const struct train_config *c = train_model_config(s->m);
	struct train_layer_acts *a = &s->a;
	size_t N, H = (size_t)c->hidden_size, k = (size_t)c->num_experts_per_tok, E = (size_t)c->num_experts;
	size_t D = (size_t)(c->num_attention_heads + 2 * c->num_key_value_heads) * c->head_dim;
	size_t A = (size_t)c->num_attention_heads * c->head_dim, Ie = (size_t)c->moe_intermediate_size;
	size_t wide = max_size(c->first_k_dense_replace ? (size_t)c->intermediate_size : 0,
			       Ie * (size_t)c->num_shared_experts);

	if (n <= s->cap)
		return;
	free_rows(s);
	s->cap = n > 2 * s->cap ? n : 2 * s->cap;
	if (s->cap < 64)
		s->cap = 64;
	if (s->cap > s->max_context)
		s->cap = s->max_context;
	N = (size_t)s->cap;
	a->x = floats(N * H);
	a->ln1 = floats(N * H);
	a->rstd1 = floats(N);
	a->qkv = floats(N * D);
	a->att = floats(N * A);
	a->h = floats(N * H);
	a->ln2 = floats(N * H);
	a->rstd2 = floats(N);
	a->g = floats(N * wide);
	a->u = floats(N * wide);
	a->a = floats(N * wide);
	a->router_p = floats(N * E);
	a->router_lse = floats(N);
	a->top_e = ints(N * k);
	a->top_w = floats(N * k);
	a->top_sum = floats(N);
	a->perm_tok = ints(N * k);
	a->slot_pos = ints(N * k);
	a->xp = floats(N * k * H);
	a->gp = floats(N * k * Ie);
	a->up = floats(N * k * Ie);
	a->ap = floats(N * k * Ie);
	a->yp = floats(N * k * H);
	s->out = floats(N * H);
	s->router_logits = floats(N * E);
	s->lnf = floats(N * H);
	s->rstdf = floats(N);
	s->pos = ints(N);
}

int train_infer_new(struct train_infer **out, struct train_model *m, int max_context, struct ling_err *err)
{
	const struct train_config *c = train_model_config(m);
	struct train_infer *s;
	size_t cached;

	*out = NULL;
	if (max_context < 1 || max_context > c->max_position_embeddings)
		return ling_err_set(err, LING_EUSAGE, "a context of %d tokens is not in [1, max_position_embeddings %d]",
				    max_context, c->max_position_embeddings);
	s = xcalloc(1, sizeof(*s));
	s->m = m;
	s->max_context = max_context;
	s->kv_width = (size_t)c->num_key_value_heads * c->head_dim;
	cached = (size_t)c->num_hidden_layers * (size_t)max_context * s->kv_width;
	s->k = xcalloc(cached ? cached : 1, sizeof(float)); /* pages are touched only as positions fill */
	s->v = xcalloc(cached ? cached : 1, sizeof(float));
	s->rope_cos = floats((size_t)max_context * (c->head_dim / 2));
	s->rope_sin = floats((size_t)max_context * (c->head_dim / 2));
	train_rope_table(c, max_context, s->rope_cos, s->rope_sin);
	if (c->norm_head) {
		s->head_wn = floats((size_t)c->vocab_size * c->hidden_size);
		s->head_inv = floats((size_t)c->hidden_size);
	}
	s->head = train_head_linear(m, s->head_wn, s->head_inv, NULL);
	s->a.expert_off = xcalloc((size_t)c->num_experts + 1, sizeof(int));
	s->a.expert_fill = xcalloc((size_t)c->num_experts + 1, sizeof(int));
	*out = s;
	return 0;
}

void train_infer_free(struct train_infer *s)
{
	if (!s)
		return;
	free_rows(s);
	free(s->a.expert_off);
	free(s->a.expert_fill);
	free(s->k);
	free(s->v);
	free(s->rope_cos);
	free(s->rope_sin);
	free(s->head_wn);
	free(s->head_inv);
	free(s);
}

int train_infer_len(const struct train_infer *s)
{
	return s->len;
}

int train_infer_max_context(const struct train_infer *s)
{
	return s->max_context;
}

void train_infer_truncate(struct train_infer *s, int len)
{
	if (len >= 0 && len < s->len)
		s->len = len;
}

/* The attention block of layer i on the n rows of a: keys and values appended to the cache at s->len. */
static void attention_cached(struct train_infer *s, int i, int n)
{
	struct train_model *m = s->m;
	const struct train_config *c = &m->cfg;
	const struct train_layer *L = &m->layers[i];
	struct train_layer_acts *a = &s->a;
	int nh = c->num_attention_heads, nkv = c->num_key_value_heads, hd = c->head_dim;
	size_t D = (size_t)(nh + 2 * nkv) * hd, KV = s->kv_width, q_width = (size_t)nh * hd;
	float *k = s->k + (size_t)i * s->max_context * KV, *v = s->v + (size_t)i * s->max_context * KV;

	train_attention_in(m, L, a, n, s->pos, s->rope_cos, s->rope_sin); /* qkv[n,D] */
	for (int r = 0; r < n; r++) {
		const float *row = a->qkv + (size_t)r * D;

		memcpy(k + (size_t)(s->len + r) * KV, row + q_width, KV * sizeof(float));
		memcpy(v + (size_t)(s->len + r) * KV, row + q_width + KV, KV * sizeof(float));
	}
	m->ops->attention_kv_fwd(m->ctx, a->att, a->qkv, (int)D, k, v, (int)KV, s->len, n, nh, nkv, hd);
	train_attention_out(m, L, a, n);
}

int train_infer_forward(struct train_infer *s, const int32_t *tokens, int n, float *logits, int all,
			struct ling_err *err)
{
	struct train_model *m = s->m;
	const struct train_config *c = &m->cfg;
	int H = c->hidden_size, first;
	float *x;

	if (n < 1)
		return ling_err_set(err, LING_EDATA, "no tokens to run");
	if (n > s->max_context - s->len)
		return ling_err_set(err, LING_EDATA, "%d more tokens after %d do not fit a context of %d", n, s->len,
				    s->max_context);
	for (int t = 0; t < n; t++)
		if (tokens[t] < 0 || tokens[t] >= c->vocab_size)
			return ling_err_set(err, LING_EDATA, "position %d: token id %d is not below vocab_size %d",
					    s->len + t, tokens[t], c->vocab_size);
	reserve_rows(s, n);
	for (int t = 0; t < n; t++)
		s->pos[t] = s->len + t;
	m->ops->embedding_fwd(m->ctx, s->a.x, m->data + m->embed->offset, tokens, n, H);
	for (int i = 0; i < c->num_hidden_layers; i++) {
		attention_cached(s, i, n);
		train_mlp_forward(m, &m->layers[i], &s->a, n, s->router_logits, s->out);
		x = s->a.x; /* the output is the next layer's input */
		s->a.x = s->out;
		s->out = x;
	}
	s->len += n;
	if (!logits)
		return 0;
	first = all ? 0 : n - 1;
	m->ops->rmsnorm_fwd(m->ctx, s->lnf, s->rstdf, s->a.x + (size_t)first * H, m->data + m->norm->offset, n - first,
			    H, (float)c->rms_norm_eps);
	train_linear_forward(m, &s->head, n - first, s->lnf, logits, 0);
	return 0;
}
