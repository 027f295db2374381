/*
 * kg_summary: what a store holds, as kg-stat shows it: the totals and the
 * counter lists of the store, sorted, written as text or one JSON object.
 * The contract is in kg.h.
 */
#include "kg.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

struct collect_ctx {
	struct kg_store *store;
	struct kg_count_list *list;
	int by_id; /* keys are term ids to look up */
	struct ling_err *err;
};

static int collect(void *ctx, const char *key, size_t key_len, const int64_t *lanes, size_t nlanes)
{
	struct collect_ctx *c = ctx;
	struct kg_count_list *l = c->list;
	struct ling_buf name = LING_BUF_INIT;

	(void)nlanes;
	if (c->by_id) {
		if (key_len != 8 || kg_store_term_nt(c->store, kg_id_from_be(key), &name, c->err))
			return -1;
	} else {
		ling_buf_add(&name, key, key_len);
	}
	l->items = xgrow(l->items, &l->cap, l->n + 1, sizeof(*l->items));
	l->items[l->n].name = name.data ? name.data : xstrdup("");
	l->items[l->n].count = lanes[0];
	l->n++;
	return 0;
}

static int by_count_desc(const void *a, const void *b)
{
	const struct kg_count *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int read_list(struct kg_store *st, char kind, int by_id, struct kg_count_list *l, struct ling_err *err)
{
	struct collect_ctx c = { st, l, by_id, err };
	int rc = kg_store_counts(st, kind, collect, &c, err);

	if (!rc && l->n > 1)
		qsort(l->items, l->n, sizeof(*l->items), by_count_desc);
	return rc;
}

int kg_summary_read(struct kg_store *st, struct kg_summary *out, struct ling_err *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = kg_store_stats(st, &out->stats, err)) || (rc = read_list(st, 'p', 1, &out->predicates, err)) ||
	    (rc = read_list(st, 'l', 0, &out->languages, err)) || (rc = read_list(st, 'y', 1, &out->types, err)))
		kg_summary_release(out);
	return rc;
}

static void release_list(struct kg_count_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->items[i].name);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

void kg_summary_release(struct kg_summary *s)
{
	release_list(&s->predicates);
	release_list(&s->languages);
	release_list(&s->types);
}

static json_t *list_json(const struct kg_count_list *l, size_t top)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < l->n && (top == 0 || i < top); i++)
		json_array_append_new(arr, json_pack("{s:s,s:I}", "name", l->items[i].name, "count",
						     (json_int_t)l->items[i].count));
	return arr;
}

void kg_summary_json(const struct kg_summary *s, size_t top, struct ling_buf *out)
{
	const struct kg_stats *st = &s->stats;
	json_t *o = json_pack("{s:I,s:I,s:I,s:I,s:I}", "quads", (json_int_t)st->quads, "terms", (json_int_t)st->terms,
			      "entities", (json_int_t)st->entities, "predicates", (json_int_t)st->predicates,
			      "disk_bytes", (json_int_t)st->disk_bytes);
	char *text;

	json_object_set_new(o, "top_predicates", list_json(&s->predicates, top));
	json_object_set_new(o, "label_languages", list_json(&s->languages, 0));
	json_object_set_new(o, "top_types", list_json(&s->types, top));
	text = json_dumps(o, JSON_COMPACT);
	ling_buf_adds(out, text);
	ling_buf_addc(out, '\n');
	free(text);
	json_decref(o);
}

static void list_text(const char *title, const struct kg_count_list *l, size_t top, struct ling_buf *out)
{
	size_t i;

	ling_buf_addf(out, "%s (%zu):\n", title, l->n);
	for (i = 0; i < l->n && (top == 0 || i < top); i++)
		ling_buf_addf(out, "  %12" PRId64 "  %s\n", l->items[i].count,
			      l->items[i].name[0] ? l->items[i].name : "(none)");
	if (top && l->n > top)
		ling_buf_addf(out, "  ... %zu more (--top 0 lists all)\n", l->n - top);
}

void kg_summary_text(const struct kg_summary *s, size_t top, struct ling_buf *out)
{
	ling_buf_addf(out, "quads       %" PRIu64 "\n", s->stats.quads);
	ling_buf_addf(out, "terms       %" PRIu64 "\n", s->stats.terms);
	ling_buf_addf(out, "entities    %" PRIu64 "\n", s->stats.entities);
	ling_buf_addf(out, "predicates  %" PRIu64 "\n", s->stats.predicates);
	ling_buf_addf(out, "languages   %zu\n", s->languages.n);
	ling_buf_addf(out, "disk        %.1f MiB\n", (double)s->stats.disk_bytes / (1 << 20));
	list_text("predicates", &s->predicates, top, out);
	list_text("labels by language", &s->languages, 0, out);
	list_text("types", &s->types, top, out);
}
