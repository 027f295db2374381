#!/bin/sh
test_description='ling-train checkpoints and Hugging Face layout checkpoints load both ways (issue 11, point 2)'
. "$(dirname "$0")/lib.sh"

# HF-layout checkpoints come from the PyTorch reference (tests/tools/bailing_ref.py save), laid out
# as save_pretrained does: config.json, generation_config.json, model.safetensors or shards with
# model.safetensors.index.json, header keys sorted, metadata {"format":"pt"}, every tensor F32 or BF16.
PY=/usr/bin/python3
REF=$LING_ROOT/tests/tools/bailing_ref.py
CONFIG=$LING_DATA/train-parity-config.json
TOKENS=$LING_DATA/train-parity-tokens.json
BATCH="--tokens $TOKENS --mask $LING_DATA/train-parity-mask.json --docs $LING_DATA/train-parity-docs.json"
# Seed 3 of the reference's init has router top-k margins >= 1e-3 on the batch, in fp32 and in bf16.
SEED=3

# comment_file FILE: each line of FILE as a TAP comment.
comment_file() { sed 's/^/# /' "$1" >&3; }

"$PY" -c 'import torch' 2>/dev/null ||
	test_skip_all "/usr/bin/python3 cannot import torch (make deps installs python3-torch)"
if [ -x "$LING_BIN/ling-train" ]; then
	test_set_prereq LING_TRAIN
else
	test_comment "SKIP the tests of ling-train: $LING_BIN/ling-train is not built"
fi

# check_layout DIR DTYPE SHARDS: the files and safetensors headers of an HF-layout checkpoint.
check_layout() {
	"$PY" - "$1" "$2" "$3" <<-'EOF'
	import json, os, struct, sys
	d, dtype, shards = sys.argv[1], sys.argv[2], int(sys.argv[3])
	assert os.path.exists(os.path.join(d, "generation_config.json"))
	cfg = json.load(open(os.path.join(d, "config.json")))
	assert cfg["model_type"] == "bailing_moe" and cfg["torch_dtype"] == ("bfloat16" if dtype == "BF16" else "float32")
	if shards == 1:
	    files = ["model.safetensors"]
	    assert not os.path.exists(os.path.join(d, "model.safetensors.index.json"))
	else:
	    index = json.load(open(os.path.join(d, "model.safetensors.index.json")))
	    files = sorted(set(index["weight_map"].values()))
	    assert files == ["model-%05d-of-%05d.safetensors" % (i + 1, shards) for i in range(shards)], files
	names, total = [], 0
	for f in files:
	    blob = open(os.path.join(d, f), "rb").read()
	    n = struct.unpack("<Q", blob[:8])[0]
	    assert n % 8 == 0
	    keys = list(json.loads(blob[8:8 + n]))
	    assert keys == sorted(keys), f
	    h = json.loads(blob[8:8 + n])
	    assert h.pop("__metadata__") == {"format": "pt"}
	    assert {v["dtype"] for v in h.values()} == {dtype}
	    assert max(v["data_offsets"][1] for v in h.values()) == len(blob) - 8 - n
	    total += len(blob) - 8 - n
	    names += h
	    if shards > 1:
	        assert all(index["weight_map"][k] == f for k in h)
	if shards > 1:
	    assert index["metadata"]["total_size"] == total and sorted(names) == sorted(index["weight_map"])
	print("%s: %d tensors in %d file(s), %d bytes of %s" % (d, len(names), len(files), total, dtype))
	EOF
}

test_expect_success 'the reference writes HF-layout checkpoints: fp32 and bf16, single and 3 shards' '
	for dt in f32 bf16; do
		"$PY" "$REF" save --config "$CONFIG" --seed $SEED --out hf-$dt --dtype $dt &&
		"$PY" "$REF" save --config "$CONFIG" --seed $SEED --out hf-$dt-sharded --dtype $dt --shards 3 || exit 1
	done &&
	check_layout hf-f32 F32 1 >out && check_layout hf-f32-sharded F32 3 >>out &&
	check_layout hf-bf16 BF16 1 >>out && check_layout hf-bf16-sharded BF16 3 >>out &&
	comment_file out
'

test_expect_success 'the reference reads them back: sharded = single bit for bit, bf16 = fp32 rounded' '
	"$PY" "$REF" compare hf-f32 hf-f32-sharded --exact &&
	"$PY" "$REF" compare hf-bf16 hf-bf16-sharded --exact &&
	test_must_fail_with 1 "$PY" "$REF" compare hf-bf16 hf-f32 --exact >cmp.out &&
	grep "differing elements" cmp.out &&
	"$PY" "$REF" compare hf-bf16 hf-f32 --rtol 4e-3 &&
	"$PY" "$REF" load-check --checkpoint hf-bf16-sharded --like hf-f32 &&
	"$PY" "$REF" pick --tokens $TOKENS --docs $LING_DATA/train-parity-docs.json hf-f32 &&
	"$PY" "$REF" pick --tokens $TOKENS --docs $LING_DATA/train-parity-docs.json hf-bf16
'

test_expect_success 'load-check refuses a missing, an extra and a mis-shaped tensor' '
	mkdir -p cut && cp hf-f32/config.json cut/ &&
	"$PY" - <<-EOF &&
	import sys
	sys.path.insert(0, "$LING_ROOT/tests/tools")
	import bailing_ref as r
	t = r.st_read_any("hf-f32")
	t["model.layers.0.attention.dense.bias"] = t["model.norm.weight"]
	r.st_write_file("cut/model.safetensors", list(t.items()), "F32")
	t.pop("model.layers.0.attention.dense.bias")
	t.pop("model.layers.2.mlp.experts.7.up_proj.weight")
	r.st_write_file("cut/missing.safetensors", list(t.items()), "F32")
	EOF
	test_must_fail_with 1 "$PY" "$REF" load-check --checkpoint cut 2>err &&
	grep "unexpected tensor model.layers.0.attention.dense.bias" err &&
	mv cut/missing.safetensors cut/model.safetensors &&
	test_must_fail_with 1 "$PY" "$REF" load-check --checkpoint cut 2>err &&
	grep "missing tensor model.layers.2.mlp.experts.7.up_proj.weight" err &&
	sed "s/\"num_experts\": 8/\"num_experts\": 7/" hf-f32/config.json >cut/config.json &&
	cp hf-f32/model.safetensors cut/ &&
	test_must_fail_with 1 "$PY" "$REF" load-check --checkpoint cut 2>err &&
	grep "mlp.gate.weight has shape \[8, 64\], the config wants \[7, 64\]" err
'

test_expect_success LING_TRAIN 'a checkpoint written by ling-train init loads in the reference by HF names and shapes' '
	ling-train init --config "$CONFIG" --seed 1 --out ours &&
	"$PY" "$REF" load-check --checkpoint ours --like hf-f32 >out &&
	comment_file out &&
	ling-train init --config "$CONFIG" --seed 1 --out ours-bf16 --dtype bf16 &&
	"$PY" "$REF" load-check --checkpoint ours-bf16 --like hf-f32 &&
	"$PY" "$REF" compare ours-bf16 ours --rtol 4e-3
'

for ck in hf-f32 hf-f32-sharded hf-bf16 hf-bf16-sharded; do
	test_expect_success LING_TRAIN "ling-train convert reads $ck: the same weights bit for bit" "
		ling-train convert --checkpoint $ck --out conv-$ck &&
		\"\$PY\" \"\$REF\" compare $ck conv-$ck --exact >out &&
		comment_file out
	"
done

for ck in hf-f32 hf-bf16-sharded; do
	test_expect_success LING_TRAIN "ling-train forward on $ck gives the reference's loss and logits" "
		ling-train forward --checkpoint $ck \$BATCH >ours.json &&
		\"\$PY\" \"\$REF\" forward --checkpoint $ck \$BATCH >ref.json &&
		\"\$PY\" \"\$REF\" compare-json ours.json ref.json --rtol 1e-4 >out &&
		comment_file ours.json && comment_file out
	"
done

test_done
