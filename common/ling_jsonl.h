/*
 * ling_jsonl: JSON Lines, one JSON value per line, read from a ling_input and
 * parsed with jansson; values written back compactly, one per line.
 *
 * Reading is split in two steps so that a caller may parse on other threads:
 * ling_jsonl_next() hands out the raw text of the next record line (blank
 * lines, and white space only lines, are skipped but counted, so line numbers
 * stay those of the file), ling_jsonl_parse() turns a line into a json_t.
 * ling_jsonl_read() does both. A bad line is LING_EDATA with err at
 * `name:line:col`; reading may go on with the next line after it.
 *
 * For the common case of taking a few fields out of many records,
 * ling_jsonl_scan() validates a line and hands out the strings under given
 * paths without building values (several times faster than jansson), and
 * leaves anything unusual to jansson, so that both accept the same lines and
 * give the same strings.
 *
 * jansson's json_t appears in this header on purpose: every caller of a JSON
 * reader needs the values, and wrapping jansson's whole value API would only
 * rename it. The parse keeps the key order of objects, and rejects invalid
 * UTF-8, NUL characters (\u0000) in strings and integers beyond 64 bits.
 *
 * Ownership: the reader borrows the input (the caller closes it); a line
 * from ling_jsonl_next() is valid until the next call; a json_t from parse
 * or read belongs to the caller (json_decref).
 */
#ifndef LING_JSONL_H
#define LING_JSONL_H

#include "ling_err.h"
#include "ling_input.h"
#include "ling_mem.h"

#include <jansson.h>
#include <stddef.h>

struct ling_jsonl {
	struct ling_input *in; /* borrowed */
	long line;             /* the number of the line last handed out, 1-based */
};

void ling_jsonl_init(struct ling_jsonl *r, struct ling_input *in);

/*
 * The next line that is not blank, without its "\n" or "\r\n", and its number
 * in r->line. @return 1, 0 at the end of the input, or a negative ling_errc
 * from the input (LING_EIO, LING_EDATA for a corrupt compressed stream).
 */
int ling_jsonl_next(struct ling_jsonl *r, const char **line, size_t *len, struct ling_err *err);

enum ling_jsonl_flags {
	LING_JSONL_OBJECT = 1 << 0,      /* the value must be a JSON object */
	LING_JSONL_UNIQUE_KEYS = 1 << 1, /* a key repeated in an object is an error (jansson keeps the last) */
};

/*
 * Parses one line. name and lineno are for the error position only.
 * @return 0 with *out set, or LING_EDATA with err at name:lineno:col (the
 * column in bytes, 1-based) and *out NULL.
 */
int ling_jsonl_parse(const char *line, size_t len, const char *name, long lineno, unsigned flags, json_t **out,
		     struct ling_err *err);

/* ling_jsonl_next and ling_jsonl_parse. @return 1 with *out set, 0 at the end, or a negative ling_errc. */
int ling_jsonl_read(struct ling_jsonl *r, unsigned flags, json_t **out, struct ling_err *err);

/* ---- paths, and a scanner for the common case ---- */

/*
 * A path names values in a record: keys separated by ".", a key followed by
 * "[]" walks every element of an array ("messages[].tool_calls[].function.name";
 * when the value there is not an array it is taken as it is). Where a path
 * ends, strings are taken, and arrays and objects are walked for their
 * strings, in order. A key cannot contain '.', '[' or ']'.
 */
#define LING_JSONL_MAX_PATHS 32

struct ling_jsonl_paths;

/* @return 0, or LING_EUSAGE for a malformed path or more than LING_JSONL_MAX_PATHS. */
int ling_jsonl_paths_new(struct ling_jsonl_paths **out, const char *const *paths, size_t n, struct ling_err *err);
void ling_jsonl_paths_free(struct ling_jsonl_paths *p);

enum ling_jsonl_piece_type { LING_JSONL_STRING, LING_JSONL_NUMBER };

/*
 * One value under path number `path`: a string (decoded UTF-8, not
 * NUL-terminated, valid during the call) or an integer (in decimal, as
 * jansson prints it; other numbers are not handed out). at_end
 * is 1 for the value the path names itself, 0 for one inside it.
 */
typedef void (*ling_jsonl_piece_fn)(void *ctx, size_t path, enum ling_jsonl_piece_type type, int at_end,
				    const char *s, size_t n);

/*
 * Calls fn for the strings and numbers under each path of a parsed record,
 * path after path, each in document order.
 */
void ling_jsonl_walk(const json_t *root, const struct ling_jsonl_paths *paths, ling_jsonl_piece_fn fn, void *ctx);

/*
 * The same without building values: scans a line that holds a JSON object
 * and calls fn as ling_jsonl_walk would, except that the pieces of different
 * paths come interleaved in document order (each path's own pieces in the
 * same order). Sets bit p of *present when the root object has the first key
 * of path p, and *root_keys to its number of members.
 *
 * @return 1, or 0 when the scanner cannot tell: the line may be bad JSON or
 * use what the scanner leaves to jansson (an exponent, an integer of more
 * than 18 digits, "\u0000", a lone surrogate, a key with an escape, a
 * repeated key, nesting deeper than 64, an object of more than 64 keys).
 * Then call ling_jsonl_parse and ling_jsonl_walk: a line the scanner takes
 * is one ling_jsonl_parse(LING_JSONL_OBJECT) accepts, with the same pieces.
 * scratch holds decoded strings.
 */
int ling_jsonl_scan(const struct ling_jsonl_paths *paths, const char *line, size_t len, struct ling_buf *scratch,
		    ling_jsonl_piece_fn fn, void *ctx, unsigned long *present, size_t *root_keys);

/*
 * Appends v compactly (no spaces, keys in their order, UTF-8 as is) and "\n"
 * to out. @return 0, or LING_EDATA when jansson cannot encode v.
 */
int ling_jsonl_dump(const json_t *v, struct ling_buf *out, struct ling_err *err);

#endif
