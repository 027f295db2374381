/*
 * synth: options, the mix of categories, and the run loop (see synth.h).
 *
 * Sample k is made from random states that depend only on (seed, k), so
 * shards and threads cut the same sequence in different places. Threads
 * work on consecutive chunks of indexes, each into its own buffer, and the
 * calling thread emits the chunks in order.
 */
#include "synth_internal.h"

#include "../common/ling_num.h"
#include "../common/ling_pool.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../common/banned.h"

void synth_options_init(struct synth_options *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->count = 1000;
	o->nshards = 1;
	o->lang = "en";
	o->format = SYNTH_FORMAT_OPENAI;
	o->max_tools = 16;
	o->max_answers = 20;
	o->min_facts = 10;
	o->threads = 1;
	for (i = 0; i < SYNTH_NCAT; i++)
		o->mix[i] = i < SYNTH_CAT_FACT ? 1.0 : 0.4;
}

/* The categories of a name: one category, or a group. @return how many, 0 for an unknown name. */
static int group(const char *name, size_t n, int cats[SYNTH_NCAT])
{
	int i, k = 0, lo = -1, hi = -1;
	char buf[32];

	if (n >= sizeof(buf))
		return 0;
	memcpy(buf, name, n);
	buf[n] = '\0';
	if (!strcmp(buf, "all"))
		lo = 0, hi = SYNTH_NCAT;
	else if (!strcmp(buf, "patterns"))
		lo = 0, hi = SYNTH_NPATTERNS;
	else if (!strcmp(buf, "tool_use"))
		lo = 0, hi = SYNTH_CAT_FACT;
	else if (!strcmp(buf, "instruction"))
		lo = SYNTH_CAT_FACT, hi = SYNTH_NCAT;
	if (lo >= 0) {
		for (i = lo; i < hi; i++)
			cats[k++] = i;
		return k;
	}
	if ((i = synth_category_find(buf)) < 0)
		return 0;
	cats[0] = i;
	return 1;
}

static int parse_list(struct synth_options *o, const char *spec, int weights, struct ling_err *err)
{
	const char *p = spec;
	double keep[SYNTH_NCAT];
	int cats[SYNTH_NCAT], i, any = 0;

	if (!weights)
		for (i = 0; i < SYNTH_NCAT; i++)
			keep[i] = 0;
	while (*p) {
		const char *end = strchr(p, ','), *eq;
		size_t len = end ? (size_t)(end - p) : strlen(p);
		double w = 1;
		int n;

		eq = memchr(p, '=', len);
		if (weights && !eq)
			return ling_err_set(err, LING_EUSAGE, "--mix: '%.*s' is not NAME=WEIGHT", (int)len, p);
		if (!weights && eq)
			return ling_err_set(err, LING_EUSAGE, "--patterns: '%.*s' is not a category", (int)len, p);
		n = group(p, eq ? (size_t)(eq - p) : len, cats);
		if (!n)
			return ling_err_set(err, LING_EUSAGE,
					    "unknown category '%.*s' (see CATEGORIES in kg2samples(1))",
					    (int)(eq ? (size_t)(eq - p) : len), p);
		if (eq) {
			char num[64];
			size_t nl = len - (size_t)(eq + 1 - p);

			if (nl >= sizeof(num))
				return ling_err_set(err, LING_EUSAGE, "--mix: bad weight in '%.*s'", (int)len, p);
			memcpy(num, eq + 1, nl);
			num[nl] = '\0';
			if (!nl || ling_parse_double(num, &w) || w < 0)
				return ling_err_set(err, LING_EUSAGE, "--mix: bad weight in '%.*s'", (int)len, p);
		}
		for (i = 0; i < n; i++) {
			if (weights)
				o->mix[cats[i]] = w / n;
			else
				keep[cats[i]] = 1;
		}
		any = 1;
		p += len;
		if (*p == ',')
			p++;
	}
	if (!any)
		return ling_err_set(err, LING_EUSAGE, "%s: empty list", weights ? "--mix" : "--patterns");
	if (!weights)
		for (i = 0; i < SYNTH_NCAT; i++)
			o->mix[i] = keep[i] ? (o->mix[i] > 0 ? o->mix[i] : 1.0) : 0;
	return 0;
}

int synth_mix_parse(struct synth_options *o, const char *spec, struct ling_err *err)
{
	return parse_list(o, spec, 1, err);
}

int synth_patterns_parse(struct synth_options *o, const char *list, struct ling_err *err)
{
	return parse_list(o, list, 0, err);
}

/* ---- the run ---- */

struct synth {
	struct synth_options o;
	struct kg_store *st;
	struct kg_toolset *ts;
	struct synth_graph g;
	struct synth_text *tx;
	struct synth_gen gen;
	char *uuid;
	double cum[SYNTH_NCAT];
	struct synth_counts counts;
	struct synth_info info;
};

/* Growable arrays of kg ids and of offsets into a pool of strings. */
struct id_list {
	kg_id *v;
	size_t n, cap;
};
struct off_list {
	size_t *v;
	size_t n, cap;
};

static int add_changed(void *ctx, kg_id entity)
{
	struct id_list *ids = ctx;

	ids->v = xgrow(ids->v, &ids->cap, ids->n + 1, sizeof(*ids->v));
	ids->v[ids->n++] = entity;
	return 0;
}

/* The N-Triples forms of the entities the store changed after mark o.changed_since, into pool at offs. */
static int changed_entities(struct synth *s, struct ling_buf *pool, struct off_list *offs, struct ling_err *err)
{
	struct id_list ids = { NULL, 0, 0 };
	struct ling_buf nt = LING_BUF_INIT;
	size_t i;
	int rc;

	/* the mark first: a batch applied meanwhile is then in the list, never missing from it */
	if ((rc = kg_change_mark(s->st, &s->info.mark, err)) ||
	    (rc = kg_changed_since(s->st, s->o.changed_since, add_changed, &ids, err)))
		goto out;
	for (i = 0; i < ids.n; i++) {
		ling_buf_reset(&nt);
		if ((rc = kg_store_term_nt(s->st, ids.v[i], &nt, err)))
			goto out;
		offs->v = xgrow(offs->v, &offs->cap, offs->n + 1, sizeof(*offs->v));
		offs->v[offs->n++] = pool->len;
		ling_buf_add(pool, nt.data, nt.len);
		ling_buf_addc(pool, '\0');
	}
	s->info.focus_named += ids.n;
out:
	free(ids.v);
	ling_buf_release(&nt);
	return rc;
}

/* A focused run: the focus entities of the snapshot, and the count they ask for. */
static int load_focus(struct synth *s, struct ling_err *err)
{
	struct ling_buf pool = LING_BUF_INIT;
	struct off_list offs = { NULL, 0, 0 };
	struct ling_u32s found = { NULL, 0, 0 };
	const char **names = NULL;
	size_t i, n;
	int rc = 0;

	s->info.focus_named = s->o.nfocus;
	if (s->o.changed_given && (rc = changed_entities(s, &pool, &offs, err)))
		goto out;
	n = s->o.nfocus + offs.n;
	names = xcalloc(n + 1, sizeof(*names));
	for (i = 0; i < s->o.nfocus; i++)
		names[i] = s->o.focus[i];
	for (i = 0; i < offs.n; i++)
		names[s->o.nfocus + i] = pool.data + offs.v[i];
	synth_focus_resolve(&s->g, names, n, &found);
	s->info.focus_found = found.n;
	s->g.nfocus = (uint32_t)found.n;
	s->g.focus = found.v ? found.v : xcalloc(1, sizeof(*s->g.focus));
	found.v = NULL;
	if (s->o.per_entity)
		s->o.count = s->o.per_entity * s->g.nfocus;
	if (!s->g.nfocus)
		s->o.count = 0; /* nothing to anchor at: nothing to make */
out:
	free(names);
	ling_u32s_release(&found);
	free(offs.v);
	ling_buf_release(&pool);
	return rc;
}

int synth_open(struct synth **out, const struct synth_options *o, struct ling_err *err)
{
	struct synth *s = xcalloc(1, sizeof(*s));
	struct kg_toolset_opts topts;
	struct ling_buf b = LING_BUF_INIT;
	double sum = 0;
	uint32_t e;
	int i, rc;

	*out = NULL;
	s->o = *o;
	if (!o->store_dir)
		rc = ling_err_set(err, LING_EUSAGE, "no store");
	else if (!o->nshards || o->shard >= o->nshards)
		rc = ling_err_set(err, LING_EUSAGE, "--shard: i/n needs 0 <= i < n");
	else if (o->threads < 1)
		rc = ling_err_set(err, LING_EUSAGE, "--threads needs a number >= 1");
	else if (!o->max_answers)
		rc = ling_err_set(err, LING_EUSAGE, "--max-answers needs a number >= 1");
	else
		rc = 0;
	if (rc)
		goto fail;
	if (o->format == SYNTH_FORMAT_BFCL) {
		/* BFCL's single-turn files have no instruction samples; its multi-turn ones need its own API classes */
		s->o.mix[SYNTH_CAT_MULTI_TURN] = 0;
		for (i = SYNTH_CAT_FACT; i < SYNTH_NCAT; i++)
			s->o.mix[i] = 0;
	}
	for (i = 0; i < SYNTH_NCAT; i++) {
		sum += s->o.mix[i];
		s->cum[i] = sum;
	}
	if (!(sum > 0)) {
		rc = ling_err_set(err, LING_EUSAGE, "the mix leaves no category to make");
		goto fail;
	}
	if ((rc = kg_store_open(&s->st, o->store_dir, KG_STORE_READONLY, err)))
		goto fail;
	if ((rc = kg_store_meta_get(s->st, "uuid", &b, err)) < 0)
		goto fail;
	s->uuid = xstrdup(rc == 1 ? b.data : "");
	memset(&topts, 0, sizeof(topts));
	topts.min_facts = o->min_facts;
	topts.lang = o->lang;
	if ((rc = kg_toolset_build(s->st, &topts, &s->ts, err)))
		goto fail;
	if ((rc = synth_graph_load(&s->g, s->st, s->ts, o->lang, err)))
		goto fail;
	if ((o->focus_given || o->changed_given) && (rc = load_focus(s, err)))
		goto fail;
	/* Everything is in memory now. */
	kg_store_close(s->st);
	s->st = NULL;
	if ((rc = synth_text_new(&s->tx, o->lang, o->templates, o->ntemplates, err)))
		goto fail;
	s->gen.g = &s->g;
	s->gen.tx = s->tx;
	s->gen.lim.max_answers = o->max_answers;
	s->gen.lim.branch = o->max_answers > SYNTH_BRANCH ? o->max_answers : SYNTH_BRANCH;
	s->gen.max_tools = o->max_tools;
	s->gen.seed = o->seed;
	s->gen.uuid = s->uuid;
	s->gen.lang = o->lang;
	s->gen.format = o->format;
	s->info.entities = s->g.nent;
	for (e = 0; e < s->g.nent; e++)
		s->info.named += s->g.ent_name[e] != SYNTH_NONE;
	s->info.relations = s->g.nrel;
	s->info.facts = s->g.nfacts;
	s->info.tools = s->g.ntools;
	ling_buf_release(&b);
	*out = s;
	return 0;
fail:
	ling_buf_release(&b);
	synth_close(s);
	return rc;
}

void synth_close(struct synth *s)
{
	if (!s)
		return;
	synth_text_free(s->tx);
	free(s->g.focus);
	synth_graph_release(&s->g);
	kg_toolset_free(s->ts);
	kg_store_close(s->st);
	free(s->uuid);
	free(s);
}

const struct synth_counts *synth_counts(const struct synth *s)
{
	return &s->counts;
}

const struct synth_info *synth_info(const struct synth *s)
{
	return &s->info;
}

/* The random state of (seed, index, attempt); attempt UINT64_MAX draws the category. */
static uint64_t sample_rng(uint64_t seed, uint64_t index, uint64_t attempt)
{
	uint64_t key[2] = { index, attempt };

	return XXH3_64bits_withSeed(key, sizeof(key), seed);
}

static int draw_category(const struct synth *s, uint64_t seed, uint64_t index)
{
	uint64_t rng = sample_rng(seed, index, UINT64_MAX);
	double x = (double)(ling_rand_next(&rng) >> 11) * (1.0 / 9007199254740992.0) * s->cum[SYNTH_NCAT - 1];
	int i;

	for (i = 0; i < SYNTH_NCAT - 1; i++)
		if (x < s->cum[i])
			break;
	/* never a category of weight 0 */
	while (i > 0 && s->o.mix[i] <= 0)
		i--;
	while (s->o.mix[i] <= 0)
		i++;
	return i;
}

/* The lines of one chunk of samples, made on any thread and emitted in order. */
struct chunk {
	struct ling_buf out, aux;
	size_t *ends, *aux_ends; /* end offset of each sample's line; an index given up has none */
	size_t nends, ends_cap, aux_cap;
	struct synth_counts counts;
};

/* What a thread needs to make samples, whichever chunk it makes. */
struct maker {
	struct synth_ws ws;
	struct synth_sample sample;
};

static void make_chunk(struct synth *s, struct maker *m, struct chunk *c, uint64_t lo, uint64_t hi)
{
	uint64_t k;

	ling_buf_reset(&c->out);
	ling_buf_reset(&c->aux);
	c->nends = 0;
	memset(&c->counts, 0, sizeof(c->counts));
	for (k = lo; k < hi; k++) {
		int cat = draw_category(s, s->o.seed, k), j, rc = 1;

		for (j = 0; j < SYNTH_MAX_ATTEMPTS && rc; j++) {
			uint64_t rng = sample_rng(s->o.seed, k, (uint64_t)j);

			synth_sample_reset(&m->sample);
			m->sample.index = k;
			rc = synth_make(&s->gen, &m->ws, cat, &rng, &m->sample);
			if (!rc)
				rc = synth_verify(&s->g, &m->ws, &m->sample);
			if (rc) {
				c->counts.rejected++;
				c->counts.per_reason[SYNTH_REASON(rc)]++;
			}
		}
		if (rc) {
			c->counts.given_up++;
			continue;
		}
		synth_render(&s->gen, &m->sample, &c->out, &c->aux);
		c->ends = xgrow(c->ends, &c->ends_cap, c->nends + 1, sizeof(*c->ends));
		c->aux_ends = xgrow(c->aux_ends, &c->aux_cap, c->nends + 1, sizeof(*c->aux_ends));
		c->ends[c->nends] = c->out.len;
		c->aux_ends[c->nends++] = c->aux.len;
		c->counts.written++;
		c->counts.per_cat[cat]++;
	}
}

static void add_counts(struct synth_counts *to, const struct synth_counts *c)
{
	int i;

	to->written += c->written;
	to->rejected += c->rejected;
	to->given_up += c->given_up;
	for (i = 0; i < SYNTH_NCAT; i++)
		to->per_cat[i] += c->per_cat[i];
	for (i = 0; i < SYNTH_NREJECT; i++)
		to->per_reason[i] += c->per_reason[i];
}

static int emit_chunk(const struct synth_sink *sink, const struct chunk *c, struct ling_err *err)
{
	size_t i, at = 0, aux_at = 0;
	int rc;

	for (i = 0; i < c->nends; i++) {
		if ((rc = sink->emit(sink->ctx, c->out.data + at, c->ends[i] - at,
				     c->aux.len ? c->aux.data + aux_at : NULL, c->aux_ends[i] - aux_at, err)))
			return rc;
		at = c->ends[i];
		aux_at = c->aux_ends[i];
	}
	return 0;
}

#define CHUNK 256

/* synth_run's loop: samples [lo, hi) in chunks of CHUNK, one round of `threads` chunks at a time. */
struct run {
	struct synth *s;
	const struct synth_sink *sink;
	struct ling_err *err;
	uint64_t lo, hi;
	size_t round;
	struct maker *makers; /* one per thread */
	struct chunk *chunks; /* one per slot */
};

static void fill_chunk(void *ctx, size_t begin, size_t end, size_t chunk, size_t slot, int thread)
{
	struct run *r = ctx;

	(void)chunk;
	make_chunk(r->s, &r->makers[thread], &r->chunks[slot], r->lo + begin, r->lo + end);
}

/* Emits a chunk; reports progress after each round, as the samples of a round come out together. */
static int emit_next(void *ctx, size_t chunk, size_t slot)
{
	struct run *r = ctx;
	uint64_t done = r->lo + (uint64_t)(chunk + 1) * CHUNK;
	int rc;

	add_counts(&r->s->counts, &r->chunks[slot].counts);
	if ((rc = emit_chunk(r->sink, &r->chunks[slot], r->err)))
		return rc;
	if (done > r->hi)
		done = r->hi;
	if (r->sink->progress && ((chunk + 1) % r->round == 0 || done == r->hi))
		r->sink->progress(r->sink->ctx, done - r->lo, r->hi - r->lo, &r->s->counts);
	return 0;
}

int synth_run(struct synth *s, const struct synth_sink *sink, struct ling_err *err)
{
	uint64_t lo = s->o.count / s->o.nshards * s->o.shard + s->o.count % s->o.nshards * s->o.shard / s->o.nshards;
	int nt = s->o.threads, i, rc;
	size_t slots = 2 * (size_t)nt;
	struct ling_pool *pool = nt > 1 ? ling_pool_new(nt) : NULL;
	struct run r;

	memset(&r, 0, sizeof(r));
	r.s = s;
	r.sink = sink;
	r.err = err;
	r.lo = lo;
	/* [i*count/n, (i+1)*count/n) without overflowing i*count */
	r.hi = s->o.count / s->o.nshards * (s->o.shard + 1) +
	       s->o.count % s->o.nshards * (s->o.shard + 1) / s->o.nshards;
	r.round = (size_t)nt;
	s->counts.asked = r.hi - lo;
	r.makers = xcalloc((size_t)nt, sizeof(*r.makers));
	r.chunks = xcalloc(slots, sizeof(*r.chunks));
	rc = ling_pool_for_ordered(pool, (size_t)(r.hi - lo), CHUNK, slots, fill_chunk, emit_next, &r);
	ling_pool_free(pool);
	for (i = 0; i < nt; i++) {
		synth_ws_release(&r.makers[i].ws);
		synth_sample_release(&r.makers[i].sample);
	}
	for (i = 0; (size_t)i < slots; i++) {
		ling_buf_release(&r.chunks[i].out);
		ling_buf_release(&r.chunks[i].aux);
		free(r.chunks[i].ends);
		free(r.chunks[i].aux_ends);
	}
	free(r.makers);
	free(r.chunks);
	return rc;
}
