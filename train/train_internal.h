/*
 * train_internal: what the files of train/ share and the tools do not see:
 * the model's struct, and the one entry point of every linear layer.
 */
#ifndef TRAIN_INTERNAL_H
#define TRAIN_INTERNAL_H

#include "train.h"
#include "train_ops.h"

/* A layer's tensors (pointers into the model's param table). Dense layers use mlp_*, MoE layers the rest. */
struct train_layer {
	int moe;
	const struct train_param *ln1, *qkv, *dense, *ln2;
	const struct train_param *mlp_gate, *mlp_up, *mlp_down;
	const struct train_param *router;
	const struct train_param *experts; /* 3*E: expert e's gate, up, down at 3e, 3e+1, 3e+2 */
	const struct train_param *shared_gate, *shared_up, *shared_down; /* NULL without shared experts */
};

/* What a layer's forward keeps for its backward (N = B*T tokens, k = experts per token). */
struct train_layer_acts {
	float *x;          /* [N,H] the layer's input (the residual stream) */
	float *ln1, *rstd1; /* [N,H], [N] */
	float *qkv;        /* [N,D] after RoPE on q and k */
	float *probs;      /* [B,nh,T,T] attention softmax (backend layout) */
	float *att;        /* [N,nh*hd] attention output before dense */
	float *h;          /* [N,H] x + attention */
	float *ln2, *rstd2; /* [N,H], [N] */
	float *g, *u, *a;  /* [N,I] dense MLP, or [N,Ie*S] the shared expert: gate, up, silu(gate)*up */
	/* MoE routing */
	float *router_p;   /* [N,E] softmax of the router logits */
	float *router_lse; /* [N] logsumexp of the router logits */
	int32_t *top_e;    /* [N*k] chosen experts, by descending probability */
	float *top_w;      /* [N*k] their weights (renormalised when norm_topk_prob and k > 1) */
	float *top_sum;    /* [N] sum of the chosen probabilities */
	int32_t *perm_tok; /* [N*k] the token of each row of the expert order */
	int32_t *slot_pos; /* [N*k] the row of slot (t,s) in the expert order */
	int *expert_off;   /* [E+1] expert e has rows [off[e], off[e+1]) */
	int *expert_fill;  /* [E] routing's scratch: rows given to each expert so far */
	float *f;          /* [E] fraction of assignments per expert (balance loss, constant) */
	float *xp;         /* [N*k,H] the tokens in expert order */
	float *gp, *up, *ap; /* [N*k,Ie] expert gate, up, swiglu */
	float *yp;         /* [N*k,H] expert outputs in expert order */
};

struct train_model {
	struct train_config cfg;
	struct train_backend *backend;
	const struct train_ops *ops;
	void *ctx;

	struct train_param *params;
	size_t n_params;
	float *data, *grad;
	size_t size;
	int n_slabs;
	size_t *slab_begin; /* [n_slabs + 1] */
	struct train_layer *layers;
	const struct train_param *embed, *norm, *head;

	/* The batch of the last forward (N = B*T). */
	int B, T, N, cap_B, cap_T;
	int32_t *tokens, *targets, *pos, *doc_start;
	struct train_layer_acts *acts;
	float *resid_out;          /* [N,H] the last layer's output */
	float *lnf, *rstdf;        /* [N,H], [N] final norm */
	float *logits, *lse;       /* [N,V], [N] */
	float *head_wn, *head_inv; /* [V,H] the NormHead weight, [H] its inverse column norms */
	float *rope_cos, *rope_sin; /* [T, hd/2] */
	int aux;
	double balance_coef, z_coef;
	long long counted;
	double *balance, *z;       /* [n_moe] */
	int n_moe;

	/* Backward scratch. */
	float *d_resid, *d_ln, *d_att, *d_qkv, *d_g, *d_u, *d_a, *d_xp, *d_yp, *d_w, *d_router, *d_head;

	void **allocs; /* what the batch buffers took, freed on the next shape change */
	size_t n_allocs;
};

/*
 * A linear layer y = x W^T with W [out, in]: the parameter, and the weight and gradient it uses
 * (the parameter's own, or for NormHead the normalised copy and its gradient).
 */
struct train_linear {
	const struct train_param *param;
	const float *w;
	float *dw;
	int out, in;
};

/* The linear of a parameter [out, in] with its own weight and gradient. */
struct train_linear train_linear_of(struct train_model *m, const struct train_param *p);

/*
 * Every linear layer of the model runs through these two (so that LoRA can wrap them).
 * forward: y[n,out] = x[n,in] W^T, or += with accumulate.
 * backward: dW[out,in] += dy^T x; dx[n,in] = dy W, or += with dx_accumulate (dx NULL: skipped).
 */
void train_linear_forward(struct train_model *m, const struct train_linear *lin, int n, const float *x, float *y,
			  int accumulate);
void train_linear_backward(struct train_model *m, const struct train_linear *lin, int n, const float *x,
			   const float *dy, float *dx, int dx_accumulate);

/*
 * The pieces of a layer's forward that training (train_forward) and inference with a KV cache
 * (train_infer.c) both run, so that both compute the same numbers. Each works on n rows of a.
 */

/* RoPE tables as HF builds them, in fp32, for positions [0, T): cos and sin [T, hd/2]. */
void train_rope_table(const struct train_config *c, int T, float *cos, float *sin);

/* a->qkv[n,D] = rope(qkv(rmsnorm(a->x))) at positions pos[n] (a->ln1, a->rstd1 kept). */
void train_attention_in(struct train_model *m, const struct train_layer *L, struct train_layer_acts *a, int n,
			const int32_t *pos, const float *cos, const float *sin);

/* a->h[n,H] = a->x + dense(a->att). */
void train_attention_out(struct train_model *m, const struct train_layer *L, struct train_layer_acts *a, int n);

/*
 * out[n,H] = a->h + mlp(rmsnorm(a->h)): the dense SwiGLU MLP, or the MoE block (router logits into
 * router_logits[n,E], routing, the experts on their rows, the shared expert, the weighted sum).
 */
void train_mlp_forward(struct train_model *m, const struct train_layer *L, struct train_layer_acts *a, int n,
		       float *router_logits, float *out);

/*
 * The head as a linear layer: W, or with NormHead W / its column norms, computed into wn[V,H] and
 * inv[H] (dwn[V,H] is then its gradient buffer; may be NULL when no backward follows).
 */
struct train_linear train_head_linear(struct train_model *m, float *wn, float *inv, float *dwn);

#endif
