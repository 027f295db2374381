#!/bin/sh
test_description='kg tools: a full, closed or vanished stdout is never a silent success

Output to /dev/full fails with exit 1 and an error, whether it fits the stdio
buffer or not. A reader that goes away (| head -1) ends the tool quietly with
the status of SIGPIPE (141), also when SIGPIPE is ignored. A closed stdout is
refused before any work.'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: a small and a large graph (one predicate per triple)' '
	printf "<http://e/s> <http://e/p> \"x\" .\n" >small.nt &&
	awk "BEGIN { for (i = 0; i < 20000; i++) printf \"<http://e/s%d> <http://e/p%d> \\\"value %d\\\" .\n\", i, i, i }" >big.nt &&
	test $(wc -c <big.nt) -gt 1000000 &&
	kg-load --store small small.nt &&
	kg-load --store big big.nt
'

# full_fails TOOL ARGS...: the tool writes to /dev/full, exits 1 and says why.
full_fails() {
	test_must_fail_with 1 "$@" >/dev/full 2>err &&
	cat err &&
	grep -F "$1: cannot write" err
}

# quiet_epipe TOOL ARGS...: with SIGPIPE ignored, | head -1 ends the tool with 141 and no message.
quiet_epipe() {
	(trap "" PIPE; "$@" 2>err; echo $? >rc) | head -n 1 >first &&
	test -s first &&
	echo 141 >expect && test_cmp expect rc &&
	test_cmp /dev/null err
}

test_expect_success 'kg-parse to /dev/full: small and over 64 KB, summary says it failed' '
	full_fails kg-parse small.nt &&
	grep -F "failed: cannot write to stdout" err &&
	full_fails kg-parse big.nt &&
	grep -F "failed: cannot write to stdout" err &&
	! grep "rejected 0$" err
'

test_expect_success 'kg-parse with SIGPIPE ignored, | head -1: quiet, 141' '
	kg-parse -q big.nt | head -n 1 >expect_first &&
	quiet_epipe kg-parse -q big.nt &&
	test_cmp expect_first first
'

test_expect_success 'kg-parse refuses a closed stdout (--count needs none)' '
	test_must_fail_with 2 kg-parse small.nt >&- 2>err &&
	grep "standard output is closed" err &&
	kg-parse --count small.nt >&-
'

test_expect_success 'kg-stat to /dev/full: small and over 64 KB, text and JSON' '
	full_fails kg-stat --store small &&
	full_fails kg-stat --store small --json &&
	kg-stat --store big --top 0 >all &&
	test $(wc -c <all) -gt 65536 &&
	full_fails kg-stat --store big --top 0 &&
	full_fails kg-stat --store big --top 0 --json
'

test_expect_success 'kg-stat with SIGPIPE ignored, | head -1: quiet, 141' '
	quiet_epipe kg-stat --store big --top 0
'

test_expect_success 'kg-query to /dev/full: patterns, dump, label, neighbours, tools' '
	full_fails kg-query --store small "?s ?p ?o" &&
	full_fails kg-query --store big "?s ?p ?o" &&
	full_fails kg-query --store big -o nt "?s ?p ?o" &&
	full_fails kg-query --store small --dump &&
	full_fails kg-query --store big --dump &&
	full_fails kg-query --store small --neighbours "<http://e/s>" &&
	full_fails kg-query --store small --tools --min-facts 1
'

test_expect_success 'kg-query with SIGPIPE ignored, | head -1: quiet, 141' '
	quiet_epipe kg-query --store big "?s ?p ?o" &&
	quiet_epipe kg-query --store big --dump
'

test_expect_success 'kg-query refuses a closed stdout' '
	test_must_fail_with 2 kg-query --store small --dump >&- 2>err &&
	grep "standard output is closed" err
'

test_expect_success '--help to /dev/full fails' '
	for tool in kg-parse kg-stat kg-query kg-load; do
		test_must_fail_with 1 $tool --help >/dev/full || return 1
	done
'

test_done
