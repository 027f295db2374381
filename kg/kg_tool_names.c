/*
 * kg_tool_names: the words of a relation and the names of its tools
 * (KG2Tool, Ling TR 4.4). The contract is in kg.h.
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
 */
#include "kg_tools_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

#define RDFS_NS "http://www.w3.org/2000/01/rdf-schema#"
#define SCHEMA_NS "http://schema.org/"

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

/* ---- words ---- */


/* A phrase as words: ASCII lowercase unless a label word keeps its case ("IMDb"). */

static void phrase_add(struct phrase *p, const char *s, size_t n)
{
	if (n && p->n < MAX_WORDS)
		p->w[p->n++] = xstrndup(s, n);
}

void kg_phrase_release(struct phrase *p)
{
	int i;

	for (i = 0; i < p->n; i++)
		free(p->w[i]);
	p->n = 0;
}

void kg_phrase_copy(struct phrase *dst, const struct phrase *src)
{
	int i;

	kg_phrase_release(dst);
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

/* The singular (plural) of an English noun, as a new string. */
static char *singular(const char *w)
{
	struct ling_buf b = LING_BUF_INIT;

	kg_words_singular(w, strlen(w), &b);
	return b.data ? b.data : xstrdup("");
}

static char *plural(const char *w)
{
	struct ling_buf b = LING_BUF_INIT;

	kg_words_plural(w, strlen(w), &b);
	return b.data ? b.data : xstrdup("");
}

/* A phrase with its last word made plural (or singular). */
void kg_phrase_inflect_last(struct phrase *p, int to_plural)
{
	char *w;

	if (!p->n)
		return;
	w = to_plural ? plural(p->w[p->n - 1]) : singular(p->w[p->n - 1]);
	free(p->w[p->n - 1]);
	p->w[p->n - 1] = w;
}

int kg_phrase_last_is_plural(const struct phrase *p)
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
void kg_phrase_join(const struct phrase *p, const char *sep, struct ling_buf *out)
{
	int i;

	for (i = 0; i < p->n; i++) {
		if (i)
			ling_buf_adds(out, sep);
		ling_buf_adds(out, p->w[i]);
	}
}

/* snake_case of the words: ASCII letters and digits, lowercase, '_' between words. */
void kg_phrase_snake(const struct phrase *p, struct ling_buf *out)
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


#define MAX_LEVEL 4

void kg_rel_release(struct rel *r)
{
	free(r->iri);
	kg_phrase_release(&r->r);
	kg_phrase_release(&r->ctx);
	kg_phrase_release(&r->local);
	kg_phrase_release(&r->full);
	kg_phrase_release(&r->ns);
	kg_phrase_release(&r->s);
	kg_phrase_release(&r->o);
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
	kg_phrase_release(&r->full);
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
			kg_phrase_copy(&r->r, &p1);
		} else {
			kg_phrase_copy(&r->r, &p2);
			kg_phrase_copy(&r->ctx, &p1);
		}
		kg_phrase_copy(hint, &p2);
		kg_phrase_release(&p1);
		kg_phrase_release(&p2);
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
	kg_phrase_release(out);
	if (k < 0)
		return;
	phrase_add(out, r->w[k], strlen(r->w[k]));
	kg_phrase_inflect_last(out, 0);
}

/* The verbs of a phrase in the plural: "partially contains": partially contain. */
void kg_verb_base(struct phrase *p)
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
			kg_phrase_release(&nouns);
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
		if ((rc = kg_tool_collect(st, p, kg_iri_id(via[k]), 0, 2, &cls, err)))
			goto out;
	kg_id_vec_unique(&cls);
	for (i = 0; i < cls.n; i++) {
		struct phrase w = { { 0 }, 0 };

		ling_buf_reset(&name);
		if ((rc = kg_entity_name(st, cls.v[i], "en", &name, err)) < 0)
			goto out;
		if (rc == 0) {
			struct ling_buf nt = LING_BUF_INIT;

			if ((rc = kg_store_term_nt(st, cls.v[i], &nt, err)) == 0 && nt.data[0] == '<')
				local_name(nt.data + 1, nt.len - 2, &name, &w);
			kg_phrase_release(&w);
			ling_buf_release(&nt);
			if (rc)
				goto out;
		}
		rc = 0;
		if (!name.len)
			continue;
		if (!have || kg_bytes_cmp(name.data, name.len, best.data, best.len) < 0) {
			ling_buf_reset(&best);
			ling_buf_add(&best, name.data, name.len);
			have = 1;
		}
	}
	if (have) {
		kg_phrase_release(out);
		phrase_split(out, best.data, best.len, 1, 1);
	}
out:
	free(cls.v);
	ling_buf_release(&best);
	ling_buf_release(&name);
	return rc;
}

/* What an inverse tool's description calls its argument: "the given year". */
const char *kg_value_noun(enum kg_value_type t)
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
int kg_rel_words(struct kg_store *st, struct rel *r, struct ling_err *err)
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
		kg_phrase_copy(&r->local, &r->r);
	}
	if ((rc = kg_entity_name(st, r->p, "en", &label, err)) < 0)
		goto out;
	labelled = rc == 1;
	rc = 0;
	if (labelled) {
		struct phrase lw = { { 0 }, 0 };

		phrase_split(&lw, label.data, label.len, 0, 1);
		if (lw.n) {
			kg_phrase_copy(&r->ctx, &r->local);
			kg_phrase_copy(&r->r, &lw);
		}
		kg_phrase_release(&lw);
	}
	if ((rc = class_words(st, r->p, domain_iris, COUNT(domain_iris), &r->s, err)) ||
	    (rc = class_words(st, r->p, range_iris, COUNT(range_iris), &range, err)))
		goto out;
	kg_phrase_inflect_last(&r->s, 0);
	normalize_relation(r, &participle_hint);
	if (!r->r.n)
		phrase_add(&r->r, "relation", 8);
	if (r->value != KG_VALUE_ENTITY) {
		/* the range of a literal relation is a datatype (xsd:integer): the phrase says more */
		if (r->form == KG_PHRASE_NOUN)
			head_noun(&r->r, &r->o);
		else
			phrase_split(&r->o, kg_value_noun(r->value), strlen(kg_value_noun(r->value)), 0, 0);
	} else if (range.n)
		kg_phrase_copy(&r->o, &range);
	else if (participle_hint.n)
		kg_phrase_copy(&r->o, &participle_hint);
	else if (fb && !labelled && hint.n && r->form == KG_PHRASE_NOUN)
		head_noun(&hint, &r->o);
	else if (r->form == KG_PHRASE_NOUN)
		head_noun(&r->r, &r->o);
out:
	kg_phrase_release(&participle_hint);
	kg_phrase_release(&hint);
	kg_phrase_release(&range);
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
void kg_tool_fit_name(struct ling_buf *b)
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
void kg_rel_level_words(const struct rel *r, int level, struct phrase *out)
{
	kg_phrase_release(out);
	switch (level) {
	case 0:
		kg_phrase_copy(out, &r->r);
		break;
	case 1:
		kg_phrase_copy(out, &r->ctx);
		phrase_append(out, &r->r);
		break;
	case 2:
		kg_phrase_copy(out, &r->local);
		break;
	case 3:
		kg_phrase_copy(out, &r->full);
		break;
	default:
		kg_phrase_copy(out, &r->ns);
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

	kg_rel_level_words(r, r->level, &words);
	kg_phrase_snake(&words, &rs);
	if (!rs.len)
		ling_buf_adds(&rs, "relation");
	kg_verb_base(&words);
	kg_phrase_snake(&words, &vs);
	if (!vs.len)
		ling_buf_adds(&vs, "relate_to");
	kg_phrase_snake(&r->s, &ss);
	kg_phrase_copy(&spl, &r->s);
	kg_phrase_inflect_last(&spl, 1);
	kg_phrase_snake(&spl, &sp);
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
		kg_tool_fit_name(&b);
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
		kg_tool_fit_name(&b);
		free(r->inv);
		r->inv = xstrdup(b.data);
		break;
	}
	kg_phrase_release(&words);
	kg_phrase_release(&spl);
	ling_buf_release(&rs);
	ling_buf_release(&vs);
	ling_buf_release(&ss);
	ling_buf_release(&sp);
	ling_buf_release(&b);
}


int kg_name_ref_cmp(const void *a, const void *b)
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
	qsort(refs, k, sizeof(*refs), kg_name_ref_cmp);
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
void kg_tool_assign_names(struct rel *rels, size_t n)
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
