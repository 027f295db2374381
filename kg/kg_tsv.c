/*
 * Delimited triples: `subject<D>predicate<D>object` per line, as FB15k-237
 * (tab) and MetaQA (`|`) ship them. A field that is written <like-this> or
 * starts with a scheme is an IRI already; any other field becomes prefix +
 * field, percent-encoding what an IRI cannot hold. With tsv_labels, each
 * such entity also gets its field text as rdfs:label, which turns MetaQA's
 * name-keyed KB into a graph with labels.
 */
#include "kg_rdf_internal.h"

#include "../common/ling_mem.h"
#include "../common/ling_utf8.h"

#include <string.h>

#define RDFS_LABEL "http://www.w3.org/2000/01/rdf-schema#label"

struct tsv_field {
	const char *s;
	size_t n;
	int minted; /* the IRI was made from the field text */
};

static void mint_iri(struct ling_buf *out, const char *prefix, const struct tsv_field *f)
{
	size_t i;

	ling_buf_reset(out);
	ling_buf_adds(out, prefix);
	for (i = 0; i < f->n; i++) {
		unsigned char c = (unsigned char)f->s[i];

		if (c <= 0x20 || strchr("<>\"{}|^`\\%", c))
			ling_buf_addf(out, "%%%02X", c);
		else
			ling_buf_addc(out, (char)c);
	}
}

/* @return 1 when s holds none of the characters an IRI cannot (N-Triples IRIREF: controls, space, <>"{}|^`\). */
static int iri_chars_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || strchr("<>\"{}|^`\\", c))
			return 0;
	}
	return 1;
}

/* @return 0, -1 for a relative IRI in <...>, -2 for a character an IRI cannot hold in <...>. */
static int field_to_term(struct ling_buf *buf, const char *prefix, struct tsv_field *f, struct kg_term *t)
{
	memset(t, 0, sizeof(*t));
	t->type = KG_TERM_IRI;
	if (f->n >= 2 && f->s[0] == '<' && f->s[f->n - 1] == '>') {
		t->value = f->s + 1;
		t->len = f->n - 2;
		if (!kg_iri_is_absolute(t->value, t->len))
			return -1;
		return iri_chars_ok(t->value, t->len) ? 0 : -2;
	}
	/* A field that only looks like an IRI ("Title: a <b>") is a name: it gets minted. */
	if (kg_iri_is_absolute(f->s, f->n) && iri_chars_ok(f->s, f->n)) {
		t->value = f->s;
		t->len = f->n;
		return 0;
	}
	mint_iri(buf, prefix, f);
	f->minted = 1;
	t->value = buf->data;
	t->len = buf->len;
	return 0;
}

static int split_fields(const char *line, size_t len, char delim, struct tsv_field f[3])
{
	size_t start = 0, i, k = 0;

	if (len && line[len - 1] == '\r')
		len--;
	for (i = 0; i <= len; i++) {
		if (i < len && line[i] != delim)
			continue;
		if (k == 3)
			return -1;
		f[k].s = line + start;
		f[k].n = i - start;
		f[k].minted = 0;
		k++;
		start = i + 1;
	}
	return k == 3 ? 0 : -1;
}

static int emit_label(const struct kg_sink *sink, const struct kg_term *entity, const struct tsv_field *f,
		      struct ling_err *err)
{
	struct kg_quad q;

	memset(&q, 0, sizeof(q));
	q.s = *entity;
	q.p.type = KG_TERM_IRI;
	q.p.value = RDFS_LABEL;
	q.p.len = sizeof(RDFS_LABEL) - 1;
	q.o.type = KG_TERM_LITERAL;
	q.o.value = f->s;
	q.o.len = f->n;
	return sink->quad(sink->ctx, &q, err);
}

static int parse_tsv_line(const struct kg_parse_opts *opts, struct ling_buf bufs[3], const char *line, size_t len,
			  const struct kg_sink *sink, const char **why, struct ling_err *err)
{
	const char *prefix = opts->tsv_prefix ? opts->tsv_prefix : "urn:kg:";
	char delim = opts->delimiter ? opts->delimiter : '\t';
	struct tsv_field f[3];
	struct kg_quad q;
	int rc, i;

	if (ling_utf8_valid_prefix(line, len) < len)
		return *why = "invalid UTF-8", -1;
	if (split_fields(line, len, delim, f))
		return *why = "expected three fields (subject, predicate, object)", -1;
	for (i = 0; i < 3; i++)
		if (f[i].n == 0)
			return *why = "empty field", -1;
	memset(&q, 0, sizeof(q));
	if ((rc = field_to_term(&bufs[0], prefix, &f[0], &q.s)) || (rc = field_to_term(&bufs[1], prefix, &f[1], &q.p)) ||
	    (rc = field_to_term(&bufs[2], prefix, &f[2], &q.o)))
		return *why = rc == -1 ? "relative IRI in <...>" : "character not allowed in an IRI in <...>", -1;
	rc = sink->quad(sink->ctx, &q, err);
	if (rc || !opts->tsv_labels)
		return rc;
	if (f[0].minted && (rc = emit_label(sink, &q.s, &f[0], err)))
		return rc;
	if (f[2].minted && (rc = emit_label(sink, &q.o, &f[2], err)))
		return rc;
	return 0;
}

int kg_parse_tsv(struct ling_input *in, const struct kg_parse_opts *opts, const struct kg_sink *sink,
		 struct ling_err *err)
{
	struct ling_buf bufs[3] = { LING_BUF_INIT, LING_BUF_INIT, LING_BUF_INIT };
	const char *line;
	size_t len;
	long lineno = 0;
	int rc, i;

	while ((rc = ling_input_getline(in, &line, &len, err)) > 0) {
		const char *why = NULL;

		lineno++;
		if (len == 0 || (len == 1 && line[0] == '\r') || line[0] == '#')
			continue;
		rc = parse_tsv_line(opts, bufs, line, len, sink, &why, err);
		if (rc > 0 || (rc < 0 && !why))
			break;
		if (rc == 0) {
			if (sink->commit)
				sink->commit(sink->ctx);
			continue;
		}
		ling_err_at(err, LING_EDATA, ling_input_name(in), lineno, 1, "%s", why);
		if (sink->rollback)
			sink->rollback(sink->ctx);
		if (!sink->error || sink->error(sink->ctx, err)) {
			rc = LING_EDATA;
			break;
		}
		ling_err_clear(err);
		rc = 0;
	}
	for (i = 0; i < 3; i++)
		ling_buf_release(&bufs[i]);
	return rc < 0 ? rc : 0;
}
