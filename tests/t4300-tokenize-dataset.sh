#!/bin/sh
test_description='tokenize build: the dataset directory (shards, masks, manifest, split, append, crash safety)'
. "$(dirname "$0")/lib.sh"

D=$LING_DATA/tokenizers
GPT2=$D/gpt2.tokenizer.json.zst
QWEN=$D/qwen3.tokenizer.json.zst

command -v python3 >/dev/null && test_set_prereq PYTHON

mread() {
	python3 "$LING_ROOT/tests/tools/megatron_read.py" "$@"
}

# gen FIRST LAST: text records with ids r-FIRST .. r-LAST.
gen() {
	awk -v a="$1" -v b="$2" 'BEGIN { for (i = a; i <= b; i++)
		printf "{\"id\":\"r-%d\",\"text\":\"record %d: the quick brown fox %d jumps\"}\n", i, i, i * 7 }'
}

# docs DIR: every document of DIR as "SPLIT TEXT", shards in manifest order, decoded with GPT-2.
docs() {
	sed -n 's/^ *"name": "\(.*\)",$/\1/p' "$1/manifest.json" >shards.list &&
	while read -r s
	do
		mread "$1/$s" >seq.tmp &&
		tokenize decode -q -t "$GPT2" seq.tmp | sed "s/^/${s%%-*} /" || return 1
	done <shards.list
}

# jval KEY FILE: the first integer value of "KEY" in FILE.
jval() {
	sed -n "s/^ *\"$1\": \([0-9]*\),*\$/\1/p" "$2" | head -n 1
}

test_expect_success PYTHON 'text records: the tokens read back are tokenize encode, the masks all 1' '
	gen 1 300 >a.jsonl &&
	tokenize build -q -t "$GPT2" --split 100,0,0 --out ds a.jsonl &&
	mread ds/train-000000 --header >got &&
	head -n 1 got >header &&
	echo "dtype=u16 sequences=300 documents=301 doc_idx=$(seq -s, 0 300)" >expect &&
	test_cmp expect header &&
	tokenize encode -q --jsonl -t "$GPT2" a.jsonl | sed "s/{\"ids\":\[\(.*\)\]}/\1/" | tr "," " " >expect &&
	tail -n +2 got >actual &&
	test_cmp expect actual &&
	awk "{ for (i = 1; i <= NF; i++) \$i = 1; print }" expect >expect.mask &&
	mread ds/train-000000.mask >actual.mask &&
	test_cmp expect.mask actual.mask &&
	test $(jval tokens ds/manifest.json) -eq $(wc -w <expect) &&
	test $(jval documents ds/manifest.json) -eq 300
'

test_expect_success PYTHON '--eod appends the token to each text record' '
	tokenize build -q -t "$GPT2" --split 100,0,0 --eod "<|endoftext|>" --out eod a.jsonl &&
	sed "s/\$/ 50256/" expect >expect.eod &&
	mread eod/train-000000 >actual &&
	test_cmp expect.eod actual &&
	test_must_fail_with 2 tokenize build -q -t "$GPT2" --eod "<|nope|>" --out eod2 a.jsonl 2>err &&
	grep "eod <|nope|>: the tokenizer has no such token" err
'

test_expect_success 'manifest: the sha256 of the tokenizer and of each source' '
	zstd -dcq "$GPT2" | sha256sum | cut -c1-64 >tok.sha &&
	grep "\"sha256\": \"$(cat tok.sha)\"" ds/manifest.json &&
	sha256sum a.jsonl | cut -c1-64 >src.sha &&
	grep "\"sha256\": \"$(cat src.sha)\"" ds/manifest.json &&
	grep "\"format\": \"ling-dataset\"" ds/manifest.json &&
	grep "\"dtype\": \"u16\"" ds/manifest.json
'

test_expect_success PYTHON 'chat samples and text records together, i32 ids (qwen3)' '
	cat >mixed.jsonl <<-\EOF &&
	{"id":"c1","messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!"}]}
	{"id":"t1","text":"plain text, all trained"}
	{"id":"c2","tools":[{"type":"function","function":{"name":"f","parameters":{}}}],"messages":[{"role":"user","content":"x"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"call_1","name":"f","content":"[]"},{"role":"assistant","content":"none"}]}
	EOF
	tokenize build -q -t "$QWEN" --split 100,0,0 --out mixed mixed.jsonl &&
	mread mixed/train-000000 --header | head -n 1 | grep "^dtype=i32 sequences=3 " &&
	mread mixed/train-000000.mask >mask &&
	mread mixed/train-000000 >ids &&
	awk "{ print NF }" ids >n.ids && awk "{ print NF }" mask >n.mask && test_cmp n.ids n.mask &&
	sed -n 2p ids >t.ids &&
	echo "{\"text\":\"plain text, all trained\"}" | tokenize encode -q --jsonl -t "$QWEN" | sed "s/{\"ids\":\[\(.*\)\]}/\1/" | tr "," " " >expect &&
	test_cmp expect t.ids &&
	sed -n 2p mask | grep -v 0 &&
	sed -n 3p mask | grep " 0 " && sed -n 3p mask | grep " 1 "
'

test_expect_success PYTHON 'a sample keeps its split as the data grows' '
	gen 1 400 >all.jsonl &&
	head -n 200 all.jsonl >first.jsonl &&
	tail -n 200 all.jsonl >rest.jsonl &&
	tokenize build -q -t "$GPT2" --split 80,10,10 --out s1 first.jsonl &&
	tokenize build -q -t "$GPT2" --split 80,10,10 --out s2 all.jsonl &&
	docs s1 | sort >d1 &&
	docs s2 | sort >d2 &&
	test $(wc -l <d1) -eq 200 && test $(wc -l <d2) -eq 400 &&
	comm -23 d1 d2 >moved &&
	test_cmp /dev/null moved &&
	for s in train valid test; do grep -c "^$s " d2 >>counts || :; done &&
	test_comment "train/valid/test of 400: $(cat counts | tr "\n" " ")" &&
	test $(sed -n 1p counts) -ge 280 && test $(sed -n 2p counts) -ge 15 && test $(sed -n 3p counts) -ge 15
'

test_expect_success PYTHON '--append adds shards after the existing ones; the splits are those of one run' '
	tokenize build -q -t "$GPT2" --split 80,10,10 --out ap first.jsonl &&
	cp ap/manifest.json m1 &&
	tokenize build -q -t "$GPT2" --append --out ap rest.jsonl &&
	test -f ap/train-000001.idx && test -f ap/train-000001.mask.idx &&
	docs ap | sort >dap &&
	test_cmp d2 dap &&
	test $(grep -c "\"run\": 2" ap/manifest.json) -ge 3 &&
	test $(jval documents ap/manifest.json) -eq 400 &&
	grep -A 3 "\"weights\"" ap/manifest.json | tr -d " \n" | grep "\[80,10,10" &&
	! cmp -s m1 ap/manifest.json
'

test_expect_success '--append of a source already in the dataset adds nothing' '
	cp ap/manifest.json m2 &&
	tokenize build -t "$GPT2" --append --out ap rest.jsonl 2>err &&
	grep "^tokenize: rest.jsonl: already in the dataset (same sha256), skipped" err &&
	grep "^tokenize: read 0, wrote 0, rejected 0;" err &&
	cmp m2 ap/manifest.json
'

test_expect_success 'conflicts with the dataset are refused and change nothing' '
	gen 401 410 >more.jsonl &&
	test_must_fail_with 2 tokenize build -q -t "$GPT2" --out ap more.jsonl 2>err &&
	grep "^tokenize: ap: holds a dataset already (manifest.json); use --append to add to it" err &&
	test_must_fail_with 1 tokenize build -q -t "$QWEN" --append --out ap more.jsonl 2>err &&
	grep "^tokenize: ap: the dataset was made with tokenizer sha256 " err &&
	test_must_fail_with 1 tokenize build -q -t "$GPT2" --append --split 90,5,5 --out ap more.jsonl 2>err &&
	grep "^tokenize: ap: the dataset is split 80,10,10, not 90,5,5 (a split must not change)" err &&
	test_must_fail_with 1 tokenize build -q -t "$GPT2" --append --text-field body --out ap more.jsonl 2>err &&
	grep "^tokenize: ap: the dataset has text_field \"text\", not \"body\"" err &&
	cmp m2 ap/manifest.json &&
	! test -e ap/train-000002.idx
'

test_expect_success PYTHON '--shard-tokens rolls shards at document boundaries' '
	tokenize build -q -t "$GPT2" --split 100,0,0 --out one all.jsonl &&
	tokenize build -q -t "$GPT2" --split 100,0,0 --shard-tokens 500 --out roll all.jsonl &&
	ls roll/train-*.idx | grep -v mask >idx &&
	test $(wc -l <idx) -ge 8 &&
	: >cat &&
	n=$(wc -l <idx) i=0 &&
	while read -r f
	do
		i=$((i + 1)) &&
		mread "${f%.idx}" >s &&
		cat s >>cat &&
		total=$(wc -w <s) last=$(tail -n 1 s | wc -w) &&
		if test $i -lt $n
		then
			test $total -ge 500 && test $((total - last)) -lt 500
		fi || return 1
	done <idx &&
	mread one/train-000000 >expect &&
	test_cmp expect cat &&
	test $(grep -c "\"name\": \"train-" roll/manifest.json) -eq $n
'

test_expect_success 'the same bytes with 1, 2 and 3 threads' '
	cat all.jsonl mixed.jsonl all.jsonl >big.jsonl &&
	for j in 1 2 3
	do
		tokenize build -q -t "$QWEN" -j $j --shard-tokens 1000 --out j$j big.jsonl || return 1
	done &&
	ls j1 >l1 && ls j2 >l2 && ls j3 >l3 &&
	test_cmp l1 l2 && test_cmp l1 l3 &&
	test $(wc -l <l1) -ge 12 &&
	for f in $(cat l1) manifest.json
	do
		cmp j1/$f j2/$f && cmp j1/$f j3/$f || return 1
	done
'

test_expect_success PYTHON 'kill -9 in the middle of --append: the old dataset stays, a rerun completes it' '
	tokenize build -q -t "$GPT2" --shard-tokens 1000 --out k first.jsonl &&
	cp k/manifest.json k1 &&
	gen 1001 4000 >late.jsonl &&
	mkfifo fifo &&
	# The writer keeps the pipe open (read-write: opening does not block) once the
	# records are in, so the run is caught with its batches written and more to come.
	{ timeout 60 sh -c "cat late.jsonl && exec sleep 50" 3>&- 1<>fifo & writer=$!; } &&
	{ tokenize build -q -t "$GPT2" --append --out k fifo 3>&- & pid=$!; } &&
	n=0 &&
	while ! test -e k/train-000004.idx && test $n -lt 300
	do
		sleep 0.1 && n=$((n + 1))
	done &&
	kill -9 $pid && kill $writer &&
	{ wait $pid || :; } &&
	test -e k/train-000004.idx &&
	cmp k1 k/manifest.json &&
	docs k | sort >dk1 &&
	test $(wc -l <dk1) -eq 200 &&
	tokenize build -q -t "$GPT2" --append --out k late.jsonl &&
	for f in $(ls k)
	do
		p=${f%.idx} && p=${p%.bin} && p=${p%.mask} &&
		test $f = manifest.json || grep "\"name\": \"$p\"" k/manifest.json >/dev/null || return 1
	done &&
	docs k | sort >dk2 &&
	test $(wc -l <dk2) -eq $(cat first.jsonl late.jsonl | wc -l) &&
	comm -23 dk1 dk2 >lost && test_cmp /dev/null lost
'

test_expect_success 'bad records: counted skips with --max-errors, else exit 1 and the dataset unchanged' '
	cat >bad.jsonl <<-\EOF &&
	{"id":"b1","text":"good"}
	{"id":"b2","body":"no text field"}
	{"id":"b3","text":42}
	{"id":"b4","text":"also good"}
	EOF
	printf "{\"id\":\"b5\",\"text\":\"bad \377 byte\"}\n" >>bad.jsonl &&
	cp k/manifest.json k2 &&
	ls k >before &&
	test_must_fail_with 1 tokenize build -t "$GPT2" --append --out k bad.jsonl 2>err &&
	grep "^tokenize: bad.jsonl:2: no \"messages\" (a chat sample) and no \"text\" (a text record)" err &&
	cmp k2 k/manifest.json &&
	ls k >after && test_cmp before after &&
	tokenize build -t "$GPT2" --append --max-errors 3 --out k bad.jsonl 2>err &&
	grep "^tokenize: bad.jsonl:3: \"text\" is not a string" err &&
	grep "^tokenize: bad.jsonl:5:[0-9]*: bad JSON: " err &&
	tail -n 1 err | grep "^tokenize: read 5, wrote 2, rejected 3;" &&
	grep -B 3 -A 4 "\"path\": \"bad.jsonl\"" k/manifest.json | grep "\"rejected\": 3"
'

test_expect_success 'a directory of other files, or a manifest that names a missing shard, is refused' '
	mkdir other && echo hi >other/notes.txt &&
	test_must_fail_with 2 tokenize build -q -t "$GPT2" --out other a.jsonl 2>err &&
	grep "^tokenize: other: holds notes.txt, which is not part of a dataset" err &&
	cp -r ds broken && rm broken/train-000000.mask.bin &&
	test_must_fail_with 1 tokenize build -q -t "$GPT2" --append --out broken more.jsonl 2>err &&
	grep "names shard train-000000, but train-000000.mask.bin is missing" err
'

test_expect_success 'usage errors exit 2' '
	test_must_fail_with 2 tokenize build -t "$GPT2" a.jsonl 2>err &&
	grep "build needs --out DIR" err &&
	test_must_fail_with 2 tokenize build --out x a.jsonl 2>err &&
	test_must_fail_with 2 tokenize build -t "$GPT2" --out x --split 1,2 a.jsonl 2>err &&
	grep "split needs three weights" err &&
	test_must_fail_with 2 tokenize build -t "$GPT2" --out x --split 0,0,0 a.jsonl 2>err &&
	grep "weights sum to 0" err &&
	test_must_fail_with 2 tokenize build -t "$GPT2" --out x -j 0 a.jsonl 2>err &&
	test_must_fail_with 2 tokenize build -t "$GPT2" --out x --shard-tokens 0 a.jsonl 2>err
'

test_done
