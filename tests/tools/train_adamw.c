/*
 * train_adamw: runs train_optim's AdamW (and gradient clipping) on given
 * parameters, gradients and learning rates, for tests/t5200-train-optim.sh,
 * which compares the result with torch.optim.AdamW (tests/tools/adamw_ref.py).
 *
 * stdin, whitespace-separated words:
 *	adamw BETA1 BETA2 EPS WEIGHT_DECAY CLIP     (CLIP 0: no clipping)
 *	tensors N
 *	NAME SLAB NUMEL                              N times; laid out one after the other
 *	params V...                                  every parameter
 *	step LR G...                                 every gradient; once per step
 * stdout, one line each:
 *	norm NORM                                    per step, the norm before clipping
 *	param V...                                   the parameters after the last step
 *	STATE_NAME V...                              each tensor of train_optim_state()
 * A number may be nan or inf (to check refusals). Numbers are printed with 9 significant digits (exact for fp32). Exit 0,
 * 1 on a refused update, 2 on malformed input.
 */
#include "train/train.h"

#include "common/ling_err.h"
#include "common/ling_mem.h"
#include "common/ling_num.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

struct words {
	char *text;
	char *pos;
};

/* The next word, or NULL at the end. */
static char *next_word(struct words *w)
{
	char *start;

	w->pos += strspn(w->pos, " \t\r\n");
	if (!*w->pos)
		return NULL;
	start = w->pos;
	w->pos += strcspn(w->pos, " \t\r\n");
	if (*w->pos)
		*w->pos++ = '\0';
	return start;
}

static void bad_input(const char *what)
{
	fprintf(stderr, "train_adamw: malformed input: %s\n", what);
	exit(2);
}

static double next_double(struct words *w, const char *what)
{
	char *s = next_word(w);
	double x;

	if (s && strcmp(s, "nan") == 0)
		return NAN;
	if (s && strcmp(s, "inf") == 0)
		return INFINITY;
	if (!s || ling_parse_double(s, &x))
		bad_input(what);
	return x;
}

static long long next_count(struct words *w, const char *what)
{
	char *s = next_word(w);
	long long x;

	if (!s || ling_parse_long(s, 0, 1LL << 30, &x))
		bad_input(what);
	return x;
}

static void expect(struct words *w, const char *keyword)
{
	char *s = next_word(w);

	if (!s || strcmp(s, keyword) != 0)
		bad_input(keyword);
}

static char *read_stdin(void)
{
	struct ling_buf b;
	char chunk[65536];
	size_t got;

	ling_buf_init(&b);
	while ((got = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		ling_buf_add(&b, chunk, got);
	ling_buf_add(&b, "", 1);
	return b.data;
}

static void print_floats(const char *label, const float *x, size_t n)
{
	fputs(label, stdout);
	for (size_t i = 0; i < n; i++)
		printf(" %.9g", (double)x[i]);
	putchar('\n');
}

int main(void)
{
	struct words w = { read_stdin(), NULL };
	struct train_optim_opts opts;
	struct ling_err err = { 0 };
	struct train_param *params;
	struct train_optim *o;
	struct train_tensor *state;
	size_t n, size = 0, n_state;
	float *data, *grad;
	double clip;
	char *s;
	int rc = 0;

	w.pos = w.text;
	expect(&w, "adamw");
	opts.beta1 = next_double(&w, "beta1");
	opts.beta2 = next_double(&w, "beta2");
	opts.eps = next_double(&w, "eps");
	opts.weight_decay = next_double(&w, "weight decay");
	clip = next_double(&w, "clip");
	expect(&w, "tensors");
	n = (size_t)next_count(&w, "tensor count");
	params = xcalloc(n ? n : 1, sizeof(*params));
	for (size_t i = 0; i < n; i++) {
		if (!(s = next_word(&w)))
			bad_input("tensor name");
		params[i].name = xstrdup(s);
		params[i].slab = (int)next_count(&w, "slab");
		params[i].numel = (size_t)next_count(&w, "numel");
		params[i].offset = size;
		params[i].ndim = 1;
		params[i].shape[0] = (int64_t)params[i].numel;
		size += params[i].numel;
	}
	data = xcalloc(size + 1, sizeof(float));
	grad = xcalloc(size + 1, sizeof(float));
	expect(&w, "params");
	for (size_t i = 0; i < size; i++)
		data[i] = (float)next_double(&w, "parameter");
	if (!(o = train_optim_new(params, n, size, &opts, &err))) {
		fprintf(stderr, "train_adamw: %s\n", err.msg);
		return 2;
	}
	while ((s = next_word(&w))) {
		double lr;

		if (strcmp(s, "step") != 0)
			bad_input("step");
		lr = next_double(&w, "lr");
		for (size_t i = 0; i < size; i++)
			grad[i] = (float)next_double(&w, "gradient");
		printf("norm %.9g\n", train_grad_clip(grad, size, clip));
		if (train_optim_update(o, data, grad, lr, &err)) {
			fprintf(stderr, "train_adamw: %s\n", err.msg);
			rc = 1;
			break;
		}
	}
	if (rc == 0) {
		print_floats("param", data, size);
		state = train_optim_state(o, &n_state);
		for (size_t i = 0; i < n_state; i++)
			print_floats(state[i].name, state[i].data, state[i].ndim ? (size_t)state[i].shape[0] : 1);
	}
	train_optim_free(o);
	for (size_t i = 0; i < n; i++)
		free(params[i].name);
	free(params);
	free(data);
	free(grad);
	free(w.text);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "train_adamw: writing stdout failed\n");
		return 1;
	}
	return rc;
}
