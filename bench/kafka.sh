#!/bin/sh
# make bench: deltas per second into the store through kg-load --kafka against kg-load of the same
# statements from a file, in the same hyperfine command (goal, issue 15: Kafka costs nothing that
# matters, the --kafka rate at least the file's); kcat producing and consuming the same messages
# is the baseline of the broker's own throughput.
#
# The broker is librdkafka's mock cluster (tests/tools/kafka_mock) on loopback, which keeps at
# most 5 MB and 100,000 messages a partition: the deltas are spread over enough partitions.
# LING_BENCH_DELTAS sets their number (default 500000, one add a message, FB15k-like statements).
# A second --kafka line loads mixed deltas (a third of them deletes) for the record.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/bin
mock=$root/build/rel/tests/tools/kafka_mock
work=$root/build/bench/kafka
n=${LING_BENCH_DELTAS:-500000}
parts=$(( (n + 29999) / 30000 )) # about 2.6 MB a partition

for tool in hyperfine kcat python3; do
	command -v $tool >/dev/null || { echo "bench: $tool not found (make deps installs it)" >&2; exit 1; }
done
[ -x "$mock" ] || { echo "bench: $mock not built (make build/rel/tests/tools/kafka_mock)" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work"

# The statements: subjects with a few predicates each, IRIs and literals, as a KG's are.
awk -v n="$n" 'BEGIN {
	srand(15)
	for (i = 0; i < n; i++) {
		s = int(i / 4); r = rand()
		if (r < 0.6) o = "<http://bench.example/e" int(rand() * n / 4) ">"
		else o = "\"value " int(rand() * 100000) "\"@en"
		printf "<http://bench.example/e%d> <http://bench.example/p%d> %s .\n", s, int(rand() * 40), o
	}
}' >"$work/deltas.nt"
sed 's/^/+ /' "$work/deltas.nt" >"$work/adds.txt"
awk 'BEGIN { srand(16) } { print (rand() < 0.33 && NR > 1000 ? "- " : "+ ") $0 }' "$work/deltas.nt" >"$work/mixed.txt"

"$mock" adds:$parts mixed:$parts produced:$parts </dev/null >"$work/mock.out" 2>"$work/mock.err" &
mock_pid=$!
trap 'kill $mock_pid 2>/dev/null; wait $mock_pid 2>/dev/null' EXIT
i=0
while [ ! -s "$work/mock.out" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
brokers=$(head -n 1 "$work/mock.out")
[ -n "$brokers" ] || { echo "bench: the mock cluster did not start: $(cat "$work/mock.err")" >&2; exit 1; }

# Produce once, spread over the partitions (kcat's partitioner on no key: sticky, then random).
produce() { # TOPIC FILE: one message a line, partition by line number
	awk -v parts="$parts" -v dir="$work" -v t="$1" '{ print > (dir "/" t "." (NR % parts)) }' "$2"
	p=0
	while [ $p -lt "$parts" ]; do
		kcat -P -b "$brokers" -t "$1" -p $p -l "$work/$1.$p"
		p=$((p + 1))
	done
}
produce adds "$work/adds.txt"
produce mixed "$work/mixed.txt"
split -n l/"$parts" -d "$work/adds.txt" "$work/produce."
echo "input: $n deltas in $parts partitions ($(wc -c <"$work/adds.txt") bytes), brokers $brokers"

json=$work/hyperfine.json
hyperfine --warmup 1 --runs 5 --style basic --export-json "$json" \
	-n kg-load-file "rm -rf '$work/st' && '$bin/kg-load' -q --store '$work/st' '$work/deltas.nt'" \
	-n kg-load-kafka "rm -rf '$work/st' && '$bin/kg-load' -q --store '$work/st' --kafka '$brokers' --topic adds --until-idle" \
	-n kg-load-kafka-mixed "rm -rf '$work/st' && '$bin/kg-load' -q --store '$work/st' --kafka '$brokers' --topic mixed --until-idle" \
	-n kcat-produce "for f in '$work'/produce.*; do kcat -P -b '$brokers' -t produced -l \$f || exit 1; done" \
	-n kcat-consume "kcat -C -b '$brokers' -t adds -o beginning -e -q >/dev/null" \
	>"$work/hyperfine.log" 2>&1 || {
	cat "$work/hyperfine.log" >&2
	exit 1
}

# The --kafka store must be the file's store (both all additions).
rm -rf "$work/st-file" "$work/st-kafka"
"$bin/kg-load" -q --store "$work/st-file" "$work/deltas.nt"
"$bin/kg-load" -q --store "$work/st-kafka" --kafka "$brokers" --topic adds --until-idle
"$bin/kg-query" --store "$work/st-file" --dump >"$work/dump-file"
"$bin/kg-query" --store "$work/st-kafka" --dump >"$work/dump-kafka"
cmp -s "$work/dump-file" "$work/dump-kafka" || { echo "bench: the --kafka store differs from the file's" >&2; exit 1; }

python3 - "$json" "$n" <<'EOF'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
n = int(sys.argv[2])
print("%-20s %9s %12s %12s" % ("command", "median s", "deltas/s", "cpu s (u+s)"))
for name in ["kg-load-file", "kg-load-kafka", "kg-load-kafka-mixed", "kcat-produce", "kcat-consume"]:
    r = res[name]
    print("%-20s %9.3f %12.0f %12.2f" % (name, r["median"], n / r["median"], r["user"] + r["system"]))
ratio = res["kg-load-file"]["median"] / res["kg-load-kafka"]["median"]
print("kg-load --kafka / kg-load FILE: %.2fx the rate (goal: >= 1x: %s); kcat-produce / kg-load --kafka: %.2fx" %
      (ratio, "met" if ratio >= 1 else "NOT met", res["kg-load-kafka"]["median"] / res["kcat-produce"]["median"]))
EOF
