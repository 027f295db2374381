/* ling-eval: a checkpoint asked held-out samples and MetaQA questions through its KG's tools, and scored. */
#include "eval.h"

#include "../common/ling_cli.h"
#include "../common/ling_file.h"
#include "../common/ling_main.h"
#include "../common/ling_mem.h"
#include "../common/ling_num.h"
#include "../common/ling_stdio.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/banned.h"

#define TOOL "ling-eval"
#define SYNOPSIS                                                                                        \
	"ling-eval [options] --checkpoint DIR --store KG --samples FILE.jsonl\n"                            \
	"       ling-eval [options] --checkpoint DIR --store KG --metaqa FILE\n"                            \
	"       ling-eval [options] --checkpoint DIR --data DIR [--split NAME] [--unmasked]"

static const char usage_text[] =
	"usage: " SYNOPSIS "\n"
	"\n"
	"Ask a trained checkpoint questions through the agent loop (generate, call the\n"
	"store's tools, feed the results back) and score what it does: held-out\n"
	"kg2samples samples (BFCL-style AST accuracy of the first tool-calling turn,\n"
	"execution and answer accuracy, per category and pattern), MetaQA question\n"
	"files (exact answer-set match, Hits@1), and perplexity on a dataset split.\n"
	"The scores go to a JSON report and, as a table, to stderr.\n"
	"\n"
	"  -c, --checkpoint=DIR   the checkpoint directory (required)\n"
	"  -s, --store=KG         the KG store whose tools the model calls\n"
	"      --samples=FILE     kg2samples JSON Lines to ask and score (repeatable)\n"
	"      --metaqa=FILE      a MetaQA 'question [entity]<TAB>a|b' file (repeatable)\n"
	"      --data=DIR         a tokenize build dataset: perplexity and bits per byte\n"
	"      --split=NAME       the dataset split (default: valid)\n"
	"      --unmasked         score every token, not only the trained ones\n"
	"      --tokenizer=FILE   the tokenizer (default: DIR/tokenizer.json)\n"
	"      --template=NAME    the chat template (default: the checkpoint's)\n"
	"      --tools=A,B        MetaQA: the tools offered (default: the whole catalogue)\n"
	"      --system=TEXT      MetaQA: the system prompt (default: a training-style one)\n"
	"  -t, --threads=N        compute threads per model copy (default: every core / jobs)\n"
	"  -j, --jobs=N           model copies asking at once (default: 1)\n"
	"  -n, --limit=N          ask N questions per file, spread evenly (--data: N documents)\n"
	"      --max-rounds=N     tool-calling turns per question (default: 5)\n"
	"      --max-new-tokens=N tokens per turn (default: 512)\n"
	"      --max-context=N    tokens the KV cache holds (default: the model's)\n"
	"  -o, --report=FILE      the JSON report (default: report.json)\n"
	"      --dump=FILE        every question, calls, results, answer and verdict (JSON Lines)\n"
	"  -e, --max-errors=N     skip up to N bad lines, reporting each (default: 0)\n"
	"  -q, --quiet            no table on stderr\n"
	"  -h, --help             show this help\n"
	"  -V, --version          show the version\n"
	"\n"
	"Exit status: 0 ok, 1 data, model, store or write error, 2 usage error.\n";

enum {
	OPT_SAMPLES = 256,
	OPT_METAQA,
	OPT_DATA,
	OPT_SPLIT,
	OPT_UNMASKED,
	OPT_TOKENIZER,
	OPT_TEMPLATE,
	OPT_TOOLS,
	OPT_SYSTEM,
	OPT_MAX_ROUNDS,
	OPT_MAX_NEW,
	OPT_MAX_CONTEXT,
	OPT_DUMP,
};

struct input {
	int metaqa;
	const char *path;
};

struct cli {
	struct eval_run_opts o;
	struct input *inputs;
	size_t ninputs, inputs_cap;
	const char *data, *split, *report, *dump;
	int unmasked, quiet;
	char *tools_arg;
	char **tools;
	struct ling_errors errors;
	struct ling_progress progress;
};

static int usage_error(const char *msg)
{
	return ling_usage_error(TOOL, SYNOPSIS, msg);
}

static int number(const char *arg, long long min, long long max, long long *out, const char *opt)
{
	char msg[96];

	if (!ling_parse_long(arg, min, max, out))
		return 0;
	snprintf(msg, sizeof(msg), "%s needs a number from %lld to %lld", opt, min, max);
	return ling_usage_error(TOOL, NULL, msg);
}

static void add_input(struct cli *c, int metaqa, const char *path)
{
	c->inputs = xgrow(c->inputs, &c->inputs_cap, c->ninputs + 1, sizeof(*c->inputs));
	c->inputs[c->ninputs].metaqa = metaqa;
	c->inputs[c->ninputs++].path = path;
}

/* --tools A,B,C into c->o.tools. */
static int split_tools(struct cli *c, const char *arg)
{
	size_t n = 1;
	char *p;

	for (const char *s = arg; *s; s++)
		n += *s == ',';
	free(c->tools_arg);
	free(c->tools);
	c->tools_arg = xstrdup(arg);
	c->tools = xcalloc(n, sizeof(*c->tools));
	c->o.ntools = 0;
	for (p = c->tools_arg;;) {
		char *comma = strchr(p, ',');

		if (comma)
			*comma = '\0';
		if (!*p)
			return usage_error("--tools names a tool between every comma");
		c->tools[c->o.ntools++] = p;
		if (!comma)
			break;
		p = comma + 1;
	}
	c->o.tools = (const char *const *)c->tools;
	return 0;
}

static int parse_args(struct cli *c, int argc, char **argv)
{
	static const struct option options[] = {
		{ "checkpoint", required_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 's' },
		{ "samples", required_argument, NULL, OPT_SAMPLES },
		{ "metaqa", required_argument, NULL, OPT_METAQA },
		{ "data", required_argument, NULL, OPT_DATA },
		{ "split", required_argument, NULL, OPT_SPLIT },
		{ "unmasked", no_argument, NULL, OPT_UNMASKED },
		{ "tokenizer", required_argument, NULL, OPT_TOKENIZER },
		{ "template", required_argument, NULL, OPT_TEMPLATE },
		{ "tools", required_argument, NULL, OPT_TOOLS },
		{ "system", required_argument, NULL, OPT_SYSTEM },
		{ "threads", required_argument, NULL, 't' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "limit", required_argument, NULL, 'n' },
		{ "max-rounds", required_argument, NULL, OPT_MAX_ROUNDS },
		{ "max-new-tokens", required_argument, NULL, OPT_MAX_NEW },
		{ "max-context", required_argument, NULL, OPT_MAX_CONTEXT },
		{ "report", required_argument, NULL, 'o' },
		{ "dump", required_argument, NULL, OPT_DUMP },
		{ "max-errors", required_argument, NULL, 'e' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	long long v;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "c:s:t:j:n:o:e:qhV", options, NULL)) != -1) {
		switch (opt) {
		case 'c': c->o.model.checkpoint = optarg; break;
		case 's': c->o.store = optarg; break;
		case OPT_SAMPLES: add_input(c, 0, optarg); break;
		case OPT_METAQA: add_input(c, 1, optarg); break;
		case OPT_DATA: c->data = optarg; break;
		case OPT_SPLIT: c->split = optarg; break;
		case OPT_UNMASKED: c->unmasked = 1; break;
		case OPT_TOKENIZER: c->o.model.tokenizer = optarg; break;
		case OPT_TEMPLATE: c->o.model.template = optarg; break;
		case OPT_TOOLS:
			if ((rc = split_tools(c, optarg)))
				return rc;
			break;
		case OPT_SYSTEM: c->o.system = optarg; break;
		case 't':
			if ((rc = number(optarg, 1, 1024, &v, "--threads")))
				return rc;
			c->o.model.threads = (int)v;
			break;
		case 'j':
			if ((rc = number(optarg, 1, 256, &v, "--jobs")))
				return rc;
			c->o.jobs = (int)v;
			break;
		case 'n':
			if ((rc = number(optarg, 1, 1LL << 50, &v, "--limit")))
				return rc;
			c->o.limit = v;
			break;
		case OPT_MAX_ROUNDS:
			if ((rc = number(optarg, 1, 100, &v, "--max-rounds")))
				return rc;
			c->o.max_rounds = (int)v;
			break;
		case OPT_MAX_NEW:
			if ((rc = number(optarg, 1, 1 << 20, &v, "--max-new-tokens")))
				return rc;
			c->o.max_new_tokens = (int)v;
			break;
		case OPT_MAX_CONTEXT:
			if ((rc = number(optarg, 2, 1 << 24, &v, "--max-context")))
				return rc;
			c->o.model.max_context = (int)v;
			break;
		case 'o': c->report = optarg; break;
		case OPT_DUMP: c->dump = optarg; break;
		case 'e':
			if (ling_errors_parse_max(&c->errors, optarg))
				return ling_usage_error(TOOL, NULL, "--max-errors needs a number >= 0");
			break;
		case 'q': c->quiet = 1; break;
		case 'h': return ling_print_help(TOOL, usage_text) ? -1 : -2;
		case 'V': return ling_print_version_checked(TOOL) ? -1 : -2;
		default: return usage_error(NULL);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument");
	if (!c->o.model.checkpoint)
		return usage_error("--checkpoint DIR is required");
	if (!c->ninputs && !c->data)
		return usage_error("nothing to score: give --samples, --metaqa or --data");
	for (size_t i = 0; i < c->ninputs; i++)
		if (!strcmp(c->inputs[i].path, "-"))
			return usage_error("--samples and --metaqa read files, not standard input (the report hashes them)");
	if (c->ninputs && !c->o.store)
		return usage_error("--samples and --metaqa need --store KG");
	if (!c->data && (c->split || c->unmasked))
		return usage_error("--split and --unmasked go with --data");
	return 0;
}

static int on_bad(void *ctx, const struct ling_err *err)
{
	struct cli *c = ctx;

	ling_progress_done(&c->progress);
	return ling_errors_report(&c->errors, err);
}

/* The first few skipped samples are named; the report counts them all. */
static void on_note(void *ctx, const struct ling_err *note)
{
	static int shown;
	struct cli *c = ctx;

	ling_progress_done(&c->progress);
	if (shown++ < 5)
		ling_err_print(TOOL, note);
}

static void on_progress(void *ctx, const char *file, uint64_t done, uint64_t total)
{
	struct cli *c = ctx;

	ling_progress_update(&c->progress, "%s: %llu/%llu questions", file, (unsigned long long)done,
			     (unsigned long long)total);
}

/* Opens the dump as DUMP.tmp.PID, renamed over DUMP once the run succeeded. */
static int open_dump(struct cli *c, struct ling_buf *tmp, struct ling_err *err)
{
	ling_buf_addf(tmp, "%s.tmp.%ld", c->dump, (long)getpid());
	c->o.dump = fopen(tmp->data, "w");
	if (!c->o.dump)
		return ling_err_at(err, LING_EIO, c->dump, 0, 0, "cannot create: %s", strerror(errno));
	return 0;
}

static int close_dump(struct cli *c, const char *tmp, int ok, struct ling_err *err)
{
	int failed = fflush(c->o.dump) != 0 || ferror(c->o.dump) || fsync(fileno(c->o.dump)) != 0;

	failed |= fclose(c->o.dump) != 0;
	c->o.dump = NULL;
	if (!ok || failed) {
		unlink(tmp);
		if (ok)
			return ling_err_at(err, LING_EIO, c->dump, 0, 0, "cannot write: %s", strerror(errno));
		return 0;
	}
	if (rename(tmp, c->dump) != 0) {
		unlink(tmp);
		return ling_err_at(err, LING_EIO, c->dump, 0, 0, "cannot rename into place: %s", strerror(errno));
	}
	return ling_fsync_parent(c->dump) ? ling_err_at(err, LING_EIO, c->dump, 0, 0, "cannot sync its directory") : 0;
}

static int run(struct cli *c, struct ling_err *err)
{
	struct ling_buf report = LING_BUF_INIT, table = LING_BUF_INIT, tmp = LING_BUF_INIT;
	struct eval_run *r = NULL;
	int rc;

	if (c->dump && (rc = open_dump(c, &tmp, err)))
		return rc;
	if ((rc = eval_run_new(&r, &c->o, err)))
		goto out;
	for (size_t i = 0; i < c->ninputs && !rc; i++)
		rc = c->inputs[i].metaqa ? eval_run_metaqa(r, c->inputs[i].path, err)
					 : eval_run_samples(r, c->inputs[i].path, err);
	if (!rc && c->data)
		rc = eval_run_perplexity(r, c->data, c->split ? c->split : "valid", !c->unmasked, err);
	ling_progress_done(&c->progress);
	if (rc)
		goto out;
	if (c->dump && (rc = close_dump(c, tmp.data, 1, err)))
		goto out;
	eval_run_report(r, &report);
	if ((rc = ling_atomic_write(c->report, report.data, report.len, err)))
		goto out;
	if (!c->quiet) {
		eval_run_table(r, &table);
		fputs(table.data ? table.data : "", stderr);
	}
out:
	if (c->o.dump)
		close_dump(c, tmp.data, 0, err);
	eval_run_free(r);
	ling_buf_release(&report);
	ling_buf_release(&table);
	ling_buf_release(&tmp);
	return rc;
}

int main(int argc, char **argv)
{
	struct ling_err err;
	struct cli c;
	int rc;

	ling_stdio_init();
	ling_err_clear(&err);
	memset(&c, 0, sizeof(c));
	ling_errors_init(&c.errors, TOOL);
	c.report = "report.json";
	c.o.on_bad = on_bad;
	c.o.on_note = on_note;
	c.o.on_progress = on_progress;
	c.o.ctx = &c;
	rc = parse_args(&c, argc, argv);
	if (rc) {
		free(c.inputs);
		free(c.tools);
		free(c.tools_arg);
		return rc == -2 ? 0 : rc == -1 ? 1 : rc;
	}
	if (c.dump && ling_same_file(c.dump, c.report))
		rc = usage_error("--dump and --report name the same file");
	for (size_t i = 0; !rc && i < c.ninputs; i++)
		if (ling_same_file(c.inputs[i].path, c.report) || (c.dump && ling_same_file(c.inputs[i].path, c.dump)))
			rc = usage_error("an output file names an input");
	ling_progress_init(&c.progress);
	if (!rc && c.o.jobs > 1 && c.o.model.threads == 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);

		c.o.model.threads = cores > c.o.jobs ? (int)(cores / c.o.jobs) : 1;
	}
	if (!rc && run(&c, &err)) {
		/* a bad line beyond --max-errors was reported when it was read */
		if (!(err.code == LING_EDATA && c.errors.stopped))
			ling_err_print(TOOL, &err);
		rc = ling_err_exit_code(&err);
		if (rc == 0)
			rc = 1;
	}
	free(c.inputs);
	free(c.tools);
	free(c.tools_arg);
	return rc;
}
