/*
 * synth_sample: the sample being made: its strings, messages, calls, offered
 * tools, answer and evidence (struct synth_sample), a worker's scratch space,
 * and the sample id. The steps after it fill it in: synth_plan appends the
 * calls of a query turn by turn, synth_make the conversation around them,
 * synth_verify checks it and synth_render writes it.
 */
#include "synth_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../common/banned.h"

static const char *const category_names[SYNTH_NCAT] = {
	"1p", "2p", "3p", "2i", "3i", "ip", "pi", "2u", "up", "2in", "3in", "inp", "pin", "pni",
	"parallel", "multiple", "irrelevance", "multi_turn",
	"fact", "list", "count", "compare", "describe",
};

static const char *const reject_names[SYNTH_NREJECT] = {
	"no path", "empty answer", "too few answers", "too many answers", "set too large", "nothing negated",
	"unnamed entity", "ambiguous name", "too few tools", "schema", "replay", "answer",
	"path revisits", "answer in question", "anchors share a name",
};

const char *synth_category_name(int cat)
{
	return cat >= 0 && cat < SYNTH_NCAT ? category_names[cat] : "?";
}

int synth_category_find(const char *name)
{
	int i;

	for (i = 0; i < SYNTH_NCAT; i++)
		if (!strcmp(name, category_names[i]))
			return i;
	return -1;
}

const char *synth_reject_name(int reason)
{
	return reason >= 0 && reason < SYNTH_NREJECT ? reject_names[reason] : "?";
}


void synth_sample_reset(struct synth_sample *s)
{
	ling_buf_reset(&s->text);
	/* offset 0 means "none" nowhere, but keep the text non-NULL for memmem */
	ling_buf_addc(&s->text, '\0');
	s->system = s->system_len = 0;
	s->nmsg = s->ncall = 0;
	s->names.n = s->tools.n = s->answer.n = s->evidence.n = 0;
	s->pattern = NULL;
	s->instruction = 0;
	s->check_text = 0;
}

void synth_sample_release(struct synth_sample *s)
{
	ling_buf_release(&s->text);
	free(s->msg);
	free(s->call);
	ling_u32s_release(&s->names);
	ling_u32s_release(&s->tools);
	ling_u32s_release(&s->answer);
	ling_u32s_release(&s->evidence);
	memset(s, 0, sizeof(*s));
}

uint32_t synth_sample_add_text(struct synth_sample *s, const char *t, size_t n)
{
	uint32_t at = (uint32_t)s->text.len;

	ling_buf_add(&s->text, t, n);
	return at;
}

struct synth_msg *synth_sample_add_msg(struct synth_sample *s, enum synth_role role)
{
	struct synth_msg *m;

	s->msg = xgrow(s->msg, &s->msg_cap, s->nmsg + 1, sizeof(*s->msg));
	m = &s->msg[s->nmsg++];
	memset(m, 0, sizeof(*m));
	m->role = role;
	return m;
}

void synth_ws_release(struct synth_ws *ws)
{
	int i, j;

	for (i = 0; i < 4; i++) {
		synth_query_release(&ws->q[i]);
		ling_u32s_release(&ws->sets[i]);
		for (j = 0; j < SYNTH_QMAX; j++)
			ling_u32s_release(&ws->nval[i][j]);
	}
	ling_u32s_release(&ws->tmp);
	ling_u32s_release(&ws->tmp2);
	ling_u32s_release(&ws->tmp3);
	ling_u32s_release(&ws->mark);
	ling_u32s_release(&ws->vals);
	ling_buf_release(&ws->range_name);
	free(ws->pend);
	free(ws->steps);
	free(ws->tsteps);
	free(ws->strs);
	free(ws->words);
	synth_jreader_release(&ws->jr);
	ling_buf_release(&ws->buf);
	ling_buf_release(&ws->buf2);
	ling_buf_release(&ws->asked);
	memset(ws, 0, sizeof(*ws));
}

void synth_sample_id(const char *uuid, uint64_t seed, uint64_t index, char hex[17])
{
	unsigned char num[16];
	uint64_t h;
	int i;

	/* little-endian bytes, so the id is the same on every machine */
	for (i = 0; i < 8; i++) {
		num[i] = (unsigned char)(seed >> (8 * i));
		num[8 + i] = (unsigned char)(index >> (8 * i));
	}
	h = XXH3_64bits_withSeed(num, sizeof(num), XXH3_64bits(uuid, strlen(uuid)));
	snprintf(hex, 17, "%016" PRIx64, h);
}

void synth_sample_tools_json(const struct synth_graph *g, const struct synth_sample *s, struct ling_buf *out)
{
	size_t i;

	ling_buf_addc(out, '[');
	for (i = 0; i < s->tools.n; i++) {
		if (i)
			ling_buf_addc(out, ',');
		ling_buf_adds(out, g->ts->tools[s->tools.v[i]].schema);
	}
	ling_buf_addc(out, ']');
}
