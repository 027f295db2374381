#include "ling_jsonl.h"

#include "ling_utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

void ling_jsonl_init(struct ling_jsonl *r, struct ling_input *in)
{
	r->in = in;
	r->line = 0;
}

static int is_blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

int ling_jsonl_next(struct ling_jsonl *r, const char **line, size_t *len, struct ling_err *err)
{
	for (;;) {
		int rc = ling_input_getline(r->in, line, len, err);

		if (rc <= 0)
			return rc;
		r->line++;
		if (*len > 0 && (*line)[*len - 1] == '\r')
			(*len)--;
		if (!is_blank(*line, *len))
			return 1;
	}
}

int ling_jsonl_parse(const char *line, size_t len, const char *name, long lineno, unsigned flags, json_t **out,
		     struct ling_err *err)
{
	json_error_t jerr;
	json_t *v;

	*out = NULL;
	v = json_loadb(line, len, (flags & LING_JSONL_UNIQUE_KEYS) ? JSON_REJECT_DUPLICATES : 0, &jerr);
	if (!v) {
		/* jansson counts the column from 1 at the offending character (0 when it has none). */
		long col = jerr.position > 0 ? jerr.position : 1;

		return ling_err_at(err, LING_EDATA, name, lineno, col, "bad JSON: %s", jerr.text);
	}
	if ((flags & LING_JSONL_OBJECT) && !json_is_object(v)) {
		json_decref(v);
		return ling_err_at(err, LING_EDATA, name, lineno, 1, "a record must be a JSON object");
	}
	*out = v;
	return 0;
}

int ling_jsonl_read(struct ling_jsonl *r, unsigned flags, json_t **out, struct ling_err *err)
{
	const char *line;
	size_t len;
	int rc;

	*out = NULL;
	rc = ling_jsonl_next(r, &line, &len, err);
	if (rc <= 0)
		return rc;
	rc = ling_jsonl_parse(line, len, ling_input_name(r->in), r->line, flags, out, err);
	return rc ? rc : 1;
}

/* ---- paths ---- */

struct jpath {
	char **keys;
	size_t *key_len;
	unsigned char *each; /* keys[k] was written "key[]" */
	int n;
};

struct ling_jsonl_paths {
	struct jpath *p;
	size_t n;
};

static void jpath_release(struct jpath *jp)
{
	int k;

	for (k = 0; k < jp->n; k++)
		free(jp->keys[k]);
	free(jp->keys);
	free(jp->key_len);
	free(jp->each);
}

static int jpath_parse(const char *path, struct jpath *jp, struct ling_err *err)
{
	const char *p = path;

	memset(jp, 0, sizeof(*jp));
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		int each = len >= 2 && p[len - 2] == '[' && p[len - 1] == ']';
		size_t klen = each ? len - 2 : len;

		if (klen == 0 || memchr(p, '[', klen) || memchr(p, ']', klen) || jp->n >= 255) {
			jpath_release(jp);
			memset(jp, 0, sizeof(*jp));
			return ling_err_set(err, LING_EUSAGE,
					    "bad path '%s' (keys separated by '.', '[]' after a key for each element "
					    "of an array)",
					    path);
		}
		jp->keys = xrealloc(jp->keys, (size_t)(jp->n + 1) * sizeof(*jp->keys));
		jp->key_len = xrealloc(jp->key_len, (size_t)(jp->n + 1) * sizeof(*jp->key_len));
		jp->each = xrealloc(jp->each, (size_t)(jp->n + 1));
		jp->keys[jp->n] = xstrndup(p, klen);
		jp->key_len[jp->n] = klen;
		jp->each[jp->n] = (unsigned char)each;
		jp->n++;
		if (!dot)
			return 0;
		p = dot + 1;
	}
}

int ling_jsonl_paths_new(struct ling_jsonl_paths **out, const char *const *paths, size_t n, struct ling_err *err)
{
	struct ling_jsonl_paths *ps;
	size_t i;
	int rc;

	*out = NULL;
	if (n > LING_JSONL_MAX_PATHS)
		return ling_err_set(err, LING_EUSAGE, "at most %d paths", LING_JSONL_MAX_PATHS);
	ps = xcalloc(1, sizeof(*ps));
	ps->p = xcalloc(n ? n : 1, sizeof(*ps->p));
	for (i = 0; i < n; i++, ps->n++) {
		if ((rc = jpath_parse(paths[i], &ps->p[i], err))) {
			ling_jsonl_paths_free(ps);
			return rc;
		}
	}
	*out = ps;
	return 0;
}

void ling_jsonl_paths_free(struct ling_jsonl_paths *ps)
{
	size_t i;

	if (!ps)
		return;
	for (i = 0; i < ps->n; i++)
		jpath_release(&ps->p[i]);
	free(ps->p);
	free(ps);
}

/* ---- walking a parsed record ---- */

struct walk {
	ling_jsonl_piece_fn fn;
	void *ctx;
	size_t path;
};

static void take(const struct walk *w, const json_t *v, int at_end)
{
	const char *key;
	json_t *c;
	size_t i;
	char num[32];

	switch (json_typeof(v)) {
	case JSON_STRING:
		w->fn(w->ctx, w->path, LING_JSONL_STRING, at_end, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		w->fn(w->ctx, w->path, LING_JSONL_NUMBER, at_end, num, strlen(num));
		break;
	case JSON_ARRAY:
		json_array_foreach(v, i, c)
			take(w, c, 0);
		break;
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, key, c)
			take(w, c, 0);
		break;
	default:
		break;
	}
}

static void walk_path(const struct walk *w, const json_t *v, const struct jpath *jp, int k)
{
	const json_t *c;
	json_t *e;
	size_t i;

	if (k == jp->n) {
		take(w, v, 1);
		return;
	}
	if (!json_is_object(v) || !(c = json_object_getn(v, jp->keys[k], jp->key_len[k])))
		return;
	if (jp->each[k] && json_is_array(c)) {
		json_array_foreach(c, i, e)
			walk_path(w, e, jp, k + 1);
		return;
	}
	walk_path(w, c, jp, k + 1);
}

void ling_jsonl_walk(const json_t *root, const struct ling_jsonl_paths *paths, ling_jsonl_piece_fn fn, void *ctx)
{
	struct walk w = { fn, ctx, 0 };

	for (w.path = 0; w.path < paths->n; w.path++)
		walk_path(&w, root, &paths->p[w.path], 0);
}

/* ---- the scanner ---- */

/*
 * Per path, the state of the value being scanned: OFF (not on the path),
 * TAKE (inside the path's end), TAKE_END (the path's end itself), or k: an
 * object whose member keys[k] continues the path. What a member or element
 * inherits is an "incoming" state: k' (the next key index) with the EACH
 * flag when keys[k'-1] had "[]"; resolved against the value's type as
 * walk_path does it.
 */
#define ST_OFF 0xFFFF
#define ST_TAKE 0xFFFE
#define ST_TAKE_END 0xFFFD
#define ST_ARRAY_EACH 0x4000 /* an array whose elements come in at k */
#define IN_EACH 0x8000

#define SCAN_MAX_DEPTH 64
#define SCAN_MAX_KEYS 64

struct scanner {
	const unsigned char *p, *end;
	const struct ling_jsonl_paths *paths;
	ling_jsonl_piece_fn fn;
	void *ctx;
	struct ling_buf *scratch;
	unsigned long present;
	size_t root_keys;
	int depth;
};

static void skip_ws(struct scanner *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int hex4(const unsigned char *p, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned c = p[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

/*
 * A string at s->p (the opening quote). *val and *len get its raw bytes, or
 * with decode its value: the raw bytes themselves when it has no escape,
 * else its decoded form in s->scratch. @return 0, or -1 to leave the line to
 * jansson.
 */
static int scan_string(struct scanner *s, int decode, const char **val, size_t *len)
{
	const unsigned char *start = s->p + 1, *p = start, *run = p;
	int escaped = 0;

	for (;;) {
		unsigned c;

		while (p < s->end && *p >= 0x20 && *p != '"' && *p != '\\' && *p < 0x80)
			p++;
		if (p >= s->end || *p < 0x20)
			return -1;
		if (*p >= 0x80) {
			unsigned long cp;
			size_t n = ling_utf8_decode((const char *)p, (size_t)(s->end - p), &cp);

			if (!n)
				return -1;
			p += n;
			continue;
		}
		if (*p == '"')
			break;
		/* An escape. */
		if (decode) {
			if (!escaped)
				ling_buf_reset(s->scratch);
			ling_buf_add(s->scratch, run, (size_t)(p - run));
		}
		escaped = 1;
		if (p + 1 >= s->end)
			return -1;
		c = p[1];
		p += 2;
		switch (c) {
		case '"': case '\\': case '/':
			if (decode)
				ling_buf_addc(s->scratch, (char)c);
			break;
		case 'b': if (decode) ling_buf_addc(s->scratch, '\b'); break;
		case 'f': if (decode) ling_buf_addc(s->scratch, '\f'); break;
		case 'n': if (decode) ling_buf_addc(s->scratch, '\n'); break;
		case 'r': if (decode) ling_buf_addc(s->scratch, '\r'); break;
		case 't': if (decode) ling_buf_addc(s->scratch, '\t'); break;
		case 'u': {
			unsigned cp, lo;

			if (s->end - p < 4 || hex4(p, &cp) || cp == 0)
				return -1;
			p += 4;
			if (cp >= 0xDC00 && cp <= 0xDFFF)
				return -1;
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				if (s->end - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &lo) || lo < 0xDC00 ||
				    lo > 0xDFFF)
					return -1;
				p += 6;
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			}
			if (decode)
				ling_buf_add_utf8(s->scratch, cp);
			break;
		}
		default:
			return -1;
		}
		run = p;
	}
	if (decode && escaped) {
		ling_buf_add(s->scratch, run, (size_t)(p - run));
		*val = s->scratch->data;
		*len = s->scratch->len;
	} else {
		*val = (const char *)start;
		*len = (size_t)(p - start);
	}
	s->p = p + 1;
	return 0;
}

/* A number: the JSON grammar, without exponents and within 18 integer digits. @return 0 or -1. */
static int scan_number(struct scanner *s)
{
	const unsigned char *p = s->p, *digits;

	if (p < s->end && *p == '-')
		p++;
	digits = p;
	if (p >= s->end || *p < '0' || *p > '9')
		return -1;
	if (*p == '0')
		p++;
	else
		while (p < s->end && *p >= '0' && *p <= '9')
			p++;
	if (p - digits > 18)
		return -1;
	if (p < s->end && *p == '.') {
		p++;
		if (p >= s->end || *p < '0' || *p > '9')
			return -1;
		while (p < s->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < s->end && (*p == 'e' || *p == 'E' || (*p >= '0' && *p <= '9')))
		return -1;
	s->p = p;
	return 0;
}

static int scan_literal(struct scanner *s, const char *word, size_t n)
{
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n))
		return -1;
	s->p += n;
	return 0;
}

static int scan_value(struct scanner *s, const uint16_t *in);

/* The state of a value of type t (its first byte) that came in with in. */
static uint16_t resolve(const struct jpath *jp, uint16_t in, unsigned char t)
{
	unsigned k;

	if (in == ST_OFF || in == ST_TAKE)
		return in;
	k = in & ~IN_EACH;
	if ((in & IN_EACH) && t == '[')
		return (uint16_t)(ST_ARRAY_EACH | k);
	if ((int)k == jp->n)
		return ST_TAKE_END;
	return t == '{' ? (uint16_t)k : ST_OFF;
}

static int any_on(const uint16_t *st, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (st[i] != ST_OFF)
			return 1;
	return 0;
}

static int scan_object(struct scanner *s, const uint16_t *st, int active)
{
	const size_t np = s->paths->n;
	const char *keys[SCAN_MAX_KEYS];
	size_t key_lens[SCAN_MAX_KEYS], nkeys = 0, i, p;
	uint16_t in[LING_JSONL_MAX_PATHS];

	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return 0;
	}
	for (;;) {
		const char *key;
		size_t key_len;

		if (s->p >= s->end || *s->p != '"' || scan_string(s, 0, &key, &key_len) ||
		    memchr(key, '\\', key_len) || nkeys == SCAN_MAX_KEYS)
			return -1;
		/* jansson keeps the last of repeated keys; the scanner leaves them to it. */
		for (i = 0; i < nkeys; i++)
			if (key_lens[i] == key_len && !memcmp(keys[i], key, key_len))
				return -1;
		keys[nkeys] = key;
		key_lens[nkeys++] = key_len;
		skip_ws(s);
		if (s->p >= s->end || *s->p != ':')
			return -1;
		s->p++;
		skip_ws(s);
		if (active) {
			for (p = 0; p < np; p++) {
				const struct jpath *jp = &s->paths->p[p];
				uint16_t k = st[p];

				if (k == ST_TAKE || k == ST_TAKE_END)
					in[p] = ST_TAKE;
				else if (k != ST_OFF && k < ST_ARRAY_EACH && jp->key_len[k] == key_len &&
					 !memcmp(jp->keys[k], key, key_len))
					in[p] = (uint16_t)((k + 1) | (jp->each[k] ? IN_EACH : 0));
				else
					in[p] = ST_OFF;
			}
		}
		if (s->depth == 1) {
			for (p = 0; p < np; p++)
				if (s->paths->p[p].key_len[0] == key_len && !memcmp(s->paths->p[p].keys[0], key, key_len))
					s->present |= 1UL << p;
		}
		if (scan_value(s, active && any_on(in, np) ? in : NULL))
			return -1;
		skip_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			skip_ws(s);
			continue;
		}
		if (s->p < s->end && *s->p == '}') {
			s->p++;
			if (s->depth == 1)
				s->root_keys = nkeys;
			return 0;
		}
		return -1;
	}
}

static int scan_array(struct scanner *s, const uint16_t *st, int active)
{
	const size_t np = s->paths->n;
	uint16_t in[LING_JSONL_MAX_PATHS];
	size_t p;

	if (active) {
		for (p = 0; p < np; p++) {
			uint16_t k = st[p];

			if (k == ST_TAKE || k == ST_TAKE_END)
				in[p] = ST_TAKE;
			else if (k != ST_OFF && (k & ST_ARRAY_EACH))
				in[p] = (uint16_t)(k & ~ST_ARRAY_EACH);
			else
				in[p] = ST_OFF;
		}
		active = any_on(in, np);
	}
	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return 0;
	}
	for (;;) {
		if (scan_value(s, active ? in : NULL))
			return -1;
		skip_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			skip_ws(s);
			continue;
		}
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			return 0;
		}
		return -1;
	}
}

/* A value whose per-path incoming states are in (NULL: on no path). @return 0 or -1. */
static int scan_value(struct scanner *s, const uint16_t *in)
{
	const size_t np = s->paths->n;
	uint16_t st[LING_JSONL_MAX_PATHS];
	const unsigned char *start;
	unsigned char t;
	size_t p;
	int rc;

	if (s->p >= s->end)
		return -1;
	t = *s->p;
	if (in)
		for (p = 0; p < np; p++)
			st[p] = resolve(&s->paths->p[p], in[p], t);
	switch (t) {
	case '{':
	case '[':
		if (++s->depth > SCAN_MAX_DEPTH)
			return -1;
		rc = t == '{' ? scan_object(s, st, in != NULL) : scan_array(s, st, in != NULL);
		s->depth--;
		return rc;
	case '"': {
		const char *val;
		size_t len;
		int want = 0;

		if (in)
			for (p = 0; p < np; p++)
				want |= st[p] == ST_TAKE || st[p] == ST_TAKE_END;
		if (scan_string(s, want, &val, &len))
			return -1;
		if (want)
			for (p = 0; p < np; p++)
				if (st[p] == ST_TAKE || st[p] == ST_TAKE_END)
					s->fn(s->ctx, p, LING_JSONL_STRING, st[p] == ST_TAKE_END, val ? val : "", len);
		return 0;
	}
	case 't': return scan_literal(s, "true", 4);
	case 'f': return scan_literal(s, "false", 5);
	case 'n': return scan_literal(s, "null", 4);
	default:
		start = s->p;
		if (scan_number(s))
			return -1;
		/* Integers only, as jansson prints them: "-0" is 0. */
		if (in && !memchr(start, '.', (size_t)(s->p - start))) {
			const char *num = (const char *)start;
			size_t len = (size_t)(s->p - start);

			if (len == 2 && !memcmp(num, "-0", 2))
				num++, len--;
			for (p = 0; p < np; p++)
				if (st[p] == ST_TAKE || st[p] == ST_TAKE_END)
					s->fn(s->ctx, p, LING_JSONL_NUMBER, st[p] == ST_TAKE_END, num, len);
		}
		return 0;
	}
}

int ling_jsonl_scan(const struct ling_jsonl_paths *paths, const char *line, size_t len, struct ling_buf *scratch,
		    ling_jsonl_piece_fn fn, void *ctx, unsigned long *present, size_t *root_keys)
{
	struct scanner s;
	uint16_t in[LING_JSONL_MAX_PATHS];
	size_t p;

	memset(&s, 0, sizeof(s));
	s.p = (const unsigned char *)line;
	s.end = s.p + len;
	s.paths = paths;
	s.fn = fn;
	s.ctx = ctx;
	s.scratch = scratch;
	/* The root is where every path starts: incoming state 0, with no "[]" before it. */
	for (p = 0; p < paths->n; p++)
		in[p] = 0;
	skip_ws(&s);
	if (s.p >= s.end || *s.p != '{' || scan_value(&s, paths->n ? in : NULL))
		return 0;
	skip_ws(&s);
	if (s.p != s.end)
		return 0;
	*present = s.present;
	*root_keys = s.root_keys;
	return 1;
}

int ling_jsonl_dump(const json_t *v, struct ling_buf *out, struct ling_err *err)
{
	const size_t flags = JSON_COMPACT | JSON_ENCODE_ANY;
	size_t need, room;

	ling_buf_reserve(out, 256);
	room = out->cap - out->len - 1;
	need = json_dumpb(v, out->data + out->len, room, flags);
	if (need == 0)
		return ling_err_set(err, LING_EDATA, "cannot encode a value as JSON");
	if (need > room) {
		ling_buf_reserve(out, need);
		need = json_dumpb(v, out->data + out->len, need, flags);
	}
	out->len += need;
	out->data[out->len] = '\0';
	ling_buf_addc(out, '\n');
	return 0;
}
