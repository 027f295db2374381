/*
 * rdfiso: are two N-Triples or N-Quads files the same RDF dataset up to a
 * renaming of blank nodes (RDF 1.1 Concepts §3.6, graph isomorphism)?
 *
 *	rdfiso A.nq B.nq
 *
 * Exit 0 when they are, 1 when not (with a diff-like explanation on stdout:
 * `- quad` only in A, `+ quad` only in B), 2 on a usage or parse error.
 *
 * Both files are sets of quads: duplicates are dropped, and language tags are
 * compared in lower case (they are case-insensitive, BCP 47). Ground quads
 * must match exactly. Blank nodes are matched by colour refinement
 * (1-dimensional Weisfeiler-Leman): all start with one colour, and each round
 * hashes a node's colour with the multiset of the quads it occurs in, as seen
 * from its position, with the other blank nodes' colours. Once the partition
 * is stable, a node of A in the smallest class that is not a singleton is
 * paired with each same-coloured node of B in turn (both get a fresh colour)
 * and refinement resumes. A complete pairing is checked quad by quad, so a
 * hash collision can only ever cost a false "no", never a false "yes".
 */
#include "kg/kg.h"

#include "common/ling_err.h"
#include "common/ling_input.h"
#include "common/ling_mem.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

#define MAX_DIFF_LINES 20

struct iso_term {
	long bnode;    /* blank node number in its graph, or -1 for a ground term */
	char *text;    /* N-Triples form of a ground term ("" for the default graph), or the blank node label */
	uint64_t hash; /* of text, for ground terms */
};

struct iso_quad {
	struct iso_term t[4]; /* s, p, o, g */
};

struct graph {
	const char *path;
	struct iso_quad *quads;
	size_t n, cap, committed;
	size_t nground;    /* after load: quads[0, nground) are ground, the rest hold a blank node */
	const char **labels; /* blank node k is labels[k] (pointers into quads' texts) */
	size_t nbnodes;
	uint64_t *colour;  /* per blank node */
	uint64_t *next;    /* scratch for refine_round */
	struct ling_buf nt, lang;
};

static uint64_t mix(uint64_t x)
{
	/* splitmix64's finaliser. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t hash_text(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return mix(h);
}

static void set_term(struct graph *g, struct iso_term *t, const struct kg_term *k)
{
	struct kg_term lowered = *k;
	size_t i;

	if (k->type == KG_TERM_BNODE) {
		t->bnode = 0; /* numbered by number_bnodes() */
		t->text = xstrndup(k->value, k->len);
		t->hash = 0;
		return;
	}
	if (k->lang) {
		ling_buf_reset(&g->lang);
		for (i = 0; i < k->lang_len; i++)
			ling_buf_addc(&g->lang, (char)tolower((unsigned char)k->lang[i]));
		lowered.lang = g->lang.data;
	}
	ling_buf_reset(&g->nt);
	kg_term_write_nt(&g->nt, &lowered);
	t->bnode = -1;
	t->text = xstrndup(g->nt.data ? g->nt.data : "", g->nt.len);
	t->hash = hash_text(t->text);
}

static void free_quads(struct iso_quad *q, size_t n)
{
	size_t i;
	int j;

	for (i = 0; i < n; i++)
		for (j = 0; j < 4; j++)
			free(q[i].t[j].text);
}

static int on_quad(void *ctx, const struct kg_quad *kq, struct ling_err *err)
{
	struct graph *g = ctx;
	struct iso_quad *q;

	(void)err;
	g->quads = xgrow(g->quads, &g->cap, g->n + 1, sizeof(*g->quads));
	q = &g->quads[g->n++];
	set_term(g, &q->t[0], &kq->s);
	set_term(g, &q->t[1], &kq->p);
	set_term(g, &q->t[2], &kq->o);
	set_term(g, &q->t[3], &kq->g);
	return 0;
}

static void on_commit(void *ctx)
{
	struct graph *g = ctx;

	g->committed = g->n;
}

static void on_rollback(void *ctx)
{
	struct graph *g = ctx;

	free_quads(g->quads + g->committed, g->n - g->committed);
	g->n = g->committed;
}

static int on_error(void *ctx, const struct ling_err *err)
{
	(void)ctx;
	(void)err;
	return 1; /* the first syntax error stops the parse */
}

static int term_cmp(const struct iso_term *a, const struct iso_term *b)
{
	if (a->bnode != b->bnode)
		return a->bnode < b->bnode ? -1 : 1;
	return a->bnode < 0 ? strcmp(a->text, b->text) : 0;
}

static int has_bnode(const struct iso_quad *q)
{
	return q->t[0].bnode >= 0 || q->t[1].bnode >= 0 || q->t[2].bnode >= 0 || q->t[3].bnode >= 0;
}

/* Ground quads first, then by terms: blank nodes by number, ground terms by text. */
static int quad_cmp(const void *pa, const void *pb)
{
	const struct iso_quad *a = pa, *b = pb;
	int i, c;

	if ((c = has_bnode(a) - has_bnode(b)))
		return c;
	for (i = 0; i < 4; i++)
		if ((c = term_cmp(&a->t[i], &b->t[i])))
			return c;
	return 0;
}

static int str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void number_bnodes(struct graph *g)
{
	size_t i, n = 0, cap = 0, u;
	int j;

	for (i = 0; i < g->n; i++)
		for (j = 0; j < 4; j++)
			if (g->quads[i].t[j].bnode >= 0) {
				g->labels = xgrow(g->labels, &cap, n + 1, sizeof(*g->labels));
				g->labels[n++] = g->quads[i].t[j].text;
			}
	if (n)
		qsort(g->labels, n, sizeof(*g->labels), str_ptr_cmp);
	for (i = 0, u = 0; i < n; i++)
		if (u == 0 || strcmp(g->labels[u - 1], g->labels[i]))
			g->labels[u++] = g->labels[i];
	g->nbnodes = u;
	for (i = 0; i < g->n; i++)
		for (j = 0; j < 4; j++) {
			struct iso_term *t = &g->quads[i].t[j];
			const char **hit;

			if (t->bnode < 0)
				continue;
			hit = bsearch(&t->text, g->labels, u, sizeof(*g->labels), str_ptr_cmp);
			t->bnode = (long)(hit - g->labels);
		}
}

/* Sorts the quads, drops duplicates (a graph is a set) and counts the ground ones. */
static void normalize(struct graph *g)
{
	size_t i, u = 0;

	if (g->n)
		qsort(g->quads, g->n, sizeof(*g->quads), quad_cmp);
	for (i = 0; i < g->n; i++) {
		if (u > 0 && !quad_cmp(&g->quads[u - 1], &g->quads[i])) {
			free_quads(&g->quads[i], 1);
			continue;
		}
		g->quads[u++] = g->quads[i];
	}
	g->n = u;
	for (g->nground = 0; g->nground < g->n && !has_bnode(&g->quads[g->nground]); g->nground++)
		;
}

static int load(struct graph *g, const char *path)
{
	struct kg_sink sink = { g, on_quad, on_commit, on_rollback, on_error };
	struct kg_parse_opts opts;
	struct ling_input *in;
	struct ling_err err;
	int rc;

	memset(&opts, 0, sizeof(opts));
	opts.format = KG_FORMAT_NQUADS; /* N-Quads is a superset of N-Triples */
	ling_err_clear(&err);
	g->path = path;
	rc = ling_input_open(&in, path, &err);
	if (!rc) {
		rc = kg_parse(in, &opts, &sink, &err);
		ling_input_close(in);
	}
	if (rc) {
		ling_err_print("rdfiso", &err);
		return rc;
	}
	number_bnodes(g);
	normalize(g);
	g->colour = xcalloc(g->nbnodes + 1, sizeof(*g->colour));
	g->next = xcalloc(g->nbnodes + 1, sizeof(*g->next));
	return 0;
}

static void graph_release(struct graph *g)
{
	free_quads(g->quads, g->n);
	free(g->quads);
	free(g->labels);
	free(g->colour);
	free(g->next);
	ling_buf_release(&g->nt);
	ling_buf_release(&g->lang);
}

/* The diff: a header before the first line, and at most MAX_DIFF_LINES lines. */
struct diff {
	const struct graph *a, *b;
	size_t lines;
};

static void diff_line(struct diff *d, char sign, const struct graph *g, const struct iso_quad *q)
{
	int i;

	if (d->lines == 0)
		printf("--- %s\n+++ %s\n", d->a->path, d->b->path);
	if (d->lines++ == MAX_DIFF_LINES)
		puts("...");
	if (d->lines > MAX_DIFF_LINES)
		return;
	putchar(sign);
	for (i = 0; i < 4; i++) {
		const struct iso_term *t = &q->t[i];

		if (t->bnode >= 0)
			printf(" _:%s", g->labels[t->bnode]);
		else if (t->text[0])
			printf(" %s", t->text);
	}
	puts(" .");
}

/* Merges the two sorted lists of ground quads. */
static void diff_ground(struct diff *d)
{
	const struct graph *a = d->a, *b = d->b;
	size_t i = 0, j = 0;

	while (i < a->nground || j < b->nground) {
		int c = i == a->nground ? 1 : j == b->nground ? -1 : quad_cmp(&a->quads[i], &b->quads[j]);

		if (c < 0)
			diff_line(d, '-', a, &a->quads[i++]);
		else if (c > 0)
			diff_line(d, '+', b, &b->quads[j++]);
		else
			i++, j++;
	}
}

#define SELF_COLOUR 0x5e1f5e1f5e1f5e1fULL

/* One round of refinement: next colour = old colour + multiset of the node's quads. */
static void refine_round(struct graph *g)
{
	size_t i, k;
	int pos, j;

	memset(g->next, 0, g->nbnodes * sizeof(*g->next));
	for (i = g->nground; i < g->n; i++) {
		const struct iso_quad *q = &g->quads[i];

		for (pos = 0; pos < 4; pos++) {
			long self = q->t[pos].bnode;
			uint64_t h = mix((uint64_t)pos + 1);

			if (self < 0)
				continue;
			for (j = 0; j < 4; j++) {
				const struct iso_term *t = &q->t[j];

				h = mix(h ^ (t->bnode < 0 ? t->hash : t->bnode == self ? SELF_COLOUR : g->colour[t->bnode]));
			}
			g->next[self] += h; /* a sum: the order of the quads does not matter */
		}
	}
	for (k = 0; k < g->nbnodes; k++)
		g->colour[k] = mix(mix(g->colour[k]) ^ g->next[k]);
}

static int u64_cmp(const void *pa, const void *pb)
{
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;

	return a < b ? -1 : a > b;
}

static uint64_t *sorted_colours(const struct graph *g)
{
	uint64_t *c = xmalloc((g->nbnodes + 1) * sizeof(*c));

	memcpy(c, g->colour, g->nbnodes * sizeof(*c));
	qsort(c, g->nbnodes, sizeof(*c), u64_cmp);
	return c;
}

static size_t count_colours(const struct graph *a, const struct graph *b)
{
	size_t n = a->nbnodes + b->nbnodes, i, distinct = 0;
	uint64_t *c = xmalloc((n + 1) * sizeof(*c));

	memcpy(c, a->colour, a->nbnodes * sizeof(*c));
	memcpy(c + a->nbnodes, b->colour, b->nbnodes * sizeof(*c));
	qsort(c, n, sizeof(*c), u64_cmp);
	for (i = 0; i < n; i++)
		distinct += i == 0 || c[i] != c[i - 1];
	free(c);
	return distinct;
}

/* Refines both graphs together until no colour class splits any more. */
static void refine(struct graph *a, struct graph *b)
{
	size_t before = count_colours(a, b), after;

	for (;;) {
		refine_round(a);
		refine_round(b);
		after = count_colours(a, b);
		if (after == before)
			break;
		before = after;
	}
}

static int same_colours(const struct graph *a, const struct graph *b)
{
	uint64_t *ca, *cb;
	int same;

	if (a->nbnodes != b->nbnodes)
		return 0;
	ca = sorted_colours(a);
	cb = sorted_colours(b);
	same = !memcmp(ca, cb, a->nbnodes * sizeof(*ca));
	free(ca);
	free(cb);
	return same;
}

/* With every class a singleton, maps A's blank nodes to B's and compares the quads. */
static int verify(const struct graph *a, const struct graph *b)
{
	size_t nq = a->n - a->nground, i, k;
	struct iso_quad *mapped = xmalloc((nq + 1) * sizeof(*mapped));
	long *map = xmalloc((a->nbnodes + 1) * sizeof(*map));
	int j, ok = nq == b->n - b->nground;

	for (k = 0; k < a->nbnodes; k++) {
		for (map[k] = 0; (size_t)map[k] < b->nbnodes && b->colour[map[k]] != a->colour[k]; map[k]++)
			;
		ok &= (size_t)map[k] < b->nbnodes;
	}
	for (i = 0; ok && i < nq; i++) {
		mapped[i] = a->quads[a->nground + i];
		for (j = 0; j < 4; j++)
			if (mapped[i].t[j].bnode >= 0)
				mapped[i].t[j].bnode = map[mapped[i].t[j].bnode];
	}
	if (ok && nq)
		qsort(mapped, nq, sizeof(*mapped), quad_cmp);
	for (i = 0; ok && i < nq; i++)
		ok = !quad_cmp(&mapped[i], &b->quads[b->nground + i]);
	free(mapped);
	free(map);
	return ok;
}

/* The colour of A's smallest class with more than one node; 0 when all are singletons. */
static int pick_class(const struct graph *a, uint64_t *colour)
{
	uint64_t *c = sorted_colours(a);
	size_t i, run, best = 0;

	for (i = 0; i < a->nbnodes; i += run) {
		for (run = 1; i + run < a->nbnodes && c[i + run] == c[i]; run++)
			;
		if (run > 1 && (best == 0 || run < best)) {
			best = run;
			*colour = c[i];
		}
	}
	free(c);
	return best > 0;
}

static int search(struct graph *a, struct graph *b, unsigned depth)
{
	uint64_t c = 0, *saved_a, *saved_b;
	size_t x, y;
	int found = 0;

	refine(a, b);
	if (!same_colours(a, b))
		return 0;
	if (!pick_class(a, &c))
		return verify(a, b);
	for (x = 0; a->colour[x] != c; x++)
		;
	saved_a = xmalloc((a->nbnodes + 1) * sizeof(*saved_a));
	saved_b = xmalloc((b->nbnodes + 1) * sizeof(*saved_b));
	memcpy(saved_a, a->colour, a->nbnodes * sizeof(*saved_a));
	memcpy(saved_b, b->colour, b->nbnodes * sizeof(*saved_b));
	for (y = 0; y < b->nbnodes && !found; y++) {
		if (saved_b[y] != c)
			continue;
		a->colour[x] = b->colour[y] = mix(c ^ mix(0x1d1d1d1dULL + depth));
		found = search(a, b, depth + 1);
		memcpy(a->colour, saved_a, a->nbnodes * sizeof(*saved_a));
		memcpy(b->colour, saved_b, b->nbnodes * sizeof(*saved_b));
	}
	free(saved_a);
	free(saved_b);
	return found;
}

/* A blank quad's shape under the current colouring, for the explanation. */
struct shape {
	uint64_t hash;
	size_t index;
};

static int shape_cmp(const void *pa, const void *pb)
{
	const struct shape *a = pa, *b = pb;

	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

static struct shape *shapes(const struct graph *g)
{
	size_t nq = g->n - g->nground, i;
	struct shape *s = xmalloc((nq + 1) * sizeof(*s));
	int j;

	for (i = 0; i < nq; i++) {
		const struct iso_quad *q = &g->quads[g->nground + i];

		s[i].hash = 0;
		s[i].index = g->nground + i;
		for (j = 0; j < 4; j++)
			s[i].hash = mix(s[i].hash ^ (q->t[j].bnode < 0 ? q->t[j].hash : g->colour[q->t[j].bnode]));
	}
	if (nq)
		qsort(s, nq, sizeof(*s), shape_cmp);
	return s;
}

/* Reports the blank quads whose shape (after refinement) has no counterpart. */
static void diff_shapes(struct diff *d)
{
	const struct graph *a = d->a, *b = d->b;
	size_t na = a->n - a->nground, nb = b->n - b->nground, i, j;
	struct shape *sa = shapes(a), *sb = shapes(b);
	int pass;

	/* Two passes, so that the `-` lines come before the `+` lines. */
	for (pass = 0; pass < 2; pass++)
		for (i = 0, j = 0; i < na || j < nb;) {
			if (j == nb || (i < na && sa[i].hash < sb[j].hash)) {
				if (pass == 0)
					diff_line(d, '-', a, &a->quads[sa[i].index]);
				i++;
			} else if (i == na || sb[j].hash < sa[i].hash) {
				if (pass == 1)
					diff_line(d, '+', b, &b->quads[sb[j].index]);
				j++;
			} else {
				i++, j++;
			}
		}
	free(sa);
	free(sb);
}

int main(int argc, char **argv)
{
	struct graph a, b;
	struct diff d;
	size_t k;
	int rc = 2;

	if (argc != 3) {
		fputs("usage: rdfiso A.nq B.nq\n", stderr);
		return 2;
	}
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (load(&a, argv[1]) || load(&b, argv[2]))
		goto out;
	d.a = &a;
	d.b = &b;
	d.lines = 0;
	diff_ground(&d);
	for (k = 0; k < a.nbnodes; k++)
		a.colour[k] = mix(0xb1a4cULL);
	for (k = 0; k < b.nbnodes; k++)
		b.colour[k] = mix(0xb1a4cULL);
	refine(&a, &b);
	diff_shapes(&d);
	if (d.lines == 0 && search(&a, &b, 0)) {
		rc = 0;
		goto out;
	}
	if (d.lines == 0)
		printf("--- %s\n+++ %s\n# same quads up to blank node colouring, but no blank node bijection matches them\n",
		       a.path, b.path);
	rc = 1;
out:
	graph_release(&a);
	graph_release(&b);
	if (fflush(stdout)) {
		fputs("rdfiso: write error on stdout\n", stderr);
		rc = 2;
	}
	return rc;
}
