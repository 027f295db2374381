/* ling_main: the main-side helpers (ling_main.h). */
#include "ling_main.h"

#include "ling_cli.h"
#include "ling_num.h"
#include "ling_stdio.h"

#include <stdio.h>
#include <string.h>

#include "banned.h"

int ling_usage_error(const char *tool, const char *synopsis, const char *msg)
{
	if (msg)
		fprintf(stderr, "%s: %s\n", tool, msg);
	if (synopsis)
		fprintf(stderr, "usage: %s (see --help)\n", synopsis);
	return 2;
}

int ling_print_help(const char *tool, const char *text)
{
	struct ling_err err;

	ling_err_clear(&err);
	if (ling_stdout_write(text, strlen(text), &err) || ling_stdout_finish(&err)) {
		ling_err_print(tool, &err);
		return 1;
	}
	return 0;
}

int ling_print_version_checked(const char *tool)
{
	struct ling_err err;

	ling_err_clear(&err);
	ling_print_version(tool);
	if (ling_stdout_finish(&err)) {
		ling_err_print(tool, &err);
		return 1;
	}
	return 0;
}

int ling_reads_stdin(const char *const *files, size_t nfiles)
{
	size_t i;

	for (i = 0; i < nfiles; i++)
		if (!strcmp(files[i], "-"))
			return 1;
	return 0;
}

void ling_errors_init(struct ling_errors *e, const char *tool)
{
	memset(e, 0, sizeof(*e));
	e->tool = tool;
}

int ling_errors_parse_max(struct ling_errors *e, const char *arg)
{
	return ling_parse_long(arg, 0, 1LL << 62, &e->max);
}

int ling_errors_report(struct ling_errors *e, const struct ling_err *err)
{
	ling_err_print(e->tool, err);
	e->stopped = ++e->count > e->max;
	return e->stopped;
}
