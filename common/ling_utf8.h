/*
 * ling_utf8: strict UTF-8 validation (no overlongs, no surrogates, nothing above
 * U+10FFFF), with an ASCII fast path.
 */
#ifndef LING_UTF8_H
#define LING_UTF8_H

#include <stddef.h>

/*
 * @return the length of the longest valid prefix of s: n when all of s is valid
 * UTF-8, otherwise the offset of the first bad byte.
 */
size_t ling_utf8_valid_prefix(const char *s, size_t n);

/* Decodes one code point at s (n > 0 bytes available). @return its length, or 0 if invalid. */
size_t ling_utf8_decode(const char *s, size_t n, unsigned long *cp);

#endif
