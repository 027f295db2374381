/*
 * test_synth_text: the wording of kg2samples. Every pattern renders for
 * built-in and fallback relations without leftover placeholders, outputs are
 * deterministic and varied, answers state every name, template files load
 * and their errors carry positions.
 *
 * With SYNTH_TEXT_DUMP=1 in the environment it also prints samples of every
 * text on stdout as "# " lines, for reading.
 */
#include "../../synth/synth_text_internal.h"
#include "../../synth/synth_text_render_internal.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FB "http://rdf.freebase.com/ns/"

static const struct synth_rel_words R_BIRTH = { FB "people.person.place_of_birth", "place of birth", "person", "location", 0 };
static const struct synth_rel_words R_ACTED = { FB "film.actor.film..film.performance.film", "film", "actor", "film", 0 };
static const struct synth_rel_words R_NATION = { FB "people.person.nationality", "nationality", "person", "country", 0 };
static const struct synth_rel_words R_GENRE = { FB "film.film.genre", "genre", "film", "genre", 0 };
static const struct synth_rel_words R_CAPITAL = { FB "location.country.capital", "capital", "country", "city", 0 };
static const struct synth_rel_words R_PROF = { FB "people.person.profession", "profession", "person", "profession", 0 };
static const struct synth_rel_words R_DIRECTED = { "urn:kg:directed_by", "directed by", "film", "entity", 0 };
static const struct synth_rel_words R_STARRED = { "urn:kg:starred_actors", "starred actors", "film", "entity", 0 };
static const struct synth_rel_words R_YEAR = { "urn:kg:release_year", "release year", "film", "entity", 0 };
static const struct synth_rel_words R_TAGS = { "urn:kg:has_tags", "tag", "film", "tag", 0 };
static const struct synth_rel_words R_FDIR = { FB "film.director.film", "film", "director", "film", 0 };
static const struct synth_rel_words R_SPOUSE = { FB "people.person.spouse_s..people.marriage.spouse", "spouse", "person", "person", 0 };
/* Relations without a lexicon entry: words from kg_tools only, in its three phrase forms. */
static const struct synth_rel_words R_COLOUR = { "http://example.org/colour", "colour", "fruit", "colour", SYNTH_FORM_NOUN };
static const struct synth_rel_words R_GROWN = { "http://example.org/grownIn", "grown in", "fruit", "country", SYNTH_FORM_PREP };
static const struct synth_rel_words R_CONTAINS = { "http://example.org/contains", "contains", "region", "country", SYNTH_FORM_VERB };
static const struct synth_rel_words R_LEADER = { "http://example.org/leader", "head of state", "country", "person", 0 };
static const struct synth_rel_words R_SIMILAR = { "http://example.org/similarTo", "similar fruit", "fruit", "fruit", 0 };
static const struct synth_rel_words R_MENTOR = { "http://example.org/ns/mentor", "mentor", "person", "person", 0 };

static const char *const PATTERNS[] = { "1p", "2p", "3p", "2i", "3i", "ip", "pi", "2u", "up", "2in", "3in", "inp", "pin", "pni" };
#define NPAT 14

struct tree {
	struct synth_node n[16];
	int used;
};

static struct synth_node *mk(struct tree *t, enum synth_op op)
{
	struct synth_node *n = &t->n[t->used++];

	memset(n, 0, sizeof(*n));
	n->op = op;
	return n;
}

static struct synth_node *anchor(struct tree *t, const char *name)
{
	struct synth_node *n = mk(t, SYNTH_ANCHOR);

	n->name = name;
	return n;
}

static struct synth_node *hop(struct tree *t, const struct synth_rel_words *r, int inverse, const struct synth_node *kid)
{
	struct synth_node *n = mk(t, SYNTH_HOP);

	n->rel = r;
	n->inverse = inverse;
	n->kid[0] = kid;
	n->nkids = 1;
	return n;
}

static struct synth_node *set(struct tree *t, enum synth_op op, const struct synth_node *a, const struct synth_node *b,
			      const struct synth_node *c, int negmask)
{
	struct synth_node *n = mk(t, op);

	n->kid[0] = a;
	n->kid[1] = b;
	n->kid[2] = c;
	n->nkids = c ? 3 : 2;
	n->negated[0] = negmask & 1;
	n->negated[1] = (negmask >> 1) & 1;
	n->negated[2] = (negmask >> 2) & 1;
	return n;
}

/* A hop from a named entity, or (no name) a relation to apply on top. */
struct leg {
	const struct synth_rel_words *r;
	int inv;
	const char *a;
};

/*
 * A type-coherent scenario: three branches b that reach things of one type,
 * relations top and top2 that go on from there, and pre, which reaches what
 * b[0] starts from (for the path branch of pi, pin and pni).
 */
struct scen {
	struct leg b[3], top, top2, pre;
};

static const struct synth_node *branch(struct tree *t, const struct leg *l)
{
	return hop(t, l->r, l->inv, anchor(t, l->a));
}

static const struct synth_node *build(struct tree *t, const char *p, const struct scen *s)
{
	const struct synth_node *b0, *b1, *path;

	t->used = 0;
	b0 = branch(t, &s->b[0]);
	if (!strcmp(p, "1p"))
		return b0;
	if (!strcmp(p, "2p"))
		return hop(t, s->top.r, s->top.inv, b0);
	if (!strcmp(p, "3p"))
		return hop(t, s->top2.r, s->top2.inv, hop(t, s->top.r, s->top.inv, b0));
	b1 = branch(t, &s->b[1]);
	if (!strcmp(p, "2i"))
		return set(t, SYNTH_AND, b0, b1, NULL, 0);
	if (!strcmp(p, "2in"))
		return set(t, SYNTH_AND, b0, b1, NULL, 2);
	if (!strcmp(p, "2u"))
		return set(t, SYNTH_OR, b0, b1, NULL, 0);
	if (!strcmp(p, "ip"))
		return hop(t, s->top.r, s->top.inv, set(t, SYNTH_AND, b0, b1, NULL, 0));
	if (!strcmp(p, "inp"))
		return hop(t, s->top.r, s->top.inv, set(t, SYNTH_AND, b0, b1, NULL, 2));
	if (!strcmp(p, "up"))
		return hop(t, s->top.r, s->top.inv, set(t, SYNTH_OR, b0, b1, NULL, 0));
	if (!strcmp(p, "3i"))
		return set(t, SYNTH_AND, b0, b1, branch(t, &s->b[2]), 0);
	if (!strcmp(p, "3in"))
		return set(t, SYNTH_AND, b0, b1, branch(t, &s->b[2]), 4);
	path = hop(t, s->b[0].r, s->b[0].inv, branch(t, &s->pre));
	return set(t, SYNTH_AND, path, b1, NULL, !strcmp(p, "pi") ? 0 : !strcmp(p, "pin") ? 2 : 1);
}

/* The steps of a plan of q, one turn per node in post-order (as synth_plan records them, turns aside). */
static size_t tree_steps(const struct synth_node *n, struct synth_step *out, size_t k)
{
	int i;

	if (n->op == SYNTH_ANCHOR)
		return k;
	for (i = 0; i < n->nkids; i++)
		k = tree_steps(n->kid[i], out, k);
	memset(&out[k], 0, sizeof(out[k]));
	if (n->op == SYNTH_HOP) {
		out[k].kind = SYNTH_STEP_HOP;
		out[k].rel = n->rel;
		out[k].inverse = n->inverse;
		out[k].name = n->kid[0]->op == SYNTH_ANCHOR ? n->kid[0]->name : NULL;
		out[k].n = 1 + (k & 1);
	} else {
		out[k].kind = n->op == SYNTH_OR ? SYNTH_STEP_OR : n->negated[0] | n->negated[1] | n->negated[2] ? SYNTH_STEP_MINUS : SYNTH_STEP_AND;
		out[k].n = (size_t)n->nkids;
	}
	return k + 1;
}

/* The thoughts of every turn of q's plan. */
static void thoughts(const struct synth_text *tx, const struct synth_node *q, uint64_t *rng, struct ling_buf *out)
{
	struct synth_step st[16];
	size_t n = tree_steps(q, st, 0), i;

	for (i = 0; i < n; i++) {
		if (i)
			ling_buf_addc(out, '\n');
		synth_text_step_thought(tx, &st[i], 1, (unsigned)i + 1, i + 1 == n, rng, out);
	}
}

/* The anchors of a tree. */
static int anchors_of(const struct synth_node *n, const char **out, int k)
{
	int i;

	if (n->op == SYNTH_ANCHOR) {
		out[k] = n->name;
		return k + 1;
	}
	for (i = 0; i < n->nkids; i++)
		k = anchors_of(n->kid[i], out, k);
	return k;
}

static const struct scen SCEN_FB = {
	{ { &R_ACTED, 0, "Sigourney Weaver" }, { &R_GENRE, 1, "Horror" }, { &R_FDIR, 0, "Ridley Scott" } },
	{ &R_ACTED, 1, NULL }, { &R_BIRTH, 0, NULL }, { &R_SPOUSE, 0, "Tom Cruise" },
};
static const struct scen SCEN_FB2 = {
	{ { &R_BIRTH, 1, "Paris" }, { &R_NATION, 1, "France" }, { &R_PROF, 1, "Actor" } },
	{ &R_SPOUSE, 0, NULL }, { &R_BIRTH, 0, NULL }, { &R_CAPITAL, 0, "Italy" },
};
static const struct scen SCEN_MQA = {
	{ { &R_STARRED, 1, "Sigourney Weaver" }, { &R_DIRECTED, 1, "Ridley Scott" }, { &R_YEAR, 1, "1979" } },
	{ &R_DIRECTED, 0, NULL }, { &R_DIRECTED, 1, NULL }, { &R_STARRED, 0, "Alien" },
};
static const struct scen SCEN_FALLBACK = {
	{ { &R_COLOUR, 1, "Red" }, { &R_GROWN, 1, "Spain" }, { &R_COLOUR, 1, "Green" } },
	{ &R_GROWN, 0, NULL }, { &R_CONTAINS, 1, NULL }, { &R_COLOUR, 0, "Apple" },
};
static const struct scen SCEN_FALLBACK_FWD = {
	{ { &R_GROWN, 0, "Apple" }, { &R_GROWN, 0, "Pear" }, { &R_CONTAINS, 0, "Europe" } },
	{ &R_LEADER, 0, NULL }, { &R_SPOUSE, 0, NULL }, { &R_SIMILAR, 0, "Quince" },
};

static const struct scen *const SCENS[] = { &SCEN_FB, &SCEN_FB2, &SCEN_MQA, &SCEN_FALLBACK, &SCEN_FALLBACK_FWD };
static const char *const SCEN_NAMES[] = { "fb", "fb2", "metaqa", "fallback", "fallback-fwd" };
#define NSCEN 5

static int dump;

/* Leftover template syntax or spacing faults; NULL when the text is clean. */
static const char *text_fault(const char *s)
{
	size_t n = strlen(s);

	if (!n)
		return "empty";
	if (strchr(s, '{') || strchr(s, '}'))
		return "leftover brace";
	if (strstr(s, "  "))
		return "double space";
	if (s[0] == ' ' || s[n - 1] == ' ')
		return "leading or trailing space";
	if (strstr(s, " ,") || strstr(s, " .") || strstr(s, " ?") || strstr(s, ",,") || strstr(s, ".."))
		return "space before punctuation or doubled punctuation";
	if (strstr(s, " a a") || strstr(s, " the the ") || strstr(s, " of of "))
		return "doubled word";
	return NULL;
}

/* Distinct strings, a small set. */
struct strset {
	char **v;
	size_t n, cap;
};

static void strset_add(struct strset *s, const char *x)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], x))
			return;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = strdup(x);
}

static void strset_free(struct strset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static void test_patterns(const struct synth_text *tx)
{
	struct ling_buf b = LING_BUF_INIT;
	struct tree t;
	int si, pi, seed;

	for (si = 0; si < NSCEN; si++) {
		for (pi = 0; pi < NPAT; pi++) {
			const struct synth_node *q = build(&t, PATTERNS[pi], SCENS[si]);
			struct strset distinct = { 0 };
			const char *fault = NULL;
			char *bad = NULL;
			const char *names[4];
			int missing = 0, i, na = anchors_of(q, names, 0);

			for (seed = 0; seed < 300; seed++) {
				uint64_t rng = (uint64_t)seed * 7919 + 1;

				ling_buf_reset(&b);
				synth_text_question(tx, q, PATTERNS[pi], &rng, &b);
				if (!fault && (fault = text_fault(b.data ? b.data : "")))
					bad = b.data ? strdup(b.data) : NULL;
				for (i = 0; i < na; i++)
					missing += !strstr(b.data, names[i]);
				if (b.data)
					strset_add(&distinct, b.data);
				if (dump && seed < 6)
					printf("# %s %s: %s\n", SCEN_NAMES[si], PATTERNS[pi], b.data);
			}
			ok(!fault, "%s %s: questions are clean%s%s%s", SCEN_NAMES[si], PATTERNS[pi], fault ? " (" : "",
			   fault ? fault : "", fault ? ")" : "");
			if (bad) {
				printf("#   %s\n", bad);
				free(bad);
			}
			ok(!missing, "%s %s: every question names its anchors (%d misses)", SCEN_NAMES[si], PATTERNS[pi],
			   missing);
			ok(distinct.n >= 15, "%s %s: %zu distinct questions over 300 seeds", SCEN_NAMES[si], PATTERNS[pi],
			   distinct.n);
			strset_free(&distinct);
		}
	}
	ling_buf_release(&b);
}

/* Specific phrasings: composition, agreement, negation, union. */
static int any_contains(const struct synth_text *tx, const struct synth_node *q, const char *pattern, const char *needle,
			int seeds)
{
	struct ling_buf b = LING_BUF_INIT;
	int seed, found = 0;

	for (seed = 0; seed < seeds && !found; seed++) {
		uint64_t rng = (uint64_t)seed;

		ling_buf_reset(&b);
		synth_text_question(tx, q, pattern, &rng, &b);
		found = strstr(b.data, needle) != NULL;
	}
	ling_buf_release(&b);
	return found;
}

/* Whether every question that says `list` says `lead` right before it ("both " before "A and B"). */
static int list_always_led(const struct synth_text *tx, const struct synth_node *q, const char *pattern,
			   const char *list, const char *lead, int seeds, int *seen)
{
	struct ling_buf b = LING_BUF_INIT;
	int seed, ok_ = 1;
	size_t nl = strlen(lead);

	*seen = 0;
	for (seed = 0; seed < seeds && ok_; seed++) {
		uint64_t rng = (uint64_t)seed;
		const char *at;

		ling_buf_reset(&b);
		synth_text_question(tx, q, pattern, &rng, &b);
		for (at = strstr(b.data, list); at; at = strstr(at + 1, list)) {
			(*seen)++;
			if ((size_t)(at - b.data) < nl || memcmp(at - nl, lead, nl)) {
				printf("#   without \"%s\": %s\n", lead, b.data);
				ok_ = 0;
			}
		}
	}
	ling_buf_release(&b);
	return ok_;
}

static int all_contain_one_of(const struct synth_text *tx, const struct synth_node *q, const char *pattern,
			      const char *const *needles, int seeds)
{
	struct ling_buf b = LING_BUF_INIT;
	int seed, i, all = 1;

	for (seed = 0; seed < seeds && all; seed++) {
		uint64_t rng = (uint64_t)seed;
		int hit = 0;

		ling_buf_reset(&b);
		synth_text_question(tx, q, pattern, &rng, &b);
		for (i = 0; needles[i]; i++)
			hit |= strstr(b.data, needles[i]) != NULL;
		if (!hit)
			printf("#   no marker in: %s\n", b.data);
		all = hit;
	}
	ling_buf_release(&b);
	return all;
}

static void test_phrasings(const struct synth_text *tx)
{
	static const char *const negs[] = { "not", "excluding", "other than", "leaving out", "except", NULL };
	static const char *const ors[] = { " or ", "together with", "as well as", NULL };
	struct tree t;
	const struct synth_node *q;

	t.used = 0;
	q = hop(&t, &R_BIRTH, 0, anchor(&t, "Ridley Scott"));
	ok(any_contains(tx, q, "1p", "Where was Ridley Scott born?", 200), "1p: a lexicon question");
	ok(any_contains(tx, q, "1p", "Ridley Scott's birthplace", 200), "1p: a possessive phrase for a name");
	t.used = 0;
	q = hop(&t, &R_NATION, 0, hop(&t, &R_DIRECTED, 0, anchor(&t, "Alien")));
	ok(any_contains(tx, q, "2p", "the nationality of the director of Alien", 300), "2p: nested noun phrases");
	ok(!any_contains(tx, q, "2p", "the director of Alien's", 300), "2p: no possessive on a phrase");
	t.used = 0;
	q = hop(&t, &R_BIRTH, 1, anchor(&t, "Paris"));
	ok(any_contains(tx, q, "1p", "the people born in Paris", 300), "inverse: plural noun and restrictor");
	ok(!any_contains(tx, q, "1p", "persons", 300), "inverse: person pluralizes to people");
	t.used = 0;
	q = set(&t, SYNTH_AND, hop(&t, &R_DIRECTED, 1, anchor(&t, "Ridley Scott")),
		hop(&t, &R_STARRED, 1, anchor(&t, "Sigourney Weaver")), NULL, 0);
	ok(any_contains(tx, q, "2i", "directed by Ridley Scott and starring Sigourney Weaver", 300),
	   "2i: chained restrictors");
	t.used = 0;
	q = set(&t, SYNTH_AND, hop(&t, &R_DIRECTED, 1, anchor(&t, "Ridley Scott")),
		hop(&t, &R_YEAR, 1, anchor(&t, "1979")), NULL, 0);
	ok(any_contains(tx, q, "2i", "Which films are both directed by Ridley Scott and released in 1979?", 300),
	   "2i: \"Which films are both ... and ...?\"");
	t.used = 0;
	q = set(&t, SYNTH_AND, hop(&t, &R_GENRE, 0, anchor(&t, "Alien")), hop(&t, &R_GENRE, 0, anchor(&t, "Heat")),
		NULL, 0);
	ok(any_contains(tx, q, "2i", "the genres that Alien and Heat have in common", 300) &&
		   any_contains(tx, q, "2i", "the genres shared by Alien and Heat", 300) &&
		   !any_contains(tx, q, "2i", "the genres of both Alien and Heat", 300),
	   "2i forward over one relation: the objects they share, never \"the genres of both\"");
	t.used = 0;
	q = set(&t, SYNTH_AND, hop(&t, &R_STARRED, 1, anchor(&t, "Al Pacino")),
		hop(&t, &R_STARRED, 1, anchor(&t, "Robert De Niro")), NULL, 0);
	ok(any_contains(tx, q, "2i", "both Al Pacino and Robert De Niro", 300), "2i over one relation folds");
	t.used = 0;
	q = set(&t, SYNTH_AND, hop(&t, &R_DIRECTED, 1, anchor(&t, "Ridley Scott")),
		hop(&t, &R_STARRED, 1, anchor(&t, "Sigourney Weaver")), NULL, 2);
	ok(all_contain_one_of(tx, q, "2in", negs, 300), "2in: every question says the negation");
	t.used = 0;
	q = set(&t, SYNTH_OR, hop(&t, &R_DIRECTED, 1, anchor(&t, "Ridley Scott")),
		hop(&t, &R_DIRECTED, 1, anchor(&t, "James Cameron")), NULL, 0);
	ok(all_contain_one_of(tx, q, "2u", ors, 300), "2u: every question says the union");
	ok(any_contains(tx, q, "2u", "either Ridley Scott or James Cameron", 300), "2u over one relation folds");
	{
		int seen = 0, led;

		led = list_always_led(tx, q, "2u", "Ridley Scott or James Cameron", "either ", 300, &seen);
		ok(led && seen, "2u: a folded union always says \"either\" (%d)", seen);
		t.used = 0;
		q = set(&t, SYNTH_AND, hop(&t, &R_STARRED, 1, anchor(&t, "Al Pacino")),
			hop(&t, &R_STARRED, 1, anchor(&t, "Robert De Niro")), NULL, 0);
		led = list_always_led(tx, q, "2i", "Al Pacino and Robert De Niro", "both ", 300, &seen);
		ok(led && seen, "2i: a folded intersection always says \"both\", never a bare list (%d)", seen);
		t.used = 0;
		q = set(&t, SYNTH_AND, hop(&t, &R_STARRED, 1, anchor(&t, "Al Pacino")),
			hop(&t, &R_STARRED, 1, anchor(&t, "Robert De Niro")), hop(&t, &R_STARRED, 1, anchor(&t, "Joe Pesci")), 0);
		led = list_always_led(tx, q, "3i", "Al Pacino, Robert De Niro and Joe Pesci", "all of ", 300, &seen);
		ok(led && seen, "3i: a folded intersection always says \"all of\" (%d)", seen);
	}
	{
		/* a value said as a label: quoted after its noun, never a topic */
		struct synth_node *tag;
		struct ling_buf b = LING_BUF_INIT;
		int seed, quoted = 1, topic = 0;

		t.used = 0;
		tag = anchor(&t, "tyrese gibson");
		tag->label = 1;
		q = set(&t, SYNTH_AND, hop(&t, &R_TAGS, 1, tag), hop(&t, &R_STARRED, 1, anchor(&t, "Tyrese Gibson")), NULL, 0);
		for (seed = 0; seed < 300; seed++) {
			uint64_t rng = (uint64_t)seed;

			ling_buf_reset(&b);
			synth_text_question(tx, q, "2i", &rng, &b);
			quoted &= strstr(b.data, "tag \"tyrese gibson\"") != NULL;
			topic |= strstr(b.data, "about tyrese gibson") != NULL || strstr(b.data, "tagged tyrese") != NULL;
		}
		ok(quoted && !topic, "a tag that names a person is said as the tag \"tyrese gibson\", never as a topic");
		ling_buf_release(&b);
	}
	t.used = 0;
	q = hop(&t, &R_GENRE, 0, anchor(&t, "Alien"));
	ok(any_contains(tx, q, "1p", "What are the genres of Alien?", 1000), "plural forward relation: \"What are\"");
	ok(!any_contains(tx, q, "1p", "What is the genres", 300), "no \"is\" with a plural phrase");
	t.used = 0;
	q = hop(&t, &R_COLOUR, 0, anchor(&t, "Apple"));
	ok(any_contains(tx, q, "1p", "the colour of Apple", 200), "fallback: phrase from the relation words");
	t.used = 0;
	q = hop(&t, &R_COLOUR, 1, anchor(&t, "Red"));
	ok(any_contains(tx, q, "1p", "the fruits whose colour is Red", 200), "fallback inverse: subject noun pluralized");
	t.used = 0;
	q = hop(&t, &R_GROWN, 1, anchor(&t, "Spain"));
	ok(any_contains(tx, q, "1p", "the fruits grown in Spain", 200), "fallback, phrase with a preposition: inverse");
	t.used = 0;
	q = hop(&t, &R_GROWN, 0, anchor(&t, "Apple"));
	ok(any_contains(tx, q, "1p", "the country that Apple is grown in", 200),
	   "fallback, phrase with a preposition: forward");
	t.used = 0;
	q = hop(&t, &R_CONTAINS, 1, anchor(&t, "Spain"));
	ok(any_contains(tx, q, "1p", "the regions that contain Spain", 200), "fallback, verb phrase: agreement");
	t.used = 0;
	q = hop(&t, &R_COLOUR, 0, hop(&t, &R_COLOUR, 1, anchor(&t, "Red")));
	ok(any_contains(tx, q, "2p", "the colours of the fruits whose colour is Red", 300),
	   "a hop from a plural phrase is plural");
	t.used = 0;
	q = hop(&t, &R_BIRTH, 0, hop(&t, &R_ACTED, 1, anchor(&t, "Alien")));
	ok(any_contains(tx, q, "2p", "Where were the actors", 300) && !any_contains(tx, q, "2p", "Where was the actors", 300),
	   "verbs agree with a plural {x}");
	ok(any_contains(tx, q, "2p", "the places where the actors", 300), "singular templates pluralize their head noun");
}

/* Every built-in template is well formed, and renders cleanly with a name and with a phrase in {x}. */
static int check_list(const char *list, const char *allowed, const char *required, const char *iri)
{
	char buf[1024];
	int bad = 0;

	while (list && *list) {
		const char *e = strchr(list, ';'), *why;
		size_t n = e ? (size_t)(e - list) : strlen(list);

		snprintf(buf, sizeof(buf), "%.*s", (int)n, list);
		if ((why = synth_tpl_check(buf, allowed, required))) {
			printf("#   %s: \"%s\": %s\n", iri, buf, why);
			bad++;
		}
		list = e ? e + 1 : NULL;
	}
	return bad;
}

static void test_builtin_lexicon(const struct synth_text *tx)
{
	struct ling_buf b = LING_BUF_INIT;
	size_t i, fb = 0, kg = 0;
	int bad = 0, empty = 0, faults = 0, seed;

	for (i = 0; i < synth_builtin_nrels; i++) {
		const struct synth_builtin_rel *r = &synth_builtin_rels[i];

		bad += check_list(r->fwd, "x", "x", r->iri) + check_list(r->fwdq, "x", "x", r->iri) +
		       check_list(r->inv, "x", "x", r->iri) + check_list(r->invq, "x", "x", r->iri) +
		       check_list(r->stmt, "s,o", "s,o", r->iri);
		empty += !r->fwd || !r->inv || !r->stmt || !r->subject || !r->object;
		fb += !strncmp(r->iri, "fb:", 3);
		kg += !strncmp(r->iri, "kg:", 3);
	}
	ok(!bad, "built-in templates are well formed (%d bad)", bad);
	ok(!empty, "every built-in relation has nouns, forward and inverse phrases and a statement");
	ok(fb >= 60 && kg == 9, "%zu FB15k-237 relations, %zu MetaQA relations", fb, kg);

	for (i = 0; i < synth_builtin_nrels; i++) {
		const struct synth_builtin_rel *r = &synth_builtin_rels[i];
		char iri[512];
		struct synth_rel_words w = { iri, "relation", "entity", "entity", 0 };
		static const char *const ans[] = { "Alpha", "Beta" };

		snprintf(iri, sizeof(iri), "%s%s", !strncmp(r->iri, "fb:", 3) ? FB : "urn:kg:", r->iri + 3);
		for (seed = 0; seed < 24; seed++) {
			struct tree t;
			const struct synth_node *q;
			uint64_t rng = (uint64_t)seed;
			int inv = seed & 1, nested = (seed >> 1) & 1;

			t.used = 0;
			q = anchor(&t, "Zeta");
			if (nested)
				q = hop(&t, &w, 0, q);
			q = hop(&t, &w, inv, q);
			ling_buf_reset(&b);
			synth_text_question(tx, q, nested ? "2p" : "1p", &rng, &b);
			if (text_fault(b.data) || !strstr(b.data, "Zeta")) {
				if (faults++ < 10)
					printf("#   %s: %s\n", iri, b.data);
			}
			ling_buf_reset(&b);
			synth_text_answer(tx, q, ans, 1 + (size_t)(seed % 2), &rng, &b);
			if (text_fault(b.data) || !strstr(b.data, "Alpha")) {
				if (faults++ < 10)
					printf("#   %s: %s\n", iri, b.data);
			}
			if (dump && seed < 4)
				printf("# lexicon %s: %s\n", r->iri, b.data);
		}
	}
	ok(!faults, "every built-in relation renders cleanly both ways, with a name and a phrase (%d faults)", faults);
	ling_buf_release(&b);
}

static void test_determinism(const struct synth_text *tx)
{
	struct ling_buf a = LING_BUF_INIT, b = LING_BUF_INIT;
	static const char *const ans[] = { "South Shields", "Paris" };
	struct tree t;
	int pi, k;

	for (k = 0; k < 2; k++) {
		struct ling_buf *o = k ? &b : &a;
		uint64_t rng = 42;

		for (pi = 0; pi < NPAT; pi++) {
			const struct synth_node *q = build(&t, PATTERNS[pi], &SCEN_FB);

			synth_text_question(tx, q, PATTERNS[pi], &rng, o);
			synth_text_answer(tx, q, ans, 2, &rng, o);
			thoughts(tx, q, &rng, o);
			synth_text_irrelevant(tx, q, &rng, o);
		}
	}
	ok(a.len > 1000 && a.len == b.len && !memcmp(a.data, b.data, a.len), "same seed, same bytes (%zu)", a.len);
	ling_buf_reset(&b);
	{
		uint64_t rng = 43;

		for (pi = 0; pi < NPAT; pi++) {
			const struct synth_node *q = build(&t, PATTERNS[pi], &SCEN_FB);

			synth_text_question(tx, q, PATTERNS[pi], &rng, &b);
			synth_text_answer(tx, q, ans, 2, &rng, &b);
			thoughts(tx, q, &rng, &b);
			synth_text_irrelevant(tx, q, &rng, &b);
		}
	}
	ok(a.len != b.len || memcmp(a.data, b.data, a.len), "another seed, other bytes");
	ling_buf_release(&a);
	ling_buf_release(&b);
}

static int names_all(const char *text, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strstr(text, v[i]))
			return 0;
	return 1;
}

static void test_answers(const struct synth_text *tx)
{
	static const char *const many[] = { "A Clockwork Orange", "Barry Lyndon", "Dr. Strangelove", "Eyes Wide Shut",
					    "Full Metal Jacket", "Lolita", "Paths of Glory", "Spartacus",
					    "The Killing", "The Shining", "2001: A Space Odyssey", "Fear and Desire",
					    "Killer's Kiss", "Day of the Fight", "Flying Padre", "The Seafarers",
					    "Lolita (1962)", "Spartacus II", "Barry", "Shining" };
	static const size_t sizes[] = { 1, 2, 3, 7, 20 };
	struct ling_buf b = LING_BUF_INIT;
	struct strset distinct = { 0 };
	const char *fault = NULL;
	int pi, si, seed, missing = 0, runs = 0, stated = 0;
	struct tree t;

	for (si = 0; si < NSCEN; si++)
		for (pi = 0; pi < NPAT; pi++)
			for (seed = 0; seed < 40; seed++) {
				const struct synth_node *q = build(&t, PATTERNS[pi], SCENS[si]);
				size_t n = sizes[seed % 5];
				uint64_t rng = (uint64_t)seed;

				ling_buf_reset(&b);
				synth_text_answer(tx, q, many, n, &rng, &b);
				runs++;
				if (!names_all(b.data, many, n)) {
					if (!missing)
						printf("#   missing a name: %s\n", b.data);
					missing++;
				}
				if (!fault && (fault = text_fault(b.data)))
					printf("#   %s: %s\n", fault, b.data);
				strset_add(&distinct, b.data);
				if (dump && seed < 3)
					printf("# answer %s %s: %s\n", SCEN_NAMES[si], PATTERNS[pi], b.data);
			}
	ok(!missing, "answers state every name (%d of %d miss one)", missing, runs);
	ok(!fault, "answers are clean");
	ok(distinct.n > (size_t)runs / 3, "answers vary: %zu distinct of %d", distinct.n, runs);
	strset_free(&distinct);

	/* Names stay verbatim: a lowercase name never starts a sentence, a final "F.C." gets no second period. */
	{
		static const char *const low[] = { "marriage", "Hapoel Be'er Sheva F.C." };
		int lower_start = 0, verbatim = 1, doubled = 0;

		for (pi = 0; pi < NPAT; pi++)
			for (seed = 0; seed < 60; seed++) {
				const struct synth_node *q = build(&t, PATTERNS[pi], &SCEN_FB2);
				uint64_t rng = (uint64_t)seed;

				ling_buf_reset(&b);
				synth_text_answer(tx, q, low, 1 + (size_t)(seed & 1), &rng, &b);
				lower_start |= b.data[0] >= 'a' && b.data[0] <= 'z';
				verbatim &= names_all(b.data, low, 1 + (size_t)(seed & 1));
				doubled |= strstr(b.data, "..") != NULL;
			}
		ok(!lower_start && verbatim && !doubled, "lowercase names: verbatim, never a lowercase sentence start; no \"..\"");
	}

	/* One answer among several in a message names what was asked. */
	{
		int named = 1;

		for (pi = 0; pi < 3; pi++)
			for (seed = 0; seed < 100; seed++) {
				const struct synth_node *q = build(&t, PATTERNS[pi], &SCEN_FB2);
				uint64_t rng = (uint64_t)seed;

				ling_buf_reset(&b);
				synth_text_answer_part(tx, q, many, 1 + (size_t)(seed % 3), &rng, &b);
				named &= strstr(b.data, "Paris") && names_all(b.data, many, 1 + (size_t)(seed % 3)) &&
					 !text_fault(b.data);
			}
		ok(named, "answer parts name the question's anchor and every answer");
	}
	/* "Elektra Records'", not "Elektra Records's" */
	t.used = 0;
	{
		const struct synth_node *q = hop(&t, &R_BIRTH, 0, anchor(&t, "Elektra Records"));
		int bad = 0, good = 0;

		for (seed = 0; seed < 200; seed++) {
			uint64_t rng = (uint64_t)seed;

			ling_buf_reset(&b);
			synth_text_question(tx, q, "1p", &rng, &b);
			bad |= strstr(b.data, "Records's") != NULL;
			good |= strstr(b.data, "Elektra Records' birthplace") != NULL;
		}
		ok(!bad && good, "possessive of a name ending in s");
	}

	/* "Ridley Scott was born in South Shields." */
	t.used = 0;
	{
		const struct synth_node *q = hop(&t, &R_BIRTH, 0, anchor(&t, "Ridley Scott"));
		static const char *const a[] = { "South Shields" };

		for (seed = 0; seed < 200; seed++) {
			uint64_t rng = (uint64_t)seed;

			ling_buf_reset(&b);
			synth_text_answer(tx, q, a, 1, &rng, &b);
			stated |= !strcmp(b.data, "Ridley Scott was born in South Shields.");
		}
		ok(stated, "a statement from the lexicon: \"Ridley Scott was born in South Shields.\"");
	}
	t.used = 0;
	{
		const struct synth_node *q = hop(&t, &R_BIRTH, 1, anchor(&t, "Paris"));
		static const char *const a[] = { "Alice", "Bob" };
		int agree = 0, disagree = 0;

		for (seed = 0; seed < 300; seed++) {
			uint64_t rng = (uint64_t)seed;

			ling_buf_reset(&b);
			synth_text_answer(tx, q, a, 2, &rng, &b);
			agree |= strstr(b.data, "Alice and Bob were born in Paris") != NULL;
			disagree |= strstr(b.data, "Alice and Bob was") != NULL;
		}
		ok(agree && !disagree, "statements agree in number with a list subject");
	}
	ling_buf_release(&b);
}

static void test_followup_thought_irrelevant(const struct synth_text *tx)
{
	static const struct synth_rel_words *const offered[] = { &R_GENRE, &R_CAPITAL, &R_NATION, &R_PROF };
	struct ling_buf b = LING_BUF_INIT;
	struct tree t1, t2;
	const struct synth_node *q1, *q2;
	int seed, about = 1, clean = 1, names = 1, next = 1, tools = 0, general = 1;

	t1.used = t2.used = 0;
	q1 = hop(&t1, &R_BIRTH, 0, hop(&t1, &R_DIRECTED, 0, anchor(&t1, "Alien")));
	q2 = hop(&t2, &R_BIRTH, 0, hop(&t2, &R_DIRECTED, 0, anchor(&t2, "Heat")));
	for (seed = 0; seed < 100; seed++) {
		uint64_t rng = (uint64_t)seed;

		ling_buf_reset(&b);
		synth_text_followup(tx, q1, q2, &rng, &b);
		about &= strstr(b.data, "Heat") && !strstr(b.data, "Alien") && strlen(b.data) < 40;
		clean &= !text_fault(b.data);
		if (dump && seed < 4)
			printf("# followup: %s\n", b.data);
	}
	ok(about && clean, "follow-up on another anchor: short, names the new one");
	t2.used = 0;
	q2 = hop(&t2, &R_GENRE, 0, anchor(&t2, "Heat"));
	for (seed = 0; seed < 100; seed++) {
		uint64_t rng = (uint64_t)seed;

		ling_buf_reset(&b);
		synth_text_followup(tx, q1, q2, &rng, &b);
		names &= strstr(b.data, "Heat") != NULL;
		clean &= !text_fault(b.data);
		if (dump && seed < 4)
			printf("# followup: %s\n", b.data);
	}
	ok(names && clean, "follow-up with another relation: a full question");

	for (seed = 0; seed < 100; seed++) {
		uint64_t rng = (uint64_t)seed;

		ling_buf_reset(&b);
		synth_text_irrelevant_tools(tx, q1, offered, 4, &rng, &b);
		tools |= strstr(b.data, "capital") && strstr(b.data, "of a country");
		general &= (strstr(b.data, "birth") || strstr(b.data, "born")) && strstr(b.data, "a person") &&
			   !text_fault(b.data);
		if (dump && seed < 4)
			printf("# irrelevant: %s\n", b.data);
	}
	ok(tools && general, "irrelevance names what the tools do and what is asked");
	ling_buf_reset(&b);
	{
		uint64_t rng = 5;

		synth_text_irrelevant(tx, q1, &rng, &b);
		ok(strstr(b.data, "tool") || strstr(b.data, "function"), "irrelevance without a tool list: %s", b.data);
	}

	clean = 1;
	names = 1;
	{
		struct tree t;
		int pi;

		for (pi = 0; pi < NPAT; pi++)
			for (seed = 0; seed < 30; seed++) {
				const struct synth_node *q = build(&t, PATTERNS[pi], &SCEN_FB);
				uint64_t rng = (uint64_t)seed;

				struct synth_step st[16];
				size_t ns = tree_steps(q, st, 0), i;

				for (i = 0; i < ns; i++) {
					ling_buf_reset(&b);
					synth_text_step_thought(tx, &st[i], 1, (unsigned)i + 1, i + 1 == ns, &rng, &b);
					clean &= !text_fault(b.data) && !strncmp(b.data, "Thought: ", 9) &&
						 !strstr(b.data + 1, "Thought:");
					/* the first turn starts from the anchor; a later one of a chain says only its own step */
					if (i == 0)
						names &= strstr(b.data, "Sigourney Weaver") != NULL || strstr(b.data, "Tom Cruise") != NULL;
					else if (pi < 3)
						next &= !strstr(b.data, "Sigourney Weaver") && !strstr(b.data, "Tom Cruise");
					if (dump && seed < 2)
						printf("# thought %s %zu: %s\n", PATTERNS[pi], i + 1, b.data);
				}
			}
	}
	ok(clean && names && next, "thoughts are clean, start from the anchor, and then say only the next step");
	{
		uint64_t rng = 3;

		ling_buf_reset(&b);
		synth_text_final_thought(tx, 1, &rng, &b);
		ok(!strncmp(b.data, "Thought: ", 9) && strstr(b.data, "\nFinal Answer: ") &&
		   b.data[b.len - 1] == ' ', "a ReAct reply starts with its thought and \"Final Answer: \"");
	}
	ling_buf_release(&b);
}

static void test_system(const struct synth_text *tx)
{
	const char *tools = "[{\"type\":\"function\",\"function\":{\"name\":\"get_genre\"}}]";
	struct ling_buf b = LING_BUF_INIT;
	struct strset distinct = { 0 };
	size_t i, n = synth_text_system_count(tx);
	int styles[3] = { 0, 0, 0 }, with_tools = 0, without_tools = 0, react_ok = 1, clean = 1;

	ok(n >= 20, "%zu system prompts", n);
	for (i = 0; i < n; i++) {
		enum synth_prompt_style st;

		ling_buf_reset(&b);
		synth_text_system(tx, i, NULL, &st, &b);
		clean &= !strchr(b.data, '{') && b.len > 20;
		strset_add(&distinct, b.data);
		styles[st]++;
		if (st == SYNTH_PROMPT_REACT)
			react_ok &= strstr(b.data, "Thought") && (strstr(b.data, "Action") || strstr(b.data, "call"));
		ling_buf_reset(&b);
		synth_text_system(tx, i, tools, &st, &b);
		if (strstr(b.data, "get_genre"))
			with_tools++;
		else
			without_tools++;
	}
	ok(distinct.n == n, "system prompts are distinct (%zu)", distinct.n);
	ok(styles[0] >= 5 && styles[1] >= 5 && styles[2] >= 5, "every style: %d openai, %d react, %d plain", styles[0],
	   styles[1], styles[2]);
	ok(react_ok, "ReAct prompts describe the Thought/Action protocol");
	ok(clean, "prompts without tools have no placeholder");
	ok(with_tools >= 5 && without_tools >= 5, "%d prompts list the tools, %d do not", with_tools, without_tools);
	strset_free(&distinct);
	{
		uint64_t rng = 1;

		ling_buf_reset(&b);
		synth_text_system_plain(tx, &rng, &b);
		ok(b.len > 10 && !strstr(b.data, "tool"), "a plain prompt: %s", b.data);
	}
	ling_buf_release(&b);
}

static void test_instructions(const struct synth_text *tx)
{
	static const char *const films[] = { "Alien", "Blade Runner", "Gladiator" };
	static const char *const films2[] = { "Gladiator", "Heat" };
	static const char *const other[] = { "Heat" };
	static const struct synth_fact facts[] = {
		{ &R_BIRTH, 0, "South Shields" },  { &R_PROF, 0, "Film Director" }, { &R_DIRECTED, 1, "Alien" },
		{ &R_PROF, 0, "Film Producer" },   { &R_DIRECTED, 1, "Gladiator" }, { &R_COLOUR, 0, "Grey" },
		{ &R_NATION, 0, "United Kingdom" },
	};
	struct ling_buf u = LING_BUF_INIT, r = LING_BUF_INIT;
	struct tree t, t2;
	int seed, ok_fact = 1, ok_list = 1, ok_count = 1, ok_cmp = 1, ok_cmp_no = 1, ok_desc = 1, grouped = 1;
	const struct synth_node *q, *q2;

	t.used = t2.used = 0;
	q = hop(&t, &R_DIRECTED, 1, anchor(&t, "Ridley Scott"));
	q2 = hop(&t2, &R_DIRECTED, 1, anchor(&t2, "Michael Mann"));
	for (seed = 0; seed < 100; seed++) {
		struct synth_instruction_args a;
		uint64_t rng = (uint64_t)seed;

		memset(&a, 0, sizeof(a));
		a.q = q;
		a.answers = films;
		a.n = 3;

		a.kind = SYNTH_INSTR_FACT;
		ling_buf_reset(&u);
		ling_buf_reset(&r);
		synth_text_instruction(tx, &a, &rng, &u, &r);
		ok_fact &= names_all(r.data, films, 3) && strstr(u.data, "Ridley Scott") && !text_fault(u.data) &&
			   !text_fault(r.data);

		a.kind = SYNTH_INSTR_LIST;
		ling_buf_reset(&u);
		ling_buf_reset(&r);
		synth_text_instruction(tx, &a, &rng, &u, &r);
		ok_list &= names_all(r.data, films, 3) && !text_fault(u.data) && !text_fault(r.data);
		if (dump && seed < 3)
			printf("# list: %s => %s\n", u.data, r.data);

		a.kind = SYNTH_INSTR_COUNT;
		ling_buf_reset(&u);
		ling_buf_reset(&r);
		synth_text_instruction(tx, &a, &rng, &u, &r);
		ok_count &= names_all(r.data, films, 3) && (strstr(r.data, "three") || strstr(r.data, "Three")) &&
			    !text_fault(u.data) && !text_fault(r.data) &&
			    (strstr(u.data, "ow many") || strstr(u.data, "number") || strstr(u.data, "ount"));
		if (dump && seed < 3)
			printf("# count: %s => %s\n", u.data, r.data);

		a.kind = SYNTH_INSTR_COMPARE;
		a.q2 = q2;
		a.answers2 = films2;
		a.n2 = 2;
		ling_buf_reset(&u);
		ling_buf_reset(&r);
		synth_text_instruction(tx, &a, &rng, &u, &r);
		ok_cmp &= names_all(r.data, films, 3) && names_all(r.data, films2, 2) && !strncmp(r.data, "Yes", 3) &&
			  strstr(u.data, "Ridley Scott") && strstr(u.data, "Michael Mann") && !text_fault(r.data);
		if (dump && seed < 3)
			printf("# compare: %s => %s\n", u.data, r.data);
		a.answers2 = other;
		a.n2 = 1;
		ling_buf_reset(&u);
		ling_buf_reset(&r);
		synth_text_instruction(tx, &a, &rng, &u, &r);
		ok_cmp_no &= names_all(r.data, films, 3) && strstr(r.data, "Heat") && !strncmp(r.data, "No", 2);

		memset(&a, 0, sizeof(a));
		a.kind = SYNTH_INSTR_DESCRIBE;
		a.name = "Ridley Scott";
		a.facts = facts;
		a.nfacts = sizeof(facts) / sizeof(facts[0]);
		ling_buf_reset(&u);
		ling_buf_reset(&r);
		synth_text_instruction(tx, &a, &rng, &u, &r);
		ok_desc &= strstr(u.data, "Ridley Scott") && strstr(r.data, "South Shields") &&
			   strstr(r.data, "Film Director") && strstr(r.data, "Film Producer") && strstr(r.data, "Alien") &&
			   strstr(r.data, "Gladiator") && strstr(r.data, "Grey") && strstr(r.data, "United Kingdom") &&
			   !text_fault(r.data);
		/* facts of one relation are one sentence: "Film Director and Film Producer" */
		grouped &= strstr(r.data, "Film Director and Film Producer") != NULL &&
			   strstr(r.data, "Alien and Gladiator") != NULL;
		if (dump && seed < 3)
			printf("# describe: %s => %s\n", u.data, r.data);
	}
	ok(ok_fact, "fact: question names the anchor, reply every answer");
	ok(ok_list, "list: every name");
	ok(ok_count, "count: \"How many\", the number in words and every name");
	{
		struct tree tp;
		int have = 0;

		tp.used = 0;
		q = hop(&tp, &R_PROF, 0, anchor(&tp, "Ridley Scott"));
		for (seed = 0; seed < 100; seed++) {
			struct synth_instruction_args a;
			uint64_t rng = (uint64_t)seed;

			memset(&a, 0, sizeof(a));
			a.kind = SYNTH_INSTR_COUNT;
			a.q = q;
			a.answers = films;
			a.n = 3;
			ling_buf_reset(&u);
			ling_buf_reset(&r);
			synth_text_instruction(tx, &a, &rng, &u, &r);
			have |= !strcmp(u.data, "How many professions does Ridley Scott have?");
		}
		ok(have, "count: \"How many professions does Ridley Scott have?\"");
	}
	ok(ok_cmp, "compare, shared: \"Yes\" and every name of both sides");
	ok(ok_cmp_no, "compare, disjoint: \"No\" and every name");
	ok(ok_desc, "describe: every fact");
	ok(grouped, "describe: facts grouped by relation");
	ling_buf_release(&u);
	ling_buf_release(&r);
}

static const char *data_dir(void)
{
	const char *d = getenv("LING_DATA");

	return d && *d ? d : "tests/data";
}

static void test_template_file(void)
{
	struct synth_text *tx = NULL, *base = NULL;
	struct ling_err err;
	char path[4096];
	const char *files[1];
	struct tree t;
	const struct synth_node *q;
	int rc;

	snprintf(path, sizeof(path), "%s/templates-example.json", data_dir());
	files[0] = path;
	ling_err_clear(&err);
	rc = synth_text_new(&tx, "en", files, 1, &err);
	ok(rc == 0, "the example template file loads (%s)", err.msg);
	synth_text_new(&base, "en", NULL, 0, &err);
	if (rc) {
		synth_text_free(base);
		return;
	}
	ok(synth_text_system_count(tx) == synth_text_system_count(base) + 2, "its two system prompts come in (%zu)",
	   synth_text_system_count(tx));
	{
		struct ling_buf b = LING_BUF_INIT;
		enum synth_prompt_style st;

		synth_text_system(tx, 0, NULL, &st, &b);
		ok(st == SYNTH_PROMPT_PLAIN && strstr(b.data, "example assistant"), "user prompts come first");
		ling_buf_release(&b);
	}
	t.used = 0;
	q = hop(&t, &R_MENTOR, 0, anchor(&t, "Plato"));
	ok(any_contains(tx, q, "1p", "Who mentored Plato?", 200), "a relation of the file: its question");
	ok(any_contains(tx, q, "1p", "Quick question: what is the mentor of Plato?", 200), "a 1p pattern template");
	ok(!any_contains(base, q, "1p", "mentored", 200), "without the file: no such phrase");
	t.used = 0;
	q = hop(&t, &R_MENTOR, 1, anchor(&t, "Socrates"));
	ok(any_contains(tx, q, "1p", "the students mentored by Socrates", 300), "its subject noun and restrictor");
	t.used = 0;
	q = hop(&t, &R_BIRTH, 0, anchor(&t, "Ridley Scott"));
	ok(any_contains(tx, q, "1p", "the hometown of Ridley Scott", 300), "added phrasing for a built-in relation");
	ok(any_contains(tx, q, "1p", "Where was Ridley Scott born?", 300), "built-in phrasings stay");
	t.used = 0;
	q = hop(&t, &R_NATION, 0, anchor(&t, "Ridley Scott"));
	ok(any_contains(tx, q, "1p", "Of which country is Ridley Scott a national?", 300), "replaced question list");
	ok(!any_contains(tx, q, "1p", "What nationality does Ridley Scott have?", 300), "replaced questions are gone");
	{
		struct scen s = { { { &R_BIRTH, 1, "Paris" }, { &R_NATION, 1, "France" }, { &R_NATION, 1, "x" } },
				  { &R_NATION, 0, NULL }, { &R_NATION, 0, NULL }, { &R_NATION, 0, "y" } };

		q = build(&t, "2i", &s);
		ok(any_contains(tx, q, "2i", "Which people are linked to Paris by place of birth and to France by nationality?",
				300),
		   "a 2i pattern template with {nouns}, {e1}, {r1}, {e2}, {r2}");
	}
	synth_text_free(tx);
	synth_text_free(base);

	ling_err_clear(&err);
	rc = synth_text_new(&tx, "de", NULL, 0, &err);
	ok(rc == 0 && tx, "--lang de: English templates");
	if (tx) {
		struct ling_buf b = LING_BUF_INIT;
		uint64_t rng = 1;

		t.used = 0;
		q = hop(&t, &R_BIRTH, 0, anchor(&t, "Ridley Scott"));
		synth_text_question(tx, q, "1p", &rng, &b);
		ok(b.len > 10 && strstr(b.data, "Ridley Scott"), "--lang de renders: %s", b.data);
		ling_buf_release(&b);
	}
	synth_text_free(tx);
}

/* A malformed file: the error code, line and message it must give. */
static void bad_file(const char *dir, const char *text, int code, long line, const char *msg_part, const char *what)
{
	struct synth_text *tx = NULL;
	struct ling_err err;
	char path[4096];
	const char *files[1];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/bad.json", dir);
	f = fopen(path, "w");
	if (!f) {
		ok(0, "%s: cannot write %s", what, path);
		return;
	}
	fputs(text, f);
	fclose(f);
	files[0] = path;
	ling_err_clear(&err);
	rc = synth_text_new(&tx, "en", files, 1, &err);
	ok(rc == code && !tx && err.code == code && err.line == line && !strcmp(err.file, path) &&
		   strstr(err.msg, msg_part),
	   "%s: %s:%ld:%ld: %s", what, err.file, err.line, err.col, err.msg);
	unlink(path);
}

static void test_bad_files(void)
{
	const char *tmp = getenv("TMPDIR");
	char dir[4096];
	struct synth_text *tx = NULL;
	struct ling_err err;
	const char *missing[] = { "/nonexistent/templates.json" };

	snprintf(dir, sizeof(dir), "%s/test_synth_text.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	bad_file(dir, "{\n  \"relations\": {\n    \"urn:a\": {\"forward\": [\"the a of {x}\",]}\n  }\n}\n", LING_EDATA, 3,
		 "", "a JSON syntax error");
	bad_file(dir, "{\n  \"relations\": {\n    \"urn:a\": {\n      \"forward\": [\"the a of {y}\"]\n    }\n  }\n}\n",
		 LING_EDATA, 4, "unknown placeholder", "an unknown placeholder");
	bad_file(dir, "{\n  \"relations\": {\n    \"urn:a\": {\n      \"inverse\": [\"with no slot\"]\n    }\n  }\n}\n",
		 LING_EDATA, 4, "required placeholder", "a restrictor without {x}");
	bad_file(dir, "{\n  \"relations\": {\n    \"urn:a\": {\n      \"statements\": [\"who {s:was|were} led by {o}\"]\n    }\n  }\n}\n",
		 LING_EDATA, 4, "required placeholder", "a statement that only agrees with {s} but never names it");
	bad_file(dir, "{\n  \"relations\": {\n    \"urn:a\": {\n      \"statements\": [\"{s} is {o\"]\n    }\n  }\n}\n",
		 LING_EDATA, 4, "without", "an unclosed brace");
	bad_file(dir, "{\n  \"relations\": {\n    \"urn:a\": {\n      \"forward\": [\"the  a of {x}\"]\n    }\n  }\n}\n",
		 LING_EDATA, 4, "double spaces", "a double space");
	bad_file(dir, "{\n  \"relations\": {\n    \"urn:a\": {\n      \"forwards\": [\"the a of {x}\"]\n    }\n  }\n}\n",
		 LING_EDATA, 4, "unknown key \"forwards\"", "a misspelt key");
	bad_file(dir, "{\n  \"questions\": {\n    \"2p\": [\"What is {e2}?\"]\n  }\n}\n", LING_EDATA, 3,
		 "unknown placeholder", "a 2p template naming a second anchor");
	bad_file(dir, "{\n  \"questions\": {\n\n    \"4p\": [\"What?\"]\n  }\n}\n", LING_EDATA, 4, "unknown pattern",
		 "an unknown pattern");
	bad_file(dir, "{\n  \"system\": [\n    {\"style\": \"chatty\", \"text\": \"Hi.\"}\n  ]\n}\n", LING_EDATA, 3,
		 "style", "a bad prompt style");
	bad_file(dir, "{\n  \"system\": [\n    {\"style\": \"plain\", \"text\": \"Hi.\", \"tools\": \"no slot\"}\n  ]\n}\n",
		 LING_EDATA, 3, "{tools}", "a tools paragraph without {tools}");
	bad_file(dir, "[1, 2]\n", LING_EDATA, 1, "one JSON object", "not an object");
	bad_file(dir, "{\"relations\": {}, \"relations\": {}}\n", LING_EDATA, 1, "", "a duplicate key");
	bad_file(dir, "{\n\"replace_system\": true\n}\n", LING_EDATA, 2, "no file so far", "replace_system without prompts");
	ling_err_clear(&err);
	ok(synth_text_new(&tx, "en", missing, 1, &err) == LING_EIO && !tx, "a missing file: LING_EIO (%s)", err.msg);
	rmdir(dir);
}

int main(void)
{
	struct synth_text *tx = NULL;
	struct ling_err err;
	const char *d = getenv("SYNTH_TEXT_DUMP");

	dump = d && *d == '1';
	ling_err_clear(&err);
	ok(synth_text_new(&tx, "en", NULL, 0, &err) == 0 && tx, "built-in templates load");
	if (!tx)
		return done_testing();
	{
		uint64_t a = 7, b = 7;
		uint32_t i, below = 1;

		for (i = 0; i < 1000; i++)
			below &= ling_rand_below(&a, 10) < 10;
		ok(below && ling_rand_next(&b) != ling_rand_next(&b), "synth_rand advances, synth_rand_below stays below n");
	}
	test_builtin_lexicon(tx);
	test_patterns(tx);
	test_phrasings(tx);
	test_determinism(tx);
	test_answers(tx);
	test_followup_thought_irrelevant(tx);
	test_system(tx);
	test_instructions(tx);
	synth_text_free(tx);
	test_template_file();
	test_bad_files();
	return done_testing();
}
