/*
 * synth_text_tpl: the tables the wording is made from: template lists and
 * their checks, the relation lexicon (built-in and from files) and how a
 * pattern's slots are named. synth_text_file fills them; synth_text reads them.
 */
#include "synth_text_render_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

#define FB_PREFIX "http://rdf.freebase.com/ns/"
#define KG_PREFIX "urn:kg:"

/* ------------------------------------------------------------- templates */

/* A restrictor is MOD when it cannot follow "are": relative clauses and "with" phrases. */
static int restrictor_is_mod(const char *s, size_t len)
{
	static const char *const first[] = { "who", "whose", "that", "which", "where", "with", "whom", "when", "to" };
	const char *sp = memchr(s, ' ', len);
	size_t n = sp ? (size_t)(sp - s) : len;
	size_t i;

	for (i = 0; i < sizeof(first) / sizeof(first[0]); i++)
		if (synth_word_is(s, n, first[i]))
			return 1;
	/* "starring X": "Which films are starring X?" reads badly, so -ing phrases do not follow "are" */
	if (n > 4 && !memcmp(s + n - 3, "ing", 3))
		return 1;
	if (sp) {
		const char *w2 = sp + 1, *end = s + len, *sp2 = memchr(w2, ' ', (size_t)(end - w2));
		size_t n2 = sp2 ? (size_t)(sp2 - w2) : (size_t)(end - w2);

		if (synth_word_is(w2, n2, "which") || synth_word_is(w2, n2, "whom"))
			return 1;
	}
	return 0;
}

/*
 * Whether the word before an {x} lets {x} be any phrase: a preposition, a
 * relative or auxiliary word, or a verb. After a noun or an article ("in the
 * genre {x}", "the films {x} directed", "a {x}") only a name reads well.
 */
static int opens_phrase(const char *w, size_t n)
{
	static const char *const words[] = {
		"of",	 "in",	  "by",	    "with",    "for",	 "at",	     "where",  "which",	  "that",    "to",
		"from",	 "on",	  "as",	    "about",   "under",	 "into",     "within", "before",  "behind",  "among",
		"than",	 "and",	  "or",	    "who",     "whom",	 "when",     "did",    "does",	  "do",	     "has",
		"have",	 "can",	  "is",	    "was",     "are",	 "were",     "be",     "won",	  "wrote",   "had",
		"made",	 "shot",  "broadcast", "play", "plays",	 "speak",    "speaks", "include", "includes", "contain",
		"contains", "border", "borders", "use", "uses",	 "wear",     "wears",  "study",	  "earn",    "follow",
		"follows", "practise", "feature", "features", "perform", "performs", "lists", "marry", "direct", "got",
	};
	size_t i;

	if (n > 2 && w[n - 1] == 'd' && w[n - 2] == 'e')
		return 1;
	if (n > 3 && !memcmp(w + n - 3, "ing", 3))
		return 1;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (synth_word_is(w, n, words[i]))
			return 1;
	return 0;
}

/* Templates that only suit a name in slot {k} (k one letter): "{x}'s", "{x} as", or {x} after a noun. */
static int name_only(const char *s, size_t len, char k)
{
	const char *p = s, *end = s + len;
	char poss[] = "{x}'s", as[] = "{x} as ", slot[] = "{x}";

	poss[1] = as[1] = slot[1] = k;
	if ((len >= 5 && memmem(s, len, poss, 5)) || (len >= 7 && memmem(s, len, as, 7)))
		return 1;
	while ((p = memmem(p, (size_t)(end - p), slot, 3))) {
		const char *e = p - 1, *b;

		if (p > s && e > s && *e == ' ') {
			if (e[-1] == '}') {
				/* an alternation ("{x:is|are} {x}") is a verb, so are {p} and {v}; {on} is a noun */
				for (b = e - 1; b > s && *b != '{'; b--)
					;
				if (!memchr(b, '|', (size_t)(e - b)) && !(e - b == 3 && (b[1] == 'p' || b[1] == 'v')))
					return 1;
			} else {
				for (b = e; b > s && b[-1] != ' ' && b[-1] != '}'; b--)
					;
				if (!opens_phrase(b, (size_t)(e - b)))
					return 1;
			}
		}
		p += 3;
	}
	return 0;
}

void synth_tpls_add(struct synth_tpls *l, const char *s, size_t len)
{
	struct synth_tpl *t;

	l->v = xgrow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
	t = &l->v[l->n++];
	t->s = s;
	t->len = len;
	t->flags = 0;
	if (name_only(s, len, 'x'))
		t->flags |= SYNTH_TPL_POSS;
	if (name_only(s, len, 's'))
		t->flags |= SYNTH_TPL_NAME_S;
	if (name_only(s, len, 'o'))
		t->flags |= SYNTH_TPL_NAME_O;
	if (restrictor_is_mod(s, len))
		t->flags |= SYNTH_TPL_MOD;
}

void synth_tpls_add_list(struct synth_tpls *l, const char *list)
{
	while (list && *list) {
		const char *e = strchr(list, ';');
		size_t n = e ? (size_t)(e - list) : strlen(list);

		if (n)
			synth_tpls_add(l, list, n);
		list = e ? e + 1 : NULL;
	}
}

static int name_in(const char *name, size_t n, const char *set)
{
	while (set && *set) {
		const char *e = strchr(set, ',');
		size_t m = e ? (size_t)(e - set) : strlen(set);

		if (m == n && !memcmp(set, name, n))
			return 1;
		set = e ? e + 1 : NULL;
	}
	return 0;
}

const char *synth_tpl_check(const char *s, const char *allowed, const char *required)
{
	size_t len = strlen(s), i;

	if (!len)
		return "empty template";
	if (s[0] == ' ' || s[len - 1] == ' ' || strstr(s, "  "))
		return "template has leading, trailing or double spaces";
	for (i = 0; i < len; i++) {
		const char *e, *bar, *colon;
		size_t n;

		if (s[i] == '}')
			return "'}' without '{'";
		if (s[i] != '{')
			continue;
		e = strchr(s + i + 1, '}');
		if (!e)
			return "'{' without '}'";
		n = (size_t)(e - (s + i + 1));
		if (memchr(s + i + 1, '{', n))
			return "nested '{'";
		bar = memchr(s + i + 1, '|', n);
		if (bar) {
			if (memchr(bar + 1, '|', (size_t)(e - bar - 1)))
				return "more than one '|' in {singular|plural}";
			colon = memchr(s + i + 1, ':', (size_t)(bar - (s + i + 1)));
			if (colon && !name_in(s + i + 1, (size_t)(colon - (s + i + 1)), allowed))
				return "unknown placeholder before ':' in {name:singular|plural}";
		} else if (!name_in(s + i + 1, n, allowed)) {
			return "unknown placeholder";
		}
		i += n + 1;
	}
	while (required && *required) {
		const char *e = strchr(required, ',');
		size_t m = e ? (size_t)(e - required) : strlen(required);
		char want[16];

		if (m + 3 > sizeof(want))
			return "placeholder name too long";
		want[0] = '{';
		memcpy(want + 1, required, m);
		want[m + 1] = '}';
		want[m + 2] = '\0';
		/* {name:singular|plural} only agrees with the slot: the name itself must be there */
		if (!strstr(s, want))
			return "a required placeholder is missing";
		required = e ? e + 1 : NULL;
	}
	return NULL;
}

/* --------------------------------------------------------------- lexicon */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

void synth_text_rehash(struct synth_text *tx)
{
	size_t i, mask;

	free(tx->slots);
	tx->nslots = 64;
	while (tx->nslots < 2 * (tx->nlex + 1))
		tx->nslots *= 2;
	tx->slots = xcalloc(tx->nslots, sizeof(*tx->slots));
	mask = tx->nslots - 1;
	for (i = 0; i < tx->nlex; i++) {
		size_t h = (size_t)hash_str(tx->lex[i].iri) & mask;

		while (tx->slots[h])
			h = (h + 1) & mask;
		tx->slots[h] = (uint32_t)(i + 1);
	}
}

const struct synth_lex *synth_text_lex_find(const struct synth_text *tx, const char *iri)
{
	size_t mask, h;

	if (!iri || !tx->nslots)
		return NULL;
	mask = tx->nslots - 1;
	for (h = (size_t)hash_str(iri) & mask; tx->slots[h]; h = (h + 1) & mask)
		if (!strcmp(tx->lex[tx->slots[h] - 1].iri, iri))
			return &tx->lex[tx->slots[h] - 1];
	return NULL;
}

struct synth_lex *synth_text_lex_get(struct synth_text *tx, const char *iri, int create)
{
	const struct synth_lex *found = synth_text_lex_find(tx, iri);
	struct synth_lex *l;

	if (found || !create)
		return (struct synth_lex *)found;
	tx->lex = xgrow(tx->lex, &tx->caplex, tx->nlex + 1, sizeof(*tx->lex));
	l = &tx->lex[tx->nlex++];
	memset(l, 0, sizeof(*l));
	l->iri = iri;
	if (2 * (tx->nlex + 1) > tx->nslots) {
		synth_text_rehash(tx);
	} else {
		size_t mask = tx->nslots - 1, h = (size_t)hash_str(iri) & mask;

		while (tx->slots[h])
			h = (h + 1) & mask;
		tx->slots[h] = (uint32_t)tx->nlex;
	}
	return l;
}

const char *synth_text_own(struct synth_text *tx, char *s)
{
	tx->owned = xgrow(tx->owned, &tx->capowned, tx->nowned + 1, sizeof(*tx->owned));
	tx->owned[tx->nowned++] = s;
	return s;
}

static const char *builtin_iri(struct synth_text *tx, const char *short_iri)
{
	struct ling_buf b = LING_BUF_INIT;

	if (!strncmp(short_iri, "fb:", 3)) {
		ling_buf_adds(&b, FB_PREFIX);
		ling_buf_adds(&b, short_iri + 3);
	} else if (!strncmp(short_iri, "kg:", 3)) {
		ling_buf_adds(&b, KG_PREFIX);
		ling_buf_adds(&b, short_iri + 3);
	} else {
		return short_iri;
	}
	return synth_text_own(tx, b.data);
}

void synth_text_load_builtins(struct synth_text *tx)
{
	size_t i;

	for (i = 0; i < synth_builtin_nrels; i++) {
		const struct synth_builtin_rel *b = &synth_builtin_rels[i];
		struct synth_lex *l = synth_text_lex_get(tx, builtin_iri(tx, b->iri), 1);

		l->subject = b->subject;
		l->object = b->object;
		l->flags = b->flags;
		synth_tpls_add_list(&l->fwd, b->fwd);
		synth_tpls_add_list(&l->fwdq, b->fwdq);
		synth_tpls_add_list(&l->inv, b->inv);
		synth_tpls_add_list(&l->invq, b->invq);
		synth_tpls_add_list(&l->stmt, b->stmt);
	}
	/*
	 * Relations without an entry: phrases from their words, by the form of
	 * the phrase {p} ("place of birth", "directed by", "contains"); {on} is
	 * the object noun and {v} the verb phrase, in the number of its subject.
	 */
	synth_tpls_add_list(&tx->fallback[SYNTH_FORM_NOUN].fwd, "the {p} of {x};{x}'s {p}");
	synth_tpls_add_list(&tx->fallback[SYNTH_FORM_NOUN].inv, "whose {p} is {x};with {x} as {p};that have {x} as their {p}");
	synth_tpls_add_list(&tx->fallback[SYNTH_FORM_NOUN].stmt,
			    "the {p} of {s} {o:is|are} {o};{o} {o:is|are} the {p} of {s}");
	synth_tpls_add_list(&tx->fallback[SYNTH_FORM_PREP].fwd, "the {on} that {x} {x:is|are} {p};the {on} {x} {x:is|are} {p}");
	synth_tpls_add_list(&tx->fallback[SYNTH_FORM_PREP].inv, "{p} {x};that {is|are} {p} {x}");
	synth_tpls_add_list(&tx->fallback[SYNTH_FORM_PREP].stmt, "{s} {s:is|are} {p} {o}");
	synth_tpls_add_list(&tx->fallback[SYNTH_FORM_VERB].fwd, "the {on} that {x} {v};the {on} {x} {v}");
	synth_tpls_add_list(&tx->fallback[SYNTH_FORM_VERB].inv, "that {v} {x}");
	synth_tpls_add_list(&tx->fallback[SYNTH_FORM_VERB].stmt, "{s} {v} {o}");
}

int synth_pattern_index(const char *name)
{
	int i;

	for (i = 0; name && i < SYNTH_NPATTERNS; i++)
		if (!strcmp(synth_pattern_names[i], name))
			return i;
	return -1;
}

void synth_lex_release(struct synth_lex *l)
{
	free(l->fwd.v);
	free(l->fwdq.v);
	free(l->inv.v);
	free(l->invq.v);
	free(l->stmt.v);
}

static const signed char pattern_anchors[SYNTH_NPATTERNS] = { 1, 1, 1, 2, 3, 2, 2, 2, 2, 2, 3, 2, 2, 2 };
static const signed char pattern_hops[SYNTH_NPATTERNS] = { 1, 2, 3, 2, 3, 3, 3, 2, 3, 2, 3, 3, 3, 3 };

const char *synth_pattern_slots(int idx)
{
	static const char *const by_counts[4][4] = {
		{ "", "", "", "" },
		{ "", "np,noun,nouns,e1,r1", "np,noun,nouns,e1,r1,r2", "np,noun,nouns,e1,r1,r2,r3" },
		{ "", "", "np,noun,nouns,e1,e2,r1,r2", "np,noun,nouns,e1,e2,r1,r2,r3" },
		{ "", "", "", "np,noun,nouns,e1,e2,e3,r1,r2,r3" },
	};

	return by_counts[pattern_anchors[idx]][pattern_hops[idx]];
}

void synth_pattern_shape(int idx, int *anchors, int *hops)
{
	*anchors = pattern_anchors[idx];
	*hops = pattern_hops[idx];
}
