/*
 * refresh: the nightly refresh of a dataset from a knowledge graph that
 * changes (DESIGN.md 3.7; doc/ling-refresh.1.md), as ling-refresh runs it
 * from cron.
 *
 * One run, under an exclusive flock on STATE/lock:
 *   pull      kg-load --kafka --until-idle: the topic's new deltas into the
 *             store, each batch with its offsets and a change mark;
 *   samples   kg2samples --changed-since LAST: samples around the entities
 *             the batches after LAST (the mark of the last refresh) changed,
 *             into STATE/work/samples.jsonl;
 *   dedup     dedup --state STATE/dedup --out STATE/unique: what is new
 *             against every earlier night, as committed segments;
 *   tokenize  tokenize build --append DATA STATE/unique: the segments the
 *             dataset lacks;
 *   commit    STATE/mark: the store's mark and the number of refreshes,
 *             written atomically, last.
 *
 * Each stage is one of the tools, run as a child process: their crash
 * safety (kg-load's offsets in the store's WriteBatch, dedup's segments
 * committed with its state, tokenize's manifest written last) holds as it
 * is, and a kill of the refresh anywhere is a kill of one tool. A rerun
 * repeats what was not committed: the samples depend only on the store,
 * LAST and the refresh's number (their seed), so they come out the same,
 * dedup drops those it already kept, and tokenize adds only the segments the
 * dataset does not have. Nothing is lost and nothing is added twice; a run
 * with no new change mark does nothing.
 *
 * Children die with the refresh (PR_SET_PDEATHSIG) and inherit the lock's
 * descriptor, so a stage never outlives a killed refresh unlocked.
 *
 * The library never prints; the tools it runs report their own errors on
 * the refresh's stderr.
 */
#ifndef REFRESH_H
#define REFRESH_H

#include "../common/ling_err.h"

#include <stddef.h>
#include <stdint.h>

enum refresh_stage {
	REFRESH_LOCK, REFRESH_PULL, REFRESH_SAMPLES, REFRESH_DEDUP, REFRESH_TOKENIZE, REFRESH_COMMIT,
	REFRESH_NSTAGES
};

/* "lock", "pull", "samples", "dedup", "tokenize", "commit". */
const char *refresh_stage_name(int stage);
/* The stage called name, or -1. */
int refresh_stage_find(const char *name);

struct refresh_options {
	const char *bin_dir;            /* where kg-load, kg2samples, dedup and tokenize are */
	const char *store_dir;          /* the KG store */
	const char *state_dir;          /* the refresh's state (created when missing) */
	const char *data_dir;           /* the dataset tokenize build --append extends */
	const char *tokenizer;          /* its tokenizer.json */
	const char *brokers, *topic;    /* the deltas' topic; brokers NULL: no pull stage */
	const char *group;              /* group.id, or NULL */
	const char *const *kafka_props; /* key=value, for kg-load -X */
	size_t nkafka_props;
	uint64_t per_entity;            /* samples per changed entity (default 4) */
	uint64_t seed;                  /* the first refresh's seed; refresh n uses seed + n - 1 */
	uint64_t commit_every;          /* dedup --commit-every (0: dedup's default) */
	const char *max_errors;         /* kg-load --max-errors: bad deltas skipped (NULL: kg-load's 0) */
	int wait;                       /* wait for the lock instead of failing */
};

/* Defaults: per_entity 4, the rest 0 or NULL. */
void refresh_options_init(struct refresh_options *o);

/* What a run did. */
struct refresh_report {
	int failed_stage;               /* the stage that failed, or -1 */
	int ran[REFRESH_NSTAGES];       /* the stages that ran */
	double secs[REFRESH_NSTAGES];   /* their wall-clock time */
	int resumed;                    /* it finished a run that was interrupted */
	int up_to_date;                 /* no change since the last refresh: nothing to do */
	uint64_t refreshes;             /* refreshes done, this one included when it succeeded */
	uint64_t batches;               /* change batches the pull applied */
	uint64_t mark_last, mark_now;   /* the last refresh's mark, and the store's (when marks_known) */
	int marks_known;                /* the run got as far as reading both */
	uint64_t entities;              /* entities changed after mark_last */
	uint64_t samples;               /* samples made around them */
	uint64_t unique;                /* of those, new against the dedup state (records in new segments) */
	uint64_t documents_added, tokens_added; /* what the dataset gained */
	uint64_t documents, tokens;     /* the dataset's totals after the run */
};

/*
 * Runs one refresh, filling r as it goes (also on failure). A failed tool
 * is LING_EIO "kg2samples exited with status 1" (or "was killed by signal
 * 9"), with r->failed_stage set; its own report is on stderr.
 * @return 0; LING_EUSAGE (missing options); LING_EIO (the lock is held by
 * another run, a state file cannot be written, a tool failed); LING_ESTORE;
 * LING_EDATA (a state file or manifest that does not parse).
 */
int refresh_run(const struct refresh_options *o, struct refresh_report *r, struct ling_err *err);

#endif
