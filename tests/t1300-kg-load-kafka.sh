#!/bin/sh
test_description='kg-load --kafka: 100,000 deltas exactly once into the store, through kill -9 and broker restarts (issue 15)'
. "$(dirname "$0")/lib.sh"
. "$LING_ROOT/tests/kafka-lib.sh"

kafka_start --brokers 3 deltas:4 restarts:4

# The deltas: adds and deletes over a small graph, so that they collide,
# statements of one subject always in the same partition (Kafka orders a
# partition, not a topic), one to three statements a message. pP.msgs holds
# partition P's messages, each ended by a \036 (kcat's delimiter below).
NDELTAS=${LING_KAFKA_DELTAS:-100000}
SEED=${LING_TEST_SEED:-$$}
RS_BYTE=$(printf '\036')

# replay N0 N1 N2 N3: the store, sorted, that the first Np messages of each partition P give.
replay() {
	for p in 0 1 2 3; do
		eval "n=\${$((p + 1))}"
		awk -v RS="$RS_BYTE" -v n="$n" 'NR > n { exit } { printf "%s", $0 "\n" }' p$p.msgs
	done |
	awk 'NF { op = substr($0, 1, 1); st = substr($0, 3); if (op == "+") s[st] = 1; else delete s[st] }
	     END { for (k in s) print k }' | LC_ALL=C sort
}

# The next offsets a store holds for topic $2 (0 for a partition never read), on one line.
stored_offsets() {
	meta=$(kg_meta "$1" kafka/$2/0 kafka/$2/1 kafka/$2/2 kafka/$2/3) || return 1
	printf '%s\n' "$meta" | awk -F= '{ printf "%s%s", (NR > 1 ? " " : ""), (NF > 1 ? $2 : 0) } END { print "" }'
}

# check_prefix STORE TOPIC: the store is exactly the deltas before its stored offsets, applied once.
check_prefix() {
	offsets=$(stored_offsets "$1" "$2") &&
	echo "offsets of $1: $offsets" &&
	replay $offsets >prefix.expect &&
	kg-query --store "$1" --dump | LC_ALL=C sort >prefix.got &&
	test_cmp prefix.expect prefix.got
}

test_expect_success "setup: $NDELTAS deltas in 4 partitions, produced with kcat (seed $SEED)" '
	awk -v n="$NDELTAS" -v seed="$SEED" "BEGIN {
		srand(seed)
		for (i = 0; i < n; i++) {
			s = int(rand() * 2000); p = int(rand() * 8); r = rand()
			if (r < 0.5) o = \"<http://e.x/o\" int(rand() * 50) \">\"
			else if (r < 0.8) o = \"\\\"v\" int(rand() * 20) \"\\\"\"
			else o = \"\\\"w\" int(rand() * 5) \"\\\"@en\"
			printf \"%d %s <http://e.x/s%d> <http://e.x/p%d> %s .\\n\", s % 4, (rand() < 0.65 ? \"+\" : \"-\"), s, p, o
		}
	}" >all &&
	for p in 0 1 2 3; do
		awk -v p=$p -v seed="$SEED" -v rs="$RS_BYTE" "BEGIN { srand(seed + p); left = 1 }
			\$1 == p { sub(/^[0-9] /, \"\"); printf \"%s\", (first ? \"\\n\" : \"\") \$0; first = 1
				   if (--left == 0) { printf \"%s\", rs; first = 0; left = 1 + int(rand() * 3) } }
			END { if (first) printf \"%s\", rs }" all >p$p.msgs &&
		kcat -P -b "$KAFKA_BROKERS" -t deltas -p $p -D "$RS_BYTE" -l p$p.msgs || return 1
	done &&
	for p in 0 1 2 3; do tr -cd "$RS_BYTE" <p$p.msgs | wc -c; done >counts &&
	replay $(cat counts) >expect &&
	test "$(cat p0.msgs p1.msgs p2.msgs p3.msgs | tr "$RS_BYTE" "\n" | grep -c "^[+-] ")" -eq "$NDELTAS" &&
	grep -q "^- " p0.msgs && test -s expect
'

test_expect_success 'one run applies every delta once, in order: the dump is the replay' '
	kg-load --store once --kafka "$KAFKA_BROKERS" --topic deltas --until-idle 2>err &&
	cat err &&
	grep "^kg-load: deltas: messages $(awk "{ s += \$1 } END { print s }" counts), batches [1-9][0-9]*, read $NDELTAS, .*rejected 0\$" err &&
	kg-query --store once --dump | LC_ALL=C sort >got &&
	test_cmp expect got &&
	test "$(stored_offsets once deltas)" = "$(echo $(cat counts))"
'

test_expect_success 'a second run finds nothing new and changes nothing' '
	kg_meta once --mark >mark.before &&
	kg-load --store once --kafka "$KAFKA_BROKERS" --topic deltas --until-idle 2>err &&
	grep "^kg-load: deltas: messages 0, batches 0, read 0, wrote 0, deleted 0, rejected 0\$" err &&
	kg_meta once --mark >mark.after &&
	test_cmp mark.before mark.after &&
	kg-query --store once --dump | LC_ALL=C sort >got &&
	test_cmp expect got
'

# The second half of the deltas of the broker restart test, in tenths every 0.3 s. kcat ends when
# every broker is down: while the file "pause" exists it waits, between two tenths ("paused").
produce_slowly() {
	for k in 0 1 2 3 4 5 6 7 8 9 10; do
		while [ -f pause ]; do touch paused; sleep 0.05; done
		rm -f paused
		for p in 0 1 2 3; do
			[ -f second.$k.$p ] || continue
			kcat -P -b "$KAFKA_BROKERS" -t restarts -p $p -D "$RS_BYTE" -l second.$k.$p || return 1
		done
		sleep 0.3
	done
}

# wait_for_progress STORE TOPIC OFFSETS: waits (up to 60 s) until the store's offsets differ from OFFSETS.
wait_for_progress() {
	i=0
	while :; do
		now=$(stored_offsets "$1" "$2" 2>/dev/null) && [ "$now" != "$3" ] && return 0
		i=$((i + 1))
		[ $i -lt 600 ] || { echo "no progress past $3" >&2; return 1; }
		sleep 0.1
	done
}

# Each kill lands while deltas are being applied: after the store has taken a batch more than at the
# previous kill, plus a random 0 to 0.3 s (so, at any step of a batch: parsing, writing, syncing).
test_expect_success 'kill -9 at 10 random moments: every stored state is a prefix applied once, the end is the replay' '
	awk -v seed="$SEED" "BEGIN { srand(seed); for (i = 0; i < 10; i++) printf \"%.2f\\n\", rand() * 0.3 }" >delays &&
	echo 0 >live &&
	last="0 0 0 0" &&
	while read delay; do
		# A slow build may have applied everything before the tenth kill. (Not chained with
		# && to the line below: its & would run the test, and the break, in a subshell.)
		if [ "$last" = "$(echo $(cat counts))" ]; then break; fi
		kg-load -q --store killed --kafka "$KAFKA_BROKERS" --topic deltas --until-idle --batch 200 &
		pid=$! &&
		kafka_track $pid &&
		wait_for_progress killed deltas "$last" &&
		sleep $delay &&
		if kill -9 $pid 2>/dev/null; then echo $(($(cat live) + 1)) >live; fi &&
		{ wait $pid || :; } &&
		check_prefix killed deltas &&
		last=$(stored_offsets killed deltas) || return 1
	done <delays &&
	echo "killed while running: $(cat live) of 10" &&
	test "$(cat live)" -ge 5 &&
	kg-load --store killed --kafka "$KAFKA_BROKERS" --topic deltas --until-idle 2>err &&
	kg-query --store killed --dump | LC_ALL=C sort >got &&
	test_cmp expect got &&
	test "$(stored_offsets killed deltas)" = "$(echo $(cat counts))"
'

# Half of the deltas are on the topic when the daemon starts; the other half is produced after the
# first outage, a tenth every 0.3 s. Each outage starts after one batch more was stored, the first
# one while the first half is being applied, and lasts 1 s.
test_expect_success 'the same while every broker goes down and comes back, twice; SIGTERM ends the daemon cleanly' '
	total=$(awk "{ s += \$1 } END { print s }" counts) &&
	for p in 0 1 2 3; do
		half=$(($(sed -n "$((p + 1))p" counts) / 2)) &&
		awk -v RS="$RS_BYTE" -v ORS="$RS_BYTE" -v n=$half "NR <= n" p$p.msgs >first$p &&
		awk -v RS="$RS_BYTE" -v ORS="$RS_BYTE" -v n=$half -v p=$p "NR > n { print > (\"second.\" int((NR - n - 1) * 10 / n) \".\" p) }" p$p.msgs &&
		kcat -P -b "$KAFKA_BROKERS" -t restarts -p $p -D "$RS_BYTE" -l first$p || return 1
	done &&
	{ kg-load --store restarted --kafka "$KAFKA_BROKERS" --topic restarts --batch 1000 -X reconnect.backoff.max.ms=200 \
		2>daemon.err & } &&
	pid=$! &&
	kafka_track $pid &&
	wait_for_progress restarted restarts "0 0 0 0" &&
	kafka_brokers_down &&
	echo "down at: $(stored_offsets restarted restarts)" >>progress &&
	sleep 1 &&
	kafka_brokers_up &&
	last=$(stored_offsets restarted restarts) &&
	{ produce_slowly & } &&
	producer=$! &&
	kafka_track $producer &&
	wait_for_progress restarted restarts "$last" &&
	touch pause &&
	while [ ! -f paused ] && kill -0 $producer 2>/dev/null; do sleep 0.05; done &&
	kafka_brokers_down &&
	echo "down at: $(stored_offsets restarted restarts)" >>progress &&
	sleep 1 &&
	kafka_brokers_up &&
	rm pause &&
	wait $producer &&
	cat progress &&
	test "$(head -n 1 progress)" != "down at: $(echo $(cat counts) | awk "{ for (i = 1; i <= NF; i++) printf \"%s%d\", (i > 1 ? \" \" : \"\"), \$i / 2 }")" &&
	i=0 &&
	until [ "$(stored_offsets restarted restarts 2>/dev/null)" = "$(echo $(cat counts))" ]; do
		i=$((i + 1)) && test $i -lt 1200 && sleep 0.1 || return 1
	done &&
	kill -TERM $pid &&
	wait $pid &&
	cat daemon.err &&
	grep "^kg-load: restarts: messages $total, batches [1-9][0-9]*, read $NDELTAS, .*rejected 0\$" daemon.err &&
	kg-query --store restarted --dump | LC_ALL=C sort >got &&
	test_cmp expect got
'

test_done
