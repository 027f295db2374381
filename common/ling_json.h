/*
 * ling_json: writing JSON text into a struct ling_buf, without building
 * values first (jansson's json_dumps needs a json_t tree; the hot paths of
 * kg2samples, dedup and tokenize write millions of small objects).
 *
 * Two layers:
 *  - ling_json_add_str(), ling_json_add_real() and friends append one
 *    encoded scalar to a buffer. ling_json_add_str() is the one string
 *    escaping routine of the suite; its flags select the dialect a caller's
 *    output must keep (see "Dialects").
 *  - struct ling_json, a writer on a buffer that keeps the separator state
 *    of open objects and arrays (git json-writer.h): begin/end, key, value.
 *    It writes what jansson's json_dumps writes for the same values in
 *    the same key order (JSON_COMPACT, spaced, or JSON_INDENT(n)).
 *
 * Dialects (flags of ling_json_add_str and of the writer). Every dialect
 * escapes '"' and '\\' as \" and \\, and the bytes 0x00..0x1F; a NUL byte
 * inside the string (s is (pointer, length), not C string) becomes \u0000.
 * They differ in how a control byte is spelled:
 *   0 (LING_JSON_JANSSON)  \b \f \n \r \t, others \u00XX with capital hex:
 *                          json_dumps, and synth_json_str ("escaped as
 *                          jansson escapes it");
 *   LING_JSON_PYTHON       \b \f \n \r \t, others \u00xx lowercase: Python
 *                          json.dumps(ensure_ascii=False), the chat
 *                          template's `tojson` (tokenize/tok_chat.c);
 *   LING_JSON_MINIMAL      only \" and \\ short, every control \u00xx
 *                          lowercase (\n is \u000a): dedup's records
 *                          (dedup/dedup.c add_json_string) and tokenize's
 *                          tokenizer.json writer (tok_train.c json_string).
 * No dialect escapes DEL (0x7F), '/' (unless LING_JSON_ESCAPE_SLASH) or
 * U+2028/U+2029, as neither jansson nor Python does; JSON allows them raw.
 *
 * Bytes >= 0x80 are copied unchanged, valid UTF-8 or not: the output is
 * valid UTF-8 exactly when the input is. Validation is the caller's (with
 * ling_utf8_valid_prefix); jansson would refuse such a string instead
 * (json_string returns NULL). With LING_JSON_ENSURE_ASCII every code point
 * above 0x7F is written as \uXXXX (UTF-16 surrogate pairs above U+FFFF, as
 * jansson JSON_ENSURE_ASCII and Python ensure_ascii=True), and each byte
 * that does not start a valid UTF-8 sequence becomes \uFFFD.
 *
 * Replaces (the call that keeps each output byte for byte):
 *   synth/synth_json.c synth_json_str/strz  ling_json_add_str(b, s, n, 0)
 *   dedup/dedup.c add_json_string           ling_json_add_str(.., LING_JSON_MINIMAL);
 *                 "%.4g" similarity         ling_json_add_real_g(b, v, 4)
 *   tokenize/tok_train.c json_string        ling_json_add_str(.., LING_JSON_MINIMAL)
 *   tokenize/tok_chat.c tojson_string/real, tok_chat_tojson's separators
 *                                           a writer with LING_JSON_PYTHON,
 *                                           ling_json_real(.., LING_JSON_REAL_PYTHON)
 *   json_dumps(JSON_COMPACT[|PRESERVE_ORDER]) of values built only to be
 *   written (kg/kg_query.c rows, kg/kg_tool_call.c results, synth_text_file's
 *   find_json_string, tokenize_main's {"text":..}): a writer with flags 0;
 *   JSON_INDENT(1) (tok_dataset's manifest): LING_JSON_INDENT(1).
 *   These callers relied on jansson refusing invalid UTF-8 (json_string
 *   returns NULL); they must check with ling_utf8_valid_prefix first where
 *   the text is not already known valid (kg_tool_call's "a name is not
 *   valid UTF-8"). Values parsed with jansson stay json_t (ling_jsonl_dump).
 *
 * Ownership: nothing here allocates but the buffer's own growth and the
 * writer's stack of open containers (ling_json_release frees it). The
 * writer borrows its buffer; the caller owns and releases it.
 */
#ifndef LING_JSON_H
#define LING_JSON_H

#include "ling_mem.h"

#include <stddef.h>
#include <stdint.h>

enum ling_json_flags {
	LING_JSON_LOWER_HEX = 1 << 0,     /* \u001f, not \u001F */
	LING_JSON_CONTROLS_AS_U = 1 << 1, /* \u000a for \n: no short escapes but \" and \\ */
	LING_JSON_ENSURE_ASCII = 1 << 2,  /* code points above 0x7F as \uXXXX */
	LING_JSON_ESCAPE_SLASH = 1 << 3,  /* '/' as \/ (jansson JSON_ESCAPE_SLASH) */
	/* Writer only: ", " between items and ": " after keys (json_dumps without JSON_COMPACT, Python's default). */
	LING_JSON_SPACED = 1 << 4,
};

#define LING_JSON_JANSSON 0
#define LING_JSON_PYTHON (LING_JSON_LOWER_HEX | LING_JSON_SPACED)
#define LING_JSON_MINIMAL (LING_JSON_LOWER_HEX | LING_JSON_CONTROLS_AS_U)

/*
 * Writer only: pretty-print as json_dumps with JSON_INDENT(n) (0 < n < 32):
 * a newline and n spaces per depth before each item and before the closing
 * bracket of a non-empty container, "," after items, ": " after keys; empty
 * containers stay {} and [].
 */
#define LING_JSON_INDENT(n) (((unsigned)(n) & 0x1F) << 8)

/* How a double is spelled. */
enum ling_json_real {
	/*
	 * What json_dumps writes for a json_real: "%.17g", then ".0" when that
	 * has neither '.' nor 'e', and the exponent without '+' or leading
	 * zeros (1e+20 -> 1e20, 1e-05 -> 1e-5). Round-trips but is not the
	 * shortest (0.1 -> 0.10000000000000001). jansson cannot hold NaN or
	 * infinities; this writes null for them.
	 */
	LING_JSON_REAL_JANSSON,
	/*
	 * Python's repr(float), which json.dumps uses: the shortest digits that
	 * read back to the same double, fixed notation for decimal exponents in
	 * [-4, 16) with at least one digit after the point (1.0, 0.0001,
	 * 1e-05, 1e+16), NaN, Infinity and -Infinity (tok_chat.c tojson_real).
	 */
	LING_JSON_REAL_PYTHON,
};

/* ---- scalars onto a buffer ---- */

/* Appends s[0..n) as a quoted JSON string in the dialect of flags (the escaping routine; see above). */
void ling_json_add_str(struct ling_buf *b, const char *s, size_t n, unsigned flags);

/* As ling_json_add_str() on a C string; NULL writes null. */
void ling_json_add_strz(struct ling_buf *b, const char *s, unsigned flags);

/* Appends a signed or unsigned 64-bit integer in decimal (what "%" PRId64 / PRIu64 and jansson write). */
void ling_json_add_int(struct ling_buf *b, int64_t v);
void ling_json_add_uint(struct ling_buf *b, uint64_t v);

/* Appends v spelled as style says. */
void ling_json_add_real(struct ling_buf *b, double v, enum ling_json_real style);

/*
 * Appends v as printf "%.*g" with precision digits (dedup's similarity,
 * "%.4g"): 1 stays "1", which reads back as an integer. Non-finite writes null.
 */
void ling_json_add_real_g(struct ling_buf *b, double v, int precision);

/* ---- the writer ---- */

struct ling_json {
	struct ling_buf *out;  /* borrowed */
	unsigned flags;        /* enum ling_json_flags | LING_JSON_INDENT(n) */
	size_t depth;          /* open containers */
	unsigned char *open;   /* '{' or '[' per open container, [0, depth) */
	size_t open_cap;
	int has_items;         /* the innermost open container has an item */
	int after_key;         /* a key was written; its value comes next */
};

/* Starts a writer appending to out in the dialect of flags. Nothing is written yet. */
void ling_json_init(struct ling_json *w, struct ling_buf *out, unsigned flags);

/* Frees the writer's stack (not the buffer). The writer may be initialised again. */
void ling_json_release(struct ling_json *w);

/*
 * Containers. Each begin must be matched by the end of the same kind
 * (checked by assert). A value at depth 0 needs no separator: a caller
 * writing JSON Lines ends each top-level value with ling_buf_addc('\n').
 */
void ling_json_object_begin(struct ling_json *w);
void ling_json_object_end(struct ling_json *w);
void ling_json_array_begin(struct ling_json *w);
void ling_json_array_end(struct ling_json *w);

/* The key of the next member, inside an object (asserted); a value call must follow. */
void ling_json_key(struct ling_json *w, const char *key, size_t n);
void ling_json_keyz(struct ling_json *w, const char *key);

/* Values: as an array item, after a key, or at depth 0. */
void ling_json_str(struct ling_json *w, const char *s, size_t n);
void ling_json_strz(struct ling_json *w, const char *s); /* NULL writes null */
void ling_json_int(struct ling_json *w, int64_t v);
void ling_json_uint(struct ling_json *w, uint64_t v);
void ling_json_real(struct ling_json *w, double v, enum ling_json_real style);
void ling_json_bool(struct ling_json *w, int v);
void ling_json_null(struct ling_json *w);
/* A value already encoded as JSON text (copied as is; the caller vouches for it). */
void ling_json_raw(struct ling_json *w, const char *json, size_t n);

#endif
