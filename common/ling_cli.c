#include "ling_cli.h"

#include "ling_mem.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int ling_parse_long(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	/* strtoll would skip leading white space; a whole-string parse must not. */
	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int ling_parse_double(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int ling_parse_size(const char *s, unsigned long long *out)
{
	char *end;
	unsigned long long v, mult = 1;

	/* Digits first: strtoull would skip white space and accept a sign, wrapping " -1" to 2^64-1. */
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': mult = 1ULL << 10; end++; break;
	case 'm': case 'M': mult = 1ULL << 20; end++; break;
	case 'g': case 'G': mult = 1ULL << 30; end++; break;
	case 't': case 'T': mult = 1ULL << 40; end++; break;
	default: break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || v > ULLONG_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

void ling_print_version(const char *tool)
{
	printf("%s (ling) %s\n", tool, LING_VERSION);
}

double ling_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
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

static int fsync_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, (size_t)(slash - path + (slash == path))) : xstrdup(".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	free(dir);
	if (fd < 0)
		return -1;
	if (fsync(fd) < 0 && errno != EINVAL)
		rc = -1;
	close(fd);
	return rc;
}

int ling_atomic_write(const char *path, const void *data, size_t len, struct ling_err *err)
{
	struct ling_buf tmp = LING_BUF_INIT;
	const char *p = data;
	int fd;

	ling_buf_addf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ling_err_at(err, LING_EIO, path, 0, 0, "cannot create %s: %s", tmp.data, strerror(errno));
		goto fail;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ling_err_at(err, LING_EIO, path, 0, 0, "write error: %s", strerror(errno));
			goto fail_close;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0) {
		ling_err_at(err, LING_EIO, path, 0, 0, "cannot sync: %s", strerror(errno));
		goto fail_close;
	}
	if (close(fd) < 0) {
		ling_err_at(err, LING_EIO, path, 0, 0, "cannot close: %s", strerror(errno));
		goto fail_unlink;
	}
	if (rename(tmp.data, path) < 0) {
		ling_err_at(err, LING_EIO, path, 0, 0, "cannot rename into place: %s", strerror(errno));
		goto fail_unlink;
	}
	ling_buf_release(&tmp);
	if (fsync_dir_of(path) < 0)
		return ling_err_at(err, LING_EIO, path, 0, 0, "cannot sync its directory");
	return 0;
fail_close:
	close(fd);
fail_unlink:
	unlink(tmp.data);
fail:
	ling_buf_release(&tmp);
	return err->code;
}
