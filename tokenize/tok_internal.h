/*
 * tok_internal.h: the parts of struct tok shared by the tokenize/ modules.
 * Not a public header: the mains and other stages use tokenize.h only.
 */
#ifndef TOK_INTERNAL_H
#define TOK_INTERNAL_H

#include "tokenize.h"

#include "../common/ling_unicode.h"

#include <stddef.h>
#include <stdint.h>

#define TOK_NONE UINT32_MAX
/* Ids are below this (real vocabularies hold up to about 2^18 tokens). */
#define TOK_MAX_ID (1 << 22)

/* ---- tok_bytes.c: the GPT-2 byte <-> unicode table (FORMATS.md fact 3) ---- */

/* The code point that stands for byte b in byte-level vocabularies. */
unsigned tok_byte_to_cp(unsigned char b);
/* The byte code point cp stands for, or -1 when cp is not in the table. */
int tok_cp_to_byte(unsigned long cp);
/* Appends the raw bytes that the byte-level string s stands for. @return 0, or -1 (appending
 * nothing) when s has a character outside the table (or is not UTF-8). */
int tok_bytes_from_unicode(const char *s, size_t len, struct ling_buf *out);
/* Appends s with each byte mapped to its table character (UTF-8). */
void tok_bytes_to_unicode(const char *s, size_t len, struct ling_buf *out);

/* ---- tok_regex.c: PCRE2 (UTF, UCP, JIT) ---- */

struct tok_regex;

/* Compiles pattern (literal: the string itself, not a regex). @return 0 or LING_EDATA with the
 * offset in the pattern in the message. */
int tok_regex_new(struct tok_regex **out, const char *pattern, size_t len, int literal, struct ling_err *err);
/* Finds the first match in s[from, len) (s must be valid UTF-8). @return 1 with [*ms, *me), 0 for
 * none, or LING_ELIMIT when matching fails. */
int tok_regex_find(struct tok_regex *re, const char *s, size_t len, size_t from, size_t *ms, size_t *me,
		   struct ling_err *err);
void tok_regex_free(struct tok_regex *re);

/* ---- the tokenizer ---- */

struct tok_span {
	uint32_t off, len;
};

enum tok_norm_kind { TOK_NORM_NFC, TOK_NORM_NFKC, TOK_NORM_PREPEND, TOK_NORM_REPLACE, TOK_NORM_LOWERCASE };

struct tok_norm {
	enum tok_norm_kind kind;
	char *str;               /* PREPEND: the prefix; REPLACE: the replacement */
	struct tok_regex *re;    /* REPLACE: the pattern */
};

enum tok_pre_kind { TOK_PRE_SPLIT, TOK_PRE_BYTELEVEL, TOK_PRE_METASPACE };
enum tok_split_behavior { TOK_SPLIT_REMOVED, TOK_SPLIT_ISOLATED, TOK_SPLIT_PREV, TOK_SPLIT_NEXT, TOK_SPLIT_CONTIGUOUS };

struct tok_pre {
	enum tok_pre_kind kind;
	struct tok_regex *re;    /* SPLIT, or BYTELEVEL with use_regex */
	enum tok_split_behavior behavior;
	int invert;
	int add_prefix_space;    /* BYTELEVEL */
	char *replacement;       /* METASPACE */
	int prepend;             /* METASPACE: 0 never, 1 first, 2 always */
	int split;               /* METASPACE */
};

struct tok_added {
	char *content;
	size_t len;
	uint32_t id;
	int lstrip, rstrip, special;
};

/* Hash slots of the merge table: (left id, right id) -> (rank, merged id). */
struct tok_pair {
	uint64_t key;           /* left << 32 | right; UINT64_MAX = empty */
	uint32_t rank, id;
};

struct tok_sym {
	uint32_t id, off, len;
	int32_t prev, next;
};

struct tok_heap_ent {
	uint32_t rank, pos, right, id, lid, rid;
};

struct tok {
	/* Tokens by id: bytes in arena (raw bytes for byte-level models). len TOK_NONE = no token. */
	struct ling_buf arena;
	struct tok_span *tokens;
	size_t ntokens, cap_tokens;
	/* Model vocabulary: bytes -> id, open addressing, slot = id + 1 (0 = empty). */
	uint32_t *vtab;
	size_t vmask, nvocab;
	struct tok_pair *pairs;
	size_t pmask, npairs;

	int byte_level;         /* symbols start as single bytes (else as UTF-8 characters) */
	int tiktoken;           /* pair rank = rank of the concatenated bytes */
	int ignore_merges, byte_fallback, fuse_unk;
	uint32_t unk;           /* TOK_NONE when none */
	uint32_t byte_ids[256]; /* byte-level: single-byte tokens; byte fallback: <0xNN> */

	struct tok_norm *norm;
	size_t nnorm;
	struct tok_pre *pre;
	size_t npre;
	struct tok_regex *split_re; /* tiktoken: the encoding's pattern */

	struct tok_added *added;
	size_t nadded;

	/* Decoder (not byte-level): ▁ -> " " replacement, <0xNN> bytes, leading spaces stripped. */
	char *dec_from, *dec_to;
	int dec_byte_fallback;
	int dec_strip;

	/* Scratch for tok_encode. */
	struct ling_buf nbuf, tbuf;
	struct tok_span *pieces, *pieces2;
	size_t cap_pieces, cap_pieces2;
	struct tok_sym *syms;
	size_t cap_syms;
	struct tok_heap_ent *heap;
	size_t cap_heap;
	struct tok_bpe_cache *bpe_cache; /* tok_bpe.c: piece -> ids, made on first use */
	struct ling_unicode uni;         /* tok_norm.c: ICU scratch */
};

struct tok *tok_new_empty(void);
/* Adds a vocabulary token; the bytes are copied. @return 0, or -1 when the bytes are already there
 * with another id (the first is kept). */
int tok_vocab_add(struct tok *t, uint32_t id, const char *s, size_t len);
/* Sets the text of id without making it part of the model vocabulary (added tokens). */
void tok_set_token(struct tok *t, uint32_t id, const char *s, size_t len);
/* Model vocabulary lookup. @return the id or TOK_NONE. */
uint32_t tok_vocab_find(const struct tok *t, const char *s, size_t len);
/* tok_vocab_add for n tokens, ids[k] with the bytes s + q[k], in order, prefetching a few ahead
 * (a load adds 10^5 tokens or more to a table bigger than the cache). Stops at the first token
 * whose bytes are already there. @return the number added. */
size_t tok_vocab_add_batch(struct tok *t, const char *s, const struct tok_span *q, const uint32_t *ids, size_t n);
/* ids[k] = tok_vocab_find(t, s + q[k]) for k < n, prefetching a few lookups ahead. */
void tok_vocab_find_batch(const struct tok *t, const char *s, const struct tok_span *q, size_t n, uint32_t *ids);
/* Sizes the vocabulary and merge tables for nvocab more tokens and npairs more merges, so that
 * adding them rehashes nothing. */
void tok_reserve(struct tok *t, size_t nvocab, size_t npairs);
/* Adds a merge (first one wins). */
void tok_pair_add(struct tok *t, uint32_t left, uint32_t right, uint32_t rank, uint32_t id);
const struct tok_pair *tok_pair_find(const struct tok *t, uint32_t left, uint32_t right);
/* Starts reading the slot of (left, right), for a tok_pair_add or tok_pair_find a little later. */
void tok_pair_prefetch(const struct tok *t, uint32_t left, uint32_t right);

/* ---- tok_json.c ---- */

enum tok_load_flags {
	TOK_LOAD_REFERENCE = 1 << 0, /* jansson for the whole document (the fast path's reference) */
	TOK_LOAD_FAST_ONLY = 1 << 1, /* fail with LING_EDATA where the fast path gives up */
};

/* tok_load_hf_mem with flags, for the tests that hold the fast path to the reference one. */
int tok_load_hf_mem_flags(struct tok **out, const char *name, const char *json, size_t len, unsigned flags,
			  struct ling_err *err);

/* tok_bpe.c: BPE-encodes one pre-token, appending ids. */
void tok_bpe_piece(struct tok *t, const char *s, size_t len, struct ling_u32s *out);
void tok_bpe_cache_free(struct tok_bpe_cache *c);
/* The merge loop of a piece cut into chunks of about chunk bytes, where no merge crosses a cut (the
 * same ids as one loop over the whole piece, in linear time); long pieces go this way. For the tests.
 * @return the number of chunks, 1 when it ran one loop over the whole piece. */
size_t tok_bpe_merge_chunked(struct tok *t, const char *s, size_t len, size_t chunk, struct ling_u32s *out);

/* tok_norm.c: applies the normalizers to s, into out. @return 0 or LING_EDATA/ELIMIT. */
int tok_normalize(struct tok *t, const char *s, size_t len, struct ling_buf *out, struct ling_err *err);

#endif
