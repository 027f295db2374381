#include "ling_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ling_err_clear(struct ling_err *err)
{
	memset(err, 0, sizeof(*err));
}

static void set_message(struct ling_err *err, const char *fmt, va_list ap)
{
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int ling_err_set(struct ling_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	ling_err_clear(err);
	err->code = code;
	va_start(ap, fmt);
	set_message(err, fmt, ap);
	va_end(ap);
	return code;
}

int ling_err_at(struct ling_err *err, int code, const char *file, long line, long col,
		const char *fmt, ...)
{
	va_list ap;

	ling_err_clear(err);
	err->code = code;
	if (file)
		snprintf(err->file, sizeof(err->file), "%s", file);
	err->line = line;
	err->col = col;
	va_start(ap, fmt);
	set_message(err, fmt, ap);
	va_end(ap);
	return code;
}

void ling_err_print(const char *tool, const struct ling_err *err)
{
	char where[320] = "";

	if (err->code == LING_EPIPE)
		return;
	if (err->file[0] && err->line > 0 && err->col > 0)
		snprintf(where, sizeof(where), "%s:%ld:%ld: ", err->file, err->line, err->col);
	else if (err->file[0] && err->line > 0)
		snprintf(where, sizeof(where), "%s:%ld: ", err->file, err->line);
	else if (err->file[0])
		snprintf(where, sizeof(where), "%s: ", err->file);
	fprintf(stderr, "%s: %s%s\n", tool, where, err->msg[0] ? err->msg : "unknown error");
}

int ling_err_exit_code(const struct ling_err *err)
{
	if (err->code == LING_OK)
		return 0;
	if (err->code == LING_EPIPE)
		return 141;
	return err->code == LING_EUSAGE ? 2 : 1;
}
