/*
 * train_ckpt: checkpoint directories, single-file or sharded as HF's
 * save_pretrained writes them (transformers' shard_checkpoint: tensors in
 * model order, a new shard when the next tensor would not fit; the index
 * written with indent 2 and sorted keys). See train.h.
 */
#include "train_safetensors_internal.h"

#include "../common/ling_file.h"
#include "../common/ling_mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/banned.h"

#define SINGLE_NAME "model.safetensors"
#define INDEX_NAME "model.safetensors.index.json"
/* An index lists every tensor once: even Ling-Plus's is well under a megabyte. */
#define INDEX_MAX_BYTES (100u << 20)

/* A tensor of an open checkpoint and the shard that holds it. */
struct ckpt_tensor {
	const char *name;
	const struct train_st_file *file;
	const struct train_st_entry *e;
};

struct ckpt {
	struct train_st_file **files;
	size_t nfiles;
	struct ckpt_tensor *t; /* sorted by name */
	size_t n;
};

static int by_ckpt_name(const void *a, const void *b)
{
	return strcmp(((const struct ckpt_tensor *)a)->name, ((const struct ckpt_tensor *)b)->name);
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void ckpt_close(struct ckpt *c)
{
	for (size_t i = 0; i < c->nfiles; i++)
		train_st_close(c->files[i]);
	free(c->files);
	free(c->t);
	memset(c, 0, sizeof(*c));
}

static int is_file(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static char *join(const char *dir, const char *name)
{
	struct ling_buf b = LING_BUF_INIT;

	ling_buf_addf(&b, "%s/%s", dir, name);
	return b.data;
}

/* Every tensor of one file, as the checkpoint's list. */
static int ckpt_open_single(struct ckpt *c, const char *path, struct ling_err *err)
{
	struct train_st_file *f;
	int rc;

	if ((rc = train_st_open(&f, path, err)))
		return rc;
	c->files = xmalloc(sizeof(*c->files));
	c->files[0] = f;
	c->nfiles = 1;
	c->n = train_st_count(f);
	c->t = xcalloc(c->n + 1, sizeof(*c->t));
	for (size_t i = 0; i < c->n; i++) {
		c->t[i].e = train_st_entry_at(f, i);
		c->t[i].name = c->t[i].e->name;
		c->t[i].file = f;
	}
	return 0;
}

static json_t *load_index(const char *path, struct ling_err *err)
{
	json_error_t jerr;
	struct stat sb;
	json_t *root;
	FILE *fp;

	if (stat(path, &sb) == 0 && sb.st_size > (off_t)INDEX_MAX_BYTES) {
		ling_err_at(err, LING_EDATA, path, 0, 0, "%lld bytes: too large for an index", (long long)sb.st_size);
		return NULL;
	}
	if (!(fp = fopen(path, "rb"))) {
		ling_err_at(err, LING_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	root = json_loadf(fp, JSON_REJECT_DUPLICATES, &jerr);
	fclose(fp);
	if (!root)
		ling_err_at(err, LING_EDATA, path, jerr.line, jerr.column, "bad JSON: %s", jerr.text);
	return root;
}

/* A shard name must be a plain file name in the checkpoint directory. */
static int bad_shard_name(const char *s)
{
	return !*s || strchr(s, '/') || strchr(s, '\\') || !strcmp(s, ".") || !strcmp(s, "..");
}

/* Checks the index's shape; fills the sorted, distinct shard names. */
static int check_index(const char *path, json_t *root, const char ***shards, size_t *nshards,
		       struct ling_err *err)
{
	json_t *map = json_object_get(root, "weight_map"), *meta = json_object_get(root, "metadata"), *total, *v;
	const char **names;
	const char *key;
	size_t n = 0;

	if (!json_is_object(root))
		return ling_err_at(err, LING_EDATA, path, 0, 0, "the index is not a JSON object");
	if (!json_is_object(map))
		return ling_err_at(err, LING_EDATA, path, 0, 0, "no \"weight_map\" object");
	if (!json_object_size(map))
		return ling_err_at(err, LING_EDATA, path, 0, 0, "the weight_map is empty");
	total = json_object_get(meta, "total_size");
	if (meta && (!json_is_object(meta) || (total && (!json_is_integer(total) || json_integer_value(total) < 0))))
		return ling_err_at(err, LING_EDATA, path, 0, 0, "\"metadata\" is not an object with a total_size >= 0");
	names = xmalloc((json_object_size(map) + 1) * sizeof(*names));
	json_object_foreach(map, key, v) {
		if (!json_is_string(v) || bad_shard_name(json_string_value(v))) {
			free((void *)names);
			return ling_err_at(err, LING_EDATA, path, 0, 0,
					   "tensor %s: the weight_map's value is not a plain file name in the directory", key);
		}
		names[n++] = json_string_value(v);
	}
	qsort((void *)names, n, sizeof(*names), by_str);
	*nshards = 0;
	for (size_t i = 0; i < n; i++)
		if (!*nshards || strcmp(names[i], names[*nshards - 1]))
			names[(*nshards)++] = names[i];
	*shards = names;
	return 0;
}

/* The shard named name, among the sorted shard names (files[i] is shard i). */
static const struct train_st_file *shard_of(struct ckpt *c, const char **shards, const char *name)
{
	const char **p = bsearch(&name, (void *)shards, c->nfiles, sizeof(*shards), by_str);

	return p ? c->files[p - shards] : NULL;
}

/* Every tensor of the map must be in its shard, and every shard tensor in the map, for that shard. */
static int collect_sharded(struct ckpt *c, json_t *map, const char **shards, struct ling_err *err)
{
	const char *key;
	json_t *v;

	c->t = xcalloc(json_object_size(map) + 1, sizeof(*c->t));
	json_object_foreach(map, key, v) {
		const struct train_st_file *f = shard_of(c, shards, json_string_value(v));
		const struct train_st_entry *e = train_st_find(f, key);

		if (!e)
			return ling_err_at(err, LING_EDATA, train_st_path(f), 0, 0,
					   "tensor %s: the index maps it to this shard, which does not hold it", key);
		c->t[c->n].name = e->name;
		c->t[c->n].file = f;
		c->t[c->n++].e = e;
	}
	qsort(c->t, c->n, sizeof(*c->t), by_ckpt_name);
	for (size_t i = 0; i < c->nfiles; i++)
		for (size_t j = 0; j < train_st_count(c->files[i]); j++) {
			const struct train_st_entry *e = train_st_entry_at(c->files[i], j);
			struct ckpt_tensor key_t = { e->name, NULL, NULL };
			const struct ckpt_tensor *ct = bsearch(&key_t, c->t, c->n, sizeof(key_t), by_ckpt_name);

			if (!ct || ct->file != c->files[i])
				return ling_err_at(err, LING_EDATA, train_st_path(c->files[i]), 0, 0,
						   "tensor %s: in this shard but the index does not map it here", e->name);
		}
	return 0;
}

static int ckpt_open_sharded(struct ckpt *c, const char *dir, const char *index_path, struct ling_err *err)
{
	const char **shards = NULL;
	json_t *root = load_index(index_path, err);
	size_t nshards = 0;
	int rc;

	if (!root)
		return err->code;
	if ((rc = check_index(index_path, root, &shards, &nshards, err)))
		goto out;
	c->files = xcalloc(nshards + 1, sizeof(*c->files));
	for (size_t i = 0; i < nshards && !rc; i++) {
		char *p = join(dir, shards[i]);

		if (!is_file(p))
			rc = ling_err_at(err, LING_EDATA, index_path, 0, 0, "shard %s is missing", shards[i]);
		else if (!(rc = train_st_open(&c->files[i], p, err)))
			c->nfiles++;
		free(p);
	}
	if (!rc)
		rc = collect_sharded(c, json_object_get(root, "weight_map"), shards, err);
out:
	free((void *)shards);
	json_decref(root);
	return rc;
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/*
 * Opens a checkpoint directory (single file first, as HF's from_pretrained), a .safetensors file, or
 * a DIR/model.safetensors.index.json path.
 */
static int ckpt_open(struct ckpt *c, const char *path, struct ling_err *err)
{
	char *single, *index;
	struct stat sb;
	int rc;

	memset(c, 0, sizeof(*c));
	if (stat(path, &sb) < 0)
		return ling_err_at(err, LING_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
	if (!S_ISDIR(sb.st_mode) && has_suffix(path, "/" INDEX_NAME)) {
		char *dir = xstrndup(path, strlen(path) - strlen(INDEX_NAME) - 1);

		rc = ckpt_open_sharded(c, *dir ? dir : "/", path, err);
		free(dir);
		goto out;
	}
	if (!S_ISDIR(sb.st_mode))
		return ckpt_open_single(c, path, err);
	single = join(path, SINGLE_NAME);
	index = join(path, INDEX_NAME);
	if (is_file(single))
		rc = ckpt_open_single(c, single, err);
	else if (is_file(index))
		rc = ckpt_open_sharded(c, path, index, err);
	else
		rc = ling_err_at(err, LING_EDATA, path, 0, 0, "no %s or %s in this directory", SINGLE_NAME, INDEX_NAME);
	free(single);
	free(index);
out:
	if (rc)
		ckpt_close(c);
	return rc;
}

static const struct ckpt_tensor *ckpt_find(const struct ckpt *c, const char *name)
{
	struct ckpt_tensor key = { name, NULL, NULL };

	return c->n ? bsearch(&key, c->t, c->n, sizeof(key), by_ckpt_name) : NULL;
}

static void add_shape(struct ling_buf *b, int ndim, const int64_t *shape)
{
	ling_buf_addc(b, '[');
	for (int i = 0; i < ndim; i++)
		ling_buf_addf(b, "%s%lld", i ? ", " : "", (long long)shape[i]);
	ling_buf_addc(b, ']');
}

static int same_shape(const struct train_tensor *t, const struct train_st_entry *e)
{
	if (t->ndim != e->ndim)
		return 0;
	for (int i = 0; i < t->ndim; i++)
		if (t->shape[i] != e->shape[i])
			return 0;
	return 1;
}

static int shape_error(const struct ckpt_tensor *ct, const struct train_tensor *t, struct ling_err *err)
{
	struct ling_buf b = LING_BUF_INIT;
	int rc;

	add_shape(&b, ct->e->ndim, ct->e->shape);
	ling_buf_adds(&b, " in the file, ");
	add_shape(&b, t->ndim, t->shape);
	rc = ling_err_at(err, LING_EDATA, train_st_path(ct->file), 0, 0, "tensor %s: shape %s expected", t->name,
			 b.data);
	ling_buf_release(&b);
	return rc;
}

/* Without allow_extra, every checkpoint tensor must be one that t names. */
static int check_no_extra(const struct ckpt *c, const struct train_tensor *t, size_t n, struct ling_err *err)
{
	const char **names = xmalloc((n + 1) * sizeof(*names));
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		names[i] = t[i].name;
	qsort((void *)names, n, sizeof(*names), by_str);
	for (size_t i = 0; i < c->n && !rc; i++)
		if (!n || !bsearch(&c->t[i].name, (void *)names, n, sizeof(*names), by_str))
			rc = ling_err_at(err, LING_EDATA, train_st_path(c->t[i].file), 0, 0,
					 "tensor %s: not a parameter of this model", c->t[i].name);
	free((void *)names);
	return rc;
}

int train_ckpt_read(const char *path, struct train_tensor *t, size_t n, int allow_extra, struct ling_err *err)
{
	struct ckpt c;
	int rc;

	if ((rc = ckpt_open(&c, path, err)))
		return rc;
	if (!allow_extra)
		rc = check_no_extra(&c, t, n, err);
	for (size_t i = 0; i < n && !rc; i++) {
		const struct ckpt_tensor *ct = ckpt_find(&c, t[i].name);

		if (!ct)
			rc = ling_err_at(err, LING_EDATA, path, 0, 0, "tensor %s: not in the checkpoint", t[i].name);
		else if (!same_shape(&t[i], ct->e))
			rc = shape_error(ct, &t[i], err);
		else if (!(rc = train_st_read_f32(ct->file, ct->e, t[i].data, err)))
			train_st_drop(ct->file, ct->e);
	}
	ckpt_close(&c);
	return rc;
}

int train_ckpt_list(const char *path, struct train_tensor_info **out, size_t *n, struct ling_err *err)
{
	struct train_tensor_info *v;
	struct ckpt c;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = ckpt_open(&c, path, err)))
		return rc;
	v = xcalloc(c.n + 1, sizeof(*v));
	for (size_t i = 0; i < c.n && !rc; i++) {
		const struct train_st_entry *e = c.t[i].e;

		if (!e->supported) {
			rc = ling_err_at(err, LING_EDATA, train_st_path(c.t[i].file), 0, 0,
					 "tensor %s has dtype %s: only F32 and BF16 can be read", e->name, e->dtype);
			break;
		}
		v[i].name = xstrdup(e->name);
		v[i].dtype = e->type;
		v[i].ndim = e->ndim;
		memcpy(v[i].shape, e->shape, sizeof(v[i].shape));
		*n = i + 1;
	}
	ckpt_close(&c);
	if (rc) {
		train_ckpt_list_free(v, *n);
		*n = 0;
		return rc;
	}
	*out = v;
	return 0;
}

void train_ckpt_list_free(struct train_tensor_info *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

/* ---- writing ---- */

int train_ckpt_is_dir(const char *dir)
{
	char *config = join(dir, "config.json"), *single = join(dir, SINGLE_NAME), *index = join(dir, INDEX_NAME);
	int yes = is_file(config) && (is_file(single) || is_file(index));

	free(config);
	free(single);
	free(index);
	return yes;
}

static int dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int empty = 1;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = 0;
	closedir(d);
	return empty;
}

/* Deletes dir and everything below it; symbolic links are removed, not followed. Errors are ignored. */
static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		struct stat sb;
		char *p;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		p = join(dir, de->d_name);
		if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
			remove_tree(p);
		else
			unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
}

/* A fresh, empty sibling directory DIR.tmp-PID-N. */
static char *make_temp_dir(const char *dir, struct ling_err *err)
{
	struct ling_buf b = LING_BUF_INIT;

	for (unsigned i = 0; i < 1000; i++) {
		ling_buf_reset(&b);
		ling_buf_addf(&b, "%s.tmp-%ld-%u", dir, (long)getpid(), i);
		if (mkdir(b.data, 0777) == 0)
			return b.data;
		if (errno != EEXIST)
			break;
	}
	ling_err_at(err, LING_EIO, dir, 0, 0, "cannot create a temporary directory %s: %s", b.data, strerror(errno));
	ling_buf_release(&b);
	return NULL;
}

/* HF's shard_checkpoint: tensors in order, a new shard when the next would take this one past max. */
static size_t plan_shards(const struct train_tensor *t, size_t n, size_t es, uint64_t max, size_t *shard_of_t)
{
	uint64_t size = 0;
	size_t shard = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t bytes = (uint64_t)train_shape_elems(t[i].ndim, t[i].shape) * es;

		if (max && size > 0 && size + bytes > max) {
			shard++;
			size = 0;
		}
		size += bytes;
		shard_of_t[i] = shard;
	}
	return n ? shard + 1 : 1;
}

static int write_index(const char *tmp, const struct train_tensor *t, size_t n, const size_t *shard_of_t,
		       size_t nshards, size_t es, struct ling_err *err)
{
	json_t *map = json_object(), *root;
	struct ling_buf name = LING_BUF_INIT;
	uint64_t total = 0;
	char *text, *path;
	int rc;

	for (size_t i = 0; i < n; i++) {
		ling_buf_reset(&name);
		ling_buf_addf(&name, "model-%05zu-of-%05zu.safetensors", shard_of_t[i] + 1, nshards);
		json_object_set_new(map, t[i].name, json_string(name.data));
		total += (uint64_t)train_shape_elems(t[i].ndim, t[i].shape) * es;
	}
	root = json_pack("{s:{s:I},s:o}", "metadata", "total_size", (json_int_t)total, "weight_map", map);
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	ling_buf_reset(&name);
	ling_buf_adds(&name, text);
	ling_buf_addc(&name, '\n');
	path = join(tmp, INDEX_NAME);
	rc = ling_atomic_write(path, name.data, name.len, err);
	free(path);
	free(text);
	json_decref(root);
	ling_buf_release(&name);
	return rc;
}

/* The weights into tmp: one file, or shards and their index. */
static int write_weights(const char *tmp, const struct train_tensor *t, size_t n, enum train_dtype dtype,
			 uint64_t max_shard_bytes, struct ling_err *err)
{
	size_t es = dtype == TRAIN_BF16 ? 2 : 4;
	size_t *shard_of_t = xmalloc((n + 1) * sizeof(*shard_of_t));
	struct train_tensor *part = xmalloc((n + 1) * sizeof(*part));
	size_t nshards = plan_shards(t, n, es, max_shard_bytes, shard_of_t);
	struct ling_buf path = LING_BUF_INIT;
	int rc = 0;

	for (size_t s = 0; s < nshards && !rc; s++) {
		size_t m = 0;

		for (size_t i = 0; i < n; i++)
			if (shard_of_t[i] == s)
				part[m++] = t[i];
		ling_buf_reset(&path);
		if (nshards == 1)
			ling_buf_addf(&path, "%s/%s", tmp, SINGLE_NAME);
		else
			ling_buf_addf(&path, "%s/model-%05zu-of-%05zu.safetensors", tmp, s + 1, nshards);
		rc = train_st_write(path.data, part, m, dtype, err);
	}
	if (!rc && nshards > 1)
		rc = write_index(tmp, t, n, shard_of_t, nshards, es, err);
	ling_buf_release(&path);
	free(shard_of_t);
	free(part);
	return rc;
}

/*
 * Where the file system cannot exchange two directories: the old one is moved aside first, so a
 * crash between the two renames leaves DIR missing but both checkpoints on disk.
 */
static int replace_dir_in_two_steps(const char *tmp, const char *dir, struct ling_err *err)
{
	struct ling_buf old = LING_BUF_INIT;
	int rc = 0;

	ling_buf_addf(&old, "%s.old-%ld", dir, (long)getpid());
	if (rename(dir, old.data) < 0)
		rc = ling_err_at(err, LING_EIO, dir, 0, 0, "cannot move the old checkpoint aside: %s", strerror(errno));
	else if (rename(tmp, dir) < 0) {
		rc = ling_err_at(err, LING_EIO, dir, 0, 0, "cannot rename %s into place: %s", tmp, strerror(errno));
		rename(old.data, dir);
	} else {
		remove_tree(old.data);
	}
	ling_buf_release(&old);
	return rc;
}

/* Puts tmp in dir's place: a plain rename, or an atomic exchange with the old checkpoint. */
static int replace_dir(const char *tmp, const char *dir, int exists, struct ling_err *err)
{
	int rc = 0;

	if (!exists || dir_is_empty(dir)) {
		if (rename(tmp, dir) < 0)
			rc = ling_err_at(err, LING_EIO, dir, 0, 0, "cannot rename %s into place: %s", tmp, strerror(errno));
	} else if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_EXCHANGE) < 0) {
		if (errno == EINVAL || errno == ENOSYS || errno == ENOTSUP)
			rc = replace_dir_in_two_steps(tmp, dir, err);
		else
			rc = ling_err_at(err, LING_EIO, dir, 0, 0, "cannot exchange %s with the old checkpoint: %s", tmp,
					 strerror(errno));
	} else {
		remove_tree(tmp); /* now the old checkpoint */
	}
	if (!rc && ling_fsync_parent(dir) < 0)
		rc = ling_err_at(err, LING_EIO, dir, 0, 0, "cannot sync its parent directory");
	return rc;
}

/*
 * Shards are checked one by one as they are written: a name given twice must be caught across them,
 * and the shard plan needs sizes.
 */
static int check_tensors(const char *dir, const struct train_tensor *t, size_t n, struct ling_err *err)
{
	const char **names = xmalloc((n + 1) * sizeof(*names));
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++)
		if (!(names[i] = t[i].name))
			rc = ling_err_at(err, LING_EUSAGE, dir, 0, 0, "tensor %zu has no name", i);
		else if (train_shape_elems(t[i].ndim, t[i].shape) < 0)
			rc = ling_err_at(err, LING_EUSAGE, dir, 0, 0, "tensor %s: bad shape", t[i].name);
	if (!rc)
		qsort((void *)names, n, sizeof(*names), by_str);
	for (size_t i = 1; i < n && !rc; i++)
		if (!strcmp(names[i], names[i - 1]))
			rc = ling_err_at(err, LING_EUSAGE, dir, 0, 0, "tensor %s: the name is given twice", names[i]);
	free((void *)names);
	return rc;
}

int train_ckpt_write(const char *dir_in, const char *config_json, const struct train_tensor *t, size_t n,
		     enum train_dtype dtype, uint64_t max_shard_bytes, struct ling_err *err)
{
	char *dir = xstrdup(dir_in), *tmp = NULL, *config = NULL;
	size_t len = strlen(dir);
	json_t *cfg = NULL;
	struct stat sb;
	int exists, rc;

	while (len > 1 && dir[len - 1] == '/')
		dir[--len] = '\0';
	exists = lstat(dir, &sb) == 0;
	cfg = config_json ? json_loads(config_json, 0, NULL) : NULL;
	if (exists && !S_ISDIR(sb.st_mode))
		rc = ling_err_at(err, LING_EUSAGE, dir, 0, 0, "exists and is not a directory");
	else if (exists && !dir_is_empty(dir) && !train_ckpt_is_dir(dir))
		rc = ling_err_at(err, LING_EUSAGE, dir, 0, 0,
				 "not a checkpoint directory (no config.json with %s): refusing to replace it", SINGLE_NAME);
	else if (!json_is_object(cfg))
		rc = ling_err_at(err, LING_EUSAGE, dir, 0, 0, "the config text is not a JSON object");
	else if ((rc = check_tensors(dir, t, n, err)))
		;
	else if (!(tmp = make_temp_dir(dir, err)))
		rc = err->code;
	else if (!(rc = ling_atomic_write(config = join(tmp, "config.json"), config_json, strlen(config_json), err)) &&
		 !(rc = write_weights(tmp, t, n, dtype, max_shard_bytes, err)))
		rc = replace_dir(tmp, dir, exists, err);
	if (rc && tmp)
		remove_tree(tmp);
	json_decref(cfg);
	free(config);
	free(tmp);
	free(dir);
	return rc;
}
