#!/bin/sh
test_description='ling-train: --print-params, init, forward (JSON line, --aux, --grads), convert, bench, bad input'
. "$(dirname "$0")/lib.sh"

# The names in a safetensors header, sorted, one per line (python3 without torch is enough).
st_names() {
	python3 -c '
import json, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
for k in sorted(json.loads(b[8:8 + n])):
    if k != "__metadata__":
        print(k)' "$1"
}

# The value of a key of a JSON line on stdin.
json_get() {
	python3 -c 'import json, sys; print(json.dumps(json.loads(sys.stdin.read())[sys.argv[1]]))' "$1"
}

test_expect_success '--print-params on the real Ling-Lite config.json: 16.80B total, 2.75B active' '
	ling-train --print-params --config "$LING_DATA/ling-lite-config.json" >out 2>err &&
	test ! -s err &&
	echo "total 16801974272 (16.80B) active 2753153024 (2.75B)" >expect &&
	test_cmp expect out
'

test_expect_success '--print-params presets: Ling-Plus about 290.6B / 29.0B, Ling-Lite the same as its config' '
	ling-train --print-params --preset ling-plus >out &&
	echo "total 290602910976 (290.60B) active 29004170496 (29.00B)" >expect &&
	test_cmp expect out &&
	ling-train --print-params --preset ling-lite >out &&
	echo "total 16801974272 (16.80B) active 2753153024 (2.75B)" >expect &&
	test_cmp expect out
'

test_expect_success '--print-params takes n_routed_experts and n_shared_experts (the Plus base spelling)' '
	sed -e "s/\"num_experts\"/\"n_routed_experts\"/" -e "s/\"num_shared_experts\"/\"n_shared_experts\"/" \
		"$LING_DATA/ling-lite-config.json" >aliases.json &&
	grep n_routed_experts aliases.json &&
	ling-train --print-params --config aliases.json >out &&
	echo "total 16801974272 (16.80B) active 2753153024 (2.75B)" >expect &&
	test_cmp expect out
'

test_expect_success 'init writes config.json and model.safetensors; the same seed gives the same bytes' '
	ling-train init --preset tiny --seed 3 --out ck &&
	test -f ck/config.json && test -f ck/model.safetensors &&
	grep "\"model_type\": \"bailing_moe\"" ck/config.json &&
	grep "\"use_bias\": false" ck/config.json &&
	ling-train init --preset tiny --seed 3 --out ck2 &&
	cmp ck/model.safetensors ck2/model.safetensors &&
	ling-train init --preset tiny --seed 4 --out ck3 &&
	! cmp -s ck/model.safetensors ck3/model.safetensors
'

test_expect_success 'init: the checkpoint holds every HF tensor name of the layout' '
	st_names ck/model.safetensors >names &&
	test $(wc -l <names) = $((1 + 3 * 4 + 3 + 2 * 28 + 2)) &&
	grep -x "model.layers.0.mlp.down_proj.weight" names &&
	grep -x "model.layers.2.mlp.experts.7.gate_proj.weight" names &&
	grep -x "model.layers.1.mlp.shared_experts.up_proj.weight" names &&
	grep -x "lm_head.weight" names
'

cat >tok.json <<'EOF'
[[1,5,7,9,11,13,2,4],[3,3,8,90,45,6,7,1]]
EOF
cat >mask.json <<'EOF'
[[0,1,1,1,0,1,1,1],[1,1,1,1,1,1,1,0]]
EOF
cat >docs.json <<'EOF'
[[0,0,0,0,0,0,0,0],[0,0,0,1,1,1,2,2]]
EOF

test_expect_success 'forward prints one JSON line: loss, counted tokens, n_params, 8 first logits' '
	ling-train forward --checkpoint ck --tokens tok.json >out 2>err &&
	test ! -s err &&
	test $(wc -l <out) = 1 &&
	test "$(json_get tokens <out)" = 14 &&
	test "$(json_get n_params <out)" = 179776 &&
	json_get logits_first <out | python3 -c "import json,sys; v=json.load(sys.stdin); assert len(v)==8" &&
	json_get loss <out | python3 -c "import math,sys; l=float(sys.stdin.read()); assert 4 < l < 5.5, l" &&
	ling-train forward --checkpoint ck --tokens tok.json >again &&
	test_cmp out again
'

test_expect_success 'forward: the mask picks the targets, documents change the loss, --aux adds its terms' '
	ling-train forward --checkpoint ck --tokens tok.json --mask mask.json >masked &&
	test "$(json_get tokens <masked)" = 12 &&
	ling-train forward --checkpoint ck --tokens tok.json --mask mask.json --docs docs.json >docs &&
	test "$(json_get loss <docs)" != "$(json_get loss <masked)" &&
	python3 -c "
import json
a = json.load(open(\"docs\"))[\"logits_first\"]; b = json.load(open(\"masked\"))[\"logits_first\"]
assert all(abs(x - y) < 1e-5 for x, y in zip(a, b)), (a, b)  # row 0 has one document either way" &&
	ling-train forward --checkpoint ck --tokens tok.json --mask mask.json --docs docs.json --aux >aux &&
	test "$(json_get ce <aux)" = "$(json_get loss <docs)" &&
	json_get balance <aux | python3 -c "import json,sys; v=json.load(sys.stdin); assert len(v)==2 and all(0.9<x<2 for x in v), v" &&
	json_get z <aux | python3 -c "import json,sys; v=json.load(sys.stdin); assert len(v)==2 and all(x>0 for x in v), v" &&
	python3 -c "
import json
a = json.load(open(\"aux\")); want = a[\"ce\"] + 0.015 * sum(a[\"balance\"]) + 1e-4 * sum(a[\"z\"])
assert abs(a[\"loss\"] - want) < 1e-6 * want, (a, want)"
'

test_expect_success 'forward --grads: a gradient for every parameter, by name; the pad row is zero' '
	echo "[[0,5,7,9,11,13,0,4],[3,3,8,90,45,6,7,1]]" >tok-pad.json &&
	ling-train forward --checkpoint ck --tokens tok-pad.json --grads g.safetensors >out &&
	st_names g.safetensors >gnames &&
	test_cmp names gnames &&
	python3 -c "
import json, struct, array
b = open(\"g.safetensors\", \"rb\").read(); n = struct.unpack(\"<Q\", b[:8])[0]; h = json.loads(b[8:8 + n])
def rows(name, first, count):
    s, e = h[name][\"data_offsets\"]; a = array.array(\"f\"); a.frombytes(b[8 + n + s:8 + n + e]); return a[first:first + count]
assert all(x == 0 for x in rows(\"model.word_embeddings.weight\", 0, 64)), \"pad row\"
assert any(x != 0 for x in rows(\"model.word_embeddings.weight\", 5 * 64, 64)), \"token 5 row\"
assert any(x != 0 for x in rows(\"lm_head.weight\", 0, 97 * 64))"
'

test_expect_success 'convert: f32 -> bf16 -> f32 keeps names; the bf16 model computes nearly the same loss' '
	ling-train convert --checkpoint ck --out ck-bf16 --dtype bf16 &&
	grep "\"torch_dtype\": \"bfloat16\"" ck-bf16/config.json &&
	ling-train convert --checkpoint ck-bf16 --out ck-back &&
	st_names ck-back/model.safetensors >back &&
	test_cmp names back &&
	ling-train forward --checkpoint ck --tokens tok.json >a &&
	ling-train forward --checkpoint ck-back --tokens tok.json >b &&
	python3 -c "
import json
a = json.load(open(\"a\"))[\"loss\"]; b = json.load(open(\"b\"))[\"loss\"]
assert a != b and abs(a - b) < 1e-2 * a, (a, b)"
'

test_expect_success 'bench prints one JSON line with the step time, FLOPs, sgemm peak and peak RSS' '
	ling-train bench --preset tiny --batch 2 --seq 16 --iters 1 --threads 1 >out &&
	for key in seconds_per_step flops_per_step gflops sgemm_peak_gflops fraction_of_peak peak_rss_mb
	do
		json_get $key <out || return 1
	done
'

test_expect_success 'forward: the same bits on 1, 2 and 3 threads (demo preset, products split in pieces)' '
	ling-train init --preset demo --seed 2 --out demo &&
	python3 -c "print([[(r * 131 + t * 37) % 4096 for t in range(150)] for r in range(2)])" >demo-tok.json &&
	for j in 1 2 3
	do
		ling-train forward -j $j --checkpoint demo --tokens demo-tok.json --grads g$j.safetensors >out$j || return 1
	done &&
	test_cmp out1 out2 && test_cmp out1 out3 &&
	cmp g1.safetensors g2.safetensors && cmp g1.safetensors g3.safetensors
'

# ---- bad input: `ling-train: FILE: what is wrong`, exit 1 ----

test_expect_success 'a config with a missing key' '
	sed "/moe_intermediate_size/d" "$LING_DATA/ling-lite-config.json" >missing.json &&
	test_must_fail_with 1 ling-train --print-params --config missing.json 2>err &&
	echo "ling-train: missing.json: missing key moe_intermediate_size" >expect &&
	test_cmp expect err
'

test_expect_success 'a config whose heads do not divide hidden_size, or top-k above the experts' '
	sed -e "/head_dim/d" -e "s/\"num_attention_heads\": 16/\"num_attention_heads\": 6/" \
		-e "s/\"num_key_value_heads\": 4/\"num_key_value_heads\": 2/" \
		"$LING_DATA/ling-lite-config.json" >heads.json &&
	test_must_fail_with 1 ling-train --print-params --config heads.json 2>err &&
	echo "ling-train: heads.json: num_attention_heads (6) does not divide hidden_size (2048)" >expect &&
	test_cmp expect err &&
	sed "s/\"num_experts_per_tok\": 6/\"num_experts_per_tok\": 65/" "$LING_DATA/ling-lite-config.json" >topk.json &&
	test_must_fail_with 1 ling-train --print-params --config topk.json 2>err &&
	echo "ling-train: topk.json: num_experts_per_tok (65) is more than num_experts (64)" >expect &&
	test_cmp expect err
'

test_expect_success 'a config that is not JSON, and one that does not exist' '
	echo "{\"vocab_size\": 12," >bad.json &&
	test_must_fail_with 1 ling-train --print-params --config bad.json 2>err &&
	grep "^ling-train: bad.json:[0-9:]* not JSON" err &&
	test_must_fail_with 1 ling-train --print-params --config nope.json 2>err &&
	grep "^ling-train: nope.json: cannot open" err
'

test_expect_success 'a token id >= vocab_size, and negative' '
	echo "[[1,2,3],[4,97,6]]" >big.json &&
	test_must_fail_with 1 ling-train forward --checkpoint ck --tokens big.json >out 2>err &&
	test ! -s out &&
	echo "ling-train: big.json: row 1, position 1: token id 97 is not below vocab_size 97" >expect &&
	test_cmp expect err &&
	echo "[[1,-2,3]]" >neg.json &&
	test_must_fail_with 1 ling-train forward --checkpoint ck --tokens neg.json 2>err &&
	grep "^ling-train: neg.json: row 0, position 1: token id -2 is not below" err
'

test_expect_success 'tokens of ragged rows, a mask or docs of another shape, a mask value of 2' '
	echo "[[1,2,3],[4,5]]" >ragged.json &&
	test_must_fail_with 1 ling-train forward --checkpoint ck --tokens ragged.json 2>err &&
	grep "^ling-train: ragged.json: row 1: not an array of 3 values like row 0" err &&
	echo "[[1,1,1,1]]" >m1.json &&
	test_must_fail_with 1 ling-train forward --checkpoint ck --tokens tok.json --mask m1.json 2>err &&
	grep "^ling-train: m1.json: shape 1 x 4 does not match the tokens. 2 x 8$" err &&
	echo "[[0,0,0,0,0,0,0,0],[0,0,0,1,1,1,2,2]]" | sed "s/1,1,1,2/1,0,1,2/" >d1.json &&
	test_must_fail_with 1 ling-train forward --checkpoint ck --tokens tok.json --docs d1.json 2>err &&
	grep "^ling-train: d1.json: row 1, position 4: document index 0 decreases (was 1)" err &&
	echo "[[0,1,1,1,0,1,1,1],[1,1,1,2,1,1,1,0]]" >m2.json &&
	test_must_fail_with 1 ling-train forward --checkpoint ck --tokens tok.json --mask m2.json 2>err &&
	grep "^ling-train: m2.json: row 1, position 3: not an integer in \[0, 1\]" err
'

test_expect_success 'a truncated safetensors, a header length past the end, a missing checkpoint' '
	cp -r ck cut && head -c 1000 ck/model.safetensors >cut/model.safetensors &&
	test_must_fail_with 1 ling-train forward --checkpoint cut --tokens tok.json 2>err &&
	grep "^ling-train: cut/model.safetensors: " err &&
	cp -r ck long && printf "\377\377\377\377\000\000\000\000" >long/model.safetensors &&
	test_must_fail_with 1 ling-train forward --checkpoint long --tokens tok.json 2>err &&
	grep "^ling-train: long/model.safetensors: .*header" err &&
	test_must_fail_with 1 ling-train forward --checkpoint nowhere --tokens tok.json 2>err &&
	grep "^ling-train: nowhere/config.json: cannot open" err
'

test_expect_success 'a checkpoint whose shapes do not match its config' '
	cp -r ck shape && sed "s/\"moe_intermediate_size\": 32/\"moe_intermediate_size\": 16/" ck/config.json >shape/config.json &&
	test_must_fail_with 1 ling-train forward --checkpoint shape --tokens tok.json 2>err &&
	grep "^ling-train: shape/model.safetensors: .*experts" err
'

test_expect_success 'a model larger than memory is refused before it is allocated' '
	test_must_fail_with 1 ling-train init --preset ling-plus --out plus 2>err &&
	grep "^ling-train: ling-plus: the fp32 weights need 1162.4 GB, more than this machine.s" err &&
	test ! -e plus
'

test_expect_success 'usage errors exit 2' '
	test_must_fail_with 2 ling-train 2>err &&
	grep "^ling-train: a command is needed" err &&
	test_must_fail_with 2 ling-train frobnicate 2>err &&
	test_must_fail_with 2 ling-train init --out x 2>err &&
	grep "one of --config FILE and --preset NAME" err &&
	test_must_fail_with 2 ling-train init --preset tiny --config c.json --out x 2>err &&
	test_must_fail_with 2 ling-train forward --checkpoint ck 2>err &&
	grep "needs --tokens" err &&
	cp ck/model.safetensors keep.safetensors &&
	test_must_fail_with 2 ling-train forward --checkpoint ck --tokens tok.json --grads ck/model.safetensors 2>err &&
	grep "would overwrite an input" err &&
	cmp keep.safetensors ck/model.safetensors &&
	test_must_fail_with 2 ling-train bench --preset tiny 2>err &&
	test_must_fail_with 2 ling-train init --preset tiny --out x --dtype f16 2>err &&
	test_must_fail_with 2 ling-train init --preset nope --out x 2>err &&
	grep "^ling-train: unknown preset .nope." err
'

test_done
