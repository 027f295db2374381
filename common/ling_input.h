/*
 * ling_input: a byte stream from a file or stdin, gzip and zstd decompressed
 * transparently (chosen by magic bytes, not by the name).
 *
 * A truncated or corrupt compressed stream is an error (LING_EDATA) at the
 * point where it is found, never a silent early end. Reads are buffered; the
 * line reader returns views into the internal buffer.
 */
#ifndef LING_INPUT_H
#define LING_INPUT_H

#include "ling_err.h"

#include <stddef.h>
#include <sys/types.h>

struct ling_input;

enum ling_compression { LING_COMPRESSION_NONE, LING_COMPRESSION_GZIP, LING_COMPRESSION_ZSTD };

/*
 * Opens path ("-" = stdin) and sniffs its compression.
 * @return 0, or LING_EIO with err set (the name in err->file).
 */
int ling_input_open(struct ling_input **out, const char *path, struct ling_err *err);

/*
 * Reads from memory (data must outlive the input); compression is sniffed as
 * for files. For tests, fuzz targets and small strings.
 */
int ling_input_open_mem(struct ling_input **out, const char *name, const void *data, size_t len,
			struct ling_err *err);

/*
 * Reads up to cap decompressed bytes into buf.
 * @return the number of bytes read, 0 at the end of the stream, or a negative
 * ling_errc with err set (LING_EIO for a read error, LING_EDATA for a corrupt or
 * truncated compressed stream).
 */
ssize_t ling_input_read(struct ling_input *in, void *buf, size_t cap, struct ling_err *err);

/*
 * Reads the next line, without its "\n" (a "\r\n" keeps its "\r"). *line stays
 * valid until the next call. The last line may lack a newline.
 * @return 1 for a line, 0 at the end, or a negative ling_errc with err set.
 */
int ling_input_getline(struct ling_input *in, const char **line, size_t *len, struct ling_err *err);

/* The name errors use: the path, or "<stdin>". */
const char *ling_input_name(const struct ling_input *in);
enum ling_compression ling_input_compression(const struct ling_input *in);
/* Compressed bytes consumed so far (for progress). */
unsigned long long ling_input_raw_offset(const struct ling_input *in);
/* Total compressed size when known (a regular file), else 0. */
unsigned long long ling_input_raw_size(const struct ling_input *in);

void ling_input_close(struct ling_input *in);

#endif
