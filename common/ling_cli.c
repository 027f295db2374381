#include "ling_cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

void ling_print_version(const char *tool)
{
	printf("%s (ling) %s\n", tool, LING_VERSION);
}

void ling_progress_init(struct ling_progress *p)
{
	const char *ci = getenv("CI");

	p->enabled = isatty(2) && !(ci && *ci);
	p->last = 0;
	p->drawn = 0;
}

void ling_progress_update(struct ling_progress *p, const char *fmt, ...)
{
	double now;
	va_list ap;

	if (!p->enabled)
		return;
	now = ling_now();
	if (now - p->last < 0.1)
		return;
	p->last = now;
	fputs("\r\033[K", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	p->drawn = 1;
}

void ling_progress_done(struct ling_progress *p)
{
	if (p->enabled && p->drawn)
		fputs("\r\033[K", stderr);
	p->drawn = 0;
}
