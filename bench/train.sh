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
