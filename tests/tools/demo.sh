#!/bin/sh
# make demo: load the embedded MetaQA movie KB and show what the store holds.
set -e
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$root/bin
work=${DEMO_DIR:-$root/build/demo}
rm -rf "$work"
mkdir -p "$work"
echo "== kg-load: MetaQA movie KB (data/metaqa-kb.txt.zst, CC BY 3.0)"
"$bin/kg-load" --store "$work/kg" --format tsv --delimiter '|' --tsv-labels "$root/data/metaqa-kb.txt.zst"
echo
echo "== kg-stat"
"$bin/kg-stat" --store "$work/kg" --top 10
echo
echo "== kg-query --label 'the matrix' (case-insensitive label lookup)"
"$bin/kg-query" --store "$work/kg" --label 'the matrix'
echo
echo "== kg-query '?film <directed_by> ?who' '?who rdfs:label \"Ridley Scott\"' (films by Ridley Scott)"
"$bin/kg-query" --store "$work/kg" --limit 5 '?film <directed_by> ?who' '?who rdfs:label "Ridley Scott"'
echo
echo "== kg-query --neighbours 'Blade Runner' --hops 1 --limit 8 -o nt"
"$bin/kg-query" --store "$work/kg" --neighbours 'Blade Runner' --hops 1 --limit 8 -o nt
