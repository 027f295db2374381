#!/bin/sh
test_description='kg-load keeps what the W3C RDF 1.1 suites say, through the store

Each positive and eval test of the N-Triples, N-Quads, Turtle and RDF/XML
suites (tests/data/w3c/<suite>/tests.tsv) is loaded by kg-load into a fresh
store and dumped by kg-query --dump. eval: the dump is isomorphic (rdfiso) to
the expected result. positive: to what kg-parse reads from the file (t1100
checks kg-parse itself). The store keeps terms as written, so nothing may
change on the way (no Unicode normalisation). LING_W3C_SUITES picks suites.'
. "$(dirname "$0")/lib.sh"

W3C=$LING_DATA/w3c
W3C_BASE=https://w3c.github.io/rdf-tests/rdf/rdf11
TAB=$(printf '\t')

command -v rdfiso >/dev/null 2>&1 ||
	test_skip_all "no rdfiso in LING_TEST_TOOLS (make tools-in-build builds it)"

suite_format() {
	case $1 in
	rdf-n-triples) echo ntriples ;;
	rdf-n-quads) echo nquads ;;
	rdf-turtle) echo turtle ;;
	rdf-xml) echo rdfxml ;;
	*) echo "t1110: unknown suite $1" >&2; return 1 ;;
	esac
}

# load_one SUITE FORMAT TYPE ACTION RESULT: exit 0 when the loaded and dumped
# graph is the expected one, else print why (one line) on stdout.
load_one() {
	file=$W3C/$1/$4 base=$W3C_BASE/$1/$4
	rm -rf store
	if ! kg-load -q --store store --format "$2" --base "$base" -- "$file" 2>err; then
		echo "kg-load failed: $(head -n 1 err)"
		return 1
	fi
	if ! kg-query --store store --dump >got.nq 2>err; then
		echo "kg-query --dump failed: $(head -n 1 err)"
		return 1
	fi
	if [ "$3" = eval ]; then
		want=$W3C/$1/$5
	else
		kg-parse -q --format "$2" --base "$base" -- "$file" >want.nq 2>err || {
			echo "kg-parse failed: $(head -n 1 err)"
			return 1
		}
		want=want.nq
	fi
	if ! rdfiso got.nq "$want" >diff 2>&1; then
		echo "not isomorphic: $(grep -v '^--- \|^+++ ' diff | head -n 1)"
		return 1
	fi
}

for suite in ${LING_W3C_SUITES:-rdf-n-triples rdf-n-quads rdf-turtle rdf-xml}; do
	format=$(suite_format "$suite") || exit 1
	for type in positive eval; do
		total=$(grep -c "^$type$TAB" "$W3C/$suite/tests.tsv")
		[ "$total" -gt 0 ] || continue
		: >"$suite.$type.fail"
		grep "^$type$TAB" "$W3C/$suite/tests.tsv" >"$suite.$type.list"
		while IFS=$TAB read -r t action result; do
			if ! why=$(load_one "$suite" "$format" "$t" "$action" "$result"); then
				printf '%s: %s\n' "$action" "$why" >>"$suite.$type.fail"
			fi
		done <"$suite.$type.list"
		pass=$((total - $(wc -l <"$suite.$type.fail")))
		while IFS= read -r line; do
			test_comment "$suite $type FAIL $line"
		done <"$suite.$type.fail"
		echo "# $suite $type through the store: $pass/$total" >&2
		test_expect_success "${suite#rdf-} $type loaded and dumped: $pass/$total" \
			"cat $suite.$type.fail && test ! -s $suite.$type.fail"
	done
done

test_expect_success 'an IRI with U+2FA1D is stored and dumped as written (not as U+2A600)' '
	grep -F "localName_with_assigned_nfc_PN_CHARS_BASE_character_boundaries" "$W3C/rdf-turtle/tests.tsv" &&
	printf "<http://ex.org/a\\\\U0002FA1D> <http://ex.org/p> \"x\" .\n" >nfc.nt &&
	kg-load --store nfc nfc.nt &&
	kg-query --store nfc --dump >out &&
	printf "<http://ex.org/a\360\257\250\235> <http://ex.org/p> \"x\" .\n" >expect &&
	test_cmp expect out &&
	kg-query --store nfc "<http://ex.org/a$(printf "\360\257\250\235")> ?p ?o" >out &&
	grep -F "\"p\":\"<http://ex.org/p>\"" out
'

test_done
