#!/bin/sh
test_description='kg-parse passes the W3C RDF 1.1 N-Triples, N-Quads, Turtle and RDF/XML suites

Each suite lists its tests in tests/data/w3c/<suite>/tests.tsv. positive: kg-parse
exits 0. negative: it exits 1 with a "kg-parse: FILE:LINE[:COL]: message" error.
eval: its output is isomorphic (rdfiso) to the expected N-Triples. One TAP test per
suite and category; the failing tests are listed as comments. LING_W3C_SUITES
picks suites (default: all four).'
. "$(dirname "$0")/lib.sh"

W3C=$LING_DATA/w3c
# The manifests' mf:assumedTestBase; relative IRIs in the inputs resolve against it.
W3C_BASE=https://w3c.github.io/rdf-tests/rdf/rdf11
TAB=$(printf '\t')

if command -v rdfiso >/dev/null 2>&1; then
	test_set_prereq RDFISO
fi

suite_format() {
	case $1 in
	rdf-n-triples) echo ntriples ;;
	rdf-n-quads) echo nquads ;;
	rdf-turtle) echo turtle ;;
	rdf-xml) echo rdfxml ;;
	*) echo "t1100: unknown suite $1" >&2; return 1 ;;
	esac
}

# why MESSAGE: its first line (messages may quote a newline from the input).
why() { printf '%s\n' "$*" | head -n 1; }

# run_one SUITE FORMAT TYPE ACTION RESULT: exit 0 when kg-parse passes the test,
# else print why (one line) on stdout.
run_one() {
	file=$W3C/$1/$4 expected=$W3C/$1/$5 kind=$3
	set -- kg-parse -q --format "$2" --base "$W3C_BASE/$1/$4"
	case $kind in
	positive)
		"$@" -- "$file" >out 2>err
		rc=$?
		[ $rc -ne 0 ] || return 0
		why "exit $rc: $(head -n 1 err)" ;;
	negative)
		"$@" -- "$file" >out 2>err
		rc=$?
		if [ $rc -ne 1 ]; then
			why "exit $rc, want 1: $(head -n 1 err)"
		elif ! grep -Eq '^kg-parse: .+:[0-9]+(:[0-9]+)?: .' err; then
			why "no 'kg-parse: FILE:LINE:COL: message' on stderr: $(head -n 1 err)"
		else
			return 0
		fi ;;
	eval)
		"$@" -o ntriples -- "$file" >out.nt 2>err
		rc=$?
		if [ $rc -ne 0 ]; then
			why "exit $rc: $(head -n 1 err)"
		elif ! rdfiso out.nt "$expected" >diff 2>&1; then
			why "not isomorphic to the expected graph: $(grep -v '^--- \|^+++ ' diff | head -n 1)"
		else
			return 0
		fi ;;
	esac
	return 1
}

# run_suite SUITE: runs every test of the suite, listing the failures in
# SUITE.TYPE.fail as "ACTION: why".
run_suite() {
	format=$(suite_format "$1") || exit 1
	for type in positive negative eval; do
		: >"$1.$type.fail"
	done
	while IFS=$TAB read -r type action result; do
		if [ "$type" = eval ] && ! test_have_prereq RDFISO; then
			continue
		fi
		if ! why=$(run_one "$1" "$format" "$type" "$action" "$result"); then
			printf '%s: %s\n' "$action" "$why" >>"$1.$type.fail"
		fi
	done <"$W3C/$1/tests.tsv"
}

for suite in ${LING_W3C_SUITES:-rdf-n-triples rdf-n-quads rdf-turtle rdf-xml}; do
	run_suite "$suite"
	summary=
	for type in positive negative eval; do
		total=$(grep -c "^$type$TAB" "$W3C/$suite/tests.tsv")
		[ "$total" -gt 0 ] || continue
		if [ "$type" = eval ] && ! test_have_prereq RDFISO; then
			summary="$summary${summary:+, }eval not run (no rdfiso in LING_TEST_TOOLS)"
			test_expect_success RDFISO "${suite#rdf-} $type" :
			continue
		fi
		pass=$((total - $(wc -l <"$suite.$type.fail")))
		summary="$summary${summary:+, }$type $pass/$total"
		while IFS= read -r line; do
			test_comment "$suite $type FAIL $line"
		done <"$suite.$type.fail"
		test_expect_success "${suite#rdf-} $type: $pass/$total" \
			"cat $suite.$type.fail && test ! -s $suite.$type.fail"
	done
	test_comment "$suite: $summary"
	# Also on stderr, so that prove shows the counts without -v.
	echo "# $suite: $summary" >&2
done

test_done
