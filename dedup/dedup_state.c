/*
 * The dedup state: RocksDB below, this run's uncommitted records in hash
 * tables above (see dedup_internal.h for the key layout). This module is
 * dedup's only user of common/ling_rocksdb.
 *
 * Memory stays bounded by the commit interval: the tables hold only what was
 * kept since the last commit, and a commit moves it into RocksDB, whose
 * memtables and block cache have fixed sizes. Lookups for a batch are one
 * batched MultiGet of sorted keys (bloom filters answer most of them, which
 * are misses). A commit writes its keys in order, into one WriteBatch when
 * small, else into one SST file that is ingested: either is atomic.
 */
#include "dedup_internal.h"

#include "../common/ling_bytes.h"
#include "../common/ling_file.h"
#include "../common/ling_num.h"
#include "../common/ling_idmap.h"
#include "../common/ling_mem.h"
#include "../common/ling_rocksdb.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/banned.h"

#define TAG_BUCKET 'B'
#define TAG_DOC 'D'
#define TAG_EXACT 'E'
#define TAG_META 'M'

#define EXACT_KEY_LEN 17
#define BUCKET_KEY_LEN 9
#define DOC_KEY_LEN 9

#define DOC_HAS_ID 1
#define DOC_HAS_SIG 2

#define HASH_ALGORITHM "mas32-xxh3"

struct ref_range {
	uint64_t lo, hi; /* [lo, hi) */
};

/* A (key, ref) pair of the prefetch and commit sorts. */
struct bucket_ent {
	uint64_t key, ref;
};

/* A record kept since the last commit; strings and signature in the arenas. */
struct pdoc {
	uint64_t run;
	long line;
	size_t src_off, src_len, id_off, id_len, sig_off;
	uint64_t exact_hi;  /* the high half of its exact hash (the exact table keys the low half) */
	unsigned char flags;
};

struct dedup_state {
	struct ling_rocksdb *db;
	char *dir;
	int readonly;
	struct dedup_params p;
	int nperm;

	uint64_t run;       /* this run */
	uint64_t next_ref;  /* the ref the next kept record gets */
	uint64_t base_ref;  /* the first ref not committed (held in the tables) */
	uint64_t segments;  /* committed --out segments */
	uint64_t run_first_ref; /* the first ref of this run */
	int provisional;    /* this run's commits count only once it completes (states of earlier versions) */
	int unconfirmed;    /* a stdout run: its segments are the unconfirmed ones, not --out's */
	int any_params;     /* take the stored parameters (--confirm) */
	uint64_t unc_first, unc_next, unc_records; /* meta "unconfirmed" */
	char **pos_name, **pos_value; /* input positions written with every commit, sorted by name */
	size_t npos, pos_cap;
	struct ref_range *dead; /* refs of runs that were killed before they completed */
	size_t ndead;
	uint64_t dead_total;

	/*
	 * The records since the last commit: exact hash lo -> ref (hi in the
	 * record), and bucket key -> ref per band (a multimap). Refs start at
	 * 1, so value 0 marks empty slots and any key fits.
	 */
	struct ling_idmap ex;
	struct ling_idmap bk;
	struct pdoc *docs;
	size_t docs_n, docs_cap;
	uint32_t *sigs;
	size_t sigs_n, sigs_cap;
	struct ling_buf strs;
	size_t last_src_off, last_src_len; /* the source name last interned */

	/* The prefetched batch: exact refs, and per (record, band) a run of pf_refs. */
	size_t pf_n;
	int pf_valid;
	uint64_t *pf_exact;
	size_t pf_exact_cap;
	uint32_t *pf_off, *pf_cnt;
	size_t pf_off_cap, pf_cnt_cap;
	uint64_t *pf_refs;
	size_t pf_refs_n, pf_refs_cap;
	char *pf_keys;
	size_t pf_keys_cap;
	const char **pf_kptr;
	size_t *pf_klen;
	size_t pf_kptr_cap, pf_klen_cap;
	size_t *pf_slot; /* for each key, the record's band slot (i*bands+b), or SIZE_MAX - i for an exact key */
	size_t pf_slot_cap;
	struct bucket_ent *pf_sort, *pf_tmp; /* (key, slot) pairs, sorted */
	size_t pf_sort_cap, pf_tmp_cap;

	/* A record read back from RocksDB. */
	struct ling_buf docval;
	uint32_t *docsig;
};

/* ---- encoding ---- */

static void add_varint(struct ling_buf *b, uint64_t v)
{
	while (v >= 0x80) {
		ling_buf_addc(b, (char)(v | 0x80));
		v >>= 7;
	}
	ling_buf_addc(b, (char)v);
}

/* @return 0, or -1 when the bytes end first. */
static int get_varint(const unsigned char **p, const unsigned char *end, uint64_t *out)
{
	uint64_t v = 0;
	int shift = 0;

	while (*p < end && shift < 64) {
		unsigned char c = *(*p)++;

		v |= (uint64_t)(c & 0x7F) << shift;
		if (!(c & 0x80)) {
			*out = v;
			return 0;
		}
		shift += 7;
	}
	return -1;
}

static void exact_key(unsigned char *k, const struct dedup_hash128 *h)
{
	k[0] = TAG_EXACT;
	ling_put_be64(k + 1, h->hi);
	ling_put_be64(k + 9, h->lo);
}

/* ---- meta ---- */

static void params_string(const struct dedup_params *p, struct ling_buf *out)
{
	ling_buf_addf(out, "ngram=%d bands=%d rows=%d threshold=%g hash=%s seed=%016llx", p->ngram, p->bands,
		      p->rows, p->threshold, HASH_ALGORITHM, (unsigned long long)DEDUP_SEED);
}

/* @return 1 found (value in out), 0 not, or LING_ESTORE. */
static int meta_get(struct dedup_state *st, const char *name, struct ling_buf *out, struct ling_err *err)
{
	return ling_rocksdb_get_named(st->db, TAG_META, name, out, "cannot read the state", err);
}

static int meta_get_u64(struct dedup_state *st, const char *name, uint64_t *out, struct ling_err *err)
{
	struct ling_buf v = LING_BUF_INIT;
	long long n;
	int rc = meta_get(st, name, &v, err);

	if (rc == 1) {
		rc = 0;
		if (ling_parse_long(v.data, 0, LLONG_MAX, &n))
			rc = ling_err_at(err, LING_ESTORE, st->dir, 0, 0, "corrupt state: bad meta value %s", name);
		else
			*out = (uint64_t)n;
	} else if (rc == 0) {
		rc = ling_err_at(err, LING_ESTORE, st->dir, 0, 0, "corrupt state: no meta value %s", name);
	}
	ling_buf_release(&v);
	return rc;
}

static void batch_meta(struct ling_rocksdb_writer *wb, const char *name, const char *value)
{
	struct ling_buf key = LING_BUF_INIT;

	ling_buf_addc(&key, TAG_META);
	ling_buf_adds(&key, name);
	ling_rocksdb_put_to(wb, key.data, key.len, value, strlen(value));
	ling_buf_release(&key);
}

static void batch_meta_u64(struct ling_rocksdb_writer *wb, const char *name, uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRIu64, v);
	batch_meta(wb, name, s);
}

/* ---- runs that did not complete ---- */

static void dead_add(struct dedup_state *st, uint64_t lo, uint64_t hi)
{
	if (lo >= hi)
		return;
	st->dead = xrealloc(st->dead, (st->ndead + 1) * sizeof(*st->dead));
	st->dead[st->ndead].lo = lo;
	st->dead[st->ndead++].hi = hi;
	st->dead_total += hi - lo;
}

static int is_dead(const struct dedup_state *st, uint64_t ref)
{
	size_t i;

	for (i = 0; i < st->ndead; i++)
		if (ref >= st->dead[i].lo && ref < st->dead[i].hi)
			return 1;
	return 0;
}

/* "lo-hi,lo-hi": the dead ranges as meta "dead" holds them. @return 0 or -1. */
static int dead_parse(struct dedup_state *st, const char *s)
{
	while (*s) {
		unsigned long long lo, hi;
		int n = 0;

		if (sscanf(s, "%llu-%llu%n", &lo, &hi, &n) != 2 || n == 0)
			return -1;
		dead_add(st, lo, hi);
		s += n;
		if (*s == ',')
			s++;
	}
	return 0;
}

static void dead_format(const struct dedup_state *st, struct ling_buf *out)
{
	size_t i;

	for (i = 0; i < st->ndead; i++)
		ling_buf_addf(out, "%s%" PRIu64 "-%" PRIu64, i ? "," : "", st->dead[i].lo, st->dead[i].hi);
	if (!out->data)
		ling_buf_adds(out, "");
}

/*
 * Meta "open" is "-" between runs, and "RUN FIRST_REF p|f" while a run that
 * has committed has not completed: p for a run writing to a sink (stdout),
 * whose output may not have reached anyone; f for --out, whose segments are
 * committed with the state. A run left open with p was killed: its records
 * are dead from now on (the next runs write them again, at least once); one
 * left open with f counts as it is.
 */
static int check_open_run(struct dedup_state *st, struct ling_err *err)
{
	struct ling_buf v = LING_BUF_INIT, dead = LING_BUF_INIT;
	unsigned long long run, first;
	char mode;
	int rc;

	rc = meta_get(st, "dead", &v, err);
	if (rc < 0)
		goto out;
	if (rc == 1 && dead_parse(st, v.data)) {
		rc = ling_err_at(err, LING_ESTORE, st->dir, 0, 0, "corrupt state: bad meta value dead");
		goto out;
	}
	rc = meta_get(st, "open", &v, err);
	if (rc <= 0 || !strcmp(v.data, "-"))
		goto out;
	if (sscanf(v.data, "%llu %llu %c", &run, &first, &mode) != 3 || (mode != 'p' && mode != 'f')) {
		rc = ling_err_at(err, LING_ESTORE, st->dir, 0, 0, "corrupt state: bad meta value open");
		goto out;
	}
	if (mode == 'p')
		dead_add(st, first, st->next_ref);
	rc = 0;
	if (!st->readonly) {
		struct ling_rocksdb_writer *wb = ling_rocksdb_batch_new(st->db);

		dead_format(st, &dead);
		batch_meta(wb, "dead", dead.data);
		batch_meta(wb, "open", "-");
		rc = ling_rocksdb_writer_close(st->db, wb, "cannot update the state", err);
	}
out:
	ling_buf_release(&v);
	ling_buf_release(&dead);
	return rc < 0 ? rc : 0;
}

/* Meta "unconfirmed" is "FIRST NEXT RECORDS"; a state of an earlier version has none (0 0 0). */
static int read_unconfirmed(struct dedup_state *st, struct ling_err *err)
{
	struct ling_buf v = LING_BUF_INIT;
	unsigned long long first, next, records;
	int rc = meta_get(st, "unconfirmed", &v, err);

	if (rc == 1) {
		rc = 0;
		if (sscanf(v.data, "%llu %llu %llu", &first, &next, &records) != 3 || first > next)
			rc = ling_err_at(err, LING_ESTORE, st->dir, 0, 0, "corrupt state: bad meta value unconfirmed");
		st->unc_first = first;
		st->unc_next = next;
		st->unc_records = records;
	}
	ling_buf_release(&v);
	return rc;
}

static void unconfirmed_format(const struct dedup_state *st, uint64_t next, uint64_t records, char *out,
			       size_t cap)
{
	snprintf(out, cap, "%" PRIu64 " %" PRIu64 " %" PRIu64, st->unc_first, next, records);
}

static int check_meta(struct dedup_state *st, struct ling_err *err)
{
	struct ling_buf v = LING_BUF_INIT, want = LING_BUF_INIT;
	long long version;
	uint64_t runs = 0;
	int rc;

	params_string(&st->p, &want);
	rc = meta_get(st, "format", &v, err);
	if (rc < 0)
		goto out;
	if (rc == 0) {
		struct ling_rocksdb_writer *wb;
		char vs[16];

		if (st->readonly) {
			rc = ling_err_at(err, LING_ESTORE, st->dir, 0, 0, "not a dedup state (no format version)");
			goto out;
		}
		/* A new state: format, parameters and counters in one batch. */
		snprintf(vs, sizeof(vs), "%d", DEDUP_FORMAT_VERSION);
		wb = ling_rocksdb_batch_new(st->db);
		batch_meta(wb, "format", vs);
		batch_meta(wb, "params", want.data);
		batch_meta_u64(wb, "runs", 0);
		batch_meta_u64(wb, "refs", 1);
		batch_meta_u64(wb, "segments", 0);
		batch_meta(wb, "open", "-");
		batch_meta(wb, "dead", "");
		batch_meta(wb, "unconfirmed", "0 0 0");
		rc = ling_rocksdb_writer_close(st->db, wb, "cannot initialise the state", err);
		if (rc)
			goto out;
		st->next_ref = 1;
		st->run = 1;
		goto out;
	}
	if (ling_parse_long(v.data, 0, 1 << 30, &version) || version > DEDUP_FORMAT_VERSION) {
		rc = ling_err_at(err, LING_ESTORE, st->dir, 0, 0,
				 "state format %s is newer than this dedup (%d); upgrade ling", v.data,
				 DEDUP_FORMAT_VERSION);
		goto out;
	}
	rc = meta_get(st, "params", &v, err);
	if (rc < 0)
		goto out;
	if (rc == 0) {
		rc = ling_err_at(err, LING_ESTORE, st->dir, 0, 0, "not a dedup state (no parameters; a KG store?)");
		goto out;
	}
	if (strcmp(v.data, want.data) && !st->any_params) {
		rc = ling_err_at(err, LING_ESTORE, st->dir, 0, 0,
				 "the state was made with other parameters (%s) than this run's (%s); give the same "
				 "--ngram, --bands, --rows and --threshold, or use a new state",
				 v.data, want.data);
		goto out;
	}
	if ((rc = meta_get_u64(st, "runs", &runs, err)) || (rc = meta_get_u64(st, "refs", &st->next_ref, err)) ||
	    (rc = meta_get_u64(st, "segments", &st->segments, err)))
		goto out;
	if (st->next_ref < 1) {
		rc = ling_err_at(err, LING_ESTORE, st->dir, 0, 0, "corrupt state: refs is 0");
		goto out;
	}
	if ((rc = read_unconfirmed(st, err)))
		goto out;
	st->run = runs + 1;
	rc = check_open_run(st, err);
out:
	ling_buf_release(&v);
	ling_buf_release(&want);
	return rc;
}

/* ---- open and close ---- */

/*
 * A state being made, or whose making was killed, holds RocksDB's LOG (made
 * first) or LOCK but no CURRENT yet: RocksDB's open decides (it fails on
 * the lock, or takes over what a killed run left).
 */
static int being_made(const char *dir)
{
	static const char *const first_files[] = { "LOCK", "LOG" };
	struct ling_buf path = LING_BUF_INIT;
	struct stat sb;
	size_t i;
	int found = 0;

	for (i = 0; i < 2 && !found; i++) {
		ling_buf_reset(&path);
		ling_buf_addf(&path, "%s/%s", dir, first_files[i]);
		found = stat(path.data, &sb) == 0 && S_ISREG(sb.st_mode);
	}
	ling_buf_release(&path);
	return found;
}

static int locked_error(const struct dedup_state *st, struct ling_err *err)
{
	return ling_err_at(err, LING_ESTORE, st->dir, 0, 0,
			   "the state is locked by another dedup (%s/LOCK); wait for it to end", st->dir);
}

static int open_db(struct dedup_state *st, struct ling_err *err)
{
	/*
	 * Bucket values are lists of 8-byte refs, merged by appending. Hashes
	 * and signatures do not compress: no compression. Fixed memory: two
	 * 64 MiB memtables and a 64 MiB block cache. Most lookups miss, and a
	 * bloom filter answers them. A full disk keeps RocksDB's wording
	 * ("No space left on device"), which dedup(1) quotes.
	 */
	struct ling_rocksdb_opts opts = { st->readonly ? LING_ROCKSDB_READONLY : LING_ROCKSDB_CREATE,
					  LING_ROCKSDB_MERGE_APPEND, 64 << 20, 64 << 20, 10 };
	struct stat sb;
	int rc;

	if (stat(st->dir, &sb) != 0) {
		if (st->readonly)
			return ling_err_at(err, LING_EIO, st->dir, 0, 0, "no such state (a dry run does not make one)");
	} else if (!S_ISDIR(sb.st_mode)) {
		return ling_err_at(err, LING_EIO, st->dir, 0, 0, "not a directory");
	}
	if (ling_rocksdb_lock_held(st->dir))
		return locked_error(st, err);
	if (ling_dir_is_foreign(st->dir, "CURRENT") && !being_made(st->dir))
		return ling_err_at(err, LING_ESTORE, st->dir, 0, 0,
				   "not a dedup state (the directory holds other files)");
	rc = ling_rocksdb_open(&st->db, st->dir, &opts, "cannot open the state", err);
	if (rc == LING_ROCKSDB_LOCKED)
		return locked_error(st, err);
	if (rc)
		return rc;
	if (!st->readonly)
		ling_dir_remove_prefixed(st->dir, "ling-dedup-ingest-"); /* a commit killed before ingestion */
	return check_meta(st, err);
}

int dedup_state_open(struct dedup_state **out, const char *dir, unsigned flags, const struct dedup_params *p,
		     struct ling_err *err)
{
	static const struct ling_idmap_opts exact_opts = { LING_IDMAP_HASH_IDENTITY, LING_IDMAP_VAL0_EMPTY, 1024, 1, 2 };
	static const struct ling_idmap_opts bucket_opts = { LING_IDMAP_HASH_MID, LING_IDMAP_VAL0_EMPTY, 4096, 2, 3 };
	struct dedup_state *st = xcalloc(1, sizeof(*st));
	int rc;

	*out = NULL;
	/* Loads 1/2 (exact) and 2/3 (buckets) keep probe runs short; the exact lo is already a hash. */
	ling_idmap_init(&st->ex, &exact_opts);
	ling_idmap_init(&st->bk, &bucket_opts);
	st->p = *p;
	st->nperm = p->bands * p->rows;
	st->readonly = !!(flags & DEDUP_STATE_READONLY);
	st->provisional = !!(flags & DEDUP_STATE_PROVISIONAL);
	st->unconfirmed = !!(flags & DEDUP_STATE_UNCONFIRMED);
	st->any_params = !!(flags & DEDUP_STATE_ANY_PARAMS);
	st->next_ref = 1;
	st->run = 1;
	if (dir) {
		st->dir = xstrdup(dir);
		if ((rc = open_db(st, err))) {
			if (!err->file[0])
				snprintf(err->file, sizeof(err->file), "%s", dir);
			dedup_state_close(st);
			return rc;
		}
	}
	st->base_ref = st->next_ref;
	st->run_first_ref = st->next_ref;
	*out = st;
	return 0;
}

void dedup_state_close(struct dedup_state *st)
{
	if (!st)
		return;
	ling_rocksdb_close(st->db);
	free(st->dir);
	while (st->npos--) {
		free(st->pos_name[st->npos]);
		free(st->pos_value[st->npos]);
	}
	free(st->pos_name);
	free(st->pos_value);
	free(st->dead);
	ling_idmap_release(&st->ex);
	ling_idmap_release(&st->bk);
	free(st->docs);
	free(st->sigs);
	ling_buf_release(&st->strs);
	free(st->pf_exact);
	free(st->pf_off);
	free(st->pf_cnt);
	free(st->pf_refs);
	free(st->pf_keys);
	free(st->pf_kptr);
	free(st->pf_klen);
	free(st->pf_slot);
	free(st->pf_sort);
	free(st->pf_tmp);
	ling_buf_release(&st->docval);
	free(st->docsig);
	free(st);
}

uint64_t dedup_state_run(const struct dedup_state *st)
{
	return st->run;
}

uint64_t dedup_state_records(const struct dedup_state *st)
{
	return st->next_ref - 1 - st->dead_total;
}

uint64_t dedup_state_segment(const struct dedup_state *st)
{
	return st->unconfirmed ? st->unc_next : st->segments;
}

void dedup_state_unconfirmed(const struct dedup_state *st, uint64_t *first, uint64_t *next, uint64_t *records)
{
	*first = st->unc_first;
	*next = st->unc_next;
	*records = st->unc_records;
}

const char *dedup_state_dir(const struct dedup_state *st)
{
	return st->dir;
}

int dedup_state_confirm(struct dedup_state *st, int now, struct ling_err *err)
{
	struct ling_rocksdb_writer *wb;
	char v[72];

	st->unc_first = st->unc_next;
	st->unc_records = 0;
	if (!now || !dedup_state_durable(st))
		return 0;
	unconfirmed_format(st, st->unc_next, 0, v, sizeof(v));
	wb = ling_rocksdb_batch_new(st->db);
	batch_meta(wb, "unconfirmed", v);
	return ling_rocksdb_writer_close(st->db, wb, "cannot update the state", err);
}

int dedup_state_durable(const struct dedup_state *st)
{
	return st->db && !st->readonly;
}

/* ---- the tables of uncommitted records ---- */

static void tables_clear(struct dedup_state *st)
{
	ling_idmap_clear(&st->ex);
	ling_idmap_clear(&st->bk);
	st->docs_n = st->sigs_n = 0;
	ling_buf_reset(&st->strs);
	st->last_src_len = 0;
	st->last_src_off = 0;
}

/* LSD radix sort of n (key, ref) pairs by key, through tmp (n pairs). */
static void radix_sort(struct bucket_ent *a, struct bucket_ent *tmp, size_t n)
{
	size_t count[256], i;
	int shift;

	for (shift = 0; shift < 64; shift += 8) {
		size_t sum = 0;
		struct bucket_ent *t;

		memset(count, 0, sizeof(count));
		for (i = 0; i < n; i++)
			count[(a[i].key >> shift) & 0xFF]++;
		for (i = 0; i < 256; i++) {
			size_t c = count[i];

			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			tmp[count[(a[i].key >> shift) & 0xFF]++] = a[i];
		t = a;
		a = tmp;
		tmp = t;
	}
	/* Eight passes: the sorted pairs are back in the first array. */
}

/* ---- lookups ---- */

/* ling_rocksdb_multi_get callback: key k of the prefetch found value v. */
static int prefetched(void *ctx, size_t k, const char *v, size_t vlen, struct ling_err *err)
{
	struct dedup_state *st = ctx;

	if (st->pf_slot[k] >= SIZE_MAX - st->pf_n) {
		if (vlen != 8)
			return ling_err_at(err, LING_ESTORE, st->dir, 0, 0, "corrupt state: bad exact entry");
		st->pf_exact[SIZE_MAX - st->pf_slot[k]] = ling_get_be64((const unsigned char *)v);
	} else {
		size_t cnt = vlen / 8, r;

		st->pf_refs = xgrow(st->pf_refs, &st->pf_refs_cap, st->pf_refs_n + cnt, sizeof(uint64_t));
		st->pf_off[st->pf_slot[k]] = (uint32_t)st->pf_refs_n;
		st->pf_cnt[st->pf_slot[k]] = (uint32_t)cnt;
		for (r = 0; r < cnt; r++)
			st->pf_refs[st->pf_refs_n++] = ling_get_be64((const unsigned char *)v + 8 * r);
	}
	return 0;
}

int dedup_state_prefetch(struct dedup_state *st, size_t n, const struct dedup_hash128 *exact,
			 const uint64_t *const *keys, struct ling_err *err)
{
	const size_t nb = (size_t)st->p.bands;
	size_t nkeys = 0, i, b, k, j;
	unsigned char *kp;
	int rc = 0;

	st->pf_valid = 0;
	st->pf_n = n;
	st->pf_refs_n = 0;
	st->pf_exact = xgrow(st->pf_exact, &st->pf_exact_cap, n ? n : 1, sizeof(uint64_t));
	st->pf_off = xgrow(st->pf_off, &st->pf_off_cap, n * nb + 1, sizeof(uint32_t));
	st->pf_cnt = xgrow(st->pf_cnt, &st->pf_cnt_cap, n * nb + 1, sizeof(uint32_t));
	memset(st->pf_exact, 0, n * sizeof(uint64_t));
	memset(st->pf_cnt, 0, n * nb * sizeof(uint32_t));
	/* Nothing committed yet (or in memory): every lookup would miss. */
	if (!st->db || st->base_ref == 1)
		goto done;
	for (i = 0; i < n; i++)
		nkeys += 1 + (keys[i] ? nb : 0);
	st->pf_keys = xgrow(st->pf_keys, &st->pf_keys_cap, nkeys * EXACT_KEY_LEN, 1);
	st->pf_kptr = xgrow(st->pf_kptr, &st->pf_kptr_cap, nkeys, sizeof(*st->pf_kptr));
	st->pf_klen = xgrow(st->pf_klen, &st->pf_klen_cap, nkeys, sizeof(size_t));
	st->pf_slot = xgrow(st->pf_slot, &st->pf_slot_cap, nkeys, sizeof(size_t));
	st->pf_sort = xgrow(st->pf_sort, &st->pf_sort_cap, nkeys, sizeof(*st->pf_sort));
	st->pf_tmp = xgrow(st->pf_tmp, &st->pf_tmp_cap, nkeys, sizeof(*st->pf_tmp));
	/* The keys go in sorted (buckets, then exact hashes): MultiGet need not sort them. */
	for (i = 0, k = 0; i < n; i++) {
		if (!keys[i])
			continue;
		for (b = 0; b < nb; b++) {
			st->pf_sort[k].key = keys[i][b];
			st->pf_sort[k++].ref = i * nb + b;
		}
	}
	radix_sort(st->pf_sort, st->pf_tmp, k);
	kp = (unsigned char *)st->pf_keys;
	for (j = 0; j < k; j++) {
		kp[0] = TAG_BUCKET;
		ling_put_be64(kp + 1, st->pf_sort[j].key);
		st->pf_kptr[j] = (const char *)kp;
		st->pf_klen[j] = BUCKET_KEY_LEN;
		st->pf_slot[j] = st->pf_sort[j].ref;
		kp += BUCKET_KEY_LEN;
	}
	for (i = 0; i < n; i++) {
		st->pf_sort[i].key = exact[i].hi;
		st->pf_sort[i].ref = i;
	}
	radix_sort(st->pf_sort, st->pf_tmp, n);
	for (i = 1; i < n; i++) {
		for (j = i; j > 0 && st->pf_sort[j].key == st->pf_sort[j - 1].key &&
			    exact[st->pf_sort[j].ref].lo < exact[st->pf_sort[j - 1].ref].lo; j--) {
			struct bucket_ent t = st->pf_sort[j];

			st->pf_sort[j] = st->pf_sort[j - 1];
			st->pf_sort[j - 1] = t;
		}
	}
	for (i = 0; i < n; i++, k++) {
		exact_key(kp, &exact[st->pf_sort[i].ref]);
		st->pf_kptr[k] = (const char *)kp;
		st->pf_klen[k] = EXACT_KEY_LEN;
		st->pf_slot[k] = SIZE_MAX - st->pf_sort[i].ref;
		kp += EXACT_KEY_LEN;
	}
	rc = ling_rocksdb_multi_get(st->db, nkeys, st->pf_kptr, st->pf_klen, 1, prefetched, st, "cannot read the state",
				    err);
	if (rc) {
		if (!err->file[0])
			snprintf(err->file, sizeof(err->file), "%s", st->dir);
		return rc;
	}
done:
	st->pf_valid = 1;
	return 0;
}

uint64_t dedup_state_find_exact(struct dedup_state *st, size_t i, const struct dedup_hash128 *exact)
{
	struct ling_idmap_ent *e;
	size_t cursor = 0;

	while ((e = ling_idmap_find_next(&st->ex, exact->lo, &cursor)))
		if (st->docs[e->val - st->base_ref].exact_hi == exact->hi)
			return e->val;
	if (st->pf_valid && i < st->pf_n && !is_dead(st, st->pf_exact[i]))
		return st->pf_exact[i];
	return 0;
}

size_t dedup_state_find_bucket(struct dedup_state *st, size_t i, int b, uint64_t key, uint64_t **refs,
			       size_t *count, size_t *cap)
{
	size_t slot = i * (size_t)st->p.bands + (size_t)b, cursor = 0;
	struct ling_idmap_ent *e;

	/* Committed refs first: they are the older ones. */
	if (st->pf_valid && i < st->pf_n && st->pf_cnt[slot]) {
		size_t cnt = st->pf_cnt[slot], r;
		const uint64_t *from = st->pf_refs + st->pf_off[slot];

		*refs = xgrow(*refs, cap, *count + cnt, sizeof(uint64_t));
		for (r = 0; r < cnt; r++)
			if (!st->ndead || !is_dead(st, from[r]))
				(*refs)[(*count)++] = from[r];
	}
	while ((e = ling_idmap_find_next(&st->bk, key, &cursor))) {
		*refs = xgrow(*refs, cap, *count + 1, sizeof(uint64_t));
		(*refs)[(*count)++] = e->val;
	}
	return *count;
}

static void pdoc_view(struct dedup_state *st, const struct pdoc *pd, uint64_t ref, struct dedup_doc *doc)
{
	doc->ref = ref;
	doc->run = pd->run;
	doc->line = pd->line;
	doc->source = st->strs.data + pd->src_off;
	doc->source_len = pd->src_len;
	doc->id = (pd->flags & DOC_HAS_ID) ? st->strs.data + pd->id_off : NULL;
	doc->id_len = pd->id_len;
	doc->sig = (pd->flags & DOC_HAS_SIG) ? st->sigs + pd->sig_off : NULL;
}

static int decode_doc(struct dedup_state *st, const char *v, size_t vlen, struct dedup_doc *doc,
		      struct ling_err *err)
{
	const unsigned char *p = (const unsigned char *)v, *end = p + vlen;
	uint64_t run, line, slen, ilen;
	unsigned char flags;
	int i;

	if (p >= end)
		goto corrupt;
	flags = *p++;
	if (get_varint(&p, end, &run) || get_varint(&p, end, &line) || get_varint(&p, end, &slen) ||
	    slen > (uint64_t)(end - p))
		goto corrupt;
	doc->run = run;
	doc->line = (long)line;
	doc->source = (const char *)p;
	doc->source_len = (size_t)slen;
	p += slen;
	if (get_varint(&p, end, &ilen) || ilen > (uint64_t)(end - p))
		goto corrupt;
	doc->id = (flags & DOC_HAS_ID) ? (const char *)p : NULL;
	doc->id_len = (size_t)ilen;
	p += ilen;
	doc->sig = NULL;
	if (flags & DOC_HAS_SIG) {
		if ((size_t)(end - p) != (size_t)st->nperm * 4)
			goto corrupt;
		if (!st->docsig)
			st->docsig = xmalloc((size_t)st->nperm * sizeof(uint32_t));
		for (i = 0; i < st->nperm; i++, p += 4)
			st->docsig[i] = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
					(uint32_t)p[3] << 24;
		doc->sig = st->docsig;
	}
	return 0;
corrupt:
	return ling_err_at(err, LING_ESTORE, st->dir, 0, 0, "corrupt state: bad record %" PRIu64, doc->ref);
}

int dedup_state_doc(struct dedup_state *st, uint64_t ref, struct dedup_doc *doc, struct ling_err *err)
{
	unsigned char key[DOC_KEY_LEN];
	int rc;

	memset(doc, 0, sizeof(*doc));
	doc->ref = ref;
	if (ref >= st->base_ref && ref - st->base_ref < st->docs_n) {
		pdoc_view(st, &st->docs[ref - st->base_ref], ref, doc);
		return 0;
	}
	if (!st->db || ref >= st->base_ref)
		return ling_err_at(err, LING_ESTORE, st->dir, 0, 0, "corrupt state: no record %" PRIu64, ref);
	key[0] = TAG_DOC;
	ling_put_be64(key + 1, ref);
	ling_buf_reset(&st->docval);
	rc = ling_rocksdb_get(st->db, key, sizeof(key), &st->docval, "cannot read the state", err);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return ling_err_at(err, LING_ESTORE, st->dir, 0, 0, "corrupt state: no record %" PRIu64, ref);
	return decode_doc(st, st->docval.data, st->docval.len, doc, err);
}

/* ---- adding and committing ---- */

uint64_t dedup_state_add(struct dedup_state *st, const struct dedup_hash128 *exact, const uint64_t *keys,
			 struct dedup_doc *doc)
{
	uint64_t ref = st->next_ref++;
	struct pdoc *pd;
	int b;

	ling_idmap_reserve(&st->ex, 1);
	ling_idmap_add(&st->ex, exact->lo, ref);
	if (keys) {
		ling_idmap_reserve(&st->bk, (size_t)st->p.bands);
		for (b = 0; b < st->p.bands; b++)
			ling_idmap_add(&st->bk, keys[b], ref);
	}
	st->docs = xgrow(st->docs, &st->docs_cap, st->docs_n + 1, sizeof(*st->docs));
	pd = &st->docs[st->docs_n++];
	memset(pd, 0, sizeof(*pd));
	pd->run = st->run;
	pd->line = doc->line;
	pd->exact_hi = exact->hi;
	/* Records of one input share its name. */
	if (st->last_src_len != doc->source_len || !st->strs.data ||
	    memcmp(st->strs.data + st->last_src_off, doc->source, doc->source_len)) {
		st->last_src_off = st->strs.len;
		st->last_src_len = doc->source_len;
		ling_buf_add(&st->strs, doc->source, doc->source_len);
	}
	pd->src_off = st->last_src_off;
	pd->src_len = st->last_src_len;
	if (doc->id) {
		pd->flags |= DOC_HAS_ID;
		pd->id_off = st->strs.len;
		pd->id_len = doc->id_len;
		ling_buf_add(&st->strs, doc->id, doc->id_len);
	}
	if (doc->sig) {
		pd->flags |= DOC_HAS_SIG;
		st->sigs = xgrow(st->sigs, &st->sigs_cap, st->sigs_n + (size_t)st->nperm, sizeof(uint32_t));
		pd->sig_off = st->sigs_n;
		memcpy(st->sigs + st->sigs_n, doc->sig, (size_t)st->nperm * sizeof(uint32_t));
		st->sigs_n += (size_t)st->nperm;
	}
	doc->ref = ref;
	doc->run = st->run;
	return ref;
}

static void encode_doc(struct dedup_state *st, const struct pdoc *pd, struct ling_buf *out)
{
	int i;

	ling_buf_reset(out);
	ling_buf_addc(out, (char)pd->flags);
	add_varint(out, pd->run);
	add_varint(out, (uint64_t)pd->line);
	add_varint(out, pd->src_len);
	ling_buf_add(out, st->strs.data + pd->src_off, pd->src_len);
	add_varint(out, pd->id_len);
	if (pd->flags & DOC_HAS_ID)
		ling_buf_add(out, st->strs.data + pd->id_off, pd->id_len);
	if (pd->flags & DOC_HAS_SIG) {
		for (i = 0; i < st->nperm; i++) {
			uint32_t v = st->sigs[pd->sig_off + (size_t)i];
			char le[4] = { (char)(v & 0xFF), (char)((v >> 8) & 0xFF), (char)((v >> 16) & 0xFF),
				       (char)(v >> 24) };

			ling_buf_add(out, le, 4);
		}
	}
}

/*
 * Where a commit's keys go: one WriteBatch for a small commit, one SST file
 * ingested atomically for a large one (no memtable inserts, no log; what
 * most of a large commit would cost). Either way the keys come in ascending
 * order, as an SST file needs them.
 */
/* Commits of this many keys or more are ingested as an SST file. */
#define SST_MIN_KEYS 4096

static void kv_meta_u64(struct ling_rocksdb_writer *w, const char *name, uint64_t v)
{
	char key[16], val[24];

	snprintf(key, sizeof(key), "%c%s", TAG_META, name);
	snprintf(val, sizeof(val), "%" PRIu64, v);
	ling_rocksdb_put_to(w, key, strlen(key), val, strlen(val));
}

/* The commit's keys, in order: buckets, records, exact hashes, meta. */
static void emit_commit(struct dedup_state *st, struct ling_rocksdb_writer *w, uint64_t segments, int complete)
{
	char open[64], unconfirmed[72];
	struct ling_buf val = LING_BUF_INIT;
	unsigned char key[EXACT_KEY_LEN];
	struct bucket_ent *sorted, *tmp;
	const struct ling_idmap_ent *e;
	size_t i, j, pos, n = st->bk.n > st->ex.n ? st->bk.n : st->ex.n;

	sorted = xmalloc((n ? n : 1) * sizeof(*sorted));
	tmp = xmalloc((n ? n : 1) * sizeof(*tmp));
	for (pos = 0, n = 0; (e = ling_idmap_next(&st->bk, &pos)); n++) {
		sorted[n].key = e->key;
		sorted[n].ref = e->val;
	}
	radix_sort(sorted, tmp, n);
	/* Records of one commit that share a bucket make one merge operand (an SST key appears once). */
	for (i = 0; i < n; i = j) {
		ling_buf_reset(&val);
		for (j = i; j < n && sorted[j].key == sorted[i].key; j++) {
			unsigned char refv[8];

			ling_put_be64(refv, sorted[j].ref);
			ling_buf_add(&val, refv, 8);
		}
		key[0] = TAG_BUCKET;
		ling_put_be64(key + 1, sorted[i].key);
		ling_rocksdb_merge_to(w, key, BUCKET_KEY_LEN, val.data, val.len);
	}
	for (i = 0; i < st->docs_n; i++) {
		key[0] = TAG_DOC;
		ling_put_be64(key + 1, st->base_ref + i);
		encode_doc(st, &st->docs[i], &val);
		ling_rocksdb_put_to(w, key, DOC_KEY_LEN, val.data, val.len);
	}
	/* Exact keys sort by (hi, lo): radix-sort (hi, slot) pairs, then order equal hi by lo. */
	for (pos = 0, n = 0; (e = ling_idmap_next(&st->ex, &pos)); n++) {
		sorted[n].key = st->docs[e->val - st->base_ref].exact_hi;
		sorted[n].ref = (size_t)(e - st->ex.slots);
	}
	radix_sort(sorted, tmp, n);
	for (i = 1; i < n; i++) {
		for (j = i; j > 0 && sorted[j].key == sorted[j - 1].key &&
			    st->ex.slots[sorted[j].ref].key < st->ex.slots[sorted[j - 1].ref].key; j--) {
			struct bucket_ent t = sorted[j];

			sorted[j] = sorted[j - 1];
			sorted[j - 1] = t;
		}
	}
	for (i = 0; i < n; i++) {
		const struct ling_idmap_ent *x = &st->ex.slots[sorted[i].ref];
		struct dedup_hash128 h;
		unsigned char refv[8];

		h.lo = x->key;
		h.hi = st->docs[x->val - st->base_ref].exact_hi;
		exact_key(key, &h);
		ling_put_be64(refv, x->val);
		ling_rocksdb_put_to(w, key, EXACT_KEY_LEN, refv, 8);
	}
	free(sorted);
	free(tmp);
	ling_buf_release(&val);
	if (complete)
		snprintf(open, sizeof(open), "-");
	else
		snprintf(open, sizeof(open), "%" PRIu64 " %" PRIu64 " %c", st->run, st->run_first_ref,
			 st->provisional ? 'p' : 'f');
	/* meta "in/NAME" sorts before "open", as an SST's keys must come */
	for (i = 0; i < st->npos; i++) {
		ling_buf_reset(&val);
		ling_buf_addf(&val, "%cin/%s", TAG_META, st->pos_name[i]);
		ling_rocksdb_put_to(w, val.data, val.len, st->pos_value[i], strlen(st->pos_value[i]));
	}
	ling_buf_release(&val);
	ling_rocksdb_put_to(w, "Mopen", 5, open, strlen(open));
	kv_meta_u64(w, "refs", st->next_ref);
	kv_meta_u64(w, "runs", st->run);
	if (st->unconfirmed) {
		kv_meta_u64(w, "segments", st->segments);
		unconfirmed_format(st, segments, st->unc_records + st->docs_n, unconfirmed, sizeof(unconfirmed));
	} else {
		kv_meta_u64(w, "segments", segments);
		unconfirmed_format(st, st->unc_next, st->unc_records, unconfirmed, sizeof(unconfirmed));
	}
	ling_rocksdb_put_to(w, "Munconfirmed", 12, unconfirmed, strlen(unconfirmed));
}

void dedup_state_put_position(struct dedup_state *st, const char *name, const char *value)
{
	size_t i, k;

	for (i = 0; i < st->npos && strcmp(st->pos_name[i], name) < 0; i++)
		;
	if (i < st->npos && !strcmp(st->pos_name[i], name)) {
		free(st->pos_value[i]);
		st->pos_value[i] = xstrdup(value);
		return;
	}
	k = st->pos_cap;
	st->pos_name = xgrow(st->pos_name, &k, st->npos + 1, sizeof(*st->pos_name));
	st->pos_value = xgrow(st->pos_value, &st->pos_cap, st->npos + 1, sizeof(*st->pos_value));
	memmove(st->pos_name + i + 1, st->pos_name + i, (st->npos - i) * sizeof(*st->pos_name));
	memmove(st->pos_value + i + 1, st->pos_value + i, (st->npos - i) * sizeof(*st->pos_value));
	st->pos_name[i] = xstrdup(name);
	st->pos_value[i] = xstrdup(value);
	st->npos++;
}

int dedup_state_get_position(struct dedup_state *st, const char *name, struct ling_buf *out, struct ling_err *err)
{
	struct ling_buf key = LING_BUF_INIT;
	int rc;

	ling_buf_addf(&key, "in/%s", name);
	rc = meta_get(st, key.data, out, err);
	ling_buf_release(&key);
	return rc;
}

void dedup_crash_point(const char *point)
{
	static long long hits;
	const char *want = getenv("LING_TEST_CRASH");
	long long nth = 1;
	size_t n;

	if (!want)
		return;
	n = strcspn(want, ":");
	if (strlen(point) != n || strncmp(want, point, n))
		return;
	if (want[n] == ':' && ling_parse_long(want + n + 1, 1, 1LL << 40, &nth))
		nth = 1;
	if (++hits >= nth)
		raise(SIGKILL);
}

static int commit_sst(struct dedup_state *st, uint64_t segments, int complete, struct ling_err *err)
{
	struct ling_rocksdb_writer *w;
	struct ling_buf path = LING_BUF_INIT;
	const char *files[1];
	int rc;

	ling_buf_addf(&path, "%s/ling-dedup-ingest-%ld.sst", st->dir, (long)getpid());
	w = ling_rocksdb_sst_new(st->db, path.data);
	emit_commit(st, w, segments, complete);
	rc = ling_rocksdb_writer_close(st->db, w, "cannot write the commit's SST file", err);
	dedup_crash_point("before-ingest");
	if (!rc) {
		files[0] = path.data;
		/* The one step that makes the commit visible, all of it at once. */
		rc = ling_rocksdb_ingest(st->db, files, 1, "cannot commit the state", err);
	}
	unlink(path.data);
	ling_buf_release(&path);
	return rc;
}

static int commit_batch(struct dedup_state *st, uint64_t segments, int complete, struct ling_err *err)
{
	struct ling_rocksdb_writer *w = ling_rocksdb_batch_new(st->db);

	emit_commit(st, w, segments, complete);
	return ling_rocksdb_writer_close(st->db, w, "cannot commit the state", err);
}

int dedup_state_commit(struct dedup_state *st, uint64_t segments, int complete, struct ling_err *err)
{
	int rc;

	st->pf_valid = 0;
	if (!dedup_state_durable(st))
		return 0;
	if (st->bk.n + st->ex.n + st->docs_n >= SST_MIN_KEYS)
		rc = commit_sst(st, segments, complete, err);
	else
		rc = commit_batch(st, segments, complete, err);
	if (rc) {
		if (!err->file[0])
			snprintf(err->file, sizeof(err->file), "%s", st->dir);
		return rc;
	}
	if (st->unconfirmed) {
		st->unc_next = segments;
		st->unc_records += st->docs_n;
	} else {
		st->segments = segments;
	}
	st->base_ref = st->next_ref;
	tables_clear(st);
	return 0;
}
