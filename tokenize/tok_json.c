/*
 * tok_json: loads a Hugging Face tokenizer.json (FORMATS.md section 1) with
 * jansson, and a tiktoken rank file (section 2). The one module of tokenize/
 * that uses jansson.
 *
 * Byte-level models (a ByteLevel pre-tokenizer or decoder) keep their
 * vocabulary as raw bytes, decoded through the GPT-2 table, so that encoding
 * works on the text's bytes directly, as tiktoken does.
 */
#include "tok_internal.h"

#include "../common/ling_cli.h"
#include "../common/ling_input.h"

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

struct loader {
	struct tok *t;
	const char *name;
	struct ling_err *err;
	struct ling_buf tmp, tmp2;
};

/* Errors in a well-formed JSON document name the JSON path of the bad part. */
#define bad(L, ...) ling_err_at((L)->err, LING_EDATA, (L)->name, 0, 0, __VA_ARGS__)

/* The model's bytes for a vocabulary string (byte-level strings go through the table). */
static const struct ling_buf *model_bytes(struct loader *L, struct ling_buf *b, const char *s, size_t len)
{
	ling_buf_reset(b);
	if (!L->t->byte_level || tok_bytes_from_unicode(s, len, b)) {
		ling_buf_reset(b);
		ling_buf_add(b, s, len);
	}
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

static int load_model(struct loader *L, json_t *model)
{
	struct tok *t = L->t;
	json_t *vocab, *merges, *v, *m;
	const char *key, *ty;
	size_t i;
	char where[64];

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
		uint32_t ida, idb, idm;

		snprintf(where, sizeof(where), "model.merges[%zu]", i);
		if (merge_parts(m, &a, &alen, &b, &blen))
			return bad(L, "%s: not \"A B\" or [\"A\", \"B\"]%s", where, "");
		model_bytes(L, &L->tmp, a, alen);
		ida = tok_vocab_find(t, L->tmp.data, L->tmp.len);
		model_bytes(L, &L->tmp2, b, blen);
		idb = tok_vocab_find(t, L->tmp2.data, L->tmp2.len);
		ling_buf_add(&L->tmp, L->tmp2.data, L->tmp2.len);
		idm = tok_vocab_find(t, L->tmp.data, L->tmp.len);
		if (ida == TOK_NONE || idb == TOK_NONE || idm == TOK_NONE)
			return bad(L, "%s: a part or the merged token is not in the vocab%s", where, "");
		tok_pair_add(t, ida, idb, (uint32_t)i, idm);
	}
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

int tok_load_hf_mem(struct tok **out, const char *name, const char *json, size_t len, struct ling_err *err)
{
	struct loader L;
	json_error_t jerr;
	json_t *root;
	int rc;

	*out = NULL;
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return ling_err_at(err, LING_EDATA, name, jerr.line > 0 ? jerr.line : 0,
				   jerr.column > 0 ? jerr.column : 0, "bad JSON: %s", jerr.text);
	memset(&L, 0, sizeof(L));
	L.t = tok_new_empty();
	L.name = name;
	L.err = err;
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
