/*
 * synth_graph: a compact in-memory snapshot of the relations that have
 * tools, so that sampling, executing and verifying never touch RocksDB
 * (the goal is >= 10,000 verified samples/s per core on FB15k-237).
 *
 * The store is read once: the triples of each relation tool's predicate, the
 * N-Triples form of each entity (for evidence) and its display name
 * (kg_entity_name, the name kg_tool_call shows; for the values of a literal
 * relation, kg_value_canonical), and the names search_entities resolves.
 * Names are numbered in byte order, so sets of names are sorted sets of
 * numbers, sorted as the tools sort their results.
 */
#include "synth_internal.h"

#include "../common/ling_idmap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../common/banned.h"

/* kg ids -> entity numbers (kg_id 0 is never a term, so key 0 can mark empty slots). */
static const struct ling_idmap_opts id_map_opts = { LING_IDMAP_HASH_LOW, 0, 4096, 1, 2 };

/* ---- loading ---- */

struct load_ctx {
	struct ling_idmap map;                     /* entities */
	struct ling_idmap vmap[KG_VALUE_TEXT + 1]; /* the objects of literal relations, per type */
	kg_id *ids;        /* entity number -> id */
	unsigned char *type; /* entity number -> KG_VALUE_ENTITY, or the type of a value */
	size_t ids_cap, type_cap;
	uint32_t nent;
	uint32_t (*fact)[3];
	size_t nfacts, facts_cap;
	uint32_t rel;
	enum kg_value_type value; /* of the relation being read */
};

static uint32_t entity_of(struct load_ctx *c, kg_id id, enum kg_value_type type)
{
	int added;
	uint32_t e = (uint32_t)ling_idmap_insert(type ? &c->vmap[type] : &c->map, id, c->nent, &added)->val;

	if (added) {
		c->ids = xgrow(c->ids, &c->ids_cap, e + 1, sizeof(*c->ids));
		c->type = xgrow(c->type, &c->type_cap, e + 1, sizeof(*c->type));
		c->ids[e] = id;
		c->type[e] = (unsigned char)type;
		c->nent++;
	}
	return e;
}

static int on_fact(void *ctx, const kg_id quad[4])
{
	struct load_ctx *c = ctx;

	c->fact = xgrow(c->fact, &c->facts_cap, c->nfacts + 1, sizeof(*c->fact));
	c->fact[c->nfacts][0] = entity_of(c, quad[0], KG_VALUE_ENTITY);
	c->fact[c->nfacts][1] = c->rel;
	c->fact[c->nfacts][2] = entity_of(c, quad[2], c->value);
	c->nfacts++;
	return 0;
}

/*
 * The name of a literal relation's object e of N-Triples form nt: its value,
 * or NULL (*drop set) when it is no literal, which the tools leave out.
 */
static char *value_name(const struct ling_buf *nt, enum kg_value_type type, int *drop)
{
	struct ling_buf storage = LING_BUF_INIT, v = LING_BUF_INIT;
	struct ling_err ignored;
	struct kg_term t;
	char *name = NULL;

	*drop = nt->data[0] != '"' || kg_nt_term_parse(nt->data, nt->len, &t, &storage, &ignored);
	if (!*drop) {
		kg_value_canonical(type, t.value, t.len, &v);
		if (v.len && !memchr(v.data, 0, v.len))
			name = xstrndup(v.data, v.len);
	}
	ling_buf_release(&storage);
	ling_buf_release(&v);
	return name;
}

/*
 * A name a sample can use: not empty, and not one that kg_tool_call would
 * also read as an N-Triples term ("<iri>", "\"literal\"", "_:b").
 */
static int usable_name(const char *s, size_t n)
{
	return n && s[0] != '<' && s[0] != '"' && !(n >= 2 && s[0] == '_' && s[1] == ':');
}

static int build_search(struct synth_graph *g, struct kg_store *st, struct ling_err *err);
static void build_labels(struct synth_graph *g);

int synth_graph_load(struct synth_graph *g, struct kg_store *st, const struct kg_toolset *ts, const char *lang,
		     struct ling_err *err)
{
	struct load_ctx c;
	struct synth_raw raw;
	struct ling_buf b = LING_BUF_INIT;
	unsigned char *drop = NULL;
	size_t i, k;
	uint32_t e;
	int rc = 0;

	memset(&c, 0, sizeof(c));
	ling_idmap_init(&c.map, &id_map_opts);
	for (i = 0; i <= KG_VALUE_TEXT; i++)
		ling_idmap_init(&c.vmap[i], &id_map_opts);
	memset(&raw, 0, sizeof(raw));
	memset(g, 0, sizeof(*g));
	for (i = 0; i < ts->ntools; i++) {
		struct kg_pattern pat;

		if (ts->tools[i].kind != KG_TOOL_FORWARD)
			continue;
		memset(&pat, 0, sizeof(pat));
		pat.p = ts->tools[i].predicate;
		pat.bound = KG_BOUND_P;
		c.value = ts->tools[i].value;
		if ((rc = kg_store_match(st, &pat, on_fact, &c, err)))
			goto fail;
		c.rel++;
	}
	raw.nent = c.nent;
	raw.iri = xcalloc(raw.nent + 1, sizeof(*raw.iri));
	raw.name = xcalloc(raw.nent + 1, sizeof(*raw.name));
	drop = xcalloc(raw.nent + 1, 1);
	for (e = 0; e < raw.nent; e++) {
		int literal, dropped;

		ling_buf_reset(&b);
		if ((rc = kg_store_term_nt(st, c.ids[e], &b, err)) < 0)
			goto fail;
		literal = b.data[0] == '"';
		if (b.data[0] == '<' && b.len >= 2)
			raw.iri[e] = xstrndup(b.data + 1, b.len - 2);
		else
			raw.iri[e] = xstrndup(b.data, b.len);
		if (c.type[e] != KG_VALUE_ENTITY) {
			raw.name[e] = value_name(&b, (enum kg_value_type)c.type[e], &dropped);
			drop[e] = (unsigned char)dropped;
			continue;
		}
		ling_buf_reset(&b);
		if ((rc = kg_entity_name(st, c.ids[e], lang, &b, err)) < 0)
			goto fail;
		/* A literal object of an entity relation is no entity to ask about; samples that reach one are rejected. */
		if (rc == 1 && !literal && usable_name(b.data, b.len) && !memchr(b.data, 0, b.len))
			raw.name[e] = xstrndup(b.data, b.len);
		rc = 0;
	}
	/* The tools of a literal relation see only its literal objects. */
	for (i = k = 0; i < c.nfacts; i++)
		if (!drop[c.fact[i][2]])
			memmove(c.fact[k++], c.fact[i], sizeof(*c.fact));
	raw.fact = c.fact;
	raw.nfacts = k;
	c.fact = NULL;
	rc = synth_graph_build(g, ts, &raw, err);
	memset(&raw, 0, sizeof(raw));
	if (!rc && (rc = build_search(g, st, err)))
		synth_graph_release(g);
fail:
	if (raw.iri || raw.name) {
		for (e = 0; e < raw.nent; e++) {
			free(raw.iri[e]);
			free(raw.name[e]);
		}
	}
	free(raw.iri);
	free(raw.name);
	free(c.fact);
	free(c.ids);
	free(c.type);
	free(drop);
	ling_idmap_release(&c.map);
	for (i = 0; i <= KG_VALUE_TEXT; i++)
		ling_idmap_release(&c.vmap[i]);
	ling_buf_release(&b);
	return rc;
}

/* ---- building ---- */

static int cmp_fact(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b;
	int i;

	for (i = 1; i < 4; i++) {
		int k = i % 3; /* relation, object, then subject */

		if (x[k] != y[k])
			return x[k] < y[k] ? -1 : 1;
	}
	return 0;
}

static int cmp_edge(const void *a, const void *b)
{
	const struct synth_edge *x = a, *y = b;

	if (x->dir != y->dir)
		return x->dir < y->dir ? -1 : 1;
	return x->to < y->to ? -1 : x->to > y->to;
}

static const char *const *sort_names;

static int cmp_name_ix(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = strcmp(sort_names[x], sort_names[y]);

	if (c)
		return c;
	return x < y ? -1 : x > y;
}

static uint64_t name_hash(const char *s, size_t n)
{
	return XXH3_64bits(s, n);
}

/* Numbers the distinct names in byte order, and indexes them. */
static void build_names(struct synth_graph *g, char **name)
{
	uint32_t *order = xmalloc((g->nent + 1) * sizeof(*order)), n = 0, i, k;
	size_t pool = 0, pos = 0;

	for (i = 0; i < g->nent; i++)
		if (name[i])
			order[n++] = i;
	/* qsort is not stable and not reentrant: ties broken by entity number, the names passed by a static. */
	sort_names = (const char *const *)name;
	qsort(order, n, sizeof(*order), cmp_name_ix);
	sort_names = NULL;
	g->ent_name = xmalloc((g->nent + 1) * sizeof(*g->ent_name));
	for (i = 0; i < g->nent; i++)
		g->ent_name[i] = SYNTH_NONE;
	g->name_off = xmalloc((n + 1) * sizeof(*g->name_off));
	g->name_len = xmalloc((n + 1) * sizeof(*g->name_len));
	g->name_ent_off = xcalloc(n + 2, sizeof(*g->name_ent_off));
	g->name_ent = xmalloc((n + 1) * sizeof(*g->name_ent));
	g->nnames = 0;
	for (i = 0; i < n; i++) {
		uint32_t e = order[i];

		if (!i || strcmp(name[order[i - 1]], name[e])) {
			g->name_len[g->nnames] = (uint32_t)strlen(name[e]);
			pool += g->name_len[g->nnames] + 1;
			g->name_ent_off[g->nnames] = i;
			g->nnames++;
		}
		g->ent_name[e] = g->nnames - 1;
		g->name_ent[i] = e;
	}
	g->name_ent_off[g->nnames] = n;
	g->name_pool = xmalloc(pool + 1);
	for (k = 0; k < g->nnames; k++) {
		const char *s = name[g->name_ent[g->name_ent_off[k]]];

		g->name_off[k] = (uint32_t)pos;
		memcpy(g->name_pool + pos, s, g->name_len[k] + 1);
		pos += g->name_len[k] + 1;
	}
	for (g->name_mask = 1; g->name_mask < 2 * (size_t)g->nnames + 2; g->name_mask <<= 1)
		;
	g->name_slot = xcalloc(g->name_mask, sizeof(*g->name_slot));
	g->name_mask--;
	for (k = 0; k < g->nnames; k++) {
		size_t h = (size_t)name_hash(synth_name(g, k), g->name_len[k]) & g->name_mask;

		while (g->name_slot[h])
			h = (h + 1) & g->name_mask;
		g->name_slot[h] = k + 1;
	}
	free(order);
}

uint32_t synth_name_find(const struct synth_graph *g, const char *s, size_t n)
{
	size_t h = (size_t)name_hash(s, n) & g->name_mask;

	for (; g->name_slot[h]; h = (h + 1) & g->name_mask) {
		uint32_t k = g->name_slot[h] - 1;

		if (g->name_len[k] == n && !memcmp(synth_name(g, k), s, n))
			return k;
	}
	return SYNTH_NONE;
}

static void build_adjacency(struct synth_graph *g, const uint32_t (*fact)[3], size_t nfacts)
{
	uint32_t *fill, e, d;
	size_t i;

	g->adj_off = xcalloc((size_t)g->nent + 2, sizeof(*g->adj_off));
	for (i = 0; i < nfacts; i++) {
		g->adj_off[fact[i][0] + 1]++;
		g->adj_off[fact[i][2] + 1]++;
	}
	for (e = 0; e < g->nent; e++)
		g->adj_off[e + 1] += g->adj_off[e];
	g->adj = xmalloc((2 * nfacts + 1) * sizeof(*g->adj));
	fill = xmalloc(((size_t)g->nent + 1) * sizeof(*fill));
	memcpy(fill, g->adj_off, g->nent * sizeof(*fill));
	for (i = 0; i < nfacts; i++) {
		uint32_t s = fact[i][0], r = fact[i][1], o = fact[i][2];

		g->adj[fill[s]].dir = 2 * r;
		g->adj[fill[s]++].to = o;
		g->adj[fill[o]].dir = 2 * r + 1;
		g->adj[fill[o]++].to = s;
	}
	free(fill);
	for (e = 0; e < g->nent; e++)
		if (g->adj_off[e + 1] - g->adj_off[e] > 1)
			qsort(g->adj + g->adj_off[e], g->adj_off[e + 1] - g->adj_off[e], sizeof(*g->adj), cmp_edge);

	/* The sources of each directed relation: the entities with at least one edge along it. */
	g->src_off = xcalloc(2 * (size_t)g->nrel + 2, sizeof(*g->src_off));
	for (e = 0; e < g->nent; e++)
		for (i = g->adj_off[e]; i < g->adj_off[e + 1]; i++)
			if (i == g->adj_off[e] || g->adj[i].dir != g->adj[i - 1].dir)
				g->src_off[g->adj[i].dir + 1]++;
	for (d = 0; d < 2 * g->nrel; d++)
		g->src_off[d + 1] += g->src_off[d];
	g->src = xmalloc(((size_t)g->src_off[2 * g->nrel] + 1) * sizeof(*g->src));
	fill = xmalloc((2 * (size_t)g->nrel + 1) * sizeof(*fill));
	memcpy(fill, g->src_off, 2 * (size_t)g->nrel * sizeof(*fill));
	for (e = 0; e < g->nent; e++)
		for (i = g->adj_off[e]; i < g->adj_off[e + 1]; i++)
			if (i == g->adj_off[e] || g->adj[i].dir != g->adj[i - 1].dir)
				g->src[fill[g->adj[i].dir]++] = e;
	free(fill);
}

/* The relations of the tool catalogue: a forward tool and its inverse make one relation's two directions. */
static int graph_tools(struct synth_graph *g, const struct kg_toolset *ts, struct ling_err *err)
{
	size_t i;

	g->ntools = (uint32_t)ts->ntools;
	g->tool_dir = xmalloc((g->ntools + 1) * sizeof(*g->tool_dir));
	g->schema = xcalloc(g->ntools + 1, sizeof(*g->schema));
	g->rel = xcalloc(g->ntools + 1, sizeof(*g->rel));
	g->rel_tools = xmalloc((g->ntools + 1) * sizeof(*g->rel_tools));
	g->tool_and = g->tool_or = g->tool_minus = g->tool_search = SYNTH_NONE;
	for (i = 0; i < ts->ntools; i++)
		g->tool_dir[i] = SYNTH_NONE;
	for (i = 0; i < ts->ntools; i++) {
		const struct kg_tool *t = &ts->tools[i];
		char why[160];

		if (!(g->schema[i] = synth_schema_new(t->parameters, why, sizeof(why))))
			return ling_err_set(err, LING_EDATA, "tool %s: parameters schema: %s", t->name, why);
		switch (t->kind) {
		case KG_TOOL_FORWARD: {
			struct synth_rel *rl = &g->rel[g->nrel];

			if (t->twin >= ts->ntools || ts->tools[t->twin].kind != KG_TOOL_INVERSE) {
				return ling_err_set(err, LING_EDATA, "tool %s has no inverse tool", t->name);
			}
			rl->pred = t->predicate;
			rl->iri = t->predicate_iri;
			rl->tool[0] = (uint32_t)i;
			rl->tool[1] = (uint32_t)t->twin;
			rl->words.iri = t->predicate_iri;
			rl->words.phrase = t->relation_phrase;
			rl->words.subject_noun = t->subject_noun;
			rl->words.object_noun = t->object_noun;
			rl->words.form = (int)t->form;
			rl->value = t->value;
			g->tool_dir[i] = 2 * g->nrel;
			g->tool_dir[t->twin] = 2 * g->nrel + 1;
			g->nrel++;
			break;
		}
		case KG_TOOL_INVERSE: break;
		case KG_TOOL_INTERSECTION: g->tool_and = (uint32_t)i; break;
		case KG_TOOL_UNION: g->tool_or = (uint32_t)i; break;
		case KG_TOOL_DIFFERENCE: g->tool_minus = (uint32_t)i; break;
		case KG_TOOL_SEARCH: g->tool_search = (uint32_t)i; break;
		}
	}
	for (i = 0; i < ts->ntools; i++)
		if (g->tool_dir[i] != SYNTH_NONE)
			g->rel_tools[g->nrel_tools++] = (uint32_t)i;
	return 0;
}

/* Checks the facts' numbers, then keeps them distinct (a triple may be in several graphs), ordered by relation. */
static int graph_facts(struct synth_graph *g, struct synth_raw *raw, struct ling_err *err)
{
	size_t i, n;

	for (i = 0; i < raw->nfacts; i++)
		if (raw->fact[i][1] >= g->nrel || raw->fact[i][0] >= g->nent || raw->fact[i][2] >= g->nent)
			return ling_err_set(err, LING_EDATA, "fact %zu is out of range", i);
	if (raw->nfacts > 1)
		qsort(raw->fact, raw->nfacts, sizeof(*raw->fact), cmp_fact);
	for (i = n = 0; i < raw->nfacts; i++)
		if (!n || memcmp(raw->fact[n - 1], raw->fact[i], sizeof(*raw->fact)))
			memmove(raw->fact[n++], raw->fact[i], sizeof(*raw->fact));
	raw->nfacts = n;
	g->nfacts = n;
	for (i = 0; i < n; i++)
		g->rel[raw->fact[i][1]].facts++;
	return 0;
}

/* The entities' IRIs in one pool. */
static void graph_iris(struct synth_graph *g, const struct synth_raw *raw)
{
	size_t i, n;

	g->iri_off = xmalloc((g->nent + 1) * sizeof(*g->iri_off));
	n = 0;
	for (i = 0; i < g->nent; i++)
		n += strlen(raw->iri[i] ? raw->iri[i] : "") + 1;
	g->iri_pool = xmalloc(n + 1);
	n = 0;
	for (i = 0; i < g->nent; i++) {
		const char *s = raw->iri[i] ? raw->iri[i] : "";
		size_t len = strlen(s) + 1;

		g->iri_off[i] = (uint32_t)n;
		memcpy(g->iri_pool + n, s, len);
		n += len;
	}
}

/* Relations drawn by the square root of their facts: small relations get asked about too. */
static int graph_draw_weights(struct synth_graph *g, struct ling_err *err)
{
	uint32_t r, d;
	double sum = 0;

	g->dir_cum = xmalloc((2 * (size_t)g->nrel + 1) * sizeof(*g->dir_cum));
	for (d = 0; d < 2 * g->nrel; d++) {
		r = d >> 1;
		if (synth_dir_sources(g, d))
			sum += sqrt((double)g->rel[r].facts);
		g->dir_cum[d] = sum;
	}
	if (!g->nrel || sum <= 0)
		return ling_err_set(err, LING_EDATA, "the store has no relation with tools (see kg-query --tools)");
	return 0;
}

int synth_graph_build(struct synth_graph *g, const struct kg_toolset *ts, struct synth_raw *raw,
		      struct ling_err *err)
{
	size_t i;
	int rc;

	memset(g, 0, sizeof(*g));
	g->ts = ts;
	g->nent = raw->nent;
	if ((rc = graph_tools(g, ts, err)) || (rc = graph_facts(g, raw, err)))
		goto fail;
	build_names(g, raw->name);
	graph_iris(g, raw);
	build_adjacency(g, (const uint32_t(*)[3])raw->fact, raw->nfacts);
	build_labels(g);
	rc = graph_draw_weights(g, err);
fail:
	for (i = 0; i < raw->nent; i++) {
		free(raw->iri ? raw->iri[i] : NULL);
		free(raw->name ? raw->name[i] : NULL);
	}
	free(raw->iri);
	free(raw->name);
	free(raw->fact);
	memset(raw, 0, sizeof(*raw));
	if (rc)
		synth_graph_release(g);
	return rc;
}

void synth_graph_release(struct synth_graph *g)
{
	size_t i;

	if (g->schema)
		for (i = 0; i < g->ntools; i++)
			synth_schema_free(g->schema[i]);
	free(g->schema);
	free(g->iri_pool);
	free(g->iri_off);
	free(g->ent_name);
	free(g->ent_label);
	free(g->name_pool);
	free(g->name_off);
	free(g->name_len);
	free(g->name_ent_off);
	free(g->name_ent);
	free(g->name_slot);
	free(g->rel);
	free(g->adj_off);
	free(g->adj);
	free(g->src_off);
	free(g->src);
	free(g->dir_cum);
	free(g->tool_dir);
	free(g->rel_tools);
	free(g->search_slot);
	memset(g, 0, sizeof(*g));
}

/* ---- search ---- */

/* Names looked up on the store at most; beyond it, a share of them chosen by hash. */
#define SEARCH_MAX (1u << 16)

void synth_ascii_lower(const char *s, size_t n, struct ling_buf *out)
{
	size_t i;

	ling_buf_reserve(out, n + 1);
	for (i = 0; i < n; i++)
		ling_buf_addc(out, s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i]);
}

static int lower_equal(const char *name, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]) != s[i])
			return 0;
	return 1;
}

static uint64_t lower_hash(const char *s, size_t n, struct ling_buf *tmp)
{
	ling_buf_reset(tmp);
	synth_ascii_lower(s, n, tmp);
	return XXH3_64bits(tmp->data, tmp->len);
}

/* ---- labels ---- */

/* Whether a name is spelled as a keyword: a lowercase letter first, and no capital. */
static int keyword_spelling(const char *s, size_t n)
{
	size_t i;

	if (!n || s[0] < 'a' || s[0] > 'z')
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return 0;
	return 1;
}

/* Whether entity e has an edge along a relation other than r. */
static int has_other_rel(const struct synth_graph *g, uint32_t e, uint32_t r)
{
	uint32_t k;

	for (k = g->adj_off[e]; k < g->adj_off[e + 1]; k++)
		if (g->adj[k].dir >> 1 != r)
			return 1;
	return 0;
}

/* keyword[r]: more than half of relation r's named objects are spelled as keywords. */
static void keyword_relations(const struct synth_graph *g, unsigned char *keyword)
{
	uint64_t *named = xcalloc(2 * (size_t)g->nrel + 1, sizeof(*named));
	uint32_t e, k, r;

	for (e = 0; e < g->nent; e++) {
		uint32_t nm = g->ent_name[e];

		if (nm == SYNTH_NONE || synth_is_literal(g, e))
			continue;
		for (k = g->adj_off[e]; k < g->adj_off[e + 1]; k++) {
			const struct synth_edge *x = &g->adj[k];

			if (!(x->dir & 1) || (k > g->adj_off[e] && x[-1].dir == x->dir))
				continue; /* e is not an object along x, or was counted for it */
			named[2 * (x->dir >> 1)]++;
			named[2 * (x->dir >> 1) + 1] += keyword_spelling(synth_name(g, nm), g->name_len[nm]);
		}
	}
	for (r = 0; r < g->nrel; r++)
		keyword[r] = g->rel[r].value == KG_VALUE_ENTITY && 2 * named[2 * r + 1] > named[2 * r];
	free(named);
}

/* Marks x a label when it is an object of a keyword relation and y, named as x case aside, has other edges. */
static void mark_label(struct synth_graph *g, const unsigned char *keyword, uint32_t x, uint32_t y,
		       struct ling_buf *tmp)
{
	uint32_t nx = g->ent_name[x], ny = g->ent_name[y], k;

	if (x == y || g->name_len[nx] != g->name_len[ny])
		return;
	ling_buf_reset(tmp);
	synth_ascii_lower(synth_name(g, ny), g->name_len[ny], tmp);
	if (!lower_equal(synth_name(g, nx), g->name_len[nx], tmp->data))
		return;
	for (k = g->adj_off[x]; k < g->adj_off[x + 1]; k++)
		if ((g->adj[k].dir & 1) && keyword[g->adj[k].dir >> 1] && has_other_rel(g, y, g->adj[k].dir >> 1))
			g->ent_label[x] = 1;
}

struct hashed_ent {
	uint64_t h;
	uint32_t e;
};

static int cmp_hashed(const void *a, const void *b)
{
	const struct hashed_ent *x = a, *y = b;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return x->e < y->e ? -1 : x->e > y->e;
}

/*
 * Which values read as names of something else, not as what their relation
 * says of them (kg2samples(1), VALUES THAT ARE NAMES). A relation is a
 * keyword relation when most of its named objects are spelled as keywords
 * (MetaQA's tags: "war", "bd-r", "tyrese gibson"). An object of a keyword
 * relation whose name, case aside, is also the name of an entity with edges
 * along another relation (the actor Tyrese Gibson) is a label: the text says
 * "the films with the tag "tyrese gibson"", never "films about tyrese gibson".
 */
static void build_labels(struct synth_graph *g)
{
	unsigned char *keyword = xcalloc(g->nrel + 1, 1);
	struct hashed_ent *v = xmalloc((g->nent + 1) * sizeof(*v));
	struct ling_buf tmp = LING_BUF_INIT;
	size_t n = 0, i, j, a, b;
	uint32_t e;

	g->ent_label = xcalloc(g->nent + 1, 1);
	keyword_relations(g, keyword);
	/* entities grouped by their name with ASCII case aside: pairs in a group are compared */
	for (e = 0; e < g->nent; e++)
		if (g->ent_name[e] != SYNTH_NONE && !synth_is_literal(g, e)) {
			v[n].h = lower_hash(synth_name(g, g->ent_name[e]), g->name_len[g->ent_name[e]], &tmp);
			v[n++].e = e;
		}
	qsort(v, n, sizeof(*v), cmp_hashed);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && v[j].h == v[i].h; j++)
			;
		for (a = i; j - i > 1 && a < j; a++)
			for (b = i; b < j; b++)
				mark_label(g, keyword, v[a].e, v[b].e, &tmp);
	}
	ling_buf_release(&tmp);
	free(v);
	free(keyword);
}

uint32_t synth_search_find(const struct synth_graph *g, const char *s, size_t n)
{
	struct ling_buf tmp = LING_BUF_INIT;
	size_t h;
	uint32_t found = SYNTH_NONE;

	if (!g->nsearch)
		return SYNTH_NONE;
	h = (size_t)lower_hash(s, n, &tmp) & g->search_mask;
	for (; g->search_slot[h]; h = (h + 1) & g->search_mask) {
		uint32_t k = g->search_slot[h] - 1;

		if (g->name_len[k] == n && lower_equal(synth_name(g, k), n, s)) {
			found = k;
			break;
		}
	}
	ling_buf_release(&tmp);
	return found;
}

/* Whether name k is an entity's (not only a value's) with an ASCII capital, so its lowercase spelling differs. */
static int search_candidate(const struct synth_graph *g, uint32_t k)
{
	const char *s = synth_name(g, k);
	uint32_t i, caps = 0, entity = 0;

	for (i = 0; i < g->name_len[k]; i++)
		caps += s[i] >= 'A' && s[i] <= 'Z';
	for (i = g->name_ent_off[k]; i < g->name_ent_off[k + 1] && caps && !entity; i++)
		entity = !synth_is_literal(g, g->name_ent[i]);
	return caps && entity;
}

/*
 * The search table: each candidate name N for which search_entities, run on
 * the store with N in lowercase, answers exactly [N]. It runs the tool
 * itself (kg_tool_call), so samples record what `kg-query --call` answers.
 */
static int build_search(struct synth_graph *g, struct kg_store *st, struct ling_err *err)
{
	struct ling_buf args = LING_BUF_INIT, want = LING_BUF_INIT, got = LING_BUF_INIT, tmp = LING_BUF_INIT;
	const char *tool;
	uint32_t k, ncand = 0, every, *hits = NULL, nhits = 0;
	int rc = 0;

	if (g->tool_search == SYNTH_NONE)
		return 0;
	tool = g->ts->tools[g->tool_search].name;
	for (k = 0; k < g->nnames; k++)
		ncand += search_candidate(g, k);
	every = ncand / SEARCH_MAX + 1;
	hits = xmalloc(((size_t)ncand + 1) * sizeof(*hits));
	for (k = 0; k < g->nnames; k++) {
		struct ling_err cerr;
		uint32_t one = k;

		if (!search_candidate(g, k) ||
		    (every > 1 && XXH3_64bits(synth_name(g, k), g->name_len[k]) % every))
			continue;
		ling_buf_reset(&args);
		ling_buf_adds(&args, "{\"name\":");
		ling_buf_reset(&tmp);
		synth_ascii_lower(synth_name(g, k), g->name_len[k], &tmp);
		ling_json_add_str(&args, tmp.data, tmp.len, 0);
		ling_buf_addc(&args, '}');
		ling_err_clear(&cerr);
		rc = kg_tool_call(st, g->ts, tool, args.data, &got, &cerr);
		if (rc == LING_ESTORE) {
			*err = cerr;
			goto out;
		}
		rc = 0;
		ling_buf_reset(&want);
		synth_names_json(g, &one, 1, &want);
		if (got.len == want.len && !memcmp(got.data, want.data, want.len))
			hits[nhits++] = k;
	}
	for (g->search_mask = 1; g->search_mask < 2 * (size_t)nhits + 2; g->search_mask <<= 1)
		;
	g->search_slot = xcalloc(g->search_mask, sizeof(*g->search_slot));
	g->search_mask--;
	for (k = 0; k < nhits; k++) {
		size_t h = (size_t)lower_hash(synth_name(g, hits[k]), g->name_len[hits[k]], &tmp) & g->search_mask;

		while (g->search_slot[h])
			h = (h + 1) & g->search_mask;
		g->search_slot[h] = hits[k] + 1;
	}
	g->nsearch = nhits;
out:
	free(hits);
	ling_buf_release(&args);
	ling_buf_release(&want);
	ling_buf_release(&got);
	ling_buf_release(&tmp);
	return rc;
}

/* ---- reading ---- */

void synth_adj(const struct synth_graph *g, uint32_t ent, uint32_t d, const struct synth_edge **b,
	       const struct synth_edge **e)
{
	const struct synth_edge *lo = g->adj + g->adj_off[ent], *hi = g->adj + g->adj_off[ent + 1], *m;
	const struct synth_edge *end = hi;

	/* first edge with dir >= d */
	while (lo < hi) {
		m = lo + (hi - lo) / 2;
		if (m->dir < d)
			lo = m + 1;
		else
			hi = m;
	}
	*b = lo;
	hi = end;
	/* first edge with dir > d */
	while (lo < hi) {
		m = lo + (hi - lo) / 2;
		if (m->dir <= d)
			lo = m + 1;
		else
			hi = m;
	}
	*e = lo;
}

uint32_t synth_pick_dir(const struct synth_graph *g, uint64_t *rng)
{
	uint32_t nd = 2 * g->nrel, lo = 0, hi = nd;
	double total = g->dir_cum[nd - 1];
	/* 53 random bits, so the draw is the same double on every machine */
	double x = (double)(ling_rand_next(rng) >> 11) * (1.0 / 9007199254740992.0) * total;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (g->dir_cum[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < nd ? lo : nd - 1;
}

void synth_names_json(const struct synth_graph *g, const uint32_t *names, size_t n, struct ling_buf *out)
{
	size_t i;

	ling_buf_addc(out, '[');
	for (i = 0; i < n; i++) {
		if (i)
			ling_buf_addc(out, ',');
		ling_json_add_str(out, synth_name(g, names[i]), g->name_len[names[i]], 0);
	}
	ling_buf_addc(out, ']');
}

/* The member of object v called key, or NULL. */
