/*
 * Unit tests for common/ling_pool: every item runs exactly once, chunks are
 * cut by grain alone, results summed per chunk are the same bits for any
 * number of threads, and edge cases (n 0, grain 0, a NULL pool, reuse).
 */
#include "tap.h"

#include "common/ling_mem.h"
#include "common/ling_pool.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

struct count_ctx {
	atomic_int *hits;
	size_t grain;
	atomic_int bad_chunk;
};

static void count_body(void *arg, size_t begin, size_t end, size_t chunk)
{
	struct count_ctx *ctx = arg;
	size_t i;

	if (begin != chunk * ctx->grain || end <= begin || end - begin > ctx->grain)
		atomic_store(&ctx->bad_chunk, 1);
	for (i = begin; i < end; i++)
		atomic_fetch_add(&ctx->hits[i], 1);
}

static int every_item_once(struct ling_pool *pool, size_t n, size_t grain)
{
	struct count_ctx ctx;
	size_t i;
	int good = 1;

	ctx.hits = xcalloc(n ? n : 1, sizeof(*ctx.hits));
	ctx.grain = grain ? grain : 1;
	atomic_init(&ctx.bad_chunk, 0);
	ling_pool_for(pool, n, grain, count_body, &ctx);
	for (i = 0; i < n; i++)
		good &= atomic_load(&ctx.hits[i]) == 1;
	free(ctx.hits);
	return good && !atomic_load(&ctx.bad_chunk);
}

/* A float sum that depends on the order of additions, computed per chunk then in chunk order. */
struct sum_ctx {
	const float *x;
	float *partial;
};

static void sum_body(void *arg, size_t begin, size_t end, size_t chunk)
{
	struct sum_ctx *ctx = arg;
	float s = 0;
	size_t i;

	for (i = begin; i < end; i++)
		s += ctx->x[i];
	ctx->partial[chunk] = s;
}

static float chunked_sum(struct ling_pool *pool, const float *x, size_t n, size_t grain)
{
	size_t n_chunks = ling_pool_chunks(n, grain), c;
	struct sum_ctx ctx = { x, xcalloc(n_chunks, sizeof(float)) };
	float s = 0;

	ling_pool_for(pool, n, grain, sum_body, &ctx);
	for (c = 0; c < n_chunks; c++)
		s += ctx.partial[c];
	free(ctx.partial);
	return s;
}

int main(void)
{
	struct ling_pool *one = ling_pool_new(1), *two = ling_pool_new(2), *five = ling_pool_new(5);
	size_t n = 100003, i;
	float *x = xmalloc(n * sizeof(float));
	uint32_t state = 12345;
	float s1, s2, s5, s0;

	is_int(ling_pool_threads(one), 1, "a pool of 1 thread");
	is_int(ling_pool_threads(five), 5, "a pool of 5 threads");
	is_int(ling_pool_threads(NULL), 1, "no pool counts as one thread");
	{
		struct ling_pool *cpus = ling_pool_new(0);

		ok(ling_pool_threads(cpus) >= 1, "0 threads means the online CPUs");
		ling_pool_free(cpus);
	}
	is_int(ling_pool_chunks(0, 8), 0, "chunks of nothing");
	is_int(ling_pool_chunks(16, 8), 2, "chunks that divide");
	is_int(ling_pool_chunks(17, 8), 3, "a short last chunk");
	is_int(ling_pool_chunks(5, 0), 5, "grain 0 counts as 1");

	ok(every_item_once(two, 0, 8), "n 0 runs nothing");
	ok(every_item_once(two, 1, 8), "one item");
	ok(every_item_once(two, 1000, 7), "1000 items in chunks of 7, each once, chunk ranges by grain");
	ok(every_item_once(five, 1000, 1), "1000 chunks of one item on 5 threads");
	ok(every_item_once(five, 3, 1), "fewer chunks than threads");
	ok(every_item_once(NULL, 100, 9), "a NULL pool runs on the caller");
	ok(every_item_once(one, 100, 0), "grain 0 on a pool of one");
	for (i = 0; i < 50; i++)
		if (!every_item_once(two, 257, 16))
			break;
	is_int(i, 50, "the same pool reused for 50 loops");

	/* Values of mixed magnitude, so that the order of additions shows in the bits. */
	for (i = 0; i < n; i++) {
		state = state * 1664525u + 1013904223u;
		x[i] = (float)((int32_t)state) * ((i % 3) ? 1e-6f : 1e-2f);
	}
	s0 = chunked_sum(NULL, x, n, 1000);
	s1 = chunked_sum(one, x, n, 1000);
	s2 = chunked_sum(two, x, n, 1000);
	s5 = chunked_sum(five, x, n, 1000);
	ok(!memcmp(&s0, &s1, sizeof(float)) && !memcmp(&s1, &s2, sizeof(float)) && !memcmp(&s2, &s5, sizeof(float)),
	   "per-chunk sums are the same bits on 0, 1, 2 and 5 threads (%.9g %.9g %.9g %.9g)", s0, s1, s2, s5);

	free(x);
	ling_pool_free(one);
	ling_pool_free(two);
	ling_pool_free(five);
	ling_pool_free(NULL);
	return done_testing();
}
