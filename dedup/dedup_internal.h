/*
 * dedup_internal.h: what the modules of libdedup share and the public header
 * does not promise. Not for use outside dedup/ (the unit tests excepted).
 *
 * dedup_state is the state of a run: what earlier runs committed (a RocksDB
 * directory, or nothing for an in-memory run) and what this run kept since
 * its last commit (hash tables in memory). Lookups see both. A kept record
 * gets a reference number, counted from 1 across all runs of a state.
 *
 * Keys in RocksDB, each under a one-byte tag:
 *   'B' key (8 bytes, big-endian)   -> the refs in that LSH bucket, 8 bytes each,
 *                                      appended by a merge operator
 *   'D' ref (8 bytes, big-endian)   -> the kept record (struct dedup_doc, encoded)
 *   'E' hi lo (16 bytes, big-endian) -> ref, of the record with that exact hash
 *   'M' name                        -> format, params, runs, refs, segments, open, dead,
 *                                      unconfirmed
 *
 * A run that writes to a sink (stdout) keeps what it writes as unconfirmed
 * segments in DIR/unconfirmed/ (the same protocol as --out segments, counted
 * by meta "unconfirmed": FIRST NEXT RECORDS), which the next runs write
 * again until they are confirmed. States of earlier versions may hold
 * "dead" ref ranges instead: the records of provisional runs that were
 * killed, which lookups skip.
 */
#ifndef DEDUP_INTERNAL_H
#define DEDUP_INTERNAL_H

#include "dedup.h"

#include <stddef.h>
#include <stdint.h>

/* Bucket keys: the band index in the top 8 bits, 56 bits of hash below. */
#define DEDUP_KEY_HASH_MASK ((1ULL << 56) - 1)

/* Forces the scalar MinHash (on = 0) or AVX2 where the CPU has it (tests). */
void dedup_hasher_set_avx2(struct dedup_hasher *h, int on);
int dedup_hasher_avx2(const struct dedup_hasher *h);

/* ---- the state ---- */

/* A kept record as the state holds it. Strings are not NUL-terminated. */
struct dedup_doc {
	uint64_t ref;
	uint64_t run;
	long line;
	const char *source;
	size_t source_len;
	const char *id;       /* NULL when the record had no id */
	size_t id_len;
	const uint32_t *sig;  /* NULL when the record had no words */
};

enum dedup_state_flags {
	DEDUP_STATE_READONLY = 1 << 0,    /* never commit (a dry run); the directory must exist */
	DEDUP_STATE_PROVISIONAL = 1 << 1, /* the run's commits count only once it completes (earlier versions) */
	DEDUP_STATE_UNCONFIRMED = 1 << 2, /* a stdout run: its segments are unconfirmed ones, not --out's */
	DEDUP_STATE_ANY_PARAMS = 1 << 3,  /* take the parameters stored (--confirm) */
};

struct dedup_state;

/*
 * Opens dir (NULL: in memory), creating it unless read-only, and stores p or
 * checks that it equals what is stored. @return 0, LING_ESTORE or LING_EIO.
 */
int dedup_state_open(struct dedup_state **out, const char *dir, unsigned flags, const struct dedup_params *p,
		     struct ling_err *err);
void dedup_state_close(struct dedup_state *st);

/*
 * This run's number, the number of kept records (this run's included), the
 * next segment (--out's, or with DEDUP_STATE_UNCONFIRMED the next unconfirmed one).
 */
uint64_t dedup_state_run(const struct dedup_state *st);
uint64_t dedup_state_records(const struct dedup_state *st);
uint64_t dedup_state_segment(const struct dedup_state *st);
const char *dedup_state_dir(const struct dedup_state *st);

/* The unconfirmed segments [first, next) and the records they hold. */
void dedup_state_unconfirmed(const struct dedup_state *st, uint64_t *first, uint64_t *next, uint64_t *records);

/*
 * Confirms every unconfirmed segment: at once (now, one synced write), or
 * with the next commit. The caller removes their files after that.
 * @return 0 or LING_ESTORE.
 */
int dedup_state_confirm(struct dedup_state *st, int now, struct ling_err *err);

/*
 * Reads from the committed state, in one batched call, what the n records of
 * a batch will look up: exact[i], and for i with keys[i] != NULL the bands
 * bucket keys at keys[i]. Valid until the next prefetch or commit.
 */
int dedup_state_prefetch(struct dedup_state *st, size_t n, const struct dedup_hash128 *exact,
			 const uint64_t *const *keys, struct ling_err *err);

/* The ref of the record i of the batch with that exact hash, 0 when none. */
uint64_t dedup_state_find_exact(struct dedup_state *st, size_t i, const struct dedup_hash128 *exact);

/*
 * Appends to *refs (grown with xgrow) the refs in bucket band b of record i,
 * whose key is key. @return the new count.
 */
size_t dedup_state_find_bucket(struct dedup_state *st, size_t i, int b, uint64_t key, uint64_t **refs,
			       size_t *count, size_t *cap);

/* The kept record ref, valid until the next call or commit. @return 0, or LING_ESTORE (missing, corrupt). */
int dedup_state_doc(struct dedup_state *st, uint64_t ref, struct dedup_doc *doc, struct ling_err *err);

/*
 * Keeps a record: its exact hash, bucket keys (keys NULL for none) and doc
 * (ref and run are filled in). @return its ref.
 */
uint64_t dedup_state_add(struct dedup_state *st, const struct dedup_hash128 *exact, const uint64_t *keys,
			 struct dedup_doc *doc);

/*
 * Writes what was kept since the last commit, with the run counter and
 * `segments` (the next --out segment number), atomically and synced (one
 * WriteBatch, or one ingested SST file for a large commit). complete marks
 * the end of the run: until then the commits of a PROVISIONAL run are
 * dropped ("dead") when the state is opened next. In memory and read-only,
 * keeps everything in memory instead. @return 0 or LING_ESTORE.
 */
int dedup_state_commit(struct dedup_state *st, uint64_t segments, int complete, struct ling_err *err);

/*
 * Test hook (tests/t3200): LING_TEST_CRASH=POINT[:N] kills the process with
 * SIGKILL, as kill -9 would, the Nth time (default 1st) it reaches POINT:
 * after-emit (a batch decided, its output not flushed), before-commit
 * (output flushed, state not committed), before-ingest (a large commit's SST
 * file written, not ingested), after-commit (state committed, --out segment
 * not renamed), after-rename.
 */
void dedup_crash_point(const char *point);

/* Whether commits reach a directory (not in memory, not read-only). */
int dedup_state_durable(const struct dedup_state *st);

/* Sets input position name (see dedup_position_set) for every later commit. */
void dedup_state_put_position(struct dedup_state *st, const char *name, const char *value);
/* The committed input position name into out. @return 1, 0 when there is none, or LING_ESTORE. */
int dedup_state_get_position(struct dedup_state *st, const char *name, struct ling_buf *out, struct ling_err *err);

#endif
