#!/bin/sh
test_description='dedup: nightly runs on one state equal one run; after kill -9 no record is lost, --out duplicates none'
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || test_skip_all 'no python3 for the corpus generator'

# A corpus with 10% exact and 10% near duplicates of earlier records, anywhere before them.
test_expect_success 'setup: a corpus, split into three nights, and its one-run result' '
	python3 "$LING_ROOT/tests/tools/gen-dedup-corpus.py" corpus --docs 3000 --words 40 \
		--dups 0.1 --near 0.1 --seed 3 corpus.jsonl 2>/dev/null &&
	sed -n "1,900p" corpus.jsonl >night1.jsonl &&
	sed -n "901,2100p" corpus.jsonl >night2.jsonl &&
	sed -n "2101,\$p" corpus.jsonl >night3.jsonl &&
	dedup corpus.jsonl >expect 2>err &&
	test_comment "one run: $(cat err)" &&
	test $(wc -l <expect) -lt 2800 &&
	test $(wc -l <expect) -gt 2000
'

test_expect_success 'three nights on one state keep exactly what one run keeps' '
	for n in 1 2 3; do
		dedup --state st night$n.jsonl >>nights 2>>err && dedup -q --state st --confirm || return 1
	done &&
	test_cmp expect nights
'

test_expect_success 'unconfirmed nights are written again, in order, until confirmed' '
	for n in 1 2 3; do dedup --state st-unc night$n.jsonl >unc$n 2>err$n || return 1; done &&
	test_cmp expect unc3 &&
	grep "^dedup: wrote again [0-9]* records of earlier runs that were not confirmed" err3 &&
	dedup --state st-unc night1.jsonl >again 2>/dev/null &&
	test_cmp expect again &&
	dedup --state st-unc --confirm 2>err &&
	grep "^dedup: confirmed $(wc -l <expect) records$" err &&
	test -z "$(ls st-unc/unconfirmed)" &&
	dedup --state st-unc night2.jsonl >again 2>/dev/null &&
	test ! -s again &&
	mkdir empty &&
	test_must_fail_with 1 dedup --state empty --confirm 2>err &&
	grep "^dedup: empty: no such state$" err &&
	test -z "$(ls empty)" &&
	test_must_fail_with 2 dedup --state st-unc --confirm night1.jsonl 2>err
'

test_expect_success 'an --out run writes the unconfirmed records into its segments, which confirms them' '
	dedup --state st-mix night1.jsonl >mix1 2>/dev/null &&
	dedup --state st-mix --out mix-segs night2.jsonl 2>err &&
	grep "^dedup: wrote $(wc -l <mix1) unconfirmed records of earlier stdout runs into the segments$" err &&
	test -z "$(ls st-mix/unconfirmed)" &&
	dedup --state st-mix night3.jsonl >mix3 2>/dev/null &&
	dedup -q --state st-mix --confirm &&
	cat mix-segs/part-* mix3 >mix &&
	test_cmp expect mix
'

test_expect_success 'the same with small commits (WriteBatch) and large ones (SST files)' '
	for n in 1 2 3; do
		dedup --state st-small --commit-every 100 night$n.jsonl >>small &&
		dedup -q --state st-small --confirm || return 1
	done &&
	test_cmp expect small &&
	for n in 1 2 3; do
		dedup --state st-large --commit-every 600 night$n.jsonl >>large &&
		dedup -q --state st-large --confirm || return 1
	done &&
	test_cmp expect large &&
	dedup --state st-large --stats corpus.jsonl >again 2>err &&
	test ! -s again &&
	grep "run 4, records in the state $(wc -l <expect)" err
'

test_expect_success 'the same into --out segments, and on one thread' '
	for n in 1 2 3; do dedup --state st-out --out segs -j 1 night$n.jsonl || return 1; done &&
	cat segs/part-* >segments &&
	test_cmp expect segments
'

# drop_partial_line FILE: FILE without a last line that lacks its newline (a killed write).
drop_partial_line() {
	if test -s "$1" && test "$(tail -c 1 "$1" | od -An -c | tr -d " ")" != "\\n"; then
		sed "\$d" "$1"
	else
		cat "$1"
	fi
}

# after_crash MODE NAME CRASH...: runs dedup on crash.jsonl (1200 records, 20 commits) with LING_TEST_CRASH set to each
# CRASH in turn (each run must die by SIGKILL), then once more to the end, on state NAME.st.
# MODE stdout: the run that completes writes the one-run result (crash.expect) exactly: first again what
# the killed runs committed (unconfirmed), then the rest; what the killed runs wrote may have been lost
# downstream (at least once). Once confirmed, nothing is written again;
# MODE out: the --out segments hold the one-run result exactly (exactly once).
after_crash() {
	mode=$1 name=$2
	shift 2
	rm -rf "$name".st "$name".out "$name".all
	for crash in "$@"; do
		if test $mode = out; then
			LING_TEST_CRASH=$crash dedup --state "$name".st --out "$name".out --commit-every 60 \
				crash.jsonl 2>/dev/null && rc=0 || rc=$?
		else
			LING_TEST_CRASH=$crash dedup --state "$name".st --commit-every 60 crash.jsonl \
				>"$name".part 2>/dev/null && rc=0 || rc=$?
			drop_partial_line "$name".part >>"$name".all
		fi
		if test $rc -ne 137; then echo "crash $crash: exit $rc, not killed" && return 1; fi
	done
	if test $mode = out; then
		dedup --state "$name".st --out "$name".out --commit-every 60 crash.jsonl 2>/dev/null &&
		cat "$name".out/part-* >"$name".all &&
		test_cmp crash.expect "$name".all
	else
		dedup --state "$name".st --commit-every 60 crash.jsonl >"$name".final 2>/dev/null &&
		test_cmp crash.expect "$name".final &&
		cat "$name".final >>"$name".all &&
		dedup -q --state "$name".st --confirm &&
		dedup --state "$name".st crash.jsonl >"$name".again 2>/dev/null &&
		test ! -s "$name".again
	fi
}

test_expect_success 'kill -9 at every crash point, stdout: the completed run writes every record' '
	head -n 1200 corpus.jsonl >crash.jsonl &&
	dedup crash.jsonl >crash.expect 2>/dev/null &&
	after_crash stdout a1 after-emit:1 &&
	after_crash stdout a2 after-emit:9 &&
	after_crash stdout b1 before-commit:1 &&
	after_crash stdout b2 before-commit:7 &&
	after_crash stdout c1 after-commit:2 &&
	after_crash stdout c2 after-commit:17
'

test_expect_success 'kill -9 at every crash point, --out: each record exactly once' '
	after_crash out a1 after-emit:3 &&
	after_crash out b1 before-commit:1 &&
	after_crash out b2 before-commit:11 &&
	after_crash out c1 after-commit:1 &&
	after_crash out c2 after-commit:13 &&
	after_crash out d1 after-rename:4
'

test_expect_success 'kill -9 before a large commit is ingested' '
	LING_TEST_CRASH=before-ingest dedup --state ing.st --out ing.out --commit-every 400 crash.jsonl \
		2>/dev/null && rc=0 || rc=$? &&
	test $rc = 137 &&
	ls ing.st | grep ling-dedup-ingest- &&
	dedup --state ing.st --out ing.out crash.jsonl 2>/dev/null &&
	! ls ing.st | grep ling-dedup-ingest- &&
	cat ing.out/part-* >ing.all &&
	test_cmp crash.expect ing.all
'

test_expect_success 'several crashes in a row' '
	after_crash out chain before-commit:2 after-commit:1 after-emit:2 after-rename:1 &&
	after_crash stdout chain after-commit:1 before-commit:3 after-emit:2
'

test_expect_success 'timed kills at random points' '
	python3 "$LING_ROOT/tests/tools/gen-dedup-corpus.py" corpus --docs 5000 --words 40 \
		--dups 0.1 --near 0.1 --seed 5 big.jsonl 2>/dev/null &&
	dedup big.jsonl >big.expect 2>/dev/null &&
	killed=0 &&
	for delay in 0.05 0.1 0.2 0.3 0.45 0.6; do
		dedup --state t.st --out t.out --commit-every 100 big.jsonl 2>/dev/null &
		pid=$! &&
		sleep $delay &&
		kill -9 $pid 2>/dev/null || :
		wait $pid && rc=0 || rc=$?
		test $rc = 137 && killed=$((killed + 1))
		dedup --state s.st --commit-every 100 big.jsonl >s.part 2>/dev/null &
		pid=$! &&
		sleep $delay &&
		kill -9 $pid 2>/dev/null || :
		wait $pid && rc=0 || rc=$?
		test $rc = 137 && killed=$((killed + 1))
		drop_partial_line s.part >>s.all
	done &&
	dedup --state t.st --out t.out --commit-every 100 big.jsonl 2>/dev/null &&
	cat t.out/part-* >t.all &&
	test_cmp big.expect t.all &&
	dedup --state s.st --commit-every 100 big.jsonl >s.final 2>/dev/null &&
	test_cmp big.expect s.final &&
	cat s.final >>s.all &&
	test_comment "$killed of 12 runs killed; stdout: $(wc -l <s.all) lines for $(wc -l <big.expect) records (at least once)" &&
	test $killed -ge 4
'

test_done
