/*
 * ling-chat: ask a trained checkpoint questions that it answers by calling
 * a KG store's tools, showing each call and result as it happens.
 *
 * Line editing: plain getline, on purpose. libedit would be the small
 * library for it, but it is not among the suite's packages, and every build
 * (CI, the trainer machines) would need it for a prompt that is mostly
 * driven by scripts (--once); `rlwrap ling-chat ...` gives the interactive
 * user history and editing without it.
 */
#include "eval.h"

#include "../common/ling_main.h"
#include "../common/ling_mem.h"
#include "../common/ling_num.h"
#include "../common/ling_stdio.h"
#include "../kg/kg.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/banned.h"

#define TOOL "ling-chat"

static const char usage_text[] =
	"usage: ling-chat [options] --checkpoint DIR --store KG [--once TEXT]\n"
	"\n"
	"Ask a trained checkpoint questions about a knowledge graph. The model calls\n"
	"the store's tools (the catalogue of kg-query --tools); each call and its\n"
	"result are shown as they happen, then the answer. Without --once, each line\n"
	"of standard input is a question (a new conversation each time).\n"
	"\n"
	"  -c, --checkpoint=DIR     the checkpoint (RUN/ckpt-STEP, RUN/latest)\n"
	"  -s, --store=KG           the KG store whose tools the model calls\n"
	"      --tokenizer=FILE     the tokenizer (default: DIR/tokenizer.json)\n"
	"      --template=NAME      qwen or ling (default: the checkpoint's, else qwen)\n"
	"      --tools=A,B          the tools offered (default: the whole catalogue)\n"
	"      --system=TEXT        the system prompt (default: none)\n"
	"  -1, --once=TEXT          ask TEXT, print the exchange and exit\n"
	"      --max-rounds=N       tool-calling turns answered per question (default: 5)\n"
	"      --max-new-tokens=N   tokens per turn (default: 512)\n"
	"      --min-facts=N        tools only for relations with N triples (default: 10)\n"
	"      --lang=TAG           the language of entity names (default: en)\n"
	"  -t, --threads=N          compute threads (default: every core)\n"
	"  -h, --help               show this help\n"
	"  -V, --version            show the version\n"
	"\n"
	"Output, on stdout: \"call NAME ARGS\" for each call, then \"result JSON\" or\n"
	"\"error JSON\" for what went back to the model, then the answer. At the end, a\n"
	"line of counts on stderr (questions, turns, calls, tokens).\n"
	"\n"
	"Exit status: 0 ok, 1 a checkpoint, store or generation error, 2 usage error.\n";

static int usage_error(const char *msg)
{
	return ling_usage_error(TOOL, "ling-chat [options] --checkpoint DIR --store KG [--once TEXT]", msg);
}

struct chat {
	struct eval_model *model;
	struct kg_store *store;
	struct kg_toolset *tools;
	struct eval_agent *agent;
	char **offer;
	size_t noffer;
	struct ling_buf out;
	/* the summary line on stderr */
	unsigned long long questions, turns, calls, errors, prompt_tokens, generated_tokens;
	int write_failed;
	struct ling_err write_err;
};

static int generate(void *ctx, const uint32_t *prompt, size_t n, const struct eval_stop *stop, struct ling_u32s *out,
		    enum eval_stop_reason *why, struct ling_err *err)
{
	return eval_generate(ctx, prompt, n, stop, out, why, err);
}

/* Writes c->out to stdout and empties it; the first failure is kept. */
static void flush_out(struct chat *c)
{
	if (!c->write_failed && (ling_stdout_write(c->out.data, c->out.len, &c->write_err) ||
				 ling_stdout_flush(0, &c->write_err)))
		c->write_failed = 1;
	ling_buf_reset(&c->out);
}

static void on_turn(void *ctx, const struct eval_turn *t)
{
	struct chat *c = ctx;
	size_t i;

	c->turns++;
	for (i = 0; i < t->calls.n; i++) {
		const struct eval_call *k = &t->calls.v[i];

		c->calls++;
		c->errors += !t->ok[i];
		if (k->error)
			ling_buf_addf(&c->out, "call (malformed) %s\n", k->name ? k->name : "?");
		else
			ling_buf_addf(&c->out, "call %s %s\n", k->name, k->arguments);
		ling_buf_addf(&c->out, "%s %s\n", t->ok[i] ? "result" : "error", t->results[i]);
	}
	flush_out(c);
}

/* Asks one question and prints the answer. @return 0 or the agent's error (reported by the caller). */
static int ask(struct chat *c, const char *question, struct ling_err *err)
{
	struct eval_transcript tr;
	int rc = eval_agent_ask(c->agent, question, &tr, err);

	c->questions++;
	c->prompt_tokens += tr.prompt_tokens;
	c->generated_tokens += tr.generated_tokens;
	if (!rc) {
		if (tr.round_limit)
			ling_buf_adds(&c->out, "(no answer: the model still called tools after --max-rounds)\n");
		else
			ling_buf_addf(&c->out, "%s\n", tr.answer);
		flush_out(c);
	}
	eval_transcript_free(&tr);
	return rc;
}

/* Splits "a,b" into c->offer. @return 0, or -1 for an empty name. */
static int split_tools(struct chat *c, const char *list)
{
	const char *p = list;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (!n)
			return -1;
		c->offer = xrealloc(c->offer, (c->noffer + 1) * sizeof(*c->offer));
		c->offer[c->noffer++] = xstrndup(p, n);
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/* The questions of stdin, one a line, until its end. @return 0, or 1 when one failed (reported). */
static int interactive(struct chat *c)
{
	int tty = isatty(0) && isatty(1), failed = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	for (;;) {
		struct ling_err err;

		if (tty) {
			ling_buf_adds(&c->out, "> ");
			flush_out(c);
		}
		if ((n = getline(&line, &cap, stdin)) < 0 || c->write_failed)
			break;
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (!n)
			continue;
		ling_err_clear(&err);
		if (ask(c, line, &err)) {
			ling_err_print(TOOL, &err);
			failed = 1;
		}
	}
	free(line);
	if (ferror(stdin)) {
		fprintf(stderr, TOOL ": cannot read standard input\n");
		failed = 1;
	}
	return failed;
}

static int parse_int(const char *arg, long long lo, long long hi, int *out)
{
	long long v;

	if (ling_parse_long(arg, lo, hi, &v))
		return -1;
	*out = (int)v;
	return 0;
}

struct args {
	struct eval_model_opts model;
	struct eval_agent_opts agent;
	struct kg_toolset_opts tools;
	const char *store, *once;
};

/*
 * Reads the options into a and the --tools names into c.
 * @return -1 to go on, else the exit status (help, version, a usage error).
 */
static int parse_args(int argc, char **argv, struct args *a, struct chat *c)
{
	enum { OPT_TOKENIZER = 256, OPT_TEMPLATE, OPT_TOOLS, OPT_SYSTEM, OPT_MAX_ROUNDS, OPT_MAX_NEW, OPT_MIN_FACTS,
	       OPT_LANG };
	static const struct option options[] = {
		{ "checkpoint", required_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 's' },
		{ "tokenizer", required_argument, NULL, OPT_TOKENIZER },
		{ "template", required_argument, NULL, OPT_TEMPLATE },
		{ "tools", required_argument, NULL, OPT_TOOLS },
		{ "system", required_argument, NULL, OPT_SYSTEM },
		{ "once", required_argument, NULL, '1' },
		{ "max-rounds", required_argument, NULL, OPT_MAX_ROUNDS },
		{ "max-new-tokens", required_argument, NULL, OPT_MAX_NEW },
		{ "min-facts", required_argument, NULL, OPT_MIN_FACTS },
		{ "lang", required_argument, NULL, OPT_LANG },
		{ "threads", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, min_facts = 0;

	while ((opt = getopt_long(argc, argv, "c:s:1:t:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'c': a->model.checkpoint = optarg; break;
		case 's': a->store = optarg; break;
		case OPT_TOKENIZER: a->model.tokenizer = optarg; break;
		case OPT_TEMPLATE: a->model.template = optarg; break;
		case OPT_TOOLS:
			if (split_tools(c, optarg))
				return usage_error("--tools needs tool names separated by commas");
			break;
		case OPT_SYSTEM: a->agent.system = optarg; break;
		case '1': a->once = optarg; break;
		case OPT_MAX_ROUNDS:
			if (parse_int(optarg, 1, 1000, &a->agent.max_rounds))
				return usage_error("--max-rounds needs a number from 1 to 1000");
			break;
		case OPT_MAX_NEW:
			if (parse_int(optarg, 1, 1 << 20, &a->agent.max_new_tokens))
				return usage_error("--max-new-tokens needs a number from 1 to 1048576");
			break;
		case OPT_MIN_FACTS:
			if (parse_int(optarg, 1, 1 << 30, &min_facts))
				return usage_error("--min-facts needs a number >= 1");
			a->tools.min_facts = (uint64_t)min_facts;
			break;
		case OPT_LANG: a->tools.lang = optarg; break;
		case 't':
			if (parse_int(optarg, 1, 4096, &a->model.threads))
				return usage_error("--threads needs a number from 1 to 4096");
			break;
		case 'h': return ling_print_help(TOOL, usage_text);
		case 'V': return ling_print_version_checked(TOOL);
		default: return usage_error(NULL); /* getopt said what is wrong */
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument");
	if (!a->model.checkpoint || !a->store)
		return usage_error(a->model.checkpoint ? "--store KG is required" : "--checkpoint DIR is required");
	if (a->once && !*a->once)
		return usage_error("--once needs a question");
	return -1;
}

/* Opens the model, the store and its tools, and the agent on them. */
static int open_all(struct chat *c, struct args *a, struct ling_err *err)
{
	int rc;

	if ((rc = eval_model_open(&c->model, &a->model, err)) ||
	    (rc = kg_store_open(&c->store, a->store, KG_STORE_READONLY, err)) ||
	    (rc = kg_toolset_build(c->store, &a->tools, &c->tools, err)))
		return rc;
	a->agent.gen.generate = generate;
	a->agent.gen.ctx = c->model;
	a->agent.tok = eval_model_tok(c->model);
	a->agent.template_name = eval_model_template(c->model);
	a->agent.store = c->store;
	a->agent.tools = c->tools;
	a->agent.offer = (const char *const *)c->offer;
	a->agent.noffer = c->noffer;
	a->agent.on_turn = on_turn;
	a->agent.on_turn_ctx = c;
	return eval_agent_new(&c->agent, &a->agent, err);
}

static void close_all(struct chat *c)
{
	size_t i;

	eval_agent_free(c->agent);
	kg_toolset_free(c->tools);
	kg_store_close(c->store);
	eval_model_free(c->model);
	ling_buf_release(&c->out);
	for (i = 0; i < c->noffer; i++)
		free(c->offer[i]);
	free(c->offer);
}

int main(int argc, char **argv)
{
	struct args a;
	struct chat c;
	struct ling_err err;
	int rc, questions_failed = 0, closed = ling_stdio_init();

	memset(&a, 0, sizeof(a));
	memset(&c, 0, sizeof(c));
	ling_err_clear(&err);
	if ((rc = parse_args(argc, argv, &a, &c)) >= 0)
		goto out;
	if ((rc = ling_stdio_require(closed, LING_STDOUT_CLOSED | (a.once ? 0 : LING_STDIN_CLOSED), &err)) ||
	    (rc = open_all(&c, &a, &err)))
		goto fail;
	if (a.once)
		rc = ask(&c, a.once, &err);
	else
		questions_failed = interactive(&c); /* each failure was reported */
	if (!rc && c.write_failed) {
		err = c.write_err;
		rc = LING_EIO;
	}
	if (!rc)
		rc = ling_stdout_finish(&err);
	if (!rc)
		fprintf(stderr,
			TOOL ": %llu question%s, %llu turns, %llu calls (%llu answered with an error), %llu prompt tokens, "
			     "%llu generated\n",
			c.questions, c.questions == 1 ? "" : "s", c.turns, c.calls, c.errors, c.prompt_tokens,
			c.generated_tokens);
fail:
	if (rc)
		ling_err_print(TOOL, &err);
	rc = rc == LING_EUSAGE ? 2 : rc || questions_failed ? 1 : 0;
out:
	close_all(&c);
	return rc;
}
