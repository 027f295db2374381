#!/bin/sh
# tests/unit.t: runs every unit test binary in $LING_UNIT (default
# build/rel/tests/unit) and reports one TAP test per binary, with the binary's
# own TAP output as `# ` comments. A binary passes when it exits 0, prints its
# plan, runs as many tests as planned, and none fails (other than TODO ones).
# A failing binary's output is repeated on stderr, so that prove shows it.
root=$(cd "$(dirname "$0")/.." && pwd) || exit 1
unit=${LING_UNIT:-$root/build/rel/tests/unit}
LING_ROOT=$root
LING_DATA=$root/tests/data
# As in tests/lib.sh: a sanitizer report ends the binary by a signal.
ASAN_OPTIONS=abort_on_error=1:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}
UBSAN_OPTIONS=abort_on_error=1:halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}
export LING_ROOT LING_DATA ASAN_OPTIONS UBSAN_OPTIONS

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ling-unit.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

n=0 failed=0
for bin in "$unit"/test_*; do
	case $bin in *.o|*.d) continue ;; esac
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	name=${bin##*/}
	n=$((n + 1))
	# Each binary runs in its own empty directory, so stray files land nowhere.
	mkdir "$tmp/$name" && (cd "$tmp/$name" && exec "$bin") >"$tmp/$name.out" 2>&1 </dev/null
	rc=$?
	out=$tmp/$name.out
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$out" | head -n 1)
	ran=$(grep -Ec '^(not )?ok( |$)' "$out")
	bad=$(grep -E '^not ok( |$)' "$out" | grep -Evc '# *TODO')
	why=
	if [ $rc -ne 0 ]; then
		why="exit $rc"
		[ $rc -le 128 ] || why="killed by signal $((rc - 128)) (crash or sanitizer)"
	elif [ -z "$plan" ]; then
		why="no plan"
	elif [ "$bad" -gt 0 ]; then
		why="$bad failed"
	elif [ "$ran" -ne "$plan" ]; then
		why="ran $ran of $plan planned"
	fi
	sed 's/^/# /' "$out"
	if [ -n "$why" ]; then
		failed=$((failed + 1))
		printf 'not ok %d - %s: %s\n' $n "$name" "$why"
		{ printf '# %s: %s\n' "$name" "$why"; sed 's/^/#   /' "$out"; } >&2
	elif [ "$plan" -eq 0 ]; then
		printf 'ok %d # skip %s: %s\n' $n "$name" "$(sed -n 's/^1\.\.0 *# *[Ss][Kk][Ii][Pp] *//p' "$out" | head -n 1)"
	else
		printf 'ok %d - %s (%d tests)\n' $n "$name" "$plan"
	fi
done

if [ $n -eq 0 ]; then
	printf '1..0 # SKIP no unit test binaries in %s (make tools-in-build)\n' "$unit"
	exit 0
fi
printf '1..%d\n' $n
[ $failed -eq 0 ]
