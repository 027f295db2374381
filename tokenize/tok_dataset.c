/*
 * tok_dataset: the dataset directory (tokenize.h, "datasets", has the contract).
 *
 * The main thread reads lines into batches and writes results; a thread pool
 * of `jobs` threads (each with its own struct tok, which is not shareable)
 * parses, renders and tokenizes the records of a batch. Two batches
 * alternate: while the workers process one, the main thread reads the next
 * and then joins them; it writes the batch when all its records are done, so
 * the output order is the input order whatever the number of threads.
 */
#include "tokenize.h"

#include "../common/ling_file.h"
#include "../common/ling_num.h"
#include "../common/ling_input.h"
#include "../common/ling_mem.h"
#include "../common/ling_pool.h"
#include "../common/ling_sha256.h"
#include "tok_chat_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "../common/banned.h"

#define MANIFEST "manifest.json"
#define FORMAT_NAME "ling-dataset"
#define FORMAT_VERSION 1
#define BATCH_RECORDS 1024
#define BATCH_BYTES (4u << 20)
#define CHUNK 8 /* records a worker claims at a time */
#define SPLIT_BUCKETS 10000
/* Marks a dataset whose first run has not written its manifest yet: its shards are leftovers. */
#define NEW_MARKER ".new-dataset"
/* A copy of a pipe's lines, hashed before they are tokenized (DIR/.spool-PID). */
#define SPOOL_PREFIX ".spool-"

static const char *const split_names[TOK_SPLIT_COUNT] = { "train", "valid", "test" };

const char *tok_dataset_split_name(enum tok_dataset_split s)
{
	return s < TOK_SPLIT_COUNT ? split_names[s] : "?";
}

enum tok_dataset_split tok_dataset_split_of(const void *key, size_t len, const unsigned *w)
{
	uint64_t total = (uint64_t)w[0] + w[1] + w[2];
	uint64_t b = XXH3_64bits(key, len) % SPLIT_BUCKETS;

	if (b < SPLIT_BUCKETS * (uint64_t)w[0] / total)
		return TOK_SPLIT_TRAIN;
	if (b < SPLIT_BUCKETS * ((uint64_t)w[0] + w[1]) / total)
		return TOK_SPLIT_VALID;
	return TOK_SPLIT_TEST;
}

int tok_dataset_parse_split(const char *s, unsigned *w)
{
	char part[24];
	int k;

	for (k = 0; k < TOK_SPLIT_COUNT; k++) {
		const char *end = strchr(s, ',');
		size_t n = end ? (size_t)(end - s) : strlen(s);
		long long v;

		if ((end == NULL) != (k == TOK_SPLIT_COUNT - 1) || n >= sizeof(part))
			return -1;
		memcpy(part, s, n);
		part[n] = 0;
		if (ling_parse_long(part, 0, 1000000, &v))
			return -1;
		w[k] = (unsigned)v;
		s = end ? end + 1 : s + n;
	}
	return 0;
}

/*
 * A file hashed on a thread of its own (the one worker of a pool of two),
 * beside the work that needs the hash only later. One job at a time per pool.
 */
struct hash_job {
	struct ling_pool *pool;
	const char *path;
	int decompress, started, rc;
	char hex[65];
	struct ling_err err;
};

static void hash_body(void *ctx, size_t begin, size_t end, size_t chunk, int thread)
{
	struct hash_job *j = ctx;

	(void)begin;
	(void)end;
	(void)chunk;
	(void)thread;
	j->rc = ling_sha256_file_hex(j->path, j->decompress ? LING_SHA256_DECOMPRESS : 0, j->hex, &j->err);
}

static void hash_start(struct hash_job *j, struct ling_pool *pool, const char *path, int decompress)
{
	memset(j, 0, sizeof(*j));
	j->pool = pool;
	j->path = path;
	j->decompress = decompress;
	ling_err_clear(&j->err);
	j->started = 1;
	ling_pool_start(pool, 1, 1, hash_body, j);
}

/* Waits for the hash. @return 0 with hex filled, or the error of the hashing. */
static int hash_finish(struct hash_job *j, char hex[65], struct ling_err *err)
{
	if (j->started)
		ling_pool_wait(j->pool);
	j->started = 0;
	if (j->rc) {
		*err = j->err;
		return j->rc;
	}
	memcpy(hex, j->hex, 65);
	return 0;
}

/* ---- state ---- */

struct rec {
	size_t off, len; /* the line in batch->text */
	long line;
};

struct result {
	struct ling_u32s ids, mask;
	enum tok_dataset_split split;
	int rc;
	int rendered;         /* rc: the sample was already rendered (tok_chat_check_rendered) */
	struct ling_err err;
};

struct batch {
	struct ling_buf text;
	struct rec *recs;
	struct result *res;
	size_t n, cap, cap_res;
	size_t src;       /* all records of a batch come from one source */
	const char *name; /* its path, for the workers (b->src may move) */
};

/* What one thread of the pool encodes with: thread 0 (the main thread) borrows build.tok. */
struct worker {
	struct tok *tok;
	struct tok_chat *chat;
	int rc;               /* of loading tok */
	struct ling_err err;
};

struct source {
	char *path;
	char sha[65];
	long long records, written, rejected;
};

struct open_shard {
	struct tok_shard_writer *tok, *mask;
	char name[32];
	uint64_t docs, tokens, trained;
};

struct new_shard {
	char name[32];
	enum tok_dataset_split split;
	uint64_t docs, tokens, trained;
};

struct reader {
	struct ling_input *in;
	size_t file;      /* the next entry of o->files */
	long line;
	int is_stdin;
	int hash_lines;   /* not a regular file: hashed as read (decompressed lines) */
	struct ling_sha256 sha;
	struct hash_job job; /* a regular file hashed while it is read (job.started) */
};

struct build {
	const struct tok_dataset_opts *o;
	struct tok_dataset_stats *st;
	json_t *old;               /* the manifest found, or NULL */
	struct tok *tok;           /* worker 0's, and for the settings */
	char tok_sha[65];
	enum tok_shard_dtype dtype;
	int has_tpl;
	enum tok_chat_template tpl;
	const char *text_field;
	const char *eod_text;
	long eod;                  /* -1: none */
	const char *chat_eod_text; /* NULL: none */
	long chat_eod;             /* -1: none */
	unsigned split[TOK_SPLIT_COUNT];
	uint64_t shard_tokens;
	int run;

	struct open_shard out[TOK_SPLIT_COUNT];
	unsigned next_index[TOK_SPLIT_COUNT];
	struct new_shard *shards;
	size_t nshards, cap_shards;
	struct source *src;
	size_t nsrc, cap_src;
	char **files;              /* o->files with each directory replaced by its segment files */
	size_t nfiles, cap_files;

	struct ling_pool *pool;    /* nw threads: nw - 1 workers and the main thread */
	struct ling_pool *hasher;  /* hashes a file beside the reading (struct hash_job) */
	struct batch *cur;         /* the batch the pool encodes */
	struct worker *w;          /* one per thread of the pool */
	int nw;
};

/* ---- records (on the workers) ---- */

/* Gives an error of the renderer or encoder, which has no position, the record's. */
static int reposition(struct ling_err *err, const char *name, long line)
{
	char msg[sizeof(err->msg)];

	memcpy(msg, err->msg, sizeof(msg));
	return ling_err_at(err, err->code, name, line, 0, "%s", msg);
}

static void do_record(struct build *b, struct worker *w, struct batch *bt, size_t i)
{
	const struct rec *r = &bt->recs[i];
	struct result *res = &bt->res[i];
	const char *line = bt->text.data + r->off, *name = bt->name;
	const json_t *id, *msgs, *text;
	json_error_t jerr;
	json_t *obj;
	size_t k;

	res->ids.n = res->mask.n = 0;
	res->rc = res->rendered = 0;
	obj = json_loadb(line, r->len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
	if (!obj) {
		res->rc = ling_err_at(&res->err, LING_EDATA, name, r->line, jerr.position + 1, "bad JSON: %s", jerr.text);
		return;
	}
	if (!json_is_object(obj)) {
		res->rc = ling_err_at(&res->err, LING_EDATA, name, r->line, 1, "not a JSON object");
		goto out;
	}
	id = json_object_get(obj, "id");
	if (json_is_string(id)) {
		res->split = tok_dataset_split_of(json_string_value(id), json_string_length(id), b->split);
	} else if (json_is_integer(id)) {
		char num[32];
		int n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(id));

		res->split = tok_dataset_split_of(num, (size_t)n, b->split);
	} else {
		res->split = tok_dataset_split_of(line, r->len, b->split);
	}
	msgs = json_object_get(obj, "messages");
	text = json_object_get(obj, b->text_field);
	if (msgs || !json_is_string(text)) {
		if (!msgs && !text)
			res->rc = ling_err_at(&res->err, LING_EDATA, name, r->line, 0,
					      "no \"messages\" (a chat sample) and no \"%s\" (a text record)", b->text_field);
		else if (!msgs)
			res->rc = ling_err_at(&res->err, LING_EDATA, name, r->line, 0, "\"%s\" is not a string",
					      b->text_field);
		else if (!w->chat)
			res->rc = ling_err_at(&res->err, LING_EDATA, name, r->line, 0,
					      "a chat sample, but no chat template: the tokenizer has neither "
					      "<|im_end|> (qwen) nor <|role_end|> (ling)");
		else if ((res->rc = tok_chat_render(w->chat, obj, &res->ids, &res->mask, NULL, &res->err)) ||
			 (res->rendered = res->rc = tok_chat_check_rendered(w->chat, obj, &res->err)))
			reposition(&res->err, name, r->line);
		else if (b->chat_eod >= 0) { /* Megatron's reset_position_ids/attention_mask split at it; not trained */
			ling_u32s_push(&res->ids, (uint32_t)b->chat_eod);
			ling_u32s_push(&res->mask, 0);
		}
		goto out;
	}
	if ((res->rc = tok_encode(w->tok, json_string_value(text), json_string_length(text), 0, &res->ids, &res->err))) {
		reposition(&res->err, name, r->line);
		goto out;
	}
	if (b->eod >= 0)
		ling_u32s_push(&res->ids, (uint32_t)b->eod);
	for (k = 0; k < res->ids.n; k++)
		ling_u32s_push(&res->mask, 1);
out:
	json_decref(obj);
}

static void encode_records(void *ctx, size_t begin, size_t end, size_t chunk, int thread)
{
	struct build *b = ctx;

	(void)chunk;
	for (; begin < end; begin++)
		do_record(b, &b->w[thread], b->cur, begin);
}

static void load_tokenizers(void *ctx, size_t begin, size_t end, size_t chunk, int thread)
{
	struct build *b = ctx;

	(void)end;
	(void)chunk;
	(void)thread;
	b->w[begin + 1].rc = tok_load(&b->w[begin + 1].tok, b->o->tokenizer, b->o->encoding, &b->w[begin + 1].err);
}

/* Starts the pool, whose workers load their tokenizers while the main thread loads its own. */
static void pool_start(struct build *b)
{
	b->pool = ling_pool_new(b->nw);
	b->w = xcalloc((size_t)b->nw, sizeof(*b->w));
	ling_pool_start(b->pool, (size_t)b->nw - 1, 1, load_tokenizers, b);
}

/*
 * Waits for the tokenizers, and gives each thread its chat renderer.
 * @return 0, or the error of a tokenizer that did not load.
 */
static int pool_ready(struct build *b, struct ling_err *err)
{
	int i, rc;

	ling_pool_wait(b->pool);
	b->w[0].tok = b->tok;
	for (i = 0; i < b->nw; i++) {
		if (b->w[i].rc) {
			*err = b->w[i].err;
			return err->code;
		}
		if (b->has_tpl && (rc = tok_chat_new(&b->w[i].chat, b->tpl, b->w[i].tok, err)))
			return rc;
	}
	return 0;
}

static void pool_stop(struct build *b)
{
	int i;

	if (!b->w)
		return;
	ling_pool_wait(b->pool);
	ling_pool_free(b->pool);
	b->pool = NULL;
	for (i = 0; i < b->nw; i++) {
		tok_chat_free(b->w[i].chat);
		if (i > 0)
			tok_free(b->w[i].tok);
	}
	free(b->w);
	b->w = NULL;
}

/* ---- reading (main thread) ---- */

static const char *str_or_empty(const json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : "";
}

static int source_known(const struct build *b, const char *sha)
{
	const json_t *sources = json_object_get(b->old, "sources"), *s;
	size_t i;

	json_array_foreach(sources, i, s)
		if (!strcmp(str_or_empty(json_object_get(s, "sha256")), sha))
			return 1;
	for (i = 0; i < b->nsrc; i++)
		if (!strcmp(b->src[i].sha, sha))
			return 1;
	return 0;
}

/*
 * Copies the decompressed lines of stdin into a spool file in
 * the dataset directory, each ending in "\n", hashing them as a pipe's
 * sha256 is defined, into sha. When the dataset has that sha256 already,
 * @return 0; else opens the spool as rd->in (the file is unlinked at once,
 * so nothing is left behind) and @return 1; or an error.
 */
static int spool_open(struct build *b, struct reader *rd, const char *path, char sha[65], struct ling_err *err)
{
	struct ling_input *in = NULL;
	struct ling_buf spool = LING_BUF_INIT;
	struct ling_sha256 h;
	const char *line;
	size_t len;
	FILE *f = NULL;
	int rc;

	ling_buf_addf(&spool, "%s/" SPOOL_PREFIX "%ld", b->o->dir, (long)getpid());
	if ((rc = ling_input_open(&in, path, err)))
		goto out;
	if (!(f = fopen(spool.data, "w"))) {
		rc = ling_err_at(err, LING_EIO, spool.data, 0, 0, "cannot create: %s", strerror(errno));
		goto out;
	}
	ling_sha256_init(&h);
	while ((rc = ling_input_getline(in, &line, &len, err)) > 0) {
		ling_sha256_update(&h, line, len);
		ling_sha256_update(&h, "\n", 1);
		if (fwrite(line, 1, len, f) != len || putc('\n', f) == EOF) {
			rc = ling_err_at(err, LING_EIO, spool.data, 0, 0, "cannot write: %s", strerror(errno));
			goto out;
		}
	}
	if (rc < 0)
		goto out;
	ling_sha256_final_hex(&h, sha);
	rc = fclose(f);
	f = NULL;
	if (rc) {
		rc = ling_err_at(err, LING_EIO, spool.data, 0, 0, "cannot write: %s", strerror(errno));
		goto out;
	}
	if (source_known(b, sha)) {
		rc = 0;
		goto out;
	}
	if ((rc = ling_input_open(&rd->in, spool.data, err)))
		goto out;
	rd->hash_lines = 0;
	rc = 1;
out:
	if (f)
		fclose(f);
	unlink(spool.data);
	ling_input_close(in);
	ling_buf_release(&spool);
	return rc;
}

/* Opens the next source that is not in the dataset yet. @return 1, 0 when none is left, or an error. */
static int open_next(struct build *b, struct reader *rd, struct ling_err *err)
{
	const struct tok_dataset_opts *o = b->o;
	char sha[65] = "";
	int rc;

	while (rd->file < b->nfiles) {
		const char *path = b->files[rd->file++];
		struct source *s;

		struct stat sb;

		rd->is_stdin = !strcmp(path, "-");
		/* A pipe cannot be read twice: hash what is read from it. */
		rd->hash_lines = rd->is_stdin || stat(path, &sb) < 0 || !S_ISREG(sb.st_mode);
		if (rd->is_stdin && b->old) {
			/*
			 * Appending stdin: its hash decides whether it is new, so it is read
			 * (into a spool) first. A named pipe streams (tests/t4300 kills a run
			 * in the middle of one) and is not skipped.
			 */
			if ((rc = spool_open(b, rd, path, sha, err)) < 0)
				return rc;
			if (rc == 0) {
				b->st->skipped_files++;
				if (o->on_skip)
					o->on_skip(o->ctx, rd->is_stdin ? "<stdin>" : path);
				continue;
			}
		} else if (!rd->hash_lines && !b->old) {
			/* A new dataset skips nothing: hash the file beside the work. */
			hash_start(&rd->job, b->hasher, path, 0);
		} else if (!rd->hash_lines) {
			if ((rc = ling_sha256_file_hex(path, 0, sha, err)))
				return rc;
			if (source_known(b, sha)) {
				b->st->skipped_files++;
				if (o->on_skip)
					o->on_skip(o->ctx, path);
				continue;
			}
		}
		if (!rd->in && (rc = ling_input_open(&rd->in, path, err)))
			return rc;
		b->src = xgrow(b->src, &b->cap_src, b->nsrc + 1, sizeof(*b->src));
		s = &b->src[b->nsrc++];
		memset(s, 0, sizeof(*s));
		s->path = xstrdup(rd->is_stdin ? "<stdin>" : path);
		memcpy(s->sha, sha, sizeof(sha));
		ling_sha256_init(&rd->sha);
		rd->line = 0;
		return 1;
	}
	return 0;
}

static int blank(const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t' || *s == '\r'))
		s++, n--;
	return n == 0;
}

/* Reads the next batch (records of one source). @return 0 (bt->n = 0 at the end) or an error. */
static int fill(struct build *b, struct reader *rd, struct batch *bt, struct ling_err *err)
{
	const char *line;
	size_t len;
	int rc;

	bt->n = 0;
	ling_buf_reset(&bt->text);
	for (;;) {
		if (!rd->in) {
			if (bt->n)
				return 0;
			if ((rc = open_next(b, rd, err)) <= 0)
				return rc;
		}
		bt->src = b->nsrc - 1;
		bt->name = b->src[bt->src].path;
		rc = ling_input_getline(rd->in, &line, &len, err);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			if (rd->hash_lines)
				ling_sha256_final_hex(&rd->sha, b->src[bt->src].sha);
			if (rd->job.started && (rc = hash_finish(&rd->job, b->src[bt->src].sha, err)))
				return rc;
			ling_input_close(rd->in);
			rd->in = NULL;
			continue;
		}
		rd->line++;
		if (rd->hash_lines) {
			ling_sha256_update(&rd->sha, line, len);
			ling_sha256_update(&rd->sha, "\n", 1);
		}
		if (blank(line, len))
			continue;
		bt->recs = xgrow(bt->recs, &bt->cap, bt->n + 1, sizeof(*bt->recs));
		bt->recs[bt->n].off = bt->text.len;
		bt->recs[bt->n].len = len;
		bt->recs[bt->n].line = rd->line;
		ling_buf_add(&bt->text, line, len);
		if (bt->n + 1 > bt->cap_res) {
			size_t old = bt->cap_res;

			bt->res = xgrow(bt->res, &bt->cap_res, bt->n + 1, sizeof(*bt->res));
			memset(bt->res + old, 0, (bt->cap_res - old) * sizeof(*bt->res));
		}
		if (++bt->n >= BATCH_RECORDS || bt->text.len >= BATCH_BYTES)
			return 0;
	}
}

static void batch_release(struct batch *bt)
{
	size_t i;

	for (i = 0; i < bt->cap_res; i++) {
		ling_u32s_release(&bt->res[i].ids);
		ling_u32s_release(&bt->res[i].mask);
	}
	free(bt->res);
	free(bt->recs);
	ling_buf_release(&bt->text);
}

/* ---- writing (main thread) ---- */

static char *dir_path(const struct build *b, const char *name, const char *suffix)
{
	struct ling_buf p = LING_BUF_INIT;

	ling_buf_addf(&p, "%s/%s%s", b->o->dir, name, suffix);
	return p.data;
}

static void remove_shard_files(const struct build *b, const char *name)
{
	static const char *const suffixes[] = { ".bin", ".idx", ".mask.bin", ".mask.idx" };
	size_t i;

	for (i = 0; i < 4; i++) {
		char *p = dir_path(b, name, suffixes[i]);

		unlink(p);
		free(p);
	}
}

static int close_shard(struct build *b, enum tok_dataset_split s, struct ling_err *err)
{
	struct open_shard *os = &b->out[s];
	struct new_shard *ns;
	int rc;

	rc = tok_shard_writer_close(os->tok, err);
	os->tok = NULL;
	if (rc) {
		tok_shard_writer_abort(os->mask);
		os->mask = NULL;
		return rc;
	}
	/* From here on the shard is ours to remove if the run fails. */
	b->shards = xgrow(b->shards, &b->cap_shards, b->nshards + 1, sizeof(*b->shards));
	ns = &b->shards[b->nshards++];
	memcpy(ns->name, os->name, sizeof(ns->name));
	ns->split = s;
	ns->docs = os->docs;
	ns->tokens = os->tokens;
	ns->trained = os->trained;
	rc = tok_shard_writer_close(os->mask, err);
	os->mask = NULL;
	if (!rc)
		b->st->shards++;
	return rc;
}

static int open_shard(struct build *b, enum tok_dataset_split s, struct ling_err *err)
{
	struct open_shard *os = &b->out[s];
	char *prefix;
	int rc;

	memset(os, 0, sizeof(*os));
	snprintf(os->name, sizeof(os->name), "%s-%06u", split_names[s], b->next_index[s]++);
	prefix = dir_path(b, os->name, "");
	rc = tok_shard_writer_open(&os->tok, prefix, b->dtype, err);
	free(prefix);
	if (rc)
		return rc;
	prefix = dir_path(b, os->name, ".mask");
	rc = tok_shard_writer_open(&os->mask, prefix, TOK_SHARD_U8, err);
	free(prefix);
	if (rc) {
		tok_shard_writer_abort(os->tok);
		os->tok = NULL;
	}
	return rc;
}

static int add_doc(struct build *b, const struct result *res, struct ling_err *err)
{
	struct open_shard *os = &b->out[res->split];
	uint64_t trained = 0;
	size_t i;
	int rc;

	if (!os->tok && (rc = open_shard(b, res->split, err)))
		return rc;
	if ((rc = tok_shard_writer_add(os->tok, res->ids.v, res->ids.n, err)) ||
	    (rc = tok_shard_writer_add(os->mask, res->mask.v, res->mask.n, err)))
		return rc;
	for (i = 0; i < res->mask.n; i++)
		trained += res->mask.v[i];
	os->docs++;
	os->tokens += res->ids.n;
	os->trained += trained;
	b->st->docs[res->split]++;
	b->st->tokens += res->ids.n;
	b->st->trained += trained;
	if (tok_shard_writer_items(os->tok) >= b->shard_tokens)
		return close_shard(b, res->split, err);
	return 0;
}

/* Writes a processed batch in order. A bad record beyond max_errors is the error returned. */
static int write_batch(struct build *b, struct batch *bt, struct ling_err *err)
{
	struct source *src = &b->src[bt->src];
	size_t i;
	int rc;

	for (i = 0; i < bt->n; i++) {
		const struct result *res = &bt->res[i];

		b->st->read++;
		src->records++;
		if (res->rc) {
			b->st->rendered += res->rendered != 0;
			if (++b->st->rejected > b->o->max_errors) {
				*err = res->err;
				return err->code;
			}
			src->rejected++;
			if (b->o->on_reject)
				b->o->on_reject(b->o->ctx, &res->err);
			continue;
		}
		if ((rc = add_doc(b, res, err)))
			return rc;
		b->st->written++;
		src->written++;
	}
	if (b->o->on_progress)
		b->o->on_progress(b->o->ctx, b->st);
	return 0;
}

/* Reads and tokenizes every source, two batches in flight. */
static int run_batches(struct build *b, struct ling_err *err)
{
	struct batch bt[2];
	struct reader rd;
	struct ling_err rerr;
	int cur = 0, rc, rrc;

	memset(bt, 0, sizeof(bt));
	memset(&rd, 0, sizeof(rd));
	ling_err_clear(&rerr);
	if ((rc = fill(b, &rd, &bt[0], err)))
		goto out;
	while (bt[cur].n) {
		b->cur = &bt[cur];
		ling_pool_start(b->pool, bt[cur].n, CHUNK, encode_records, b);
		rrc = fill(b, &rd, &bt[!cur], &rerr);
		ling_pool_wait(b->pool);
		if ((rc = write_batch(b, &bt[cur], err)))
			break;
		if (rrc) {
			*err = rerr;
			rc = rrc;
			break;
		}
		cur = !cur;
	}
out:
	if (rd.job.started) {
		char ignored[65];

		hash_finish(&rd.job, ignored, &rerr);
	}
	if (rd.in)
		ling_input_close(rd.in);
	batch_release(&bt[0]);
	batch_release(&bt[1]);
	return rc;
}

/* ---- the directory ---- */

/* Whether name is a shard file: SPLIT-NNNNNN[.mask].(bin|idx)[.tmp]; its prefix in prefix. */
static int shard_file(const char *name, char *prefix, size_t cap)
{
	size_t i, n;
	const char *p;

	for (i = 0; i < TOK_SPLIT_COUNT; i++) {
		n = strlen(split_names[i]);
		if (!strncmp(name, split_names[i], n) && name[n] == '-')
			break;
	}
	if (i == TOK_SPLIT_COUNT)
		return 0;
	p = name + n + 1;
	for (i = 0; p[i] >= '0' && p[i] <= '9'; i++)
		;
	if (i < 6)
		return 0;
	p += i;
	if (!strncmp(p, ".mask", 5))
		p += 5;
	if (strncmp(p, ".bin", 4) && strncmp(p, ".idx", 4))
		return 0;
	if (strcmp(p + 4, "") && strcmp(p + 4, ".tmp"))
		return 0;
	n = (size_t)(p - name);
	if (!strncmp(p - 5, ".mask", 5))
		n -= 5;
	if (n >= cap)
		return 0;
	memcpy(prefix, name, n);
	prefix[n] = 0;
	return 1;
}

static int in_manifest(const json_t *manifest, const char *prefix)
{
	const json_t *shards = json_object_get(manifest, "shards"), *s;
	size_t i;

	json_array_foreach(shards, i, s)
		if (!strcmp(str_or_empty(json_object_get(s, "name")), prefix))
			return 1;
	return 0;
}

/*
 * Removes what a killed run left (shard files the manifest does not name,
 * temporary manifests); refuses a directory without a manifest that holds
 * files of something else.
 */
static int clean_dir(struct build *b, struct ling_err *err)
{
	DIR *d = opendir(b->o->dir);
	struct dirent *de;
	char prefix[64];
	char *marker = dir_path(b, NEW_MARKER, "");
	struct stat sb;
	int rc = 0, new_run_left = stat(marker, &sb) == 0;

	free(marker);
	if (!d)
		return ling_err_at(err, LING_EIO, b->o->dir, 0, 0, "cannot read the directory: %s", strerror(errno));
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		char *path;

		if (!strcmp(name, ".") || !strcmp(name, "..") || !strcmp(name, ".lock") || !strcmp(name, MANIFEST) ||
		    !strcmp(name, NEW_MARKER))
			continue;
		if (shard_file(name, prefix, sizeof(prefix))) {
			if (b->old && in_manifest(b->old, prefix) && !strstr(name, ".tmp"))
				continue;
			/* Shards with no manifest and no first run left unfinished: not ours to delete. */
			if (!b->old && !new_run_left && !strstr(name, ".tmp")) {
				rc = ling_err_at(err, LING_EUSAGE, b->o->dir, 0, 0,
						 "holds %s but no %s (a dataset whose manifest is missing?); "
						 "give a new or empty directory",
						 name, MANIFEST);
				break;
			}
		} else if (strncmp(name, SPOOL_PREFIX, strlen(SPOOL_PREFIX)) &&
			   strncmp(name, MANIFEST ".tmp.", strlen(MANIFEST ".tmp."))) {
			if (!b->old) {
				rc = ling_err_at(err, LING_EUSAGE, b->o->dir, 0, 0,
						 "holds %s, which is not part of a dataset (give a new or empty directory)", name);
				break;
			}
			continue;
		}
		path = dir_path(b, name, "");
		unlink(path);
		free(path);
	}
	closedir(d);
	return rc;
}

static int get_u64(const json_t *o, const char *key, uint64_t *out)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* Reads and checks manifest.json, when there is one. */
static int read_manifest(struct build *b, struct ling_err *err)
{
	char *path = dir_path(b, MANIFEST, "");
	const json_t *v, *s;
	json_error_t jerr;
	struct stat sb;
	size_t i;
	int rc = 0;

	if (stat(path, &sb) < 0) {
		free(path);
		return 0;
	}
	b->old = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!b->old) {
		rc = ling_err_at(err, LING_EDATA, path, jerr.line, jerr.column, "bad JSON: %s", jerr.text);
		goto out;
	}
	v = json_object_get(b->old, "format");
	if (!json_is_string(v) || strcmp(json_string_value(v), FORMAT_NAME) ||
	    json_integer_value(json_object_get(b->old, "version")) != FORMAT_VERSION) {
		rc = ling_err_at(err, LING_EDATA, path, 0, 0, "not a %s manifest of version %d", FORMAT_NAME,
				 FORMAT_VERSION);
		goto out;
	}
	if (!json_is_array(json_object_get(b->old, "shards")) || !json_is_array(json_object_get(b->old, "sources")) ||
	    !json_is_array(json_object_get(b->old, "runs")) ||
	    !json_is_string(json_object_get(json_object_get(b->old, "tokenizer"), "sha256"))) {
		rc = ling_err_at(err, LING_EDATA, path, 0, 0, "shards, sources, runs or tokenizer.sha256 missing");
		goto out;
	}
	json_array_foreach(json_object_get(b->old, "shards"), i, s) {
		const char *name = json_string_value(json_object_get(s, "name"));
		const char *split = json_string_value(json_object_get(s, "split"));
		char prefix[64], file[80];
		unsigned k = 0, index;

		snprintf(file, sizeof(file), "%s.idx", name ? name : "");
		if (name && split)
			for (k = 0; k < TOK_SPLIT_COUNT && strcmp(split, split_names[k]); k++)
				;
		if (!name || !split || k == TOK_SPLIT_COUNT || !shard_file(file, prefix, sizeof(prefix)) ||
		    strcmp(prefix, name) || strncmp(name, split, strlen(split))) {
			rc = ling_err_at(err, LING_EDATA, path, 0, 0, "shards[%zu]: bad name or split", i);
			goto out;
		}
		index = (unsigned)strtoul(name + strlen(split) + 1, NULL, 10);
		if (index + 1 > b->next_index[k])
			b->next_index[k] = index + 1;
	}
	b->run = (int)json_array_size(json_object_get(b->old, "runs")) + 1;
out:
	free(path);
	return rc;
}

/* Every shard the manifest names must be there (both pairs). */
static int check_shards(struct build *b, struct ling_err *err)
{
	static const char *const suffixes[] = { ".idx", ".bin", ".mask.idx", ".mask.bin" };
	const json_t *s;
	size_t i, k;

	json_array_foreach(json_object_get(b->old, "shards"), i, s) {
		const char *name = json_string_value(json_object_get(s, "name"));

		for (k = 0; k < 4; k++) {
			char *p = dir_path(b, name, suffixes[k]);
			struct stat sb;
			int missing = stat(p, &sb) < 0;

			free(p);
			if (missing)
				return ling_err_at(err, LING_EDATA, b->o->dir, 0, 0, "%s names shard %s, but %s%s is missing",
						   MANIFEST, name, name, suffixes[k]);
		}
	}
	return 0;
}

/* An option given must equal the manifest's value (both strings or NULL). */
static int same_setting(const struct build *b, const char *key, const char *given, const char **use,
			struct ling_err *err)
{
	const json_t *v = json_object_get(b->old, key);
	const char *have = json_string_value(v);

	if (!given) {
		*use = have;
		return 0;
	}
	if (!have || strcmp(have, given))
		return ling_err_at(err, LING_EDATA, b->o->dir, 0, 0, "the dataset has %s %s%s%s, not \"%s\"", key,
				   have ? "\"" : "", have ? have : "none", have ? "\"" : "", given);
	*use = given;
	return 0;
}

/*
 * The token ending each chat sample: --chat-eod (none: no token); when
 * appending, the manifest's (a dataset from before chat_eod has none);
 * else <|endoftext|> when the tokenizer has it and chat samples are taken.
 */
static int resolve_chat_eod(struct build *b, struct ling_err *err)
{
	const char *given = b->o->chat_eod;
	int none = given && !strcmp(given, "none");
	const char *have;

	b->chat_eod_text = none ? NULL : given;
	if (b->old) {
		have = json_string_value(json_object_get(b->old, "chat_eod"));
		if (given && (none ? have != NULL : !have || strcmp(have, given)))
			return ling_err_at(err, LING_EDATA, b->o->dir, 0, 0, "the dataset has chat_eod %s%s%s, not \"%s\"",
					   have ? "\"" : "", have ? have : "none", have ? "\"" : "", given);
		b->chat_eod_text = have;
	} else if (!given && b->has_tpl && tok_token_id(b->tok, "<|endoftext|>", 13) >= 0) {
		b->chat_eod_text = "<|endoftext|>";
	}
	b->chat_eod = -1;
	if (b->chat_eod_text &&
	    (b->chat_eod = tok_token_id(b->tok, b->chat_eod_text, strlen(b->chat_eod_text))) < 0)
		return ling_err_set(err, LING_EUSAGE, "--chat-eod %s: the tokenizer has no such token", b->chat_eod_text);
	return 0;
}

/* Settings: the options, the manifest's when appending, or the defaults. */
static int resolve(struct build *b, struct ling_err *err)
{
	static const unsigned default_split[TOK_SPLIT_COUNT] = { 98, 1, 1 };
	const struct tok_dataset_opts *o = b->o;
	const char *tpl = o->tpl;
	struct tok_chat *probe = NULL;
	struct ling_err perr;
	int rc, k;

	b->text_field = o->text_field;
	b->eod_text = o->eod;
	memcpy(b->split, o->split ? o->split : default_split, sizeof(b->split));
	b->shard_tokens = o->shard_tokens ? o->shard_tokens : TOK_DATASET_SHARD_TOKENS;
	if (b->old) {
		const char *have = json_string_value(json_object_get(json_object_get(b->old, "tokenizer"), "sha256"));
		const json_t *w = json_object_get(json_object_get(b->old, "split"), "weights");

		if (strcmp(have, b->tok_sha))
			return ling_err_at(err, LING_EDATA, b->o->dir, 0, 0,
					   "the dataset was made with tokenizer sha256 %.16s..., not %.16s... (%s): "
					   "its ids would not mean the same",
					   have, b->tok_sha, o->tokenizer);
		if ((rc = same_setting(b, "template", o->tpl, &tpl, err)) ||
		    (rc = same_setting(b, "text_field", o->text_field, &b->text_field, err)) ||
		    (rc = same_setting(b, "eod", o->eod, &b->eod_text, err)))
			return rc;
		if (json_array_size(w) != TOK_SPLIT_COUNT)
			return ling_err_at(err, LING_EDATA, b->o->dir, 0, 0, "%s: split.weights is not 3 numbers", MANIFEST);
		for (k = 0; k < TOK_SPLIT_COUNT; k++) {
			unsigned have_w = (unsigned)json_integer_value(json_array_get(w, (size_t)k));

			if (o->split && o->split[k] != have_w)
				return ling_err_at(err, LING_EDATA, b->o->dir, 0, 0,
						   "the dataset is split %u,%u,%u, not %u,%u,%u (a split must not change)",
						   (unsigned)json_integer_value(json_array_get(w, 0)),
						   (unsigned)json_integer_value(json_array_get(w, 1)),
						   (unsigned)json_integer_value(json_array_get(w, 2)), o->split[0], o->split[1],
						   o->split[2]);
			b->split[k] = have_w;
		}
		if (!o->shard_tokens && get_u64(b->old, "shard_tokens", &b->shard_tokens))
			b->shard_tokens = TOK_DATASET_SHARD_TOKENS;
	}
	if (!b->text_field)
		b->text_field = "text";
	if ((uint64_t)b->split[0] + b->split[1] + b->split[2] == 0)
		return ling_err_set(err, LING_EUSAGE, "the split weights sum to 0");
	b->eod = -1;
	if (b->eod_text && (b->eod = tok_token_id(b->tok, b->eod_text, strlen(b->eod_text))) < 0)
		return ling_err_set(err, LING_EUSAGE, "--eod %s: the tokenizer has no such token", b->eod_text);
	if (tpl) {
		if (tok_chat_template_parse(tpl, &b->tpl))
			return ling_err_set(err, LING_EUSAGE, "unknown template %s (qwen, ling)", tpl);
		if ((rc = tok_chat_new(&probe, b->tpl, b->tok, err)))
			return rc;
		b->has_tpl = 1;
	} else if (!b->old) {
		/* No template asked for: the one the tokenizer has the tokens of, if any. */
		ling_err_clear(&perr);
		if (!tok_chat_new(&probe, TOK_CHAT_QWEN, b->tok, &perr))
			b->tpl = TOK_CHAT_QWEN, b->has_tpl = 1;
		else if (!tok_chat_new(&probe, TOK_CHAT_LING, b->tok, &perr))
			b->tpl = TOK_CHAT_LING, b->has_tpl = 1;
	}
	tok_chat_free(probe);
	return resolve_chat_eod(b, err);
}

static json_t *copy_array(const json_t *old, const char *key)
{
	json_t *a = json_deep_copy(json_object_get(old, key));

	return json_is_array(a) ? a : (json_decref(a), json_array());
}

static json_t *counts(uint64_t docs, uint64_t tokens, uint64_t trained)
{
	return json_pack("{s:I,s:I,s:I}", "documents", (json_int_t)docs, "tokens", (json_int_t)tokens, "trained_tokens",
			 (json_int_t)trained);
}

/* The new manifest: the settings, the old entries and this run's, totals over all shards. */
static json_t *build_manifest(struct build *b)
{
	json_t *m = json_object(), *shards = copy_array(b->old, "shards"), *sources = copy_array(b->old, "sources");
	json_t *runs = copy_array(b->old, "runs"), *splits = json_object(), *s;
	uint64_t docs[TOK_SPLIT_COUNT] = { 0 }, tokens[TOK_SPLIT_COUNT] = { 0 }, trained[TOK_SPLIT_COUNT] = { 0 };
	unsigned nshards[TOK_SPLIT_COUNT] = { 0 };
	size_t i;
	int k;

	for (i = 0; i < b->nshards; i++) {
		const struct new_shard *ns = &b->shards[i];

		char mask[48];

		snprintf(mask, sizeof(mask), "%s.mask", ns->name);
		json_array_append_new(shards, json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:i}", "name", ns->name, "split",
							split_names[ns->split], "mask", mask, "documents",
							(json_int_t)ns->docs, "tokens", (json_int_t)ns->tokens,
							"trained_tokens", (json_int_t)ns->trained, "run", b->run));
	}
	for (i = 0; i < b->nsrc; i++) {
		const struct source *src = &b->src[i];

		json_array_append_new(sources, json_pack("{s:s,s:s,s:I,s:I,s:I,s:i}", "path", src->path, "sha256",
							 src->sha, "records", (json_int_t)src->records, "written",
							 (json_int_t)src->written, "rejected", (json_int_t)src->rejected,
							 "run", b->run));
	}
	json_array_append_new(runs, json_pack("{s:i,s:I,s:I,s:I,s:I,s:I,s:i}", "run", b->run, "read",
					      (json_int_t)b->st->read, "written", (json_int_t)b->st->written, "rejected",
					      (json_int_t)b->st->rejected, "tokens", (json_int_t)b->st->tokens,
					      "trained_tokens", (json_int_t)b->st->trained, "shards", (int)b->st->shards));
	json_array_foreach(shards, i, s) {
		const char *split = json_string_value(json_object_get(s, "split"));
		uint64_t v;

		for (k = 0; k < TOK_SPLIT_COUNT && strcmp(split ? split : "", split_names[k]); k++)
			;
		if (k == TOK_SPLIT_COUNT)
			continue;
		nshards[k]++;
		if (!get_u64(s, "documents", &v))
			docs[k] += v;
		if (!get_u64(s, "tokens", &v))
			tokens[k] += v;
		if (!get_u64(s, "trained_tokens", &v))
			trained[k] += v;
	}
	for (k = 0; k < TOK_SPLIT_COUNT; k++) {
		json_t *c = counts(docs[k], tokens[k], trained[k]);

		json_object_set_new(c, "shards", json_integer(nshards[k]));
		json_object_set_new(splits, split_names[k], c);
	}
	json_object_set_new(m, "format", json_string(FORMAT_NAME));
	json_object_set_new(m, "version", json_integer(FORMAT_VERSION));
	json_object_set_new(m, "tool", json_string("tokenize (ling) " LING_VERSION));
	json_object_set_new(m, "tokenizer",
			    json_pack("{s:s,s:s,s:I,s:s}", "path", b->o->tokenizer, "sha256", b->tok_sha, "vocab_size",
				      (json_int_t)tok_vocab_size(b->tok), "dtype", tok_shard_dtype_name(b->dtype)));
	json_object_set_new(m, "template", b->has_tpl ? json_string(tok_chat_template_name(b->tpl)) : json_null());
	json_object_set_new(m, "text_field", json_string(b->text_field));
	json_object_set_new(m, "eod", b->eod_text ? json_string(b->eod_text) : json_null());
	json_object_set_new(m, "chat_eod", b->chat_eod_text ? json_string(b->chat_eod_text) : json_null());
	json_object_set_new(m, "split",
			    json_pack("{s:[I,I,I],s:s}", "weights", (json_int_t)b->split[0], (json_int_t)b->split[1],
				      (json_int_t)b->split[2], "rule",
				      "b = xxh3_64(id) % 10000, id = the record's \"id\" (a string, or an integer as "
				      "decimal text), else the whole line; train if b < 10000*w0/W, valid if "
				      "b < 10000*(w0+w1)/W, else test (W = w0+w1+w2)"));
	json_object_set_new(m, "shard_tokens", json_integer((json_int_t)b->shard_tokens));
	json_object_set_new(m, "documents", json_integer((json_int_t)(docs[0] + docs[1] + docs[2])));
	json_object_set_new(m, "tokens", json_integer((json_int_t)(tokens[0] + tokens[1] + tokens[2])));
	json_object_set_new(m, "trained_tokens", json_integer((json_int_t)(trained[0] + trained[1] + trained[2])));
	json_object_set_new(m, "splits", splits);
	json_object_set_new(m, "shards", shards);
	json_object_set_new(m, "sources", sources);
	json_object_set_new(m, "runs", runs);
	return m;
}

static int write_manifest(struct build *b, struct ling_err *err)
{
	json_t *m = build_manifest(b);
	char *text = json_dumps(m, JSON_INDENT(1) | JSON_PRESERVE_ORDER), *path = dir_path(b, MANIFEST, "");
	struct ling_buf data = LING_BUF_INIT;
	int rc;

	ling_buf_adds(&data, text);
	ling_buf_addc(&data, '\n');
	rc = ling_atomic_write(path, data.data, data.len, err);
	free(text);
	free(path);
	ling_buf_release(&data);
	json_decref(m);
	return rc;
}

/* Creates the directory if needed and takes its lock. @return the lock's fd, or an error. */
static int lock_dir(const char *dir, struct ling_err *err)
{
	struct ling_buf p = LING_BUF_INIT;
	struct stat sb;
	int fd;

	if (mkdir(dir, 0777) < 0 && errno != EEXIST)
		return ling_err_at(err, LING_EIO, dir, 0, 0, "cannot create the directory: %s", strerror(errno));
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return ling_err_at(err, LING_EUSAGE, dir, 0, 0, "not a directory");
	ling_buf_addf(&p, "%s/.lock", dir);
	fd = open(p.data, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		fd = ling_err_at(err, LING_EIO, p.data, 0, 0, "cannot create the lock file: %s", strerror(errno));
	else if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		/* A runtime condition, not a usage error: the same command succeeds once the other run ends. */
		fd = ling_err_at(err, LING_EIO, p.data, 0, 0, "locked: the dataset is in use by another tokenize run");
	}
	ling_buf_release(&p);
	return fd;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_segment_name(const char *name)
{
	static const char *const ends[] = { ".jsonl", ".jsonl.gz", ".jsonl.zst" };
	size_t n = strlen(name), i;

	if (name[0] == '.')
		return 0;
	for (i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		size_t e = strlen(ends[i]);

		if (n > e && !strcmp(name + n - e, ends[i]))
			return 1;
	}
	return 0;
}

/*
 * b->files: o->files, with a directory replaced by its segment files (the
 * regular files named *.jsonl, *.jsonl.gz or *.jsonl.zst, not hidden), in
 * name order: dedup --out's part-NNNNNNNN.jsonl. @return 0 or LING_EIO.
 */
static int expand_sources(struct build *b, struct ling_err *err)
{
	size_t i;

	for (i = 0; i < b->o->nfiles; i++) {
		const char *path = b->o->files[i];
		struct ling_buf p = LING_BUF_INIT;
		struct dirent *de;
		struct stat sb;
		size_t first = b->nfiles;
		DIR *d;

		if (strcmp(path, "-") && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			if (!(d = opendir(path)))
				return ling_err_at(err, LING_EIO, path, 0, 0, "cannot read the directory: %s",
						   strerror(errno));
			while ((de = readdir(d))) {
				if (!is_segment_name(de->d_name))
					continue;
				ling_buf_reset(&p);
				ling_buf_addf(&p, "%s/%s", path, de->d_name);
				if (stat(p.data, &sb) || !S_ISREG(sb.st_mode))
					continue;
				b->files = xgrow(b->files, &b->cap_files, b->nfiles + 1, sizeof(*b->files));
				b->files[b->nfiles++] = xstrdup(p.data);
			}
			closedir(d);
			ling_buf_release(&p);
			qsort(b->files + first, b->nfiles - first, sizeof(*b->files), cmp_str);
			continue;
		}
		b->files = xgrow(b->files, &b->cap_files, b->nfiles + 1, sizeof(*b->files));
		b->files[b->nfiles++] = xstrdup(path);
	}
	return 0;
}

/* Creates (new) or removes the marker of a first run that has not written its manifest yet. */
static int mark_new_dataset(const struct build *b, int mark, struct ling_err *err)
{
	char *path = dir_path(b, NEW_MARKER, "");
	int fd, rc = 0;

	if (!mark) {
		unlink(path);
	} else if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) < 0 || fsync(fd) < 0) {
		rc = ling_err_at(err, LING_EIO, path, 0, 0, "cannot create: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
	} else {
		close(fd);
	}
	free(path);
	return rc;
}

static int default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > TOK_DATASET_MAX_JOBS ? TOK_DATASET_MAX_JOBS : (int)n;
}

int tok_dataset_build(const struct tok_dataset_opts *o, struct tok_dataset_stats *st, struct ling_err *err)
{
	struct hash_job tok_hash;
	struct ling_err herr;
	struct build b;
	int rc, lock = -1, k;
	size_t i;

	memset(&b, 0, sizeof(b));
	memset(st, 0, sizeof(*st));
	b.o = o;
	b.st = st;
	b.run = 1;
	b.nw = o->jobs > 0 ? o->jobs : default_jobs();
	json_object_seed(0); /* before any thread builds objects */
	/* The workers load their tokenizers while this thread loads its own and reads the directory. */
	pool_start(&b);
	b.hasher = ling_pool_new(2);
	hash_start(&tok_hash, b.hasher, o->tokenizer, 1);
	rc = tok_load(&b.tok, o->tokenizer, o->encoding, err);
	if (rc) {
		hash_finish(&tok_hash, b.tok_sha, &herr);
		goto out;
	}
	if ((rc = hash_finish(&tok_hash, b.tok_sha, err)))
		goto out;
	b.dtype = tok_shard_dtype_for_vocab(tok_vocab_size(b.tok));
	if ((rc = lock = lock_dir(o->dir, err)) < 0)
		goto out;
	if ((rc = read_manifest(&b, err)))
		goto out;
	if (b.old && !o->append) {
		rc = ling_err_at(err, LING_EUSAGE, o->dir, 0, 0, "holds a dataset already (%s); use --append to add to it",
				 MANIFEST);
		goto out;
	}
	if ((rc = expand_sources(&b, err)) || (rc = resolve(&b, err)) || (rc = clean_dir(&b, err)) ||
	    (b.old && (rc = check_shards(&b, err))) || (!b.old && (rc = mark_new_dataset(&b, 1, err))))
		goto out;
	if (!(rc = pool_ready(&b, err)))
		rc = run_batches(&b, err);
	pool_stop(&b);
	for (k = 0; !rc && k < TOK_SPLIT_COUNT; k++)
		if (b.out[k].tok)
			rc = close_shard(&b, (enum tok_dataset_split)k, err);
	/* Nothing new (every source was in the dataset already): the manifest stays as it is. */
	if (!rc && !(b.old && !b.nsrc))
		rc = write_manifest(&b, err);
	if (!rc && !b.old)
		mark_new_dataset(&b, 0, err);
	if (rc) {
		for (k = 0; k < TOK_SPLIT_COUNT; k++) {
			tok_shard_writer_abort(b.out[k].tok);
			tok_shard_writer_abort(b.out[k].mask);
		}
		for (i = 0; i < b.nshards; i++)
			remove_shard_files(&b, b.shards[i].name);
	}
out:
	pool_stop(&b);
	if (lock >= 0)
		close(lock);
	for (i = 0; i < b.nsrc; i++)
		free(b.src[i].path);
	free(b.src);
	for (i = 0; i < b.nfiles; i++)
		free(b.files[i]);
	free(b.files);
	free(b.shards);
	json_decref(b.old);
	tok_free(b.tok);
	ling_pool_free(b.hasher);
	return rc < 0 ? rc : 0;
}
