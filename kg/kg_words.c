/*
 * kg_words: English noun forms (see kg.h).
 */
#include "kg.h"

#include <string.h>

#include "../common/banned.h"

/* Singular and plural; a word may appear in one column only once. */
static const char *const irregular[][2] = {
	{ "person", "people" },	  { "man", "men" },	       { "woman", "women" },   { "child", "children" },
	{ "medium", "media" },	  { "criterion", "criteria" }, { "series", "series" }, { "species", "species" },
	{ "Games", "Games" },	  { "alumnus", "alumni" },     { "genus", "genera" },  { "foot", "feet" },
	{ "news", "news" },
};

#define NIRREGULAR (sizeof(irregular) / sizeof(irregular[0]))

static int word_is(const char *w, size_t n, const char *s)
{
	return strlen(s) == n && !memcmp(w, s, n);
}

static int ends_with(const char *w, size_t n, const char *suffix)
{
	size_t m = strlen(suffix);

	return n >= m && !memcmp(w + n - m, suffix, m);
}

static int is_vowel(int c)
{
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

/* The other form of an irregular noun, or NULL. col is the column w is looked up in. */
static const char *irregular_form(const char *w, size_t n, int col)
{
	size_t i;

	for (i = 0; i < NIRREGULAR; i++)
		if (word_is(w, n, irregular[i][col]))
			return irregular[i][!col];
	return NULL;
}

void kg_words_plural(const char *w, size_t n, struct ling_buf *out)
{
	const char *irr = irregular_form(w, n, 0);

	if (irr) {
		ling_buf_adds(out, irr);
	} else if (irregular_form(w, n, 1)) {
		ling_buf_add(out, w, n); /* "people": already plural */
	} else if (n >= 2 && w[n - 1] == 'y' && !is_vowel(w[n - 2])) {
		ling_buf_add(out, w, n - 1);
		ling_buf_adds(out, "ies");
	} else if ((n >= 1 && strchr("sxz", w[n - 1])) || ends_with(w, n, "ch") || ends_with(w, n, "sh")) {
		ling_buf_add(out, w, n);
		ling_buf_adds(out, "es");
	} else if (n) {
		ling_buf_add(out, w, n);
		ling_buf_adds(out, "s");
	}
}

void kg_words_singular(const char *w, size_t n, struct ling_buf *out)
{
	const char *irr = irregular_form(w, n, 1);

	if (irr)
		ling_buf_adds(out, irr);
	else if (n < 3)
		ling_buf_add(out, w, n);
	else if (ends_with(w, n, "ies") && n > 4) {
		ling_buf_add(out, w, n - 3);
		ling_buf_addc(out, 'y');
	} else if (ends_with(w, n, "sses") || ends_with(w, n, "shes") || ends_with(w, n, "ches") ||
		   ends_with(w, n, "xes") || ends_with(w, n, "zes"))
		ling_buf_add(out, w, n - 2);
	else if (w[n - 1] == 's' && !ends_with(w, n, "ss") && !ends_with(w, n, "us") && !ends_with(w, n, "is"))
		ling_buf_add(out, w, n - 1);
	else
		ling_buf_add(out, w, n);
}

const char *kg_words_article(const char *noun)
{
	int c = noun[0] >= 'A' && noun[0] <= 'Z' ? noun[0] - 'A' + 'a' : noun[0];

	return is_vowel(c) && noun[0] != 'u' ? "an" : "a";
}
