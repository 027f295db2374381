/*
 * train_ops: the one table of operations through which the model computes
 * (ggml's backend interface, llm.c's kernels). train_model.c decides what to
 * compute and in what order; a backend (train/cpu/ OpenBLAS, later
 * train/cuda/) decides how. Every pointer is to the backend's memory, fp32,
 * row-major, rows contiguous unless a leading dimension (ld*) says otherwise.
 *
 * Shapes use: N rows (tokens, B*T), H hidden, V vocab, E experts,
 * nh/nkv heads, hd head dim, D = (nh + 2*nkv)*hd the fused qkv width.
 * "+=" means the op accumulates into its output; "=" overwrites it.
 */
#ifndef TRAIN_OPS_H
#define TRAIN_OPS_H

#include <stddef.h>
#include <stdint.h>

struct train_ops {
	const char *name;

	/*
	 * C[M,N] = alpha * op(A) op(B) + beta * C (BLAS sgemm, row-major).
	 * op(A) is [M,K]: A is [M,K] (lda >= K) or, with trans_a, A is [K,M] (lda >= M).
	 * op(B) is [K,N]: B is [K,N] (ldb >= N) or, with trans_b, B is [N,K] (ldb >= K).
	 * A linear layer y = x W^T is (0, 1); dx = dy W is (0, 0); dW += dy^T x is (1, 0, beta 1).
	 */
	void (*matmul)(void *ctx, int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
		       const float *B, int ldb, float beta, float *C, int ldc);

	/* out[n,H] = table[ids[n], :]. */
	void (*embedding_fwd)(void *ctx, float *out, const float *table, const int32_t *ids, int n, int H);
	/* dtable[ids[i], :] += dout[i, :] for every i whose id is not skip_id (-1: skip none). */
	void (*embedding_bwd)(void *ctx, float *dtable, const float *dout, const int32_t *ids, int n, int H,
			      int skip_id);

	/* RMSNorm: rstd[i] = 1/sqrt(mean_j x[i,j]^2 + eps); out[n,H] = x * rstd * w[H]. */
	void (*rmsnorm_fwd)(void *ctx, float *out, float *rstd, const float *x, const float *w, int n, int H,
			    float eps);
	/* dx[n,H] += d/dx, dw[H] += d/dw of rmsnorm, given dout[n,H] and the forward's x, w, rstd[n]. */
	void (*rmsnorm_bwd)(void *ctx, float *dx, float *dw, const float *dout, const float *x, const float *w,
			    const float *rstd, int n, int H);

	/*
	 * NeoX RoPE in place on the first `heads` heads of each row of x ([n, ld], heads*hd <= ld):
	 * for i < hd/2 the pair (x[i], x[i+hd/2]) of each head turns by angle pos[row] * inv_freq[i];
	 * cos and sin are [max_pos, hd/2] tables. bwd turns the gradient back (the transposed rotation).
	 */
	void (*rope_fwd)(void *ctx, float *x, int ld, int n, int heads, int hd, const int32_t *pos,
			 const float *cos, const float *sin);
	void (*rope_bwd)(void *ctx, float *dx, int ld, int n, int heads, int hd, const int32_t *pos,
			 const float *cos, const float *sin);

	/*
	 * Causal attention with document masks and GQA over qkv[B*T, D] = [q heads | k heads | v heads]
	 * (each head hd contiguous floats; query head h reads kv head h / (nh/nkv)). Row t of batch row b
	 * attends to positions [doc_start[b*T+t], t] of its row. Scores are q.k / sqrt(hd).
	 * out[B*T, nh*hd] = softmax(scores) v; probs[B, nh, T, T] keeps the softmax for the backward (its
	 * entries outside the mask are the backend's business).
	 */
	void (*attention_fwd)(void *ctx, float *out, float *probs, const float *qkv, const int32_t *doc_start, int B,
			      int T, int nh, int nkv, int hd);
	/*
	 * Causal attention of n new positions p0..p0+n-1 of one sequence (one document) over a KV cache,
	 * for inference: q[n, ldq] holds their query heads, k and v [p0+n, ldkv] the key and value heads
	 * of positions 0..p0+n-1 (RoPE applied; head i at column i*hd). Row i attends to positions
	 * [0, p0+i]; out[n, nh*hd]. With p0 = 0 it computes, row for row, what attention_fwd computes
	 * for B = 1 without document breaks (the same products, softmax and blocks).
	 */
	void (*attention_kv_fwd)(void *ctx, float *out, const float *q, int ldq, const float *k, const float *v,
				 int ldkv, int p0, int n, int nh, int nkv, int hd);
	/* dqkv[B*T, D] = d/dqkv given dout[B*T, nh*hd] and the forward's qkv and probs. */
	void (*attention_bwd)(void *ctx, float *dqkv, const float *dout, const float *qkv, const float *probs,
			      const int32_t *doc_start, int B, int T, int nh, int nkv, int hd);

	/* SwiGLU: out[n] = silu(gate[n]) * up[n] (n elements). */
	void (*swiglu_fwd)(void *ctx, float *out, const float *gate, const float *up, size_t n);
	/* dgate[n] = d/dgate, dup[n] = d/dup, given dout[n] and the forward's gate, up. */
	void (*swiglu_bwd)(void *ctx, float *dgate, float *dup, const float *dout, const float *gate, const float *up,
			   size_t n);

	/* y[n] = a[n] + b[n] (y may be a or b). */
	void (*add)(void *ctx, float *y, const float *a, const float *b, size_t n);

	/* Row softmax: p[n,E] = softmax(logits[n,E]), lse[n] = logsumexp of each row. */
	void (*softmax_fwd)(void *ctx, float *p, float *lse, const float *logits, int n, int E);
	/* dlogits[n,E] = p * (dp - sum_j p_j dp_j), row by row (dlogits may be dp). */
	void (*softmax_bwd)(void *ctx, float *dlogits, const float *dp, const float *p, int n, int E);

	/*
	 * Cross-entropy of logits[n,V] against targets[n] (-1 = not counted): lse[n] = logsumexp of
	 * each row; returns the sum over counted rows of lse - logits[target] (in double).
	 */
	double (*cross_entropy_fwd)(void *ctx, float *lse, const float *logits, const int32_t *targets, int n, int V);
	/* In place: logits[n,V] becomes scale * (softmax - onehot(target)) on counted rows, 0 on the others. */
	void (*cross_entropy_bwd)(void *ctx, float *logits, const float *lse, const int32_t *targets, int n, int V,
				  float scale);

	/* NormHead: inv[j] = 1 / (||W[:,j]||_2 + eps) over the V rows of W[V,H]; Wn[V,H] = W * inv (per column). */
	void (*colnorm)(void *ctx, float *Wn, float *inv, const float *W, int V, int H, float eps);
	/* dW[V,H] += dWn * inv (per column): the detached norm's gradient. */
	void (*colnorm_bwd)(void *ctx, float *dW, const float *dWn, const float *inv, int V, int H);

	/* MoE dispatch: out[i, :] = x[rows[i], :] for i < n (x is [*, H]). */
	void (*gather_rows)(void *ctx, float *out, const float *x, const int32_t *rows, int n, int H);
	/*
	 * MoE combine: out[t, :] += sum_s w[t*k+s] * y[pos[t*k+s], :] for t < n, slots s < k, the slots
	 * in order (y is the experts' output [n*k, H] in expert order, pos the place of slot (t,s) in it).
	 */
	void (*moe_combine)(void *ctx, float *out, const float *y, const float *w, const int32_t *pos, int n, int k,
			    int H);
	/* Its backward: dy[pos[t*k+s], :] = w[t*k+s] * dout[t, :]; dw[t*k+s] = dout[t, :] . y[pos[t*k+s], :]. */
	void (*moe_combine_bwd)(void *ctx, float *dy, float *dw, const float *dout, const float *y, const float *w,
				const int32_t *pos, int n, int k, int H);
	/* The dispatch's backward: dx[t, :] += sum_s dxp[pos[t*k+s], :] (slots in order). */
	void (*moe_dispatch_bwd)(void *ctx, float *dx, const float *dxp, const int32_t *pos, int n, int k, int H);
};

/* A backend: its table, its state, and how to free both. */
struct train_backend {
	const struct train_ops *ops;
	void *ctx;
	int threads;
	void (*free)(struct train_backend *backend);
};

#endif
