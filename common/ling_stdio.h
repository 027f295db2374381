/*
 * ling_stdio: a tool's standard streams, so that no output is lost without a word.
 *
 * The rules every main follows (git's sanitize_stdfds and write_or_die):
 *   - ling_stdio_init() first thing in main: file descriptors 0, 1 and 2 are
 *     open afterwards (on /dev/null where they were closed), so that a library
 *     opening a file (RocksDB's LOG, a shard) never gets fd 1 and receives
 *     our data. It returns which were closed: a tool that reads stdin or
 *     writes data to stdout must refuse to run when that stream was closed
 *     (ling_stdio_require()), instead of reading nothing or writing into
 *     /dev/null and reporting success.
 *   - every write to stdout is checked; on EPIPE the tool ends quietly as a
 *     default SIGPIPE would (exit 141, even when SIGPIPE is ignored), on any
 *     other error it reports and exits 1.
 *   - ling_stdout_finish() at the end: flush, check the stream's error flag
 *     (a failed write in the middle is not forgotten because a later flush
 *     succeeded) and close. Success is reported only after it returned 0.
 *   - an output path that names one of the inputs is refused before anything
 *     is opened for writing (ling_same_file()).
 */
#ifndef LING_STDIO_H
#define LING_STDIO_H

#include "ling_err.h"

enum ling_stdio_flags {
	LING_STDIN_CLOSED = 1 << 0,
	LING_STDOUT_CLOSED = 1 << 1,
	LING_STDERR_CLOSED = 1 << 2,
};

/*
 * Makes sure fds 0, 1 and 2 are open, opening /dev/null on those that are not.
 * @return the enum ling_stdio_flags of the streams that were closed.
 */
int ling_stdio_init(void);

/*
 * Checks that the streams a run needs were open at start.
 * @closed: what ling_stdio_init() returned; @need: the flags of the streams this run uses.
 * @return 0, or LING_EUSAGE with err set to "standard output is closed" (or input).
 */
int ling_stdio_require(int closed, int need, struct ling_err *err);

/*
 * When errno is EPIPE, ends the process quietly with the status of a default
 * SIGPIPE (141), whatever SIGPIPE's disposition. Otherwise returns.
 */
void ling_exit_on_epipe(void);

/*
 * Writes len bytes to stdout. On EPIPE exits quietly (ling_exit_on_epipe()).
 * @return 0, or LING_EIO with err set ("cannot write to stdout: No space left on device").
 */
int ling_stdout_write(const void *data, size_t len, struct ling_err *err);

/*
 * Flushes stdout and, when it is a regular file and durable is set, fsyncs it.
 * Checks the stream's error flag too. EPIPE exits quietly.
 * @return 0 or LING_EIO with err set.
 */
int ling_stdout_flush(int durable, struct ling_err *err);

/*
 * The last word on stdout: flush, error flag, fclose. Call once, at the end
 * of a run that wrote to stdout, before reporting success. EPIPE exits quietly.
 * @return 0 or LING_EIO with err set.
 */
int ling_stdout_finish(struct ling_err *err);

/*
 * @return 1 when both paths exist and name the same file (device and inode),
 * 0 otherwise (including when either does not exist).
 */
int ling_same_file(const char *a, const char *b);

/* @return 1 when fd is open on the same file (device and inode) as path, 0 otherwise. */
int ling_fd_is_file(int fd, const char *path);

#endif
