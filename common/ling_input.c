#include "ling_input.h"

#include "ling_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define RAW_CHUNK (1 << 17)
#define LINE_CHUNK (1 << 18)

struct ling_input {
	int fd;            /* -1 for memory input */
	const unsigned char *mem; /* memory input not yet handed to raw */
	size_t mem_len;
	char *name;
	enum ling_compression compression;
	unsigned long long raw_offset, raw_size;

	/* Compressed bytes not yet decompressed. */
	unsigned char *raw;
	size_t raw_len, raw_pos;
	int raw_eof;

	z_stream zs;
	int zs_ready;   /* inflateInit2 was called */
	int z_member_done; /* the last gzip member ended; a next one may follow */
	ZSTD_DCtx *zd;
	int zstd_frame_open; /* a zstd frame started and has not ended */
	size_t decoded;      /* decompressed bytes produced so far */

	/* The line reader's buffer: [line_pos, line_len) is unread. */
	char *line_buf;
	size_t line_cap, line_len, line_pos;
	int line_eof;
};

static ssize_t fill_raw(struct ling_input *in, struct ling_err *err)
{
	ssize_t n;

	if (in->raw_pos < in->raw_len || in->raw_eof)
		return (ssize_t)(in->raw_len - in->raw_pos);
	if (in->fd < 0) {
		n = (ssize_t)(in->mem_len < RAW_CHUNK ? in->mem_len : RAW_CHUNK);
		memcpy(in->raw, in->mem, (size_t)n);
		in->mem += n;
		in->mem_len -= (size_t)n;
		in->raw_pos = 0;
		in->raw_len = (size_t)n;
		in->raw_offset += (unsigned long long)n;
		in->raw_eof = n == 0;
		return n;
	}
	do
		n = read(in->fd, in->raw, RAW_CHUNK);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return ling_err_at(err, LING_EIO, in->name, 0, 0, "read error: %s", strerror(errno));
	in->raw_pos = 0;
	in->raw_len = (size_t)n;
	in->raw_offset += (unsigned long long)n;
	if (n == 0)
		in->raw_eof = 1;
	return n;
}

static int start_decoder(struct ling_input *in, struct ling_err *err);

int ling_input_open_mem(struct ling_input **out, const char *name, const void *data, size_t len,
			struct ling_err *err)
{
	struct ling_input *in = xcalloc(1, sizeof(*in));

	in->fd = -1;
	in->raw = xmalloc(RAW_CHUNK);
	in->name = xstrdup(name);
	in->mem = data;
	in->mem_len = len;
	in->raw_size = len;
	if (fill_raw(in, err) < 0 || start_decoder(in, err)) {
		ling_input_close(in);
		*out = NULL;
		return err->code;
	}
	*out = in;
	return 0;
}

int ling_input_open(struct ling_input **out, const char *path, struct ling_err *err)
{
	struct ling_input *in = xcalloc(1, sizeof(*in));
	struct stat st;

	in->raw = xmalloc(RAW_CHUNK);
	if (!strcmp(path, "-")) {
		in->fd = 0;
		in->name = xstrdup("<stdin>");
	} else {
		in->name = xstrdup(path);
		in->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (in->fd < 0) {
			ling_err_at(err, LING_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
			goto fail;
		}
		if (fstat(in->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			ling_err_at(err, LING_EIO, path, 0, 0, "is a directory");
			goto fail;
		}
		if (fstat(in->fd, &st) == 0 && S_ISREG(st.st_mode))
			in->raw_size = (unsigned long long)st.st_size;
	}
	if (fill_raw(in, err) < 0 || start_decoder(in, err))
		goto fail;
	*out = in;
	return 0;
fail:
	ling_input_close(in);
	*out = NULL;
	return err->code;
}

/* Sniffs the first bytes in raw and starts a decompressor when they are a gzip or zstd magic. */
static int start_decoder(struct ling_input *in, struct ling_err *err)
{
	size_t n = in->raw_len;

	if (n >= 2 && in->raw[0] == 0x1f && in->raw[1] == 0x8b)
		in->compression = LING_COMPRESSION_GZIP;
	else if (n >= 4 && in->raw[0] == 0x28 && in->raw[1] == 0xb5 && in->raw[2] == 0x2f && in->raw[3] == 0xfd)
		in->compression = LING_COMPRESSION_ZSTD;
	if (in->compression == LING_COMPRESSION_GZIP) {
		/* 16 + MAX_WBITS: gzip wrapper only. */
		if (inflateInit2(&in->zs, 16 + MAX_WBITS) != Z_OK)
			return ling_err_at(err, LING_EIO, in->name, 0, 0, "cannot start gzip decoder");
		in->zs_ready = 1;
	} else if (in->compression == LING_COMPRESSION_ZSTD) {
		in->zd = ZSTD_createDCtx();
		if (!in->zd)
			return ling_err_at(err, LING_EIO, in->name, 0, 0, "cannot start zstd decoder");
	}
	return 0;
}

static ssize_t read_plain(struct ling_input *in, void *buf, size_t cap, struct ling_err *err)
{
	ssize_t n = fill_raw(in, err);
	size_t take;

	if (n <= 0)
		return n;
	take = in->raw_len - in->raw_pos < cap ? in->raw_len - in->raw_pos : cap;
	memcpy(buf, in->raw + in->raw_pos, take);
	in->raw_pos += take;
	return (ssize_t)take;
}

static ssize_t read_gzip(struct ling_input *in, void *buf, size_t cap, struct ling_err *err)
{
	for (;;) {
		ssize_t n = fill_raw(in, err);
		int rc;

		if (n < 0)
			return n;
		if (n == 0 && in->z_member_done)
			return 0;
		if (in->z_member_done) {
			/* Concatenated gzip members (as pigz and cat a.gz b.gz write) continue the stream. */
			inflateReset(&in->zs);
			in->z_member_done = 0;
		}
		in->zs.next_in = in->raw + in->raw_pos;
		in->zs.avail_in = (uInt)(in->raw_len - in->raw_pos);
		in->zs.next_out = buf;
		in->zs.avail_out = (uInt)cap;
		rc = inflate(&in->zs, Z_NO_FLUSH);
		in->raw_pos = in->raw_len - in->zs.avail_in;
		if (rc == Z_STREAM_END)
			in->z_member_done = 1;
		else if (rc != Z_OK && rc != Z_BUF_ERROR)
			return ling_err_at(err, LING_EDATA, in->name, 0, 0, "corrupt gzip stream: %s",
					   in->zs.msg ? in->zs.msg : "inflate failed");
		if (cap - in->zs.avail_out > 0)
			return (ssize_t)(cap - in->zs.avail_out);
		/* At the end of the file, an inflate that gave nothing means the member is cut short. */
		if (n == 0 && !in->z_member_done)
			return ling_err_at(err, LING_EDATA, in->name, 0, 0,
					   "truncated gzip stream (unexpected end of file)");
	}
}

static ssize_t read_zstd(struct ling_input *in, void *buf, size_t cap, struct ling_err *err)
{
	for (;;) {
		ssize_t n = fill_raw(in, err);
		ZSTD_inBuffer zin;
		ZSTD_outBuffer zout = { buf, cap, 0 };
		size_t rc;

		if (n < 0)
			return n;
		if (n == 0 && !in->zstd_frame_open)
			return 0;
		zin.src = in->raw + in->raw_pos;
		zin.size = in->raw_len - in->raw_pos;
		zin.pos = 0;
		rc = ZSTD_decompressStream(in->zd, &zout, &zin);
		in->raw_pos += zin.pos;
		if (ZSTD_isError(rc))
			return ling_err_at(err, LING_EDATA, in->name, 0, 0, "corrupt zstd stream: %s",
					   ZSTD_getErrorName(rc));
		in->zstd_frame_open = rc != 0;
		if (zout.pos > 0)
			return (ssize_t)zout.pos;
		if (n == 0)
			return ling_err_at(err, LING_EDATA, in->name, 0, 0,
					   "truncated zstd stream (unexpected end of file)");
	}
}

/*
 * The decompressed stream, less a UTF-8 byte order mark at its very start:
 * editors on Windows write one, and no text format we read allows it.
 */
static ssize_t read_decoded(struct ling_input *in, void *buf, size_t cap, struct ling_err *err)
{
	ssize_t n;

	do {
		switch (in->compression) {
		case LING_COMPRESSION_GZIP:
			n = read_gzip(in, buf, cap, err);
			break;
		case LING_COMPRESSION_ZSTD:
			n = read_zstd(in, buf, cap, err);
			break;
		default:
			n = read_plain(in, buf, cap, err);
			break;
		}
		if (n <= 0 || in->decoded > 0) {
			in->decoded += n > 0 ? (size_t)n : 0;
			return n;
		}
		in->decoded = (size_t)n;
		if (n >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) {
			memmove(buf, (char *)buf + 3, (size_t)n - 3);
			n -= 3;
		}
	} while (n == 0);
	return n;
}

ssize_t ling_input_read(struct ling_input *in, void *buf, size_t cap, struct ling_err *err)
{
	/* Bytes the line reader buffered come first. */
	if (in->line_pos < in->line_len) {
		size_t take = in->line_len - in->line_pos < cap ? in->line_len - in->line_pos : cap;

		memcpy(buf, in->line_buf + in->line_pos, take);
		in->line_pos += take;
		return (ssize_t)take;
	}
	return read_decoded(in, buf, cap, err);
}

int ling_input_getline(struct ling_input *in, const char **line, size_t *len, struct ling_err *err)
{
	size_t scan_from = in->line_pos;

	for (;;) {
		/* line_buf is NULL before the first read: memchr(NULL, c, 0) is undefined. */
		char *nl = in->line_len > scan_from ? memchr(in->line_buf + scan_from, '\n', in->line_len - scan_from)
						    : NULL;
		ssize_t n;

		if (nl || (in->line_eof && in->line_pos < in->line_len)) {
			size_t end = nl ? (size_t)(nl - in->line_buf) : in->line_len;

			*line = in->line_buf + in->line_pos;
			*len = end - in->line_pos;
			in->line_pos = nl ? end + 1 : end;
			return 1;
		}
		if (in->line_eof)
			return 0;
		/* Keep the partial line, move it to the front, and read more after it. */
		if (in->line_pos > 0) {
			memmove(in->line_buf, in->line_buf + in->line_pos, in->line_len - in->line_pos);
			in->line_len -= in->line_pos;
			in->line_pos = 0;
		}
		scan_from = in->line_len;
		if (in->line_cap - in->line_len < LINE_CHUNK)
			in->line_buf = xgrow(in->line_buf, &in->line_cap, in->line_len + LINE_CHUNK, 1);
		n = read_decoded(in, in->line_buf + in->line_len, in->line_cap - in->line_len, err);
		if (n < 0)
			return (int)n;
		if (n == 0)
			in->line_eof = 1;
		in->line_len += (size_t)n;
	}
}

const char *ling_input_name(const struct ling_input *in)
{
	return in->name;
}

enum ling_compression ling_input_compression(const struct ling_input *in)
{
	return in->compression;
}

unsigned long long ling_input_raw_offset(const struct ling_input *in)
{
	return in->raw_offset;
}

unsigned long long ling_input_raw_size(const struct ling_input *in)
{
	return in->raw_size;
}

void ling_input_close(struct ling_input *in)
{
	if (!in)
		return;
	if (in->fd > 0)
		close(in->fd);
	if (in->zs_ready)
		inflateEnd(&in->zs);
	ZSTD_freeDCtx(in->zd);
	free(in->raw);
	free(in->line_buf);
	free(in->name);
	free(in);
}
