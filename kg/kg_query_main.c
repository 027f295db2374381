/* kg-query: triple patterns, label lookup, neighbourhoods and dumps over a KG store. */
#include "kg_query.h"

#include "../common/ling_cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../common/banned.h"

static const char usage_text[] =
	"usage: kg-query [options] --store DIR PATTERN...\n"
	"       kg-query [options] --store DIR --label TEXT [--lang TAG]\n"
	"       kg-query [options] --store DIR --neighbours ENTITY [--hops K]\n"
	"       kg-query --store DIR --dump\n"
	"\n"
	"Query a KG store. A PATTERN is 'S P O' (or 'S P O G') where each term is a\n"
	"?variable, an <iri>, a prefix:name (rdf rdfs owl xsd skos schema foaf dbo fb\n"
	"wd kg), a \"literal\" (with @lang or ^^<datatype>) or 'a'. Several patterns\n"
	"are joined on their shared variables. Each solution is one JSON line mapping\n"
	"variable names to N-Triples terms.\n"
	"\n"
	"  -s, --store=DIR        the store directory (required)\n"
	"  -l, --label=TEXT       entities with this label (rdfs:label, skos:prefLabel,\n"
	"                         schema:name), compared after Unicode case folding\n"
	"      --lang=TAG         only labels in this language\n"
	"  -N, --neighbours=ENT   triples around ENT (an <iri> or a label), both directions\n"
	"  -k, --hops=K           neighbourhood radius (default: 1)\n"
	"      --fanout=N         at most N triples per node and direction (default: 100, 0 = all)\n"
	"      --dump             write the whole store as N-Quads\n"
	"  -o, --output=FMT       jsonl (default) or nt (matched triples as N-Triples)\n"
	"  -n, --limit=N          stop after N results (default: all)\n"
	"  -p, --prefix=IRI       prefix for <iris> without a scheme (default: urn:kg:)\n"
	"  -h, --help             show this help\n"
	"  -V, --version          show the version\n"
	"\n"
	"Exit status: 0 ok (also when nothing matches), 1 store error or unknown entity,\n"
	"2 usage error.\n";

static int usage_error(const char *msg)
{
	if (msg)
		fprintf(stderr, "kg-query: %s\n", msg);
	fprintf(stderr, "usage: kg-query [options] --store DIR PATTERN... (see --help)\n");
	return 2;
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
		{ "version", no_argument, NULL, 'V' },          { NULL, 0, NULL, 0 },
	};
	struct kg_query_opts opts = { NULL, KG_OUTPUT_JSONL, 0 };
	const char *store_dir = NULL, *label = NULL, *lang = NULL, *entity = NULL;
	long long hops = 1, fanout = 100, limit = 0;
	struct kg_store *st = NULL;
	struct ling_err err;
	int dump = 0, c, rc, modes;

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
		case 'h': fputs(usage_text, stdout); return 0;
		case 'V': ling_print_version("kg-query"); return 0;
		default: return usage_error(NULL); /* getopt said what is wrong */
		}
	}
	if (!store_dir)
		return usage_error("--store DIR is required");
	modes = !!label + !!entity + dump + (optind < argc);
	if (modes != 1)
		return usage_error(modes ? "give one of PATTERN, --label, --neighbours or --dump"
					 : "nothing to do: give a PATTERN, --label, --neighbours or --dump");
	if ((rc = kg_store_open(&st, store_dir, KG_STORE_READONLY, &err)))
		goto out;
	if (dump)
		rc = kg_query_dump(st, stdout, &err);
	else if (label)
		rc = kg_query_label(st, label, lang, &opts, stdout, &err);
	else if (entity)
		rc = kg_query_neighbours(st, entity, (int)hops, (unsigned long long)fanout, &opts, stdout, &err);
	else
		rc = kg_query_patterns(st, (const char *const *)argv + optind, argc - optind, &opts, stdout, &err);
	if (!rc && fflush(stdout))
		rc = ling_err_set(&err, LING_EIO, "write error on stdout");
out:
	if (rc)
		ling_err_print("kg-query", &err);
	kg_store_close(st);
	return rc ? ling_err_exit_code(&err) : 0;
}
