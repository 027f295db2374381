/* ling_pool: parallel for-loops on a fixed set of pthreads (see ling_pool.h). */
#include "ling_pool.h"

#include "ling_mem.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "banned.h"

struct ling_pool {
	int n_threads;
	pthread_t *workers;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* a new loop, or stop */
	pthread_cond_t idle; /* the last worker left the loop */
	unsigned long generation;
	int stop;
	int busy; /* workers still inside the current loop */

	/* The current loop (fn or worker_fn). Chunks are claimed through next_chunk. */
	ling_pool_fn fn;
	ling_pool_worker_fn worker_fn;
	int started; /* ling_pool_start() ran a loop that ling_pool_wait() has not joined */
	void *ctx;
	size_t n, grain, n_chunks;
	atomic_size_t next_chunk;
};

size_t ling_pool_chunks(size_t n, size_t grain)
{
	if (!grain)
		grain = 1;
	return n / grain + (n % grain != 0);
}

static void run_chunks(struct ling_pool *pool, int thread)
{
	size_t c;

	while ((c = atomic_fetch_add(&pool->next_chunk, 1)) < pool->n_chunks) {
		size_t begin = c * pool->grain, end = begin + pool->grain;

		if (end > pool->n)
			end = pool->n;
		if (pool->fn)
			pool->fn(pool->ctx, begin, end, c);
		else
			pool->worker_fn(pool->ctx, begin, end, c, thread);
	}
}

struct worker_arg {
	struct ling_pool *pool;
	int thread;
};

static void *worker_main(void *arg)
{
	struct worker_arg *wa = arg;
	struct ling_pool *pool = wa->pool;
	int thread = wa->thread;
	unsigned long seen = 0;

	free(wa);

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		while (!pool->stop && pool->generation == seen)
			pthread_cond_wait(&pool->wake, &pool->lock);
		if (pool->stop)
			break;
		seen = pool->generation;
		pthread_mutex_unlock(&pool->lock);
		run_chunks(pool, thread);
		pthread_mutex_lock(&pool->lock);
		if (--pool->busy == 0)
			pthread_cond_signal(&pool->idle);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

struct ling_pool *ling_pool_new(int n_threads)
{
	struct ling_pool *pool = xcalloc(1, sizeof(*pool));
	int i;

	if (n_threads <= 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		n_threads = cpus > 0 ? (int)cpus : 1;
	}
	pool->n_threads = n_threads;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->wake, NULL);
	pthread_cond_init(&pool->idle, NULL);
	pool->workers = xcalloc((size_t)n_threads, sizeof(*pool->workers));
	for (i = 0; i + 1 < n_threads; i++) {
		struct worker_arg *wa = xmalloc(sizeof(*wa));

		wa->pool = pool;
		wa->thread = i + 1;
		if (pthread_create(&pool->workers[i], NULL, worker_main, wa)) {
			fprintf(stderr, "ling: cannot create a thread\n");
			abort();
		}
	}
	return pool;
}

void ling_pool_free(struct ling_pool *pool)
{
	int i;

	if (!pool)
		return;
	ling_pool_wait(pool);
	pthread_mutex_lock(&pool->lock);
	pool->stop = 1;
	pthread_cond_broadcast(&pool->wake);
	pthread_mutex_unlock(&pool->lock);
	for (i = 0; i + 1 < pool->n_threads; i++)
		pthread_join(pool->workers[i], NULL);
	pthread_cond_destroy(&pool->idle);
	pthread_cond_destroy(&pool->wake);
	pthread_mutex_destroy(&pool->lock);
	free(pool->workers);
	free(pool);
}

int ling_pool_threads(const struct ling_pool *pool)
{
	return pool ? pool->n_threads : 1;
}

/* Runs the loop on the caller alone, chunk after chunk. */
static void run_inline(size_t n, size_t grain, ling_pool_fn fn, ling_pool_worker_fn worker_fn, void *ctx)
{
	size_t n_chunks = ling_pool_chunks(n, grain), c;

	for (c = 0; c < n_chunks; c++) {
		size_t begin = c * grain, end = begin + grain;

		if (end > n)
			end = n;
		if (fn)
			fn(ctx, begin, end, c);
		else
			worker_fn(ctx, begin, end, c, 0);
	}
}

/* Hands the loop to the workers; the caller joins it in ling_pool_wait(). */
static void hand_off(struct ling_pool *pool, size_t n, size_t grain, ling_pool_fn fn, ling_pool_worker_fn worker_fn,
		     void *ctx)
{
	pthread_mutex_lock(&pool->lock);
	pool->fn = fn;
	pool->worker_fn = worker_fn;
	pool->ctx = ctx;
	pool->n = n;
	pool->grain = grain;
	pool->n_chunks = ling_pool_chunks(n, grain);
	atomic_store(&pool->next_chunk, 0);
	pool->busy = pool->n_threads - 1;
	pool->generation++;
	pool->started = 1;
	pthread_cond_broadcast(&pool->wake);
	pthread_mutex_unlock(&pool->lock);
}

void ling_pool_wait(struct ling_pool *pool)
{
	if (!pool || !pool->started)
		return;
	run_chunks(pool, 0);
	pthread_mutex_lock(&pool->lock);
	while (pool->busy)
		pthread_cond_wait(&pool->idle, &pool->lock);
	pool->started = 0;
	pthread_mutex_unlock(&pool->lock);
}

static void run_loop(struct ling_pool *pool, size_t n, size_t grain, ling_pool_fn fn, ling_pool_worker_fn worker_fn,
		     void *ctx)
{
	if (!grain)
		grain = 1;
	if (!n)
		return;
	/* One chunk or one thread: no hand-off, no locks. */
	if (!pool || pool->n_threads == 1 || n <= grain) {
		run_inline(n, grain, fn, worker_fn, ctx);
		return;
	}
	hand_off(pool, n, grain, fn, worker_fn, ctx);
	ling_pool_wait(pool);
}

void ling_pool_for(struct ling_pool *pool, size_t n, size_t grain, ling_pool_fn fn, void *ctx)
{
	run_loop(pool, n, grain, fn, NULL, ctx);
}

void ling_pool_for_worker(struct ling_pool *pool, size_t n, size_t grain, ling_pool_worker_fn fn, void *ctx)
{
	run_loop(pool, n, grain, NULL, fn, ctx);
}

void ling_pool_start(struct ling_pool *pool, size_t n, size_t grain, ling_pool_worker_fn fn, void *ctx)
{
	if (!grain)
		grain = 1;
	if (!n)
		return;
	if (!pool || pool->n_threads == 1)
		run_inline(n, grain, NULL, fn, ctx);
	else
		hand_off(pool, n, grain, NULL, fn, ctx);
}

/* One round of ling_pool_for_ordered(): chunks [first, first + count) of the whole loop. */
struct ordered {
	ling_pool_fill_fn fill;
	void *ctx;
	size_t n, grain, slots, first;
};

static void ordered_body(void *arg, size_t begin, size_t end, size_t chunk, int thread)
{
	struct ordered *o = arg;
	size_t c = o->first + begin, lo = c * o->grain, hi = lo + o->grain;

	(void)end;
	(void)chunk;
	o->fill(o->ctx, lo, hi < o->n ? hi : o->n, c, c % o->slots, thread);
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

int ling_pool_for_ordered(struct ling_pool *pool, size_t n, size_t grain, size_t slots, ling_pool_fill_fn fill,
			  ling_pool_emit_fn emit, void *ctx)
{
	struct ordered o = { fill, ctx, n, grain ? grain : 1, slots ? slots : 1, 0 };
	size_t n_chunks = ling_pool_chunks(n, grain), round = o.slots >= 2 ? o.slots / 2 : 1;
	size_t first = 0, count = min_size(round, n_chunks), c;
	int overlap = o.slots >= 2, rc = 0;

	/*
	 * Rounds of `round` chunks: while the caller emits one round, the
	 * workers fill the next, in the other half of the slots.
	 */
	ling_pool_for_worker(pool, count, 1, ordered_body, &o);
	while (count) {
		size_t next = first + count, next_count = min_size(round, n_chunks - next);

		if (overlap && next_count) {
			o.first = next;
			ling_pool_start(pool, next_count, 1, ordered_body, &o);
		}
		for (c = first; c < next && !rc; c++)
			rc = emit(ctx, c, c % o.slots);
		if (overlap && next_count)
			ling_pool_wait(pool);
		if (rc)
			return rc;
		if (!overlap && next_count) {
			o.first = next;
			ling_pool_for_worker(pool, next_count, 1, ordered_body, &o);
		}
		first = next;
		count = next_count;
	}
	return 0;
}
