/* tokenize train: learns a byte-level BPE tokenizer from text and writes its tokenizer.json. */
#include "tokenize.h"
#include "tokenize_main.h"

#include "../common/ling_cli.h"
#include "../common/ling_input.h"
#include "../common/ling_jsonl.h"
#include "../common/ling_main.h"
#include "../common/ling_mem.h"
#include "../common/ling_stdio.h"
#include "../common/ling_utf8.h"

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

/* Plain text goes to the trainer in chunks of about this size, cut before a line that starts a word. */
#define CHUNK_BYTES (1 << 20)

enum mode { MODE_UNKNOWN, MODE_JSONL, MODE_TEXT };

struct train_run {
	struct tok_train *tr;
	struct ling_jsonl_paths *paths;
	struct ling_buf scratch, chunk;
	struct ling_errors errors;
	long long read;
	/* the strings of one record: the text field's, and the messages' */
	struct ling_buf texts[2];
	size_t *lens[2], nlens[2], caplens[2];
	int nontext;
	const char *text_field;
};

static int train_usage_error(const char *msg, const char *arg)
{
	char line[512];

	if (msg && arg)
		snprintf(line, sizeof(line), "%s%s", msg, arg);
	return ling_usage_error("tokenize", "tokenize train --vocab-size N --out FILE [options] [FILE...]",
				msg && arg ? line : msg);
}

static void on_piece(void *ctx, size_t path, enum ling_jsonl_piece_type type, int at_end, const char *s, size_t n)
{
	struct train_run *run = ctx;
	size_t k = path == 0 ? 0 : 1;

	if (type != LING_JSONL_STRING || !at_end) {
		if (path == 0)
			run->nontext = 1;
		return;
	}
	ling_buf_add(&run->texts[k], s, n);
	if (run->nlens[k] == run->caplens[k])
		run->lens[k] = xgrow(run->lens[k], &run->caplens[k], run->nlens[k] + 1, sizeof(*run->lens[k]));
	run->lens[k][run->nlens[k]++] = n;
}

/* Counts the words of one JSONL record: its text field, or else its messages' contents. */
static int do_record(struct train_run *run, const char *name, long lineno, const char *line, size_t len,
		     struct ling_err *err)
{
	unsigned long present;
	size_t root_keys, i, off, k;
	json_t *obj = NULL;
	int rc = 0;

	for (k = 0; k < 2; k++) {
		ling_buf_reset(&run->texts[k]);
		run->nlens[k] = 0;
	}
	run->nontext = 0;
	if (!ling_jsonl_scan(run->paths, line, len, &run->scratch, on_piece, run, &present, &root_keys)) {
		for (k = 0; k < 2; k++) {
			ling_buf_reset(&run->texts[k]);
			run->nlens[k] = 0;
		}
		run->nontext = 0;
		if ((rc = ling_jsonl_parse(line, len, name, lineno, LING_JSONL_OBJECT, &obj, err)))
			return rc;
		ling_jsonl_walk(obj, run->paths, on_piece, run);
		json_decref(obj);
	}
	k = run->nlens[0] ? 0 : 1;
	if (run->nontext || !run->nlens[k])
		return ling_err_at(err, LING_EDATA, name, lineno, 0, "no text: a \"%s\" string or messages with content",
				   run->text_field);
	for (i = 0, off = 0; i < run->nlens[k]; off += run->lens[k][i++]) {
		if ((rc = tok_train_add(run->tr, run->texts[k].data + off, run->lens[k][i], err))) {
			char msg[sizeof(err->msg)];

			memcpy(msg, err->msg, sizeof(msg));
			return ling_err_at(err, rc, name, lineno, 0, "%s", msg);
		}
	}
	return 0;
}

static int flush_chunk(struct train_run *run, struct ling_err *err)
{
	int rc = tok_train_add(run->tr, run->chunk.data ? run->chunk.data : "", run->chunk.len, err);

	ling_buf_reset(&run->chunk);
	return rc;
}

/* Adds one line of plain text, with its newline. */
static int do_text_line(struct train_run *run, const char *name, long lineno, const char *line, size_t len,
			struct ling_err *err)
{
	size_t ok = ling_utf8_valid_prefix(line, len);
	int rc;

	if (ok != len)
		return ling_err_at(err, LING_EDATA, name, lineno, (long)ok + 1, "invalid UTF-8");
	/* A split never joins a newline with what follows unless that is white space. */
	if (run->chunk.len >= CHUNK_BYTES && len && line[0] != ' ' && line[0] != '\t' && line[0] != '\r' &&
	    (rc = flush_chunk(run, err)))
		return rc;
	ling_buf_add(&run->chunk, line, len);
	ling_buf_addc(&run->chunk, '\n');
	return 0;
}

/* The first byte of s that is not a space, tab or CR, or -1 when there is none. */
static int first_nonblank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return (unsigned char)s[i];
	return -1;
}

/* @return 0, or a negative ling_errc that ends the run (run->errors.stopped when a bad line was already printed). */
static int do_file(struct train_run *run, const char *path, struct ling_err *err)
{
	struct ling_input *in;
	enum mode mode = MODE_UNKNOWN;
	const char *line;
	size_t len;
	long lineno = 0;
	int rc;

	if ((rc = ling_input_open(&in, path, err)))
		return rc;
	while ((rc = ling_input_getline(in, &line, &len, err)) == 1) {
		lineno++;
		if (mode == MODE_UNKNOWN && first_nonblank(line, len) >= 0)
			mode = first_nonblank(line, len) == '{' ? MODE_JSONL : MODE_TEXT;
		if (mode == MODE_JSONL && first_nonblank(line, len) < 0)
			continue;
		run->read++;
		rc = mode == MODE_JSONL ? do_record(run, ling_input_name(in), lineno, line, len, err)
					: do_text_line(run, ling_input_name(in), lineno, line, len, err);
		if (rc == LING_EDATA && err->line) {
			if (ling_errors_report(&run->errors, err))
				break;
			ling_err_clear(err);
			rc = 0;
		} else if (rc) {
			break;
		}
	}
	ling_input_close(in);
	if (rc > 0)
		rc = 0;
	if (!rc && run->chunk.len)
		rc = flush_chunk(run, err);
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
	const char *paths[3];
	struct tok_train_opts opts;
	struct tok_train_stats stats;
	struct train_run run;
	struct ling_buf json = LING_BUF_INIT;
	struct ling_err err;
	long long v;
	int c, i, nfiles, quiet = 0, rc = 0;

	memset(&run, 0, sizeof(run));
	ling_errors_init(&run.errors, "tokenize");
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
			if (ling_errors_parse_max(&run.errors, optarg)) {
				rc = train_usage_error("--max-errors needs a number >= 0", NULL);
				goto out;
			}
			break;
		case 'q': quiet = 1; break;
		case 'h': rc = ling_print_help("tokenize", train_usage); goto out;
		case 'V': ling_print_version("tokenize"); goto out;
		case ':': rc = train_usage_error("an option needs a value: ", argv[optind - 1]); goto out;
		default: rc = train_usage_error("unknown option: ", argv[optind - 1]); goto out;
		}
	}
	if (!opts.vocab_size || !out) {
		rc = train_usage_error("--vocab-size N and --out FILE are required", NULL);
		goto out;
	}
	opts.specials = specials;
	run.text_field = text_field;
	paths[0] = text_field;
	paths[1] = "messages[].content";
	paths[2] = "messages[].content[].text";
	if (tok_train_new(&run.tr, &opts, &err) || ling_jsonl_paths_new(&run.paths, paths, 3, &err)) {
		rc = train_usage_error(err.msg, NULL);
		goto out;
	}
	files = optind < argc ? (const char **)argv + optind : stdin_only;
	nfiles = optind < argc ? argc - optind : 1;
	for (i = 0; i < nfiles && !rc; i++) {
		if (!strcmp(files[i], "-"))
			rc = ling_stdio_require(closed, LING_STDIN_CLOSED, &err);
		else if (ling_same_file(files[i], out))
			rc = ling_err_set(&err, LING_EUSAGE, "--out %s is the input %s: it would be overwritten", out,
					  files[i]);
	}
	if (rc) {
		ling_err_print("tokenize", &err);
		rc = 2;
		goto out;
	}
	for (i = 0; i < nfiles && !rc; i++)
		rc = do_file(&run, files[i], &err);
	if (!rc)
		rc = tok_train_finish(run.tr, &json, &stats, &err);
	if (!rc)
		rc = ling_atomic_write(out, json.data, json.len, &err);
	if (rc && !run.errors.stopped)
		ling_err_print("tokenize", &err);
	if (!quiet && !rc)
		fprintf(stderr, "tokenize: %llu words (%zu distinct), %zu merges, vocabulary %zu of %zu\n",
			(unsigned long long)stats.words, stats.distinct, stats.merges, stats.vocab, opts.vocab_size);
	if (!quiet && rc)
		fprintf(stderr, "tokenize: read %lld, rejected %lld; failed: %s not written\n", run.read, run.errors.count, out);
	else if (!quiet)
		fprintf(stderr, "tokenize: read %lld, wrote %zu, rejected %lld\n", run.read, stats.vocab, run.errors.count);
	rc = rc ? (rc == LING_EUSAGE ? 2 : 1) : 0;
out:
	tok_train_free(run.tr);
	ling_jsonl_paths_free(run.paths);
	ling_buf_release(&run.scratch);
	ling_buf_release(&run.chunk);
	for (i = 0; i < 2; i++) {
		ling_buf_release(&run.texts[i]);
		free(run.lens[i]);
	}
	ling_buf_release(&json);
	free(specials);
	return rc;
}
