#!/bin/sh
test_description='kg2samples: the exit status and the summary tell the work done (short runs, output paths, failed writes)'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: stores without labels, with a few labels, and the FB15k-237 subgraph' '
	cat >nolab.nt <<-\EOF &&
	<http://ex.org/a1> <http://ex.org/directed_by> <http://ex.org/p1> .
	<http://ex.org/a2> <http://ex.org/directed_by> <http://ex.org/p1> .
	<http://ex.org/a3> <http://ex.org/directed_by> <http://ex.org/p2> .
	<http://ex.org/a4> <http://ex.org/directed_by> <http://ex.org/p2> .
	EOF
	kg-load -q --store nolab nolab.nt &&
	cp nolab.nt part.nt &&
	cat >>part.nt <<-\EOF &&
	<http://ex.org/a1> <http://www.w3.org/2000/01/rdf-schema#label> "Alien" .
	<http://ex.org/p1> <http://www.w3.org/2000/01/rdf-schema#label> "Ridley Scott" .
	EOF
	kg-load -q --store part part.nt &&
	kg-load -q --store fb "$LING_DATA/fb15k237-subgraph.nt.zst" &&
	cp "$LING_DATA/templates-example.json" templ.json
'

# Short runs: fewer samples than asked is an error unless --allow-short.

test_expect_success 'a store without labels: wrote 0 of 10 asked, exit 1, with the reasons' '
	test_must_fail_with 1 kg2samples --store nolab --min-facts 1 --count 10 >out 2>err &&
	cat err &&
	test ! -s out &&
	grep "^kg2samples: wrote 0 of 10 asked, rejected [0-9]* (.*unnamed entity [1-9][0-9]*.*), gave up 10$" err &&
	grep "^kg2samples: 10 of 10 samples given up after 256 attempts each (.*--allow-short" err
'

test_expect_success 'a store with few labels: wrote N of 40 asked, N lines on stdout, exit 1' '
	test_must_fail_with 1 kg2samples --store part --min-facts 1 --count 40 >short.jsonl 2>err &&
	cat err &&
	n=$(wc -l <short.jsonl) &&
	test $n -gt 0 && test $n -lt 40 &&
	grep "^kg2samples: wrote $n of 40 asked (.*), rejected [0-9]* (.*), gave up $((40 - n))$" err &&
	grep "^kg2samples: $((40 - n)) of 40 samples given up" err
'

test_expect_success '--allow-short: the same run exits 0 with the same bytes and the same summary' '
	kg2samples --allow-short --store part --min-facts 1 --count 40 >allowed.jsonl 2>err2 &&
	cat err2 &&
	test_cmp short.jsonl allowed.jsonl &&
	n=$(wc -l <allowed.jsonl) &&
	grep "^kg2samples: wrote $n of 40 asked (" err2 &&
	! grep "given up after" err2
'

test_expect_success '-q: a short run has no summary but still says why it failed' '
	test_must_fail_with 1 kg2samples -q --store nolab --min-facts 1 --count 10 >out 2>err &&
	! grep "wrote" err &&
	grep "^kg2samples: 10 of 10 samples given up" err &&
	kg2samples -q --allow-short --store nolab --min-facts 1 --count 10 >out 2>err &&
	test ! -s err
'

test_expect_success 'a complete run: exit 0, the summary unchanged (no "of N asked")' '
	kg2samples --store fb --count 20 --seed 2 >out 2>err &&
	test $(wc -l <out) = 20 &&
	grep "^kg2samples: wrote 20 (" err &&
	! grep "asked\|given up" err &&
	kg2samples --store nolab --min-facts 1 --count 0 >out 2>err &&
	test ! -s out &&
	grep "^kg2samples: wrote 0, rejected 0$" err
'

test_expect_success 'shards and threads: each shard is judged on its own share of --count' '
	test_must_fail_with 1 kg2samples --store nolab --min-facts 1 --count 10 --shard 1/3 >out 2>err &&
	grep "^kg2samples: wrote 0 of 3 asked, .*gave up 3$" err &&
	test_must_fail_with 1 kg2samples --store nolab --min-facts 1 --count 10 --shard 2/3 -j 3 >out 2>err &&
	grep "^kg2samples: wrote 0 of 4 asked, .*gave up 4$" err &&
	kg2samples --store nolab --min-facts 1 --count 2 --shard 0/3 -j 2 >out 2>err &&
	grep "^kg2samples: wrote 0, rejected 0$" err &&
	kg2samples --store fb --count 30 --shard 1/3 -j 2 >out 2>err &&
	test $(wc -l <out) = 10 &&
	grep "^kg2samples: wrote 10 (" err &&
	test_must_fail_with 1 kg2samples --store part --min-facts 1 --count 40 --shard 2/3 -j 4 >s2.jsonl 2>err &&
	n=$(wc -l <s2.jsonl) &&
	grep "^kg2samples: wrote $n of 14 asked (" err &&
	tail -n $n short.jsonl >expect &&
	test_cmp expect s2.jsonl
'

# Output paths: --bfcl-answers and standard output must not name an input or each other.

test_expect_success '--bfcl-answers naming standard output is refused (exit 2), the file untouched' '
	echo old >X &&
	cp X expect &&
	test_must_fail_with 2 kg2samples --store fb --count 5 --format bfcl --bfcl-answers X >>X 2>err &&
	cat err &&
	grep "^kg2samples: --bfcl-answers X is standard output" err &&
	test_cmp expect X &&
	ln -s X link && ln X hard &&
	test_must_fail_with 2 kg2samples --store fb --count 5 --format bfcl --bfcl-answers link >>X 2>err &&
	test_must_fail_with 2 kg2samples --store fb --count 5 --format bfcl --bfcl-answers ./hard >>X 2>err &&
	test_cmp expect X &&
	ls >files &&
	! grep tmp files
'

test_expect_success '--bfcl-answers naming an input (the store, a file in it, a template file) is refused' '
	cp fb/CURRENT current.before &&
	test_must_fail_with 2 kg2samples --store fb --count 5 --format bfcl --bfcl-answers fb >out 2>err &&
	cat err && test ! -s out &&
	grep "^kg2samples: --bfcl-answers fb is the store" err &&
	test_must_fail_with 2 kg2samples --store fb --count 5 --format bfcl --bfcl-answers fb/CURRENT >out 2>err &&
	cat err && test ! -s out &&
	grep "^kg2samples: --bfcl-answers fb/CURRENT is in the store" err &&
	test_must_fail_with 2 kg2samples --store fb --count 5 --format bfcl --bfcl-answers fb/new.jsonl >out 2>err &&
	grep "^kg2samples: --bfcl-answers fb/new.jsonl is in the store" err &&
	test_cmp current.before fb/CURRENT &&
	test ! -e fb/new.jsonl &&
	cp templ.json templ.before &&
	test_must_fail_with 2 kg2samples --store fb --count 5 -t templ.json --format bfcl --bfcl-answers templ.json \
		>out 2>err &&
	cat err && test ! -s out &&
	grep "^kg2samples: --bfcl-answers templ.json is the template file templ.json" err &&
	test_cmp templ.before templ.json
'

test_expect_success 'standard output naming an input (a template file, a file of the store) is refused' '
	test_must_fail_with 2 kg2samples --store fb --count 5 -t templ.json >>templ.json 2>err &&
	cat err &&
	grep "^kg2samples: standard output is the template file templ.json" err &&
	test_cmp templ.before templ.json &&
	cp fb/LOG log.before &&
	test_must_fail_with 2 kg2samples --store fb --count 5 >>fb/LOG 2>err &&
	cat err &&
	grep "^kg2samples: standard output is a file in the store fb" err &&
	test_cmp log.before fb/LOG &&
	: a device is no file to overwrite: /dev/null read as a template, the samples to /dev/null &&
	test_must_fail_with 1 kg2samples --store fb --count 5 -t /dev/null >/dev/null 2>err &&
	grep "^kg2samples: /dev/null:1: " err
'

test_expect_success '--bfcl-answers: a directory, or a path that cannot be created, fails before the run' '
	mkdir adir &&
	test_must_fail_with 2 kg2samples --store fb --count 5 --format bfcl --bfcl-answers adir >out 2>err &&
	cat err && test ! -s out &&
	grep "^kg2samples: --bfcl-answers adir is a directory" err &&
	test_must_fail_with 1 kg2samples --store fb --count 5 --format bfcl --bfcl-answers nodir/gt >out 2>err &&
	cat err && test ! -s out &&
	grep "^kg2samples: nodir/gt: cannot create .*No such file or directory" err &&
	! grep "wrote" err &&
	test_must_fail_with 2 kg2samples --store fb --count 5 --format bfcl --bfcl-answers /dev/null >out 2>err &&
	cat err && test ! -s out &&
	grep "^kg2samples: --bfcl-answers /dev/null is not a regular file" err &&
	test_must_fail_with 2 kg2samples --store fb --count 5 --format bfcl --bfcl-answers /dev/null >/dev/null 2>err &&
	grep "^kg2samples: --bfcl-answers /dev/null is not a regular file" err &&
	test -c /dev/null
'

# Standard output: checked writes, no success summary after a failed one.

test_expect_success '>/dev/full: exit 1, the error, and no success summary (small and large output)' '
	for n in 3 300
	do
		test_must_fail_with 1 kg2samples --store fb --count $n >/dev/full 2>err &&
		cat err &&
		grep "^kg2samples: cannot write to stdout: No space left on device$" err &&
		! grep "^kg2samples: wrote" err &&
		grep "^kg2samples: failed: the output is incomplete (made [0-9]* of $n asked" err || exit 1
	done &&
	test_must_fail_with 1 kg2samples -q -j 2 --store fb --count 300 >/dev/full 2>err &&
	test $(wc -l <err) = 1 &&
	grep "^kg2samples: cannot write to stdout: No space left on device$" err &&
	test_must_fail_with 1 kg2samples -q --stats --store fb --count 300 >/dev/full 2>err &&
	grep "^kg2samples: stats: [0-9]* entities" err &&
	! grep "samples/s" err
'

test_expect_success '>/dev/full with --format bfcl: the answers file is not written' '
	echo old >gt &&
	test_must_fail_with 1 kg2samples --store fb --count 5 --format bfcl --bfcl-answers gt >/dev/full 2>err &&
	echo old >expect &&
	test_cmp expect gt &&
	ls >files &&
	! grep tmp files
'

# A full disk: a small tmpfs, when the test may mount one (root).
mkdir tmpfs-probe &&
test "$(id -u)" = 0 && mount -t tmpfs -o size=64k tmpfs tmpfs-probe 2>/dev/null && umount tmpfs-probe &&
	test_set_prereq TMPFS

test_expect_success TMPFS 'a full disk: exit 1, the old answers kept, nothing left behind; a rerun with room is a clean run' '
	kg2samples -q --store fb --count 300 --format bfcl --bfcl-answers clean-gt >clean.jsonl &&
	mkdir mnt &&
	mount -t tmpfs -o size=64k tmpfs mnt &&
	(
		echo old >mnt/gt &&
		test_must_fail_with 1 kg2samples --store fb --count 1000 --format bfcl --bfcl-answers mnt/gt \
			>q.jsonl 2>err &&
		cat err &&
		grep "^kg2samples: mnt/gt: write error: No space left on device$" err &&
		grep "^kg2samples: failed: the output is incomplete (made 1000 of 1000 asked)" err &&
		! grep "wrote" err &&
		echo old >expect && test_cmp expect mnt/gt &&
		test "$(ls mnt)" = gt &&
		test_must_fail_with 1 kg2samples --store fb --count 300 >mnt/out.jsonl 2>err &&
		cat err &&
		grep "^kg2samples: cannot write to stdout: No space left on device$" err &&
		! grep "wrote" err &&
		mount -o remount,size=4m mnt &&
		kg2samples -q --store fb --count 300 --format bfcl --bfcl-answers mnt/gt >mnt/out.jsonl &&
		test_cmp clean.jsonl mnt/out.jsonl &&
		test_cmp clean-gt mnt/gt
	) && status=0 || status=$?
	umount mnt &&
	test $status = 0
'

test_expect_success 'a reader that goes away: a quiet exit 141, with SIGPIPE ignored too' '
	{ kg2samples --store fb --count 2000 2>err && echo 0 >rc || echo $? >rc; } | head -n 1 >first &&
	test "$(cat rc)" = 141 &&
	test ! -s err &&
	grep "^{\"id\":" first &&
	(
		trap "" PIPE &&
		{ kg2samples --store fb --count 2000 -j 2 2>err && echo 0 >rc || echo $? >rc; } |
			head -n 1 >first
	) &&
	test "$(cat rc)" = 141 &&
	test ! -s err &&
	grep "^{\"id\":" first
'

test_expect_success 'standard output closed: refused, exit 2, nothing written anywhere' '
	ls fb >before &&
	test_must_fail_with 2 kg2samples --store fb --count 5 >&- 2>err &&
	cat err &&
	grep "^kg2samples: standard output is closed" err &&
	! grep "wrote" err &&
	ls fb >after &&
	test_cmp before after &&
	test_must_fail_with 2 kg2samples --store fb --count 5 --format bfcl --bfcl-answers gt2 >&- 2>err &&
	test ! -e gt2
'

test_expect_success '--help and --version check their write too' '
	test_must_fail_with 1 kg2samples --help >/dev/full 2>err &&
	grep "^kg2samples: cannot write to stdout" err &&
	test_must_fail_with 1 kg2samples --version >/dev/full 2>err &&
	grep "^kg2samples: cannot write to stdout" err
'

test_done
