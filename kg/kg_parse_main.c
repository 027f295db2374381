/* kg-parse: parse RDF in any supported syntax and write N-Triples or N-Quads. */
#include "kg.h"

#include "../common/ling_main.h"
#include "../common/ling_mem.h"
#include "../common/ling_stdio.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

static const char usage_text[] =
	"usage: kg-parse [options] [FILE...]\n"
	"\n"
	"Parse RDF (N-Triples, N-Quads, Turtle, RDF/XML or delimited triples), plain,\n"
	"gzip or zstd compressed, and write it as N-Triples (or N-Quads) on stdout.\n"
	"With no FILE, or when FILE is -, read standard input.\n"
	"\n"
	"  -f, --format=FMT       ntriples, nquads, turtle, rdfxml or tsv (default: from the name)\n"
	"  -b, --base=IRI         base IRI for relative references (default: file://<path>)\n"
	"  -o, --output=FMT       nquads (default: a quad keeps its graph) or ntriples (graphs dropped)\n"
	"  -d, --delimiter=C      field separator for tsv (default: tab)\n"
	"      --tsv-prefix=IRI   IRI prefix for tsv fields that are not IRIs (default: urn:kg:)\n"
	"      --tsv-labels       give each tsv entity its field text as rdfs:label\n"
	"  -n, --count            only validate; print nothing but the summary\n"
	"  -e, --max-errors=N     skip up to N bad statements, reporting each (default: 0)\n"
	"  -q, --quiet            no summary line\n"
	"  -h, --help             show this help\n"
	"  -V, --version          show the version\n"
	"\n"
	"The summary on stderr reads: read N (triples or quads written), rejected N (bad statements).\n"
	"Exit status: 0 ok, 1 bad input or read error, 2 usage error.\n";

struct parse_run {
	struct ling_buf out;   /* [0, committed) is whole statements, the rest the current one */
	size_t committed;
	unsigned long long pending;
	struct ling_buf base;
	int quads_out;
	int count_only;
	struct ling_errors errors; /* errors.stopped: on_error already reported the error that stopped the parse */
	unsigned long long statements;
	unsigned file_index;
	int write_failed;       /* write_err holds why; the parse stops at the next quad */
	struct ling_err write_err;
};

static void write_term(struct parse_run *run, const struct kg_term *t)
{
	if (t->type == KG_TERM_BNODE && run->file_index > 0) {
		/* Keep blank nodes of different files apart. */
		ling_buf_addf(&run->out, "_:f%u", run->file_index);
		ling_buf_add(&run->out, t->value, t->len);
		return;
	}
	kg_term_write_nt(&run->out, t);
}

static int on_quad(void *ctx, const struct kg_quad *q, struct ling_err *err)
{
	struct parse_run *run = ctx;

	if (run->write_failed) {
		*err = run->write_err;
		return err->code;
	}
	run->pending++;
	if (run->count_only)
		return 0;
	write_term(run, &q->s);
	ling_buf_addc(&run->out, ' ');
	write_term(run, &q->p);
	ling_buf_addc(&run->out, ' ');
	write_term(run, &q->o);
	if (q->g.type != KG_TERM_NONE && run->quads_out) {
		ling_buf_addc(&run->out, ' ');
		write_term(run, &q->g);
	}
	ling_buf_add(&run->out, " .\n", 3);
	return 0;
}

/* Output waits for the end of its statement, so a statement rejected half-way prints nothing. */
static void on_commit(void *ctx)
{
	struct parse_run *run = ctx;

	run->statements += run->pending;
	run->pending = 0;
	run->committed = run->out.len;
	if (run->committed > (1 << 16) && !run->write_failed) {
		run->write_failed = ling_stdout_write(run->out.data, run->committed, &run->write_err) != 0;
		ling_buf_reset(&run->out);
		run->committed = 0;
	}
}

static void on_rollback(void *ctx)
{
	struct parse_run *run = ctx;

	run->pending = 0;
	ling_buf_truncate(&run->out, run->committed);
}

static int on_error(void *ctx, const struct ling_err *err)
{
	struct parse_run *run = ctx;

	return ling_errors_report(&run->errors, err);
}

static int parse_file(struct parse_run *run, const char *path, struct kg_parse_opts *opts, struct ling_err *err)
{
	struct kg_sink sink = { run, on_quad, on_commit, on_rollback, on_error };
	struct kg_parse_opts o = *opts;
	struct ling_input *in;
	int rc;

	if ((rc = kg_parse_opts_for_path(&o, path, &run->base, err)))
		return rc;
	rc = ling_input_open(&in, path, err);
	if (rc)
		return rc;
	rc = kg_parse(in, &o, &sink, err);
	ling_input_close(in);
	return rc;
}

static int usage_error(const char *msg)
{
	return ling_usage_error("kg-parse", "kg-parse [options] [FILE...]", msg);
}

/* A bad option value: kg-parse says what is wrong, without the synopsis. @return 2. */
static int option_error(const char *msg)
{
	return ling_usage_error("kg-parse", NULL, msg);
}

/* The command line. */
struct parse_cli {
	struct kg_parse_opts opts;
	const char **files;
	int nfiles;
	int quiet;
	int done; /* --help or --version printed: exit with what parse_args returned */
};

/* Parses one option c with argument arg into cli and run. @return 0, or the exit status after a usage error. */
static int parse_option(struct parse_cli *cli, struct parse_run *run, int c, const char *arg)
{
	switch (c) {
	case 'f':
		cli->opts.format = kg_format_from_name(arg);
		if (cli->opts.format == KG_FORMAT_AUTO) {
			struct ling_buf msg = LING_BUF_INIT;
			int rc;

			ling_buf_addf(&msg, "unknown format '%s'", arg);
			rc = option_error(msg.data);
			ling_buf_release(&msg);
			return rc;
		}
		break;
	case 'b': cli->opts.base = arg; break;
	case 'o':
		if (strcmp(arg, "ntriples") && strcmp(arg, "nquads"))
			return option_error("--output must be ntriples or nquads");
		run->quads_out = !strcmp(arg, "nquads");
		break;
	case 'd':
		if (strlen(arg) != 1)
			return option_error("--delimiter takes one character");
		cli->opts.delimiter = arg[0];
		break;
	case 'P': cli->opts.tsv_prefix = arg; break;
	case 'L': cli->opts.tsv_labels = 1; break;
	case 'n': run->count_only = 1; break;
	case 'e':
		if (ling_errors_parse_max(&run->errors, arg))
			return option_error("--max-errors needs a number >= 0");
		break;
	case 'q': cli->quiet = 1; break;
	case 'h': cli->done = 1; return ling_print_help("kg-parse", usage_text);
	case 'V': cli->done = 1; return ling_print_version_checked("kg-parse");
	default: return usage_error(NULL); /* getopt said what is wrong */
	}
	return 0;
}

/*
 * Parses the command line into cli and run, up to the first error or
 * --help/--version (cli->done), and checks the streams the run needs.
 * @return 0, or the exit status.
 */
static int parse_args(struct parse_cli *cli, struct parse_run *run, int argc, char **argv, int closed)
{
	static const struct option options[] = {
		{ "format", required_argument, NULL, 'f' },  { "base", required_argument, NULL, 'b' },
		{ "output", required_argument, NULL, 'o' },  { "delimiter", required_argument, NULL, 'd' },
		{ "tsv-prefix", required_argument, NULL, 'P' }, { "tsv-labels", no_argument, NULL, 'L' },
		{ "count", no_argument, NULL, 'n' },         { "max-errors", required_argument, NULL, 'e' },
		{ "quiet", no_argument, NULL, 'q' },         { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },       { NULL, 0, NULL, 0 },
	};
	static const char *stdin_only[] = { "-" };
	struct ling_err err;
	int c, rc;

	while ((c = getopt_long(argc, argv, "f:b:o:d:ne:qhV", options, NULL)) != -1)
		if ((rc = parse_option(cli, run, c, optarg)) || cli->done)
			return rc;
	cli->files = optind < argc ? (const char **)argv + optind : stdin_only;
	cli->nfiles = optind < argc ? argc - optind : 1;
	ling_err_clear(&err);
	if (ling_stdio_require(closed, (run->count_only ? 0 : LING_STDOUT_CLOSED) |
					       (ling_reads_stdin(cli->files, (size_t)cli->nfiles) ? LING_STDIN_CLOSED : 0),
			       &err)) {
		ling_err_print("kg-parse", &err);
		return 2;
	}
	return 0;
}

/*
 * Parses the inputs onto stdout and finishes it. @return 0 or a ling_errc
 * with err set: the first error, a failed write before one of the input.
 */
static int parse_all(const struct parse_cli *cli, struct parse_run *run, struct ling_err *err)
{
	struct kg_parse_opts opts = cli->opts;
	int i, rc = 0;

	for (i = 0; i < cli->nfiles && !rc; i++) {
		run->file_index = (unsigned)i;
		rc = parse_file(run, cli->files[i], &opts, err);
	}
	if (run->write_failed) {
		*err = run->write_err;
		rc = err->code;
		run->errors.stopped = 0;
	} else if (!run->count_only) {
		struct ling_err werr;

		ling_err_clear(&werr);
		/* Reported only when nothing failed before it: the first error is the one to tell. */
		if ((ling_stdout_write(run->out.data ? run->out.data : "", run->committed, &werr) ||
		     ling_stdout_finish(&werr)) && !rc) {
			*err = werr;
			rc = err->code;
		}
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct parse_cli cli;
	struct parse_run run;
	struct ling_err err;
	int rc, closed = ling_stdio_init();

	memset(&cli, 0, sizeof(cli));
	memset(&run, 0, sizeof(run));
	ling_err_clear(&err);
	run.quads_out = 1;
	ling_errors_init(&run.errors, "kg-parse");
	if ((rc = parse_args(&cli, &run, argc, argv, closed)) || cli.done)
		return rc;
	rc = parse_all(&cli, &run, &err);
	if (rc && !run.errors.stopped)
		ling_err_print("kg-parse", &err);
	if (!cli.quiet && rc)
		fprintf(stderr, "kg-parse: read %llu, rejected %lld; failed: %s\n", run.statements, run.errors.count,
			err.msg);
	else if (!cli.quiet)
		fprintf(stderr, "kg-parse: read %llu, rejected %lld\n", run.statements, run.errors.count);
	ling_buf_release(&run.out);
	ling_buf_release(&run.base);
	return rc ? (rc == LING_EUSAGE ? 2 : 1) : 0;
}
