/*
 * kg_iri: RFC 3986 section 5.2 reference resolution, byte-wise, so that it
 * works on IRIs (RFC 3987 section 6.5) without decoding them.
 */
#include "kg_rdf_internal.h"

#include <string.h>

#include "../common/banned.h"

/* The five components of RFC 3986 section 3; a NULL pointer means "undefined". */
struct iri_parts {
	const char *scheme, *auth, *path, *query, *frag;
	size_t scheme_len, auth_len, path_len, query_len, frag_len;
};

static int is_alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

int kg_iri_is_absolute(const char *s, size_t n)
{
	size_t i;

	if (!n || !is_alpha((unsigned char)s[0]))
		return 0;
	for (i = 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ':')
			return 1;
		if (!is_alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.')
			return 0;
	}
	return 0;
}

/* Splits s with the regular expression of RFC 3986 appendix B. */
static void split(struct iri_parts *r, const char *s, size_t n)
{
	const char *end = s + n, *p;

	memset(r, 0, sizeof(*r));
	if (kg_iri_is_absolute(s, n)) {
		p = memchr(s, ':', n);
		r->scheme = s;
		r->scheme_len = (size_t)(p - s);
		s = p + 1;
	}
	if (end - s >= 2 && s[0] == '/' && s[1] == '/') {
		s += 2;
		r->auth = s;
		while (s < end && *s != '/' && *s != '?' && *s != '#')
			s++;
		r->auth_len = (size_t)(s - r->auth);
	}
	r->path = s;
	while (s < end && *s != '?' && *s != '#')
		s++;
	r->path_len = (size_t)(s - r->path);
	if (s < end && *s == '?') {
		r->query = ++s;
		while (s < end && *s != '#')
			s++;
		r->query_len = (size_t)(s - r->query);
	}
	if (s < end && *s == '#') {
		r->frag = s + 1;
		r->frag_len = (size_t)(end - s - 1);
	}
}

/*
 * RFC 3986 5.2.4, in place on out->data[start..]: the output never gets
 * ahead of the input, so one buffer serves both.
 */
static void remove_dot_segments(struct ling_buf *out, size_t start)
{
	char *s = out->data + start;
	size_t n = out->len - start, r = 0, w = 0;

	if (!memchr(s, '.', n))
		return;
	while (r < n) {
		size_t left = n - r;
		const char *in = s + r;

		if (left >= 3 && !memcmp(in, "../", 3)) {          /* A */
			r += 3;
		} else if (left >= 2 && !memcmp(in, "./", 2)) {    /* A */
			r += 2;
		} else if (left >= 3 && !memcmp(in, "/./", 3)) {   /* B */
			r += 2;
		} else if (left == 2 && !memcmp(in, "/.", 2)) {    /* B */
			s[w++] = '/';
			r += 2;
		} else if ((left >= 4 && !memcmp(in, "/../", 4)) ||
			   (left == 3 && !memcmp(in, "/..", 3))) {         /* C */
			while (w > 0 && s[w - 1] != '/')
				w--;
			if (w > 0)
				w--;
			/* "/../x" leaves "/x" to read; a final "/.." becomes "/". */
			if (left == 3)
				s[w++] = '/';
			r += 3;
		} else if ((left == 1 && in[0] == '.') || (left == 2 && !memcmp(in, "..", 2))) { /* D */
			r = n;
		} else {                                             /* E */
			size_t seg = 1;

			while (seg < left && in[seg] != '/')
				seg++;
			memmove(s + w, in, seg);
			w += seg;
			r += seg;
		}
	}
	ling_buf_truncate(out, start + w);
}

static void add_path(struct ling_buf *out, const char *path, size_t len)
{
	size_t start = out->len;

	ling_buf_add(out, path, len);
	remove_dot_segments(out, start);
}

void kg_iri_resolve(struct ling_buf *out, const char *base, size_t base_len, const char *ref, size_t ref_len)
{
	struct iri_parts b, r;
	const char *query;
	size_t query_len, start;

	if (!base) {
		ling_buf_add(out, ref, ref_len);
		return;
	}
	split(&r, ref, ref_len);
	split(&b, base, base_len);
	ling_buf_reserve(out, base_len + ref_len + 4);

	/* RFC 3986 5.2.2, strict: a reference with a scheme is used as it is. */
	if (r.scheme) {
		ling_buf_add(out, r.scheme, r.scheme_len);
		ling_buf_addc(out, ':');
	} else if (b.scheme) {
		ling_buf_add(out, b.scheme, b.scheme_len);
		ling_buf_addc(out, ':');
	}
	query = r.query;
	query_len = r.query_len;
	if (r.scheme || r.auth) {
		if (r.auth) {
			ling_buf_add(out, "//", 2);
			ling_buf_add(out, r.auth, r.auth_len);
		}
		add_path(out, r.path, r.path_len);
	} else {
		if (b.auth) {
			ling_buf_add(out, "//", 2);
			ling_buf_add(out, b.auth, b.auth_len);
		}
		if (!r.path_len) {
			ling_buf_add(out, b.path, b.path_len);
			if (!r.query) {
				query = b.query;
				query_len = b.query_len;
			}
		} else if (r.path[0] == '/') {
			add_path(out, r.path, r.path_len);
		} else {
			/* 5.2.3 merge: the base path up to its last '/', then the reference. */
			start = out->len;
			if (b.auth && !b.path_len) {
				ling_buf_addc(out, '/');
			} else {
				size_t keep = b.path_len;

				while (keep > 0 && b.path[keep - 1] != '/')
					keep--;
				ling_buf_add(out, b.path, keep);
			}
			ling_buf_add(out, r.path, r.path_len);
			remove_dot_segments(out, start);
		}
	}
	if (query) {
		ling_buf_addc(out, '?');
		ling_buf_add(out, query, query_len);
	}
	if (r.frag) {
		ling_buf_addc(out, '#');
		ling_buf_add(out, r.frag, r.frag_len);
	}
}
