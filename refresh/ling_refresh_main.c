/* ling-refresh: the nightly refresh of a dataset from a changing knowledge graph, for cron. */
#include "refresh.h"

#include "../common/ling_json.h"
#include "../common/ling_main.h"
#include "../common/ling_mem.h"
#include "../common/ling_num.h"
#include "../common/ling_stdio.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/banned.h"

static const char usage_text[] =
	"usage: ling-refresh [options] --store DIR --state DIR --data DIR --tokenizer FILE\n"
	"\n"
	"Refresh a dataset from the knowledge graph's new deltas, once, under a lock:\n"
	"pull the deltas from Kafka into the store (kg-load --kafka --until-idle), make\n"
	"samples around the entities they changed (kg2samples --changed-since), keep\n"
	"the new ones (dedup --state --out) and append them to the dataset (tokenize\n"
	"build --append). A run killed anywhere is finished by the next; a run with\n"
	"nothing new does nothing. One summary line on stderr.\n"
	"\n"
	"  -c, --config=FILE      options as KEY = VALUE lines (long option names, X for\n"
	"                         -X); the command line wins\n"
	"  -b, --brokers=LIST     Kafka bootstrap servers of the deltas (no pull without)\n"
	"  -T, --topic=NAME       the deltas' topic\n"
	"  -g, --group=ID         group.id the pull gives the brokers\n"
	"  -X KEY=VALUE           a librdkafka property for the pull; repeatable\n"
	"  -s, --store=DIR        the KG store\n"
	"      --state=DIR        the refresh's state: lock, mark, dedup state, segments\n"
	"  -d, --data=DIR         the dataset to append to\n"
	"  -t, --tokenizer=FILE   its tokenizer.json\n"
	"      --per-entity=N     samples per changed entity (default: 4)\n"
	"      --seed=N           seed of the first refresh; refresh n uses N+n-1 (default: 0)\n"
	"      --commit-every=N   dedup commits every N records (default: dedup's)\n"
	"      --max-errors=N     bad deltas the pull skips, reporting each (default: 0)\n"
	"      --wait             wait for a running refresh instead of failing\n"
	"      --bin=DIR          where the tools are (default: ling-refresh's directory)\n"
	"      --json             also the summary as one JSON line on stderr\n"
	"  -q, --quiet            no summary line\n"
	"  -h, --help             show this help\n"
	"  -V, --version          show the version\n"
	"\n"
	"Exit status: 0 ok (or nothing to do), 1 a stage failed (named in the summary),\n"
	"2 usage error.\n";

static int usage_error(const char *msg)
{
	return ling_usage_error("ling-refresh", "ling-refresh [options] --store DIR --state DIR --data DIR --tokenizer FILE",
				msg);
}

enum { OPT_STATE = 256, OPT_PER_ENTITY, OPT_SEED, OPT_COMMIT_EVERY, OPT_MAX_ERRORS, OPT_WAIT, OPT_BIN, OPT_JSON };

static const struct option options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "brokers", required_argument, NULL, 'b' },
	{ "topic", required_argument, NULL, 'T' },
	{ "group", required_argument, NULL, 'g' },
	{ "X", required_argument, NULL, 'X' },
	{ "store", required_argument, NULL, 's' },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "data", required_argument, NULL, 'd' },
	{ "tokenizer", required_argument, NULL, 't' },
	{ "per-entity", required_argument, NULL, OPT_PER_ENTITY },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "commit-every", required_argument, NULL, OPT_COMMIT_EVERY },
	{ "max-errors", required_argument, NULL, OPT_MAX_ERRORS },
	{ "wait", no_argument, NULL, OPT_WAIT },
	{ "bin", required_argument, NULL, OPT_BIN },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

struct cli {
	struct refresh_options o;
	const char **props;   /* -X, from the config file then the command line */
	size_t nprops;
	char **owned;         /* strings from the config file */
	size_t nowned;
	int quiet, json, info;
};

static int parse_u64(const char *arg, long long min, uint64_t *out)
{
	long long v;

	if (ling_parse_long(arg, min, INT64_MAX, &v))
		return -1;
	*out = (uint64_t)v;
	return 0;
}

/* One option, from the command line or the config file. @return 0, or 2 after saying what is wrong. */
static int apply_option(struct cli *cli, int c, const char *arg)
{
	struct refresh_options *o = &cli->o;

	switch (c) {
	case 'b': o->brokers = arg; return 0;
	case 'T': o->topic = arg; return 0;
	case 'g': o->group = arg; return 0;
	case 'X':
		if (!strchr(arg, '='))
			return usage_error("-X needs KEY=VALUE");
		cli->props = xrealloc(cli->props, (cli->nprops + 1) * sizeof(*cli->props));
		cli->props[cli->nprops++] = arg;
		return 0;
	case 's': o->store_dir = arg; return 0;
	case OPT_STATE: o->state_dir = arg; return 0;
	case 'd': o->data_dir = arg; return 0;
	case 't': o->tokenizer = arg; return 0;
	case OPT_PER_ENTITY:
		return parse_u64(arg, 1, &o->per_entity) ? usage_error("--per-entity needs a number >= 1") : 0;
	case OPT_SEED: return parse_u64(arg, 0, &o->seed) ? usage_error("--seed needs a number >= 0") : 0;
	case OPT_COMMIT_EVERY:
		return parse_u64(arg, 1, &o->commit_every) ? usage_error("--commit-every needs a number >= 1") : 0;
	case OPT_MAX_ERRORS: {
		uint64_t v;

		if (parse_u64(arg, 0, &v))
			return usage_error("--max-errors needs a number >= 0");
		o->max_errors = arg;
		return 0;
	}
	case OPT_WAIT: o->wait = 1; return 0;
	case OPT_BIN: o->bin_dir = arg; return 0;
	case OPT_JSON: cli->json = 1; return 0;
	case 'q': cli->quiet = 1; return 0;
	case 'h': case 'V': cli->info = c; return 0;
	default: return usage_error(NULL); /* getopt said what is wrong */
	}
}

static char *trim(char *s)
{
	char *e = s + strlen(s);

	while (*s == ' ' || *s == '\t')
		s++;
	while (e > s && strchr(" \t\r\n", e[-1]))
		*--e = '\0';
	return s;
}

/* --config FILE: KEY = VALUE lines, # comments. @return 0, or 2 (usage) or 1 after saying what is wrong. */
static int read_config(struct cli *cli, const char *path)
{
	char line[4096], *key, *value, *eq, msg[512];
	FILE *f = fopen(path, "r");
	long lineno = 0;
	int rc = 0, i;

	if (!f) {
		fprintf(stderr, "ling-refresh: %s: cannot open: %s\n", path, strerror(errno));
		return 1;
	}
	while (!rc && fgets(line, sizeof(line), f)) {
		lineno++;
		key = trim(line);
		if (!*key || *key == '#')
			continue;
		if (!(eq = strchr(key, '='))) {
			snprintf(msg, sizeof(msg), "%s:%ld: not KEY = VALUE", path, lineno);
			rc = usage_error(msg);
			break;
		}
		*eq = '\0';
		key = trim(key);
		value = trim(eq + 1);
		for (i = 0; options[i].name && strcmp(options[i].name, key); i++)
			;
		if (!options[i].name || options[i].val == 'c' || options[i].val == 'h' || options[i].val == 'V') {
			snprintf(msg, sizeof(msg), "%s:%ld: unknown key '%s'", path, lineno, key);
			rc = usage_error(msg);
			break;
		}
		if (options[i].has_arg == no_argument && strcmp(value, "true")) {
			snprintf(msg, sizeof(msg), "%s:%ld: %s takes no value but true", path, lineno, key);
			rc = usage_error(msg);
			break;
		}
		cli->owned = xrealloc(cli->owned, (cli->nowned + 1) * sizeof(*cli->owned));
		cli->owned[cli->nowned] = xstrdup(value);
		rc = apply_option(cli, options[i].val, cli->owned[cli->nowned++]);
	}
	fclose(f);
	return rc;
}

/* The directory this program is in, where the other tools are. */
static char *own_dir(void)
{
	char buf[4096], *slash;
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n <= 0)
		return xstrdup(".");
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	*slash = '\0';
	return xstrdup(slash == buf ? "/" : buf);
}

/* The config file first, then the command line over it. @return 0, or the exit status after saying what is wrong. */
static int parse_args(struct cli *cli, int argc, char **argv)
{
	const char *short_opts = "c:b:T:g:X:s:d:t:qhV";
	int c, rc;

	opterr = 0; /* the second pass reports */
	while ((c = getopt_long(argc, argv, short_opts, options, NULL)) != -1)
		if (c == 'c' && (rc = read_config(cli, optarg)))
			return rc;
	opterr = 1;
	optind = 0;
	while ((c = getopt_long(argc, argv, short_opts, options, NULL)) != -1)
		if (c != 'c' && ((rc = apply_option(cli, c, optarg)) || cli->info))
			return rc;
	if (optind < argc)
		return usage_error("unexpected argument");
	if (!cli->o.store_dir || !cli->o.state_dir || !cli->o.data_dir || !cli->o.tokenizer)
		return usage_error("--store, --state, --data and --tokenizer are required");
	if (!cli->o.brokers != !cli->o.topic)
		return usage_error(cli->o.brokers ? "--brokers needs --topic" : "--topic needs --brokers");
	cli->o.kafka_props = cli->props;
	cli->o.nkafka_props = cli->nprops;
	return 0;
}

/* What the run found and did, as far as it got. */
static void add_counts(struct ling_buf *b, const struct refresh_report *r)
{
	if (r->ran[REFRESH_PULL] && r->failed_stage != REFRESH_PULL)
		ling_buf_addf(b, "pulled %" PRIu64 " batch%s, ", r->batches, r->batches == 1 ? "" : "es");
	if (!r->marks_known) {
		ling_buf_adds(b, "nothing done");
		return;
	}
	ling_buf_addf(b, "mark %" PRIu64 " -> %" PRIu64, r->mark_last, r->mark_now);
	if (r->up_to_date)
		return;
	if (r->ran[REFRESH_SAMPLES])
		ling_buf_addf(b, ", %" PRIu64 " entities changed", r->entities);
	if (r->ran[REFRESH_SAMPLES] && r->failed_stage != REFRESH_SAMPLES)
		ling_buf_addf(b, ", %" PRIu64 " samples", r->samples);
	if (r->ran[REFRESH_DEDUP] && r->failed_stage != REFRESH_DEDUP)
		ling_buf_addf(b, ", %" PRIu64 " new after dedup", r->unique);
	if (r->ran[REFRESH_TOKENIZE] && r->failed_stage != REFRESH_TOKENIZE)
		ling_buf_addf(b, ", added %" PRIu64 " documents (%" PRIu64 " tokens)", r->documents_added,
			      r->tokens_added);
}

/* One line: what happened, the counts, the dataset, the time per stage. */
static void print_summary(const struct refresh_report *r)
{
	struct ling_buf b = LING_BUF_INIT;
	int i, n = 0;

	ling_buf_adds(&b, "ling-refresh: ");
	if (r->failed_stage >= 0)
		ling_buf_addf(&b, "failed in stage %s (rerun to finish): ",
			      refresh_stage_name(r->failed_stage));
	else if (r->up_to_date)
		ling_buf_adds(&b, "up to date, nothing to do: ");
	else
		ling_buf_addf(&b, "refresh %" PRIu64 " done%s: ", r->refreshes,
			      r->resumed ? " (finished an interrupted run)" : "");
	add_counts(&b, r);
	if (r->failed_stage < 0)
		ling_buf_addf(&b, "; dataset %" PRIu64 " documents, %" PRIu64 " tokens", r->documents, r->tokens);
	for (i = 0; i < REFRESH_NSTAGES; i++)
		if (r->ran[i] && i != REFRESH_LOCK)
			ling_buf_addf(&b, "%s%s %.2f s", n++ ? ", " : "; ", refresh_stage_name(i), r->secs[i]);
	fprintf(stderr, "%.*s\n", (int)b.len, b.data);
	ling_buf_release(&b);
}

static void json_u64(struct ling_json *w, const char *key, uint64_t v)
{
	ling_json_keyz(w, key);
	ling_json_uint(w, v);
}

static void print_json(const struct refresh_report *r)
{
	struct ling_buf b = LING_BUF_INIT;
	struct ling_json w;
	int i;

	ling_json_init(&w, &b, 0);
	ling_json_object_begin(&w);
	ling_json_keyz(&w, "status");
	ling_json_strz(&w, r->failed_stage >= 0 ? "failed" : r->up_to_date ? "up_to_date" : "refreshed");
	ling_json_keyz(&w, "failed_stage");
	ling_json_strz(&w, r->failed_stage >= 0 ? refresh_stage_name(r->failed_stage) : NULL);
	ling_json_keyz(&w, "resumed");
	ling_json_bool(&w, r->resumed);
	json_u64(&w, "refreshes", r->refreshes);
	json_u64(&w, "batches", r->batches);
	json_u64(&w, "mark_last", r->mark_last);
	json_u64(&w, "mark", r->mark_now);
	json_u64(&w, "entities", r->entities);
	json_u64(&w, "samples", r->samples);
	json_u64(&w, "unique", r->unique);
	json_u64(&w, "documents_added", r->documents_added);
	json_u64(&w, "tokens_added", r->tokens_added);
	json_u64(&w, "documents", r->documents);
	json_u64(&w, "tokens", r->tokens);
	ling_json_keyz(&w, "seconds");
	ling_json_object_begin(&w);
	for (i = 0; i < REFRESH_NSTAGES; i++)
		if (r->ran[i]) {
			ling_json_keyz(&w, refresh_stage_name(i));
			ling_json_real(&w, (double)(int64_t)(r->secs[i] * 1000 + 0.5) / 1000, LING_JSON_REAL_PYTHON);
		}
	ling_json_object_end(&w);
	ling_json_object_end(&w);
	ling_json_release(&w);
	fprintf(stderr, "%.*s\n", (int)b.len, b.data);
	ling_buf_release(&b);
}

int main(int argc, char **argv)
{
	struct cli cli;
	struct refresh_report rep;
	struct ling_err err;
	char *bin = NULL;
	int rc, closed = ling_stdio_init();
	size_t i;

	memset(&cli, 0, sizeof(cli));
	refresh_options_init(&cli.o);
	ling_err_clear(&err);
	if ((rc = parse_args(&cli, argc, argv)))
		goto out;
	if (cli.info) {
		if (ling_stdio_require(closed, LING_STDOUT_CLOSED, &err)) {
			ling_err_print("ling-refresh", &err);
			rc = 2;
		} else {
			rc = cli.info == 'h' ? ling_print_help("ling-refresh", usage_text)
					     : ling_print_version_checked("ling-refresh");
		}
		goto out;
	}
	if (!cli.o.bin_dir)
		cli.o.bin_dir = bin = own_dir();
	rc = refresh_run(&cli.o, &rep, &err);
	if (rc) {
		char who[64];

		snprintf(who, sizeof(who), "ling-refresh: stage %s", refresh_stage_name(rep.failed_stage));
		ling_err_print(rep.failed_stage >= 0 ? who : "ling-refresh", &err);
	}
	if (!cli.quiet)
		print_summary(&rep);
	if (cli.json)
		print_json(&rep);
	rc = rc ? ling_err_exit_code(&err) : 0;
out:
	for (i = 0; i < cli.nowned; i++)
		free(cli.owned[i]);
	free(cli.owned);
	free(cli.props);
	free(bin);
	return rc;
}
