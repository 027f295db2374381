/*
 * Delta messages ("+ STATEMENT" and "- STATEMENT" lines) into a mixed load
 * (see kg_delta_add in kg.h). One N-Quads line parser serves both, so a
 * statement reads the same on a topic as in a file.
 */
#include "kg.h"

#include "kg_rdf_internal.h"
#include "../common/ling_mem.h"

#include <stdio.h>
#include <string.h>

#include "../common/banned.h"

/* 1 when line[0..n) holds only spaces, tabs and a carriage return. */
static int is_blank(const char *line, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return 0;
	return 1;
}

/*
 * Parses one delta line into q and *deleting. @return 0, or LING_EDATA with
 * err's column and message set.
 */
static int parse_delta_line(const char *line, size_t n, struct kg_quad *q, int *deleting,
			    struct ling_buf scratch[KG_NT_SCRATCH], struct ling_err *err)
{
	int rc;

	if (n < 2 || (line[0] != '+' && line[0] != '-') || (line[1] != ' ' && line[1] != '\t'))
		return ling_err_at(err, LING_EDATA, NULL, 0, 1,
				   "expected '+ ' (add) or '- ' (delete) before the statement");
	*deleting = line[0] == '-';
	rc = kg_nq_parse_line(line + 2, n - 2, q, scratch, err);
	if (rc < 0) {
		err->col += 2;
		return rc;
	}
	if (rc == 0)
		return ling_err_at(err, LING_EDATA, NULL, 0, 3, "no statement after '%c'", line[0]);
	return 0;
}

int kg_delta_add(struct kg_loader *ld, const char *msg, size_t len, const char *where,
		 int (*on_error)(void *ctx, const struct ling_err *err), void *ctx, struct ling_err *err)
{
	struct ling_buf scratch[KG_NT_SCRATCH];
	size_t pos = 0;
	long lineno = 0;
	int i, rc = 0;

	for (i = 0; i < KG_NT_SCRATCH; i++)
		ling_buf_init(&scratch[i]);
	while (pos < len && !rc) {
		const char *line = msg + pos, *eol = memchr(line, '\n', len - pos);
		size_t n = eol ? (size_t)(eol - line) : len - pos;
		struct kg_quad q;
		int deleting = 0;

		pos += n + 1;
		lineno++;
		if (is_blank(line, n))
			continue;
		rc = parse_delta_line(line, n, &q, &deleting, scratch, err);
		if (!rc) {
			kg_loader_set_delete(ld, deleting);
			rc = kg_loader_add(ld, &q, err);
		}
		if (!rc) {
			kg_loader_commit(ld);
			continue;
		}
		kg_loader_rollback(ld);
		if (rc != LING_EDATA)
			break;
		snprintf(err->file, sizeof(err->file), "%s", where);
		err->line = lineno;
		if (on_error(ctx, err))
			break;
		ling_err_clear(err);
		rc = 0;
	}
	for (i = 0; i < KG_NT_SCRATCH; i++)
		ling_buf_release(&scratch[i]);
	return rc;
}
