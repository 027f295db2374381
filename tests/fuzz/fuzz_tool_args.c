/*
 * libFuzzer target, differential: the two readers of tool-call arguments.
 *
 *   kg side     kg_tool_args_check: jansson, then kg_tools' own checks (what
 *               kg_tool_call and `kg-query --call` accept);
 *   synth side  synth_json_parse, the tool's parameters compiled by
 *               synth_schema_new and checked by synth_schema_valid, plus the
 *               checks synth_exec_call adds with synth_call_args (a literal
 *               relation's inverse tool: kg_value_of_arg on the number's
 *               text, a range's "to" no less than its start): what
 *               kg2samples' replay accepts.
 *
 * The tools are the real catalogue of a small store (entity relations and
 * integer, year, number, date and text literal relations, the logic tools
 * and search_entities), built once per process in a temporary directory
 * that is removed as soon as the catalogue is built. The first input byte
 * picks the tool, the rest is the arguments text; both sides must agree on
 * accept or reject.
 *
 * Besides, the strict reader is compared with jansson on the text alone:
 * both take it or both refuse it, and what they read is the same tree
 * (types, keys in order, string bytes, integer values).
 *
 * Documented differences, left out of the comparison:
 *  - jansson refuses an integer beyond 64 bits and a real beyond a double
 *    ("too big integer", "real number overflow"); the strict reader keeps a
 *    number's text and lets the tool judge it.
 *  - the strict reader refuses nesting deeper than 64 (jansson 2048); no
 *    tool's arguments nest deeper than 3.
 *  - jansson takes a NUL byte right after a number at the end of the text
 *    ("2\0") as its end; a C string, all kg_tool_call takes, holds none.
 * Run by tests/t1900-fuzz.sh.
 */
#include "common/ling_err.h"
#include "common/ling_input.h"
#include "common/ling_mem.h"
#include "kg/kg.h"
#include "synth/synth_internal.h"

#include <dirent.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char store_ttl[] =
	"@prefix ex: <http://ex.org/> .\n"
	"@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
	"@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
	"ex:City rdfs:label \"city\"@en . ex:Person rdfs:label \"person\"@en .\n"
	"ex:pop rdfs:label \"population\"@en ; rdfs:domain ex:City .\n"
	"ex:mayor rdfs:label \"mayor\"@en ; rdfs:domain ex:City ; rdfs:range ex:Person .\n"
	"ex:a rdfs:label \"Aville\" ; ex:pop 75 ; ex:area 1.5 ; ex:motto \"Up\" ; ex:founded \"1850-01-02\"^^xsd:date ;\n"
	"  ex:built \"1850\"^^xsd:gYear ; ex:mayor ex:p .\n"
	"ex:b rdfs:label \"Btown\" ; ex:pop 12 ; ex:area 2 ; ex:motto \"On\" ; ex:founded \"1901-05-06\"^^xsd:date ;\n"
	"  ex:built \"1901\"^^xsd:gYear ; ex:mayor ex:q .\n"
	"ex:p rdfs:label \"Pat\" . ex:q rdfs:label \"Quinn\" .\n";

struct catalogue {
	struct kg_toolset *ts;
	struct synth_schema **schema;
};

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct ling_buf p = LING_BUF_INIT;

	if (!d)
		return;
	while ((de = readdir(d))) {
		struct stat sb;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ling_buf_reset(&p);
		ling_buf_addf(&p, "%s/%s", dir, de->d_name);
		if (lstat(p.data, &sb) == 0 && S_ISDIR(sb.st_mode))
			remove_tree(p.data);
		else
			unlink(p.data);
	}
	closedir(d);
	rmdir(dir);
	ling_buf_release(&p);
}

static int sink_quad(void *ctx, const struct kg_quad *q, struct ling_err *err)
{
	return kg_loader_add(ctx, q, err);
}

static void sink_commit(void *ctx)
{
	kg_loader_commit(ctx);
}

static void sink_rollback(void *ctx)
{
	kg_loader_rollback(ctx);
}

static int sink_error(void *ctx, const struct ling_err *err)
{
	(void)ctx;
	(void)err;
	return 1;
}

static void build(struct catalogue *c)
{
	char dir[] = "/tmp/ling-fuzz-tool-args-XXXXXX";
	struct kg_toolset_opts opts = { 1, "en" };
	struct kg_parse_opts popts;
	struct kg_load_counts counts;
	struct kg_loader *ld = NULL;
	struct ling_input *in = NULL;
	struct kg_store *st = NULL;
	struct kg_sink sink;
	struct ling_err err;
	size_t i;

	ling_err_clear(&err);
	memset(&popts, 0, sizeof(popts));
	popts.format = KG_FORMAT_TURTLE;
	if (!mkdtemp(dir)) {
		perror("fuzz: mkdtemp");
		abort();
	}
	if (kg_store_open(&st, dir, KG_STORE_CREATE, &err) || kg_loader_new(&ld, st, "fuzz", NULL, 0, &err) ||
	    ling_input_open_mem(&in, "store.ttl", store_ttl, sizeof(store_ttl) - 1, &err))
		goto fail;
	sink = (struct kg_sink){ ld, sink_quad, sink_commit, sink_rollback, sink_error };
	if (kg_parse(in, &popts, &sink, &err) || kg_loader_apply(ld, &counts, &err) ||
	    kg_toolset_build(st, &opts, &c->ts, &err))
		goto fail;
	ling_input_close(in);
	kg_loader_free(ld);
	kg_store_close(st);
	remove_tree(dir);
	c->schema = xcalloc(c->ts->ntools, sizeof(*c->schema));
	for (i = 0; i < c->ts->ntools; i++) {
		char why[160];

		if (!(c->schema[i] = synth_schema_new(c->ts->tools[i].parameters, why, sizeof(why)))) {
			fprintf(stderr, "fuzz: tool %s: %s\n", c->ts->tools[i].name, why);
			abort();
		}
	}
	return;
fail:
	fprintf(stderr, "fuzz: cannot build the catalogue: %s\n", err.msg);
	remove_tree(dir);
	abort();
}

/* Jansson's errors for numbers it cannot hold (json_int_t, double). */
static int jansson_number_limit(const json_error_t *e)
{
	return strstr(e->text, "too big") || strstr(e->text, "overflow");
}

static size_t depth(const json_t *j)
{
	size_t d = 0, k, i;
	const char *key;
	json_t *v;

	if (json_is_array(j))
		json_array_foreach(j, i, v)
			if ((k = depth(v)) > d)
				d = k;
	if (json_is_object(j))
		json_object_foreach((json_t *)j, key, v)
			if ((k = depth(v)) > d)
				d = k;
	return d + (json_is_array(j) || json_is_object(j));
}

static void differ(const char *what)
{
	fprintf(stderr, "fuzz: the strict reader and jansson differ: %s\n", what);
	abort();
}

/* The strict reader's value v and jansson's j are the same JSON. */
static void same_tree(const struct synth_jreader *r, const struct synth_jv *v, const json_t *j)
{
	static const json_type types[] = { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_INTEGER, JSON_REAL, JSON_STRING,
					   JSON_ARRAY, JSON_OBJECT };
	const char *key;
	json_t *e;
	uint32_t i;
	size_t k;

	if (types[v->type] != json_typeof(j))
		differ("a value's type");
	switch (v->type) {
	case SYNTH_J_INT: {
		char *end;
		long long x = strtoll(synth_jv_str(r, v), &end, 10);

		if (end != synth_jv_str(r, v) + v->len || x != (long long)json_integer_value(j))
			differ("an integer");
		break;
	}
	case SYNTH_J_STR:
		if (v->len != json_string_length(j) || memcmp(synth_jv_str(r, v), json_string_value(j), v->len))
			differ("a string");
		break;
	case SYNTH_J_ARR:
		if (v->n != json_array_size(j))
			differ("an array's size");
		for (i = v->kid, k = 0; i != SYNTH_NONE; i = r->v[i].next, k++)
			same_tree(r, &r->v[i], json_array_get(j, k));
		break;
	case SYNTH_J_OBJ:
		if (v->n != json_object_size(j))
			differ("an object's size");
		i = v->kid;
		json_object_foreach((json_t *)j, key, e) {
			if (strlen(key) != r->v[i].klen || memcmp(key, r->scratch.data + r->v[i].key, r->v[i].klen))
				differ("a key or the order of keys");
			same_tree(r, &r->v[i], e);
			i = r->v[i].next;
		}
		break;
	default:
		break;
	}
}

/* synth_json_parse against jansson on text[0..n). */
static void check_reader(struct synth_jreader *r, const char *text, size_t n)
{
	json_error_t jerr;
	json_t *j = json_loadb(text, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	int ours = synth_json_parse(r, text, n) == 0;

	if (!j) {
		if (ours && !jansson_number_limit(&jerr)) {
			fprintf(stderr, "fuzz: the strict reader takes what jansson refuses: %s\n", jerr.text);
			abort();
		}
		return;
	}
	if (!ours && depth(j) <= 64)
		differ("the strict reader refuses what jansson takes");
	if (ours)
		same_tree(r, &r->v[0], j);
	json_decref(j);
}

/* What synth_exec_call accepts before it looks names up. */
static int synth_accepts(const struct catalogue *c, size_t tool, struct synth_jreader *r, const char *text, size_t n)
{
	const struct kg_tool *t = &c->ts->tools[tool];
	struct synth_call_args a;
	struct ling_buf want = LING_BUF_INIT, to = LING_BUF_INIT;
	int rc;

	if (synth_json_parse(r, text, n) || r->v[0].type != SYNTH_J_OBJ || !synth_schema_valid(c->schema[tool], r, &r->v[0]))
		return 0;
	if (t->kind != KG_TOOL_FORWARD && t->kind != KG_TOOL_INVERSE)
		return 1;
	rc = synth_call_args(t, r, &r->v[0], &a, &want, &to);
	ling_buf_release(&want);
	ling_buf_release(&to);
	return !rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct catalogue c;
	struct synth_jreader r;
	struct ling_err err;
	json_error_t jerr;
	json_t *j;
	char *text;
	size_t tool, n;
	int kg, synth;

	if (!c.ts)
		build(&c);
	if (size < 1)
		return 0;
	tool = data[0] % c.ts->ntools;
	n = size - 1;
	text = xstrndup((const char *)data + 1, n);
	memset(&r, 0, sizeof(r));
	if (strlen(text) != n)
		goto out; /* kg_tool_call takes a C string */
	check_reader(&r, text, n);
	ling_err_clear(&err);
	kg = kg_tool_args_check(&c.ts->tools[tool], text, &err);
	if (kg && (kg != LING_EDATA || err.code != kg || !err.msg[0])) {
		fprintf(stderr, "fuzz: a refusal without err set: %d %s\n", kg, err.msg);
		abort();
	}
	kg = !kg;
	synth = synth_accepts(&c, tool, &r, text, n);
	if (kg != synth) {
		j = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
		if (!j && jansson_number_limit(&jerr))
			goto out;
		json_decref(j);
		fprintf(stderr, "fuzz: tool %s (%s): kg %s, synth %s the arguments%s%s\n", c.ts->tools[tool].name,
			c.ts->tools[tool].parameters, kg ? "takes" : "refuses", synth ? "takes" : "refuses",
			kg ? "" : ": ", kg ? "" : err.msg);
		abort();
	}
out:
	synth_jreader_release(&r);
	free(text);
	return 0;
}
