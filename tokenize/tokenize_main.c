/*
 * tokenize: text to token ids and back with a Hugging Face tokenizer.json or
 * a tiktoken file (encode, decode: here), datasets (tokenize_build_main.c)
 * and tokenizers (tokenize_train_main.c).
 */
#include "tokenize.h"
#include "tokenize_main.h"

#include "../common/ling_cli.h"
#include "../common/ling_input.h"
#include "../common/ling_main.h"
#include "../common/ling_mem.h"
#include "../common/ling_stdio.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

const char tokenize_usage_text[] =
	"usage: tokenize encode --tokenizer FILE [options] [FILE...]\n"
	"       tokenize decode --tokenizer FILE [options] [FILE...]\n"
	"       tokenize train --vocab-size N --out FILE [options] [FILE...]\n"
	"       tokenize build --tokenizer FILE --out DIR [options] [FILE...]\n"
	"\n"
	"encode: each input line is one text (its newline is not part of it); each output\n"
	"line is its token ids, separated by spaces. decode: each input line is ids\n"
	"separated by spaces or commas; each output line is their text. With --jsonl,\n"
	"encode reads {\"text\": ...} and writes {\"ids\": [...]}, and decode reads\n"
	"{\"ids\": [...]} and writes {\"text\": ...}, so any text survives exactly.\n"
	"With no FILE, or with -, read stdin; gzip and zstd input is decompressed.\n"
	"\n"
	"  -t, --tokenizer=FILE   a Hugging Face tokenizer.json, or a tiktoken rank file\n"
	"                         (a name containing .tiktoken); either may be .zst or .gz\n"
	"      --encoding=NAME    the tiktoken encoding: gpt2, r50k_base, p50k_base,\n"
	"                         cl100k_base, o200k_base (default: from the file name)\n"
	"  -j, --jsonl            JSON Lines in and out\n"
	"  -s, --special          encode: match added and special tokens in the text\n"
	"                         (HF behaviour); by default all text is ordinary text\n"
	"  -e, --max-errors=N     skip up to N bad lines, reporting each (default: 0)\n"
	"  -q, --quiet            no summary line\n"
	"  -h, --help             show this help\n"
	"  -V, --version          show the version\n"
	"\n"
	"build: JSON Lines samples into a dataset directory: per split (train, valid,\n"
	"test) Megatron .bin/.idx token shards, a u8 loss-mask shard beside each, and\n"
	"manifest.json, written last. Chat samples ({\"messages\": ...}) are rendered with\n"
	"the chat template (mask 1 on what the assistant writes), text records\n"
	"({\"text\": ...}) are trained whole. Options -t, --encoding, -e, -q as above, and:\n"
	"  -o, --out=DIR          the dataset directory (created when missing)\n"
	"      --template=NAME    qwen (Qwen3 ChatML, <tool_call>) or ling (Ling 2.0)\n"
	"                         (default: the one whose tokens the tokenizer has)\n"
	"      --split=T,V,E      train,valid,test weights; a sample's split is a hash\n"
	"                         of its \"id\" (default 98,1,1)\n"
	"      --shard-tokens=N   begin a new shard past N tokens (default 100000000)\n"
	"      --append           add to the dataset in DIR; sources it has are skipped\n"
	"      --text-field=F     the text of text records (default: text)\n"
	"      --eod=TOKEN        append TOKEN (say '<|endoftext|>') to text records\n"
	"      --chat-eod=TOKEN   end each chat sample with TOKEN, untrained (default:\n"
	"                         '<|endoftext|>' when the tokenizer has it; none: no token)\n"
	"  -j, --jobs=N           threads (default: the CPUs, at most 8); -j is --jobs in\n"
	"                         build only, and --jsonl in encode and decode\n"
	"\n"
	"train: learn a byte-level BPE tokenizer (256 bytes, the cl100k split, merges of\n"
	"the most frequent pair) from JSON Lines (--text-field, or messages' content) or\n"
	"plain text, and write it as a tokenizer.json (see tokenize train --help).\n"
	"Options -e, -q as above, and:\n"
	"      --vocab-size=N     ids in all: 256 bytes, merged tokens and special tokens\n"
	"      --min-frequency=N  merge only pairs seen at least N times (default: 2)\n"
	"      --special=TOKEN    train: a special token, after the vocabulary (repeatable)\n"
	"  -o, --out=FILE         train: the tokenizer.json to write\n"
	"\n"
	"No BOS or EOS is added. The summary on stderr reads: read N (lines), wrote N,\n"
	"rejected N (bad lines skipped).\n"
	"Exit status: 0 ok, 1 bad input or tokenizer, 2 usage error.\n";

struct run {
	struct tok_lines *lines;
	struct ling_errors errors;
	long long read, wrote;
	long long pending;          /* lines in out, not written yet (wrote counts those that were) */
	struct ling_buf out;
};

static int usage_error(const char *msg)
{
	return ling_usage_error("tokenize", TOKENIZE_SYNOPSIS, msg);
}

/* Writes the lines in run->out. stdout is unbuffered, so a line counts as written when the write returned. */
static int flush_out(struct run *run, struct ling_err *err)
{
	int rc = ling_stdout_write(run->out.data, run->out.len, err);

	if (!rc)
		run->wrote += run->pending;
	run->pending = 0;
	ling_buf_reset(&run->out);
	return rc;
}

/* @return 0, or a negative ling_errc that ends the run (already printed when it was a bad line). */
static int do_file(struct run *run, const char *path, struct ling_err *err)
{
	struct ling_input *in;
	const char *line;
	size_t len;
	struct ling_err ferr;
	long lineno = 0;
	int rc;

	if ((rc = ling_input_open(&in, path, err)))
		return rc;
	while ((rc = ling_input_getline(in, &line, &len, err)) == 1) {
		lineno++;
		run->read++;
		if (tok_lines_convert(run->lines, ling_input_name(in), lineno, line, len, &run->out, err)) {
			if (ling_errors_report(&run->errors, err)) {
				rc = LING_EDATA;
				break;
			}
			ling_err_clear(err);
			continue;
		}
		run->pending++;
		if (run->out.len > (1 << 16) && (rc = flush_out(run, err)))
			break;
	}
	ling_input_close(in);
	if (rc > 0)
		rc = 0;
	/* What was converted before a bad line still goes out. */
	if (!rc)
		rc = flush_out(run, err);
	else if (run->out.len && flush_out(run, &ferr))
		ling_err_print("tokenize", &ferr);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "tokenizer", required_argument, NULL, 't' }, { "encoding", required_argument, NULL, 'E' },
		{ "jsonl", no_argument, NULL, 'j' },           { "special", no_argument, NULL, 's' },
		{ "max-errors", required_argument, NULL, 'e' }, { "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },            { "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *tok_path = NULL, *encoding = NULL, *stdin_only[] = { "-" }, **files;
	struct tok *tok = NULL;
	struct run run;
	struct ling_err err;
	unsigned flags = 0, encode_flags = 0;
	int c, i, nfiles, quiet = 0, rc = 0, closed = ling_stdio_init();

	if (argc > 1 && !strcmp(argv[1], "build"))
		return tokenize_build_main(argc, argv, closed);
	if (argc > 1 && !strcmp(argv[1], "train"))
		return tokenize_train_main(argc - 1, argv + 1, closed);
	memset(&run, 0, sizeof(run));
	ling_errors_init(&run.errors, "tokenize");
	ling_err_clear(&err);
	while ((c = getopt_long(argc, argv, "t:jse:qhV", options, NULL)) != -1) {
		switch (c) {
		case 't': tok_path = optarg; break;
		case 'E': encoding = optarg; break;
		case 'j': flags |= TOK_LINES_JSONL; break;
		case 's': encode_flags |= TOK_ENCODE_SPECIAL; break;
		case 'e':
			if (ling_errors_parse_max(&run.errors, optarg))
				return usage_error("--max-errors needs a number >= 0");
			break;
		case 'q': quiet = 1; break;
		case 'h': return ling_print_help("tokenize", tokenize_usage_text);
		case 'V': return ling_print_version_checked("tokenize");
		default: return usage_error(NULL);
		}
	}
	if (optind >= argc)
		return usage_error("a subcommand is required: encode or decode");
	if (!strcmp(argv[optind], "decode"))
		flags |= TOK_LINES_DECODE;
	else if (strcmp(argv[optind], "encode"))
		return usage_error("unknown subcommand (encode, decode)");
	optind++; /* getopt_long has moved the options after the subcommand before it */
	if (!tok_path)
		return usage_error("--tokenizer FILE is required");
	if ((flags & TOK_LINES_DECODE) && (encode_flags & TOK_ENCODE_SPECIAL))
		return usage_error("--special is for encode");
	if (encoding && !tok_is_tiktoken(tok_path))
		return usage_error("--encoding is for tiktoken files");
	files = optind < argc ? (const char **)argv + optind : stdin_only;
	nfiles = optind < argc ? argc - optind : 1;
	if (ling_stdio_require(closed, LING_STDOUT_CLOSED | (ling_reads_stdin(files, (size_t)nfiles) ? LING_STDIN_CLOSED : 0),
			       &err)) {
		ling_err_print("tokenize", &err);
		return ling_err_exit_code(&err);
	}
	/* Our own 64 KiB blocks are the buffer: a block is written when fwrite returns (see flush_out). */
	setvbuf(stdout, NULL, _IONBF, 0);
	if ((rc = tok_load(&tok, tok_path, encoding, &err))) {
		ling_err_print("tokenize", &err);
		return ling_err_exit_code(&err);
	}
	run.lines = tok_lines_new(tok, flags, encode_flags);
	for (i = 0; i < nfiles && !rc; i++)
		rc = do_file(&run, files[i], &err);
	if (!rc)
		rc = ling_stdout_finish(&err);
	if (rc && !run.errors.stopped)
		ling_err_print("tokenize", &err);
	if (!quiet)
		fprintf(stderr, "tokenize: read %lld, wrote %lld, rejected %lld%s\n", run.read, run.wrote,
			run.errors.count, rc ? "; stopped by the error above" : "");
	tok_lines_free(run.lines);
	tok_free(tok);
	ling_buf_release(&run.out);
	return rc ? (rc == LING_EUSAGE ? 2 : 1) : 0;
}
