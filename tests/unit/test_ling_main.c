/*
 * Unit tests for common/ling_main: the usage error, --help and --version
 * through the checked writes (a full disk is reported, exit 1), the stdin
 * check and the --max-errors budget. Each print runs in a child whose stdout
 * and stderr are files (or /dev/full), so the bytes can be compared.
 */
#include "tap.h"
#include "fixture.h"

#include "common/ling_err.h"
#include "common/ling_main.h"
#include "common/ling_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/banned.h"

static char tmpdir[PATH_MAX];
static char out_path[PATH_MAX + 16], err_path[PATH_MAX + 16];

static int child_help(void)
{
	return ling_print_help("t", "usage: t [options]\n");
}

static int child_version(void)
{
	return ling_print_version_checked("t");
}

static int child_usage(void)
{
	return ling_usage_error("t", "t [options] FILE", "--n needs a number");
}

static int child_usage_no_synopsis(void)
{
	return ling_usage_error("t", NULL, "unknown format 'x'");
}

static int child_usage_no_msg(void)
{
	return ling_usage_error("t", "t [options] FILE", NULL);
}

/*
 * Runs fn in a child with stdout on stdout_path and stderr on err_path.
 * @return the child's exit status, or -1.
 */
static int run_child(const char *stdout_path, int (*fn)(void))
{
	int status, fd;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if ((fd = open(stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0 || dup2(fd, 1) < 0)
			_exit(100);
		if ((fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0 || dup2(fd, 2) < 0)
			_exit(101);
		exit(fn()); /* exit, not _exit: stdio must be flushed as in a main */
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* The contents of path, or "" (caller frees). */
static char *slurp(const char *path)
{
	struct ling_buf b = LING_BUF_INIT;
	char chunk[1024];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	while (fd >= 0 && (n = read(fd, chunk, sizeof(chunk))) > 0)
		ling_buf_add(&b, chunk, (size_t)n);
	if (fd >= 0)
		close(fd);
	if (!b.data)
		ling_buf_adds(&b, "");
	return b.data;
}

/* Runs fn and checks its status, stdout and stderr. */
static void check_child(int (*fn)(void), const char *to, int status, const char *out, const char *err,
			const char *what)
{
	char *got_out, *got_err;

	is_int(run_child(to, fn), status, "%s: exit status", what);
	got_out = slurp(out_path);
	got_err = slurp(err_path);
	if (out)
		is_str(got_out, out, "%s: stdout", what);
	is_str(got_err, err, "%s: stderr", what);
	free(got_out);
	free(got_err);
	unlink(out_path);
}

static void test_prints(void)
{
	char version[256];
	char *got;

	check_child(child_help, out_path, 0, "usage: t [options]\n", "", "--help");
	check_child(child_help, "/dev/full", 1, NULL, "t: cannot write to stdout: No space left on device\n",
		    "--help on a full disk");
	is_int(run_child(out_path, child_version), 0, "--version: exit status");
	got = slurp(out_path);
	snprintf(version, sizeof(version), "t (ling) %s\n", LING_VERSION);
	is_str(got, version, "--version: one line, tool (ling) VERSION");
	free(got);
	check_child(child_version, "/dev/full", 1, NULL, "t: cannot write to stdout: No space left on device\n",
		    "--version on a full disk");
	check_child(child_usage, out_path, 2, "", "t: --n needs a number\nusage: t [options] FILE (see --help)\n",
		    "usage error");
	check_child(child_usage_no_synopsis, out_path, 2, "", "t: unknown format 'x'\n",
		    "usage error without the synopsis");
	check_child(child_usage_no_msg, out_path, 2, "", "usage: t [options] FILE (see --help)\n",
		    "usage error after getopt's message");
}

static void test_reads_stdin(void)
{
	const char *files[] = { "a.nt", "-", "b.nt" };

	ok(ling_reads_stdin(files, 3), "reads_stdin: - among the files");
	ok(!ling_reads_stdin(files, 1), "reads_stdin: no -");
	ok(!ling_reads_stdin(files, 0), "reads_stdin: no files");
}

/* ling_errors_report with stderr on err_path. @return what it returned. */
static int report_captured(struct ling_errors *e, const struct ling_err *err)
{
	int saved, fd, rc;

	fflush(stderr);
	saved = dup(2);
	fd = open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	dup2(fd, 2);
	close(fd);
	rc = ling_errors_report(e, err);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	return rc;
}

static void test_errors(void)
{
	struct ling_errors e;
	struct ling_err err;
	char *got;

	ling_errors_init(&e, "t");
	ok(e.max == 0 && e.count == 0 && !e.stopped, "errors: the default budget is 0");
	ok(ling_errors_parse_max(&e, "-1") && ling_errors_parse_max(&e, "x") && ling_errors_parse_max(&e, ""),
	   "errors: --max-errors takes a number >= 0 only");
	ok(!ling_errors_parse_max(&e, "2") && e.max == 2, "errors: --max-errors=2");
	unlink(err_path);
	ling_err_clear(&err);
	ling_err_at(&err, LING_EDATA, "in.nt", 3, 0, "bad record");
	is_int(report_captured(&e, &err), 0, "errors: the first bad record is skipped");
	is_int(report_captured(&e, &err), 0, "errors: the second too");
	ok(!e.stopped && e.count == 2, "errors: counted, not stopped");
	is_int(report_captured(&e, &err), 1, "errors: the third stops the run");
	ok(e.stopped && e.count == 3, "errors: stopped, the one that stopped counted");
	got = slurp(err_path);
	is_str(got, "t: in.nt:3: bad record\nt: in.nt:3: bad record\nt: in.nt:3: bad record\n",
	       "errors: each one reported once");
	free(got);
	unlink(err_path);
}

int main(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/ling-test-main.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! cannot create a temporary directory: %s\n", strerror(errno));
		return 1;
	}
	snprintf(out_path, sizeof(out_path), "%s/stdout", tmpdir);
	snprintf(err_path, sizeof(err_path), "%s/stderr", tmpdir);
	test_prints();
	test_reads_stdin();
	test_errors();
	fixture_remove_tree(tmpdir);
	return done_testing();
}
