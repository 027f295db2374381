#!/bin/sh
test_description='ling-chat: a model trained here calls the store through the agent loop; stops; bad input'
. "$(dirname "$0")/lib.sh"

# The model: a tiny MoE overfit on one kg2samples sample (a 1p question with
# one tool), so that greedy decoding writes that sample's call and answer
# back when asked its question with its system prompt and tool. That makes
# the whole loop checkable on a real checkpoint: the call parsed, executed
# on the store, its result fed back, the answer written and the turn ended.
# What does not depend on the model's quality (every result shown is the
# store's, the stops, the errors) is checked on other questions too.

test_expect_success 'setup: a store of film directors, kg2samples, a tokenizer, a model overfit on one sample' '
	zstd -dc "$LING_ROOT/data/metaqa-kb.txt.zst" | grep "|directed_by|" | head -n 60 >kb.txt &&
	kg-load -q --store kg --format tsv --delimiter "|" --tsv-labels kb.txt &&
	kg-load -q --store kg "$LING_DATA/metaqa-schema.ttl" &&
	kg2samples -q --store kg --min-facts 5 --patterns 1p --count 40 --seed 3 >all.jsonl &&
	cat >pick.py <<-\EOF &&
	import json, shlex, sys
	# The first sample that calls get_film_director, offered alone, without text around the call;
	# its system prompt shortened so that the sample fits a short sequence.
	for line in open("all.jsonl"):
	    s = json.loads(line)
	    m = s["messages"]
	    if [t["function"]["name"] for t in s["tools"]] == ["get_film_director"] and len(m) == 5 and not m[2].get("content"):
	        break
	else:
	    sys.exit("no sample to train on")
	m[0]["content"] = "Answer with the tools."
	open("one.jsonl", "w").write(json.dumps(s) + "\n")
	call = m[2]["tool_calls"][0]["function"]
	with open("want.sh", "w") as f:
	    f.write("SYSTEM=%s\nQUESTION=%s\nARGS=%s\n" % (shlex.quote(m[0]["content"]), shlex.quote(m[1]["content"]),
	                                                  shlex.quote(json.dumps(json.loads(call["arguments"]), separators=(",", ":")))))
	with open("want.out", "w") as f:
	    f.write("call get_film_director %s\nresult %s\n%s\n" % (json.dumps(json.loads(call["arguments"]), separators=(",", ":")),
	                                                             m[3]["content"], m[4]["content"]))
	EOF
	python3 pick.py &&
	{
		echo "# Tools You may call one or more functions to assist with the user query. <tools></tools> <tool_call></tool_call> {\"name\": <function-name>, \"arguments\": <args-json-object>} <tool_response> </tool_response> system user assistant" &&
		cat all.jsonl
	} >corpus.txt &&
	tokenize train -q --vocab-size 1500 --special "<|endoftext|>" --special "<|im_start|>" --special "<|im_end|>" \
		-o tok.json corpus.txt &&
	tokenize build -q -t tok.json --template qwen --split 100,0,0 --out ds one.jsonl &&
	ling-train init --preset tiny --out m0 >/dev/null &&
	sed -e "s/\"vocab_size\": 97/\"vocab_size\": 1500/" \
		-e "s/\"max_position_embeddings\": 512/\"max_position_embeddings\": 2048/" m0/config.json >cfg.json &&
	ling-train --config cfg.json --data ds --out run --steps 600 --seq-len 512 --batch 1 --lr 1e-2 \
		--schedule constant --warmup 5 --weight-decay 0 --eval-every 0 --threads 1 2>train.err &&
	test -f run/ckpt-600/tokenizer.json
'

. ./want.sh 2>/dev/null
chat() {
	ling-chat --checkpoint run/latest --store kg --min-facts 5 --threads 1 "$@"
}

test_expect_success 'the trained question: the call parsed, executed on the store, its result fed back, the answer' '
	kg-query --store kg --min-facts 5 --call get_film_director "$ARGS" >result &&
	chat --tools get_film_director --system "$SYSTEM" --once "$QUESTION" >out 2>err &&
	test_cmp want.out out &&
	grep -Fx "result $(cat result)" out &&
	grep "^ling-chat: 1 question, 2 turns, 1 calls (0 answered with an error), [0-9]* prompt tokens, [0-9]* generated\$" err
'

# check-calls OUT: each "call NAME ARGS" line of OUT is followed by "result R" with R what
# `kg-query --call NAME ARGS` prints, or by "error E" where kg-query refuses the call too
# (or it is malformed, or its tool is not offered: NAME not in $OFFERED when that is set).
# The store is $STORE (default kg).
cat >check-calls.py <<\EOF
import json, os, subprocess, sys
lines = open(sys.argv[1]).read().split("\n")
offered = os.environ.get("OFFERED")
n = 0
for i, line in enumerate(lines):
    if not line.startswith("call "):
        continue
    n += 1
    nxt = lines[i + 1] if i + 1 < len(lines) else ""
    kind, _, shown = nxt.partition(" ")
    if kind not in ("result", "error"):
        sys.exit("line %d: %r is not followed by a result or an error" % (i + 1, line))
    if line.startswith("call (malformed)"):
        if kind != "error":
            sys.exit("line %d: a malformed call with a result" % (i + 1))
        continue
    _, name, args = line.split(" ", 2)
    if kind == "error" and offered is not None and name not in offered.split(","):
        continue
    run = subprocess.run(["kg-query", "--store", os.environ.get("STORE", "kg"), "--min-facts", "5", "--call", name, args],
                         capture_output=True, text=True)
    if kind == "result" and (run.returncode or run.stdout.strip() != shown):
        sys.exit("line %d: %s %s gave %r, the store gives %r" % (i + 1, name, args, shown, run.stdout.strip()))
    if kind == "error" and run.returncode == 0:
        sys.exit("line %d: %s %s answered with an error, but the store runs it: %s" % (i + 1, name, args, shown))
print("%d calls checked" % n)
EOF

test_expect_success 'other questions, the whole catalogue: every result shown is the store'"'"'s' '
	for q in "Who directed Kismet?" "$QUESTION" "Which films did Clint Eastwood direct?"; do
		chat --max-new-tokens 64 --once "$q" >out 2>err &&
		python3 check-calls.py out &&
		grep "^ling-chat: 1 question, [0-9]* turns" err || return 1
	done
'

test_expect_success 'stops: --max-new-tokens cuts the call; the unclosed block is a malformed call, answered with an error' '
	chat --tools get_film_director --system "$SYSTEM" --max-new-tokens 6 --max-rounds 1 --once "$QUESTION" >out 2>err &&
	sed -n 1,2p out >calls &&
	printf "%s\n" "call (malformed) ?" "error {\"error\":\"a <tool_call> block without its </tool_call>\"}" >want &&
	test_cmp want calls &&
	turns=$(sed -n "s/^ling-chat: 1 question, \([0-9]*\) turns.*/\1/p" err) &&
	generated=$(sed -n "s/.*prompt tokens, \([0-9]*\) generated\$/\1/p" err) &&
	test "$turns" -le 2 &&
	test "$generated" -le $((6 * turns)) &&
	python3 check-calls.py out
'

test_expect_success 'stops: --max-rounds 1 answers one turn of calls, then one more turn at most' '
	chat --max-rounds 1 --max-new-tokens 40 --once "Who directed Kismet?" >out 2>err &&
	turns=$(sed -n "s/^ling-chat: 1 question, \([0-9]*\) turns.*/\1/p" err) &&
	test "$turns" -ge 1 && test "$turns" -le 2 &&
	python3 check-calls.py out
'

test_expect_success 'questions on stdin: one exchange per line, blank lines skipped' '
	printf "%s\n\n%s\n" "$QUESTION" "$QUESTION" | chat --tools get_film_director --system "$SYSTEM" >out 2>err &&
	cat want.out want.out >want2 &&
	test_cmp want2 out &&
	grep "^ling-chat: 2 questions, 4 turns, 2 calls (0 answered with an error)" err
'

test_expect_success 'a store without the tool the question needs: error results, never a crash' '
	zstd -dc "$LING_ROOT/data/metaqa-kb.txt.zst" | grep "|written_by|" | head -n 60 >kb2.txt &&
	kg-load -q --store kg2 --format tsv --delimiter "|" --tsv-labels kb2.txt &&
	kg-load -q --store kg2 "$LING_DATA/metaqa-schema.ttl" &&
	test_must_fail_with 2 chat --store kg2 --tools get_film_director --once "$QUESTION" 2>err &&
	grep "^ling-chat: no tool .get_film_director. in the store.s catalogue" err &&
	ling-chat --checkpoint run/latest --store kg2 --min-facts 5 --threads 1 --max-new-tokens 64 --system "$SYSTEM" \
		--once "$QUESTION" >out 2>err &&
	grep "^ling-chat: 1 question" err &&
	STORE=kg2 python3 check-calls.py out &&
	if grep "^call get_film_director" out; then grep "^error {\"error\":\"unknown tool .get_film_director.\"}" out; fi
'

test_expect_success 'bad input: clear errors and exit codes' '
	zstd -dc "$LING_DATA/tokenizers/qwen3.tokenizer.json.zst" >qwen3.json &&
	test_must_fail_with 1 chat --tokenizer qwen3.json --once "$QUESTION" 2>err &&
	grep "^ling-chat: .*vocab" err &&
	test_must_fail_with 1 ling-chat --checkpoint nowhere --store kg --once "$QUESTION" 2>err &&
	grep "^ling-chat: " err &&
	test_must_fail_with 2 chat --template llama --once "$QUESTION" 2>err &&
	grep "^ling-chat: .*llama" err &&
	test_must_fail_with 2 chat --template ling --once "$QUESTION" 2>err &&
	grep "role_end" err &&
	test_must_fail_with 2 chat --tools get_film_director, --once "$QUESTION" 2>err &&
	test_must_fail_with 2 chat --max-rounds 0 --once "$QUESTION" 2>err &&
	test_must_fail_with 2 ling-chat --store kg --once "$QUESTION" 2>err &&
	grep "^ling-chat: --checkpoint DIR is required" err &&
	test_must_fail_with 1 chat --once "$(printf "bad \377")" 2>err &&
	grep "^ling-chat: the question is not valid UTF-8" err &&
	test_must_fail_with 1 chat --tools get_film_director --system "$SYSTEM" --once "$QUESTION" >/dev/full 2>err &&
	grep "^ling-chat: cannot write to stdout" err &&
	test_must_fail_with 2 chat --once "$QUESTION" >&- 2>err &&
	test_must_fail_with 2 chat <&- 2>err
'

test_done
