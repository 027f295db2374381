/*
 * synth_query: the 14 first-order-logic query patterns of BetaE (Ren and
 * Leskovec, NeurIPS 2020), the query structures Ling's KG work cites (TR
 * 4.4: "14 subgraph patterns, each with a FOL form"), as trees of
 * ANCHOR, HOP, AND (with negated kids) and OR nodes:
 *
 *   1p  r1(a)                     2i  r1(a) ∧ r2(b)             2in r1(a) ∧ ¬r2(b)
 *   2p  r2(r1(a))                 3i  r1(a) ∧ r2(b) ∧ r3(c)      3in r1(a) ∧ r2(b) ∧ ¬r3(c)
 *   3p  r3(r2(r1(a)))             ip  r3(r1(a) ∧ r2(b))          inp r3(r1(a) ∧ ¬r2(b))
 *   2u  r1(a) ∨ r2(b)             pi  r2(r1(a)) ∧ r3(b)          pin r2(r1(a)) ∧ ¬r3(b)
 *   up  r3(r1(a) ∨ r2(b))                                        pni ¬r2(r1(a)) ∧ r3(b)
 *
 * where r(X) is the set reached from X along a directed relation (a relation
 * forward or inverse). A query is instantiated by walking the graph, so that
 * its answer is not empty: the first relation is drawn by the square root of
 * its size and the anchor uniformly among its subjects (spreading samples
 * over relations and entities instead of the degree distribution's head);
 * later hops follow a random edge of a member of the set reached; the other
 * branches of an intersection or union are found backwards from one member
 * t of the first branch (an edge into t gives a relation and anchor whose set
 * holds t), and for a negation from a member to exclude, so the negated
 * branch removes something. Gold answers are then computed on entity ids by
 * evaluating the tree, and checked against the limits.
 */
#include "synth_internal.h"

#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

#define REJ(r) SYNTH_REJECT(SYNTH_REJ_##r)

void synth_query_release(struct synth_query *q)
{
	int i;

	for (i = 0; i < SYNTH_QMAX; i++)
		ling_u32s_release(&q->val[i]);
	ling_u32s_release(&q->answer);
}

void synth_query_reset(struct synth_query *q, int pattern)
{
	q->pattern = pattern;
	q->nn = 0;
	q->answer.n = 0;
}

static uint8_t add_node(struct synth_query *q, enum synth_op op, uint32_t x)
{
	struct synth_qnode *n = &q->n[q->nn];

	if (q->nn >= SYNTH_QMAX)
		abort(); /* the patterns have at most 9 nodes */
	memset(n, 0, sizeof(*n));
	n->op = op;
	n->x = x;
	q->val[q->nn].n = 0;
	return (uint8_t)q->nn++;
}

uint8_t synth_q_anchor(struct synth_query *q, uint32_t ent)
{
	return add_node(q, SYNTH_ANCHOR, ent);
}

uint8_t synth_q_hop(struct synth_query *q, uint32_t dir, uint8_t kid)
{
	uint8_t i = add_node(q, SYNTH_HOP, dir);

	q->n[i].kid[0] = kid;
	q->n[i].nkids = 1;
	return i;
}

uint8_t synth_q_and(struct synth_query *q, uint8_t k0, uint8_t k1, uint8_t k2, unsigned neg)
{
	uint8_t i = add_node(q, SYNTH_AND, 0), j;

	q->n[i].kid[0] = k0;
	q->n[i].kid[1] = k1;
	q->n[i].kid[2] = k2;
	q->n[i].nkids = k2 == 0xff ? 2 : 3;
	for (j = 0; j < q->n[i].nkids; j++)
		q->n[i].negated[j] = (neg >> j) & 1;
	return i;
}

uint8_t synth_q_or(struct synth_query *q, uint8_t k0, uint8_t k1)
{
	uint8_t i = add_node(q, SYNTH_OR, 0);

	q->n[i].kid[0] = k0;
	q->n[i].kid[1] = k1;
	q->n[i].nkids = 2;
	return i;
}

void synth_query_1p(struct synth_query *q, uint32_t ent, uint32_t dir)
{
	synth_query_reset(q, SYNTH_CAT_1P);
	synth_q_hop(q, dir, synth_q_anchor(q, ent));
}

/* ---- walking ---- */

/* out = the entities reached from xs[0..n) along d; REJ(FANOUT) beyond limit. */
static int hop_set(const struct synth_graph *g, const uint32_t *xs, size_t n, uint32_t d, struct ling_u32s *out,
		   size_t limit)
{
	const struct synth_edge *b, *e;
	size_t i;

	out->n = 0;
	for (i = 0; i < n; i++) {
		synth_adj(g, xs[i], d, &b, &e);
		if ((size_t)(e - b) > limit)
			return REJ(FANOUT);
		for (; b < e; b++)
			ling_u32s_push(out, b->to);
		if (out->n > SYNTH_SET_LIMIT)
			return REJ(FANOUT);
	}
	synth_set_sort_unique(out);
	return out->n > limit ? REJ(FANOUT) : 0;
}

/* A first relation and anchor (a focused run's anchors are its focus entities). */
static void pick_start(const struct synth_graph *g, uint64_t *rng, uint32_t *d, uint32_t *a)
{
	synth_pick_start(g, rng, d, a);
}

/* A random edge out of m whose relation is not avoid (the way back). */
static int pick_next(const struct synth_graph *g, uint64_t *rng, uint32_t m, uint32_t avoid, uint32_t *d)
{
	uint32_t deg = g->adj_off[m + 1] - g->adj_off[m];
	int tries;

	for (tries = 0; deg && tries < 4; tries++) {
		const struct synth_edge *x = &g->adj[g->adj_off[m] + ling_rand_below(rng, deg)];

		if (x->dir != avoid) {
			*d = x->dir;
			return 0;
		}
	}
	return REJ(NO_PATH);
}

/*
 * A branch whose set holds t: an edge t -d'-> a read backwards gives
 * a -(d'^1)-> t. Not one of the (dir, anchor) pairs in used[0..nused).
 */
static int pick_into(const struct synth_graph *g, uint64_t *rng, uint32_t t, const uint32_t (*used)[2], int nused,
		     uint32_t *d, uint32_t *a)
{
	uint32_t deg = g->adj_off[t + 1] - g->adj_off[t];
	int tries, i;

	for (tries = 0; deg && tries < 6; tries++) {
		const struct synth_edge *x = &g->adj[g->adj_off[t] + ling_rand_below(rng, deg)];

		for (i = 0; i < nused; i++)
			if (used[i][0] == (x->dir ^ 1) && used[i][1] == x->to)
				break;
		if (i == nused) {
			*d = x->dir ^ 1;
			*a = x->to;
			return 0;
		}
	}
	return REJ(NO_PATH);
}

static uint32_t pick_member(const struct ling_u32s *s, uint64_t *rng)
{
	return s->v[ling_rand_below(rng, (uint32_t)s->n)];
}

/* A chain a -d1-> S1 -d2-> C; S1 in tmp[0], C in tmp[1]; nodes returned. */
static int chain2(const struct synth_graph *g, const struct synth_limits *lim, uint64_t *rng, struct synth_query *q,
		  struct ling_u32s *tmp, uint32_t *d2_out, uint8_t *node)
{
	uint32_t d1, a, d2;
	const struct synth_edge *b, *e;
	int rc, tries;

	/* a few draws for a start whose set can be hopped from */
	for (tries = 0; tries < 3; tries++) {
		pick_start(g, rng, &d1, &a);
		synth_adj(g, a, d1, &b, &e);
		if (e - b <= SYNTH_FANOUT)
			break;
	}
	if (e - b > SYNTH_FANOUT)
		return REJ(FANOUT);
	tmp[0].n = 0;
	for (; b < e; b++)
		ling_u32s_push(&tmp[0], b->to);
	if ((rc = pick_next(g, rng, pick_member(&tmp[0], rng), d1 ^ 1, &d2)))
		return rc;
	if ((rc = hop_set(g, tmp[0].v, tmp[0].n, d2, &tmp[1], lim->branch)))
		return rc;
	*d2_out = d2;
	*node = synth_q_hop(q, d2, synth_q_hop(q, d1, synth_q_anchor(q, a)));
	return 0;
}

/* The patterns that start as a chain from one anchor: 1p 2p 3p, and pi pin pni (a chain and a branch). */
static int sample_chain(const struct synth_graph *g, const struct synth_limits *lim, int pattern, uint64_t *rng,
			struct synth_query *q, struct ling_u32s *tmp)
{
	uint32_t d[3], a[3], used[1][2], t;
	uint8_t h[2];
	int rc;

	switch (pattern) {
	case SYNTH_CAT_1P:
		pick_start(g, rng, &d[0], &a[0]);
		synth_q_hop(q, d[0], synth_q_anchor(q, a[0]));
		return 0;
	case SYNTH_CAT_2P:
	case SYNTH_CAT_3P:
		if ((rc = chain2(g, lim, rng, q, tmp, &d[1], &h[0])))
			return rc;
		if (pattern == SYNTH_CAT_2P)
			return 0;
		if (tmp[1].n > SYNTH_FANOUT)
			return REJ(FANOUT);
		if ((rc = pick_next(g, rng, pick_member(&tmp[1], rng), d[1] ^ 1, &d[2])))
			return rc;
		synth_q_hop(q, d[2], h[0]);
		return 0;
	case SYNTH_CAT_PI:
	case SYNTH_CAT_PIN:
	case SYNTH_CAT_PNI:
		/* chain C = d2(d1(a)), then a branch b -d3-> t for t in C */
		if ((rc = chain2(g, lim, rng, q, tmp, &d[1], &h[0])))
			return rc;
		if (pattern == SYNTH_CAT_PIN && tmp[1].n < 2)
			return REJ(NEGATION);
		t = pick_member(&tmp[1], rng);
		used[0][0] = d[1];
		used[0][1] = tmp[0].n == 1 ? tmp[0].v[0] : SYNTH_NONE;
		if ((rc = pick_into(g, rng, t, (const uint32_t(*)[2])used, 1, &d[2], &a[1])))
			return rc;
		/* The branch must not be the chain's own last hop from a member of S1. */
		if (d[2] == d[1] && synth_set_has(tmp[0].v, tmp[0].n, a[1]))
			return REJ(NO_PATH);
		h[1] = synth_q_hop(q, d[2], synth_q_anchor(q, a[1]));
		if (pattern == SYNTH_CAT_PI)
			synth_q_and(q, h[0], h[1], 0xff, 0);
		else if (pattern == SYNTH_CAT_PIN)
			synth_q_and(q, h[0], h[1], 0xff, 2);
		else
			synth_q_and(q, h[0], h[1], 0xff, 1);
		return 0;
	}
	return REJ(NO_PATH);
}

/* Two branches from anchors, as two_branches() picks them. */
struct branches {
	uint32_t d[3], a[3];     /* relation and anchor of each branch (the third: 3i 3in) */
	uint32_t used[3][2];     /* (relation, anchor) pairs taken, so the next branch differs */
	uint32_t t;              /* a member of the first branch's set */
	uint8_t h[3];            /* their hops in the query */
};

/*
 * The first two branches of 2i 3i ip 2u up 2in 3in inp: d[i] from anchor
 * a[i] into the set tmp[i], h[i] their hops in q; t is a member of the first.
 */
static int two_branches(const struct synth_graph *g, const struct synth_limits *lim, int pattern, uint64_t *rng,
			struct synth_query *q, struct ling_u32s *tmp, struct branches *b)
{
	uint32_t *d = b->d, *a = b->a;
	int rc = 0, tries, negation;

	/*
	 * Patterns with two or three branches from anchors: 2i 3i ip 2u up 2in
	 * 3in inp. A negation needs a first branch of two or more members (one
	 * to remove, one to keep), and 3in an intersection of two or more: a few
	 * draws find them far more often than whole new attempts.
	 */
	negation = pattern == SYNTH_CAT_2IN || pattern == SYNTH_CAT_INP || pattern == SYNTH_CAT_3IN;
	for (tries = 0; tries < 4; tries++) {
		pick_start(g, rng, &d[0], &a[0]);
		if ((rc = hop_set(g, &a[0], 1, d[0], &tmp[0], lim->branch)))
			continue;
		if (!negation || tmp[0].n >= 2)
			break;
	}
	if (rc)
		return rc;
	if (negation && tmp[0].n < 2)
		return REJ(NEGATION);
	b->used[0][0] = d[0];
	b->used[0][1] = a[0];
	b->t = pick_member(&tmp[0], rng);
	for (tries = 0; tries < 4; tries++) {
		if ((rc = pick_into(g, rng, b->t, (const uint32_t(*)[2])b->used, 1, &d[1], &a[1])) ||
		    (rc = hop_set(g, &a[1], 1, d[1], &tmp[1], lim->branch)))
			continue;
		if (pattern != SYNTH_CAT_3IN)
			break;
		synth_set_and(tmp[0].v, tmp[0].n, tmp[1].v, tmp[1].n, &tmp[2]);
		if (tmp[2].n >= 2)
			break;
	}
	if (rc)
		return rc;
	b->used[1][0] = d[1];
	b->used[1][1] = a[1];
	b->h[0] = synth_q_hop(q, d[0], synth_q_anchor(q, a[0]));
	b->h[1] = synth_q_hop(q, d[1], synth_q_anchor(q, a[1]));
	return 0;
}

/* The patterns of two or three branches from anchors, joined, and for ip up inp a hop after the join. */
static int sample_branches(const struct synth_graph *g, const struct synth_limits *lim, int pattern, uint64_t *rng,
			   struct synth_query *q, struct ling_u32s *tmp)
{
	struct branches br;
	uint32_t *d = br.d, *a = br.a, m;
	const uint32_t(*used)[2] = (const uint32_t(*)[2])br.used;
	uint8_t *h = br.h, x;
	int rc;

	if ((rc = two_branches(g, lim, pattern, rng, q, tmp, &br)))
		return rc;
	switch (pattern) {
	case SYNTH_CAT_2I:
		synth_q_and(q, h[0], h[1], 0xff, 0);
		return 0;
	case SYNTH_CAT_2U:
		synth_q_or(q, h[0], h[1]);
		return 0;
	case SYNTH_CAT_2IN:
		synth_q_and(q, h[0], h[1], 0xff, 2);
		return 0;
	case SYNTH_CAT_3I:
		if ((rc = pick_into(g, rng, br.t, used, 2, &d[2], &a[2])))
			return rc;
		h[2] = synth_q_hop(q, d[2], synth_q_anchor(q, a[2]));
		synth_q_and(q, h[0], h[1], h[2], 0);
		return 0;
	case SYNTH_CAT_3IN:
		/* exclude a member u of the intersection, keeping another */
		synth_set_and(tmp[0].v, tmp[0].n, tmp[1].v, tmp[1].n, &tmp[2]);
		if (tmp[2].n < 2)
			return REJ(NEGATION);
		if ((rc = pick_into(g, rng, pick_member(&tmp[2], rng), used, 2, &d[2], &a[2])))
			return rc;
		h[2] = synth_q_hop(q, d[2], synth_q_anchor(q, a[2]));
		synth_q_and(q, h[0], h[1], h[2], 4);
		return 0;
	case SYNTH_CAT_IP:
	case SYNTH_CAT_UP:
	case SYNTH_CAT_INP:
		if (pattern == SYNTH_CAT_IP) {
			synth_set_and(tmp[0].v, tmp[0].n, tmp[1].v, tmp[1].n, &tmp[2]);
			x = synth_q_and(q, h[0], h[1], 0xff, 0);
		} else if (pattern == SYNTH_CAT_UP) {
			synth_set_or(tmp[0].v, tmp[0].n, tmp[1].v, tmp[1].n, &tmp[2]);
			x = synth_q_or(q, h[0], h[1]);
		} else {
			synth_set_minus(tmp[0].v, tmp[0].n, tmp[1].v, tmp[1].n, &tmp[2]);
			x = synth_q_and(q, h[0], h[1], 0xff, 2);
		}
		if (!tmp[2].n)
			return REJ(EMPTY);
		if (tmp[2].n > SYNTH_FANOUT)
			return REJ(FANOUT);
		m = pick_member(&tmp[2], rng);
		/* not straight back to an anchor */
		if ((rc = pick_next(g, rng, m, d[0] ^ 1, &d[2])))
			return rc;
		if (d[2] == (d[1] ^ 1))
			return REJ(NO_PATH);
		synth_q_hop(q, d[2], x);
		return 0;
	}
	return REJ(NO_PATH);
}


static int sample_tree(const struct synth_graph *g, const struct synth_limits *lim, int pattern, uint64_t *rng,
		       struct synth_query *q, struct ling_u32s *tmp)
{
	synth_query_reset(q, pattern);
	switch (pattern) {
	case SYNTH_CAT_1P:
	case SYNTH_CAT_2P:
	case SYNTH_CAT_3P:
	case SYNTH_CAT_PI:
	case SYNTH_CAT_PIN:
	case SYNTH_CAT_PNI:
		return sample_chain(g, lim, pattern, rng, q, tmp);
	default:
		return sample_branches(g, lim, pattern, rng, q, tmp);
	}
}

int synth_query_sample(const struct synth_graph *g, const struct synth_limits *lim, int pattern, uint64_t *rng,
		       struct synth_query *q, struct ling_u32s *tmp)
{
	int rc = sample_tree(g, lim, pattern, rng, q, tmp);

	return rc ? rc : synth_query_gold(g, lim, q);
}

/* ---- gold answers ---- */

/* Whether node i's set is hopped from by its parent (so one call per member), given parent op. */
static int eval_node(const struct synth_graph *g, const struct synth_limits *lim, struct synth_query *q, int i)
{
	struct synth_qnode *n = &q->n[i];
	struct ling_u32s *out = &q->val[i];
	int k, rc, first = 1;

	out->n = 0;
	switch (n->op) {
	case SYNTH_ANCHOR:
		ling_u32s_push(out, n->x);
		return 0;
	case SYNTH_HOP: {
		const struct ling_u32s *in = &q->val[n->kid[0]];
		size_t limit = (size_t)i == (size_t)q->nn - 1 ? lim->max_answers : lim->branch;

		if (q->n[n->kid[0]].op != SYNTH_ANCHOR && in->n > SYNTH_FANOUT)
			return REJ(FANOUT);
		if ((rc = hop_set(g, in->v, in->n, n->x, out, SYNTH_SET_LIMIT)))
			return rc;
		if (!out->n)
			return REJ(EMPTY);
		if (out->n > limit)
			return (size_t)i == (size_t)q->nn - 1 ? REJ(TOO_MANY) : REJ(FANOUT);
		return 0;
	}
	case SYNTH_AND: {
		struct ling_u32s tmp = { 0 };

		/* the positive kids intersected, then the negated ones removed */
		for (k = 0; k < n->nkids; k++) {
			const struct ling_u32s *v = &q->val[n->kid[k]];

			if (n->negated[k])
				continue;
			if (first) {
				synth_set_copy(out, v->v, v->n);
				first = 0;
			} else {
				synth_set_and(out->v, out->n, v->v, v->n, &tmp);
				synth_set_copy(out, tmp.v, tmp.n);
			}
		}
		for (k = 0; k < n->nkids; k++) {
			const struct ling_u32s *v = &q->val[n->kid[k]];

			if (!n->negated[k])
				continue;
			synth_set_minus(out->v, out->n, v->v, v->n, &tmp);
			if (tmp.n == out->n) {
				ling_u32s_release(&tmp);
				return REJ(NEGATION);
			}
			synth_set_copy(out, tmp.v, tmp.n);
		}
		ling_u32s_release(&tmp);
		break;
	}
	case SYNTH_OR: {
		struct ling_u32s tmp = { 0 };

		synth_set_copy(out, q->val[n->kid[0]].v, q->val[n->kid[0]].n);
		for (k = 1; k < n->nkids; k++) {
			synth_set_or(out->v, out->n, q->val[n->kid[k]].v, q->val[n->kid[k]].n, &tmp);
			synth_set_copy(out, tmp.v, tmp.n);
		}
		ling_u32s_release(&tmp);
		break;
	}
	}
	if (!out->n)
		return REJ(EMPTY);
	if ((size_t)i == (size_t)q->nn - 1 && out->n > lim->max_answers)
		return REJ(TOO_MANY);
	return 0;
}

int synth_query_gold(const struct synth_graph *g, const struct synth_limits *lim, struct synth_query *q)
{
	const struct ling_u32s *root;
	size_t j;
	int i, rc;

	/* Kids come before their parents, so one pass in node order evaluates the tree. */
	for (i = 0; i < q->nn; i++)
		if ((rc = eval_node(g, lim, q, i)))
			return rc;
	/*
	 * Every set is shown in a call's arguments or result, so each member
	 * needs a name; an intersection or union hopped from is within bounds.
	 */
	for (i = 0; i < q->nn; i++) {
		const struct synth_qnode *n = &q->n[i];

		for (j = 0; j < q->val[i].n; j++)
			if (g->ent_name[q->val[i].v[j]] == SYNTH_NONE)
				return REJ(UNNAMED);
		if ((n->op == SYNTH_AND || n->op == SYNTH_OR) && i != q->nn - 1 && q->val[i].n > SYNTH_FANOUT)
			return REJ(FANOUT);
	}
	root = &q->val[q->nn - 1];
	q->answer.n = 0;
	for (j = 0; j < root->n; j++) {
		uint32_t nm = g->ent_name[root->v[j]];

		if (nm == SYNTH_NONE)
			return REJ(UNNAMED);
		ling_u32s_push(&q->answer, nm);
	}
	synth_set_sort_unique(&q->answer);
	/* Two answers of one name: the answer text could not tell them apart. */
	if (q->answer.n != root->n)
		return REJ(AMBIGUOUS);
	return 0;
}

/* ---- evidence ---- */

/*
 * Walks down from the root with the entities each node must account for
 * (need): a hop contributes its edges into need, and passes their other ends
 * down; an AND passes need to its positive kids and, to a negated kid, the
 * members it removed (the triples that justify the removal); an OR passes
 * each kid the part of need it holds.
 */
static void evidence(const struct synth_graph *g, const struct synth_query *q, int i, const uint32_t *need,
		     size_t nneed, struct ling_u32s *out)
{
	const struct synth_qnode *n = &q->n[i];
	struct ling_u32s down = { 0 };
	int k;

	if (!nneed)
		return;
	switch (n->op) {
	case SYNTH_ANCHOR:
		break;
	case SYNTH_HOP: {
		const struct ling_u32s *in = &q->val[n->kid[0]];
		const struct synth_edge *b, *e;
		size_t j;

		for (j = 0; j < in->n; j++) {
			synth_adj(g, in->v[j], n->x, &b, &e);
			for (; b < e; b++) {
				if (!synth_set_has(need, nneed, b->to))
					continue;
				/* stored orientation: forward (x, r, to), inverse (to, r, x) */
				ling_u32s_push(out, n->x & 1 ? b->to : in->v[j]);
				ling_u32s_push(out, n->x >> 1);
				ling_u32s_push(out, n->x & 1 ? in->v[j] : b->to);
				ling_u32s_push(&down, in->v[j]);
			}
		}
		synth_set_sort_unique(&down);
		evidence(g, q, n->kid[0], down.v, down.n, out);
		break;
	}
	case SYNTH_AND: {
		struct ling_u32s pos = { 0 }, tmp = { 0 };
		int first = 1;

		for (k = 0; k < n->nkids; k++) {
			const struct ling_u32s *v = &q->val[n->kid[k]];

			if (n->negated[k])
				continue;
			if (first) {
				synth_set_copy(&pos, v->v, v->n);
				first = 0;
			} else {
				synth_set_and(pos.v, pos.n, v->v, v->n, &tmp);
				synth_set_copy(&pos, tmp.v, tmp.n);
			}
		}
		for (k = 0; k < n->nkids; k++) {
			const struct ling_u32s *v = &q->val[n->kid[k]];

			if (n->negated[k]) {
				synth_set_and(pos.v, pos.n, v->v, v->n, &down);
				evidence(g, q, n->kid[k], down.v, down.n, out);
			} else {
				evidence(g, q, n->kid[k], need, nneed, out);
			}
		}
		ling_u32s_release(&pos);
		ling_u32s_release(&tmp);
		break;
	}
	case SYNTH_OR:
		for (k = 0; k < n->nkids; k++) {
			const struct ling_u32s *v = &q->val[n->kid[k]];

			synth_set_and(need, nneed, v->v, v->n, &down);
			evidence(g, q, n->kid[k], down.v, down.n, out);
		}
		break;
	}
	ling_u32s_release(&down);
}

void synth_query_evidence(const struct synth_graph *g, const struct synth_query *q, struct ling_u32s *out,
			  struct ling_u32s *tmp)
{
	const struct ling_u32s *root = &q->val[q->nn - 1];

	synth_set_copy(tmp, root->v, root->n);
	evidence(g, q, q->nn - 1, tmp->v, tmp->n, out);
}

const struct synth_node *synth_query_words(const struct synth_graph *g, struct synth_query *q)
{
	int i, k;

	for (i = 0; i < q->nn; i++) {
		const struct synth_qnode *n = &q->n[i];
		struct synth_node *t = &q->tn[i];

		memset(t, 0, sizeof(*t));
		t->op = n->op;
		t->nkids = n->nkids;
		if (n->op == SYNTH_ANCHOR) {
			t->name = synth_name(g, g->ent_name[n->x]);
			t->label = g->ent_label ? g->ent_label[n->x] : 0;
		} else if (n->op == SYNTH_HOP) {
			t->rel = &g->rel[n->x >> 1].words;
			t->inverse = (int)(n->x & 1);
		}
		for (k = 0; k < n->nkids; k++) {
			t->kid[k] = &q->tn[n->kid[k]];
			t->negated[k] = n->negated[k];
		}
	}
	return &q->tn[q->nn - 1];
}
