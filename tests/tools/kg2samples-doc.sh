#!/bin/sh
# make doc-samples: regenerate doc/kg2samples.md from the full FB15k-237 (needs ../shared/data).
set -e
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=$root/../shared
work=$root/build/doc-samples
if ! test -r "$shared/data/fb15k-237/FB15k-237.tar.gz"; then
	echo "doc-samples: $shared/data/fb15k-237 is missing; nothing regenerated" >&2
	exit 0
fi
mkdir -p "$work"
if ! test -d "$work/fb15k237"; then
	python3 "$shared/tools/fb15k237_to_nt.py" "$shared/data/fb15k-237/FB15k-237.tar.gz" \
		"$shared/data/fb15k-237/entity2wikidata.json" >"$work/fb15k237.nt"
	"$root/bin/kg-load" --store "$work/fb15k237" "$work/fb15k237.nt"
	rm -f "$work/fb15k237.nt"
fi
cmd="kg2samples --store fb15k237 --seed 2026 --count 1000"
"$root/bin/kg2samples" --store "$work/fb15k237" --seed 2026 --count 1000 >"$work/samples.jsonl"
"$root/bin/kg-query" --store "$work/fb15k237" --dump >"$work/fb15k237.nq"
python3 "$root/tests/tools/check-samples.py" --kg-query "$root/bin/kg-query" --store "$work/fb15k237" \
	--dump "$work/fb15k237.nq" "$work/samples.jsonl" >&2
python3 "$root/tests/tools/kg2samples_doc.py" "$work/samples.jsonl" "$cmd" >"$root/doc/kg2samples.md.tmp"
mv "$root/doc/kg2samples.md.tmp" "$root/doc/kg2samples.md"
echo "doc-samples: wrote doc/kg2samples.md" >&2
