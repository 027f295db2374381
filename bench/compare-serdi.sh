#!/bin/sh
# The full-size version of tests/t1200: load the real KGs from ../shared/data
# and compare `kg-query --dump` with serdi's parse of the same file, sorted.
# Blank nodes: none of these files has any, so lines compare exactly.
#
#   sh bench/compare-serdi.sh          # FB15k-237 with labels, DBpedia ontology (Turtle and RDF/XML)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/bin
shared=${LING_SHARED:-$root/../shared}
work=$root/build/compare
rm -rf "$work"
mkdir -p "$work"
status=0

# compare NAME FILE FORMAT SERDI_FORMAT
compare() {
	name=$1 file=$2 format=$3 serdi_format=$4
	"$bin/kg-load" -q --store "$work/$name" --format "$format" "$file"
	"$bin/kg-query" --store "$work/$name" --dump | sort >"$work/$name.ours"
	# serdi escapes non-ASCII as \u; kg-parse writes the same N-Triples form as our dump.
	serdi -i "$serdi_format" -o ntriples "$file" | "$bin/kg-parse" -q --format ntriples - | sort >"$work/$name.serdi"
	if cmp -s "$work/$name.ours" "$work/$name.serdi"; then
		echo "$name: equal, $(wc -l <"$work/$name.ours") quads"
	else
		echo "$name: DIFFERENT (diff $work/$name.serdi $work/$name.ours)"
		status=1
	fi
}

nt=$root/build/bench/fb15k237.nt
if [ ! -s "$nt" ]; then
	mkdir -p "$root/build/bench"
	python3 "$shared/tools/fb15k237_to_nt.py" "$shared/data/fb15k-237/FB15k-237.tar.gz" \
		"$shared/data/fb15k-237/entity2wikidata.json" >"$nt"
fi
compare fb15k237 "$nt" ntriples ntriples
compare dbpedia-ttl "$shared/data/dbpedia-ontology/dbo-snapshots.ttl" turtle turtle
# serdi has no RDF/XML reader: the RDF/XML load must equal serdi's parse of the Turtle.
"$bin/kg-load" -q --store "$work/dbpedia-xml" "$shared/data/dbpedia-ontology/dbo-snapshots.owl"
"$bin/kg-query" --store "$work/dbpedia-xml" --dump | sort >"$work/dbpedia-xml.ours"
if cmp -s "$work/dbpedia-xml.ours" "$work/dbpedia-ttl.serdi"; then
	echo "dbpedia-xml: equal to serdi's parse of the Turtle, $(wc -l <"$work/dbpedia-xml.ours") quads"
else
	echo "dbpedia-xml: DIFFERENT"
	status=1
fi
exit $status
