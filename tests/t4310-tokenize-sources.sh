#!/bin/sh
test_description='tokenize build: a directory of segments as input, stdin skipped when the dataset has it, shards without a manifest kept'
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || test_skip_all 'no python3 for the corpus generator'

TOK=$LING_DATA/tokenizers/qwen3.tokenizer.json.zst

# field DIR KEY: a top-level number of DIR's manifest.
field() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]+"/manifest.json"))[sys.argv[2]])' "$1" "$2"
}

test_expect_success 'setup: 3000 distinct records in two nights' '
	python3 "$LING_ROOT/tests/tools/gen-dedup-corpus.py" corpus --docs 3000 --words 20 \
		--dups 0 --near 0 --seed 2 t1.jsonl 2>/dev/null &&
	head -1000 t1.jsonl >night1.jsonl &&
	tail -2000 t1.jsonl >night2.jsonl
'

test_expect_success '--append of the same stdin twice adds it once' '
	tokenize build --append -t "$TOK" -o D <t1.jsonl 2>err &&
	test $(field D documents) = 3000 &&
	cp D/manifest.json manifest.before &&
	tokenize build --append -t "$TOK" -o D <t1.jsonl 2>err &&
	grep "^tokenize: <stdin>: already in the dataset (same sha256), skipped$" err &&
	test_cmp manifest.before D/manifest.json &&
	gzip -c t1.jsonl | tokenize build --append -t "$TOK" -o D 2>err &&
	grep "already in the dataset" err &&
	test $(field D documents) = 3000 &&
	ls -a D >list &&
	! grep spool list
'

test_expect_success '--append of new stdin adds it, and the same file is then skipped' '
	tokenize build --append -t "$TOK" -o E night1.jsonl 2>err &&
	tokenize build --append -t "$TOK" -o E <night2.jsonl 2>err &&
	test $(field E documents) = 3000 &&
	tokenize build --append -t "$TOK" -o E night2.jsonl 2>err &&
	grep "^tokenize: night2.jsonl: already in the dataset" err &&
	test $(field E documents) = 3000
'

test_expect_success 'a directory is its segment files in name order; --append adds the new ones' '
	dedup --state st --out unique night1.jsonl 2>/dev/null &&
	: >unique/notes.txt &&
	tokenize build --append -t "$TOK" -o F unique/ 2>err &&
	test $(field F documents) = 1000 &&
	dedup --state st --out unique night2.jsonl 2>/dev/null &&
	tokenize build --append -t "$TOK" -o F unique 2>err &&
	grep "^tokenize: unique/part-00000000.jsonl: already in the dataset" err &&
	test $(field F documents) = 3000 &&
	tokenize build -t "$TOK" -o G unique/part-00000000.jsonl unique/part-00000001.jsonl 2>/dev/null &&
	python3 -c "
import json, sys
f, g = (json.load(open(d + \"/manifest.json\")) for d in (\"F\", \"G\"))
assert f[\"documents\"] == g[\"documents\"] and f[\"tokens\"] == g[\"tokens\"], (f, g)
"
'

test_expect_success 'shards without a manifest are refused, not deleted (build and --append)' '
	tokenize build -t "$TOK" -o H night1.jsonl 2>/dev/null &&
	rm H/manifest.json &&
	ls H >before &&
	test_must_fail_with 2 tokenize build -t "$TOK" -o H night2.jsonl 2>err &&
	grep "^tokenize: H: holds [a-z]*-000000[.a-z]* but no manifest.json" err &&
	test_must_fail_with 2 tokenize build --append -t "$TOK" -o H night2.jsonl 2>err &&
	ls H >after &&
	test_cmp before after
'

test_expect_success 'the shards of a first run killed before its manifest are leftovers, removed' '
	tokenize build -t "$TOK" -o K night2.jsonl 2>/dev/null &&
	rm K/manifest.json &&
	: >K/.new-dataset &&
	tokenize build -t "$TOK" -o K night1.jsonl 2>/dev/null &&
	test $(field K documents) = 1000 &&
	test ! -e K/.new-dataset
'

test_done
