#!/bin/sh
test_description='tokenize train: a byte-level BPE that pip tokenizers loads and encodes to our ids'
. "$(dirname "$0")/lib.sh"

# Held-out text: the 443 golden texts of qwen3 (edge cases, Unicode, fuzz), never trained on.
HELD=$LING_DATA/tokenizers/qwen3.jsonl.zst

# Python with pip's tokenizers: the bench/check venv (tests/tools/pydeps.sh), else the system's.
for py in "$LING_ROOT/build/bench/venv/bin/python" python3; do
	if "$py" -c 'import tokenizers' 2>/dev/null; then
		PY=$py
		test_set_prereq TOKENIZERS
		break
	fi
done
test_have_prereq TOKENIZERS ||
	test_comment "SKIP the tokenizers comparisons: python module tokenizers is not importable (tests/tools/pydeps.sh installs it)"

# hf_encode TOKENIZER < JSONL: {"ids":[...]} per record, by HF tokenizers (added tokens always matched).
hf_encode() {
	"$PY" -c '
import json, sys
from tokenizers import Tokenizer
tk = Tokenizer.from_file(sys.argv[1])
for line in sys.stdin:
    ids = tk.encode(json.loads(line)["text"], add_special_tokens=False).ids
    sys.stdout.write("{\"ids\":[" + ",".join(map(str, ids)) + "]}\n")
' "$1"
}

test_expect_success 'train on the docs: a tokenizer.json of the asked size' '
	cat "$LING_ROOT"/README.md "$LING_ROOT"/doc/*.md >docs.txt &&
	tokenize train --vocab-size 1000 --special "<|endoftext|>" -o tok.json docs.txt 2>err &&
	lines=$(wc -l <docs.txt) &&
	grep "^tokenize: read $lines, wrote 1000, rejected 0\$" err &&
	grep "^tokenize: [0-9]* words ([0-9]* distinct), 743 merges, vocabulary 1000 of 1000\$" err &&
	zstd -dcq "$HELD" >held.jsonl &&
	tokenize encode -q --jsonl -t tok.json held.jsonl >ids.jsonl &&
	test $(wc -l <ids.jsonl) -eq $(wc -l <held.jsonl) &&
	max=$(tr -c "0-9" "\n" <ids.jsonl | sort -n | tail -n 1) &&
	test "$max" -le 998 && test "$max" -ge 900
'

test_expect_success TOKENIZERS 'pip tokenizers loads it and encodes held-out text to the same ids' '
	hf_encode tok.json <held.jsonl >hf.jsonl &&
	test_cmp hf.jsonl ids.jsonl
'

test_expect_success TOKENIZERS 'and text with the special token in it (with --special)' '
	printf "{\"text\":\"one<|endoftext|>two <|endoftext|>\"}\n" >sp.jsonl &&
	tokenize encode -q --jsonl --special -t tok.json sp.jsonl >ours &&
	grep -F ",999," ours &&
	hf_encode tok.json <sp.jsonl >theirs &&
	test_cmp theirs ours
'

test_expect_success 'our loader round-trips it: decode(encode(x)) == x' '
	tokenize decode -q --jsonl -t tok.json ids.jsonl >back.jsonl &&
	python3 -c "
import json, sys
a = [json.loads(l)[\"text\"] for l in open(\"held.jsonl\")]
b = [json.loads(l)[\"text\"] for l in open(\"back.jsonl\")]
bad = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
sys.exit(\"%d texts differ, first %s\" % (len(bad), bad[:1]) if bad or len(a) != len(b) else 0)
"
'

test_expect_success 'the same input gives the same bytes, from a file or compressed on stdin' '
	tokenize train -q --vocab-size 1000 --special "<|endoftext|>" -o again.json docs.txt &&
	cmp tok.json again.json &&
	zstd -q -c docs.txt | tokenize train -q --vocab-size 1000 --special "<|endoftext|>" -o stdin.json &&
	cmp tok.json stdin.json
'

# The same lines as records, or as messages (string or list-of-parts content), train the same tokenizer,
# which differs from the one trained on the whole file (where words span lines).
test_expect_success 'JSON Lines: --text-field, or the content of chat messages' '
	python3 -c "
import json
for line in open(\"docs.txt\"):
    print(json.dumps({\"id\": 1, \"body\": line}))
" >docs.jsonl &&
	tokenize train -q --vocab-size 600 --text-field body -o field.json docs.jsonl &&
	python3 -c "
import json
for i, line in enumerate(open(\"docs.txt\")):
    msg = {\"role\": \"user\", \"content\": line} if i % 2 else \\
          {\"role\": \"assistant\", \"content\": [{\"type\": \"text\", \"text\": line}]}
    print(json.dumps({\"messages\": [msg]}))
" >chat.jsonl &&
	tokenize train -q --vocab-size 600 -o chat.json chat.jsonl &&
	echo "{\"text\":\"the docs\"}" | tokenize encode -q --jsonl -t field.json >a &&
	echo "{\"text\":\"the docs\"}" | tokenize encode -q --jsonl -t chat.json >b &&
	echo "{\"text\":\"the docs\"}" | tokenize encode -q --jsonl -t tok.json >c &&
	test_cmp a b &&
	! test_cmp a c >/dev/null
'

test_expect_success 'chat samples: the offered tools and the calls are learned too, as the template shows them' '
	python3 -c "
import json
tool = {\"type\": \"function\", \"function\": {\"name\": \"get_quuxbar_frobnicator\",
        \"description\": \"Returns the frobnicators of a quuxbar.\", \"parameters\": {\"type\": \"object\",
        \"properties\": {\"quuxbar\": {\"type\": \"string\"}}, \"required\": [\"quuxbar\"]}}}
call = {\"type\": \"function\", \"function\": {\"name\": \"get_quuxbar_frobnicator\",
        \"arguments\": json.dumps({\"quuxbar\": \"Zorblax\"})}}
for line in open(\"docs.txt\"):
    print(json.dumps({\"tools\": [tool], \"messages\": [{\"role\": \"user\", \"content\": line},
          {\"role\": \"assistant\", \"content\": \"\", \"tool_calls\": [call]}]}))
" >calls.jsonl &&
	tokenize train -q --vocab-size 700 -o calls.json calls.jsonl &&
	for w in frobnicator quuxbar Zorblax; do
		echo "{\"text\":\" $w\"}" | tokenize encode -q --jsonl -t calls.json >ids &&
		echo "{\"text\":\" $w\"}" | tokenize encode -q --jsonl -t chat.json >before &&
		test "$(tr -cd , <ids | wc -c)" -lt "$(tr -cd , <before | wc -c)" || return 1
	done
'

test_expect_success 'a record without text: a positioned error, exit 1; --max-errors skips it' '
	printf "{\"text\":\"fine\"}\n{\"title\":\"no text\"}\n{\"text\":\"also fine\"}\n" >mixed.jsonl &&
	test_must_fail_with 1 tokenize train --vocab-size 300 -o bad.json mixed.jsonl 2>err &&
	grep "^tokenize: mixed.jsonl:2: no text" err &&
	test ! -e bad.json &&
	tokenize train --max-errors 1 --vocab-size 300 -o ok.json mixed.jsonl 2>err &&
	grep "^tokenize: 3 words (3 distinct), 3 merges, vocabulary 259 of 300\$" err &&
	grep "^tokenize: read 3, wrote 259, rejected 1\$" err
'

test_expect_success 'invalid UTF-8 and bad JSON: positioned errors, exit 1' '
	printf "good line\nab\377c\n" >bad.txt &&
	test_must_fail_with 1 tokenize train --vocab-size 300 -o bad.json bad.txt 2>err &&
	grep "^tokenize: bad.txt:2:3: invalid UTF-8" err &&
	printf "{\"text\":\"x\"}\n{\"text\": }\n" >bad.jsonl &&
	test_must_fail_with 1 tokenize train --vocab-size 300 -o bad.json bad.jsonl 2>err &&
	grep "^tokenize: bad.jsonl:2:[0-9]*: " err &&
	test ! -e bad.json
'

test_expect_success '--min-frequency stops early; an unwritable --out is exit 1' '
	tokenize train --vocab-size 1000 --min-frequency 100000 -o few.json docs.txt 2>err &&
	grep ", 0 merges, vocabulary 256 of 1000\$" err &&
	test_must_fail_with 1 tokenize train -q --vocab-size 300 -o no/such/dir/t.json docs.txt 2>err &&
	grep "^tokenize: .*no/such/dir" err
'

test_expect_success 'usage errors exit 2' '
	test_must_fail_with 2 tokenize train --vocab-size 1000 docs.txt 2>err &&
	grep "out FILE are required" err &&
	test_must_fail_with 2 tokenize train --vocab-size 100 -o x.json docs.txt 2>err &&
	grep "256 bytes" err &&
	test_must_fail_with 2 tokenize train --vocab-size 300 --special a --special a -o x.json docs.txt 2>err &&
	test_must_fail_with 2 tokenize train --vocab-size 300 --min-frequency 0 -o x.json docs.txt 2>err &&
	test_must_fail_with 2 tokenize train --vocab-size 300 --frobnicate -o x.json docs.txt 2>err &&
	grep "^tokenize: unknown option: --frobnicate" err &&
	test ! -e x.json &&
	tokenize train --help >out && grep "^usage: tokenize train --vocab-size N --out FILE" out
'

test_done
