#!/bin/sh
# make bench: one forward+backward step of ling-train against the PyTorch reference
# (tests/tools/bailing_ref.py, Debian's torch, float32) on the same config and batch, 2 threads each,
# in the same command. Issue 11 goals: ling-train >= 2x the reference, and its FLOP rate >= 50% of
# the OpenBLAS sgemm peak that `ling-train bench` measures in its own run.
#
# Configs: a dense model of width 512 (bench/train-dense-512.json: 4 layers, 8 heads, FFN 1536,
# vocab 4096), an MoE model of equal active parameters (bench/train-moe-512.json: 8 experts of
# width 512, top-2 plus one shared expert, so 3 x 512 = 1536 active), and the parity config of
# tests/t5100. Timing: each side times its steps in-process after a warm-up step and reports the
# median of $LING_BENCH_TRAIN_ITERS (3); peak memory is /usr/bin/time -v's maximum RSS of the
# whole process (the reference's includes Python and torch, about 300 MiB).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/bin
ref=$root/tests/tools/bailing_ref.py
work=$root/build/bench/train
py=/usr/bin/python3
batch=${LING_BENCH_TRAIN_BATCH:-4}
seq=${LING_BENCH_TRAIN_SEQ:-256}
iters=${LING_BENCH_TRAIN_ITERS:-3}
mkdir -p "$work"

"$py" -c 'import torch' 2>/dev/null || { echo "bench: /usr/bin/python3 cannot import torch (make deps installs python3-torch)" >&2; exit 1; }
[ -x "$bin/ling-train" ] || { echo "bench: $bin/ling-train is not built" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time not found (Debian package time)" >&2; exit 1; }
echo "train: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# name, config, batch, seq
set -- \
	dense-512 "$root/bench/train-dense-512.json" "$batch" "$seq" \
	moe-512 "$root/bench/train-moe-512.json" "$batch" "$seq" \
	parity "$root/tests/data/train-parity-config.json" 4 64
while [ $# -ge 4 ]; do
	name=$1 config=$2 b=$3 t=$4
	shift 4
	/usr/bin/time -v -o "$work/$name.ref.time" "$py" "$ref" bench --config "$config" --batch "$b" --seq "$t" \
		--iters "$iters" --threads 2 >"$work/$name.ref.json"
	/usr/bin/time -v -o "$work/$name.ours.time" "$bin/ling-train" bench --config "$config" --batch "$b" --seq "$t" \
		--iters "$iters" --threads 2 >"$work/$name.ours.json"
	"$py" "$ref" bench-report "$name" "${b}x$t" "$work/$name.ref.json" "$work/$name.ref.time" \
		"$work/$name.ours.json" "$work/$name.ours.time"
done

# Training steps (issue 12): whole steps of `ling-train` (loader, forward, backward, clipping,
# AdamW; tokens/s and MFU against its measured sgemm peak from RUN/metrics.jsonl, the first step
# left out as a warm-up, the median step reported) against `bailing_ref.py bench-train` (the same
# config and B x T, random tokens, torch.optim.AdamW betas 0.9/0.95, weight decay 0.1, clipping
# 1.0, its median step after a warm-up step), 2 threads each, in the same command. Configs: the
# demo preset and bench/train-lite-layer.json, one Ling-Lite layer scaled down (hidden 512, 4 query
# heads of 128 sharing one KV head, 64 experts of width 352, top-6, 2 shared). The dataset: random
# token documents of 1024 tokens. The machine is shared: medians are steadier than means.
shardgen=$root/build/rel/tests/tools/shardgen
[ -x "$shardgen" ] || make -s -C "$root" build/rel/tests/tools/shardgen >&2 ||
	{ echo "bench: cannot build $shardgen" >&2; exit 1; }
tsteps=${LING_BENCH_TRAIN_STEPS:-3}
"$bin/ling-train" init --preset demo --out "$work/demo-init" >/dev/null
# dataset DIR VOCAB: 64 documents of 1024 random ids in 3..VOCAB-1, every token counted.
dataset() {
	mkdir -p "$1"
	awk -v v="$2" 'BEGIN { srand(7); for (i = 0; i < 64; i++) { s = ""; m = ""
		for (j = 0; j < 1024; j++) { s = s (j ? " " : "") (3 + int(rand() * (v - 3))); m = m (j ? " " : "") 1 }
		print s > "/dev/stdout"; print m > "/dev/stderr" } }' >"$1/docs.tok" 2>"$1/docs.msk"
	"$shardgen" write "$1/train-000000" u16 <"$1/docs.tok"
	"$shardgen" write "$1/train-000000.mask" u8 <"$1/docs.msk"
	cat >"$1/manifest.json" <<-EOT
	{"format": "ling-dataset", "version": 1, "tokenizer": {"path": "none.json", "vocab_size": $2},
	 "template": null, "shards": [
	 {"name": "train-000000", "split": "train", "mask": "train-000000.mask", "documents": 64, "tokens": 65536}]}
	EOT
}
vocab_of() { sed -n 's/.*"vocab_size": *\([0-9]*\).*/\1/p' "$1" | head -n 1; }
# name, config, batch, seq
set -- \
	demo "$work/demo-init/config.json" "$batch" "$seq" \
	lite-layer "$root/bench/train-lite-layer.json" 2 "$seq"
while [ $# -ge 4 ]; do
	name=$1 config=$2 b=$3 t=$4
	shift 4
	v=$(vocab_of "$config")
	[ -f "$work/data-$v/manifest.json" ] || dataset "$work/data-$v" "$v"
	/usr/bin/time -v -o "$work/$name.steps.ref.time" "$py" "$ref" bench-train --config "$config" --batch "$b" \
		--seq "$t" --steps "$tsteps" --threads 2 >"$work/$name.steps.ref.json"
	rm -rf "$work/run-$name"
	/usr/bin/time -v -o "$work/$name.steps.ours.time" "$bin/ling-train" --config "$config" --data "$work/data-$v" \
		--out "$work/run-$name" --steps $((tsteps + 1)) --batch "$b" --seq-len "$t" --threads 2 \
		--eval-every 1000000 --save-every 1000000 >/dev/null 2>"$work/$name.steps.ours.err" ||
		{ cat "$work/$name.steps.ours.err" >&2; exit 1; }
	"$py" - "$name" "${b}x$t" "$tsteps" "$work/$name.steps.ref.json" "$work/$name.steps.ref.time" \
		"$work/run-$name/metrics.jsonl" "$work/$name.steps.ours.time" <<-'EOT'
	import json, sys
	name, shape, steps, ref_json, ref_time, metrics, ours_time = sys.argv[1:]
	def rss(path):
	    for line in open(path):
	        if "Maximum resident set size" in line:
	            return int(line.rsplit(":", 1)[1]) / 1024.0
	    return float("nan")
	ref = json.loads(open(ref_json).read().strip().splitlines()[-1])
	lines = [json.loads(l) for l in open(metrics) if l.strip()]
	timed = [m for m in lines if "tokens_per_s" in m][1:]
	median = lambda xs: sorted(xs)[len(xs) // 2]
	tps = median([m["tokens_per_s"] for m in timed])
	mfu = median([m["mfu"] for m in timed])
	print("%s: median of %s training steps of batch %s (loader, forward, backward, AdamW), 2 threads each" % (name, steps, shape))
	print("  reference (%s, float32, torch.optim.AdamW): %.1f tokens/s, peak RSS %.0f MiB"
	      % (ref["impl"], ref["tokens_per_s"], rss(ref_time)))
	print("  ling-train: %.1f tokens/s, MFU %.1f%% of its sgemm peak, peak RSS %.0f MiB"
	      % (tps, 100 * mfu, rss(ours_time)))
	print("  speed-up over the reference: %.2fx (goal >= 2x)" % (tps / ref["tokens_per_s"]))
	EOT
done
