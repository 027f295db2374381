/*
 * fixture.h: shared fixtures for the unit tests, a header-only companion of
 * tap.h. Include it after tap.h and before common/banned.h.
 *
 *	fixture_remove_tree(dir);   deletes a temporary directory and all below it
 *	fixture_load(st, source_key, format, text, path, skip_bad, &counts, &err);
 *	                            parses text (or the file at path) into the
 *	                            store in one loader transaction
 */
#ifndef LING_FIXTURE_H
#define LING_FIXTURE_H

#include "tap.h"

#include "common/ling_err.h"
#include "common/ling_input.h"
#include "common/ling_mem.h"
#include "kg/kg.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Deletes dir and everything below it (symbolic links are unlinked, not followed); errors are ignored. */
static TAP_UNUSED void fixture_remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct ling_buf p = LING_BUF_INIT;

	if (!d)
		return;
	while ((de = readdir(d))) {
		struct stat sb;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ling_buf_reset(&p);
		ling_buf_addf(&p, "%s/%s", dir, de->d_name);
		if (lstat(p.data, &sb) == 0 && S_ISDIR(sb.st_mode))
			fixture_remove_tree(p.data);
		else
			unlink(p.data);
	}
	closedir(d);
	rmdir(dir);
	ling_buf_release(&p);
}

/* A kg_sink that feeds a loader, as kg-load does. */
struct fixture_sink {
	struct kg_loader *ld;
	int skip_bad; /* a bad statement is skipped (non-zero) or stops the parse (0) */
};

static TAP_UNUSED int fixture_sink_quad(void *ctx, const struct kg_quad *q, struct ling_err *err)
{
	return kg_loader_add(((struct fixture_sink *)ctx)->ld, q, err);
}

static TAP_UNUSED void fixture_sink_commit(void *ctx)
{
	kg_loader_commit(((struct fixture_sink *)ctx)->ld);
}

static TAP_UNUSED void fixture_sink_rollback(void *ctx)
{
	kg_loader_rollback(((struct fixture_sink *)ctx)->ld);
}

static TAP_UNUSED int fixture_sink_error(void *ctx, const struct ling_err *err)
{
	(void)err;
	return !((struct fixture_sink *)ctx)->skip_bad;
}

/*
 * Parses text (from memory) or, when text is NULL, the file at path into st,
 * as the source source_key, in one loader transaction. skip_bad: non-zero
 * skips bad statements and goes on; 0 stops at the first (its error is the
 * result). counts is zeroed first, then filled by kg_loader_apply.
 * @return 0, or the error code with err set; nothing is applied on error.
 */
static TAP_UNUSED int fixture_load(struct kg_store *st, const char *source_key, enum kg_format format,
				   const char *text, const char *path, int skip_bad, struct kg_load_counts *counts,
				   struct ling_err *err)
{
	struct fixture_sink fs = { NULL, skip_bad };
	struct kg_sink sink = { &fs, fixture_sink_quad, fixture_sink_commit, fixture_sink_rollback,
				fixture_sink_error };
	struct kg_parse_opts opts;
	struct ling_input *in = NULL;
	int rc;

	memset(counts, 0, sizeof(*counts));
	memset(&opts, 0, sizeof(opts));
	opts.format = format;
	if ((rc = kg_loader_new(&fs.ld, st, source_key, NULL, 0, err)))
		return rc;
	if (text)
		rc = ling_input_open_mem(&in, format == KG_FORMAT_TURTLE ? "t.ttl" : "t.nt", text, strlen(text), err);
	else
		rc = ling_input_open(&in, path, err);
	if (!rc) {
		rc = kg_parse(in, &opts, &sink, err);
		ling_input_close(in);
	}
	if (!rc)
		rc = kg_loader_apply(fs.ld, counts, err);
	kg_loader_free(fs.ld);
	return rc;
}

#endif
