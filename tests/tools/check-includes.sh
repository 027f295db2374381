#!/bin/sh
# tests/tools/check-includes.sh [ROOT]: checks the dependency rule of STYLE.md
# on the #include "..." lines of the tree at ROOT (default: this checkout).
#
# Stages come in an order (the table below); common/ comes first. A stage's
# public headers are its contract; every other header of it is internal.
#  (a) a main (*_main.c) includes, of its own stage, only the public header;
#      of another stage, nothing but that stage's public header;
#  (b) a library file of a stage includes no header of a later stage, and of
#      an earlier stage only the public header;
#  (c) a file of common/ includes no stage header;
#  (d) a library file (not a main) includes no CLI-only header of common/.
# tests/tools/*.c are mains of no stage: public headers only. tests/unit/ and
# tests/fuzz/ test the internals and may include internal headers; they are
# not checked.
#
# Prints one line per violation, "check-includes: FILE: includes HEADER: why",
# and exits 1 when there is one, 0 otherwise.

root=${1:-$(cd "$(dirname "$0")/../.." && pwd)} || exit 2
cd "$root" || exit 2

# The stages in their order, each with its public headers.
# tokenize's mains share tokenize_main.h (the subcommands, as git's builtin.h).
STAGES='
common	-
kg	kg.h
synth	synth.h
dedup	dedup.h
tokenize	tokenize.h tokenize_main.h
train	train.h
eval	eval.h
'

# Headers of common/ for mains only (rule d).
CLI_HEADERS='ling_cli.h ling_main.h ling_stdio.h'

# Stages whose libraries may still include a CLI header (none: keep it so).
CLI_PENDING=''

files=$(find common kg synth dedup tokenize train eval \
	\( -name '*.c' -o -name '*.h' -o -name '*.cu' \) -type f 2>/dev/null
	ls tests/tools/*.c 2>/dev/null)

# Every file of the tree that an include may name, then the sources to check.
{ find . -path ./build -prune -o -path ./.git -prune -o -type f \( -name '*.h' -o -name '*.c' \) -print |
	sed 's|^\./||'; echo '--'; printf '%s\n' $files; } |
awk -v stages="$STAGES" -v cli_headers="$CLI_HEADERS" -v cli_pending="$CLI_PENDING" '
function norm(path,    n, i, k, part, out) {
	n = split(path, part, "/")
	k = 0
	for (i = 1; i <= n; i++) {
		if (part[i] == "" || part[i] == ".")
			continue
		if (part[i] == ".." && k > 0 && out[k] != "..") {
			k--
			continue
		}
		out[++k] = part[i]
	}
	path = ""
	for (i = 1; i <= k; i++)
		path = path (i > 1 ? "/" : "") out[i]
	return path
}
function dirname(path) {
	return sub(/\/[^\/]*$/, "", path) ? path : "."
}
function basename(path) {
	sub(/.*\//, "", path)
	return path
}
function stage_of(path,    s) {
	s = path
	sub(/\/.*/, "", s)
	return (s in order) ? s : ""
}
function complain(file, header, why) {
	printf "check-includes: %s: includes %s: %s\n", file, header, why
	bad++
}
function check(file, inc,    dir, path, s, t, h, is_main, is_tool) {
	dir = dirname(file)
	path = norm(dir "/" inc)
	if (!(path in exists))
		path = norm(inc) # -I. (tests/tools)
	if (!(path in exists))
		return # not ours: the compiler will tell
	s = stage_of(file)
	t = stage_of(path)
	h = basename(path)
	if (t == "")
		return
	is_tool = file ~ /^tests\/tools\//
	is_main = is_tool || basename(file) ~ /_main\.c$/
	if (s == "common") {
		if (t != "common")
			complain(file, inc, "common/ depends on no stage")
		return
	}
	if (t == "common") {
		if (!is_main && (h in cli) && !(s in pending))
			complain(file, inc, "a CLI header in a library (ling_num.h, ling_file.h are the library side)")
		return
	}
	if (!is_tool && order[t] > order[s]) {
		complain(file, inc, "stage " t " comes after stage " s)
		return
	}
	if (t == s && !is_main)
		return
	if (!((t, h) in public))
		complain(file, inc, "not a public header of " t " (" public_list[t] ")")
}
BEGIN {
	n = split(stages, line, "\n")
	k = 0
	for (i = 1; i <= n; i++) {
		if (split(line[i], field, /[ \t]+/) < 2)
			continue
		order[field[1]] = ++k
		public_list[field[1]] = ""
		for (j = 2; field[j] != ""; j++) {
			public[field[1], field[j]] = 1
			public_list[field[1]] = public_list[field[1]] (j > 2 ? " " : "") field[j]
		}
	}
	split(cli_headers, tmp, " ")
	for (i in tmp)
		cli[tmp[i]] = 1
	split(cli_pending, tmp, " ")
	for (i in tmp)
		pending[tmp[i]] = 1
}
!listed && $0 == "--" { listed = 1; next }
!listed { exists[$0] = 1; next }
$0 == "" { next }
{
	file = $0
	while ((getline text < file) > 0)
		if (match(text, /^[ \t]*#[ \t]*include[ \t]*"[^"]+"/)) {
			inc = substr(text, RSTART, RLENGTH)
			sub(/^[^"]*"/, "", inc)
			sub(/"$/, "", inc)
			check(file, inc)
		}
	close(file)
	checked++
}
END {
	if (!checked) {
		print "check-includes: no source files under " ENVIRON["PWD"] > "/dev/stderr"
		exit 2
	}
	exit bad ? 1 : 0
}'
