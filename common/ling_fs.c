#include "ling_fs.h"

#include "ling_mem.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
