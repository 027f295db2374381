#!/bin/sh
# Regenerates tests/data/w3c/<suite>/tests.tsv from each suite's manifest.ttl:
# one line per test in manifest order, `type<TAB>action<TAB>result`, with type
# positive, negative or eval and the files relative to the suite directory.
# Needs rapper (raptor2-utils). The output is checked in; CI does not run this.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
w3c=$root/tests/data/w3c

for suite in rdf-n-triples rdf-n-quads rdf-turtle rdf-xml; do
	base=https://w3c.github.io/rdf-tests/rdf/rdf11/$suite/
	rapper -q -i turtle -o ntriples "$w3c/$suite/manifest.ttl" "${base}manifest.ttl" |
	awk -v base="$base" -v suite="$suite" '
	function iri(t) { return substr(t, 2, length(t) - 2) }
	function rel(t) {
		t = iri(t)
		if (index(t, base) != 1) { print suite ": not under the base: " t > "/dev/stderr"; exit 2 }
		return substr(t, length(base) + 1)
	}
	{
		s = $1; p = iri($2); o = $3
		if (p ~ /#entries$/) head = o
		else if (p ~ /#first$/) first[s] = o
		else if (p ~ /#rest$/) rest[s] = o
		else if (p ~ /#type$/ && o ~ /rdftest#/) type[s] = o
		else if (p ~ /test-manifest#action$/) action[s] = rel(o)
		else if (p ~ /test-manifest#result$/) result[s] = rel(o)
	}
	END {
		if (head == "") { print suite ": no mf:entries" > "/dev/stderr"; exit 2 }
		for (l = head; l != "<http://www.w3.org/1999/02/22-rdf-syntax-ns#nil>"; l = rest[l]) {
			t = first[l]
			if (type[t] ~ /NegativeSyntax>$/ || type[t] ~ /NegativeEval>$/) kind = "negative"
			else if (type[t] ~ /PositiveSyntax>$/) kind = "positive"
			else if (type[t] ~ /Eval>$/) kind = "eval"
			else { print suite ": " t ": unknown type " type[t] > "/dev/stderr"; exit 2 }
			if (!(t in action) || (kind == "eval") != (t in result)) {
				print suite ": " t ": missing action or result" > "/dev/stderr"; exit 2
			}
			printf "%s\t%s\t%s\n", kind, action[t], result[t]
		}
	}' >"$w3c/$suite/tests.tsv.tmp"
	mv "$w3c/$suite/tests.tsv.tmp" "$w3c/$suite/tests.tsv"
	printf '%s: %s tests\n' "$suite" "$(wc -l <"$w3c/$suite/tests.tsv")"
done
