/*
 * kg_summary: what a store holds, as kg-stat shows it: the totals and the
 * counter lists of the store, sorted, written as text or one JSON object.
 * The contract is in kg.h.
 */
#include "kg.h"

#include "../common/ling_json.h"

#include <inttypes.h>
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

static void list_json(struct ling_json *w, const char *key, const struct kg_count_list *l, size_t top)
{
	size_t i;

	ling_json_keyz(w, key);
	ling_json_array_begin(w);
	for (i = 0; i < l->n && (top == 0 || i < top); i++) {
		ling_json_object_begin(w);
		ling_json_keyz(w, "name");
		ling_json_strz(w, l->items[i].name);
		ling_json_keyz(w, "count");
		ling_json_int(w, l->items[i].count);
		ling_json_object_end(w);
	}
	ling_json_array_end(w);
}

void kg_summary_json(const struct kg_summary *s, size_t top, struct ling_buf *out)
{
	const struct kg_stats *st = &s->stats;
	struct ling_json w;

	ling_json_init(&w, out, LING_JSON_JANSSON);
	ling_json_object_begin(&w);
	ling_json_keyz(&w, "quads");
	ling_json_int(&w, (int64_t)st->quads);
	ling_json_keyz(&w, "terms");
	ling_json_int(&w, (int64_t)st->terms);
	ling_json_keyz(&w, "entities");
	ling_json_int(&w, (int64_t)st->entities);
	ling_json_keyz(&w, "predicates");
	ling_json_int(&w, (int64_t)st->predicates);
	ling_json_keyz(&w, "disk_bytes");
	ling_json_int(&w, (int64_t)st->disk_bytes);
	list_json(&w, "top_predicates", &s->predicates, top);
	list_json(&w, "label_languages", &s->languages, 0);
	list_json(&w, "top_types", &s->types, top);
	ling_json_object_end(&w);
	ling_json_release(&w);
	ling_buf_addc(out, '\n');
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
