#!/bin/sh
# make bench: kg-parse and kg-load against serdi on the same N-Triples file, run
# in the same command by hyperfine, reported as ratios (higher is better for us).
#
# Input: $LING_BENCH_NT, or FB15k-237 with its labels converted from
# ../shared/data (387,042 triples, 60 MB), made once under build/bench/.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/bin
work=$root/build/bench
mkdir -p "$work"

nt=${LING_BENCH_NT:-$work/fb15k237.nt}
if [ ! -s "$nt" ]; then
	shared=$root/../shared
	if [ ! -d "$shared/data/fb15k-237" ]; then
		echo "bench: no input; set LING_BENCH_NT to an N-Triples file of 300k+ triples" >&2
		exit 1
	fi
	echo "bench: converting FB15k-237 with labels to $nt" >&2
	python3 "$shared/tools/fb15k237_to_nt.py" "$shared/data/fb15k-237/FB15k-237.tar.gz" \
		"$shared/data/fb15k-237/entity2wikidata.json" >"$nt.tmp" && mv "$nt.tmp" "$nt"
fi
for tool in serdi hyperfine; do
	command -v $tool >/dev/null || { echo "bench: $tool not found (make deps installs it)" >&2; exit 1; }
done

triples=$("$bin/kg-parse" -n "$nt" 2>&1 | sed -n 's/.*read \([0-9]*\),.*/\1/p')
bytes=$(wc -c <"$nt")
echo "input: $nt ($triples triples, $bytes bytes)"

csv=$work/bench.csv
hyperfine --warmup 1 --runs 5 --style basic --export-csv "$csv" \
	-n serdi "serdi -i ntriples -o ntriples '$nt' >/dev/null" \
	-n kg-parse-only "'$bin/kg-parse' -n -q '$nt'" \
	-n kg-parse-write "'$bin/kg-parse' -q '$nt' >/dev/null" \
	--prepare "rm -rf '$work/store'" \
	-n kg-load "'$bin/kg-load' -q --store '$work/store' '$nt'" >"$work/hyperfine.log" 2>&1 || {
	cat "$work/hyperfine.log" >&2
	exit 1
}

# Peak memory of each, from GNU time.
peak() {
	/usr/bin/time -f %M sh -c "$1" 2>&1 >/dev/null | tail -1
}
rm -rf "$work/store"
mem_load=$(peak "'$bin/kg-load' -q --store '$work/store' '$nt'")
mem_parse=$(peak "'$bin/kg-parse' -n -q '$nt'")
mem_serdi=$(peak "serdi -i ntriples -o ntriples '$nt'")

awk -F, -v triples="$triples" -v ml="$mem_load" -v mp="$mem_parse" -v ms="$mem_serdi" '
NR > 1 { gsub(/"/, ""); mean[$1] = $2; median[$1] = $4 }
END {
	s = median["serdi"]
	printf "%-16s %9s %12s %12s\n", "command", "median s", "triples/s", "vs serdi"
	n = split("serdi kg-parse-only kg-parse-write kg-load", names, " ")
	for (i = 1; i <= n; i++) {
		c = names[i]
		printf "%-16s %9.3f %12.0f %11.2fx\n", c, median[c], triples / median[c], s / median[c]
	}
	printf "peak memory: kg-load %.0f MiB, kg-parse %.0f MiB, serdi %.0f MiB\n", ml / 1024, mp / 1024, ms / 1024
	printf "goals: parse-only >= 1.5x serdi: %s; full load >= 0.5x serdi: %s\n",
		(s / median["kg-parse-only"] >= 1.5 ? "met" : "NOT met"), (s / median["kg-load"] >= 0.5 ? "met" : "NOT met")
}' "$csv"
