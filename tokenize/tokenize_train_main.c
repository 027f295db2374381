/* tokenize train: learns a byte-level BPE tokenizer from text and writes its tokenizer.json. */
#include "tokenize.h"
#include "tokenize_main.h"

#include "../common/ling_cli.h"
#include "../common/ling_file.h"
#include "../common/ling_num.h"
#include "../common/ling_main.h"
#include "../common/ling_mem.h"
#include "../common/ling_stdio.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

static const char train_usage[] =
	"usage: tokenize train --vocab-size N --out FILE [options] [FILE...]\n"
	"\n"
	"Learns a byte-level BPE tokenizer (GPT-2 style: 256 byte tokens, the cl100k split\n"
	"regex, merges of the most frequent pair, ties to the lower ids) and writes it as a\n"
	"Hugging Face tokenizer.json. The same input gives the same file.\n"
	"Input, decided per file by its first non-blank line: JSON Lines (the line starts\n"
	"with '{'): the --text-field string of each record, or else the content of each of\n"
	"its messages (chat samples); otherwise plain text, newlines included.\n"
	"With no FILE, or with -, read stdin; gzip and zstd input is decompressed.\n"
	"\n"
	"      --vocab-size=N     ids in all: 256 bytes, merged tokens and special tokens\n"
	"      --min-frequency=N  merge only pairs seen at least N times (default: 2)\n"
	"      --special=TOKEN    a special token, after the vocabulary (repeatable)\n"
	"      --text-field=KEY   the text of a JSON record (default: text)\n"
	"  -o, --out=FILE         the tokenizer.json to write (atomically)\n"
	"  -e, --max-errors=N     skip up to N bad lines, reporting each (default: 0)\n"
	"  -q, --quiet            no summary lines\n"
	"  -h, --help             show this help\n"
	"  -V, --version          show the version\n";

static int train_usage_error(const char *msg, const char *arg)
{
	char line[512];

	if (msg && arg)
		snprintf(line, sizeof(line), "%s%s", msg, arg);
	return ling_usage_error("tokenize", "tokenize train --vocab-size N --out FILE [options] [FILE...]",
				msg && arg ? line : msg);
}

static int on_bad_line(void *ctx, const struct ling_err *err)
{
	return ling_errors_report(ctx, err);
}

/* stdin must be open when it is read, and no input may be the output. @return 0 or with err. */
static int check_inputs(const char **files, int nfiles, const char *out, int closed, struct ling_err *err)
{
	int i, rc = 0;

	for (i = 0; i < nfiles && !rc; i++) {
		if (!strcmp(files[i], "-"))
			rc = ling_stdio_require(closed, LING_STDIN_CLOSED, err);
		else if (ling_same_file(files[i], out))
			rc = ling_err_set(err, LING_EUSAGE, "--out %s is the input %s: it would be overwritten", out,
					  files[i]);
	}
	return rc;
}

int tokenize_train_main(int argc, char **argv, int closed)
{
	static const struct option options[] = {
		{ "vocab-size", required_argument, NULL, 'n' }, { "min-frequency", required_argument, NULL, 'm' },
		{ "special", required_argument, NULL, 'S' },    { "text-field", required_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },        { "max-errors", required_argument, NULL, 'e' },
		{ "quiet", no_argument, NULL, 'q' },            { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },          { NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *text_field = "text", *stdin_only[] = { "-" }, **files, **specials = NULL;
	struct tok_train_opts opts;
	struct tok_train_stats stats;
	struct tok_train *tr = NULL;
	struct tok_train_reader *reader = NULL;
	struct ling_errors errors;
	long long read = 0;
	struct ling_buf json = LING_BUF_INIT;
	struct ling_err err;
	long long v;
	int c, i, nfiles, quiet = 0, rc = 0;

	ling_errors_init(&errors, "tokenize");
	memset(&opts, 0, sizeof(opts));
	memset(&stats, 0, sizeof(stats));
	ling_err_clear(&err);
	opts.min_frequency = 2;
	specials = xcalloc((size_t)argc + 1, sizeof(*specials));
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:e:qhV", options, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (ling_parse_long(optarg, 1, 1LL << 22, &v)) {
				rc = train_usage_error("--vocab-size needs a number from 256 to 4194304", NULL);
				goto out;
			}
			opts.vocab_size = (size_t)v;
			break;
		case 'm':
			if (ling_parse_long(optarg, 1, 1LL << 62, &v)) {
				rc = train_usage_error("--min-frequency needs a number >= 1", NULL);
				goto out;
			}
			opts.min_frequency = (uint64_t)v;
			break;
		case 'S': specials[opts.nspecials++] = optarg; break;
		case 'f': text_field = optarg; break;
		case 'o': out = optarg; break;
		case 'e':
			if (ling_errors_parse_max(&errors, optarg)) {
				rc = train_usage_error("--max-errors needs a number >= 0", NULL);
				goto out;
			}
			break;
		case 'q': quiet = 1; break;
		case 'h': rc = ling_print_help("tokenize", train_usage); goto out;
		case 'V': rc = ling_print_version_checked("tokenize"); goto out;
		case ':': rc = train_usage_error("an option needs a value: ", argv[optind - 1]); goto out;
		default: rc = train_usage_error("unknown option: ", argv[optind - 1]); goto out;
		}
	}
	if (!opts.vocab_size || !out) {
		rc = train_usage_error("--vocab-size N and --out FILE are required", NULL);
		goto out;
	}
	opts.specials = specials;
	if (tok_train_new(&tr, &opts, &err) || tok_train_reader_new(&reader, tr, text_field, &err)) {
		rc = train_usage_error(err.msg, NULL);
		goto out;
	}
	files = optind < argc ? (const char **)argv + optind : stdin_only;
	nfiles = optind < argc ? argc - optind : 1;
	if ((rc = check_inputs(files, nfiles, out, closed, &err))) {
		ling_err_print("tokenize", &err);
		rc = 2;
		goto out;
	}
	for (i = 0; i < nfiles && !rc; i++)
		rc = tok_train_read_file(reader, files[i], on_bad_line, &errors, &read, &err);
	if (!rc)
		rc = tok_train_finish(tr, &json, &stats, &err);
	if (!rc)
		rc = ling_atomic_write(out, json.data, json.len, &err);
	if (rc && !errors.stopped)
		ling_err_print("tokenize", &err);
	if (!quiet && !rc)
		fprintf(stderr, "tokenize: %llu words (%zu distinct), %zu merges, vocabulary %zu of %zu\n",
			(unsigned long long)stats.words, stats.distinct, stats.merges, stats.vocab, opts.vocab_size);
	if (!quiet && rc)
		fprintf(stderr, "tokenize: read %lld, rejected %lld; failed: %s not written\n", read, errors.count, out);
	else if (!quiet)
		fprintf(stderr, "tokenize: read %lld, wrote %zu, rejected %lld\n", read, stats.vocab, errors.count);
	rc = rc ? (rc == LING_EUSAGE ? 2 : 1) : 0;
out:
	tok_train_reader_free(reader);
	tok_train_free(tr);
	ling_buf_release(&json);
	free(specials);
	return rc;
}
