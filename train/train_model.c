/*
 * train_model: the Bailing MoE model, backend-free (doc/model.md; llm.c's
 * train_gpt2.c is the model of layout). The parameter layout and its names,
 * the order of the layers, and MoE routing live here; every computation is
 * a call into the backend's struct train_ops.
 *
 * Shapes: N = B*T tokens, H hidden, V vocab, D = (nh + 2*nkv)*hd the fused
 * qkv width, E experts, k experts per token, Ie an expert's width, Is = Ie*S
 * the shared expert's width, I the dense MLP's width.
 */
#include "train_internal.h"

#include "../common/ling_mem.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

/* Tensors start on 64-byte boundaries (16 floats), for the vector loads of the backend. */
#define ALIGN_FLOATS 16

/* ---- layout ---- */

struct layout {
	struct train_param *params;
	size_t n, cap, size;
	int slab;
};

static struct train_param *add_param(struct layout *lay, int64_t d0, int64_t d1, const char *fmt, ...)
	LING_PRINTF(4, 5);

static struct train_param *add_param(struct layout *lay, int64_t d0, int64_t d1, const char *fmt, ...)
{
	struct ling_buf name = LING_BUF_INIT;
	struct train_param *p;
	va_list ap;
	char tmp[256];

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	ling_buf_adds(&name, tmp);
	lay->params = xgrow(lay->params, &lay->cap, lay->n + 1, sizeof(*lay->params));
	p = &lay->params[lay->n++];
	p->name = name.data;
	p->slab = lay->slab;
	p->offset = lay->size;
	p->ndim = d1 ? 2 : 1;
	p->shape[0] = d0;
	p->shape[1] = d1;
	p->numel = (size_t)d0 * (size_t)(d1 ? d1 : 1);
	lay->size += (p->numel + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
	return p;
}

/* Indices, not pointers, while the table grows; resolved once it is complete. */
struct layer_idx {
	size_t ln1, qkv, dense, ln2, mlp, router, experts, shared;
};

static void layout_layer(struct layout *lay, const struct train_config *c, int i, struct layer_idx *ix)
{
	int64_t H = c->hidden_size, D = (int64_t)(c->num_attention_heads + 2 * c->num_key_value_heads) * c->head_dim;
	int64_t Ie = c->moe_intermediate_size, Is = Ie * c->num_shared_experts, I = c->intermediate_size;
	const char *pre = "model.layers";

	ix->ln1 = lay->n;
	add_param(lay, H, 0, "%s.%d.input_layernorm.weight", pre, i);
	ix->qkv = lay->n;
	add_param(lay, D, H, "%s.%d.attention.query_key_value.weight", pre, i);
	ix->dense = lay->n;
	add_param(lay, H, (int64_t)c->num_attention_heads * c->head_dim, "%s.%d.attention.dense.weight", pre, i);
	ix->ln2 = lay->n;
	add_param(lay, H, 0, "%s.%d.post_attention_layernorm.weight", pre, i);
	if (!train_config_layer_is_moe(c, i)) {
		ix->mlp = lay->n;
		add_param(lay, I, H, "%s.%d.mlp.gate_proj.weight", pre, i);
		add_param(lay, I, H, "%s.%d.mlp.up_proj.weight", pre, i);
		add_param(lay, H, I, "%s.%d.mlp.down_proj.weight", pre, i);
		return;
	}
	ix->router = lay->n;
	add_param(lay, c->num_experts, H, "%s.%d.mlp.gate.weight", pre, i);
	ix->experts = lay->n;
	for (int e = 0; e < c->num_experts; e++) {
		add_param(lay, Ie, H, "%s.%d.mlp.experts.%d.gate_proj.weight", pre, i, e);
		add_param(lay, Ie, H, "%s.%d.mlp.experts.%d.up_proj.weight", pre, i, e);
		add_param(lay, H, Ie, "%s.%d.mlp.experts.%d.down_proj.weight", pre, i, e);
	}
	ix->shared = lay->n;
	if (Is) {
		add_param(lay, Is, H, "%s.%d.mlp.shared_experts.gate_proj.weight", pre, i);
		add_param(lay, Is, H, "%s.%d.mlp.shared_experts.up_proj.weight", pre, i);
		add_param(lay, H, Is, "%s.%d.mlp.shared_experts.down_proj.weight", pre, i);
	}
}

static void build_layout(struct train_model *m)
{
	const struct train_config *c = &m->cfg;
	struct layout lay = { NULL, 0, 0, 0, 0 };
	struct layer_idx *ix = xcalloc((size_t)c->num_hidden_layers, sizeof(*ix));
	size_t embed, norm;

	m->n_slabs = c->num_hidden_layers + 2;
	m->slab_begin = xcalloc((size_t)m->n_slabs + 1, sizeof(size_t));
	embed = lay.n;
	add_param(&lay, c->vocab_size, c->hidden_size, "model.word_embeddings.weight");
	for (int i = 0; i < c->num_hidden_layers; i++) {
		lay.slab = 1 + i;
		m->slab_begin[lay.slab] = lay.size;
		layout_layer(&lay, c, i, &ix[i]);
	}
	lay.slab = c->num_hidden_layers + 1;
	m->slab_begin[lay.slab] = lay.size;
	norm = lay.n;
	add_param(&lay, c->hidden_size, 0, "model.norm.weight");
	add_param(&lay, c->vocab_size, c->hidden_size, "lm_head.weight");
	m->slab_begin[m->n_slabs] = lay.size;

	m->params = lay.params;
	m->n_params = lay.n;
	m->size = lay.size;
	m->embed = &m->params[embed];
	m->norm = &m->params[norm];
	m->head = &m->params[norm + 1];
	m->layers = xcalloc((size_t)c->num_hidden_layers, sizeof(*m->layers));
	for (int i = 0; i < c->num_hidden_layers; i++) {
		struct train_layer *L = &m->layers[i];

		L->moe = train_config_layer_is_moe(c, i);
		L->ln1 = &m->params[ix[i].ln1];
		L->qkv = &m->params[ix[i].qkv];
		L->dense = &m->params[ix[i].dense];
		L->ln2 = &m->params[ix[i].ln2];
		if (!L->moe) {
			L->mlp_gate = &m->params[ix[i].mlp];
			L->mlp_up = L->mlp_gate + 1;
			L->mlp_down = L->mlp_gate + 2;
			continue;
		}
		L->router = &m->params[ix[i].router];
		L->experts = &m->params[ix[i].experts];
		if (c->num_shared_experts) {
			L->shared_gate = &m->params[ix[i].shared];
			L->shared_up = L->shared_gate + 1;
			L->shared_down = L->shared_gate + 2;
		}
	}
	free(ix);
}

struct train_model *train_model_new(const struct train_config *cfg, struct train_backend *backend)
{
	struct train_model *m = xcalloc(1, sizeof(*m));

	m->cfg = *cfg;
	m->backend = backend;
	m->ops = backend->ops;
	m->ctx = backend->ctx;
	build_layout(m);
	m->data = xcalloc(m->size ? m->size : 1, sizeof(float));
	m->grad = xcalloc(m->size ? m->size : 1, sizeof(float));
	for (int i = 0; i < cfg->num_hidden_layers; i++)
		m->n_moe += m->layers[i].moe;
	m->balance = xcalloc((size_t)m->n_moe + 1, sizeof(double));
	m->z = xcalloc((size_t)m->n_moe + 1, sizeof(double));
	return m;
}

static void free_batch_buffers(struct train_model *m)
{
	for (size_t i = 0; i < m->n_allocs; i++)
		free(m->allocs[i]);
	free(m->allocs);
	m->allocs = NULL;
	m->n_allocs = 0;
	free(m->acts);
	m->acts = NULL;
	m->cap_B = m->cap_T = 0;
}

void train_model_free(struct train_model *m)
{
	if (!m)
		return;
	free_batch_buffers(m);
	for (size_t i = 0; i < m->n_params; i++)
		free(m->params[i].name);
	free(m->params);
	free(m->layers);
	free(m->slab_begin);
	free(m->data);
	free(m->grad);
	free(m->balance);
	free(m->z);
	train_backend_free(m->backend);
	free(m);
}

void train_backend_free(struct train_backend *backend)
{
	if (backend)
		backend->free(backend);
}

const struct train_config *train_model_config(const struct train_model *m)
{
	return &m->cfg;
}

struct train_backend *train_model_backend(struct train_model *m)
{
	return m->backend;
}

int train_model_threads(const struct train_model *m)
{
	return m->backend->threads;
}

const struct train_param *train_model_params(const struct train_model *m, size_t *n)
{
	*n = m->n_params;
	return m->params;
}

const struct train_param *train_model_find(const struct train_model *m, const char *name)
{
	for (size_t i = 0; i < m->n_params; i++)
		if (!strcmp(m->params[i].name, name))
			return &m->params[i];
	return NULL;
}

float *train_model_data(struct train_model *m)
{
	return m->data;
}

float *train_model_grad(struct train_model *m)
{
	return m->grad;
}

size_t train_model_size(const struct train_model *m)
{
	return m->size;
}

int train_model_slabs(const struct train_model *m)
{
	return m->n_slabs;
}

void train_model_slab(const struct train_model *m, int s, size_t *begin, size_t *end)
{
	*begin = m->slab_begin[s];
	*end = m->slab_begin[s + 1];
}

const float *train_model_logits(const struct train_model *m)
{
	return m->logits;
}

void train_model_zero_grad(struct train_model *m)
{
	memset(m->grad, 0, m->size * sizeof(float));
}

/* ---- init ---- */

/* splitmix64: a seeded stream whose bits do not depend on anything else. */
static uint64_t next_u64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A standard normal by Box-Muller, from two uniforms in (0, 1]. */
static double next_normal(uint64_t *s)
{
	double u1 = ((double)(next_u64(s) >> 11) + 1.0) / 9007199254740992.0;
	double u2 = (double)(next_u64(s) >> 11) / 9007199254740992.0;

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static int is_norm_weight(const struct train_param *p)
{
	return p->ndim == 1;
}

void train_model_init(struct train_model *m, uint64_t seed)
{
	uint64_t s = seed;

	for (size_t i = 0; i < m->n_params; i++) {
		const struct train_param *p = &m->params[i];
		float *w = m->data + p->offset;

		for (size_t j = 0; j < p->numel; j++)
			w[j] = is_norm_weight(p) ? 1.0f : (float)(m->cfg.initializer_range * next_normal(&s));
	}
}

/* ---- the linear entry point ---- */

struct train_linear train_linear_of(struct train_model *m, const struct train_param *p)
{
	struct train_linear lin = { p, m->data + p->offset, m->grad + p->offset, (int)p->shape[0], (int)p->shape[1] };

	return lin;
}

void train_linear_forward(struct train_model *m, const struct train_linear *lin, int n, const float *x, float *y,
			  int accumulate)
{
	m->ops->matmul(m->ctx, 0, 1, n, lin->out, lin->in, 1.0f, x, lin->in, lin->w, lin->in, accumulate ? 1.0f : 0.0f, y,
		       lin->out);
}

void train_linear_backward(struct train_model *m, const struct train_linear *lin, int n, const float *x,
			   const float *dy, float *dx, int dx_accumulate)
{
	if (n <= 0)
		return;
	m->ops->matmul(m->ctx, 1, 0, lin->out, lin->in, n, 1.0f, dy, lin->out, x, lin->in, 1.0f, lin->dw, lin->in);
	if (dx)
		m->ops->matmul(m->ctx, 0, 0, n, lin->in, lin->out, 1.0f, dy, lin->out, lin->w, lin->in,
			       dx_accumulate ? 1.0f : 0.0f, dx, lin->in);
}

static void linear_fwd(struct train_model *m, const struct train_param *p, int n, const float *x, float *y,
		       int accumulate)
{
	struct train_linear lin = train_linear_of(m, p);

	train_linear_forward(m, &lin, n, x, y, accumulate);
}

static void linear_bwd(struct train_model *m, const struct train_param *p, int n, const float *x, const float *dy,
		       float *dx, int dx_accumulate)
{
	struct train_linear lin = train_linear_of(m, p);

	train_linear_backward(m, &lin, n, x, dy, dx, dx_accumulate);
}

/* ---- batch buffers ---- */

static void *batch_alloc(struct train_model *m, size_t n, size_t elem)
{
	void *p = xcalloc(n ? n : 1, elem);

	m->allocs = xrealloc(m->allocs, (m->n_allocs + 1) * sizeof(void *));
	m->allocs[m->n_allocs++] = p;
	return p;
}

#define FLOATS(n) ((float *)batch_alloc(m, (size_t)(n), sizeof(float)))
#define INTS(n) ((int32_t *)batch_alloc(m, (size_t)(n), sizeof(int32_t)))

static size_t max_size(size_t a, size_t b)
{
	return a > b ? a : b;
}

/* Allocates what a batch of B x T needs (kept while the shape stays). */
static void alloc_batch(struct train_model *m, int B, int T)
{
	const struct train_config *c = &m->cfg;
	size_t N = (size_t)B * T, H = (size_t)c->hidden_size, V = (size_t)c->vocab_size, k = (size_t)c->num_experts_per_tok;
	size_t D = (size_t)(c->num_attention_heads + 2 * c->num_key_value_heads) * c->head_dim;
	size_t A = (size_t)c->num_attention_heads * c->head_dim, E = (size_t)c->num_experts;
	size_t Ie = (size_t)c->moe_intermediate_size, Is = Ie * (size_t)c->num_shared_experts;
	size_t I = c->first_k_dense_replace ? (size_t)c->intermediate_size : 0, wide = max_size(max_size(I, Is), Ie);

	if (m->cap_B == B && m->cap_T == T)
		return;
	free_batch_buffers(m);
	m->cap_B = B;
	m->cap_T = T;
	m->tokens = INTS(N);
	m->targets = INTS(N);
	m->pos = INTS(N);
	m->doc_start = INTS(N);
	m->acts = xcalloc((size_t)c->num_hidden_layers, sizeof(*m->acts));
	for (int i = 0; i < c->num_hidden_layers; i++) {
		struct train_layer_acts *a = &m->acts[i];
		size_t width = m->layers[i].moe ? Is : I;

		a->x = FLOATS(N * H);
		a->ln1 = FLOATS(N * H);
		a->rstd1 = FLOATS(N);
		a->qkv = FLOATS(N * D);
		a->probs = FLOATS((size_t)B * c->num_attention_heads * T * T);
		a->att = FLOATS(N * A);
		a->h = FLOATS(N * H);
		a->ln2 = FLOATS(N * H);
		a->rstd2 = FLOATS(N);
		a->g = FLOATS(N * width);
		a->u = FLOATS(N * width);
		a->a = FLOATS(N * width);
		if (!m->layers[i].moe)
			continue;
		a->router_p = FLOATS(N * E);
		a->router_lse = FLOATS(N);
		a->top_e = INTS(N * k);
		a->top_w = FLOATS(N * k);
		a->top_sum = FLOATS(N);
		a->perm_tok = INTS(N * k);
		a->slot_pos = INTS(N * k);
		a->expert_off = (int *)INTS(E + 1);
		a->expert_fill = (int *)INTS(E);
		a->f = FLOATS(E);
		a->xp = FLOATS(N * k * H);
		a->gp = FLOATS(N * k * Ie);
		a->up = FLOATS(N * k * Ie);
		a->ap = FLOATS(N * k * Ie);
		a->yp = FLOATS(N * k * H);
	}
	m->resid_out = FLOATS(N * H);
	m->lnf = FLOATS(N * H);
	m->rstdf = FLOATS(N);
	m->logits = FLOATS(N * V);
	m->lse = FLOATS(N);
	m->head_wn = FLOATS(V * H);
	m->head_inv = FLOATS(H);
	m->rope_cos = FLOATS((size_t)T * c->head_dim / 2);
	m->rope_sin = FLOATS((size_t)T * c->head_dim / 2);
	m->d_resid = FLOATS(N * H);
	m->d_ln = FLOATS(N * H);
	m->d_att = FLOATS(N * A);
	m->d_qkv = FLOATS(N * D);
	m->d_g = FLOATS(max_size(N * wide, N * k * Ie));
	m->d_u = FLOATS(max_size(N * wide, N * k * Ie));
	m->d_a = FLOATS(max_size(N * wide, N * k * Ie));
	m->d_xp = FLOATS(N * k * H);
	m->d_yp = FLOATS(N * k * H);
	m->d_w = FLOATS(N * k);
	m->d_router = FLOATS(N * E);
	m->d_head = FLOATS(V * H);
}

/* inv_freq_i = 1 / theta^(2i/hd), angle = pos * inv_freq_i. */
void train_rope_table(const struct train_config *c, int T, float *cos, float *sin)
{
	int half = c->head_dim / 2;

	for (int i = 0; i < half; i++) {
		float inv_freq = 1.0f / powf((float)c->rope_theta, (float)(2 * i) / (float)c->head_dim);

		for (int t = 0; t < T; t++) {
			float angle = (float)t * inv_freq;

			cos[(size_t)t * half + i] = cosf(angle);
			sin[(size_t)t * half + i] = sinf(angle);
		}
	}
}

/* Checks the batch, and fills tokens, targets (-1 where not counted), RoPE positions and document starts. */
static int load_batch(struct train_model *m, const struct train_batch *b, struct ling_err *err)
{
	int T = b->T;

	m->counted = 0;
	for (int r = 0; r < b->B; r++) {
		int start = 0;

		for (int t = 0; t < T; t++) {
			size_t i = (size_t)r * T + t;
			int32_t id = b->tokens[i];

			if (id < 0 || id >= m->cfg.vocab_size)
				return ling_err_set(err, LING_EDATA, "row %d, position %d: token id %d is not below vocab_size %d",
						    r, t, id, m->cfg.vocab_size);
			if (b->mask && b->mask[i] > 1)
				return ling_err_set(err, LING_EDATA, "row %d, position %d: mask value %d is not 0 or 1", r, t,
						    b->mask[i]);
			if (b->docs && t > 0 && b->docs[i] != b->docs[i - 1]) {
				if (b->docs[i] < b->docs[i - 1])
					return ling_err_set(err, LING_EDATA,
							    "row %d, position %d: document index %d decreases (was %d)", r, t,
							    b->docs[i], b->docs[i - 1]);
				start = t;
			}
			m->tokens[i] = id;
			m->doc_start[i] = start;
			m->pos[i] = t - start;
			m->targets[i] = -1;
			if (t > 0 && (!b->mask || b->mask[i])) {
				m->targets[i - 1] = id;
				m->counted++;
			}
		}
	}
	return 0;
}

/* ---- one layer, forward ---- */

void train_attention_in(struct train_model *m, const struct train_layer *L, struct train_layer_acts *a, int n,
			const int32_t *pos, const float *cos, const float *sin)
{
	const struct train_config *c = &m->cfg;
	int H = c->hidden_size, nh = c->num_attention_heads, nkv = c->num_key_value_heads, hd = c->head_dim;
	int D = (nh + 2 * nkv) * hd;

	m->ops->rmsnorm_fwd(m->ctx, a->ln1, a->rstd1, a->x, m->data + L->ln1->offset, n, H, (float)c->rms_norm_eps);
	linear_fwd(m, L->qkv, n, a->ln1, a->qkv, 0);              /* qkv[n,D] */
	m->ops->rope_fwd(m->ctx, a->qkv, D, n, nh + nkv, hd, pos, cos, sin); /* q and k heads */
}

void train_attention_out(struct train_model *m, const struct train_layer *L, struct train_layer_acts *a, int n)
{
	linear_fwd(m, L->dense, n, a->att, a->h, 0); /* h[n,H] */
	m->ops->add(m->ctx, a->h, a->h, a->x, (size_t)n * m->cfg.hidden_size);
}

/* h[N,H] = x + dense(attention(rope(qkv(rmsnorm(x))))) */
static void attention_forward(struct train_model *m, const struct train_layer *L, struct train_layer_acts *a)
{
	const struct train_config *c = &m->cfg;
	int nh = c->num_attention_heads, nkv = c->num_key_value_heads, hd = c->head_dim;

	train_attention_in(m, L, a, m->N, m->pos, m->rope_cos, m->rope_sin);
	m->ops->attention_fwd(m->ctx, a->att, a->probs, a->qkv, m->doc_start, m->B, m->T, nh, nkv, hd); /* att[N,nh*hd] */
	train_attention_out(m, L, a, m->N);
}

/* out[N,H] (+)= down(silu(gate(x)) * up(x)) for x[N,H], gate/up [W,H], down [H,W]; g, u, act [N,W] kept. */
static void swiglu_mlp_forward(struct train_model *m, const struct train_param *gate, const struct train_param *up,
			       const struct train_param *down, int n, const float *x, float *g, float *u, float *act,
			       float *out, int accumulate)
{
	linear_fwd(m, gate, n, x, g, 0);
	linear_fwd(m, up, n, x, u, 0);
	m->ops->swiglu_fwd(m->ctx, act, g, u, (size_t)n * gate->shape[0]);
	linear_fwd(m, down, n, act, out, accumulate);
}

/*
 * Routing (doc/model.md): softmax over all E experts, top-k by probability, the k weights divided by their
 * sum when norm_topk_prob and k > 1. Then the assignments are sorted by expert (stable: token order within
 * an expert), so that each expert is one matrix product over its rows.
 */
static void route(struct train_model *m, const struct train_layer_acts *a, int N)
{
	const struct train_config *c = &m->cfg;
	int E = c->num_experts, k = c->num_experts_per_tok, renorm = k > 1 && c->norm_topk_prob;
	int *fill = a->expert_fill;

	memset(fill, 0, (size_t)E * sizeof(int));
	memset(a->expert_off, 0, (size_t)(E + 1) * sizeof(int));
	for (int t = 0; t < N; t++) {
		const float *p = a->router_p + (size_t)t * E;
		int32_t *top = a->top_e + (size_t)t * k;
		float sum = 0;

		/* Selection by repeated maximum: k is small; ties go to the lower index. */
		for (int s = 0; s < k; s++) {
			int best = -1;

			for (int e = 0; e < E; e++) {
				int taken = 0;

				for (int q = 0; q < s; q++)
					taken |= top[q] == e;
				if (!taken && (best < 0 || p[e] > p[best]))
					best = e;
			}
			top[s] = best;
			sum += p[best];
			a->expert_off[best + 1]++;
		}
		a->top_sum[t] = sum;
		for (int s = 0; s < k; s++)
			a->top_w[(size_t)t * k + s] = renorm ? p[top[s]] / sum : p[top[s]];
	}
	for (int e = 0; e < E; e++)
		a->expert_off[e + 1] += a->expert_off[e];
	for (int t = 0; t < N; t++) {
		for (int s = 0; s < k; s++) {
			int e = a->top_e[(size_t)t * k + s], row = a->expert_off[e] + fill[e]++;

			a->perm_tok[row] = t;
			a->slot_pos[(size_t)t * k + s] = row;
		}
	}
}

/* Balance loss E * sum_i f_i P_i and z-loss mean(lse^2) over all N tokens (TRAIN_SPEC.md). */
static void aux_losses(struct train_model *m, struct train_layer_acts *a, double *balance, double *z)
{
	const struct train_config *c = &m->cfg;
	int N = m->N, E = c->num_experts, k = c->num_experts_per_tok;
	double bal = 0, zz = 0;

	for (int e = 0; e < E; e++) {
		double P = 0;

		for (int t = 0; t < N; t++)
			P += a->router_p[(size_t)t * E + e];
		a->f[e] = (float)(a->expert_off[e + 1] - a->expert_off[e]) / (float)((size_t)N * k);
		bal += a->f[e] * (P / N);
	}
	for (int t = 0; t < N; t++)
		zz += (double)a->router_lse[t] * a->router_lse[t];
	*balance = E * bal;
	*z = zz / N;
}

/*
 * out[N,H] = h + shared(x) + sum over the k chosen experts of w * expert(x), x = rmsnorm(h).
 * Experts run on their rows of xp[N*k,H] (tokens in expert order): one matrix product per expert.
 */
static void moe_forward(struct train_model *m, const struct train_layer *L, struct train_layer_acts *a, int N,
			float *logits, float *out)
{
	const struct train_config *c = &m->cfg;
	int H = c->hidden_size, E = c->num_experts, k = c->num_experts_per_tok, Ie = c->moe_intermediate_size;

	linear_fwd(m, L->router, N, a->ln2, logits, 0);                        /* logits[N,E] */
	m->ops->softmax_fwd(m->ctx, a->router_p, a->router_lse, logits, N, E); /* p[N,E] */
	route(m, a, N);
	m->ops->gather_rows(m->ctx, a->xp, a->ln2, a->perm_tok, N * k, H);   /* xp[N*k,H] */
	for (int e = 0; e < E; e++) {
		int r0 = a->expert_off[e], n = a->expert_off[e + 1] - r0;
		const struct train_param *w = L->experts + 3 * e;

		if (n)
			swiglu_mlp_forward(m, w, w + 1, w + 2, n, a->xp + (size_t)r0 * H, a->gp + (size_t)r0 * Ie,
					   a->up + (size_t)r0 * Ie, a->ap + (size_t)r0 * Ie, a->yp + (size_t)r0 * H, 0);
	}
	if (L->shared_gate)
		swiglu_mlp_forward(m, L->shared_gate, L->shared_up, L->shared_down, N, a->ln2, a->g, a->u, a->a, out, 0);
	else
		memset(out, 0, (size_t)N * H * sizeof(float));
	m->ops->moe_combine(m->ctx, out, a->yp, a->top_w, a->slot_pos, N, k, H);
	m->ops->add(m->ctx, out, out, a->h, (size_t)N * H);
}

void train_mlp_forward(struct train_model *m, const struct train_layer *L, struct train_layer_acts *a, int n,
		       float *router_logits, float *out)
{
	int H = m->cfg.hidden_size;

	m->ops->rmsnorm_fwd(m->ctx, a->ln2, a->rstd2, a->h, m->data + L->ln2->offset, n, H, (float)m->cfg.rms_norm_eps);
	if (L->moe) {
		moe_forward(m, L, a, n, router_logits, out);
	} else {
		swiglu_mlp_forward(m, L->mlp_gate, L->mlp_up, L->mlp_down, n, a->ln2, a->g, a->u, a->a, out, 0);
		m->ops->add(m->ctx, out, out, a->h, (size_t)n * H);
	}
}

/* out[N,H] = layer(x[N,H]) where x is a->x; the pre-norm block h = x + attn(norm(x)), out = h + mlp(norm(h)). */
static void layer_forward(struct train_model *m, int i, float *out, double *balance, double *z)
{
	const struct train_layer *L = &m->layers[i];
	struct train_layer_acts *a = &m->acts[i];

	attention_forward(m, L, a);
	train_mlp_forward(m, L, a, m->N, m->d_router /* free until the backward */, out);
	if (L->moe)
		aux_losses(m, a, balance, z);
}

struct train_linear train_head_linear(struct train_model *m, float *wn, float *inv, float *dwn)
{
	const struct train_config *c = &m->cfg;
	struct train_linear lin = train_linear_of(m, m->head);

	if (c->norm_head) {
		m->ops->colnorm(m->ctx, wn, inv, lin.w, c->vocab_size, c->hidden_size, 1e-7f);
		lin.w = wn;
		lin.dw = dwn;
	}
	return lin;
}

/* logits[N,V] = rmsnorm(x) Wn^T with Wn the NormHead weight (W / column norms) or W. */
static void head_forward(struct train_model *m)
{
	const struct train_config *c = &m->cfg;
	struct train_linear lin;

	m->ops->rmsnorm_fwd(m->ctx, m->lnf, m->rstdf, m->resid_out, m->data + m->norm->offset, m->N, c->hidden_size,
			    (float)c->rms_norm_eps);
	lin = train_head_linear(m, m->head_wn, m->head_inv, m->d_head);
	train_linear_forward(m, &lin, m->N, m->lnf, m->logits, 0);
}

int train_forward(struct train_model *m, const struct train_batch *b, const struct train_forward_opts *opts,
		  struct train_loss *loss, struct ling_err *err)
{
	const struct train_config *c = &m->cfg;
	int rc, moe = 0;

	if (b->B <= 0 || b->T <= 0)
		return ling_err_set(err, LING_EDATA, "empty batch (%d rows of %d tokens)", b->B, b->T);
	if (b->T > c->max_position_embeddings)
		return ling_err_set(err, LING_EDATA, "rows of %d tokens are longer than max_position_embeddings (%d)", b->T,
				    c->max_position_embeddings);
	alloc_batch(m, b->B, b->T);
	m->B = b->B;
	m->T = b->T;
	m->N = b->B * b->T;
	if ((rc = load_batch(m, b, err)))
		return rc;
	train_rope_table(c, b->T, m->rope_cos, m->rope_sin);
	m->aux = opts->aux;
	m->balance_coef = opts->balance_coef;
	m->z_coef = opts->z_coef;

	m->ops->embedding_fwd(m->ctx, m->acts[0].x, m->data + m->embed->offset, m->tokens, m->N, c->hidden_size);
	for (int i = 0; i < c->num_hidden_layers; i++) {
		float *out = i + 1 < c->num_hidden_layers ? m->acts[i + 1].x : m->resid_out;

		layer_forward(m, i, out, &m->balance[moe], &m->z[moe]);
		moe += m->layers[i].moe;
	}
	head_forward(m);

	memset(loss, 0, sizeof(*loss));
	loss->counted = m->counted;
	loss->ce = m->counted ? m->ops->cross_entropy_fwd(m->ctx, m->lse, m->logits, m->targets, m->N, c->vocab_size) /
					(double)m->counted
			      : 0;
	loss->loss = loss->ce;
	loss->n_moe = m->n_moe;
	loss->balance = m->balance;
	loss->z = m->z;
	if (opts->aux)
		for (int i = 0; i < m->n_moe; i++)
			loss->loss += opts->balance_coef * m->balance[i] + opts->z_coef * m->z[i];
	return 0;
}

/* ---- one layer, backward ---- */

/*
 * Backward of a SwiGLU MLP on x[n,H]: given dout[n,H] and the forward's g, u, act [n,W], adds the
 * weights' gradients and writes (or adds, with accumulate) dx[n,H].
 */
static void swiglu_mlp_backward(struct train_model *m, const struct train_param *gate, const struct train_param *up,
				const struct train_param *down, int n, const float *x, const float *g, const float *u,
				const float *act, const float *dout, float *dx, int accumulate)
{
	size_t W = (size_t)gate->shape[0];

	linear_bwd(m, down, n, act, dout, m->d_a, 0);                           /* d_a[n,W] */
	m->ops->swiglu_bwd(m->ctx, m->d_g, m->d_u, m->d_a, g, u, (size_t)n * W); /* d_g, d_u [n,W] */
	linear_bwd(m, gate, n, x, m->d_g, dx, accumulate);
	linear_bwd(m, up, n, x, m->d_u, dx, 1);
}

/*
 * The router's backward: d_w[N*k] (dL/d weight of each slot) back through the top-k renormalisation
 * (w_s = p_s / sum_k p: dp_s = (dw_s - sum_j dw_j w_j) / sum_k p), plus the aux losses' gradients, through
 * the softmax into the router logits d_router[N,E].
 */
static void router_backward(struct train_model *m, const struct train_layer_acts *a)
{
	const struct train_config *c = &m->cfg;
	int N = m->N, E = c->num_experts, k = c->num_experts_per_tok, renorm = k > 1 && c->norm_topk_prob;
	float *dp = m->d_router;

	memset(dp, 0, (size_t)N * E * sizeof(float));
	for (int t = 0; t < N; t++) {
		const float *dw = m->d_w + (size_t)t * k, *w = a->top_w + (size_t)t * k;
		float dot = 0;

		for (int s = 0; s < k; s++)
			dot += dw[s] * w[s];
		for (int s = 0; s < k; s++)
			dp[(size_t)t * E + a->top_e[(size_t)t * k + s]] =
				renorm ? (dw[s] - dot) / a->top_sum[t] : dw[s];
		if (m->aux) /* balance: d/dp_te of coef * E * sum_e f_e * mean_t p_te */
			for (int e = 0; e < E; e++)
				dp[(size_t)t * E + e] += (float)(m->balance_coef * E * a->f[e] / N);
	}
	m->ops->softmax_bwd(m->ctx, dp, dp, a->router_p, N, E);
	if (m->aux) /* z: d/dlogits of coef * mean_t lse_t^2 = coef * 2 lse_t p_t / N */
		for (int t = 0; t < N; t++)
			for (int e = 0; e < E; e++)
				dp[(size_t)t * E + e] +=
					(float)(m->z_coef * 2.0 * a->router_lse[t] / N) * a->router_p[(size_t)t * E + e];
}

/* Given dout[N,H] = dL/d(mlp output), writes d_ln[N,H] = dL/d(rmsnorm(h)) and adds the weights' gradients. */
static void moe_backward(struct train_model *m, const struct train_layer *L, const struct train_layer_acts *a,
			 const float *dout)
{
	const struct train_config *c = &m->cfg;
	int N = m->N, H = c->hidden_size, E = c->num_experts, k = c->num_experts_per_tok, Ie = c->moe_intermediate_size;

	if (L->shared_gate)
		swiglu_mlp_backward(m, L->shared_gate, L->shared_up, L->shared_down, N, a->ln2, a->g, a->u, a->a, dout,
				    m->d_ln, 0);
	else
		memset(m->d_ln, 0, (size_t)N * H * sizeof(float));
	m->ops->moe_combine_bwd(m->ctx, m->d_yp, m->d_w, dout, a->yp, a->top_w, a->slot_pos, N, k, H);
	for (int e = 0; e < E; e++) {
		int r0 = a->expert_off[e], n = a->expert_off[e + 1] - r0;
		const struct train_param *w = L->experts + 3 * e;
		size_t ri = (size_t)r0 * Ie, rh = (size_t)r0 * H;

		if (!n)
			continue;
		linear_bwd(m, w + 2, n, a->ap + ri, m->d_yp + rh, m->d_a + ri, 0);
		m->ops->swiglu_bwd(m->ctx, m->d_g + ri, m->d_u + ri, m->d_a + ri, a->gp + ri, a->up + ri, (size_t)n * Ie);
		linear_bwd(m, w, n, a->xp + rh, m->d_g + ri, m->d_xp + rh, 0);
		linear_bwd(m, w + 1, n, a->xp + rh, m->d_u + ri, m->d_xp + rh, 1);
	}
	m->ops->moe_dispatch_bwd(m->ctx, m->d_ln, m->d_xp, a->slot_pos, N, k, H);
	router_backward(m, a);
	linear_bwd(m, L->router, N, a->ln2, m->d_router, m->d_ln, 1);
}

/* Given d_resid[N,H] = dL/d(layer output), leaves dL/d(layer input) in d_resid and adds the weights' gradients. */
static void layer_backward(struct train_model *m, int i)
{
	const struct train_config *c = &m->cfg;
	const struct train_layer *L = &m->layers[i];
	const struct train_layer_acts *a = &m->acts[i];
	int N = m->N, H = c->hidden_size, nh = c->num_attention_heads, nkv = c->num_key_value_heads, hd = c->head_dim;
	int D = (nh + 2 * nkv) * hd;

	/* MLP block: dh = dout + (through the norm) d mlp */
	if (L->moe)
		moe_backward(m, L, a, m->d_resid);
	else
		swiglu_mlp_backward(m, L->mlp_gate, L->mlp_up, L->mlp_down, N, a->ln2, a->g, a->u, a->a, m->d_resid,
				    m->d_ln, 0);
	m->ops->rmsnorm_bwd(m->ctx, m->d_resid, m->grad + L->ln2->offset, m->d_ln, a->h, m->data + L->ln2->offset,
			    a->rstd2, N, H);
	/* attention block: dx = dh + (through the norm) d attention */
	linear_bwd(m, L->dense, N, a->att, m->d_resid, m->d_att, 0);
	m->ops->attention_bwd(m->ctx, m->d_qkv, m->d_att, a->qkv, a->probs, m->doc_start, m->B, m->T, nh, nkv, hd);
	m->ops->rope_bwd(m->ctx, m->d_qkv, D, N, nh + nkv, hd, m->pos, m->rope_cos, m->rope_sin);
	linear_bwd(m, L->qkv, N, a->ln1, m->d_qkv, m->d_ln, 0);
	m->ops->rmsnorm_bwd(m->ctx, m->d_resid, m->grad + L->ln1->offset, m->d_ln, a->x, m->data + L->ln1->offset,
			    a->rstd1, N, H);
}

/* The head's backward: logits become dlogits in place; leaves dL/d(last layer output) in d_resid. */
static void head_backward(struct train_model *m)
{
	const struct train_config *c = &m->cfg;
	int N = m->N, H = c->hidden_size, V = c->vocab_size;
	struct train_linear lin = train_linear_of(m, m->head);

	m->ops->cross_entropy_bwd(m->ctx, m->logits, m->lse, m->targets, N, V,
				  m->counted ? 1.0f / (float)m->counted : 0.0f);
	if (c->norm_head) {
		/* NormHead's norm is detached: dW = dWn / norm, per column (doc/model.md) */
		memset(m->d_head, 0, (size_t)V * H * sizeof(float));
		lin.w = m->head_wn;
		lin.dw = m->d_head;
	}
	train_linear_backward(m, &lin, N, m->lnf, m->logits, m->d_ln, 0);
	if (c->norm_head)
		m->ops->colnorm_bwd(m->ctx, m->grad + m->head->offset, m->d_head, m->head_inv, V, H);
	memset(m->d_resid, 0, (size_t)N * H * sizeof(float));
	m->ops->rmsnorm_bwd(m->ctx, m->d_resid, m->grad + m->norm->offset, m->d_ln, m->resid_out,
			    m->data + m->norm->offset, m->rstdf, N, H);
}

void train_backward(struct train_model *m)
{
	const struct train_config *c = &m->cfg;

	head_backward(m);
	for (int i = c->num_hidden_layers - 1; i >= 0; i--)
		layer_backward(m, i);
	m->ops->embedding_bwd(m->ctx, m->grad + m->embed->offset, m->d_resid, m->tokens, m->N, c->hidden_size,
			      c->pad_token_id);
}

/* ---- FLOPs ---- */

double train_model_flops(const struct train_config *c, int B, int T)
{
	double H = c->hidden_size, hd = c->head_dim, nh = c->num_attention_heads, nkv = c->num_key_value_heads;
	double per_tok = 2.0 * c->vocab_size * H; /* lm_head */
	double N = (double)B * T;

	for (int i = 0; i < c->num_hidden_layers; i++) {
		per_tok += 2 * H * (nh + 2 * nkv) * hd + 2 * nh * hd * H; /* query_key_value, dense */
		if (train_config_layer_is_moe(c, i))
			per_tok += 2 * H * c->num_experts + 6 * H * c->moe_intermediate_size *
				   (c->num_experts_per_tok + c->num_shared_experts);
		else
			per_tok += 6 * H * c->intermediate_size;
		/* scores and weighted sum over (T+1)/2 keys on average under the causal mask */
		per_tok += 4 * nh * hd * (T + 1) / 2.0;
	}
	return 3 * N * per_tok;
}
