/*
 * libFuzzer target: tok_chat_render on the input as a chat sample (one JSON
 * object, parsed as tokenize's dataset reader parses a line), with the Qwen
 * template and, when the input's last byte is odd, the Ling one too.
 *
 * The tokenizer is a small byte-level BPE built in memory on the first call:
 * the full Qwen3 tokenizer.json takes about 2 s to load under ASan, a fifth
 * of t1900's budget. It has the ChatML and Ling added tokens, the 256 byte
 * tokens, a few merges, Qwen3's split regex and no normalizer, so the ids of
 * a rendering decode back to its text byte for byte.
 *
 * Checks: a failed render returns LING_EDATA (a malformed sample) or an
 * error of tok_encode, with err set, and leaves ids and mask as they were;
 * otherwise ids and mask have equal length, every mask value is 0 or 1,
 * some is 1 exactly when the sample has an assistant message (its turn and
 * end-of-turn token are trained on), the ids decode to the rendered text,
 * and a second render gives the same ids, mask and text. Run by
 * tests/t1900-fuzz.sh.
 */
#include "common/ling_err.h"
#include "common/ling_mem.h"
#include "tokenize/tokenize.h"
#include "tokenize/tok_chat_internal.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whole tokens of the template text and of common sample text, merged left to right. */
static const char *const words[] = {
	"<|", "|>\n", "im", "start", "end", "system\n", "user\n", "assistant\n", " the", " of", " is", "ing", "name",
	"arguments", "\": ", "\", \"", "\n\n", " Paris", "function", "tool_call", "call_1", "description",
};
static const char *const added[] = {
	"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>", "<tool_response>",
	"</tool_response>", "<think>", "</think>", "<|role_end|>", "<role>", "</role>",
};

static int printable(unsigned b)
{
	return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

/* bytes as GPT-2's byte-level alphabet, as a JSON string's content (all of it is plain ASCII or UTF-8). */
static void byte_level(struct ling_buf *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned b = (unsigned char)s[i], cp = b, k;

		if (!printable(b))
			for (cp = 0x100, k = 0; k < b; k++)
				cp += !printable(k);
		if (cp == '"' || cp == '\\')
			ling_buf_addc(out, '\\');
		if (cp < 0x80) {
			ling_buf_addc(out, (char)cp);
		} else {
			ling_buf_addc(out, (char)(0xC0 | (cp >> 6)));
			ling_buf_addc(out, (char)(0x80 | (cp & 0x3F)));
		}
	}
}

static struct tok *tiny_tokenizer(void)
{
	struct ling_buf j = LING_BUF_INIT, merges = LING_BUF_INIT;
	struct ling_err err;
	struct tok *t = NULL;
	size_t i, k, id = 256;

	ling_buf_adds(&j, "{\"added_tokens\": [");
	for (i = 0; i < sizeof(added) / sizeof(added[0]); i++)
		ling_buf_addf(&j, "%s{\"id\": %zu, \"content\": \"%s\", \"special\": true}", i ? ", " : "", 1000 + i,
			      added[i]);
	ling_buf_adds(&j, "], \"normalizer\": null, \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": ["
			  "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"(?i:'s|'t|'re|'ve|'m|'ll|'d)|"
			  "[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}| ?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|"
			  "\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+\"}, \"behavior\": \"Isolated\", \"invert\": false}, "
			  "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": false}]}, "
			  "\"decoder\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\", \"vocab\": {");
	for (i = 0; i < 256; i++) {
		char b = (char)i;

		ling_buf_adds(&j, i ? ", \"" : "\"");
		byte_level(&j, &b, 1);
		ling_buf_addf(&j, "\": %zu", i);
	}
	/* Each prefix of a word (two bytes or more) is a token, made by merging the one before with a byte. */
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		for (k = 2; k <= strlen(words[i]); k++) {
			ling_buf_adds(&j, ", \"");
			byte_level(&j, words[i], k);
			ling_buf_addf(&j, "\": %zu", id++);
			ling_buf_adds(&merges, merges.len ? ", \"" : "\"");
			byte_level(&merges, words[i], k - 1);
			ling_buf_addc(&merges, ' ');
			byte_level(&merges, words[i] + k - 1, 1);
			ling_buf_addc(&merges, '"');
		}
	}
	ling_buf_adds(&j, "}, \"merges\": [");
	ling_buf_add(&j, merges.data, merges.len);
	ling_buf_adds(&j, "]}}");
	ling_err_clear(&err);
	if (tok_load_hf_mem(&t, "tiny", j.data, j.len, &err)) {
		fprintf(stderr, "fuzz: the tiny tokenizer does not load: %s\n", err.msg);
		abort();
	}
	ling_buf_release(&j);
	ling_buf_release(&merges);
	return t;
}

static int has_assistant(const json_t *sample)
{
	const json_t *m;
	size_t i;

	json_array_foreach(json_object_get(sample, "messages"), i, m)
		if (!strcmp(json_string_value(json_object_get(m, "role")), "assistant"))
			return 1;
	return 0;
}

static void check_render(struct tok *t, struct tok_chat *c, const json_t *sample)
{
	struct ling_u32s ids = LING_U32S_INIT, mask = LING_U32S_INIT, ids2 = LING_U32S_INIT, mask2 = LING_U32S_INIT;
	struct ling_buf text = LING_BUF_INIT, text2 = LING_BUF_INIT, decoded = LING_BUF_INIT;
	struct ling_err err;
	size_t i, ones = 0;
	int rc;

	/* One id already there: a failed render must leave it, a good one append after it. */
	ling_u32s_push(&ids, 7);
	ling_u32s_push(&mask, 0);
	ling_err_clear(&err);
	rc = tok_chat_render(c, sample, &ids, &mask, &text, &err);
	if (rc) {
		if (rc != err.code || !err.msg[0] || (rc != LING_EDATA && rc != LING_ELIMIT)) {
			fprintf(stderr, "fuzz: a failed render without err set: %d %d %s\n", rc, err.code, err.msg);
			abort();
		}
		if (ids.n != 1 || mask.n != 1 || text.len) {
			fprintf(stderr, "fuzz: a failed render changed its outputs\n");
			abort();
		}
		goto out;
	}
	if (ids.n != mask.n) {
		fprintf(stderr, "fuzz: %zu ids but %zu mask values\n", ids.n, mask.n);
		abort();
	}
	for (i = 1; i < mask.n; i++) {
		if (mask.v[i] > 1) {
			fprintf(stderr, "fuzz: mask value %u at %zu\n", (unsigned)mask.v[i], i);
			abort();
		}
		ones += mask.v[i];
	}
	if (!ones != !has_assistant(sample)) {
		fprintf(stderr, "fuzz: %zu ids with mask 1, but the sample %s an assistant message\n", ones,
			ones ? "has no" : "has");
		abort();
	}
	if (tok_decode(t, ids.v + 1, ids.n - 1, &decoded, &err) || decoded.len != text.len ||
	    (text.len && memcmp(decoded.data, text.data, text.len))) {
		fprintf(stderr, "fuzz: the ids do not decode to the rendered text\n--- text\n%.*s\n--- decoded\n%.*s\n",
			(int)text.len, text.data ? text.data : "", (int)decoded.len, decoded.data ? decoded.data : "");
		abort();
	}
	if (tok_chat_render(c, sample, &ids2, &mask2, &text2, &err) || ids2.n + 1 != ids.n ||
	    memcmp(ids2.v, ids.v + 1, ids2.n * sizeof(*ids.v)) || memcmp(mask2.v, mask.v + 1, ids2.n * sizeof(*mask.v)) ||
	    text2.len != text.len || (text.len && memcmp(text2.data, text.data, text.len))) {
		fprintf(stderr, "fuzz: a second render differs from the first\n");
		abort();
	}
out:
	ling_u32s_release(&ids);
	ling_u32s_release(&mask);
	ling_u32s_release(&ids2);
	ling_u32s_release(&mask2);
	ling_buf_release(&text);
	ling_buf_release(&text2);
	ling_buf_release(&decoded);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tok *t;
	static struct tok_chat *qwen, *ling;
	struct ling_err err;
	json_error_t jerr;
	json_t *sample;

	if (!t) {
		t = tiny_tokenizer();
		ling_err_clear(&err);
		if (tok_chat_new(&qwen, TOK_CHAT_QWEN, t, &err) || tok_chat_new(&ling, TOK_CHAT_LING, t, &err)) {
			fprintf(stderr, "fuzz: tok_chat_new: %s\n", err.msg);
			abort();
		}
	}
	sample = json_loadb((const char *)data, size, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
	if (!sample)
		return 0;
	check_render(t, qwen, sample);
	if (size && (data[size - 1] & 1))
		check_render(t, ling, sample);
	json_decref(sample);
	return 0;
}
