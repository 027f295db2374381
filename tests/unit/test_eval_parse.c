/*
 * Unit tests of eval_parse_calls (eval/eval_parse.c): the blocks the chat
 * templates write, read back exactly; and adversarial model output
 * (unclosed and nested blocks, stray tags, non-object and string-wrapped
 * arguments, duplicate keys, bad JSON, invalid UTF-8, NUL bytes, huge
 * input), each a malformed call with its error, never a crash.
 */
#include "tap.h"

#include "eval/eval.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

static void parse(const char *text, struct eval_calls *c)
{
	eval_parse_calls("qwen", text, strlen(text), c);
}

/* Whether s is valid UTF-8 (jansson checks it; a C string has no NUL before its end). */
static int valid_str(const char *s)
{
	json_t *j = json_string(s);
	int ok = j != NULL;

	json_decref(j);
	return ok;
}

/* Whether every string of c is clean and every call has its name and arguments or an error. */
static int clean(const struct eval_calls *c)
{
	size_t i;

	if (!c->content || !valid_str(c->content))
		return 0;
	for (i = 0; i < c->n; i++) {
		const struct eval_call *k = &c->v[i];

		if ((k->name && !valid_str(k->name)) || (k->arguments && !valid_str(k->arguments)) ||
		    (k->error && !valid_str(k->error)))
			return 0;
		if (!k->error && (!k->name || !k->arguments))
			return 0;
	}
	return 1;
}

static void test_template_blocks(void)
{
	struct eval_calls c;

	parse("<tool_call>\n{\"name\": \"get_film_director\", \"arguments\": {\"film\":\"Alien\"}}\n</tool_call>", &c);
	is_int(c.n, 1, "one block: one call");
	is_str(c.v[0].name, "get_film_director", "its name");
	is_str(c.v[0].arguments, "{\"film\":\"Alien\"}", "its arguments, compact");
	ok(!c.v[0].error, "no error");
	is_str(c.content, "", "no content");
	eval_calls_free(&c);

	parse("Let me look.\n<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": \"1\"}}\n</tool_call>\n"
	      "<tool_call>\n{\"name\": \"b\", \"arguments\": {\"y\": [1, 2.5, null, true]}}\n</tool_call>",
	      &c);
	is_int(c.n, 2, "parallel calls: two blocks");
	is_str(c.v[0].name, "a", "first name");
	is_str(c.v[1].name, "b", "second name");
	is_str(c.v[1].arguments, "{\"y\":[1,2.5,null,true]}", "second arguments, compact, types kept");
	is_str(c.content, "Let me look.", "the content before the blocks, trimmed");
	ok(clean(&c), "clean strings");
	eval_calls_free(&c);

	parse("The director is Ridley Scott.", &c);
	is_int(c.n, 0, "plain answer: no call");
	is_str(c.content, "The director is Ridley Scott.", "the answer is the content");
	eval_calls_free(&c);

	parse("<think>\nmaybe <tool_call> here?\n</think>\n\nRidley Scott.", &c);
	is_str(c.content, "Ridley Scott.", "reasoning is not content");
	eval_calls_free(&c);

	eval_parse_calls("ling", "<tool_call>{\"name\":\"a\",\"arguments\":{}}</tool_call>",
			 strlen("<tool_call>{\"name\":\"a\",\"arguments\":{}}</tool_call>"), &c);
	ok(c.n == 1 && !c.v[0].error && !strcmp(c.v[0].arguments, "{}"), "ling; no newlines around the JSON: read");
	eval_calls_free(&c);

	eval_parse_calls(NULL, "", 0, &c);
	ok(c.n == 0 && c.content && !*c.content, "empty text; NULL template name");
	eval_calls_free(&c);
}

/* What tok_chat renders for an assistant message with tool_calls, read back by the parser. */
static void test_round_trip(void)
{
	static const char *const args[] = {
		"{\"film\":\"Alien\"}",
		"{\"sets\":[[\"A\",\"B\"],[\"B \\\"q\\\" \\u00e9\"]]}",
		"{\"release_year\":1979}",
		"{}",
	};
	struct ling_buf text = LING_BUF_INIT;
	size_t k;

	for (k = 0; k < sizeof(args) / sizeof(*args); k++) {
		json_t *a = json_loads(args[k], 0, NULL);
		char *want = json_dumps(a, JSON_COMPACT);
		struct eval_calls c;

		/* emit_tool_calls: the name between quotes, the arguments string as it is. */
		ling_buf_reset(&text);
		ling_buf_addf(&text, "Sure.\n<tool_call>\n{\"name\": \"tool_%zu\", \"arguments\": %s}\n</tool_call>", k,
			      want);
		parse(text.data, &c);
		ok(c.n == 1 && !c.v[0].error && !strcmp(c.v[0].arguments, want) && !strcmp(c.content, "Sure."),
		   "round trip of %s", args[k]);
		eval_calls_free(&c);
		free(want);
		json_decref(a);
	}
	ling_buf_release(&text);
}

static void test_arguments(void)
{
	struct eval_calls c;

	parse("<tool_call>\n{\"name\": \"a\", \"arguments\": \"{\\\"film\\\": \\\"Alien\\\"}\"}\n</tool_call>", &c);
	ok(c.n == 1 && !c.v[0].error && !strcmp(c.v[0].arguments, "{\"film\":\"Alien\"}"),
	   "arguments as a JSON string holding the object: unwrapped");
	eval_calls_free(&c);

	parse("<tool_call>\n{\"name\": \"a\", \"arguments\": \"[1]\"}\n</tool_call>", &c);
	ok(c.n == 1 && c.v[0].error && !c.v[0].arguments && !strcmp(c.v[0].name, "a"),
	   "a string holding an array: malformed, name kept (%s)", c.n ? c.v[0].error : "");
	eval_calls_free(&c);

	parse("<tool_call>\n{\"name\": \"a\", \"arguments\": \"{not json\"}\n</tool_call>", &c);
	ok(c.n == 1 && c.v[0].error && strstr(c.v[0].error, "not JSON"), "a string that is not JSON: malformed (%s)",
	   c.n ? c.v[0].error : "");
	eval_calls_free(&c);

	parse("<tool_call>\n{\"name\": \"a\", \"arguments\": [\"Alien\"]}\n</tool_call>", &c);
	ok(c.n == 1 && c.v[0].error && !c.v[0].arguments, "arguments an array: malformed");
	eval_calls_free(&c);

	parse("<tool_call>\n{\"name\": \"a\", \"arguments\": 3}\n</tool_call>", &c);
	ok(c.n == 1 && c.v[0].error, "arguments a number: malformed");
	eval_calls_free(&c);

	parse("<tool_call>\n{\"name\": \"a\"}\n</tool_call>", &c);
	ok(c.n == 1 && c.v[0].error && strstr(c.v[0].error, "arguments"), "no arguments: malformed (%s)",
	   c.n ? c.v[0].error : "");
	eval_calls_free(&c);

	parse("<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": 1, \"x\": 2}}\n</tool_call>", &c);
	ok(c.n == 1 && c.v[0].error && !c.v[0].arguments, "duplicate keys in the arguments: malformed (%s)",
	   c.n ? c.v[0].error : "");
	eval_calls_free(&c);

	parse("<tool_call>\n{\"name\": \"a\", \"name\": \"b\", \"arguments\": {}}\n</tool_call>", &c);
	ok(c.n == 1 && c.v[0].error && !c.v[0].name, "duplicate \"name\": malformed");
	eval_calls_free(&c);

	parse("<tool_call>\n{\"name\": 7, \"arguments\": {}}\n</tool_call>", &c);
	ok(c.n == 1 && c.v[0].error && !c.v[0].name, "name not a string: malformed");
	eval_calls_free(&c);

	parse("<tool_call>\n{\"name\": \"\", \"arguments\": {}}\n</tool_call>", &c);
	ok(c.n == 1 && c.v[0].error, "empty name: malformed");
	eval_calls_free(&c);

	parse("<tool_call>\n{\"name\": \"a\\u0000b\", \"arguments\": {}}\n</tool_call>", &c);
	ok(c.n == 1 && c.v[0].error && clean(&c), "\\u0000 in the name: malformed");
	eval_calls_free(&c);

	parse("<tool_call>\n{\"name\": \"a\", \"arguments\": {}, \"id\": \"call_1\"}\n</tool_call>", &c);
	ok(c.n == 1 && !c.v[0].error, "other keys: ignored");
	eval_calls_free(&c);
}

static void test_malformed_blocks(void)
{
	struct eval_calls c;

	parse("I will call.\n<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": \"1\"}}", &c);
	ok(c.n == 1 && c.v[0].error && strstr(c.v[0].error, "without its </tool_call>") && !c.v[0].name,
	   "an unclosed block at the end: malformed (%s)", c.n ? c.v[0].error : "");
	is_str(c.content, "I will call.", "the content before it");
	eval_calls_free(&c);

	parse("<tool_call><tool_call>\n{\"name\": \"a\", \"arguments\": {}}\n</tool_call></tool_call>", &c);
	is_int(c.n, 3, "nested blocks: an unclosed block, the inner call, a stray </tool_call>");
	ok(c.n == 3 && c.v[0].error && !c.v[1].error && c.v[2].error && !strcmp(c.v[1].name, "a"),
	   "only the inner call reads as a call");
	eval_calls_free(&c);

	parse("Done.</tool_call>", &c);
	ok(c.n == 1 && c.v[0].error && !strcmp(c.content, "Done."), "a stray </tool_call>: malformed, text kept");
	eval_calls_free(&c);

	parse("<tool_call>\n{\"name\": \"a\", \"arguments\": {}\n</tool_call>", &c);
	ok(c.n == 1 && c.v[0].error && strstr(c.v[0].error, "not JSON"), "truncated JSON: malformed (%s)",
	   c.n ? c.v[0].error : "");
	eval_calls_free(&c);

	parse("<tool_call>\n[{\"name\": \"a\", \"arguments\": {}}]\n</tool_call>", &c);
	ok(c.n == 1 && c.v[0].error && strstr(c.v[0].error, "not a JSON object"), "an array of calls: malformed");
	eval_calls_free(&c);

	parse("<tool_call>\n{\"name\": \"a\", \"arguments\": {}} trailing\n</tool_call>", &c);
	ok(c.n == 1 && c.v[0].error, "text after the JSON: malformed");
	eval_calls_free(&c);

	parse("<tool_call></tool_call>", &c);
	ok(c.n == 1 && c.v[0].error, "an empty block: malformed");
	eval_calls_free(&c);

	parse("<tool_call", &c);
	ok(c.n == 0 && !strcmp(c.content, "<tool_call"), "half a tag is text");
	eval_calls_free(&c);
}

static void test_bytes(void)
{
	static const char nul[] = "A\0B<tool_call>\n{\"name\": \"a\0\", \"arguments\": {}}\n</tool_call>\0";
	static const char bad[] = "\xff\xfe caf\xc3 <tool_call>\n{\"name\": \"\xc3\x28\", \"arguments\": {}}\n</tool_call>";
	struct ling_buf big = LING_BUF_INIT;
	struct eval_calls c;
	size_t i;

	eval_parse_calls("qwen", nul, sizeof(nul) - 1, &c);
	ok(c.n == 1 && c.v[0].error && clean(&c), "NUL bytes: a malformed call, content a clean C string");
	is_str(c.content, "A\xEF\xBF\xBD" "B\xEF\xBF\xBD", "a NUL in the content becomes U+FFFD");
	eval_calls_free(&c);

	eval_parse_calls("qwen", bad, sizeof(bad) - 1, &c);
	ok(c.n == 1 && c.v[0].error && clean(&c), "invalid UTF-8: a malformed call, clean strings (%s)",
	   c.n ? c.v[0].error : "");
	eval_calls_free(&c);

	/* 20000 blocks, every other one malformed, in about 1.2 MB: linear, no crash. */
	for (i = 0; i < 20000; i++)
		ling_buf_adds(&big, i % 2 ? "<tool_call>{\"name\": \"a\", \"arguments\": {\"k\": \"v\"}}</tool_call>\n"
					  : "<tool_call>{\"name\": \"a\", \"arguments\": }</tool_call>\n");
	for (i = 0; i < 10000; i++)
		ling_buf_adds(&big, "[[[[[[[[[[");
	eval_parse_calls("qwen", big.data, big.len, &c);
	is_int(c.n, 20000, "a huge output: every block read");
	ok(c.n == 20000 && c.v[0].error && !c.v[1].error, "malformed and good blocks alternate");
	eval_calls_free(&c);

	ling_buf_reset(&big);
	ling_buf_adds(&big, "<tool_call>{\"name\": \"a\", \"arguments\": ");
	for (i = 0; i < 100000; i++)
		ling_buf_addc(&big, '[');
	ling_buf_adds(&big, "}</tool_call>");
	eval_parse_calls("qwen", big.data, big.len, &c);
	ok(c.n == 1 && c.v[0].error, "100000 nested brackets: malformed, no stack overflow");
	eval_calls_free(&c);
	ling_buf_release(&big);

	eval_calls_free(NULL);
	ok(1, "eval_calls_free(NULL)");
}

int main(void)
{
	test_template_blocks();
	test_round_trip();
	test_arguments();
	test_malformed_blocks();
	test_bytes();
	return done_testing();
}
