#!/bin/sh
# Installs the Python modules that some tests compare against (pip's `tokenizers`, for
# tests/t4400-tokenize-train.sh) into build/bench/venv, the venv bench/ uses too. Best effort:
# without PyPI the tests that need them are skipped with the reason, so this never fails.
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=$root/build/bench/venv
"$venv/bin/python" -c 'import tokenizers' 2>/dev/null && exit 0
python3 -c 'import tokenizers' 2>/dev/null && exit 0
echo "pydeps: installing tokenizers into $venv" >&2
{ [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"; } 2>/dev/null &&
	"$venv/bin/pip" install -q --disable-pip-version-check tokenizers >/dev/null 2>&1 ||
	echo "pydeps: cannot install tokenizers (no python3-venv or no PyPI); its tests will be skipped" >&2
exit 0
