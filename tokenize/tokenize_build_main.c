/* tokenize build: JSON Lines samples into a dataset directory (tokenize.h, "datasets"). */
#include "tokenize.h"
#include "tokenize_main.h"

#include "../common/ling_cli.h"
#include "../common/ling_num.h"
#include "../common/ling_main.h"
#include "../common/ling_stdio.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../common/banned.h"

static int usage_error(const char *msg)
{
	return ling_usage_error("tokenize", TOKENIZE_SYNOPSIS, msg);
}

static void build_reject(void *ctx, const struct ling_err *err)
{
	(void)ctx;
	ling_err_print("tokenize", err);
}

static void build_skip(void *ctx, const char *path)
{
	(void)ctx;
	fprintf(stderr, "tokenize: %s: already in the dataset (same sha256), skipped\n", path);
}

static void build_progress(void *ctx, const struct tok_dataset_stats *st)
{
	ling_progress_update(ctx, "tokenize: %lld records, %llu tokens", st->read, (unsigned long long)st->tokens);
}

/* " (already rendered N)" when some rejected samples were Hermes text or ChatML, else "". */
static const char *rendered_note(const struct tok_dataset_stats *st, char *buf, size_t size)
{
	if (!st->rendered)
		return "";
	snprintf(buf, size, " (already rendered %lld)", st->rendered);
	return buf;
}

int tokenize_build_main(int argc, char **argv, int closed)
{
	static const struct option options[] = {
		{ "tokenizer", required_argument, NULL, 't' },  { "encoding", required_argument, NULL, 'E' },
		{ "out", required_argument, NULL, 'o' },        { "template", required_argument, NULL, 'T' },
		{ "split", required_argument, NULL, 'S' },      { "shard-tokens", required_argument, NULL, 'N' },
		{ "append", no_argument, NULL, 'A' },           { "text-field", required_argument, NULL, 'F' },
		{ "eod", required_argument, NULL, 'D' },        { "jobs", required_argument, NULL, 'j' },
		{ "chat-eod", required_argument, NULL, 'C' },
		{ "max-errors", required_argument, NULL, 'e' }, { "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },             { "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const stdin_only[] = { "-" };
	struct tok_dataset_opts o;
	struct tok_dataset_stats st;
	struct ling_progress progress;
	struct ling_err err;
	unsigned split[TOK_SPLIT_COUNT];
	unsigned long long shard_tokens;
	char note[64];
	long long v;
	int c, quiet = 0, rc;

	memset(&o, 0, sizeof(o));
	ling_err_clear(&err);
	optind = 2;
	while ((c = getopt_long(argc, argv, "t:o:j:e:qhV", options, NULL)) != -1) {
		switch (c) {
		case 't': o.tokenizer = optarg; break;
		case 'E': o.encoding = optarg; break;
		case 'o': o.dir = optarg; break;
		case 'T': o.tpl = optarg; break;
		case 'S':
			if (tok_dataset_parse_split(optarg, split))
				return usage_error("--split needs three weights: TRAIN,VALID,TEST (say 98,1,1)");
			if (!(split[0] + split[1] + split[2]))
				return usage_error("--split: the weights sum to 0");
			o.split = split;
			break;
		case 'N':
			if (ling_parse_size(optarg, &shard_tokens) || shard_tokens == 0)
				return usage_error("--shard-tokens needs a number > 0 (k, M, G allowed)");
			o.shard_tokens = shard_tokens;
			break;
		case 'A': o.append = 1; break;
		case 'F': o.text_field = optarg; break;
		case 'D': o.eod = optarg; break;
		case 'C': o.chat_eod = optarg; break;
		case 'j':
			if (ling_parse_long(optarg, 1, 64, &v))
				return usage_error("--jobs needs a number from 1 to 64");
			o.jobs = (int)v;
			break;
		case 'e':
			if (ling_parse_long(optarg, 0, 1LL << 62, &o.max_errors))
				return usage_error("--max-errors needs a number >= 0");
			break;
		case 'q': quiet = 1; break;
		case 'h': return ling_print_help("tokenize", tokenize_usage_text);
		case 'V': return ling_print_version_checked("tokenize");
		default: return usage_error(NULL);
		}
	}
	if (!o.tokenizer)
		return usage_error("--tokenizer FILE is required");
	if (!o.dir)
		return usage_error("build needs --out DIR");
	if (o.encoding && !tok_is_tiktoken(o.tokenizer))
		return usage_error("--encoding is for tiktoken files");
	o.files = optind < argc ? (const char *const *)argv + optind : stdin_only;
	o.nfiles = optind < argc ? (size_t)(argc - optind) : 1;
	if (ling_stdio_require(closed, ling_reads_stdin(o.files, o.nfiles) ? LING_STDIN_CLOSED : 0, &err)) {
		ling_err_print("tokenize", &err);
		return ling_err_exit_code(&err);
	}
	o.on_reject = build_reject;
	o.on_skip = build_skip;
	ling_progress_init(&progress);
	o.on_progress = build_progress;
	o.ctx = &progress;
	rc = tok_dataset_build(&o, &st, &err);
	ling_progress_done(&progress);
	if (rc)
		ling_err_print("tokenize", &err);
	if (!quiet && rc)
		/* A failed build removes what it wrote and leaves the manifest as it was. */
		fprintf(stderr, "tokenize: read %lld, rejected %lld; failed: nothing added to %s\n", st.read,
			st.rejected, o.dir);
	else if (!quiet)
		fprintf(stderr,
			"tokenize: read %lld, wrote %lld, rejected %lld%s; %llu tokens (%llu trained) in %u shards; "
			"documents: train %lld, valid %lld, test %lld\n",
			st.read, st.written, st.rejected, rendered_note(&st, note, sizeof(note)),
			(unsigned long long)st.tokens, (unsigned long long)st.trained,
			st.shards, st.docs[TOK_SPLIT_TRAIN], st.docs[TOK_SPLIT_VALID], st.docs[TOK_SPLIT_TEST]);
	return rc ? ling_err_exit_code(&err) : 0;
}

