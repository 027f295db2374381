/*
 * synth_make: one conversation per category.
 *
 * Tool use (KG2Tool; Ling TR 4.4; BFCL's categories for the others):
 *  - the 14 patterns: one question, its planned calls turn by turn, a reply
 *    naming every answer;
 *  - parallel: two or three independent 1p questions in one message (the
 *    same relation for several entities, or several relations of one
 *    entity), answered by parallel calls in one turn;
 *  - multiple: a 1p question with many tools offered, half of them taking
 *    the same kind of entity, so the right one must be picked;
 *  - irrelevance: a 1p question whose relation no offered tool has; the
 *    reply says so without a call, and the answer is [];
 *  - multi_turn: a 1p question, then a follow-up (the same relation for
 *    another entity, or a relation of the first answer).
 * Every tool-use sample offers the tools its calls need plus a few random
 * others, shuffled. Instruction samples (fact, list, count, compare,
 * describe) have no tools; the calls that compute their answer are in
 * meta.calls.
 *
 * In about one in SEARCH_ONE_IN pattern and multi_turn samples, the user
 * writes the first anchor's name in lowercase ("Who directed alien?") and
 * the assistant first resolves it with search_entities ({"name":"alien"}
 * -> ["Alien"]), then calls the tools on the exact name; only names that
 * search resolves to exactly themselves on the store are spelled so
 * (synth_graph's search table).
 */
#include "synth_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

#define REJ(r) SYNTH_REJECT(SYNTH_REJ_##r)

/* One sample in this many resolves the user's spelling of a name with search_entities, where it can. */
#define SEARCH_ONE_IN 10
/*
 * One 1p (and multiple) sample in this many with enough answers asks for only a few,
 * answered with the tools' "limit"; and half the 1p questions with more
 * answers than max_answers (up to LIMIT_MAX_ANSWERS), which would be
 * rejected otherwise.
 */
#define LIMIT_ONE_IN 4
#define LIMIT_MAX_ANSWERS 256
/* One 1p question in this many that hops from a value (or an integer name) to its subjects asks for a range. */
#define RANGE_ONE_IN 2

/* ---- pieces ---- */

/* Starts a message whose text is appended next; end_text() closes it. */
static struct synth_msg *begin_text(struct synth_sample *s, enum synth_role role)
{
	struct synth_msg *m = synth_sample_add_msg(s, role);

	m->text = (uint32_t)s->text.len;
	m->has_text = 1;
	return m;
}

static void end_text(struct synth_sample *s)
{
	struct synth_msg *m = &s->msg[s->nmsg - 1];

	m->text_len = (uint32_t)(s->text.len - m->text);
}

static int has_tool(const struct ling_u32s *t, uint32_t tool)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->v[i] == tool)
			return 1;
	return 0;
}

static void need_tool(struct ling_u32s *t, uint32_t tool)
{
	if (tool != SYNTH_NONE && !has_tool(t, tool))
		ling_u32s_push(t, tool);
}

/* The tools the plan of q calls. */
static void needed_tools(const struct synth_graph *g, const struct synth_query *q, struct ling_u32s *t)
{
	int i, k;

	for (i = 0; i < q->nn; i++) {
		const struct synth_qnode *n = &q->n[i];
		int npos = 0, neg = 0;

		switch (n->op) {
		case SYNTH_ANCHOR: break;
		case SYNTH_HOP: need_tool(t, g->rel[n->x >> 1].tool[n->x & 1]); break;
		case SYNTH_OR: need_tool(t, g->tool_or); break;
		case SYNTH_AND:
			for (k = 0; k < n->nkids; k++) {
				neg += n->negated[k];
				npos += !n->negated[k];
			}
			if (npos > 1)
				need_tool(t, g->tool_and);
			if (neg)
				need_tool(t, g->tool_minus);
			break;
		}
	}
}

/* Adds distractors up to total tools (at most max_tools), then shuffles. hard: prefer the same parameter noun. */
static void offer_tools(const struct synth_gen *gen, struct synth_sample *s, uint64_t *rng, size_t total, int hard)
{
	const struct synth_graph *g = gen->g;
	const char *noun = NULL;
	size_t i, tries;

	if (total > gen->max_tools)
		total = gen->max_tools;
	if (total > g->ntools)
		total = g->ntools;
	if (hard && s->tools.n && g->tool_dir[s->tools.v[0]] != SYNTH_NONE) {
		uint32_t d = g->tool_dir[s->tools.v[0]];
		const struct synth_rel *r = &g->rel[d >> 1];

		noun = d & 1 ? r->words.object_noun : r->words.subject_noun;
	}
	for (tries = 0; s->tools.n < total && tries < 16 * total; tries++) {
		uint32_t t;

		if (noun && tries % 3 != 2) {
			/* a relation tool that takes the same kind of entity */
			uint32_t d;
			const struct synth_rel *r;

			t = g->rel_tools[ling_rand_below(rng, g->nrel_tools)];
			d = g->tool_dir[t];
			r = &g->rel[d >> 1];
			if (strcmp(d & 1 ? r->words.object_noun : r->words.subject_noun, noun))
				continue;
		} else {
			t = ling_rand_below(rng, g->ntools);
		}
		if (!has_tool(&s->tools, t))
			ling_u32s_push(&s->tools, t);
	}
	for (i = s->tools.n; i > 1; i--) {
		uint32_t j = ling_rand_below(rng, (uint32_t)i), x = s->tools.v[i - 1];

		s->tools.v[i - 1] = s->tools.v[j];
		s->tools.v[j] = x;
	}
}

/* The system prompt, varied by rng over every prompt. @return whether it is a ReAct prompt. */
static int system_prompt(const struct synth_gen *gen, struct synth_sample *s, uint64_t *rng)
{
	enum synth_prompt_style style = SYNTH_PROMPT_PLAIN;
	size_t n = synth_text_system_count(gen->tx);

	/* no tools in the text: the record's "tools" carries them (synth_render adds Hermes' block) */
	s->system = (uint32_t)s->text.len;
	synth_text_system(gen->tx, ling_rand_below(rng, (uint32_t)n), NULL, &style, &s->text);
	s->system_len = (uint32_t)(s->text.len - s->system);
	return style == SYNTH_PROMPT_REACT;
}

static void question(const struct synth_gen *gen, struct synth_ws *ws, struct synth_sample *s, int qi,
		     uint64_t *rng)
{
	struct synth_query *q = &ws->q[qi];

	synth_text_question(gen->tx, synth_query_asked(gen->g, ws, qi), synth_category_name(q->pattern), rng,
			    &s->text);
}

/*
 * Draws whether the user spells query qi's first anchor in lowercase, to be
 * resolved by search_entities: one sample in SEARCH_ONE_IN, when the name is
 * in the search table. The draw is made every time, so the random sequence
 * does not depend on the graph.
 */
static void maybe_search(const struct synth_gen *gen, struct synth_ws *ws, int qi, uint64_t *rng)
{
	const struct synth_graph *g = gen->g;
	const struct synth_query *q = &ws->q[qi];
	uint32_t nm;

	/* BFCL scores the first turn alone: a name it spells exactly is called directly, with no search first */
	if (ling_rand_below(rng, SEARCH_ONE_IN) || gen->format == SYNTH_FORMAT_BFCL || !q->nn ||
	    q->n[0].op != SYNTH_ANCHOR)
		return;
	nm = g->ent_name[q->n[0].x];
	if (nm == SYNTH_NONE || synth_is_literal(g, q->n[0].x))
		return;
	ling_buf_reset(&ws->asked);
	synth_ascii_lower(synth_name(g, nm), g->name_len[nm], &ws->asked);
	if (synth_search_find(g, ws->asked.data, ws->asked.len) == nm)
		ws->search[qi] = 0;
}

/* The names of q's answer as strings, in ws->strs. */
static const char *const *answer_strs(const struct synth_graph *g, struct synth_ws *ws, const struct ling_u32s *a)
{
	size_t i;

	ws->strs = xgrow(ws->strs, &ws->strs_cap, a->n + 1, sizeof(*ws->strs));
	for (i = 0; i < a->n; i++)
		ws->strs[i] = synth_name(g, a->v[i]);
	return ws->strs;
}

/* The answer to question qi; part = 1 when it is one of several answered in one reply, so it says what was asked. */
static void reply(const struct synth_gen *gen, struct synth_ws *ws, struct synth_sample *s, int qi, int part,
		  uint64_t *rng)
{
	struct synth_query *q = &ws->q[qi];
	const char *const *names = answer_strs(gen->g, ws, &q->answer);

	const struct synth_node *root = synth_query_words(gen->g, q);

	if (ws->range_to[qi] != SYNTH_NONE)
		q->tn[0].name = ws->range_name.data; /* the anchor: "between 1990 and 1992" */
	if (part)
		synth_text_answer_part(gen->tx, root, names, q->answer.n, rng, &s->text);
	else
		synth_text_answer(gen->tx, root, names, q->answer.n, rng, &s->text);
}

/* The reply to a question that asked for only a few answers: they are listed in the calls' order. */
static void limited_reply(const struct synth_gen *gen, struct synth_ws *ws, struct synth_sample *s, int qi,
			  uint64_t *rng)
{
	const struct ling_u32s *a = &ws->q[qi].answer;
	const char *const *names = answer_strs(gen->g, ws, a);
	size_t i;

	if (ws->reverse[qi])
		for (i = 0; i < a->n / 2; i++) {
			const char *x = names[i];

			ws->strs[i] = names[a->n - 1 - i];
			ws->strs[a->n - 1 - i] = x;
		}
	synth_text_limit_answer(names, a->n, ws->reverse[qi], rng, &s->text);
}

/* The entities of q's root whose names are in its answer, for the evidence of a cut answer. */
static void keep_answered(const struct synth_graph *g, struct synth_query *q)
{
	struct ling_u32s *root = &q->val[q->nn - 1];
	size_t i, n = 0;

	for (i = 0; i < root->n; i++)
		if (synth_set_has(q->answer.v, q->answer.n, g->ent_name[root->v[i]]))
			root->v[n++] = root->v[i];
	root->n = n;
}

/* Whether questions may ask for a few answers: in English, and not for BFCL (one argument per call). */
static int limit_allowed(const struct synth_gen *gen)
{
	return gen->format != SYNTH_FORMAT_BFCL && (!gen->lang || !strncmp(gen->lang, "en", 2));
}

/*
 * Draws whether a 1p question asks for only a few of its answers (see
 * LIMIT_ONE_IN); then the gold answer is what the call with "limit"
 * returns: the first names by bytes, or the last with reverse. @return 0,
 * or SYNTH_REJECT(TOO_MANY) for too many answers and no limit.
 */
static int maybe_limit(const struct synth_gen *gen, struct synth_ws *ws, int qi, uint64_t *rng)
{
	struct ling_u32s *a = &ws->q[qi].answer;
	uint32_t pick = ling_rand_below(rng, LIMIT_ONE_IN), n = 2 + ling_rand_below(rng, 2);
	int reverse = ling_rand_below(rng, 4) == 0;

	if (a->n > gen->lim.max_answers) {
		if (pick >= LIMIT_ONE_IN / 2 || !limit_allowed(gen))
			return REJ(TOO_MANY);
	} else if (pick || a->n < n + 1 || !limit_allowed(gen)) {
		return 0;
	}
	if (reverse)
		memmove(a->v, a->v + a->n - n, n * sizeof(*a->v));
	a->n = n;
	ws->limit[qi] = (int)n;
	ws->reverse[qi] = reverse;
	keep_answered(gen->g, &ws->q[qi]);
	return 0;
}

/* Value names of type vt sort by value. */
static int value_before(const struct synth_graph *g, enum kg_value_type vt, uint32_t a, uint32_t b)
{
	return kg_value_cmp(vt, synth_name(g, a), g->name_len[a], synth_name(g, b), g->name_len[b]) < 0;
}

/*
 * Draws whether a 1p question from a value to its subjects (an inverse tool
 * with "to") asks for a range instead: from the anchor's value to the k-th
 * next value the relation has (k of 1 to 3). Then the query's values are
 * every value in the range (for the evidence) and their subjects, and the
 * answer their names. @return 0 or SYNTH_REJECT.
 */
static int maybe_range(const struct synth_gen *gen, struct synth_ws *ws, int qi, uint64_t *rng)
{
	const struct synth_graph *g = gen->g;
	struct synth_query *q = &ws->q[qi];
	uint32_t pick = ling_rand_below(rng, RANGE_ONE_IN), k = 1 + ling_rand_below(rng, 3), d, from, to = SYNTH_NONE;
	uint32_t i;
	const struct kg_tool *t;
	enum kg_value_type vt;

	if (pick || q->nn != 2 || !(q->n[1].x & 1) || ws->search[qi] >= 0 || !limit_allowed(gen))
		return 0;
	d = q->n[1].x;
	t = &g->ts->tools[g->rel[d >> 1].tool[1]];
	vt = t->range_type;
	from = g->ent_name[q->n[0].x];
	if (!(t->opts & KG_TOOL_OPT_RANGE) || from == SYNTH_NONE ||
	    !kg_value_is_canonical(vt, synth_name(g, from), g->name_len[from]))
		return 0;
	/* the k-th value after from (or the last there is): the values above it, sorted by value */
	ws->vals.n = 0;
	for (i = g->src_off[d]; i < g->src_off[d + 1]; i++) {
		uint32_t nm = g->ent_name[g->src[i]];

		if (nm != SYNTH_NONE && kg_value_is_canonical(vt, synth_name(g, nm), g->name_len[nm]) &&
		    value_before(g, vt, from, nm))
			ling_u32s_push(&ws->vals, nm);
	}
	synth_set_sort_unique(&ws->vals);
	for (i = 1; i < ws->vals.n; i++) {
		uint32_t x = ws->vals.v[i], j;

		for (j = i; j > 0 && value_before(g, vt, x, ws->vals.v[j - 1]); j--)
			ws->vals.v[j] = ws->vals.v[j - 1];
		ws->vals.v[j] = x;
	}
	if (!ws->vals.n)
		return 0;
	to = ws->vals.v[(k < ws->vals.n ? k : ws->vals.n) - 1];
	/* the query's values: every value entity in the range, and their subjects */
	q->val[0].n = 0;
	q->val[1].n = 0;
	for (i = g->src_off[d]; i < g->src_off[d + 1]; i++) {
		uint32_t e = g->src[i], nm = g->ent_name[e];
		const struct synth_edge *b, *end;

		if (nm == SYNTH_NONE || !kg_value_is_canonical(vt, synth_name(g, nm), g->name_len[nm]) ||
		    value_before(g, vt, nm, from) || value_before(g, vt, to, nm))
			continue;
		ling_u32s_push(&q->val[0], e);
		for (synth_adj(g, e, d, &b, &end); b < end; b++)
			ling_u32s_push(&q->val[1], b->to);
	}
	synth_set_sort_unique(&q->val[0]);
	synth_set_sort_unique(&q->val[1]);
	if (q->val[1].n > SYNTH_SET_LIMIT)
		return REJ(FANOUT);
	q->answer.n = 0;
	for (i = 0; i < q->val[1].n; i++) {
		if (g->ent_name[q->val[1].v[i]] == SYNTH_NONE)
			return REJ(UNNAMED);
		ling_u32s_push(&q->answer, g->ent_name[q->val[1].v[i]]);
	}
	synth_set_sort_unique(&q->answer);
	if (q->answer.n != q->val[1].n)
		return REJ(AMBIGUOUS);
	ws->range_to[qi] = to;
	ling_buf_reset(&ws->range_name);
	ling_buf_addf(&ws->range_name, "between %s and %s", synth_name(g, from), synth_name(g, to));
	return 0;
}

static void add_answer(struct synth_ws *ws, struct synth_sample *s, const struct ling_u32s *a)
{
	synth_set_or(s->answer.v, s->answer.n, a->v, a->n, &ws->tmp);
	synth_set_copy(&s->answer, ws->tmp.v, ws->tmp.n);
}

static void add_evidence(const struct synth_gen *gen, struct synth_ws *ws, struct synth_sample *s, int qi)
{
	synth_query_evidence(gen->g, &ws->q[qi], &s->evidence, &ws->tmp);
}

/* A 1p query in ws->q[qi] from ent along dir, with its gold answer. */
static int query_1p(const struct synth_gen *gen, struct synth_ws *ws, int qi, uint32_t ent, uint32_t dir)
{
	synth_query_1p(&ws->q[qi], ent, dir);
	return synth_query_gold(gen->g, &gen->lim, &ws->q[qi]);
}

static int sample_query(const struct synth_gen *gen, struct synth_ws *ws, int qi, int pattern, uint64_t *rng)
{
	return synth_query_sample(gen->g, &gen->lim, pattern, rng, &ws->q[qi], ws->sets);
}

static uint32_t anchor_of(const struct synth_query *q)
{
	return q->n[0].x;
}

static uint32_t dir_of_1p(const struct synth_query *q)
{
	return q->n[1].x;
}

/* Another source of d than those in ws->q[0..nq), with a name none of them has. */
static int other_source(const struct synth_gen *gen, struct synth_ws *ws, int nq, uint32_t d, uint64_t *rng,
			uint32_t *out)
{
	const struct synth_graph *g = gen->g;
	uint32_t n = synth_dir_sources(g, d);
	int tries, k;

	for (tries = 0; n > 1 && tries < 8; tries++) {
		uint32_t a = g->src[g->src_off[d] + ling_rand_below(rng, n)];

		if (g->ent_name[a] == SYNTH_NONE)
			continue;
		for (k = 0; k < nq && g->ent_name[anchor_of(&ws->q[k])] != g->ent_name[a]; k++)
			;
		if (k == nq) {
			*out = a;
			return 0;
		}
	}
	return REJ(NO_PATH);
}

/* ---- degenerate questions ---- */

/*
 * A question is degenerate when it gives its answer away or walks in a
 * circle (kg2samples(1), DEGENERATE QUESTIONS). Names compare with
 * ASCII case aside, as search_entities spells them; a word is a run of
 * ASCII letters and digits and of bytes of non-ASCII characters.
 */
static int word_byte(unsigned char ch)
{
	return ch >= 0x80 || (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static int fold_eq(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x != y && !((x | 0x20) == (y | 0x20) && (x | 0x20) >= 'a' && (x | 0x20) <= 'z'))
			return 0;
	}
	return 1;
}

/* Whether name a is name m, or a run of whole words inside it ("Drama" in "The Drama Club"). */
static int name_within(const struct synth_graph *g, uint32_t a, uint32_t m)
{
	const char *sa = synth_name(g, a), *sm = synth_name(g, m);
	size_t na = g->name_len[a], nm = g->name_len[m], i;

	if (!na || na > nm)
		return 0;
	for (i = 0; i + na <= nm; i++) {
		if ((i && word_byte((unsigned char)sm[i - 1]) && word_byte((unsigned char)sa[0])) ||
		    (i + na < nm && word_byte((unsigned char)sm[i + na]) && word_byte((unsigned char)sa[na - 1])))
			continue;
		if (fold_eq(sa, sm + i, na))
			return 1;
	}
	return 0;
}

static int same_name(const struct synth_graph *g, uint32_t a, uint32_t b)
{
	return g->name_len[a] == g->name_len[b] && fold_eq(synth_name(g, a), synth_name(g, b), g->name_len[a]);
}

static int sets_meet(const struct ling_u32s *a, const struct ling_u32s *b)
{
	size_t i = 0, j = 0;

	while (i < a->n && j < b->n) {
		if (a->v[i] == b->v[j])
			return 1;
		if (a->v[i] < b->v[j])
			i++;
		else
			j++;
	}
	return 0;
}

/* Whether the set of node i meets the set of a node below it. */
static int meets_below(const struct synth_query *q, int i, int below)
{
	const struct synth_qnode *n = &q->n[below];
	int k;

	for (k = 0; k < n->nkids; k++)
		if (sets_meet(&q->val[i], &q->val[n->kid[k]]) || meets_below(q, i, n->kid[k]))
			return 1;
	return 0;
}

/* Whether some hop of q reaches an entity named like an anchor of ws->q[qs[0..nq)]. */
static int reaches_anchor(const struct synth_graph *g, const struct synth_ws *ws, const struct synth_query *q,
			  const int *qs, size_t nq)
{
	size_t k, e;
	int i, j;

	for (i = 0; i < q->nn; i++) {
		if (q->n[i].op != SYNTH_HOP)
			continue;
		for (e = 0; e < q->val[i].n; e++)
			for (k = 0; k < nq; k++) {
				const struct synth_query *o = &ws->q[qs[k]];

				for (j = 0; j < o->nn; j++)
					if (o->n[j].op == SYNTH_ANCHOR &&
					    same_name(g, g->ent_name[q->val[i].v[e]], g->ent_name[o->n[j].x]))
						return 1;
			}
	}
	return 0;
}

/* Whether an answer of q is named by an anchor of ws->q[qs[0..nq)]. */
static int answer_asked(const struct synth_graph *g, const struct synth_ws *ws, const struct synth_query *q,
			const int *qs, size_t nq)
{
	size_t a, k;
	int j;

	for (a = 0; a < q->answer.n; a++)
		for (k = 0; k < nq; k++) {
			const struct synth_query *o = &ws->q[qs[k]];

			for (j = 0; j < o->nn; j++)
				if (o->n[j].op == SYNTH_ANCHOR && name_within(g, q->answer.v[a], g->ent_name[o->n[j].x]))
					return 1;
		}
	return 0;
}

/* Whether two anchors of ws->q[qs[0..nq)] are different entities of one name. */
static int anchors_share_name(const struct synth_graph *g, const struct synth_ws *ws, const int *qs, size_t nq)
{
	size_t k, l;
	int i, j;

	for (k = 0; k < nq; k++)
		for (l = k; l < nq; l++) {
			const struct synth_query *a = &ws->q[qs[k]], *b = &ws->q[qs[l]];

			for (i = 0; i < a->nn; i++)
				for (j = k == l ? i + 1 : 0; j < b->nn; j++)
					if (a->n[i].op == SYNTH_ANCHOR && b->n[j].op == SYNTH_ANCHOR &&
					    a->n[i].x != b->n[j].x &&
					    same_name(g, g->ent_name[a->n[i].x], g->ent_name[b->n[j].x]))
						return 1;
		}
	return 0;
}

/*
 * Rejects the questions ws->q[qs[0..nq)] asked in one conversation when one
 * is degenerate: a hop comes back to an entity already on its path, or
 * reaches a name the user wrote; an answer is named in a question; two
 * anchors share a name. in_turns: the questions come one per user turn
 * (multi_turn), so each is judged against itself and those before it only.
 */
static int degenerate(const struct synth_gen *gen, const struct synth_ws *ws, const int *qs, size_t nq,
		      int in_turns)
{
	const struct synth_graph *g = gen->g;
	size_t k;
	int i;

	for (k = 0; k < nq; k++) {
		const struct synth_query *q = &ws->q[qs[k]];
		size_t seen = in_turns ? k + 1 : nq;

		for (i = 0; i < q->nn; i++)
			if (q->n[i].op == SYNTH_HOP && meets_below(q, i, i))
				return REJ(REVISIT);
		if (reaches_anchor(g, ws, q, qs, seen))
			return REJ(REVISIT);
		if (answer_asked(g, ws, q, qs, seen))
			return REJ(ASKED);
	}
	return anchors_share_name(g, ws, qs, nq) ? REJ(SAME_NAME) : 0;
}

/* ---- categories ---- */

static int tool_conversation(const struct synth_gen *gen, struct synth_ws *ws, struct synth_sample *s,
			     const int *qs, size_t nq, uint64_t *rng, size_t extra, int hard)
{
	size_t i;
	int react, rc;

	if ((rc = degenerate(gen, ws, qs, nq, 0)))
		return rc;
	for (i = 0; i < nq; i++) {
		needed_tools(gen->g, &ws->q[qs[i]], &s->tools);
		if (ws->search[qs[i]] >= 0)
			need_tool(&s->tools, gen->g->tool_search);
	}
	offer_tools(gen, s, rng, s->tools.n + extra, hard);
	react = system_prompt(gen, s, rng);
	begin_text(s, SYNTH_MSG_USER);
	synth_text_question_lead(gen->tx, rng, &s->text);
	for (i = 0; i < nq; i++) {
		if (i)
			ling_buf_addc(&s->text, ' ');
		question(gen, ws, s, qs[i], rng);
		if (ws->limit[qs[i]]) {
			ling_buf_addc(&s->text, ' ');
			synth_text_limit_ask((size_t)ws->limit[qs[i]], ws->reverse[qs[i]], rng, &s->text);
		}
	}
	synth_text_question_tail(gen->tx, rng, &s->text);
	end_text(s);
	if ((rc = synth_plan(gen->g, &gen->lim, ws, s, qs, nq, gen->tx, react, rng, 0)))
		return rc;
	begin_text(s, SYNTH_MSG_REPLY);
	if (react)
		synth_text_final_thought(gen->tx, 1, rng, &s->text);
	for (i = 0; i < nq; i++) {
		if (i)
			ling_buf_addc(&s->text, ' ');
		if (ws->limit[qs[i]])
			limited_reply(gen, ws, s, qs[i], rng);
		else
			reply(gen, ws, s, qs[i], nq > 1, rng);
		add_answer(ws, s, &ws->q[qs[i]].answer);
		add_evidence(gen, ws, s, qs[i]);
	}
	end_text(s);
	s->check_text = 1;
	return 0;
}

/*
 * A 1p query in ws->q[0] that may ask for a range or a few answers
 * (maybe_range, maybe_limit); search: it may spell its anchor in lowercase
 * (maybe_search) first.
 */
static int sample_1p(const struct synth_gen *gen, struct synth_ws *ws, uint64_t *rng, int search)
{
	struct synth_limits wide = gen->lim;
	int rc;

	/* more answers than max_answers may be asked for a few of */
	if (limit_allowed(gen) && wide.max_answers < LIMIT_MAX_ANSWERS)
		wide.max_answers = LIMIT_MAX_ANSWERS;
	if ((rc = synth_query_sample(gen->g, &wide, SYNTH_CAT_1P, rng, &ws->q[0], ws->sets)))
		return rc;
	if (search)
		maybe_search(gen, ws, 0, rng);
	if ((rc = maybe_range(gen, ws, 0, rng)) || (rc = maybe_limit(gen, ws, 0, rng)))
		return rc;
	return 0;
}

static int make_pattern(const struct synth_gen *gen, struct synth_ws *ws, int cat, uint64_t *rng,
			struct synth_sample *s)
{
	static const int q0[] = { 0 };
	int rc;

	if (cat == SYNTH_CAT_1P) {
		if ((rc = sample_1p(gen, ws, rng, 1)))
			return rc;
	} else {
		if ((rc = sample_query(gen, ws, 0, cat, rng)))
			return rc;
		maybe_search(gen, ws, 0, rng);
	}
	s->pattern = synth_category_name(cat);
	return tool_conversation(gen, ws, s, q0, 1, rng, ling_rand_below(rng, 4), 0);
}

static int make_multiple(const struct synth_gen *gen, struct synth_ws *ws, uint64_t *rng, struct synth_sample *s)
{
	static const int q0[] = { 0 };
	int rc;

	if (gen->g->ntools < 4 || gen->max_tools < 4)
		return REJ(TOOLS);
	if ((rc = sample_1p(gen, ws, rng, 0)))
		return rc;
	s->pattern = "1p";
	return tool_conversation(gen, ws, s, q0, 1, rng, gen->max_tools, 1);
}

static int make_parallel(const struct synth_gen *gen, struct synth_ws *ws, uint64_t *rng, struct synth_sample *s)
{
	static const int qs[] = { 0, 1, 2 };
	const struct synth_graph *g = gen->g;
	uint32_t n = 2 + ling_rand_below(rng, 2), k, a, d;
	int same_relation = (int)ling_rand_below(rng, 2), rc;

	if ((rc = sample_query(gen, ws, 0, SYNTH_CAT_1P, rng)))
		return rc;
	a = anchor_of(&ws->q[0]);
	d = dir_of_1p(&ws->q[0]);
	for (k = 1; k < n; k++) {
		if (same_relation) {
			uint32_t b;

			if ((rc = other_source(gen, ws, (int)k, d, rng, &b)))
				return rc;
			rc = query_1p(gen, ws, (int)k, b, d);
		} else {
			/* another relation of the same entity */
			uint32_t deg = g->adj_off[a + 1] - g->adj_off[a], d2 = SYNTH_NONE, j;
			int tries;

			for (tries = 0; tries < 8 && d2 == SYNTH_NONE; tries++) {
				d2 = g->adj[g->adj_off[a] + ling_rand_below(rng, deg)].dir;
				for (j = 0; j < k; j++)
					if (dir_of_1p(&ws->q[j]) == d2)
						d2 = SYNTH_NONE;
			}
			if (d2 == SYNTH_NONE)
				return REJ(NO_PATH);
			rc = query_1p(gen, ws, (int)k, a, d2);
		}
		if (rc)
			return rc;
	}
	if (ws->q[0].answer.n + ws->q[1].answer.n + (n > 2 ? ws->q[2].answer.n : 0) > gen->lim.max_answers)
		return REJ(TOO_MANY);
	s->pattern = "1p";
	return tool_conversation(gen, ws, s, qs, n, rng, ling_rand_below(rng, 3), 0);
}

/* The relation words of the offered tools, in ws->words. */
static const struct synth_rel_words *const *offered_words(const struct synth_graph *g, struct synth_ws *ws,
							   const struct ling_u32s *tools)
{
	size_t i;

	ws->words = xgrow(ws->words, &ws->words_cap, tools->n + 1, sizeof(*ws->words));
	for (i = 0; i < tools->n; i++)
		ws->words[i] = &g->rel[g->tool_dir[tools->v[i]] >> 1].words;
	return ws->words;
}

static int make_irrelevance(const struct synth_gen *gen, struct synth_ws *ws, uint64_t *rng,
			    struct synth_sample *s)
{
	const struct synth_graph *g = gen->g;
	struct synth_query *q = &ws->q[0];
	uint32_t want = 2 + ling_rand_below(rng, 4), tries;
	const struct synth_rel *r;
	int react, rc;

	if ((rc = sample_query(gen, ws, 0, SYNTH_CAT_1P, rng)))
		return rc;
	r = &g->rel[dir_of_1p(q) >> 1];
	/* Tools of other relations only, and none worded like the question's relation. */
	for (tries = 0; s->tools.n < want && tries < 8 * want; tries++) {
		uint32_t t = g->rel_tools[ling_rand_below(rng, g->nrel_tools)];
		const struct synth_rel *o = &g->rel[g->tool_dir[t] >> 1];

		if (o == r || !strcmp(o->words.phrase, r->words.phrase) || has_tool(&s->tools, t))
			continue;
		ling_u32s_push(&s->tools, t);
	}
	if (!s->tools.n)
		return REJ(TOOLS);
	react = system_prompt(gen, s, rng);
	begin_text(s, SYNTH_MSG_USER);
	synth_text_question_lead(gen->tx, rng, &s->text);
	question(gen, ws, s, 0, rng);
	synth_text_question_tail(gen->tx, rng, &s->text);
	end_text(s);
	begin_text(s, SYNTH_MSG_REPLY);
	if (react)
		synth_text_final_thought(gen->tx, 0, rng, &s->text);
	synth_text_irrelevant_tools(gen->tx, synth_query_words(g, q), offered_words(g, ws, &s->tools), s->tools.n, rng,
				    &s->text);
	end_text(s);
	s->pattern = NULL;
	return 0;
}

static int make_multi_turn(const struct synth_gen *gen, struct synth_ws *ws, uint64_t *rng,
			   struct synth_sample *s)
{
	static const int q0[] = { 0 }, q1[] = { 1 }, q01[] = { 0, 1 };
	const struct synth_graph *g = gen->g;
	struct synth_query *a = &ws->q[0];
	int from_answer, react, rc;
	size_t extra = ling_rand_below(rng, 3);

	if ((rc = sample_query(gen, ws, 0, SYNTH_CAT_1P, rng)))
		return rc;
	from_answer = a->val[a->nn - 1].n == 1 && ling_rand_below(rng, 2);
	if (from_answer) {
		/* a relation of the answer: "And where was she born?" */
		uint32_t b = a->val[a->nn - 1].v[0], deg = g->adj_off[b + 1] - g->adj_off[b], d;

		d = g->adj[g->adj_off[b] + ling_rand_below(rng, deg)].dir;
		if (d == (dir_of_1p(a) ^ 1))
			return REJ(NO_PATH);
		rc = query_1p(gen, ws, 1, b, d);
	} else {
		/* the same relation for another entity: "And for Heat?" */
		uint32_t b;

		if ((rc = other_source(gen, ws, 1, dir_of_1p(a), rng, &b)))
			return rc;
		rc = query_1p(gen, ws, 1, b, dir_of_1p(a));
	}
	if (rc)
		return rc;
	if ((rc = degenerate(gen, ws, q01, 2, 1)))
		return rc;
	maybe_search(gen, ws, 0, rng);
	needed_tools(g, &ws->q[0], &s->tools);
	needed_tools(g, &ws->q[1], &s->tools);
	if (ws->search[0] >= 0)
		need_tool(&s->tools, g->tool_search);
	offer_tools(gen, s, rng, s->tools.n + extra, 0);
	react = system_prompt(gen, s, rng);
	begin_text(s, SYNTH_MSG_USER);
	synth_text_question_lead(gen->tx, rng, &s->text);
	question(gen, ws, s, 0, rng);
	synth_text_question_tail(gen->tx, rng, &s->text);
	end_text(s);
	if ((rc = synth_plan(g, &gen->lim, ws, s, q0, 1, gen->tx, react, rng, 0)))
		return rc;
	begin_text(s, SYNTH_MSG_REPLY);
	if (react)
		synth_text_final_thought(gen->tx, 1, rng, &s->text);
	reply(gen, ws, s, 0, 0, rng);
	end_text(s);
	begin_text(s, SYNTH_MSG_USER);
	synth_text_followup(gen->tx, synth_query_words(g, &ws->q[0]), synth_query_words(g, &ws->q[1]), rng,
			    &s->text);
	end_text(s);
	if ((rc = synth_plan(g, &gen->lim, ws, s, q1, 1, gen->tx, react, rng, 0)))
		return rc;
	begin_text(s, SYNTH_MSG_REPLY);
	if (react)
		synth_text_final_thought(gen->tx, 1, rng, &s->text);
	reply(gen, ws, s, 1, 0, rng);
	end_text(s);
	add_answer(ws, s, &ws->q[1].answer);
	if (from_answer)
		add_evidence(gen, ws, s, 0);
	add_evidence(gen, ws, s, 1);
	s->pattern = "1p";
	s->check_text = 1;
	return 0;
}

/* ---- instruction samples ---- */

static int instruction(const struct synth_gen *gen, struct synth_ws *ws, struct synth_sample *s,
		       const struct synth_instruction_args *args, const int *qs, size_t nq, uint64_t *rng)
{
	size_t i;
	int rc;

	/* a description names no answer: its facts need not be judged as a question */
	if (args->kind != SYNTH_INSTR_DESCRIBE && (rc = degenerate(gen, ws, qs, nq, 0)))
		return rc;
	s->instruction = 1;
	s->system = (uint32_t)s->text.len;
	synth_text_system_plain(gen->tx, rng, &s->text);
	s->system_len = (uint32_t)(s->text.len - s->system);
	ling_buf_reset(&ws->buf);
	ling_buf_reset(&ws->buf2);
	synth_text_instruction(gen->tx, args, rng, &ws->buf, &ws->buf2);
	begin_text(s, SYNTH_MSG_USER);
	ling_buf_add(&s->text, ws->buf.data, ws->buf.len);
	end_text(s);
	begin_text(s, SYNTH_MSG_REPLY);
	ling_buf_add(&s->text, ws->buf2.data, ws->buf2.len);
	end_text(s);
	if ((rc = synth_plan(gen->g, &gen->lim, ws, s, qs, nq, gen->tx, 0, rng, 1)))
		return rc;
	for (i = 0; i < nq; i++)
		add_evidence(gen, ws, s, qs[i]);
	return 0;
}

static int make_simple_instruction(const struct synth_gen *gen, struct synth_ws *ws, int cat, uint64_t *rng,
				   struct synth_sample *s)
{
	static const int q0[] = { 0 };
	struct synth_instruction_args args;
	struct synth_query *q = &ws->q[0];
	int rc;

	if ((rc = sample_query(gen, ws, 0, SYNTH_CAT_1P, rng)))
		return rc;
	if (cat != SYNTH_CAT_FACT && q->answer.n < 2)
		return REJ(FEW);
	memset(&args, 0, sizeof(args));
	args.kind = cat == SYNTH_CAT_FACT ? SYNTH_INSTR_FACT : cat == SYNTH_CAT_LIST ? SYNTH_INSTR_LIST : SYNTH_INSTR_COUNT;
	args.q = synth_query_words(gen->g, q);
	args.answers = answer_strs(gen->g, ws, &q->answer);
	args.n = q->answer.n;
	s->pattern = "1p";
	if ((rc = instruction(gen, ws, s, &args, q0, 1, rng)))
		return rc;
	add_answer(ws, s, &q->answer);
	s->check_text = cat != SYNTH_CAT_COUNT;
	return 0;
}

static int make_compare(const struct synth_gen *gen, struct synth_ws *ws, uint64_t *rng, struct synth_sample *s)
{
	static const int qs[] = { 0, 1 };
	const struct synth_graph *g = gen->g;
	struct synth_instruction_args args;
	const char **both;
	uint32_t d, b = SYNTH_NONE;
	int rc;

	if ((rc = sample_query(gen, ws, 0, SYNTH_CAT_1P, rng)))
		return rc;
	d = dir_of_1p(&ws->q[0]);
	if (ling_rand_below(rng, 2)) {
		/* one that shares an answer: a source of d into a member of the first answer */
		const struct ling_u32s *ans = &ws->q[0].val[1];
		const struct synth_edge *e0, *e1;
		uint32_t t = ans->v[ling_rand_below(rng, (uint32_t)ans->n)];

		synth_adj(g, t, d ^ 1, &e0, &e1);
		if (e1 - e0 > 1) {
			b = e0[ling_rand_below(rng, (uint32_t)(e1 - e0))].to;
			if (b == anchor_of(&ws->q[0]) || g->ent_name[b] == SYNTH_NONE ||
			    g->ent_name[b] == g->ent_name[anchor_of(&ws->q[0])])
				b = SYNTH_NONE;
		}
	}
	if (b == SYNTH_NONE && (rc = other_source(gen, ws, 1, d, rng, &b)))
		return rc;
	if ((rc = query_1p(gen, ws, 1, b, d)))
		return rc;
	memset(&args, 0, sizeof(args));
	args.kind = SYNTH_INSTR_COMPARE;
	args.q = synth_query_words(g, &ws->q[0]);
	args.q2 = synth_query_words(g, &ws->q[1]);
	/* both name lists at once: the second after the first in ws->strs */
	ws->strs = xgrow(ws->strs, &ws->strs_cap, ws->q[0].answer.n + ws->q[1].answer.n + 1, sizeof(*ws->strs));
	both = ws->strs;
	for (size_t i = 0; i < ws->q[0].answer.n; i++)
		both[i] = synth_name(g, ws->q[0].answer.v[i]);
	for (size_t i = 0; i < ws->q[1].answer.n; i++)
		both[ws->q[0].answer.n + i] = synth_name(g, ws->q[1].answer.v[i]);
	args.answers = both;
	args.n = ws->q[0].answer.n;
	args.answers2 = both + ws->q[0].answer.n;
	args.n2 = ws->q[1].answer.n;
	s->pattern = "1p";
	if ((rc = instruction(gen, ws, s, &args, qs, 2, rng)))
		return rc;
	add_answer(ws, s, &ws->q[0].answer);
	add_answer(ws, s, &ws->q[1].answer);
	return 0;
}

static int make_describe(const struct synth_gen *gen, struct synth_ws *ws, uint64_t *rng, struct synth_sample *s)
{
	static const int qs[] = { 0, 1, 2, 3 };
	const struct synth_graph *g = gen->g;
	struct synth_instruction_args args;
	uint32_t d, e, deg, nq = 0, nfacts = 0, tries;
	size_t j;

	synth_pick_start(g, rng, &d, &e);
	if (g->ent_name[e] == SYNTH_NONE)
		return REJ(UNNAMED);
	if (synth_is_literal(g, e))
		return REJ(NO_PATH); /* a value is described by no one */
	deg = g->adj_off[e + 1] - g->adj_off[e];
	/* up to four relations of e, each with one to three named neighbours */
	for (tries = 0; tries < 12 && nq < 4; tries++) {
		uint32_t k;

		d = g->adj[g->adj_off[e] + ling_rand_below(rng, deg)].dir;
		for (k = 0; k < nq && dir_of_1p(&ws->q[k]) != d; k++)
			;
		if (k < nq || query_1p(gen, ws, (int)nq, e, d))
			continue;
		if (ws->q[nq].answer.n > 3 || nfacts + ws->q[nq].answer.n > sizeof(ws->facts) / sizeof(ws->facts[0]))
			continue;
		for (j = 0; j < ws->q[nq].answer.n; j++) {
			struct synth_fact *f = &ws->facts[nfacts++];

			f->rel = &g->rel[d >> 1].words;
			f->inverse = (int)(d & 1);
			f->other = synth_name(g, ws->q[nq].answer.v[j]);
		}
		nq++;
	}
	if (nfacts < 2)
		return REJ(FEW);
	memset(&args, 0, sizeof(args));
	args.kind = SYNTH_INSTR_DESCRIBE;
	args.name = synth_name(g, g->ent_name[e]);
	args.facts = ws->facts;
	args.nfacts = nfacts;
	s->pattern = NULL;
	return instruction(gen, ws, s, &args, qs, nq, rng);
}

static int cmp_triple(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b;
	int i;

	for (i = 0; i < 3; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

/* Evidence triples sorted and distinct. */
static void finish_evidence(struct synth_sample *s)
{
	uint32_t *t = s->evidence.v;
	size_t n = s->evidence.n / 3, i, k = 0;

	if (n > 1)
		qsort(t, n, 3 * sizeof(*t), cmp_triple);
	for (i = 0; i < n; i++)
		if (!k || memcmp(t + 3 * i, t + 3 * (k - 1), 3 * sizeof(*t)))
			memmove(t + 3 * k++, t + 3 * i, 3 * sizeof(*t));
	s->evidence.n = 3 * k;
}

int synth_make(const struct synth_gen *gen, struct synth_ws *ws, int cat, uint64_t *rng, struct synth_sample *s)
{
	int rc, i;

	s->cat = cat;
	for (i = 0; i < 4; i++) {
		ws->search[i] = -1;
		ws->limit[i] = 0;
		ws->reverse[i] = 0;
		ws->range_to[i] = SYNTH_NONE;
	}
	if (cat < SYNTH_NPATTERNS)
		rc = make_pattern(gen, ws, cat, rng, s);
	else if (cat == SYNTH_CAT_PARALLEL)
		rc = make_parallel(gen, ws, rng, s);
	else if (cat == SYNTH_CAT_MULTIPLE)
		rc = make_multiple(gen, ws, rng, s);
	else if (cat == SYNTH_CAT_IRRELEVANCE)
		rc = make_irrelevance(gen, ws, rng, s);
	else if (cat == SYNTH_CAT_MULTI_TURN)
		rc = make_multi_turn(gen, ws, rng, s);
	else if (cat == SYNTH_CAT_COMPARE)
		rc = make_compare(gen, ws, rng, s);
	else if (cat == SYNTH_CAT_DESCRIBE)
		rc = make_describe(gen, ws, rng, s);
	else
		rc = make_simple_instruction(gen, ws, cat, rng, s);
	if (!rc)
		finish_evidence(s);
	return rc;
}
