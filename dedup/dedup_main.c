/* dedup: drop exact and near-duplicate JSONL records, remembering across runs. */
#include "dedup.h"

#include "../common/ling_cli.h"
#include "../common/ling_num.h"
#include "../common/ling_jsonl.h"
#include "../common/ling_kafka.h"
#include "../common/ling_main.h"
#include "../common/ling_mem.h"
#include "../common/ling_stdio.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/banned.h"

static const char usage_text[] =
	"usage: dedup [options] [FILE...]\n"
	"       dedup --state DIR --confirm\n"
	"\n"
	"Drop exact and near-duplicate JSON Lines records: the unique ones are written\n"
	"to stdout (or to --out DIR) in input order, and the first occurrence wins.\n"
	"With --state, records are also checked against every earlier run on that\n"
	"state. With no FILE, or with -, read stdin.\n"
	"\n"
	"  -s, --state=DIR        remember kept records in DIR across runs (created when missing)\n"
	"  -o, --out=DIR          write output segments to DIR, committed with the state\n"
	"                         (exactly once across crashes; needs --state)\n"
	"      --in-kafka=BROKERS/TOPIC  read the records from a Kafka topic (one a message),\n"
	"                         every partition from its start to its end, instead of FILEs\n"
	"      --out-kafka=BROKERS/TOPIC  write the unique records to a Kafka topic (idempotent\n"
	"                         producer, flushed before each commit of the state)\n"
	"  -X, --property=KEY=VALUE  a librdkafka property for --in-kafka and --out-kafka\n"
	"      --confirm          the records written to stdout by the runs on --state\n"
	"                         reached their destination: stop writing them again\n"
	"  -f, --field=PATH       JSON path of the text, e.g. messages[].content; repeatable\n"
	"                         (default: message contents and tool names, or else text)\n"
	"  -t, --threshold=T      estimated Jaccard similarity of near duplicates (default: 0.8)\n"
	"  -n, --ngram=N          words per shingle (default: 5)\n"
	"      --bands=B          LSH bands (default: 14)\n"
	"      --rows=R           signature values per band (default: 8)\n"
	"  -j, --threads=N        threads for signatures (default: the online CPUs)\n"
	"      --commit-every=N   records between commits of the state (default: 50000)\n"
	"  -x, --explain[=FILE]   for each duplicate, the earlier record it matched, as JSON\n"
	"                         (on stderr, or into FILE)\n"
	"      --dry-run          write duplicates too, marked with \"dup_of\"; change no state\n"
	"      --stats            print the counts of each kind at the end\n"
	"  -e, --max-errors=N     skip up to N bad JSON lines, reporting each (default: 0)\n"
	"  -q, --quiet            no summary line\n"
	"  -h, --help             show this help\n"
	"  -V, --version          show the version\n"
	"\n"
	"The summary on stderr reads: read N, wrote N, rejected N, dropped N (exact N, near N).\n"
	"Output on stdout with --state is at least once: each run first writes again the\n"
	"records of earlier runs that were not confirmed with --confirm; --out gives\n"
	"exactly once; --out-kafka is at least once, and a record written twice (after a\n"
	"crash between a flush and its commit) is dropped by a dedup on the topic's state.\n"
	"Exit status: 0 ok, 1 bad input or state error, 2 usage error.\n";

static char stdout_buf[1 << 20];

struct main_run {
	struct ling_errors errors;
	struct ling_kafka_producer *producer; /* --out-kafka */
	FILE *explain;
	int explain_stderr;
	struct ling_buf line;
};

/* How long a flush waits for the cluster to acknowledge what was produced. */
#define KAFKA_FLUSH_MS 60000

static int on_emit(void *ctx, const char *line, size_t len, struct ling_err *err)
{
	struct main_run *run = ctx;
	int rc;

	if (run->producer)
		return ling_kafka_produce(run->producer, LING_KAFKA_ANY_PARTITION, NULL, 0, line, len, err);
	if ((rc = ling_stdout_write(line, len, err)))
		return rc;
	return ling_stdout_write("\n", 1, err);
}

/* Before the state commits, the output it describes must be on disk (a pipe has no disk). */
static int on_flush(void *ctx, int durable, struct ling_err *err)
{
	struct main_run *run = ctx;

	/* acknowledged by the cluster (acks=all) is Kafka's durable */
	if (run->producer)
		return ling_kafka_flush(run->producer, KAFKA_FLUSH_MS, err);
	return ling_stdout_flush(durable, err);
}

static int on_explain(void *ctx, const struct dedup_match *m, struct ling_err *err)
{
	struct main_run *run = ctx;

	ling_buf_reset(&run->line);
	if (run->explain_stderr)
		ling_buf_adds(&run->line, "dedup: explain: ");
	dedup_match_to_json(m, &run->line);
	ling_buf_addc(&run->line, '\n');
	if (fwrite(run->line.data, 1, run->line.len, run->explain) != run->line.len)
		return ling_err_set(err, LING_EIO, "cannot write the explanation: %s", strerror(errno));
	return 0;
}

static int on_bad_record(void *ctx, const struct ling_err *err)
{
	struct main_run *run = ctx;

	return ling_errors_report(&run->errors, err);
}

static int usage_error(const char *msg)
{
	return ling_usage_error("dedup", "dedup [options] [FILE...]", msg);
}

static int parse_int_option(const char *arg, long long min, long long max, int *out)
{
	long long v;

	if (ling_parse_long(arg, min, max, &v))
		return -1;
	*out = (int)v;
	return 0;
}

/* Reads one input into d. @return 0 or a ling_errc (LING_ESTOP after too many bad lines). */
static int dedup_file(struct dedup *d, const char *path, struct ling_progress *progress,
		      unsigned long long *bytes, struct ling_err *err)
{
	struct ling_input *in = NULL;
	struct ling_jsonl r;
	const char *line;
	size_t len;
	int rc;

	if ((rc = ling_input_open(&in, path, err)))
		return rc;
	ling_jsonl_init(&r, in);
	while ((rc = ling_jsonl_next(&r, &line, &len, err)) > 0) {
		*bytes += len + 1;
		if ((rc = dedup_record(d, line, len, ling_input_name(in), r.line, err)))
			break;
		if (progress->enabled) {
			const struct dedup_counts *c = dedup_counts(d);
			unsigned long long total = ling_input_raw_size(in);

			if (total)
				ling_progress_update(progress, "dedup: %s %.0f%%, %" PRIu64 " records",
						     ling_input_name(in),
						     100.0 * (double)ling_input_raw_offset(in) / (double)total, c->read);
			else
				ling_progress_update(progress, "dedup: %s %" PRIu64 " records", ling_input_name(in),
						     c->read);
		}
	}
	ling_progress_done(progress);
	ling_input_close(in);
	return rc < 0 ? rc : 0;
}

static void print_summary(const struct dedup_counts *c, int dry_run, int failed, int durable, int to_out)
{
	if (failed) {
		/* What was written after the last commit may not have arrived: no "wrote" count. */
		fprintf(stderr,
			"dedup: failed (see above): read %" PRIu64 ", rejected %" PRIu64 ", %s %" PRIu64
			" (exact %" PRIu64 ", near %" PRIu64 "); output incomplete%s\n",
			c->read, c->rejected, dry_run ? "marked" : "dropped", c->exact + c->near, c->exact, c->near,
			durable ? ", the state keeps what was committed before" : "");
		return;
	}
	if (c->reemitted && to_out)
		fprintf(stderr, "dedup: wrote %" PRIu64 " unconfirmed records of earlier stdout runs into the segments\n",
			c->reemitted);
	else if (c->reemitted)
		fprintf(stderr,
			"dedup: wrote again %" PRIu64 " records of earlier runs that were not confirmed "
			"(dedup --state DIR --confirm, once they are safe)\n",
			c->reemitted);
	fprintf(stderr,
		"dedup: read %" PRIu64 ", wrote %" PRIu64 ", rejected %" PRIu64 ", %s %" PRIu64 " (exact %" PRIu64
		", near %" PRIu64 ")\n",
		c->read, c->written, c->rejected, dry_run ? "marked" : "dropped", c->exact + c->near, c->exact, c->near);
}

static void print_stats(const struct dedup_counts *c, unsigned long long bytes, double secs)
{
	uint64_t kept = c->read - c->rejected - c->exact - c->near;

	fprintf(stderr,
		"dedup: stats: kept %" PRIu64 ", exact %" PRIu64 ", near %" PRIu64 ", no text %" PRIu64
		", rejected %" PRIu64 "\n",
		kept, c->exact, c->near, c->no_text, c->rejected);
	fprintf(stderr,
		"dedup: stats: candidates %" PRIu64 " (confirmed %" PRIu64 ", below threshold %" PRIu64
		"), run %" PRIu64 ", records in the state %" PRIu64 "\n",
		c->candidates, c->candidates - c->below_threshold, c->below_threshold, c->run, c->state_records);
	if (secs <= 0)
		secs = 1e-9;
	fprintf(stderr, "dedup: stats: %.3f s, %.0f records/s, %.2f MB/s\n", secs, (double)c->read / secs,
		(double)bytes / secs / 1e6);
}

/* The directory part of path ("." for none). */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	return slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
}

/*
 * No output may be an input (same device and inode): --explain=FILE,
 * stdout, or --out as the directory of an input. Checked before anything is
 * opened for writing. @return 0 or LING_EUSAGE.
 */
static int check_outputs(const char *const *files, int nfiles, const char *explain_path, const char *out_dir,
			 struct ling_err *err)
{
	int explain_file = explain_path && strcmp(explain_path, "-");
	int i, rc = 0;

	for (i = 0; i < nfiles && !rc; i++) {
		if (!strcmp(files[i], "-")) {
			if (explain_file && ling_fd_is_file(STDIN_FILENO, explain_path))
				rc = ling_err_set(err, LING_EUSAGE, "--explain=%s is the standard input", explain_path);
			continue;
		}
		if (explain_file && ling_same_file(explain_path, files[i])) {
			rc = ling_err_set(err, LING_EUSAGE, "--explain=%s is the input %s; give another file",
					  explain_path, files[i]);
		} else if (!out_dir && ling_fd_is_file(STDOUT_FILENO, files[i])) {
			rc = ling_err_set(err, LING_EUSAGE, "standard output is the input %s", files[i]);
		} else if (out_dir) {
			char *dir = dir_of(files[i]);

			if (ling_same_file(dir, out_dir))
				rc = ling_err_set(err, LING_EUSAGE,
						  "--out=%s holds the input %s; give another directory", out_dir,
						  files[i]);
			free(dir);
		}
	}
	return rc;
}

/* dedup --state DIR --confirm. */
static int run_confirm(const struct dedup_options *opts, int have_files, int quiet)
{
	struct ling_err err;
	uint64_t records;
	int rc;

	ling_err_clear(&err);
	if (!opts->state_dir || opts->out_dir || (opts->flags & DEDUP_DRY_RUN) || have_files)
		return usage_error("--confirm takes --state and nothing else: dedup --state DIR --confirm");
	if ((rc = dedup_confirm(opts->state_dir, &records, &err))) {
		ling_err_print("dedup", &err);
		return rc == LING_EUSAGE ? 2 : 1;
	}
	if (!quiet)
		fprintf(stderr, "dedup: confirmed %" PRIu64 " records\n", records);
	return 0;
}

enum { OPT_BANDS = 256, OPT_ROWS, OPT_COMMIT_EVERY, OPT_DRY_RUN, OPT_STATS, OPT_CONFIRM, OPT_IN_KAFKA, OPT_OUT_KAFKA };

/* What the command line asks for. */
struct cli {
	struct dedup_options opts;
	const char **fields;      /* --field, owned */
	int nfields;
	const char **files;       /* the inputs, or stdin_only */
	int nfiles;
	const char *explain_path; /* --explain=FILE */
	const char *in_kafka, *out_kafka; /* BROKERS/TOPIC */
	const char **props;               /* -X KEY=VALUE, owned array */
	size_t nprops;
	int explain, quiet, stats, confirm;
};

/* Parses one option c of getopt_long into cli. @return -1 to go on, or the exit status. */
static int parse_option(struct cli *cli, struct main_run *run, int c)
{
	struct dedup_params *p = &cli->opts.params;
	struct ling_err err;
	long long ll;

	switch (c) {
	case 's': cli->opts.state_dir = optarg; break;
	case 'o': cli->opts.out_dir = optarg; break;
	case 'f':
		if (dedup_field_check(optarg, &err))
			return usage_error(err.msg);
		cli->fields = xrealloc(cli->fields, (size_t)(cli->nfields + 1) * sizeof(*cli->fields));
		cli->fields[cli->nfields++] = optarg;
		break;
	case 't':
		if (ling_parse_double(optarg, &p->threshold) || p->threshold < 0 || p->threshold > 1)
			return usage_error("--threshold needs a number between 0 and 1");
		break;
	case 'n':
		if (parse_int_option(optarg, 1, DEDUP_MAX_NGRAM, &p->ngram))
			return usage_error("--ngram needs a number between 1 and 64");
		break;
	case OPT_BANDS:
		if (parse_int_option(optarg, 1, 255, &p->bands))
			return usage_error("--bands needs a number between 1 and 255");
		break;
	case OPT_ROWS:
		if (parse_int_option(optarg, 1, DEDUP_MAX_PERMS, &p->rows))
			return usage_error("--rows needs a number between 1 and 1024");
		break;
	case 'j':
		if (parse_int_option(optarg, 1, 64, &cli->opts.threads))
			return usage_error("--threads needs a number between 1 and 64");
		break;
	case OPT_COMMIT_EVERY:
		if (ling_parse_long(optarg, 1, 1LL << 40, &ll))
			return usage_error("--commit-every needs a number > 0");
		cli->opts.commit_every = (long)ll;
		break;
	case 'x':
		cli->explain = 1;
		cli->explain_path = optarg;
		break;
	case OPT_DRY_RUN: cli->opts.flags |= DEDUP_DRY_RUN; break;
	case OPT_STATS: cli->stats = 1; break;
	case OPT_CONFIRM: cli->confirm = 1; break;
	case OPT_IN_KAFKA: cli->in_kafka = optarg; break;
	case OPT_OUT_KAFKA: cli->out_kafka = optarg; break;
	case 'X': /* checked now, given to each client later */
		if (ling_kafka_conf_check_arg(optarg, &err))
			return usage_error(err.msg);
		cli->props = xrealloc(cli->props, (cli->nprops + 1) * sizeof(*cli->props));
		cli->props[cli->nprops++] = optarg;
		break;
	case 'e':
		if (ling_errors_parse_max(&run->errors, optarg))
			return usage_error("--max-errors needs a number >= 0");
		break;
	case 'q': cli->quiet = 1; break;
	case 'h': return ling_print_help("dedup", usage_text);
	case 'V': return ling_print_version_checked("dedup");
	default: return usage_error(NULL); /* getopt said what is wrong */
	}
	return -1;
}

/* The command line into cli. @return -1 to go on, or the exit status. */
static int parse_options(struct cli *cli, struct main_run *run, int argc, char **argv)
{
	static const struct option options[] = {
		{ "state", required_argument, NULL, 's' },
		{ "out", required_argument, NULL, 'o' },
		{ "field", required_argument, NULL, 'f' },
		{ "threshold", required_argument, NULL, 't' },
		{ "ngram", required_argument, NULL, 'n' },
		{ "bands", required_argument, NULL, OPT_BANDS },
		{ "rows", required_argument, NULL, OPT_ROWS },
		{ "threads", required_argument, NULL, 'j' },
		{ "commit-every", required_argument, NULL, OPT_COMMIT_EVERY },
		{ "explain", optional_argument, NULL, 'x' },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "confirm", no_argument, NULL, OPT_CONFIRM },
		{ "in-kafka", required_argument, NULL, OPT_IN_KAFKA },
		{ "out-kafka", required_argument, NULL, OPT_OUT_KAFKA },
		{ "property", required_argument, NULL, 'X' },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "max-errors", required_argument, NULL, 'e' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *stdin_only[] = { "-" };
	struct ling_err err;
	int c, status;

	while ((c = getopt_long(argc, argv, "s:o:f:t:n:j:x::e:X:qhV", options, NULL)) != -1)
		if ((status = parse_option(cli, run, c)) >= 0)
			return status;
	cli->opts.fields = cli->fields;
	cli->opts.nfields = (size_t)cli->nfields;
	if (dedup_params_check(&cli->opts.params, &err))
		return usage_error(err.msg);
	if (cli->opts.out_dir && !cli->opts.state_dir)
		return usage_error("--out needs --state");
	if (cli->opts.out_dir && (cli->opts.flags & DEDUP_DRY_RUN))
		return usage_error("--out and --dry-run do not go together");
	if (cli->out_kafka && (cli->opts.out_dir || (cli->opts.flags & DEDUP_DRY_RUN)))
		return usage_error("--out-kafka goes with neither --out nor --dry-run");
	if (cli->in_kafka && optind < argc)
		return usage_error("--in-kafka reads no FILE");
	if ((cli->in_kafka && !strchr(cli->in_kafka, '/')) || (cli->out_kafka && !strchr(cli->out_kafka, '/')))
		return usage_error("--in-kafka and --out-kafka take BROKERS/TOPIC");
	if (cli->nprops && !cli->in_kafka && !cli->out_kafka)
		return usage_error("-X goes with --in-kafka or --out-kafka");
	cli->files = optind < argc ? (const char **)argv + optind : stdin_only;
	cli->nfiles = optind < argc ? argc - optind : 1;
	return -1;
}

/*
 * Checks the streams, inputs and outputs before anything is written, and
 * opens --explain's file. @return -1 to go on, or the exit status.
 */
static int prepare(struct cli *cli, struct main_run *run, int closed)
{
	struct ling_err err;
	int i, need = cli->opts.out_dir || cli->out_kafka ? 0 : LING_STDOUT_CLOSED;

	ling_err_clear(&err);
	if (cli->in_kafka)
		cli->nfiles = 0;
	if (ling_reads_stdin(cli->files, (size_t)cli->nfiles))
		need |= LING_STDIN_CLOSED;
	if (ling_stdio_require(closed, need, &err) ||
	    check_outputs(cli->files, cli->nfiles, cli->explain ? cli->explain_path : NULL, cli->opts.out_dir, &err))
		return usage_error(err.msg);
	/* A missing input is found before the state is touched. */
	for (i = 0; i < cli->nfiles; i++) {
		if (strcmp(cli->files[i], "-") && access(cli->files[i], R_OK)) {
			fprintf(stderr, "dedup: %s: cannot open: %s\n", cli->files[i], strerror(errno));
			return 1;
		}
	}
	if (!cli->explain)
		return -1;
	cli->opts.flags |= DEDUP_EXPLAIN;
	run->explain = stderr;
	run->explain_stderr = 1;
	if (cli->explain_path && strcmp(cli->explain_path, "-")) {
		run->explain_stderr = 0;
		if (!(run->explain = fopen(cli->explain_path, "w"))) {
			fprintf(stderr, "dedup: %s: cannot create: %s\n", cli->explain_path, strerror(errno));
			return 1;
		}
	}
	return -1;
}

/* The state's name of a partition's position: "kafka/TOPIC/PARTITION". */
static const char *position_name(struct ling_buf *b, const char *topic, size_t partition)
{
	ling_buf_reset(b);
	ling_buf_addf(b, "kafka/%s/%zu", topic, partition);
	return b->data;
}

/* Where each partition starts: after the last message a commit covered, else at its beginning. */
static int start_offsets(struct dedup *d, const char *topic, int64_t *from, size_t n, struct ling_err *err)
{
	struct ling_buf name = LING_BUF_INIT, v = LING_BUF_INIT;
	long long off;
	size_t i;
	int rc = 0;

	for (i = 0; i < n && !rc; i++) {
		from[i] = LING_KAFKA_OFFSET_BEGINNING;
		if ((rc = dedup_position_get(d, position_name(&name, topic, i), &v, err)) == 1) {
			rc = 0;
			if (ling_parse_long(v.data, 0, INT64_MAX, &off))
				rc = ling_err_set(err, LING_ESTORE, "corrupt state: position %s is %s", name.data, v.data);
			from[i] = off;
		}
	}
	ling_buf_release(&name);
	ling_buf_release(&v);
	return rc;
}

/*
 * --in-kafka: every message of every partition of the topic, from where the
 * state's last commit left it (from the start without a state) to the end
 * the broker knows, as records (a message of several lines is several
 * records). Source "TOPIC/PARTITION", line: the offset. The next offset is
 * stored with each commit, after the message's records are in.
 */
static int dedup_kafka(const struct cli *cli, struct dedup *d, unsigned long long *bytes, struct ling_err *err)
{
	struct ling_kafka_conf *conf = NULL;
	struct ling_kafka_consumer *c = NULL;
	struct ling_buf source = LING_BUF_INIT, name = LING_BUF_INIT;
	char next[24];
	int64_t *from = NULL;
	const char *topic;
	size_t n, i, k;
	int rc;

	if ((rc = ling_kafka_conf_for(cli->in_kafka, cli->props, cli->nprops, &conf, &topic, err)) ||
	    (rc = ling_kafka_consumer_new(&c, conf, topic, err)))
		goto out;
	n = ling_kafka_consumer_partitions(c);
	from = xcalloc(n + 1, sizeof(*from));
	if ((rc = start_offsets(d, topic, from, n, err)) || (rc = ling_kafka_consumer_assign(c, from, n, err)))
		goto out;
	while (!rc && !ling_kafka_consumer_caught_up(c)) {
		const struct ling_kafka_msg *msgs;

		if ((rc = ling_kafka_consumer_poll(c, 1000, 200, &msgs, &n, err)))
			break;
		for (i = 0; i < n && !rc; i++) {
			const char *p = msgs[i].payload, *end = p + msgs[i].len;

			ling_buf_reset(&source);
			ling_buf_addf(&source, "%s/%d", topic, (int)msgs[i].partition);
			for (; p && p < end && !rc; p += k + 1) {
				const char *nl = memchr(p, '\n', (size_t)(end - p));

				k = nl ? (size_t)(nl - p) : (size_t)(end - p);
				*bytes += k + 1;
				if (k)
					rc = dedup_record(d, p, k, source.data, (long)msgs[i].offset, err);
			}
			snprintf(next, sizeof(next), "%lld", (long long)msgs[i].offset + 1);
			dedup_position_set(d, position_name(&name, topic, (size_t)msgs[i].partition), next);
		}
	}
out:
	free(from);
	ling_buf_release(&source);
	ling_buf_release(&name);
	ling_kafka_consumer_free(c);
	ling_kafka_conf_free(conf);
	return rc;
}

static int open_producer(const struct cli *cli, struct main_run *run, struct ling_err *err)
{
	struct ling_kafka_conf *conf = NULL;
	const char *topic;
	int rc;

	if (!(rc = ling_kafka_conf_for(cli->out_kafka, cli->props, cli->nprops, &conf, &topic, err)))
		rc = ling_kafka_producer_new(&run->producer, conf, topic, err);
	ling_kafka_conf_free(conf);
	return rc;
}

/* Deduplicates the inputs and reports. @return the exit status. */
static int run_dedup(struct cli *cli, struct main_run *run)
{
	const struct dedup_options *opts = &cli->opts;
	struct dedup_sink sink;
	struct ling_progress progress;
	struct ling_err err;
	struct dedup *d = NULL;
	unsigned long long bytes = 0;
	struct dedup_counts counts;
	uint64_t confirmed;
	double start;
	int i, rc;

	ling_err_clear(&err);
	memset(&sink, 0, sizeof(sink));
	sink.ctx = run;
	sink.emit = on_emit;
	sink.flush = on_flush;
	sink.explain = on_explain;
	sink.bad_record = on_bad_record;
	/* Whole batches per write where they fit (glibc ignores a size given without a buffer). */
	setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	ling_progress_init(&progress);
	start = ling_now();
	rc = cli->out_kafka ? open_producer(cli, run, &err) : 0;
	if (!rc)
		rc = dedup_open(&d, opts, &sink, &err);
	if (!rc && cli->in_kafka)
		rc = dedup_kafka(cli, d, &bytes, &err);
	for (i = 0; i < cli->nfiles && !rc; i++)
		rc = dedup_file(d, cli->files[i], &progress, &bytes, &err);
	if (!rc)
		rc = dedup_finish(d, &err);
	/* The last word on stdout comes before any word of success. */
	if (!rc && run->producer)
		rc = ling_kafka_flush(run->producer, KAFKA_FLUSH_MS, &err);
	else if (!rc && !opts->out_dir)
		rc = ling_stdout_finish(&err);
	if (rc && !run->errors.stopped)
		ling_err_print("dedup", &err);
	if (run->explain && !run->explain_stderr && fclose(run->explain) && !rc) {
		fprintf(stderr, "dedup: %s: cannot write: %s\n", cli->explain_path, strerror(errno));
		rc = LING_EIO;
	}
	run->explain = NULL;
	memset(&counts, 0, sizeof(counts));
	if (d)
		counts = *dedup_counts(d);
	dedup_close(d);
	/* acknowledged by the cluster: the records of this run need not be written again */
	if (!rc && run->producer && opts->state_dir && !(opts->flags & DEDUP_DRY_RUN) &&
	    (rc = dedup_confirm(opts->state_dir, &confirmed, &err)))
		ling_err_print("dedup", &err);
	if (d && !cli->quiet)
		print_summary(&counts, !!(opts->flags & DEDUP_DRY_RUN), rc != 0,
			      opts->state_dir && !(opts->flags & DEDUP_DRY_RUN), opts->out_dir != NULL);
	if (d && cli->stats)
		print_stats(&counts, bytes, ling_now() - start);
	ling_kafka_producer_free(run->producer);
	run->producer = NULL;
	if (!rc)
		return 0;
	return err.code == LING_EUSAGE ? 2 : 1;
}

int main(int argc, char **argv)
{
	struct cli cli;
	struct main_run run;
	int closed = ling_stdio_init(), status;

	memset(&cli, 0, sizeof(cli));
	memset(&run, 0, sizeof(run));
	ling_errors_init(&run.errors, "dedup");
	dedup_options_init(&cli.opts);
	status = parse_options(&cli, &run, argc, argv);
	if (status < 0 && cli.confirm)
		status = run_confirm(&cli.opts, optind < argc, cli.quiet);
	if (status < 0)
		status = prepare(&cli, &run, closed);
	if (status < 0)
		status = run_dedup(&cli, &run);
	free(cli.fields);
	free(cli.props);
	ling_buf_release(&run.line);
	return status;
}
