/*
 * train: the Bailing MoE model (Ling; doc/model.md) for training in fp32:
 * its config, its parameters, and one forward and backward pass.
 *
 *	struct train_config cfg;
 *	train_config_load(&cfg, "config.json", &err);
 *	struct train_model *m = train_model_new(&cfg, train_cpu_backend_new(2));
 *	train_model_init(m, seed);                 (or fill train_model_params() from a checkpoint)
 *	train_forward(m, &batch, &opts, &loss, &err);
 *	train_backward(m);                          (adds d(loss)/d(param) into the gradients)
 *	train_model_free(m);
 *
 * Parameters and gradients live in one allocation each, cut into slabs:
 * slab 0 the embedding, slab 1+i layer i, the last slab the final norm and
 * the head. A slab is contiguous (layer-wise sync and all-reduce buckets
 * work on whole slabs). Each tensor has its Hugging Face name, shape
 * ([out, in] for linears) and offset (train_model_params()).
 *
 * Every operation goes through a backend's struct train_ops
 * (train_ops.h); train_cpu_backend_new() gives the OpenBLAS one.
 */
#ifndef TRAIN_H
#define TRAIN_H

#include "../common/ling_err.h"
#include "../common/ling_mem.h"

#include <stddef.h>
#include <stdint.h>

/* ---- config (train_config.c) ---- */

/* A BailingMoeConfig, as HF's config.json gives it (doc/model.md). */
struct train_config {
	int vocab_size;
	int hidden_size;           /* H */
	int num_hidden_layers;     /* L */
	int num_attention_heads;   /* nh */
	int num_key_value_heads;   /* nkv: nh % nkv == 0 */
	int head_dim;              /* hd: default H / nh */
	int num_experts;           /* E (num_experts | n_routed_experts) */
	int num_shared_experts;    /* S (num_shared_experts | n_shared_experts), 0 = none */
	int num_experts_per_tok;   /* k <= E */
	int moe_intermediate_size; /* Ie: width of one expert; the shared expert is Ie*S wide */
	int intermediate_size;     /* I: width of the dense MLP of layers < first_k_dense_replace */
	int first_k_dense_replace;
	int norm_topk_prob;        /* renormalise the top-k router weights (when k > 1) */
	int norm_head;             /* NormHead: lm_head columns divided by their norm (detached) */
	int pad_token_id;          /* -1 = none; that embedding row gets no gradient */
	int max_position_embeddings;
	double rope_theta;
	double rms_norm_eps;
	double initializer_range;
};

/*
 * Reads config.json at path. Aliases n_routed_experts and n_shared_experts
 * are read; unknown keys are ignored; a missing required key, a wrong type,
 * or an inconsistent value (heads not dividing hidden, top-k > experts,
 * use_bias or tie_word_embeddings true, ...) is LING_EDATA naming the key.
 * @return 0, LING_EIO or LING_EDATA with err at path.
 */
int train_config_load(struct train_config *cfg, const char *path, struct ling_err *err);

/* The same from text in memory; name is for messages. */
int train_config_parse(struct train_config *cfg, const char *text, size_t len, const char *name,
		       struct ling_err *err);

/* A preset: ling-lite, ling-lite-1.5, ling-plus, tiny, demo. @return 0 or LING_EUSAGE naming the presets. */
int train_config_preset(struct train_config *cfg, const char *name, struct ling_err *err);

/* The names of the presets, comma separated (for help texts). */
const char *train_config_preset_names(void);

/* Checks the values of cfg for consistency (done by load and parse too). @return 0 or LING_EDATA naming the key. */
int train_config_check(const struct train_config *cfg, const char *name, struct ling_err *err);

/*
 * Appends cfg as an HF config.json (indented, every key HF needs set
 * explicitly: doc/model.md, "Configuration"; torch_dtype from
 * dtype_name, "float32" or "bfloat16").
 */
void train_config_to_json(const struct train_config *cfg, const char *dtype_name, struct ling_buf *out);

/* Parameter counts: total, and active (k of the E experts per token). */
struct train_param_count {
	uint64_t total, active;
};
struct train_param_count train_config_count(const struct train_config *cfg);

/* @return 1 when layer i is an MoE layer, 0 when it is a dense MLP (i < first_k_dense_replace). */
int train_config_layer_is_moe(const struct train_config *cfg, int layer);

/* ---- model (train_model.c) ---- */

struct train_backend; /* train_ops.h */

/* One named tensor of the model: where it lives, in parameters and gradients alike. */
struct train_param {
	char *name;      /* HF name, "model.layers.3.attention.dense.weight" */
	int slab;        /* 0 embedding, 1 + layer, L + 1 final norm and head */
	size_t offset;   /* in floats, from the start of all parameters */
	int ndim;        /* 1 or 2 */
	int64_t shape[2];
	size_t numel;
};

struct train_model;

/*
 * Creates a model for cfg (checked with train_config_check first) on the
 * backend, which the model owns from then on (freed with it). Parameters are
 * zero until train_model_init() or a load into train_model_data().
 */
struct train_model *train_model_new(const struct train_config *cfg, struct train_backend *backend);
void train_model_free(struct train_model *m);

const struct train_config *train_model_config(const struct train_model *m);
struct train_backend *train_model_backend(struct train_model *m);
/* The threads of the model's backend. */
int train_model_threads(const struct train_model *m);

/* The tensors in layout order (n in *n). */
const struct train_param *train_model_params(const struct train_model *m, size_t *n);
/* The tensor of that HF name, or NULL. */
const struct train_param *train_model_find(const struct train_model *m, const char *name);

/* All parameters (train_model_size() floats), and all gradients, laid out alike. */
float *train_model_data(struct train_model *m);
float *train_model_grad(struct train_model *m);
size_t train_model_size(const struct train_model *m);

/* Slabs: [begin, end) in floats of slab s, for s < train_model_slabs(). */
int train_model_slabs(const struct train_model *m);
void train_model_slab(const struct train_model *m, int s, size_t *begin, size_t *end);

/*
 * Initialises like HF's _init_weights: norm weights 1, every other tensor
 * N(0, initializer_range), from a seeded generator (the same seed gives the
 * same bits). The pad row is not zeroed (HF zeroes it; it never trains).
 */
void train_model_init(struct train_model *m, uint64_t seed);

/* Sets every gradient to 0. */
void train_model_zero_grad(struct train_model *m);

/* ---- one step's batch, forward and backward ---- */

/*
 * B rows of T tokens. mask (0/1, NULL = all 1) says which targets count:
 * position t of a row predicts tokens[t+1], counted when mask[t+1] is 1.
 * docs (NULL = one document per row) is a non-decreasing document index per
 * position of a row: attention stays within a document and RoPE positions
 * restart at 0 where a document starts.
 */
struct train_batch {
	int B, T;
	const int32_t *tokens; /* [B*T] */
	const uint8_t *mask;   /* [B*T] or NULL */
	const int32_t *docs;   /* [B*T] or NULL */
};

struct train_forward_opts {
	int aux;            /* add the balance and z losses of the MoE layers */
	double balance_coef; /* 0.015 (Ling TR §3.4) */
	double z_coef;       /* 1e-4 */
};

#define TRAIN_FORWARD_OPTS_INIT { 0, 0.015, 1e-4 }

struct train_loss {
	double loss;       /* ce, plus the weighted aux losses with opts.aux */
	double ce;         /* mean cross-entropy over the counted targets */
	long long counted; /* targets counted */
	int n_moe;         /* MoE layers: entries of balance and z */
	double *balance;   /* per MoE layer: E * sum_i f_i * P_i (owned by the model, valid until the next forward) */
	double *z;         /* per MoE layer: mean over tokens of logsumexp(router logits)^2 */
};

/*
 * Runs the model on a batch and keeps what backward needs. Token ids must be
 * in [0, vocab_size), docs non-decreasing in each row, and T at most
 * max_position_embeddings.
 * @return 0, or LING_EDATA (err names the row and position) on a bad batch.
 * A batch with no counted target has loss 0.
 */
int train_forward(struct train_model *m, const struct train_batch *batch, const struct train_forward_opts *opts,
		  struct train_loss *loss, struct ling_err *err);

/* The logits of the last forward: [B*T, vocab_size], row b*T+t. Valid until train_backward(). */
const float *train_model_logits(const struct train_model *m);

/* Adds d(loss)/d(param) of the last forward into the gradients (the pad row's stays as it was). */
void train_backward(struct train_model *m);

/* ---- inference with a KV cache (train_infer.c) ---- */

/*
 * The model run forward for generation: one sequence, whose keys and
 * values are cached per layer for positions [0, len), so that new tokens
 * cost only their own rows (a prompt's prefill is one batched forward, a
 * decoding step one row). It computes with train_forward's code (the
 * layers, norms, RoPE, MoE routing, NormHead and linear entry point of
 * train_model.c, on the model's backend); only the attention reads keys
 * and values from the cache. n tokens from an empty cache give
 * train_forward's logits for that one row bit for bit; the same positions
 * computed in other pieces (a cached prefix, then one token at a time)
 * differ only by the rounding of matrix products of other shapes.
 *
 * The state borrows the model, whose weights must be loaded before it is
 * made and not change while it lives (NormHead's normalised weight is
 * computed once, here). Its buffers grow only when a forward has more
 * tokens than any before: decoding allocates nothing.
 */
struct train_infer;

/* A state with room for max_context positions. @return 0, or LING_EUSAGE when max_context is not in [1, max_position_embeddings]. */
int train_infer_new(struct train_infer **out, struct train_model *m, int max_context, struct ling_err *err);
void train_infer_free(struct train_infer *s);

/* Positions cached (len). */
int train_infer_len(const struct train_infer *s);
int train_infer_max_context(const struct train_infer *s);

/* Forgets the positions from len on (nothing when len >= the positions cached). */
void train_infer_truncate(struct train_infer *s, int len);

/*
 * Runs tokens[0..n) at positions len..len+n-1 in one forward, appending
 * their keys and values to the cache. logits: NULL, or the logits of the
 * last position ([V]), or with all those of every position ([n, V]).
 * @return 0, or LING_EDATA (n < 1, a token id not in [0, vocab_size), or
 * len + n above max_context); the cache is unchanged on error.
 */
int train_infer_forward(struct train_infer *s, const int32_t *tokens, int n, float *logits, int all,
			struct ling_err *err);

/* ---- backends ---- */

/* The CPU backend (train/cpu/train_cpu.c): OpenBLAS for matrix products, the rest on n_threads threads (0 = all CPUs). */
struct train_backend *train_cpu_backend_new(int n_threads);
void train_backend_free(struct train_backend *backend);

/* Times an n x n x n sgemm on the CPU backend's threads, best of reps. @return GFLOP/s. */
double train_cpu_sgemm_gflops(struct train_backend *backend, int n, int reps);

/* FLOPs of one forward+backward on B*T tokens (matrix products only, 3x forward; attention counted causal). */
double train_model_flops(const struct train_config *cfg, int B, int T);


/* ---- tensors, safetensors files and checkpoint directories ---- */

enum train_dtype { TRAIN_F32, TRAIN_BF16 };
/* The most dimensions a tensor may have. */
#define TRAIN_MAX_DIM 4

/* A named fp32 tensor in memory: what a checkpoint write takes and a read fills. */
struct train_tensor {
	const char *name;   /* HF name, e.g. "model.layers.0.attention.dense.weight" */
	int ndim;           /* 1..4 (0 for a scalar) */
	int64_t shape[4];
	float *data;        /* caller-owned, prod(shape) floats */
};

/* The exact bf16 value nearest to f, ties to even; NaN stays NaN (quiet, same sign), overflow is inf. */
uint16_t train_f32_to_bf16(float f);
/* The bf16 value as fp32 (exact). */
float train_bf16_to_f32(uint16_t h);

/*
 * Writes one safetensors file (header keys sorted, __metadata__ {"format":"pt"}), tensors in `dtype`
 * (bf16 rounds to nearest even), atomically (temp file, fsync, rename, fsync dir). Tensors are
 * converted in small pieces: memory use does not grow with their size.
 * @return 0; LING_EUSAGE for an empty, duplicate or reserved ("__metadata__") name, a name that is
 * not UTF-8, or a bad shape; LING_EIO when the file cannot be written (nothing is left behind).
 */
int train_st_write(const char *path, const struct train_tensor *t, size_t n, enum train_dtype dtype,
		   struct ling_err *err);

/*
 * Checkpoints (train_ckpt.c): directories as Hugging Face writes and reads them
 * (doc/model.md): config.json plus either one model.safetensors or shards
 * model-00001-of-0000N.safetensors with model.safetensors.index.json,
 * {"metadata": {"total_size": BYTES}, "weight_map": {tensor name: shard file}}.
 *
 * Reading: a directory is read as HF does (model.safetensors when present,
 * else the index and its shards); a path to a .safetensors file is read alone,
 * a path to a model.safetensors.index.json with its shards.
 * Every shard is mapped and validated (train_safetensors.c) before any tensor
 * is used. The index must be a JSON object with a weight_map of plain file
 * names (no "/", not "." or ".."), each shard must exist and hold exactly the
 * tensors the map gives it. Errors are LING_EDATA naming the file and tensor
 * (LING_EIO when a file cannot be opened).
 *
 * Writing is atomic: everything goes into a fresh sibling directory
 * DIR.tmp-PID-N, each file fsynced, then that directory takes DIR's place in
 * one step (rename, or an atomic exchange when DIR exists) and the parent is
 * fsynced; a crash leaves either the old checkpoint or the new one, plus at
 * worst a DIR.tmp-* directory. An existing DIR is replaced only when it is
 * empty or a checkpoint directory (config.json with model.safetensors or
 * model.safetensors.index.json); the old one's files are removed with it.
 */
/*
 * Reads the tensors named in t[0..n) from a checkpoint directory holding model.safetensors or
 * model.safetensors.index.json + shards (or from a single .safetensors path). Each must exist with
 * exactly t[i].shape (else LING_EDATA naming the tensor, file, expected and found shapes); F32 is
 * copied, BF16 widened exactly, other dtypes refused. Tensors in the file that t does not name are
 * ignored when allow_extra, else an error naming the first. Never crashes on corrupt input.
 * @return 0, LING_EIO (a file cannot be opened or mapped) or LING_EDATA; on error t's data may be
 * partly filled.
 */
int train_ckpt_read(const char *path, struct train_tensor *t, size_t n, int allow_extra, struct ling_err *err);

/*
 * Writes a checkpoint directory atomically: config.json (the given text, which must be a JSON
 * object), model.safetensors (or, when max_shard_bytes > 0 and the tensors exceed it, shards
 * model-00001-of-0000N.safetensors filled in t's order as HF does, a shard closed before a tensor
 * would take it past max_shard_bytes, + model.safetensors.index.json), then DIR takes the new
 * directory's place. @return 0; LING_EUSAGE when DIR exists and is not an empty or checkpoint
 * directory, or for bad tensors or config text; LING_EIO when writing fails (DIR is then untouched).
 */
int train_ckpt_write(const char *dir, const char *config_json, const struct train_tensor *t, size_t n,
		     enum train_dtype dtype, uint64_t max_shard_bytes, struct ling_err *err);

/* A tensor of a checkpoint as listed: name (owned by the list), dtype and shape. */
struct train_tensor_info {
	char *name;
	enum train_dtype dtype;
	int ndim;
	int64_t shape[4];
};

/*
 * Lists the tensors of a checkpoint (directory or .safetensors file) in byte order of their names,
 * validating it as train_ckpt_read does. A tensor of a dtype other than F32 or BF16 is LING_EDATA.
 * Caller frees with train_ckpt_list_free. @return 0, LING_EIO or LING_EDATA (*out NULL, *n 0).
 */
int train_ckpt_list(const char *path, struct train_tensor_info **out, size_t *n, struct ling_err *err);
void train_ckpt_list_free(struct train_tensor_info *v, size_t n);

/* 1 when dir is a checkpoint directory (config.json with model.safetensors or the index), else 0. */
int train_ckpt_is_dir(const char *dir);

/* ---- data loader (train_data.c) ---- */

/*
 * Reads one split of a dataset directory written by `tokenize build`
 * (tokenize.h, "datasets"): manifest.json and the split's token and mask
 * shards, in the manifest's order; document g of the split is the g-th
 * sequence over those shards, so documents appended later get higher numbers.
 *
 * Epoch e reads the documents present when it began (N of them) in the
 * order of a Fisher-Yates permutation seeded by (seed, e) (ling_rand.h),
 * packed one after another into rows of T positions: a document longer than
 * the rest of a row goes on in the next row (and the next batch). With
 * whole_docs, a document of at most T tokens is never cut: when it does not
 * fit in the rest of a row, that rest is padding (pad_id, mask 0, a piece
 * of its own) and the document begins the next row, so a conversation's
 * answers are always trained with its question in view. docs[] is
 * the document piece's number within its row (0, 0, 1, 1, 1, 2, ...); mask[]
 * is the mask shard's value, but 0 at the first position of every piece, so
 * no target crosses a document boundary. Empty documents are skipped. When
 * the permutation is used up the next epoch begins (over the documents
 * present then: a dataset that grew since a saved position was taken keeps
 * its current epoch and adds the new documents from the next one).
 */
struct train_data;

struct train_data_opts {
	const char *dir;
	const char *split;  /* "train" or "valid" (or "test") */
	int B, T;           /* rows per batch, positions per row (both > 0) */
	uint64_t seed;
	int64_t vocab_size; /* the model's: every token must be below it */
	int whole_docs;     /* never cut a document that fits in a row (above) */
	int32_t pad_id;     /* the padding token of whole_docs */
};

/*
 * Opens the split. @return 0 with *out set; LING_EUSAGE (bad B, T or split
 * name); LING_EIO (manifest.json or a shard cannot be read); LING_EDATA (a
 * manifest that is not a "ling-dataset" one, a tokenizer vocab_size above
 * the model's, naming both, a shard missing, truncated or not matching the
 * manifest's documents and tokens, a mask shard not matching its tokens, an
 * empty split); LING_ELIMIT (more than 2^32-1 documents).
 */
int train_data_open(struct train_data **out, const struct train_data_opts *o, struct ling_err *err);

/*
 * Fills tokens, mask and docs ([B*T] each) with the next batch.
 * @return 0, or LING_EDATA (a token not below vocab_size, or a shard value
 * that cannot be read; err names the shard and document).
 */
int train_data_next(struct train_data *d, int32_t *tokens, uint8_t *mask, int32_t *docs, struct ling_err *err);

/*
 * Appends the position before the next batch as one compact JSON object:
 * {"epoch":E,"docs":N,"next":P,"used":U,"requeued":[[AT,DOC],...]}, N the
 * documents of the epoch, P the index of the next document in the epoch's
 * order, U its tokens already read, and the requeue insertions of this epoch
 * in the order they were made. train_data_seek() to it (same directory, split,
 * B, T and seed, the dataset possibly grown) gives exactly the batches an
 * uninterrupted run would have.
 */
void train_data_position(const struct train_data *d, struct ling_buf *out);

/* @return 0, or LING_EDATA (not such a position, or one beyond this dataset); d is unchanged on error. */
int train_data_seek(struct train_data *d, const char *json, size_t len, struct ling_err *err);

/*
 * Puts the documents of the last batch back into this epoch, each at a
 * uniformly random place after the current position (seeded by seed, epoch
 * and the insertions so far), to be read again whole (a spike's retry).
 * Does nothing when there was no batch since open or seek.
 */
void train_data_requeue_last(struct train_data *d);

/* The epoch of the last batch (0 first). */
int64_t train_data_epoch(const struct train_data *d);
/* Documents of the split. */
uint64_t train_data_docs(const struct train_data *d);

void train_data_close(struct train_data *d);

/* ---- optimizer and learning-rate schedules (train_optim.c) ---- */

/*
 * AdamW as torch.optim.AdamW computes it (amsgrad off), over the flat
 * parameter and gradient arrays of a model (train_model_data/grad), tensor by
 * tensor as train_model_params() lays them out. For each tensor with
 * gradient g, at step t (1 for the first update):
 *
 *	p -= lr * wd * p                      (decoupled decay, only where train_optim_decays())
 *	m  = b1 * m + (1 - b1) * g
 *	v  = b2 * v + (1 - b2) * g * g
 *	p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 *
 * m and v are fp32 and laid out like the parameters. The update goes slab
 * by slab (train_model_slab), so a distributed version can update one slab
 * at a time: train_optim_update_slab() for each slab, then
 * train_optim_end_step(); train_optim_update() does all of it at once and
 * refuses non-finite gradients.
 */
struct train_optim_opts {
	double beta1, beta2;  /* 0.9, 0.95 (Ling TR §3.3) */
	double eps;           /* 1e-8, added to sqrt(v_hat) */
	double weight_decay;  /* 0.1; never on norm weights and biases */
};

#define TRAIN_OPTIM_OPTS_INIT { 0.9, 0.95, 1e-8, 0.1 }

struct train_optim;

/*
 * An optimizer for the n tensors of params (names, slabs and offsets into
 * arrays of size floats; train_model_params() and train_model_size() give
 * them). params must outlive the optimizer. Moments start at 0, step at 0.
 * @return NULL with err (LING_EUSAGE) on bad options (betas outside [0, 1),
 * eps or weight_decay negative or not finite) or a tensor outside size.
 */
struct train_optim *train_optim_new(const struct train_param *params, size_t n, size_t size,
				    const struct train_optim_opts *opts, struct ling_err *err);
/* The same for a model's tensors. */
struct train_optim *train_optim_new_for_model(const struct train_model *m, const struct train_optim_opts *opts,
					      struct ling_err *err);
void train_optim_free(struct train_optim *o);

/* 1 when weight decay applies to the tensor of that name: 0 for biases (".bias") and norm weights ("norm.weight"). */
int train_optim_decays(const char *name);

/* Updates done so far (t of the last update). */
long long train_optim_step(const struct train_optim *o);

/*
 * One AdamW step over all slabs with learning rate lr, then the step count
 * goes up. A non-finite gradient or lr is refused before anything changes:
 * LING_EDATA naming the first such tensor; weights, moments and step stay
 * as they were. @return 0 or LING_EDATA.
 */
int train_optim_update(struct train_optim *o, float *data, const float *grad, double lr, struct ling_err *err);

/*
 * The update of the tensors of slab s only, as step train_optim_step()+1;
 * no check of the gradients (the caller checks, e.g. with train_grad_clip).
 * After every slab is done, train_optim_end_step() counts the step.
 */
void train_optim_update_slab(struct train_optim *o, float *data, const float *grad, int slab, double lr);
void train_optim_end_step(struct train_optim *o);

/*
 * The optimizer state as named tensors that point into the optimizer itself:
 * "exp_avg.NAME" and "exp_avg_sq.NAME" (shape of tensor NAME) for every
 * tensor, then "step", a scalar holding the step count (exact up to 2^24).
 * Writing them (train_ckpt_write) saves the state; reading a checkpoint
 * into them (train_ckpt_read) fills it, after which
 * train_optim_state_loaded() takes the step from "step". The list is
 * valid until the optimizer is freed; *n gets its length.
 */
struct train_tensor *train_optim_state(struct train_optim *o, size_t *n);

/*
 * Takes the state read into train_optim_state()'s tensors into use.
 * @return 0, or LING_EDATA when "step" is not a whole number in [0, 2^24]
 * or a moment is not finite (or exp_avg_sq negative); the step is then 0.
 */
int train_optim_state_loaded(struct train_optim *o, struct ling_err *err);

/* The L2 norm of the n gradients (accumulated in double). */
double train_grad_norm(const float *grad, size_t n);

/*
 * Clips by global L2 norm as torch.nn.utils.clip_grad_norm_: when the norm
 * exceeds max_norm (> 0), every gradient is multiplied by
 * max_norm / (norm + 1e-6). @return the norm before clipping; a NaN or
 * infinite norm is returned as it is and the gradients are left alone (the
 * caller skips the step: train_optim_update() would refuse it anyway).
 */
double train_grad_clip(float *grad, size_t n, double max_norm);

/*
 * Learning-rate schedules, a pure function of the step (0 for the first
 * update). All start with a linear warmup: lr * (step + 1) / warmup for
 * step < warmup. Then:
 *  - constant: lr.
 *  - cosine:   min_lr + (lr - min_lr) * (1 + cos(pi * p)) / 2, with p going
 *              from 0 at step warmup to 1 at step total; min_lr from there on.
 *  - wsd:      warmup-stable-decay (Ling TR §3.3): lr until the last
 *              decay_frac of the steps, then linear from lr down to min_lr,
 *              p = (step - decay_start) / (total - decay_start) with
 *              decay_start = max(warmup, total - round(decay_frac * total));
 *              min_lr at step total and after.
 *
 *	lr ^      ______________            cosine: ^   __
 *	   |     /              \                   |  /  `-.
 *	   |    /                \   wsd            | /      `-._
 *	   |   /                  \___ min_lr       |/           `-- min_lr
 *	   +--+-----------------+-+---> step        +--+-------------> step
 *	    warmup       decay_start total
 */
enum train_schedule { TRAIN_SCHEDULE_CONSTANT, TRAIN_SCHEDULE_COSINE, TRAIN_SCHEDULE_WSD };

struct train_lr_opts {
	enum train_schedule schedule;
	double lr;          /* peak */
	double min_lr;      /* end of cosine and wsd, <= lr */
	long long warmup;   /* steps of linear warmup, >= 0 */
	long long total;    /* steps of the run, > 0 */
	double decay_frac;  /* wsd: fraction of total in the decay, [0, 1] */
};

/* Checks opts. @return 0 or LING_EUSAGE naming the option at fault. */
int train_lr_check(const struct train_lr_opts *opts, struct ling_err *err);

/*
 * The learning rate at step, times scale (1 normally; the anomaly handler
 * lowers the LR of a retried step with a scale below 1).
 */
double train_lr(const struct train_lr_opts *opts, long long step, double scale);

/* "constant", "cosine" or "wsd". @return 0, or LING_EUSAGE naming the schedules. */
int train_schedule_parse(const char *name, enum train_schedule *out, struct ling_err *err);
const char *train_schedule_name(enum train_schedule s);

/* ---- the training loop (train_loop.c) ---- */

/*
 * One run of training: RUN_DIR gets metrics.jsonl (a JSON line per step),
 * checkpoints ckpt-STEP/ and latest (doc/ling-train.1.md, "TRAINING").
 * Each step: zero the gradients; for each of grad_accum micro-batches the
 * next batch, forward (with the aux losses when fwd.aux), backward; the
 * gradients scaled to the mean over micro-batches, clipped to clip, then an
 * AdamW update with train_lr(step). A checkpoint ckpt-STEP/ is a Hugging
 * Face model directory (config.json, model.safetensors, tokenizer.json,
 * tokenizer_config.json) plus optimizer.safetensors and trainer_state.json
 * (step, the data position, the options), written to a temporary
 * directory, fsynced and renamed; RUN/latest names the newest and is
 * written last. --resume continues from latest bit for bit.
 */
/* AUTO: whole documents for a dataset with a chat template, else cut. */
enum train_pack { TRAIN_PACK_AUTO, TRAIN_PACK_WHOLE, TRAIN_PACK_CUT };

struct train_run_opts {
	const char *config;     /* config.json, or NULL with preset (not with init or resume) */
	const char *preset;
	const char *data;       /* dataset directory (tokenize build) */
	const char *out;        /* run directory */
	const char *init;       /* an HF-layout checkpoint to start from, or NULL */
	int resume;             /* continue from out/latest */
	long long steps;        /* total updates of the run */
	long long stop_at;      /* stop (with a checkpoint) after this step; 0 = steps */
	int seq_len, batch, grad_accum, threads;
	enum train_pack pack;   /* how documents fill rows (train_data_opts.whole_docs) */
	double clip;            /* global gradient norm limit, 0 = none */
	uint64_t seed;
	long long save_every;   /* 0 = only at the end */
	int keep;               /* checkpoints kept, 0 = all */
	long long eval_every;   /* 0 = never */
	int eval_batches;       /* batches of the valid split per evaluation */
	int progress;           /* a progress line on stderr */
	double spike_z;         /* anomaly z-score threshold, 0 = no spike detection (non-finite is always caught) */
	long long spike_warmup; /* accepted steps before spikes are judged */
	struct train_lr_opts lr; /* total is taken from steps */
	struct train_optim_opts optim;
	struct train_forward_opts fwd;
};

#define TRAIN_RUN_OPTS_INIT                                                                                \
	{ .steps = 1000, .seq_len = 256, .batch = 8, .grad_accum = 1, .clip = 1.0, .seed = 1, .save_every = 0, \
	  .keep = 0, .eval_every = 0, .eval_batches = 4, .spike_z = 6, .spike_warmup = 20,                 \
	  .lr = { TRAIN_SCHEDULE_COSINE, 3e-4, 3e-5, 100, 1000, 0.1 }, .optim = TRAIN_OPTIM_OPTS_INIT,       \
	  .fwd = { 1, 0.015, 1e-4 } }

/* What a run did, for the summary line. */
struct train_run_summary {
	long long first_step, last_step; /* steps done: (first_step, last_step] */
	double first_loss, last_loss, valid_loss; /* valid_loss NaN when never evaluated */
	double seconds, tokens_per_s, mfu;
	char ckpt[4096];                 /* the last checkpoint written */
};

/*
 * Runs the training. @return 0; LING_EUSAGE (inconsistent options); LING_EIO
 * (the run directory cannot be written, a file cannot be read); LING_EDATA
 * (a bad dataset, config or checkpoint; --resume with no checkpoint).
 */
int train_run(const struct train_run_opts *o, struct train_run_summary *sum, struct ling_err *err);

#endif
