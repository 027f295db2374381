/*
 * tok_chat: chat templates rendered to ids and loss masks. The templates are
 * transcriptions of the models' Jinja chat_template (Qwen3's
 * tokenizer_config.json; Ling 2.0's), checked against golden renderings of
 * HF transformers (tests/data/tokenizers/chat_qwen3.jsonl.zst).
 *
 * Rendering appends "parts" to a list: a special token (its id), or a
 * piece of text with its mask bit; the text of all parts is kept in one
 * buffer in order. At the end every run of adjacent text parts is encoded in
 * one tok_encode call, as HF encodes the text between two added tokens, and
 * each token takes the mask of the part its first byte belongs to.
 */
#include "tok_chat_internal.h"

#include "tok_internal.h"

#include "../common/ling_json.h"

#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

struct part {
	uint32_t id;       /* TOK_NONE for text */
	uint32_t mask;     /* 0 or 1 */
	size_t off, len;   /* the part's text in c->text */
};

struct tok_chat {
	enum tok_chat_template tpl;
	struct tok *t;
	struct part *parts;
	size_t nparts, cap_parts;
	struct ling_buf text;     /* the rendered text */
	struct ling_buf content;  /* scratch: a message's content joined from parts */
	struct ling_u32s run, prefix;
	uint32_t mask;            /* the mask bit of what is emitted now */
	unsigned char starts[256]; /* 1 for the first byte of an added token */
};

/* A view of a string: not NUL-terminated. */
struct str {
	const char *s;
	size_t n;
};

int tok_chat_template_parse(const char *name, enum tok_chat_template *out)
{
	if (!strcmp(name, "qwen"))
		*out = TOK_CHAT_QWEN;
	else if (!strcmp(name, "ling"))
		*out = TOK_CHAT_LING;
	else
		return LING_EUSAGE;
	return 0;
}

int tok_chat_template_known(const char *name)
{
	enum tok_chat_template tpl;

	return tok_chat_template_parse(name, &tpl) == 0;
}

const char *tok_chat_template_name(enum tok_chat_template tpl)
{
	return tpl == TOK_CHAT_LING ? "ling" : "qwen";
}

static int need_token(const struct tok *t, const char *name, const char *tpl, struct ling_err *err)
{
	if (tok_token_id(t, name, strlen(name)) >= 0)
		return 0;
	return ling_err_set(err, LING_EUSAGE, "template %s needs %s as a token of the tokenizer (use a %s tokenizer)",
			    tpl, name, strcmp(tpl, "ling") ? "Qwen/ChatML" : "Ling/Bailing");
}

int tok_chat_new(struct tok_chat **out, enum tok_chat_template tpl, struct tok *t, struct ling_err *err)
{
	struct tok_chat *c;
	int rc;

	*out = NULL;
	if (tpl == TOK_CHAT_QWEN) {
		if ((rc = need_token(t, "<|im_start|>", "qwen", err)) || (rc = need_token(t, "<|im_end|>", "qwen", err)))
			return rc;
	} else if ((rc = need_token(t, "<|role_end|>", "ling", err))) {
		return rc;
	}
	c = xcalloc(1, sizeof(*c));
	c->tpl = tpl;
	c->t = t;
	for (size_t k = 0; k < t->nadded; k++)
		if (t->added[k].len)
			c->starts[(unsigned char)t->added[k].content[0]] = 1;
	*out = c;
	return 0;
}

void tok_chat_free(struct tok_chat *c)
{
	if (!c)
		return;
	free(c->parts);
	ling_buf_release(&c->text);
	ling_buf_release(&c->content);
	ling_u32s_release(&c->run);
	ling_u32s_release(&c->prefix);
	free(c);
}

/* ---- tojson: Python json.dumps(ensure_ascii=False) ---- */

static void tojson_value(struct ling_json *w, const json_t *v)
{
	const char *key;
	json_t *e;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		ling_json_object_begin(w);
		json_object_foreach((json_t *)v, key, e) {
			ling_json_keyz(w, key);
			tojson_value(w, e);
		}
		ling_json_object_end(w);
		break;
	case JSON_ARRAY:
		ling_json_array_begin(w);
		json_array_foreach(v, i, e)
			tojson_value(w, e);
		ling_json_array_end(w);
		break;
	case JSON_STRING: ling_json_str(w, json_string_value(v), json_string_length(v)); break;
	case JSON_INTEGER: ling_json_int(w, json_integer_value(v)); break;
	case JSON_REAL: ling_json_real(w, json_real_value(v), LING_JSON_REAL_PYTHON); break;
	case JSON_TRUE: ling_json_bool(w, 1); break;
	case JSON_FALSE: ling_json_bool(w, 0); break;
	case JSON_NULL: ling_json_null(w); break;
	}
}

void tok_chat_tojson(const json_t *v, struct ling_buf *out)
{
	struct ling_json w;

	ling_json_init(&w, out, LING_JSON_PYTHON);
	tojson_value(&w, v);
	ling_json_release(&w);
}

/* ---- parts ---- */

static void add_part(struct tok_chat *c, uint32_t id, size_t off, size_t len)
{
	struct part *p;

	if (!len && id == TOK_NONE)
		return;
	c->parts = xgrow(c->parts, &c->cap_parts, c->nparts + 1, sizeof(*c->parts));
	p = &c->parts[c->nparts++];
	p->id = id;
	p->mask = c->mask;
	p->off = off;
	p->len = len;
}

/* Sample data: ordinary text, whatever it holds. */
static void emit_text(struct tok_chat *c, const char *s, size_t n)
{
	size_t off = c->text.len;

	ling_buf_add(&c->text, s, n);
	add_part(c, TOK_NONE, off, n);
}

static void emit_str(struct tok_chat *c, struct str v)
{
	emit_text(c, v.s, v.n);
}

/* The longest added token at s[i], or NULL (tok.c matches the same way). */
static const struct tok_added *added_at(const struct tok *t, const char *s, size_t n, size_t i)
{
	const struct tok_added *best = NULL;
	size_t k;

	for (k = 0; k < t->nadded; k++) {
		const struct tok_added *a = &t->added[k];

		if (a->len && a->len <= n - i && a->content[0] == s[i] && !memcmp(a->content, s + i, a->len) &&
		    (!best || a->len > best->len))
			best = a;
	}
	return best;
}

/* Template text: the tokenizer's added tokens in it become their ids. */
static void emit_tpl(struct tok_chat *c, const char *s)
{
	size_t n = strlen(s), i = 0, seg = 0;

	while (i < n) {
		const struct tok_added *a = c->starts[(unsigned char)s[i]] ? added_at(c->t, s, n, i) : NULL;

		if (!a) {
			i++;
			continue;
		}
		emit_text(c, s + seg, i - seg);
		ling_buf_add(&c->text, a->content, a->len);
		add_part(c, a->id, c->text.len - a->len, a->len);
		seg = i = i + a->len;
	}
	emit_text(c, s + seg, n - seg);
}

/* The bytes a token stands for in the encoder's own text (normalized, byte-level). */
static size_t token_weight(const struct tok *t, uint32_t id)
{
	return id < t->ntokens && t->tokens[id].len != TOK_NONE ? t->tokens[id].len : 0;
}

static size_t ids_weight(const struct tok *t, const struct ling_u32s *ids)
{
	size_t w = 0, i;

	for (i = 0; i < ids->n; i++)
		w += token_weight(t, ids->v[i]);
	return w;
}

/* The next part after k, below last, whose mask differs from part k's; last when none. */
static size_t next_change(const struct tok_chat *c, size_t k, size_t last)
{
	size_t j;

	for (j = k + 1; j < last && c->parts[j].mask == c->parts[k].mask; j++)
		;
	return j;
}

/*
 * Encodes the text parts first..last-1 (adjacent in c->text) as one piece
 * and appends ids and masks. Where the mask changes inside the run, the
 * boundary is found in the encoder's own text: the prefix before it is
 * encoded alone, and its weight (the bytes its tokens stand for) is the
 * position where the tokens of the whole run pass from one part to the
 * next. Normalization and the byte-level mapping act on both alike.
 */
static int flush_run(struct tok_chat *c, size_t first, size_t last, struct ling_u32s *ids, struct ling_u32s *mask,
		     struct ling_err *err)
{
	const char *base = c->text.data + c->parts[first].off;
	size_t len = c->parts[last - 1].off + c->parts[last - 1].len - c->parts[first].off;
	size_t i, pos = 0, change, change_w = 0;
	uint32_t cur = c->parts[first].mask;
	int rc;

	c->run.n = 0;
	if ((rc = tok_encode(c->t, base, len, 0, &c->run, err)))
		return rc;
	change = next_change(c, first, last);
	for (i = 0; i < c->run.n; i++) {
		while (change < last) {
			if (!change_w) {
				c->prefix.n = 0;
				if ((rc = tok_encode(c->t, base, c->parts[change].off - c->parts[first].off, 0, &c->prefix,
						     err)))
					return rc;
				change_w = ids_weight(c->t, &c->prefix);
			}
			if (pos < change_w)
				break;
			cur = c->parts[change].mask;
			change = next_change(c, change, last);
			change_w = 0;
		}
		ling_u32s_push(ids, c->run.v[i]);
		ling_u32s_push(mask, cur);
		pos += token_weight(c->t, c->run.v[i]);
	}
	return 0;
}

static int flush(struct tok_chat *c, struct ling_u32s *ids, struct ling_u32s *mask, struct ling_err *err)
{
	size_t i = 0, j;
	int rc;

	while (i < c->nparts) {
		if (c->parts[i].id != TOK_NONE) {
			ling_u32s_push(ids, c->parts[i].id);
			ling_u32s_push(mask, c->parts[i].mask);
			i++;
			continue;
		}
		for (j = i; j < c->nparts && c->parts[j].id == TOK_NONE; j++)
			;
		if ((rc = flush_run(c, i, j, ids, mask, err)))
			return rc;
		i = j;
	}
	return 0;
}

/* ---- reading the sample ---- */

static int starts_with(struct str v, const char *s)
{
	size_t n = strlen(s);

	return v.n >= n && !memcmp(v.s, s, n);
}

static int ends_with(struct str v, const char *s)
{
	size_t n = strlen(s);

	return v.n >= n && !memcmp(v.s + v.n - n, s, n);
}

/* The offset of the first (last) occurrence of s in v, or -1. */
static long find_first(struct str v, const char *s)
{
	size_t n = strlen(s), i;

	for (i = 0; i + n <= v.n; i++)
		if (!memcmp(v.s + i, s, n))
			return (long)i;
	return -1;
}

static long find_last(struct str v, const char *s)
{
	size_t n = strlen(s), i;

	for (i = v.n >= n ? v.n - n + 1 : 0; i-- > 0;)
		if (!memcmp(v.s + i, s, n))
			return (long)i;
	return -1;
}

static struct str lstrip_nl(struct str v)
{
	while (v.n && v.s[0] == '\n') {
		v.s++;
		v.n--;
	}
	return v;
}

static struct str rstrip_nl(struct str v)
{
	while (v.n && v.s[v.n - 1] == '\n')
		v.n--;
	return v;
}

enum role { ROLE_SYSTEM, ROLE_USER, ROLE_ASSISTANT, ROLE_TOOL };

struct msg {
	const json_t *obj;
	enum role role;
	struct str content;    /* valid until the next message is read */
};

/*
 * A message's content: a string; null or absent as ""; an array of
 * {"type":"text","text":...} parts joined (into c->content).
 */
static int read_content(struct tok_chat *c, const json_t *m, size_t i, struct str *out, struct ling_err *err)
{
	const json_t *v = json_object_get(m, "content"), *p;
	size_t k;

	if (!v || json_is_null(v)) {
		out->s = "";
		out->n = 0;
		return 0;
	}
	if (json_is_string(v)) {
		out->s = json_string_value(v);
		out->n = json_string_length(v);
		return 0;
	}
	if (!json_is_array(v))
		return ling_err_set(err, LING_EDATA, "messages[%zu].content: not a string, null or an array of parts", i);
	ling_buf_reset(&c->content);
	json_array_foreach(v, k, p) {
		const json_t *type = json_object_get(p, "type"), *text = json_object_get(p, "text");

		if (!json_is_object(p) || !json_is_string(type) || strcmp(json_string_value(type), "text") ||
		    !json_is_string(text))
			return ling_err_set(err, LING_EDATA, "messages[%zu].content[%zu]: not a {\"type\":\"text\",\"text\":...} part",
					    i, k);
		ling_buf_add(&c->content, json_string_value(text), json_string_length(text));
	}
	out->s = c->content.data ? c->content.data : "";
	out->n = c->content.len;
	return 0;
}

static int read_role(const json_t *m, size_t i, enum role *role, struct ling_err *err)
{
	static const char *const names[] = { "system", "user", "assistant", "tool" };
	const json_t *r;
	size_t k;

	if (!json_is_object(m))
		return ling_err_set(err, LING_EDATA, "messages[%zu]: not an object", i);
	r = json_object_get(m, "role");
	if (!json_is_string(r))
		return ling_err_set(err, LING_EDATA, "messages[%zu].role: missing or not a string", i);
	for (k = 0; k < 4; k++)
		if (!strcmp(json_string_value(r), names[k])) {
			*role = (enum role)k;
			return 0;
		}
	return ling_err_set(err, LING_EDATA, "messages[%zu].role: unknown role \"%.40s\" (system, user, assistant, tool)",
			    i, json_string_value(r));
}

/*
 * Whether a call's arguments are what the templates render as
 * <args-json-object>: an object, or a string that holds one (rendered as it
 * is, so it must be JSON). @return 0 or LING_EDATA with err.
 */
static int check_arguments(const json_t *args, size_t i, size_t k, struct ling_err *err)
{
	json_error_t jerr;
	json_t *parsed;
	int is_object;

	if (json_is_object(args))
		return 0;
	if (!json_is_string(args))
		return ling_err_set(err, LING_EDATA, "messages[%zu].tool_calls[%zu].function.arguments: not a JSON object",
				    i, k);
	parsed = json_loadb(json_string_value(args), json_string_length(args), JSON_DECODE_ANY, &jerr);
	if (!parsed)
		return ling_err_set(err, LING_EDATA, "messages[%zu].tool_calls[%zu].function.arguments: not JSON: %s",
				    i, k, jerr.text);
	is_object = json_is_object(parsed);
	json_decref(parsed);
	if (!is_object)
		return ling_err_set(err, LING_EDATA, "messages[%zu].tool_calls[%zu].function.arguments: not a JSON object",
				    i, k);
	return 0;
}

/*
 * Checks the sample's shape before anything is emitted: messages a
 * non-empty array of objects with known roles, tool_calls arrays of calls
 * with a function name and arguments that are a JSON object, tools an array
 * of objects.
 */
static int check_sample(const json_t *sample, const json_t **messages, const json_t **tools, struct ling_err *err)
{
	const json_t *msgs = json_object_get(sample, "messages"), *m, *tl = json_object_get(sample, "tools");
	size_t i, k;
	enum role role = ROLE_USER;
	int rc;

	if (!msgs)
		return ling_err_set(err, LING_EDATA, "no \"messages\"");
	if (!json_is_array(msgs))
		return ling_err_set(err, LING_EDATA, "messages: not an array");
	if (!json_array_size(msgs))
		return ling_err_set(err, LING_EDATA, "messages: empty");
	if (tl && !json_is_null(tl) && !json_is_array(tl))
		return ling_err_set(err, LING_EDATA, "tools: not an array");
	json_array_foreach(tl, i, m)
		if (!json_is_object(m))
			return ling_err_set(err, LING_EDATA, "tools[%zu]: not an object", i);
	json_array_foreach(msgs, i, m) {
		const json_t *calls, *call, *rs;

		if ((rc = read_role(m, i, &role, err)))
			return rc;
		rs = json_object_get(m, "reasoning_content");
		if (rs && !json_is_null(rs) && !json_is_string(rs))
			return ling_err_set(err, LING_EDATA, "messages[%zu].reasoning_content: not a string", i);
		calls = json_object_get(m, "tool_calls");
		if (!calls || json_is_null(calls))
			continue;
		if (role != ROLE_ASSISTANT)
			return ling_err_set(err, LING_EDATA, "messages[%zu].tool_calls: only assistant messages call tools", i);
		if (!json_is_array(calls))
			return ling_err_set(err, LING_EDATA, "messages[%zu].tool_calls: not an array", i);
		json_array_foreach(calls, k, call) {
			const json_t *fn = json_object_get(call, "function"), *name, *args;

			if (!json_is_object(call))
				return ling_err_set(err, LING_EDATA, "messages[%zu].tool_calls[%zu]: not an object", i, k);
			if (fn && !json_is_object(fn))
				return ling_err_set(err, LING_EDATA, "messages[%zu].tool_calls[%zu].function: not an object",
						    i, k);
			if (!fn || !json_object_size(fn))
				fn = call;
			name = json_object_get(fn, "name");
			args = json_object_get(fn, "arguments");
			if (!json_is_string(name))
				return ling_err_set(err, LING_EDATA, "messages[%zu].tool_calls[%zu].function.name: missing or not a string",
						    i, k);
			if (!args)
				return ling_err_set(err, LING_EDATA, "messages[%zu].tool_calls[%zu].function.arguments: missing",
						    i, k);
			if ((rc = check_arguments(args, i, k, err)))
				return rc;
		}
	}
	*messages = msgs;
	*tools = tl && json_array_size(tl) ? tl : NULL;
	return 0;
}

static enum role role_of(const json_t *msgs, size_t i)
{
	const char *r = json_string_value(json_object_get(json_array_get(msgs, i), "role"));

	return !strcmp(r, "system") ? ROLE_SYSTEM : !strcmp(r, "user") ? ROLE_USER
					: !strcmp(r, "assistant") ? ROLE_ASSISTANT : ROLE_TOOL;
}

/*
 * ns.last_query_index of both templates: the last user message that is not
 * a wrapped tool response; the last index when there is none.
 */
static size_t last_query_index(struct tok_chat *c, const json_t *msgs, struct ling_err *err)
{
	size_t n = json_array_size(msgs), i;
	struct str content;

	for (i = n; i-- > 0;) {
		if (role_of(msgs, i) != ROLE_USER || read_content(c, json_array_get(msgs, i), i, &content, err))
			continue;
		if (!(starts_with(content, "<tool_response>") && ends_with(content, "</tool_response>")))
			return i;
	}
	ling_err_clear(err);
	return n - 1;
}

/*
 * An assistant message's reasoning and visible content, split as both
 * templates do: reasoning_content when given, else the text before the
 * first "</think>" (after its last "<think>") and the text after the last.
 */
static void split_reasoning(const json_t *m, struct str *content, struct str *reasoning)
{
	const json_t *rs = json_object_get(m, "reasoning_content");
	long end;

	reasoning->s = "";
	reasoning->n = 0;
	if (json_is_string(rs)) {
		reasoning->s = json_string_value(rs);
		reasoning->n = json_string_length(rs);
		return;
	}
	if (find_first(*content, "</think>") < 0)
		return;
	*reasoning = *content;
	reasoning->n = (size_t)find_first(*content, "</think>");
	*reasoning = rstrip_nl(*reasoning);
	if ((end = find_last(*reasoning, "<think>")) >= 0) {
		reasoning->s += end + 7;
		reasoning->n -= (size_t)end + 7;
	}
	*reasoning = lstrip_nl(*reasoning);
	end = find_last(*content, "</think>");
	content->s += end + 8;
	content->n -= (size_t)end + 8;
	*content = lstrip_nl(*content);
}

/* The tool calls of an assistant turn, Hermes style (both templates). */
static void emit_tool_calls(struct tok_chat *c, const json_t *m, struct str content)
{
	const json_t *calls = json_object_get(m, "tool_calls"), *call;
	size_t k;

	json_array_foreach(calls, k, call) {
		const json_t *fn = json_object_get(call, "function"), *args;

		if (!fn || !json_object_size(fn))
			fn = call;
		if (k > 0 || content.n)
			emit_tpl(c, "\n");
		emit_tpl(c, "<tool_call>\n{\"name\": \"");
		emit_text(c, json_string_value(json_object_get(fn, "name")),
			  json_string_length(json_object_get(fn, "name")));
		emit_tpl(c, "\", \"arguments\": ");
		args = json_object_get(fn, "arguments");
		if (json_is_string(args)) {
			emit_text(c, json_string_value(args), json_string_length(args));
		} else {
			size_t off = c->text.len;

			tok_chat_tojson(args, &c->text);
			add_part(c, TOK_NONE, off, c->text.len - off);
		}
		emit_tpl(c, "}\n</tool_call>");
	}
}

static const char tools_intro[] =
	"# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
	"You are provided with function signatures within <tools></tools> XML tags:\n<tools>";
static const char tools_outro[] =
	"\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
	"<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
	"<args-json-object>}\n</tool_call>";

static void emit_tools(struct tok_chat *c, const json_t *tools)
{
	const json_t *tool;
	size_t i;

	emit_tpl(c, tools_intro);
	json_array_foreach(tools, i, tool) {
		size_t off;

		emit_tpl(c, "\n");
		off = c->text.len;
		tok_chat_tojson(tool, &c->text);
		add_part(c, TOK_NONE, off, c->text.len - off);
	}
	emit_tpl(c, tools_outro);
}

/* Qwen3's chat_template (tokenizer_config.json), add_generation_prompt=false. */
static int render_qwen(struct tok_chat *c, const json_t *msgs, const json_t *tools, struct ling_err *err)
{
	size_t n = json_array_size(msgs), i, lqi;
	struct str content, reasoning;
	int rc;

	if (tools) {
		emit_tpl(c, "<|im_start|>system\n");
		if (role_of(msgs, 0) == ROLE_SYSTEM) {
			if ((rc = read_content(c, json_array_get(msgs, 0), 0, &content, err)))
				return rc;
			emit_str(c, content);
			emit_tpl(c, "\n\n");
		}
		emit_tools(c, tools);
		emit_tpl(c, "<|im_end|>\n");
	} else if (role_of(msgs, 0) == ROLE_SYSTEM) {
		if ((rc = read_content(c, json_array_get(msgs, 0), 0, &content, err)))
			return rc;
		emit_tpl(c, "<|im_start|>system\n");
		emit_str(c, content);
		emit_tpl(c, "<|im_end|>\n");
	}
	lqi = last_query_index(c, msgs, err);
	for (i = 0; i < n; i++) {
		const json_t *m = json_array_get(msgs, i);
		enum role role = role_of(msgs, i);

		if ((rc = read_content(c, m, i, &content, err)))
			return rc;
		if (role == ROLE_USER || (role == ROLE_SYSTEM && i > 0)) {
			emit_tpl(c, role == ROLE_USER ? "<|im_start|>user\n" : "<|im_start|>system\n");
			emit_str(c, content);
			emit_tpl(c, "<|im_end|>\n");
		} else if (role == ROLE_ASSISTANT) {
			split_reasoning(m, &content, &reasoning);
			emit_tpl(c, "<|im_start|>assistant\n");
			c->mask = 1;
			if (i > lqi && (i == n - 1 || reasoning.n)) {
				emit_tpl(c, "<think>\n");
				emit_str(c, rstrip_nl(lstrip_nl(reasoning)));
				emit_tpl(c, "\n</think>\n\n");
				emit_str(c, lstrip_nl(content));
			} else {
				emit_str(c, content);
			}
			emit_tool_calls(c, m, content);
			emit_tpl(c, "<|im_end|>");
			c->mask = 0;
			emit_tpl(c, "\n");
		} else if (role == ROLE_TOOL) {
			if (i == 0 || role_of(msgs, i - 1) != ROLE_TOOL)
				emit_tpl(c, "<|im_start|>user");
			emit_tpl(c, "\n<tool_response>\n");
			emit_str(c, content);
			emit_tpl(c, "\n</tool_response>");
			if (i == n - 1 || role_of(msgs, i + 1) != ROLE_TOOL)
				emit_tpl(c, "<|im_end|>\n");
		}
	}
	return 0;
}

/* Ling 2.0's chat_template (Bailing v2, thinking_option 'off'), add_generation_prompt=false. */
static int render_ling(struct tok_chat *c, const json_t *msgs, const json_t *tools, struct ling_err *err)
{
	size_t n = json_array_size(msgs), i, lqi;
	struct str content, reasoning;
	int rc;

	emit_tpl(c, "<role>SYSTEM</role>");
	if (role_of(msgs, 0) == ROLE_SYSTEM) {
		if ((rc = read_content(c, json_array_get(msgs, 0), 0, &content, err)))
			return rc;
		emit_str(c, content);
		emit_tpl(c, "\n");
	}
	if (tools) {
		emit_tools(c, tools);
		emit_tpl(c, "\n");
	}
	emit_tpl(c, "detailed thinking off<|role_end|>");
	lqi = last_query_index(c, msgs, err);
	for (i = 0; i < n; i++) {
		const json_t *m = json_array_get(msgs, i);
		enum role role = role_of(msgs, i);

		if ((rc = read_content(c, m, i, &content, err)))
			return rc;
		if (role == ROLE_USER || (role == ROLE_SYSTEM && i > 0)) {
			emit_tpl(c, role == ROLE_USER ? "<role>HUMAN</role>" : "<role>SYSTEM</role>");
			emit_str(c, content);
			emit_tpl(c, "<|role_end|>");
		} else if (role == ROLE_ASSISTANT) {
			split_reasoning(m, &content, &reasoning);
			emit_tpl(c, "<role>ASSISTANT</role>");
			c->mask = 1;
			if (i > lqi && reasoning.n) {
				emit_tpl(c, "\n<think>\n");
				emit_str(c, rstrip_nl(lstrip_nl(reasoning)));
				emit_tpl(c, "\n</think>\n\n");
				emit_str(c, lstrip_nl(content));
			} else {
				emit_str(c, content);
			}
			emit_tool_calls(c, m, content);
			emit_tpl(c, "<|role_end|>");
			c->mask = 0;
		} else if (role == ROLE_TOOL) {
			if (i == 0 || role_of(msgs, i - 1) != ROLE_TOOL)
				emit_tpl(c, "<role>OBSERVATION</role>");
			emit_tpl(c, "\n<tool_response>\n");
			emit_str(c, content);
			emit_tpl(c, "\n</tool_response>");
			if (i == n - 1 || role_of(msgs, i + 1) != ROLE_TOOL)
				emit_tpl(c, "<|role_end|>");
		}
	}
	return 0;
}

/* The first of marks that s[0..n) holds, or NULL. */
static const char *holds_any(const char *s, size_t n, const char *const *marks)
{
	struct str v = { s, n };

	for (; *marks; marks++)
		if (find_first(v, *marks) >= 0)
			return *marks;
	return NULL;
}

int tok_chat_check_rendered(const struct tok_chat *c, const json_t *sample, struct ling_err *err)
{
	static const char *const qwen_marks[] = { "<|im_start|>", "<|im_end|>", NULL };
	static const char *const ling_marks[] = { "<role>", "<|role_end|>", NULL };
	static const char *const call_marks[] = { "<tool_call>", NULL };
	static const char *const response_marks[] = { "<tool_response>", NULL };
	static const char *const role_names[] = { "system", "user", "assistant", "tool" };
	const json_t *msgs = json_object_get(sample, "messages"), *m, *v;
	const char *mark;
	size_t i;

	json_array_foreach(msgs, i, m) {
		enum role role = role_of(msgs, i);

		v = json_object_get(m, "content");
		if (role == ROLE_USER || !json_is_string(v))
			continue;
		mark = holds_any(json_string_value(v), json_string_length(v),
				 c->tpl == TOK_CHAT_LING ? ling_marks : qwen_marks);
		if (!mark && role == ROLE_ASSISTANT)
			mark = holds_any(json_string_value(v), json_string_length(v), call_marks);
		if (!mark && role == ROLE_TOOL)
			mark = holds_any(json_string_value(v), json_string_length(v), response_marks);
		if (mark)
			return ling_err_set(err, LING_EDATA,
					    "already rendered: messages[%zu] (%s) holds %s, which the %s template "
					    "writes itself (give tool calls as tool_calls and results as plain "
					    "content: kg2samples --format openai)",
					    i, role_names[role], mark, tok_chat_template_name(c->tpl));
	}
	return 0;
}

/* The header of the assistant turn the model writes next (add_generation_prompt=true). */
static void emit_generation_prompt(struct tok_chat *c)
{
	emit_tpl(c, c->tpl == TOK_CHAT_LING ? "<role>ASSISTANT</role>" : "<|im_start|>assistant\n");
}

/* tok_chat_render, and with generation_prompt the assistant header after the messages. */
static int render_sample(struct tok_chat *c, const json_t *sample, int generation_prompt, struct ling_u32s *ids,
			 struct ling_u32s *mask, struct ling_buf *text, struct ling_err *err)
{
	const json_t *msgs = NULL, *tools = NULL;
	size_t ids_len = ids->n, mask_len = mask->n;
	int rc;

	c->nparts = 0;
	c->mask = 0;
	ling_buf_reset(&c->text);
	if (!json_is_object(sample))
		return ling_err_set(err, LING_EDATA, "not a JSON object");
	if ((rc = check_sample(sample, &msgs, &tools, err)))
		return rc;
	rc = c->tpl == TOK_CHAT_LING ? render_ling(c, msgs, tools, err) : render_qwen(c, msgs, tools, err);
	if (!rc && generation_prompt)
		emit_generation_prompt(c);
	if (!rc)
		rc = flush(c, ids, mask, err);
	if (rc) {
		ids->n = ids_len;
		mask->n = mask_len;
		return rc;
	}
	if (text)
		ling_buf_add(text, c->text.data ? c->text.data : "", c->text.len);
	return 0;
}

int tok_chat_render(struct tok_chat *c, const json_t *sample, struct ling_u32s *ids, struct ling_u32s *mask,
		    struct ling_buf *text, struct ling_err *err)
{
	return render_sample(c, sample, 0, ids, mask, text, err);
}

/* ---- the public entry points (tokenize.h): a conversation to the ids of the model's next turn ---- */

int tok_chat_open(struct tok_chat **out, const char *name, struct tok *t, struct ling_err *err)
{
	enum tok_chat_template tpl;

	*out = NULL;
	if (tok_chat_template_parse(name, &tpl))
		return ling_err_set(err, LING_EUSAGE, "unknown chat template '%s' (qwen, ling)", name);
	return tok_chat_new(out, tpl, t, err);
}

int tok_chat_prompt(struct tok_chat *c, const char *json, size_t len, struct ling_u32s *ids, struct ling_buf *text,
		    struct ling_err *err)
{
	struct ling_u32s mask = LING_U32S_INIT;
	json_error_t jerr;
	json_t *conv;
	int rc;

	/* The flags of tokenize build's record parser (tok_dataset.c). */
	conv = json_loadb(json, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
	if (!conv)
		return ling_err_set(err, LING_EDATA, "conversation is not JSON: %s", jerr.text);
	rc = render_sample(c, conv, 1, ids, &mask, text, err);
	ling_u32s_release(&mask);
	json_decref(conv);
	return rc;
}

uint32_t tok_chat_end_of_turn(const struct tok_chat *c)
{
	const char *eot = c->tpl == TOK_CHAT_LING ? "<|role_end|>" : "<|im_end|>";

	/* tok_chat_new checked that the tokenizer has it. */
	return (uint32_t)tok_token_id(c->t, eot, strlen(eot));
}
