/* train_loop: the step loop, evaluation, metrics.jsonl and checkpoints with exact resume (train.h). */
#include "train_internal.h"

#include "../common/ling_clock.h"
#include "../common/ling_file.h"
#include "../common/ling_input.h"
#include "../common/ling_json.h"
#include "../common/ling_mem.h"
#include "../common/ling_rand.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/banned.h"

/*
 * Anomaly detection (doc/ling-train.1.md, "Anomalies"): an exponential
 * running mean and variance of a value over the accepted steps (weight
 * max(1/n, 1/10)), so that a spike is judged against the recent past.
 */
struct spike_stats {
	long long n;
	double mean, var;
};

static void stats_add(struct spike_stats *st, double x)
{
	double a = st->n < 10 ? 1.0 / (double)(st->n + 1) : 1.0 / 10, d = x - st->mean;

	st->n++;
	st->mean += a * d;
	st->var = (1 - a) * (st->var + a * d * d);
}

/* The z-score of x, or 0 before warmup accepted steps or when x is not also above twice the mean. */
static double stats_z(const struct spike_stats *st, double x, long long warmup)
{
	double sd = sqrt(st->var) + 1e-6 * fabs(st->mean);

	if (st->n < warmup || !(x > 2 * st->mean) || !(sd > 0))
		return 0;
	return (x - st->mean) / sd;
}

/* Everything a run holds. */
struct run {
	const struct train_run_opts *o;
	struct train_model *m;
	struct train_optim *opt;
	struct train_data *train, *valid;
	struct ling_buf valid_start; /* the valid loader's first position: every evaluation reads the same batches */
	int32_t *tokens, *docs;
	uint8_t *mask;
	struct train_lr_opts lr;
	long long step;     /* updates done */
	double peak_flops;  /* measured sgemm FLOP/s */
	FILE *metrics;
	struct ling_buf tokenizer_json; /* the dataset's tokenizer.json, "" when it cannot be read */
	char *template_name;            /* the dataset's chat template, NULL for none */
	struct spike_stats loss_stats, norm_stats;
	struct ling_buf events;         /* this step's events, JSON objects separated by commas */
	long long *load;                /* [L*E] tokens per expert of the step's accepted try */
};

/*
 * Test hook (tests/t5300): LING_TEST_CRASH=POINT[:N] kills the process with
 * SIGKILL at the N-th (default first) pass through POINT, as kill -9 would.
 */
static void crash_point(const char *point)
{
	static long long hits;
	const char *want = getenv("LING_TEST_CRASH");
	long long nth = 1;
	size_t n;

	if (!want)
		return;
	n = strcspn(want, ":");
	if (strlen(point) != n || strncmp(want, point, n))
		return;
	if (want[n] == ':')
		nth = atoll(want + n + 1);
	if (++hits == nth)
		raise(SIGKILL);
}

/* ---- files ---- */

static int read_file(const char *path, struct ling_buf *out, struct ling_err *err)
{
	FILE *f = fopen(path, "rb");
	char buf[65536];
	size_t n;

	if (!f)
		return ling_err_at(err, LING_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		ling_buf_add(out, buf, n);
	if (ferror(f)) {
		fclose(f);
		return ling_err_at(err, LING_EIO, path, 0, 0, "cannot read: %s", strerror(errno));
	}
	fclose(f);
	ling_buf_addc(out, 0);
	out->len--;
	return 0;
}

/* Removes a checkpoint directory (flat: files only). */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct ling_buf path = LING_BUF_INIT;

	if (d) {
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			ling_buf_reset(&path);
			ling_buf_addf(&path, "%s/%s", dir, e->d_name);
			unlink(path.data);
		}
		closedir(d);
	}
	rmdir(dir);
	ling_buf_release(&path);
}

/* The model's tensors as struct train_tensor over its parameters. */
static struct train_tensor *model_tensors(struct train_model *m, size_t *n)
{
	const struct train_param *p = train_model_params(m, n);
	float *base = train_model_data(m);
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

/* Reads path whole, decompressed (gzip, zstd) when it is. @return 0 or a negative ling_errc. */
static int read_decompressed(const char *path, struct ling_buf *out, struct ling_err *err)
{
	struct ling_input *in;
	char buf[65536];
	ssize_t n;
	int rc;

	if ((rc = ling_input_open(&in, path, err)))
		return rc;
	while ((n = ling_input_read(in, buf, sizeof(buf), err)) > 0)
		ling_buf_add(out, buf, (size_t)n);
	ling_input_close(in);
	return n < 0 ? (int)n : 0;
}

/*
 * The dataset's tokenizer (manifest "tokenizer.path", as given to tokenize
 * build: tried as it is, then beside the dataset; decompressed) and chat
 * template. A tokenizer that cannot be read, or a tiktoken file, leaves
 * tokenizer_json empty: the checkpoint then has no tokenizer.json.
 */
static void read_dataset_tokenizer(struct run *r)
{
	struct ling_buf path = LING_BUF_INIT;
	struct ling_err ignored;
	json_t *man;
	const char *tok, *tpl;

	ling_buf_addf(&path, "%s/manifest.json", r->o->data);
	man = json_load_file(path.data, 0, NULL);
	ling_buf_reset(&path);
	if (!man)
		goto out;
	tok = json_string_value(json_object_get(json_object_get(man, "tokenizer"), "path"));
	tpl = json_string_value(json_object_get(man, "template"));
	r->template_name = tpl ? xstrdup(tpl) : NULL;
	if (tok && read_decompressed(tok, &r->tokenizer_json, &ignored)) {
		ling_buf_reset(&r->tokenizer_json);
		ling_buf_addf(&path, "%s/%s", r->o->data, strrchr(tok, '/') ? strrchr(tok, '/') + 1 : tok);
		if (read_decompressed(path.data, &r->tokenizer_json, &ignored))
			ling_buf_reset(&r->tokenizer_json);
	}
	if (r->tokenizer_json.len && r->tokenizer_json.data[0] != '{')
		ling_buf_reset(&r->tokenizer_json); /* tiktoken: not a tokenizer.json */
	json_decref(man);
out:
	ling_buf_release(&path);
}

/* ---- checkpoints ---- */

static void trainer_state_json(const struct run *r, struct ling_buf *out)
{
	const struct train_run_opts *o = r->o;
	struct ling_buf pos = LING_BUF_INIT;

	train_data_position(r->train, &pos);
	ling_buf_addf(out,
		      "{\n  \"step\": %lld,\n  \"data\": %s,\n  \"spike_stats\": [%lld, %.17g, %.17g, %lld, %.17g, "
		      "%.17g],\n  \"options\": {\"steps\": %lld, \"seq_len\": %d, "
		      "\"batch\": %d, \"grad_accum\": %d, \"seed\": %llu, \"schedule\": \"%s\", \"lr\": %.17g, "
		      "\"min_lr\": %.17g, \"warmup\": %lld, \"decay_frac\": %.17g, \"weight_decay\": %.17g, "
		      "\"clip\": %.17g, \"aux\": %d, \"balance_coef\": %.17g, \"z_coef\": %.17g}\n}\n",
		      r->step, pos.data, r->loss_stats.n, r->loss_stats.mean, r->loss_stats.var, r->norm_stats.n,
		      r->norm_stats.mean, r->norm_stats.var, o->steps, o->seq_len, o->batch, o->grad_accum, (unsigned long long)o->seed,
		      train_schedule_name(o->lr.schedule), o->lr.lr, o->lr.min_lr, o->lr.warmup, o->lr.decay_frac,
		      o->optim.weight_decay, o->clip, o->fwd.aux, o->fwd.balance_coef, o->fwd.z_coef);
	ling_buf_release(&pos);
}

/*
 * Writes out/ckpt-STEP: everything into out/.tmp-ckpt-STEP (each file
 * fsynced), that directory fsynced and renamed, out fsynced, then
 * out/latest rewritten atomically.
 */
static int write_ckpt(struct run *r, struct train_run_summary *sum, struct ling_err *err)
{
	struct ling_buf tmp = LING_BUF_INIT, dir = LING_BUF_INIT, path = LING_BUF_INIT, text = LING_BUF_INIT;
	struct train_tensor *t;
	size_t n;
	int rc;

	ling_buf_addf(&tmp, "%s/.tmp-ckpt-%lld", r->o->out, r->step);
	ling_buf_addf(&dir, "%s/ckpt-%lld", r->o->out, r->step);
	remove_dir(tmp.data);
	train_config_to_json(train_model_config(r->m), "float32", &text);
	t = model_tensors(r->m, &n);
	rc = train_ckpt_write(tmp.data, text.data, t, n, TRAIN_F32, 0, err);
	free(t);
	if (rc)
		goto out;
	crash_point("ckpt-write");
	t = train_optim_state(r->opt, &n);
	ling_buf_addf(&path, "%s/optimizer.safetensors", tmp.data);
	if ((rc = train_st_write(path.data, t, n, TRAIN_F32, err)))
		goto out;
	ling_buf_reset(&text);
	trainer_state_json(r, &text);
	ling_buf_reset(&path);
	ling_buf_addf(&path, "%s/trainer_state.json", tmp.data);
	if ((rc = ling_atomic_write(path.data, text.data, text.len, err)))
		goto out;
	if (r->tokenizer_json.len) {
		ling_buf_reset(&path);
		ling_buf_addf(&path, "%s/tokenizer.json", tmp.data);
		if ((rc = ling_atomic_write(path.data, r->tokenizer_json.data, r->tokenizer_json.len, err)))
			goto out;
	}
	ling_buf_reset(&text);
	ling_buf_adds(&text, "{\n  \"tokenizer_class\": \"PreTrainedTokenizerFast\",\n  \"chat_template_name\": ");
	if (r->template_name)
		ling_json_add_strz(&text, r->template_name, 0);
	else
		ling_buf_adds(&text, "null");
	ling_buf_adds(&text, "\n}\n");
	ling_buf_reset(&path);
	ling_buf_addf(&path, "%s/tokenizer_config.json", tmp.data);
	if ((rc = ling_atomic_write(path.data, text.data, text.len, err)) || (rc = ling_fsync_dir(tmp.data, err)))
		goto out;
	crash_point("ckpt-rename");
	remove_dir(dir.data);
	if (rename(tmp.data, dir.data)) {
		rc = ling_err_at(err, LING_EIO, dir.data, 0, 0, "cannot rename %s: %s", tmp.data, strerror(errno));
		goto out;
	}
	if ((rc = ling_fsync_dir(r->o->out, err)))
		goto out;
	ling_buf_reset(&text);
	ling_buf_addf(&text, "ckpt-%lld\n", r->step);
	ling_buf_reset(&path);
	ling_buf_addf(&path, "%s/latest", r->o->out);
	if ((rc = ling_atomic_write(path.data, text.data, text.len, err)))
		goto out;
	snprintf(sum->ckpt, sizeof(sum->ckpt), "%s", dir.data);
out:
	if (rc)
		remove_dir(tmp.data);
	ling_buf_release(&tmp);
	ling_buf_release(&dir);
	ling_buf_release(&path);
	ling_buf_release(&text);
	return rc;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/* Keeps the newest `keep` ckpt-STEP directories (the one latest names is the newest). */
static void prune_ckpts(const struct run *r)
{
	DIR *d;
	struct dirent *e;
	long long *steps = NULL;
	size_t n = 0, cap = 0;
	struct ling_buf path = LING_BUF_INIT;

	if (r->o->keep <= 0 || !(d = opendir(r->o->out)))
		return;
	while ((e = readdir(d))) {
		char *end;
		long long s;

		if (strncmp(e->d_name, "ckpt-", 5))
			continue;
		s = strtoll(e->d_name + 5, &end, 10);
		if (*end || end == e->d_name + 5 || s > r->step)
			continue;
		steps = xgrow(steps, &cap, n + 1, sizeof(*steps));
		steps[n++] = s;
	}
	closedir(d);
	qsort(steps, n, sizeof(*steps), cmp_ll);
	for (size_t i = 0; i + (size_t)r->o->keep < n; i++) {
		ling_buf_reset(&path);
		ling_buf_addf(&path, "%s/ckpt-%lld", r->o->out, steps[i]);
		remove_dir(path.data);
	}
	free(steps);
	ling_buf_release(&path);
}

/* Reads out/latest: the checkpoint directory to resume from (caller frees). */
static int latest_ckpt(const struct train_run_opts *o, char **dir, struct ling_err *err)
{
	struct ling_buf path = LING_BUF_INIT, text = LING_BUF_INIT;
	int rc;

	*dir = NULL;
	ling_buf_addf(&path, "%s/latest", o->out);
	if (read_file(path.data, &text, err)) {
		rc = ling_err_at(err, LING_EDATA, o->out, 0, 0, "--resume: no checkpoint to resume from (no %s)",
				 path.data);
	} else {
		while (text.len && (text.data[text.len - 1] == '\n' || text.data[text.len - 1] == ' '))
			text.data[--text.len] = 0;
		if (strncmp(text.data, "ckpt-", 5) || strchr(text.data, '/')) {
			rc = ling_err_at(err, LING_EDATA, path.data, 0, 0, "not a checkpoint name: '%s'", text.data);
		} else {
			ling_buf_reset(&path);
			ling_buf_addf(&path, "%s/%s", o->out, text.data);
			*dir = xstrdup(path.data);
			rc = 0;
		}
	}
	ling_buf_release(&path);
	ling_buf_release(&text);
	return rc;
}

/* ---- setting up ---- */

static int load_weights(struct train_model *m, const char *dir, struct ling_err *err)
{
	size_t n;
	struct train_tensor *t = model_tensors(m, &n);
	int rc = train_ckpt_read(dir, t, n, 0, err);

	free(t);
	return rc;
}

/* The model: a new one (config or preset), --init's or the checkpoint's to resume. */
static int make_model(struct run *r, const char *ckpt, struct ling_err *err)
{
	const struct train_run_opts *o = r->o;
	const char *from = ckpt ? ckpt : o->init;
	struct train_config cfg;
	int rc;

	if (from) {
		struct ling_buf path = LING_BUF_INIT;

		ling_buf_addf(&path, "%s/config.json", from);
		rc = train_config_load(&cfg, path.data, err);
		ling_buf_release(&path);
	} else if (o->preset) {
		rc = train_config_preset(&cfg, o->preset, err);
	} else {
		rc = train_config_load(&cfg, o->config, err);
	}
	if (rc)
		return rc;
	if (o->seq_len > cfg.max_position_embeddings)
		return ling_err_set(err, LING_EUSAGE, "--seq-len %d is above the model's max_position_embeddings %d",
				    o->seq_len, cfg.max_position_embeddings);
	r->m = train_model_new(&cfg, train_cpu_backend_new(o->threads));
	if (from)
		return load_weights(r->m, from, err);
	train_model_init(r->m, o->seed);
	return 0;
}

static int open_data(struct run *r, struct ling_err *err)
{
	const struct train_config *cfg = train_model_config(r->m);
	/* Conversations (a dataset with a chat template) are not cut unless asked; text is packed densely. */
	int whole = r->o->pack == TRAIN_PACK_WHOLE || (r->o->pack == TRAIN_PACK_AUTO && r->template_name);
	struct train_data_opts d = { r->o->data, "train", r->o->batch, r->o->seq_len, r->o->seed, cfg->vocab_size,
				     whole, cfg->pad_token_id >= 0 ? cfg->pad_token_id : 0 };
	struct ling_err ignored;
	int rc;

	if ((rc = train_data_open(&r->train, &d, err)))
		return rc;
	if (r->o->eval_every > 0) {
		d.split = "valid";
		if (train_data_open(&r->valid, &d, &ignored) == 0)
			train_data_position(r->valid, &r->valid_start);
	}
	return 0;
}

/* Takes the optimizer state, step and data position of the checkpoint in dir. */
static int resume_state(struct run *r, const char *dir, struct ling_err *err)
{
	struct ling_buf path = LING_BUF_INIT;
	struct train_tensor *t;
	json_error_t jerr;
	json_t *state = NULL, *step;
	char *pos = NULL;
	json_int_t seed = 0;
	size_t n;
	int rc, seq_len = 0, batch = 0;

	t = train_optim_state(r->opt, &n);
	ling_buf_addf(&path, "%s/optimizer.safetensors", dir);
	if ((rc = train_ckpt_read(path.data, t, n, 0, err)) || (rc = train_optim_state_loaded(r->opt, err)))
		goto out;
	ling_buf_reset(&path);
	ling_buf_addf(&path, "%s/trainer_state.json", dir);
	state = json_load_file(path.data, 0, &jerr);
	step = json_object_get(state, "step");
	if (!state || !json_is_integer(step) || !json_is_object(json_object_get(state, "data"))) {
		rc = ling_err_at(err, LING_EDATA, path.data, 0, 0, "not a trainer state (step and data)");
		goto out;
	}
	r->step = json_integer_value(step);
	if (json_unpack(json_object_get(state, "options"), "{s:i,s:i,s:I}", "seq_len", &seq_len, "batch", &batch,
			"seed", &seed) ||
	    seq_len != r->o->seq_len || batch != r->o->batch || (uint64_t)seed != r->o->seed) {
		rc = ling_err_at(err, LING_EDATA, path.data, 0, 0,
				 "--resume needs the --seq-len, --batch and --seed of the run (%d, %d, %lld here)",
				 seq_len, batch, (long long)seed);
		goto out;
	}
	if (r->step != train_optim_step(r->opt)) {
		rc = ling_err_at(err, LING_EDATA, path.data, 0, 0, "step %lld, but the optimizer's is %lld", r->step,
				 train_optim_step(r->opt));
		goto out;
	}
	if (json_unpack(json_object_get(state, "spike_stats"), "[IFFIFF]", &r->loss_stats.n, &r->loss_stats.mean,
			&r->loss_stats.var, &r->norm_stats.n, &r->norm_stats.mean, &r->norm_stats.var)) {
		rc = ling_err_at(err, LING_EDATA, path.data, 0, 0, "no spike_stats [n, mean, var, n, mean, var]");
		goto out;
	}
	pos = json_dumps(json_object_get(state, "data"), JSON_COMPACT);
	rc = train_data_seek(r->train, pos, strlen(pos), err);
out:
	free(pos);
	json_decref(state);
	ling_buf_release(&path);
	return rc;
}

static int check_opts(const struct train_run_opts *o, struct ling_err *err)
{
	if (!o->data || !o->out)
		return ling_err_set(err, LING_EUSAGE, "--data DIR and --out RUN are needed");
	if (!o->resume && !o->init && !o->config == !o->preset)
		return ling_err_set(err, LING_EUSAGE, "one of --config FILE, --preset NAME, --init CKPT or --resume is needed");
	if (o->steps <= 0 || o->seq_len <= 0 || o->batch <= 0 || o->grad_accum <= 0)
		return ling_err_set(err, LING_EUSAGE, "--steps, --seq-len, --batch and --grad-accum must be > 0");
	if (o->clip < 0 || !isfinite(o->clip))
		return ling_err_set(err, LING_EUSAGE, "--clip must be >= 0");
	return 0;
}

/* Removes the .tmp-ckpt-* directories that a killed run left in out. */
static void remove_tmp_ckpts(const char *out)
{
	DIR *d = opendir(out);
	struct dirent *e;
	struct ling_buf path = LING_BUF_INIT;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, ".tmp-ckpt-", 10))
			continue;
		ling_buf_reset(&path);
		ling_buf_addf(&path, "%s/%s", out, e->d_name);
		remove_dir(path.data);
	}
	closedir(d);
	ling_buf_release(&path);
}

/* Creates the run directory (and sees that it can be written). */
static int make_run_dir(const char *out, struct ling_err *err)
{
	struct ling_buf probe = LING_BUF_INIT;
	int fd;

	if (mkdir(out, 0777) && errno != EEXIST)
		return ling_err_at(err, LING_EIO, out, 0, 0, "cannot create the run directory: %s", strerror(errno));
	remove_tmp_ckpts(out);
	ling_buf_addf(&probe, "%s/.write-test-%ld", out, (long)getpid());
	fd = open(probe.data, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (fd < 0) {
		int e = errno;

		ling_buf_release(&probe);
		return ling_err_at(err, LING_EIO, out, 0, 0, "cannot write in the run directory: %s", strerror(e));
	}
	close(fd);
	unlink(probe.data);
	ling_buf_release(&probe);
	return 0;
}

/* ---- steps ---- */

/* The mean cross-entropy of eval_batches batches of the valid split (the same batches every time). */
static int evaluate(struct run *r, double *out, struct ling_err *err)
{
	struct train_forward_opts fo = { 0, 0, 0 };
	const struct train_config *cfg = train_model_config(r->m);
	struct train_batch b = { r->o->batch, r->o->seq_len, r->tokens, r->mask, r->docs };
	struct train_loss loss;
	double sum = 0;
	long long counted = 0;
	int rc;

	(void)cfg;
	if ((rc = train_data_seek(r->valid, r->valid_start.data, r->valid_start.len, err)))
		return rc;
	for (int i = 0; i < r->o->eval_batches; i++) {
		if ((rc = train_data_next(r->valid, r->tokens, r->mask, r->docs, err)) ||
		    (rc = train_forward(r->m, &b, &fo, &loss, err)))
			return rc;
		sum += loss.ce * (double)loss.counted;
		counted += loss.counted;
	}
	*out = counted ? sum / (double)counted : 0;
	return 0;
}

/* Adds the tokens routed to each expert of each MoE layer in the last forward into r->load ([L*E]). */
static void count_expert_load(struct run *r)
{
	const struct train_config *cfg = train_model_config(r->m);
	int E = cfg->num_experts;

	for (int l = 0; l < cfg->num_hidden_layers; l++) {
		const int *off = r->m->acts[l].expert_off;

		if (train_config_layer_is_moe(cfg, l) && off)
			for (int e = 0; e < E; e++)
				r->load[(size_t)l * (size_t)E + (size_t)e] += off[e + 1] - off[e];
	}
}

/* Per MoE layer: the tokens routed to each expert over the step's micro-batches, and their coefficient of variation. */
static void add_expert_load(const struct run *r, struct ling_buf *line)
{
	const struct train_config *cfg = train_model_config(r->m);
	int E = cfg->num_experts, first = 1;

	ling_buf_adds(line, ",\"expert_load\":[");
	for (int l = 0; l < cfg->num_hidden_layers; l++) {
		const long long *n = r->load + (size_t)l * (size_t)E;
		double mean = 0, var = 0;

		if (!train_config_layer_is_moe(cfg, l))
			continue;
		ling_buf_addf(line, "%s{\"layer\":%d,\"tokens\":[", first ? "" : ",", l);
		first = 0;
		for (int e = 0; e < E; e++) {
			ling_buf_addf(line, "%s%lld", e ? "," : "", n[e]);
			mean += (double)n[e];
		}
		mean /= E;
		for (int e = 0; e < E; e++)
			var += ((double)n[e] - mean) * ((double)n[e] - mean);
		ling_buf_addf(line, "],\"cv\":%.6g}", mean > 0 ? sqrt(var / E) / mean : 0.0);
	}
	ling_buf_addc(line, ']');
}

struct step_result {
	double loss, ce, balance, z, lr, grad_norm;
	long long tokens;
};

/*
 * Test hook (tests/t5300): LING_TEST_POISON=KIND:STEP[:TRIES] spoils the
 * first TRIES (default 1) tries of update STEP (1 = the first): "tokens"
 * replaces the batch's tokens with random ones (a garbage batch), "nan" puts
 * a NaN into a gradient.
 */
static int poisoned(const char *kind, long long step, int attempt)
{
	const char *want = getenv("LING_TEST_POISON"), *colon;
	size_t n = strlen(kind);
	long long tries = 1;

	if (!want || strncmp(want, kind, n) || want[n] != ':' || atoll(want + n + 1) != step)
		return 0;
	if ((colon = strchr(want + n + 1, ':')))
		tries = atoll(colon + 1);
	return attempt < tries;
}

/* The gradients of one update: grad_accum micro-batches, their mean, clipped; no update. */
static int compute_step(struct run *r, struct step_result *s, int attempt, struct ling_err *err)
{
	const struct train_run_opts *o = r->o;
	struct train_batch b = { o->batch, o->seq_len, r->tokens, r->mask, r->docs };
	float *grad = train_model_grad(r->m);
	size_t size = train_model_size(r->m), N = (size_t)o->batch * (size_t)o->seq_len;
	float scale = 1.0f / (float)o->grad_accum;
	struct train_loss loss;
	int rc;

	memset(s, 0, sizeof(*s));
	memset(r->load, 0, (size_t)train_model_config(r->m)->num_hidden_layers *
				   (size_t)train_model_config(r->m)->num_experts * sizeof(*r->load));
	train_model_zero_grad(r->m);
	for (int a = 0; a < o->grad_accum; a++) {
		if ((rc = train_data_next(r->train, r->tokens, r->mask, r->docs, err)))
			return rc;
		if (poisoned("tokens", r->step + 1, attempt)) {
			uint64_t state = (uint64_t)r->step;

			for (size_t i = 0; i < N; i++)
				r->tokens[i] = (int32_t)ling_rand_below(&state, (uint32_t)train_model_config(r->m)->vocab_size);
		}
		if ((rc = train_forward(r->m, &b, &o->fwd, &loss, err)))
			return rc;
		count_expert_load(r);
		train_backward(r->m);
		s->loss += loss.loss / o->grad_accum;
		s->ce += loss.ce / o->grad_accum;
		for (int l = 0; l < loss.n_moe; l++) {
			s->balance += loss.balance[l] / o->grad_accum;
			s->z += loss.z[l] / o->grad_accum;
		}
		s->tokens += (long long)N;
	}
	if (poisoned("nan", r->step + 1, attempt))
		grad[size / 2] = NAN;
	if (o->grad_accum > 1)
		for (size_t i = 0; i < size; i++)
			grad[i] *= scale;
	s->grad_norm = o->clip > 0 ? train_grad_clip(grad, size, o->clip) : train_grad_norm(grad, size);
	return 0;
}

static void add_event(struct run *r, const char *type, const char *what, double value, double z, const char *action)
{
	if (r->events.len)
		ling_buf_addc(&r->events, ',');
	ling_buf_addf(&r->events, "{\"type\":\"%s\",\"what\":\"%s\",\"value\":", type, what);
	if (isfinite(value))
		ling_buf_addf(&r->events, "%.9g", value);
	else
		ling_buf_addf(&r->events, "\"%g\"", value);
	ling_buf_addf(&r->events, ",\"z\":%.4g,\"action\":\"%s\"}", z, action);
}

/* Nonfinite values never reach the weights: this many in a row end the run. */
#define MAX_NONFINITE 3
/* A spike that recurs on the retry is applied at this fraction of the learning rate. */
#define SPIKE_LR_SCALE 0.1

/*
 * One update with anomaly handling: a non-finite loss or gradient norm, or
 * a spike (z-score of the loss or the gradient norm above spike_z after
 * spike_warmup accepted steps, and more than twice the mean), is not
 * applied; the batch's documents are requeued and the step is retried on
 * the next batch. A spike on the retry is applied at SPIKE_LR_SCALE times
 * the learning rate.
 */
static int train_step(struct run *r, struct step_result *s, struct ling_err *err)
{
	const struct train_run_opts *o = r->o;
	double scale = 1;
	int rc, nonfinite = 0;

	ling_buf_reset(&r->events);
	for (int attempt = 0;; attempt++) {
		double zl, zn;

		if ((rc = compute_step(r, s, attempt, err)))
			return rc;
		if (!isfinite(s->loss) || !isfinite(s->grad_norm)) {
			add_event(r, "nonfinite", isfinite(s->loss) ? "grad_norm" : "loss",
				  isfinite(s->loss) ? s->grad_norm : s->loss, 0, "skip");
			train_data_requeue_last(r->train);
			if (++nonfinite == MAX_NONFINITE)
				return ling_err_set(err, LING_EDATA,
						    "step %lld: a non-finite loss or gradient in %d batches in a row; "
						    "the weights were not updated", r->step + 1, MAX_NONFINITE);
			continue;
		}
		zl = o->spike_z > 0 ? stats_z(&r->loss_stats, s->loss, o->spike_warmup) : 0;
		zn = o->spike_z > 0 ? stats_z(&r->norm_stats, s->grad_norm, o->spike_warmup) : 0;
		if (zl <= o->spike_z && zn <= o->spike_z)
			break;
		if (attempt == 0) {
			add_event(r, "spike", zl > o->spike_z ? "loss" : "grad_norm",
				  zl > o->spike_z ? s->loss : s->grad_norm, zl > o->spike_z ? zl : zn, "skip");
			train_data_requeue_last(r->train);
			continue;
		}
		add_event(r, "spike", zl > o->spike_z ? "loss" : "grad_norm", zl > o->spike_z ? s->loss : s->grad_norm,
			  zl > o->spike_z ? zl : zn, "lower_lr");
		scale = SPIKE_LR_SCALE;
		break;
	}
	if (scale == 1) {
		stats_add(&r->loss_stats, s->loss);
		stats_add(&r->norm_stats, s->grad_norm);
	}
	s->lr = train_lr(&r->lr, r->step, scale);
	return train_optim_update(r->opt, train_model_data(r->m), train_model_grad(r->m), s->lr, err);
}

static int write_metrics(struct run *r, const struct step_result *s, double secs, double valid,
			 const struct ling_buf *load, struct ling_err *err)
{
	struct ling_buf line = LING_BUF_INIT;
	double flops = train_model_flops(train_model_config(r->m), r->o->batch * r->o->grad_accum, r->o->seq_len);
	int rc = 0;

	ling_buf_addf(&line,
		      "{\"step\":%lld,\"loss\":%.9g,\"ce\":%.9g,\"balance\":%.9g,\"z\":%.9g,\"lr\":%.9g,"
		      "\"grad_norm\":%.9g,\"tokens\":%lld,\"tokens_per_s\":%.1f,\"mfu\":%.4g",
		      r->step, s->loss, s->ce, s->balance, s->z, s->lr, s->grad_norm, s->tokens,
		      secs > 0 ? (double)s->tokens / secs : 0.0,
		      secs > 0 && r->peak_flops > 0 ? flops / secs / r->peak_flops : 0.0);
	if (!isnan(valid))
		ling_buf_addf(&line, ",\"valid_loss\":%.9g", valid);
	ling_buf_add(&line, load->data, load->len);
	ling_buf_addf(&line, ",\"events\":[%s]}\n", r->events.len ? r->events.data : "");
	if (fwrite(line.data, 1, line.len, r->metrics) != line.len || fflush(r->metrics))
		rc = ling_err_at(err, LING_EIO, r->o->out, 0, 0, "cannot write metrics.jsonl: %s", strerror(errno));
	ling_buf_release(&line);
	return rc;
}

static int open_metrics(struct run *r, struct ling_err *err)
{
	struct ling_buf path = LING_BUF_INIT, kept = LING_BUF_INIT, old = LING_BUF_INIT;
	struct ling_err ignored;
	int rc = 0;

	ling_buf_addf(&path, "%s/metrics.jsonl", r->o->out);
	/* On resume, the lines of steps after the checkpoint (a crashed run's) are dropped. */
	if (r->o->resume && read_file(path.data, &old, &ignored) == 0) {
		for (char *p = old.data, *nl; p < old.data + old.len; p = nl + 1) {
			long long s;

			if (!(nl = memchr(p, '\n', (size_t)(old.data + old.len - p))))
				break;
			if (sscanf(p, "{\"step\":%lld", &s) == 1 && s <= r->step)
				ling_buf_add(&kept, p, (size_t)(nl - p + 1));
		}
		ling_buf_addc(&kept, 0);
		kept.len--;
		rc = ling_atomic_write(path.data, kept.data, kept.len, err);
	}
	if (!rc && !(r->metrics = fopen(path.data, r->o->resume ? "a" : "w")))
		rc = ling_err_at(err, LING_EIO, path.data, 0, 0, "cannot open: %s", strerror(errno));
	ling_buf_release(&path);
	ling_buf_release(&kept);
	ling_buf_release(&old);
	return rc;
}

static int setup(struct run *r, struct ling_err *err)
{
	const struct train_run_opts *o = r->o;
	char *ckpt = NULL;
	size_t N = (size_t)o->batch * (size_t)o->seq_len;
	int rc;

	if ((rc = check_opts(o, err)))
		return rc;
	r->lr = o->lr;
	r->lr.total = o->steps;
	if ((rc = train_lr_check(&r->lr, err)))
		return rc;
	if (o->resume && (rc = latest_ckpt(o, &ckpt, err)))
		return rc;
	read_dataset_tokenizer(r);
	if ((rc = make_model(r, ckpt, err)) || (rc = make_run_dir(o->out, err)) || (rc = open_data(r, err)))
		goto out;
	if (!(r->opt = train_optim_new_for_model(r->m, &o->optim, err))) {
		rc = err->code;
		goto out;
	}
	if (ckpt && (rc = resume_state(r, ckpt, err)))
		goto out;
	r->tokens = xcalloc(N, sizeof(*r->tokens));
	r->docs = xcalloc(N, sizeof(*r->docs));
	r->mask = xcalloc(N, sizeof(*r->mask));
	r->load = xcalloc((size_t)train_model_config(r->m)->num_hidden_layers *
				  (size_t)train_model_config(r->m)->num_experts + 1, sizeof(*r->load));
	r->peak_flops = train_cpu_sgemm_gflops(train_model_backend(r->m), 1024, 2) * 1e9;
	rc = open_metrics(r, err);
out:
	free(ckpt);
	return rc;
}

static void teardown(struct run *r)
{
	if (r->metrics)
		fclose(r->metrics);
	if (r->train)
		train_data_close(r->train);
	if (r->valid)
		train_data_close(r->valid);
	train_optim_free(r->opt);
	if (r->m)
		train_model_free(r->m);
	free(r->tokens);
	free(r->docs);
	free(r->mask);
	free(r->load);
	free(r->template_name);
	ling_buf_release(&r->tokenizer_json);
	ling_buf_release(&r->valid_start);
	ling_buf_release(&r->events);
}

int train_run(const struct train_run_opts *o, struct train_run_summary *sum, struct ling_err *err)
{
	struct run r = { .o = o };
	struct ling_buf load = LING_BUF_INIT;
	long long stop = o->stop_at > 0 && o->stop_at < o->steps ? o->stop_at : o->steps;
	double t0, tokens = 0, flops = 0;
	int rc;

	memset(sum, 0, sizeof(*sum));
	sum->valid_loss = NAN;
	if ((rc = setup(&r, err)))
		goto out;
	sum->first_step = r.step;
	t0 = ling_now();
	while (r.step < stop) {
		struct step_result s;
		double ts = ling_now(), valid = NAN;

		if ((rc = train_step(&r, &s, err)))
			goto out;
		r.step++;
		ling_buf_reset(&load);
		add_expert_load(&r, &load);
		ts = ling_now() - ts;
		tokens += (double)s.tokens;
		flops += train_model_flops(train_model_config(r.m), o->batch * o->grad_accum, o->seq_len);
		if (r.valid && o->eval_every > 0 && (r.step % o->eval_every == 0 || r.step == stop)) {
			if ((rc = evaluate(&r, &valid, err)))
				goto out;
			sum->valid_loss = valid;
		}
		if ((rc = write_metrics(&r, &s, ts, valid, &load, err)))
			goto out;
		if (r.step == sum->first_step + 1)
			sum->first_loss = s.loss;
		sum->last_loss = s.loss;
		if (o->progress)
			fprintf(stderr, "\rstep %lld/%lld loss %.4f lr %.3g %.0f tok/s ", r.step, o->steps, s.loss, s.lr,
				ts > 0 ? (double)s.tokens / ts : 0.0);
		if ((o->save_every > 0 && r.step % o->save_every == 0) || r.step == stop) {
			if ((rc = write_ckpt(&r, sum, err)))
				goto out;
			prune_ckpts(&r);
		}
	}
	if (o->progress)
		fputc('\n', stderr);
	sum->last_step = r.step;
	sum->seconds = ling_now() - t0;
	sum->tokens_per_s = sum->seconds > 0 ? tokens / sum->seconds : 0;
	sum->mfu = sum->seconds > 0 && r.peak_flops > 0 ? flops / sum->seconds / r.peak_flops : 0;
out:
	teardown(&r);
	ling_buf_release(&load);
	return rc;
}
