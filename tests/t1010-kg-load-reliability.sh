#!/bin/sh
test_description='kg-load: bad input never half-applies, kill -9 never corrupts'
. "$(dirname "$0")/lib.sh"

good() {
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++)
		printf "<http://ex.org/e%d> <http://ex.org/p%d> \"value %d\"@en .\n", i, i % 50, i }'
}

test_expect_success 'setup: a store with one file loaded' '
	good 100 | sed s/ex.org/base.org/ >base.nt &&
	kg-load --store kg base.nt &&
	kg-query --store kg --dump | sort >before &&
	kg-stat --store kg --json >stat-before
'

store_unchanged() {
	kg-query --store kg --dump | sort >after &&
	test_cmp before after &&
	kg-stat --store kg --json >stat-after &&
	sed "s/\"disk_bytes\":[0-9]*,//" stat-before >a && sed "s/\"disk_bytes\":[0-9]*,//" stat-after >b &&
	test_cmp a b
}

test_expect_success 'a bad line: positioned error, exit 1, store unchanged' '
	{ good 5 && echo "<http://ex.org/x> <http://ex.org/p> oops ." && good 5; } >bad.nt &&
	test_must_fail_with 1 kg-load --store kg bad.nt 2>err &&
	grep "^kg-load: bad.nt:6:37: expected an IRI, blank node or literal as object$" err &&
	store_unchanged
'

test_expect_success '--max-errors skips a bad statement and reports it' '
	{ echo "<http://ex.org/n1> <http://ex.org/p> \"new\" ." &&
	  echo "<http://ex.org/x> <http://ex.org/p> \"unterminated ." &&
	  echo "<http://ex.org/n2> <http://ex.org/p> \"new\" ."; } >onebad.nt &&
	kg-load --store kg2 --max-errors 1 onebad.nt 2>err &&
	grep "onebad.nt:2:" err &&
	grep "read 2, wrote 2, rejected 1" err
'

test_expect_success 'more errors than --max-errors: exit 1, store unchanged' '
	{ cat onebad.nt && echo "garbage"; } >twobad.nt &&
	test_must_fail_with 1 kg-load --store kg --max-errors 1 twobad.nt 2>err &&
	grep "twobad.nt:4:1:" err &&
	store_unchanged
'

test_expect_success 'a Turtle statement with an error is skipped whole' '
	cat >half.ttl <<-TTL &&
	@prefix ex: <http://ex.org/> .
	ex:a ex:p ex:b ; ex:q ex:c ; ex:r <bad iri> .
	ex:d ex:p ex:e .
	TTL
	kg-load --store kg3 --max-errors 5 half.ttl 2>err &&
	grep "half.ttl:" err &&
	kg-query --store kg3 --dump >dump &&
	test_cmp dump - <<-EOF
	<http://ex.org/d> <http://ex.org/p> <http://ex.org/e> .
	EOF
'

test_expect_success 'invalid UTF-8: positioned error, exit 1, store unchanged' '
	{ good 3 && printf "<http://ex.org/u> <http://ex.org/p> \"caf\\351\" .\n"; } >latin1.nt &&
	test_must_fail_with 1 kg-load --store kg latin1.nt 2>err &&
	grep "^kg-load: latin1.nt:4:41: invalid UTF-8$" err &&
	store_unchanged
'

test_expect_success 'truncated gzip: error naming the file, exit 1, store unchanged' '
	good 20000 | gzip -c >big.nt.gz &&
	size=$(wc -c <big.nt.gz) &&
	head -c $((size / 2)) big.nt.gz >cut.nt.gz &&
	test_must_fail_with 1 kg-load --store kg cut.nt.gz 2>err &&
	grep "^kg-load: cut.nt.gz:[0-9]*: truncated gzip stream" err &&
	store_unchanged
'

test_expect_success 'truncated zstd: error naming the file, exit 1, store unchanged' '
	good 20000 | zstd -q -c >big.nt.zst &&
	size=$(wc -c <big.nt.zst) &&
	head -c $((size / 2)) big.nt.zst >cut.nt.zst &&
	test_must_fail_with 1 kg-load --store kg cut.nt.zst 2>err &&
	grep "^kg-load: cut.nt.zst:[0-9]*: truncated zstd stream" err &&
	store_unchanged
'

test_expect_success 'corrupt gzip: exit 1, store unchanged' '
	good 2000 | gzip -c >c.nt.gz &&
	size=$(wc -c <c.nt.gz) &&
	{ head -c 200 c.nt.gz && head -c 400 /dev/zero && tail -c +601 c.nt.gz; } >corrupt.nt.gz &&
	test_must_fail_with 1 kg-load --store kg corrupt.nt.gz 2>err &&
	grep "^kg-load: corrupt.nt.gz: " err &&
	store_unchanged
'

test_expect_success 'setup: a clean load of a large file' '
	good 100000 >large.nt &&
	kg-load --store clean large.nt &&
	kg-query --store clean --dump | sort >clean.dump &&
	kg-stat --store clean --json | sed "s/\"disk_bytes\":[0-9]*,//" >clean.stat
'

# Kill the load at several moments; after each kill the store must still open,
# and loading again must give exactly the clean store, statistics included.
for delay in 0.1 0.3 0.6; do
	test_expect_success "kill -9 after ${delay}s, then reload, equals a clean load" "
		rm -rf killed &&
		{ kg-load --store killed large.nt 2>/dev/null & pid=\$!; sleep $delay; kill -9 \$pid 2>/dev/null; wait \$pid || :; } &&
		kg-load --store killed large.nt &&
		kg-query --store killed --dump | sort >killed.dump &&
		test_cmp clean.dump killed.dump &&
		kg-stat --store killed --json | sed 's/\"disk_bytes\":[0-9]*,//' >killed.stat &&
		test_cmp clean.stat killed.stat
	"
done

# The same at the two moments that matter, made exact by a test hook that
# sends SIGKILL to the loader itself: before and after the atomic ingestion.
for point in before-ingest after-ingest; do
	test_expect_success "killed $point: the store holds all or nothing, reload completes it" "
		rm -rf hooked &&
		kg-load --store hooked base.nt &&
		{ LING_TEST_CRASH=$point kg-load --store hooked large.nt 2>/dev/null; test \$? -gt 128; } &&
		kg-stat --store hooked --json >hooked.stat &&
		if test $point = before-ingest; then grep '\"quads\":100,' hooked.stat; else grep '\"quads\":100100,' hooked.stat; fi &&
		kg-load --store hooked large.nt 2>err &&
		! ls hooked | grep ling-ingest &&
		kg-query --store hooked --dump | grep -v base.org | sort >hooked.dump &&
		test_cmp clean.dump hooked.dump
	"
done

# hold_lock DIR: holds DIR/LOCK with an fcntl lock, as a running kg-load does, until the fifo is written.
hold_lock() {
	mkfifo release &&
	python3 -c "
import fcntl, sys
f = open(sys.argv[1] + \"/LOCK\", \"a\")
fcntl.lockf(f, fcntl.LOCK_EX)
print(\"held\", flush=True)
open(\"release\").read()
" "$1" >held &
	while ! test -s held; do sleep 0.05; done
}

test_expect_success 'a store being created by another process: the error names the lock' '
	mkdir creating &&
	hold_lock creating &&
	test_must_fail_with 1 kg-load --store creating base.nt 2>err; rc=$?
	echo >release && wait && rm -f release held &&
	test $rc = 0 &&
	cat err &&
	grep -F "kg-load: creating: the store is locked by another process (creating/LOCK)" err &&
	! grep "other files" err
'

test_expect_success 'a store held by another kg-load: the error names the lock' '
	kg-load --store busy base.nt &&
	hold_lock busy &&
	test_must_fail_with 1 kg-load --store busy base.nt 2>err; rc=$?
	echo >release && wait && rm -f release held &&
	test $rc = 0 &&
	grep -F "the store is locked by another process (busy/LOCK)" err
'

test_expect_success 'two loads racing to create a store: each loads or names the lock' '
	for i in 1 2 3 4 5; do
		rm -rf race &&
		{ kg-load -q --store race base.nt 2>err1 & } &&
		{ kg-load -q --store race base.nt 2>err2; echo $? >rc2; } &&
		wait &&
		cat err1 err2 &&
		! grep -v "the store is locked by another process (race/LOCK)" err1 err2 &&
		kg-query --store race --dump | sort >out &&
		sort base.nt >expect &&
		test_cmp expect out || return 1
	done
'

test_done
