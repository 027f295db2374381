#!/bin/sh
test_description='the README pipeline end to end: kg-load, kg2samples, dedup, tokenize build, night after night'
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || test_skip_all 'no python3 for megatron_read.py'

TOK=$LING_DATA/tokenizers/qwen3.tokenizer.json.zst

# night SEED: the README's pipeline (kg2samples | dedup --state --out && tokenize build --append).
night() {
	kg2samples --store kg --seed "$1" --count 150 2>kg2samples.err |
		dedup --state state --out unique 2>dedup.err &&
		tokenize build --append --tokenizer "$TOK" --out data unique 2>tokenize.err
}

# field FILE NAME: the number after "NAME " in a summary line.
field() {
	sed -n "s/.*$2 \([0-9][0-9]*\).*/\1/p" "$1" | head -n 1
}

# manifest KEY: a top-level number of data/manifest.json.
manifest() {
	python3 -c 'import json, sys; print(json.load(open("data/manifest.json"))[sys.argv[1]])' "$1"
}

# dataset_docs: the number of documents in every shard of the dataset, read back independently.
dataset_docs() {
	python3 -c '
import contextlib, io, json, sys
sys.path.insert(0, sys.argv[1])
import megatron_read
n = 0
for s in json.load(open("data/manifest.json"))["shards"]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        megatron_read.main(["megatron_read.py", "data/" + s["name"]])
    n += len(out.getvalue().splitlines())
print(n)
' "$LING_ROOT/tests/tools"
}

test_expect_success 'kg-load: the FB15k-237 subgraph with labels' '
	kg-load --store kg "$LING_DATA/fb15k237-subgraph.nt.zst" 2>err &&
	grep "^kg-load: read 54322, wrote 54322, rejected 0$" err
'

test_expect_success 'night 1: every sample asked is made, kept by dedup and tokenized' '
	night 1 &&
	grep "^kg2samples: wrote 150 (" kg2samples.err &&
	grep "^dedup: read 150, wrote 150," dedup.err &&
	grep "^tokenize: read 150, wrote 150, rejected 0;" tokenize.err &&
	test "$(manifest documents)" = 150 &&
	test "$(dataset_docs)" = 150 &&
	ls unique >segments1 &&
	test "$(wc -l <segments1)" = 1
'

test_expect_success 'night 2: new samples are added, the dataset grows by what dedup kept' '
	night 2 &&
	kept=$(field dedup.err wrote) &&
	test "$kept" -gt 0 &&
	test "$(manifest documents)" = $((150 + kept)) &&
	test "$(dataset_docs)" = $((150 + kept)) &&
	ls unique >segments2 &&
	test "$(wc -l <segments2)" = 2
'

test_expect_success 'night 2 again: dedup drops every sample and tokenize adds nothing' '
	cp data/manifest.json manifest.before &&
	night 2 &&
	grep "^dedup: read 150, wrote 0," dedup.err &&
	test_cmp manifest.before data/manifest.json
'

test_expect_success 'the tokens decode back to the chat the samples hold' '
	head -n 1 "unique/$(head -n 1 segments1)" >first.jsonl &&
	python3 -c "import json, sys; print(json.loads(sys.stdin.readline())[\"messages\"][1][\"content\"])" \
		<first.jsonl >question &&
	tokenize build --tokenizer "$TOK" --out one first.jsonl 2>/dev/null &&
	python3 "$LING_ROOT/tests/tools/megatron_read.py" one/$(cd one && ls *.bin | grep -v mask | head -n 1 | sed "s/\.bin$//") |
		head -n 1 >ids &&
	tokenize decode --tokenizer "$TOK" ids >text &&
	grep -F "$(head -c 40 question)" text
'

test_done
