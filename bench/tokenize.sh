#!/bin/sh
# make bench: `tokenize encode --jsonl` against pip's `tokenizers` (Rust, HF) and `tiktoken` on the same
# text and the same vocabularies, one thread each: cl100k_base, Qwen3 and Mistral-7B (no pre-split;
# tokenizers only). Issue 5 goals: >= 2x tokenizers and >= 1x tiktoken on cl100k and qwen3, >= 10x
# tokenizers on Mistral.
#
# Text: FORMATS.md 5.1, 5 MB of licences and vim help as ~4 KiB JSONL records. cl100k for tokenizers
# is the .tiktoken file converted to a tokenizer.json (bench/tokenize_peers.py); Qwen3 for tiktoken is
# its vocabulary as ranks (ids are ranks in Qwen) with its Split regex, without the NFC normalizer.
#
# Timing: the peers' figure is the median of in-process runs after a warm-up run (bench/tokenize_peers.py),
# so it counts encoding alone, with warm caches. Ours is the whole command timed by hyperfine (medians) on
# the text once and on the text four times over: (t4 - t1) / 3 is the time of one more pass over the text,
# without loading the tokenizer and with a warm cache, like the peers'. It still includes reading and
# parsing the JSONL and writing the ids, which the peers do not do. Also printed: the whole command
# (loading included), and the first, cold-cache pass: t1 less the command on empty input (noisy: it is
# the difference of two times of which loading is most).
# Every output is checked first: our ids equal tokenizers' ids line for line.
#
# tokenizers and tiktoken are pip-installed into build/bench/venv here, and only here.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/bin
work=$root/build/bench/tokenize
venv=$root/build/bench/venv
peers=$root/bench/tokenize_peers.py
shared=${LING_SHARED:-$root/../shared}/data/tokenizers
runs=${LING_BENCH_TOKENIZE_RUNS:-7}
mkdir -p "$work"
export RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false

for tool in python3 hyperfine; do
	command -v $tool >/dev/null || { echo "bench: $tool not found (make deps installs hyperfine)" >&2; exit 1; }
done
[ -d "$shared" ] || { echo "bench: no tokenizers in $shared (set LING_SHARED)" >&2; exit 1; }
if ! "$venv/bin/python" -c 'import tokenizers, tiktoken' 2>/dev/null; then
	echo "bench: installing tokenizers and tiktoken into $venv" >&2
	{ [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"; } && "$venv/bin/pip" install -q tokenizers tiktoken || {
		echo "bench: cannot install tokenizers and tiktoken (pip needs the network)" >&2
		exit 1
	}
fi
py=$venv/bin/python

text=$work/en5m.jsonl
[ -s "$text" ] || "$py" "$peers" corpus "$text"
text4=$work/en5m.x4.jsonl
[ -s "$text4" ] || cat "$text" "$text" "$text" "$text" >"$text4"
cl100k_json=$work/cl100k_base.tokenizer.json
[ -s "$cl100k_json" ] || "$py" "$peers" convert-tiktoken "$shared/tiktoken/cl100k_base.tiktoken" cl100k_base "$cl100k_json"
bytes=$(wc -c <"$text")
echo "text: $text ($(wc -l <"$text") records, $bytes bytes of JSONL); $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# name, our tokenizer file, the tokenizers file, the tiktoken file (- for none)
set -- \
	cl100k "$cl100k_json" "$cl100k_json" - \
	cl100k-tiktoken "$shared/tiktoken/cl100k_base.tiktoken" - "$shared/tiktoken/cl100k_base.tiktoken" \
	qwen3 "$shared/qwen3/tokenizer.json" "$shared/qwen3/tokenizer.json" "$shared/qwen3/tokenizer.json" \
	mistral "$shared/mistral-7b-v0.1/tokenizer.json" "$shared/mistral-7b-v0.1/tokenizer.json" -
results=$work/results.jsonl
: >"$results"
while [ $# -ge 4 ]; do
	name=$1 ours=$2 hf=$3 tt=$4
	shift 4
	"$bin/tokenize" encode -q --jsonl -t "$ours" <"$text" >"$work/$name.ours.jsonl"
	if [ "$hf" != - ]; then
		"$py" "$peers" ids tokenizers "$hf" "$text" >"$work/$name.hf.jsonl"
		cmp -s "$work/$name.ours.jsonl" "$work/$name.hf.jsonl" || {
			echo "bench: $name: our ids differ from tokenizers' ($work/$name.{ours,hf}.jsonl)" >&2
			exit 1
		}
	fi
	hyperfine --warmup 1 --runs "$runs" --style basic --export-json "$work/$name.hyperfine.json" \
		-n once "'$bin/tokenize' encode -q --jsonl -t '$ours' <'$text' >/dev/null" \
		-n four "'$bin/tokenize' encode -q --jsonl -t '$ours' <'$text4' >/dev/null" \
		-n load "'$bin/tokenize' encode -q --jsonl -t '$ours' </dev/null >/dev/null" \
		>"$work/hyperfine.log" 2>&1 || {
		cat "$work/hyperfine.log" >&2
		exit 1
	}
	tokens=$(tr -cd ',[' <"$work/$name.ours.jsonl" | wc -c) # n-1 commas and one [ per record
	printf '{"name":"%s","impl":"tokenize","tokens":%s,"hyperfine":"%s"}\n' "$name" "$tokens" \
		"$work/$name.hyperfine.json" >>"$results"
	[ "$hf" = - ] || printf '{"name":"%s",%s\n' "$name" \
		"$("$py" "$peers" bench tokenizers "$hf" "$text" --runs "$runs" | cut -c2-)" >>"$results"
	[ "$tt" = - ] || printf '{"name":"%s",%s\n' "$name" \
		"$("$py" "$peers" bench tiktoken "$tt" "$text" --runs "$runs" | cut -c2-)" >>"$results"
done

python3 - "$results" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
text_mb = None
for r in rows:
    if r["impl"] == "tokenize":
        res = {x["command"]: x for x in json.load(open(r["hyperfine"]))["results"]}
        r["total"] = res["once"]["median"]
        r["seconds"] = max((res["four"]["median"] - r["total"]) / 3, 1e-6)
        r["first"] = max(r["total"] - res["load"]["median"], 1e-6)
    else:
        text_mb = r["bytes"] / 1e6
mbps = {}
print("%-16s %-11s %10s %9s %8s %9s %10s" % ("vocabulary", "impl", "tokens", "encode s", "MB/s", "whole s",
                                             "cold MB/s"))
for r in rows:
    mbps[(r["name"], r["impl"])] = text_mb / r["seconds"]
    whole = "%9.3f %10.2f" % (r["total"], text_mb / r["first"]) if "total" in r else "%9s %10s" % ("-", "-")
    print("%-16s %-11s %10d %9.3f %8.2f %s" % (r["name"], r["impl"], r["tokens"], r["seconds"],
                                               text_mb / r["seconds"], whole))
print("ours: encode s = one more pass over the text (warm cache, as the peers' runs after a warm-up);")
print("whole s = the command on the text once, loading included; cold = its first pass, whole less loading")
def ratio(ours, peer):
    return mbps[ours] / mbps[peer]
goals = [
    ("cl100k: tokenize / tokenizers (same tokenizer.json)", ("cl100k", "tokenize"), ("cl100k", "tokenizers"), 2),
    ("cl100k: tokenize / tiktoken (same .tiktoken)", ("cl100k-tiktoken", "tokenize"), ("cl100k-tiktoken", "tiktoken"), 1),
    ("qwen3: tokenize / tokenizers", ("qwen3", "tokenize"), ("qwen3", "tokenizers"), 2),
    ("qwen3: tokenize / tiktoken", ("qwen3", "tokenize"), ("qwen3", "tiktoken"), 1),
    ("mistral: tokenize / tokenizers", ("mistral", "tokenize"), ("mistral", "tokenizers"), 10),
]
cold = {k: text_mb / r["first"] for r in rows if "first" in r for k in [(r["name"], r["impl"])]}
for what, ours, peer, goal in goals:
    x = ratio(ours, peer)
    print("%-52s %6.2fx (cold %5.2fx)  goal >= %gx: %s" % (what, x, cold[ours] / mbps[peer], goal,
                                                         "met" if x >= goal else "NOT met"))
EOF

# One huge word (issue 9): a run of one letter and random letters, 1, 16 and 100 MiB on one line,
# no pre-split boundary in it. Time and peak RSS should grow linearly with the length.
command -v /usr/bin/time >/dev/null || { echo "bench: /usr/bin/time not found: no huge-word figures" >&2; exit 0; }
data=$root/tests/data/tokenizers
for kind in run random; do
	for mb in 1 16 100; do
		w=$work/word-$kind-${mb}m.txt
		[ -s "$w" ] || python3 -c 'import random, sys
random.seed(9)
chars = "a" if sys.argv[1] == "run" else "abcdefghijklmnopqrstuvwxyz"
sys.stdout.write("".join(random.choices(chars, k=int(sys.argv[2]) << 20)) + "\n")' "$kind" "$mb" >"$w"
	done
done
echo
printf '%-34s %-6s %5s %8s %8s %9s %10s\n' "one word" kind MiB "wall s" "cpu s" "RSS MiB" "cpu s/MiB"
for tok in qwen3.tokenizer.json.zst mistral-7b-v0.1.tokenizer.json.zst cl100k_base.tiktoken.zst; do
	for kind in run random; do
		for mb in 1 16 100; do
			/usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" \
				"$bin/tokenize" encode -q -t "$data/$tok" "$work/word-$kind-${mb}m.txt" >/dev/null || exit 1
			read -r wall user sys rss <"$work/time.txt"
			awk -v t="$tok" -v k="$kind" -v mb="$mb" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" 'BEGIN {
				printf "%-34s %-6s %5d %8.2f %8.2f %9.0f %10.3f\n", t, k, mb, w, u + s, r / 1024, (u + s) / mb }'
		done
	done
done
