#!/bin/sh
test_description='kg-load --kafka: bad deltas are reported with topic/partition@offset, counted, skipped up to --max-errors; no offset is stored past one neither applied nor counted'
. "$(dirname "$0")/lib.sh"
. "$LING_ROOT/tests/kafka-lib.sh"

kafka_start bad:1 empty:1

RS_BYTE=$(printf '\036')

# The next offset a store holds for partition 0 of topic $2 ("none" when it holds none).
stored_offset() {
	kg_meta "$1" kafka/$2/0 | awk -F= '{ print (NF > 1 ? $2 : "none") }'
}

test_expect_success 'setup: good and bad messages on one partition, one of 10 MB' '
	{
		printf "+ <http://x/s0> <http://x/p> \"ok0\" .\036" &&
		printf "<http://x/s1> <http://x/p> \"no prefix\" .\036" &&
		printf "+ this is not n-triples\036" &&
		printf "+ <http://x/s3> <http://x/p> \"\377\" .\036" &&
		printf "* <http://x/s4> <http://x/p> \"star\" .\036"
	} >msgs-a &&
	{ printf "+ <http://x/s5> <http://x/p> \"" && head -c 10000000 /dev/zero | tr "\000" a && printf "\" .\036"; } >msg-big &&
	{
		printf "+ <http://x/s6> <http://x/p> \"ok6\" .\n- <http://x/s0> <http://x/p> \"ok0\" .\n+ broken\n+ <http://x/s6b> <http://x/p> \"ok6b\" .\036" &&
		printf "+ <http://x/s7> <http://x/p> \"ok7\" .\036"
	} >msgs-b &&
	: the mock cluster keeps 5 MB a partition: the big message travels zstd-compressed, alone in its batch &&
	kcat -P -b "$KAFKA_BROKERS" -t bad -p 0 -D "$RS_BYTE" -l msgs-a &&
	kcat -P -b "$KAFKA_BROKERS" -t bad -p 0 -z zstd -X message.max.bytes=20000000 -D "$RS_BYTE" -l msg-big &&
	kcat -P -b "$KAFKA_BROKERS" -t bad -p 0 -D "$RS_BYTE" -l msgs-b &&
	kcat -C -b "$KAFKA_BROKERS" -t bad -p 0 -o beginning -e -f "%o %S\n" >sizes &&
	test "$(wc -l <sizes)" -eq 8 &&
	grep "^5 10000033\$" sizes &&
	cat >expect-errors <<-\EOF &&
	kg-load: bad/0@1:1:1: expected '\''+ '\'' (add) or '\''- '\'' (delete) before the statement
	kg-load: bad/0@2:1:3: expected an IRI or blank node as subject
	kg-load: bad/0@3:1:31: invalid UTF-8
	kg-load: bad/0@4:1:1: expected '\''+ '\'' (add) or '\''- '\'' (delete) before the statement
	kg-load: bad/0@5: message of 10000033 bytes is over --max-message (1048576)
	kg-load: bad/0@6:3:3: expected an IRI or blank node as subject
	EOF
	cat >expect <<-\EOF
	<http://x/s6> <http://x/p> "ok6" .
	<http://x/s6b> <http://x/p> "ok6b" .
	<http://x/s7> <http://x/p> "ok7" .
	EOF
'

test_expect_success 'within --max-errors: each bad delta reported once with its place, counted, skipped; the rest applied' '
	kg-load --store st --kafka "$KAFKA_BROKERS" --topic bad --until-idle --max-errors 6 2>err &&
	grep -v "^kg-load: bad: messages" err >errors &&
	test_cmp expect-errors errors &&
	grep "^kg-load: bad: messages 8, batches [1-9][0-9]*, read 5, .* rejected 6\$" err &&
	kg-query --store st --dump | LC_ALL=C sort >got &&
	test_cmp expect got &&
	test "$(stored_offset st bad)" = 8
'

test_expect_success 'one bad delta too many: exit 1, and the stored offset stops before the unapplied' '
	test_must_fail_with 1 kg-load --store st2 --kafka "$KAFKA_BROKERS" --topic bad --until-idle --max-errors 2 --batch 1 2>err &&
	head -n 3 expect-errors >expect-3 &&
	grep -v "^kg-load: bad: messages" err >errors &&
	test_cmp expect-3 errors &&
	grep "^kg-load: bad: messages 1, batches 1, read 1, wrote 1, deleted 0, rejected 3; failed: " err &&
	test "$(stored_offset st2 bad)" = 1 &&
	echo "<http://x/s0> <http://x/p> \"ok0\" ." >expect-0 &&
	kg-query --store st2 --dump >got &&
	test_cmp expect-0 got
'

test_expect_success '... and a rerun with a larger budget goes on from there to the same store' '
	kg-load --store st2 --kafka "$KAFKA_BROKERS" --topic bad --until-idle --max-errors 6 2>err &&
	grep -v "^kg-load: bad: messages" err >errors &&
	test_cmp expect-errors errors &&
	grep "^kg-load: bad: messages 7, .* rejected 6\$" err &&
	kg-query --store st2 --dump | LC_ALL=C sort >got &&
	test_cmp expect got &&
	test "$(stored_offset st2 bad)" = 8
'

test_expect_success 'a batch with one error too many is not stored at all' '
	test_must_fail_with 1 kg-load --store st3 --kafka "$KAFKA_BROKERS" --topic bad --until-idle --max-errors 0 2>err &&
	head -n 1 expect-errors >expect-1 &&
	grep -v "^kg-load: bad: messages" err >errors &&
	test_cmp expect-1 errors &&
	test "$(stored_offset st3 bad)" = none &&
	kg-query --store st3 --dump >got &&
	test ! -s got
'

test_expect_success '--max-message lets the 10 MB message in, whole' '
	kg-load --store st4 --kafka "$KAFKA_BROKERS" --topic bad --until-idle --max-errors 5 --max-message 20000000 2>err &&
	grep "rejected 5\$" err &&
	kg-query --store st4 --dump | awk "length(\$0) > 10000000 { n++ } END { print n }" >n &&
	echo 1 >expect-n &&
	test_cmp expect-n n
'

test_expect_success 'an empty topic: --until-idle ends at once, storing nothing' '
	kg-load --store st5 --kafka "$KAFKA_BROKERS" --topic empty --until-idle 2>err &&
	grep "^kg-load: empty: messages 0, batches 0, read 0, wrote 0, deleted 0, rejected 0\$" err &&
	test "$(stored_offset st5 empty)" = none
'

test_expect_success 'a stored offset the partition does not have (another cluster) is an error, never a silent jump' '
	kg-load --store st6 --kafka "$KAFKA_BROKERS" --topic bad --until-idle --max-errors 6 2>/dev/null &&
	test "$(stored_offset st6 bad)" = 8 &&
	{ kafka_mock bad:1 </dev/null >other.out 2>other.err & } &&
	other=$! &&
	i=0 && while [ ! -s other.out ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done &&
	{ kg-load --store st6 --kafka "$(head -n 1 other.out)" --topic bad --until-idle 2>err && rc=0 || rc=$?; } &&
	kill $other && wait $other &&
	test $rc -eq 1 &&
	grep "^kg-load: kafka bad/0: the stored offset 8 is out of the partition.s range" err &&
	test "$(stored_offset st6 bad)" = 8
'

test_expect_success 'usage errors: exit 2, saying what is wrong' '
	test_must_fail_with 2 kg-load --store u --topic bad 2>err &&
	grep "need --kafka" err &&
	test_must_fail_with 2 kg-load --store u --kafka "$KAFKA_BROKERS" 2>err &&
	grep "^kg-load: --kafka needs --topic TOPIC\$" err &&
	test_must_fail_with 2 kg-load --store u --kafka "$KAFKA_BROKERS" --topic bad -X no.such.property=1 2>err &&
	grep "^kg-load: kafka property no.such.property: " err &&
	printf "# comment\n\nclient.id = ling-test\nfetch.wait.max.ms=oops\n" >bad.conf &&
	test_must_fail_with 2 kg-load --store u --kafka "$KAFKA_BROKERS" --topic bad --kafka-config bad.conf 2>err &&
	grep "^kg-load: bad.conf:4: kafka property fetch.wait.max.ms: " err &&
	test_must_fail_with 2 kg-load --store u --kafka "$KAFKA_BROKERS" --topic bad --delete 2>err &&
	test_must_fail_with 2 kg-load --store u --kafka "$KAFKA_BROKERS" --topic bad file.nt 2>err &&
	test ! -e u
'

test_expect_success 'no broker answers: exit 1 once socket.timeout.ms is over' '
	test_must_fail_with 1 kg-load --store v --kafka 127.0.0.1:1 --topic bad -X socket.timeout.ms=1000 --until-idle 2>err &&
	grep "^kg-load: kafka topic bad: " err
'

test_done
