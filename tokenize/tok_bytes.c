/*
 * tok_bytes: the GPT-2 byte <-> unicode table used by byte-level BPE (HF
 * ByteLevel, GPT-2 encoder.json). Printable Latin-1 bytes stand for
 * themselves; the other 68 bytes, in increasing order, map to U+0100.. .
 */
#include "tok_internal.h"

#include "../common/ling_utf8.h"

#include <pthread.h>

#include "../common/banned.h"

static int printable(unsigned b)
{
	return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

unsigned tok_byte_to_cp(unsigned char b)
{
	unsigned n = 0, i;

	if (printable(b))
		return b;
	for (i = 0; i < b; i++)
		n += !printable(i);
	return 0x100 + n;
}

static int cp_table[0x144];
static pthread_once_t cp_table_once = PTHREAD_ONCE_INIT;

static void fill_cp_table(void)
{
	unsigned i;

	for (i = 0; i < 0x144; i++)
		cp_table[i] = -1;
	for (i = 0; i < 256; i++)
		cp_table[tok_byte_to_cp((unsigned char)i)] = (int)i;
}

/* Tokenizers load on several threads at once (tokenize build): the table is filled once, for all. */
int tok_cp_to_byte(unsigned long cp)
{
	pthread_once(&cp_table_once, fill_cp_table);
	return cp < 0x144 ? cp_table[cp] : -1;
}

int tok_bytes_from_unicode(const char *s, size_t len, struct ling_buf *out)
{
	size_t i = 0, at = out->len;
	char *w;

	/* One byte per character at most: write in place (loading a vocabulary converts every token). */
	ling_buf_reserve(out, len);
	w = out->data + at;
	while (i < len) {
		unsigned long cp = (unsigned char)s[i];
		size_t n = 1;
		int b;

		/* Most characters of byte-level tokens take two bytes (U+00A1..U+0143). */
		if (cp >= 0xC2 && cp <= 0xDF && i + 1 < len && ((unsigned char)s[i + 1] & 0xC0) == 0x80) {
			cp = (cp & 0x1F) << 6 | ((unsigned char)s[i + 1] & 0x3F);
			n = 2;
		} else if (cp >= 0x80) {
			n = ling_utf8_decode(s + i, len - i, &cp);
		}

		if (!n || (b = tok_cp_to_byte(cp)) < 0) {
			out->data[out->len] = '\0';
			return -1;
		}
		*w++ = (char)b;
		i += n;
	}
	out->len = (size_t)(w - out->data);
	*w = '\0';
	return 0;
}

void tok_bytes_to_unicode(const char *s, size_t len, struct ling_buf *out)
{
	size_t i;

	for (i = 0; i < len; i++)
		ling_buf_add_utf8(out, tok_byte_to_cp((unsigned char)s[i]));
}
