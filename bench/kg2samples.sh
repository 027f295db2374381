#!/bin/sh
# make bench: kg2samples on the full FB15k-237 (310,116 relation triples, English labels) from
# ../shared/data: verified samples per second per core, and peak memory.
#
# The store is made once under build/bench/kg2samples/. A run of --count 0 measures the start
# (opening the store, the tool catalogue, the snapshot); the rate is taken on the rest of the run,
# and also end to end. Goal (issue 3): >= 10,000 verified samples/s per core.
# LING_BENCH_SAMPLES sets the count (default 100000).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/bin
shared=${LING_SHARED:-$root/../shared}
work=$root/build/bench/kg2samples
count=${LING_BENCH_SAMPLES:-100000}

if [ ! -d "$shared/data/fb15k-237" ]; then
	echo "bench: kg2samples: skipped, no $shared/data/fb15k-237 (set LING_SHARED)" >&2
	exit 0
fi
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time not found (apt-get install time)" >&2; exit 1; }
mkdir -p "$work"

nt=$work/fb15k237.nt
if [ ! -s "$nt" ]; then
	python3 "$shared/tools/fb15k237_to_nt.py" "$shared/data/fb15k-237/FB15k-237.tar.gz" \
		"$shared/data/fb15k-237/entity2wikidata.json" >"$nt.tmp"
	mv "$nt.tmp" "$nt"
fi
store=$work/store
if [ ! -f "$store/CURRENT" ]; then
	rm -rf "$store"
	"$bin/kg-load" -q --store "$store" "$nt"
fi

# peak CMD...: "peak_kb wall_s user_s sys_s" of one run, its stdout thrown away, its stderr kept in $work/err
peak() {
	/usr/bin/time -o "$work/time" -f '%M %e %U %S' "$@" >/dev/null 2>"$work/err" || {
		cat "$work/err" >&2
		exit 1
	}
	cat "$work/time"
}

start=$(peak "$bin/kg2samples" -q --store "$store" --count 0)
run1=$(peak "$bin/kg2samples" --stats --store "$store" --count "$count" --seed 1 -j 1)
grep '^kg2samples: wrote' "$work/err"
grep '^kg2samples: stats: [0-9]* entities' "$work/err"
run2=$(peak "$bin/kg2samples" -q --store "$store" --count "$count" --seed 1 -j 2)
bytes=$("$bin/kg2samples" -q --store "$store" --count 1000 --seed 1 | wc -c)

python3 - "$count" "$start" "$run1" "$run2" "$bytes" <<'EOF'
import sys
count = int(sys.argv[1])
start, run1, run2 = ([float(x) for x in a.split()] for a in sys.argv[2:5])
per_sample = int(sys.argv[5]) / 1000
cpu = lambda r: r[2] + r[3]
gen1 = max(cpu(run1) - cpu(start), 1e-9)
print("%-28s %10s %10s %12s" % ("kg2samples (FB15k-237)", "wall s", "cpu s", "peak MiB"))
print("%-28s %10.2f %10.2f %12.1f" % ("start (--count 0)", start[1], cpu(start), start[0] / 1024))
print("%-28s %10.2f %10.2f %12.1f" % ("-j 1, %d samples" % count, run1[1], cpu(run1), run1[0] / 1024))
print("%-28s %10.2f %10.2f %12.1f" % ("-j 2, %d samples" % count, run2[1], cpu(run2), run2[0] / 1024))
print("verified samples/s/core: %.0f after the start, %.0f end to end (-j 1); -j 2: %.0f samples/s wall"
      % (count / gen1, count / cpu(run1), count / max(run2[1], 1e-9)))
print("output: %.1f KB per sample" % (per_sample / 1024))
print("goal: >= 10,000 verified samples/s/core: %s" % ("met" if count / gen1 >= 10000 else "NOT met"))
EOF
