/*
 * eval_gen: a checkpoint on the CPU for generation (eval.h, "generation"):
 * the weights through train/'s model and its KV-cache forward
 * (train_infer), the tokenizer and template of the checkpoint, greedy
 * decoding with stop criteria, and reuse of the cached prefix of the last
 * sequence.
 */
#include "eval.h"

#include "../common/ling_clock.h"
#include "../common/ling_mem.h"
#include "../tokenize/tokenize.h"
#include "../train/train.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/banned.h"

/* A decoded piece that ends in U+FFFD may be a character cut between tokens: wait for this many more tokens. */
#define UTF8_WAIT_TOKENS 4

struct eval_model {
	struct train_model *model;
	struct train_infer *infer;
	struct tok *tok;
	char *template_name;
	size_t vocab;           /* the model's vocab_size */
	int max_context;
	struct ling_u32s cached; /* the tokens whose keys and values the cache holds, positions 0.. */
	int32_t *ids;           /* [max_context] tokens handed to the forward */
	float *logits;          /* [vocab] the last position's */
	struct ling_buf text;   /* the output decoded so far (tokens [0, stable) of it) */
	struct ling_buf tail;   /* tokens [stable, n) decoded: may end in a cut character */
	struct eval_gen_stats stats;
};

/* ---- opening ---- */

static int is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/*
 * The checkpoint directory that path names: a directory with config.json, a run's `latest` file
 * (its line names the checkpoint beside it), or a run directory (its latest).
 */
static int resolve_checkpoint(const char *path, struct ling_buf *dir, struct ling_err *err)
{
	struct ling_buf latest = LING_BUF_INIT, config = LING_BUF_INIT;
	char line[4096];
	FILE *f;
	int rc = 0;

	ling_buf_addf(&config, "%s/config.json", path);
	if (is_dir(path) && access(config.data, F_OK)) {
		ling_buf_addf(&latest, "%s/latest", path);
		if (!access(latest.data, F_OK))
			path = latest.data;
	}
	if (is_dir(path)) {
		ling_buf_adds(dir, path);
		goto out;
	}
	if (!(f = fopen(path, "r"))) {
		rc = ling_err_at(err, LING_EIO, path, 0, 0, "cannot open the checkpoint: %s", strerror(errno));
		goto out;
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	line[strcspn(line, "\r\n")] = 0;
	if (!line[0] || strchr(line, '/')) {
		rc = ling_err_at(err, LING_EDATA, path, 1, 0, "not a checkpoint directory, nor a latest file naming one");
		goto out;
	}
	if (strrchr(path, '/'))
		ling_buf_add(dir, path, (size_t)(strrchr(path, '/') - path + 1));
	ling_buf_adds(dir, line);
out:
	ling_buf_release(&latest);
	ling_buf_release(&config);
	return rc;
}

/* DIR/config.json and DIR's weights into a model on a CPU backend of `threads` threads. */
static int load_model(const char *dir, int threads, struct train_model **out, struct ling_err *err)
{
	struct ling_buf path = LING_BUF_INIT;
	struct train_config cfg;
	const struct train_param *p;
	struct train_tensor *t;
	size_t n;
	int rc;

	*out = NULL;
	ling_buf_addf(&path, "%s/config.json", dir);
	rc = train_config_load(&cfg, path.data, err);
	ling_buf_release(&path);
	if (rc)
		return rc;
	*out = train_model_new(&cfg, train_cpu_backend_new(threads));
	p = train_model_params(*out, &n);
	t = xcalloc(n, sizeof(*t));
	for (size_t i = 0; i < n; i++) {
		t[i].name = p[i].name;
		t[i].ndim = p[i].ndim;
		t[i].shape[0] = p[i].shape[0];
		t[i].shape[1] = p[i].shape[1];
		t[i].data = train_model_data(*out) + p[i].offset;
	}
	rc = train_ckpt_read(dir, t, n, 0, err);
	free(t);
	if (rc) {
		train_model_free(*out);
		*out = NULL;
	}
	return rc;
}

/* The chat_template_name of DIR/tokenizer_config.json, or NULL (no file, or null there). */
static int read_template_name(const char *dir, char **out, struct ling_err *err)
{
	struct ling_buf path = LING_BUF_INIT;
	json_error_t jerr;
	json_t *root, *name;
	int rc = 0;

	*out = NULL;
	ling_buf_addf(&path, "%s/tokenizer_config.json", dir);
	if (access(path.data, F_OK))
		goto out;
	if (!(root = json_load_file(path.data, 0, &jerr))) {
		rc = ling_err_at(err, LING_EDATA, path.data, jerr.line, jerr.column, "not JSON: %s", jerr.text);
		goto out;
	}
	name = json_object_get(root, "chat_template_name");
	if (json_is_string(name))
		*out = xstrdup(json_string_value(name));
	else if (name && !json_is_null(name))
		rc = ling_err_at(err, LING_EDATA, path.data, 0, 0, "chat_template_name is not a string");
	json_decref(root);
	if (!rc && *out && !tok_chat_template_known(*out)) {
		rc = ling_err_at(err, LING_EDATA, path.data, 0, 0, "unknown chat_template_name '%s' (templates: qwen, ling)",
				 *out);
		free(*out);
		*out = NULL;
	}
out:
	ling_buf_release(&path);
	return rc;
}

static int open_tokenizer(struct eval_model *m, const char *dir, const char *given, struct ling_err *err)
{
	struct ling_buf path = LING_BUF_INIT;
	int rc;

	if (given)
		ling_buf_adds(&path, given);
	else
		ling_buf_addf(&path, "%s/tokenizer.json", dir);
	if (!given && access(path.data, F_OK)) {
		rc = ling_err_at(err, LING_EUSAGE, dir, 0, 0, "the checkpoint has no tokenizer.json (give one with --tokenizer)");
		goto out;
	}
	if ((rc = tok_load(&m->tok, path.data, NULL, err)))
		goto out;
	if (tok_vocab_size(m->tok) > m->vocab)
		rc = ling_err_at(err, LING_EDATA, path.data, 0, 0,
				 "the tokenizer has %zu token ids, more than the model's vocab_size %zu in %s/config.json: "
				 "not this model's tokenizer",
				 tok_vocab_size(m->tok), m->vocab, dir);
out:
	ling_buf_release(&path);
	return rc;
}

int eval_model_open(struct eval_model **out, const struct eval_model_opts *o, struct ling_err *err)
{
	struct eval_model *m = xcalloc(1, sizeof(*m));
	struct ling_buf dir = LING_BUF_INIT;
	const struct train_config *cfg;
	int rc;

	*out = NULL;
	if (o->template && !tok_chat_template_known(o->template)) {
		rc = ling_err_set(err, LING_EUSAGE, "unknown template '%s' (templates: qwen, ling)", o->template);
		goto fail;
	}
	if (!o->checkpoint || o->max_context < 0 || o->threads < 0) {
		rc = ling_err_set(err, LING_EUSAGE, "%s", !o->checkpoint ? "no checkpoint given"
				  : o->max_context < 0 ? "a negative context" : "a negative number of threads");
		goto fail;
	}
	if ((rc = resolve_checkpoint(o->checkpoint, &dir, err)) || (rc = load_model(dir.data, o->threads, &m->model, err)))
		goto fail;
	cfg = train_model_config(m->model);
	m->vocab = (size_t)cfg->vocab_size;
	m->max_context = o->max_context ? o->max_context : cfg->max_position_embeddings;
	if (m->max_context > cfg->max_position_embeddings) {
		rc = ling_err_set(err, LING_EUSAGE, "a context of %d tokens is longer than the model's max_position_embeddings %d",
				  m->max_context, cfg->max_position_embeddings);
		goto fail;
	}
	if ((rc = open_tokenizer(m, dir.data, o->tokenizer, err)) ||
	    (rc = read_template_name(dir.data, &m->template_name, err)) ||
	    (rc = train_infer_new(&m->infer, m->model, m->max_context, err)))
		goto fail;
	if (o->template) {
		free(m->template_name);
		m->template_name = xstrdup(o->template);
	} else if (!m->template_name) {
		m->template_name = xstrdup("qwen");
	}
	m->ids = xmalloc((size_t)m->max_context * sizeof(int32_t));
	m->logits = xmalloc(m->vocab * sizeof(float));
	ling_buf_release(&dir);
	*out = m;
	return 0;
fail:
	ling_buf_release(&dir);
	eval_model_free(m);
	return rc;
}

void eval_model_free(struct eval_model *m)
{
	if (!m)
		return;
	train_infer_free(m->infer);
	train_model_free(m->model);
	tok_free(m->tok);
	free(m->template_name);
	ling_u32s_release(&m->cached);
	free(m->ids);
	free(m->logits);
	ling_buf_release(&m->text);
	ling_buf_release(&m->tail);
	free(m);
}

struct tok *eval_model_tok(struct eval_model *m)
{
	return m->tok;
}

const char *eval_model_template(const struct eval_model *m)
{
	return m->template_name;
}

size_t eval_model_vocab_size(const struct eval_model *m)
{
	return m->vocab;
}

size_t eval_model_max_context(const struct eval_model *m)
{
	return (size_t)m->max_context;
}

void eval_model_stats(const struct eval_model *m, struct eval_gen_stats *out)
{
	*out = m->stats;
}

/* ---- the forward ---- */

static int check_tokens(const struct eval_model *m, const uint32_t *tokens, size_t n, const char *what,
			struct ling_err *err)
{
	if (!n)
		return ling_err_set(err, LING_EDATA, "an empty %s", what);
	if (n > (size_t)m->max_context)
		return ling_err_set(err, LING_EDATA, "a %s of %zu tokens is longer than the context (%d)", what, n,
				    m->max_context);
	for (size_t i = 0; i < n; i++)
		if (tokens[i] >= m->vocab)
			return ling_err_set(err, LING_EDATA, "%s position %zu: token id %u is not below the model's vocab_size %zu",
					    what, i, tokens[i], m->vocab);
	return 0;
}

/* Appends tokens[0..n) to the cached sequence in one forward; logits: NULL, the last position's, or with all every position's. */
static int run(struct eval_model *m, const uint32_t *tokens, size_t n, float *logits, int all, struct ling_err *err)
{
	int rc;

	for (size_t i = 0; i < n; i++)
		m->ids[i] = (int32_t)tokens[i];
	if ((rc = train_infer_forward(m->infer, m->ids, (int)n, logits, all, err)))
		return rc;
	for (size_t i = 0; i < n; i++)
		ling_u32s_push(&m->cached, tokens[i]);
	return 0;
}

/* The first largest logit (ties to the lower id, as torch.argmax). */
static uint32_t argmax(const float *x, size_t n)
{
	size_t best = 0;

	for (size_t i = 1; i < n; i++)
		if (x[i] > x[best])
			best = i;
	return (uint32_t)best;
}

/* ---- stop criteria ---- */

static int ends_with_replacement(const struct ling_buf *b)
{
	return b->len >= 3 && !memcmp(b->data + b->len - 3, "\xEF\xBF\xBD", 3);
}

/*
 * Decodes out[stable..n) into m->tail (ids the tokenizer does not have give no text); when the piece
 * does not end in a cut character, it joins m->text and stable moves to n.
 */
static void decode_tail(struct eval_model *m, const struct ling_u32s *out, size_t *stable)
{
	struct ling_err ignored;

	ling_buf_reset(&m->tail);
	/* together, so that a character cut between tokens comes out whole */
	if (tok_decode(m->tok, out->v + *stable, out->n - *stable, &m->tail, &ignored)) {
		ling_buf_reset(&m->tail);
		for (size_t i = *stable; i < out->n; i++) {
			size_t len = m->tail.len;

			if (tok_decode(m->tok, &out->v[i], 1, &m->tail, &ignored))
				ling_buf_truncate(&m->tail, len);
		}
	}
	if (!ends_with_replacement(&m->tail) || out->n - *stable >= UTF8_WAIT_TOKENS) {
		ling_buf_add(&m->text, m->tail.data ? m->tail.data : "", m->tail.len);
		ling_buf_reset(&m->tail);
		*stable = out->n;
	}
}

/* Whether a stop string appears in text + tail from byte `from` of it on (what is older was checked before). */
static int hit_stop_string(struct eval_model *m, const struct eval_stop *stop, size_t from)
{
	struct ling_buf *all = &m->text;
	size_t committed = m->text.len;
	int hit = 0;

	ling_buf_add(all, m->tail.data ? m->tail.data : "", m->tail.len);
	for (size_t i = 0; i < stop->nstrings && !hit; i++) {
		size_t len = strlen(stop->strings[i]), start = from >= len ? from - len + 1 : 0;

		hit = len && all->len >= start + len && memmem(all->data + start, all->len - start, stop->strings[i], len);
	}
	ling_buf_truncate(all, committed);
	return hit;
}

static int is_stop_token(const struct eval_stop *stop, uint32_t id)
{
	for (size_t i = 0; i < stop->ntokens; i++)
		if (stop->tokens[i] == id)
			return 1;
	return 0;
}

/* ---- generation ---- */

static size_t common_prefix(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	size_t i = 0;

	while (i < na && i < nb && a[i] == b[i])
		i++;
	return i;
}

/* Prefills prompt[reuse..n) after its first reuse tokens, which the cache keeps. */
static int prefill(struct eval_model *m, const uint32_t *prompt, size_t n, struct ling_err *err)
{
	/* The last prompt token is always run: its logits give the first new token. */
	size_t reuse = common_prefix(m->cached.v, m->cached.n, prompt, n - 1);
	double t0 = ling_now();
	int rc;

	train_infer_truncate(m->infer, (int)reuse);
	m->cached.n = reuse;
	rc = run(m, prompt + reuse, n - reuse, m->logits, 0, err);
	m->stats.prompt_tokens += n;
	m->stats.reused_tokens += reuse;
	m->stats.prefilled_tokens += n - reuse;
	m->stats.prefill_seconds += ling_now() - t0;
	return rc;
}

int eval_generate(struct eval_model *m, const uint32_t *prompt, size_t n, const struct eval_stop *stop,
		  struct ling_u32s *out, enum eval_stop_reason *why, struct ling_err *err)
{
	size_t stable = 0, checked = 0;
	double t0;
	int rc;

	out->n = 0;
	if (stop->max_new_tokens <= 0)
		return ling_err_set(err, LING_EUSAGE, "max_new_tokens %d is not above 0", stop->max_new_tokens);
	if ((rc = check_tokens(m, prompt, n, "prompt", err)))
		return rc;
	m->stats.generate_calls++;
	*why = EVAL_STOP_CONTEXT;
	if (n == (size_t)m->max_context)
		return 0; /* no room for a new token */
	if ((rc = prefill(m, prompt, n, err)))
		return rc;
	ling_buf_reset(&m->text);
	ling_buf_reset(&m->tail);
	t0 = ling_now();
	for (;;) {
		uint32_t next = argmax(m->logits, m->vocab);

		ling_u32s_push(out, next);
		m->stats.generated_tokens++;
		if (is_stop_token(stop, next)) {
			*why = EVAL_STOP_TOKEN;
			break;
		}
		if (stop->nstrings) {
			decode_tail(m, out, &stable);
			if (hit_stop_string(m, stop, checked)) {
				*why = EVAL_STOP_STRING;
				break;
			}
			checked = m->text.len;
		}
		if (out->n >= (size_t)stop->max_new_tokens) {
			*why = EVAL_STOP_LENGTH;
			break;
		}
		if (n + out->n >= (size_t)m->max_context) {
			*why = EVAL_STOP_CONTEXT;
			break;
		}
		if ((rc = run(m, &next, 1, m->logits, 0, err)))
			break;
	}
	m->stats.decode_seconds += ling_now() - t0;
	return rc;
}

static int generate_cb(void *ctx, const uint32_t *prompt, size_t n, const struct eval_stop *stop,
		       struct ling_u32s *out, enum eval_stop_reason *why, struct ling_err *err)
{
	return eval_generate(ctx, prompt, n, stop, out, why, err);
}

struct eval_generator eval_model_generator(struct eval_model *m)
{
	struct eval_generator g = { generate_cb, m };

	return g;
}

int eval_logits(struct eval_model *m, const uint32_t *tokens, size_t n, float *logits, struct ling_err *err)
{
	int rc;

	if ((rc = check_tokens(m, tokens, n, "sequence", err)))
		return rc;
	train_infer_truncate(m->infer, 0);
	m->cached.n = 0;
	return run(m, tokens, n, logits, 1, err);
}
