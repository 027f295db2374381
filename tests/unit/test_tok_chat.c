/*
 * Unit tests for tok_chat (tokenize/tok_chat.c): tojson as Python writes it,
 * the Qwen3 template against the golden renderings of HF transformers
 * (ids, assistant mask and text of all 6 conversations), special-token text
 * in sample data staying text, the mask at a header/body boundary inside
 * one piece of text, the Ling template with and without <role> tokens, and
 * malformed samples refused with the part named.
 */
#include "tap.h"

#include "common/ling_input.h"
#include "common/ling_jsonl.h"
#include "tokenize/tokenize.h"
#include "tokenize/tok_chat_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

static const char *data_dir(void)
{
	const char *d = getenv("LING_DATA");

	return d && *d ? d : "tests/data";
}

static struct tok *load_tok(const char *name)
{
	struct ling_buf path = LING_BUF_INIT;
	struct ling_err err;
	struct tok *t = NULL;

	ling_err_clear(&err);
	ling_buf_addf(&path, "%s/tokenizers/%s", data_dir(), name);
	if (tok_load_hf(&t, path.data, &err))
		diag("cannot load %s: %s", path.data, err.msg);
	ling_buf_release(&path);
	return t;
}

/* The whole decompressed file. */
static char *slurp(const char *path, size_t *len)
{
	struct ling_input *in;
	struct ling_err err;
	struct ling_buf b = LING_BUF_INIT;
	char chunk[65536];
	ssize_t n;

	ling_err_clear(&err);
	if (ling_input_open(&in, path, &err))
		return NULL;
	while ((n = ling_input_read(in, chunk, sizeof(chunk), &err)) > 0)
		ling_buf_add(&b, chunk, (size_t)n);
	ling_input_close(in);
	*len = b.len;
	return b.data;
}

/*
 * GPT-2's tokenizer.json with more added tokens (the Ling template's
 * <|role_end|>, and <role>, </role> when roles is set), ids from 50257 on.
 */
static struct tok *gpt2_with(int roles)
{
	static const char *const extra[] = { "<|role_end|>", "<role>", "</role>" };
	struct ling_buf path = LING_BUF_INIT, json = LING_BUF_INIT;
	struct ling_err err;
	struct tok *t = NULL;
	size_t len, k;
	char *text, *at;

	ling_buf_addf(&path, "%s/tokenizers/gpt2.tokenizer.json.zst", data_dir());
	text = slurp(path.data, &len);
	at = text ? strstr(text, "\"added_tokens\": [") : NULL;
	if (!at) {
		diag("cannot read %s", path.data);
		goto out;
	}
	at += strlen("\"added_tokens\": [");
	ling_buf_add(&json, text, (size_t)(at - text));
	for (k = 0; k < (roles ? 3u : 1u); k++)
		ling_buf_addf(&json,
			      "{\"id\": %zu, \"content\": \"%s\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, "
			      "\"normalized\": false, \"special\": true},",
			      50257 + k, extra[k]);
	ling_buf_add(&json, at, len - (size_t)(at - text));
	ling_err_clear(&err);
	if (tok_load_hf_mem(&t, "gpt2+ling", json.data, json.len, &err))
		diag("cannot load gpt2+ling: %s", err.msg);
out:
	free(text);
	ling_buf_release(&path);
	ling_buf_release(&json);
	return t;
}

static json_t *parse(const char *s)
{
	json_error_t jerr;
	json_t *v = json_loads(s, 0, &jerr);

	if (!v)
		diag("bad test JSON: %s", jerr.text);
	return v;
}

/* tojson of the JSON text s. */
static const char *tojson(const char *s)
{
	static struct ling_buf out = LING_BUF_INIT;
	json_t *v = json_loads(s, JSON_DECODE_ANY, NULL);

	ling_buf_reset(&out);
	if (!v)
		return "(bad JSON)";
	tok_chat_tojson(v, &out);
	json_decref(v);
	return out.data;
}

static void test_tojson(void)
{
	is_str(tojson("{\"b\":1,\"a\":[true,false,null],\"c\":{}}"), "{\"b\": 1, \"a\": [true, false, null], \"c\": {}}",
	       "objects keep key order, separators \", \" and \": \"");
	is_str(tojson("[\"\\u00e9\\u6771\",\"q\\\"\\\\/\",\"\\n\\t\\u0001\\u007f\"]"),
	       "[\"\xC3\xA9\xE6\x9D\xB1\", \"q\\\"\\\\/\", \"\\n\\t\\u0001\x7F\"]",
	       "strings: non-ASCII as is, / not escaped, controls as \\u00xx");
	is_str(tojson("[0.1,1.0,100.0,1.5e-7,1e16,1e15,0.0001,-2.5,123456789012345678.0]"),
	       "[0.1, 1.0, 100.0, 1.5e-07, 1e+16, 1000000000000000.0, 0.0001, -2.5, 1.2345678901234568e+17]",
	       "floats in Python repr");
	is_str(tojson("[[],-0.0,12345678901234]"), "[[], -0.0, 12345678901234]", "empty array, -0.0, big integer");
}

/* Compares a rendering with one golden record. */
static void check_golden(struct tok_chat *c, const json_t *rec, int n)
{
	struct ling_u32s ids = LING_U32S_INIT, mask = LING_U32S_INIT;
	struct ling_buf text = LING_BUF_INIT;
	const json_t *gids = json_object_get(rec, "ids"), *gmask = json_object_get(rec, "assistant_mask");
	const json_t *rendered = json_object_get(rec, "rendered");
	struct ling_err err;
	size_t i, bad_id = SIZE_MAX, bad_mask = SIZE_MAX, masked = 0;

	ling_err_clear(&err);
	is_int(tok_chat_render(c, rec, &ids, &mask, &text, &err), 0, "golden %d renders", n);
	is_mem(text.data, text.len, json_string_value(rendered), json_string_length(rendered), "golden %d: rendered text",
	       n);
	is_int(ids.n, json_array_size(gids), "golden %d: %zu ids", n, json_array_size(gids));
	for (i = 0; i < ids.n && i < json_array_size(gids); i++) {
		if (bad_id == SIZE_MAX && ids.v[i] != (uint32_t)json_integer_value(json_array_get(gids, i)))
			bad_id = i;
		if (bad_mask == SIZE_MAX && mask.v[i] != (uint32_t)json_integer_value(json_array_get(gmask, i)))
			bad_mask = i;
		masked += mask.v[i];
	}
	ok(bad_id == SIZE_MAX, "golden %d: ids equal (first difference at %zu)", n, bad_id);
	ok(bad_mask == SIZE_MAX && mask.n == ids.n, "golden %d: mask equal, %zu tokens trained (first difference at %zu)",
	   n, masked, bad_mask);
	ling_u32s_release(&ids);
	ling_u32s_release(&mask);
	ling_buf_release(&text);
}

static void test_golden(struct tok *qwen)
{
	struct ling_buf path = LING_BUF_INIT;
	struct ling_input *in = NULL;
	struct ling_jsonl r;
	struct ling_err err;
	struct tok_chat *c = NULL;
	json_t *rec;
	int n = 0, tools = 0;

	ling_err_clear(&err);
	ling_buf_addf(&path, "%s/tokenizers/chat_qwen3.jsonl.zst", data_dir());
	if (!qwen || ling_input_open(&in, path.data, &err) || tok_chat_new(&c, TOK_CHAT_QWEN, qwen, &err)) {
		ok(0, "golden file and renderer: %s", err.msg);
		goto out;
	}
	ling_jsonl_init(&r, in);
	while (ling_jsonl_read(&r, LING_JSONL_OBJECT, &rec, &err) == 1) {
		n++;
		tools += json_is_array(json_object_get(rec, "tools"));
		check_golden(c, rec, n);
		json_decref(rec);
	}
	is_int(n, 6, "6 golden conversations");
	is_int(tools, 2, "2 of them with tools");
out:
	tok_chat_free(c);
	if (in)
		ling_input_close(in);
	ling_buf_release(&path);
}

/* Renders sample s; ids and masks as "id/mask ..." text, or "error: MSG". */
static const char *render(struct tok_chat *c, const char *s, struct ling_buf *text)
{
	static struct ling_buf out = LING_BUF_INIT;
	struct ling_u32s ids = LING_U32S_INIT, mask = LING_U32S_INIT;
	struct ling_err err;
	json_t *v = parse(s);
	size_t i;

	ling_err_clear(&err);
	ling_buf_reset(&out);
	if (tok_chat_render(c, v, &ids, &mask, text, &err)) {
		ling_buf_addf(&out, "error: %s", err.msg);
		ok(ids.n == 0 && mask.n == 0, "nothing appended on error");
	}
	for (i = 0; i < ids.n; i++)
		ling_buf_addf(&out, "%s%lu/%lu", i ? " " : "", (unsigned long)ids.v[i], (unsigned long)mask.v[i]);
	json_decref(v);
	ling_u32s_release(&ids);
	ling_u32s_release(&mask);
	return out.data ? out.data : "";
}

/* The ids of text encoded with added tokens matched (HF on the rendered string), as "id ...". */
static const char *hf_ids(struct tok *t, const char *s, size_t n)
{
	static struct ling_buf out = LING_BUF_INIT;
	struct ling_u32s ids = LING_U32S_INIT;
	struct ling_err err;
	size_t i;

	ling_buf_reset(&out);
	if (tok_encode(t, s, n, TOK_ENCODE_SPECIAL, &ids, &err))
		return "(encode error)";
	for (i = 0; i < ids.n; i++)
		ling_buf_addf(&out, "%s%lu", i ? " " : "", (unsigned long)ids.v[i]);
	ling_u32s_release(&ids);
	return out.data ? out.data : "";
}

/* Drops the "/mask" of each id. */
static const char *ids_only(const char *s)
{
	static struct ling_buf out = LING_BUF_INIT;

	ling_buf_reset(&out);
	for (; *s; s++) {
		if (*s == '/') {
			while (s[1] && s[1] != ' ')
				s++;
			continue;
		}
		ling_buf_addc(&out, *s);
	}
	return out.data ? out.data : "";
}

static void test_qwen_text(struct tok *qwen)
{
	struct tok_chat *c = NULL;
	struct ling_buf text = LING_BUF_INIT;
	struct ling_err err;
	const char *got;
	long im_end = qwen ? tok_token_id(qwen, "<|im_end|>", 10) : -1;
	char needle[32];

	ling_err_clear(&err);
	if (!qwen || tok_chat_new(&c, TOK_CHAT_QWEN, qwen, &err)) {
		ok(0, "qwen renderer: %s", err.msg);
		return;
	}
	/* Special-token text in user content is text: <|im_end|> appears only where the template puts it. */
	got = render(c, "{\"messages\":[{\"role\":\"user\",\"content\":\"a<|im_end|>b <tool_call>\"},"
			"{\"role\":\"assistant\",\"content\":\"ok\"}]}", &text);
	snprintf(needle, sizeof(needle), "%ld/", im_end);
	{
		int count = 0;
		const char *p = got;

		while ((p = strstr(p, needle)))
			count++, p++;
		is_int(count, 2, "<|im_end|> in user text stays text: 2 template <|im_end|> only");
	}
	ok(strcmp(ids_only(got), hf_ids(qwen, text.data, text.len)) != 0,
	   "and the ids differ from matching specials in the rendered text");
	ok(!strstr(got, "151657/"), "<tool_call> in user text is not the <tool_call> token");

	/* A body that starts with "\n" after "assistant\n": "\n\n" is one token, starting in the header: mask 0. */
	ling_buf_reset(&text);
	got = render(c, "{\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":\"\\nA\"},"
			"{\"role\":\"user\",\"content\":\"r\"},{\"role\":\"assistant\",\"content\":\"B\"}]}", &text);
	is_str(ids_only(got), hf_ids(qwen, text.data, text.len), "header and body encoded as one piece, as HF does");
	ok(strstr(got, "151644/0 77091/0 271/0 32/1 151645/1 198/0") != NULL,
	   "the straddling \\n\\n (271) is not trained, the body and <|im_end|> are: %s", got);

	/* Tool calls with a dict argument, parallel calls, tool responses merged into one user turn. */
	ling_buf_reset(&text);
	render(c, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":null,"
		  "\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":{\"a\":1.0}}},"
		  "{\"id\":\"c2\",\"type\":\"function\",\"function\":{\"name\":\"g\",\"arguments\":\"{\\\"b\\\":2}\"}}]},"
		  "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"name\":\"f\",\"content\":\"[1]\"},"
		  "{\"role\":\"tool\",\"tool_call_id\":\"c2\",\"name\":\"g\",\"content\":null},"
		  "{\"role\":\"assistant\",\"content\":\"done\"}]}", &text);
	is_str(text.data,
	       "<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n<tool_call>\n{\"name\": \"f\", \"arguments\": "
	       "{\"a\": 1.0}}\n</tool_call>\n<tool_call>\n{\"name\": \"g\", \"arguments\": {\"b\":2}}\n</tool_call>"
	       "<|im_end|>\n<|im_start|>user\n<tool_response>\n[1]\n</tool_response>\n<tool_response>\n\n</tool_response>"
	       "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\ndone<|im_end|>\n",
	       "tool calls: null content, dict and string arguments, two responses in one user turn");
	ling_buf_release(&text);
	tok_chat_free(c);
}

static void test_errors(struct tok *qwen)
{
	static const struct {
		const char *sample, *msg;
	} cases[] = {
		{ "{\"text\":\"hi\"}", "error: no \"messages\"" },
		{ "{\"messages\":{}}", "error: messages: not an array" },
		{ "{\"messages\":[]}", "error: messages: empty" },
		{ "{\"messages\":[3]}", "error: messages[0]: not an object" },
		{ "{\"messages\":[{\"content\":\"x\"}]}", "error: messages[0].role: missing or not a string" },
		{ "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"robot\",\"content\":\"x\"}]}",
		  "error: messages[1].role: unknown role \"robot\" (system, user, assistant, tool)" },
		{ "{\"messages\":[{\"role\":\"user\",\"content\":7}]}",
		  "error: messages[0].content: not a string, null or an array of parts" },
		{ "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image\"}]}]}",
		  "error: messages[0].content[0]: not a {\"type\":\"text\",\"text\":...} part" },
		{ "{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":{}}]}",
		  "error: messages[0].tool_calls: not an array" },
		{ "{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"arguments\":\"{}\"}}]}]}",
		  "error: messages[0].tool_calls[0].function.name: missing or not a string" },
		{ "{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"name\":\"f\"}}]}]}",
		  "error: messages[0].tool_calls[0].function.arguments: missing" },
		{ "{\"messages\":[{\"role\":\"user\",\"tool_calls\":[]}]}",
		  "error: messages[0].tool_calls: only assistant messages call tools" },
		{ "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":{}}", "error: tools: not an array" },
	};
	struct tok_chat *c = NULL;
	struct ling_err err;
	size_t i;

	ling_err_clear(&err);
	if (!qwen || tok_chat_new(&c, TOK_CHAT_QWEN, qwen, &err)) {
		ok(0, "qwen renderer: %s", err.msg);
		return;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_str(render(c, cases[i].sample, NULL), cases[i].msg, "malformed sample %zu refused", i);
	tok_chat_free(c);
}

static void test_ling(struct tok *qwen)
{
	static const char sample[] =
		"{\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{}}}],"
		"\"messages\":[{\"role\":\"system\",\"content\":\"S\"},{\"role\":\"user\",\"content\":\"Q\"},"
		"{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\","
		"\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},"
		"{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"name\":\"f\",\"content\":\"R\"},"
		"{\"role\":\"assistant\",\"content\":\"A\"}]}";
	static const char expect[] =
		"<role>SYSTEM</role>S\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
		"You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
		"{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": {}}}\n</tools>\n\n"
		"For each function call, return a json object with function name and arguments within "
		"<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
		"<args-json-object>}\n</tool_call>\ndetailed thinking off<|role_end|><role>HUMAN</role>Q<|role_end|>"
		"<role>ASSISTANT</role><tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call><|role_end|>"
		"<role>OBSERVATION</role>\n<tool_response>\nR\n</tool_response><|role_end|><role>ASSISTANT</role>A<|role_end|>";
	struct tok *plain = gpt2_with(0), *roles = gpt2_with(1);
	struct tok_chat *c = NULL;
	struct ling_buf text = LING_BUF_INIT, dec = LING_BUF_INIT;
	struct ling_u32s ids = LING_U32S_INIT, mask = LING_U32S_INIT, trained = LING_U32S_INIT;
	struct ling_err err;
	const char *got;
	json_t *v;
	size_t i;

	ling_err_clear(&err);
	is_int(qwen ? tok_chat_new(&c, TOK_CHAT_LING, qwen, &err) : -1, LING_EUSAGE,
	       "ling template with a tokenizer without <|role_end|> is refused");
	is_str(err.msg, "template ling needs <|role_end|> as a token of the tokenizer (use a Ling/Bailing tokenizer)",
	       "the message names the token");
	if (!plain || !roles) {
		ok(0, "gpt2+ling tokenizers");
		goto out;
	}
	/* Roles as text: the mask changes inside the text "...<role>ASSISTANT</role>A". */
	ling_err_clear(&err);
	ok(tok_chat_new(&c, TOK_CHAT_LING, plain, &err) == 0, "ling template with <|role_end|> only");
	got = render(c, sample, &text);
	is_str(text.data, expect, "ling: the Ling 2.0 template's text");
	is_str(ids_only(got), hf_ids(plain, text.data, text.len), "roles as text: ids of the rendered text");
	v = parse(sample);
	tok_chat_render(c, v, &ids, &mask, NULL, &err);
	json_decref(v);
	for (i = 0; i < ids.n; i++)
		if (mask.v[i])
			ling_u32s_push(&trained, ids.v[i]);
	tok_decode(plain, trained.v, trained.n, &dec, &err);
	/* "</role><tool_call>": GPT-2 splits "><" as one piece, which starts in the header, so the
	 * first "<" of the call is not trained; with <role> tokens (below) nothing straddles. */
	is_str(dec.data, "tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call><|role_end|>A<|role_end|>",
	       "roles as text: the trained tokens are the assistant bodies and their <|role_end|>, but for a straddling \"><\"");
	tok_chat_free(c);
	c = NULL;

	ok(tok_chat_new(&c, TOK_CHAT_LING, roles, &err) == 0, "ling template with <role> tokens");
	ling_buf_reset(&text);
	got = render(c, sample, &text);
	is_str(text.data, expect, "same text");
	is_str(ids_only(got), hf_ids(roles, text.data, text.len), "<role>, </role> as ids");
	ok(strstr(got, "50258/0") && !strstr(got, "50258/1") && !strstr(got, "50259/1"),
	   "<role> and </role> are ids 50258 and 50259, never trained");
	v = parse(sample);
	ids.n = mask.n = trained.n = 0;
	ling_buf_reset(&dec);
	tok_chat_render(c, v, &ids, &mask, NULL, &err);
	json_decref(v);
	for (i = 0; i < ids.n; i++)
		if (mask.v[i])
			ling_u32s_push(&trained, ids.v[i]);
	tok_decode(roles, trained.v, trained.n, &dec, &err);
	is_str(dec.data, "<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call><|role_end|>A<|role_end|>",
	       "with <role> tokens the trained tokens are exactly the assistant bodies and their <|role_end|>");
	ok(strstr(got, "50257/1") != NULL && strstr(got, "50257/0") != NULL,
	   "<|role_end|> trained after assistant turns only");
out:
	tok_chat_free(c);
	ling_u32s_release(&ids);
	ling_u32s_release(&mask);
	ling_u32s_release(&trained);
	ling_buf_release(&text);
	ling_buf_release(&dec);
	tok_free(plain);
	tok_free(roles);
}

int main(void)
{
	struct tok *qwen = load_tok("qwen3.tokenizer.json.zst");
	enum tok_chat_template tpl;

	is_int(tok_chat_template_parse("qwen", &tpl), 0, "template qwen");
	is_int(tok_chat_template_parse("ling", &tpl), 0, "template ling");
	is_str(tok_chat_template_name(tpl), "ling", "its name");
	is_int(tok_chat_template_parse("llama3", &tpl), LING_EUSAGE, "unknown template");
	test_tojson();
	ok(qwen != NULL, "qwen3 tokenizer loads");
	test_golden(qwen);
	test_qwen_text(qwen);
	test_errors(qwen);
	test_ling(qwen);
	tok_free(qwen);
	return done_testing();
}
