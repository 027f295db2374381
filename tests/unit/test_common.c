/*
 * Unit tests for libling (common/): errors, buffers, UTF-8, number parsing,
 * the input layer (memory, files, gzip, zstd, truncation), atomic writes, the
 * directory chores of ling_file and
 * JSON Lines (the scanner checked against jansson).
 */
#include "tap.h"
#include "fixture.h"

#include "common/ling_err.h"
#include "common/ling_file.h"
#include "common/ling_input.h"
#include "common/ling_jsonl.h"
#include "common/ling_mem.h"
#include "common/ling_num.h"
#include "common/ling_stdio.h"
#include "common/ling_utf8.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "common/banned.h"

static char tmpdir[PATH_MAX];

/* ---- helpers ---- */

/* Runs ling_err_print with stderr captured; returns what it wrote (caller frees). */
static char *capture_err_print(const char *tool, const struct ling_err *err)
{
	char path[PATH_MAX + 32];
	struct ling_buf out = LING_BUF_INIT;
	int saved, fd;
	char chunk[1024];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/stderr.txt", tmpdir);
	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 2);
	close(fd);
	ling_err_print(tool, err);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fd = open(path, O_RDONLY);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		ling_buf_add(&out, chunk, (size_t)n);
	close(fd);
	unlink(path);
	if (!out.data)
		ling_buf_adds(&out, "");
	return out.data;
}

static void gzip_mem(struct ling_buf *out, const void *data, size_t len)
{
	z_stream zs;
	unsigned char chunk[16384];
	int rc;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	zs.next_in = (unsigned char *)(uintptr_t)data;
	zs.avail_in = (uInt)len;
	do {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		rc = deflate(&zs, Z_FINISH);
		ling_buf_add(out, chunk, sizeof(chunk) - zs.avail_out);
	} while (rc == Z_OK);
	if (rc != Z_STREAM_END)
		abort();
	deflateEnd(&zs);
}

static void zstd_mem(struct ling_buf *out, const void *data, size_t len)
{
	size_t cap = ZSTD_compressBound(len), n;

	ling_buf_reserve(out, cap);
	n = ZSTD_compress(out->data + out->len, cap, data, len, 3);
	if (ZSTD_isError(n))
		abort();
	out->len += n;
	out->data[out->len] = '\0';
}

/* Reads every line of in, joined with '\n' (and a final '\n' per line) into out. @return the getline result. */
static int slurp_lines(struct ling_input *in, struct ling_buf *out, long *nlines, struct ling_err *err)
{
	const char *line;
	size_t len;
	int rc;

	*nlines = 0;
	while ((rc = ling_input_getline(in, &line, &len, err)) > 0) {
		ling_buf_add(out, line, len);
		ling_buf_addc(out, '\n');
		(*nlines)++;
	}
	return rc;
}

/* Reads all of in with ling_input_read in chunks of cap bytes. @return 0 or the error. */
static int slurp_read(struct ling_input *in, struct ling_buf *out, size_t cap, struct ling_err *err)
{
	char *buf = xmalloc(cap);
	ssize_t n;

	while ((n = ling_input_read(in, buf, cap, err)) > 0)
		ling_buf_add(out, buf, (size_t)n);
	free(buf);
	return n < 0 ? (int)n : 0;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f))
		abort();
}

static char *read_file(const char *path, size_t *len)
{
	struct ling_buf b = LING_BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ling_buf_add(&b, chunk, n);
	fclose(f);
	if (!b.data)
		ling_buf_adds(&b, "");
	*len = b.len;
	return b.data;
}

/* ---- ling_err ---- */

static void test_err(void)
{
	struct ling_err err;
	char *s, longname[400];
	int rc;

	ling_err_clear(&err);
	is_int(err.code, 0, "ling_err_clear: code 0");
	is_int(ling_err_exit_code(&err), 0, "exit code 0 without an error");

	rc = ling_err_set(&err, LING_EDATA, "bad %s %d", "thing", 42);
	is_int(rc, LING_EDATA, "ling_err_set returns the code");
	is_str(err.msg, "bad thing 42", "ling_err_set formats the message");
	is_str(err.file, "", "ling_err_set: no file");
	is_int(err.line, 0, "ling_err_set: no line");

	rc = ling_err_at(&err, LING_EIO, "data/x.nt", 12, 7, "cannot read: %s", "no such file");
	is_int(rc, LING_EIO, "ling_err_at returns the code");
	is_str(err.file, "data/x.nt", "ling_err_at: file");
	is_int(err.line, 12, "ling_err_at: line");
	is_int(err.col, 7, "ling_err_at: col");
	s = capture_err_print("kg-load", &err);
	is_str(s, "kg-load: data/x.nt:12:7: cannot read: no such file\n", "print with file:line:col");
	free(s);

	ling_err_at(&err, LING_EDATA, "in.ttl", 3, 0, "oops");
	s = capture_err_print("kg-parse", &err);
	is_str(s, "kg-parse: in.ttl:3: oops\n", "print with file:line");
	free(s);

	ling_err_at(&err, LING_EDATA, "in.ttl", 0, 0, "oops");
	s = capture_err_print("kg-parse", &err);
	is_str(s, "kg-parse: in.ttl: oops\n", "print with file only");
	free(s);

	ling_err_at(&err, LING_EDATA, NULL, 5, 5, "no file");
	is_str(err.file, "", "ling_err_at with NULL file");
	s = capture_err_print("kg", &err);
	is_str(s, "kg: no file\n", "print without a file omits the position");
	free(s);

	ling_err_set(&err, LING_EDATA, "%s", "");
	s = capture_err_print("kg", &err);
	is_str(s, "kg: unknown error\n", "print of an empty message");
	free(s);

	/* ling_err_at clears what an earlier error left. */
	ling_err_at(&err, LING_EIO, "a", 1, 2, "first");
	ling_err_set(&err, LING_ESTORE, "second");
	ok(err.file[0] == '\0' && err.line == 0 && err.col == 0, "ling_err_set clears an earlier position");

	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ling_err_at(&err, LING_EIO, longname, 1, 1, "%s", longname);
	is_int(strlen(err.file), sizeof(err.file) - 1, "a long file name is truncated, NUL-terminated");
	is_int(strlen(err.msg), strlen(longname), "a message under 512 bytes is kept");
	{
		char huge[2000];

		memset(huge, 'm', sizeof(huge) - 1);
		huge[sizeof(huge) - 1] = '\0';
		ling_err_set(&err, LING_EIO, "%s", huge);
		is_int(strlen(err.msg), sizeof(err.msg) - 1, "a long message is truncated, NUL-terminated");
	}

	ling_err_set(&err, LING_EUSAGE, "usage");
	is_int(ling_err_exit_code(&err), 2, "exit code 2 for LING_EUSAGE");
	ling_err_set(&err, LING_EDATA, "x");
	is_int(ling_err_exit_code(&err), 1, "exit code 1 for LING_EDATA");
	ling_err_set(&err, LING_EIO, "x");
	is_int(ling_err_exit_code(&err), 1, "exit code 1 for LING_EIO");
	ling_err_set(&err, LING_ESTORE, "x");
	is_int(ling_err_exit_code(&err), 1, "exit code 1 for LING_ESTORE");
	ling_err_set(&err, LING_ELIMIT, "x");
	is_int(ling_err_exit_code(&err), 1, "exit code 1 for LING_ELIMIT");
	ling_err_set(&err, LING_ESTOP, "x");
	is_int(ling_err_exit_code(&err), 1, "exit code 1 for LING_ESTOP");
}

/* ---- ling_buf and allocation ---- */

static void test_buf(void)
{
	struct ling_buf b = LING_BUF_INIT, u = LING_BUF_INIT;
	size_t i, cap;
	int all_ok;
	char *p;
	int *arr = NULL;
	size_t arr_cap = 0;

	ok(b.data == NULL && b.len == 0 && b.cap == 0, "LING_BUF_INIT is empty");
	ling_buf_truncate(&b, 0);
	ok(b.data == NULL, "truncate of an empty buffer does nothing");
	ling_buf_adds(&b, "");
	ok(b.data && b.len == 0 && b.data[0] == '\0', "adding nothing allocates a NUL-terminated buffer");
	ling_buf_adds(&b, "hello");
	ling_buf_addc(&b, ' ');
	ling_buf_add(&b, "world!!", 5);
	is_str(b.data, "hello world", "add, addc, adds");
	is_int(b.len, 11, "length 11");

	all_ok = 1;
	for (i = 0; i < 100000; i++) {
		ling_buf_addc(&b, (char)('a' + i % 26));
		if (b.data[b.len] != '\0' || b.cap <= b.len)
			all_ok = 0;
	}
	ok(all_ok, "100000 addc keep data[len] == NUL and cap > len");
	is_int(b.len, 100011, "length after growth");
	ok(b.data[11] == 'a' && b.data[100010] == (char)('a' + 99999 % 26), "contents survive growth");

	cap = b.cap;
	ling_buf_reset(&b);
	ok(b.len == 0 && b.data[0] == '\0' && b.cap == cap, "reset keeps the memory");
	ling_buf_addf(&b, "%d-%s-%05.1f", 42, "x", 3.14159);
	is_str(b.data, "42-x-003.1", "addf formats");
	ling_buf_addf(&b, "%s", "");
	is_str(b.data, "42-x-003.1", "addf of an empty string");
	ling_buf_reset(&b);
	ling_buf_addf(&b, "%*s|", 70000, "r");
	is_int(b.len, 70001, "addf of a 70001-byte string");
	ok(b.data[69999] == 'r' && b.data[70000] == '|' && b.data[70001] == '\0', "long addf contents");
	ling_buf_truncate(&b, 3);
	is_str(b.data, "   ", "truncate shortens");
	ling_buf_truncate(&b, 10);
	is_int(b.len, 3, "truncate past the end does nothing");
	ling_buf_release(&b);
	ok(b.data == NULL && b.len == 0 && b.cap == 0, "release empties the buffer");

	ling_buf_init(&b);
	ling_buf_reserve(&b, 100);
	ok(b.cap >= 101 && b.len == 0, "reserve makes room for the bytes and the NUL");
	ling_buf_add(&b, "a\0b", 3);
	is_mem(b.data, b.len, "a\0b", 3, "buffers hold NUL bytes");
	ling_buf_release(&b);

	/* UTF-8 encoding at every length boundary, checked by decoding it again. */
	{
		static const unsigned long cps[] = { 0x0, 0x41, 0x7F, 0x80, 0xE9, 0x7FF, 0x800, 0x20AC, 0xD7FF,
						     0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF };
		static const size_t lens[] = { 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 4 };

		all_ok = 1;
		for (i = 0; i < sizeof(cps) / sizeof(cps[0]); i++) {
			unsigned long cp = 0;

			ling_buf_reset(&u);
			ling_buf_add_utf8(&u, cps[i]);
			if (u.len != lens[i] || ling_utf8_decode(u.data, u.len, &cp) != lens[i] || cp != cps[i]) {
				diag("U+%04lX: %zu bytes, decoded U+%04lX", cps[i], u.len, cp);
				all_ok = 0;
			}
		}
		ok(all_ok, "add_utf8 round-trips through ling_utf8_decode at each length boundary");
		ling_buf_reset(&u);
		ling_buf_add_utf8(&u, 0xE9);
		ling_buf_add_utf8(&u, 0x20AC);
		ling_buf_add_utf8(&u, 0x1F600);
		is_str(u.data, "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", "add_utf8 bytes of U+E9 U+20AC U+1F600");
		ling_buf_release(&u);
	}

	p = xstrndup("abcdef", 3);
	is_str(p, "abc", "xstrndup");
	free(p);
	p = xstrdup("");
	is_str(p, "", "xstrdup of an empty string");
	free(p);
	arr = xgrow(arr, &arr_cap, 1, sizeof(*arr));
	ok(arr_cap >= 16, "xgrow starts at 16 elements");
	arr = xgrow(arr, &arr_cap, 1000, sizeof(*arr));
	ok(arr_cap >= 1000, "xgrow reaches the need");
	arr[999] = 7;
	cap = arr_cap;
	arr = xgrow(arr, &arr_cap, 10, sizeof(*arr));
	ok(arr_cap == cap && arr[999] == 7, "xgrow never shrinks");
	free(arr);
	p = xcalloc(0, 0);
	ok(p != NULL, "xcalloc(0, 0) returns a pointer");
	free(p);
}

/* ---- UTF-8 validation ---- */

struct utf8_case {
	const char *s;
	size_t n;
	size_t want;
	const char *what;
};

#define U8(lit, want, what) { lit, sizeof(lit) - 1, want, what }

static void test_utf8(void)
{
	static const struct utf8_case cases[] = {
		U8("", 0, "empty"),
		U8("plain ascii", 11, "ASCII"),
		U8("0123456789abcdefghijklmnopqrstuvwxyz", 36, "long ASCII (fast path)"),
		U8("h\xC3\xA9llo", 6, "2-byte sequence"),
		U8("\xE2\x82\xAC", 3, "3-byte sequence"),
		U8("\xF0\x9F\x98\x80", 4, "4-byte sequence"),
		U8("1234567\xC3\xA9", 9, "2-byte sequence across the 8-byte fast path"),
		U8("12345678\xF0\x9F\x98\x80z", 13, "4-byte sequence after 8 ASCII bytes"),
		U8("\xC2\x80", 2, "U+0080, the smallest 2-byte"),
		U8("\xDF\xBF", 2, "U+07FF"),
		U8("\xE0\xA0\x80", 3, "U+0800, the smallest 3-byte"),
		U8("\xED\x9F\xBF", 3, "U+D7FF, just below the surrogates"),
		U8("\xEE\x80\x80", 3, "U+E000, just above the surrogates"),
		U8("\xEF\xBF\xBF", 3, "U+FFFF"),
		U8("\xF0\x90\x80\x80", 4, "U+10000, the smallest 4-byte"),
		U8("\xF4\x8F\xBF\xBF", 4, "U+10FFFF, the largest"),
		U8("a\0b", 3, "NUL is valid UTF-8"),
		U8("ab\xC0\x80", 2, "overlong NUL C0 80"),
		U8("\xC1\xBF", 0, "overlong C1 BF"),
		U8("x\xE0\x80\x80", 1, "overlong 3-byte E0 80 80"),
		U8("\xE0\x9F\xBF", 0, "overlong 3-byte E0 9F BF (U+07FF)"),
		U8("\xF0\x80\x80\x80", 0, "overlong 4-byte F0 80 80 80"),
		U8("\xF0\x8F\xBF\xBF", 0, "overlong 4-byte F0 8F BF BF (U+FFFF)"),
		U8("ok\xED\xA0\x80", 2, "surrogate U+D800"),
		U8("\xED\xBF\xBF", 0, "surrogate U+DFFF"),
		U8("\xED\xA0\xBD\xED\xB8\x80", 0, "CESU-8 surrogate pair"),
		U8("\xF4\x90\x80\x80", 0, "U+110000, past the last code point"),
		U8("\xF5\x80\x80\x80", 0, "lead byte F5"),
		U8("\xF8\x88\x80\x80\x80", 0, "5-byte form"),
		U8("\xFE", 0, "byte FE"),
		U8("\xFF", 0, "byte FF"),
		U8("abc\x80", 3, "lone continuation byte"),
		U8("\xBF", 0, "lone continuation byte BF"),
		U8("abc\xE2\x82", 3, "truncated 3-byte at the end"),
		U8("abc\xC3", 3, "truncated 2-byte at the end"),
		U8("\xF0\x9F\x98", 0, "truncated 4-byte at the end"),
		U8("a\xE2\x82z", 1, "truncated 3-byte before ASCII"),
		U8("a\xC3\xC3\xA9", 1, "lead byte followed by a lead byte"),
		U8("\xC3\xA9\xF0\x9F\x98\x80\xE2\x82\xAC" "abcdefgh" "\xED\xA0\x80", 17, "bad byte after mixed text"),
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(ling_utf8_valid_prefix(cases[i].s, cases[i].n), cases[i].want, "utf8: %s", cases[i].what);

	/* A prefix length limits the scan: a valid string cut inside a character stops before it. */
	is_int(ling_utf8_valid_prefix("\xE2\x82\xAC", 2), 0, "utf8: n cuts a character");
	{
		unsigned long cp = 0;

		is_int(ling_utf8_decode("\xE2\x82\xAC", 2, &cp), 0, "decode: not enough bytes");
		is_int(ling_utf8_decode("\xE2\x82\xAC", 3, &cp), 3, "decode: 3 bytes");
		is_int(cp, 0x20AC, "decode: U+20AC");
		is_int(ling_utf8_decode("A", 1, &cp), 1, "decode: ASCII");
		is_int(ling_utf8_decode("\x80", 1, &cp), 0, "decode: continuation byte");
	}
	/* Every 2-byte lead must be followed by a continuation; sweep all second bytes. */
	{
		int bad = 0, b;

		for (b = 0; b < 256; b++) {
			char s[2] = { (char)0xC3, (char)b };
			size_t want = (b & 0xC0) == 0x80 ? 2 : 0;

			if (ling_utf8_valid_prefix(s, 2) != want)
				bad++;
		}
		is_int(bad, 0, "utf8: C3 xx accepts exactly the continuation bytes");
	}
}

/* ---- number parsing ---- */

static void test_parse(void)
{
	long long v = -7;
	double d = -7;
	unsigned long long u = 7;

	ok(ling_parse_long("0", 0, 10, &v) == 0 && v == 0, "parse_long 0");
	ok(ling_parse_long("-5", -10, 10, &v) == 0 && v == -5, "parse_long -5");
	ok(ling_parse_long("+12", 0, 100, &v) == 0 && v == 12, "parse_long +12");
	ok(ling_parse_long("9223372036854775807", LLONG_MIN, LLONG_MAX, &v) == 0 && v == LLONG_MAX,
	   "parse_long LLONG_MAX");
	ok(ling_parse_long("-9223372036854775808", LLONG_MIN, LLONG_MAX, &v) == 0 && v == LLONG_MIN,
	   "parse_long LLONG_MIN");
	v = 99;
	is_int(ling_parse_long("9223372036854775808", LLONG_MIN, LLONG_MAX, &v), -1, "parse_long overflow");
	is_int(v, 99, "parse_long leaves out alone on failure");
	is_int(ling_parse_long("-9223372036854775809", LLONG_MIN, LLONG_MAX, &v), -1, "parse_long underflow");
	is_int(ling_parse_long("11", 0, 10, &v), -1, "parse_long above max");
	is_int(ling_parse_long("-1", 0, 10, &v), -1, "parse_long below min");
	ok(ling_parse_long("10", 0, 10, &v) == 0 && v == 10, "parse_long at max");
	is_int(ling_parse_long("12x", 0, 100, &v), -1, "parse_long trailing junk");
	is_int(ling_parse_long("12 ", 0, 100, &v), -1, "parse_long trailing space");
	is_int(ling_parse_long(" 12", 0, 100, &v), -1, "parse_long leading space");
	is_int(ling_parse_long("", 0, 100, &v), -1, "parse_long empty");
	is_int(ling_parse_long(NULL, 0, 100, &v), -1, "parse_long NULL");
	is_int(ling_parse_long("-", -10, 100, &v), -1, "parse_long lone sign");
	is_int(ling_parse_long("0x10", 0, 100, &v), -1, "parse_long hex is junk");
	is_int(ling_parse_long("1.5", 0, 100, &v), -1, "parse_long decimal point");
	ok(ling_parse_long("010", 0, 100, &v) == 0 && v == 10, "parse_long leading zero is decimal");

	ok(ling_parse_double("1.5", &d) == 0 && d == 1.5, "parse_double 1.5");
	ok(ling_parse_double("-0.25", &d) == 0 && d == -0.25, "parse_double -0.25");
	ok(ling_parse_double("1e3", &d) == 0 && d == 1000.0, "parse_double 1e3");
	ok(ling_parse_double("7", &d) == 0 && d == 7.0, "parse_double integer");
	d = 99;
	is_int(ling_parse_double("nan", &d), -1, "parse_double nan");
	is_int(ling_parse_double("inf", &d), -1, "parse_double inf");
	is_int(ling_parse_double("-infinity", &d), -1, "parse_double -infinity");
	is_int(ling_parse_double("1e400", &d), -1, "parse_double overflow");
	is_int(ling_parse_double("1.5x", &d), -1, "parse_double trailing junk");
	is_int(ling_parse_double("", &d), -1, "parse_double empty");
	is_int(ling_parse_double(NULL, &d), -1, "parse_double NULL");
	is_int(ling_parse_double(" 1.5", &d), -1, "parse_double leading space");
	is_int(ling_parse_double(".", &d), -1, "parse_double lone dot");
	ok(d == 99, "parse_double leaves out alone on failure");

	ok(ling_parse_size("512", &u) == 0 && u == 512, "parse_size 512");
	ok(ling_parse_size("0", &u) == 0 && u == 0, "parse_size 0");
	ok(ling_parse_size("4k", &u) == 0 && u == 4096, "parse_size 4k");
	ok(ling_parse_size("4K", &u) == 0 && u == 4096, "parse_size 4K");
	ok(ling_parse_size("512M", &u) == 0 && u == 512ULL << 20, "parse_size 512M");
	ok(ling_parse_size("4G", &u) == 0 && u == 4ULL << 30, "parse_size 4G");
	ok(ling_parse_size("2T", &u) == 0 && u == 2ULL << 40, "parse_size 2T");
	ok(ling_parse_size("1KB", &u) == 0 && u == 1024, "parse_size 1KB");
	ok(ling_parse_size("100b", &u) == 0 && u == 100, "parse_size 100b");
	ok(ling_parse_size("18446744073709551615", &u) == 0 && u == ULLONG_MAX, "parse_size ULLONG_MAX");
	u = 99;
	is_int(ling_parse_size("18446744073709551616", &u), -1, "parse_size overflow");
	is_int(ling_parse_size("16777216T", &u), -1, "parse_size overflow by the multiplier");
	ok(ling_parse_size("16777215T", &u) == 0 && u == 16777215ULL << 40, "parse_size just below the limit");
	u = 99;
	is_int(ling_parse_size("-1", &u), -1, "parse_size negative");
	is_int(ling_parse_size(" -1", &u), -1, "parse_size negative after a space");
	is_int(ling_parse_size(" 5", &u), -1, "parse_size leading space");
	is_int(ling_parse_size("+5", &u), -1, "parse_size plus sign");
	is_int(ling_parse_size("5X", &u), -1, "parse_size unknown suffix");
	is_int(ling_parse_size("5KK", &u), -1, "parse_size double suffix");
	is_int(ling_parse_size("5 K", &u), -1, "parse_size space before the suffix");
	is_int(ling_parse_size("K", &u), -1, "parse_size suffix alone");
	is_int(ling_parse_size("", &u), -1, "parse_size empty");
	is_int(ling_parse_size(NULL, &u), -1, "parse_size NULL");
	is_int(u, 99, "parse_size leaves out alone on failure");
}

/* ---- ling_input ---- */

static void test_input_mem_plain(void)
{
	struct ling_input *in;
	struct ling_err err;
	struct ling_buf got = LING_BUF_INIT;
	const char *line;
	size_t len;
	long n;
	int rc;

	ling_err_clear(&err);
	rc = ling_input_open_mem(&in, "mem", "a\nbb\n\nccc", 9, &err);
	ok(rc == 0 && in, "open_mem");
	is_str(ling_input_name(in), "mem", "name of a memory input");
	is_int(ling_input_compression(in), LING_COMPRESSION_NONE, "plain text is not compressed");
	rc = slurp_lines(in, &got, &n, &err);
	is_int(rc, 0, "getline ends with 0");
	is_int(n, 4, "four lines, the last without a newline");
	is_str(got.data, "a\nbb\n\nccc\n", "line contents");
	is_int(ling_input_getline(in, &line, &len, &err), 0, "getline after the end stays at 0");
	ling_input_close(in);

	ling_buf_reset(&got);
	ling_input_open_mem(&in, "mem", "x\r\ny\r\n", 6, &err);
	rc = ling_input_getline(in, &line, &len, &err);
	ok(rc == 1 && len == 2 && !memcmp(line, "x\r", 2), "CRLF: the line keeps its \\r");
	rc = ling_input_getline(in, &line, &len, &err);
	ok(rc == 1 && len == 2 && !memcmp(line, "y\r", 2), "CRLF: second line");
	is_int(ling_input_getline(in, &line, &len, &err), 0, "CRLF: then the end");
	ling_input_close(in);

	ling_input_open_mem(&in, "empty", "", 0, &err);
	is_int(ling_input_getline(in, &line, &len, &err), 0, "empty input: no line");
	ling_input_close(in);

	ling_input_open_mem(&in, "nl", "\n", 1, &err);
	rc = ling_input_getline(in, &line, &len, &err);
	ok(rc == 1 && len == 0, "a lone newline is one empty line");
	is_int(ling_input_getline(in, &line, &len, &err), 0, "and nothing after it");
	ling_input_close(in);

	ling_input_open_mem(&in, "nul", "a\0b\nc", 5, &err);
	rc = ling_input_getline(in, &line, &len, &err);
	ok(rc == 1 && len == 3 && !memcmp(line, "a\0b", 3), "a NUL byte stays inside the line");
	ling_input_close(in);

	/* A short magic is not mistaken for compression. */
	ling_input_open_mem(&in, "1f", "\x1f", 1, &err);
	is_int(ling_input_compression(in), LING_COMPRESSION_NONE, "one byte 1F is plain");
	ling_input_close(in);
	ling_input_open_mem(&in, "28b5", "\x28\xb5\x2f", 3, &err);
	is_int(ling_input_compression(in), LING_COMPRESSION_NONE, "three bytes of the zstd magic are plain");
	ling_input_close(in);

	/* getline, then read: the reader hands out what the line reader buffered first. */
	ling_input_open_mem(&in, "mix", "first\nsecond\nthird", 18, &err);
	ling_input_getline(in, &line, &len, &err);
	ling_buf_reset(&got);
	rc = slurp_read(in, &got, 3, &err);
	ok(rc == 0 && got.len == 12 && !memcmp(got.data, "second\nthird", 12), "read after getline continues");
	ling_input_close(in);

	ling_buf_release(&got);
}

/* Builds `nlines` lines of varying length; returns the text in out. */
static void make_text(struct ling_buf *out, size_t nlines)
{
	size_t i;

	for (i = 0; i < nlines; i++)
		ling_buf_addf(out, "line %zu %.*s\n", i, (int)(i % 97), "<http://example.org/abcdefghijklmnopqrstuvwxyz/0123456789> \"some literal text\" ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghij");
}

static void test_input_long_lines(void)
{
	struct ling_buf text = LING_BUF_INIT, got = LING_BUF_INIT;
	struct ling_input *in;
	struct ling_err err;
	const char *line;
	size_t len, i;
	long n;
	int rc;

	ling_err_clear(&err);
	/* 1 MiB line, then a short one, then another 1 MiB + 3 line without a newline. */
	for (i = 0; i < (1u << 20); i++)
		ling_buf_addc(&text, (char)('a' + i % 26));
	ling_buf_adds(&text, "\nshort\n");
	for (i = 0; i < (1u << 20) + 3; i++)
		ling_buf_addc(&text, (char)('A' + i % 26));
	ling_input_open_mem(&in, "long", text.data, text.len, &err);
	rc = ling_input_getline(in, &line, &len, &err);
	ok(rc == 1 && len == (1u << 20) && line[0] == 'a' && line[len - 1] == (char)('a' + ((1u << 20) - 1) % 26),
	   "a 1 MiB line comes back whole");
	rc = ling_input_getline(in, &line, &len, &err);
	ok(rc == 1 && len == 5 && !memcmp(line, "short", 5), "then the short line");
	rc = ling_input_getline(in, &line, &len, &err);
	ok(rc == 1 && len == (1u << 20) + 3 && line[0] == 'A', "a final 1 MiB line without newline");
	is_int(ling_input_getline(in, &line, &len, &err), 0, "then the end");
	ling_input_close(in);

	/* Many lines crossing the internal chunk boundaries. */
	ling_buf_reset(&text);
	make_text(&text, 40000);
	ling_input_open_mem(&in, "many", text.data, text.len, &err);
	rc = slurp_lines(in, &got, &n, &err);
	ok(rc == 0 && n == 40000 && got.len == text.len && !memcmp(got.data, text.data, text.len),
	   "40000 lines (%zu bytes) read back exactly", text.len);
	ling_input_close(in);
	ling_buf_release(&text);
	ling_buf_release(&got);
}

/* Opens data as memory input and reads it all by lines. @return the final getline result. */
static int read_all_mem(const void *data, size_t len, struct ling_buf *got, enum ling_compression *comp,
			struct ling_err *err)
{
	struct ling_input *in;
	long n;
	int rc;

	ling_err_clear(err);
	if ((rc = ling_input_open_mem(&in, "mem", data, len, err)))
		return rc;
	if (comp)
		*comp = ling_input_compression(in);
	rc = slurp_lines(in, got, &n, err);
	ling_input_close(in);
	return rc;
}

static void test_input_compressed(void)
{
	struct ling_buf text = LING_BUF_INIT, gz = LING_BUF_INIT, zs = LING_BUF_INIT, got = LING_BUF_INIT;
	struct ling_buf two = LING_BUF_INIT;
	enum ling_compression comp;
	struct ling_err err;
	size_t cut;
	int rc, bad;

	make_text(&text, 30000); /* about 3 MB, many raw and output chunks */
	gzip_mem(&gz, text.data, text.len);
	zstd_mem(&zs, text.data, text.len);

	rc = read_all_mem(gz.data, gz.len, &got, &comp, &err);
	is_int(comp, LING_COMPRESSION_GZIP, "gzip sniffed by its magic");
	ok(rc == 0 && got.len == text.len && !memcmp(got.data, text.data, text.len),
	   "gzip: %zu compressed bytes decompress to the text", gz.len);

	ling_buf_reset(&got);
	rc = read_all_mem(zs.data, zs.len, &got, &comp, &err);
	is_int(comp, LING_COMPRESSION_ZSTD, "zstd sniffed by its magic");
	ok(rc == 0 && got.len == text.len && !memcmp(got.data, text.data, text.len),
	   "zstd: %zu compressed bytes decompress to the text", zs.len);

	/* ling_input_read in odd chunk sizes. */
	{
		struct ling_input *in;

		ling_buf_reset(&got);
		ling_input_open_mem(&in, "gz", gz.data, gz.len, &err);
		rc = slurp_read(in, &got, 777, &err);
		ok(rc == 0 && got.len == text.len && !memcmp(got.data, text.data, text.len), "gzip via read(777)");
		is_int(ling_input_raw_offset(in), gz.len, "raw offset is the compressed size at the end");
		is_int(ling_input_raw_size(in), gz.len, "raw size of a memory input");
		ling_input_close(in);
		ling_buf_reset(&got);
		ling_input_open_mem(&in, "zst", zs.data, zs.len, &err);
		rc = slurp_read(in, &got, 1, &err);
		ok(rc == 0 && got.len == text.len && !memcmp(got.data, text.data, text.len), "zstd via read(1)");
		ling_input_close(in);
	}

	/* Two concatenated members / frames are one stream. */
	ling_buf_reset(&two);
	gzip_mem(&two, "one\n", 4);
	gzip_mem(&two, "two\n", 4);
	ling_buf_reset(&got);
	rc = read_all_mem(two.data, two.len, &got, NULL, &err);
	ok(rc == 0 && got.data && !strcmp(got.data, "one\ntwo\n"), "concatenated gzip members");
	ling_buf_reset(&two);
	zstd_mem(&two, "one\n", 4);
	zstd_mem(&two, "two", 3);
	ling_buf_reset(&got);
	rc = read_all_mem(two.data, two.len, &got, NULL, &err);
	ok(rc == 0 && got.data && !strcmp(got.data, "one\ntwo\n"), "concatenated zstd frames");

	/* An empty payload. */
	ling_buf_reset(&two);
	gzip_mem(&two, "", 0);
	ling_buf_reset(&got);
	rc = read_all_mem(two.data, two.len, &got, NULL, &err);
	ok(rc == 0 && got.len == 0, "gzip of nothing gives no lines");
	ling_buf_reset(&two);
	zstd_mem(&two, "", 0);
	ling_buf_reset(&got);
	rc = read_all_mem(two.data, two.len, &got, NULL, &err);
	ok(rc == 0 && got.len == 0, "zstd of nothing gives no lines");

	/* Truncated streams are errors, wherever the cut falls. */
	ling_buf_reset(&got);
	rc = read_all_mem(gz.data, gz.len / 2, &got, NULL, &err);
	is_int(rc, LING_EDATA, "gzip cut in half: LING_EDATA");
	ok(strstr(err.msg, "gzip") != NULL, "the message names gzip (%s)", err.msg);
	is_str(err.file, "mem", "the error names the input");
	ling_buf_reset(&got);
	rc = read_all_mem(gz.data, gz.len - 4, &got, NULL, &err);
	is_int(rc, LING_EDATA, "gzip without its size trailer: LING_EDATA");
	ling_buf_reset(&got);
	rc = read_all_mem(zs.data, zs.len / 2, &got, NULL, &err);
	is_int(rc, LING_EDATA, "zstd cut in half: LING_EDATA");
	ok(strstr(err.msg, "zstd") != NULL, "the message names zstd (%s)", err.msg);
	ling_buf_reset(&got);
	rc = read_all_mem(zs.data, zs.len - 1, &got, NULL, &err);
	is_int(rc, LING_EDATA, "zstd without its last byte: LING_EDATA");

	ling_buf_reset(&two);
	gzip_mem(&two, "hello world\nsecond line\n", 24);
	for (bad = 0, cut = 2; cut < two.len; cut++) {
		ling_buf_reset(&got);
		if (read_all_mem(two.data, cut, &got, NULL, &err) != LING_EDATA) {
			diag("gzip cut at %zu of %zu not detected", cut, two.len);
			bad++;
		}
	}
	is_int(bad, 0, "gzip truncated at every offset gives LING_EDATA");
	ling_buf_reset(&two);
	zstd_mem(&two, "hello world\nsecond line\n", 24);
	for (bad = 0, cut = 4; cut < two.len; cut++) {
		ling_buf_reset(&got);
		if (read_all_mem(two.data, cut, &got, NULL, &err) != LING_EDATA) {
			diag("zstd cut at %zu of %zu not detected", cut, two.len);
			bad++;
		}
	}
	is_int(bad, 0, "zstd truncated at every offset gives LING_EDATA");

	/* Corruption. */
	ling_buf_reset(&two);
	gzip_mem(&two, text.data, 100000);
	two.data[two.len / 2] ^= 0x55;
	two.data[two.len / 2 + 1] ^= 0xAA;
	ling_buf_reset(&got);
	rc = read_all_mem(two.data, two.len, &got, NULL, &err);
	is_int(rc, LING_EDATA, "corrupt gzip: LING_EDATA");
	ling_buf_reset(&two);
	gzip_mem(&two, "abc\n", 4);
	ling_buf_adds(&two, "trailing garbage");
	ling_buf_reset(&got);
	rc = read_all_mem(two.data, two.len, &got, NULL, &err);
	is_int(rc, LING_EDATA, "gzip followed by garbage: LING_EDATA");
	ling_buf_reset(&two);
	zstd_mem(&two, text.data, 100000);
	two.data[two.len / 2] ^= 0x55;
	two.data[two.len / 2 + 1] ^= 0xAA;
	ling_buf_reset(&got);
	rc = read_all_mem(two.data, two.len, &got, NULL, &err);
	ok(rc == LING_EDATA || (rc == 0 && (got.len != 100000 || memcmp(got.data, text.data, 100000))),
	   "corrupt zstd: an error or at least not the original (rc %d)", rc);
	ling_buf_reset(&two);
	zstd_mem(&two, "abc\n", 4);
	ling_buf_adds(&two, "trailing garbage");
	ling_buf_reset(&got);
	rc = read_all_mem(two.data, two.len, &got, NULL, &err);
	is_int(rc, LING_EDATA, "zstd followed by garbage: LING_EDATA");

	ling_buf_release(&text);
	ling_buf_release(&gz);
	ling_buf_release(&zs);
	ling_buf_release(&got);
	ling_buf_release(&two);
}

static void test_input_files(void)
{
	struct ling_buf text = LING_BUF_INIT, comp = LING_BUF_INIT, got = LING_BUF_INIT, path = LING_BUF_INIT;
	struct ling_input *in;
	struct ling_err err;
	long n;
	int rc;

	ling_err_clear(&err);
	make_text(&text, 5000);

	ling_buf_addf(&path, "%s/plain.nt", tmpdir);
	write_file(path.data, text.data, text.len);
	rc = ling_input_open(&in, path.data, &err);
	ok(rc == 0 && in, "open a plain file");
	is_str(ling_input_name(in), path.data, "its name is the path");
	is_int(ling_input_compression(in), LING_COMPRESSION_NONE, "plain file");
	is_int(ling_input_raw_size(in), text.len, "raw size is the file size");
	rc = slurp_lines(in, &got, &n, &err);
	ok(rc == 0 && n == 5000 && got.len == text.len && !memcmp(got.data, text.data, text.len), "plain file lines");
	is_int(ling_input_raw_offset(in), text.len, "raw offset at the end");
	ling_input_close(in);

	/* A name that says .gz means nothing: the magic decides. */
	gzip_mem(&comp, text.data, text.len);
	ling_buf_reset(&path);
	ling_buf_addf(&path, "%s/really-gzip.txt", tmpdir);
	write_file(path.data, comp.data, comp.len);
	ling_buf_reset(&got);
	rc = ling_input_open(&in, path.data, &err);
	is_int(ling_input_compression(in), LING_COMPRESSION_GZIP, "gzip file sniffed whatever its name");
	rc = slurp_lines(in, &got, &n, &err);
	ok(rc == 0 && got.len == text.len && !memcmp(got.data, text.data, text.len), "gzip file lines");
	ling_input_close(in);

	ling_buf_reset(&path);
	ling_buf_addf(&path, "%s/cut.nt.gz", tmpdir);
	write_file(path.data, comp.data, comp.len - 20);
	ling_buf_reset(&got);
	rc = ling_input_open(&in, path.data, &err);
	rc = slurp_lines(in, &got, &n, &err);
	is_int(rc, LING_EDATA, "truncated gzip file: LING_EDATA");
	is_str(err.file, path.data, "the error names the file");
	ling_input_close(in);

	ling_buf_reset(&comp);
	zstd_mem(&comp, text.data, text.len);
	ling_buf_reset(&path);
	ling_buf_addf(&path, "%s/data.nt.zst", tmpdir);
	write_file(path.data, comp.data, comp.len);
	ling_buf_reset(&got);
	rc = ling_input_open(&in, path.data, &err);
	is_int(ling_input_compression(in), LING_COMPRESSION_ZSTD, "zstd file");
	rc = slurp_lines(in, &got, &n, &err);
	ok(rc == 0 && got.len == text.len && !memcmp(got.data, text.data, text.len), "zstd file lines");
	ling_input_close(in);

	ling_buf_reset(&path);
	ling_buf_addf(&path, "%s/cut.nt.zst", tmpdir);
	write_file(path.data, comp.data, comp.len - 20);
	ling_buf_reset(&got);
	rc = ling_input_open(&in, path.data, &err);
	rc = slurp_lines(in, &got, &n, &err);
	is_int(rc, LING_EDATA, "truncated zstd file: LING_EDATA");
	ling_input_close(in);

	ling_buf_reset(&path);
	ling_buf_addf(&path, "%s/empty.nt", tmpdir);
	write_file(path.data, "", 0);
	rc = ling_input_open(&in, path.data, &err);
	ok(rc == 0, "open an empty file");
	ling_buf_reset(&got);
	rc = slurp_lines(in, &got, &n, &err);
	ok(rc == 0 && n == 0, "an empty file has no lines");
	ling_input_close(in);

	ling_buf_reset(&path);
	ling_buf_addf(&path, "%s/does-not-exist.nt", tmpdir);
	in = (struct ling_input *)&rc;
	rc = ling_input_open(&in, path.data, &err);
	is_int(rc, LING_EIO, "a missing file: LING_EIO");
	ok(in == NULL, "and *out is NULL");
	is_str(err.file, path.data, "the error names the path");
	rc = ling_input_open(&in, tmpdir, &err);
	is_int(rc, LING_EIO, "a directory: LING_EIO");
	ok(strstr(err.msg, "directory") != NULL, "the message says directory (%s)", err.msg);

	ling_input_close(NULL);
	ok(1, "ling_input_close(NULL) is a no-op");

	ling_buf_release(&text);
	ling_buf_release(&comp);
	ling_buf_release(&got);
	ling_buf_release(&path);
}

/* ---- ling_atomic_write ---- */

static int count_tmp_files(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".tmp."))
			n++;
	closedir(d);
	return n;
}

static void test_atomic_write(void)
{
	struct ling_buf path = LING_BUF_INIT, big = LING_BUF_INIT;
	struct ling_err err;
	struct stat sb;
	char *data;
	size_t len;
	int rc;

	ling_err_clear(&err);
	ling_buf_addf(&path, "%s/out.json", tmpdir);
	rc = ling_atomic_write(path.data, "{\"a\":1}\n", 8, &err);
	is_int(rc, 0, "atomic write of a new file");
	data = read_file(path.data, &len);
	ok(data && len == 8 && !memcmp(data, "{\"a\":1}\n", 8), "contents written");
	free(data);
	ok(stat(path.data, &sb) == 0 && (sb.st_mode & 0777) != 0, "the file exists");

	make_text(&big, 20000);
	rc = ling_atomic_write(path.data, big.data, big.len, &err);
	is_int(rc, 0, "atomic overwrite with %zu bytes", big.len);
	data = read_file(path.data, &len);
	ok(data && len == big.len && !memcmp(data, big.data, len), "the new contents replace the old");
	free(data);
	rc = ling_atomic_write(path.data, "", 0, &err);
	data = read_file(path.data, &len);
	ok(rc == 0 && data && len == 0, "atomic write of nothing gives an empty file");
	free(data);
	is_int(count_tmp_files(), 0, "no temporary files left behind");

	ling_buf_reset(&path);
	ling_buf_addf(&path, "%s/no/such/dir/out.json", tmpdir);
	rc = ling_atomic_write(path.data, "x", 1, &err);
	is_int(rc, LING_EIO, "a missing directory: LING_EIO");
	is_str(err.file, path.data, "the error names the path");
	ok(access(path.data, F_OK) != 0, "nothing was created");

	/* A target that is a directory: rename fails, the temporary file is removed. */
	ling_buf_reset(&path);
	ling_buf_addf(&path, "%s/adir", tmpdir);
	mkdir(path.data, 0755);
	ling_buf_addf(&path, "/inner");
	mkdir(path.data, 0755);
	ling_buf_truncate(&path, path.len - strlen("/inner"));
	rc = ling_atomic_write(path.data, "x", 1, &err);
	is_int(rc, LING_EIO, "writing over a non-empty directory: LING_EIO");
	is_int(count_tmp_files(), 0, "and the temporary file is cleaned up");
	ling_buf_addf(&path, "/inner");
	rmdir(path.data);
	ling_buf_truncate(&path, path.len - strlen("/inner"));
	rmdir(path.data);

	/* A relative path in the current directory. */
	{
		char cwd[PATH_MAX];

		if (getcwd(cwd, sizeof(cwd)) && chdir(tmpdir) == 0) {
			rc = ling_atomic_write("relative.txt", "rel", 3, &err);
			is_int(rc, 0, "atomic write of a relative name");
			data = read_file("relative.txt", &len);
			ok(data && len == 3 && !memcmp(data, "rel", 3), "relative contents");
			free(data);
			unlink("relative.txt");
			if (chdir(cwd) != 0)
				abort();
		}
	}

	ling_buf_reset(&path);
	ling_buf_addf(&path, "%s/out.json", tmpdir);
	unlink(path.data);
	ling_buf_release(&path);
	ling_buf_release(&big);
}

/* ling_fsync_dir / ling_fsync_parent and the directory chores of stores. */
static void test_dir_chores(void)
{
	struct ling_buf dir = LING_BUF_INIT, path = LING_BUF_INIT;
	struct ling_err err;

	ling_err_clear(&err);
	is_int(ling_fsync_dir(tmpdir, &err), 0, "fsync of a directory");
	ling_buf_addf(&dir, "%s/no/such/dir", tmpdir);
	is_int(ling_fsync_dir(dir.data, &err), LING_EIO, "fsync of a missing directory: LING_EIO");
	is_str(err.file, dir.data, "the error names the directory");
	ok(!strncmp(err.msg, "cannot open: ", 13), "and says it cannot open it (%s)", err.msg);
	ling_buf_addf(&dir, "/file");
	errno = 0;
	ok(ling_fsync_parent(dir.data) == -1 && errno == ENOENT, "fsync of a missing parent: -1, ENOENT");
	is_int(ling_fsync_parent("bare-name"), 0, "a bare name's parent is the current directory");
	is_int(ling_fsync_parent("/etc"), 0, "a name in the root: the root");

	ling_buf_reset(&dir);
	ling_buf_addf(&dir, "%s/store", tmpdir);
	is_int(ling_dir_is_foreign(dir.data, "CURRENT"), 0, "a missing directory is not foreign");
	mkdir(dir.data, 0755);
	is_int(ling_dir_is_foreign(dir.data, "CURRENT"), 0, "an empty directory is not foreign");
	ling_buf_addf(&path, "%s/notes.txt", dir.data);
	write_file(path.data, "12345", 5);
	is_int(ling_dir_is_foreign(dir.data, "CURRENT"), 1, "files without the marker: foreign");
	ling_buf_reset(&path);
	ling_buf_addf(&path, "%s/CURRENT", dir.data);
	write_file(path.data, "abc", 3);
	is_int(ling_dir_is_foreign(dir.data, "CURRENT"), 0, "with the marker: a store");
	ling_buf_reset(&path);
	ling_buf_addf(&path, "%s/tmp.1.sst", dir.data);
	write_file(path.data, "xy", 2);
	ok(ling_dir_bytes(dir.data) == 10, "dir_bytes sums the regular files (%llu)",
	   (unsigned long long)ling_dir_bytes(dir.data));
	ling_dir_remove_prefixed(dir.data, "tmp.");
	ok(access(path.data, F_OK) != 0, "remove_prefixed removes tmp.1.sst");
	ok(ling_dir_bytes(dir.data) == 8, "and nothing else");
	ok(ling_dir_bytes("/no/such/dir/at/all") == 0, "dir_bytes of a missing directory: 0");
	fixture_remove_tree(dir.data);
	ling_buf_release(&dir);
	ling_buf_release(&path);
}

/* ---- JSON Lines ---- */

struct pieces {
	struct ling_buf text; /* "path:type:at_end:value\n" per piece */
};

static void collect_piece(void *ctx, size_t path, enum ling_jsonl_piece_type type, int at_end, const char *s,
			  size_t n)
{
	struct pieces *p = ctx;

	ling_buf_addf(&p->text, "%zu:%d:%d:%zu:", path, (int)type, at_end, n);
	ling_buf_add(&p->text, s, n);
	ling_buf_addc(&p->text, '\n');
}

/* Sorts the pieces in b stably by their path number: the walk's order. */
static void group_by_path(struct ling_buf *b, size_t npaths)
{
	struct ling_buf out = LING_BUF_INIT;
	size_t p;

	for (p = 0; p < npaths; p++) {
		const char *s = b->data ? b->data : "", *end = s + b->len;

		while (s < end) {
			char *q;
			unsigned long path = strtoul(s, &q, 10);
			const char *t = q;
			size_t n;
			int colons = 0;

			/* "path:type:at_end:len:" then len bytes and "\n". */
			while (colons < 3)
				colons += *t++ == ':';
			n = (size_t)strtoul(t, &q, 10);
			t = q + 1 + n + 1;
			if (path == p)
				ling_buf_add(&out, s, (size_t)(t - s));
			s = t;
		}
	}
	ling_buf_reset(b);
	ling_buf_add(b, out.data ? out.data : "", out.len);
	ling_buf_release(&out);
}

/*
 * Scans line and, when jansson accepts it, walks it: a line the scanner takes
 * must be one jansson takes, with the same pieces, presence bits and root size.
 * @return 1 when they agree.
 */
static int scan_agrees(const struct ling_jsonl_paths *ps, size_t npaths, const char *line, size_t len, int *scanned)
{
	struct pieces a = { LING_BUF_INIT }, b = { LING_BUF_INIT };
	struct ling_buf scratch = LING_BUF_INIT;
	struct ling_err err;
	unsigned long present = 0, want_present = 0;
	size_t root_keys = 0, p;
	json_t *root = NULL;
	int agree = 1, parsed;

	*scanned = ling_jsonl_scan(ps, line, len, &scratch, collect_piece, &a, &present, &root_keys);
	parsed = ling_jsonl_parse(line, len, "t", 1, LING_JSONL_OBJECT, &root, &err) == 0;
	if (*scanned && !parsed)
		agree = 0;
	if (*scanned && parsed) {
		ling_jsonl_walk(root, ps, collect_piece, &b);
		group_by_path(&a.text, npaths);
		ling_buf_addc(&a.text, 0), ling_buf_addc(&b.text, 0);
		if (a.text.len != b.text.len || memcmp(a.text.data, b.text.data, a.text.len))
			agree = 0;
		for (p = 0; p < npaths; p++) {
			const char *k = p == 0 ? "messages" : p == 1 ? "tools" : p == 2 ? "text" : "id";

			if (json_object_get(root, k))
				want_present |= 1UL << p;
		}
		if (present != want_present || root_keys != json_object_size(root))
			agree = 0;
	}
	if (!agree)
		diag("disagree on: %.*s", (int)len, line);
	json_decref(root);
	ling_buf_release(&a.text);
	ling_buf_release(&b.text);
	ling_buf_release(&scratch);
	return agree;
}

static uint64_t jrng = 99;

static unsigned jrand(unsigned n)
{
	jrng = jrng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((jrng >> 33) % n);
}

static void random_string(struct ling_buf *b)
{
	static const char *const parts[] = { "a", "hello", " ", "\\n", "\\\"", "\\\\", "\\/", "\\u00e9", "\\u0041",
					     "\\ud83d\\ude00", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\\t",
					     "\\u0000", "\\ud800", "x\\u12", "\x01", "\xc3", "\\q" };
	int n = (int)jrand(4), i;

	ling_buf_addc(b, '"');
	for (i = 0; i < n; i++)
		ling_buf_adds(b, parts[jrand(jrand(3) ? 14 : 20)]);
	ling_buf_addc(b, '"');
}

static void random_value(struct ling_buf *b, int depth)
{
	static const char *const keys[] = { "messages", "content", "tool_calls", "function", "name", "tools",
					    "text", "id", "role", "x" };
	static const char *const nums[] = { "0", "-0", "12", "-7", "1.5", "123456789012345678", "1e5",
					    "1234567890123456789", "01", "-", "2.", "0.25" };
	unsigned t = depth > 4 ? jrand(4) : jrand(7);
	int n, i;

	switch (t) {
	case 0: random_string(b); break;
	case 1: ling_buf_adds(b, nums[jrand(jrand(3) ? 6 : 12)]); break;
	case 2: ling_buf_adds(b, jrand(2) ? "true" : jrand(2) ? "false" : "null"); break;
	case 3: random_string(b); break;
	case 4:
	case 5:
		ling_buf_addc(b, '{');
		n = (int)jrand(5);
		for (i = 0; i < n; i++) {
			if (i)
				ling_buf_adds(b, jrand(8) ? "," : " , ");
			ling_buf_addf(b, "\"%s\"%s", keys[jrand(10)], jrand(8) ? ":" : " : ");
			random_value(b, depth + 1);
		}
		ling_buf_addc(b, '}');
		break;
	default:
		ling_buf_addc(b, '[');
		n = (int)jrand(4);
		for (i = 0; i < n; i++) {
			if (i)
				ling_buf_addc(b, ',');
			random_value(b, depth + 1);
		}
		ling_buf_addc(b, ']');
		break;
	}
}

static void test_jsonl(void)
{
	static const char *const path_list[] = { "messages[].content", "tools[].function.name", "text", "id" };
	static const char *const cases[] = {
		"{\"text\":\"hello\"}",
		"  {\"text\" : \"a\\nb\\u00e9\\ud83d\\ude00\"}  ",
		"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"content\":[\"x\",{\"t\":\"y\"},3]}]}",
		"{\"messages\":{\"content\":\"not an array\"}}",
		"{\"tools\":[{\"function\":{\"name\":\"f\"}},{\"function\":[{\"name\":\"g\"}]},\"s\"]}",
		"{\"text\":[\"a\",[\"b\"],{\"c\":\"d\"},1,true,null]}",
		"{\"id\":-0,\"text\":5}",
		"{\"id\":{\"a\":\"nested\"}}",
		"{\"text\":\"x\",\"text\":\"y\"}",
		"{\"te\\u0078t\":\"x\"}",
		"{\"text\":\"nul\\u0000\"}",
		"{\"text\":\"lone \\ud800\"}",
		"{\"n\":1e400}",
		"{\"n\":12345678901234567890}",
		"{\"text\":\"a\"} x",
		"[1,2]",
		"{\"text\":\"caf\xe9\"}",
		"{\"text\":\"tab\there\"}",
		"{}",
		"{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
		"{\"a\":01}",
		"{\"a\":tru}",
		"{\"a\":1,}",
	};
	struct ling_jsonl_paths *ps = NULL;
	struct ling_input *in;
	struct ling_jsonl r;
	struct ling_buf b = LING_BUF_INIT;
	struct ling_err err;
	const char *line;
	const char *bad_paths[] = { "a..b" };
	size_t len, i;
	json_t *v;
	int agree = 1, scanned, nscanned = 0, nrandom = 0, rc;
	const char *data = "{\"a\":1}\r\n\n   \n{\"b\" : [1, 2]}\nnot json\n[3]\n";

	is_int(ling_jsonl_paths_new(&ps, path_list, 4, &err), 0, "paths compile");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		agree &= scan_agrees(ps, 4, cases[i], strlen(cases[i]), &scanned);
	ok(agree, "the scanner agrees with jansson on %zu hand-written lines", sizeof(cases) / sizeof(cases[0]));
	scan_agrees(ps, 4, cases[0], strlen(cases[0]), &scanned);
	ok(scanned, "a plain record is scanned");
	scan_agrees(ps, 4, cases[8], strlen(cases[8]), &scanned);
	ok(!scanned, "a repeated key is left to jansson");
	/* Random records, and the same with one byte changed: whatever the scanner takes, jansson takes alike. */
	for (i = 0; i < 20000; i++) {
		ling_buf_reset(&b);
		random_value(&b, 0);
		if (b.data[0] != '{')
			continue;
		if (i % 2) {
			size_t at = jrand((unsigned)b.len);
			static const char junk[] = "{}[]\",:\\ 0a-.e";

			b.data[at] = junk[jrand(sizeof(junk) - 1)];
		}
		agree &= scan_agrees(ps, 4, b.data, b.len, &scanned);
		nscanned += scanned;
		nrandom++;
	}
	ok(agree, "the scanner agrees with jansson on %d random lines (%d scanned)", nrandom, nscanned);
	ok(nscanned > nrandom / 4, "most random lines are scanned");
	ling_jsonl_paths_free(ps);
	is_int(ling_jsonl_paths_new(&ps, bad_paths, 1, &err), LING_EUSAGE, "an empty key is a bad path");

	ling_input_open_mem(&in, "mem.jsonl", data, strlen(data), &err);
	ling_jsonl_init(&r, in);
	is_int(ling_jsonl_next(&r, &line, &len, &err), 1, "first line");
	ok(r.line == 1 && len == 7, "line 1, its \\r removed");
	is_int(ling_jsonl_next(&r, &line, &len, &err), 1, "blank lines are skipped");
	is_int(r.line, 4, "but counted");
	rc = ling_jsonl_read(&r, LING_JSONL_OBJECT, &v, &err);
	ok(rc == LING_EDATA && err.line == 5 && !strcmp(err.file, "mem.jsonl") && strstr(err.msg, "bad JSON"),
	   "a bad line: LING_EDATA at mem.jsonl:5 (%s)", err.msg);
	rc = ling_jsonl_read(&r, LING_JSONL_OBJECT, &v, &err);
	ok(rc == LING_EDATA && err.line == 6 && strstr(err.msg, "object"), "an array where an object must be");
	is_int(ling_jsonl_read(&r, LING_JSONL_OBJECT, &v, &err), 0, "then the end");
	ling_input_close(in);

	line = "{\"b\" : [1, 2.5, \"\xc3\xa9\"], \"a\":{}}";
	is_int(ling_jsonl_parse(line, strlen(line), "x", 1, 0, &v, &err), 0, "parse");
	ling_buf_reset(&b);
	ling_jsonl_dump(v, &b, &err);
	is_str(b.data, "{\"b\":[1,2.5,\"\xc3\xa9\"],\"a\":{}}\n", "dump is compact, keeps key order and UTF-8");
	json_decref(v);
	ling_buf_release(&b);

	line = "{\"a\":{\"k\":1,\"k\":2}}";
	is_int(ling_jsonl_parse(line, strlen(line), "x", 1, LING_JSONL_OBJECT, &v, &err), 0,
	       "a repeated key is taken (the last wins)");
	json_decref(v);
	ok(ling_jsonl_parse(line, strlen(line), "x", 1, LING_JSONL_OBJECT | LING_JSONL_UNIQUE_KEYS, &v, &err) ==
		   LING_EDATA && strstr(err.msg, "duplicate"),
	   "with LING_JSONL_UNIQUE_KEYS it is an error (%s)", err.msg);
}

/* Runs fn in a child with fd closed first; @return the child's exit status. */
static int in_child(int closefd, int (*fn)(void))
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (closefd >= 0)
			close(closefd);
		_exit(fn());
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status); /* as a shell reports it */
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int child_stdout_closed(void)
{
	int closed = ling_stdio_init();
	struct ling_err err;

	ling_err_clear(&err);
	if (closed != LING_STDOUT_CLOSED || fcntl(1, F_GETFD) == -1)
		return 10;
	if (ling_stdio_require(closed, LING_STDIN_CLOSED, &err))
		return 11;
	if (ling_stdio_require(closed, LING_STDOUT_CLOSED, &err) != LING_EUSAGE)
		return 12;
	return strcmp(err.msg, "standard output is closed") ? 13 : 0;
}

static int child_write_full(void)
{
	static char block[100000];
	struct ling_err err;
	int fd = open("/dev/full", O_WRONLY);

	if (fd < 0)
		return 77;
	dup2(fd, 1);
	ling_err_clear(&err);
	memset(block, 'x', sizeof(block));
	/* A write that fails in the middle must be seen at the end even if the last flush is empty. */
	(void)ling_stdout_write(block, sizeof(block), &err);
	if (fwrite("x", 1, 1, stdout) != 1)
		return 20;
	return ling_stdout_finish(&err) == LING_EIO ? 0 : 21;
}

static int child_epipe(void)
{
	int fds[2];
	struct ling_err err;

	signal(SIGPIPE, SIG_IGN);
	if (pipe(fds))
		return 30;
	close(fds[0]);
	dup2(fds[1], 1);
	ling_err_clear(&err);
	(void)ling_stdout_write("x\n", 2, &err);
	(void)ling_stdout_finish(&err);
	return 31; /* not reached: EPIPE ends the process with 141 */
}

static void test_stdio(void)
{
	char a[PATH_MAX + 16], b[PATH_MAX + 16];
	int fd;

	snprintf(a, sizeof(a), "%s/same-a", tmpdir);
	snprintf(b, sizeof(b), "%s/same-b", tmpdir);
	write_file(a, "a", 1);
	write_file(b, "b", 1);
	ok(ling_same_file(a, a), "same_file: a path is itself");
	ok(!ling_same_file(a, b), "same_file: two files differ");
	ok(!ling_same_file(a, "/nonexistent/x"), "same_file: a missing path is not the same");
	fd = open(a, O_RDONLY);
	ok(ling_fd_is_file(fd, a) && !ling_fd_is_file(fd, b), "fd_is_file: the open file, not another");
	close(fd);
	is_int(in_child(1, child_stdout_closed), 0, "stdio_init: a closed stdout is reopened and reported");
	is_int(in_child(-1, child_write_full), 0, "stdout_finish: a failed write in the middle is an error at the end");
	is_int(in_child(-1, child_epipe), 141, "EPIPE ends quietly with 141 even when SIGPIPE is ignored");
}

int main(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/ling-test-common.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! cannot create a temporary directory: %s\n", strerror(errno));
		return 1;
	}
	test_err();
	test_buf();
	test_utf8();
	test_parse();
	test_input_mem_plain();
	test_input_long_lines();
	test_input_compressed();
	test_input_files();
	test_atomic_write();
	test_dir_chores();
	test_jsonl();
	test_stdio();
	fixture_remove_tree(tmpdir);
	return done_testing();
}
