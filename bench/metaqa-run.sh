#!/bin/sh
# The whole loop on one CPU machine, as doc/metaqa-run.md reports it: samples from the
# MetaQA movie KB, a tokenizer trained on them, a small MoE trained on them (under an hour on
# two cores), then ling-eval on held-out samples and on MetaQA's 1-, 2- and 3-hop test
# questions. MetaQA's questions are only asked, never trained on: the training samples come
# from kg2samples' own templates.
#
#   sh bench/metaqa-run.sh [WORK]          (make metaqa-run; WORK defaults to build/metaqa)
#
# Settings (environment): STEPS (1100), SEQ (2048), BATCH (2), THREADS (all cores),
# COUNT (60000 training samples), HELDOUT (3000 made), ASKED (600 of them asked),
# QUESTIONS (questions asked per MetaQA file, 300),
# METAQA (the folder of MetaQA's files: 1-hop/vanilla/qa_test.txt, ...; the MetaQA part is
# skipped without it). Stages whose output exists are not redone, so a run can be resumed.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/bin
work=${1:-$root/build/metaqa}
steps=${STEPS:-1100} seq=${SEQ:-2048} batch=${BATCH:-2} threads=${THREADS:+--threads=$THREADS}
count=${COUNT:-60000} heldout=${HELDOUT:-3000} asked=${ASKED:-600} questions=${QUESTIONS:-300}
metaqa=${METAQA:-$root/../shared/data/metaqa}
mkdir -p "$work"
say() { printf '== %s: %s\n' "$(date -u +%H:%M:%S)" "$*"; }

if [ ! -d "$work/kg" ]; then
	say "kg-load: the MetaQA KB and its relation schema"
	"$bin/kg-load" --store "$work/kg.tmp" --format tsv --delimiter '|' --tsv-labels "$root/data/metaqa-kb.txt.zst"
	"$bin/kg-load" --store "$work/kg.tmp" "$root/tests/data/metaqa-schema.ttl"
	mv "$work/kg.tmp" "$work/kg"
fi

# Training samples weigh the path patterns a little more (1p 6, 2p 4, 3p 3, every other
# tool-use category 1, instruction 0.4); held-out samples come from another seed and go
# through the same dedup state, so none is a duplicate or near-duplicate of a training one.
mix=1p=6,2p=4,3p=3
if [ ! -f "$work/heldout.jsonl" ]; then
	say "kg2samples: $count training samples (seed 7), $heldout held-out (seed 1007), deduplicated"
	rm -rf "$work/dedup" "$work/unique" "$work/heldout"
	"$bin/kg2samples" --store "$work/kg" --seed 7 --count "$count" --mix $mix -j 2 |
		"$bin/dedup" --state "$work/dedup" --out "$work/unique"
	"$bin/kg2samples" --store "$work/kg" --seed 1007 --count "$heldout" --mix $mix |
		"$bin/dedup" --state "$work/dedup" --out "$work/heldout"
	cat "$work"/unique/part-*.jsonl >"$work/train.jsonl"
	cat "$work"/heldout/part-*.jsonl >"$work/heldout.jsonl.tmp"
	mv "$work/heldout.jsonl.tmp" "$work/heldout.jsonl"
fi

if [ ! -f "$work/data/manifest.json" ]; then
	say "tokenize train (byte-level BPE, 8192 tokens) and tokenize build (ChatML, loss on the assistant)"
	"$bin/tokenize" train --vocab-size 8192 --special "<|endoftext|>" --special "<|im_start|>" \
		--special "<|im_end|>" --out "$work/bpe.json" "$work/train.jsonl"
	rm -rf "$work/data"
	"$bin/tokenize" build --tokenizer "$work/bpe.json" --template qwen --out "$work/data" "$work/train.jsonl"
fi

if [ ! -f "$work/run/ckpt-$steps/config.json" ]; then
	say "ling-train: bench/metaqa-model.json, $steps steps of $batch x $seq tokens, whole conversations per row"
	model="--config=$root/bench/metaqa-model.json"
	[ -f "$work/run/latest" ] && model=--resume
	"$bin/ling-train" $model --data "$work/data" --out "$work/run" --steps "$steps" --seq-len "$seq" \
		--batch "$batch" --pack whole $threads --lr 2e-3 --min-lr 2e-4 --schedule wsd --decay-frac 0.2 \
		--warmup 50 --eval-every 100 --eval-batches 8 --save-every 100 --keep 3 --supervise 3
fi
ckpt=$work/run/ckpt-$steps

# Decoding is the slow part on a CPU: --limit asks that many questions per file, spread evenly.
say "ling-eval: $asked held-out samples"
"$bin/ling-eval" --checkpoint "$ckpt" --store "$work/kg" --samples "$work/heldout.jsonl" --limit "$asked" \
	--max-new-tokens 256 --jobs 2 --threads 1 --report "$work/report-heldout.json" --dump "$work/dump-heldout.jsonl"

# MetaQA's questions with the tools of its seven movie relations, both ways (the whole catalogue,
# 22 tools, does not fit in 2,048 positions): ling-eval scores each file, per question type, and
# over the questions whose answers the partial KB can reach.
tools=get_film_director,find_films_by_director,get_film_writer,find_films_by_writer,get_film_actor
tools=$tools,find_films_by_actor,get_film_release_year,find_films_by_release_year,get_film_language
tools=$tools,find_films_by_language,get_film_genre,find_films_by_genre,get_film_tag,find_films_by_tag
if [ -f "$metaqa/1-hop/vanilla/qa_test.txt" ]; then
	say "ling-eval: MetaQA 1-, 2- and 3-hop test questions ($questions of each file)"
	"$bin/ling-eval" --checkpoint "$ckpt" --store "$work/kg" --tools "$tools" --limit "$questions" \
		--max-new-tokens 256 --jobs 2 --threads 1 --metaqa "$metaqa/1-hop/vanilla/qa_test.txt" \
		--metaqa "$metaqa/2-hop/vanilla/qa_test.txt" --metaqa "$metaqa/3-hop/vanilla/qa_test.txt" \
		--report "$work/report-metaqa.json" --dump "$work/dump-metaqa.jsonl"
else
	say "MetaQA's question files are not at $metaqa (set METAQA): skipped"
fi
