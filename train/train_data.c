/*
 * train_data: the data loader over a `tokenize build` dataset directory
 * (train.h, "data loader"). The position is (epoch, documents of the epoch,
 * next index, tokens used, requeue insertions): the epoch's order is
 * recomputed from the seed, and the insertions replayed, so a position is a
 * few numbers however large the dataset is.
 */
#include "train.h"

#include "../common/ling_rand.h"
#include "../tokenize/tokenize.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

struct data_shard {
	struct tok_shard *tok, *mask;
	char *name;
	uint64_t first; /* split-wide number of its first document */
	uint64_t n;
};

struct insertion {
	uint64_t at;
	uint32_t doc;
};

struct train_data {
	struct train_data_opts o;
	char *dir, *split;
	struct data_shard *shards;
	size_t nshards;
	uint64_t total; /* documents of the split */

	/* the position */
	int64_t epoch;
	uint64_t epoch_docs;  /* documents the epoch's permutation covers */
	uint32_t *order;      /* the permutation with the insertions made */
	uint64_t norder, next, used;
	struct insertion *ins;
	size_t nins, ins_cap;

	/* the documents of the last batch, for requeue */
	uint32_t *last;
	size_t nlast, last_cap;

	/* the document being read */
	int64_t cur;
	struct ling_u32s cur_tok, cur_mask;
};

/* A generator state for stream (a, b) of the seed: distinct streams do not overlap in practice. */
static uint64_t stream_state(uint64_t seed, uint64_t a, uint64_t b)
{
	uint64_t s = seed ^ (a * 0xd1b54a32d192ed03ULL) ^ (b * 0x8cb92ba72f3d8dd7ULL);

	ling_rand_next(&s);
	return s;
}

enum { STREAM_EPOCH = 1, STREAM_REQUEUE = 2 };

/* Sets the position to the start of epoch e over n documents (no insertions). */
static void begin_epoch(struct train_data *d, int64_t e, uint64_t n)
{
	uint64_t s = stream_state(d->o.seed ^ STREAM_EPOCH, (uint64_t)e, 0), i;

	free(d->order);
	d->order = xmalloc((n ? n : 1) * sizeof(*d->order));
	for (i = 0; i < n; i++)
		d->order[i] = (uint32_t)i;
	for (i = n; i > 1; i--) {
		uint32_t j = ling_rand_below(&s, (uint32_t)i), t = d->order[i - 1];

		d->order[i - 1] = d->order[j];
		d->order[j] = t;
	}
	d->epoch = e;
	d->epoch_docs = n;
	d->norder = n;
	d->next = d->used = 0;
	d->nins = 0;
}

static void insert_doc(struct train_data *d, uint64_t at, uint32_t doc)
{
	d->order = xrealloc(d->order, (d->norder + 1) * sizeof(*d->order));
	memmove(d->order + at + 1, d->order + at, (d->norder - at) * sizeof(*d->order));
	d->order[at] = doc;
	d->norder++;
	if (d->nins == d->ins_cap)
		d->ins = xgrow(d->ins, &d->ins_cap, d->nins + 1, sizeof(*d->ins));
	d->ins[d->nins++] = (struct insertion){ at, doc };
}

static const struct data_shard *shard_of(const struct train_data *d, uint64_t g)
{
	size_t lo = 0, hi = d->nshards;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->shards[mid].first <= g)
			lo = mid;
		else
			hi = mid;
	}
	return &d->shards[lo];
}

static size_t doc_len(const struct train_data *d, uint64_t g)
{
	const struct data_shard *sh = shard_of(d, g);

	return tok_shard_len(sh->tok, g - sh->first);
}

/* Loads document g into cur_tok and cur_mask, checking its tokens against the vocabulary. */
static int load_doc(struct train_data *d, uint64_t g, struct ling_err *err)
{
	const struct data_shard *sh = shard_of(d, g);
	uint64_t local = g - sh->first;
	size_t i;
	int rc;

	if (d->cur == (int64_t)g)
		return 0;
	d->cur = -1;
	d->cur_tok.n = d->cur_mask.n = 0;
	if ((rc = tok_shard_get(sh->tok, local, &d->cur_tok, err)) ||
	    (rc = tok_shard_get(sh->mask, local, &d->cur_mask, err)))
		return rc;
	for (i = 0; i < d->cur_tok.n; i++)
		if ((int64_t)d->cur_tok.v[i] >= d->o.vocab_size)
			return ling_err_at(err, LING_EDATA, sh->name, 0, 0,
					   "document %llu, token %zu: id %u is not below the model's vocab_size %lld",
					   (unsigned long long)local, i, d->cur_tok.v[i], (long long)d->o.vocab_size);
	d->cur = (int64_t)g;
	return 0;
}

static void note_last(struct train_data *d, uint32_t doc)
{
	if (d->nlast && d->last[d->nlast - 1] == doc)
		return;
	if (d->nlast == d->last_cap)
		d->last = xgrow(d->last, &d->last_cap, d->nlast + 1, sizeof(*d->last));
	d->last[d->nlast++] = doc;
}

/* ---- opening: the manifest and the shards ---- */

static int get_count(const json_t *o, const char *key, uint64_t *v)
{
	json_t *x = json_object_get(o, key);

	if (!json_is_integer(x) || json_integer_value(x) < 0)
		return -1;
	*v = (uint64_t)json_integer_value(x);
	return 0;
}

static int open_pair(struct train_data *d, struct data_shard *sh, const char *mask_name, uint64_t docs,
		     uint64_t tokens, struct ling_err *err)
{
	struct ling_buf path = LING_BUF_INIT;
	uint64_t i;
	int rc;

	ling_buf_addf(&path, "%s/%s", d->dir, sh->name);
	rc = tok_shard_open(&sh->tok, path.data, err);
	ling_buf_reset(&path);
	ling_buf_addf(&path, "%s/%s", d->dir, mask_name);
	if (!rc)
		rc = tok_shard_open(&sh->mask, path.data, err);
	ling_buf_release(&path);
	if (rc)
		return rc;
	if (tok_shard_count(sh->tok) != docs || tok_shard_items(sh->tok) != tokens)
		return ling_err_at(err, LING_EDATA, sh->name, 0, 0,
				   "holds %llu documents and %llu tokens, the manifest says %llu and %llu",
				   (unsigned long long)tok_shard_count(sh->tok),
				   (unsigned long long)tok_shard_items(sh->tok), (unsigned long long)docs,
				   (unsigned long long)tokens);
	if (tok_shard_count(sh->mask) != docs)
		return ling_err_at(err, LING_EDATA, mask_name, 0, 0, "holds %llu documents, its token shard %llu",
				   (unsigned long long)tok_shard_count(sh->mask), (unsigned long long)docs);
	for (i = 0; i < docs; i++)
		if (tok_shard_len(sh->mask, i) != tok_shard_len(sh->tok, i))
			return ling_err_at(err, LING_EDATA, mask_name, 0, 0,
					   "document %llu has %zu mask values for %zu tokens", (unsigned long long)i,
					   tok_shard_len(sh->mask, i), tok_shard_len(sh->tok, i));
	sh->n = docs;
	return 0;
}

static int open_shards(struct train_data *d, const json_t *m, const char *mpath, struct ling_err *err)
{
	const json_t *shards = json_object_get(m, "shards"), *s;
	uint64_t tokens_total = 0;
	size_t i;
	int rc;

	if (!json_is_array(shards))
		return ling_err_at(err, LING_EDATA, mpath, 0, 0, "no shards array");
	d->shards = xcalloc(json_array_size(shards) + 1, sizeof(*d->shards));
	json_array_foreach(shards, i, s) {
		const char *name = json_string_value(json_object_get(s, "name"));
		const char *split = json_string_value(json_object_get(s, "split"));
		const char *mask = json_string_value(json_object_get(s, "mask"));
		struct data_shard *sh = &d->shards[d->nshards];
		uint64_t docs, tokens;

		if (!name || !split || !mask || strchr(name, '/') || strchr(mask, '/') ||
		    get_count(s, "documents", &docs) || get_count(s, "tokens", &tokens))
			return ling_err_at(err, LING_EDATA, mpath, 0, 0,
					   "shard %zu lacks a plain name, split, mask, documents or tokens", i);
		if (strcmp(split, d->split))
			continue;
		sh->name = xstrdup(name);
		sh->first = d->total;
		d->nshards++;
		if ((rc = open_pair(d, sh, mask, docs, tokens, err)))
			return rc;
		d->total += docs;
		tokens_total += tokens;
	}
	if (d->total > UINT32_MAX)
		return ling_err_at(err, LING_ELIMIT, mpath, 0, 0, "split %s has %llu documents, more than %u",
				   d->split, (unsigned long long)d->total, UINT32_MAX);
	if (!tokens_total)
		return ling_err_at(err, LING_EDATA, mpath, 0, 0, "split %s is empty (%llu documents, no tokens)",
				   d->split, (unsigned long long)d->total);
	return 0;
}

static int read_manifest(struct train_data *d, struct ling_err *err)
{
	struct ling_buf path = LING_BUF_INIT;
	json_error_t jerr;
	json_t *m;
	FILE *f;
	const char *format;
	uint64_t vocab;
	int rc;

	ling_buf_addf(&path, "%s/manifest.json", d->dir);
	f = fopen(path.data, "rb");
	if (!f) {
		rc = ling_err_at(err, LING_EIO, path.data, 0, 0, "cannot open the manifest: %s", strerror(errno));
		ling_buf_release(&path);
		return rc;
	}
	m = json_loadf(f, 0, &jerr);
	fclose(f);
	if (!m) {
		rc = ling_err_at(err, LING_EDATA, path.data, jerr.line, jerr.column, "%s", jerr.text);
		ling_buf_release(&path);
		return rc;
	}
	format = json_string_value(json_object_get(m, "format"));
	if (!json_is_object(m) || !format || strcmp(format, "ling-dataset") ||
	    json_integer_value(json_object_get(m, "version")) != 1)
		rc = ling_err_at(err, LING_EDATA, path.data, 0, 0, "not a ling-dataset manifest of version 1");
	else if (get_count(json_object_get(m, "tokenizer"), "vocab_size", &vocab))
		rc = ling_err_at(err, LING_EDATA, path.data, 0, 0, "no tokenizer vocab_size");
	else if (vocab > (uint64_t)d->o.vocab_size)
		rc = ling_err_at(err, LING_EDATA, path.data, 0, 0,
				 "the dataset's tokenizer has %llu tokens, more than the model's vocab_size %lld",
				 (unsigned long long)vocab, (long long)d->o.vocab_size);
	else
		rc = open_shards(d, m, path.data, err);
	json_decref(m);
	ling_buf_release(&path);
	return rc;
}

int train_data_open(struct train_data **out, const struct train_data_opts *o, struct ling_err *err)
{
	struct train_data *d;
	int rc;

	*out = NULL;
	if (!o->dir || !o->split || o->B <= 0 || o->T <= 0 || o->vocab_size <= 0)
		return ling_err_set(err, LING_EUSAGE, "the data loader needs a directory, a split, B, T and vocab_size > 0");
	d = xcalloc(1, sizeof(*d));
	d->o = *o;
	d->dir = xstrdup(o->dir);
	d->split = xstrdup(o->split);
	d->o.dir = d->dir;
	d->o.split = d->split;
	d->cur = -1;
	if ((rc = read_manifest(d, err))) {
		train_data_close(d);
		return rc;
	}
	begin_epoch(d, 0, d->total);
	*out = d;
	return 0;
}

void train_data_close(struct train_data *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->nshards; i++) {
		tok_shard_close(d->shards[i].tok);
		tok_shard_close(d->shards[i].mask);
		free(d->shards[i].name);
	}
	free(d->shards);
	free(d->order);
	free(d->ins);
	free(d->last);
	ling_u32s_release(&d->cur_tok);
	ling_u32s_release(&d->cur_mask);
	free(d->dir);
	free(d->split);
	free(d);
}

/* ---- batches ---- */

/* The next document with tokens left, starting an epoch when this one is used up. */
static uint32_t current_doc(struct train_data *d)
{
	for (;;) {
		if (d->next == d->norder)
			begin_epoch(d, d->epoch + 1, d->total);
		if (d->used < doc_len(d, d->order[d->next]))
			return d->order[d->next];
		d->next++;
		d->used = 0;
	}
}

/* Positions t..T-1 of a row as padding: the pad token, trained on nothing, a piece of its own. */
static void pad_row(const struct train_data *d, int32_t *tokens, uint8_t *mask, int32_t *docs, int t, int piece)
{
	for (; t < d->o.T; t++) {
		tokens[t] = d->o.pad_id;
		mask[t] = 0;
		docs[t] = piece;
	}
}

static int fill_row(struct train_data *d, int32_t *tokens, uint8_t *mask, int32_t *docs, struct ling_err *err)
{
	int T = d->o.T, t = 0, piece = 0, rc;

	while (t < T) {
		uint32_t doc = current_doc(d);
		size_t n, i;

		if ((rc = load_doc(d, doc, err)))
			return rc;
		if (d->o.whole_docs && t > 0 && d->used == 0 && d->cur_tok.n <= (size_t)T &&
		    d->cur_tok.n > (size_t)(T - t)) {
			pad_row(d, tokens, mask, docs, t, piece);
			break;
		}
		n = d->cur_tok.n - d->used;
		if (n > (size_t)(T - t))
			n = (size_t)(T - t);
		for (i = 0; i < n; i++) {
			tokens[t + i] = (int32_t)d->cur_tok.v[d->used + i];
			mask[t + i] = i ? (uint8_t)(d->cur_mask.v[d->used + i] != 0) : 0;
			docs[t + i] = piece;
		}
		note_last(d, doc);
		t += (int)n;
		piece++;
		d->used += n;
		if (d->used == d->cur_tok.n) {
			d->next++;
			d->used = 0;
		}
	}
	return 0;
}

int train_data_next(struct train_data *d, int32_t *tokens, uint8_t *mask, int32_t *docs, struct ling_err *err)
{
	size_t T = (size_t)d->o.T;
	int b, rc;

	d->nlast = 0;
	for (b = 0; b < d->o.B; b++)
		if ((rc = fill_row(d, tokens + b * T, mask + b * T, docs + b * T, err)))
			return rc;
	return 0;
}

void train_data_requeue_last(struct train_data *d)
{
	size_t i;

	for (i = 0; i < d->nlast; i++) {
		/* After the document being read, when it is partly read: it must stay next. */
		uint64_t lo = d->next + (d->used > 0), at;
		uint64_t s = stream_state(d->o.seed ^ STREAM_REQUEUE, (uint64_t)d->epoch, d->nins);

		at = lo + ling_rand_below(&s, (uint32_t)(d->norder - lo + 1));
		insert_doc(d, at, d->last[i]);
	}
	d->nlast = 0;
}

int64_t train_data_epoch(const struct train_data *d)
{
	return d->epoch;
}

uint64_t train_data_docs(const struct train_data *d)
{
	return d->total;
}

/* ---- position ---- */

void train_data_position(const struct train_data *d, struct ling_buf *out)
{
	size_t i;

	ling_buf_addf(out, "{\"epoch\":%lld,\"docs\":%llu,\"next\":%llu,\"used\":%llu,\"requeued\":[", (long long)d->epoch,
		      (unsigned long long)d->epoch_docs, (unsigned long long)d->next, (unsigned long long)d->used);
	for (i = 0; i < d->nins; i++)
		ling_buf_addf(out, "%s[%llu,%u]", i ? "," : "", (unsigned long long)d->ins[i].at, d->ins[i].doc);
	ling_buf_adds(out, "]}");
}

/* Replays a position's epoch and insertions on d. @return 0 or -1 when they do not fit the dataset. */
static int replay(struct train_data *d, int64_t epoch, uint64_t docs, const json_t *requeued)
{
	const json_t *r;
	size_t i;

	if (epoch < 0 || docs == 0 || docs > d->total)
		return -1;
	begin_epoch(d, epoch, docs);
	json_array_foreach(requeued, i, r) {
		json_t *at = json_array_get(r, 0), *doc = json_array_get(r, 1);

		if (json_array_size(r) != 2 || !json_is_integer(at) || !json_is_integer(doc) ||
		    json_integer_value(at) < 0 || (uint64_t)json_integer_value(at) > d->norder ||
		    json_integer_value(doc) < 0 || (uint64_t)json_integer_value(doc) >= d->total)
			return -1;
		insert_doc(d, (uint64_t)json_integer_value(at), (uint32_t)json_integer_value(doc));
	}
	return 0;
}

int train_data_seek(struct train_data *d, const char *json, size_t len, struct ling_err *err)
{
	json_error_t jerr;
	json_t *p = json_loadb(json, len, 0, &jerr), *req;
	json_int_t epoch, docs, next, used;
	struct train_data saved = *d;
	int bad;

	if (!p)
		return ling_err_set(err, LING_EDATA, "data position: %s", jerr.text);
	req = json_object_get(p, "requeued");
	bad = json_unpack(p, "{s:I,s:I,s:I,s:I}", "epoch", &epoch, "docs", &docs, "next", &next, "used", &used) ||
	      !json_is_array(req) || next < 0 || used < 0 || docs < 0;
	if (!bad) {
		/* Replay on fresh arrays, so that d stays as it was when the position does not fit. */
		d->order = NULL;
		d->ins = NULL;
		d->nins = d->ins_cap = 0;
		bad = replay(d, (int64_t)epoch, (uint64_t)docs, req) || (uint64_t)next > d->norder ||
		      (next < (json_int_t)d->norder && (uint64_t)used > doc_len(d, d->order[next])) ||
		      (next == (json_int_t)d->norder && used);
		if (bad) {
			free(d->order);
			free(d->ins);
		} else {
			free(saved.order);
			free(saved.ins);
		}
	}
	json_decref(p);
	if (bad) {
		*d = saved;
		return ling_err_set(err, LING_EDATA, "not a data position of this dataset's %s split (%llu documents)",
				    d->split, (unsigned long long)d->total);
	}
	d->next = (uint64_t)next;
	d->used = (uint64_t)used;
	d->nlast = 0;
	return 0;
}
