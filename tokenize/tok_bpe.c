/*
 * tok_bpe: the BPE merge loop (huggingface/tokenizers word.rs merge_all,
 * tiktoken byte_pair_merge). Symbols form a doubly linked list over one
 * pre-token; every adjacent pair that has a merge goes into a min-heap keyed
 * by (rank, position), so the lowest rank wins and ties go to the leftmost
 * pair. Popped entries whose pair has changed since they were pushed are
 * stale and skipped. O(n log n) per piece, which matters for SentencePiece
 * models with no pre-tokenizer, where a whole line is one piece. A piece of
 * CHUNKED_MIN_PIECE bytes or more (a word of megabytes) is merged in chunks
 * of CHUNK_BYTES, cut only where no merge of the whole piece would cross
 * (tok_bpe_merge_chunked): linear, and the heap stays in the cache.
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

static void ids_append(struct ling_u32s *out, const uint32_t *v, size_t n)
{
	if (!n)
		return; /* v may be NULL: a piece with no ids (all of it unknown, no unk token) */
	if (out->n + n > out->cap)
		out->v = xgrow(out->v, &out->cap, out->n + n, sizeof(*out->v));
	memcpy(out->v + out->n, v, n * sizeof(*v));
	out->n += n;
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

/* Pieces this long are merged in chunks of CHUNK_BYTES (tok_bpe_merge_chunked). */
#define CHUNK_BYTES 1024
#define CHUNKED_MIN_PIECE (4 * CHUNK_BYTES)

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
	struct ling_u32s ids;
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

/*
 * What a merge loop over one chunk of a piece did, for cut_holds(): the key
 * (rank << 32 | byte offset in the piece) of every merge in the order they
 * happened, and each change of the chunk's first and last symbol.
 */
struct bpe_edge {
	uint32_t at;                  /* the change came with merge number at (UINT32_MAX: the first symbol) */
	uint32_t id, off, len;        /* the symbol afterwards; off in the piece */
};

struct bpe_run {
	size_t start, end;            /* the chunk: bytes [start, end) of the piece */
	struct ling_u32s ids;           /* what the chunk encodes to, alone */
	uint64_t *keys;
	size_t nkeys, cap_keys;
	struct bpe_edge *first, *last;
	size_t nfirst, cap_first, nlast, cap_last;
};

static void edge_push(struct bpe_edge **v, size_t *n, size_t *cap, uint32_t at, const struct tok_sym *sym,
		      size_t start)
{
	if (*n == *cap)
		*v = xgrow(*v, cap, *n + 1, sizeof(**v));
	(*v)[*n].at = at;
	(*v)[*n].id = sym->id;
	(*v)[*n].off = (uint32_t)(start + sym->off);
	(*v)[*n].len = sym->len;
	(*n)++;
}

/* The merge loop over t->syms[0, nsyms) (huggingface word.rs merge_all); with log, records each merge. */
static void merge_loop(struct tok *t, const char *s, size_t nsyms, struct bpe_run *log)
{
	size_t nheap = 0, i;

	for (i = 0; i + 1 < nsyms; i++)
		push_pair(t, s, &nheap, (int32_t)i);
	while (nheap) {
		struct tok_heap_ent e = heap_pop(t, &nheap);
		struct tok_sym *a = &t->syms[e.pos], *b;
		int was_first, was_last;

		if (a->len == 0 || a->next != (int32_t)e.right || a->id != e.lid)
			continue;
		b = &t->syms[e.right];
		if (b->id != e.rid)
			continue;
		was_first = a->prev < 0;
		was_last = b->next < 0;
		a->id = e.id;
		a->len += b->len;
		a->next = b->next;
		if (b->next >= 0)
			t->syms[b->next].prev = (int32_t)e.pos;
		b->len = 0;
		if (log) {
			if (log->nkeys == log->cap_keys)
				log->keys = xgrow(log->keys, &log->cap_keys, log->nkeys + 1, sizeof(*log->keys));
			log->keys[log->nkeys++] = (uint64_t)e.rank << 32 | (log->start + a->off);
			if (was_first)
				edge_push(&log->first, &log->nfirst, &log->cap_first, (uint32_t)log->nkeys - 1, a, log->start);
			if (was_last)
				edge_push(&log->last, &log->nlast, &log->cap_last, (uint32_t)log->nkeys - 1, a, log->start);
		}
		if (a->prev >= 0)
			push_pair(t, s, &nheap, a->prev);
		push_pair(t, s, &nheap, (int32_t)e.pos);
	}
}

/* Appends the ids of the symbols left in t->syms (those with no token have none). */
static void emit_symbols(const struct tok *t, size_t nsyms, struct ling_u32s *out)
{
	int32_t k;

	for (k = nsyms ? 0 : -1; k >= 0; k = t->syms[k].next)
		if (t->syms[k].id != TOK_NONE)
			ling_u32s_push(out, t->syms[k].id);
}

/* BPE of bytes [start, end) of piece s alone, as chunk r. */
static void run_chunk(struct tok *t, const char *s, size_t start, size_t end, struct bpe_run *r)
{
	size_t nsyms;

	r->start = start;
	r->end = end;
	r->ids.n = r->nkeys = r->nfirst = r->nlast = 0;
	nsyms = initial_symbols(t, s + start, end - start);
	edge_push(&r->first, &r->nfirst, &r->cap_first, UINT32_MAX, &t->syms[0], start);
	edge_push(&r->last, &r->nlast, &r->cap_last, UINT32_MAX, &t->syms[nsyms - 1], start);
	merge_loop(t, s + start, nsyms, r);
	emit_symbols(t, nsyms, &r->ids);
}

static void run_release(struct bpe_run *r)
{
	ling_u32s_release(&r->ids);
	free(r->keys);
	free(r->first);
	free(r->last);
}

/* The key of the merge of x and y, or UINT64_MAX when they have none (or must not be cut apart). */
static uint64_t crossing_key(const struct tok *t, const char *s, const struct bpe_edge *x, const struct bpe_edge *y)
{
	struct tok_sym a = { x->id, x->off, x->len, -1, -1 }, b = { y->id, y->off, y->len, -1, -1 };
	uint32_t rank, id;

	if (t->fuse_unk && x->id == t->unk && y->id == t->unk && t->unk != TOK_NONE)
		return 0; /* a run of unknown characters is one symbol: never cut it */
	if (!pair_lookup(t, s, &a, &b, &rank, &id))
		return UINT64_MAX;
	return (uint64_t)rank << 32 | x->off;
}

/*
 * Whether encoding L and R as one would merge nothing across the cut between
 * them, so that it gives L's ids then R's. Proof sketch: while no merge has
 * crossed the cut, each side evolves as it does alone, and the whole run pops
 * the smaller of the two sides' next merges (their keys are distinct). The
 * pair across the cut, (last symbol of L, first symbol of R) at any time, is
 * in the heap too, and is merged as soon as its key is below both sides'
 * next keys while neither symbol has changed. So replaying the two logs in
 * that order decides it exactly; pops of stale entries change nothing and are
 * not logged. Other chunks farther away only interleave their merges.
 */
static int cut_holds(const struct tok *t, const char *s, const struct bpe_run *L, const struct bpe_run *R)
{
	size_t i = 0, j = 0, ex = 1, ey = 1;
	const struct bpe_edge *x = &L->last[0], *y = &R->first[0];
	uint64_t c = crossing_key(t, s, x, y);

	for (;;) {
		uint64_t hl = i < L->nkeys ? L->keys[i] : UINT64_MAX, hr = j < R->nkeys ? R->keys[j] : UINT64_MAX;

		if (c != UINT64_MAX && c <= hl && c < hr)
			return 0;
		if (hl == UINT64_MAX && hr == UINT64_MAX)
			return 1;
		if (hl < hr) {
			if (ex < L->nlast && L->last[ex].at == i) {
				x = &L->last[ex++];
				c = crossing_key(t, s, x, y);
			}
			i++;
		} else {
			if (ey < R->nfirst && R->first[ey].at == j) {
				y = &R->first[ey++];
				c = crossing_key(t, s, x, y);
			}
			j++;
		}
	}
}

/* The first character boundary at or after at (at most len); a tail shorter than min goes with the chunk. */
static size_t chunk_end(const char *s, size_t len, size_t at, size_t min)
{
	if (at >= len || len - at < min)
		return len;
	while (at < len && ((unsigned char)s[at] & 0xC0) == 0x80)
		at++;
	return at;
}

static void run_swap(struct bpe_run **a, struct bpe_run **b)
{
	struct bpe_run *tmp = *a;

	*a = *b;
	*b = tmp;
}

static struct tok_bpe_cache *cache_new(const struct tok *t);

static void bpe_merge_whole(struct tok *t, const char *s, size_t len, struct ling_u32s *out)
{
	size_t nsyms = initial_symbols(t, s, len);

	merge_loop(t, s, nsyms, NULL);
	emit_symbols(t, nsyms, out);
}

#define NEAR_CUTS 6

/*
 * The symbol boundaries of bytes [start, end) of s encoded alone that lie
 * within [lo, hi], the NEAR_CUTS nearest to near first, into cuts. Far from
 * the ends of a stretch, its tokens are those of the whole piece, so these
 * are where a cut is likely to hold. @return how many.
 */
static size_t near_cuts(struct tok *t, const char *s, size_t start, size_t end, size_t lo, size_t hi, size_t near,
			size_t *cuts)
{
	size_t nsyms = initial_symbols(t, s + start, end - start), n = 0, i, j;
	int32_t k;

	merge_loop(t, s + start, nsyms, NULL);
	for (k = nsyms ? 0 : -1; k >= 0; k = t->syms[k].next) {
		size_t at = start + t->syms[k].off, d = at > near ? at - near : near - at;

		if (at < lo || at > hi)
			continue;
		for (i = 0; i < n; i++) {
			size_t di = cuts[i] > near ? cuts[i] - near : near - cuts[i];

			if (d < di)
				break;
		}
		if (i >= NEAR_CUTS)
			continue;
		for (j = n < NEAR_CUTS ? n++ : NEAR_CUTS - 1; j > i; j--)
			cuts[j] = cuts[j - 1];
		cuts[i] = at;
	}
	return n;
}

/*
 * Cuts the chunk from start at cut: encodes [start, cut) into *cand and the
 * next chunk of about span bytes into next. @return 1 when the cut holds,
 * and the cut before start (after prev) still does.
 */
static int try_cut(struct tok *t, const char *s, size_t len, const struct bpe_run *prev, size_t start, size_t cut,
		   size_t span, struct bpe_run *cand, struct bpe_run *next)
{
	run_chunk(t, s, start, cut, cand);
	if (prev && !cut_holds(t, s, prev, cand))
		return 0;
	run_chunk(t, s, cut, chunk_end(s, len, cut + span, span / 2), next);
	return cut_holds(t, s, cand, next);
}

/*
 * A long piece (one word of megabytes: a run of one character, a base64
 * blob) in time and memory linear in its length, with the ids of one merge
 * loop over all of it: the piece is cut into chunks of about chunk bytes
 * that are encoded alone, and a cut is kept only when cut_holds() proves
 * that no merge would cross it. Where the planned cut does not hold, the
 * token boundaries near it (near_cuts) are tried (moving a cut changes the
 * chunk before it, so its own first cut is checked again); where none holds,
 * the chunk doubles. When a doubled chunk's first cut fails, the whole piece
 * goes through one merge loop. @return the number of chunks (1: one loop).
 */
size_t tok_bpe_merge_chunked(struct tok *t, const char *s, size_t len, size_t chunk, struct ling_u32s *out)
{
	struct bpe_run runs[4], *prev = NULL, *cur = &runs[0], *next = &runs[1], *spare = &runs[2];
	size_t base = out->n, k, n, chunks = 1, cuts[NEAR_CUTS];

	if (!t->bpe_cache)
		t->bpe_cache = cache_new(t);
	memset(runs, 0, sizeof(runs));
	run_chunk(t, s, 0, chunk_end(s, len, chunk, chunk / 2), cur);
	while (cur->end < len) {
		size_t planned = cur->end;
		int held;

		run_chunk(t, s, planned, chunk_end(s, len, planned + chunk, chunk / 2), next);
		held = cut_holds(t, s, cur, next);
		if (!held) {
			n = near_cuts(t, s, cur->start, next->end, cur->start + chunk / 4, next->end - chunk / 4, planned,
				      cuts);
			for (k = 0; k < n && !held; k++) {
				if (cuts[k] == planned)
					continue;
				held = try_cut(t, s, len, prev, cur->start, cuts[k], chunk, spare, next);
				if (held)
					run_swap(&cur, &spare);
			}
		}
		if (!held) {
			run_chunk(t, s, cur->start, chunk_end(s, len, planned + (planned - cur->start), chunk / 2), spare);
			if (prev && !cut_holds(t, s, prev, spare)) {
				out->n = base;
				bpe_merge_whole(t, s, len, out);
				chunks = 1;
				goto out;
			}
			run_swap(&cur, &spare);
			continue;
		}
		ids_append(out, cur->ids.v, cur->ids.n);
		chunks++;
		if (!prev)
			prev = &runs[3];
		run_swap(&prev, &cur);
		run_swap(&cur, &next);
	}
	ids_append(out, cur->ids.v, cur->ids.n);
out:
	for (k = 0; k < 4; k++)
		run_release(&runs[k]);
	return chunks;
}

/* BPE of one piece, without the cache. */
static void bpe_merge(struct tok *t, const char *s, size_t len, struct ling_u32s *out)
{
	if (t->ignore_merges || t->tiktoken) {
		uint32_t id = tok_vocab_find(t, s, len);

		if (id != TOK_NONE) {
			ling_u32s_push(out, id);
			return;
		}
	}
	if (len >= CHUNKED_MIN_PIECE)
		tok_bpe_merge_chunked(t, s, len, CHUNK_BYTES, out);
	else
		bpe_merge_whole(t, s, len, out);
}

void tok_bpe_cache_free(struct tok_bpe_cache *c)
{
	if (!c)
		return;
	free(c->slots);
	ling_buf_release(&c->keys);
	ling_u32s_release(&c->ids);
	free(c);
}

static void cache_clear(struct tok_bpe_cache *c)
{
	memset(c->slots, 0, CACHE_SLOTS * sizeof(*c->slots));
	c->entries = 0;
	ling_buf_reset(&c->keys);
	c->ids.n = 0;
}

/* Encodes a piece through the cache. */
static void piece_cached(struct tok *t, const char *s, size_t len, struct ling_u32s *out)
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
	before = out->n;
	bpe_merge(t, s, len, out);
	if (out->n == before || out->n - before > UINT16_MAX)
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
	slot->ids_off = (uint32_t)c->ids.n;
	slot->nids = (uint16_t)(out->n - before);
	ling_buf_add(&c->keys, s, len);
	ids_append(&c->ids, out->v + before, out->n - before);
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
static void cut_words(struct tok *t, const char *text, size_t len, struct ling_u32s *out)
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

void tok_bpe_piece(struct tok *t, const char *s, size_t len, struct ling_u32s *out)
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
