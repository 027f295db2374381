/* tokenize: text to token ids and back with a Hugging Face tokenizer.json or a tiktoken file. */
#include "tok.h"
#include "tokenize_train_main.h"
#include "tok_dataset.h"

#include "../common/ling_cli.h"
#include "../common/ling_input.h"
#include "../common/ling_jsonl.h"
#include <jansson.h>
#include "../common/ling_mem.h"
#include "../common/ling_stdio.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

static const char usage_text[] =
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
	struct tok *tok;
	int decode, jsonl;
	unsigned flags;
	long long max_errors, errors, read, wrote;
	long long pending;          /* lines in out, not written yet (wrote counts those that were) */
	struct tok_ids ids;
	struct ling_buf out, text;
	/* encode --jsonl: "text" found by ling_jsonl_scan (see scan_text) */
	struct ling_jsonl_paths *text_path;
	struct ling_buf scratch, scanned;
	int nscanned;
};

static int usage_error(const char *msg)
{
	if (msg)
		fprintf(stderr, "tokenize: %s\n", msg);
	fprintf(stderr, "usage: tokenize encode|decode|build --tokenizer FILE [options] [FILE...] (see --help)\n");
	return 2;
}

static void write_ids(struct ling_buf *out, const struct tok_ids *ids, int jsonl)
{
	size_t i;

	if (jsonl)
		ling_buf_adds(out, "{\"ids\":[");
	/* Digits by hand: a printf per id took a third of the time of encode (bench/tokenize.sh). */
	ling_buf_reserve(out, ids->len * 11);
	for (i = 0; i < ids->len; i++) {
		char digits[10], *p = digits + sizeof(digits);
		uint32_t v = ids->v[i];

		do
			*--p = (char)('0' + v % 10);
		while ((v /= 10));
		if (i)
			out->data[out->len++] = jsonl ? ',' : ' ';
		memcpy(out->data + out->len, p, (size_t)(digits + sizeof(digits) - p));
		out->len += (size_t)(digits + sizeof(digits) - p);
	}
	if (out->data)
		out->data[out->len] = '\0';
	ling_buf_adds(out, jsonl ? "]}\n" : "\n");
}

/* Parses "1 2 3" or "1,2,3" into ids. @return 0, or the 1-based column of the bad character. */
static long parse_id_list(const char *s, size_t len, struct tok_ids *ids)
{
	size_t i = 0;

	while (i < len) {
		unsigned long long v = 0;
		size_t start;

		if (s[i] == ' ' || s[i] == ',' || s[i] == '\t' || s[i] == '\r') {
			i++;
			continue;
		}
		start = i;
		while (i < len && s[i] >= '0' && s[i] <= '9' && v < (1ULL << 32))
			v = v * 10 + (unsigned long long)(s[i++] - '0');
		if (i == start || v >= (1ULL << 32) || (i < len && s[i] != ' ' && s[i] != ',' && s[i] != '\t' && s[i] != '\r'))
			return (long)(i == start ? start : i) + 1;
		tok_ids_push(ids, (uint32_t)v);
	}
	return 0;
}

/*
 * Parses a JSONL record. Not ling_jsonl_parse: a text may hold U+0000 (a NUL
 * byte is a token like any other), which that reader rejects on purpose.
 */
static int parse_object(const char *line, size_t len, const char *name, long lineno, json_t **out,
			struct ling_err *err)
{
	json_error_t jerr;

	*out = json_loadb(line, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
	if (!*out)
		return ling_err_at(err, LING_EDATA, name, lineno, jerr.position + 1, "bad JSON: %s", jerr.text);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return ling_err_at(err, LING_EDATA, name, lineno, 1, "not a JSON object");
	}
	return 0;
}

static void on_text(void *ctx, size_t path, enum ling_jsonl_piece_type type, int at_end, const char *s, size_t n)
{
	struct run *run = ctx;

	(void)path;
	if (type != LING_JSONL_STRING || !at_end) {
		run->nscanned = 2; /* not a string: jansson says what is wrong */
		return;
	}
	run->nscanned++;
	ling_buf_reset(&run->scanned);
	ling_buf_add(&run->scanned, s, n);
}

/*
 * The "text" string of an encode --jsonl record, by the scanner that builds no
 * values (jansson took a quarter of the time of encode). @return 1 with
 * run->scanned, or 0 when the line is left to parse_object (odd or bad JSON,
 * no "text" string, a NUL character).
 */
static int scan_text(struct run *run, const char *line, size_t len)
{
	unsigned long present;
	size_t root_keys;

	run->nscanned = 0;
	return ling_jsonl_scan(run->text_path, line, len, &run->scratch, on_text, run, &present, &root_keys) &&
	       run->nscanned == 1;
}

/* Gives a library error (which has no file or line) the input position. */
static void reposition(struct ling_err *err, const char *name, long lineno, long col, const char *prefix)
{
	char msg[sizeof(err->msg)];

	memcpy(msg, err->msg, sizeof(msg));
	ling_err_at(err, err->code, name, lineno, col, "%s%s", prefix, msg);
}

/* Turns one input line into one output line in run->out. @return 0 or a negative ling_errc with err. */
static int do_line(struct run *run, const char *name, long lineno, const char *line, size_t len,
		   struct ling_err *err)
{
	json_t *obj = NULL, *v;
	int rc = 0;
	long col;

	run->ids.len = 0;
	if (run->text_path && scan_text(run, line, len)) {
		line = run->scanned.data ? run->scanned.data : "";
		len = run->scanned.len;
	} else if (run->jsonl && (rc = parse_object(line, len, name, lineno, &obj, err))) {
		return rc;
	}
	if (!run->decode) {
		if (obj) {
			v = json_object_get(obj, "text");
			if (!json_is_string(v)) {
				rc = ling_err_at(err, LING_EDATA, name, lineno, 0, "no \"text\" string");
				goto out;
			}
			line = json_string_value(v);
			len = json_string_length(v);
		}
		if ((rc = tok_encode(run->tok, line, len, run->flags, &run->ids, err))) {
			reposition(err, name, lineno, run->jsonl ? 0 : err->col, "");
			goto out;
		}
		write_ids(&run->out, &run->ids, run->jsonl);
		goto out;
	}
	if (run->jsonl) {
		json_t *e;
		size_t i;

		v = json_object_get(obj, "ids");
		if (!json_is_array(v)) {
			rc = ling_err_at(err, LING_EDATA, name, lineno, 0, "no \"ids\" array");
			goto out;
		}
		json_array_foreach(v, i, e) {
			if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) > UINT32_MAX) {
				rc = ling_err_at(err, LING_EDATA, name, lineno, 0, "ids[%zu] is not a token id", i);
				goto out;
			}
			tok_ids_push(&run->ids, (uint32_t)json_integer_value(e));
		}
	} else if ((col = parse_id_list(line, len, &run->ids))) {
		rc = ling_err_at(err, LING_EDATA, name, lineno, col, "expected token ids separated by spaces");
		goto out;
	}
	ling_buf_reset(&run->text);
	if ((rc = tok_decode(run->tok, run->ids.v, run->ids.len, &run->text, err))) {
		char where[32];

		snprintf(where, sizeof(where), "ids[%ld]: ", err->col - 1);
		reposition(err, name, lineno, 0, where);
		goto out;
	}
	if (run->jsonl) {
		json_t *o = json_object();

		json_object_set_new(o, "text", json_stringn(run->text.data ? run->text.data : "", run->text.len));
		rc = ling_jsonl_dump(o, &run->out, err);
		json_decref(o);
	} else {
		ling_buf_add(&run->out, run->text.data ? run->text.data : "", run->text.len);
		ling_buf_addc(&run->out, '\n');
	}
out:
	json_decref(obj);
	return rc;
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
static int do_file(struct run *run, const char *path, int *stopped, struct ling_err *err)
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
		if (do_line(run, ling_input_name(in), lineno, line, len, err)) {
			ling_err_print("tokenize", err);
			if (++run->errors > run->max_errors) {
				*stopped = 1;
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

static int is_tiktoken(const char *path)
{
	return strstr(path, ".tiktoken") != NULL;
}

/* Whether the inputs name stdin. */
static int reads_stdin(const char *const *files, size_t nfiles)
{
	size_t i;

	for (i = 0; i < nfiles; i++)
		if (!strcmp(files[i], "-"))
			return 1;
	return 0;
}

/* Prints --help through the checked writes. @return the exit status. */
static int print_help(void)
{
	struct ling_err err;

	ling_err_clear(&err);
	if (ling_stdout_write(usage_text, strlen(usage_text), &err) || ling_stdout_finish(&err)) {
		ling_err_print("tokenize", &err);
		return 1;
	}
	return 0;
}

/* ---- tokenize build ---- */

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

/* Parses "98,1,1" into w. @return 0 or -1. */
static int parse_split(const char *s, unsigned *w)
{
	char part[24];
	int k;

	for (k = 0; k < TOK_SPLIT_COUNT; k++) {
		const char *end = strchr(s, ',');
		size_t n = end ? (size_t)(end - s) : strlen(s);
		long long v;

		if ((end == NULL) != (k == TOK_SPLIT_COUNT - 1) || n >= sizeof(part))
			return -1;
		memcpy(part, s, n);
		part[n] = 0;
		if (ling_parse_long(part, 0, 1000000, &v))
			return -1;
		w[k] = (unsigned)v;
		s = end ? end + 1 : s + n;
	}
	return 0;
}

/* tokenize build: argv[1] is "build"; closed: what ling_stdio_init() returned. */
static int build_main(int argc, char **argv, int closed)
{
	static const struct option options[] = {
		{ "tokenizer", required_argument, NULL, 't' },  { "encoding", required_argument, NULL, 'E' },
		{ "out", required_argument, NULL, 'o' },        { "template", required_argument, NULL, 'T' },
		{ "split", required_argument, NULL, 'S' },      { "shard-tokens", required_argument, NULL, 'N' },
		{ "append", no_argument, NULL, 'A' },           { "text-field", required_argument, NULL, 'F' },
		{ "eod", required_argument, NULL, 'D' },        { "jobs", required_argument, NULL, 'j' },
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
			if (parse_split(optarg, split))
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
		case 'h': return print_help();
		case 'V': ling_print_version("tokenize"); return 0;
		default: return usage_error(NULL);
		}
	}
	if (!o.tokenizer)
		return usage_error("--tokenizer FILE is required");
	if (!o.dir)
		return usage_error("build needs --out DIR");
	if (o.encoding && !strstr(o.tokenizer, ".tiktoken"))
		return usage_error("--encoding is for tiktoken files");
	o.files = optind < argc ? (const char *const *)argv + optind : stdin_only;
	o.nfiles = optind < argc ? (size_t)(argc - optind) : 1;
	if (ling_stdio_require(closed, reads_stdin(o.files, o.nfiles) ? LING_STDIN_CLOSED : 0, &err)) {
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
			"tokenize: read %lld, wrote %lld, rejected %lld; %llu tokens (%llu trained) in %u shards; "
			"documents: train %lld, valid %lld, test %lld\n",
			st.read, st.written, st.rejected, (unsigned long long)st.tokens, (unsigned long long)st.trained,
			st.shards, st.docs[TOK_SPLIT_TRAIN], st.docs[TOK_SPLIT_VALID], st.docs[TOK_SPLIT_TEST]);
	return rc ? ling_err_exit_code(&err) : 0;
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
	struct run run;
	struct ling_err err;
	int c, i, nfiles, quiet = 0, rc = 0, stopped = 0, closed = ling_stdio_init();

	if (argc > 1 && !strcmp(argv[1], "build"))
		return build_main(argc, argv, closed);
	if (argc > 1 && !strcmp(argv[1], "train"))
		return tokenize_train_main(argc - 1, argv + 1, closed);
	memset(&run, 0, sizeof(run));
	ling_err_clear(&err);
	while ((c = getopt_long(argc, argv, "t:jse:qhV", options, NULL)) != -1) {
		switch (c) {
		case 't': tok_path = optarg; break;
		case 'E': encoding = optarg; break;
		case 'j': run.jsonl = 1; break;
		case 's': run.flags |= TOK_ENCODE_SPECIAL; break;
		case 'e':
			if (ling_parse_long(optarg, 0, 1LL << 62, &run.max_errors))
				return usage_error("--max-errors needs a number >= 0");
			break;
		case 'q': quiet = 1; break;
		case 'h': return print_help();
		case 'V': ling_print_version("tokenize"); return 0;
		default: return usage_error(NULL);
		}
	}
	if (optind >= argc)
		return usage_error("a subcommand is required: encode or decode");
	if (!strcmp(argv[optind], "decode"))
		run.decode = 1;
	else if (strcmp(argv[optind], "encode"))
		return usage_error("unknown subcommand (encode, decode)");
	optind++; /* getopt_long has moved the options after the subcommand before it */
	if (!tok_path)
		return usage_error("--tokenizer FILE is required");
	if (run.decode && (run.flags & TOK_ENCODE_SPECIAL))
		return usage_error("--special is for encode");
	if (encoding && !is_tiktoken(tok_path))
		return usage_error("--encoding is for tiktoken files");
	files = optind < argc ? (const char **)argv + optind : stdin_only;
	nfiles = optind < argc ? argc - optind : 1;
	if (ling_stdio_require(closed, LING_STDOUT_CLOSED | (reads_stdin(files, (size_t)nfiles) ? LING_STDIN_CLOSED : 0),
			       &err)) {
		ling_err_print("tokenize", &err);
		return ling_err_exit_code(&err);
	}
	/* Our own 64 KiB blocks are the buffer: a block is written when fwrite returns (see flush_out). */
	setvbuf(stdout, NULL, _IONBF, 0);
	rc = is_tiktoken(tok_path) ? tok_load_tiktoken(&run.tok, tok_path, encoding, &err)
				   : tok_load_hf(&run.tok, tok_path, &err);
	if (rc) {
		ling_err_print("tokenize", &err);
		return ling_err_exit_code(&err);
	}
	if (run.jsonl && !run.decode) {
		static const char *const text_key[] = { "text" };

		if (ling_jsonl_paths_new(&run.text_path, text_key, 1, &err))
			abort(); /* a constant path */
	}
	for (i = 0; i < nfiles && !rc; i++)
		rc = do_file(&run, files[i], &stopped, &err);
	if (!rc)
		rc = ling_stdout_finish(&err);
	if (rc && !stopped)
		ling_err_print("tokenize", &err);
	if (!quiet)
		fprintf(stderr, "tokenize: read %lld, wrote %lld, rejected %lld%s\n", run.read, run.wrote, run.errors,
			rc ? "; stopped by the error above" : "");
	tok_free(run.tok);
	tok_ids_release(&run.ids);
	ling_buf_release(&run.out);
	ling_buf_release(&run.text);
	ling_jsonl_paths_free(run.text_path);
	ling_buf_release(&run.scratch);
	ling_buf_release(&run.scanned);
	return rc ? (rc == LING_EUSAGE ? 2 : 1) : 0;
}
