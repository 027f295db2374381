/*
 * ling_rocksdb: every rocksdb_* call of ling (see ling_rocksdb.h).
 */
#include "ling_rocksdb.h"
#include "ling_bytes.h"

#include "ling_mem.h"

#include <fcntl.h>
#include <rocksdb/c.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"

struct ling_rocksdb {
	rocksdb_t *db;
	rocksdb_options_t *opts;
	rocksdb_block_based_table_options_t *table;
	rocksdb_cache_t *cache;
	rocksdb_column_family_handle_t *cf;
	rocksdb_readoptions_t *ropts;
	rocksdb_writeoptions_t *wopts;
	unsigned flags;
};

struct ling_rocksdb_writer {
	rocksdb_writebatch_t *batch;
	rocksdb_sstfilewriter_t *sst;
	rocksdb_envoptions_t *env;
	rocksdb_column_family_handle_t *cf;
	char *errmsg; /* the first failure of an SST file */
};

struct ling_rocksdb_iter {
	rocksdb_iterator_t *it;
	unsigned flags;
};

/*
 * RocksDB's message into err, and frees it. A full disk is said plainly
 * where asked (it is the one failure a user can fix, and the rest of
 * RocksDB's text is noise).
 */
static int convert_error(unsigned flags, struct ling_err *err, const char *what, char *errmsg)
{
	int rc;

	if ((flags & LING_ROCKSDB_PLAIN_DISK_FULL) && strstr(errmsg, "No space left on device"))
		rc = ling_err_set(err, LING_EIO, "%s: no space left on device", what);
	else
		rc = ling_err_set(err, LING_ESTORE, "%s: %s", what, errmsg);
	free(errmsg);
	return rc;
}

#define CHECK_ROCKS(flags, errmsg, err, what) ((errmsg) ? convert_error((flags), (err), (what), (errmsg)) : 0)

/* ---- merge operators ---- */

/* Lane-wise int64 addition; the result has as many lanes as the longest value. */
static char *add_lanes(const char *base, size_t base_len, const char *const *ops, const size_t *op_lens, int nops,
		       unsigned char *success, size_t *out_len)
{
	size_t lanes = base_len / 8, i;
	int k;
	char *out;

	for (k = 0; k < nops; k++)
		if (op_lens[k] / 8 > lanes)
			lanes = op_lens[k] / 8;
	out = calloc(lanes ? lanes : 1, 8);
	if (!out) {
		*success = 0;
		return NULL;
	}
	for (i = 0; i < base_len / 8; i++)
		ling_put_le64(out + 8 * i, (uint64_t)(int64_t)ling_get_le64(base + 8 * i));
	for (k = 0; k < nops; k++)
		for (i = 0; i < op_lens[k] / 8; i++)
			ling_put_le64(out + 8 * i, (uint64_t)(int64_t)ling_get_le64(out + 8 * i) + (int64_t)ling_get_le64(ops[k] + 8 * i));
	*success = 1;
	*out_len = lanes * 8;
	return out;
}

static char *concat(const char *base, size_t base_len, const char *const *ops, const size_t *op_lens, int nops,
		    unsigned char *success, size_t *out_len)
{
	size_t total = base_len, off;
	char *out;
	int k;

	for (k = 0; k < nops; k++)
		total += op_lens[k];
	out = malloc(total ? total : 1);
	if (!out) {
		*success = 0;
		return NULL;
	}
	if (base_len)
		memcpy(out, base, base_len);
	off = base_len;
	for (k = 0; k < nops; k++) {
		if (op_lens[k])
			memcpy(out + off, ops[k], op_lens[k]);
		off += op_lens[k];
	}
	*success = 1;
	*out_len = total;
	return out;
}

/* The merge operator's state is its kind, stored in the pointer. */
static enum ling_rocksdb_merge merge_kind(void *state)
{
	return (enum ling_rocksdb_merge)(uintptr_t)state;
}

static char *merge(void *state, const char *base, size_t base_len, const char *const *ops, const size_t *op_lens,
		   int nops, unsigned char *success, size_t *out_len)
{
	if (merge_kind(state) == LING_ROCKSDB_MERGE_ADD_I64_LANES)
		return add_lanes(base, base_len, ops, op_lens, nops, success, out_len);
	return concat(base, base_len, ops, op_lens, nops, success, out_len);
}

static char *full_merge(void *state, const char *key, size_t key_len, const char *existing, size_t existing_len,
			const char *const *ops, const size_t *op_lens, int nops, unsigned char *success,
			size_t *out_len)
{
	(void)key, (void)key_len;
	return merge(state, existing ? existing : "", existing ? existing_len : 0, ops, op_lens, nops, success,
		     out_len);
}

static char *partial_merge(void *state, const char *key, size_t key_len, const char *const *ops,
			   const size_t *op_lens, int nops, unsigned char *success, size_t *out_len)
{
	(void)key, (void)key_len;
	return merge(state, "", 0, ops, op_lens, nops, success, out_len);
}

static void merge_free(void *state, const char *value, size_t len)
{
	(void)state, (void)len;
	free((void *)value);
}

static void merge_state_free(void *state)
{
	(void)state;
}

/* The names RocksDB records in each SST file: never change them. */
static const char *merge_name(void *state)
{
	return merge_kind(state) == LING_ROCKSDB_MERGE_ADD_I64_LANES ? "ling.add_int64_lanes"
								      : "ling.dedup.append_refs";
}

/* ---- open and close ---- */

int ling_rocksdb_lock_held(const char *dir)
{
	struct ling_buf path = LING_BUF_INIT;
	struct flock fl;
	int fd, held;

	ling_buf_addf(&path, "%s/LOCK", dir);
	fd = open(path.data, O_RDWR | O_CLOEXEC);
	ling_buf_release(&path);
	if (fd < 0)
		return 0;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	held = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
	close(fd);
	return held;
}

static void set_memtables(rocksdb_options_t *o, size_t bytes)
{
	rocksdb_options_set_write_buffer_size(o, bytes);
	rocksdb_options_set_max_write_buffer_number(o, 2);
	/* Most lookups miss: a bloom filter over the memtable answers them without a skip-list search. */
	rocksdb_options_set_memtable_prefix_bloom_size_ratio(o, 0.1);
	rocksdb_options_set_memtable_whole_key_filtering(o, 1);
}

/*
 * The block cache holds the index and filter blocks too, at high priority.
 * Two shards: the filter of a large SST file is megabytes, and one bigger
 * than its shard would be read from the file at every lookup.
 */
static void set_block_cache(struct ling_rocksdb *db, size_t bytes)
{
	rocksdb_lru_cache_options_t *lru = rocksdb_lru_cache_options_create();

	rocksdb_lru_cache_options_set_capacity(lru, bytes);
	rocksdb_lru_cache_options_set_num_shard_bits(lru, 1);
	db->cache = rocksdb_cache_create_lru_opts(lru);
	rocksdb_lru_cache_options_destroy(lru);
	rocksdb_block_based_options_set_block_cache(db->table, db->cache);
	rocksdb_block_based_options_set_cache_index_and_filter_blocks(db->table, 1);
	rocksdb_block_based_options_set_cache_index_and_filter_blocks_with_high_priority(db->table, 1);
	rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache(db->table, 1);
}

static void set_options(struct ling_rocksdb *db, const struct ling_rocksdb_opts *o)
{
	db->opts = rocksdb_options_create();
	rocksdb_options_set_create_if_missing(db->opts, (o->flags & LING_ROCKSDB_CREATE) &&
							     !(o->flags & LING_ROCKSDB_READONLY));
	if (o->merge != LING_ROCKSDB_MERGE_NONE)
		/* The options own the merge operator once set. */
		rocksdb_options_set_merge_operator(db->opts,
						   rocksdb_mergeoperator_create((void *)(uintptr_t)o->merge,
										merge_state_free, full_merge,
										partial_merge, merge_free, merge_name));
	rocksdb_options_set_compression(db->opts,
					(o->flags & LING_ROCKSDB_LZ4) ? rocksdb_lz4_compression : rocksdb_no_compression);
	rocksdb_options_increase_parallelism(db->opts, 2);
	/*
	 * The info LOG: headers only, and no LOG.old kept. RocksDB renames LOG to
	 * a LOG.old per open, so a database grew by a file per run; and on a full
	 * disk a failed LOG write trips an assertion in librocksdb 7.8 (exit 134)
	 * before any status reaches us. Every failure that matters comes back as
	 * a status anyway.
	 */
	rocksdb_options_set_info_log_level(db->opts, 5 /* HEADER_LEVEL */);
	rocksdb_options_set_keep_log_file_num(db->opts, 1);
	if (o->memtable_bytes)
		set_memtables(db->opts, o->memtable_bytes);
	db->table = rocksdb_block_based_options_create();
	if (o->block_cache_bytes)
		set_block_cache(db, o->block_cache_bytes);
	if (o->bloom_bits)
		rocksdb_block_based_options_set_filter_policy(db->table,
							      rocksdb_filterpolicy_create_bloom_full(o->bloom_bits));
	rocksdb_options_set_block_based_table_factory(db->opts, db->table);
}

int ling_rocksdb_open(struct ling_rocksdb **out, const char *dir, const struct ling_rocksdb_opts *opts,
		      const char *what, struct ling_err *err)
{
	struct ling_rocksdb *db = xcalloc(1, sizeof(*db));
	const char *names[1] = { "default" };
	const rocksdb_options_t *cf_opts[1];
	rocksdb_column_family_handle_t *handles[1] = { NULL };
	char *errmsg = NULL;

	*out = NULL;
	db->flags = opts->flags;
	set_options(db, opts);
	cf_opts[0] = db->opts;
	/* The default column family by its handle: batched MultiGet needs one. */
	if (opts->flags & LING_ROCKSDB_READONLY)
		db->db = rocksdb_open_for_read_only_column_families(db->opts, dir, 1, names, cf_opts, handles, 0,
								    &errmsg);
	else
		db->db = rocksdb_open_column_families(db->opts, dir, 1, names, cf_opts, handles, &errmsg);
	if (errmsg && strstr(errmsg, "While lock file")) {
		free(errmsg);
		ling_rocksdb_close(db);
		return LING_ROCKSDB_LOCKED;
	}
	if (errmsg) {
		int rc = convert_error(db->flags, err, what, errmsg);

		ling_rocksdb_close(db);
		return rc;
	}
	db->cf = handles[0];
	db->ropts = rocksdb_readoptions_create();
	db->wopts = rocksdb_writeoptions_create();
	rocksdb_writeoptions_set_sync(db->wopts, 1);
	*out = db;
	return 0;
}

void ling_rocksdb_close(struct ling_rocksdb *db)
{
	if (!db)
		return;
	if (db->cf)
		rocksdb_column_family_handle_destroy(db->cf);
	if (db->db)
		rocksdb_close(db->db);
	if (db->ropts)
		rocksdb_readoptions_destroy(db->ropts);
	if (db->wopts)
		rocksdb_writeoptions_destroy(db->wopts);
	rocksdb_options_destroy(db->opts);
	rocksdb_block_based_options_destroy(db->table);
	if (db->cache)
		rocksdb_cache_destroy(db->cache);
	free(db);
}

/* ---- reading ---- */

int ling_rocksdb_get(struct ling_rocksdb *db, const void *key, size_t klen, struct ling_buf *out, const char *what,
		     struct ling_err *err)
{
	char *errmsg = NULL, *v;
	size_t vlen;
	int rc;

	v = rocksdb_get_cf(db->db, db->ropts, db->cf, key, klen, &vlen, &errmsg);
	if ((rc = CHECK_ROCKS(db->flags, errmsg, err, what)))
		return rc;
	if (!v)
		return 0;
	ling_buf_add(out, v, vlen);
	free(v);
	return 1;
}

int ling_rocksdb_get_named(struct ling_rocksdb *db, char tag, const char *name, struct ling_buf *out,
			   const char *what, struct ling_err *err)
{
	struct ling_buf key = LING_BUF_INIT, v = LING_BUF_INIT;
	int rc;

	ling_buf_addc(&key, tag);
	ling_buf_adds(&key, name);
	rc = ling_rocksdb_get(db, key.data, key.len, &v, what, err);
	ling_buf_release(&key);
	if (rc == 1) {
		ling_buf_reset(out);
		ling_buf_add(out, v.data, v.len);
	}
	ling_buf_release(&v);
	return rc;
}

int ling_rocksdb_put(struct ling_rocksdb *db, const void *key, size_t klen, const void *val, size_t vlen,
		     const char *what, struct ling_err *err)
{
	char *errmsg = NULL;

	rocksdb_put_cf(db->db, db->wopts, db->cf, key, klen, val, vlen, &errmsg);
	return CHECK_ROCKS(db->flags, errmsg, err, what);
}

int ling_rocksdb_multi_get(struct ling_rocksdb *db, size_t n, const char *const *keys, const size_t *klens,
			   int sorted, ling_rocksdb_value_fn fn, void *ctx, const char *what, struct ling_err *err)
{
	rocksdb_pinnableslice_t **vals = xcalloc(n ? n : 1, sizeof(*vals));
	char **errs = xcalloc(n ? n : 1, sizeof(*errs));
	size_t k;
	int rc = 0;

	rocksdb_batched_multi_get_cf(db->db, db->ropts, db->cf, n, keys, klens, vals, errs, sorted != 0);
	for (k = 0; k < n; k++) {
		const char *v;
		size_t vlen = 0;

		if (errs[k]) {
			if (!rc)
				rc = convert_error(db->flags, err, what, errs[k]);
			else
				free(errs[k]);
		}
		if (!vals[k])
			continue;
		v = rocksdb_pinnableslice_value(vals[k], &vlen);
		if (v && !rc)
			rc = fn(ctx, k, v, vlen, err);
		rocksdb_pinnableslice_destroy(vals[k]);
	}
	free(vals);
	free(errs);
	return rc;
}

struct ling_rocksdb_iter *ling_rocksdb_iter_new(struct ling_rocksdb *db)
{
	struct ling_rocksdb_iter *it = xmalloc(sizeof(*it));

	it->it = rocksdb_create_iterator_cf(db->db, db->ropts, db->cf);
	it->flags = db->flags;
	return it;
}

void ling_rocksdb_iter_seek(struct ling_rocksdb_iter *it, const void *key, size_t klen)
{
	rocksdb_iter_seek(it->it, key, klen);
}

void ling_rocksdb_iter_next(struct ling_rocksdb_iter *it)
{
	rocksdb_iter_next(it->it);
}

int ling_rocksdb_iter_valid(const struct ling_rocksdb_iter *it)
{
	return rocksdb_iter_valid(it->it);
}

const char *ling_rocksdb_iter_key(const struct ling_rocksdb_iter *it, size_t *klen)
{
	return rocksdb_iter_key(it->it, klen);
}

const char *ling_rocksdb_iter_value(const struct ling_rocksdb_iter *it, size_t *vlen)
{
	return rocksdb_iter_value(it->it, vlen);
}

int ling_rocksdb_iter_free(struct ling_rocksdb_iter *it, const char *what, struct ling_err *err)
{
	char *errmsg = NULL;
	unsigned flags;

	if (!it)
		return 0;
	flags = it->flags;
	rocksdb_iter_get_error(it->it, &errmsg);
	rocksdb_iter_destroy(it->it);
	free(it);
	if (!err) {
		free(errmsg);
		return 0;
	}
	return CHECK_ROCKS(flags, errmsg, err, what);
}

int ling_rocksdb_scan_prefix(struct ling_rocksdb *db, const void *prefix, size_t plen, ling_rocksdb_scan_fn fn,
			     void *ctx, const char *what, struct ling_err *err)
{
	struct ling_rocksdb_iter *it = ling_rocksdb_iter_new(db);
	int rc = 0, read_rc;

	for (ling_rocksdb_iter_seek(it, prefix, plen); ling_rocksdb_iter_valid(it); ling_rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = ling_rocksdb_iter_key(it, &klen);
		const char *v;

		if (klen < plen || memcmp(k, prefix, plen))
			break;
		v = ling_rocksdb_iter_value(it, &vlen);
		if ((rc = fn(ctx, k, klen, v, vlen)))
			break;
	}
	if ((read_rc = ling_rocksdb_iter_free(it, what, err)))
		return read_rc;
	return rc < 0 ? rc : 0;
}

/* ---- writing ---- */

struct ling_rocksdb_writer *ling_rocksdb_batch_new(struct ling_rocksdb *db)
{
	struct ling_rocksdb_writer *w = xcalloc(1, sizeof(*w));

	w->batch = rocksdb_writebatch_create();
	w->cf = db->cf;
	return w;
}

struct ling_rocksdb_writer *ling_rocksdb_sst_new(struct ling_rocksdb *db, const char *path)
{
	struct ling_rocksdb_writer *w = xcalloc(1, sizeof(*w));

	w->env = rocksdb_envoptions_create();
	w->sst = rocksdb_sstfilewriter_create(w->env, db->opts);
	rocksdb_sstfilewriter_open(w->sst, path, &w->errmsg);
	return w;
}

void ling_rocksdb_put_to(struct ling_rocksdb_writer *w, const void *key, size_t klen, const void *val, size_t vlen)
{
	if (w->errmsg)
		return;
	if (w->sst)
		rocksdb_sstfilewriter_put(w->sst, key, klen, val, vlen, &w->errmsg);
	else
		rocksdb_writebatch_put_cf(w->batch, w->cf, key, klen, val, vlen);
}

void ling_rocksdb_merge_to(struct ling_rocksdb_writer *w, const void *key, size_t klen, const void *val, size_t vlen)
{
	if (w->errmsg)
		return;
	if (w->sst)
		rocksdb_sstfilewriter_merge(w->sst, key, klen, val, vlen, &w->errmsg);
	else
		rocksdb_writebatch_merge_cf(w->batch, w->cf, key, klen, val, vlen);
}

void ling_rocksdb_delete_to(struct ling_rocksdb_writer *w, const void *key, size_t klen)
{
	if (w->errmsg)
		return;
	if (w->sst)
		rocksdb_sstfilewriter_delete(w->sst, key, klen, &w->errmsg);
	else
		rocksdb_writebatch_delete_cf(w->batch, w->cf, key, klen);
}

int ling_rocksdb_writer_close(struct ling_rocksdb *db, struct ling_rocksdb_writer *w, const char *what,
			      struct ling_err *err)
{
	char *errmsg = w->errmsg;

	if (w->sst) {
		if (!errmsg)
			rocksdb_sstfilewriter_finish(w->sst, &errmsg);
		rocksdb_sstfilewriter_destroy(w->sst);
		rocksdb_envoptions_destroy(w->env);
	} else {
		rocksdb_write(db->db, db->wopts, w->batch, &errmsg);
		rocksdb_writebatch_destroy(w->batch);
	}
	free(w);
	return CHECK_ROCKS(db->flags, errmsg, err, what);
}

int ling_rocksdb_ingest(struct ling_rocksdb *db, const char *const *paths, size_t n, const char *what,
			struct ling_err *err)
{
	rocksdb_ingestexternalfileoptions_t *io = rocksdb_ingestexternalfileoptions_create();
	char *errmsg = NULL;

	rocksdb_ingestexternalfileoptions_set_move_files(io, 1);
	rocksdb_ingest_external_file_cf(db->db, db->cf, paths, n, io, &errmsg);
	rocksdb_ingestexternalfileoptions_destroy(io);
	return CHECK_ROCKS(db->flags, errmsg, err, what);
}
