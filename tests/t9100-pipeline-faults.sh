#!/bin/sh
test_description='the README pipeline over three nights: a kill or failure anywhere, then a rerun, gives the dataset of runs without faults'
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || test_skip_all 'no python3 for megatron_read.py'

TOK=$LING_DATA/tokenizers/qwen3.tokenizer.json.zst
# Trials, and the seed of their fault points (LING_TEST_SEED=N to try others).
TRIALS=${LING_TEST_TRIALS:-20}
SEED=${LING_TEST_SEED:-9100}

# samples N: night N's samples. kg2samples gives the same bytes for the same store and seed (t2000),
# so the nights without a fault in kg2samples read them from samplesN.jsonl, made once (its start-up
# is most of a night's time under the sanitizers).
samples() {
	cat samples$1.jsonl
}

# night N DIR: the README pipeline for night N (kg2samples seed N) on DIR's state, segments and dataset.
night() {
	samples "$1" |
		dedup -q --state "$2/state" --out "$2/unique" --commit-every 20 &&
		tokenize build -q --append -t "$TOK" -o "$2/data" "$2/unique"
}

# docs DIR: every document of DIR's dataset as "SPLIT TOKEN...", sorted (read by megatron_read.py),
# then the manifest's totals.
docs() {
	python3 -c '
import contextlib, io, json, sys
sys.path.insert(0, sys.argv[1])
import megatron_read
d = sys.argv[2] + "/data/"
m = json.load(open(d + "manifest.json"))
lines = []
for s in m["shards"]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        megatron_read.main(["megatron_read.py", d + s["name"]])
    lines += [s["split"] + " " + l for l in out.getvalue().splitlines()]
print("".join(l + "\n" for l in sorted(lines)), end="")
print("documents", m["documents"], "tokens", m["tokens"], "trained", m["trained_tokens"])
' "$LING_ROOT/tests/tools" "$1"
}

# kill_after SECONDS PID: kill -9 PID after SECONDS, unless it ended.
kill_after() {
	sleep "$1" && kill -9 "$2" 2>/dev/null || :
}

# faulty_night N DIR STAGE ARG: night N with one fault. STAGE kg2samples: its output cut after ARG bytes
# (as a kill -9 leaves it); dedup: LING_TEST_CRASH=ARG (a kill -9 at a commit step); tokenize: killed
# after ARG seconds; tokenize-efbig: its writes fail (a file size limit of ARG blocks). The exit status
# is whatever the fault makes it.
faulty_night() {
	case $3 in
	kg2samples)
		kg2samples -q --store fb --count 60 --seed "$1" | head -c "$4" |
			dedup -q --state "$2/state" --out "$2/unique" --commit-every 20 &&
			tokenize build -q --append -t "$TOK" -o "$2/data" "$2/unique" ;;
	dedup)
		samples "$1" |
			LING_TEST_CRASH=$4 dedup -q --state "$2/state" --out "$2/unique" --commit-every 20 &&
			tokenize build -q --append -t "$TOK" -o "$2/data" "$2/unique" ;;
	tokenize)
		samples "$1" |
			dedup -q --state "$2/state" --out "$2/unique" --commit-every 20 || return
		tokenize build -q --append -t "$TOK" -o "$2/data" "$2/unique" &
		pid=$!
		kill_after "$4" $pid &
		killer=$!
		wait $pid
		rc=$?
		kill $killer 2>/dev/null
		wait $killer
		return $rc ;;
	tokenize-efbig)
		samples "$1" |
			dedup -q --state "$2/state" --out "$2/unique" --commit-every 20 &&
			(trap "" XFSZ && ulimit -f "$4" && exec tokenize build -q --append -t "$TOK" -o "$2/data" "$2/unique") ;;
	esac
}

test_expect_success 'setup: a store, and three nights without faults' '
	kg-load -q --store fb "$LING_DATA/fb15k237-subgraph.nt.zst" &&
	for n in 1 2 3; do kg2samples -q --store fb --count 60 --seed $n >samples$n.jsonl || return 1; done &&
	mkdir ref &&
	cp -R ref snap0 &&
	for n in 1 2 3; do night $n ref 2>err && cp -R ref snap$n || return 1; done &&
	test $(ls ref/unique | wc -l) -ge 3 &&
	docs ref >expect &&
	test_comment "fault-free: $(tail -1 expect), $(ls ref/unique | wc -l) segments" &&
	test $(sed -n "s/^documents \([0-9]*\) .*/\1/p" expect) -gt 100 &&
	test $(sed -n "s/^documents \([0-9]*\) .*/\1/p" expect) -le 180
'

# The trials: night, stage and fault point of each, drawn from SEED (by this awk: mawk and gawk draw
# different ones). A night's output is about 340 kB; its commits are small (WriteBatch, never ingested).
awk -v seed="$SEED" -v n="$TRIALS" 'BEGIN {
	srand(seed)
	split("after-emit before-commit after-commit after-rename", point, " ")
	for (t = 1; t <= n; t++) {
		night = 1 + int(rand() * 3)
		stage = int(rand() * 4)
		if (stage == 0) printf "%d kg2samples %d\n", night, int(rand() * 300000)
		else if (stage == 1) printf "%d dedup %s:%d\n", night, point[1 + int(rand() * 4)], 1 + int(rand() * 3)
		else if (stage == 2) printf "%d tokenize %.2f\n", night, rand()
		else printf "%d tokenize-efbig %d\n", night, 1 + int(rand() * 400)
	}
}' >trials

test_expect_success "$TRIALS trials: a fault, a rerun, the nights left: the fault-free dataset, nothing twice" '
	t=0 failed=0 &&
	while read -r n stage arg
	do
		t=$((t + 1)) &&
		rm -rf w && cp -R snap$((n - 1)) w &&
		{ faulty_night $n w $stage $arg >/dev/null 2>fault.err && rc=0 || rc=$?; } &&
		echo "trial $t: night $n, $stage $arg: exit $rc" >>log &&
		{ night $n w 2>rerun.err || { echo "trial $t: the rerun failed:" && cat rerun.err && return 1; }; } &&
		for m in 1 2 3; do test $m -le $n || night $m w 2>>rerun.err || return 1; done &&
		docs w >actual &&
		test_cmp expect actual || { echo "trial $t ($n $stage $arg) differs" && failed=$((failed + 1)); }
	done <trials &&
	test_comment "$(awk "{ print \$NF }" log | sort | uniq -c | tr "\n" " ")" &&
	test $failed = 0 &&
	test $(grep -c "exit [1-9]" log) -ge $((TRIALS / 3))
'

test_done
