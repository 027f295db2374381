/*
 * The KG store on RocksDB (through common/ling_rocksdb); see kg.h for the
 * key layout and the transaction rule.
 */
#include "kg.h"

#include "kg_term_canon_internal.h"
#include "../common/ling_bytes.h"
#include "../common/ling_file.h"
#include "../common/ling_idmap.h"
#include "../common/ling_mem.h"
#include "../common/ling_num.h"
#include "../common/ling_pool.h"
#include "../common/ling_rocksdb.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

/* Key tags, in the order an SST file must list them. */
#define TAG_COUNT 'C' /* 'C' kind key -> int64 lanes, merged by addition */
#define TAG_CHANGE 'E' /* 'E' mark entity -> "": the entity changed in tracked batch number mark */
#define TAG_LABEL 'L' /* 'L' folded-label 0 lang 0 id -> "" (NUL in the label as 0xFF) */
#define TAG_META 'M'  /* 'M' name -> value */
#define TAG_OSP 'O'   /* 'O' o s p g -> "" */
#define TAG_POS 'P'   /* 'P' p o s g -> "" */
#define TAG_SPO 'S'   /* 'S' s p o g -> "" */
#define TAG_TERM 'T'  /* 'T' id -> N-Triples term */

#define QUAD_KEY_LEN 33
/* Below this many keys a load goes through one WriteBatch instead of an SST file. */
#define SMALL_LOAD_KEYS 20000

#define RDF_TYPE "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"

struct kg_store {
	struct ling_rocksdb *db;
	char *dir;
	int readonly;
	struct kg_canon canon;
};

/* ---- big-endian ids and int64 lanes ---- */

kg_id kg_id_from_be(const void *ptr)
{
	return ling_get_be64(ptr);
}

/* ---- open and close ---- */

static int check_format(struct kg_store *st, struct ling_err *err)
{
	struct ling_buf v = LING_BUF_INIT;
	char key[] = { TAG_META, 'f', 'o', 'r', 'm', 'a', 't' };
	long long version;
	int rc;

	rc = kg_store_meta_get(st, "format", &v, err);
	if (rc < 0)
		goto out;
	if (rc == 0) {
		char uuid_key[] = { TAG_META, 'u', 'u', 'i', 'd' };
		char uuid[40], vs[16];
		XXH128_hash_t h;
		struct timespec ts;

		if (st->readonly) {
			rc = ling_err_at(err, LING_ESTORE, st->dir, 0, 0, "not a ling store (no format version)");
			goto out;
		}
		/* A new store: stamp the format and a random-enough identity. */
		clock_gettime(CLOCK_REALTIME, &ts);
		h = XXH3_128bits_withSeed(st->dir, strlen(st->dir), (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_sec);
		snprintf(uuid, sizeof(uuid), "%016" PRIx64 "%016" PRIx64, h.high64, h.low64);
		snprintf(vs, sizeof(vs), "%d", KG_STORE_FORMAT_VERSION);
		rc = ling_rocksdb_put(st->db, key, sizeof(key), vs, strlen(vs), "cannot initialise the store", err);
		if (!rc)
			rc = ling_rocksdb_put(st->db, uuid_key, sizeof(uuid_key), uuid, strlen(uuid),
					      "cannot initialise the store", err);
		goto out;
	}
	rc = 0;
	if (ling_parse_long(v.data, 0, 1 << 30, &version) || version > KG_STORE_FORMAT_VERSION)
		rc = ling_err_at(err, LING_ESTORE, st->dir, 0, 0,
				 "store format %s is newer than this kg (%d); upgrade ling", v.data, KG_STORE_FORMAT_VERSION);
	else if (version < KG_STORE_FORMAT_VERSION)
		/* Format 1 keyed terms after NFC: its ids are not the ones this kg computes. */
		rc = ling_err_at(err, LING_ESTORE, st->dir, 0, 0,
				 "store format %s is older than this kg (%d), which keys terms as written; "
				 "load the sources again into a new store", v.data, KG_STORE_FORMAT_VERSION);
out:
	ling_buf_release(&v);
	return rc;
}

/* 1 when every file in dir has a name RocksDB (or a load) gives its files: a store that is being created. */
static int holds_only_store_files(const char *dir)
{
	static const char *const prefixes[] = { "LOCK", "IDENTITY", "LOG", "MANIFEST-", "OPTIONS-", "ling-ingest-" };
	static const char *const suffixes[] = { ".log", ".sst", ".dbtmp" };
	struct dirent *e;
	DIR *d = opendir(dir);
	int only = d != NULL;

	while (only && (e = readdir(d))) {
		size_t n = strlen(e->d_name), i;
		int known = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");

		for (i = 0; !known && i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
			known = !strncmp(e->d_name, prefixes[i], strlen(prefixes[i]));
		for (i = 0; !known && i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
			known = n > strlen(suffixes[i]) && !strcmp(e->d_name + n - strlen(suffixes[i]), suffixes[i]);
		only = known;
	}
	if (d)
		closedir(d);
	return only;
}

static int locked_error(const char *dir, struct ling_err *err)
{
	return ling_err_at(err, LING_ESTORE, dir, 0, 0,
			   "the store is locked by another process (%s/LOCK): one kg-load at a time", dir);
}

int kg_store_open(struct kg_store **out, const char *dir, unsigned flags, struct ling_err *err)
{
	struct kg_store *st = xcalloc(1, sizeof(*st));
	/* Counters merge by addition; bloom filters answer the loader's lookups of absent quads and terms. */
	struct ling_rocksdb_opts opts = { LING_ROCKSDB_PLAIN_DISK_FULL | LING_ROCKSDB_LZ4,
					  LING_ROCKSDB_MERGE_ADD_I64_LANES, 0, 0, 10 };
	struct stat sb;
	int rc;

	*out = NULL;
	st->dir = xstrdup(dir);
	st->readonly = !!(flags & KG_STORE_READONLY);
	if (st->readonly)
		opts.flags |= LING_ROCKSDB_READONLY;
	else if (flags & KG_STORE_CREATE)
		opts.flags |= LING_ROCKSDB_CREATE;
	if (stat(dir, &sb) != 0 && (st->readonly || !(flags & KG_STORE_CREATE))) {
		rc = ling_err_at(err, LING_EIO, dir, 0, 0, "no such store");
		goto fail;
	}
	/*
	 * A store another kg-load is creating has no CURRENT yet: say who has it,
	 * not "other files". Without the lock held (its creator is about to lock
	 * it, or died), RocksDB's own lock and create decide.
	 */
	if (ling_dir_is_foreign(dir, "CURRENT") && ling_rocksdb_lock_held(dir)) {
		rc = locked_error(dir, err);
		goto fail;
	}
	if (ling_dir_is_foreign(dir, "CURRENT") && !holds_only_store_files(dir)) {
		rc = ling_err_at(err, LING_ESTORE, dir, 0, 0, "not a ling store (the directory holds other files)");
		goto fail;
	}
	rc = ling_rocksdb_open(&st->db, dir, &opts, "cannot open the store", err);
	if (rc == LING_ROCKSDB_LOCKED) {
		rc = locked_error(dir, err);
		goto fail;
	}
	if (rc)
		goto fail;
	if ((rc = check_format(st, err)))
		goto fail;
	if (!st->readonly)
		ling_dir_remove_prefixed(dir, "ling-ingest-"); /* SST files of a load killed before ingestion */
	kg_canon_init(&st->canon);
	*out = st;
	return 0;
fail:
	if (!err->file[0])
		snprintf(err->file, sizeof(err->file), "%s", dir);
	kg_store_close(st);
	return rc;
}

/* The number of a WAL file name ("000042.log"), or 0 when name is not one. */
static unsigned long long wal_number(const char *name)
{
	char *end;
	unsigned long long n = strtoull(name, &end, 10);

	return end != name && !strcmp(end, ".log") ? n : 0;
}

/*
 * Removes the empty WAL files older than the newest one. RocksDB starts a new
 * WAL at each open but keeps an empty one it recovered (nothing to flush, so
 * its number stays live), and the store grew by a file per load. Called while
 * the store is open, so under its LOCK: RocksDB writes only the newest WAL, an
 * empty one holds no record to recover, and a WAL missing at open is not an
 * error (its absence is not tracked in the MANIFEST).
 */
static void remove_empty_old_wals(const char *dir)
{
	unsigned long long newest = 0, n;
	struct ling_buf path = LING_BUF_INIT;
	struct dirent *e;
	struct stat sb;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d)))
		if ((n = wal_number(e->d_name)) > newest)
			newest = n;
	rewinddir(d);
	while ((e = readdir(d))) {
		n = wal_number(e->d_name);
		if (!n || n >= newest)
			continue;
		ling_buf_reset(&path);
		ling_buf_addf(&path, "%s/%s", dir, e->d_name);
		if (lstat(path.data, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == 0)
			unlink(path.data);
	}
	closedir(d);
	ling_buf_release(&path);
}

void kg_store_close(struct kg_store *st)
{
	if (!st)
		return;
	if (st->db && !st->readonly)
		remove_empty_old_wals(st->dir);
	ling_rocksdb_close(st->db);
	kg_canon_release(&st->canon);
	free(st->dir);
	free(st);
}

int kg_store_meta_get(struct kg_store *st, const char *name, struct ling_buf *out, struct ling_err *err)
{
	return ling_rocksdb_get_named(st->db, TAG_META, name, out, "cannot read the store", err);
}

/* ---- term ids ---- */

/*
 * A term's id is the low half of XXH3-128 over its N-Triples form; the high
 * half is a check value the loader keeps beside it, so telling a repeated term
 * from a colliding one needs no string comparison.
 */
static kg_id id_of_hash(XXH128_hash_t h)
{
	return h.low64 ? h.low64 : 1; /* 0 is the default graph */
}

static kg_id hash_id(const char *nt, size_t n)
{
	return id_of_hash(XXH3_128bits(nt, n));
}

/* ---- the loader ---- */

/*
 * The loader's terms: a map from term id to the offset of its entry in the
 * arena. An entry is the other half of the term's 128-bit hash (the check, a
 * u64), the length of its N-Triples form (a u32), then the form.
 */
static const struct ling_idmap_opts term_table_opts = { LING_IDMAP_HASH_LOW, 0, 1024, 1, 2 };

/* The last subject and a few predicates, as the parser gave them, with their ids: most statements
 * repeat them, and a byte comparison is cheaper than canonicalising again. */
#define MEMO_SLOTS 64

struct term_memo {
	struct ling_buf raw;
	enum kg_term_type type;
	kg_id id;
};

struct label_entry {
	kg_id q[4];
	uint64_t key_off; /* folded label 0 lang 0, in label_keys */
	uint32_t key_len;
	uint32_t lang_off; /* where the lang starts inside the key */
};

struct kg_loader {
	struct kg_store *st;
	char *scope;
	unsigned flags;
	kg_id graph_id;
	struct ling_buf arena;
	struct ling_idmap terms; /* term id -> arena offset */
	kg_id (*quads)[4];
	size_t nquads, quads_cap, committed;
	struct label_entry *labels;
	size_t nlabels, labels_cap, labels_committed;
	struct ling_buf label_keys;
	struct ling_buf scratch, fold;
	kg_id label_preds[3], rdf_type;
	struct term_memo last_subject;
	struct term_memo predicates[MEMO_SLOTS];
	/* Mixed loads (kg_loader_set_delete): whether each quad deletes; NULL until the first call. */
	unsigned char *deletes;
	size_t deletes_cap;
	int deleting;
	struct ling_buf meta; /* kg_loader_meta_put's pairs for the next apply: name NUL value NUL ... */
};

static const char *const label_predicates[3] = {
	"<http://www.w3.org/2000/01/rdf-schema#label>",
	"<http://www.w3.org/2004/02/skos/core#prefLabel>",
	"<http://schema.org/name>",
};

/* The arena offset of a term the loader holds. */
static uint64_t slot_off(const struct ling_idmap *t, kg_id id)
{
	return ling_idmap_find(t, id)->val;
}

static const char *arena_term(const struct kg_loader *ld, uint64_t off, uint32_t *len)
{
	memcpy(len, ld->arena.data + off + 8, 4);
	return ld->arena.data + off + 12;
}

/* Finds or adds the term in ld->scratch. @return its id, or 0 on a hash collision. */
static kg_id intern_scratch(struct kg_loader *ld)
{
	const char *nt = ld->scratch.data;
	uint32_t len = (uint32_t)ld->scratch.len;
	XXH128_hash_t h = XXH3_128bits(nt, len);
	kg_id id = id_of_hash(h);
	unsigned char head[12];
	uint64_t check;
	int added;
	struct ling_idmap_ent *e = ling_idmap_insert(&ld->terms, id, ld->arena.len, &added);

	if (!added) {
		memcpy(&check, ld->arena.data + e->val, 8);
		return check == h.high64 ? id : 0;
	}
	memcpy(head, &h.high64, 8);
	memcpy(head + 8, &len, 4);
	ling_buf_add(&ld->arena, head, sizeof(head));
	ling_buf_add(&ld->arena, nt, len);
	return id;
}

static int intern(struct kg_loader *ld, const struct kg_term *t, kg_id *id, struct ling_err *err)
{
	int rc;

	ling_buf_reset(&ld->scratch);
	if ((rc = kg_canon_term(&ld->st->canon, t, ld->scope, &ld->scratch, err)))
		return rc;
	*id = intern_scratch(ld);
	if (!*id)
		return ling_err_set(err, LING_ESTORE, "64-bit term id collision on %s", ld->scratch.data);
	return 0;
}

static int memo_hit(const struct term_memo *m, const struct kg_term *t)
{
	return m->id && m->type == t->type && m->raw.len == t->len && !memcmp(m->raw.data, t->value, t->len);
}

static void memo_set(struct term_memo *m, const struct kg_term *t, kg_id id)
{
	ling_buf_reset(&m->raw);
	ling_buf_add(&m->raw, t->value, t->len);
	m->type = t->type;
	m->id = id;
}

/* intern() for IRIs and blank nodes through a memo (literals have a datatype and language to compare too). */
static int intern_memo(struct kg_loader *ld, struct term_memo *m, const struct kg_term *t, kg_id *id,
		       struct ling_err *err)
{
	int rc;

	if (t->type == KG_TERM_LITERAL)
		return intern(ld, t, id, err);
	if (memo_hit(m, t)) {
		*id = m->id;
		return 0;
	}
	if ((rc = intern(ld, t, id, err)))
		return rc;
	memo_set(m, t, *id);
	return 0;
}

/* Blank nodes are scoped by the input's content, so reloading a file maps them to the same nodes. */
int kg_loader_source_key(const char *path, const char *stdin_key, char out[KG_SOURCE_KEY_SIZE],
			 struct ling_err *err)
{
	XXH3_state_t *st;
	XXH128_hash_t h;
	char buf[1 << 16];
	ssize_t n;
	int fd;

	if (!strcmp(path, "-")) {
		snprintf(out, KG_SOURCE_KEY_SIZE, "%s", stdin_key);
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ling_err_at(err, LING_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
	st = XXH3_createState();
	XXH3_128bits_reset(st);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		XXH3_128bits_update(st, buf, (size_t)n);
	close(fd);
	h = XXH3_128bits_digest(st);
	XXH3_freeState(st);
	if (n < 0)
		return ling_err_at(err, LING_EIO, path, 0, 0, "read error: %s", strerror(errno));
	snprintf(out, KG_SOURCE_KEY_SIZE, "%016" PRIx64 "%016" PRIx64, h.high64, h.low64);
	return 0;
}

int kg_loader_new(struct kg_loader **out, struct kg_store *st, const char *source_key, const struct kg_term *graph,
		  unsigned flags, struct ling_err *err)
{
	struct kg_loader *ld = xcalloc(1, sizeof(*ld));
	int i, rc;

	*out = NULL;
	if (st->readonly) {
		free(ld);
		return ling_err_set(err, LING_EUSAGE, "the store is open read-only");
	}
	ld->st = st;
	ld->flags = flags;
	ling_idmap_init(&ld->terms, &term_table_opts);
	ld->scope = xstrdup(source_key ? source_key : "");
	for (i = 0; i < 3; i++)
		ld->label_preds[i] = hash_id(label_predicates[i], strlen(label_predicates[i]));
	ld->rdf_type = hash_id(RDF_TYPE, strlen(RDF_TYPE));
	if (graph && graph->type != KG_TERM_NONE && (rc = intern(ld, graph, &ld->graph_id, err))) {
		kg_loader_free(ld);
		return rc;
	}
	*out = ld;
	return 0;
}

static int is_label_predicate(const struct kg_loader *ld, kg_id p)
{
	return p == ld->label_preds[0] || p == ld->label_preds[1] || p == ld->label_preds[2];
}

/*
 * Appends the label index form of label: NFC and case folded, with NUL (which
 * separates the key's parts) written as 0xFF, a byte UTF-8 never has.
 */
static int label_key(struct kg_canon *canon, const char *label, size_t len, struct ling_buf *key,
		     struct ling_err *err)
{
	size_t start = key->len, i;
	int rc = kg_canon_fold(canon, label, len, key, err);

	for (i = start; !rc && i < key->len; i++)
		if (!key->data[i])
			key->data[i] = (char)0xFF;
	return rc;
}

static int add_label(struct kg_loader *ld, const kg_id q[4], const struct kg_term *o, struct ling_err *err)
{
	struct label_entry *e;
	size_t start = ld->label_keys.len, i;
	int rc;

	if ((rc = label_key(&ld->st->canon, o->value, o->len, &ld->label_keys, err)))
		return rc;
	ling_buf_addc(&ld->label_keys, '\0');
	ld->labels = xgrow(ld->labels, &ld->labels_cap, ld->nlabels + 1, sizeof(*ld->labels));
	e = &ld->labels[ld->nlabels++];
	memcpy(e->q, q, sizeof(e->q));
	e->key_off = start;
	e->lang_off = (uint32_t)(ld->label_keys.len - start);
	for (i = 0; o->lang && i < o->lang_len; i++) {
		char c = o->lang[i];

		ling_buf_addc(&ld->label_keys, (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
	}
	ling_buf_addc(&ld->label_keys, '\0');
	e->key_len = (uint32_t)(ld->label_keys.len - start);
	return 0;
}

int kg_loader_add(struct kg_loader *ld, const struct kg_quad *q, struct ling_err *err)
{
	kg_id ids[4] = { 0, 0, 0, ld->graph_id };
	int rc;

	struct term_memo *pm = &ld->predicates[(q->p.len ^ (q->p.len ? (unsigned char)q->p.value[q->p.len - 1] << 3 : 0)) % MEMO_SLOTS];

	if ((rc = intern_memo(ld, &ld->last_subject, &q->s, &ids[0], err)) ||
	    (rc = intern_memo(ld, pm, &q->p, &ids[1], err)) || (rc = intern(ld, &q->o, &ids[2], err)))
		return rc;
	if (q->g.type != KG_TERM_NONE && (rc = intern(ld, &q->g, &ids[3], err)))
		return rc;
	if (q->o.type == KG_TERM_LITERAL && is_label_predicate(ld, ids[1]) && (rc = add_label(ld, ids, &q->o, err)))
		return rc;
	if (ld->deletes) {
		ld->deletes = xgrow(ld->deletes, &ld->deletes_cap, ld->nquads + 1, 1);
		ld->deletes[ld->nquads] = (unsigned char)ld->deleting;
	}
	ld->quads = xgrow(ld->quads, &ld->quads_cap, ld->nquads + 1, sizeof(*ld->quads));
	memcpy(ld->quads[ld->nquads++], ids, sizeof(ids));
	return 0;
}

void kg_loader_set_delete(struct kg_loader *ld, int deleting)
{
	if (!ld->deletes) {
		/* The quads added so far do what the flags said. */
		ld->deletes = xgrow(NULL, &ld->deletes_cap, ld->nquads + 1, 1);
		memset(ld->deletes, !!(ld->flags & KG_LOADER_DELETE), ld->nquads);
	}
	ld->deleting = !!deleting;
}

void kg_loader_meta_put(struct kg_loader *ld, const char *name, const char *value)
{
	ling_buf_add(&ld->meta, name, strlen(name) + 1);
	ling_buf_add(&ld->meta, value, strlen(value) + 1);
}

void kg_loader_commit(struct kg_loader *ld)
{
	ld->committed = ld->nquads;
	ld->labels_committed = ld->nlabels;
}

void kg_loader_rollback(struct kg_loader *ld)
{
	/* Interned terms of the dropped quads stay in the table but are never written: apply writes only
	 * the terms that surviving quads use. */
	ld->nquads = ld->committed;
	ld->nlabels = ld->labels_committed;
	ling_buf_truncate(&ld->label_keys, ld->nlabels ? ld->labels[ld->nlabels - 1].key_off +
							       ld->labels[ld->nlabels - 1].key_len
							 : 0);
}

uint64_t kg_loader_pending(const struct kg_loader *ld)
{
	return ld->committed;
}

void kg_loader_free(struct kg_loader *ld)
{
	if (!ld)
		return;
	ling_buf_release(&ld->arena);
	ling_idmap_release(&ld->terms);
	ling_buf_release(&ld->last_subject.raw);
	for (int i = 0; i < MEMO_SLOTS; i++)
		ling_buf_release(&ld->predicates[i].raw);
	free(ld->quads);
	free(ld->deletes);
	ling_buf_release(&ld->meta);
	free(ld->labels);
	ling_buf_release(&ld->label_keys);
	ling_buf_release(&ld->scratch);
	ling_buf_release(&ld->fold);
	free(ld->scope);
	free(ld);
}

/* ---- applying a load: one sorted stream of keys into an SST file or a WriteBatch ---- */

static int cmp_quad(const void *a, const void *b)
{
	const kg_id *x = a, *y = b;
	int i;

	for (i = 0; i < 4; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

static inline int quad_less(const kg_id *a, const kg_id *b)
{
	if (a[0] != b[0])
		return a[0] < b[0];
	if (a[1] != b[1])
		return a[1] < b[1];
	if (a[2] != b[2])
		return a[2] < b[2];
	return a[3] < b[3];
}

static inline void quad_swap(kg_id *a, kg_id *b)
{
	kg_id t[4];

	memcpy(t, a, sizeof(t));
	memcpy(a, b, sizeof(t));
	memcpy(b, t, sizeof(t));
}

/*
 * Sorting quads is the largest CPU cost of a bulk load after parsing; an
 * inlined comparison sorts about three times faster than qsort() calling
 * cmp_quad through a pointer. Quicksort with a median-of-three pivot,
 * insertion sort for short runs, and qsort() as the fallback when the
 * recursion gets deep (introsort's guard against bad pivots).
 */
static void sort_quads_depth(kg_id (*q)[4], size_t n, int depth)
{
	while (n > 16) {
		kg_id pivot[4];
		size_t i = 0, j = n - 1, mid = n / 2;

		if (depth-- == 0) {
			qsort(q, n, sizeof(*q), cmp_quad);
			return;
		}
		if (quad_less(q[mid], q[0]))
			quad_swap(q[mid], q[0]);
		if (quad_less(q[j], q[0]))
			quad_swap(q[j], q[0]);
		if (quad_less(q[j], q[mid]))
			quad_swap(q[j], q[mid]);
		memcpy(pivot, q[mid], sizeof(pivot));
		for (;;) {
			while (quad_less(q[i], pivot))
				i++;
			while (quad_less(pivot, q[j]))
				j--;
			if (i >= j)
				break;
			quad_swap(q[i], q[j]);
			i++;
			j--;
		}
		/* Recurse into the smaller side, loop on the larger. */
		if (j + 1 < n - j - 1) {
			sort_quads_depth(q, j + 1, depth);
			q += j + 1;
			n -= j + 1;
		} else {
			sort_quads_depth(q + j + 1, n - j - 1, depth);
			n = j + 1;
		}
	}
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && quad_less(q[k], q[k - 1]); k--)
			quad_swap(q[k], q[k - 1]);
}

static void sort_small(kg_id (*q)[4], size_t n)
{
	int depth = 0;

	for (size_t m = n; m > 1; m >>= 1)
		depth += 2;
	sort_quads_depth(q, n, depth);
}

/*
 * Ids are hashes, so their top bits are spread evenly: one counting pass and
 * one scatter on the top 16 bits of the first id leave buckets of a few quads
 * each (or of one subject's quads) for the quicksort above.
 */
static void sort_quads(kg_id (*q)[4], size_t n)
{
	size_t *start, i, b;
	kg_id (*tmp)[4];

	if (n < (1 << 16)) {
		sort_small(q, n);
		return;
	}
	start = xcalloc((1 << 16) + 1, sizeof(size_t));
	for (i = 0; i < n; i++)
		start[(q[i][0] >> 48) + 1]++;
	for (b = 1; b <= (1 << 16); b++)
		start[b] += start[b - 1];
	tmp = xmalloc(n * sizeof(*tmp));
	for (i = 0; i < n; i++)
		memcpy(tmp[start[q[i][0] >> 48]++], q[i], sizeof(*tmp));
	/* start[b] is now the end of bucket b. */
	for (b = 0, i = 0; b < (1 << 16); i = start[b], b++)
		if (start[b] - i > 1)
			sort_small(tmp + i, start[b] - i);
	memcpy(q, tmp, n * sizeof(*tmp));
	free(tmp);
	free(start);
}

static int cmp_id(const void *a, const void *b)
{
	kg_id x = *(const kg_id *)a, y = *(const kg_id *)b;

	return x < y ? -1 : x > y;
}

static size_t unique_quads(kg_id (*q)[4], size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (k == 0 || cmp_quad(q[k - 1], q[i]))
			memmove(q[k++], q[i], sizeof(q[0]));
	return k;
}

static void quad_key(unsigned char key[QUAD_KEY_LEN], char tag, kg_id a, kg_id b, kg_id c, kg_id d)
{
	key[0] = (unsigned char)tag;
	ling_put_be64(key + 1, a);
	ling_put_be64(key + 9, b);
	ling_put_be64(key + 17, c);
	ling_put_be64(key + 25, d);
}

/* The counters a load changes, aggregated before writing. */
struct counter {
	uint64_t key_off; /* into counter_keys */
	uint32_t key_len;
	int64_t lanes[2];
};

struct apply_state {
	struct kg_loader *ld;
	int deleting;
	int64_t sign;
	kg_id (*changed)[4];
	size_t nchanged;
	kg_id *new_terms;
	size_t nnew_terms;
	struct counter *counters;
	size_t ncounters, counters_cap;
	struct ling_buf counter_keys;
	/* This state's part CLO also writes the load's change records (under mark) and meta keys. */
	int extras;
	uint64_t mark;
};

static void add_counter(struct apply_state *a, char kind, const void *key, size_t key_len, int64_t l0, int64_t l1)
{
	struct counter *c;

	a->counters = xgrow(a->counters, &a->counters_cap, a->ncounters + 1, sizeof(*a->counters));
	c = &a->counters[a->ncounters++];
	c->key_off = a->counter_keys.len;
	ling_buf_addc(&a->counter_keys, TAG_COUNT);
	ling_buf_addc(&a->counter_keys, kind);
	ling_buf_add(&a->counter_keys, key, key_len);
	c->key_len = (uint32_t)(a->counter_keys.len - c->key_off);
	c->lanes[0] = l0 * a->sign;
	c->lanes[1] = l1 * a->sign;
}

static void add_id_counter(struct apply_state *a, char kind, kg_id id, int64_t l0, int64_t l1)
{
	unsigned char be[8];

	ling_put_be64(be, id);
	add_counter(a, kind, be, 8, l0, l1);
}

static const char *sort_keys_base; /* qsort has no context argument in C11 */

static int cmp_counter(const void *x, const void *y)
{
	const struct counter *a = x, *b = y;
	size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
	int c = memcmp(sort_keys_base + a->key_off, sort_keys_base + b->key_off, n);

	return c ? c : (a->key_len > b->key_len) - (a->key_len < b->key_len);
}

/* Where emitted keys go: a WriteBatch or an SST file (keys in order, no deletes). Each thread has its own. */
static void emit(struct ling_rocksdb_writer *w, char op, const void *key, size_t klen, const void *val, size_t vlen)
{
	if (op == 'm')
		ling_rocksdb_merge_to(w, key, klen, val, vlen);
	else if (op == 'd')
		ling_rocksdb_delete_to(w, key, klen);
	else
		ling_rocksdb_put_to(w, key, klen, val, vlen);
}

/* Keeps in a->changed the quads that the load changes: absent ones (adding) or present ones (deleting). */
static int find_changed(struct apply_state *a, kg_id (*q)[4], size_t n, struct ling_err *err)
{
	struct ling_rocksdb_iter *it = ling_rocksdb_iter_new(a->ld->st->db);
	unsigned char key[QUAD_KEY_LEN];
	size_t i;

	a->changed = xmalloc((n ? n : 1) * sizeof(*a->changed));
	for (i = 0; i < n; i++) {
		int present = 0;

		quad_key(key, TAG_SPO, q[i][0], q[i][1], q[i][2], q[i][3]);
		if (ling_rocksdb_iter_valid(it)) {
			size_t klen;
			const char *k = ling_rocksdb_iter_key(it, &klen);

			if (klen != QUAD_KEY_LEN || memcmp(k, key, QUAD_KEY_LEN) < 0)
				ling_rocksdb_iter_seek(it, key, QUAD_KEY_LEN);
		} else if (i == 0) {
			ling_rocksdb_iter_seek(it, key, QUAD_KEY_LEN);
		}
		if (ling_rocksdb_iter_valid(it)) {
			size_t klen;
			const char *k = ling_rocksdb_iter_key(it, &klen);

			present = klen == QUAD_KEY_LEN && !memcmp(k, key, QUAD_KEY_LEN);
		}
		if (present == a->deleting)
			memcpy(a->changed[a->nchanged++], q[i], sizeof(q[0]));
	}
	return ling_rocksdb_iter_free(it, "cannot read the store", err);
}

/* Collects the term ids the changed quads use that the dictionary lacks, checking the others for collisions. */
static int find_new_terms(struct apply_state *a, struct ling_err *err)
{
	struct kg_loader *ld = a->ld;
	struct ling_rocksdb_iter *it;
	unsigned char *used = xcalloc(ld->terms.cap, 1);
	kg_id *ids = xmalloc((ld->terms.n + 1) * sizeof(kg_id));
	size_t n = 0, i, k = 0;
	int rc = 0;

	/* The terms of rolled-back statements are in the table too; only used ones are written. */
	for (i = 0; i < a->nchanged; i++) {
		int j;

		for (j = 0; j < 4; j++)
			if (a->changed[i][j])
				used[ling_idmap_find(&ld->terms, a->changed[i][j]) - ld->terms.slots] = 1;
	}
	for (i = 0; i < ld->terms.cap; i++)
		if (used[i])
			ids[n++] = ld->terms.slots[i].key;
	free(used);
	if (n > 1)
		qsort(ids, n, sizeof(kg_id), cmp_id);
	it = ling_rocksdb_iter_new(ld->st->db);
	for (i = 0; i < n; i++) {
		unsigned char key[9];
		size_t klen, vlen;
		const char *kp, *v, *have;
		uint32_t have_len;

		key[0] = TAG_TERM;
		ling_put_be64(key + 1, ids[i]);
		ling_rocksdb_iter_seek(it, key, 9);
		have = arena_term(ld, slot_off(&ld->terms, ids[i]), &have_len);
		if (ling_rocksdb_iter_valid(it) && (kp = ling_rocksdb_iter_key(it, &klen)) && klen == 9 &&
		    !memcmp(kp, key, 9)) {
			v = ling_rocksdb_iter_value(it, &vlen);
			if (vlen != have_len || memcmp(v, have, vlen)) {
				rc = ling_err_set(err, LING_ESTORE, "64-bit term id collision between %.*s and %.*s",
						  (int)vlen, v, (int)have_len, have);
				break;
			}
			continue;
		}
		ids[k++] = ids[i];
	}
	if (rc)
		ling_rocksdb_iter_free(it, NULL, NULL);
	else
		rc = ling_rocksdb_iter_free(it, "cannot read the store", err);
	a->new_terms = ids;
	a->nnew_terms = k;
	return rc;
}

static int is_literal_id(const struct kg_loader *ld, kg_id id)
{
	uint32_t len;
	const char *nt = arena_term(ld, slot_off(&ld->terms, id), &len);

	return len > 0 && nt[0] == '"';
}

static int cmp_label(const void *x, const void *y)
{
	const struct label_entry *a = x, *b = y;
	int c = cmp_quad(a->q, b->q);

	return c ? c : (a->key_off > b->key_off) - (a->key_off < b->key_off);
}

static int quad_changed(const struct apply_state *a, const kg_id q[4])
{
	return bsearch(q, a->changed, a->nchanged, sizeof(a->changed[0]), cmp_quad) != NULL;
}

/*
 * Per-id counter deltas of one kind, summed before they are sorted and
 * written: a map from id to its index in lanes.
 */
struct lanes_map {
	struct ling_idmap index;
	int64_t (*lanes)[2];
	size_t cap;
};

static const struct ling_idmap_opts lanes_map_opts = { LING_IDMAP_HASH_LOW, 0, 256, 1, 2 };

static void lanes_init(struct lanes_map *m)
{
	memset(m, 0, sizeof(*m));
	ling_idmap_init(&m->index, &lanes_map_opts);
}

static void lanes_add(struct lanes_map *m, kg_id id, int64_t l0, int64_t l1)
{
	int added;
	size_t i = ling_idmap_insert(&m->index, id, m->index.n, &added)->val;

	if (added) {
		m->lanes = xgrow(m->lanes, &m->cap, i + 1, sizeof(*m->lanes));
		m->lanes[i][0] = m->lanes[i][1] = 0;
	}
	m->lanes[i][0] += l0;
	m->lanes[i][1] += l1;
}

/* Adds the sums as counters (they are sorted after, so the map's order does not matter) and frees m. */
static void lanes_flush(struct apply_state *a, struct lanes_map *m, char kind)
{
	struct ling_idmap_ent *e;
	size_t pos = 0;

	while ((e = ling_idmap_next(&m->index, &pos)))
		add_id_counter(a, kind, e->key, m->lanes[e->val][0], m->lanes[e->val][1]);
	ling_idmap_release(&m->index);
	free(m->lanes);
}

/* Counters and label keys of the changed quads, in key order. */
static void collect_counters(struct apply_state *a)
{
	struct kg_loader *ld = a->ld;
	struct lanes_map preds, degrees, types;
	size_t i;
	int64_t n = (int64_t)a->nchanged;

	lanes_init(&preds);
	lanes_init(&degrees);
	lanes_init(&types);

	add_counter(a, 'q', "", 0, n, 0);
	if (!a->deleting && a->nnew_terms)
		add_counter(a, 't', "", 0, (int64_t)a->nnew_terms, 0);
	for (i = 0; i < a->nchanged; i++) {
		const kg_id *q = a->changed[i];

		lanes_add(&preds, q[1], 1, 0);
		lanes_add(&degrees, q[0], 1, 0);
		if (!is_literal_id(ld, q[2]))
			lanes_add(&degrees, q[2], 0, 1);
		if (q[1] == ld->rdf_type)
			lanes_add(&types, q[2], 1, 0);
	}
	lanes_flush(a, &preds, 'p');
	lanes_flush(a, &degrees, 'd');
	lanes_flush(a, &types, 'y');
	if (ld->labels_committed > 1)
		qsort(ld->labels, ld->labels_committed, sizeof(*ld->labels), cmp_label);
	for (i = 0; i < ld->labels_committed; i++) {
		const struct label_entry *e = &ld->labels[i];

		if (i > 0 && !cmp_quad(ld->labels[i - 1].q, e->q))
			continue;
		if (quad_changed(a, e->q)) {
			const char *lang = ld->label_keys.data + e->key_off + e->lang_off;

			add_counter(a, 'l', lang, strlen(lang), 1, 0);
		}
	}
	sort_keys_base = a->counter_keys.data;
	if (a->ncounters > 1)
		qsort(a->counters, a->ncounters, sizeof(*a->counters), cmp_counter);
}

static void emit_counters(struct apply_state *a, struct ling_rocksdb_writer *w)
{
	size_t i = 0;

	sort_keys_base = a->counter_keys.data; /* a mixed load has two states, each with its keys */

	while (i < a->ncounters) {
		struct counter sum = a->counters[i];
		char val[16];
		size_t j = i + 1;

		while (j < a->ncounters && !cmp_counter(&a->counters[j], &sum)) {
			sum.lanes[0] += a->counters[j].lanes[0];
			sum.lanes[1] += a->counters[j].lanes[1];
			j++;
		}
		ling_put_le64(val, (uint64_t)sum.lanes[0]);
		ling_put_le64(val + 8, (uint64_t)sum.lanes[1]);
		emit(w, 'm', a->counter_keys.data + sum.key_off, sum.key_len, val, 16);
		i = j;
	}
}

static void emit_labels(struct apply_state *a, struct ling_rocksdb_writer *w)
{
	struct kg_loader *ld = a->ld;
	/* Sorted by key bytes with the counters' comparator. */
	struct counter *tmp = xmalloc((ld->labels_committed + 1) * sizeof(*tmp));
	struct ling_buf keys = LING_BUF_INIT;
	size_t i, n = 0;

	for (i = 0; i < ld->labels_committed; i++) {
		const struct label_entry *e = &ld->labels[i];
		unsigned char be[8];

		if (!quad_changed(a, e->q))
			continue;
		tmp[n].key_off = keys.len;
		ling_buf_addc(&keys, TAG_LABEL);
		ling_buf_add(&keys, ld->label_keys.data + e->key_off, e->key_len);
		ling_put_be64(be, e->q[0]);
		ling_buf_add(&keys, be, 8);
		tmp[n].key_len = (uint32_t)(keys.len - tmp[n].key_off);
		n++;
	}
	sort_keys_base = keys.data;
	if (n > 1)
		qsort(tmp, n, sizeof(*tmp), cmp_counter);
	for (i = 0; i < n; i++)
		if (i == 0 || cmp_counter(&tmp[i - 1], &tmp[i]))
			emit(w, a->deleting ? 'd' : 'p', keys.data + tmp[i].key_off, tmp[i].key_len, "", 0);
	free(tmp);
	ling_buf_release(&keys);
}

/* Emits one index: the changed quads permuted by order[], sorted. */
static void emit_index(struct apply_state *a, struct ling_rocksdb_writer *w, char tag, const int order[4])
{
	kg_id (*perm)[4] = xmalloc((a->nchanged + 1) * sizeof(*perm));
	unsigned char key[QUAD_KEY_LEN];
	size_t i;

	for (i = 0; i < a->nchanged; i++) {
		int j;

		for (j = 0; j < 4; j++)
			perm[i][j] = a->changed[i][order[j]];
	}
	if (tag != TAG_SPO)
		sort_quads(perm, a->nchanged);
	for (i = 0; i < a->nchanged; i++) {
		quad_key(key, tag, perm[i][0], perm[i][1], perm[i][2], perm[i][3]);
		emit(w, a->deleting ? 'd' : 'p', key, QUAD_KEY_LEN, "", 0);
	}
	free(perm);
}

static void emit_terms(struct apply_state *a, struct ling_rocksdb_writer *w)
{
	size_t i;

	for (i = 0; i < a->nnew_terms; i++) {
		unsigned char key[9];
		uint32_t len;
		const char *nt = arena_term(a->ld, slot_off(&a->ld->terms, a->new_terms[i]), &len);

		key[0] = TAG_TERM;
		ling_put_be64(key + 1, a->new_terms[i]);
		emit(w, 'p', key, 9, nt, len);
	}
}

/* Test hook: LING_TEST_CRASH=<point> kills the process there, as kill -9 would (tests/t1010). */
static void crash_point(const char *point)
{
	const char *want = getenv("LING_TEST_CRASH");

	if (want && !strcmp(want, point))
		raise(SIGKILL);
}

static const int order_osp[4] = { 2, 0, 1, 3 }, order_pos[4] = { 1, 2, 0, 3 }, order_spo[4] = { 0, 1, 2, 3 };

/*
 * The keys of a load fall into three parts with disjoint key ranges, in tag
 * order C L O | P | S T. A bulk load writes each part to its own SST file on
 * its own thread and ingests the three files in one atomic call; a small load
 * writes all parts into one WriteBatch.
 */
enum { PART_CLO, PART_P, PART_ST, PARTS };

static void emit_changes(struct kg_loader *ld, const struct apply_state *states, int nstates, uint64_t mark,
			 struct ling_rocksdb_writer *w);
static void emit_meta(struct kg_loader *ld, struct ling_rocksdb_writer *w);

static void emit_part(struct apply_state *a, struct ling_rocksdb_writer *w, int part)
{
	switch (part) {
	case PART_CLO:
		/* Tags C, E, L, M, O: in this order an SST file takes them. */
		emit_counters(a, w);
		if (a->extras && (a->ld->flags & KG_LOADER_TRACK))
			emit_changes(a->ld, a, 1, a->mark, w);
		emit_labels(a, w);
		if (a->extras)
			emit_meta(a->ld, w);
		emit_index(a, w, TAG_OSP, order_osp);
		break;
	case PART_P:
		emit_index(a, w, TAG_POS, order_pos);
		break;
	default:
		emit_index(a, w, TAG_SPO, order_spo);
		if (!a->deleting)
			emit_terms(a, w);
		break;
	}
}

struct sst_job {
	struct apply_state *a;
	char *path;
	int rc;
	struct ling_err err; /* each thread's own */
};

/* ling_pool body: writes part `part` to its SST file. */
static void write_sst_part(void *ctx, size_t part, size_t end, size_t chunk)
{
	struct sst_job *job = (struct sst_job *)ctx + part;
	struct ling_rocksdb_writer *w = ling_rocksdb_sst_new(job->a->ld->st->db, job->path);

	(void)end, (void)chunk;
	emit_part(job->a, w, (int)part);
	job->rc = ling_rocksdb_writer_close(job->a->ld->st->db, w, "cannot write the load's SST file", &job->err);
}

static int write_sst(struct apply_state *a, struct ling_err *err)
{
	struct kg_store *st = a->ld->st;
	struct sst_job jobs[PARTS];
	const char *files[PARTS];
	struct ling_pool *pool;
	int i, rc = 0;

	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < PARTS; i++) {
		struct ling_buf path = LING_BUF_INIT;

		ling_buf_addf(&path, "%s/ling-ingest-%ld-%d.sst", st->dir, (long)getpid(), i);
		jobs[i].a = a;
		jobs[i].path = path.data;
		files[i] = path.data;
	}
	/* A thread per part, this one included: sorting and SST building are most of a bulk load. */
	pool = ling_pool_new(PARTS);
	ling_pool_for(pool, PARTS, 1, write_sst_part, jobs);
	ling_pool_free(pool);
	for (i = 0; i < PARTS && !rc; i++)
		if ((rc = jobs[i].rc))
			*err = jobs[i].err;
	crash_point("before-ingest");
	if (!rc) {
		/* The one step that makes the load visible, all of it at once. */
		rc = ling_rocksdb_ingest(st->db, files, PARTS, "cannot ingest the load", err);
		crash_point("after-ingest");
	}
	for (i = 0; i < PARTS; i++) {
		unlink(jobs[i].path);
		free(jobs[i].path);
	}
	return rc;
}

/* Frees what prepare_state() made. */
static void release_state(struct apply_state *a)
{
	free(a->changed);
	free(a->new_terms);
	free(a->counters);
	ling_buf_release(&a->counter_keys);
}

/*
 * Finds what the sorted, distinct quads q[0..n) change when added (deleting
 * 0) or removed, the new terms they need and the counters they move.
 */
static int prepare_state(struct apply_state *a, struct kg_loader *ld, int deleting, kg_id (*q)[4], size_t n,
			 struct ling_err *err)
{
	int rc;

	memset(a, 0, sizeof(*a));
	a->ld = ld;
	a->deleting = deleting;
	a->sign = deleting ? -1 : 1;
	if ((rc = find_changed(a, q, n, err)) || a->nchanged == 0)
		return rc;
	if (!deleting && (rc = find_new_terms(a, err)))
		return rc;
	collect_counters(a);
	return 0;
}

/* A quad with its place in the load and whether it deletes: seq = index << 1 | deletes. */
struct quad_op {
	kg_id q[4];
	uint64_t seq;
};

static int cmp_quad_op(const void *x, const void *y)
{
	const struct quad_op *a = x, *b = y;
	int c = cmp_quad(a->q, b->q);

	return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

/*
 * Splits a mixed load into the quads to add and those to remove, each sorted
 * and distinct: the last operation on a quad wins, as if the statements were
 * applied one by one. add and del must have room for ld->committed quads.
 */
static void split_mixed(struct kg_loader *ld, kg_id (*add)[4], size_t *nadd, kg_id (*del)[4], size_t *ndel)
{
	size_t n = ld->committed, i;
	struct quad_op *ops = xmalloc((n + 1) * sizeof(*ops));

	for (i = 0; i < n; i++) {
		memcpy(ops[i].q, ld->quads[i], sizeof(ops[i].q));
		ops[i].seq = (uint64_t)i << 1 | ld->deletes[i];
	}
	qsort(ops, n, sizeof(*ops), cmp_quad_op);
	*nadd = *ndel = 0;
	for (i = 0; i < n; i++) {
		if (i + 1 < n && !cmp_quad(ops[i].q, ops[i + 1].q))
			continue; /* a later operation on the same quad follows */
		if (ops[i].seq & 1)
			memcpy(del[(*ndel)++], ops[i].q, sizeof(del[0]));
		else
			memcpy(add[(*nadd)++], ops[i].q, sizeof(add[0]));
	}
	free(ops);
}

static const char change_mark_name[] = "change_mark";

/* The change mark from the store: 0 when none was taken. */
static int read_change_mark(struct kg_store *st, uint64_t *mark, struct ling_err *err)
{
	struct ling_buf v = LING_BUF_INIT;
	unsigned long long m = 0;
	char *end = NULL;
	int rc = kg_store_meta_get(st, change_mark_name, &v, err);

	*mark = 0;
	if (rc == 1) {
		m = strtoull(v.data, &end, 10);
		if (end == v.data || *end)
			rc = ling_err_at(err, LING_ESTORE, st->dir, 0, 0, "bad change mark in the store: %s", v.data);
		else
			*mark = m;
	}
	ling_buf_release(&v);
	return rc < 0 ? rc : 0;
}

/* Records the entities the states changed under change mark `mark`, and the mark. */
static void emit_changes(struct kg_loader *ld, const struct apply_state *states, int nstates, uint64_t mark,
			 struct ling_rocksdb_writer *w)
{
	kg_id *ids;
	size_t n = 0, cap = 1, i;
	unsigned char key[17];
	int s;

	for (s = 0; s < nstates; s++)
		cap += 2 * states[s].nchanged;
	ids = xmalloc(cap * sizeof(*ids));
	for (s = 0; s < nstates; s++)
		for (i = 0; i < states[s].nchanged; i++) {
			const kg_id *q = states[s].changed[i];

			ids[n++] = q[0];
			if (!is_literal_id(ld, q[2]))
				ids[n++] = q[2];
		}
	if (n > 1)
		qsort(ids, n, sizeof(*ids), cmp_id);
	key[0] = TAG_CHANGE;
	ling_put_be64(key + 1, mark);
	for (i = 0; i < n; i++) {
		if (i > 0 && ids[i] == ids[i - 1])
			continue;
		ling_put_be64(key + 9, ids[i]);
		emit(w, 'p', key, sizeof(key), "", 0);
	}
	free(ids);
}

struct meta_pair {
	const char *name, *value;
	size_t seq;
};

static int cmp_meta_pair(const void *x, const void *y)
{
	const struct meta_pair *a = x, *b = y;
	int c = strcmp(a->name, b->name);

	return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

/* The meta keys put for this apply, in key order, the last put of a name winning (an SST file needs both). */
static void emit_meta(struct kg_loader *ld, struct ling_rocksdb_writer *w)
{
	struct ling_buf key = LING_BUF_INIT;
	struct meta_pair *pairs = NULL;
	size_t pos = 0, n = 0, cap = 0, i;

	while (pos < ld->meta.len) {
		const char *name = ld->meta.data + pos, *value = name + strlen(name) + 1;

		pairs = xgrow(pairs, &cap, n + 1, sizeof(*pairs));
		pairs[n] = (struct meta_pair){ name, value, n };
		n++;
		pos = (size_t)(value + strlen(value) + 1 - ld->meta.data);
	}
	if (n > 1)
		qsort(pairs, n, sizeof(*pairs), cmp_meta_pair);
	for (i = 0; i < n; i++) {
		if (i + 1 < n && !strcmp(pairs[i].name, pairs[i + 1].name))
			continue;
		ling_buf_reset(&key);
		ling_buf_addc(&key, TAG_META);
		ling_buf_add(&key, pairs[i].name, strlen(pairs[i].name));
		emit(w, 'p', key.data, key.len, pairs[i].value, strlen(pairs[i].value));
	}
	free(pairs);
	ling_buf_release(&key);
}

/* A tracked load takes the next change mark: put it among the meta keys and keep it in *mark. */
static int take_change_mark(struct kg_loader *ld, uint64_t *mark, struct ling_err *err)
{
	char val[24];
	int rc;

	*mark = 0;
	if (!(ld->flags & KG_LOADER_TRACK))
		return 0;
	if ((rc = read_change_mark(ld->st, mark, err)))
		return rc;
	++*mark;
	snprintf(val, sizeof(val), "%" PRIu64, *mark);
	kg_loader_meta_put(ld, change_mark_name, val);
	return 0;
}

/* Writes the states, the change record (tracked loads) and the meta keys in one WriteBatch. */
static int write_batch(struct apply_state *states, int nstates, struct ling_err *err)
{
	struct kg_loader *ld = states[0].ld;
	struct ling_rocksdb_writer *w = ling_rocksdb_batch_new(ld->st->db);
	int part, s;

	for (s = 0; s < nstates; s++)
		for (part = 0; part < PARTS; part++)
			emit_part(&states[s], w, part);
	if (ld->flags & KG_LOADER_TRACK)
		emit_changes(ld, states, nstates, states[0].mark, w);
	emit_meta(ld, w);
	crash_point("before-batch");
	return ling_rocksdb_writer_close(ld->st->db, w, "cannot write the load", err);
}

/*
 * Prepares the load's one or two states (a mixed load: removals, then
 * additions; they never share a quad). @return the number of states, or a
 * negative ling_errc.
 */
static int prepare_load(struct kg_loader *ld, struct apply_state states[2], struct ling_err *err)
{
	kg_id (*add)[4], (*del)[4];
	size_t nadd, ndel, n;
	int rc;

	/* A mixed load that deletes nothing is a plain one (sorted faster, and may go in SST files). */
	if (!ld->deletes || !memchr(ld->deletes, 1, ld->committed)) {
		sort_quads(ld->quads, ld->committed);
		n = unique_quads(ld->quads, ld->committed);
		rc = prepare_state(&states[0], ld, !ld->deletes && (ld->flags & KG_LOADER_DELETE), ld->quads, n, err);
		return rc ? rc : 1;
	}
	add = xmalloc((ld->committed + 1) * sizeof(*add));
	del = xmalloc((ld->committed + 1) * sizeof(*del));
	split_mixed(ld, add, &nadd, del, &ndel);
	rc = prepare_state(&states[0], ld, 1, del, ndel, err);
	if (!rc && (rc = prepare_state(&states[1], ld, 0, add, nadd, err)))
		release_state(&states[0]);
	free(add);
	free(del);
	return rc ? rc : 2;
}

int kg_loader_apply(struct kg_loader *ld, struct kg_load_counts *counts, struct ling_err *err)
{
	struct apply_state states[2];
	size_t nkeys = 0, nchanged = 0, ndeleted = 0, nterms = 0;
	int nstates, s, rc = 0;

	memset(states, 0, sizeof(states));
	nstates = prepare_load(ld, states, err);
	if (nstates < 0) {
		rc = nstates;
		nstates = 0;
		goto out;
	}
	for (s = 0; s < nstates; s++) {
		nkeys += states[s].ncounters + ld->labels_committed + 3 * states[s].nchanged + states[s].nnew_terms;
		nchanged += states[s].nchanged;
		ndeleted += states[s].deleting ? states[s].nchanged : 0;
		nterms += states[s].nnew_terms;
	}
	/* A tracked load writes even when nothing changed: its change mark and meta keys must land. */
	if (nchanged == 0 && !ld->meta.len && !(ld->flags & KG_LOADER_TRACK))
		goto out;
	if ((rc = take_change_mark(ld, &states[0].mark, err)))
		goto out;
	if (nstates == 1 && !states[0].deleting && nchanged > 0 && nkeys >= SMALL_LOAD_KEYS) {
		states[0].extras = 1;
		rc = write_sst(&states[0], err);
	} else {
		rc = write_batch(states, nstates, err);
	}
out:
	if (!rc) {
		/* Counted once applied: a failed run's summary tells what the store holds. */
		counts->quads_read += ld->committed;
		counts->quads_changed += nchanged;
		counts->quads_deleted += ndeleted;
		counts->terms_added += nterms;
		counts->batches += !!(ld->flags & KG_LOADER_TRACK);
	} else if (!err->file[0]) {
		snprintf(err->file, sizeof(err->file), "%s", ld->st->dir);
	}
	/* Applied or not, these quads are done with. */
	ld->nquads = ld->committed = 0;
	ld->nlabels = ld->labels_committed = 0;
	ling_buf_reset(&ld->label_keys);
	ling_buf_reset(&ld->meta);
	for (s = 0; s < nstates; s++)
		release_state(&states[s]);
	return rc;
}

/* ---- changes ---- */

int kg_change_mark(struct kg_store *st, uint64_t *mark, struct ling_err *err)
{
	return read_change_mark(st, mark, err);
}

int kg_changed_since(struct kg_store *st, uint64_t mark, kg_id_fn fn, void *ctx, struct ling_err *err)
{
	struct ling_rocksdb_iter *it;
	unsigned char key[9];
	kg_id *ids = NULL;
	size_t n = 0, cap = 0, i;
	int rc = 0;

	if (mark == UINT64_MAX)
		return 0;
	key[0] = TAG_CHANGE;
	ling_put_be64(key + 1, mark + 1);
	it = ling_rocksdb_iter_new(st->db);
	for (ling_rocksdb_iter_seek(it, key, sizeof(key)); ling_rocksdb_iter_valid(it); ling_rocksdb_iter_next(it)) {
		size_t klen;
		const char *k = ling_rocksdb_iter_key(it, &klen);

		if (klen < 1 || k[0] != TAG_CHANGE)
			break;
		if (klen != 17)
			continue;
		ids = xgrow(ids, &cap, n + 1, sizeof(*ids));
		ids[n++] = ling_get_be64(k + 9);
	}
	if ((rc = ling_rocksdb_iter_free(it, "cannot read the store", err)))
		goto out;
	if (n > 1)
		qsort(ids, n, sizeof(*ids), cmp_id);
	for (i = 0; i < n; i++) {
		if (i > 0 && ids[i] == ids[i - 1])
			continue;
		if ((rc = fn(ctx, ids[i])))
			break;
	}
	rc = rc < 0 ? rc : 0;
out:
	free(ids);
	return rc;
}

/* ---- reading ---- */

/* Reads the dictionary entry of id into out. @return 1 found, 0 not, or a negative ling_errc. */
static int read_term(struct kg_store *st, kg_id id, struct ling_buf *out, struct ling_err *err)
{
	unsigned char key[9];

	key[0] = TAG_TERM;
	ling_put_be64(key + 1, id);
	return ling_rocksdb_get(st->db, key, 9, out, "cannot read the dictionary", err);
}

/* The id of a term already in canonical form, and whether the dictionary holds it. */
static int lookup_canonical(struct kg_store *st, const char *nt, size_t len, kg_id *id, int *found,
			    struct ling_err *err)
{
	struct ling_buf have = LING_BUF_INIT;
	int rc;

	*id = hash_id(nt, len);
	rc = read_term(st, *id, &have, err);
	*found = rc == 1 && have.len == len && !memcmp(have.data, nt, len);
	ling_buf_release(&have);
	return rc < 0 ? rc : 0;
}

int kg_store_term_id(struct kg_store *st, const struct kg_term *t, kg_id *id, int *found, struct ling_err *err)
{
	struct ling_buf nt = LING_BUF_INIT;
	int rc = kg_canon_term(&st->canon, t, NULL, &nt, err);

	if (!rc)
		rc = lookup_canonical(st, nt.data, nt.len, id, found, err);
	ling_buf_release(&nt);
	return rc;
}

int kg_store_nt_id(struct kg_store *st, const char *nt, kg_id *id, int *found, struct ling_err *err)
{
	struct ling_buf storage = LING_BUF_INIT, canonical = LING_BUF_INIT;
	struct kg_term t;
	int rc;

	/* Blank nodes are stored skolemised; their written label is the stored one. */
	if (!strncmp(nt, "_:", 2))
		return lookup_canonical(st, nt, strlen(nt), id, found, err);
	/* Canonicalise as a load would: escapes, language tag case. */
	rc = kg_nt_term_parse(nt, strlen(nt), &t, &storage, err);
	if (rc)
		rc = ling_err_set(err, LING_EUSAGE, "not an N-Triples term: %s", nt);
	if (!rc)
		rc = kg_canon_term(&st->canon, &t, NULL, &canonical, err);
	if (!rc)
		rc = lookup_canonical(st, canonical.data, canonical.len, id, found, err);
	ling_buf_release(&storage);
	ling_buf_release(&canonical);
	return rc;
}

kg_id kg_store_canonical_id(const char *nt, size_t len)
{
	return hash_id(nt, len);
}

int kg_store_term_nt(struct kg_store *st, kg_id id, struct ling_buf *out, struct ling_err *err)
{
	int rc = read_term(st, id, out, err);

	if (rc == 0)
		return ling_err_set(err, LING_ESTORE, "unknown term id %016" PRIx64, id);
	return rc < 0 ? rc : 0;
}

/* Scans the keys that start with prefix; calls fn(ctx, key, klen, value, vlen) until it returns non-zero. */
static int scan_prefix(struct kg_store *st, const void *prefix, size_t plen, ling_rocksdb_scan_fn fn, void *ctx,
		       struct ling_err *err)
{
	return ling_rocksdb_scan_prefix(st->db, prefix, plen, fn, ctx, "cannot read the store", err);
}

struct match_ctx {
	const struct kg_pattern *pat;
	const int *order; /* key position i holds quad slot order[i] */
	kg_quad_fn fn;
	void *ctx;
};

static int match_one(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct match_ctx *m = ctx;
	const kg_id want[4] = { m->pat->s, m->pat->p, m->pat->o, m->pat->g };
	kg_id quad[4];
	int i;

	(void)val, (void)vlen;
	if (klen != QUAD_KEY_LEN)
		return 0;
	for (i = 0; i < 4; i++)
		quad[m->order[i]] = kg_id_from_be(key + 1 + 8 * i);
	for (i = 0; i < 4; i++)
		if ((m->pat->bound & (1u << i)) && quad[i] != want[i])
			return 0;
	return m->fn(m->ctx, quad);
}

int kg_store_match(struct kg_store *st, const struct kg_pattern *pat, kg_quad_fn fn, void *ctx,
		   struct ling_err *err)
{
	static const int spo[4] = { 0, 1, 2, 3 }, pos[4] = { 1, 2, 0, 3 }, osp[4] = { 2, 0, 1, 3 };
	const kg_id slot[4] = { pat->s, pat->p, pat->o, pat->g };
	struct match_ctx m = { pat, spo, fn, ctx };
	unsigned b = pat->bound;
	unsigned char prefix[QUAD_KEY_LEN];
	size_t plen = 1;
	char tag = TAG_SPO;
	int i;

	/* The index whose key starts with the most bound slots. */
	if ((b & KG_BOUND_S) && !((b & KG_BOUND_O) && !(b & KG_BOUND_P))) {
		tag = TAG_SPO, m.order = spo;
	} else if (b & KG_BOUND_O) {
		tag = TAG_OSP, m.order = osp;
	} else if (b & KG_BOUND_P) {
		tag = TAG_POS, m.order = pos;
	}
	prefix[0] = (unsigned char)tag;
	for (i = 0; i < 4 && (b & (1u << m.order[i])); i++, plen += 8)
		ling_put_be64(prefix + plen, slot[m.order[i]]);
	return scan_prefix(st, prefix, plen, match_one, &m, err);
}

struct label_ctx {
	kg_id_fn fn;
	void *ctx;
};

static int label_one(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct label_ctx *l = ctx;

	(void)val, (void)vlen;
	return klen >= 9 ? l->fn(l->ctx, kg_id_from_be(key + klen - 8)) : 0;
}

int kg_store_find_label(struct kg_store *st, const char *label, const char *lang, kg_id_fn fn, void *ctx,
			struct ling_err *err)
{
	struct ling_buf prefix = LING_BUF_INIT;
	struct label_ctx l = { fn, ctx };
	size_t i;
	int rc;

	ling_buf_addc(&prefix, TAG_LABEL);
	if ((rc = label_key(&st->canon, label, strlen(label), &prefix, err)))
		goto out;
	ling_buf_addc(&prefix, '\0');
	for (i = 0; lang && lang[i]; i++)
		ling_buf_addc(&prefix, (char)(lang[i] >= 'A' && lang[i] <= 'Z' ? lang[i] - 'A' + 'a' : lang[i]));
	if (lang)
		ling_buf_addc(&prefix, '\0');
	rc = scan_prefix(st, prefix.data, prefix.len, label_one, &l, err);
out:
	ling_buf_release(&prefix);
	return rc;
}

struct count_ctx {
	kg_count_fn fn;
	void *ctx;
	uint64_t nonzero;
};

static int count_one(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct count_ctx *c = ctx;
	int64_t lanes[4] = { 0, 0, 0, 0 };
	size_t i, n = vlen / 8 < 4 ? vlen / 8 : 4;
	int any = 0;

	for (i = 0; i < n; i++) {
		lanes[i] = (int64_t)ling_get_le64(val + 8 * i);
		any |= lanes[i] != 0;
	}
	if (!any)
		return 0; /* everything it counted was deleted */
	c->nonzero++;
	return c->fn ? c->fn(c->ctx, key + 2, klen - 2, lanes, n) : 0;
}

int kg_store_counts(struct kg_store *st, char kind, kg_count_fn fn, void *ctx, struct ling_err *err)
{
	char prefix[2] = { TAG_COUNT, kind };
	struct count_ctx c = { fn, ctx, 0 };

	return scan_prefix(st, prefix, 2, count_one, &c, err);
}

static int read_counter(struct kg_store *st, const char *key, size_t klen, int64_t lanes[2], struct ling_err *err)
{
	struct ling_buf v = LING_BUF_INIT;
	int rc;

	lanes[0] = lanes[1] = 0;
	rc = ling_rocksdb_get(st->db, key, klen, &v, "cannot read a counter", err);
	if (rc == 1 && v.len >= 8)
		lanes[0] = (int64_t)ling_get_le64(v.data);
	if (rc == 1 && v.len >= 16)
		lanes[1] = (int64_t)ling_get_le64(v.data + 8);
	ling_buf_release(&v);
	return rc < 0 ? rc : 0;
}

int kg_store_degree(struct kg_store *st, kg_id id, int64_t *out_degree, int64_t *in_degree, struct ling_err *err)
{
	unsigned char key[10] = { TAG_COUNT, 'd' };
	int64_t lanes[2];
	int rc;

	ling_put_be64(key + 2, id);
	rc = read_counter(st, (const char *)key, sizeof(key), lanes, err);
	*out_degree = lanes[0];
	*in_degree = lanes[1];
	return rc;
}

int kg_store_stats(struct kg_store *st, struct kg_stats *out, struct ling_err *err)
{
	const char quads_key[2] = { TAG_COUNT, 'q' }, terms_key[2] = { TAG_COUNT, 't' };
	struct count_ctx c = { NULL, NULL, 0 };
	char prefix[2] = { TAG_COUNT, 'd' };
	int64_t lanes[2];
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = read_counter(st, quads_key, 2, lanes, err)))
		return rc;
	out->quads = (uint64_t)lanes[0];
	if ((rc = read_counter(st, terms_key, 2, lanes, err)))
		return rc;
	out->terms = (uint64_t)lanes[0];
	if ((rc = scan_prefix(st, prefix, 2, count_one, &c, err)))
		return rc;
	out->entities = c.nonzero;
	c.nonzero = 0;
	prefix[1] = 'p';
	if ((rc = scan_prefix(st, prefix, 2, count_one, &c, err)))
		return rc;
	out->predicates = c.nonzero;
	out->disk_bytes = ling_dir_bytes(st->dir);
	return 0;
}
