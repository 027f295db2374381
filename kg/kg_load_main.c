/*
 * kg-load: load RDF into a KG store, one all-or-nothing transaction per
 * input; or, with --kafka, consume deltas from a topic in batches, each
 * batch one transaction with the offsets it consumed.
 */
#include "kg.h"

#include "../common/ling_cli.h"
#include "../common/ling_kafka.h"
#include "../common/ling_main.h"
#include "../common/ling_mem.h"
#include "../common/ling_num.h"
#include "../common/ling_stdio.h"

#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

static const char usage_text[] =
	"usage: kg-load [options] --store DIR [FILE...]\n"
	"       kg-load [options] --store DIR --kafka BROKERS --topic TOPIC\n"
	"\n"
	"Load RDF into the KG store DIR (created when missing). Each FILE is one\n"
	"transaction: it is applied whole or, on any error, not at all. Loading the\n"
	"same file again changes nothing. With no FILE, or with -, read stdin.\n"
	"\n"
	"With --kafka, consume deltas from TOPIC instead: lines \"+ STATEMENT\" (add)\n"
	"and \"- STATEMENT\" (delete) in N-Quads syntax, applied in batches. Each batch is\n"
	"one transaction with the offsets it consumed and the entities it changed, so\n"
	"a restart after any crash goes on exactly after the last batch stored.\n"
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
	"                         a failing file then keeps the batches applied before it);\n"
	"                         with --kafka, at most N quads a batch (default: 100000)\n"
	"      --source-key=KEY   scope of blank node labels for stdin (default: stdin)\n"
	"      --kafka=BROKERS    consume deltas from these brokers (host:port,...)\n"
	"      --topic=TOPIC      the topic of the deltas (every partition)\n"
	"      --group=ID         the client's group id (default: ling-kg-load; no offsets\n"
	"                         are committed to Kafka: the store keeps them)\n"
	"  -X, --property=KEY=VALUE  a librdkafka property, such as security.protocol=SSL\n"
	"      --kafka-config=FILE  librdkafka properties, one KEY=VALUE a line\n"
	"      --until-idle       stop once every partition is read to its end (else run\n"
	"                         until SIGTERM or SIGINT, which end after the current batch)\n"
	"      --max-message=BYTES  reject larger messages as bad (default: 1048576)\n"
	"  -q, --quiet            no summary line\n"
	"  -h, --help             show this help\n"
	"  -V, --version          show the version\n"
	"\n"
	"The summary on stderr reads: read N (quads parsed from inputs that loaded), wrote N\n"
	"(quads new to the store, or deleted), rejected N (bad statements skipped).\n"
	"A bad delta is reported as TOPIC/PARTITION@OFFSET:LINE:COL: what is wrong.\n"
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
	int use_kafka;
	const char **files;
	int nfiles;
	unsigned flags;
	int quiet;
	int done; /* --help or --version printed: exit with what parse_args returned */
	/* --kafka */
	struct ling_kafka_conf *kafka; /* the client's properties (bootstrap.servers from --kafka) */
	const char *topic;
	long long max_message;
	int until_idle;
	int kafka_only; /* an option that means nothing without --kafka was given */
};

/* ---- --kafka: deltas from a topic ---- */

/* SIGTERM and SIGINT: finish the batch, store it, exit 0. */
static volatile sig_atomic_t stop_requested;

static void request_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = request_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/* Default quads per batch: big enough to amortise the synced write, small enough to bound memory. */
#define KAFKA_BATCH_QUADS 100000
/* Messages taken per poll. */
#define KAFKA_POLL_MAX 10000
/* How long a poll waits for the first message: the daemon's reaction time to SIGTERM. */
#define KAFKA_POLL_MS 500

struct kafka_run {
	struct load_run *run;
	const struct load_cli *cli;
	struct ling_kafka_consumer *consumer;
	int64_t *next;          /* per partition: the offset after the last message consumed */
	size_t npartitions;
	char source_key[KG_SOURCE_KEY_SIZE];
	uint64_t messages;      /* consumed and stored */
	uint64_t batch_messages; /* consumed into the pending batch */
};

/* The store's meta key of a partition's next offset. */
static void offset_key(struct ling_buf *key, const char *topic, size_t partition)
{
	ling_buf_reset(key);
	ling_buf_addf(key, "kafka/%s/%zu", topic, partition);
}

/* Reads the stored next offsets (LING_KAFKA_OFFSET_BEGINNING for partitions never read). */
static int read_offsets(struct kafka_run *k, struct ling_err *err)
{
	struct ling_buf key = LING_BUF_INIT, val = LING_BUF_INIT;
	size_t p;
	int rc = 0;

	k->next = xcalloc(k->npartitions, sizeof(*k->next));
	for (p = 0; p < k->npartitions && !rc; p++) {
		long long off;

		offset_key(&key, k->cli->topic, p);
		k->next[p] = LING_KAFKA_OFFSET_BEGINNING;
		rc = kg_store_meta_get(k->run->store, key.data, &val, err);
		if (rc == 1 && ling_parse_long(val.data, 0, INT64_MAX, &off))
			rc = ling_err_at(err, LING_ESTORE, k->cli->store_dir, 0, 0, "bad stored offset %s=%s", key.data,
					 val.data);
		else if (rc == 1)
			k->next[p] = off, rc = 0;
	}
	ling_buf_release(&key);
	ling_buf_release(&val);
	return rc < 0 ? rc : 0;
}

static int on_delta_error(void *ctx, const struct ling_err *err)
{
	struct load_run *run = ctx;

	return ling_errors_report(&run->errors, err);
}

/* Feeds one message to the batch. @return 0, or an error that ends the run (the budget of bad deltas included). */
static int take_message(struct kafka_run *k, const struct ling_kafka_msg *m, struct ling_err *err)
{
	char where[sizeof(err->file)];
	int rc = 0;

	snprintf(where, sizeof(where), "%s/%d@%lld", m->topic, (int)m->partition, (long long)m->offset);
	if (m->len > (size_t)k->cli->max_message) {
		struct ling_err bad;

		ling_err_at(&bad, LING_EDATA, where, 0, 0, "message of %zu bytes is over --max-message (%lld)", m->len,
			    k->cli->max_message);
		if (ling_errors_report(&k->run->errors, &bad))
			rc = ling_err_set(err, LING_EDATA, "too many bad deltas");
	} else if (m->len) {
		rc = kg_delta_add(k->run->loader, m->payload, m->len, where, on_delta_error, k->run, err);
	}
	if (!rc && m->partition >= 0 && (size_t)m->partition < k->npartitions)
		k->next[m->partition] = m->offset + 1;
	k->batch_messages++;
	return rc;
}

/* Applies the pending batch with the offsets it consumed, and starts the next one. */
static int apply_batch(struct kafka_run *k, struct ling_err *err)
{
	struct ling_buf key = LING_BUF_INIT;
	char val[24];
	size_t p;
	int rc;

	for (p = 0; p < k->npartitions; p++)
		if (k->next[p] >= 0) {
			offset_key(&key, k->cli->topic, p);
			snprintf(val, sizeof(val), "%lld", (long long)k->next[p]);
			kg_loader_meta_put(k->run->loader, key.data, val);
		}
	ling_buf_release(&key);
	rc = kg_loader_apply(k->run->loader, &k->run->counts, err);
	if (rc)
		return rc;
	k->messages += k->batch_messages;
	k->batch_messages = 0;
	/* A fresh loader per batch: a daemon's term table must not grow without end. */
	kg_loader_free(k->run->loader);
	return kg_loader_new(&k->run->loader, k->run->store, k->source_key, &k->cli->graph, KG_LOADER_TRACK, err);
}

static int consume(struct kafka_run *k, struct ling_err *err)
{
	long long batch = k->run->batch > 0 ? k->run->batch : KAFKA_BATCH_QUADS;
	int rc = 0;

	while (!rc) {
		const struct ling_kafka_msg *msgs;
		size_t n, i;
		int idle;

		rc = ling_kafka_consumer_poll(k->consumer, KAFKA_POLL_MAX, k->batch_messages ? 50 : KAFKA_POLL_MS, &msgs,
					      &n, err);
		/* A batch ends when it is full, when messages stop coming, or on a stop. */
		for (i = 0; i < n && !rc; i++)
			if (!(rc = take_message(k, &msgs[i], err)) && kg_loader_pending(k->run->loader) >= (uint64_t)batch)
				rc = apply_batch(k, err);
		if (rc)
			break;
		idle = ling_kafka_consumer_caught_up(k->consumer);
		if (k->batch_messages && (n == 0 || idle || stop_requested))
			rc = apply_batch(k, err);
		if (!k->batch_messages && (stop_requested || (k->cli->until_idle && idle)))
			break;
		if (n > 0)
			ling_progress_update(&k->run->progress, "kg-load: %s: %" PRIu64 " messages", k->cli->topic,
					     k->messages + k->batch_messages);
	}
	return rc;
}

/* Consumes the topic of cli into the open store. @return 0 or a ling_errc. */
static int load_kafka(struct load_cli *cli, struct load_run *run, struct kafka_run *k, struct ling_err *err)
{
	int rc;

	k->run = run;
	k->cli = cli;
	snprintf(k->source_key, sizeof(k->source_key), "kafka:%s", cli->topic);
	catch_stop_signals();
	if (!ling_kafka_conf_get(cli->kafka, "group.id") && (rc = ling_kafka_conf_put(cli->kafka, "group.id", "ling-kg-load", err)))
		return rc;
	if ((rc = ling_kafka_consumer_new(&k->consumer, cli->kafka, cli->topic, err)))
		return rc;
	k->npartitions = ling_kafka_consumer_partitions(k->consumer);
	if ((rc = read_offsets(k, err)) ||
	    (rc = ling_kafka_consumer_assign(k->consumer, k->next, k->npartitions, err)) ||
	    (rc = kg_loader_new(&run->loader, run->store, k->source_key, &cli->graph, KG_LOADER_TRACK, err)))
		return rc;
	rc = consume(k, err);
	ling_progress_done(&run->progress);
	return rc;
}

static int kafka_usage_error(const struct ling_err *err)
{
	ling_err_print("kg-load", err);
	return 2;
}

/* Parses one option c with argument arg into cli and run. @return 0, or the exit status after a usage error. */
static int parse_option(struct load_cli *cli, struct load_run *run, int c, const char *arg)
{
	struct ling_err err;

	ling_err_clear(&err);
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
	case 'k':
		if (ling_kafka_conf_put(cli->kafka, "bootstrap.servers", arg, &err))
			return kafka_usage_error(&err);
		cli->use_kafka = 1;
		break;
	case 'T': cli->topic = arg; cli->kafka_only = 1; break;
	case 'G':
		if (ling_kafka_conf_put(cli->kafka, "group.id", arg, &err))
			return kafka_usage_error(&err);
		cli->kafka_only = 1;
		break;
	case 'X':
		if (ling_kafka_conf_arg(cli->kafka, arg, &err))
			return kafka_usage_error(&err);
		cli->kafka_only = 1;
		break;
	case 'C':
		if (ling_kafka_conf_file(cli->kafka, arg, &err))
			return kafka_usage_error(&err);
		cli->kafka_only = 1;
		break;
	case 'I': cli->until_idle = 1; cli->kafka_only = 1; break;
	case 'M':
		if (ling_parse_long(arg, 1, 1LL << 40, &cli->max_message))
			return usage_error("--max-message needs a number of bytes > 0");
		cli->kafka_only = 1;
		break;
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

/* Usage errors of --kafka. @return 0, or the exit status after saying what is wrong. */
static int check_kafka_args(const struct load_cli *cli, int has_files)
{
	if (has_files)
		return usage_error("--kafka reads the topic: no FILE arguments");
	if (!cli->topic)
		return usage_error("--kafka needs --topic TOPIC");
	if (cli->flags & KG_LOADER_DELETE)
		return usage_error("--delete does not go with --kafka: each delta says + or -");
	if (cli->graph.type == KG_TERM_IRI && !kg_iri_is_absolute(cli->graph.value, cli->graph.len))
		return usage_error("--graph needs an absolute IRI, such as http://example.org/graph");
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
		{ "kafka", required_argument, NULL, 'k' },     { "topic", required_argument, NULL, 'T' },
		{ "group", required_argument, NULL, 'G' },     { "property", required_argument, NULL, 'X' },
		{ "kafka-config", required_argument, NULL, 'C' }, { "until-idle", no_argument, NULL, 'I' },
		{ "max-message", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },            { "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *stdin_only[] = { "-" };
	int c, rc;

	while ((c = getopt_long(argc, argv, "s:f:b:g:e:d:X:qhV", options, NULL)) != -1)
		if ((rc = parse_option(cli, run, c, optarg)) || cli->done)
			return rc;
	if (!cli->store_dir)
		return usage_error("--store DIR is required");
	if (cli->use_kafka)
		return check_kafka_args(cli, optind < argc);
	if (cli->kafka_only)
		return usage_error("--topic, --group, -X, --kafka-config, --until-idle and --max-message need --kafka");
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
	cli.kafka = ling_kafka_conf_new();
	cli.max_message = 1 << 20;
	ling_errors_init(&run.errors, "kg-load");
	if ((rc = parse_args(&cli, &run, argc, argv, closed)) || cli.done) {
		ling_kafka_conf_free(cli.kafka);
		return rc;
	}
	if (cli.use_kafka) {
		struct kafka_run k;

		memset(&k, 0, sizeof(k));
		rc = kg_store_open(&run.store, cli.store_dir, KG_STORE_CREATE, &err);
		if (!rc)
			rc = load_kafka(&cli, &run, &k, &err);
		if (rc && !run.errors.stopped)
			ling_err_print("kg-load", &err);
		kg_loader_free(run.loader);
		ling_kafka_consumer_free(k.consumer);
		free(k.next);
		kg_store_close(run.store);
		ling_kafka_conf_free(cli.kafka);
		if (!cli.quiet)
			fprintf(stderr,
				"kg-load: %s: messages %" PRIu64 ", batches %" PRIu64 ", read %" PRIu64 ", wrote %" PRIu64
				", deleted %" PRIu64 ", rejected %lld%s%s\n",
				cli.topic, k.messages, run.counts.batches, run.counts.quads_read,
				run.counts.quads_changed - run.counts.quads_deleted, run.counts.quads_deleted,
				run.errors.count, rc ? "; failed: " : "", rc ? err.msg : "");
		return rc ? ling_err_exit_code(&err) ? ling_err_exit_code(&err) : 1 : 0;
	}
	ling_kafka_conf_free(cli.kafka);
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
