#!/bin/sh
# Installs the Python modules that some tests compare against (pip's `tokenizers`, for
# tests/t4400-tokenize-train.sh; `jinja2`, which renders Qwen3's chat template in
# tests/t4200-tokenize-chat.sh; `transformers`, whose apply_chat_template renders kg2samples
# output in tests/t4210-chat-template-hf.sh) into build/bench/venv, the venv bench/ uses too.
# Best effort: without PyPI the tests that need them are skipped with the reason, so this never
# fails. transformers is installed on its own, so that its failure keeps the others.
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=$root/build/bench/venv
"$venv/bin/python" -c 'import tokenizers, jinja2, transformers' 2>/dev/null && exit 0
echo "pydeps: installing tokenizers, jinja2 and transformers into $venv" >&2
{ [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"; } 2>/dev/null &&
	"$venv/bin/pip" install -q --disable-pip-version-check tokenizers jinja2 >/dev/null 2>&1 ||
	echo "pydeps: cannot install tokenizers or jinja2 (no python3-venv or no PyPI); their tests will be skipped" >&2
[ -x "$venv/bin/pip" ] &&
	"$venv/bin/pip" install -q --disable-pip-version-check transformers >/dev/null 2>&1 ||
	echo "pydeps: cannot install transformers (no PyPI); tests/t4210-chat-template-hf.sh will be skipped" >&2
exit 0
