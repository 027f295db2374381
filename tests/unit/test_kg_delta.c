/*
 * Unit tests of kg's deltas: kg_delta_add, loads that mix additions and
 * deletions (the last operation on a quad wins), meta keys written with a
 * load, and change marks (kg_change_mark, kg_changed_since).
 */
#include "tap.h"
#include "fixture.h"

#include "common/ling_mem.h"
#include "common/ling_rand.h"
#include "kg/kg.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

static char tmpdir[PATH_MAX];

struct errors_seen {
	int n;
	struct ling_err last[8];
	int stop_at; /* on_error returns non-zero for this error (1-based); 0: never */
};

static int on_error(void *ctx, const struct ling_err *err)
{
	struct errors_seen *e = ctx;

	if (e->n < 8)
		e->last[e->n] = *err;
	e->n++;
	return e->stop_at && e->n >= e->stop_at;
}

static struct kg_store *open_store(const char *name)
{
	struct ling_buf dir = LING_BUF_INIT;
	struct kg_store *st = NULL;
	struct ling_err err;

	ling_err_clear(&err);
	ling_buf_addf(&dir, "%s/%s", tmpdir, name);
	if (kg_store_open(&st, dir.data, KG_STORE_CREATE, &err))
		diag("cannot open %s: %s", dir.data, err.msg);
	ling_buf_release(&dir);
	return st;
}

/* Applies one message of deltas as one tracked batch. @return kg_delta_add's or kg_loader_apply's result. */
static int apply_deltas(struct kg_store *st, const char *msg, struct errors_seen *seen, struct kg_load_counts *counts)
{
	struct kg_loader *ld;
	struct ling_err err;
	int rc;

	ling_err_clear(&err);
	if ((rc = kg_loader_new(&ld, st, "kafka:t", NULL, KG_LOADER_TRACK, &err)))
		return rc;
	rc = kg_delta_add(ld, msg, strlen(msg), "t/0@1", on_error, seen, &err);
	if (!rc)
		rc = kg_loader_apply(ld, counts, &err);
	kg_loader_free(ld);
	return rc;
}

static int count_quad(void *ctx, const kg_id quad[4])
{
	(void)quad;
	++*(int *)ctx;
	return 0;
}

/* Whether the store holds the N-Triples statement "<s> <p> o" (o written in N-Triples). */
static int holds(struct kg_store *st, const char *s, const char *p, const char *o)
{
	struct kg_pattern pat;
	struct ling_err err;
	int found[3], n = 0;

	ling_err_clear(&err);
	memset(&pat, 0, sizeof(pat));
	if (kg_store_nt_id(st, s, &pat.s, &found[0], &err) || kg_store_nt_id(st, p, &pat.p, &found[1], &err) ||
	    kg_store_nt_id(st, o, &pat.o, &found[2], &err))
		return -1;
	if (!found[0] || !found[1] || !found[2])
		return 0;
	pat.bound = KG_BOUND_S | KG_BOUND_P | KG_BOUND_O;
	if (kg_store_match(st, &pat, count_quad, &n, &err))
		return -1;
	return n;
}

static void test_delta_lines(void)
{
	struct kg_store *st = open_store("lines");
	struct errors_seen seen;
	struct kg_load_counts counts;
	int rc;

	if (!ok(st != NULL, "delta: open a store"))
		return;
	memset(&seen, 0, sizeof(seen));
	memset(&counts, 0, sizeof(counts));
	rc = apply_deltas(st,
			  "+ <http://x/a> <http://x/p> \"1\" .\n"
			  "\n"
			  "<http://x/a> <http://x/p> \"2\" .\n"
			  "+ <http://x/a> <http://x/p> oops .\n"
			  "+\t<http://x/b> <http://x/p> <http://x/c> <http://x/g> .\r\n"
			  "- \xff\n"
			  "+ \n"
			  "  \t\n"
			  "+ <http://x/d> <http://x/p> \"3\" .",
			  &seen, &counts);
	is_int(rc, 0, "delta: bad lines are skipped when on_error says so");
	is_int(seen.n, 4, "delta: four bad lines reported");
	is_str(seen.last[0].file, "t/0@1", "delta: the error names the message");
	is_int(seen.last[0].line, 3, "delta: a line without a prefix: its line");
	is_int(seen.last[0].col, 1, "delta: ... and column 1");
	is_int(seen.last[1].line, 4, "delta: a statement that is not N-Quads: its line");
	is_int(seen.last[1].col, 29, "delta: ... and its column counts the prefix");
	is_int(seen.last[2].line, 6, "delta: invalid UTF-8 is a bad line");
	ok(strstr(seen.last[2].msg, "UTF-8") != NULL, "delta: ... saying so (%s)", seen.last[2].msg);
	is_int(seen.last[3].line, 7, "delta: a prefix without a statement is a bad line");
	is_int(counts.quads_read, 3, "delta: three statements read");
	is_int(counts.quads_changed, 3, "delta: three quads added");
	is_int(holds(st, "<http://x/a>", "<http://x/p>", "\"1\""), 1, "delta: the first statement is in");
	is_int(holds(st, "<http://x/d>", "<http://x/p>", "\"3\""), 1, "delta: the last one, without a newline, too");

	memset(&seen, 0, sizeof(seen));
	seen.stop_at = 1;
	rc = apply_deltas(st, "+ <http://x/e> <http://x/p> \"4\" .\n* <http://x/f> <http://x/p> \"5\" .\n", &seen,
			  &counts);
	is_int(rc, LING_EDATA, "delta: on_error's non-zero stops the message with LING_EDATA");
	is_int(holds(st, "<http://x/e>", "<http://x/p>", "\"4\""), 0, "delta: ... and here nothing was applied");
	kg_store_close(st);
}

/* The store that a sequence of operations gives, applied one by one, against kg's batches. */
static void test_mixed_order(void)
{
	struct kg_store *st = open_store("mixed");
	struct errors_seen seen;
	struct kg_load_counts counts;
	struct ling_buf msg = LING_BUF_INIT;
	uint64_t rng = 15;
	int model[6] = { 0 }, i, q, same = 1;

	if (!ok(st != NULL, "mixed: open a store"))
		return;
	memset(&seen, 0, sizeof(seen));
	memset(&counts, 0, sizeof(counts));
	is_int(apply_deltas(st, "+ <http://x/s> <http://x/p> \"a\" .\n- <http://x/s> <http://x/p> \"a\" .\n"
				"+ <http://x/s> <http://x/p> \"a\" .\n", &seen, &counts), 0, "mixed: + - + in one batch");
	is_int(holds(st, "<http://x/s>", "<http://x/p>", "\"a\""), 1, "mixed: ... leaves the quad in");
	is_int(apply_deltas(st, "- <http://x/s> <http://x/p> \"a\" .\n+ <http://x/s> <http://x/p> \"a\" .\n"
				"- <http://x/s> <http://x/p> \"a\" .\n", &seen, &counts), 0, "mixed: - + - in one batch");
	is_int(holds(st, "<http://x/s>", "<http://x/p>", "\"a\""), 0, "mixed: ... takes it out");
	is_int(counts.quads_deleted, 1, "mixed: one quad deleted in all");

	for (i = 0; i < 300; i++) {
		int n = 1 + (int)(ling_rand_below(&rng, 12)), j;

		ling_buf_reset(&msg);
		for (j = 0; j < n; j++) {
			int del = ling_rand_below(&rng, 3) == 0;

			q = (int)ling_rand_below(&rng, 6);
			model[q] = !del;
			ling_buf_addf(&msg, "%c <http://x/m%d> <http://x/p> <http://x/o%d> .\n", del ? '-' : '+', q % 3, q);
		}
		if (apply_deltas(st, msg.data, &seen, &counts)) {
			same = 0;
			break;
		}
		for (q = 0; q < 6; q++) {
			char s[32], o[32];

			snprintf(s, sizeof(s), "<http://x/m%d>", q % 3);
			snprintf(o, sizeof(o), "<http://x/o%d>", q);
			if (holds(st, s, "<http://x/p>", o) != model[q])
				same = 0;
		}
	}
	ok(same, "mixed: 300 random batches of adds and deletes give what applying them one by one gives");
	ling_buf_release(&msg);
	kg_store_close(st);
}

struct ids {
	kg_id v[16];
	int n;
};

static int collect_id(void *ctx, kg_id id)
{
	struct ids *ids = ctx;

	if (ids->n < 16)
		ids->v[ids->n] = id;
	ids->n++;
	return 0;
}

static kg_id id_of(struct kg_store *st, const char *nt)
{
	struct ling_err err;
	kg_id id = 0;
	int found = 0;

	ling_err_clear(&err);
	kg_store_nt_id(st, nt, &id, &found, &err);
	return found ? id : 0;
}

static void test_changes(void)
{
	struct kg_store *st = open_store("changes");
	struct errors_seen seen;
	struct kg_load_counts counts;
	struct ling_buf v = LING_BUF_INIT;
	struct kg_loader *ld;
	struct ling_err err;
	struct ids ids;
	uint64_t mark = 99;
	kg_id a, b, c;

	ling_err_clear(&err);
	if (!ok(st != NULL, "changes: open a store"))
		return;
	memset(&seen, 0, sizeof(seen));
	memset(&counts, 0, sizeof(counts));
	ok(!kg_change_mark(st, &mark, &err) && mark == 0, "changes: a new store's mark is 0");
	ok(fixture_load(st, "f", KG_FORMAT_NTRIPLES, "<http://x/z> <http://x/p> <http://x/y> .\n", NULL, 0, &counts, &err) == 0 &&
	   !kg_change_mark(st, &mark, &err) && mark == 0, "changes: a load without KG_LOADER_TRACK takes no mark");

	apply_deltas(st, "+ <http://x/b> <http://x/p> \"lit\" .\n+ <http://x/a> <http://x/p> <http://x/c> .\n", &seen,
		     &counts);
	ok(!kg_change_mark(st, &mark, &err) && mark == 1, "changes: the first tracked batch is mark 1");
	a = id_of(st, "<http://x/a>"), b = id_of(st, "<http://x/b>"), c = id_of(st, "<http://x/c>");
	memset(&ids, 0, sizeof(ids));
	ok(!kg_changed_since(st, 0, collect_id, &ids, &err), "changes: changed since 0");
	is_int(ids.n, 3, "changes: subjects and entity objects, not literals, each once");
	ok(ids.n == 3 && ids.v[0] < ids.v[1] && ids.v[1] < ids.v[2], "changes: in ascending id order");
	ok(ids.n == 3 && (ids.v[0] == a || ids.v[1] == a || ids.v[2] == a) &&
	   (ids.v[0] == b || ids.v[1] == b || ids.v[2] == b) && (ids.v[0] == c || ids.v[1] == c || ids.v[2] == c),
	   "changes: they are a, b and c");

	apply_deltas(st, "+ <http://x/a> <http://x/p> <http://x/c> .\n", &seen, &counts);
	ok(!kg_change_mark(st, &mark, &err) && mark == 2, "changes: a batch that changes nothing still takes a mark");
	memset(&ids, 0, sizeof(ids));
	ok(!kg_changed_since(st, 1, collect_id, &ids, &err) && ids.n == 0, "changes: ... and records no entity");

	apply_deltas(st, "- <http://x/b> <http://x/p> \"lit\" .\n", &seen, &counts);
	memset(&ids, 0, sizeof(ids));
	ok(!kg_changed_since(st, 2, collect_id, &ids, &err) && ids.n == 1 && ids.v[0] == b,
	   "changes: a deletion changes its subject");
	memset(&ids, 0, sizeof(ids));
	ok(!kg_changed_since(st, 1, collect_id, &ids, &err) && ids.n == 1, "changes: since 1 is batches 2 and 3");
	memset(&ids, 0, sizeof(ids));
	ok(!kg_changed_since(st, 0, collect_id, &ids, &err) && ids.n == 3, "changes: since 0, b once though changed twice");
	memset(&ids, 0, sizeof(ids));
	ok(!kg_changed_since(st, 3, collect_id, &ids, &err) && ids.n == 0, "changes: nothing since the last mark");

	ok(!kg_loader_new(&ld, st, "k", NULL, KG_LOADER_TRACK, &err), "meta: a tracked loader");
	kg_loader_meta_put(ld, "kafka/t/0", "7");
	kg_loader_meta_put(ld, "kafka/t/0", "8");
	is_int(kg_store_meta_get(st, "kafka/t/0", &v, &err), 0, "meta: nothing is written before the apply");
	ok(!kg_loader_apply(ld, &counts, &err), "meta: apply with no quads");
	ok(kg_store_meta_get(st, "kafka/t/0", &v, &err) == 1 && !strcmp(v.data, "8"),
	   "meta: the apply wrote the key, the later put winning (%s)", v.data ? v.data : "");
	ok(!kg_change_mark(st, &mark, &err) && mark == 4, "meta: and took mark 4");
	kg_loader_free(ld);
	ling_buf_release(&v);
	kg_store_close(st);
}

/* A tracked batch big enough for SST files: its change records and meta keys go in them, in key order. */
static void test_big_tracked(void)
{
	struct kg_store *st = open_store("big");
	struct errors_seen seen;
	struct kg_load_counts counts;
	struct ling_buf msg = LING_BUF_INIT, v = LING_BUF_INIT;
	struct kg_loader *ld;
	struct ling_err err;
	struct ids ids;
	uint64_t mark = 0;
	int i, rc;

	ling_err_clear(&err);
	if (!ok(st != NULL, "big: open a store"))
		return;
	memset(&seen, 0, sizeof(seen));
	memset(&counts, 0, sizeof(counts));
	for (i = 0; i < 8000; i++)
		ling_buf_addf(&msg, "+ <http://x/s%d> <http://x/p> <http://x/o%d> .\n", i % 10, i);
	rc = kg_loader_new(&ld, st, "kafka:t", NULL, KG_LOADER_TRACK, &err);
	if (!rc)
		rc = kg_delta_add(ld, msg.data, msg.len, "t/0@0", on_error, &seen, &err);
	kg_loader_meta_put(ld, "kafka/t/1", "5");
	kg_loader_meta_put(ld, "kafka/t/0", "9");
	if (!rc)
		rc = kg_loader_apply(ld, &counts, &err);
	kg_loader_free(ld);
	ok(rc == 0 && counts.quads_changed == 8000, "big: 8000 quads added in one tracked batch (%s)", err.msg);
	ok(!kg_change_mark(st, &mark, &err) && mark == 1, "big: mark 1");
	memset(&ids, 0, sizeof(ids));
	ok(!kg_changed_since(st, 0, collect_id, &ids, &err) && ids.n == 8010, "big: 8010 entities changed (%d)", ids.n);
	ok(kg_store_meta_get(st, "kafka/t/0", &v, &err) == 1 && !strcmp(v.data, "9") &&
	   kg_store_meta_get(st, "kafka/t/1", &v, &err) == 1 && !strcmp(v.data, "5"), "big: both meta keys written");
	ling_buf_release(&msg);
	ling_buf_release(&v);
	kg_store_close(st);
}

int main(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/ling-test-kg-delta.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! cannot create a temporary directory: %s\n", strerror(errno));
		return 1;
	}
	test_delta_lines();
	test_mixed_order();
	test_changes();
	test_big_tracked();
	fixture_remove_tree(tmpdir);
	return done_testing();
}
