/*
 * tok_bpe: the BPE merge loop (huggingface/tokenizers word.rs merge_all,
 * tiktoken byte_pair_merge). Symbols form a doubly linked list over one
 * pre-token; every adjacent pair that has a merge goes into a min-heap keyed
 * by (rank, position), so the lowest rank wins and ties go to the leftmost
 * pair. Popped entries whose pair has changed since they were pushed are
 * stale and skipped. O(n log n) per piece, which matters for SentencePiece
 * models with no pre-tokenizer, where a whole line is one piece.
 */
#include "tok_internal.h"

#include "../common/ling_utf8.h"

#include <string.h>

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
		clen = ling_utf8_decode(s + i, len - i, &cp);
		if (!clen)
			clen = 1;
		id = tok_vocab_find(t, s + i, clen);
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

void tok_bpe_piece(struct tok *t, const char *s, size_t len, struct tok_ids *out)
{
	size_t nsyms, nheap = 0, i;
	int32_t k;

	if (!len)
		return;
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
