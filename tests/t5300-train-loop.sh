#!/bin/sh
test_description='ling-train training: exact resume, a crash in a checkpoint write, learning a copy task, bad input'
. "$(dirname "$0")/lib.sh"

command -v shardgen >/dev/null ||
	test_skip_all "tests/tools/shardgen is not built in $LING_TEST_TOOLS"

# gen SPLIT N SEED: N copy documents "1 a b c d e 2 a b c d e" (symbols 3..12) in SPLIT.tok, masks
# (1 on the copied half only) in SPLIT.msk.
gen() {
	awk -v n="$2" -v seed="$3" -v tf="$1.tok" -v mf="$1.msk" 'BEGIN { srand(seed)
		for (i = 0; i < n; i++) {
			s = "1"; m = "0"
			for (j = 0; j < 5; j++) { a[j] = 3 + int(rand() * 10); s = s " " a[j]; m = m " 0" }
			s = s " 2"; m = m " 0"
			for (j = 0; j < 5; j++) { s = s " " a[j]; m = m " 1" }
			print s > tf; print m > mf
		} }'
}

# dataset DIR VOCAB: the copy task as a dataset directory (as tokenize build lays it out).
dataset() {
	mkdir -p "$1" &&
	shardgen write "$1/train-000000" u16 <train.tok &&
	shardgen write "$1/train-000000.mask" u8 <train.msk &&
	shardgen write "$1/valid-000000" u16 <valid.tok &&
	shardgen write "$1/valid-000000.mask" u8 <valid.msk &&
	cat >"$1/manifest.json" <<-EOF
	{"format": "ling-dataset", "version": 1, "tokenizer": {"path": "none.json", "vocab_size": $2},
	 "template": null, "shards": [
	 {"name": "train-000000", "split": "train", "mask": "train-000000.mask", "documents": 2000, "tokens": 24000},
	 {"name": "valid-000000", "split": "valid", "mask": "valid-000000.mask", "documents": 100, "tokens": 1200}]}
	EOF
}

# losses RUN: step, loss, ce, balance, z, lr, grad norm and valid loss of each line of RUN/metrics.jsonl.
losses() {
	sed -e 's/"tokens_per_s":[^,]*,"mfu":[^,]*,//' -e 's/,"expert_load".*//' "$1/metrics.jsonl"
}

O="--data ds --steps 20 --seq-len 48 --batch 4 --grad-accum 2 --lr 3e-3 --warmup 3 --eval-every 5 --threads 1"

test_expect_success 'setup: a copy-task dataset' '
	gen train 2000 1 && gen valid 100 2 &&
	dataset ds 97 &&
	test $(wc -l <train.tok) -eq 2000
'

test_expect_success 'a dataset of tokenize build: the checkpoint gets its tokenizer.json; the validation loss falls' '
	awk "BEGIN { for (i = 0; i < 400; i++)
		printf \"{\\\"id\\\":\\\"r%d\\\",\\\"text\\\":\\\"count %d to %d: the quick brown fox\\\"}\\n\", i, i, i + 3 }" >t.jsonl &&
	tokenize train -q --vocab-size 300 --special "<|endoftext|>" -o tok.json t.jsonl &&
	tokenize build -q -t tok.json --out real t.jsonl &&
	ling-train init --preset tiny --out m0 &&
	sed "s/\"vocab_size\": 97/\"vocab_size\": 320/" m0/config.json >cfg.json &&
	ling-train --config cfg.json --data real --out t --steps 30 --seq-len 64 --batch 4 --eval-every 10 \
		--lr 3e-3 --warmup 5 --threads 1 2>err &&
	cmp tok.json t/ckpt-30/tokenizer.json &&
	grep "\"chat_template_name\": null" t/ckpt-30/tokenizer_config.json &&
	sed -n "s/.*\"valid_loss\":\([^,]*\),.*/\1/p" t/metrics.jsonl >valid &&
	test_comment "validation loss at steps 10, 20, 30: $(echo $(cat valid))" &&
	test $(wc -l <valid) -eq 3 &&
	sort -g -r valid >sorted && test_cmp valid sorted &&
	test $(sort -u valid | wc -l) -eq 3
'

test_expect_success 'a run writes metrics.jsonl, ckpt-20/ and latest; the checkpoint is an HF directory' '
	ling-train --preset tiny $O --out a 2>err &&
	grep "ling-train: steps 1..20, loss" err &&
	test $(wc -l <a/metrics.jsonl) -eq 20 &&
	echo ckpt-20 >expect && test_cmp expect a/latest &&
	for f in config.json model.safetensors optimizer.safetensors trainer_state.json tokenizer_config.json
	do
		test -s a/ckpt-20/$f || return 1
	done &&
	grep "\"step\": 20," a/ckpt-20/trainer_state.json &&
	tail -n 1 a/metrics.jsonl >last &&
	grep "^{\"step\":20,\"loss\":" last && grep "\"valid_loss\":" last &&
	grep "\"expert_load\":\[{\"layer\":1,\"tokens\":\[" last && grep "\"cv\":" last &&
	sed "s/.*{\"layer\":1,\"tokens\":\[\([0-9,]*\)\].*/\1/" last | tr , "\n" >load1 &&
	test $(wc -l <load1) -eq 8 &&
	test $(awk "{ n += \$1 } END { print n }" load1) -eq 768 &&
	ling-train forward --checkpoint a/ckpt-20 --tokens "$LING_DATA/train-parity-tokens.json" >fwd &&
	grep "\"loss\":" fwd
'

test_expect_success 'resume is exact: 10 steps, then --resume to 20, same losses and bytes as 20 straight' '
	ling-train --preset tiny $O --out b --stop-at 10 2>err &&
	echo ckpt-10 >expect && test_cmp expect b/latest &&
	ling-train --resume $O --out b 2>err &&
	grep "steps 11..20" err &&
	losses a >expect && losses b >actual && test_cmp expect actual &&
	cmp a/ckpt-20/model.safetensors b/ckpt-20/model.safetensors &&
	cmp a/ckpt-20/optimizer.safetensors b/ckpt-20/optimizer.safetensors
'

test_expect_success 'kill -9 in the second checkpoint write: ckpt-5 stays latest and --resume from it is exact' '
	{ LING_TEST_CRASH=ckpt-write:2 ling-train --preset tiny $O --out c --save-every 5 2>err; echo $? >rc; } &&
	echo 137 >expect && test_cmp expect rc &&
	echo ckpt-5 >expect && test_cmp expect c/latest &&
	test ! -e c/ckpt-10 && test -d c/.tmp-ckpt-10 &&
	test $(wc -l <c/metrics.jsonl) -eq 10 &&
	ling-train --resume $O --out c --save-every 5 --keep 2 2>err &&
	grep "steps 6..20" err &&
	losses a >expect && losses c >actual && test_cmp expect actual &&
	cmp a/ckpt-20/model.safetensors c/ckpt-20/model.safetensors &&
	ls -d c/ckpt-* >ckpts && printf "c/ckpt-15\nc/ckpt-20\n" >expect && test_cmp expect ckpts &&
	! ls -a c | grep tmp
'

test_expect_success '--supervise: a run killed in every second checkpoint write is restarted from latest and ends exact' '
	LING_TEST_CRASH=ckpt-write:2 ling-train --preset tiny $O --out sv --save-every 5 --supervise 5 2>err &&
	test $(grep -c "killed by signal 9; restart [1-3] of 5 from sv/latest" err) -eq 3 &&
	cmp a/ckpt-20/model.safetensors sv/ckpt-20/model.safetensors &&
	losses a >expect && losses sv >actual && test_cmp expect actual &&
	test_must_fail_with 1 env LING_TEST_CRASH=ckpt-write:2 \
		ling-train --preset tiny $O --out sv2 --save-every 5 --supervise 2 2>err &&
	grep "ling-train: --supervise: the run was killed by signal 9, all 2 restarts used" err
'

test_expect_success '--init starts from a checkpoint: its step-1 loss is the end of the run it came from' '
	ling-train --init a/ckpt-20 $O --steps 2 --out d 2>err &&
	head -n 1 d/metrics.jsonl >first &&
	loss_a=$(sed -n "20s/.*\"ce\":\([^,]*\),.*/\1/p" a/metrics.jsonl) &&
	loss_d=$(sed -n "s/.*\"ce\":\([^,]*\),.*/\1/p" first) &&
	test_comment "ce at step 20 of a: $loss_a, at step 1 of d: $loss_d" &&
	awk -v a="$loss_a" -v d="$loss_d" "BEGIN { exit !(d < a * 1.5) }"
'

test_expect_success 'learning: the copy task reaches a cross-entropy below 0.05 (validation too)' '
	ling-train --preset tiny --data ds --out e --steps 200 --seq-len 48 --batch 8 --lr 3e-3 --min-lr 3e-4 \
		--warmup 10 --eval-every 50 --threads 1 2>err &&
	tail -n 1 e/metrics.jsonl >last &&
	ce=$(sed "s/.*\"ce\":\([^,]*\),.*/\1/" last) &&
	valid=$(sed "s/.*\"valid_loss\":\([^,]*\),.*/\1/" last) &&
	first=$(head -n 1 e/metrics.jsonl | sed "s/.*\"ce\":\([^,]*\),.*/\1/") &&
	test_comment "ce $first at step 1, $ce at step 200, valid $valid" &&
	loss=$(sed "s/.*\"loss\":\([^,]*\),.*/\1/" last) &&
	test_comment "loss with the aux losses at step 200: $loss" &&
	awk -v c="$ce" -v v="$valid" -v f="$first" -v l="$loss" "BEGIN { exit !(f > 2 && c < 0.05 && v < 0.05 && l < 0.05) }"
'

test_expect_success 'bad input: a missing manifest, exit 1' '
	mkdir empty &&
	test_must_fail_with 1 ling-train --preset tiny $O --data empty --out r1 2>err &&
	grep "ling-train: empty/manifest.json: cannot open the manifest: No such file" err
'

test_expect_success 'bad input: a truncated shard, exit 1' '
	cp -r ds cut &&
	size=$(wc -c <cut/train-000000.bin) &&
	head -c $((size - 10)) ds/train-000000.bin >cut/train-000000.bin &&
	test_must_fail_with 1 ling-train --preset tiny $O --data cut --out r2 2>err &&
	grep "cut/train-000000.bin: sequence 1999 .* lies outside the data file" err
'

test_expect_success 'bad input: a tokenizer larger than the model vocab, both numbers named, exit 1' '
	dataset big 5000 &&
	test_must_fail_with 1 ling-train --preset tiny $O --data big --out r3 2>err &&
	grep "5000 tokens, more than the model.s vocab_size 97" err
'

test_expect_success 'bad input: an unwritable run directory, exit 1' '
	echo file >notadir &&
	test_must_fail_with 1 ling-train --preset tiny $O --out notadir/run 2>err &&
	grep "notadir/run: cannot create the run directory" err
'

test_expect_success 'bad input: --resume with no checkpoint, exit 1; usage errors exit 2' '
	test_must_fail_with 1 ling-train --resume --data ds --out nothing $O 2>err &&
	grep "no checkpoint to resume from" err &&
	test_must_fail_with 1 ling-train --resume $O --batch 3 --out b 2>err &&
	grep "b/ckpt-20/trainer_state.json: --resume needs the --seq-len, --batch and --seed of the run (48, 4, 1 here)" err &&
	test_must_fail_with 2 ling-train --data ds --out r4 $O 2>err &&
	grep "one of --config FILE, --preset NAME, --init CKPT, --resume" err &&
	test_must_fail_with 2 ling-train --resume --preset tiny --data ds --out r4 $O 2>err &&
	test_must_fail_with 2 ling-train --init a/ckpt-20 --preset tiny $O --out r4 2>err &&
	grep "init takes the model of the checkpoint" err &&
	test_must_fail_with 2 ling-train --preset tiny --data ds --out r4 --schedule linear 2>err &&
	grep "schedule" err
'

A="--data ds --steps 60 --seq-len 48 --batch 8 --lr 3e-3 --min-lr 3e-4 --warmup 10 --threads 1"

# events RUN: the lines of RUN/metrics.jsonl with events, as "STEP EVENTS".
events() {
	grep -v "\"events\":\[\]" "$1/metrics.jsonl" | sed "s/^{\"step\":\([0-9]*\),.*\"events\":\(.*\)}\$/\1 \2/"
}

test_expect_success 'anomalies: without a spike, no events (the 200-step run, the resumed runs)' '
	! grep -v "\"events\":\[\]" e/metrics.jsonl &&
	! grep -v "\"events\":\[\]" b/metrics.jsonl
'

test_expect_success 'anomalies: a garbage batch at step 40 is skipped, its documents requeued, training goes on' '
	LING_TEST_POISON=tokens:40 ling-train --preset tiny $A --out s1 2>err &&
	events s1 >actual &&
	test_comment "$(cat actual)" &&
	grep "^40 \[{\"type\":\"spike\",\"what\":\"loss\",\"value\":[0-9.]*,\"z\":[0-9.]*,\"action\":\"skip\"}\]\$" actual &&
	test $(wc -l <actual) -eq 1 &&
	test $(wc -l <s1/metrics.jsonl) -eq 60 &&
	grep "\"requeued\":\[\[[0-9]*,[0-9]*\]" s1/ckpt-60/trainer_state.json &&
	ling-train --preset tiny $A --out s0 2>err &&
	grep "\"requeued\":\[\]" s0/ckpt-60/trainer_state.json &&
	last=$(sed -n "60s/.*\"ce\":\([^,]*\),.*/\1/p" s1/metrics.jsonl) &&
	awk -v c="$last" "BEGIN { exit !(c < 0.2) }"
'

test_expect_success 'anomalies: a spike again on the retry is applied at a tenth of the learning rate' '
	LING_TEST_POISON=tokens:40:2 ling-train --preset tiny $A --out s2 2>err &&
	events s2 >actual &&
	grep "^40 \[{\"type\":\"spike\",.*\"action\":\"skip\"},{\"type\":\"spike\",.*\"action\":\"lower_lr\"}\]\$" actual &&
	lr0=$(sed -n "40s/.*\"lr\":\([^,]*\),.*/\1/p" s0/metrics.jsonl) &&
	lr2=$(sed -n "40s/.*\"lr\":\([^,]*\),.*/\1/p" s2/metrics.jsonl) &&
	awk -v a="$lr0" -v b="$lr2" "BEGIN { d = b - a / 10; exit !(d < 1e-12 && d > -1e-12) }"
'

test_expect_success 'anomalies: a NaN gradient never reaches the weights; three in a row end the run (exit 1)' '
	LING_TEST_POISON=nan:5 ling-train --preset tiny $A --steps 10 --out s3 2>err &&
	events s3 >actual &&
	grep "^5 \[{\"type\":\"nonfinite\",\"what\":\"grad_norm\",\"value\":\"nan\",\"z\":0,\"action\":\"skip\"}\]\$" actual &&
	! grep -i "nan" s3/metrics.jsonl | grep -v "^{\"step\":5," &&
	test_must_fail_with 1 env LING_TEST_POISON=nan:5:3 ling-train --preset tiny $A --steps 10 --out s4 2>err &&
	grep "step 5: a non-finite loss or gradient in 3 batches in a row; the weights were not updated" err
'

test_done
