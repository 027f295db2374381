/*
 * kg_value: literal values as tools show and compare them (kg.h has
 * the contract).
 *
 * A literal object of a relation is shown, and compared with an inverse
 * tool's argument, by its value under the relation's type rather than by its
 * lexical form, so that "01979"^^xsd:integer, "1979"^^xsd:integer and the
 * argument 1979 are one value. The canonical forms are chosen so that a
 * canonical value, written as JSON, is what Python's json.dumps writes for
 * it (numbers as repr() writes floats, without ".0"): a checker that parses
 * and re-serializes a sample's arguments gets the same text back.
 */
#include "kg.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

#define XSD "http://www.w3.org/2001/XMLSchema#"

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_digit((unsigned char)s[i]))
			return 0;
	return n > 0;
}

enum kg_value_type kg_value_type_of(const char *datatype, size_t n)
{
	static const char *const integers[] = { "integer", "int", "long", "short", "byte", "nonNegativeInteger",
						"positiveInteger", "nonPositiveInteger", "negativeInteger",
						"unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte" };
	static const char *const numbers[] = { "decimal", "double", "float" };
	size_t i, ns = strlen(XSD);
	const char *local;

	if (!datatype || n <= ns || memcmp(datatype, XSD, ns))
		return KG_VALUE_TEXT;
	local = datatype + ns;
	n -= ns;
	for (i = 0; i < sizeof(integers) / sizeof(integers[0]); i++)
		if (strlen(integers[i]) == n && !memcmp(local, integers[i], n))
			return KG_VALUE_INTEGER;
	for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
		if (strlen(numbers[i]) == n && !memcmp(local, numbers[i], n))
			return KG_VALUE_NUMBER;
	if (n == 4 && !memcmp(local, "date", 4))
		return KG_VALUE_DATE;
	if (n == 5 && !memcmp(local, "gYear", 5))
		return KG_VALUE_YEAR;
	return KG_VALUE_TEXT;
}

/* [+-]digits within int64 (plus_ok: a '+' may lead). @return 0 with *v, or -1. */
static int parse_int64(const char *s, size_t n, int plus_ok, int64_t *v)
{
	uint64_t x = 0, limit = (uint64_t)INT64_MAX;
	int neg = 0;
	size_t i = 0;

	if (n && (s[0] == '-' || (plus_ok && s[0] == '+'))) {
		neg = s[0] == '-';
		i = 1;
	}
	if (!all_digits(s + i, n - i))
		return -1;
	if (neg)
		limit++;
	for (; i < n; i++) {
		uint64_t d = (uint64_t)(s[i] - '0');

		if (x > (limit - d) / 10)
			return -1;
		x = 10 * x + d;
	}
	if (neg)
		*v = x == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)x;
	else
		*v = (int64_t)x;
	return 0;
}

/* The length of s without an XSD timezone (Z, +hh:mm, -hh:mm) at its end. */
static size_t without_timezone(const char *s, size_t n)
{
	if (n >= 1 && s[n - 1] == 'Z')
		return n - 1;
	if (n >= 6 && (s[n - 6] == '+' || s[n - 6] == '-') && is_digit((unsigned char)s[n - 5]) &&
	    is_digit((unsigned char)s[n - 4]) && s[n - 3] == ':' && is_digit((unsigned char)s[n - 2]) &&
	    is_digit((unsigned char)s[n - 1]))
		return n - 6;
	return n;
}

/* An XSD decimal, double or float in its usual syntax, finite (no INF or NaN), of any length. */
static int parse_number(const char *s, size_t n, double *v)
{
	char buf[128], *copy = buf, *end;
	size_t i = 0, digits = 0;
	int ok;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	for (; i < n && is_digit((unsigned char)s[i]); i++)
		digits++;
	if (i < n && s[i] == '.')
		for (i++; i < n && is_digit((unsigned char)s[i]); i++)
			digits++;
	if (!digits)
		return -1;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		if (++i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (!all_digits(s + i, n - i))
			return -1;
		i = n;
	}
	if (i != n)
		return -1;
	/* strtod needs a terminated string; long digit strings are valid JSON numbers too */
	if (n >= sizeof(buf))
		copy = xmalloc(n + 1);
	memcpy(copy, s, n);
	copy[n] = '\0';
	*v = strtod(copy, &end);
	ok = end == copy + n && isfinite(*v);
	if (copy != buf)
		free(copy);
	return ok ? 0 : -1;
}

/*
 * The shortest decimal digits that read back as d (as %.Ne rounds them),
 * written as Python's repr() writes floats: positional for exponents from
 * -4 to 15, else d.ddde+XX; an integral value without ".0".
 */
static void number_text(double d, struct ling_buf *out)
{
	char buf[64], digits[24];
	const char *e;
	int p, exp, nd = 0, i;

	if (d == 0) {
		ling_buf_addc(out, '0'); /* and -0 */
		return;
	}
	for (p = 1; p <= 17; p++) {
		snprintf(buf, sizeof(buf), "%.*e", p - 1, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	e = strchr(buf, 'e');
	for (i = buf[0] == '-'; buf + i < e; i++)
		if (is_digit((unsigned char)buf[i]))
			digits[nd++] = buf[i];
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	exp = (int)strtol(e + 1, NULL, 10);
	if (d < 0)
		ling_buf_addc(out, '-');
	if (exp >= -4 && exp < 16) {
		if (exp < 0) {
			ling_buf_adds(out, "0.");
			for (i = 0; i < -exp - 1; i++)
				ling_buf_addc(out, '0');
			ling_buf_add(out, digits, (size_t)nd);
			return;
		}
		for (i = 0; i <= exp; i++)
			ling_buf_addc(out, i < nd ? digits[i] : '0');
		if (nd > exp + 1) {
			ling_buf_addc(out, '.');
			ling_buf_add(out, digits + exp + 1, (size_t)(nd - exp - 1));
		}
		return;
	}
	ling_buf_addc(out, digits[0]);
	if (nd > 1) {
		ling_buf_addc(out, '.');
		ling_buf_add(out, digits + 1, (size_t)nd - 1);
	}
	ling_buf_addf(out, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
}

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* YYYY-MM-DD, a real day of the years 0001 to 9999 (what RFC 3339 full-date and Python's date accept). */
static int is_date(const char *s, size_t n)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d;

	if (n != 10 || !all_digits(s, 4) || s[4] != '-' || !all_digits(s + 5, 2) || s[7] != '-' || !all_digits(s + 8, 2))
		return 0;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1 || m < 1 || m > 12 || d < 1)
		return 0;
	return d <= days[m - 1] + (m == 2 && leap(y));
}

int kg_value_canonical(enum kg_value_type t, const char *lex, size_t n, struct ling_buf *out)
{
	int64_t i;
	double d;
	size_t k;

	switch (t) {
	case KG_VALUE_YEAR:
		/* gYear: -?YYYY+ with an optional timezone, which the value leaves out */
		k = without_timezone(lex, n);
		if ((k < n && k >= 4 && all_digits(lex + k - 4, 4) && !parse_int64(lex, k, 0, &i)) ||
		    !parse_int64(lex, n, 1, &i)) {
			ling_buf_addf(out, "%" PRId64, i);
			return 1;
		}
		break;
	case KG_VALUE_INTEGER:
		if (!parse_int64(lex, n, 1, &i)) {
			ling_buf_addf(out, "%" PRId64, i);
			return 1;
		}
		break;
	case KG_VALUE_NUMBER:
		if (!parse_number(lex, n, &d)) {
			number_text(d, out);
			return 1;
		}
		break;
	case KG_VALUE_DATE:
		k = without_timezone(lex, n);
		if (is_date(lex, k)) {
			ling_buf_add(out, lex, k);
			return 1;
		}
		break;
	case KG_VALUE_TEXT:
		ling_buf_add(out, lex, n);
		return 1;
	case KG_VALUE_ENTITY:
		break;
	}
	ling_buf_add(out, lex, n);
	return 0;
}

int kg_value_of_arg(enum kg_value_type t, int is_string, const char *s, size_t n, struct ling_buf *out)
{
	int64_t i;
	double d;

	switch (t) {
	case KG_VALUE_INTEGER:
	case KG_VALUE_YEAR:
		/* JSON integer syntax: no '+', no fraction or exponent */
		if (is_string || parse_int64(s, n, 0, &i))
			return -1;
		ling_buf_addf(out, "%" PRId64, i);
		return 0;
	case KG_VALUE_NUMBER:
		if (is_string || parse_number(s, n, &d))
			return -1;
		number_text(d, out);
		return 0;
	case KG_VALUE_DATE:
		if (!is_string || !is_date(s, n))
			return -1;
		ling_buf_add(out, s, n);
		return 0;
	case KG_VALUE_TEXT:
		if (!is_string)
			return -1;
		ling_buf_add(out, s, n);
		return 0;
	case KG_VALUE_ENTITY:
		break;
	}
	return -1;
}

int kg_value_is_canonical(enum kg_value_type t, const char *value, size_t n)
{
	struct ling_buf b = LING_BUF_INIT;
	int yes;

	yes = kg_value_canonical(t, value, n, &b) == 1 && b.len == n && !memcmp(b.data, value, n);
	ling_buf_release(&b);
	return yes;
}

const char *kg_value_type_name(enum kg_value_type t)
{
	switch (t) {
	case KG_VALUE_ENTITY: return "entity";
	case KG_VALUE_INTEGER: return "integer";
	case KG_VALUE_NUMBER: return "number";
	case KG_VALUE_DATE: return "date";
	case KG_VALUE_YEAR: return "year";
	case KG_VALUE_TEXT: return "text";
	}
	return "?";
}

int kg_value_is_ordered(enum kg_value_type t)
{
	return t == KG_VALUE_INTEGER || t == KG_VALUE_NUMBER || t == KG_VALUE_YEAR || t == KG_VALUE_DATE;
}

static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	return c ? c : (an > bn) - (an < bn);
}

int kg_value_cmp(enum kg_value_type t, const char *a, size_t an, const char *b, size_t bn)
{
	int ca = kg_value_is_canonical(t, a, an), cb = kg_value_is_canonical(t, b, bn);
	int64_t x, y;
	double u, v;

	if (ca != cb)
		return ca ? -1 : 1;
	if (!ca)
		return bytes_cmp(a, an, b, bn);
	switch (t) {
	case KG_VALUE_INTEGER:
	case KG_VALUE_YEAR:
		if (parse_int64(a, an, 0, &x) || parse_int64(b, bn, 0, &y))
			break;
		return (x > y) - (x < y);
	case KG_VALUE_NUMBER:
		if (parse_number(a, an, &u) || parse_number(b, bn, &v))
			break;
		return (u > v) - (u < v);
	default:
		break;
	}
	return bytes_cmp(a, an, b, bn);
}
