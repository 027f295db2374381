/*
 * ling_cli: what the mains share and libraries never use: --version and a
 * progress line on stderr when it is a terminal. Standard streams are
 * common/ling_stdio.h.
 *
 * Not for libraries: they parse numbers with ling_num.h, write files with
 * ling_file.h and read the clock with ling_clock.h.
 */
#ifndef LING_CLI_H
#define LING_CLI_H

#include "ling_clock.h"

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

#endif
