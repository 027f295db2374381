/*
 * eval_parse: the tool calls in an assistant message, read back from the
 * text the chat templates write (tokenize/tok_chat.c emit_tool_calls): for
 * "qwen" and "ling" alike, after the content,
 *
 *	<tool_call>\n{"name": "NAME", "arguments": ARGS}\n</tool_call>
 *
 * one block per call, "\n" between blocks. The text is a model's output,
 * so anything may come instead: blocks without their closing tag, tags
 * inside blocks, stray closing tags, JSON that is not a call, arguments
 * that are a JSON string holding the object (the OpenAI wire form), bytes
 * that are not UTF-8, NULs. Every one of those becomes a call with its
 * error set, never a failure: the agent answers it with an error result, as
 * a runtime such as vLLM's Hermes parser would leave it unexecuted.
 *
 * Lenient where it costs nothing: whitespace around the JSON is ignored,
 * keys other than "name" and "arguments" are ignored. Strict where a guess
 * would be wrong: duplicate keys (which value did the model mean?), a
 * missing "arguments", arguments that are not an object.
 */
#include "eval.h"

#include "../common/ling_utf8.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

static const char open_tag[] = "<tool_call>";
static const char close_tag[] = "</tool_call>";
#define OPEN_LEN (sizeof(open_tag) - 1)
#define CLOSE_LEN (sizeof(close_tag) - 1)

/* The first occurrence of tag in s[from..n), or n. */
static size_t find(const char *s, size_t n, size_t from, const char *tag, size_t tag_len)
{
	const char *at = from < n ? memmem(s + from, n - from, tag, tag_len) : NULL;

	return at ? (size_t)(at - s) : n;
}

/*
 * Appends s[0..n) as valid UTF-8 without NUL: each byte that does not start
 * a valid sequence, and each NUL, becomes U+FFFD (what tok_decode does with
 * invalid bytes), so the results are C strings that any JSON writer takes.
 */
static void add_clean(struct ling_buf *b, const char *s, size_t n)
{
	while (n) {
		size_t ok = ling_utf8_valid_prefix(s, n);
		const char *nul = ok ? memchr(s, '\0', ok) : NULL;

		if (nul)
			ok = (size_t)(nul - s);
		ling_buf_add(b, s, ok);
		if (ok == n)
			break;
		ling_buf_adds(b, "\xEF\xBF\xBD");
		s += ok + 1;
		n -= ok + 1;
	}
}

/* The buffer's contents as a malloc'ed C string ("" when empty); b is left empty. */
static char *take(struct ling_buf *b)
{
	char *s = b->data ? b->data : xstrdup("");

	ling_buf_init(b);
	return s;
}

static char *clean_dup(const char *s, size_t n)
{
	struct ling_buf b = LING_BUF_INIT;

	add_clean(&b, s, n);
	return take(&b);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static struct eval_call *new_call(struct eval_calls *out, size_t *cap)
{
	struct eval_call *c;

	out->v = xgrow(out->v, cap, out->n + 1, sizeof(*out->v));
	c = &out->v[out->n++];
	c->name = c->arguments = c->error = NULL;
	return c;
}

static void set_error(struct eval_call *c, const char *what, const char *detail)
{
	struct ling_buf b = LING_BUF_INIT;

	ling_buf_adds(&b, what);
	if (detail) {
		ling_buf_adds(&b, ": ");
		add_clean(&b, detail, strlen(detail));
	}
	c->error = take(&b);
}

/* Compact JSON text of an object (jansson's JSON_COMPACT, kg2samples' form of arguments). */
static char *dump_compact(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT);

	if (!s)
		abort(); /* jansson fails here only when out of memory */
	return s;
}

/* The arguments of a call: an object, or a string that holds one. NULL with the error set otherwise. */
static char *read_arguments(const json_t *args, struct eval_call *c)
{
	json_error_t jerr;
	json_t *inner;
	char *s;

	if (!args) {
		set_error(c, "the call has no \"arguments\"", NULL);
		return NULL;
	}
	if (json_is_object(args))
		return dump_compact(args);
	if (!json_is_string(args)) {
		set_error(c, "\"arguments\" is not a JSON object", NULL);
		return NULL;
	}
	inner = json_loadb(json_string_value(args), json_string_length(args), JSON_REJECT_DUPLICATES, &jerr);
	if (!inner) {
		set_error(c, "\"arguments\" is a string that is not JSON", jerr.text);
		return NULL;
	}
	s = json_is_object(inner) ? dump_compact(inner) : NULL;
	if (!s)
		set_error(c, "\"arguments\" is a string that does not hold a JSON object", NULL);
	json_decref(inner);
	return s;
}

/* One block's body (between the tags) into c. */
static void read_block(const char *body, size_t n, struct eval_call *c)
{
	json_error_t jerr;
	json_t *v, *name;

	while (n && is_space(*body)) {
		body++;
		n--;
	}
	while (n && is_space(body[n - 1]))
		n--;
	v = json_loadb(body, n, JSON_REJECT_DUPLICATES, &jerr);
	if (!v) {
		set_error(c, "the <tool_call> block is not JSON", jerr.text);
		return;
	}
	if (!json_is_object(v)) {
		set_error(c, "the <tool_call> block is not a JSON object", NULL);
		goto out;
	}
	name = json_object_get(v, "name");
	if (!json_is_string(name) || !json_string_length(name)) {
		set_error(c, "the call has no \"name\" string", NULL);
		goto out;
	}
	/* jansson has checked the UTF-8 and, without JSON_ALLOW_NUL, refused \u0000. */
	c->name = xstrdup(json_string_value(name));
	c->arguments = read_arguments(json_object_get(v, "arguments"), c);
out:
	json_decref(v);
}

/*
 * Where the message proper starts: after the last "</think>", as the
 * templates split reasoning from content (tok_chat.c split_reasoning) and
 * as a reasoning parser runs before the tool-call parser in vLLM. A block
 * inside the reasoning is thought, not a call.
 */
static size_t after_reasoning(const char *s, size_t n)
{
	static const char end[] = "</think>";
	size_t i;

	for (i = n >= sizeof(end) - 1 ? n - (sizeof(end) - 1) + 1 : 0; i-- > 0;)
		if (!memcmp(s + i, end, sizeof(end) - 1))
			return i + sizeof(end) - 1;
	return 0;
}

static char *trimmed(const struct ling_buf *b)
{
	const char *s = b->data ? b->data : "";
	size_t n = b->len;

	while (n && is_space(*s)) {
		s++;
		n--;
	}
	while (n && is_space(s[n - 1]))
		n--;
	return clean_dup(s, n);
}

void eval_parse_calls(const char *template_name, const char *text, size_t len, struct eval_calls *out)
{
	struct ling_buf content = LING_BUF_INIT;
	size_t pos = after_reasoning(text, len), cap = 0;

	/* Both templates write the same blocks (tok_chat.c); an unknown name is read alike. */
	(void)template_name;
	out->v = NULL;
	out->n = 0;
	while (pos < len) {
		size_t open = find(text, len, pos, open_tag, OPEN_LEN);
		size_t close = find(text, len, pos, close_tag, CLOSE_LEN);
		size_t body, end, next;

		if (close < open) {
			ling_buf_add(&content, text + pos, close - pos);
			set_error(new_call(out, &cap), "a </tool_call> without its <tool_call>", NULL);
			pos = close + CLOSE_LEN;
			continue;
		}
		ling_buf_add(&content, text + pos, open - pos);
		if (open == len)
			break;
		body = open + OPEN_LEN;
		end = find(text, len, body, close_tag, CLOSE_LEN);
		next = find(text, len, body, open_tag, OPEN_LEN);
		if (next < end) {
			set_error(new_call(out, &cap), "a <tool_call> block not closed before the next <tool_call>", NULL);
			pos = next;
		} else if (end == len) {
			set_error(new_call(out, &cap), "a <tool_call> block without its </tool_call>", NULL);
			pos = len;
		} else {
			read_block(text + body, end - body, new_call(out, &cap));
			pos = end + CLOSE_LEN;
		}
	}
	out->content = trimmed(&content);
	ling_buf_release(&content);
}

void eval_calls_free(struct eval_calls *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++) {
		free(c->v[i].name);
		free(c->v[i].arguments);
		free(c->v[i].error);
	}
	free(c->v);
	free(c->content);
	c->v = NULL;
	c->n = 0;
	c->content = NULL;
}
