/*
 * ling_json: the JSON writer. The string escaper copies runs of bytes that
 * need no escape in one ling_buf_add, since most text has none: that is what
 * made synth_json_str faster than json_dumps.
 */
#include "ling_json.h"

#include "ling_utf8.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

/* ---- strings ---- */

static void add_u_escape(struct ling_buf *b, unsigned long unit, unsigned flags)
{
	const char *hex = (flags & LING_JSON_LOWER_HEX) ? "0123456789abcdef" : "0123456789ABCDEF";
	char esc[6] = { '\\', 'u', hex[(unit >> 12) & 15], hex[(unit >> 8) & 15], hex[(unit >> 4) & 15],
			hex[unit & 15] };

	ling_buf_add(b, esc, sizeof(esc));
}

/* The second character of the short escape of ASCII byte c in this dialect, or 0 for \u00XX. */
static char short_escape(unsigned char c, unsigned flags)
{
	if (c == '"' || c == '\\')
		return (char)c;
	if (c == '/')
		return '/';
	if (flags & LING_JSON_CONTROLS_AS_U)
		return 0;
	switch (c) {
	case '\b': return 'b';
	case '\f': return 'f';
	case '\n': return 'n';
	case '\r': return 'r';
	case '\t': return 't';
	default: return 0;
	}
}

/*
 * What each byte needs: 1 an escape in every dialect (controls, '"', '\\'),
 * 2 one with LING_JSON_ESCAPE_SLASH ('/'), 4 one with LING_JSON_ENSURE_ASCII
 * (bytes >= 0x80). One load and test per byte in the copying loop.
 */
static const unsigned char escape_need[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
};

/* Writes the non-ASCII sequence at s as \u escapes. @return the bytes it took (1 for an invalid byte). */
static size_t add_non_ascii(struct ling_buf *b, const char *s, size_t n, unsigned flags)
{
	unsigned long cp;
	size_t len = ling_utf8_decode(s, n, &cp);

	if (!len) {
		add_u_escape(b, 0xFFFD, flags);
		return 1;
	}
	if (cp >= 0x10000) {
		cp -= 0x10000;
		add_u_escape(b, 0xD800 + (cp >> 10), flags);
		add_u_escape(b, 0xDC00 + (cp & 0x3FF), flags);
	} else {
		add_u_escape(b, cp, flags);
	}
	return len;
}

void ling_json_add_str(struct ling_buf *b, const char *s, size_t n, unsigned flags)
{
	unsigned char mask = (unsigned char)(1 | ((flags & LING_JSON_ESCAPE_SLASH) ? 2 : 0) |
					     ((flags & LING_JSON_ENSURE_ASCII) ? 4 : 0));
	size_t i, run = 0;

	ling_buf_reserve(b, n + 2);
	b->data[b->len++] = '"';
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char second;

		if (!(escape_need[c] & mask))
			continue;
		ling_buf_add(b, s + run, i - run);
		if (c >= 0x80) {
			i += add_non_ascii(b, s + i, n - i, flags) - 1;
		} else if ((second = short_escape(c, flags))) {
			char esc[2] = { '\\', second };

			ling_buf_add(b, esc, 2);
		} else {
			add_u_escape(b, c, flags);
		}
		run = i + 1;
	}
	ling_buf_add(b, s + run, n - run);
	ling_buf_addc(b, '"');
}

void ling_json_add_strz(struct ling_buf *b, const char *s, unsigned flags)
{
	if (s)
		ling_json_add_str(b, s, strlen(s), flags);
	else
		ling_buf_adds(b, "null");
}

/* ---- numbers ---- */

void ling_json_add_int(struct ling_buf *b, int64_t v)
{
	ling_buf_addf(b, "%" PRId64, v);
}

void ling_json_add_uint(struct ling_buf *b, uint64_t v)
{
	ling_buf_addf(b, "%" PRIu64, v);
}

/* jansson's jsonp_dtostr: %.17g, made to read back as a real, exponent trimmed. */
static void add_real_jansson(struct ling_buf *b, double v)
{
	char buf[48];
	char *e;
	size_t len = (size_t)snprintf(buf, sizeof(buf), "%.17g", v);

	if (!strchr(buf, '.') && !strchr(buf, 'e')) {
		memcpy(buf + len, ".0", 3);
		len += 2;
	}
	if ((e = strchr(buf, 'e'))) {
		char *start = e + 1, *end = e + 2;

		if (*start == '-')
			start++;
		while (*end == '0')
			end++;
		memmove(start, end, strlen(end) + 1);
		len = strlen(buf);
	}
	ling_buf_add(b, buf, len);
}

/*
 * Python's float repr: the shortest digits that read back to the same
 * double, in fixed notation when the decimal exponent is in [-4, 16), else
 * as d.ddde+XX (Python/pystrtod.c, format_float_short with 'r').
 */
static void add_real_python(struct ling_buf *b, double v)
{
	char buf[40], digits[20];
	int prec, exp, nd = 0, i;
	const char *p;

	if (isnan(v) || isinf(v)) {
		ling_buf_adds(b, isnan(v) ? "NaN" : v < 0 ? "-Infinity" : "Infinity");
		return;
	}
	if (v == 0) {
		ling_buf_adds(b, signbit(v) ? "-0.0" : "0.0");
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	/* buf is [-]d[.ddd]e[+-]XX */
	p = buf;
	if (*p == '-') {
		ling_buf_addc(b, '-');
		p++;
	}
	for (; *p && *p != 'e'; p++)
		if (*p != '.')
			digits[nd++] = *p;
	exp = (int)strtol(p + 1, NULL, 10);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	if (exp >= -4 && exp < 16) {
		if (exp >= nd - 1) {
			ling_buf_add(b, digits, (size_t)nd);
			for (i = nd - 1; i < exp; i++)
				ling_buf_addc(b, '0');
			ling_buf_adds(b, ".0");
		} else if (exp >= 0) {
			ling_buf_add(b, digits, (size_t)exp + 1);
			ling_buf_addc(b, '.');
			ling_buf_add(b, digits + exp + 1, (size_t)(nd - exp - 1));
		} else {
			ling_buf_adds(b, "0.");
			for (i = -1; i > exp; i--)
				ling_buf_addc(b, '0');
			ling_buf_add(b, digits, (size_t)nd);
		}
	} else {
		ling_buf_addc(b, digits[0]);
		if (nd > 1) {
			ling_buf_addc(b, '.');
			ling_buf_add(b, digits + 1, (size_t)nd - 1);
		}
		ling_buf_addf(b, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
	}
}

void ling_json_add_real(struct ling_buf *b, double v, enum ling_json_real style)
{
	if (style == LING_JSON_REAL_PYTHON)
		add_real_python(b, v);
	else if (!isfinite(v))
		ling_buf_adds(b, "null");
	else
		add_real_jansson(b, v);
}

void ling_json_add_real_g(struct ling_buf *b, double v, int precision)
{
	if (!isfinite(v))
		ling_buf_adds(b, "null");
	else
		ling_buf_addf(b, "%.*g", precision, v);
}

/* ---- the writer ---- */

void ling_json_init(struct ling_json *w, struct ling_buf *out, unsigned flags)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
	w->flags = flags;
}

void ling_json_release(struct ling_json *w)
{
	free(w->open);
	w->open = NULL;
	w->open_cap = w->depth = 0;
}

static unsigned indent_of(const struct ling_json *w)
{
	return (w->flags >> 8) & 0x1F;
}

static void newline_indent(struct ling_json *w, size_t depth)
{
	size_t n = (size_t)indent_of(w) * depth;

	ling_buf_addc(w->out, '\n');
	ling_buf_reserve(w->out, n);
	memset(w->out->data + w->out->len, ' ', n);
	w->out->len += n;
	w->out->data[w->out->len] = '\0';
}

/* The separator before an item of the innermost container (or nothing after a key). */
static void before_item(struct ling_json *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (!w->depth)
		return;
	if (w->has_items)
		ling_buf_addc(w->out, ',');
	if (indent_of(w))
		newline_indent(w, w->depth);
	else if (w->has_items && (w->flags & LING_JSON_SPACED))
		ling_buf_addc(w->out, ' ');
	w->has_items = 1;
}

static void begin(struct ling_json *w, char bracket)
{
	before_item(w);
	w->open = xgrow(w->open, &w->open_cap, w->depth + 1, 1);
	w->open[w->depth++] = (unsigned char)bracket;
	w->has_items = 0;
	ling_buf_addc(w->out, bracket);
}

static void end(struct ling_json *w, char bracket)
{
	assert(w->depth && w->open[w->depth - 1] == (unsigned char)bracket && !w->after_key);
	w->depth--;
	if (w->has_items && indent_of(w))
		newline_indent(w, w->depth);
	ling_buf_addc(w->out, bracket == '{' ? '}' : ']');
	w->has_items = 1; /* this container was an item of its parent */
}

void ling_json_object_begin(struct ling_json *w)
{
	begin(w, '{');
}

void ling_json_object_end(struct ling_json *w)
{
	end(w, '{');
}

void ling_json_array_begin(struct ling_json *w)
{
	begin(w, '[');
}

void ling_json_array_end(struct ling_json *w)
{
	end(w, '[');
}

void ling_json_key(struct ling_json *w, const char *key, size_t n)
{
	assert(w->depth && w->open[w->depth - 1] == '{' && !w->after_key);
	before_item(w);
	ling_json_add_str(w->out, key, n, w->flags);
	ling_buf_adds(w->out, (w->flags & LING_JSON_SPACED) || indent_of(w) ? ": " : ":");
	w->after_key = 1;
}

void ling_json_keyz(struct ling_json *w, const char *key)
{
	ling_json_key(w, key, strlen(key));
}

void ling_json_str(struct ling_json *w, const char *s, size_t n)
{
	before_item(w);
	ling_json_add_str(w->out, s, n, w->flags);
}

void ling_json_strz(struct ling_json *w, const char *s)
{
	before_item(w);
	ling_json_add_strz(w->out, s, w->flags);
}

void ling_json_int(struct ling_json *w, int64_t v)
{
	before_item(w);
	ling_json_add_int(w->out, v);
}

void ling_json_uint(struct ling_json *w, uint64_t v)
{
	before_item(w);
	ling_json_add_uint(w->out, v);
}

void ling_json_real(struct ling_json *w, double v, enum ling_json_real style)
{
	before_item(w);
	ling_json_add_real(w->out, v, style);
}

void ling_json_bool(struct ling_json *w, int v)
{
	before_item(w);
	ling_buf_adds(w->out, v ? "true" : "false");
}

void ling_json_null(struct ling_json *w)
{
	before_item(w);
	ling_buf_adds(w->out, "null");
}

void ling_json_raw(struct ling_json *w, const char *json, size_t n)
{
	before_item(w);
	ling_buf_add(w->out, json, n);
}
