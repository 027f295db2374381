/* kg-query: triple patterns, label lookup, neighbourhoods and dumps over a KG store. */
#include "kg.h"

#include "../common/ling_cli.h"
#include "../common/ling_input.h"
#include "../common/ling_num.h"
#include "../common/ling_stdio.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../common/banned.h"

static const char usage_text[] =
	"usage: kg-query [options] --store DIR PATTERN...\n"
	"       kg-query [options] --store DIR --label TEXT [--lang TAG]\n"
	"       kg-query [options] --store DIR --neighbours ENTITY [--hops K]\n"
	"       kg-query --store DIR --dump\n"
	"       kg-query [options] --store DIR --tools\n"
	"       kg-query [options] --store DIR --call NAME ARGS_JSON\n"
	"       kg-query [options] --store DIR --calls FILE\n"
	"\n"
	"Query a KG store. A PATTERN is 'S P O' (or 'S P O G') where each term is a\n"
	"?variable, an <iri>, a prefix:name (rdf rdfs owl xsd skos schema foaf dbo fb\n"
	"wd kg), a \"literal\" (with @lang or ^^<datatype>) or 'a'. Several patterns\n"
	"are joined on their shared variables. Each solution is one JSON line mapping\n"
	"variable names to N-Triples terms. --tools, --call and --calls list and run\n"
	"the store's function-calling tools (one per relation and direction, and set\n"
	"operations), which take and return entity names.\n"
	"\n"
	"  -s, --store=DIR        the store directory (required)\n"
	"  -l, --label=TEXT       entities with this label (rdfs:label, skos:prefLabel,\n"
	"                         schema:name), compared after Unicode case folding\n"
	"      --lang=TAG         --label: only labels in this language; tools: the\n"
	"                         language of entity names (default: en)\n"
	"  -N, --neighbours=ENT   triples around ENT (an <iri> or a label), both directions\n"
	"  -k, --hops=K           neighbourhood radius (default: 1)\n"
	"      --fanout=N         at most N triples per node and direction (default: 100, 0 = all)\n"
	"      --dump             write the whole store as N-Quads\n"
	"      --tools            print the tool catalogue, one OpenAI tool object per line\n"
	"      --call=NAME        run tool NAME on ARGS_JSON (a JSON object) and print its\n"
	"                         result, a JSON array of entity names\n"
	"      --calls=FILE       run the calls in a JSON Lines file ('-': stdin), each\n"
	"                         {\"name\":...,\"arguments\":...}; print {\"result\":...}\n"
	"                         or {\"error\":...} for each\n"
	"      --min-facts=N      tools only for relations with N triples (default: 10)\n"
	"  -o, --output=FMT       jsonl (default) or nt (matched triples as N-Triples)\n"
	"  -n, --limit=N          stop after N results (default: all)\n"
	"  -p, --prefix=IRI       prefix for <iris> without a scheme (default: urn:kg:)\n"
	"  -h, --help             show this help\n"
	"  -V, --version          show the version\n"
	"\n"
	"Exit status: 0 ok (also when nothing matches), 1 store error, unknown entity,\n"
	"or a --call that fails (unknown tool, bad arguments), 2 usage error.\n";

static int usage_error(const char *msg)
{
	if (msg)
		fprintf(stderr, "kg-query: %s\n", msg);
	fprintf(stderr, "usage: kg-query [options] --store DIR PATTERN... (see --help)\n");
	return 2;
}

/* --tools, --call and --calls: the catalogue, one call, a batch of calls. */
static int run_tools(struct kg_store *st, const char *lang, uint64_t min_facts, int list, const char *call,
		     const char *args, const char *calls, struct ling_err *err)
{
	struct kg_toolset_opts topts = { min_facts, lang };
	struct kg_toolset *ts = NULL;
	struct ling_buf result = LING_BUF_INIT;
	struct ling_input *in = NULL;
	size_t i;
	int rc;

	if ((rc = kg_toolset_build(st, &topts, &ts, err)))
		return rc;
	if (list) {
		for (i = 0; i < ts->ntools && !rc; i++)
			if (!(rc = ling_stdout_write(ts->tools[i].schema, strlen(ts->tools[i].schema), err)))
				rc = ling_stdout_write("\n", 1, err);
	} else if (call) {
		if (!(rc = kg_tool_call(st, ts, call, args, &result, err)) &&
		    !(rc = ling_stdout_write(result.data, result.len, err)))
			rc = ling_stdout_write("\n", 1, err);
	} else if (!(rc = ling_input_open(&in, calls, err))) {
		struct kg_calls_counts counts = { 0, 0 };

		rc = kg_tool_calls_jsonl(st, ts, in, stdout, &counts, err);
		ling_input_close(in);
		if (!rc && counts.errors)
			fprintf(stderr, "kg-query: %" PRIu64 " calls, %" PRIu64 " failed\n", counts.calls,
				counts.errors);
	}
	ling_buf_release(&result);
	kg_toolset_free(ts);
	return rc;
}

/* The end of a run that printed text (--help, --version): success only once it is out. */
static int finish_stdout(struct ling_err *err)
{
	if (!ling_stdout_finish(err))
		return 0;
	ling_err_print("kg-query", err);
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "store", required_argument, NULL, 's' },      { "label", required_argument, NULL, 'l' },
		{ "lang", required_argument, NULL, 'L' },       { "neighbours", required_argument, NULL, 'N' },
		{ "neighbors", required_argument, NULL, 'N' },  { "hops", required_argument, NULL, 'k' },
		{ "fanout", required_argument, NULL, 'F' },     { "dump", no_argument, NULL, 'D' },
		{ "output", required_argument, NULL, 'o' },     { "limit", required_argument, NULL, 'n' },
		{ "prefix", required_argument, NULL, 'p' },     { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },          { "tools", no_argument, NULL, 'T' },
		{ "call", required_argument, NULL, 'C' },       { "calls", required_argument, NULL, 'B' },
		{ "min-facts", required_argument, NULL, 'M' },  { NULL, 0, NULL, 0 },
	};
	struct kg_query_opts opts = { NULL, KG_OUTPUT_JSONL, 0 };
	const char *store_dir = NULL, *label = NULL, *lang = NULL, *entity = NULL;
	const char *call = NULL, *calls = NULL;
	long long hops = 1, fanout = 100, limit = 0, min_facts = 0;
	int tools = 0;
	struct kg_store *st = NULL;
	struct ling_err err;
	int dump = 0, c, rc, modes, closed = ling_stdio_init();

	ling_err_clear(&err);
	while ((c = getopt_long(argc, argv, "s:l:N:k:o:n:p:hV", options, NULL)) != -1) {
		switch (c) {
		case 's': store_dir = optarg; break;
		case 'l': label = optarg; break;
		case 'L': lang = optarg; break;
		case 'N': entity = optarg; break;
		case 'k':
			if (ling_parse_long(optarg, 0, 16, &hops))
				return usage_error("--hops needs a number from 0 to 16");
			break;
		case 'F':
			if (ling_parse_long(optarg, 0, 1LL << 40, &fanout))
				return usage_error("--fanout needs a number >= 0");
			break;
		case 'D': dump = 1; break;
		case 'o':
			if (!strcmp(optarg, "jsonl") || !strcmp(optarg, "json"))
				opts.output = KG_OUTPUT_JSONL;
			else if (!strcmp(optarg, "nt") || !strcmp(optarg, "ntriples"))
				opts.output = KG_OUTPUT_NTRIPLES;
			else
				return usage_error("--output must be jsonl or nt");
			break;
		case 'n':
			if (ling_parse_long(optarg, 0, 1LL << 62, &limit))
				return usage_error("--limit needs a number >= 0");
			opts.limit = (unsigned long long)limit;
			break;
		case 'p': opts.iri_prefix = optarg; break;
		case 'T': tools = 1; break;
		case 'C': call = optarg; break;
		case 'B': calls = optarg; break;
		case 'M':
			if (ling_parse_long(optarg, 1, 1LL << 62, &min_facts))
				return usage_error("--min-facts needs a number >= 1");
			break;
		case 'h': fputs(usage_text, stdout); return finish_stdout(&err);
		case 'V': ling_print_version("kg-query"); return finish_stdout(&err);
		default: return usage_error(NULL); /* getopt said what is wrong */
		}
	}
	if (!store_dir)
		return usage_error("--store DIR is required");
	if (call && argc - optind != 1)
		return usage_error("--call NAME takes one ARGS_JSON argument, e.g. '{\"film\":\"Alien\"}'");
	modes = !!label + !!entity + dump + tools + !!call + !!calls + (!call && optind < argc);
	if (modes != 1)
		return usage_error(modes ? "give one of PATTERN, --label, --neighbours, --dump, --tools, --call or --calls"
					 : "nothing to do: give a PATTERN, --label, --neighbours, --dump, --tools, --call or --calls");
	if ((rc = ling_stdio_require(closed, LING_STDOUT_CLOSED | (calls && !strcmp(calls, "-") ? LING_STDIN_CLOSED : 0),
				     &err)))
		goto out;
	if ((rc = kg_store_open(&st, store_dir, KG_STORE_READONLY, &err)))
		goto out;
	if (tools || call || calls)
		rc = run_tools(st, lang, (uint64_t)min_facts, tools, call, call ? argv[optind] : NULL, calls, &err);
	else if (dump)
		rc = kg_query_dump(st, stdout, &err);
	else if (label)
		rc = kg_query_label(st, label, lang, &opts, stdout, &err);
	else if (entity)
		rc = kg_query_neighbours(st, entity, (int)hops, (unsigned long long)fanout, &opts, stdout, &err);
	else
		rc = kg_query_patterns(st, (const char *const *)argv + optind, argc - optind, &opts, stdout, &err);
	if (!rc)
		rc = ling_stdout_finish(&err);
out:
	if (rc)
		ling_err_print("kg-query", &err);
	kg_store_close(st);
	/* A failed --call is a data error (exit 1), whatever failed in it. */
	return rc ? (call && err.code != LING_EPIPE ? 1 : ling_err_exit_code(&err)) : 0;
}
