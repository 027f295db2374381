/*
 * kg_tool_call: executing one tool call on the store, and batches of calls
 * as JSON Lines (kg-query --call/--calls). The contract is in kg.h.
 */
#include "kg_tools_internal.h"

#include "../common/ling_json.h"
#include "../common/ling_jsonl.h"
#include "../common/ling_utf8.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

/* ---- calls ---- */

struct str_vec {
	const char **v;
	size_t n, cap;
};

static void str_push(struct str_vec *s, const char *x)
{
	s->v = xgrow(s->v, &s->cap, s->n + 1, sizeof(*s->v));
	s->v[s->n++] = x;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void str_sort_unique(struct str_vec *s)
{
	size_t i, n = 0;

	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), cmp_str);
	for (i = 0; i < s->n; i++)
		if (!n || strcmp(s->v[n - 1], s->v[i]))
			s->v[n++] = s->v[i];
	s->n = n;
}

static int push_id(void *ctx, kg_id id)
{
	struct id_vec *v = ctx;

	v->v = xgrow(v->v, &v->cap, v->n + 1, sizeof(*v->v));
	v->v[v->n++] = id;
	return 0;
}

/* The entities whose display name is exactly name, into ids (sorted, distinct). */
static int resolve(struct kg_store *st, const struct kg_toolset *ts, const char *name, struct id_vec *ids,
		   struct ling_err *err)
{
	struct id_vec cands = { 0 };
	size_t i;
	int rc;

	if ((rc = kg_store_find_label(st, name, NULL, push_id, &cands, err)))
		goto out;
	if (name[0] == '<' || name[0] == '"' || !strncmp(name, "_:", 2)) {
		struct ling_err ignored;
		kg_id id;
		int found = 0;

		ling_err_clear(&ignored);
		if (!kg_store_nt_id(st, name, &id, &found, &ignored) && found)
			push_id(&cands, id);
	}
	kg_id_vec_unique(&cands);
	for (i = 0; i < cands.n; i++) {
		const char *shown;

		if ((rc = kg_tool_display_name(st, ts, cands.v[i], &shown, err)))
			goto out;
		if (!strcmp(shown, name))
			push_id(ids, cands.v[i]);
	}
out:
	free(cands.v);
	return rc;
}

/* Checks that args has exactly the keys given. */
static int check_keys(const struct kg_tool *t, json_t *args, const char *const *keys, size_t n,
		      struct ling_err *err)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(args, key, v) {
		for (i = 0; i < n && strcmp(key, keys[i]); i++)
			;
		if (i == n)
			return ling_err_set(err, LING_EDATA, "%s: unexpected argument '%s'", t->name, key);
	}
	for (i = 0; i < n; i++)
		if (!json_object_get(args, keys[i]))
			return ling_err_set(err, LING_EDATA, "%s: missing argument '%s'", t->name, keys[i]);
	return 0;
}

static int string_list(const struct kg_tool *t, const char *what, json_t *a, struct str_vec *out,
		       struct ling_err *err)
{
	size_t i;
	json_t *v;

	if (!json_is_array(a))
		return ling_err_set(err, LING_EDATA, "%s: %s must be an array of strings", t->name, what);
	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			return ling_err_set(err, LING_EDATA, "%s: %s must be an array of strings", t->name, what);
		if (out)
			str_push(out, json_string_value(v));
	}
	return 0;
}

static int contains(const struct str_vec *sorted, const char *s)
{
	return sorted->n && bsearch(&s, sorted->v, sorted->n, sizeof(*sorted->v), cmp_str) != NULL;
}

/* The logic tools, on arguments check_args took. */
static int call_sets(const struct kg_tool *t, json_t *args, struct str_vec *res, struct ling_err *err)
{
	struct str_vec cur = { 0 }, next = { 0 };
	json_t *sets, *v;
	size_t i, j;
	int rc;

	if (t->kind == KG_TOOL_DIFFERENCE) {
		if ((rc = string_list(t, "items", json_object_get(args, "items"), res, err)) ||
		    (rc = string_list(t, "exclude", json_object_get(args, "exclude"), &cur, err)))
			goto out;
		str_sort_unique(res);
		str_sort_unique(&cur);
		for (i = j = 0; i < res->n; i++)
			if (!contains(&cur, res->v[i]))
				res->v[j++] = res->v[i];
		res->n = j;
		goto out;
	}
	sets = json_object_get(args, "sets");
	json_array_foreach(sets, i, v) {
		if ((rc = string_list(t, "each set", v, t->kind == KG_TOOL_UNION || i == 0 ? res : &cur, err)))
			goto out;
		if (t->kind == KG_TOOL_UNION || i == 0)
			continue;
		/* res = res ∩ cur */
		str_sort_unique(res);
		str_sort_unique(&cur);
		next.n = 0;
		for (j = 0; j < res->n; j++)
			if (contains(&cur, res->v[j]))
				str_push(&next, res->v[j]);
		res->n = 0;
		for (j = 0; j < next.n; j++)
			str_push(res, next.v[j]);
		cur.n = 0;
	}
out:
	free(cur.v);
	free(next.v);
	return rc;
}

/* The literal of N-Triples form nt, or 0 when nt is no literal. */
static int literal_of(const char *nt, struct kg_term *lit, struct ling_buf *storage)
{
	struct ling_err ignored;

	return nt[0] == '"' && !kg_nt_term_parse(nt, strlen(nt), lit, storage, &ignored);
}

/* The optional arguments of a relation tool, as check_args read them. */
struct call_opts {
	int range;              /* "to" given: from..to */
	struct ling_buf from, to; /* canonical values (of t->range_type) */
	int descending;         /* "sort" is reverse_alphabetical or descending */
	int by_value;           /* "sort" is ascending or descending */
	json_int_t limit;       /* 0: none */
};

static void call_opts_release(struct call_opts *o)
{
	ling_buf_release(&o->from);
	ling_buf_release(&o->to);
}

/* The canonical value the argument key of a literal relation's inverse tool stands for, into want. */
static int value_argument(const struct kg_tool *t, const char *key, json_t *arg, struct ling_buf *want,
			  struct ling_err *err)
{
	static const char *const expected[] = { "a string", "an integer", "a number", "a date as YYYY-MM-DD",
						"an integer (a year)", "a string" };
	struct ling_buf text = LING_BUF_INIT;
	int is_string = json_is_string(arg), rc = -1;

	if (is_string)
		ling_buf_add(&text, json_string_value(arg), json_string_length(arg));
	else if (json_is_integer(arg))
		ling_buf_addf(&text, "%" JSON_INTEGER_FORMAT, json_integer_value(arg));
	else if (json_is_real(arg) && t->value == KG_VALUE_NUMBER)
		ling_buf_addf(&text, "%.17g", json_real_value(arg));
	if (is_string || text.len)
		rc = kg_value_of_arg(t->value, is_string, text.data ? text.data : "", text.len, want);
	ling_buf_release(&text);
	if (rc)
		return ling_err_set(err, LING_EDATA, "%s: argument '%s' must be %s", t->name, key,
				    expected[t->value]);
	return 0;
}

/* Whether have[0..n) is want, or within want..to for a range. */
static int value_matches(const struct kg_tool *t, const char *have, size_t n, const struct ling_buf *want,
			 const struct call_opts *o)
{
	if (!o->range)
		return n == want->len && !memcmp(have, want->data, n);
	return kg_value_cmp(t->range_type, o->from.data, o->from.len, have, n) <= 0 &&
	       kg_value_cmp(t->range_type, have, n, o->to.data, o->to.len) <= 0;
}

/* The subjects whose literal object's value is want (or in its range): every object is read and compared. */
static int find_by_value(struct kg_store *st, const struct kg_toolset *ts, const struct kg_tool *t,
			 const struct ling_buf *want, const struct call_opts *o, struct id_vec *found,
			 struct ling_err *err)
{
	struct id_vec objs = { 0 };
	struct ling_buf have = LING_BUF_INIT, storage = LING_BUF_INIT;
	size_t i;
	int rc;

	if ((rc = kg_tool_collect(st, 0, t->predicate, 0, 2, &objs, err)))
		goto out;
	kg_id_vec_unique(&objs);
	for (i = 0; i < objs.n; i++) {
		struct kg_term lit;
		const char *nt;

		if ((rc = kg_tool_term_nt(st, ts, objs.v[i], &nt, err)))
			goto out;
		if (!literal_of(nt, &lit, &storage))
			continue;
		ling_buf_reset(&have);
		if (kg_value_canonical(t->value, lit.value, lit.len, &have) == 1 &&
		    value_matches(t, have.data, have.len, want, o) &&
		    (rc = kg_tool_collect(st, 0, t->predicate, objs.v[i], 0, found, err)))
			goto out;
	}
out:
	free(objs.v);
	ling_buf_release(&have);
	ling_buf_release(&storage);
	return rc;
}

/* The subjects of the objects of an entity relation whose names, as integers, are in o's range. */
static int find_by_name_range(struct kg_store *st, const struct kg_toolset *ts, const struct kg_tool *t,
			      const struct call_opts *o, struct id_vec *found, struct ling_err *err)
{
	struct id_vec objs = { 0 };
	struct ling_buf none = LING_BUF_INIT;
	size_t i;
	int rc;

	if ((rc = kg_tool_collect(st, 0, t->predicate, 0, 2, &objs, err)))
		goto out;
	kg_id_vec_unique(&objs);
	for (i = 0; i < objs.n; i++) {
		const char *shown;

		if ((rc = kg_tool_display_name(st, ts, objs.v[i], &shown, err)))
			goto out;
		if (kg_value_is_canonical(KG_VALUE_INTEGER, shown, strlen(shown)) &&
		    value_matches(t, shown, strlen(shown), &none, o) &&
		    (rc = kg_tool_collect(st, 0, t->predicate, objs.v[i], 0, found, err)))
			goto out;
	}
out:
	free(objs.v);
	return rc;
}

/* The values of a literal relation's objects in found (its other objects are left out), into res. */
static int show_values(struct kg_store *st, const struct kg_toolset *ts, const struct kg_tool *t,
		       const struct id_vec *found, struct str_vec *res, struct str_vec *owned, struct ling_err *err)
{
	struct ling_buf value = LING_BUF_INIT, storage = LING_BUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; i < found->n; i++) {
		struct kg_term lit;
		const char *nt;

		if ((rc = kg_tool_term_nt(st, ts, found->v[i], &nt, err)))
			break;
		if (!literal_of(nt, &lit, &storage))
			continue;
		ling_buf_reset(&value);
		kg_value_canonical(t->value, lit.value, lit.len, &value);
		str_push(owned, xstrndup(value.data ? value.data : "", value.len));
		str_push(res, owned->v[owned->n - 1]);
	}
	ling_buf_release(&value);
	ling_buf_release(&storage);
	return rc;
}

/* A relation tool or search_entities, on arguments check_args took. */
static int call_relation(struct kg_store *st, const struct kg_toolset *ts, const struct kg_tool *t, json_t *args,
			 const struct call_opts *o, struct str_vec *res, struct str_vec *owned, struct ling_err *err)
{
	struct id_vec ents = { 0 }, found = { 0 };
	struct ling_buf want = LING_BUF_INIT;
	json_t *arg = json_object_get(args, t->param);
	const char *name;
	size_t i;
	int rc;

	if (t->kind == KG_TOOL_INVERSE && t->value != KG_VALUE_ENTITY) {
		if ((rc = value_argument(t, t->param, arg, &want, err)) ||
		    (rc = find_by_value(st, ts, t, &want, o, &found, err)))
			goto out;
		goto names;
	}
	name = json_string_value(arg);
	if (o->range) {
		if ((rc = find_by_name_range(st, ts, t, o, &found, err)))
			goto out;
	} else if (t->kind == KG_TOOL_SEARCH) {
		if ((rc = kg_store_find_label(st, name, NULL, push_id, &found, err)))
			goto out;
	} else {
		if ((rc = resolve(st, ts, name, &ents, err)))
			goto out;
		if (!ents.n) {
			rc = ling_err_set(err, LING_EDATA, "%s: no entity is named \"%s\"", t->name, name);
			goto out;
		}
		for (i = 0; i < ents.n; i++) {
			if (t->kind == KG_TOOL_FORWARD)
				rc = kg_tool_collect(st, ents.v[i], t->predicate, 0, 2, &found, err);
			else
				rc = kg_tool_collect(st, 0, t->predicate, ents.v[i], 0, &found, err);
			if (rc)
				goto out;
		}
	}
names:
	kg_id_vec_unique(&found);
	if (t->kind == KG_TOOL_FORWARD && t->value != KG_VALUE_ENTITY) {
		rc = show_values(st, ts, t, &found, res, owned, err);
		goto out;
	}
	for (i = 0; i < found.n; i++) {
		const char *shown;

		if ((rc = kg_tool_display_name(st, ts, found.v[i], &shown, err)))
			goto out;
		str_push(res, shown);
	}
out:
	free(ents.v);
	free(found.v);
	ling_buf_release(&want);
	return rc;
}

static int in_enum(const struct kg_tool *t, const char *s)
{
	return bsearch(&s, t->enums, t->nenums, sizeof(*t->enums), cmp_str) != NULL;
}

/* The optional arguments of a relation tool, into o; want is its parameter's value (literal inverse tools). */
static int check_options(const struct kg_tool *t, json_t *args, const struct ling_buf *want, struct call_opts *o,
			 struct ling_err *err)
{
	json_t *v;
	int rc;

	if ((v = json_object_get(args, "to"))) {
		if (t->value == KG_VALUE_ENTITY) {
			/* names that are integers: both ends are */
			const char *from = json_string_value(json_object_get(args, t->param)), *end = json_string_value(v);

			if (!end || !kg_value_is_canonical(KG_VALUE_INTEGER, end, strlen(end)) ||
			    !kg_value_is_canonical(KG_VALUE_INTEGER, from, strlen(from)))
				return ling_err_set(err, LING_EDATA,
						    "%s: with 'to', '%s' and 'to' must be integers written as strings",
						    t->name, t->param);
			ling_buf_adds(&o->from, from);
			ling_buf_adds(&o->to, end);
		} else {
			if ((rc = value_argument(t, "to", v, &o->to, err)))
				return rc;
			ling_buf_add(&o->from, want->data, want->len);
		}
		if (kg_value_cmp(t->range_type, o->to.data, o->to.len, o->from.data, o->from.len) < 0)
			return ling_err_set(err, LING_EDATA, "%s: argument 'to' must not be less than '%s'", t->name,
					    t->param);
		o->range = 1;
	}
	if ((v = json_object_get(args, "sort"))) {
		const char *asc = t->opts & KG_TOOL_OPT_SORT_VALUE ? "ascending" : "alphabetical";
		const char *desc = t->opts & KG_TOOL_OPT_SORT_VALUE ? "descending" : "reverse_alphabetical";
		const char *w = json_string_value(v);

		if (!w || (strcmp(w, asc) && strcmp(w, desc)))
			return ling_err_set(err, LING_EDATA, "%s: argument 'sort' must be \"%s\" or \"%s\"", t->name,
					    asc, desc);
		o->descending = !strcmp(w, desc);
		o->by_value = !!(t->opts & KG_TOOL_OPT_SORT_VALUE);
	}
	if ((v = json_object_get(args, "limit"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 1)
			return ling_err_set(err, LING_EDATA, "%s: argument 'limit' must be an integer of 1 or more",
					    t->name);
		o->limit = json_integer_value(v);
	}
	return 0;
}

/* Checks that args has the required key and no key but the tool's parameters. */
static int check_relation_keys(const struct kg_tool *t, json_t *args, struct ling_err *err)
{
	const char *key;
	json_t *v;

	json_object_foreach(args, key, v) {
		if (!strcmp(key, t->param) || (!strcmp(key, "to") && t->opts & KG_TOOL_OPT_RANGE) ||
		    (!strcmp(key, "sort") && t->opts & (KG_TOOL_OPT_SORT | KG_TOOL_OPT_SORT_VALUE)) ||
		    (!strcmp(key, "limit") && t->opts & KG_TOOL_OPT_LIMIT))
			continue;
		return ling_err_set(err, LING_EDATA, "%s: unexpected argument '%s'", t->name, key);
	}
	if (!json_object_get(args, t->param))
		return ling_err_set(err, LING_EDATA, "%s: missing argument '%s'", t->name, t->param);
	return 0;
}

/*
 * Checks parsed arguments against t's schema (an object with its required
 * keys and no others, of its types, in its enum) and, for a literal
 * relation's inverse tool, that the value is one of the relation's type;
 * the optional arguments go to o.
 */
static int check_args(const struct kg_tool *t, json_t *args, struct call_opts *o, struct ling_err *err)
{
	static const char *const sets_key[] = { "sets" }, *const diff_keys[] = { "items", "exclude" };
	const char *const param_key[] = { t->param };
	struct ling_buf want = LING_BUF_INIT;
	json_t *sets, *v;
	size_t i;
	int rc;

	if (!json_is_object(args))
		return ling_err_set(err, LING_EDATA, "%s: arguments must be a JSON object", t->name);
	switch (t->kind) {
	case KG_TOOL_DIFFERENCE:
		if ((rc = check_keys(t, args, diff_keys, 2, err)) ||
		    (rc = string_list(t, "items", json_object_get(args, "items"), NULL, err)))
			return rc;
		return string_list(t, "exclude", json_object_get(args, "exclude"), NULL, err);
	case KG_TOOL_INTERSECTION:
	case KG_TOOL_UNION:
		if ((rc = check_keys(t, args, sets_key, 1, err)))
			return rc;
		sets = json_object_get(args, "sets");
		if (!json_is_array(sets) || json_array_size(sets) < 2)
			return ling_err_set(err, LING_EDATA, "%s: sets must be an array of two or more arrays of strings",
					    t->name);
		json_array_foreach(sets, i, v)
			if ((rc = string_list(t, "each set", v, NULL, err)))
				return rc;
		return 0;
	case KG_TOOL_SEARCH:
		if ((rc = check_keys(t, args, param_key, 1, err)))
			return rc;
		if (!json_is_string(json_object_get(args, t->param)))
			return ling_err_set(err, LING_EDATA, "%s: argument '%s' must be a string", t->name, t->param);
		return 0;
	default:
		if ((rc = check_relation_keys(t, args, err)))
			return rc;
		v = json_object_get(args, t->param);
		if (t->kind == KG_TOOL_INVERSE && t->value != KG_VALUE_ENTITY)
			rc = value_argument(t, t->param, v, &want, err);
		else if (!json_is_string(v))
			rc = ling_err_set(err, LING_EDATA, "%s: argument '%s' must be a string", t->name, t->param);
		if (!rc && t->enums && !in_enum(t, want.len ? want.data : json_string_value(v)))
			rc = ling_err_set(err, LING_EDATA, "%s: argument '%s' must be one of the %zu values its enum lists",
					  t->name, t->param, t->nenums);
		if (!rc)
			rc = check_options(t, args, &want, o, err);
		ling_buf_release(&want);
		return rc;
	}
}

int kg_tool_args_check(const struct kg_tool *t, const char *args_json, struct ling_err *err)
{
	json_error_t jerr;
	json_t *args = json_loads(args_json, JSON_REJECT_DUPLICATES, &jerr);
	struct call_opts o = { 0 };
	int rc;

	if (!args)
		return ling_err_set(err, LING_EDATA, "%s: arguments are not JSON: %s", t->name, jerr.text);
	rc = check_args(t, args, &o, err);
	call_opts_release(&o);
	json_decref(args);
	return rc;
}

static int cmp_value(const void *a, const void *b, void *type)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;

	return kg_value_cmp(*(const enum kg_value_type *)type, x, strlen(x), y, strlen(y));
}

/* Puts the names of res (sorted by bytes, distinct) in the order o asks for, and keeps the first o->limit. */
static void order_and_limit(const struct kg_tool *t, const struct call_opts *o, struct str_vec *res)
{
	size_t i;

	if (o->by_value && res->n > 1) {
		enum kg_value_type type = t->value;

		qsort_r(res->v, res->n, sizeof(*res->v), cmp_value, &type);
	}
	if (o->descending)
		for (i = 0; i < res->n / 2; i++) {
			const char *x = res->v[i];

			res->v[i] = res->v[res->n - 1 - i];
			res->v[res->n - 1 - i] = x;
		}
	if (o->limit && (uint64_t)o->limit < res->n)
		res->n = (size_t)o->limit;
}

int kg_tool_call(struct kg_store *st, const struct kg_toolset *ts, const char *name, const char *args_json,
		 struct ling_buf *result, struct ling_err *err)
{
	const struct kg_tool *t = kg_toolset_find(ts, name);
	struct str_vec res = { 0 }, owned = { 0 };
	struct call_opts o = { 0 };
	json_error_t jerr;
	json_t *args = NULL;
	struct ling_json w;
	size_t i;
	int rc;

	if (!t)
		return ling_err_set(err, LING_EUSAGE, "unknown tool '%s'", name);
	if (ts->priv->names.n >= NAME_CACHE_MAX)
		kg_tool_cache_clear(&ts->priv->names);
	if (ts->priv->terms.n >= NAME_CACHE_MAX)
		kg_tool_cache_clear(&ts->priv->terms);
	args = json_loads(args_json, JSON_REJECT_DUPLICATES, &jerr);
	if (!args)
		return ling_err_set(err, LING_EDATA, "%s: arguments are not JSON: %s", name, jerr.text);
	if ((rc = check_args(t, args, &o, err)))
		goto out;
	if (t->kind == KG_TOOL_FORWARD || t->kind == KG_TOOL_INVERSE || t->kind == KG_TOOL_SEARCH)
		rc = call_relation(st, ts, t, args, &o, &res, &owned, err);
	else
		rc = call_sets(t, args, &res, err);
	if (rc)
		goto out;
	str_sort_unique(&res);
	order_and_limit(t, &o, &res);
	for (i = 0; i < res.n; i++)
		if (ling_utf8_valid_prefix(res.v[i], strlen(res.v[i])) != strlen(res.v[i])) {
			rc = ling_err_set(err, LING_EDATA, "%s: a name is not valid UTF-8", name);
			goto out;
		}
	ling_buf_reset(result);
	ling_json_init(&w, result, 0);
	ling_json_array_begin(&w);
	for (i = 0; i < res.n; i++)
		ling_json_strz(&w, res.v[i]);
	ling_json_array_end(&w);
	ling_json_release(&w);
out:
	call_opts_release(&o);
	json_decref(args);
	free(res.v);
	for (i = 0; i < owned.n; i++)
		free((char *)owned.v[i]);
	free(owned.v);
	return rc;
}

/* ---- a batch of calls ---- */

/* The name and argument text of one record of a calls file. @return 0 or LING_EDATA. */
static int call_record(const char *line, size_t len, const char *src, long lineno, const char **name,
		       char **args, json_t **rec, struct ling_err *err)
{
	json_t *n, *a;
	int rc;

	*args = NULL;
	if ((rc = ling_jsonl_parse(line, len, src, lineno, LING_JSONL_OBJECT, rec, err)))
		return rc;
	n = json_object_get(*rec, "name");
	a = json_object_get(*rec, "arguments");
	if (!json_is_string(n))
		return ling_err_at(err, LING_EDATA, src, lineno, 0, "\"name\" must be a string");
	*name = json_string_value(n);
	if (json_is_string(a))
		*args = xstrdup(json_string_value(a));
	else if (json_is_object(a))
		*args = kg_tool_dump_compact(json_incref(a));
	else
		return ling_err_at(err, LING_EDATA, src, lineno, 0, "\"arguments\" must be a string or an object");
	return 0;
}

/* Writes the line {"<key>":"<text>"} to out, built in line. @return 0, LING_EPIPE or LING_EIO. */
static int write_answer(FILE *out, const char *key, const char *text, size_t len, struct ling_buf *line,
			struct ling_err *err)
{
	struct ling_json w;

	ling_buf_reset(line);
	ling_json_init(&w, line, 0);
	ling_json_object_begin(&w);
	ling_json_keyz(&w, key);
	ling_json_str(&w, text, len);
	ling_json_object_end(&w);
	ling_json_release(&w);
	ling_buf_addc(line, '\n');
	errno = 0;
	if (fwrite(line->data, 1, line->len, out) == line->len)
		return 0;
	return errno == EPIPE ? ling_err_set(err, LING_EPIPE, "the reader of the results went away")
			      : ling_err_set(err, LING_EIO, "cannot write the results: %s",
					     errno ? strerror(errno) : "write error");
}

int kg_tool_calls_jsonl(struct kg_store *st, const struct kg_toolset *ts, struct ling_input *in, FILE *out,
			struct kg_calls_counts *counts, struct ling_err *err)
{
	struct ling_jsonl r;
	struct ling_buf result = LING_BUF_INIT, answer = LING_BUF_INIT;
	const char *line;
	size_t len;
	int rc;

	ling_jsonl_init(&r, in);
	while ((rc = ling_jsonl_next(&r, &line, &len, err)) == 1) {
		struct ling_err cerr;
		const char *name = NULL;
		char *args = NULL;
		json_t *rec = NULL;

		ling_err_clear(&cerr);
		counts->calls++;
		rc = call_record(line, len, ling_input_name(in), r.line, &name, &args, &rec, &cerr);
		if (!rc)
			rc = kg_tool_call(st, ts, name, args, &result, &cerr);
		free(args);
		json_decref(rec);
		if (rc == LING_ESTORE) {
			*err = cerr;
			goto out;
		}
		if (rc) {
			struct ling_buf msg = LING_BUF_INIT;

			counts->errors++;
			if (cerr.line)
				ling_buf_addf(&msg, "line %ld: ", cerr.line);
			ling_buf_adds(&msg, cerr.msg);
			/* A message cut at its 512 bytes may end inside a UTF-8 sequence (json_pack aborted the run). */
			rc = write_answer(out, "error", msg.data, ling_utf8_valid_prefix(msg.data, msg.len), &answer, err);
			ling_buf_release(&msg);
		} else {
			rc = write_answer(out, "result", result.data, result.len, &answer, err);
		}
		if (rc)
			goto out;
	}
out:
	ling_buf_release(&result);
	ling_buf_release(&answer);
	return rc < 0 ? rc : 0;
}
