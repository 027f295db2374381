/*
 * tok_train: learns a byte-level BPE tokenizer from text and writes it as a
 * Hugging Face tokenizer.json that pip's `tokenizers` and tok_load_hf()
 * load and encode alike.
 *
 * The recipe is GPT-2's with a cl100k split: the text is cut into words by
 * the cl100k/Llama-3 Split regex (FORMATS.md 1.4), a word is its UTF-8
 * bytes, the alphabet is the 256 bytes, and each step merges the adjacent
 * pair of tokens seen most often in the corpus (counting each word times its
 * frequency). Ties go to the pair whose left, then right, token id is lower
 * (ids grow in order of creation), so the result depends only on the word
 * counts: the same text gives the same bytes.
 *
 * Counting is incremental, as in HF's BpeTrainer and SentencePiece: a table
 * of distinct words with their counts, pair counts kept up to date by each
 * merge, for each pair the words that hold it, and a max-heap of pairs with
 * lazily refreshed counts. A merge touches only the words that hold the
 * pair; the corpus is never scanned again.
 *
 * The file: ids 0..255 are the bytes (byte b is id b), then the merged
 * tokens in order; special tokens follow the model vocabulary as added
 * tokens (HF gives an added token that is not in the vocabulary the next free
 * id, so they must come last). A merge whose bytes are already a token
 * (say "ab"+"c" after "a"+"bc") is kept and maps to that token, as in HF.
 *
 * Ownership: a struct tok_train owns copies of everything added; it is not
 * for two threads at once. The library never prints.
 */
#ifndef TOK_TRAIN_H
#define TOK_TRAIN_H

#include "../common/ling_err.h"
#include "../common/ling_mem.h"

#include <stddef.h>
#include <stdint.h>

struct tok_train;

struct tok_train_opts {
	size_t vocab_size;            /* all ids: 256 bytes + merged tokens + specials */
	uint64_t min_frequency;       /* pairs seen fewer times are not merged (>= 1) */
	const char *const *specials;  /* added tokens, in id order; NUL-terminated UTF-8 */
	size_t nspecials;
};

/* What the training did, for the summary line. */
struct tok_train_stats {
	uint64_t words;               /* words (pre-tokens) read */
	size_t distinct;              /* distinct words */
	size_t merges;                /* merges written */
	size_t vocab;                 /* ids written, specials included */
};

/*
 * Checks the options and makes an empty trainer.
 * @return 0, or LING_EUSAGE: a vocabulary smaller than 256 + specials or
 * larger than 2^22, min_frequency 0, an empty, repeated or invalid UTF-8
 * special token.
 */
int tok_train_new(struct tok_train **out, const struct tok_train_opts *opts, struct ling_err *err);

/*
 * Splits len bytes of UTF-8 text into words and counts them. Texts are
 * independent: no word spans two calls.
 * @return 0, LING_EDATA for invalid UTF-8 (err->col = the 1-based offset of
 * the first bad byte; nothing of the text is counted), LING_ELIMIT for a text
 * of 1 GiB or more or when the regex engine gives up.
 */
int tok_train_add(struct tok_train *tr, const char *text, size_t len, struct ling_err *err);

/*
 * Learns the merges and appends the tokenizer.json to out. May be called
 * once; stops early (with a smaller vocabulary) when no pair is seen
 * min_frequency times.
 * @return 0, or LING_EUSAGE when called twice.
 */
int tok_train_finish(struct tok_train *tr, struct ling_buf *out, struct tok_train_stats *stats,
		     struct ling_err *err);

void tok_train_free(struct tok_train *tr);

#endif
