/*
 * libFuzzer target: synth_text_new on the input as a user template file
 * (doc/kg2samples-templates.md). The loader takes paths, so the input is
 * written to one temporary file per process (removed at exit). When it
 * loads, the questions of all 14 patterns are rendered over relations the
 * file words (the first keys of its "relations", then a built-in and an
 * unknown relation), forward and inverse, with answers, follow-ups,
 * irrelevance replies, thoughts, descriptions and every system prompt.
 *
 * Checks: a failed load returns a negative code with err set to it and a
 * message, and no synth_text; a question or answer is non-empty valid UTF-8
 * with no placeholder left (the loader lets braces in templates be
 * placeholders only); an answer names every answer; the same random state
 * gives the same bytes twice. Run by tests/t1900-fuzz.sh.
 */
#include "common/ling_err.h"
#include "common/ling_mem.h"
#include "common/ling_utf8.h"
#include "synth/synth_text_internal.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const patterns[] = { "1p", "2p",  "3p",  "2i",  "3i",  "ip",  "pi",
					"2u", "up", "2in", "3in", "inp", "pin", "pni" };
#define NPATTERNS (sizeof(patterns) / sizeof(patterns[0]))
#define NRELS 3

static char path[] = "/tmp/ling-fuzz-templates-XXXXXX";

static void remove_file(void)
{
	unlink(path);
}

static void write_input(const uint8_t *data, size_t size)
{
	static int made;
	int fd;

	if (!made) {
		if ((fd = mkstemp(path)) < 0) {
			perror("fuzz: mkstemp");
			abort();
		}
		close(fd);
		atexit(remove_file);
		made = 1;
	}
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || close(fd)) {
		perror("fuzz: writing the template file");
		abort();
	}
}

struct tree {
	struct synth_node n[16];
	int used;
};

static struct synth_node *mk(struct tree *t, enum synth_op op, const struct synth_node *a,
			     const struct synth_node *b, const struct synth_node *c)
{
	struct synth_node *n = &t->n[t->used++];

	memset(n, 0, sizeof(*n));
	n->op = op;
	n->kid[0] = a;
	n->kid[1] = b;
	n->kid[2] = c;
	n->nkids = !!a + !!b + !!c;
	return n;
}

static const struct synth_node *hop(struct tree *t, const struct synth_rel_words *r, int inverse,
				    const struct synth_node *kid)
{
	struct synth_node *n = mk(t, SYNTH_HOP, kid, NULL, NULL);

	n->rel = r;
	n->inverse = inverse;
	return n;
}

static const struct synth_node *leaf(struct tree *t, const struct synth_rel_words *r, int inverse, const char *name)
{
	struct synth_node *a = mk(t, SYNTH_ANCHOR, NULL, NULL, NULL);

	a->name = name;
	return hop(t, r, inverse, a);
}

static const struct synth_node *set(struct tree *t, enum synth_op op, const struct synth_node *a,
				    const struct synth_node *b, const struct synth_node *c, int negmask)
{
	struct synth_node *n = mk(t, op, a, b, c);

	n->negated[0] = negmask & 1;
	n->negated[1] = (negmask >> 1) & 1;
	n->negated[2] = (negmask >> 2) & 1;
	return n;
}

/* The query of pattern p over relations r (r[0] at the anchors, r[1] and r[2] above), with inv flipping all. */
static const struct synth_node *build(struct tree *t, const char *p, const struct synth_rel_words *r, int inv)
{
	const struct synth_node *b0, *b1;

	t->used = 0;
	b0 = leaf(t, &r[0], inv, "Plato");
	if (!strcmp(p, "1p"))
		return b0;
	if (!strcmp(p, "2p"))
		return hop(t, &r[1], !inv, b0);
	if (!strcmp(p, "3p"))
		return hop(t, &r[2], inv, hop(t, &r[1], !inv, b0));
	b1 = leaf(t, &r[1], inv, "S\xC3\xB3krat\xC4\x93s");
	if (!strcmp(p, "2i") || !strcmp(p, "2in") || !strcmp(p, "2u"))
		return set(t, p[1] == 'u' ? SYNTH_OR : SYNTH_AND, b0, b1, NULL, p[2] ? 2 : 0);
	if (!strcmp(p, "ip") || !strcmp(p, "inp") || !strcmp(p, "up"))
		return hop(t, &r[2], inv, set(t, p[0] == 'u' ? SYNTH_OR : SYNTH_AND, b0, b1, NULL, p[1] == 'n' ? 2 : 0));
	if (!strcmp(p, "3i") || !strcmp(p, "3in"))
		return set(t, SYNTH_AND, b0, b1, leaf(t, &r[2], inv, "Aristotle"), p[2] ? 4 : 0);
	return set(t, SYNTH_AND, hop(t, &r[0], inv, leaf(t, &r[2], !inv, "Athens")), b1, NULL,
		   !strcmp(p, "pi") ? 0 : !strcmp(p, "pin") ? 2 : 1);
}

static void fail(const char *what, const char *pattern, const struct ling_buf *b)
{
	fprintf(stderr, "fuzz: %s (%s): %.*s\n", what, pattern, (int)b->len, b->data ? b->data : "");
	abort();
}

/* A rendered text: non-empty, valid UTF-8, no placeholder left, naming each of the n names. */
static void check_text(const struct ling_buf *b, const char *what, const char *const *names, size_t n)
{
	size_t i;

	if (!b->len || ling_utf8_valid_prefix(b->data, b->len) != b->len)
		fail("empty or not valid UTF-8", what, b);
	if (memchr(b->data, '{', b->len) || memchr(b->data, '}', b->len))
		fail("a placeholder is left", what, b);
	for (i = 0; i < n; i++)
		if (!strstr(b->data, names[i]))
			fail("an answer is not named", what, b);
}

/* Renders with fn twice from the same random state; the two must be equal. */
#define TWICE(b, seed, call)                                                                  \
	do {                                                                                  \
		struct ling_buf again_ = LING_BUF_INIT;                                       \
		uint64_t rng;                                                                 \
		ling_buf_reset(b);                                                            \
		rng = (seed);                                                                 \
		{                                                                             \
			struct ling_buf *out = (b);                                           \
			call;                                                                 \
		}                                                                             \
		rng = (seed);                                                                 \
		{                                                                             \
			struct ling_buf *out = &again_;                                       \
			call;                                                                 \
		}                                                                             \
		if (again_.len != (b)->len || ((b)->len && memcmp(again_.data, (b)->data, (b)->len))) \
			fail("the same seed gives other text", #call, (b));                   \
		ling_buf_release(&again_);                                                    \
	} while (0)

static void render_all(const struct synth_text *tx, const struct synth_rel_words *r, uint64_t seed)
{
	static const char *const one[] = { "Athens" }, *const three[] = { "Athens", "Sparta", "\xCE\x98\xCE\xAE\xCE\xB2\xCE\xB1" };
	const struct synth_rel_words *const offered[] = { &r[0], &r[1] };
	struct synth_fact facts[NRELS * 2];
	struct synth_instruction_args ia;
	struct ling_buf b = LING_BUF_INIT, user = LING_BUF_INIT;
	struct tree t, t2;
	size_t p, i;
	int inv;

	for (inv = 0; inv < 2; inv++) {
		for (p = 0; p < NPATTERNS; p++) {
			const struct synth_node *q = build(&t, patterns[p], r, inv);

			TWICE(&b, seed + p, synth_text_question(tx, q, patterns[p], &rng, out));
			check_text(&b, patterns[p], NULL, 0);
			TWICE(&b, seed + p, synth_text_answer(tx, q, p & 1 ? three : one, p & 1 ? 3 : 1, &rng, out));
			check_text(&b, patterns[p], p & 1 ? three : one, p & 1 ? 3 : 1);
			TWICE(&b, seed + p, synth_text_answer_part(tx, q, three, 2, &rng, out));
			check_text(&b, patterns[p], three, 2);
			TWICE(&b, seed + p, synth_text_irrelevant_tools(tx, q, offered, p % 3, &rng, out));
			check_text(&b, patterns[p], NULL, 0);
			{
				const struct synth_step st[3] = {
					{ SYNTH_STEP_HOP, &r[0], inv, "Athens", 0, 1 },
					{ SYNTH_STEP_HOP, &r[1], !inv, NULL, 0, 1 + p % 4 },
					{ p & 1 ? SYNTH_STEP_AND : SYNTH_STEP_MINUS, NULL, 0, NULL, 0, 2 },
				};

				TWICE(&b, seed + p, synth_text_step_thought(tx, st + p % 2, 1 + p % 2, (unsigned)(1 + p % 3),
									    p & 1, &rng, out));
				check_text(&b, "thought", NULL, 0);
			}
		}
		TWICE(&b, seed, synth_text_followup(tx, build(&t, "1p", r, inv), build(&t2, "1p", r + 1, !inv), &rng, out));
		check_text(&b, "followup", NULL, 0);
		TWICE(&b, seed, synth_text_irrelevant(tx, build(&t, "2p", r, inv), &rng, out));
		check_text(&b, "irrelevant", NULL, 0);
	}
	for (i = 0; i < NRELS * 2; i++) {
		facts[i].rel = &r[i / 2];
		facts[i].inverse = i & 1;
		facts[i].other = three[i % 3];
	}
	memset(&ia, 0, sizeof(ia));
	ia.kind = SYNTH_INSTR_DESCRIBE;
	ia.name = "Plato";
	ia.facts = facts;
	ia.nfacts = NRELS * 2;
	ling_buf_reset(&user);
	TWICE(&b, seed, synth_text_instruction(tx, &ia, &rng, &user, out));
	check_text(&b, "describe", three, 3);
	memset(&ia, 0, sizeof(ia));
	ia.kind = SYNTH_INSTR_COMPARE;
	ia.q = build(&t, "1p", r, 0);
	ia.q2 = build(&t2, "1p", r, 1);
	ia.answers = three;
	ia.n = 3;
	ia.answers2 = one;
	ia.n2 = 1;
	ling_buf_reset(&user);
	TWICE(&b, seed, synth_text_instruction(tx, &ia, &rng, &user, out));
	check_text(&b, "compare", NULL, 0);
	for (i = 0; i < synth_text_system_count(tx); i++) {
		enum synth_prompt_style style;

		ling_buf_reset(&b);
		synth_text_system(tx, i, "[{\"type\":\"function\"}]", &style, &b);
		if (!b.len || ling_utf8_valid_prefix(b.data, b.len) != b.len)
			fail("a system prompt is empty or not valid UTF-8", "system", &b);
	}
	ling_buf_release(&b);
	ling_buf_release(&user);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct synth_rel_words r[NRELS] = {
		{ "http://rdf.freebase.com/ns/people.person.place_of_birth", "place of birth", "person", "location", 0 },
		{ "http://example.org/ns/taughtAt", "taught at", "teacher", "school", SYNTH_FORM_PREP },
		{ "http://example.org/ns/founds", "founds", "person", "school", SYNTH_FORM_VERB },
	};
	const char *files[1] = { path };
	struct synth_text *tx = (struct synth_text *)1;
	struct ling_err err;
	json_t *root, *def;
	const char *iri;
	size_t nr = 0, i;
	uint64_t seed = 0;
	int rc;

	write_input(data, size);
	ling_err_clear(&err);
	rc = synth_text_new(&tx, "en", files, 1, &err);
	if (rc) {
		if (rc >= 0 || rc != err.code || !err.msg[0] || tx) {
			fprintf(stderr, "fuzz: a failed load without err set (rc %d, code %d)\n", rc, err.code);
			abort();
		}
		return 0;
	}
	/* The file's relations replace the first ones; it loaded, so it is a JSON object. */
	root = json_loadb((const char *)data, size, 0, NULL);
	json_object_foreach(json_object_get(root, "relations"), iri, def) {
		if (nr < NRELS)
			r[nr++].iri = iri;
	}
	for (i = 0; i < size; i++)
		seed = seed * 31 + data[i];
	render_all(tx, r, seed);
	json_decref(root);
	synth_text_free(tx);
	return 0;
}
