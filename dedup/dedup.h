/*
 * dedup: exact and near-duplicate removal over JSON Lines records, against a
 * state that persists across runs (DESIGN.md 3.3).
 *
 * Records stream in, in order; the first occurrence of a text wins, later
 * duplicates are dropped (or, with DEDUP_DRY_RUN, marked with "dup_of").
 *
 * Text. The text of a record is the strings found at its fields (see
 * dedup_options.fields), joined by "\n". By default a chat sample (a record
 * with "messages") contributes messages[].content,
 * messages[].tool_calls[].function.name and tools[].function.name, any other
 * record its "text". A record with no text at those fields (or only white
 * space) is deduplicated on its whole line, byte for byte, and is counted as
 * "no text".
 *
 * Exact duplicates: XXH3-128 of the text after ICU NFKC_Casefold (NFKC, full
 * case folding, default ignorables such as U+200B removed) and white space
 * collapsing (runs of Unicode White_Space become one space; none at either
 * end). Same hash, same text.
 *
 * Near duplicates: MinHash over word n-grams with LSH banding, as datatrove
 * does it:
 *  - normalisation (dedup_normalize_near): NFD, combining marks (Mn)
 *    dropped, lower case, every number (\d+(\.\d+)? over Unicode digits)
 *    becomes "0", punctuation (P*), symbols (S*) and controls (Cc) become
 *    spaces, white space collapsed; the words are what the spaces separate;
 *  - shingles: each run of n consecutive words (a text of 1 to n-1 words is
 *    one shingle); a word hashes to w = XXH3_64(word bytes), a shingle to
 *    x = low 32 bits of XXH3_64(w_1..w_n as n native 64-bit integers);
 *  - hash family: the multiply-add-shift family of Dietzfelbinger (1996),
 *    h_i(x) = ((a_i * x + b_i) mod 2^64) >> 32 with 64-bit a_i, b_i drawn by
 *    splitmix64 from the fixed seed DEDUP_SEED: strongly universal on 32-bit
 *    x, and computed eight lanes at a time with AVX2 where the CPU has it
 *    (the same values as the scalar code, which LING_DEDUP_NO_AVX2=1 forces);
 *  - signature: sig[i] = min over the shingles of h_i(x), i < bands * rows;
 *  - banding: band b covers sig[b*rows .. (b+1)*rows); its bucket key is
 *    (b << 56) | (XXH3_64(those rows as 32-bit integers, seed b) & (2^56-1));
 *  - a candidate is an earlier kept record sharing at least one bucket; it is
 *    confirmed when the estimated Jaccard similarity, the fraction of equal
 *    signature values, is >= threshold. Of several confirmed candidates the
 *    most similar (then the earliest) is named. The probability that a pair
 *    of Jaccard similarity J becomes a candidate is 1 - (1 - J^rows)^bands.
 *
 * State. Without a state directory everything is kept in memory for the run.
 * With one, a RocksDB directory holds the exact hashes, the LSH buckets, and
 * per kept record its signature, id, source position and run number, so that
 * a later run checks against all earlier ones while its memory stays bounded
 * (only what was kept since the last commit is in memory). The parameters
 * are stored when the state is made; opening it with others is an error.
 *
 * Commits. Every commit_every records (and at the end) the output produced
 * since the last commit is flushed (sink->flush with durable set, which
 * should fsync a regular file) and then the state is committed atomically.
 * With out_dir, output goes to segment files DIR/part-NNNNNNNN.jsonl
 * instead: a segment is written to a temporary name, synced, committed with
 * the state, and renamed into place; opening the state finishes or removes
 * what a crash left, and refuses (touching nothing) a finished segment the
 * state did not write. Hence the segments hold each unique record exactly
 * once across crashes.
 * Output to a sink with a state is at least once: what it writes may never
 * reach anyone (the run, or the program downstream, may fail or be killed),
 * so the run also writes it, by the same protocol, into unconfirmed
 * segments in STATE_DIR/unconfirmed/, and every later run first emits all
 * unconfirmed records again, in order, before anything new (counted in
 * dedup_counts.reemitted), until dedup_confirm() confirms them; an out_dir
 * run writes them into its segments, which confirms them with its commit.
 * So no failure downstream loses a record; one may arrive twice.
 *
 * Threads. Records are taken in batches; parsing, text extraction,
 * normalisation and signatures of a batch run on `threads` threads, then the
 * batch is decided in input order on the calling thread.
 *
 * Ownership: a struct dedup is used by one thread (dedup_open starts its
 * workers, which idle between batches; dedup_close stops them). The library
 * never prints.
 */
#ifndef DEDUP_H
#define DEDUP_H

#include "../common/ling_err.h"
#include "../common/ling_mem.h"

#include <stddef.h>
#include <stdint.h>

#define DEDUP_FORMAT_VERSION 1
#define DEDUP_SEED 0x6c696e672d646475ULL /* "ling-ddu" */
#define DEDUP_MAX_PERMS 1024
#define DEDUP_MAX_NGRAM 64

struct dedup_params {
	int ngram;        /* words per shingle (default 5) */
	int bands;        /* LSH bands (default 14) */
	int rows;         /* signature values per band (default 8) */
	double threshold; /* estimated Jaccard similarity that confirms a candidate (default 0.8) */
};

/* Fills p with the defaults: 5-grams, 14 bands of 8 rows, threshold 0.8. */
void dedup_params_default(struct dedup_params *p);

/* @return 0, or LING_EUSAGE with err set when a parameter is out of range. */
int dedup_params_check(const struct dedup_params *p, struct ling_err *err);

enum dedup_flags {
	DEDUP_DRY_RUN = 1 << 0, /* emit duplicates too, with a "dup_of" field; never commit the state */
	DEDUP_EXPLAIN = 1 << 1, /* call sink->explain for each duplicate */
};

enum dedup_kind { DEDUP_EXACT = 1, DEDUP_NEAR = 2 };

/* A duplicate, as sink->explain sees it. Strings are valid during the call only. */
struct dedup_match {
	enum dedup_kind kind;
	double similarity;     /* estimated Jaccard similarity; 1 for an exact duplicate */
	const char *source;    /* the duplicate: input name, line and "id" (NULL when it has none) */
	long line;
	const char *id;
	uint64_t dup_run;      /* the earlier record it duplicates: its run (1, 2, ...) */
	const char *dup_source;
	long dup_line;
	const char *dup_id;    /* NULL when it had no id */
};

/*
 * Where the results go. Callbacks return 0, or a negative ling_errc with err
 * set to stop the run; bad_record returns non-zero to stop (after
 * --max-errors). Any may be NULL except emit when out_dir is not set.
 */
struct dedup_sink {
	void *ctx;
	/* One output record, a line without its "\n". */
	int (*emit)(void *ctx, const char *line, size_t len, struct ling_err *err);
	/* Pushes out what emit wrote; when durable, also to stable storage. Called before each commit. */
	int (*flush)(void *ctx, int durable, struct ling_err *err);
	/* A duplicate (with DEDUP_EXPLAIN). */
	int (*explain)(void *ctx, const struct dedup_match *m, struct ling_err *err);
	/* A record that is not a JSON object (err says where and why); it is skipped. */
	int (*bad_record)(void *ctx, const struct ling_err *err);
};

struct dedup_options {
	struct dedup_params params;
	const char *state_dir;      /* NULL: an in-memory run */
	const char *out_dir;        /* NULL: records go to sink->emit; needs state_dir */
	const char *const *fields;  /* JSON paths of the text, e.g. "messages[].content"; NULL: the default */
	size_t nfields;
	unsigned flags;             /* enum dedup_flags */
	int threads;                /* 0: the number of online CPUs */
	long commit_every;          /* records between commits; 0: DEDUP_COMMIT_EVERY */
};

#define DEDUP_COMMIT_EVERY 50000

/* Fills o with the defaults (in memory, default params and fields). */
void dedup_options_init(struct dedup_options *o);

/*
 * A field path: keys separated by ".", a key followed by "[]" walks every
 * element of an array ("tools[].function.name"). Where a path ends, strings
 * are taken, and arrays and objects are walked for their strings, in order.
 * @return 0, or LING_EUSAGE for a malformed path.
 */
int dedup_field_check(const char *path, struct ling_err *err);

struct dedup_counts {
	uint64_t read;            /* records handed to dedup_record (blank lines are not records) */
	uint64_t written;         /* records emitted */
	uint64_t rejected;        /* bad records skipped */
	uint64_t exact;           /* exact duplicates dropped (or marked) */
	uint64_t near;            /* near duplicates dropped (or marked) */
	uint64_t no_text;         /* records that had no text (deduplicated on the whole line) */
	uint64_t candidates;      /* earlier records compared with a signature (LSH candidates) */
	uint64_t below_threshold; /* candidates not confirmed */
	uint64_t run;             /* this run's number in the state (1 for the first, and in memory) */
	uint64_t state_records;   /* kept records in the state, this run's included */
	uint64_t reemitted;       /* unconfirmed records of earlier runs written again (not in written) */
};

struct dedup;

/*
 * Opens the state (created when missing, unless DEDUP_DRY_RUN), checks its
 * parameters, and with out_dir finishes or removes what an interrupted run
 * left there. @return 0, LING_EUSAGE (bad options), LING_ESTORE (not a dedup
 * state, other parameters, RocksDB error, locked by another run) or LING_EIO.
 */
int dedup_open(struct dedup **out, const struct dedup_options *opts, const struct dedup_sink *sink,
	       struct ling_err *err);

/*
 * Adds one record: a JSONL line (without "\n"), with its input name and line
 * number for messages. It is decided when its batch is full, or at
 * dedup_finish. @return 0, or the error of a callback, the state or the output.
 */
int dedup_record(struct dedup *d, const char *line, size_t len, const char *source, long lineno,
		 struct ling_err *err);

/*
 * Decides what is buffered, flushes, commits and closes the output, and
 * marks the run complete in the state. @return as dedup_record.
 */
int dedup_finish(struct dedup *d, struct ling_err *err);

const struct dedup_counts *dedup_counts(const struct dedup *d);

/*
 * Confirms the unconfirmed records of the stdout runs on the state in
 * state_dir (they reached their destination): later runs no longer write
 * them again. *records is how many there were. @return 0, LING_ESTORE (no
 * such state, locked, RocksDB error) or LING_EIO.
 */
int dedup_confirm(const char *state_dir, uint64_t *records, struct ling_err *err);

/*
 * Appends m as one JSON object (no newline) to out, as --explain writes it:
 * {"source":..,"line":..,"id":..,"kind":"exact"|"near","similarity":..,
 *  "dup_of":{"run":..,"source":..,"line":..,"id":..}}; a missing id is null.
 */
void dedup_match_to_json(const struct dedup_match *m, struct ling_buf *out);

/*
 * Input positions, kept in the state with the records (dedup --in-kafka: the
 * next offset of each partition): dedup_position_set(d, name, value) makes
 * every later commit of d write value under name (printable, no NUL), in the
 * same atomic write as the records. Set it after the records it covers went
 * to dedup_record: a commit then never stores a position past a record it
 * has not decided, and a rerun from the stored position reads again at most
 * records the state already holds (which it drops). Without a state nothing
 * is stored. dedup_position_get reads the value committed so far:
 * @return 1, 0 when there is none (or no state), or LING_ESTORE.
 */
void dedup_position_set(struct dedup *d, const char *name, const char *value);
int dedup_position_get(struct dedup *d, const char *name, struct ling_buf *out, struct ling_err *err);

/* Frees d. Records not committed by dedup_finish are forgotten, as if the run had crashed. */
void dedup_close(struct dedup *d);

/* ---- the building blocks, for tests and other stages ---- */

struct dedup_hasher;

/* A hasher holds scratch space and the permutations of p; one per thread. */
struct dedup_hasher *dedup_hasher_new(const struct dedup_params *p);
void dedup_hasher_free(struct dedup_hasher *h);

/* Appends the exact-match normal form of UTF-8 s to out. @return 0 or LING_EDATA (invalid UTF-8). */
int dedup_normalize_exact(struct dedup_hasher *h, const char *s, size_t n, struct ling_buf *out,
			  struct ling_err *err);

/* Appends the near-match normal form (words separated by single spaces) to out. @return as above. */
int dedup_normalize_near(struct dedup_hasher *h, const char *s, size_t n, struct ling_buf *out,
			 struct ling_err *err);

/* The 128-bit exact hash of s (its normal form hashed). */
struct dedup_hash128 {
	uint64_t lo, hi;
};
int dedup_exact_hash(struct dedup_hasher *h, const char *s, size_t n, struct dedup_hash128 *out,
		     struct ling_err *err);

/*
 * The shingle hashes x of s (with repeats, in text order) into *out (grown
 * with xgrow, *cap its capacity). @return their number (0 for a text with no
 * words), or LING_EDATA.
 */
long dedup_shingles(struct dedup_hasher *h, const char *s, size_t n, uint32_t **out, size_t *cap,
		    struct ling_err *err);

/*
 * The signature of s (bands * rows values) and its bucket keys (bands).
 * @return the number of shingles (0: no words; sig and keys are then unset)
 * or LING_EDATA.
 */
long dedup_signature(struct dedup_hasher *h, const char *s, size_t n, uint32_t *sig, uint64_t *keys,
		     struct ling_err *err);

/* The signature of shingle hashes x[0..n) (n > 0). */
void dedup_minhash(const struct dedup_hasher *h, const uint32_t *x, size_t n, uint32_t *sig);

/* The bucket keys of a signature. */
void dedup_band_keys(const struct dedup_params *p, const uint32_t *sig, uint64_t *keys);

/* The fraction of equal values of two signatures of n values. */
double dedup_similarity(const uint32_t *a, const uint32_t *b, int n);

#endif
