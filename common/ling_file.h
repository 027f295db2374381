/*
 * ling_file: durable files and the directory chores around them.
 *
 * A write that must survive a crash goes to a temporary file beside its
 * target, is synced, renamed over the target, and then the directory that
 * holds it is synced, so that the rename itself is on disk (redis rdbSave,
 * git lockfile.h). ling_atomic_write() does all of it for data in memory;
 * writers that stream a file themselves do the same steps and call
 * ling_fsync_dir() or ling_fsync_parent() after their renames and unlinks.
 *
 * The directory helpers serve stores kept in a directory of their own (a
 * RocksDB store, dedup's state): telling a store from a directory of other
 * files, removing what a killed process left, measuring the size on disk.
 *
 * None of these print; errors name the path.
 */
#ifndef LING_FILE_H
#define LING_FILE_H

#include "ling_err.h"

#include <stddef.h>
#include <stdint.h>

/*
 * Writes data to path atomically: path.tmp.PID beside it, fsync, rename
 * over path, fsync of the directory. On failure the temporary file is
 * removed and path is as it was (unless only the last directory sync
 * failed: then path holds the new data, which may not survive a crash).
 * @return 0 or LING_EIO with err set (position: path).
 */
int ling_atomic_write(const char *path, const void *data, size_t len, struct ling_err *err);

/*
 * Syncs the directory dir, so that the creations, renames and unlinks in it
 * are durable. A file system that cannot sync directories (EINVAL) counts
 * as success.
 * @return 0 or LING_EIO with err set ("cannot open: ..." or "cannot sync: ...", position: dir).
 */
int ling_fsync_dir(const char *dir, struct ling_err *err);

/*
 * Syncs the directory that holds path ("." for a bare name, "/" for a name
 * in the root). For callers that word the error themselves.
 * @return 0, or -1 with errno set.
 */
int ling_fsync_parent(const char *path);

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
