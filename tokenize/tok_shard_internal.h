/*
 * tok_shard_internal.h: the shard writer (tokenize.h has the format and the
 * reader). For tok_dataset.c and the tests' shard generator.
 */
#ifndef TOK_SHARD_INTERNAL_H
#define TOK_SHARD_INTERNAL_H

#include "tokenize.h"

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

#endif
