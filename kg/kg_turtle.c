/*
 * kg_turtle: a streaming parser for RDF 1.1 Turtle (W3C Recommendation,
 * 25 February 2014), by recursive descent over the grammar of section 6.5.
 *
 * Input comes through a refillable window of the ling_input. Bytes are
 * validated as UTF-8 when they enter the window, so the scanners may decode
 * any byte before p->vend without checks; the window only ever holds the
 * unconsumed tail, because every token is copied out as it is scanned.
 *
 * Term strings live in p->strs, used as a stack: a term is pushed when it is
 * parsed and popped when the construct that needed it is done, so nested
 * blank node property lists and collections cost no allocation once the
 * buffers have grown. Terms refer to p->strs by offset since it may move.
 */
#include "kg_rdf_internal.h"
#include "../common/ling_mem.h"
#include "../common/ling_utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

#define RDF_NS "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define XSD_NS "http://www.w3.org/2001/XMLSchema#"

#ifndef KG_TURTLE_WINDOW
#define KG_TURTLE_WINDOW (256 * 1024)
#endif
/* Nested '[' and '(' recurse; a bound keeps hostile input from overflowing the C stack. */
#define MAX_DEPTH 1000

enum { CH_EOF = -1, CH_BAD = -2 };

enum name_kind { NAME_PREFIX, NAME_LOCAL, NAME_BNODE };

/* A term whose strings are in p->strs at the given offsets, or static (str, dt_str). */
struct tterm {
	enum kg_term_type type;
	const char *str;
	size_t off, len;
	const char *dt_str;
	size_t dt_off, dt_len; /* dt_len 0: no datatype (an IRI is never empty) */
	size_t lang_off, lang_len; /* lang_len 0: no language tag */
};

struct prefix {
	size_t name_off, name_len;
	size_t iri_off, iri_len;
	unsigned hash;
	int used;
};

struct turtle {
	struct ling_input *in;
	const struct kg_sink *sink;
	struct ling_err *err;

	/* The window: buf[pos, vend) is valid UTF-8, buf[vend, end) not checked yet. */
	char *buf;
	size_t cap, pos, vend, end;
	int eof, bad, io_rc;
	unsigned long long abs;        /* input offset of buf[0] */
	unsigned long long line_start; /* input offset of the current line */
	long line;

	struct ling_buf strs; /* the term stack */
	struct ling_buf tmp;  /* a raw IRI before resolution */
	struct ling_buf word; /* a prefix name or keyword */
	struct ling_buf base;
	int has_base;

	struct ling_buf pfx_strs;
	struct prefix *pfx;
	size_t pfx_cap, pfx_count;

	unsigned long long bnode_id;
	int depth;
	int syntax;     /* err holds a syntax error, from which a statement can recover */
	int in_string;  /* the quote of the string being scanned, or 0 */
	int in_long;    /* ... and whether it is a long string */
	int in_iri;
	int in_comment; /* stopped by bad UTF-8 in a comment */
	unsigned long long tok_abs, tok_line_start;
	long tok_line;
};

#define RDF_TERM(name) { KG_TERM_IRI, RDF_NS name, 0, sizeof(RDF_NS name) - 1, NULL, 0, 0, 0, 0 }
static const struct tterm rdf_type = RDF_TERM("type");
static const struct tterm rdf_first = RDF_TERM("first");
static const struct tterm rdf_rest = RDF_TERM("rest");
static const struct tterm rdf_nil = RDF_TERM("nil");

/* ---- the input window ---- */

/* Makes at least need validated bytes available at pos, unless the input ends, is bad or fails first. */
static void fill(struct turtle *p, size_t need)
{
	while (p->vend - p->pos < need) {
		ssize_t n;

		if (p->bad || p->io_rc)
			return;
		if (p->vend < p->end) {
			p->vend += ling_utf8_valid_prefix(p->buf + p->vend, p->end - p->vend);
			if (p->vend == p->end)
				continue;
			/* A sequence cut by the end of the window may yet be completed. */
			if (p->eof || p->end - p->vend >= 4) {
				p->bad = 1;
				return;
			}
		} else if (p->eof) {
			return;
		}
		if (p->pos > 0) {
			memmove(p->buf, p->buf + p->pos, p->end - p->pos);
			p->abs += p->pos;
			p->vend -= p->pos;
			p->end -= p->pos;
			p->pos = 0;
		}
		if (p->end == p->cap) {
			p->cap *= 2;
			p->buf = xrealloc(p->buf, p->cap);
		}
		n = ling_input_read(p->in, p->buf + p->end, p->cap - p->end, p->err);
		if (n < 0) {
			p->io_rc = (int)n;
			return;
		}
		if (n == 0)
			p->eof = 1;
		p->end += (size_t)n;
	}
}

static inline int peek_at(struct turtle *p, size_t k)
{
	if (p->pos + k < p->vend)
		return (unsigned char)p->buf[p->pos + k];
	fill(p, k + 1);
	if (p->pos + k < p->vend)
		return (unsigned char)p->buf[p->pos + k];
	return p->bad ? CH_BAD : CH_EOF;
}

static inline int peek(struct turtle *p)
{
	return peek_at(p, 0);
}

static void newline_at(struct turtle *p, size_t pos)
{
	p->line++;
	p->line_start = p->abs + pos + 1;
}

/* ---- errors ---- */

static void describe(struct turtle *p, char *out, size_t n)
{
	int c = peek(p);

	if (c == CH_EOF)
		snprintf(out, n, "end of input");
	else if (c == CH_BAD)
		snprintf(out, n, "invalid utf-8");
	else if (c < 0x20 || c == 0x7f)
		snprintf(out, n, "byte 0x%02x", (unsigned)c);
	else if (c < 0x80)
		snprintf(out, n, "'%c'", c);
	else {
		unsigned long cp;
		size_t len = ling_utf8_decode(p->buf + p->pos, p->vend - p->pos, &cp);

		snprintf(out, n, "'%.*s'", (int)len, p->buf + p->pos);
	}
}

static int vfail_at(struct turtle *p, unsigned long long at, long line, unsigned long long line_start,
		    const char *fmt, va_list ap) LING_PRINTF(5, 0);
static int vfail_at(struct turtle *p, unsigned long long at, long line, unsigned long long line_start,
		    const char *fmt, va_list ap)
{
	char msg[400];

	if (p->io_rc)
		return p->io_rc;
	if (p->bad && p->pos == p->vend) {
		snprintf(msg, sizeof(msg), "invalid utf-8");
		at = p->abs + p->pos;
		line = p->line;
		line_start = p->line_start;
	} else {
		vsnprintf(msg, sizeof(msg), fmt, ap);
	}
	p->syntax = 1;
	return ling_err_at(p->err, LING_EDATA, ling_input_name(p->in), line, (long)(at - line_start + 1),
			   "%s", msg);
}

/*
 * Records a syntax error at the current position. A read error that made the
 * input look short wins, and bad UTF-8 at the current position is named as such.
 * @return the code to pass up: LING_EDATA, or the read error.
 */
static int fail(struct turtle *p, const char *fmt, ...) LING_PRINTF(2, 3);
static int fail(struct turtle *p, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail_at(p, p->abs + p->pos, p->line, p->line_start, fmt, ap);
	va_end(ap);
	return rc;
}

/* Remembers where the current token starts, for errors that concern all of it. */
static void mark_token(struct turtle *p)
{
	p->tok_abs = p->abs + p->pos;
	p->tok_line = p->line;
	p->tok_line_start = p->line_start;
}

/* Like fail(), at the start of the token marked last. */
static int fail_token(struct turtle *p, const char *fmt, ...) LING_PRINTF(2, 3);
static int fail_token(struct turtle *p, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail_at(p, p->tok_abs, p->tok_line, p->tok_line_start, fmt, ap);
	va_end(ap);
	return rc;
}

static int fail_expected(struct turtle *p, const char *what)
{
	char found[32];

	describe(p, found, sizeof(found));
	return fail(p, "expected %s, found %s", what, found);
}

/* ---- character classes ---- */

static inline int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static inline int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int is_hex(int c)
{
	return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

static inline int hex_val(int c)
{
	return is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
}

static inline int is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* PN_CHARS_BASE [163s] */
static int is_pn_base(unsigned long c)
{
	return (c < 0x80 && is_alpha((int)c)) || (c >= 0xC0 && c <= 0xD6) || (c >= 0xD8 && c <= 0xF6) ||
	       (c >= 0xF8 && c <= 0x2FF) || (c >= 0x370 && c <= 0x37D) || (c >= 0x37F && c <= 0x1FFF) ||
	       (c >= 0x200C && c <= 0x200D) || (c >= 0x2070 && c <= 0x218F) || (c >= 0x2C00 && c <= 0x2FEF) ||
	       (c >= 0x3001 && c <= 0xD7FF) || (c >= 0xF900 && c <= 0xFDCF) || (c >= 0xFDF0 && c <= 0xFFFD) ||
	       (c >= 0x10000 && c <= 0xEFFFF);
}

/* PN_CHARS [166s], for code points past ASCII */
static int is_pn_chars_wide(unsigned long c)
{
	return is_pn_base(c) || c == 0xB7 || (c >= 0x300 && c <= 0x36F) || (c >= 0x203F && c <= 0x2040);
}

/* IRIREF [18] excludes these and the controls up to space. */
static int is_iri_excluded(unsigned long c)
{
	return c <= 0x20 || c == '<' || c == '>' || c == '"' || c == '{' || c == '}' || c == '|' ||
	       c == '^' || c == '`' || c == '\\';
}

static int is_local_esc(int c)
{
	return c > 0 && strchr("_~.-!$&'()*+,;=/?#@%", c) != NULL;
}

/*
 * Name characters that need no check after the first one: bit 1 for PN_PREFIX and
 * blank node labels (ASCII letters, digits, '_', '-'), bit 2 for PN_LOCAL (also ':').
 */
static const unsigned char plain_tab[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 0, 0, 0, 0, 0,
	0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 3,
	0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0,
};

/* ---- whitespace and comments ---- */

static void skip_ws(struct turtle *p)
{
	for (;;) {
		while (p->pos < p->vend) {
			char c = p->buf[p->pos];

			if (c == ' ' || c == '\t' || c == '\r') {
				p->pos++;
			} else if (c == '\n') {
				newline_at(p, p->pos);
				p->pos++;
			} else if (c == '#') {
				/* A comment runs to the end of the line [161s]. */
				for (;;) {
					const char *b = p->buf;

					while (p->pos < p->vend && b[p->pos] != '\n' && b[p->pos] != '\r')
						p->pos++;
					if (p->pos < p->vend)
						break;
					if (peek(p) < 0) {
						p->in_comment = p->bad;
						break;
					}
				}
			} else {
				return;
			}
		}
		fill(p, 1);
		if (p->pos >= p->vend)
			return;
	}
}

/* ---- terms on the stack ---- */

static void term_begin(struct turtle *p, struct tterm *t, enum kg_term_type type)
{
	memset(t, 0, sizeof(*t));
	t->type = type;
	t->off = p->strs.len;
}

static void term_end(struct turtle *p, struct tterm *t)
{
	t->len = p->strs.len - t->off;
}

static void add_u64(struct ling_buf *b, unsigned long long v)
{
	char d[24];
	size_t n = sizeof(d);

	do {
		d[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	ling_buf_add(b, d + n, sizeof(d) - n);
}

static void new_bnode(struct turtle *p, struct tterm *t)
{
	term_begin(p, t, KG_TERM_BNODE);
	ling_buf_addc(&p->strs, 'g');
	add_u64(&p->strs, ++p->bnode_id);
	term_end(p, t);
}

static void to_kg(const struct turtle *p, struct kg_term *k, const struct tterm *t)
{
	k->type = t->type;
	k->value = t->str ? t->str : p->strs.data + t->off;
	k->len = t->len;
	k->datatype = t->dt_str ? t->dt_str : t->dt_len ? p->strs.data + t->dt_off : NULL;
	k->datatype_len = t->dt_len;
	k->lang = t->lang_len ? p->strs.data + t->lang_off : NULL;
	k->lang_len = t->lang_len;
}

static int emit(struct turtle *p, const struct tterm *s, const struct tterm *pr, const struct tterm *o)
{
	struct kg_quad q;

	memset(&q, 0, sizeof(q));
	to_kg(p, &q.s, s);
	to_kg(p, &q.p, pr);
	to_kg(p, &q.o, o);
	q.g.type = KG_TERM_NONE;
	return p->sink->quad(p->sink->ctx, &q, p->err);
}

/* ---- prefixes: an open-addressing hash table ---- */

static unsigned hash_bytes(const char *s, size_t n)
{
	unsigned h = 2166136261u;

	while (n--)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static struct prefix *prefix_slot(struct turtle *p, const char *name, size_t len, unsigned h)
{
	size_t mask = p->pfx_cap - 1, i = h & mask;

	for (;; i = (i + 1) & mask) {
		struct prefix *e = &p->pfx[i];

		if (!e->used)
			return e;
		if (e->hash == h && e->name_len == len && !memcmp(p->pfx_strs.data + e->name_off, name, len))
			return e;
	}
}

static void prefix_set(struct turtle *p, const char *name, size_t len, const char *iri, size_t iri_len)
{
	unsigned h = hash_bytes(name, len);
	struct prefix *e;
	int fresh;

	if ((p->pfx_count + 1) * 2 > p->pfx_cap) {
		struct prefix *old = p->pfx;
		size_t old_cap = p->pfx_cap, i;

		p->pfx_cap = old_cap ? old_cap * 2 : 16;
		p->pfx = xcalloc(p->pfx_cap, sizeof(*p->pfx));
		for (i = 0; i < old_cap; i++) {
			const struct prefix *o = &old[i];

			if (o->used)
				*prefix_slot(p, p->pfx_strs.data + o->name_off, o->name_len, o->hash) = *o;
		}
		free(old);
	}
	e = prefix_slot(p, name, len, h);
	fresh = !e->used;
	if (fresh) {
		e->used = 1;
		e->hash = h;
		e->name_off = p->pfx_strs.len;
		e->name_len = len;
		ling_buf_add(&p->pfx_strs, name, len);
		p->pfx_count++;
	}
	/*
	 * A redefinition reuses the old IRI's room when it fits, so that files
	 * made by concatenating documents (each with its @prefix lines) do not
	 * grow pfx_strs without bound.
	 */
	if (!fresh && iri_len <= e->iri_len) {
		memcpy(p->pfx_strs.data + e->iri_off, iri, iri_len);
	} else {
		e->iri_off = p->pfx_strs.len;
		ling_buf_add(&p->pfx_strs, iri, iri_len);
	}
	e->iri_len = iri_len;
}

static const struct prefix *prefix_get(struct turtle *p, const char *name, size_t len)
{
	const struct prefix *e;

	if (!p->pfx_cap)
		return NULL;
	e = prefix_slot(p, name, len, hash_bytes(name, len));
	return e->used ? e : NULL;
}

/* ---- IRIs ---- */

/* Reads \uXXXX or \UXXXXXXXX (UCHAR [26]) at pos into *cp. */
static int read_uchar(struct turtle *p, unsigned long *cp)
{
	int c = peek_at(p, 1), n = c == 'u' ? 4 : 8, i;
	unsigned long v = 0;

	for (i = 0; i < n; i++) {
		int h = peek_at(p, 2 + (size_t)i);

		if (!is_hex(h)) {
			p->pos += 2 + (size_t)i;
			return fail(p, "invalid \\%c escape: expected %d hex digits", c, n);
		}
		v = v << 4 | (unsigned long)hex_val(h);
	}
	if (v >= 0xD800 && v <= 0xDFFF)
		return fail(p, "\\%c escape of a surrogate code point (U+%04lX)", c, v);
	if (v > 0x10FFFF)
		return fail(p, "\\%c escape beyond U+10FFFF", c);
	p->pos += 2 + (size_t)n;
	*cp = v;
	return 0;
}

/* Scans IRIREF [18] at '<' into p->tmp, escapes decoded. */
static int read_iriref(struct turtle *p)
{
	int rc;

	ling_buf_reset(&p->tmp);
	mark_token(p);
	p->pos++;
	p->in_iri = 1;
	for (;;) {
		size_t start = p->pos;
		int c;

		while (p->pos < p->vend && !is_iri_excluded((unsigned char)p->buf[p->pos]))
			p->pos++;
		ling_buf_add(&p->tmp, p->buf + start, p->pos - start);
		c = peek(p);
		if (c == '>') {
			p->pos++;
			break;
		} else if (c == '\\') {
			unsigned long cp;

			c = peek_at(p, 1);
			if (c != 'u' && c != 'U')
				return fail(p, "invalid escape in iri: only \\u and \\U are allowed");
			if ((rc = read_uchar(p, &cp)))
				return rc;
			if (is_iri_excluded(cp))
				return fail(p, "escape of a character not allowed in an iri (U+%04lX)", cp);
			ling_buf_add_utf8(&p->tmp, cp);
		} else if (c >= 0 && !is_iri_excluded((unsigned)c)) {
			continue; /* the window was refilled */
		} else if (c == CH_EOF || c == CH_BAD) {
			return fail_token(p, "unterminated iri");
		} else {
			return fail_expected(p, "'>' to end the iri");
		}
	}
	p->in_iri = 0;
	return 0;
}

/* Appends the IRI s resolved against the current base to out. */
static int resolve(struct turtle *p, struct ling_buf *out, const char *s, size_t n)
{
	if (kg_iri_is_absolute(s, n)) {
		ling_buf_add(out, s, n);
		return 0;
	}
	if (!p->has_base)
		return fail_token(p, "relative iri <%.*s> and no base iri", n > 200 ? 200 : (int)n, s);
	kg_iri_resolve(out, p->base.data, p->base.len, s, n);
	return 0;
}

static int parse_iriref(struct turtle *p, struct tterm *t)
{
	int rc;

	if ((rc = read_iriref(p)))
		return rc;
	term_begin(p, t, KG_TERM_IRI);
	if ((rc = resolve(p, &p->strs, p->tmp.data, p->tmp.len)))
		return rc;
	term_end(p, t);
	return 0;
}

/* ---- names ---- */

/*
 * Looks at the name character at pos + off.
 * @return its length in bytes (escapes included), 0 when it cannot be part of
 * the name here, or -1 for a malformed PLX [169s] escape.
 */
static int name_unit(struct turtle *p, size_t off, enum name_kind kind, int first)
{
	int c = peek_at(p, off);
	unsigned long cp;
	size_t len;

	if (c < 0)
		return 0;
	if (c < 0x80) {
		if (is_alpha(c))
			return 1;
		if (c == '_' || is_digit(c))
			return kind == NAME_PREFIX && first ? 0 : 1;
		if (c == '-')
			return first ? 0 : 1;
		if (kind != NAME_LOCAL)
			return 0;
		if (c == ':')
			return 1;
		if (c == '%')
			return is_hex(peek_at(p, off + 1)) && is_hex(peek_at(p, off + 2)) ? 3 : -1;
		if (c == '\\')
			return is_local_esc(peek_at(p, off + 1)) ? 2 : -1;
		return 0;
	}
	fill(p, off + 4);
	len = ling_utf8_decode(p->buf + p->pos + off, p->vend - p->pos - off, &cp);
	if (!len)
		return 0;
	if (first ? is_pn_base(cp) : is_pn_chars_wide(cp))
		return (int)len;
	return 0;
}

/*
 * Scans PN_PREFIX [167s], PN_LOCAL [168s] or a BLANK_NODE_LABEL [141s] after
 * "_:" onto out, with PN_LOCAL_ESC decoded. None of them may end in '.', so a
 * run of dots is taken only when a name character follows it.
 */
static int scan_name(struct turtle *p, struct ling_buf *out, enum name_kind kind)
{
	/* Past the first character, plain_tab's characters need no checks. */
	const unsigned char mask = kind == NAME_LOCAL ? 2 : 1;
	int first = 1;

	for (;;) {
		int n, c;

		if (!first) {
			size_t start = p->pos;

			while (p->pos < p->vend && (plain_tab[(unsigned char)p->buf[p->pos]] & mask))
				p->pos++;
			if (p->pos > start)
				ling_buf_add(out, p->buf + start, p->pos - start);
		}
		c = peek(p);
		if (c == '.' && !first) {
			size_t k = 1;

			while (peek_at(p, k) == '.')
				k++;
			if (!name_unit(p, k, kind, 0))
				return 0;
			ling_buf_add(out, p->buf + p->pos, k);
			p->pos += k;
			continue;
		}
		n = name_unit(p, 0, kind, first);
		if (n == 0)
			return 0;
		if (n < 0 && c == '%')
			return fail(p, "invalid percent escape in local name: expected two hex digits");
		if (n < 0)
			return fail(p, "invalid escape in local name (after '\\': one of _~.-!$&'()*+,;=/?#@%%)");
		if (c == '\\')
			ling_buf_addc(out, p->buf[p->pos + 1]);
		else
			ling_buf_add(out, p->buf + p->pos, (size_t)n);
		p->pos += (size_t)n;
		first = 0;
	}
}

/* Whether a prefixed name or keyword may start with c. */
static int starts_name(int c)
{
	return is_alpha(c) || c == ':' || c >= 0x80;
}

/*
 * Scans the PN_PREFIX of a prefixed name, or a keyword, into p->word.
 * @return 1 when a ':' follows (and is consumed), 0 when it does not.
 */
static int scan_word(struct turtle *p, int *rc)
{
	ling_buf_reset(&p->word);
	mark_token(p);
	*rc = scan_name(p, &p->word, NAME_PREFIX);
	if (*rc || peek(p) != ':')
		return 0;
	p->pos++;
	return 1;
}

/* The rest of a PNAME_LN [140s] or PNAME_NS [139s], after scan_word() found the ':'. */
static int parse_pname_rest(struct turtle *p, struct tterm *t)
{
	const struct prefix *e = prefix_get(p, p->word.data ? p->word.data : "", p->word.len);
	int rc;

	if (!e)
		return fail_token(p, "undefined prefix '%.*s:'", (int)(p->word.len > 100 ? 100 : p->word.len),
				  p->word.data ? p->word.data : "");
	term_begin(p, t, KG_TERM_IRI);
	ling_buf_add(&p->strs, p->pfx_strs.data + e->iri_off, e->iri_len);
	if ((rc = scan_name(p, &p->strs, NAME_LOCAL)))
		return rc;
	term_end(p, t);
	return 0;
}

static int is_keyword(const struct ling_buf *w, const char *kw)
{
	return w->len == strlen(kw) && !memcmp(w->data, kw, w->len);
}

static int bad_word(struct turtle *p)
{
	return fail_token(p, "unknown word '%.*s' (a prefixed name needs a ':')",
			  (int)(p->word.len > 100 ? 100 : p->word.len), p->word.data);
}

/* iri [135s] or, with allow_a, the keyword 'a' */
static int parse_iri(struct turtle *p, struct tterm *t, int allow_a, const char *what)
{
	int rc, c = peek(p);

	if (c == '<')
		return parse_iriref(p, t);
	if (!starts_name(c))
		return fail_expected(p, what);
	if (scan_word(p, &rc))
		return parse_pname_rest(p, t);
	if (rc)
		return rc;
	if (p->word.len == 1 && p->word.data[0] == 'a') {
		if (allow_a) {
			*t = rdf_type;
			return 0;
		}
		return fail_token(p, "'a' can only be a predicate");
	}
	if (is_keyword(&p->word, "true") || is_keyword(&p->word, "false"))
		return fail_token(p, "'%s' can only be an object", p->word.data);
	if (p->word.len)
		return bad_word(p);
	return fail_expected(p, what);
}

static int parse_bnode_label(struct turtle *p, struct tterm *t)
{
	int rc;

	if (peek_at(p, 1) != ':') {
		p->pos++;
		return fail_expected(p, "':' after '_' (a blank node label)");
	}
	p->pos += 2;
	term_begin(p, t, KG_TERM_BNODE);
	ling_buf_addc(&p->strs, 'b');
	if ((rc = scan_name(p, &p->strs, NAME_BNODE)))
		return rc;
	if (p->strs.len == t->off + 1)
		return fail_expected(p, "a blank node label after '_:'");
	term_end(p, t);
	return 0;
}

/* ---- literals ---- */

static int read_escape(struct turtle *p, struct ling_buf *out)
{
	int c = peek_at(p, 1), e = kg_echar(c);

	if (c == 'u' || c == 'U') {
		unsigned long cp;
		int rc = read_uchar(p, &cp);

		if (rc)
			return rc;
		ling_buf_add_utf8(out, cp);
		return 0;
	}
	if (e < 0) {
		p->pos++;
		return fail_expected(p, "an escape (one of tbnrf\"'\\ or u, U) after '\\'");
	}
	ling_buf_addc(out, (char)e);
	p->pos += 2;
	return 0;
}

/* STRING_LITERAL_QUOTE [22] and STRING_LITERAL_SINGLE_QUOTE [23], after the quote */
static int read_short_string(struct turtle *p, struct ling_buf *out, char q)
{
	int rc;

	for (;;) {
		size_t start = p->pos;
		int c;

		while (p->pos < p->vend) {
			char b = p->buf[p->pos];

			if (b == q || b == '\\' || b == '\n' || b == '\r')
				break;
			p->pos++;
		}
		ling_buf_add(out, p->buf + start, p->pos - start);
		c = peek(p);
		if (c == q) {
			p->pos++;
			return 0;
		}
		if (c == '\\') {
			if ((rc = read_escape(p, out)))
				return rc;
		} else if (c == '\n' || c == '\r') {
			return fail(p, "line break in a string (use \\n, or %c%c%c for a long string)",
				    q, q, q);
		} else if (c < 0) {
			return fail_token(p, "unterminated string");
		}
	}
}

/* STRING_LITERAL_LONG_QUOTE [25] and STRING_LITERAL_LONG_SINGLE_QUOTE [24], after the quotes */
static int read_long_string(struct turtle *p, struct ling_buf *out, char q)
{
	int rc;

	for (;;) {
		size_t start = p->pos;
		int c;

		while (p->pos < p->vend) {
			char b = p->buf[p->pos];

			if (b == q || b == '\\')
				break;
			if (b == '\n')
				newline_at(p, p->pos);
			p->pos++;
		}
		ling_buf_add(out, p->buf + start, p->pos - start);
		c = peek(p);
		if (c == q) {
			/* The first three quotes in a row close: the content cannot end in a quote. */
			if (peek_at(p, 1) == q && peek_at(p, 2) == q) {
				p->pos += 3;
				return 0;
			}
			ling_buf_addc(out, q);
			p->pos++;
		} else if (c == '\\') {
			if ((rc = read_escape(p, out)))
				return rc;
		} else if (c < 0) {
			return fail_token(p, "unterminated long string");
		}
	}
}

static int read_string(struct turtle *p, struct ling_buf *out)
{
	char q = p->buf[p->pos];
	int rc;

	mark_token(p);
	p->in_string = q;
	if (peek_at(p, 1) == q && peek_at(p, 2) == q) {
		p->in_long = 1;
		p->pos += 3;
		rc = read_long_string(p, out, q);
	} else {
		p->in_long = 0;
		p->pos++;
		rc = read_short_string(p, out, q);
	}
	if (!rc)
		p->in_string = 0;
	return rc;
}

/* RDFLiteral [128s]: a String, then LANGTAG [144s] or '^^' iri */
static int parse_rdf_literal(struct turtle *p, struct tterm *t)
{
	int rc;

	term_begin(p, t, KG_TERM_LITERAL);
	if ((rc = read_string(p, &p->strs)))
		return rc;
	term_end(p, t);
	skip_ws(p);
	if (peek(p) == '@') {
		int c;

		p->pos++;
		t->lang_off = p->strs.len;
		if (!is_alpha(peek(p)))
			return fail_expected(p, "a language tag after '@'");
		while (is_alpha(c = peek(p))) {
			ling_buf_addc(&p->strs, (char)c);
			p->pos++;
		}
		while (peek(p) == '-') {
			if (!is_alpha(c = peek_at(p, 1)) && !is_digit(c)) {
				p->pos++;
				return fail_expected(p, "a letter or digit after '-' in a language tag");
			}
			ling_buf_addc(&p->strs, '-');
			p->pos++;
			while (is_alpha(c = peek(p)) || is_digit(c)) {
				ling_buf_addc(&p->strs, (char)c);
				p->pos++;
			}
		}
		t->lang_len = p->strs.len - t->lang_off;
	} else if (peek(p) == '^' && peek_at(p, 1) == '^') {
		struct tterm dt;

		p->pos += 2;
		skip_ws(p);
		if ((rc = parse_iri(p, &dt, 0, "a datatype iri after '^^'")))
			return rc;
		t->dt_off = dt.off;
		t->dt_len = dt.len;
	}
	return 0;
}

/* Copies [0-9]* onto the term stack. @return whether there was any digit. */
static int digits(struct turtle *p)
{
	int any = 0, c;

	while (is_digit(c = peek(p))) {
		ling_buf_addc(&p->strs, (char)c);
		p->pos++;
		any = 1;
	}
	return any;
}

/* Whether an EXPONENT [154s] starts k bytes ahead. */
static int exponent_at(struct turtle *p, size_t k)
{
	int c = peek_at(p, k);

	if (c != 'e' && c != 'E')
		return 0;
	c = peek_at(p, k + 1);
	if (c == '+' || c == '-')
		c = peek_at(p, k + 2);
	return is_digit(c);
}

/* INTEGER [19], DECIMAL [20] and DOUBLE [21]; the lexical form is kept as written. */
static int parse_number(struct turtle *p, struct tterm *t)
{
	int c = peek(p), nint;
	const char *dt = XSD_NS "integer";

	term_begin(p, t, KG_TERM_LITERAL);
	if (c == '+' || c == '-') {
		ling_buf_addc(&p->strs, (char)c);
		p->pos++;
	}
	nint = digits(p);
	if (peek(p) == '.' && (is_digit(peek_at(p, 1)) || (nint && exponent_at(p, 1)))) {
		ling_buf_addc(&p->strs, '.');
		p->pos++;
		digits(p);
		dt = XSD_NS "decimal";
	} else if (!nint) {
		return fail_expected(p, "a digit in the number");
	}
	if (exponent_at(p, 0)) {
		ling_buf_addc(&p->strs, (char)peek(p));
		p->pos++;
		if ((c = peek(p)) == '+' || c == '-') {
			ling_buf_addc(&p->strs, (char)c);
			p->pos++;
		}
		digits(p);
		dt = XSD_NS "double";
	}
	term_end(p, t);
	t->dt_str = dt;
	t->dt_len = strlen(dt);
	return 0;
}

/* ---- the grammar ---- */

static int parse_object(struct turtle *p, const struct tterm *s, const struct tterm *pr);
static int parse_po_list(struct turtle *p, const struct tterm *s);

/* collection [15]: pushes the head (rdf:nil when empty) and emits the list's triples */
static int parse_collection(struct turtle *p, struct tterm *head)
{
	struct tterm cur, next;
	int rc;

	p->pos++;
	skip_ws(p);
	if (peek(p) == ')') {
		p->pos++;
		*head = rdf_nil;
		return 0;
	}
	if (++p->depth > MAX_DEPTH)
		return fail(p, "collections and blank nodes nested too deep (over %d)", MAX_DEPTH);
	new_bnode(p, head);
	cur = *head;
	for (;;) {
		if ((rc = parse_object(p, &cur, &rdf_first)))
			return rc;
		skip_ws(p);
		if (peek(p) == ')') {
			p->pos++;
			break;
		}
		if (peek(p) < 0)
			return fail(p, "unterminated collection: expected ')'");
		new_bnode(p, &next);
		if ((rc = emit(p, &cur, &rdf_rest, &next)))
			return rc;
		/* Keep only the head and the current node on the stack. */
		if (cur.off != head->off) {
			memmove(p->strs.data + cur.off, p->strs.data + next.off, next.len);
			ling_buf_truncate(&p->strs, cur.off + next.len);
			next.off = cur.off;
		}
		cur = next;
	}
	if ((rc = emit(p, &cur, &rdf_rest, &rdf_nil)))
		return rc;
	ling_buf_truncate(&p->strs, head->off + head->len);
	p->depth--;
	return 0;
}

/* '[' at pos: ANON [162s], or blankNodePropertyList [14] with its triples emitted */
static int parse_blank(struct turtle *p, struct tterm *t, int *plist)
{
	int rc;

	p->pos++;
	skip_ws(p);
	new_bnode(p, t);
	*plist = 0;
	if (peek(p) == ']') {
		p->pos++;
		return 0;
	}
	if (++p->depth > MAX_DEPTH)
		return fail(p, "collections and blank nodes nested too deep (over %d)", MAX_DEPTH);
	if ((rc = parse_po_list(p, t)))
		return rc;
	skip_ws(p);
	if (peek(p) != ']')
		return fail_expected(p, "']' to close the blank node property list");
	p->pos++;
	p->depth--;
	*plist = 1;
	return 0;
}

/* object [12]: pushes it, emits (s, pr, object), pops it */
static int parse_object(struct turtle *p, const struct tterm *s, const struct tterm *pr)
{
	size_t mark = p->strs.len;
	struct tterm o;
	int rc, plist, c = peek(p);

	switch (c) {
	case '<':
		rc = parse_iriref(p, &o);
		break;
	case '_':
		rc = parse_bnode_label(p, &o);
		break;
	case '[':
		rc = parse_blank(p, &o, &plist);
		break;
	case '(':
		rc = parse_collection(p, &o);
		break;
	case '"':
	case '\'':
		rc = parse_rdf_literal(p, &o);
		break;
	case '+':
	case '-':
	case '.':
	case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		if (c == '.' && !is_digit(peek_at(p, 1)))
			return fail_expected(p, "an object");
		rc = parse_number(p, &o);
		break;
	default:
		if (!starts_name(c))
			return fail_expected(p, "an object");
		if (scan_word(p, &rc)) {
			rc = parse_pname_rest(p, &o);
		} else if (!rc) {
			/* BooleanLiteral [133s] */
			const char *w = p->word.data;

			if (is_keyword(&p->word, "true") || is_keyword(&p->word, "false")) {
				term_begin(p, &o, KG_TERM_LITERAL);
				ling_buf_add(&p->strs, w, p->word.len);
				term_end(p, &o);
				o.dt_str = XSD_NS "boolean";
				o.dt_len = sizeof(XSD_NS "boolean") - 1;
			} else if (p->word.len == 1 && w[0] == 'a') {
				rc = fail_token(p, "'a' can only be a predicate");
			} else if (p->word.len) {
				rc = bad_word(p);
			} else {
				rc = fail_expected(p, "an object");
			}
		}
		break;
	}
	if (rc)
		return rc;
	if ((rc = emit(p, s, pr, &o)))
		return rc;
	ling_buf_truncate(&p->strs, mark);
	return 0;
}

/* objectList [8] */
static int parse_object_list(struct turtle *p, const struct tterm *s, const struct tterm *pr)
{
	int rc;

	for (;;) {
		skip_ws(p);
		if ((rc = parse_object(p, s, pr)))
			return rc;
		skip_ws(p);
		if (peek(p) != ',')
			return 0;
		p->pos++;
	}
}

/* predicateObjectList [7]; a trailing ';' is allowed */
static int parse_po_list(struct turtle *p, const struct tterm *s)
{
	int rc, c;

	for (;;) {
		size_t mark = p->strs.len;
		struct tterm pr;

		skip_ws(p);
		if (peek(p) == '_' || peek(p) == '[')
			return fail(p, "a blank node cannot be a predicate");
		if ((rc = parse_iri(p, &pr, 1, "a predicate")))
			return rc;
		if ((rc = parse_object_list(p, s, &pr)))
			return rc;
		ling_buf_truncate(&p->strs, mark);
		if (peek(p) != ';')
			return 0;
		while (peek(p) == ';') {
			p->pos++;
			skip_ws(p);
		}
		c = peek(p);
		if (c != '<' && !starts_name(c))
			return 0;
	}
}

/* triples [6] '.' */
static int parse_triples(struct turtle *p)
{
	struct tterm s;
	int rc, plist = 0, c = peek(p);

	switch (c) {
	case '<':
		rc = parse_iriref(p, &s);
		break;
	case '_':
		rc = parse_bnode_label(p, &s);
		break;
	case '[':
		rc = parse_blank(p, &s, &plist);
		break;
	case '(':
		rc = parse_collection(p, &s);
		break;
	default:
		rc = parse_iri(p, &s, 0, "a subject");
		break;
	}
	if (rc)
		return rc;
	skip_ws(p);
	if (!plist || peek(p) != '.') {
		if ((rc = parse_po_list(p, &s)))
			return rc;
		skip_ws(p);
	}
	if (peek(p) != '.')
		return fail_expected(p, "'.' to end the statement (or ';' or ',')");
	p->pos++;
	return 0;
}

/* prefixID [4] and sparqlPrefix [6s], after the keyword */
static int parse_prefix_decl(struct turtle *p, int dot)
{
	size_t mark = p->strs.len;
	int rc;

	skip_ws(p);
	ling_buf_reset(&p->word);
	if ((rc = scan_name(p, &p->word, NAME_PREFIX)))
		return rc;
	if (peek(p) != ':')
		return fail_expected(p, "a prefix name ending in ':'");
	p->pos++;
	skip_ws(p);
	if (peek(p) != '<')
		return fail_expected(p, "an iri in '<>' for the prefix");
	if ((rc = read_iriref(p)))
		return rc;
	if ((rc = resolve(p, &p->strs, p->tmp.data, p->tmp.len)))
		return rc;
	if (dot) {
		skip_ws(p);
		if (peek(p) != '.')
			return fail_expected(p, "'.' after @prefix");
		p->pos++;
	}
	prefix_set(p, p->word.data ? p->word.data : "", p->word.len, p->strs.data + mark, p->strs.len - mark);
	ling_buf_truncate(&p->strs, mark);
	return 0;
}

/* base [5] and sparqlBase [5s]; the new base resolves against the old one */
static int parse_base_decl(struct turtle *p, int dot)
{
	size_t mark = p->strs.len;
	int rc;

	skip_ws(p);
	if (peek(p) != '<')
		return fail_expected(p, "an iri in '<>' for the base");
	if ((rc = read_iriref(p)))
		return rc;
	if ((rc = resolve(p, &p->strs, p->tmp.data, p->tmp.len)))
		return rc;
	if (dot) {
		skip_ws(p);
		if (peek(p) != '.')
			return fail_expected(p, "'.' after @base");
		p->pos++;
	}
	ling_buf_reset(&p->base);
	ling_buf_add(&p->base, p->strs.data + mark, p->strs.len - mark);
	p->has_base = 1;
	ling_buf_truncate(&p->strs, mark);
	return 0;
}

/* Whether the case-insensitive keyword kw ("prefix", "base") starts at pos as a whole word. */
static int at_sparql_keyword(struct turtle *p, const char *kw)
{
	size_t i, n = strlen(kw);
	int c;

	for (i = 0; i < n; i++) {
		c = peek_at(p, i);
		if (c < 0 || (c | 0x20) != kw[i])
			return 0;
	}
	c = peek_at(p, n);
	return c == CH_EOF || is_ws(c) || c == '#' || (c == '<' && kw[0] == 'b');
}

/* statement [2] */
static int parse_statement(struct turtle *p)
{
	int c = peek(p);

	if (c == '@') {
		size_t n = 0;

		while (is_alpha(peek_at(p, 1 + n)))
			n++;
		if (n == 6 && !memcmp(p->buf + p->pos + 1, "prefix", 6)) {
			p->pos += 7;
			return parse_prefix_decl(p, 1);
		}
		if (n == 4 && !memcmp(p->buf + p->pos + 1, "base", 4)) {
			p->pos += 5;
			return parse_base_decl(p, 1);
		}
		return fail(p, "unknown directive '@%.*s' (expected @prefix or @base)",
			    (int)(n > 50 ? 50 : n), p->buf + p->pos + 1);
	}
	if ((c | 0x20) == 'p' && at_sparql_keyword(p, "prefix")) {
		p->pos += 6;
		return parse_prefix_decl(p, 0);
	}
	if ((c | 0x20) == 'b' && at_sparql_keyword(p, "base")) {
		p->pos += 4;
		return parse_base_decl(p, 0);
	}
	return parse_triples(p);
}

/* ---- recovery ---- */

/*
 * Skips the rest of a string, IRI or comment the error happened in, then up
 * to a '.' that ends a statement, unless the error was in a comment before
 * the statement (started says whether any of it was read).
 */
static void recover(struct turtle *p, int started)
{
	int q = p->in_string, lng = p->in_long, c;

	if (p->in_comment) {
		while ((c = peek(p)) != CH_EOF && c != '\n' && c != '\r') {
			if (c == CH_BAD) {
				p->bad = 0;
				p->vend = p->pos + 1;
			}
			p->pos++;
		}
		if (!started)
			return;
	}
	if (p->in_iri) {
		while ((c = peek(p)) >= 0 && c != '>' && c != '\n')
			p->pos++;
		if (c == '>')
			p->pos++;
	}
	for (;;) {
		if (q) {
			c = peek(p);
			if (c == q && (!lng || (peek_at(p, 1) == q && peek_at(p, 2) == q))) {
				p->pos += lng ? 3 : 1;
				q = 0;
			} else if (c == '\\') {
				p->pos += peek_at(p, 1) >= 0 ? 2 : 1;
			} else if (c == '\n' && !lng) {
				q = 0;
			} else if (c >= 0 || c == CH_BAD) {
				if (c == '\n')
					newline_at(p, p->pos);
				if (c == CH_BAD) {
					p->bad = 0;
					p->vend = p->pos + 1;
				}
				p->pos++;
			} else {
				return;
			}
			continue;
		}
		c = peek(p);
		switch (c) {
		case CH_EOF:
			return;
		case CH_BAD:
			/* Step over the bad byte and validate again after it. */
			p->bad = 0;
			p->pos++;
			p->vend = p->pos;
			break;
		case '\n':
			newline_at(p, p->pos);
			p->pos++;
			break;
		case '#':
			while ((c = peek(p)) >= 0 && c != '\n' && c != '\r')
				p->pos++;
			break;
		case '"':
		case '\'':
			q = c;
			lng = peek_at(p, 1) == q && peek_at(p, 2) == q;
			p->pos += lng ? 3 : 1;
			break;
		case '<':
			while ((c = peek(p)) >= 0 && c != '>' && c > 0x20)
				p->pos++;
			if (c == '>')
				p->pos++;
			break;
		case '.':
			c = peek_at(p, 1);
			p->pos++;
			if (c == CH_EOF || is_ws(c) || c == '#')
				return;
			break;
		default:
			p->pos++;
			break;
		}
	}
}

/* ---- the driver ---- */

int kg_parse_turtle(struct ling_input *in, const struct kg_parse_opts *opts, const struct kg_sink *sink,
		    struct ling_err *err)
{
	struct turtle p;
	int rc = 0;

	memset(&p, 0, sizeof(p));
	p.in = in;
	p.sink = sink;
	p.err = err;
	p.cap = KG_TURTLE_WINDOW;
	p.buf = xmalloc(p.cap);
	p.line = 1;
	ling_buf_reserve(&p.strs, 4096);
	if (opts && opts->base) {
		ling_buf_adds(&p.base, opts->base);
		p.has_base = 1;
	}
	ling_err_clear(err);

	for (;;) {
		unsigned long long start;

		skip_ws(&p);
		start = p.abs + p.pos;
		if (peek(&p) == CH_EOF) {
			rc = p.io_rc;
			goto out;
		}
		rc = parse_statement(&p);
		if (!rc) {
			if (sink->commit)
				sink->commit(sink->ctx);
			continue;
		}
		if (!p.syntax) {
			/* A read error or the sink's: no recovery, but drop the partial statement. */
			if (p.io_rc && sink->rollback)
				sink->rollback(sink->ctx);
			goto out;
		}
		p.syntax = 0;
		if (sink->rollback)
			sink->rollback(sink->ctx);
		if (!sink->error || sink->error(sink->ctx, err)) {
			rc = LING_EDATA;
			goto out;
		}
		ling_err_clear(err);
		rc = 0;
		recover(&p, p.abs + p.pos != start);
		p.in_string = p.in_long = p.in_iri = p.in_comment = 0;
		p.depth = 0;
		ling_buf_reset(&p.strs);
	}
out:
	free(p.buf);
	free(p.pfx);
	ling_buf_release(&p.strs);
	ling_buf_release(&p.tmp);
	ling_buf_release(&p.word);
	ling_buf_release(&p.base);
	ling_buf_release(&p.pfx_strs);
	return rc;
}
