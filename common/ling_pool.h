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
 *
 * Three variants serve the data stages:
 * - ling_pool_for_worker() tells the body which thread runs it, for state
 *   kept per thread (a tokenizer, a hasher, scratch buffers);
 * - ling_pool_start() and ling_pool_wait() split a loop in two, so that the
 *   caller can read the next batch while the workers do this one;
 * - ling_pool_for_ordered() runs chunks on every thread and hands each one's
 *   result to the caller in chunk order (output that must not depend on the
 *   number of threads: a JSONL file, a dataset).
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

/* Finishes a loop that ling_pool_start() began, stops the workers and frees the pool. NULL is fine. */
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

/*
 * A body that also gets the index of the thread that runs it, in
 * [0, ling_pool_threads(pool)): 0 is the caller, 1.. the workers. Two chunks
 * never run at once with the same index, so slot `thread` of an array of
 * per-thread state needs no lock.
 */
typedef void (*ling_pool_worker_fn)(void *ctx, size_t begin, size_t end, size_t chunk, int thread);

/* ling_pool_for() with a body that knows its thread (see above). */
void ling_pool_for_worker(struct ling_pool *pool, size_t n, size_t grain, ling_pool_worker_fn fn, void *ctx);

/*
 * Starts ling_pool_for_worker(pool, n, grain, fn, ctx) on the workers and
 * returns at once, so that the caller can do other work meanwhile; every
 * ling_pool_start() must be followed by ling_pool_wait() before the next
 * loop on the pool, and ctx must live until then. A NULL pool or a pool of
 * one thread (no workers) runs the whole loop on the caller, inside
 * ling_pool_start().
 */
void ling_pool_start(struct ling_pool *pool, size_t n, size_t grain, ling_pool_worker_fn fn, void *ctx);

/*
 * Joins the loop that ling_pool_start() began: the caller takes chunks too
 * (as thread 0) until none are left, then waits for the workers. Returns at
 * once when no loop was started.
 */
void ling_pool_wait(struct ling_pool *pool);

/*
 * Makes the result of chunk `chunk` in slot `slot`, on any thread (see
 * ling_pool_worker_fn for `thread`).
 */
typedef void (*ling_pool_fill_fn)(void *ctx, size_t begin, size_t end, size_t chunk, size_t slot, int thread);

/* Takes the result of chunk `chunk` from slot `slot`, on the caller. @return 0, or nonzero to stop. */
typedef int (*ling_pool_emit_fn)(void *ctx, size_t chunk, size_t slot);

/*
 * Runs fill over [0, n) in chunks of grain items, as ling_pool_for() cuts
 * them, and calls emit for chunk 0, 1, 2, ... in that order on the caller.
 * Results wait in `slots` slots, chunk c in slot c % slots, so that memory is
 * bounded: the caller allocates `slots` result buffers and reuses them. With
 * slots >= 2 * ling_pool_threads(pool), the workers fill the next
 * slots / 2 chunks while the caller emits the last ones. The bytes emitted
 * therefore depend on n, grain and what fill makes of a chunk, never on the
 * number of threads. Stops at the first emit that returns nonzero, after the
 * chunks already started are filled, and returns that value; 0 when every
 * chunk was emitted. slots 0 counts as 1.
 */
int ling_pool_for_ordered(struct ling_pool *pool, size_t n, size_t grain, size_t slots, ling_pool_fill_fn fill,
			  ling_pool_emit_fn emit, void *ctx);

#endif
