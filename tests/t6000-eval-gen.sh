#!/bin/sh
test_description='eval generation: KV-cache decoding equals recomputation, logits equal ling-train forward, stops, bad checkpoints'
. "$(dirname "$0")/lib.sh"

# A byte-level BPE of 300 ids, and models of 320 (random weights, large enough to
# give varied greedy outputs): one dense layer then two MoE layers (top-2,
# shared expert, GQA, NormHead), and a variant (top-1, no shared expert, no
# GQA, no NormHead).
cat >docs.txt <<'EOF'
Who directed Blade Runner? Ridley Scott directed Blade Runner in 1982.
<tool_call>{"name": "directed_by", "arguments": {"film": "Blade Runner"}}</tool_call>
Which films did Harrison Ford star in? Star Wars, Blade Runner and Witness.
EOF
for i in 1 2 3 4 5 6; do cat docs.txt; done >corpus.txt

test_expect_success 'setup: a tokenizer and two random checkpoints with it' '
	tokenize train -q --vocab-size 300 --special "<|endoftext|>" --special "<|im_start|>" \
		--special "<|im_end|>" -o tok.json corpus.txt &&
	sed -e "s/\"vocab_size\": 97/\"vocab_size\": 320/" \
	    -e "s/\"max_position_embeddings\": 128/\"max_position_embeddings\": 512/" \
	    -e "s/\"initializer_range\": 0.05/\"initializer_range\": 0.5/" \
		"$LING_DATA/train-parity-config.json" >moe.json &&
	grep "\"vocab_size\": 320" moe.json && grep "\"initializer_range\": 0.5" moe.json &&
	sed -e "s/\"num_experts_per_tok\": 2/\"num_experts_per_tok\": 1/" \
	    -e "s/\"num_shared_experts\": 1/\"num_shared_experts\": 0/" \
	    -e "s/\"num_key_value_heads\": 2/\"num_key_value_heads\": 4/" \
	    -e "s/\"norm_head\": true/\"norm_head\": false/" moe.json >variant.json &&
	grep "\"norm_head\": false" variant.json && grep "\"num_shared_experts\": 0" variant.json &&
	ling-train init --config moe.json --seed 5 --out ck &&
	cp tok.json ck/tokenizer.json &&
	printf "{\"chat_template_name\": \"ling\"}\n" >ck/tokenizer_config.json &&
	ling-train init --config variant.json --seed 6 --out var &&
	cp tok.json var/tokenizer.json
'

test_expect_success 'open: the checkpoint with its tokenizer and template (qwen when it names none)' '
	eval_gen_check open ck >out &&
	echo "template ling vocab 320 context 512 tokenizer 300" >expect &&
	test_cmp expect out &&
	eval_gen_check open var >out &&
	echo "template qwen vocab 320 context 512 tokenizer 300" >expect &&
	test_cmp expect out
'

test_expect_success 'open: a run directory and its latest file name the newest checkpoint' '
	mkdir run && cp -r ck run/ckpt-7 && echo ckpt-7 >run/latest &&
	eval_gen_check open run >out &&
	echo "template ling vocab 320 context 512 tokenizer 300" >expect &&
	test_cmp expect out &&
	eval_gen_check open run/latest >out &&
	test_cmp expect out
'

for model in ck var
do
	test_expect_success "$model: KV-cache decoding equals recomputation at every step, token for token, on 20 prompts" '
		eval_gen_check cache $model 16 1 >out &&
		cat out &&
		test $(grep -c "^prompt .*: equal$" out) = 20 &&
		grep "^20 prompts, 320 tokens generated (.* distinct), .* prompt tokens reused: all equal$" out &&
		distinct=$(sed -n "s/^20 prompts, 320 tokens generated (\([0-9]*\) distinct).*/\1/p" out) &&
		test "$distinct" -ge 40 &&
		grep "^prompt 1: 70 tokens, 48 reused, 22 prefilled" out &&
		grep "^prompt 15: .* 83 reused, 10 prefilled" out &&
		grep "^prompt 16: 93 tokens, 92 reused, 1 prefilled" out
	'
done

test_expect_success 'the greedy outputs are not one token repeated (the check above compares something)' '
	eval_gen_check stops ck >stops &&
	sed -n "s/^  output: //p" stops | tr " " "\n" | sort -u >distinct &&
	test $(wc -l <distinct) -ge 8
'

for n in 1 65 150
do
	test_expect_success "eval_logits equals ling-train forward --logits bit for bit ($n positions)" '
		awk -v n=$n "BEGIN { srand(n); printf \"[[\"; for (i = 0; i < n; i++) printf \"%s%d\", i ? \",\" : \"\", int(rand() * 320); print \"]]\" }" >tokens.json &&
		ling-train forward --checkpoint ck --tokens tokens.json --logits logits.st >fwd &&
		eval_gen_check logits ck tokens.json logits.st >out &&
		echo "$n positions, $((n * 320)) logits: 0 differ, largest difference 0" >expect &&
		test_cmp expect out &&
		ling-train forward --checkpoint var --tokens tokens.json --logits logits.st >fwd &&
		eval_gen_check logits var tokens.json logits.st >out &&
		test_cmp expect out
	'
done

test_expect_success 'ling-train forward --logits: only for forward, never over an input' '
	test_must_fail_with 2 ling-train init --preset tiny --out x --logits l.st 2>err &&
	grep "are for forward" err &&
	test_must_fail_with 2 ling-train forward --checkpoint ck --tokens tokens.json --logits tokens.json 2>err &&
	grep "would overwrite an input" err
'

test_expect_success 'stops: a stop token, stop strings (within a token, across two), the length, a full context; bad prompts refused' '
	eval_gen_check stops ck >out &&
	cat out &&
	grep "^length: 24 tokens, stopped for length$" out &&
	grep "^stop token [0-9]*: [0-9]* tokens, stopped for token$" out &&
	test $(grep -c "^stop string .*: [0-9]* tokens, stopped for string$" out) = 2 &&
	grep "^context [0-9]*: 5 tokens, stopped for context$" out &&
	grep "^a prompt longer than the context: a prompt of 44 tokens is longer than the context (25)$" out &&
	grep "^a token id of the vocabulary.s size: prompt position 0: token id 320 is not below the model.s vocab_size 320$" out &&
	grep "^an empty prompt: an empty prompt$" out &&
	grep "^after the errors: the same output$" out &&
	! grep FAILED out
'

test_expect_success 'text: a chat prompt encoded with its special tokens, continued, decoded' '
	eval_gen_check text ck "$(printf "<|im_start|>user\\nWho directed Blade Runner?<|im_end|>\\n<|im_start|>assistant\\n")" 12 >out &&
	tail -n 1 out >last &&
	grep -E "^([1-9]|1[0-2]) tokens, stopped for (token|string|length)$" last
'

test_expect_success 'a tokenizer with more ids than the model: a clear error' '
	zstd -q -d -c "$LING_DATA/tokenizers/gpt2.tokenizer.json.zst" >gpt2.json &&
	test_must_fail_with 1 eval_gen_check open ck gpt2.json 2>err &&
	grep "gpt2.json: the tokenizer has 50257 token ids, more than the model.s vocab_size 320 in ck/config.json" err &&
	cp -r ck wrongtok && cp gpt2.json wrongtok/tokenizer.json &&
	test_must_fail_with 1 eval_gen_check open wrongtok 2>err &&
	grep "wrongtok/tokenizer.json: the tokenizer has 50257 token ids" err
'

test_expect_success 'a truncated checkpoint, a missing tokenizer, an unknown template: clear errors' '
	cp -r ck cut &&
	size=$(wc -c <ck/model.safetensors) &&
	head -c $((size / 2)) ck/model.safetensors >cut/model.safetensors &&
	test_must_fail_with 1 eval_gen_check open cut 2>err &&
	grep "^eval_gen_check: cut/model.safetensors" err &&
	cp -r ck notok && rm notok/tokenizer.json &&
	test_must_fail_with 1 eval_gen_check open notok 2>err &&
	grep "notok: the checkpoint has no tokenizer.json (give one with --tokenizer)" err &&
	eval_gen_check open notok tok.json >out &&
	grep "^template ling vocab 320" out &&
	cp -r ck badtpl && echo "{\"chat_template_name\": \"llama\"}" >badtpl/tokenizer_config.json &&
	test_must_fail_with 1 eval_gen_check open badtpl 2>err &&
	grep "unknown chat_template_name .llama. (templates: qwen, ling)" err &&
	test_must_fail_with 1 eval_gen_check open nowhere 2>err &&
	grep "nowhere" err
'

test_done
