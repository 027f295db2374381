/*
 * ling_rocksdb: the one module that calls RocksDB (kg's store and dedup's
 * state both open their databases here). Its types stay opaque: no
 * <rocksdb/c.h> in any other file.
 *
 *	struct ling_rocksdb_opts o = { LING_ROCKSDB_CREATE, LING_ROCKSDB_MERGE_ADD_I64_LANES, ... };
 *	struct ling_rocksdb *db;
 *	rc = ling_rocksdb_open(&db, dir, &o, err);     0, LING_ROCKSDB_LOCKED or a negative ling_errc
 *	w = ling_rocksdb_batch_new(db);                 or ling_rocksdb_sst_new(db, path)
 *	ling_rocksdb_put(w, key, klen, val, vlen);      keys in ascending order for an SST file
 *	rc = ling_rocksdb_writer_close(db, w, "cannot write the load", err);
 *	rc = ling_rocksdb_ingest(db, paths, n, "cannot ingest the load", err);
 *	ling_rocksdb_close(db);
 *
 * Every database has one column family (RocksDB's "default"), writes that
 * are synced (a write returns once it is durable) and an info LOG that holds
 * only its header. Errors: every call that can fail takes `what` (say
 * "cannot read the store") and fills err with "WHAT: RocksDB's message"
 * (LING_ESTORE); with LING_ROCKSDB_PLAIN_DISK_FULL, a full disk is said as
 * "WHAT: no space left on device" (LING_EIO) instead. The caller adds the
 * position (the directory) if it wants one.
 *
 * Threads: a database may be read, and SST files written, from several
 * threads at once; a writer or iterator belongs to one thread.
 */
#ifndef LING_ROCKSDB_H
#define LING_ROCKSDB_H

#include "ling_err.h"

#include <stddef.h>

struct ling_buf;
struct ling_rocksdb;        /* an open database */
struct ling_rocksdb_writer; /* a WriteBatch or an SST file being written */
struct ling_rocksdb_iter;   /* an iterator over the keys in byte order */

enum ling_rocksdb_flags {
	LING_ROCKSDB_CREATE = 1 << 0,          /* make the database when dir has none */
	LING_ROCKSDB_READONLY = 1 << 1,        /* open for reading only (no lock: a writer may run) */
	LING_ROCKSDB_PLAIN_DISK_FULL = 1 << 2, /* a full disk as "no space left on device" (see above) */
	LING_ROCKSDB_LZ4 = 1 << 3,             /* LZ4-compress the blocks (none without it) */
};

/* How merge operands combine; the name is the one RocksDB records. */
enum ling_rocksdb_merge {
	LING_ROCKSDB_MERGE_NONE,
	/* "ling.add_int64_lanes": values are little-endian int64 lanes, added lane by lane (counters) */
	LING_ROCKSDB_MERGE_ADD_I64_LANES,
	/* "ling.dedup.append_refs": values are byte strings, concatenated in order (lists of refs) */
	LING_ROCKSDB_MERGE_APPEND,
};

struct ling_rocksdb_opts {
	unsigned flags;               /* enum ling_rocksdb_flags */
	enum ling_rocksdb_merge merge;
	size_t block_cache_bytes;     /* 0: RocksDB's default cache; else an LRU cache of two shards that
				       * holds the index and filter blocks too, pinned for level 0 */
	size_t memtable_bytes;        /* 0: RocksDB's default; else two memtables of this size, each
				       * with a whole-key bloom filter (for workloads of mostly misses) */
	int bloom_bits;               /* bits per key of the SST files' bloom filters; 0 for none */
};

/* ling_rocksdb_open()'s return when another process holds the database's lock. */
#define LING_ROCKSDB_LOCKED 1

/*
 * Opens the database in dir. @return 0; LING_ROCKSDB_LOCKED when another
 * process holds DIR/LOCK (err untouched: each tool words that itself); or a
 * negative ling_errc with err set ("WHAT: ...", what being say "cannot open
 * the store").
 */
int ling_rocksdb_open(struct ling_rocksdb **out, const char *dir, const struct ling_rocksdb_opts *opts,
		      const char *what, struct ling_err *err);

/* Closes the database (flushing nothing: every write was synced). NULL is fine. */
void ling_rocksdb_close(struct ling_rocksdb *db);

/*
 * 1 when another process holds the RocksDB lock of dir (an fcntl lock on
 * DIR/LOCK), which tells a database being made or written from a dead one.
 */
int ling_rocksdb_lock_held(const char *dir);

/* Reads key's value and appends it to out. @return 1 found, 0 not, or a negative ling_errc. */
int ling_rocksdb_get(struct ling_rocksdb *db, const void *key, size_t klen, struct ling_buf *out, const char *what,
		     struct ling_err *err);

/*
 * Reads the value of the key made of the byte tag and then name (the stores'
 * meta keys) into out, which is replaced when the key is found and left as it
 * was when not. @return 1 found, 0 not, or a negative ling_errc.
 */
int ling_rocksdb_get_named(struct ling_rocksdb *db, char tag, const char *name, struct ling_buf *out,
			   const char *what, struct ling_err *err);

/* Writes one key (synced). @return 0 or a negative ling_errc. */
int ling_rocksdb_put(struct ling_rocksdb *db, const void *key, size_t klen, const void *val, size_t vlen,
		     const char *what, struct ling_err *err);

/*
 * Called with each value ling_rocksdb_multi_get() finds, i being the key's
 * index. @return 0, or a negative ling_errc (err filled) to stop.
 */
typedef int (*ling_rocksdb_value_fn)(void *ctx, size_t i, const char *val, size_t vlen, struct ling_err *err);

/*
 * Looks up n keys in one batched read and calls fn for each one found, in
 * index order; keys given in ascending order (sorted 1) spare RocksDB a sort.
 * @return 0, or the first error (a read's, or fn's), after which fn is not called.
 */
int ling_rocksdb_multi_get(struct ling_rocksdb *db, size_t n, const char *const *keys, const size_t *klens,
			   int sorted, ling_rocksdb_value_fn fn, void *ctx, const char *what, struct ling_err *err);

/* Called for each key of a prefix scan. @return 0 to go on, non-zero to stop (a negative one is an error). */
typedef int (*ling_rocksdb_scan_fn)(void *ctx, const char *key, size_t klen, const char *val, size_t vlen);

/* Calls fn on each key that starts with prefix, in key order. @return 0, fn's negative return, or an error. */
int ling_rocksdb_scan_prefix(struct ling_rocksdb *db, const void *prefix, size_t plen, ling_rocksdb_scan_fn fn,
			     void *ctx, const char *what, struct ling_err *err);

/* ---- iterators: seek, then step; the key and value stay valid until the next call ---- */

struct ling_rocksdb_iter *ling_rocksdb_iter_new(struct ling_rocksdb *db);
void ling_rocksdb_iter_seek(struct ling_rocksdb_iter *it, const void *key, size_t klen);
void ling_rocksdb_iter_next(struct ling_rocksdb_iter *it);
/* 1 while the iterator is on a key (0 at the end, or after an error). */
int ling_rocksdb_iter_valid(const struct ling_rocksdb_iter *it);
const char *ling_rocksdb_iter_key(const struct ling_rocksdb_iter *it, size_t *klen);
const char *ling_rocksdb_iter_value(const struct ling_rocksdb_iter *it, size_t *vlen);
/*
 * Frees it. @return 0, or the error that ended the iteration early (err NULL:
 * dropped, for a caller that has its error already). NULL is fine.
 */
int ling_rocksdb_iter_free(struct ling_rocksdb_iter *it, const char *what, struct ling_err *err);

/* ---- writers: one atomic WriteBatch, or one SST file to ingest ---- */

/* A WriteBatch: nothing is written before ling_rocksdb_writer_close(). */
struct ling_rocksdb_writer *ling_rocksdb_batch_new(struct ling_rocksdb *db);

/*
 * An SST file at path, with db's options, to be ingested with
 * ling_rocksdb_ingest(). Keys must come in strictly ascending order, each once.
 * A failure (to create the file, or a write) is kept and returned by
 * ling_rocksdb_writer_close(); writes after it do nothing.
 */
struct ling_rocksdb_writer *ling_rocksdb_sst_new(struct ling_rocksdb *db, const char *path);

void ling_rocksdb_put_to(struct ling_rocksdb_writer *w, const void *key, size_t klen, const void *val, size_t vlen);
/* A merge operand for key (db's merge operator combines it). */
void ling_rocksdb_merge_to(struct ling_rocksdb_writer *w, const void *key, size_t klen, const void *val,
			   size_t vlen);
void ling_rocksdb_delete_to(struct ling_rocksdb_writer *w, const void *key, size_t klen);

/*
 * Ends w and frees it: writes the batch to db (atomic, synced), or finishes
 * the SST file. @return 0 or a negative ling_errc ("WHAT: ...").
 */
int ling_rocksdb_writer_close(struct ling_rocksdb *db, struct ling_rocksdb_writer *w, const char *what,
			      struct ling_err *err);

/*
 * Ingests n finished SST files into db in one atomic step (all or none
 * visible), moving them into the database directory. Their key ranges must
 * not overlap. @return 0 or a negative ling_errc.
 */
int ling_rocksdb_ingest(struct ling_rocksdb *db, const char *const *paths, size_t n, const char *what,
			struct ling_err *err);

#endif
