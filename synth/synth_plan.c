/*
 * synth_plan: the calls that answer a query tree, turn by turn.
 *
 * A plan is what a model would do for a query tree: each hop is one call
 * per member of the set it starts from (an anchor is one name from the
 * question), AND is an intersection call (and a difference call for a
 * negated kid), OR a union call. A call comes in the turn after the last
 * call whose result it needs, so calls of one turn are independent, and the
 * last turn's results together are the answer (doc/kg2samples-format.md).
 * The plan runs on names: when entities share a name, its result can differ
 * from the gold answer computed on entity ids, and verification rejects it.
 *
 * A hop along a literal relation's inverse takes a value: its argument is
 * the value as a JSON number or string, typed by the relation
 * (kg_value_is_canonical tells which values an argument can ask for). An
 * anchor the user spelled in lowercase (ws->search) is looked up first with
 * search_entities, in the first turn, and the calls on it wait for that.
 *
 * A query that asks for only a few answers (ws->limit) passes "limit" to the
 * calls of its last hop (and "sort":"reverse_alphabetical" for the last
 * ones, ws->reverse): their results are the first names in that order, as
 * kg_tool_call gives them, and the caller has cut the gold answer the same
 * way. A 1p query over a range of values (ws->range_to) passes "to" and
 * runs synth_exec_range from the anchor's value.
 */
#include "synth_internal.h"

#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

#define REJ(r) SYNTH_REJECT(SYNTH_REJ_##r)

struct planner {
	const struct synth_graph *g;
	const struct synth_limits *lim;
	struct synth_ws *ws;
	struct synth_sample *s;
	int qi;
};

/* Adds a planned call: its arguments are in s->text from args on; executes it on names into out. */
static struct synth_call *pend_call(struct planner *p, uint32_t tool, uint32_t args, uint32_t turn)
{
	struct synth_ws *ws = p->ws;
	struct synth_call *c;

	ws->pend = xgrow(ws->pend, &ws->pend_cap, ws->npend + 1, sizeof(*ws->pend));
	c = &ws->pend[ws->npend++];
	memset(c, 0, sizeof(*c));
	c->tool = tool;
	c->args = args;
	c->args_len = (uint32_t)(p->s->text.len - args);
	c->turn = turn;
	return c;
}

/* Records the result names of c (the last pending call). */
static void set_result(struct planner *p, struct synth_call *c, const struct ling_u32s *res)
{
	struct synth_sample *s = p->s;
	size_t i;

	c->names = (uint32_t)s->names.n;
	c->nnames = (uint32_t)res->n;
	for (i = 0; i < res->n; i++)
		ling_u32s_push(&s->names, res->v[i]);
	c->res = (uint32_t)s->text.len;
	synth_names_json(p->g, res->v, res->n, &s->text);
	c->res_len = (uint32_t)(s->text.len - c->res);
}

static void names_arg(struct planner *p, const struct ling_u32s *set)
{
	synth_names_json(p->g, set->v, set->n, &p->s->text);
}

static void add_step(struct planner *p, uint32_t turn, enum synth_step_kind kind, uint32_t dir, uint32_t name,
		     size_t n)
{
	struct synth_ws *ws = p->ws;
	struct synth_plan_step *st;

	ws->steps = xgrow(ws->steps, &ws->steps_cap, ws->nsteps + 1, sizeof(*ws->steps));
	st = &ws->steps[ws->nsteps++];
	st->turn = turn;
	st->kind = kind;
	st->dir = dir;
	st->name = name;
	st->n = (uint32_t)n;
}

/* A logic call on sets (AND, OR) or items minus exclude (DIFF), at turn. */
static int logic_call(struct planner *p, uint32_t tool, const struct ling_u32s *const *sets, size_t n,
		      uint32_t turn, struct ling_u32s *out)
{
	struct ling_buf *t = &p->s->text;
	uint32_t args = (uint32_t)t->len;
	struct synth_call *c;
	size_t k;

	if (tool == SYNTH_NONE)
		return REJ(TOOLS);
	if (tool == p->g->tool_minus) {
		ling_buf_adds(t, "{\"items\":");
		names_arg(p, sets[0]);
		ling_buf_adds(t, ",\"exclude\":");
		names_arg(p, sets[1]);
		ling_buf_addc(t, '}');
		synth_set_minus(sets[0]->v, sets[0]->n, sets[1]->v, sets[1]->n, out);
	} else {
		ling_buf_adds(t, "{\"sets\":[");
		for (k = 0; k < n; k++) {
			if (k)
				ling_buf_addc(t, ',');
			names_arg(p, sets[k]);
			synth_set_copy(&p->ws->sets[k], sets[k]->v, sets[k]->n);
		}
		ling_buf_adds(t, "]}");
		if (tool == p->g->tool_and)
			synth_exec_and(p->ws->sets, n, out, &p->ws->tmp3);
		else
			synth_exec_or(p->ws->sets, n, out, &p->ws->tmp3);
	}
	c = pend_call(p, tool, args, turn);
	set_result(p, c, out);
	add_step(p, turn, tool == p->g->tool_minus ? SYNTH_STEP_MINUS : tool == p->g->tool_and ? SYNTH_STEP_AND : SYNTH_STEP_OR,
		 0, SYNTH_NONE, n);
	return 0;
}

/* An anchor: its name, first looked up with search_entities when the user spelled it so. */
static int plan_anchor(struct planner *p, struct synth_query *q, int i)
{
	const struct synth_graph *g = p->g;
	struct synth_ws *ws = p->ws;
	const struct synth_qnode *n = &q->n[i];
	struct ling_u32s *val = &ws->nval[p->qi][i];
	uint32_t *avail = ws->avail[p->qi];

	if (g->ent_name[n->x] == SYNTH_NONE)
		return REJ(UNNAMED);
	ling_u32s_push(val, g->ent_name[n->x]);
	if (ws->search[p->qi] == i) {
		struct ling_buf *t = &p->s->text;
		uint32_t args = (uint32_t)t->len;

		if (g->tool_search == SYNTH_NONE)
			return REJ(TOOLS);
		ling_buf_adds(t, "{\"name\":");
		ling_json_add_str(t, ws->asked.data, ws->asked.len, 0);
		ling_buf_addc(t, '}');
		set_result(p, pend_call(p, g->tool_search, args, 1), val);
		add_step(p, 1, SYNTH_STEP_SEARCH, 0, SYNTH_NONE, 1);
		avail[i] = 1;
	}
	return 0;
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether tool t can take name: any name, or one its parameter's enum lists. */
static int takes(const struct kg_tool *t, const char *name)
{
	return !t->enums || bsearch(&name, t->enums, t->nenums, sizeof(*t->enums), cmp_strp) != NULL;
}

/*
 * A hop: one call per member of the set it starts from, in the turn after
 * that set is known; none for a member the tool's enum leaves out (the
 * relation has no such object: the call would answer [], and the schema
 * forbids it).
 */
static int plan_hop(struct planner *p, struct synth_query *q, int i)
{
	const struct synth_graph *g = p->g;
	struct synth_ws *ws = p->ws;
	const struct synth_qnode *n = &q->n[i];
	struct ling_u32s *val = &ws->nval[p->qi][i];
	uint32_t *avail = ws->avail[p->qi];
	const struct ling_u32s *in = &ws->nval[p->qi][n->kid[0]];
	uint32_t tool = g->rel[n->x >> 1].tool[n->x & 1], turn = avail[n->kid[0]] + 1;
	const char *param = g->ts->tools[tool].param;
	enum kg_value_type vt = synth_dir_value(g, n->x);
	int limit = i == q->nn - 1 ? ws->limit[p->qi] : 0, reverse = limit && ws->reverse[p->qi];
	uint32_t to = i == q->nn - 1 ? ws->range_to[p->qi] : SYNTH_NONE;
	size_t j, k;
	int rc;

	if (!in->n)
		return REJ(EMPTY);
	if (q->n[n->kid[0]].op != SYNTH_ANCHOR && in->n > SYNTH_FANOUT)
		return REJ(FANOUT);
	for (j = 0; j < in->n; j++) {
		struct ling_buf *t = &p->s->text;
		uint32_t args = (uint32_t)t->len, nm = in->v[j];
		struct synth_call *c;

		/* a value that no argument can ask for, such as an integer written "12a" */
		if (vt != KG_VALUE_ENTITY && !kg_value_is_canonical(vt, synth_name(g, nm), g->name_len[nm]))
			return REJ(UNNAMED);
		if (!takes(&g->ts->tools[tool], synth_name(g, nm)))
			continue;
		ling_buf_addc(t, '{');
		ling_json_add_strz(t, param, 0);
		ling_buf_addc(t, ':');
		if (vt == KG_VALUE_ENTITY || vt == KG_VALUE_DATE || vt == KG_VALUE_TEXT)
			ling_json_add_str(t, synth_name(g, nm), g->name_len[nm], 0);
		else
			ling_buf_add(t, synth_name(g, nm), g->name_len[nm]); /* a JSON number */
		if (to != SYNTH_NONE) {
			ling_buf_adds(t, ",\"to\":");
			if (vt == KG_VALUE_ENTITY || vt == KG_VALUE_DATE)
				ling_json_add_str(t, synth_name(g, to), g->name_len[to], 0);
			else
				ling_buf_add(t, synth_name(g, to), g->name_len[to]);
		}
		if (reverse)
			ling_buf_adds(t, ",\"sort\":\"reverse_alphabetical\"");
		if (limit)
			ling_buf_addf(t, ",\"limit\":%d", limit);
		ling_buf_addc(t, '}');
		c = pend_call(p, tool, args, turn);
		if (to != SYNTH_NONE) {
			struct ling_buf from = LING_BUF_INIT, end = LING_BUF_INIT;

			ling_buf_add(&from, synth_name(g, nm), g->name_len[nm]);
			ling_buf_add(&end, synth_name(g, to), g->name_len[to]);
			rc = synth_exec_range(g, ws, n->x, g->ts->tools[tool].range_type, &from, &end, &ws->tmp);
			ling_buf_release(&from);
			ling_buf_release(&end);
			if (!rc && !limit && ws->tmp.n > p->lim->branch)
				rc = REJ(FANOUT);
		} else {
			rc = synth_exec_rel(g, n->x, nm, &ws->tmp, limit ? SYNTH_SET_LIMIT : p->lim->branch);
		}
		if (rc)
			return rc;
		if (limit) {
			/* the first limit names in the call's order: sorted, or reversed */
			ws->vals.n = 0;
			for (k = 0; k < ws->tmp.n && k < (size_t)limit; k++)
				ling_u32s_push(&ws->vals, ws->tmp.v[reverse ? ws->tmp.n - 1 - k : k]);
			set_result(p, c, &ws->vals);
			synth_set_sort_unique(&ws->vals);
			synth_set_copy(&ws->tmp, ws->vals.v, ws->vals.n);
		} else {
			set_result(p, c, &ws->tmp);
		}
		synth_set_or(val->v, val->n, ws->tmp.v, ws->tmp.n, &ws->tmp2);
		synth_set_copy(val, ws->tmp2.v, ws->tmp2.n);
	}
	add_step(p, turn, SYNTH_STEP_HOP, n->x, q->n[n->kid[0]].op == SYNTH_ANCHOR ? in->v[0] : SYNTH_NONE, in->n);
	avail[i] = turn;
	return 0;
}

/* An intersection call of the positive kids, then a difference call for a negated one. */
static int plan_and(struct planner *p, struct synth_query *q, int i)
{
	const struct synth_graph *g = p->g;
	struct synth_ws *ws = p->ws;
	const struct synth_qnode *n = &q->n[i];
	struct ling_u32s *val = &ws->nval[p->qi][i];
	uint32_t *avail = ws->avail[p->qi];
	int k, rc;
	const struct ling_u32s *pos[3], *neg = NULL;
	uint32_t tpos = 0, tneg = 0;
	size_t npos = 0;

	for (k = 0; k < n->nkids; k++) {
		uint32_t t = avail[n->kid[k]];

		if (n->negated[k]) {
			neg = &ws->nval[p->qi][n->kid[k]];
			tneg = t;
		} else {
			pos[npos++] = &ws->nval[p->qi][n->kid[k]];
			tpos = t > tpos ? t : tpos;
		}
	}
	if (npos > 1) {
		/* the intersection's result goes to val, or to tmp2 when a difference follows */
		struct ling_u32s *out = neg ? &ws->mark : val;

		if ((rc = logic_call(p, g->tool_and, pos, npos, tpos + 1, out)))
			return rc;
		tpos++;
		if (!out->n)
			return REJ(EMPTY);
		pos[0] = out;
	}
	if (neg) {
		const struct ling_u32s *two[2] = { pos[0], neg };
		uint32_t t = (tpos > tneg ? tpos : tneg) + 1;

		if ((rc = logic_call(p, g->tool_minus, two, 2, t, val)))
			return rc;
		avail[i] = t;
	} else {
		avail[i] = tpos;
	}
	return val->n ? 0 : REJ(EMPTY);
}

/* A union call of the kids. */
static int plan_or(struct planner *p, struct synth_query *q, int i)
{
	const struct synth_graph *g = p->g;
	struct synth_ws *ws = p->ws;
	const struct synth_qnode *n = &q->n[i];
	struct ling_u32s *val = &ws->nval[p->qi][i];
	uint32_t *avail = ws->avail[p->qi];
	int k, rc;
	const struct ling_u32s *sets[3];
	uint32_t t = 0;

	for (k = 0; k < n->nkids; k++) {
		sets[k] = &ws->nval[p->qi][n->kid[k]];
		t = avail[n->kid[k]] > t ? avail[n->kid[k]] : t;
	}
	if ((rc = logic_call(p, g->tool_or, sets, (size_t)n->nkids, t + 1, val)))
		return rc;
	avail[i] = t + 1;
	return val->n ? 0 : REJ(EMPTY);
}

static int plan_node(struct planner *p, struct synth_query *q, int i)
{
	const struct synth_qnode *n = &q->n[i];
	int k, rc;

	p->ws->nval[p->qi][i].n = 0;
	p->ws->avail[p->qi][i] = 0;
	for (k = 0; k < n->nkids; k++)
		if ((rc = plan_node(p, q, n->kid[k])))
			return rc;
	switch (n->op) {
	case SYNTH_ANCHOR:
		return plan_anchor(p, q, i);
	case SYNTH_HOP:
		return plan_hop(p, q, i);
	case SYNTH_AND:
		return plan_and(p, q, i);
	case SYNTH_OR:
		return plan_or(p, q, i);
	}
	return REJ(EMPTY);
}

/* Whether an entity of name nm is a value said as a label (synth_graph.ent_label). */
static int label_name(const struct synth_graph *g, uint32_t nm)
{
	uint32_t k;

	for (k = g->name_ent_off[nm]; k < g->name_ent_off[nm + 1]; k++)
		if (g->ent_label && g->ent_label[g->name_ent[k]])
			return 1;
	return 0;
}

/* The ReAct thought of a turn: what its steps do (a search with the name as the user spelled it). */
static void turn_thought(const struct synth_graph *g, struct synth_ws *ws, uint32_t turn, int last,
			 const struct synth_text *tx, uint64_t *rng, struct ling_buf *out)
{
	size_t i, n = 0;

	ws->tsteps = xgrow(ws->tsteps, &ws->tsteps_cap, ws->nsteps + 1, sizeof(*ws->tsteps));
	for (i = 0; i < ws->nsteps; i++) {
		const struct synth_plan_step *p = &ws->steps[i];
		struct synth_step *t = &ws->tsteps[n];

		if (p->turn != turn)
			continue;
		memset(t, 0, sizeof(*t));
		t->kind = p->kind;
		t->n = p->n;
		if (p->kind == SYNTH_STEP_SEARCH)
			t->name = ws->asked.data;
		if (p->kind == SYNTH_STEP_HOP) {
			t->rel = &g->rel[p->dir >> 1].words;
			t->inverse = (int)(p->dir & 1);
			if (p->name != SYNTH_NONE) {
				t->name = synth_name(g, p->name);
				t->label = label_name(g, p->name);
			}
		}
		n++;
	}
	synth_text_step_thought(tx, ws->tsteps, n, turn, last, rng, out);
}

int synth_plan(const struct synth_graph *g, const struct synth_limits *lim, struct synth_ws *ws,
	       struct synth_sample *s, const int *qs, size_t nq, const struct synth_text *tx, int react,
	       uint64_t *rng, int meta_only)
{
	struct planner p;
	uint32_t turn, last = 0;
	size_t i, j;
	int rc;

	p.g = g;
	p.lim = lim;
	p.ws = ws;
	p.s = s;
	ws->npend = 0;
	ws->nsteps = 0;
	for (i = 0; i < nq; i++) {
		struct synth_query *q = &ws->q[qs[i]];

		p.qi = qs[i];
		if ((rc = plan_node(&p, q, q->nn - 1)))
			return rc;
		/* Names shared by several entities can make the calls answer more than the gold set. */
		if (!synth_set_equal(&ws->nval[qs[i]][q->nn - 1], &q->answer))
			return REJ(AMBIGUOUS);
		if (ws->avail[qs[i]][q->nn - 1] > last)
			last = ws->avail[qs[i]][q->nn - 1];
	}
	for (turn = 1; turn <= last; turn++) {
		struct synth_msg *m = NULL;
		size_t first = s->ncall;

		if (!meta_only) {
			m = synth_sample_add_msg(s, SYNTH_MSG_CALLS);
			m->call = (uint32_t)first;
			if (react) {
				size_t at = s->text.len;

				turn_thought(g, ws, turn, turn == last, tx, rng, &s->text);
				m = &s->msg[s->nmsg - 1];
				m->text = (uint32_t)at;
				m->text_len = (uint32_t)(s->text.len - at);
				m->has_text = 1;
			}
		}
		for (j = 0; j < ws->npend; j++) {
			if (ws->pend[j].turn != turn)
				continue;
			s->call = xgrow(s->call, &s->call_cap, s->ncall + 1, sizeof(*s->call));
			s->call[s->ncall++] = ws->pend[j];
		}
		if (s->ncall == first)
			return REJ(EMPTY); /* cannot happen: a turn exists because a call needs it */
		if (m)
			s->msg[s->nmsg - 1].ncalls = (uint32_t)(s->ncall - first);
	}
	return 0;
}

const struct synth_node *synth_query_asked(const struct synth_graph *g, struct synth_ws *ws, int qi)
{
	struct synth_query *q = &ws->q[qi];
	const struct synth_node *root = synth_query_words(g, q);

	if (ws->search[qi] >= 0)
		q->tn[ws->search[qi]].name = ws->asked.data;
	if (ws->range_to[qi] != SYNTH_NONE)
		q->tn[0].name = ws->range_name.data;
	return root;
}
