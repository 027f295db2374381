/*
 * ling_cli: what every tool's main shares: checked number parsing, --version,
 * a progress line on stderr when it is a terminal, and atomic file writes.
 */
#ifndef LING_CLI_H
#define LING_CLI_H

#include "ling_err.h"

#include <stddef.h>

/* Parses a whole string as a base-10 integer in [min, max]. @return 0, or -1 when it is not one. */
int ling_parse_long(const char *s, long long min, long long max, long long *out);
/* Parses a whole string as a finite double. @return 0 or -1. */
int ling_parse_double(const char *s, double *out);
/* Parses a size like 512M, 4G, 100k (powers of 1024). @return 0 or -1. */
int ling_parse_size(const char *s, unsigned long long *out);

/* Prints "tool (ling) VERSION" to stdout. */
void ling_print_version(const char *tool);

/*
 * A progress line, redrawn at most ten times a second, shown only when stderr
 * is a terminal (and CI is not set), and erased by ling_progress_done().
 */
struct ling_progress {
	int enabled;
	double last;
	int drawn;
};

void ling_progress_init(struct ling_progress *p);
void ling_progress_update(struct ling_progress *p, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
void ling_progress_done(struct ling_progress *p);

/* Seconds on a monotonic clock. */
double ling_now(void);

/*
 * Writes data to path atomically: a temporary file beside it, fsync, rename,
 * fsync of the directory (redis rdbSave, git lockfile).
 * @return 0 or LING_EIO with err set.
 */
int ling_atomic_write(const char *path, const void *data, size_t len, struct ling_err *err);

#endif
