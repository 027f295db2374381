/*
 * train_safetensors_internal: the safetensors file format (Hugging Face), read
 * and written in fp32 and bf16 (the writer and the types are in train.h), as HF's save_pretrained writes it (doc/model.md).
 *
 * A file is: an 8-byte little-endian header length N; N bytes of JSON, an
 * object {name: {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
 * ..., "__metadata__": {string: string}} padded with spaces; then the data
 * area, where each tensor's bytes lie (row-major, little-endian) at
 * [begin, end) relative to the start of the data area.
 *
 * The writer puts "__metadata__" {"format":"pt"} first and the tensors in
 * byte order of their names (keys sorted), the data in the same order with no
 * gaps, and pads the header to a multiple of 8 bytes (the reference writer
 * does the same, so the data stays aligned).
 *
 * The reader maps the file and checks everything before anything is used, as
 * strictly as the reference implementation: the header length (at most
 * TRAIN_ST_MAX_HEADER bytes and inside the file), the JSON (an object, no
 * duplicate names, each entry with a known dtype, a shape of at most 4
 * non-negative dimensions whose product does not overflow, data_offsets of
 * exactly dtype size x elements bytes), and the tensors' ranges, which must
 * tile the data area from 0 to its end with no overlap, gap or tail. Every
 * failure is LING_EDATA naming the file and, where there is one, the tensor:
 * corrupt input never crashes nor reads out of bounds (a file truncated by
 * someone else while mapped still raises SIGBUS, as with any mmap).
 *
 * Only F32 and BF16 tensors can be read into fp32 (BF16 is widened exactly);
 * tensors of the other safetensors dtypes are validated and listed but
 * reading one is an error naming its dtype.
 *
 * Neither side prints. A train_st_file may be read by several threads at once.
 */
#ifndef TRAIN_SAFETENSORS_INTERNAL_H
#define TRAIN_SAFETENSORS_INTERNAL_H

#include "train.h"

#include <stddef.h>
#include <stdint.h>


/* The largest JSON header accepted, in bytes (the reference implementation's limit). */
#define TRAIN_ST_MAX_HEADER 100000000ULL



/* The number of elements of a shape, or -1 when a dimension is negative or the product overflows. */
int64_t train_shape_elems(int ndim, const int64_t *shape);


/* One tensor of an open file, as its header describes it. */
struct train_st_entry {
	const char *name;     /* owned by the file */
	const char *dtype;    /* the dtype as written, e.g. "BF16" */
	size_t elem_size;     /* bytes per element */
	int supported;        /* 1 when dtype is F32 or BF16 (then `type` says which) */
	enum train_dtype type;
	int ndim;
	int64_t shape[TRAIN_MAX_DIM];
	uint64_t begin, end;  /* byte range in the data area */
};

/* An open, validated safetensors file (mapped, or a caller's buffer). */
struct train_st_file;

/*
 * Maps and validates the file at path. *out is NULL on error.
 * @return 0, LING_EIO when it cannot be opened or mapped, LING_EDATA when it is not a valid
 * safetensors file (the message names the file and the tensor).
 */
int train_st_open(struct train_st_file **out, const char *path, struct ling_err *err);

/*
 * Validates a safetensors file held in memory (data must outlive the file); name is used in
 * errors. @return as train_st_open.
 */
int train_st_open_mem(struct train_st_file **out, const char *name, const void *data, size_t len,
		      struct ling_err *err);

/* Unmaps and frees; NULL is fine. */
void train_st_close(struct train_st_file *f);

/* The file's name as given to open. */
const char *train_st_path(const struct train_st_file *f);

/* The number of tensors; entries are numbered 0..count-1 in byte order of their names. */
size_t train_st_count(const struct train_st_file *f);
const struct train_st_entry *train_st_entry_at(const struct train_st_file *f, size_t i);

/* The tensor called name, or NULL. */
const struct train_st_entry *train_st_find(const struct train_st_file *f, const char *name);

/* The value of key in __metadata__, or NULL (e.g. "format" gives "pt" for HF files). */
const char *train_st_metadata(const struct train_st_file *f, const char *key);

/*
 * Converts tensor e of f into dst (elements of e, fp32): F32 copied bit for bit, BF16 widened.
 * @return 0, or LING_EDATA naming the tensor and file when its dtype is neither.
 */
int train_st_read_f32(const struct train_st_file *f, const struct train_st_entry *e, float *dst,
		      struct ling_err *err);

/*
 * Tells the kernel that the mapped pages of e will not be read again (a large checkpoint then
 * does not stay in this process's resident memory after it has been converted). No-op in memory.
 */
void train_st_drop(const struct train_st_file *f, const struct train_st_entry *e);

#endif
