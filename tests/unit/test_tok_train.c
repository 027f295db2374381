/*
 * Unit tests for tok_train (byte-level BPE training) and for the speed paths
 * of encoding that must not change an id: the hand-written split scanner of
 * tok_regex (against PCRE2 on random strings), and the cutting of
 * SentencePiece segments in tok_bpe.
 *
 * The trainer is checked against a naive reference written from the
 * definition (recount every pair of every word at each step), on corpora
 * of three letters, small enough to have many ties, and with a special
 * token that BPE would build.
 */
#include "tap.h"

#include "tokenize/tokenize.h"
#include "tokenize/tok_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

/* ---- a reference trainer ---- */

#define REF_MAX_TOKENS 1024
#define REF_MAX_WORDS 512
#define REF_MAX_LEN 16

struct ref {
	char tok[REF_MAX_TOKENS][REF_MAX_LEN * 2 + 1];
	size_t ntok;
	unsigned syms[REF_MAX_WORDS][REF_MAX_LEN];
	size_t nsyms[REF_MAX_WORDS], count[REF_MAX_WORDS], nwords;
	unsigned merges[REF_MAX_TOKENS][2], done[REF_MAX_TOKENS][2];
	size_t nmerges, ndone;
};

static void ref_add_word(struct ref *r, const char *w)
{
	size_t i, n = strlen(w);

	for (i = 0; i < r->nwords; i++) {
		size_t k;
		int same = r->nsyms[i] == n;

		for (k = 0; same && k < n; k++)
			same = r->syms[i][k] == (unsigned char)w[k];
		if (same) {
			r->count[i]++;
			return;
		}
	}
	for (i = 0; i < n; i++)
		r->syms[r->nwords][i] = (unsigned char)w[i];
	r->nsyms[r->nwords] = n;
	r->count[r->nwords++] = 1;
}

static int ref_done(const struct ref *r, unsigned a, unsigned b)
{
	size_t i;

	for (i = 0; i < r->ndone; i++)
		if (r->done[i][0] == a && r->done[i][1] == b)
			return 1;
	return 0;
}

/* Runs the definition: count all pairs, merge the most frequent (ties: lower a, then b). */
static void ref_train(struct ref *r, size_t model_vocab, size_t min_freq, const char *special)
{
	static size_t counts[REF_MAX_TOKENS][REF_MAX_TOKENS];
	size_t i, w, k;

	for (i = 0; i < 256; i++) {
		r->tok[i][0] = (char)i;
		r->tok[i][1] = '\0';
	}
	r->ntok = 256;
	while (r->ntok < model_vocab) {
		unsigned a = 0, b = 0, z;
		size_t best = 0, o;
		char joined[sizeof(r->tok[0]) * 2];

		memset(counts, 0, sizeof(counts));
		for (w = 0; w < r->nwords; w++)
			for (k = 0; k + 1 < r->nsyms[w]; k++)
				counts[r->syms[w][k]][r->syms[w][k + 1]] += r->count[w];
		for (i = 0; i < r->ntok; i++)
			for (k = 0; k < r->ntok; k++)
				if (counts[i][k] > best && !ref_done(r, (unsigned)i, (unsigned)k)) {
					best = counts[i][k];
					a = (unsigned)i;
					b = (unsigned)k;
				}
		if (!best || best < min_freq)
			break;
		r->done[r->ndone][0] = a;
		r->done[r->ndone++][1] = b;
		snprintf(joined, sizeof(joined), "%s%s", r->tok[a], r->tok[b]);
		if (special && !strcmp(joined, special))
			continue;
		for (z = 0; z < r->ntok && strcmp(r->tok[z], joined); z++)
			;
		if (z == r->ntok) {
			if (strlen(joined) >= sizeof(r->tok[0]))
				break; /* words are shorter than REF_MAX_LEN: never */
			memcpy(r->tok[r->ntok++], joined, strlen(joined) + 1);
		}
		r->merges[r->nmerges][0] = a;
		r->merges[r->nmerges++][1] = b;
		for (w = 0; w < r->nwords; w++) {
			for (k = 0, o = 0; k < r->nsyms[w]; o++) {
				if (k + 1 < r->nsyms[w] && r->syms[w][k] == a && r->syms[w][k + 1] == b) {
					r->syms[w][o] = z;
					k += 2;
				} else {
					r->syms[w][o] = r->syms[w][k++];
				}
			}
			r->nsyms[w] = o;
		}
	}
}

/* ---- helpers ---- */

static struct tok_train *new_trainer(size_t vocab, size_t min_freq, const char *const *specials, size_t nspecials)
{
	struct tok_train_opts o;
	struct tok_train *tr = NULL;
	struct ling_err err;

	memset(&o, 0, sizeof(o));
	o.vocab_size = vocab;
	o.min_frequency = min_freq;
	o.specials = specials;
	o.nspecials = nspecials;
	ling_err_clear(&err);
	if (tok_train_new(&tr, &o, &err))
		diag("tok_train_new: %s", err.msg);
	return tr;
}

static int add(struct tok_train *tr, const char *s)
{
	struct ling_err err;

	ling_err_clear(&err);
	return tok_train_add(tr, s, strlen(s), &err);
}

/* Trains and returns the tokenizer.json (caller frees). */
static char *finish(struct tok_train *tr, struct tok_train_stats *st)
{
	struct ling_buf out = LING_BUF_INIT;
	struct ling_err err;

	ling_err_clear(&err);
	if (tok_train_finish(tr, &out, st, &err))
		diag("tok_train_finish: %s", err.msg);
	tok_train_free(tr);
	return out.data;
}

/* The bytes of a byte-level token string of the JSON. */
static void raw_bytes(const char *s, struct ling_buf *b)
{
	ling_buf_reset(b);
	tok_bytes_from_unicode(s, strlen(s), b);
	if (!b->data)
		ling_buf_adds(b, "");
}

/* ---- the trainer against the reference ---- */

/* A random word of a, b, c (many ties and rebuilt tokens), maybe after a space. */
static void random_word(unsigned *seed, char *w)
{
	size_t n, i = 0;

	*seed = *seed * 1103515245u + 12345u;
	if ((*seed >> 16) % 3 == 0)
		w[i++] = ' ';
	*seed = *seed * 1103515245u + 12345u;
	n = 1 + (*seed >> 16) % 7;
	while (n--) {
		*seed = *seed * 1103515245u + 12345u;
		w[i++] = "aabbc"[(*seed >> 16) % 5];
	}
	w[i] = '\0';
}

static void test_against_reference(void)
{
	static struct ref r;
	struct ling_buf x = LING_BUF_INIT;
	unsigned seed;
	int trial, bad_trials = 0, total_merges = 0;

	for (trial = 0; trial < 40; trial++) {
		size_t vocab = 256 + 5 + (size_t)trial * 3, min_freq = trial % 4 ? 1 : 3, i, nw = 20 + (size_t)trial * 5;
		const char *special = trial % 5 == 0 ? "ab" : NULL; /* a special token BPE would build */
		struct tok_train *tr = new_trainer(vocab, min_freq, special ? &special : NULL, special ? 1 : 0);
		struct tok_train_stats st;
		json_t *root, *merges, *m;
		json_error_t jerr;
		char *json, w[REF_MAX_LEN];
		int same = 1;

		memset(&r, 0, sizeof(r));
		seed = (unsigned)trial * 7919u + 1;
		for (i = 0; i < nw; i++) {
			random_word(&seed, w);
			ref_add_word(&r, w);
			add(tr, w);
		}
		ref_train(&r, vocab - (special ? 1 : 0), min_freq, special);
		json = finish(tr, &st);
		root = json_loads(json ? json : "", 0, &jerr);
		merges = json_object_get(json_object_get(root, "model"), "merges");
		same = json_is_array(merges) && json_array_size(merges) == r.nmerges && st.merges == r.nmerges &&
		       st.vocab == r.ntok + (special ? 1 : 0);
		json_array_foreach(merges, i, m) {
			if (!same)
				break;
			raw_bytes(json_string_value(json_array_get(m, 0)), &x);
			same = !strcmp(x.data, r.tok[r.merges[i][0]]);
			raw_bytes(json_string_value(json_array_get(m, 1)), &x);
			same = same && !strcmp(x.data, r.tok[r.merges[i][1]]);
		}
		if (!same) {
			bad_trials++;
			diag("trial %d: %zu merges, reference %zu", trial, st.merges, r.nmerges);
		}
		total_merges += (int)r.nmerges;
		json_decref(root);
		free(json);
	}
	ling_buf_release(&x);
	is_int(bad_trials, 0, "40 random corpora: the same merges, in order, as the definition");
	ok(total_merges > 500, "and they merge a lot (%d merges)", total_merges);
}

/* ---- what the file holds ---- */

static const char *const texts[] = {
	"The quick brown fox jumps over the lazy dog. The dog sleeps.\n",
	"It's 2024: the fox's 12345 jumps, THE DOG'S nap.\r\n\n  Indented  text\there",
	"Ünïcödé wörds, 東京 and emoji 👍🏽 with a \"quote\" and a back\\slash.",
};

static struct tok *load(const char *json)
{
	struct ling_err err;
	struct tok *t = NULL;

	ling_err_clear(&err);
	if (tok_load_hf_mem(&t, "trained.json", json ? json : "", json ? strlen(json) : 0, &err))
		diag("load: %s", err.msg);
	return t;
}

static char *train_texts(size_t vocab, const char *const *specials, size_t nspecials, int reverse)
{
	struct tok_train *tr = new_trainer(vocab, 1, specials, nspecials);
	size_t i, k, n = sizeof(texts) / sizeof(texts[0]);

	for (k = 0; k < 5; k++)
		for (i = 0; i < n; i++)
			add(tr, texts[reverse ? n - 1 - i : i]);
	return finish(tr, NULL);
}

static void test_file(void)
{
	static const char *const specials[] = { "<|endoftext|>", "<|a\"b\\c|>" };
	char *j1 = train_texts(340, specials, 2, 0), *j2 = train_texts(340, specials, 2, 0), *j3 = train_texts(340, specials, 2, 1);
	struct tok *t = load(j1);
	struct ling_u32s ids = LING_U32S_INIT;
	struct ling_buf back = LING_BUF_INIT;
	struct ling_err err;
	size_t i, roundtrip = 0, shorter = 0, n = sizeof(texts) / sizeof(texts[0]);

	ok(j1 && j2 && !strcmp(j1, j2), "the same texts give the same bytes");
	ok(j1 && j3 && !strcmp(j1, j3), "and so do the same texts in another order (only counts matter)");
	ok(t != NULL, "tok_load_hf reads the trained file");
	if (!t)
		goto out;
	is_int(tok_vocab_size(t), 340, "340 ids");
	is_int(tok_token_id(t, "<|endoftext|>", 13), 338, "special tokens follow the vocabulary");
	is_int(tok_token_id(t, "<|a\"b\\c|>", 9), 339, "a special token with a quote and a backslash survives JSON");
	is_int(tok_token_id(t, "\n", 1), 10, "byte b is id b");
	for (i = 0; i < n; i++) {
		ling_err_clear(&err);
		ids.n = 0;
		ling_buf_reset(&back);
		if (tok_encode(t, texts[i], strlen(texts[i]), 0, &ids, &err) ||
		    tok_decode(t, ids.v, ids.n, &back, &err))
			diag("text %zu: %s", i, err.msg);
		roundtrip += back.len == strlen(texts[i]) && !memcmp(back.data, texts[i], back.len);
		shorter += ids.n * 2 < strlen(texts[i]);
	}
	is_int(roundtrip, n, "decode(encode(x)) == x for every training text");
	is_int(shorter, n, "and the trained tokens are more than 2 bytes long on average");
	ids.n = 0;
	ling_err_clear(&err);
	tok_encode(t, "x<|endoftext|>y", 15, TOK_ENCODE_SPECIAL, &ids, &err);
	ok(ids.n == 3 && ids.v[1] == 338, "with --special the special token is matched in text");
out:
	ling_u32s_release(&ids);
	ling_buf_release(&back);
	tok_free(t);
	free(j1);
	free(j2);
	free(j3);
}

static void test_limits(void)
{
	struct tok_train_opts o;
	struct tok_train *tr = NULL;
	struct tok_train_stats st;
	struct ling_err err;
	static const char *const twice[] = { "<s>", "<s>" }, *const empty[] = { "" };
	char *json;

	memset(&o, 0, sizeof(o));
	o.min_frequency = 1;
	o.vocab_size = 255;
	is_int(tok_train_new(&tr, &o, &err), LING_EUSAGE, "a vocabulary below 256 is a usage error");
	o.vocab_size = 257;
	o.specials = twice;
	o.nspecials = 2;
	is_int(tok_train_new(&tr, &o, &err), LING_EUSAGE, "no room for the specials is a usage error");
	o.vocab_size = 300;
	is_int(tok_train_new(&tr, &o, &err), LING_EUSAGE, "a repeated special token is a usage error");
	o.specials = empty;
	o.nspecials = 1;
	is_int(tok_train_new(&tr, &o, &err), LING_EUSAGE, "an empty special token is a usage error");
	o.nspecials = 0;
	o.min_frequency = 0;
	is_int(tok_train_new(&tr, &o, &err), LING_EUSAGE, "min_frequency 0 is a usage error");

	tr = new_trainer(1000, 2, NULL, 0);
	ling_err_clear(&err);
	is_int(tok_train_add(tr, "ok \xff bad", 8, &err), LING_EDATA, "invalid UTF-8 is a data error");
	is_int(err.col, 4, "at its byte");
	add(tr, "abab abab abab xyz");
	json = finish(tr, &st);
	ok(st.vocab < 1000 && st.merges >= 2, "min_frequency 2 stops early: %zu merges", st.merges);
	is_int(st.words, 4, "4 words were read");
	is_int(st.distinct, 3, "3 distinct (\"abab\", \" abab\", \" xyz\")");
	free(json);

	tr = new_trainer(300, 1, NULL, 0);
	json = finish(tr, &st);
	ok(json && st.vocab == 256 && st.merges == 0, "no text: the 256 bytes alone");
	tok_free(load(json));
	free(json);
}

/* ---- the split scanner against PCRE2 ---- */

static const char *const split_patterns[] = {
	"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
	"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
	"\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
	"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
	"\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
};

/* Splits s with re into "[start,end)" records. */
static void splits(struct tok_regex *re, const char *s, size_t len, struct ling_buf *out)
{
	size_t pos = 0, ms, me;
	struct ling_err err;

	ling_buf_reset(out);
	while (pos < len && tok_regex_find(re, s, len, pos, &ms, &me, &err) == 1 && me > ms) {
		ling_buf_addf(out, "[%zu,%zu)", ms, me);
		pos = me;
	}
}

static void test_scanner(void)
{
	/* Every ASCII byte is a character; some non-ASCII ones the scanner leaves to PCRE2. */
	static const char *const extra[] = { "\xc3\xa9", "\xc2\xa0", "\xc5\xbf", "\xe3\x80\x80", "\xe2\x84\xaa",
					     "\xd9\xa3", "\xe2\x96\x81", "\xef\xbb\xbf" };
	static const char *const common = "'sStTrReEvVlLmMdD 0123456789\r\n\t";
	struct ling_buf a = LING_BUF_INIT, b = LING_BUF_INIT, s = LING_BUF_INIT;
	struct ling_err err;
	unsigned seed = 42;
	size_t p, trial;

	for (p = 0; p < sizeof(split_patterns) / sizeof(split_patterns[0]); p++) {
		struct tok_regex *fast = NULL, *slow = NULL;
		char wrapped[512];
		size_t diffs = 0;

		snprintf(wrapped, sizeof(wrapped), "(?:%s)", split_patterns[p]);
		if (tok_regex_new(&fast, split_patterns[p], strlen(split_patterns[p]), 0, &err) ||
		    tok_regex_new(&slow, wrapped, strlen(wrapped), 0, &err)) {
			ok(0, "pattern %zu compiles: %s", p, err.msg);
			continue;
		}
		for (trial = 0; trial < 20000; trial++) {
			size_t n, k;

			ling_buf_reset(&s);
			seed = seed * 1103515245u + 12345u;
			n = 1 + (seed >> 16) % 12;
			for (k = 0; k < n; k++) {
				unsigned r;

				seed = seed * 1103515245u + 12345u;
				r = (seed >> 8) % 1000;
				if (r < 450)
					ling_buf_addc(&s, common[r % strlen(common)]);
				else if (r < 950)
					ling_buf_addc(&s, (char)(r % 128));
				else
					ling_buf_adds(&s, extra[r % (sizeof(extra) / sizeof(extra[0]))]);
			}
			splits(fast, s.data, s.len, &a);
			splits(slow, s.data, s.len, &b);
			if (a.len != b.len || memcmp(a.data, b.data, a.len)) {
				if (diffs++ < 3)
					diag("pattern %zu on %zu bytes: scanner %s, PCRE2 %s", p, s.len, a.data, b.data);
			}
		}
		is_int(diffs, 0, "pattern %zu: the scanner splits 20000 random strings as PCRE2 does", p);
		tok_regex_free(fast);
		tok_regex_free(slow);
	}
	ling_buf_release(&a);
	ling_buf_release(&b);
	ling_buf_release(&s);
}

/* ---- cutting SentencePiece segments ---- */

static const char *enc(struct tok *t, const char *s)
{
	static char out[256];
	struct ling_u32s ids = LING_U32S_INIT;
	struct ling_err err;
	size_t i, n = 0;

	out[0] = '\0';
	ling_err_clear(&err);
	if (t && !tok_encode(t, s, strlen(s), 0, &ids, &err))
		for (i = 0; i < ids.n && n < sizeof(out) - 16; i++)
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%u", i ? " " : "", ids.v[i]);
	ling_u32s_release(&ids);
	return out;
}

#define SP_HEAD "{\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Prepend\",\"prepend\":\"\\u2581\"}," \
	"{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"\\u2581\"}]}," \
	"\"decoder\":{\"type\":\"Replace\",\"pattern\":{\"String\":\"\\u2581\"},\"content\":\" \"},"

static void test_cuts(void)
{
	/* "a▁" is a token: no cut before ▁ may be made after an a. */
	struct tok *t = load(SP_HEAD "\"model\":{\"type\":\"BPE\",\"vocab\":{\"\\u2581\":0,\"a\":1,\"b\":2,"
				     "\"a\\u2581\":3,\"a\\u2581b\":4},\"merges\":[\"a \\u2581\",\"a\\u2581 b\"]}}");

	is_str(enc(t, "a b"), "0 4", "a token across ▁ still merges (▁ a▁b)");
	tok_free(t);
	/* No token joins b and a, so "ba" is cut; "ab" is not. */
	t = load(SP_HEAD "\"model\":{\"type\":\"BPE\",\"vocab\":{\"\\u2581\":0,\"a\":1,\"b\":2,\"ab\":3,\"\\u2581ab\":4},"
			 "\"merges\":[\"a b\",\"\\u2581 ab\"]}}");
	is_str(enc(t, "abab ab"), "4 3 4", "cut words merge as the whole would (▁ab ab ▁ab)");
	is_str(enc(t, "ba"), "0 2 1", "and characters no token joins stay apart");
	tok_free(t);
}

int main(void)
{
	test_against_reference();
	test_file();
	test_limits();
	test_scanner();
	test_cuts();
	return done_testing();
}
