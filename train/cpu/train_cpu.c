/*
 * train_cpu: struct train_ops on the CPU. Matrix products are OpenBLAS
 * sgemm, run single-threaded per call and split across common/'s thread pool
 * (one threading system, not two fighting over two cores); everything else
 * is plain loops over rows on the same pool. Reductions over rows (norm
 * weight gradients, loss sums) are summed per fixed chunk and then in chunk
 * order, and matrix products are cut by their shape alone, so results do not
 * depend on the number of threads.
 */
#include "../train.h"
#include "../train_ops.h"

#include "../../common/ling_clock.h"
#include "../../common/ling_mem.h"
#include "../../common/ling_pool.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/banned.h"

/* Rows per chunk of the row-wise ops: enough work per hand-off, fixed so that sums do not depend on threads. */
#define ROW_GRAIN 32
/* Query rows per attention block: the causal mask lets each block skip the keys after it. */
#define ATT_BLOCK 64

struct cpu {
	struct ling_pool *pool;
	int threads;
	float *scratch; /* per-chunk partial sums and attention blocks */
	size_t scratch_cap;
};

static float *scratch(struct cpu *c, size_t n)
{
	if (n > c->scratch_cap) {
		free(c->scratch);
		c->scratch = xmalloc(n * sizeof(float));
		c->scratch_cap = n;
	}
	return c->scratch;
}

/* ---- matmul ---- */

struct mm_job {
	int trans_a, trans_b, M, N, K, lda, ldb, ldc, split_rows, step;
	float alpha, beta;
	const float *A, *B;
	float *C;
};

static void mm_body(void *arg, size_t begin, size_t end, size_t chunk)
{
	const struct mm_job *j = arg;
	int lo = (int)begin * j->step, hi = (int)end * j->step;

	(void)chunk;
	if (j->split_rows) {
		if (hi > j->M)
			hi = j->M;
		cblas_sgemm(CblasRowMajor, j->trans_a ? CblasTrans : CblasNoTrans, j->trans_b ? CblasTrans : CblasNoTrans,
			    hi - lo, j->N, j->K, j->alpha, j->trans_a ? j->A + lo : j->A + (size_t)lo * j->lda, j->lda,
			    j->B, j->ldb, j->beta, j->C + (size_t)lo * j->ldc, j->ldc);
	} else {
		if (hi > j->N)
			hi = j->N;
		cblas_sgemm(CblasRowMajor, j->trans_a ? CblasTrans : CblasNoTrans, j->trans_b ? CblasTrans : CblasNoTrans,
			    j->M, hi - lo, j->K, j->alpha, j->A, j->lda, j->trans_b ? j->B + (size_t)lo * j->ldb : j->B + lo,
			    j->ldb, j->beta, j->C + lo, j->ldc);
	}
}

/*
 * One row of C (a decoding step): c = alpha * op(B)^T a + beta * c as sgemv over the columns [lo, hi), which
 * reads B once where sgemm would first copy all of it into its packed layout.
 */
static void mv_body(void *arg, size_t begin, size_t end, size_t chunk)
{
	const struct mm_job *j = arg;
	int lo = (int)begin * j->step, hi = (int)end * j->step, inc_a = j->trans_a ? j->lda : 1;

	(void)chunk;
	if (hi > j->N)
		hi = j->N;
	if (j->trans_b) /* B is [N,K]: c[lo..hi) = B[lo..hi) a */
		cblas_sgemv(CblasRowMajor, CblasNoTrans, hi - lo, j->K, j->alpha, j->B + (size_t)lo * j->ldb, j->ldb, j->A,
			    inc_a, j->beta, j->C + lo, 1);
	else /* B is [K,N]: c[lo..hi) = B[:, lo..hi)^T a */
		cblas_sgemv(CblasRowMajor, CblasTrans, j->K, hi - lo, j->alpha, j->B + lo, j->ldb, j->A, inc_a, j->beta,
			    j->C + lo, 1);
}

static void cpu_matmul(void *ctx, int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
		       const float *B, int ldb, float beta, float *C, int ldc)
{
	struct cpu *c = ctx;
	struct mm_job j = { trans_a, trans_b, M, N, K, lda, ldb, ldc, M >= N, 0, alpha, beta, A, B, C };
	int span = j.split_rows ? M : N;

	if (M <= 0 || N <= 0)
		return;
	if (M == 1 && K > 0) {
		/* columns in pieces of at least 256, cut by the shape alone as below */
		j.step = ((N + 15) / 16 + 15) / 16 * 16;
		if (j.step < 256)
			j.step = 256;
		if ((double)N * K < 4e5)
			j.step = N;
		ling_pool_for(c->pool, (size_t)((N + j.step - 1) / j.step), 1, mv_body, &j);
		return;
	}
	/* Small products are not worth a hand-off. */
	if ((double)M * N * K < 4e5 || span < 128) {
		cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N,
			    K, alpha, A, lda, B, ldb, beta, C, ldc);
		return;
	}
	/*
	 * Up to 16 pieces of at least 64 rows (or columns), in multiples of 16 (the kernels' tile): several per
	 * thread, so that on a shared machine a thread that falls behind is helped out. The cut depends on the
	 * shape alone, never on the threads: sgemm's result for a row depends on the shape of the call it is in,
	 * so the same calls give the same bits on any number of threads.
	 */
	j.step = ((span + 15) / 16 + 15) / 16 * 16;
	if (j.step < 64)
		j.step = 64;
	ling_pool_for(c->pool, (size_t)((span + j.step - 1) / j.step), 1, mm_body, &j);
}

/* ---- embedding ---- */

struct emb_job {
	float *out;
	const float *table, *dout;
	float *dtable;
	const int32_t *ids;
	int n, H, skip_id;
};

static void emb_fwd_body(void *arg, size_t begin, size_t end, size_t chunk)
{
	const struct emb_job *j = arg;

	(void)chunk;
	for (size_t i = begin; i < end; i++)
		memcpy(j->out + i * j->H, j->table + (size_t)j->ids[i] * j->H, (size_t)j->H * sizeof(float));
}

static void cpu_embedding_fwd(void *ctx, float *out, const float *table, const int32_t *ids, int n, int H)
{
	struct emb_job j = { .out = out, .table = table, .ids = ids, .n = n, .H = H };

	ling_pool_for(((struct cpu *)ctx)->pool, (size_t)n, 256, emb_fwd_body, &j);
}

/* Columns are split, not rows: two rows of the same id never race, and each sum runs in row order. */
static void emb_bwd_body(void *arg, size_t begin, size_t end, size_t chunk)
{
	const struct emb_job *j = arg;

	(void)chunk;
	for (int i = 0; i < j->n; i++) {
		float *d = j->dtable + (size_t)j->ids[i] * j->H;
		const float *g = j->dout + (size_t)i * j->H;

		if (j->ids[i] == j->skip_id)
			continue;
		for (size_t x = begin; x < end; x++)
			d[x] += g[x];
	}
}

static void cpu_embedding_bwd(void *ctx, float *dtable, const float *dout, const int32_t *ids, int n, int H,
			      int skip_id)
{
	struct emb_job j = { .dtable = dtable, .dout = dout, .ids = ids, .n = n, .H = H, .skip_id = skip_id };

	ling_pool_for(((struct cpu *)ctx)->pool, (size_t)H, 64, emb_bwd_body, &j);
}

/* ---- rmsnorm ---- */

struct norm_job {
	float *out, *rstd, *dx, *partial;
	const float *x, *w, *dout, *rstd_in;
	int H;
	float eps;
};

static void rmsnorm_fwd_body(void *arg, size_t begin, size_t end, size_t chunk)
{
	const struct norm_job *j = arg;

	(void)chunk;
	for (size_t i = begin; i < end; i++) {
		const float *x = j->x + i * j->H;
		float *o = j->out + i * j->H, ss = 0, r;

		for (int k = 0; k < j->H; k++)
			ss += x[k] * x[k];
		r = 1.0f / sqrtf(ss / (float)j->H + j->eps);
		j->rstd[i] = r;
		for (int k = 0; k < j->H; k++)
			o[k] = x[k] * r * j->w[k];
	}
}

static void cpu_rmsnorm_fwd(void *ctx, float *out, float *rstd, const float *x, const float *w, int n, int H, float eps)
{
	struct norm_job j = { .out = out, .rstd = rstd, .x = x, .w = w, .H = H, .eps = eps };

	ling_pool_for(((struct cpu *)ctx)->pool, (size_t)n, ROW_GRAIN, rmsnorm_fwd_body, &j);
}

static void rmsnorm_bwd_body(void *arg, size_t begin, size_t end, size_t chunk)
{
	const struct norm_job *j = arg;
	float *dw = j->partial + chunk * j->H;

	memset(dw, 0, (size_t)j->H * sizeof(float));
	for (size_t i = begin; i < end; i++) {
		const float *x = j->x + i * j->H, *g = j->dout + i * j->H;
		float *dx = j->dx + i * j->H, r = j->rstd_in[i], dot = 0, c;

		for (int k = 0; k < j->H; k++)
			dot += g[k] * j->w[k] * x[k];
		c = dot * r * r * r / (float)j->H;
		for (int k = 0; k < j->H; k++) {
			dx[k] += g[k] * j->w[k] * r - x[k] * c;
			dw[k] += g[k] * x[k] * r;
		}
	}
}

static void cpu_rmsnorm_bwd(void *ctx, float *dx, float *dw, const float *dout, const float *x, const float *w,
			    const float *rstd, int n, int H)
{
	struct cpu *c = ctx;
	size_t chunks = ling_pool_chunks((size_t)n, ROW_GRAIN);
	struct norm_job j = { .dx = dx, .x = x, .w = w, .dout = dout, .rstd_in = rstd, .H = H };

	j.partial = scratch(c, chunks * (size_t)H);
	ling_pool_for(c->pool, (size_t)n, ROW_GRAIN, rmsnorm_bwd_body, &j);
	for (size_t ch = 0; ch < chunks; ch++)
		for (int k = 0; k < H; k++)
			dw[k] += j.partial[ch * H + k];
}

/* ---- rope ---- */

struct rope_job {
	float *x;
	const int32_t *pos;
	const float *cos, *sin;
	int ld, heads, hd;
	float dir; /* +1 forward, -1 backward (the transposed rotation) */
};

static void rope_body(void *arg, size_t begin, size_t end, size_t chunk)
{
	const struct rope_job *j = arg;
	int half = j->hd / 2;

	(void)chunk;
	for (size_t i = begin; i < end; i++) {
		const float *cs = j->cos + (size_t)j->pos[i] * half, *sn = j->sin + (size_t)j->pos[i] * half;

		for (int h = 0; h < j->heads; h++) {
			float *a = j->x + i * j->ld + (size_t)h * j->hd, *b = a + half;

			for (int k = 0; k < half; k++) {
				float x1 = a[k], x2 = b[k], s = j->dir * sn[k];

				a[k] = x1 * cs[k] - x2 * s;
				b[k] = x2 * cs[k] + x1 * s;
			}
		}
	}
}

static void rope_run(void *ctx, float *x, int ld, int n, int heads, int hd, const int32_t *pos, const float *cos,
		     const float *sin, float dir)
{
	struct rope_job j = { x, pos, cos, sin, ld, heads, hd, dir };

	ling_pool_for(((struct cpu *)ctx)->pool, (size_t)n, ROW_GRAIN, rope_body, &j);
}

static void cpu_rope_fwd(void *ctx, float *x, int ld, int n, int heads, int hd, const int32_t *pos, const float *cos,
			 const float *sin)
{
	rope_run(ctx, x, ld, n, heads, hd, pos, cos, sin, 1.0f);
}

static void cpu_rope_bwd(void *ctx, float *dx, int ld, int n, int heads, int hd, const int32_t *pos,
			 const float *cos, const float *sin)
{
	rope_run(ctx, dx, ld, n, heads, hd, pos, cos, sin, -1.0f);
}

/* ---- attention ---- */

/*
 * Per (row, head), query rows in blocks of ATT_BLOCK: block [r0, r1) only sees keys [lo, r1) with lo the
 * document start of r0 (starts never decrease), so scores and products skip what the mask removes.
 * probs holds, for block rows, columns [lo, r1); the backward reads exactly those.
 */
struct att_job {
	float *out, *dqkv, *work;
	const float *qkv, *dout;
	float *probs;
	const int32_t *doc_start;
	int B, T, nh, nkv, hd, D, units_per_chunk;
	size_t work_per_chunk;
};

static void att_fwd_head(const struct att_job *j, int b, int h)
{
	int group = j->nh / j->nkv, kvh = h / group, T = j->T, D = j->D, ldo = j->nh * j->hd;
	const float *base = j->qkv + (size_t)b * T * D;
	const float *q = base + (size_t)h * j->hd, *k = base + (size_t)(j->nh + kvh) * j->hd;
	const float *v = base + (size_t)(j->nh + j->nkv + kvh) * j->hd;
	const int32_t *ds = j->doc_start + (size_t)b * T;
	float *P = j->probs + ((size_t)b * j->nh + h) * T * T, *o = j->out + (size_t)b * T * ldo + (size_t)h * j->hd;
	float scale = 1.0f / sqrtf((float)j->hd);

	for (int r0 = 0; r0 < T; r0 += ATT_BLOCK) {
		int r1 = r0 + ATT_BLOCK < T ? r0 + ATT_BLOCK : T, lo = ds[r0];
		float *Pb = P + (size_t)r0 * T + lo;

		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, r1 - lo, j->hd, scale,
			    q + (size_t)r0 * D, D, k + (size_t)lo * D, D, 0.0f, Pb, T);
		for (int t = r0; t < r1; t++) {
			float *row = P + (size_t)t * T, mx = -INFINITY, sum = 0, inv;
			int s0 = ds[t];

			for (int s = s0; s <= t; s++)
				mx = row[s] > mx ? row[s] : mx;
			for (int s = s0; s <= t; s++) {
				row[s] = expf(row[s] - mx);
				sum += row[s];
			}
			inv = 1.0f / sum;
			for (int s = lo; s < s0; s++)
				row[s] = 0;
			for (int s = s0; s <= t; s++)
				row[s] *= inv;
			for (int s = t + 1; s < r1; s++)
				row[s] = 0;
		}
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, j->hd, r1 - lo, 1.0f, Pb, T,
			    v + (size_t)lo * D, D, 0.0f, o + (size_t)r0 * ldo, ldo);
	}
}

static void att_fwd_body(void *arg, size_t begin, size_t end, size_t chunk)
{
	const struct att_job *j = arg;

	(void)chunk;
	for (size_t u = begin; u < end; u++)
		att_fwd_head(j, (int)(u / j->nh), (int)(u % j->nh));
}

static void cpu_attention_fwd(void *ctx, float *out, float *probs, const float *qkv, const int32_t *doc_start, int B,
			      int T, int nh, int nkv, int hd)
{
	struct att_job j = { .out = out, .probs = probs, .qkv = qkv, .doc_start = doc_start, .B = B, .T = T,
			     .nh = nh, .nkv = nkv, .hd = hd, .D = (nh + 2 * nkv) * hd };

	ling_pool_for(((struct cpu *)ctx)->pool, (size_t)B * nh, 1, att_fwd_body, &j);
}

/*
 * Attention over a KV cache: the query rows of one head in blocks cut at multiples of ATT_BLOCK of their
 * positions, as att_fwd_head cuts a row from position 0, so that a prefill from an empty cache makes
 * the same sgemm calls (shapes and sums) as training. A block's rows [r0, r1) see keys [0, r1).
 */
struct att_kv_job {
	float *out, *work;
	const float *q, *k, *v;
	int ldq, ldkv, p0, n, nh, nkv, hd;
	size_t work_per_chunk;
};

/*
 * One query row at position t in the middle of a block (a decoding step): matrix-vector products, which
 * read the cached keys and values once (sgemm would copy them first). Blocks that start where
 * att_fwd_head's start keep its sgemm calls.
 */
static void att_kv_row(const struct att_kv_job *j, int h, int t, float *p)
{
	int kvh = h / (j->nh / j->nkv);
	const float *k = j->k + (size_t)kvh * j->hd, *v = j->v + (size_t)kvh * j->hd;
	float mx = -INFINITY, sum = 0, inv;

	cblas_sgemv(CblasRowMajor, CblasNoTrans, t + 1, j->hd, 1.0f / sqrtf((float)j->hd), k, j->ldkv,
		    j->q + (size_t)(t - j->p0) * j->ldq + (size_t)h * j->hd, 1, 0.0f, p, 1);
	for (int s = 0; s <= t; s++)
		mx = p[s] > mx ? p[s] : mx;
	for (int s = 0; s <= t; s++) {
		p[s] = expf(p[s] - mx);
		sum += p[s];
	}
	inv = 1.0f / sum;
	for (int s = 0; s <= t; s++)
		p[s] *= inv;
	cblas_sgemv(CblasRowMajor, CblasTrans, t + 1, j->hd, 1.0f, v, j->ldkv, p, 1, 0.0f,
		    j->out + (size_t)(t - j->p0) * j->nh * j->hd + (size_t)h * j->hd, 1);
}

static void att_kv_head(const struct att_kv_job *j, int h, float *P)
{
	int kvh = h / (j->nh / j->nkv), ldo = j->nh * j->hd, end = j->p0 + j->n;
	const float *k = j->k + (size_t)kvh * j->hd, *v = j->v + (size_t)kvh * j->hd;
	float scale = 1.0f / sqrtf((float)j->hd);

	for (int r0 = j->p0; r0 < end;) {
		int r1 = (r0 / ATT_BLOCK + 1) * ATT_BLOCK, w;

		if (r1 > end)
			r1 = end;
		w = r1; /* keys [0, r1), P is [r1 - r0, w] */
		if (r1 - r0 == 1 && r0 % ATT_BLOCK) {
			att_kv_row(j, h, r0, P);
			r0 = r1;
			continue;
		}
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, w, j->hd, scale,
			    j->q + (size_t)(r0 - j->p0) * j->ldq + (size_t)h * j->hd, j->ldq, k, j->ldkv, 0.0f, P, w);
		for (int t = r0; t < r1; t++) {
			float *row = P + (size_t)(t - r0) * w, mx = -INFINITY, sum = 0, inv;

			for (int s = 0; s <= t; s++)
				mx = row[s] > mx ? row[s] : mx;
			for (int s = 0; s <= t; s++) {
				row[s] = expf(row[s] - mx);
				sum += row[s];
			}
			inv = 1.0f / sum;
			for (int s = 0; s <= t; s++)
				row[s] *= inv;
			for (int s = t + 1; s < w; s++)
				row[s] = 0;
		}
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, j->hd, w, 1.0f, P, w, v, j->ldkv, 0.0f,
			    j->out + (size_t)(r0 - j->p0) * ldo + (size_t)h * j->hd, ldo);
		r0 = r1;
	}
}

static void att_kv_body(void *arg, size_t begin, size_t end, size_t chunk)
{
	const struct att_kv_job *j = arg;

	for (size_t h = begin; h < end; h++)
		att_kv_head(j, (int)h, j->work + chunk * j->work_per_chunk);
}

static void cpu_attention_kv_fwd(void *ctx, float *out, const float *q, int ldq, const float *k, const float *v,
				 int ldkv, int p0, int n, int nh, int nkv, int hd)
{
	struct cpu *c = ctx;
	struct att_kv_job j = { .out = out, .q = q, .k = k, .v = v, .ldq = ldq, .ldkv = ldkv, .p0 = p0, .n = n,
				.nh = nh, .nkv = nkv, .hd = hd };
	size_t keys = 256;

	/* Scratch grows by doubling with the context, so that decoding token by token does not reallocate. */
	while (keys < (size_t)p0 + n)
		keys *= 2;
	j.work_per_chunk = (size_t)ATT_BLOCK * keys;
	j.work = scratch(c, (size_t)nh * j.work_per_chunk);
	ling_pool_for(c->pool, (size_t)nh, 1, att_kv_body, &j);
}

/* One query head's backward: dq written, dk and dv added (the heads of a group share them). */
static void att_bwd_head(const struct att_job *j, int b, int h, float *dP)
{
	int group = j->nh / j->nkv, kvh = h / group, T = j->T, D = j->D, ldo = j->nh * j->hd;
	size_t qo = (size_t)h * j->hd, ko = (size_t)(j->nh + kvh) * j->hd, vo = (size_t)(j->nh + j->nkv + kvh) * j->hd;
	const float *base = j->qkv + (size_t)b * T * D;
	float *dbase = j->dqkv + (size_t)b * T * D;
	const float *dO = j->dout + (size_t)b * T * ldo + (size_t)h * j->hd;
	const float *P = j->probs + ((size_t)b * j->nh + h) * T * T;
	const int32_t *ds = j->doc_start + (size_t)b * T;
	float scale = 1.0f / sqrtf((float)j->hd);

	for (int r0 = 0; r0 < T; r0 += ATT_BLOCK) {
		int r1 = r0 + ATT_BLOCK < T ? r0 + ATT_BLOCK : T, lo = ds[r0], w = r1 - lo;
		const float *Pb = P + (size_t)r0 * T + lo;

		/* dP = dO V^T over the block's keys */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, w, j->hd, 1.0f, dO + (size_t)r0 * ldo, ldo,
			    base + vo + (size_t)lo * D, D, 0.0f, dP, w);
		/* dV += P^T dO */
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, w, j->hd, r1 - r0, 1.0f, Pb, T,
			    dO + (size_t)r0 * ldo, ldo, 1.0f, dbase + vo + (size_t)lo * D, D);
		/* dS = P * (dP - rowsum(P * dP)), the softmax backward; 0 where P is 0 */
		for (int t = r0; t < r1; t++) {
			const float *p = Pb + (size_t)(t - r0) * T;
			float *d = dP + (size_t)(t - r0) * w, dot = 0;

			for (int s = 0; s < w; s++)
				dot += p[s] * d[s];
			for (int s = 0; s < w; s++)
				d[s] = p[s] * (d[s] - dot);
		}
		/* dQ = scale dS K; dK += scale dS^T Q */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, j->hd, w, scale, dP, w,
			    base + ko + (size_t)lo * D, D, 0.0f, dbase + qo + (size_t)r0 * D, D);
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, w, j->hd, r1 - r0, scale, dP, w,
			    base + qo + (size_t)r0 * D, D, 1.0f, dbase + ko + (size_t)lo * D, D);
	}
}

/* Units are (row, kv head): the query heads sharing a kv head run on one thread, so dk and dv never race. */
static void att_bwd_body(void *arg, size_t begin, size_t end, size_t chunk)
{
	const struct att_job *j = arg;
	float *dP = j->work + chunk * j->work_per_chunk;
	int group = j->nh / j->nkv;

	for (size_t u = begin; u < end; u++) {
		int b = (int)(u / j->nkv), kvh = (int)(u % j->nkv);

		for (int h = kvh * group; h < (kvh + 1) * group; h++)
			att_bwd_head(j, b, h, dP);
	}
}

static void cpu_attention_bwd(void *ctx, float *dqkv, const float *dout, const float *qkv, const float *probs,
			      const int32_t *doc_start, int B, int T, int nh, int nkv, int hd)
{
	struct cpu *c = ctx;
	/* Small pieces balance threads; each piece has its own scratch block. */
	size_t units = (size_t)B * nkv, grain = (units + 8 * (size_t)c->threads - 1) / (8 * (size_t)c->threads);
	struct att_job j = { .dqkv = dqkv, .dout = dout, .qkv = qkv, .probs = (float *)probs, .doc_start = doc_start,
			     .B = B, .T = T, .nh = nh, .nkv = nkv, .hd = hd, .D = (nh + 2 * nkv) * hd };

	j.work_per_chunk = (size_t)ATT_BLOCK * T;
	j.work = scratch(c, ling_pool_chunks(units, grain) * j.work_per_chunk);
	memset(dqkv, 0, (size_t)B * T * j.D * sizeof(float));
	ling_pool_for(c->pool, units, grain, att_bwd_body, &j);
}

/* ---- elementwise ---- */

struct ew_job {
	float *y, *y2;
	const float *a, *b, *c;
};

#define EW_GRAIN 16384

static void swiglu_fwd_body(void *arg, size_t begin, size_t end, size_t chunk)
{
	const struct ew_job *j = arg;

	(void)chunk;
	for (size_t i = begin; i < end; i++) {
		float g = j->a[i];

		j->y[i] = g / (1.0f + expf(-g)) * j->b[i];
	}
}

static void cpu_swiglu_fwd(void *ctx, float *out, const float *gate, const float *up, size_t n)
{
	struct ew_job j = { .y = out, .a = gate, .b = up };

	ling_pool_for(((struct cpu *)ctx)->pool, n, EW_GRAIN, swiglu_fwd_body, &j);
}

static void swiglu_bwd_body(void *arg, size_t begin, size_t end, size_t chunk)
{
	const struct ew_job *j = arg;

	(void)chunk;
	for (size_t i = begin; i < end; i++) {
		float g = j->a[i], u = j->b[i], d = j->c[i], sig = 1.0f / (1.0f + expf(-g)), silu = g * sig;

		j->y2[i] = d * silu;                             /* dup */
		j->y[i] = d * u * sig * (1.0f + g * (1.0f - sig)); /* dgate */
	}
}

static void cpu_swiglu_bwd(void *ctx, float *dgate, float *dup, const float *dout, const float *gate, const float *up,
			   size_t n)
{
	struct ew_job j = { .y = dgate, .y2 = dup, .a = gate, .b = up, .c = dout };

	ling_pool_for(((struct cpu *)ctx)->pool, n, EW_GRAIN, swiglu_bwd_body, &j);
}

static void add_body(void *arg, size_t begin, size_t end, size_t chunk)
{
	const struct ew_job *j = arg;

	(void)chunk;
	for (size_t i = begin; i < end; i++)
		j->y[i] = j->a[i] + j->b[i];
}

static void cpu_add(void *ctx, float *y, const float *a, const float *b, size_t n)
{
	struct ew_job j = { .y = y, .a = a, .b = b };

	ling_pool_for(((struct cpu *)ctx)->pool, n, EW_GRAIN, add_body, &j);
}

/* ---- softmax and cross-entropy ---- */

struct sm_job {
	float *p, *lse, *dl;
	const float *logits, *dp, *p_in, *lse_in;
	const int32_t *targets;
	double *partial;
	int E;
	float scale;
};

static float row_logsumexp(const float *x, int n)
{
	float mx = -INFINITY, sum = 0;

	for (int i = 0; i < n; i++)
		mx = x[i] > mx ? x[i] : mx;
	for (int i = 0; i < n; i++)
		sum += expf(x[i] - mx);
	return mx + logf(sum);
}

static void softmax_fwd_body(void *arg, size_t begin, size_t end, size_t chunk)
{
	const struct sm_job *j = arg;

	(void)chunk;
	for (size_t i = begin; i < end; i++) {
		const float *x = j->logits + i * j->E;
		float l = row_logsumexp(x, j->E);

		j->lse[i] = l;
		for (int e = 0; e < j->E; e++)
			j->p[i * j->E + e] = expf(x[e] - l);
	}
}

static void cpu_softmax_fwd(void *ctx, float *p, float *lse, const float *logits, int n, int E)
{
	struct sm_job j = { .p = p, .lse = lse, .logits = logits, .E = E };

	ling_pool_for(((struct cpu *)ctx)->pool, (size_t)n, ROW_GRAIN, softmax_fwd_body, &j);
}

static void softmax_bwd_body(void *arg, size_t begin, size_t end, size_t chunk)
{
	const struct sm_job *j = arg;

	(void)chunk;
	for (size_t i = begin; i < end; i++) {
		const float *p = j->p_in + i * j->E, *dp = j->dp + i * j->E;
		float *dl = j->dl + i * j->E, dot = 0;

		for (int e = 0; e < j->E; e++)
			dot += p[e] * dp[e];
		for (int e = 0; e < j->E; e++)
			dl[e] = p[e] * (dp[e] - dot);
	}
}

static void cpu_softmax_bwd(void *ctx, float *dlogits, const float *dp, const float *p, int n, int E)
{
	struct sm_job j = { .dl = dlogits, .dp = dp, .p_in = p, .E = E };

	ling_pool_for(((struct cpu *)ctx)->pool, (size_t)n, ROW_GRAIN, softmax_bwd_body, &j);
}

static void ce_fwd_body(void *arg, size_t begin, size_t end, size_t chunk)
{
	const struct sm_job *j = arg;
	double sum = 0;

	for (size_t i = begin; i < end; i++) {
		const float *x = j->logits + i * j->E;

		j->lse[i] = row_logsumexp(x, j->E);
		if (j->targets[i] >= 0)
			sum += (double)j->lse[i] - (double)x[j->targets[i]];
	}
	j->partial[chunk] = sum;
}

static double cpu_cross_entropy_fwd(void *ctx, float *lse, const float *logits, const int32_t *targets, int n, int V)
{
	struct cpu *c = ctx;
	size_t chunks = ling_pool_chunks((size_t)n, 8);
	struct sm_job j = { .lse = lse, .logits = logits, .targets = targets, .E = V };
	double sum = 0;

	j.partial = xcalloc(chunks ? chunks : 1, sizeof(double));
	ling_pool_for(c->pool, (size_t)n, 8, ce_fwd_body, &j);
	for (size_t ch = 0; ch < chunks; ch++)
		sum += j.partial[ch];
	free(j.partial);
	return sum;
}

static void ce_bwd_body(void *arg, size_t begin, size_t end, size_t chunk)
{
	const struct sm_job *j = arg;

	(void)chunk;
	for (size_t i = begin; i < end; i++) {
		float *x = j->dl + i * j->E, l = j->lse_in[i];

		if (j->targets[i] < 0) {
			memset(x, 0, (size_t)j->E * sizeof(float));
			continue;
		}
		for (int v = 0; v < j->E; v++)
			x[v] = j->scale * expf(x[v] - l);
		x[j->targets[i]] -= j->scale;
	}
}

static void cpu_cross_entropy_bwd(void *ctx, float *logits, const float *lse, const int32_t *targets, int n, int V,
				  float scale)
{
	struct sm_job j = { .dl = logits, .lse_in = lse, .targets = targets, .E = V, .scale = scale };

	ling_pool_for(((struct cpu *)ctx)->pool, (size_t)n, 8, ce_bwd_body, &j);
}

/* ---- NormHead ---- */

struct col_job {
	float *Wn, *inv, *dW;
	const float *W, *dWn, *inv_in;
	int V, H;
	float eps;
};

/* Columns [begin, end): sums of squares walked row by row (contiguous reads), in double. */
static void colnorm_body(void *arg, size_t begin, size_t end, size_t chunk)
{
	const struct col_job *j = arg;
	double ss[64] = { 0 };

	(void)chunk;
	for (int v = 0; v < j->V; v++) {
		const float *w = j->W + (size_t)v * j->H;

		for (size_t c = begin; c < end; c++)
			ss[c - begin] += (double)w[c] * w[c];
	}
	for (size_t c = begin; c < end; c++)
		j->inv[c] = (float)(1.0 / (sqrt(ss[c - begin]) + j->eps));
	for (int v = 0; v < j->V; v++)
		for (size_t c = begin; c < end; c++)
			j->Wn[(size_t)v * j->H + c] = j->W[(size_t)v * j->H + c] * j->inv[c];
}

static void cpu_colnorm(void *ctx, float *Wn, float *inv, const float *W, int V, int H, float eps)
{
	struct col_job j = { .Wn = Wn, .inv = inv, .W = W, .V = V, .H = H, .eps = eps };

	ling_pool_for(((struct cpu *)ctx)->pool, (size_t)H, 64, colnorm_body, &j);
}

static void colnorm_bwd_body(void *arg, size_t begin, size_t end, size_t chunk)
{
	const struct col_job *j = arg;

	(void)chunk;
	for (size_t v = begin; v < end; v++)
		for (int c = 0; c < j->H; c++)
			j->dW[v * j->H + c] += j->dWn[v * j->H + c] * j->inv_in[c];
}

static void cpu_colnorm_bwd(void *ctx, float *dW, const float *dWn, const float *inv, int V, int H)
{
	struct col_job j = { .dW = dW, .dWn = dWn, .inv_in = inv, .V = V, .H = H };

	ling_pool_for(((struct cpu *)ctx)->pool, (size_t)V, 64, colnorm_bwd_body, &j);
}

/* ---- MoE dispatch and combine ---- */

struct moe_job {
	float *out, *dy, *dw;
	const float *x, *y, *w, *dout;
	const int32_t *rows;
	int k, H;
};

static void gather_body(void *arg, size_t begin, size_t end, size_t chunk)
{
	const struct moe_job *j = arg;

	(void)chunk;
	for (size_t i = begin; i < end; i++)
		memcpy(j->out + i * j->H, j->x + (size_t)j->rows[i] * j->H, (size_t)j->H * sizeof(float));
}

static void cpu_gather_rows(void *ctx, float *out, const float *x, const int32_t *rows, int n, int H)
{
	struct moe_job j = { .out = out, .x = x, .rows = rows, .H = H };

	ling_pool_for(((struct cpu *)ctx)->pool, (size_t)n, 64, gather_body, &j);
}

static void combine_body(void *arg, size_t begin, size_t end, size_t chunk)
{
	const struct moe_job *j = arg;

	(void)chunk;
	for (size_t t = begin; t < end; t++) {
		float *o = j->out + t * j->H;

		for (int s = 0; s < j->k; s++) {
			const float *y = j->y + (size_t)j->rows[t * j->k + s] * j->H;
			float w = j->w[t * j->k + s];

			for (int c = 0; c < j->H; c++)
				o[c] += w * y[c];
		}
	}
}

static void cpu_moe_combine(void *ctx, float *out, const float *y, const float *w, const int32_t *pos, int n, int k,
			    int H)
{
	struct moe_job j = { .out = out, .y = y, .w = w, .rows = pos, .k = k, .H = H };

	ling_pool_for(((struct cpu *)ctx)->pool, (size_t)n, 64, combine_body, &j);
}

static void combine_bwd_body(void *arg, size_t begin, size_t end, size_t chunk)
{
	const struct moe_job *j = arg;

	(void)chunk;
	for (size_t t = begin; t < end; t++) {
		const float *g = j->dout + t * j->H;

		for (int s = 0; s < j->k; s++) {
			size_t p = (size_t)j->rows[t * j->k + s];
			const float *y = j->y + p * j->H;
			float *dy = j->dy + p * j->H, w = j->w[t * j->k + s], dot = 0;

			for (int c = 0; c < j->H; c++) {
				dy[c] = w * g[c];
				dot += g[c] * y[c];
			}
			j->dw[t * j->k + s] = dot;
		}
	}
}

static void cpu_moe_combine_bwd(void *ctx, float *dy, float *dw, const float *dout, const float *y, const float *w,
				const int32_t *pos, int n, int k, int H)
{
	struct moe_job j = { .dy = dy, .dw = dw, .dout = dout, .y = y, .w = w, .rows = pos, .k = k, .H = H };

	ling_pool_for(((struct cpu *)ctx)->pool, (size_t)n, 64, combine_bwd_body, &j);
}

static void dispatch_bwd_body(void *arg, size_t begin, size_t end, size_t chunk)
{
	const struct moe_job *j = arg;

	(void)chunk;
	for (size_t t = begin; t < end; t++) {
		float *dx = j->out + t * j->H;

		for (int s = 0; s < j->k; s++) {
			const float *d = j->y + (size_t)j->rows[t * j->k + s] * j->H;

			for (int c = 0; c < j->H; c++)
				dx[c] += d[c];
		}
	}
}

static void cpu_moe_dispatch_bwd(void *ctx, float *dx, const float *dxp, const int32_t *pos, int n, int k, int H)
{
	struct moe_job j = { .out = dx, .y = dxp, .rows = pos, .k = k, .H = H };

	ling_pool_for(((struct cpu *)ctx)->pool, (size_t)n, 64, dispatch_bwd_body, &j);
}

/* ---- the table ---- */

static const struct train_ops cpu_ops = {
	.name = "cpu",
	.matmul = cpu_matmul,
	.embedding_fwd = cpu_embedding_fwd,
	.embedding_bwd = cpu_embedding_bwd,
	.rmsnorm_fwd = cpu_rmsnorm_fwd,
	.rmsnorm_bwd = cpu_rmsnorm_bwd,
	.rope_fwd = cpu_rope_fwd,
	.rope_bwd = cpu_rope_bwd,
	.attention_fwd = cpu_attention_fwd,
	.attention_bwd = cpu_attention_bwd,
	.attention_kv_fwd = cpu_attention_kv_fwd,
	.swiglu_fwd = cpu_swiglu_fwd,
	.swiglu_bwd = cpu_swiglu_bwd,
	.add = cpu_add,
	.softmax_fwd = cpu_softmax_fwd,
	.softmax_bwd = cpu_softmax_bwd,
	.cross_entropy_fwd = cpu_cross_entropy_fwd,
	.cross_entropy_bwd = cpu_cross_entropy_bwd,
	.colnorm = cpu_colnorm,
	.colnorm_bwd = cpu_colnorm_bwd,
	.gather_rows = cpu_gather_rows,
	.moe_combine = cpu_moe_combine,
	.moe_combine_bwd = cpu_moe_combine_bwd,
	.moe_dispatch_bwd = cpu_moe_dispatch_bwd,
};

static void cpu_free(struct train_backend *backend)
{
	struct cpu *c = backend->ctx;

	ling_pool_free(c->pool);
	free(c->scratch);
	free(c);
	free(backend);
}

struct train_backend *train_cpu_backend_new(int n_threads)
{
	struct train_backend *backend = xcalloc(1, sizeof(*backend));
	struct cpu *c = xcalloc(1, sizeof(*c));

	/* Our pool splits the work; each sgemm call runs on the thread that makes it. */
	openblas_set_num_threads(1);
	c->pool = ling_pool_new(n_threads);
	c->threads = ling_pool_threads(c->pool);
	backend->ops = &cpu_ops;
	backend->ctx = c;
	backend->threads = c->threads;
	backend->free = cpu_free;
	return backend;
}

double train_cpu_sgemm_gflops(struct train_backend *backend, int n, int reps)
{
	float *a = xmalloc((size_t)n * n * sizeof(float)), *b = xmalloc((size_t)n * n * sizeof(float));
	float *c = xmalloc((size_t)n * n * sizeof(float));
	double best = 1e30;

	for (size_t i = 0; i < (size_t)n * n; i++) {
		a[i] = (float)((i * 7) % 13) * 0.01f;
		b[i] = (float)((i * 5) % 11) * 0.01f;
	}
	for (int r = 0; r < reps + 1; r++) {
		double t0 = ling_now();

		backend->ops->matmul(backend->ctx, 0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
		t0 = ling_now() - t0;
		if (r > 0 && t0 < best) /* the first run warms caches and pages */
			best = t0;
	}
	free(a);
	free(b);
	free(c);
	return 2.0 * n * (double)n * n / best / 1e9;
}
