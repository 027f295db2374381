/* ling-train: the Bailing MoE trainer: training (train_run), and the tools init, forward, convert, bench, --print-params. */
#include "train.h"

#include "../common/ling_clock.h"
#include "../common/ling_main.h"
#include "../common/ling_mem.h"
#include "../common/ling_num.h"
#include "../common/ling_stdio.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/banned.h"

static const char usage_text[] =
	"usage: ling-train (--config FILE | --preset NAME | --init CKPT | --resume) --data DIR --out RUN [options]\n"
	"       ling-train init (--config FILE | --preset NAME) --out DIR [--seed N] [--dtype f32|bf16]\n"
	"       ling-train forward --checkpoint DIR --tokens FILE [--mask FILE] [--docs FILE] [--aux] [--grads FILE] [--logits FILE]\n"
	"       ling-train convert --checkpoint DIR --out DIR [--dtype f32|bf16] [--max-shard-size BYTES]\n"
	"       ling-train bench (--config FILE | --preset NAME) --batch B --seq T [--iters N]\n"
	"       ling-train --print-params (--config FILE | --preset NAME)\n"
	"\n"
	"The Bailing MoE model of Ling (HF model_type bailing_moe) in fp32 on the CPU.\n"
	"Without a command, trains on the dataset DIR of tokenize build: metrics.jsonl,\n"
	"checkpoints RUN/ckpt-STEP/ and RUN/latest in RUN (see the man page).\n"
	"init writes a randomly initialised checkpoint directory; forward runs one batch\n"
	"and prints one JSON line (loss, counted tokens, parameters, first logits);\n"
	"convert rewrites an HF checkpoint (single or sharded, f32 or bf16) as ours;\n"
	"bench times forward+backward against this machine's sgemm peak.\n"
	"\n"
	"  -c, --config=FILE        an HF config.json\n"
	"  -p, --preset=NAME        ling-lite, ling-lite-1.5, ling-plus, tiny or demo\n"
	"      --print-params       print the total and active parameter counts\n"
	"  -o, --out=DIR            the checkpoint directory to write\n"
	"  -s, --seed=N             the seed of init and of bench's tokens (default: 1)\n"
	"      --dtype=TYPE         f32 or bf16 weights in what is written (default: f32)\n"
	"      --checkpoint=DIR     a checkpoint directory (config.json and safetensors)\n"
	"      --tokens=FILE        a JSON array of B arrays of T token ids\n"
	"      --mask=FILE          0/1 per position, same shape: which targets count\n"
	"      --docs=FILE          a non-decreasing document index per position, same shape\n"
	"      --aux                add the balance and z losses (and print them)\n"
	"      --grads=FILE         write d(loss)/d(parameter) as fp32 safetensors\n"
	"      --logits=FILE        write the logits [B,T,V] as fp32 safetensors\n"
	"      --max-shard-size=N   shard the weights above N bytes (k, M, G allowed)\n"
	"      --batch=B            rows per batch (bench; training: per micro-batch, default 8)\n"
	"      --seq=T              tokens per row (bench)\n"
	"      --iters=N            timed steps (bench; default: 3)\n"
	"  -j, --threads=N          threads (default: the online CPUs)\n"
	"\n"
	"Training:\n"
	"  -d, --data=DIR           the dataset directory (tokenize build)\n"
	"      --init=CKPT          start from the weights of an HF-layout checkpoint\n"
	"      --resume             continue from RUN/latest, bit for bit\n"
	"      --steps=N            updates in all (default: 1000)\n"
	"      --stop-at=N          stop after update N, with a checkpoint (default: --steps)\n"
	"      --seq-len=T          positions per row (default: 256)\n"
	"      --pack=HOW           whole: a document that fits in a row is never cut\n"
	"                           (the rest of a row is padding); cut: rows are\n"
	"                           filled densely (default: whole for chat datasets)\n"
	"      --grad-accum=N       micro-batches per update (default: 1)\n"
	"      --lr=X               peak learning rate (default: 3e-4)\n"
	"      --min-lr=X           final learning rate (default: 3e-5)\n"
	"      --warmup=N           steps of linear warmup (default: 100)\n"
	"      --schedule=NAME      cosine, wsd or constant (default: cosine)\n"
	"      --decay-frac=X       wsd: the fraction of steps that decay (default: 0.1)\n"
	"      --weight-decay=X     AdamW decay, not on norms and biases (default: 0.1)\n"
	"      --clip=X             gradient norm limit, 0 = none (default: 1.0)\n"
	"      --balance-coef=X     balance loss weight (default: 0.015)\n"
	"      --z-coef=X           router z-loss weight (default: 1e-4)\n"
	"      --no-aux             train on the cross-entropy alone\n"
	"      --save-every=N       a checkpoint every N steps (default: at the end only)\n"
	"      --keep=N             keep the newest N checkpoints (default: all)\n"
	"      --eval-every=N       validation loss every N steps (default: never)\n"
	"      --eval-batches=N     batches per validation (default: 4)\n"
	"      --spike-z=X          skip a step whose loss or gradient norm is X deviations\n"
	"                           above the recent mean, 0 = never (default: 6)\n"
	"      --spike-warmup=N     steps before spikes are judged (default: 20)\n"
	"      --supervise=N        run the training in a child process; when it is killed\n"
	"                           by a signal, restart it from RUN/latest, up to N times\n"
	"  -h, --help               show this help\n"
	"  -V, --version            show the version\n"
	"\n"
	"Exit status: 0 ok, 1 bad input or runtime error, 2 usage error.\n";

enum {
	OPT_PRINT_PARAMS = 256,
	OPT_DTYPE,
	OPT_CHECKPOINT,
	OPT_TOKENS,
	OPT_MASK,
	OPT_DOCS,
	OPT_AUX,
	OPT_GRADS,
	OPT_LOGITS,
	OPT_MAX_SHARD,
	OPT_BATCH,
	OPT_SEQ,
	OPT_ITERS,
	OPT_INIT,
	OPT_RESUME,
	OPT_STEPS,
	OPT_STOP_AT,
	OPT_SEQ_LEN,
	OPT_PACK,
	OPT_GRAD_ACCUM,
	OPT_LR,
	OPT_MIN_LR,
	OPT_WARMUP,
	OPT_SCHEDULE,
	OPT_DECAY_FRAC,
	OPT_WEIGHT_DECAY,
	OPT_CLIP,
	OPT_BALANCE_COEF,
	OPT_Z_COEF,
	OPT_NO_AUX,
	OPT_SAVE_EVERY,
	OPT_KEEP,
	OPT_EVAL_EVERY,
	OPT_EVAL_BATCHES,
	OPT_SPIKE_Z,
	OPT_SPIKE_WARMUP,
	OPT_SUPERVISE,
};

struct opts {
	const char *config, *preset, *out, *checkpoint, *tokens, *mask, *docs, *grads, *logits;
	int print_params, aux, bf16, threads, batch, seq, iters;
	uint64_t seed;
	unsigned long long max_shard;
	struct train_run_opts run; /* training */
	long long supervise;       /* restarts allowed after a crash */
	int training;              /* a training option was given */
};

static int usage_error(const char *fmt, ...) LING_PRINTF(1, 2);

static int usage_error(const char *fmt, ...)
{
	struct ling_buf msg = LING_BUF_INIT;
	va_list ap;
	int len, rc;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0)
		return ling_usage_error("ling-train", "ling-train COMMAND [options]", fmt);
	ling_buf_reserve(&msg, (size_t)len);
	va_start(ap, fmt);
	vsnprintf(msg.data, (size_t)len + 1, fmt, ap);
	va_end(ap);
	rc = ling_usage_error("ling-train", "ling-train COMMAND [options]", msg.data);
	ling_buf_release(&msg);
	return rc;
}

static int fail(const struct ling_err *err)
{
	ling_err_print("ling-train", err);
	return ling_err_exit_code(err);
}

/* ---- reading inputs ---- */

static int read_config(const struct opts *o, struct train_config *cfg, struct ling_err *err)
{
	if (o->preset)
		return train_config_preset(cfg, o->preset, err);
	return train_config_load(cfg, o->config, err);
}

/*
 * Reads a JSON array of B equal-length arrays of integers in [lo, hi] into out[B*T].
 * When *B is set (> 0), the shape must be B x T.
 */
static int read_matrix(const char *path, long long lo, long long hi, int *B, int *T, int32_t **out,
		       struct ling_err *err)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr);
	size_t rows, cols;
	int rc = 0;

	*out = NULL;
	if (!root) {
		if (jerr.line < 1)
			return ling_err_at(err, LING_EIO, path, 0, 0, "%s", jerr.text);
		return ling_err_at(err, LING_EDATA, path, jerr.line, jerr.column, "not JSON: %s", jerr.text);
	}
	if (!json_is_array(root) || !(rows = json_array_size(root)) || !json_is_array(json_array_get(root, 0)) ||
	    !(cols = json_array_size(json_array_get(root, 0)))) {
		json_decref(root);
		return ling_err_at(err, LING_EDATA, path, 0, 0, "not a non-empty array of non-empty arrays");
	}
	if (rows > (1u << 20) || cols > (1u << 24) || rows * cols > (1u << 26)) {
		json_decref(root);
		return ling_err_at(err, LING_EDATA, path, 0, 0, "too large (%zu x %zu)", rows, cols);
	}
	if (*B > 0 && ((size_t)*B != rows || (size_t)*T != cols)) {
		json_decref(root);
		return ling_err_at(err, LING_EDATA, path, 0, 0, "shape %zu x %zu does not match the tokens' %d x %d", rows,
				   cols, *B, *T);
	}
	*out = xmalloc(rows * cols * sizeof(int32_t));
	for (size_t r = 0; r < rows && !rc; r++) {
		json_t *row = json_array_get(root, r);

		if (!json_is_array(row) || json_array_size(row) != cols) {
			rc = ling_err_at(err, LING_EDATA, path, 0, 0, "row %zu: not an array of %zu values like row 0", r, cols);
			break;
		}
		for (size_t c = 0; c < cols; c++) {
			json_t *v = json_array_get(row, c);

			if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
				rc = ling_err_at(err, LING_EDATA, path, 0, 0, "row %zu, position %zu: not an integer in [%lld, %lld]",
						 r, c, lo, hi);
				break;
			}
			(*out)[r * cols + c] = (int32_t)json_integer_value(v);
		}
	}
	json_decref(root);
	if (rc) {
		free(*out);
		*out = NULL;
		return rc;
	}
	*B = (int)rows;
	*T = (int)cols;
	return 0;
}

/*
 * Refuses a model whose fp32 weights alone exceed this machine's memory (Ling-Lite needs 67 GB), instead
 * of being killed half way. name is the config's file or preset.
 */
static int check_memory(const struct train_config *cfg, const char *name, struct ling_err *err)
{
	double need = 4.0 * (double)train_config_count(cfg).total;
	double have = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);

	if (have > 0 && need > have)
		return ling_err_at(err, LING_EDATA, name, 0, 0,
				   "the fp32 weights need %.1f GB, more than this machine's %.1f GB of memory", need / 1e9,
				   have / 1e9);
	return 0;
}

/* The model's tensors as struct train_tensor over its parameters (or its gradients). */
static struct train_tensor *model_tensors(struct train_model *m, int grads, size_t *n)
{
	const struct train_param *p = train_model_params(m, n);
	float *base = grads ? train_model_grad(m) : train_model_data(m);
	struct train_tensor *t = xcalloc(*n, sizeof(*t));

	for (size_t i = 0; i < *n; i++) {
		t[i].name = p[i].name;
		t[i].ndim = p[i].ndim;
		t[i].shape[0] = p[i].shape[0];
		t[i].shape[1] = p[i].shape[1];
		t[i].data = base + p[i].offset;
	}
	return t;
}

/* Loads DIR/config.json and the weights of DIR. */
static int load_checkpoint(const char *dir, int threads, struct train_model **out, struct ling_err *err)
{
	struct ling_buf path = LING_BUF_INIT;
	struct train_config cfg;
	struct train_tensor *t;
	size_t n;
	int rc;

	*out = NULL;
	ling_buf_addf(&path, "%s/config.json", dir);
	rc = train_config_load(&cfg, path.data, err);
	ling_buf_release(&path);
	if (rc || (rc = check_memory(&cfg, dir, err)))
		return rc;
	*out = train_model_new(&cfg, train_cpu_backend_new(threads));
	t = model_tensors(*out, 0, &n);
	rc = train_ckpt_read(dir, t, n, 0, err);
	free(t);
	if (rc) {
		train_model_free(*out);
		*out = NULL;
	}
	return rc;
}

static int write_checkpoint(struct train_model *m, const char *dir, int bf16, unsigned long long max_shard,
			    struct ling_err *err)
{
	struct ling_buf json = LING_BUF_INIT;
	struct train_tensor *t;
	size_t n;
	int rc;

	train_config_to_json(train_model_config(m), bf16 ? "bfloat16" : "float32", &json);
	t = model_tensors(m, 0, &n);
	rc = train_ckpt_write(dir, json.data, t, n, bf16 ? TRAIN_BF16 : TRAIN_F32, max_shard, err);
	free(t);
	ling_buf_release(&json);
	return rc;
}

static int print_line(struct ling_buf *line, struct ling_err *err)
{
	int rc = ling_stdout_write(line->data, line->len, err);

	return rc ? rc : ling_stdout_finish(err);
}

/* ---- commands ---- */

static int cmd_print_params(const struct opts *o, struct ling_err *err)
{
	struct train_config cfg;
	struct train_param_count n;
	struct ling_buf line = LING_BUF_INIT;
	int rc;

	if ((rc = read_config(o, &cfg, err)))
		return rc;
	n = train_config_count(&cfg);
	ling_buf_addf(&line, "total %" PRIu64 " (%.2fB) active %" PRIu64 " (%.2fB)\n", n.total, (double)n.total / 1e9,
		      n.active, (double)n.active / 1e9);
	rc = print_line(&line, err);
	ling_buf_release(&line);
	return rc;
}

static int cmd_init(const struct opts *o, struct ling_err *err)
{
	struct train_config cfg;
	struct train_model *m;
	int rc;

	if ((rc = read_config(o, &cfg, err)) || (rc = check_memory(&cfg, o->preset ? o->preset : o->config, err)))
		return rc;
	m = train_model_new(&cfg, train_cpu_backend_new(o->threads));
	train_model_init(m, o->seed);
	rc = write_checkpoint(m, o->out, o->bf16, 0, err);
	train_model_free(m);
	return rc;
}

static int cmd_convert(const struct opts *o, struct ling_err *err)
{
	struct train_model *m;
	int rc;

	if ((rc = load_checkpoint(o->checkpoint, o->threads, &m, err)))
		return rc;
	rc = write_checkpoint(m, o->out, o->bf16, o->max_shard, err);
	train_model_free(m);
	return rc;
}

static void add_doubles(struct ling_buf *line, const char *key, const double *v, int n)
{
	ling_buf_addf(line, ",\"%s\":[", key);
	for (int i = 0; i < n; i++)
		ling_buf_addf(line, "%s%.9g", i ? "," : "", v[i]);
	ling_buf_addc(line, ']');
}

/* The logits of the last forward as one fp32 tensor "logits" [B, T, V] (before train_backward overwrites them). */
static int write_logits(struct train_model *m, const struct train_batch *b, const char *path, struct ling_err *err)
{
	struct train_tensor t = { "logits", 3, { b->B, b->T, train_model_config(m)->vocab_size, 0 },
				  (float *)train_model_logits(m) };

	return train_st_write(path, &t, 1, TRAIN_F32, err);
}

static int cmd_forward(const struct opts *o, struct ling_err *err)
{
	struct train_model *m = NULL;
	struct train_batch b = { 0, 0, NULL, NULL, NULL };
	struct train_forward_opts fo = TRAIN_FORWARD_OPTS_INIT;
	struct train_loss loss;
	struct ling_buf line = LING_BUF_INIT;
	int32_t *tokens = NULL, *mask = NULL, *docs = NULL;
	uint8_t *mask8 = NULL;
	const float *logits;
	int rc;

	if ((rc = load_checkpoint(o->checkpoint, o->threads, &m, err)))
		goto out;
	if ((rc = read_matrix(o->tokens, INT32_MIN, INT32_MAX, &b.B, &b.T, &tokens, err)))
		goto out;
	if (o->mask && (rc = read_matrix(o->mask, 0, 1, &b.B, &b.T, &mask, err)))
		goto out;
	if (o->docs && (rc = read_matrix(o->docs, 0, INT32_MAX, &b.B, &b.T, &docs, err)))
		goto out;
	if (mask) {
		mask8 = xmalloc((size_t)b.B * b.T);
		for (size_t i = 0; i < (size_t)b.B * b.T; i++)
			mask8[i] = (uint8_t)mask[i];
	}
	b.tokens = tokens;
	b.mask = mask8;
	b.docs = docs;
	fo.aux = o->aux;
	if ((rc = train_forward(m, &b, &fo, &loss, err))) {
		/* the batch's fault: name the file the bad value came from */
		char msg[sizeof(err->msg)];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		ling_err_at(err, rc, strstr(msg, "document") ? o->docs : o->tokens, 0, 0, "%s", msg);
		goto out;
	}
	logits = train_model_logits(m);
	ling_buf_addf(&line, "{\"loss\":%.9g,\"tokens\":%lld,\"n_params\":%zu,\"logits_first\":[", loss.loss, loss.counted,
		      (size_t)train_config_count(train_model_config(m)).total);
	for (int i = 0; i < 8 && i < train_model_config(m)->vocab_size; i++)
		ling_buf_addf(&line, "%s%.9g", i ? "," : "", logits[i]);
	ling_buf_addc(&line, ']');
	if (o->aux) {
		ling_buf_addf(&line, ",\"ce\":%.9g", loss.ce);
		add_doubles(&line, "balance", loss.balance, loss.n_moe);
		add_doubles(&line, "z", loss.z, loss.n_moe);
	}
	ling_buf_adds(&line, "}\n");
	if (o->logits && (rc = write_logits(m, &b, o->logits, err)))
		goto out;
	if (o->grads) {
		struct train_tensor *t;
		size_t n;

		train_model_zero_grad(m);
		train_backward(m);
		t = model_tensors(m, 1, &n);
		rc = train_st_write(o->grads, t, n, TRAIN_F32, err);
		free(t);
		if (rc)
			goto out;
	}
	rc = print_line(&line, err);
out:
	ling_buf_release(&line);
	free(tokens);
	free(mask);
	free(mask8);
	free(docs);
	train_model_free(m);
	return rc;
}

static int cmd_bench(const struct opts *o, struct ling_err *err)
{
	struct train_config cfg;
	struct train_model *m;
	struct train_batch b;
	struct train_forward_opts fo = TRAIN_FORWARD_OPTS_INIT;
	struct train_loss loss;
	struct ling_buf line = LING_BUF_INIT;
	struct rusage ru;
	int32_t *tokens;
	uint64_t s = o->seed * 0x9e3779b97f4a7c15ull + 1;
	double best = 1e30, flops, peak;
	int rc;

	if ((rc = read_config(o, &cfg, err)) || (rc = check_memory(&cfg, o->preset ? o->preset : o->config, err)))
		return rc;
	m = train_model_new(&cfg, train_cpu_backend_new(o->threads));
	train_model_init(m, o->seed);
	tokens = xmalloc((size_t)o->batch * o->seq * sizeof(int32_t));
	for (size_t i = 0; i < (size_t)o->batch * o->seq; i++) {
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		tokens[i] = (int32_t)(s % (uint64_t)cfg.vocab_size);
	}
	b = (struct train_batch){ o->batch, o->seq, tokens, NULL, NULL };
	for (int it = 0; it <= o->iters; it++) { /* the first step warms up */
		double t0 = ling_now();

		if ((rc = train_forward(m, &b, &fo, &loss, err)))
			break;
		train_backward(m);
		t0 = ling_now() - t0;
		if (it > 0 && t0 < best)
			best = t0;
	}
	peak = train_cpu_sgemm_gflops(train_model_backend(m), 2048, 3);
	flops = train_model_flops(&cfg, o->batch, o->seq);
	getrusage(RUSAGE_SELF, &ru);
	if (!rc) {
		ling_buf_addf(&line,
			      "{\"config\":\"%s\",\"batch\":%d,\"seq\":%d,\"threads\":%d,\"iters\":%d,\"loss\":%.6g,"
			      "\"seconds_per_step\":%.6g,\"flops_per_step\":%.6g,\"gflops\":%.6g,\"sgemm_peak_gflops\":%.6g,"
			      "\"fraction_of_peak\":%.4f,\"peak_rss_mb\":%.1f}\n",
			      o->preset ? o->preset : o->config, o->batch, o->seq, train_model_threads(m), o->iters,
			      loss.loss, best, flops, flops / best / 1e9, peak, flops / best / 1e9 / peak,
			      (double)ru.ru_maxrss / 1024.0);
		rc = print_line(&line, err);
	}
	ling_buf_release(&line);
	free(tokens);
	train_model_free(m);
	return rc;
}

/* ---- options ---- */

/* ---- training ---- */

static int parse_real(const char *name, const char *arg, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v >= lo && v <= hi))
		return usage_error("--%s needs a number in [%g, %g], not '%s'", name, lo, hi, arg);
	*out = v;
	return 0;
}

static int parse_count(const char *name, const char *arg, long long lo, long long hi, long long *out)
{
	if (ling_parse_long(arg, lo, hi, out))
		return usage_error("--%s needs a whole number in [%lld, %lld], not '%s'", name, lo, hi, arg);
	return 0;
}

/* One training option into r. @return 0 or the usage exit code. */
static int parse_train_option(int c, const char *arg, struct opts *o)
{
	struct train_run_opts *r = &o->run;
	struct ling_err err;
	long long v = 0;
	int rc = 0;

	switch (c) {
	case OPT_SUPERVISE: rc = parse_count("supervise", arg, 0, 1000, &o->supervise); break;
	case OPT_INIT: r->init = arg; break;
	case OPT_RESUME: r->resume = 1; break;
	case OPT_STEPS: rc = parse_count("steps", arg, 1, INT64_MAX / 2, &r->steps); break;
	case OPT_STOP_AT: rc = parse_count("stop-at", arg, 1, INT64_MAX / 2, &r->stop_at); break;
	case OPT_SEQ_LEN: rc = parse_count("seq-len", arg, 1, 1 << 20, &v), r->seq_len = (int)v; break;
	case OPT_PACK:
		if (strcmp(arg, "whole") && strcmp(arg, "cut"))
			return usage_error("--pack is whole or cut, not '%s'", arg);
		r->pack = arg[0] == 'w' ? TRAIN_PACK_WHOLE : TRAIN_PACK_CUT;
		break;
	case OPT_GRAD_ACCUM: rc = parse_count("grad-accum", arg, 1, 1 << 20, &v), r->grad_accum = (int)v; break;
	case OPT_LR: rc = parse_real("lr", arg, 0, 10, &r->lr.lr); break;
	case OPT_MIN_LR: rc = parse_real("min-lr", arg, 0, 10, &r->lr.min_lr); break;
	case OPT_WARMUP: rc = parse_count("warmup", arg, 0, INT64_MAX / 2, &r->lr.warmup); break;
	case OPT_SCHEDULE:
		if (train_schedule_parse(arg, &r->lr.schedule, &err))
			return usage_error("--schedule is constant, cosine or wsd, not '%s'", arg);
		break;
	case OPT_DECAY_FRAC: rc = parse_real("decay-frac", arg, 0, 1, &r->lr.decay_frac); break;
	case OPT_WEIGHT_DECAY: rc = parse_real("weight-decay", arg, 0, 10, &r->optim.weight_decay); break;
	case OPT_CLIP: rc = parse_real("clip", arg, 0, 1e30, &r->clip); break;
	case OPT_BALANCE_COEF: rc = parse_real("balance-coef", arg, 0, 1e3, &r->fwd.balance_coef); break;
	case OPT_Z_COEF: rc = parse_real("z-coef", arg, 0, 1e3, &r->fwd.z_coef); break;
	case OPT_NO_AUX: r->fwd.aux = 0; break;
	case OPT_SAVE_EVERY: rc = parse_count("save-every", arg, 0, INT64_MAX / 2, &r->save_every); break;
	case OPT_KEEP: rc = parse_count("keep", arg, 0, 1 << 20, &v), r->keep = (int)v; break;
	case OPT_EVAL_EVERY: rc = parse_count("eval-every", arg, 0, INT64_MAX / 2, &r->eval_every); break;
	case OPT_EVAL_BATCHES: rc = parse_count("eval-batches", arg, 1, 1 << 20, &v), r->eval_batches = (int)v; break;
	case OPT_SPIKE_Z: rc = parse_real("spike-z", arg, 0, 1e6, &r->spike_z); break;
	case OPT_SPIKE_WARMUP: rc = parse_count("spike-warmup", arg, 0, INT64_MAX / 2, &r->spike_warmup); break;
	default: break;
	}
	return rc;
}

/* Trains; a summary line on stderr. */
static int cmd_train(struct opts *o, struct ling_err *err)
{
	struct train_run_summary sum;
	int rc;

	o->run.config = o->config;
	o->run.preset = o->preset;
	o->run.out = o->out;
	o->run.seed = o->seed;
	o->run.threads = o->threads;
	if (o->batch)
		o->run.batch = o->batch;
	o->run.progress = isatty(STDERR_FILENO);
	if ((rc = train_run(&o->run, &sum, err)) || (rc = ling_stdout_finish(err)))
		return rc;
	fprintf(stderr, "ling-train: steps %lld..%lld, loss %.4f -> %.4f", sum.first_step + 1, sum.last_step,
		sum.first_loss, sum.last_loss);
	if (!isnan(sum.valid_loss))
		fprintf(stderr, ", valid %.4f", sum.valid_loss);
	fprintf(stderr, ", %.1f s, %.0f tokens/s, MFU %.1f%%, checkpoint %s\n", sum.seconds, sum.tokens_per_s,
		100 * sum.mfu, sum.ckpt[0] ? sum.ckpt : "(none)");
	return 0;
}

static int parse_options(int argc, char **argv, struct opts *o)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "preset", required_argument, NULL, 'p' },
		{ "print-params", no_argument, NULL, OPT_PRINT_PARAMS },
		{ "out", required_argument, NULL, 'o' },
		{ "seed", required_argument, NULL, 's' },
		{ "dtype", required_argument, NULL, OPT_DTYPE },
		{ "checkpoint", required_argument, NULL, OPT_CHECKPOINT },
		{ "tokens", required_argument, NULL, OPT_TOKENS },
		{ "mask", required_argument, NULL, OPT_MASK },
		{ "docs", required_argument, NULL, OPT_DOCS },
		{ "aux", no_argument, NULL, OPT_AUX },
		{ "grads", required_argument, NULL, OPT_GRADS },
		{ "logits", required_argument, NULL, OPT_LOGITS },
		{ "max-shard-size", required_argument, NULL, OPT_MAX_SHARD },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "seq", required_argument, NULL, OPT_SEQ },
		{ "iters", required_argument, NULL, OPT_ITERS },
		{ "threads", required_argument, NULL, 'j' },
		{ "data", required_argument, NULL, 'd' },
		{ "init", required_argument, NULL, OPT_INIT },
		{ "resume", no_argument, NULL, OPT_RESUME },
		{ "steps", required_argument, NULL, OPT_STEPS },
		{ "stop-at", required_argument, NULL, OPT_STOP_AT },
		{ "seq-len", required_argument, NULL, OPT_SEQ_LEN },
		{ "pack", required_argument, NULL, OPT_PACK },
		{ "grad-accum", required_argument, NULL, OPT_GRAD_ACCUM },
		{ "lr", required_argument, NULL, OPT_LR },
		{ "min-lr", required_argument, NULL, OPT_MIN_LR },
		{ "warmup", required_argument, NULL, OPT_WARMUP },
		{ "schedule", required_argument, NULL, OPT_SCHEDULE },
		{ "decay-frac", required_argument, NULL, OPT_DECAY_FRAC },
		{ "weight-decay", required_argument, NULL, OPT_WEIGHT_DECAY },
		{ "clip", required_argument, NULL, OPT_CLIP },
		{ "balance-coef", required_argument, NULL, OPT_BALANCE_COEF },
		{ "z-coef", required_argument, NULL, OPT_Z_COEF },
		{ "no-aux", no_argument, NULL, OPT_NO_AUX },
		{ "save-every", required_argument, NULL, OPT_SAVE_EVERY },
		{ "keep", required_argument, NULL, OPT_KEEP },
		{ "eval-every", required_argument, NULL, OPT_EVAL_EVERY },
		{ "eval-batches", required_argument, NULL, OPT_EVAL_BATCHES },
		{ "spike-z", required_argument, NULL, OPT_SPIKE_Z },
		{ "spike-warmup", required_argument, NULL, OPT_SPIKE_WARMUP },
		{ "supervise", required_argument, NULL, OPT_SUPERVISE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	long long v;
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:p:o:s:j:d:hV", options, NULL)) != -1) {
		if (c >= OPT_INIT || c == 'd')
			o->training = 1;
		if (c >= OPT_INIT && (rc = parse_train_option(c, optarg, o)))
			return rc;
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'p': o->preset = optarg; break;
		case OPT_PRINT_PARAMS: o->print_params = 1; break;
		case 'o': o->out = optarg; break;
		case 's':
			if (ling_parse_long(optarg, 0, INT64_MAX, &v))
				return usage_error("--seed needs a number >= 0, not '%s'", optarg);
			o->seed = (uint64_t)v;
			break;
		case OPT_DTYPE:
			if (strcmp(optarg, "f32") && strcmp(optarg, "bf16"))
				return usage_error("--dtype is f32 or bf16, not '%s'", optarg);
			o->bf16 = !strcmp(optarg, "bf16");
			break;
		case OPT_CHECKPOINT: o->checkpoint = optarg; break;
		case OPT_TOKENS: o->tokens = optarg; break;
		case OPT_MASK: o->mask = optarg; break;
		case OPT_DOCS: o->docs = optarg; break;
		case OPT_AUX: o->aux = 1; break;
		case OPT_GRADS: o->grads = optarg; break;
		case OPT_LOGITS: o->logits = optarg; break;
		case OPT_MAX_SHARD:
			if (ling_parse_size(optarg, &o->max_shard) || !o->max_shard)
				return usage_error("--max-shard-size needs a size > 0, not '%s'", optarg);
			break;
		case OPT_BATCH:
		case OPT_SEQ:
		case OPT_ITERS:
		case 'j':
			if (ling_parse_long(optarg, c == 'j' ? 0 : 1, c == 'j' ? 256 : 1 << 20, &v))
				return usage_error("a number is needed, not '%s'", optarg);
			*(c == OPT_BATCH ? &o->batch : c == OPT_SEQ ? &o->seq : c == OPT_ITERS ? &o->iters : &o->threads) =
				(int)v;
			break;
		case 'd': o->run.data = optarg; break;
		case 'h': return 'h';
		case 'V': return 'V';
		case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			if (c >= OPT_INIT)
				break;
			if (optopt) {
				char name[3] = { '-', (char)optopt, 0 };

				return usage_error("unknown option '%s'", name);
			}
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	return 0;
}

/*
 * --supervise: the training runs in a child; a child killed by a signal is
 * started again with --resume (once RUN/latest exists), up to o->supervise
 * times. An exit with a status (an error of the input, or success) is final.
 * @return the exit status.
 */
static int supervise_train(struct opts *o, struct ling_err *err)
{
	for (long long restarts = 0;; restarts++) {
		struct ling_buf latest = LING_BUF_INIT;
		pid_t pid;
		int status;

		ling_buf_addf(&latest, "%s/latest", o->out);
		if (restarts > 0 && access(latest.data, F_OK) == 0) {
			o->run.resume = 1;
			o->run.init = NULL;
			o->config = o->preset = NULL;
		}
		ling_buf_release(&latest);
		fflush(NULL);
		if ((pid = fork()) < 0) {
			ling_err_set(err, LING_EIO, "--supervise: cannot fork: %s", strerror(errno));
			return fail(err);
		}
		if (pid == 0) {
			int rc = cmd_train(o, err);

			if (rc)
				ling_err_print("ling-train", err);
			fflush(NULL);
			_exit(rc ? ling_err_exit_code(err) : 0);
		}
		while (waitpid(pid, &status, 0) < 0) {
			if (errno != EINTR) {
				ling_err_set(err, LING_EIO, "--supervise: cannot wait: %s", strerror(errno));
				return fail(err);
			}
		}
		if (WIFEXITED(status))
			return WEXITSTATUS(status);
		if (restarts == o->supervise) {
			ling_err_set(err, LING_EIO, "--supervise: the run was killed by signal %d, all %lld restarts used",
				     WTERMSIG(status), restarts);
			return fail(err);
		}
		fprintf(stderr, "ling-train: --supervise: the run was killed by signal %d; restart %lld of %lld from %s/latest\n",
			WTERMSIG(status), restarts + 1, o->supervise, o->out);
	}
}

/* 1 when forward's output file f is one of its inputs. */
static int overwrites_input(const struct opts *o, const char *f)
{
	char weights[4096];

	snprintf(weights, sizeof(weights), "%s/model.safetensors", o->checkpoint);
	return ling_same_file(f, o->tokens) || (o->mask && ling_same_file(f, o->mask)) ||
	       (o->docs && ling_same_file(f, o->docs)) || ling_same_file(f, weights);
}

/* Checks that a command got what it needs and nothing it would ignore. */
static int check_command(const char *cmd, const struct opts *o)
{
	int wants_config = !strcmp(cmd, "init") || !strcmp(cmd, "bench") || !strcmp(cmd, "print-params");

	if (wants_config && !o->config == !o->preset)
		return usage_error("%s needs one of --config FILE and --preset NAME", cmd);
	if (!wants_config && (o->config || o->preset))
		return usage_error("%s reads the config of --checkpoint", cmd);
	if ((!strcmp(cmd, "init") || !strcmp(cmd, "convert")) && !o->out)
		return usage_error("%s needs --out DIR", cmd);
	if ((!strcmp(cmd, "forward") || !strcmp(cmd, "convert")) && !o->checkpoint)
		return usage_error("%s needs --checkpoint DIR", cmd);
	if (!strcmp(cmd, "forward") && !o->tokens)
		return usage_error("%s needs --tokens FILE", cmd);
	if (strcmp(cmd, "forward") && (o->tokens || o->mask || o->docs || o->aux || o->grads || o->logits))
		return usage_error("--tokens, --mask, --docs, --aux, --grads and --logits are for forward, not %s", cmd);
	if (!strcmp(cmd, "bench") && (!o->batch || !o->seq))
		return usage_error("%s needs --batch B and --seq T", cmd);
	if (o->grads && overwrites_input(o, o->grads))
		return usage_error("--grads %s would overwrite an input", o->grads);
	if (o->logits && overwrites_input(o, o->logits))
		return usage_error("--logits %s would overwrite an input", o->logits);
	if (o->grads && o->logits && ling_same_file(o->grads, o->logits))
		return usage_error("--grads and --logits name the same file %s", o->logits);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .seed = 1, .iters = 3, .run = TRAIN_RUN_OPTS_INIT };
	struct ling_err err;
	const char *cmd;
	int closed = ling_stdio_init(), rc;

	ling_err_clear(&err);
	if ((rc = parse_options(argc, argv, &o)) == 'h') {
		return ling_print_help("ling-train", usage_text);
	} else if (rc == 'V') {
		return ling_print_version_checked("ling-train");
	} else if (rc) {
		return rc;
	}
	if (o.training) {
		if (optind < argc)
			return usage_error("training takes no command ('%s')", argv[optind]);
		if (!o.run.data || !o.out)
			return usage_error("%s", "training needs --data DIR and --out RUN");
		if (!o.run.resume && !o.run.init && !o.config == !o.preset)
			return usage_error("%s", "training needs one of --config FILE, --preset NAME, --init CKPT, --resume");
		if (o.run.init && (o.config || o.preset))
			return usage_error("%s", "--init takes the model of the checkpoint, not --config or --preset");
		if (o.run.resume && (o.run.init || o.config || o.preset))
			return usage_error("%s", "--resume takes the model of the checkpoint, not --init, --config or --preset");
		if (o.supervise > 0) {
			return supervise_train(&o, &err);
		}
		rc = cmd_train(&o, &err);
		return rc ? fail(&err) : 0;
	}
	if (o.print_params) {
		if (optind < argc)
			return usage_error("--print-params takes no command ('%s')", argv[optind]);
		cmd = "print-params";
	} else if (optind >= argc) {
		return usage_error("%s", "a command is needed: init, forward, convert, bench (or --print-params)");
	} else {
		cmd = argv[optind++];
		if (strcmp(cmd, "init") && strcmp(cmd, "forward") && strcmp(cmd, "convert") && strcmp(cmd, "bench"))
			return usage_error("unknown command '%s' (init, forward, convert, bench)", cmd);
		if (optind < argc)
			return usage_error("unexpected argument '%s'", argv[optind]);
	}
	if ((rc = check_command(cmd, &o)))
		return rc;
	if (strcmp(cmd, "init") && strcmp(cmd, "convert") && (rc = ling_stdio_require(closed, LING_STDOUT_CLOSED, &err)))
		return fail(&err);

	if (!strcmp(cmd, "print-params"))
		rc = cmd_print_params(&o, &err);
	else if (!strcmp(cmd, "init"))
		rc = cmd_init(&o, &err);
	else if (!strcmp(cmd, "forward"))
		rc = cmd_forward(&o, &err);
	else if (!strcmp(cmd, "convert"))
		rc = cmd_convert(&o, &err);
	else
		rc = cmd_bench(&o, &err);
	return rc ? fail(&err) : 0;
}
