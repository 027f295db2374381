#!/bin/sh
test_description='kg2samples output through transformers apply_chat_template (Qwen3 template, tools) equals tokenize build: ids and masks'
. "$(dirname "$0")/lib.sh"

D=$LING_DATA/tokenizers

# Python with transformers: the check venv (tests/tools/pydeps.sh installs it, best effort).
HF_PY=
for py in "$LING_ROOT/build/bench/venv/bin/python" python3; do
	"$py" -c "import transformers" 2>/dev/null && HF_PY=$py && break
done
if test -n "$HF_PY"
then
	test_set_prereq TRANSFORMERS
else
	test_comment "SKIP: python module transformers is not importable (tests/tools/pydeps.sh installs it from PyPI, which was not reachable)"
fi
command -v kg-load >/dev/null && command -v kg2samples >/dev/null && test_set_prereq KG2SAMPLES

# hf.py TOKENIZER_JSON CONFIG_JSON SAMPLES CHAT_EOD: per sample, the ids of
# apply_chat_template(messages, tools=tools) with the Qwen3 template of CONFIG_JSON,
# then a line of its loss mask: 1 from after each "<|im_start|>assistant\n" up to
# and including its "<|im_end|>", found from the token offsets; CHAT_EOD (none: no
# token) appended with mask 0, as tokenize build does for Megatron.
cat >hf.py <<\EOF
import json, sys
import transformers
from transformers import PreTrainedTokenizerFast

tok_file, config_file, samples, chat_eod = sys.argv[1:5]
template = json.load(open(config_file))["chat_template"]
tok = PreTrainedTokenizerFast(tokenizer_file=tok_file)
eod = None if chat_eod == "none" else tok.convert_tokens_to_ids(chat_eod)
head, end = "<|im_start|>assistant\n", "<|im_end|>"
out = open(sys.argv[5], "w")
masks = open(sys.argv[6], "w")
for line in open(samples):
    s = json.loads(line)
    kw = dict(tools=s["tools"] or None, chat_template=template, add_generation_prompt=False)
    text = tok.apply_chat_template(s["messages"], tokenize=False, **kw)
    ids = tok.apply_chat_template(s["messages"], tokenize=True, return_dict=True, **kw)["input_ids"]
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    assert enc["input_ids"] == ids, s["id"]
    spans, at = [], text.find(head)
    while at >= 0:
        stop = text.index(end, at) + len(end)
        spans.append((at + len(head), stop))
        at = text.find(head, stop)
    mask = [int(any(a <= b < z for a, z in spans)) for b, _ in enc["offset_mapping"]]
    if eod is not None:
        ids, mask = ids + [eod], mask + [0]
    out.write(" ".join(map(str, ids)) + "\n")
    masks.write(" ".join(map(str, mask)) + "\n")
print(transformers.__version__)
EOF

mread() {
	python3 "$LING_ROOT/tests/tools/megatron_read.py" "$@"
}

test_expect_success 'setup: the Qwen3 tokenizer and its tokenizer_config.json (chat template)' '
	zstd -dcq "$D/qwen3.tokenizer.json.zst" >tokenizer.json &&
	zstd -dcq "$D/qwen3.tokenizer_config.json.zst" >tokenizer_config.json &&
	grep -q "chat_template" tokenizer_config.json
'

# check_run NAME: samples NAME.jsonl through tokenize build and transformers, compared.
check_run() {
	tokenize build -q -j 1 --split 100,0,0 --out "$1.ds" -t tokenizer.json "$1.jsonl" &&
	grep "\"chat_eod\": \"<|endoftext|>\"" "$1.ds/manifest.json" &&
	"$HF_PY" hf.py tokenizer.json tokenizer_config.json "$1.jsonl" "<|endoftext|>" "$1.hf.ids" "$1.hf.mask" >version &&
	mread "$1.ds/train-000000" >"$1.ids" &&
	mread "$1.ds/train-000000.mask" >"$1.mask" &&
	test $(wc -l <"$1.ids") -eq $(wc -l <"$1.jsonl") &&
	test_cmp "$1.hf.ids" "$1.ids" &&
	test_cmp "$1.hf.mask" "$1.mask" &&
	test_comment "$1: $(wc -l <"$1.ids") samples, $(wc -w <"$1.ids") ids equal, $(tr " " "\n" <"$1.mask" | grep -c 1) trained; transformers $(cat version)"
}

test_expect_success TRANSFORMERS,KG2SAMPLES 'every sample of an FB15k-237 run: transformers ids and masks equal tokenize build' '
	kg-load -q --store fb "$LING_DATA/fb15k-slice.nt.zst" &&
	kg2samples -q --store fb --seed 7 --count 400 --allow-short >fb.jsonl &&
	test $(wc -l <fb.jsonl) -ge 300 &&
	test $(grep -c "\"tool_calls\"" fb.jsonl) -ge 200 &&
	test $(grep -c "\"kind\":\"instruction\"" fb.jsonl) -ge 10 &&
	check_run fb
'

test_expect_success TRANSFORMERS,KG2SAMPLES 'every sample of a run on typed literals (integer, number, date arguments) too' '
	kg-load -q --store lit "$LING_DATA/literals.ttl" &&
	kg2samples -q --store lit --seed 3 --count 200 --allow-short >lit.jsonl &&
	test $(wc -l <lit.jsonl) -ge 100 &&
	check_run lit
'

test_expect_success TRANSFORMERS 'transformers fails on content null with tool_calls, which kg2samples no longer writes' '
	! grep "\"content\":null" fb.jsonl lit.jsonl &&
	sed "s/\"content\":\"\",\"tool_calls\"/\"content\":null,\"tool_calls\"/" fb.jsonl >null.jsonl &&
	! cmp -s fb.jsonl null.jsonl &&
	test_must_fail "$HF_PY" hf.py tokenizer.json tokenizer_config.json null.jsonl none x.ids x.mask 2>err &&
	grep -i "error" err
'

test_done
