/*
 * Unit tests of the agent loop (eval/eval_agent.c) with a scripted
 * generator: a fake model that writes canned turns, honouring the stop
 * criteria it is given, against a small store built here. A call then an
 * answer; parallel calls; a made-up tool response cut off; a malformed call
 * then recovery; unknown tools, tools not offered, bad arguments and a
 * store without the tool; the round limit; a turn cut by max_new_tokens;
 * errors of generation; tokenize's tok_chat_prompt against the renderer
 * `tokenize build` uses; and the calls both templates render, read back.
 */
#include "tap.h"
#include "fixture.h"

#include "eval/eval.h"
#include "kg/kg.h"
#include "tokenize/tokenize.h"
#include "tokenize/tok_chat_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

static char tmpdir[] = "/tmp/ling-eval-agent.XXXXXX";

static const char films_ttl[] =
	"@prefix ex: <http://ex.org/> .\n"
	"@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
	"ex:directedBy rdfs:label \"directed by\"@en ; rdfs:domain ex:Film ; rdfs:range ex:Person .\n"
	"ex:Film rdfs:label \"Film\"@en . ex:Person rdfs:label \"Person\"@en .\n"
	"ex:alien ex:directedBy ex:scott ; rdfs:label \"Alien\"@en .\n"
	"ex:blade ex:directedBy ex:scott ; rdfs:label \"Blade Runner\"@en .\n"
	"ex:witness ex:directedBy ex:weir ; rdfs:label \"Witness\"@en .\n"
	"ex:scott rdfs:label \"Ridley Scott\"@en . ex:weir rdfs:label \"Peter Weir\"@en .\n";

/* A store of other facts: no tool about directors. */
static const char towns_ttl[] =
	"@prefix ex: <http://ex.org/> .\n"
	"@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
	"ex:sydney ex:locatedIn ex:au ; rdfs:label \"Sydney\"@en . ex:au rdfs:label \"Australia\"@en .\n";

static struct kg_store *make_store(const char *name, const char *turtle)
{
	struct ling_buf dir = LING_BUF_INIT;
	struct kg_store *st = NULL;
	struct kg_load_counts counts;
	struct ling_err err;
	int rc;

	ling_err_clear(&err);
	ling_buf_addf(&dir, "%s/%s", tmpdir, name);
	rc = kg_store_open(&st, dir.data, KG_STORE_CREATE, &err);
	if (!rc)
		rc = fixture_load(st, name, KG_FORMAT_TURTLE, turtle, NULL, 0, &counts, &err);
	if (rc) {
		diag("store %s: %s", name, err.msg);
		kg_store_close(st);
		st = NULL;
	}
	ling_buf_release(&dir);
	return st;
}

static struct kg_toolset *toolset(struct kg_store *st)
{
	struct kg_toolset_opts opts = { 1, NULL };
	struct kg_toolset *ts = NULL;
	struct ling_err err;

	ling_err_clear(&err);
	if (kg_toolset_build(st, &opts, &ts, &err))
		diag("toolset: %s", err.msg);
	return ts;
}

/* The name of the forward tool of predicate iri, as the catalogue names it. */
static const char *forward_tool(const struct kg_toolset *ts, const char *iri)
{
	size_t i;

	for (i = 0; i < ts->ntools; i++)
		if (ts->tools[i].kind == KG_TOOL_FORWARD && !strcmp(ts->tools[i].predicate_iri, iri))
			return ts->tools[i].name;
	return "missing_tool";
}

/* A small byte-level BPE with ChatML's tokens, <tool_call> and </tool_call> added as in Qwen's tokenizer. */
static struct tok *small_tokenizer(int ling)
{
	static const char *const chatml[] = { "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<tool_call>",
					      "</tool_call>" };
	static const char *const bailing[] = { "<|endoftext|>", "<|role_end|>", "<role>", "</role>" };
	const char *const *specials = ling ? bailing : chatml;
	static const char text[] = "Who directed Alien? Ridley Scott directed Alien. The films of Peter Weir: Witness. "
				   "{\"name\": \"get_film_director\", \"arguments\": {\"film\":\"Alien\"}} user assistant system";
	struct tok_train_opts o = { 400, 1, specials, ling ? 4 : 5 };
	struct tok_train *tr = NULL;
	struct tok_train_stats st;
	struct ling_buf json = LING_BUF_INIT;
	struct ling_err err;
	struct tok *t = NULL;

	ling_err_clear(&err);
	if (tok_train_new(&tr, &o, &err) || tok_train_add(tr, text, strlen(text), &err) ||
	    tok_train_finish(tr, &json, &st, &err) || tok_load_hf_mem(&t, "small", json.data, json.len, &err))
		diag("tokenizer: %s", err.msg);
	tok_train_free(tr);
	ling_buf_release(&json);
	return t;
}

/* ---- the scripted generator ---- */

struct script {
	struct tok *tok;
	const char *const *turns; /* what the "model" writes, turn after turn (special tokens as their text) */
	size_t nturns, turn, off;
	struct ling_u32s ids;     /* the current turn's ids */
	int calls;                /* generate calls */
	int fail_at;              /* > 0: that call fails with LING_EDATA */
	struct ling_u32s prompts[16];
	size_t nprompts;
	struct ling_u32s outs[16];
};

static int ends_with_string(struct script *s, const struct ling_u32s *out, const struct eval_stop *stop)
{
	struct ling_buf text = LING_BUF_INIT;
	struct ling_err err;
	size_t k;
	int yes = 0;

	if (tok_decode(s->tok, out->v, out->n, &text, &err))
		return 0;
	for (k = 0; k < stop->nstrings; k++) {
		size_t n = strlen(stop->strings[k]);

		yes |= text.len >= n && !memcmp(text.data + text.len - n, stop->strings[k], n);
	}
	ling_buf_release(&text);
	return yes;
}

static int scripted(void *ctx, const uint32_t *prompt, size_t n, const struct eval_stop *stop, struct ling_u32s *out,
		    enum eval_stop_reason *why, struct ling_err *err)
{
	struct script *s = ctx;
	const char *turn;
	size_t k;

	s->calls++;
	if (s->fail_at == s->calls)
		return ling_err_set(err, LING_EDATA, "prompt longer than the context");
	if (s->nprompts < 16) {
		s->prompts[s->nprompts].n = 0;
		for (k = 0; k < n; k++)
			ling_u32s_push(&s->prompts[s->nprompts], prompt[k]);
	}
	turn = s->turn < s->nturns ? s->turns[s->turn] : "I cannot say.<|im_end|>";
	if (!s->off) {
		s->ids.n = 0;
		if (tok_encode(s->tok, turn, strlen(turn), TOK_ENCODE_SPECIAL, &s->ids, err))
			return LING_EDATA;
	}
	out->n = 0;
	*why = EVAL_STOP_LENGTH;
	while (s->off < s->ids.n && (int)out->n < stop->max_new_tokens) {
		uint32_t id = s->ids.v[s->off++];

		ling_u32s_push(out, id);
		for (k = 0; k < stop->ntokens; k++)
			if (stop->tokens[k] == id)
				*why = EVAL_STOP_TOKEN;
		if (*why == EVAL_STOP_TOKEN)
			break;
		if (ends_with_string(s, out, stop)) {
			*why = EVAL_STOP_STRING;
			break;
		}
	}
	if (s->nprompts < 16) {
		s->outs[s->nprompts].n = 0;
		for (k = 0; k < out->n; k++)
			ling_u32s_push(&s->outs[s->nprompts], out->v[k]);
		s->nprompts++;
	}
	if (s->off == s->ids.n || *why == EVAL_STOP_TOKEN || *why == EVAL_STOP_LENGTH) {
		s->turn++;
		s->off = 0;
	}
	return 0;
}

static void script_release(struct script *s)
{
	size_t k;

	ling_u32s_release(&s->ids);
	for (k = 0; k < 16; k++) {
		ling_u32s_release(&s->prompts[k]);
		ling_u32s_release(&s->outs[k]);
	}
}

/* The text of prompt k (special tokens as their text). */
static const char *prompt_text(struct script *s, size_t k)
{
	static struct ling_buf b = LING_BUF_INIT;
	struct ling_err err;

	ling_buf_reset(&b);
	if (k < s->nprompts && !tok_decode(s->tok, s->prompts[k].v, s->prompts[k].n, &b, &err) && b.data)
		return b.data;
	return "";
}

/* ---- the fixtures of a test ---- */

static struct tok *tok;
static struct kg_store *films, *towns;
static struct kg_toolset *films_tools, *towns_tools;
static const char *director; /* the name of the directedBy forward tool */

struct seen {
	int turns, calls;
};

static void on_turn(void *ctx, const struct eval_turn *t)
{
	struct seen *s = ctx;

	s->turns++;
	s->calls += (int)t->calls.n;
}

static int ask(struct script *s, const char *const *turns, size_t nturns, struct eval_agent_opts *o,
	       const char *question, struct eval_transcript *tr, struct ling_err *err)
{
	struct eval_agent *a = NULL;
	int rc;

	memset(s, 0, sizeof(*s));
	s->tok = tok;
	s->turns = turns;
	s->nturns = nturns;
	o->gen.generate = scripted;
	o->gen.ctx = s;
	o->tok = tok;
	if (!o->store) {
		o->store = films;
		o->tools = films_tools;
	}
	ling_err_clear(err);
	memset(tr, 0, sizeof(*tr));
	if ((rc = eval_agent_new(&a, o, err)))
		return rc;
	rc = eval_agent_ask(a, question, tr, err);
	eval_agent_free(a);
	return rc;
}

static char *call_text(const char *name, const char *args)
{
	struct ling_buf b = LING_BUF_INIT;

	ling_buf_addf(&b, "<tool_call>\n{\"name\": \"%s\", \"arguments\": %s}\n</tool_call>", name, args);
	return b.data;
}

static void test_call_then_answer(void)
{
	char *call = call_text(director, "{\"film\":\"Alien\"}"), *turn0 = NULL;
	struct ling_buf b = LING_BUF_INIT;
	const char *turns[2];
	struct eval_agent_opts o;
	struct eval_transcript tr;
	struct script s;
	struct seen seen = { 0, 0 };
	struct ling_err err;
	size_t k;
	int rc, prefix;

	ling_buf_addf(&b, "%s<|im_end|>", call);
	turn0 = xstrdup(b.data);
	turns[0] = turn0;
	turns[1] = "Ridley Scott directed Alien.<|im_end|>";
	memset(&o, 0, sizeof(o));
	o.system = "Answer with the tools.";
	o.on_turn = on_turn;
	o.on_turn_ctx = &seen;
	rc = ask(&s, turns, 2, &o, "Who directed Alien?", &tr, &err);
	ok(rc == 0, "call then answer: ask succeeds (%s)", rc ? err.msg : "");
	is_int(tr.nturns, 2, "two turns");
	is_int(s.calls, 3, "three generations: the call (stopped at </tool_call>), the end of its turn, the answer");
	if (tr.nturns == 2) {
		is_int(tr.turns[0].calls.n, 1, "the first turn has one call");
		ok(tr.turns[0].calls.n == 1 && tr.turns[0].ok[0] == 1, "it was executed");
		ok(tr.turns[0].calls.n == 1 && !strcmp(tr.turns[0].results[0], "[\"Ridley Scott\"]"),
		   "its result is the store's: %s", tr.turns[0].calls.n ? tr.turns[0].results[0] : "");
		is_str(tr.turns[0].text, call, "the turn's text is what the model wrote, without <|im_end|>");
		is_int(tr.turns[0].why, EVAL_STOP_TOKEN, "the first turn ended at <|im_end|>");
		is_int(tr.turns[1].calls.n, 0, "the second turn calls nothing");
	}
	is_str(tr.answer, "Ridley Scott directed Alien.", "the answer is the last turn's text");
	is_int(tr.round_limit, 0, "no round limit");
	is_int(seen.turns, 2, "on_turn saw both turns");
	is_int(seen.calls, 1, "on_turn saw the call");
	ok(tr.prompt_tokens == s.prompts[0].n + s.prompts[1].n + s.prompts[2].n &&
		   tr.generated_tokens == s.outs[0].n + s.outs[1].n + s.outs[2].n,
	   "token counts: %llu prompt, %llu generated", (unsigned long long)tr.prompt_tokens,
	   (unsigned long long)tr.generated_tokens);

	ok(strstr(prompt_text(&s, 0), "<|im_start|>system\nAnswer with the tools.\n\n# Tools\n") != NULL,
	   "the first prompt: the system prompt, then the tools block");
	ok(strstr(prompt_text(&s, 0), director) != NULL, "the first prompt offers the tool");
	ling_buf_reset(&b);
	ling_buf_adds(&b, "<|im_start|>user\nWho directed Alien?<|im_end|>\n<|im_start|>assistant\n");
	{
		const char *p0 = prompt_text(&s, 0);
		size_t n0 = strlen(p0);

		ok(n0 >= b.len && !strcmp(p0 + n0 - b.len, b.data), "the first prompt ends with the question and the generation prompt");
	}
	ling_buf_reset(&b);
	ling_buf_addf(&b, "Who directed Alien?<|im_end|>\n<|im_start|>assistant\n%s<|im_end|>\n<|im_start|>user\n"
			  "<tool_response>\n[\"Ridley Scott\"]\n</tool_response><|im_end|>\n<|im_start|>assistant\n",
		      call);
	{
		const char *p1 = prompt_text(&s, 2);
		size_t n1 = strlen(p1);

		ok(n1 >= b.len && !strcmp(p1 + n1 - b.len, b.data),
		   "the second prompt: the call as the template renders it, the result as a tool response");
		if (!(n1 >= b.len && !strcmp(p1 + n1 - b.len, b.data)))
			diag("got: %s", p1);
	}
	/* What the KV cache relies on: the history re-rendered is the tokens the model wrote. */
	prefix = s.prompts[1].n == s.prompts[0].n + s.outs[0].n &&
		 s.prompts[2].n >= s.prompts[0].n + s.outs[0].n + s.outs[1].n;
	for (k = 0; prefix && k < s.prompts[1].n; k++)
		prefix = s.prompts[2].v[k] == s.prompts[1].v[k] &&
			 s.prompts[1].v[k] == (k < s.prompts[0].n ? s.prompts[0].v[k] : s.outs[0].v[k - s.prompts[0].n]);
	for (k = 0; prefix && k < s.outs[1].n; k++)
		prefix = s.prompts[2].v[s.prompts[1].n + k] == s.outs[1].v[k];
	ok(prefix, "the turn goes on from its own tokens; the next prompt begins with the prompt and all the tokens generated");
	eval_transcript_free(&tr);
	script_release(&s);
	free(call);
	free(turn0);
	ling_buf_release(&b);
}

static void test_parallel_and_cut(void)
{
	char *c1 = call_text(director, "{\"film\":\"Alien\"}"), *c2 = call_text(director, "{\"film\":\"Witness\"}");
	struct ling_buf t0 = LING_BUF_INIT, t1 = LING_BUF_INIT;
	const char *turns[2];
	struct eval_agent_opts o;
	struct eval_transcript tr;
	struct script s;
	struct ling_err err;
	int rc;

	ling_buf_addf(&t0, "%s\n%s<|im_end|>", c1, c2);
	turns[0] = t0.data;
	turns[1] = "Ridley Scott and Peter Weir.<|im_end|>";
	memset(&o, 0, sizeof(o));
	rc = ask(&s, turns, 2, &o, "Who directed Alien and Witness?", &tr, &err);
	ok(rc == 0 && tr.nturns == 2, "parallel calls: two turns");
	is_int(s.calls, 4, "the first turn took three generations (stops after each </tool_call>), then the answer");
	if (tr.nturns == 2 && tr.turns[0].calls.n == 2) {
		ok(tr.turns[0].ok[0] && tr.turns[0].ok[1], "both calls executed");
		is_str(tr.turns[0].results[1], "[\"Peter Weir\"]", "the second call's result");
	} else {
		ok(0, "two calls in the first turn");
	}
	ok(strstr(prompt_text(&s, 3), "<tool_response>\n[\"Ridley Scott\"]\n</tool_response>\n<tool_response>\n"
				      "[\"Peter Weir\"]\n</tool_response><|im_end|>") != NULL,
	   "both results go back, in order, in one user turn");
	eval_transcript_free(&tr);
	script_release(&s);

	/* A model that writes the tool's response itself: cut after the call. */
	ling_buf_addf(&t1, "%s\n<tool_response>\n[\"Someone Else\"]\n</tool_response><|im_end|>", c1);
	turns[0] = t1.data;
	turns[1] = "Ridley Scott.<|im_end|>";
	rc = ask(&s, turns, 2, &o, "Who directed Alien?", &tr, &err);
	ok(rc == 0 && tr.nturns == 2 && tr.turns[0].calls.n == 1, "a made-up tool response: one call");
	if (tr.nturns == 2) {
		is_str(tr.turns[0].text, c1, "the turn ends at its </tool_call>");
		is_int(tr.turns[0].why, EVAL_STOP_STRING, "stopped by the string");
	}
	ok(!strstr(prompt_text(&s, 2), "Someone Else"), "the made-up response never reaches the model");
	ok(strstr(prompt_text(&s, 2), "[\"Ridley Scott\"]") != NULL, "the store's does");
	eval_transcript_free(&tr);
	script_release(&s);
	free(c1);
	free(c2);
	ling_buf_release(&t0);
	ling_buf_release(&t1);
}

static void test_malformed_then_recovery(void)
{
	char *good = call_text(director, "{\"film\":\"Alien\"}");
	struct ling_buf t1 = LING_BUF_INIT;
	const char *turns[3];
	struct eval_agent_opts o;
	struct eval_transcript tr;
	struct script s;
	struct ling_err err;
	int rc;

	turns[0] = "<tool_call>\n{\"name\": \"get_film_director\", \"arguments\": }\n</tool_call><|im_end|>";
	ling_buf_addf(&t1, "%s<|im_end|>", good);
	turns[1] = t1.data;
	turns[2] = "Ridley Scott.<|im_end|>";
	memset(&o, 0, sizeof(o));
	rc = ask(&s, turns, 3, &o, "Who directed Alien?", &tr, &err);
	ok(rc == 0 && tr.nturns == 3, "malformed then recovery: three turns (%s)", rc ? err.msg : "");
	if (tr.nturns == 3) {
		ok(tr.turns[0].calls.n == 1 && tr.turns[0].calls.v[0].error && tr.turns[0].ok[0] == 0,
		   "the malformed call is recorded as such, not executed");
		ok(tr.turns[0].calls.n == 1 && !strncmp(tr.turns[0].results[0], "{\"error\":\"the <tool_call> block is not JSON", 43),
		   "its result is an error: %s", tr.turns[0].calls.n ? tr.turns[0].results[0] : "");
		ok(tr.turns[1].calls.n == 1 && tr.turns[1].ok[0] == 1, "the retry is executed");
	}
	ok(strstr(prompt_text(&s, 2), "\"arguments\": }\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n{\"error\":") !=
		   NULL,
	   "the model sees what it wrote and the error");
	is_str(tr.answer, "Ridley Scott.", "then answers");
	eval_transcript_free(&tr);
	script_release(&s);
	free(good);
	ling_buf_release(&t1);
}

/* One turn of one call, then "Done.": the result of the call. */
static char *result_of(const char *name, const char *args, struct eval_agent_opts *o, int *ok_out)
{
	char *call = call_text(name, args);
	struct ling_buf t0 = LING_BUF_INIT;
	const char *turns[2];
	struct eval_transcript tr;
	struct script s;
	struct ling_err err;
	char *res = NULL;

	ling_buf_addf(&t0, "%s<|im_end|>", call);
	turns[0] = t0.data;
	turns[1] = "Done.<|im_end|>";
	*ok_out = -1;
	if (!ask(&s, turns, 2, o, "Who directed Alien?", &tr, &err) && tr.nturns == 2 && tr.turns[0].calls.n == 1) {
		res = xstrdup(tr.turns[0].results[0]);
		*ok_out = tr.turns[0].ok[0];
	} else {
		diag("ask: %s", err.msg);
	}
	eval_transcript_free(&tr);
	script_release(&s);
	free(call);
	ling_buf_release(&t0);
	return res;
}

static void test_bad_calls(void)
{
	struct eval_agent_opts o;
	const char *only[1];
	char *r;
	int okv;

	memset(&o, 0, sizeof(o));
	r = result_of("no_such_tool", "{\"film\":\"Alien\"}", &o, &okv);
	ok(r && !strcmp(r, "{\"error\":\"unknown tool 'no_such_tool'\"}") && okv == 0, "an unknown tool: %s", r);
	free(r);

	r = result_of(director, "{\"film\":3}", &o, &okv);
	ok(r && !strncmp(r, "{\"error\":", 9) && okv == 0, "an argument of the wrong type: %s", r);
	free(r);

	r = result_of(director, "{\"movie\":\"Alien\"}", &o, &okv);
	ok(r && !strncmp(r, "{\"error\":", 9) && okv == 0, "an unknown parameter: %s", r);
	free(r);

	r = result_of(director, "{\"film\":\"No Such Film\"}", &o, &okv);
	ok(r && strstr(r, "no entity is named") && okv == 0, "a name no entity has: an error result (%s)", r);
	free(r);

	/* Offered: only search_entities; the director tool exists in the store but is not offered. */
	only[0] = "search_entities";
	o.offer = only;
	o.noffer = 1;
	r = result_of(director, "{\"film\":\"Alien\"}", &o, &okv);
	ok(r && strstr(r, "unknown tool") && okv == 0, "a tool of the store that is not offered is unknown: %s", r);
	free(r);

	/* A store without the tool the question needs. */
	memset(&o, 0, sizeof(o));
	o.store = towns;
	o.tools = towns_tools;
	r = result_of(director, "{\"film\":\"Alien\"}", &o, &okv);
	ok(r && strstr(r, "unknown tool") && okv == 0, "a store without the tool: an error result: %s", r);
	free(r);
}

static void test_limits(void)
{
	char *call = call_text(director, "{\"film\":\"Alien\"}");
	struct ling_buf t = LING_BUF_INIT;
	const char *turns[4];
	struct eval_agent_opts o;
	struct eval_transcript tr;
	struct script s;
	struct ling_err err;
	int rc;

	ling_buf_addf(&t, "%s<|im_end|>", call);
	turns[0] = turns[1] = turns[2] = turns[3] = t.data;
	memset(&o, 0, sizeof(o));
	o.max_rounds = 2;
	rc = ask(&s, turns, 4, &o, "Who directed Alien?", &tr, &err);
	ok(rc == 0, "round limit: ask succeeds");
	is_int(tr.nturns, 3, "max_rounds 2: three turns generated");
	is_int(tr.round_limit, 1, "round_limit set");
	is_str(tr.answer, "", "no answer");
	ok(tr.nturns == 3 && tr.turns[2].ok[0] == 1, "the last turn's call is still executed and recorded");
	eval_transcript_free(&tr);
	script_release(&s);

	/* A turn cut by max_new_tokens inside its block. */
	memset(&o, 0, sizeof(o));
	o.max_new_tokens = 8;
	o.max_rounds = 1;
	rc = ask(&s, turns, 4, &o, "Who directed Alien?", &tr, &err);
	ok(rc == 0 && tr.nturns >= 1, "max_new_tokens: ask succeeds");
	if (tr.nturns >= 1) {
		is_int(tr.turns[0].why, EVAL_STOP_LENGTH, "the turn stopped at its length");
		ok(tr.turns[0].calls.n == 1 && tr.turns[0].calls.v[0].error && !tr.turns[0].ok[0],
		   "its unclosed block is a malformed call");
	}
	eval_transcript_free(&tr);
	script_release(&s);

	/* An error of generation is the result, with the turns so far. */
	memset(&o, 0, sizeof(o));
	memset(&s, 0, sizeof(s));
	{
		struct eval_agent *a = NULL;

		s.tok = tok;
		s.turns = turns;
		s.nturns = 4;
		s.fail_at = 3; /* the first generation of the second turn */
		o.gen.generate = scripted;
		o.gen.ctx = &s;
		o.tok = tok;
		o.store = films;
		o.tools = films_tools;
		ling_err_clear(&err);
		rc = eval_agent_new(&a, &o, &err);
		if (!rc)
			rc = eval_agent_ask(a, "Who directed Alien?", &tr, &err);
		ok(rc == LING_EDATA && strstr(err.msg, "context"), "a generation error is returned: %s", err.msg);
		is_int(tr.nturns, 1, "with the turn before it");
		eval_transcript_free(&tr);
		rc = eval_agent_ask(a, "\xff bad", &tr, &err);
		ok(rc == LING_EDATA && tr.nturns == 0 && tr.answer && !*tr.answer, "a question that is not UTF-8: LING_EDATA");
		eval_transcript_free(&tr);
		eval_agent_free(a);
	}
	script_release(&s);
	free(call);
	ling_buf_release(&t);
}

static void test_new(void)
{
	struct eval_agent_opts o;
	struct eval_agent *a = NULL;
	struct ling_err err;
	const char *offer[1] = { "no_such_tool" };
	struct script s;

	memset(&s, 0, sizeof(s));
	memset(&o, 0, sizeof(o));
	o.gen.generate = scripted;
	o.gen.ctx = &s;
	o.tok = tok;
	o.store = films;
	o.tools = films_tools;
	o.offer = offer;
	o.noffer = 1;
	ling_err_clear(&err);
	ok(eval_agent_new(&a, &o, &err) == LING_EUSAGE && !a && strstr(err.msg, "no_such_tool"),
	   "offering a tool the store lacks: %s", err.msg);
	o.offer = NULL;
	o.template_name = "llama";
	ok(eval_agent_new(&a, &o, &err) == LING_EUSAGE && !a, "an unknown template: %s", err.msg);
	o.template_name = "ling";
	ok(eval_agent_new(&a, &o, &err) == LING_EUSAGE && !a && strstr(err.msg, "<|role_end|>"),
	   "the ling template on a ChatML tokenizer: %s", err.msg);
	o.template_name = NULL;
	o.gen.generate = NULL;
	ok(eval_agent_new(&a, &o, &err) == LING_EUSAGE && !a, "no generator: LING_EUSAGE");
	eval_agent_free(NULL);
	ok(1, "eval_agent_free(NULL)");
}

/* tok_chat_prompt is tok_chat_render of the same conversation, then the generation prompt. */
static void test_chat_prompt(void)
{
	static const char conv[] =
		"{\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{}}}],"
		"\"messages\":[{\"role\":\"user\",\"content\":\"Who directed Alien?\"},"
		"{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"type\":\"function\",\"function\":"
		"{\"name\":\"f\",\"arguments\":\"{\\\"film\\\":\\\"Alien\\\"}\"}}]},"
		"{\"role\":\"tool\",\"content\":\"[\\\"Ridley Scott\\\"]\"}]}";
	struct ling_u32s ids = LING_U32S_INIT, want = LING_U32S_INIT, mask = LING_U32S_INIT;
	struct ling_buf text = LING_BUF_INIT;
	struct tok_chat *c = NULL, *c2 = NULL;
	struct ling_err err;
	json_t *sample = json_loads(conv, 0, NULL);
	size_t k;
	int same;

	ling_err_clear(&err);
	ok(tok_chat_open(&c, "qwen", tok, &err) == 0, "tok_chat_open qwen");
	ok(tok_chat_new(&c2, TOK_CHAT_QWEN, tok, &err) == 0 && !tok_chat_render(c2, sample, &want, &mask, NULL, &err) &&
		   !tok_encode(tok, "<|im_start|>assistant\n", 22, TOK_ENCODE_SPECIAL, &want, &err),
	   "the renderer of tokenize build");
	ok(c && tok_chat_prompt(c, conv, strlen(conv), &ids, &text, &err) == 0, "tok_chat_prompt");
	same = ids.n == want.n;
	for (k = 0; same && k < ids.n; k++)
		same = ids.v[k] == want.v[k];
	ok(same, "the same ids, then the generation prompt's (%zu, %zu)", ids.n, want.n);
	ok(text.len > 22 && !strcmp(text.data + text.len - 22, "<|im_start|>assistant\n"), "the text ends with it");
	is_int(tok_chat_end_of_turn(c), tok_token_id(tok, "<|im_end|>", 10), "the end of turn is <|im_end|>");
	ids.n = 0;
	ok(tok_chat_prompt(c, "{\"messages\":[]}", 15, &ids, NULL, &err) == LING_EDATA && ids.n == 0,
	   "no messages: LING_EDATA (%s)", err.msg);
	ok(tok_chat_prompt(c, "{\"messages\"", 11, &ids, NULL, &err) == LING_EDATA, "not JSON: LING_EDATA (%s)", err.msg);
	tok_chat_free(c2);
	ok(tok_chat_open(&c2, "chatml", tok, &err) == LING_EUSAGE && !c2, "an unknown template name: %s", err.msg);
	tok_chat_free(c);
	json_decref(sample);
	ling_u32s_release(&ids);
	ling_u32s_release(&want);
	ling_u32s_release(&mask);
	ling_buf_release(&text);
}

/* What either template renders for an assistant turn with calls, read back by eval_parse_calls. */
static void test_render_round_trip(const char *tpl, struct tok *t, const char *header, const char *eot)
{
	static const char conv[] =
		"{\"tools\":[],\"messages\":[{\"role\":\"user\",\"content\":\"Q\"},"
		"{\"role\":\"assistant\",\"content\":\"Let me see.\",\"tool_calls\":["
		"{\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"film\\\":\\\"Alien \\\\\\\"X\\\\\\\"\\\"}\"}},"
		"{\"type\":\"function\",\"function\":{\"name\":\"g\",\"arguments\":{\"sets\":[[\"a\"],[\"b\",\"\u00e9\"]]}}}]},"
		"{\"role\":\"tool\",\"content\":\"[]\"}]}";
	struct ling_u32s ids = LING_U32S_INIT;
	struct ling_buf text = LING_BUF_INIT;
	struct tok_chat *c = NULL;
	struct ling_err err;
	struct eval_calls calls = { NULL, 0, NULL };
	const char *at, *end;

	ling_err_clear(&err);
	if (!ok(t && !tok_chat_open(&c, tpl, t, &err) && !tok_chat_prompt(c, conv, strlen(conv), &ids, &text, &err),
		"%s: rendered (%s)", tpl, err.msg))
		goto out;
	at = strstr(text.data, header);
	end = at ? strstr(at, eot) : NULL;
	if (!ok(at && end, "%s: the assistant turn is in the text", tpl))
		goto out;
	at += strlen(header);
	eval_parse_calls(tpl, at, (size_t)(end - at), &calls);
	ok(calls.n == 2 && !calls.v[0].error && !calls.v[1].error, "%s: two calls read back", tpl);
	if (calls.n == 2 && !calls.v[0].error && !calls.v[1].error) {
		is_str(calls.v[0].name, "f", "%s: the first name", tpl);
		is_str(calls.v[0].arguments, "{\"film\":\"Alien \\\"X\\\"\"}", "%s: string arguments, as written", tpl);
		is_str(calls.v[1].arguments, "{\"sets\":[[\"a\"],[\"b\",\"\u00e9\"]]}", "%s: object arguments, compact", tpl);
	}
	is_str(calls.content, "Let me see.", "%s: the content", tpl);
out:
	eval_calls_free(&calls);
	tok_chat_free(c);
	ling_u32s_release(&ids);
	ling_buf_release(&text);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		ok(0, "mkdtemp");
		return done_testing();
	}
	tok = small_tokenizer(0);
	films = make_store("films", films_ttl);
	towns = make_store("towns", towns_ttl);
	films_tools = films ? toolset(films) : NULL;
	towns_tools = towns ? toolset(towns) : NULL;
	if (!ok(tok && films_tools && towns_tools, "fixtures: a tokenizer, two stores and their tools"))
		return done_testing();
	director = forward_tool(films_tools, "http://ex.org/directedBy");
	ok(kg_toolset_find(films_tools, director) != NULL, "the store has a director tool: %s", director);
	ok(!kg_toolset_find(towns_tools, director), "the other store has none");
	test_chat_prompt();
	test_render_round_trip("qwen", tok, "<|im_start|>assistant\n", "<|im_end|>");
	{
		struct tok *ling = small_tokenizer(1);

		test_render_round_trip("ling", ling, "<role>ASSISTANT</role>", "<|role_end|>");
		tok_free(ling);
	}
	test_new();
	test_call_then_answer();
	test_parallel_and_cut();
	test_malformed_then_recovery();
	test_bad_calls();
	test_limits();
	kg_toolset_free(films_tools);
	kg_toolset_free(towns_tools);
	kg_store_close(films);
	kg_store_close(towns);
	tok_free(tok);
	fixture_remove_tree(tmpdir);
	return done_testing();
}
