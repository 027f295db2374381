/*
 * synth_set: growable uint32 arrays and the set algebra on sorted distinct
 * arrays that answers and tool calls are computed with.
 */
#include "synth_internal.h"

#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

/* ---- small arrays ---- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void synth_set_sort_unique(struct ling_u32s *a)
{
	size_t i, n = 0;

	if (a->n < 2)
		return;
	/* Small sets are the rule: insertion sort beats qsort's call overhead. */
	if (a->n <= 16) {
		for (i = 1; i < a->n; i++) {
			uint32_t x = a->v[i];
			size_t j = i;

			while (j && a->v[j - 1] > x) {
				a->v[j] = a->v[j - 1];
				j--;
			}
			a->v[j] = x;
		}
	} else {
		qsort(a->v, a->n, sizeof(*a->v), cmp_u32);
	}
	for (i = 0; i < a->n; i++)
		if (!n || a->v[n - 1] != a->v[i])
			a->v[n++] = a->v[i];
	a->n = n;
}

void synth_set_copy(struct ling_u32s *dst, const uint32_t *v, size_t n)
{
	dst->n = 0;
	if (n > dst->cap)
		dst->v = xgrow(dst->v, &dst->cap, n, sizeof(*dst->v));
	if (n)
		memcpy(dst->v, v, n * sizeof(*v));
	dst->n = n;
}

void synth_set_and(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, struct ling_u32s *out)
{
	size_t i = 0, j = 0;

	out->n = 0;
	while (i < na && j < nb) {
		if (a[i] < b[j])
			i++;
		else if (a[i] > b[j])
			j++;
		else {
			ling_u32s_push(out, a[i]);
			i++, j++;
		}
	}
}

void synth_set_or(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, struct ling_u32s *out)
{
	size_t i = 0, j = 0;

	out->n = 0;
	while (i < na || j < nb) {
		if (j == nb || (i < na && a[i] < b[j]))
			ling_u32s_push(out, a[i++]);
		else if (i == na || b[j] < a[i])
			ling_u32s_push(out, b[j++]);
		else {
			ling_u32s_push(out, a[i]);
			i++, j++;
		}
	}
}

void synth_set_minus(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, struct ling_u32s *out)
{
	size_t i = 0, j = 0;

	out->n = 0;
	while (i < na) {
		if (j == nb || a[i] < b[j])
			ling_u32s_push(out, a[i++]);
		else if (a[i] > b[j])
			j++;
		else
			i++, j++;
	}
}

int synth_set_has(const uint32_t *a, size_t n, uint32_t x)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && a[lo] == x;
}

int synth_set_equal(const struct ling_u32s *a, const struct ling_u32s *b)
{
	return a->n == b->n && (!a->n || !memcmp(a->v, b->v, a->n * sizeof(*a->v)));
}
