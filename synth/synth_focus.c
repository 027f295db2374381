/*
 * synth_focus: the entities a focused run (kg2samples --entities,
 * --changed-since) anchors its samples at, resolved on the snapshot.
 *
 * An entity is named by its IRI (with or without <>) or by its display
 * name (every entity of that name). Values, and entities without an edge
 * in a relation that has tools, cannot start a query and are left out: a
 * changed entity whose last fact was deleted has nothing left to ask about.
 * The result is sorted and distinct, so the same entities in any order
 * give the same samples.
 */
#include "synth_internal.h"

#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

static const struct synth_graph *sort_graph;

static int cmp_iri(const void *a, const void *b)
{
	return strcmp(synth_iri(sort_graph, *(const uint32_t *)a), synth_iri(sort_graph, *(const uint32_t *)b));
}

/* The entities (not values) sorted by IRI, for lookups by IRI. */
static uint32_t *iri_index(const struct synth_graph *g, uint32_t *n)
{
	uint32_t *ix = xmalloc(((size_t)g->nent + 1) * sizeof(*ix)), e;

	*n = 0;
	for (e = 0; e < g->nent; e++)
		if (!synth_is_literal(g, e))
			ix[(*n)++] = e;
	sort_graph = g; /* synth_open runs on one thread */
	qsort(ix, *n, sizeof(*ix), cmp_iri);
	return ix;
}

static uint32_t find_iri(const struct synth_graph *g, const uint32_t *ix, uint32_t n, const char *iri)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = strcmp(synth_iri(g, ix[mid]), iri);

		if (!c)
			return ix[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SYNTH_NONE;
}

static void add_if_usable(const struct synth_graph *g, uint32_t e, struct ling_u32s *out)
{
	if (!synth_is_literal(g, e) && g->adj_off[e + 1] > g->adj_off[e])
		ling_u32s_push(out, e);
}

/* Adds the entities s names: the one of IRI s (or <s>), else every entity named s. */
static void resolve_one(const struct synth_graph *g, const uint32_t *ix, uint32_t nix, const char *s,
			struct ling_u32s *out, struct ling_buf *tmp)
{
	size_t n = strlen(s);
	uint32_t e, name, k;

	ling_buf_reset(tmp);
	if (n >= 2 && s[0] == '<' && s[n - 1] == '>')
		ling_buf_add(tmp, s + 1, n - 2);
	else
		ling_buf_add(tmp, s, n);
	if ((e = find_iri(g, ix, nix, tmp->data)) != SYNTH_NONE) {
		add_if_usable(g, e, out);
		return;
	}
	if ((name = synth_name_find(g, s, n)) == SYNTH_NONE)
		return;
	for (k = g->name_ent_off[name]; k < g->name_ent_off[name + 1]; k++)
		add_if_usable(g, g->name_ent[k], out);
}

void synth_focus_resolve(const struct synth_graph *g, const char *const *names, size_t n, struct ling_u32s *out)
{
	struct ling_buf tmp = LING_BUF_INIT;
	uint32_t nix, *ix = iri_index(g, &nix);
	size_t i;

	out->n = 0;
	for (i = 0; i < n; i++)
		resolve_one(g, ix, nix, names[i], out, &tmp);
	synth_set_sort_unique(out);
	free(ix);
	ling_buf_release(&tmp);
}

void synth_pick_start(const struct synth_graph *g, uint64_t *rng, uint32_t *d, uint32_t *a)
{
	uint32_t deg;

	if (!g->focus) {
		*d = synth_pick_dir(g, rng);
		*a = g->src[g->src_off[*d] + ling_rand_below(rng, synth_dir_sources(g, *d))];
		return;
	}
	*a = g->focus[ling_rand_below(rng, g->nfocus)];
	deg = g->adj_off[*a + 1] - g->adj_off[*a];
	*d = g->adj[g->adj_off[*a] + ling_rand_below(rng, deg)].dir;
}
