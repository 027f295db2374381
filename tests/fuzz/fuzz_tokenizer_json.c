/*
 * libFuzzer target: tok_load_hf_mem on the input as a tokenizer.json; when it
 * loads, the input itself and a fixed text are encoded (with and without
 * special tokens) and the ids decoded again. Checks: a failed load sets err
 * to its code with a message; encoding valid UTF-8 never fails except by a
 * limit; every id decodes. Run by tests/t1900-fuzz.sh.
 */
#include "common/ling_err.h"
#include "common/ling_mem.h"
#include "common/ling_utf8.h"
#include "tokenize/tokenize.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_encode(struct tok *t, const char *s, size_t n, unsigned flags)
{
	struct ling_u32s ids = LING_U32S_INIT;
	struct ling_buf out = LING_BUF_INIT;
	struct ling_err err;
	int rc;

	ling_err_clear(&err);
	rc = tok_encode(t, s, n, flags, &ids, &err);
	if (rc && (rc != err.code || (rc != LING_ELIMIT && ling_utf8_valid_prefix(s, n) == n))) {
		fprintf(stderr, "fuzz: tok_encode failed on valid UTF-8: %d %s\n", rc, err.msg);
		abort();
	}
	if (!rc && tok_decode(t, ids.v, ids.n, &out, &err)) {
		fprintf(stderr, "fuzz: an encoded id does not decode: %s\n", err.msg);
		abort();
	}
	if (out.len && ling_utf8_valid_prefix(out.data, out.len) != out.len) {
		fprintf(stderr, "fuzz: decode wrote invalid UTF-8\n");
		abort();
	}
	ling_u32s_release(&ids);
	ling_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char text[] = "Hello  world's 123 \xC3\xA9\xE2\x96\x81 <|endoftext|>\n\t\xEF\xBB\xBF end";
	struct ling_err err;
	struct tok *t = NULL;
	int rc;

	ling_err_clear(&err);
	rc = tok_load_hf_mem(&t, "fuzz", (const char *)data, size, &err);
	if (rc) {
		if (rc != err.code || !err.msg[0] || t) {
			fprintf(stderr, "fuzz: a failed load without err set\n");
			abort();
		}
		return 0;
	}
	check_encode(t, text, sizeof(text) - 1, 0);
	check_encode(t, text, sizeof(text) - 1, TOK_ENCODE_SPECIAL);
	if (size < 4096)
		check_encode(t, (const char *)data, size, TOK_ENCODE_SPECIAL);
	tok_free(t);
	return 0;
}
