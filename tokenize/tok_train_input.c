/*
 * tok_train_input: a training corpus read into a struct tok_train
 * (tokenize.h, "training"): JSON Lines records or plain text, decided per
 * file by its first non-blank line.
 */
#include "tokenize.h"
#include "tok_chat_internal.h"

#include "../common/ling_input.h"
#include "../common/ling_jsonl.h"
#include "../common/ling_mem.h"
#include "../common/ling_utf8.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

/* Plain text goes to the trainer in chunks of about this size, cut before a line that starts a word. */
#define CHUNK_BYTES (1 << 20)

enum mode { MODE_UNKNOWN, MODE_JSONL, MODE_TEXT };

struct tok_train_reader {
	struct tok_train *tr;
	struct ling_jsonl_paths *paths;
	struct ling_buf scratch, chunk;
	/* the strings of one record: the text field's, and the messages' */
	struct ling_buf texts[2];
	size_t *lens[2], nlens[2], caplens[2];
	int nontext;
	const char *text_field;
};

static void on_piece(void *ctx, size_t path, enum ling_jsonl_piece_type type, int at_end, const char *s, size_t n)
{
	struct tok_train_reader *rd = ctx;
	size_t k = path == 0 ? 0 : 1;

	if (type != LING_JSONL_STRING || !at_end) {
		if (path == 0)
			rd->nontext = 1;
		return;
	}
	ling_buf_add(&rd->texts[k], s, n);
	if (rd->nlens[k] == rd->caplens[k])
		rd->lens[k] = xgrow(rd->lens[k], &rd->caplens[k], rd->nlens[k] + 1, sizeof(*rd->lens[k]));
	rd->lens[k][rd->nlens[k]++] = n;
}

/*
 * The rest of what a chat template shows the model of a sample: each offered
 * tool as the template writes it (tok_chat_tojson) and each call's name and
 * arguments, so that tool definitions and calls get tokens of their own.
 */
static int add_tools_and_calls(struct tok_train *tr, const char *line, size_t len, struct ling_err *err)
{
	json_t *obj = json_loadb(line, len, JSON_ALLOW_NUL, NULL), *v, *m, *call;
	struct ling_buf text = LING_BUF_INIT;
	size_t i, j;
	int rc = 0;

	json_array_foreach(json_object_get(obj, "tools"), i, v) {
		ling_buf_reset(&text);
		tok_chat_tojson(v, &text);
		if ((rc = tok_train_add(tr, text.data, text.len, err)))
			goto out;
	}
	json_array_foreach(json_object_get(obj, "messages"), i, m) {
		json_array_foreach(json_object_get(m, "tool_calls"), j, call) {
			const json_t *fn = json_object_get(call, "function");
			const json_t *parts[2] = { json_object_get(fn, "name"), json_object_get(fn, "arguments") };

			for (int k = 0; k < 2 && !rc; k++)
				if (json_is_string(parts[k]))
					rc = tok_train_add(tr, json_string_value(parts[k]), json_string_length(parts[k]), err);
			if (rc)
				goto out;
		}
	}
out:
	ling_buf_release(&text);
	json_decref(obj);
	return rc;
}

/* Counts the words of one JSONL record: its text field, or else its messages' contents (with tools and calls). */
static int do_record(struct tok_train_reader *rd, const char *name, long lineno, const char *line, size_t len,
		     struct ling_err *err)
{
	unsigned long present;
	size_t root_keys, i, off, k;
	json_t *obj = NULL;
	int rc = 0;

	for (k = 0; k < 2; k++) {
		ling_buf_reset(&rd->texts[k]);
		rd->nlens[k] = 0;
	}
	rd->nontext = 0;
	if (!ling_jsonl_scan(rd->paths, line, len, &rd->scratch, on_piece, rd, &present, &root_keys)) {
		for (k = 0; k < 2; k++) {
			ling_buf_reset(&rd->texts[k]);
			rd->nlens[k] = 0;
		}
		rd->nontext = 0;
		if ((rc = ling_jsonl_parse(line, len, name, lineno, LING_JSONL_OBJECT, &obj, err)))
			return rc;
		ling_jsonl_walk(obj, rd->paths, on_piece, rd);
		json_decref(obj);
	}
	k = rd->nlens[0] ? 0 : 1;
	if (rd->nontext || !rd->nlens[k])
		return ling_err_at(err, LING_EDATA, name, lineno, 0, "no text: a \"%s\" string or messages with content",
				   rd->text_field);
	for (i = 0, off = 0; i < rd->nlens[k] && !rc; off += rd->lens[k][i++])
		rc = tok_train_add(rd->tr, rd->texts[k].data + off, rd->lens[k][i], err);
	if (!rc && k == 1)
		rc = add_tools_and_calls(rd->tr, line, len, err);
	if (rc) {
		char msg[sizeof(err->msg)];

		memcpy(msg, err->msg, sizeof(msg));
		return ling_err_at(err, rc, name, lineno, 0, "%s", msg);
	}
	return 0;
}

static int flush_chunk(struct tok_train_reader *rd, struct ling_err *err)
{
	int rc = tok_train_add(rd->tr, rd->chunk.data ? rd->chunk.data : "", rd->chunk.len, err);

	ling_buf_reset(&rd->chunk);
	return rc;
}

/* Adds one line of plain text, with its newline. */
static int do_text_line(struct tok_train_reader *rd, const char *name, long lineno, const char *line, size_t len,
			struct ling_err *err)
{
	size_t ok = ling_utf8_valid_prefix(line, len);
	int rc;

	if (ok != len)
		return ling_err_at(err, LING_EDATA, name, lineno, (long)ok + 1, "invalid UTF-8");
	/* A split never joins a newline with what follows unless that is white space. */
	if (rd->chunk.len >= CHUNK_BYTES && len && line[0] != ' ' && line[0] != '\t' && line[0] != '\r' &&
	    (rc = flush_chunk(rd, err)))
		return rc;
	ling_buf_add(&rd->chunk, line, len);
	ling_buf_addc(&rd->chunk, '\n');
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

int tok_train_read_file(struct tok_train_reader *rd, const char *path,
			int (*on_bad)(void *ctx, const struct ling_err *err), void *ctx, long long *read,
			struct ling_err *err)
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
		(*read)++;
		rc = mode == MODE_JSONL ? do_record(rd, ling_input_name(in), lineno, line, len, err)
					: do_text_line(rd, ling_input_name(in), lineno, line, len, err);
		if (rc == LING_EDATA && err->line) {
			if (on_bad(ctx, err))
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
	if (!rc && rd->chunk.len)
		rc = flush_chunk(rd, err);
	return rc;
}

int tok_train_reader_new(struct tok_train_reader **out, struct tok_train *tr, const char *text_field,
			 struct ling_err *err)
{
	struct tok_train_reader *rd = xcalloc(1, sizeof(*rd));
	const char *paths[3];
	int rc;

	rd->tr = tr;
	rd->text_field = text_field;
	paths[0] = text_field;
	paths[1] = "messages[].content";
	paths[2] = "messages[].content[].text";
	if ((rc = ling_jsonl_paths_new(&rd->paths, paths, 3, err))) {
		free(rd);
		*out = NULL;
		return rc;
	}
	*out = rd;
	return 0;
}

void tok_train_reader_free(struct tok_train_reader *rd)
{
	size_t k;

	if (!rd)
		return;
	ling_jsonl_paths_free(rd->paths);
	ling_buf_release(&rd->scratch);
	ling_buf_release(&rd->chunk);
	for (k = 0; k < 2; k++) {
		ling_buf_release(&rd->texts[k]);
		free(rd->lens[k]);
	}
	free(rd);
}
