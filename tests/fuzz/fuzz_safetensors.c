/*
 * libFuzzer target: train_st_open_mem on the input as a safetensors file;
 * when it opens, every tensor is looked up by name and every F32 or BF16
 * tensor read into fp32. Checks: a failed open sets err to its code with a
 * message naming the file; an opened file's entries lie inside the input,
 * in name order, with sizes of dtype x shape; reading never leaves them (the
 * input buffer is exactly its size, so AddressSanitizer sees any stray read).
 * An input that starts with "IDX\n" (as a safetensors file, a header length
 * over the limit) is instead the model.safetensors.index.json of a directory
 * that holds two valid shards, listed with train_ckpt_list: it must either
 * list tensors that the shards hold or fail with err set.
 * Run by tests/t1900-fuzz.sh.
 */
#include "common/ling_err.h"
#include "common/ling_mem.h"
#include "train/train.h"
#include "train/train_safetensors_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static char dir[64];

static void remove_dir(void)
{
	char path[128];
	static const char *const files[] = { "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
					     "model.safetensors.index.json" };

	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* A directory with two shards: a and b in the first, c in the second. */
static void make_dir(void)
{
	float v[4] = { 1, 2, 3, 4 };
	struct train_tensor t[3] = { { "a", 1, { 2 }, v }, { "b", 2, { 1, 1 }, v + 2 }, { "c", 1, { 1 }, v + 3 } };
	struct ling_err err;
	char path[128];

	snprintf(dir, sizeof(dir), "/tmp/fuzz-st-index.XXXXXX");
	if (!mkdtemp(dir))
		fail("cannot create a temporary directory", dir);
	atexit(remove_dir);
	ling_err_clear(&err);
	snprintf(path, sizeof(path), "%s/model-00001-of-00002.safetensors", dir);
	if (train_st_write(path, t, 2, TRAIN_F32, &err))
		fail(err.msg, path);
	snprintf(path, sizeof(path), "%s/model-00002-of-00002.safetensors", dir);
	if (train_st_write(path, t + 2, 1, TRAIN_BF16, &err))
		fail(err.msg, path);
}

static void fuzz_index(const uint8_t *data, size_t size)
{
	struct train_tensor_info *info = NULL;
	struct ling_err err;
	char path[128];
	size_t n = 0;
	FILE *f;
	int rc;

	if (!dir[0])
		make_dir();
	snprintf(path, sizeof(path), "%s/model.safetensors.index.json", dir);
	if (!(f = fopen(path, "wb")) || fwrite(data, 1, size, f) != size || fclose(f))
		fail("cannot write the index", path);
	ling_err_clear(&err);
	rc = train_ckpt_list(dir, &info, &n, &err);
	if (rc && (rc != err.code || !err.msg[0] || info || n))
		fail("a failed list without err set, or with a list", NULL);
	for (size_t i = 0; i < n; i++)
		if (strcmp(info[i].name, "a") && strcmp(info[i].name, "b") && strcmp(info[i].name, "c"))
			fail("a listed tensor no shard holds", info[i].name);
	train_ckpt_list_free(info, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct train_st_file *f = NULL;
	struct ling_err err;
	int rc;

	if (size >= 4 && !memcmp(data, "IDX\n", 4)) {
		fuzz_index(data + 4, size - 4);
		return 0;
	}
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
