#!/bin/sh
test_description='tokenize encode/decode: id-for-id equal to HF tokenizers and tiktoken on the golden files'
. "$(dirname "$0")/lib.sh"

D=$LING_DATA/tokenizers

# ids_of JSONL: the {"ids":[...]} of each golden record (ids is the last key).
ids_of() {
	sed 's/.*"ids":\(\[[^]]*\]\)}$/{"ids":\1}/' "$1"
}

# golden NAME TOKENIZER GOLDEN [FLAGS]: every case of GOLDEN encodes to its ids.
golden() {
	name=$1 tok=$2 gold=$3
	shift 3
	zstd -dcq "$D/$gold.jsonl.zst" >gold.jsonl &&
	ids_of gold.jsonl >expect &&
	tokenize encode -q --jsonl "$@" --tokenizer "$D/$tok" <gold.jsonl >actual &&
	same=$(paste -d "	" actual expect | awk -F "	" '$1 == $2' | wc -l) &&
	total=$(wc -l <expect) &&
	test_comment "$name: $same/$total" &&
	test_cmp expect actual
}

# Golden semantics (shared/data/tokenizers/README.md): gpt2, cl100k and o200k are
# tiktoken encode_ordinary (no special tokens); qwen3 and mistral are HF, where
# added tokens are matched in the text (--special).
test_expect_success 'gpt2 tokenizer.json = tiktoken gpt2' '
	golden gpt2 gpt2.tokenizer.json.zst gpt2
'
test_expect_success 'cl100k_base.tiktoken = tiktoken cl100k_base' '
	golden cl100k_base cl100k_base.tiktoken.zst cl100k_base
'
test_expect_success 'gpt4o-o200k-hf tokenizer.json = tiktoken o200k_base' '
	golden o200k_base gpt4o-o200k-hf.tokenizer.json.zst o200k_base
'
test_expect_success 'qwen3 tokenizer.json (NFC, Split, pair merges) = HF' '
	golden qwen3 qwen3.tokenizer.json.zst qwen3 --special
'
test_expect_success 'mistral tokenizer.json (SentencePiece BPE, byte fallback) = HF' '
	golden mistral-7b-v0.1 mistral-7b-v0.1.tokenizer.json.zst mistral-7b-v0.1 --special
'

# specials NAME SEMANTICS TOKENIZER: the specials.jsonl cases of NAME with SEMANTICS, encoded with --special.
specials() {
	zstd -dcq "$D/specials.jsonl.zst" | grep -F "\"tokenizer\":\"$1\",\"semantics\":\"$2" >cases &&
	test -s cases &&
	ids_of cases >expect &&
	tokenize encode -q --jsonl --special --tokenizer "$D/$3" <cases >actual &&
	test_comment "specials $1: $(wc -l <expect) cases" &&
	test_cmp expect actual
}

test_expect_success 'special tokens in the text with --special' '
	specials gpt2 "HF tokenizer.json" gpt2.tokenizer.json.zst &&
	specials cl100k_base "tiktoken encode" cl100k_base.tiktoken.zst &&
	specials gpt4o-o200k-hf "HF tokenizer.json" gpt4o-o200k-hf.tokenizer.json.zst &&
	specials qwen3 "HF tokenizer.json" qwen3.tokenizer.json.zst &&
	specials mistral-7b-v0.1 "HF tokenizer.json" mistral-7b-v0.1.tokenizer.json.zst
'

# Decoding the golden ids and encoding the text again gives the same ids, and
# for byte-level tokenizers without a normalizer the very same text.
for t in gpt2:gpt2.tokenizer.json.zst cl100k_base:cl100k_base.tiktoken.zst \
	o200k_base:gpt4o-o200k-hf.tokenizer.json.zst mistral-7b-v0.1:mistral-7b-v0.1.tokenizer.json.zst
do
	name=${t%%:*} tok=${t#*:}
	test_expect_success "$name: decode then encode round-trips the golden ids" "
		zstd -dcq \"\$D/$name.jsonl.zst\" | sed 's/.*\"ids\":\\(\\[[^]]*\\]\\)}\$/{\"ids\":\\1}/' >ids &&
		tokenize decode -q --jsonl --tokenizer \"\$D/$tok\" <ids >texts &&
		test \$(wc -l <texts) -eq \$(wc -l <ids) &&
		tokenize encode -q --jsonl --tokenizer \"\$D/$tok\" <texts >again &&
		test_cmp ids again
	"
done

test_expect_success 'plain text: one line of ids per line, decode gives the text back' '
	printf "Hello world\n\n  two  spaces\n" >in &&
	tokenize encode -q -t "$D/gpt2.tokenizer.json.zst" in >ids &&
	printf "15496 995\n\n220 734 220 9029\n" >expect &&
	test_cmp expect ids &&
	tokenize decode -q -t "$D/gpt2.tokenizer.json.zst" ids >out &&
	test_cmp in out
'

test_expect_success 'mistral: no BOS, leading ▁ added and removed again' '
	echo "Hello world" | tokenize encode -q -t "$D/mistral-7b-v0.1.tokenizer.json.zst" >ids &&
	echo "22557 1526" >expect &&
	test_cmp expect ids &&
	echo "1 22557 1526 2" | tokenize decode -q -t "$D/mistral-7b-v0.1.tokenizer.json.zst" >out &&
	echo "<s> Hello world</s>" >expect &&
	test_cmp expect out
'

test_expect_success 'summary line on stderr' '
	printf "a\nb\n" | tokenize encode -t "$D/gpt2.tokenizer.json.zst" >out 2>err &&
	echo "tokenize: read 2, wrote 2, rejected 0" >expect &&
	test_cmp expect err
'

test_expect_success 'invalid UTF-8: a positioned error, exit 1' '
	printf "ok\nab\377c\nnext\n" >bad.txt &&
	test_must_fail_with 1 tokenize encode -q -t "$D/gpt2.tokenizer.json.zst" bad.txt >out 2>err &&
	grep "^tokenize: bad.txt:2:3: invalid UTF-8" err &&
	echo "482" >expect && test_cmp expect out
'

test_expect_success '--max-errors skips bad lines and goes on' '
	printf "ok\nab\377c\nnext\n" >bad.txt &&
	tokenize encode -q --max-errors 1 -t "$D/gpt2.tokenizer.json.zst" bad.txt >out 2>err &&
	grep -c "^tokenize: bad.txt:2:3:" err &&
	test $(wc -l <out) -eq 2
'

test_expect_success 'malformed tokenizer.json: a positioned error, exit 1' '
	printf "{\"model\": {\"type\": \"BPE\",\n  \"vocab\": {\"a\": 0,}}}\n" >broken.json &&
	test_must_fail_with 1 tokenize encode -t broken.json </dev/null >out 2>err &&
	grep "^tokenize: broken.json:2:[0-9]*: bad JSON" err &&
	test ! -s out
'

test_expect_success 'tokenizer.json with a merge of unknown tokens: exit 1, names the merge' '
	printf "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1},\"merges\":[\"a b\"]}}" >nomerge.json &&
	test_must_fail_with 1 tokenize encode -t nomerge.json </dev/null 2>err &&
	grep "model.merges\[0\]" err
'

test_expect_success 'decode: an unknown id is an error with its position' '
	echo "15496 99999999" >ids &&
	test_must_fail_with 1 tokenize decode -q -t "$D/gpt2.tokenizer.json.zst" ids 2>err &&
	grep "^tokenize: ids:1:.*unknown token id 99999999" err
'

test_expect_success 'usage errors exit 2' '
	test_must_fail_with 2 tokenize encode </dev/null 2>err &&
	grep "tokenizer FILE is required" err &&
	test_must_fail_with 2 tokenize frobnicate -t x 2>err &&
	test_must_fail_with 2 tokenize 2>err
'

test_done
