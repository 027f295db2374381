/*
 * Unit tests of synth: the JSON writer and reader, schema validation, the
 * snapshot, calls on names against kg_tool_call, the 14 pattern trees and
 * their gold answers against an evaluation on the store, verification of
 * corrupted samples, the mix, and the run's determinism across threads and
 * shards.
 */
#include "tap.h"
#include "fixture.h"
#include "common/ling_err.h"
#include "common/ling_input.h"
#include "common/ling_mem.h"
#include "kg/kg.h"
#include "synth/synth_internal.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "common/banned.h"

static char tmpdir[4096];

/* A new store tmpdir/name from Turtle text, or from the file path (N-Triples, or Turtle for *.ttl) when text is NULL. */
static struct kg_store *make_store(const char *name, const char *text, const char *path, struct ling_buf *dir)
{
	struct kg_store *st = NULL;
	struct kg_load_counts counts = { 0 };
	enum kg_format format;
	struct ling_err err;
	int rc;

	ling_err_clear(&err);
	format = text || (strlen(path) > 4 && !strcmp(path + strlen(path) - 4, ".ttl")) ? KG_FORMAT_TURTLE
										      : KG_FORMAT_NTRIPLES;
	ling_buf_reset(dir);
	ling_buf_addf(dir, "%s/%s", tmpdir, name);
	rc = kg_store_open(&st, dir->data, KG_STORE_CREATE, &err);
	if (!rc)
		rc = fixture_load(st, name, format, text, path, 0, &counts, &err);
	if (!ok(rc == 0, "store %s: loaded %llu quads", name, (unsigned long long)counts.quads_changed)) {
		diag("%s:%ld: %s", err.file, err.line, err.msg);
		kg_store_close(st);
		st = NULL;
	}
	return st;
}

/* ---- JSON ---- */

static void test_json_reader(void)
{
	static const char *const good[] = {
		"{}", "[]", "{\"a\":\"x\"}", " { \"a\" : [ \"x\" , \"y\" ] , \"b\" : 1 } ", "\"\\u00e9\\ud83d\\ude00\"",
		"[1,-2,3.5,1e3,true,false,null]", "{\"sets\":[[\"A\",\"B\"],[]]}",
	};
	static const char *const bad[] = {
		"", "{", "{\"a\":1,}", "{\"a\":1,\"a\":2}", "[1 2]", "\"\\ud800\"", "\"\\u0000\"", "01", "{\"a\":tru}",
		"{} x", "{'a':1}", "\"a\nb\"", "[1,]", "\"\xff\"", "-", "1.", "{\"a\"}",
	};
	struct synth_jreader r;
	struct ling_buf deep = LING_BUF_INIT;
	size_t i;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(synth_json_parse(&r, good[i], strlen(good[i])) == 0, "reader takes %s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(synth_json_parse(&r, bad[i], strlen(bad[i])) != 0, "reader refuses bad case %zu", i);
	ok(synth_json_parse(&r, "{\"k\":\"a\\\"b\\\\c\\u00e9\"}", strlen("{\"k\":\"a\\\"b\\\\c\\u00e9\"}")) == 0 && r.v[0].type == SYNTH_J_OBJ &&
		   r.v[0].n == 1 && !strcmp(synth_jv_str(&r, &r.v[r.v[0].kid]), "a\"b\\c\xc3\xa9"),
	   "reader decodes escapes");
	for (i = 0; i < 70; i++)
		ling_buf_addc(&deep, '[');
	for (i = 0; i < 70; i++)
		ling_buf_addc(&deep, ']');
	ok(synth_json_parse(&r, deep.data, deep.len) != 0, "reader refuses nesting deeper than 64");
	ling_buf_release(&deep);
	synth_jreader_release(&r);
}

static int valid(const struct synth_schema *s, const char *json)
{
	struct synth_jreader r;
	int v;

	memset(&r, 0, sizeof(r));
	v = !synth_json_parse(&r, json, strlen(json)) && synth_schema_valid(s, &r, &r.v[0]);
	synth_jreader_release(&r);
	return v;
}

static void test_schema(void)
{
	char why[160];
	struct synth_schema *diff = synth_schema_new(
		"{\"type\":\"object\",\"properties\":{\"items\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
		"\"exclude\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}},\"required\":[\"items\",\"exclude\"],"
		"\"additionalProperties\":false}",
		why, sizeof(why));
	struct synth_schema *sets = synth_schema_new(
		"{\"type\":\"object\",\"properties\":{\"sets\":{\"type\":\"array\",\"minItems\":2,\"items\":{\"type\":"
		"\"array\",\"items\":{\"type\":\"string\"}}}},\"required\":[\"sets\"],\"additionalProperties\":false}",
		why, sizeof(why));

	ok(diff && sets, "schemas compile");
	if (!diff || !sets)
		return;
	ok(valid(diff, "{\"items\":[\"a\",\"b\"],\"exclude\":[]}"), "difference: valid arguments");
	ok(!valid(diff, "{\"items\":[\"a\"]}"), "difference: a missing key");
	ok(!valid(diff, "{\"items\":[\"a\"],\"exclude\":[],\"x\":1}"), "difference: an extra key");
	ok(!valid(diff, "{\"items\":\"a\",\"exclude\":[]}"), "difference: a string for an array");
	ok(!valid(diff, "{\"items\":[1],\"exclude\":[]}"), "difference: a number in a list of names");
	ok(!valid(diff, "[]"), "difference: not an object");
	ok(valid(sets, "{\"sets\":[[\"a\"],[\"b\",\"c\"]]}"), "intersection: two sets");
	ok(!valid(sets, "{\"sets\":[[\"a\"]]}"), "intersection: one set is below minItems");
	ok(!synth_schema_new("{\"type\":\"object\",\"patternProperties\":{}}", why, sizeof(why)),
	   "a keyword the subset lacks is refused (%s)", why);
	ok(!synth_schema_new("{\"type\":\"thing\"}", why, sizeof(why)), "an unknown type is refused");
	synth_schema_free(diff);
	synth_schema_free(sets);
}

/* ---- a small graph ---- */

static const char films_ttl[] =
	"@prefix ex: <http://example.org/> .\n"
	"@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
	"ex:Film rdfs:label \"film\"@en . ex:Person rdfs:label \"person\"@en . ex:City rdfs:label \"city\"@en .\n"
	"ex:directedBy rdfs:label \"director\"@en ; rdfs:domain ex:Film ; rdfs:range ex:Person .\n"
	"ex:starring rdfs:label \"actor\"@en ; rdfs:domain ex:Film ; rdfs:range ex:Person .\n"
	"ex:bornIn rdfs:label \"place of birth\"@en ; rdfs:domain ex:Person ; rdfs:range ex:City .\n"
	"ex:alien rdfs:label \"Alien\"@en ; ex:directedBy ex:scott ; ex:starring ex:weaver , ex:holm .\n"
	"ex:blade rdfs:label \"Blade Runner\"@en ; ex:directedBy ex:scott ; ex:starring ex:ford , ex:js1 .\n"
	"ex:heat rdfs:label \"Heat\"@en ; ex:directedBy ex:mann ; ex:starring ex:pacino , ex:js2 , ex:m123 .\n"
	"ex:thief rdfs:label \"Thief\"@en ; ex:directedBy ex:mann ; ex:starring ex:caan .\n"
	"ex:quoted rdfs:label \"The \\\"Quoted\\\" \\\\ Film\"@en ; ex:directedBy ex:mann ; ex:starring ex:caan .\n"
	"ex:scott rdfs:label \"Ridley Scott\"@en ; ex:bornIn ex:shields .\n"
	"ex:mann rdfs:label \"Michael Mann\"@en ; ex:bornIn ex:chicago .\n"
	"ex:weaver rdfs:label \"Sigourney Weaver\"@en ; ex:bornIn ex:nyc .\n"
	"ex:holm rdfs:label \"Ian Holm\"@en ; ex:bornIn ex:falmouth .\n"
	"ex:ford rdfs:label \"Harrison Ford\"@en ; ex:bornIn ex:chicago .\n"
	"ex:pacino rdfs:label \"Al Pacino\"@en ; ex:bornIn ex:nyc .\n"
	"ex:caan rdfs:label \"James Caan\"@en ; ex:bornIn ex:nyc .\n"
	"ex:js1 rdfs:label \"John Smith\"@en ; ex:bornIn ex:chicago .\n"
	"ex:js2 rdfs:label \"John Smith\"@en ; ex:bornIn ex:nyc .\n"
	"ex:shields rdfs:label \"South Shields\"@en . ex:chicago rdfs:label \"Chicago\"@en .\n"
	"ex:nyc rdfs:label \"New York City\"@en . ex:falmouth rdfs:label \"Falmouth\"@en .\n";

static struct kg_toolset *toolset(struct kg_store *st, uint64_t min_facts)
{
	struct kg_toolset_opts o = { min_facts, "en" };
	struct kg_toolset *ts = NULL;
	struct ling_err err;

	ling_err_clear(&err);
	if (!ok(kg_toolset_build(st, &o, &ts, &err) == 0, "toolset built"))
		diag("%s", err.msg);
	return ts;
}

static int load_graph(struct synth_graph *g, struct kg_store *st, const struct kg_toolset *ts)
{
	struct ling_err err;

	ling_err_clear(&err);
	if (!ok(synth_graph_load(g, st, ts, "en", &err) == 0, "snapshot loaded")) {
		diag("%s", err.msg);
		return -1;
	}
	return 0;
}

static uint32_t ent_of_name(const struct synth_graph *g, const char *name)
{
	uint32_t nm = synth_name_find(g, name, strlen(name));

	return nm == SYNTH_NONE ? SYNTH_NONE : g->name_ent[g->name_ent_off[nm]];
}

static uint32_t tool_index(const struct kg_toolset *ts, const char *name)
{
	const struct kg_tool *t = kg_toolset_find(ts, name);

	return t ? (uint32_t)(t - ts->tools) : SYNTH_NONE;
}

/* synth_exec_call's result text, "reject <reason>" when it rejects. */
static const char *exec_text(const struct synth_graph *g, struct synth_ws *ws, uint32_t tool, const char *args,
			     struct ling_buf *b)
{
	struct ling_u32s out = { 0 };
	int rc = synth_exec_call(g, ws, tool, args, strlen(args), &out);

	ling_buf_reset(b);
	if (rc)
		ling_buf_addf(b, "reject %s", synth_reject_name(SYNTH_REASON(rc)));
	else
		synth_names_json(g, out.v, out.n, b);
	ling_u32s_release(&out);
	return b->data;
}

static void test_small_graph(struct kg_store *st)
{
	struct kg_toolset *ts = toolset(st, 1);
	struct synth_graph g;
	struct synth_ws ws;
	struct ling_buf b = LING_BUF_INIT, args = LING_BUF_INIT, want = LING_BUF_INIT;
	size_t i, calls = 0, same = 0, unnamed = 0;
	uint32_t k, e, sorted = 1;

	memset(&ws, 0, sizeof(ws));
	if (!ts || load_graph(&g, st, ts))
		goto out;
	is_int(g.nrel, 3, "three relations with tools");
	for (k = 1; k < g.nnames; k++)
		sorted &= strcmp(synth_name(&g, k - 1), synth_name(&g, k)) < 0;
	ok(sorted, "names are numbered in byte order");
	e = ent_of_name(&g, "John Smith");
	ok(e != SYNTH_NONE && g.name_ent_off[g.ent_name[e] + 1] - g.name_ent_off[g.ent_name[e]] == 2,
	   "\"John Smith\" names two entities");
	for (e = 0, k = 0; e < g.nent; e++)
		if (g.ent_name[e] == SYNTH_NONE)
			k++, ok(strstr(synth_iri(&g, e), "m123") != NULL, "the unnamed entity is ex:m123");
	is_int(k, 1, "one entity has no name");
	is_int(synth_name_find(&g, "Nobody", 6), SYNTH_NONE, "an unknown name is not found");

	/* Every relation tool on every name: the snapshot answers as kg_tool_call does on the store. */
	for (i = 0; i < ts->ntools; i++) {
		const struct kg_tool *t = &ts->tools[i];

		if (t->kind != KG_TOOL_FORWARD && t->kind != KG_TOOL_INVERSE)
			continue;
		for (k = 0; k < g.nnames; k++) {
			struct ling_err err;
			const char *got;

			ling_buf_reset(&args);
			ling_buf_addc(&args, '{');
			ling_json_add_strz(&args, t->param, 0);
			ling_buf_addc(&args, ':');
			ling_json_add_strz(&args, synth_name(&g, k), 0);
			ling_buf_addc(&args, '}');
			ling_err_clear(&err);
			if (kg_tool_call(st, ts, t->name, args.data, &want, &err))
				continue;
			calls++;
			got = exec_text(&g, &ws, (uint32_t)i, args.data, &b);
			if (!strcmp(got, "reject unnamed entity"))
				unnamed += strstr(want.data, "<http://example.org/m123>") != NULL;
			else if (!strcmp(got, want.data))
				same++;
			else
				diag("%s %s: kg_tool_call %s, snapshot %s", t->name, args.data, want.data, got);
		}
	}
	ok(calls > 20 && same + unnamed == calls && unnamed == 1,
	   "%zu calls on names: %zu as kg_tool_call, %zu rejected for the unnamed entity", calls, same, unnamed);

	/* Names and sets. */
	{
		uint32_t actors = tool_index(ts, "find_films_by_actor"), born = SYNTH_NONE;

		for (i = 0; i < ts->ntools; i++)
			if (ts->tools[i].kind == KG_TOOL_FORWARD && strstr(ts->tools[i].predicate_iri, "bornIn"))
				born = (uint32_t)i;
		ok(born != SYNTH_NONE, "the place-of-birth tool");
		if (born != SYNTH_NONE) {
			ling_buf_reset(&args);
			ling_buf_addf(&args, "{\"%s\":\"John Smith\"}", ts->tools[born].param);
			is_str(exec_text(&g, &ws, born, args.data, &b), "[\"Chicago\",\"New York City\"]",
			       "a shared name stands for both entities");
			ling_buf_reset(&args);
			ling_buf_addf(&args, "{\"%s\":\"Nobody\"}", ts->tools[born].param);
			is_str(exec_text(&g, &ws, born, args.data, &b), "reject replay", "a name no entity has");
			is_str(exec_text(&g, &ws, born, "{\"x\":\"Heat\"}", &b), "reject schema", "a wrong key");
			is_str(exec_text(&g, &ws, born, "{", &b), "reject schema", "arguments that are not JSON");
		}
		(void)actors;
		is_str(exec_text(&g, &ws, g.tool_and, "{\"sets\":[[\"Heat\",\"Thief\",\"Alien\"],[\"Thief\",\"Heat\"]]}", &b),
		       "[\"Heat\",\"Thief\"]", "intersection");
		is_str(exec_text(&g, &ws, g.tool_or, "{\"sets\":[[\"Heat\"],[\"Alien\"],[\"Heat\"]]}", &b),
		       "[\"Alien\",\"Heat\"]", "union of three sets, sorted and distinct");
		is_str(exec_text(&g, &ws, g.tool_minus, "{\"items\":[\"Heat\",\"Thief\"],\"exclude\":[\"Thief\"]}", &b),
		       "[\"Heat\"]", "difference");
		is_str(exec_text(&g, &ws, g.tool_and, "{\"sets\":[[\"Heat\"]]}", &b), "reject schema",
		       "intersection of one set");
		is_str(exec_text(&g, &ws, g.tool_minus, "{\"items\":[\"Heat\"],\"exclude\":[]}", &b), "[\"Heat\"]",
		       "difference with nothing to exclude");
	}
	synth_graph_release(&g);
out:
	synth_ws_release(&ws);
	kg_toolset_free(ts);
	ling_buf_release(&b);
	ling_buf_release(&args);
	ling_buf_release(&want);
}

/* ---- patterns on FB15k-237 ---- */

/* The tree of q as text: A, H(...), !negated, &(...), |(...). */
static void shape(const struct synth_query *q, int i, struct ling_buf *b)
{
	const struct synth_qnode *n = &q->n[i];
	int k;

	switch (n->op) {
	case SYNTH_ANCHOR: ling_buf_addc(b, 'A'); return;
	case SYNTH_HOP: ling_buf_adds(b, "H("); break;
	case SYNTH_AND: ling_buf_adds(b, "&("); break;
	case SYNTH_OR: ling_buf_adds(b, "|("); break;
	}
	for (k = 0; k < n->nkids; k++) {
		if (k)
			ling_buf_addc(b, ',');
		if (n->negated[k])
			ling_buf_addc(b, '!');
		shape(q, n->kid[k], b);
	}
	ling_buf_addc(b, ')');
}

struct idset {
	kg_id *v;
	size_t n, cap;
};

static int cmp_id(const void *a, const void *b)
{
	kg_id x = *(const kg_id *)a, y = *(const kg_id *)b;

	return x < y ? -1 : x > y;
}

static void idset_sort(struct idset *s)
{
	size_t i, n = 0;

	qsort(s->v, s->n, sizeof(*s->v), cmp_id);
	for (i = 0; i < s->n; i++)
		if (!n || s->v[n - 1] != s->v[i])
			s->v[n++] = s->v[i];
	s->n = n;
}

static void idset_push(struct idset *s, kg_id x)
{
	s->v = xgrow(s->v, &s->cap, s->n + 1, sizeof(*s->v));
	s->v[s->n++] = x;
}

struct collect {
	struct idset *out;
	int slot;
};

static int on_quad(void *ctx, const kg_id quad[4])
{
	struct collect *c = ctx;

	idset_push(c->out, quad[c->slot]);
	return 0;
}

static kg_id store_id(struct kg_store *st, const char *iri)
{
	struct ling_buf nt = LING_BUF_INIT;
	struct ling_err err;
	kg_id id = 0;
	int found = 0;

	ling_buf_addf(&nt, "<%s>", iri);
	ling_err_clear(&err);
	kg_store_nt_id(st, nt.data, &id, &found, &err);
	ling_buf_release(&nt);
	return found ? id : 0;
}

/* Evaluates node i of q on the store itself, by index scans: the independent gold set. */
static void eval_store(struct kg_store *st, const struct synth_graph *g, const struct synth_query *q, int i,
		       struct idset *out)
{
	const struct synth_qnode *n = &q->n[i];
	struct idset kid[3];
	size_t j, k, m;
	int c;

	memset(kid, 0, sizeof(kid));
	out->n = 0;
	for (c = 0; c < n->nkids; c++)
		eval_store(st, g, q, n->kid[c], &kid[c]);
	switch (n->op) {
	case SYNTH_ANCHOR:
		idset_push(out, store_id(st, synth_iri(g, n->x)));
		break;
	case SYNTH_HOP:
		for (j = 0; j < kid[0].n; j++) {
			struct kg_pattern pat;
			struct collect cc = { out, n->x & 1 ? 0 : 2 };
			struct ling_err err;

			memset(&pat, 0, sizeof(pat));
			pat.p = g->rel[n->x >> 1].pred;
			if (n->x & 1)
				pat.o = kid[0].v[j], pat.bound = KG_BOUND_P | KG_BOUND_O;
			else
				pat.s = kid[0].v[j], pat.bound = KG_BOUND_S | KG_BOUND_P;
			ling_err_clear(&err);
			kg_store_match(st, &pat, on_quad, &cc, &err);
		}
		break;
	case SYNTH_OR:
		for (c = 0; c < n->nkids; c++)
			for (j = 0; j < kid[c].n; j++)
				idset_push(out, kid[c].v[j]);
		break;
	case SYNTH_AND:
		/* members of the first positive kid in every positive kid and in no negated one */
		for (c = 0; c < n->nkids && n->negated[c]; c++)
			;
		for (j = 0; j < kid[c].n; j++) {
			int keep = 1;

			for (k = 0; k < (size_t)n->nkids; k++) {
				int in = 0;

				for (m = 0; m < kid[k].n; m++)
					in |= kid[k].v[m] == kid[c].v[j];
				keep &= n->negated[k] ? !in : in;
			}
			if (keep)
				idset_push(out, kid[c].v[j]);
		}
		break;
	}
	idset_sort(out);
	for (c = 0; c < 3; c++)
		free(kid[c].v);
}

static void test_patterns(struct kg_store *st)
{
	static const char *const shapes[SYNTH_NPATTERNS] = {
		"H(A)", "H(H(A))", "H(H(H(A)))", "&(H(A),H(A))", "&(H(A),H(A),H(A))", "H(&(H(A),H(A)))",
		"&(H(H(A)),H(A))", "|(H(A),H(A))", "H(|(H(A),H(A)))", "&(H(A),!H(A))", "&(H(A),H(A),!H(A))",
		"H(&(H(A),!H(A)))", "&(H(H(A)),!H(A))", "&(!H(H(A)),H(A))",
	};
	struct kg_toolset *ts = toolset(st, 10);
	struct synth_limits lim = { 20, 32 };
	struct synth_graph g;
	struct synth_ws ws;
	struct synth_sample s;
	struct ling_buf b = LING_BUF_INIT;
	int p;

	memset(&ws, 0, sizeof(ws));
	memset(&s, 0, sizeof(s));
	if (!ts || load_graph(&g, st, ts))
		goto out;
	for (p = 0; p < SYNTH_NPATTERNS; p++) {
		int made = 0, shape_ok = 0, gold_ok = 0, plan_ok = 0, tries;
		uint64_t seed;

		for (seed = 0, tries = 0; made < 20 && tries < 20000; seed++, tries++) {
			uint64_t rng = XXH3_64bits_withSeed(&seed, sizeof(seed), (uint64_t)p);
			struct synth_query *q = &ws.q[0];
			struct idset gold = { 0 };
			static const int q0[] = { 0 };
			size_t j;
			int same;

			if (synth_query_sample(&g, &lim, p, &rng, q, ws.sets))
				continue;
			made++;
			ling_buf_reset(&b);
			shape(q, q->nn - 1, &b);
			shape_ok += !strcmp(b.data, shapes[p]);
			eval_store(st, &g, q, q->nn - 1, &gold);
			same = gold.n == q->val[q->nn - 1].n && gold.n > 0;
			for (j = 0; same && j < gold.n; j++) {
				kg_id id = store_id(st, synth_iri(&g, q->val[q->nn - 1].v[j]));

				same = bsearch(&id, gold.v, gold.n, sizeof(*gold.v), cmp_id) != NULL;
			}
			gold_ok += same;
			free(gold.v);
			/* the plan on names reaches the gold set, or rejects for a name shared by several entities */
			synth_sample_reset(&s);
			j = (size_t)synth_plan(&g, &lim, &ws, &s, q0, 1, NULL, 0, &rng, 0);
			plan_ok += j == 0 || (int)j == SYNTH_REJECT(SYNTH_REJ_AMBIGUOUS) ||
				   (int)j == SYNTH_REJECT(SYNTH_REJ_UNNAMED);
			if (j && (int)j != SYNTH_REJECT(SYNTH_REJ_AMBIGUOUS) && (int)j != SYNTH_REJECT(SYNTH_REJ_UNNAMED))
				diag("%s: plan: %s", synth_category_name(p), synth_reject_name(SYNTH_REASON((int)j)));
		}
		ok(made == 20 && shape_ok == made && gold_ok == made && plan_ok == made,
		   "%s: %d made, %d of shape %s, %d with the store's answer, %d planned", synth_category_name(p), made,
		   shape_ok, shapes[p], gold_ok, plan_ok);
	}
	synth_graph_release(&g);
out:
	synth_ws_release(&ws);
	synth_sample_release(&s);
	kg_toolset_free(ts);
	ling_buf_release(&b);
}

/* ---- verification of corrupted samples ---- */

static int verify_copy(const struct synth_graph *g, struct synth_ws *ws, const struct synth_sample *s,
		       void (*corrupt)(struct synth_sample *c, const struct synth_graph *g))
{
	struct synth_sample c;
	int rc;

	memset(&c, 0, sizeof(c));
	c = *s;
	/* a deep enough copy: the text and the arrays a corruption touches */
	memset(&c.text, 0, sizeof(c.text));
	ling_buf_add(&c.text, s->text.data, s->text.len);
	c.msg = xmalloc((s->nmsg + 1) * sizeof(*c.msg));
	memcpy(c.msg, s->msg, s->nmsg * sizeof(*c.msg));
	c.msg_cap = s->nmsg + 1;
	c.call = xmalloc((s->ncall + 1) * sizeof(*c.call));
	memcpy(c.call, s->call, s->ncall * sizeof(*c.call));
	c.call_cap = s->ncall + 1;
	memset(&c.names, 0, sizeof(c.names));
	synth_set_copy(&c.names, s->names.v, s->names.n);
	memset(&c.tools, 0, sizeof(c.tools));
	synth_set_copy(&c.tools, s->tools.v, s->tools.n);
	memset(&c.answer, 0, sizeof(c.answer));
	synth_set_copy(&c.answer, s->answer.v, s->answer.n);
	memset(&c.evidence, 0, sizeof(c.evidence));
	corrupt(&c, g);
	rc = synth_verify(g, ws, &c);
	synth_sample_release(&c);
	return rc;
}

static void none(struct synth_sample *c, const struct synth_graph *g)
{
	(void)c, (void)g;
}

/* The first call's result loses its first name. */
static void drop_result(struct synth_sample *c, const struct synth_graph *g)
{
	struct synth_call *k = &c->call[0];

	(void)g;
	k->res = (uint32_t)c->text.len;
	ling_buf_adds(&c->text, "[]");
	k->res_len = 2;
}

static void bad_json_args(struct synth_sample *c, const struct synth_graph *g)
{
	(void)g;
	c->call[0].args_len--; /* drops the closing brace */
}

static void extra_key(struct synth_sample *c, const struct synth_graph *g)
{
	struct synth_call *k = &c->call[0];
	uint32_t at = (uint32_t)c->text.len;

	(void)g;
	ling_buf_add(&c->text, c->text.data + k->args, k->args_len - 1);
	ling_buf_adds(&c->text, ",\"extra\":\"x\"}");
	k->args = at;
	k->args_len = (uint32_t)(c->text.len - at);
}

static void unknown_name(struct synth_sample *c, const struct synth_graph *g)
{
	struct synth_call *k = &c->call[0];
	uint32_t at = (uint32_t)c->text.len;

	(void)g;
	ling_buf_add(&c->text, c->text.data + k->args, k->args_len - 2);
	ling_buf_adds(&c->text, " (no such thing)\"}");
	k->args = at;
	k->args_len = (uint32_t)(c->text.len - at);
}

static void wrong_answer(struct synth_sample *c, const struct synth_graph *g)
{
	(void)g;
	c->answer.n--;
}

static void reply_drops_a_name(struct synth_sample *c, const struct synth_graph *g)
{
	struct synth_msg *m = &c->msg[c->nmsg - 1];

	(void)g;
	m->text = (uint32_t)c->text.len;
	ling_buf_adds(&c->text, "I could not say.");
	m->text_len = (uint32_t)(c->text.len - m->text);
}

static void tool_not_offered(struct synth_sample *c, const struct synth_graph *g)
{
	size_t i, n = 0;

	(void)g;
	for (i = 0; i < c->tools.n; i++)
		if (c->tools.v[i] != c->call[0].tool)
			c->tools.v[n++] = c->tools.v[i];
	c->tools.n = n;
}

static void test_verify(struct kg_store *st)
{
	struct kg_toolset *ts = toolset(st, 10);
	struct synth_text *tx = NULL;
	struct synth_graph g;
	struct synth_ws ws;
	struct synth_sample s;
	struct ling_err err;
	int rc = 1;
	uint64_t seed;

	memset(&ws, 0, sizeof(ws));
	memset(&s, 0, sizeof(s));
	ling_err_clear(&err);
	if (!ts || load_graph(&g, st, ts))
		goto out;
	if (!ok(synth_text_new(&tx, "en", NULL, 0, &err) == 0, "templates"))
		goto release;
	{
		struct synth_gen gen = { &g, tx, { 20, 32 }, 16, 0, "uuid", "en", SYNTH_FORMAT_OPENAI };

		for (seed = 0; seed < 1000 && rc; seed++) {
			uint64_t rng = seed;

			synth_sample_reset(&s);
			/* a 2p sample with a result of two or more names and at most 10 answers */
			rc = synth_make(&gen, &ws, SYNTH_CAT_2P, &rng, &s);
			if (!rc && (s.call[0].nnames < 2 || s.answer.n > 10))
				rc = 1;
		}
	}
	if (!ok(rc == 0, "a 2p sample to corrupt"))
		goto release;
	is_int(verify_copy(&g, &ws, &s, none), 0, "the sample verifies");
	is_int(verify_copy(&g, &ws, &s, drop_result), SYNTH_REJECT(SYNTH_REJ_REPLAY), "a changed result: replay");
	is_int(verify_copy(&g, &ws, &s, bad_json_args), SYNTH_REJECT(SYNTH_REJ_SCHEMA), "arguments not JSON: schema");
	is_int(verify_copy(&g, &ws, &s, extra_key), SYNTH_REJECT(SYNTH_REJ_SCHEMA), "an extra argument: schema");
	is_int(verify_copy(&g, &ws, &s, unknown_name), SYNTH_REJECT(SYNTH_REJ_REPLAY), "a name no entity has: replay");
	is_int(verify_copy(&g, &ws, &s, wrong_answer), SYNTH_REJECT(SYNTH_REJ_ANSWER), "an answer missing: answer");
	is_int(verify_copy(&g, &ws, &s, reply_drops_a_name), SYNTH_REJECT(SYNTH_REJ_ANSWER),
	       "a reply that names no answer: answer");
	is_int(verify_copy(&g, &ws, &s, tool_not_offered), SYNTH_REJECT(SYNTH_REJ_SCHEMA),
	       "a call of a tool not offered: schema");
release:
	synth_text_free(tx);
	synth_graph_release(&g);
out:
	synth_ws_release(&ws);
	synth_sample_release(&s);
	kg_toolset_free(ts);
}

/* ---- literal relations and search, on tests/data/literals.ttl ---- */

/* The arguments of tool t on name k: a value as a JSON number or string; 0 when no argument asks for it. */
static int tool_args(const struct synth_graph *g, const struct kg_tool *t, uint32_t k, struct ling_buf *args)
{
	int number = t->value == KG_VALUE_INTEGER || t->value == KG_VALUE_YEAR || t->value == KG_VALUE_NUMBER;

	ling_buf_reset(args);
	ling_buf_addc(args, '{');
	ling_json_add_strz(args, t->param, 0);
	ling_buf_addc(args, ':');
	if (t->kind == KG_TOOL_INVERSE && t->value != KG_VALUE_ENTITY) {
		if (!kg_value_is_canonical(t->value, synth_name(g, k), g->name_len[k]))
			return 0;
		if (number)
			ling_buf_adds(args, synth_name(g, k));
		else
			ling_json_add_strz(args, synth_name(g, k), 0);
	} else {
		ling_json_add_strz(args, synth_name(g, k), 0);
	}
	ling_buf_addc(args, '}');
	return 1;
}

/* The first sample of category cat (over seeds from 0) whose calls satisfy want; 0 when found. */
static int find_sample(const struct synth_gen *gen, struct synth_ws *ws, struct synth_sample *s, int cat,
		       int (*want)(const struct synth_gen *gen, const struct synth_sample *s))
{
	uint64_t seed;

	for (seed = 0; seed < 3000; seed++) {
		uint64_t rng = seed;

		synth_sample_reset(s);
		if (!synth_make(gen, ws, cat, &rng, s) && !synth_verify(gen->g, ws, s) && want(gen, s))
			return 0;
	}
	return 1;
}

static const char *call_name(const struct synth_gen *gen, const struct synth_sample *s, size_t j)
{
	return gen->g->ts->tools[s->call[j].tool].name;
}

static int asks_by_year(const struct synth_gen *gen, const struct synth_sample *s)
{
	size_t j;

	for (j = 0; j < s->ncall; j++)
		if (!strcmp(call_name(gen, s, j), "find_films_by_release_year"))
			return 1;
	return 0;
}

static int ends_in_height(const struct synth_gen *gen, const struct synth_sample *s)
{
	return s->ncall && !strcmp(call_name(gen, s, s->ncall - 1), "get_person_height");
}

static int searches(const struct synth_gen *gen, const struct synth_sample *s)
{
	return s->ncall && s->call[0].tool == gen->g->tool_search;
}

static void test_literals(struct kg_store *st)
{
	struct kg_toolset *ts = toolset(st, 10);
	struct synth_text *tx = NULL;
	struct synth_graph g;
	struct synth_ws ws;
	struct synth_sample s;
	struct ling_buf b = LING_BUF_INIT, args = LING_BUF_INIT, want = LING_BUF_INIT;
	struct ling_err err;
	size_t i, calls = 0, same = 0, values = 0, searched = 0, search_same = 0;
	uint32_t k, e;

	memset(&ws, 0, sizeof(ws));
	memset(&s, 0, sizeof(s));
	ling_err_clear(&err);
	if (!ts || load_graph(&g, st, ts))
		goto out;
	is_int(g.nrel, 9, "literals.ttl: nine relations, six of them literal");
	for (e = 0; e < g.nent; e++)
		values += synth_is_literal(&g, e) && g.ent_name[e] != SYNTH_NONE;
	is_int(values, 95, "every literal object is a named value, one per literal term and type");
	k = synth_name_find(&g, "1999", 4);
	ok(k != SYNTH_NONE && g.name_ent_off[k + 1] - g.name_ent_off[k] == 2,
	   "\"1999\"^^xsd:gYear and \"1999\"^^xsd:integer: two values of one name");
	ok(synth_name_find(&g, "1.80", 4) == SYNTH_NONE && synth_name_find(&g, "1.8", 3) != SYNTH_NONE &&
	   synth_name_find(&g, "2000Z", 5) == SYNTH_NONE && synth_name_find(&g, "1942-11-17", 10) != SYNTH_NONE,
	   "values are named by their canonical form");

	/* Every relation tool on every name: the snapshot answers as kg_tool_call does on the store. */
	for (i = 0; i < ts->ntools; i++) {
		const struct kg_tool *t = &ts->tools[i];

		if (t->kind != KG_TOOL_FORWARD && t->kind != KG_TOOL_INVERSE)
			continue;
		for (k = 0; k < g.nnames; k++) {
			const char *got;

			if (!tool_args(&g, t, k, &args))
				continue;
			ling_err_clear(&err);
			if (kg_tool_call(st, ts, t->name, args.data, &want, &err))
				continue;
			calls++;
			got = exec_text(&g, &ws, (uint32_t)i, args.data, &b);
			if (!strcmp(got, want.data))
				same++;
			else
				diag("%s %s: kg_tool_call %s, snapshot %s", t->name, args.data, want.data, got);
		}
	}
	ok(calls > 300 && same == calls, "%zu calls on names and values: %zu as kg_tool_call", calls, same);
	is_str(exec_text(&g, &ws, tool_index(ts, "find_films_by_release_year"), "{\"release_year\":1999}", &b),
	       "[\"American Beauty\",\"Fight Club\",\"The Virgin Suicides\"]", "a year: both literals of 1999");
	is_str(exec_text(&g, &ws, tool_index(ts, "find_people_by_height"), "{\"height\":1.80}", &b),
	       "[\"Bong Joon-ho\",\"David Fincher\",\"Guillermo del Toro\",\"Peter Weir\"]",
	       "a number: 1.80 is \"1.8\"^^xsd:double and \"1.80\"^^xsd:decimal");
	is_str(exec_text(&g, &ws, tool_index(ts, "find_films_by_release_year"), "{\"release_year\":1850}", &b), "[]",
	       "a value no literal has: []");
	is_str(exec_text(&g, &ws, tool_index(ts, "find_films_by_release_year"), "{\"release_year\":\"1999\"}", &b),
	       "reject schema", "a string for a year: schema");
	is_str(exec_text(&g, &ws, tool_index(ts, "find_people_by_birth_date"), "{\"birth_date\":\"1942-11-31\"}", &b),
	       "reject schema", "no such day: schema");

	/* search_entities: the table holds the names it resolves from their lowercase spelling */
	for (k = 0; k < g.nnames; k++) {
		ling_buf_reset(&b);
		synth_ascii_lower(synth_name(&g, k), g.name_len[k], &b);
		if (synth_search_find(&g, b.data, b.len) != k)
			continue;
		searched++;
		ling_buf_reset(&args);
		ling_buf_adds(&args, "{\"name\":");
		ling_json_add_str(&args, b.data, b.len, 0);
		ling_buf_addc(&args, '}');
		ling_err_clear(&err);
		if (!kg_tool_call(st, ts, "search_entities", args.data, &want, &err) &&
		    !strcmp(exec_text(&g, &ws, g.tool_search, args.data, &b), want.data))
			search_same++;
	}
	is_int(g.nsearch, 62, "the search table: every entity name with a capital (one Belfast for two entities)");
	ok(searched == g.nsearch && search_same == searched, "%zu searches as kg_tool_call answers them", search_same);
	is_str(exec_text(&g, &ws, g.tool_search, "{\"name\":\"belfast\"}", &b), "[\"Belfast\"]",
	       "search: a name of two entities");
	is_str(exec_text(&g, &ws, g.tool_search, "{\"name\":\"Ridley Scott\"}", &b), "reject replay",
	       "search: only lowercase spellings replay");

	if (!ok(synth_text_new(&tx, "en", NULL, 0, &err) == 0, "templates"))
		goto release;
	{
		struct synth_gen gen = { &g, tx, { 20, 32 }, 16, 0, "uuid", "en", SYNTH_FORMAT_OPENAI };

		if (ok(!find_sample(&gen, &ws, &s, SYNTH_CAT_1P, asks_by_year), "a 1p sample asking by release year")) {
			const struct synth_call *c = &s.call[s.ncall - 1];

			ok(c->args_len > 17 && !memcmp(s.text.data + c->args, "{\"release_year\":", 16) &&
			   s.text.data[c->args + 16] >= '0' && s.text.data[c->args + 16] <= '9',
			   "the year is a JSON integer: %.*s", (int)c->args_len, s.text.data + c->args);
		}
		ok(!find_sample(&gen, &ws, &s, SYNTH_CAT_2P, ends_in_height), "a 2p sample ending in a height (a value)");
		if (ok(!find_sample(&gen, &ws, &s, SYNTH_CAT_2P, searches), "a 2p sample that searches first")) {
			const struct synth_call *c = &s.call[0], *next = &s.call[1];
			const struct synth_msg *user = &s.msg[0];
			char asked[128];

			snprintf(asked, sizeof(asked), "%.*s", (int)c->args_len - 11, s.text.data + c->args + 9);
			ok(s.msg[1].ncalls == 1 && strchr(asked, ' ') != asked && !strpbrk(asked, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
			   "the first turn is search_entities on a lowercase spelling: %s", asked);
			ok(memmem(s.text.data + user->text, user->text_len, asked, strlen(asked)) != NULL,
			   "the user wrote it so");
			ok(next->args_len > 0 && s.msg[2].role == SYNTH_MSG_CALLS &&
			   memmem(s.text.data + next->args, next->args_len, s.text.data + c->res + 2, c->res_len - 4),
			   "the next turn calls a tool on the name search returned: %.*s", (int)next->args_len,
			   s.text.data + next->args);
		}
	}
release:
	synth_text_free(tx);
	synth_graph_release(&g);
out:
	synth_ws_release(&ws);
	synth_sample_release(&s);
	kg_toolset_free(ts);
	ling_buf_release(&b);
	ling_buf_release(&args);
	ling_buf_release(&want);
}

/* ---- options and runs ---- */

static void test_mix(void)
{
	struct synth_options o;
	struct ling_err err;
	int i, zero = 0;

	synth_options_init(&o);
	ling_err_clear(&err);
	ok(synth_mix_parse(&o, "1p=3,instruction=1", &err) == 0 && o.mix[SYNTH_CAT_1P] == 3 &&
		   o.mix[SYNTH_CAT_FACT] == 0.2 && o.mix[SYNTH_CAT_2P] == 1,
	   "--mix: a category and a group split evenly");
	ok(synth_patterns_parse(&o, "2in,parallel", &err) == 0 && o.mix[SYNTH_CAT_2IN] == 1 &&
		   o.mix[SYNTH_CAT_PARALLEL] == 1,
	   "--patterns keeps the named categories");
	for (i = 0; i < SYNTH_NCAT; i++)
		zero += o.mix[i] == 0;
	is_int(zero, SYNTH_NCAT - 2, "--patterns drops the others");
	ok(synth_mix_parse(&o, "1p", &err) == LING_EUSAGE, "--mix without a weight: %s", err.msg);
	ok(synth_mix_parse(&o, "1p=-1", &err) == LING_EUSAGE, "--mix with a negative weight");
	ok(synth_mix_parse(&o, "5p=1", &err) == LING_EUSAGE, "--mix with an unknown category");
	ok(synth_patterns_parse(&o, "", &err) == LING_EUSAGE, "an empty --patterns");
	is_int(synth_category_find("multi_turn"), SYNTH_CAT_MULTI_TURN, "category names");
}

struct collect_lines {
	struct ling_buf out;
	size_t lines;
};

static int collect_line(void *ctx, const char *line, size_t len, const char *aux, size_t auxlen,
			struct ling_err *err)
{
	struct collect_lines *c = ctx;

	(void)aux, (void)auxlen, (void)err;
	ling_buf_add(&c->out, line, len);
	ling_buf_addc(&c->out, '\n');
	c->lines++;
	return 0;
}

/* Runs that did not account for every index of their share: written + given_up != asked, or lines != written. */
static int runs_unaccounted;

static int run(const char *dir, int threads, uint64_t shard, uint64_t nshards, uint64_t seed, struct ling_buf *out)
{
	struct synth_options o;
	struct synth_sink sink;
	struct collect_lines c;
	struct synth *s = NULL;
	struct ling_err err;
	int rc;

	synth_options_init(&o);
	o.store_dir = dir;
	o.count = 300;
	o.seed = seed;
	o.threads = threads;
	o.shard = shard;
	o.nshards = nshards;
	memset(&c, 0, sizeof(c));
	memset(&sink, 0, sizeof(sink));
	sink.ctx = &c;
	sink.emit = collect_line;
	ling_err_clear(&err);
	rc = synth_open(&s, &o, &err);
	if (!rc)
		rc = synth_run(s, &sink, &err);
	if (rc)
		diag("run: %s", err.msg);
	if (!rc) {
		const struct synth_counts *n = synth_counts(s);

		/* shard i of n has [i*count/n, (i+1)*count/n): 100 of the 300 for each third */
		if (n->asked != o.count / nshards || n->written + n->given_up != n->asked || c.lines != n->written) {
			diag("run shard %" PRIu64 "/%" PRIu64 ": asked %" PRIu64 ", wrote %" PRIu64 ", gave up %" PRIu64
			     ", %zu lines", shard, nshards, n->asked, n->written, n->given_up, c.lines);
			runs_unaccounted++;
		}
	}
	synth_close(s);
	ling_buf_add(out, c.out.data, c.out.len);
	ling_buf_release(&c.out);
	return rc;
}

static void test_runs(const char *dir)
{
	struct ling_buf one = LING_BUF_INIT, three = LING_BUF_INIT, shards = LING_BUF_INIT, other = LING_BUF_INIT;
	int rc;

	rc = run(dir, 1, 0, 1, 7, &one);
	rc |= run(dir, 3, 0, 1, 7, &three);
	rc |= run(dir, 1, 0, 3, 7, &shards);
	rc |= run(dir, 2, 1, 3, 7, &shards);
	rc |= run(dir, 1, 2, 3, 7, &shards);
	rc |= run(dir, 1, 0, 1, 8, &other);
	ok(rc == 0 && one.len > 0, "runs of 300 samples");
	ok(one.len == three.len && !memcmp(one.data, three.data, one.len), "3 threads write the same bytes as 1");
	ok(one.len == shards.len && !memcmp(one.data, shards.data, one.len), "shards 0..2 of 3 add up to the run");
	ok(one.len != other.len || memcmp(one.data, other.data, one.len), "another seed, other samples");
	is_int(runs_unaccounted, 0, "every run: asked is the shard's share, written + given up = asked");
	ling_buf_release(&one);
	ling_buf_release(&three);
	ling_buf_release(&shards);
	ling_buf_release(&other);
}

int main(void)
{
	const char *base = getenv("TMPDIR"), *data = getenv("LING_DATA");
	struct ling_buf dir = LING_BUF_INIT, path = LING_BUF_INIT;
	struct kg_store *st;

	test_json_reader();
	test_schema();
	test_mix();
	snprintf(tmpdir, sizeof(tmpdir), "%s/ling-test-synth.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! cannot create a temporary directory: %s\n", strerror(errno));
		return 1;
	}
	if ((st = make_store("films", films_ttl, NULL, &dir))) {
		test_small_graph(st);
		kg_store_close(st);
	}
	ling_buf_addf(&path, "%s/literals.ttl", data && *data ? data : "tests/data");
	if ((st = make_store("literals", NULL, path.data, &dir))) {
		test_literals(st);
		kg_store_close(st);
	}
	ling_buf_reset(&path);
	ling_buf_addf(&path, "%s/fb15k237-subgraph.nt.zst", data && *data ? data : "tests/data");
	if ((st = make_store("fb", NULL, path.data, &dir))) {
		test_patterns(st);
		test_verify(st);
		kg_store_close(st);
		test_runs(dir.data);
	}
	fixture_remove_tree(tmpdir);
	ling_buf_release(&dir);
	ling_buf_release(&path);
	return done_testing();
}
