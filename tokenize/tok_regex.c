/*
 * tok_regex: the one module that owns PCRE2. Patterns are compiled in UTF
 * mode with Unicode properties (PCRE2_UCP), so \p{L}, \p{N}, (?i:...) and \s
 * follow the Unicode tables: \s is White_Space, which excludes U+FEFF, as
 * in HF (Oniguruma) and tiktoken (fancy-regex); FORMATS.md golden case 72.
 * Patterns are JIT-compiled when the platform allows.
 */
#include "tok_internal.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>

#include "../common/banned.h"

struct tok_regex {
	pcre2_code *code;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *stack;
};

int tok_regex_new(struct tok_regex **out, const char *pattern, size_t len, int literal, struct ling_err *err)
{
	struct tok_regex *re;
	PCRE2_SIZE off;
	int ec;
	uint32_t opts = PCRE2_UTF | PCRE2_UCP;

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
		if (re->mctx && re->stack)
			pcre2_jit_stack_assign(re->mctx, NULL, re->stack);
	}
	re->md = pcre2_match_data_create_from_pattern(re->code, NULL);
	if (!re->md)
		abort(); /* out of memory, as xmalloc */
	*out = re;
	return 0;
}

int tok_regex_find(struct tok_regex *re, const char *s, size_t len, size_t from, size_t *ms, size_t *me,
		   struct ling_err *err)
{
	PCRE2_SIZE *ov;
	int rc;

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
	free(re);
}
