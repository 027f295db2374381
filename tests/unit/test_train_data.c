/*
 * Unit tests for the data loader (train/train_data.c) on small datasets
 * written here with the tokenize shard writer and a manifest as `tokenize
 * build` writes it: every document of an epoch read exactly once and intact,
 * rows packed with the right docs and mask, seeded order, exact resume from
 * many positions (mid-document, across epochs, after a requeue), a dataset
 * grown between save and resume, requeue, and the refusals.
 *
 * Document g's first token is the marker FIRST + g (no other token reaches
 * FIRST), so the batches can be cut back into documents without the loader's
 * help.
 */
#include "tap.h"

#include "train/train.h"
#include "tokenize/tokenize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/banned.h"

#define FIRST 1000
#define B 3
#define T 16

static char tmp[256];

struct shard_entry {
	char name[32];
	uint64_t docs, tokens;
	const char *split;
};

struct dataset {
	char dir[300];
	struct shard_entry shards[8];
	int nshards;
	uint64_t ndocs; /* train documents so far */
	uint64_t vocab;
};

static size_t doc_length(uint64_t g)
{
	if (g % 11 == 5)
		return 0;                 /* empty documents are skipped */
	if (g % 7 == 3)
		return 20 + g % 30;       /* longer than a row */
	return 1 + (g * 13) % 9;
}

static void write_manifest(const struct dataset *ds)
{
	char path[400];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/manifest.json", ds->dir);
	f = fopen(path, "w");
	fprintf(f, "{\"format\":\"ling-dataset\",\"version\":1,\"tokenizer\":{\"vocab_size\":%llu},\"shards\":[",
		(unsigned long long)ds->vocab);
	for (i = 0; i < ds->nshards; i++)
		fprintf(f, "%s{\"name\":\"%s\",\"split\":\"%s\",\"mask\":\"%s.mask\",\"documents\":%llu,\"tokens\":%llu}",
			i ? "," : "", ds->shards[i].name, ds->shards[i].split, ds->shards[i].name,
			(unsigned long long)ds->shards[i].docs, (unsigned long long)ds->shards[i].tokens);
	fprintf(f, "]}\n");
	fclose(f);
}

/* Appends a train shard of n documents (numbered on from the dataset's) and rewrites the manifest. */
static void add_shard(struct dataset *ds, uint64_t n)
{
	struct shard_entry *e = &ds->shards[ds->nshards];
	struct tok_shard_writer *tw, *mw;
	struct ling_err err;
	char prefix[400];
	uint32_t tok[64], msk[64];
	uint64_t g;
	size_t i;

	snprintf(e->name, sizeof(e->name), "train-%06d", ds->nshards);
	e->split = "train";
	e->docs = n;
	e->tokens = 0;
	snprintf(prefix, sizeof(prefix), "%s/%s", ds->dir, e->name);
	tok_shard_writer_open(&tw, prefix, TOK_SHARD_U16, &err);
	snprintf(prefix, sizeof(prefix), "%s/%s.mask", ds->dir, e->name);
	tok_shard_writer_open(&mw, prefix, TOK_SHARD_U8, &err);
	for (g = ds->ndocs; g < ds->ndocs + n; g++) {
		size_t len = doc_length(g);

		for (i = 0; i < len; i++) {
			tok[i] = i ? (uint32_t)((g * 31 + i * 7) % FIRST) : (uint32_t)(FIRST + g);
			msk[i] = (g + i) % 3 != 0;
		}
		tok_shard_writer_add(tw, tok, len, &err);
		tok_shard_writer_add(mw, msk, len, &err);
		e->tokens += len;
	}
	tok_shard_writer_close(tw, &err);
	tok_shard_writer_close(mw, &err);
	ds->ndocs += n;
	ds->vocab = FIRST + ds->ndocs;
	ds->nshards++;
	write_manifest(ds);
}

static void make_dataset(struct dataset *ds, const char *name, uint64_t docs_per_shard, int shards)
{
	int i;

	memset(ds, 0, sizeof(*ds));
	snprintf(ds->dir, sizeof(ds->dir), "%s/%s", tmp, name);
	if (mkdir(ds->dir, 0755))
		diag("cannot create %s", ds->dir);
	for (i = 0; i < shards; i++)
		add_shard(ds, docs_per_shard);
}

static struct train_data *open_data(const struct dataset *ds, uint64_t seed, struct ling_err *err)
{
	struct train_data_opts o = { ds->dir, "train", B, T, seed, (int64_t)ds->vocab, 0, 0 };
	struct train_data *d = NULL;

	ling_err_clear(err);
	if (train_data_open(&d, &o, err))
		diag("open: %s", err->msg);
	return d;
}

struct batch {
	int32_t tokens[B * T], docs[B * T];
	uint8_t mask[B * T];
};

/* Reads n batches into v; @return the number read before an error. */
static int read_batches(struct train_data *d, struct batch *v, int n)
{
	struct ling_err err;
	int i;

	for (i = 0; i < n; i++)
		if (train_data_next(d, v[i].tokens, v[i].mask, v[i].docs, &err)) {
			diag("next: %s", err.msg);
			return i;
		}
	return i;
}

/* Documents cut back out of a stream of batches: their numbers in order, and the row checks. */
struct stream {
	uint64_t *doc;
	size_t n, cap;
	int rows_ok, content_ok;
	size_t cur_len; /* tokens seen of the last document */
};

/*
 * Adds batches to the stream, checking each row (docs starts at 0 and steps
 * by one exactly where a document or a row starts, mask 0 there) and each
 * token and mask value against the shards (the expected content of
 * document g at its position).
 */
static void stream_add(struct stream *s, const struct batch *v, int n)
{
	int i, r, t;

	for (i = 0; i < n; i++)
		for (r = 0; r < B; r++) {
			const int32_t *tok = v[i].tokens + r * T, *docs = v[i].docs + r * T;
			const uint8_t *mask = v[i].mask + r * T;

			for (t = 0; t < T; t++) {
				int starts = t == 0 || tok[t] >= FIRST;
				uint64_t g;

				if (tok[t] >= FIRST) {
					if (s->n == s->cap)
						s->doc = xgrow(s->doc, &s->cap, s->n + 1, sizeof(*s->doc));
					s->doc[s->n++] = (uint64_t)(tok[t] - FIRST);
					s->cur_len = 0;
				}
				if (t == 0 ? docs[t] != 0 : docs[t] != docs[t - 1] + (tok[t] >= FIRST))
					s->rows_ok = 0;
				if (starts && mask[t] != 0)
					s->rows_ok = 0;
				if (!s->n) {
					s->content_ok = 0;
					continue;
				}
				g = s->doc[s->n - 1];
				if (s->cur_len >= doc_length(g) ||
				    (s->cur_len && (uint32_t)tok[t] != (g * 31 + s->cur_len * 7) % FIRST) ||
				    (!starts && mask[t] != ((g + s->cur_len) % 3 != 0)))
					s->content_ok = 0;
				s->cur_len++;
			}
		}
}

static void stream_init(struct stream *s)
{
	memset(s, 0, sizeof(*s));
	s->rows_ok = s->content_ok = 1;
}

/* 1 when doc[from..from+n) holds each non-empty document below total exactly once. */
static int is_epoch(const struct stream *s, size_t from, uint64_t total, size_t n)
{
	char *seen = xcalloc(total + 1, 1);
	size_t i, want = 0;
	int good = from + n <= s->n;

	for (i = 0; i < total; i++)
		want += doc_length(i) > 0;
	good = good && n == want;
	for (i = from; good && i < from + n; i++)
		good = s->doc[i] < total && !seen[s->doc[i]]++ && doc_length(s->doc[i]) > 0;
	free(seen);
	return good;
}

static size_t nonempty(uint64_t total)
{
	size_t i, n = 0;

	for (i = 0; i < total; i++)
		n += doc_length(i) > 0;
	return n;
}

#define NB 60

static void test_epochs_and_packing(void)
{
	struct dataset ds;
	struct ling_err err;
	struct train_data *d;
	static struct batch v[NB];
	struct stream s;
	size_t n;

	make_dataset(&ds, "epochs", 25, 2);
	d = open_data(&ds, 7, &err);
	ok(d != NULL, "a dataset of two shards opens");
	if (!d)
		return;
	is_int(train_data_docs(d), 50, "it has the manifest's 50 documents");
	is_int(read_batches(d, v, NB), NB, "%d batches read", NB);
	stream_init(&s);
	stream_add(&s, v, NB);
	n = nonempty(50);
	ok(s.rows_ok, "docs restart at 0 per row and step where a document starts; mask 0 at every piece start");
	ok(s.content_ok, "every token and mask value is its document's, in order");
	ok(s.n > 3 * n, "the batches span three epochs (%zu documents)", s.n);
	ok(is_epoch(&s, 0, 50, n), "epoch 0 reads every non-empty document exactly once");
	ok(is_epoch(&s, n, 50, n), "so does epoch 1");
	ok(is_epoch(&s, 2 * n, 50, n), "and epoch 2");
	ok(memcmp(s.doc, s.doc + n, n * sizeof(*s.doc)) != 0, "epoch 1's order is not epoch 0's");
	ok(train_data_epoch(d) >= 3, "train_data_epoch counts on (%lld)", (long long)train_data_epoch(d));
	free(s.doc);
	train_data_close(d);
}

static void test_seeds(void)
{
	struct dataset ds;
	struct ling_err err;
	struct train_data *a, *b, *c;
	static struct batch va[10], vb[10], vc[10];

	make_dataset(&ds, "seeds", 40, 1);
	a = open_data(&ds, 1, &err);
	b = open_data(&ds, 1, &err);
	c = open_data(&ds, 2, &err);
	read_batches(a, va, 10);
	read_batches(b, vb, 10);
	read_batches(c, vc, 10);
	ok(!memcmp(va, vb, sizeof(va)), "the same seed gives the same batches");
	ok(memcmp(va, vc, sizeof(va)) != 0, "another seed another order");
	train_data_close(a);
	train_data_close(b);
	train_data_close(c);
}

/* Positions after every batch of an uninterrupted run; each, sought on a fresh loader, gives the rest. */
static void check_resume(const struct dataset *ds, int requeue_at, const char *what)
{
	struct ling_err err;
	struct train_data *d = open_data(ds, 3, &err), *r;
	static struct batch ref[NB], got[NB];
	struct ling_buf pos[NB];
	int k, i, good = 1, mid_doc = 0, requeued_seen = 0;

	for (k = 0; k < NB; k++) {
		ling_buf_init(&pos[k]);
		train_data_position(d, &pos[k]);
		read_batches(d, &ref[k], 1);
		if (k == requeue_at)
			train_data_requeue_last(d);
		mid_doc += !strstr(pos[k].data, "\"used\":0,");
		requeued_seen += strstr(pos[k].data, "\"requeued\":[]") == NULL;
	}
	for (k = 0; k < NB; k++) {
		r = open_data(ds, 3, &err);
		if (train_data_seek(r, pos[k].data, pos[k].len, &err)) {
			diag("seek %s: %s", pos[k].data, err.msg);
			good = 0;
		}
		for (i = k; i < NB; i++) {
			read_batches(r, got + i, 1);
			if (i == requeue_at) /* the requeue is part of the run */
				train_data_requeue_last(r);
		}
		if (memcmp(got + k, ref + k, (size_t)(NB - k) * sizeof(*ref))) {
			diag("resume after %d batches (%s) differs", k, pos[k].data);
			good = 0;
		}
		train_data_close(r);
	}
	ok(good, "%s: seeking to the position after each of %d batches gives the uninterrupted run's batches", what,
	   NB);
	ok(mid_doc > 5, "%s: %d of those positions are inside a document", what, mid_doc);
	ok(!strstr(pos[NB - 1].data, "\"epoch\":0,"), "%s: and they cross epochs (%s)", what, pos[NB - 1].data);
	if (requeue_at < NB)
		ok(requeued_seen > 0, "%s: positions carry the requeued documents (%d)", what, requeued_seen);
	for (k = 0; k < NB; k++)
		ling_buf_release(&pos[k]);
	train_data_close(d);
}

static void test_resume(void)
{
	struct dataset ds;

	make_dataset(&ds, "resume", 20, 2);
	check_resume(&ds, NB, "plain");
	check_resume(&ds, 4, "with a requeue at batch 4");
}

static void test_requeue(void)
{
	struct dataset ds;
	struct ling_err err;
	struct train_data *d;
	static struct batch v[NB];
	struct stream s0, s;
	size_t n, i, j, again = 0;
	int first_batch_docs[64], nfirst = 0;

	make_dataset(&ds, "requeue", 60, 1);
	d = open_data(&ds, 5, &err);
	read_batches(d, v, 1);
	stream_init(&s0);
	stream_add(&s0, v, 1);
	for (i = 0; i < s0.n; i++)
		first_batch_docs[nfirst++] = (int)s0.doc[i];
	train_data_requeue_last(d);
	read_batches(d, v + 1, NB - 1);
	stream_init(&s);
	stream_add(&s, v, NB);
	n = nonempty(60);
	ok(s.content_ok && s.rows_ok, "requeued documents are read again whole");
	/* Epoch 0 is the permutation plus the requeued documents once more, each after the first batch. */
	for (j = 0; j < (size_t)nfirst; j++)
		for (i = s0.n; i < n + (size_t)nfirst && i < s.n; i++)
			again += s.doc[i] == (uint64_t)first_batch_docs[j];
	is_int(again, nfirst, "each of the first batch's %d documents comes again later in epoch 0", nfirst);
	ok(is_epoch(&s, n + (size_t)nfirst, 60, n), "epoch 1 is a plain permutation again");
	free(s0.doc);
	free(s.doc);
	train_data_close(d);
}

/* Saved mid-epoch, the dataset appended to, resumed: epoch 0 as before, epoch 1 over all documents. */
static void test_grown(void)
{
	struct dataset ds;
	struct ling_err err;
	struct train_data *d, *old;
	static struct batch v[NB], ref[NB];
	struct ling_buf pos = LING_BUF_INIT;
	struct stream s, sref;
	size_t n_old, n_all;

	make_dataset(&ds, "grown", 30, 1);
	d = open_data(&ds, 9, &err);
	old = open_data(&ds, 9, &err);
	read_batches(old, ref, NB);
	read_batches(d, v, 5);
	train_data_position(d, &pos);
	train_data_close(d);

	add_shard(&ds, 30);
	d = open_data(&ds, 9, &err);
	is_int(train_data_docs(d), 60, "the grown dataset has 60 documents");
	ok(!train_data_seek(d, pos.data, pos.len, &err), "the old position fits the grown dataset");
	read_batches(d, v + 5, NB - 5);
	stream_init(&s);
	stream_add(&s, v, NB);
	stream_init(&sref);
	stream_add(&sref, ref, NB);
	n_old = nonempty(30);
	n_all = nonempty(60);
	ok(s.content_ok && s.rows_ok, "the grown run's batches are intact");
	ok(sref.n >= n_old && !memcmp(s.doc, sref.doc, n_old * sizeof(*s.doc)),
	   "epoch 0 goes on over the old documents exactly as without the append");
	ok(is_epoch(&s, n_old, 60, n_all), "epoch 1 reads the old and the new documents, each once");
	ling_buf_release(&pos);
	free(s.doc);
	free(sref.doc);
	train_data_close(d);
	train_data_close(old);
}

static void truncate_file(const char *dir, const char *name, long cut)
{
	char path[400];
	FILE *f;
	long size;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fclose(f);
	if (truncate(path, size - cut))
		diag("cannot truncate %s", path);
}

static int open_code(const struct dataset *ds, const char *split, int64_t vocab, struct ling_err *err)
{
	struct train_data_opts o = { ds->dir, split, B, T, 1, vocab, 0, 0 };
	struct train_data *d = NULL;
	int rc;

	ling_err_clear(err);
	rc = train_data_open(&d, &o, err);
	train_data_close(d);
	return rc;
}

static void test_refusals(void)
{
	struct dataset ds;
	struct ling_err err;
	struct train_data *d;
	struct batch v;
	char path[400];
	int rc;

	make_dataset(&ds, "bad", 20, 2);
	rc = open_code(&ds, "train", 1010, &err);
	is_int(rc, LING_EDATA, "a tokenizer larger than the model is refused");
	ok(strstr(err.msg, "1040") && strstr(err.msg, "1010"), "naming both sizes: %s", err.msg);
	is_int(open_code(&ds, "valid", 5000, &err), LING_EDATA, "an empty split is refused: %s", err.msg);
	is_int(open_code(&ds, "train", 0, &err), LING_EUSAGE, "vocab_size 0 is a usage error");

	/* a lying manifest: fewer tokens than the shard */
	ds.shards[1].tokens--;
	write_manifest(&ds);
	is_int(open_code(&ds, "train", 5000, &err), LING_EDATA, "a shard not matching the manifest's counts: %s",
	       err.msg);
	ds.shards[1].tokens++;
	write_manifest(&ds);
	is_int(open_code(&ds, "train", 5000, &err), 0, "the right manifest opens again");

	/* a token the model's vocabulary does not have, under a manifest that says it fits */
	ds.vocab = 1005;
	write_manifest(&ds);
	d = NULL;
	{
		struct train_data_opts o = { ds.dir, "train", B, T, 1, 1005, 0, 0 };

		train_data_open(&d, &o, &err);
	}
	rc = d ? train_data_next(d, v.tokens, v.mask, v.docs, &err) : -99;
	is_int(rc, LING_EDATA, "a token above vocab_size is refused when read: %s", err.msg);
	train_data_close(d);
	ds.vocab = FIRST + ds.ndocs;
	write_manifest(&ds);

	{
		const char *const bad[] = { "{}", "{\"epoch\":0,\"docs\":41,\"next\":0,\"used\":0,\"requeued\":[]}",
					    "{\"epoch\":0,\"docs\":40,\"next\":99,\"used\":0,\"requeued\":[]}",
					    "{\"epoch\":0,\"docs\":40,\"next\":0,\"used\":0,\"requeued\":[[99,1]]}", "[" };
		size_t i;
		int refused = 0;

		d = open_data(&ds, 1, &err);
		for (i = 0; d && i < sizeof(bad) / sizeof(*bad); i++)
			refused += train_data_seek(d, bad[i], strlen(bad[i]), &err) == LING_EDATA;
		is_int(refused, 5, "positions that do not fit are refused");
		ok(d && !train_data_next(d, v.tokens, v.mask, v.docs, &err), "and leave the loader usable");
		train_data_close(d);
	}

	truncate_file(ds.dir, "train-000001.bin", 3);
	rc = open_code(&ds, "train", 5000, &err);
	is_int(rc, LING_EDATA, "a truncated shard is refused: %s", err.msg);
	snprintf(path, sizeof(path), "%s/train-000000.mask.idx", ds.dir);
	unlink(path);
	is_int(open_code(&ds, "train", 5000, &err), LING_EIO, "a missing shard is refused: %s", err.msg);
	snprintf(path, sizeof(path), "%s/manifest.json", ds.dir);
	unlink(path);
	is_int(open_code(&ds, "train", 5000, &err), LING_EIO, "a missing manifest is refused: %s", err.msg);
	{
		FILE *f = fopen(path, "w");

		fputs("{\"format\":\"ling-dataset\",", f);
		fclose(f);
	}
	is_int(open_code(&ds, "train", 5000, &err), LING_EDATA, "an unparsable manifest is refused: %s", err.msg);
}

static void write_text(const char *path, int first, int n)
{
	FILE *f = fopen(path, "w");
	int i;

	for (i = first; i < first + n; i++)
		fprintf(f, "{\"id\":%d,\"text\":\"record %d says %s\"}\n", i, i,
			i % 3 ? "hello world" : "a somewhat longer sentence about nothing much at all");
	fclose(f);
}

/*
 * Epoch 0 read as one long row: its pieces must be the split's documents
 * (the shards SPLIT-000000 and, after an append, SPLIT-000001), each once,
 * with their tokens as tok_shard_get gives them.
 */
static int whole_epoch_matches(const char *dir, const char *split, uint64_t ndocs, int64_t vocab)
{
	enum { LONG_T = 8192 };
	struct train_data_opts o = { dir, split, 1, LONG_T, 11, vocab, 0, 0 };
	struct train_data *d = NULL;
	struct ling_err err;
	struct ling_u32s want = LING_U32S_INIT;
	struct tok_shard *sh[2] = { NULL, NULL };
	char prefix[400], *used = xcalloc(ndocs + 1, 1);
	static int32_t tok[LONG_T], docs[LONG_T];
	static uint8_t mask[LONG_T];
	int t = 0, piece, good = 1, k;

	if (train_data_open(&d, &o, &err) || train_data_next(d, tok, mask, docs, &err)) {
		diag("%s", err.msg);
		good = 0;
	}
	for (k = 0; k < 2; k++) {
		snprintf(prefix, sizeof(prefix), "%s/%s-%06d", dir, split, k);
		if (tok_shard_open(&sh[k], prefix, &err))
			sh[k] = NULL;
	}
	for (piece = 0; good && piece < (int)ndocs; piece++) {
		int end = t, found = 0;
		uint64_t base = 0, g;
		size_t i;

		while (end < LONG_T && docs[end] == piece)
			end++;
		for (k = 0; k < 2 && sh[k] && !found; base += tok_shard_count(sh[k]), k++)
			for (g = 0; g < tok_shard_count(sh[k]) && !found; g++) {
				want.n = 0;
				tok_shard_get(sh[k], g, &want, &err);
				found = want.n == (size_t)(end - t) && base + g < ndocs && !used[base + g];
				for (i = 0; found && i < want.n; i++)
					found = (uint32_t)tok[t + i] == want.v[i];
				if (found)
					used[base + g] = 1;
			}
		good = found;
		t = end;
	}
	for (k = 0; k < 2; k++)
		tok_shard_close(sh[k]);
	ling_u32s_release(&want);
	free(used);
	train_data_close(d);
	return good;
}

/* A dataset made by tok_dataset_build (as `tokenize build` does), then appended to. */
static void test_built_dataset(void)
{
	const char *data = getenv("LING_DATA");
	char tokenizer[400], dir[300], src1[300], src2[300];
	const char *files[1];
	struct tok_dataset_opts o;
	struct tok_dataset_stats st1, st2;
	struct ling_err err;
	int rc;

	snprintf(tokenizer, sizeof(tokenizer), "%s/tokenizers/gpt2.tokenizer.json.zst", data ? data : "tests/data");
	if (access(tokenizer, R_OK)) {
		ok(1, "# SKIP no %s", tokenizer);
		return;
	}
	snprintf(dir, sizeof(dir), "%s/built", tmp);
	snprintf(src1, sizeof(src1), "%s/night1.jsonl", tmp);
	snprintf(src2, sizeof(src2), "%s/night2.jsonl", tmp);
	write_text(src1, 0, 40);
	write_text(src2, 40, 30);
	memset(&o, 0, sizeof(o));
	o.dir = dir;
	o.tokenizer = tokenizer;
	o.jobs = 1;
	o.files = files;
	o.nfiles = 1;
	files[0] = src1;
	rc = tok_dataset_build(&o, &st1, &err);
	is_int(rc, 0, "tok_dataset_build writes a dataset%s%s", rc ? ": " : "", rc ? err.msg : "");
	if (rc)
		return;
	{
		struct train_data_opts small = { dir, "train", 1, 64, 1, 50000, 0, 0 };
		struct train_data *d = NULL;

		is_int(train_data_open(&d, &small, &err), LING_EDATA, "gpt2's 50257 tokens do not fit a model of 50000");
		ok(strstr(err.msg, "50257") && strstr(err.msg, "50000"), "naming both: %s", err.msg);
	}
	ok(whole_epoch_matches(dir, "train", (uint64_t)st1.docs[TOK_SPLIT_TRAIN], 50257),
	   "epoch 0 of its train split holds each of its %lld documents once, intact", st1.docs[TOK_SPLIT_TRAIN]);
	o.append = 1;
	files[0] = src2;
	rc = tok_dataset_build(&o, &st2, &err);
	is_int(rc, 0, "tokenize build --append adds a night%s%s", rc ? ": " : "", rc ? err.msg : "");
	ok(whole_epoch_matches(dir, "train", (uint64_t)(st1.docs[TOK_SPLIT_TRAIN] + st2.docs[TOK_SPLIT_TRAIN]), 50257),
	   "after the append epoch 0 holds all %lld documents once",
	   st1.docs[TOK_SPLIT_TRAIN] + st2.docs[TOK_SPLIT_TRAIN]);
}

static void remove_tree(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		diag("cannot remove %s", dir);
}

/*
 * Packing with whole_docs: walks the pieces of every row. A piece that begins
 * a document (its first token is FIRST + g) of at most T tokens holds all of
 * it; the rest of a row that a document did not fit in is padding (pad_id,
 * mask 0, the row's last piece). Without whole_docs some such document is cut.
 */
static int count_cut_docs(const struct dataset *ds, int whole, int *pads, int *bad_pad)
{
	struct train_data_opts o = { ds->dir, "train", B, T, 3, (int64_t)ds->vocab, whole, 0 };
	struct train_data *d = NULL;
	struct batch v;
	struct ling_err err;
	int i, r, cut = 0;
	size_t rest = 0; /* tokens of a document longer than a row still to come */

	*pads = *bad_pad = 0;
	if (train_data_open(&d, &o, &err)) {
		diag("open: %s", err.msg);
		return -1;
	}
	for (i = 0; i < 40; i++) {
		if (read_batches(d, &v, 1) != 1)
			break;
		for (r = 0; r < B; r++) {
			const int32_t *tok = v.tokens + r * T, *docs = v.docs + r * T;
			const uint8_t *mask = v.mask + r * T;
			int t = 0;

			while (t < T) {
				int end = t, k;

				while (end < T && docs[end] == docs[t])
					end++;
				if (t == 0 && rest) {
					rest -= (size_t)end < rest ? (size_t)end : rest;
				} else if (tok[t] >= FIRST) {
					size_t len = doc_length((uint64_t)(tok[t] - FIRST));

					if (len <= T && (size_t)(end - t) < len)
						cut++;
					rest = len > (size_t)(end - t) ? len - (size_t)(end - t) : 0;
				} else {
					(*pads)++;
					for (k = t; k < end; k++)
						if (tok[k] != 0 || mask[k])
							(*bad_pad)++;
					if (end != T)
						(*bad_pad)++;
				}
				t = end;
			}
		}
	}
	train_data_close(d);
	return cut;
}

static void test_whole_docs(void)
{
	struct dataset ds;
	int pads, bad_pad, cut;

	make_dataset(&ds, "whole", 200, 1);
	cut = count_cut_docs(&ds, 0, &pads, &bad_pad);
	ok(cut > 0 && pads == 0, "whole_docs off: rows are packed densely, %d documents of at most T cut", cut);
	cut = count_cut_docs(&ds, 1, &pads, &bad_pad);
	is_int(cut, 0, "whole_docs: no document of at most T tokens is cut");
	ok(pads > 0, "whole_docs: %d rows end in padding", pads);
	is_int(bad_pad, 0, "whole_docs: padding is pad_id with mask 0, at the end of its row");
}

int main(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmp, sizeof(tmp), "%s/ling-train-data.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmp)) {
		printf("1..0 # SKIP cannot create a temporary directory\n");
		return 0;
	}
	test_epochs_and_packing();
	test_seeds();
	test_resume();
	test_requeue();
	test_grown();
	test_refusals();
	test_built_dataset();
	test_whole_docs();
	remove_tree(tmp);
	return done_testing();
}
