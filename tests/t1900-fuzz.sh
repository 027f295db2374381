#!/bin/sh
# Runs each parser fuzz target (tests/fuzz/fuzz_*.c, built by `make fuzz` into
# $LING_FUZZ) for a short time on a copy of its seed corpus, and fails when
# libFuzzer reports a crash, a leak, a timeout or an out-of-memory. Targets
# that were not built are skipped.
#
# LING_FUZZ_TIME sets the seconds per target (default 10). A failing run keeps
# the trash directory: <target>/fuzz.log has the report and <target>/artifacts/
# the input; copy it to tests/fuzz/crashes/ and reproduce with
# `build/fuzz/fuzz_<target> tests/fuzz/crashes/<file>`.
test_description='the parser fuzz targets find no crash in a short run'
. "$(dirname "$0")/lib.sh"

fuzz_time=${LING_FUZZ_TIME:-10}
# Every target in tests/fuzz/ runs: a new fuzz_NAME.c needs only its seed corpus in corpus/NAME.
targets=$(cd "$LING_ROOT/tests/fuzz" && for f in fuzz_*.c; do t=${f#fuzz_}; echo "${t%.c}"; done)
test_expect_success 'every fuzz target has a seed corpus' '
	for t in $targets; do
		test -d "$LING_ROOT/tests/fuzz/corpus/$t" ||
			{ echo "tests/fuzz/fuzz_$t.c has no seed corpus in tests/fuzz/corpus/$t"; return 1; }
	done
'

found=
for t in $targets; do
	if [ -x "$LING_FUZZ/fuzz_$t" ]; then
		test_set_prereq "FUZZ_$t"
		found=t
	fi
done
[ -n "$found" ] || test_skip_all "no fuzz targets in $LING_FUZZ (run make fuzz; it needs clang)"

# run_fuzzer TARGET: a fresh corpus copy, a bounded run, and no artifact left behind.
run_fuzzer() {
	dir=$PWD/$1
	rm -rf "$dir" && mkdir -p "$dir/corpus" "$dir/artifacts" &&
	cp "$LING_ROOT/tests/fuzz/corpus/$1"/* "$dir/corpus/" &&
	if ! "$LING_FUZZ/fuzz_$1" -max_total_time="$fuzz_time" -rss_limit_mb=2048 -timeout=30 \
		-artifact_prefix="$dir/artifacts/" -print_final_stats=1 "$dir/corpus" >"$dir/fuzz.log" 2>&1
	then
		echo "fuzz_$1 failed; the end of its log:"
		tail -n 80 "$dir/fuzz.log"
		ls -l "$dir/artifacts"
		return 1
	fi
	if [ -n "$(ls "$dir/artifacts")" ]; then
		echo "fuzz_$1 left artifacts:"
		ls -l "$dir/artifacts"
		return 1
	fi
	grep -E '^stat::number_of_executed_units' "$dir/fuzz.log" | sed 's/^/# /'
}

for t in $targets; do
	test_expect_success "FUZZ_$t" "fuzz_$t: ${fuzz_time}s on the seed corpus without a crash" "
		run_fuzzer $t
	"
done

# Inputs that once crashed a parser stay as regression tests: each must now run cleanly.
for t in $targets; do
	set -- "$LING_ROOT"/tests/fuzz/crashes/"$t"-*
	[ -e "$1" ] || continue
	test_expect_success "FUZZ_$t" "fuzz_$t: the saved crash inputs run cleanly" "
		\"\$LING_FUZZ/fuzz_$t\" -rss_limit_mb=2048 -timeout=30 \"\$LING_ROOT\"/tests/fuzz/crashes/$t-*
	"
done

test_done
