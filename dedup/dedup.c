/*
 * The dedup run: batches of records are parsed and hashed on worker threads,
 * then decided in input order against the state, emitted, and committed
 * after their output is flushed (see dedup.h for the protocol).
 */
#include "dedup_internal.h"

#include "../common/ling_file.h"
#include "../common/ling_json.h"
#include "../common/ling_jsonl.h"
#include "../common/ling_mem.h"
#include "../common/ling_pool.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "../common/banned.h"

/* Records per batch: big enough to keep the threads busy, small enough for latency. */
#define DEDUP_BATCH 1024
#define DEDUP_MAX_THREADS 64
/* Seed of the whole-line hash of records with no text, so it never meets a text hash. */
#define NO_TEXT_SEED 0x6e6f2d74657874ULL

enum rec_status { REC_TEXT, REC_NO_TEXT, REC_BAD };

struct rec {
	size_t off, len;        /* the line, in d->lines */
	long lineno;
	size_t source;          /* index into d->sources */
	enum rec_status status;
	int has_sig;
	int empty_object;       /* "{}": the dry-run mark goes in without a comma */
	struct ling_err *err;   /* REC_BAD */
	int has_dup_of;         /* it has a "dup_of" field already */
	char *id;
	size_t id_len;
};

/* A string or integer found under a path, in the worker's piece buffer. */
struct piece {
	size_t path, off, len;
	int at_end, number;
};

struct worker {
	struct dedup *d;
	struct dedup_hasher *hasher;
	struct ling_buf text, norm, scratch, data;
	const char *text_ptr;      /* the record's text: in data (one piece) or text (joined) */
	size_t text_len;
	struct piece *pieces;
	size_t npieces, pieces_cap;
};

struct dedup {
	struct dedup_options opts;
	struct dedup_sink sink;
	struct dedup_params p;
	int nperm, nthreads;
	long commit_every;
	size_t batch_max;
	struct dedup_state *st;
	struct dedup_counts counts;

	/*
	 * The paths a record is scanned for: the text paths (the --field ones,
	 * or the three chat paths and "text"), then "id" and "dup_of".
	 */
	struct ling_jsonl_paths *paths;
	size_t ntext, path_id, path_dup_of;
	int default_fields;

	/* The batch. */
	struct ling_buf lines;
	struct rec *recs;
	size_t nrecs;
	uint32_t *sigs;            /* batch_max * nperm */
	uint64_t *keys;            /* batch_max * bands */
	const uint64_t **keyp;     /* per record: its keys, or NULL */
	struct dedup_hash128 *exact;
	char **sources;
	size_t nsources, sources_cap;

	struct ling_pool *pool;    /* NULL with one thread */
	struct worker *workers;    /* one per thread of the pool */
	long since_commit;

	/* Scratch of the decisions. */
	uint64_t *cands;
	size_t cands_cap;
	struct ling_buf out, mark;

	/*
	 * The segments: --out's, or the unconfirmed ones of a stdout run in the
	 * state's directory (NULL: none). to_sink: records go to sink->emit too.
	 */
	char *seg_dir;
	int to_sink;
	int took_unconfirmed;      /* this --out run wrote the unconfirmed records: remove them once committed */
	uint64_t unc_first, unc_next;
	struct ling_buf unc_dir;   /* the state's directory of unconfirmed segments */
	FILE *seg;
	uint64_t seg_no;
	struct ling_buf seg_tmp, seg_final;
};

/* ---- options ---- */

void dedup_options_init(struct dedup_options *o)
{
	memset(o, 0, sizeof(*o));
	dedup_params_default(&o->params);
}

int dedup_field_check(const char *path, struct ling_err *err)
{
	struct ling_jsonl_paths *ps;
	int rc = ling_jsonl_paths_new(&ps, &path, 1, err);

	ling_jsonl_paths_free(ps);
	return rc;
}

/* ---- text extraction (worker threads) ---- */

static void on_piece(void *ctx, size_t path, enum ling_jsonl_piece_type type, int at_end, const char *str,
		     size_t n)
{
	struct worker *w = ctx;
	struct piece *pc;

	w->pieces = xgrow(w->pieces, &w->pieces_cap, w->npieces + 1, sizeof(*w->pieces));
	pc = &w->pieces[w->npieces++];
	pc->path = path;
	pc->off = w->data.len;
	pc->len = n;
	pc->at_end = at_end;
	pc->number = type == LING_JSONL_NUMBER;
	ling_buf_add(&w->data, str, n);
}

/*
 * The record's text from the pieces: the strings of each text path in
 * turn, non-empty ones joined by "\n". Default fields: the chat paths when
 * the record has "messages", else "text". Also its id.
 */
static void assemble(struct worker *w, struct rec *r, int chat)
{
	const struct dedup *d = w->d;
	size_t p, first = 0, last = d->ntext, i;

	if (d->default_fields) {
		first = chat ? 0 : 3;
		last = chat ? 3 : 4;
	}
	ling_buf_reset(&w->text);
	w->text_len = 0;
	for (p = first; p < last; p++) {
		for (i = 0; i < w->npieces; i++) {
			const struct piece *pc = &w->pieces[i];

			if (pc->path != p || pc->number || !pc->len)
				continue;
			/* One piece is used where it is; more are joined. */
			if (w->text_len == 0) {
				w->text_ptr = w->data.data + pc->off;
				w->text_len = pc->len;
				continue;
			}
			if (!w->text.len)
				ling_buf_add(&w->text, w->text_ptr, w->text_len);
			ling_buf_addc(&w->text, '\n');
			ling_buf_add(&w->text, w->data.data + pc->off, pc->len);
			w->text_ptr = w->text.data;
			w->text_len = w->text.len;
		}
	}
	for (i = 0; i < w->npieces; i++) {
		const struct piece *pc = &w->pieces[i];

		if (pc->path == d->path_id && pc->at_end && !r->id) {
			r->id = xstrndup(w->data.data + pc->off, pc->len);
			r->id_len = pc->len;
		}
	}
}

/*
 * Fills the pieces of record r: the scanner for the common case, jansson
 * for the rest (and for the verdict on a bad line). @return 0 or LING_EDATA.
 */
static int extract(struct worker *w, struct rec *r, const char *line, struct ling_err *err)
{
	const struct dedup *d = w->d;
	unsigned long present = 0;
	size_t root_keys = 0;
	json_t *root;
	int rc;

	w->npieces = 0;
	ling_buf_reset(&w->data);
	if (ling_jsonl_scan(d->paths, line, r->len, &w->scratch, on_piece, w, &present, &root_keys)) {
		r->empty_object = root_keys == 0;
		r->has_dup_of = !!(present & (1UL << d->path_dup_of));
		assemble(w, r, !!(present & 1));
		return 0;
	}
	w->npieces = 0;
	ling_buf_reset(&w->data);
	/* A repeated key is an error, as tokenize has it: what dedup passes, tokenize must take. */
	if ((rc = ling_jsonl_parse(line, r->len, d->sources[r->source], r->lineno,
				   LING_JSONL_OBJECT | LING_JSONL_UNIQUE_KEYS, &root, err)))
		return rc;
	ling_jsonl_walk(root, d->paths, on_piece, w);
	r->empty_object = json_object_size(root) == 0;
	r->has_dup_of = json_object_get(root, "dup_of") != NULL;
	assemble(w, r, json_object_get(root, "messages") != NULL);
	json_decref(root);
	return 0;
}

static void mark_bad(struct rec *r, const struct ling_err *e)
{
	r->status = REC_BAD;
	r->err = xmalloc(sizeof(*r->err));
	*r->err = *e;
}

/* Parses, extracts and hashes record i of the batch. */
static void prepare(struct worker *w, size_t i)
{
	struct dedup *d = w->d;
	struct rec *r = &d->recs[i];
	const char *line = d->lines.data + r->off;
	struct ling_err e;
	XXH128_hash_t h;
	long nsh;

	ling_err_clear(&e);
	d->keyp[i] = NULL;
	memset(&d->exact[i], 0, sizeof(d->exact[i]));
	if (extract(w, r, line, &e)) {
		mark_bad(r, &e);
		return;
	}
	ling_buf_reset(&w->norm);
	if (w->text_len && dedup_normalize_exact(w->hasher, w->text_ptr, w->text_len, &w->norm, &e)) {
		e.line = r->lineno;
		snprintf(e.file, sizeof(e.file), "%s", d->sources[r->source]);
		mark_bad(r, &e);
		return;
	}
	if (w->norm.len == 0) {
		r->status = REC_NO_TEXT;
		h = XXH3_128bits_withSeed(line, r->len, NO_TEXT_SEED);
	} else {
		r->status = REC_TEXT;
		h = XXH3_128bits(w->norm.data, w->norm.len);
		nsh = dedup_signature(w->hasher, w->text_ptr, w->text_len, d->sigs + i * (size_t)d->nperm,
				      d->keys + i * (size_t)d->p.bands, &e);
		r->has_sig = nsh > 0;
		if (r->has_sig)
			d->keyp[i] = d->keys + i * (size_t)d->p.bands;
	}
	d->exact[i].lo = h.low64;
	d->exact[i].hi = h.high64;
}

static void prepare_records(void *ctx, size_t begin, size_t end, size_t chunk, int thread)
{
	struct dedup *d = ctx;

	(void)chunk;
	for (; begin < end; begin++)
		prepare(&d->workers[thread], begin);
}

/* Runs prepare() over the batch on all threads (a small batch on this one). */
static void prepare_batch(struct dedup *d)
{
	ling_pool_for_worker(d->nrecs >= 16 ? d->pool : NULL, d->nrecs, 4, prepare_records, d);
}

/* ---- output ---- */

static void seg_paths(struct dedup *d, uint64_t no)
{
	ling_buf_reset(&d->seg_final);
	ling_buf_addf(&d->seg_final, "%s/part-%08" PRIu64 ".jsonl", d->seg_dir, no);
	ling_buf_reset(&d->seg_tmp);
	ling_buf_addf(&d->seg_tmp, "%s.tmp", d->seg_final.data);
}

static int seg_write(struct dedup *d, const char *line, size_t len, struct ling_err *err)
{
	if (!d->seg) {
		d->seg_no = dedup_state_segment(d->st);
		seg_paths(d, d->seg_no);
		d->seg = fopen(d->seg_tmp.data, "w");
		if (!d->seg)
			return ling_err_at(err, LING_EIO, d->seg_tmp.data, 0, 0, "cannot create: %s", strerror(errno));
	}
	if (fwrite(line, 1, len, d->seg) != len || putc('\n', d->seg) == EOF)
		return ling_err_at(err, LING_EIO, d->seg_tmp.data, 0, 0, "write error: %s", strerror(errno));
	return 0;
}

/* One output record: to the sink, and into the segment (--out's, or the unconfirmed one). */
static int emit(struct dedup *d, const char *line, size_t len, struct ling_err *err)
{
	int rc;

	d->counts.written++;
	if (d->to_sink && (rc = d->sink.emit(d->sink.ctx, line, len, err)))
		return rc;
	return d->seg_dir ? seg_write(d, line, len, err) : 0;
}

/* Closes the open segment, synced. */
static int seg_close(struct dedup *d, struct ling_err *err)
{
	int rc = 0;

	if (fflush(d->seg) || fsync(fileno(d->seg)))
		rc = ling_err_at(err, LING_EIO, d->seg_tmp.data, 0, 0, "cannot write: %s", strerror(errno));
	if (fclose(d->seg) && !rc)
		rc = ling_err_at(err, LING_EIO, d->seg_tmp.data, 0, 0, "cannot close: %s", strerror(errno));
	d->seg = NULL;
	return rc;
}

static void seg_name(struct ling_buf *out, const char *dir, uint64_t no)
{
	ling_buf_reset(out);
	ling_buf_addf(out, "%s/part-%08" PRIu64 ".jsonl", dir, no);
}

/* Removes the unconfirmed segments [first, next) of the state (confirmed now). */
static int remove_unconfirmed(const char *dir, uint64_t first, uint64_t next, struct ling_err *err)
{
	struct ling_buf path = LING_BUF_INIT;
	uint64_t no;
	int rc = 0;

	for (no = first; no < next && !rc; no++) {
		seg_name(&path, dir, no);
		if (unlink(path.data) && errno != ENOENT)
			rc = ling_err_at(err, LING_EIO, path.data, 0, 0, "cannot remove: %s", strerror(errno));
	}
	ling_buf_release(&path);
	if (!rc && first < next)
		rc = ling_fsync_dir(dir, err);
	return rc;
}

/*
 * Output first, then the state: flush (and sync) what was emitted, commit,
 * and only then make a segment visible. A kill between any two steps leaves
 * a state that describes output that is already safe.
 */
static int commit(struct dedup *d, int complete, struct ling_err *err)
{
	uint64_t segments = dedup_state_segment(d->st);
	int have_seg = d->seg != NULL, rc;

	if (d->to_sink && d->sink.flush && (rc = d->sink.flush(d->sink.ctx, dedup_state_durable(d->st), err)))
		return rc;
	if (have_seg) {
		if ((rc = seg_close(d, err)))
			return rc;
		segments = d->seg_no + 1;
	}
	dedup_crash_point("before-commit");
	if ((rc = dedup_state_commit(d->st, segments, complete, err)))
		return rc;
	dedup_crash_point("after-commit");
	d->since_commit = 0;
	if (have_seg) {
		if (rename(d->seg_tmp.data, d->seg_final.data))
			return ling_err_at(err, LING_EIO, d->seg_final.data, 0, 0, "cannot rename into place: %s",
					   strerror(errno));
		if ((rc = ling_fsync_dir(d->seg_dir, err)))
			return rc;
		dedup_crash_point("after-rename");
	}
	if (d->took_unconfirmed) {
		d->took_unconfirmed = 0;
		if ((rc = remove_unconfirmed(d->unc_dir.data, d->unc_first, d->unc_next, err)))
			return rc;
	}
	return 0;
}

/* Whether name is a segment, part-NUMBER.jsonl, finished (*tmp = 0) or temporary (".tmp", *tmp = 1). */
static int parse_segment_name(const char *name, uint64_t *no, int *tmp)
{
	unsigned long long n;
	int end = 0;

	if (strncmp(name, "part-", 5) || !isdigit((unsigned char)name[5]) ||
	    sscanf(name, "part-%llu.jsonl%n", &n, &end) != 1 || end < 19)
		return 0;
	*no = n;
	*tmp = !strcmp(name + end, ".tmp");
	return *tmp || !name[end];
}

/*
 * A finished segment in dir numbered from committed on: no run on this state
 * wrote it (a segment is renamed into place only after its commit). @return
 * 1 with its name in *name, 0 when there is none or dir cannot be read.
 */
static int find_foreign_segment(const char *dir, uint64_t committed, struct ling_buf *name)
{
	struct dirent *de;
	DIR *dd = opendir(dir);
	uint64_t no;
	int tmp, found = 0;

	if (!dd)
		return 0;
	while (!found && (de = readdir(dd)))
		if (parse_segment_name(de->d_name, &no, &tmp) && !tmp && no >= committed) {
			ling_buf_reset(name);
			ling_buf_adds(name, de->d_name);
			found = 1;
		}
	closedir(dd);
	return found;
}

static int foreign_segment_error(const char *dir, const struct ling_buf *name, uint64_t committed,
				 struct ling_err *err)
{
	return ling_err_at(err, LING_ESTORE, dir, 0, 0,
			   "holds %s, which this state did not write (it knows %" PRIu64
			   " segments): give an empty --out directory, or the state that wrote it",
			   name->data, committed);
}

/*
 * Finishes what a killed run left among the segments in dir: a temporary
 * segment the state committed (number below committed) is renamed into
 * place, one it did not commit is removed, and so are segments below first
 * (unconfirmed ones that were confirmed). A finished segment numbered from
 * committed on was not written with this state: it is removed from the
 * state's own directory of unconfirmed segments, but from --out
 * (refuse_foreign) the run is refused before anything is changed.
 */
static int recover_segments(const char *dirpath, uint64_t first, uint64_t committed, int refuse_foreign,
			    struct ling_err *err)
{
	struct ling_buf from = LING_BUF_INIT, to = LING_BUF_INIT;
	struct dirent *de;
	DIR *dir;
	int rc = 0, changed = 0;

	if (mkdir(dirpath, 0777) && errno != EEXIST)
		return ling_err_at(err, LING_EIO, dirpath, 0, 0, "cannot create: %s", strerror(errno));
	if (refuse_foreign && find_foreign_segment(dirpath, committed, &from)) {
		rc = foreign_segment_error(dirpath, &from, committed, err);
		ling_buf_release(&from);
		return rc;
	}
	if (!(dir = opendir(dirpath)))
		return ling_err_at(err, LING_EIO, dirpath, 0, 0, "cannot open: %s", strerror(errno));
	while ((de = readdir(dir)) && !rc) {
		uint64_t no;
		int tmp;

		if (!parse_segment_name(de->d_name, &no, &tmp))
			continue;
		ling_buf_reset(&from);
		ling_buf_addf(&from, "%s/%s", dirpath, de->d_name);
		if (tmp && no >= first && no < committed) {
			ling_buf_reset(&to);
			ling_buf_add(&to, from.data, from.len - 4);
			if (rename(from.data, to.data))
				rc = ling_err_at(err, LING_EIO, from.data, 0, 0, "cannot rename: %s", strerror(errno));
			changed = 1;
		} else if (no >= committed || no < first) {
			if (unlink(from.data))
				rc = ling_err_at(err, LING_EIO, from.data, 0, 0, "cannot remove: %s", strerror(errno));
			changed = 1;
		}
	}
	closedir(dir);
	ling_buf_release(&from);
	ling_buf_release(&to);
	if (!rc && changed)
		rc = ling_fsync_dir(dirpath, err);
	return rc;
}

/*
 * Writes the records of the state's unconfirmed segments again, in order,
 * before anything new: to the sink (a stdout run, where they stay
 * unconfirmed), or into this --out run's segment, whose commit confirms them.
 */
static int reemit_unconfirmed(struct dedup *d, struct ling_err *err)
{
	struct ling_buf path = LING_BUF_INIT;
	uint64_t first, next, records, no;
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	dedup_state_unconfirmed(d->st, &first, &next, &records);
	for (no = first; no < next && !rc; no++) {
		FILE *f;
		ssize_t n;

		seg_name(&path, d->unc_dir.data, no);
		if (!(f = fopen(path.data, "r"))) {
			rc = ling_err_at(err, LING_ESTORE, path.data, 0, 0, "cannot open an unconfirmed segment: %s",
					 strerror(errno));
			break;
		}
		while (!rc && (n = getline(&line, &cap, f)) > 0) {
			if (line[n - 1] == '\n')
				n--;
			rc = d->to_sink ? d->sink.emit(d->sink.ctx, line, (size_t)n, err)
					: seg_write(d, line, (size_t)n, err);
			d->counts.reemitted++;
		}
		if (!rc && ferror(f))
			rc = ling_err_at(err, LING_EIO, path.data, 0, 0, "cannot read: %s", strerror(errno));
		fclose(f);
	}
	free(line);
	ling_buf_release(&path);
	if (!rc && !d->to_sink && first < next) {
		d->took_unconfirmed = 1;
		d->unc_first = first;
		d->unc_next = next;
		rc = dedup_state_confirm(d->st, 0, err);
	}
	return rc;
}

static int dir_exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* The segments of the state and of --out, before the run writes anything. */
static int open_segments(struct dedup *d, const struct dedup_options *opts, struct ling_err *err)
{
	uint64_t first, next, records;
	int rc;

	if (!opts->state_dir || (opts->flags & DEDUP_DRY_RUN))
		return 0;
	ling_buf_addf(&d->unc_dir, "%s/unconfirmed", opts->state_dir);
	dedup_state_unconfirmed(d->st, &first, &next, &records);
	if ((!opts->out_dir || dir_exists(d->unc_dir.data)) &&
	    (rc = recover_segments(d->unc_dir.data, first, next, 0, err)))
		return rc;
	if (opts->out_dir &&
	    (rc = recover_segments(opts->out_dir, 0, dedup_state_segment(d->st), 1, err)))
		return rc;
	d->seg_dir = xstrdup(opts->out_dir ? opts->out_dir : d->unc_dir.data);
	return first < next ? reemit_unconfirmed(d, err) : 0;
}

/* ---- decisions (the calling thread, in input order) ---- */

static const char *kind_name(enum dedup_kind k)
{
	return k == DEDUP_EXACT ? "exact" : "near";
}

/* The earlier record, and (for the dry-run mark) how it matched. */
static void add_dup_of(struct ling_buf *b, const struct dedup_match *m, int with_kind)
{
	ling_buf_addf(b, "{\"run\":%" PRIu64 ",\"source\":", m->dup_run);
	ling_json_add_strz(b, m->dup_source, LING_JSON_MINIMAL);
	ling_buf_addf(b, ",\"line\":%ld,\"id\":", m->dup_line);
	ling_json_add_strz(b, m->dup_id, LING_JSON_MINIMAL);
	if (with_kind) {
		ling_buf_addf(b, ",\"kind\":\"%s\",\"similarity\":", kind_name(m->kind));
		ling_json_add_real_g(b, m->similarity, 4);
	}
	ling_buf_addc(b, '}');
}

void dedup_match_to_json(const struct dedup_match *m, struct ling_buf *out)
{
	ling_buf_adds(out, "{\"source\":");
	ling_json_add_strz(out, m->source, LING_JSON_MINIMAL);
	ling_buf_addf(out, ",\"line\":%ld,\"id\":", m->line);
	ling_json_add_strz(out, m->id, LING_JSON_MINIMAL);
	ling_buf_addf(out, ",\"kind\":\"%s\",\"similarity\":", kind_name(m->kind));
	ling_json_add_real_g(out, m->similarity, 4);
	ling_buf_adds(out, ",\"dup_of\":");
	add_dup_of(out, m, 0);
	ling_buf_addc(out, '}');
}

static int count_equal(const uint32_t *a, const uint32_t *b, int n)
{
	int i, same = 0;

	for (i = 0; i < n; i++)
		same += a[i] == b[i];
	return same;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The earlier record that record i nearly duplicates: the candidate of the
 * highest estimated similarity at or above the threshold, the earliest of
 * equals. @return its ref (0: none), with its similarity in *sim.
 */
static int find_near(struct dedup *d, size_t i, uint64_t *best, double *sim, struct ling_err *err)
{
	const uint32_t *sig = d->sigs + i * (size_t)d->nperm;
	const uint64_t *keys = d->keyp[i];
	const int need = (int)ceil(d->p.threshold * d->nperm - 1e-9);
	size_t n = 0, j, u;
	int b, best_same = -1, rc;

	*best = 0;
	for (b = 0; b < d->p.bands; b++)
		dedup_state_find_bucket(d->st, i, b, keys[b], &d->cands, &n, &d->cands_cap);
	if (!n)
		return 0;
	qsort(d->cands, n, sizeof(uint64_t), cmp_u64);
	for (j = 0, u = 0; j < n; j++)
		if (!u || d->cands[u - 1] != d->cands[j])
			d->cands[u++] = d->cands[j];
	for (j = 0; j < u; j++) {
		struct dedup_doc doc;
		int same;

		if ((rc = dedup_state_doc(d->st, d->cands[j], &doc, err)))
			return rc;
		if (!doc.sig)
			continue;
		d->counts.candidates++;
		same = count_equal(sig, doc.sig, d->nperm);
		if (same < need) {
			d->counts.below_threshold++;
			continue;
		}
		if (same > best_same) {
			best_same = same;
			*best = d->cands[j];
		}
	}
	if (*best)
		*sim = (double)best_same / d->nperm;
	return 0;
}

/* The record with the "dup_of" mark of a dry run. */
static int marked_line(struct dedup *d, const struct rec *r, const struct dedup_match *m, struct ling_err *err)
{
	const char *line = d->lines.data + r->off;
	size_t end = r->len;

	ling_buf_reset(&d->mark);
	if (r->has_dup_of) {
		/* The record has a dup_of already: replace it, re-encoding the record. */
		json_t *root, *v;
		int rc;

		if ((rc = ling_jsonl_parse(line, r->len, d->sources[r->source], r->lineno, LING_JSONL_OBJECT, &root,
					   err)))
			return rc;
		ling_buf_reset(&d->out);
		add_dup_of(&d->out, m, 1);
		v = json_loadb(d->out.data, d->out.len, 0, NULL);
		json_object_set_new(root, "dup_of", v);
		rc = ling_jsonl_dump(root, &d->mark, err);
		json_decref(root);
		if (rc)
			return rc;
		ling_buf_truncate(&d->mark, d->mark.len - 1);
		return 0;
	}
	/* Insert before the closing brace, keeping the record's bytes. */
	while (end > 0 && line[end - 1] != '}')
		end--;
	ling_buf_add(&d->mark, line, end - 1);
	ling_buf_adds(&d->mark, r->empty_object ? "\"dup_of\":" : ",\"dup_of\":");
	add_dup_of(&d->mark, m, 1);
	ling_buf_add(&d->mark, line + end - 1, r->len - (end - 1));
	return 0;
}

static int on_duplicate(struct dedup *d, size_t i, enum dedup_kind kind, uint64_t ref, double sim,
			struct ling_err *err)
{
	struct rec *r = &d->recs[i];
	struct dedup_match m;
	struct dedup_doc doc;
	char *dup_source = NULL, *dup_id = NULL;
	int rc = 0;

	if (kind == DEDUP_EXACT)
		d->counts.exact++;
	else
		d->counts.near++;
	if (!(d->opts.flags & (DEDUP_EXPLAIN | DEDUP_DRY_RUN)))
		return 0;
	if ((rc = dedup_state_doc(d->st, ref, &doc, err)))
		return rc;
	dup_source = xstrndup(doc.source, doc.source_len);
	dup_id = doc.id ? xstrndup(doc.id, doc.id_len) : NULL;
	memset(&m, 0, sizeof(m));
	m.kind = kind;
	m.similarity = sim;
	m.source = d->sources[r->source];
	m.line = r->lineno;
	m.id = r->id;
	m.dup_run = doc.run;
	m.dup_source = dup_source;
	m.dup_line = doc.line;
	m.dup_id = dup_id;
	if ((d->opts.flags & DEDUP_EXPLAIN) && d->sink.explain && (rc = d->sink.explain(d->sink.ctx, &m, err)))
		goto out;
	if (d->opts.flags & DEDUP_DRY_RUN) {
		if (!(rc = marked_line(d, r, &m, err)))
			rc = emit(d, d->mark.data, d->mark.len, err);
	}
out:
	free(dup_source);
	free(dup_id);
	return rc;
}

static int decide(struct dedup *d, size_t i, struct ling_err *err)
{
	struct rec *r = &d->recs[i];
	struct dedup_doc doc;
	uint64_t ref;
	double sim = 1;

	if (r->status == REC_BAD) {
		d->counts.rejected++;
		if (d->sink.bad_record && d->sink.bad_record(d->sink.ctx, r->err)) {
			*err = *r->err;
			err->code = LING_ESTOP;
			return LING_ESTOP;
		}
		return 0;
	}
	if (r->status == REC_NO_TEXT)
		d->counts.no_text++;
	if ((ref = dedup_state_find_exact(d->st, i, &d->exact[i])))
		return on_duplicate(d, i, DEDUP_EXACT, ref, 1, err);
	if (r->has_sig) {
		int rc = find_near(d, i, &ref, &sim, err);

		if (rc)
			return rc;
		if (ref)
			return on_duplicate(d, i, DEDUP_NEAR, ref, sim, err);
	}
	memset(&doc, 0, sizeof(doc));
	doc.line = r->lineno;
	doc.source = d->sources[r->source];
	doc.source_len = strlen(doc.source);
	doc.id = r->id;
	doc.id_len = r->id_len;
	doc.sig = r->has_sig ? d->sigs + i * (size_t)d->nperm : NULL;
	dedup_state_add(d->st, &d->exact[i], d->keyp[i], &doc);
	return emit(d, d->lines.data + r->off, r->len, err);
}

static void batch_reset(struct dedup *d)
{
	size_t i;

	for (i = 0; i < d->nrecs; i++) {
		free(d->recs[i].err);
		free(d->recs[i].id);
	}
	d->nrecs = 0;
	ling_buf_reset(&d->lines);
}

static int process_batch(struct dedup *d, struct ling_err *err)
{
	size_t i;
	int rc = 0;

	if (!d->nrecs)
		return 0;
	prepare_batch(d);
	if ((rc = dedup_state_prefetch(d->st, d->nrecs, d->exact, d->keyp, err)))
		goto out;
	for (i = 0; i < d->nrecs && !rc; i++)
		rc = decide(d, i, err);
	if (rc)
		goto out;
	dedup_crash_point("after-emit");
	d->since_commit += (long)d->nrecs;
	if (d->to_sink && d->sink.flush && (rc = d->sink.flush(d->sink.ctx, 0, err)))
		goto out;
	if (d->since_commit >= d->commit_every)
		rc = commit(d, 0, err);
out:
	batch_reset(d);
	return rc;
}

/* ---- the run ---- */

static const char *const default_paths[4] = { "messages[].content", "messages[].tool_calls[].function.name",
					      "tools[].function.name", "text" };

static int compile_paths(struct dedup *d, const struct dedup_options *opts, struct ling_err *err)
{
	const char *paths[LING_JSONL_MAX_PATHS];
	size_t n = 0, i;

	if (opts->nfields > LING_JSONL_MAX_PATHS - 2)
		return ling_err_set(err, LING_EUSAGE, "at most %d fields", LING_JSONL_MAX_PATHS - 2);
	d->default_fields = opts->nfields == 0;
	if (d->default_fields)
		for (i = 0; i < 4; i++)
			paths[n++] = default_paths[i];
	for (i = 0; i < opts->nfields; i++)
		paths[n++] = opts->fields[i];
	d->ntext = n;
	d->path_id = n;
	paths[n++] = "id";
	d->path_dup_of = n;
	paths[n++] = "dup_of";
	return ling_jsonl_paths_new(&d->paths, paths, n, err);
}

/* A state about to be made knows no segment: --out must not hold any (touch nothing if it does). */
static int check_new_out_dir(const struct dedup_options *opts, struct ling_err *err)
{
	struct ling_buf current = LING_BUF_INIT, name = LING_BUF_INIT;
	struct stat sb;
	int rc = 0;

	if (!opts->out_dir)
		return 0;
	ling_buf_addf(&current, "%s/CURRENT", opts->state_dir);
	if (stat(current.data, &sb) && find_foreign_segment(opts->out_dir, 0, &name))
		rc = foreign_segment_error(opts->out_dir, &name, 0, err);
	ling_buf_release(&current);
	ling_buf_release(&name);
	return rc;
}

static int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > DEDUP_MAX_THREADS ? DEDUP_MAX_THREADS : (int)n;
}

int dedup_open(struct dedup **out, const struct dedup_options *opts, const struct dedup_sink *sink,
	       struct ling_err *err)
{
	struct dedup *d;
	int rc, t;

	*out = NULL;
	if ((rc = dedup_params_check(&opts->params, err)))
		return rc;
	if (opts->out_dir && (!opts->state_dir || (opts->flags & DEDUP_DRY_RUN)))
		return ling_err_set(err, LING_EUSAGE, "--out needs --state, and no --dry-run");
	if (!opts->out_dir && (!sink || !sink->emit))
		return ling_err_set(err, LING_EUSAGE, "no output: give a sink or an output directory");
	if (opts->threads < 0 || opts->threads > DEDUP_MAX_THREADS)
		return ling_err_set(err, LING_EUSAGE, "--threads must be between 1 and %d", DEDUP_MAX_THREADS);
	if (opts->commit_every < 0)
		return ling_err_set(err, LING_EUSAGE, "--commit-every must be at least 1");
	d = xcalloc(1, sizeof(*d));
	d->opts = *opts;
	if (sink)
		d->sink = *sink;
	d->p = opts->params;
	d->nperm = d->p.bands * d->p.rows;
	d->nthreads = opts->threads ? opts->threads : online_cpus();
	d->commit_every = opts->commit_every ? opts->commit_every : DEDUP_COMMIT_EVERY;
	d->batch_max = d->commit_every < DEDUP_BATCH ? (size_t)d->commit_every : DEDUP_BATCH;
	if ((rc = compile_paths(d, opts, err)))
		goto fail;
	d->recs = xcalloc(d->batch_max, sizeof(*d->recs));
	d->sigs = xmalloc(d->batch_max * (size_t)d->nperm * sizeof(uint32_t));
	d->keys = xmalloc(d->batch_max * (size_t)d->p.bands * sizeof(uint64_t));
	d->keyp = xcalloc(d->batch_max, sizeof(*d->keyp));
	d->exact = xcalloc(d->batch_max, sizeof(*d->exact));
	d->workers = xcalloc((size_t)d->nthreads, sizeof(*d->workers));
	for (t = 0; t < d->nthreads; t++) {
		d->workers[t].d = d;
		d->workers[t].hasher = dedup_hasher_new(&d->p);
	}
	d->pool = d->nthreads > 1 ? ling_pool_new(d->nthreads) : NULL;
	d->to_sink = !opts->out_dir;
	if ((rc = check_new_out_dir(opts, err)))
		goto fail;
	if ((rc = dedup_state_open(&d->st, opts->state_dir,
				   (opts->flags & DEDUP_DRY_RUN)	 ? DEDUP_STATE_READONLY
				   : opts->state_dir && !opts->out_dir ? DEDUP_STATE_UNCONFIRMED
									 : 0,
				   &d->p, err)))
		goto fail;
	if ((rc = open_segments(d, opts, err)))
		goto fail;
	d->counts.run = dedup_state_run(d->st);
	d->counts.state_records = dedup_state_records(d->st);
	*out = d;
	return 0;
fail:
	dedup_close(d);
	return rc;
}

static size_t intern_source(struct dedup *d, const char *source)
{
	if (d->nsources && !strcmp(d->sources[d->nsources - 1], source))
		return d->nsources - 1;
	d->sources = xgrow(d->sources, &d->sources_cap, d->nsources + 1, sizeof(*d->sources));
	d->sources[d->nsources] = xstrdup(source);
	return d->nsources++;
}

int dedup_record(struct dedup *d, const char *line, size_t len, const char *source, long lineno,
		 struct ling_err *err)
{
	struct rec *r = &d->recs[d->nrecs++];
	int rc = 0;

	memset(r, 0, sizeof(*r));
	r->off = d->lines.len;
	r->len = len;
	r->lineno = lineno;
	r->source = intern_source(d, source ? source : "-");
	ling_buf_add(&d->lines, line, len);
	d->counts.read++;
	if (d->nrecs == d->batch_max)
		rc = process_batch(d, err);
	d->counts.state_records = dedup_state_records(d->st);
	return rc;
}

int dedup_finish(struct dedup *d, struct ling_err *err)
{
	int rc = process_batch(d, err);

	/* Always: the last commit also marks the run complete. */
	if (!rc)
		rc = commit(d, 1, err);
	d->counts.state_records = dedup_state_records(d->st);
	return rc;
}

void dedup_position_set(struct dedup *d, const char *name, const char *value)
{
	if (dedup_state_durable(d->st))
		dedup_state_put_position(d->st, name, value);
}

int dedup_position_get(struct dedup *d, const char *name, struct ling_buf *out, struct ling_err *err)
{
	if (!dedup_state_durable(d->st))
		return 0;
	return dedup_state_get_position(d->st, name, out, err);
}

int dedup_confirm(const char *state_dir, uint64_t *records, struct ling_err *err)
{
	struct dedup_state *st = NULL;
	struct dedup_params p;
	struct ling_buf dir = LING_BUF_INIT;
	uint64_t first, next;
	int rc;

	*records = 0;
	dedup_params_default(&p);
	ling_buf_addf(&dir, "%s/CURRENT", state_dir);
	rc = access(dir.data, F_OK);
	ling_buf_release(&dir);
	if (rc)
		return ling_err_at(err, LING_ESTORE, state_dir, 0, 0, "no such state");
	if ((rc = dedup_state_open(&st, state_dir, DEDUP_STATE_ANY_PARAMS, &p, err)))
		return rc;
	dedup_state_unconfirmed(st, &first, &next, records);
	ling_buf_addf(&dir, "%s/unconfirmed", state_dir);
	if (first < next && !(rc = dedup_state_confirm(st, 1, err)))
		rc = remove_unconfirmed(dir.data, first, next, err);
	ling_buf_release(&dir);
	dedup_state_close(st);
	return rc;
}

const struct dedup_counts *dedup_counts(const struct dedup *d)
{
	return &d->counts;
}

void dedup_close(struct dedup *d)
{
	size_t i;
	int t;

	if (!d)
		return;
	batch_reset(d);
	if (d->seg) {
		/* Never committed (a failed run; a killed one leaves it to the next open). */
		fclose(d->seg);
		unlink(d->seg_tmp.data);
	}
	dedup_state_close(d->st);
	ling_jsonl_paths_free(d->paths);
	if (d->workers) {
		for (t = 0; t < d->nthreads; t++) {
			dedup_hasher_free(d->workers[t].hasher);
			ling_buf_release(&d->workers[t].text);
			ling_buf_release(&d->workers[t].norm);
			ling_buf_release(&d->workers[t].scratch);
			ling_buf_release(&d->workers[t].data);
			free(d->workers[t].pieces);
		}
	}
	ling_pool_free(d->pool);
	free(d->workers);
	ling_buf_release(&d->lines);
	free(d->recs);
	free(d->sigs);
	free(d->keys);
	free(d->keyp);
	free(d->exact);
	for (i = 0; i < d->nsources; i++)
		free(d->sources[i]);
	free(d->sources);
	free(d->cands);
	ling_buf_release(&d->out);
	ling_buf_release(&d->mark);
	free(d->seg_dir);
	ling_buf_release(&d->unc_dir);
	ling_buf_release(&d->seg_tmp);
	ling_buf_release(&d->seg_final);
	free(d);
}
