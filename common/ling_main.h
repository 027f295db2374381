/*
 * ling_main: what the tools' mains repeated around the library calls: the
 * usage error, --help through the checked writes, and the --max-errors
 * budget of bad records. For mains only; libraries never print.
 *
 * The budget: a run reports each bad record (tool: file:line: what is wrong)
 * and skips it while there have been at most max; the one beyond stops the
 * run (STYLE "Pipeline I/O": never drop data silently).
 */
#ifndef LING_MAIN_H
#define LING_MAIN_H

#include "ling_err.h"

#include <stddef.h>

/*
 * Prints "tool: msg" (when msg is not NULL) and "usage: SYNOPSIS (see
 * --help)" (when synopsis is not NULL: a bad option value of kg-parse and
 * kg-stat says only what is wrong) on stderr.
 * @return 2, the exit status of a usage error.
 */
int ling_usage_error(const char *tool, const char *synopsis, const char *msg);

/*
 * Writes text (the --help text) to stdout through ling_stdout_write and
 * ling_stdout_finish. @return 0, or 1 after reporting a failed write.
 */
int ling_print_help(const char *tool, const char *text);

/*
 * Writes the --version line ("tool (ling) VERSION") as ling_print_help writes
 * the help. @return 0, or 1 after reporting a failed write.
 */
int ling_print_version_checked(const char *tool);

/* Whether one of the nfiles input names is "-", stdin (for ling_stdio_require). */
int ling_reads_stdin(const char *const *files, size_t nfiles);

/* The --max-errors budget of one run. */
struct ling_errors {
	const char *tool;   /* the prefix of reports */
	long long max;      /* bad records skipped before the run stops (--max-errors) */
	long long count;    /* bad records so far, the one that stopped the run included */
	int stopped;        /* count passed max */
};

/* A budget of 0 (the default of --max-errors) for tool. */
void ling_errors_init(struct ling_errors *e, const char *tool);

/* Sets max from the argument of --max-errors (a number >= 0). @return 0, or -1 when it is not one. */
int ling_errors_parse_max(struct ling_errors *e, const char *arg);

/*
 * Reports the bad record err describes and counts it.
 * @return 1 when it is one too many (e->stopped is set: stop the run), else 0.
 */
int ling_errors_report(struct ling_errors *e, const struct ling_err *err);

#endif
