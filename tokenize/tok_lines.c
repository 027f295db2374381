/*
 * tok_lines: one line of `tokenize encode|decode` to one output line
 * (tokenize.h, "lines"). The encode --jsonl path finds "text" with
 * ling_jsonl_scan, which builds no values (jansson took a quarter of the
 * time of encode), and leaves odd lines to jansson, which says what is wrong.
 */
#include "tokenize.h"

#include "../common/ling_json.h"
#include "../common/ling_jsonl.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

struct tok_lines {
	struct tok *tok;          /* borrowed */
	int decode, jsonl;
	unsigned encode_flags;
	struct ling_u32s ids;
	struct ling_buf text;
	/* encode --jsonl: "text" found by ling_jsonl_scan (see scan_text) */
	struct ling_jsonl_paths *text_path;
	struct ling_buf scratch, scanned;
	int nscanned;
};

struct tok_lines *tok_lines_new(struct tok *t, unsigned flags, unsigned encode_flags)
{
	struct tok_lines *c = xcalloc(1, sizeof(*c));

	c->tok = t;
	c->decode = !!(flags & TOK_LINES_DECODE);
	c->jsonl = !!(flags & TOK_LINES_JSONL);
	c->encode_flags = encode_flags;
	if (c->jsonl && !c->decode) {
		static const char *const text_key[] = { "text" };
		struct ling_err err;

		if (ling_jsonl_paths_new(&c->text_path, text_key, 1, &err))
			abort(); /* a constant path */
	}
	return c;
}

void tok_lines_free(struct tok_lines *c)
{
	if (!c)
		return;
	ling_u32s_release(&c->ids);
	ling_buf_release(&c->text);
	ling_jsonl_paths_free(c->text_path);
	ling_buf_release(&c->scratch);
	ling_buf_release(&c->scanned);
	free(c);
}

static void write_ids(struct ling_buf *out, const struct ling_u32s *ids, int jsonl)
{
	size_t i;

	if (jsonl)
		ling_buf_adds(out, "{\"ids\":[");
	/* Digits by hand: a printf per id took a third of the time of encode (bench/tokenize.sh). */
	ling_buf_reserve(out, ids->n * 11);
	for (i = 0; i < ids->n; i++) {
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
static long parse_id_list(const char *s, size_t len, struct ling_u32s *ids)
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
		ling_u32s_push(ids, (uint32_t)v);
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
	struct tok_lines *c = ctx;

	(void)path;
	if (type != LING_JSONL_STRING || !at_end) {
		c->nscanned = 2; /* not a string: jansson says what is wrong */
		return;
	}
	c->nscanned++;
	ling_buf_reset(&c->scanned);
	ling_buf_add(&c->scanned, s, n);
}

/*
 * The "text" string of an encode --jsonl record. @return 1 with c->scanned,
 * or 0 when the line is left to parse_object (odd or bad JSON, no "text"
 * string, a NUL character).
 */
static int scan_text(struct tok_lines *c, const char *line, size_t len)
{
	unsigned long present;
	size_t root_keys;

	c->nscanned = 0;
	return ling_jsonl_scan(c->text_path, line, len, &c->scratch, on_text, c, &present, &root_keys) &&
	       c->nscanned == 1;
}

/* Gives a tokenizer error (which has no file or line) the input position. */
static void reposition(struct ling_err *err, const char *name, long lineno, long col, const char *prefix)
{
	char msg[sizeof(err->msg)];

	memcpy(msg, err->msg, sizeof(msg));
	ling_err_at(err, err->code, name, lineno, col, "%s%s", prefix, msg);
}

static int encode_line(struct tok_lines *c, const char *name, long lineno, const char *line, size_t len,
		       struct ling_buf *out, struct ling_err *err)
{
	json_t *obj = NULL, *v;
	int rc = 0;

	if (c->text_path && scan_text(c, line, len)) {
		line = c->scanned.data ? c->scanned.data : "";
		len = c->scanned.len;
	} else if (c->jsonl) {
		if ((rc = parse_object(line, len, name, lineno, &obj, err)))
			return rc;
		v = json_object_get(obj, "text");
		if (!json_is_string(v)) {
			rc = ling_err_at(err, LING_EDATA, name, lineno, 0, "no \"text\" string");
			goto out;
		}
		line = json_string_value(v);
		len = json_string_length(v);
	}
	if ((rc = tok_encode(c->tok, line, len, c->encode_flags, &c->ids, err))) {
		reposition(err, name, lineno, c->jsonl ? 0 : err->col, "");
		goto out;
	}
	write_ids(out, &c->ids, c->jsonl);
out:
	json_decref(obj);
	return rc;
}

/* The ids of a decode line into c->ids. */
static int read_ids(struct tok_lines *c, const char *name, long lineno, const char *line, size_t len,
		    struct ling_err *err)
{
	json_t *obj, *v, *e;
	size_t i;
	long col;
	int rc = 0;

	if (!c->jsonl) {
		if ((col = parse_id_list(line, len, &c->ids)))
			return ling_err_at(err, LING_EDATA, name, lineno, col, "expected token ids separated by spaces");
		return 0;
	}
	if ((rc = parse_object(line, len, name, lineno, &obj, err)))
		return rc;
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
		ling_u32s_push(&c->ids, (uint32_t)json_integer_value(e));
	}
out:
	json_decref(obj);
	return rc;
}

static int decode_line(struct tok_lines *c, const char *name, long lineno, const char *line, size_t len,
		       struct ling_buf *out, struct ling_err *err)
{
	int rc;

	if ((rc = read_ids(c, name, lineno, line, len, err)))
		return rc;
	ling_buf_reset(&c->text);
	if ((rc = tok_decode(c->tok, c->ids.v, c->ids.n, &c->text, err))) {
		char where[32];

		snprintf(where, sizeof(where), "ids[%ld]: ", err->col - 1);
		reposition(err, name, lineno, 0, where);
		return rc;
	}
	if (c->jsonl) {
		/* tok_decode's text is valid UTF-8 (U+FFFD for bad bytes), as jansson required. */
		ling_buf_adds(out, "{\"text\":");
		ling_json_add_str(out, c->text.data ? c->text.data : "", c->text.len, LING_JSON_JANSSON);
		ling_buf_adds(out, "}\n");
	} else {
		ling_buf_add(out, c->text.data ? c->text.data : "", c->text.len);
		ling_buf_addc(out, '\n');
	}
	return 0;
}

int tok_lines_convert(struct tok_lines *c, const char *name, long lineno, const char *line, size_t len,
		      struct ling_buf *out, struct ling_err *err)
{
	c->ids.n = 0;
	return c->decode ? decode_line(c, name, lineno, line, len, out, err)
			 : encode_line(c, name, lineno, line, len, out, err);
}
