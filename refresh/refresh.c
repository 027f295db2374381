/*
 * refresh: one nightly refresh, stage by stage (see refresh.h).
 *
 * The state directory:
 *   lock           flock'd for the whole run (children hold it too)
 *   mark           "mark M\nrefreshes N\n": the store's change mark that the
 *                  last successful refresh covered, and how many refreshes
 *                  there were; written atomically after the dataset's commit
 *   run            "LAST NOW\n" while a run is between its first stage and
 *                  its commit: a rerun that finds it says it resumed
 *   work/          the samples of the run being made
 *   dedup/         dedup's state
 *   unique/        dedup's committed segments, which tokenize appends
 */
#include "refresh.h"

#include "../common/ling_clock.h"
#include "../common/ling_file.h"
#include "../common/ling_mem.h"
#include "../common/ling_num.h"
#include "../kg/kg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/banned.h"

static const char *const stage_names[REFRESH_NSTAGES] = { "lock", "pull", "samples", "dedup", "tokenize", "commit" };

const char *refresh_stage_name(int stage)
{
	return stage >= 0 && stage < REFRESH_NSTAGES ? stage_names[stage] : "?";
}

int refresh_stage_find(const char *name)
{
	int i;

	for (i = 0; i < REFRESH_NSTAGES; i++)
		if (!strcmp(name, stage_names[i]))
			return i;
	return -1;
}

void refresh_options_init(struct refresh_options *o)
{
	memset(o, 0, sizeof(*o));
	o->per_entity = 4;
}

/* ---- paths and small files ---- */

struct run {
	const struct refresh_options *o;
	struct refresh_report *r;
	struct ling_err *err;
	struct ling_buf path;   /* scratch for state paths */
	int lock_fd;
	int kill_stage;         /* LING_TEST_REFRESH_KILL: the stage to die in, or -1 */
	double kill_after;      /* seconds into it; < 0: right after it */
};

/* STATE/name, in r->path (valid until the next call). */
static const char *state_path(struct run *r, const char *name)
{
	ling_buf_reset(&r->path);
	ling_buf_addf(&r->path, "%s/%s", r->o->state_dir, name);
	return r->path.data;
}

static int make_dir(const char *dir, struct ling_err *err)
{
	if (!mkdir(dir, 0755) || errno == EEXIST)
		return 0;
	return ling_err_at(err, LING_EIO, dir, 0, 0, "cannot create the directory: %s", strerror(errno));
}

/* Reads a whole small file into b. @return 1, 0 when it does not exist, or LING_EIO. */
static int read_small(const char *path, struct ling_buf *b, struct ling_err *err)
{
	char chunk[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	ling_buf_reset(b);
	if (!f)
		return errno == ENOENT ? 0 : ling_err_at(err, LING_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)))
		ling_buf_add(b, chunk, n);
	if (ferror(f)) {
		fclose(f);
		return ling_err_at(err, LING_EIO, path, 0, 0, "cannot read: %s", strerror(errno));
	}
	fclose(f);
	ling_buf_addc(b, '\0');
	b->len--;
	return 1;
}

/* STATE/mark: the last refresh's mark and the number of refreshes (0 and 0 before the first). */
static int read_mark(struct run *r, uint64_t *mark, uint64_t *refreshes)
{
	struct ling_buf b = LING_BUF_INIT;
	const char *path = state_path(r, "mark");
	unsigned long long m = 0, n = 0;
	int rc;

	*mark = *refreshes = 0;
	if ((rc = read_small(path, &b, r->err)) == 1) {
		rc = 0;
		if (sscanf(b.data, "mark %llu\nrefreshes %llu\n", &m, &n) != 2)
			rc = ling_err_at(r->err, LING_EDATA, path, 1, 0, "not a refresh mark file");
		*mark = m;
		*refreshes = n;
	}
	ling_buf_release(&b);
	return rc;
}

/* Counts the lines of a file (0 when it does not exist). */
static int count_lines(const char *path, uint64_t *n, struct ling_err *err)
{
	char chunk[65536];
	FILE *f = fopen(path, "r");
	size_t got, i;

	*n = 0;
	if (!f)
		return errno == ENOENT ? 0 : ling_err_at(err, LING_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
	while ((got = fread(chunk, 1, sizeof(chunk), f)))
		for (i = 0; i < got; i++)
			*n += chunk[i] == '\n';
	fclose(f);
	return 0;
}

/* The names of the segments in dir (part-*.jsonl), sorted, one per line in out. */
static void list_segments(const char *dir, struct ling_buf *out)
{
	struct dirent **names;
	int n, i;

	ling_buf_reset(out);
	n = scandir(dir, &names, NULL, alphasort);
	for (i = 0; i < n; i++) {
		size_t len = strlen(names[i]->d_name);

		if (!strncmp(names[i]->d_name, "part-", 5) && len > 6 && !strcmp(names[i]->d_name + len - 6, ".jsonl"))
			ling_buf_addf(out, "%s\n", names[i]->d_name);
		free(names[i]);
	}
	if (n > 0)
		free(names);
	ling_buf_addc(out, '\0');
	out->len--;
}

/* Records in the segments of dir that are not in the list before. */
static int count_new_records(const char *dir, const struct ling_buf *before, uint64_t *n, struct ling_err *err)
{
	struct ling_buf after = LING_BUF_INIT, path = LING_BUF_INIT, name = LING_BUF_INIT;
	const char *p, *nl;
	uint64_t k;
	int rc = 0;

	*n = 0;
	list_segments(dir, &after);
	for (p = after.data; !rc && p && *p; p = nl + 1) {
		nl = strchr(p, '\n');
		ling_buf_reset(&name);
		ling_buf_add(&name, p, (size_t)(nl - p + 1));
		ling_buf_addc(&name, '\0');
		if (before->data && strstr(before->data, name.data))
			continue;
		ling_buf_reset(&path);
		ling_buf_addf(&path, "%s/%.*s", dir, (int)(nl - p), p);
		if (!(rc = count_lines(path.data, &k, err)))
			*n += k;
	}
	ling_buf_release(&after);
	ling_buf_release(&path);
	ling_buf_release(&name);
	return rc;
}

/* The dataset's totals from DATA/manifest.json (0 and 0 before its first run). */
static int dataset_totals(const char *data_dir, uint64_t *documents, uint64_t *tokens, struct ling_err *err)
{
	struct ling_buf path = LING_BUF_INIT;
	json_error_t jerr;
	json_t *m, *d, *t;
	int rc = 0;

	*documents = *tokens = 0;
	ling_buf_addf(&path, "%s/manifest.json", data_dir);
	if (access(path.data, F_OK)) {
		ling_buf_release(&path);
		return 0;
	}
	if (!(m = json_load_file(path.data, 0, &jerr)))
		rc = ling_err_at(err, LING_EDATA, path.data, jerr.line, jerr.column, "%s", jerr.text);
	else if (!json_is_integer(d = json_object_get(m, "documents")) ||
		 !json_is_integer(t = json_object_get(m, "tokens")))
		rc = ling_err_at(err, LING_EDATA, path.data, 0, 0, "no documents or tokens totals");
	else {
		*documents = (uint64_t)json_integer_value(d);
		*tokens = (uint64_t)json_integer_value(t);
	}
	json_decref(m);
	ling_buf_release(&path);
	return rc;
}

/* ---- the store ---- */

static int count_entity(void *ctx, kg_id id)
{
	(void)id;
	++*(uint64_t *)ctx;
	return 0;
}

/*
 * The store's change mark, and with entities the number of entities changed
 * after since. A store that does not exist yet has mark 0.
 */
static int store_mark(const char *dir, uint64_t *mark, uint64_t since, uint64_t *entities, struct ling_err *err)
{
	struct kg_store *st = NULL;
	struct stat sb;
	int rc;

	*mark = 0;
	if (entities)
		*entities = 0;
	if (stat(dir, &sb) && errno == ENOENT)
		return 0;
	if ((rc = kg_store_open(&st, dir, KG_STORE_READONLY, err)))
		return rc;
	rc = kg_change_mark(st, mark, err);
	if (!rc && entities)
		rc = kg_changed_since(st, since, count_entity, entities, err);
	kg_store_close(st);
	return rc;
}

/* ---- the children ---- */

/* LING_TEST_REFRESH_KILL=STAGE:SECONDS (or STAGE:end): die by SIGKILL there, as a crash would. */
static void read_kill_hook(struct run *r)
{
	const char *spec = getenv("LING_TEST_REFRESH_KILL"), *colon;
	char name[32];

	r->kill_stage = -1;
	if (!spec || !(colon = strchr(spec, ':')) || (size_t)(colon - spec) >= sizeof(name))
		return;
	memcpy(name, spec, (size_t)(colon - spec));
	name[colon - spec] = '\0';
	r->kill_stage = refresh_stage_find(name);
	if (!strcmp(colon + 1, "end"))
		r->kill_after = -1;
	else if (ling_parse_double(colon + 1, &r->kill_after))
		r->kill_stage = -1;
}

static void die_if_hooked(struct run *r, int stage, double since_start, int at_end)
{
	if (r->kill_stage != stage)
		return;
	if (at_end ? r->kill_after < 0 : r->kill_after >= 0 && ling_now() - since_start >= r->kill_after)
		kill(getpid(), SIGKILL);
}

/* In the child: stdin from /dev/null, stdout to out_path (or to stderr), then exec. Never returns. */
static void exec_child(pid_t parent, char *const *argv, const char *out_path)
{
	int fd;

	/* die with the refresh: a kill of the refresh is a kill of its stage, never an orphan at work */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(127);
	if ((fd = open("/dev/null", O_RDONLY)) < 0 || dup2(fd, STDIN_FILENO) < 0)
		_exit(127);
	close(fd);
	if (out_path) {
		if ((fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0 || dup2(fd, STDOUT_FILENO) < 0)
			_exit(127);
		close(fd);
	} else if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
		_exit(127);
	}
	execv(argv[0], argv);
	fprintf(stderr, "ling-refresh: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/*
 * Runs bin_dir/tool with args (NULL-terminated after argv[0]) for stage,
 * stdout to out_path (NULL: to stderr), and waits for it.
 * @return 0, or LING_EIO when it could not run or did not exit 0.
 */
static int run_tool(struct run *r, int stage, const char *tool, const char **args, const char *out_path)
{
	struct ling_buf exe = LING_BUF_INIT;
	const char **argv;
	size_t n = 0, i;
	double start = ling_now();
	pid_t parent = getpid(), pid;
	int status, rc = 0;

	while (args[n])
		n++;
	argv = xcalloc(n + 2, sizeof(*argv));
	ling_buf_addf(&exe, "%s/%s", r->o->bin_dir, tool);
	argv[0] = exe.data;
	for (i = 0; i < n; i++)
		argv[i + 1] = args[i];
	fflush(NULL);
	if ((pid = fork()) < 0) {
		rc = ling_err_set(r->err, LING_EIO, "cannot start %s: %s", tool, strerror(errno));
		goto out;
	}
	if (!pid)
		exec_child(parent, (char *const *)argv, out_path);
	for (;;) {
		pid_t got = waitpid(pid, &status, r->kill_stage == stage ? WNOHANG : 0);
		struct timespec tick = { 0, 5 * 1000 * 1000 };

		if (got == pid)
			break;
		if (got < 0 && errno != EINTR) {
			rc = ling_err_set(r->err, LING_EIO, "cannot wait for %s: %s", tool, strerror(errno));
			goto out;
		}
		die_if_hooked(r, stage, start, 0);
		if (!got)
			nanosleep(&tick, NULL);
	}
	if (WIFSIGNALED(status))
		rc = ling_err_set(r->err, LING_EIO, "%s was killed by signal %d", tool, WTERMSIG(status));
	else if (WEXITSTATUS(status))
		rc = ling_err_set(r->err, LING_EIO, "%s exited with status %d", tool, WEXITSTATUS(status));
out:
	free(argv);
	ling_buf_release(&exe);
	return rc;
}

/* ---- the stages ---- */

static int take_lock(struct run *r)
{
	const char *path = state_path(r, "lock");

	/* no O_CLOEXEC: the children inherit the lock and hold it as long as they live */
	if ((r->lock_fd = open(path, O_RDWR | O_CREAT, 0644)) < 0)
		return ling_err_at(r->err, LING_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
	while (flock(r->lock_fd, LOCK_EX | (r->o->wait ? 0 : LOCK_NB)))
		if (errno != EINTR)
			return ling_err_at(r->err, LING_EIO, path, 0, 0, "%s",
					   errno == EWOULDBLOCK ? "another ling-refresh holds the lock (--wait waits for it)"
								: strerror(errno));
	return 0;
}

/* The state directory, created when missing, locked. */
static int lock_state(struct run *r)
{
	int rc;

	if ((rc = make_dir(r->o->state_dir, r->err)) || (rc = make_dir(state_path(r, "work"), r->err)))
		return rc;
	return take_lock(r);
}

static int pull(struct run *r)
{
	const struct refresh_options *o = r->o;
	const char **args = xcalloc(16 + 2 * o->nkafka_props, sizeof(*args));
	uint64_t before;
	size_t n = 0, i;
	int rc;

	if ((rc = store_mark(o->store_dir, &before, 0, NULL, r->err)))
		goto out;
	args[n++] = "-q";
	args[n++] = "--store";
	args[n++] = o->store_dir;
	args[n++] = "--kafka";
	args[n++] = o->brokers;
	args[n++] = "--topic";
	args[n++] = o->topic;
	if (o->group) {
		args[n++] = "--group";
		args[n++] = o->group;
	}
	for (i = 0; i < o->nkafka_props; i++) {
		args[n++] = "-X";
		args[n++] = o->kafka_props[i];
	}
	if (o->max_errors) {
		args[n++] = "--max-errors";
		args[n++] = o->max_errors;
	}
	args[n++] = "--until-idle";
	if ((rc = run_tool(r, REFRESH_PULL, "kg-load", args, NULL)))
		goto out;
	if (!(rc = store_mark(o->store_dir, &r->r->mark_now, 0, NULL, r->err)))
		r->r->batches = r->r->mark_now - before;
out:
	free(args);
	return rc;
}

static int make_samples(struct run *r, const char *out, uint64_t refreshes)
{
	char since[32], per[32], seed[32];
	const char *args[] = { "-q", "--store", r->o->store_dir, "--changed-since", since, "--per-entity", per,
			       "--seed", seed, "--allow-short", NULL };
	struct ling_buf tmp = LING_BUF_INIT;
	int rc;

	snprintf(since, sizeof(since), "%" PRIu64, r->r->mark_last);
	snprintf(per, sizeof(per), "%" PRIu64, r->o->per_entity);
	/* by the refresh's number, not the mark: a pull cut into more batches by a kill makes the same samples */
	snprintf(seed, sizeof(seed), "%" PRIu64, r->o->seed + refreshes);
	ling_buf_addf(&tmp, "%s.tmp", out);
	if (!(rc = run_tool(r, REFRESH_SAMPLES, "kg2samples", args, tmp.data))) {
		if (rename(tmp.data, out))
			rc = ling_err_at(r->err, LING_EIO, out, 0, 0, "cannot rename into place: %s", strerror(errno));
		else
			rc = count_lines(out, &r->r->samples, r->err);
	}
	ling_buf_release(&tmp);
	return rc;
}

static int dedup(struct run *r, const char *samples)
{
	struct ling_buf state = LING_BUF_INIT, unique = LING_BUF_INIT, before = LING_BUF_INIT;
	char every[32];
	const char *args[] = { "-q", "--state", NULL, "--out", NULL, samples, NULL, NULL, NULL };
	int rc;

	ling_buf_addf(&state, "%s/dedup", r->o->state_dir);
	ling_buf_addf(&unique, "%s/unique", r->o->state_dir);
	args[2] = state.data;
	args[4] = unique.data;
	if (r->o->commit_every) {
		snprintf(every, sizeof(every), "%" PRIu64, r->o->commit_every);
		args[6] = "--commit-every";
		args[7] = every;
	}
	list_segments(unique.data, &before);
	if (!(rc = run_tool(r, REFRESH_DEDUP, "dedup", args, NULL)))
		rc = count_new_records(unique.data, &before, &r->r->unique, r->err);
	ling_buf_release(&state);
	ling_buf_release(&unique);
	ling_buf_release(&before);
	return rc;
}

static int tokenize(struct run *r)
{
	struct ling_buf unique = LING_BUF_INIT, segs = LING_BUF_INIT;
	const char *args[] = { "build", "-q", "--append", "-t", r->o->tokenizer, "-o", r->o->data_dir, NULL, NULL };
	uint64_t docs, tokens;
	int rc;

	ling_buf_addf(&unique, "%s/unique", r->o->state_dir);
	args[7] = unique.data;
	if ((rc = dataset_totals(r->o->data_dir, &docs, &tokens, r->err)))
		goto out;
	list_segments(unique.data, &segs);
	/* no segment yet (nothing was ever kept): nothing for tokenize to read */
	if (segs.len && (rc = run_tool(r, REFRESH_TOKENIZE, "tokenize", args, NULL)))
		goto out;
	if ((rc = dataset_totals(r->o->data_dir, &r->r->documents, &r->r->tokens, r->err)))
		goto out;
	r->r->documents_added = r->r->documents - docs;
	r->r->tokens_added = r->r->tokens - tokens;
out:
	ling_buf_release(&unique);
	ling_buf_release(&segs);
	return rc;
}

/* The run's end: the mark, then the run's files. */
static int commit(struct run *r, const char *samples, uint64_t refreshes, double start)
{
	struct ling_buf b = LING_BUF_INIT;
	int rc;

	die_if_hooked(r, REFRESH_COMMIT, start, 0);
	ling_buf_addf(&b, "mark %" PRIu64 "\nrefreshes %" PRIu64 "\n", r->r->mark_now, refreshes);
	rc = ling_atomic_write(state_path(r, "mark"), b.data, b.len, r->err);
	ling_buf_release(&b);
	if (rc)
		return rc;
	die_if_hooked(r, REFRESH_COMMIT, start, 1);
	unlink(samples);
	unlink(state_path(r, "run"));
	return ling_fsync_dir(r->o->state_dir, r->err);
}

/* Runs call as stage of run rn, timing it; on failure names the stage and leaves. */
#define STAGE(rn, stage, call)                                              \
	do {                                                                \
		double t0_ = ling_now();                                    \
		(rn)->r->ran[stage] = 1;                                    \
		rc = (call);                                                \
		(rn)->r->secs[stage] = ling_now() - t0_;                    \
		if (rc) {                                                   \
			(rn)->r->failed_stage = (stage);                    \
			goto out;                                           \
		}                                                           \
		die_if_hooked((rn), (stage), t0_, 1);                       \
	} while (0)

static int check_options(const struct refresh_options *o, struct ling_err *err)
{
	if (!o->store_dir || !o->state_dir || !o->data_dir || !o->tokenizer || !o->bin_dir)
		return ling_err_set(err, LING_EUSAGE, "the store, state and data directories and the tokenizer are needed");
	if (o->brokers && !o->topic)
		return ling_err_set(err, LING_EUSAGE, "the brokers need a topic");
	if (!o->per_entity)
		return ling_err_set(err, LING_EUSAGE, "samples per entity must be at least 1");
	return 0;
}

int refresh_run(const struct refresh_options *o, struct refresh_report *rep, struct ling_err *err)
{
	struct run r;
	struct ling_buf samples = LING_BUF_INIT, b = LING_BUF_INIT;
	uint64_t refreshes;
	int rc;

	memset(rep, 0, sizeof(*rep));
	rep->failed_stage = -1;
	memset(&r, 0, sizeof(r));
	r.o = o;
	r.r = rep;
	r.err = err;
	r.lock_fd = -1;
	read_kill_hook(&r);
	if ((rc = check_options(o, err)))
		return rc;
	ling_buf_addf(&samples, "%s/work/samples.jsonl", o->state_dir);
	STAGE(&r, REFRESH_LOCK, lock_state(&r));
	if ((rc = read_mark(&r, &rep->mark_last, &refreshes)))
		goto out;
	rep->refreshes = refreshes;
	rep->resumed = !access(state_path(&r, "run"), F_OK);
	if (o->brokers)
		STAGE(&r, REFRESH_PULL, pull(&r));
	else if ((rc = store_mark(o->store_dir, &rep->mark_now, 0, NULL, err)))
		goto out;
	rep->marks_known = 1;
	if (rep->mark_now < rep->mark_last) {
		rc = ling_err_at(err, LING_EDATA, state_path(&r, "mark"), 0, 0,
				 "the last refresh covered change mark %" PRIu64 " but the store %s is at %" PRIu64
				 " (another store?)", rep->mark_last, o->store_dir, rep->mark_now);
		goto out;
	}
	if (rep->mark_now == rep->mark_last) {
		/* nothing new: only what a run killed after its commit left */
		rep->up_to_date = 1;
		unlink(samples.data);
		unlink(state_path(&r, "run"));
		rc = dataset_totals(o->data_dir, &rep->documents, &rep->tokens, err);
		goto out;
	}
	ling_buf_addf(&b, "%" PRIu64 " %" PRIu64 "\n", rep->mark_last, rep->mark_now);
	if ((rc = ling_atomic_write(state_path(&r, "run"), b.data, b.len, err)) ||
	    (rc = store_mark(o->store_dir, &rep->mark_now, rep->mark_last, &rep->entities, err)))
		goto out;
	STAGE(&r, REFRESH_SAMPLES, make_samples(&r, samples.data, refreshes));
	STAGE(&r, REFRESH_DEDUP, dedup(&r, samples.data));
	STAGE(&r, REFRESH_TOKENIZE, tokenize(&r));
	STAGE(&r, REFRESH_COMMIT, commit(&r, samples.data, refreshes + 1, ling_now()));
	rep->refreshes = refreshes + 1;
out:
	if (r.lock_fd >= 0)
		close(r.lock_fd);
	ling_buf_release(&samples);
	ling_buf_release(&b);
	ling_buf_release(&r.path);
	return rc;
}
