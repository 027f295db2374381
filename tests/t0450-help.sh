#!/bin/sh
test_description='every tool: --help, --version, unknown options; doc/TOOL.1.md matches --help (git t0450)'
. "$(dirname "$0")/lib.sh"

TOOLS='kg-load kg-query kg-stat kg-parse kg2samples dedup tokenize ling-train ling-eval ling-chat ling-refresh'

# The usage lines of --help (on stdin), without "usage: " and without the
# indentation of the continuation lines that follow the first.
usage_lines() {
	awk 'NR == 1 && /^usage: / { sub(/^usage: /, ""); print; more = 1; next }
	     more && /^ +[^ ]/ { sub(/^ +/, ""); print; next }
	     { exit }'
}

# The first fenced code block under "## SYNOPSIS" of a man page.
synopsis_lines() {
	awk '/^## / { if (code) exit; sec = ($0 == "## SYNOPSIS"); next }
	     sec && /^```/ { if (code) exit; code = 1; next }
	     code { print }' "$1"
}

# The text of the "## OPTIONS" section of a man page.
options_section() {
	awk '/^## / { sec = ($0 == "## OPTIONS"); next } sec { print }' "$1"
}

# The long options that --help (on stdin) lists, one per line: "--store".
help_long_options() {
	sed -n 's/^ *\(-[A-Za-z], \)\{0,1\}\(--[a-z][a-z-]*\).*/\2/p'
}

for tool in $TOOLS
do
	test_expect_success "$tool --help: usage on stdout, nothing on stderr, exit 0" '
		$tool --help >out 2>err &&
		test ! -s err &&
		first=$(head -n 1 out) &&
		case $first in
		"usage: $tool "* | "usage: $tool") ;;
		*) echo "first line: $first" && false ;;
		esac &&
		$tool -h >out-h &&
		test_cmp out out-h
	'

	test_expect_success "$tool --version: \"$tool (ling) X.Y.Z\"" '
		$tool --version >out 2>err &&
		test ! -s err &&
		test "$(wc -l <out)" -eq 1 &&
		grep -E "^$tool \(ling\) [0-9]+\.[0-9]+\.[0-9]+\$" out &&
		$tool -V >out-V &&
		test_cmp out out-V
	'

	test_expect_success "$tool --help to a full disk: exit 1 and why" '
		test_must_fail_with 1 $tool --help >/dev/full 2>err &&
		grep "^$tool: cannot write to stdout: No space left on device\$" err
	'

	test_expect_success "$tool --version to a full disk: exit 1 and why" '
		test_must_fail_with 1 $tool --version >/dev/full 2>err &&
		grep "^$tool: cannot write to stdout: No space left on device\$" err
	'

	test_expect_success "$tool: an unknown option is a usage error (exit 2, stderr only)" '
		test_must_fail_with 2 $tool --no-such-option >out 2>err &&
		test ! -s out &&
		grep "^$tool: .*no-such-option" err &&
		test_must_fail_with 2 $tool -Z >out 2>err &&
		test ! -s out &&
		grep "^$tool: " err
	'

	test_expect_success "$tool: doc/$tool.1.md SYNOPSIS is the usage of --help" '
		page=$LING_ROOT/doc/$tool.1.md &&
		test -f "$page" &&
		$tool --help >help &&
		usage_lines <help >expect &&
		test -s expect &&
		synopsis_lines "$page" >actual &&
		test_cmp expect actual
	'

	test_expect_success "$tool: doc/$tool.1.md OPTIONS covers every option of --help" '
		page=$LING_ROOT/doc/$tool.1.md &&
		$tool --help | help_long_options >options &&
		test -s options &&
		options_section "$page" >section &&
		missing= &&
		for opt in $(cat options)
		do
			grep -F -e "\`$opt" section >/dev/null || missing="$missing $opt"
		done &&
		if test -n "$missing"
		then
			echo "not in OPTIONS of $page:$missing" && false
		fi
	'

	test_expect_success "$tool: doc/README.md lists the page" '
		grep -F "($tool.1.md)" "$LING_ROOT/doc/README.md"
	'
done

test_done
