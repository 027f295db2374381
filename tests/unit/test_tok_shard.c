/*
 * Unit tests for tok_shard (tokenize/tok_shard.c): Megatron MMIDIDX .bin/.idx
 * round trips in u16, i32 and u8 (the loss-mask shard), empty documents, many
 * documents, the exact bytes of a tiny shard (FORMATS.md §4.1), atomic
 * visibility, and corrupt or truncated pairs rejected with LING_EDATA.
 */
#include "tap.h"

#include "tokenize/tokenize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/banned.h"

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data;
	long n;

	*len = 0;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc(n > 0 ? (size_t)n : 1);
	if (n > 0 && fread(data, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	fclose(f);
	*len = (size_t)n;
	return data;
}

static void spew(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, len, f) != len)
		diag("cannot write %s", path);
	if (f)
		fclose(f);
}

static int exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Writes docs (n documents, lens[i] items each, concatenated in all) to prefix. */
static int write_docs(const char *prefix, enum tok_shard_dtype dtype, const uint32_t *all, const size_t *lens,
		      size_t n)
{
	struct tok_shard_writer *w;
	struct ling_err err;
	int rc;

	ling_err_clear(&err);
	rc = tok_shard_writer_open(&w, prefix, dtype, &err);
	for (size_t i = 0; !rc && i < n; all += lens[i], i++)
		rc = tok_shard_writer_add(w, all, lens[i], &err);
	if (!rc)
		rc = tok_shard_writer_close(w, &err);
	else if (w)
		tok_shard_writer_abort(w);
	if (rc)
		diag("write %s: %s", prefix, err.msg);
	return rc;
}

/* Reads prefix back and compares with the documents. */
static void check_docs(const char *name, const char *prefix, enum tok_shard_dtype dtype, const uint32_t *all,
		       const size_t *lens, size_t n)
{
	struct tok_shard *s;
	struct ling_err err;
	int same = 1;

	ling_err_clear(&err);
	if (!ok(tok_shard_open(&s, prefix, &err) == 0, "%s: opens", name)) {
		diag("%s", err.msg);
		return;
	}
	is_int(tok_shard_get_dtype(s), dtype, "%s: dtype", name);
	is_int((long long)tok_shard_count(s), (long long)n, "%s: sequences", name);
	is_int((long long)tok_shard_doc_count(s), (long long)n, "%s: documents", name);
	for (size_t i = 0; i < n && same; all += lens[i], i++) {
		struct ling_u32s ids = LING_U32S_INIT;

		same = tok_shard_len(s, i) == lens[i] && tok_shard_get(s, i, &ids, &err) == 0 && ids.n == lens[i] &&
		       (lens[i] == 0 || memcmp(ids.v, all, lens[i] * sizeof(*all)) == 0) &&
		       tok_shard_doc_index(s, i + 1) == i + 1;
		if (!same)
			diag("sequence %zu differs", i);
		ling_u32s_release(&ids);
	}
	ok(same, "%s: same items", name);
	tok_shard_close(s);
}

static void test_round_trips(void)
{
	static const uint32_t u16[] = { 0, 1, 65535, 50256, 7, 8, 9 };
	static const uint32_t i32[] = { 0, 65535, 65536, 100000, 2147483647, 128000 };
	static const uint32_t u8[] = { 0, 1, 1, 0, 255, 1 };
	static const size_t u16_lens[] = { 3, 0, 4 };
	static const size_t i32_lens[] = { 6 };
	static const size_t u8_lens[] = { 2, 0, 0, 4, 0 };
	size_t len;
	unsigned char *bin;

	ok(write_docs("rt16", TOK_SHARD_U16, u16, u16_lens, 3) == 0, "u16: writes");
	check_docs("u16", "rt16", TOK_SHARD_U16, u16, u16_lens, 3);
	bin = slurp("rt16.bin", &len);
	is_int((long long)len, 14, "u16: .bin is 2 bytes a token");
	ok(bin && bin[4] == 0xff && bin[5] == 0xff && bin[6] == 0x50 && bin[7] == 0xc4, "u16: little-endian");
	free(bin);
	ok(!exists("rt16.bin.tmp") && !exists("rt16.idx.tmp"), "u16: no temporary files left");

	ok(write_docs("rt32", TOK_SHARD_I32, i32, i32_lens, 1) == 0, "i32: writes");
	check_docs("i32", "rt32", TOK_SHARD_I32, i32, i32_lens, 1);

	ok(write_docs("rt8", TOK_SHARD_U8, u8, u8_lens, 5) == 0, "u8 mask: writes");
	check_docs("u8 mask", "rt8", TOK_SHARD_U8, u8, u8_lens, 5);
	bin = slurp("rt8.bin", &len);
	is_mem(bin, len, "\0\1\1\0\377\1", 6, "u8 mask: .bin bytes");
	free(bin);

	ok(write_docs("empty", TOK_SHARD_U16, NULL, NULL, 0) == 0, "no documents: writes");
	check_docs("no documents", "empty", TOK_SHARD_U16, NULL, NULL, 0);
	ok(write_docs("empty1", TOK_SHARD_U16, NULL, (const size_t[]){ 0 }, 1) == 0, "one empty document: writes");
	check_docs("one empty document", "empty1", TOK_SHARD_U16, NULL, (const size_t[]){ 0 }, 1);
}

static void test_many(void)
{
	enum { NDOC = 5000 };
	size_t *lens = malloc(NDOC * sizeof(*lens)), total = 0;
	uint32_t *all;

	for (size_t i = 0; i < NDOC; i++)
		total += lens[i] = (i * 7919) % 37;
	all = malloc(total * sizeof(*all));
	for (size_t i = 0; i < total; i++)
		all[i] = (uint32_t)((i * 2654435761u) % 65500);
	ok(write_docs("many", TOK_SHARD_U16, all, lens, NDOC) == 0, "5000 documents: writes");
	check_docs("5000 documents", "many", TOK_SHARD_U16, all, lens, NDOC);
	/* Overwriting an existing pair. */
	ok(write_docs("many", TOK_SHARD_U16, all, lens, 10) == 0, "overwrite: writes");
	check_docs("overwrite", "many", TOK_SHARD_U16, all, lens, 10);
	free(all);
	free(lens);
}

/* FORMATS.md §4.1's example, with one document per sequence: [10,11,12], [20,21], [22]. */
static const unsigned char tiny_idx[] = {
	'M', 'M', 'I', 'D', 'I', 'D', 'X', 0, 0,
	1, 0, 0, 0, 0, 0, 0, 0,         /* version */
	8,                              /* dtype u16 */
	3, 0, 0, 0, 0, 0, 0, 0,         /* sequences */
	4, 0, 0, 0, 0, 0, 0, 0,         /* documents + 1 */
	3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, /* lengths */
	0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, /* byte pointers */
	0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, /* document indices */
	2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0,
};
static const unsigned char tiny_bin[] = { 10, 0, 11, 0, 12, 0, 20, 0, 21, 0, 22, 0 };

static void test_exact_bytes(void)
{
	static const uint32_t all[] = { 10, 11, 12, 20, 21, 22 };
	static const size_t lens[] = { 3, 2, 1 };
	unsigned char *got;
	size_t len;

	ok(write_docs("tiny", TOK_SHARD_U16, all, lens, 3) == 0, "tiny: writes");
	check_docs("tiny", "tiny", TOK_SHARD_U16, all, lens, 3);
	got = slurp("tiny.idx", &len);
	is_int((long long)len, 102, "tiny: .idx is 102 bytes");
	is_mem(got, len, tiny_idx, sizeof(tiny_idx), "tiny: .idx bytes");
	free(got);
	got = slurp("tiny.bin", &len);
	is_mem(got, len, tiny_bin, sizeof(tiny_bin), "tiny: .bin bytes");
	free(got);
	is_int(tok_shard_dtype_for_vocab(65499), TOK_SHARD_U16, "vocab 65499: u16");
	is_int(tok_shard_dtype_for_vocab(65500), TOK_SHARD_I32, "vocab 65500: i32");
	is_int(tok_shard_dtype_for_vocab(50257), TOK_SHARD_U16, "vocab 50257: u16");
}

/* Writes idx (len bytes) and the tiny .bin (bin_len bytes of it) to "bad", and expects err_code. */
static void expect_bad(const char *name, const unsigned char *idx, size_t len, size_t bin_len, int code,
		       const char *msg_part)
{
	struct tok_shard *s = NULL;
	struct ling_err err;
	int rc;

	ling_err_clear(&err);
	spew("bad.idx", idx, len);
	spew("bad.bin", tiny_bin, bin_len);
	rc = tok_shard_open(&s, "bad", &err);
	is_int(rc, code, "%s: rejected", name);
	ok(s == NULL, "%s: no reader", name);
	if (!ok(strstr(err.msg, msg_part) != NULL, "%s: message mentions '%s'", name, msg_part))
		diag("message: %s", err.msg);
	tok_shard_close(s);
}

static void test_corrupt(void)
{
	unsigned char idx[sizeof(tiny_idx)];
	struct tok_shard *s;
	struct ling_err err;

	for (size_t cut = 0; cut < sizeof(tiny_idx); cut += 7)
		expect_bad("idx truncated", tiny_idx, cut, sizeof(tiny_bin), LING_EDATA,
			   cut < TOK_SHARD_HEADER_SIZE ? "truncated" : "does not hold");
	expect_bad("bin truncated", tiny_idx, sizeof(tiny_idx), sizeof(tiny_bin) - 1, LING_EDATA, "outside");
	expect_bad("bin empty", tiny_idx, sizeof(tiny_idx), 0, LING_EDATA, "outside");

	memcpy(idx, tiny_idx, sizeof(idx));
	idx[0] = 'X';
	expect_bad("bad magic", idx, sizeof(idx), sizeof(tiny_bin), LING_EDATA, "magic");
	memcpy(idx, tiny_idx, sizeof(idx));
	idx[9] = 2;
	expect_bad("version 2", idx, sizeof(idx), sizeof(tiny_bin), LING_EDATA, "version");
	memcpy(idx, tiny_idx, sizeof(idx));
	idx[17] = 9;
	expect_bad("dtype 9", idx, sizeof(idx), sizeof(tiny_bin), LING_EDATA, "dtype");
	memcpy(idx, tiny_idx, sizeof(idx));
	idx[25] = 0x80; /* sequence count 2^63 + 3 */
	expect_bad("huge sequence count", idx, sizeof(idx), sizeof(tiny_bin), LING_EDATA, "does not hold");
	memcpy(idx, tiny_idx, sizeof(idx));
	idx[26] = 0; /* document_count 0 */
	expect_bad("document count 0", idx, sizeof(idx), sizeof(tiny_bin), LING_EDATA, "does not hold");
	memcpy(idx, tiny_idx, sizeof(idx));
	idx[37] = 0xff; /* length of sequence 0 negative */
	expect_bad("negative length", idx, sizeof(idx), sizeof(tiny_bin), LING_EDATA, "negative");
	memcpy(idx, tiny_idx, sizeof(idx));
	idx[34] = 200; /* length of sequence 0 past the end */
	expect_bad("long sequence", idx, sizeof(idx), sizeof(tiny_bin), LING_EDATA, "outside");
	memcpy(idx, tiny_idx, sizeof(idx));
	idx[46 + 16 + 7] = 0x80; /* pointer of sequence 2 negative */
	expect_bad("negative pointer", idx, sizeof(idx), sizeof(tiny_bin), LING_EDATA, "outside");
	memcpy(idx, tiny_idx, sizeof(idx));
	idx[70] = 1; /* doc_idx[0] = 1 */
	expect_bad("doc_idx[0] != 0", idx, sizeof(idx), sizeof(tiny_bin), LING_EDATA, "document index");
	memcpy(idx, tiny_idx, sizeof(idx));
	idx[94] = 2; /* doc_idx[3] = 2, not the sequence count */
	expect_bad("doc_idx ends early", idx, sizeof(idx), sizeof(tiny_bin), LING_EDATA, "end at");
	memcpy(idx, tiny_idx, sizeof(idx));
	idx[86] = 0; /* doc_idx = 0,1,0,3 */
	expect_bad("doc_idx falls", idx, sizeof(idx), sizeof(tiny_bin), LING_EDATA, "document index");

	/* FORMATS.md's own example: documents {0}, {1, 2}, so doc_idx = 0, 1, 3 (94 bytes). */
	memcpy(idx, tiny_idx, 70);
	idx[26] = 3;
	memcpy(idx + 70, "\0\0\0\0\0\0\0\0\1\0\0\0\0\0\0\0\3\0\0\0\0\0\0\0", 24);
	spew("fmt.idx", idx, 94);
	spew("fmt.bin", tiny_bin, sizeof(tiny_bin));
	ling_err_clear(&err);
	if (ok(tok_shard_open(&s, "fmt", &err) == 0, "FORMATS.md example opens")) {
		is_int((long long)tok_shard_doc_count(s), 2, "FORMATS.md example: 2 documents");
		is_int((long long)tok_shard_doc_index(s, 2), 3, "FORMATS.md example: doc_idx[2] = 3");
		is_int((long long)tok_shard_items(s), 6, "FORMATS.md example: 6 tokens");
		tok_shard_close(s);
	}

	ling_err_clear(&err);
	unlink("bad.idx");
	is_int(tok_shard_open(&s, "bad", &err), LING_EIO, "missing .idx: LING_EIO");
	is_int(tok_shard_open(&s, "nowhere/x", &err), LING_EIO, "missing directory: LING_EIO");

	/* A signed dtype with a negative item reads, but does not convert to ids. */
	memcpy(idx, tiny_idx, sizeof(idx));
	idx[17] = TOK_SHARD_I16;
	spew("neg.idx", idx, sizeof(idx));
	spew("neg.bin", "\1\0\2\0\377\377\0\0\0\0\0\0", 12);
	ling_err_clear(&err);
	if (ok(tok_shard_open(&s, "neg", &err) == 0, "i16 shard opens")) {
		struct ling_u32s ids = LING_U32S_INIT;

		is_int(tok_shard_get(s, 0, &ids, &err), LING_EDATA, "i16 -1 is not a token id");
		ling_u32s_release(&ids);
		tok_shard_close(s);
	}
}

static void test_writer_errors(void)
{
	static const uint32_t big[] = { 1, 256 };
	static const uint32_t ok8[] = { 1, 0 };
	struct tok_shard_writer *w;
	struct ling_err err;

	ling_err_clear(&err);
	is_int(tok_shard_writer_open(&w, "f", TOK_SHARD_F32, &err), LING_EUSAGE, "f32 writer refused");
	ok(w == NULL, "f32: no writer");
	is_int(tok_shard_writer_open(&w, "nowhere/x", TOK_SHARD_U8, &err), LING_EIO, "missing directory: LING_EIO");

	if (!ok(tok_shard_writer_open(&w, "mask", TOK_SHARD_U8, &err) == 0, "u8 writer opens"))
		return;
	is_int(tok_shard_writer_add(w, big, 2, &err), LING_ELIMIT, "256 does not fit u8");
	is_int(tok_shard_writer_add(w, ok8, 2, &err), 0, "the writer stays usable");
	is_int((long long)tok_shard_writer_count(w), 1, "one sequence");
	is_int((long long)tok_shard_writer_items(w), 2, "two items");
	ok(exists("mask.bin.tmp") && !exists("mask.bin") && !exists("mask.idx"), "nothing visible before close");
	tok_shard_writer_abort(w);
	ok(!exists("mask.bin.tmp") && !exists("mask.idx.tmp") && !exists("mask.bin"), "abort removes the files");

	if (ok(tok_shard_writer_open(&w, "i32", TOK_SHARD_I32, &err) == 0, "i32 writer opens")) {
		uint32_t v = 2147483648u;

		is_int(tok_shard_writer_add(w, &v, 1, &err), LING_ELIMIT, "2^31 does not fit i32");
		tok_shard_writer_abort(w);
	}
}

int main(void)
{
	test_round_trips();
	test_many();
	test_exact_bytes();
	test_corrupt();
	test_writer_errors();
	return done_testing();
}
