#!/bin/sh
test_description='kg2samples output replayed by the independent checker (tests/tools/check-samples.py through kg-query --calls)'
. "$(dirname "$0")/lib.sh"

# The checker shares no code with the generator: it parses each line with
# Python's json, validates arguments against the offered schemas, replays
# every call through kg-query (RocksDB, not kg2samples' in-memory snapshot)
# and recomputes the answers.
CHECK=$LING_ROOT/tests/tools/check-samples.py
SHARED=$LING_ROOT/../shared/data
test -r "$SHARED/fb15k-237/FB15k-237.tar.gz" && test -r "$LING_ROOT/../shared/tools/fb15k237_to_nt.py" &&
	test_set_prereq SHARED

# check_samples STORE FILE: replays FILE against STORE, with the store's dump for the evidence.
check_samples() {
	kg-query --store "$1" --dump >"$1.nq" &&
	python3 "$CHECK" --kg-query "$(command -v kg-query)" --store "$1" --dump "$1.nq" "$2" >"$2.check" 2>&1 ||
	{ cat "$2.check"; return 1; }
	cat "$2.check" >&2
	grep -q '^[0-9]* passed, 0 failed$' "$2.check"
}

# every_category FILE: the summary line of kg2samples (on stderr in FILE) names every category.
every_category() {
	for c in 1p 2p 3p 2i 3i ip pi 2u up 2in 3in inp pin pni parallel multiple irrelevance multi_turn \
		fact list count compare describe; do
		grep -q "[(,] \{0,1\}$c [1-9]" "$1" || { echo "no $c samples in: $(cat "$1")"; return 1; }
	done
}

test_expect_success 'FB15k-237 subgraph: 3000 samples of every category pass the checker' '
	kg-load --store fb "$LING_DATA/fb15k237-subgraph.nt.zst" 2>/dev/null &&
	kg2samples --store fb --seed 11 --count 3000 >fb.jsonl 2>fb.err &&
	test $(wc -l <fb.jsonl) -eq 3000 &&
	every_category fb.err &&
	check_samples fb fb.jsonl
'

test_expect_success 'MetaQA KB with its schema: 3000 samples of every category pass the checker' '
	kg-load --store mq --delimiter "|" --tsv-labels "$LING_ROOT/data/metaqa-kb.txt.zst" \
		"$LING_DATA/metaqa-schema.ttl" 2>/dev/null &&
	kg2samples --store mq --seed 5 --count 3000 >mq.jsonl 2>mq.err &&
	test $(wc -l <mq.jsonl) -eq 3000 &&
	every_category mq.err &&
	check_samples mq mq.jsonl
'

test_expect_success SHARED 'full FB15k-237 with labels: 3000 samples of every category pass the checker' '
	python3 "$LING_ROOT/../shared/tools/fb15k237_to_nt.py" "$SHARED/fb15k-237/FB15k-237.tar.gz" \
		"$SHARED/fb15k-237/entity2wikidata.json" | sed "s/%0D> \.\$/> ./" >fbfull.nt &&
	kg-load --store fbfull fbfull.nt 2>/dev/null &&
	rm fbfull.nt &&
	kg2samples --store fbfull --seed 7 --count 3000 >full.jsonl 2>full.err &&
	test $(wc -l <full.jsonl) -eq 3000 &&
	every_category full.err &&
	check_samples fbfull full.jsonl
'

test_expect_success 'a sample with a wrong answer fails the checker (the check can fail)' '
	grep -m1 "\"answer\":\[\"" mq.jsonl | sed "s/\"answer\":\[\"/\"answer\":[\"Zz/" >tampered.jsonl &&
	test -s tampered.jsonl &&
	! grep -qxF -f tampered.jsonl mq.jsonl &&
	! check_samples mq tampered.jsonl 2>/dev/null
'

test_done
