/* Format names, the parser dispatcher and the N-Triples term writer. */
#include "kg_rdf.h"

#include "../common/ling_mem.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	enum kg_format format;
} format_names[] = {
	{ "ntriples", KG_FORMAT_NTRIPLES }, { "nt", KG_FORMAT_NTRIPLES }, { "n-triples", KG_FORMAT_NTRIPLES },
	{ "nquads", KG_FORMAT_NQUADS },     { "nq", KG_FORMAT_NQUADS },   { "n-quads", KG_FORMAT_NQUADS },
	{ "turtle", KG_FORMAT_TURTLE },     { "ttl", KG_FORMAT_TURTLE },
	{ "rdfxml", KG_FORMAT_RDFXML },     { "rdf", KG_FORMAT_RDFXML },  { "xml", KG_FORMAT_RDFXML },
	{ "owl", KG_FORMAT_RDFXML },        { "rdf/xml", KG_FORMAT_RDFXML },
	{ "tsv", KG_FORMAT_TSV },           { "txt", KG_FORMAT_TSV },
};

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

enum kg_format kg_format_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++)
		if (!strcasecmp(name, format_names[i].name))
			return format_names[i].format;
	return KG_FORMAT_AUTO;
}

enum kg_format kg_format_from_path(const char *path)
{
	const char *base = strrchr(path, '/');
	char ext[16];
	size_t n;
	const char *dot, *end;

	base = base ? base + 1 : path;
	end = base + strlen(base);
	/* Compression suffixes say nothing about the syntax. */
	if (end - base > 3 && !strcmp(end - 3, ".gz"))
		end -= 3;
	else if (end - base > 4 && !strcmp(end - 4, ".zst"))
		end -= 4;
	for (dot = end; dot > base && dot[-1] != '.'; dot--)
		;
	if (dot == base)
		return KG_FORMAT_AUTO;
	n = (size_t)(end - dot);
	if (n == 0 || n >= sizeof(ext))
		return KG_FORMAT_AUTO;
	memcpy(ext, dot, n);
	ext[n] = '\0';
	return kg_format_from_name(ext);
}

const char *kg_format_name(enum kg_format f)
{
	switch (f) {
	case KG_FORMAT_NTRIPLES: return "ntriples";
	case KG_FORMAT_NQUADS: return "nquads";
	case KG_FORMAT_TURTLE: return "turtle";
	case KG_FORMAT_RDFXML: return "rdfxml";
	case KG_FORMAT_TSV: return "tsv";
	default: return "auto";
	}
}

int kg_parse_opts_for_path(struct kg_parse_opts *opts, const char *path, struct ling_buf *base_buf,
			   struct ling_err *err)
{
	int is_stdin = !strcmp(path, "-");

	if (opts->format == KG_FORMAT_AUTO)
		opts->format = is_stdin ? KG_FORMAT_NTRIPLES : kg_format_from_path(path);
	if (opts->format == KG_FORMAT_AUTO)
		return ling_err_at(err, LING_EUSAGE, path, 0, 0, "cannot tell the format from the name (hint: --format)");
	if (!opts->base && !is_stdin) {
		char *abs = realpath(path, NULL);

		ling_buf_reset(base_buf);
		ling_buf_addf(base_buf, "file://%s", abs ? abs : path);
		free(abs);
		opts->base = base_buf->data;
	}
	return 0;
}

int kg_parse(struct ling_input *in, const struct kg_parse_opts *opts, const struct kg_sink *sink,
	     struct ling_err *err)
{
	switch (opts->format) {
	case KG_FORMAT_NTRIPLES:
		return kg_parse_ntriples(in, opts, sink, err, 0);
	case KG_FORMAT_NQUADS:
		return kg_parse_ntriples(in, opts, sink, err, 1);
	case KG_FORMAT_TURTLE:
		return kg_parse_turtle(in, opts, sink, err);
	case KG_FORMAT_RDFXML:
		return kg_parse_rdfxml(in, opts, sink, err);
	case KG_FORMAT_TSV:
		return kg_parse_tsv(in, opts, sink, err);
	default:
		return ling_err_at(err, LING_EUSAGE, ling_input_name(in), 0, 0,
				   "unknown format (hint: name it with --format)");
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
