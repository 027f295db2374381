/*
 * tok_train: byte-level BPE training (tokenize.h). The merge loop follows
 * Sennrich et al. 2016 ("Neural Machine Translation of Rare Words with
 * Subword Units", section 3.1) with the bookkeeping of HF's BpeTrainer: the
 * words that hold each pair, and a heap whose entries may be stale.
 */
#include "tokenize.h"
#include "tok_internal.h"

#include "../common/ling_json.h"
#include "../common/ling_utf8.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../common/banned.h"

/* cl100k_base = Llama-3 (FORMATS.md 1.4); tok_regex matches it without PCRE2 on ASCII. */
static const char split_pattern[] =
	"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
	"\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

struct span {
	uint32_t off, len;
};

/* A set of byte strings (spans into one buffer), by open addressing; slot = index + 1. */
struct strtab {
	uint32_t *slots;
	size_t mask;
};

struct pair {
	uint64_t key;           /* left id << 32 | right id */
	int64_t count;          /* occurrences, each word counted times its frequency */
	uint32_t *where;        /* words that held the pair when it was counted (repeats possible) */
	uint32_t nwhere, cwhere;
	unsigned char merged, touched;
};

struct heap_ent {
	int64_t count;
	uint64_t key;
	uint32_t pair;
};

struct tok_train {
	struct tok_train_opts opts;
	char **specials;
	struct tok_regex *re;
	int finished;
	uint64_t nwords_read;

	/* distinct words: bytes, counts, and (while training) their symbols */
	struct ling_buf wbytes;
	struct span *words;
	uint64_t *wcount;
	size_t nwords, cap_words;
	struct strtab wtab;
	struct span *wsyms;
	uint32_t *syms;

	/* tokens: bytes by id */
	struct ling_buf tbytes;
	struct span *tokens;
	size_t ntokens, cap_tokens;
	struct strtab ttab;

	/* pairs, by key */
	struct pair *pairs;
	size_t npairs, cap_pairs;
	uint32_t *ptab;         /* slot = pair index + 1 */
	size_t pmask;
	uint32_t *touched;
	size_t ntouched, cap_touched;

	struct heap_ent *heap;
	size_t nheap, cap_heap;

	uint32_t *merges;       /* left, right */
	size_t nmerges, cap_merges;
};

/* ---- string sets ---- */

static const char *span_bytes(const struct ling_buf *buf, const struct span *sp)
{
	return buf->data + sp->off;
}

/* The index of s in tab, or -1; *slot is where it would go. */
static long strtab_find(const struct strtab *tab, const struct ling_buf *buf, const struct span *spans, const char *s,
			size_t len, size_t *slot)
{
	size_t h = (size_t)XXH3_64bits(s, len) & tab->mask;

	for (; tab->slots[h]; h = (h + 1) & tab->mask) {
		const struct span *sp = &spans[tab->slots[h] - 1];

		if (sp->len == len && !memcmp(span_bytes(buf, sp), s, len))
			return (long)tab->slots[h] - 1;
	}
	*slot = h;
	return -1;
}

/* Makes room for n entries at half load. */
static void strtab_reserve(struct strtab *tab, const struct ling_buf *buf, const struct span *spans, size_t n)
{
	size_t size = tab->slots ? tab->mask + 1 : 0, newsize = size ? size : 1024, i;
	uint32_t *old = tab->slots;

	if (n * 2 <= size)
		return;
	while (n * 2 > newsize)
		newsize *= 2;
	tab->slots = xcalloc(newsize, sizeof(*tab->slots));
	tab->mask = newsize - 1;
	for (i = 0; i < size; i++) {
		if (old[i]) {
			const struct span *sp = &spans[old[i] - 1];
			size_t h = (size_t)XXH3_64bits(span_bytes(buf, sp), sp->len) & tab->mask;

			while (tab->slots[h])
				h = (h + 1) & tab->mask;
			tab->slots[h] = old[i];
		}
	}
	free(old);
}

/* ---- setup and counting words ---- */

static int valid_special(const char *s)
{
	size_t len = strlen(s);

	return len && ling_utf8_valid_prefix(s, len) == len;
}

int tok_train_new(struct tok_train **out, const struct tok_train_opts *opts, struct ling_err *err)
{
	struct tok_train *tr;
	size_t i, j;
	int rc;

	*out = NULL;
	if (opts->vocab_size < 256 + opts->nspecials || opts->vocab_size > TOK_MAX_ID)
		return ling_err_set(err, LING_EUSAGE, "the vocabulary needs 256 bytes + %zu special tokens and at most 2^22 ids",
				    opts->nspecials);
	if (opts->min_frequency < 1)
		return ling_err_set(err, LING_EUSAGE, "the minimum frequency of a merge is at least 1");
	for (i = 0; i < opts->nspecials; i++) {
		if (!valid_special(opts->specials[i]))
			return ling_err_set(err, LING_EUSAGE, "special token %zu is empty or not UTF-8", i + 1);
		for (j = 0; j < i; j++)
			if (!strcmp(opts->specials[i], opts->specials[j]))
				return ling_err_set(err, LING_EUSAGE, "special token %s is given twice", opts->specials[i]);
	}
	tr = xcalloc(1, sizeof(*tr));
	tr->opts = *opts;
	tr->specials = xcalloc(opts->nspecials + 1, sizeof(*tr->specials));
	for (i = 0; i < opts->nspecials; i++)
		tr->specials[i] = xstrdup(opts->specials[i]);
	tr->opts.specials = (const char *const *)tr->specials;
	if ((rc = tok_regex_new(&tr->re, split_pattern, sizeof(split_pattern) - 1, 0, err))) {
		tok_train_free(tr);
		return rc;
	}
	*out = tr;
	return 0;
}

static int add_word(struct tok_train *tr, const char *s, size_t len, struct ling_err *err)
{
	size_t slot = 0;
	long i;

	tr->nwords_read++;
	strtab_reserve(&tr->wtab, &tr->wbytes, tr->words, tr->nwords + 1);
	if ((i = strtab_find(&tr->wtab, &tr->wbytes, tr->words, s, len, &slot)) >= 0) {
		tr->wcount[i]++;
		return 0;
	}
	if (tr->wbytes.len + len > UINT32_MAX || tr->nwords >= UINT32_MAX - 1)
		return ling_err_set(err, LING_ELIMIT, "more than 4 GiB of distinct words");
	if (tr->nwords == tr->cap_words) {
		size_t cap = tr->cap_words;

		tr->words = xgrow(tr->words, &tr->cap_words, tr->nwords + 1, sizeof(*tr->words));
		tr->wcount = xgrow(tr->wcount, &cap, tr->nwords + 1, sizeof(*tr->wcount));
	}
	tr->words[tr->nwords].off = (uint32_t)tr->wbytes.len;
	tr->words[tr->nwords].len = (uint32_t)len;
	tr->wcount[tr->nwords] = 1;
	ling_buf_add(&tr->wbytes, s, len);
	tr->wtab.slots[slot] = (uint32_t)++tr->nwords;
	return 0;
}

int tok_train_add(struct tok_train *tr, const char *text, size_t len, struct ling_err *err)
{
	size_t bad = ling_utf8_valid_prefix(text, len), pos = 0, ms, me;
	int rc;

	if (bad != len)
		return ling_err_at(err, LING_EDATA, NULL, 0, (long)bad + 1, "invalid UTF-8 at byte %zu", bad + 1);
	if (len >= 1u << 30)
		return ling_err_set(err, LING_ELIMIT, "text of 1 GiB or more");
	if (tr->finished)
		return ling_err_set(err, LING_EUSAGE, "text added after training");
	while (pos < len) {
		rc = tok_regex_find(tr->re, text, len, pos, &ms, &me, err);
		if (rc < 0)
			return rc;
		if (!rc || me == ms) /* the pattern matches every character, so never */
			ms = me = len;
		if (ms > pos && (rc = add_word(tr, text + pos, ms - pos, err)))
			return rc;
		if (me > ms && (rc = add_word(tr, text + ms, me - ms, err)))
			return rc;
		pos = me;
	}
	return 0;
}

/* ---- pair counts ---- */

static size_t key_hash(uint64_t key)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return (size_t)key;
}

static uint64_t pair_key(uint32_t a, uint32_t b)
{
	return (uint64_t)a << 32 | b;
}

static void ptab_grow(struct tok_train *tr)
{
	size_t size = tr->ptab ? tr->pmask + 1 : 0, newsize = size ? size * 2 : 4096, i, h;

	free(tr->ptab);
	tr->ptab = xcalloc(newsize, sizeof(*tr->ptab));
	tr->pmask = newsize - 1;
	for (i = 0; i < tr->npairs; i++) {
		for (h = key_hash(tr->pairs[i].key) & tr->pmask; tr->ptab[h]; h = (h + 1) & tr->pmask)
			;
		tr->ptab[h] = (uint32_t)i + 1;
	}
}

/* The pair (a, b), made with count 0 when new. */
static struct pair *pair_get(struct tok_train *tr, uint32_t a, uint32_t b)
{
	uint64_t key = pair_key(a, b);
	struct pair *p;
	size_t h;

	if (!tr->ptab || (tr->npairs + 1) * 2 > tr->pmask + 1)
		ptab_grow(tr);
	for (h = key_hash(key) & tr->pmask; tr->ptab[h]; h = (h + 1) & tr->pmask)
		if (tr->pairs[tr->ptab[h] - 1].key == key)
			return &tr->pairs[tr->ptab[h] - 1];
	if (tr->npairs == tr->cap_pairs)
		tr->pairs = xgrow(tr->pairs, &tr->cap_pairs, tr->npairs + 1, sizeof(*tr->pairs));
	p = &tr->pairs[tr->npairs];
	memset(p, 0, sizeof(*p));
	p->key = key;
	tr->ptab[h] = (uint32_t)++tr->npairs;
	return p;
}

/* Adds n occurrences of (a, b) in word w. */
static void pair_inc(struct tok_train *tr, uint32_t a, uint32_t b, int64_t n, uint32_t w)
{
	struct pair *p = pair_get(tr, a, b);

	p->count += n;
	if (!p->nwhere || p->where[p->nwhere - 1] != w) {
		if (p->nwhere == p->cwhere) {
			size_t cap = p->cwhere;

			p->where = xgrow(p->where, &cap, (size_t)p->nwhere + 1, sizeof(*p->where));
			p->cwhere = (uint32_t)(cap > UINT32_MAX ? UINT32_MAX : cap);
		}
		p->where[p->nwhere++] = w;
	}
	if (!p->touched) {
		p->touched = 1;
		if (tr->ntouched == tr->cap_touched)
			tr->touched = xgrow(tr->touched, &tr->cap_touched, tr->ntouched + 1, sizeof(*tr->touched));
		tr->touched[tr->ntouched++] = (uint32_t)(p - tr->pairs);
	}
}

static void pair_dec(struct tok_train *tr, uint32_t a, uint32_t b, int64_t n)
{
	pair_get(tr, a, b)->count -= n;
}

/* ---- the heap: the most frequent pair on top, ties to the lower key ---- */

static int heap_above(const struct heap_ent *x, const struct heap_ent *y)
{
	return x->count != y->count ? x->count > y->count : x->key < y->key;
}

static void heap_push(struct tok_train *tr, uint32_t pair)
{
	struct heap_ent e;
	size_t i = tr->nheap++;

	e.count = tr->pairs[pair].count;
	e.key = tr->pairs[pair].key;
	e.pair = pair;
	if (tr->nheap > tr->cap_heap)
		tr->heap = xgrow(tr->heap, &tr->cap_heap, tr->nheap, sizeof(*tr->heap));
	while (i > 0 && heap_above(&e, &tr->heap[(i - 1) / 2])) {
		tr->heap[i] = tr->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	tr->heap[i] = e;
}

static struct heap_ent heap_pop(struct tok_train *tr)
{
	struct heap_ent top = tr->heap[0], last = tr->heap[--tr->nheap];
	size_t i = 0, c;

	while ((c = 2 * i + 1) < tr->nheap) {
		if (c + 1 < tr->nheap && heap_above(&tr->heap[c + 1], &tr->heap[c]))
			c++;
		if (!heap_above(&tr->heap[c], &last))
			break;
		tr->heap[i] = tr->heap[c];
		i = c;
	}
	if (tr->nheap)
		tr->heap[i] = last;
	return top;
}

/*
 * The next pair to merge, or NULL. An entry is current when its count is the
 * pair's count: every rise of a count pushes a new entry, and a count that
 * fell is pushed again when its old entry comes up.
 */
static struct pair *best_pair(struct tok_train *tr)
{
	while (tr->nheap) {
		struct heap_ent e = heap_pop(tr);
		struct pair *p = &tr->pairs[e.pair];

		if (p->merged || p->count > e.count)
			continue;
		if (p->count == e.count)
			return p;
		if (p->count > 0)
			heap_push(tr, e.pair);
	}
	return NULL;
}

/* ---- merging ---- */

static uint32_t add_token(struct tok_train *tr, const char *s, size_t len, size_t slot)
{
	if (tr->ntokens == tr->cap_tokens)
		tr->tokens = xgrow(tr->tokens, &tr->cap_tokens, tr->ntokens + 1, sizeof(*tr->tokens));
	tr->tokens[tr->ntokens].off = (uint32_t)tr->tbytes.len;
	tr->tokens[tr->ntokens].len = (uint32_t)len;
	ling_buf_add(&tr->tbytes, s, len);
	tr->ttab.slots[slot] = (uint32_t)++tr->ntokens;
	return (uint32_t)tr->ntokens - 1;
}

/* Replaces (a, b) by z in word w, keeping the pair counts of its neighbours right. */
static void merge_word(struct tok_train *tr, uint32_t w, uint32_t a, uint32_t b, uint32_t z)
{
	uint32_t *s = tr->syms + tr->wsyms[w].off;
	size_t n = tr->wsyms[w].len, i = 0, o = 0;
	int64_t f = (int64_t)tr->wcount[w];

	while (i < n) {
		if (i + 1 < n && s[i] == a && s[i + 1] == b) {
			/* The left neighbour is already merged (s[o - 1]); the right one is not yet. */
			if (o > 0) {
				pair_dec(tr, s[o - 1], a, f);
				pair_inc(tr, s[o - 1], z, f, w);
			}
			if (i + 2 < n) {
				pair_dec(tr, b, s[i + 2], f);
				pair_inc(tr, z, s[i + 2], f, w);
			}
			pair_dec(tr, a, b, f);
			s[o++] = z;
			i += 2;
		} else {
			s[o++] = s[i++];
		}
	}
	tr->wsyms[w].len = (uint32_t)o;
}

static int is_special_text(const struct tok_train *tr, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < tr->opts.nspecials; i++)
		if (strlen(tr->specials[i]) == len && !memcmp(tr->specials[i], s, len))
			return 1;
	return 0;
}

/* Merges p everywhere. @return 1 when a merge was recorded. */
static int merge_pair(struct tok_train *tr, struct pair *p, struct ling_buf *tmp)
{
	uint32_t a = (uint32_t)(p->key >> 32), b = (uint32_t)p->key, z, *where, nwhere, i;
	size_t slot = 0, pi = (size_t)(p - tr->pairs);
	long found;

	p->merged = 1;
	ling_buf_reset(tmp);
	ling_buf_add(tmp, span_bytes(&tr->tbytes, &tr->tokens[a]), tr->tokens[a].len);
	ling_buf_add(tmp, span_bytes(&tr->tbytes, &tr->tokens[b]), tr->tokens[b].len);
	/* A token spelling a special token would take its id in HF's loader: never make one. */
	if (is_special_text(tr, tmp->data, tmp->len))
		return 0;
	strtab_reserve(&tr->ttab, &tr->tbytes, tr->tokens, tr->ntokens + 1);
	found = strtab_find(&tr->ttab, &tr->tbytes, tr->tokens, tmp->data, tmp->len, &slot);
	z = found >= 0 ? (uint32_t)found : add_token(tr, tmp->data, tmp->len, slot);
	if (tr->nmerges * 2 + 2 > tr->cap_merges)
		tr->merges = xgrow(tr->merges, &tr->cap_merges, tr->nmerges * 2 + 2, sizeof(*tr->merges));
	tr->merges[tr->nmerges * 2] = a;
	tr->merges[tr->nmerges * 2 + 1] = b;
	tr->nmerges++;
	/*
	 * merge_word adds pairs (so p may move) and words to other pairs' lists, never to this one's
	 * (z is longer than a and b). A word listed twice is merged twice; the second time finds nothing.
	 */
	where = p->where;
	nwhere = p->nwhere;
	for (i = 0; i < nwhere; i++)
		if (!i || where[i] != where[i - 1])
			merge_word(tr, where[i], a, b, z);
	p = &tr->pairs[pi];
	free(p->where);
	p->where = NULL;
	p->nwhere = p->cwhere = 0;
	for (i = 0; i < tr->ntouched; i++) {
		struct pair *q = &tr->pairs[tr->touched[i]];

		q->touched = 0;
		if (!q->merged && q->count > 0)
			heap_push(tr, tr->touched[i]);
	}
	tr->ntouched = 0;
	return 1;
}

static void learn(struct tok_train *tr)
{
	struct ling_buf tmp = LING_BUF_INIT;
	size_t w, i, nsyms = 0, model_vocab = tr->opts.vocab_size - tr->opts.nspecials;
	struct pair *p;

	for (i = 0; i < 256; i++) {
		char c = (char)i;
		size_t slot = 0;

		strtab_reserve(&tr->ttab, &tr->tbytes, tr->tokens, tr->ntokens + 1);
		strtab_find(&tr->ttab, &tr->tbytes, tr->tokens, &c, 1, &slot);
		add_token(tr, &c, 1, slot);
	}
	tr->wsyms = xmalloc((tr->nwords + 1) * sizeof(*tr->wsyms));
	tr->syms = xmalloc((tr->wbytes.len + 1) * sizeof(*tr->syms));
	for (w = 0; w < tr->nwords; w++) {
		const unsigned char *s = (const unsigned char *)span_bytes(&tr->wbytes, &tr->words[w]);

		tr->wsyms[w].off = (uint32_t)nsyms;
		tr->wsyms[w].len = tr->words[w].len;
		for (i = 0; i < tr->words[w].len; i++)
			tr->syms[nsyms++] = s[i];
		for (i = 0; i + 1 < tr->words[w].len; i++)
			pair_inc(tr, s[i], s[i + 1], (int64_t)tr->wcount[w], (uint32_t)w);
	}
	for (i = 0; i < tr->ntouched; i++) {
		tr->pairs[tr->touched[i]].touched = 0;
		heap_push(tr, tr->touched[i]);
	}
	tr->ntouched = 0;
	while (tr->ntokens < model_vocab && (p = best_pair(tr)) && (uint64_t)p->count >= tr->opts.min_frequency)
		merge_pair(tr, p, &tmp);
	ling_buf_release(&tmp);
}

/* ---- writing tokenizer.json ---- */

/* A token in the GPT-2 byte alphabet (FORMATS.md fact 3), as a JSON string. */
static void json_token(struct ling_buf *out, const struct tok_train *tr, uint32_t id, struct ling_buf *tmp)
{
	ling_buf_reset(tmp);
	tok_bytes_to_unicode(span_bytes(&tr->tbytes, &tr->tokens[id]), tr->tokens[id].len, tmp);
	ling_json_add_str(out, tmp->data, tmp->len, LING_JSON_MINIMAL);
}

/* Field order as tokenizers writes it (FORMATS.md 1.1, 1.2). */
static void write_json(const struct tok_train *tr, struct ling_buf *out)
{
	struct ling_buf tmp = LING_BUF_INIT;
	size_t i;

	ling_buf_adds(out, "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [");
	for (i = 0; i < tr->opts.nspecials; i++) {
		ling_buf_addf(out, "%s\n    {\"id\": %zu, \"content\": ", i ? "," : "", tr->ntokens + i);
		ling_json_add_str(out, tr->specials[i], strlen(tr->specials[i]), LING_JSON_MINIMAL);
		ling_buf_adds(out, ", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, "
				   "\"special\": true}");
	}
	ling_buf_adds(out, tr->opts.nspecials ? "\n  ],\n" : "],\n");
	ling_buf_adds(out, "  \"normalizer\": null,\n  \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [\n"
			   "    {\"type\": \"Split\", \"pattern\": {\"Regex\": ");
	ling_json_add_str(out, split_pattern, sizeof(split_pattern) - 1, LING_JSON_MINIMAL);
	ling_buf_adds(out, "}, \"behavior\": \"Isolated\", \"invert\": false},\n"
			   "    {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": false, \"use_regex\": false}]},\n"
			   "  \"post_processor\": null,\n"
			   "  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": false, "
			   "\"use_regex\": false},\n"
			   "  \"model\": {\"type\": \"BPE\", \"dropout\": null, \"unk_token\": null, \"continuing_subword_prefix\": null, "
			   "\"end_of_word_suffix\": null, \"fuse_unk\": false, \"byte_fallback\": false, \"ignore_merges\": false,\n"
			   "    \"vocab\": {");
	for (i = 0; i < tr->ntokens; i++) {
		ling_buf_adds(out, i ? ",\n      " : "\n      ");
		json_token(out, tr, (uint32_t)i, &tmp);
		ling_buf_addf(out, ": %zu", i);
	}
	ling_buf_adds(out, "\n    },\n    \"merges\": [");
	for (i = 0; i < tr->nmerges; i++) {
		ling_buf_adds(out, i ? ",\n      [" : "\n      [");
		json_token(out, tr, tr->merges[2 * i], &tmp);
		ling_buf_adds(out, ", ");
		json_token(out, tr, tr->merges[2 * i + 1], &tmp);
		ling_buf_addc(out, ']');
	}
	ling_buf_adds(out, tr->nmerges ? "\n    ]\n  }\n}\n" : "]\n  }\n}\n");
	ling_buf_release(&tmp);
}

int tok_train_finish(struct tok_train *tr, struct ling_buf *out, struct tok_train_stats *stats, struct ling_err *err)
{
	if (tr->finished)
		return ling_err_set(err, LING_EUSAGE, "the tokenizer is already trained");
	tr->finished = 1;
	learn(tr);
	write_json(tr, out);
	if (stats) {
		stats->words = tr->nwords_read;
		stats->distinct = tr->nwords;
		stats->merges = tr->nmerges;
		stats->vocab = tr->ntokens + tr->opts.nspecials;
	}
	return 0;
}

void tok_train_free(struct tok_train *tr)
{
	size_t i;

	if (!tr)
		return;
	for (i = 0; i < tr->opts.nspecials && tr->specials; i++)
		free(tr->specials[i]);
	free(tr->specials);
	tok_regex_free(tr->re);
	ling_buf_release(&tr->wbytes);
	free(tr->words);
	free(tr->wcount);
	free(tr->wtab.slots);
	free(tr->wsyms);
	free(tr->syms);
	ling_buf_release(&tr->tbytes);
	free(tr->tokens);
	free(tr->ttab.slots);
	for (i = 0; i < tr->npairs; i++)
		free(tr->pairs[i].where);
	free(tr->pairs);
	free(tr->ptab);
	free(tr->touched);
	free(tr->heap);
	free(tr->merges);
	free(tr);
}
