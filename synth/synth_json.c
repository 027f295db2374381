/*
 * synth_json: the JSON of the hot path without jansson. Samples are written
 * by appending strings escaped by ling_json_add_str (common/ling_json.h) to
 * a buffer; tool arguments are read back here by a small strict reader for
 * verification and checked against the tool's schema, compiled once (with
 * jansson) into a struct synth_schema.
 */
#include "synth_internal.h"

#include "../common/ling_utf8.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"


/* ---- reading ---- */

struct jparse {
	struct synth_jreader *r;
	const char *p, *end;
	int depth;
};

static void skip_ws(struct jparse *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static uint32_t new_value(struct synth_jreader *r, enum synth_jtype type)
{
	struct synth_jv *v;

	r->v = xgrow(r->v, &r->cap, r->nv + 1, sizeof(*r->v));
	v = &r->v[r->nv];
	memset(v, 0, sizeof(*v));
	v->type = type;
	v->next = SYNTH_NONE;
	v->kid = SYNTH_NONE;
	return (uint32_t)r->nv++;
}

static int hex4(const char *p, unsigned long *out)
{
	unsigned long v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned long)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned long)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned long)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Decodes the string at j->p (after its quote) into scratch. @return 0 or -1. */
static int parse_string(struct jparse *j, uint32_t *off, uint32_t *len)
{
	struct ling_buf *b = &j->r->scratch;
	size_t start = b->len;

	while (j->p < j->end) {
		const char *run = j->p;
		unsigned char c;

		while (j->p < j->end && (unsigned char)*j->p >= 0x20 && *j->p != '"' && *j->p != '\\')
			j->p++;
		ling_buf_add(b, run, (size_t)(j->p - run));
		if (j->p == j->end)
			return -1;
		c = (unsigned char)*j->p++;
		if (c == '"') {
			size_t n = b->len - start;

			ling_buf_addc(b, '\0');
			*off = (uint32_t)start;
			*len = (uint32_t)n;
			/* Strings must be UTF-8 and hold no NUL (as jansson requires). */
			return ling_utf8_valid_prefix(b->data + start, n) == n && !memchr(b->data + start, 0, n) ? 0 : -1;
		}
		if (c < 0x20 || j->p == j->end)
			return -1;
		c = (unsigned char)*j->p++;
		switch (c) {
		case '"': ling_buf_addc(b, '"'); break;
		case '\\': ling_buf_addc(b, '\\'); break;
		case '/': ling_buf_addc(b, '/'); break;
		case 'b': ling_buf_addc(b, '\b'); break;
		case 'f': ling_buf_addc(b, '\f'); break;
		case 'n': ling_buf_addc(b, '\n'); break;
		case 'r': ling_buf_addc(b, '\r'); break;
		case 't': ling_buf_addc(b, '\t'); break;
		case 'u': {
			unsigned long cp, lo;

			if (j->end - j->p < 4 || hex4(j->p, &cp))
				return -1;
			j->p += 4;
			if (cp >= 0xDC00 && cp <= 0xDFFF)
				return -1;
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' || hex4(j->p + 2, &lo) ||
				    lo < 0xDC00 || lo > 0xDFFF)
					return -1;
				j->p += 6;
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			}
			if (!cp)
				return -1;
			ling_buf_add_utf8(b, cp);
			break;
		}
		default:
			return -1;
		}
	}
	return -1;
}

static int parse_number(struct jparse *j, uint32_t v)
{
	const char *p = j->p;
	int real = 0;

	if (p < j->end && *p == '-')
		p++;
	if (p == j->end || *p < '0' || *p > '9')
		return -1;
	if (*p == '0')
		p++;
	else
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	if (p < j->end && *p == '.') {
		real = 1;
		if (++p == j->end || *p < '0' || *p > '9')
			return -1;
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < j->end && (*p == 'e' || *p == 'E')) {
		real = 1;
		p++;
		if (p < j->end && (*p == '+' || *p == '-'))
			p++;
		if (p == j->end || *p < '0' || *p > '9')
			return -1;
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	}
	j->r->v[v].type = real ? SYNTH_J_REAL : SYNTH_J_INT;
	/* the number's text, for tools that compare values (kg_value_of_arg) */
	j->r->v[v].str = (uint32_t)j->r->scratch.len;
	j->r->v[v].len = (uint32_t)(p - j->p);
	ling_buf_add(&j->r->scratch, j->p, (size_t)(p - j->p));
	ling_buf_addc(&j->r->scratch, '\0'); /* as strings are: synth_jv_str() is a C string */
	j->p = p;
	return 0;
}

static int parse_value(struct jparse *j, uint32_t *out);

/* Parses the members or elements after '{' or '['. */
static int parse_container(struct jparse *j, uint32_t v, int object)
{
	uint32_t last = SYNTH_NONE, kid;
	char close = object ? '}' : ']';

	if (++j->depth > 64)
		return -1;
	skip_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		uint32_t key = 0, klen = 0;

		skip_ws(j);
		if (object) {
			uint32_t i;

			if (j->p == j->end || *j->p != '"')
				return -1;
			j->p++;
			if (parse_string(j, &key, &klen))
				return -1;
			/* A repeated key is an error, as jansson's JSON_REJECT_DUPLICATES makes it. */
			for (i = j->r->v[v].kid; i != SYNTH_NONE; i = j->r->v[i].next)
				if (j->r->v[i].klen == klen &&
				    !memcmp(j->r->scratch.data + j->r->v[i].key, j->r->scratch.data + key, klen))
					return -1;
			skip_ws(j);
			if (j->p == j->end || *j->p++ != ':')
				return -1;
			skip_ws(j);
		}
		if (parse_value(j, &kid))
			return -1;
		j->r->v[kid].key = key;
		j->r->v[kid].klen = klen;
		if (last == SYNTH_NONE)
			j->r->v[v].kid = kid;
		else
			j->r->v[last].next = kid;
		last = kid;
		j->r->v[v].n++;
		skip_ws(j);
		if (j->p == j->end)
			return -1;
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p++ != close)
			return -1;
		j->depth--;
		return 0;
	}
}

static int literal(struct jparse *j, const char *word, size_t n)
{
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n))
		return -1;
	j->p += n;
	return 0;
}

static int parse_value(struct jparse *j, uint32_t *out)
{
	uint32_t v;

	skip_ws(j);
	if (j->p == j->end)
		return -1;
	switch (*j->p) {
	case '{':
		j->p++;
		*out = v = new_value(j->r, SYNTH_J_OBJ);
		return parse_container(j, v, 1);
	case '[':
		j->p++;
		*out = v = new_value(j->r, SYNTH_J_ARR);
		return parse_container(j, v, 0);
	case '"': {
		uint32_t off, len;

		j->p++;
		*out = v = new_value(j->r, SYNTH_J_STR);
		if (parse_string(j, &off, &len))
			return -1;
		j->r->v[v].str = off;
		j->r->v[v].len = len;
		return 0;
	}
	case 't':
		*out = new_value(j->r, SYNTH_J_TRUE);
		return literal(j, "true", 4);
	case 'f':
		*out = new_value(j->r, SYNTH_J_FALSE);
		return literal(j, "false", 5);
	case 'n':
		*out = new_value(j->r, SYNTH_J_NULL);
		return literal(j, "null", 4);
	default:
		*out = v = new_value(j->r, SYNTH_J_INT);
		return parse_number(j, v);
	}
}

int synth_json_parse(struct synth_jreader *r, const char *text, size_t len)
{
	struct jparse j;
	uint32_t root;

	r->nv = 0;
	ling_buf_reset(&r->scratch);
	j.r = r;
	j.p = text;
	j.end = text + len;
	j.depth = 0;
	if (parse_value(&j, &root))
		return -1;
	skip_ws(&j);
	return j.p == j.end ? 0 : -1;
}

void synth_jreader_release(struct synth_jreader *r)
{
	free(r->v);
	r->v = NULL;
	r->nv = r->cap = 0;
	ling_buf_release(&r->scratch);
}

/* ---- schemas ---- */

static const struct {
	const char *name;
	unsigned bits;
} type_names[] = {
	{ "null", 1u << SYNTH_J_NULL },
	{ "boolean", (1u << SYNTH_J_FALSE) | (1u << SYNTH_J_TRUE) },
	{ "integer", 1u << SYNTH_J_INT },
	{ "number", (1u << SYNTH_J_INT) | (1u << SYNTH_J_REAL) },
	{ "string", 1u << SYNTH_J_STR },
	{ "array", 1u << SYNTH_J_ARR },
	{ "object", 1u << SYNTH_J_OBJ },
};

static unsigned type_bits(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (!strcmp(name, type_names[i].name))
			return type_names[i].bits;
	return 0;
}

/* Keywords that describe without constraining. */
static int annotation(const char *key)
{
	return !strcmp(key, "description") || !strcmp(key, "title") || !strcmp(key, "default") ||
	       !strcmp(key, "examples") || !strcmp(key, "format") || !strcmp(key, "$schema");
}

static struct synth_schema *compile(json_t *j, char *why, size_t whylen);

static int schema_type(struct synth_schema *s, json_t *v, char *why, size_t whylen)
{
	size_t i;
	json_t *t;

	if (json_is_string(v)) {
		s->types = type_bits(json_string_value(v));
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, t)
			s->types |= json_is_string(t) ? type_bits(json_string_value(t)) : 0;
	}
	if (!s->types) {
		snprintf(why, whylen, "unknown type");
		return -1;
	}
	return 0;
}

static int schema_properties(struct synth_schema *s, json_t *v, char *why, size_t whylen)
{
	const char *pk;
	json_t *pv;

	if (!json_is_object(v)) {
		snprintf(why, whylen, "properties must be an object");
		return -1;
	}
	s->nprops = json_object_size(v);
	s->prop = xcalloc(s->nprops + 1, sizeof(*s->prop));
	s->props = xcalloc(s->nprops + 1, sizeof(*s->props));
	s->required = xcalloc(s->nprops + 1, 1);
	s->nprops = 0;
	json_object_foreach(v, pk, pv) {
		s->prop[s->nprops] = xstrdup(pk);
		if (!(s->props[s->nprops++] = compile(pv, why, whylen)))
			return -1;
	}
	return 0;
}

/* One keyword of a schema object, except those that need the properties first. */
static int schema_keyword(struct synth_schema *s, const char *key, json_t *v, char *why, size_t whylen)
{
	if (!strcmp(key, "type"))
		return schema_type(s, v, why, whylen);
	if (!strcmp(key, "properties"))
		return schema_properties(s, v, why, whylen);
	if (!strcmp(key, "required") || !strcmp(key, "additionalProperties") || !strcmp(key, "enum"))
		return 0; /* after the properties: schema_after_properties() */
	if (!strcmp(key, "items"))
		return (s->items = compile(v, why, whylen)) ? 0 : -1;
	if (!strcmp(key, "minimum") || !strcmp(key, "maximum")) {
		if (!json_is_number(v)) {
			snprintf(why, whylen, "%s must be a number", key);
			return -1;
		}
		if (key[1] == 'i') {
			s->has_min = 1;
			s->minimum = json_number_value(v);
		} else {
			s->has_max = 1;
			s->maximum = json_number_value(v);
		}
		return 0;
	}
	if (!strcmp(key, "minItems") || !strcmp(key, "maxItems")) {
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			snprintf(why, whylen, "%s must be a count", key);
			return -1;
		}
		*(key[1] == 'i' ? &s->min_items : &s->max_items) = (long)json_integer_value(v);
		return 0;
	}
	if (!annotation(key)) {
		snprintf(why, whylen, "unsupported keyword \"%s\"", key);
		return -1;
	}
	return 0;
}

static int schema_required(struct synth_schema *s, json_t *v, char *why, size_t whylen)
{
	size_t i, k;
	json_t *r;

	if (!json_is_array(v)) {
		snprintf(why, whylen, "required must be an array");
		return -1;
	}
	json_array_foreach(v, i, r) {
		for (k = 0; k < s->nprops && json_is_string(r) && strcmp(s->prop[k], json_string_value(r)); k++)
			;
		if (k == s->nprops) {
			snprintf(why, whylen, "a required key is not a property");
			return -1;
		}
		s->required[k] = 1;
	}
	return 0;
}

static int schema_enum(struct synth_schema *s, json_t *v, char *why, size_t whylen)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v)) {
		snprintf(why, whylen, "enum must be an array");
		return -1;
	}
	s->enums = xcalloc(json_array_size(v) + 1, sizeof(*s->enums));
	json_array_foreach(v, i, e) {
		if (!json_is_string(e)) {
			snprintf(why, whylen, "enum values must be strings");
			return -1;
		}
		s->enums[s->nenums++] = xstrdup(json_string_value(e));
	}
	return 0;
}

/* additionalProperties, required and enum, which refer to the properties. */
static int schema_after_properties(struct synth_schema *s, json_t *j, char *why, size_t whylen)
{
	json_t *v;

	if ((v = json_object_get(j, "additionalProperties"))) {
		if (!json_is_boolean(v)) {
			snprintf(why, whylen, "additionalProperties must be a boolean");
			return -1;
		}
		s->closed = json_is_false(v);
	}
	if ((v = json_object_get(j, "required")) && schema_required(s, v, why, whylen))
		return -1;
	if ((v = json_object_get(j, "enum")) && schema_enum(s, v, why, whylen))
		return -1;
	return 0;
}

static struct synth_schema *compile(json_t *j, char *why, size_t whylen)
{
	struct synth_schema *s;
	const char *key;
	json_t *v;

	if (!json_is_object(j)) {
		snprintf(why, whylen, "a schema must be an object");
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->min_items = s->max_items = -1;
	s->closed = 0;
	json_object_foreach(j, key, v)
		if (schema_keyword(s, key, v, why, whylen))
			goto fail;
	if (schema_after_properties(s, j, why, whylen))
		goto fail;
	return s;
fail:
	synth_schema_free(s);
	return NULL;
}

struct synth_schema *synth_schema_new(const char *json, char *why, size_t whylen)
{
	json_error_t jerr;
	json_t *j = json_loads(json, 0, &jerr);
	struct synth_schema *s;

	if (!j) {
		snprintf(why, whylen, "not JSON: %s", jerr.text);
		return NULL;
	}
	s = compile(j, why, whylen);
	json_decref(j);
	return s;
}

void synth_schema_free(struct synth_schema *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nprops; i++) {
		free(s->prop[i]);
		synth_schema_free(s->props[i]);
	}
	for (i = 0; i < s->nenums; i++)
		free(s->enums[i]);
	free(s->prop);
	free(s->props);
	free(s->required);
	free(s->enums);
	synth_schema_free(s->items);
	free(s);
}

int synth_schema_valid(const struct synth_schema *s, const struct synth_jreader *r, const struct synth_jv *v)
{
	uint32_t i;
	size_t k;

	if (s->types && !(s->types & (1u << v->type)))
		return 0;
	if (s->enums) {
		if (v->type != SYNTH_J_STR)
			return 0;
		for (k = 0; k < s->nenums && strcmp(s->enums[k], synth_jv_str(r, v)); k++)
			;
		if (k == s->nenums)
			return 0;
	}
	if ((s->has_min || s->has_max) && (v->type == SYNTH_J_INT || v->type == SYNTH_J_REAL)) {
		/* the number's text, as JSON wrote it; a bound compares as a double (bounds are small integers) */
		double x = strtod(synth_jv_str(r, v), NULL);

		if ((s->has_min && x < s->minimum) || (s->has_max && x > s->maximum))
			return 0;
	}
	if (v->type == SYNTH_J_OBJ) {
		unsigned char seen[64] = { 0 };

		for (i = v->kid; i != SYNTH_NONE; i = r->v[i].next) {
			const struct synth_jv *m = &r->v[i];

			for (k = 0; k < s->nprops; k++)
				if (strlen(s->prop[k]) == m->klen && !memcmp(s->prop[k], r->scratch.data + m->key, m->klen))
					break;
			if (k == s->nprops) {
				if (s->closed)
					return 0;
				continue;
			}
			if (!synth_schema_valid(s->props[k], r, m))
				return 0;
			if (k < sizeof(seen))
				seen[k] = 1;
		}
		for (k = 0; k < s->nprops && k < sizeof(seen); k++)
			if (s->required[k] && !seen[k])
				return 0;
	}
	if (v->type == SYNTH_J_ARR) {
		if (s->min_items >= 0 && v->n < (unsigned long)s->min_items)
			return 0;
		if (s->max_items >= 0 && v->n > (unsigned long)s->max_items)
			return 0;
		if (s->items)
			for (i = v->kid; i != SYNTH_NONE; i = r->v[i].next)
				if (!synth_schema_valid(s->items, r, &r->v[i]))
					return 0;
	}
	return 1;
}
