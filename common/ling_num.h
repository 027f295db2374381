/*
 * ling_num: numbers parsed from text with every check (STYLE: never atoi).
 *
 * A whole string is one number or it is refused: no leading white space, no
 * trailing characters, no silent wrap-around. Options of the mains and the
 * specs libraries read (kg2samples' --mix weights, meta values of a store,
 * numbers in tokenizer files) go through these.
 */
#ifndef LING_NUM_H
#define LING_NUM_H

/* Parses a whole string as a base-10 integer in [min, max]. @return 0, or -1 when it is not one. */
int ling_parse_long(const char *s, long long min, long long max, long long *out);
/* Parses a whole string as a finite double. @return 0 or -1. */
int ling_parse_double(const char *s, double *out);
/* Parses a size like 512M, 4G, 100k (powers of 1024). @return 0 or -1. */
int ling_parse_size(const char *s, unsigned long long *out);

#endif
