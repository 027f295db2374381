/* kg-stat: what a KG store holds: quads, entities, predicates, languages, types, size. */
#include "kg.h"

#include "../common/ling_main.h"
#include "../common/ling_mem.h"
#include "../common/ling_num.h"
#include "../common/ling_stdio.h"

#include <getopt.h>
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

static int usage_error(const char *msg)
{
	return ling_usage_error("kg-stat", "kg-stat [options] --store DIR", msg);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "store", required_argument, NULL, 's' }, { "json", no_argument, NULL, 'j' },
		{ "top", required_argument, NULL, 'n' },   { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },     { NULL, 0, NULL, 0 },
	};
	struct ling_buf out = LING_BUF_INIT;
	const char *store_dir = NULL;
	struct kg_store *st = NULL;
	struct kg_summary sum;
	struct ling_err err;
	long long top = 20;
	int as_json = 0, c, rc, closed = ling_stdio_init();

	ling_err_clear(&err);
	memset(&sum, 0, sizeof(sum));
	while ((c = getopt_long(argc, argv, "s:jn:hV", options, NULL)) != -1) {
		switch (c) {
		case 's': store_dir = optarg; break;
		case 'j': as_json = 1; break;
		case 'n':
			if (ling_parse_long(optarg, 0, 1LL << 40, &top))
				return ling_usage_error("kg-stat", NULL, "--top needs a number >= 0");
			break;
		case 'h': return ling_print_help("kg-stat", usage_text);
		case 'V': return ling_print_version_checked("kg-stat");
		default: return usage_error(NULL); /* getopt said what is wrong */
		}
	}
	if (!store_dir || optind < argc)
		return usage_error(store_dir ? "unexpected argument" : "--store DIR is required");
	if ((rc = ling_stdio_require(closed, LING_STDOUT_CLOSED, &err))) {
		ling_err_print("kg-stat", &err);
		return 2;
	}
	if ((rc = kg_store_open(&st, store_dir, KG_STORE_READONLY, &err)) || (rc = kg_summary_read(st, &sum, &err)))
		goto out;
	if (as_json)
		kg_summary_json(&sum, (size_t)top, &out);
	else
		kg_summary_text(&sum, (size_t)top, &out);
	if (!(rc = ling_stdout_write(out.data, out.len, &err)))
		rc = ling_stdout_finish(&err);
out:
	if (rc)
		ling_err_print("kg-stat", &err);
	kg_summary_release(&sum);
	ling_buf_release(&out);
	kg_store_close(st);
	return rc ? 1 : 0;
}
