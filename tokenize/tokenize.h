/*
 * tokenize.h: the public header of the tokenize stage (libtokenize.a), the
 * one the tokenize mains and later stages (the trainer reads the dataset:
 * its manifest and shards) include; tests/tools/shardgen writes shards. Its
 * sections:
 *   tokenizers      load a tokenizer.json or tiktoken file, encode, decode
 *   lines           the encode/decode line converter of `tokenize encode|decode`
 *   training        learn a byte-level BPE tokenizer (`tokenize train`)
 *   shards          Megatron MMIDIDX shards: the format, the writer and the reader
 *   datasets        JSON Lines samples to a dataset directory (`tokenize build`)
 *   chat            a conversation rendered for the model's next turn (eval/'s agent)
 * The modules' own headers, *_internal.h, are for tokenize/ and its unit tests.
 */
#ifndef TOKENIZE_H
#define TOKENIZE_H

#include "../common/ling_err.h"
#include "../common/ling_mem.h"

#include <stddef.h>
#include <stdint.h>

/* ==== tokenizers (tok.c, tok_json.c, tok_bpe.c, tok_norm.c, tok_regex.c) ==== */

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

struct tok;

/* Token ids are a struct ling_u32s (common/ling_mem.h): v[0..n), owned by the caller. */

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

/*
 * Loads the tokenizer at path: a tiktoken rank file when its name contains
 * ".tiktoken" (tok_is_tiktoken; with encoding as tok_load_tiktoken takes it),
 * else a Hugging Face tokenizer.json. @return as those.
 */
int tok_load(struct tok **out, const char *path, const char *encoding, struct ling_err *err);

/* Whether path names a tiktoken rank file (its name contains ".tiktoken"). */
int tok_is_tiktoken(const char *path);

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
int tok_encode(struct tok *t, const char *text, size_t len, unsigned flags, struct ling_u32s *out,
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

/* ==== lines (tok_lines.c): `tokenize encode` and `tokenize decode` ==== */

/*
 * The line converter of `tokenize encode|decode`: one input line (without
 * its newline) to one output line (with it).
 *   encode        the line is the text; out gets its ids separated by spaces
 *   encode JSONL  the line is a JSON object whose "text" string is encoded
 *                 (U+0000 allowed: a NUL byte is text like any other);
 *                 out gets {"ids":[...]}
 *   decode        ids separated by spaces, commas, tabs or CRs; out gets
 *                 their text as it is
 *   decode JSONL  a JSON object with an "ids" array; out gets {"text":...}
 *                 (escaped as jansson escapes)
 * Ownership: a struct tok_lines borrows its tokenizer and, like it, serves
 * one thread at a time.
 */
enum tok_lines_flags {
	TOK_LINES_DECODE = 1 << 0, /* ids to text (else text to ids) */
	TOK_LINES_JSONL = 1 << 1,  /* JSON Lines in and out */
};

struct tok_lines;

/* A converter on t; encode_flags (enum tok_encode_flags) are passed to tok_encode. */
struct tok_lines *tok_lines_new(struct tok *t, unsigned flags, unsigned encode_flags);

/*
 * Converts line number lineno of input name, appending one output line to
 * out. On error out is as it was.
 * @return 0, or LING_EDATA with err at name:lineno(:col): bad JSON, not an
 * object, no "text" string, no "ids" array, "ids[N] is not a token id",
 * "expected token ids separated by spaces", invalid UTF-8 (encode, its
 * byte column without JSONL), "ids[N]: " and the tokenizer's message (an id
 * not in the vocabulary); LING_ELIMIT when the regex engine gives up.
 */
int tok_lines_convert(struct tok_lines *c, const char *name, long lineno, const char *line, size_t len,
		      struct ling_buf *out, struct ling_err *err);

void tok_lines_free(struct tok_lines *c);

/* ==== training (tok_train.c) ==== */

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

/*
 * Reading a corpus (tok_train_input.c). Per file, its first non-blank line
 * decides: JSON Lines (it starts with '{'): each record's text_field string,
 * or else the content of each of its messages (chat samples; parts' texts
 * too), blank lines skipped; otherwise plain text, newlines included (fed in
 * chunks of about 1 MiB, cut before a line that starts a word).
 * A reader borrows its trainer; one thread.
 */
struct tok_train_reader;

/* @return 0, or LING_EUSAGE when text_field is not a field path (ling_jsonl_paths_new). */
int tok_train_reader_new(struct tok_train_reader **out, struct tok_train *tr, const char *text_field,
			 struct ling_err *err);

/*
 * Adds the text of the file at path ("-": stdin; compressed input is
 * decompressed), counting its lines (records) in *read. A bad line
 * (LING_EDATA at file:line: bad JSON, "no text: ...", invalid UTF-8) goes to
 * on_bad, which returns nonzero to stop the run: the file ends with that
 * error.
 * @return 0, that LING_EDATA, or LING_EIO / LING_ELIMIT from the input or
 * the trainer.
 */
int tok_train_read_file(struct tok_train_reader *r, const char *path,
			int (*on_bad)(void *ctx, const struct ling_err *err), void *ctx, long long *read,
			struct ling_err *err);

void tok_train_reader_free(struct tok_train_reader *r);

/* ==== shards (tok_shard.c) ==== */

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
int tok_shard_get(const struct tok_shard *s, uint64_t i, struct ling_u32s *out, struct ling_err *err);

/* ==== datasets (tok_dataset.c) ==== */

/*
 * tok_dataset: JSON Lines samples to a dataset directory (DESIGN.md §3.4),
 * the input of the trainer and of Megatron-LM/NeMo.
 *
 * Layout of DIR:
 *   manifest.json                 what the dataset is (below); written last
 *   SPLIT-NNNNNN.bin/.idx         Megatron MMIDIDX token shards ("shards" above),
 *                                 one document per sequence, u16 or i32
 *   SPLIT-NNNNNN.mask.bin/.idx    the loss mask beside each: u8, one 0/1 per
 *                                 token (1 = train on it; tok_chat_internal.h)
 *   .lock                         held (flock) while a run writes
 * SPLIT is train, valid or test; NNNNNN counts up per split over all runs.
 *
 * Records: a chat sample ({"messages": [...], "tools": [...]}, rendered by
 * tok_chat with the template) or a text record ({"text": "..."}, or another
 * field: text_field), encoded as ordinary text (special-token text stays
 * text) with every token trained, and the eod token appended when one is
 * set. A chat sample ends with the chat_eod token (untrained), so that
 * Megatron's reset_position_ids/reset_attention_mask separate the packed
 * documents; a chat sample already rendered (tok_chat_check_rendered:
 * Hermes text, ChatML markers) is rejected, never wrapped twice. A record goes to a split by xxh3_64 of its "id" (a string, or an
 * integer as its decimal text; without an id, the whole line):
 * h % 10000 < 10000*w_train/W gives train, < 10000*(w_train+w_valid)/W
 * valid, else test (W = w_train+w_valid+w_test). The split of a record never
 * depends on the other records, so it stays put as the data grows.
 * A shard is closed (and the next one begun) once it holds shard_tokens
 * tokens or more; a document is never cut.
 *
 * manifest.json (format "ling-dataset", version 1): the tokenizer (path,
 * sha256 of its decompressed bytes, vocab size, dtype), template,
 * text_field, eod, chat_eod, split weights and rule, shard_tokens, totals (documents,
 * tokens, trained tokens; per split too), every shard (name, split,
 * documents, tokens, trained tokens, run), every source (path, sha256 of
 * the file as stored, or, for stdin and pipes, of the lines read, each
 * ending in "\n", decompressed; records
 * written, rejected, run) and every run.
 *
 * Crash safety: shards are written atomically ("shards") and the
 * manifest last (temporary file, fsync, rename): a run killed at any point
 * leaves the previous manifest, and the dataset it describes, intact. Shard
 * files that the manifest does not name are leftovers of such a run and are
 * removed by the next one. A run that fails removes the shards it wrote.
 *
 * Append: adds new shards after the existing ones and rewrites the
 * manifest; refused when the tokenizer's sha256 differs, or when the
 * template, text field, eod token, chat_eod or split weights given differ
 * from the manifest's (those not given are taken from it; a manifest
 * without chat_eod, from before it, has none). A source file whose
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
 * Threads: records are parsed, rendered and tokenized by `jobs` threads
 * (the calling thread one of them, once it has read the next batch), each
 * with its own tokenizer; they are written in input order, so the bytes do
 * not depend on the number of threads.
 *
 * The library never prints: bad records within max_errors go to the
 * on_reject callback, in input order; the one beyond is the error returned.
 */

#define TOK_DATASET_SHARD_TOKENS 100000000ULL
#define TOK_DATASET_MAX_JOBS 8

enum tok_dataset_split { TOK_SPLIT_TRAIN, TOK_SPLIT_VALID, TOK_SPLIT_TEST, TOK_SPLIT_COUNT };

struct tok_dataset_stats {
	long long read, written, rejected;   /* records of this run */
	long long rendered;                  /* of the rejected: chat samples already rendered (Hermes text) */
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
	const char *chat_eod;      /* token appended to chat samples, untrained, or "none";
				      default <|endoftext|> when the tokenizer has it */
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

/*
 * Parses split weights "TRAIN,VALID,TEST" (say "98,1,1"; each 0..1000000)
 * into w[TOK_SPLIT_COUNT]. @return 0, or -1 when s is not three such numbers.
 */
int tok_dataset_parse_split(const char *s, unsigned *w);

/* ==== chat (tok_chat.c) ==== */

/*
 * The chat templates `tokenize build` renders samples with
 * (tok_chat_internal.h describes them), for a program that talks with a
 * trained model: the conversation so far, rendered by the same code into the
 * ids the model was trained on, then the header of the assistant turn it
 * writes next. A struct tok_chat borrows its tokenizer and, like it, serves
 * one thread at a time.
 */
struct tok_chat;

/*
 * Binds the template called name ("qwen": ChatML with Hermes tool calls;
 * "ling": Ling 2.0) to t (borrowed: it must outlive the renderer).
 * @return 0, or LING_EUSAGE for another name or when t lacks a token the
 * template needs (the message names it).
 */
int tok_chat_open(struct tok_chat **out, const char *name, struct tok *t, struct ling_err *err);

/* 1 when name is a template tok_chat_open knows, else 0. */
int tok_chat_template_known(const char *name);

/*
 * Renders the conversation json[0..len), a JSON object shaped as a chat
 * sample (doc/kg2samples-format.md: "tools", an array of OpenAI tool objects,
 * and "messages": system, user, assistant with "tool_calls", tool), as
 * `tokenize build` renders it, then the generation prompt ("<|im_start|>assistant\n"
 * for qwen, "<role>ASSISTANT</role>" for ling; transformers'
 * add_generation_prompt=true). Appends the ids to ids and, when text is not
 * NULL, the rendered text to text.
 * @return 0, LING_EDATA (not JSON, or a malformed conversation: the message
 * names the part; ids are left as they were), or an error of tok_encode.
 */
int tok_chat_prompt(struct tok_chat *c, const char *json, size_t len, struct ling_u32s *ids, struct ling_buf *text,
		    struct ling_err *err);

/* The id of the template's end-of-turn token (<|im_end|>, <|role_end|>). */
uint32_t tok_chat_end_of_turn(const struct tok_chat *c);

/* Frees c (not its tokenizer). NULL is fine. */
void tok_chat_free(struct tok_chat *c);

#endif
