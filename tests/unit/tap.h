/*
 * tap.h: a minimal TAP producer for the unit tests (Test Anything Protocol,
 * as `prove` reads it). Header-only; each test binary includes it once.
 *
 *	ok(cond, "name %d", i);     one test point
 *	is_int(got, want, "name");  integers, with a diagnostic on mismatch
 *	is_str(got, want, "name");  C strings (NULL allowed)
 *	is_mem(got, glen, want, wlen, "name"); byte strings
 *	return done_testing();      prints the plan; non-zero when a test failed
 *
 * Diagnostics go to stdout as "# ..." lines, so they stay next to the failure.
 */
#ifndef LING_TAP_H
#define LING_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failed;

#if defined(__GNUC__)
#define TAP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define TAP_UNUSED __attribute__((unused))
#else
#define TAP_PRINTF(a, b)
#define TAP_UNUSED
#endif

static TAP_PRINTF(4, 0) int tap_vok(int cond, const char *file, int line, const char *fmt, va_list ap)
{
	tap_count++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	vprintf(fmt, ap);
	printf("\n");
	if (!cond) {
		tap_failed++;
		printf("#   Failed test at %s line %d.\n", file, line);
	}
	fflush(stdout);
	return cond;
}

static TAP_UNUSED TAP_PRINTF(4, 5) int tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = tap_vok(cond, file, line, fmt, ap);
	va_end(ap);
	return rc;
}

static TAP_UNUSED TAP_PRINTF(5, 6) int tap_is_int(long long got, long long want, const char *file, int line,
						   const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = tap_vok(got == want, file, line, fmt, ap);
	va_end(ap);
	if (!rc)
		printf("#          got: %lld\n#     expected: %lld\n", got, want);
	return rc;
}

static TAP_UNUSED TAP_PRINTF(5, 6) int tap_is_str(const char *got, const char *want, const char *file, int line,
						   const char *fmt, ...)
{
	va_list ap;
	int rc, same = (!got && !want) || (got && want && !strcmp(got, want));

	va_start(ap, fmt);
	rc = tap_vok(same, file, line, fmt, ap);
	va_end(ap);
	if (!rc)
		printf("#          got: %s%s%s\n#     expected: %s%s%s\n", got ? "'" : "", got ? got : "NULL",
		       got ? "'" : "", want ? "'" : "", want ? want : "NULL", want ? "'" : "");
	return rc;
}

static TAP_UNUSED TAP_PRINTF(7, 8) int tap_is_mem(const void *got, size_t glen, const void *want, size_t wlen,
						   const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int rc, same = glen == wlen && (glen == 0 || !memcmp(got, want, glen));

	va_start(ap, fmt);
	rc = tap_vok(same, file, line, fmt, ap);
	va_end(ap);
	if (!rc)
		printf("#          got: '%.*s' (%zu bytes)\n#     expected: '%.*s' (%zu bytes)\n", (int)glen,
		       got ? (const char *)got : "", glen, (int)wlen, want ? (const char *)want : "", wlen);
	return rc;
}

/* A diagnostic line. */
static TAP_UNUSED TAP_PRINTF(1, 2) void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Prints the plan. @return 0 when every test passed, 1 otherwise (for main's return). */
static TAP_UNUSED int done_testing(void)
{
	printf("1..%d\n", tap_count);
	if (tap_failed)
		printf("# Looks like you failed %d test%s of %d.\n", tap_failed, tap_failed == 1 ? "" : "s",
		       tap_count);
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) tap_is_int((long long)(got), (long long)(want), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...) tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)
#define is_mem(got, glen, want, wlen, ...) tap_is_mem((got), (glen), (want), (wlen), __FILE__, __LINE__, __VA_ARGS__)

#endif
