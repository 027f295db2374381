/*
 * Unit tests for the shared services of common/ that the stages adopt:
 * ling_json (against jansson's json_dumps, and Python's spellings),
 * ling_idmap (against a naive map, and against dedup's former bucket table
 * slot for slot), ling_sha256 (FIPS 180 vectors) and ling_unicode (ICU
 * forms, the ASCII path against the ICU path, invalid input).
 */
#include "tap.h"

#include "common/ling_err.h"
#include "common/ling_idmap.h"
#include "common/ling_json.h"
#include "common/ling_mem.h"
#include "common/ling_rand.h"
#include "common/ling_sha256.h"
#include "common/ling_unicode.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "common/banned.h"

static uint64_t rng = 20261206;

/* ---- ling_json ---- */

/* A random code point, biased to the ones escaping treats specially. */
static unsigned long random_cp(void)
{
	static const unsigned long special[] = { 0, 1, '\b', '\t', '\n', '\f', '\r', 0x1F, '"', '\\', '/', 0x7F,
						 0x80, 0xE9, 0x7FF, 0x800, 0x2028, 0x2029, 0xFFFD, 0xFFFF,
						 0x10000, 0x1F600, 0x10FFFF };

	switch (ling_rand_below(&rng, 4)) {
	case 0: return special[ling_rand_below(&rng, sizeof(special) / sizeof(special[0]))];
	case 1: return 0x20 + ling_rand_below(&rng, 0x5F);
	case 2: {
		unsigned long cp = ling_rand_below(&rng, 0x110000);

		return cp >= 0xD800 && cp < 0xE000 ? 'x' : cp;
	}
	default: return ling_rand_below(&rng, 0x20);
	}
}

static void random_utf8(struct ling_buf *b, size_t ncp)
{
	size_t i;

	ling_buf_reset(b);
	for (i = 0; i < ncp; i++)
		ling_buf_add_utf8(b, random_cp());
}

/* json_dumps of the string s[0..n) with jansson flags; NULL when jansson refuses it. */
static char *jansson_str(const char *s, size_t n, size_t flags)
{
	json_t *v = json_stringn(s, n);
	char *out = v ? json_dumps(v, flags | JSON_ENCODE_ANY) : NULL;

	json_decref(v);
	return out;
}

static void test_json_strings_match_jansson(void)
{
	static const struct {
		unsigned ours;
		size_t theirs;
		const char *name;
	} modes[] = {
		{ LING_JSON_JANSSON, 0, "default" },
		{ LING_JSON_ENSURE_ASCII, JSON_ENSURE_ASCII, "ensure_ascii" },
		{ LING_JSON_ESCAPE_SLASH, JSON_ESCAPE_SLASH, "escape_slash" },
	};
	struct ling_buf s = LING_BUF_INIT, out = LING_BUF_INIT;
	size_t m;
	int i;

	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		int same = 0, nul = 0;

		for (i = 0; i < 2000; i++) {
			char *want;

			random_utf8(&s, ling_rand_below(&rng, 40));
			nul += memchr(s.data, 0, s.len) != NULL;
			want = jansson_str(s.data, s.len, modes[m].theirs);
			ling_buf_reset(&out);
			ling_json_add_str(&out, s.data, s.len, modes[m].ours);
			if (want && !strcmp(out.data, want))
				same++;
			else if (same == i)
				diag("%s: differs on '%s' -> '%s' (jansson '%s')", modes[m].name, s.data, out.data,
				     want ? want : "(refused)");
			free(want);
		}
		is_int(same, 2000, "json: %s escaping equals json_dumps on 2000 random strings", modes[m].name);
		ok(nul > 100, "json: %s: %d of them hold NUL bytes", modes[m].name, nul);
	}
	ling_buf_release(&s);
	ling_buf_release(&out);
}

static void expect_str(const char *s, size_t n, unsigned flags, const char *want, const char *name)
{
	struct ling_buf out = LING_BUF_INIT;

	ling_json_add_str(&out, s, n, flags);
	is_str(out.data, want, "json: %s", name);
	ling_buf_release(&out);
}

static void test_json_dialects(void)
{
	static const char ctl[] = "\x01\n\x1f\"\\/\xe2\x80\xa8\x7f\b";
	const size_t n = sizeof(ctl) - 1;

	expect_str(ctl, n, LING_JSON_JANSSON, "\"\\u0001\\n\\u001F\\\"\\\\/\xe2\x80\xa8\x7f\\b\"",
		   "jansson dialect: short escapes, capital hex, U+2028 and DEL raw");
	/* Python: json.dumps('\x01\n\x1f"\\/\u2028\x7f\b', ensure_ascii=False) */
	expect_str(ctl, n, LING_JSON_PYTHON, "\"\\u0001\\n\\u001f\\\"\\\\/\xe2\x80\xa8\x7f\\b\"",
		   "python dialect: short escapes, lowercase hex");
	expect_str(ctl, n, LING_JSON_MINIMAL, "\"\\u0001\\u000a\\u001f\\\"\\\\/\xe2\x80\xa8\x7f\\u0008\"",
		   "minimal dialect (dedup, tokenizer.json): every control as \\u00xx");
	/* Python: json.dumps('\U0001F600é') */
	expect_str("\xf0\x9f\x98\x80\xc3\xa9", 6, LING_JSON_ENSURE_ASCII | LING_JSON_LOWER_HEX,
		   "\"\\ud83d\\ude00\\u00e9\"", "ensure_ascii, lowercase: surrogate pair as Python writes it");
	expect_str("a\0b", 3, 0, "\"a\\u0000b\"", "a NUL byte inside is \\u0000");
	expect_str("a\xff" "b\xc3", 4, 0, "\"a\xff" "b\xc3\"", "invalid UTF-8 is copied unchanged");
	expect_str("a\xff" "b\xe2\x82", 5, LING_JSON_ENSURE_ASCII, "\"a\\uFFFDb\\uFFFD\\uFFFD\"",
		   "ensure_ascii: each byte that starts no valid sequence is \\uFFFD");
	expect_str("", 0, 0, "\"\"", "the empty string");
	{
		struct ling_buf out = LING_BUF_INIT;

		ling_json_add_strz(&out, NULL, 0);
		ling_json_add_strz(&out, "x", 0);
		is_str(out.data, "null\"x\"", "json: strz writes null for NULL");
		ling_buf_release(&out);
	}
}

static void expect_real(double v, enum ling_json_real style, const char *want)
{
	struct ling_buf out = LING_BUF_INIT;

	ling_json_add_real(&out, v, style);
	is_str(out.data, want, "json: %s real %.17g is %s", style == LING_JSON_REAL_PYTHON ? "python" : "jansson", v,
	       want);
	ling_buf_release(&out);
}

/* The significant digits of a decimal spelling (no leading or trailing zeros), ignoring sign, point and exponent. */
static int mantissa_digits(const char *s)
{
	int n = 0, lead = 1, zeros = 0;

	for (; *s && *s != 'e'; s++) {
		if (*s < '0' || *s > '9' || (lead && *s == '0'))
			continue;
		lead = 0;
		n++;
		zeros = *s == '0' ? zeros + 1 : 0;
	}
	return n - zeros;
}

static void test_json_reals(void)
{
	/* repr() of each value in CPython 3. */
	static const struct {
		double v;
		const char *py;
	} py[] = {
		{ 0.1, "0.1" }, { 1.0, "1.0" }, { 1e16, "1e+16" }, { 1e-5, "1e-05" },
		{ 123456789012345678.0, "1.2345678901234568e+17" }, { 0.0001, "0.0001" }, { 1.5e300, "1.5e+300" },
		{ 5e-324, "5e-324" }, { -2.5, "-2.5" }, { 1.0 / 3, "0.3333333333333333" }, { 100.0, "100.0" },
		{ 1e15, "1000000000000000.0" }, { 123.456, "123.456" }, { 1e22, "1e+22" }, { -0.0, "-0.0" },
	};
	struct ling_buf out = LING_BUF_INIT;
	size_t i;
	int same = 0, shortest = 0;

	for (i = 0; i < sizeof(py) / sizeof(py[0]); i++)
		expect_real(py[i].v, LING_JSON_REAL_PYTHON, py[i].py);
	expect_real(NAN, LING_JSON_REAL_PYTHON, "NaN");
	expect_real(-INFINITY, LING_JSON_REAL_PYTHON, "-Infinity");
	expect_real(INFINITY, LING_JSON_REAL_JANSSON, "null");
	/* jansson on random doubles (random bit patterns, the finite ones). */
	for (i = 0; i < 5000; i++) {
		uint64_t bits = ling_rand_next(&rng);
		double v;
		json_t *j;
		char *want, again[40];

		if (i % 3 == 0)
			bits &= 0xC3FFFFFFFFFFFFFFULL; /* exponents near 0: fixed notation */
		memcpy(&v, &bits, sizeof(v));
		if (!isfinite(v))
			v = (double)i;
		if (i % 5 == 0)
			v = (double)(int64_t)(bits >> 20) * (i % 2 ? 1 : 1e-3); /* integers and short decimals */
		j = json_real(v);
		want = json_dumps(j, JSON_ENCODE_ANY);
		ling_buf_reset(&out);
		ling_json_add_real(&out, v, LING_JSON_REAL_JANSSON);
		if (want && !strcmp(out.data, want))
			same++;
		else if (same == (int)i)
			diag("jansson real %.17g: '%s', jansson '%s'", v, out.data, want ? want : "(none)");
		free(want);
		json_decref(j);
		/* Python: reads back exactly, and one digit fewer would not. */
		ling_buf_reset(&out);
		ling_json_add_real(&out, v, LING_JSON_REAL_PYTHON);
		snprintf(again, sizeof(again), "%.*e", mantissa_digits(out.data) > 1 ? mantissa_digits(out.data) - 2 : 0, v);
		if (strtod(out.data, NULL) == v && (mantissa_digits(out.data) <= 1 || strtod(again, NULL) != v))
			shortest++;
		else if (shortest + 1 == (int)i + 1)
			diag("python real %.17g: '%s' not shortest round-trip", v, out.data);
	}
	is_int(same, 5000, "json: jansson reals equal json_dumps on 5000 random doubles");
	is_int(shortest, 5000, "json: python reals are the shortest round-trip digits on 5000 random doubles");
	ling_buf_reset(&out);
	ling_json_add_real_g(&out, 0.87654321, 4);
	ling_buf_addc(&out, ' ');
	ling_json_add_real_g(&out, 1.0, 4);
	ling_buf_addc(&out, ' ');
	ling_json_add_int(&out, INT64_MIN);
	ling_buf_addc(&out, ' ');
	ling_json_add_uint(&out, UINT64_MAX);
	is_str(out.data, "0.8765 1 -9223372036854775808 18446744073709551615", "json: %%.4g reals and 64-bit integers");
	ling_buf_release(&out);
}

/* A random JSON tree of depth at most depth (keys unique: jansson objects are maps). */
static json_t *random_tree(int depth)
{
	struct ling_buf s = LING_BUF_INIT;
	unsigned kind = ling_rand_below(&rng, depth > 0 ? 9 : 7);
	json_t *v = NULL;
	unsigned i, n;

	switch (kind) {
	case 0: v = json_null(); break;
	case 1: v = json_boolean(ling_rand_below(&rng, 2)); break;
	case 2: v = json_integer((json_int_t)ling_rand_next(&rng)); break;
	case 3: v = json_real((double)(int32_t)ling_rand_next(&rng) / 64.0); break;
	case 4: case 5: case 6:
		random_utf8(&s, ling_rand_below(&rng, 6));
		v = json_stringn(s.data ? s.data : "", s.len);
		break;
	case 7:
		v = json_array();
		for (n = ling_rand_below(&rng, 4), i = 0; i < n; i++)
			json_array_append_new(v, random_tree(depth - 1));
		break;
	default:
		v = json_object();
		for (n = ling_rand_below(&rng, 4), i = 0; i < n; i++) {
			random_utf8(&s, 1 + ling_rand_below(&rng, 3));
			if (!memchr(s.data, 0, s.len))
				json_object_set_new(v, s.data, random_tree(depth - 1));
		}
	}
	ling_buf_release(&s);
	return v;
}

static void write_tree(struct ling_json *w, json_t *v)
{
	const char *key;
	json_t *e;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		ling_json_object_begin(w);
		json_object_foreach(v, key, e) {
			ling_json_keyz(w, key);
			write_tree(w, e);
		}
		ling_json_object_end(w);
		break;
	case JSON_ARRAY:
		ling_json_array_begin(w);
		json_array_foreach(v, i, e)
			write_tree(w, e);
		ling_json_array_end(w);
		break;
	case JSON_STRING: ling_json_str(w, json_string_value(v), json_string_length(v)); break;
	case JSON_INTEGER: ling_json_int(w, json_integer_value(v)); break;
	case JSON_REAL: ling_json_real(w, json_real_value(v), LING_JSON_REAL_JANSSON); break;
	case JSON_TRUE: ling_json_bool(w, 1); break;
	case JSON_FALSE: ling_json_bool(w, 0); break;
	case JSON_NULL: ling_json_null(w); break;
	}
}

static void test_json_writer_matches_jansson(void)
{
	static const struct {
		unsigned ours;
		size_t theirs;
		const char *name;
	} layouts[] = {
		{ 0, JSON_COMPACT, "compact" },
		{ LING_JSON_SPACED, 0, "spaced" },
		{ LING_JSON_INDENT(1), JSON_INDENT(1), "indent 1" },
		{ LING_JSON_INDENT(2), JSON_INDENT(2), "indent 2" },
	};
	struct ling_buf out = LING_BUF_INIT;
	size_t l;
	int i;

	for (l = 0; l < sizeof(layouts) / sizeof(layouts[0]); l++) {
		int same = 0;
		unsigned ours = layouts[l].ours;

		for (i = 0; i < 500; i++) {
			json_t *v = random_tree(4);
			char *want = json_dumps(v, layouts[l].theirs | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
			struct ling_json w;

			ling_buf_reset(&out);
			ling_json_init(&w, &out, ours);
			write_tree(&w, v);
			ling_json_release(&w);
			if (want && out.data && !strcmp(out.data, want))
				same++;
			else if (same == i)
				diag("%s: '%s', jansson '%s'", layouts[l].name, out.data, want ? want : "(none)");
			free(want);
			json_decref(v);
		}
		is_int(same, 500, "json writer: %s layout equals json_dumps on 500 random trees", layouts[l].name);
	}
	{
		struct ling_json w;

		ling_buf_reset(&out);
		ling_json_init(&w, &out, LING_JSON_PYTHON);
		ling_json_object_begin(&w);
		ling_json_keyz(&w, "a");
		ling_json_array_begin(&w);
		ling_json_real(&w, 0.5, LING_JSON_REAL_PYTHON);
		ling_json_raw(&w, "{}", 2);
		ling_json_strz(&w, "\n");
		ling_json_array_end(&w);
		ling_json_keyz(&w, "b");
		ling_json_uint(&w, 7);
		ling_json_object_end(&w);
		ling_json_int(&w, -1); /* a second top-level value: no separator */
		ling_json_release(&w);
		/* Python: json.dumps({"a": [0.5, {}, "\n"], "b": 7}) */
		is_str(out.data, "{\"a\": [0.5, {}, \"\\n\"], \"b\": 7}-1", "json writer: Python separators and raw values");
	}
	ling_buf_release(&out);
}

/* ---- ling_idmap ---- */

/* The naive reference: a list of (key, val) in insertion order. */
struct naive {
	struct ling_idmap_ent *e;
	size_t n, cap;
};

static struct ling_idmap_ent *naive_find(struct naive *r, uint64_t key)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->e[i].key == key)
			return &r->e[i];
	return NULL;
}

static void naive_add(struct naive *r, uint64_t key, uint64_t val)
{
	r->e = xgrow(r->e, &r->cap, r->n + 1, sizeof(*r->e));
	r->e[r->n].key = key;
	r->e[r->n++].val = val;
}

/* Keys from a small range, so that hits, misses and collisions all happen. */
static uint64_t random_key(uint64_t range)
{
	uint64_t k = ling_rand_next(&rng) % range;

	switch (k % 3) {
	case 0: return k + 1;                     /* small, sequential */
	case 1: return (k + 1) << 40;             /* differ in high bits only */
	default: return (k + 1) * 0xA5A5A5A5ULL;  /* spread */
	}
}

static void test_idmap_map_mode(enum ling_idmap_hash hash, const char *name)
{
	struct ling_idmap_opts o = LING_IDMAP_OPTS_INIT;
	struct ling_idmap m;
	struct naive r = { NULL, 0, 0 };
	int op, bad = 0, round;

	o.hash = hash;
	o.min_cap = 16;
	ling_idmap_init(&m, &o);
	for (round = 0; round < 2; round++) {
		for (op = 0; op < 20000; op++) {
			uint64_t key = random_key(3000), val = ling_rand_next(&rng);
			struct ling_idmap_ent *got, *want = naive_find(&r, key);
			int added = -1;

			switch (ling_rand_below(&rng, 3)) {
			case 0:
				got = ling_idmap_insert(&m, key, val, &added);
				if (!want)
					naive_add(&r, key, val);
				bad += added != !want || got->key != key || got->val != (want ? want->val : val);
				break;
			case 1:
				ling_idmap_put(&m, key, val);
				if (want)
					want->val = val;
				else
					naive_add(&r, key, val);
				break;
			default:
				got = ling_idmap_find(&m, key);
				bad += !got != !want || (got && got->val != want->val);
			}
			bad += m.n != r.n || m.n * 2 > m.cap;
		}
		{
			size_t pos = 0, seen = 0;
			struct ling_idmap_ent *e;

			while ((e = ling_idmap_next(&m, &pos))) {
				struct ling_idmap_ent *w = naive_find(&r, e->key);

				bad += !w || w->val != e->val;
				seen++;
			}
			bad += seen != r.n;
		}
		is_int(bad, 0, "idmap %s round %d: 20000 random insert/put/find equal the naive map (%zu keys, cap %zu)",
		       name, round, r.n, m.cap);
		bad = 0;
		ling_idmap_clear(&m);
		r.n = 0;
		ok(m.n == 0 && m.cap > 16 && !ling_idmap_find(&m, 1), "idmap %s: clear empties, keeps capacity", name);
	}
	ling_idmap_release(&m);
	free(r.e);
}

/* dedup/dedup_state.c's former bucket table, verbatim in behaviour: the layout ling_idmap must keep. */
struct old_bucket {
	uint64_t key, ref;
};

static size_t old_slot(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 32) & (cap - 1);
}

static void old_insert(struct old_bucket *tab, size_t cap, uint64_t key, uint64_t ref)
{
	size_t i = old_slot(key, cap);

	while (tab[i].ref)
		i = (i + 1) & (cap - 1);
	tab[i].key = key;
	tab[i].ref = ref;
}

static void old_reserve(struct old_bucket **tab, size_t *tcap, size_t n, size_t more)
{
	struct old_bucket *old = *tab;
	size_t old_cap = *tcap, cap = old_cap ? old_cap : 4096, i;

	while ((n + more) * 3 > cap * 2)
		cap *= 2;
	if (cap == old_cap)
		return;
	*tab = xcalloc(cap, sizeof(**tab));
	*tcap = cap;
	for (i = 0; i < old_cap; i++)
		if (old[i].ref)
			old_insert(*tab, cap, old[i].key, old[i].ref);
	free(old);
}

static void test_idmap_multimap_as_dedup(void)
{
	struct ling_idmap_opts o = { LING_IDMAP_HASH_MID, LING_IDMAP_VAL0_EMPTY, 4096, 2, 3 };
	struct ling_idmap m;
	struct old_bucket *tab = NULL;
	size_t cap = 0, n = 0, i, layout_same = 0, found_ok = 0, pos;
	uint64_t ref;
	int bands = 9;

	ling_idmap_init(&m, &o);
	for (ref = 1; ref <= 3000; ref++) {
		int b;

		old_reserve(&tab, &cap, n, (size_t)bands);
		ling_idmap_reserve(&m, (size_t)bands);
		for (b = 0; b < bands; b++) {
			/* Bucket keys repeat (near duplicates share them) and may be 0. */
			uint64_t key = ling_rand_below(&rng, 4) ? ling_rand_next(&rng) : ling_rand_below(&rng, 50);

			old_insert(tab, cap, key, ref);
			ling_idmap_add(&m, key, ref);
			n++;
		}
	}
	for (i = 0; i < cap && cap == m.cap; i++)
		layout_same += tab[i].key == m.slots[i].key && tab[i].ref == m.slots[i].val;
	is_int(layout_same, cap, "idmap multimap: slot for slot the layout of dedup's bucket table (cap %zu)", cap);
	/* Every key's refs, in probe order, as dedup_state_find_bucket collects them. */
	for (i = 0; i < 50; i++) {
		size_t cursor = 0, j, k = 0, want = 0;
		struct ling_idmap_ent *e;
		int same = 1;

		for (j = old_slot(i, cap); tab[j].ref; j = (j + 1) & (cap - 1))
			if (tab[j].key == i) {
				want++;
				e = ling_idmap_find_next(&m, i, &cursor);
				same &= e && e->val == tab[j].ref;
				k++;
			}
		same &= ling_idmap_find_next(&m, i, &cursor) == NULL;
		found_ok += same && k == want;
	}
	is_int(found_ok, 50, "idmap multimap: find_next walks each key's entries in the old probe order");
	pos = 0;
	for (i = 0; ling_idmap_next(&m, &pos); i++)
		;
	is_int(i, n, "idmap multimap: iteration sees all %zu entries, key 0 included", n);
	ling_idmap_release(&m);
	free(tab);
}

static void test_idmap_growth_points(void)
{
	struct ling_idmap_opts o = LING_IDMAP_OPTS_INIT;
	struct ling_idmap m;
	uint64_t k;
	int added;

	o.min_cap = 256; /* kg_query's id_set */
	ling_idmap_init(&m, &o);
	ok(m.cap == 0 && !ling_idmap_find(&m, 5), "idmap: an empty map holds no memory and finds nothing");
	for (k = 1; k <= 128; k++)
		ling_idmap_insert(&m, k, 0, &added);
	is_int(m.cap, 256, "idmap: 128 keys fit 256 slots at load 1/2");
	ling_idmap_insert(&m, 1, 0, &added);
	is_int(m.cap, 512, "idmap: an insert that could pass the load grows first, even for a present key (as the copies)");
	ok(!added, "idmap: a present key is not added again");
	ling_idmap_release(&m);
}

/* ---- ling_sha256 ---- */

static void expect_sha(const char *msg, size_t len, const char *want, const char *name)
{
	char hex[LING_SHA256_HEX_LEN + 1];

	ling_sha256_hex(msg, len, hex);
	is_str(hex, want, "sha256: %s", name);
}

static void test_sha256(void)
{
	static const char m448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	static const char m896[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
				   "klmnopqrlmnopqrsmnopqrstnopqrstu";
	char *million = xmalloc(1000000), hex[LING_SHA256_HEX_LEN + 1], whole[LING_SHA256_HEX_LEN + 1];
	char path[64], gzpath[72];
	struct ling_sha256 s;
	struct ling_err err;
	int i, same = 0;
	FILE *f;
	gzFile gz;

	expect_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "FIPS 180 \"\"");
	expect_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "FIPS 180 \"abc\"");
	expect_sha(m448, sizeof(m448) - 1, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
		   "FIPS 180 448-bit message");
	expect_sha(m896, sizeof(m896) - 1, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
		   "FIPS 180 896-bit message");
	memset(million, 'a', 1000000);
	expect_sha(million, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
		   "FIPS 180 one million 'a'");
	/* Random splits, padding boundaries (55, 56, 63, 64 bytes) included. */
	for (i = 0; i < 1000; i++) {
		size_t len = i < 130 ? (size_t)i : ling_rand_below(&rng, 5000), off = 0;

		for (off = 0; off < len; off++)
			million[off] = (char)ling_rand_next(&rng);
		ling_sha256_hex(million, len, whole);
		ling_sha256_init(&s);
		for (off = 0; off < len;) {
			size_t step = ling_rand_below(&rng, 3) ? ling_rand_below(&rng, 70) : ling_rand_below(&rng, 300);

			if (step > len - off)
				step = len - off;
			ling_sha256_update(&s, million + off, step);
			off += step;
		}
		ling_sha256_final_hex(&s, hex);
		same += !strcmp(hex, whole);
	}
	is_int(same, 1000, "sha256: split updates equal one call on 1000 random messages");

	snprintf(path, sizeof(path), "sha-%ld.txt", (long)getpid());
	snprintf(gzpath, sizeof(gzpath), "%s.gz", path);
	f = fopen(path, "wb");
	fwrite(million, 1, 4000, f);
	fclose(f);
	ling_sha256_hex(million, 4000, whole);
	ling_err_clear(&err);
	ok(!ling_sha256_file_hex(path, 0, hex, &err) && !strcmp(hex, whole), "sha256: a file's digest is its bytes'");
	gz = gzopen(gzpath, "wb");
	gzwrite(gz, million, 4000);
	gzclose(gz);
	ok(!ling_sha256_file_hex(gzpath, LING_SHA256_DECOMPRESS, hex, &err) && !strcmp(hex, whole),
	   "sha256: DECOMPRESS hashes a gzip file's content");
	ok(!ling_sha256_file_hex(gzpath, 0, hex, &err) && strcmp(hex, whole),
	   "sha256: without it, the stored (compressed) bytes");
	unlink(path);
	unlink(gzpath);
	is_int(ling_sha256_file_hex(path, 0, hex, &err), LING_EIO, "sha256: a missing file is LING_EIO");
	ok(!strcmp(err.file, path) && !strncmp(err.msg, "cannot open: ", 13), "sha256: ... at the path: '%s'", err.msg);
	free(million);
}

/* ---- ling_unicode ---- */

static void expect_form(struct ling_unicode *u, enum ling_unicode_form form, unsigned flags, const char *s,
			size_t n, const char *want, size_t wlen, const char *name)
{
	struct ling_buf out = LING_BUF_INIT;
	struct ling_err err;
	int rc;

	ling_err_clear(&err);
	ling_buf_adds(&out, "<");
	rc = ling_unicode_normalize(u, form, flags, s, n, &out, "a term", &err);
	if (rc)
		diag("%s: rc %d: %s", name, rc, err.msg);
	is_mem(out.data + 1, out.len - 1, want, wlen, "unicode: %s", name);
	ling_buf_release(&out);
}

#define FORM(f, fl, s, want, name) expect_form(&u, f, fl, s, sizeof(s) - 1, want, sizeof(want) - 1, name)

static void test_unicode_forms(void)
{
	struct ling_unicode u;
	struct ling_buf fdfa = LING_BUF_INIT, out = LING_BUF_INIT;
	struct ling_err err;
	int i;

	ling_unicode_init(&u);
	FORM(LING_UNICODE_NFC, 0, "A\xcc\x8a" "e\xcc\x81", "\xc3\x85\xc3\xa9", "NFC composes A+ring and e+acute");
	FORM(LING_UNICODE_NFC, 0, "\xc3\x85\xef\xac\x81", "\xc3\x85\xef\xac\x81", "NFC keeps composed text and the fi ligature");
	FORM(LING_UNICODE_NFKC, 0, "\xef\xac\x81\xc2\xb2", "fi2", "NFKC maps the fi ligature and superscript two");
	FORM(LING_UNICODE_NFC, 0, "\xe1\x84\x80\xe1\x85\xa1", "\xea\xb0\x80", "NFC composes Hangul jamo into a syllable");
	FORM(LING_UNICODE_NFKC, 0, "\xea\xb0\x80", "\xea\xb0\x80", "NFKC keeps a Hangul syllable");
	FORM(LING_UNICODE_NFC_CASEFOLD, 0, "Stra\xc3\x9f" "e", "strasse", "NFC + case folding: sharp s folds to ss");
	FORM(LING_UNICODE_NFKC_CASEFOLD, 0, "Stra\xc3\x9f" "e", "strasse", "NFKC_Casefold: sharp s folds to ss");
	FORM(LING_UNICODE_LOWER, 0, "Stra\xc3\x9f" "E", "stra\xc3\x9f" "e", "lowercase keeps sharp s");
	FORM(LING_UNICODE_NFC_CASEFOLD, 0, "\xce\xa3\xce\x91\xce\xa3", "\xcf\x83\xce\xb1\xcf\x83",
	     "case folding: capital sigma is always sigma");
	FORM(LING_UNICODE_LOWER, 0, "\xce\xa3\xce\x91\xce\xa3", "\xcf\x83\xce\xb1\xcf\x82",
	     "lowercase: final sigma at the end of a word");
	FORM(LING_UNICODE_NFC_CASEFOLD, 0, "U\xcc\x88" "BER", "\xc3\xbc" "ber", "NFC then folding: U+diaeresis");
	FORM(LING_UNICODE_NFC_CASEFOLD, 0, "\xef\xac\x81", "fi", "NFC + folding: the fi ligature folds to fi");
	FORM(LING_UNICODE_NFKC_CASEFOLD, 0, "a\xc2\xad" "B", "ab", "NFKC_Casefold drops a soft hyphen");
	FORM(LING_UNICODE_NFC_CASEFOLD, 0, "a\xc2\xad" "B", "a\xc2\xad" "b", "NFC + folding keeps it");
	FORM(LING_UNICODE_NFKC_CASEFOLD, LING_UNICODE_COLLAPSE_SPACE, " \t Hello \n\n World  ", "hello world",
	     "collapse: ASCII white space runs");
	FORM(LING_UNICODE_NFKC_CASEFOLD, LING_UNICODE_COLLAPSE_SPACE, "\xc2\xa0" "Caf\xc3\xa9\xe2\x80\x83 \xe3\x80\x80" "Bar ",
	     "caf\xc3\xa9 bar", "collapse: no-break, em and ideographic spaces");
	FORM(LING_UNICODE_NFKC_CASEFOLD, 0, "A\0B", "a\0b", "a NUL byte is kept (ASCII path)");
	FORM(LING_UNICODE_NFC, 0, "e\xcc\x81\0x", "\xc3\xa9\0x", "a NUL byte is kept (ICU path)");
	FORM(LING_UNICODE_NFC, 0, "", "", "the empty string");
	FORM(LING_UNICODE_NFD, 0, "\xc3\xa9t\xc3\xa9", "e\xcc\x81te\xcc\x81", "NFD decomposes e-acute");
	FORM(LING_UNICODE_NFD, 0, "\xef\xac\x81 \xea\xb0\x80", "\xef\xac\x81 \xe1\x84\x80\xe1\x85\xa1",
	     "NFD keeps the fi ligature (canonical only) and splits a Hangul syllable");
	FORM(LING_UNICODE_NFD, 0, "AbC 1", "AbC 1", "NFD of ASCII is the text (ASCII path)");

	/* U+FDFA becomes 18 characters under NFKC: more than 3n + 16 UTF-16 units for 20 of them. */
	for (i = 0; i < 20; i++)
		ling_buf_adds(&fdfa, "\xef\xb7\xba");
	ling_err_clear(&err);
	is_int(ling_unicode_normalize(&u, LING_UNICODE_NFKC, 0, fdfa.data, fdfa.len, &out, NULL, &err), 0,
	       "unicode: NFKC of 20 x U+FDFA succeeds (the buffer grows)");
	is_int(out.len, 20 * 33, "unicode: ... into 20 x 33 bytes");

	{
		static const struct {
			const char *s;
			size_t n;
			const char *name;
		} bad[] = {
			{ "\xff", 1, "a byte that is never UTF-8" },
			{ "ok \xc0\xaf", 5, "an overlong '/'" },
			{ "\xed\xa0\x80", 3, "a surrogate" },
			{ "\xe2\x82", 2, "a truncated sequence" },
			{ "\xf4\x90\x80\x80", 4, "beyond U+10FFFF" },
		};
		size_t k;
		int f;

		for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			int rc, all = 1;

			for (f = LING_UNICODE_NFC; f <= LING_UNICODE_LOWER; f++) {
				ling_buf_reset(&out);
				ling_buf_adds(&out, "kept");
				ling_err_clear(&err);
				rc = ling_unicode_normalize(&u, (enum ling_unicode_form)f, LING_UNICODE_COLLAPSE_SPACE * (f == 2),
							    bad[k].s, bad[k].n, &out, "a label", &err);
				all &= rc == LING_EDATA && !strcmp(err.msg, "invalid UTF-8 in a label") &&
				       !strcmp(out.data, "kept");
			}
			ok(all, "unicode: %s is LING_EDATA 'invalid UTF-8 in a label' in every form, output untouched",
			   bad[k].name);
		}
	}
	ling_buf_release(&fdfa);
	ling_buf_release(&out);
	ling_unicode_release(&u);
}

/* ling_unicode_normalize16: the same forms, left in UTF-16. */
static void test_unicode_normalize16(void)
{
	static const uint16_t nfd[] = { 'A', 'e', 0x301, 'e', 0x301, 0xD83D, 0xDE00 };
	static const uint16_t folded[] = { 's', 't', 'r', 'a', 's', 's', 'e' };
	struct ling_unicode u;
	struct ling_err err;
	const uint16_t *out;
	size_t len;

	ling_unicode_init(&u);
	ling_err_clear(&err);
	is_int(ling_unicode_normalize16(&u, LING_UNICODE_NFD, "Ae\xcc\x81\xc3\xa9\xf0\x9f\x98\x80", 10, &out, &len, NULL,
					&err), 0, "unicode16: NFD");
	ok(len == 7 && !memcmp(out, nfd, sizeof(nfd)), "unicode16: NFD of A, e+acute, e-acute, U+1F600 in 7 units");
	is_int(ling_unicode_normalize16(&u, LING_UNICODE_NFC_CASEFOLD, "Stra\xc3\x9f" "E", 7, &out, &len, NULL, &err), 0,
	       "unicode16: NFC + folding");
	ok(len == 7 && !memcmp(out, folded, sizeof(folded)), "unicode16: StraßE folds to strasse");
	is_int(ling_unicode_normalize16(&u, LING_UNICODE_NFD, "ok \xc0\xaf", 5, &out, &len, "a text", &err), LING_EDATA,
	       "unicode16: an overlong is LING_EDATA");
	is_str(err.msg, "invalid UTF-8 in a text", "unicode16: ... 'invalid UTF-8 in a text'");
	ling_unicode_release(&u);
}

/*
 * The ASCII path must give what ICU gives. Text that ends in 'é' goes
 * through ICU, the same text ending in 'e' takes the ASCII path; their
 * results must differ in that last letter only.
 */
static void test_unicode_ascii_path_equals_icu(void)
{
	static const unsigned flags[] = { 0, LING_UNICODE_COLLAPSE_SPACE };
	struct ling_unicode u;
	struct ling_buf s = LING_BUF_INIT, a = LING_BUF_INIT, b = LING_BUF_INIT;
	struct ling_err err;
	int f, fl, i;

	ling_unicode_init(&u);
	for (f = LING_UNICODE_NFC; f <= LING_UNICODE_LOWER; f++)
		for (fl = 0; fl < 2; fl++) {
			int same = 0;

			for (i = 0; i < 300; i++) {
				size_t n = ling_rand_below(&rng, 30), k;

				ling_buf_reset(&s);
				for (k = 0; k < n; k++)
					ling_buf_addc(&s, (char)(ling_rand_below(&rng, 3) ? 0x20 + ling_rand_below(&rng, 0x5F)
											: ling_rand_below(&rng, 0x80)));
				ling_buf_reset(&a);
				ling_buf_reset(&b);
				ling_buf_addc(&s, 'e');
				ling_unicode_normalize(&u, (enum ling_unicode_form)f, flags[fl], s.data, s.len, &a, NULL, &err);
				s.len--;
				ling_buf_adds(&s, "\xc3\xa9");
				ling_unicode_normalize(&u, (enum ling_unicode_form)f, flags[fl], s.data, s.len, &b, NULL, &err);
				if (a.len && a.data[a.len - 1] == 'e') {
					a.len--;
					ling_buf_adds(&a, "\xc3\xa9");
				}
				if (a.len == b.len && !memcmp(a.data, b.data, a.len))
					same++;
				else if (same == i)
					diag("form %d flags %u: ASCII path '%s', ICU path '%s'", f, flags[fl], a.data, b.data);
			}
			is_int(same, 300, "unicode: form %d%s: the ASCII path equals ICU on 300 random ASCII texts", f,
			       fl ? " collapsed" : "");
		}
	ling_buf_release(&s);
	ling_buf_release(&a);
	ling_buf_release(&b);
	ling_unicode_release(&u);
}

int main(void)
{
	test_json_strings_match_jansson();
	test_json_dialects();
	test_json_reals();
	test_json_writer_matches_jansson();
	test_idmap_map_mode(LING_IDMAP_HASH_LOW, "hash low");
	test_idmap_map_mode(LING_IDMAP_HASH_MID, "hash mid");
	test_idmap_map_mode(LING_IDMAP_HASH_IDENTITY, "hash identity");
	test_idmap_multimap_as_dedup();
	test_idmap_growth_points();
	test_sha256();
	test_unicode_forms();
	test_unicode_ascii_path_equals_icu();
	test_unicode_normalize16();
	return done_testing();
}
