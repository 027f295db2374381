/* kg-query: triple patterns, label lookup, neighbourhoods and dumps over a KG store. */
#include "kg.h"

#include "../common/ling_input.h"
#include "../common/ling_main.h"
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
	return ling_usage_error("kg-query", "kg-query [options] --store DIR PATTERN...", msg);
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

/* The command line. */
struct query_cli {
	struct kg_query_opts opts;
	const char *store_dir, *label, *lang, *entity, *call, *calls;
	long long hops, fanout, limit, min_facts;
	int tools, dump;
	int done; /* --help or --version printed: exit with what parse_args returned */
};

/* Parses one option c with argument arg into cli. @return 0, or the exit status after a usage error. */
static int parse_option(struct query_cli *cli, int c, const char *arg)
{
	switch (c) {
	case 's': cli->store_dir = arg; break;
	case 'l': cli->label = arg; break;
	case 'L': cli->lang = arg; break;
	case 'N': cli->entity = arg; break;
	case 'k':
		if (ling_parse_long(arg, 0, 16, &cli->hops))
			return usage_error("--hops needs a number from 0 to 16");
		break;
	case 'F':
		if (ling_parse_long(arg, 0, 1LL << 40, &cli->fanout))
			return usage_error("--fanout needs a number >= 0");
		break;
	case 'D': cli->dump = 1; break;
	case 'o':
		if (!strcmp(arg, "jsonl") || !strcmp(arg, "json"))
			cli->opts.output = KG_OUTPUT_JSONL;
		else if (!strcmp(arg, "nt") || !strcmp(arg, "ntriples"))
			cli->opts.output = KG_OUTPUT_NTRIPLES;
		else
			return usage_error("--output must be jsonl or nt");
		break;
	case 'n':
		if (ling_parse_long(arg, 0, 1LL << 62, &cli->limit))
			return usage_error("--limit needs a number >= 0");
		cli->opts.limit = (unsigned long long)cli->limit;
		break;
	case 'p': cli->opts.iri_prefix = arg; break;
	case 'T': cli->tools = 1; break;
	case 'C': cli->call = arg; break;
	case 'B': cli->calls = arg; break;
	case 'M':
		if (ling_parse_long(arg, 1, 1LL << 62, &cli->min_facts))
			return usage_error("--min-facts needs a number >= 1");
		break;
	case 'h': cli->done = 1; return ling_print_help("kg-query", usage_text);
	case 'V': cli->done = 1; return ling_print_version_checked("kg-query");
	default: return usage_error(NULL); /* getopt said what is wrong */
	}
	return 0;
}

/*
 * Parses the command line into cli, up to the first error or --help/--version
 * (cli->done), and checks that it asks for exactly one thing.
 * @return 0, or the exit status.
 */
static int parse_args(struct query_cli *cli, int argc, char **argv)
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
	int c, rc, modes;

	while ((c = getopt_long(argc, argv, "s:l:N:k:o:n:p:hV", options, NULL)) != -1)
		if ((rc = parse_option(cli, c, optarg)) || cli->done)
			return rc;
	if (!cli->store_dir)
		return usage_error("--store DIR is required");
	if (cli->call && argc - optind != 1)
		return usage_error("--call NAME takes one ARGS_JSON argument, e.g. '{\"film\":\"Alien\"}'");
	modes = !!cli->label + !!cli->entity + cli->dump + cli->tools + !!cli->call + !!cli->calls +
		(!cli->call && optind < argc);
	if (modes != 1)
		return usage_error(modes ? "give one of PATTERN, --label, --neighbours, --dump, --tools, --call or --calls"
					 : "nothing to do: give a PATTERN, --label, --neighbours, --dump, --tools, --call or --calls");
	return 0;
}

/* Runs the one query cli asks for onto stdout; args are the PATTERNs (or --call's ARGS_JSON). @return 0 or a ling_errc. */
static int run_query(struct kg_store *st, const struct query_cli *cli, char **args, int nargs, struct ling_err *err)
{
	if (cli->tools || cli->call || cli->calls)
		return run_tools(st, cli->lang, (uint64_t)cli->min_facts, cli->tools, cli->call,
				 cli->call ? args[0] : NULL, cli->calls, err);
	if (cli->dump)
		return kg_query_dump(st, stdout, err);
	if (cli->label)
		return kg_query_label(st, cli->label, cli->lang, &cli->opts, stdout, err);
	if (cli->entity)
		return kg_query_neighbours(st, cli->entity, (int)cli->hops, (unsigned long long)cli->fanout,
					   &cli->opts, stdout, err);
	return kg_query_patterns(st, (const char *const *)args, nargs, &cli->opts, stdout, err);
}

int main(int argc, char **argv)
{
	struct query_cli cli = { .opts = { NULL, KG_OUTPUT_JSONL, 0 }, .hops = 1, .fanout = 100 };
	struct kg_store *st = NULL;
	struct ling_err err;
	int rc, closed = ling_stdio_init();

	ling_err_clear(&err);
	if ((rc = parse_args(&cli, argc, argv)) || cli.done)
		return rc;
	if ((rc = ling_stdio_require(closed, LING_STDOUT_CLOSED |
						     (cli.calls && !strcmp(cli.calls, "-") ? LING_STDIN_CLOSED : 0),
				     &err)))
		goto out;
	if ((rc = kg_store_open(&st, cli.store_dir, KG_STORE_READONLY, &err)))
		goto out;
	rc = run_query(st, &cli, argv + optind, argc - optind, &err);
	if (!rc)
		rc = ling_stdout_finish(&err);
out:
	if (rc)
		ling_err_print("kg-query", &err);
	kg_store_close(st);
	/* A failed --call is a data error (exit 1), whatever failed in it. */
	return rc ? (cli.call && err.code != LING_EPIPE ? 1 : ling_err_exit_code(&err)) : 0;
}
