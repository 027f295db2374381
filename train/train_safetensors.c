/*
 * train_safetensors: safetensors read (mapped, validated first) and write
 * (streamed, atomic). The format and the checks follow the reference
 * implementation (huggingface/safetensors): header at most 100 MB, tensors
 * tiling the data area exactly. See train_safetensors_internal.h.
 */
#include "train_safetensors_internal.h"

#include "../common/ling_file.h"
#include "../common/ling_bytes.h"
#include "../common/ling_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/banned.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "train_safetensors assumes a little-endian host (the format is little-endian)"
#endif

/* Elements converted per write when the file's dtype differs from fp32. */
#define CONVERT_CHUNK 65536

struct train_st_file {
	char *path;
	const unsigned char *base;  /* the whole file */
	size_t len;
	int mapped;                 /* base is our mmap */
	const unsigned char *data;  /* the data area */
	uint64_t data_len;
	json_t *header;             /* owns the entry names and the metadata */
	struct train_st_entry *entries; /* sorted by name */
	size_t count;
};

/* ---- numbers ---- */

uint16_t train_f32_to_bf16(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	if ((u & 0x7fffffffu) > 0x7f800000u)
		return (uint16_t)((u >> 16) | 0x0040u); /* quiet NaN: truncating could leave a zero mantissa (inf) */
	u += 0x7fffu + ((u >> 16) & 1u);
	return (uint16_t)(u >> 16);
}

float train_bf16_to_f32(uint16_t h)
{
	uint32_t u = (uint32_t)h << 16;
	float f;

	memcpy(&f, &u, 4);
	return f;
}

int64_t train_shape_elems(int ndim, const int64_t *shape)
{
	int64_t n = 1;

	if (ndim < 0 || ndim > TRAIN_MAX_DIM)
		return -1;
	for (int i = 0; i < ndim; i++)
		if (shape[i] < 0 || __builtin_mul_overflow(n, shape[i], &n))
			return -1;
	return n;
}

/* ---- dtypes ---- */

struct dtype_info {
	const char *name;
	size_t size;
};

/* Every dtype of the reference implementation with a whole number of bytes per element. */
static const struct dtype_info dtypes[] = {
	{ "BOOL", 1 }, { "U8", 1 },  { "I8", 1 },  { "F8_E5M2", 1 }, { "F8_E4M3", 1 },
	{ "I16", 2 },  { "U16", 2 }, { "F16", 2 }, { "BF16", 2 },
	{ "I32", 4 },  { "U32", 4 }, { "F32", 4 },
	{ "I64", 8 },  { "U64", 8 }, { "F64", 8 },
};

static const struct dtype_info *dtype_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(dtypes) / sizeof(dtypes[0]); i++)
		if (!strcmp(dtypes[i].name, name))
			return &dtypes[i];
	return NULL;
}

/* ---- reading ---- */

/* Reads a JSON integer that must lie in [0, max]. @return 0 or -1. */
static int get_index(const json_t *v, uint64_t max, uint64_t *out)
{
	json_int_t i;

	if (!json_is_integer(v))
		return -1;
	i = json_integer_value(v);
	if (i < 0 || (uint64_t)i > max)
		return -1;
	*out = (uint64_t)i;
	return 0;
}

static int parse_shape(struct train_st_file *f, struct train_st_entry *e, const json_t *shape,
		       struct ling_err *err)
{
	size_t nd = json_array_size(shape);

	if (!json_is_array(shape))
		return ling_err_at(err, LING_EDATA, f->path, 0, 0, "tensor %s: \"shape\" is not an array", e->name);
	if (nd > TRAIN_MAX_DIM)
		return ling_err_at(err, LING_EDATA, f->path, 0, 0, "tensor %s: %zu dimensions (at most %d)", e->name,
				   nd, TRAIN_MAX_DIM);
	e->ndim = (int)nd;
	for (size_t i = 0; i < nd; i++) {
		uint64_t d;

		if (get_index(json_array_get(shape, i), INT64_MAX, &d))
			return ling_err_at(err, LING_EDATA, f->path, 0, 0,
					   "tensor %s: shape[%zu] is not a non-negative integer", e->name, i);
		e->shape[i] = (int64_t)d;
	}
	return 0;
}

/* Fills e from the header entry v (the name is set); checks its size against dtype x shape. */
static int parse_entry(struct train_st_file *f, struct train_st_entry *e, const json_t *v, struct ling_err *err)
{
	const json_t *dtype = json_object_get(v, "dtype"), *shape = json_object_get(v, "shape");
	const json_t *offsets = json_object_get(v, "data_offsets");
	const struct dtype_info *di;
	uint64_t bytes;
	int64_t elems;
	int rc;

	if (!json_is_object(v))
		return ling_err_at(err, LING_EDATA, f->path, 0, 0, "tensor %s: its entry is not an object", e->name);
	if (!dtype || !shape || !offsets)
		return ling_err_at(err, LING_EDATA, f->path, 0, 0, "tensor %s: no \"%s\"", e->name,
				   !dtype ? "dtype" : !shape ? "shape" : "data_offsets");
	if (!json_is_string(dtype))
		return ling_err_at(err, LING_EDATA, f->path, 0, 0, "tensor %s: \"dtype\" is not a string", e->name);
	e->dtype = json_string_value(dtype);
	if (!(di = dtype_lookup(e->dtype)))
		return ling_err_at(err, LING_EDATA, f->path, 0, 0, "tensor %s: unknown dtype \"%.40s\"", e->name,
				   e->dtype);
	e->elem_size = di->size;
	e->supported = !strcmp(e->dtype, "F32") || !strcmp(e->dtype, "BF16");
	e->type = strcmp(e->dtype, "BF16") ? TRAIN_F32 : TRAIN_BF16;
	if ((rc = parse_shape(f, e, shape, err)))
		return rc;
	if (!json_is_array(offsets) || json_array_size(offsets) != 2 ||
	    get_index(json_array_get(offsets, 0), UINT64_MAX, &e->begin) ||
	    get_index(json_array_get(offsets, 1), UINT64_MAX, &e->end) || e->begin > e->end)
		return ling_err_at(err, LING_EDATA, f->path, 0, 0,
				   "tensor %s: \"data_offsets\" is not [begin, end] with 0 <= begin <= end", e->name);
	elems = train_shape_elems(e->ndim, e->shape);
	if (elems < 0 || __builtin_mul_overflow((uint64_t)elems, (uint64_t)e->elem_size, &bytes))
		return ling_err_at(err, LING_EDATA, f->path, 0, 0, "tensor %s: the shape's size overflows", e->name);
	if (e->end - e->begin != bytes)
		return ling_err_at(err, LING_EDATA, f->path, 0, 0,
				   "tensor %s: data_offsets [%llu, %llu] hold %llu bytes but %s x %lld elements need %llu",
				   e->name, (unsigned long long)e->begin, (unsigned long long)e->end,
				   (unsigned long long)(e->end - e->begin), e->dtype, (long long)elems,
				   (unsigned long long)bytes);
	if (e->end > f->data_len)
		return ling_err_at(err, LING_EDATA, f->path, 0, 0,
				   "tensor %s: data_offsets [%llu, %llu] run past the data area (%llu bytes)", e->name,
				   (unsigned long long)e->begin, (unsigned long long)e->end,
				   (unsigned long long)f->data_len);
	return 0;
}

static int parse_metadata(struct train_st_file *f, const json_t *v, struct ling_err *err)
{
	const char *key;
	json_t *s;

	if (!json_is_object(v))
		return ling_err_at(err, LING_EDATA, f->path, 0, 0, "\"__metadata__\" is not an object");
	json_object_foreach((json_t *)v, key, s)
		if (!json_is_string(s))
			return ling_err_at(err, LING_EDATA, f->path, 0, 0, "\"__metadata__\" key %s is not a string", key);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct train_st_entry *)a)->name, ((const struct train_st_entry *)b)->name);
}

static int by_range(const void *a, const void *b)
{
	const struct train_st_entry *x = *(const struct train_st_entry *const *)a;
	const struct train_st_entry *y = *(const struct train_st_entry *const *)b;

	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

/* The tensors must tile the data area: sorted by range, each starts where the previous ends. */
static int check_tiling(struct train_st_file *f, struct ling_err *err)
{
	const struct train_st_entry **v = xmalloc((f->count ? f->count : 1) * sizeof(*v));
	uint64_t at = 0;
	int rc = 0;

	for (size_t i = 0; i < f->count; i++)
		v[i] = &f->entries[i];
	qsort(v, f->count, sizeof(*v), by_range);
	for (size_t i = 0; i < f->count && !rc; i++) {
		if (v[i]->begin < at)
			rc = ling_err_at(err, LING_EDATA, f->path, 0, 0, "tensor %s: data_offsets [%llu, %llu] overlap tensor %s",
					 v[i]->name, (unsigned long long)v[i]->begin, (unsigned long long)v[i]->end,
					 v[i - 1]->name);
		else if (v[i]->begin > at)
			rc = ling_err_at(err, LING_EDATA, f->path, 0, 0,
					 "tensor %s: data_offsets start at %llu, leaving a gap after byte %llu", v[i]->name,
					 (unsigned long long)v[i]->begin, (unsigned long long)at);
		at = v[i]->end;
	}
	if (!rc && at != f->data_len)
		rc = ling_err_at(err, LING_EDATA, f->path, 0, 0,
				 "the data area has %llu bytes but the tensors cover %llu (truncated or trailing data)",
				 (unsigned long long)f->data_len, (unsigned long long)at);
	free(v);
	return rc;
}

static int parse_header(struct train_st_file *f, struct ling_err *err)
{
	uint64_t hlen;
	json_error_t jerr;
	const char *key;
	json_t *v;
	size_t i = 0;
	int rc;

	if (f->len < 8)
		return ling_err_at(err, LING_EDATA, f->path, 0, 0,
				   "not a safetensors file: %zu bytes, shorter than the 8-byte header length", f->len);
	hlen = ling_get_le64(f->base);
	if (hlen > TRAIN_ST_MAX_HEADER)
		return ling_err_at(err, LING_EDATA, f->path, 0, 0,
				   "not a safetensors file: header length %llu is over the %llu-byte limit",
				   (unsigned long long)hlen, TRAIN_ST_MAX_HEADER);
	if (hlen > f->len - 8)
		return ling_err_at(err, LING_EDATA, f->path, 0, 0,
				   "header length %llu runs past the end of the file (%zu bytes): truncated?",
				   (unsigned long long)hlen, f->len);
	if (hlen < 2 || f->base[8] != '{')
		return ling_err_at(err, LING_EDATA, f->path, 0, 0, "not a safetensors file: the header is not a JSON object");
	if (memchr(f->base + 8, 0, (size_t)hlen))
		return ling_err_at(err, LING_EDATA, f->path, 0, 0, "not a safetensors file: a NUL byte in the JSON header");
	f->data = f->base + 8 + hlen;
	f->data_len = f->len - 8 - hlen;
	f->header = json_loadb((const char *)f->base + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &jerr);
	if (!f->header)
		return ling_err_at(err, LING_EDATA, f->path, 0, 0, "bad JSON header at byte %d: %s", 8 + jerr.position,
				   jerr.text);
	if (!json_is_object(f->header))
		return ling_err_at(err, LING_EDATA, f->path, 0, 0, "not a safetensors file: the header is not a JSON object");
	f->entries = xcalloc(json_object_size(f->header) + 1, sizeof(*f->entries));
	json_object_foreach(f->header, key, v) {
		if (!strcmp(key, "__metadata__")) {
			if ((rc = parse_metadata(f, v, err)))
				return rc;
			continue;
		}
		f->entries[i].name = key;
		if ((rc = parse_entry(f, &f->entries[i], v, err)))
			return rc;
		i++;
	}
	f->count = i;
	qsort(f->entries, f->count, sizeof(*f->entries), by_name);
	return check_tiling(f, err);
}

int train_st_open_mem(struct train_st_file **out, const char *name, const void *data, size_t len,
		      struct ling_err *err)
{
	struct train_st_file *f = xcalloc(1, sizeof(*f));
	int rc;

	f->path = xstrdup(name);
	f->base = data;
	f->len = len;
	if ((rc = parse_header(f, err))) {
		train_st_close(f);
		*out = NULL;
		return rc;
	}
	*out = f;
	return 0;
}

int train_st_open(struct train_st_file **out, const char *path, struct ling_err *err)
{
	struct stat sb;
	void *map = NULL;
	int fd, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ling_err_at(err, LING_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		rc = ling_err_at(err, LING_EIO, path, 0, 0, "not a regular file");
		close(fd);
		return rc;
	}
	if (sb.st_size > 0 && (map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		rc = ling_err_at(err, LING_EIO, path, 0, 0, "cannot map: %s", strerror(errno));
		close(fd);
		return rc;
	}
	close(fd);
	if ((rc = train_st_open_mem(out, path, map ? map : "", (size_t)sb.st_size, err))) {
		if (map)
			munmap(map, (size_t)sb.st_size);
		return rc;
	}
	(*out)->mapped = map != NULL;
	return 0;
}

void train_st_close(struct train_st_file *f)
{
	if (!f)
		return;
	if (f->mapped)
		munmap((void *)f->base, f->len);
	json_decref(f->header);
	free(f->entries);
	free(f->path);
	free(f);
}

const char *train_st_path(const struct train_st_file *f)
{
	return f->path;
}

size_t train_st_count(const struct train_st_file *f)
{
	return f->count;
}

const struct train_st_entry *train_st_entry_at(const struct train_st_file *f, size_t i)
{
	return i < f->count ? &f->entries[i] : NULL;
}

const struct train_st_entry *train_st_find(const struct train_st_file *f, const char *name)
{
	struct train_st_entry key;

	memset(&key, 0, sizeof(key));
	key.name = name;
	return f->count ? bsearch(&key, f->entries, f->count, sizeof(key), by_name) : NULL;
}

const char *train_st_metadata(const struct train_st_file *f, const char *key)
{
	return json_string_value(json_object_get(json_object_get(f->header, "__metadata__"), key));
}

int train_st_read_f32(const struct train_st_file *f, const struct train_st_entry *e, float *dst,
		      struct ling_err *err)
{
	const unsigned char *src = f->data + e->begin;
	size_t n = (size_t)((e->end - e->begin) / e->elem_size);

	if (!e->supported)
		return ling_err_at(err, LING_EDATA, f->path, 0, 0,
				   "tensor %s has dtype %s: only F32 and BF16 can be read", e->name, e->dtype);
	if (e->type == TRAIN_F32) {
		if (n)
			memcpy(dst, src, n * 4);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		uint16_t h;

		memcpy(&h, src + 2 * i, 2); /* the data area need not be aligned; the host is little-endian */
		dst[i] = train_bf16_to_f32(h);
	}
	return 0;
}

void train_st_drop(const struct train_st_file *f, const struct train_st_entry *e)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t from = (uintptr_t)(f->data + e->begin), to = (uintptr_t)(f->data + e->end);

	/* Only the pages wholly inside the tensor: its neighbours may still be wanted. */
	from = (from + page - 1) & ~(page - 1);
	to &= ~(page - 1);
	if (f->mapped && to > from)
		madvise((void *)from, to - from, MADV_DONTNEED);
}

/* ---- writing ---- */

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len > (1u << 30) ? (1u << 30) : len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int by_tensor_name(const void *a, const void *b)
{
	return strcmp((*(const struct train_tensor *const *)a)->name, (*(const struct train_tensor *const *)b)->name);
}

/* order[0..n): the tensors in byte order of their names; refuses bad names and shapes. */
static int check_tensors(const char *path, const struct train_tensor *t, size_t n, const struct train_tensor **order,
			 struct ling_err *err)
{
	for (size_t i = 0; i < n; i++) {
		int64_t elems = train_shape_elems(t[i].ndim, t[i].shape);

		order[i] = &t[i];
		if (!t[i].name || !t[i].name[0] || !strcmp(t[i].name, "__metadata__"))
			return ling_err_at(err, LING_EUSAGE, path, 0, 0, "tensor %zu: an empty or reserved name", i);
		if (elems < 0 || (uint64_t)elems > (UINT64_MAX >> 3) || (!t[i].data && elems > 0))
			return ling_err_at(err, LING_EUSAGE, path, 0, 0, "tensor %s: bad shape or no data", t[i].name);
	}
	qsort(order, n, sizeof(*order), by_tensor_name);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(order[i]->name, order[i - 1]->name))
			return ling_err_at(err, LING_EUSAGE, path, 0, 0, "tensor %s: the name is given twice", order[i]->name);
	return 0;
}

/* The header JSON, padded with spaces to a multiple of 8 (so the data area is 8-aligned). */
static int build_header(const char *path, const struct train_tensor *const *order, size_t n,
			enum train_dtype dtype, struct ling_buf *out, struct ling_err *err)
{
	json_t *root = json_object(), *meta = json_object();
	size_t es = dtype == TRAIN_BF16 ? 2 : 4;
	uint64_t at = 0;
	char *text;
	int rc = 0;

	json_object_set_new(meta, "format", json_string("pt"));
	json_object_set_new(root, "__metadata__", meta);
	for (size_t k = 0; k < n; k++) {
		const struct train_tensor *x = order[k];
		uint64_t bytes = (uint64_t)train_shape_elems(x->ndim, x->shape) * es;
		json_t *e = json_object(), *shape = json_array();

		for (int d = 0; d < x->ndim; d++)
			json_array_append_new(shape, json_integer(x->shape[d]));
		json_object_set_new(e, "dtype", json_string(dtype == TRAIN_BF16 ? "BF16" : "F32"));
		json_object_set_new(e, "shape", shape);
		json_object_set_new(e, "data_offsets",
				    json_pack("[II]", (json_int_t)at, (json_int_t)(at + bytes)));
		at += bytes;
		if (json_object_set_new(root, x->name, e)) {
			rc = ling_err_at(err, LING_EUSAGE, path, 0, 0, "tensor name is not UTF-8: %.60s", x->name);
			break;
		}
	}
	if (!rc) {
		text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
		ling_buf_reset(out);
		ling_buf_add(out, "\0\0\0\0\0\0\0\0", 8);
		ling_buf_adds(out, text);
		while ((out->len - 8) % 8)
			ling_buf_addc(out, ' ');
		for (int i = 0; i < 8; i++)
			out->data[i] = (char)(unsigned char)((uint64_t)(out->len - 8) >> (8 * i));
		free(text);
	}
	json_decref(root);
	return rc;
}

static int write_data(int fd, const struct train_tensor *x, enum train_dtype dtype, uint16_t *buf)
{
	size_t n = (size_t)train_shape_elems(x->ndim, x->shape);

	if (dtype == TRAIN_F32)
		return n ? write_all(fd, x->data, n * 4) : 0;
	for (size_t i = 0; i < n; i += CONVERT_CHUNK) {
		size_t m = n - i < CONVERT_CHUNK ? n - i : CONVERT_CHUNK;

		for (size_t j = 0; j < m; j++)
			buf[j] = train_f32_to_bf16(x->data[i + j]);
		if (write_all(fd, buf, m * 2))
			return -1;
	}
	return 0;
}

int train_st_write(const char *path, const struct train_tensor *t, size_t n, enum train_dtype dtype,
		   struct ling_err *err)
{
	struct ling_buf head = LING_BUF_INIT, tmp = LING_BUF_INIT;
	const struct train_tensor **order = xmalloc((n ? n : 1) * sizeof(*order));
	uint16_t *buf = NULL;
	int fd = -1, rc;

	if ((rc = check_tensors(path, t, n, order, err)) || (rc = build_header(path, order, n, dtype, &head, err)))
		goto out;
	ling_buf_addf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = ling_err_at(err, LING_EIO, path, 0, 0, "cannot create %s: %s", tmp.data, strerror(errno));
		goto out;
	}
	buf = dtype == TRAIN_BF16 ? xmalloc(CONVERT_CHUNK * sizeof(*buf)) : NULL;
	rc = write_all(fd, head.data, head.len);
	for (size_t k = 0; k < n && !rc; k++)
		rc = write_data(fd, order[k], dtype, buf);
	if (rc) {
		rc = ling_err_at(err, LING_EIO, path, 0, 0, "write error: %s", strerror(errno));
		goto fail;
	}
	if (fsync(fd) < 0) {
		rc = ling_err_at(err, LING_EIO, path, 0, 0, "cannot sync: %s", strerror(errno));
		goto fail;
	}
	rc = close(fd);
	fd = -1;
	if (rc < 0 || rename(tmp.data, path) < 0) {
		rc = ling_err_at(err, LING_EIO, path, 0, 0, "cannot %s: %s", rc < 0 ? "close" : "rename into place",
				 strerror(errno));
		goto fail;
	}
	if (ling_fsync_parent(path) < 0)
		rc = ling_err_at(err, LING_EIO, path, 0, 0, "cannot sync its directory");
	goto out;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp.data);
out:
	free(buf);
	free((void *)order);
	ling_buf_release(&head);
	ling_buf_release(&tmp);
	return rc;
}
