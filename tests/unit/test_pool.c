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

static void count_body_thread(void *arg, size_t begin, size_t end, size_t chunk, int thread)
{
	(void)thread;
	count_body(arg, begin, end, chunk);
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

/* ling_pool_for_worker: thread indexes in range, and no two chunks at once on one index. */
struct worker_ctx {
	int n_threads;
	atomic_int *inside; /* per thread index: chunks running now */
	atomic_int bad;
	atomic_int items;
};

static void worker_body(void *arg, size_t begin, size_t end, size_t chunk, int thread)
{
	struct worker_ctx *ctx = arg;
	volatile unsigned spin = 0;

	(void)chunk;
	if (thread < 0 || thread >= ctx->n_threads) {
		atomic_store(&ctx->bad, 1);
		return;
	}
	if (atomic_fetch_add(&ctx->inside[thread], 1) != 0)
		atomic_store(&ctx->bad, 1);
	while (spin < 2000)
		spin++;
	atomic_fetch_add(&ctx->items, (int)(end - begin));
	atomic_fetch_sub(&ctx->inside[thread], 1);
}

static int workers_exclusive(struct ling_pool *pool, size_t n, int split)
{
	struct worker_ctx ctx;
	int good, i;

	ctx.n_threads = ling_pool_threads(pool);
	ctx.inside = xcalloc((size_t)ctx.n_threads, sizeof(*ctx.inside));
	for (i = 0; i < ctx.n_threads; i++)
		atomic_init(&ctx.inside[i], 0);
	atomic_init(&ctx.bad, 0);
	atomic_init(&ctx.items, 0);
	if (split) {
		ling_pool_start(pool, n, 3, worker_body, &ctx);
		ling_pool_wait(pool);
	} else {
		ling_pool_for_worker(pool, n, 3, worker_body, &ctx);
	}
	good = !atomic_load(&ctx.bad) && atomic_load(&ctx.items) == (int)n;
	free(ctx.inside);
	return good;
}

/*
 * ling_pool_for_ordered: chunk c's result is the text of its items, made in
 * slot c % slots; emit appends the slot to one output, which must come out
 * the same for every pool, and stops when told.
 */
struct ordered_ctx {
	struct ling_buf *slot_buf;
	size_t *slot_chunk;
	size_t slots;
	struct ling_buf out;
	size_t stop_at; /* emit returns 7 at this chunk */
	size_t emitted;
	atomic_int bad;
};

static void ordered_fill(void *arg, size_t begin, size_t end, size_t chunk, size_t slot, int thread)
{
	struct ordered_ctx *ctx = arg;
	size_t i;

	(void)thread;
	if (slot != chunk % ctx->slots)
		atomic_store(&ctx->bad, 1);
	ling_buf_reset(&ctx->slot_buf[slot]);
	for (i = begin; i < end; i++)
		ling_buf_addf(&ctx->slot_buf[slot], "%zu,", i * i);
	ctx->slot_chunk[slot] = chunk;
}

static int ordered_emit(void *arg, size_t chunk, size_t slot)
{
	struct ordered_ctx *ctx = arg;

	if (ctx->slot_chunk[slot] != chunk)
		atomic_store(&ctx->bad, 1);
	if (chunk == ctx->stop_at)
		return 7;
	ling_buf_addf(&ctx->out, "[%zu]%s", chunk, ctx->slot_buf[slot].data);
	ctx->emitted++;
	return 0;
}

/* @return the output (to free), or NULL when a slot or order check failed; *rc the loop's. */
static char *ordered_run(struct ling_pool *pool, size_t n, size_t grain, size_t slots, size_t stop_at, int *rc)
{
	struct ordered_ctx ctx;
	size_t i, n_slots = slots ? slots : 1;
	char *out;

	memset(&ctx, 0, sizeof(ctx));
	ctx.slot_buf = xcalloc(n_slots, sizeof(*ctx.slot_buf));
	ctx.slot_chunk = xcalloc(n_slots, sizeof(*ctx.slot_chunk));
	ctx.slots = n_slots;
	ctx.stop_at = stop_at;
	ling_buf_init(&ctx.out);
	atomic_init(&ctx.bad, 0);
	*rc = ling_pool_for_ordered(pool, n, grain, slots, ordered_fill, ordered_emit, &ctx);
	for (i = 0; i < n_slots; i++)
		ling_buf_release(&ctx.slot_buf[i]);
	free(ctx.slot_buf);
	free(ctx.slot_chunk);
	out = xstrdup(ctx.out.data ? ctx.out.data : "");
	ling_buf_release(&ctx.out);
	if (atomic_load(&ctx.bad) || ctx.emitted != (*rc ? stop_at : ling_pool_chunks(n, grain))) {
		free(out);
		return NULL;
	}
	return out;
}

static void test_ordered(struct ling_pool *two, struct ling_pool *five)
{
	struct ling_buf want = LING_BUF_INIT;
	char *got0, *got2, *got5, *got_one_slot, *stopped;
	size_t c, i, n = 1001, grain = 7;
	int rc0, rc2, rc5, rc1, rc_stop, rc_empty;

	for (c = 0; c < ling_pool_chunks(n, grain); c++) {
		ling_buf_addf(&want, "[%zu]", c);
		for (i = c * grain; i < n && i < (c + 1) * grain; i++)
			ling_buf_addf(&want, "%zu,", i * i);
	}
	got0 = ordered_run(NULL, n, grain, 4, SIZE_MAX, &rc0);
	got2 = ordered_run(two, n, grain, 4, SIZE_MAX, &rc2);
	got5 = ordered_run(five, n, grain, 10, SIZE_MAX, &rc5);
	got_one_slot = ordered_run(five, n, grain, 1, SIZE_MAX, &rc1);
	ok(got0 && !rc0 && !strcmp(got0, want.data), "ordered: no pool emits every chunk in order");
	ok(got2 && !rc2 && !strcmp(got2, want.data), "ordered: 2 threads, 4 slots, the same bytes");
	ok(got5 && !rc5 && !strcmp(got5, want.data), "ordered: 5 threads, 10 slots, the same bytes");
	ok(got_one_slot && !rc1 && !strcmp(got_one_slot, want.data), "ordered: one slot, the same bytes");
	stopped = ordered_run(five, n, grain, 10, 23, &rc_stop);
	ok(stopped && rc_stop == 7 && !strncmp(stopped, want.data, strlen(stopped)) && strstr(stopped, "[22]") &&
		   !strstr(stopped, "[23]"),
	   "ordered: an emit that fails stops the loop with its value, after the chunks before it");
	free(ordered_run(two, 0, grain, 4, SIZE_MAX, &rc_empty));
	is_int(rc_empty, 0, "ordered: n 0 emits nothing");
	free(got0);
	free(got2);
	free(got5);
	free(got_one_slot);
	free(stopped);
	ling_buf_release(&want);
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

	ok(workers_exclusive(five, 3000, 0), "for_worker: thread indexes in range, one chunk at a time on each");
	ok(workers_exclusive(two, 3000, 1), "start/wait: the caller joins, every item runs once");
	ok(workers_exclusive(one, 100, 1), "start/wait on a pool of one");
	ok(workers_exclusive(NULL, 100, 1), "start/wait on no pool");
	test_ordered(two, five);
	{
		struct ling_pool *left = ling_pool_new(3);
		struct count_ctx ctx;
		int all = 1;

		ctx.hits = xcalloc(500, sizeof(*ctx.hits));
		ctx.grain = 1;
		atomic_init(&ctx.bad_chunk, 0);
		ling_pool_start(left, 500, 1, count_body_thread, &ctx);
		ling_pool_free(left);
		for (i = 0; i < 500; i++)
			all &= atomic_load(&ctx.hits[i]) == 1;
		ok(all, "freeing a pool after ling_pool_start() finishes the loop first");
		free(ctx.hits);
	}

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
