/*
 * eval_score: what a transcript scores against a gold sample (eval.h,
 * "scoring"): BFCL's AST matching of calls, execution and answer accuracy,
 * and MetaQA's exact match and Hits@1.
 *
 * The matching rules are those of BFCL's ast_checker (simple and parallel
 * functions, Patil et al. 2024), with the gold given as one call rather than
 * lists of acceptable values: a gold value is the one acceptable value, and
 * an optional parameter is acceptable when omitted only where the schema's
 * default equals the gold value (BFCL marks such parameters with "").
 */
#include "eval.h"

#include "../common/ling_unicode.h"
#include "../common/ling_utf8.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const verdict_names[EVAL_AST_NVERDICTS] = {
	"ok", "no_call", "called", "malformed", "count", "name", "missing", "unknown", "type", "value",
};

const char *eval_ast_verdict_name(enum eval_ast_verdict v)
{
	return (unsigned)v < EVAL_AST_NVERDICTS ? verdict_names[v] : "?";
}

/* BFCL standardize_string: the characters its regex [ \,\.\/\-\_\*\^] removes. */
static int bfcl_dropped(char c)
{
	return c && strchr(" ,./-_*^", c) != NULL;
}

void eval_normalize_string(const char *s, size_t n, struct ling_buf *out)
{
	struct ling_buf kept = LING_BUF_INIT;
	struct ling_unicode u;
	struct ling_err err;

	for (size_t i = 0; i < n; i++)
		if (!bfcl_dropped(s[i]))
			ling_buf_addc(&kept, s[i] == '\'' ? '"' : s[i]);
	/* Python's str.lower(): the full Unicode lowercase mapping */
	ling_unicode_init(&u);
	if (kept.len && ling_unicode_normalize(&u, LING_UNICODE_LOWER, 0, kept.data, kept.len, out, NULL, &err)) {
		for (size_t i = 0; i < kept.len; i++) { /* not UTF-8: ASCII letters only */
			char c = kept.data[i];

			ling_buf_addc(out, c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c);
		}
	}
	ling_unicode_release(&u);
	ling_buf_release(&kept);
}

static int strings_match(const json_t *a, const json_t *b)
{
	struct ling_buf x = LING_BUF_INIT, y = LING_BUF_INIT;
	int same;

	eval_normalize_string(json_string_value(a), json_string_length(a), &x);
	eval_normalize_string(json_string_value(b), json_string_length(b), &y);
	same = x.len == y.len && (x.len == 0 || memcmp(x.data, y.data, x.len) == 0);
	ling_buf_release(&x);
	ling_buf_release(&y);
	return same;
}

static LING_PRINTF(2, 3) void say(struct ling_buf *why, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	if (!why)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ling_buf_reset(why);
	ling_buf_adds(why, text);
}

/* ---- JSON Schema types ---- */

static int fits_type(const char *type, const json_t *v)
{
	if (!strcmp(type, "string"))
		return json_is_string(v);
	if (!strcmp(type, "integer"))
		return json_is_integer(v);
	if (!strcmp(type, "number"))
		return json_is_number(v);
	if (!strcmp(type, "boolean"))
		return json_is_boolean(v);
	if (!strcmp(type, "array"))
		return json_is_array(v);
	if (!strcmp(type, "object"))
		return json_is_object(v);
	if (!strcmp(type, "null"))
		return json_is_null(v);
	return 1; /* a type we do not know constrains nothing */
}

/*
 * Whether v has the type schema gives: one type name or a list of them.
 * Without a type, v must have the gold value's JSON type (numbers: any
 * number; BFCL takes the type from the possible answers then).
 */
static int fits_schema(const json_t *schema, const json_t *v, const json_t *gold)
{
	const json_t *type = schema ? json_object_get(schema, "type") : NULL;
	size_t i;
	json_t *t;

	if (json_is_string(type))
		return fits_type(json_string_value(type), v);
	if (json_is_array(type)) {
		json_array_foreach(type, i, t)
			if (json_is_string(t) && fits_type(json_string_value(t), v))
				return 1;
		return 0;
	}
	if (!gold)
		return 1;
	if (json_is_number(gold))
		return json_is_number(v);
	if (json_is_boolean(gold))
		return json_is_boolean(v);
	return json_typeof(v) == json_typeof(gold);
}

static enum eval_ast_verdict match_object(const json_t *schema, const json_t *model, const json_t *gold,
					  const char *where, struct ling_buf *why);

static enum eval_ast_verdict match_value(const json_t *schema, const json_t *model, const json_t *gold,
					 const char *where, struct ling_buf *why)
{
	if (!fits_schema(schema, model, gold)) {
		say(why, "%s: a value of the wrong type", where);
		return EVAL_AST_TYPE;
	}
	if (json_is_string(model) && json_is_string(gold)) {
		if (strings_match(model, gold))
			return EVAL_AST_OK;
	} else if (json_is_integer(model) && json_is_integer(gold)) {
		if (json_integer_value(model) == json_integer_value(gold))
			return EVAL_AST_OK;
	} else if (json_is_number(model) && json_is_number(gold)) {
		/* BFCL turns an int into a float for a float parameter: 2 is 2.0 */
		if (json_number_value(model) == json_number_value(gold))
			return EVAL_AST_OK;
	} else if (json_is_array(model) && json_is_array(gold)) {
		const json_t *items = schema ? json_object_get(schema, "items") : NULL;
		enum eval_ast_verdict v;

		if (json_array_size(model) != json_array_size(gold)) {
			say(why, "%s: not as many items as the gold value", where);
			return EVAL_AST_VALUE;
		}
		for (size_t i = 0; i < json_array_size(model); i++) {
			v = match_value(json_is_object(items) ? items : NULL, json_array_get(model, i),
					json_array_get(gold, i), where, why);
			if (v != EVAL_AST_OK)
				return v;
		}
		return EVAL_AST_OK;
	} else if (json_is_object(model) && json_is_object(gold)) {
		return match_object(schema, model, gold, where, why);
	} else if (json_equal((json_t *)model, (json_t *)gold)) {
		return EVAL_AST_OK;
	} else if (json_typeof(model) != json_typeof(gold) && !(json_is_boolean(model) && json_is_boolean(gold))) {
		say(why, "%s: a value of another type than the gold one", where);
		return EVAL_AST_TYPE;
	}
	say(why, "%s: not the gold value", where);
	return EVAL_AST_VALUE;
}

/* Whether the schema's default of a parameter equals v (so giving or omitting it is the same call). */
static int is_default(const json_t *prop, const json_t *v)
{
	const json_t *def = prop ? json_object_get(prop, "default") : NULL;

	return def && match_value(prop, v, def, "", NULL) == EVAL_AST_OK;
}

static int is_required(const json_t *schema, const char *key)
{
	const json_t *req = schema ? json_object_get(schema, "required") : NULL;
	size_t i;
	json_t *r;

	json_array_foreach(req, i, r)
		if (json_is_string(r) && !strcmp(json_string_value(r), key))
			return 1;
	return 0;
}

/*
 * An object against the gold object under an object schema: BFCL's order
 * of checks (required parameters, then each given one: known, typed, equal;
 * then the gold's optional ones the model left out).
 */
static enum eval_ast_verdict match_object(const json_t *schema, const json_t *model, const json_t *gold,
					  const char *where, struct ling_buf *why)
{
	const json_t *props = schema ? json_object_get(schema, "properties") : NULL;
	const json_t *req = schema ? json_object_get(schema, "required") : NULL;
	const char *key;
	json_t *v;
	size_t i;

	if (!json_is_object(props))
		props = NULL;
	json_array_foreach(req, i, v)
		if (json_is_string(v) && !json_object_get(model, json_string_value(v))) {
			say(why, "%s: the required parameter \"%s\" is missing", where, json_string_value(v));
			return EVAL_AST_MISSING;
		}
	json_object_foreach((json_t *)model, key, v) {
		const json_t *prop = props ? json_object_get(props, key) : NULL;
		const json_t *g = json_object_get(gold, key);
		enum eval_ast_verdict verdict;

		if (props && !prop) {
			say(why, "%s: unknown parameter \"%s\"", where, key);
			return EVAL_AST_UNKNOWN;
		}
		if (!g) {
			if (!fits_schema(prop, v, NULL)) {
				say(why, "%s: \"%s\" has a value of the wrong type", where, key);
				return EVAL_AST_TYPE;
			}
			if (is_default(prop, v))
				continue;
			say(why, "%s: the parameter \"%s\" is not in the gold call", where, key);
			return EVAL_AST_VALUE;
		}
		verdict = match_value(json_is_object(prop) ? prop : NULL, v, g, key, why);
		if (verdict != EVAL_AST_OK)
			return verdict;
	}
	json_object_foreach((json_t *)gold, key, v) {
		const json_t *prop = props ? json_object_get(props, key) : NULL;

		if (json_object_get(model, key) || is_default(prop, v))
			continue;
		say(why, "%s: the %s parameter \"%s\" of the gold call is missing", where,
		    is_required(schema, key) ? "required" : "optional", key);
		return EVAL_AST_MISSING;
	}
	return EVAL_AST_OK;
}

/* ---- calls ---- */

/* The "parameters" schema of the tool called name in tools (a parsed tools array), or NULL. */
static const json_t *tool_parameters(const json_t *tools, const char *name)
{
	size_t i;
	json_t *t;

	json_array_foreach(tools, i, t) {
		const json_t *fn = json_object_get(t, "function");
		const json_t *n = json_object_get(fn ? fn : t, "name");

		if (json_is_string(n) && !strcmp(json_string_value(n), name)) {
			const json_t *p = json_object_get(fn ? fn : t, "parameters");

			return json_is_object(p) ? p : NULL;
		}
	}
	return NULL;
}

static json_t *parse_object(const char *text)
{
	json_t *v = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;

	if (v && !json_is_object(v)) {
		json_decref(v);
		return NULL;
	}
	return v;
}

static enum eval_ast_verdict match_call(const struct eval_call *model, const struct eval_call *gold,
					const json_t *tools, struct ling_buf *why)
{
	enum eval_ast_verdict verdict;
	json_t *margs, *gargs;

	if (model->error || !model->name || !model->arguments) {
		say(why, "a call that could not be read: %s", model->error ? model->error : "no name or arguments");
		return EVAL_AST_MALFORMED;
	}
	if (strcmp(model->name, gold->name) != 0) {
		say(why, "called %s, not %s", model->name, gold->name);
		return EVAL_AST_NAME;
	}
	margs = parse_object(model->arguments);
	if (!margs) {
		say(why, "%s: the arguments are not a JSON object", model->name);
		return EVAL_AST_MALFORMED;
	}
	gargs = parse_object(gold->arguments);
	if (!gargs) {
		json_decref(margs);
		say(why, "%s: the gold arguments are not a JSON object", gold->name);
		return EVAL_AST_MALFORMED;
	}
	verdict = match_object(tool_parameters(tools, gold->name), margs, gargs, gold->name, why);
	json_decref(margs);
	json_decref(gargs);
	return verdict;
}

enum eval_ast_verdict eval_ast_match_call(const struct eval_call *model, const struct eval_call *gold,
					  const char *tools_json, struct ling_buf *why)
{
	json_t *tools = tools_json ? json_loads(tools_json, 0, NULL) : NULL;
	enum eval_ast_verdict v = match_call(model, gold, tools, why);

	json_decref(tools);
	return v;
}

enum eval_ast_verdict eval_ast_match(const struct eval_call *model, size_t nmodel, const struct eval_call *gold,
				     size_t ngold, const char *tools_json, struct ling_buf *why)
{
	json_t *tools = tools_json ? json_loads(tools_json, 0, NULL) : NULL;
	enum eval_ast_verdict verdict = EVAL_AST_OK;
	char *used = xcalloc(nmodel ? nmodel : 1, 1);

	for (size_t j = 0; j < nmodel; j++)
		if (model[j].error || !model[j].name || !model[j].arguments) {
			verdict = match_call(&model[j], gold ? &gold[0] : &model[j], tools, why);
			goto out;
		}
	if (nmodel != ngold) {
		say(why, "%zu calls, the gold turn has %zu", nmodel, ngold);
		verdict = EVAL_AST_COUNT;
		goto out;
	}
	for (size_t i = 0; i < ngold; i++) {
		size_t j, same_name = nmodel;

		for (j = 0; j < nmodel; j++) {
			if (used[j])
				continue;
			if (same_name == nmodel && !strcmp(model[j].name, gold[i].name))
				same_name = j;
			if (match_call(&model[j], &gold[i], tools, NULL) == EVAL_AST_OK)
				break;
		}
		if (j < nmodel) {
			used[j] = 1;
			continue;
		}
		if (same_name < nmodel) {
			verdict = match_call(&model[same_name], &gold[i], tools, why);
		} else {
			say(why, "no call of %s", gold[i].name);
			verdict = EVAL_AST_NAME;
		}
		goto out;
	}
out:
	free(used);
	json_decref(tools);
	return verdict;
}

/* ---- samples ---- */

static char *dup_string(const json_t *v)
{
	return json_is_string(v) ? xstrndup(json_string_value(v), json_string_length(v)) : NULL;
}

static char *dump_compact(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
	char *copy = s ? xstrdup(s) : NULL;

	free(s);
	return copy;
}

static int sample_error(struct ling_err *err, const char *file, long lineno, const char *what)
{
	return ling_err_at(err, LING_EDATA, file, lineno, 0, "not a tool-use sample: %s", what);
}

/* The calls of one assistant message's tool_calls into s->gold. */
static int read_gold_calls(struct eval_sample *s, const json_t *calls, const char *file, long lineno,
			   struct ling_err *err)
{
	size_t i;
	json_t *c;

	s->gold = xcalloc(json_array_size(calls) ? json_array_size(calls) : 1, sizeof(*s->gold));
	json_array_foreach(calls, i, c) {
		const json_t *fn = json_object_get(c, "function");
		const json_t *name = json_object_get(fn, "name");
		const json_t *args = json_object_get(fn, "arguments");
		json_t *obj;

		if (!json_is_string(name) || !json_is_string(args))
			return sample_error(err, file, lineno, "a tool call without a function name and arguments");
		obj = parse_object(json_string_value(args));
		if (!obj)
			return sample_error(err, file, lineno, "a tool call whose arguments are not a JSON object");
		s->gold[s->ngold].name = dup_string(name);
		s->gold[s->ngold].arguments = dump_compact(obj);
		s->ngold++;
		json_decref(obj);
	}
	return 0;
}

static int read_messages(struct eval_sample *s, const json_t *messages, const char *file, long lineno,
			 struct ling_err *err)
{
	size_t i;
	json_t *m;

	if (!json_is_array(messages))
		return sample_error(err, file, lineno, "no \"messages\" array");
	json_array_foreach(messages, i, m) {
		const char *role = json_string_value(json_object_get(m, "role"));
		const json_t *content = json_object_get(m, "content");
		const json_t *calls = json_object_get(m, "tool_calls");

		if (!role)
			return sample_error(err, file, lineno, "a message without a role");
		if (!strcmp(role, "system") && !s->system && json_is_string(content)) {
			s->system = dup_string(content);
		} else if (!strcmp(role, "user")) {
			if (!json_is_string(content))
				return sample_error(err, file, lineno, "a user message without text");
			if (!s->user_turns++)
				s->question = dup_string(content);
		} else if (!strcmp(role, "assistant") && s->user_turns == 1 && !s->gold && json_array_size(calls)) {
			int rc = read_gold_calls(s, calls, file, lineno, err);

			if (rc)
				return rc;
		}
	}
	if (!s->question)
		return sample_error(err, file, lineno, "no user message");
	return 0;
}

static int read_strings(const json_t *a, char ***v, size_t *n)
{
	size_t i;
	json_t *x;

	if (!json_is_array(a))
		return -1;
	*v = xcalloc(json_array_size(a) ? json_array_size(a) : 1, sizeof(**v));
	json_array_foreach(a, i, x) {
		if (!json_is_string(x))
			return -1;
		(*v)[(*n)++] = dup_string(x);
	}
	return 0;
}

static int read_offer(struct eval_sample *s, const json_t *tools, const char *file, long lineno,
		      struct ling_err *err)
{
	size_t i;
	json_t *t;

	if (!json_is_array(tools))
		return sample_error(err, file, lineno, "no \"tools\" array");
	s->offer = xcalloc(json_array_size(tools) ? json_array_size(tools) : 1, sizeof(*s->offer));
	json_array_foreach(tools, i, t) {
		const json_t *name = json_object_get(json_object_get(t, "function"), "name");

		if (!json_is_string(name))
			return sample_error(err, file, lineno, "a tool without a function name");
		s->offer[s->noffer++] = dup_string(name);
	}
	s->tools_json = dump_compact(tools);
	return 0;
}

int eval_sample_parse(struct eval_sample *s, const char *line, size_t len, const char *file, long lineno,
		      struct ling_err *err)
{
	json_error_t jerr;
	json_t *root;
	const char *kind;
	int rc;

	memset(s, 0, sizeof(*s));
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return ling_err_at(err, LING_EDATA, file, lineno, jerr.column > 0 ? jerr.column : 0,
				   "not a tool-use sample: bad JSON: %s", jerr.text);
	rc = LING_EDATA;
	if (!json_is_object(root)) {
		sample_error(err, file, lineno, "not a JSON object");
		goto fail;
	}
	kind = json_string_value(json_object_get(root, "kind"));
	if (kind && !strcmp(kind, "instruction")) {
		rc = LING_ESTOP;
		goto fail;
	}
	s->id = dup_string(json_object_get(root, "id"));
	s->category = dup_string(json_object_get(root, "category"));
	s->pattern = dup_string(json_object_get(root, "pattern"));
	if (!s->id || !s->category) {
		sample_error(err, file, lineno, "no \"id\" or \"category\" string");
		goto fail;
	}
	if ((rc = read_offer(s, json_object_get(root, "tools"), file, lineno, err)) ||
	    (rc = read_messages(s, json_object_get(root, "messages"), file, lineno, err)))
		goto fail;
	rc = LING_EDATA;
	if (read_strings(json_object_get(root, "answer"), &s->answer, &s->nanswer)) {
		sample_error(err, file, lineno, "no \"answer\" array of strings");
		goto fail;
	}
	if (!s->ngold && strcmp(s->category, "irrelevance") != 0) {
		sample_error(err, file, lineno, "no assistant message calls a tool");
		goto fail;
	}
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	eval_sample_release(s);
	return rc;
}

void eval_strings_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void eval_sample_release(struct eval_sample *s)
{
	free(s->id);
	free(s->category);
	free(s->pattern);
	free(s->system);
	free(s->question);
	free(s->tools_json);
	eval_strings_free(s->offer, s->noffer);
	for (size_t i = 0; i < s->ngold; i++) {
		free(s->gold[i].name);
		free(s->gold[i].arguments);
		free(s->gold[i].error);
	}
	free(s->gold);
	eval_strings_free(s->answer, s->nanswer);
	memset(s, 0, sizeof(*s));
}

/* ---- answers ---- */

static int cmp_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts v by bytes and drops repeats. */
static void sort_unique(char **v, size_t *n)
{
	size_t k = 0;

	if (*n == 0)
		return;
	qsort(v, *n, sizeof(*v), cmp_strings);
	for (size_t i = 1; i < *n; i++) {
		if (strcmp(v[i], v[k]) == 0)
			free(v[i]);
		else
			v[++k] = v[i];
	}
	*n = k + 1;
}

static const struct eval_turn *last_calling_turn(const struct eval_transcript *t)
{
	for (size_t i = t->nturns; i-- > 0;)
		if (t->turns[i].calls.n)
			return &t->turns[i];
	return NULL;
}

void eval_answer_set(const struct eval_transcript *t, char ***v, size_t *n)
{
	const struct eval_turn *turn = last_calling_turn(t);
	size_t cap = 0;

	*v = NULL;
	*n = 0;
	if (!turn)
		return;
	for (size_t c = 0; c < turn->calls.n; c++) {
		json_t *r, *x;
		size_t i;

		if (!turn->ok || !turn->ok[c] || !turn->results || !turn->results[c])
			continue;
		r = json_loads(turn->results[c], 0, NULL);
		json_array_foreach(r, i, x) {
			if (!json_is_string(x))
				continue;
			*v = xgrow(*v, &cap, *n + 1, sizeof(**v));
			(*v)[(*n)++] = dup_string(x);
		}
		json_decref(r);
	}
	sort_unique(*v, n);
}

/* The text as eval_text_names compares it. @return 0, or -1 for text that is not UTF-8. */
static int normalize_text(struct ling_unicode *u, const char *s, struct ling_buf *out)
{
	struct ling_buf folded = LING_BUF_INIT;
	struct ling_err err;
	int space = 0;

	ling_buf_reset(out);
	if (ling_unicode_normalize(u, LING_UNICODE_NFC_CASEFOLD, LING_UNICODE_COLLAPSE_SPACE, s, strlen(s), &folded,
				   NULL, &err)) {
		ling_buf_release(&folded);
		return -1;
	}
	for (size_t i = 0; i < folded.len; i++) {
		char c = folded.data[i];

		if (c && strchr(",./-_*^()", c))
			continue;
		if (c == ' ') {
			space = out->len > 0;
			continue;
		}
		if (space)
			ling_buf_addc(out, ' ');
		space = 0;
		ling_buf_addc(out, c);
	}
	ling_buf_release(&folded);
	return 0;
}

static int is_word_byte(unsigned char c)
{
	return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static long find_word(const struct ling_buf *hay, const struct ling_buf *needle)
{
	if (needle->len == 0)
		return -1;
	for (const char *p = hay->data; p && (size_t)(p - hay->data) + needle->len <= hay->len; p++) {
		size_t at = (size_t)(p - hay->data);

		p = memmem(p, hay->len - at, needle->data, needle->len);
		if (!p)
			break;
		at = (size_t)(p - hay->data);
		if ((at == 0 || !is_word_byte((unsigned char)hay->data[at - 1]) ||
		     !is_word_byte((unsigned char)needle->data[0])) &&
		    (at + needle->len == hay->len || !is_word_byte((unsigned char)hay->data[at + needle->len]) ||
		     !is_word_byte((unsigned char)needle->data[needle->len - 1])))
			return (long)at;
	}
	return -1;
}

/* Finds each of names in text: pos[i] the offset or -1. */
static void find_names(const char *text, char *const *names, size_t n, long *pos)
{
	struct ling_buf hay = LING_BUF_INIT, needle = LING_BUF_INIT;
	struct ling_unicode u;

	ling_unicode_init(&u);
	if (normalize_text(&u, text ? text : "", &hay)) {
		for (size_t i = 0; i < n; i++)
			pos[i] = -1;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		pos[i] = normalize_text(&u, names[i], &needle) ? -1 : find_word(&hay, &needle);
out:
	ling_buf_release(&hay);
	ling_buf_release(&needle);
	ling_unicode_release(&u);
}

long eval_text_names(const char *text, const char *name)
{
	char *names[1] = { (char *)name };
	long pos;

	find_names(text, names, 1, &pos);
	return pos;
}

static int names_all(const char *text, char *const *names, size_t n)
{
	long *pos = xcalloc(n ? n : 1, sizeof(*pos));
	int all = 1;

	find_names(text, names, n, pos);
	for (size_t i = 0; i < n; i++)
		all &= pos[i] >= 0;
	free(pos);
	return all;
}

/* Whether the sorted sets a and b are equal. */
static int same_set(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return 1;
}

/* The gold answer as a sorted set (a copy). */
static char **sorted_copy(char *const *v, size_t n, size_t *out_n)
{
	char **c = xcalloc(n ? n : 1, sizeof(*c));

	for (size_t i = 0; i < n; i++)
		c[i] = xstrdup(v[i]);
	*out_n = n;
	sort_unique(c, out_n);
	return c;
}

static int any_readable_call(const struct eval_transcript *t)
{
	for (size_t i = 0; i < t->nturns; i++)
		for (size_t c = 0; c < t->turns[i].calls.n; c++)
			if (!t->turns[i].calls.v[c].error && t->turns[i].calls.v[c].name)
				return 1;
	return 0;
}

void eval_score_sample(const struct eval_sample *s, const struct eval_transcript *t, struct eval_score *out)
{
	struct ling_buf why = LING_BUF_INIT;
	const struct eval_turn *first = NULL;
	char **got, **gold;
	size_t ngot, ngold;

	memset(out, 0, sizeof(*out));
	if (s->ngold == 0) { /* irrelevance: right when no call was made */
		out->ast = any_readable_call(t) ? EVAL_AST_CALLED : EVAL_AST_OK;
		out->ast_ok = out->exec_ok = out->answer_ok = out->ast == EVAL_AST_OK;
		if (!out->ast_ok)
			out->why = xstrdup("called a tool where none answers the question");
		return;
	}
	for (size_t i = 0; i < t->nturns && !first; i++)
		if (t->turns[i].calls.n)
			first = &t->turns[i];
	if (!first) {
		out->ast = EVAL_AST_NO_CALL;
		ling_buf_adds(&why, "no tool call");
	} else {
		out->ast = eval_ast_match(first->calls.v, first->calls.n, s->gold, s->ngold, s->tools_json, &why);
	}
	out->ast_ok = out->ast == EVAL_AST_OK;
	if (!out->ast_ok)
		out->why = why.data ? xstrdup(why.data) : xstrdup(eval_ast_verdict_name(out->ast));
	ling_buf_release(&why);

	eval_answer_set(t, &got, &ngot);
	gold = sorted_copy(s->answer, s->nanswer, &ngold);
	out->exec_ok = first && same_set(got, ngot, gold, ngold);
	out->answer_ok = names_all(t->answer, s->answer, s->nanswer);
	eval_strings_free(got, ngot);
	eval_strings_free(gold, ngold);
}

void eval_score_release(struct eval_score *sc)
{
	free(sc->why);
	sc->why = NULL;
}

/* ---- MetaQA ---- */

static int metaqa_error(struct ling_err *err, const char *file, long lineno, const char *what)
{
	return ling_err_at(err, LING_EDATA, file, lineno, 0, "not a MetaQA line: %s", what);
}

/* The question without its brackets, and the entity between them. */
static int metaqa_question(struct eval_metaqa_item *q, const char *s, size_t n)
{
	const char *open = memchr(s, '[', n), *close;
	struct ling_buf b = LING_BUF_INIT;

	if (!open || memchr(s, ']', (size_t)(open - s)))
		return -1;
	close = memchr(open, ']', n - (size_t)(open - s));
	if (!close || close == open + 1 || memchr(open + 1, '[', (size_t)(close - open - 1)) ||
	    memchr(close + 1, '[', n - (size_t)(close + 1 - s)) || memchr(close + 1, ']', n - (size_t)(close + 1 - s)))
		return -1;
	ling_buf_add(&b, s, (size_t)(open - s));
	ling_buf_add(&b, open + 1, (size_t)(close - open - 1));
	ling_buf_add(&b, close + 1, n - (size_t)(close + 1 - s));
	q->question = b.data;
	q->entity = xstrndup(open + 1, (size_t)(close - open - 1));
	return 0;
}

int eval_metaqa_parse(struct eval_metaqa_item *q, const char *line, size_t len, const char *file, long lineno,
		      struct ling_err *err)
{
	const char *tab, *p, *end;
	size_t cap = 0;

	memset(q, 0, sizeof(*q));
	if (len && line[len - 1] == '\r')
		len--;
	if (ling_utf8_valid_prefix(line, len) != len)
		return metaqa_error(err, file, lineno, "invalid UTF-8");
	if (memchr(line, '\0', len))
		return metaqa_error(err, file, lineno, "a NUL byte");
	tab = memchr(line, '\t', len);
	if (!tab || memchr(tab + 1, '\t', len - (size_t)(tab + 1 - line)))
		return metaqa_error(err, file, lineno, "not one TAB between the question and the answers");
	if (metaqa_question(q, line, (size_t)(tab - line)))
		return metaqa_error(err, file, lineno, "the question has not exactly one non-empty [entity]");
	end = line + len;
	for (p = tab + 1;; p++) {
		const char *bar = memchr(p, '|', (size_t)(end - p));
		const char *stop = bar ? bar : end;

		if (stop == p) {
			eval_metaqa_release(q);
			return metaqa_error(err, file, lineno, "an empty answer");
		}
		q->answers = xgrow(q->answers, &cap, q->nanswers + 1, sizeof(*q->answers));
		q->answers[q->nanswers++] = xstrndup(p, (size_t)(stop - p));
		if (!bar)
			break;
		p = bar;
	}
	return 0;
}

void eval_metaqa_release(struct eval_metaqa_item *q)
{
	free(q->question);
	free(q->entity);
	eval_strings_free(q->answers, q->nanswers);
	memset(q, 0, sizeof(*q));
}

static int contains(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return 1;
	return 0;
}

void eval_metaqa_score(const struct eval_metaqa_item *q, const struct eval_transcript *t,
		       struct eval_metaqa_score *out)
{
	char **got, **gold;
	size_t ngot, ngold;

	memset(out, 0, sizeof(*out));
	eval_answer_set(t, &got, &ngot);
	gold = sorted_copy(q->answers, q->nanswers, &ngold);
	out->exact = ngot > 0 && same_set(got, ngot, gold, ngold);
	if (ngot) {
		long *pos = xcalloc(ngot, sizeof(*pos));
		size_t best = 0;

		find_names(t->answer, got, ngot, pos);
		for (size_t i = 0; i < ngot; i++)
			if (pos[i] >= 0 && (pos[best] < 0 || pos[i] < pos[best]))
				best = i;
		out->top = xstrdup(got[best]);
		out->hits1 = contains(gold, ngold, out->top);
		free(pos);
	}
	out->answer = names_all(t->answer, q->answers, q->nanswers);
	eval_strings_free(got, ngot);
	eval_strings_free(gold, ngold);
}

void eval_metaqa_score_release(struct eval_metaqa_score *sc)
{
	free(sc->top);
	sc->top = NULL;
}
