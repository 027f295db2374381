/*
 * synth_render: a finished sample as its JSON line, in the OpenAI chat format
 * (doc/kg2samples-format.md), as Hermes <tool_call> text, or as a BFCL v4
 * question with its ground truth.
 */
#include "synth_internal.h"

#include <jansson.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"


static void text_str(struct ling_buf *b, const struct synth_sample *s, uint32_t off, uint32_t len)
{
	ling_json_add_str(b, s->text.data + off, len, 0);
}

static void evidence_json(const struct synth_gen *gen, const struct synth_sample *s, struct ling_buf *b)
{
	const struct synth_graph *g = gen->g;
	const uint32_t *t = s->evidence.v;
	size_t i;

	ling_buf_addc(b, '[');
	for (i = 0; i < s->evidence.n / 3; i++) {
		if (i)
			ling_buf_addc(b, ',');
		ling_buf_addc(b, '[');
		ling_json_add_strz(b, synth_iri(g, t[3 * i]), 0);
		ling_buf_addc(b, ',');
		ling_json_add_strz(b, g->rel[t[3 * i + 1]].iri, 0);
		ling_buf_addc(b, ',');
		ling_json_add_strz(b, synth_iri(g, t[3 * i + 2]), 0);
		ling_buf_addc(b, ']');
	}
	ling_buf_addc(b, ']');
}

static void call_id(struct ling_buf *b, size_t j)
{
	char id[32];

	snprintf(id, sizeof(id), "\"call_%zu\"", j + 1);
	ling_buf_adds(b, id);
}

static const char *tool_name(const struct synth_gen *gen, uint32_t tool)
{
	return gen->g->ts->tools[tool].name;
}

/* OpenAI: tool_calls, then one tool message per call. */
static void calls_openai(const struct synth_gen *gen, const struct synth_sample *s, const struct synth_msg *m,
			 struct ling_buf *b)
{
	uint32_t j;

	ling_buf_adds(b, "{\"role\":\"assistant\",\"content\":");
	/* "" rather than null: chat templates (Qwen3's) read message.content as a string */
	if (m->has_text)
		text_str(b, s, m->text, m->text_len);
	else
		ling_buf_adds(b, "\"\"");
	ling_buf_adds(b, ",\"tool_calls\":[");
	for (j = m->call; j < m->call + m->ncalls; j++) {
		const struct synth_call *c = &s->call[j];

		if (j > m->call)
			ling_buf_addc(b, ',');
		ling_buf_adds(b, "{\"id\":");
		call_id(b, j);
		ling_buf_adds(b, ",\"type\":\"function\",\"function\":{\"name\":");
		ling_json_add_strz(b, tool_name(gen, c->tool), 0);
		ling_buf_adds(b, ",\"arguments\":");
		text_str(b, s, c->args, c->args_len);
		ling_buf_adds(b, "}}");
	}
	ling_buf_adds(b, "]}");
	for (j = m->call; j < m->call + m->ncalls; j++) {
		const struct synth_call *c = &s->call[j];

		ling_buf_adds(b, ",{\"role\":\"tool\",\"tool_call_id\":");
		call_id(b, j);
		ling_buf_adds(b, ",\"name\":");
		ling_json_add_strz(b, tool_name(gen, c->tool), 0);
		ling_buf_adds(b, ",\"content\":");
		text_str(b, s, c->res, c->res_len);
		ling_buf_addc(b, '}');
	}
}

/* Hermes / Qwen: <tool_call> JSON in the assistant's text, <tool_response> in the tool's. */
static void calls_hermes(const struct synth_gen *gen, const struct synth_sample *s, const struct synth_msg *m,
			 struct ling_buf *b, struct ling_buf *tmp)
{
	uint32_t j;

	ling_buf_reset(tmp);
	if (m->has_text) {
		ling_buf_add(tmp, s->text.data + m->text, m->text_len);
		ling_buf_addc(tmp, '\n');
	}
	for (j = m->call; j < m->call + m->ncalls; j++) {
		const struct synth_call *c = &s->call[j];

		if (j > m->call)
			ling_buf_addc(tmp, '\n');
		ling_buf_adds(tmp, "<tool_call>\n{\"name\": ");
		ling_json_add_strz(tmp, tool_name(gen, c->tool), 0);
		ling_buf_adds(tmp, ", \"arguments\": ");
		ling_buf_add(tmp, s->text.data + c->args, c->args_len);
		ling_buf_adds(tmp, "}\n</tool_call>");
	}
	ling_buf_adds(b, "{\"role\":\"assistant\",\"content\":");
	ling_json_add_str(b, tmp->data, tmp->len, 0);
	ling_buf_addc(b, '}');
	for (j = m->call; j < m->call + m->ncalls; j++) {
		const struct synth_call *c = &s->call[j];

		ling_buf_reset(tmp);
		ling_buf_adds(tmp, "<tool_response>\n{\"name\": ");
		ling_json_add_strz(tmp, tool_name(gen, c->tool), 0);
		ling_buf_adds(tmp, ", \"content\": ");
		ling_buf_add(tmp, s->text.data + c->res, c->res_len);
		ling_buf_adds(tmp, "}\n</tool_response>");
		ling_buf_adds(b, ",{\"role\":\"tool\",\"content\":");
		ling_json_add_str(b, tmp->data, tmp->len, 0);
		ling_buf_addc(b, '}');
	}
}

static json_t *parse_json(const char *text, size_t len)
{
	json_t *v = json_loadb(text, len, JSON_DECODE_ANY, NULL);

	/* the catalogue's schemas and the samples' arguments are verified JSON */
	if (!v)
		abort();
	return v;
}

/*
 * Appends v as JSON: compact, or with Python's ", " and ": " (as the tojson
 * of chat templates writes it); numbers in Python's shortest form (1.63, not
 * jansson's 1.6299999999999999), keys in their order, UTF-8 as it is.
 */
static void add_json(struct ling_buf *b, const json_t *v, int spaced)
{
	const char *key;
	json_t *e;
	size_t i = 0;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		ling_buf_addc(b, '{');
		json_object_foreach((json_t *)v, key, e) {
			if (i++)
				ling_buf_adds(b, spaced ? ", " : ",");
			ling_json_add_strz(b, key, spaced ? LING_JSON_LOWER_HEX : 0);
			ling_buf_adds(b, spaced ? ": " : ":");
			add_json(b, e, spaced);
		}
		ling_buf_addc(b, '}');
		break;
	case JSON_ARRAY:
		ling_buf_addc(b, '[');
		json_array_foreach(v, i, e) {
			if (i)
				ling_buf_adds(b, spaced ? ", " : ",");
			add_json(b, e, spaced);
		}
		ling_buf_addc(b, ']');
		break;
	case JSON_STRING:
		ling_json_add_str(b, json_string_value(v), json_string_length(v), spaced ? LING_JSON_LOWER_HEX : 0);
		break;
	case JSON_INTEGER: ling_json_add_int(b, json_integer_value(v)); break;
	case JSON_REAL: ling_json_add_real(b, json_real_value(v), LING_JSON_REAL_PYTHON); break;
	case JSON_TRUE: ling_buf_adds(b, "true"); break;
	case JSON_FALSE: ling_buf_adds(b, "false"); break;
	case JSON_NULL: ling_buf_adds(b, "null"); break;
	}
}

/*
 * Hermes keeps the tool definitions in the system prompt, in a <tools> block
 * with the call instructions, worded as Qwen3's (Hermes-style) chat template
 * words them, one tool object per line as its tojson writes them; the record
 * has no "tools" then, so nothing renders them twice.
 */
static void hermes_system(const struct synth_gen *gen, const struct synth_sample *s, struct ling_buf *out)
{
	size_t i;

	ling_buf_reset(out);
	ling_buf_add(out, s->text.data + s->system, s->system_len);
	if (!s->tools.n)
		return;
	ling_buf_adds(out, "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
			   "You are provided with function signatures within <tools></tools> XML tags:\n<tools>");
	for (i = 0; i < s->tools.n; i++) {
		const char *schema = gen->g->ts->tools[s->tools.v[i]].schema;
		json_t *tool = parse_json(schema, strlen(schema));

		ling_buf_addc(out, '\n');
		add_json(out, tool, 1);
		json_decref(tool);
	}
	ling_buf_adds(out, "\n</tools>\n\nFor each function call, return a json object with function name and "
			   "arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": "
			   "<function-name>, \"arguments\": <args-json-object>}\n</tool_call>");
}

static void render_chat(const struct synth_gen *gen, const struct synth_sample *s, const char *id,
			struct ling_buf *b)
{
	const struct synth_graph *g = gen->g;
	struct ling_buf tmp = LING_BUF_INIT;
	size_t i;
	char num[64];

	ling_buf_adds(b, "{\"id\":");
	ling_json_add_strz(b, id, 0);
	ling_buf_adds(b, s->instruction ? ",\"kind\":\"instruction\"" : ",\"kind\":\"tool_use\"");
	ling_buf_adds(b, ",\"category\":");
	ling_json_add_strz(b, synth_category_name(s->cat), 0);
	ling_buf_adds(b, ",\"pattern\":");
	if (s->pattern)
		ling_json_add_strz(b, s->pattern, 0);
	else
		ling_buf_adds(b, "null");
	if (gen->format == SYNTH_FORMAT_HERMES) {
		hermes_system(gen, s, &tmp);
		ling_buf_adds(b, ",\"messages\":[{\"role\":\"system\",\"content\":");
		ling_json_add_str(b, tmp.data, tmp.len, 0);
	} else {
		ling_buf_adds(b, ",\"tools\":");
		synth_sample_tools_json(g, s, b);
		ling_buf_adds(b, ",\"messages\":[{\"role\":\"system\",\"content\":");
		text_str(b, s, s->system, s->system_len);
	}
	ling_buf_addc(b, '}');
	for (i = 0; i < s->nmsg; i++) {
		const struct synth_msg *m = &s->msg[i];

		ling_buf_addc(b, ',');
		switch (m->role) {
		case SYNTH_MSG_USER:
		case SYNTH_MSG_REPLY:
			ling_buf_adds(b, m->role == SYNTH_MSG_USER ? "{\"role\":\"user\",\"content\":"
								    : "{\"role\":\"assistant\",\"content\":");
			text_str(b, s, m->text, m->text_len);
			ling_buf_addc(b, '}');
			break;
		case SYNTH_MSG_CALLS:
			if (gen->format == SYNTH_FORMAT_HERMES)
				calls_hermes(gen, s, m, b, &tmp);
			else
				calls_openai(gen, s, m, b);
			break;
		}
	}
	ling_buf_adds(b, "],\"answer\":");
	synth_names_json(g, s->answer.v, s->answer.n, b);
	snprintf(num, sizeof(num), ",\"meta\":{\"seed\":%" PRIu64 ",\"index\":%" PRIu64, gen->seed, s->index);
	ling_buf_adds(b, num);
	ling_buf_adds(b, ",\"store\":");
	ling_json_add_strz(b, gen->uuid, 0);
	ling_buf_adds(b, ",\"lang\":");
	ling_json_add_strz(b, gen->lang, 0);
	ling_buf_adds(b, ",\"evidence\":");
	evidence_json(gen, s, b);
	if (s->instruction) {
		ling_buf_adds(b, ",\"calls\":[");
		for (i = 0; i < s->ncall; i++) {
			const struct synth_call *c = &s->call[i];

			if (i)
				ling_buf_addc(b, ',');
			ling_buf_adds(b, "{\"name\":");
			ling_json_add_strz(b, tool_name(gen, c->tool), 0);
			ling_buf_adds(b, ",\"arguments\":");
			text_str(b, s, c->args, c->args_len);
			ling_buf_adds(b, ",\"result\":");
			text_str(b, s, c->res, c->res_len);
			ling_buf_addc(b, '}');
		}
		ling_buf_addc(b, ']');
	}
	ling_buf_adds(b, "}}");
	ling_buf_release(&tmp);
}

/*
 * BFCL v4 (Berkeley Function Calling Leaderboard), as bfcl-eval's loader and
 * AST checker read it: a question line {"id","question","function"} and a
 * ground-truth line {"id","ground_truth"}. The category follows from the
 * first tool-calling turn, as BFCL defines its single-turn categories: one
 * call of the one offered function is simple_python, one call among several
 * is multiple, several calls are parallel (one function offered) or
 * parallel_multiple; no call is irrelevance. The id is CATEGORY_INDEX, the
 * sample's index in the run (unique over shards), as BFCL parses ids.
 */
static const char *bfcl_category(const struct synth_sample *s, const struct synth_msg *first)
{
	if (!first)
		return "irrelevance";
	if (first->ncalls == 1)
		return s->tools.n == 1 ? "simple_python" : "multiple";
	return s->tools.n == 1 ? "parallel" : "parallel_multiple";
}

/* BFCL's type names for JSON Schema's: it has float for number and dict for object. */
static const char *bfcl_type(const char *t)
{
	if (!strcmp(t, "number"))
		return "float";
	if (!strcmp(t, "object"))
		return "dict";
	if (!strcmp(t, "null"))
		return "any";
	return t; /* string, integer, boolean, array */
}

static void bfcl_schema(json_t *schema);

static void bfcl_schemas(json_t *v)
{
	const char *key;
	json_t *e;
	size_t i;

	if (json_is_array(v))
		json_array_foreach(v, i, e)
			bfcl_schema(e);
	else if (json_is_object(v))
		json_object_foreach(v, key, e)
			bfcl_schema(e);
}

/* Rewrites a JSON Schema's types, at every depth, into BFCL's. */
static void bfcl_schema(json_t *schema)
{
	json_t *t;

	if (!json_is_object(schema))
		return;
	t = json_object_get(schema, "type");
	if (json_is_array(t)) { /* ["integer","null"]: BFCL has one type, the first that is not null */
		json_t *pick = NULL, *e;
		size_t i;

		json_array_foreach(t, i, e)
			if (json_is_string(e) && (!pick || !strcmp(json_string_value(pick), "null")))
				pick = e;
		json_object_set_new(schema, "type", json_string(pick ? bfcl_type(json_string_value(pick)) : "any"));
	} else if (json_is_string(t)) {
		json_object_set_new(schema, "type", json_string(bfcl_type(json_string_value(t))));
	}
	bfcl_schemas(json_object_get(schema, "properties"));
	bfcl_schema(json_object_get(schema, "items"));
	bfcl_schemas(json_object_get(schema, "anyOf"));
	bfcl_schemas(json_object_get(schema, "oneOf"));
	/* the checker reads parameters.required even when nothing is */
	if (json_object_get(schema, "properties") && !json_object_get(schema, "required"))
		json_object_set_new(schema, "required", json_array());
}

/*
 * A call's ground truth, {NAME: {PARAM: [allowed values]}}: a given argument
 * allows its value; a parameter the call leaves out allows "" (left out) and
 * its schema's default, so a model that writes the default is right too.
 */
static json_t *bfcl_truth(const struct kg_tool *t, const char *args, size_t len)
{
	json_t *given = parse_json(args, len), *schema = parse_json(t->parameters, strlen(t->parameters));
	json_t *props = json_object_get(schema, "properties"), *call = json_object(), *truth = json_object();
	const char *key;
	json_t *v;

	json_object_foreach(given, key, v)
		json_object_set_new(call, key, json_pack("[O]", v));
	json_object_foreach(props, key, v) {
		json_t *dflt = json_object_get(v, "default");

		if (json_object_get(call, key))
			continue;
		json_object_set_new(call, key, dflt ? json_pack("[sO]", "", dflt) : json_pack("[s]", ""));
	}
	json_object_set_new(truth, t->name, call);
	json_decref(given);
	json_decref(schema);
	return truth;
}

static void render_bfcl(const struct synth_gen *gen, const struct synth_sample *s, struct ling_buf *b,
			struct ling_buf *aux)
{
	const struct synth_graph *g = gen->g;
	const struct synth_msg *first = NULL;
	json_t *truth = json_array();
	size_t i, nuser = 0;
	uint32_t j;
	char id[96];

	for (i = 0; i < s->nmsg && !first; i++)
		if (s->msg[i].role == SYNTH_MSG_CALLS)
			first = &s->msg[i];
	snprintf(id, sizeof(id), "%s_%" PRIu64, bfcl_category(s, first), s->index);
	ling_buf_adds(b, "{\"id\":");
	ling_json_add_strz(b, id, 0);
	ling_buf_adds(b, ",\"question\":[");
	for (i = 0; i < s->nmsg; i++) {
		const struct synth_msg *m = &s->msg[i];

		if (m->role != SYNTH_MSG_USER)
			continue;
		if (nuser++)
			ling_buf_addc(b, ',');
		ling_buf_adds(b, "[{\"role\":\"user\",\"content\":");
		text_str(b, s, m->text, m->text_len);
		ling_buf_adds(b, "}]");
	}
	ling_buf_adds(b, "],\"function\":[");
	for (i = 0; i < s->tools.n; i++) {
		const struct kg_tool *t = &g->ts->tools[s->tools.v[i]];
		json_t *params = parse_json(t->parameters, strlen(t->parameters));

		if (i)
			ling_buf_addc(b, ',');
		ling_buf_adds(b, "{\"name\":");
		ling_json_add_strz(b, t->name, 0);
		ling_buf_adds(b, ",\"description\":");
		ling_json_add_strz(b, t->description, 0);
		ling_buf_adds(b, ",\"parameters\":");
		bfcl_schema(params);
		add_json(b, params, 0);
		json_decref(params);
		ling_buf_addc(b, '}');
	}
	ling_buf_adds(b, "]}");

	for (j = first ? first->call : 0; first && j < first->call + first->ncalls; j++) {
		const struct synth_call *c = &s->call[j];

		json_array_append_new(truth, bfcl_truth(&g->ts->tools[c->tool], s->text.data + c->args, c->args_len));
	}
	ling_buf_adds(aux, "{\"id\":");
	ling_json_add_strz(aux, id, 0);
	ling_buf_adds(aux, ",\"ground_truth\":");
	add_json(aux, truth, 0);
	ling_buf_addc(aux, '}');
	json_decref(truth);
}

void synth_render(const struct synth_gen *gen, const struct synth_sample *s, struct ling_buf *out,
		  struct ling_buf *aux)
{
	char hex[17], id[64];

	if (gen->format == SYNTH_FORMAT_BFCL) {
		render_bfcl(gen, s, out, aux);
		return;
	}
	synth_sample_id(gen->uuid, gen->seed, s->index, hex);
	snprintf(id, sizeof(id), "kg:%s:%s", synth_category_name(s->cat), hex);
	render_chat(gen, s, id, out);
}
