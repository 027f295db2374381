#!/bin/sh
test_description='tokenize: closed and full standard streams, lock contention, malformed tool calls, huge words, a full disk'
. "$(dirname "$0")/lib.sh"

D=$LING_DATA/tokenizers
GPT2=$D/gpt2.tokenizer.json.zst
QWEN=$D/qwen3.tokenizer.json.zst
MISTRAL=$D/mistral-7b-v0.1.tokenizer.json.zst

command -v python3 >/dev/null && test_set_prereq PYTHON
command -v flock >/dev/null && test_set_prereq FLOCK

mread() {
	python3 "$LING_ROOT/tests/tools/megatron_read.py" "$@"
}

# gen FIRST LAST: text records with ids r-FIRST .. r-LAST.
gen() {
	awk -v a="$1" -v b="$2" 'BEGIN { for (i = a; i <= b; i++)
		printf "{\"id\":\"r-%d\",\"text\":\"record %d: the quick brown fox %d jumps\"}\n", i, i, i * 7 }'
}

# ---- standard input closed ----

test_expect_success 'setup' '
	printf "hello world\nsecond line\n" >small.txt &&
	tokenize encode -q -t "$GPT2" small.txt >small.ids &&
	gen 1 3000 >t1.jsonl &&
	awk "BEGIN { for (i = 0; i < 20000; i++) print \"line \" i \" of a text long enough to fill a pipe\" }" >big.txt
'

test_expect_success 'encode and decode refuse a closed stdin instead of reading nothing' '
	test_must_fail_with 2 tokenize encode -t "$GPT2" <&- >out 2>err &&
	grep "standard input is closed" err &&
	test_must_fail_with 2 tokenize decode -t "$GPT2" - <&- >out 2>err &&
	grep "standard input is closed" err &&
	test ! -s out
'

test_expect_success 'encode with files reads them whatever stdin is' '
	tokenize encode -q -t "$GPT2" small.txt <&- >out &&
	test_cmp small.ids out
'

test_expect_success 'build refuses a closed stdin and writes no dataset' '
	test_must_fail_with 2 tokenize build -t "$GPT2" --out closed <&- 2>err &&
	grep "standard input is closed" err &&
	test ! -e closed/manifest.json
'

test_expect_success 'train refuses a closed stdin' '
	test_must_fail_with 2 tokenize train --vocab-size 300 --out tok.json <&- 2>err &&
	grep "standard input is closed" err &&
	test ! -e tok.json
'

test_expect_success 'encode refuses a closed stdout' '
	test_must_fail_with 2 tokenize encode -t "$GPT2" small.txt >&- 2>err &&
	grep "standard output is closed" err
'

# ---- standard output full or gone ----

test_expect_success 'encode to a full device: exit 1, the error, a summary that says it stopped' '
	test_must_fail_with 1 tokenize encode -t "$GPT2" small.txt >/dev/full 2>err &&
	grep "cannot write to stdout: No space left on device" err &&
	grep "stopped" err &&
	! grep "wrote 2," err
'

test_expect_success 'encode of more than 64 KB to a full device fails too, SIGPIPE ignored or not' '
	test_must_fail_with 1 tokenize encode -q -t "$GPT2" big.txt >/dev/full 2>err &&
	grep "cannot write to stdout: No space left on device" err &&
	(trap "" PIPE && test_must_fail_with 1 tokenize encode -q -t "$GPT2" big.txt >/dev/full 2>err) &&
	grep "No space left on device" err
'

test_expect_success 'decode to a full device: exit 1' '
	tokenize encode -q -t "$GPT2" big.txt >big.ids &&
	test_must_fail_with 1 tokenize decode -q -t "$GPT2" small.ids >/dev/full 2>err &&
	grep "No space left on device" err &&
	test_must_fail_with 1 tokenize decode -q -t "$GPT2" big.ids >/dev/full 2>err &&
	grep "No space left on device" err
'

test_expect_success 'a reader that goes away: quiet exit 141, also with SIGPIPE ignored' '
	{ (trap "" PIPE && tokenize encode -t "$GPT2" big.txt; echo $? >rc) | head -c 10 >/dev/null; } 2>err &&
	echo 141 >expect && test_cmp expect rc &&
	test ! -s err &&
	{ (tokenize decode -t "$GPT2" big.ids; echo $? >rc) | head -c 10 >/dev/null; } 2>err &&
	test_cmp expect rc &&
	test ! -s err
'

# ---- tokenize build: lock, bad tool calls ----

test_expect_success FLOCK 'a dataset locked by another run: exit 1 and the lock named' '
	mkdir locked &&
	test_must_fail_with 1 flock locked/.lock tokenize build -t "$GPT2" --out locked t1.jsonl 2>err &&
	grep "locked/.lock" err &&
	grep "another tokenize run" err
'

test_expect_success 'tools that are not objects, arguments that are not a JSON object: rejected with FILE:LINE' '
	ok="{\"role\":\"user\",\"content\":\"hi\"}" &&
	call() { printf "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":%s}}]}" "$1"; } &&
	{
		echo "{\"id\":\"a\",\"messages\":[$ok,$(call "\"{\\\"x\\\":1}\"")]}"
		echo "{\"id\":\"b\",\"tools\":[\"get_capital\"],\"messages\":[$ok]}"
		echo "{\"id\":\"c\",\"messages\":[$ok,$(call "\"not json\"")]}"
		echo "{\"id\":\"d\",\"messages\":[$ok,$(call "[1,2]")]}"
		echo "{\"id\":\"e\",\"messages\":[$ok,$(call "{\"x\":1}")]}"
		echo "{\"id\":\"f\",\"tools\":[{\"type\":\"function\"},7],\"messages\":[$ok]}"
		echo "{\"id\":\"g\",\"messages\":[$ok,$(call "\"[1]\"")]}"
	} >tools.jsonl &&
	test_must_fail_with 1 tokenize build -t "$QWEN" --out tools tools.jsonl 2>err &&
	grep "^tokenize: tools.jsonl:2: tools\[0\]: not an object" err &&
	grep "failed: nothing added to tools" err &&
	test ! -e tools/manifest.json &&
	test_must_fail_with 1 tokenize build -t "$QWEN" --max-errors 4 --out tools tools.jsonl 2>err &&
	tokenize build -t "$QWEN" --max-errors 5 --out tools2 tools.jsonl 2>err &&
	grep "^tokenize: tools.jsonl:2: tools\[0\]: not an object" err &&
	grep "^tokenize: tools.jsonl:3: messages\[1\].tool_calls\[0\].function.arguments: not JSON" err &&
	grep "^tokenize: tools.jsonl:4: messages\[1\].tool_calls\[0\].function.arguments: not a JSON object" err &&
	grep "^tokenize: tools.jsonl:6: tools\[1\]: not an object" err &&
	grep "^tokenize: tools.jsonl:7: messages\[1\].tool_calls\[0\].function.arguments: not a JSON object" err &&
	grep "read 7, wrote 2, rejected 5" err &&
	grep "\"documents\": 2" tools2/manifest.json
'

# ---- one huge word: linear time and memory ----

# A bound on the address space catches a superlinear use of memory (an 8 MB word
# took 400 MB before it was merged in chunks). Sanitizer builds reserve terabytes
# of address space, so there the test only checks that the ids round-trip.
# (An inner shell reports the abort, to /dev/null.)
sh -c 'ulimit -v 262144; "$0" --version; exit $?' "$(command -v tokenize)" >/dev/null 2>&1 && test_set_prereq VMLIMIT
test_have_prereq VMLIMIT || test_comment "no address-space bound: this tokenize cannot run under ulimit -v (a sanitizer build?)"

# word8m CHARS: 8 MiB of CHARS at random (one character: a run of it), one line.
word8m() {
	python3 -c "import random, sys; random.seed(7); sys.stdout.write(\"\".join(random.choices(sys.argv[1], k=8 << 20)) + \"\\n\")" "$1"
}

encode_bounded() {
	if test_have_prereq VMLIMIT; then
		(ulimit -v 262144 && tokenize encode -q "$@")
	else
		tokenize encode -q "$@"
	fi
}

test_expect_success PYTHON 'an 8 MB run of one letter encodes in bounded memory and decodes back (qwen3, mistral, cl100k)' '
	word8m a >run.txt &&
	test $(wc -c <run.txt) -eq 8388609 &&
	for tok in "$QWEN" "$MISTRAL" "$D/cl100k_base.tiktoken.zst"
	do
		encode_bounded -t "$tok" run.txt >run.ids &&
		test $(wc -l <run.ids) -eq 1 &&
		tokenize decode -q -t "$tok" run.ids >back.txt &&
		cmp run.txt back.txt || return 1
	done
'

test_expect_success PYTHON 'an 8 MB word of random letters encodes in bounded memory and decodes back (qwen3, mistral)' '
	word8m abcdefghijklmnopqrstuvwxyz >word.txt &&
	test $(wc -c <word.txt) -eq 8388609 &&
	for tok in "$QWEN" "$MISTRAL"
	do
		encode_bounded -t "$tok" word.txt >word.ids &&
		tokenize decode -q -t "$tok" word.ids >back.txt &&
		cmp word.txt back.txt || return 1
	done
'

test_done
