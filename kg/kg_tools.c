/*
 * kg_tools: the tool catalogue of a store and the execution of one call
 * (KG2Tool, Ling TR 4.4; DESIGN.md 3.2). The contract is in kg_tools.h.
 *
 * How a relation gets its words. Each predicate yields a relation phrase R,
 * a subject noun S and an object noun O, from the best source at hand:
 *
 *  - R: the predicate's English rdfs:label when the store has one ("place of
 *    birth"), else its IRI's local name: a Freebase path `domain.type.prop`
 *    gives S = type and R = prop; a collapsed CVT `d.type.link..d2.cvt.prop2`
 *    gives S = type and R = prop2 (without a leading `d2_`), or R = link when
 *    prop2 only repeats it (`film.actor.film..film.performance.film`: film);
 *    other local names are split at `_`, `-` and camelCase. A leading has/is
 *    or in goes ("has_genre": genre), and "<participle> by" becomes the agent
 *    noun when it is a common one ("directed_by": director).
 *  - S and O: the labels of the predicate's rdfs:domain and rdfs:range (or
 *    schema:domainIncludes/rangeIncludes; the class's local name when it has
 *    no label), else S from the Freebase type and O from the head noun of R
 *    ("place of birth": place), else "entity".
 *
 * R reads as a noun ("genre"), as a phrase ending in a preposition
 * ("nominated for") or as a verb ("contains"), and the names follow:
 *
 *	noun:  get_<S>_<R>   find_<S plural>_by_<R>   get_person_place_of_birth, find_people_by_place_of_birth
 *	prep:  get_<S>_<R>   find_<S plural>_<R>      find_award_nominees_nominated_for
 *	verb:  get_<S>_<R>   find_<S plural>_that_<R base>  find_locations_that_contain
 *
 * (S is left out of a name when it is unknown, when R starts with it, or when
 * the name would be longer than 64 characters; a name still too long is cut
 * at a '_'.) Names are ASCII snake_case. When two relations would share a
 * name, all of them take a longer form, step by step: R after its context
 * (the Freebase link property, or the local name when R is a label), the
 * meaningful words of the local name, all its words, all of them after the
 * namespace's; what still collides gets _2, _3 in predicate IRI order. So
 * the catalogue depends only on the store's content: every reader of a store
 * gets the same names. The tool vocabulary is English whatever the language
 * of entity names (the sentences around it are English).
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
#include "kg_tools.h"

#include "../common/ling_jsonl.h"
#include "../common/ling_stdio.h"

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

#define NAME_MAX_LEN 64
#define DEFAULT_MIN_FACTS 10
/* Objects looked at to decide whether a predicate links entities, and the share that must be entities. */
#define OBJECT_SAMPLE 200
#define ENTITY_SHARE_PERCENT 80
/* Text relations whose sampled values are longer than this on average describe rather than relate. */
#define TEXT_MEAN_MAX 80
/* The name cache is emptied when it holds this many names, so memory stays bounded. */
#define NAME_CACHE_MAX (1u << 20)

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

/* "<participle> by" that read better as the agent noun. */
static const char *const agent_nouns[][2] = {
	{ "directed", "director" },     { "written", "writer" },         { "produced", "producer" },
	{ "composed", "composer" },     { "edited", "editor" },          { "created", "creator" },
	{ "founded", "founder" },       { "designed", "designer" },      { "developed", "developer" },
	{ "published", "publisher" },   { "owned", "owner" },            { "painted", "painter" },
	{ "performed", "performer" },   { "narrated", "narrator" },      { "illustrated", "illustrator" },
	{ "translated", "translator" }, { "distributed", "distributor" }, { "invented", "inventor" },
	{ "discovered", "discoverer" }, { "photographed", "photographer" }, { "animated", "animator" },
	{ "built", "builder" },         { "manufactured", "manufacturer" }, { "operated", "operator" },
	{ "sponsored", "sponsor" },     { "coached", "coach" },          { "managed", "manager" },
	{ "hosted", "host" },           { "presented", "presenter" },    { "authored", "author" },
	{ "design", "designer" },       { "direction", "director" },     { "story", "story writer" },
};

/* Past participles that do not end in -ed, for "countries spoken in". */
static const char *const participles[] = { "spoken", "born", "held", "made", "built", "sold", "won", "known",
					   "shown", "written", "taken", "given", "found", "set", "run" };

static const char *const verbs[] = { "contains", "adjoins", "includes", "borders", "owns", "employs",
				     "influences", "follows", "precedes", "succeeds", "replaces", "dated" };

static const char *const prepositions[] = { "by", "for", "of", "in", "to", "at", "on", "from", "with", "into", "as" };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int in_list(const char *w, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(w, list[i]))
			return 1;
	return 0;
}

static int is_upper(int c) { return c >= 'A' && c <= 'Z'; }
static int is_lower(int c) { return c >= 'a' && c <= 'z'; }
static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_alnum(int c) { return is_upper(c) || is_lower(c) || is_digit(c); }
static int to_lower(int c) { return is_upper(c) ? c - 'A' + 'a' : c; }

static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	return c ? c : (an > bn) - (an < bn);
}

/* ---- ids ---- */

struct id_vec {
	kg_id *v;
	size_t n, cap;
	size_t limit; /* 0: all */
	int slot;     /* which quad slot to collect */
};

static int collect_slot(void *ctx, const kg_id quad[4])
{
	struct id_vec *c = ctx;

	c->v = xgrow(c->v, &c->cap, c->n + 1, sizeof(*c->v));
	c->v[c->n++] = quad[c->slot];
	return c->limit && c->n >= c->limit ? 1 : 0;
}

/* Appends the ids in slot `slot` of the quads matching (s, p, o) (0 = unbound) to out. */
static int collect(struct kg_store *st, kg_id s, kg_id p, kg_id o, int slot, struct id_vec *out,
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

static void id_vec_unique(struct id_vec *v)
{
	size_t i, n = 0;

	if (v->n > 1)
		qsort(v->v, v->n, sizeof(*v->v), cmp_id);
	for (i = 0; i < v->n; i++)
		if (!n || v->v[n - 1] != v->v[i])
			v->v[n++] = v->v[i];
	v->n = n;
}

static kg_id iri_id(const char *nt)
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
		int c = tag_first ? bytes_cmp(tag, tn, p->tag.data, p->tag.len)
				  : bytes_cmp(v, vn, p->value.data, p->value.len);

		if (!c)
			c = tag_first ? bytes_cmp(v, vn, p->value.data, p->value.len)
				      : bytes_cmp(tag, tn, p->tag.data, p->tag.len);
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

	if ((rc = collect(st, id, pred, 0, 2, &objs, err)))
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
		if ((rc = scan_labels(st, id, iri_id(label_iris[i]), low, picks[i], err)))
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

struct name_slot {
	kg_id id; /* 0: empty */
	char *name;
};

struct id_cache {
	struct name_slot *slots;
	size_t cap, n;
};

struct kg_tools_private {
	struct id_cache names; /* display names */
	struct id_cache terms; /* N-Triples forms, of the objects of literal relations */
	size_t *order;         /* tool indexes sorted by name, for kg_toolset_find */
};

static void cache_clear(struct id_cache *c)
{
	size_t i;

	for (i = 0; i < c->cap; i++)
		free(c->slots[i].name);
	free(c->slots);
	c->slots = NULL;
	c->cap = c->n = 0;
}

static struct name_slot *cache_slot(const struct id_cache *c, kg_id id)
{
	size_t i = (size_t)(id * 0x9E3779B97F4A7C15ull) & (c->cap - 1);

	while (c->slots[i].id && c->slots[i].id != id)
		i = (i + 1) & (c->cap - 1);
	return &c->slots[i];
}

/* The cached string of id, or NULL. */
static const char *cache_get(const struct id_cache *c, kg_id id)
{
	const struct name_slot *s;

	if (!c->cap)
		return NULL;
	s = cache_slot(c, id);
	return s->id ? s->name : NULL;
}

/* Caches name (taking it) for id and returns it. */
static const char *cache_put(struct id_cache *c, kg_id id, char *name)
{
	struct name_slot *s;

	if (2 * (c->n + 1) > c->cap) {
		struct name_slot *old = c->slots;
		size_t i, oldcap = c->cap;

		c->cap = c->cap ? 2 * c->cap : 1024;
		c->slots = xcalloc(c->cap, sizeof(*c->slots));
		for (i = 0; i < oldcap; i++)
			if (old[i].id)
				*cache_slot(c, old[i].id) = old[i];
		free(old);
	}
	s = cache_slot(c, id);
	s->id = id;
	s->name = name;
	c->n++;
	return name;
}

/*
 * The name of id as tools show it: kg_entity_name, or the N-Triples form for
 * a term without a label. The string belongs to the cache (valid until the
 * next call).
 */
static int display_name(struct kg_store *st, const struct kg_toolset *ts, kg_id id, const char **name,
			struct ling_err *err)
{
	struct id_cache *c = &ts->priv->names;
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
static int term_nt(struct kg_store *st, const struct kg_toolset *ts, kg_id id, const char **nt,
		   struct ling_err *err)
{
	struct id_cache *c = &ts->priv->terms;
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

/* ---- words ---- */

#define MAX_WORDS 24

/* A phrase as words: ASCII lowercase unless a label word keeps its case ("IMDb"). */
struct phrase {
	char *w[MAX_WORDS];
	int n;
};

static void phrase_add(struct phrase *p, const char *s, size_t n)
{
	if (n && p->n < MAX_WORDS)
		p->w[p->n++] = xstrndup(s, n);
}

static void phrase_release(struct phrase *p)
{
	int i;

	for (i = 0; i < p->n; i++)
		free(p->w[i]);
	p->n = 0;
}

static void phrase_copy(struct phrase *dst, const struct phrase *src)
{
	int i;

	phrase_release(dst);
	for (i = 0; i < src->n; i++)
		phrase_add(dst, src->w[i], strlen(src->w[i]));
}

static void phrase_append(struct phrase *dst, const struct phrase *src)
{
	int i;

	for (i = 0; i < src->n; i++)
		phrase_add(dst, src->w[i], strlen(src->w[i]));
}

static void phrase_drop_first(struct phrase *p)
{
	if (!p->n)
		return;
	free(p->w[0]);
	memmove(p->w, p->w + 1, (size_t)(p->n - 1) * sizeof(*p->w));
	p->n--;
}

static void phrase_set_word(struct phrase *p, int i, const char *w)
{
	free(p->w[i]);
	p->w[i] = xstrdup(w);
}

/*
 * Splits text into words at ASCII characters that are not letters or digits
 * (bytes of UTF-8 sequences stay in words) and, with camel, at camelCase
 * boundaries. A word is lowercased unless keep_case and it has a capital after
 * its first letter.
 */
static void phrase_split(struct phrase *p, const char *s, size_t n, int camel, int keep_case)
{
	size_t i = 0;

	while (i < n) {
		size_t start, j, k;
		int mixed = 0;
		char *w;

		while (i < n && (unsigned char)s[i] < 0x80 && !is_alnum((unsigned char)s[i]))
			i++;
		start = i;
		while (i < n && ((unsigned char)s[i] >= 0x80 || is_alnum((unsigned char)s[i]))) {
			if (camel && i > start && is_upper((unsigned char)s[i]) &&
			    (!is_upper((unsigned char)s[i - 1]) ||
			     (i + 1 < n && is_lower((unsigned char)s[i + 1]))))
				break;
			i++;
		}
		if (i == start)
			continue;
		w = xstrndup(s + start, i - start);
		for (j = 1; keep_case && w[j]; j++)
			mixed |= is_upper((unsigned char)w[j]);
		for (k = 0; w[k] && !mixed; k++)
			w[k] = (char)to_lower((unsigned char)w[k]);
		if (p->n < MAX_WORDS)
			p->w[p->n++] = w;
		else
			free(w);
	}
}

static const char *last_word(const struct phrase *p)
{
	return p->n ? p->w[p->n - 1] : "";
}

/* Lowercase word i, for matching. */
static int word_is(const struct phrase *p, int i, const char *w)
{
	const char *a = p->w[i];

	while (*a && *w && to_lower((unsigned char)*a) == *w)
		a++, w++;
	return !*a && !*w;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !memcmp(s + n - m, suffix, m);
}

static int is_vowel(int c)
{
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

/* The singular of an English noun, by the usual rules. */
static char *singular(const char *w)
{
	size_t n = strlen(w);
	char *s;

	if (!strcmp(w, "people"))
		return xstrdup("person");
	if (!strcmp(w, "children"))
		return xstrdup("child");
	if (n < 3 || !strcmp(w, "series") || !strcmp(w, "species") || !strcmp(w, "news"))
		return xstrdup(w);
	if (!strcmp(w, "men") || !strcmp(w, "women")) {
		s = xstrdup(w);
		s[n - 2] = 'a';
		return s;
	}
	if (ends_with(w, "ies") && n > 4) {
		s = xstrndup(w, n - 2);
		s[n - 3] = 'y';
		return s;
	}
	if (ends_with(w, "sses") || ends_with(w, "shes") || ends_with(w, "ches") || ends_with(w, "xes") ||
	    ends_with(w, "zes"))
		return xstrndup(w, n - 2);
	if (w[n - 1] == 's' && !ends_with(w, "ss") && !ends_with(w, "us") && !ends_with(w, "is"))
		return xstrndup(w, n - 1);
	return xstrdup(w);
}

static char *plural(const char *w)
{
	struct ling_buf b = LING_BUF_INIT;
	size_t n = strlen(w);

	if (!strcmp(w, "person"))
		return xstrdup("people");
	if (!strcmp(w, "child"))
		return xstrdup("children");
	if (!strcmp(w, "man") || !strcmp(w, "woman")) {
		char *s = xstrdup(w);

		s[n - 2] = 'e';
		return s;
	}
	if (!n || !strcmp(w, "series") || !strcmp(w, "species"))
		return xstrdup(w);
	if (n > 1 && w[n - 1] == 'y' && !is_vowel(w[n - 2])) {
		ling_buf_add(&b, w, n - 1);
		ling_buf_adds(&b, "ies");
	} else if (w[n - 1] == 's' || w[n - 1] == 'x' || w[n - 1] == 'z' || ends_with(w, "ch") || ends_with(w, "sh")) {
		ling_buf_addf(&b, "%ses", w);
	} else {
		ling_buf_addf(&b, "%ss", w);
	}
	return b.data;
}

/* A phrase with its last word made plural (or singular). */
static void phrase_inflect_last(struct phrase *p, int to_plural)
{
	char *w;

	if (!p->n)
		return;
	w = to_plural ? plural(p->w[p->n - 1]) : singular(p->w[p->n - 1]);
	free(p->w[p->n - 1]);
	p->w[p->n - 1] = w;
}

static int last_is_plural(const struct phrase *p)
{
	char *s;
	int differs;

	if (!p->n)
		return 0;
	s = singular(last_word(p));
	differs = strcmp(s, last_word(p)) != 0;
	free(s);
	return differs;
}

/* The words joined with sep into out (appended). */
static void phrase_join(const struct phrase *p, const char *sep, struct ling_buf *out)
{
	int i;

	for (i = 0; i < p->n; i++) {
		if (i)
			ling_buf_adds(out, sep);
		ling_buf_adds(out, p->w[i]);
	}
}

/* snake_case of the words: ASCII letters and digits, lowercase, '_' between words. */
static void phrase_snake(const struct phrase *p, struct ling_buf *out)
{
	size_t start = out->len;
	int i;

	for (i = 0; i < p->n; i++) {
		const char *c;

		if (out->len > start && out->data[out->len - 1] != '_')
			ling_buf_addc(out, '_');
		for (c = p->w[i]; *c; c++)
			if (is_alnum((unsigned char)*c))
				ling_buf_addc(out, (char)to_lower((unsigned char)*c));
	}
	while (out->len > start && out->data[out->len - 1] == '_')
		ling_buf_truncate(out, out->len - 1);
}

/* ---- relations ---- */

struct rel {
	kg_id p;
	uint64_t facts;
	char *iri;              /* N-Triples form */
	struct phrase r;        /* the relation phrase */
	struct phrase ctx;      /* words that tell it from another relation with the same phrase */
	struct phrase local;    /* the words of the local name that mean something */
	struct phrase full;     /* every word of the local name */
	struct phrase ns;       /* the namespace, as words */
	struct phrase s, o;     /* subject and object nouns, singular; empty: unknown */
	enum kg_phrase_form form;
	enum kg_value_type value;
	int level;              /* how long a name it needs to be unique, 0..MAX_LEVEL */
	char *fwd, *inv;
};

#define MAX_LEVEL 4

static void rel_release(struct rel *r)
{
	free(r->iri);
	phrase_release(&r->r);
	phrase_release(&r->ctx);
	phrase_release(&r->local);
	phrase_release(&r->full);
	phrase_release(&r->ns);
	phrase_release(&r->s);
	phrase_release(&r->o);
	free(r->fwd);
	free(r->inv);
}

static int hex_value(int c)
{
	if (is_digit(c))
		return c - '0';
	c = to_lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The local name of an IRI (after the last '#', '/' or ':'), percent-decoded, into out. */
static void local_name(const char *iri, size_t n, struct ling_buf *out, struct phrase *ns)
{
	size_t i = n, start, host;
	const char *sch;

	while (i > 0 && (iri[i - 1] == '/' || iri[i - 1] == '#'))
		n = --i;
	while (i > 0 && iri[i - 1] != '/' && iri[i - 1] != '#' && iri[i - 1] != ':')
		i--;
	start = i;
	for (; i < n; i++) {
		int hi = iri[i] == '%' && i + 2 < n ? hex_value((unsigned char)iri[i + 1]) : -1;
		int lo = hi >= 0 ? hex_value((unsigned char)iri[i + 2]) : -1;

		if (lo >= 0) {
			ling_buf_addc(out, (char)(hi * 16 + lo));
			i += 2;
		} else {
			ling_buf_addc(out, iri[i]);
		}
	}
	/* The namespace's words: the host's first label that is not www, or the URN's namespace. */
	sch = strstr(iri, "://");
	if (sch && (size_t)(sch - iri) < start) {
		host = (size_t)(sch - iri) + 3;
		if (!strncmp(iri + host, "www.", 4))
			host += 4;
		for (i = host; i < start && iri[i] != '.' && iri[i] != '/' && iri[i] != ':'; i++)
			;
		phrase_split(ns, iri + host, i - host, 0, 0);
	} else if (!strncmp(iri, "urn:", 4)) {
		for (i = 4; i < start && iri[i] != ':'; i++)
			;
		phrase_split(ns, iri + 4, i - 4, 0, 0);
	}
}

/* Drops a word that repeats the one before it ("roster position position"). */
static void phrase_squeeze(struct phrase *p)
{
	int i, n = 0;

	for (i = 0; i < p->n; i++) {
		if (n && !strcmp(p->w[n - 1], p->w[i])) {
			free(p->w[i]);
			continue;
		}
		p->w[n++] = p->w[i];
	}
	p->n = n;
}

/* Every singular of b's words is among a's (singular) words. */
static int words_within(const struct phrase *a, const struct phrase *b)
{
	int i, j, all = 1;

	for (i = 0; i < b->n && all; i++) {
		char *wb = singular(b->w[i]);
		int hit = 0;

		for (j = 0; j < a->n && !hit; j++) {
			char *wa = singular(a->w[j]);

			hit = !strcmp(wa, wb);
			free(wa);
		}
		free(wb);
		all = hit;
	}
	return all;
}

static int fb_shaped(const char *local)
{
	const char *c;

	if (!strchr(local, '.'))
		return 0;
	for (c = local; *c; c++)
		if (!is_lower((unsigned char)*c) && !is_digit((unsigned char)*c) && *c != '_' && *c != '.')
			return 0;
	return 1;
}

/* The length of a Freebase property without its plural mark: release_date_s is release_date. */
static size_t without_plural_mark(const char *s, size_t n)
{
	return n > 2 && !memcmp(s + n - 2, "_s", 2) ? n - 2 : n;
}

/* Splits "a.b.c" into at most 8 pieces. @return their number. */
static int split_dots(const char *s, const char *end, const char *piece[8], size_t len[8])
{
	int n = 0;

	while (s < end && n < 8) {
		const char *d = memchr(s, '.', (size_t)(end - s));

		if (!d)
			d = end;
		piece[n] = s;
		len[n++] = (size_t)(d - s);
		s = d + 1;
	}
	return n;
}

/* The longest Freebase form: the domain and the meaningful words (american_football ... position). */
static void fb_full(struct rel *r, const char *const *piece, const size_t *len, int n)
{
	phrase_release(&r->full);
	if (n >= 3)
		phrase_split(&r->full, piece[0], len[0], 0, 0);
	phrase_append(&r->full, &r->local);
}

/*
 * Freebase paths: S from the type, R from the property or, for a collapsed
 * CVT, from the meaningful one of the two properties; hint gets the object's
 * words (the last property).
 */
static void fb_words(struct rel *r, const char *local, struct phrase *hint)
{
	const char *cvt = strstr(local, ".."), *end = cvt ? cvt : local + strlen(local);
	const char *piece[8], *piece2[8];
	size_t len[8], len2[8];
	int n = split_dots(local, end, piece, len), n2;

	if (n < 2) {
		phrase_split(&r->r, local, strlen(local), 0, 0);
		return;
	}
	phrase_split(&r->s, piece[n - 2], len[n - 2], 0, 0);
	if (!cvt) {
		size_t l = without_plural_mark(piece[n - 1], len[n - 1]);

		phrase_split(&r->r, piece[n - 1], l, 0, 0);
		phrase_split(&r->local, piece[n - 1], l, 0, 0);
		fb_full(r, piece, len, n);
		return;
	}
	{
		struct phrase p1 = { { 0 }, 0 }, p2 = { { 0 }, 0 };
		size_t l1 = len[n - 1], l2;
		const char *s2;

		n2 = split_dots(cvt + 2, local + strlen(local), piece2, len2);
		l1 = without_plural_mark(piece[n - 1], l1);
		phrase_split(&p1, piece[n - 1], l1, 0, 0);
		s2 = piece2[n2 - 1];
		l2 = without_plural_mark(s2, len2[n2 - 1]);
		/* film_release_region in domain film: release_region */
		if (n2 >= 3 && l2 > len2[0] + 1 && !memcmp(s2, piece2[0], len2[0]) && s2[len2[0]] == '_') {
			s2 += len2[0] + 1;
			l2 -= len2[0] + 1;
		}
		phrase_split(&p2, s2, l2, 0, 0);
		phrase_append(&r->local, &p1);
		if (n2 >= 2)
			phrase_split(&r->local, piece2[n2 - 2], len2[n2 - 2], 0, 0);
		phrase_append(&r->local, &p2);
		phrase_squeeze(&r->local);
		fb_full(r, piece, len, n);
		if (words_within(&p1, &p2) && !(p2.n == 1 && in_list(p2.w[0], verbs, COUNT(verbs)))) {
			phrase_copy(&r->r, &p1);
		} else {
			phrase_copy(&r->r, &p2);
			phrase_copy(&r->ctx, &p1);
		}
		phrase_copy(hint, &p2);
		phrase_release(&p1);
		phrase_release(&p2);
	}
}

/* The head noun of a noun phrase, singular: "place of birth": place; "release region": region. */
static void head_noun(const struct phrase *r, struct phrase *out)
{
	int i, k = r->n - 1;

	for (i = 1; i < r->n; i++)
		if (word_is(r, i, "of")) {
			k = i - 1;
			break;
		}
	phrase_release(out);
	if (k < 0)
		return;
	phrase_add(out, r->w[k], strlen(r->w[k]));
	phrase_inflect_last(out, 0);
}

/* The verbs of a phrase in the plural: "partially contains": partially contain. */
static void verb_base(struct phrase *p)
{
	int i;

	for (i = 0; i < p->n; i++)
		if (in_list(p->w[i], verbs, COUNT(verbs))) {
			char *base = singular(p->w[i]);

			phrase_set_word(p, i, base);
			free(base);
		}
}

static int is_participle(const char *w)
{
	return (ends_with(w, "ed") && strlen(w) > 3) || in_list(w, participles, COUNT(participles));
}

/*
 * Takes leading has/is/in and the subject's words off R and sets its form.
 * "<participle or noun> by" becomes the agent noun when it is a common one
 * ("directed by": director, "costume design by": costume designer), and
 * "<nouns> <participle> <preposition>" keeps the participle phrase and
 * gives the object noun ("countries spoken in": spoken in; country).
 */
static void normalize_relation(struct rel *r, struct phrase *object_hint)
{
	size_t i;
	int k;

	while (r->r.n >= 2 && (word_is(&r->r, 0, "has") || word_is(&r->r, 0, "have") || word_is(&r->r, 0, "is") ||
			       word_is(&r->r, 0, "was") || word_is(&r->r, 0, "are") || word_is(&r->r, 0, "in")))
		phrase_drop_first(&r->r);
	/* film.film.film_format: format */
	if (r->s.n && r->r.n > r->s.n && !in_list(r->r.w[r->s.n], prepositions, COUNT(prepositions))) {
		for (k = 0; k < r->s.n && !strcmp(r->r.w[k], r->s.w[k]); k++)
			;
		while (k == r->s.n && k-- > 0)
			phrase_drop_first(&r->r);
	}
	r->form = KG_PHRASE_NOUN;
	if (!r->r.n)
		return;
	if (r->r.n >= 2 && in_list(last_word(&r->r), prepositions, COUNT(prepositions))) {
		const char *before = r->r.w[r->r.n - 2];

		r->form = KG_PHRASE_PREP;
		if (word_is(&r->r, r->r.n - 1, "by"))
			for (i = 0; i < COUNT(agent_nouns); i++)
				if (!strcmp(before, agent_nouns[i][0])) {
					free(r->r.w[--r->r.n]);
					free(r->r.w[--r->r.n]);
					phrase_split(&r->r, agent_nouns[i][1], strlen(agent_nouns[i][1]), 0, 0);
					r->form = KG_PHRASE_NOUN;
					return;
				}
		if (r->r.n >= 3 && is_participle(before)) {
			struct phrase nouns = { { 0 }, 0 };

			for (k = 0; k < r->r.n - 2; k++)
				phrase_add(&nouns, r->r.w[k], strlen(r->r.w[k]));
			while (r->r.n > 2)
				phrase_drop_first(&r->r);
			head_noun(&nouns, object_hint);
			phrase_release(&nouns);
		}
		return;
	}
	for (k = 0; k < r->r.n; k++)
		if (in_list(r->r.w[k], verbs, COUNT(verbs)))
			r->form = KG_PHRASE_VERB;
}

/*
 * The words of the class named by (p, via) with the smallest label (or local
 * name when it has none), e.g. the rdfs:domain of p. Leaves out empty.
 */
static int class_words(struct kg_store *st, kg_id p, const char *const *via, size_t nvia, struct phrase *out,
		       struct ling_err *err)
{
	struct ling_buf best = LING_BUF_INIT, name = LING_BUF_INIT;
	struct id_vec cls = { 0 };
	size_t i, k;
	int rc = 0, have = 0;

	for (k = 0; k < nvia; k++)
		if ((rc = collect(st, p, iri_id(via[k]), 0, 2, &cls, err)))
			goto out;
	id_vec_unique(&cls);
	for (i = 0; i < cls.n; i++) {
		struct phrase w = { { 0 }, 0 };

		ling_buf_reset(&name);
		if ((rc = kg_entity_name(st, cls.v[i], "en", &name, err)) < 0)
			goto out;
		if (rc == 0) {
			struct ling_buf nt = LING_BUF_INIT;

			if ((rc = kg_store_term_nt(st, cls.v[i], &nt, err)) == 0 && nt.data[0] == '<')
				local_name(nt.data + 1, nt.len - 2, &name, &w);
			phrase_release(&w);
			ling_buf_release(&nt);
			if (rc)
				goto out;
		}
		rc = 0;
		if (!name.len)
			continue;
		if (!have || bytes_cmp(name.data, name.len, best.data, best.len) < 0) {
			ling_buf_reset(&best);
			ling_buf_add(&best, name.data, name.len);
			have = 1;
		}
	}
	if (have) {
		phrase_release(out);
		phrase_split(out, best.data, best.len, 1, 1);
	}
out:
	free(cls.v);
	ling_buf_release(&best);
	ling_buf_release(&name);
	return rc;
}

/* What an inverse tool's description calls its argument: "the given year". */
static const char *value_noun(enum kg_value_type t)
{
	switch (t) {
	case KG_VALUE_INTEGER:
	case KG_VALUE_NUMBER: return "number";
	case KG_VALUE_DATE: return "date";
	case KG_VALUE_YEAR: return "year";
	default: return "value";
	}
}

/* Fills in the words of r from its IRI and the store's labels, domain and range. */
static int rel_words(struct kg_store *st, struct rel *r, struct ling_err *err)
{
	static const char *const domain_iris[] = { "<" RDFS_NS "domain>", "<" SCHEMA_NS "domainIncludes>" };
	static const char *const range_iris[] = { "<" RDFS_NS "range>", "<" SCHEMA_NS "rangeIncludes>" };
	struct ling_buf local = LING_BUF_INIT, label = LING_BUF_INIT;
	struct phrase hint = { { 0 }, 0 }, range = { { 0 }, 0 }, participle_hint = { { 0 }, 0 };
	int rc, labelled, fb;

	local_name(r->iri + 1, strlen(r->iri) - 2, &local, &r->ns);
	phrase_split(&r->full, local.data ? local.data : "", local.len, 1, 0);
	fb = local.len && fb_shaped(local.data);
	if (fb) {
		fb_words(r, local.data, &hint);
	} else {
		phrase_split(&r->r, local.data ? local.data : "", local.len, 1, 0);
		phrase_copy(&r->local, &r->r);
	}
	if ((rc = kg_entity_name(st, r->p, "en", &label, err)) < 0)
		goto out;
	labelled = rc == 1;
	rc = 0;
	if (labelled) {
		struct phrase lw = { { 0 }, 0 };

		phrase_split(&lw, label.data, label.len, 0, 1);
		if (lw.n) {
			phrase_copy(&r->ctx, &r->local);
			phrase_copy(&r->r, &lw);
		}
		phrase_release(&lw);
	}
	if ((rc = class_words(st, r->p, domain_iris, COUNT(domain_iris), &r->s, err)) ||
	    (rc = class_words(st, r->p, range_iris, COUNT(range_iris), &range, err)))
		goto out;
	phrase_inflect_last(&r->s, 0);
	normalize_relation(r, &participle_hint);
	if (!r->r.n)
		phrase_add(&r->r, "relation", 8);
	if (r->value != KG_VALUE_ENTITY) {
		/* the range of a literal relation is a datatype (xsd:integer): the phrase says more */
		if (r->form == KG_PHRASE_NOUN)
			head_noun(&r->r, &r->o);
		else
			phrase_split(&r->o, value_noun(r->value), strlen(value_noun(r->value)), 0, 0);
	} else if (range.n)
		phrase_copy(&r->o, &range);
	else if (participle_hint.n)
		phrase_copy(&r->o, &participle_hint);
	else if (fb && !labelled && hint.n && r->form == KG_PHRASE_NOUN)
		head_noun(&hint, &r->o);
	else if (r->form == KG_PHRASE_NOUN)
		head_noun(&r->r, &r->o);
out:
	phrase_release(&participle_hint);
	phrase_release(&hint);
	phrase_release(&range);
	ling_buf_release(&local);
	ling_buf_release(&label);
	return rc;
}

/* ---- names ---- */

static int snake_starts_with(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return n && !strncmp(s, prefix, n) && (s[n] == '_' || !s[n]);
}

/* Cuts a name to NAME_MAX_LEN at a '_'. */
static void fit_name(struct ling_buf *b)
{
	size_t n = b->len;

	if (n <= NAME_MAX_LEN)
		return;
	n = NAME_MAX_LEN;
	while (n > 8 && b->data[n] != '_')
		n--;
	if (b->data[n] != '_')
		n = NAME_MAX_LEN;
	ling_buf_truncate(b, n);
	while (b->len && b->data[b->len - 1] == '_')
		ling_buf_truncate(b, b->len - 1);
}

/* The relation words a name uses at a level of detail. */
static void level_words(const struct rel *r, int level, struct phrase *out)
{
	phrase_release(out);
	switch (level) {
	case 0:
		phrase_copy(out, &r->r);
		break;
	case 1:
		phrase_copy(out, &r->ctx);
		phrase_append(out, &r->r);
		break;
	case 2:
		phrase_copy(out, &r->local);
		break;
	case 3:
		phrase_copy(out, &r->full);
		break;
	default:
		phrase_copy(out, &r->ns);
		phrase_append(out, &r->full);
		break;
	}
}

static void build_names(struct rel *r)
{
	struct ling_buf rs = LING_BUF_INIT, vs = LING_BUF_INIT, ss = LING_BUF_INIT, sp = LING_BUF_INIT;
	struct ling_buf b = LING_BUF_INIT;
	struct phrase words = { { 0 }, 0 }, spl = { { 0 }, 0 };
	int pass;

	level_words(r, r->level, &words);
	phrase_snake(&words, &rs);
	if (!rs.len)
		ling_buf_adds(&rs, "relation");
	verb_base(&words);
	phrase_snake(&words, &vs);
	if (!vs.len)
		ling_buf_adds(&vs, "relate_to");
	phrase_snake(&r->s, &ss);
	phrase_copy(&spl, &r->s);
	phrase_inflect_last(&spl, 1);
	phrase_snake(&spl, &sp);
	if (!sp.len)
		ling_buf_adds(&sp, "entities");
	for (pass = 0; pass < 2; pass++) {
		int with_subject = pass == 0;

		/* forward */
		ling_buf_reset(&b);
		ling_buf_adds(&b, "get_");
		if (with_subject && ss.len && !snake_starts_with(rs.data, ss.data))
			ling_buf_addf(&b, "%s_", ss.data);
		ling_buf_adds(&b, rs.data);
		if (b.len > NAME_MAX_LEN && with_subject)
			continue;
		fit_name(&b);
		free(r->fwd);
		r->fwd = xstrdup(b.data);
		break;
	}
	for (pass = 0; pass < 2; pass++) {
		const char *subj = pass == 0 ? sp.data : NULL;

		ling_buf_reset(&b);
		ling_buf_adds(&b, "find_");
		if (r->form == KG_PHRASE_NOUN)
			ling_buf_addf(&b, "%s%sby_%s", subj ? subj : "", subj ? "_" : "", rs.data);
		else if (r->form == KG_PHRASE_PREP)
			ling_buf_addf(&b, "%s%s%s", subj ? subj : "", subj ? "_" : "", rs.data);
		else
			ling_buf_addf(&b, "%s%sthat_%s", subj ? subj : "", subj ? "_" : "", vs.data);
		if (b.len > NAME_MAX_LEN && subj)
			continue;
		fit_name(&b);
		free(r->inv);
		r->inv = xstrdup(b.data);
		break;
	}
	phrase_release(&words);
	phrase_release(&spl);
	ling_buf_release(&rs);
	ling_buf_release(&vs);
	ling_buf_release(&ss);
	ling_buf_release(&sp);
	ling_buf_release(&b);
}

struct name_ref {
	const char *name;
	size_t rel;
};

static int cmp_name_ref(const void *a, const void *b)
{
	const struct name_ref *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->rel > y->rel) - (x->rel < y->rel);
}

static size_t collect_names(struct rel *rels, size_t n, struct name_ref *refs)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		refs[k].name = rels[i].fwd, refs[k++].rel = i;
		refs[k].name = rels[i].inv, refs[k++].rel = i;
	}
	qsort(refs, k, sizeof(*refs), cmp_name_ref);
	return k;
}

static int name_taken(const struct rel *rels, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(rels[i].fwd, name) || !strcmp(rels[i].inv, name))
			return 1;
	return 0;
}

/* Appends _2, _3, ... to name until no relation uses it. */
static char *suffixed(const struct rel *rels, size_t n, const char *name)
{
	struct ling_buf b = LING_BUF_INIT;
	int k;

	for (k = 2;; k++) {
		size_t keep = strlen(name);

		ling_buf_reset(&b);
		if (keep > NAME_MAX_LEN - 6)
			keep = NAME_MAX_LEN - 6;
		ling_buf_add(&b, name, keep);
		ling_buf_addf(&b, "_%d", k);
		if (!name_taken(rels, n, b.data))
			return b.data;
	}
}

/*
 * Unique names: relations whose names collide all take a longer form, until
 * none collides or the longest is reached; what then still collides gets a
 * number, in IRI order (the first keeps its name).
 */
static void assign_names(struct rel *rels, size_t n)
{
	struct name_ref *refs = xmalloc((2 * n + 1) * sizeof(*refs));
	unsigned char *bump = xcalloc(n + 1, 1);
	size_t i, j, k;
	int changed = 1;

	while (changed) {
		changed = 0;
		for (i = 0; i < n; i++)
			build_names(&rels[i]);
		k = collect_names(rels, n, refs);
		for (i = 0; i < k; i = j) {
			for (j = i + 1; j < k && !strcmp(refs[j].name, refs[i].name); j++)
				;
			if (j - i < 2)
				continue;
			for (; i < j; i++)
				bump[refs[i].rel] = 1;
		}
		for (i = 0; i < n; i++) {
			if (bump[i] && rels[i].level < MAX_LEVEL) {
				rels[i].level++;
				changed = 1;
			}
			bump[i] = 0;
		}
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++) {
			if (!strcmp(rels[i].fwd, rels[j].fwd) || !strcmp(rels[i].fwd, rels[j].inv)) {
				char *s = suffixed(rels, n, rels[i].fwd);

				free(rels[i].fwd);
				rels[i].fwd = s;
			}
			if (!strcmp(rels[i].inv, rels[j].fwd) || !strcmp(rels[i].inv, rels[j].inv)) {
				char *s = suffixed(rels, n, rels[i].inv);

				free(rels[i].inv);
				rels[i].inv = s;
			}
		}
	}
	free(refs);
	free(bump);
}

/* ---- schemas ---- */

static char *dump_compact(json_t *v)
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

static void set_schema(struct kg_tool *t, json_t *parameters)
{
	json_t *fn = json_object(), *tool = json_object();

	json_object_set_new(fn, "name", json_string(t->name));
	json_object_set_new(fn, "description", json_string(t->description));
	json_object_set_new(fn, "parameters", json_deep_copy(parameters));
	json_object_set_new(tool, "type", json_string("function"));
	json_object_set_new(tool, "function", fn);
	t->parameters = dump_compact(parameters);
	t->schema = dump_compact(tool);
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
	case KG_VALUE_YEAR: return cap ? "A year such as 1999" : "a year such as 1999";
	default: return cap ? "The text of the value" : "as text";
	}
}

static const char *article(const char *noun)
{
	return is_vowel(to_lower((unsigned char)noun[0])) && noun[0] != 'u' ? "an" : "a";
}

static char *phrase_text(const struct phrase *p, const char *fallback)
{
	struct ling_buf b = LING_BUF_INIT;

	phrase_join(p, " ", &b);
	if (!b.len)
		ling_buf_adds(&b, fallback);
	return b.data;
}

/* The forward (dir 0) or inverse (dir 1) tool of r. */
static void rel_tool(const struct rel *r, int dir, struct kg_tool *t)
{
	struct phrase sp = { { 0 }, 0 }, op = { { 0 }, 0 }, base = { { 0 }, 0 }, rp = { { 0 }, 0 };
	struct ling_buf d = LING_BUF_INIT, param = LING_BUF_INIT, pd = LING_BUF_INIT;
	char *s_pl, *o_pl, *vb;
	const char *S, *O, *R;
	json_t *props;

	t->kind = dir ? KG_TOOL_INVERSE : KG_TOOL_FORWARD;
	t->name = xstrdup(dir ? r->inv : r->fwd);
	t->predicate = r->p;
	t->predicate_iri = xstrndup(r->iri + 1, strlen(r->iri) - 2);
	/* A relation that needed a longer name needs a longer phrase too, or two tools would read the same. */
	level_words(r, r->level < 3 ? r->level : 3, &rp);
	t->relation_phrase = phrase_text(&rp, "relation");
	t->subject_noun = phrase_text(&r->s, "entity");
	t->object_noun = phrase_text(&r->o, "entity");
	t->form = r->form;
	t->value = r->value;
	t->facts = r->facts;
	R = t->relation_phrase, S = t->subject_noun, O = t->object_noun;
	if (dir && r->value != KG_VALUE_ENTITY)
		O = value_noun(r->value);
	phrase_copy(&sp, &r->s);
	phrase_inflect_last(&sp, 1);
	s_pl = phrase_text(&sp, "entities");
	phrase_copy(&op, &r->o);
	phrase_inflect_last(&op, 1);
	o_pl = phrase_text(&op, "entities");
	phrase_copy(&base, &rp);
	verb_base(&base);
	vb = phrase_text(&base, "relate to");
	if (!dir) {
		if (r->form == KG_PHRASE_NOUN)
			ling_buf_addf(&d, "Returns the %s of %s %s.", R, article(S), S);
		else if (r->form == KG_PHRASE_PREP)
			ling_buf_addf(&d, "Returns the %s that %s %s is %s.", o_pl, article(S), S, R);
		else
			ling_buf_addf(&d, "Returns the %s that %s %s %s.", o_pl, article(S), S, R);
		phrase_snake(&r->s, &param);
		ling_buf_addf(&pd, "The name of the %s.", S);
	} else {
		if (r->form == KG_PHRASE_NOUN)
			ling_buf_addf(&d, "Returns the %s whose %s %s the given %s.", s_pl, R,
				      last_is_plural(&rp) ? "include" : "is", O);
		else if (r->form == KG_PHRASE_PREP)
			ling_buf_addf(&d, "Returns the %s %s the given %s.", s_pl, R, O);
		else
			ling_buf_addf(&d, "Returns the %s that %s the given %s.", s_pl, vb, O);
		if (r->form == KG_PHRASE_NOUN) {
			struct phrase one = { { 0 }, 0 };

			phrase_copy(&one, &r->r);
			phrase_inflect_last(&one, 0);
			phrase_snake(&one, &param);
			phrase_release(&one);
			if (param.len > 40)
				ling_buf_reset(&param);
		}
		if (!param.len)
			phrase_snake(&r->o, &param);
		if (r->value == KG_VALUE_ENTITY)
			ling_buf_addf(&pd, "The name of the %s.", O);
		else if (r->form == KG_PHRASE_NOUN)
			ling_buf_addf(&pd, "The %s, %s.", R, value_kind(r->value, 0));
		else
			ling_buf_addf(&pd, "%s.", value_kind(r->value, 1));
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
		fit_name(&param);
	t->param = xstrdup(param.data);
	t->description = xstrdup(d.data);
	props = json_object();
	json_object_set_new(props, t->param, dir ? value_param(r->value, pd.data) : string_param(pd.data));
	set_schema(t, object_schema(props));
	free(s_pl);
	free(o_pl);
	free(vb);
	phrase_release(&sp);
	phrase_release(&op);
	phrase_release(&base);
	phrase_release(&rp);
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
	if ((rc = collect(st, 0, p, 0, 2, &objs, err)))
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
		if ((rc = rel_words(st, &rels[i], err)))
			goto fail;
	assign_names(rels, nrels);

	ts = xcalloc(1, sizeof(*ts));
	ts->lang = xstrdup(opts && opts->lang && *opts->lang ? opts->lang : "en");
	ts->ntools = 2 * nrels + COUNT(logic);
	ts->tools = xcalloc(ts->ntools, sizeof(*ts->tools));
	ts->priv = xcalloc(1, sizeof(*ts->priv));
	for (i = 0; i < nrels; i++) {
		rel_tool(&rels[i], 0, &ts->tools[2 * i]);
		rel_tool(&rels[i], 1, &ts->tools[2 * i + 1]);
		ts->tools[2 * i].twin = 2 * i + 1;
		ts->tools[2 * i + 1].twin = 2 * i;
	}
	for (i = 0; i < COUNT(logic); i++)
		logic_tool(&ts->tools[2 * nrels + i], logic[i]);
	by_name = xmalloc(ts->ntools * sizeof(*by_name));
	for (i = 0; i < ts->ntools; i++)
		by_name[i].name = ts->tools[i].name, by_name[i].rel = i;
	qsort(by_name, ts->ntools, sizeof(*by_name), cmp_name_ref);
	ts->priv->order = xmalloc(ts->ntools * sizeof(size_t));
	for (i = 0; i < ts->ntools; i++)
		ts->priv->order[i] = by_name[i].rel;
	free(by_name);
	*out = ts;
	rc = 0;
fail:
	for (i = 0; i < nrels; i++)
		rel_release(&rels[i]);
	free(rels);
	free(preds.v);
	ling_buf_release(&nt);
	return rc;
}

void kg_toolset_free(struct kg_toolset *ts)
{
	size_t i;

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
	}
	free(ts->tools);
	if (ts->priv) {
		cache_clear(&ts->priv->names);
		cache_clear(&ts->priv->terms);
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

/* ---- calls ---- */

struct str_vec {
	const char **v;
	size_t n, cap;
};

static void str_push(struct str_vec *s, const char *x)
{
	s->v = xgrow(s->v, &s->cap, s->n + 1, sizeof(*s->v));
	s->v[s->n++] = x;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void str_sort_unique(struct str_vec *s)
{
	size_t i, n = 0;

	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), cmp_str);
	for (i = 0; i < s->n; i++)
		if (!n || strcmp(s->v[n - 1], s->v[i]))
			s->v[n++] = s->v[i];
	s->n = n;
}

static int push_id(void *ctx, kg_id id)
{
	struct id_vec *v = ctx;

	v->v = xgrow(v->v, &v->cap, v->n + 1, sizeof(*v->v));
	v->v[v->n++] = id;
	return 0;
}

/* The entities whose display name is exactly name, into ids (sorted, distinct). */
static int resolve(struct kg_store *st, const struct kg_toolset *ts, const char *name, struct id_vec *ids,
		   struct ling_err *err)
{
	struct id_vec cands = { 0 };
	size_t i;
	int rc;

	if ((rc = kg_store_find_label(st, name, NULL, push_id, &cands, err)))
		goto out;
	if (name[0] == '<' || name[0] == '"' || !strncmp(name, "_:", 2)) {
		struct ling_err ignored;
		kg_id id;
		int found = 0;

		ling_err_clear(&ignored);
		if (!kg_store_nt_id(st, name, &id, &found, &ignored) && found)
			push_id(&cands, id);
	}
	id_vec_unique(&cands);
	for (i = 0; i < cands.n; i++) {
		const char *shown;

		if ((rc = display_name(st, ts, cands.v[i], &shown, err)))
			goto out;
		if (!strcmp(shown, name))
			push_id(ids, cands.v[i]);
	}
out:
	free(cands.v);
	return rc;
}

/* Checks that args has exactly the keys given. */
static int check_keys(const struct kg_tool *t, json_t *args, const char *const *keys, size_t n,
		      struct ling_err *err)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(args, key, v) {
		for (i = 0; i < n && strcmp(key, keys[i]); i++)
			;
		if (i == n)
			return ling_err_set(err, LING_EDATA, "%s: unexpected argument '%s'", t->name, key);
	}
	for (i = 0; i < n; i++)
		if (!json_object_get(args, keys[i]))
			return ling_err_set(err, LING_EDATA, "%s: missing argument '%s'", t->name, keys[i]);
	return 0;
}

static int string_list(const struct kg_tool *t, const char *what, json_t *a, struct str_vec *out,
		       struct ling_err *err)
{
	size_t i;
	json_t *v;

	if (!json_is_array(a))
		return ling_err_set(err, LING_EDATA, "%s: %s must be an array of strings", t->name, what);
	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			return ling_err_set(err, LING_EDATA, "%s: %s must be an array of strings", t->name, what);
		if (out)
			str_push(out, json_string_value(v));
	}
	return 0;
}

static int contains(const struct str_vec *sorted, const char *s)
{
	return sorted->n && bsearch(&s, sorted->v, sorted->n, sizeof(*sorted->v), cmp_str) != NULL;
}

/* The logic tools, on arguments check_args took. */
static int call_sets(const struct kg_tool *t, json_t *args, struct str_vec *res, struct ling_err *err)
{
	struct str_vec cur = { 0 }, next = { 0 };
	json_t *sets, *v;
	size_t i, j;
	int rc;

	if (t->kind == KG_TOOL_DIFFERENCE) {
		if ((rc = string_list(t, "items", json_object_get(args, "items"), res, err)) ||
		    (rc = string_list(t, "exclude", json_object_get(args, "exclude"), &cur, err)))
			goto out;
		str_sort_unique(res);
		str_sort_unique(&cur);
		for (i = j = 0; i < res->n; i++)
			if (!contains(&cur, res->v[i]))
				res->v[j++] = res->v[i];
		res->n = j;
		goto out;
	}
	sets = json_object_get(args, "sets");
	json_array_foreach(sets, i, v) {
		if ((rc = string_list(t, "each set", v, t->kind == KG_TOOL_UNION || i == 0 ? res : &cur, err)))
			goto out;
		if (t->kind == KG_TOOL_UNION || i == 0)
			continue;
		/* res = res ∩ cur */
		str_sort_unique(res);
		str_sort_unique(&cur);
		next.n = 0;
		for (j = 0; j < res->n; j++)
			if (contains(&cur, res->v[j]))
				str_push(&next, res->v[j]);
		res->n = 0;
		for (j = 0; j < next.n; j++)
			str_push(res, next.v[j]);
		cur.n = 0;
	}
out:
	free(cur.v);
	free(next.v);
	return rc;
}

/* The literal of N-Triples form nt, or 0 when nt is no literal. */
static int literal_of(const char *nt, struct kg_term *lit, struct ling_buf *storage)
{
	struct ling_err ignored;

	return nt[0] == '"' && !kg_nt_term_parse(nt, strlen(nt), lit, storage, &ignored);
}

/* The canonical value the argument of a literal relation's inverse tool stands for, into want. */
static int value_argument(const struct kg_tool *t, json_t *arg, struct ling_buf *want, struct ling_err *err)
{
	static const char *const expected[] = { "a string", "an integer", "a number", "a date as YYYY-MM-DD",
						"an integer (a year)", "a string" };
	struct ling_buf text = LING_BUF_INIT;
	int is_string = json_is_string(arg), rc = -1;

	if (is_string)
		ling_buf_add(&text, json_string_value(arg), json_string_length(arg));
	else if (json_is_integer(arg))
		ling_buf_addf(&text, "%" JSON_INTEGER_FORMAT, json_integer_value(arg));
	else if (json_is_real(arg) && t->value == KG_VALUE_NUMBER)
		ling_buf_addf(&text, "%.17g", json_real_value(arg));
	if (is_string || text.len)
		rc = kg_value_of_arg(t->value, is_string, text.data ? text.data : "", text.len, want);
	ling_buf_release(&text);
	if (rc)
		return ling_err_set(err, LING_EDATA, "%s: argument '%s' must be %s", t->name, t->param,
				    expected[t->value]);
	return 0;
}

/* The subjects whose literal object's value is want: every object of the relation is read and compared. */
static int find_by_value(struct kg_store *st, const struct kg_toolset *ts, const struct kg_tool *t,
			 const struct ling_buf *want, struct id_vec *found, struct ling_err *err)
{
	struct id_vec objs = { 0 };
	struct ling_buf have = LING_BUF_INIT, storage = LING_BUF_INIT;
	size_t i;
	int rc;

	if ((rc = collect(st, 0, t->predicate, 0, 2, &objs, err)))
		goto out;
	id_vec_unique(&objs);
	for (i = 0; i < objs.n; i++) {
		struct kg_term lit;
		const char *nt;

		if ((rc = term_nt(st, ts, objs.v[i], &nt, err)))
			goto out;
		if (!literal_of(nt, &lit, &storage))
			continue;
		ling_buf_reset(&have);
		if (kg_value_canonical(t->value, lit.value, lit.len, &have) == 1 && have.len == want->len &&
		    !memcmp(have.data, want->data, want->len) &&
		    (rc = collect(st, 0, t->predicate, objs.v[i], 0, found, err)))
			goto out;
	}
out:
	free(objs.v);
	ling_buf_release(&have);
	ling_buf_release(&storage);
	return rc;
}

/* The values of a literal relation's objects in found (its other objects are left out), into res. */
static int show_values(struct kg_store *st, const struct kg_toolset *ts, const struct kg_tool *t,
		       const struct id_vec *found, struct str_vec *res, struct str_vec *owned, struct ling_err *err)
{
	struct ling_buf value = LING_BUF_INIT, storage = LING_BUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; i < found->n; i++) {
		struct kg_term lit;
		const char *nt;

		if ((rc = term_nt(st, ts, found->v[i], &nt, err)))
			break;
		if (!literal_of(nt, &lit, &storage))
			continue;
		ling_buf_reset(&value);
		kg_value_canonical(t->value, lit.value, lit.len, &value);
		str_push(owned, xstrndup(value.data ? value.data : "", value.len));
		str_push(res, owned->v[owned->n - 1]);
	}
	ling_buf_release(&value);
	ling_buf_release(&storage);
	return rc;
}

/* A relation tool or search_entities, on arguments check_args took. */
static int call_relation(struct kg_store *st, const struct kg_toolset *ts, const struct kg_tool *t, json_t *args,
			 struct str_vec *res, struct str_vec *owned, struct ling_err *err)
{
	struct id_vec ents = { 0 }, found = { 0 };
	struct ling_buf want = LING_BUF_INIT;
	json_t *arg = json_object_get(args, t->param);
	const char *name;
	size_t i;
	int rc;

	if (t->kind == KG_TOOL_INVERSE && t->value != KG_VALUE_ENTITY) {
		if ((rc = value_argument(t, arg, &want, err)) || (rc = find_by_value(st, ts, t, &want, &found, err)))
			goto out;
		goto names;
	}
	name = json_string_value(arg);
	if (t->kind == KG_TOOL_SEARCH) {
		if ((rc = kg_store_find_label(st, name, NULL, push_id, &found, err)))
			goto out;
	} else {
		if ((rc = resolve(st, ts, name, &ents, err)))
			goto out;
		if (!ents.n) {
			rc = ling_err_set(err, LING_EDATA, "%s: no entity is named \"%s\"", t->name, name);
			goto out;
		}
		for (i = 0; i < ents.n; i++) {
			if (t->kind == KG_TOOL_FORWARD)
				rc = collect(st, ents.v[i], t->predicate, 0, 2, &found, err);
			else
				rc = collect(st, 0, t->predicate, ents.v[i], 0, &found, err);
			if (rc)
				goto out;
		}
	}
names:
	id_vec_unique(&found);
	if (t->kind == KG_TOOL_FORWARD && t->value != KG_VALUE_ENTITY) {
		rc = show_values(st, ts, t, &found, res, owned, err);
		goto out;
	}
	for (i = 0; i < found.n; i++) {
		const char *shown;

		if ((rc = display_name(st, ts, found.v[i], &shown, err)))
			goto out;
		str_push(res, shown);
	}
out:
	free(ents.v);
	free(found.v);
	ling_buf_release(&want);
	return rc;
}

/*
 * Checks parsed arguments against t's schema (an object with exactly its
 * keys, of its types) and, for a literal relation's inverse tool, that the
 * value is one of the relation's type.
 */
static int check_args(const struct kg_tool *t, json_t *args, struct ling_err *err)
{
	static const char *const sets_key[] = { "sets" }, *const diff_keys[] = { "items", "exclude" };
	const char *const param_key[] = { t->param };
	struct ling_buf want = LING_BUF_INIT;
	json_t *sets, *v;
	size_t i;
	int rc;

	if (!json_is_object(args))
		return ling_err_set(err, LING_EDATA, "%s: arguments must be a JSON object", t->name);
	switch (t->kind) {
	case KG_TOOL_DIFFERENCE:
		if ((rc = check_keys(t, args, diff_keys, 2, err)) ||
		    (rc = string_list(t, "items", json_object_get(args, "items"), NULL, err)))
			return rc;
		return string_list(t, "exclude", json_object_get(args, "exclude"), NULL, err);
	case KG_TOOL_INTERSECTION:
	case KG_TOOL_UNION:
		if ((rc = check_keys(t, args, sets_key, 1, err)))
			return rc;
		sets = json_object_get(args, "sets");
		if (!json_is_array(sets) || json_array_size(sets) < 2)
			return ling_err_set(err, LING_EDATA, "%s: sets must be an array of two or more arrays of strings",
					    t->name);
		json_array_foreach(sets, i, v)
			if ((rc = string_list(t, "each set", v, NULL, err)))
				return rc;
		return 0;
	default:
		if ((rc = check_keys(t, args, param_key, 1, err)))
			return rc;
		v = json_object_get(args, t->param);
		if (t->kind == KG_TOOL_INVERSE && t->value != KG_VALUE_ENTITY) {
			rc = value_argument(t, v, &want, err);
			ling_buf_release(&want);
			return rc;
		}
		if (!json_is_string(v))
			return ling_err_set(err, LING_EDATA, "%s: argument '%s' must be a string", t->name, t->param);
		return 0;
	}
}

int kg_tool_args_check(const struct kg_tool *t, const char *args_json, struct ling_err *err)
{
	json_error_t jerr;
	json_t *args = json_loads(args_json, JSON_REJECT_DUPLICATES, &jerr);
	int rc;

	if (!args)
		return ling_err_set(err, LING_EDATA, "%s: arguments are not JSON: %s", t->name, jerr.text);
	rc = check_args(t, args, err);
	json_decref(args);
	return rc;
}

int kg_tool_call(struct kg_store *st, const struct kg_toolset *ts, const char *name, const char *args_json,
		 struct ling_buf *result, struct ling_err *err)
{
	const struct kg_tool *t = kg_toolset_find(ts, name);
	struct str_vec res = { 0 }, owned = { 0 };
	json_error_t jerr;
	json_t *args = NULL, *arr = NULL;
	char *text;
	size_t i;
	int rc;

	if (!t)
		return ling_err_set(err, LING_EUSAGE, "unknown tool '%s'", name);
	if (ts->priv->names.n >= NAME_CACHE_MAX)
		cache_clear(&ts->priv->names);
	if (ts->priv->terms.n >= NAME_CACHE_MAX)
		cache_clear(&ts->priv->terms);
	args = json_loads(args_json, JSON_REJECT_DUPLICATES, &jerr);
	if (!args)
		return ling_err_set(err, LING_EDATA, "%s: arguments are not JSON: %s", name, jerr.text);
	if ((rc = check_args(t, args, err)))
		goto out;
	if (t->kind == KG_TOOL_FORWARD || t->kind == KG_TOOL_INVERSE || t->kind == KG_TOOL_SEARCH)
		rc = call_relation(st, ts, t, args, &res, &owned, err);
	else
		rc = call_sets(t, args, &res, err);
	if (rc)
		goto out;
	str_sort_unique(&res);
	arr = json_array();
	for (i = 0; i < res.n; i++)
		if (json_array_append_new(arr, json_string(res.v[i]))) {
			rc = ling_err_set(err, LING_EDATA, "%s: a name is not valid UTF-8", name);
			goto out;
		}
	text = json_dumps(arr, JSON_COMPACT);
	if (!text)
		abort();
	ling_buf_reset(result);
	ling_buf_adds(result, text);
	free(text);
out:
	json_decref(arr);
	json_decref(args);
	free(res.v);
	for (i = 0; i < owned.n; i++)
		free((char *)owned.v[i]);
	free(owned.v);
	return rc;
}

/* ---- a batch of calls ---- */

/* The name and argument text of one record of a calls file. @return 0 or LING_EDATA. */
static int call_record(const char *line, size_t len, const char *src, long lineno, const char **name,
		       char **args, json_t **rec, struct ling_err *err)
{
	json_t *n, *a;
	int rc;

	*args = NULL;
	if ((rc = ling_jsonl_parse(line, len, src, lineno, LING_JSONL_OBJECT, rec, err)))
		return rc;
	n = json_object_get(*rec, "name");
	a = json_object_get(*rec, "arguments");
	if (!json_is_string(n))
		return ling_err_at(err, LING_EDATA, src, lineno, 0, "\"name\" must be a string");
	*name = json_string_value(n);
	if (json_is_string(a))
		*args = xstrdup(json_string_value(a));
	else if (json_is_object(a))
		*args = dump_compact(json_incref(a));
	else
		return ling_err_at(err, LING_EDATA, src, lineno, 0, "\"arguments\" must be a string or an object");
	return 0;
}

int kg_tool_calls_jsonl(struct kg_store *st, const struct kg_toolset *ts, struct ling_input *in, FILE *out,
			struct kg_calls_counts *counts, struct ling_err *err)
{
	struct ling_jsonl r;
	struct ling_buf result = LING_BUF_INIT;
	const char *line;
	size_t len;
	int rc;

	ling_jsonl_init(&r, in);
	while ((rc = ling_jsonl_next(&r, &line, &len, err)) == 1) {
		struct ling_err cerr;
		const char *name = NULL;
		char *args = NULL, *text;
		json_t *rec = NULL, *answer;

		ling_err_clear(&cerr);
		counts->calls++;
		rc = call_record(line, len, ling_input_name(in), r.line, &name, &args, &rec, &cerr);
		if (!rc)
			rc = kg_tool_call(st, ts, name, args, &result, &cerr);
		free(args);
		json_decref(rec);
		if (rc == LING_ESTORE) {
			*err = cerr;
			goto out;
		}
		if (rc) {
			struct ling_buf msg = LING_BUF_INIT;

			counts->errors++;
			if (cerr.line)
				ling_buf_addf(&msg, "line %ld: ", cerr.line);
			ling_buf_adds(&msg, cerr.msg);
			answer = json_pack("{s:s}", "error", msg.data);
			ling_buf_release(&msg);
		} else {
			answer = json_pack("{s:s}", "result", result.data);
		}
		text = dump_compact(answer);
		errno = 0;
		rc = fputs(text, out) < 0 || putc('\n', out) == EOF;
		free(text);
		if (rc) {
			ling_exit_on_epipe(); /* the reader went away: a quiet end, as SIGPIPE */
			rc = ling_err_set(err, LING_EIO, "cannot write the results: %s",
					  errno ? strerror(errno) : "write error");
			goto out;
		}
	}
out:
	ling_buf_release(&result);
	return rc < 0 ? rc : 0;
}
