/* Format names, input defaults and the parser dispatcher: the layer above the syntax parsers. */
#include "kg_rdf_internal.h"

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
