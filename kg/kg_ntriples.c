/*
 * N-Triples and N-Quads (RDF 1.1), one statement per line, and delimited
 * triples (TSV) for datasets such as FB15k-237 and MetaQA.
 *
 * Hand-written rather than generated: this is the bulk-load hot path, and a
 * line-at-a-time scanner over a 256-entry class table, with unescaping only
 * when a backslash is present, is what lets us beat serdi (bench/run.sh).
 */
#include "kg_rdf_internal.h"


#include "../common/ling_mem.h"
#include "../common/ling_utf8.h"

#include <string.h>

#define XSD "http://www.w3.org/2001/XMLSchema#"

/* Characters IRIREF forbids: controls, space, <>"{}|^`\ (the backslash starts a UCHAR). */
static unsigned char iri_forbidden[256];
/* ASCII characters allowed inside a blank node label after the first. */
static unsigned char label_char[256];

static void init_tables(void)
{
	static int ready;
	const char *p;
	int c;

	if (ready)
		return;
	for (c = 0; c <= 0x20; c++)
		iri_forbidden[c] = 1;
	for (p = "<>\"{}|^`\\"; *p; p++)
		iri_forbidden[(unsigned char)*p] = 1;
	for (c = 0; c < 256; c++)
		label_char[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
				c == '_' || c == '-' || c == '.' || c >= 0x80;
	ready = 1;
}

struct nt_line {
	const char *s;   /* the line */
	size_t n;
	size_t pos;
	const char *err; /* message of the first error */
	size_t err_pos;
	/* Unescaped copies, one per term slot, reused across lines. */
	struct ling_buf *scratch;
};

static int fail_at(struct nt_line *l, size_t pos, const char *msg)
{
	if (!l->err) {
		l->err = msg;
		l->err_pos = pos;
	}
	return -1;
}

static void skip_ws(struct nt_line *l)
{
	while (l->pos < l->n && (l->s[l->pos] == ' ' || l->s[l->pos] == '\t'))
		l->pos++;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes \uXXXX or \UXXXXXXXX at l->pos (pointing at the 'u' or 'U'). */
static int read_uchar(struct nt_line *l, unsigned long *cp)
{
	size_t digits = l->s[l->pos] == 'u' ? 4 : 8, i;
	unsigned long v = 0;

	if (l->pos + digits >= l->n)
		return fail_at(l, l->pos, "incomplete \\u escape");
	for (i = 1; i <= digits; i++) {
		int h = hex_value(l->s[l->pos + i]);

		if (h < 0)
			return fail_at(l, l->pos + i, "bad hex digit in \\u escape");
		v = v * 16 + (unsigned long)h;
	}
	if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return fail_at(l, l->pos, "\\u escape is not a Unicode scalar value");
	l->pos += digits + 1;
	*cp = v;
	return 0;
}

/* IRIREF at l->pos ('<'). Sets *out and *len to the unescaped IRI. */
static int read_iri(struct nt_line *l, struct ling_buf *scratch, const char **out, size_t *len)
{
	size_t start = ++l->pos;
	int escaped = 0;

	while (l->pos < l->n && !iri_forbidden[(unsigned char)l->s[l->pos]])
		l->pos++;
	if (l->pos < l->n && l->s[l->pos] == '\\') {
		/* Slow path: decode UCHARs into scratch. */
		escaped = 1;
		ling_buf_reset(scratch);
		ling_buf_add(scratch, l->s + start, l->pos - start);
		while (l->pos < l->n && l->s[l->pos] != '>') {
			unsigned char c = (unsigned char)l->s[l->pos];
			unsigned long cp;

			if (c == '\\') {
				l->pos++;
				if (l->pos >= l->n || (l->s[l->pos] != 'u' && l->s[l->pos] != 'U'))
					return fail_at(l, l->pos - 1, "only \\u and \\U escapes are allowed in IRIs");
				if (read_uchar(l, &cp))
					return -1;
				if (cp <= 0x20 || (cp < 0x80 && strchr("<>\"{}|^`\\", (int)cp)))
					return fail_at(l, l->pos, "escaped character not allowed in an IRI");
				ling_buf_add_utf8(scratch, cp);
				continue;
			}
			if (iri_forbidden[c])
				return fail_at(l, l->pos, "character not allowed in an IRI");
			ling_buf_addc(scratch, (char)c);
			l->pos++;
		}
	}
	if (l->pos >= l->n || l->s[l->pos] != '>')
		return fail_at(l, l->pos, l->pos >= l->n ? "unterminated IRI" : "character not allowed in an IRI");
	if (escaped) {
		*out = scratch->data;
		*len = scratch->len;
	} else {
		*out = l->s + start;
		*len = l->pos - start;
	}
	l->pos++;
	if (!kg_iri_is_absolute(*out, *len))
		return fail_at(l, start - 1, "relative IRI (N-Triples needs absolute IRIs)");
	return 0;
}

static int pn_chars_u_cp(unsigned long c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
	       (c >= 0xC0 && c <= 0xD6) || (c >= 0xD8 && c <= 0xF6) || (c >= 0xF8 && c <= 0x2FF) ||
	       (c >= 0x370 && c <= 0x37D) || (c >= 0x37F && c <= 0x1FFF) || (c >= 0x200C && c <= 0x200D) ||
	       (c >= 0x2070 && c <= 0x218F) || (c >= 0x2C00 && c <= 0x2FEF) || (c >= 0x3001 && c <= 0xD7FF) ||
	       (c >= 0xF900 && c <= 0xFDCF) || (c >= 0xFDF0 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0xEFFFF);
}

static int pn_chars_cp(unsigned long c)
{
	return pn_chars_u_cp(c) || c == '-' || (c >= '0' && c <= '9') || c == 0xB7 ||
	       (c >= 0x300 && c <= 0x36F) || (c >= 0x203F && c <= 0x2040);
}

/* BLANK_NODE_LABEL at l->pos ('_'). Writes "b" + label into scratch. */
static int read_bnode(struct nt_line *l, struct ling_buf *scratch, const char **out, size_t *len)
{
	size_t start, end;
	unsigned long cp;
	size_t k;

	if (l->pos + 1 >= l->n || l->s[l->pos + 1] != ':')
		return fail_at(l, l->pos, "expected '_:' to start a blank node");
	l->pos += 2;
	start = l->pos;
	if (l->pos >= l->n)
		return fail_at(l, l->pos, "empty blank node label");
	k = ling_utf8_decode(l->s + l->pos, l->n - l->pos, &cp);
	if (!k || !(pn_chars_u_cp(cp) || (cp >= '0' && cp <= '9')))
		return fail_at(l, l->pos, "bad first character in blank node label");
	l->pos += k;
	while (l->pos < l->n && label_char[(unsigned char)l->s[l->pos]]) {
		k = ling_utf8_decode(l->s + l->pos, l->n - l->pos, &cp);
		if (!k || !(pn_chars_cp(cp) || cp == '.'))
			break;
		l->pos += k;
	}
	/* A label cannot end in '.': that dot ends the statement. */
	end = l->pos;
	while (end > start && l->s[end - 1] == '.')
		end--;
	l->pos = end;
	ling_buf_reset(scratch);
	ling_buf_addc(scratch, 'b');
	ling_buf_add(scratch, l->s + start, end - start);
	*out = scratch->data;
	*len = scratch->len;
	return 0;
}

/* STRING_LITERAL_QUOTE at l->pos ('"'), unescaped. */
static int read_string(struct nt_line *l, struct ling_buf *scratch, const char **out, size_t *len)
{
	size_t start = ++l->pos;
	const char *q;

	/* Fast path: no backslash before the closing quote. */
	q = memchr(l->s + start, '"', l->n - start);
	if (q && !memchr(l->s + start, '\\', (size_t)(q - (l->s + start)))) {
		const char *cr = memchr(l->s + start, '\r', (size_t)(q - (l->s + start)));

		if (cr)
			return fail_at(l, (size_t)(cr - l->s), "raw carriage return in a literal");
		*out = l->s + start;
		*len = (size_t)(q - (l->s + start));
		l->pos = (size_t)(q - l->s) + 1;
		return 0;
	}
	ling_buf_reset(scratch);
	while (l->pos < l->n && l->s[l->pos] != '"') {
		char c = l->s[l->pos];
		unsigned long cp;

		if (c == '\r')
			return fail_at(l, l->pos, "raw carriage return in a literal");
		if (c != '\\') {
			ling_buf_addc(scratch, c);
			l->pos++;
			continue;
		}
		if (++l->pos >= l->n)
			return fail_at(l, l->pos, "unterminated escape");
		if (l->s[l->pos] == 'u' || l->s[l->pos] == 'U') {
			if (read_uchar(l, &cp))
				return -1;
			ling_buf_add_utf8(scratch, cp);
			continue;
		}
		if (kg_echar(l->s[l->pos]) < 0)
			return fail_at(l, l->pos - 1, "unknown escape in a literal");
		ling_buf_addc(scratch, (char)kg_echar(l->s[l->pos]));
		l->pos++;
	}
	if (l->pos >= l->n)
		return fail_at(l, start - 1, "unterminated literal");
	l->pos++;
	*out = scratch->data ? scratch->data : "";
	*len = scratch->len;
	return 0;
}

static int read_langtag(struct nt_line *l, const char **out, size_t *len)
{
	size_t start = ++l->pos;
	size_t part = 0;

	for (;;) {
		char c = l->pos < l->n ? l->s[l->pos] : '\0';

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (part > 0 && c >= '0' && c <= '9')) {
			l->pos++;
			continue;
		}
		if (c == '-' && l->pos > start && l->s[l->pos - 1] != '-') {
			part++;
			l->pos++;
			continue;
		}
		break;
	}
	if (l->pos == start || l->s[l->pos - 1] == '-')
		return fail_at(l, start, "bad language tag");
	*out = l->s + start;
	*len = l->pos - start;
	return 0;
}

enum { SLOT_S, SLOT_P, SLOT_O, SLOT_G, SLOT_DT, SLOTS };
_Static_assert(SLOTS == KG_NT_SCRATCH, "kg_rdf_internal.h's KG_NT_SCRATCH");

static int read_subject(struct nt_line *l, struct kg_term *t)
{
	char c = l->pos < l->n ? l->s[l->pos] : '\0';

	if (c == '<') {
		t->type = KG_TERM_IRI;
		return read_iri(l, &l->scratch[SLOT_S], &t->value, &t->len);
	}
	if (c == '_') {
		t->type = KG_TERM_BNODE;
		return read_bnode(l, &l->scratch[SLOT_S], &t->value, &t->len);
	}
	return fail_at(l, l->pos, "expected an IRI or blank node as subject");
}

static int read_object(struct nt_line *l, struct kg_term *t)
{
	char c = l->pos < l->n ? l->s[l->pos] : '\0';

	memset(t, 0, sizeof(*t));
	if (c == '<') {
		t->type = KG_TERM_IRI;
		return read_iri(l, &l->scratch[SLOT_O], &t->value, &t->len);
	}
	if (c == '_') {
		t->type = KG_TERM_BNODE;
		return read_bnode(l, &l->scratch[SLOT_O], &t->value, &t->len);
	}
	if (c != '"')
		return fail_at(l, l->pos, "expected an IRI, blank node or literal as object");
	t->type = KG_TERM_LITERAL;
	if (read_string(l, &l->scratch[SLOT_O], &t->value, &t->len))
		return -1;
	if (l->pos < l->n && l->s[l->pos] == '@')
		return read_langtag(l, &t->lang, &t->lang_len);
	if (l->pos + 1 < l->n && l->s[l->pos] == '^' && l->s[l->pos + 1] == '^') {
		l->pos += 2;
		if (l->pos >= l->n || l->s[l->pos] != '<')
			return fail_at(l, l->pos, "expected a datatype IRI after '^^'");
		if (read_iri(l, &l->scratch[SLOT_DT], &t->datatype, &t->datatype_len))
			return -1;
		/* xsd:string is the default datatype: store it as a simple literal. */
		if (t->datatype_len == sizeof(XSD "string") - 1 && !memcmp(t->datatype, XSD "string", t->datatype_len))
			t->datatype = NULL, t->datatype_len = 0;
	}
	return 0;
}

/* Parses one line. @return 1 for a statement in q, 0 for a blank/comment line, -1 on error. */
static int parse_line(struct nt_line *l, struct kg_quad *q, int quads)
{
	size_t bad = ling_utf8_valid_prefix(l->s, l->n);

	if (bad < l->n)
		return fail_at(l, bad, "invalid UTF-8");
	skip_ws(l);
	if (l->pos >= l->n || l->s[l->pos] == '#' || (l->s[l->pos] == '\r' && l->pos + 1 == l->n))
		return 0;
	memset(q, 0, sizeof(*q));
	if (read_subject(l, &q->s))
		return -1;
	skip_ws(l);
	if (l->pos >= l->n || l->s[l->pos] != '<')
		return fail_at(l, l->pos, "expected an IRI as predicate");
	q->p.type = KG_TERM_IRI;
	if (read_iri(l, &l->scratch[SLOT_P], &q->p.value, &q->p.len))
		return -1;
	skip_ws(l);
	if (read_object(l, &q->o))
		return -1;
	skip_ws(l);
	if (quads && l->pos < l->n && (l->s[l->pos] == '<' || l->s[l->pos] == '_')) {
		int rc;

		if (l->s[l->pos] == '<') {
			q->g.type = KG_TERM_IRI;
			rc = read_iri(l, &l->scratch[SLOT_G], &q->g.value, &q->g.len);
		} else {
			q->g.type = KG_TERM_BNODE;
			rc = read_bnode(l, &l->scratch[SLOT_G], &q->g.value, &q->g.len);
		}
		if (rc)
			return -1;
		skip_ws(l);
	}
	if (l->pos >= l->n || l->s[l->pos] != '.')
		return fail_at(l, l->pos, quads ? "expected '.' (or a graph label) to end the statement"
					       : "expected '.' to end the triple");
	l->pos++;
	skip_ws(l);
	if (l->pos < l->n && l->s[l->pos] == '\r' && l->pos + 1 == l->n)
		l->pos++;
	if (l->pos < l->n && l->s[l->pos] != '#')
		return fail_at(l, l->pos, "unexpected text after '.'");
	return 1;
}

int kg_nt_term_parse(const char *s, size_t n, struct kg_term *t, struct ling_buf *storage, struct ling_err *err)
{
	struct ling_buf scratch[SLOTS];
	struct nt_line l;
	size_t value_off, dt_off = 0, lang_off = 0;
	int i, rc = 0;

	init_tables();
	for (i = 0; i < SLOTS; i++)
		ling_buf_init(&scratch[i]);
	memset(&l, 0, sizeof(l));
	l.s = s;
	l.n = n;
	l.scratch = scratch;
	if (ling_utf8_valid_prefix(s, n) < n || read_object(&l, t) || l.pos != n) {
		rc = ling_err_set(err, LING_EDATA, "not an N-Triples term: %.*s", (int)(n > 200 ? 200 : n), s);
		goto out;
	}
	/* The parser's blank node labels carry a "b"; a term read alone keeps its label as written. */
	if (t->type == KG_TERM_BNODE)
		t->value++, t->len--;
	/* Copy everything into storage first, then point into it: storage may move while it grows. */
	ling_buf_reset(storage);
	value_off = storage->len;
	ling_buf_add(storage, t->value, t->len);
	ling_buf_addc(storage, '\0');
	if (t->datatype) {
		dt_off = storage->len;
		ling_buf_add(storage, t->datatype, t->datatype_len);
		ling_buf_addc(storage, '\0');
	}
	if (t->lang) {
		lang_off = storage->len;
		ling_buf_add(storage, t->lang, t->lang_len);
		ling_buf_addc(storage, '\0');
	}
	t->value = storage->data + value_off;
	if (t->datatype)
		t->datatype = storage->data + dt_off;
	if (t->lang)
		t->lang = storage->data + lang_off;
out:
	for (i = 0; i < SLOTS; i++)
		ling_buf_release(&scratch[i]);
	return rc;
}

int kg_nq_parse_line(const char *s, size_t n, struct kg_quad *q, struct ling_buf scratch[KG_NT_SCRATCH],
		     struct ling_err *err)
{
	struct nt_line l;
	int rc;

	init_tables();
	memset(&l, 0, sizeof(l));
	l.s = s;
	l.n = n;
	l.scratch = scratch;
	rc = parse_line(&l, q, 1);
	if (rc < 0)
		return ling_err_at(err, LING_EDATA, NULL, 0, (long)l.err_pos + 1, "%s", l.err);
	return rc;
}

/* Reports a bad statement to the sink. @return 0 to go on, LING_EDATA to stop. */
static int report(const struct kg_sink *sink, struct ling_err *err)
{
	if (sink->rollback)
		sink->rollback(sink->ctx);
	if (sink->error && sink->error(sink->ctx, err) == 0) {
		ling_err_clear(err);
		return 0;
	}
	return LING_EDATA;
}

int kg_parse_ntriples(struct ling_input *in, const struct kg_parse_opts *opts, const struct kg_sink *sink,
		      struct ling_err *err, int quads)
{
	struct ling_buf scratch[SLOTS];
	struct nt_line l;
	const char *line;
	size_t len;
	long lineno = 0;
	int rc, i;

	(void)opts;
	init_tables();
	for (i = 0; i < SLOTS; i++)
		ling_buf_init(&scratch[i]);
	for (;;) {
		struct kg_quad q;

		rc = ling_input_getline(in, &line, &len, err);
		if (rc <= 0)
			break;
		lineno++;
		memset(&l, 0, sizeof(l));
		l.s = line;
		l.n = len;
		l.scratch = scratch;
		rc = parse_line(&l, &q, quads);
		if (rc < 0) {
			ling_err_at(err, LING_EDATA, ling_input_name(in), lineno, (long)l.err_pos + 1, "%s", l.err);
			rc = report(sink, err);
			if (rc)
				break;
			continue;
		}
		if (rc == 0)
			continue;
		rc = sink->quad(sink->ctx, &q, err);
		if (rc)
			break;
		if (sink->commit)
			sink->commit(sink->ctx);
	}
	if (rc < 0 && err->code && !err->line && err->code == LING_EDATA)
		err->line = lineno;
	for (i = 0; i < SLOTS; i++)
		ling_buf_release(&scratch[i]);
	return rc < 0 ? rc : 0;
}
