/*
 * Unit tests for train_optim (train/): the learning-rate schedules at their
 * key steps, clipping by global norm, weight decay kept off norm weights and
 * biases, refusal of non-finite gradients (weights, moments and step
 * untouched), slab-wise updates equal to the whole update, one AdamW step
 * against its formula, and the optimizer state through a checkpoint
 * directory and back. The comparison with torch.optim.AdamW itself is
 * tests/t5200-train-optim.sh.
 */
#include "tap.h"

#include "common/ling_mem.h"
#include "train/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/banned.h"

static int near(double got, double want, double tol)
{
	return fabs(got - want) <= tol * (fabs(want) > 1 ? fabs(want) : 1);
}

#define is_near(got, want, tol, ...) \
	(ok(near((got), (want), (tol)), __VA_ARGS__) || (diag("got %.12g, want %.12g", (double)(got), (double)(want)), 0))

static void test_schedules(void)
{
	struct train_lr_opts o = { TRAIN_SCHEDULE_COSINE, 1e-3, 1e-4, 10, 110, 0.2 };
	struct ling_err err = { 0 };
	enum train_schedule s;

	ok(train_lr_check(&o, &err) == 0, "cosine options accepted");
	is_near(train_lr(&o, 0, 1), 1e-4, 1e-12, "warmup: step 0 is lr/warmup");
	is_near(train_lr(&o, 4, 1), 5e-4, 1e-12, "warmup: step 4 is lr*5/10");
	is_near(train_lr(&o, 9, 1), 1e-3, 1e-12, "warmup: its last step reaches lr");
	is_near(train_lr(&o, 10, 1), 1e-3, 1e-12, "cosine starts at lr");
	is_near(train_lr(&o, 60, 1), 5.5e-4, 1e-12, "cosine halfway is (lr+min)/2");
	is_near(train_lr(&o, 35, 1), 1e-4 + 9e-4 * 0.5 * (1 + cos(M_PI / 4)), 1e-12, "cosine at a quarter");
	is_near(train_lr(&o, 110, 1), 1e-4, 1e-12, "cosine ends at min_lr");
	is_near(train_lr(&o, 1000, 1), 1e-4, 1e-12, "min_lr after the end");
	is_near(train_lr(&o, 60, 0.25), 5.5e-4 / 4, 1e-12, "scale multiplies the rate");

	o.schedule = TRAIN_SCHEDULE_WSD; /* decay over the last 22 steps: 88..110 */
	is_near(train_lr(&o, 5, 1), 6e-4, 1e-12, "wsd warmup");
	is_near(train_lr(&o, 50, 1), 1e-3, 1e-12, "wsd stable at the peak");
	is_near(train_lr(&o, 88, 1), 1e-3, 1e-12, "wsd decay starts at the peak");
	is_near(train_lr(&o, 99, 1), 5.5e-4, 1e-12, "wsd decay is linear: halfway");
	is_near(train_lr(&o, 110, 1), 1e-4, 1e-12, "wsd ends at min_lr");
	o.decay_frac = 1.0;
	is_near(train_lr(&o, 10, 1), 1e-3, 1e-12, "wsd decay never starts inside the warmup");
	is_near(train_lr(&o, 60, 1), 5.5e-4, 1e-12, "wsd with decay_frac 1 decays from the warmup on");

	o.schedule = TRAIN_SCHEDULE_CONSTANT;
	is_near(train_lr(&o, 3, 1), 4e-4, 1e-12, "constant has the warmup too");
	is_near(train_lr(&o, 100000, 1), 1e-3, 1e-12, "constant stays at lr");
	o.warmup = 0;
	is_near(train_lr(&o, 0, 1), 1e-3, 1e-12, "no warmup: lr from step 0");

	o.min_lr = 2e-3;
	ok(train_lr_check(&o, &err) == LING_EUSAGE && strstr(err.msg, "--min-lr"), "min_lr above lr refused");
	o.min_lr = 0, o.total = 0;
	ok(train_lr_check(&o, &err) == LING_EUSAGE && strstr(err.msg, "--steps"), "zero steps refused");
	o.total = 10, o.decay_frac = 1.5;
	ok(train_lr_check(&o, &err) == LING_EUSAGE && strstr(err.msg, "--decay-frac"), "decay_frac > 1 refused");

	ok(train_schedule_parse("wsd", &s, &err) == 0 && s == TRAIN_SCHEDULE_WSD, "parse wsd");
	ok(train_schedule_parse("linear", &s, &err) == LING_EUSAGE && strstr(err.msg, "cosine"),
	   "an unknown schedule is refused naming the known ones");
	is_str(train_schedule_name(TRAIN_SCHEDULE_COSINE), "cosine", "schedule name");
}

static void test_clip(void)
{
	float g[4] = { 3, 0, 0, 4 };
	double norm;

	is_near(train_grad_norm(g, 4), 5, 1e-12, "global norm");
	norm = train_grad_clip(g, 4, 10);
	ok(norm == 5 && g[0] == 3 && g[3] == 4, "a norm under the limit leaves the gradients alone");
	norm = train_grad_clip(g, 4, 1);
	is_near(norm, 5, 1e-12, "clip returns the norm before clipping");
	is_near(train_grad_norm(g, 4), 1, 1e-6, "clipped to norm 1");
	is_near(g[0], 0.6, 1e-6, "direction kept");
	g[2] = NAN;
	norm = train_grad_clip(g, 4, 1);
	ok(isnan(norm), "a NaN gradient gives a NaN norm");
	is_near(g[0], 0.6, 1e-6, "and nothing is scaled");
	g[2] = INFINITY;
	ok(isinf(train_grad_clip(g, 4, 1)), "an infinite gradient gives an infinite norm");
}

/* Three tensors in two slabs: a decayed weight, a norm weight and a bias. */
static const struct train_param toy[] = {
	{ "model.layers.0.attention.dense.weight", 0, 0, 2, { 2, 2 }, 4 },
	{ "model.layers.0.input_layernorm.weight", 0, 4, 1, { 2, 0 }, 2 },
	{ "lm_head.bias", 1, 6, 1, { 3, 0 }, 3 },
};
#define TOY_SIZE 9

static void test_decay_rules(void)
{
	struct train_optim_opts opts = TRAIN_OPTIM_OPTS_INIT;
	struct ling_err err = { 0 };
	struct train_optim *o = train_optim_new(toy, 3, TOY_SIZE, &opts, &err);
	float data[TOY_SIZE], grad[TOY_SIZE] = { 0 };

	ok(train_optim_decays("model.layers.3.mlp.experts.1.up_proj.weight"), "experts decay");
	ok(!train_optim_decays("model.norm.weight"), "final norm does not");
	ok(!train_optim_decays("model.layers.0.post_attention_layernorm.weight"), "layer norms do not");
	ok(!train_optim_decays("model.layers.0.attention.dense.bias"), "biases do not");
	for (int i = 0; i < TOY_SIZE; i++)
		data[i] = 2.0f;
	/* A zero gradient leaves Adam's term 0: only the decay moves the weights. */
	ok(o && train_optim_update(o, data, grad, 0.5, &err) == 0, "update with zero gradients");
	is_near(data[0], 2.0 * (1 - 0.5 * 0.1), 1e-7, "the weight decays by lr*wd");
	ok(data[4] == 2.0f && data[5] == 2.0f, "the norm weight does not decay");
	ok(data[6] == 2.0f && data[8] == 2.0f, "the bias does not decay");
	is_int(train_optim_step(o), 1, "one step counted");
	train_optim_free(o);

	opts.beta2 = 1.0;
	ok(train_optim_new(toy, 3, TOY_SIZE, &opts, &err) == NULL && strstr(err.msg, "beta2"), "beta2 1 refused");
	opts.beta2 = 0.95;
	ok(train_optim_new(toy, 3, 8, &opts, &err) == NULL && strstr(err.msg, "lm_head.bias"),
	   "a tensor outside the arrays refused");
}

static void fill(float *x, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		x[i] = (float)((seed >> 8) % 2001) / 1000.0f - 1.0f;
	}
}

static void test_formula_and_slabs(void)
{
	struct train_optim_opts opts = TRAIN_OPTIM_OPTS_INIT;
	struct ling_err err = { 0 };
	struct train_optim *a = train_optim_new(toy, 3, TOY_SIZE, &opts, &err);
	struct train_optim *b = train_optim_new(toy, 3, TOY_SIZE, &opts, &err);
	float x0[TOY_SIZE], xa[TOY_SIZE], xb[TOY_SIZE], g[TOY_SIZE];
	double lr = 1e-2, m, v, want;

	fill(x0, TOY_SIZE, 1);
	fill(g, TOY_SIZE, 2);
	memcpy(xa, x0, sizeof(x0));
	memcpy(xb, x0, sizeof(x0));
	train_optim_update(a, xa, g, lr, &err);
	/* Step 1 by the formula, in double. */
	m = 0.1 * g[1], v = 0.05 * (double)g[1] * g[1];
	want = x0[1] * (1 - lr * 0.1) - lr / 0.1 * m / (sqrt(v) / sqrt(0.05) + 1e-8);
	is_near(xa[1], want, 1e-6, "first AdamW step as the formula gives it");
	fill(g, TOY_SIZE, 3);
	train_optim_update(a, xa, g, lr, &err);
	train_optim_update(b, xb, (fill(g, TOY_SIZE, 2), g), lr, &err);
	fill(g, TOY_SIZE, 3);
	train_optim_update_slab(b, xb, g, 1, lr);
	train_optim_update_slab(b, xb, g, 0, lr);
	train_optim_end_step(b);
	is_mem(xb, sizeof(xb), xa, sizeof(xa), "slab by slab, in any order, equals the whole update");
	is_int(train_optim_step(b), 2, "end_step counts the step");
	train_optim_free(a);
	train_optim_free(b);
}

static void test_nonfinite_refused(void)
{
	struct train_optim_opts opts = TRAIN_OPTIM_OPTS_INIT;
	struct ling_err err = { 0 };
	struct train_optim *o = train_optim_new(toy, 3, TOY_SIZE, &opts, &err);
	float x[TOY_SIZE], before[TOY_SIZE], g[TOY_SIZE];
	size_t n;
	struct train_tensor *state;
	float m7;

	fill(x, TOY_SIZE, 4);
	fill(g, TOY_SIZE, 5);
	train_optim_update(o, x, g, 1e-3, &err);
	memcpy(before, x, sizeof(x));
	state = train_optim_state(o, &n);
	m7 = state[2].data[1];
	g[7] = NAN;
	ok(train_optim_update(o, x, g, 1e-3, &err) == LING_EDATA && strstr(err.msg, "lm_head.bias"),
	   "a NaN gradient is refused naming the tensor");
	is_mem(x, sizeof(x), before, sizeof(before), "weights untouched after a NaN gradient");
	ok(state[2].data[1] == m7 && train_optim_step(o) == 1, "moments and step untouched");
	g[7] = -INFINITY;
	ok(train_optim_update(o, x, g, 1e-3, &err) == LING_EDATA, "an infinite gradient is refused");
	g[7] = 0;
	ok(train_optim_update(o, x, g, NAN, &err) == LING_EDATA && strstr(err.msg, "learning rate"),
	   "a NaN learning rate is refused");
	is_mem(x, sizeof(x), before, sizeof(before), "weights still untouched");
	train_optim_free(o);
}

static void test_state_round_trip(void)
{
	struct train_optim_opts opts = TRAIN_OPTIM_OPTS_INIT;
	struct ling_err err = { 0 };
	struct train_optim *a = train_optim_new(toy, 3, TOY_SIZE, &opts, &err);
	struct train_optim *b = train_optim_new(toy, 3, TOY_SIZE, &opts, &err);
	float xa[TOY_SIZE], xb[TOY_SIZE], g[TOY_SIZE];
	char dir[] = "/tmp/ling-optim.XXXXXX", path[64];
	struct train_tensor *sa, *sb;
	size_t na, nb;

	fill(xa, TOY_SIZE, 6);
	for (unsigned s = 0; s < 3; s++)
		train_optim_update(a, xa, (fill(g, TOY_SIZE, 10 + s), g), 1e-2, &err);
	memcpy(xb, xa, sizeof(xa));
	sa = train_optim_state(a, &na);
	is_int(na, 7, "2 moments per tensor plus the step");
	is_str(sa[0].name, "exp_avg.model.layers.0.attention.dense.weight", "exp_avg name");
	is_str(sa[4].name, "exp_avg_sq.model.layers.0.input_layernorm.weight", "exp_avg_sq name");
	ok(sa[6].ndim == 0 && sa[6].data[0] == 3.0f, "step is a scalar holding 3");
	ok(sa[0].ndim == 2 && sa[0].shape[0] == 2 && sa[0].shape[1] == 2, "moments have the tensor's shape");
	if (!mkdtemp(dir))
		return (void)ok(0, "mkdtemp");
	snprintf(path, sizeof(path), "%s/ckpt", dir);
	ok(train_ckpt_write(path, "{}", sa, na, TRAIN_F32, 0, &err) == 0, "state written: %s", err.msg);
	sb = train_optim_state(b, &nb);
	ok(train_ckpt_read(path, sb, nb, 0, &err) == 0, "state read back: %s", err.msg);
	ok(train_optim_state_loaded(b, &err) == 0 && train_optim_step(b) == 3, "step 3 restored");
	fill(g, TOY_SIZE, 20);
	train_optim_update(a, xa, g, 1e-2, &err);
	train_optim_update(b, xb, g, 1e-2, &err);
	is_mem(xb, sizeof(xb), xa, sizeof(xa), "the restored optimizer continues bit for bit");

	sb[6].data[0] = 2.5f;
	ok(train_optim_state_loaded(b, &err) == LING_EDATA && train_optim_step(b) == 0, "a fractional step refused");
	sb[6].data[0] = 1.0f;
	sb[3].data[0] = -1.0f;
	ok(train_optim_state_loaded(b, &err) == LING_EDATA && strstr(err.msg, "negative"),
	   "a negative exp_avg_sq refused");
	snprintf(path, sizeof(path), "%s/ckpt/model.safetensors", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ckpt/config.json", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ckpt", dir);
	rmdir(path);
	rmdir(dir);
	train_optim_free(a);
	train_optim_free(b);
}

static void test_model_params(void)
{
	struct train_config cfg;
	struct ling_err err = { 0 };
	struct train_optim_opts opts = TRAIN_OPTIM_OPTS_INIT;
	struct train_model *m;
	struct train_optim *o;
	const struct train_param *p;
	size_t n, norms = 0;

	if (train_config_preset(&cfg, "tiny", &err))
		return (void)ok(0, "tiny preset: %s", err.msg);
	m = train_model_new(&cfg, train_cpu_backend_new(1));
	p = train_model_params(m, &n);
	for (size_t i = 0; i < n; i++)
		norms += !train_optim_decays(p[i].name);
	is_int(norms, 2 * cfg.num_hidden_layers + 1, "a model's tensors without decay are its norms");
	o = train_optim_new_for_model(m, &opts, &err);
	ok(o != NULL, "an optimizer for a model");
	train_model_init(m, 1);
	ok(train_optim_update(o, train_model_data(m), train_model_grad(m), 1e-3, &err) == 0, "a model step");
	train_optim_free(o);
	train_model_free(m);
}

int main(void)
{
	test_schedules();
	test_clip();
	test_decay_rules();
	test_formula_and_slabs();
	test_nonfinite_refused();
	test_state_round_trip();
	test_model_params();
	return done_testing();
}
