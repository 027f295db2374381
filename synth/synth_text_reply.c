/*
 * synth_text_reply: the assistant's side of the words, and the instruction
 * samples: answers naming every result, follow-up questions, replies when
 * no tool fits, ReAct thoughts, system prompts, and fact, list, count,
 * compare and describe samples (see synth_text_internal.h). It renders through the
 * context of synth_text.c.
 */
#include "synth_text_render_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

/* ---- answers */

static const char *const ans_prefix[] = {
	"According to the knowledge graph, ", "Based on the results, ", "From the tool results: ", "I checked, and ",
	"Here's what I found: ", "The lookup shows that ", "Per the knowledge graph, ", "After checking, ",
	"Looking at the results, ", "It turns out that ", "Sure. ", "Good question. ", "Done. ", "The data says ",
	"Going by the knowledge graph, ", "OK, so ", "Here you go: ", "Right, ", "The tools report that ",
	"From what the graph returns, ", "Let me summarise: ", "All right. ", "Short answer: ", "In brief, ",
	"Here is the answer. ", "Thanks for waiting. ", "The search is done. ", "Great question! ", "Found it. ",
	"Checking the graph, ", "So, ", "Now I can answer. ", "The facts say that ", "As far as the graph knows, ",
	"Here's the result. ", "Happy to help. ", "The answer: ", "Okay. ", "Let me report back: ", "Well, ",
	"From my lookup, ", "The calls are done. ", "I've got it. ", "Answer: ", "To sum up, ", "All done. ",
	"The graph shows that ", "In the knowledge graph, ", "Having checked, ",
};

/* A closing sentence, sometimes, after an answer that is not one of several. */
static const char *const ans_close[] = {
	" Let me know if you need anything else.", " Hope that helps!", " Anything else you'd like to know?",
	" I can look up more details if you like.", " Happy to dig further if needed.", " Want me to check anything else?",
	" That's everything the knowledge graph has on it.", " Those are all the results.",
};

static int statement(struct synth_tx_ctx *c, const struct synth_node *q, const char *const *answers, size_t n)
{
	const struct synth_tpl *t;
	struct synth_tx_slots sl;

	if (q->op != SYNTH_HOP || q->kid[0]->label || !synth_tx_lex_of(c, q->rel) || !synth_tx_lex_of(c, q->rel)->stmt.n)
		return 0;
	t = synth_tx_choose(c, q->rel, L_STMT,
		   q->kid[0]->op == SYNTH_ANCHOR ? 0 : q->inverse ? SYNTH_TPL_NAME_O : SYNTH_TPL_NAME_S, 0);
	if (!t)
		return 0;
	synth_tx_slots_init(&sl, 0);
	if (!q->inverse) {
		synth_tx_slot_node(&sl, "s", SL_NODE, q->kid[0], synth_tx_node_plural(c, q->kid[0]));
		synth_tx_slot_list(&sl, "o", answers, n);
	} else {
		synth_tx_slot_list(&sl, "s", answers, n);
		synth_tx_slot_node(&sl, "o", SL_NODE, q->kid[0], synth_tx_node_plural(c, q->kid[0]));
	}
	synth_tx_slot_str(&sl, "p", SL_TEXT, synth_tx_phrase_of(q->rel), 0);
	synth_tx_slot_str(&sl, "v", SL_VERB, synth_tx_phrase_of(q->rel), sl.v[0].plural);
	sl.dflt = 0;
	synth_tx_expand_tpl(c, t, &sl);
	return 1;
}

/* Many answers as a list: "I found 5 films:\n- A\n- B ...". */
static void bullets(struct synth_tx_ctx *c, const struct synth_tx_slots *sl, const char *const *answers, size_t n)
{
	static const char *const heads[] = { "{np} are:", "I found {N} {nouns}:", "here are {np}:", "the results ({N} in all):",
					     "{N} {nouns} match:" };
	const char *f = PICK(c, heads);
	size_t i;

	if (strstr(f, "noun") && !strcmp(synth_tx_slot_find(sl, "noun", 4)->str, "entity"))
		f = "the results ({N} in all):";
	synth_tx_expands(c, f, sl);
	for (i = 0; i < n; i++) {
		synth_tx_lits(c, "\n- ");
		synth_tx_name(c, answers[i]);
	}
}

/*
 * The answer in a sentence. Most frames name what was asked ({np}, or a
 * statement of the relation), so that an answer also reads right next to
 * others (parallel calls); some are short ("The only one is X.").
 */
/* Whether frame f says where the answer comes from, or leans on what comes before it ("that's X"). */
static int frame_attributed(const char *f)
{
	return strstr(f, "graph") || strstr(f, "result") || strstr(f, "search") || !strncmp(f, "that", 4);
}

/*
 * A frame of list v[0..n) (v[0] is a plain clause). prefixed: 1 after a
 * prefix that ends a sentence ("Sure. "), 2 after one that a clause must
 * complete ("The graph shows that "); then a frame that does not attribute
 * the answer again, and for 2 a whole clause (no "just one: X").
 */
static const char *pick_frame(struct synth_tx_ctx *c, const char *const *v, size_t n, int prefixed)
{
	const char *f = v[synth_tx_pick(c, n)];

	if (prefixed && frame_attributed(f))
		return v[0];
	if (prefixed == 2 && (strchr(f, ':') || strchr(f, '?')))
		return v[0];
	return f;
}

#define FRAME(c, arr, prefixed) pick_frame((c), (arr), sizeof(arr) / sizeof((arr)[0]), (prefixed))

/*
 * self_contained: one answer among several (parallel); prefixed: after an
 * ans_prefix. @return 1 when it ended in a bulleted list (no closing sentence then).
 */
static int answer_sentence(struct synth_tx_ctx *c, const struct synth_node *q, const char *const *answers, size_t n,
			   int self_contained, int prefixed)
{
	static const char *const sing_one[] = {
		"{np} is {a}", "{a} is {np}", "{np} is {a}, according to the results", "the answer is {a}",
		"it's {a}", "that would be {a}", "{np} is {a}, per the knowledge graph", "{np} turns out to be {a}",
		"the knowledge graph says {np} is {a}", "the result is {a}", "you're looking for {a}",
		"the graph lists {a} as {np}", "{np}: {a}", "that's {a}", "the one you want is {a}",
	};
	static const char *const sing_many[] = {
		"{np} {are} {a}", "there are {N} answers: {a}", "the answers are {a}", "I found {N}: {a}",
		"{N} results came back: {a}", "the graph lists {N}: {a}", "there is more than one: {a}",
		"the knowledge graph gives {N} answers: {a}", "{np}? There are {N}: {a}", "{N} match: {a}",
	};
	static const char *const plur_one[] = {
		"the only one of {np} is {a}", "the only one is {a}", "there is only one: {a}", "I found just one {noun}: {a}",
		"{a} is the only one", "just one: {a}", "only {a} fits", "it's only {a}", "I found a single {noun}: {a}",
		"there's exactly one {noun}: {a}", "only one {noun} matches: {a}", "{a} is the only {noun} that fits",
		"{a} is the only one of {np}", "the search turned up one {noun}, {a}", "of {np}, there is only {a}",
		"a single result: {a}", "the graph has one {noun} for this: {a}",
	};
	static const char *const plur_many[] = {
		"{np} are {a}", "{np} are {a}, {N} in all", "there are {N} of them: {a}", "I found {N} {nouns}: {a}",
		"the answer consists of {N} {nouns}: {a}", "here are {np}: {a}", "{a} are {np}", "the {N} {nouns} are {a}",
		"I count {N} {nouns}: {a}", "the results list {N} {nouns}: {a}", "{N} {nouns} match: {a}",
		"in total, {N} {nouns}: {a}", "the knowledge graph returns {N} {nouns}: {a}", "{np}: {a}",
		"{N} of them: {a}", "there are {N}: {a}",
	};
	static const char *const named_one[] = { "{np} {are} {a}", "{a} {are} {np}", "{np}: {a}", "as for {np}, it's {a}",
						 "{np} turns out to be {a}" };
	static const char *const named_many[] = { "{np} are {a}", "{np} are {a}, {N} in all", "{np}: {a}",
						  "as for {np}, there are {N}: {a}", "{N} for {np}: {a}" };
	static const char *const named_plur_one[] = { "the only one of {np} is {a}", "{np}: just {a}",
						      "{a} is the only one of {np}", "as for {np}, there is only {a}" };
	int plural = synth_tx_node_plural(c, q);
	const char *nn = synth_tx_node_noun(c, q);
	struct synth_tx_slots sl;
	const char *f;

	if (n && synth_tx_pick(c, 2) && statement(c, q, answers, n)) {
		synth_tx_lits(c, ".");
		return 0;
	}
	synth_tx_slots_init(&sl, n != 1);
	synth_tx_slot_node(&sl, "np", SL_NODE, q, plural);
	synth_tx_slot_list(&sl, "a", answers, n);
	synth_tx_slot_add(&sl, "N", SL_NUM, n > 1)->n = n;
	synth_tx_slot_str(&sl, "noun", SL_NOUN, nn, 0);
	synth_tx_slot_str(&sl, "nouns", SL_NOUN, nn, 1);
	synth_tx_slot_str(&sl, "are", SL_TEXT, n != 1 ? "are" : "is", 0);
	if (self_contained)
		f = n == 1 && !plural ? FRAME(c, named_one, prefixed) : FRAME(c, named_many, prefixed);
	else if (!plural)
		f = n == 1 ? FRAME(c, sing_one, prefixed) : FRAME(c, sing_many, prefixed);
	else
		f = n == 1 ? FRAME(c, plur_one, prefixed) : FRAME(c, plur_many, prefixed);
	if (self_contained && n == 1 && plural)
		f = FRAME(c, named_plur_one, prefixed);
	if (!strcmp(nn, "entity") && strstr(f, "noun"))
		f = n == 1 ? "the answer is {a}" : "the answers are {a}";
	if (!self_contained && n >= 4 && !synth_tx_pick(c, 6)) {
		bullets(c, &sl, answers, n);
		return 1;
	}
	synth_tx_expands(c, f, &sl);
	synth_tx_lits(c, ".");
	return 0;
}

void synth_text_answer(const struct synth_text *tx, const struct synth_node *q, const char *const *answers,
		       size_t n, uint64_t *rng, struct ling_buf *out)
{
	struct synth_tx_ctx c;

	int prefixed = 0;

	synth_tx_ctx_init(&c, tx, rng, out);
	if (synth_tx_pick(&c, 5) < 2) {
		const char *p = PICK(&c, ans_prefix);

		synth_tx_lits(&c, p);
		/* after ": ", ". " or "! " a new sentence starts; after ", " or "that " a clause goes on */
		prefixed = strchr(":.!", p[strlen(p) - 2]) ? 1 : 2;
		c.cap = prefixed == 1 ? CAP_UP : CAP_NONE;
	}
	if (!answer_sentence(&c, q, answers, n, 0, prefixed) && !synth_tx_pick(&c, 6))
		synth_tx_lits(&c, PICK(&c, ans_close));
}

void synth_text_answer_part(const struct synth_text *tx, const struct synth_node *q, const char *const *answers,
			    size_t n, uint64_t *rng, struct ling_buf *out)
{
	struct synth_tx_ctx c;

	synth_tx_ctx_init(&c, tx, rng, out);
	answer_sentence(&c, q, answers, n, 1, 0);
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
	if (a->op == SYNTH_HOP && !synth_tx_same_rel(a, b))
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
	struct synth_tx_ctx c;
	const char *f;

	synth_tx_ctx_init(&c, tx, rng, out);
	if (q1 && same_shape(q1, q2, diff, &nd) && nd >= 1 && nd <= 3) {
		const char *ds[3];
		struct synth_tx_slots sl;

		for (i = 0; i < nd; i++)
			ds[i] = diff[i]->name;
		synth_tx_slots_init(&sl, nd > 1);
		synth_tx_slot_list(&sl, "d", ds, (size_t)nd);
		synth_tx_expands(&c, PICK(&c, about), &sl);
		return;
	}
	f = PICK(&c, lead);
	synth_tx_lits(&c, f);
	c.cap = f[0] == 'A' ? CAP_DOWN : CAP_UP;
	synth_tx_question(&c, q2);
}

/* ---- irrelevance */

/* A relation in general: "the place of birth of a person", "the films directed by a given person". */
static void relation_in_general(struct synth_tx_ctx *c, const struct synth_rel_words *rw, int inverse)
{
	const char *noun = inverse ? synth_tx_object_of(c, rw) : synth_tx_subject_of(c, rw);
	struct ling_buf x = LING_BUF_INIT;
	struct synth_node h;
	struct synth_tx_slot xs;

	ling_buf_adds(&x, inverse ? "a given " : strchr("aeiouAEIOU", noun[0]) ? "an " : "a ");
	ling_buf_adds(&x, noun);
	memset(&h, 0, sizeof(h));
	h.op = SYNTH_HOP;
	h.rel = rw;
	h.inverse = inverse;
	memset(&xs, 0, sizeof(xs));
	xs.kind = SL_TEXT;
	xs.str = x.data;
	synth_tx_hop_with(c, &h, &xs, inverse);
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
		"Sorry, that's outside what my tools can do.",
		"That question is beyond the functions available to me.",
		"My tools don't reach that kind of fact, I'm afraid.",
		"There's no function here that answers this.",
		"I looked at the tools I have, and none fits this question.",
	};
	static const char *const close[] = {
		" I'd rather not guess, so I can't give you a reliable answer.",
		" If you give me a tool for that, I'll gladly look it up.",
		" You may want to check another source for this.",
		" Without a suitable tool I can't verify an answer, so I won't guess.",
		"",
	};
	const struct synth_node *top = q;
	struct synth_tx_ctx c;
	size_t i, k, start;

	synth_tx_ctx_init(&c, tx, rng, out);
	synth_tx_lits(&c, PICK(&c, intro));
	while (top->op == SYNTH_AND || top->op == SYNTH_OR)
		top = top->kid[0];
	if (noffered) {
		k = noffered < 3 ? noffered : 3;
		start = synth_tx_pick(&c, noffered);
		synth_tx_lits(&c, synth_tx_pick(&c, 2) ? " The tools I have can look up " : " My tools only cover ");
		c.cap = CAP_NONE;
		for (i = 0; i < k; i++) {
			if (i)
				synth_tx_lits(&c, i + 1 == k ? " and " : ", ");
			relation_in_general(&c, offered[(start + i) % noffered], 0);
		}
		if (noffered > k)
			synth_tx_lits(&c, ", among others");
		synth_tx_lits(&c, ", but none of them gives ");
	} else {
		synth_tx_lits(&c, synth_tx_pick(&c, 2) ? " They look up other relations in the knowledge graph, but none of them gives "
				     : " The tools only cover other relations, and none of them returns ");
	}
	c.cap = CAP_NONE;
	if (top->op == SYNTH_HOP)
		relation_in_general(&c, top->rel, top->inverse);
	else
		synth_tx_lits(&c, "this kind of information");
	synth_tx_lits(&c, ".");
	synth_tx_lits(&c, PICK(&c, close));
}

void synth_text_irrelevant(const struct synth_text *tx, const struct synth_node *q, uint64_t *rng,
			   struct ling_buf *out)
{
	synth_text_irrelevant_tools(tx, q, NULL, 0, rng, out);
}

/* ---- ReAct thoughts */

/* "those three films", "this person": the names a hop step starts from, found by an earlier turn. */
static void found_phrase(const struct synth_tx_ctx *c, const struct synth_step *st, struct ling_buf *out)
{
	static const char *const these[] = { "those ", "each of those ", "these ", "each of these " };
	static const char *const few[] = { "", "", "two ", "three ", "four ", "five ", "six ", "seven ", "eight " };
	struct synth_tx_ctx sub = *c;

	sub.out = out;
	sub.cap = CAP_NONE;
	if (st->n > 1) {
		synth_tx_lits(&sub, PICK(&sub, these));
		if (st->n < sizeof(few) / sizeof(few[0]) && synth_tx_pick(&sub, 2))
			synth_tx_lits(&sub, few[st->n]);
	} else {
		synth_tx_lits(&sub, "this "); /* "that" would meet the "that" of "the films that {x} wrote" */
	}
	synth_tx_noun(&sub, st->inverse ? synth_tx_object_of(c, st->rel) : synth_tx_subject_of(c, st->rel), st->n > 1);
}

/* "the writers of those 3 films", "the films directed by Ridley Scott": where a hop step leads. */
static void step_target(struct synth_tx_ctx *c, const struct synth_step *st)
{
	struct synth_node h, a;
	struct synth_tx_slot xs;
	struct ling_buf found = LING_BUF_INIT;

	memset(&h, 0, sizeof(h));
	h.op = SYNTH_HOP;
	h.rel = st->rel;
	h.inverse = st->inverse;
	h.nkids = 1;
	memset(&a, 0, sizeof(a));
	a.op = SYNTH_ANCHOR;
	a.name = st->name;
	a.label = st->label;
	h.kid[0] = &a;
	memset(&xs, 0, sizeof(xs));
	if (st->name) {
		xs.kind = SL_NODE;
		xs.node = &a;
		synth_tx_hop_with(c, &h, &xs, synth_tx_node_plural(c, &h));
		return;
	}
	found_phrase(c, st, &found);
	xs.kind = SL_TEXT;
	xs.str = found.data;
	xs.plural = st->n > 1;
	synth_tx_hop_with(c, &h, &xs, st->n > 1 || synth_tx_node_plural(c, &h));
	ling_buf_release(&found);
}

static void step_words(struct synth_tx_ctx *c, const struct synth_step *st)
{
	static const char *const hop_verbs[] = { "find ", "look up ", "get ", "retrieve ", "fetch " };
	static const char *const searches[] = { "find the exact name the graph uses for \"{n}\"",
						"look up which entity \"{n}\" refers to",
						"resolve the name \"{n}\" with a search" };
	static const char *const ands[] = { "intersect the lists", "keep only what the lists have in common",
					    "find the overlap between the lists", "take the intersection of the results" };
	static const char *const ors[] = { "combine the lists into one", "take the union of the lists",
					   "merge the results" };
	static const char *const minus[] = { "remove the excluded ones from the list",
					     "take everything in the excluded list out of the other",
					     "subtract the excluded results" };
	struct synth_tx_slots sl;

	switch (st->kind) {
	case SYNTH_STEP_SEARCH:
		synth_tx_slots_init(&sl, 0);
		synth_tx_slot_str(&sl, "n", SL_NAME, st->name, 0);
		synth_tx_expands(c, PICK(c, searches), &sl);
		return;
	case SYNTH_STEP_HOP:
		synth_tx_lits(c, PICK(c, hop_verbs));
		step_target(c, st);
		return;
	case SYNTH_STEP_AND: synth_tx_lits(c, PICK(c, ands)); return;
	case SYNTH_STEP_OR: synth_tx_lits(c, PICK(c, ors)); return;
	case SYNTH_STEP_MINUS: synth_tx_lits(c, PICK(c, minus)); return;
	}
}

/* A word on what the previous turn gave, from what this one starts from. */
static void step_ack(struct synth_tx_ctx *c, const struct synth_step *steps, size_t n)
{
	static const char *const plain[] = { "Got it. ", "OK. ", "Good. ", "", "That worked. ", "" };
	size_t i;

	for (i = 0; i < n; i++) {
		const struct synth_step *st = &steps[i];

		if (st->kind == SYNTH_STEP_HOP && st->name && synth_tx_pick(c, 2)) {
			/* a name of the question used only now: the search found it */
			synth_tx_lits(c, "The search found ");
			synth_tx_name(c, st->name);
			synth_tx_lits(c, ". ");
			return;
		}
		if (st->kind == SYNTH_STEP_HOP && !st->name && synth_tx_pick(c, 3)) {
			const char *noun = st->inverse ? synth_tx_object_of(c, st->rel) : synth_tx_subject_of(c, st->rel);
			struct synth_tx_slots sl;

			synth_tx_slots_init(&sl, st->n != 1);
			synth_tx_slot_add(&sl, "N", SL_NUM, st->n != 1)->n = st->n;
			synth_tx_slot_str(&sl, "nn", SL_NOUN, noun, st->n != 1);
			synth_tx_expands(c, synth_tx_pick(c, 2) ? "That gives me {N} {nn}. " : "I now have {N} {nn}. ", &sl);
			return;
		}
	}
	if (n && steps[0].kind != SYNTH_STEP_HOP && synth_tx_pick(c, 2)) {
		synth_tx_lits(c, "Now I have all the lists I need. ");
		return;
	}
	synth_tx_lits(c, PICK(c, plain));
}

void synth_text_step_thought(const struct synth_text *tx, const struct synth_step *steps, size_t n, unsigned turn,
			     int last, uint64_t *rng, struct ling_buf *out)
{
	static const char *const only[] = { "I need to ", "To answer this, I'll ", "Let me ", "I can ",
					    "The tools can answer this directly. I'll ", "One round of calls is enough: I'll " };
	static const char *const first[] = { "First, I'll ", "To begin, I need to ", "The first step is to ",
					     "I should first ", "Let me first ", "My first move is to " };
	static const char *const next[] = { "Next, I'll ", "Now I need to ", "The next step is to ", "Now I can ",
					    "Then I have to " };
	static const char *const final[] = { "Finally, I'll ", "The last step is to ", "All that's left is to ",
					     "To finish, I'll ", "Now I just need to " };
	static const char *const together[] = { " These calls don't depend on each other, so I'll make them at once.",
						" I can do these in parallel.", "", "" };
	struct synth_tx_ctx c;
	size_t i;

	synth_tx_ctx_init(&c, tx, rng, out);
	synth_tx_lits(&c, "Thought: ");
	c.cap = CAP_UP;
	if (turn > 1)
		step_ack(&c, steps, n);
	c.cap = CAP_UP;
	synth_tx_lits(&c, turn == 1 ? (last ? PICK(&c, only) : PICK(&c, first)) : last ? PICK(&c, final) : PICK(&c, next));
	c.cap = CAP_NONE;
	for (i = 0; i < n; i++) {
		if (i)
			synth_tx_lits(&c, i + 1 == n ? (n > 2 ? ", and " : " and ") : ", ");
		step_words(&c, &steps[i]);
	}
	synth_tx_lits(&c, ".");
	if (n > 1)
		synth_tx_lits(&c, PICK(&c, together));
}

void synth_text_final_thought(const struct synth_text *tx, int answered, uint64_t *rng, struct ling_buf *out)
{
	static const char *const known[] = { "I now know the final answer.", "I have everything I need to answer.",
					     "That answers the question.", "The results answer the question.",
					     "Those results are the answer.", "Everything I need is in the observations.",
					     "With these results I can answer.", "Nothing else is needed; I can answer now.",
					     "The last observation gives the answer.", "Done: the results are complete." };
	static const char *const unknown[] = { "None of my tools can look this up, so I should say so.",
					       "No tool I have fits this question.",
					       "I can't answer this with the available tools.",
					       "These tools cover other relations; calling one would not help.",
					       "Nothing here returns what the user asks for." };
	struct synth_tx_ctx c;

	synth_tx_ctx_init(&c, tx, rng, out);
	synth_tx_lits(&c, "Thought: ");
	synth_tx_lits(&c, answered ? PICK(&c, known) : PICK(&c, unknown));
	synth_tx_lits(&c, "\nFinal Answer: ");
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

static void list_answer(struct synth_tx_ctx *c, const struct synth_node *q, const char *const *a, size_t n)
{
	static const char *const frames[] = { "{np} {are} {a}.", "Here {are} {np}: {a}.", "There {are} {N}: {a}.",
					      "The full list: {a}." };
	struct synth_tx_slots sl;
	size_t i;

	if (n > 1 && !synth_tx_pick(c, 4)) {
		struct synth_tx_slots hs;

		synth_tx_slots_init(&hs, 1);
		synth_tx_slot_node(&hs, "np", SL_NODE, q, 1);
		synth_tx_slot_str(&hs, "are", SL_TEXT, "are", 1);
		synth_tx_expands(c, synth_tx_pick(c, 2) ? "Here {are} {np}:" : "{np}:", &hs);
		for (i = 0; i < n; i++) {
			synth_tx_lits(c, "\n- ");
			synth_tx_name(c, a[i]);
		}
		return;
	}
	synth_tx_slots_init(&sl, n != 1 || synth_tx_node_plural(c, q));
	synth_tx_slot_node(&sl, "np", SL_NODE, q, 1);
	synth_tx_slot_list(&sl, "a", a, n);
	synth_tx_slot_add(&sl, "N", SL_NUM, n != 1)->n = n;
	synth_tx_slot_str(&sl, "are", SL_TEXT, n != 1 || synth_tx_node_plural(c, q) ? "are" : "is", 0);
	synth_tx_expands(c, PICK(c, frames), &sl);
}

static void instr_list(struct synth_tx_ctx *c, const struct synth_instruction_args *a, struct ling_buf *user,
		       struct ling_buf *reply)
{
	static const char *const asks[] = { "List {np}.", "Give me a list of {np}.", "What are all of {np}?",
					    "Can you list every one of {np}?", "Name all of {np}.",
					    "Please enumerate {np}." };
	struct synth_tx_slots sl;

	c->out = user;
	c->cap = CAP_UP;
	synth_tx_slots_init(&sl, 1);
	synth_tx_slot_node(&sl, "np", SL_NODE, a->q, 1);
	synth_tx_expands(c, PICK(c, asks), &sl);
	c->out = reply;
	c->cap = CAP_UP;
	list_answer(c, a->q, a->answers, a->n);
}

static void instr_count(struct synth_tx_ctx *c, const struct synth_instruction_args *a, struct ling_buf *user,
			struct ling_buf *reply)
{
	static const char *const asks_pred[] = { "How many {nouns} are {pred}?", "How many {nouns} are {pred}, in total?" };
	static const char *const asks[] = { "What is the number of {np}?", "Count {np}.", "Can you count {np} for me?",
					    "Tell me how many there are of {np}." };
	static const char *const asks_have[] = { "How many {ps} {x:does|do} {x} have?", "How many {ps} {x:has|have} {x} got?" };
	static const char *const replies[] = { "There {are} {N}: {a}.", "{N}: {a}.", "The count is {N} ({a}).",
					       "I count {N}, namely {a}.", "{N} in total: {a}." };
	const char *nn = synth_tx_node_noun(c, a->q);
	struct synth_tx_slots sl;

	c->out = user;
	c->cap = CAP_UP;
	synth_tx_slots_init(&sl, 1);
	synth_tx_slot_node(&sl, "np", SL_NODE, a->q, 1);
	synth_tx_slot_str(&sl, "nouns", SL_NOUN, nn, 1);
	synth_tx_slot_node(&sl, "pred", SL_PRED, a->q, 1);
	if (a->q->op == SYNTH_HOP && !a->q->inverse && synth_tx_form_of(a->q->rel) == SYNTH_FORM_NOUN) {
		/* "How many professions does Ridley Scott have?" */
		synth_tx_slot_str(&sl, "ps", SL_NOUN, synth_tx_phrase_of(a->q->rel), 1);
		synth_tx_slot_node(&sl, "x", SL_NODE, a->q->kid[0], synth_tx_node_plural(c, a->q->kid[0]));
	}
	if (strcmp(nn, "entity") && synth_tx_pred_ok(c, a->q) && synth_tx_pick(c, 2))
		synth_tx_expands(c, PICK(c, asks_pred), &sl);
	else if (synth_tx_slot_find(&sl, "ps", 2) && synth_tx_pick(c, 2))
		synth_tx_expands(c, PICK(c, asks_have), &sl);
	else
		synth_tx_expands(c, PICK(c, asks), &sl);
	c->out = reply;
	c->cap = CAP_UP;
	synth_tx_slots_init(&sl, a->n != 1);
	synth_tx_slot_list(&sl, "a", a->answers, a->n);
	synth_tx_slot_add(&sl, "N", SL_NUM, a->n != 1)->n = a->n;
	synth_tx_slot_str(&sl, "are", SL_TEXT, a->n != 1 ? "are" : "is", 0);
	synth_tx_expands(c, PICK(c, replies), &sl);
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

static void instr_compare(struct synth_tx_ctx *c, const struct synth_instruction_args *a, struct ling_buf *user,
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
	struct synth_tx_slots sl;
	int fwd = q->op == SYNTH_HOP && !q->inverse && q2->op == SYNTH_HOP && q->kid[0]->op == SYNTH_ANCHOR &&
		  q2->kid[0]->op == SYNTH_ANCHOR;

	if (ns > 16)
		shared = xmalloc(ns * sizeof(*shared));
	shared_names(a->answers, a->n, a->answers2, a->n2, shared, ns);
	c->out = user;
	c->cap = CAP_UP;
	synth_tx_slots_init(&sl, 0);
	synth_tx_slot_node(&sl, "np1", SL_NODE, q, synth_tx_node_plural(c, q));
	synth_tx_slot_node(&sl, "np2", SL_NODE, q2, synth_tx_node_plural(c, q2));
	if (fwd) {
		synth_tx_slot_str(&sl, "x1", SL_NAME, q->kid[0]->name, 0);
		synth_tx_slot_str(&sl, "x2", SL_NAME, q2->kid[0]->name, 0);
		synth_tx_slot_str(&sl, "p", SL_TEXT, synth_tx_phrase_of(q->rel), 0);
	}
	synth_tx_expands(c, fwd && synth_tx_pick(c, 3) ? PICK(c, asks_fwd) : PICK(c, asks), &sl);

	c->out = reply;
	c->cap = CAP_UP;
	synth_tx_lits(c, ns ? (synth_tx_pick(c, 2) ? "Yes. " : "Yes, they do. ") : (synth_tx_pick(c, 2) ? "No. " : "No, they don't. "));
	synth_tx_slots_init(&sl, 0);
	synth_tx_slot_node(&sl, "np1", SL_NODE, q, synth_tx_node_plural(c, q));
	synth_tx_slot_list(&sl, "a1", a->answers, a->n);
	synth_tx_slot_str(&sl, "are1", SL_TEXT, a->n != 1 || synth_tx_node_plural(c, q) ? "are" : "is", 0);
	synth_tx_slot_node(&sl, "np2", SL_NODE, q2, synth_tx_node_plural(c, q2));
	synth_tx_slot_list(&sl, "a2", a->answers2, a->n2);
	synth_tx_slot_str(&sl, "are2", SL_TEXT, a->n2 != 1 || synth_tx_node_plural(c, q2) ? "are" : "is", 0);
	synth_tx_slot_list(&sl, "sh", shared, ns);
	synth_tx_slot_add(&sl, "N", SL_NUM, ns != 1)->n = ns;
	c->cap = CAP_UP;
	synth_tx_expands(c, synth_tx_pick(c, 2) ? "{np1} {are1} {a1}, and {np2} {are2} {a2}." : "{np1} {are1} {a1}; {np2} {are2} {a2}.",
		&sl);
	if (ns) {
		static const char *const yes[] = { " They have {sh} in common.", " Both include {sh}.",
						   " The overlap is {sh}.", " So they share {N}: {sh}." };

		synth_tx_expands(c, PICK(c, yes), &sl);
	} else {
		static const char *const no[] = { " They have nothing in common.", " There is no overlap.",
						  " None of them is shared." };

		synth_tx_lits(c, PICK(c, no));
	}
	if (shared != small)
		free((void *)shared);
}

/* ---- descriptions */

static void describe_group(struct synth_tx_ctx *c, const char *entity, size_t first)
{
	const struct synth_fact *f = &c->facts[first];
	const struct synth_tpl *t = synth_tx_choose(c, f->rel, L_STMT, 0, 0);
	size_t n = synth_tx_group_size(c, first);
	struct synth_tx_slots sl;
	struct synth_tx_slot *others;

	synth_tx_slots_init(&sl, 0);
	if (!f->inverse) {
		synth_tx_slot_str(&sl, "s", SL_NAME, entity, 0);
		others = synth_tx_slot_add(&sl, "o", SL_FACTS, n != 1);
	} else {
		others = synth_tx_slot_add(&sl, "s", SL_FACTS, n != 1);
		synth_tx_slot_str(&sl, "o", SL_NAME, entity, 0);
	}
	others->n = first;
	synth_tx_slot_str(&sl, "p", SL_TEXT, synth_tx_phrase_of(f->rel), 0);
	synth_tx_slot_str(&sl, "v", SL_VERB, synth_tx_phrase_of(f->rel), sl.v[0].plural);
	sl.dflt = 0;
	if (t)
		synth_tx_expand_tpl(c, t, &sl);
	synth_tx_lits(c, ".");
}

static void instr_describe(struct synth_tx_ctx *c, const struct synth_instruction_args *a, struct ling_buf *user,
			   struct ling_buf *reply)
{
	static const char *const asks[] = { "Describe {e}.", "Tell me about {e}.", "What do you know about {e}?",
					    "Write a short paragraph about {e}.", "Give me an overview of {e}.",
					    "Summarise the key facts about {e}." };
	static const char *const opens[] = { "Here is what I know about {e}. ", "", "",
					     "A short overview of {e}: ", "" };
	static const char *const links[] = { "", "", "Also, ", "In addition, ", "" };
	size_t i, j, said = 0;
	struct synth_tx_slots sl;

	c->facts = a->facts;
	c->nfacts = a->nfacts;
	synth_tx_slots_init(&sl, 0);
	synth_tx_slot_str(&sl, "e", SL_NAME, a->name, 0);
	c->out = user;
	c->cap = CAP_UP;
	synth_tx_expands(c, PICK(c, asks), &sl);
	c->out = reply;
	c->cap = CAP_UP;
	if (!a->nfacts) {
		synth_tx_expands(c, "I don't know anything about {e}.", &sl);
		return;
	}
	synth_tx_expands(c, PICK(c, opens), &sl);
	for (i = 0; i < a->nfacts; i++) {
		for (j = 0; j < i; j++)
			if (synth_tx_same_group(&a->facts[j], &a->facts[i]))
				break;
		if (j < i || !a->facts[i].rel)
			continue;
		if (said++) {
			const char *l = PICK(c, links);

			synth_tx_lits(c, " ");
			if (*l) {
				synth_tx_lits(c, l);
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
	struct synth_tx_ctx c;

	synth_tx_ctx_init(&c, tx, rng, user);
	switch (a->kind) {
	case SYNTH_INSTR_FACT:
		synth_text_question_lead(tx, rng, user);
		synth_tx_question(&c, a->q);
		c.out = reply;
		c.cap = CAP_UP;
		answer_sentence(&c, a->q, a->answers, a->n, 0, 0);
		return;
	case SYNTH_INSTR_LIST: instr_list(&c, a, user, reply); return;
	case SYNTH_INSTR_COUNT: instr_count(&c, a, user, reply); return;
	case SYNTH_INSTR_COMPARE: instr_compare(&c, a, user, reply); return;
	case SYNTH_INSTR_DESCRIBE: instr_describe(&c, a, user, reply); return;
	}
}
