/*
 * ling_idmap: an open-addressing hash map from 64-bit keys to 64-bit values
 * (linear probing, power-of-two capacity), for the id tables of the stages:
 * kg term ids to arena offsets, to cached names, to counters; a set of seen
 * ids; kg ids to entity numbers; dedup's bucket and exact-hash tables.
 *
 * One slot is a struct ling_idmap_ent {key, val}, 16 bytes, key and value
 * side by side so that a hit costs one cache line.
 *
 * Which slots are empty (the map's one mode bit, chosen at init):
 *  - default: key 0 is the empty mark and cannot be stored; any value can.
 *    kg ids are never 0 (kg/kg.h), so every kg and synth table fits.
 *  - LING_IDMAP_VAL0_EMPTY: value 0 is the empty mark and cannot be stored;
 *    any key can, 0 included (dedup: bucket keys are arbitrary hashes,
 *    refs start at 1).
 *
 * Maps and multimaps: ling_idmap_insert() and ling_idmap_put() keep a key
 * once; ling_idmap_add() appends another entry even when the key is there
 * (dedup's buckets), and ling_idmap_find_next() walks all entries of a key,
 * in probe order, which is the order they were added in while the map does
 * not grow (growth reinserts in slot order, as the copies did).
 *
 * Invariants: cap is 0 or a power of two >= min_cap; n entries are stored;
 * after every insert n * load_den <= cap * load_num. The slot of a key is
 * hash(key) & (cap - 1) and the probe moves to the next slot; growth
 * doubles cap and reinserts old slots in index order. These rules, the hash
 * and the load are fixed by the options, so that a caller that iterates in
 * slot order (dedup's commit) sees the same order as its former private
 * table: see struct ling_idmap_opts.
 *
 * There is no deletion (no caller needs it); ling_idmap_clear() empties the
 * map and keeps its memory.
 *
 * Ownership: the map owns its slot array; values are plain numbers to it. A
 * caller storing pointers (kg's name cache) frees them itself, by iterating
 * with ling_idmap_next() before ling_idmap_release().
 *
 * Replaces, each with the options that keep its slot order and growth
 * points (so every output stays byte-identical):
 *   kg/kg_query.c  struct id_set, set_add: a set; insert(id, 1, &added),
 *                  min_cap 256. Its key-0 dodge (tkey ? tkey : 1) stays.
 *   kg/kg_store.c  struct term_table (id -> {check, off}): insert(id, off),
 *                  min_cap 1024; the 64-bit check moves next to the term in
 *                  the arena (or a side array indexed by the value), as a
 *                  slot holds one value. find_new_terms marks slots by
 *                  index: ent - m->slots.
 *   kg/kg_store.c  struct lanes_map (id -> two int64 lanes): insert(id,
 *                  index into a lanes array), min_cap 256; lanes_flush
 *                  iterates with ling_idmap_next (its output is sorted).
 *   kg/kg_tools.c  struct id_cache (id -> char *): find / insert(id,
 *                  (uintptr_t)name), min_cap 1024; kg_tool_cache_clear frees
 *                  the names by iteration, then release. No size bound.
 *   synth/synth_graph.c struct id_map (id -> entity number): insert(id,
 *                  next, &added), min_cap 4096 (16-byte slots instead of
 *                  split 8 + 4 byte arrays).
 *   dedup/dedup_state.c bucket table (key -> ref, keys repeat): options
 *                  { HASH_MID, VAL0_EMPTY, 4096, 2, 3 }; reserve(bands),
 *                  then add(key, ref) per band; find_next in
 *                  dedup_state_find_bucket; emit_commit scans slots in
 *                  index order (ling_idmap_next) exactly as before.
 *   dedup/dedup_state.c exact table ({lo, hi} -> ref): options
 *                  { HASH_IDENTITY, VAL0_EMPTY, 1024, 1, 2 }, key = lo,
 *                  value = ref, hi kept with the record (a field added
 *                  to struct pdoc, docs[ref - base_ref]); find_next on
 *                  lo, then compare hi. Its emission sorts by (hi, lo),
 *                  so slot order does not reach the output.
 */
#ifndef LING_IDMAP_H
#define LING_IDMAP_H

#include <stddef.h>
#include <stdint.h>

#define LING_IDMAP_PHI 0x9E3779B97F4A7C15ULL /* 2^64 / the golden ratio */

/* How a key picks its home slot (k * φ: Fibonacci hashing, φ = 0x9E3779B97F4A7C15). */
enum ling_idmap_hash {
	/* (k * φ) & (cap - 1): kg/kg_query.c, kg/kg_store.c, kg/kg_tools.c, synth/synth_graph.c. */
	LING_IDMAP_HASH_LOW,
	/* ((k * φ) >> 32) & (cap - 1): dedup's buckets. Better when keys differ in high bits only. */
	LING_IDMAP_HASH_MID,
	/* k & (cap - 1): keys that are already uniform hashes (dedup's exact table). */
	LING_IDMAP_HASH_IDENTITY,
};

enum ling_idmap_flags {
	LING_IDMAP_VAL0_EMPTY = 1 << 0, /* value 0 marks an empty slot instead of key 0 */
};

struct ling_idmap_opts {
	enum ling_idmap_hash hash;
	unsigned flags;          /* enum ling_idmap_flags */
	size_t min_cap;          /* the first capacity, a power of two (0: 1024) */
	unsigned load_num, load_den; /* the highest load, num/den < 1 (0/0: 1/2) */
};

struct ling_idmap_ent {
	uint64_t key;
	uint64_t val;
};

struct ling_idmap {
	struct ling_idmap_ent *slots; /* cap slots, NULL while cap is 0 */
	size_t cap, n;
	size_t limit;                 /* the most entries cap slots may hold at the load */
	uint64_t mul;                 /* home = ((key * mul) >> shift) & (cap - 1) */
	unsigned shift;
	int val0;                     /* LING_IDMAP_VAL0_EMPTY */
	int fast;                     /* HASH_LOW with key 0 empty: the inline paths */
	struct ling_idmap_opts opts;
};

#define LING_IDMAP_OPTS_INIT { LING_IDMAP_HASH_LOW, 0, 1024, 1, 2 }

/* Starts an empty map (no memory until the first insert). opts NULL: LING_IDMAP_OPTS_INIT. */
void ling_idmap_init(struct ling_idmap *m, const struct ling_idmap_opts *opts);

/* Frees the slots; the map is empty and may be used again. */
void ling_idmap_release(struct ling_idmap *m);

/* Empties the map, keeping its capacity (dedup's tables_clear). */
void ling_idmap_clear(struct ling_idmap *m);

/*
 * Grows (doubling from min_cap) until more entries can be added without
 * passing the load: the growth point of the copies that reserve before a
 * batch (dedup reserves 1 exact entry, then `bands` bucket entries).
 */
void ling_idmap_reserve(struct ling_idmap *m, size_t more);

/* The home slot of key (cap > 0). */
static inline size_t ling_idmap_home(const struct ling_idmap *m, uint64_t key)
{
	return (size_t)((key * m->mul) >> m->shift) & (m->cap - 1);
}

/* Whether slot i (i < cap) holds an entry. */
static inline int ling_idmap_used(const struct ling_idmap *m, size_t i)
{
	return m->val0 ? m->slots[i].val != 0 : m->slots[i].key != 0;
}

/*
 * Walks the entries of key in probe order: start with *cursor = 0, call
 * until NULL. For multimaps; same validity as ling_idmap_find().
 */
struct ling_idmap_ent *ling_idmap_find_next(const struct ling_idmap *m, uint64_t key, size_t *cursor);

/*
 * The entry of key, or NULL. The pointer is valid until the next insert,
 * add, put, reserve, clear or release; the caller may change ->val (never
 * to 0 in VAL0_EMPTY mode) but not ->key. Its slot index is ent - m->slots.
 */
static inline struct ling_idmap_ent *ling_idmap_find(const struct ling_idmap *m, uint64_t key)
{
	size_t cursor = 0, i, mask = m->cap - 1;

	if (!m->n)
		return NULL;
	if (!m->fast)
		return ling_idmap_find_next(m, key, &cursor);
	/* The default mode with its hash and empty mark as constants: about 15% faster than the general loop. */
	for (i = (size_t)(key * LING_IDMAP_PHI) & mask; m->slots[i].key; i = (i + 1) & mask)
		if (m->slots[i].key == key)
			return &m->slots[i];
	return NULL;
}

/* Stores a new entry in empty slot i (the out-of-line half of an insert). */
struct ling_idmap_ent *ling_idmap_store(struct ling_idmap *m, size_t i, uint64_t key, uint64_t val);

/* ling_idmap_insert() for every mode (the inline one handles the default mode itself). */
struct ling_idmap_ent *ling_idmap_insert_any(struct ling_idmap *m, uint64_t key, uint64_t val, int *added);

/*
 * The entry of key, added with value val when key is absent (*added = 1, else
 * 0; added may be NULL). Grows first when the insert could pass the load,
 * whether or not key is there (as every copy did). key must not be 0 (default
 * mode) and val not 0 (VAL0_EMPTY) (asserted).
 * @return the entry; same validity as ling_idmap_find().
 * Inline: the probe loop is the inner loop of kg-load and kg2samples' setup.
 */
static inline struct ling_idmap_ent *ling_idmap_insert(struct ling_idmap *m, uint64_t key, uint64_t val, int *added)
{
	size_t i, mask;

	if (!m->fast)
		return ling_idmap_insert_any(m, key, val, added);
	if (m->n + 1 > m->limit)
		ling_idmap_reserve(m, 1);
	mask = m->cap - 1;
	for (i = (size_t)(key * LING_IDMAP_PHI) & mask; m->slots[i].key; i = (i + 1) & mask)
		if (m->slots[i].key == key) {
			if (added)
				*added = 0;
			return &m->slots[i];
		}
	if (added)
		*added = 1;
	return ling_idmap_store(m, i, key, val);
}

/* Sets key's value to val, adding key when absent. */
void ling_idmap_put(struct ling_idmap *m, uint64_t key, uint64_t val);

/* Adds an entry for key without looking for one: a multimap insert (dedup's buckets). */
void ling_idmap_add(struct ling_idmap *m, uint64_t key, uint64_t val);

/*
 * Iterates the entries in slot order: start with *pos = 0; each call
 * returns the next entry at or after *pos and moves *pos past it, NULL at
 * the end. The order is the slot order, fixed by the options and the
 * history of inserts (not sorted).
 */
struct ling_idmap_ent *ling_idmap_next(const struct ling_idmap *m, size_t *pos);

#endif
