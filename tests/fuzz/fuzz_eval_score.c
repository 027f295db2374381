/*
 * libFuzzer target: the readers and matchers of eval_score (eval/eval.h,
 * "scoring") on arbitrary input. The first byte picks what is fuzzed:
 *
 *   0  eval_sample_parse on the rest: never crashes, and a line it takes
 *      is a sample whose gold calls' arguments are JSON objects and whose
 *      question is set; a refusal sets err at the line;
 *   1  eval_metaqa_parse: a taken line has a question without brackets, a
 *      non-empty entity and non-empty answers;
 *   2  the rest split at its first NUL into arguments A and B: A matched
 *      against itself without a schema is EVAL_AST_OK whenever A is a JSON
 *      object jansson takes (matching is reflexive), and A against B never
 *      crashes, with and without a schema of every JSON type;
 *   3  eval_text_names(text, name) on the two halves: the offset it gives
 *      is inside the normalised text, never past it.
 * Run by tests/t1900-fuzz.sh.
 */
#include "common/ling_err.h"
#include "common/ling_mem.h"
#include "eval/eval.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char tools_json[] =
	"[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"object\","
	"\"properties\":{\"s\":{\"type\":\"string\"},\"i\":{\"type\":\"integer\",\"default\":1},"
	"\"n\":{\"type\":\"number\"},\"b\":{\"type\":\"boolean\"},\"a\":{\"type\":\"array\",\"items\":"
	"{\"type\":\"array\",\"items\":{\"type\":\"string\"}}},\"o\":{\"type\":\"object\",\"properties\":"
	"{\"x\":{\"type\":[\"integer\",\"null\"]}}}},\"required\":[\"s\"]}}}]";

static void fuzz_sample(const char *s, size_t n)
{
	struct eval_sample smp;
	struct ling_err err;

	ling_err_clear(&err);
	if (eval_sample_parse(&smp, s, n, "f", 7, &err) == 0) {
		if (!smp.question || !smp.id || !smp.category || !smp.tools_json)
			abort();
		for (size_t i = 0; i < smp.ngold; i++) {
			json_t *v = json_loads(smp.gold[i].arguments, 0, NULL);

			if (!json_is_object(v))
				abort();
			json_decref(v);
		}
		eval_sample_release(&smp);
	} else if (err.code == LING_EDATA && err.line != 7) {
		abort();
	}
}

static void fuzz_metaqa(const char *s, size_t n)
{
	struct eval_metaqa_item q;
	struct ling_err err;

	if (eval_metaqa_parse(&q, s, n, "f", 1, &err))
		return;
	if (strchr(q.question, '[') || strchr(q.question, ']') || !q.entity[0] || !q.nanswers)
		abort();
	for (size_t i = 0; i < q.nanswers; i++)
		if (!q.answers[i][0])
			abort();
	eval_metaqa_release(&q);
}

static void fuzz_match(const char *a, const char *b)
{
	struct eval_call x = { (char *)"f", (char *)a, NULL }, y = { (char *)"f", (char *)b, NULL };
	json_t *v = json_loads(a, JSON_REJECT_DUPLICATES, NULL);

	if (json_is_object(v) && eval_ast_match_call(&x, &x, NULL, NULL) != EVAL_AST_OK)
		abort();
	json_decref(v);
	(void)eval_ast_match_call(&x, &y, tools_json, NULL);
	(void)eval_ast_match(&x, 1, &y, 1, tools_json, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *second;
	size_t n;

	if (size < 1)
		return 0;
	n = size - 1;
	s = xstrndup((const char *)data + 1, n); /* cut at a NUL: the halves of modes 2 and 3 */
	second = memchr(data + 1, '\0', n) ? (char *)memchr(data + 1, '\0', n) + 1 : NULL;
	switch (data[0] % 4) {
	case 0: fuzz_sample((const char *)data + 1, n); break;
	case 1: fuzz_metaqa((const char *)data + 1, n); break;
	case 2: {
		char *b = second ? xstrndup(second, size - (size_t)(second - (const char *)data)) : xstrdup("{}");

		fuzz_match(s, b);
		free(b);
		break;
	}
	case 3: {
		char *name = second ? xstrndup(second, size - (size_t)(second - (const char *)data)) : xstrdup("");
		long at = eval_text_names(s, name);

		if (at > (long)(strlen(s) * 4 + 4)) /* case folding may grow text, never beyond this */
			abort();
		free(name);
		break;
	}
	}
	free(s);
	return 0;
}
