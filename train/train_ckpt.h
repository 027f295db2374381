/*
 * train_ckpt: checkpoint directories as Hugging Face writes and reads them
 * (papers.md §1a): config.json plus either one model.safetensors or shards
 * model-00001-of-0000N.safetensors with model.safetensors.index.json,
 * {"metadata": {"total_size": BYTES}, "weight_map": {tensor name: shard file}}.
 *
 * Reading: a directory is read as HF does (model.safetensors when present,
 * else the index and its shards); a path to a .safetensors file is read alone,
 * a path to a model.safetensors.index.json with its shards.
 * Every shard is mapped and validated (train_safetensors.h) before any tensor
 * is used. The index must be a JSON object with a weight_map of plain file
 * names (no "/", not "." or ".."), each shard must exist and hold exactly the
 * tensors the map gives it. Errors are LING_EDATA naming the file and tensor
 * (LING_EIO when a file cannot be opened).
 *
 * Writing is atomic: everything goes into a fresh sibling directory
 * DIR.tmp-PID-N, each file fsynced, then that directory takes DIR's place in
 * one step (rename, or an atomic exchange when DIR exists) and the parent is
 * fsynced; a crash leaves either the old checkpoint or the new one, plus at
 * worst a DIR.tmp-* directory. An existing DIR is replaced only when it is
 * empty or a checkpoint directory (config.json with model.safetensors or
 * model.safetensors.index.json); the old one's files are removed with it.
 */
#ifndef TRAIN_CKPT_H
#define TRAIN_CKPT_H

#include "train_safetensors.h"

#include <stddef.h>
#include <stdint.h>

/*
 * Reads the tensors named in t[0..n) from a checkpoint directory holding model.safetensors or
 * model.safetensors.index.json + shards (or from a single .safetensors path). Each must exist with
 * exactly t[i].shape (else LING_EDATA naming the tensor, file, expected and found shapes); F32 is
 * copied, BF16 widened exactly, other dtypes refused. Tensors in the file that t does not name are
 * ignored when allow_extra, else an error naming the first. Never crashes on corrupt input.
 * @return 0, LING_EIO (a file cannot be opened or mapped) or LING_EDATA; on error t's data may be
 * partly filled.
 */
int train_ckpt_read(const char *path, struct train_tensor *t, size_t n, int allow_extra, struct ling_err *err);

/*
 * Writes a checkpoint directory atomically: config.json (the given text, which must be a JSON
 * object), model.safetensors (or, when max_shard_bytes > 0 and the tensors exceed it, shards
 * model-00001-of-0000N.safetensors filled in t's order as HF does, a shard closed before a tensor
 * would take it past max_shard_bytes, + model.safetensors.index.json), then DIR takes the new
 * directory's place. @return 0; LING_EUSAGE when DIR exists and is not an empty or checkpoint
 * directory, or for bad tensors or config text; LING_EIO when writing fails (DIR is then untouched).
 */
int train_ckpt_write(const char *dir, const char *config_json, const struct train_tensor *t, size_t n,
		     enum train_dtype dtype, uint64_t max_shard_bytes, struct ling_err *err);

/* A tensor of a checkpoint as listed: name (owned by the list), dtype and shape. */
struct train_tensor_info {
	char *name;
	enum train_dtype dtype;
	int ndim;
	int64_t shape[4];
};

/*
 * Lists the tensors of a checkpoint (directory or .safetensors file) in byte order of their names,
 * validating it as train_ckpt_read does. A tensor of a dtype other than F32 or BF16 is LING_EDATA.
 * Caller frees with train_ckpt_list_free. @return 0, LING_EIO or LING_EDATA (*out NULL, *n 0).
 */
int train_ckpt_list(const char *path, struct train_tensor_info **out, size_t *n, struct ling_err *err);
void train_ckpt_list_free(struct train_tensor_info *v, size_t n);

/* 1 when dir is a checkpoint directory (config.json with model.safetensors or the index), else 0. */
int train_ckpt_is_dir(const char *dir);

#endif
