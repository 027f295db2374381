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

	/* The current loop. Chunks are claimed through next_chunk. */
	ling_pool_fn fn;
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

static void run_chunks(struct ling_pool *pool)
{
	size_t c;

	while ((c = atomic_fetch_add(&pool->next_chunk, 1)) < pool->n_chunks) {
		size_t begin = c * pool->grain, end = begin + pool->grain;

		pool->fn(pool->ctx, begin, end < pool->n ? end : pool->n, c);
	}
}

static void *worker_main(void *arg)
{
	struct ling_pool *pool = arg;
	unsigned long seen = 0;

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		while (!pool->stop && pool->generation == seen)
			pthread_cond_wait(&pool->wake, &pool->lock);
		if (pool->stop)
			break;
		seen = pool->generation;
		pthread_mutex_unlock(&pool->lock);
		run_chunks(pool);
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
		if (pthread_create(&pool->workers[i], NULL, worker_main, pool)) {
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

void ling_pool_for(struct ling_pool *pool, size_t n, size_t grain, ling_pool_fn fn, void *ctx)
{
	size_t n_chunks = ling_pool_chunks(n, grain), c;

	if (!grain)
		grain = 1;
	if (!n_chunks)
		return;
	/* One chunk or one thread: no hand-off, no locks. */
	if (!pool || pool->n_threads == 1 || n_chunks == 1) {
		for (c = 0; c < n_chunks; c++) {
			size_t begin = c * grain, end = begin + grain;

			fn(ctx, begin, end < n ? end : n, c);
		}
		return;
	}
	pthread_mutex_lock(&pool->lock);
	pool->fn = fn;
	pool->ctx = ctx;
	pool->n = n;
	pool->grain = grain;
	pool->n_chunks = n_chunks;
	atomic_store(&pool->next_chunk, 0);
	pool->busy = pool->n_threads - 1;
	pool->generation++;
	pthread_cond_broadcast(&pool->wake);
	pthread_mutex_unlock(&pool->lock);

	run_chunks(pool);

	pthread_mutex_lock(&pool->lock);
	while (pool->busy)
		pthread_cond_wait(&pool->idle, &pool->lock);
	pthread_mutex_unlock(&pool->lock);
}
