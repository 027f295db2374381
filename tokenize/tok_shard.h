/*
 * tok_shard: Megatron-LM MMIDIDX indexed datasets (a PREFIX.bin/PREFIX.idx
 * pair), written and read, so that Megatron-LM and NeMo read our shards as
 * they are (FORMATS.md §0.8 and §4.1, DESIGN.md §3.4).
 *
 * .idx, all little-endian: "MMIDIDX\0\0", u64 version = 1, u8 dtype code,
 * u64 S = sequence count, u64 D = document count (= documents + 1),
 * int32 lengths[S] (items), int64 pointers[S] (byte offsets into .bin),
 * int64 doc_idx[D] (0, then the sequence count after each document).
 * .bin: the items of all sequences, concatenated, no header or padding.
 *
 * The writer makes one sequence per document, so doc_idx = 0, 1, ..., S.
 * Token shards use tok_shard_dtype_for_vocab(); the parallel loss-mask shard
 * (one 0/1 byte per token, 1 = train on it) is the same writer with
 * TOK_SHARD_U8.
 *
 * Atomicity: the writer writes PREFIX.bin.tmp and PREFIX.idx.tmp; close
 * syncs both, removes an old PREFIX.idx, renames the .bin then the .idx into
 * place and syncs the directory. The .idx appears last, so a PREFIX.idx
 * always means a complete pair; a .bin without its .idx is an unfinished one.
 *
 * The reader maps both files and checks the header, the counts against the
 * .idx size, and every sequence against the .bin size, so a corrupt or
 * truncated pair is LING_EDATA, never a crash (a file truncated by someone
 * else while mapped still raises SIGBUS, as with any mmap).
 *
 * Neither side prints; errors fill a struct ling_err. A writer or reader
 * must not be used by two threads at once.
 */
#ifndef TOK_SHARD_H
#define TOK_SHARD_H

#include "../common/ling_err.h"
#include "tok.h"

#include <stddef.h>
#include <stdint.h>

/* Megatron dtype codes (indexed_dataset.py DType). */
enum tok_shard_dtype {
	TOK_SHARD_U8 = 1,
	TOK_SHARD_I8 = 2,
	TOK_SHARD_I16 = 3,
	TOK_SHARD_I32 = 4,
	TOK_SHARD_I64 = 5,
	TOK_SHARD_F64 = 6,
	TOK_SHARD_F32 = 7,
	TOK_SHARD_U16 = 8,
};

/* Size of the .idx header before the lengths: magic 9 + version 8 + dtype 1 + counts 16. */
#define TOK_SHARD_HEADER_SIZE 34

/* Megatron's optimal_dtype: TOK_SHARD_U16 when vocab_size < 65500, else TOK_SHARD_I32. */
enum tok_shard_dtype tok_shard_dtype_for_vocab(size_t vocab_size);

/* Bytes per item of a dtype code, 0 for an unknown code. */
size_t tok_shard_dtype_size(int dtype);

/* "u8", "i8", "i16", "i32", "i64", "f64", "f32", "u16", or NULL for an unknown code. */
const char *tok_shard_dtype_name(int dtype);

/* ---- writer ---- */

struct tok_shard_writer;

/*
 * Creates PREFIX.bin.tmp (and later PREFIX.idx.tmp) for a new shard whose
 * items have dtype TOK_SHARD_U8, TOK_SHARD_U16, TOK_SHARD_I32 or TOK_SHARD_I64.
 * @return 0 with *out set, LING_EUSAGE (another dtype), LING_EIO (cannot create).
 */
int tok_shard_writer_open(struct tok_shard_writer **out, const char *prefix, enum tok_shard_dtype dtype,
			  struct ling_err *err);

/*
 * Appends one document of n items (one sequence; n may be 0).
 * @return 0, LING_ELIMIT (an item does not fit the dtype, or the document has
 * more than INT32_MAX items; nothing is written and the writer stays usable),
 * LING_EIO (write error; the writer can then only be aborted or closed).
 */
int tok_shard_writer_add(struct tok_shard_writer *w, const uint32_t *tokens, size_t n, struct ling_err *err);

/* Sequences added so far. */
uint64_t tok_shard_writer_count(const struct tok_shard_writer *w);
/* Items added so far. */
uint64_t tok_shard_writer_items(const struct tok_shard_writer *w);

/*
 * Writes the .idx and makes the pair visible atomically (see above), then
 * frees w, whatever the result. On error the temporary files are removed.
 * @return 0, LING_EIO.
 */
int tok_shard_writer_close(struct tok_shard_writer *w, struct ling_err *err);

/* Removes the temporary files and frees w. NULL is fine. */
void tok_shard_writer_abort(struct tok_shard_writer *w);

/* ---- reader ---- */

struct tok_shard;

/*
 * Opens PREFIX.idx and PREFIX.bin (read-only, mapped).
 * @return 0 with *out set, LING_EIO (cannot open or map), LING_EDATA (bad
 * magic or version, unknown dtype, counts that do not match the .idx size,
 * document indices that are not 0..S non-decreasing, or a sequence outside
 * the .bin; err->file is the file at fault).
 */
int tok_shard_open(struct tok_shard **out, const char *prefix, struct ling_err *err);

/* Unmaps and frees. NULL is fine. */
void tok_shard_close(struct tok_shard *s);

enum tok_shard_dtype tok_shard_get_dtype(const struct tok_shard *s);
/* S, the number of sequences. */
uint64_t tok_shard_count(const struct tok_shard *s);
/* The number of documents (document_count - 1). */
uint64_t tok_shard_doc_count(const struct tok_shard *s);
/* Document boundaries: sequences doc_idx[d] .. doc_idx[d+1]-1 form document d, d <= doc_count. */
uint64_t tok_shard_doc_index(const struct tok_shard *s, uint64_t d);
/* Items in all sequences. */
uint64_t tok_shard_items(const struct tok_shard *s);

/* Items in sequence i (i < count). */
size_t tok_shard_len(const struct tok_shard *s, uint64_t i);
/* The raw little-endian items of sequence i (i < count); NULL when it is empty. */
const void *tok_shard_data(const struct tok_shard *s, uint64_t i);

/*
 * Appends the items of sequence i (i < count) to out as uint32 values.
 * @return 0, LING_EDATA (a negative or too large value, at its sequence and
 * position), LING_EUSAGE (a floating-point dtype).
 */
int tok_shard_get(const struct tok_shard *s, uint64_t i, struct tok_ids *out, struct ling_err *err);

#endif
