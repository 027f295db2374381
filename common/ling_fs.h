/*
 * ling_fs: the few directory chores that stores built on RocksDB share.
 */
#ifndef LING_FS_H
#define LING_FS_H

#include <stdint.h>

/*
 * @return 1 when dir exists, holds files, and lacks the file marker (say a
 * RocksDB directory's "CURRENT"): a directory of something else, which a
 * store must not take over. 0 for a missing, empty or marked directory.
 */
int ling_dir_is_foreign(const char *dir, const char *marker);

/* Removes the regular files in dir whose names start with prefix (leftovers of a killed process). */
void ling_dir_remove_prefixed(const char *dir, const char *prefix);

/* The total size of the regular files directly in dir, 0 when it cannot be read. */
uint64_t ling_dir_bytes(const char *dir);

#endif
