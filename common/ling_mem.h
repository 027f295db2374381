/*
 * ling_mem: allocation that aborts on out-of-memory (git's xmalloc), and a
 * growable byte buffer (git's strbuf).
 *
 * struct ling_buf invariant: `data` is NULL or points to `cap` bytes of which
 * the first `len` are used, and data[len] == '\0' whenever data != NULL, so the
 * contents can be used as a C string when they hold no NUL byte.
 */
#ifndef LING_MEM_H
#define LING_MEM_H

#include <stddef.h>
#include <stdint.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Grows *ptr (an array of *cap elements of elem_size bytes) to hold at least need elements. */
void *xgrow(void *ptr, size_t *cap, size_t need, size_t elem_size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

struct ling_buf {
	char *data;
	size_t len;
	size_t cap;
};

#define LING_BUF_INIT { NULL, 0, 0 }

void ling_buf_init(struct ling_buf *b);
void ling_buf_release(struct ling_buf *b);
/* Makes room for `extra` more bytes (plus the terminating NUL). */
void ling_buf_reserve(struct ling_buf *b, size_t extra);
void ling_buf_add(struct ling_buf *b, const void *data, size_t len);
void ling_buf_addc(struct ling_buf *b, char c);
void ling_buf_adds(struct ling_buf *b, const char *s);
void ling_buf_addf(struct ling_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
/* Empties the buffer, keeping its memory. */
void ling_buf_reset(struct ling_buf *b);
void ling_buf_truncate(struct ling_buf *b, size_t len);
/* Appends the UTF-8 encoding of code point cp (caller checks cp <= 0x10FFFF). */
void ling_buf_add_utf8(struct ling_buf *b, unsigned long cp);


/*
 * A growable array of uint32_t: token ids (tokenize), entity and name
 * numbers (synth). The caller owns it; {NULL, 0, 0} is empty.
 */
struct ling_u32s {
	uint32_t *v;
	size_t n, cap;
};

#define LING_U32S_INIT { NULL, 0, 0 }

static inline void ling_u32s_push(struct ling_u32s *a, uint32_t x)
{
	if (a->n == a->cap)
		a->v = xgrow(a->v, &a->cap, a->n + 1, sizeof(*a->v));
	a->v[a->n++] = x;
}

/* Frees the values; the array is empty and may be used again. */
void ling_u32s_release(struct ling_u32s *a);

#endif
