/*
 * kg_tools: the tool catalogue of a store and the execution of one call
 * (KG2Tool, Ling TR 4.4; DESIGN.md 3.2). The contract is in kg.h.
 *
 * How relations get their words and tools their names: kg_tool_names.c.
 *
 * A predicate gets tools when at least 80% of its first 200 objects in the
 * POS index (ordered by id, a hash, so a fair sample) are IRIs or blank
 * nodes; literal objects of such a predicate show as their N-Triples form.
 * When 80% of them are literals instead, it is a literal relation, typed by
 * the datatype most of those literals have (an integer relation with a few
 * decimals is a number relation), unless its values are long texts (more
 * than 80 bytes on average: abstracts, comments) that no one would ask
 * for by value. The object noun of a literal relation is the head noun of
 * its phrase (population, date, year), never its rdfs:range (xsd:integer).
 * Its inverse tool reads the relation's objects in full and compares their
 * values (kg_value.c) with the argument's: values are not indexed.
 *
 * Entities without a label are named by their N-Triples form ("<iri>",
 * "_:b…", or a literal object as "\"1944\"^^<…>"), which resolves back to
 * them when passed as an argument; kg2samples never shows such names.
 */
#include "kg_tools_internal.h"

#include "../common/ling_jsonl.h"
#include "../common/ling_utf8.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

#define RDF_NS "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define RDFS_NS "http://www.w3.org/2000/01/rdf-schema#"
#define OWL_NS "http://www.w3.org/2002/07/owl#"
#define SKOS_NS "http://www.w3.org/2004/02/skos/core#"
#define SCHEMA_NS "http://schema.org/"
#define FOAF_NS "http://xmlns.com/foaf/0.1/"
#define DCT_NS "http://purl.org/dc/terms/"
#define DC_NS "http://purl.org/dc/elements/1.1/"

#define DEFAULT_MIN_FACTS 10
/* Objects looked at to decide whether a predicate links entities, and the share that must be entities. */
#define OBJECT_SAMPLE 200
#define ENTITY_SHARE_PERCENT 80
/* Text relations whose sampled values are longer than this on average describe rather than relate. */
#define TEXT_MEAN_MAX 80

static const char *const label_iris[3] = { "<" RDFS_NS "label>", "<" SKOS_NS "prefLabel>", "<" SCHEMA_NS "name>" };

/* Namespaces that describe terms rather than relate entities. */
static const char *const excluded_namespaces[] = { RDF_NS, RDFS_NS, OWL_NS };

/* Predicates that label, describe or link out. */
static const char *const excluded_predicates[] = {
	SKOS_NS "prefLabel", SKOS_NS "altLabel", SKOS_NS "hiddenLabel", SKOS_NS "notation", SKOS_NS "note",
	SKOS_NS "definition", SKOS_NS "scopeNote", SKOS_NS "example", SKOS_NS "editorialNote",
	SKOS_NS "changeNote", SKOS_NS "historyNote", SKOS_NS "exactMatch", SKOS_NS "closeMatch",
	SKOS_NS "inScheme", SCHEMA_NS "name", SCHEMA_NS "alternateName", SCHEMA_NS "description",
	SCHEMA_NS "disambiguatingDescription", SCHEMA_NS "url", SCHEMA_NS "sameAs", SCHEMA_NS "image",
	SCHEMA_NS "identifier", SCHEMA_NS "domainIncludes", SCHEMA_NS "rangeIncludes", FOAF_NS "name",
	FOAF_NS "nick", FOAF_NS "page", FOAF_NS "homepage", FOAF_NS "depiction", FOAF_NS "isPrimaryTopicOf",
	FOAF_NS "primaryTopic", DCT_NS "title", DCT_NS "description", DCT_NS "identifier", DCT_NS "source",
	DC_NS "title", DC_NS "description", DC_NS "identifier", DC_NS "source",
	"http://dbpedia.org/ontology/wikiPageWikiLink", "http://dbpedia.org/ontology/wikiPageExternalLink",
	"http://dbpedia.org/ontology/thumbnail", "http://www.w3.org/ns/prov#wasDerivedFrom",
	"http://dbpedia.org/ontology/wikiPageID", "http://dbpedia.org/ontology/wikiPageRevisionID",
	"http://dbpedia.org/ontology/wikiPageLength", "http://dbpedia.org/ontology/wikiPageOutDegree",
	"http://dbpedia.org/ontology/abstract",
};





/* ---- ids ---- */


static int collect_slot(void *ctx, const kg_id quad[4])
{
	struct id_vec *c = ctx;

	c->v = xgrow(c->v, &c->cap, c->n + 1, sizeof(*c->v));
	c->v[c->n++] = quad[c->slot];
	return c->limit && c->n >= c->limit ? 1 : 0;
}

/* Appends the ids in slot `slot` of the quads matching (s, p, o) (0 = unbound) to out. */
int kg_tool_collect(struct kg_store *st, kg_id s, kg_id p, kg_id o, int slot, struct id_vec *out,
		   struct ling_err *err)
{
	struct kg_pattern pat = { s, p, o, 0, 0 };

	pat.bound = (s ? KG_BOUND_S : 0) | (p ? KG_BOUND_P : 0) | (o ? KG_BOUND_O : 0);
	out->slot = slot;
	return kg_store_match(st, &pat, collect_slot, out, err);
}

static int cmp_id(const void *a, const void *b)
{
	kg_id x = *(const kg_id *)a, y = *(const kg_id *)b;

	return (x > y) - (x < y);
}

void kg_id_vec_unique(struct id_vec *v)
{
	size_t i, n = 0;

	if (v->n > 1)
		qsort(v->v, v->n, sizeof(*v->v), cmp_id);
	for (i = 0; i < v->n; i++)
		if (!n || v->v[n - 1] != v->v[i])
			v->v[n++] = v->v[i];
	v->n = n;
}

kg_id kg_iri_id(const char *nt)
{
	return kg_store_canonical_id(nt, strlen(nt));
}

/* ---- entity names ---- */

enum { PICK_EXACT, PICK_PREFIX, PICK_UNTAGGED, PICK_ANY, NPICKS };

struct pick {
	struct ling_buf value, tag;
	int have;
};

/* Keeps (value, tag) in p when it is smaller, ordered by tag first or by value first. */
static void pick_offer(struct pick *p, const char *v, size_t vn, const char *tag, size_t tn, int tag_first)
{
	if (p->have) {
		int c = tag_first ? kg_bytes_cmp(tag, tn, p->tag.data, p->tag.len)
				  : kg_bytes_cmp(v, vn, p->value.data, p->value.len);

		if (!c)
			c = tag_first ? kg_bytes_cmp(v, vn, p->value.data, p->value.len)
				      : kg_bytes_cmp(tag, tn, p->tag.data, p->tag.len);
		if (c >= 0)
			return;
	}
	ling_buf_reset(&p->value);
	ling_buf_add(&p->value, v, vn);
	ling_buf_reset(&p->tag);
	ling_buf_add(&p->tag, tag, tn);
	p->have = 1;
}

/* Sorts the literal objects of (id, label predicate) into picks by how their tag fits lang (lowercase). */
static int scan_labels(struct kg_store *st, kg_id id, kg_id pred, const char *lang, struct pick picks[NPICKS],
		       struct ling_err *err)
{
	struct id_vec objs = { 0 };
	struct ling_buf nt = LING_BUF_INIT, storage = LING_BUF_INIT;
	size_t i, ln = strlen(lang);
	int rc;

	if ((rc = kg_tool_collect(st, id, pred, 0, 2, &objs, err)))
		goto out;
	for (i = 0; i < objs.n; i++) {
		struct kg_term t;
		struct ling_err ignored;
		const char *tag;
		size_t tn;

		ling_buf_reset(&nt);
		if ((rc = kg_store_term_nt(st, objs.v[i], &nt, err)))
			goto out;
		if (nt.data[0] != '"' || kg_nt_term_parse(nt.data, nt.len, &t, &storage, &ignored))
			continue;
		if (memchr(t.value, '\0', t.len))
			continue; /* a name cut at the NUL would name nothing; the N-Triples form names it whole */
		tag = t.lang ? t.lang : "";
		tn = t.lang ? t.lang_len : 0;
		if (!tn) {
			pick_offer(&picks[PICK_UNTAGGED], t.value, t.len, "", 0, 0);
			continue;
		}
		if (tn == ln && !memcmp(tag, lang, ln))
			pick_offer(&picks[PICK_EXACT], t.value, t.len, tag, tn, 0);
		else if (tn > ln && !memcmp(tag, lang, ln) && tag[ln] == '-')
			pick_offer(&picks[PICK_PREFIX], t.value, t.len, tag, tn, 1);
		pick_offer(&picks[PICK_ANY], t.value, t.len, tag, tn, 0);
	}
out:
	free(objs.v);
	ling_buf_release(&nt);
	ling_buf_release(&storage);
	return rc;
}

int kg_entity_name(struct kg_store *st, kg_id id, const char *lang, struct ling_buf *out, struct ling_err *err)
{
	struct pick picks[3][NPICKS];
	char low[64];
	size_t i, j;
	int rc = 0, found = 0;

	if (!lang || !*lang)
		lang = "en";
	for (i = 0; lang[i] && i + 1 < sizeof(low); i++)
		low[i] = (char)to_lower((unsigned char)lang[i]);
	low[i] = '\0';
	memset(picks, 0, sizeof(picks));
	/* The label predicates in order; a tagged match or an untagged label ends the search. */
	for (i = 0; i < 3 && !found; i++) {
		if ((rc = scan_labels(st, id, kg_iri_id(label_iris[i]), low, picks[i], err)))
			goto out;
		for (j = PICK_EXACT; j <= PICK_UNTAGGED && !found; j++)
			if (picks[i][j].have) {
				ling_buf_add(out, picks[i][j].value.data, picks[i][j].value.len);
				found = 1;
			}
	}
	for (i = 0; i < 3 && !found; i++)
		if (picks[i][PICK_ANY].have) {
			ling_buf_add(out, picks[i][PICK_ANY].value.data, picks[i][PICK_ANY].value.len);
			found = 1;
		}
out:
	for (i = 0; i < 3; i++)
		for (j = 0; j < NPICKS; j++) {
			ling_buf_release(&picks[i][j].value);
			ling_buf_release(&picks[i][j].tag);
		}
	return rc ? rc : found;
}

/* ---- caches: id -> display name and id -> N-Triples form, for the calls of one toolset ---- */

void kg_tool_cache_clear(struct ling_idmap *c)
{
	struct ling_idmap_ent *e;
	size_t pos = 0;

	while ((e = ling_idmap_next(c, &pos)))
		free((char *)(uintptr_t)e->val);
	ling_idmap_release(c);
}

/* The cached string of id, or NULL. */
static const char *cache_get(const struct ling_idmap *c, kg_id id)
{
	const struct ling_idmap_ent *e = ling_idmap_find(c, id);

	return e ? (const char *)(uintptr_t)e->val : NULL;
}

/* Caches name (taking it) for id, which is not cached yet, and returns it. */
static const char *cache_put(struct ling_idmap *c, kg_id id, char *name)
{
	ling_idmap_insert(c, id, (uintptr_t)name, NULL);
	return name;
}

/*
 * The name of id as tools show it: kg_entity_name, or the N-Triples form for
 * a term without a label. The string belongs to the cache (valid until the
 * next call).
 */
int kg_tool_display_name(struct kg_store *st, const struct kg_toolset *ts, kg_id id, const char **name,
			struct ling_err *err)
{
	struct ling_idmap *c = &ts->priv->names;
	struct ling_buf b = LING_BUF_INIT;
	int rc;

	if ((*name = cache_get(c, id)))
		return 0;
	rc = kg_entity_name(st, id, ts->lang, &b, err);
	if (rc == 0)
		rc = kg_store_term_nt(st, id, &b, err);
	if (rc < 0) {
		ling_buf_release(&b);
		return rc;
	}
	*name = cache_put(c, id, b.data ? b.data : xstrdup(""));
	return 0;
}

/* The N-Triples form of id, cached like display_name. */
int kg_tool_term_nt(struct kg_store *st, const struct kg_toolset *ts, kg_id id, const char **nt,
		   struct ling_err *err)
{
	struct ling_idmap *c = &ts->priv->terms;
	struct ling_buf b = LING_BUF_INIT;
	int rc;

	if ((*nt = cache_get(c, id)))
		return 0;
	if ((rc = kg_store_term_nt(st, id, &b, err))) {
		ling_buf_release(&b);
		return rc;
	}
	*nt = cache_put(c, id, b.data ? b.data : xstrdup(""));
	return 0;
}

/* ---- schemas ---- */

char *kg_tool_dump_compact(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT);

	if (!s)
		abort(); /* jansson fails only when out of memory here */
	json_decref(v);
	return s;
}

static json_t *string_param(const char *description)
{
	return json_pack("{s:s,s:s}", "type", "string", "description", description);
}

static json_t *string_array(const char *description)
{
	json_t *a = json_object();

	json_object_set_new(a, "type", json_string("array"));
	if (description)
		json_object_set_new(a, "description", json_string(description));
	json_object_set_new(a, "items", json_pack("{s:s}", "type", "string"));
	return a;
}

/* {"type":"object","properties":props,"required":[keys of props],"additionalProperties":false} */
static json_t *object_schema(json_t *props)
{
	json_t *o = json_object(), *req = json_array();
	const char *key;
	json_t *v;

	json_object_foreach(props, key, v)
		json_array_append_new(req, json_string(key));
	json_object_set_new(o, "type", json_string("object"));
	json_object_set_new(o, "properties", props);
	json_object_set_new(o, "required", req);
	json_object_set_new(o, "additionalProperties", json_false());
	return o;
}

/* The same with only the property required required. */
static json_t *required_schema(json_t *props, const char *required)
{
	json_t *o = object_schema(props);

	json_object_set_new(o, "required", json_pack("[s]", required));
	return o;
}

static void set_schema(struct kg_tool *t, json_t *parameters)
{
	json_t *fn = json_object(), *tool = json_object();

	json_object_set_new(fn, "name", json_string(t->name));
	json_object_set_new(fn, "description", json_string(t->description));
	json_object_set_new(fn, "parameters", json_deep_copy(parameters));
	json_object_set_new(tool, "type", json_string("function"));
	json_object_set_new(tool, "function", fn);
	t->parameters = kg_tool_dump_compact(parameters);
	t->schema = kg_tool_dump_compact(tool);
}

/* The parameter of an inverse tool taking a value of type t (an entity's name for KG_VALUE_ENTITY). */
static json_t *value_param(enum kg_value_type t, const char *description)
{
	switch (t) {
	case KG_VALUE_INTEGER:
	case KG_VALUE_YEAR:
		return json_pack("{s:s,s:s}", "type", "integer", "description", description);
	case KG_VALUE_NUMBER:
		return json_pack("{s:s,s:s}", "type", "number", "description", description);
	case KG_VALUE_DATE:
		return json_pack("{s:s,s:s,s:s}", "type", "string", "format", "date", "description", description);
	default:
		return string_param(description);
	}
}

/* What a value of type t is, for a parameter's description: "an integer" ("An integer" with cap). */
static const char *value_kind(enum kg_value_type t, int cap)
{
	switch (t) {
	case KG_VALUE_INTEGER: return cap ? "An integer" : "an integer";
	case KG_VALUE_NUMBER: return cap ? "A number" : "a number";
	case KG_VALUE_DATE: return cap ? "A date as YYYY-MM-DD" : "a date as YYYY-MM-DD";
	case KG_VALUE_YEAR: return cap ? "A year, e.g. 1999" : "a year, e.g. 1999";
	default: return cap ? "The text of the value" : "as text";
	}
}

/* Object nouns that name a value, whose entities read as their value ("1999"), not as a name. */
static int value_like_noun(const char *noun)
{
	static const char *const nouns[] = { "year", "date", "number", "value", "time", "decade", "century" };

	return in_list(noun, nouns, COUNT(nouns));
}

/*
 * The optional "sort" and "limit" of a relation tool into props, and its
 * flags; by value when the tool returns values of an ordered type.
 */
static unsigned add_list_options(json_t *props, int by_value, const char *what)
{
	struct ling_buf d = LING_BUF_INIT;
	json_t *sort, *limit;

	if (by_value)
		ling_buf_addf(&d, "Order of the %s by value (without it, as text).", what);
	else
		ling_buf_addf(&d, "Order of the %s (default: alphabetical).", what);
	sort = json_pack("{s:s,s:[s,s],s:s}", "type", "string", "enum", by_value ? "ascending" : "alphabetical",
			 by_value ? "descending" : "reverse_alphabetical", "description", d.data);
	ling_buf_reset(&d);
	ling_buf_addf(&d, "Return at most this many %s, the first in that order.", what);
	limit = json_pack("{s:s,s:i,s:s}", "type", "integer", "minimum", 1, "description", d.data);
	ling_buf_release(&d);
	json_object_set_new(props, "sort", sort);
	json_object_set_new(props, "limit", limit);
	return KG_TOOL_OPT_LIMIT | (by_value ? KG_TOOL_OPT_SORT_VALUE : KG_TOOL_OPT_SORT);
}

/* The words of a relation phrase with its head noun in the plural: "places of birth", "directors". */
static char *plural_relation(const struct phrase *rp)
{
	struct phrase p = { { 0 }, 0 };
	struct ling_buf b = LING_BUF_INIT;
	int i, head;

	kg_phrase_copy(&p, rp);
	for (head = 1; head < p.n && strcmp(p.w[head], "of"); head++)
		;
	head--;
	if (p.n && (head < p.n - 1 || !kg_phrase_last_is_plural(&p))) {
		kg_words_plural(p.w[head], strlen(p.w[head]), &b);
		free(p.w[head]);
		p.w[head] = b.data;
		b = (struct ling_buf)LING_BUF_INIT;
	}
	for (i = 0; i < p.n; i++)
		ling_buf_addf(&b, "%s%s", i ? " " : "", p.w[i]);
	kg_phrase_release(&p);
	if (!b.len)
		ling_buf_adds(&b, "relations");
	return b.data;
}

static char *phrase_text(const struct phrase *p, const char *fallback)
{
	struct ling_buf b = LING_BUF_INIT;

	kg_phrase_join(p, " ", &b);
	if (!b.len)
		ling_buf_adds(&b, fallback);
	return b.data;
}

/* What the catalogue learns from a relation's objects: the values an inverse tool's enum lists, an example. */
struct rel_objects {
	char **names;  /* distinct names (values for a literal relation), sorted by bytes, when few; else NULL */
	size_t n;
	char *example; /* the name of its first object in index order, or NULL */
	int int_names; /* an entity relation whose many objects are all named by integers ("1999") */
};

/* The forward (dir 0) or inverse (dir 1) tool of r. */
static void rel_tool(const struct rel *r, const struct rel_objects *ro, int dir, struct kg_tool *t)
{
	struct phrase sp = { { 0 }, 0 }, op = { { 0 }, 0 }, base = { { 0 }, 0 }, rp = { { 0 }, 0 };
	struct ling_buf d = LING_BUF_INIT, param = LING_BUF_INIT, pd = LING_BUF_INIT;
	char *s_pl, *o_pl, *vb, *r_pl;
	const char *S, *O, *R, *list;
	json_t *props, *pv;
	size_t i;

	t->kind = dir ? KG_TOOL_INVERSE : KG_TOOL_FORWARD;
	t->name = xstrdup(dir ? r->inv : r->fwd);
	t->predicate = r->p;
	t->predicate_iri = xstrndup(r->iri + 1, strlen(r->iri) - 2);
	/* A relation that needed a longer name needs a longer phrase too, or two tools would read the same. */
	kg_rel_level_words(r, r->level < 3 ? r->level : 3, &rp);
	t->relation_phrase = phrase_text(&rp, "relation");
	t->subject_noun = phrase_text(&r->s, "entity");
	t->object_noun = phrase_text(&r->o, "entity");
	t->form = r->form;
	t->value = r->value;
	t->facts = r->facts;
	R = t->relation_phrase, S = t->subject_noun, O = t->object_noun;
	if (dir && r->value != KG_VALUE_ENTITY)
		O = kg_value_noun(r->value);
	kg_phrase_copy(&sp, &r->s);
	kg_phrase_inflect_last(&sp, 1);
	s_pl = phrase_text(&sp, "entities");
	kg_phrase_copy(&op, &r->o);
	kg_phrase_inflect_last(&op, 1);
	o_pl = phrase_text(&op, "entities");
	kg_phrase_copy(&base, &rp);
	kg_verb_base(&base);
	vb = phrase_text(&base, "relate to");
	r_pl = plural_relation(&rp);
	/* a list, always: say so, and what it holds */
	list = !dir && r->value != KG_VALUE_ENTITY ? "values" : "names";
	if (!dir) {
		if (r->form == KG_PHRASE_NOUN)
			ling_buf_addf(&d, "Returns the %s of %s %s, as a list of %s.", r_pl, kg_words_article(S), S, list);
		else if (r->form == KG_PHRASE_PREP)
			ling_buf_addf(&d, "Returns the %s that %s %s is %s, as a list of %s.", o_pl, kg_words_article(S), S, R,
				      list);
		else
			ling_buf_addf(&d, "Returns the %s that %s %s %s, as a list of %s.", o_pl, kg_words_article(S), S, R,
				      list);
		kg_phrase_snake(&r->s, &param);
		ling_buf_addf(&pd, "The name of the %s.", S);
	} else {
		if (r->form == KG_PHRASE_NOUN)
			ling_buf_addf(&d, "Returns the %s whose %s %s the given %s, as a list of names.", s_pl, R,
				      kg_phrase_last_is_plural(&rp) ? "include" : "is", O);
		else if (r->form == KG_PHRASE_PREP)
			ling_buf_addf(&d, "Returns the %s %s the given %s, as a list of names.", s_pl, R, O);
		else
			ling_buf_addf(&d, "Returns the %s that %s the given %s, as a list of names.", s_pl, vb, O);
		if (r->form == KG_PHRASE_NOUN) {
			struct phrase one = { { 0 }, 0 };

			kg_phrase_copy(&one, &r->r);
			kg_phrase_inflect_last(&one, 0);
			kg_phrase_snake(&one, &param);
			kg_phrase_release(&one);
			if (param.len > 40)
				ling_buf_reset(&param);
		}
		if (!param.len)
			kg_phrase_snake(&r->o, &param);
		if (r->value == KG_VALUE_ENTITY && value_like_noun(O) && ro->example)
			ling_buf_addf(&pd, "The %s, as written in the data, e.g. \"%s\".", O, ro->example);
		else if (r->value == KG_VALUE_ENTITY)
			ling_buf_addf(&pd, "The name of the %s.", O);
		else if (r->form == KG_PHRASE_NOUN && r->value == KG_VALUE_YEAR)
			ling_buf_addf(&pd, "The %s, e.g. 1999.", R);
		else if (r->form == KG_PHRASE_NOUN)
			ling_buf_addf(&pd, "The %s, %s.", R, value_kind(r->value, 0));
		else
			ling_buf_addf(&pd, "%s.", value_kind(r->value, 1));
		if (kg_value_is_ordered(r->value) || ro->int_names)
			ling_buf_adds(&pd, " With to: the first of a range.");
	}
	if (!param.len)
		ling_buf_adds(&param, "entity");
	if (!is_lower((unsigned char)param.data[0])) {
		struct ling_buf p2 = LING_BUF_INIT;

		ling_buf_addf(&p2, "x_%s", param.data);
		ling_buf_release(&param);
		param = p2;
	}
	if (param.len > NAME_MAX_LEN)
		kg_tool_fit_name(&param);
	t->param = xstrdup(param.data);
	t->description = xstrdup(d.data);
	props = json_object();
	pv = dir ? value_param(r->value, pd.data) : string_param(pd.data);
	if (dir && ro->names) {
		json_t *e = json_array();

		t->enums = xcalloc(ro->n + 1, sizeof(*t->enums));
		for (i = 0; i < ro->n; i++) {
			t->enums[i] = xstrdup(ro->names[i]);
			json_array_append_new(e, json_string(ro->names[i]));
		}
		t->nenums = ro->n;
		json_object_set_new(pv, "enum", e);
	}
	json_object_set_new(props, t->param, pv);
	t->range_type = r->value;
	if (dir && (kg_value_is_ordered(r->value) || ro->int_names) && strcmp(t->param, "to")) {
		ling_buf_reset(&pd);
		ling_buf_addf(&pd, "The last %s of the range that starts at %s (optional: without it, only %s)%s.",
			      r->form == KG_PHRASE_NOUN ? R : O, t->param, t->param,
			      ro->int_names ? ", as written in the data" : "");
		json_object_set_new(props, "to", value_param(r->value, pd.data));
		t->opts |= KG_TOOL_OPT_RANGE;
		if (ro->int_names)
			t->range_type = KG_VALUE_INTEGER;
	}
	if (strcmp(t->param, "sort") && strcmp(t->param, "limit"))
		t->opts |= add_list_options(props, !dir && kg_value_is_ordered(r->value), list);
	set_schema(t, required_schema(props, t->param));
	free(r_pl);
	free(s_pl);
	free(o_pl);
	free(vb);
	kg_phrase_release(&sp);
	kg_phrase_release(&op);
	kg_phrase_release(&base);
	kg_phrase_release(&rp);
	ling_buf_release(&d);
	ling_buf_release(&param);
	ling_buf_release(&pd);
}

static void logic_tool(struct kg_tool *t, enum kg_tool_kind kind)
{
	json_t *props = json_object(), *sets;

	t->kind = kind;
	t->twin = (size_t)-1;
	switch (kind) {
	case KG_TOOL_INTERSECTION:
	case KG_TOOL_UNION:
		t->name = xstrdup(kind == KG_TOOL_UNION ? "union" : "intersection");
		t->description = xstrdup(kind == KG_TOOL_UNION ? "Returns the names that are in at least one of the given lists."
							      : "Returns the names that are in every one of the given lists.");
		sets = json_object();
		json_object_set_new(sets, "type", json_string("array"));
		json_object_set_new(sets, "description", json_string("Two or more lists of names."));
		json_object_set_new(sets, "items", string_array(NULL));
		json_object_set_new(sets, "minItems", json_integer(2));
		json_object_set_new(props, "sets", sets);
		break;
	case KG_TOOL_DIFFERENCE:
		t->name = xstrdup("difference");
		t->description = xstrdup("Returns the names in items that are not in exclude.");
		json_object_set_new(props, "items", string_array("The names to keep."));
		json_object_set_new(props, "exclude", string_array("The names to remove."));
		break;
	default:
		t->name = xstrdup("search_entities");
		t->description = xstrdup("Returns the names of the entities called the given name, ignoring case.");
		t->param = xstrdup("name");
		json_object_set_new(props, "name", string_param("The name to look for."));
		break;
	}
	set_schema(t, object_schema(props));
}

/* ---- the catalogue ---- */

struct pred_count {
	kg_id p;
	uint64_t facts;
};

struct pred_list {
	struct pred_count *v;
	size_t n, cap;
	uint64_t min;
};

static int on_pred_count(void *ctx, const char *key, size_t key_len, const int64_t *lanes, size_t nlanes)
{
	struct pred_list *l = ctx;

	if (key_len != 8 || !nlanes || lanes[0] < 0 || (uint64_t)lanes[0] < l->min)
		return 0;
	l->v = xgrow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n].p = kg_id_from_be(key);
	l->v[l->n++].facts = (uint64_t)lanes[0];
	return 0;
}

static int excluded(const char *iri, size_t n)
{
	size_t i;

	for (i = 0; i < COUNT(excluded_namespaces); i++)
		if (!strncmp(iri, excluded_namespaces[i], strlen(excluded_namespaces[i])))
			return 1;
	for (i = 0; i < COUNT(excluded_predicates); i++)
		if (strlen(excluded_predicates[i]) == n && !memcmp(iri, excluded_predicates[i], n))
			return 1;
	return 0;
}

/*
 * What the objects of p are, judged on its first objects in index order:
 * *kind is KG_VALUE_ENTITY when most are IRIs or blank nodes, the type of
 * most literals when most are literals, and *yes says whether p gets tools.
 */
static int classify_objects(struct kg_store *st, kg_id p, enum kg_value_type *kind, int *yes, struct ling_err *err)
{
	struct id_vec objs = { 0 };
	struct ling_buf nt = LING_BUF_INIT, storage = LING_BUF_INIT;
	size_t i, entities = 0, literals = 0, bytes = 0, by_type[KG_VALUE_TEXT + 1] = { 0 };
	int rc, t, best = KG_VALUE_TEXT;

	objs.limit = OBJECT_SAMPLE;
	*yes = 0;
	*kind = KG_VALUE_ENTITY;
	if ((rc = kg_tool_collect(st, 0, p, 0, 2, &objs, err)))
		goto out;
	for (i = 0; i < objs.n; i++) {
		struct kg_term term;
		struct ling_err ignored;

		ling_buf_reset(&nt);
		if ((rc = kg_store_term_nt(st, objs.v[i], &nt, err)))
			goto out;
		if (nt.data[0] != '"') {
			entities++;
			continue;
		}
		if (kg_nt_term_parse(nt.data, nt.len, &term, &storage, &ignored))
			continue;
		literals++;
		bytes += term.len;
		by_type[kg_value_type_of(term.datatype, term.datatype_len)]++;
	}
	if (!objs.n)
		goto out;
	if (entities * 100 >= objs.n * ENTITY_SHARE_PERCENT) {
		*yes = 1;
		goto out;
	}
	if (literals * 100 < objs.n * ENTITY_SHARE_PERCENT)
		goto out;
	for (t = KG_VALUE_INTEGER; t <= KG_VALUE_TEXT; t++)
		if (by_type[t] > by_type[best] || (by_type[t] == by_type[best] && t < best))
			best = t;
	if (best == KG_VALUE_INTEGER && by_type[KG_VALUE_NUMBER])
		best = KG_VALUE_NUMBER;
	*kind = (enum kg_value_type)best;
	*yes = best != KG_VALUE_TEXT || bytes <= TEXT_MEAN_MAX * literals;
out:
	free(objs.v);
	ling_buf_release(&nt);
	ling_buf_release(&storage);
	return rc;
}

/* Triples of a relation read, at most, to learn whether its objects are few (a pure function of the store). */
#define ENUM_SCAN_MAX (1u << 20)

struct distinct_objects {
	kg_id v[KG_TOOL_ENUM_MAX + 1];
	size_t n;
	uint64_t seen;
	int stopped; /* more than KG_TOOL_ENUM_MAX objects, or too many triples to read */
};

static int on_object(void *ctx, const kg_id quad[4])
{
	struct distinct_objects *d = ctx;
	size_t i;

	for (i = 0; i < d->n && d->v[i] != quad[2]; i++)
		;
	if (i == d->n) {
		if (d->n == KG_TOOL_ENUM_MAX) {
			d->stopped = 1;
			return 1;
		}
		d->v[d->n++] = quad[2];
	}
	if (++d->seen >= ENUM_SCAN_MAX) {
		d->stopped = 1;
		return 1;
	}
	return 0;
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether every object of r is an entity named by an integer, on at most ENUM_SCAN_MAX triples. */
static int all_named_by_integers(struct kg_store *st, const struct kg_toolset *ts, const struct rel *r, int *yes,
				 struct ling_err *err)
{
	struct id_vec objs = { 0 };
	size_t i;
	int rc;

	*yes = 0;
	objs.limit = ENUM_SCAN_MAX;
	if ((rc = kg_tool_collect(st, 0, r->p, 0, 2, &objs, err)))
		goto out;
	if (objs.n >= ENUM_SCAN_MAX)
		goto out;
	kg_id_vec_unique(&objs);
	for (i = 0; i < objs.n; i++) {
		const char *shown;

		if ((rc = kg_tool_display_name(st, ts, objs.v[i], &shown, err)))
			goto out;
		if (!kg_value_is_canonical(KG_VALUE_INTEGER, shown, strlen(shown)))
			goto out;
	}
	*yes = objs.n > 0;
out:
	free(objs.v);
	return rc;
}

static void rel_objects_release(struct rel_objects *ro)
{
	size_t i;

	for (i = 0; i < ro->n; i++)
		free(ro->names[i]);
	free(ro->names);
	free(ro->example);
	memset(ro, 0, sizeof(*ro));
}

/*
 * The names of r's objects as its inverse tool takes them, when there are
 * at most KG_TOOL_ENUM_MAX: display names for an entity relation, the
 * canonical values of the literal objects of a text relation (an ordered
 * type gets a range instead); and the first object's name as an example.
 */
static int rel_objects_scan(struct kg_store *st, const struct kg_toolset *ts, const struct rel *r,
			    struct rel_objects *ro, struct ling_err *err)
{
	struct distinct_objects d = { { 0 }, 0, 0, 0 };
	struct kg_pattern pat = { 0, r->p, 0, 0, KG_BOUND_P };
	struct ling_buf value = LING_BUF_INIT, storage = LING_BUF_INIT;
	size_t i, j;
	int rc;

	memset(ro, 0, sizeof(*ro));
	if (kg_value_is_ordered(r->value))
		return 0;
	if ((rc = kg_store_match(st, &pat, on_object, &d, err)) < 0)
		return rc;
	ro->names = xcalloc(d.n + 1, sizeof(*ro->names));
	for (i = 0; i < d.n; i++) {
		const char *shown;
		struct kg_term lit;
		struct ling_err ignored;

		if (r->value == KG_VALUE_ENTITY) {
			if ((rc = kg_tool_display_name(st, ts, d.v[i], &shown, err)))
				goto fail;
			ro->names[ro->n++] = xstrdup(shown);
			continue;
		}
		if ((rc = kg_tool_term_nt(st, ts, d.v[i], &shown, err)))
			goto fail;
		if (shown[0] != '"' || kg_nt_term_parse(shown, strlen(shown), &lit, &storage, &ignored))
			continue; /* the tools of a literal relation see only its literals */
		ling_buf_reset(&value);
		kg_value_canonical(r->value, lit.value, lit.len, &value);
		ro->names[ro->n++] = xstrndup(value.data ? value.data : "", value.len);
	}
	if (ro->n && r->value == KG_VALUE_ENTITY)
		ro->example = xstrdup(ro->names[0]);
	if (ro->n > 1)
		qsort(ro->names, ro->n, sizeof(*ro->names), cmp_strp);
	for (i = j = 0; i < ro->n; i++) {
		if (j && !strcmp(ro->names[j - 1], ro->names[i]))
			free(ro->names[i]);
		else
			ro->names[j++] = ro->names[i];
	}
	ro->n = j;
	/* a partial list would refuse values the tool answers; a value jansson cannot hold, the same */
	for (i = 0; i < ro->n && !d.stopped; i++)
		if (ling_utf8_valid_prefix(ro->names[i], strlen(ro->names[i])) != strlen(ro->names[i]))
			d.stopped = 1;
	for (i = 0, j = r->value == KG_VALUE_ENTITY; i < ro->n && j; i++)
		j = kg_value_is_canonical(KG_VALUE_INTEGER, ro->names[i], strlen(ro->names[i]));
	if (d.stopped || !ro->n) {
		char *example = ro->example;

		ro->example = NULL;
		rel_objects_release(ro);
		ro->example = example;
	}
	/* too many for an enum, and the first are integers: a range, if they all are */
	if (d.stopped && j && (rc = all_named_by_integers(st, ts, r, &ro->int_names, err)))
		goto fail;
	rc = 0;
fail:
	ling_buf_release(&value);
	ling_buf_release(&storage);
	return rc;
}

static int cmp_rel(const void *a, const void *b)
{
	return strcmp(((const struct rel *)a)->iri, ((const struct rel *)b)->iri);
}

int kg_toolset_build(struct kg_store *st, const struct kg_toolset_opts *opts, struct kg_toolset **out,
		     struct ling_err *err)
{
	static const enum kg_tool_kind logic[] = { KG_TOOL_INTERSECTION, KG_TOOL_UNION, KG_TOOL_DIFFERENCE,
						   KG_TOOL_SEARCH };
	struct pred_list preds = { 0 };
	struct rel *rels = NULL;
	struct ling_buf nt = LING_BUF_INIT;
	struct kg_toolset *ts = NULL;
	struct name_ref *by_name;
	size_t i, nrels = 0;
	int rc;

	*out = NULL;
	preds.min = opts && opts->min_facts ? opts->min_facts : DEFAULT_MIN_FACTS;
	if ((rc = kg_store_counts(st, 'p', on_pred_count, &preds, err)))
		goto fail;
	rels = xcalloc(preds.n + 1, sizeof(*rels));
	for (i = 0; i < preds.n; i++) {
		enum kg_value_type kind;
		int yes = 0;

		ling_buf_reset(&nt);
		if ((rc = kg_store_term_nt(st, preds.v[i].p, &nt, err)))
			goto fail;
		if (nt.data[0] != '<' || excluded(nt.data + 1, nt.len - 2))
			continue;
		if ((rc = classify_objects(st, preds.v[i].p, &kind, &yes, err)))
			goto fail;
		if (!yes)
			continue;
		rels[nrels].value = kind;
		rels[nrels].p = preds.v[i].p;
		rels[nrels].facts = preds.v[i].facts;
		rels[nrels++].iri = xstrdup(nt.data);
	}
	if (nrels > 1)
		qsort(rels, nrels, sizeof(*rels), cmp_rel);
	for (i = 0; i < nrels; i++)
		if ((rc = kg_rel_words(st, &rels[i], err)))
			goto fail;
	kg_tool_assign_names(rels, nrels);

	ts = xcalloc(1, sizeof(*ts));
	ts->lang = xstrdup(opts && opts->lang && *opts->lang ? opts->lang : "en");
	ts->ntools = 2 * nrels + COUNT(logic);
	ts->tools = xcalloc(ts->ntools, sizeof(*ts->tools));
	ts->priv = xcalloc(1, sizeof(*ts->priv));
	ling_idmap_init(&ts->priv->names, NULL);
	ling_idmap_init(&ts->priv->terms, NULL);
	for (i = 0; i < nrels; i++) {
		struct rel_objects ro;

		if ((rc = rel_objects_scan(st, ts, &rels[i], &ro, err))) {
			kg_toolset_free(ts);
			ts = NULL;
			goto fail;
		}
		rel_tool(&rels[i], &ro, 0, &ts->tools[2 * i]);
		rel_tool(&rels[i], &ro, 1, &ts->tools[2 * i + 1]);
		rel_objects_release(&ro);
		ts->tools[2 * i].twin = 2 * i + 1;
		ts->tools[2 * i + 1].twin = 2 * i;
	}
	for (i = 0; i < COUNT(logic); i++)
		logic_tool(&ts->tools[2 * nrels + i], logic[i]);
	by_name = xmalloc(ts->ntools * sizeof(*by_name));
	for (i = 0; i < ts->ntools; i++)
		by_name[i].name = ts->tools[i].name, by_name[i].rel = i;
	qsort(by_name, ts->ntools, sizeof(*by_name), kg_name_ref_cmp);
	ts->priv->order = xmalloc(ts->ntools * sizeof(size_t));
	for (i = 0; i < ts->ntools; i++)
		ts->priv->order[i] = by_name[i].rel;
	free(by_name);
	*out = ts;
	rc = 0;
fail:
	for (i = 0; i < nrels; i++)
		kg_rel_release(&rels[i]);
	free(rels);
	free(preds.v);
	ling_buf_release(&nt);
	return rc;
}

void kg_toolset_free(struct kg_toolset *ts)
{
	size_t i, j;

	if (!ts)
		return;
	for (i = 0; i < ts->ntools; i++) {
		struct kg_tool *t = &ts->tools[i];

		free(t->name);
		free(t->description);
		free(t->param);
		free(t->parameters);
		free(t->schema);
		free(t->predicate_iri);
		free(t->relation_phrase);
		free(t->subject_noun);
		free(t->object_noun);
		for (j = 0; j < t->nenums; j++)
			free(t->enums[j]);
		free(t->enums);
	}
	free(ts->tools);
	if (ts->priv) {
		kg_tool_cache_clear(&ts->priv->names);
		kg_tool_cache_clear(&ts->priv->terms);
		free(ts->priv->order);
		free(ts->priv);
	}
	free(ts->lang);
	free(ts);
}

const struct kg_tool *kg_toolset_find(const struct kg_toolset *ts, const char *name)
{
	size_t lo = 0, hi = ts->ntools;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct kg_tool *t = &ts->tools[ts->priv->order[mid]];
		int c = strcmp(name, t->name);

		if (!c)
			return t;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}
