# tests/lib.sh: a small git-style test library that prints TAP for prove.
#
# A test script is tests/tNNNN-<tool>-<what>.sh:
#
#	#!/bin/sh
#	test_description='kg-parse reads N-Triples'
#	. "$(dirname "$0")/lib.sh"
#	test_expect_success 'one triple' '
#		echo "<a:s> <a:p> <a:o> ." >in.nt &&
#		kg-parse -q in.nt >out &&
#		test_cmp in.nt out
#	'
#	test_done
#
# Each body runs by eval in a subshell under `set -e`, inside a fresh trash
# directory (the script's cwd), with stdout and stderr going to a log that is
# shown (on stderr, as `# ` lines) when the test fails, and after every test
# with -v. Do not call test_expect_* where its status is tested (`if`, `||`):
# the shell turns `set -e` off there.
#
# Environment: LING_BIN (the tools under test, default $LING_ROOT/bin),
# LING_TEST_TOOLS (built tests/tools/*.c), LING_UNIT, LING_FUZZ, both put on
# PATH with LING_BIN first. Sets LING_ROOT and LING_DATA. Options: -v
# (verbose), -d (keep the trash directory), -i (stop at the first failure).

LING_ROOT=$(cd "$(dirname "$0")/.." && pwd) || exit 1
LING_DATA=$LING_ROOT/tests/data
: "${LING_BIN:=$LING_ROOT/bin}" "${LING_TEST_TOOLS:=$LING_ROOT/build/rel/tests/tools}"
: "${LING_UNIT:=$LING_ROOT/build/rel/tests/unit}" "${LING_FUZZ:=$LING_ROOT/build/fuzz}"
PATH=$LING_BIN:$LING_TEST_TOOLS:$PATH
# A sanitizer report must end the program by a signal, so that test_must_fail
# never mistakes it for an ordinary exit 1. Later (the caller's) options win.
ASAN_OPTIONS=abort_on_error=1:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}
UBSAN_OPTIONS=abort_on_error=1:halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}
LC_ALL=C
export LING_ROOT LING_DATA LING_BIN LING_TEST_TOOLS LING_UNIT LING_FUZZ PATH ASAN_OPTIONS UBSAN_OPTIONS LC_ALL

test_verbose=${LING_TEST_VERBOSE:-}
test_debug= test_immediate=
for arg; do
	case $arg in
	-v|--verbose) test_verbose=t ;;
	-d|--debug) test_debug=t ;;
	-i|--immediate) test_immediate=t ;;
	*) echo "lib.sh: unknown option $arg" >&2; exit 2 ;;
	esac
done

test_name=$(basename "$0" .sh)
test_count=0 test_failed=0 test_prereqs=" "
TRASH_DIRECTORY=$(mktemp -d "${TMPDIR:-/tmp}/ling-$test_name.XXXXXX") || exit 1
test_log=$TRASH_DIRECTORY.log
cd "$TRASH_DIRECTORY" || exit 1
# Bodies may write `# ` comments to the TAP stream with test_comment (fd 3).
exec 3>&1

test_description() { test_description=$*; }
test_comment() { printf '# %s\n' "$@" >&3; }
test_set_prereq() { test_prereqs="$test_prereqs$1 "; }

# test_have_prereq A,B,!C: true when A and B are set and C is not.
test_have_prereq() {
	for p in $(printf '%s' "$1" | tr ',' ' '); do
		case $p in
		!*) case $test_prereqs in *" ${p#!} "*) return 1 ;; esac ;;
		*) case $test_prereqs in *" $p "*) ;; *) return 1 ;; esac ;;
		esac
	done
	return 0
}

# Prints the log as TAP diagnostics: to stdout when verbose, to stderr on failure.
test_show_log() {
	[ -s "$test_log" ] && sed 's/^/#    /' "$test_log"
	return 0
}

# test_run_ EXPECT NAME BODY [PREREQ]: EXPECT is success or failure.
test_run_() {
	test_count=$((test_count + 1))
	if [ -n "$4" ] && ! test_have_prereq "$4"; then
		printf 'ok %d # skip %s (missing %s)\n' $test_count "$2" "$4"
		return 0
	fi
	(set -e; eval "$3") >"$test_log" 2>&1 </dev/null
	test_rc=$?
	if [ "$1" = failure ]; then
		if [ $test_rc -eq 0 ]; then
			printf 'ok %d - %s # TODO known breakage vanished\n' $test_count "$2"
		else
			printf 'not ok %d - %s # TODO known breakage\n' $test_count "$2"
		fi
	elif [ $test_rc -eq 0 ]; then
		printf 'ok %d - %s\n' $test_count "$2"
	else
		test_failed=$((test_failed + 1))
		printf 'not ok %d - %s\n' $test_count "$2"
		{ printf '#    %s\n' "failed test $test_count ($2), exit $test_rc:" "$3"; test_show_log; } >&2
		[ -z "$test_immediate" ] || test_done
		return 0
	fi
	[ -z "$test_verbose" ] || test_show_log
}

test_expect_success() {
	if [ $# -eq 3 ]; then test_run_ success "$2" "$3" "$1"; else test_run_ success "$1" "$2" ""; fi
}
test_expect_failure() {
	if [ $# -eq 3 ]; then test_run_ failure "$2" "$3" "$1"; else test_run_ failure "$1" "$2" ""; fi
}

# test_must_fail_with CODE CMD...: CMD must exit with CODE (1 to 125).
test_must_fail_with() {
	want=$1; shift
	"$@" && rc=0 || rc=$?
	case $rc in
	0) printf 'test_must_fail: command succeeded: %s\n' "$*" >&2; return 1 ;;
	126|127) printf 'test_must_fail: command not found or not runnable: %s\n' "$*" >&2; return 1 ;;
	esac
	if [ $rc -gt 127 ]; then
		printf 'test_must_fail: died by signal %d (crash or sanitizer): %s\n' $((rc - 128)) "$*" >&2
		return 1
	fi
	if [ "$want" != any ] && [ $rc -ne "$want" ]; then
		printf 'test_must_fail: exit %d, want %s: %s\n' $rc "$want" "$*" >&2
		return 1
	fi
	return 0
}

# test_must_fail CMD...: CMD must fail cleanly (exit 1 to 125, not a crash).
test_must_fail() { test_must_fail_with any "$@"; }

# test_cmp EXPECTED ACTUAL: the files must be equal; the diff goes to the log.
test_cmp() { diff -u "$1" "$2"; }

# test_skip_all REASON: the whole script is skipped (call it before any test).
test_skip_all() {
	printf '1..0 # SKIP %s\n' "$*"
	cd / && rm -rf "$TRASH_DIRECTORY" "$test_log"
	exit 0
}

test_done() {
	echo "1..$test_count"
	cd / || exit 1
	if [ $test_failed -gt 0 ]; then
		echo "# failed $test_failed among $test_count test(s); trash kept in $TRASH_DIRECTORY" >&2
		exit 1
	fi
	if [ -n "$test_debug" ]; then
		echo "# trash kept in $TRASH_DIRECTORY"
	else
		rm -rf "$TRASH_DIRECTORY" "$test_log"
	fi
	exit 0
}
