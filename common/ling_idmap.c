/*
 * ling_idmap: linear probing on a power-of-two table. Linear probing is the
 * fastest scheme at loads up to 2/3 for keys that are already hashes, and
 * keeps the multimap order (entries of a key along one probe run) simple.
 */
#include "ling_idmap.h"

#include "ling_mem.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

#define PHI LING_IDMAP_PHI

void ling_idmap_init(struct ling_idmap *m, const struct ling_idmap_opts *opts)
{
	static const struct ling_idmap_opts defaults = LING_IDMAP_OPTS_INIT;

	memset(m, 0, sizeof(*m));
	m->opts = opts ? *opts : defaults;
	if (!m->opts.min_cap)
		m->opts.min_cap = defaults.min_cap;
	if (!m->opts.load_den) {
		m->opts.load_num = defaults.load_num;
		m->opts.load_den = defaults.load_den;
	}
	assert(!(m->opts.min_cap & (m->opts.min_cap - 1)));
	assert(m->opts.load_num && m->opts.load_num < m->opts.load_den);
	/* The three hashes as one multiply and shift, so that the probe loop has no switch. */
	m->mul = m->opts.hash == LING_IDMAP_HASH_IDENTITY ? 1 : PHI;
	m->shift = m->opts.hash == LING_IDMAP_HASH_MID ? 32 : 0;
	m->val0 = !!(m->opts.flags & LING_IDMAP_VAL0_EMPTY);
	m->fast = m->opts.hash == LING_IDMAP_HASH_LOW && !m->val0;
}

void ling_idmap_release(struct ling_idmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->n = m->limit = 0;
}

void ling_idmap_clear(struct ling_idmap *m)
{
	if (m->slots)
		memset(m->slots, 0, m->cap * sizeof(*m->slots));
	m->n = 0;
}

/* The first empty slot on key's probe run. */
static size_t free_slot(const struct ling_idmap *m, uint64_t key)
{
	size_t i = ling_idmap_home(m, key);

	while (ling_idmap_used(m, i))
		i = (i + 1) & (m->cap - 1);
	return i;
}

/* Whether n entries in cap slots pass the load, n / cap > num / den (the copies' test). */
static int over_load(const struct ling_idmap *m, size_t n, size_t cap)
{
	return n * m->opts.load_den > cap * m->opts.load_num;
}

void ling_idmap_reserve(struct ling_idmap *m, size_t more)
{
	struct ling_idmap_ent *old = m->slots;
	size_t old_cap = m->cap, cap = old_cap ? old_cap : m->opts.min_cap, i;

	while (over_load(m, m->n + more, cap))
		cap *= 2;
	if (cap == old_cap)
		return;
	m->slots = xcalloc(cap, sizeof(*m->slots));
	m->cap = cap;
	/* n > limit exactly when over_load(n, cap): the inline insert tests the cheaper form. */
	m->limit = cap * m->opts.load_num / m->opts.load_den;
	for (i = 0; i < old_cap; i++)
		if (m->val0 ? old[i].val != 0 : old[i].key != 0)
			m->slots[free_slot(m, old[i].key)] = old[i];
	free(old);
}

struct ling_idmap_ent *ling_idmap_find_next(const struct ling_idmap *m, uint64_t key, size_t *cursor)
{
	size_t i;

	if (!m->n)
		return NULL;
	/* cursor: 0 = not started, else 1 + the slot after the last hit. */
	i = *cursor ? *cursor - 1 : ling_idmap_home(m, key);
	for (; ling_idmap_used(m, i); i = (i + 1) & (m->cap - 1))
		if (m->slots[i].key == key) {
			*cursor = ((i + 1) & (m->cap - 1)) + 1;
			return &m->slots[i];
		}
	return NULL;
}

struct ling_idmap_ent *ling_idmap_store(struct ling_idmap *m, size_t i, uint64_t key, uint64_t val)
{
	assert(m->val0 ? val != 0 : key != 0);
	m->slots[i].key = key;
	m->slots[i].val = val;
	m->n++;
	return &m->slots[i];
}

struct ling_idmap_ent *ling_idmap_insert_any(struct ling_idmap *m, uint64_t key, uint64_t val, int *added)
{
	size_t i;

	if (m->n + 1 > m->limit)
		ling_idmap_reserve(m, 1);
	for (i = ling_idmap_home(m, key); ling_idmap_used(m, i); i = (i + 1) & (m->cap - 1))
		if (m->slots[i].key == key) {
			if (added)
				*added = 0;
			return &m->slots[i];
		}
	if (added)
		*added = 1;
	return ling_idmap_store(m, i, key, val);
}

void ling_idmap_put(struct ling_idmap *m, uint64_t key, uint64_t val)
{
	ling_idmap_insert(m, key, val, NULL)->val = val;
}

void ling_idmap_add(struct ling_idmap *m, uint64_t key, uint64_t val)
{
	if (m->n + 1 > m->limit)
		ling_idmap_reserve(m, 1);
	ling_idmap_store(m, free_slot(m, key), key, val);
}

struct ling_idmap_ent *ling_idmap_next(const struct ling_idmap *m, size_t *pos)
{
	for (; *pos < m->cap; (*pos)++)
		if (ling_idmap_used(m, *pos))
			return &m->slots[(*pos)++];
	return NULL;
}
