/*
 * tok: byte-pair-encoding tokenizers with the same ids as Hugging Face
 * tokenizers and tiktoken.
 *
 * Two sources: a Hugging Face tokenizer.json (model BPE; byte-level like
 * GPT-2/Llama-3/Qwen, or SentencePiece-style with byte fallback like
 * Mistral), or a tiktoken rank file plus the name of its encoding (which
 * gives the split regex and the special tokens, as tiktoken's own code does).
 *
 * Encoding follows HF: the text is split on added tokens (only with
 * TOK_ENCODE_SPECIAL; they are matched in the raw text, longest first),
 * each other segment is normalised, pre-tokenised (regex splits, PCRE2 in
 * UTF + Unicode-property mode) and BPE-merged by merge rank with ties to
 * the leftmost pair (heap and linked list, O(n log n) per piece).
 * No BOS/EOS is added (HF add_special_tokens=false).
 *
 * Ownership and threads: a struct tok is immutable after loading except
 * for scratch buffers used by tok_encode, so one struct tok must not be
 * used by two threads at once; load one per thread (or share nothing).
 * The library never prints; errors fill a struct ling_err.
 */
#ifndef TOK_H
#define TOK_H

#include "../common/ling_err.h"
#include "../common/ling_mem.h"

#include <stddef.h>
#include <stdint.h>

struct tok;

/* A growable array of token ids, owned by the caller (tok_ids_release). */
struct tok_ids {
	uint32_t *v;
	size_t len;
	size_t cap;
};

#define TOK_IDS_INIT { NULL, 0, 0 }

void tok_ids_release(struct tok_ids *ids);
/* Appends one id. */
void tok_ids_push(struct tok_ids *ids, uint32_t id);

enum tok_encode_flags {
	/* Match added/special tokens in the text (HF default behaviour, tiktoken
	 * allowed_special="all"). Without it every byte of the text is ordinary
	 * text (tiktoken encode_ordinary, transformers split_special_tokens). */
	TOK_ENCODE_SPECIAL = 1 << 0,
};

/*
 * Loads a Hugging Face tokenizer.json from path.
 * @return 0, or LING_EIO (cannot read), LING_EDATA (malformed JSON, with
 * err at path:line:col, or an inconsistent or unsupported tokenizer, with
 * the JSON path of the bad part in the message).
 */
int tok_load_hf(struct tok **out, const char *path, struct ling_err *err);

/* As tok_load_hf, from memory; name is used in error positions. */
int tok_load_hf_mem(struct tok **out, const char *name, const char *json, size_t len, struct ling_err *err);

/*
 * Loads a tiktoken rank file (base64 token, space, rank per line).
 * encoding names the split pattern and special tokens: "gpt2"/"r50k_base",
 * "p50k_base", "cl100k_base" or "o200k_base"; NULL takes the file's base
 * name without ".tiktoken".
 * @return 0, LING_EIO, LING_EDATA (bad line, at path:line), LING_EUSAGE
 * (unknown encoding).
 */
int tok_load_tiktoken(struct tok **out, const char *path, const char *encoding, struct ling_err *err);

/*
 * Encodes len bytes of UTF-8 text, appending ids to out.
 * @return 0, or LING_EDATA for invalid UTF-8 (err->col = the 1-based byte
 * offset of the first bad byte), LING_ELIMIT when the regex engine gives up.
 */
int tok_encode(struct tok *t, const char *text, size_t len, unsigned flags, struct tok_ids *out,
	       struct ling_err *err);

/*
 * Decodes ids to text, appended to out (as HF decode with
 * skip_special_tokens=false: byte-level bytes back, Metaspace/▁ to spaces,
 * <0xNN> byte fallback; invalid UTF-8 becomes U+FFFD).
 * @return 0, or LING_EDATA for an id that is not in the vocabulary
 * (err->col = its 1-based index in ids).
 */
int tok_decode(const struct tok *t, const uint32_t *ids, size_t n, struct ling_buf *out, struct ling_err *err);

/* One more than the largest id (vocabulary and added tokens). */
size_t tok_vocab_size(const struct tok *t);

/* The id of token text s (vocabulary or added token), or -1. */
long tok_token_id(const struct tok *t, const char *s, size_t len);

void tok_free(struct tok *t);

#endif
