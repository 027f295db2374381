/*
 * Unit tests for libdedup: normal forms (the ASCII fast paths against ICU),
 * shingles, signatures (AVX2 against scalar), banding, similarity, the
 * state (reopen, mismatched parameters, read-only), and the run through the
 * public API (exact and near duplicates, order, bad records, threads).
 */
#include "tap.h"
#include "fixture.h"

#include "common/ling_mem.h"
#include "dedup/dedup.h"
#include "dedup/dedup_internal.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/banned.h"

static char tmpdir[PATH_MAX];

/* ---- helpers ---- */

static uint64_t rng_state = 12345;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static char *norm_exact(struct dedup_hasher *h, const char *s)
{
	struct ling_buf b = LING_BUF_INIT;
	struct ling_err err;

	ling_buf_adds(&b, "");
	if (dedup_normalize_exact(h, s, strlen(s), &b, &err))
		ling_buf_adds(&b, "<error>");
	return b.data;
}

static char *norm_near(struct dedup_hasher *h, const char *s)
{
	struct ling_buf b = LING_BUF_INIT;
	struct ling_err err;

	ling_buf_adds(&b, "");
	if (dedup_normalize_near(h, s, strlen(s), &b, &err))
		ling_buf_adds(&b, "<error>");
	return b.data;
}

static void check_exact(struct dedup_hasher *h, const char *in, const char *want, const char *name)
{
	char *got = norm_exact(h, in);

	is_str(got, want, "exact normal form: %s", name);
	free(got);
}

static void check_near(struct dedup_hasher *h, const char *in, const char *want, const char *name)
{
	char *got = norm_near(h, in);

	is_str(got, want, "near normal form: %s", name);
	free(got);
}

/* ---- normal forms ---- */

static void test_normalize(void)
{
	struct dedup_params p;
	struct dedup_hasher *h;
	struct ling_buf b = LING_BUF_INIT;
	struct ling_err err;
	int i, same_exact = 1, same_near = 1;

	dedup_params_default(&p);
	h = dedup_hasher_new(&p);
	check_exact(h, "  Hello\t\tWORLD \n", "hello world", "ASCII case and white space");
	check_exact(h, "", "", "empty");
	check_exact(h, " \t\r\n", "", "white space only");
	check_exact(h, "Stra\xc3\x9f" "e", "strasse", "full case folding (sharp s)");
	check_exact(h, "\xef\xac\x81" "ne", "fine", "NFKC (fi ligature)");
	check_exact(h, "\xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3", "abc", "NFKC (full-width letters)");
	check_exact(h, "a\xc2\xa0\xe3\x80\x80" "b", "a b", "Unicode white space collapses");
	check_exact(h, "Cafe\xcc\x81", "caf\xc3\xa9", "NFKC composes");
	check_exact(h, "Hello, World!", "hello, world!", "punctuation stays");

	check_near(h, "Hello, World!  How are you?", "hello world how are you", "punctuation and case");
	check_near(h, "pay 123 now, or 4.50 later", "pay 0 now or 0 later", "numbers become 0");
	check_near(h, "version 1.5.3", "version 0 0", "a number takes one fraction");
	check_near(h, "abc123def 7x", "abc0def 0x", "digits inside words");
	check_near(h, "end 12.", "end 0", "a trailing dot");
	check_near(h, "1.a", "0 a", "a dot before a letter");
	check_near(h, "x_y-z", "x y z", "underscore and hyphen separate");
	check_near(h, "Caf\xc3\xa9 na\xc3\xafve \xc3\x85ngstr\xc3\xb6m", "cafe naive angstrom", "accents stripped");
	check_near(h, "\xc2\xabquoted\xc2\xbb\xe2\x80\x94" "dash\xe2\x80\xa6", "quoted dash", "Unicode punctuation");
	check_near(h, "smile \xf0\x9f\x98\x80 now \xe2\x82\xac" "5", "smile now 0", "symbols separate");
	check_near(h, "\xd9\xa3\xd9\xa4 items", "0 items", "Arabic-Indic digits");
	check_near(h, "\xce\x91\xce\x98\xce\x97\xce\x9d\xce\x91", "\xce\xb1\xce\xb8\xce\xb7\xce\xbd\xce\xb1",
		   "Greek lower case");
	check_near(h, "...", "", "punctuation only");

	/* The ASCII fast paths give what ICU gives: a trailing NBSP sends the same text through ICU. */
	for (i = 0; i < 2000; i++) {
		char s[64], t[70];
		char *a, *bb;
		int n = (int)(rnd() % 40), k;

		for (k = 0; k < n; k++) {
			static const char alphabet[] = "aZ09 .,;_-\t\n\x01\x7f!?$%^&*()[]{}<>'\"/\\|~`+=:@#xyzQ12.5";

			s[k] = alphabet[rnd() % (sizeof(alphabet) - 1)];
		}
		s[n] = '\0';
		snprintf(t, sizeof(t), "%s\xc2\xa0", s);
		a = norm_exact(h, s);
		bb = norm_exact(h, t);
		if (strcmp(a, bb)) {
			same_exact = 0;
			diag("exact: '%s' -> '%s' vs ICU '%s'", s, a, bb);
		}
		free(a);
		free(bb);
		a = norm_near(h, s);
		bb = norm_near(h, t);
		if (strcmp(a, bb)) {
			same_near = 0;
			diag("near: '%s' -> '%s' vs ICU '%s'", s, a, bb);
		}
		free(a);
		free(bb);
	}
	ok(same_exact, "exact normal form: the ASCII path agrees with ICU on 2000 random strings");
	ok(same_near, "near normal form: the ASCII path agrees with ICU on 2000 random strings");

	is_int(dedup_normalize_exact(h, "caf\xe9", 4, &b, &err), LING_EDATA, "invalid UTF-8 is LING_EDATA (exact)");
	is_int(dedup_normalize_near(h, "caf\xe9", 4, &b, &err), LING_EDATA, "invalid UTF-8 is LING_EDATA (near)");
	ling_buf_release(&b);
	dedup_hasher_free(h);
}

/* ---- shingles, signatures, bands ---- */

static void test_shingles(void)
{
	struct dedup_params p;
	struct dedup_hasher *h;
	struct ling_err err;
	uint32_t *x = NULL, *y = NULL;
	size_t cap = 0, ycap = 0;
	const char *ten = "one two three four five six seven eight nine ten";

	dedup_params_default(&p);
	h = dedup_hasher_new(&p);
	is_int(dedup_shingles(h, ten, strlen(ten), &x, &cap, &err), 6, "10 words make 6 5-grams");
	is_int(dedup_shingles(h, "One, TWO: three!", 16, &x, &cap, &err), 1, "3 words make one shingle");
	is_int(dedup_shingles(h, " ... ", 5, &x, &cap, &err), 0, "no words, no shingles");
	dedup_shingles(h, "a b c d e f g", 13, &x, &cap, &err);
	dedup_shingles(h, "A, b; C d e!  F g", 17, &y, &ycap, &err);
	ok(x[0] == y[0] && x[1] == y[1] && x[2] == y[2], "shingles are taken after normalisation");
	dedup_shingles(h, "b a c d e f g", 13, &y, &ycap, &err);
	ok(x[0] != y[0] && x[1] != y[1] && x[2] == y[2], "a shingle is its words in order");
	free(x);
	free(y);
	dedup_hasher_free(h);
}

static void test_signature(void)
{
	struct dedup_params p;
	struct dedup_hasher *h, *h2;
	struct ling_err err;
	const char *a = "the quick brown fox jumps over the lazy dog and runs far away into the woods";
	uint32_t sa[DEDUP_MAX_PERMS], sb[DEDUP_MAX_PERMS], x[300];
	uint64_t ka[255], kb[255];
	int i, b, same = 1, only_band = 1;

	dedup_params_default(&p);
	h = dedup_hasher_new(&p);
	h2 = dedup_hasher_new(&p);
	is_int(dedup_signature(h, a, strlen(a), sa, ka, &err), 12, "signature of 16 words: 12 shingles");
	dedup_signature(h2, a, strlen(a), sb, kb, &err);
	ok(!memcmp(sa, sb, 112 * sizeof(uint32_t)) && !memcmp(ka, kb, 14 * sizeof(uint64_t)),
	   "two hashers give the same signature and bands");
	is_int((long)(dedup_similarity(sa, sb, 112) * 1000), 1000, "identical texts: similarity 1");
	for (b = 0; b < 14; b++)
		if ((ka[b] >> 56) != (uint64_t)b)
			same = 0;
	ok(same, "bucket keys carry their band in the top byte");
	memcpy(sb, sa, sizeof(sb));
	sb[3 * 8 + 5] ^= 1;
	dedup_band_keys(&p, sb, kb);
	for (b = 0; b < 14; b++)
		if ((ka[b] == kb[b]) != (b != 3))
			only_band = 0;
	ok(only_band, "changing one value changes only its band's key");
	/* AVX2 and scalar: the same values, also for a number of permutations not a multiple of 8. */
	for (i = 0; i < 300; i++)
		x[i] = (uint32_t)rnd();
	p.bands = 13;
	p.rows = 3;
	dedup_hasher_free(h2);
	h2 = dedup_hasher_new(&p);
	dedup_hasher_set_avx2(h2, 1);
	if (!dedup_hasher_avx2(h2)) {
		ok(1, "# SKIP no AVX2 on this CPU");
	} else {
		dedup_minhash(h2, x, 300, sa);
		dedup_hasher_set_avx2(h2, 0);
		dedup_minhash(h2, x, 300, sb);
		ok(!memcmp(sa, sb, 39 * sizeof(uint32_t)), "AVX2 and scalar MinHash agree (39 permutations)");
	}
	/* The hash family: h_i(x) = ((a_i x + b_i) mod 2^64) >> 32, minimum over x. */
	dedup_hasher_set_avx2(h2, 0);
	dedup_minhash(h2, x, 1, sa);
	{
		uint64_t st = DEDUP_SEED, a0, b0, z;

		z = (st += 0x9E3779B97F4A7C15ULL);
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
		z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
		a0 = z ^ (z >> 31);
		z = (st += 0x9E3779B97F4A7C15ULL);
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
		z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
		b0 = z ^ (z >> 31);
		is_int(sa[0], (uint32_t)((a0 * x[0] + b0) >> 32), "the first permutation is the documented one");
	}
	dedup_hasher_free(h);
	dedup_hasher_free(h2);
}

/* Near-duplicate estimate: texts sharing about half of their shingles. */
static void test_similarity(void)
{
	struct dedup_params p;
	struct dedup_hasher *h;
	struct ling_buf a = LING_BUF_INIT, b = LING_BUF_INIT;
	struct ling_err err;
	uint32_t sa[112], sb[112];
	uint64_t ka[14], kb[14];
	double sim;
	int i;

	dedup_params_default(&p);
	h = dedup_hasher_new(&p);
	/* 300 distinct words; b replaces the words at 100..133: J = (296 - 38) / (296 + 38) = 0.77. */
	for (i = 0; i < 300; i++) {
		/* Letters only: digits would all fold to "0". */
		ling_buf_addf(&a, "w%c%c ", 'a' + i / 26, 'a' + i % 26);
		ling_buf_addf(&b, "%c%c%c ", i >= 100 && i < 134 ? 'z' : 'w', 'a' + i / 26, 'a' + i % 26);
	}
	dedup_signature(h, a.data, a.len, sa, ka, &err);
	dedup_signature(h, b.data, b.len, sb, kb, &err);
	sim = dedup_similarity(sa, sb, 112);
	ok(sim > 0.6 && sim < 0.92, "estimated similarity %.3f near the Jaccard 0.77", sim);
	ling_buf_release(&a);
	ling_buf_release(&b);
	dedup_hasher_free(h);
}

/* ---- the state ---- */

static void test_state(void)
{
	struct dedup_params p, q;
	struct dedup_state *st = NULL;
	struct dedup_hash128 h = { 0x1234, 0x5678 }, other = { 1, 2 };
	struct dedup_doc doc;
	struct ling_err err;
	struct ling_buf dir = LING_BUF_INIT;
	uint32_t sig[112];
	uint64_t keys[14], *refs = NULL, ref;
	size_t nrefs = 0, cap = 0;
	const struct dedup_hash128 *hp = &h;
	const uint64_t *kp = keys;
	int i, rc;

	dedup_params_default(&p);
	ling_buf_addf(&dir, "%s/state", tmpdir);
	for (i = 0; i < 112; i++)
		sig[i] = (uint32_t)i * 7;
	dedup_band_keys(&p, sig, keys);
	is_int(dedup_state_open(&st, dir.data, 0, &p, &err), 0, "a new state opens");
	is_int(dedup_state_run(st), 1, "the first run is run 1");
	memset(&doc, 0, sizeof(doc));
	doc.line = 3;
	doc.source = "night1.jsonl";
	doc.source_len = strlen(doc.source);
	doc.id = "sample-1";
	doc.id_len = 8;
	doc.sig = sig;
	ref = dedup_state_add(st, &h, keys, &doc);
	is_int(ref, 1, "the first record is ref 1");
	is_int(dedup_state_find_exact(st, 0, &h), 1, "found before the commit");
	is_int(dedup_state_commit(st, 0, 1, &err), 0, "commit");
	dedup_state_close(st);

	is_int(dedup_state_open(&st, dir.data, 0, &p, &err), 0, "the state opens again");
	is_int(dedup_state_run(st), 2, "the second run is run 2");
	is_int(dedup_state_records(st), 1, "it holds one record");
	dedup_state_prefetch(st, 1, hp, &kp, &err);
	is_int(dedup_state_find_exact(st, 0, &h), 1, "the exact hash is found after reopening");
	is_int(dedup_state_find_exact(st, 0, &other), 1, "(a prefetched batch answers for its own records)");
	dedup_state_prefetch(st, 1, &other, &kp, &err);
	is_int(dedup_state_find_exact(st, 0, &other), 0, "an unknown hash is not found");
	nrefs = 0;
	dedup_state_find_bucket(st, 0, 5, keys[5], &refs, &nrefs, &cap);
	ok(nrefs == 1 && refs[0] == 1, "the record is in its bucket");
	rc = dedup_state_doc(st, 1, &doc, &err);
	ok(!rc && doc.run == 1 && doc.line == 3 && doc.id_len == 8 && !memcmp(doc.id, "sample-1", 8) &&
		   doc.source_len == 12 && doc.sig && !memcmp(doc.sig, sig, sizeof(sig)),
	   "the record reads back: run, line, id, source, signature");
	is_int(dedup_state_doc(st, 99, &doc, &err), LING_ESTORE, "an unknown ref is an error");
	dedup_state_close(st);

	q = p;
	q.ngram = 3;
	rc = dedup_state_open(&st, dir.data, 0, &q, &err);
	is_int(rc, LING_ESTORE, "other parameters: LING_ESTORE");
	ok(strstr(err.msg, "ngram=5") && strstr(err.msg, "ngram=3"), "the message names both: %s", err.msg);
	q = p;
	q.threshold = 0.9;
	is_int(dedup_state_open(&st, dir.data, 0, &q, &err), LING_ESTORE, "another threshold: LING_ESTORE");
	q = p;
	q.bands = 16;
	q.rows = 7;
	is_int(dedup_state_open(&st, dir.data, DEDUP_STATE_READONLY, &q, &err), LING_ESTORE,
	       "other bands and rows, read-only: LING_ESTORE");
	ling_buf_reset(&dir);
	ling_buf_addf(&dir, "%s/no-such-state", tmpdir);
	is_int(dedup_state_open(&st, dir.data, DEDUP_STATE_READONLY, &p, &err), LING_EIO,
	       "a read-only open of a missing state fails");
	ling_buf_reset(&dir);
	ling_buf_addf(&dir, "%s/foreign", tmpdir);
	mkdir(dir.data, 0777);
	ling_buf_adds(&dir, "/file");
	fclose(fopen(dir.data, "w"));
	ling_buf_truncate(&dir, dir.len - 5);
	is_int(dedup_state_open(&st, dir.data, 0, &p, &err), LING_ESTORE, "a directory of other files is refused");

	/* A run that writes to stdout counts only once it completes; one with --out counts at once. */
	ling_buf_reset(&dir);
	ling_buf_addf(&dir, "%s/state-open", tmpdir);
	dedup_state_open(&st, dir.data, DEDUP_STATE_PROVISIONAL, &p, &err);
	dedup_state_add(st, &h, keys, &doc);
	is_int(dedup_state_commit(st, 0, 0, &err), 0, "a provisional commit");
	dedup_state_close(st); /* as if killed: the run never completes */
	dedup_state_open(&st, dir.data, DEDUP_STATE_PROVISIONAL, &p, &err);
	is_int(dedup_state_records(st), 0, "the killed run's records are dead");
	dedup_state_prefetch(st, 1, hp, &kp, &err);
	is_int(dedup_state_find_exact(st, 0, &h), 0, "a dead record is not found by its hash");
	nrefs = 0;
	dedup_state_find_bucket(st, 0, 5, keys[5], &refs, &nrefs, &cap);
	is_int(nrefs, 0, "nor in its bucket");
	ref = dedup_state_add(st, &h, keys, &doc);
	is_int(ref, 2, "refs go on after the dead ones");
	is_int(dedup_state_commit(st, 0, 0, &err), 0, "a commit of the next run (not completed)");
	dedup_state_close(st);
	dedup_state_open(&st, dir.data, 0, &p, &err);
	is_int(dedup_state_records(st), 0, "killed again: dead again");
	dedup_state_add(st, &h, keys, &doc);
	dedup_state_commit(st, 0, 0, &err);
	dedup_state_close(st); /* killed, but not provisional (--out) */
	dedup_state_open(&st, dir.data, 0, &p, &err);
	is_int(dedup_state_records(st), 1, "a killed --out run keeps what it committed");
	dedup_state_prefetch(st, 1, hp, &kp, &err);
	is_int(dedup_state_find_exact(st, 0, &h), 3, "and its record is found");
	nrefs = 0;
	dedup_state_find_bucket(st, 0, 5, keys[5], &refs, &nrefs, &cap);
	ok(nrefs == 1 && refs[0] == 3, "in its bucket only the live ref");
	dedup_state_close(st);
	free(refs);
	ling_buf_release(&dir);
}

/* ---- runs through the public API ---- */

struct capture {
	struct ling_buf out;
	int bad, explained;
};

static int cap_emit(void *ctx, const char *line, size_t len, struct ling_err *err)
{
	struct capture *c = ctx;

	(void)err;
	ling_buf_add(&c->out, line, len);
	ling_buf_addc(&c->out, '\n');
	return 0;
}

static int cap_explain(void *ctx, const struct dedup_match *m, struct ling_err *err)
{
	struct capture *c = ctx;

	(void)m, (void)err;
	c->explained++;
	return 0;
}

static int cap_bad(void *ctx, const struct ling_err *err)
{
	struct capture *c = ctx;

	(void)err;
	c->bad++;
	return 0;
}

/* Runs the lines of input (separated by "\n") through a dedup; the output into c. */
static int run_lines(const struct dedup_options *o, const char *input, struct capture *c, struct dedup_counts *counts)
{
	struct dedup_sink sink = { c, cap_emit, NULL, cap_explain, cap_bad };
	struct dedup *d;
	struct ling_err err;
	const char *p = input;
	long line = 0;
	int rc;

	ling_buf_reset(&c->out);
	ling_buf_adds(&c->out, "");
	if ((rc = dedup_open(&d, o, &sink, &err))) {
		diag("dedup_open: %s", err.msg);
		return rc;
	}
	while (*p && !rc) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		rc = dedup_record(d, p, len, "in.jsonl", ++line, &err);
		p += len + (nl != NULL);
	}
	if (!rc)
		rc = dedup_finish(d, &err);
	if (rc)
		diag("dedup: %s", err.msg);
	*counts = *dedup_counts(d);
	dedup_close(d);
	return rc;
}

static void test_run(void)
{
	struct dedup_options o;
	struct capture c = { LING_BUF_INIT, 0, 0 }, c2 = { LING_BUF_INIT, 0, 0 };
	struct dedup_counts n;
	struct ling_buf big = LING_BUF_INIT;
	struct ling_err err;
	struct dedup *d;
	struct dedup_sink sink = { &c, cap_emit, NULL, NULL, NULL };
	const char *fields[] = { "title", "body[].text" };
	int i;

	dedup_options_init(&o);
	o.flags = DEDUP_EXPLAIN;
	is_int(run_lines(&o,
			 "{\"id\":1,\"text\":\"the cat sat on the mat with a hat and a bat today\"}\n"
			 "{\"id\":2,\"text\":\"The  CAT sat on the mat with a hat and a bat today\"}\n"
			 "{\"id\":3,\"text\":\"the cat sat on the mat, with a hat and a bat today!\"}\n"
			 "[1,2]\n"
			 "{\"id\":4,\"text\":\"a different text with no relation to any cat at all\"}\n",
			 &c, &n),
	       0, "a run in memory");
	is_str(c.out.data,
	       "{\"id\":1,\"text\":\"the cat sat on the mat with a hat and a bat today\"}\n"
	       "{\"id\":4,\"text\":\"a different text with no relation to any cat at all\"}\n",
	       "exact and near duplicates dropped, the first kept, order kept");
	ok(n.read == 5 && n.written == 2 && n.exact == 1 && n.near == 1 && n.rejected == 1,
	   "counts: read 5, wrote 2, exact 1, near 1, rejected 1");
	is_int(c.bad, 1, "the bad record went to bad_record");
	is_int(c.explained, 2, "both duplicates explained");

	o.fields = fields;
	o.nfields = 2;
	is_int(run_lines(&o,
			 "{\"title\":\"Alpha\",\"body\":[{\"text\":\"one\"},{\"text\":\"two\"}],\"text\":\"x\"}\n"
			 "{\"title\":\"alpha\",\"body\":[{\"text\":\"one\"},{\"text\":\"two\"}],\"text\":\"y\"}\n"
			 "{\"title\":\"alpha\",\"body\":{\"text\":\"one two\"}}\n"
			 "{\"title\":\"alpha\",\"body\":[{\"text\":\"one\"},{\"text\":\"three\"}]}\n",
			 &c, &n),
	       0, "a run with --field paths");
	ok(n.exact == 2 && n.written == 2, "the fields decide (the text field does not count), wrote %d",
	   (int)n.written);

	/* Threads change nothing; nor does the commit interval. */
	for (i = 0; i < 3000; i++) {
		uint64_t base = rnd() % 400;
		int k;

		ling_buf_addf(&big, "{\"id\":%d,\"text\":\"", i);
		for (k = 0; k < 30; k++) {
			/* Words of letters (digits would all fold to "0"); one in ten is noise. */
			unsigned w = (unsigned)((base * 31 + (unsigned)k) % 997 + (rnd() % 10 == 0 ? rnd() % 5000 : 0));

			ling_buf_addf(&big, "%c%c%c ", 'a' + w % 26, 'a' + w / 26 % 26, 'a' + w / 676 % 26);
		}
		ling_buf_adds(&big, "\"}\n");
	}
	dedup_options_init(&o);
	o.threads = 1;
	run_lines(&o, big.data, &c, &n);
	o.threads = 4;
	o.commit_every = 77;
	run_lines(&o, big.data, &c2, &n);
	ok(c.out.len > 0 && !strcmp(c.out.data, c2.out.data), "1 thread and 4 threads give the same output");
	ok(n.exact + n.near > 50 && n.near > 10, "the corpus has duplicates (exact %d, near %d)", (int)n.exact,
	   (int)n.near);

	dedup_options_init(&o);
	o.out_dir = "out";
	is_int(dedup_open(&d, &o, &sink, &err), LING_EUSAGE, "--out without a state is a usage error");
	dedup_options_init(&o);
	o.params.rows = 0;
	is_int(dedup_open(&d, &o, &sink, &err), LING_EUSAGE, "bad parameters are a usage error");
	dedup_options_init(&o);
	is_int(dedup_open(&d, &o, NULL, &err), LING_EUSAGE, "no sink and no --out is a usage error");
	is_int(dedup_field_check("messages[].content", &err), 0, "a good path");
	is_int(dedup_field_check("a..b", &err), LING_EUSAGE, "an empty key is a bad path");
	is_int(dedup_field_check("a[0]", &err), LING_EUSAGE, "an index is a bad path");
	ling_buf_release(&c.out);
	ling_buf_release(&c2.out);
	ling_buf_release(&big);
}

/* Persistent runs through the API: the second run drops what the first kept. */
static void test_run_state(void)
{
	struct dedup_options o;
	struct capture c = { LING_BUF_INIT, 0, 0 };
	struct dedup_counts n;
	struct ling_buf dir = LING_BUF_INIT;

	ling_buf_addf(&dir, "%s/state2", tmpdir);
	dedup_options_init(&o);
	o.state_dir = dir.data;
	run_lines(&o, "{\"text\":\"night one has this sample of words in it\"}\n", &c, &n);
	is_int(n.written, 1, "night 1 keeps its record");
	run_lines(&o,
		  "{\"text\":\"night one has this sample of words in it\"}\n{\"text\":\"night two is new\"}\n", &c,
		  &n);
	ok(n.written == 1 && n.exact == 1 && n.run == 2, "night 2 drops the record of night 1 (run %d)", (int)n.run);
	o.params.ngram = 4;
	is_int(run_lines(&o, "{\"text\":\"x\"}\n", &c, &n), LING_ESTORE, "reopening with another --ngram fails");
	dedup_options_init(&o);
	o.state_dir = dir.data;
	o.flags = DEDUP_DRY_RUN;
	run_lines(&o, "{\"text\":\"night two is new\"}\n{\"text\":\"night three\"}\n{\"text\":\"night three\"}\n", &c,
		  &n);
	ok(n.written == 3 && n.exact == 2 && strstr(c.out.data, "\"dup_of\":{\"run\":2,"),
	   "a dry run marks, against the state and itself");
	dedup_options_init(&o);
	o.state_dir = dir.data;
	run_lines(&o, "{\"text\":\"night three\"}\n", &c, &n);
	is_int(n.written, 1, "the dry run changed no state");
	ling_buf_release(&c.out);
	ling_buf_release(&dir);
}

int main(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/ling-test-dedup.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! cannot create a temporary directory: %s\n", strerror(errno));
		return 1;
	}
	test_normalize();
	test_shingles();
	test_signature();
	test_similarity();
	test_state();
	test_run();
	test_run_state();
	fixture_remove_tree(tmpdir);
	return done_testing();
}
