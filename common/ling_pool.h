/*
 * ling_pool: a small thread pool that runs parallel for-loops (llm.c's
 * "#pragma omp parallel for", without OpenMP).
 *
 *	struct ling_pool *pool = ling_pool_new(2);
 *	ling_pool_for(pool, n_rows, 64, body, &ctx);  body(&ctx, begin, end, chunk) over [0, n_rows)
 *	ling_pool_free(pool);
 *
 * Determinism: ling_pool_for() cuts [0, n) into chunks of `grain` items,
 * chunk c being [c*grain, min((c+1)*grain, n)). The cut depends only on n and
 * grain, never on the number of threads or on timing; only which thread runs
 * a chunk varies. A body that writes each chunk's partial result to slot
 * `chunk` of an array, summed in chunk order afterwards, therefore gives the
 * same bits with 1 thread or 16.
 *
 * The calling thread works too: a pool of n threads starts n-1 workers. Calls
 * on one pool must not overlap (one caller at a time), and a body must not
 * call ling_pool_for() on the same pool; a body may call anything that is
 * thread-safe. ling_pool_for() returns when every chunk is done.
 */
#ifndef LING_POOL_H
#define LING_POOL_H

#include <stddef.h>

struct ling_pool;

/* Runs items [begin, end) of the loop; chunk is the index of that range. */
typedef void (*ling_pool_fn)(void *ctx, size_t begin, size_t end, size_t chunk);

/*
 * Starts a pool of n_threads threads counting the caller (0 = the online CPUs).
 * Aborts when a thread cannot be created (like xmalloc on OOM).
 */
struct ling_pool *ling_pool_new(int n_threads);

/* Stops the workers and frees the pool. NULL is fine. */
void ling_pool_free(struct ling_pool *pool);

/* The number of threads, counting the caller. */
int ling_pool_threads(const struct ling_pool *pool);

/* The number of chunks ling_pool_for(pool, n, grain, ...) runs: ceil(n / grain). grain 0 counts as 1. */
size_t ling_pool_chunks(size_t n, size_t grain);

/*
 * Runs fn over [0, n) in chunks of grain items (see determinism above) on
 * every thread of the pool, and returns when all are done. n 0 runs nothing.
 * pool NULL runs everything on the caller, chunk after chunk.
 */
void ling_pool_for(struct ling_pool *pool, size_t n, size_t grain, ling_pool_fn fn, void *ctx);

#endif
