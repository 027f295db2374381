#!/bin/sh
# bench/bfcl.sh [COUNT]: bfcl-eval's own loader and AST checker over the ground truths of
# `kg2samples --format bfcl --bfcl-dir` (bench/bfcl_check.py), on three stores: the MetaQA KB
# (data/metaqa-kb.txt.zst with tests/data/metaqa-schema.ttl, as tests/tools/demo.sh loads it),
# FB15k-237 ($LING_FB15K237_NT, else converted from ../shared/data when it is there, else the
# tests/data/fb15k237-subgraph.nt.zst slice) and the typed literals of tests/data/literals.ttl.
# Not part of make check: bfcl-eval (pip) pulls large dependencies; it goes into its own venv,
# build/bfcl/venv. COUNT samples per store (default 2000), seed 7. Exit 1 unless 100% pass.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/bin
work=$root/build/bfcl
count=${1:-2000}
venv=$work/venv
mkdir -p "$work"

# qwen_agent, which bfcl-eval's model table imports, needs soundfile without declaring it
if ! "$venv/bin/python" -c 'import bfcl_eval, soundfile' 2>/dev/null; then
	echo "bfcl: installing bfcl-eval into $venv (large: torch, sentence-transformers, ...)" >&2
	[ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
	"$venv/bin/pip" install -q --disable-pip-version-check bfcl-eval soundfile
fi
echo "bfcl-eval $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("bfcl-eval"))')"

store() { # store NAME LOAD-ARGS...: a fresh store work/NAME
	name=$1
	shift
	rm -rf "$work/$name"
	"$bin/kg-load" -q --store "$work/$name" "$@"
}

store metaqa --format tsv --delimiter '|' --tsv-labels "$root/data/metaqa-kb.txt.zst"
"$bin/kg-load" -q --store "$work/metaqa" "$root/tests/data/metaqa-schema.ttl"

nt=${LING_FB15K237_NT:-$work/fb15k237.nt}
shared=$root/../shared
if [ ! -s "$nt" ] && [ -d "$shared/data/fb15k-237" ]; then
	echo "bfcl: converting FB15k-237 with labels to $nt" >&2
	python3 "$shared/tools/fb15k237_to_nt.py" "$shared/data/fb15k-237/FB15k-237.tar.gz" \
		"$shared/data/fb15k-237/entity2wikidata.json" >"$nt.tmp" && mv "$nt.tmp" "$nt"
fi
[ -s "$nt" ] || nt=$root/tests/data/fb15k237-subgraph.nt.zst
echo "FB15k-237: $nt"
store fb15k237 "$nt"
store literals "$root/tests/data/literals.ttl"

status=0
for name in metaqa fb15k237 literals; do
	rm -rf "$work/$name.bfcl"
	"$bin/kg2samples" --store "$work/$name" --seed 7 --count "$count" --allow-short \
		--format bfcl --bfcl-dir "$work/$name.bfcl"
	(cd "$work" && "$venv/bin/python" "$root/bench/bfcl_check.py" "$name.bfcl") || status=1
done
exit $status
