/*
 * libFuzzer target, differential: ling_jsonl_scan (the fast scanner) against
 * ling_jsonl_parse + ling_jsonl_walk (jansson) on the same line. The header's
 * promise is checked: a line the scanner takes, jansson takes too, and each
 * path gets the same pieces in the same order. Run by tests/t1900-fuzz.sh.
 */
#include "common/ling_jsonl.h"
#include "common/ling_mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const paths[] = { "text", "messages[].content", "messages[].tool_calls[].function.name",
				     "tools[].function.name", "id", "meta" };
#define NPATHS (sizeof(paths) / sizeof(paths[0]))

/* Each path's pieces, as "type:at_end:bytes\n" records. */
struct pieces {
	struct ling_buf per_path[NPATHS];
};

static void collect(void *ctx, size_t path, enum ling_jsonl_piece_type type, int at_end, const char *s, size_t n)
{
	struct pieces *p = ctx;

	if (path >= NPATHS)
		abort();
	ling_buf_addf(&p->per_path[path], "%d:%d:%zu:", (int)type, at_end, n);
	ling_buf_add(&p->per_path[path], s, n);
	ling_buf_addc(&p->per_path[path], '\n');
}

static void release(struct pieces *p)
{
	size_t i;

	for (i = 0; i < NPATHS; i++)
		ling_buf_release(&p->per_path[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ling_jsonl_paths *compiled;
	struct pieces fast, slow;
	struct ling_buf scratch = LING_BUF_INIT;
	struct ling_err err;
	unsigned long present = 0;
	size_t root_keys = 0, i;
	json_t *root = NULL;
	const char *line = (const char *)data;

	if (!compiled && ling_jsonl_paths_new(&compiled, paths, NPATHS, &err))
		abort();
	if (memchr(data, '\n', size))
		return 0; /* one line at a time, as the reader hands them out */
	memset(&fast, 0, sizeof(fast));
	memset(&slow, 0, sizeof(slow));
	if (ling_jsonl_scan(compiled, line, size, &scratch, collect, &fast, &present, &root_keys) == 1) {
		if (ling_jsonl_parse(line, size, "fuzz", 1, LING_JSONL_OBJECT, &root, &err)) {
			fprintf(stderr, "fuzz: the scanner took a line jansson rejects: %s\n", err.msg);
			abort();
		}
		ling_jsonl_walk(root, compiled, collect, &slow);
		for (i = 0; i < NPATHS; i++) {
			if (fast.per_path[i].len != slow.per_path[i].len ||
			    (fast.per_path[i].len &&
			     memcmp(fast.per_path[i].data, slow.per_path[i].data, fast.per_path[i].len))) {
				fprintf(stderr, "fuzz: path %s: scanner and jansson disagree\n", paths[i]);
				abort();
			}
		}
		json_decref(root);
	} else if (!ling_jsonl_parse(line, size, "fuzz", 1, 0, &root, &err)) {
		json_decref(root);
	} else if (!err.msg[0] || err.code != LING_EDATA) {
		abort(); /* a rejected line must say why */
	}
	release(&fast);
	release(&slow);
	ling_buf_release(&scratch);
	return 0;
}
