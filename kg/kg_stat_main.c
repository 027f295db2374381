/* kg-stat: what a KG store holds: quads, entities, predicates, languages, types, size. */
#include "kg.h"

#include "../common/ling_cli.h"
#include "../common/ling_num.h"
#include "../common/ling_mem.h"
#include "../common/ling_stdio.h"

#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

static const char usage_text[] =
	"usage: kg-stat [options] --store DIR\n"
	"\n"
	"Print the statistics a KG store keeps: quads, terms, entities, predicates\n"
	"with their triple counts, labels per language, entities per type, and the\n"
	"size on disk. The counts are maintained by every load; reading them is cheap.\n"
	"\n"
	"  -s, --store=DIR    the store directory (required)\n"
	"  -j, --json         one JSON object instead of text\n"
	"  -n, --top=N        list the N largest predicates and types (default: 20, 0 = all)\n"
	"  -h, --help         show this help\n"
	"  -V, --version      show the version\n"
	"\n"
	"Exit status: 0 ok, 1 store error, 2 usage error.\n";

struct entry {
	char *name;
	int64_t count;
};

struct entry_list {
	struct kg_store *store;
	struct entry *items;
	size_t n, cap;
	int by_id; /* keys are term ids to look up */
	struct ling_err *err;
};

static int collect(void *ctx, const char *key, size_t key_len, const int64_t *lanes, size_t nlanes)
{
	struct entry_list *l = ctx;
	struct ling_buf name = LING_BUF_INIT;

	(void)nlanes;
	if (l->by_id) {
		if (key_len != 8 || kg_store_term_nt(l->store, kg_id_from_be(key), &name, l->err))
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
	const struct entry *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int load_list(struct kg_store *st, char kind, int by_id, struct entry_list *l, struct ling_err *err)
{
	int rc;

	memset(l, 0, sizeof(*l));
	l->store = st;
	l->by_id = by_id;
	l->err = err;
	rc = kg_store_counts(st, kind, collect, l, err);
	if (!rc && l->n > 1)
		qsort(l->items, l->n, sizeof(*l->items), by_count_desc);
	return rc;
}

static void free_list(struct entry_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->items[i].name);
	free(l->items);
}

static json_t *list_json(const struct entry_list *l, size_t top)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < l->n && (top == 0 || i < top); i++)
		json_array_append_new(arr, json_pack("{s:s,s:I}", "name", l->items[i].name, "count",
						     (json_int_t)l->items[i].count));
	return arr;
}

static void list_text(const char *title, const struct entry_list *l, size_t top)
{
	size_t i;

	printf("%s (%zu):\n", title, l->n);
	for (i = 0; i < l->n && (top == 0 || i < top); i++)
		printf("  %12" PRId64 "  %s\n", l->items[i].count, l->items[i].name[0] ? l->items[i].name : "(none)");
	if (top && l->n > top)
		printf("  ... %zu more (--top 0 lists all)\n", l->n - top);
}

/* The end of a run that printed text (--help, --version): success only once it is out. */
static int finish_stdout(struct ling_err *err)
{
	if (!ling_stdout_finish(err))
		return 0;
	ling_err_print("kg-stat", err);
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "store", required_argument, NULL, 's' }, { "json", no_argument, NULL, 'j' },
		{ "top", required_argument, NULL, 'n' },   { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },     { NULL, 0, NULL, 0 },
	};
	struct entry_list preds, langs, types;
	const char *store_dir = NULL;
	struct kg_store *st = NULL;
	struct kg_stats stats;
	struct ling_err err;
	long long top = 20;
	int as_json = 0, c, rc, closed = ling_stdio_init();

	ling_err_clear(&err);
	memset(&preds, 0, sizeof(preds));
	memset(&langs, 0, sizeof(langs));
	memset(&types, 0, sizeof(types));
	while ((c = getopt_long(argc, argv, "s:jn:hV", options, NULL)) != -1) {
		switch (c) {
		case 's': store_dir = optarg; break;
		case 'j': as_json = 1; break;
		case 'n':
			if (ling_parse_long(optarg, 0, 1LL << 40, &top)) {
				fprintf(stderr, "kg-stat: --top needs a number >= 0\n");
				return 2;
			}
			break;
		case 'h': fputs(usage_text, stdout); return finish_stdout(&err);
		case 'V': ling_print_version("kg-stat"); return finish_stdout(&err);
		default: fputs("usage: kg-stat [options] --store DIR (see --help)\n", stderr); return 2;
		}
	}
	if (!store_dir || optind < argc) {
		fprintf(stderr, "kg-stat: %s\n", store_dir ? "unexpected argument" : "--store DIR is required");
		fputs("usage: kg-stat [options] --store DIR (see --help)\n", stderr);
		return 2;
	}
	if ((rc = ling_stdio_require(closed, LING_STDOUT_CLOSED, &err))) {
		ling_err_print("kg-stat", &err);
		return 2;
	}
	if ((rc = kg_store_open(&st, store_dir, KG_STORE_READONLY, &err)) || (rc = kg_store_stats(st, &stats, &err)) ||
	    (rc = load_list(st, 'p', 1, &preds, &err)) || (rc = load_list(st, 'l', 0, &langs, &err)) ||
	    (rc = load_list(st, 'y', 1, &types, &err)))
		goto out;
	if (as_json) {
		json_t *o = json_pack("{s:I,s:I,s:I,s:I,s:I}", "quads", (json_int_t)stats.quads, "terms",
				      (json_int_t)stats.terms, "entities", (json_int_t)stats.entities, "predicates",
				      (json_int_t)stats.predicates, "disk_bytes", (json_int_t)stats.disk_bytes);

		json_object_set_new(o, "top_predicates", list_json(&preds, (size_t)top));
		json_object_set_new(o, "label_languages", list_json(&langs, 0));
		json_object_set_new(o, "top_types", list_json(&types, (size_t)top));
		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(o);
	} else {
		printf("quads       %" PRIu64 "\n", stats.quads);
		printf("terms       %" PRIu64 "\n", stats.terms);
		printf("entities    %" PRIu64 "\n", stats.entities);
		printf("predicates  %" PRIu64 "\n", stats.predicates);
		printf("languages   %zu\n", langs.n);
		printf("disk        %.1f MiB\n", (double)stats.disk_bytes / (1 << 20));
		list_text("predicates", &preds, (size_t)top);
		list_text("labels by language", &langs, 0);
		list_text("types", &types, (size_t)top);
	}
	/* printf's failures are in the stream's error flag, which finish checks. */
	rc = ling_stdout_finish(&err);
out:
	if (rc)
		ling_err_print("kg-stat", &err);
	free_list(&preds);
	free_list(&langs);
	free_list(&types);
	kg_store_close(st);
	return rc ? 1 : 0;
}
