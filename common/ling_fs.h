/*
 * ling_fs: the old name of the directory chores, now in ling_file.h.
 * dedup/dedup_state.c still includes it; remove this file once it includes
 * ling_file.h (issue 10).
 */
#ifndef LING_FS_H
#define LING_FS_H

#include "ling_file.h"

#endif
