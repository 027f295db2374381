#!/bin/sh
test_description='kg2samples --out-kafka, dedup --in-kafka and --out-kafka on a mock cluster, read and written with kcat: at least once, and a rerun after a crash at a commit loses nothing'
. "$(dirname "$0")/lib.sh"

command -v kcat >/dev/null || test_skip_all 'no kcat (Debian package kcat)'
command -v kafka_mock >/dev/null || test_skip_all 'no tests/tools/kafka_mock'

# samples: 1 partition, so that every reader sees the records in one order (a dedup keeps the first
# of two near duplicates); unique topics: 2 partitions.
kafka_mock samples:1 u-ref:2 u-crash:2 u-stdout:1 >mock.out 2>mock.err </dev/null &
MOCK=$!
trap 'kill $MOCK 2>/dev/null' EXIT
trap 'kill $MOCK 2>/dev/null; exit 1' HUP INT PIPE TERM
for i in $(seq 100); do test -s mock.out && break; sleep 0.1; done
B=$(head -n 1 mock.out)
X="-X fetch.wait.max.ms=50"

# topic NAME: the topic's messages, one a line, sorted (kcat, an independent client).
topic() {
	kcat -C -b "$B" -t "$1" -e -q | sort
}

test_expect_success 'kg2samples --out-kafka: the samples of stdout, as messages' '
	test -n "$B" &&
	kg-load -q --store kg "$LING_DATA/fb15k-slice.nt.zst" &&
	kg2samples -q --store kg --count 60 --seed 1 --allow-short >s1.jsonl &&
	kg2samples -q --store kg --count 60 --seed 2 --allow-short >s2.jsonl &&
	kg2samples --store kg --count 60 --seed 1 --allow-short --out-kafka "$B/samples" >out 2>err &&
	test ! -s out &&
	grep "^kg2samples: wrote [1-9]" err &&
	kg2samples -q --store kg --count 60 --seed 2 --allow-short --out-kafka "$B/samples" $X &&
	: the seed-1 samples twice: duplicates for dedup to drop &&
	kg2samples -q --store kg --count 60 --seed 1 --allow-short --out-kafka "$B/samples" &&
	cat s1.jsonl s2.jsonl s1.jsonl | sort >expect &&
	topic samples >actual &&
	test_cmp expect actual
'

test_expect_success 'dedup --in-kafka --out-kafka: what dedup of the same lines keeps; the next run reads only what is new' '
	cat s1.jsonl s2.jsonl s1.jsonl | dedup -q | sort >expect &&
	dedup --state ref --in-kafka "$B/samples" --out-kafka "$B/u-ref" $X --commit-every 20 2>err &&
	cat err &&
	grep "^dedup: read $(wc -l <actual), wrote $(wc -l <expect)," err &&
	topic u-ref >unique &&
	test_cmp expect unique &&
	dedup --state ref --in-kafka "$B/samples" --out-kafka "$B/u-ref" $X 2>err &&
	grep "^dedup: read 0, wrote 0," err &&
	kg2samples -q --store kg --count 30 --seed 3 --allow-short >s3.jsonl &&
	kg2samples -q --store kg --count 30 --seed 3 --allow-short --out-kafka "$B/samples" &&
	dedup --state ref --in-kafka "$B/samples" --out-kafka "$B/u-ref" $X 2>err &&
	cat err &&
	grep "^dedup: read $(wc -l <s3.jsonl), wrote " err &&
	cat s1.jsonl s2.jsonl s1.jsonl s3.jsonl | dedup -q | sort >expect &&
	topic u-ref >again &&
	test_cmp expect again
'

test_expect_success 'a crash after a flush, before its commit: the rerun writes those records again (at least once), none is lost, a dedup of the topic drops the copies' '
	: the third commit: two committed, the third flushed and acknowledged, then a kill -9 &&
	{ LING_TEST_CRASH=before-commit:3 dedup -q --state crash --in-kafka "$B/samples" --out-kafka "$B/u-crash" \
		$X --commit-every 20 && rc=0 || rc=$?; } &&
	test $rc = 137 &&
	topic u-crash >after-crash &&
	test $(wc -l <after-crash) -ge 40 &&
	: the rerun goes on from the offsets of the second commit, and writes the third commit again &&
	dedup -q --state crash --in-kafka "$B/samples" --out-kafka "$B/u-crash" $X --commit-every 20 &&
	topic u-crash >all &&
	test $(wc -l <all) -gt $(wc -l <expect) &&
	sort -u all >distinct &&
	test_cmp expect distinct &&
	dedup -q --in-kafka "$B/u-crash" $X | sort >redone &&
	test_cmp expect redone
'

test_expect_success 'dedup --in-kafka --out DIR: exactly once from the topic into the segments, kills at any commit step' '
	for point in after-emit:2 before-commit:2 after-commit:3 after-rename:1; do
		rm -rf st seg &&
		{ LING_TEST_CRASH=$point dedup -q --state st --in-kafka "$B/samples" --out seg $X --commit-every 20 &&
			rc=0 || rc=$?; } &&
		test $rc = 137 &&
		dedup -q --state st --in-kafka "$B/samples" --out seg $X --commit-every 20 &&
		cat seg/part-*.jsonl | sort >segments &&
		test_cmp expect segments || { echo "after a kill at $point" && return 1; }
	done
'

test_expect_success 'usage errors: BROKERS/TOPIC, -X without a topic, --out-kafka with --out, a bad property' '
	test_must_fail_with 2 dedup --out-kafka nowhere s1.jsonl 2>err &&
	grep "BROKERS/TOPIC" err &&
	test_must_fail_with 2 dedup -X fetch.wait.max.ms=50 s1.jsonl 2>err &&
	grep "^dedup: -X goes with --in-kafka or --out-kafka" err &&
	test_must_fail_with 2 dedup --state st --out u --out-kafka "$B/u-ref" s1.jsonl 2>err &&
	test_must_fail_with 2 dedup --in-kafka "$B/samples" s1.jsonl 2>err &&
	test_must_fail_with 2 kg2samples --store kg -X no.such.property=1 --out-kafka "$B/samples" 2>err &&
	grep "no.such.property" err &&
	test_must_fail_with 2 kg2samples --store kg -X fetch.wait.max.ms=50 2>err &&
	grep "^kg2samples: -X goes with --out-kafka" err
'

test_expect_success 'an unreachable cluster is an error, not a hang or a silent success' '
	test_must_fail_with 1 dedup --in-kafka 127.0.0.1:1/samples -X socket.timeout.ms=2000 -X socket.connection.setup.timeout.ms=1000 2>err &&
	cat err &&
	grep "^dedup: " err
'

test_done
