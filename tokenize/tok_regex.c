/*
 * tok_regex: the one module that owns PCRE2. Patterns are compiled in UTF
 * mode with Unicode properties (PCRE2_UCP), so \p{L}, \p{N}, (?i:...) and \s
 * follow the Unicode tables: \s is White_Space, which excludes U+FEFF, as
 * in HF (Oniguruma) and tiktoken (fancy-regex); FORMATS.md golden case 72.
 * Patterns are JIT-compiled when the platform allows.
 *
 * Two shortcuts keep PCRE2 off the hot path, both giving PCRE2's answers:
 * - A literal pattern (Replace " " -> "▁", Metaspace) is found with memmem.
 * - The split patterns of GPT-2, cl100k/Llama-3 and Qwen2/3 are recognised by
 *   their text and matched by a hand-written scanner over ASCII (FORMATS.md
 *   1.4: what toktok and tiktoken-rs 3.x do). Every character starts a match
 *   of these patterns, so the match found from `from` starts at `from`; the
 *   scanner decides its end from the alternatives in pattern order, and hands
 *   the position to PCRE2 as soon as it would have to classify a non-ASCII
 *   character (a letter? a space? does (?i)'s match "'ſ"?). The unit tests
 *   check it against PCRE2 on random strings of every ASCII class.
 */
#include "tok_internal.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

/* The variable parts of the GPT-2 family of split patterns. */
struct fast_split {
	const char *pattern;
	int caseless;     /* (?i:'s|'t|...) rather than 's|'t|... */
	int wide_prefix;  /* letters after [^\r\n\p{L}\p{N}]? rather than " ?" */
	int max_digits;   /* \p{N}{1,max}; 0: " ?\p{N}+" */
	int punct_crlf;   /* " ?[^\s\p{L}\p{N}]+[\r\n]*" rather than without [\r\n]* */
	int newline_alt;  /* the \s*[\r\n]+ alternative */
};

static const struct fast_split fast_splits[] = {
	{ "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", 0, 0, 0, 0, 0 },
	{ "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
	  "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
	  1, 1, 3, 1, 1 },
	{ "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
	  "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
	  1, 1, 1, 1, 1 },
};

struct tok_regex {
	pcre2_code *code;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *stack;
	int jit;
	char *literal;           /* a non-empty literal pattern, found with memmem */
	size_t literal_len;
	const struct fast_split *fast;
};

/*
 * ASCII classes as PCRE2 sees them with UCP, as digits by byte: 1 letters, 2
 * numbers, 3 \s (HT LF VT FF CR and space; not FS..US), 0 the rest.
 */
enum { C_OTHER, C_LETTER, C_DIGIT, C_SPACE };

static const char ascii_classes[129] =
	"00000000033333000000000000000000"
	"30000000000000002222222222000000"
	"01111111111111111111111111100000"
	"01111111111111111111111111100000";

#define CLASS(c) (ascii_classes[(c)] - '0')
#define NOT_ASCII(c) ((c) >= 0x80)

/* The end of the run of class k from j; 0 when a non-ASCII byte ends it (the run might go on). */
static size_t run_of(const unsigned char *s, size_t len, size_t j, int k)
{
	while (j < len && !NOT_ASCII(s[j]) && CLASS(s[j]) == k)
		j++;
	return j < len && NOT_ASCII(s[j]) ? 0 : j;
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* A contraction at i: the length of 's 't 're 've 'm 'll 'd, 0 for none, -1 to ask PCRE2. */
static int contraction(const struct fast_split *f, const unsigned char *s, size_t len, size_t i)
{
	int c1, c2;

	if (i + 1 >= len)
		return 0;
	if (NOT_ASCII(s[i + 1]))
		return -1;
	c1 = f->caseless ? lower(s[i + 1]) : s[i + 1];
	if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd')
		return 2;
	if (c1 != 'r' && c1 != 'v' && c1 != 'l')
		return 0;
	if (i + 2 >= len)
		return 0;
	if (NOT_ASCII(s[i + 2]))
		return -1;
	c2 = f->caseless ? lower(s[i + 2]) : s[i + 2];
	return (c1 == 'l' && c2 == 'l') || (c1 != 'l' && c2 == 'e') ? 3 : 0;
}

/*
 * The match at i of a pattern of the GPT-2 family, tried alternative by
 * alternative as a backtracking engine would. @return 1 with *end, or 0 when
 * PCRE2 must decide.
 */
static int fast_match(const struct fast_split *f, const unsigned char *s, size_t len, size_t i, size_t *end)
{
	unsigned c0 = s[i];
	int k0, k1 = -1, n;
	size_t j, last_nl;

	if (NOT_ASCII(c0))
		return 0;
	k0 = CLASS(c0);
	if (i + 1 < len) {
		if (NOT_ASCII(s[i + 1]))
			return 0;
		k1 = CLASS(s[i + 1]);
	}
	/* 's|'t|'re|'ve|'m|'ll|'d */
	if (c0 == '\'' && (n = contraction(f, s, len, i)) != 0) {
		if (n < 0)
			return 0;
		*end = i + (size_t)n;
		return 1;
	}
	/* [^\r\n\p{L}\p{N}]?\p{L}+ or " ?\p{L}+" */
	if (k1 == C_LETTER && (f->wide_prefix ? k0 != C_LETTER && k0 != C_DIGIT && c0 != '\r' && c0 != '\n' : c0 == ' '))
		return (*end = run_of(s, len, i + 1, C_LETTER)) != 0;
	if (k0 == C_LETTER)
		return (*end = run_of(s, len, i, C_LETTER)) != 0;
	/* \p{N}{1,max} or " ?\p{N}+" */
	if (!f->max_digits && c0 == ' ' && k1 == C_DIGIT)
		return (*end = run_of(s, len, i + 1, C_DIGIT)) != 0;
	if (k0 == C_DIGIT) {
		if (!f->max_digits)
			return (*end = run_of(s, len, i, C_DIGIT)) != 0;
		for (j = i; j < len && j - i < (size_t)f->max_digits && !NOT_ASCII(s[j]) && CLASS(s[j]) == C_DIGIT; j++)
			;
		if (j - i < (size_t)f->max_digits && j < len && NOT_ASCII(s[j]))
			return 0;
		*end = j;
		return 1;
	}
	/* " ?[^\s\p{L}\p{N}]+[\r\n]*" */
	if (k0 == C_OTHER || (c0 == ' ' && k1 == C_OTHER)) {
		j = run_of(s, len, k0 == C_OTHER ? i : i + 1, C_OTHER);
		if (!j)
			return 0;
		while (f->punct_crlf && j < len && (s[j] == '\r' || s[j] == '\n'))
			j++;
		*end = j;
		return 1;
	}
	/* Only white space is left: \s*[\r\n]+ (up to the last newline of the run), \s+(?!\S), \s+. */
	j = run_of(s, len, i, C_SPACE);
	if (!j)
		return 0;
	if (f->newline_alt) {
		for (last_nl = j; last_nl > i && s[last_nl - 1] != '\r' && s[last_nl - 1] != '\n'; last_nl--)
			;
		if (last_nl > i) {
			*end = last_nl;
			return 1;
		}
	}
	*end = j == len || j - i < 2 ? j : j - 1;
	return 1;
}

int tok_regex_new(struct tok_regex **out, const char *pattern, size_t len, int literal, struct ling_err *err)
{
	struct tok_regex *re;
	PCRE2_SIZE off;
	int ec;
	uint32_t opts = PCRE2_UTF | PCRE2_UCP;
	size_t i;

	*out = NULL;
	if (literal)
		opts = PCRE2_UTF | PCRE2_LITERAL;
	re = xcalloc(1, sizeof(*re));
	re->code = pcre2_compile((PCRE2_SPTR)pattern, len, opts, &ec, &off, NULL);
	if (!re->code) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(ec, msg, sizeof(msg));
		free(re);
		return ling_err_set(err, LING_EDATA, "bad regex at offset %zu: %s", (size_t)off, (const char *)msg);
	}
	if (pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE) == 0) {
		re->mctx = pcre2_match_context_create(NULL);
		re->stack = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, NULL);
		if (re->mctx && re->stack) {
			pcre2_jit_stack_assign(re->mctx, NULL, re->stack);
			re->jit = 1;
		}
	}
	re->md = pcre2_match_data_create_from_pattern(re->code, NULL);
	if (!re->md)
		abort(); /* out of memory, as xmalloc */
	if (literal && len) {
		re->literal = xstrndup(pattern, len);
		re->literal_len = len;
	}
	if (!literal) {
		for (i = 0; i < sizeof(fast_splits) / sizeof(fast_splits[0]); i++)
			if (strlen(fast_splits[i].pattern) == len && !memcmp(fast_splits[i].pattern, pattern, len))
				re->fast = &fast_splits[i];
	}
	*out = re;
	return 0;
}

int tok_regex_find(struct tok_regex *re, const char *s, size_t len, size_t from, size_t *ms, size_t *me,
		   struct ling_err *err)
{
	PCRE2_SIZE *ov;
	int rc;

	if (re->fast && from < len && fast_match(re->fast, (const unsigned char *)s, len, from, me)) {
		*ms = from;
		return 1;
	}
	if (re->literal) {
		const char *hit = from < len ? memmem(s + from, len - from, re->literal, re->literal_len) : NULL;

		if (!hit)
			return 0;
		*ms = (size_t)(hit - s);
		*me = *ms + re->literal_len;
		return 1;
	}
	if (re->jit)
		rc = pcre2_jit_match(re->code, (PCRE2_SPTR)s, len, from, PCRE2_NO_UTF_CHECK, re->md, re->mctx);
	else
		rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, from, PCRE2_NO_UTF_CHECK, re->md, re->mctx);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc < 0) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(rc, msg, sizeof(msg));
		return ling_err_set(err, LING_ELIMIT, "regex match failed: %s", (const char *)msg);
	}
	ov = pcre2_get_ovector_pointer(re->md);
	*ms = ov[0];
	*me = ov[1];
	return 1;
}

void tok_regex_free(struct tok_regex *re)
{
	if (!re)
		return;
	pcre2_match_data_free(re->md);
	pcre2_match_context_free(re->mctx);
	pcre2_jit_stack_free(re->stack);
	pcre2_code_free(re->code);
	free(re->literal);
	free(re);
}
