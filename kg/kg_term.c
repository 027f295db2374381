/* Term helpers every syntax shares: ECHAR decoding and the N-Triples writer. */
#include "kg_rdf_internal.h"

#include "../common/ling_mem.h"

#include <string.h>

int kg_echar(int c)
{
	switch (c) {
	case 't': return '\t';
	case 'b': return '\b';
	case 'n': return '\n';
	case 'r': return '\r';
	case 'f': return '\f';
	case '"': return '"';
	case '\'': return '\'';
	case '\\': return '\\';
	default: return -1;
	}
}

/* Bytes that N-Triples output escapes: 1 in IRIs, 2 in literals, 3 in both. A table, not strchr():
 * the writer runs once per term on every dump and load. */
static unsigned char escape_class[256];

static void init_escape_class(void)
{
	const char *p;
	int c;

	for (c = 0; c < 0x20; c++)
		escape_class[c] = 3;
	for (p = " <>{}|^`"; *p; p++)
		escape_class[(unsigned char)*p] = 1;
	escape_class['"'] = escape_class['\\'] = 3;
	escape_class[0x7F] = 2;
}

static void write_escaped(struct ling_buf *out, const char *s, size_t n, unsigned char which)
{
	size_t i, run = 0;

	if (!escape_class[0])
		init_escape_class();
	ling_buf_reserve(out, n + 2);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;

		if (!(escape_class[c] & which))
			continue;
		ling_buf_add(out, s + run, i - run);
		run = i + 1;
		if (which == 2) {
			switch (c) {
			case '"': esc = "\\\""; break;
			case '\\': esc = "\\\\"; break;
			case '\n': esc = "\\n"; break;
			case '\r': esc = "\\r"; break;
			case '\t': esc = "\\t"; break;
			case '\b': esc = "\\b"; break;
			case '\f': esc = "\\f"; break;
			default: break;
			}
		}
		if (esc)
			ling_buf_adds(out, esc);
		else
			ling_buf_addf(out, "\\u%04X", c);
	}
	ling_buf_add(out, s + run, n - run);
}

static void write_escaped_iri(struct ling_buf *out, const char *s, size_t n)
{
	write_escaped(out, s, n, 1);
}

static void write_escaped_literal(struct ling_buf *out, const char *s, size_t n)
{
	write_escaped(out, s, n, 2);
}

void kg_term_write_nt(struct ling_buf *out, const struct kg_term *t)
{
	switch (t->type) {
	case KG_TERM_IRI:
		ling_buf_addc(out, '<');
		write_escaped_iri(out, t->value, t->len);
		ling_buf_addc(out, '>');
		break;
	case KG_TERM_BNODE:
		ling_buf_add(out, "_:", 2);
		ling_buf_add(out, t->value, t->len);
		break;
	case KG_TERM_LITERAL:
		ling_buf_addc(out, '"');
		write_escaped_literal(out, t->value, t->len);
		ling_buf_addc(out, '"');
		if (t->lang) {
			ling_buf_addc(out, '@');
			ling_buf_add(out, t->lang, t->lang_len);
		} else if (t->datatype) {
			ling_buf_add(out, "^^<", 3);
			write_escaped_iri(out, t->datatype, t->datatype_len);
			ling_buf_addc(out, '>');
		}
		break;
	default:
		break;
	}
}
