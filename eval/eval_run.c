/*
 * eval_run: ling-eval's work over whole files (eval.h, "runs"): the model
 * copies and the store, questions asked by worker threads, the scores kept
 * per file, category, pattern and question type, the dump, the report.
 *
 * Threads: each job owns a model copy and asks one question at a time. The
 * store, its catalogue (whose name cache calls fill) and the run's state
 * are used under one lock, which a job lets go only while its model
 * generates, where the time goes; so the store is used by one thread at a
 * time, as kg.h requires, and generation runs in parallel.
 */
#include "eval.h"

#include "../common/ling_input.h"
#include "../common/ling_json.h"
#include "../common/ling_jsonl.h"
#include "../common/ling_sha256.h"
#include "../kg/kg.h"
#include "../tokenize/tokenize.h"

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- tallies ---- */

struct tally {
	uint64_t n, ast, exec, answer;   /* samples */
	uint64_t exact, hits1;           /* MetaQA (answer is shared) */
	uint64_t verdicts[EVAL_AST_NVERDICTS];
};

struct group {
	char *name;
	struct tally t;
};

struct groups {
	struct group *v;
	size_t n, cap;
};

static struct tally *group_get(struct groups *g, const char *name)
{
	for (size_t i = 0; i < g->n; i++)
		if (!strcmp(g->v[i].name, name))
			return &g->v[i].t;
	g->v = xgrow(g->v, &g->cap, g->n + 1, sizeof(*g->v));
	memset(&g->v[g->n], 0, sizeof(g->v[g->n]));
	g->v[g->n].name = xstrdup(name);
	return &g->v[g->n++].t;
}

static int cmp_group(const void *a, const void *b)
{
	return strcmp(((const struct group *)a)->name, ((const struct group *)b)->name);
}

static void groups_sort(struct groups *g)
{
	if (g->n > 1)
		qsort(g->v, g->n, sizeof(*g->v), cmp_group);
}

static void groups_release(struct groups *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->v[i].name);
	free(g->v);
}

enum file_kind { FILE_SAMPLES, FILE_METAQA };

/* What one input file scored. */
struct file_report {
	enum file_kind kind;
	char *path;
	char sha256[LING_SHA256_HEX_LEN + 1];
	uint64_t records;         /* non-blank lines */
	uint64_t bad;             /* lines that are not records, skipped */
	uint64_t instruction, multi_turn, missing_tools; /* samples passed over */
	uint64_t limited;         /* records beyond --limit */
	struct tally all;
	struct groups by_category, by_pattern; /* samples */
	/* MetaQA with a question-type file */
	char *qtype_path;
	char qtype_sha256[LING_SHA256_HEX_LEN + 1];
	struct groups by_qtype;
	struct tally reachable;
	uint64_t reach_unknown;   /* a type whose path could not be followed */
	uint64_t prompt_tokens, generated_tokens, round_limit;
	uint64_t cut_short;       /* questions generation stopped early (a conversation beyond the context) */
	double seconds;
};

struct perplexity {
	int done;
	char *dir, *split;
	int masked;
	char manifest_sha256[LING_SHA256_HEX_LEN + 1];
	uint64_t docs, windows, tokens, bytes;
	double nll;               /* summed, in nats */
	double seconds;
};

struct work;

struct job {
	struct eval_run *r;
	struct eval_model *m;
	struct eval_agent *agent; /* MetaQA: one agent for the whole file */
	struct work *work;        /* the file being asked */
	pthread_t thread;
};

struct eval_run {
	struct eval_run_opts o;
	struct kg_store *st;
	struct kg_toolset *ts;
	struct job *jobs;
	size_t njobs;
	pthread_mutex_t lock;
	struct file_report *files;
	size_t nfiles, files_cap;
	struct perplexity ppl;
	char *store_uuid;             /* the store's meta uuid (kg2samples' meta.store), or NULL */
	char *ckpt_dir;               /* the checkpoint directory the path names */
	struct ckpt_file {
		char *name;
		char sha256[LING_SHA256_HEX_LEN + 1];
	} *ckpt_files;                /* config.json and the weights, hashed for the report */
	size_t nckpt_files;
};

/* The directory a checkpoint path names: itself, or the one its (or its run's) latest file names. */
static char *checkpoint_dir(const char *path)
{
	struct ling_buf b = LING_BUF_INIT, f = LING_BUF_INIT;
	char line[4096] = "";
	FILE *fp;

	ling_buf_addf(&b, "%s/config.json", path);
	if (!access(b.data, F_OK)) {
		ling_buf_release(&b);
		return xstrdup(path);
	}
	ling_buf_reset(&b);
	ling_buf_addf(&b, "%s/latest", path);
	ling_buf_adds(&f, access(b.data, F_OK) ? path : b.data);
	fp = fopen(f.data, "r");
	if (fp) {
		if (!fgets(line, sizeof(line), fp))
			line[0] = '\0';
		fclose(fp);
	}
	line[strcspn(line, "\r\n")] = '\0';
	ling_buf_reset(&b);
	if (strrchr(f.data, '/'))
		ling_buf_add(&b, f.data, (size_t)(strrchr(f.data, '/') - f.data + 1));
	ling_buf_adds(&b, line);
	ling_buf_release(&f);
	return b.data;
}

static int wanted_ckpt_file(const char *name)
{
	size_t n = strlen(name);

	return !strcmp(name, "config.json") ||
	       (!strncmp(name, "model", 5) && n > 12 && !strcmp(name + n - 12, ".safetensors"));
}

static int cmp_ckpt_file(const void *a, const void *b)
{
	return strcmp(((const struct ckpt_file *)a)->name, ((const struct ckpt_file *)b)->name);
}

/* Hashes the checkpoint's config.json and model*.safetensors (what the scores rest on). */
static int hash_checkpoint(struct eval_run *r, struct ling_err *err)
{
	struct ling_buf path = LING_BUF_INIT;
	size_t cap = 0;
	struct dirent *e;
	DIR *d;
	int rc = 0;

	r->ckpt_dir = checkpoint_dir(r->o.model.checkpoint);
	d = opendir(r->ckpt_dir);
	if (!d)
		return 0; /* eval_model_open read it: nothing to add */
	while ((e = readdir(d))) {
		struct ckpt_file *f;

		if (!wanted_ckpt_file(e->d_name))
			continue;
		r->ckpt_files = xgrow(r->ckpt_files, &cap, r->nckpt_files + 1, sizeof(*r->ckpt_files));
		f = &r->ckpt_files[r->nckpt_files++];
		f->name = xstrdup(e->d_name);
		ling_buf_reset(&path);
		ling_buf_addf(&path, "%s/%s", r->ckpt_dir, e->d_name);
		if ((rc = ling_sha256_file_hex(path.data, 0, f->sha256, err)))
			break;
	}
	closedir(d);
	ling_buf_release(&path);
	if (r->nckpt_files > 1)
		qsort(r->ckpt_files, r->nckpt_files, sizeof(*r->ckpt_files), cmp_ckpt_file);
	return rc;
}

int eval_run_new(struct eval_run **out, const struct eval_run_opts *o, struct ling_err *err)
{
	struct eval_run *r = xcalloc(1, sizeof(*r));
	int rc;

	*out = NULL;
	r->o = *o;
	r->njobs = o->jobs > 0 ? (size_t)o->jobs : 1;
	pthread_mutex_init(&r->lock, NULL);
	r->jobs = xcalloc(r->njobs, sizeof(*r->jobs));
	if (o->store && ((rc = kg_store_open(&r->st, o->store, KG_STORE_READONLY, err)) ||
			 (rc = kg_toolset_build(r->st, NULL, &r->ts, err))))
		goto fail;
	if (!r->ts && o->ntools) {
		rc = ling_err_set(err, LING_EUSAGE, "tools are offered from a store: give one");
		goto fail;
	}
	for (size_t i = 0; i < o->ntools; i++)
		if (!kg_toolset_find(r->ts, o->tools[i])) {
			rc = ling_err_set(err, LING_EUSAGE, "no tool '%s' in the store's catalogue (kg-query --tools lists them)",
					  o->tools[i]);
			goto fail;
		}
	if (r->st) {
		struct ling_buf uuid = LING_BUF_INIT;

		if (kg_store_meta_get(r->st, "uuid", &uuid, err) == 1)
			r->store_uuid = xstrndup(uuid.data, uuid.len);
		ling_buf_release(&uuid);
		ling_err_clear(err);
	}
	for (size_t i = 0; i < r->njobs; i++) {
		r->jobs[i].r = r;
		if ((rc = eval_model_open(&r->jobs[i].m, &o->model, err)))
			goto fail;
	}
	if ((rc = hash_checkpoint(r, err)))
		goto fail;
	*out = r;
	return 0;
fail:
	eval_run_free(r);
	return rc;
}

static void file_release(struct file_report *f)
{
	free(f->path);
	free(f->qtype_path);
	groups_release(&f->by_category);
	groups_release(&f->by_pattern);
	groups_release(&f->by_qtype);
}

void eval_run_free(struct eval_run *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->njobs; i++) {
		eval_agent_free(r->jobs[i].agent);
		eval_model_free(r->jobs[i].m);
	}
	free(r->jobs);
	kg_toolset_free(r->ts);
	kg_store_close(r->st);
	for (size_t i = 0; i < r->nfiles; i++)
		file_release(&r->files[i]);
	free(r->files);
	free(r->ppl.dir);
	free(r->ppl.split);
	free(r->store_uuid);
	free(r->ckpt_dir);
	for (size_t i = 0; i < r->nckpt_files; i++)
		free(r->ckpt_files[i].name);
	free(r->ckpt_files);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static struct file_report *new_file(struct eval_run *r, enum file_kind kind, const char *path)
{
	struct file_report *f;

	r->files = xgrow(r->files, &r->files_cap, r->nfiles + 1, sizeof(*r->files));
	f = &r->files[r->nfiles++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->path = xstrdup(path);
	return f;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the questions of one file ---- */

struct item {
	long line;
	struct eval_sample s;          /* samples */
	struct eval_metaqa_item q;     /* MetaQA */
	char *qtype;                   /* MetaQA: the question type, or NULL */
	int reach;                     /* MetaQA: 1 reachable, 0 not, -1 unknown or no type */
	struct eval_score sc;
	struct eval_metaqa_score ms;
	struct ling_buf dump;
	uint64_t prompt_tokens, generated_tokens;
	int round_limit;
	char *error;                   /* why generation stopped this question early, or NULL */
};

struct work {
	struct eval_run *r;
	struct file_report *f;
	struct item *items;
	size_t n, cap, next, done;
	int failed;
	struct ling_err err;
};

static void item_release(struct item *it);

static void items_release(struct work *w)
{
	for (size_t i = 0; i < w->n; i++)
		item_release(&w->items[i]);
	free(w->items);
}

static struct item *new_item(struct work *w, long line)
{
	struct item *it;

	w->items = xgrow(w->items, &w->cap, w->n + 1, sizeof(*w->items));
	it = &w->items[w->n++];
	memset(it, 0, sizeof(*it));
	it->line = line;
	it->reach = -1;
	return it;
}

/* The model generates with the run unlocked: the one place jobs overlap. */
static int job_generate(void *ctx, const uint32_t *prompt, size_t n, const struct eval_stop *stop,
			struct ling_u32s *out, enum eval_stop_reason *why, struct ling_err *err)
{
	struct job *j = ctx;
	int rc;

	pthread_mutex_unlock(&j->r->lock);
	rc = eval_generate(j->m, prompt, n, stop, out, why, err);
	pthread_mutex_lock(&j->r->lock);
	return rc;
}

static int new_agent(struct job *j, const char *const *offer, size_t noffer, const char *system,
		     struct eval_agent **out, struct ling_err *err)
{
	struct eval_run *r = j->r;
	struct eval_agent_opts ao;

	memset(&ao, 0, sizeof(ao));
	ao.gen.generate = job_generate;
	ao.gen.ctx = j;
	ao.tok = eval_model_tok(j->m);
	ao.template_name = eval_model_template(j->m);
	ao.store = r->st;
	ao.tools = r->ts;
	ao.offer = offer;
	ao.noffer = noffer;
	ao.system = system;
	ao.max_rounds = r->o.max_rounds;
	ao.max_new_tokens = r->o.max_new_tokens;
	return eval_agent_new(out, &ao, err);
}

static const char *stop_name(enum eval_stop_reason why)
{
	switch (why) {
	case EVAL_STOP_TOKEN: return "token";
	case EVAL_STOP_STRING: return "string";
	case EVAL_STOP_LENGTH: return "length";
	case EVAL_STOP_CONTEXT: return "context";
	}
	return "?";
}

static void dump_strings(struct ling_json *w, const char *key, char *const *v, size_t n)
{
	ling_json_keyz(w, key);
	ling_json_array_begin(w);
	for (size_t i = 0; i < n; i++)
		ling_json_strz(w, v[i]);
	ling_json_array_end(w);
}

static void dump_calls(struct ling_json *w, const char *key, const struct eval_call *c, size_t n)
{
	ling_json_keyz(w, key);
	ling_json_array_begin(w);
	for (size_t i = 0; i < n; i++) {
		ling_json_object_begin(w);
		ling_json_keyz(w, "name");
		ling_json_strz(w, c[i].name);
		ling_json_keyz(w, "arguments");
		ling_json_strz(w, c[i].arguments);
		if (c[i].error) {
			ling_json_keyz(w, "error");
			ling_json_strz(w, c[i].error);
		}
		ling_json_object_end(w);
	}
	ling_json_array_end(w);
}

static void dump_transcript(struct ling_json *w, const struct eval_transcript *t)
{
	char **got;
	size_t ngot;

	ling_json_keyz(w, "turns");
	ling_json_array_begin(w);
	for (size_t i = 0; i < t->nturns; i++) {
		const struct eval_turn *turn = &t->turns[i];

		ling_json_object_begin(w);
		ling_json_keyz(w, "text");
		ling_json_strz(w, turn->text);
		dump_calls(w, "calls", turn->calls.v, turn->calls.n);
		ling_json_keyz(w, "results");
		ling_json_array_begin(w);
		for (size_t c = 0; c < turn->calls.n; c++)
			ling_json_strz(w, turn->results ? turn->results[c] : NULL);
		ling_json_array_end(w);
		ling_json_keyz(w, "ok");
		ling_json_array_begin(w);
		for (size_t c = 0; c < turn->calls.n; c++)
			ling_json_bool(w, turn->ok && turn->ok[c]);
		ling_json_array_end(w);
		ling_json_keyz(w, "stop");
		ling_json_strz(w, stop_name(turn->why));
		ling_json_object_end(w);
	}
	ling_json_array_end(w);
	ling_json_keyz(w, "answer");
	ling_json_strz(w, t->answer ? t->answer : "");
	ling_json_keyz(w, "round_limit");
	ling_json_bool(w, t->round_limit);
	eval_answer_set(t, &got, &ngot);
	dump_strings(w, "predicted", got, ngot);
	eval_strings_free(got, ngot);
}

static void dump_sample(struct item *it, const char *file, const struct eval_transcript *t)
{
	struct ling_json w;

	ling_json_init(&w, &it->dump, 0);
	ling_json_object_begin(&w);
	ling_json_keyz(&w, "file");
	ling_json_strz(&w, file);
	ling_json_keyz(&w, "line");
	ling_json_int(&w, it->line);
	ling_json_keyz(&w, "id");
	ling_json_strz(&w, it->s.id);
	ling_json_keyz(&w, "category");
	ling_json_strz(&w, it->s.category);
	ling_json_keyz(&w, "pattern");
	ling_json_strz(&w, it->s.pattern);
	ling_json_keyz(&w, "question");
	ling_json_strz(&w, it->s.question);
	dump_calls(&w, "gold_calls", it->s.gold, it->s.ngold);
	dump_strings(&w, "gold_answer", it->s.answer, it->s.nanswer);
	dump_transcript(&w, t);
	ling_json_keyz(&w, "error");
	ling_json_strz(&w, it->error);
	ling_json_keyz(&w, "verdict");
	ling_json_object_begin(&w);
	ling_json_keyz(&w, "ast");
	ling_json_strz(&w, eval_ast_verdict_name(it->sc.ast));
	ling_json_keyz(&w, "exec");
	ling_json_bool(&w, it->sc.exec_ok);
	ling_json_keyz(&w, "answer");
	ling_json_bool(&w, it->sc.answer_ok);
	ling_json_keyz(&w, "why");
	ling_json_strz(&w, it->sc.why);
	ling_json_object_end(&w);
	ling_json_object_end(&w);
	ling_json_release(&w);
	ling_buf_addc(&it->dump, '\n');
}

static void dump_metaqa(struct item *it, const char *file, const struct eval_transcript *t)
{
	struct ling_json w;

	ling_json_init(&w, &it->dump, 0);
	ling_json_object_begin(&w);
	ling_json_keyz(&w, "file");
	ling_json_strz(&w, file);
	ling_json_keyz(&w, "line");
	ling_json_int(&w, it->line);
	ling_json_keyz(&w, "question");
	ling_json_strz(&w, it->q.question);
	ling_json_keyz(&w, "entity");
	ling_json_strz(&w, it->q.entity);
	ling_json_keyz(&w, "qtype");
	ling_json_strz(&w, it->qtype);
	ling_json_keyz(&w, "reachable");
	if (it->reach < 0)
		ling_json_null(&w);
	else
		ling_json_bool(&w, it->reach);
	dump_strings(&w, "gold_answer", it->q.answers, it->q.nanswers);
	dump_transcript(&w, t);
	ling_json_keyz(&w, "error");
	ling_json_strz(&w, it->error);
	ling_json_keyz(&w, "verdict");
	ling_json_object_begin(&w);
	ling_json_keyz(&w, "exact");
	ling_json_bool(&w, it->ms.exact);
	ling_json_keyz(&w, "hits1");
	ling_json_bool(&w, it->ms.hits1);
	ling_json_keyz(&w, "answer");
	ling_json_bool(&w, it->ms.answer);
	ling_json_keyz(&w, "top");
	ling_json_strz(&w, it->ms.top);
	ling_json_object_end(&w);
	ling_json_object_end(&w);
	ling_json_release(&w);
	ling_buf_addc(&it->dump, '\n');
}

/* Asks one question, with the run locked (generation unlocks it). */
static int ask_item(struct job *j, struct work *w, struct item *it, struct ling_err *err)
{
	struct eval_agent *agent = j->agent;
	struct eval_transcript t;
	int rc;

	memset(&t, 0, sizeof(t));
	if (w->f->kind == FILE_SAMPLES &&
	    (rc = new_agent(j, (const char *const *)it->s.offer, it->s.noffer, it->s.system, &agent, err)))
		return rc;
	rc = eval_agent_ask(agent, w->f->kind == FILE_SAMPLES ? it->s.question : it->q.question, &t, err);
	if (rc == LING_EDATA) {
		/* this question only (a conversation beyond the context): scored as far as it went */
		it->error = xstrdup(err->msg);
		ling_err_clear(err);
		rc = 0;
	}
	if (rc)
		goto out;
	if (w->f->kind == FILE_SAMPLES) {
		eval_score_sample(&it->s, &t, &it->sc);
		if (w->r->o.dump)
			dump_sample(it, w->f->path, &t);
	} else {
		eval_metaqa_score(&it->q, &t, &it->ms);
		if (w->r->o.dump)
			dump_metaqa(it, w->f->path, &t);
	}
	it->prompt_tokens = t.prompt_tokens;
	it->generated_tokens = t.generated_tokens;
	it->round_limit = t.round_limit;
out:
	eval_transcript_free(&t);
	if (agent != j->agent)
		eval_agent_free(agent);
	return rc;
}

static void *job_main(void *arg)
{
	struct job *j = arg;
	struct work *w = j->work;
	struct eval_run *r = j->r;
	struct ling_err err;

	ling_err_clear(&err);
	pthread_mutex_lock(&r->lock);
	while (!w->failed && w->next < w->n) {
		struct item *it = &w->items[w->next++];
		int rc = ask_item(j, w, it, &err);

		if (rc) {
			if (!w->failed) {
				w->failed = rc;
				w->err = err;
			}
			break;
		}
		w->done++;
		if (r->o.on_progress)
			r->o.on_progress(r->o.ctx, w->f->path, w->done, w->n);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static void add_score(struct tally *t, const struct item *it, enum file_kind kind)
{
	t->n++;
	if (kind == FILE_SAMPLES) {
		t->ast += it->sc.ast_ok;
		t->exec += it->sc.exec_ok;
		t->answer += it->sc.answer_ok;
		t->verdicts[it->sc.ast]++;
	} else {
		t->exact += it->ms.exact;
		t->hits1 += it->ms.hits1;
		t->answer += it->ms.answer;
	}
}

/* Asks every item on the jobs, then tallies and dumps them in file order. */
static int run_items(struct eval_run *r, struct work *w, struct ling_err *err)
{
	struct file_report *f = w->f;
	double t0 = now();
	size_t njobs = r->njobs < w->n ? r->njobs : w->n;
	size_t started = 0;

	for (size_t i = 0; i < njobs; i++)
		r->jobs[i].work = w;
	if (njobs == 0) {
		/* nothing to ask */
	} else if (njobs == 1) {
		job_main(&r->jobs[0]);
	} else {
		for (; started < njobs; started++)
			if (pthread_create(&r->jobs[started].thread, NULL, job_main, &r->jobs[started]))
				break;
		if (started == 0)
			job_main(&r->jobs[0]);
		for (size_t i = 0; i < started; i++)
			pthread_join(r->jobs[i].thread, NULL);
	}
	f->seconds += now() - t0;
	if (w->failed) {
		*err = w->err;
		return w->failed;
	}
	for (size_t i = 0; i < w->n; i++) {
		struct item *it = &w->items[i];

		add_score(&f->all, it, f->kind);
		if (f->kind == FILE_SAMPLES) {
			add_score(group_get(&f->by_category, it->s.category), it, f->kind);
			add_score(group_get(&f->by_pattern, it->s.pattern ? it->s.pattern : "none"), it, f->kind);
		} else {
			if (it->qtype)
				add_score(group_get(&f->by_qtype, it->qtype), it, f->kind);
			if (it->reach > 0)
				add_score(&f->reachable, it, f->kind);
		}
		f->prompt_tokens += it->prompt_tokens;
		f->generated_tokens += it->generated_tokens;
		f->round_limit += (uint64_t)it->round_limit;
		f->cut_short += it->error != NULL;
		if (r->o.dump && it->dump.len && fwrite(it->dump.data, 1, it->dump.len, r->o.dump) != it->dump.len)
			return ling_err_set(err, LING_EIO, "cannot write the dump");
	}
	groups_sort(&f->by_category);
	groups_sort(&f->by_pattern);
	groups_sort(&f->by_qtype);
	if (r->o.dump && fflush(r->o.dump))
		return ling_err_set(err, LING_EIO, "cannot write the dump");
	return 0;
}

static int bad_line(struct eval_run *r, struct file_report *f, const struct ling_err *e, struct ling_err *err)
{
	f->bad++;
	if (!r->o.on_bad || r->o.on_bad(r->o.ctx, e)) {
		*err = *e;
		return LING_EDATA;
	}
	return 0;
}

static void item_release(struct item *it)
{
	eval_sample_release(&it->s);
	eval_metaqa_release(&it->q);
	free(it->qtype);
	eval_score_release(&it->sc);
	eval_metaqa_score_release(&it->ms);
	ling_buf_release(&it->dump);
	free(it->error);
}

/*
 * Keeps --limit of the items, spread evenly over the file (item i*n/limit
 * for i < limit), so that a file grouped by kind (MetaQA's 1-hop files are
 * sorted by question type) is sampled across its groups.
 */
static void keep_evenly(struct eval_run *r, struct work *w)
{
	size_t limit = (size_t)r->o.limit, kept = 0, next = 0;

	if (r->o.limit <= 0 || w->n <= limit)
		return;
	for (size_t j = 0; j < w->n; j++) {
		if (kept < limit && j == next) {
			if (kept != j)
				w->items[kept] = w->items[j];
			kept++;
			next = (size_t)((unsigned long long)kept * w->n / limit);
		} else {
			item_release(&w->items[j]);
		}
	}
	w->f->limited = w->n - kept;
	w->n = kept;
}

/* The first offered tool the store lacks, or NULL. */
static const char *missing_tool(const struct eval_run *r, const struct eval_sample *s)
{
	for (size_t i = 0; i < s->noffer; i++)
		if (!kg_toolset_find(r->ts, s->offer[i]))
			return s->offer[i];
	return NULL;
}

static int read_samples(struct eval_run *r, struct work *w, struct ling_input *in, struct ling_err *err)
{
	struct file_report *f = w->f;
	struct ling_jsonl rd;
	const char *line;
	size_t len;
	int rc;

	ling_jsonl_init(&rd, in);
	while ((rc = ling_jsonl_next(&rd, &line, &len, err)) == 1) {
		struct ling_err e;
		struct eval_sample s;
		const char *missing;

		f->records++;
		ling_err_clear(&e);
		rc = eval_sample_parse(&s, line, len, f->path, rd.line, &e);
		if (rc == LING_ESTOP) {
			f->instruction++;
			continue;
		}
		if (rc) {
			if ((rc = bad_line(r, f, &e, err)))
				return rc;
			continue;
		}
		if (s.user_turns > 1) {
			f->multi_turn++;
		} else if ((missing = missing_tool(r, &s))) {
			f->missing_tools++;
			ling_err_at(&e, LING_EUSAGE, f->path, rd.line, 0,
				    "sample %s offers the tool '%s', which the store lacks (skipped)", s.id, missing);
			if (r->o.on_note)
				r->o.on_note(r->o.ctx, &e);
		} else {
			new_item(w, rd.line)->s = s;
			continue;
		}
		eval_sample_release(&s);
	}
	return rc;
}

static int need_store(const struct eval_run *r, struct ling_err *err)
{
	return r->ts ? 0 : ling_err_set(err, LING_EUSAGE, "questions are asked with a store's tools: give one");
}

int eval_run_samples(struct eval_run *r, const char *path, struct ling_err *err)
{
	struct file_report *f = new_file(r, FILE_SAMPLES, path);
	struct ling_input *in = NULL;
	struct work w;
	int rc;

	memset(&w, 0, sizeof(w));
	w.r = r;
	w.f = f;
	if ((rc = need_store(r, err)) || (rc = ling_sha256_file_hex(path, 0, f->sha256, err)) ||
	    (rc = ling_input_open(&in, path, err)) ||
	    (rc = read_samples(r, &w, in, err)))
		goto out;
	keep_evenly(r, &w);
	rc = run_items(r, &w, err);
out:
	ling_input_close(in);
	items_release(&w);
	return rc;
}

/* ---- MetaQA ---- */

/* D/vanilla/qa_X.txt -> D/qa_X_qtype.txt, when that file exists; else NULL. */
static char *qtype_path_for(const char *path)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	const char *dot = strrchr(base, '.');
	struct ling_buf b = LING_BUF_INIT;
	FILE *fp;

	if (!dot || !slash || slash - path < 8 || strncmp(slash - 8, "/vanilla", 8) != 0)
		return NULL;
	ling_buf_add(&b, path, (size_t)(slash - 8 - path) + 1);
	ling_buf_add(&b, base, (size_t)(dot - base));
	ling_buf_adds(&b, "_qtype");
	ling_buf_adds(&b, dot);
	fp = fopen(b.data, "r");
	if (!fp) {
		ling_buf_release(&b);
		return NULL;
	}
	fclose(fp);
	return b.data;
}

/* The predicate's local name of a MetaQA type word (README: director = directed_by, ...). */
static const char *qtype_relation(const char *word, size_t n)
{
	static const char *const map[][2] = {
		{ "director", "directed_by" }, { "writer", "written_by" }, { "actor", "starred_actors" },
		{ "year", "release_year" },    { "language", "in_language" }, { "genre", "has_genre" },
		{ "tag", "has_tags" },         { "tags", "has_tags" },    { "imdbvotes", "has_imdb_votes" },
		{ "imdbrating", "has_imdb_rating" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strlen(map[i][0]) == n && !memcmp(map[i][0], word, n))
			return map[i][1];
	return NULL;
}

/* The store's tool over the predicate whose IRI ends in /local, :local or #local, in direction kind. */
static const struct kg_tool *relation_tool(const struct kg_toolset *ts, const char *local, enum kg_tool_kind kind)
{
	size_t n = strlen(local);

	for (size_t i = 0; i < ts->ntools; i++) {
		const struct kg_tool *t = &ts->tools[i];
		size_t m = t->predicate_iri ? strlen(t->predicate_iri) : 0;

		if (t->kind == kind && m > n && !strcmp(t->predicate_iri + m - n, local) &&
		    strchr("/:#", t->predicate_iri[m - n - 1]))
			return t;
	}
	return NULL;
}

#define REACH_MAX_SET 20000 /* a path through more entities than this is not followed */

/* Calls t on every name of *set; the union of the results replaces *set. @return 0, 1 too big, or < 0. */
static int follow(struct eval_run *r, const struct kg_tool *t, json_t **set)
{
	json_t *next = json_object();
	struct ling_buf args = LING_BUF_INIT, res = LING_BUF_INIT;
	struct ling_err err;
	const char *name;
	json_t *v;
	int rc = 0;

	json_object_foreach(*set, name, v) {
		struct ling_json w;
		long long num;
		json_t *arr, *x;
		size_t i;

		ling_buf_reset(&args);
		ling_json_init(&w, &args, 0);
		ling_json_object_begin(&w);
		ling_json_keyz(&w, t->param);
		if ((t->value == KG_VALUE_INTEGER || t->value == KG_VALUE_YEAR) && t->kind == KG_TOOL_INVERSE &&
		    sscanf(name, "%lld", &num) == 1)
			ling_json_int(&w, num);
		else
			ling_json_strz(&w, name);
		ling_json_object_end(&w);
		ling_json_release(&w);
		if (kg_tool_call(r->st, r->ts, t->name, args.data, &res, &err) == LING_ESTORE) {
			rc = -1;
			break;
		}
		arr = json_loads(res.data ? res.data : "[]", 0, NULL);
		json_array_foreach(arr, i, x)
			if (json_is_string(x))
				json_object_set(next, json_string_value(x), json_true());
		json_decref(arr);
		if (json_object_size(next) > REACH_MAX_SET) {
			rc = 1;
			break;
		}
	}
	ling_buf_release(&args);
	ling_buf_release(&res);
	json_decref(*set);
	*set = next;
	return rc;
}

/*
 * Whether the gold answers of q are reached from its entity along the
 * type's path ("movie_to_director_to_movie": forward director, then inverse
 * director). @return 1, 0, or -1 when the type cannot be followed here.
 */
static int reachable(struct eval_run *r, const struct eval_metaqa_item *q, const char *qtype)
{
	json_t *set = json_object();
	const char *p = qtype;
	int rc = 1;

	json_object_set(set, q->entity, json_true());
	for (;;) {
		const char *sep = strstr(p, "_to_"), *next, *rel;
		const struct kg_tool *t;
		size_t nfrom, nto;

		if (!sep)
			break;
		nfrom = (size_t)(sep - p);
		next = sep + 4;
		nto = strstr(next, "_to_") ? (size_t)(strstr(next, "_to_") - next) : strlen(next);
		if (nfrom == 5 && !memcmp(p, "movie", 5)) {
			rel = qtype_relation(next, nto);
			t = rel ? relation_tool(r->ts, rel, KG_TOOL_FORWARD) : NULL;
		} else {
			rel = qtype_relation(p, nfrom);
			t = rel ? relation_tool(r->ts, rel, KG_TOOL_INVERSE) : NULL;
		}
		if (!t || follow(r, t, &set)) {
			rc = -1;
			goto out;
		}
		p = next;
	}
	if (p == qtype)
		rc = -1;
	for (size_t i = 0; rc == 1 && i < q->nanswers; i++)
		if (!json_object_get(set, q->answers[i]))
			rc = 0;
out:
	json_decref(set);
	return rc;
}

static int read_metaqa(struct eval_run *r, struct work *w, struct ling_input *in, struct ling_input *qt,
		       struct ling_err *err)
{
	struct file_report *f = w->f;
	const char *line, *tline;
	size_t len, tlen;
	long lineno = 0;
	int rc;

	while ((rc = ling_input_getline(in, &line, &len, err)) == 1) {
		struct eval_metaqa_item q;
		struct ling_err e;
		char *qtype = NULL;

		lineno++;
		if (qt) {
			if ((rc = ling_input_getline(qt, &tline, &tlen, err)) < 0)
				return rc;
			if (rc == 0)
				return ling_err_at(err, LING_EDATA, f->qtype_path, lineno, 0,
						   "fewer lines than %s: not its question types", f->path);
			qtype = xstrndup(tline, tlen && tline[tlen - 1] == '\r' ? tlen - 1 : tlen);
		}
		if (len == 0 || (len == 1 && line[0] == '\r')) {
			free(qtype);
			continue;
		}
		f->records++;
		ling_err_clear(&e);
		if (eval_metaqa_parse(&q, line, len, f->path, lineno, &e)) {
			free(qtype);
			if ((rc = bad_line(r, f, &e, err)))
				return rc;
			continue;
		}
		{
			struct item *it = new_item(w, lineno);

			it->q = q;
			it->qtype = qtype;
		}
	}
	return rc;
}

int eval_run_metaqa(struct eval_run *r, const char *path, struct ling_err *err)
{
	struct file_report *f = new_file(r, FILE_METAQA, path);
	struct ling_input *in = NULL, *qt = NULL;
	struct work w;
	int rc;

	memset(&w, 0, sizeof(w));
	w.r = r;
	w.f = f;
	f->qtype_path = qtype_path_for(path);
	if ((rc = need_store(r, err)) || (rc = ling_sha256_file_hex(path, 0, f->sha256, err)) ||
	    (rc = ling_input_open(&in, path, err)))
		goto out;
	if (f->qtype_path && ((rc = ling_sha256_file_hex(f->qtype_path, 0, f->qtype_sha256, err)) ||
			      (rc = ling_input_open(&qt, f->qtype_path, err))))
		goto out;
	if ((rc = read_metaqa(r, &w, in, qt, err)))
		goto out;
	keep_evenly(r, &w);
	for (size_t i = 0; i < w.n; i++) {
		struct item *it = &w.items[i];

		if (it->qtype) {
			it->reach = reachable(r, &it->q, it->qtype);
			f->reach_unknown += it->reach < 0;
		}
	}
	for (size_t i = 0; i < r->njobs && i < (w.n ? w.n : 1); i++) {
		if (r->jobs[i].agent)
			continue;
		if ((rc = new_agent(&r->jobs[i], r->o.tools, r->o.ntools, r->o.system ? r->o.system : EVAL_DEFAULT_SYSTEM,
				    &r->jobs[i].agent, err)))
			goto out;
	}
	rc = run_items(r, &w, err);
out:
	ling_input_close(in);
	ling_input_close(qt);
	items_release(&w);
	return rc;
}

/* ---- perplexity ---- */

struct ppl_state {
	struct eval_model *m;
	struct tok *tok;
	size_t vocab, ctx;
	float *logits;
	int masked;
	struct ling_buf text;
};

/*
 * The bytes of the text of ids[from, to): a run of scored tokens decoded
 * whole, since a byte-level token alone may hold part of a character
 * (decoded alone it would become U+FFFD).
 */
static uint64_t run_bytes(struct ppl_state *ps, const uint32_t *ids, size_t from, size_t to)
{
	struct ling_err err;

	if (from >= to)
		return 0;
	ling_buf_reset(&ps->text);
	if (tok_decode(ps->tok, ids + from, to - from, &ps->text, &err))
		return 0;
	return ps->text.len;
}

/* Scores one document's tokens in windows of the context. */
static int score_document(struct ppl_state *ps, struct perplexity *p, const struct ling_u32s *ids,
			  const struct ling_u32s *mask, struct ling_err *err)
{
	for (size_t start = 0; start + 1 < ids->n; start += ps->ctx) {
		size_t win = ids->n - start < ps->ctx ? ids->n - start : ps->ctx, run = 0;
		int rc;

		if (win < 2)
			break;
		if ((rc = eval_logits(ps->m, ids->v + start, win, ps->logits, err)))
			return rc;
		p->windows++;
		for (size_t t = 1; t <= win; t++) {
			const float *row = ps->logits + (t - 1) * ps->vocab;
			double max, sum = 0;
			uint32_t target;

			if (t == win || (ps->masked && (start + t >= mask->n || !mask->v[start + t]))) {
				p->bytes += run_bytes(ps, ids->v, start + (run ? run : t), start + t);
				run = 0;
				continue;
			}
			if (!run)
				run = t;
			target = ids->v[start + t];
			max = row[0];
			for (size_t k = 1; k < ps->vocab; k++)
				if (row[k] > max)
					max = row[k];
			for (size_t k = 0; k < ps->vocab; k++)
				sum += exp(row[k] - max);
			p->nll += max + log(sum) - row[target];
			p->tokens++;
		}
	}
	return 0;
}

static int shard_perplexity(struct eval_run *r, struct ppl_state *ps, const char *dir, const char *name,
			    const char *mask_name, uint64_t *docs_left, struct ling_err *err)
{
	struct perplexity *p = &r->ppl;
	struct ling_buf path = LING_BUF_INIT;
	struct tok_shard *s = NULL, *ms = NULL;
	struct ling_u32s ids = LING_U32S_INIT, mask = LING_U32S_INIT;
	int rc;

	ling_buf_addf(&path, "%s/%s", dir, name);
	if ((rc = tok_shard_open(&s, path.data, err)))
		goto out;
	if (mask_name) {
		ling_buf_reset(&path);
		ling_buf_addf(&path, "%s/%s", dir, mask_name);
		if ((rc = tok_shard_open(&ms, path.data, err)))
			goto out;
	}
	for (uint64_t i = 0; i < tok_shard_count(s) && *docs_left; i++) {
		if ((rc = tok_shard_get(s, i, &ids, err)) || (ms && (rc = tok_shard_get(ms, i, &mask, err))))
			goto out;
		for (size_t k = 0; k < ids.n; k++)
			if (ids.v[k] >= ps->vocab) {
				rc = ling_err_at(err, LING_EDATA, path.data, 0, 0,
						 "token %u of document %llu is beyond the model's vocabulary (%zu)",
						 ids.v[k], (unsigned long long)i, ps->vocab);
				goto out;
			}
		if ((rc = score_document(ps, p, &ids, &mask, err)))
			goto out;
		p->docs++;
		(*docs_left)--;
	}
out:
	tok_shard_close(s);
	tok_shard_close(ms);
	ling_u32s_release(&ids);
	ling_u32s_release(&mask);
	ling_buf_release(&path);
	return rc;
}

int eval_run_perplexity(struct eval_run *r, const char *dir, const char *split, int masked, struct ling_err *err)
{
	struct perplexity *p = &r->ppl;
	struct ling_buf path = LING_BUF_INIT;
	struct ppl_state ps;
	json_error_t jerr;
	json_t *manifest = NULL, *shard;
	uint64_t docs_left = r->o.limit > 0 ? (uint64_t)r->o.limit : UINT64_MAX;
	double t0 = now();
	size_t i;
	int rc;

	memset(&ps, 0, sizeof(ps));
	free(p->dir);
	free(p->split);
	memset(p, 0, sizeof(*p));
	p->dir = xstrdup(dir);
	p->split = xstrdup(split);
	p->masked = masked;
	ling_buf_addf(&path, "%s/manifest.json", dir);
	if ((rc = ling_sha256_file_hex(path.data, 0, p->manifest_sha256, err)))
		goto out;
	manifest = json_load_file(path.data, 0, &jerr);
	if (!manifest || !json_is_array(json_object_get(manifest, "shards"))) {
		rc = ling_err_at(err, LING_EDATA, path.data, jerr.line > 0 ? jerr.line : 0, 0,
				 "not a dataset manifest (tokenize build writes one)%s%s", manifest ? "" : ": ",
				 manifest ? "" : jerr.text);
		goto out;
	}
	ps.m = r->jobs[0].m;
	ps.vocab = eval_model_vocab_size(ps.m);
	ps.ctx = eval_model_max_context(ps.m);
	ps.masked = masked;
	ps.tok = eval_model_tok(ps.m);
	ps.logits = xmalloc(ps.ctx * ps.vocab * sizeof(float));
	json_array_foreach(json_object_get(manifest, "shards"), i, shard) {
		const char *name = json_string_value(json_object_get(shard, "name"));
		const char *mask = json_string_value(json_object_get(shard, "mask"));
		const char *s = json_string_value(json_object_get(shard, "split"));

		if (!name || !s) {
			rc = ling_err_at(err, LING_EDATA, path.data, 0, 0, "shard %zu has no name or split", i + 1);
			goto out;
		}
		if (strcmp(s, split) != 0)
			continue;
		if ((rc = shard_perplexity(r, &ps, dir, name, masked ? mask : NULL, &docs_left, err)))
			goto out;
	}
	if (p->docs == 0) {
		rc = ling_err_at(err, LING_EDATA, path.data, 0, 0, "the dataset has no document in split '%s'", split);
		goto out;
	}
	p->done = 1;
out:
	p->seconds = now() - t0;
	json_decref(manifest);
	ling_buf_release(&ps.text);
	free(ps.logits);
	ling_buf_release(&path);
	return rc;
}

/* ---- the report ---- */

static void key_uint(struct ling_json *w, const char *key, uint64_t v)
{
	ling_json_keyz(w, key);
	ling_json_uint(w, v);
}

static void key_ratio(struct ling_json *w, const char *key, uint64_t k, uint64_t n)
{
	ling_json_keyz(w, key);
	if (n)
		ling_json_real(w, (double)k / (double)n, LING_JSON_REAL_PYTHON);
	else
		ling_json_null(w);
}

static void report_tally(struct ling_json *w, const struct tally *t, enum file_kind kind)
{
	ling_json_object_begin(w);
	key_uint(w, "n", t->n);
	if (kind == FILE_SAMPLES) {
		key_ratio(w, "ast", t->ast, t->n);
		key_ratio(w, "exec", t->exec, t->n);
		key_ratio(w, "answer", t->answer, t->n);
		key_uint(w, "ast_correct", t->ast);
		key_uint(w, "exec_correct", t->exec);
		key_uint(w, "answer_correct", t->answer);
		ling_json_keyz(w, "ast_verdicts");
		ling_json_object_begin(w);
		for (int v = 0; v < EVAL_AST_NVERDICTS; v++)
			if (t->verdicts[v])
				key_uint(w, eval_ast_verdict_name((enum eval_ast_verdict)v), t->verdicts[v]);
		ling_json_object_end(w);
	} else {
		key_ratio(w, "exact", t->exact, t->n);
		key_ratio(w, "hits1", t->hits1, t->n);
		key_ratio(w, "answer", t->answer, t->n);
		key_uint(w, "exact_correct", t->exact);
		key_uint(w, "hits1_correct", t->hits1);
		key_uint(w, "answer_correct", t->answer);
	}
	ling_json_object_end(w);
}

static void report_groups(struct ling_json *w, const char *key, const struct groups *g, enum file_kind kind)
{
	ling_json_keyz(w, key);
	ling_json_object_begin(w);
	for (size_t i = 0; i < g->n; i++) {
		ling_json_keyz(w, g->v[i].name);
		report_tally(w, &g->v[i].t, kind);
	}
	ling_json_object_end(w);
}

static void report_file(struct ling_json *w, const struct file_report *f)
{
	ling_json_object_begin(w);
	ling_json_keyz(w, "file");
	ling_json_strz(w, f->path);
	ling_json_keyz(w, "sha256");
	ling_json_strz(w, f->sha256);
	key_uint(w, "records", f->records);
	key_uint(w, "bad_lines", f->bad);
	if (f->kind == FILE_SAMPLES) {
		ling_json_keyz(w, "skipped");
		ling_json_object_begin(w);
		key_uint(w, "instruction", f->instruction);
		key_uint(w, "multi_turn", f->multi_turn);
		key_uint(w, "missing_tools", f->missing_tools);
		key_uint(w, "limit", f->limited);
		ling_json_object_end(w);
	} else {
		key_uint(w, "skipped_limit", f->limited);
	}
	key_uint(w, "asked", f->all.n);
	ling_json_keyz(w, "scores");
	report_tally(w, &f->all, f->kind);
	if (f->kind == FILE_SAMPLES) {
		report_groups(w, "by_category", &f->by_category, f->kind);
		report_groups(w, "by_pattern", &f->by_pattern, f->kind);
	} else {
		ling_json_keyz(w, "qtype_file");
		ling_json_strz(w, f->qtype_path);
		ling_json_keyz(w, "qtype_sha256");
		ling_json_strz(w, f->qtype_path ? f->qtype_sha256 : NULL);
		ling_json_keyz(w, "reachable");
		if (f->qtype_path) {
			report_tally(w, &f->reachable, f->kind);
			key_uint(w, "reach_unknown", f->reach_unknown);
			report_groups(w, "by_qtype", &f->by_qtype, f->kind);
		} else {
			ling_json_null(w);
		}
	}
	key_uint(w, "round_limit", f->round_limit);
	key_uint(w, "cut_short", f->cut_short);
	key_uint(w, "prompt_tokens", f->prompt_tokens);
	key_uint(w, "generated_tokens", f->generated_tokens);
	ling_json_keyz(w, "seconds");
	ling_json_real(w, f->seconds, LING_JSON_REAL_PYTHON);
	ling_json_object_end(w);
}

static void report_perplexity(struct ling_json *w, const struct perplexity *p)
{
	ling_json_object_begin(w);
	ling_json_keyz(w, "data");
	ling_json_strz(w, p->dir);
	ling_json_keyz(w, "manifest_sha256");
	ling_json_strz(w, p->manifest_sha256);
	ling_json_keyz(w, "split");
	ling_json_strz(w, p->split);
	ling_json_keyz(w, "masked");
	ling_json_bool(w, p->masked);
	key_uint(w, "documents", p->docs);
	key_uint(w, "windows", p->windows);
	key_uint(w, "tokens", p->tokens);
	key_uint(w, "bytes", p->bytes);
	ling_json_keyz(w, "nll");
	ling_json_real(w, p->tokens ? p->nll / (double)p->tokens : 0, LING_JSON_REAL_PYTHON);
	ling_json_keyz(w, "perplexity");
	if (p->tokens)
		ling_json_real(w, exp(p->nll / (double)p->tokens), LING_JSON_REAL_PYTHON);
	else
		ling_json_null(w);
	ling_json_keyz(w, "bits_per_byte");
	if (p->bytes)
		ling_json_real(w, p->nll / log(2.0) / (double)p->bytes, LING_JSON_REAL_PYTHON);
	else
		ling_json_null(w);
	ling_json_keyz(w, "seconds");
	ling_json_real(w, p->seconds, LING_JSON_REAL_PYTHON);
	ling_json_object_end(w);
}

/* What the model copies computed, summed: how much the KV cache saved, where the time went. */
static void report_generation(struct ling_json *w, const struct eval_run *r)
{
	struct eval_gen_stats sum, st;

	memset(&sum, 0, sizeof(sum));
	for (size_t i = 0; i < r->njobs; i++) {
		eval_model_stats(r->jobs[i].m, &st);
		sum.generate_calls += st.generate_calls;
		sum.prompt_tokens += st.prompt_tokens;
		sum.reused_tokens += st.reused_tokens;
		sum.prefilled_tokens += st.prefilled_tokens;
		sum.generated_tokens += st.generated_tokens;
		sum.prefill_seconds += st.prefill_seconds;
		sum.decode_seconds += st.decode_seconds;
	}
	ling_json_keyz(w, "generation");
	ling_json_object_begin(w);
	key_uint(w, "calls", sum.generate_calls);
	key_uint(w, "prompt_tokens", sum.prompt_tokens);
	key_uint(w, "reused_tokens", sum.reused_tokens);
	key_uint(w, "prefilled_tokens", sum.prefilled_tokens);
	key_uint(w, "generated_tokens", sum.generated_tokens);
	ling_json_keyz(w, "prefill_seconds");
	ling_json_real(w, sum.prefill_seconds, LING_JSON_REAL_PYTHON);
	ling_json_keyz(w, "decode_seconds");
	ling_json_real(w, sum.decode_seconds, LING_JSON_REAL_PYTHON);
	ling_json_object_end(w);
}

void eval_run_report(const struct eval_run *r, struct ling_buf *out)
{
	const struct eval_model_opts *mo = &r->o.model;
	struct ling_json w;

	ling_json_init(&w, out, LING_JSON_INDENT(2));
	ling_json_object_begin(&w);
	ling_json_keyz(&w, "format");
	ling_json_strz(&w, "ling-eval-report");
	ling_json_keyz(&w, "version");
	ling_json_int(&w, 1);
	ling_json_keyz(&w, "checkpoint");
	ling_json_strz(&w, mo->checkpoint);
	ling_json_keyz(&w, "checkpoint_dir");
	ling_json_strz(&w, r->ckpt_dir);
	ling_json_keyz(&w, "checkpoint_sha256");
	ling_json_object_begin(&w);
	for (size_t i = 0; i < r->nckpt_files; i++) {
		ling_json_keyz(&w, r->ckpt_files[i].name);
		ling_json_strz(&w, r->ckpt_files[i].sha256);
	}
	ling_json_object_end(&w);
	ling_json_keyz(&w, "tokenizer");
	ling_json_strz(&w, mo->tokenizer);
	ling_json_keyz(&w, "template");
	ling_json_strz(&w, r->njobs && r->jobs[0].m ? eval_model_template(r->jobs[0].m) : mo->template);
	ling_json_keyz(&w, "store");
	ling_json_strz(&w, r->o.store);
	ling_json_keyz(&w, "store_uuid");
	ling_json_strz(&w, r->store_uuid);
	key_uint(&w, "store_tools", r->ts ? r->ts->ntools : 0);
	ling_json_keyz(&w, "settings");
	ling_json_object_begin(&w);
	key_uint(&w, "jobs", r->njobs);
	ling_json_keyz(&w, "threads");
	ling_json_int(&w, mo->threads);
	ling_json_keyz(&w, "limit");
	ling_json_int(&w, r->o.limit);
	ling_json_keyz(&w, "max_rounds");
	ling_json_int(&w, r->o.max_rounds);
	ling_json_keyz(&w, "max_new_tokens");
	ling_json_int(&w, r->o.max_new_tokens);
	ling_json_keyz(&w, "max_context");
	ling_json_int(&w, mo->max_context);
	ling_json_keyz(&w, "system");
	ling_json_strz(&w, r->o.system ? r->o.system : EVAL_DEFAULT_SYSTEM);
	ling_json_keyz(&w, "tools");
	if (r->o.tools) {
		ling_json_array_begin(&w);
		for (size_t i = 0; i < r->o.ntools; i++)
			ling_json_strz(&w, r->o.tools[i]);
		ling_json_array_end(&w);
	} else {
		ling_json_null(&w);
	}
	ling_json_object_end(&w);
	ling_json_keyz(&w, "samples");
	ling_json_array_begin(&w);
	for (size_t i = 0; i < r->nfiles; i++)
		if (r->files[i].kind == FILE_SAMPLES)
			report_file(&w, &r->files[i]);
	ling_json_array_end(&w);
	ling_json_keyz(&w, "metaqa");
	ling_json_array_begin(&w);
	for (size_t i = 0; i < r->nfiles; i++)
		if (r->files[i].kind == FILE_METAQA)
			report_file(&w, &r->files[i]);
	ling_json_array_end(&w);
	report_generation(&w, r);
	ling_json_keyz(&w, "perplexity");
	if (r->ppl.done)
		report_perplexity(&w, &r->ppl);
	else
		ling_json_null(&w);
	ling_json_object_end(&w);
	ling_json_release(&w);
	ling_buf_addc(out, '\n');
}

/* ---- the table ---- */

static double pct(uint64_t k, uint64_t n)
{
	return n ? 100.0 * (double)k / (double)n : 0.0;
}

static void table_row(struct ling_buf *out, const char *name, const struct tally *t, enum file_kind kind)
{
	if (kind == FILE_SAMPLES)
		ling_buf_addf(out, "  %-14s %7llu %7.1f %7.1f %7.1f\n", name, (unsigned long long)t->n,
			      pct(t->ast, t->n), pct(t->exec, t->n), pct(t->answer, t->n));
	else
		ling_buf_addf(out, "  %-28s %7llu %7.1f %7.1f %7.1f\n", name, (unsigned long long)t->n,
			      pct(t->exact, t->n), pct(t->hits1, t->n), pct(t->answer, t->n));
}

/* Questions that did not end by themselves, which a reader of low scores needs to know first. */
static void table_cut(struct ling_buf *out, const struct file_report *f)
{
	if (f->cut_short)
		ling_buf_addf(out, "  %llu cut short: the conversation outgrew the model's context (offer fewer tools?)\n",
			      (unsigned long long)f->cut_short);
	if (f->round_limit)
		ling_buf_addf(out, "  %llu still calling tools after --max-rounds\n", (unsigned long long)f->round_limit);
}

void eval_run_table(const struct eval_run *r, struct ling_buf *out)
{
	for (size_t i = 0; i < r->nfiles; i++) {
		const struct file_report *f = &r->files[i];

		if (f->kind == FILE_SAMPLES) {
			ling_buf_addf(out, "%s: %llu asked, %llu bad lines, skipped %llu instruction, %llu multi_turn, "
					   "%llu missing tools\n",
				      f->path, (unsigned long long)f->all.n, (unsigned long long)f->bad,
				      (unsigned long long)f->instruction, (unsigned long long)f->multi_turn,
				      (unsigned long long)f->missing_tools);
			table_cut(out, f);
			ling_buf_addf(out, "  %-14s %7s %7s %7s %7s\n", "pattern", "n", "ast%", "exec%", "answer%");
			for (size_t g = 0; g < f->by_pattern.n; g++)
				table_row(out, f->by_pattern.v[g].name, &f->by_pattern.v[g].t, f->kind);
			ling_buf_addf(out, "  %-14s %7s %7s %7s %7s\n", "category", "n", "ast%", "exec%", "answer%");
			for (size_t g = 0; g < f->by_category.n; g++)
				table_row(out, f->by_category.v[g].name, &f->by_category.v[g].t, f->kind);
			table_row(out, "all", &f->all, f->kind);
		} else {
			ling_buf_addf(out, "%s: %llu asked, %llu bad lines\n", f->path, (unsigned long long)f->all.n,
				      (unsigned long long)f->bad);
			table_cut(out, f);
			ling_buf_addf(out, "  %-28s %7s %7s %7s %7s\n", "", "n", "exact%", "hits@1%", "answer%");
			for (size_t g = 0; g < f->by_qtype.n; g++)
				table_row(out, f->by_qtype.v[g].name, &f->by_qtype.v[g].t, f->kind);
			table_row(out, "all", &f->all, f->kind);
			if (f->qtype_path)
				table_row(out, "reachable", &f->reachable, f->kind);
		}
	}
	if (r->ppl.done)
		ling_buf_addf(out, "%s (%s, %s tokens): %llu tokens, perplexity %.4g, %.4g bits per byte\n", r->ppl.dir,
			      r->ppl.split, r->ppl.masked ? "masked" : "all", (unsigned long long)r->ppl.tokens,
			      r->ppl.tokens ? exp(r->ppl.nll / (double)r->ppl.tokens) : 0.0,
			      r->ppl.bytes ? r->ppl.nll / log(2.0) / (double)r->ppl.bytes : 0.0);
}
