/*
 * eval_agent: the loop of a tool-calling model on a knowledge graph (Ling TR
 * §1d; DESIGN.md §1). The conversation is kept as the JSON of a chat sample
 * (doc/kg2samples-format.md) and rendered each round by tokenize/'s
 * tok_chat_prompt, the code `tokenize build` rendered the training data
 * with, so the model reads its history exactly as it was trained to. Calls
 * run through kg_tool_call, the code of `kg-query --call`, whose result
 * text is what kg2samples put in the tool messages.
 *
 * A turn may hold several calls (parallel calls: blocks one after another).
 * Generation stops at each "</tool_call>" so that a model that goes on to
 * invent the tool's response is cut there; the turn is then continued as
 * long as the continuation is another <tool_call> block or the end of the
 * turn, and a continuation that is anything else is dropped.
 */
#include "eval.h"

#include "../common/ling_json.h"
#include "../common/ling_utf8.h"
#include "../kg/kg.h"
#include "../tokenize/tokenize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

#define DEFAULT_MAX_ROUNDS 5
#define DEFAULT_MAX_NEW_TOKENS 512

static const char call_end[] = "</tool_call>";

struct eval_agent {
	struct eval_generator gen;
	struct tok *tok;
	struct kg_store *store;
	const struct kg_toolset *tools;
	char **offer;                /* the names of the tools offered (copies) */
	size_t noffer;
	char *system;
	int max_rounds, max_new_tokens;
	void (*on_turn)(void *ctx, const struct eval_turn *turn);
	void *on_turn_ctx;

	struct tok_chat *chat;
	uint32_t stop_ids[2];        /* the end of turn, and <|endoftext|> when the tokenizer has it */
	size_t nstop;
	struct ling_buf tools_json;  /* the "tools" array of the conversation */
	struct ling_buf messages;    /* the messages so far, comma-separated JSON objects */
	struct ling_buf conv;        /* scratch: the whole conversation */
	struct ling_u32s prompt, seg, turn;
	struct ling_buf text;
};

static int offered(const struct eval_agent *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->noffer; i++)
		if (!strcmp(a->offer[i], name))
			return 1;
	return 0;
}

/* The offered tools' OpenAI objects, as kg2samples lists them in a sample's "tools". */
static void build_tools_json(struct eval_agent *a)
{
	size_t i;

	ling_buf_addc(&a->tools_json, '[');
	for (i = 0; i < a->noffer; i++) {
		if (i)
			ling_buf_addc(&a->tools_json, ',');
		ling_buf_adds(&a->tools_json, kg_toolset_find(a->tools, a->offer[i])->schema);
	}
	ling_buf_addc(&a->tools_json, ']');
}

static int copy_offer(struct eval_agent *a, const struct eval_agent_opts *o, struct ling_err *err)
{
	size_t i, n = o->offer ? o->noffer : a->tools->ntools;

	a->offer = xcalloc(n ? n : 1, sizeof(*a->offer));
	for (i = 0; i < n; i++) {
		const char *name = o->offer ? o->offer[i] : a->tools->tools[i].name;

		if (!name || !kg_toolset_find(a->tools, name))
			return ling_err_set(err, LING_EUSAGE, "no tool '%s' in the store's catalogue (kg-query --tools lists it)",
					    name ? name : "(null)");
		if (offered(a, name))
			continue;
		a->offer[a->noffer++] = xstrdup(name);
	}
	return 0;
}

int eval_agent_new(struct eval_agent **out, const struct eval_agent_opts *o, struct ling_err *err)
{
	struct eval_agent *a;
	long eos;
	int rc;

	*out = NULL;
	if (!o->gen.generate || !o->tok || !o->store || !o->tools)
		return ling_err_set(err, LING_EUSAGE, "the agent needs a generator, a tokenizer, a store and its tools");
	if (o->max_rounds < 0 || o->max_new_tokens < 0)
		return ling_err_set(err, LING_EUSAGE, "max_rounds and max_new_tokens must not be negative");
	if (o->system && ling_utf8_valid_prefix(o->system, strlen(o->system)) != strlen(o->system))
		return ling_err_set(err, LING_EUSAGE, "the system prompt is not valid UTF-8");
	a = xcalloc(1, sizeof(*a));
	a->gen = o->gen;
	a->tok = o->tok;
	a->store = o->store;
	a->tools = o->tools;
	a->system = o->system ? xstrdup(o->system) : NULL;
	a->max_rounds = o->max_rounds ? o->max_rounds : DEFAULT_MAX_ROUNDS;
	a->max_new_tokens = o->max_new_tokens ? o->max_new_tokens : DEFAULT_MAX_NEW_TOKENS;
	a->on_turn = o->on_turn;
	a->on_turn_ctx = o->on_turn_ctx;
	if ((rc = copy_offer(a, o, err)) ||
	    (rc = tok_chat_open(&a->chat, o->template_name ? o->template_name : "qwen", o->tok, err)))
		goto fail;
	a->stop_ids[a->nstop++] = tok_chat_end_of_turn(a->chat);
	eos = tok_token_id(o->tok, "<|endoftext|>", strlen("<|endoftext|>"));
	if (eos >= 0 && (uint32_t)eos != a->stop_ids[0])
		a->stop_ids[a->nstop++] = (uint32_t)eos;
	build_tools_json(a);
	*out = a;
	return 0;
fail:
	eval_agent_free(a);
	return rc;
}

void eval_agent_free(struct eval_agent *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->noffer; i++)
		free(a->offer[i]);
	free(a->offer);
	free(a->system);
	tok_chat_free(a->chat);
	ling_buf_release(&a->tools_json);
	ling_buf_release(&a->messages);
	ling_buf_release(&a->conv);
	ling_u32s_release(&a->prompt);
	ling_u32s_release(&a->seg);
	ling_u32s_release(&a->turn);
	ling_buf_release(&a->text);
	free(a);
}

/* ---- the conversation ---- */

static void add_message(struct eval_agent *a, const char *role, const char *content)
{
	struct ling_json w;

	if (a->messages.len)
		ling_buf_addc(&a->messages, ',');
	ling_json_init(&w, &a->messages, 0);
	ling_json_object_begin(&w);
	ling_json_keyz(&w, "role");
	ling_json_strz(&w, role);
	ling_json_keyz(&w, "content");
	ling_json_strz(&w, content);
	ling_json_object_end(&w);
	ling_json_release(&w);
}

static int all_well_formed(const struct eval_calls *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->v[i].error)
			return 0;
	return 1;
}

/*
 * The assistant turn as the conversation keeps it. Well-formed calls go in
 * "tool_calls", which the template renders back to the blocks the model
 * wrote (their arguments compact, as kg2samples writes them). A turn with
 * a malformed block stays the text it was, calls and all: there is no call
 * to render it from, and the model should see what it wrote.
 */
static void add_assistant(struct eval_agent *a, const struct eval_turn *t)
{
	struct ling_json w;
	size_t i;

	if (!all_well_formed(&t->calls)) {
		add_message(a, "assistant", t->text);
		return;
	}
	ling_buf_addc(&a->messages, ',');
	ling_json_init(&w, &a->messages, 0);
	ling_json_object_begin(&w);
	ling_json_keyz(&w, "role");
	ling_json_strz(&w, "assistant");
	ling_json_keyz(&w, "content");
	ling_json_strz(&w, t->calls.content);
	ling_json_keyz(&w, "tool_calls");
	ling_json_array_begin(&w);
	for (i = 0; i < t->calls.n; i++) {
		char id[32];

		snprintf(id, sizeof(id), "call_%zu", i + 1);
		ling_json_object_begin(&w);
		ling_json_keyz(&w, "id");
		ling_json_strz(&w, id);
		ling_json_keyz(&w, "type");
		ling_json_strz(&w, "function");
		ling_json_keyz(&w, "function");
		ling_json_object_begin(&w);
		ling_json_keyz(&w, "name");
		ling_json_strz(&w, t->calls.v[i].name);
		ling_json_keyz(&w, "arguments");
		ling_json_strz(&w, t->calls.v[i].arguments);
		ling_json_object_end(&w);
		ling_json_object_end(&w);
	}
	ling_json_array_end(&w);
	ling_json_object_end(&w);
	ling_json_release(&w);
}

static void add_results(struct eval_agent *a, const struct eval_turn *t)
{
	size_t i;

	for (i = 0; i < t->calls.n; i++)
		add_message(a, "tool", t->results[i]);
}

/* The prompt of the next turn: system, tools, messages, the generation prompt. */
static int render(struct eval_agent *a, struct ling_err *err)
{
	ling_buf_reset(&a->conv);
	ling_buf_adds(&a->conv, "{\"tools\":");
	ling_buf_add(&a->conv, a->tools_json.data, a->tools_json.len);
	ling_buf_adds(&a->conv, ",\"messages\":[");
	ling_buf_add(&a->conv, a->messages.data ? a->messages.data : "", a->messages.len);
	ling_buf_adds(&a->conv, "]}");
	a->prompt.n = 0;
	return tok_chat_prompt(a->chat, a->conv.data, a->conv.len, &a->prompt, NULL, err);
}

/* ---- generating one turn ---- */

static int is_stop_id(const struct eval_agent *a, uint32_t id)
{
	size_t i;

	for (i = 0; i < a->nstop; i++)
		if (a->stop_ids[i] == id)
			return 1;
	return 0;
}

/* Decodes ids[0..n) into a->text (replaced), without a final stop token. */
static int decode(struct eval_agent *a, const uint32_t *ids, size_t n, struct ling_err *err)
{
	ling_buf_reset(&a->text);
	if (n && is_stop_id(a, ids[n - 1]))
		n--;
	return tok_decode(a->tok, ids, n, &a->text, err);
}

/* Whether a segment generated after a "</tool_call>" belongs to the turn: another call, or the end. */
static int continues_turn(struct eval_agent *a, const struct ling_u32s *seg, struct ling_err *err, int *yes)
{
	const char *s;
	size_t n;
	int rc;

	if ((rc = decode(a, seg->v, seg->n, err)))
		return rc;
	s = a->text.data ? a->text.data : "";
	n = a->text.len;
	while (n && (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')) {
		s++;
		n--;
	}
	*yes = n ? n >= 11 && !memcmp(s, "<tool_call>", 11) : seg->n && is_stop_id(a, seg->v[seg->n - 1]);
	return 0;
}

/*
 * Generates the assistant turn after a->prompt into a->turn, stopping at the
 * end of turn or max_new_tokens, as above.
 */
static int generate_turn(struct eval_agent *a, struct eval_transcript *tr, enum eval_stop_reason *why,
			 struct ling_err *err)
{
	const char *strings[] = { call_end };
	struct eval_stop stop = { a->stop_ids, a->nstop, strings, 1, a->max_new_tokens };
	size_t prompt_len = a->prompt.n, i;
	int rc, yes;

	a->turn.n = 0;
	for (;;) {
		a->seg.n = 0;
		tr->prompt_tokens += a->prompt.n;
		if ((rc = a->gen.generate(a->gen.ctx, a->prompt.v, a->prompt.n, &stop, &a->seg, why, err)))
			break;
		tr->generated_tokens += a->seg.n;
		if (a->turn.n) {
			if ((rc = continues_turn(a, &a->seg, err, &yes)))
				break;
			if (!yes) {
				*why = EVAL_STOP_STRING;
				break;
			}
		}
		for (i = 0; i < a->seg.n; i++)
			ling_u32s_push(&a->turn, a->seg.v[i]);
		stop.max_new_tokens = a->max_new_tokens - (int)a->turn.n;
		if (*why != EVAL_STOP_STRING || stop.max_new_tokens <= 0 || !a->seg.n)
			break;
		for (i = 0; i < a->seg.n; i++)
			ling_u32s_push(&a->prompt, a->seg.v[i]);
	}
	a->prompt.n = prompt_len;
	return rc;
}

/* ---- executing the calls ---- */

static char *error_result(const char *msg)
{
	struct ling_buf b = LING_BUF_INIT;
	struct ling_json w;

	ling_json_init(&w, &b, 0);
	ling_json_object_begin(&w);
	ling_json_keyz(&w, "error");
	/* A message cut at its 512 bytes may end inside a UTF-8 sequence. */
	ling_json_str(&w, msg, ling_utf8_valid_prefix(msg, strlen(msg)));
	ling_json_object_end(&w);
	ling_json_release(&w);
	return b.data;
}

/* Runs call c into *result: the store's answer, or an error result. @return 0 or a store error. */
static int execute(struct eval_agent *a, const struct eval_call *c, char **result, int *ok, struct ling_err *err)
{
	struct ling_buf res = LING_BUF_INIT;
	struct ling_err cerr;
	int rc;

	*ok = 0;
	if (c->error) {
		*result = error_result(c->error);
		return 0;
	}
	if (!offered(a, c->name)) {
		ling_err_clear(&cerr);
		ling_err_set(&cerr, LING_EUSAGE, "unknown tool '%s'", c->name);
		*result = error_result(cerr.msg);
		return 0;
	}
	ling_err_clear(&cerr);
	rc = kg_tool_call(a->store, a->tools, c->name, c->arguments, &res, &cerr);
	if (rc == LING_EDATA || rc == LING_EUSAGE) {
		*result = error_result(cerr.msg);
		rc = 0;
	} else if (rc) {
		*err = cerr;
	} else {
		*result = res.data ? res.data : xstrdup("[]");
		ling_buf_init(&res);
		*ok = 1;
	}
	ling_buf_release(&res);
	return rc;
}

static int execute_all(struct eval_agent *a, struct eval_turn *t, struct ling_err *err)
{
	size_t i;
	int rc;

	t->results = xcalloc(t->calls.n, sizeof(*t->results));
	t->ok = xcalloc(t->calls.n, sizeof(*t->ok));
	for (i = 0; i < t->calls.n; i++)
		if ((rc = execute(a, &t->calls.v[i], &t->results[i], &t->ok[i], err)))
			return rc;
	return 0;
}

/* ---- the loop ---- */

/*
 * The decoded turn as a C string. tok_decode gives valid UTF-8 (an invalid
 * byte sequence becomes U+FFFD), but a token may stand for a NUL byte: that
 * becomes U+FFFD too, or the text would end there.
 */
static char *text_of(const struct ling_buf *b)
{
	struct ling_buf t = LING_BUF_INIT;
	size_t i;

	for (i = 0; i < b->len; i++)
		if (b->data[i])
			ling_buf_addc(&t, b->data[i]);
		else
			ling_buf_adds(&t, "\xEF\xBF\xBD");
	return t.data ? t.data : xstrdup("");
}

static struct eval_turn *new_turn(struct eval_transcript *tr, size_t *cap)
{
	struct eval_turn *t;

	tr->turns = xgrow(tr->turns, cap, tr->nturns + 1, sizeof(*tr->turns));
	t = &tr->turns[tr->nturns++];
	memset(t, 0, sizeof(*t));
	return t;
}

static void start(struct eval_agent *a, const char *question)
{
	ling_buf_reset(&a->messages);
	if (a->system)
		add_message(a, "system", a->system);
	add_message(a, "user", question);
}

int eval_agent_ask(struct eval_agent *a, const char *question, struct eval_transcript *out, struct ling_err *err)
{
	size_t cap = 0;
	int round, rc = 0;

	memset(out, 0, sizeof(*out));
	if (ling_utf8_valid_prefix(question, strlen(question)) != strlen(question)) {
		rc = ling_err_set(err, LING_EDATA, "the question is not valid UTF-8");
		goto out;
	}
	start(a, question);
	for (round = 0;; round++) {
		struct eval_turn *t;
		enum eval_stop_reason why = EVAL_STOP_LENGTH;

		if ((rc = render(a, err)) || (rc = generate_turn(a, out, &why, err)) ||
		    (rc = decode(a, a->turn.v, a->turn.n, err)))
			break;
		t = new_turn(out, &cap);
		t->why = why;
		t->text = text_of(&a->text);
		eval_parse_calls(NULL, t->text, strlen(t->text), &t->calls);
		if ((rc = execute_all(a, t, err)))
			break;
		if (a->on_turn)
			a->on_turn(a->on_turn_ctx, t);
		if (!t->calls.n) {
			out->answer = xstrdup(t->calls.content);
			break;
		}
		if (round == a->max_rounds) {
			out->round_limit = 1;
			break;
		}
		add_assistant(a, t);
		add_results(a, t);
	}
out:
	if (!out->answer)
		out->answer = xstrdup("");
	return rc;
}

void eval_transcript_free(struct eval_transcript *t)
{
	size_t i, k;

	if (!t)
		return;
	for (i = 0; i < t->nturns; i++) {
		struct eval_turn *u = &t->turns[i];

		for (k = 0; k < u->calls.n && u->results; k++)
			free(u->results[k]);
		free(u->results);
		free(u->ok);
		free(u->text);
		eval_calls_free(&u->calls);
	}
	free(t->turns);
	free(t->answer);
	memset(t, 0, sizeof(*t));
}
