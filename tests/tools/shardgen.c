/*
 * shardgen: writes and reads Megatron MMIDIDX shards through tok_shard, for
 * the shell tests.
 *
 *	shardgen write PREFIX DTYPE <docs    one document a line, ids separated by spaces
 *	shardgen read PREFIX >docs           the sequences back, in the same form
 *
 * DTYPE is u8, u16, i32 or i64. An empty line is an empty document. Exit 0,
 * 1 on a data or I/O error (printed on stderr), 2 on a usage error.
 */
#include "tokenize/tokenize.h"

#include "common/ling_cli.h"
#include "common/ling_err.h"
#include "common/ling_mem.h"
#include "common/ling_num.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

static int usage(void)
{
	fputs("usage: shardgen write PREFIX u8|u16|i32|i64 <docs\n       shardgen read PREFIX\n", stderr);
	return 2;
}

static int do_write(const char *prefix, const char *dtype_name, struct ling_err *err)
{
	static const enum tok_shard_dtype dtypes[] = { TOK_SHARD_U8, TOK_SHARD_U16, TOK_SHARD_I32, TOK_SHARD_I64 };
	struct tok_shard_writer *w = NULL;
	struct ling_u32s ids = LING_U32S_INIT;
	char *line = NULL;
	size_t cap = 0;
	long lineno = 0;
	int rc = LING_EUSAGE;

	for (size_t i = 0; i < sizeof(dtypes) / sizeof(dtypes[0]); i++)
		if (!strcmp(dtype_name, tok_shard_dtype_name(dtypes[i])))
			rc = tok_shard_writer_open(&w, prefix, dtypes[i], err);
	if (rc == LING_EUSAGE && !w)
		return ling_err_set(err, LING_EUSAGE, "unknown dtype '%s'", dtype_name);
	if (rc)
		return rc;
	while (getline(&line, &cap, stdin) >= 0) {
		char *tokv = line;

		lineno++;
		ids.n = 0;
		for (char *end; *tokv && *tokv != '\n'; tokv = end) {
			long long v;
			char save;

			while (*tokv == ' ')
				tokv++;
			if (!*tokv || *tokv == '\n')
				break;
			end = tokv + strcspn(tokv, " \n");
			save = *end;
			*end = '\0';
			if (ling_parse_long(tokv, 0, UINT32_MAX, &v) < 0) {
				rc = ling_err_at(err, LING_EDATA, "<stdin>", lineno, tokv - line + 1, "bad id '%s'", tokv);
				goto fail;
			}
			*end = save;
			ling_u32s_push(&ids, (uint32_t)v);
		}
		rc = tok_shard_writer_add(w, ids.v, ids.n, err);
		if (rc) {
			err->line = lineno;
			goto fail;
		}
	}
	free(line);
	ling_u32s_release(&ids);
	return tok_shard_writer_close(w, err);
fail:
	free(line);
	ling_u32s_release(&ids);
	tok_shard_writer_abort(w);
	return rc;
}

static int do_read(const char *prefix, struct ling_err *err)
{
	struct tok_shard *s;
	struct ling_u32s ids = LING_U32S_INIT;
	int rc = tok_shard_open(&s, prefix, err);

	if (rc)
		return rc;
	for (uint64_t i = 0; i < tok_shard_count(s); i++) {
		ids.n = 0;
		rc = tok_shard_get(s, i, &ids, err);
		if (rc)
			break;
		for (size_t j = 0; j < ids.n; j++)
			printf(j ? " %lu" : "%lu", (unsigned long)ids.v[j]);
		putchar('\n');
	}
	ling_u32s_release(&ids);
	tok_shard_close(s);
	if (!rc && fflush(stdout) != 0)
		rc = ling_err_set(err, LING_EIO, "write error on stdout");
	return rc;
}

int main(int argc, char **argv)
{
	struct ling_err err;
	int rc;

	ling_err_clear(&err);
	if (argc == 4 && !strcmp(argv[1], "write"))
		rc = do_write(argv[2], argv[3], &err);
	else if (argc == 3 && !strcmp(argv[1], "read"))
		rc = do_read(argv[2], &err);
	else
		return usage();
	if (rc)
		ling_err_print("shardgen", &err);
	return ling_err_exit_code(&err);
}
