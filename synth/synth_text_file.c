/*
 * synth_text_file: user template files (doc/kg2samples-templates.md).
 *
 * A file is one JSON object, parsed with jansson. Syntax errors carry
 * jansson's line and column; a value that is valid JSON but wrong (an
 * unknown key, a bad placeholder) is placed at the first occurrence of its
 * JSON text after its parent key in the file, since jansson keeps no
 * positions of values.
 */
#include "synth_text_render_internal.h"

#include "../common/ling_input.h"
#include "../common/ling_json.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

#define MAX_FILE (64u << 20)

struct tfile {
	struct synth_text *tx;
	const char *path;
	struct ling_buf raw;
	struct ling_err *err;
};

/* The offset of the JSON text of string s (as a key when key is set) at or after from, or -1. */
static long find_json_string(const struct tfile *f, const char *s, long from)
{
	struct ling_buf enc = LING_BUF_INIT;
	const char *hit = NULL;

	/* s came out of jansson, so it is valid UTF-8 without NUL: written as json_dumps writes it. */
	ling_json_add_strz(&enc, s, 0);
	if (from >= 0 && (size_t)from <= f->raw.len)
		hit = memmem(f->raw.data + from, f->raw.len - (size_t)from, enc.data, enc.len);
	ling_buf_release(&enc);
	return hit ? (long)(hit - f->raw.data) : -1;
}

LING_PRINTF(3, 4) static int fail_at(struct tfile *f, long off, const char *fmt, ...)
{
	long line = 0, col = 0, i;
	char msg[sizeof(f->err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (off >= 0) {
		line = col = 1;
		for (i = 0; i < off; i++) {
			if (f->raw.data[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
	}
	return ling_err_at(f->err, LING_EDATA, f->path, line, col, "%s", msg);
}

static int read_all(struct tfile *f)
{
	struct ling_input *in;
	char buf[65536];
	ssize_t n;
	int rc;

	if ((rc = ling_input_open(&in, f->path, f->err)))
		return rc;
	while ((n = ling_input_read(in, buf, sizeof(buf), f->err)) > 0) {
		if (f->raw.len + (size_t)n > MAX_FILE) {
			ling_input_close(in);
			return ling_err_at(f->err, LING_EDATA, f->path, 0, 0,
					   "template file larger than %u MiB", MAX_FILE >> 20);
		}
		ling_buf_add(&f->raw, buf, (size_t)n);
	}
	ling_input_close(in);
	if (n < 0)
		return (int)n;
	if (!f->raw.data)
		ling_buf_add(&f->raw, "", 0);
	return 0;
}

static const char *own(struct tfile *f, const char *s)
{
	return synth_text_own(f->tx, xstrdup(s));
}

/* Template strings of a value: a string, or an array of strings. @return 0 or LING_EDATA. */
static int templates(struct tfile *f, const json_t *v, const char *key, long from, const char *allowed,
		     const char *required, struct synth_tpls *out)
{
	size_t i, n = json_is_array(v) ? json_array_size(v) : 1;

	if (!json_is_string(v) && !json_is_array(v))
		return fail_at(f, find_json_string(f, key, from), "\"%s\" must be a string or an array of strings",
			       key);
	if (json_is_array(v) && !n)
		return fail_at(f, find_json_string(f, key, from), "\"%s\" is an empty array", key);
	for (i = 0; i < n; i++) {
		const json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
		const char *s, *why;

		if (!json_is_string(e))
			return fail_at(f, find_json_string(f, key, from), "\"%s\" must hold only strings", key);
		s = json_string_value(e);
		if (strlen(s) != json_string_length(e))
			return fail_at(f, find_json_string(f, key, from), "NUL character in a template");
		if ((why = synth_tpl_check(s, allowed, required))) {
			long at = find_json_string(f, s, from);

			return fail_at(f, at, "%s in \"%s\" (allowed: {%s}%s%s%s)", why, s, allowed,
				       required ? ", required: {" : "", required ? required : "", required ? "}" : "");
		}
		s = own(f, s);
		synth_tpls_add(out, s, strlen(s));
	}
	return 0;
}

/* New templates of one list come first; with replace they replace the old ones. */
static void merge(struct synth_tpls *dst, struct synth_tpls *add, int replace)
{
	size_t i;

	if (!replace)
		for (i = 0; i < dst->n; i++)
			synth_tpls_add(add, dst->v[i].s, dst->v[i].len);
	free(dst->v);
	*dst = *add;
	memset(add, 0, sizeof(*add));
}

static int noun_value(struct tfile *f, const json_t *v, const char *key, long from, const char **out)
{
	const char *s = json_string_value(v);

	if (!s || !*s || strchr(s, '{') || s[0] == ' ' || s[strlen(s) - 1] == ' ')
		return fail_at(f, find_json_string(f, key, from), "\"%s\" must be a non-empty noun without braces",
			       key);
	*out = own(f, s);
	return 0;
}

static int relation(struct tfile *f, const char *iri, const json_t *def, long from)
{
	static const struct {
		const char *key, *allowed, *required;
	} lists[] = {
		{ "forward", "x", "x" },	   { "forward_questions", "x", "x" }, { "inverse", "x", "x" },
		{ "inverse_questions", "x", "x" }, { "statements", "s,o", "s,o" },
	};
	struct synth_tpls add[5];
	struct synth_lex *l;
	const char *key;
	json_t *v;
	int replace = 0, rc = 0;
	size_t i;

	if (!*iri)
		return fail_at(f, from, "empty relation IRI");
	if (!json_is_object(def))
		return fail_at(f, from, "the entry of relation %s must be an object", iri);
	memset(add, 0, sizeof(add));
	v = json_object_get(def, "replace");
	if (v && !json_is_boolean(v))
		return fail_at(f, find_json_string(f, "replace", from), "\"replace\" must be true or false");
	replace = json_is_true(v);
	l = synth_text_lex_get(f->tx, iri, 0);
	if (!l)
		l = synth_text_lex_get(f->tx, own(f, iri), 1);
	json_object_foreach((json_t *)def, key, v) {
		for (i = 0; i < 5; i++)
			if (!strcmp(key, lists[i].key))
				break;
		if (i < 5) {
			if ((rc = templates(f, v, key, from, lists[i].allowed, lists[i].required, &add[i])))
				goto out;
		} else if (!strcmp(key, "subject")) {
			if ((rc = noun_value(f, v, key, from, &l->subject)))
				goto out;
		} else if (!strcmp(key, "object")) {
			if ((rc = noun_value(f, v, key, from, &l->object)))
				goto out;
		} else if (!strcmp(key, "forward_plural") || !strcmp(key, "inverse_singular")) {
			unsigned bit = key[0] == 'f' ? SYNTH_LEX_FWD_MANY : SYNTH_LEX_INV_ONE;

			if (!json_is_boolean(v)) {
				rc = fail_at(f, find_json_string(f, key, from), "\"%s\" must be true or false", key);
				goto out;
			}
			l->flags = json_is_true(v) ? l->flags | bit : l->flags & ~bit;
		} else if (strcmp(key, "replace") && strcmp(key, "comment")) {
			rc = fail_at(f, find_json_string(f, key, from),
				     "unknown key \"%s\" in a relation (expected subject, object, forward, inverse, "
				     "forward_questions, inverse_questions, statements, forward_plural, "
				     "inverse_singular, replace, comment)",
				     key);
			goto out;
		}
	}
	for (i = 0; i < 5; i++)
		if (add[i].n) {
			struct synth_tpls *dst = i == 0 ? &l->fwd : i == 1 ? &l->fwdq : i == 2 ? &l->inv
							: i == 3 ? &l->invq : &l->stmt;

			merge(dst, &add[i], replace);
		}
out:
	for (i = 0; i < 5; i++)
		free(add[i].v);
	return rc;
}

static int relations(struct tfile *f, const json_t *v, long from)
{
	const char *iri;
	json_t *def;
	int rc;

	if (!json_is_object(v))
		return fail_at(f, from, "\"relations\" must be an object keyed by predicate IRI");
	json_object_foreach((json_t *)v, iri, def) {
		long at = find_json_string(f, iri, from);

		if ((rc = relation(f, iri, def, at)))
			return rc;
	}
	return 0;
}

static int questions(struct tfile *f, const json_t *v, long from)
{
	const char *pat;
	json_t *list;
	int rc, idx;

	if (!json_is_object(v))
		return fail_at(f, from, "\"questions\" must be an object keyed by pattern (1p, 2p, ..., pni)");
	json_object_foreach((json_t *)v, pat, list) {
		long at = find_json_string(f, pat, from);

		if ((idx = synth_pattern_index(pat)) < 0)
			return fail_at(f, at, "unknown pattern \"%s\" (expected 1p 2p 3p 2i 3i ip pi 2u up 2in 3in inp pin pni)",
				       pat);
		rc = templates(f, list, pat, at, synth_pattern_slots(idx), NULL, &f->tx->questions[idx]);
		if (rc)
			return rc;
	}
	return 0;
}

static int system_prompts(struct tfile *f, const json_t *v, long from)
{
	size_t i;

	if (!json_is_array(v))
		return fail_at(f, from, "\"system\" must be an array of {\"style\", \"text\", \"tools\"} objects");
	for (i = 0; i < json_array_size(v); i++) {
		const json_t *p = json_array_get(v, i);
		const char *style = json_string_value(json_object_get(p, "style"));
		const char *text = json_string_value(json_object_get(p, "text"));
		const json_t *tools = json_object_get(p, "tools");
		struct synth_prompt sp;
		const char *key;
		json_t *x;
		long at = from;

		if (text)
			at = find_json_string(f, text, from);
		if (!json_is_object(p))
			return fail_at(f, from, "system prompt %zu is not an object", i + 1);
		json_object_foreach((json_t *)p, key, x)
			if (strcmp(key, "style") && strcmp(key, "text") && strcmp(key, "tools") && strcmp(key, "comment"))
				return fail_at(f, find_json_string(f, key, from),
					       "unknown key \"%s\" in a system prompt (expected style, text, tools)", key);
		if (!style || (strcmp(style, "openai") && strcmp(style, "react") && strcmp(style, "plain")))
			return fail_at(f, at, "system prompt %zu: \"style\" must be \"openai\", \"react\" or \"plain\"",
				       i + 1);
		if (!text || !*text || strchr(text, '{') || strchr(text, '}'))
			return fail_at(f, at, "system prompt %zu: \"text\" must be a non-empty string without braces",
				       i + 1);
		if (tools && (!json_is_string(tools) || !strstr(json_string_value(tools), "{tools}")))
			return fail_at(f, at, "system prompt %zu: \"tools\" must be a string holding {tools}", i + 1);
		sp.style = style[0] == 'o' ? SYNTH_PROMPT_OPENAI : style[0] == 'r' ? SYNTH_PROMPT_REACT
						   : SYNTH_PROMPT_PLAIN;
		sp.text = own(f, text);
		sp.tools = tools ? own(f, json_string_value(tools)) : NULL;
		f->tx->prompts = xrealloc(f->tx->prompts, (f->tx->nprompts + 1) * sizeof(*f->tx->prompts));
		f->tx->prompts[f->tx->nprompts++] = sp;
	}
	return 0;
}

static int flag(struct tfile *f, const json_t *v, const char *key, int *out)
{
	if (!json_is_boolean(v))
		return fail_at(f, find_json_string(f, key, 0), "\"%s\" must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

int synth_text_load_file(struct synth_text *tx, const char *path, struct ling_err *err)
{
	struct tfile f = { tx, path, LING_BUF_INIT, err };
	json_error_t je;
	json_t *root = NULL, *v;
	const char *key;
	int rc;

	if ((rc = read_all(&f)))
		goto out;
	root = json_loadb(f.raw.data, f.raw.len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		rc = ling_err_at(err, LING_EDATA, path, je.line > 0 ? je.line : 0, je.column > 0 ? je.column : 0,
				 "%s", je.text);
		goto out;
	}
	if (!json_is_object(root)) {
		rc = fail_at(&f, 0, "a template file holds one JSON object");
		goto out;
	}
	json_object_foreach(root, key, v) {
		long at = find_json_string(&f, key, 0);

		if (!strcmp(key, "relations"))
			rc = relations(&f, v, at);
		else if (!strcmp(key, "questions"))
			rc = questions(&f, v, at);
		else if (!strcmp(key, "system"))
			rc = system_prompts(&f, v, at);
		else if (!strcmp(key, "replace_questions"))
			rc = flag(&f, v, key, &tx->replace_questions);
		else if (!strcmp(key, "replace_system"))
			rc = flag(&f, v, key, &tx->replace_system);
		else if (!strcmp(key, "lang"))
			rc = json_is_string(v) ? 0 : fail_at(&f, at, "\"lang\" must be a string");
		else if (strcmp(key, "comment"))
			rc = fail_at(&f, at,
				     "unknown key \"%s\" (expected relations, questions, system, replace_questions, "
				     "replace_system, lang, comment)",
				     key);
		if (rc)
			goto out;
	}
	if (tx->replace_system && !tx->nprompts)
		rc = fail_at(&f, find_json_string(&f, "replace_system", 0),
			     "\"replace_system\" is true but no file so far gives a system prompt");
out:
	json_decref(root);
	ling_buf_release(&f.raw);
	return rc;
}

/* ---- the tables: built-ins, then each file */

void synth_text_free(struct synth_text *tx)
{
	size_t i;

	if (!tx)
		return;
	for (i = 0; i < tx->nlex; i++)
		synth_lex_release(&tx->lex[i]);
	for (i = 0; i < 3; i++)
		synth_lex_release(&tx->fallback[i]);
	for (i = 0; i < SYNTH_NPATTERNS; i++)
		free(tx->questions[i].v);
	for (i = 0; i < tx->nowned; i++)
		free(tx->owned[i]);
	free(tx->owned);
	free(tx->lex);
	free(tx->slots);
	free(tx->prompts);
	free(tx->lang);
	free(tx);
}

int synth_text_new(struct synth_text **out, const char *lang, const char *const *files, size_t nfiles,
		   struct ling_err *err)
{
	struct synth_text *tx = xcalloc(1, sizeof(*tx));
	size_t i;
	int rc;

	*out = NULL;
	/* Built-in templates are English; other languages fall back to them (names keep their language). */
	tx->lang = xstrdup(lang && *lang ? lang : "en");
	synth_text_rehash(tx);
	synth_text_load_builtins(tx);
	for (i = 0; i < nfiles; i++)
		if ((rc = synth_text_load_file(tx, files[i], err)))
			goto fail;
	if (!tx->replace_system || !tx->nprompts) {
		tx->prompts = xrealloc(tx->prompts, (tx->nprompts + synth_builtin_nprompts) * sizeof(*tx->prompts));
		memcpy(tx->prompts + tx->nprompts, synth_builtin_prompts, synth_builtin_nprompts * sizeof(*tx->prompts));
		tx->nprompts += synth_builtin_nprompts;
	}
	tx->plain = synth_builtin_plain;
	tx->nplain = synth_builtin_nplain;
	*out = tx;
	return 0;
fail:
	synth_text_free(tx);
	return rc;
}
