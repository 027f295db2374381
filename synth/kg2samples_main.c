/* kg2samples: verified tool-use and instruction samples from a KG store. */
#include "synth.h"

#include "../common/ling_cli.h"
#include "../common/ling_file.h"
#include "../common/ling_input.h"
#include "../common/ling_json.h"
#include "../common/ling_kafka.h"
#include "../common/ling_main.h"
#include "../common/ling_mem.h"
#include "../common/ling_num.h"
#include "../common/ling_stdio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/banned.h"

static const char usage_text[] =
	"usage: kg2samples [options] --store DIR\n"
	"\n"
	"Write verified tool-use and instruction samples made from the knowledge graph\n"
	"in DIR as JSON Lines on stdout (doc/kg2samples-format.md). Every answer is\n"
	"computed by executing the sample's tool calls on the graph and checked before\n"
	"the sample is written; the same store and seed give the same bytes.\n"
	"\n"
	"  -s, --store=DIR        the KG store (required)\n"
	"  -n, --count=N          samples in the whole run (default: 1000)\n"
	"      --seed=N           random seed (default: 0)\n"
	"      --shard=I/N        make only part I of N (0 <= I < N) of the run's samples\n"
	"  -p, --patterns=LIST    only these categories or groups, comma-separated\n"
	"                         (1p 2p 3p 2i 3i ip pi 2u up 2in 3in inp pin pni parallel\n"
	"                         multiple irrelevance multi_turn fact list count compare\n"
	"                         describe; groups: patterns tool_use instruction all)\n"
	"  -m, --mix=SPEC         weights, NAME=WEIGHT,... for categories or groups\n"
	"                         (default: 1 per tool-use category, 0.4 per instruction one)\n"
	"  -l, --lang=TAG         language of names and wording (default: en)\n"
	"  -t, --templates=FILE   user templates (doc/kg2samples-templates.md); repeatable\n"
	"  -f, --format=F         openai (default), hermes (<tool_call> text) or bfcl\n"
	"      --bfcl-answers=FILE  with --format bfcl: questions on stdout, ground truth to FILE\n"
	"      --bfcl-dir=DIR     with --format bfcl: BFCL v4 files in DIR (BFCL_v4_CATEGORY.json\n"
	"                         and possible_answer/), nothing on stdout\n"
	"      --max-tools=N      tools offered to a multiple sample, the most any gets (default: 16)\n"
	"      --max-answers=N    most answers of a question (default: 20)\n"
	"      --min-facts=N      facts a relation needs to get tools (default: 10)\n"
	"  -j, --threads=N        worker threads (default: 1); the output does not change\n"
	"      --entities=FILE    only samples anchored at these entities (IRIs or names,\n"
	"                         one per line)\n"
	"      --changed-since=MARK  only samples anchored at the entities the store's\n"
	"                         batches changed after change mark MARK (see kg-load(1))\n"
	"      --per-entity=N     with --entities or --changed-since: N samples per entity\n"
	"                         found, instead of --count\n"
	"      --allow-short      fewer samples than asked (indexes given up) is not an error\n"
	"      --stats            print the store snapshot and the rate at the end\n"
	"      --out-kafka=BROKERS/TOPIC  write the samples to a Kafka topic, one a message\n"
	"                         (idempotent producer; all acknowledged before the summary)\n"
	"  -X, --property=KEY=VALUE  a librdkafka property for --out-kafka\n"
	"      --json             the summary as one JSON object on stderr\n"
	"  -q, --quiet            no summary line\n"
	"  -h, --help             show this help\n"
	"  -V, --version          show the version\n"
	"\n"
	"The summary on stderr reads: wrote N (per category), rejected N (per reason),\n"
	"and \"wrote N of M asked\" when indexes were given up; a focused run adds the\n"
	"entities named and found, and with --changed-since the mark used and the store's.\n"
	"Exit status: 0 ok, 1 store or data error, a failed write, or fewer samples than\n"
	"asked (without --allow-short), 2 usage error.\n";

static char stdout_buf[1 << 20];

/* BFCL v4's single-turn categories, as synth_render names them in the ids. */
static const char *const bfcl_categories[] = { "simple_python", "multiple", "parallel", "parallel_multiple",
					       "irrelevance" };
#define NBFCL (sizeof(bfcl_categories) / sizeof(bfcl_categories[0]))

struct main_ctx {
	struct ling_kafka_producer *producer; /* --out-kafka */
	struct ling_progress progress;
	struct ling_buf answers;
	int bfcl;
	const char *bfcl_dir;                 /* --bfcl-dir: the lines are kept per category, nothing on stdout */
	struct ling_buf questions_of[NBFCL], answers_of[NBFCL];
	uint64_t nbfcl[NBFCL];
};

/* The category of a BFCL line, from its id {"id":"CATEGORY_INDEX",...}. */
static size_t bfcl_category_of(const char *line, size_t len)
{
	size_t k, n;

	for (k = 0; k < NBFCL; k++) {
		n = strlen(bfcl_categories[k]);
		if (len > 8 + n && !memcmp(line, "{\"id\":\"", 7) && !memcmp(line + 7, bfcl_categories[k], n) &&
		    line[7 + n] == '_' && line[8 + n] >= '0' && line[8 + n] <= '9')
			return k;
	}
	abort(); /* synth_render writes only these */
}

static int keep_bfcl(struct main_ctx *m, const char *line, size_t len, const char *aux, size_t auxlen)
{
	size_t k = bfcl_category_of(line, len);

	ling_buf_add(&m->questions_of[k], line, len);
	ling_buf_addc(&m->questions_of[k], '\n');
	ling_buf_add(&m->answers_of[k], aux, auxlen);
	ling_buf_addc(&m->answers_of[k], '\n');
	m->nbfcl[k]++;
	return 0;
}

static int on_emit(void *ctx, const char *line, size_t len, const char *aux, size_t auxlen, struct ling_err *err)
{
	struct main_ctx *m = ctx;
	int rc;

	if (m->bfcl_dir)
		return keep_bfcl(m, line, len, aux, auxlen);
	if (m->producer)
		rc = ling_kafka_produce(m->producer, LING_KAFKA_ANY_PARTITION, NULL, 0, line, len, err);
	else if (!(rc = ling_stdout_write(line, len, err)))
		rc = ling_stdout_write("\n", 1, err);
	if (rc)
		return rc;
	if (m->bfcl && aux) {
		ling_buf_add(&m->answers, aux, auxlen);
		ling_buf_addc(&m->answers, '\n');
	}
	return 0;
}

static void on_progress(void *ctx, uint64_t done, uint64_t total, const struct synth_counts *c)
{
	struct main_ctx *m = ctx;

	ling_progress_update(&m->progress, "kg2samples: %" PRIu64 "/%" PRIu64 " (%.0f%%), rejected %" PRIu64, done,
			     total, total ? 100.0 * (double)done / (double)total : 100.0, c->rejected);
}

static int usage_error(const char *msg)
{
	return ling_usage_error("kg2samples", "kg2samples [options] --store DIR", msg);
}

static void print_reasons(const struct synth_counts *c)
{
	int i, n = 0;

	fprintf(stderr, ", rejected %" PRIu64, c->rejected);
	if (!c->rejected)
		return;
	fprintf(stderr, " (");
	for (i = 0; i < SYNTH_NREJECT; i++)
		if (c->per_reason[i])
			fprintf(stderr, "%s%s %" PRIu64, n++ ? ", " : "", synth_reject_name(i), c->per_reason[i]);
	fprintf(stderr, ")");
}

/* After an error that stopped the run or lost output: what was made, never "wrote". */
static void print_failure(const struct synth_counts *c)
{
	fprintf(stderr, "kg2samples: failed: the output is incomplete (made %" PRIu64 " of %" PRIu64 " asked)",
		c->written, c->asked);
	print_reasons(c);
	fprintf(stderr, "\n");
}

/* A focused run: the entities named and found, and with --changed-since the marks. */
static void print_focus(const struct synth_options *o, const struct synth_info *in)
{
	if (!o->focus_given && !o->changed_given)
		return;
	fprintf(stderr, ", anchored at %" PRIu64 " of %" PRIu64 " entities", in->focus_found, in->focus_named);
	if (o->changed_given)
		fprintf(stderr, " changed since mark %" PRIu64 " (store mark %" PRIu64 ")", o->changed_since, in->mark);
}

static void print_summary(const struct synth_options *o, const struct synth *s)
{
	const struct synth_counts *c = synth_counts(s);
	int i, n = 0;

	fprintf(stderr, "kg2samples: wrote %" PRIu64, c->written);
	if (c->written < c->asked)
		fprintf(stderr, " of %" PRIu64 " asked", c->asked);
	for (i = 0; i < SYNTH_NCAT; i++)
		if (c->per_cat[i])
			fprintf(stderr, "%s%s %" PRIu64, n++ ? ", " : " (", synth_category_name(i), c->per_cat[i]);
	if (n)
		fprintf(stderr, ")");
	print_reasons(c);
	if (c->given_up)
		fprintf(stderr, ", gave up %" PRIu64, c->given_up);
	print_focus(o, synth_info(s));
	fprintf(stderr, "\n");
}

/* --json: the summary as one object on stderr ("ok" false after a failure, whose counts were not all written). */
static void print_json(const struct synth_options *o, const struct synth *s, int failed)
{
	const struct synth_counts *c = synth_counts(s);
	const struct synth_info *in = synth_info(s);
	struct ling_buf b = LING_BUF_INIT;
	struct ling_json w;
	int i;

	ling_json_init(&w, &b, 0);
	ling_json_object_begin(&w);
	ling_json_keyz(&w, "ok");
	ling_json_bool(&w, !failed);
	ling_json_keyz(&w, failed ? "made" : "wrote");
	ling_json_uint(&w, c->written);
	ling_json_keyz(&w, "asked");
	ling_json_uint(&w, c->asked);
	ling_json_keyz(&w, "rejected");
	ling_json_uint(&w, c->rejected);
	ling_json_keyz(&w, "given_up");
	ling_json_uint(&w, c->given_up);
	ling_json_keyz(&w, "per_category");
	ling_json_object_begin(&w);
	for (i = 0; i < SYNTH_NCAT; i++)
		if (c->per_cat[i]) {
			ling_json_keyz(&w, synth_category_name(i));
			ling_json_uint(&w, c->per_cat[i]);
		}
	ling_json_object_end(&w);
	if (o->focus_given || o->changed_given) {
		ling_json_keyz(&w, "entities_named");
		ling_json_uint(&w, in->focus_named);
		ling_json_keyz(&w, "entities_found");
		ling_json_uint(&w, in->focus_found);
	}
	if (o->changed_given) {
		ling_json_keyz(&w, "changed_since");
		ling_json_uint(&w, o->changed_since);
		ling_json_keyz(&w, "mark");
		ling_json_uint(&w, in->mark);
	}
	ling_json_object_end(&w);
	ling_json_release(&w);
	fprintf(stderr, "%.*s\n", (int)b.len, b.data);
	ling_buf_release(&b);
}

/* A run that wrote fewer samples than its share of --count failed, unless --allow-short. */
static int check_complete(const struct synth_counts *c, struct ling_err *err)
{
	if (c->written >= c->asked)
		return 0;
	return ling_err_set(err, LING_EDATA,
			    "%" PRIu64 " of %" PRIu64 " samples given up after %d attempts each (the reasons are "
			    "counted as rejected; --allow-short accepts a short run)",
			    c->asked - c->written, c->asked, SYNTH_MAX_ATTEMPTS);
}

/* @return 1 when dir holds (directly) the file st describes. */
static int dir_holds(const char *dir, const struct stat *st)
{
	struct ling_buf path = LING_BUF_INIT;
	struct dirent *de;
	struct stat sb;
	DIR *d = opendir(dir);
	int found = 0;

	if (!d)
		return 0;
	while (!found && (de = readdir(d))) {
		ling_buf_reset(&path);
		ling_buf_addf(&path, "%s/%s", dir, de->d_name);
		found = !stat(path.data, &sb) && S_ISREG(sb.st_mode) && sb.st_dev == st->st_dev &&
			sb.st_ino == st->st_ino;
	}
	closedir(d);
	ling_buf_release(&path);
	return found;
}

/* @return 1 when path (which need not exist) would be a file of the store: it is one, or its directory is the store. */
static int in_store(const char *store, const char *path)
{
	struct ling_buf parent = LING_BUF_INIT;
	const char *slash = strrchr(path, '/');
	struct stat sb;
	int in;

	if (!stat(path, &sb) && dir_holds(store, &sb))
		return 1;
	if (!slash)
		ling_buf_add(&parent, ".", 1);
	else
		ling_buf_add(&parent, path, slash == path ? 1 : (size_t)(slash - path));
	in = ling_same_file(parent.data, store);
	ling_buf_release(&parent);
	return in;
}

/* The answers file is renamed into place at the end: make sure now that it can be created there. */
static int probe_answers(const char *path, struct ling_err *err)
{
	struct ling_buf tmp = LING_BUF_INIT;
	int fd;

	ling_buf_addf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		ling_err_at(err, LING_EIO, path, 0, 0, "cannot create %s: %s", tmp.data, strerror(errno));
	else {
		close(fd);
		unlink(tmp.data);
	}
	ling_buf_release(&tmp);
	return fd < 0 ? err->code : 0;
}

/*
 * Refuses outputs that name an input, before anything is opened for writing:
 * standard output or --bfcl-answers on the store or a template file, and
 * --bfcl-answers on standard output (the answers would replace the samples).
 * @return 0, LING_EUSAGE, or LING_EIO when the answers file cannot be created.
 */
static int check_outputs(const struct synth_options *o, const char *bfcl, struct ling_err *err)
{
	struct stat out, sb;
	size_t i;

	/* a device (/dev/null) may be read and written at once: only regular files can be overwritten */
	if (!fstat(STDOUT_FILENO, &out) && S_ISREG(out.st_mode)) {
		if (dir_holds(o->store_dir, &out))
			return ling_err_set(err, LING_EUSAGE, "standard output is a file in the store %s",
					    o->store_dir);
		for (i = 0; i < o->ntemplates; i++)
			if (ling_fd_is_file(STDOUT_FILENO, o->templates[i]))
				return ling_err_set(err, LING_EUSAGE, "standard output is the template file %s",
						    o->templates[i]);
	}
	if (!bfcl)
		return 0;
	if (!stat(bfcl, &sb)) {
		if (ling_same_file(bfcl, o->store_dir))
			return ling_err_set(err, LING_EUSAGE, "--bfcl-answers %s is the store", bfcl);
		if (S_ISDIR(sb.st_mode))
			return ling_err_set(err, LING_EUSAGE, "--bfcl-answers %s is a directory", bfcl);
		/* it is replaced by a rename: a device or a FIFO would be replaced, not written */
		if (!S_ISREG(sb.st_mode))
			return ling_err_set(err, LING_EUSAGE, "--bfcl-answers %s is not a regular file", bfcl);
		if (ling_fd_is_file(STDOUT_FILENO, bfcl))
			return ling_err_set(err, LING_EUSAGE, "--bfcl-answers %s is standard output", bfcl);
		for (i = 0; i < o->ntemplates; i++)
			if (ling_same_file(bfcl, o->templates[i]))
				return ling_err_set(err, LING_EUSAGE, "--bfcl-answers %s is the template file %s",
						    bfcl, o->templates[i]);
	}
	if (in_store(o->store_dir, bfcl))
		return ling_err_set(err, LING_EUSAGE, "--bfcl-answers %s is in the store %s", bfcl, o->store_dir);
	return probe_answers(bfcl, err);
}

/*
 * --bfcl-dir: not the store nor in it, a directory; made now (with
 * possible_answer/) so that a path that cannot be made fails before the run.
 * @return 0, LING_EUSAGE, or LING_EIO.
 */
static int check_bfcl_dir(const struct synth_options *o, const char *dir, struct ling_err *err)
{
	struct ling_buf sub = LING_BUF_INIT;
	struct stat sb;
	int rc = 0;

	if (!stat(dir, &sb) && !S_ISDIR(sb.st_mode))
		return ling_err_set(err, LING_EUSAGE, "--bfcl-dir %s is not a directory", dir);
	if (ling_same_file(dir, o->store_dir))
		return ling_err_set(err, LING_EUSAGE, "--bfcl-dir %s is the store", dir);
	if (in_store(o->store_dir, dir))
		return ling_err_set(err, LING_EUSAGE, "--bfcl-dir %s is in the store %s", dir, o->store_dir);
	ling_buf_addf(&sub, "%s/possible_answer", dir);
	if ((mkdir(dir, 0777) && errno != EEXIST) || (mkdir(sub.data, 0777) && errno != EEXIST))
		rc = ling_err_at(err, LING_EIO, dir, 0, 0, "cannot make %s: %s", sub.data, strerror(errno));
	ling_buf_release(&sub);
	return rc;
}

/*
 * Writes the BFCL v4 files of --bfcl-dir, each atomically: DIR/BFCL_v4_CAT.json
 * with the questions and DIR/possible_answer/BFCL_v4_CAT.json with the ground
 * truth (BFCL has none for irrelevance). A category the run did not make has
 * its files removed, so the directory never mixes two runs.
 */
static int write_bfcl_dir(const struct main_ctx *m, struct ling_err *err)
{
	struct ling_buf q = LING_BUF_INIT, a = LING_BUF_INIT;
	size_t k;
	int rc = 0;

	for (k = 0; k < NBFCL && !rc; k++) {
		int answers = strcmp(bfcl_categories[k], "irrelevance") != 0;

		ling_buf_reset(&q);
		ling_buf_reset(&a);
		ling_buf_addf(&q, "%s/BFCL_v4_%s.json", m->bfcl_dir, bfcl_categories[k]);
		ling_buf_addf(&a, "%s/possible_answer/BFCL_v4_%s.json", m->bfcl_dir, bfcl_categories[k]);
		if (!m->nbfcl[k]) {
			unlink(q.data);
			unlink(a.data);
			continue;
		}
		rc = ling_atomic_write(q.data, m->questions_of[k].data, m->questions_of[k].len, err);
		if (!rc && answers)
			rc = ling_atomic_write(a.data, m->answers_of[k].data, m->answers_of[k].len, err);
	}
	ling_buf_release(&q);
	ling_buf_release(&a);
	return rc;
}

/* --help and --version: text on stdout, which must be open, checked to the end. @return the exit status. */
static int print_info(int closed, const char *text)
{
	struct ling_err err;

	ling_err_clear(&err);
	if (ling_stdio_require(closed, LING_STDOUT_CLOSED, &err)) {
		ling_err_print("kg2samples", &err);
		return 2;
	}
	return text ? ling_print_help("kg2samples", text) : ling_print_version_checked("kg2samples");
}

static int parse_u64(const char *arg, long long min, long long max, uint64_t *out)
{
	long long v;

	if (ling_parse_long(arg, min, max, &v))
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static int parse_shard(const char *arg, struct synth_options *o)
{
	const char *slash = strchr(arg, '/');
	char num[32];
	size_t n;

	if (!slash || (n = (size_t)(slash - arg)) >= sizeof(num))
		return -1;
	memcpy(num, arg, n);
	num[n] = '\0';
	if (parse_u64(num, 0, 1LL << 40, &o->shard) || parse_u64(slash + 1, 1, 1LL << 40, &o->nshards))
		return -1;
	return o->shard < o->nshards ? 0 : -1;
}

/* What the command line asks for. */
struct cli {
	struct synth_options o;
	const char **templates; /* owned array; the strings are argv's */
	size_t ntemplates;
	const char *patterns, *bfcl_path, *bfcl_dir;
	const char *mixes[64];
	size_t nmixes;
	const char *entities_path;
	const char *out_kafka;         /* BROKERS/TOPIC */
	const char **props;            /* -X KEY=VALUE, owned array */
	size_t nprops;
	struct ling_buf entities;      /* --entities FILE's lines, NUL-terminated */
	const char **focus;            /* into entities */
	int quiet, stats, allow_short, json;
	int info; /* 'h' or 'V': print the help or the version, nothing else */
};

enum {
	OPT_SEED = 256, OPT_SHARD, OPT_BFCL, OPT_BFCL_DIR, OPT_MAX_TOOLS, OPT_MAX_ANSWERS, OPT_MIN_FACTS, OPT_STATS,
	OPT_ALLOW_SHORT, OPT_ENTITIES, OPT_CHANGED_SINCE, OPT_PER_ENTITY, OPT_JSON, OPT_OUT_KAFKA,
};

static const struct option options[] = {
	{ "store", required_argument, NULL, 's' },
	{ "count", required_argument, NULL, 'n' },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "shard", required_argument, NULL, OPT_SHARD },
	{ "patterns", required_argument, NULL, 'p' },
	{ "mix", required_argument, NULL, 'm' },
	{ "lang", required_argument, NULL, 'l' },
	{ "templates", required_argument, NULL, 't' },
	{ "format", required_argument, NULL, 'f' },
	{ "bfcl-answers", required_argument, NULL, OPT_BFCL },
	{ "bfcl-dir", required_argument, NULL, OPT_BFCL_DIR },
	{ "max-tools", required_argument, NULL, OPT_MAX_TOOLS },
	{ "max-answers", required_argument, NULL, OPT_MAX_ANSWERS },
	{ "min-facts", required_argument, NULL, OPT_MIN_FACTS },
	{ "threads", required_argument, NULL, 'j' },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "allow-short", no_argument, NULL, OPT_ALLOW_SHORT },
	{ "entities", required_argument, NULL, OPT_ENTITIES },
	{ "changed-since", required_argument, NULL, OPT_CHANGED_SINCE },
	{ "per-entity", required_argument, NULL, OPT_PER_ENTITY },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "out-kafka", required_argument, NULL, OPT_OUT_KAFKA },
	{ "property", required_argument, NULL, 'X' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* The options that take a number. @return 0, or 2 after saying what is wrong. */
static int parse_number_option(struct cli *cli, int c, const char *arg)
{
	struct synth_options *o = &cli->o;
	uint64_t v;

	switch (c) {
	case 'n':
		return parse_u64(arg, 0, 1LL << 50, &o->count) ? usage_error("--count needs a number >= 0") : 0;
	case OPT_SEED:
		return parse_u64(arg, 0, INT64_MAX, &o->seed) ? usage_error("--seed needs a number >= 0") : 0;
	case OPT_SHARD:
		return parse_shard(arg, o) ? usage_error("--shard needs I/N with 0 <= I < N") : 0;
	case OPT_MAX_TOOLS:
		if (parse_u64(arg, 1, 1024, &v))
			return usage_error("--max-tools needs a number between 1 and 1024");
		o->max_tools = (unsigned)v;
		return 0;
	case OPT_MAX_ANSWERS:
		if (parse_u64(arg, 1, 1000, &v))
			return usage_error("--max-answers needs a number between 1 and 1000");
		o->max_answers = (unsigned)v;
		return 0;
	case OPT_MIN_FACTS:
		return parse_u64(arg, 1, 1LL << 40, &o->min_facts) ? usage_error("--min-facts needs a number >= 1") : 0;
	case OPT_CHANGED_SINCE:
		o->changed_given = 1;
		return parse_u64(arg, 0, INT64_MAX, &o->changed_since) ? usage_error("--changed-since needs a mark >= 0")
									: 0;
	case OPT_PER_ENTITY:
		return parse_u64(arg, 1, 1LL << 30, &o->per_entity) ? usage_error("--per-entity needs a number >= 1") : 0;
	case 'j':
		if (parse_u64(arg, 1, 256, &v))
			return usage_error("--threads needs a number between 1 and 256");
		o->threads = (int)v;
		return 0;
	default:
		return usage_error(NULL); /* getopt said what is wrong */
	}
}

/* One option from getopt. @return 0, or 2 after saying what is wrong. */
static int parse_option(struct cli *cli, int c, const char *arg)
{
	struct synth_options *o = &cli->o;

	switch (c) {
	case 's': o->store_dir = arg; return 0;
	case 'p': cli->patterns = arg; return 0;
	case 'm':
		if (cli->nmixes == sizeof(cli->mixes) / sizeof(cli->mixes[0]))
			return usage_error("too many --mix options");
		cli->mixes[cli->nmixes++] = arg;
		return 0;
	case 'l':
		o->lang = arg;
		return *arg ? 0 : usage_error("--lang needs a language tag");
	case 't':
		cli->templates = xrealloc(cli->templates, (cli->ntemplates + 1) * sizeof(*cli->templates));
		cli->templates[cli->ntemplates++] = arg;
		return 0;
	case 'f':
		if (!strcmp(arg, "openai"))
			o->format = SYNTH_FORMAT_OPENAI;
		else if (!strcmp(arg, "hermes"))
			o->format = SYNTH_FORMAT_HERMES;
		else if (!strcmp(arg, "bfcl"))
			o->format = SYNTH_FORMAT_BFCL;
		else
			return usage_error("--format is openai, hermes or bfcl");
		return 0;
	case OPT_BFCL: cli->bfcl_path = arg; return 0;
	case OPT_BFCL_DIR: cli->bfcl_dir = arg; return 0;
	case OPT_STATS: cli->stats = 1; return 0;
	case OPT_ALLOW_SHORT: cli->allow_short = 1; return 0;
	case OPT_ENTITIES: cli->entities_path = arg; return 0;
	case OPT_JSON: cli->json = 1; return 0;
	case OPT_OUT_KAFKA:
		cli->out_kafka = arg;
		return strchr(arg, '/') ? 0 : usage_error("--out-kafka takes BROKERS/TOPIC");
	case 'X': { /* checked now, given to the producer later */
		struct ling_err err;

		if (ling_kafka_conf_check_arg(arg, &err))
			return usage_error(err.msg);
		cli->props = xrealloc(cli->props, (cli->nprops + 1) * sizeof(*cli->props));
		cli->props[cli->nprops++] = arg;
		return 0;
	}
	case 'q': cli->quiet = 1; return 0;
	case 'h': case 'V': cli->info = c; return 0;
	default: return parse_number_option(cli, c, arg);
	}
}

/*
 * Parses the command line into cli, up to the first error or --help/--version
 * (cli->info), and applies --patterns and --mix to the options.
 * @return 0, or 2 after saying what is wrong.
 */
static int parse_args(struct cli *cli, int argc, char **argv)
{
	struct ling_err err;
	size_t i;
	int c, rc;

	ling_err_clear(&err);
	while ((c = getopt_long(argc, argv, "s:n:p:m:l:t:f:j:X:qhV", options, NULL)) != -1)
		if ((rc = parse_option(cli, c, optarg)) || cli->info)
			return rc;
	if (!cli->o.store_dir || optind < argc)
		return usage_error(cli->o.store_dir ? "unexpected argument" : "--store DIR is required");
	if (cli->bfcl_path && cli->bfcl_dir)
		return usage_error("--bfcl-answers and --bfcl-dir exclude each other");
	if ((cli->o.format == SYNTH_FORMAT_BFCL) != (cli->bfcl_path || cli->bfcl_dir))
		return usage_error(cli->bfcl_path  ? "--bfcl-answers goes with --format bfcl"
				   : cli->bfcl_dir ? "--bfcl-dir goes with --format bfcl"
						   : "--format bfcl needs --bfcl-answers FILE or --bfcl-dir DIR");
	if (cli->patterns && synth_patterns_parse(&cli->o, cli->patterns, &err))
		return usage_error(err.msg);
	for (i = 0; i < cli->nmixes; i++)
		if (synth_mix_parse(&cli->o, cli->mixes[i], &err))
			return usage_error(err.msg);
	if (cli->nprops && !cli->out_kafka)
		return usage_error("-X goes with --out-kafka");
	if (cli->o.per_entity && !cli->entities_path && !cli->o.changed_given)
		return usage_error("--per-entity goes with --entities or --changed-since");
	cli->o.templates = cli->templates;
	cli->o.ntemplates = cli->ntemplates;
	return 0;
}

/* --entities FILE: one entity per line (white space around it dropped, blank lines skipped). */
static int read_entities(struct cli *cli, struct ling_err *err)
{
	struct ling_input *in = NULL;
	struct ling_buf offs = LING_BUF_INIT; /* size_t offsets into cli->entities */
	const char *line;
	size_t len, n, i;
	int rc;

	if ((rc = ling_input_open(&in, cli->entities_path, err)))
		return rc;
	while ((rc = ling_input_getline(in, &line, &len, err)) == 1) {
		while (len && strchr(" \t\r\n", line[len - 1]))
			len--;
		while (len && (*line == ' ' || *line == '\t'))
			line++, len--;
		if (!len)
			continue;
		ling_buf_add(&offs, &cli->entities.len, sizeof(size_t));
		ling_buf_add(&cli->entities, line, len);
		ling_buf_addc(&cli->entities, '\0');
	}
	ling_input_close(in);
	n = offs.len / sizeof(size_t);
	cli->focus = xcalloc(n + 1, sizeof(*cli->focus));
	for (i = 0; i < n; i++) {
		size_t at;

		memcpy(&at, offs.data + i * sizeof(size_t), sizeof(at));
		cli->focus[i] = cli->entities.data + at;
	}
	ling_buf_release(&offs);
	cli->o.focus_given = 1;
	cli->o.focus = cli->focus;
	cli->o.nfocus = n;
	return rc < 0 ? rc : 0;
}

/* The samples go to stdout (but with --bfcl-dir); no output may name an input. @return 0 or the exit status. */
static int check_streams(const struct cli *cli, int closed)
{
	struct ling_err err;

	ling_err_clear(&err);
	if (cli->bfcl_dir) { /* nothing goes to stdout */
		if (!check_outputs(&cli->o, NULL, &err) && !check_bfcl_dir(&cli->o, cli->bfcl_dir, &err))
			return 0;
	} else if (!ling_stdio_require(closed, cli->out_kafka ? 0 : LING_STDOUT_CLOSED, &err) &&
		   !check_outputs(&cli->o, cli->bfcl_path, &err)) {
		return 0;
	}
	if (err.code == LING_EUSAGE)
		return usage_error(err.msg);
	ling_err_print("kg2samples", &err);
	return ling_err_exit_code(&err);
}

/*
 * Makes the samples of s onto stdout, then writes the BFCL answers.
 * @return 0 or a negative ling_errc with err set.
 */
static int make_samples(const struct cli *cli, struct synth *s, struct main_ctx *m, struct ling_err *err)
{
	struct synth_sink sink;
	int rc;

	memset(&sink, 0, sizeof(sink));
	sink.ctx = m;
	sink.emit = on_emit;
	sink.progress = m->progress.enabled ? on_progress : NULL;
	rc = synth_run(s, &sink, err);
	ling_progress_done(&m->progress);
	if (!rc && m->producer)
		rc = ling_kafka_flush(m->producer, 60000, err);
	else if (!rc && !cli->bfcl_dir)
		rc = ling_stdout_finish(err);
	if (!rc && cli->bfcl_dir)
		rc = write_bfcl_dir(m, err);
	if (!rc && cli->bfcl_path)
		rc = ling_atomic_write(cli->bfcl_path, m->answers.data ? m->answers.data : "", m->answers.len, err);
	return rc;
}

/* --out-kafka: an idempotent producer to BROKERS/TOPIC (split at the last '/'), with the -X properties. */
static int open_producer(const struct cli *cli, struct main_ctx *m, struct ling_err *err)
{
	struct ling_kafka_conf *conf;
	const char *topic;
	int rc = ling_kafka_conf_for(cli->out_kafka, cli->props, cli->nprops, &conf, &topic, err);

	if (!rc)
		rc = ling_kafka_producer_new(&m->producer, conf, topic, err);
	ling_kafka_conf_free(conf);
	return rc;
}

/* --stats: the snapshot, and the rate of a run that wrote everything it made. */
static void print_stats(const struct synth *s, double secs, int failed)
{
	const struct synth_info *in = synth_info(s);

	fprintf(stderr,
		"kg2samples: stats: %" PRIu64 " entities (%" PRIu64 " named), %" PRIu64 " relations, %" PRIu64
		" facts, %" PRIu64 " tools\n",
		in->entities, in->named, in->relations, in->facts, in->tools);
	if (!failed) /* a rate of samples that were not all written would flatter the run */
		fprintf(stderr, "kg2samples: stats: %.3f s, %.0f samples/s\n", secs,
			secs > 0 ? (double)synth_counts(s)->written / secs : 0.0);
}

/*
 * Reports the end of a run that returned rc: the error once, then the
 * summary (or what failed) and the stats. @return the exit status.
 */
static int report(const struct cli *cli, const struct synth *s, int rc, struct ling_err *err, double start)
{
	int failed = rc != 0;

	if (!rc && !cli->allow_short)
		rc = check_complete(synth_counts(s), err);
	if (rc)
		ling_err_print("kg2samples", err);
	if (cli->json)
		print_json(&cli->o, s, rc != 0);
	else if (!cli->quiet && failed)
		print_failure(synth_counts(s));
	else if (!cli->quiet)
		print_summary(&cli->o, s);
	if (cli->stats)
		print_stats(s, ling_now() - start, failed);
	return rc ? ling_err_exit_code(err) : 0;
}

int main(int argc, char **argv)
{
	struct cli cli;
	struct main_ctx m;
	struct ling_err err;
	struct synth *s = NULL;
	int rc, closed = ling_stdio_init();
	double start;

	memset(&cli, 0, sizeof(cli));
	memset(&m, 0, sizeof(m));
	ling_err_clear(&err);
	synth_options_init(&cli.o);
	if ((rc = parse_args(&cli, argc, argv)))
		goto out;
	if (cli.info) {
		rc = print_info(closed, cli.info == 'h' ? usage_text : NULL);
		goto out;
	}
	if ((rc = check_streams(&cli, closed)))
		goto out;
	if (cli.entities_path && read_entities(&cli, &err)) {
		ling_err_print("kg2samples", &err);
		rc = ling_err_exit_code(&err);
		goto out;
	}
	m.bfcl = cli.o.format == SYNTH_FORMAT_BFCL;
	m.bfcl_dir = cli.bfcl_dir;
	setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	ling_progress_init(&m.progress);
	start = ling_now();
	if ((cli.out_kafka && (rc = open_producer(&cli, &m, &err))) || (rc = synth_open(&s, &cli.o, &err))) {
		ling_err_print("kg2samples", &err);
		rc = ling_err_exit_code(&err);
		goto out;
	}
	rc = make_samples(&cli, s, &m, &err);
	rc = report(&cli, s, rc, &err, start);
out:
	synth_close(s);
	free(cli.templates);
	free(cli.focus);
	free(cli.props);
	ling_kafka_producer_free(m.producer);
	ling_buf_release(&cli.entities);
	ling_buf_release(&m.answers);
	for (size_t k = 0; k < NBFCL; k++) {
		ling_buf_release(&m.questions_of[k]);
		ling_buf_release(&m.answers_of[k]);
	}
	return rc;
}
