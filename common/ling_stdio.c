/*
 * ling_stdio: checked standard streams (see ling_stdio.h).
 */
#include "ling_stdio.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banned.h"

int ling_stdio_init(void)
{
	int closed = 0;

	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		closed |= 1 << fd;
		/* open() returns the lowest free descriptor, which is this one. */
		int got = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
		if (got != fd && got >= 0)
			close(got);
	}
	return closed;
}

int ling_stdio_require(int closed, int need, struct ling_err *err)
{
	if (closed & need & LING_STDIN_CLOSED)
		return ling_err_set(err, LING_EUSAGE, "standard input is closed");
	if (closed & need & LING_STDOUT_CLOSED)
		return ling_err_set(err, LING_EUSAGE, "standard output is closed");
	return 0;
}

void ling_exit_on_epipe(void)
{
	if (errno != EPIPE)
		return;
	/* The reader went away: end as a default SIGPIPE would (git write_or_die). */
	signal(SIGPIPE, SIG_DFL);
	raise(SIGPIPE);
	_exit(141);
}

static int stdout_error(struct ling_err *err)
{
	int saved = errno;

	ling_exit_on_epipe();
	return ling_err_set(err, LING_EIO, "cannot write to stdout: %s",
			    saved ? strerror(saved) : "write error");
}

int ling_stdout_write(const void *data, size_t len, struct ling_err *err)
{
	errno = 0;
	if (len && fwrite(data, 1, len, stdout) != len)
		return stdout_error(err);
	return 0;
}

int ling_stdout_flush(int durable, struct ling_err *err)
{
	struct stat sb;

	errno = 0;
	if (fflush(stdout) || ferror(stdout))
		return stdout_error(err);
	if (durable && fstat(STDOUT_FILENO, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    fsync(STDOUT_FILENO) && errno != EINVAL)
		return ling_err_set(err, LING_EIO, "cannot sync stdout: %s", strerror(errno));
	return 0;
}

int ling_stdout_finish(struct ling_err *err)
{
	int rc = ling_stdout_flush(0, err);

	errno = 0;
	if (fclose(stdout) && !rc)
		rc = stdout_error(err);
	return rc;
}

int ling_same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (!a || !b || stat(a, &sa) || stat(b, &sb))
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int ling_fd_is_file(int fd, const char *path)
{
	struct stat sf, sp;

	if (!path || fstat(fd, &sf) || stat(path, &sp))
		return 0;
	return sf.st_dev == sp.st_dev && sf.st_ino == sp.st_ino;
}
