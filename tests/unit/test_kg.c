/*
 * Unit tests for libkg (kg/): format names, the N-Triples writer, the
 * N-Triples/N-Quads and TSV parsers through kg_parse with a collecting sink,
 * canonical terms and label folding, and the RocksDB store (loads, every
 * match pattern, counters, labels, idempotence, deletes, the SST path,
 * read-only opens).
 */
#include "tap.h"
#include "fixture.h"

#include "common/ling_err.h"
#include "common/ling_input.h"
#include "common/ling_mem.h"
#include "common/ling_rocksdb.h"
#include "common/ling_utf8.h"
#include "kg/kg.h"
#include "kg/kg_term_canon_internal.h"

#include <dirent.h>
#include <inttypes.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/banned.h"

#define XSD "http://www.w3.org/2001/XMLSchema#"
#define RDFS_LABEL "http://www.w3.org/2000/01/rdf-schema#label"
#define RDF_TYPE "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

static char tmpdir[PATH_MAX];

/* ---- a sink that records everything ---- */

struct collect {
	struct ling_buf pending; /* N-Triples lines of the current statement */
	struct ling_buf out;     /* committed lines */
	struct ling_buf events;  /* one letter per call: q(uad) c(ommit) r(ollback) e(rror) */
	struct ling_buf errors;  /* "line:col: msg\n" per error callback */
	struct ling_buf last_o;  /* raw value of the last object */
	struct ling_buf last_lang;
	int nquads, ncommitted, nerrors;
	int error_rc;            /* what the error callback returns */
	int stop_after;          /* quad callback fails with LING_ESTOP after this many quads; 0 = never */
	int bad_utf8;            /* a term string was not valid UTF-8 */
};

static void check_utf8(struct collect *c, const struct kg_term *t)
{
	if (t->value && ling_utf8_valid_prefix(t->value, t->len) != t->len)
		c->bad_utf8 = 1;
	if (t->datatype && ling_utf8_valid_prefix(t->datatype, t->datatype_len) != t->datatype_len)
		c->bad_utf8 = 1;
	if (t->lang && ling_utf8_valid_prefix(t->lang, t->lang_len) != t->lang_len)
		c->bad_utf8 = 1;
}

static int collect_quad(void *ctx, const struct kg_quad *q, struct ling_err *err)
{
	struct collect *c = ctx;

	ling_buf_addc(&c->events, 'q');
	c->nquads++;
	if (c->stop_after && c->nquads > c->stop_after)
		return ling_err_set(err, LING_ESTOP, "enough quads");
	check_utf8(c, &q->s);
	check_utf8(c, &q->p);
	check_utf8(c, &q->o);
	check_utf8(c, &q->g);
	kg_term_write_nt(&c->pending, &q->s);
	ling_buf_addc(&c->pending, ' ');
	kg_term_write_nt(&c->pending, &q->p);
	ling_buf_addc(&c->pending, ' ');
	kg_term_write_nt(&c->pending, &q->o);
	if (q->g.type != KG_TERM_NONE) {
		ling_buf_addc(&c->pending, ' ');
		kg_term_write_nt(&c->pending, &q->g);
	}
	ling_buf_adds(&c->pending, " .\n");
	ling_buf_reset(&c->last_o);
	ling_buf_add(&c->last_o, q->o.value, q->o.len);
	ling_buf_reset(&c->last_lang);
	if (q->o.lang)
		ling_buf_add(&c->last_lang, q->o.lang, q->o.lang_len);
	return 0;
}

static void collect_commit(void *ctx)
{
	struct collect *c = ctx;

	ling_buf_addc(&c->events, 'c');
	ling_buf_add(&c->out, c->pending.data ? c->pending.data : "", c->pending.len);
	ling_buf_reset(&c->pending);
	c->ncommitted++;
}

static void collect_rollback(void *ctx)
{
	struct collect *c = ctx;

	ling_buf_addc(&c->events, 'r');
	ling_buf_reset(&c->pending);
}

static int collect_error(void *ctx, const struct ling_err *err)
{
	struct collect *c = ctx;

	ling_buf_addc(&c->events, 'e');
	ling_buf_addf(&c->errors, "%ld:%ld: %s\n", err->line, err->col, err->msg);
	c->nerrors++;
	return c->error_rc;
}

static void collect_init(struct collect *c)
{
	memset(c, 0, sizeof(*c));
	ling_buf_adds(&c->out, "");
	ling_buf_adds(&c->events, "");
	ling_buf_adds(&c->errors, "");
}

static void collect_release(struct collect *c)
{
	ling_buf_release(&c->pending);
	ling_buf_release(&c->out);
	ling_buf_release(&c->events);
	ling_buf_release(&c->errors);
	ling_buf_release(&c->last_o);
	ling_buf_release(&c->last_lang);
}

static struct kg_sink collect_sink(struct collect *c)
{
	struct kg_sink s = { c, collect_quad, collect_commit, collect_rollback, collect_error };

	return s;
}

/* Parses text with opts into c (re-initialised). @return kg_parse's result. */
static int parse_with(const struct kg_parse_opts *opts, const char *text, size_t len, struct collect *c,
		      int error_rc, struct ling_err *err)
{
	struct ling_input *in;
	struct kg_sink sink;
	int rc;

	collect_release(c);
	collect_init(c);
	c->error_rc = error_rc;
	sink = collect_sink(c);
	ling_err_clear(err);
	if ((rc = ling_input_open_mem(&in, "t.in", text, len, err)))
		return rc;
	rc = kg_parse(in, opts, &sink, err);
	ling_input_close(in);
	return rc;
}

static int parse_fmt(enum kg_format f, const char *text, struct collect *c, int error_rc, struct ling_err *err)
{
	struct kg_parse_opts opts;

	memset(&opts, 0, sizeof(opts));
	opts.format = f;
	opts.base = "http://example.org/base/";
	return parse_with(&opts, text, strlen(text), c, error_rc, err);
}

/* ---- format names ---- */

static void test_formats(void)
{
	static const struct {
		const char *path;
		enum kg_format want;
	} paths[] = {
		{ "data.nt", KG_FORMAT_NTRIPLES },
		{ "dir/data.nt.gz", KG_FORMAT_NTRIPLES },
		{ "/abs/dir.v2/data.nq.zst", KG_FORMAT_NQUADS },
		{ "onto.ttl", KG_FORMAT_TURTLE },
		{ "onto.TTL", KG_FORMAT_TURTLE },
		{ "dbo.owl.zst", KG_FORMAT_RDFXML },
		{ "x.rdf", KG_FORMAT_RDFXML },
		{ "x.xml.gz", KG_FORMAT_RDFXML },
		{ "train.tsv", KG_FORMAT_TSV },
		{ "kb.txt", KG_FORMAT_TSV },
		{ "noext", KG_FORMAT_AUTO },
		{ "dir.nt/noext", KG_FORMAT_AUTO },
		{ "data.gz", KG_FORMAT_AUTO },
		{ "data.zst", KG_FORMAT_AUTO },
		{ "data.json", KG_FORMAT_AUTO },
		{ "data.", KG_FORMAT_AUTO },
		{ "data.averyveryverylongextension", KG_FORMAT_AUTO },
		{ "", KG_FORMAT_AUTO },
		{ "-", KG_FORMAT_AUTO },
	};
	static const struct {
		const char *name;
		enum kg_format want;
	} names[] = {
		{ "ntriples", KG_FORMAT_NTRIPLES }, { "nt", KG_FORMAT_NTRIPLES }, { "N-Triples", KG_FORMAT_NTRIPLES },
		{ "nquads", KG_FORMAT_NQUADS },     { "nq", KG_FORMAT_NQUADS },   { "turtle", KG_FORMAT_TURTLE },
		{ "ttl", KG_FORMAT_TURTLE },        { "rdfxml", KG_FORMAT_RDFXML }, { "xml", KG_FORMAT_RDFXML },
		{ "RDF/XML", KG_FORMAT_RDFXML },    { "tsv", KG_FORMAT_TSV },     { "json", KG_FORMAT_AUTO },
		{ "", KG_FORMAT_AUTO },
	};
	size_t i;
	int f;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		is_int(kg_format_from_path(paths[i].path), paths[i].want, "format of path '%s'", paths[i].path);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		is_int(kg_format_from_name(names[i].name), names[i].want, "format of name '%s'", names[i].name);
	for (f = KG_FORMAT_NTRIPLES; f <= KG_FORMAT_TSV; f++)
		is_int(kg_format_from_name(kg_format_name((enum kg_format)f)), f, "format name '%s' round-trips",
		       kg_format_name((enum kg_format)f));
	is_str(kg_format_name(KG_FORMAT_AUTO), "auto", "KG_FORMAT_AUTO is called auto");
}

/* ---- the N-Triples writer ---- */

static void write_term(struct ling_buf *b, enum kg_term_type type, const char *v, size_t n, const char *dt,
		       const char *lang)
{
	struct kg_term t;

	memset(&t, 0, sizeof(t));
	t.type = type;
	t.value = v;
	t.len = n;
	t.datatype = dt;
	t.datatype_len = dt ? strlen(dt) : 0;
	t.lang = lang;
	t.lang_len = lang ? strlen(lang) : 0;
	ling_buf_reset(b);
	kg_term_write_nt(b, &t);
}

#define W(type, lit, dt, lang) write_term(&b, type, lit, sizeof(lit) - 1, dt, lang)

static void test_write_nt(void)
{
	struct ling_buf b = LING_BUF_INIT;

	W(KG_TERM_IRI, "http://example.org/a", NULL, NULL);
	is_str(b.data, "<http://example.org/a>", "IRI");
	W(KG_TERM_IRI, "http://ex.org/a b<c>d\"e{f}g|h^i`j\\k", NULL, NULL);
	is_str(b.data, "<http://ex.org/a\\u0020b\\u003Cc\\u003Ed\\u0022e\\u007Bf\\u007Dg\\u007Ch\\u005Ei\\u0060j\\u005Ck>",
	       "IRI: forbidden characters become \\u escapes");
	W(KG_TERM_IRI, "http://ex.org/\x01\x1f\x7f\xC3\xA9", NULL, NULL);
	is_str(b.data, "<http://ex.org/\\u0001\\u001F\x7f\xC3\xA9>", "IRI: controls escaped, DEL and UTF-8 kept");
	W(KG_TERM_IRI, "", NULL, NULL);
	is_str(b.data, "<>", "empty IRI");
	W(KG_TERM_BNODE, "b0", NULL, NULL);
	is_str(b.data, "_:b0", "blank node");
	W(KG_TERM_LITERAL, "plain", NULL, NULL);
	is_str(b.data, "\"plain\"", "simple literal");
	W(KG_TERM_LITERAL, "", NULL, NULL);
	is_str(b.data, "\"\"", "empty literal");
	W(KG_TERM_LITERAL, "q\"b\\n\nr\rt\tb\bf\f", NULL, NULL);
	is_str(b.data, "\"q\\\"b\\\\n\\nr\\rt\\tb\\bf\\f\"", "literal: ECHAR escapes");
	W(KG_TERM_LITERAL, "\x01\x1f\x7f" "<>{}| ", NULL, NULL);
	is_str(b.data, "\"\\u0001\\u001F\\u007F<>{}| \"", "literal: other controls and DEL as \\u, IRI-only ones kept");
	W(KG_TERM_LITERAL, "nul\0byte", NULL, NULL);
	is_str(b.data, "\"nul\\u0000byte\"", "literal: NUL as \\u0000");
	W(KG_TERM_LITERAL, "caf\xC3\xA9 \xF0\x9F\x98\x80", NULL, NULL);
	is_str(b.data, "\"caf\xC3\xA9 \xF0\x9F\x98\x80\"", "literal: UTF-8 stays as it is");
	W(KG_TERM_LITERAL, "chat", NULL, "fr-BE");
	is_str(b.data, "\"chat\"@fr-BE", "language-tagged literal");
	W(KG_TERM_LITERAL, "1", XSD "integer", NULL);
	is_str(b.data, "\"1\"^^<" XSD "integer>", "typed literal");
	W(KG_TERM_LITERAL, "x", "http://ex.org/dt with space", NULL);
	is_str(b.data, "\"x\"^^<http://ex.org/dt\\u0020with\\u0020space>", "datatype IRI is escaped as an IRI");
	W(KG_TERM_LITERAL, "x", XSD "string", "en");
	is_str(b.data, "\"x\"@en", "a language tag wins over a datatype");
	W(KG_TERM_NONE, "ignored", NULL, NULL);
	ok(b.len == 0, "KG_TERM_NONE writes nothing");
	/* Appends, never resets. */
	ling_buf_reset(&b);
	ling_buf_adds(&b, "x ");
	{
		struct kg_term t = { KG_TERM_IRI, "http://a/", 9, NULL, 0, NULL, 0 };

		kg_term_write_nt(&b, &t);
	}
	is_str(b.data, "x <http://a/>", "kg_term_write_nt appends");
	ling_buf_release(&b);
}

/* ---- N-Triples and N-Quads ---- */

struct nt_bad {
	const char *line;
	const char *at;     /* the column is the offset of this substring + 1; NULL = end of line + 1 */
	int nth;            /* which occurrence of at (0 = first) */
	const char *msg_has;
};

static long col_of(const char *line, const char *at, int nth)
{
	const char *p = line;

	if (!at)
		return (long)strlen(line) + 1;
	for (;;) {
		p = strstr(p, at);
		if (!p)
			return -1;
		if (nth-- == 0)
			return (long)(p - line) + 1;
		p++;
	}
}

static void test_ntriples_good(void)
{
	struct collect c;
	struct ling_err err;
	int rc;

	collect_init(&c);

	rc = parse_fmt(KG_FORMAT_NTRIPLES, "<http://a/s> <http://a/p> <http://a/o> .\n", &c, 1, &err);
	is_int(rc, 0, "nt: one triple parses");
	is_str(c.out.data, "<http://a/s> <http://a/p> <http://a/o> .\n", "nt: the triple");
	is_str(c.events.data, "qc", "nt: one quad, one commit");

	rc = parse_fmt(KG_FORMAT_NTRIPLES,
		       "# a comment\n"
		       "\n"
		       "   \n"
		       "\t# indented comment\n"
		       "<http://a/s> <http://a/p> \"x\" . # trailing comment\n"
		       "\t<http://a/s>\t<http://a/p>\t\"y\"\t.\t\n"
		       "<http://a/s><http://a/p>\"z\".\n"
		       "<http://a/s> <http://a/p> \"crlf\" .\r\n"
		       "\r\n"
		       "<http://a/s> <http://a/p> \"last line without newline\" .",
		       &c, 1, &err);
	is_int(rc, 0, "nt: comments, blank lines, tabs, CRLF");
	is_str(c.out.data,
	       "<http://a/s> <http://a/p> \"x\" .\n<http://a/s> <http://a/p> \"y\" .\n<http://a/s> <http://a/p> \"z\" .\n"
	       "<http://a/s> <http://a/p> \"crlf\" .\n<http://a/s> <http://a/p> \"last line without newline\" .\n",
	       "nt: five triples");
	is_int(c.nerrors, 0, "nt: no errors");

	rc = parse_fmt(KG_FORMAT_NTRIPLES,
		       "<http://a/s> <http://a/p> \"caf\\u00E9 \\U0001F600 t\\tq\\\"b\\\\s\\nn\\rr\\bb\\ff\\'a\" .\n", &c, 1,
		       &err);
	is_int(rc, 0, "nt: string escapes parse");
	is_str(c.last_o.data, "caf\xC3\xA9 \xF0\x9F\x98\x80 t\tq\"b\\s\nn\rr\bb\ff'a", "nt: escapes decoded");
	ok(!c.bad_utf8, "nt: decoded strings are valid UTF-8");

	rc = parse_fmt(KG_FORMAT_NTRIPLES, "<http://a/\\u00E9\\U0001F600x> <http://a/p> <http://a/o> .\n", &c, 1, &err);
	is_int(rc, 0, "nt: \\u in an IRI");
	is_str(c.out.data, "<http://a/\xC3\xA9\xF0\x9F\x98\x80x> <http://a/p> <http://a/o> .\n", "nt: IRI escapes decoded");

	rc = parse_fmt(KG_FORMAT_NTRIPLES, "<http://a/s> <http://a/p> \"\\u0000\" .\n", &c, 1, &err);
	ok(rc == 0 && c.last_o.len == 1 && c.last_o.data[0] == '\0', "nt: \\u0000 gives a NUL byte");

	rc = parse_fmt(KG_FORMAT_NTRIPLES,
		       "<http://a/s> <http://a/p> \"chat\"@fr-BE .\n"
		       "<http://a/s> <http://a/p> \"1\"^^<" XSD "integer> .\n"
		       "<http://a/s> <http://a/p> \"s\"^^<" XSD "string> .\n"
		       "<http://a/s> <http://a/p> \"x\"@en-123-abc .\n",
		       &c, 1, &err);
	is_int(rc, 0, "nt: language tags and datatypes");
	is_str(c.out.data,
	       "<http://a/s> <http://a/p> \"chat\"@fr-BE .\n<http://a/s> <http://a/p> \"1\"^^<" XSD "integer> .\n"
	       "<http://a/s> <http://a/p> \"s\" .\n<http://a/s> <http://a/p> \"x\"@en-123-abc .\n",
	       "nt: tag kept as written, xsd:string dropped");

	rc = parse_fmt(KG_FORMAT_NTRIPLES,
		       "_:x <http://a/p> _:y.z .\n"
		       "_:s <http://a/p> _:o.\n"
		       "_:0 <http://a/p> _:a-b_c .\n"
		       "_:\xC3\xA9t\xC3\xA9 <http://a/p> <http://a/o> .\n",
		       &c, 1, &err);
	is_int(rc, 0, "nt: blank nodes");
	is_str(c.out.data,
	       "_:bx <http://a/p> _:by.z .\n_:bs <http://a/p> _:bo .\n_:b0 <http://a/p> _:ba-b_c .\n"
	       "_:b\xC3\xA9t\xC3\xA9 <http://a/p> <http://a/o> .\n",
	       "nt: labels get a 'b' prefix, a final dot ends the statement");

	rc = parse_fmt(KG_FORMAT_NQUADS,
		       "<http://a/s> <http://a/p> <http://a/o> <http://a/g> .\n"
		       "<http://a/s> <http://a/p> \"x\"@en _:g .\n"
		       "<http://a/s> <http://a/p> <http://a/o> .\n",
		       &c, 1, &err);
	is_int(rc, 0, "nq: graphs");
	is_str(c.out.data,
	       "<http://a/s> <http://a/p> <http://a/o> <http://a/g> .\n<http://a/s> <http://a/p> \"x\"@en _:bg .\n"
	       "<http://a/s> <http://a/p> <http://a/o> .\n",
	       "nq: IRI graph, blank node graph, default graph");

	rc = parse_fmt(KG_FORMAT_NTRIPLES, "", &c, 1, &err);
	ok(rc == 0 && c.nquads == 0, "nt: empty input");

	collect_release(&c);
}

static void test_ntriples_bad(void)
{
	static const struct nt_bad bad[] = {
		{ "<http://a/s> <http://a/p> <http://a/o>", NULL, 0, "'.'" },
		{ "<http://a/s> <http://a/p> \"x\" . junk", "junk", 0, "after" },
		{ "<rel> <http://a/p> <http://a/o> .", "<rel>", 0, "relative" },
		{ "<http://a/s> <http://a/p> \"bad \\q\" .", "\\q", 0, "escape" },
		{ "<http://a/s> <http://a/p> \"\\uD800\" .", "u", 0, "scalar" },
		{ "<http://a/s> <http://a/p> \"\\u12G4\" .", "G", 0, "hex" },
		{ "<http://a/s> <http://a/p> \"\\u12\" .", "\" .", 0, "hex" },
		{ "\"lit\" <http://a/p> <http://a/o> .", "\"", 0, "subject" },
		{ "<http://a/s> \"p\" <http://a/o> .", "\"", 0, "predicate" },
		{ "<http://a/s> _:p <http://a/o> .", "_", 0, "predicate" },
		{ "<http://a/s> <http://a/p> <http://a/o> <http://a/g> .", "<http://a/g>", 0, "'.'" },
		{ "<http://a/s> <http://a/p> \"\xC3\x28\" .", "\xC3", 0, "UTF-8" },
		{ "<http://a/s> <http://a/p> \"unterminated .", "\"", 0, "unterminated" },
		{ "<http://a/s> <http://a/p> <http://a/o .", " .", 0, "" },
		{ "<http://a/ s> <http://a/p> <http://a/o> .", " s", 0, "" },
		{ "<http://a/\\u0020> <http://a/p> <http://a/o> .", ">", 0, "" },
		{ "<http://a/\\n> <http://a/p> <http://a/o> .", "\\n", 0, "IRIs" },
		{ "<http://a/s> <http://a/p> \"x\"@ .", " .", 0, "language" },
		{ "<http://a/s> <http://a/p> \"x\"@en- .", "en-", 0, "language" },
		{ "<http://a/s> <http://a/p> \"x\"^^\"y\" .", "\"y", 0, "datatype" },
		{ "_: <http://a/p> <http://a/o> .", " <", 0, "label" },
		{ "_:-x <http://a/p> <http://a/o> .", "-", 0, "label" },
		{ "<http://a/s> <http://a/p> .", ".", 0, "object" },
		{ ".", ".", 0, "subject" },
		{ "<http://a/s> <http://a/p> \"x\" \"y\" .", "\"y", 0, "" },
		{ "<http://a/s> <http://a/p> \"raw\rcr\" .", "\r", 0, "carriage" },
	};
	struct collect c;
	struct ling_err err;
	struct ling_buf text = LING_BUF_INIT;
	size_t i;
	int rc;

	collect_init(&c);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long want_col = col_of(bad[i].line, bad[i].at, bad[i].nth);

		ling_buf_reset(&text);
		ling_buf_adds(&text, "<http://a/s> <http://a/p> <http://a/o> .\n# comment\n");
		ling_buf_adds(&text, bad[i].line);
		ling_buf_adds(&text, "\n<http://a/s> <http://a/p> \"after\" .\n");
		rc = parse_with(&(struct kg_parse_opts){ .format = KG_FORMAT_NTRIPLES }, text.data, text.len, &c, 1,
				&err);
		if (!ok(rc == LING_EDATA && err.code == LING_EDATA && err.line == 3 && err.col == want_col &&
				strstr(err.msg, bad[i].msg_has) && !strcmp(err.file, "t.in") && c.ncommitted == 1,
			"nt bad line %zu: error at 3:%ld", i, want_col))
			diag("line '%s': rc %d, got %s:%ld:%ld: %s; %d commits", bad[i].line, rc, err.file, err.line,
			     err.col, err.msg, c.ncommitted);
	}

	/* Recovery: the error callback returns 0 and the parse goes on. */
	rc = parse_fmt(KG_FORMAT_NTRIPLES,
		       "<http://a/s> <http://a/p> \"1\" .\n"
		       "<http://a/s> <http://a/p> bad .\n"
		       "<http://a/s> <http://a/p> \"3\" .\n"
		       "<http://a/s> <http://a/p> \"4\" . extra\n"
		       "<http://a/s> <http://a/p> \"5\" .\n",
		       &c, 0, &err);
	is_int(rc, 0, "nt recovery: the parse succeeds");
	is_int(err.code, 0, "nt recovery: err is clear at the end");
	is_str(c.out.data,
	       "<http://a/s> <http://a/p> \"1\" .\n<http://a/s> <http://a/p> \"3\" .\n<http://a/s> <http://a/p> \"5\" .\n",
	       "nt recovery: the good lines are kept");
	is_int(c.nerrors, 2, "nt recovery: two errors reported");
	ok(!strncmp(c.errors.data, "2:27: ", 6) && strstr(c.errors.data, "\n4:33: "), "nt recovery: positions");
	is_str(c.events.data, "qcreqcreqc", "nt recovery: rollback comes before each error");

	/* Stopping: the error callback returns non-zero. */
	rc = parse_fmt(KG_FORMAT_NTRIPLES,
		       "<http://a/s> <http://a/p> \"1\" .\n<http://a/s> <http://a/p> bad .\n<http://a/s> <http://a/p> \"3\" .\n",
		       &c, 1, &err);
	is_int(rc, LING_EDATA, "nt stop: LING_EDATA");
	ok(err.line == 2 && err.col == 27, "nt stop: err at 2:27 (%ld:%ld)", err.line, err.col);
	is_int(c.nquads, 1, "nt stop: nothing after the bad line");

	/* No error callback at all: stop. */
	{
		struct ling_input *in;
		struct kg_sink sink;
		struct kg_parse_opts opts = { .format = KG_FORMAT_NTRIPLES };
		const char *t = "<http://a/s> <http://a/p> bad .\n<http://a/s> <http://a/p> \"ok\" .\n";

		collect_release(&c);
		collect_init(&c);
		sink = collect_sink(&c);
		sink.error = NULL;
		sink.commit = NULL;
		sink.rollback = NULL;
		ling_input_open_mem(&in, "t.in", t, strlen(t), &err);
		rc = kg_parse(in, &opts, &sink, &err);
		ling_input_close(in);
		ok(rc == LING_EDATA && err.line == 1 && c.nquads == 0, "nt: without an error callback the parse stops");
	}

	/* The quad callback stops the parse with its own code. */
	collect_release(&c);
	collect_init(&c);
	c.stop_after = 2;
	{
		struct ling_input *in;
		struct kg_sink sink = collect_sink(&c);
		struct kg_parse_opts opts = { .format = KG_FORMAT_NTRIPLES };
		const char *t = "<http://a/s> <http://a/p> \"1\" .\n<http://a/s> <http://a/p> \"2\" .\n"
				"<http://a/s> <http://a/p> \"3\" .\n<http://a/s> <http://a/p> \"4\" .\n";

		ling_err_clear(&err);
		ling_input_open_mem(&in, "t.in", t, strlen(t), &err);
		rc = kg_parse(in, &opts, &sink, &err);
		ling_input_close(in);
		ok(rc == LING_ESTOP && err.code == LING_ESTOP && c.nquads == 3 && c.ncommitted == 2,
		   "nt: a quad callback error stops the parse and is returned (rc %d, %d quads)", rc, c.nquads);
	}

	/* A format kg_parse does not know. */
	rc = parse_fmt(KG_FORMAT_AUTO, "<http://a/s> <http://a/p> <http://a/o> .\n", &c, 1, &err);
	is_int(rc, LING_EUSAGE, "kg_parse with KG_FORMAT_AUTO: LING_EUSAGE");

	/* A compressed input that is cut short: the read error ends the parse. */
	{
		struct ling_input *in;
		struct kg_sink sink;
		struct kg_parse_opts opts = { .format = KG_FORMAT_NTRIPLES };
		/* gzip of 200 triples, made with zlib's gzip wrapper through the input's own magic check */
		struct ling_buf nt = LING_BUF_INIT;
		int k;

		for (k = 0; k < 200; k++)
			ling_buf_addf(&nt, "<http://a/s%d> <http://a/p> \"%d\" .\n", k, k);
		collect_release(&c);
		collect_init(&c);
		sink = collect_sink(&c);
		ling_err_clear(&err);
		/* "\x1f\x8b" then junk: a gzip header that is not one. */
		ling_buf_reset(&text);
		ling_buf_add(&text, "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10);
		ling_buf_add(&text, nt.data, 50);
		ling_input_open_mem(&in, "t.nt.gz", text.data, text.len, &err);
		rc = kg_parse(in, &opts, &sink, &err);
		ling_input_close(in);
		ok(rc == LING_EDATA && err.code == LING_EDATA, "nt: a corrupt gzip input ends the parse with LING_EDATA");
		ling_buf_release(&nt);
	}

	ling_buf_release(&text);
	collect_release(&c);
}

/* A Turtle statement that fails half-way must not leave its first quads behind. */
static void test_turtle_rollback(void)
{
	struct collect c;
	struct ling_err err;
	int rc;

	collect_init(&c);
	rc = parse_fmt(KG_FORMAT_TURTLE,
		       "@prefix a: <http://a/> .\n"
		       "a:s a:p a:o1 .\n"
		       "a:s a:p a:o2, a:o3 ; a:q \"unterminated .\n"
		       "a:s a:p a:o4 .\n",
		       &c, 0, &err);
	ok(c.nerrors >= 1, "ttl rollback: the bad statement is reported (rc %d)", rc);
	ok(strstr(c.out.data, "<http://a/o1>") && !strstr(c.out.data, "<http://a/o2>") &&
		   !strstr(c.out.data, "<http://a/o3>"),
	   "ttl rollback: quads of the bad statement are dropped");
	ok(c.events.len > 0 && strchr(c.events.data, 'r') &&
		   strchr(c.events.data, 'r') < strchr(c.events.data, 'e'),
	   "ttl rollback: rollback before the error (%s)", c.events.data);
	collect_release(&c);
}

/* ---- TSV ---- */

static void test_tsv(void)
{
	struct kg_parse_opts opts;
	struct collect c;
	struct ling_err err;
	const char *t;
	int rc;

	collect_init(&c);
	memset(&opts, 0, sizeof(opts));
	opts.format = KG_FORMAT_TSV;

	t = "a\tb\tc\n# comment\n\n/m/0abc\t/film/film/genre\t/m/02l7c8\r\n";
	rc = parse_with(&opts, t, strlen(t), &c, 1, &err);
	is_int(rc, 0, "tsv: parses");
	is_str(c.out.data,
	       "<urn:kg:a> <urn:kg:b> <urn:kg:c> .\n<urn:kg:/m/0abc> <urn:kg:/film/film/genre> <urn:kg:/m/02l7c8> .\n",
	       "tsv: fields become urn:kg: IRIs, CR dropped, comments skipped");

	t = "<http://x/y>\thttp://x/p\tZo\xC3\xAB\n";
	rc = parse_with(&opts, t, strlen(t), &c, 1, &err);
	is_int(rc, 0, "tsv: IRIs and UTF-8");
	is_str(c.out.data, "<http://x/y> <http://x/p> <urn:kg:Zo\xC3\xAB> .\n",
	       "tsv: <iri> and scheme: fields stay IRIs, UTF-8 stays");

	opts.delimiter = '|';
	opts.tsv_prefix = "http://ex.org/";
	t = "Star Wars|directed_by|George Lucas\n100%|has|a<b>\"{c}\\^`\n";
	rc = parse_with(&opts, t, strlen(t), &c, 1, &err);
	is_int(rc, 0, "tsv: '|' delimiter and a prefix");
	is_str(c.out.data,
	       "<http://ex.org/Star%20Wars> <http://ex.org/directed_by> <http://ex.org/George%20Lucas> .\n"
	       "<http://ex.org/100%25> <http://ex.org/has> <http://ex.org/a%3Cb%3E%22%7Bc%7D%5C%5E%60> .\n",
	       "tsv: percent-encoding of space, %%, and the IRI-forbidden characters");

	opts.tsv_labels = 1;
	t = "Star Wars|directed_by|George Lucas\n<http://x/film>|http://x/p|Empire\nhttp://x/a|http://x/p|http://x/b\n";
	rc = parse_with(&opts, t, strlen(t), &c, 1, &err);
	is_int(rc, 0, "tsv labels: parses");
	is_str(c.out.data,
	       "<http://ex.org/Star%20Wars> <http://ex.org/directed_by> <http://ex.org/George%20Lucas> .\n"
	       "<http://ex.org/Star%20Wars> <" RDFS_LABEL "> \"Star Wars\" .\n"
	       "<http://ex.org/George%20Lucas> <" RDFS_LABEL "> \"George Lucas\" .\n"
	       "<http://x/film> <http://x/p> <http://ex.org/Empire> .\n"
	       "<http://ex.org/Empire> <" RDFS_LABEL "> \"Empire\" .\n"
	       "<http://x/a> <http://x/p> <http://x/b> .\n",
	       "tsv labels: minted subjects and objects get rdfs:label, IRIs and predicates do not");
	is_str(c.events.data, "qqqcqqcqc", "tsv labels: a line's quads are one statement");
	opts.tsv_labels = 0;

	opts.delimiter = 0;
	opts.tsv_prefix = NULL;
	t = "a\tb\tc\n"
	    "only\ttwo\n"
	    "a\tb\tc\td\n"
	    "a\t\tc\n"
	    "<rel>\tb\tc\n"
	    "a\tb\t\xC3\n"
	    "x\ty\tz\n";
	rc = parse_with(&opts, t, strlen(t), &c, 0, &err);
	is_int(rc, 0, "tsv recovery: parses");
	is_str(c.out.data, "<urn:kg:a> <urn:kg:b> <urn:kg:c> .\n<urn:kg:x> <urn:kg:y> <urn:kg:z> .\n",
	       "tsv recovery: good lines kept");
	is_int(c.nerrors, 5, "tsv recovery: five bad lines");
	is_str(c.errors.data,
	       "2:1: expected three fields (subject, predicate, object)\n"
	       "3:1: expected three fields (subject, predicate, object)\n"
	       "4:1: empty field\n"
	       "5:1: relative IRI in <...>\n"
	       "6:1: invalid UTF-8\n",
	       "tsv recovery: positions and messages");

	rc = parse_with(&opts, t, strlen(t), &c, 1, &err);
	ok(rc == LING_EDATA && err.line == 2 && err.col == 1 && c.ncommitted == 1, "tsv stop: LING_EDATA at 2:1");

	/* Fields that look like IRIs but hold characters IRIs cannot. */
	t = "Title:<x>\tex:p\"q\tmailto:a|b\n<http://a b>\tp\to\n<http://a/\x01>\tp\to\n";
	rc = parse_with(&opts, t, strlen(t), &c, 0, &err);
	is_int(rc, 0, "tsv IRI characters: parses");
	is_str(c.out.data, "<urn:kg:Title:%3Cx%3E> <urn:kg:ex:p%22q> <urn:kg:mailto:a%7Cb> .\n",
	       "tsv IRI characters: scheme-like fields with <>\"| are minted, not taken as IRIs");
	is_str(c.errors.data,
	       "2:1: character not allowed in an IRI in <...>\n3:1: character not allowed in an IRI in <...>\n",
	       "tsv IRI characters: <...> with a space or a control is an error");
	ok(!c.bad_utf8, "tsv: every term is valid UTF-8");

	collect_release(&c);
}

/* ---- canonical terms and folding ---- */

static int canon(struct kg_canon *cn, enum kg_term_type type, const char *v, const char *dt, const char *lang,
		 const char *scope, struct ling_buf *out)
{
	struct kg_term t;
	struct ling_err err;

	memset(&t, 0, sizeof(t));
	t.type = type;
	t.value = v;
	t.len = strlen(v);
	t.datatype = dt;
	t.datatype_len = dt ? strlen(dt) : 0;
	t.lang = lang;
	t.lang_len = lang ? strlen(lang) : 0;
	ling_buf_reset(out);
	ling_err_clear(&err);
	return kg_canon_term(cn, &t, scope, out, &err);
}

static void test_canon(void)
{
	struct kg_canon cn;
	struct ling_buf b = LING_BUF_INIT, b2 = LING_BUF_INIT;
	struct ling_err err;
	int rc;

	kg_canon_init(&cn);
	/* Terms are kept as written: RDF 1.1 compares IRIs and literals character by character. */
	rc = canon(&cn, KG_TERM_LITERAL, "caf" "e\xCC\x81", NULL, NULL, NULL, &b);
	ok(rc == 0 && !strcmp(b.data, "\"cafe\xCC\x81\""), "canon: e + U+0301 stays decomposed (%s)", b.data);
	rc = canon(&cn, KG_TERM_IRI, "http://ex.org/\xF0\xAF\xA8\x9D", NULL, NULL, NULL, &b);
	ok(rc == 0 && !strcmp(b.data, "<http://ex.org/\xF0\xAF\xA8\x9D>"), "canon: U+2FA1D in an IRI is not made U+2A600");
	rc = canon(&cn, KG_TERM_LITERAL, "x", "http://ex.org/dt/e\xCC\x81", NULL, NULL, &b);
	ok(rc == 0 && !strcmp(b.data, "\"x\"^^<http://ex.org/dt/e\xCC\x81>"), "canon: datatypes as written");
	rc = canon(&cn, KG_TERM_LITERAL, "\xEF\xAC\x81", NULL, NULL, NULL, &b);
	ok(rc == 0 && !strcmp(b.data, "\"\xEF\xAC\x81\""), "canon: compatibility characters kept (fi ligature)");
	rc = canon(&cn, KG_TERM_LITERAL, "\xE1\x84\x80\xE1\x85\xA1", NULL, NULL, NULL, &b);
	ok(rc == 0 && !strcmp(b.data, "\"\xE1\x84\x80\xE1\x85\xA1\""), "canon: Hangul jamo kept apart");
	rc = canon(&cn, KG_TERM_IRI, "http://ex.org/bad\xC3", NULL, NULL, NULL, &b);
	is_int(rc, LING_EDATA, "canon: invalid UTF-8 in an IRI is LING_EDATA");
	rc = canon(&cn, KG_TERM_LITERAL, "Chat", NULL, "EN-gb", NULL, &b);
	ok(rc == 0 && !strcmp(b.data, "\"Chat\"@en-gb"), "canon: language tag lowercased, value kept");
	rc = canon(&cn, KG_TERM_LITERAL, "", NULL, NULL, NULL, &b);
	ok(rc == 0 && !strcmp(b.data, "\"\""), "canon: empty literal");
	rc = canon(&cn, KG_TERM_LITERAL, "bad \xC3", NULL, NULL, NULL, &b);
	is_int(rc, LING_EDATA, "canon: invalid UTF-8 is LING_EDATA");
	rc = canon(&cn, KG_TERM_LITERAL, "bad \xED\xA0\x80 surrogate", NULL, NULL, NULL, &b);
	is_int(rc, LING_EDATA, "canon: an encoded surrogate is LING_EDATA");

	rc = canon(&cn, KG_TERM_BNODE, "bx", NULL, NULL, NULL, &b);
	ok(rc == 0 && !strcmp(b.data, "_:bx"), "canon: blank node without scope keeps its label");
	rc = canon(&cn, KG_TERM_BNODE, "bx", NULL, NULL, "file-1", &b);
	ok(rc == 0 && b.len == 2 + 17 && !strncmp(b.data, "_:b", 3) && strspn(b.data + 3, "0123456789abcdef") == 16,
	   "canon: scoped blank node is _:b + 16 hex digits (%s)", b.data);
	canon(&cn, KG_TERM_BNODE, "bx", NULL, NULL, "file-1", &b2);
	is_str(b2.data, b.data, "canon: same label, same scope, same node");
	canon(&cn, KG_TERM_BNODE, "bx", NULL, NULL, "file-2", &b2);
	ok(strcmp(b2.data, b.data) != 0, "canon: another scope, another node");
	canon(&cn, KG_TERM_BNODE, "by", NULL, NULL, "file-1", &b2);
	ok(strcmp(b2.data, b.data) != 0, "canon: another label, another node");

	ling_err_clear(&err);
	ling_buf_reset(&b);
	rc = kg_canon_fold(&cn, "\xC3\x9Cn\xC3\xAF" "code Stra\xC3\x9F" "e", strlen("\xC3\x9Cn\xC3\xAF" "code Stra\xC3\x9F" "e"),
			   &b, &err);
	ok(rc == 0 && !strcmp(b.data, "\xC3\xBCn\xC3\xAF" "code strasse"),
	   "fold: full case folding maps Ü to ü and ß to ss (%s)", b.data);
	ling_buf_reset(&b);
	rc = kg_canon_fold(&cn, "U\xCC\x88" "BER", 6, &b, &err);
	ok(rc == 0 && !strcmp(b.data, "\xC3\xBC" "ber"), "fold: NFC before folding (U + U+0308 -> ü)");
	ling_buf_reset(&b);
	rc = kg_canon_fold(&cn, "\xCE\xA3\xCE\x91\xCE\xA3", 6, &b, &err);
	ok(rc == 0 && !strcmp(b.data, "\xCF\x83\xCE\xB1\xCF\x83"), "fold: Greek capitals fold to σ α σ");
	ling_buf_reset(&b);
	rc = kg_canon_fold(&cn, "", 0, &b, &err);
	ok(rc == 0 && b.len == 0, "fold: empty string");
	ling_buf_reset(&b);
	rc = kg_canon_fold(&cn, "\xFF", 1, &b, &err);
	is_int(rc, LING_EDATA, "fold: invalid UTF-8 is LING_EDATA");

	kg_canon_release(&cn);
	ling_buf_release(&b);
	ling_buf_release(&b2);
}

/* ---- the store ---- */

struct ref_quad {
	const char *s, *p, *o, *g; /* N-Triples terms; g NULL = default graph */
};

/* The test graph. Terms are written as kg_store_nt_id takes them. */
static const struct ref_quad graph1[] = {
	{ "<http://ex.org/s1>", "<http://ex.org/p1>", "<http://ex.org/o1>", NULL },
	{ "<http://ex.org/s1>", "<http://ex.org/p1>", "\"lit\"@en", NULL },
	{ "<http://ex.org/s1>", "<http://ex.org/p2>", "<http://ex.org/o2>", NULL },
	{ "<http://ex.org/s2>", "<http://ex.org/p1>", "<http://ex.org/o1>", NULL },
	{ "<http://ex.org/s2>", "<http://ex.org/p2>", "<http://ex.org/s1>", NULL },
	{ "<http://ex.org/s1>", "<http://ex.org/p1>", "<http://ex.org/o1>", "<http://ex.org/g1>" },
	{ "<http://ex.org/s3>", "<http://ex.org/p2>", "<http://ex.org/o1>", "<http://ex.org/g1>" },
	{ "<http://ex.org/s1>", "<" RDFS_LABEL ">", "\"\xC3\x9Cn\xC3\xAF" "code Stra\xC3\x9F" "e\"@de", NULL },
	{ "<http://ex.org/s2>", "<" RDFS_LABEL ">", "\"Other thing\"", NULL },
	{ "<http://ex.org/s3>", "<http://www.w3.org/2004/02/skos/core#prefLabel>", "\"Other Thing\"@EN", NULL },
	{ "<http://ex.org/s1>", "<" RDF_TYPE ">", "<http://ex.org/Film>", NULL },
	{ "<http://ex.org/s2>", "<" RDF_TYPE ">", "<http://ex.org/Film>", NULL },
	{ "<http://ex.org/s3>", "<" RDF_TYPE ">", "<http://ex.org/Person>", NULL },
	{ "<http://ex.org/s1>", "<http://ex.org/p3>", "\"42\"^^<" XSD "integer>", NULL },
};
#define NGRAPH1 (sizeof(graph1) / sizeof(graph1[0]))

/* Parses a term the way the test writes them. */
static void nt_term(const char *nt, struct kg_term *t, struct ling_buf *scratch)
{
	memset(t, 0, sizeof(*t));
	if (nt[0] == '<') {
		t->type = KG_TERM_IRI;
		t->value = nt + 1;
		t->len = strlen(nt) - 2;
	} else if (nt[0] == '_') {
		t->type = KG_TERM_BNODE;
		t->value = nt + 2;
		t->len = strlen(nt) - 2;
	} else {
		const char *end = strrchr(nt, '"');

		t->type = KG_TERM_LITERAL;
		ling_buf_reset(scratch);
		ling_buf_add(scratch, nt + 1, (size_t)(end - nt - 1));
		t->value = scratch->data;
		t->len = scratch->len;
		if (end[1] == '@') {
			t->lang = end + 2;
			t->lang_len = strlen(end + 2);
		} else if (end[1] == '^') {
			t->datatype = end + 4;
			t->datatype_len = strlen(end + 4) - 1;
		}
	}
}

static int load_quads(struct kg_store *st, const struct ref_quad *qs, size_t n, unsigned flags, const char *source,
		      struct kg_load_counts *counts, struct ling_err *err)
{
	struct kg_loader *ld;
	struct ling_buf lit = LING_BUF_INIT;
	size_t i;
	int rc;

	memset(counts, 0, sizeof(*counts));
	if ((rc = kg_loader_new(&ld, st, source, NULL, flags, err)))
		return rc;
	for (i = 0; i < n && !rc; i++) {
		struct kg_quad q;

		nt_term(qs[i].s, &q.s, &lit);
		nt_term(qs[i].p, &q.p, &lit);
		nt_term(qs[i].o, &q.o, &lit);
		if (qs[i].g)
			nt_term(qs[i].g, &q.g, &lit);
		else
			memset(&q.g, 0, sizeof(q.g));
		if (!(rc = kg_loader_add(ld, &q, err)))
			kg_loader_commit(ld);
	}
	if (!rc)
		rc = kg_loader_apply(ld, counts, err);
	kg_loader_free(ld);
	ling_buf_release(&lit);
	return rc;
}

/* The id of a term written as the test writes them, canonicalised as the store does; 0 when absent. */
static kg_id id_of(struct kg_store *st, const char *nt)
{
	struct ling_buf lit = LING_BUF_INIT;
	struct ling_err err;
	struct kg_term t;
	kg_id id = 0;
	int found = 0, rc;

	ling_err_clear(&err);
	nt_term(nt, &t, &lit);
	rc = kg_store_term_id(st, &t, &id, &found, &err);
	ling_buf_release(&lit);
	return rc || !found ? 0 : id;
}

/* kg_store_nt_id takes the canonical form as it is. */
static kg_id nt_id_of(struct kg_store *st, const char *nt)
{
	struct ling_err err;
	kg_id id = 0;
	int found = 0;

	ling_err_clear(&err);
	if (kg_store_nt_id(st, nt, &id, &found, &err) || !found)
		return 0;
	return id;
}

struct match_acc {
	kg_id (*q)[4];
	size_t n, cap;
	int stop_at;
};

static int match_cb(void *ctx, const kg_id quad[4])
{
	struct match_acc *m = ctx;

	m->q = xgrow(m->q, &m->cap, m->n + 1, sizeof(*m->q));
	memcpy(m->q[m->n++], quad, sizeof(m->q[0]));
	return m->stop_at && (int)m->n >= m->stop_at;
}

static int cmp_q(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(kg_id[4]));
}

/* Checks kg_store_match against a brute-force filter of ref for every bound combination and every source quad. */
static void check_all_patterns(struct kg_store *st, kg_id (*ref)[4], size_t nref, const char *what)
{
	unsigned bound;
	int bad = 0, patterns = 0;

	for (bound = 0; bound < 16; bound++) {
		size_t src;

		for (src = 0; src < nref; src++) {
			struct kg_pattern pat = { ref[src][0], ref[src][1], ref[src][2], ref[src][3], bound };
			struct match_acc m = { NULL, 0, 0, 0 };
			kg_id (*want)[4] = xmalloc((nref + 1) * sizeof(*want));
			size_t nwant = 0, i;
			struct ling_err err;
			int rc;

			for (i = 0; i < nref; i++) {
				int j, keep = 1;

				for (j = 0; j < 4; j++)
					if ((bound & (1u << j)) && ref[i][j] != ref[src][j])
						keep = 0;
				if (keep)
					memcpy(want[nwant++], ref[i], sizeof(want[0]));
			}
			ling_err_clear(&err);
			rc = kg_store_match(st, &pat, match_cb, &m, &err);
			if (m.n)
				qsort(m.q, m.n, sizeof(*m.q), cmp_q);
			if (nwant)
				qsort(want, nwant, sizeof(*want), cmp_q);
			if (rc || m.n != nwant || (nwant && memcmp(m.q, want, nwant * sizeof(*want)))) {
				if (bad < 5)
					diag("%s: bound %c%c%c%c from quad %zu: rc %d, %zu matches, want %zu", what,
					     bound & 1 ? 's' : '-', bound & 2 ? 'p' : '-', bound & 4 ? 'o' : '-',
					     bound & 8 ? 'g' : '-', src, rc, m.n, nwant);
				bad++;
			}
			patterns++;
			free(m.q);
			free(want);
			if (bound == 0)
				break; /* the unbound pattern is the same for every source */
		}
	}
	ok(bad == 0, "%s: kg_store_match agrees with a brute-force filter on %d patterns (all 16 bound sets)", what,
	   patterns);
}

static size_t ref_ids(struct kg_store *st, const struct ref_quad *qs, size_t n, kg_id (*out)[4])
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[i][0] = id_of(st, qs[i].s);
		out[i][1] = id_of(st, qs[i].p);
		out[i][2] = id_of(st, qs[i].o);
		out[i][3] = qs[i].g ? id_of(st, qs[i].g) : KG_ID_DEFAULT_GRAPH;
	}
	return n;
}

static size_t count_match(struct kg_store *st, kg_id s, kg_id p, kg_id o, kg_id g, unsigned bound)
{
	struct kg_pattern pat = { s, p, o, g, bound };
	struct match_acc m = { NULL, 0, 0, 0 };
	struct ling_err err;

	ling_err_clear(&err);
	if (kg_store_match(st, &pat, match_cb, &m, &err))
		return (size_t)-1;
	free(m.q);
	return m.n;
}

struct count_acc {
	struct ling_buf keys; /* "key=lane0,lane1\n" sorted as scanned */
	int64_t total0;
	size_t n;
	kg_id want_id;
	int64_t want_lane0;
};

static int count_cb(void *ctx, const char *key, size_t key_len, const int64_t *lanes, size_t nlanes)
{
	struct count_acc *a = ctx;

	a->n++;
	a->total0 += nlanes ? lanes[0] : 0;
	if (key_len == 8 && kg_id_from_be(key) == a->want_id)
		a->want_lane0 = lanes[0];
	else if (key_len != 8) {
		ling_buf_add(&a->keys, key, key_len);
		ling_buf_addf(&a->keys, "=%lld\n", (long long)(nlanes ? lanes[0] : 0));
	}
	return 0;
}

static int label_cb(void *ctx, kg_id id)
{
	struct match_acc *m = ctx;
	kg_id q[4] = { id, 0, 0, 0 };

	return match_cb(m, q);
}

static size_t find_label(struct kg_store *st, const char *label, const char *lang, kg_id *first)
{
	struct match_acc m = { NULL, 0, 0, 0 };
	struct ling_err err;

	ling_err_clear(&err);
	*first = 0;
	if (kg_store_find_label(st, label, lang, label_cb, &m, &err))
		return (size_t)-1;
	if (m.n)
		*first = m.q[0][0];
	free(m.q);
	return m.n;
}

static int count_sst_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (len > 4 && !strcmp(de->d_name + len - 4, ".sst"))
			n++;
	}
	closedir(d);
	return n;
}

static void test_store(void)
{
	struct ling_buf dir = LING_BUF_INIT, b = LING_BUF_INIT;
	struct kg_store *st = NULL;
	struct kg_load_counts counts;
	struct kg_stats stats, stats1, stats_big;
	struct ling_err err;
	kg_id ref[NGRAPH1][4], s1, s2, s3, p1, p2, o1, g1, film, found_id;
	int64_t outd, ind;
	int rc;

	ling_err_clear(&err);
	ling_buf_addf(&dir, "%s/store", tmpdir);

	rc = kg_store_open(&st, dir.data, 0, &err);
	ok(rc == LING_EIO && st == NULL, "store: opening a missing store without KG_STORE_CREATE fails (%d)", rc);
	rc = kg_store_open(&st, dir.data, KG_STORE_READONLY, &err);
	ok(rc != 0 && st == NULL, "store: a missing store cannot be opened read-only");

	rc = kg_store_open(&st, dir.data, KG_STORE_CREATE, &err);
	if (!ok(rc == 0 && st, "store: create %s", dir.data)) {
		diag("%s", err.msg);
		ling_buf_release(&dir);
		return;
	}
	rc = kg_store_meta_get(st, "format", &b, &err);
	ok(rc == 1 && !strcmp(b.data, "2"), "store: format version 2 in the meta keys");
	rc = kg_store_meta_get(st, "no-such-key", &b, &err);
	is_int(rc, 0, "store: a missing meta key");
	rc = kg_store_stats(st, &stats, &err);
	ok(rc == 0 && stats.quads == 0 && stats.terms == 0 && stats.entities == 0 && stats.predicates == 0,
	   "store: a new store is empty");

	rc = load_quads(st, graph1, NGRAPH1, 0, "src-1", &counts, &err);
	is_int(rc, 0, "store: load %zu quads", NGRAPH1);
	is_int(counts.quads_read, NGRAPH1, "store: quads_read");
	is_int(counts.quads_changed, NGRAPH1, "store: every quad is new");
	/* s1 s2 s3 p1 p2 p3 o1 o2 "lit"@en g1 rdfs:label skos:prefLabel rdf:type Film Person 3 labels "42" */
	is_int(counts.terms_added, 19, "store: 19 new terms");

	s1 = id_of(st, "<http://ex.org/s1>");
	s2 = id_of(st, "<http://ex.org/s2>");
	s3 = id_of(st, "<http://ex.org/s3>");
	p1 = id_of(st, "<http://ex.org/p1>");
	p2 = id_of(st, "<http://ex.org/p2>");
	o1 = id_of(st, "<http://ex.org/o1>");
	g1 = id_of(st, "<http://ex.org/g1>");
	film = id_of(st, "<http://ex.org/Film>");
	ok(s1 && s2 && s3 && p1 && p2 && o1 && g1 && film, "store: kg_store_nt_id finds the terms");
	ok(id_of(st, "\"lit\"@en") != 0, "store: a literal's id");
	ok(nt_id_of(st, "<http://ex.org/s1>") == s1, "store: kg_store_nt_id on a canonical IRI");
	ok(nt_id_of(st, "\"Other Thing\"@en") != 0, "store: language tags are stored lowercase");
	ok(nt_id_of(st, "\"Other Thing\"@EN") == nt_id_of(st, "\"Other Thing\"@en"),
	   "store: kg_store_nt_id lowercases the language tag");
	ok(id_of(st, "\"Other Thing\"@EN") == nt_id_of(st, "\"Other Thing\"@en"), "store: so does kg_store_term_id");
	ok(nt_id_of(st, "<http://ex.org/\\u00731>") == s1, "store: kg_store_nt_id decodes \\u escapes");
	{
		kg_id id;
		int found = -1;

		rc = kg_store_nt_id(st, "not a term", &id, &found, &err);
		ok(rc < 0 && found != 1, "store: kg_store_nt_id of a bad term fails (%d)", rc);
		ling_err_clear(&err);
	}
	ok(id_of(st, "<http://ex.org/nope>") == 0, "store: an unknown term is not found");
	{
		kg_id id;
		int found = -1;
		struct kg_term t = { KG_TERM_IRI, "http://ex.org/s1", 16, NULL, 0, NULL, 0 };

		rc = kg_store_term_id(st, &t, &id, &found, &err);
		ok(rc == 0 && found == 1 && id == s1, "store: kg_store_term_id agrees with kg_store_nt_id");
		ling_buf_reset(&b);
		rc = kg_store_term_nt(st, s1, &b, &err);
		ok(rc == 0 && !strcmp(b.data, "<http://ex.org/s1>"), "store: kg_store_term_nt");
		ling_buf_reset(&b);
		rc = kg_store_term_nt(st, 12345, &b, &err);
		is_int(rc, LING_ESTORE, "store: an unknown id is LING_ESTORE");
	}

	ref_ids(st, graph1, NGRAPH1, ref);
	check_all_patterns(st, ref, NGRAPH1, "graph1");
	is_int(count_match(st, s1, 0, 0, 0, KG_BOUND_S), 7, "match s1 ? ? ?");
	is_int(count_match(st, 0, p1, 0, 0, KG_BOUND_P), 4, "match ? p1 ? ?");
	is_int(count_match(st, 0, 0, o1, 0, KG_BOUND_O), 4, "match ? ? o1 ?");
	is_int(count_match(st, s1, p1, 0, 0, KG_BOUND_S | KG_BOUND_P), 3, "match s1 p1 ? ?");
	is_int(count_match(st, s1, 0, o1, 0, KG_BOUND_S | KG_BOUND_O), 2, "match s1 ? o1 ?");
	is_int(count_match(st, 0, p1, o1, 0, KG_BOUND_P | KG_BOUND_O), 3, "match ? p1 o1 ?");
	is_int(count_match(st, s1, p1, o1, 0, KG_BOUND_S | KG_BOUND_P | KG_BOUND_O), 2, "match s1 p1 o1 ?");
	is_int(count_match(st, s1, p1, o1, 0, KG_BOUND_S | KG_BOUND_P | KG_BOUND_O | KG_BOUND_G), 1,
	       "match s1 p1 o1 default-graph");
	is_int(count_match(st, 0, 0, 0, g1, KG_BOUND_G), 2, "match ? ? ? g1");
	is_int(count_match(st, 0, 0, 0, 0, 0), NGRAPH1, "match ? ? ? ?");
	is_int(count_match(st, s3, p1, 0, 0, KG_BOUND_S | KG_BOUND_P), 0, "match with no result");
	is_int(count_match(st, 999, 0, 0, 0, KG_BOUND_S), 0, "match an unknown id");
	{
		struct kg_pattern pat = { 0, 0, 0, 0, 0 };
		struct match_acc m = { NULL, 0, 0, 3 };

		rc = kg_store_match(st, &pat, match_cb, &m, &err);
		ok(rc == 0 && m.n == 3, "match: a callback returning 1 stops the scan");
		free(m.q);
	}

	rc = kg_store_stats(st, &stats1, &err);
	is_int(rc, 0, "stats");
	is_int(stats1.quads, NGRAPH1, "stats: quads");
	is_int(stats1.terms, 19, "stats: terms");
	/* subjects s1 s2 s3, IRI objects o1 o2 Film Person (s1 also an object) */
	is_int(stats1.entities, 7, "stats: entities");
	is_int(stats1.predicates, 6, "stats: predicates (p1 p2 p3 rdfs:label skos:prefLabel rdf:type)");
	ok(stats1.disk_bytes > 0, "stats: disk bytes");

	{
		struct count_acc a;

		memset(&a, 0, sizeof(a));
		a.want_id = p1;
		rc = kg_store_counts(st, 'p', count_cb, &a, &err);
		ok(rc == 0 && a.n == 6 && a.total0 == (int64_t)NGRAPH1 && a.want_lane0 == 4,
		   "counts 'p': 6 predicates, %zu triples, p1 has 4", NGRAPH1);
		memset(&a, 0, sizeof(a));
		a.want_id = film;
		rc = kg_store_counts(st, 'y', count_cb, &a, &err);
		ok(rc == 0 && a.n == 2 && a.total0 == 3 && a.want_lane0 == 2, "counts 'y': Film has 2, Person 1");
		memset(&a, 0, sizeof(a));
		rc = kg_store_counts(st, 'l', count_cb, &a, &err);
		ok(rc == 0 && a.keys.data && !strcmp(a.keys.data, "=1\nde=1\nen=1\n"),
		   "counts 'l': labels per language (none, de, en)");
		ling_buf_release(&a.keys);
	}

	rc = kg_store_degree(st, s1, &outd, &ind, &err);
	ok(rc == 0 && outd == 7 && ind == 1, "degree s1: out 7, in 1 (%lld, %lld)", (long long)outd, (long long)ind);
	rc = kg_store_degree(st, o1, &outd, &ind, &err);
	ok(rc == 0 && outd == 0 && ind == 4, "degree o1: out 0, in 4");
	rc = kg_store_degree(st, 999, &outd, &ind, &err);
	ok(rc == 0 && outd == 0 && ind == 0, "degree of an unknown id is 0");

	is_int(find_label(st, "\xC3\xBCn\xC3\xAF" "code strasse", NULL, &found_id), 1,
	       "label: 'ünïcode strasse' finds 'Ünïcode Straße' (ICU full case folding)");
	ok(found_id == s1, "label: it is s1");
	is_int(find_label(st, "\xC3\x9CN\xC3\x8F" "CODE STRASSE", NULL, &found_id), 1, "label: upper case query");
	is_int(find_label(st, "U\xCC\x88n\xC3\xAF" "code stra\xC3\x9F" "e", NULL, &found_id), 1,
	       "label: NFD query with ß");
	is_int(find_label(st, "\xC3\xBCn\xC3\xAF" "code strasse", "de", &found_id), 1, "label: with lang de");
	is_int(find_label(st, "\xC3\xBCn\xC3\xAF" "code strasse", "DE", &found_id), 1, "label: lang is case-insensitive");
	is_int(find_label(st, "\xC3\xBCn\xC3\xAF" "code strasse", "en", &found_id), 0, "label: wrong lang");
	is_int(find_label(st, "unicode strasse", NULL, &found_id), 0, "label: folding keeps diacritics");
	is_int(find_label(st, "\xC3\xBCn\xC3\xAF" "code", NULL, &found_id), 0, "label: no prefix matches");
	is_int(find_label(st, "other thing", NULL, &found_id), 2, "label: rdfs:label and skos:prefLabel both count");
	is_int(find_label(st, "OTHER THING", "en", &found_id), 1, "label: 'Other Thing'@EN under en");
	ok(found_id == s3, "label: it is s3");
	is_int(find_label(st, "other thing", "", &found_id), 1, "label: lang \"\" finds the label without a tag");
	ok(found_id == s2, "label: it is s2");

	/* Loading the same quads again changes nothing. */
	rc = load_quads(st, graph1, NGRAPH1, 0, "src-1", &counts, &err);
	ok(rc == 0 && counts.quads_read == NGRAPH1 && counts.quads_changed == 0 && counts.terms_added == 0,
	   "store: re-applying the same load changes 0 quads");
	rc = kg_store_stats(st, &stats, &err);
	ok(rc == 0 && stats.quads == stats1.quads && stats.terms == stats1.terms && stats.entities == stats1.entities,
	   "store: stats unchanged by the re-apply");
	rc = kg_store_degree(st, s1, &outd, &ind, &err);
	ok(rc == 0 && outd == 7 && ind == 1, "store: degrees unchanged by the re-apply");

	/* Duplicates inside one load count once; a rolled-back statement is dropped. */
	{
		struct kg_loader *ld;
		struct ling_buf lit = LING_BUF_INIT;
		struct kg_quad q;

		rc = kg_loader_new(&ld, st, "src-1", NULL, 0, &err);
		memset(&q, 0, sizeof(q));
		nt_term("<http://ex.org/s4>", &q.s, &lit);
		nt_term("<http://ex.org/p1>", &q.p, &lit);
		nt_term("<http://ex.org/o1>", &q.o, &lit);
		kg_loader_add(ld, &q, &err);
		kg_loader_add(ld, &q, &err);
		kg_loader_commit(ld);
		nt_term("<http://ex.org/rolled-back>", &q.o, &lit);
		kg_loader_add(ld, &q, &err);
		nt_term("<http://ex.org/rolled-back-label>", &q.s, &lit);
		nt_term("<" RDFS_LABEL ">", &q.p, &lit);
		nt_term("\"rolled back\"", &q.o, &lit);
		kg_loader_add(ld, &q, &err);
		kg_loader_rollback(ld);
		is_int(kg_loader_pending(ld), 2, "loader: pending counts committed quads");
		memset(&counts, 0, sizeof(counts));
		rc = kg_loader_apply(ld, &counts, &err);
		ok(rc == 0 && counts.quads_changed == 1 && counts.terms_added == 1,
		   "loader: a duplicate counts once, a rolled-back statement is dropped (%llu changed, %llu terms)",
		   (unsigned long long)counts.quads_changed, (unsigned long long)counts.terms_added);
		ok(id_of(st, "<http://ex.org/rolled-back>") == 0, "loader: terms of rolled-back quads are not written");
		is_int(find_label(st, "rolled back", NULL, &found_id), 0, "loader: labels of rolled-back quads are dropped");
		is_int(kg_loader_pending(ld), 0, "loader: nothing pending after apply");
		kg_loader_free(ld);

		/* Deleting restores the counts. */
		rc = kg_loader_new(&ld, st, "src-1", NULL, KG_LOADER_DELETE, &err);
		nt_term("<http://ex.org/s4>", &q.s, &lit);
		nt_term("<http://ex.org/p1>", &q.p, &lit);
		nt_term("<http://ex.org/o1>", &q.o, &lit);
		kg_loader_add(ld, &q, &err);
		kg_loader_commit(ld);
		memset(&counts, 0, sizeof(counts));
		rc = kg_loader_apply(ld, &counts, &err);
		ok(rc == 0 && counts.quads_changed == 1, "loader: delete one quad");
		kg_loader_free(ld);
		ling_buf_release(&lit);
	}

	/* Delete part of graph1: the counters go down, matches disappear. */
	rc = load_quads(st, graph1 + 7, 3, KG_LOADER_DELETE, "src-1", &counts, &err);
	ok(rc == 0 && counts.quads_changed == 3, "delete: three label quads");
	is_int(find_label(st, "other thing", NULL, &found_id), 0, "delete: their labels are gone");
	is_int(find_label(st, "\xC3\xBCn\xC3\xAF" "code strasse", NULL, &found_id), 0, "delete: the folded label too");
	rc = kg_store_stats(st, &stats, &err);
	ok(rc == 0 && stats.quads == NGRAPH1 - 3 && stats.predicates == 4, "delete: 3 fewer quads, 2 fewer predicates");
	rc = kg_store_degree(st, s1, &outd, &ind, &err);
	ok(rc == 0 && outd == 6 && ind == 1, "delete: s1 out-degree 6");
	rc = load_quads(st, graph1 + 7, 3, KG_LOADER_DELETE, "src-1", &counts, &err);
	ok(rc == 0 && counts.quads_changed == 0, "delete: deleting again changes nothing");
	rc = load_quads(st, graph1 + 7, 3, 0, "src-1", &counts, &err);
	ok(rc == 0 && counts.quads_changed == 3 && counts.terms_added == 0, "delete: adding back");
	rc = kg_store_stats(st, &stats, &err);
	ok(rc == 0 && stats.quads == stats1.quads && stats.entities == stats1.entities &&
		   stats.predicates == stats1.predicates && stats.terms == stats1.terms + 1,
	   "delete then add restores the counts (terms keep s4)");
	is_int(find_label(st, "other thing", NULL, &found_id), 2, "delete then add: the labels are back");
	check_all_patterns(st, ref, NGRAPH1, "graph1 after delete and re-add");

	/* Delete every quad: every count goes to zero but the dictionary stays. */
	rc = load_quads(st, graph1, NGRAPH1, KG_LOADER_DELETE, "src-1", &counts, &err);
	ok(rc == 0 && counts.quads_changed == NGRAPH1, "delete all of graph1");
	rc = kg_store_stats(st, &stats, &err);
	ok(rc == 0 && stats.quads == 0 && stats.entities == 0 && stats.predicates == 0,
	   "after deleting everything: 0 quads, entities, predicates");
	is_int(count_match(st, 0, 0, 0, 0, 0), 0, "after deleting everything: no quad matches");
	{
		struct count_acc a;

		memset(&a, 0, sizeof(a));
		rc = kg_store_counts(st, 'p', count_cb, &a, &err);
		ok(rc == 0 && a.n == 0, "after deleting everything: no predicate counter is reported");
		ling_buf_release(&a.keys);
	}
	rc = load_quads(st, graph1, NGRAPH1, 0, "src-1", &counts, &err);
	ok(rc == 0 && counts.quads_changed == NGRAPH1 && counts.terms_added == 0, "re-load graph1");

	/* Blank nodes are scoped by the source key. */
	rc = fixture_load(st, "file-a", KG_FORMAT_NTRIPLES,
			  "_:x <http://ex.org/bp> \"v\" .\n_:x <http://ex.org/bp> _:y .\nnot a triple\n", NULL, 1, &counts,
			  &err);
	ok(rc == 0 && counts.quads_changed == 2 && counts.terms_added == 4,
	   "bnodes: a parsed load through a sink (bad line skipped)");
	rc = fixture_load(st, "file-a", KG_FORMAT_NTRIPLES, "_:x <http://ex.org/bp> \"v\" .\n", NULL, 1, &counts, &err);
	ok(rc == 0 && counts.quads_changed == 0, "bnodes: same source, same node");
	rc = fixture_load(st, "file-b", KG_FORMAT_NTRIPLES, "_:x <http://ex.org/bp> \"v\" .\n", NULL, 1, &counts, &err);
	ok(rc == 0 && counts.quads_changed == 1 && counts.terms_added == 1, "bnodes: another source, another node");
	is_int(count_match(st, 0, id_of(st, "<http://ex.org/bp>"), 0, 0, KG_BOUND_P), 3, "bnodes: three bp quads");
	/* As written: a decomposed literal is another term than the composed one (RDF 1.1 term equality). */
	rc = fixture_load(st, "f", KG_FORMAT_NTRIPLES, "<http://ex.org/n> <http://ex.org/np> \"caf\\u0065\\u0301\" .\n",
			  NULL, 1, &counts, &err);
	ok(rc == 0 && counts.quads_changed == 1 && nt_id_of(st, "\"cafe\xCC\x81\"") != 0 &&
	   nt_id_of(st, "\"caf\xC3\xA9\"") == 0, "as written: stored decomposed");
	rc = fixture_load(st, "f", KG_FORMAT_NTRIPLES, "<http://ex.org/n> <http://ex.org/np> \"caf\xC3\xA9\" .\n", NULL, 1,
			  &counts, &err);
	ok(rc == 0 && counts.quads_changed == 1, "as written: the composed form is another quad");
	rc = kg_store_stats(st, &stats, &err);

	/* A load big enough for the SST path: 10000 quads, more than 20000 keys. */
	{
		struct kg_loader *ld;
		struct ling_buf s = LING_BUF_INIT, o = LING_BUF_INIT;
		struct kg_quad q;
		kg_id bigp;
		int i, sst_before = count_sst_files(dir.data);

		rc = kg_loader_new(&ld, st, "big", NULL, 0, &err);
		for (i = 0; i < 10000 && !rc; i++) {
			memset(&q, 0, sizeof(q));
			ling_buf_reset(&s);
			ling_buf_addf(&s, "http://ex.org/big/e%d", i);
			ling_buf_reset(&o);
			ling_buf_addf(&o, "http://ex.org/big/e%d", (i * 7 + 1) % 10000);
			q.s.type = KG_TERM_IRI, q.s.value = s.data, q.s.len = s.len;
			q.p.type = KG_TERM_IRI, q.p.value = i % 2 ? "http://ex.org/big/odd" : "http://ex.org/big/even";
			q.p.len = strlen(q.p.value);
			q.o.type = KG_TERM_IRI, q.o.value = o.data, q.o.len = o.len;
			rc = kg_loader_add(ld, &q, &err);
			kg_loader_commit(ld);
		}
		memset(&counts, 0, sizeof(counts));
		if (!rc)
			rc = kg_loader_apply(ld, &counts, &err);
		kg_loader_free(ld);
		ok(rc == 0 && counts.quads_changed == 10000 && counts.terms_added == 10002,
		   "big: 10000 quads, 10002 new terms (rc %d: %s)", rc, err.msg);
		ok(count_sst_files(dir.data) > sst_before, "big: the load was ingested as SST files (%d before, %d after)",
		   sst_before, count_sst_files(dir.data));
		rc = kg_store_stats(st, &stats_big, &err);
		ok(rc == 0 && stats_big.quads == stats.quads + 10000 && stats_big.terms == stats.terms + 10002 &&
			   stats_big.entities == stats.entities + 10000 && stats_big.predicates == stats.predicates + 2,
		   "big: stats grow by 10000 quads, 10000 entities, 2 predicates");
		bigp = id_of(st, "<http://ex.org/big/odd>");
		is_int(count_match(st, 0, bigp, 0, 0, KG_BOUND_P), 5000, "big: 5000 odd quads");
		rc = kg_store_degree(st, id_of(st, "<http://ex.org/big/e1>"), &outd, &ind, &err);
		ok(rc == 0 && outd == 1 && ind == 1, "big: degree of e1 is 1/1");
		is_int(count_match(st, id_of(st, "<http://ex.org/big/e3>"), 0, id_of(st, "<http://ex.org/big/e22>"), 0,
				   KG_BOUND_S | KG_BOUND_O),
		       1, "big: e3 -> e22 by s+o");

		/* The same big load again: nothing changes. */
		rc = kg_loader_new(&ld, st, "big", NULL, 0, &err);
		for (i = 0; i < 10000 && !rc; i++) {
			memset(&q, 0, sizeof(q));
			ling_buf_reset(&s);
			ling_buf_addf(&s, "http://ex.org/big/e%d", i);
			ling_buf_reset(&o);
			ling_buf_addf(&o, "http://ex.org/big/e%d", (i * 7 + 1) % 10000);
			q.s.type = KG_TERM_IRI, q.s.value = s.data, q.s.len = s.len;
			q.p.type = KG_TERM_IRI, q.p.value = i % 2 ? "http://ex.org/big/odd" : "http://ex.org/big/even";
			q.p.len = strlen(q.p.value);
			q.o.type = KG_TERM_IRI, q.o.value = o.data, q.o.len = o.len;
			rc = kg_loader_add(ld, &q, &err);
			kg_loader_commit(ld);
		}
		memset(&counts, 0, sizeof(counts));
		if (!rc)
			rc = kg_loader_apply(ld, &counts, &err);
		ok(rc == 0 && counts.quads_changed == 0, "big: re-applying changes 0 quads");
		kg_loader_free(ld);

		/* Delete it all again. */
		rc = kg_loader_new(&ld, st, "big", NULL, KG_LOADER_DELETE, &err);
		for (i = 0; i < 10000 && !rc; i++) {
			memset(&q, 0, sizeof(q));
			ling_buf_reset(&s);
			ling_buf_addf(&s, "http://ex.org/big/e%d", i);
			ling_buf_reset(&o);
			ling_buf_addf(&o, "http://ex.org/big/e%d", (i * 7 + 1) % 10000);
			q.s.type = KG_TERM_IRI, q.s.value = s.data, q.s.len = s.len;
			q.p.type = KG_TERM_IRI, q.p.value = i % 2 ? "http://ex.org/big/odd" : "http://ex.org/big/even";
			q.p.len = strlen(q.p.value);
			q.o.type = KG_TERM_IRI, q.o.value = o.data, q.o.len = o.len;
			rc = kg_loader_add(ld, &q, &err);
			kg_loader_commit(ld);
		}
		memset(&counts, 0, sizeof(counts));
		if (!rc)
			rc = kg_loader_apply(ld, &counts, &err);
		ok(rc == 0 && counts.quads_changed == 10000, "big: delete the 10000 quads");
		kg_loader_free(ld);
		rc = kg_store_stats(st, &stats_big, &err);
		ok(rc == 0 && stats_big.quads == stats.quads && stats_big.entities == stats.entities &&
			   stats_big.predicates == stats.predicates,
		   "big: deleting restores the counts");
		ling_buf_release(&s);
		ling_buf_release(&o);
	}

	/* A graph for triples without one. */
	{
		struct kg_loader *ld;
		struct kg_term g = { KG_TERM_IRI, "http://ex.org/g2", 16, NULL, 0, NULL, 0 };
		struct kg_quad q;

		rc = kg_loader_new(&ld, st, "x", &g, 0, &err);
		memset(&q, 0, sizeof(q));
		q.s = g;
		q.p = g;
		q.o = g;
		kg_loader_add(ld, &q, &err);
		kg_loader_commit(ld);
		memset(&counts, 0, sizeof(counts));
		rc = kg_loader_apply(ld, &counts, &err);
		kg_loader_free(ld);
		ok(rc == 0 && counts.quads_changed == 1, "graph option: one quad");
		g1 = id_of(st, "<http://ex.org/g2>");
		is_int(count_match(st, 0, 0, 0, g1, KG_BOUND_G), 1, "graph option: the quad is in g2");
	}

	/* An invalid term fails the add. */
	{
		struct kg_loader *ld;
		struct kg_quad q;

		rc = kg_loader_new(&ld, st, "x", NULL, 0, &err);
		memset(&q, 0, sizeof(q));
		q.s.type = KG_TERM_IRI, q.s.value = "http://ex.org/s", q.s.len = 15;
		q.p = q.s;
		q.o.type = KG_TERM_LITERAL, q.o.value = "bad \xFF", q.o.len = 5;
		ling_err_clear(&err);
		rc = kg_loader_add(ld, &q, &err);
		is_int(rc, LING_EDATA, "loader: invalid UTF-8 in a term is LING_EDATA");
		kg_loader_free(ld);
	}

	rc = kg_store_stats(st, &stats, &err);
	kg_store_close(st);
	st = NULL;

	/* Read-only. */
	rc = kg_store_open(&st, dir.data, KG_STORE_READONLY, &err);
	ok(rc == 0 && st, "readonly: open");
	if (st) {
		struct kg_loader *ld = NULL;

		rc = kg_store_stats(st, &stats_big, &err);
		ok(rc == 0 && stats_big.quads == stats.quads && stats_big.terms == stats.terms &&
			   stats_big.entities == stats.entities,
		   "readonly: the same stats after reopening");
		is_int(count_match(st, s1, 0, 0, 0, KG_BOUND_S), 7, "readonly: matches work");
		is_int(find_label(st, "other thing", NULL, &found_id), 2, "readonly: labels work");
		rc = kg_loader_new(&ld, st, "x", NULL, 0, &err);
		ok(rc == LING_EUSAGE && ld == NULL, "readonly: no loader");
		kg_store_close(st);
		st = NULL;
	}
	/* A second writer while one is open: RocksDB's lock refuses it. */
	rc = kg_store_open(&st, dir.data, 0, &err);
	if (st) {
		struct kg_store *st2 = NULL;

		rc = kg_store_open(&st2, dir.data, 0, &err);
		ok(rc == LING_ESTORE && st2 == NULL, "a second writer is refused (%d)", rc);
		kg_store_close(st2);
		kg_store_close(st);
		st = NULL;
	}

	/* A directory with other files is not a store. */
	{
		struct ling_buf other = LING_BUF_INIT;
		FILE *f;

		ling_buf_addf(&other, "%s/other", tmpdir);
		mkdir(other.data, 0755);
		ling_buf_adds(&other, "/file.txt");
		f = fopen(other.data, "w");
		if (f)
			fclose(f);
		ling_buf_truncate(&other, other.len - strlen("/file.txt"));
		rc = kg_store_open(&st, other.data, KG_STORE_CREATE, &err);
		ok(rc == LING_ESTORE && st == NULL, "a directory holding other files is refused");
		kg_store_close(st);
		ling_buf_release(&other);
	}

	ling_buf_release(&dir);
	ling_buf_release(&b);
}

/* Labels: the index folds them, the terms keep them as written; a NUL inside a label is not a key separator. */
static void test_label_keys(void)
{
	struct ling_buf dir = LING_BUF_INIT;
	struct kg_load_counts counts = { 0 };
	struct kg_store *st = NULL;
	struct ling_err err;
	kg_id first;
	int rc;

	ling_err_clear(&err);
	ling_buf_addf(&dir, "%s/labels", tmpdir);
	if (!ok(kg_store_open(&st, dir.data, KG_STORE_CREATE, &err) == 0, "labels: create a store")) {
		ling_buf_release(&dir);
		return;
	}
	rc = fixture_load(st, "f", KG_FORMAT_NTRIPLES,
			  "<http://ex.org/nul> <http://www.w3.org/2000/01/rdf-schema#label> \"ab\\u0000cd\" .\n"
			  "<http://ex.org/ab> <http://www.w3.org/2000/01/rdf-schema#label> \"AB\" .\n"
			  "<http://ex.org/cafe> <http://www.w3.org/2000/01/rdf-schema#label> \"Cafe\\u0301\" .\n",
			  NULL, 0, &counts, &err);
	ok(rc == 0 && counts.quads_changed == 3, "labels: loaded");
	ok(find_label(st, "ab", NULL, &first) == 1 && first == nt_id_of(st, "<http://ex.org/ab>"),
	   "labels: \"ab\" does not find the label \"ab\\u0000cd\"");
	ok(nt_id_of(st, "\"ab\\u0000cd\"") != 0, "labels: the literal with NUL is stored whole");
	ok(find_label(st, "caf\xC3\xA9", NULL, &first) == 1 && first == nt_id_of(st, "<http://ex.org/cafe>"),
	   "labels: the index is normalised (a composed query finds a decomposed label)");
	ok(nt_id_of(st, "\"Cafe\xCC\x81\"") != 0 && nt_id_of(st, "\"Caf\xC3\xA9\"") == 0,
	   "labels: the label term itself is kept as written");
	kg_store_close(st);
	ling_buf_release(&dir);
}

/* kg_summary: the counters kg-stat shows, sorted, as JSON and text. */
static void test_summary(void)
{
	struct ling_buf dir = LING_BUF_INIT, out = LING_BUF_INIT;
	struct kg_load_counts counts = { 0 };
	struct kg_summary sum;
	struct kg_store *st = NULL;
	struct ling_err err;
	const char *json_tail;
	int rc;

	ling_err_clear(&err);
	ling_buf_addf(&dir, "%s/summary", tmpdir);
	if (!ok(kg_store_open(&st, dir.data, KG_STORE_CREATE, &err) == 0, "summary: create a store")) {
		ling_buf_release(&dir);
		return;
	}
	rc = fixture_load(st, "f", KG_FORMAT_NTRIPLES,
			  "<http://e/a> <http://e/p> <http://e/b> .\n"
			  "<http://e/a> <http://e/p> <http://e/c> .\n"
			  "<http://e/b> <http://e/q> <http://e/c> .\n"
			  "<http://e/a> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://e/T> .\n"
			  "<http://e/a> <http://www.w3.org/2000/01/rdf-schema#label> \"A\"@en .\n"
			  "<http://e/b> <http://www.w3.org/2000/01/rdf-schema#label> \"B\"@en .\n"
			  "<http://e/c> <http://www.w3.org/2000/01/rdf-schema#label> \"C\" .\n",
			  NULL, 0, &counts, &err);
	ok(rc == 0 && counts.quads_changed == 7, "summary: loaded");
	rc = kg_summary_read(st, &sum, &err);
	ok(rc == 0 && sum.stats.quads == 7 && sum.predicates.n == 4 && sum.languages.n == 2 && sum.types.n == 1,
	   "summary: totals and list lengths (%" PRIu64 " quads, %zu predicates, %zu languages, %zu types)",
	   sum.stats.quads, sum.predicates.n, sum.languages.n, sum.types.n);
	if (rc == 0 && sum.predicates.n == 4) {
		is_str(sum.predicates.items[0].name, "<http://www.w3.org/2000/01/rdf-schema#label>",
		       "summary: the largest count first");
		ok(sum.predicates.items[1].count == 2 && !strcmp(sum.predicates.items[1].name, "<http://e/p>") &&
		   !strcmp(sum.predicates.items[2].name, "<http://e/q>"), "summary: equal counts by name");
	}
	kg_summary_json(&sum, 1, &out);
	json_tail = strstr(out.data, ",\"top_predicates\"");
	is_str(json_tail,
	       ",\"top_predicates\":[{\"name\":\"<http://www.w3.org/2000/01/rdf-schema#label>\",\"count\":3}],"
	       "\"label_languages\":[{\"name\":\"en\",\"count\":2},{\"name\":\"\",\"count\":1}],"
	       "\"top_types\":[{\"name\":\"<http://e/T>\",\"count\":1}]}\n",
	       "summary: JSON lists, top 1 for predicates and types, every language");
	ok(!strncmp(out.data, "{\"quads\":7,\"terms\":", 19), "summary: JSON starts with the totals");
	ling_buf_reset(&out);
	kg_summary_text(&sum, 2, &out);
	ok(strstr(out.data, "quads       7\n") && strstr(out.data, "languages   2\n") &&
	   strstr(out.data, "predicates (4):\n             3  <http://www.w3.org/2000/01/rdf-schema#label>\n"
			    "             2  <http://e/p>\n  ... 2 more (--top 0 lists all)\n") &&
	   strstr(out.data, "labels by language (2):\n             2  en\n             1  (none)\n"),
	   "summary: text, top 2, the empty tag as (none)");
	kg_summary_release(&sum);
	ok(sum.predicates.n == 0 && !sum.predicates.items, "summary: released");
	kg_store_close(st);
	ling_buf_release(&out);
	ling_buf_release(&dir);
}

/* kg_loader_source_key: the content, not the name, scopes blank nodes. */
static void test_source_key(void)
{
	struct ling_buf a = LING_BUF_INIT, b = LING_BUF_INIT;
	char ka[KG_SOURCE_KEY_SIZE], kb[KG_SOURCE_KEY_SIZE];
	struct ling_err err;
	FILE *f;

	ling_err_clear(&err);
	ling_buf_addf(&a, "%s/a.nt", tmpdir);
	ling_buf_addf(&b, "%s/b.nt", tmpdir);
	if ((f = fopen(a.data, "w"))) {
		fputs("_:x <http://e/p> _:y .\n", f);
		fclose(f);
	}
	if ((f = fopen(b.data, "w"))) {
		fputs("_:x <http://e/p> _:y .\n", f);
		fclose(f);
	}
	ok(kg_loader_source_key(a.data, "stdin", ka, &err) == 0 && kg_loader_source_key(b.data, "stdin", kb, &err) == 0 &&
	   !strcmp(ka, kb) && strlen(ka) == 32, "source key: two names, same bytes, same 32-digit key (%s)", ka);
	if ((f = fopen(b.data, "a"))) {
		fputs("_:y <http://e/p> _:x .\n", f);
		fclose(f);
	}
	ok(kg_loader_source_key(b.data, "stdin", kb, &err) == 0 && strcmp(ka, kb), "source key: other bytes, other key");
	ok(kg_loader_source_key("-", "my-key", ka, &err) == 0 && !strcmp(ka, "my-key"), "source key: stdin takes the given key");
	kg_loader_source_key("-", "0123456789012345678901234567890123456789xyz", ka, &err);
	is_int((int)strlen(ka), KG_SOURCE_KEY_SIZE - 1, "source key: a long stdin key is cut to fit");
	ling_buf_addf(&a, ".missing");
	is_int(kg_loader_source_key(a.data, "stdin", ka, &err), LING_EIO, "source key: a missing file is LING_EIO");
	ok(!strcmp(err.file, a.data) && strstr(err.msg, "cannot open"), "source key: naming the file (%s)", err.msg);
	ling_buf_release(&a);
	ling_buf_release(&b);
}

/* A format 1 store (terms keyed after NFC) is refused, not misread. */
static void test_old_format(void)
{
	struct ling_buf dir = LING_BUF_INIT;
	struct kg_store *st = NULL;
	struct ling_err err;
	const struct ling_rocksdb_opts opts = { 0, LING_ROCKSDB_MERGE_NONE, 0, 0, 0 };
	struct ling_rocksdb *db = NULL;
	int rc;

	ling_err_clear(&err);
	ling_buf_addf(&dir, "%s/old", tmpdir);
	rc = kg_store_open(&st, dir.data, KG_STORE_CREATE, &err);
	ok(rc == 0, "old format: create a store");
	kg_store_close(st);
	st = NULL;
	rc = ling_rocksdb_open(&db, dir.data, &opts, "cannot open", &err);
	if (!rc)
		rc = ling_rocksdb_put(db, "Mformat", 7, "1", 1, "cannot write", &err);
	ling_rocksdb_close(db);
	ok(rc == 0, "old format: stamp it format 1");
	rc = kg_store_open(&st, dir.data, KG_STORE_READONLY, &err);
	ok(rc == LING_ESTORE && !st && strstr(err.msg, "store format 1 is older than this kg (2)") &&
	   strstr(err.msg, "load the sources again"), "old format: refused read-only (%s)", err.msg);
	ling_err_clear(&err);
	rc = kg_store_open(&st, dir.data, KG_STORE_CREATE, &err);
	ok(rc == LING_ESTORE && !st, "old format: refused for loading too");
	kg_store_close(st);
	ling_buf_release(&dir);
}

int main(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/ling-test-kg.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! cannot create a temporary directory: %s\n", strerror(errno));
		return 1;
	}
	test_formats();
	test_write_nt();
	test_ntriples_good();
	test_ntriples_bad();
	test_turtle_rollback();
	test_tsv();
	test_canon();
	test_store();
	test_label_keys();
	test_old_format();
	test_summary();
	test_source_key();
	fixture_remove_tree(tmpdir);
	return done_testing();
}
