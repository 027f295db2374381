/*
 * synth_text: the words of kg2samples (see synth_text.h).
 *
 * Questions are composed, not looked up: a query tree becomes a noun phrase
 * by applying each hop's relation template to the phrase of its child ("the
 * birthplace of" + "the director of Alien"), so every one of the 14 patterns
 * of KG2Tool/Ling (TR §4.4) reads as one question, and each node picks among
 * several templates and each question among several frames. Intersections of
 * hops over one relation fold into one phrase ("films starring both X and
 * Y"); other intersections chain restrictors ("films directed by X and
 * starring Y"), negations become "but not" or "excluding".
 *
 * Output is appended to the caller's buffers; nothing here allocates per
 * call besides the growth of those buffers.
 */
#include "synth_text_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

/* ------------------------------------------------------------- rendering */

enum { CAP_NONE, CAP_UP, CAP_DOWN };

struct ctx {
	const struct synth_text *tx;
	uint64_t *rng;
	struct ling_buf *out;
	int cap; /* what to do with the first letter of the next template text */
	int nest; /* > 0 while rendering a phrase inside another one: no commas there */
	const struct synth_fact *facts; /* SL_FACTS */
	size_t nfacts;
};

static uint32_t pick(struct ctx *c, size_t n)
{
	return n > 1 ? ling_rand_below(c->rng, (uint32_t)n) : 0;
}

#define PICK(c, arr) ((arr)[pick((c), sizeof(arr) / sizeof((arr)[0]))])

/* Template text: may take the sentence's capital (never a name: names stay verbatim). */
static void lit(struct ctx *c, const char *s, size_t n)
{
	if (!n)
		return;
	/* "Elektra Records'", not "Elektra Records's" */
	if (n >= 2 && s[0] == '\'' && s[1] == 's' && (n == 2 || s[2] == ' ') && c->out->len &&
	    c->out->data[c->out->len - 1] == 's') {
		ling_buf_addc(c->out, '\'');
		s += 2;
		if (!(n -= 2))
			return;
	}
	/* "Hapoel Be'er Sheva F.C." ends the sentence by itself */
	if (s[0] == '.' && c->out->len && c->out->data[c->out->len - 1] == '.' && (n == 1 || s[1] == ' ' || s[1] == '\n')) {
		s++;
		if (!--n)
			return;
	}
	if (c->cap != CAP_NONE) {
		char ch = s[0];

		if (c->cap == CAP_UP && ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		else if (c->cap == CAP_DOWN && ch >= 'A' && ch <= 'Z' && n > 1 && s[1] >= 'a' && s[1] <= 'z')
			ch = (char)(ch - 'A' + 'a');
		ling_buf_addc(c->out, ch);
		s++;
		n--;
		c->cap = CAP_NONE;
	}
	ling_buf_add(c->out, s, n);
}

static void lits(struct ctx *c, const char *s)
{
	lit(c, s, strlen(s));
}

static void name(struct ctx *c, const char *s)
{
	static const char *const openers[] = { "So, ", "In short, ", "As it turns out, " };

	if (!s || !*s)
		s = "(unnamed)";
	/* Names stay verbatim, so a sentence cannot start with "marriage": lead into it. */
	if (c->cap == CAP_UP && s[0] >= 'a' && s[0] <= 'z')
		ling_buf_adds(c->out, openers[pick(c, 3)]);
	c->cap = CAP_NONE;
	ling_buf_adds(c->out, s);
}

static void names(struct ctx *c, const char *const *v, size_t n, const char *last_sep)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i)
			lits(c, i + 1 == n ? last_sep : ", ");
		name(c, v[i]);
	}
}

static const char *const number_words[] = { "zero",  "one",  "two",	"three",    "four",	"five",	    "six",
					    "seven", "eight", "nine",	"ten",	    "eleven",	"twelve",   "thirteen",
					    "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty" };

static void number(struct ctx *c, size_t n)
{
	char b[32];

	if (n < sizeof(number_words) / sizeof(number_words[0])) {
		lits(c, number_words[n]);
		return;
	}
	snprintf(b, sizeof(b), "%zu", n);
	lits(c, b);
}

/* ---- nouns */

static const char *const irregular[][2] = {
	{ "person", "people" },	     { "man", "men" },		 { "woman", "women" }, { "child", "children" },
	{ "medium", "media" },	     { "criterion", "criteria" }, { "series", "series" },
	{ "species", "species" },    { "Games", "Games" },	 { "alumnus", "alumni" },
	{ "genus", "genera" },	     { "people", "people" },	 { "foot", "feet" },
};

/* "genres", "campuses": already plural (a guess; "status" and "basis" are not). */
static int looks_plural(const char *w, size_t n)
{
	return n > 3 && w[n - 1] == 's' && !strchr("siu", w[n - 2]);
}

static void plural_word(struct ctx *c, const char *w, size_t n)
{
	size_t i;

	if (looks_plural(w, n)) {
		lit(c, w, n);
		return;
	}
	for (i = 0; i < sizeof(irregular) / sizeof(irregular[0]); i++)
		if (synth_word_is(w, n, irregular[i][0])) {
			lits(c, irregular[i][1]);
			return;
		}
	if (n >= 2 && w[n - 1] == 'y' && !strchr("aeiou", w[n - 2])) {
		lit(c, w, n - 1);
		lits(c, "ies");
	} else if ((n >= 1 && strchr("sxz", w[n - 1])) ||
		   (n >= 2 && w[n - 1] == 'h' && (w[n - 2] == 'c' || w[n - 2] == 's'))) {
		lit(c, w, n);
		lits(c, "es");
	} else {
		lit(c, w, n);
		lits(c, "s");
	}
}

/* "place of birth" -> "places of birth", "award category" -> "award categories". */
static void noun(struct ctx *c, const char *w, int plural)
{
	const char *of, *end, *start;

	if (!plural) {
		lits(c, w);
		return;
	}
	of = strstr(w, " of ");
	end = of ? of : w + strlen(w);
	for (start = end; start > w && start[-1] != ' '; start--)
		;
	lit(c, w, (size_t)(start - w));
	if (end == start)
		return;
	plural_word(c, start, (size_t)(end - start));
	lits(c, end);
}

static int is_person_noun(const char *w)
{
	static const char *const person[] = { "person",	     "people",	  "actor",     "director",   "writer",
					      "artist",	     "musician",  "author",    "producer",   "composer",
					      "politician",  "athlete",	  "player",    "celebrity",  "spouse",
					      "sibling",     "friend",	  "founder",   "creator",    "cinematographer",
					      "editor",	     "nominee",	  "winner",    "award winner", "inductee",
					      "peer",	     "executive producer", "costume designer", "screenwriter" };
	size_t i;

	for (i = 0; i < sizeof(person) / sizeof(person[0]); i++)
		if (!strcmp(w, person[i]))
			return 1;
	return 0;
}

/* ---- relations */

static const struct synth_lex *lex_of(const struct ctx *c, const struct synth_rel_words *rw)
{
	return rw ? synth_text_lex_find(c->tx, rw->iri) : NULL;
}

static const char *phrase_of(const struct synth_rel_words *rw)
{
	return rw && rw->phrase && *rw->phrase ? rw->phrase : "relation";
}

static const char *subject_of(const struct ctx *c, const struct synth_rel_words *rw)
{
	const struct synth_lex *l = lex_of(c, rw);

	if (l && l->subject)
		return l->subject;
	return rw && rw->subject_noun && *rw->subject_noun ? rw->subject_noun : "entity";
}

static const char *object_of(const struct ctx *c, const struct synth_rel_words *rw)
{
	const struct synth_lex *l = lex_of(c, rw);

	if (l && l->object)
		return l->object;
	return rw && rw->object_noun && *rw->object_noun ? rw->object_noun : "entity";
}

enum list_kind { L_FWD, L_FWDQ, L_INV, L_INVQ, L_STMT };

static const struct synth_tpls *list_of(const struct synth_lex *l, enum list_kind k)
{
	switch (k) {
	case L_FWD: return &l->fwd;
	case L_FWDQ: return &l->fwdq;
	case L_INV: return &l->inv;
	case L_INVQ: return &l->invq;
	case L_STMT: return &l->stmt;
	}
	return &l->fwd;
}

static int is_preposition(const char *w, size_t n)
{
	static const char *const preps[] = { "by", "in", "of", "on", "at", "to", "from", "for", "with", "into", "about", "as" };
	size_t i;

	for (i = 0; i < sizeof(preps) / sizeof(preps[0]); i++)
		if (synth_word_is(w, n, preps[i]))
			return 1;
	return 0;
}

/*
 * The form of rw's phrase: kg_tools' when it gives one, else guessed. A
 * phrase that ends in a preposition is PREP ("directed by"), or VERB when
 * its first word is a verb in the third person ("grows in").
 */
static int form_of(const struct synth_rel_words *rw)
{
	const char *p = phrase_of(rw), *last = strrchr(p, ' '), *sp = strchr(p, ' ');
	size_t n1;

	if (rw && rw->form == SYNTH_FORM_VERB)
		return SYNTH_FORM_VERB;
	if (!last || !is_preposition(last + 1, strlen(last + 1)))
		return rw && rw->form == SYNTH_FORM_PREP ? SYNTH_FORM_PREP : SYNTH_FORM_NOUN;
	n1 = (size_t)(sp - p);
	if (n1 > 2 && p[n1 - 1] == 's' && !strchr("siu", p[n1 - 2]))
		return SYNTH_FORM_VERB;
	return SYNTH_FORM_PREP;
}

/*
 * A template of kind k for rw without the flags in `without` and with those
 * in `with`: from the relation's entry, else from the fallback phrasings of
 * its phrase's form. NULL when none qualifies.
 */
static const struct synth_tpl *choose(struct ctx *c, const struct synth_rel_words *rw, enum list_kind k,
				      unsigned without, unsigned with)
{
	const struct synth_lex *l = lex_of(c, rw);
	const struct synth_tpls *ls[2];
	int nl = 0, i;

	if (l && list_of(l, k)->n)
		ls[nl++] = list_of(l, k);
	ls[nl++] = list_of(&c->tx->fallback[form_of(rw)], k);
	for (i = 0; i < nl; i++) {
		size_t j, n = 0;

		for (j = 0; j < ls[i]->n; j++)
			n += !(ls[i]->v[j].flags & without) && (ls[i]->v[j].flags & with) == with;
		if (!n)
			continue;
		n = pick(c, n);
		for (j = 0; j < ls[i]->n; j++)
			if (!(ls[i]->v[j].flags & without) && (ls[i]->v[j].flags & with) == with && !n--)
				return &ls[i]->v[j];
	}
	return NULL;
}

static int lex_flag(const struct ctx *c, const struct synth_rel_words *rw, unsigned flag)
{
	const struct synth_lex *l = lex_of(c, rw);

	return l && (l->flags & flag);
}

/* ---- slots */

enum slot_kind { SL_NODE, SL_NAME, SL_LIST, SL_TEXT, SL_NOUN, SL_VERB, SL_COORD, SL_PRED, SL_NUM, SL_FACTS };

struct slot {
	const char *key;
	enum slot_kind kind;
	const struct synth_node *node; /* NODE, COORD, PRED */
	const char *str;               /* NAME, TEXT, NOUN, VERB */
	const char *const *list;       /* LIST */
	size_t n;                      /* LIST, NUM; FACTS: the group's first fact */
	int plural;
};

struct slots {
	struct slot v[12];
	int n;
	int dflt; /* slot whose number "{a|b}" follows, -1 for `plural` */
	int plural;
};

static void slots_init(struct slots *s, int plural)
{
	s->n = 0;
	s->dflt = -1;
	s->plural = plural;
}

static struct slot *slot_add(struct slots *s, const char *key, enum slot_kind kind, int plural)
{
	struct slot *sl = &s->v[s->n++];

	memset(sl, 0, sizeof(*sl));
	sl->key = key;
	sl->kind = kind;
	sl->plural = plural;
	return sl;
}

static void slot_node(struct slots *s, const char *key, enum slot_kind kind, const struct synth_node *n, int plural)
{
	slot_add(s, key, kind, plural)->node = n;
}

static void slot_str(struct slots *s, const char *key, enum slot_kind kind, const char *str, int plural)
{
	slot_add(s, key, kind, plural)->str = str;
}

static void slot_list(struct slots *s, const char *key, const char *const *v, size_t n)
{
	struct slot *sl = slot_add(s, key, SL_LIST, n != 1);

	sl->list = v;
	sl->n = n;
}

static const struct slot *slot_find(const struct slots *s, const char *k, size_t n)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (synth_word_is(k, n, s->v[i].key))
			return &s->v[i];
	return NULL;
}

/* A verb phrase in the plural: "contains" -> "contain", "has won" -> "have won". */
static void verb(struct ctx *c, const char *v, int plural)
{
	static const char *const irr[][2] = { { "is", "are" }, { "has", "have" }, { "was", "were" }, { "does", "do" } };
	const char *sp = strchr(v, ' ');
	size_t n = sp ? (size_t)(sp - v) : strlen(v), i;

	if (!plural || n < 2) {
		lits(c, v);
		return;
	}
	for (i = 0; i < sizeof(irr) / sizeof(irr[0]); i++)
		if (synth_word_is(v, n, irr[i][0])) {
			lits(c, irr[i][1]);
			lits(c, v + n);
			return;
		}
	if (n > 3 && !memcmp(v + n - 3, "ies", 3)) {
		lit(c, v, n - 3);
		lits(c, "y");
	} else if (n > 3 && v[n - 1] == 's' && v[n - 2] == 'e' && strchr("sxzh", v[n - 3])) {
		lit(c, v, n - 2);
	} else if (v[n - 1] == 's' && v[n - 2] != 's') {
		lit(c, v, n - 1);
	} else {
		lit(c, v, n);
	}
	lits(c, v + n);
}

static void np(struct ctx *c, const struct synth_node *n);
static void coord(struct ctx *c, const struct synth_node *n);
static void pred(struct ctx *c, const struct synth_node *n);
static void facts_list(struct ctx *c, size_t first);

static void emit_slot(struct ctx *c, const struct slot *s)
{
	switch (s->kind) {
	case SL_NODE: np(c, s->node); break;
	case SL_NAME: name(c, s->str); break;
	case SL_LIST: names(c, s->list, s->n, " and "); break;
	case SL_TEXT: lits(c, s->str); break;
	case SL_NOUN: noun(c, s->str, s->plural); break;
	case SL_VERB: verb(c, s->str, s->plural); break;
	case SL_COORD: coord(c, s->node); break;
	case SL_PRED: pred(c, s->node); break;
	case SL_NUM: number(c, s->n); break;
	case SL_FACTS: facts_list(c, s->n); break;
	}
}

static void expand_field(struct ctx *c, const char *f, size_t n, const struct slots *sl)
{
	const char *end = f + n, *bar = memchr(f, '|', n), *colon, *alt = f;
	const struct slot *s;

	if (!bar) {
		if ((s = slot_find(sl, f, n)))
			emit_slot(c, s);
		return;
	}
	colon = memchr(f, ':', (size_t)(bar - f));
	if (colon) {
		s = slot_find(sl, f, (size_t)(colon - f));
		alt = colon + 1;
	} else {
		s = sl->dflt >= 0 ? &sl->v[sl->dflt] : NULL;
	}
	if (s ? s->plural : sl->plural)
		lit(c, bar + 1, (size_t)(end - bar - 1));
	else
		lit(c, alt, (size_t)(bar - alt));
}

static void expand(struct ctx *c, const char *s, size_t n, const struct slots *sl)
{
	const char *end = s + n;

	while (s < end) {
		const char *b = memchr(s, '{', (size_t)(end - s)), *e;

		if (!b) {
			lit(c, s, (size_t)(end - s));
			return;
		}
		lit(c, s, (size_t)(b - s));
		e = memchr(b, '}', (size_t)(end - b));
		if (!e)
			return; /* checked templates never get here */
		expand_field(c, b + 1, (size_t)(e - b - 1), sl);
		s = e + 1;
	}
}

static void expands(struct ctx *c, const char *s, const struct slots *sl)
{
	expand(c, s, strlen(s), sl);
}

static void expand_tpl(struct ctx *c, const struct synth_tpl *t, const struct slots *sl)
{
	expand(c, t->s, t->len, sl);
}

/*
 * A singular noun phrase template said of several things: "the place where
 * {x} {x:was|were} born" -> "the places where ...". The head noun is the word
 * before the first of " of ", " where ", ... or the first placeholder.
 */
static void expand_plural_head(struct ctx *c, const struct synth_tpl *t, const struct slots *sl)
{
	static const char *const seps[] = { " of ", " where ", " who ", " that ", " which ", " for ", " in ",
					    " at ", " on ", " with ", " behind ", " by ", " to ", " into ", " about ",
					    " {" };
	const char *s = t->s, *end = t->s + t->len, *brace = memchr(s, '{', t->len), *stop = NULL, *w;
	size_t i;

	if (t->len < 5 || memcmp(s, "the ", 4) || s[4] == '{') {
		expand_tpl(c, t, sl);
		return;
	}
	for (i = 0; i < sizeof(seps) / sizeof(seps[0]); i++) {
		const char *h = memmem(s + 4, t->len - 4, seps[i], strlen(seps[i]));

		if (h && (!stop || h < stop))
			stop = h;
	}
	if (!stop || (brace && stop > brace)) {
		expand_tpl(c, t, sl);
		return;
	}
	for (w = stop; w > s + 4 && w[-1] != ' '; w--)
		;
	expand(c, s, (size_t)(w - s), sl);
	plural_word(c, w, (size_t)(stop - w));
	expand(c, stop, (size_t)(end - stop), sl);
}

/* ---- the query tree */

static const struct synth_node *first_positive(const struct synth_node *n)
{
	int i;

	for (i = 0; i < n->nkids; i++)
		if (!n->negated[i])
			return n->kid[i];
	return n->kid[0];
}

/* The head word of a noun phrase ("places" in "places of birth") looks plural. */
static int phrase_looks_plural(const char *p)
{
	const char *of = strstr(p, " of "), *end = of ? of : p + strlen(p), *w;

	for (w = end; w > p && w[-1] != ' '; w--)
		;
	return looks_plural(w, (size_t)(end - w));
}

/* Whether a node's phrase is plural: many objects, many subjects, or a hop from a plural. */
static int node_plural(const struct ctx *c, const struct synth_node *n)
{
	switch (n->op) {
	case SYNTH_ANCHOR: return 0;
	case SYNTH_HOP:
		if (node_plural(c, n->kid[0]))
			return 1;
		if (n->inverse)
			return !lex_flag(c, n->rel, SYNTH_LEX_INV_ONE);
		if (lex_of(c, n->rel))
			return lex_flag(c, n->rel, SYNTH_LEX_FWD_MANY);
		return form_of(n->rel) == SYNTH_FORM_NOUN && phrase_looks_plural(phrase_of(n->rel));
	case SYNTH_AND: return node_plural(c, first_positive(n));
	case SYNTH_OR: return 1;
	}
	return 0;
}

static const char *node_noun(const struct ctx *c, const struct synth_node *n)
{
	switch (n->op) {
	case SYNTH_ANCHOR: return "entity";
	case SYNTH_HOP: return n->inverse ? subject_of(c, n->rel) : object_of(c, n->rel);
	case SYNTH_AND: return node_noun(c, first_positive(n));
	case SYNTH_OR: return node_noun(c, n->kid[0]);
	}
	return "entity";
}

static int is_inv_hop(const struct synth_node *n)
{
	return n->op == SYNTH_HOP && n->inverse;
}

static int same_rel(const struct synth_node *a, const struct synth_node *b)
{
	return a->op == SYNTH_HOP && b->op == SYNTH_HOP && a->inverse == b->inverse && a->rel && b->rel &&
	       (a->rel == b->rel || (a->rel->iri && b->rel->iri && !strcmp(a->rel->iri, b->rel->iri)));
}

/* All kids are hops over one relation in one direction: "films starring both X and Y". */
static int foldable(const struct synth_node *n)
{
	int i;

	if (n->nkids < 2)
		return 0;
	for (i = 0; i < n->nkids; i++)
		if (!same_rel(n->kid[0], n->kid[i]))
			return 0;
	return 1;
}

/* The slots of hop h's templates: {x} given by xs, {p}, {on} and {v}. */
static void hop_slots(struct ctx *c, const struct synth_node *h, const struct slot *xs, int plural, int verb_plural,
		      struct slots *sl)
{
	slots_init(sl, plural);
	sl->v[sl->n++] = *xs;
	sl->v[0].key = "x";
	slot_str(sl, "p", SL_NOUN, phrase_of(h->rel), plural && !h->inverse && form_of(h->rel) == SYNTH_FORM_NOUN);
	slot_str(sl, "on", SL_NOUN, object_of(c, h->rel), plural);
	slot_str(sl, "v", SL_VERB, phrase_of(h->rel), verb_plural);
}

/* Renders hop h with {x} given by xs (the child, or a folded coordination). */
static void hop_with(struct ctx *c, const struct synth_node *h, const struct slot *xs, int plural)
{
	const struct synth_tpl *t;
	struct slots sl;
	int name_x = xs->kind == SL_NODE && xs->node->op == SYNTH_ANCHOR;

	if (!h->inverse) {
		hop_slots(c, h, xs, plural, xs->plural, &sl);
		t = choose(c, h->rel, L_FWD, name_x ? 0 : SYNTH_TPL_POSS, 0);
		if (!t)
			t = choose(c, h->rel, L_FWD, 0, 0);
		c->nest++;
		if (t && plural && !lex_flag(c, h->rel, SYNTH_LEX_FWD_MANY))
			expand_plural_head(c, t, &sl);
		else if (t)
			expand_tpl(c, t, &sl);
		c->nest--;
		return;
	}
	hop_slots(c, h, xs, plural, plural, &sl);
	lits(c, "the ");
	noun(c, subject_of(c, h->rel), plural);
	lits(c, " ");
	t = choose(c, h->rel, L_INV, name_x ? 0 : SYNTH_TPL_POSS, 0);
	if (!t)
		t = choose(c, h->rel, L_INV, 0, 0);
	c->nest++;
	if (t)
		expand_tpl(c, t, &sl);
	c->nest--;
}

static int has_part_restrictor(struct ctx *c, const struct synth_node *h)
{
	const struct synth_lex *l = lex_of(c, h->rel);
	const struct synth_tpls *ls = l && l->inv.n ? &l->inv : &c->tx->fallback[form_of(h->rel)].inv;
	unsigned without = SYNTH_TPL_MOD | (h->kid[0]->op == SYNTH_ANCHOR ? 0 : SYNTH_TPL_POSS);
	size_t i;

	for (i = 0; i < ls->n; i++)
		if (!(ls->v[i].flags & without))
			return 1;
	return 0;
}

/* A restrictor of inverse hop h ("born in X"), a PART one (usable after "are") when part is set and one exists. */
static void restrictor(struct ctx *c, const struct synth_node *h, int part)
{
	const struct synth_tpl *t = NULL;
	struct slots sl;
	struct slot xs;
	int plural = node_plural(c, h);
	unsigned name_only = h->kid[0]->op == SYNTH_ANCHOR ? 0 : SYNTH_TPL_POSS;

	memset(&xs, 0, sizeof(xs));
	xs.kind = SL_NODE;
	xs.node = h->kid[0];
	xs.plural = node_plural(c, h->kid[0]);
	hop_slots(c, h, &xs, plural, plural, &sl);
	if (part)
		t = choose(c, h->rel, L_INV, name_only | SYNTH_TPL_MOD, 0);
	if (!t)
		t = choose(c, h->rel, L_INV, name_only, 0);
	if (!t)
		t = choose(c, h->rel, L_INV, 0, 0);
	c->nest++;
	if (t)
		expand_tpl(c, t, &sl);
	c->nest--;
}

static void copula(struct ctx *c, int plural)
{
	lits(c, plural ? "are" : "is");
}

/* "both A and B", "A, B and C", "A but not B", "either A or B": the children of folded hops. */
static void coord(struct ctx *c, const struct synth_node *n)
{
	const struct synth_node *pos[3], *neg[3];
	int np_ = 0, nn = 0, i;

	for (i = 0; i < n->nkids && i < 3; i++) {
		if (n->op == SYNTH_AND && n->negated[i])
			neg[nn++] = n->kid[i]->kid[0];
		else
			pos[np_++] = n->kid[i]->kid[0];
	}
	if (n->op == SYNTH_OR) {
		if (np_ == 2 && pick(c, 2))
			lits(c, "either ");
		for (i = 0; i < np_; i++) {
			if (i)
				lits(c, i + 1 == np_ ? " or " : ", ");
			np(c, pos[i]);
		}
		return;
	}
	if (np_ == 2 && !nn && pick(c, 4))
		lits(c, "both ");
	else if (np_ == 3 && pick(c, 2))
		lits(c, "all of ");
	for (i = 0; i < np_; i++) {
		if (i)
			lits(c, i + 1 == np_ ? " and " : ", ");
		np(c, pos[i]);
	}
	for (i = 0; i < nn; i++) {
		lits(c, i ? " or " : " but not ");
		np(c, neg[i]);
	}
}

static void fold(struct ctx *c, const struct synth_node *n)
{
	struct slot xs;
	int i;

	memset(&xs, 0, sizeof(xs));
	xs.kind = SL_COORD;
	xs.node = n;
	for (i = 0; i < n->nkids; i++)
		xs.plural += n->op == SYNTH_OR || !n->negated[i];
	xs.plural = xs.plural > 1 && n->op == SYNTH_AND;
	hop_with(c, first_positive(n), &xs, node_plural(c, n));
}

/* What kid k (not the head) adds to an intersection: "and starring Y", ", excluding those born in Z". */
static void and_modifier(struct ctx *c, const struct synth_node *head, const struct synth_node *k, int negated,
			 int *positives)
{
	static const char *const excl[] = { ", excluding ", " other than ", ", leaving out " };
	int plural = node_plural(c, head);

	if (!negated) {
		if (is_inv_hop(k) && is_inv_hop(head)) {
			lits(c, pick(c, 3) ? " and " : " and also ");
			restrictor(c, k, 1);
		} else {
			lits(c, *positives ? " and that " : " that ");
			copula(c, plural);
			lits(c, " also ");
			if (is_inv_hop(k) && has_part_restrictor(c, k) && pick(c, 2)) {
				restrictor(c, k, 1);
			} else {
				if (is_inv_hop(k))
					lits(c, "among ");
				np(c, k);
			}
		}
		(*positives)++;
		return;
	}
	if (is_inv_hop(k)) {
		if (is_inv_hop(head) && has_part_restrictor(c, k) && (c->nest || pick(c, 3))) {
			lits(c, pick(c, 2) ? " but not " : " and not ");
			restrictor(c, k, 1);
		} else {
			lits(c, c->nest ? " other than those " : pick(c, 2) ? ", excluding those " : ", except those ");
			restrictor(c, k, 0);
		}
		return;
	}
	lits(c, c->nest ? " other than " : PICK(c, excl));
	np(c, k);
}

static void and_np(struct ctx *c, const struct synth_node *n)
{
	const struct synth_node *head = first_positive(n);
	int plural, i, positives = 0, chain = 0;

	/* Lead with a participle if a kid has one: "films directed by X and featuring Y" */
	if (is_inv_hop(head) && !has_part_restrictor(c, head))
		for (i = 0; i < n->nkids; i++)
			if (!n->negated[i] && is_inv_hop(n->kid[i]) && has_part_restrictor(c, n->kid[i])) {
				head = n->kid[i];
				break;
			}
	plural = node_plural(c, head);

	if (foldable(n) && pick(c, 3) < 2) {
		fold(c, n);
		return;
	}
	if (is_inv_hop(head)) {
		/* "the films directed by X and starring Y but not written by Z" */
		lits(c, "the ");
		noun(c, subject_of(c, head->rel), plural);
		lits(c, " ");
		for (i = 0; i < n->nkids; i++)
			chain |= n->kid[i] != head && !n->negated[i] && is_inv_hop(n->kid[i]);
		restrictor(c, head, chain || pick(c, 3));
	} else if (n->nkids == 2 && !n->negated[0] && !n->negated[1] && strcmp(node_noun(c, head), "entity") &&
		   !is_inv_hop(n->kid[1]) && pick(c, 2)) {
		/* "the places that are both the place of birth of X and the place of death of Y" */
		lits(c, "the ");
		noun(c, node_noun(c, head), plural);
		lits(c, plural ? " that are both " : " that is both ");
		np(c, n->kid[0]);
		lits(c, " and ");
		np(c, n->kid[1]);
		return;
	} else {
		np(c, head);
	}
	for (i = 0; i < n->nkids; i++)
		if (n->kid[i] != head && !n->negated[i])
			and_modifier(c, head, n->kid[i], 0, &positives);
	for (i = 0; i < n->nkids; i++)
		if (n->kid[i] != head && n->negated[i])
			and_modifier(c, head, n->kid[i], 1, &positives);
}

static void or_np(struct ctx *c, const struct synth_node *n)
{
	int i, all_inv = 1;

	if (foldable(n) && pick(c, 3) < 2) {
		fold(c, n);
		return;
	}
	for (i = 0; i < n->nkids; i++)
		all_inv &= is_inv_hop(n->kid[i]) && !strcmp(subject_of(c, n->kid[i]->rel), subject_of(c, n->kid[0]->rel));
	if (all_inv && pick(c, 3)) {
		/* "the films directed by X or starring Y" */
		lits(c, "the ");
		noun(c, subject_of(c, n->kid[0]->rel), 1);
		lits(c, " ");
		for (i = 0; i < n->nkids; i++) {
			if (i)
				lits(c, i + 1 == n->nkids ? " or " : ", ");
			restrictor(c, n->kid[i], 1);
		}
		return;
	}
	switch (pick(c, 3)) {
	case 0:
		if (strcmp(node_noun(c, n), "entity")) {
			lits(c, "the ");
			noun(c, node_noun(c, n), 1);
			lits(c, " that are either ");
			for (i = 0; i < n->nkids; i++) {
				if (i)
					lits(c, i + 1 == n->nkids ? " or " : ", ");
				np(c, n->kid[i]);
			}
			return;
		}
		/* fall through */
	case 1:
		for (i = 0; i < n->nkids; i++) {
			if (i)
				lits(c, i + 1 == n->nkids ? " together with " : ", ");
			np(c, n->kid[i]);
		}
		return;
	default:
		for (i = 0; i < n->nkids; i++) {
			if (i)
				lits(c, i + 1 == n->nkids ? " as well as " : ", ");
			np(c, n->kid[i]);
		}
		return;
	}
}

/* The definite noun phrase of a node: "the place of birth of the director of Alien". */
static void np(struct ctx *c, const struct synth_node *n)
{
	struct slot xs;

	switch (n->op) {
	case SYNTH_ANCHOR:
		name(c, n->name);
		return;
	case SYNTH_HOP:
		memset(&xs, 0, sizeof(xs));
		xs.kind = SL_NODE;
		xs.node = n->kid[0];
		xs.plural = node_plural(c, n->kid[0]);
		hop_with(c, n, &xs, node_plural(c, n));
		return;
	case SYNTH_AND:
		and_np(c, n);
		return;
	case SYNTH_OR:
		or_np(c, n);
		return;
	}
}

/*
 * Can the node be said after "Which films are ..."? Only with restrictors:
 * a forward phrase would repeat the noun ("Which actors are the actors ...").
 */
static int pred_ok(struct ctx *c, const struct synth_node *n)
{
	int i;

	switch (n->op) {
	case SYNTH_ANCHOR: return 0;
	case SYNTH_HOP: return n->inverse && has_part_restrictor(c, n);
	case SYNTH_AND:
	case SYNTH_OR:
		for (i = 0; i < n->nkids; i++)
			if (!pred_ok(c, n->kid[i]))
				return 0;
		return 1;
	}
	return 0;
}

static void pred(struct ctx *c, const struct synth_node *n)
{
	int i, npos = 0, both;

	switch (n->op) {
	case SYNTH_ANCHOR: name(c, n->name); return;
	case SYNTH_HOP:
		if (n->inverse)
			restrictor(c, n, 1);
		else
			np(c, n);
		return;
	case SYNTH_OR:
		if (n->nkids == 2 && pick(c, 2))
			lits(c, "either ");
		for (i = 0; i < n->nkids; i++) {
			if (i)
				lits(c, i + 1 == n->nkids ? " or " : ", ");
			pred(c, n->kid[i]);
		}
		return;
	case SYNTH_AND:
		for (i = 0; i < n->nkids; i++)
			npos += !n->negated[i];
		both = npos == 2 && pick(c, 2);
		if (both)
			lits(c, "both ");
		for (i = 0, npos = 0; i < n->nkids; i++) {
			if (n->negated[i])
				continue;
			if (npos++)
				lits(c, " and ");
			pred(c, n->kid[i]);
		}
		for (i = 0; i < n->nkids; i++) {
			if (!n->negated[i])
				continue;
			lits(c, " but not ");
			pred(c, n->kid[i]);
		}
		return;
	}
}

/* ---- questions */

static const char *const q_sing[] = {
	"What is {np}?",
	"Can you tell me {np}?",
	"I'd like to know {np}.",
	"Tell me {np}.",
	"Do you know {np}?",
	"Please look up {np}.",
	"Find {np}.",
	"What's {np}?",
	"I need to know {np}.",
	"Could you find out {np}?",
	"Look up {np} for me, please.",
	"I'm trying to find {np}. Can you help?",
};

static const char *const q_plur[] = {
	"What are {np}?",
	"List {np}.",
	"Can you list {np}?",
	"Find {np}.",
	"Name {np}.",
	"Give me {np}.",
	"Which are {np}?",
	"Show me {np}.",
	"Tell me {np}.",
	"Could you tell me {np}?",
	"I want to know {np}.",
	"Please list all of {np}.",
	"I'm looking for {np}. What are they?",
};

static const char *const q_who_sing[] = { "Who is {np}?", "Who's {np}?" };
static const char *const q_who_plur[] = { "Who are {np}?", "Who exactly are {np}?" };
static const char *const q_which_sing[] = { "Which {noun} is {pred}?", "What {noun} is {pred}?" };
static const char *const q_which_plur[] = { "Which {nouns} are {pred}?", "What {nouns} are {pred}?",
					    "Which {nouns} are {pred}, if any?" };

static void question_slots(struct ctx *c, const struct synth_node *q, struct slots *sl)
{
	int plural = node_plural(c, q);
	const char *nn = node_noun(c, q);

	slots_init(sl, plural);
	slot_node(sl, "np", SL_NODE, q, plural);
	slot_str(sl, "noun", SL_NOUN, nn, 0);
	slot_str(sl, "nouns", SL_NOUN, nn, 1);
	slot_node(sl, "pred", SL_PRED, q, plural);
}

static int relation_question(struct ctx *c, const struct synth_node *q)
{
	const struct synth_tpl *t;
	struct slots sl;

	if (q->op != SYNTH_HOP)
		return 0;
	t = choose(c, q->rel, q->inverse ? L_INVQ : L_FWDQ, q->kid[0]->op == SYNTH_ANCHOR ? 0 : SYNTH_TPL_POSS, 0);
	if (!t)
		return 0;
	slots_init(&sl, node_plural(c, q));
	slot_node(&sl, "x", SL_NODE, q->kid[0], node_plural(c, q->kid[0]));
	slot_str(&sl, "p", SL_TEXT, phrase_of(q->rel), 0);
	expand_tpl(c, t, &sl);
	return 1;
}

static void question(struct ctx *c, const struct synth_node *q)
{
	struct slots sl;
	int plural = node_plural(c, q);
	const char *nn = node_noun(c, q);
	uint32_t r;

	if (q->op == SYNTH_ANCHOR) {
		lits(c, "Tell me about ");
		name(c, q->name);
		lits(c, ".");
		return;
	}
	if (q->op == SYNTH_HOP && pick(c, 2) && relation_question(c, q))
		return;
	question_slots(c, q, &sl);
	r = pick(c, 10);
	if (r < 3 && strcmp(nn, "entity") && pred_ok(c, q) && !(q->op == SYNTH_HOP && !q->inverse))
		expands(c, plural ? PICK(c, q_which_plur) : PICK(c, q_which_sing), &sl);
	else if (r < 5 && is_person_noun(nn))
		expands(c, plural ? PICK(c, q_who_plur) : PICK(c, q_who_sing), &sl);
	else
		expands(c, plural ? PICK(c, q_plur) : PICK(c, q_sing), &sl);
}

/* Anchors in order, and hops from the anchors up (post-order), for pattern templates. */
static void collect(const struct synth_node *n, const struct synth_node **anchors, int *na,
		    const struct synth_node **hops, int *nh)
{
	int i;

	if (n->op == SYNTH_ANCHOR) {
		if (*na < 3)
			anchors[*na] = n;
		(*na)++;
		return;
	}
	for (i = 0; i < n->nkids; i++)
		collect(n->kid[i], anchors, na, hops, nh);
	if (n->op == SYNTH_HOP) {
		if (*nh < 3)
			hops[*nh] = n;
		(*nh)++;
	}
}

static int user_question(struct ctx *c, const struct synth_node *q, const char *pattern)
{
	static const char *const ekeys[] = { "e1", "e2", "e3" }, *const rkeys[] = { "r1", "r2", "r3" };
	const struct synth_node *anchors[3], *hops[3];
	int idx = synth_pattern_index(pattern), na = 0, nh = 0, i, want_anchors, want_hops;
	const struct synth_tpls *l;
	struct slots sl;

	if (idx < 0 || !(l = &c->tx->questions[idx])->n)
		return 0;
	if (!c->tx->replace_questions && pick(c, 2))
		return 0;
	collect(q, anchors, &na, hops, &nh);
	synth_pattern_shape(idx, &want_anchors, &want_hops);
	if (na != want_anchors || nh != want_hops)
		return 0; /* not the shape the pattern names: the templates would not fit */
	question_slots(c, q, &sl);
	for (i = 0; i < na; i++)
		slot_str(&sl, ekeys[i], SL_NAME, anchors[i]->name, 0);
	for (i = 0; i < nh; i++)
		slot_str(&sl, rkeys[i], SL_TEXT, phrase_of(hops[i]->rel), 0);
	expand_tpl(c, &l->v[pick(c, l->n)], &sl);
	return 1;
}

static void ctx_init(struct ctx *c, const struct synth_text *tx, uint64_t *rng, struct ling_buf *out)
{
	memset(c, 0, sizeof(*c));
	c->tx = tx;
	c->rng = rng;
	c->out = out;
	c->cap = CAP_UP;
}

void synth_text_question(const struct synth_text *tx, const struct synth_node *q, const char *pattern,
			 uint64_t *rng, struct ling_buf *out)
{
	struct ctx c;

	ctx_init(&c, tx, rng, out);
	if (!user_question(&c, q, pattern))
		question(&c, q);
}

/* ---- answers */

static const char *const ans_prefix[] = { "According to the knowledge graph, ", "Based on the results, ",
					  "From the tool results: ", "I checked, and " };

static int statement(struct ctx *c, const struct synth_node *q, const char *const *answers, size_t n)
{
	const struct synth_tpl *t;
	struct slots sl;

	if (q->op != SYNTH_HOP || !lex_of(c, q->rel) || !lex_of(c, q->rel)->stmt.n)
		return 0;
	t = choose(c, q->rel, L_STMT,
		   q->kid[0]->op == SYNTH_ANCHOR ? 0 : q->inverse ? SYNTH_TPL_NAME_O : SYNTH_TPL_NAME_S, 0);
	if (!t)
		return 0;
	slots_init(&sl, 0);
	if (!q->inverse) {
		slot_node(&sl, "s", SL_NODE, q->kid[0], node_plural(c, q->kid[0]));
		slot_list(&sl, "o", answers, n);
	} else {
		slot_list(&sl, "s", answers, n);
		slot_node(&sl, "o", SL_NODE, q->kid[0], node_plural(c, q->kid[0]));
	}
	slot_str(&sl, "p", SL_TEXT, phrase_of(q->rel), 0);
	slot_str(&sl, "v", SL_VERB, phrase_of(q->rel), sl.v[0].plural);
	sl.dflt = 0;
	expand_tpl(c, t, &sl);
	return 1;
}

/*
 * The answer in a sentence. Most frames name what was asked ({np}, or a
 * statement of the relation), so that an answer also reads right next to
 * others (parallel calls); some are short ("The only one is X.").
 */
static void answer_sentence(struct ctx *c, const struct synth_node *q, const char *const *answers, size_t n,
			    int self_contained)
{
	static const char *const sing_one[] = { "{np} is {a}", "{a} is {np}", "{np} is {a}, according to the results",
						"the answer is {a}" };
	static const char *const sing_many[] = { "{np} {are} {a}", "there are {N} answers: {a}",
						 "the answers are {a}" };
	static const char *const plur_one[] = { "the only one of {np} is {a}", "the only one is {a}", "there is only one: {a}",
						"I found just one {noun}: {a}" };
	static const char *const plur_many[] = { "{np} are {a}", "{np} are {a}, {N} in all",
						 "there are {N} of them: {a}", "I found {N} {nouns}: {a}",
						 "the answer consists of {N} {nouns}: {a}" };
	static const char *const named_one[] = { "{np} {are} {a}", "{a} {are} {np}" };
	static const char *const named_many[] = { "{np} are {a}", "{np} are {a}, {N} in all" };
	int plural = node_plural(c, q);
	const char *nn = node_noun(c, q);
	struct slots sl;
	const char *f;

	if (n && pick(c, 2) && statement(c, q, answers, n)) {
		lits(c, ".");
		return;
	}
	slots_init(&sl, n != 1);
	slot_node(&sl, "np", SL_NODE, q, plural);
	slot_list(&sl, "a", answers, n);
	slot_add(&sl, "N", SL_NUM, n > 1)->n = n;
	slot_str(&sl, "noun", SL_NOUN, nn, 0);
	slot_str(&sl, "nouns", SL_NOUN, nn, 1);
	slot_str(&sl, "are", SL_TEXT, n != 1 ? "are" : "is", 0);
	if (self_contained)
		f = n == 1 && !plural ? PICK(c, named_one) : PICK(c, named_many);
	else if (!plural)
		f = n == 1 ? PICK(c, sing_one) : PICK(c, sing_many);
	else
		f = n == 1 ? PICK(c, plur_one) : PICK(c, plur_many);
	if (self_contained && n == 1 && plural)
		f = "the only one of {np} is {a}";
	if (!strcmp(nn, "entity") && strstr(f, "noun"))
		f = "the answer is {a}";
	expands(c, f, &sl);
	lits(c, ".");
}

void synth_text_answer(const struct synth_text *tx, const struct synth_node *q, const char *const *answers,
		       size_t n, uint64_t *rng, struct ling_buf *out)
{
	struct ctx c;

	ctx_init(&c, tx, rng, out);
	if (!pick(&c, 4)) {
		lits(&c, PICK(&c, ans_prefix));
		c.cap = CAP_NONE;
	}
	answer_sentence(&c, q, answers, n, 0);
}

void synth_text_answer_part(const struct synth_text *tx, const struct synth_node *q, const char *const *answers,
			    size_t n, uint64_t *rng, struct ling_buf *out)
{
	struct ctx c;

	ctx_init(&c, tx, rng, out);
	answer_sentence(&c, q, answers, n, 1);
}

/* ---- follow-ups */

/* Same tree but for anchors. @return 1, and the differing anchors of b in diff. */
static int same_shape(const struct synth_node *a, const struct synth_node *b, const struct synth_node **diff,
		      int *nd)
{
	int i;

	if (a->op != b->op || a->nkids != b->nkids)
		return 0;
	if (a->op == SYNTH_ANCHOR) {
		if (strcmp(a->name ? a->name : "", b->name ? b->name : "")) {
			if (*nd < 3)
				diff[*nd] = b;
			(*nd)++;
		}
		return 1;
	}
	if (a->op == SYNTH_HOP && !same_rel(a, b))
		return 0;
	for (i = 0; i < a->nkids; i++)
		if (a->negated[i] != b->negated[i] || !same_shape(a->kid[i], b->kid[i], diff, nd))
			return 0;
	return 1;
}

void synth_text_followup(const struct synth_text *tx, const struct synth_node *q1, const struct synth_node *q2,
			 uint64_t *rng, struct ling_buf *out)
{
	static const char *const about[] = { "And what about {d}?", "What about {d}?", "And for {d}?",
					     "How about {d}?",	     "Same question for {d}.", "And {d}?",
					     "Now do the same for {d}." };
	static const char *const lead[] = { "And ", "Also, ", "Next: ", "One more question: " };
	const struct synth_node *diff[3];
	int nd = 0, i;
	struct ctx c;
	const char *f;

	ctx_init(&c, tx, rng, out);
	if (q1 && same_shape(q1, q2, diff, &nd) && nd >= 1 && nd <= 3) {
		const char *ds[3];
		struct slots sl;

		for (i = 0; i < nd; i++)
			ds[i] = diff[i]->name;
		slots_init(&sl, nd > 1);
		slot_list(&sl, "d", ds, (size_t)nd);
		expands(&c, PICK(&c, about), &sl);
		return;
	}
	f = PICK(&c, lead);
	lits(&c, f);
	c.cap = f[0] == 'A' ? CAP_DOWN : CAP_UP;
	question(&c, q2);
}

/* ---- irrelevance */

/* A relation in general: "the place of birth of a person", "the films directed by a given person". */
static void relation_in_general(struct ctx *c, const struct synth_rel_words *rw, int inverse)
{
	const char *noun = inverse ? object_of(c, rw) : subject_of(c, rw);
	struct ling_buf x = LING_BUF_INIT;
	struct synth_node h;
	struct slot xs;

	ling_buf_adds(&x, inverse ? "a given " : strchr("aeiouAEIOU", noun[0]) ? "an " : "a ");
	ling_buf_adds(&x, noun);
	memset(&h, 0, sizeof(h));
	h.op = SYNTH_HOP;
	h.rel = rw;
	h.inverse = inverse;
	memset(&xs, 0, sizeof(xs));
	xs.kind = SL_TEXT;
	xs.str = x.data;
	hop_with(c, &h, &xs, inverse);
	ling_buf_release(&x);
}

void synth_text_irrelevant_tools(const struct synth_text *tx, const struct synth_node *q,
				 const struct synth_rel_words *const *offered, size_t noffered, uint64_t *rng,
				 struct ling_buf *out)
{
	static const char *const intro[] = {
		"I'm sorry, but I can't answer that with the tools I have.",
		"None of the available tools can answer this question.",
		"Unfortunately, the functions I can call don't cover this question.",
		"I don't have a tool that can answer this.",
		"I can't look this up: no tool I was given fits the question.",
	};
	static const char *const close[] = {
		" I'd rather not guess, so I can't give you a reliable answer.",
		" If you give me a tool for that, I'll gladly look it up.",
		" You may want to check another source for this.",
		" Without a suitable tool I can't verify an answer, so I won't guess.",
		"",
	};
	const struct synth_node *top = q;
	struct ctx c;
	size_t i, k, start;

	ctx_init(&c, tx, rng, out);
	lits(&c, PICK(&c, intro));
	while (top->op == SYNTH_AND || top->op == SYNTH_OR)
		top = top->kid[0];
	if (noffered) {
		k = noffered < 3 ? noffered : 3;
		start = pick(&c, noffered);
		lits(&c, pick(&c, 2) ? " The tools I have can look up " : " My tools only cover ");
		c.cap = CAP_NONE;
		for (i = 0; i < k; i++) {
			if (i)
				lits(&c, i + 1 == k ? " and " : ", ");
			relation_in_general(&c, offered[(start + i) % noffered], 0);
		}
		if (noffered > k)
			lits(&c, ", among others");
		lits(&c, ", but none of them gives ");
	} else {
		lits(&c, pick(&c, 2) ? " They look up other relations in the knowledge graph, but none of them gives "
				     : " The tools only cover other relations, and none of them returns ");
	}
	c.cap = CAP_NONE;
	if (top->op == SYNTH_HOP)
		relation_in_general(&c, top->rel, top->inverse);
	else
		lits(&c, "this kind of information");
	lits(&c, ".");
	lits(&c, PICK(&c, close));
}

void synth_text_irrelevant(const struct synth_text *tx, const struct synth_node *q, uint64_t *rng,
			   struct ling_buf *out)
{
	synth_text_irrelevant_tools(tx, q, NULL, 0, rng, out);
}

/* ---- ReAct thoughts */

static size_t count_steps(const struct synth_node *n)
{
	size_t s = 0;
	int i;

	if (n->op == SYNTH_ANCHOR)
		return 0;
	for (i = 0; i < n->nkids; i++)
		s += count_steps(n->kid[i]);
	return s + 1;
}

static void step_sep(struct ctx *c, size_t *done, size_t total)
{
	static const char *const firsts[] = { "First, I need to ", "I'll start by trying to ", "Let me first ",
					      "My plan: first " };
	static const char *const onlys[] = { "I need to ", "To answer this, I will ", "Let me ",
					     "The question asks me to " };

	if (*done == 0)
		lits(c, total == 1 ? PICK(c, onlys) : PICK(c, firsts));
	else if (*done + 1 == total)
		lits(c, pick(c, 2) ? ", and finally " : ", and then ");
	else
		lits(c, pick(c, 2) ? ", then " : ", next ");
	c->cap = CAP_NONE;
	(*done)++;
}

static void plan(struct ctx *c, const struct synth_node *n, size_t *done, size_t total)
{
	int i, neg = 0;

	if (n->op == SYNTH_ANCHOR)
		return;
	for (i = 0; i < n->nkids; i++)
		plan(c, n->kid[i], done, total);
	step_sep(c, done, total);
	if (n->op == SYNTH_HOP) {
		const struct synth_node *k = n->kid[0];

		lits(c, n->inverse ? "find " : "look up ");
		if (k->op == SYNTH_ANCHOR) {
			np(c, n);
		} else {
			struct slot xs;
			struct ling_buf pron = LING_BUF_INIT;
			int kp = node_plural(c, k);

			/* "the birthplace of that person", "the films directed by those people" */
			memset(&xs, 0, sizeof(xs));
			xs.kind = SL_TEXT;
			xs.plural = kp;
			ling_buf_adds(&pron, kp ? "those " : "that ");
			{
				struct ctx sub = *c;

				sub.out = &pron;
				sub.cap = CAP_NONE;
				noun(&sub, node_noun(c, k), kp);
			}
			xs.str = pron.data;
			hop_with(c, n, &xs, node_plural(c, n));
			ling_buf_release(&pron);
		}
		return;
	}
	for (i = 0; i < n->nkids; i++)
		neg |= n->negated[i];
	if (n->op == SYNTH_OR)
		lits(c, pick(c, 2) ? "combine the results into one list" : "take the union of those lists");
	else if (neg)
		lits(c, pick(c, 2) ? "remove from the first list everything in the excluded one"
				   : "take the difference of the lists");
	else
		lits(c, pick(c, 2) ? "keep only what the lists have in common" : "intersect the results");
}

void synth_text_thought(const struct synth_text *tx, const struct synth_node *q, uint64_t *rng,
			struct ling_buf *out)
{
	size_t done = 0, total = count_steps(q);
	struct ctx c;

	ctx_init(&c, tx, rng, out);
	if (!total) {
		lits(&c, "I need to look up ");
		name(&c, q->name);
		lits(&c, ".");
		return;
	}
	plan(&c, q, &done, total);
	lits(&c, ".");
}

/* ---- system prompts */

size_t synth_text_system_count(const struct synth_text *tx)
{
	return tx->nprompts;
}

void synth_text_system(const struct synth_text *tx, size_t i, const char *tools_json, enum synth_prompt_style *style,
		       struct ling_buf *out)
{
	const struct synth_prompt *p = &tx->prompts[i % tx->nprompts];

	*style = p->style;
	ling_buf_adds(out, p->text);
	if (tools_json && p->tools) {
		const char *t = strstr(p->tools, "{tools}");

		ling_buf_adds(out, "\n\n");
		if (!t) {
			ling_buf_adds(out, p->tools);
			return;
		}
		ling_buf_add(out, p->tools, (size_t)(t - p->tools));
		ling_buf_adds(out, tools_json);
		ling_buf_adds(out, t + 7);
	}
}

void synth_text_system_plain(const struct synth_text *tx, uint64_t *rng, struct ling_buf *out)
{
	ling_buf_adds(out, tx->plain[ling_rand_below(rng, (uint32_t)tx->nplain)]);
}

/* ---- instruction samples */

static void list_answer(struct ctx *c, const struct synth_node *q, const char *const *a, size_t n)
{
	static const char *const frames[] = { "{np} {are} {a}.", "Here {are} {np}: {a}.", "There {are} {N}: {a}.",
					      "The full list: {a}." };
	struct slots sl;
	size_t i;

	if (n > 1 && !pick(c, 4)) {
		struct slots hs;

		slots_init(&hs, 1);
		slot_node(&hs, "np", SL_NODE, q, 1);
		slot_str(&hs, "are", SL_TEXT, "are", 1);
		expands(c, pick(c, 2) ? "Here {are} {np}:" : "{np}:", &hs);
		for (i = 0; i < n; i++) {
			lits(c, "\n- ");
			name(c, a[i]);
		}
		return;
	}
	slots_init(&sl, n != 1 || node_plural(c, q));
	slot_node(&sl, "np", SL_NODE, q, 1);
	slot_list(&sl, "a", a, n);
	slot_add(&sl, "N", SL_NUM, n != 1)->n = n;
	slot_str(&sl, "are", SL_TEXT, n != 1 || node_plural(c, q) ? "are" : "is", 0);
	expands(c, PICK(c, frames), &sl);
}

static void instr_list(struct ctx *c, const struct synth_instruction_args *a, struct ling_buf *user,
		       struct ling_buf *reply)
{
	static const char *const asks[] = { "List {np}.", "Give me a list of {np}.", "What are all of {np}?",
					    "Can you list every one of {np}?", "Name all of {np}.",
					    "Please enumerate {np}." };
	struct slots sl;

	c->out = user;
	c->cap = CAP_UP;
	slots_init(&sl, 1);
	slot_node(&sl, "np", SL_NODE, a->q, 1);
	expands(c, PICK(c, asks), &sl);
	c->out = reply;
	c->cap = CAP_UP;
	list_answer(c, a->q, a->answers, a->n);
}

static void instr_count(struct ctx *c, const struct synth_instruction_args *a, struct ling_buf *user,
			struct ling_buf *reply)
{
	static const char *const asks_pred[] = { "How many {nouns} are {pred}?", "How many {nouns} are {pred}, in total?" };
	static const char *const asks[] = { "What is the number of {np}?", "Count {np}.", "Can you count {np} for me?",
					    "Tell me how many there are of {np}." };
	static const char *const asks_have[] = { "How many {ps} {x:does|do} {x} have?", "How many {ps} {x:has|have} {x} got?" };
	static const char *const replies[] = { "There {are} {N}: {a}.", "{N}: {a}.", "The count is {N} ({a}).",
					       "I count {N}, namely {a}.", "{N} in total: {a}." };
	const char *nn = node_noun(c, a->q);
	struct slots sl;

	c->out = user;
	c->cap = CAP_UP;
	slots_init(&sl, 1);
	slot_node(&sl, "np", SL_NODE, a->q, 1);
	slot_str(&sl, "nouns", SL_NOUN, nn, 1);
	slot_node(&sl, "pred", SL_PRED, a->q, 1);
	if (a->q->op == SYNTH_HOP && !a->q->inverse && form_of(a->q->rel) == SYNTH_FORM_NOUN) {
		/* "How many professions does Ridley Scott have?" */
		slot_str(&sl, "ps", SL_NOUN, phrase_of(a->q->rel), 1);
		slot_node(&sl, "x", SL_NODE, a->q->kid[0], node_plural(c, a->q->kid[0]));
	}
	if (strcmp(nn, "entity") && pred_ok(c, a->q) && pick(c, 2))
		expands(c, PICK(c, asks_pred), &sl);
	else if (slot_find(&sl, "ps", 2) && pick(c, 2))
		expands(c, PICK(c, asks_have), &sl);
	else
		expands(c, PICK(c, asks), &sl);
	c->out = reply;
	c->cap = CAP_UP;
	slots_init(&sl, a->n != 1);
	slot_list(&sl, "a", a->answers, a->n);
	slot_add(&sl, "N", SL_NUM, a->n != 1)->n = a->n;
	slot_str(&sl, "are", SL_TEXT, a->n != 1 ? "are" : "is", 0);
	expands(c, PICK(c, replies), &sl);
}

static size_t shared_names(const char *const *a, size_t na, const char *const *b, size_t nb, const char **out,
			   size_t cap)
{
	size_t i, j, n = 0;

	for (i = 0; i < na; i++)
		for (j = 0; j < nb; j++)
			if (!strcmp(a[i], b[j])) {
				if (n < cap)
					out[n] = a[i];
				n++;
				break;
			}
	return n;
}

static void instr_compare(struct ctx *c, const struct synth_instruction_args *a, struct ling_buf *user,
			  struct ling_buf *reply)
{
	static const char *const asks_fwd[] = { "Do {x1} and {x2} have the same {p}?",
						"Is the {p} of {x1} the same as that of {x2}?",
						"Compare the {p} of {x1} and {x2}.",
						"Do {x1} and {x2} share a {p}?" };
	static const char *const asks[] = { "Is there any overlap between {np1} and {np2}?",
					    "Compare {np1} with {np2}: do they have anything in common?",
					    "Do {np1} and {np2} have anything in common?" };
	const struct synth_node *q = a->q, *q2 = a->q2 ? a->q2 : a->q;
	const char *small[16], **shared = small;
	size_t ns = shared_names(a->answers, a->n, a->answers2, a->n2, NULL, 0);
	struct slots sl;
	int fwd = q->op == SYNTH_HOP && !q->inverse && q2->op == SYNTH_HOP && q->kid[0]->op == SYNTH_ANCHOR &&
		  q2->kid[0]->op == SYNTH_ANCHOR;

	if (ns > 16)
		shared = xmalloc(ns * sizeof(*shared));
	shared_names(a->answers, a->n, a->answers2, a->n2, shared, ns);
	c->out = user;
	c->cap = CAP_UP;
	slots_init(&sl, 0);
	slot_node(&sl, "np1", SL_NODE, q, node_plural(c, q));
	slot_node(&sl, "np2", SL_NODE, q2, node_plural(c, q2));
	if (fwd) {
		slot_str(&sl, "x1", SL_NAME, q->kid[0]->name, 0);
		slot_str(&sl, "x2", SL_NAME, q2->kid[0]->name, 0);
		slot_str(&sl, "p", SL_TEXT, phrase_of(q->rel), 0);
	}
	expands(c, fwd && pick(c, 3) ? PICK(c, asks_fwd) : PICK(c, asks), &sl);

	c->out = reply;
	c->cap = CAP_UP;
	lits(c, ns ? (pick(c, 2) ? "Yes. " : "Yes, they do. ") : (pick(c, 2) ? "No. " : "No, they don't. "));
	slots_init(&sl, 0);
	slot_node(&sl, "np1", SL_NODE, q, node_plural(c, q));
	slot_list(&sl, "a1", a->answers, a->n);
	slot_str(&sl, "are1", SL_TEXT, a->n != 1 || node_plural(c, q) ? "are" : "is", 0);
	slot_node(&sl, "np2", SL_NODE, q2, node_plural(c, q2));
	slot_list(&sl, "a2", a->answers2, a->n2);
	slot_str(&sl, "are2", SL_TEXT, a->n2 != 1 || node_plural(c, q2) ? "are" : "is", 0);
	slot_list(&sl, "sh", shared, ns);
	slot_add(&sl, "N", SL_NUM, ns != 1)->n = ns;
	c->cap = CAP_UP;
	expands(c, pick(c, 2) ? "{np1} {are1} {a1}, and {np2} {are2} {a2}." : "{np1} {are1} {a1}; {np2} {are2} {a2}.",
		&sl);
	if (ns) {
		static const char *const yes[] = { " They have {sh} in common.", " Both include {sh}.",
						   " The overlap is {sh}.", " So they share {N}: {sh}." };

		expands(c, PICK(c, yes), &sl);
	} else {
		static const char *const no[] = { " They have nothing in common.", " There is no overlap.",
						  " None of them is shared." };

		lits(c, PICK(c, no));
	}
	if (shared != small)
		free((void *)shared);
}

/* ---- descriptions */

static int same_group(const struct synth_fact *a, const struct synth_fact *b)
{
	return a->inverse == b->inverse && a->rel && b->rel &&
	       (a->rel == b->rel || (a->rel->iri && b->rel->iri && !strcmp(a->rel->iri, b->rel->iri)));
}

static size_t group_size(const struct ctx *c, size_t first)
{
	size_t i, n = 0;

	for (i = first; i < c->nfacts; i++)
		n += same_group(&c->facts[first], &c->facts[i]);
	return n;
}

/* The others of the group that starts at fact `first`, joined as a list. */
static void facts_list(struct ctx *c, size_t first)
{
	size_t i, n = group_size(c, first), k = 0;

	for (i = first; i < c->nfacts; i++) {
		if (!same_group(&c->facts[first], &c->facts[i]))
			continue;
		if (k)
			lits(c, k + 1 == n ? " and " : ", ");
		name(c, c->facts[i].other);
		k++;
	}
}

static void describe_group(struct ctx *c, const char *entity, size_t first)
{
	const struct synth_fact *f = &c->facts[first];
	const struct synth_tpl *t = choose(c, f->rel, L_STMT, 0, 0);
	size_t n = group_size(c, first);
	struct slots sl;
	struct slot *others;

	slots_init(&sl, 0);
	if (!f->inverse) {
		slot_str(&sl, "s", SL_NAME, entity, 0);
		others = slot_add(&sl, "o", SL_FACTS, n != 1);
	} else {
		others = slot_add(&sl, "s", SL_FACTS, n != 1);
		slot_str(&sl, "o", SL_NAME, entity, 0);
	}
	others->n = first;
	slot_str(&sl, "p", SL_TEXT, phrase_of(f->rel), 0);
	slot_str(&sl, "v", SL_VERB, phrase_of(f->rel), sl.v[0].plural);
	sl.dflt = 0;
	if (t)
		expand_tpl(c, t, &sl);
	lits(c, ".");
}

static void instr_describe(struct ctx *c, const struct synth_instruction_args *a, struct ling_buf *user,
			   struct ling_buf *reply)
{
	static const char *const asks[] = { "Describe {e}.", "Tell me about {e}.", "What do you know about {e}?",
					    "Write a short paragraph about {e}.", "Give me an overview of {e}.",
					    "Summarise the key facts about {e}." };
	static const char *const opens[] = { "Here is what I know about {e}. ", "", "",
					     "A short overview of {e}: ", "" };
	static const char *const links[] = { "", "", "Also, ", "In addition, ", "" };
	size_t i, j, said = 0;
	struct slots sl;

	c->facts = a->facts;
	c->nfacts = a->nfacts;
	slots_init(&sl, 0);
	slot_str(&sl, "e", SL_NAME, a->name, 0);
	c->out = user;
	c->cap = CAP_UP;
	expands(c, PICK(c, asks), &sl);
	c->out = reply;
	c->cap = CAP_UP;
	if (!a->nfacts) {
		expands(c, "I don't know anything about {e}.", &sl);
		return;
	}
	expands(c, PICK(c, opens), &sl);
	for (i = 0; i < a->nfacts; i++) {
		for (j = 0; j < i; j++)
			if (same_group(&a->facts[j], &a->facts[i]))
				break;
		if (j < i || !a->facts[i].rel)
			continue;
		if (said++) {
			const char *l = PICK(c, links);

			lits(c, " ");
			if (*l) {
				lits(c, l);
				c->cap = CAP_NONE;
			} else {
				c->cap = CAP_UP;
			}
		} else {
			c->cap = CAP_UP;
		}
		describe_group(c, a->name, i);
	}
}

void synth_text_instruction(const struct synth_text *tx, const struct synth_instruction_args *a, uint64_t *rng,
			    struct ling_buf *user, struct ling_buf *reply)
{
	struct ctx c;

	ctx_init(&c, tx, rng, user);
	switch (a->kind) {
	case SYNTH_INSTR_FACT:
		question(&c, a->q);
		c.out = reply;
		c.cap = CAP_UP;
		answer_sentence(&c, a->q, a->answers, a->n, 0);
		return;
	case SYNTH_INSTR_LIST: instr_list(&c, a, user, reply); return;
	case SYNTH_INSTR_COUNT: instr_count(&c, a, user, reply); return;
	case SYNTH_INSTR_COMPARE: instr_compare(&c, a, user, reply); return;
	case SYNTH_INSTR_DESCRIBE: instr_describe(&c, a, user, reply); return;
	}
}
