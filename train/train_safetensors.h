/*
 * train_safetensors: safetensors files (fp32 and bf16).
 *
 * STUB (train-c's branch only): these prototypes are those of TRAIN_SPEC.md;
 * helper train-st writes the real module. Take train-st's file at merge.
 */
#ifndef TRAIN_SAFETENSORS_H
#define TRAIN_SAFETENSORS_H

#include "../common/ling_err.h"

#include <stddef.h>
#include <stdint.h>

enum train_dtype { TRAIN_F32, TRAIN_BF16 };

/* A named fp32 tensor in memory: what a checkpoint write takes and a read fills. */
struct train_tensor {
	const char *name; /* HF name, e.g. "model.layers.0.attention.dense.weight" */
	int ndim;         /* 1..4 */
	int64_t shape[4];
	float *data;      /* caller-owned, prod(shape) floats */
};

/* Writes one safetensors file (header keys sorted, __metadata__ {"format":"pt"}), tensors in dtype, atomically. */
int train_st_write(const char *path, const struct train_tensor *t, size_t n, enum train_dtype dtype,
		   struct ling_err *err);

#endif
