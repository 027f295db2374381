/*
 * synth_verify: the last check of a finished sample before it is written:
 * every call is of an offered tool, its arguments validate against the
 * tool's schema, it replays on the snapshot to its recorded result, and the
 * answer is the gold set (and the final reply names it).
 */
#include "synth_internal.h"

#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

#define REJ(r) SYNTH_REJECT(SYNTH_REJ_##r)


static int offered(const struct synth_sample *s, uint32_t tool)
{
	size_t i;

	for (i = 0; i < s->tools.n; i++)
		if (s->tools.v[i] == tool)
			return 1;
	return 0;
}

/* Replays call c and compares its result text; adds its names to acc when acc is set. */
static int replay(const struct synth_graph *g, struct synth_ws *ws, const struct synth_sample *s,
		  const struct synth_call *c, struct ling_u32s *acc)
{
	int rc;

	if ((rc = synth_exec_call(g, ws, c->tool, s->text.data + c->args, c->args_len, &ws->tmp)))
		return rc;
	ling_buf_reset(&ws->buf);
	synth_names_json(g, ws->tmp.v, ws->tmp.n, &ws->buf);
	if (ws->buf.len != c->res_len || memcmp(ws->buf.data, s->text.data + c->res, c->res_len))
		return REJ(REPLAY);
	if (acc) {
		/* a sorted result lists its names in another order */
		synth_set_sort_unique(&ws->tmp);
		synth_set_or(acc->v, acc->n, ws->tmp.v, ws->tmp.n, &ws->tmp2);
		synth_set_copy(acc, ws->tmp2.v, ws->tmp2.n);
	}
	return 0;
}

int synth_verify(const struct synth_graph *g, struct synth_ws *ws, const struct synth_sample *s)
{
	struct ling_u32s *acc = &ws->mark;
	const struct synth_msg *reply = NULL;
	size_t i, j, last_calls = SYNTH_NONE;
	int rc;

	acc->n = 0;
	if (!s->nmsg || s->msg[0].role != SYNTH_MSG_USER || s->msg[s->nmsg - 1].role != SYNTH_MSG_REPLY)
		return REJ(ANSWER);
	for (i = 0; i < s->nmsg; i++) {
		if (s->msg[i].role == SYNTH_MSG_CALLS) {
			if (!s->msg[i].ncalls || s->instruction)
				return REJ(SCHEMA);
			last_calls = i;
		}
	}
	if (s->instruction) {
		/* meta.calls: fact, list, count and compare are answered by their union; describe by nothing */
		for (j = 0; j < s->ncall; j++)
			if ((rc = replay(g, ws, s, &s->call[j], s->cat == SYNTH_CAT_DESCRIBE ? NULL : acc)))
				return rc;
	} else {
		for (i = 0; i < s->nmsg; i++) {
			const struct synth_msg *m = &s->msg[i];

			if (m->role != SYNTH_MSG_CALLS)
				continue;
			for (j = m->call; j < m->call + m->ncalls; j++) {
				if (!offered(s, s->call[j].tool))
					return REJ(SCHEMA);
				if ((rc = replay(g, ws, s, &s->call[j], i == last_calls ? acc : NULL)))
					return rc;
			}
		}
	}
	if (!synth_set_equal(acc, &s->answer))
		return REJ(ANSWER);
	reply = &s->msg[s->nmsg - 1];
	if (s->check_text) {
		/* every answer is named in the final reply */
		for (j = 0; j < s->answer.n; j++)
			if (!memmem(s->text.data + reply->text, reply->text_len, synth_name(g, s->answer.v[j]),
				    g->name_len[s->answer.v[j]]))
				return REJ(ANSWER);
	}
	return 0;
}
