/*
 * train_ckpt_stub: a minimal stand-in for train-st's train_safetensors.c and
 * train_ckpt.c (single-file checkpoints, F32 and BF16, no shards), so that
 * ling-train's init, forward and convert run on this branch. DELETE AT MERGE.
 */
#include "train_ckpt.h"

#include "../common/ling_cli.h"
#include "../common/ling_mem.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/banned.h"

static int cmp_tensor(const void *a, const void *b)
{
	return strcmp(((const struct train_tensor *)a)->name, ((const struct train_tensor *)b)->name);
}

static uint16_t to_bf16(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	if ((u & 0x7fffffff) > 0x7f800000)
		return (uint16_t)((u >> 16) | 0x40);
	return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

int train_st_write(const char *path, const struct train_tensor *t, size_t n, enum train_dtype dtype,
		   struct ling_err *err)
{
	struct train_tensor *s = xmalloc((n ? n : 1) * sizeof(*s));
	struct ling_buf hdr = LING_BUF_INIT, out = LING_BUF_INIT;
	size_t off = 0, esz = dtype == TRAIN_BF16 ? 2 : 4;
	uint64_t hlen;
	int rc;

	memcpy(s, t, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_tensor);
	ling_buf_adds(&hdr, "{\"__metadata__\":{\"format\":\"pt\"}");
	for (size_t i = 0; i < n; i++) {
		size_t numel = 1;

		for (int d = 0; d < s[i].ndim; d++)
			numel *= (size_t)s[i].shape[d];
		ling_buf_addf(&hdr, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[", s[i].name, dtype == TRAIN_BF16 ? "BF16" : "F32");
		for (int d = 0; d < s[i].ndim; d++)
			ling_buf_addf(&hdr, "%s%lld", d ? "," : "", (long long)s[i].shape[d]);
		ling_buf_addf(&hdr, "],\"data_offsets\":[%zu,%zu]}", off, off + numel * esz);
		off += numel * esz;
	}
	ling_buf_addc(&hdr, '}');
	while (hdr.len % 8)
		ling_buf_addc(&hdr, ' ');
	hlen = hdr.len;
	ling_buf_add(&out, &hlen, 8);
	ling_buf_add(&out, hdr.data, hdr.len);
	for (size_t i = 0; i < n; i++) {
		size_t numel = 1;

		for (int d = 0; d < s[i].ndim; d++)
			numel *= (size_t)s[i].shape[d];
		if (dtype == TRAIN_F32) {
			ling_buf_add(&out, s[i].data, numel * 4);
		} else {
			for (size_t j = 0; j < numel; j++) {
				uint16_t h = to_bf16(s[i].data[j]);

				ling_buf_add(&out, &h, 2);
			}
		}
	}
	rc = ling_atomic_write(path, out.data, out.len, err);
	ling_buf_release(&hdr);
	ling_buf_release(&out);
	free(s);
	return rc;
}

/* The file: path itself, or path/model.safetensors. Returns its bytes (caller frees). */
static int load_file(const char *path, char **file, char **data, size_t *len, struct ling_err *err)
{
	struct stat sb;
	struct ling_buf name = LING_BUF_INIT;
	FILE *f;

	ling_buf_adds(&name, path);
	if (!stat(path, &sb) && S_ISDIR(sb.st_mode))
		ling_buf_adds(&name, "/model.safetensors");
	f = fopen(name.data, "rb");
	if (!f || fstat(fileno(f), &sb)) {
		ling_err_at(err, LING_EIO, name.data, 0, 0, "cannot open: %s", strerror(errno));
		if (f)
			fclose(f);
		ling_buf_release(&name);
		return LING_EIO;
	}
	*len = (size_t)sb.st_size;
	*data = xmalloc(*len ? *len : 1);
	if (fread(*data, 1, *len, f) != *len) {
		fclose(f);
		free(*data);
		ling_err_at(err, LING_EIO, name.data, 0, 0, "cannot read");
		ling_buf_release(&name);
		return LING_EIO;
	}
	fclose(f);
	*file = name.data;
	return 0;
}

static int parse_header(const char *file, const char *data, size_t len, json_t **out, size_t *base,
			struct ling_err *err)
{
	uint64_t hlen;
	json_error_t jerr;

	if (len < 8)
		return ling_err_at(err, LING_EDATA, file, 0, 0, "truncated: no header length");
	memcpy(&hlen, data, 8);
	if (hlen > len - 8)
		return ling_err_at(err, LING_EDATA, file, 0, 0, "header length %llu runs past the end of the file",
				   (unsigned long long)hlen);
	*out = json_loadb(data + 8, (size_t)hlen, 0, &jerr);
	if (!*out || !json_is_object(*out)) {
		json_decref(*out);
		return ling_err_at(err, LING_EDATA, file, 0, 0, "bad header JSON");
	}
	*base = 8 + (size_t)hlen;
	return 0;
}

static int tensor_entry(const char *file, json_t *v, size_t data_len, int *dtype, int *ndim, int64_t *shape,
			size_t *begin, size_t *end, const char *name, struct ling_err *err)
{
	json_t *dt = json_object_get(v, "dtype"), *sh = json_object_get(v, "shape"),
	       *offs = json_object_get(v, "data_offsets");
	size_t numel = 1, esz;

	if (!json_is_string(dt) || !json_is_array(sh) || !json_is_array(offs) || json_array_size(offs) != 2 ||
	    json_array_size(sh) > 4)
		return ling_err_at(err, LING_EDATA, file, 0, 0, "tensor %s: bad header entry", name);
	if (!strcmp(json_string_value(dt), "F32"))
		*dtype = TRAIN_F32, esz = 4;
	else if (!strcmp(json_string_value(dt), "BF16"))
		*dtype = TRAIN_BF16, esz = 2;
	else
		return ling_err_at(err, LING_EDATA, file, 0, 0, "tensor %s: dtype %s is not supported", name,
				   json_string_value(dt));
	*ndim = (int)json_array_size(sh);
	for (int d = 0; d < *ndim; d++) {
		json_t *x = json_array_get(sh, (size_t)d);

		if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > (1ll << 40))
			return ling_err_at(err, LING_EDATA, file, 0, 0, "tensor %s: bad shape", name);
		shape[d] = json_integer_value(x);
		numel *= (size_t)shape[d];
	}
	if (!json_is_integer(json_array_get(offs, 0)) || !json_is_integer(json_array_get(offs, 1)))
		return ling_err_at(err, LING_EDATA, file, 0, 0, "tensor %s: bad data_offsets", name);
	*begin = (size_t)json_integer_value(json_array_get(offs, 0));
	*end = (size_t)json_integer_value(json_array_get(offs, 1));
	if (json_integer_value(json_array_get(offs, 0)) < 0 || *end < *begin || *end > data_len ||
	    *end - *begin != numel * esz)
		return ling_err_at(err, LING_EDATA, file, 0, 0, "tensor %s: data_offsets [%zu, %zu] do not fit", name,
				   *begin, *end);
	return 0;
}

int train_ckpt_read(const char *path, struct train_tensor *t, size_t n, int allow_extra, struct ling_err *err)
{
	char *file = NULL, *data = NULL;
	size_t len, base;
	json_t *hdr = NULL;
	int rc;

	if ((rc = load_file(path, &file, &data, &len, err)))
		return rc;
	if ((rc = parse_header(file, data, len, &hdr, &base, err)))
		goto out;
	if (!allow_extra) {
		const char *key;
		json_t *v;

		json_object_foreach(hdr, key, v) {
			size_t i;

			if (!strcmp(key, "__metadata__"))
				continue;
			for (i = 0; i < n && strcmp(t[i].name, key); i++)
				;
			if (i == n) {
				rc = ling_err_at(err, LING_EDATA, file, 0, 0, "unexpected tensor %s", key);
				goto out;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_object_get(hdr, t[i].name);
		int dtype, ndim, same;
		int64_t shape[4];
		size_t begin, end, numel = 1;

		if (!v) {
			rc = ling_err_at(err, LING_EDATA, file, 0, 0, "missing tensor %s", t[i].name);
			goto out;
		}
		if ((rc = tensor_entry(file, v, len - base, &dtype, &ndim, shape, &begin, &end, t[i].name, err)))
			goto out;
		same = ndim == t[i].ndim;
		for (int d = 0; same && d < ndim; d++)
			same = shape[d] == t[i].shape[d];
		if (!same) {
			rc = ling_err_at(err, LING_EDATA, file, 0, 0, "tensor %s: shape does not match the config", t[i].name);
			goto out;
		}
		for (int d = 0; d < ndim; d++)
			numel *= (size_t)shape[d];
		if (dtype == TRAIN_F32) {
			memcpy(t[i].data, data + base + begin, numel * 4);
		} else {
			for (size_t j = 0; j < numel; j++) {
				uint16_t h;
				uint32_t u;

				memcpy(&h, data + base + begin + 2 * j, 2);
				u = (uint32_t)h << 16;
				memcpy(&t[i].data[j], &u, 4);
			}
		}
	}
out:
	json_decref(hdr);
	free(data);
	free(file);
	return rc;
}

int train_ckpt_list(const char *path, struct train_tensor_info **out, size_t *n, struct ling_err *err)
{
	char *file = NULL, *data = NULL;
	size_t len, base, cap = 0;
	json_t *hdr = NULL, *v;
	const char *key;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = load_file(path, &file, &data, &len, err)))
		return rc;
	if ((rc = parse_header(file, data, len, &hdr, &base, err)))
		goto out;
	json_object_foreach(hdr, key, v) {
		struct train_tensor_info *ti;
		int dtype;
		size_t begin, end;

		if (!strcmp(key, "__metadata__"))
			continue;
		*out = xgrow(*out, &cap, *n + 1, sizeof(**out));
		ti = &(*out)[*n];
		memset(ti, 0, sizeof(*ti));
		if ((rc = tensor_entry(file, v, len - base, &dtype, &ti->ndim, ti->shape, &begin, &end, key, err)))
			goto out;
		ti->dtype = (enum train_dtype)dtype;
		ti->name = xstrdup(key);
		(*n)++;
	}
out:
	if (rc) {
		train_ckpt_list_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	json_decref(hdr);
	free(data);
	free(file);
	return rc;
}

void train_ckpt_list_free(struct train_tensor_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

int train_ckpt_write(const char *dir, const char *config_json, const struct train_tensor *t, size_t n,
		     enum train_dtype dtype, uint64_t max_shard_bytes, struct ling_err *err)
{
	struct ling_buf tmp = LING_BUF_INIT, path = LING_BUF_INIT;
	int rc;

	(void)max_shard_bytes; /* the stub writes one file */
	ling_buf_addf(&tmp, "%s.tmp-%ld", dir, (long)getpid());
	if (mkdir(tmp.data, 0755)) {
		rc = ling_err_at(err, LING_EIO, tmp.data, 0, 0, "cannot create: %s", strerror(errno));
		goto out;
	}
	ling_buf_addf(&path, "%s/config.json", tmp.data);
	if ((rc = ling_atomic_write(path.data, config_json, strlen(config_json), err)))
		goto out;
	ling_buf_reset(&path);
	ling_buf_addf(&path, "%s/model.safetensors", tmp.data);
	if ((rc = train_st_write(path.data, t, n, dtype, err)))
		goto out;
	if (access(dir, F_OK) == 0) {
		/* the stub replaces a checkpoint directory by moving the old one aside */
		struct ling_buf old = LING_BUF_INIT;

		ling_buf_addf(&old, "%s.old-%ld", dir, (long)getpid());
		if (rename(dir, old.data)) {
			rc = ling_err_at(err, LING_EIO, dir, 0, 0, "cannot replace: %s", strerror(errno));
			ling_buf_release(&old);
			goto out;
		}
		ling_buf_reset(&path);
		ling_buf_addf(&path, "%s/model.safetensors", old.data);
		unlink(path.data);
		ling_buf_reset(&path);
		ling_buf_addf(&path, "%s/config.json", old.data);
		unlink(path.data);
		rmdir(old.data);
		ling_buf_release(&old);
	}
	if (rename(tmp.data, dir))
		rc = ling_err_at(err, LING_EIO, dir, 0, 0, "cannot rename into place: %s", strerror(errno));
out:
	ling_buf_release(&tmp);
	ling_buf_release(&path);
	return rc;
}
