#!/bin/sh
test_description='ling-refresh over three nights of Kafka deltas: kills in every stage, reruns: the dataset of runs without faults; a second run in a row adds nothing'
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || test_skip_all 'no python3 for megatron_read.py'
command -v kcat >/dev/null || test_skip_all 'no kcat (Debian package kcat) to produce the deltas'
command -v kafka_mock >/dev/null || test_skip_all 'no tests/tools/kafka_mock'

TOK=$LING_DATA/tokenizers/qwen3.tokenizer.json.zst

# A Kafka-protocol cluster on loopback, one topic per night (so that every trial of night N reads
# exactly night N's deltas, as the run without faults did), three partitions each.
kafka_mock d1:3 d2:3 d3:3 bad:1 >mock.out 2>mock.err </dev/null &
MOCK=$!
trap 'kill $MOCK 2>/dev/null' EXIT
trap 'kill $MOCK 2>/dev/null; exit 1' HUP INT PIPE TERM
for i in $(seq 100); do test -s mock.out && break; sleep 0.1; done
BROKERS=$(head -n 1 mock.out)

# refresh DIR N [ARGS...]: night N's refresh of DIR's store, state and dataset (REFRESH_EXEC=exec:
# the shell becomes ling-refresh, so that a background job's $! is its pid).
refresh() {
	dir=$1 night=$2
	shift 2
	$REFRESH_EXEC ling-refresh -b "$BROKERS" -T d$night -X socket.timeout.ms=10000 -X fetch.wait.max.ms=50 -s "$dir/kg" --state "$dir/state" \
		-d "$dir/data" -t "$TOK" --per-entity 1 --seed 7 --commit-every 10 "$@"
}

# docs DIR: every document of DIR's dataset as "SPLIT TOKEN...", sorted, then the manifest's totals
# (as t9100 compares datasets).
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

# The base graph is the FB15k-237 slice without every 50th triple; night N adds 30 of those held
# out and deletes 5 base triples (night 1 deletes none).
test_expect_success 'setup: a store, three nights of deltas on the topics (kcat), three nights without faults' '
	test -n "$BROKERS" &&
	zstd -dc "$LING_DATA/fb15k-slice.nt.zst" >all.nt &&
	awk "NR % 50 == 7" all.nt >held.nt &&
	awk "NR % 50 != 7" all.nt >base.nt &&
	for n in 1 2 3; do
		sed -n "$((30 * n - 29)),$((30 * n))p" held.nt | sed "s/^/+ /" >night$n.txt &&
		if test $n -gt 1; then awk "NR % 3001 == $n" base.nt | sed "s/^/- /" >>night$n.txt; fi &&
		: keyed by line, so that the messages spread over the partitions &&
		awk "{ print NR \"|\" \$0 }" night$n.txt | kcat -P -b "$BROKERS" -t d$n -K "|" || return 1
	done &&
	kcat -C -b "$BROKERS" -t d2 -e -q -f "%p\n" | sort -u >partitions &&
	test $(wc -l <partitions) = 3 &&
	mkdir snap0 &&
	kg-load -q --store snap0/kg base.nt &&
	cp -R snap0 ref &&
	for n in 1 2 3; do refresh ref $n 2>err$n && cp -R ref snap$n || { cat err$n; return 1; }; done &&
	cat err1 err2 err3 &&
	grep "^ling-refresh: refresh 1 done: pulled [1-9][0-9]* batch" err1 &&
	grep "^ling-refresh: refresh 3 done: .* [1-9][0-9]* entities changed, [1-9][0-9]* samples" err3 &&
	test "$(sed -n "2p" ref/state/mark)" = "refreshes 3" &&
	test -z "$(ls ref/state/work)" && test ! -e ref/state/run &&
	docs ref >expect &&
	docs snap1 >expect1 && docs snap2 >expect2 &&
	test_comment "fault-free: $(tail -n 1 expect1) / $(tail -n 1 expect2) / $(tail -n 1 expect)" &&
	test $(sed -n "s/^documents \([0-9]*\) .*/\1/p" expect1) -gt 10 &&
	test $(sed -n "s/^documents \([0-9]*\) .*/\1/p" expect) -gt $(sed -n "s/^documents \([0-9]*\) .*/\1/p" expect2)
'

# A query starts at a changed entity; the evidence (the triples the answer rests on) holds it unless
# the answer comes from another branch (a union, a negation): most samples, against few of a run
# over the whole graph.
test_expect_success 'the samples are anchored at the changed entities: kg2samples --changed-since' '
	kg2samples --store snap1/kg --changed-since 0 --per-entity 1 --allow-short --seed 7 --json \
		>focused.jsonl 2>summary &&
	cat summary &&
	grep "\"entities_found\":[1-9][0-9]*,\"changed_since\":0,\"mark\":[1-9]" summary &&
	kg2samples -q --store snap1/kg --count $(wc -l <focused.jsonl) --seed 7 --allow-short >plain.jsonl &&
	sed "s/^+ <\([^>]*\)> <[^>]*> <\([^>]*\)> .$/\1 \2/" night1.txt | tr " " "\n" | sort -u >changed &&
	python3 -c "
import json, sys
changed = set(open(\"changed\").read().split())
def touching(path):
    n = k = 0
    for line in open(path):
        ev = json.loads(line)[\"meta\"][\"evidence\"]
        n += 1
        k += any(t[0] in changed or t[2] in changed for t in ev)
    return k, n
(k, n), (pk, pn) = touching(\"focused.jsonl\"), touching(\"plain.jsonl\")
print(\"evidence touches a changed entity: focused %d of %d, whole graph %d of %d\" % (k, n, pk, pn))
assert n > 10 and k >= 0.7 * n and pk < k / 2
" &&
	: the same entities named in a file, in another order, give the same bytes &&
	{ echo "no such entity" && sort -r changed && echo; } >ents &&
	kg2samples --store snap1/kg --entities ents --per-entity 1 --allow-short --seed 7 >named.jsonl 2>err &&
	cat err &&
	found=$(sed -n "s/.*\"entities_found\":\([0-9]*\).*/\1/p" summary) &&
	grep "anchored at $found of $(($(wc -l <changed) + 1)) entities" err &&
	test_cmp focused.jsonl named.jsonl
'

test_expect_success 'a second run in a row adds nothing and says so' '
	find ref/data ref/state/unique -type f | sort | xargs md5sum >before &&
	refresh ref 3 --json 2>again &&
	cat again &&
	grep "^ling-refresh: up to date, nothing to do: pulled 0 batches" again &&
	grep "\"status\":\"up_to_date\"" again &&
	find ref/data ref/state/unique -type f | sort | xargs md5sum >after &&
	test_cmp before after
'

test_expect_success 'a config file gives the options (the command line wins); a bad line is a usage error' '
	cat >refresh.conf <<-EOF &&
	# night 3 of ref, as the runs above
	brokers = $BROKERS
	topic = no-such-topic
	X = fetch.wait.max.ms=50
	store = ref/kg
	state = ref/state
	data = ref/data
	tokenizer = $TOK
	per-entity = 1
	json = true
	EOF
	ling-refresh -c refresh.conf -T d3 2>err &&
	cat err &&
	grep "^ling-refresh: up to date, nothing to do: pulled 0 batches" err &&
	grep "^{\"status\":\"up_to_date\"" err &&
	echo "colour = blue" >>refresh.conf &&
	test_must_fail_with 2 ling-refresh -c refresh.conf 2>err &&
	grep "^ling-refresh: refresh.conf:11: unknown key .colour." err
'

test_expect_success 'an overlapping run fails at the lock, naming the stage' '
	cp -R snap1 lk &&
	exec 9>lk/state/lock && flock 9 &&
	test_must_fail_with 1 refresh lk 2 2>err &&
	exec 9>&- &&
	cat err &&
	grep "^ling-refresh: stage lock: .*another ling-refresh holds the lock" err &&
	grep "^ling-refresh: failed in stage lock (rerun to finish): nothing done$" err
'

test_expect_success 'a failing stage is named, exits 1, and the rerun finishes' '
	cp -R snap1 bad &&
	: a segment the dedup state did not write makes dedup refuse the run &&
	echo "{}" >bad/state/unique/part-99999999.jsonl &&
	test_must_fail_with 1 refresh bad 2 2>err &&
	rm bad/state/unique/part-99999999.jsonl &&
	cat err &&
	grep "^ling-refresh: stage dedup: dedup exited with status 1" err &&
	grep "^ling-refresh: failed in stage dedup (rerun to finish): pulled [1-9][0-9]* batch[es]*, mark 1 -> [0-9]*, [0-9]* entities changed, [0-9]* samples; " err &&
	refresh bad 2 2>err &&
	grep "refresh 2 done (finished an interrupted run)" err &&
	docs bad >actual &&
	test_cmp expect2 actual
'

test_expect_success 'a bad delta fails the pull, named; --max-errors skips it and the rest is applied' '
	cp -R snap3 bd &&
	printf "%s\n" "this is not a delta" "+ <http://example.org/new> <http://example.org/p> <http://rdf.freebase.com/ns/m.0170z3> ." >bad.txt &&
	kcat -P -b "$BROKERS" -t bad -l bad.txt &&
	test_must_fail_with 1 ling-refresh -b "$BROKERS" -T bad -X fetch.wait.max.ms=50 -s bd/kg --state bd/state \
		-d bd/data -t "$TOK" 2>err &&
	cat err &&
	grep "^kg-load: bad/0@0:1:" err &&
	grep "^ling-refresh: stage pull: kg-load exited with status 1" err &&
	grep "^ling-refresh: failed in stage pull (rerun to finish): nothing done; pull [0-9.]* s$" err &&
	ling-refresh -b "$BROKERS" -T bad -X fetch.wait.max.ms=50 -s bd/kg --state bd/state -d bd/data -t "$TOK" \
		--max-errors 1 2>err &&
	cat err &&
	grep "^ling-refresh: refresh 4 done: pulled [1-9][0-9]* batch[es]*, mark [0-9]* -> [0-9]*, 2 entities changed" err
'

# Kill points: STAGE:SECONDS into the stage's tool, or STAGE:end right after it (ling-refresh kills
# itself with SIGKILL, its tool dies with it), on each night; plus kills from outside at random times.
cat >trials <<EOF
1 pull:0
2 pull:end
3 samples:0
1 samples:end
2 dedup:0.02
3 dedup:end
1 tokenize:0.2
2 tokenize:end
3 commit:0
1 commit:end
2 outside:0.8
3 outside:1.8
EOF

# faulty N DIR POINT: night N on DIR, killed at POINT. The exit status is the kill's.
faulty() {
	case $3 in
	outside:*)
		REFRESH_EXEC=exec refresh "$2" "$1" 2>/dev/null &
		pid=$!
		sleep "${3#outside:}"
		kill -9 $pid 2>/dev/null
		wait $pid ;;
	*)
		LING_TEST_REFRESH_KILL=$3 refresh "$2" "$1" 2>/dev/null ;;
	esac
}

test_expect_success 'kills in every stage, then a rerun: the dataset of the run without faults, the summary says what happened' '
	t=0 failed=0 &&
	while read -r n point
	do
		t=$((t + 1)) &&
		rm -rf w && cp -R snap$((n - 1)) w &&
		{ faulty $n w $point && rc=0 || rc=$?; } &&
		{ refresh w $n --wait 2>rerun.err || { echo "trial $t: the rerun failed:" && cat rerun.err && return 1; }; } &&
		summary=$(grep "^ling-refresh: " rerun.err) &&
		echo "trial $t: night $n, $point: exit $rc; $summary" >>log &&
		case $point in
		pull:*) want="refresh $n done:" ;;
		commit:end) want="up to date, nothing to do" ;;
		outside:*) want="" ;;
		*) want="refresh $n done (finished an interrupted run)" ;;
		esac &&
		case $summary in *"$want"*) ;; *) echo "trial $t: not \"$want\": $summary" && failed=$((failed + 1)) ;; esac &&
		test "$(sed -n "2p" w/state/mark)" = "refreshes $n" &&
		docs w >actual &&
		if test $n = 3; then cp expect want.docs; else cp expect$n want.docs; fi &&
		test_cmp want.docs actual || { echo "trial $t ($n $point) differs" && failed=$((failed + 1)); }
	done <trials &&
	cat log &&
	test $failed = 0 &&
	test $(grep -c "exit 137" log) -ge 10
'

test_done
