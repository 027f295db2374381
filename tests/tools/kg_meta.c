/*
 * kg_meta: what a store keeps besides its quads, for the tests of kg-load
 * --kafka (through kg.h only, the store opened read-only).
 *
 *	kg_meta STORE NAME...             "NAME=VALUE" per meta key, "NAME" alone when absent
 *	kg_meta STORE --mark              the change mark
 *	kg_meta STORE --changed-since M   the entities changed since mark M, N-Triples, one a line
 *
 * Exit status: 0, 1 when the store cannot be read, 2 for a usage error.
 */
#include "kg/kg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int print_entity(void *ctx, kg_id id)
{
	struct kg_store *st = ctx;
	struct ling_buf nt = LING_BUF_INIT;
	struct ling_err err;
	int rc;

	ling_err_clear(&err);
	rc = kg_store_term_nt(st, id, &nt, &err);
	if (!rc)
		printf("%s\n", nt.data);
	else
		ling_err_print("kg_meta", &err);
	ling_buf_release(&nt);
	return rc;
}

int main(int argc, char **argv)
{
	struct kg_store *st;
	struct ling_err err;
	struct ling_buf v = LING_BUF_INIT;
	uint64_t mark;
	int i, rc;

	if (argc < 3) {
		fprintf(stderr, "usage: kg_meta STORE (NAME... | --mark | --changed-since MARK)\n");
		return 2;
	}
	ling_err_clear(&err);
	if ((rc = kg_store_open(&st, argv[1], KG_STORE_READONLY, &err))) {
		ling_err_print("kg_meta", &err);
		return 1;
	}
	if (!strcmp(argv[2], "--mark")) {
		if (!(rc = kg_change_mark(st, &mark, &err)))
			printf("%" PRIu64 "\n", mark);
	} else if (!strcmp(argv[2], "--changed-since") && argc == 4) {
		char *end;
		unsigned long long m = strtoull(argv[3], &end, 10);

		if (end == argv[3] || *end) {
			fprintf(stderr, "kg_meta: --changed-since needs a number\n");
			kg_store_close(st);
			return 2;
		}
		rc = kg_changed_since(st, m, print_entity, st, &err);
	} else {
		for (i = 2; i < argc && rc >= 0; i++) {
			rc = kg_store_meta_get(st, argv[i], &v, &err);
			if (rc == 1)
				printf("%s=%.*s\n", argv[i], (int)v.len, v.data);
			else if (rc == 0)
				printf("%s\n", argv[i]);
		}
		rc = rc < 0 ? rc : 0;
	}
	if (rc)
		ling_err_print("kg_meta", &err);
	ling_buf_release(&v);
	kg_store_close(st);
	return rc ? 1 : 0;
}
