#!/bin/sh
# make demo: the pipeline on the embedded MetaQA movie KB, from RDF to a token dataset.
set -e
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$root/bin
work=${DEMO_DIR:-$root/build/demo}
rm -rf "$work"
mkdir -p "$work"
# The nights' dedup state and segments are those of ling-refresh's state, so that its refresh
# dedups against them and appends to the same dataset.
state=$work/refresh
mkdir -p "$state"
echo "== kg-load: MetaQA movie KB (data/metaqa-kb.txt.zst, CC BY 3.0) and its relation schema"
"$bin/kg-load" --store "$work/kg" --format tsv --delimiter '|' --tsv-labels "$root/data/metaqa-kb.txt.zst"
"$bin/kg-load" --store "$work/kg" "$root/tests/data/metaqa-schema.ttl"
echo
echo "== kg-stat"
"$bin/kg-stat" --store "$work/kg" --top 10
echo
echo "== kg-query --label 'the matrix' (case-insensitive label lookup)"
"$bin/kg-query" --store "$work/kg" --label 'the matrix'
echo
echo "== kg-query '?film <directed_by> ?who' '?who rdfs:label \"Ridley Scott\"' (films by Ridley Scott)"
"$bin/kg-query" --store "$work/kg" --limit 5 '?film <directed_by> ?who' '?who rdfs:label "Ridley Scott"'
echo
echo "== kg-query --tools (the tools kg2samples offers, one per relation and direction)"
"$bin/kg-query" --store "$work/kg" --tools | cut -c1-110
echo
echo "== kg-query --call get_film_director '{\"film\":\"Blade Runner\"}'"
"$bin/kg-query" --store "$work/kg" --call get_film_director '{"film":"Blade Runner"}'
echo
echo "== kg2samples --seed 7 --count 5000 | dedup --state state --out unique && tokenize build --append unique (Qwen3 tokenizer, ChatML)"
"$bin/kg2samples" --store "$work/kg" --seed 7 --count 5000 |
	"$bin/dedup" --state "$state/dedup" --out "$state/unique"
"$bin/tokenize" build --tokenizer "$root/tests/data/tokenizers/qwen3.tokenizer.json.zst" --template qwen \
	--append --out "$work/data" "$state/unique"
echo
echo "== one sample (a 2p question: two hops, the answer computed on the graph)"
cat "$state"/unique/part-*.jsonl >"$work/unique.jsonl"
grep -m1 '"category":"2p"' "$work/unique.jsonl" | python3 -m json.tool 2>/dev/null | head -60 ||
	grep -m1 '"category":"2p"' "$work/unique.jsonl"
echo
echo "== the dataset: Megatron .bin/.idx shards, loss masks and manifest.json"
ls -l "$work/data"
echo
echo "== the next night: new samples (seed 8), deduplicated against every earlier night, appended to the dataset"
"$bin/kg2samples" --store "$work/kg" --seed 8 --count 2000 |
	"$bin/dedup" --state "$state/dedup" --out "$state/unique"
"$bin/tokenize" build --tokenizer "$root/tests/data/tokenizers/qwen3.tokenizer.json.zst" --template qwen \
	--append --out "$work/data" "$state/unique"
ls "$work/data"
echo
echo "== ling-refresh: the graph changes on a Kafka topic (a mock cluster on loopback); one nightly refresh"
"$root/build/rel/tests/tools/kafka_mock" kg-deltas:3 >"$work/mock.out" </dev/null &
mock=$!
trap 'kill $mock 2>/dev/null || :' EXIT
for i in $(seq 100); do test -s "$work/mock.out" && break; sleep 0.1; done
brokers=$(head -n 1 "$work/mock.out")
film='<urn:kg:The%20Last%20Lighthouse>'
cat >"$work/deltas.txt" <<EOF
+ $film <http://www.w3.org/2000/01/rdf-schema#label> "The Last Lighthouse" .
+ $film <urn:kg:directed_by> <urn:kg:Ridley%20Scott> .
+ $film <urn:kg:starred_actors> <urn:kg:Sigourney%20Weaver> .
+ $film <urn:kg:has_genre> <urn:kg:Thriller> .
+ $film <urn:kg:written_by> <urn:kg:Philip%20K.%20Dick> .
- <urn:kg:Blade%20Runner> <urn:kg:has_tags> <urn:kg:visual> .
EOF
echo "kcat produces $(wc -l <"$work/deltas.txt") deltas to the topic kg-deltas at $brokers:"
cat "$work/deltas.txt"
kcat -P -b "$brokers" -t kg-deltas -l "$work/deltas.txt"
ls "$work/data" >"$work/shards.before"
refresh() {
	"$bin/ling-refresh" --brokers "$brokers" --topic kg-deltas -X fetch.wait.max.ms=50 --store "$work/kg" \
		--state "$state" --data "$work/data" --tokenizer "$root/tests/data/tokenizers/qwen3.tokenizer.json.zst" \
		--per-entity 8 "$@"
}
refresh --json
echo "the new shard files:"
ls "$work/data" | grep -vxF -f "$work/shards.before" || :
python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
last = max(s["run"] for s in m["shards"])
for s in m["shards"]:
    if s["run"] == last:
        print("  %s (%s): %d documents, %d tokens, %d trained" % (s["name"], s["split"], s["documents"], s["tokens"], s["trained_tokens"]))
print("dataset: %d documents, %d tokens" % (m["documents"], m["tokens"]))
' "$work/data/manifest.json"
echo "a new sample about the new film (the user's question):"
grep -h -m1 'The Last Lighthouse' "$state"/unique/part-*.jsonl |
	python3 -c 'import json, sys; print([m["content"] for m in json.loads(sys.stdin.read())["messages"] if m["role"] == "user"][0])' || :
echo "a second refresh in a row finds nothing to do:"
refresh
kill $mock
echo
echo "== tokenize train: a byte-level BPE of 4096 tokens on the samples (a tiny model is then not all embedding)"
"$bin/tokenize" train --vocab-size 4096 --special "<|endoftext|>" --special "<|im_start|>" --special "<|im_end|>" \
	--out "$work/bpe.json" "$work/unique.jsonl"
"$bin/tokenize" build --tokenizer "$work/bpe.json" --template qwen --out "$work/data-bpe" "$work/unique.jsonl"
echo
echo "== ling-train --preset demo: about a minute on the CPU (loss on the assistant tokens; valid_loss every 25 steps)"
"$bin/ling-train" --preset demo --data "$work/data-bpe" --out "$work/run" --steps 150 --seq-len 256 --batch 8 \
	--lr 3e-3 --min-lr 3e-4 --warmup 10 --eval-every 25 --eval-batches 4 --save-every 50 --keep 2
sed -n 's/^{"step":\([0-9]*\),"loss":\([^,]*\),.*"valid_loss":\([^,]*\),.*/step \1: loss \2, valid_loss \3/p' \
	"$work/run/metrics.jsonl"
echo "checkpoint (a Hugging Face model directory): $work/run/$(cat "$work/run/latest")"
ls "$work/run/$(cat "$work/run/latest")"
