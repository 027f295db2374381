/*
 * Unit tests for common/ling_rocksdb: create and reopen, get/put, the two
 * merge operators through a WriteBatch and through SST files ingested
 * together, prefix scans, batched lookups, read-only opens, the lock of
 * another process, and the error wording.
 */
#include "tap.h"

#include "common/ling_err.h"
#include "common/ling_mem.h"
#include "common/ling_rocksdb.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/banned.h"

static char tmpdir[256];

static void lanes(char *out, int64_t a, int64_t b)
{
	uint64_t v[2] = { (uint64_t)a, (uint64_t)b };
	int i, k;

	for (k = 0; k < 2; k++)
		for (i = 0; i < 8; i++)
			out[8 * k + i] = (char)((v[k] >> (8 * i)) & 0xFF);
}

static char *path_of(const char *name)
{
	struct ling_buf p = LING_BUF_INIT;

	ling_buf_addf(&p, "%s/%s", tmpdir, name);
	return p.data;
}

static int collect(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct ling_buf *b = ctx;

	ling_buf_add(b, key, klen);
	ling_buf_addc(b, '=');
	ling_buf_add(b, val, vlen);
	ling_buf_addc(b, ';');
	return 0;
}

static int stop_at_two(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	int *n = ctx;

	(void)key, (void)klen, (void)val, (void)vlen;
	return ++*n == 2 ? -5 : 0;
}

struct found {
	size_t idx[8];
	size_t n;
};

static int found_one(void *ctx, size_t i, const char *val, size_t vlen, struct ling_err *err)
{
	struct found *f = ctx;

	(void)val, (void)vlen, (void)err;
	f->idx[f->n++] = i;
	return 0;
}

static void test_counters(void)
{
	struct ling_rocksdb_opts o = { LING_ROCKSDB_CREATE | LING_ROCKSDB_LZ4, LING_ROCKSDB_MERGE_ADD_I64_LANES, 0, 0, 10 };
	struct ling_rocksdb *db = NULL;
	struct ling_rocksdb_writer *w;
	struct ling_buf v = LING_BUF_INIT;
	struct ling_err err;
	char *dir = path_of("counters"), *sst[2], want[16], val[16];
	const char *files[2];
	int rc;

	ling_err_clear(&err);
	rc = ling_rocksdb_open(&db, dir, &o, "cannot open the store", &err);
	ok(rc == 0 && db, "create a database (%s)", err.msg);
	ok(ling_rocksdb_put(db, "Mname", 5, "x", 1, "cannot write", &err) == 0, "put");
	is_int(ling_rocksdb_get(db, "Mname", 5, &v, "cannot read", &err), 1, "get finds it");
	is_mem(v.data, v.len, "x", 1, "with its value");
	is_int(ling_rocksdb_get(db, "Mnone", 5, &v, "cannot read", &err), 0, "get of an absent key: 0");
	is_int((long long)v.len, 1, "and out untouched");

	w = ling_rocksdb_batch_new(db);
	lanes(val, 2, -1);
	ling_rocksdb_merge_to(w, "Cq", 2, val, 16);
	ling_rocksdb_merge_to(w, "Cq", 2, val, 16);
	ling_rocksdb_put_to(w, "Sa", 2, "", 0);
	ling_rocksdb_put_to(w, "Sb", 2, "", 0);
	ling_rocksdb_delete_to(w, "Mname", 5);
	ok(ling_rocksdb_writer_close(db, w, "cannot write the batch", &err) == 0, "a batch of merges, puts, a delete");

	/* Two SST files with disjoint ranges, ingested at once. */
	sst[0] = path_of("part0.sst");
	sst[1] = path_of("part1.sst");
	w = ling_rocksdb_sst_new(db, sst[0]);
	lanes(val, 10, 5);
	ling_rocksdb_merge_to(w, "Cq", 2, val, 16);
	ok(ling_rocksdb_writer_close(db, w, "cannot write SST", &err) == 0, "SST file 1 written");
	w = ling_rocksdb_sst_new(db, sst[1]);
	ling_rocksdb_put_to(w, "Sc", 2, "", 0);
	ling_rocksdb_put_to(w, "Tz", 2, "term", 4);
	ok(ling_rocksdb_writer_close(db, w, "cannot write SST", &err) == 0, "SST file 2 written");
	files[0] = sst[0];
	files[1] = sst[1];
	ok(ling_rocksdb_ingest(db, files, 2, "cannot ingest", &err) == 0, "both ingested");
	ok(access(sst[0], F_OK) != 0, "an ingested file is moved into the database");

	ling_buf_reset(&v);
	is_int(ling_rocksdb_get(db, "Cq", 2, &v, "cannot read", &err), 1, "the counter");
	lanes(want, 14, 3);
	is_mem(v.data, v.len, want, 16, "merged lane by lane across the batch and the SST file");
	ling_buf_reset(&v);
	is_int(ling_rocksdb_get(db, "Mname", 5, &v, "cannot read", &err), 0, "the deleted key is gone");
	ling_rocksdb_close(db);

	/* Reopened read-only: the merge operator works there too. */
	o.flags = LING_ROCKSDB_READONLY;
	db = NULL;
	ok(ling_rocksdb_open(&db, dir, &o, "cannot open the store", &err) == 0, "reopen read-only");
	ling_buf_reset(&v);
	ling_rocksdb_get(db, "Cq", 2, &v, "cannot read", &err);
	is_mem(v.data, v.len, want, 16, "the counter read back");
	ling_buf_reset(&v);
	ok(ling_rocksdb_scan_prefix(db, "S", 1, collect, &v, "cannot read", &err) == 0, "scan a prefix");
	is_mem(v.data, v.len, "Sa=;Sb=;Sc=;", 12, "the prefix's keys in order, none past it");
	{
		int n = 0;

		is_int(ling_rocksdb_scan_prefix(db, "S", 1, stop_at_two, &n, "cannot read", &err), -5,
		       "a callback's negative return ends the scan and is returned");
		is_int(n, 2, "after the second key");
	}
	{
		const char *keys[4] = { "Cq", "Sa", "Sx", "Tz" };
		const size_t klens[4] = { 2, 2, 2, 2 };
		struct found f = { { 0 }, 0 };

		ok(ling_rocksdb_multi_get(db, 4, keys, klens, 1, found_one, &f, "cannot read", &err) == 0,
		   "a batched lookup");
		ok(f.n == 3 && f.idx[0] == 0 && f.idx[1] == 1 && f.idx[2] == 3, "finds the three present keys, in order");
	}
	ling_rocksdb_close(db);

	ling_err_clear(&err);
	db = NULL;
	free(dir);
	dir = path_of("nothing");
	rc = ling_rocksdb_open(&db, dir, &o, "cannot open the store", &err);
	ok(rc == LING_ESTORE && !db && !strncmp(err.msg, "cannot open the store: ", 23),
	   "a missing database read-only: WHAT: RocksDB's message (%s)", err.msg);
	ling_buf_release(&v);
	free(sst[0]);
	free(sst[1]);
	free(dir);
}

static void test_append(void)
{
	struct ling_rocksdb_opts o = { LING_ROCKSDB_CREATE, LING_ROCKSDB_MERGE_APPEND, 1 << 20, 1 << 20, 10 };
	struct ling_rocksdb *db = NULL;
	struct ling_rocksdb_writer *w;
	struct ling_buf v = LING_BUF_INIT;
	struct ling_err err;
	char *dir = path_of("append"), *sst = path_of("append.sst");
	const char *files[1] = { sst };

	ling_err_clear(&err);
	ok(ling_rocksdb_open(&db, dir, &o, "cannot open the state", &err) == 0, "a database with a block cache");
	w = ling_rocksdb_batch_new(db);
	ling_rocksdb_merge_to(w, "B1", 2, "ab", 2);
	ok(ling_rocksdb_writer_close(db, w, "cannot commit", &err) == 0, "append through a batch");
	w = ling_rocksdb_sst_new(db, sst);
	ling_rocksdb_merge_to(w, "B1", 2, "cd", 2);
	ok(ling_rocksdb_writer_close(db, w, "cannot write", &err) == 0 &&
	   ling_rocksdb_ingest(db, files, 1, "cannot ingest", &err) == 0, "and through an SST file");
	ling_rocksdb_get(db, "B1", 2, &v, "cannot read", &err);
	is_mem(v.data, v.len, "abcd", 4, "operands concatenated in order");
	ling_rocksdb_close(db);

	/* Keys out of order: the SST writer keeps the failure and reports it at close. */
	db = NULL;
	ling_rocksdb_open(&db, dir, &o, "cannot open the state", &err);
	w = ling_rocksdb_sst_new(db, sst);
	ling_rocksdb_put_to(w, "B2", 2, "", 0);
	ling_rocksdb_put_to(w, "B1", 2, "", 0);
	ling_rocksdb_put_to(w, "B3", 2, "", 0);
	ok(ling_rocksdb_writer_close(db, w, "cannot write the commit's SST file", &err) == LING_ESTORE &&
	   !strncmp(err.msg, "cannot write the commit's SST file: ", 36), "keys out of order: %s", err.msg);
	unlink(sst);
	ling_rocksdb_close(db);
	ling_buf_release(&v);
	free(sst);
	free(dir);
}

/* A child holds the database open; this process sees the lock. */
static void test_lock(void)
{
	struct ling_rocksdb_opts o = { LING_ROCKSDB_CREATE, LING_ROCKSDB_MERGE_NONE, 0, 0, 0 };
	struct ling_rocksdb *db = NULL;
	struct ling_err err;
	char *dir = path_of("locked");
	int to_child[2], from_child[2], status = 0;
	char c = 0;
	pid_t pid;

	ling_err_clear(&err);
	ok(ling_rocksdb_lock_held(dir) == 0, "no lock on a missing directory");
	if (pipe(to_child) || pipe(from_child)) {
		ok(0, "pipes");
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct ling_rocksdb *child_db = NULL;

		close(to_child[1]);
		close(from_child[0]);
		c = ling_rocksdb_open(&child_db, dir, &o, "cannot open", &err) == 0 ? 'y' : 'n';
		if (write(from_child[1], &c, 1) != 1 || read(to_child[0], &c, 1) < 0)
			_exit(1);
		ling_rocksdb_close(child_db);
		_exit(0);
	}
	close(to_child[0]);
	close(from_child[1]);
	ok(read(from_child[0], &c, 1) == 1 && c == 'y', "a child opens the database");
	ok(ling_rocksdb_lock_held(dir) == 1, "its lock is seen as held");
	is_int(ling_rocksdb_open(&db, dir, &o, "cannot open", &err), LING_ROCKSDB_LOCKED,
	       "an open while it runs: LING_ROCKSDB_LOCKED");
	ok(!db && !err.code, "with nothing open and err untouched");
	close(to_child[1]);
	waitpid(pid, &status, 0);
	close(from_child[0]);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child closed it");
	ok(ling_rocksdb_lock_held(dir) == 0, "and the lock is free");
	ok(ling_rocksdb_open(&db, dir, &o, "cannot open", &err) == 0, "so an open succeeds");
	ling_rocksdb_close(db);
	free(dir);
}

int main(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/ling-test-rocksdb.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_counters();
	test_append();
	test_lock();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			diag("could not remove %s", tmpdir);
	}
	return done_testing();
}
