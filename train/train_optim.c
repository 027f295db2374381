/*
 * train_optim.c: AdamW (torch.optim.AdamW's arithmetic), gradient clipping
 * by global norm, and the learning-rate schedules (train.h). Backend-free:
 * it works on the flat fp32 parameter and gradient arrays of a model.
 */
#include "train.h"
#include "../common/ling_mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

/* The largest step count a float holds exactly ("step" is stored as fp32). */
#define STEP_MAX 16777216.0

struct train_optim {
	const struct train_param *params;
	size_t n_params;
	size_t size;
	struct train_optim_opts opts;
	float *exp_avg;    /* m, laid out like the parameters */
	float *exp_avg_sq; /* v */
	long long step;
	float step_value;  /* "step" of the state tensors */
	struct train_tensor *state; /* 2 * n_params + 1 */
	char **state_names;
};

static int finite_in(double x, double lo, double hi)
{
	return isfinite(x) && x >= lo && x <= hi;
}

static int check_opts(const struct train_optim_opts *opts, struct ling_err *err)
{
	if (!finite_in(opts->beta1, 0, 1) || opts->beta1 >= 1)
		return ling_err_set(err, LING_EUSAGE, "adamw beta1 %g is not in [0, 1)", opts->beta1);
	if (!finite_in(opts->beta2, 0, 1) || opts->beta2 >= 1)
		return ling_err_set(err, LING_EUSAGE, "adamw beta2 %g is not in [0, 1)", opts->beta2);
	if (!finite_in(opts->eps, 0, HUGE_VAL))
		return ling_err_set(err, LING_EUSAGE, "adamw eps %g is negative or not finite", opts->eps);
	if (!finite_in(opts->weight_decay, 0, HUGE_VAL))
		return ling_err_set(err, LING_EUSAGE, "weight decay %g is negative or not finite",
				    opts->weight_decay);
	return 0;
}

static char *name_with_prefix(const char *prefix, const char *name)
{
	size_t a = strlen(prefix), b = strlen(name);
	char *s = xmalloc(a + b + 1);

	memcpy(s, prefix, a);
	memcpy(s + a, name, b + 1);
	return s;
}

static struct train_tensor moment_tensor(const struct train_param *p, const char *name, float *moments)
{
	struct train_tensor t = { name, p->ndim, { 0, 0, 0, 0 }, moments + p->offset };

	for (int d = 0; d < p->ndim; d++)
		t.shape[d] = p->shape[d];
	return t;
}

static void build_state(struct train_optim *o)
{
	size_t n = o->n_params;

	o->state = xcalloc(2 * n + 1, sizeof(*o->state));
	o->state_names = xcalloc(2 * n, sizeof(*o->state_names));
	for (size_t i = 0; i < n; i++) {
		const struct train_param *p = &o->params[i];

		o->state_names[i] = name_with_prefix("exp_avg.", p->name);
		o->state_names[n + i] = name_with_prefix("exp_avg_sq.", p->name);
		o->state[i] = moment_tensor(p, o->state_names[i], o->exp_avg);
		o->state[n + i] = moment_tensor(p, o->state_names[n + i], o->exp_avg_sq);
	}
	o->state[2 * n] = (struct train_tensor){ "step", 0, { 0, 0, 0, 0 }, &o->step_value };
}

struct train_optim *train_optim_new(const struct train_param *params, size_t n, size_t size,
				    const struct train_optim_opts *opts, struct ling_err *err)
{
	struct train_optim *o;

	if (check_opts(opts, err))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (params[i].offset > size || params[i].numel > size - params[i].offset) {
			ling_err_set(err, LING_EUSAGE, "tensor %s lies outside the %zu parameters",
				     params[i].name, size);
			return NULL;
		}
	}
	o = xcalloc(1, sizeof(*o));
	o->params = params;
	o->n_params = n;
	o->size = size;
	o->opts = *opts;
	o->exp_avg = xcalloc(size ? size : 1, sizeof(float));
	o->exp_avg_sq = xcalloc(size ? size : 1, sizeof(float));
	build_state(o);
	return o;
}

struct train_optim *train_optim_new_for_model(const struct train_model *m, const struct train_optim_opts *opts,
					      struct ling_err *err)
{
	size_t n;
	const struct train_param *params = train_model_params(m, &n);

	return train_optim_new(params, n, train_model_size(m), opts, err);
}

void train_optim_free(struct train_optim *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < 2 * o->n_params; i++)
		free(o->state_names[i]);
	free(o->state_names);
	free(o->state);
	free(o->exp_avg);
	free(o->exp_avg_sq);
	free(o);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

int train_optim_decays(const char *name)
{
	/* "norm.weight" covers input_layernorm, post_attention_layernorm and model.norm. */
	return !ends_with(name, "norm.weight") && !ends_with(name, ".bias") && strcmp(name, "bias") != 0;
}

long long train_optim_step(const struct train_optim *o)
{
	return o->step;
}

/*
 * One tensor's AdamW update, in the order and precision of torch 1.13's
 * single-tensor path on CPU: fp32 tensors, scalars rounded to fp32 where
 * torch passes them to a float kernel, bias corrections in double, the same
 * order of operations (an fp32 difference in rounding can grow to 1e-5
 * relative in a moment that is a sum of cancelling gradients).
 */
static void adamw_tensor(const struct train_optim *o, const struct train_param *p, float *data,
			 const float *grad, double lr, long long t)
{
	const double b1 = o->opts.beta1, b2 = o->opts.beta2;
	const float decay = train_optim_decays(p->name) ? (float)(1.0 - lr * o->opts.weight_decay) : 1.0f;
	const float beta1 = (float)b1, one_minus_b1 = (float)(1.0 - b1);
	const float beta2 = (float)b2, one_minus_b2 = (float)(1.0 - b2);
	const float step_size = (float)(lr / (1.0 - pow(b1, (double)t)));
	const float bc2_sqrt = (float)sqrt(1.0 - pow(b2, (double)t));
	const float eps = (float)o->opts.eps;
	float *x = data + p->offset, *m = o->exp_avg + p->offset, *v = o->exp_avg_sq + p->offset;
	const float *g = grad + p->offset;

	for (size_t i = 0; i < p->numel; i++) {
		float denom;

		x[i] *= decay;
		/* torch's add_(g, alpha) is one fused multiply-add; a float product is exact in double. */
		m[i] = (float)((double)g[i] * one_minus_b1 + (double)(m[i] * beta1));
		v[i] = v[i] * beta2 + one_minus_b2 * g[i] * g[i];
		denom = sqrtf(v[i]) / bc2_sqrt + eps;
		x[i] += -step_size * (m[i] / denom);
	}
}

void train_optim_update_slab(struct train_optim *o, float *data, const float *grad, int slab, double lr)
{
	for (size_t i = 0; i < o->n_params; i++)
		if (o->params[i].slab == slab)
			adamw_tensor(o, &o->params[i], data, grad, lr, o->step + 1);
}

void train_optim_end_step(struct train_optim *o)
{
	o->step++;
}

static int tensor_finite(const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(x[i]))
			return 0;
	return 1;
}

int train_optim_update(struct train_optim *o, float *data, const float *grad, double lr, struct ling_err *err)
{
	int max_slab = -1;

	if (!isfinite(lr))
		return ling_err_set(err, LING_EDATA, "learning rate %g is not finite: update refused", lr);
	for (size_t i = 0; i < o->n_params; i++) {
		const struct train_param *p = &o->params[i];

		if (!tensor_finite(grad + p->offset, p->numel))
			return ling_err_set(err, LING_EDATA, "gradient of %s is not finite: update refused",
					    p->name);
		if (p->slab > max_slab)
			max_slab = p->slab;
	}
	for (int s = 0; s <= max_slab; s++)
		train_optim_update_slab(o, data, grad, s, lr);
	train_optim_end_step(o);
	return 0;
}

struct train_tensor *train_optim_state(struct train_optim *o, size_t *n)
{
	o->step_value = (float)(o->step < STEP_MAX ? o->step : STEP_MAX);
	*n = 2 * o->n_params + 1;
	return o->state;
}

int train_optim_state_loaded(struct train_optim *o, struct ling_err *err)
{
	double step = o->step_value;

	o->step = 0;
	if (!finite_in(step, 0, STEP_MAX) || step != floor(step))
		return ling_err_set(err, LING_EDATA, "optimizer step %g is not a whole number in [0, 2^24]", step);
	for (size_t i = 0; i < o->n_params; i++) {
		const struct train_param *p = &o->params[i];
		const float *v = o->exp_avg_sq + p->offset;

		if (!tensor_finite(o->exp_avg + p->offset, p->numel) || !tensor_finite(v, p->numel))
			return ling_err_set(err, LING_EDATA, "optimizer moments of %s are not finite", p->name);
		for (size_t j = 0; j < p->numel; j++)
			if (v[j] < 0)
				return ling_err_set(err, LING_EDATA, "exp_avg_sq of %s is negative", p->name);
	}
	o->step = (long long)step;
	return 0;
}

double train_grad_norm(const float *grad, size_t n)
{
	double sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += (double)grad[i] * grad[i];
	return sqrt(sum);
}

double train_grad_clip(float *grad, size_t n, double max_norm)
{
	double norm = train_grad_norm(grad, n);
	float coef;

	if (!isfinite(norm) || !(max_norm > 0) || norm <= max_norm)
		return norm;
	coef = (float)(max_norm / (norm + 1e-6));
	if (coef >= 1.0f)
		return norm;
	for (size_t i = 0; i < n; i++)
		grad[i] *= coef;
	return norm;
}

/* ---- schedules ---- */

int train_lr_check(const struct train_lr_opts *opts, struct ling_err *err)
{
	if (!finite_in(opts->lr, 0, HUGE_VAL))
		return ling_err_set(err, LING_EUSAGE, "--lr %g is negative or not finite", opts->lr);
	if (!finite_in(opts->min_lr, 0, opts->lr))
		return ling_err_set(err, LING_EUSAGE, "--min-lr %g is not in [0, lr %g]", opts->min_lr, opts->lr);
	if (opts->warmup < 0)
		return ling_err_set(err, LING_EUSAGE, "--warmup %lld is negative", opts->warmup);
	if (opts->total <= 0)
		return ling_err_set(err, LING_EUSAGE, "--steps %lld is not positive", opts->total);
	if (!finite_in(opts->decay_frac, 0, 1))
		return ling_err_set(err, LING_EUSAGE, "--decay-frac %g is not in [0, 1]", opts->decay_frac);
	if ((unsigned)opts->schedule > TRAIN_SCHEDULE_WSD)
		return ling_err_set(err, LING_EUSAGE, "unknown schedule %d", (int)opts->schedule);
	return 0;
}

/* Where wsd's decay starts: the last decay_frac of the steps, never inside the warmup. */
static long long wsd_decay_start(const struct train_lr_opts *o)
{
	long long start = o->total - llround(o->decay_frac * (double)o->total);

	return start > o->warmup ? start : o->warmup;
}

/* Fraction of [from, to) done at step, in [0, 1]. */
static double progress(long long step, long long from, long long to)
{
	if (to <= from || step >= to)
		return 1.0;
	return step <= from ? 0.0 : (double)(step - from) / (double)(to - from);
}

double train_lr(const struct train_lr_opts *o, long long step, double scale)
{
	double lr = o->lr;

	if (step < 0)
		step = 0;
	if (step < o->warmup)
		return scale * o->lr * (double)(step + 1) / (double)o->warmup;
	switch (o->schedule) {
	case TRAIN_SCHEDULE_CONSTANT:
		break;
	case TRAIN_SCHEDULE_COSINE: {
		double p = progress(step, o->warmup, o->total);

		lr = o->min_lr + (o->lr - o->min_lr) * 0.5 * (1.0 + cos(M_PI * p));
		break;
	}
	case TRAIN_SCHEDULE_WSD: {
		long long start = wsd_decay_start(o);

		if (step >= start)
			lr = o->lr + (o->min_lr - o->lr) * progress(step, start, o->total);
		break;
	}
	}
	return scale * lr;
}

static const char *const schedule_names[] = { "constant", "cosine", "wsd" };

int train_schedule_parse(const char *name, enum train_schedule *out, struct ling_err *err)
{
	for (int i = 0; i <= TRAIN_SCHEDULE_WSD; i++) {
		if (strcmp(name, schedule_names[i]) == 0) {
			*out = (enum train_schedule)i;
			return 0;
		}
	}
	return ling_err_set(err, LING_EUSAGE, "unknown schedule '%s' (constant, cosine or wsd)", name);
}

const char *train_schedule_name(enum train_schedule s)
{
	return (unsigned)s <= TRAIN_SCHEDULE_WSD ? schedule_names[s] : "?";
}
