/*
 * tok_dataset: JSON Lines samples to a dataset directory (DESIGN.md §3.4),
 * the input of the trainer and of Megatron-LM/NeMo.
 *
 * Layout of DIR:
 *   manifest.json                 what the dataset is (below); written last
 *   SPLIT-NNNNNN.bin/.idx         Megatron MMIDIDX token shards (tok_shard.h),
 *                                 one document per sequence, u16 or i32
 *   SPLIT-NNNNNN.mask.bin/.idx    the loss mask beside each: u8, one 0/1 per
 *                                 token (1 = train on it; tok_chat.h)
 *   .lock                         held (flock) while a run writes
 * SPLIT is train, valid or test; NNNNNN counts up per split over all runs.
 *
 * Records: a chat sample ({"messages": [...], "tools": [...]}, rendered by
 * tok_chat with the template) or a text record ({"text": "..."}, or another
 * field: text_field), encoded as ordinary text (special-token text stays
 * text) with every token trained, and the eod token appended when one is
 * set. A record goes to a split by xxh3_64 of its "id" (a string, or an
 * integer as its decimal text; without an id, the whole line):
 * h % 10000 < 10000*w_train/W gives train, < 10000*(w_train+w_valid)/W
 * valid, else test (W = w_train+w_valid+w_test). The split of a record never
 * depends on the other records, so it stays put as the data grows.
 * A shard is closed (and the next one begun) once it holds shard_tokens
 * tokens or more; a document is never cut.
 *
 * manifest.json (format "ling-dataset", version 1): the tokenizer (path,
 * sha256 of its decompressed bytes, vocab size, dtype), template,
 * text_field, eod, split weights and rule, shard_tokens, totals (documents,
 * tokens, trained tokens; per split too), every shard (name, split,
 * documents, tokens, trained tokens, run), every source (path, sha256 of
 * the file as stored, or, for stdin and pipes, of the lines read, each
 * ending in "\n", decompressed; records
 * written, rejected, run) and every run.
 *
 * Crash safety: shards are written atomically (tok_shard.h) and the
 * manifest last (temporary file, fsync, rename): a run killed at any point
 * leaves the previous manifest, and the dataset it describes, intact. Shard
 * files that the manifest does not name are leftovers of such a run and are
 * removed by the next one. A run that fails removes the shards it wrote.
 *
 * Append: adds new shards after the existing ones and rewrites the
 * manifest; refused when the tokenizer's sha256 differs, or when the
 * template, text field, eod token or split weights given differ from the
 * manifest's (those not given are taken from it). A source file whose
 * sha256 the manifest already lists is skipped, so a retried nightly run
 * adds nothing twice; so is stdin ("-"), which is read into a spool file
 * in DIR first to be hashed (a named pipe streams, and is not skipped).
 * Without append a directory that holds a manifest is refused.
 *
 * A source that is a directory stands for its segment files: the regular
 * files named *.jsonl, *.jsonl.gz or *.jsonl.zst, not hidden, in name order
 * (dedup --out's part-NNNNNNNN.jsonl); with append, those the dataset has
 * are skipped, so `--append unique/` adds each night's new segments.
 *
 * A directory without manifest.json that holds shard files is refused
 * (shards of a dataset whose manifest went missing are not ours to delete),
 * unless the marker .new-dataset is there: a first run creates it before
 * its first shard and removes it after its manifest, so it marks the
 * shards of a first run that was killed, which are removed.
 *
 * Threads: records are parsed, rendered and tokenized by `jobs` threads,
 * each with its own tokenizer; they are written in input order, so the
 * bytes do not depend on the number of threads.
 *
 * The library never prints: bad records within max_errors go to the
 * on_reject callback, in input order; the one beyond is the error returned.
 */
#ifndef TOK_DATASET_H
#define TOK_DATASET_H

#include "../common/ling_err.h"

#include <stddef.h>
#include <stdint.h>

#define TOK_DATASET_SHARD_TOKENS 100000000ULL
#define TOK_DATASET_MAX_JOBS 8

enum tok_dataset_split { TOK_SPLIT_TRAIN, TOK_SPLIT_VALID, TOK_SPLIT_TEST, TOK_SPLIT_COUNT };

struct tok_dataset_stats {
	long long read, written, rejected;   /* records of this run */
	long long docs[TOK_SPLIT_COUNT];     /* documents written, per split */
	uint64_t tokens, trained;            /* tokens written, and those with mask 1 */
	unsigned shards;                     /* token shards written */
	unsigned skipped_files;              /* sources already in the dataset */
};

struct tok_dataset_opts {
	const char *dir;
	const char *tokenizer;     /* a tokenizer.json or .tiktoken file (may be compressed) */
	const char *encoding;      /* tiktoken encoding, or NULL (from the file name) */
	/* NULL/0 = the manifest's when appending, else the default noted */
	const char *tpl;           /* "qwen" or "ling"; default: qwen, or ling, when the tokenizer has their tokens */
	const char *text_field;    /* default "text" */
	const char *eod;           /* token appended to text records; default none */
	uint64_t shard_tokens;     /* default TOK_DATASET_SHARD_TOKENS */
	const unsigned *split;     /* TOK_SPLIT_COUNT weights; default 98, 1, 1 */
	int append;
	int jobs;                  /* 0 = the online CPUs, at most TOK_DATASET_MAX_JOBS */
	long long max_errors;
	const char *const *files;  /* "-" is stdin */
	size_t nfiles;
	/* Called on the writing thread. Any may be NULL. */
	void (*on_reject)(void *ctx, const struct ling_err *err);        /* a bad record */
	void (*on_skip)(void *ctx, const char *path);                    /* a source already in the dataset */
	void (*on_progress)(void *ctx, const struct tok_dataset_stats *st);
	void *ctx;
};

/*
 * Tokenizes o->files into the dataset directory o->dir (created when
 * missing, its parent must exist), as above, filling *st.
 * @return 0; LING_EUSAGE (bad options: an unknown template, a tokenizer
 * without the template's tokens, an unknown eod token, split weights that
 * sum to 0; a directory with a manifest without append; a directory of other
 * files; a directory in use by another run); LING_EDATA (a bad record beyond
 * max_errors, err at FILE:LINE:COL; a bad tokenizer or manifest; an append
 * that conflicts with the manifest); LING_EIO. On error the directory is as
 * it was before the run, but for leftovers the next run removes.
 */
int tok_dataset_build(const struct tok_dataset_opts *o, struct tok_dataset_stats *st, struct ling_err *err);

/* "train", "valid", "test". */
const char *tok_dataset_split_name(enum tok_dataset_split s);

/*
 * The split of a record: xxh3_64 of key (the id, or the line) against the
 * weights, as above.
 */
enum tok_dataset_split tok_dataset_split_of(const void *key, size_t len, const unsigned *weights);

#endif
