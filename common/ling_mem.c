#include "ling_mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die_oom(size_t size)
{
	fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", size);
	abort();
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		die_oom(size);
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);

	if (!p)
		die_oom(count * size);
	return p;
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (!p)
		die_oom(size);
	return p;
}

void *xgrow(void *ptr, size_t *cap, size_t need, size_t elem_size)
{
	size_t n = *cap;

	if (need <= n)
		return ptr;
	if (n < 16)
		n = 16;
	while (n < need)
		n += n / 2;
	if (n > (size_t)-1 / elem_size)
		die_oom((size_t)-1);
	*cap = n;
	return xrealloc(ptr, n * elem_size);
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

void ling_buf_init(struct ling_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void ling_buf_release(struct ling_buf *b)
{
	free(b->data);
	ling_buf_init(b);
}

void ling_buf_reserve(struct ling_buf *b, size_t extra)
{
	if (b->len + extra + 1 > b->cap)
		b->data = xgrow(b->data, &b->cap, b->len + extra + 1, 1);
}

void ling_buf_add(struct ling_buf *b, const void *data, size_t len)
{
	ling_buf_reserve(b, len);
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void ling_buf_addc(struct ling_buf *b, char c)
{
	ling_buf_reserve(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void ling_buf_adds(struct ling_buf *b, const char *s)
{
	ling_buf_add(b, s, strlen(s));
}

void ling_buf_addf(struct ling_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	ling_buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void ling_buf_reset(struct ling_buf *b)
{
	ling_buf_truncate(b, 0);
}

void ling_buf_truncate(struct ling_buf *b, size_t len)
{
	if (!b->data || len > b->len)
		return;
	b->len = len;
	b->data[len] = '\0';
}

void ling_buf_add_utf8(struct ling_buf *b, unsigned long cp)
{
	char s[4];
	size_t n;

	if (cp < 0x80) {
		s[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		s[0] = (char)(0xC0 | (cp >> 6));
		s[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		s[0] = (char)(0xE0 | (cp >> 12));
		s[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		s[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		s[0] = (char)(0xF0 | (cp >> 18));
		s[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		s[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		s[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	ling_buf_add(b, s, n);
}

void ling_u32s_release(struct ling_u32s *a)
{
	free(a->v);
	a->v = NULL;
	a->n = a->cap = 0;
}
