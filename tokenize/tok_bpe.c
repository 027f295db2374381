/*
 * tok_bpe: the BPE merge loop (huggingface/tokenizers word.rs merge_all,
 * tiktoken byte_pair_merge). Symbols form a doubly linked list over one
 * pre-token; every adjacent pair that has a merge goes into a min-heap keyed
 * by (rank, position), so the lowest rank wins and ties go to the leftmost
 * pair. Popped entries whose pair has changed since they were pushed are
 * stale and skipped. O(n log n) per piece, which matters for SentencePiece
 * models with no pre-tokenizer, where a whole line is one piece.
 *
 * Two things make encoding fast without changing a single id:
 * - A bounded cache from piece bytes to ids (HF keeps one of 10,000 words,
 *   FORMATS.md 1.2): text repeats its words, so most pieces skip the merge
 *   loop. It is emptied when full, so memory stays bounded.
 * - SentencePiece-style models (Mistral, Llama-2) merge a whole segment as
 *   one word. Where two adjacent characters x y occur together in no token,
 *   no merged symbol can ever cover both, so the merge loop on each side of
 *   them runs alone: the segment is cut there into short words that hit the
 *   cache. Cuts go between ASCII characters that no token joins, and before
 *   the word separator ▁ where no token holds ▁ after another character
 *   (which is how SentencePiece vocabularies are built); find_cuts() proves
 *   both from the vocabulary once. Long words still merge in O(n log n).
 */
#include "tok_internal.h"

#include "../common/ling_utf8.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../common/banned.h"

void tok_ids_push(struct tok_ids *ids, uint32_t id)
{
	if (ids->len == ids->cap)
		ids->v = xgrow(ids->v, &ids->cap, ids->len + 1, sizeof(*ids->v));
	ids->v[ids->len++] = id;
}

static int heap_less(const struct tok_heap_ent *a, const struct tok_heap_ent *b)
{
	return a->rank != b->rank ? a->rank < b->rank : a->pos < b->pos;
}

static void heap_push(struct tok *t, size_t *n, const struct tok_heap_ent *e)
{
	size_t i = (*n)++;

	if (*n > t->cap_heap)
		t->heap = xgrow(t->heap, &t->cap_heap, *n, sizeof(*t->heap));
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!heap_less(e, &t->heap[parent]))
			break;
		t->heap[i] = t->heap[parent];
		i = parent;
	}
	t->heap[i] = *e;
}

static struct tok_heap_ent heap_pop(struct tok *t, size_t *n)
{
	struct tok_heap_ent top = t->heap[0], last = t->heap[--*n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && heap_less(&t->heap[c + 1], &t->heap[c]))
			c++;
		if (!heap_less(&t->heap[c], &last))
			break;
		t->heap[i] = t->heap[c];
		i = c;
	}
	if (*n)
		t->heap[i] = last;
	return top;
}

/* The merge of symbols a and b: HF by the pair of ids, tiktoken by the rank of their joined bytes. */
static int pair_lookup(const struct tok *t, const char *s, const struct tok_sym *a, const struct tok_sym *b,
		       uint32_t *rank, uint32_t *id)
{
	if (t->tiktoken) {
		uint32_t r = tok_vocab_find(t, s + a->off, a->len + b->len);

		if (r == TOK_NONE)
			return 0;
		*rank = *id = r;
		return 1;
	} else {
		const struct tok_pair *p;

		if (a->id == TOK_NONE || b->id == TOK_NONE)
			return 0;
		p = tok_pair_find(t, a->id, b->id);
		if (!p)
			return 0;
		*rank = p->rank;
		*id = p->id;
		return 1;
	}
}

static void push_pair(struct tok *t, const char *s, size_t *nheap, int32_t i)
{
	struct tok_sym *a = &t->syms[i], *b;
	struct tok_heap_ent e;

	if (a->next < 0)
		return;
	b = &t->syms[a->next];
	if (!pair_lookup(t, s, a, b, &e.rank, &e.id))
		return;
	e.pos = (uint32_t)i;
	e.right = (uint32_t)a->next;
	e.lid = a->id;
	e.rid = b->id;
	heap_push(t, nheap, &e);
}

static void add_sym(struct tok *t, size_t *n, uint32_t id, size_t off, size_t len)
{
	struct tok_sym *sym;

	/* fuse_unk: a run of unknown characters is one unk token. */
	if (id == t->unk && id != TOK_NONE && t->fuse_unk && *n > 0 && t->syms[*n - 1].id == t->unk) {
		t->syms[*n - 1].len += (uint32_t)len;
		return;
	}
	if (*n == t->cap_syms)
		t->syms = xgrow(t->syms, &t->cap_syms, *n + 1, sizeof(*t->syms));
	sym = &t->syms[*n];
	sym->id = id;
	sym->off = (uint32_t)off;
	sym->len = (uint32_t)len;
	sym->prev = (int32_t)*n - 1;
	sym->next = -1;
	if (*n > 0)
		t->syms[*n - 1].next = (int32_t)*n;
	(*n)++;
}

/* ---- the piece cache, and what find_cuts() learnt of the vocabulary ---- */

#define CACHE_SLOTS (1u << 17)        /* a power of two */
#define CACHE_MAX_ENTRIES (1u << 16)  /* half the slots: short probes */
#define CACHE_MAX_PIECE 255           /* as HF; longer pieces are rare and not cached */
#define CACHE_MAX_KEY_BYTES (1u << 23)

struct cache_slot {
	uint64_t hash;
	uint32_t key_off, ids_off;
	uint16_t key_len, nids;       /* key_len 0: empty (empty pieces are never cached) */
};

struct tok_bpe_cache {
	struct cache_slot *slots;
	size_t entries;
	struct ling_buf keys;
	struct tok_ids ids;
	int cut;                      /* find_cuts: segments may be cut into words */
	unsigned char join[128][16];  /* bit y of join[x]: some token holds ASCII x then y */
	const char *sep;              /* the word separator ▁ when cuts go before it, else NULL */
	size_t sep_len;
	uint32_t ascii_ids[128];      /* not byte-level: the token of each ASCII character */
};

/* The first symbols: bytes (byte-level), or characters with byte fallback or unk. */
static size_t initial_symbols(struct tok *t, const char *s, size_t len)
{
	size_t n = 0, i = 0;

	while (i < len) {
		unsigned long cp;
		size_t clen, k;
		uint32_t id;

		if (t->byte_level) {
			add_sym(t, &n, t->byte_ids[(unsigned char)s[i]], i, 1);
			i++;
			continue;
		}
		if ((unsigned char)s[i] < 0x80) {
			clen = 1;
			id = t->bpe_cache->ascii_ids[(unsigned char)s[i]];
		} else {
			clen = ling_utf8_decode(s + i, len - i, &cp);
			if (!clen)
				clen = 1;
			id = tok_vocab_find(t, s + i, clen);
		}
		if (id != TOK_NONE) {
			add_sym(t, &n, id, i, clen);
		} else if (t->byte_fallback) {
			for (k = 0; k < clen && t->byte_ids[(unsigned char)s[i + k]] != TOK_NONE; k++)
				;
			if (k == clen)
				for (k = 0; k < clen; k++)
					add_sym(t, &n, t->byte_ids[(unsigned char)s[i + k]], i + k, 1);
			else
				add_sym(t, &n, t->unk, i, clen);
		} else {
			add_sym(t, &n, t->unk, i, clen);
		}
		i += clen;
	}
	return n;
}

/* BPE of one piece, without the cache. */
static void bpe_merge(struct tok *t, const char *s, size_t len, struct tok_ids *out)
{
	size_t nsyms, nheap = 0, i;
	int32_t k;

	if (t->ignore_merges || t->tiktoken) {
		uint32_t id = tok_vocab_find(t, s, len);

		if (id != TOK_NONE) {
			tok_ids_push(out, id);
			return;
		}
	}
	nsyms = initial_symbols(t, s, len);
	for (i = 0; i + 1 < nsyms; i++)
		push_pair(t, s, &nheap, (int32_t)i);
	while (nheap) {
		struct tok_heap_ent e = heap_pop(t, &nheap);
		struct tok_sym *a = &t->syms[e.pos], *b;

		if (a->len == 0 || a->next != (int32_t)e.right || a->id != e.lid)
			continue;
		b = &t->syms[e.right];
		if (b->id != e.rid)
			continue;
		a->id = e.id;
		a->len += b->len;
		a->next = b->next;
		if (b->next >= 0)
			t->syms[b->next].prev = (int32_t)e.pos;
		b->len = 0;
		if (a->prev >= 0)
			push_pair(t, s, &nheap, a->prev);
		push_pair(t, s, &nheap, (int32_t)e.pos);
	}
	for (k = nsyms ? 0 : -1; k >= 0; k = t->syms[k].next)
		if (t->syms[k].id != TOK_NONE)
			tok_ids_push(out, t->syms[k].id);
}

void tok_bpe_cache_free(struct tok_bpe_cache *c)
{
	if (!c)
		return;
	free(c->slots);
	ling_buf_release(&c->keys);
	tok_ids_release(&c->ids);
	free(c);
}

static void cache_clear(struct tok_bpe_cache *c)
{
	memset(c->slots, 0, CACHE_SLOTS * sizeof(*c->slots));
	c->entries = 0;
	ling_buf_reset(&c->keys);
	c->ids.len = 0;
}

static void ids_append(struct tok_ids *out, const uint32_t *v, size_t n)
{
	if (!n)
		return; /* v may be NULL: a piece with no ids (all of it unknown, no unk token) */
	if (out->len + n > out->cap)
		out->v = xgrow(out->v, &out->cap, out->len + n, sizeof(*out->v));
	memcpy(out->v + out->len, v, n * sizeof(*v));
	out->len += n;
}

/* Encodes a piece through the cache. */
static void piece_cached(struct tok *t, const char *s, size_t len, struct tok_ids *out)
{
	struct tok_bpe_cache *c = t->bpe_cache;
	struct cache_slot *slot;
	uint64_t h;
	size_t i, before;

	if (len > CACHE_MAX_PIECE) {
		bpe_merge(t, s, len, out);
		return;
	}
	h = XXH3_64bits(s, len);
	for (i = (size_t)h & (CACHE_SLOTS - 1); (slot = &c->slots[i])->key_len; i = (i + 1) & (CACHE_SLOTS - 1))
		if (slot->hash == h && slot->key_len == len && !memcmp(c->keys.data + slot->key_off, s, len)) {
			ids_append(out, c->ids.v + slot->ids_off, slot->nids);
			return;
		}
	before = out->len;
	bpe_merge(t, s, len, out);
	if (out->len == before || out->len - before > UINT16_MAX)
		return; /* nothing to cache (out->v may still be NULL), or too long to */
	if (c->entries >= CACHE_MAX_ENTRIES || c->keys.len + len > CACHE_MAX_KEY_BYTES) {
		cache_clear(c);
		for (i = (size_t)h & (CACHE_SLOTS - 1); c->slots[i].key_len; i = (i + 1) & (CACHE_SLOTS - 1))
			;
		slot = &c->slots[i];
	}
	slot->hash = h;
	slot->key_off = (uint32_t)c->keys.len;
	slot->key_len = (uint16_t)len;
	slot->ids_off = (uint32_t)c->ids.len;
	slot->nids = (uint16_t)(out->len - before);
	ling_buf_add(&c->keys, s, len);
	ids_append(&c->ids, out->v + before, out->len - before);
	c->entries++;
}

/* ---- cutting SentencePiece segments into words ---- */

/* The bytes of token id, or NULL. */
static const char *token_text(const struct tok *t, size_t id, size_t *len)
{
	if (id >= t->ntokens || t->tokens[id].len == TOK_NONE)
		return NULL;
	*len = t->tokens[id].len;
	return t->arena.data + t->tokens[id].off;
}

/*
 * A merged symbol spells its token, so it can cover two characters only when
 * some token holds them side by side. That holds for every symbol when no
 * merge involves a byte-fallback or unk symbol (their ids do not spell the
 * text they cover), and no run of unknown characters is fused into one unk.
 * Then fills c->join (ASCII pairs that some token holds) and c->sep (when no
 * token holds sep after another character, and sep is a token). @return 1
 * when segments may be cut at all.
 */
static int find_cuts(const struct tok *t, struct tok_bpe_cache *c)
{
	const char *sep = t->dec_from;
	size_t sep_len = sep ? strlen(sep) : 0, id, i, len;
	unsigned char *special;
	int ok = 0, sep_ok;

	if (t->byte_level || t->tiktoken || !t->pairs)
		return 0;
	if (t->unk != TOK_NONE && t->fuse_unk) {
		if (!t->byte_fallback)
			return 0;
		for (i = 0; i < 256; i++)
			if (t->byte_ids[i] == TOK_NONE)
				return 0;
	}
	special = xcalloc(t->ntokens + 1, 1);
	for (i = 0; i < 256; i++)
		if (t->byte_ids[i] < t->ntokens)
			special[t->byte_ids[i]] = 1;
	if (t->unk < t->ntokens)
		special[t->unk] = 1;
	for (i = 0; i <= t->pmask; i++) {
		uint64_t key = t->pairs[i].key;

		if (key != UINT64_MAX && ((key >> 32) >= t->ntokens || (key & 0xFFFFFFFFu) >= t->ntokens ||
					  special[key >> 32] || special[key & 0xFFFFFFFFu]))
			goto out;
	}
	sep_ok = sep_len && tok_vocab_find(t, sep, sep_len) != TOK_NONE;
	for (id = 0; id < t->ntokens; id++) {
		const unsigned char *s = (const unsigned char *)token_text(t, id, &len);

		if (!s)
			continue;
		for (i = 0; i + 1 < len; i++)
			if (s[i] < 0x80 && s[i + 1] < 0x80)
				c->join[s[i]][s[i + 1] >> 3] |= (unsigned char)(1u << (s[i + 1] & 7));
		if (sep_ok) {
			for (i = 0; i + sep_len <= len && !memcmp(s + i, sep, sep_len); i += sep_len)
				;
			if (i < len && memmem(s + i, len - i, sep, sep_len))
				sep_ok = 0;
		}
	}
	if (sep_ok) {
		c->sep = sep;
		c->sep_len = sep_len;
	}
	ok = 1;
out:
	free(special);
	return ok;
}

static struct tok_bpe_cache *cache_new(const struct tok *t)
{
	struct tok_bpe_cache *c = xcalloc(1, sizeof(*c));

	size_t i;

	c->slots = xcalloc(CACHE_SLOTS, sizeof(*c->slots));
	c->cut = find_cuts(t, c);
	for (i = 0; i < 128; i++) {
		char ch = (char)i;

		c->ascii_ids[i] = tok_vocab_find(t, &ch, 1);
	}
	return c;
}

#define PREV_NONE 256
#define PREV_SEP 257
#define PREV_OTHER 258

/* Cuts s where find_cuts allows, and encodes the words. */
static void cut_words(struct tok *t, const char *text, size_t len, struct tok_ids *out)
{
	const struct tok_bpe_cache *c = t->bpe_cache;
	const unsigned char *s = (const unsigned char *)text;
	size_t start = 0, i = 0;
	unsigned prev = PREV_NONE;

	while (i < len) {
		unsigned ch = s[i], cut;
		size_t clen = 1;

		if (ch < 0x80) {
			cut = prev < 0x80 && !(c->join[prev][ch >> 3] & (1u << (ch & 7)));
			prev = ch;
		} else if (c->sep && len - i >= c->sep_len && !memcmp(s + i, c->sep, c->sep_len)) {
			cut = prev != PREV_NONE && prev != PREV_SEP;
			prev = PREV_SEP;
			clen = c->sep_len;
		} else {
			cut = 0;
			prev = PREV_OTHER;
			clen = ch >= 0xF0 ? 4 : ch >= 0xE0 ? 3 : 2;
		}
		if (cut) {
			piece_cached(t, text + start, i - start, out);
			start = i;
		}
		i += clen;
	}
	piece_cached(t, text + start, len - start, out);
}

void tok_bpe_piece(struct tok *t, const char *s, size_t len, struct tok_ids *out)
{
	if (!len)
		return;
	if (!t->bpe_cache)
		t->bpe_cache = cache_new(t);
	if (t->bpe_cache->cut)
		cut_words(t, s, len, out);
	else
		piece_cached(t, s, len, out);
}
