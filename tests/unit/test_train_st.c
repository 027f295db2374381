/*
 * Unit tests for train_safetensors and train_ckpt (train/): fp32 -> bf16
 * rounding (ties, denormals, inf, NaN) and exact widening, fp32 and bf16 round
 * trips, the exact bytes and key order of a written header, sharded
 * checkpoints with their index, every kind of corrupt file and index refused
 * with LING_EDATA naming the file and tensor, the atomic replace rules of a
 * checkpoint directory, and interop with an independent reader and writer
 * (tests/tools/safetensors_peer.py, stdlib only, and through the real
 * `safetensors` package when it can be imported; skipped with the reason when
 * there is no python3 or no package).
 */
#include "tap.h"

#include "common/ling_mem.h"
#include "train/train.h"
#include "train/train_safetensors_internal.h"

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/banned.h"

static char tmp[256];

/* A path under the test's temporary directory (valid until the next call with the same slot). */
static const char *at(int slot, const char *name)
{
	static char buf[4][512];

	snprintf(buf[slot], sizeof(buf[slot]), "%s/%s", tmp, name);
	return buf[slot];
}

static void spew(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, len, f) != len)
		diag("cannot write %s", path);
	if (f)
		fclose(f);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data;
	long n;

	*len = 0;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
	if (n > 0 && fread(data, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	fclose(f);
	*len = (size_t)n;
	return data;
}

/* Deletes dir and everything below it (links are removed, not followed); errors are ignored. */
static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		struct ling_buf p = LING_BUF_INIT;
		struct stat sb;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ling_buf_addf(&p, "%s/%s", dir, de->d_name);
		if (lstat(p.data, &sb) == 0 && S_ISDIR(sb.st_mode))
			remove_tree(p.data);
		else
			unlink(p.data);
		ling_buf_release(&p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static int exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static uint32_t bits_of(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}

static float float_of(uint32_t u)
{
	float f;

	memcpy(&f, &u, 4);
	return f;
}

/* ---- the fixed tensors that tests/tools/safetensors_peer.py writes and reads too ---- */

#define NT 6
static const char *const names[NT] = {
	"model.word_embeddings.weight", "model.layers.0.attention.query_key_value.weight",
	"model.layers.0.mlp.experts.0.down_proj.weight", "model.norm.weight", "specials", "lm_head.weight",
};
static const int ndims[NT] = { 2, 2, 2, 1, 1, 2 };
static const int64_t shapes[NT][2] = { { 5, 4 }, { 8, 4 }, { 4, 3 }, { 4, 0 }, { 10, 0 }, { 5, 4 } };
static const uint32_t specials[10] = { 0x00000001, 0x00018000, 0x3F808000, 0x3F818000, 0x7F800000,
				       0xFF800000, 0x7FC00001, 0x80000000, 0x7F7FFFFF, 0xFF800001 };

static float value(int k, int64_t i)
{
	if (k == 4)
		return float_of(specials[i]);
	return (float)((double)((i * 37 + k * 11) % 101 - 50) / 7.0 * ldexp(1.0, (int)(i % 9) - 4));
}

/* Fills t[0..NT) with the fixed tensors (values in fp32, or as bf16 would give them back). */
static void fixed_tensors(struct train_tensor *t, int as_bf16)
{
	for (int k = 0; k < NT; k++) {
		int64_t n = train_shape_elems(ndims[k], shapes[k]);

		t[k].name = names[k];
		t[k].ndim = ndims[k];
		memcpy(t[k].shape, shapes[k], sizeof(shapes[k]));
		t[k].data = malloc((size_t)n * sizeof(float));
		for (int64_t i = 0; i < n; i++)
			t[k].data[i] = as_bf16 ? train_bf16_to_f32(train_f32_to_bf16(value(k, i))) : value(k, i);
	}
}

/* Empty tensors of the fixed names and shapes, to read into (data poisoned with a pattern). */
static void blank_tensors(struct train_tensor *t)
{
	fixed_tensors(t, 0);
	for (int k = 0; k < NT; k++)
		memset(t[k].data, 0xA5, (size_t)train_shape_elems(ndims[k], shapes[k]) * sizeof(float));
}

static void free_tensors(struct train_tensor *t, int n)
{
	for (int k = 0; k < n; k++)
		free(t[k].data);
}

/* Bit-for-bit equal; with nan_any, two NaNs count as equal whatever their bits. */
static int same_bits(const struct train_tensor *a, const struct train_tensor *b, int n, int nan_any)
{
	for (int k = 0; k < n; k++)
		for (int64_t i = 0; i < train_shape_elems(a[k].ndim, a[k].shape); i++)
			if (bits_of(a[k].data[i]) != bits_of(b[k].data[i]) &&
			    !(nan_any && isnan(a[k].data[i]) && isnan(b[k].data[i]))) {
				diag("%s[%lld]: %08x, expected %08x", a[k].name, (long long)i, bits_of(a[k].data[i]),
				     bits_of(b[k].data[i]));
				return 0;
			}
	return 1;
}

/* ---- numbers ---- */

static void test_bf16_rounding(void)
{
	static const struct {
		uint32_t in;
		uint16_t out;
		const char *what;
	} cases[] = {
		{ 0x3F800000, 0x3F80, "1.0 exact" },
		{ 0x3F808000, 0x3F80, "tie, even below: down" },
		{ 0x3F818000, 0x3F82, "tie, odd below: up" },
		{ 0x3F808001, 0x3F81, "just above the tie: up" },
		{ 0x3F807FFF, 0x3F80, "just below the tie: down" },
		{ 0xBF818000, 0xBF82, "negative tie: away from zero to even" },
		{ 0x00000001, 0x0000, "smallest denormal to +0" },
		{ 0x00008000, 0x0000, "denormal tie, even: down" },
		{ 0x00018000, 0x0002, "denormal tie, odd: up" },
		{ 0x0000C000, 0x0001, "denormal above the tie: up" },
		{ 0x007FFFFF, 0x0080, "largest denormal rounds to the smallest normal" },
		{ 0x80000000, 0x8000, "-0 stays -0" },
		{ 0x7F7FFFFF, 0x7F80, "largest finite fp32 overflows to inf" },
		{ 0x7F800000, 0x7F80, "inf" },
		{ 0xFF800000, 0xFF80, "-inf" },
		{ 0x7FC00000, 0x7FC0, "quiet NaN" },
		{ 0x7F800001, 0x7FC0, "NaN with only a low payload bit stays NaN" },
		{ 0xFF800001, 0xFFC0, "negative NaN stays NaN, sign kept" },
	};
	int all = 1;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint16_t got = train_f32_to_bf16(float_of(cases[i].in));

		if (!is_int(got, cases[i].out, "bf16(%08x) = %04x: %s", cases[i].in, cases[i].out, cases[i].what))
			all = 0;
	}
	for (uint32_t h = 0; h < 0x10000 && all; h++) {
		float f = train_bf16_to_f32((uint16_t)h);

		if (bits_of(f) != h << 16 || (!isnan(f) && train_f32_to_bf16(f) != h) ||
		    (isnan(f) && !isnan(train_bf16_to_f32(train_f32_to_bf16(f)))))
			all = 0;
	}
	ok(all, "every bf16 value widens exactly and rounds back to itself (NaNs to NaN)");
	is_int(train_shape_elems(2, (const int64_t[]){ INT64_MAX / 2, 3 }), -1, "shape product overflow is -1");
	is_int(train_shape_elems(1, (const int64_t[]){ -1 }), -1, "a negative dimension is -1");
	is_int(train_shape_elems(0, NULL), 1, "a scalar has one element");
}

/* ---- write and read ---- */

static void test_round_trips(void)
{
	struct train_tensor t[NT], want[NT], got[NT];
	struct ling_err err;
	int rc;

	fixed_tensors(t, 0);
	ling_err_clear(&err);
	rc = train_st_write(at(0, "f32.safetensors"), t, NT, TRAIN_F32, &err);
	is_int(rc, 0, "write f32 %s", err.msg);
	blank_tensors(got);
	rc = train_ckpt_read(at(0, "f32.safetensors"), got, NT, 0, &err);
	is_int(rc, 0, "read f32 %s", err.msg);
	ok(same_bits(got, t, NT, 0), "f32 round trip is bit for bit (denormals, inf, NaN payloads, -0)");
	free_tensors(got, NT);

	rc = train_st_write(at(0, "bf16.safetensors"), t, NT, TRAIN_BF16, &err);
	is_int(rc, 0, "write bf16 %s", err.msg);
	blank_tensors(got);
	fixed_tensors(want, 1);
	rc = train_ckpt_read(at(0, "bf16.safetensors"), got, NT, 0, &err);
	is_int(rc, 0, "read bf16 %s", err.msg);
	ok(same_bits(got, want, NT, 0), "bf16 round trip gives exactly the rounded values");
	is_int(bits_of(got[4].data[2]), 0x3F800000, "the tie 0x3F808000 came back as 1.0");
	is_int(bits_of(got[4].data[3]), 0x3F820000, "the tie 0x3F818000 came back as 0x3F820000");
	ok(isnan(got[4].data[6]) && isnan(got[4].data[9]), "NaNs came back as NaN");
	free_tensors(got, NT);
	free_tensors(want, NT);
	free_tensors(t, NT);
}

/* A tensor of several pages reads the same after train_st_drop gave its pages back. */
static void test_drop(void)
{
	enum { N = 1 << 14 };
	float *x = malloc(N * sizeof(float)), *y = malloc(N * sizeof(float)), *z = malloc(N * sizeof(float));
	struct train_tensor big = { "big", 1, { N }, x };
	struct train_st_file *f = NULL;
	const struct train_st_entry *e;
	struct ling_err err;

	for (int i = 0; i < N; i++)
		x[i] = (float)i * 0.25f;
	ling_err_clear(&err);
	train_st_write(at(0, "big.safetensors"), &big, 1, TRAIN_F32, &err);
	ok(!train_st_open(&f, at(0, "big.safetensors"), &err) && (e = train_st_find(f, "big")) &&
		   !train_st_read_f32(f, e, y, &err) && (train_st_drop(f, e), !train_st_read_f32(f, e, z, &err)) &&
		   !memcmp(x, y, N * sizeof(float)) && !memcmp(x, z, N * sizeof(float)),
	   "a 64 KiB tensor reads the same before and after its pages were dropped");
	train_st_close(f);
	free(x);
	free(y);
	free(z);
}

/* The exact bytes of a one-tensor file, and the key order and layout of a larger one. */
static void test_header_layout(void)
{
	static const char want[] = "{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
				   "\"data_offsets\":[0,4]}}   ";
	float one = 1.0f;
	struct train_tensor a = { "a", 1, { 1 }, &one }, t[NT];
	struct train_st_file *f;
	struct ling_err err;
	const char *key;
	json_t *hdr, *v;
	size_t len, hlen;
	char *blob;
	int sorted = 1, tiled = 1;
	uint64_t pos = 0;

	ling_err_clear(&err);
	train_st_write(at(0, "one.safetensors"), &a, 1, TRAIN_F32, &err);
	blob = slurp(at(0, "one.safetensors"), &len);
	hlen = sizeof(want) - 1;
	ok(len == 8 + hlen + 4 && blob && (unsigned char)blob[0] == hlen && !blob[1] && !blob[7],
	   "one tensor: 8-byte little-endian length %zu, header, 4 data bytes", hlen);
	is_mem(blob ? blob + 8 : NULL, len >= 8 + hlen ? hlen : 0, want, hlen,
	       "one tensor: the header is __metadata__ first, compact, padded with spaces to 8");
	ok(blob && !memcmp(blob + 8 + hlen, "\0\0\x80\x3f", 4), "one tensor: the data is 1.0f little-endian");
	free(blob);

	fixed_tensors(t, 0);
	train_st_write(at(0, "many.safetensors"), t, NT, TRAIN_BF16, &err);
	blob = slurp(at(0, "many.safetensors"), &len);
	hlen = 0;
	for (int i = 0; i < 8 && len >= 8; i++)
		hlen |= (size_t)(unsigned char)blob[i] << (8 * i);
	ok(hlen % 8 == 0 && blob[8 + hlen - 1] != '\0', "the header length %zu is a multiple of 8", hlen);
	hdr = json_loadb(blob + 8, hlen, 0, NULL);
	key = NULL;
	for (void *it = json_object_iter(hdr); it; it = json_object_iter_next(hdr, it)) {
		const char *k = json_object_iter_key(it);

		if (key && strcmp(key, k) >= 0)
			sorted = 0;
		key = k;
		v = json_object_get(json_object_iter_value(it), "data_offsets");
		if (strcmp(k, "__metadata__")) {
			tiled &= json_integer_value(json_array_get(v, 0)) == (json_int_t)pos;
			pos = (uint64_t)json_integer_value(json_array_get(v, 1));
		}
	}
	ok(sorted && !strcmp(json_object_iter_key(json_object_iter(hdr)), "__metadata__"),
	   "header keys in string order, __metadata__ first");
	ok(tiled && pos == len - 8 - hlen, "data in name order, contiguous, up to the end of the file");
	json_decref(hdr);
	free(blob);
	ok(!train_st_open(&f, at(0, "many.safetensors"), &err) && f, "the file opens");
	is_str(f ? train_st_metadata(f, "format") : NULL, "pt", "metadata format is pt");
	ok(f && train_st_count(f) == NT && !strcmp(train_st_entry_at(f, 0)->name, "lm_head.weight") &&
		   !strcmp(train_st_entry_at(f, 0)->dtype, "BF16"),
	   "entries in name order with their dtype");
	train_st_close(f);
	free_tensors(t, NT);
	test_drop();
}

static void test_write_refusals(void)
{
	float x = 0;
	struct train_tensor dup[2] = { { "w", 1, { 1 }, &x }, { "w", 1, { 1 }, &x } };
	struct train_tensor meta = { "__metadata__", 1, { 1 }, &x }, neg = { "n", 1, { -2 }, &x };
	struct train_tensor bad_utf8 = { "\xff\xfe", 1, { 1 }, &x };
	struct ling_err err;

	ling_err_clear(&err);
	is_int(train_st_write(at(0, "dup.safetensors"), dup, 2, TRAIN_F32, &err), LING_EUSAGE, "a name given twice is refused");
	ok(strstr(err.msg, "w: the name is given twice") != NULL, "... naming it: %s", err.msg);
	is_int(train_st_write(at(0, "meta.safetensors"), &meta, 1, TRAIN_F32, &err), LING_EUSAGE, "__metadata__ as a name is refused");
	is_int(train_st_write(at(0, "neg.safetensors"), &neg, 1, TRAIN_F32, &err), LING_EUSAGE, "a negative dimension is refused");
	is_int(train_st_write(at(0, "utf8.safetensors"), &bad_utf8, 1, TRAIN_F32, &err), LING_EUSAGE,
	       "a name that is not UTF-8 is refused");
	ok(!exists(at(0, "dup.safetensors")) && !exists(at(1, "utf8.safetensors")), "refused writes leave no file");
	is_int(train_st_write(at(0, "no/such/dir/x.safetensors"), &neg + 0, 0, TRAIN_F32, &err), LING_EIO,
	       "a directory that does not exist is LING_EIO");
}

/* ---- checkpoints ---- */

static void test_sharded(void)
{
	struct train_tensor t[NT], got[NT];
	struct train_tensor_info *info;
	struct ling_err err;
	size_t n, len;
	char *text;
	json_t *idx;
	int rc;

	fixed_tensors(t, 0);
	ling_err_clear(&err);
	/* f32 sizes in order: 80, 128, 48, 16, 40, 80 bytes; at 150 bytes: [80] [128] [48 16 40] [80]. */
	rc = train_ckpt_write(at(0, "sharded"), "{\"model_type\":\"bailing_moe\"}", t, NT, TRAIN_F32, 150, &err);
	is_int(rc, 0, "sharded write %s", err.msg);
	ok(exists(at(0, "sharded/model-00001-of-00004.safetensors")) &&
		   exists(at(1, "sharded/model-00004-of-00004.safetensors")) &&
		   !exists(at(2, "sharded/model-00005-of-00004.safetensors")) && !exists(at(3, "sharded/model.safetensors")),
	   "four shards named as HF names them, no single file");
	text = slurp(at(0, "sharded/model.safetensors.index.json"), &len);
	idx = text ? json_loads(text, 0, NULL) : NULL;
	is_int(json_integer_value(json_object_get(json_object_get(idx, "metadata"), "total_size")), 392,
	       "index total_size is the bytes of all tensors");
	is_str(json_string_value(json_object_get(json_object_get(idx, "weight_map"), "specials")),
	       "model-00003-of-00004.safetensors", "weight_map puts a tensor in the shard HF's rule gives");
	ok(text && strstr(text, "{\n  \"metadata\": {\n    \"total_size\": 392\n  },\n  \"weight_map\": {\n    \"lm_head.weight\"") &&
		   text[len - 1] == '\n',
	   "index written as HF does: indent 2, sorted keys, a final newline");
	json_decref(idx);
	free(text);
	text = slurp(at(0, "sharded/config.json"), &len);
	is_str(text, "{\"model_type\":\"bailing_moe\"}", "config.json is the given text");
	free(text);

	blank_tensors(got);
	rc = train_ckpt_read(at(0, "sharded"), got, NT, 0, &err);
	is_int(rc, 0, "sharded read %s", err.msg);
	ok(same_bits(got, t, NT, 0), "sharded round trip is bit for bit");
	free_tensors(got, NT);

	blank_tensors(got);
	rc = train_ckpt_read(at(0, "sharded/model.safetensors.index.json"), got, NT, 0, &err);
	ok(!rc && same_bits(got, t, NT, 0), "the index path itself reads the same %s", err.msg);
	free_tensors(got, NT);

	rc = train_ckpt_list(at(0, "sharded"), &info, &n, &err);
	ok(!rc && n == NT && !strcmp(info[0].name, "lm_head.weight") && info[0].dtype == TRAIN_F32 &&
		   info[0].ndim == 2 && info[0].shape[0] == 5 && info[0].shape[1] == 4 &&
		   !strcmp(info[NT - 1].name, "specials"),
	   "list gives every tensor in name order with dtype and shape");
	train_ckpt_list_free(info, n);

	rc = train_ckpt_write(at(0, "single"), "{}", t, NT, TRAIN_BF16, 1 << 20, &err);
	ok(!rc && exists(at(0, "single/model.safetensors")) && !exists(at(1, "single/model.safetensors.index.json")),
	   "tensors under max_shard_bytes: one model.safetensors, no index");
	rc = train_ckpt_write(at(0, "one-each"), "{}", t, NT, TRAIN_BF16, 1, &err);
	ok(!rc && exists(at(0, "one-each/model-00006-of-00006.safetensors")),
	   "a tensor larger than max_shard_bytes gets a shard of its own");
	free_tensors(t, NT);
}

static void test_read_mismatches(void)
{
	struct train_tensor t[NT], one;
	struct ling_err err;
	int64_t ids[2] = { 7, -7 };
	char blob[200];
	int rc, n;

	fixed_tensors(t, 0);
	ling_err_clear(&err);
	train_ckpt_write(at(0, "ck"), "{}", t, NT, TRAIN_F32, 0, &err);
	t[1].shape[0] = 9;
	rc = train_ckpt_read(at(0, "ck"), t, NT, 0, &err);
	ok(rc == LING_EDATA && !strcmp(err.file, at(0, "ck/model.safetensors")) &&
		   strstr(err.msg, "model.layers.0.attention.query_key_value.weight: shape [8, 4] in the file, [9, 4] expected"),
	   "a shape mismatch names the tensor, file and both shapes: %s", err.msg);
	t[1].shape[0] = 8;
	rc = train_ckpt_read(at(0, "ck"), t, NT - 1, 0, &err);
	ok(rc == LING_EDATA && strstr(err.msg, "lm_head.weight: not a parameter of this model"),
	   "a tensor the model lacks is refused without allow_extra: %s", err.msg);
	rc = train_ckpt_read(at(0, "ck"), t, NT - 1, 1, &err);
	is_int(rc, 0, "... and ignored with allow_extra");
	one = t[0];
	one.name = "model.missing.weight";
	rc = train_ckpt_read(at(0, "ck"), &one, 1, 1, &err);
	ok(rc == LING_EDATA && strstr(err.msg, "model.missing.weight: not in the checkpoint"),
	   "a missing tensor is named: %s", err.msg);
	free_tensors(t, NT);

	n = snprintf(blob + 8, sizeof(blob) - 8, "{\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}");
	for (int i = 0; i < 8; i++)
		blob[i] = (char)(i == 0 ? n : 0);
	memcpy(blob + 8 + n, ids, 16);
	spew(at(0, "i64.safetensors"), blob, (size_t)(8 + n + 16));
	one.name = "ids";
	one.ndim = 1;
	one.shape[0] = 2;
	one.data = (float[2]){ 0 };
	rc = train_ckpt_read(at(0, "i64.safetensors"), &one, 1, 0, &err);
	ok(rc == LING_EDATA && strstr(err.msg, "tensor ids has dtype I64"), "an I64 tensor is refused by name and dtype: %s",
	   err.msg);
}

/* ---- corrupt files ---- */

/* Writes a file of header length hlen (taken from the text when ~0), header text, then data bytes. */
static const char *craft(const char *name, uint64_t hlen, const char *header, size_t data)
{
	const char *path = at(3, name);
	size_t n = strlen(header);
	char *blob = calloc(1, 8 + n + data + 1);

	if (hlen == ~0ULL)
		hlen = n;
	for (int i = 0; i < 8; i++)
		blob[i] = (char)(hlen >> (8 * i));
	memcpy(blob + 8, header, n);
	spew(path, blob, 8 + n + data);
	free(blob);
	return path;
}

static void expect_bad(const char *path, const char *what, const char *msg_part)
{
	struct train_st_file *f = NULL;
	struct ling_err err;
	int rc;

	ling_err_clear(&err);
	rc = train_st_open(&f, path, &err);
	ok(rc == LING_EDATA && !f && !strcmp(err.file, path) && strstr(err.msg, msg_part), "%s: %s", what, err.msg);
	train_st_close(f);
}

#define E(name, dtype, shape, off) "\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":" off "}"

static void test_corrupt_files(void)
{
	char nul_header[] = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";

	spew(at(0, "short.safetensors"), "\x10\0\0", 3);
	expect_bad(at(0, "short.safetensors"), "a 3-byte file", "shorter than the 8-byte header length");
	expect_bad(craft("past.safetensors", 4096, "{}", 0), "header length past the end", "runs past the end of the file");
	expect_bad(craft("huge.safetensors", 0xFFFFFFFFFFFFFFF0ULL, "{}", 0), "an absurd header length",
		   "over the 100000000-byte limit");
	expect_bad(craft("array.safetensors", ~0ULL, "[1,2]", 0), "a JSON array header", "not a JSON object");
	expect_bad(craft("badjson.safetensors", ~0ULL, "{\"a\":", 0), "truncated JSON", "bad JSON header");
	expect_bad(craft("entry.safetensors", ~0ULL, "{\"a\":[1]}", 0), "an entry that is not an object",
		   "tensor a: its entry is not an object");
	expect_bad(craft("nodtype.safetensors", ~0ULL, "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
		   "an entry without dtype", "tensor a: no \"dtype\"");
	expect_bad(craft("noshape.safetensors", ~0ULL, "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4),
		   "an entry without shape", "tensor a: no \"shape\"");
	expect_bad(craft("nooff.safetensors", ~0ULL, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4),
		   "an entry without data_offsets", "tensor a: no \"data_offsets\"");
	expect_bad(craft("dtype.safetensors", ~0ULL, "{" E("a", "Q4", "[1]", "[0,1]") "}", 1), "an unknown dtype",
		   "tensor a: unknown dtype \"Q4\"");
	expect_bad(craft("neg.safetensors", ~0ULL, "{" E("a", "F32", "[-1]", "[0,4]") "}", 4), "a negative dimension",
		   "tensor a: shape[0] is not a non-negative integer");
	expect_bad(craft("real.safetensors", ~0ULL, "{" E("a", "F32", "[1.5]", "[0,4]") "}", 4), "a fractional dimension",
		   "tensor a: shape[0] is not a non-negative integer");
	expect_bad(craft("bigdim.safetensors", ~0ULL, "{" E("a", "F32", "[99999999999999999999]", "[0,4]") "}", 4),
		   "a dimension past 64 bits", "bad JSON header");
	expect_bad(craft("overflow.safetensors", ~0ULL, "{" E("a", "F32", "[4294967296,4294967296,16]", "[0,4]") "}", 4),
		   "a shape whose product overflows", "tensor a: the shape's size overflows");
	expect_bad(craft("5d.safetensors", ~0ULL, "{" E("a", "F32", "[1,1,1,1,1]", "[0,4]") "}", 4), "five dimensions",
		   "tensor a: 5 dimensions (at most 4)");
	expect_bad(craft("size.safetensors", ~0ULL, "{" E("a", "F32", "[2,3]", "[0,12]") "}", 12),
		   "data_offsets not dtype x shape", "tensor a: data_offsets [0, 12] hold 12 bytes but F32 x 6 elements need 24");
	expect_bad(craft("outside.safetensors", ~0ULL, "{" E("a", "F32", "[2]", "[4,12]") "}", 8),
		   "offsets past the data area", "tensor a: data_offsets [4, 12] run past the data area (8 bytes)");
	expect_bad(craft("reversed.safetensors", ~0ULL, "{" E("a", "F32", "[0]", "[8,4]") "}", 8), "begin after end",
		   "tensor a: \"data_offsets\" is not [begin, end]");
	expect_bad(craft("overlap.safetensors", ~0ULL, "{" E("a", "F32", "[2]", "[0,8]") "," E("b", "F32", "[2]", "[4,12]") "}", 12),
		   "overlapping tensors", "tensor b: data_offsets [4, 12] overlap tensor a");
	expect_bad(craft("gap.safetensors", ~0ULL, "{" E("a", "F32", "[1]", "[0,4]") "," E("b", "F32", "[1]", "[8,12]") "}", 12),
		   "a gap between tensors", "tensor b: data_offsets start at 8, leaving a gap after byte 4");
	expect_bad(craft("tail.safetensors", ~0ULL, "{" E("a", "F32", "[1]", "[0,4]") "}", 9), "trailing data",
		   "the data area has 9 bytes but the tensors cover 4");
	expect_bad(craft("trunc.safetensors", ~0ULL, "{" E("a", "F32", "[4]", "[0,16]") "}", 10), "truncated data",
		   "tensor a: data_offsets [0, 16] run past the data area (10 bytes)");
	expect_bad(craft("dup.safetensors", ~0ULL, "{" E("a", "F32", "[1]", "[0,4]") "," E("a", "F32", "[1]", "[4,8]") "}", 8),
		   "a duplicate name", "duplicate object key");
	expect_bad(craft("meta.safetensors", ~0ULL, "{\"__metadata__\":{\"format\":1}}", 0), "a metadata value not a string",
		   "\"__metadata__\" key format is not a string");
	expect_bad(craft("meta2.safetensors", ~0ULL, "{\"__metadata__\":[]}", 0), "metadata not an object",
		   "\"__metadata__\" is not an object");
	nul_header[20] = '\0';
	spew(at(0, "nul.safetensors"), "\x37\0\0\0\0\0\0\0", 8);
	{
		FILE *fp = fopen(at(0, "nul.safetensors"), "ab");

		if (fp) {
			fwrite(nul_header, 1, 0x37, fp);
			fwrite("\0\0\0\0", 1, 4, fp);
			fclose(fp);
		}
	}
	expect_bad(at(0, "nul.safetensors"), "a NUL byte in the header", "a NUL byte in the JSON header");
	{
		struct train_st_file *f = NULL;
		struct ling_err err;

		ling_err_clear(&err);
		is_int(train_st_open(&f, craft("empty.safetensors", ~0ULL, "{}      ", 0), &err), 0,
		       "a header with no tensors, padded with spaces, is a valid empty file");
		ok(f && train_st_count(f) == 0 && !train_st_find(f, "a") && !train_st_metadata(f, "format"),
		   "... with nothing in it");
		train_st_close(f);
		is_int(train_st_open(&f, at(0, "no-such.safetensors"), &err), LING_EIO, "a missing file is LING_EIO");
	}
}

/* ---- corrupt indexes ---- */

static int write_text(const char *path, const char *text)
{
	spew(path, text, strlen(text));
	return 0;
}

static void expect_bad_ckpt(const char *dir, const char *what, const char *file, const char *msg_part)
{
	struct train_tensor_info *info = NULL;
	struct ling_err err;
	size_t n = 0;
	int rc;

	ling_err_clear(&err);
	rc = train_ckpt_list(dir, &info, &n, &err);
	ok(rc == LING_EDATA && !info && !n && strstr(err.file, file) && strstr(err.msg, msg_part), "%s: %s: %s", what,
	   err.file, err.msg);
}

static void test_corrupt_indexes(void)
{
	struct train_tensor t[NT];
	struct ling_err err;
	const char *idx = at(1, "bad/model.safetensors.index.json");

	fixed_tensors(t, 0);
	ling_err_clear(&err);
	train_ckpt_write(at(0, "bad"), "{}", t, NT, TRAIN_F32, 150, &err);
	free_tensors(t, NT);

	write_text(idx, "[]");
	expect_bad_ckpt(at(0, "bad"), "an index that is not an object", "index.json", "not a JSON object");
	write_text(idx, "{\"metadata\":{}}");
	expect_bad_ckpt(at(0, "bad"), "an index without weight_map", "index.json", "no \"weight_map\" object");
	write_text(idx, "{\"weight_map\":{\"a\":\"model-00009-of-00009.safetensors\"}}");
	expect_bad_ckpt(at(0, "bad"), "a missing shard", "index.json", "shard model-00009-of-00009.safetensors is missing");
	write_text(idx, "{\"weight_map\":{\"a\":\"../bad/model-00001-of-00004.safetensors\"}}");
	expect_bad_ckpt(at(0, "bad"), "a shard path with ..", "index.json", "tensor a: the weight_map's value is not a plain file name");
	write_text(idx, "{\"weight_map\":{\"a\":\"..\"}}");
	expect_bad_ckpt(at(0, "bad"), "a shard named ..", "index.json", "not a plain file name");
	write_text(idx, "{\"weight_map\":{\"a\":\"sub/x.safetensors\"}}");
	expect_bad_ckpt(at(0, "bad"), "a shard path with /", "index.json", "not a plain file name");
	write_text(idx, "{\"weight_map\":{\"nope\":\"model-00001-of-00004.safetensors\"}}");
	expect_bad_ckpt(at(0, "bad"), "a mapped tensor its shard lacks", "model-00001-of-00004.safetensors",
			"tensor nope: the index maps it to this shard, which does not hold it");
	write_text(idx, "{\"weight_map\":{}}");
	expect_bad_ckpt(at(0, "bad"), "an empty weight_map", "index.json", "the weight_map is empty");
	write_text(idx, "{\"weight_map\":{\"model.word_embeddings.weight\":\"model-00002-of-00004.safetensors\"}}");
	expect_bad_ckpt(at(0, "bad"), "a tensor mapped to the wrong shard", "model-00002-of-00004.safetensors",
			"does not hold it");
	write_text(idx, "{\"weight_map\":{\"model.word_embeddings.weight\":\"model-00001-of-00004.safetensors\","
			"\"model.word_embeddings.weight\":\"model-00001-of-00004.safetensors\"}}");
	expect_bad_ckpt(at(0, "bad"), "a name twice in the map", "index.json", "duplicate object key");
	write_text(idx, "{\"weight_map\":{\"model.word_embeddings.weight\":\"model-00001-of-00004.safetensors\","
			"\"lm_head.weight\":\"model-00004-of-00004.safetensors\","
			"\"model.norm.weight\":\"model-00003-of-00004.safetensors\"}}");
	expect_bad_ckpt(at(0, "bad"), "a shard tensor the index does not map", "model-00003-of-00004.safetensors",
			"in this shard but the index does not map it here");
	write_text(idx, "{\"metadata\":{\"total_size\":-1},\"weight_map\":{\"a\":\"x\"}}");
	expect_bad_ckpt(at(0, "bad"), "a negative total_size", "index.json", "total_size");
	unlink(idx);
	expect_bad_ckpt(at(0, "bad"), "a directory with neither file", "bad", "no model.safetensors or model.safetensors.index.json");
}

/* ---- atomic replace ---- */

static int count_temp_dirs(void)
{
	DIR *d = opendir(tmp);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n += strstr(de->d_name, ".tmp-") != NULL || strstr(de->d_name, ".old-") != NULL;
	if (d)
		closedir(d);
	return n;
}

static void test_atomic_replace(void)
{
	struct train_tensor t[NT], got[NT], dup[2];
	struct ling_err err;
	size_t len;
	char *text;
	int rc;

	fixed_tensors(t, 0);
	ling_err_clear(&err);
	rc = train_ckpt_write(at(0, "ckpt/"), "{\"v\":1}", t, NT, TRAIN_F32, 150, &err);
	is_int(rc, 0, "a new checkpoint directory (trailing slash) %s", err.msg);
	ok(train_ckpt_is_dir(at(0, "ckpt")), "it is a checkpoint directory");
	spew(at(0, "ckpt/generation_config.json"), "{}", 2);
	t[0].data[0] = 42.0f;
	rc = train_ckpt_write(at(0, "ckpt"), "{\"v\":2}", t, NT, TRAIN_BF16, 0, &err);
	is_int(rc, 0, "an existing checkpoint is replaced %s", err.msg);
	text = slurp(at(0, "ckpt/config.json"), &len);
	is_str(text, "{\"v\":2}", "... with the new config");
	free(text);
	ok(exists(at(0, "ckpt/model.safetensors")) && !exists(at(1, "ckpt/model.safetensors.index.json")) &&
		   !exists(at(2, "ckpt/model-00001-of-00004.safetensors")) && !exists(at(3, "ckpt/generation_config.json")),
	   "... and none of the old files is left (shards, index, others)");
	blank_tensors(got);
	ok(!train_ckpt_read(at(0, "ckpt"), got, NT, 0, &err) && got[0].data[0] == 42.0f, "... with the new weights");
	free_tensors(got, NT);
	is_int(count_temp_dirs(), 0, "no temporary directory is left behind");

	mkdir(at(0, "notckpt"), 0777);
	spew(at(0, "notckpt/precious.txt"), "keep", 4);
	rc = train_ckpt_write(at(0, "notckpt"), "{}", t, NT, TRAIN_F32, 0, &err);
	ok(rc == LING_EUSAGE && strstr(err.msg, "not a checkpoint directory") && exists(at(1, "notckpt/precious.txt")),
	   "a directory that is not a checkpoint is refused and kept: %s", err.msg);
	spew(at(0, "afile"), "x", 1);
	rc = train_ckpt_write(at(0, "afile"), "{}", t, NT, TRAIN_F32, 0, &err);
	ok(rc == LING_EUSAGE && strstr(err.msg, "not a directory"), "a regular file is refused: %s", err.msg);
	mkdir(at(0, "empty"), 0777);
	rc = train_ckpt_write(at(0, "empty"), "{}", t, 1, TRAIN_F32, 0, &err);
	ok(!rc && train_ckpt_is_dir(at(0, "empty")), "an empty directory is taken over %s", err.msg);

	dup[0] = t[0];
	dup[1] = t[0];
	rc = train_ckpt_write(at(0, "ckpt"), "{\"v\":3}", dup, 2, TRAIN_F32, 100, &err);
	ok(rc == LING_EUSAGE && strstr(err.msg, "the name is given twice"), "a name given twice across shards is refused");
	text = slurp(at(0, "ckpt/config.json"), &len);
	is_str(text, "{\"v\":2}", "a failed write leaves the old checkpoint as it was");
	free(text);
	rc = train_ckpt_write(at(0, "ckpt"), "not json", t, NT, TRAIN_F32, 0, &err);
	is_int(rc, LING_EUSAGE, "a config that is not a JSON object is refused");
	is_int(count_temp_dirs(), 0, "failed writes leave no temporary directory");
	free_tensors(t, NT);
}

/* ---- interop with an independent reader and writer ---- */

/* Runs the peer script; @return its exit status (77: package missing), output in out. */
static int peer(const char *args, char **out)
{
	const char *root = getenv("LING_ROOT"), *py = getenv("LING_PYTHON");
	struct ling_buf cmd = LING_BUF_INIT, text = LING_BUF_INIT;
	char buf[4096];
	size_t n;
	FILE *p;
	int st;

	ling_buf_addf(&cmd, "'%s' '%s/tests/tools/safetensors_peer.py' %s 2>&1", py ? py : "/usr/bin/python3",
		      root ? root : ".", args);
	p = popen(cmd.data, "r");
	while (p && (n = fread(buf, 1, sizeof(buf), p)) > 0)
		ling_buf_add(&text, buf, n);
	st = p ? pclose(p) : -1;
	while (text.len && text.data[text.len - 1] == '\n')
		ling_buf_truncate(&text, text.len - 1);
	ling_buf_release(&cmd);
	*out = text.data ? text.data : xstrdup("");
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* What the peer prints for the fixed tensors written in dtype. */
static char *peer_listing(enum train_dtype dtype)
{
	static const int order[NT] = { 5, 1, 2, 3, 0, 4 }; /* name order */
	struct ling_buf b = LING_BUF_INIT;

	for (int j = 0; j < NT; j++) {
		int k = order[j];

		ling_buf_addf(&b, "%s %s [", names[k], dtype == TRAIN_F32 ? "F32" : "BF16");
		for (int d = 0; d < ndims[k]; d++)
			ling_buf_addf(&b, "%s%lld", d ? "," : "", (long long)shapes[k][d]);
		ling_buf_addc(&b, ']');
		for (int64_t i = 0; i < train_shape_elems(ndims[k], shapes[k]); i++)
			if (dtype == TRAIN_F32)
				ling_buf_addf(&b, " %08x", bits_of(value(k, i)));
			else
				ling_buf_addf(&b, " %04x", train_f32_to_bf16(value(k, i)));
		ling_buf_addc(&b, '\n');
	}
	ling_buf_truncate(&b, b.len - 1); /* as peer() gives it */
	return b.data;
}

/* Writes t as we do, beside dir, and compares every weight file and the index with dir's, byte for byte. */
static int same_files_as_ours(const char *dir, const struct train_tensor *t, enum train_dtype dtype, uint64_t max)
{
	const char *ours = at(1, "ours-same");
	struct ling_err err;
	struct dirent *de;
	int same = 1, files = 0;
	DIR *d;

	ling_err_clear(&err);
	remove_tree(ours);
	if (train_ckpt_write(ours, "{}", t, NT, dtype, max, &err) || !(d = opendir(dir)))
		return 0;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "model", 5)) {
			struct ling_buf a = LING_BUF_INIT, b = LING_BUF_INIT;
			size_t alen, blen;
			char *x, *y;

			ling_buf_addf(&a, "%s/%s", dir, de->d_name);
			ling_buf_addf(&b, "%s/%s", ours, de->d_name);
			x = slurp(a.data, &alen);
			y = slurp(b.data, &blen);
			if (!x || !y || alen != blen || memcmp(x, y, alen)) {
				diag("%s differs from ours", a.data);
				same = 0;
			}
			files++;
			free(x);
			free(y);
			ling_buf_release(&a);
			ling_buf_release(&b);
		}
	closedir(d);
	return same && files > 0;
}

static void test_interop(void)
{
	static const char *const readers[] = { "read", "read-lib" }, *const writers[] = { "write", "write-lib" };
	struct train_tensor t[NT], got[NT], want[NT];
	struct ling_buf args = LING_BUF_INIT;
	struct ling_err err;
	char *out, *listing;
	int rc;

	ling_buf_addf(&args, "%s/tests/tools/safetensors_peer.py", getenv("LING_ROOT") ? getenv("LING_ROOT") : ".");
	if (!exists(args.data) || peer("no-such-command", &out) == 127) {
		diag("SKIP interop: no %s (set LING_ROOT) or no python3 to run it", args.data);
		ling_buf_release(&args);
		return;
	}
	free(out);
	fixed_tensors(t, 0);
	ling_err_clear(&err);
	for (int dt = 0; dt < 2; dt++) {
		enum train_dtype dtype = dt ? TRAIN_BF16 : TRAIN_F32;
		const char *dir = at(0, dt ? "ours-bf16" : "ours-f32");

		train_ckpt_write(dir, "{}", t, NT, dtype, dt ? 0 : 150, &err);
		listing = peer_listing(dtype);
		for (int r = 0; r < 2; r++) {
			ling_buf_reset(&args);
			ling_buf_addf(&args, "%s '%s'", readers[r], dir);
			rc = peer(args.data, &out);
			if (rc == 77)
				diag("SKIP %s: %s", readers[r], out);
			else if (!is_str(out, listing, "our %s checkpoint (%s) read by the peer's %s: same names, shapes, bits",
					 dt ? "bf16 single" : "f32 sharded", dir, readers[r]))
				diag("exit %d", rc);
			free(out);
		}
		free(listing);
	}
	for (int w = 0; w < 2; w++)
		for (int v = 0; v < 4; v++) {
			enum train_dtype dtype = v & 1 ? TRAIN_BF16 : TRAIN_F32;
			const char *dir = at(0, "theirs");

			remove_tree(dir);
			ling_buf_reset(&args);
			ling_buf_addf(&args, "%s '%s' %s %d", writers[w], dir, v & 1 ? "bf16" : "f32", v & 2 ? 100 : 0);
			rc = peer(args.data, &out);
			if (rc == 77) {
				diag("SKIP %s: %s", writers[w], out);
				free(out);
				break;
			}
			if (rc)
				diag("peer %s: exit %d: %s", args.data, rc, out);
			free(out);
			blank_tensors(got);
			fixed_tensors(want, dtype == TRAIN_BF16);
			rc = train_ckpt_read(dir, got, NT, 0, &err);
			/* torch turns every NaN into 0x7FC0: a NaN is all that can be asked of a bf16 NaN */
			ok(!rc && same_bits(got, want, NT, dtype == TRAIN_BF16),
			   "the peer's %s checkpoint (%s, %s) read by us: %s", writers[w], dtype == TRAIN_BF16 ? "bf16" : "f32",
			   v & 2 ? "sharded" : "single", rc ? err.msg : "same bits");
			free_tensors(got, NT);
			free_tensors(want, NT);
			/* torch writes every bf16 NaN as 0x7FC0, we keep the sign: only f32 can be compared there */
			if (w == 0 || dtype == TRAIN_F32)
				ok(same_files_as_ours(dir, t, dtype, v & 2 ? 100 : 0),
				   "our writer gives the same bytes as the peer's %s (%s, %s)", writers[w],
				   dtype == TRAIN_BF16 ? "bf16" : "f32", v & 2 ? "sharded" : "single");
		}
	ling_buf_release(&args);
	free_tensors(t, NT);
}

int main(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmp, sizeof(tmp), "%s/ling-train-st.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmp)) {
		printf("1..0 # SKIP cannot create a temporary directory\n");
		return 0;
	}
	test_bf16_rounding();
	test_round_trips();
	test_header_layout();
	test_write_refusals();
	test_sharded();
	test_read_mismatches();
	test_corrupt_files();
	test_corrupt_indexes();
	test_atomic_replace();
	test_interop();
	remove_tree(tmp);
	return done_testing();
}
