#!/bin/sh
test_description='dedup: a failed downstream, a closed or full output, an output that is an input, a foreign --out or a locked state lose nothing'
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || test_skip_all 'no python3 for the corpus generator'

TOK=$LING_DATA/tokenizers/qwen3.tokenizer.json.zst

# documents DIR: the number of documents in the dataset DIR.
documents() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]+"/manifest.json"))["documents"])' "$1"
}

test_expect_success 'setup: 3000 distinct records' '
	python3 "$LING_ROOT/tests/tools/gen-dedup-corpus.py" corpus --docs 3000 --words 20 \
		--dups 0 --near 0 --seed 1 t1.jsonl 2>/dev/null &&
	test $(wc -l <t1.jsonl) = 3000
'

test_expect_success 'a record with a repeated key, which tokenize rejects, is rejected by dedup too' '
	{ cat t1.jsonl && echo "{\"text\":\"a\",\"text\":\"b\"}"; } >dupkey &&
	test_must_fail_with 1 dedup --state S0 dupkey >out 2>err &&
	grep "^dedup: dupkey:3001:[0-9]*: bad JSON: duplicate object key" err &&
	dedup --state S1 -e 1 dupkey >out 2>err &&
	test_cmp t1.jsonl out
'

test_expect_success 'a downstream that rejects a record: the rerun gets every record again' '
	{ cat t1.jsonl && echo "{\"messages\":\"not a list\"}"; } >n &&
	dedup --state S n 2>err | test_must_fail_with 1 tokenize build -t "$TOK" -o D 2>tok.err &&
	grep "messages: not an array" tok.err &&
	head -3000 n | dedup --state S 2>err | tokenize build -t "$TOK" -o D -e 1 2>tok.err &&
	grep "^dedup: wrote again 3001 records of earlier runs" err &&
	test $(documents D) = 3000 &&
	dedup -q --state S --confirm &&
	head -3000 n | dedup --state S >again 2>/dev/null &&
	test ! -s again
'

test_expect_success 'a downstream killed or failing after reading it all: the rerun writes every record again' '
	dedup --state S2 t1.jsonl 2>/dev/null | (cat >/dev/null; exit 1) || : &&
	dedup --state S2 t1.jsonl >out 2>/dev/null &&
	test_cmp t1.jsonl out &&
	dedup --state S3 t1.jsonl 2>/dev/null | head -c 1000 >/dev/null &&
	dedup --state S3 t1.jsonl >out 2>/dev/null &&
	test_cmp t1.jsonl out
'

test_expect_success '--out never deletes segments it did not write (the state was removed)' '
	dedup --state A --out O t1.jsonl 2>/dev/null &&
	rm -rf A &&
	cp O/part-00000000.jsonl seg.before &&
	echo "{\"text\":\"x\"}" >x.jsonl &&
	test_must_fail_with 1 dedup --state A --out O x.jsonl 2>err &&
	grep "^dedup: O: holds part-00000000.jsonl, which this state did not write (it knows 0 segments)" err &&
	test ! -e A &&
	test "$(ls O)" = part-00000000.jsonl &&
	test_cmp seg.before O/part-00000000.jsonl
'

test_expect_success '--out refuses segments numbered beyond those its state wrote' '
	dedup --state B --out P x.jsonl 2>/dev/null &&
	cp O/part-00000000.jsonl P/part-00000005.jsonl &&
	test_must_fail_with 1 dedup --state B --out P t1.jsonl 2>err &&
	grep "^dedup: P: holds part-00000005.jsonl, which this state did not write (it knows 1 segments)" err &&
	test_cmp seg.before P/part-00000005.jsonl
'

test_expect_success 'standard output closed: refused, nothing committed' '
	test_must_fail_with 2 dedup --state S4 t1.jsonl >&- 2>err &&
	grep "^dedup: standard output is closed$" err &&
	test ! -e S4 &&
	dedup --state S4 t1.jsonl >out 2>/dev/null &&
	test_cmp t1.jsonl out &&
	test_must_fail_with 2 dedup --state S4 <&- >/dev/null 2>err &&
	grep "^dedup: standard input is closed$" err
'

test_expect_success 'a full standard output: exit 1, says what failed, no "wrote", nothing lost' '
	test -w /dev/full || { echo "no /dev/full"; exit 0; }
	test_must_fail_with 1 dedup --state S5 t1.jsonl >/dev/full 2>err &&
	grep "^dedup: cannot write to stdout: No space left on device$" err &&
	grep "^dedup: failed (see above): read" err &&
	! grep wrote err &&
	dedup --state S5 t1.jsonl >out 2>/dev/null &&
	test_cmp t1.jsonl out
'

test_expect_success 'an output that is an input is refused before anything is written' '
	cp t1.jsonl in.jsonl &&
	test_must_fail_with 2 dedup --explain=in.jsonl in.jsonl >/dev/null 2>err &&
	grep "^dedup: --explain=in.jsonl is the input in.jsonl" err &&
	test_cmp t1.jsonl in.jsonl &&
	ln in.jsonl hard.jsonl &&
	test_must_fail_with 2 dedup --explain=hard.jsonl in.jsonl >/dev/null 2>err &&
	test_must_fail_with 2 dedup --explain=in.jsonl - <in.jsonl >/dev/null 2>err &&
	grep "standard input" err &&
	test_must_fail_with 2 dedup in.jsonl >>in.jsonl 2>err &&
	grep "^dedup: standard output is the input in.jsonl$" err &&
	test_cmp t1.jsonl in.jsonl &&
	mkdir segs && cp t1.jsonl segs/part-00000000.jsonl &&
	test_must_fail_with 2 dedup --state S6 --out segs segs/part-00000000.jsonl 2>err &&
	grep "^dedup: --out=segs holds the input segs/part-00000000.jsonl" err &&
	test ! -e S6 &&
	test_cmp t1.jsonl segs/part-00000000.jsonl
'

test_expect_success 'a state in use, or being made, by another dedup: the lock is named' '
	mkfifo fifo &&
	{ dedup --state L fifo >/dev/null 2>/dev/null & } &&
	i=0 && while ! test -e L/CURRENT && test $i -lt 100; do sleep 0.1; i=$((i + 1)); done &&
	test_must_fail_with 1 dedup --state L x.jsonl >/dev/null 2>err &&
	echo "{\"text\":\"y\"}" >fifo &&
	wait &&
	grep "^dedup: L: the state is locked by another dedup (L/LOCK)" err &&
	mkdir M && : >M/LOCK &&
	python3 -c "
import fcntl, subprocess, sys
f = open(\"M/LOCK\", \"r+\")
fcntl.lockf(f, fcntl.LOCK_EX)
sys.exit(subprocess.call([\"dedup\", \"--state\", \"M\", \"x.jsonl\"], stdout=subprocess.DEVNULL))
	" 2>err && rc=0 || rc=$?
	test $rc = 1 &&
	grep "^dedup: M: the state is locked by another dedup (M/LOCK)" err &&
	! grep "holds other files" err &&
	for i in 1 2 3 4 5 6 7 8 9 10; do
		rm -rf R &&
		{ dedup -q --state R x.jsonl >/dev/null 2>>race.err & } &&
		{ dedup -q --state R x.jsonl >/dev/null 2>>race.err || :; } &&
		wait || return 1
	done &&
	test_comment "10 races to make a state: $(grep -c locked race.err) lost on the lock" &&
	! grep -v "^dedup: R: the state is locked by another dedup (R/LOCK); wait for it to end$" race.err
'

# The disk-full test needs a small tmpfs: root, and mount allowed.
mkdir mnt 2>/dev/null
if mount -t tmpfs -o size=2m tmpfs mnt 2>/dev/null; then
	test_set_prereq TMPFS
else
	test_comment "skipping the disk-full tests: cannot mount a tmpfs (not root, or not allowed here)"
fi

# fill_up FILE: fills the tmpfs up with FILE.
fill_up() {
	head -c 8000000 /dev/zero >"$1" 2>/dev/null || :
}

test_expect_success TMPFS '--out on a full disk: exit 1, ENOSPC named, earlier segments and state intact, rerun equals a clean run' '
	head -1000 t1.jsonl >night1.jsonl &&
	tail -2000 t1.jsonl >night2.jsonl &&
	dedup --state full.st --out mnt/segs night1.jsonl 2>/dev/null &&
	cp mnt/segs/part-00000000.jsonl seg1 &&
	fill_up mnt/filler &&
	test_must_fail_with 1 dedup --state full.st --out mnt/segs night2.jsonl 2>err &&
	grep "^dedup: mnt/segs/part-00000001.jsonl.tmp: write error: No space left on device$" err &&
	! grep wrote err &&
	test "$(ls mnt/segs)" = part-00000000.jsonl &&
	test_cmp seg1 mnt/segs/part-00000000.jsonl &&
	dedup --state full.st --stats --dry-run night1.jsonl >/dev/null 2>stats &&
	grep "records in the state 1000$" stats &&
	rm mnt/filler &&
	dedup --state full.st --out mnt/segs night2.jsonl 2>/dev/null &&
	cat mnt/segs/part-* >all &&
	test_cmp t1.jsonl all
'

test_expect_success TMPFS 'the state on a full disk (small and large commits): exit 1, nothing lost, rerun equals a clean run' '
	rm -rf mnt/* &&
	mount -o remount,size=4m mnt &&
	for every in 100 100000; do
		rm -rf mnt/st mnt/filler &&
		dedup --state mnt/st night1.jsonl >out1 2>/dev/null &&
		dedup -q --state mnt/st --confirm &&
		fill_up mnt/filler &&
		test_must_fail_with 1 dedup --state mnt/st --commit-every $every night2.jsonl >/dev/null 2>err &&
		grep "No space left on device" err &&
		! grep wrote err &&
		rm mnt/filler &&
		dedup --state mnt/st --commit-every $every night2.jsonl >out2 2>/dev/null &&
		cat out1 out2 >all &&
		test_cmp t1.jsonl all || return 1
	done
'

test_have_prereq TMPFS && umount mnt

test_done
