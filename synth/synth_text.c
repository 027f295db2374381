/*
 * synth_text: the words of kg2samples (see synth_text_internal.h).
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
#include "synth_text_render_internal.h"

#include "../kg/kg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

/* ------------------------------------------------------------- rendering */



uint32_t synth_tx_pick(struct synth_tx_ctx *c, size_t n)
{
	return n > 1 ? ling_rand_below(c->rng, (uint32_t)n) : 0;
}


/* Template text: may take the sentence's capital (never a name: names stay verbatim). */
static void lit(struct synth_tx_ctx *c, const char *s, size_t n)
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

void synth_tx_lits(struct synth_tx_ctx *c, const char *s)
{
	lit(c, s, strlen(s));
}

void synth_tx_name(struct synth_tx_ctx *c, const char *s)
{
	static const char *const openers[] = { "So, ", "In short, ", "As it turns out, " };

	if (!s || !*s)
		s = "(unnamed)";
	/* Names stay verbatim, so a sentence cannot start with "marriage": lead into it. */
	if (c->cap == CAP_UP && s[0] >= 'a' && s[0] <= 'z')
		ling_buf_adds(c->out, openers[synth_tx_pick(c, 3)]);
	c->cap = CAP_NONE;
	ling_buf_adds(c->out, s);
}

static void names(struct synth_tx_ctx *c, const char *const *v, size_t n, const char *last_sep)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i)
			synth_tx_lits(c, i + 1 == n ? last_sep : ", ");
		synth_tx_name(c, v[i]);
	}
}

static const char *const number_words[] = { "zero",  "one",  "two",	"three",    "four",	"five",	    "six",
					    "seven", "eight", "nine",	"ten",	    "eleven",	"twelve",   "thirteen",
					    "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty" };

static void number(struct synth_tx_ctx *c, size_t n)
{
	char b[32];

	if (n < sizeof(number_words) / sizeof(number_words[0])) {
		synth_tx_lits(c, number_words[n]);
		return;
	}
	snprintf(b, sizeof(b), "%zu", n);
	synth_tx_lits(c, b);
}

/* ---- nouns */

/* "genres", "campuses": already plural (a guess; "status" and "basis" are not). */
static int looks_plural(const char *w, size_t n)
{
	return n > 3 && w[n - 1] == 's' && !strchr("siu", w[n - 2]);
}

static void plural_word(struct synth_tx_ctx *c, const char *w, size_t n)
{
	struct ling_buf b = LING_BUF_INIT;

	if (looks_plural(w, n)) {
		lit(c, w, n);
		return;
	}
	kg_words_plural(w, n, &b);
	lit(c, b.data, b.len);
	ling_buf_release(&b);
}

/* "place of birth" -> "places of birth", "award category" -> "award categories". */
void synth_tx_noun(struct synth_tx_ctx *c, const char *w, int plural)
{
	const char *of, *end, *start;

	if (!plural) {
		synth_tx_lits(c, w);
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
	synth_tx_lits(c, end);
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

const struct synth_lex *synth_tx_lex_of(const struct synth_tx_ctx *c, const struct synth_rel_words *rw)
{
	return rw ? synth_text_lex_find(c->tx, rw->iri) : NULL;
}

const char *synth_tx_phrase_of(const struct synth_rel_words *rw)
{
	return rw && rw->phrase && *rw->phrase ? rw->phrase : "relation";
}

const char *synth_tx_subject_of(const struct synth_tx_ctx *c, const struct synth_rel_words *rw)
{
	const struct synth_lex *l = synth_tx_lex_of(c, rw);

	if (l && l->subject)
		return l->subject;
	return rw && rw->subject_noun && *rw->subject_noun ? rw->subject_noun : "entity";
}

const char *synth_tx_object_of(const struct synth_tx_ctx *c, const struct synth_rel_words *rw)
{
	const struct synth_lex *l = synth_tx_lex_of(c, rw);

	if (l && l->object)
		return l->object;
	return rw && rw->object_noun && *rw->object_noun ? rw->object_noun : "entity";
}


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
int synth_tx_form_of(const struct synth_rel_words *rw)
{
	const char *p = synth_tx_phrase_of(rw), *last = strrchr(p, ' '), *sp = strchr(p, ' ');
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
const struct synth_tpl *synth_tx_choose(struct synth_tx_ctx *c, const struct synth_rel_words *rw, enum list_kind k,
				      unsigned without, unsigned with)
{
	const struct synth_lex *l = synth_tx_lex_of(c, rw);
	const struct synth_tpls *ls[2];
	int nl = 0, i;

	if (l && list_of(l, k)->n)
		ls[nl++] = list_of(l, k);
	ls[nl++] = list_of(&c->tx->fallback[synth_tx_form_of(rw)], k);
	for (i = 0; i < nl; i++) {
		size_t j, n = 0;

		for (j = 0; j < ls[i]->n; j++)
			n += !(ls[i]->v[j].flags & without) && (ls[i]->v[j].flags & with) == with;
		if (!n)
			continue;
		n = synth_tx_pick(c, n);
		for (j = 0; j < ls[i]->n; j++)
			if (!(ls[i]->v[j].flags & without) && (ls[i]->v[j].flags & with) == with && !n--)
				return &ls[i]->v[j];
	}
	return NULL;
}

static int lex_flag(const struct synth_tx_ctx *c, const struct synth_rel_words *rw, unsigned flag)
{
	const struct synth_lex *l = synth_tx_lex_of(c, rw);

	return l && (l->flags & flag);
}

/* ---- slots */




void synth_tx_slots_init(struct synth_tx_slots *s, int plural)
{
	s->n = 0;
	s->dflt = -1;
	s->plural = plural;
}

struct synth_tx_slot *synth_tx_slot_add(struct synth_tx_slots *s, const char *key, enum slot_kind kind, int plural)
{
	struct synth_tx_slot *sl = &s->v[s->n++];

	memset(sl, 0, sizeof(*sl));
	sl->key = key;
	sl->kind = kind;
	sl->plural = plural;
	return sl;
}

void synth_tx_slot_node(struct synth_tx_slots *s, const char *key, enum slot_kind kind, const struct synth_node *n, int plural)
{
	synth_tx_slot_add(s, key, kind, plural)->node = n;
}

void synth_tx_slot_str(struct synth_tx_slots *s, const char *key, enum slot_kind kind, const char *str, int plural)
{
	synth_tx_slot_add(s, key, kind, plural)->str = str;
}

void synth_tx_slot_list(struct synth_tx_slots *s, const char *key, const char *const *v, size_t n)
{
	struct synth_tx_slot *sl = synth_tx_slot_add(s, key, SL_LIST, n != 1);

	sl->list = v;
	sl->n = n;
}

const struct synth_tx_slot *synth_tx_slot_find(const struct synth_tx_slots *s, const char *k, size_t n)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (synth_word_is(k, n, s->v[i].key))
			return &s->v[i];
	return NULL;
}

/* A verb phrase in the plural: "contains" -> "contain", "has won" -> "have won". */
static void verb(struct synth_tx_ctx *c, const char *v, int plural)
{
	static const char *const irr[][2] = { { "is", "are" }, { "has", "have" }, { "was", "were" }, { "does", "do" } };
	const char *sp = strchr(v, ' ');
	size_t n = sp ? (size_t)(sp - v) : strlen(v), i;

	if (!plural || n < 2) {
		synth_tx_lits(c, v);
		return;
	}
	for (i = 0; i < sizeof(irr) / sizeof(irr[0]); i++)
		if (synth_word_is(v, n, irr[i][0])) {
			synth_tx_lits(c, irr[i][1]);
			synth_tx_lits(c, v + n);
			return;
		}
	if (n > 3 && !memcmp(v + n - 3, "ies", 3)) {
		lit(c, v, n - 3);
		synth_tx_lits(c, "y");
	} else if (n > 3 && v[n - 1] == 's' && v[n - 2] == 'e' && strchr("sxzh", v[n - 3])) {
		lit(c, v, n - 2);
	} else if (v[n - 1] == 's' && v[n - 2] != 's') {
		lit(c, v, n - 1);
	} else {
		lit(c, v, n);
	}
	synth_tx_lits(c, v + n);
}

static void coord(struct synth_tx_ctx *c, const struct synth_node *n);
static void pred(struct synth_tx_ctx *c, const struct synth_node *n);

static void emit_slot(struct synth_tx_ctx *c, const struct synth_tx_slot *s)
{
	switch (s->kind) {
	case SL_NODE: synth_tx_np(c, s->node); break;
	case SL_NAME: synth_tx_name(c, s->str); break;
	case SL_LIST: names(c, s->list, s->n, " and "); break;
	case SL_TEXT: synth_tx_lits(c, s->str); break;
	case SL_NOUN: synth_tx_noun(c, s->str, s->plural); break;
	case SL_VERB: verb(c, s->str, s->plural); break;
	case SL_COORD: coord(c, s->node); break;
	case SL_PRED: pred(c, s->node); break;
	case SL_NUM: number(c, s->n); break;
	case SL_FACTS: synth_tx_facts_list(c, s->n); break;
	}
}

static void expand_field(struct synth_tx_ctx *c, const char *f, size_t n, const struct synth_tx_slots *sl)
{
	const char *end = f + n, *bar = memchr(f, '|', n), *colon, *alt = f;
	const struct synth_tx_slot *s;

	if (!bar) {
		if ((s = synth_tx_slot_find(sl, f, n)))
			emit_slot(c, s);
		return;
	}
	colon = memchr(f, ':', (size_t)(bar - f));
	if (colon) {
		s = synth_tx_slot_find(sl, f, (size_t)(colon - f));
		alt = colon + 1;
	} else {
		s = sl->dflt >= 0 ? &sl->v[sl->dflt] : NULL;
	}
	if (s ? s->plural : sl->plural)
		lit(c, bar + 1, (size_t)(end - bar - 1));
	else
		lit(c, alt, (size_t)(bar - alt));
}

static void expand(struct synth_tx_ctx *c, const char *s, size_t n, const struct synth_tx_slots *sl)
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

void synth_tx_expands(struct synth_tx_ctx *c, const char *s, const struct synth_tx_slots *sl)
{
	expand(c, s, strlen(s), sl);
}

void synth_tx_expand_tpl(struct synth_tx_ctx *c, const struct synth_tpl *t, const struct synth_tx_slots *sl)
{
	expand(c, t->s, t->len, sl);
}

/*
 * A singular noun phrase template said of several things: "the place where
 * {x} {x:was|were} born" -> "the places where ...". The head noun is the word
 * before the first of " of ", " where ", ... or the first placeholder.
 */
static void expand_plural_head(struct synth_tx_ctx *c, const struct synth_tpl *t, const struct synth_tx_slots *sl)
{
	static const char *const seps[] = { " of ", " where ", " who ", " that ", " which ", " for ", " in ",
					    " at ", " on ", " with ", " behind ", " by ", " to ", " into ", " about ",
					    " {" };
	const char *s = t->s, *end = t->s + t->len, *brace = memchr(s, '{', t->len), *stop = NULL, *w;
	size_t i;

	if (t->len < 5 || memcmp(s, "the ", 4) || s[4] == '{') {
		synth_tx_expand_tpl(c, t, sl);
		return;
	}
	for (i = 0; i < sizeof(seps) / sizeof(seps[0]); i++) {
		const char *h = memmem(s + 4, t->len - 4, seps[i], strlen(seps[i]));

		if (h && (!stop || h < stop))
			stop = h;
	}
	if (!stop || (brace && stop > brace)) {
		synth_tx_expand_tpl(c, t, sl);
		return;
	}
	for (w = stop; w > s + 4 && w[-1] != ' '; w--)
		;
	expand(c, s, (size_t)(w - s), sl);
	plural_word(c, w, (size_t)(stop - w));
	expand(c, stop, (size_t)(end - stop), sl);
}

/* ---- facts of a describe sample, grouped by relation */

int synth_tx_same_group(const struct synth_fact *a, const struct synth_fact *b)
{
	return a->inverse == b->inverse && a->rel && b->rel &&
	       (a->rel == b->rel || (a->rel->iri && b->rel->iri && !strcmp(a->rel->iri, b->rel->iri)));
}

size_t synth_tx_group_size(const struct synth_tx_ctx *c, size_t first)
{
	size_t i, n = 0;

	for (i = first; i < c->nfacts; i++)
		n += synth_tx_same_group(&c->facts[first], &c->facts[i]);
	return n;
}

/* The others of the group that starts at fact `first`, joined as a list. */
void synth_tx_facts_list(struct synth_tx_ctx *c, size_t first)
{
	size_t i, n = synth_tx_group_size(c, first), k = 0;

	for (i = first; i < c->nfacts; i++) {
		if (!synth_tx_same_group(&c->facts[first], &c->facts[i]))
			continue;
		if (k)
			synth_tx_lits(c, k + 1 == n ? " and " : ", ");
		synth_tx_name(c, c->facts[i].other);
		k++;
	}
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
int synth_tx_node_plural(const struct synth_tx_ctx *c, const struct synth_node *n)
{
	switch (n->op) {
	case SYNTH_ANCHOR: return 0;
	case SYNTH_HOP:
		if (synth_tx_node_plural(c, n->kid[0]))
			return 1;
		if (n->inverse)
			return !lex_flag(c, n->rel, SYNTH_LEX_INV_ONE);
		if (synth_tx_lex_of(c, n->rel))
			return lex_flag(c, n->rel, SYNTH_LEX_FWD_MANY);
		return synth_tx_form_of(n->rel) == SYNTH_FORM_NOUN && phrase_looks_plural(synth_tx_phrase_of(n->rel));
	case SYNTH_AND: return synth_tx_node_plural(c, first_positive(n));
	case SYNTH_OR: return 1;
	}
	return 0;
}

const char *synth_tx_node_noun(const struct synth_tx_ctx *c, const struct synth_node *n)
{
	switch (n->op) {
	case SYNTH_ANCHOR: return "entity";
	case SYNTH_HOP: return n->inverse ? synth_tx_subject_of(c, n->rel) : synth_tx_object_of(c, n->rel);
	case SYNTH_AND: return synth_tx_node_noun(c, first_positive(n));
	case SYNTH_OR: return synth_tx_node_noun(c, n->kid[0]);
	}
	return "entity";
}

static int is_inv_hop(const struct synth_node *n)
{
	return n->op == SYNTH_HOP && n->inverse;
}

int synth_tx_same_rel(const struct synth_node *a, const struct synth_node *b)
{
	return a->op == SYNTH_HOP && b->op == SYNTH_HOP && a->inverse == b->inverse && a->rel && b->rel &&
	       (a->rel == b->rel || (a->rel->iri && b->rel->iri && !strcmp(a->rel->iri, b->rel->iri)));
}

/*
 * All kids are hops over one relation in one direction: "films starring both
 * X and Y". An intersection or difference folds only over subjects: "the
 * genres of both X and Y" could be either set, and r(A) \ r(B) is not "the
 * genres of A but not B". A value said as a label does not fold with others.
 */
static int foldable(const struct synth_node *n)
{
	int i;

	if (n->nkids < 2)
		return 0;
	for (i = 0; i < n->nkids; i++)
		if (!synth_tx_same_rel(n->kid[0], n->kid[i]) || n->kid[i]->kid[0]->label ||
		    (n->op == SYNTH_AND && !n->kid[i]->inverse))
			return 0;
	return 1;
}

/* The slots of hop h's templates: {x} given by xs, {p}, {on} and {v}. */
static void hop_slots(struct synth_tx_ctx *c, const struct synth_node *h, const struct synth_tx_slot *xs, int plural, int verb_plural,
		      struct synth_tx_slots *sl)
{
	synth_tx_slots_init(sl, plural);
	sl->v[sl->n++] = *xs;
	sl->v[0].key = "x";
	synth_tx_slot_str(sl, "p", SL_NOUN, synth_tx_phrase_of(h->rel), plural && !h->inverse && synth_tx_form_of(h->rel) == SYNTH_FORM_NOUN);
	synth_tx_slot_str(sl, "on", SL_NOUN, synth_tx_object_of(c, h->rel), plural);
	synth_tx_slot_str(sl, "v", SL_VERB, synth_tx_phrase_of(h->rel), verb_plural);
}

/*
 * A restrictor for a value that reads as a name (synth_node.label): "with the
 * tag "tyrese gibson"", not "about tyrese gibson". part: usable after "are".
 */
static void label_restrictor(struct synth_tx_ctx *c, const struct synth_tx_slots *sl, int part)
{
	static const char *const any[] = { "with the {on} {x}", "listed under the {on} {x}", "carrying the {on} {x}" };
	static const char *const after_are[] = { "listed under the {on} {x}", "marked with the {on} {x}" };
	struct synth_tx_slots one = *sl;

	one.v[2].plural = 0; /* {on}: one tag */
	c->nest++;
	synth_tx_expands(c, part ? PICK(c, after_are) : PICK(c, any), &one);
	c->nest--;
}

/* Renders hop h with {x} given by xs (the child, or a folded coordination). */
void synth_tx_hop_with(struct synth_tx_ctx *c, const struct synth_node *h, const struct synth_tx_slot *xs, int plural)
{
	const struct synth_tpl *t;
	struct synth_tx_slots sl;
	int name_x = xs->kind == SL_NODE && xs->node->op == SYNTH_ANCHOR;

	if (!h->inverse) {
		hop_slots(c, h, xs, plural, xs->plural, &sl);
		t = synth_tx_choose(c, h->rel, L_FWD, name_x ? 0 : SYNTH_TPL_POSS, 0);
		if (!t)
			t = synth_tx_choose(c, h->rel, L_FWD, 0, 0);
		c->nest++;
		if (t && plural && !lex_flag(c, h->rel, SYNTH_LEX_FWD_MANY))
			expand_plural_head(c, t, &sl);
		else if (t)
			synth_tx_expand_tpl(c, t, &sl);
		c->nest--;
		return;
	}
	hop_slots(c, h, xs, plural, plural, &sl);
	synth_tx_lits(c, "the ");
	synth_tx_noun(c, synth_tx_subject_of(c, h->rel), plural);
	synth_tx_lits(c, " ");
	if (name_x && xs->node->label) {
		label_restrictor(c, &sl, 0);
		return;
	}
	t = synth_tx_choose(c, h->rel, L_INV, name_x ? 0 : SYNTH_TPL_POSS, 0);
	if (!t)
		t = synth_tx_choose(c, h->rel, L_INV, 0, 0);
	c->nest++;
	if (t)
		synth_tx_expand_tpl(c, t, &sl);
	c->nest--;
}

static int has_part_restrictor(struct synth_tx_ctx *c, const struct synth_node *h)
{
	const struct synth_lex *l = synth_tx_lex_of(c, h->rel);
	const struct synth_tpls *ls = l && l->inv.n ? &l->inv : &c->tx->fallback[synth_tx_form_of(h->rel)].inv;
	unsigned without = SYNTH_TPL_MOD | (h->kid[0]->op == SYNTH_ANCHOR ? 0 : SYNTH_TPL_POSS);
	size_t i;

	for (i = 0; i < ls->n; i++)
		if (!(ls->v[i].flags & without))
			return 1;
	return 0;
}

/* A restrictor of inverse hop h ("born in X"), a PART one (usable after "are") when part is set and one exists. */
static void restrictor(struct synth_tx_ctx *c, const struct synth_node *h, int part)
{
	const struct synth_tpl *t = NULL;
	struct synth_tx_slots sl;
	struct synth_tx_slot xs;
	int plural = synth_tx_node_plural(c, h);
	unsigned name_only = h->kid[0]->op == SYNTH_ANCHOR ? 0 : SYNTH_TPL_POSS;

	memset(&xs, 0, sizeof(xs));
	xs.kind = SL_NODE;
	xs.node = h->kid[0];
	xs.plural = synth_tx_node_plural(c, h->kid[0]);
	hop_slots(c, h, &xs, plural, plural, &sl);
	if (h->kid[0]->op == SYNTH_ANCHOR && h->kid[0]->label) {
		label_restrictor(c, &sl, part);
		return;
	}
	if (part)
		t = synth_tx_choose(c, h->rel, L_INV, name_only | SYNTH_TPL_MOD, 0);
	if (!t)
		t = synth_tx_choose(c, h->rel, L_INV, name_only, 0);
	if (!t)
		t = synth_tx_choose(c, h->rel, L_INV, 0, 0);
	c->nest++;
	if (t)
		synth_tx_expand_tpl(c, t, &sl);
	c->nest--;
}

static void copula(struct synth_tx_ctx *c, int plural)
{
	synth_tx_lits(c, plural ? "are" : "is");
}

/* "both A and B", "A, B and C", "A but not B", "either A or B": the children of folded hops. */
static void coord(struct synth_tx_ctx *c, const struct synth_node *n)
{
	const struct synth_node *pos[3], *neg[3];
	int np_ = 0, nn = 0, i;

	for (i = 0; i < n->nkids && i < 3; i++) {
		if (n->op == SYNTH_AND && n->negated[i])
			neg[nn++] = n->kid[i]->kid[0];
		else
			pos[np_++] = n->kid[i]->kid[0];
	}
	/* never a bare list: "both"/"all of" for an intersection, "either"/"any of" for a union */
	if (n->op == SYNTH_OR) {
		synth_tx_lits(c, np_ == 2 ? "either " : "any of ");
		for (i = 0; i < np_; i++) {
			if (i)
				synth_tx_lits(c, i + 1 == np_ ? " or " : ", ");
			synth_tx_np(c, pos[i]);
		}
		return;
	}
	if (np_ == 2)
		synth_tx_lits(c, "both ");
	else if (np_ == 3)
		synth_tx_lits(c, "all of ");
	for (i = 0; i < np_; i++) {
		if (i)
			synth_tx_lits(c, i + 1 == np_ ? " and " : ", ");
		synth_tx_np(c, pos[i]);
	}
	for (i = 0; i < nn; i++) {
		synth_tx_lits(c, i ? " or " : " but not ");
		synth_tx_np(c, neg[i]);
	}
}

static void fold(struct synth_tx_ctx *c, const struct synth_node *n)
{
	struct synth_tx_slot xs;
	int i;

	memset(&xs, 0, sizeof(xs));
	xs.kind = SL_COORD;
	xs.node = n;
	for (i = 0; i < n->nkids; i++)
		xs.plural += n->op == SYNTH_OR || !n->negated[i];
	xs.plural = xs.plural > 1 && n->op == SYNTH_AND;
	synth_tx_hop_with(c, first_positive(n), &xs, synth_tx_node_plural(c, n));
}

/* What kid k (not the head) adds to an intersection: "and starring Y", ", excluding those born in Z". */
static void and_modifier(struct synth_tx_ctx *c, const struct synth_node *head, const struct synth_node *k, int negated,
			 int *positives)
{
	static const char *const excl[] = { ", excluding ", " other than ", ", leaving out " };
	int plural = synth_tx_node_plural(c, head);

	if (!negated) {
		if (is_inv_hop(k) && is_inv_hop(head)) {
			synth_tx_lits(c, synth_tx_pick(c, 3) ? " and " : " and also ");
			restrictor(c, k, 1);
		} else {
			synth_tx_lits(c, *positives ? " and that " : " that ");
			copula(c, plural);
			synth_tx_lits(c, " also ");
			if (is_inv_hop(k) && has_part_restrictor(c, k) && synth_tx_pick(c, 2)) {
				restrictor(c, k, 1);
			} else {
				if (is_inv_hop(k))
					synth_tx_lits(c, "among ");
				synth_tx_np(c, k);
			}
		}
		(*positives)++;
		return;
	}
	if (is_inv_hop(k)) {
		if (is_inv_hop(head) && has_part_restrictor(c, k) && (c->nest || synth_tx_pick(c, 3))) {
			synth_tx_lits(c, synth_tx_pick(c, 2) ? " but not " : " and not ");
			restrictor(c, k, 1);
		} else {
			synth_tx_lits(c, c->nest ? " other than those " : synth_tx_pick(c, 2) ? ", excluding those " : ", except those ");
			restrictor(c, k, 0);
		}
		return;
	}
	synth_tx_lits(c, c->nest ? " other than " : PICK(c, excl));
	synth_tx_np(c, k);
}

/* Forward hops over one relation, none negated: "the genres that Alien and Heat have in common". */
static int shared_objects(struct synth_tx_ctx *c, const struct synth_node *n)
{
	static const char *const two[] = { "the {nouns} that {k0} and {k1} have in common", "the {nouns} shared by {k0} and {k1}",
					   "the {nouns} common to both {k0} and {k1}", "the {nouns} that both {k0} and {k1} have" };
	static const char *const three[] = { "the {nouns} that {k0}, {k1} and {k2} all have", "the {nouns} shared by all of {k0}, {k1} and {k2}",
					     "the {nouns} common to all of {k0}, {k1} and {k2}" };
	static const char *const keys[] = { "k0", "k1", "k2" };
	const char *noun = synth_tx_node_noun(c, n);
	struct synth_tx_slots sl;
	int i;

	if (n->nkids < 2 || !strcmp(noun, "entity"))
		return 0;
	for (i = 0; i < n->nkids; i++)
		if (n->negated[i] || n->kid[i]->op != SYNTH_HOP || n->kid[i]->inverse || !synth_tx_same_rel(n->kid[0], n->kid[i]))
			return 0;
	synth_tx_slots_init(&sl, 1);
	synth_tx_slot_str(&sl, "nouns", SL_NOUN, noun, 1);
	for (i = 0; i < n->nkids; i++)
		synth_tx_slot_node(&sl, keys[i], SL_NODE, n->kid[i]->kid[0], 0);
	c->nest++;
	synth_tx_expands(c, n->nkids == 2 ? PICK(c, two) : PICK(c, three), &sl);
	c->nest--;
	return 1;
}

static void and_np(struct synth_tx_ctx *c, const struct synth_node *n)
{
	const struct synth_node *head = first_positive(n);
	int plural, i, positives = 0, chain = 0;

	if (synth_tx_pick(c, 3) < 2 && shared_objects(c, n))
		return;

	/* Lead with a participle if a kid has one: "films directed by X and featuring Y" */
	if (is_inv_hop(head) && !has_part_restrictor(c, head))
		for (i = 0; i < n->nkids; i++)
			if (!n->negated[i] && is_inv_hop(n->kid[i]) && has_part_restrictor(c, n->kid[i])) {
				head = n->kid[i];
				break;
			}
	plural = synth_tx_node_plural(c, head);

	if (foldable(n) && synth_tx_pick(c, 3) < 2) {
		fold(c, n);
		return;
	}
	if (is_inv_hop(head)) {
		/* "the films directed by X and starring Y but not written by Z" */
		synth_tx_lits(c, "the ");
		synth_tx_noun(c, synth_tx_subject_of(c, head->rel), plural);
		synth_tx_lits(c, " ");
		for (i = 0; i < n->nkids; i++)
			chain |= n->kid[i] != head && !n->negated[i] && is_inv_hop(n->kid[i]);
		restrictor(c, head, chain || synth_tx_pick(c, 3));
	} else if (n->nkids == 2 && !n->negated[0] && !n->negated[1] && strcmp(synth_tx_node_noun(c, head), "entity") &&
		   !is_inv_hop(n->kid[1]) && synth_tx_pick(c, 2)) {
		/* "the places that are both the place of birth of X and the place of death of Y" */
		synth_tx_lits(c, "the ");
		synth_tx_noun(c, synth_tx_node_noun(c, head), plural);
		synth_tx_lits(c, plural ? " that are both " : " that is both ");
		synth_tx_np(c, n->kid[0]);
		synth_tx_lits(c, " and ");
		synth_tx_np(c, n->kid[1]);
		return;
	} else {
		synth_tx_np(c, head);
	}
	for (i = 0; i < n->nkids; i++)
		if (n->kid[i] != head && !n->negated[i])
			and_modifier(c, head, n->kid[i], 0, &positives);
	for (i = 0; i < n->nkids; i++)
		if (n->kid[i] != head && n->negated[i])
			and_modifier(c, head, n->kid[i], 1, &positives);
}

static void or_np(struct synth_tx_ctx *c, const struct synth_node *n)
{
	int i, all_inv = 1;

	if (foldable(n) && synth_tx_pick(c, 3) < 2) {
		fold(c, n);
		return;
	}
	for (i = 0; i < n->nkids; i++)
		all_inv &= is_inv_hop(n->kid[i]) && !strcmp(synth_tx_subject_of(c, n->kid[i]->rel), synth_tx_subject_of(c, n->kid[0]->rel));
	if (all_inv && synth_tx_pick(c, 3)) {
		/* "the films directed by X or starring Y" */
		synth_tx_lits(c, "the ");
		synth_tx_noun(c, synth_tx_subject_of(c, n->kid[0]->rel), 1);
		synth_tx_lits(c, " ");
		for (i = 0; i < n->nkids; i++) {
			if (i)
				synth_tx_lits(c, i + 1 == n->nkids ? " or " : ", ");
			restrictor(c, n->kid[i], 1);
		}
		return;
	}
	switch (synth_tx_pick(c, 3)) {
	case 0:
		if (strcmp(synth_tx_node_noun(c, n), "entity")) {
			synth_tx_lits(c, "the ");
			synth_tx_noun(c, synth_tx_node_noun(c, n), 1);
			synth_tx_lits(c, " that are either ");
			for (i = 0; i < n->nkids; i++) {
				if (i)
					synth_tx_lits(c, i + 1 == n->nkids ? " or " : ", ");
				synth_tx_np(c, n->kid[i]);
			}
			return;
		}
		/* fall through */
	case 1:
		for (i = 0; i < n->nkids; i++) {
			if (i)
				synth_tx_lits(c, i + 1 == n->nkids ? " together with " : ", ");
			synth_tx_np(c, n->kid[i]);
		}
		return;
	default:
		for (i = 0; i < n->nkids; i++) {
			if (i)
				synth_tx_lits(c, i + 1 == n->nkids ? " as well as " : ", ");
			synth_tx_np(c, n->kid[i]);
		}
		return;
	}
}

/* The definite noun phrase of a node: "the place of birth of the director of Alien". */
void synth_tx_np(struct synth_tx_ctx *c, const struct synth_node *n)
{
	struct synth_tx_slot xs;

	switch (n->op) {
	case SYNTH_ANCHOR:
		if (n->label)
			synth_tx_lits(c, "\"");
		synth_tx_name(c, n->name);
		if (n->label)
			synth_tx_lits(c, "\"");
		return;
	case SYNTH_HOP:
		memset(&xs, 0, sizeof(xs));
		xs.kind = SL_NODE;
		xs.node = n->kid[0];
		xs.plural = synth_tx_node_plural(c, n->kid[0]);
		synth_tx_hop_with(c, n, &xs, synth_tx_node_plural(c, n));
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
int synth_tx_pred_ok(struct synth_tx_ctx *c, const struct synth_node *n)
{
	int i;

	switch (n->op) {
	case SYNTH_ANCHOR: return 0;
	case SYNTH_HOP: return n->inverse && has_part_restrictor(c, n);
	case SYNTH_AND:
	case SYNTH_OR:
		for (i = 0; i < n->nkids; i++)
			if (!synth_tx_pred_ok(c, n->kid[i]))
				return 0;
		return 1;
	}
	return 0;
}

static void pred(struct synth_tx_ctx *c, const struct synth_node *n)
{
	int i, npos = 0, both;

	switch (n->op) {
	case SYNTH_ANCHOR: synth_tx_name(c, n->name); return;
	case SYNTH_HOP:
		if (n->inverse)
			restrictor(c, n, 1);
		else
			synth_tx_np(c, n);
		return;
	case SYNTH_OR:
		if (n->nkids == 2)
			synth_tx_lits(c, "either ");
		for (i = 0; i < n->nkids; i++) {
			if (i)
				synth_tx_lits(c, i + 1 == n->nkids ? " or " : ", ");
			pred(c, n->kid[i]);
		}
		return;
	case SYNTH_AND:
		for (i = 0; i < n->nkids; i++)
			npos += !n->negated[i];
		both = npos == 2;
		if (both)
			synth_tx_lits(c, "both ");
		for (i = 0, npos = 0; i < n->nkids; i++) {
			if (n->negated[i])
				continue;
			if (npos++)
				synth_tx_lits(c, " and ");
			pred(c, n->kid[i]);
		}
		for (i = 0; i < n->nkids; i++) {
			if (!n->negated[i])
				continue;
			synth_tx_lits(c, " but not ");
			pred(c, n->kid[i]);
		}
		return;
	}
}

/* ---- questions */

static const char *const q_sing[] = {
	"What is {np}?", "Can you tell me {np}?", "I'd like to know {np}.", "Tell me {np}.", "Do you know {np}?",
	"Please look up {np}.", "Find {np}.", "What's {np}?", "I need to know {np}.", "Could you find out {np}?",
	"Could you look up {np}, please?", "I'm trying to find {np}. Can you help?", "Do you happen to know {np}?",
	"Would you look up {np}?", "Please find {np}.", "Identify {np}.", "Get me {np}.", "Check on {np}.",
	"Help me find {np}.", "Can you check {np}?", "Could you look up {np}?", "What would {np} be?",
	"Search the knowledge graph for {np}.", "Give me {np}, please.", "Name {np}.", "Retrieve {np}.",
	"Determine {np}.", "My question: what is {np}?", "Any idea what {np} is?", "I wonder what {np} is.",
	"Using your tools, find {np}.", "Look into {np}.", "Figure out {np}, please.", "Let me know {np}.",
	"Go find {np}.", "I'm curious what {np} is.", "Can you work out {np}?", "Would you tell me {np}?",
	"What does the knowledge graph give as {np}?", "Quickly, what is {np}?", "Kindly find {np}.",
	"You should be able to tell me {np}.", "Could you please check {np}?", "Tell me, what is {np}?",
	"So what is {np}?", "I was told you can find {np}.", "Is there a way to find {np}?", "Say, what is {np}?",
	"Check the graph for {np}.", "Consult the knowledge graph: what is {np}?", "Need {np}.",
};

static const char *const q_plur[] = {
	"What are {np}?", "List {np}.", "Can you list {np}?", "Find {np}.", "Name {np}.", "Give me {np}.",
	"Which are {np}?", "Show me {np}.", "Tell me {np}.", "Could you tell me {np}?", "I want to know {np}.",
	"Please list all of {np}.", "I'm looking for {np}. What are they?", "Could you list {np}?", "Get me {np}.",
	"Retrieve {np}.", "Look up {np}.", "Please find {np}.", "Do you know {np}?", "Any idea what {np} are?",
	"I'd like a list of {np}.", "Help me find {np}.", "Search for {np}.", "Enumerate {np}.", "Would you list {np}?",
	"Can you find {np}?", "I need {np}.", "Pull up {np}.", "What exactly are {np}?", "Identify {np}.",
	"Using your tools, list {np}.", "Look into {np}.", "Figure out {np}, please.", "Let me know {np}.",
	"I'm curious what {np} are.", "Can you work out {np}?", "Would you tell me {np}?",
	"What does the knowledge graph list as {np}?", "Quickly, what are {np}?", "Kindly list {np}.",
	"Could you please check {np}?", "Tell me, what are {np}?", "So what are {np}?", "Is there a way to list {np}?",
	"Check the graph for {np}.", "Consult the knowledge graph and list {np}.", "Collect {np}.",
	"Make a list of {np}.", "Every one of {np}, please.", "Which things count as {np}?",
};

static const char *const q_who_sing[] = { "Who is {np}?", "Who's {np}?", "Do you know who {np} is?",
					  "Can you tell me who {np} is?", "Find out who {np} is.",
					  "I'd like to know who {np} is.", "Any idea who {np} is?", "Who would {np} be?" };
static const char *const q_who_plur[] = { "Who are {np}?", "Who exactly are {np}?", "Do you know who {np} are?",
					  "Tell me who {np} are.", "Can you find out who {np} are?",
					  "I want to know who {np} are.", "Who are all of {np}?" };
static const char *const q_which_sing[] = { "Which {noun} is {pred}?", "What {noun} is {pred}?",
					    "Do you know which {noun} is {pred}?", "Tell me which {noun} is {pred}.",
					    "Can you find the {noun} that is {pred}?", "Find the {noun} that is {pred}." };
static const char *const q_which_plur[] = { "Which {nouns} are {pred}?", "What {nouns} are {pred}?",
					    "Which {nouns} are {pred}, if any?", "Do you know which {nouns} are {pred}?",
					    "Tell me which {nouns} are {pred}.", "Can you find the {nouns} that are {pred}?",
					    "Find all {nouns} that are {pred}.", "I'm looking for {nouns} that are {pred}." };

/* A few words before a user's first question, now and then; they end a sentence, so the question keeps its capital. */
static const char *const q_lead[] = {
	"Quick question: ", "Hi! ", "Hello! ", "Hey there. ", "Question: ", "Here's one for you. ",
	"Something I've been wondering: ", "A question for you: ", "I have a question. ", "Help me with this one. ",
	"Hi, I need some help. ", "Good morning! ", "Can you help me? ", "I'm researching something. ",
	"For a project I'm working on: ", "Just curious: ", "Here's my question: ", "Okay. ", "Hello. ", "Hi there! ",
	"Good afternoon. ", "Hey! ", "Sorry to bother you. ", "I need a fact checked. ", "Another question: ",
	"This is for a quiz. ", "Out of curiosity: ", "Settle something for me: ", "I'm stuck on this one. ",
	"Please help: ", "My friend asked me this: ", "I read about this somewhere. ", "Trivia time! ",
	"I can't remember this. ", "Let me ask you something. ", "Straight question: ", "Greetings! ",
	"I'm writing an article. ", "Looking something up: ", "Need your help. ",
	"Morning! ", "Hi again. ", "One thing I'd like to check: ", "Bit of a random one: ", "For my notes: ",
	"I'm preparing a presentation. ", "Could you help? ", "Hello there. ", "Hiya! ", "Real quick: ",
	"My teacher asked this: ", "Hmm. ", "I'm double-checking something. ", "Here goes: ", "Well. ",
};
static const char *const q_tail[] = { " Thanks!", " Thank you.", " Thanks in advance.", " Please be precise.",
				      " I'd appreciate it.", " Cheers." };

void synth_text_question_lead(const struct synth_text *tx, uint64_t *rng, struct ling_buf *out)
{
	(void)tx;
	if (!ling_rand_below(rng, 3))
		ling_buf_adds(out, q_lead[ling_rand_below(rng, sizeof(q_lead) / sizeof(q_lead[0]))]);
}

void synth_text_question_tail(const struct synth_text *tx, uint64_t *rng, struct ling_buf *out)
{
	(void)tx;
	if (!ling_rand_below(rng, 6))
		ling_buf_adds(out, q_tail[ling_rand_below(rng, sizeof(q_tail) / sizeof(q_tail[0]))]);
}

static void question_slots(struct synth_tx_ctx *c, const struct synth_node *q, struct synth_tx_slots *sl)
{
	int plural = synth_tx_node_plural(c, q);
	const char *nn = synth_tx_node_noun(c, q);

	synth_tx_slots_init(sl, plural);
	synth_tx_slot_node(sl, "np", SL_NODE, q, plural);
	synth_tx_slot_str(sl, "noun", SL_NOUN, nn, 0);
	synth_tx_slot_str(sl, "nouns", SL_NOUN, nn, 1);
	synth_tx_slot_node(sl, "pred", SL_PRED, q, plural);
}

static int relation_question(struct synth_tx_ctx *c, const struct synth_node *q)
{
	const struct synth_tpl *t;
	struct synth_tx_slots sl;

	if (q->op != SYNTH_HOP || q->kid[0]->label)
		return 0;
	t = synth_tx_choose(c, q->rel, q->inverse ? L_INVQ : L_FWDQ, q->kid[0]->op == SYNTH_ANCHOR ? 0 : SYNTH_TPL_POSS, 0);
	if (!t)
		return 0;
	synth_tx_slots_init(&sl, synth_tx_node_plural(c, q));
	synth_tx_slot_node(&sl, "x", SL_NODE, q->kid[0], synth_tx_node_plural(c, q->kid[0]));
	synth_tx_slot_str(&sl, "p", SL_TEXT, synth_tx_phrase_of(q->rel), 0);
	synth_tx_expand_tpl(c, t, &sl);
	return 1;
}

void synth_tx_question(struct synth_tx_ctx *c, const struct synth_node *q)
{
	struct synth_tx_slots sl;
	int plural = synth_tx_node_plural(c, q);
	const char *nn = synth_tx_node_noun(c, q);
	uint32_t r;

	if (q->op == SYNTH_ANCHOR) {
		synth_tx_lits(c, "Tell me about ");
		synth_tx_name(c, q->name);
		synth_tx_lits(c, ".");
		return;
	}
	if (q->op == SYNTH_HOP && synth_tx_pick(c, 2) && relation_question(c, q))
		return;
	question_slots(c, q, &sl);
	r = synth_tx_pick(c, 10);
	if (r < 3 && strcmp(nn, "entity") && synth_tx_pred_ok(c, q) && !(q->op == SYNTH_HOP && !q->inverse))
		synth_tx_expands(c, plural ? PICK(c, q_which_plur) : PICK(c, q_which_sing), &sl);
	else if (r < 5 && is_person_noun(nn))
		synth_tx_expands(c, plural ? PICK(c, q_who_plur) : PICK(c, q_who_sing), &sl);
	else
		synth_tx_expands(c, plural ? PICK(c, q_plur) : PICK(c, q_sing), &sl);
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

static int user_question(struct synth_tx_ctx *c, const struct synth_node *q, const char *pattern)
{
	static const char *const ekeys[] = { "e1", "e2", "e3" }, *const rkeys[] = { "r1", "r2", "r3" };
	const struct synth_node *anchors[3], *hops[3];
	int idx = synth_pattern_index(pattern), na = 0, nh = 0, i, want_anchors, want_hops;
	const struct synth_tpls *l;
	struct synth_tx_slots sl;

	if (idx < 0 || !(l = &c->tx->questions[idx])->n)
		return 0;
	if (!c->tx->replace_questions && synth_tx_pick(c, 2))
		return 0;
	collect(q, anchors, &na, hops, &nh);
	synth_pattern_shape(idx, &want_anchors, &want_hops);
	if (na != want_anchors || nh != want_hops)
		return 0; /* not the shape the pattern names: the templates would not fit */
	question_slots(c, q, &sl);
	for (i = 0; i < na; i++)
		synth_tx_slot_str(&sl, ekeys[i], SL_NAME, anchors[i]->name, 0);
	for (i = 0; i < nh; i++)
		synth_tx_slot_str(&sl, rkeys[i], SL_TEXT, synth_tx_phrase_of(hops[i]->rel), 0);
	synth_tx_expand_tpl(c, &l->v[synth_tx_pick(c, l->n)], &sl);
	return 1;
}

void synth_tx_ctx_init(struct synth_tx_ctx *c, const struct synth_text *tx, uint64_t *rng, struct ling_buf *out)
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
	struct synth_tx_ctx c;

	synth_tx_ctx_init(&c, tx, rng, out);
	if (!user_question(&c, q, pattern))
		synth_tx_question(&c, q);
}

