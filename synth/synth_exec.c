/*
 * synth_exec: tool calls executed on names.
 *
 * Calls run on the snapshot with kg_tool_call()'s semantics (kg/kg.h):
 * a name stands for every entity of that display name; a relation tool
 * returns the distinct names of what those entities reach, sorted by bytes
 * (our name numbers are in byte order); intersection, union and difference
 * are set operations on names. So the text recorded for a call is what
 * `kg-query --call` prints for it on the store. The optional arguments of
 * relation tools ("to", "sort", "limit") are read as kg_tool_call reads
 * them: a range of values, then the order, then the first limit names.
 */
#include "synth_internal.h"

#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

#define REJ(r) SYNTH_REJECT(SYNTH_REJ_##r)

/* ---- execution ---- */

int synth_exec_rel(const struct synth_graph *g, uint32_t d, uint32_t name, struct ling_u32s *out, size_t limit)
{
	uint32_t i;

	out->n = 0;
	for (i = g->name_ent_off[name]; i < g->name_ent_off[name + 1]; i++) {
		const struct synth_edge *b, *e;

		synth_adj(g, g->name_ent[i], d, &b, &e);
		for (; b < e; b++) {
			uint32_t nm = g->ent_name[b->to];

			if (nm == SYNTH_NONE)
				return REJ(UNNAMED);
			ling_u32s_push(out, nm);
		}
		if (out->n > SYNTH_SET_LIMIT)
			return REJ(FANOUT);
	}
	synth_set_sort_unique(out);
	return out->n > limit ? REJ(FANOUT) : 0;
}

void synth_exec_and(const struct ling_u32s *sets, size_t n, struct ling_u32s *out, struct ling_u32s *tmp)
{
	size_t k;

	synth_set_copy(out, sets[0].v, sets[0].n);
	for (k = 1; k < n; k++) {
		synth_set_and(out->v, out->n, sets[k].v, sets[k].n, tmp);
		synth_set_copy(out, tmp->v, tmp->n);
	}
}

void synth_exec_or(const struct ling_u32s *sets, size_t n, struct ling_u32s *out, struct ling_u32s *tmp)
{
	size_t k;

	synth_set_copy(out, sets[0].v, sets[0].n);
	for (k = 1; k < n; k++) {
		synth_set_or(out->v, out->n, sets[k].v, sets[k].n, tmp);
		synth_set_copy(out, tmp->v, tmp->n);
	}
}

static const struct synth_jv *member(const struct synth_jreader *r, const struct synth_jv *v, const char *key)
{
	size_t n = strlen(key);
	uint32_t i;

	for (i = v->kid; i != SYNTH_NONE; i = r->v[i].next)
		if (r->v[i].klen == n && !memcmp(r->scratch.data + r->v[i].key, key, n))
			return &r->v[i];
	return NULL;
}

/* An array of strings as a sorted set of names; REJ(REPLAY) for a string that is no name. */
static int name_set(const struct synth_graph *g, const struct synth_jreader *r, const struct synth_jv *a,
		    struct ling_u32s *out)
{
	uint32_t i;

	out->n = 0;
	if (!a || a->type != SYNTH_J_ARR)
		return REJ(SCHEMA);
	for (i = a->kid; i != SYNTH_NONE; i = r->v[i].next) {
		uint32_t nm;

		if (r->v[i].type != SYNTH_J_STR)
			return REJ(SCHEMA);
		if ((nm = synth_name_find(g, synth_jv_str(r, &r->v[i]), r->v[i].len)) == SYNTH_NONE)
			return REJ(REPLAY);
		ling_u32s_push(out, nm);
	}
	synth_set_sort_unique(out);
	return 0;
}

int synth_call_args(const struct kg_tool *t, const struct synth_jreader *r, const struct synth_jv *root,
		    struct synth_call_args *a, struct ling_buf *want, struct ling_buf *to)
{
	const struct synth_jv *v;

	memset(a, 0, sizeof(*a));
	ling_buf_reset(want);
	ling_buf_reset(to);
	if (!(a->param = member(r, root, t->param)))
		return -1;
	if (t->kind == KG_TOOL_INVERSE && t->value != KG_VALUE_ENTITY) {
		v = a->param;
		if (!(v->type == SYNTH_J_STR || v->type == SYNTH_J_INT || v->type == SYNTH_J_REAL) ||
		    kg_value_of_arg(t->value, v->type == SYNTH_J_STR, synth_jv_str(r, v), v->len, want))
			return -1;
		a->value = 1;
	} else if (a->param->type != SYNTH_J_STR) {
		return -1;
	}
	if ((v = member(r, root, "to")) && t->opts & KG_TOOL_OPT_RANGE) {
		if (t->value == KG_VALUE_ENTITY) {
			/* names that are integers: both ends are, as strings */
			if (v->type != SYNTH_J_STR ||
			    !kg_value_is_canonical(KG_VALUE_INTEGER, synth_jv_str(r, a->param), a->param->len) ||
			    !kg_value_is_canonical(KG_VALUE_INTEGER, synth_jv_str(r, v), v->len))
				return -1;
			ling_buf_add(want, synth_jv_str(r, a->param), a->param->len);
			ling_buf_add(to, synth_jv_str(r, v), v->len);
		} else if (!(v->type == SYNTH_J_STR || v->type == SYNTH_J_INT || v->type == SYNTH_J_REAL) ||
			   kg_value_of_arg(t->value, v->type == SYNTH_J_STR, synth_jv_str(r, v), v->len, to)) {
			return -1;
		}
		if (kg_value_cmp(t->range_type, to->data, to->len, want->data, want->len) < 0)
			return -1;
		a->range = 1;
	}
	if ((v = member(r, root, "sort")) && t->opts & (KG_TOOL_OPT_SORT | KG_TOOL_OPT_SORT_VALUE)) {
		if (v->type != SYNTH_J_STR)
			return -1;
		a->descending = !strcmp(synth_jv_str(r, v), "descending") ||
				!strcmp(synth_jv_str(r, v), "reverse_alphabetical");
		a->by_value = !!(t->opts & KG_TOOL_OPT_SORT_VALUE);
	}
	if ((v = member(r, root, "limit")) && t->opts & KG_TOOL_OPT_LIMIT) {
		/* the schema has taken an integer >= 1; one beyond 64 bits is no limit */
		unsigned long long n = strtoull(synth_jv_str(r, v), NULL, 10);

		if (v->type != SYNTH_J_INT)
			return -1;
		a->limit = n > SIZE_MAX ? SIZE_MAX : (size_t)n;
	}
	return 0;
}

int synth_exec_range(const struct synth_graph *g, struct synth_ws *ws, uint32_t d, enum kg_value_type vt,
		     const struct ling_buf *want, const struct ling_buf *to, struct ling_u32s *out)
{
	uint32_t i;
	int rc;

	ws->vals.n = 0;
	for (i = g->src_off[d]; i < g->src_off[d + 1]; i++) {
		uint32_t nm = g->ent_name[g->src[i]];

		if (nm == SYNTH_NONE || !kg_value_is_canonical(vt, synth_name(g, nm), g->name_len[nm]) ||
		    kg_value_cmp(vt, want->data, want->len, synth_name(g, nm), g->name_len[nm]) > 0 ||
		    kg_value_cmp(vt, synth_name(g, nm), g->name_len[nm], to->data, to->len) > 0)
			continue;
		ling_u32s_push(&ws->vals, nm);
	}
	synth_set_sort_unique(&ws->vals);
	out->n = 0;
	for (i = 0; i < ws->vals.n; i++) {
		if ((rc = synth_exec_rel(g, d, ws->vals.v[i], &ws->tmp3, SYNTH_SET_LIMIT)))
			return rc;
		synth_set_or(out->v, out->n, ws->tmp3.v, ws->tmp3.n, &ws->tmp2);
		synth_set_copy(out, ws->tmp2.v, ws->tmp2.n);
		if (out->n > SYNTH_SET_LIMIT)
			return REJ(FANOUT);
	}
	return 0;
}

/* Orders the sorted names of a relation tool's result as a asks, and keeps the first a->limit. */
static void order(const struct synth_graph *g, enum kg_value_type vt, const struct synth_call_args *a,
		  struct ling_u32s *out)
{
	size_t i, j;

	if (a->by_value)
		/* insertion sort by value: results of value tools are a few values */
		for (i = 1; i < out->n; i++) {
			uint32_t x = out->v[i];

			for (j = i; j > 0 && kg_value_cmp(vt, synth_name(g, out->v[j - 1]), g->name_len[out->v[j - 1]],
							   synth_name(g, x), g->name_len[x]) > 0; j--)
				out->v[j] = out->v[j - 1];
			out->v[j] = x;
		}
	if (a->descending)
		for (i = 0; i < out->n / 2; i++) {
			uint32_t x = out->v[i];

			out->v[i] = out->v[out->n - 1 - i];
			out->v[out->n - 1 - i] = x;
		}
	if (a->limit && a->limit < out->n)
		out->n = a->limit;
}

int synth_exec_call(const struct synth_graph *g, struct synth_ws *ws, uint32_t tool, const char *args, size_t len,
		    struct ling_u32s *out)
{
	struct synth_call_args a;
	const struct kg_tool *t;
	const struct synth_jreader *r = &ws->jr;
	const struct synth_jv *root, *v;
	uint32_t i, nm;
	size_t n = 0;
	int rc;

	if (tool >= g->ntools)
		return REJ(SCHEMA);
	t = &g->ts->tools[tool];
	if (synth_json_parse(&ws->jr, args, len) || r->v[0].type != SYNTH_J_OBJ)
		return REJ(SCHEMA);
	root = &r->v[0];
	if (!synth_schema_valid(g->schema[tool], r, root))
		return REJ(SCHEMA);
	switch (t->kind) {
	case KG_TOOL_FORWARD:
	case KG_TOOL_INVERSE:
		if (synth_call_args(t, r, root, &a, &ws->buf, &ws->buf2))
			return REJ(SCHEMA);
		v = a.param;
		out->n = 0;
		if (a.range) {
			rc = synth_exec_range(g, ws, g->tool_dir[tool], t->range_type, &ws->buf, &ws->buf2, out);
		} else if (a.value) {
			/* a value: a literal no entity has answers [], as kg_tool_call does */
			nm = synth_name_find(g, ws->buf.data, ws->buf.len);
			rc = nm == SYNTH_NONE ? 0 : synth_exec_rel(g, g->tool_dir[tool], nm, out, SYNTH_SET_LIMIT);
		} else {
			if ((nm = synth_name_find(g, synth_jv_str(r, v), v->len)) == SYNTH_NONE)
				return REJ(REPLAY);
			rc = synth_exec_rel(g, g->tool_dir[tool], nm, out, SYNTH_SET_LIMIT);
		}
		if (!rc)
			order(g, g->rel[g->tool_dir[tool] >> 1].value, &a, out);
		return rc;
	case KG_TOOL_INTERSECTION:
	case KG_TOOL_UNION:
		v = member(r, root, "sets");
		if (!v || v->type != SYNTH_J_ARR || v->n < 2 || root->n != 1)
			return REJ(SCHEMA);
		if (v->n > sizeof(ws->sets) / sizeof(ws->sets[0]))
			return REJ(REPLAY);
		for (i = v->kid; i != SYNTH_NONE; i = r->v[i].next)
			if ((rc = name_set(g, r, &r->v[i], &ws->sets[n++])))
				return rc;
		if (t->kind == KG_TOOL_UNION)
			synth_exec_or(ws->sets, n, out, &ws->tmp3);
		else
			synth_exec_and(ws->sets, n, out, &ws->tmp3);
		return 0;
	case KG_TOOL_DIFFERENCE:
		if (root->n != 2)
			return REJ(SCHEMA);
		if ((rc = name_set(g, r, member(r, root, "items"), &ws->sets[0])) ||
		    (rc = name_set(g, r, member(r, root, "exclude"), &ws->sets[1])))
			return rc;
		synth_set_minus(ws->sets[0].v, ws->sets[0].n, ws->sets[1].v, ws->sets[1].n, out);
		return 0;
	case KG_TOOL_SEARCH:
		/* search_entities folds case with ICU on the store: only the searches in the search table replay */
		v = member(r, root, t->param);
		if (!v || v->type != SYNTH_J_STR || root->n != 1)
			return REJ(SCHEMA);
		if ((nm = synth_search_find(g, synth_jv_str(r, v), v->len)) == SYNTH_NONE)
			return REJ(REPLAY);
		out->n = 0;
		ling_u32s_push(out, nm);
		return 0;
	}
	return REJ(REPLAY);
}

