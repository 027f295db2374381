/*
 * kg_words: English word forms for the names and sentences made from a
 * graph's vocabulary, in one place: kg_tools names tools and writes their
 * descriptions with them, and synth's wording builds its questions and
 * answers with them, so a relation reads the same in a tool and in a sample.
 *
 * The rules are the usual ones (consonant + y -> ies, s x z ch sh -> es,
 * else s) plus one table of irregular nouns, read in both directions; an
 * irregular plural stays as it is ("people").
 * Words are ASCII; anything else passes through as a regular noun.
 */
#ifndef KG_WORDS_H
#define KG_WORDS_H

#include "../common/ling_mem.h"

#include <stddef.h>

/* Appends the plural of the noun w[0..n) to out ("person" -> "people", "category" -> "categories"). */
void kg_words_plural(const char *w, size_t n, struct ling_buf *out);

/*
 * Appends the singular of the noun w[0..n) to out ("people" -> "person",
 * "places" -> "place"); a word that does not look plural is appended as it is.
 */
void kg_words_singular(const char *w, size_t n, struct ling_buf *out);

/* "an" before a vowel sound as spelled (but "a union"), else "a". */
const char *kg_words_article(const char *noun);

#endif
