# tests/kafka-lib.sh: a Kafka-protocol cluster on loopback for the tests that
# talk to Kafka, sourced after lib.sh (at the top level of a script, not in a
# test body: the cluster lives as long as the script).
#
#	. "$LING_ROOT/tests/kafka-lib.sh"
#	kafka_start --brokers 3 deltas:4     # sets KAFKA_BROKERS ("127.0.0.1:PORT,...")
#	kcat -P -b "$KAFKA_BROKERS" -t deltas -p 0 -l file
#	kafka_brokers_down; kafka_brokers_up  # every broker refuses connections, then serves again
#
# The cluster is librdkafka's mock cluster (tests/tools/kafka_mock.c), kcat
# the independent client. Without them the whole script is skipped, saying
# why. The cluster is stopped when the script exits, and so is every process
# a test body named with kafka_track PID (a daemon left by a failing test
# would hold the TAP stream open).
#
# Under AddressSanitizer, a tool that allocates per message (librdkafka
# does) spends its time faulting in fresh pages while the freed ones wait in
# the 256 MB quarantine: a smaller one keeps these tests' run time sane and
# still catches a use after free of recent memory.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16
export ASAN_OPTIONS
kafka_pids=$TRASH_DIRECTORY.kafka-pids

# kafka_start [--brokers N] TOPIC:PARTITIONS...
kafka_start() {
	command -v kafka_mock >/dev/null 2>&1 ||
		test_skip_all "no kafka_mock test tool (librdkafka's mock cluster, rdkafka_mock.h in librdkafka-dev)"
	command -v kcat >/dev/null 2>&1 || test_skip_all "no kcat (Debian package kcat; make deps)"
	kafka_mock "$@" </dev/null >kafka-mock.out 2>kafka-mock.err &
	KAFKA_PID=$!
	trap kafka_stop EXIT
	kafka_wait=0
	while [ ! -s kafka-mock.out ] && kill -0 $KAFKA_PID 2>/dev/null && [ $kafka_wait -lt 100 ]; do
		sleep 0.1
		kafka_wait=$((kafka_wait + 1))
	done
	KAFKA_BROKERS=$(head -n 1 kafka-mock.out)
	[ -n "$KAFKA_BROKERS" ] ||
		test_skip_all "librdkafka's mock cluster did not start: $(cat kafka-mock.err)"
	export KAFKA_BROKERS
}

kafka_stop() {
	if [ -f "$kafka_pids" ]; then
		kill $(cat "$kafka_pids") 2>/dev/null
		rm -f "$kafka_pids"
	fi
	[ -n "${KAFKA_PID:-}" ] || return 0
	kill $KAFKA_PID 2>/dev/null
	wait $KAFKA_PID 2>/dev/null
	KAFKA_PID=
}

# kafka_track PID: PID (a daemon a test body started) is killed when the script exits.
kafka_track() { echo "$1" >>"$kafka_pids"; }

# Every broker of the cluster goes down (connections dropped and refused), or comes back.
kafka_brokers_down() { kill -USR1 $KAFKA_PID; }
kafka_brokers_up() { kill -USR2 $KAFKA_PID; }
