#!/bin/sh
# make demo: the pipeline on the embedded MetaQA movie KB, from RDF to a token dataset.
set -e
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$root/bin
work=${DEMO_DIR:-$root/build/demo}
rm -rf "$work"
mkdir -p "$work"
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
	"$bin/dedup" --state "$work/dedup-state" --out "$work/unique"
"$bin/tokenize" build --tokenizer "$root/tests/data/tokenizers/qwen3.tokenizer.json.zst" --template qwen \
	--append --out "$work/data" "$work/unique"
echo
echo "== one sample (a 2p question: two hops, the answer computed on the graph)"
cat "$work"/unique/part-*.jsonl >"$work/unique.jsonl"
grep -m1 '"category":"2p"' "$work/unique.jsonl" | python3 -m json.tool 2>/dev/null | head -60 ||
	grep -m1 '"category":"2p"' "$work/unique.jsonl"
echo
echo "== the dataset: Megatron .bin/.idx shards, loss masks and manifest.json"
ls -l "$work/data"
echo
echo "== the next night: new samples (seed 8), deduplicated against every earlier night, appended to the dataset"
"$bin/kg2samples" --store "$work/kg" --seed 8 --count 2000 |
	"$bin/dedup" --state "$work/dedup-state" --out "$work/unique"
"$bin/tokenize" build --tokenizer "$root/tests/data/tokenizers/qwen3.tokenizer.json.zst" --template qwen \
	--append --out "$work/data" "$work/unique"
ls "$work/data"
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
