/*
 * libFuzzer target: train_st_open_mem on the input as a safetensors file;
 * when it opens, every tensor is looked up by name and every F32 or BF16
 * tensor read into fp32. Checks: a failed open sets err to its code with a
 * message naming the file; an opened file's entries lie inside the input,
 * in name order, with sizes of dtype x shape; reading never leaves them (the
 * input buffer is exactly its size, so AddressSanitizer sees any stray read).
 * Run by tests/t1900-fuzz.sh.
 */
#include "common/ling_err.h"
#include "common/ling_mem.h"
#include "train/train_safetensors.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *name)
{
	fprintf(stderr, "fuzz: %s%s%s\n", what, name ? ": " : "", name ? name : "");
	abort();
}

static void check_entry(const struct train_st_file *f, const struct train_st_entry *e, size_t size)
{
	int64_t elems = train_shape_elems(e->ndim, e->shape);
	struct ling_err err;
	float *dst;

	if (train_st_find(f, e->name) != e)
		fail("find does not return the entry", e->name);
	if (elems < 0 || e->end < e->begin || e->end - e->begin != (uint64_t)elems * e->elem_size)
		fail("an entry's size is not dtype x shape", e->name);
	if (e->end > size)
		fail("an entry ends past the input", e->name);
	dst = xmalloc((size_t)elems * sizeof(float) + 1);
	ling_err_clear(&err);
	if (train_st_read_f32(f, e, dst, &err) != (e->supported ? 0 : LING_EDATA))
		fail("read_f32 fails on a supported dtype or reads an unsupported one", e->name);
	free(dst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct train_st_file *f = NULL;
	struct ling_err err;
	int rc;

	ling_err_clear(&err);
	rc = train_st_open_mem(&f, "fuzz.safetensors", data, size, &err);
	if (rc) {
		if (rc != err.code || !err.msg[0] || f || strcmp(err.file, "fuzz.safetensors"))
			fail("a failed open without err set to its code and file", NULL);
		return 0;
	}
	for (size_t i = 0; i < train_st_count(f); i++) {
		const struct train_st_entry *e = train_st_entry_at(f, i);

		if (i > 0 && strcmp(train_st_entry_at(f, i - 1)->name, e->name) >= 0)
			fail("entries are not in name order", e->name);
		check_entry(f, e, size);
	}
	if (train_st_entry_at(f, train_st_count(f)) || train_st_find(f, "__metadata__"))
		fail("an entry past the end, or the metadata as a tensor", NULL);
	(void)train_st_metadata(f, "format");
	train_st_close(f);
	return 0;
}
