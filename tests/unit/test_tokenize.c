/*
 * Unit tests for libtokenize (tokenize/): the GPT-2 byte table, the merge
 * loop (ties, ignore_merges, byte fallback, unk), regex splits of tricky
 * strings, added tokens and decoding, on small hand-written tokenizers.
 */
#include "tap.h"

#include "tokenize/tok.h"
#include "tokenize/tok_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

static struct tok *load(const char *json)
{
	struct ling_err err;
	struct tok *t = NULL;

	ling_err_clear(&err);
	if (tok_load_hf_mem(&t, "test.json", json, strlen(json), &err))
		diag("load failed: %s", err.msg);
	return t;
}

/* Encodes s and formats the ids as "1 2 3". */
static const char *enc(struct tok *t, const char *s, unsigned flags)
{
	static char out[1024];
	struct tok_ids ids = TOK_IDS_INIT;
	struct ling_err err;
	size_t i, n = 0;

	out[0] = '\0';
	ling_err_clear(&err);
	if (tok_encode(t, s, strlen(s), flags, &ids, &err)) {
		snprintf(out, sizeof(out), "error: %s", err.msg);
	} else {
		for (i = 0; i < ids.len && n < sizeof(out) - 16; i++)
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%u", i ? " " : "", ids.v[i]);
	}
	tok_ids_release(&ids);
	return out;
}

static void test_bytes(void)
{
	struct ling_buf b = LING_BUF_INIT;
	int i, all = 1;

	is_int(tok_byte_to_cp(' '), 0x120, "space is U+0120 (Ġ)");
	is_int(tok_byte_to_cp('\n'), 0x10A, "newline is U+010A (Ċ)");
	is_int(tok_byte_to_cp('\t'), 0x109, "tab is U+0109 (ĉ)");
	is_int(tok_byte_to_cp('A'), 'A', "printable ASCII is itself");
	is_int(tok_byte_to_cp(0xAD), 0x143, "soft hyphen 0xAD is the last remapped byte");
	for (i = 0; i < 256; i++)
		all &= tok_cp_to_byte(tok_byte_to_cp((unsigned char)i)) == i;
	ok(all, "the table is a bijection on 256 bytes");
	is_int(tok_cp_to_byte(0x200), -1, "U+0200 is not in the table");
	ok(tok_bytes_from_unicode("\xC4\xA0hi", 4, &b) == 0, "Ġhi decodes");
	is_mem(b.data, b.len, " hi", 3, "Ġhi is \" hi\"");
	ling_buf_reset(&b);
	ok(tok_bytes_from_unicode("\xC8\x80", 2, &b) < 0, "a character outside the table is refused");
	ling_buf_reset(&b);
	tok_bytes_to_unicode(" \n", 2, &b);
	is_str(b.data, "\xC4\xA0\xC4\x8A", "bytes to unicode");
	ling_buf_release(&b);
}

/* A byte-level model over "a", "b", " " with merges in both forms. */
static const char *bl_json =
	"{\"added_tokens\":[{\"id\":9,\"content\":\"<|x|>\",\"special\":true}],"
	"\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true},"
	"\"decoder\":{\"type\":\"ByteLevel\"},"
	"\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"\\u0120\":2,\"aa\":3,\"ab\":4,\"\\u0120a\":5,\"aaa\":6,\"aab\":7},"
	"\"merges\":[\"a a\",[\"a\",\"b\"],\"\\u0120 a\",[\"aa\",\"b\"]]}}";

static void test_merge(void)
{
	struct tok *t = load(bl_json);
	struct tok_ids ids = TOK_IDS_INIT;
	struct ling_buf out = LING_BUF_INIT;
	struct ling_err err;
	static const uint32_t dec[] = { 3, 2, 9, 1 };

	ok(t != NULL, "byte-level model loads (string and pair merges)");
	if (!t)
		return;
	is_str(enc(t, "aa", 0), "3", "aa merges");
	is_str(enc(t, "aaa", 0), "3 0", "aaa: the leftmost pair of equal rank merges first");
	is_str(enc(t, "aab", 0), "7", "aab: aa (rank 0) then aa+b (rank 3)");
	is_str(enc(t, "ab", 0), "4", "ab merges");
	is_str(enc(t, "aaaa", 0), "3 3", "aaaa: two aa");
	is_str(enc(t, "a a", 0), "0 5", "the regex keeps the space with the next word");
	is_str(enc(t, "a  a", 0), "0 2 5", "a space run gives all but its last space to the previous piece");
	is_str(enc(t, "", 0), "", "empty text, no ids");
	ok(strncmp(enc(t, "a<|x|>b", 0), "0 ", 2) == 0 && !strstr(enc(t, "a<|x|>b", 0), " 9"),
	   "added tokens are ordinary text without the flag");
	is_str(enc(t, "a<|x|>b", TOK_ENCODE_SPECIAL), "0 9 1", "added token matched with TOK_ENCODE_SPECIAL");
	is_str(enc(t, "a\xFF", 0), "error: invalid UTF-8 at byte 2", "invalid UTF-8 is an error");
	ling_err_clear(&err);
	ok(tok_decode(t, dec, 4, &out, &err) == 0, "decode");
	is_str(out.data, "aa <|x|>b", "decode maps bytes back and added tokens as text");
	ling_buf_reset(&out);
	ids.len = 0;
	tok_ids_push(&ids, 77);
	ok(tok_decode(t, ids.v, 1, &out, &err) == LING_EDATA && err.col == 1, "an unknown id is LING_EDATA at its index");
	is_int(tok_token_id(t, "<|x|>", 5), 9, "tok_token_id finds an added token");
	is_int(tok_token_id(t, "aab", 3), 7, "tok_token_id finds a vocab token");
	tok_ids_release(&ids);
	ling_buf_release(&out);
	tok_free(t);
}

/* SentencePiece style: Prepend/Replace normalizer, byte fallback, unk. */
#define SP_JSON \
	"{\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Prepend\",\"prepend\":\"\\u2581\"}," \
	"{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"\\u2581\"}]}," \
	"\"pre_tokenizer\":null," \
	"\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Replace\",\"pattern\":{\"String\":\"\\u2581\"},\"content\":\" \"}," \
	"{\"type\":\"ByteFallback\"},{\"type\":\"Fuse\"},{\"type\":\"Strip\",\"content\":\" \",\"start\":1,\"stop\":0}]}," \
	"\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"fuse_unk\":true,\"byte_fallback\":%s," \
	"\"vocab\":{\"<unk>\":0,\"<0xC3>\":1,\"<0xA9>\":2,\"\\u2581\":3,\"h\":4,\"i\":5,\"hi\":6,\"\\u2581hi\":7}," \
	"\"merges\":[\"h i\",\"\\u2581 hi\"]}}"

static void test_sentencepiece(void)
{
	char json[2048];
	struct tok *t;
	struct ling_buf out = LING_BUF_INIT;
	struct ling_err err;
	static const uint32_t ids[] = { 7, 1, 2, 3, 6 };

	snprintf(json, sizeof(json), SP_JSON, "true");
	t = load(json);
	ok(t != NULL, "SentencePiece-style model loads");
	if (t) {
		is_str(enc(t, "hi", 0), "7", "▁ prepended, ▁hi merged");
		is_str(enc(t, "hi\xC3\xA9 hi", 0), "7 1 2 7", "é falls back to <0xC3><0xA9>");
		is_str(enc(t, "", 0), "", "empty text: nothing prepended");
		ling_err_clear(&err);
		ok(tok_decode(t, ids, 5, &out, &err) == 0, "decode");
		is_str(out.data, "hi\xC3\xA9 hi", "decode: ▁ to space, bytes joined, one leading space stripped");
		tok_free(t);
	}
	snprintf(json, sizeof(json), SP_JSON, "false");
	t = load(json);
	if (t) {
		is_str(enc(t, "hi\xC3\xA9\xC3\xA9", 0), "7 0", "without byte fallback, unknown chars fuse into one unk");
		tok_free(t);
	}
	ling_buf_release(&out);
}

static void test_split(void)
{
#define SPLIT_JSON \
		"{\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"Regex\":" \
		"\"%s\"},\"behavior\":\"%s\",\"invert\":%s},{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":false}]}," \
		"\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"\\u0120\":2,\"ab\":3,\"\\u0120a\":4,\"\\u00c3\":5,\"\\u00bf\":6,\"\\u00ef\":7,\"\\u00bb\":8}," \
		"\"merges\":[\"a b\",\"\\u0120 a\"]}}"

	char json[2048];
	struct tok *t;

	/* \s must not match U+FEFF (FORMATS.md golden case 72): "a\uFEFFb" stays one piece under \S+. */
	snprintf(json, sizeof(json), SPLIT_JSON, "\\\\S+|\\\\s+", "Isolated", "false");
	t = load(json);
	ok(t != NULL, "Split model loads");
	if (t) {
		is_str(enc(t, "ab ab", 0), "3 2 3", "Isolated: matches are pieces");
		is_str(enc(t, "a\xEF\xBB\xBF" "b", 0), "0 7 8 6 1", "U+FEFF is not \\s (no split, byte tokens)");
		tok_free(t);
	}
	snprintf(json, sizeof(json), SPLIT_JSON, " ", "Removed", "false");
	t = load(json);
	if (t) {
		is_str(enc(t, "ab ab", 0), "3 3", "Removed: the spaces go");
		tok_free(t);
	}
	snprintf(json, sizeof(json), SPLIT_JSON, " ?a", "Removed", "true");
	t = load(json);
	if (t) {
		is_str(enc(t, "b a", 0), "4", "Removed + invert keeps only the matches");
		tok_free(t);
	}
	snprintf(json, sizeof(json), SPLIT_JSON, " ", "MergedWithNext", "false");
	t = load(json);
	if (t) {
		is_str(enc(t, "b a", 0), "1 4", "MergedWithNext");
		tok_free(t);
	}
	snprintf(json, sizeof(json), SPLIT_JSON, " ", "MergedWithPrevious", "false");
	t = load(json);
	if (t) {
		is_str(enc(t, "a b", 0), "0 2 1", "MergedWithPrevious keeps the space on the left piece");
		tok_free(t);
	}
	snprintf(json, sizeof(json), SPLIT_JSON, "(?i:'s)", "Isolated", "false");
	t = load(json);
	ok(t != NULL, "(?i:...) compiles");
	tok_free(t);
}

static void test_bad(void)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"model\":{\"type\":\"WordPiece\",\"vocab\":{},\"merges\":[]}}",
		"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":-1},\"merges\":[]}}",
		"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"a\"]}}",
		"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"normalizer\":{\"type\":\"NFD\"}}",
		"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},"
		"\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(\"},\"behavior\":\"Isolated\"}}",
		"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[],\"unk_token\":\"<unk>\"}}",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ling_err err;
		struct tok *t = NULL;
		int rc;

		ling_err_clear(&err);
		rc = tok_load_hf_mem(&t, "bad.json", bad[i], strlen(bad[i]), &err);
		ok(rc == LING_EDATA && !t && err.msg[0] && !strcmp(err.file, "bad.json"), "bad tokenizer %zu: %s", i,
		   err.msg);
	}
	{
		struct ling_err err;
		struct tok *t = NULL;

		ling_err_clear(&err);
		ok(tok_load_hf_mem(&t, "x.json", "{\n  \"model\": ,}", 15, &err) == LING_EDATA && err.line == 2,
		   "a JSON syntax error has its line (%ld:%ld)", err.line, err.col);
	}
}

int main(void)
{
	test_bytes();
	test_merge();
	test_sentencepiece();
	test_split();
	test_bad();
	return done_testing();
}
