/* kg-load: load RDF into a KG store, one all-or-nothing transaction per input. */
#include "kg.h"

#include "../common/ling_cli.h"
#include "../common/ling_main.h"
#include "../common/ling_mem.h"
#include "../common/ling_num.h"
#include "../common/ling_stdio.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

static const char usage_text[] =
	"usage: kg-load [options] --store DIR [FILE...]\n"
	"\n"
	"Load RDF into the KG store DIR (created when missing). Each FILE is one\n"
	"transaction: it is applied whole or, on any error, not at all. Loading the\n"
	"same file again changes nothing. With no FILE, or with -, read stdin.\n"
	"\n"
	"  -s, --store=DIR        the store directory (required)\n"
	"  -f, --format=FMT       ntriples, nquads, turtle, rdfxml or tsv (default: from the name)\n"
	"  -b, --base=IRI         base IRI for relative references (default: file://<path>)\n"
	"  -g, --graph=IRI        put triples that have no graph into this named graph\n"
	"      --delete           remove the statements of the inputs instead of adding them\n"
	"  -e, --max-errors=N     skip up to N bad statements per run, reporting each (default: 0)\n"
	"  -d, --delimiter=C      field separator for tsv (default: tab)\n"
	"      --tsv-prefix=IRI   IRI prefix for tsv fields that are not IRIs (default: urn:kg:)\n"
	"      --tsv-labels       give each tsv entity its field text as rdfs:label\n"
	"      --batch=N          apply every N quads instead of once per file (bounds memory;\n"
	"                         a failing file then keeps the batches applied before it)\n"
	"      --source-key=KEY   scope of blank node labels for stdin (default: stdin)\n"
	"  -q, --quiet            no summary line\n"
	"  -h, --help             show this help\n"
	"  -V, --version          show the version\n"
	"\n"
	"The summary on stderr reads: read N (quads parsed from inputs that loaded), wrote N\n"
	"(quads new to the store, or deleted), rejected N (bad statements skipped).\n"
	"Exit status: 0 ok, 1 bad input or store error, 2 usage error.\n";

struct load_run {
	struct kg_store *store;
	struct kg_loader *loader;
	struct kg_load_counts counts;
	struct ling_progress progress;
	struct ling_input *in;
	struct ling_errors errors;
	long long batch;
	int apply_failed;
	struct ling_err apply_err;
};

static int on_quad(void *ctx, const struct kg_quad *q, struct ling_err *err)
{
	struct load_run *run = ctx;

	return kg_loader_add(run->loader, q, err);
}

static void on_commit(void *ctx)
{
	struct load_run *run = ctx;
	uint64_t pending;

	kg_loader_commit(run->loader);
	pending = kg_loader_pending(run->loader);
	if ((pending & 0xFFFF) == 0) {
		unsigned long long total = ling_input_raw_size(run->in);

		if (total)
			ling_progress_update(&run->progress, "kg-load: %s %.0f%%", ling_input_name(run->in),
					     100.0 * (double)ling_input_raw_offset(run->in) / (double)total);
		else
			ling_progress_update(&run->progress, "kg-load: %s %" PRIu64 " quads", ling_input_name(run->in),
					     pending);
	}
	if (run->batch > 0 && pending >= (uint64_t)run->batch && !run->apply_failed &&
	    kg_loader_apply(run->loader, &run->counts, &run->apply_err))
		run->apply_failed = 1;
}

static void on_rollback(void *ctx)
{
	struct load_run *run = ctx;

	kg_loader_rollback(run->loader);
}

static int on_error(void *ctx, const struct ling_err *err)
{
	struct load_run *run = ctx;

	return ling_errors_report(&run->errors, err);
}

static int load_file(struct load_run *run, const char *path, const struct kg_parse_opts *popts,
		     const struct kg_term *graph, unsigned flags, const char *stdin_key, struct ling_err *err)
{
	struct kg_sink sink = { run, on_quad, on_commit, on_rollback, on_error };
	struct kg_parse_opts o = *popts;
	struct ling_buf base = LING_BUF_INIT;
	char key[KG_SOURCE_KEY_SIZE];
	int rc;

	if ((rc = kg_parse_opts_for_path(&o, path, &base, err)) || (rc = kg_loader_source_key(path, stdin_key, key, err)))
		goto out;
	if ((rc = kg_loader_new(&run->loader, run->store, key, graph, flags, err)))
		goto out;
	if ((rc = ling_input_open(&run->in, path, err)))
		goto out;
	rc = kg_parse(run->in, &o, &sink, err);
	if (!rc && run->apply_failed) {
		*err = run->apply_err;
		rc = err->code;
	}
	/* Only a fully read input is applied: a bad or truncated one leaves the store as it was. */
	if (!rc)
		rc = kg_loader_apply(run->loader, &run->counts, err);
out:
	ling_progress_done(&run->progress);
	ling_input_close(run->in);
	run->in = NULL;
	kg_loader_free(run->loader);
	run->loader = NULL;
	ling_buf_release(&base);
	return rc;
}

static int usage_error(const char *msg)
{
	return ling_usage_error("kg-load", "kg-load [options] --store DIR [FILE...]", msg);
}

/* The command line. */
struct load_cli {
	struct kg_parse_opts opts;
	struct kg_term graph;
	const char *store_dir, *stdin_key;
	const char **files;
	int nfiles;
	unsigned flags;
	int quiet;
	int done; /* --help or --version printed: exit with what parse_args returned */
};

/* Parses one option c with argument arg into cli and run. @return 0, or the exit status after a usage error. */
static int parse_option(struct load_cli *cli, struct load_run *run, int c, const char *arg)
{
	switch (c) {
	case 's': cli->store_dir = arg; break;
	case 'f':
		if ((cli->opts.format = kg_format_from_name(arg)) == KG_FORMAT_AUTO)
			return usage_error("unknown --format (ntriples, nquads, turtle, rdfxml, tsv)");
		break;
	case 'b': cli->opts.base = arg; break;
	case 'g':
		cli->graph.type = KG_TERM_IRI;
		cli->graph.value = arg;
		cli->graph.len = strlen(arg);
		break;
	case 'D': cli->flags |= KG_LOADER_DELETE; break;
	case 'e':
		if (ling_errors_parse_max(&run->errors, arg))
			return usage_error("--max-errors needs a number >= 0");
		break;
	case 'd':
		if (strlen(arg) != 1)
			return usage_error("--delimiter takes one character");
		cli->opts.delimiter = arg[0];
		break;
	case 'P': cli->opts.tsv_prefix = arg; break;
	case 'L': cli->opts.tsv_labels = 1; break;
	case 'B':
		if (ling_parse_long(arg, 1, 1LL << 40, &run->batch))
			return usage_error("--batch needs a number > 0");
		break;
	case 'K': cli->stdin_key = arg; break;
	case 'q': cli->quiet = 1; break;
	case 'h': cli->done = 1; return ling_print_help("kg-load", usage_text);
	case 'V': cli->done = 1; return ling_print_version_checked("kg-load");
	default: return usage_error(NULL); /* getopt said what is wrong */
	}
	return 0;
}

/*
 * Usage errors of the inputs and --graph, before the store is touched.
 * @return 0, or the exit status after saying what is wrong.
 */
static int check_inputs(const struct load_cli *cli, int closed)
{
	struct ling_err err;
	int i, rc;

	ling_err_clear(&err);
	for (i = 0; i < cli->nfiles; i++) {
		struct kg_parse_opts o = cli->opts;
		struct ling_buf base = LING_BUF_INIT;

		if (!strcmp(cli->files[i], "-") && ling_stdio_require(closed, LING_STDIN_CLOSED, &err)) {
			ling_err_print("kg-load", &err);
			return 2;
		}
		rc = kg_parse_opts_for_path(&o, cli->files[i], &base, &err);
		ling_buf_release(&base);
		if (rc) {
			ling_err_print("kg-load", &err);
			return 2;
		}
	}
	if (cli->graph.type == KG_TERM_IRI && !kg_iri_is_absolute(cli->graph.value, cli->graph.len))
		return usage_error("--graph needs an absolute IRI, such as http://example.org/graph");
	if (cli->graph.type == KG_TERM_IRI && strpbrk(cli->graph.value, " <>\"{}|^`\\"))
		return usage_error("--graph: characters not allowed in an IRI");
	return 0;
}

/*
 * Parses the command line into cli and run, up to the first error or
 * --help/--version (cli->done), and checks the inputs.
 * @return 0, or the exit status.
 */
static int parse_args(struct load_cli *cli, struct load_run *run, int argc, char **argv, int closed)
{
	static const struct option options[] = {
		{ "store", required_argument, NULL, 's' },     { "format", required_argument, NULL, 'f' },
		{ "base", required_argument, NULL, 'b' },      { "graph", required_argument, NULL, 'g' },
		{ "delete", no_argument, NULL, 'D' },          { "max-errors", required_argument, NULL, 'e' },
		{ "delimiter", required_argument, NULL, 'd' }, { "tsv-prefix", required_argument, NULL, 'P' },
		{ "tsv-labels", no_argument, NULL, 'L' },      { "batch", required_argument, NULL, 'B' },
		{ "source-key", required_argument, NULL, 'K' }, { "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },            { "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *stdin_only[] = { "-" };
	int c, rc;

	while ((c = getopt_long(argc, argv, "s:f:b:g:e:d:qhV", options, NULL)) != -1)
		if ((rc = parse_option(cli, run, c, optarg)) || cli->done)
			return rc;
	if (!cli->store_dir)
		return usage_error("--store DIR is required");
	cli->files = optind < argc ? (const char **)argv + optind : stdin_only;
	cli->nfiles = optind < argc ? argc - optind : 1;
	return check_inputs(cli, closed);
}

/* Opens the store and loads the inputs of cli into it, each one transaction. @return 0 or a ling_errc. */
static int load_all(const struct load_cli *cli, struct load_run *run, struct ling_err *err)
{
	int i, rc;

	ling_progress_init(&run->progress);
	rc = kg_store_open(&run->store, cli->store_dir, KG_STORE_CREATE, err);
	for (i = 0; i < cli->nfiles && !rc; i++)
		rc = load_file(run, cli->files[i], &cli->opts, &cli->graph, cli->flags, cli->stdin_key, err);
	return rc;
}

int main(int argc, char **argv)
{
	struct load_cli cli;
	struct load_run run;
	struct ling_err err;
	int rc, closed = ling_stdio_init();

	memset(&cli, 0, sizeof(cli));
	memset(&run, 0, sizeof(run));
	ling_err_clear(&err);
	cli.stdin_key = "stdin";
	ling_errors_init(&run.errors, "kg-load");
	if ((rc = parse_args(&cli, &run, argc, argv, closed)) || cli.done)
		return rc;
	rc = load_all(&cli, &run, &err);
	if (rc && !run.errors.stopped)
		ling_err_print("kg-load", &err);
	kg_store_close(run.store);
	if (!cli.quiet)
		fprintf(stderr, "kg-load: read %" PRIu64 ", %s %" PRIu64 ", rejected %lld%s%s\n", run.counts.quads_read,
			(cli.flags & KG_LOADER_DELETE) ? "deleted" : "wrote", run.counts.quads_changed,
			run.errors.count, rc ? "; failed: " : "", rc ? err.msg : "");
	return rc ? ling_err_exit_code(&err) ? ling_err_exit_code(&err) : 1 : 0;
}
