/*
 * Unit tests of eval_score: BFCL-style matching of calls (types, optional
 * parameters, normalised strings, order-free parallel calls, irrelevance,
 * malformed calls), execution and answer accuracy on hand-written
 * transcripts, kg2samples and MetaQA lines.
 */
#include "tap.h"
#include "common/ling_err.h"
#include "common/ling_mem.h"
#include "eval/eval.h"
#include <stdlib.h>
#include <string.h>
#include "common/banned.h"

/* A tool with a required entity parameter, an optional integer with a default, an enum and a number range. */
static const char *const tools_json =
	"[{\"type\":\"function\",\"function\":{\"name\":\"get_film_director\",\"description\":\"d\","
	"\"parameters\":{\"type\":\"object\",\"properties\":{\"film\":{\"type\":\"string\"},"
	"\"limit\":{\"type\":\"integer\",\"default\":10},"
	"\"order\":{\"type\":\"string\",\"enum\":[\"asc\",\"desc\"]},"
	"\"min_rating\":{\"type\":\"number\",\"minimum\":0,\"maximum\":10},"
	"\"year\":{\"type\":[\"integer\",\"null\"]},"
	"\"exact\":{\"type\":\"boolean\"}},"
	"\"required\":[\"film\"],\"additionalProperties\":false}}},"
	"{\"type\":\"function\",\"function\":{\"name\":\"find_films_by_release_year\",\"description\":\"d\","
	"\"parameters\":{\"type\":\"object\",\"properties\":{\"release_year\":{\"type\":\"integer\"}},"
	"\"required\":[\"release_year\"]}}},"
	"{\"type\":\"function\",\"function\":{\"name\":\"intersection\",\"description\":\"d\","
	"\"parameters\":{\"type\":\"object\",\"properties\":{\"sets\":{\"type\":\"array\",\"items\":"
	"{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}},\"required\":[\"sets\"]}}}]";

static struct eval_call call(const char *name, const char *args)
{
	struct eval_call c = { (char *)name, (char *)args, NULL };

	return c;
}

static enum eval_ast_verdict match1(const char *mname, const char *margs, const char *gname, const char *gargs)
{
	struct eval_call m = call(mname, margs), g = call(gname, gargs);
	struct ling_buf why = LING_BUF_INIT;
	enum eval_ast_verdict v = eval_ast_match_call(&m, &g, tools_json, &why);

	if (v != EVAL_AST_OK)
		diag("%s: %s", eval_ast_verdict_name(v), why.data ? why.data : "");
	ling_buf_release(&why);
	return v;
}

#define DIR "get_film_director"

static void test_normalisation(void)
{
	struct ling_buf b = LING_BUF_INIT;

	eval_normalize_string("New York, N.Y. - it's_*^/", 25, &b);
	is_str(b.data, "newyorknyit\"s", "BFCL normalisation drops \" ,./-_*^\", lowercases, makes ' \"");
	ling_buf_release(&b);
	is_int(match1(DIR, "{\"film\":\"blade runner\"}", DIR, "{\"film\":\"Blade Runner\"}"), EVAL_AST_OK,
	       "strings match across case");
	is_int(match1(DIR, "{\"film\":\"Blade-Runner.\"}", DIR, "{\"film\":\"Blade Runner\"}"), EVAL_AST_OK,
	       "strings match across spaces and punctuation");
	is_int(match1(DIR, "{\"film\":\"Blade Runner 2049\"}", DIR, "{\"film\":\"Blade Runner\"}"), EVAL_AST_VALUE,
	       "another string is a wrong value");
	is_int(match1(DIR, "{\"film\":\"Amélie\"}", DIR, "{\"film\":\"Amelie\"}"), EVAL_AST_VALUE,
	       "accents are not dropped");
	is_int(match1(DIR, "{\"film\":\"AMÉLIE\"}", DIR, "{\"film\":\"Amélie\"}"), EVAL_AST_OK,
	       "Unicode letters are lowercased (Python str.lower)");
	ling_buf_init(&b);
	eval_normalize_string("Ab\xff", 3, &b);
	is_mem(b.data, b.len, "ab\xff", 3, "text that is not UTF-8: ASCII lowercased, the rest kept");
	ling_buf_release(&b);
}

static void test_types(void)
{
	const char *fy = "find_films_by_release_year";

	is_int(match1(fy, "{\"release_year\":1999}", fy, "{\"release_year\":1999}"), EVAL_AST_OK, "integer equal");
	is_int(match1(fy, "{\"release_year\":\"1999\"}", fy, "{\"release_year\":1999}"), EVAL_AST_TYPE,
	       "a string for an integer is a type error");
	is_int(match1(fy, "{\"release_year\":1999.0}", fy, "{\"release_year\":1999}"), EVAL_AST_TYPE,
	       "a real for an integer is a type error (BFCL: exact type)");
	is_int(match1(fy, "{\"release_year\":2000}", fy, "{\"release_year\":1999}"), EVAL_AST_VALUE,
	       "another integer is a wrong value");
	is_int(match1(DIR, "{\"film\":\"A\",\"min_rating\":7}", DIR, "{\"film\":\"A\",\"min_rating\":7.0}"),
	       EVAL_AST_OK, "an integer for a number equals the same real (BFCL int to float)");
	is_int(match1(DIR, "{\"film\":\"A\",\"min_rating\":7.5}", DIR, "{\"film\":\"A\",\"min_rating\":7.50}"),
	       EVAL_AST_OK, "numbers compare by value");
	is_int(match1(DIR, "{\"film\":\"A\",\"min_rating\":7.6}", DIR, "{\"film\":\"A\",\"min_rating\":7.5}"),
	       EVAL_AST_VALUE, "another number is a wrong value");
	is_int(match1(DIR, "{\"film\":\"A\",\"min_rating\":\"7.5\"}", DIR, "{\"film\":\"A\",\"min_rating\":7.5}"),
	       EVAL_AST_TYPE, "a string for a number is a type error");
	is_int(match1(DIR, "{\"film\":1}", DIR, "{\"film\":\"1\"}"), EVAL_AST_TYPE,
	       "a number for a string is a type error");
	is_int(match1(DIR, "{\"film\":\"A\",\"exact\":true}", DIR, "{\"film\":\"A\",\"exact\":true}"), EVAL_AST_OK,
	       "booleans equal");
	is_int(match1(DIR, "{\"film\":\"A\",\"exact\":false}", DIR, "{\"film\":\"A\",\"exact\":true}"),
	       EVAL_AST_VALUE, "another boolean is a wrong value");
	is_int(match1(DIR, "{\"film\":\"A\",\"exact\":1}", DIR, "{\"film\":\"A\",\"exact\":true}"), EVAL_AST_TYPE,
	       "1 is not a boolean");
	is_int(match1(DIR, "{\"film\":\"A\",\"year\":null}", DIR, "{\"film\":\"A\",\"year\":null}"), EVAL_AST_OK,
	       "a list of types admits null");
	is_int(match1(DIR, "{\"film\":\"A\",\"year\":\"x\"}", DIR, "{\"film\":\"A\",\"year\":null}"), EVAL_AST_TYPE,
	       "a list of types refuses a string");
	is_int(match1(DIR, "{\"film\":\"A\",\"order\":\"DESC\"}", DIR, "{\"film\":\"A\",\"order\":\"desc\"}"),
	       EVAL_AST_OK, "an enum value is a normalised string");
	is_int(match1("intersection", "{\"sets\":[[\"a\",\"B\"],[\"c\"]]}", "intersection",
		      "{\"sets\":[[\"A\",\"b\"],[\"c\"]]}"),
	       EVAL_AST_OK, "nested arrays compare item by item");
	is_int(match1("intersection", "{\"sets\":[[\"c\"],[\"a\",\"b\"]]}", "intersection",
		      "{\"sets\":[[\"a\",\"b\"],[\"c\"]]}"),
	       EVAL_AST_VALUE, "arrays are ordered (BFCL list_checker)");
	is_int(match1("intersection", "{\"sets\":[[\"a\",2]]}", "intersection", "{\"sets\":[[\"a\",\"b\"]]}"),
	       EVAL_AST_TYPE, "an item of the wrong type is a type error");
	/* a tool the offer lacks: the gold value's type decides */
	is_int(match1("unlisted", "{\"n\":2}", "unlisted", "{\"n\":2.0}"), EVAL_AST_OK,
	       "without a schema numbers compare by value");
	is_int(match1("unlisted", "{\"n\":\"2\"}", "unlisted", "{\"n\":2}"), EVAL_AST_TYPE,
	       "without a schema the gold value's type decides");
}

static void test_parameters(void)
{
	is_int(match1(DIR, "{}", DIR, "{\"film\":\"A\"}"), EVAL_AST_MISSING, "a required parameter missing");
	is_int(match1(DIR, "{\"film\":\"A\",\"films\":\"B\"}", DIR, "{\"film\":\"A\"}"), EVAL_AST_UNKNOWN,
	       "a parameter the tool does not have is unknown");
	is_int(match1(DIR, "{\"film\":\"A\",\"limit\":10}", DIR, "{\"film\":\"A\"}"), EVAL_AST_OK,
	       "an optional parameter given its default is the omitted one");
	is_int(match1(DIR, "{\"film\":\"A\",\"limit\":5}", DIR, "{\"film\":\"A\"}"), EVAL_AST_VALUE,
	       "an optional parameter the gold omits, not at its default, is wrong");
	is_int(match1(DIR, "{\"film\":\"A\",\"limit\":\"10\"}", DIR, "{\"film\":\"A\"}"), EVAL_AST_TYPE,
	       "an optional parameter of the wrong type is a type error");
	is_int(match1(DIR, "{\"film\":\"A\"}", DIR, "{\"film\":\"A\",\"limit\":10}"), EVAL_AST_OK,
	       "omitting an optional parameter the gold gives at its default");
	is_int(match1(DIR, "{\"film\":\"A\"}", DIR, "{\"film\":\"A\",\"limit\":3}"), EVAL_AST_MISSING,
	       "omitting an optional parameter the gold gives otherwise");
	is_int(match1(DIR, "{\"film\":\"A\",\"limit\":3}", DIR, "{\"film\":\"A\",\"limit\":3}"), EVAL_AST_OK,
	       "an optional parameter equal to the gold's");
	is_int(match1("get_film_writer", "{\"film\":\"A\"}", DIR, "{\"film\":\"A\"}"), EVAL_AST_NAME,
	       "another function");
}

static void test_malformed(void)
{
	struct eval_call bad = { NULL, NULL, (char *)"unclosed <tool_call> block" }, g = call(DIR, "{\"film\":\"A\"}");

	is_int(eval_ast_match_call(&bad, &g, tools_json, NULL), EVAL_AST_MALFORMED, "an unreadable block");
	is_int(match1(DIR, "{\"film\":\"A\"", DIR, "{\"film\":\"A\"}"), EVAL_AST_MALFORMED, "arguments not JSON");
	is_int(match1(DIR, "[\"A\"]", DIR, "{\"film\":\"A\"}"), EVAL_AST_MALFORMED,
	       "arguments not a JSON object");
	is_int(match1(DIR, "{\"film\":\"A\",\"film\":\"B\"}", DIR, "{\"film\":\"A\"}"), EVAL_AST_MALFORMED,
	       "a repeated key is malformed");
	is_int(match1(DIR, "{\"film\":\"A\"}", DIR, "{\"film\":\"A\"}"), EVAL_AST_OK, "the well-formed call matches");
	{
		struct eval_call m = call(DIR, "{\"film\":\"A\"}");

		is_int(eval_ast_match_call(&m, &g, "not json", NULL), EVAL_AST_OK,
		       "unreadable tools: compared by the gold's types");
	}
}

static void test_parallel(void)
{
	struct eval_call gold[2] = { call(DIR, "{\"film\":\"Alien\"}"), call(DIR, "{\"film\":\"Heat\"}") };
	struct eval_call swapped[2] = { call(DIR, "{\"film\":\"heat\"}"), call(DIR, "{\"film\":\"alien\"}") };
	struct eval_call twice[2] = { call(DIR, "{\"film\":\"Alien\"}"), call(DIR, "{\"film\":\"Alien\"}") };
	struct eval_call other[2] = { call(DIR, "{\"film\":\"Heat\"}"), call("get_film_writer", "{\"film\":\"Alien\"}") };
	struct eval_call bad[2] = { call(DIR, "{\"film\":\"Heat\"}"), { NULL, NULL, (char *)"bad json" } };
	struct ling_buf why = LING_BUF_INIT;

	is_int(eval_ast_match(swapped, 2, gold, 2, tools_json, &why), EVAL_AST_OK, "parallel calls in any order");
	is_int(eval_ast_match(gold, 2, gold, 2, tools_json, &why), EVAL_AST_OK, "parallel calls in order");
	is_int(eval_ast_match(twice, 2, gold, 2, tools_json, &why), EVAL_AST_VALUE,
	       "one model call cannot match two gold calls");
	is_int(eval_ast_match(gold, 1, gold, 2, tools_json, &why), EVAL_AST_COUNT, "too few calls");
	is_str(why.data, "1 calls, the gold turn has 2", "the count in words");
	is_int(eval_ast_match(other, 2, gold, 2, tools_json, &why), EVAL_AST_VALUE,
	       "a wrong call beside a right one (same name: its value is wrong)");
	is_int(eval_ast_match(bad, 2, gold, 2, tools_json, &why), EVAL_AST_MALFORMED,
	       "an unreadable call among parallel ones");
	{
		struct eval_call g1 = call("get_film_writer", "{\"film\":\"Alien\"}");

		is_int(eval_ast_match(gold, 1, &g1, 1, tools_json, &why), EVAL_AST_NAME,
		       "no call of the gold function");
	}
	ling_buf_release(&why);
}

/* ---- transcripts ---- */

static const char *const sample_line =
	"{\"id\":\"kg:2p:0123456789abcdef\",\"kind\":\"tool_use\",\"category\":\"2p\",\"pattern\":\"2p\","
	"\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_film_director\",\"description\":\"d\","
	"\"parameters\":{\"type\":\"object\",\"properties\":{\"film\":{\"type\":\"string\"}},\"required\":[\"film\"]}}},"
	"{\"type\":\"function\",\"function\":{\"name\":\"get_person_place_of_birth\",\"description\":\"d\","
	"\"parameters\":{\"type\":\"object\",\"properties\":{\"person\":{\"type\":\"string\"}},\"required\":[\"person\"]}}}],"
	"\"messages\":[{\"role\":\"system\",\"content\":\"You answer with tools.\"},"
	"{\"role\":\"user\",\"content\":\"Where was the director of Alien born?\"},"
	"{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
	"\"function\":{\"name\":\"get_film_director\",\"arguments\":\"{\\\"film\\\": \\\"Alien\\\"}\"}}]},"
	"{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"name\":\"get_film_director\",\"content\":\"[\\\"Ridley Scott\\\"]\"},"
	"{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_2\",\"type\":\"function\","
	"\"function\":{\"name\":\"get_person_place_of_birth\",\"arguments\":\"{\\\"person\\\":\\\"Ridley Scott\\\"}\"}}]},"
	"{\"role\":\"tool\",\"tool_call_id\":\"call_2\",\"name\":\"get_person_place_of_birth\",\"content\":\"[\\\"South Shields\\\"]\"},"
	"{\"role\":\"assistant\",\"content\":\"Ridley Scott was born in South Shields.\"}],"
	"\"answer\":[\"South Shields\"],\"meta\":{\"seed\":7}}";

/* A transcript of up to 3 turns of one call each (NULL name: no call); results parallel. */
struct fake {
	struct eval_transcript t;
	struct eval_turn turns[3];
	struct eval_call calls[3];
	char *results[3];
	int ok[3];
};

static void fake_turn(struct fake *f, const char *name, const char *args, const char *result, int ok)
{
	size_t i = f->t.nturns++;

	f->t.turns = f->turns;
	f->calls[i] = call(name, args);
	f->results[i] = (char *)result;
	f->ok[i] = ok;
	f->turns[i].text = (char *)"";
	f->turns[i].calls.v = name ? &f->calls[i] : NULL;
	f->turns[i].calls.n = name ? 1 : 0;
	f->turns[i].results = &f->results[i];
	f->turns[i].ok = &f->ok[i];
}

static void test_samples(void)
{
	struct eval_sample s;
	struct eval_score sc;
	struct ling_err err;
	struct fake f;
	int rc;

	rc = eval_sample_parse(&s, sample_line, strlen(sample_line), "held.jsonl", 3, &err);
	if (!is_int(rc, 0, "a kg2samples line reads"))
		diag("%s", err.msg);
	is_str(s.category, "2p", "its category");
	is_str(s.pattern, "2p", "its pattern");
	is_str(s.system, "You answer with tools.", "its system prompt");
	is_str(s.question, "Where was the director of Alien born?", "its question");
	is_int((long long)s.noffer, 2, "two tools offered");
	is_str(s.offer[1], "get_person_place_of_birth", "the offered names");
	is_int((long long)s.ngold, 1, "the first tool-calling turn has one call");
	is_str(s.gold[0].arguments, "{\"film\":\"Alien\"}", "gold arguments are compact JSON");
	is_int((long long)s.nanswer, 1, "one gold answer");

	/* right all the way */
	memset(&f, 0, sizeof(f));
	fake_turn(&f, DIR, "{\"film\":\"alien\"}", "[\"Ridley Scott\"]", 1);
	fake_turn(&f, "get_person_place_of_birth", "{\"person\":\"Ridley Scott\"}", "[\"South Shields\"]", 1);
	fake_turn(&f, NULL, NULL, NULL, 0);
	f.t.answer = (char *)"He was born in south shields.";
	eval_score_sample(&s, &f.t, &sc);
	ok(sc.ast_ok && sc.exec_ok && sc.answer_ok, "a right transcript scores on AST, execution and answer");
	eval_score_release(&sc);

	/* a wrong first call that still reaches the answer */
	memset(&f, 0, sizeof(f));
	fake_turn(&f, "get_person_place_of_birth", "{\"person\":\"Ridley Scott\"}", "[\"South Shields\"]", 1);
	f.t.answer = (char *)"South Shieldsville";
	eval_score_sample(&s, &f.t, &sc);
	is_int(sc.ast, EVAL_AST_NAME, "a wrong first call fails AST");
	ok(sc.exec_ok, "the last turn's results are still the gold answer");
	ok(!sc.answer_ok, "an answer that names a longer word does not name the gold answer");
	ok(sc.why != NULL, "the mismatch in words: %s", sc.why ? sc.why : "(none)");
	eval_score_release(&sc);

	/* a failed call in the last turn answers nothing */
	memset(&f, 0, sizeof(f));
	fake_turn(&f, DIR, "{\"film\":\"Alien\"}", "[\"Ridley Scott\"]", 1);
	fake_turn(&f, "get_person_place_of_birth", "{\"person\":\"Ridley\"}", "{\"error\":\"no entity\"}", 0);
	f.t.answer = (char *)"";
	eval_score_sample(&s, &f.t, &sc);
	ok(sc.ast_ok && !sc.exec_ok && !sc.answer_ok, "a failed last call: AST right, execution and answer wrong");
	eval_score_release(&sc);

	/* no call at all */
	memset(&f, 0, sizeof(f));
	fake_turn(&f, NULL, NULL, NULL, 0);
	f.t.answer = (char *)"South Shields";
	eval_score_sample(&s, &f.t, &sc);
	is_int(sc.ast, EVAL_AST_NO_CALL, "no call fails AST");
	ok(!sc.exec_ok && sc.answer_ok, "no call: no execution answer, but the text names the answer");
	eval_score_release(&sc);
	eval_sample_release(&s);
}

static void test_irrelevance(void)
{
	const char *line = "{\"id\":\"kg:irrelevance:0\",\"kind\":\"tool_use\",\"category\":\"irrelevance\","
			   "\"pattern\":null,\"tools\":[],\"messages\":[{\"role\":\"system\",\"content\":\"s\"},"
			   "{\"role\":\"user\",\"content\":\"What is the weather?\"},"
			   "{\"role\":\"assistant\",\"content\":\"I cannot tell.\"}],\"answer\":[]}";
	struct eval_call unreadable = { NULL, NULL, (char *)"bad" };
	struct eval_sample s;
	struct eval_score sc;
	struct ling_err err;
	struct fake f;

	is_int(eval_sample_parse(&s, line, strlen(line), "i.jsonl", 1, &err), 0, "an irrelevance sample reads");
	ok(s.pattern == NULL && s.ngold == 0, "no pattern, no gold calls");
	memset(&f, 0, sizeof(f));
	fake_turn(&f, NULL, NULL, NULL, 0);
	f.t.answer = (char *)"I cannot tell.";
	eval_score_sample(&s, &f.t, &sc);
	ok(sc.ast_ok && sc.exec_ok && sc.answer_ok, "irrelevance: no call is right");
	eval_score_release(&sc);

	fake_turn(&f, DIR, "{\"film\":\"x\"}", "[]", 1);
	eval_score_sample(&s, &f.t, &sc);
	is_int(sc.ast, EVAL_AST_CALLED, "irrelevance: a call is wrong");
	ok(!sc.exec_ok && !sc.answer_ok, "and wrong on every score");
	eval_score_release(&sc);

	memset(&f, 0, sizeof(f));
	fake_turn(&f, DIR, NULL, "{\"error\":\"bad\"}", 0);
	f.calls[0] = unreadable;
	eval_score_sample(&s, &f.t, &sc);
	is_int(sc.ast, EVAL_AST_OK, "irrelevance: a block that is not a call is no call (BFCL)");
	eval_score_release(&sc);
	eval_sample_release(&s);
}

static void test_bad_samples(void)
{
	static const struct {
		const char *line, *why;
	} bad[] = {
		{ "{\"id\":", "bad JSON" },
		{ "[1,2]", "not a JSON object" },
		{ "{\"id\":\"x\",\"kind\":\"tool_use\",\"category\":\"1p\",\"tools\":[],\"messages\":[],\"answer\":[]}",
		  "no user message" },
		{ "{\"id\":\"x\",\"category\":\"1p\",\"tools\":[],\"messages\":[{\"role\":\"user\",\"content\":\"q\"}],"
		  "\"answer\":[]}",
		  "no tool call in a 1p sample" },
		{ "{\"id\":\"x\",\"category\":\"1p\",\"tools\":[],\"messages\":[{\"role\":\"user\",\"content\":\"q\"},"
		  "{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":\"{x\"}}]}],"
		  "\"answer\":[]}",
		  "gold arguments not JSON" },
		{ "{\"id\":\"x\",\"category\":\"irrelevance\",\"tools\":[],\"messages\":[{\"role\":\"user\",\"content\":\"q\"}],"
		  "\"answer\":[1]}",
		  "an answer that is not strings" },
		{ "{\"id\":\"x\",\"category\":\"irrelevance\",\"tools\":{},\"messages\":[{\"role\":\"user\",\"content\":\"q\"}],"
		  "\"answer\":[]}",
		  "tools not an array" },
	};
	const char *instr = "{\"id\":\"kg:fact:1\",\"kind\":\"instruction\",\"category\":\"fact\"}";
	struct eval_sample s;
	struct ling_err err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ling_err_clear(&err);
		is_int(eval_sample_parse(&s, bad[i].line, strlen(bad[i].line), "bad.jsonl", (long)i + 1, &err),
		       LING_EDATA, "refused: %s", bad[i].why);
		ok(err.line == (long)i + 1 && !strcmp(err.file, "bad.jsonl"), "  at its line (%s)", err.msg);
	}
	is_int(eval_sample_parse(&s, instr, strlen(instr), "i.jsonl", 1, &err), LING_ESTOP,
	       "an instruction sample is passed over");
}

static void test_text_names(void)
{
	ok(eval_text_names("It was directed by Ridley Scott.", "Ridley Scott") >= 0, "a name in the text");
	ok(eval_text_names("ridley-scott directed it", "Ridley Scott") < 0,
	   "a hyphen joins words (the characters are dropped, not spaced)");
	ok(eval_text_names("RIDLEY  SCOTT directed it", "Ridley Scott") >= 0, "case and runs of spaces");
	ok(eval_text_names("Scotty did", "Scott") < 0, "a word boundary after the name");
	ok(eval_text_names("McScott did", "Scott") < 0, "a word boundary before the name");
	ok(eval_text_names("Grégoire Colin.", "GRÉGOIRE COLIN") >= 0, "Unicode case");
	ok(eval_text_names("The year was 1999.", "1999") >= 0, "a value");
	ok(eval_text_names("no", "") < 0, "an empty name is never named");
	ok(eval_text_names(NULL, "x") < 0, "no text names nothing");
}

static void test_metaqa(void)
{
	const char *line = "what films did [Grégoire Colin] star in\tBefore the Rain|Beau Travail\r";
	struct eval_metaqa_item q;
	struct eval_metaqa_score sc;
	struct ling_err err;
	struct fake f;

	is_int(eval_metaqa_parse(&q, line, strlen(line), "qa.txt", 4, &err), 0, "a MetaQA line reads");
	is_str(q.question, "what films did Grégoire Colin star in", "brackets removed");
	is_str(q.entity, "Grégoire Colin", "the entity");
	is_int((long long)q.nanswers, 2, "two answers");
	is_str(q.answers[1], "Beau Travail", "the CR is dropped");

	memset(&f, 0, sizeof(f));
	fake_turn(&f, "find_films_by_actor", "{\"actor\":\"Grégoire Colin\"}", "[\"Beau Travail\",\"Before the Rain\"]", 1);
	f.t.answer = (char *)"Before the Rain and Beau Travail.";
	eval_metaqa_score(&q, &f.t, &sc);
	ok(sc.exact && sc.hits1 && sc.answer, "the whole set: exact, Hits@1, answer");
	is_str(sc.top, "Before the Rain", "the top answer is the one the text names first");
	eval_metaqa_score_release(&sc);

	memset(&f, 0, sizeof(f));
	fake_turn(&f, "find_films_by_actor", "{\"actor\":\"x\"}", "[\"Alien\",\"Beau Travail\"]", 1);
	f.t.answer = (char *)"Beau Travail, Alien";
	eval_metaqa_score(&q, &f.t, &sc);
	ok(!sc.exact && sc.hits1 && !sc.answer, "a partly right set: Hits@1 only");
	eval_metaqa_score_release(&sc);

	memset(&f, 0, sizeof(f));
	fake_turn(&f, "find_films_by_actor", "{\"actor\":\"x\"}", "[\"Alien\",\"Beau Travail\"]", 1);
	f.t.answer = (char *)"";
	eval_metaqa_score(&q, &f.t, &sc);
	ok(!sc.hits1, "no text: the first by bytes is the top answer (%s)", sc.top ? sc.top : "none");
	eval_metaqa_score_release(&sc);

	memset(&f, 0, sizeof(f));
	fake_turn(&f, NULL, NULL, NULL, 0);
	f.t.answer = (char *)"Before the Rain, Beau Travail";
	eval_metaqa_score(&q, &f.t, &sc);
	ok(!sc.exact && !sc.hits1 && sc.answer && !sc.top, "no call: no prediction, the text still named");
	eval_metaqa_score_release(&sc);
	eval_metaqa_release(&q);

	{
		static const char *const bad[] = {
			"what films [x] star in", "no tab [x]\ta\tb", "no entity\ta", "two [x] and [y]\ta",
			"empty [] entity\ta", "unclosed [x\ta", "a ] before [x]\ta", "an empty [x] answer\ta||b", "trailing [x]\ta|",
			"bad utf-8 [\xff]\ta",
		};
		static const char nul[] = "a [x] question\ta\0b";

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			ling_err_clear(&err);
			is_int(eval_metaqa_parse(&q, bad[i], strlen(bad[i]), "qa.txt", (long)i + 1, &err), LING_EDATA,
			       "refused: %s", err.msg);
		}
		is_int(eval_metaqa_parse(&q, nul, sizeof(nul) - 1, "qa.txt", 1, &err), LING_EDATA, "refused: %s", err.msg);
	}
}

int main(void)
{
	test_normalisation();
	test_types();
	test_parameters();
	test_malformed();
	test_parallel();
	test_samples();
	test_irrelevance();
	test_bad_samples();
	test_text_names();
	test_metaqa();
	return done_testing();
}
