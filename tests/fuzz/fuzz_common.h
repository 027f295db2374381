/*
 * fuzz_common.h: the body every parser fuzz target shares (libFuzzer).
 *
 * A target defines FUZZ_FORMAT and includes this file. Each input is parsed
 * from memory with kg_parse (base "http://example.org/base/"); inputs whose
 * first byte is even ask the sink to recover from bad statements, odd ones to
 * stop at the first. Every quad is checked against the contract of kg_parse (kg/kg.h) and
 * written with kg_term_write_nt, and anything that breaks the contract calls
 * abort() so libFuzzer records it as a crash:
 *   - term types fit their slots (subject IRI or blank node, predicate IRI, ...);
 *   - every term string (value, datatype, language tag) is valid UTF-8;
 *   - IRIs are absolute, since a base IRI is given;
 *   - the N-Triples written for the quad is valid UTF-8;
 *   - a failed parse returns a negative code with err set to it.
 * With LING_FUZZ_STRICT=1 in the environment, each committed statement's
 * N-Triples is also parsed back as N-Quads and must give the same text.
 */
#ifndef LING_FUZZ_COMMON_H
#define LING_FUZZ_COMMON_H

#include "common/ling_err.h"
#include "common/ling_input.h"
#include "common/ling_mem.h"
#include "common/ling_utf8.h"
#include "kg/kg.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_BASE "http://example.org/base/"
/* Committed N-Triples kept before the buffer is emptied, to bound memory. */
#define FUZZ_OUT_MAX (1 << 20)

struct fuzz_sink {
	struct ling_buf pending; /* the current statement */
	struct ling_buf out;     /* committed statements */
	int recover;
	int strict;
	unsigned long quads, commits, rollbacks, errors;
};

static void fuzz_fail(const char *what, const struct kg_term *t)
{
	fprintf(stderr, "fuzz: contract violation: %s", what);
	if (t && t->value)
		fprintf(stderr, " (term type %d, %zu bytes)", (int)t->type, t->len);
	fprintf(stderr, "\n");
	abort();
}

static void fuzz_check_str(const char *s, size_t n, const char *what, const struct kg_term *t)
{
	if (n && !s)
		fuzz_fail("a term string is NULL with a non-zero length", t);
	if (n && ling_utf8_valid_prefix(s, n) != n)
		fuzz_fail(what, t);
}

static void fuzz_check_term(const struct kg_term *t, int slot)
{
	switch (t->type) {
	case KG_TERM_NONE:
		if (slot != 3)
			fuzz_fail("an empty term outside the graph slot", t);
		return;
	case KG_TERM_IRI:
		fuzz_check_str(t->value, t->len, "an IRI is not valid UTF-8", t);
		if (!kg_iri_is_absolute(t->value, t->len))
			fuzz_fail("a relative IRI reached the sink", t);
		break;
	case KG_TERM_BNODE:
		if (slot == 1)
			fuzz_fail("a blank node as predicate", t);
		if (t->len == 0)
			fuzz_fail("an empty blank node label", t);
		fuzz_check_str(t->value, t->len, "a blank node label is not valid UTF-8", t);
		break;
	case KG_TERM_LITERAL:
		if (slot != 2)
			fuzz_fail("a literal outside the object slot", t);
		fuzz_check_str(t->value, t->len, "a literal is not valid UTF-8", t);
		if (t->datatype) {
			fuzz_check_str(t->datatype, t->datatype_len, "a datatype IRI is not valid UTF-8", t);
			if (!kg_iri_is_absolute(t->datatype, t->datatype_len))
				fuzz_fail("a relative datatype IRI reached the sink", t);
		}
		if (t->lang)
			fuzz_check_str(t->lang, t->lang_len, "a language tag is not valid UTF-8", t);
		break;
	default:
		fuzz_fail("an unknown term type", t);
	}
}

static int fuzz_quad(void *ctx, const struct kg_quad *q, struct ling_err *err)
{
	struct fuzz_sink *f = ctx;
	size_t start = f->pending.len;

	(void)err;
	fuzz_check_term(&q->s, 0);
	fuzz_check_term(&q->p, 1);
	fuzz_check_term(&q->o, 2);
	fuzz_check_term(&q->g, 3);
	if (q->s.type == KG_TERM_NONE || q->p.type != KG_TERM_IRI || q->o.type == KG_TERM_NONE)
		fuzz_fail("a quad with a missing or misplaced term", NULL);
	kg_term_write_nt(&f->pending, &q->s);
	ling_buf_addc(&f->pending, ' ');
	kg_term_write_nt(&f->pending, &q->p);
	ling_buf_addc(&f->pending, ' ');
	kg_term_write_nt(&f->pending, &q->o);
	if (q->g.type != KG_TERM_NONE) {
		ling_buf_addc(&f->pending, ' ');
		kg_term_write_nt(&f->pending, &q->g);
	}
	ling_buf_adds(&f->pending, " .\n");
	if (ling_utf8_valid_prefix(f->pending.data + start, f->pending.len - start) != f->pending.len - start)
		fuzz_fail("kg_term_write_nt wrote invalid UTF-8", NULL);
	f->quads++;
	return 0;
}

/* Writes t as N-Triples; a blank node read back from N-Triples loses the "b" its parser put in front. */
static void rt_term(struct ling_buf *b, const struct kg_term *t)
{
	struct kg_term u = *t;

	if (u.type == KG_TERM_BNODE && u.len > 0 && u.value[0] == 'b') {
		u.value++;
		u.len--;
	}
	kg_term_write_nt(b, &u);
}

/* Parses the statement's N-Triples back as N-Quads; it must give the same text. */
static int rt_quad(void *ctx, const struct kg_quad *q, struct ling_err *err)
{
	struct ling_buf *b = ctx;

	(void)err;
	rt_term(b, &q->s);
	ling_buf_addc(b, ' ');
	rt_term(b, &q->p);
	ling_buf_addc(b, ' ');
	rt_term(b, &q->o);
	if (q->g.type != KG_TERM_NONE) {
		ling_buf_addc(b, ' ');
		rt_term(b, &q->g);
	}
	ling_buf_adds(b, " .\n");
	return 0;
}

static void fuzz_roundtrip(const struct ling_buf *nt)
{
	struct ling_buf again = LING_BUF_INIT;
	struct kg_sink sink = { &again, rt_quad, NULL, NULL, NULL };
	struct kg_parse_opts opts;
	struct ling_input *in;
	struct ling_err err;
	int rc;

	memset(&opts, 0, sizeof(opts));
	opts.format = KG_FORMAT_NQUADS;
	ling_err_clear(&err);
	if (ling_input_open_mem(&in, "roundtrip", nt->data, nt->len, &err))
		abort();
	rc = kg_parse(in, &opts, &sink, &err);
	ling_input_close(in);
	if (rc || again.len != nt->len || memcmp(again.data, nt->data, nt->len)) {
		fprintf(stderr, "fuzz: N-Triples round trip failed (rc %d: %s)\n--- written\n%.*s--- read back\n%.*s",
			rc, err.msg, (int)nt->len, nt->data, (int)again.len, again.data ? again.data : "");
		abort();
	}
	ling_buf_release(&again);
}

static void fuzz_commit(void *ctx)
{
	struct fuzz_sink *f = ctx;

	if (f->strict && f->pending.len)
		fuzz_roundtrip(&f->pending);
	if (f->out.len > FUZZ_OUT_MAX)
		ling_buf_reset(&f->out);
	if (f->pending.len)
		ling_buf_add(&f->out, f->pending.data, f->pending.len);
	ling_buf_reset(&f->pending);
	f->commits++;
}

static void fuzz_rollback(void *ctx)
{
	struct fuzz_sink *f = ctx;

	ling_buf_reset(&f->pending);
	f->rollbacks++;
}

static int fuzz_error(void *ctx, const struct ling_err *err)
{
	struct fuzz_sink *f = ctx;

	if (err->code >= 0)
		fuzz_fail("sink->error called without an error code", NULL);
	if (f->pending.len)
		fuzz_fail("sink->error called with quads not rolled back", NULL);
	f->errors++;
	return f->recover ? 0 : 1;
}

static int fuzz_parse(enum kg_format format, const uint8_t *data, size_t size)
{
	static int strict = -1;
	struct fuzz_sink f;
	struct kg_sink sink = { &f, fuzz_quad, fuzz_commit, fuzz_rollback, fuzz_error };
	struct kg_parse_opts opts;
	struct ling_input *in;
	struct ling_err err;
	int rc;

	if (strict < 0) {
		const char *s = getenv("LING_FUZZ_STRICT");

		strict = s && *s && *s != '0';
	}
	memset(&f, 0, sizeof(f));
	f.recover = size > 0 && (data[0] & 1) == 0;
	f.strict = strict;
	memset(&opts, 0, sizeof(opts));
	opts.format = format;
	opts.base = FUZZ_BASE;
	if (format == KG_FORMAT_TSV && size > 0) {
		/* The first byte also picks the TSV options. */
		opts.tsv_labels = (data[0] & 2) != 0;
		opts.delimiter = (data[0] & 4) ? '|' : 0;
		opts.tsv_prefix = (data[0] & 8) ? "http://example.org/e/" : NULL;
	}
	ling_err_clear(&err);
	rc = ling_input_open_mem(&in, "fuzz", data, size, &err);
	if (rc) {
		if (err.code != rc)
			fuzz_fail("ling_input_open_mem failed without setting err", NULL);
		return 0;
	}
	rc = kg_parse(in, &opts, &sink, &err);
	ling_input_close(in);
	if (rc > 0)
		fuzz_fail("kg_parse returned a positive value", NULL);
	if (rc < 0 && err.code != rc)
		fuzz_fail("kg_parse failed without setting err to its code", NULL);
	if (rc < 0 && !err.msg[0])
		fuzz_fail("kg_parse failed with an empty message", NULL);
	if (rc < 0 && ling_utf8_valid_prefix(err.msg, strlen(err.msg)) != strlen(err.msg))
		fuzz_fail("an error message is not valid UTF-8", NULL);
	ling_buf_release(&f.pending);
	ling_buf_release(&f.out);
	return 0;
}

#endif
