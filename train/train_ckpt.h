/*
 * train_ckpt: checkpoint directories (config.json + safetensors, single or sharded).
 *
 * STUB (train-c's branch only): these prototypes are those of TRAIN_SPEC.md;
 * helper train-st writes the real module. Take train-st's file at merge.
 */
#ifndef TRAIN_CKPT_H
#define TRAIN_CKPT_H

#include "train_safetensors.h"

/* Reads the tensors named in t[0..n) from a checkpoint directory or a .safetensors path (fp32 out). */
int train_ckpt_read(const char *path, struct train_tensor *t, size_t n, int allow_extra, struct ling_err *err);

/* Writes a checkpoint directory atomically: config.json and model.safetensors (or shards). */
int train_ckpt_write(const char *dir, const char *config_json, const struct train_tensor *t, size_t n,
		     enum train_dtype dtype, uint64_t max_shard_bytes, struct ling_err *err);

/* Lists the tensors of a checkpoint (names, dtypes, shapes). Free with train_ckpt_list_free. */
struct train_tensor_info {
	char *name;
	enum train_dtype dtype;
	int ndim;
	int64_t shape[4];
};
int train_ckpt_list(const char *path, struct train_tensor_info **out, size_t *n, struct ling_err *err);
void train_ckpt_list_free(struct train_tensor_info *v, size_t n);

#endif
