/*
 * tok_shard: Megatron-LM MMIDIDX .bin/.idx writer and reader. The layout is
 * megatron/core/datasets/indexed_dataset.py (_IndexWriter, _IndexReader);
 * FORMATS.md §4.1 has it with a worked example. Every multi-byte field is
 * encoded and decoded byte by byte, so the files are little-endian whatever
 * the host is, and no read depends on alignment.
 */
#include "tokenize.h"

#include "../common/ling_file.h"
#include "../common/ling_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/banned.h"

static const unsigned char shard_magic[9] = { 'M', 'M', 'I', 'D', 'I', 'D', 'X', 0, 0 };

enum tok_shard_dtype tok_shard_dtype_for_vocab(size_t vocab_size)
{
	return vocab_size < 65500 ? TOK_SHARD_U16 : TOK_SHARD_I32;
}

size_t tok_shard_dtype_size(int dtype)
{
	switch (dtype) {
	case TOK_SHARD_U8:
	case TOK_SHARD_I8:
		return 1;
	case TOK_SHARD_I16:
	case TOK_SHARD_U16:
		return 2;
	case TOK_SHARD_I32:
	case TOK_SHARD_F32:
		return 4;
	case TOK_SHARD_I64:
	case TOK_SHARD_F64:
		return 8;
	default:
		return 0;
	}
}

const char *tok_shard_dtype_name(int dtype)
{
	static const char *const names[] = { NULL, "u8", "i8", "i16", "i32", "i64", "f64", "f32", "u16" };

	return dtype >= 1 && dtype <= 8 ? names[dtype] : NULL;
}

static void put_le(unsigned char *p, uint64_t v, size_t size)
{
	for (size_t i = 0; i < size; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, size_t size)
{
	uint64_t v = 0;

	for (size_t i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static char *concat(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = xmalloc(la + lb + 1);

	memcpy(s, a, la);
	memcpy(s + la, b, lb + 1);
	return s;
}

/* ---- writer ---- */

struct tok_shard_writer {
	char *bin_path, *idx_path, *bin_tmp, *idx_tmp;
	FILE *bin;
	enum tok_shard_dtype dtype;
	size_t item_size;
	uint32_t *lens; /* items per sequence */
	size_t count, cap;
	uint64_t items;
	int failed; /* a write error happened: only close (which fails) or abort */
};

int tok_shard_writer_open(struct tok_shard_writer **out, const char *prefix, enum tok_shard_dtype dtype,
			  struct ling_err *err)
{
	struct tok_shard_writer *w;
	int fd;

	*out = NULL;
	if (dtype != TOK_SHARD_U8 && dtype != TOK_SHARD_U16 && dtype != TOK_SHARD_I32 && dtype != TOK_SHARD_I64)
		return ling_err_set(err, LING_EUSAGE, "cannot write shards of dtype %d (%s): use u8, u16, i32 or i64",
				    (int)dtype, tok_shard_dtype_name(dtype) ? tok_shard_dtype_name(dtype) : "unknown");
	w = xcalloc(1, sizeof(*w));
	w->dtype = dtype;
	w->item_size = tok_shard_dtype_size(dtype);
	w->bin_path = concat(prefix, ".bin");
	w->idx_path = concat(prefix, ".idx");
	w->bin_tmp = concat(prefix, ".bin.tmp");
	w->idx_tmp = concat(prefix, ".idx.tmp");
	fd = open(w->bin_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !(w->bin = fdopen(fd, "wb"))) {
		ling_err_at(err, LING_EIO, w->bin_tmp, 0, 0, "cannot create: %s", strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(w->bin_tmp);
		}
		free(w->bin_path);
		free(w->idx_path);
		free(w->bin_tmp);
		free(w->idx_tmp);
		free(w);
		return LING_EIO;
	}
	*out = w;
	return 0;
}

int tok_shard_writer_add(struct tok_shard_writer *w, const uint32_t *tokens, size_t n, struct ling_err *err)
{
	uint64_t max = w->item_size >= 4 ? UINT32_MAX : (UINT64_C(1) << (8 * w->item_size)) - 1;
	unsigned char chunk[4096];
	size_t used = 0;

	if (w->dtype == TOK_SHARD_I32)
		max = INT32_MAX;
	if (w->failed)
		return ling_err_at(err, LING_EIO, w->bin_tmp, 0, 0, "an earlier write failed");
	if (n > INT32_MAX)
		return ling_err_set(err, LING_ELIMIT, "document %zu has %zu items; Megatron allows at most %d",
				    w->count, n, INT32_MAX);
	for (size_t i = 0; i < n; i++)
		if (tokens[i] > max)
			return ling_err_set(err, LING_ELIMIT, "document %zu: item %zu is %lu, which does not fit %s",
					    w->count, i, (unsigned long)tokens[i], tok_shard_dtype_name(w->dtype));
	for (size_t i = 0; i < n; i++) {
		if (used + w->item_size > sizeof(chunk)) {
			if (fwrite(chunk, 1, used, w->bin) != used)
				goto fail;
			used = 0;
		}
		put_le(chunk + used, tokens[i], w->item_size);
		used += w->item_size;
	}
	if (used && fwrite(chunk, 1, used, w->bin) != used)
		goto fail;
	w->lens = xgrow(w->lens, &w->cap, w->count + 1, sizeof(*w->lens));
	w->lens[w->count++] = (uint32_t)n;
	w->items += n;
	return 0;
fail:
	w->failed = 1;
	return ling_err_at(err, LING_EIO, w->bin_tmp, 0, 0, "write error: %s", strerror(errno));
}

uint64_t tok_shard_writer_count(const struct tok_shard_writer *w)
{
	return w->count;
}

uint64_t tok_shard_writer_items(const struct tok_shard_writer *w)
{
	return w->items;
}

static void writer_free(struct tok_shard_writer *w)
{
	free(w->bin_path);
	free(w->idx_path);
	free(w->bin_tmp);
	free(w->idx_tmp);
	free(w->lens);
	free(w);
}

void tok_shard_writer_abort(struct tok_shard_writer *w)
{
	if (!w)
		return;
	if (w->bin)
		fclose(w->bin);
	unlink(w->bin_tmp);
	unlink(w->idx_tmp);
	writer_free(w);
}

/* The whole .idx in memory: header, lengths, pointers, doc_idx = 0..S. */
static unsigned char *build_idx(const struct tok_shard_writer *w, size_t *len)
{
	size_t s = w->count, size = TOK_SHARD_HEADER_SIZE + s * 4 + s * 8 + (s + 1) * 8;
	unsigned char *idx = xmalloc(size), *p = idx;
	uint64_t ptr = 0;

	memcpy(p, shard_magic, sizeof(shard_magic));
	p += sizeof(shard_magic);
	put_le(p, 1, 8);
	p += 8;
	*p++ = (unsigned char)w->dtype;
	put_le(p, s, 8);
	p += 8;
	put_le(p, s + 1, 8);
	p += 8;
	for (size_t i = 0; i < s; i++, p += 4)
		put_le(p, w->lens[i], 4);
	for (size_t i = 0; i < s; i++, p += 8) {
		put_le(p, ptr, 8);
		ptr += (uint64_t)w->lens[i] * w->item_size;
	}
	for (size_t i = 0; i <= s; i++, p += 8)
		put_le(p, i, 8);
	*len = size;
	return idx;
}

static int write_file_synced(const char *path, const unsigned char *data, size_t len, struct ling_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return ling_err_at(err, LING_EIO, path, 0, 0, "cannot create: %s", strerror(errno));
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ling_err_at(err, LING_EIO, path, 0, 0, "write error: %s", strerror(errno));
			close(fd);
			return LING_EIO;
		}
		data += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0) {
		ling_err_at(err, LING_EIO, path, 0, 0, "cannot sync: %s", strerror(errno));
		close(fd);
		return LING_EIO;
	}
	if (close(fd) < 0)
		return ling_err_at(err, LING_EIO, path, 0, 0, "cannot close: %s", strerror(errno));
	return 0;
}

int tok_shard_writer_close(struct tok_shard_writer *w, struct ling_err *err)
{
	unsigned char *idx = NULL;
	size_t idx_len;
	FILE *bin = w->bin;
	int rc;

	w->bin = NULL;
	if (w->failed) {
		fclose(bin);
		rc = ling_err_at(err, LING_EIO, w->bin_tmp, 0, 0, "an earlier write failed");
		goto fail;
	}
	if (fflush(bin) != 0 || fsync(fileno(bin)) < 0) {
		rc = ling_err_at(err, LING_EIO, w->bin_tmp, 0, 0, "cannot write or sync: %s", strerror(errno));
		fclose(bin);
		goto fail;
	}
	if (fclose(bin) != 0) {
		rc = ling_err_at(err, LING_EIO, w->bin_tmp, 0, 0, "cannot close: %s", strerror(errno));
		goto fail;
	}
	idx = build_idx(w, &idx_len);
	rc = write_file_synced(w->idx_tmp, idx, idx_len, err);
	if (rc)
		goto fail;
	/*
	 * An old .idx goes first: until the new .idx is in place, the .bin it
	 * would describe is being replaced, and a .bin alone reads as unfinished.
	 */
	if (unlink(w->idx_path) < 0 && errno != ENOENT) {
		rc = ling_err_at(err, LING_EIO, w->idx_path, 0, 0, "cannot remove the old index: %s", strerror(errno));
		goto fail;
	}
	if (ling_fsync_parent(w->idx_path) < 0) {
		rc = ling_err_at(err, LING_EIO, w->idx_path, 0, 0, "cannot sync its directory");
		goto fail;
	}
	if (rename(w->bin_tmp, w->bin_path) < 0) {
		rc = ling_err_at(err, LING_EIO, w->bin_path, 0, 0, "cannot rename into place: %s", strerror(errno));
		goto fail;
	}
	if (rename(w->idx_tmp, w->idx_path) < 0) {
		rc = ling_err_at(err, LING_EIO, w->idx_path, 0, 0, "cannot rename into place: %s", strerror(errno));
		goto fail;
	}
	if (ling_fsync_parent(w->idx_path) < 0) {
		rc = ling_err_at(err, LING_EIO, w->idx_path, 0, 0, "cannot sync its directory");
		goto fail;
	}
	free(idx);
	writer_free(w);
	return 0;
fail:
	free(idx);
	tok_shard_writer_abort(w);
	return rc;
}

/* ---- reader ---- */

struct tok_shard {
	char *bin_path, *idx_path;
	const unsigned char *bin, *idx;
	size_t bin_size, idx_size;
	enum tok_shard_dtype dtype;
	size_t item_size;
	uint64_t count, docs, items;
	uint32_t *lens;
	uint64_t *ptrs;
	uint64_t *doc_idx; /* docs + 1 entries */
};

/* Maps path read-only; an empty file gives *data = NULL, *size = 0. */
static int map_file(const char *path, const unsigned char **data, size_t *size, struct ling_err *err)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*data = NULL;
	*size = 0;
	if (fd < 0)
		return ling_err_at(err, LING_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) < 0) {
		ling_err_at(err, LING_EIO, path, 0, 0, "cannot stat: %s", strerror(errno));
		close(fd);
		return LING_EIO;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return ling_err_at(err, LING_EIO, path, 0, 0, "not a regular file");
	}
	if (st.st_size > 0) {
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			ling_err_at(err, LING_EIO, path, 0, 0, "cannot map: %s", strerror(errno));
			close(fd);
			return LING_EIO;
		}
		*data = p;
		*size = (size_t)st.st_size;
	}
	close(fd);
	return 0;
}

void tok_shard_close(struct tok_shard *s)
{
	if (!s)
		return;
	if (s->bin)
		munmap((void *)s->bin, s->bin_size);
	if (s->idx)
		munmap((void *)s->idx, s->idx_size);
	free(s->bin_path);
	free(s->idx_path);
	free(s->lens);
	free(s->ptrs);
	free(s->doc_idx);
	free(s);
}

/* Checks the header and the sizes, then decodes the three arrays. */
static int parse_idx(struct tok_shard *s, struct ling_err *err)
{
	const unsigned char *p = s->idx;
	const char *path = s->idx_path;
	uint64_t version, base, room;

	if (s->idx_size < TOK_SHARD_HEADER_SIZE)
		return ling_err_at(err, LING_EDATA, path, 0, 0, "truncated index: %zu bytes, the header alone is %d",
				   s->idx_size, TOK_SHARD_HEADER_SIZE);
	if (memcmp(p, shard_magic, sizeof(shard_magic)) != 0)
		return ling_err_at(err, LING_EDATA, path, 0, 0, "not a Megatron MMIDIDX index (bad magic)");
	version = get_le(p + 9, 8);
	if (version != 1)
		return ling_err_at(err, LING_EDATA, path, 0, 0, "unsupported index version %llu (want 1)",
				   (unsigned long long)version);
	s->dtype = p[17];
	s->item_size = tok_shard_dtype_size(p[17]);
	if (!s->item_size)
		return ling_err_at(err, LING_EDATA, path, 0, 0, "unknown dtype code %u", (unsigned)p[17]);
	s->count = get_le(p + 18, 8);
	s->docs = get_le(p + 26, 8);
	/* Counts bounded by the file size first, so that the sizes below cannot overflow. */
	room = s->idx_size - TOK_SHARD_HEADER_SIZE;
	if (s->count > room / 12 || s->docs > room / 8 || s->docs == 0)
		goto bad_size;
	base = TOK_SHARD_HEADER_SIZE + s->count * 12 + s->docs * 8;
	/* A multimodal index adds int8 modes[S]; the modes are not used here. */
	if (s->idx_size != base && s->idx_size != base + s->count)
		goto bad_size;
	s->docs--;

	s->lens = xmalloc((s->count ? s->count : 1) * sizeof(*s->lens));
	s->ptrs = xmalloc((s->count ? s->count : 1) * sizeof(*s->ptrs));
	s->doc_idx = xmalloc((s->docs + 1) * sizeof(*s->doc_idx));
	p += TOK_SHARD_HEADER_SIZE;
	for (uint64_t i = 0; i < s->count; i++, p += 4) {
		uint64_t len = get_le(p, 4);

		if (len > INT32_MAX)
			return ling_err_at(err, LING_EDATA, path, 0, 0, "sequence %llu has a negative length",
					   (unsigned long long)i);
		s->lens[i] = (uint32_t)len;
		s->items += len;
	}
	for (uint64_t i = 0; i < s->count; i++, p += 8) {
		uint64_t ptr = get_le(p, 8), bytes = (uint64_t)s->lens[i] * s->item_size;

		if (ptr > s->bin_size || bytes > s->bin_size - ptr)
			return ling_err_at(err, LING_EDATA, s->bin_path, 0, 0,
					   "sequence %llu (bytes %llu..%llu) lies outside the data file of %zu bytes "
					   "(truncated .bin, or the wrong .idx)", (unsigned long long)i,
					   (unsigned long long)ptr, (unsigned long long)(ptr + bytes), s->bin_size);
		s->ptrs[i] = ptr;
	}
	for (uint64_t d = 0; d <= s->docs; d++, p += 8) {
		uint64_t v = get_le(p, 8);

		if ((d == 0 && v != 0) || (d > 0 && v < s->doc_idx[d - 1]) || v > s->count)
			return ling_err_at(err, LING_EDATA, path, 0, 0,
					   "document index %llu is %lld: they must rise from 0 to the %llu sequences",
					   (unsigned long long)d, (long long)v, (unsigned long long)s->count);
		s->doc_idx[d] = v;
	}
	if (s->doc_idx[s->docs] != s->count)
		return ling_err_at(err, LING_EDATA, path, 0, 0, "the document indices end at %llu, not at the %llu sequences",
				   (unsigned long long)s->doc_idx[s->docs], (unsigned long long)s->count);
	return 0;
bad_size:
	return ling_err_at(err, LING_EDATA, path, 0, 0,
			   "index of %zu bytes does not hold %llu sequences and %llu document indices "
			   "(truncated or corrupt)", s->idx_size, (unsigned long long)s->count,
			   (unsigned long long)s->docs);
}

int tok_shard_open(struct tok_shard **out, const char *prefix, struct ling_err *err)
{
	struct tok_shard *s = xcalloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	s->idx_path = concat(prefix, ".idx");
	s->bin_path = concat(prefix, ".bin");
	rc = map_file(s->idx_path, &s->idx, &s->idx_size, err);
	if (!rc)
		rc = map_file(s->bin_path, &s->bin, &s->bin_size, err);
	if (!rc)
		rc = parse_idx(s, err);
	if (rc) {
		tok_shard_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

enum tok_shard_dtype tok_shard_get_dtype(const struct tok_shard *s)
{
	return s->dtype;
}

uint64_t tok_shard_count(const struct tok_shard *s)
{
	return s->count;
}

uint64_t tok_shard_doc_count(const struct tok_shard *s)
{
	return s->docs;
}

uint64_t tok_shard_doc_index(const struct tok_shard *s, uint64_t d)
{
	return s->doc_idx[d];
}

uint64_t tok_shard_items(const struct tok_shard *s)
{
	return s->items;
}

size_t tok_shard_len(const struct tok_shard *s, uint64_t i)
{
	return s->lens[i];
}

const void *tok_shard_data(const struct tok_shard *s, uint64_t i)
{
	return s->lens[i] ? s->bin + s->ptrs[i] : NULL;
}

int tok_shard_get(const struct tok_shard *s, uint64_t i, struct ling_u32s *out, struct ling_err *err)
{
	const unsigned char *p = tok_shard_data(s, i);
	size_t n = s->lens[i], size = s->item_size;
	int is_signed = s->dtype == TOK_SHARD_I8 || s->dtype == TOK_SHARD_I16 || s->dtype == TOK_SHARD_I32 ||
			s->dtype == TOK_SHARD_I64;

	if (s->dtype == TOK_SHARD_F32 || s->dtype == TOK_SHARD_F64)
		return ling_err_at(err, LING_EUSAGE, s->bin_path, 0, 0, "items of dtype %s are not token ids",
				   tok_shard_dtype_name(s->dtype));
	for (size_t j = 0; j < n; j++, p += size) {
		uint64_t v = get_le(p, size);

		if ((is_signed && (v >> (8 * size - 1)) & 1) || v > UINT32_MAX)
			return ling_err_at(err, LING_EDATA, s->bin_path, 0, 0,
					   "sequence %llu, item %zu: %s value out of the uint32 range",
					   (unsigned long long)i, j, tok_shard_dtype_name(s->dtype));
		ling_u32s_push(out, (uint32_t)v);
	}
	return 0;
}
