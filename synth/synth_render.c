/*
 * synth_render: a finished sample as its JSON line, in the OpenAI chat format
 * (doc/kg2samples-format.md), as Hermes <tool_call> text, or as a BFCL
 * question with its ground truth.
 */
#include "synth_internal.h"

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
	if (m->has_text)
		text_str(b, s, m->text, m->text_len);
	else
		ling_buf_adds(b, "null");
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
	ling_buf_adds(b, ",\"tools\":");
	synth_sample_tools_json(g, s, b);
	ling_buf_adds(b, ",\"messages\":[{\"role\":\"system\",\"content\":");
	text_str(b, s, s->system, s->system_len);
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
 * BFCL (Berkeley Function Calling Leaderboard): a question line with the
 * user turns and the offered functions, and a ground-truth line with the
 * calls of the first tool-calling turn, each argument as a list of allowed
 * values ({"get_x": {"film": ["Alien"]}}); [] for irrelevance.
 */
static void render_bfcl(const struct synth_gen *gen, const struct synth_sample *s, const char *id,
			struct ling_buf *b, struct ling_buf *aux)
{
	const struct synth_graph *g = gen->g;
	const struct synth_msg *first = NULL;
	size_t i, nuser = 0;
	uint32_t j;

	ling_buf_adds(b, "{\"id\":");
	ling_json_add_strz(b, id, 0);
	ling_buf_adds(b, ",\"category\":");
	ling_json_add_strz(b, synth_category_name(s->cat), 0);
	ling_buf_adds(b, ",\"question\":[");
	for (i = 0; i < s->nmsg; i++) {
		const struct synth_msg *m = &s->msg[i];

		if (m->role == SYNTH_MSG_CALLS && !first)
			first = m;
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

		if (i)
			ling_buf_addc(b, ',');
		ling_buf_adds(b, "{\"name\":");
		ling_json_add_strz(b, t->name, 0);
		ling_buf_adds(b, ",\"description\":");
		ling_json_add_strz(b, t->description, 0);
		ling_buf_adds(b, ",\"parameters\":");
		ling_buf_adds(b, t->parameters);
		ling_buf_addc(b, '}');
	}
	ling_buf_adds(b, "]}");

	ling_buf_adds(aux, "{\"id\":");
	ling_json_add_strz(aux, id, 0);
	ling_buf_adds(aux, ",\"ground_truth\":[");
	for (j = first ? first->call : 0; first && j < first->call + first->ncalls; j++) {
		const struct synth_call *c = &s->call[j];
		const struct kg_tool *t = &g->ts->tools[c->tool];
		const char *v = s->text.data + c->args, *colon;

		if (j > first->call)
			ling_buf_addc(aux, ',');
		ling_buf_addc(aux, '{');
		ling_json_add_strz(aux, t->name, 0);
		ling_buf_addc(aux, ':');
		/* the first turn calls relation tools: {"param":"name"} becomes {"param":["name"]} */
		colon = memchr(v, ':', c->args_len);
		if (t->param && colon) {
			ling_buf_add(aux, v, (size_t)(colon - v) + 1);
			ling_buf_addc(aux, '[');
			ling_buf_add(aux, colon + 1, c->args_len - (size_t)(colon + 1 - v) - 1);
			ling_buf_adds(aux, "]}");
		} else {
			ling_buf_add(aux, v, c->args_len);
		}
		ling_buf_addc(aux, '}');
	}
	ling_buf_adds(aux, "]}");
}

void synth_render(const struct synth_gen *gen, const struct synth_sample *s, struct ling_buf *out,
		  struct ling_buf *aux)
{
	char hex[17], id[64];

	synth_sample_id(gen->uuid, gen->seed, s->index, hex);
	snprintf(id, sizeof(id), "kg:%s:%s", synth_category_name(s->cat), hex);
	if (gen->format == SYNTH_FORMAT_BFCL)
		render_bfcl(gen, s, id, out, aux);
	else
		render_chat(gen, s, id, out);
}
