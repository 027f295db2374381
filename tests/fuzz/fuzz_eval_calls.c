/*
 * libFuzzer target: eval_parse_calls (eval/eval_parse.c), the reader of the
 * tool calls in a model's output. The first input byte picks the template
 * name ("qwen", "ling", NULL), the rest is the text. Whatever the text,
 * the result must keep the contract of eval.h, or the target aborts:
 *   - content, and every name, arguments and error, is a C string of valid
 *     UTF-8 (the parser turns NUL and bad bytes into U+FFFD);
 *   - a call is either well formed (name and arguments set, no error) or
 *     malformed (error set, arguments NULL);
 *   - arguments are the compact JSON text of an object;
 *   - the well-formed calls, written back as the templates write them
 *     (tokenize/tok_chat.c emit_tool_calls) and read again, are the same
 *     calls with no error.
 * Run by tests/t1900-fuzz.sh.
 */
#include "common/ling_mem.h"
#include "common/ling_utf8.h"
#include "eval/eval.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const char *s)
{
	size_t n;

	if (!s)
		abort();
	n = strlen(s);
	if (ling_utf8_valid_prefix(s, n) != n)
		abort();
}

static void check_arguments(const char *args)
{
	json_error_t jerr;
	json_t *v = json_loads(args, JSON_REJECT_DUPLICATES, &jerr);
	char *again;

	if (!v || !json_is_object(v))
		abort();
	again = json_dumps(v, JSON_COMPACT);
	if (!again || strcmp(again, args))
		abort();
	free(again);
	json_decref(v);
}

/* The well-formed calls of c, as the templates render them, read back. */
static void check_round_trip(const struct eval_calls *c, const char *tpl)
{
	struct ling_buf text = LING_BUF_INIT;
	struct eval_calls again;
	size_t i, k = 0;

	for (i = 0; i < c->n; i++) {
		if (c->v[i].error)
			continue;
		if (k++)
			ling_buf_addc(&text, '\n');
		ling_buf_adds(&text, "<tool_call>\n{\"name\": ");
		{
			json_t *name = json_string(c->v[i].name);
			char *s = json_dumps(name, JSON_ENCODE_ANY);

			ling_buf_adds(&text, s);
			free(s);
			json_decref(name);
		}
		ling_buf_adds(&text, ", \"arguments\": ");
		ling_buf_adds(&text, c->v[i].arguments);
		ling_buf_adds(&text, "}\n</tool_call>");
	}
	eval_parse_calls(tpl, text.data ? text.data : "", text.len, &again);
	if (again.n != k)
		abort();
	for (i = 0, k = 0; i < c->n; i++) {
		if (c->v[i].error)
			continue;
		if (again.v[k].error || strcmp(again.v[k].name, c->v[i].name) ||
		    strcmp(again.v[k].arguments, c->v[i].arguments))
			abort();
		k++;
	}
	eval_calls_free(&again);
	ling_buf_release(&text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "qwen", "ling", NULL };
	const char *tpl;
	struct eval_calls c;
	size_t i;

	if (!size)
		return 0;
	tpl = names[data[0] % 3];
	eval_parse_calls(tpl, (const char *)data + 1, size - 1, &c);
	check_str(c.content);
	for (i = 0; i < c.n; i++) {
		const struct eval_call *k = &c.v[i];

		if (k->error) {
			check_str(k->error);
			if (k->arguments)
				abort();
			if (k->name)
				check_str(k->name);
			continue;
		}
		check_str(k->name);
		check_str(k->arguments);
		check_arguments(k->arguments);
	}
	check_round_trip(&c, tpl);
	eval_calls_free(&c);
	return 0;
}
