/*
 * ling_err: errors that carry the input position, reported once by a main.
 *
 * Library functions return 0 or a negative `enum ling_errc` and fill a
 * caller-provided `struct ling_err`. They never print and never exit. A main
 * prints the error with ling_err_print(), as `tool: file:line:col: message`,
 * and maps it to an exit code with ling_err_exit_code().
 */
#ifndef LING_ERR_H
#define LING_ERR_H

#include <stddef.h>

enum ling_errc {
	LING_OK = 0,
	LING_EIO = -1,       /* reading or writing a file failed */
	LING_EDATA = -2,     /* the input is malformed */
	LING_EUSAGE = -3,    /* the caller asked for something impossible */
	LING_ESTORE = -4,    /* the database failed or is inconsistent */
	LING_ELIMIT = -5,    /* a size or count limit was exceeded */
	LING_ESTOP = -6,     /* a callback asked to stop; not a failure by itself */
	LING_EPIPE = -7,     /* the reader of our output went away: end quietly, as SIGPIPE would */
};

struct ling_err {
	int code;           /* enum ling_errc; 0 when no error is set */
	char file[256];     /* input name, "" when the error has no position */
	long line;          /* 1-based, 0 = unknown */
	long col;           /* 1-based, 0 = unknown */
	char msg[512];      /* lowercase, no full stop */
};

#if defined(__GNUC__)
#define LING_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define LING_PRINTF(a, b)
#endif

/* Clears err to "no error". */
void ling_err_clear(struct ling_err *err);

/* Sets code and message, without a position. @return code, so `return ling_err_set(...)` works. */
int ling_err_set(struct ling_err *err, int code, const char *fmt, ...) LING_PRINTF(3, 4);

/* Sets code, message and position (file may be NULL; line/col 0 = unknown). @return code. */
int ling_err_at(struct ling_err *err, int code, const char *file, long line, long col,
		const char *fmt, ...) LING_PRINTF(6, 7);

/*
 * Prints `tool: file:line:col: msg` (the position parts that are known) and a
 * newline to stderr; nothing for LING_EPIPE, which ends a run quietly.
 */
void ling_err_print(const char *tool, const struct ling_err *err);

/* 0 for no error, 2 for LING_EUSAGE, 141 (as a default SIGPIPE) for LING_EPIPE, 1 for everything else. */
int ling_err_exit_code(const struct ling_err *err);

#endif
