/*
 * tok_chat: renders a chat sample (OpenAI chat format, as kg2samples writes
 * it: doc/kg2samples-format.md) into token ids and a loss mask, with the
 * chat template of a model family.
 *
 * A sample is a JSON object with "messages" (system, user, assistant with
 * optional "tool_calls", tool with "tool_call_id"/"name") and an optional
 * "tools" array of OpenAI tool objects. Content is a string, null (taken as
 * "") or an array of {"type":"text","text":...} parts (their texts joined).
 *
 * Templates (FORMATS.md §4.5; the model's own Jinja chat_template, rendered
 * with add_generation_prompt=false):
 *
 *   TOK_CHAT_QWEN  Qwen3's ChatML with Hermes <tool_call> tags, byte for byte:
 *                  the "# Tools" system block, <tool_call>\n{"name": ..,
 *                  "arguments": ..}\n</tool_call>, tool results as
 *                  <tool_response> blocks in one user turn, reasoning split
 *                  out of "<think>..</think>" content, and the
 *                  "<think>\n\n</think>\n\n" block on assistant turns after
 *                  the last user query. Needs <|im_start|> and <|im_end|>.
 *   TOK_CHAT_LING  Ling 2.0 (Bailing v2): <role>SYSTEM</role>..detailed
 *                  thinking off<|role_end|>, <role>HUMAN</role>..<|role_end|>,
 *                  <role>ASSISTANT</role>..<|role_end|>, the same tools block
 *                  and <tool_call> form as Qwen, tool results as
 *                  <role>OBSERVATION</role>\n<tool_response>\n..\n</tool_response>
 *                  <|role_end|>. Needs <|role_end|> (the end of turn);
 *                  <role>, </role> and the other tags are single tokens when
 *                  the tokenizer has them and plain text otherwise.
 *
 * Token ids: the template's own text is split on the tokenizer's added
 * tokens, which become their ids; every piece of sample data (message
 * content, tool names, arguments, tool JSON) is ordinary text, so a user
 * message holding "<|im_end|>" is tokenized as characters, never as the
 * special token. Text between two special tokens is encoded as one piece, as
 * HF does when it encodes the rendered string, so the ids equal those of
 * transformers' apply_chat_template(tokenize=True) for samples whose data
 * holds no special-token text.
 *
 * Loss mask (one 0/1 per id; FORMATS.md §4.3): 1 on what the assistant
 * writes: its reply, reasoning and tool calls, and its end-of-turn token
 * (<|im_end|>, <|role_end|>); 0 on role headers, system, user and tool
 * results. A token that straddles a header and a body gets the mask of
 * the byte it starts at (the golden chat_qwen3.jsonl rule).
 *
 * Ownership and threads: a struct tok_chat borrows its tokenizer and holds
 * scratch buffers; like struct tok it serves one thread at a time.
 * The library never prints; errors fill a struct ling_err.
 */
#ifndef TOK_CHAT_INTERNAL_H
#define TOK_CHAT_INTERNAL_H

#include "../common/ling_err.h"
#include "../common/ling_mem.h"
#include "tokenize.h"

#include <jansson.h>

enum tok_chat_template {
	TOK_CHAT_QWEN,
	TOK_CHAT_LING,
};

/* "qwen" or "ling" into *out. @return 0, or LING_EUSAGE for another name. */
int tok_chat_template_parse(const char *name, enum tok_chat_template *out);
/* The name of a template ("qwen", "ling"). */
const char *tok_chat_template_name(enum tok_chat_template tpl);

struct tok_chat;

/*
 * Binds template tpl to tokenizer t (borrowed: it must outlive the renderer).
 * @return 0, or LING_EUSAGE when t lacks a token the template needs (the
 * message names it).
 */
int tok_chat_new(struct tok_chat **out, enum tok_chat_template tpl, struct tok *t, struct ling_err *err);

/* Frees c (not its tokenizer). NULL is fine. */
void tok_chat_free(struct tok_chat *c);

/*
 * Renders sample and appends its ids to ids and one 0/1 per id to mask;
 * when text is not NULL, appends the rendered text too (special tokens as
 * their text), which is what the model's Jinja template prints.
 * @return 0, LING_EDATA for a malformed sample (err->msg names the part:
 * "messages[2].role: ...", without a position; ids and mask are left as they
 * were), or an error of tok_encode.
 */
int tok_chat_render(struct tok_chat *c, const json_t *sample, struct ling_u32s *ids, struct ling_u32s *mask,
		    struct ling_buf *text, struct ling_err *err);

/*
 * Whether sample is already rendered: a tool message whose content is
 * wrapped in <tool_response>, an assistant message whose content holds
 * <tool_call> (Hermes text, as kg2samples --format hermes writes), or a
 * system, assistant or tool message holding the template's turn markers
 * (<|im_start|>, <|im_end|>; <role>, <|role_end|>). Rendering such a sample
 * would wrap it twice. User messages are the user's text and may hold
 * anything (it stays text). Call after tok_chat_render() accepted the shape.
 * @return 0, or LING_EDATA with err naming the message ("already rendered: ...").
 */
int tok_chat_check_rendered(const struct tok_chat *c, const json_t *sample, struct ling_err *err);

/*
 * Appends v as Python's json.dumps(v, ensure_ascii=False) writes it, the
 * `tojson` of transformers' chat templates: ", " and ": " separators, keys
 * in their order, non-ASCII as is, floats in Python's shortest repr.
 */
void tok_chat_tojson(const json_t *v, struct ling_buf *out);

#endif
