/*
 * tok_json: loads a Hugging Face tokenizer.json (FORMATS.md section 1) with
 * jansson, and a tiktoken rank file (section 2). The one module of tokenize/
 * that uses jansson. model.vocab and model.merges, nearly all of the bytes,
 * are read by a scanner of its own first (the fast path, below), with jansson
 * alone as the reference path that it falls back to.
 *
 * Byte-level models (a ByteLevel pre-tokenizer or decoder) keep their
 * vocabulary as raw bytes, decoded through the GPT-2 table, so that encoding
 * works on the text's bytes directly, as tiktoken does.
 */
#include "tok_internal.h"

#include "../common/ling_num.h"
#include "../common/ling_input.h"
#include "../common/ling_utf8.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

#define GPT2_PATTERN "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"

static int read_all(const char *path, struct ling_buf *buf, struct ling_err *err)
{
	struct ling_input *in;
	char chunk[1 << 16];
	ssize_t n;
	int rc;

	if ((rc = ling_input_open(&in, path, err)))
		return rc;
	while ((n = ling_input_read(in, chunk, sizeof(chunk), err)) > 0)
		ling_buf_add(buf, chunk, (size_t)n);
	ling_input_close(in);
	return n < 0 ? (int)n : 0;
}

struct fast;

struct loader {
	struct tok *t;
	const char *name;
	struct ling_err *err;
	struct ling_buf tmp, tmp2;
	const struct fast *fast; /* model.vocab and model.merges as the scanner read them, or NULL */
};

/* Errors in a well-formed JSON document name the JSON path of the bad part. */
#define bad(L, ...) ling_err_at((L)->err, LING_EDATA, (L)->name, 0, 0, __VA_ARGS__)

/* Appends the model's bytes for a vocabulary string (byte-level strings go through the table). */
static void add_model_bytes(const struct loader *L, struct ling_buf *b, const char *s, size_t len)
{
	if (!L->t->byte_level || tok_bytes_from_unicode(s, len, b))
		ling_buf_add(b, s, len);
}

/* The model's bytes for a vocabulary string, in b. */
static const struct ling_buf *model_bytes(struct loader *L, struct ling_buf *b, const char *s, size_t len)
{
	ling_buf_reset(b);
	add_model_bytes(L, b, s, len);
	if (!b->data)
		ling_buf_adds(b, "");
	return b;
}

static const char *type_of(json_t *obj)
{
	json_t *ty = json_object_get(obj, "type");

	return json_is_string(ty) ? json_string_value(ty) : NULL;
}

/* True when component c (or a Sequence member) has type name. */
static int has_type(json_t *c, const char *name)
{
	const char *ty;
	json_t *v;
	size_t i;

	if (!json_is_object(c) || !(ty = type_of(c)))
		return 0;
	if (!strcmp(ty, name))
		return 1;
	if (!strcmp(ty, "Sequence")) {
		json_t *arr = json_object_get(c, "pretokenizers");

		if (!arr)
			arr = json_object_get(c, "decoders");
		json_array_foreach(arr, i, v)
			if (has_type(v, name))
				return 1;
	}
	return 0;
}

static int get_bool(json_t *obj, const char *key, int dflt)
{
	json_t *v = json_object_get(obj, key);

	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

/* A Split or Replace pattern: {"Regex": …} or {"String": …}. */
static int compile_pattern(struct loader *L, json_t *pat, const char *where, struct tok_regex **re)
{
	json_t *v;
	int literal;

	if (json_is_string((v = json_object_get(pat, "Regex"))))
		literal = 0;
	else if (json_is_string((v = json_object_get(pat, "String"))))
		literal = 1;
	else
		return bad(L, "%s: pattern needs Regex or String%s", where, "");
	if (tok_regex_new(re, json_string_value(v), json_string_length(v), literal, L->err)) {
		char msg[sizeof(L->err->msg)];

		memcpy(msg, L->err->msg, sizeof(msg));
		return ling_err_at(L->err, LING_EDATA, L->name, 0, 0, "%s: %s", where, msg);
	}
	return 0;
}

static int load_normalizer(struct loader *L, json_t *n)
{
	struct tok *t = L->t;
	struct tok_norm *nm;
	const char *ty;
	json_t *v;
	size_t i;
	int rc;

	if (json_is_null(n) || !n)
		return 0;
	if (!json_is_object(n) || !(ty = type_of(n)))
		return bad(L, "%s: not a component with a type%s", "normalizer", "");
	if (!strcmp(ty, "Sequence")) {
		json_array_foreach(json_object_get(n, "normalizers"), i, v)
			if ((rc = load_normalizer(L, v)))
				return rc;
		return 0;
	}
	t->norm = xrealloc(t->norm, (t->nnorm + 1) * sizeof(*t->norm));
	nm = &t->norm[t->nnorm];
	memset(nm, 0, sizeof(*nm));
	if (!strcmp(ty, "NFC")) {
		nm->kind = TOK_NORM_NFC;
	} else if (!strcmp(ty, "NFKC")) {
		nm->kind = TOK_NORM_NFKC;
	} else if (!strcmp(ty, "Lowercase")) {
		nm->kind = TOK_NORM_LOWERCASE;
	} else if (!strcmp(ty, "Prepend")) {
		if (!json_is_string((v = json_object_get(n, "prepend"))))
			return bad(L, "%s: Prepend needs a string%s", "normalizer", "");
		nm->kind = TOK_NORM_PREPEND;
		nm->str = xstrdup(json_string_value(v));
	} else if (!strcmp(ty, "Replace")) {
		if (!json_is_string((v = json_object_get(n, "content"))))
			return bad(L, "%s: Replace needs a content string%s", "normalizer", "");
		if ((rc = compile_pattern(L, json_object_get(n, "pattern"), "normalizer", &nm->re)))
			return rc;
		nm->kind = TOK_NORM_REPLACE;
		nm->str = xstrdup(json_string_value(v));
	} else {
		return bad(L, "%s: unsupported normalizer %s", "normalizer", ty);
	}
	t->nnorm++;
	return 0;
}

static int split_behavior(const char *s, enum tok_split_behavior *b)
{
	static const char *const names[] = { "Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous" };
	int i;

	for (i = 0; i < 5; i++)
		if (s && !strcmp(s, names[i])) {
			*b = (enum tok_split_behavior)i;
			return 0;
		}
	return -1;
}

static int metaspace_prepend(json_t *c)
{
	json_t *v = json_object_get(c, "prepend_scheme");

	if (json_is_string(v))
		return !strcmp(json_string_value(v), "never") ? 0 : !strcmp(json_string_value(v), "first") ? 1 : 2;
	return get_bool(c, "add_prefix_space", 1) ? 2 : 0;
}

static int load_pre(struct loader *L, json_t *c)
{
	struct tok *t = L->t;
	struct tok_pre *p;
	const char *ty;
	json_t *v;
	size_t i;
	int rc;

	if (!c || json_is_null(c))
		return 0;
	if (!json_is_object(c) || !(ty = type_of(c)))
		return bad(L, "%s: not a component with a type%s", "pre_tokenizer", "");
	if (!strcmp(ty, "Sequence")) {
		json_array_foreach(json_object_get(c, "pretokenizers"), i, v)
			if ((rc = load_pre(L, v)))
				return rc;
		return 0;
	}
	t->pre = xrealloc(t->pre, (t->npre + 1) * sizeof(*t->pre));
	p = &t->pre[t->npre];
	memset(p, 0, sizeof(*p));
	t->npre++;
	if (!strcmp(ty, "Split")) {
		p->kind = TOK_PRE_SPLIT;
		if ((rc = compile_pattern(L, json_object_get(c, "pattern"), "pre_tokenizer.Split", &p->re)))
			return rc;
		v = json_object_get(c, "behavior");
		if (split_behavior(json_string_value(v), &p->behavior))
			return bad(L, "%s: unknown behavior %s", "pre_tokenizer.Split",
				   json_is_string(v) ? json_string_value(v) : "(missing)");
		p->invert = get_bool(c, "invert", 0);
	} else if (!strcmp(ty, "ByteLevel")) {
		p->kind = TOK_PRE_BYTELEVEL;
		p->add_prefix_space = get_bool(c, "add_prefix_space", 1);
		p->behavior = TOK_SPLIT_ISOLATED;
		if (get_bool(c, "use_regex", 1) &&
		    tok_regex_new(&p->re, GPT2_PATTERN, strlen(GPT2_PATTERN), 0, L->err))
			return L->err->code;
	} else if (!strcmp(ty, "Metaspace")) {
		p->kind = TOK_PRE_METASPACE;
		v = json_object_get(c, "replacement");
		p->replacement = xstrdup(json_is_string(v) ? json_string_value(v) : "\xE2\x96\x81");
		p->prepend = metaspace_prepend(c);
		if (get_bool(c, "split", 1) &&
		    tok_regex_new(&p->re, p->replacement, strlen(p->replacement), 1, L->err))
			return L->err->code;
	} else {
		return bad(L, "%s: unsupported pre-tokenizer %s", "pre_tokenizer", ty);
	}
	return 0;
}

static int load_decoder(struct loader *L, json_t *c)
{
	struct tok *t = L->t;
	const char *ty;
	json_t *v, *pat;
	size_t i;
	int rc;

	if (!c || json_is_null(c))
		return 0;
	if (!json_is_object(c) || !(ty = type_of(c)))
		return bad(L, "%s: not a component with a type%s", "decoder", "");
	if (!strcmp(ty, "Sequence")) {
		json_array_foreach(json_object_get(c, "decoders"), i, v)
			if ((rc = load_decoder(L, v)))
				return rc;
	} else if (!strcmp(ty, "Replace")) {
		pat = json_object_get(json_object_get(c, "pattern"), "String");
		v = json_object_get(c, "content");
		if (!json_is_string(pat) || !json_is_string(v))
			return bad(L, "%s: Replace needs a String pattern and a content%s", "decoder", "");
		free(t->dec_from);
		free(t->dec_to);
		t->dec_from = xstrdup(json_string_value(pat));
		t->dec_to = xstrdup(json_string_value(v));
	} else if (!strcmp(ty, "Metaspace")) {
		v = json_object_get(c, "replacement");
		free(t->dec_from);
		free(t->dec_to);
		t->dec_from = xstrdup(json_is_string(v) ? json_string_value(v) : "\xE2\x96\x81");
		t->dec_to = xstrdup(" ");
		t->dec_strip = metaspace_prepend(c) ? 1 : 0;
	} else if (!strcmp(ty, "ByteFallback")) {
		t->dec_byte_fallback = 1;
	} else if (!strcmp(ty, "Strip")) {
		v = json_object_get(c, "start");
		t->dec_strip = json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) < 64
				       ? (int)json_integer_value(v) : 0;
	} else if (strcmp(ty, "ByteLevel") && strcmp(ty, "Fuse")) {
		return bad(L, "%s: unsupported decoder %s", "decoder", ty);
	}
	return 0;
}

/* A merge "A B" (legacy) or ["A", "B"]: pointers into the JSON strings. */
static int merge_parts(json_t *m, const char **a, size_t *alen, const char **b, size_t *blen)
{
	if (json_is_string(m)) {
		const char *s = json_string_value(m), *sp = strchr(s, ' ');

		if (!sp || strchr(sp + 1, ' '))
			return -1;
		*a = s;
		*alen = (size_t)(sp - s);
		*b = sp + 1;
		*blen = strlen(sp + 1);
		return 0;
	}
	if (json_is_array(m) && json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
	    json_is_string(json_array_get(m, 1))) {
		*a = json_string_value(json_array_get(m, 0));
		*alen = json_string_length(json_array_get(m, 0));
		*b = json_string_value(json_array_get(m, 1));
		*blen = json_string_length(json_array_get(m, 1));
		return 0;
	}
	return -1;
}

/* Adds merge rank (a, b). @return 0, or -1 when a part or the merged token is not in the vocab. */
static int add_merge(struct loader *L, size_t rank, const char *a, size_t alen, const char *b, size_t blen)
{
	struct tok *t = L->t;
	uint32_t ida, idb, idm;

	model_bytes(L, &L->tmp, a, alen);
	ida = tok_vocab_find(t, L->tmp.data, L->tmp.len);
	model_bytes(L, &L->tmp2, b, blen);
	idb = tok_vocab_find(t, L->tmp2.data, L->tmp2.len);
	ling_buf_add(&L->tmp, L->tmp2.data, L->tmp2.len);
	idm = tok_vocab_find(t, L->tmp.data, L->tmp.len);
	if (ida == TOK_NONE || idb == TOK_NONE || idm == TOK_NONE)
		return -1;
	tok_pair_add(t, ida, idb, (uint32_t)rank, idm);
	return 0;
}

/* The reference path for the two big members: from jansson's tree. */
static int load_tables_json(struct loader *L, json_t *vocab, json_t *merges)
{
	struct tok *t = L->t;
	const char *key;
	json_t *v, *m;
	size_t i;

	tok_reserve(t, json_object_size(vocab), json_array_size(merges));
	json_object_foreach(vocab, key, v) {
		const struct ling_buf *b;

		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= TOK_MAX_ID)
			return bad(L, "%s: token \"%s\" needs an id in [0, 2^22)", "model.vocab", key);
		b = model_bytes(L, &L->tmp, key, strlen(key));
		/* A second token with the same bytes keeps the first id, as in a HashMap built in order. */
		if (tok_vocab_add(t, (uint32_t)json_integer_value(v), b->data, b->len) &&
		    (size_t)json_integer_value(v) >= t->ntokens)
			tok_set_token(t, (uint32_t)json_integer_value(v), b->data, b->len);
	}
	json_array_foreach(merges, i, m) {
		const char *a, *b;
		size_t alen, blen;

		if (merge_parts(m, &a, &alen, &b, &blen))
			return bad(L, "model.merges[%zu]: not \"A B\" or [\"A\", \"B\"]", i);
		if (add_merge(L, i, a, alen, b, blen))
			return bad(L, "model.merges[%zu]: a part or the merged token is not in the vocab", i);
	}
	return 0;
}

static int load_tables_fast(struct loader *L);

static int load_model(struct loader *L, json_t *model)
{
	struct tok *t = L->t;
	json_t *vocab, *merges, *v, *m;
	const char *ty;
	size_t i;
	int rc;

	if (!json_is_object(model))
		return bad(L, "%s: missing or not an object%s", "model", "");
	if ((ty = type_of(model)) && strcmp(ty, "BPE"))
		return bad(L, "%s: unsupported model type %s (only BPE)", "model", ty);
	v = json_object_get(model, "continuing_subword_prefix");
	m = json_object_get(model, "end_of_word_suffix");
	if ((json_is_string(v) && *json_string_value(v)) || (json_is_string(m) && *json_string_value(m)))
		return bad(L, "%s: continuing_subword_prefix and end_of_word_suffix are not supported%s", "model", "");
	vocab = json_object_get(model, "vocab");
	merges = json_object_get(model, "merges");
	if (!json_is_object(vocab))
		return bad(L, "%s: missing or not an object%s", "model.vocab", "");
	if (!json_is_array(merges))
		return bad(L, "%s: missing or not an array%s", "model.merges", "");
	t->ignore_merges = get_bool(model, "ignore_merges", 0);
	t->byte_fallback = get_bool(model, "byte_fallback", 0);
	t->fuse_unk = get_bool(model, "fuse_unk", 0);
	if ((rc = L->fast ? load_tables_fast(L) : load_tables_json(L, vocab, merges)))
		return rc;
	v = json_object_get(model, "unk_token");
	if (json_is_string(v)) {
		t->unk = tok_vocab_find(t, json_string_value(v), json_string_length(v));
		if (t->unk == TOK_NONE)
			return bad(L, "%s: unk_token %s is not in the vocab", "model", json_string_value(v));
	}
	for (i = 0; i < 256; i++) {
		char c = (char)i, hex[8];

		if (t->byte_level) {
			t->byte_ids[i] = tok_vocab_find(t, &c, 1);
		} else if (t->byte_fallback) {
			snprintf(hex, sizeof(hex), "<0x%02X>", (unsigned)i);
			t->byte_ids[i] = tok_vocab_find(t, hex, 6);
		}
	}
	return 0;
}

static int load_added(struct loader *L, json_t *arr)
{
	struct tok *t = L->t;
	json_t *a;
	size_t i;

	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return bad(L, "%s: not an array%s", "added_tokens", "");
	t->added = xcalloc(json_array_size(arr) + 1, sizeof(*t->added));
	json_array_foreach(arr, i, a) {
		json_t *id = json_object_get(a, "id"), *content = json_object_get(a, "content");
		struct tok_added *ad = &t->added[t->nadded];
		char where[64];

		snprintf(where, sizeof(where), "added_tokens[%zu]", i);
		if (!json_is_integer(id) || json_integer_value(id) < 0 || json_integer_value(id) >= TOK_MAX_ID ||
		    !json_is_string(content) || !json_string_length(content))
			return bad(L, "%s: needs an id in [0, 2^22) and a non-empty content%s", where, "");
		ad->id = (uint32_t)json_integer_value(id);
		ad->len = json_string_length(content);
		ad->content = xmalloc(ad->len + 1);
		memcpy(ad->content, json_string_value(content), ad->len + 1);
		ad->lstrip = get_bool(a, "lstrip", 0);
		ad->rstrip = get_bool(a, "rstrip", 0);
		ad->special = get_bool(a, "special", 0);
		t->nadded++;
		if (ad->id >= t->ntokens || t->tokens[ad->id].len == TOK_NONE)
			tok_set_token(t, ad->id, ad->content, ad->len);
	}
	return 0;
}

static int load_hf(struct loader *L, json_t *root)
{
	struct tok *t = L->t;
	int rc;

	if (!json_is_object(root))
		return bad(L, "%s: the top level is not an object%s", "tokenizer.json", "");
	t->byte_level = has_type(json_object_get(root, "pre_tokenizer"), "ByteLevel") ||
			has_type(json_object_get(root, "decoder"), "ByteLevel");
	if ((rc = load_model(L, json_object_get(root, "model"))) || (rc = load_added(L, json_object_get(root, "added_tokens"))) ||
	    (rc = load_normalizer(L, json_object_get(root, "normalizer"))) ||
	    (rc = load_pre(L, json_object_get(root, "pre_tokenizer"))) ||
	    (rc = load_decoder(L, json_object_get(root, "decoder"))))
		return rc;
	return 0;
}

/*
 * ---- the fast path for model.vocab and model.merges ----
 *
 * Why hand-written code replaces jansson here: with jansson alone,
 * `tokenize encode` took 0.75 s to load Qwen3's tokenizer.json (11.4 MB: 151k
 * vocab entries and 151k merges), and perf put 43% of that in jansson and 24%
 * in malloc/free for its one node per JSON value. Those two members are
 * nearly all of the document, so fast_scan() reads them straight from the
 * buffer into two flat arrays, and jansson parses only the rest (a few kB:
 * normalizer, pre_tokenizer, added_tokens, decoder...), given the document
 * with the two values replaced by {} and []. The load now takes 0.07 s.
 *
 * The scanner takes a strict subset of what jansson takes: plain ids, strings
 * of valid UTF-8 with the JSON escapes, the two merge forms. On anything else
 * (a syntax error, an id jansson reads differently, two tokens with the same
 * bytes or one id twice, where a duplicate key would hide), and on any error
 * later in the load, it gives up and the whole document is loaded again by
 * the reference path, jansson alone: errors, their messages and positions stay
 * the reference path's, and only files that fail pay twice.
 *
 * Why the rest parses as it would in place: when jansson takes the shortened
 * document, the text before each replaced value is valid JSON so far, and the
 * scanner reads such text exactly (strings and brackets), so jansson too is at
 * the value of the first "vocab" (or "merges") of the first top-level
 * "model" there. Replacing one complete value by another leaves the parse of
 * what follows, duplicate keys included, unchanged.
 */

/* A string of the document, unescaped: at doc + off, or at arena + off without FAST_IN_ARENA. */
struct fast_str {
	uint32_t off, len;
};
#define FAST_IN_ARENA 0x80000000u

struct fast_token {
	struct fast_str key;
	uint32_t id;
};

struct fast_merge {
	struct fast_str a, b;
};

struct fast {
	const char *doc, *end, *p;
	struct ling_buf arena; /* the strings that had escapes, unescaped */
	struct fast_token *vocab;
	size_t nvocab, cap_vocab;
	struct fast_merge *merges;
	size_t nmerges, cap_merges;
	const char *vocab_at, *vocab_end, *merges_at, *merges_end; /* the two values in doc */
	const char *why;       /* why the scanner gave up */
};

static int give_up(struct fast *F, const char *why)
{
	F->why = why;
	return -1;
}

static const char *fast_ptr(const struct fast *F, struct fast_str s)
{
	return s.off & FAST_IN_ARENA ? F->arena.data + (s.off & ~FAST_IN_ARENA) : F->doc + s.off;
}

static inline void fast_ws(struct fast *F)
{
	while (F->p < F->end && (*F->p == ' ' || *F->p == '\n' || *F->p == '\r' || *F->p == '\t'))
		F->p++;
}

/* Skips white space, the byte c, and white space. */
static inline int fast_expect(struct fast *F, char c)
{
	fast_ws(F);
	if (F->p == F->end || *F->p != c)
		return -1;
	F->p++;
	fast_ws(F);
	return 0;
}

static int hex4(const char *p, unsigned *v)
{
	int i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		char c = p[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

/* Appends the escape at p (after its backslash) to the arena. @return its length or 0. */
static size_t fast_escape(struct fast *F, const char *p)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *c;
	unsigned v, lo;

	if (p == F->end)
		return 0;
	if (*p != 'u') {
		if (!*p || !(c = strchr(from, *p)))
			return 0;
		ling_buf_addc(&F->arena, to[c - from]);
		return 1;
	}
	/* \u0000 (jansson refuses NUL without JSON_ALLOW_NUL) and lone surrogates are not taken. */
	if (F->end - p < 5 || hex4(p + 1, &v) || !v || (v >= 0xDC00 && v <= 0xDFFF))
		return 0;
	if (v < 0xD800 || v > 0xDBFF) {
		ling_buf_add_utf8(&F->arena, v);
		return 5;
	}
	if (F->end - p < 11 || p[5] != '\\' || p[6] != 'u' || hex4(p + 7, &lo) || lo < 0xDC00 || lo > 0xDFFF)
		return 0;
	ling_buf_add_utf8(&F->arena, 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00));
	return 11;
}

/* Reads the string at F->p (its opening quote): valid UTF-8, no control characters. */
static int fast_string(struct fast *F, struct fast_str *out)
{
	const char *p = F->p + 1, *run = p, *end = F->end;
	int escaped = 0;
	size_t at = 0, n;

	for (;;) {
		unsigned long cp;
		unsigned char c;

		while (p < end && (c = (unsigned char)*p) >= 0x20 && c < 0x80 && c != '"' && c != '\\')
			p++;
		if (p == end)
			return give_up(F, "an unterminated string");
		c = (unsigned char)*p;
		if (c == '"')
			break;
		if (c < 0x20)
			return give_up(F, "a control character in a string");
		if (c >= 0xC2 && c <= 0xDF && p + 1 < end && ((unsigned char)p[1] & 0xC0) == 0x80) {
			p += 2;
			continue;
		}
		if (c >= 0x80) {
			if (!(n = ling_utf8_decode(p, (size_t)(end - p), &cp)))
				return give_up(F, "invalid UTF-8");
			p += n;
			continue;
		}
		if (!escaped) {
			escaped = 1;
			at = F->arena.len;
		}
		ling_buf_add(&F->arena, run, (size_t)(p - run));
		if (!(n = fast_escape(F, p + 1)))
			return give_up(F, "an escape it does not take");
		run = p += 1 + n;
	}
	if (escaped) {
		ling_buf_add(&F->arena, run, (size_t)(p - run));
		out->off = (uint32_t)at | FAST_IN_ARENA;
		out->len = (uint32_t)(F->arena.len - at);
	} else {
		out->off = (uint32_t)(run - F->doc);
		out->len = (uint32_t)(p - run);
	}
	F->p = p + 1;
	return 0;
}

/* Reads an id: digits without a leading zero, below TOK_MAX_ID (a real, 1.0 or 1e2, fails at the
 * comma or brace that fast_vocab wants next). */
static int fast_id(struct fast *F, uint32_t *id)
{
	const char *p = F->p;
	uint32_t v = 0;

	if (p == F->end || *p < '0' || *p > '9' || (*p == '0' && p + 1 < F->end && p[1] >= '0' && p[1] <= '9'))
		return give_up(F, "an id that is not plain digits");
	for (; p < F->end && *p >= '0' && *p <= '9'; p++)
		if ((v = v * 10 + (uint32_t)(*p - '0')) >= TOK_MAX_ID)
			return give_up(F, "an id out of range");
	F->p = p;
	*id = v;
	return 0;
}

/* model.vocab: {"token": id, ...}. */
static int fast_vocab(struct fast *F)
{
	if (fast_expect(F, '{'))
		return give_up(F, "model.vocab is not an object");
	if (F->p < F->end && *F->p == '}') {
		F->p++;
		return 0;
	}
	for (;;) {
		struct fast_token tok;

		if (F->p == F->end || *F->p != '"')
			return give_up(F, "a vocab key is not a string");
		if (fast_string(F, &tok.key))
			return -1;
		if (fast_expect(F, ':'))
			return give_up(F, "no colon after a vocab key");
		if (fast_id(F, &tok.id))
			return -1;
		F->vocab = xgrow(F->vocab, &F->cap_vocab, F->nvocab + 1, sizeof(*F->vocab));
		F->vocab[F->nvocab++] = tok;
		fast_ws(F);
		if (F->p < F->end && *F->p == '}') {
			F->p++;
			return 0;
		}
		if (fast_expect(F, ','))
			return give_up(F, "no comma between vocab entries");
	}
}

/* One merge: "A B" (the only space splits it) or ["A", "B"]. */
static int fast_merge(struct fast *F, struct fast_merge *m)
{
	if (*F->p == '"') {
		struct fast_str s;
		const char *str, *sp;

		if (fast_string(F, &s))
			return -1;
		str = fast_ptr(F, s);
		if (!(sp = memchr(str, ' ', s.len)) || memchr(sp + 1, ' ', s.len - (size_t)(sp - str) - 1))
			return give_up(F, "a merge string without exactly one space");
		m->a.off = s.off;
		m->a.len = (uint32_t)(sp - str);
		m->b.off = s.off + m->a.len + 1;
		m->b.len = s.len - m->a.len - 1;
		return 0;
	}
	if (fast_expect(F, '[') || F->p == F->end || *F->p != '"' || fast_string(F, &m->a) || fast_expect(F, ',') ||
	    F->p == F->end || *F->p != '"' || fast_string(F, &m->b) || fast_expect(F, ']'))
		return give_up(F, "a merge that is not \"A B\" or [\"A\", \"B\"]");
	return 0;
}

/* model.merges: [merge, ...]. */
static int fast_merges(struct fast *F)
{
	if (fast_expect(F, '['))
		return give_up(F, "model.merges is not an array");
	if (F->p < F->end && *F->p == ']') {
		F->p++;
		return 0;
	}
	for (;;) {
		struct fast_merge m;

		if (F->p == F->end || fast_merge(F, &m))
			return give_up(F, F->why ? F->why : "a truncated merge");
		F->merges = xgrow(F->merges, &F->cap_merges, F->nmerges + 1, sizeof(*F->merges));
		F->merges[F->nmerges++] = m;
		fast_ws(F);
		if (F->p < F->end && *F->p == ']') {
			F->p++;
			return 0;
		}
		if (fast_expect(F, ','))
			return give_up(F, "no comma between merges");
	}
}

/* Skips the string at F->p, unchecked (jansson reads it later). */
static int fast_skip_string(struct fast *F)
{
	const char *p = F->p + 1;

	while (p < F->end && *p != '"')
		p += *p == '\\' ? 2 : 1;
	if (p >= F->end)
		return give_up(F, "an unterminated string");
	F->p = p + 1;
	return 0;
}

/* Skips the value at F->p: exact for valid JSON, which is all it has to be (see above). */
static int fast_skip_value(struct fast *F)
{
	size_t depth = 0;

	do {
		if (F->p == F->end)
			return give_up(F, "a truncated value");
		switch (*F->p) {
		case '"':
			if (fast_skip_string(F))
				return -1;
			break;
		case '{':
		case '[':
			depth++;
			F->p++;
			break;
		case '}':
		case ']':
			if (!depth)
				return give_up(F, "a missing value");
			depth--;
			F->p++;
			break;
		default:
			if (depth) {
				F->p++;
				break;
			}
			/* A scalar: up to the next delimiter. */
			if (*F->p == ',' || *F->p == ':')
				return give_up(F, "a missing value");
			while (F->p < F->end && !strchr(",:]} \t\r\n", *F->p))
				F->p++;
		}
	} while (depth);
	return 0;
}

/* Reads an object key and its colon. */
static int fast_key(struct fast *F, struct fast_str *key)
{
	if (F->p == F->end || *F->p != '"' || fast_string(F, key) || fast_expect(F, ':'))
		return give_up(F, F->why ? F->why : "a bad object key");
	return 0;
}

static int fast_key_is(const struct fast *F, struct fast_str key, const char *name)
{
	return key.len == strlen(name) && !memcmp(fast_ptr(F, key), name, key.len);
}

/* The model object: reads vocab and merges, skips the rest, stops when it has both. */
static int fast_model(struct fast *F)
{
	struct fast_str key;

	if (fast_expect(F, '{'))
		return give_up(F, "model is not an object");
	for (;;) {
		if (fast_key(F, &key))
			return -1;
		if (fast_key_is(F, key, "vocab") && !F->vocab_at) {
			F->vocab_at = F->p;
			if (fast_vocab(F))
				return -1;
			F->vocab_end = F->p;
		} else if (fast_key_is(F, key, "merges") && !F->merges_at) {
			F->merges_at = F->p;
			if (fast_merges(F))
				return -1;
			F->merges_end = F->p;
		} else if (fast_skip_value(F)) {
			return -1;
		}
		if (F->vocab_at && F->merges_at)
			return 0;
		if (fast_expect(F, ','))
			return give_up(F, "model ends without vocab and merges");
	}
}

/* The top level: finds model, reads it, ignores what follows. */
static int fast_scan(struct fast *F)
{
	struct fast_str key;

	if ((size_t)(F->end - F->doc) >= FAST_IN_ARENA)
		return give_up(F, "a document of 2 GiB or more");
	if (fast_expect(F, '{'))
		return give_up(F, "the top level is not an object");
	for (;;) {
		if (fast_key(F, &key))
			return -1;
		if (fast_key_is(F, key, "model"))
			return fast_model(F);
		if (fast_skip_value(F))
			return -1;
		if (fast_expect(F, ','))
			return give_up(F, "no model");
	}
}

/* jansson's tree of the document with the vocab and merges values replaced by {} and []. */
static json_t *fast_rest(const struct fast *F)
{
	struct ling_buf doc = LING_BUF_INIT;
	const char *at[2] = { F->vocab_at, F->merges_at }, *end[2] = { F->vocab_end, F->merges_end };
	const char *empty[2] = { "{}", "[]" };
	int first = F->merges_at < F->vocab_at;
	json_error_t jerr;
	json_t *root;

	ling_buf_add(&doc, F->doc, (size_t)(at[first] - F->doc));
	ling_buf_adds(&doc, empty[first]);
	ling_buf_add(&doc, end[first], (size_t)(at[!first] - end[first]));
	ling_buf_adds(&doc, empty[!first]);
	ling_buf_add(&doc, end[!first], (size_t)(F->end - end[!first]));
	root = json_loadb(doc.data, doc.len, JSON_REJECT_DUPLICATES, &jerr);
	ling_buf_release(&doc);
	return root;
}

/* Appends the model's bytes for s to b, and their span in b to q. */
static void add_query(const struct loader *L, struct ling_buf *b, const char *s, size_t len, struct tok_span *q)
{
	q->off = (uint32_t)b->len;
	add_model_bytes(L, b, s, len);
	q->len = (uint32_t)(b->len - q->off);
}

/* Tokens and merges per batch: big enough for prefetching, small enough to stay in the cache. */
#define FAST_BATCH 4096

/* The vocab and merges the scanner read, added as load_tables_json would, in batches. */
static int load_tables_fast(struct loader *L)
{
	const struct fast *F = L->fast;
	struct tok *t = L->t;
	struct ling_buf bytes = LING_BUF_INIT;
	struct tok_span *q = xmalloc(3 * FAST_BATCH * sizeof(*q));
	uint32_t *ids = xmalloc(3 * FAST_BATCH * sizeof(*ids));
	unsigned char *seen = xcalloc(TOK_MAX_ID / 8, 1);
	size_t at, n, i;
	int rc = 0;

	/* The reference path takes one id twice too, but a duplicate key (which jansson refuses) could hide there. */
	for (i = 0; i < F->nvocab; i++) {
		uint32_t id = F->vocab[i].id;

		if (seen[id / 8] & (1u << id % 8)) {
			rc = bad(L, "fast path: model.vocab has id %u twice", (unsigned)id);
			goto out;
		}
		seen[id / 8] |= (unsigned char)(1u << id % 8);
	}
	tok_reserve(t, F->nvocab, F->nmerges);
	for (at = 0; at < F->nvocab; at += n) {
		n = F->nvocab - at < FAST_BATCH ? F->nvocab - at : FAST_BATCH;
		ling_buf_reset(&bytes);
		for (i = 0; i < n; i++) {
			ids[i] = F->vocab[at + i].id;
			add_query(L, &bytes, fast_ptr(F, F->vocab[at + i].key), F->vocab[at + i].key.len, &q[i]);
		}
		/* The same goes for two tokens with the same bytes: this stops at the second. */
		if (tok_vocab_add_batch(t, bytes.data ? bytes.data : "", q, ids, n) < n) {
			rc = bad(L, "fast path: model.vocab has two tokens with the same bytes%s", "");
			goto out;
		}
	}
	for (at = 0; at < F->nmerges; at += n) {
		n = F->nmerges - at < FAST_BATCH ? F->nmerges - at : FAST_BATCH;
		/* Merge at + i looks up a, b and ab: a's bytes followed by b's. */
		ling_buf_reset(&bytes);
		for (i = 0; i < n; i++) {
			const struct fast_merge *m = &F->merges[at + i];

			add_query(L, &bytes, fast_ptr(F, m->a), m->a.len, &q[3 * i]);
			add_query(L, &bytes, fast_ptr(F, m->b), m->b.len, &q[3 * i + 1]);
			q[3 * i + 2].off = q[3 * i].off;
			q[3 * i + 2].len = q[3 * i].len + q[3 * i + 1].len;
		}
		tok_vocab_find_batch(t, bytes.data ? bytes.data : "", q, 3 * n, ids);
		for (i = 0; i < n; i++) {
			if (i + 16 < n)
				tok_pair_prefetch(t, ids[3 * (i + 16)], ids[3 * (i + 16) + 1]);
			if (ids[3 * i] == TOK_NONE || ids[3 * i + 1] == TOK_NONE || ids[3 * i + 2] == TOK_NONE) {
				rc = bad(L, "fast path: model.merges[%zu]: a part or the merged token is not in the vocab",
					 at + i);
				goto out;
			}
			tok_pair_add(t, ids[3 * i], ids[3 * i + 1], (uint32_t)(at + i), ids[3 * i + 2]);
		}
	}
out:
	ling_buf_release(&bytes);
	free(q);
	free(ids);
	free(seen);
	return rc;
}

static void fast_release(struct fast *F)
{
	ling_buf_release(&F->arena);
	free(F->vocab);
	free(F->merges);
}

/* Loads with the reference path, or with the fast one (which may give up). */
static int load_with(struct tok **out, const char *name, const char *json, size_t len, const struct fast *fast,
		     struct ling_err *err)
{
	struct loader L;
	json_error_t jerr;
	json_t *root;
	int rc;

	if (fast) {
		if (!(root = fast_rest(fast)))
			return ling_err_at(err, LING_EDATA, name, 0, 0, "fast path: jansson refuses the rest");
	} else if (!(root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr))) {
		return ling_err_at(err, LING_EDATA, name, jerr.line > 0 ? jerr.line : 0,
				   jerr.column > 0 ? jerr.column : 0, "bad JSON: %s", jerr.text);
	}
	memset(&L, 0, sizeof(L));
	L.t = tok_new_empty();
	L.name = name;
	L.err = err;
	L.fast = fast;
	rc = load_hf(&L, root);
	json_decref(root);
	ling_buf_release(&L.tmp);
	ling_buf_release(&L.tmp2);
	if (rc) {
		tok_free(L.t);
		return rc;
	}
	*out = L.t;
	return 0;
}

int tok_load_hf_mem_flags(struct tok **out, const char *name, const char *json, size_t len, unsigned flags,
			  struct ling_err *err)
{
	*out = NULL;
	if (!(flags & TOK_LOAD_REFERENCE) && json) {
		struct ling_err fast_err;
		struct fast F;
		int rc;

		memset(&F, 0, sizeof(F));
		F.doc = F.p = json;
		F.end = json + len;
		ling_err_clear(&fast_err);
		if (fast_scan(&F))
			rc = ling_err_at(&fast_err, LING_EDATA, name, 0, 0, "fast path: %s at byte %zu", F.why,
					 (size_t)(F.p - F.doc));
		else
			rc = load_with(out, name, json, len, &F, &fast_err);
		fast_release(&F);
		if (!rc || (flags & TOK_LOAD_FAST_ONLY)) {
			if (rc)
				*err = fast_err;
			return rc;
		}
	}
	return load_with(out, name, json, len, NULL, err);
}

int tok_load_hf_mem(struct tok **out, const char *name, const char *json, size_t len, struct ling_err *err)
{
	return tok_load_hf_mem_flags(out, name, json, len, 0, err);
}

int tok_load_hf(struct tok **out, const char *path, struct ling_err *err)
{
	struct ling_buf buf = LING_BUF_INIT;
	int rc;

	*out = NULL;
	if (!(rc = read_all(path, &buf, err)))
		rc = tok_load_hf_mem(out, path, buf.data ? buf.data : "", buf.len, err);
	ling_buf_release(&buf);
	return rc;
}

/* ---- tiktoken ---- */

struct tiktoken_encoding {
	const char *name;
	const char *pattern;
	const char *specials[6];
	uint32_t ids[6];
};

static const struct tiktoken_encoding encodings[] = {
	{ "gpt2", GPT2_PATTERN, { "<|endoftext|>" }, { 50256 } },
	{ "r50k_base", GPT2_PATTERN, { "<|endoftext|>" }, { 50256 } },
	{ "p50k_base", GPT2_PATTERN, { "<|endoftext|>" }, { 50256 } },
	{ "cl100k_base",
	  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
	  "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
	  { "<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|endofprompt|>" },
	  { 100257, 100258, 100259, 100260, 100276 } },
	{ "o200k_base",
	  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|"
	  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|"
	  "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
	  { "<|endoftext|>", "<|endofprompt|>" },
	  { 199999, 200018 } },
};

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decodes standard base64 (with = padding). @return 0 or -1. */
static int b64_decode(const char *s, size_t len, struct ling_buf *out)
{
	unsigned acc = 0;
	int bits = 0;
	size_t i;

	ling_buf_reset(out);
	while (len && s[len - 1] == '=')
		len--;
	for (i = 0; i < len; i++) {
		int v = b64_value(s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			ling_buf_addc(out, (char)((acc >> bits) & 0xFF));
		}
	}
	return 0;
}

static const struct tiktoken_encoding *encoding_for(const char *path, const char *name)
{
	char base[64];
	const char *slash = strrchr(path, '/'), *dot;
	size_t i, n;

	if (!name) {
		name = slash ? slash + 1 : path;
		dot = strchr(name, '.');
		n = dot ? (size_t)(dot - name) : strlen(name);
		if (n >= sizeof(base))
			return NULL;
		memcpy(base, name, n);
		base[n] = '\0';
		name = base;
	}
	for (i = 0; i < sizeof(encodings) / sizeof(encodings[0]); i++)
		if (!strcmp(encodings[i].name, name))
			return &encodings[i];
	return NULL;
}

int tok_load_tiktoken(struct tok **out, const char *path, const char *encoding, struct ling_err *err)
{
	const struct tiktoken_encoding *enc = encoding_for(path, encoding);
	struct ling_buf tokbuf = LING_BUF_INIT;
	struct ling_input *in = NULL;
	struct tok *t;
	const char *line;
	size_t len, i;
	long lineno = 0;
	int rc;

	*out = NULL;
	if (!enc)
		return ling_err_set(err, LING_EUSAGE,
				    "unknown tiktoken encoding %s (gpt2, r50k_base, p50k_base, cl100k_base, o200k_base)",
				    encoding ? encoding : path);
	if ((rc = ling_input_open(&in, path, err)))
		return rc;
	t = tok_new_empty();
	t->byte_level = t->tiktoken = 1;
	while ((rc = ling_input_getline(in, &line, &len, err)) == 1) {
		const char *sp = memchr(line, ' ', len);
		long long rank;
		char num[24];
		size_t nlen;

		lineno++;
		if (len == 0)
			continue;
		nlen = sp ? len - (size_t)(sp - line) - 1 : 0;
		if (!sp || nlen == 0 || nlen >= sizeof(num) || b64_decode(line, (size_t)(sp - line), &tokbuf) ||
		    !tokbuf.len) {
			rc = ling_err_at(err, LING_EDATA, path, lineno, 0, "expected \"BASE64 RANK\"");
			goto fail;
		}
		memcpy(num, sp + 1, nlen);
		num[nlen] = '\0';
		if (ling_parse_long(num, 0, TOK_MAX_ID - 1, &rank)) {
			rc = ling_err_at(err, LING_EDATA, path, lineno, (long)(sp - line) + 2, "bad rank");
			goto fail;
		}
		if (tok_vocab_add(t, (uint32_t)rank, tokbuf.data, tokbuf.len)) {
			rc = ling_err_at(err, LING_EDATA, path, lineno, 1, "duplicate token");
			goto fail;
		}
	}
	if (rc < 0)
		goto fail;
	for (i = 0; i < 256; i++) {
		char c = (char)i;

		t->byte_ids[i] = tok_vocab_find(t, &c, 1);
		if (t->byte_ids[i] == TOK_NONE) {
			rc = ling_err_at(err, LING_EDATA, path, 0, 0, "byte 0x%02zX has no rank", i);
			goto fail;
		}
	}
	if ((rc = tok_regex_new(&t->split_re, enc->pattern, strlen(enc->pattern), 0, err)))
		goto fail;
	t->added = xcalloc(6, sizeof(*t->added));
	for (i = 0; i < 6 && enc->specials[i]; i++) {
		struct tok_added *a = &t->added[t->nadded++];

		a->content = xstrdup(enc->specials[i]);
		a->len = strlen(a->content);
		a->id = enc->ids[i];
		a->special = 1;
		tok_set_token(t, a->id, a->content, a->len);
	}
	ling_input_close(in);
	ling_buf_release(&tokbuf);
	*out = t;
	return 0;
fail:
	ling_input_close(in);
	ling_buf_release(&tokbuf);
	tok_free(t);
	return rc;
}

int tok_is_tiktoken(const char *path)
{
	return strstr(path, ".tiktoken") != NULL;
}

int tok_load(struct tok **out, const char *path, const char *encoding, struct ling_err *err)
{
	return tok_is_tiktoken(path) ? tok_load_tiktoken(out, path, encoding, err) : tok_load_hf(out, path, err);
}
