#include "ling_file.h"

#include "ling_mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* @return NULL, or what failed ("cannot open", "cannot sync") with errno set. */
static const char *sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), saved;
	const char *failed = NULL;

	if (fd < 0)
		return "cannot open";
	if (fsync(fd) < 0 && errno != EINVAL)
		failed = "cannot sync";
	saved = errno;
	close(fd);
	errno = saved;
	return failed;
}

int ling_fsync_dir(const char *dir, struct ling_err *err)
{
	const char *failed = sync_dir(dir);

	return failed ? ling_err_at(err, LING_EIO, dir, 0, 0, "%s: %s", failed, strerror(errno)) : 0;
}

int ling_fsync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, (size_t)(slash - path + (slash == path))) : xstrdup(".");
	int rc = sync_dir(dir) ? -1 : 0, saved = errno;

	free(dir);
	errno = saved;
	return rc;
}

int ling_atomic_write(const char *path, const void *data, size_t len, struct ling_err *err)
{
	struct ling_buf tmp = LING_BUF_INIT;
	const char *p = data;
	int fd;

	ling_buf_addf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ling_err_at(err, LING_EIO, path, 0, 0, "cannot create %s: %s", tmp.data, strerror(errno));
		goto fail;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ling_err_at(err, LING_EIO, path, 0, 0, "write error: %s", strerror(errno));
			goto fail_close;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0) {
		ling_err_at(err, LING_EIO, path, 0, 0, "cannot sync: %s", strerror(errno));
		goto fail_close;
	}
	if (close(fd) < 0) {
		ling_err_at(err, LING_EIO, path, 0, 0, "cannot close: %s", strerror(errno));
		goto fail_unlink;
	}
	if (rename(tmp.data, path) < 0) {
		ling_err_at(err, LING_EIO, path, 0, 0, "cannot rename into place: %s", strerror(errno));
		goto fail_unlink;
	}
	ling_buf_release(&tmp);
	if (ling_fsync_parent(path) < 0)
		return ling_err_at(err, LING_EIO, path, 0, 0, "cannot sync its directory");
	return 0;
fail_close:
	close(fd);
fail_unlink:
	unlink(tmp.data);
fail:
	ling_buf_release(&tmp);
	return err->code;
}

int ling_dir_is_foreign(const char *dir, const char *marker)
{
	struct ling_buf path = LING_BUF_INIT;
	struct dirent *de;
	struct stat sb;
	int marked, foreign = 0;
	DIR *d;

	ling_buf_addf(&path, "%s/%s", dir, marker);
	marked = stat(path.data, &sb) == 0;
	ling_buf_release(&path);
	if (marked || !(d = opendir(dir)))
		return 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			foreign = 1;
	closedir(d);
	return foreign;
}

void ling_dir_remove_prefixed(const char *dir, const char *prefix)
{
	struct ling_buf path = LING_BUF_INIT;
	size_t n = strlen(prefix);
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		struct stat sb;

		if (strncmp(de->d_name, prefix, n))
			continue;
		ling_buf_reset(&path);
		ling_buf_addf(&path, "%s/%s", dir, de->d_name);
		if (lstat(path.data, &sb) == 0 && S_ISREG(sb.st_mode))
			unlink(path.data);
	}
	closedir(d);
	ling_buf_release(&path);
}

uint64_t ling_dir_bytes(const char *dir)
{
	struct ling_buf path = LING_BUF_INIT;
	struct dirent *de;
	uint64_t total = 0;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct stat sb;

		ling_buf_reset(&path);
		ling_buf_addf(&path, "%s/%s", dir, de->d_name);
		if (stat(path.data, &sb) == 0 && S_ISREG(sb.st_mode))
			total += (uint64_t)sb.st_size;
	}
	closedir(d);
	ling_buf_release(&path);
	return total;
}
