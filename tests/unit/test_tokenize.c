/*
 * Unit tests for libtokenize (tokenize/): the GPT-2 byte table, the merge
 * loop (ties, ignore_merges, byte fallback, unk), regex splits of tricky
 * strings, added tokens and decoding, on small hand-written tokenizers; and
 * the fast tokenizer.json loader held to the jansson one (the same tables,
 * or the same error) on those, on their one-byte mutations and on the
 * shipped tokenizers (LING_DATA).
 */
#include "tap.h"

#include "tokenize/tokenize.h"
#include "tokenize/tok_internal.h"
#include "common/ling_input.h"

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
	struct ling_u32s ids = LING_U32S_INIT;
	struct ling_err err;
	size_t i, n = 0;

	out[0] = '\0';
	ling_err_clear(&err);
	if (tok_encode(t, s, strlen(s), flags, &ids, &err)) {
		snprintf(out, sizeof(out), "error: %s", err.msg);
	} else {
		for (i = 0; i < ids.n && n < sizeof(out) - 16; i++)
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%u", i ? " " : "", ids.v[i]);
	}
	ling_u32s_release(&ids);
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
static const char bl_json[] =
	"{\"added_tokens\":[{\"id\":9,\"content\":\"<|x|>\",\"special\":true}],"
	"\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true},"
	"\"decoder\":{\"type\":\"ByteLevel\"},"
	"\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"\\u0120\":2,\"aa\":3,\"ab\":4,\"\\u0120a\":5,\"aaa\":6,\"aab\":7},"
	"\"merges\":[\"a a\",[\"a\",\"b\"],\"\\u0120 a\",[\"aa\",\"b\"]]}}";

static void test_merge(void)
{
	struct tok *t = load(bl_json);
	struct ling_u32s ids = LING_U32S_INIT;
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
	ids.n = 0;
	ling_u32s_push(&ids, 77);
	ok(tok_decode(t, ids.v, 1, &out, &err) == LING_EDATA && err.col == 1, "an unknown id is LING_EDATA at its index");
	is_int(tok_token_id(t, "<|x|>", 5), 9, "tok_token_id finds an added token");
	is_int(tok_token_id(t, "aab", 3), 7, "tok_token_id finds a vocab token");
	ling_u32s_release(&ids);
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

/* ---- the fast tokenizer.json path against the reference (jansson) path ---- */

static int same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* NULL when a and b hold the same tables and settings, else what differs. */
static const char *tables_differ(const struct tok *a, const struct tok *b)
{
	size_t i;

	if (a->ntokens != b->ntokens)
		return "token count";
	for (i = 0; i < a->ntokens; i++)
		if (a->tokens[i].len != b->tokens[i].len ||
		    (a->tokens[i].len != TOK_NONE &&
		     memcmp(a->arena.data + a->tokens[i].off, b->arena.data + b->tokens[i].off, a->tokens[i].len)))
			return "token bytes";
	if (a->nvocab != b->nvocab || a->vmask != b->vmask ||
	    (a->vtab && memcmp(a->vtab, b->vtab, (a->vmask + 1) * sizeof(*a->vtab))) || !a->vtab != !b->vtab)
		return "vocabulary table";
	if (a->npairs != b->npairs || a->pmask != b->pmask || !a->pairs != !b->pairs)
		return "merge table size";
	for (i = 0; a->pairs && i <= a->pmask; i++) { /* empty slots hold only their key */
		const struct tok_pair *pa = &a->pairs[i], *pb = &b->pairs[i];

		if (pa->key != pb->key || (pa->key != UINT64_MAX && (pa->rank != pb->rank || pa->id != pb->id)))
			return "merge table";
	}
	if (a->byte_level != b->byte_level || a->ignore_merges != b->ignore_merges ||
	    a->byte_fallback != b->byte_fallback || a->fuse_unk != b->fuse_unk || a->unk != b->unk ||
	    memcmp(a->byte_ids, b->byte_ids, sizeof(a->byte_ids)))
		return "model settings";
	if (a->nadded != b->nadded)
		return "added token count";
	for (i = 0; i < a->nadded; i++)
		if (a->added[i].id != b->added[i].id || a->added[i].len != b->added[i].len ||
		    memcmp(a->added[i].content, b->added[i].content, a->added[i].len) ||
		    a->added[i].lstrip != b->added[i].lstrip || a->added[i].rstrip != b->added[i].rstrip ||
		    a->added[i].special != b->added[i].special)
			return "added tokens";
	if (a->nnorm != b->nnorm || a->npre != b->npre)
		return "normalizer or pre-tokenizer count";
	for (i = 0; i < a->nnorm; i++)
		if (a->norm[i].kind != b->norm[i].kind || !same_str(a->norm[i].str, b->norm[i].str))
			return "normalizers";
	for (i = 0; i < a->npre; i++)
		if (a->pre[i].kind != b->pre[i].kind || a->pre[i].behavior != b->pre[i].behavior ||
		    a->pre[i].invert != b->pre[i].invert || a->pre[i].add_prefix_space != b->pre[i].add_prefix_space ||
		    !same_str(a->pre[i].replacement, b->pre[i].replacement) || a->pre[i].prepend != b->pre[i].prepend)
			return "pre-tokenizers";
	if (!same_str(a->dec_from, b->dec_from) || !same_str(a->dec_to, b->dec_to) ||
	    a->dec_byte_fallback != b->dec_byte_fallback || a->dec_strip != b->dec_strip)
		return "decoder";
	return NULL;
}

/*
 * Loads json three ways: the default (fast path, falling back), the fast path
 * alone and the reference path. @return NULL when the default and the
 * reference agree (same code, message and position, or the same tables) and
 * the fast path alone either gave up or built the reference's tables; else
 * what went wrong. *fast says whether the fast path alone loaded it.
 */
static const char *diff_load(const char *json, size_t len, int *fast)
{
	static char why[1280];
	struct tok *td = NULL, *tf = NULL, *tr = NULL;
	struct ling_err ed, ef, er;
	int rd, rf, rr;
	const char *d = NULL;

	ling_err_clear(&ed);
	ling_err_clear(&ef);
	ling_err_clear(&er);
	rd = tok_load_hf_mem_flags(&td, "diff.json", json, len, 0, &ed);
	rf = tok_load_hf_mem_flags(&tf, "diff.json", json, len, TOK_LOAD_FAST_ONLY, &ef);
	rr = tok_load_hf_mem_flags(&tr, "diff.json", json, len, TOK_LOAD_REFERENCE, &er);
	*fast = !rf;
	if (rd != rr || (rd && (strcmp(ed.msg, er.msg) || ed.line != er.line || ed.col != er.col))) {
		snprintf(why, sizeof(why), "default %d (%s) vs reference %d (%s)", rd, ed.msg, rr, er.msg);
		d = why;
	} else if (!rd && (d = tables_differ(td, tr))) {
		snprintf(why, sizeof(why), "default vs reference: %s", d);
		d = why;
	} else if (!rf && rr) {
		snprintf(why, sizeof(why), "the fast path loads what the reference refuses: %s", er.msg);
		d = why;
	} else if (!rf && (d = tables_differ(tf, tr))) {
		snprintf(why, sizeof(why), "fast vs reference: %s", d);
		d = why;
	} else if ((rd && !ed.msg[0]) || (rf && (rf != ef.code || tf)) || (!rf && !tf)) {
		d = "a result without its error or tokenizer";
	}
	tok_free(td);
	tok_free(tf);
	tok_free(tr);
	return d;
}

/* Small tokenizer.json files that the fast path takes. */
static const char *const fast_json[] = {
	"{\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]}}",
	/* escapes in keys and merges; surrogate pairs; an escaped space splits a merge */
	"{\"model\":{\"vocab\":{\"a\":0,\"\\\"\":1,\"a\\\"\":2,\"\\\\\":3,\"\\/\\b\\f\\n\\r\\t\":4,\"\\ud83d\\ude00\":5,"
	"\"\\u00e9\\u4E2D\":6,\"a\\\\\":7},\"merges\":[\"a \\\"\",\"a\\u0020\\\\\",[\"\\u0061\",\"\\\\\"]]}}",
	/* vocab after merges, model in the middle, escaped member names, odd white space */
	"{\"version\":\"1.0\",\r\n\"truncation\":null,\t\"m\\u006fdel\" :\n{ \"merges\" : [ [ \"a\" , \"b\" ] ,\"ab c\" ] ,"
	"\"dropout\":null,\"v\\u006fcab\" : { \"a\" : 0 , \"b\":1,\"c\":2,\"ab\":3,\"abc\":4 } , \"ignore_merges\":true } ,"
	"\"added_tokens\":[{\"id\":5,\"content\":\"<s>\",\"special\":true}],\"normalizer\":{\"type\":\"NFC\"}}",
	/* byte level: a key outside the GPT-2 table stays raw UTF-8 */
	"{\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false},\"model\":{\"vocab\":{\"\\u0120\":0,"
	"\"a\":1,\"\\u0120a\":2,\"\\u20ac\":3,\"\\u20aca\":4},\"merges\":[\"\\u0120 a\",\"\\u20ac a\"]},"
	"\"decoder\":{\"type\":\"ByteLevel\"}}",
	/* byte fallback and unk, ids out of order and with gaps */
	"{\"model\":{\"unk_token\":\"<unk>\",\"byte_fallback\":true,\"fuse_unk\":true,\"vocab\":{\"<0x41>\":7,"
	"\"<unk>\":0,\"x\":9,\"y\":3,\"xy\":12,\"xyx\":2},\"merges\":[\"x y\",\"xy x\",\"x y\"]}}",
	/* a string that looks like the model key, before it */
	"{\"a\":[\"\\\"model\\\"\",{\"model\":1}],\"model\":{\"vocab\":{\"a\":0},\"merges\":[]}}",
	bl_json,
};

/* Files that the fast path hands to the reference path: it refuses most, takes a few. */
static const char *const slow_json[] = {
	"{\"model\":{\"vocab\":{\"a\":0,\"a\":1},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"a\":0,\"\\u0061\":1},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"a\":0,\"b\":0},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"a\":0,\"b\":0,\"a\":1},\"merges\":[]}}",
	"{\"decoder\":{\"type\":\"ByteLevel\"},\"model\":{\"vocab\":{\"\\u20ac\":0,\"\\u00e2\\u0124\\u00ac\":1},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"a\":-0},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"a\":-1},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"a\":1.0},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"a\":1e2},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"a\":01},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"a\":4194304},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"a\":99999999999999999999},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"a\":\"0\"},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"a\\u0000\":0},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"\\ud800\":0},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"\\udc00\":0},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"\\ud800\\u0041\":0},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"\\ud800\\ue000\":0},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"\\udbff\\udbff\":0},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"\\ud800\\\":0},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"\\u00G0\":0},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"\\x\":0},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"a\xff\":0},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"\xed\xa0\x80\":0},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"\xc0\xaf\":0},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"a\tb\":0},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"a\x1f\":0},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"a\":0,},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"a\":0},\"merges\":[\"a a\",]}}",
	"{\"model\":{\"vocab\":{\"a\":0,\"aa\":1},\"merges\":[\"a  a\"]}}",
	"{\"model\":{\"vocab\":{\"a\":0,\"aa\":1},\"merges\":[\"aa\"]}}",
	"{\"model\":{\"vocab\":{\"a\":0,\"aa\":1},\"merges\":[[\"a\"]]}}",
	"{\"model\":{\"vocab\":{\"a\":0,\"aa\":1},\"merges\":[[\"a\",\"a\",\"a\"]]}}",
	"{\"model\":{\"vocab\":{\"a\":0,\"aa\":1},\"merges\":[[\"a\",0]]}}",
	"{\"model\":{\"vocab\":{\"a\":0,\"aa\":1},\"merges\":[{\"a\":\"a\"}]}}",
	"{\"model\":{\"vocab\":{\"a\":0,\"b\":1},\"merges\":[\"a b\"]}}",
	"{\"model\":{\"vocab\":{\"a\":0},\"merges\":[]},\"model\":{}}",
	"{\"model\":{\"vocab\":{\"a\":0},\"merges\":[],\"vocab\":{}}}",
	"{\"model\":{\"vocab\":{\"a\":0},\"vocab\":{\"b\":0},\"merges\":[]}}",
	"{\"model\":{\"vocab\":{\"a\":0}}}",
	"{\"model\":{\"vocab\":[],\"merges\":[]}}",
	"{\"model\":[],\"x\":1}",
	"{\"x\":{\"model\":{\"vocab\":{},\"merges\":[]}}}",
	"{\"model\":{\"vocab\":{},\"merges\":[]}} x",
	"{\"model\":{\"vocab\":{},\"merges\":[]},\"normalizer\":{\"type\":\"NFD\"}}",
	"{\"model\":{\"vocab\":{},\"merges\":[],\"unk_token\":\"<unk>\"}}",
	"{\"model\":{\"type\":\"BPE\",\n  \"vocab\": {\"a\": 0,}}}",
	"{\"a\":[1}, \"model\":{\"vocab\":{},\"merges\":[]}}",
	"[{\"model\":{\"vocab\":{},\"merges\":[]}}]",
	"\xef\xbb\xbf{\"model\":{\"vocab\":{},\"merges\":[]}}",
	"",
};

static void test_fast_path(void)
{
	size_t i;
	int fast;
	const char *d;

	for (i = 0; i < sizeof(fast_json) / sizeof(fast_json[0]); i++) {
		d = diff_load(fast_json[i], strlen(fast_json[i]), &fast);
		ok(!d && fast, "fast path %zu: the reference path's tables%s%s", i, d ? ": " : "", d ? d : "");
	}
	for (i = 0; i < sizeof(slow_json) / sizeof(slow_json[0]); i++) {
		d = diff_load(slow_json[i], strlen(slow_json[i]), &fast);
		ok(!d && !fast, "reference path %zu: the same result as the reference%s%s", i, d ? ": " : "",
		   d ? d : "");
	}
}

/*
 * Every one-byte deletion, replacement and insertion of the fast path's test
 * files: the default load agrees with the reference path each time.
 */
static void test_fast_path_mutations(void)
{
	static const char bytes[] = { '"', '\\', '{', '}', '[', ']', ',', ':', ' ', '0', '9', 'a', 'u', '\n',
				      '\x80', '\xc4', '\0' };
	struct ling_buf m = LING_BUF_INIT;
	size_t i, pos, k, n = 0, nfast = 0, nbad = 0;
	const char *d, *first = NULL;
	int fast;

	for (i = 0; i < sizeof(fast_json) / sizeof(fast_json[0]); i++) {
		const char *s = fast_json[i];
		size_t len = strlen(s);

		for (pos = 0; pos < len; pos++) {
			for (k = 0; k <= 2 * sizeof(bytes); k++) {
				ling_buf_reset(&m);
				ling_buf_add(&m, s, pos);
				if (k < sizeof(bytes))
					ling_buf_addc(&m, bytes[k]);                 /* replace */
				else if (k < 2 * sizeof(bytes))
					ling_buf_add(&m, &bytes[k - sizeof(bytes)], 1), ling_buf_addc(&m, s[pos]);
				ling_buf_add(&m, s + pos + 1, len - pos - 1); /* k == 2 * size: delete */
				d = diff_load(m.data, m.len, &fast);
				n++;
				nfast += fast;
				if (d && !nbad++)
					first = d, diag("file %zu, byte %zu, mutation %zu: %s", i, pos, k, d);
			}
		}
	}
	ok(nbad == 0, "%zu one-byte mutations: the default load agrees with the reference (%zu on the fast path)%s%s",
	   n, nfast, first ? ": " : "", first ? first : "");
	ling_buf_release(&m);
}

/* The shipped tokenizers: the fast path builds the reference path's tables. */
static void test_fast_path_real(void)
{
	static const char *const names[] = { "gpt2", "mistral-7b-v0.1", "qwen3", "gpt4o-o200k-hf" };
	const char *data = getenv("LING_DATA");
	struct ling_buf path = LING_BUF_INIT, json = LING_BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct ling_input *in = NULL;
		struct ling_err err;
		char chunk[1 << 16];
		ssize_t got = 0;
		const char *d;
		int fast;

		ling_buf_reset(&path);
		ling_buf_addf(&path, "%s/tokenizers/%s.tokenizer.json.zst", data ? data : "tests/data", names[i]);
		ling_buf_reset(&json);
		ling_err_clear(&err);
		if (!ling_input_open(&in, path.data, &err)) {
			while ((got = ling_input_read(in, chunk, sizeof(chunk), &err)) > 0)
				ling_buf_add(&json, chunk, (size_t)got);
			ling_input_close(in);
		}
		if (!in || got < 0) {
			ok(0, "%s: read: %s", names[i], err.msg);
			continue;
		}
		d = diff_load(json.data, json.len, &fast);
		ok(!d && fast, "%s: the fast path builds the reference path's tables%s%s", names[i], d ? ": " : "",
		   d ? d : "");
	}
	ling_buf_release(&path);
	ling_buf_release(&json);
}

/* ---- long pieces in chunks: the ids of one merge loop ---- */

static unsigned long long rng_state = 88172645463325252ULL;

static unsigned rnd(unsigned n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned)(rng_state % n);
}

/* A random string over alphabet: runs of one character, or characters at random. */
static void random_text(struct ling_buf *b, const char *alphabet, size_t len)
{
	size_t n = strlen(alphabet);

	ling_buf_reset(b);
	while (b->len < len) {
		char c = alphabet[rnd((unsigned)n)];
		size_t run = rnd(4) ? 1 : 1 + rnd(40);

		while (run-- && b->len < len)
			ling_buf_addc(b, c);
	}
}

/* Chunked against one loop (chunk >= len) on text. @return 1 when the ids agree; *chunks counts chunked runs. */
static int chunked_agrees(struct tok *t, const struct ling_buf *text, size_t chunk, size_t *chunked)
{
	struct ling_u32s whole = LING_U32S_INIT, cut = LING_U32S_INIT;
	int same;

	tok_bpe_merge_chunked(t, text->data, text->len, text->len + 1, &whole);
	if (tok_bpe_merge_chunked(t, text->data, text->len, chunk, &cut) > 1)
		(*chunked)++;
	same = whole.n == cut.n && !memcmp(whole.v, cut.v, whole.n * sizeof(*whole.v));
	ling_u32s_release(&whole);
	ling_u32s_release(&cut);
	return same;
}

/*
 * A random BPE model over a, b, c (and d unknown, fused into <unk>): random
 * merges of tokens in random rank order, so that merges are often ranked
 * below the merges that make their parts.
 */
static struct tok *random_model(void)
{
	struct ling_buf json = LING_BUF_INIT, merges = LING_BUF_INIT;
	char tokens[64][16];
	size_t n = 3, i, k, nmerges = 0;
	unsigned order[64];
	char pairs[64][2];
	struct tok *t;

	memcpy(tokens[0], "a", 2);
	memcpy(tokens[1], "b", 2);
	memcpy(tokens[2], "c", 2);
	while (n < 40) {
		unsigned x = rnd((unsigned)n), y = rnd((unsigned)n);
		size_t lx = strlen(tokens[x]), ly = strlen(tokens[y]);

		if (lx + ly >= sizeof(tokens[0]))
			continue;
		memcpy(tokens[n], tokens[x], lx);
		memcpy(tokens[n] + lx, tokens[y], ly + 1);
		for (k = 0; k < n && strcmp(tokens[k], tokens[n]); k++)
			;
		if (k < n)
			continue;
		pairs[nmerges][0] = (char)x;
		pairs[nmerges][1] = (char)y;
		order[nmerges] = (unsigned)nmerges;
		nmerges++;
		n++;
	}
	for (i = nmerges; i > 1; i--) {
		unsigned j = rnd((unsigned)i), tmp = order[i - 1];

		order[i - 1] = order[j];
		order[j] = tmp;
	}
	ling_buf_adds(&json, "{\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"fuse_unk\":true,\"vocab\":{\"<unk>\":0");
	for (i = 0; i < n; i++)
		ling_buf_addf(&json, ",\"%s\":%zu", tokens[i], i + 1);
	ling_buf_adds(&json, "},\"merges\":[");
	for (i = 0; i < nmerges; i++)
		ling_buf_addf(&merges, "%s\"%s %s\"", i ? "," : "", tokens[(int)pairs[order[i]][0]],
			      tokens[(int)pairs[order[i]][1]]);
	ling_buf_add(&json, merges.data, merges.len);
	ling_buf_adds(&json, "]}}");
	t = load(json.data);
	ling_buf_release(&json);
	ling_buf_release(&merges);
	return t;
}

static void test_chunked_random_models(void)
{
	struct ling_buf text = LING_BUF_INIT;
	size_t m, k, cases = 0, agree = 0, chunked = 0;

	for (m = 0; m < 60; m++) {
		struct tok *t = random_model();

		if (!t) {
			ok(0, "random model %zu loads", m);
			continue;
		}
		for (k = 0; k < 40; k++) {
			random_text(&text, k % 4 ? "abc" : "abcd", 100 + rnd(400));
			cases++;
			agree += chunked_agrees(t, &text, 4 + rnd(40), &chunked);
		}
		tok_free(t);
	}
	is_int((long long)agree, (long long)cases, "random models: chunked merges give the ids of one loop");
	ok(chunked * 2 > cases, "random models: most pieces were cut (%zu of %zu)", chunked, cases);
	ling_buf_release(&text);
}

static void test_chunked_real(void)
{
	static const char *const names[] = { "gpt2.tokenizer.json.zst", "mistral-7b-v0.1.tokenizer.json.zst",
					      "qwen3.tokenizer.json.zst", "cl100k_base.tiktoken.zst" };
	static const char *const alphabets[] = { "a", "ab", "abcdefghijklmnopqrstuvwxyz", "a b", "0123456789",
						  "\xC3\xA9" "e", "\xE4\xB8\x80\xE4\xBA\x8C\xE4\xB8\x89", "=+/A" };
	const char *data = getenv("LING_DATA");
	struct ling_buf path = LING_BUF_INIT, text = LING_BUF_INIT;
	size_t i, a, k;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct tok *t = NULL;
		struct ling_err err;
		size_t cases = 0, agree = 0, chunked = 0;

		ling_buf_reset(&path);
		ling_buf_addf(&path, "%s/tokenizers/%s", data ? data : "tests/data", names[i]);
		ling_err_clear(&err);
		if (strstr(names[i], ".tiktoken") ? tok_load_tiktoken(&t, path.data, NULL, &err)
						  : tok_load_hf(&t, path.data, &err)) {
			ok(0, "%s loads: %s", names[i], err.msg);
			continue;
		}
		for (a = 0; a < sizeof(alphabets) / sizeof(alphabets[0]); a++)
			for (k = 0; k < 12; k++) {
				random_text(&text, alphabets[a], 2000 + rnd(3000));
				cases++;
				agree += chunked_agrees(t, &text, 16 + rnd(300), &chunked);
			}
		is_int((long long)agree, (long long)cases, "%s: chunked merges give the ids of one loop", names[i]);
		ok(chunked * 4 > cases * 3, "%s: most pieces were cut (%zu of %zu)", names[i], chunked, cases);
		tok_free(t);
	}
	ling_buf_release(&path);
	ling_buf_release(&text);
}

int main(void)
{
	test_bytes();
	test_merge();
	test_sentencepiece();
	test_split();
	test_bad();
	test_fast_path();
	test_fast_path_mutations();
	test_fast_path_real();
	test_chunked_random_models();
	test_chunked_real();
	return done_testing();
}
