#!/bin/sh
test_description='tokenize build on a full disk: a clear error, exit 1, the dataset as it was, a rerun equal to a clean run'
. "$(dirname "$0")/lib.sh"

GPT2=$LING_DATA/tokenizers/gpt2.tokenizer.json.zst

command -v python3 >/dev/null || test_skip_all "no python3 (the Megatron reader)"
[ "$(id -u)" = 0 ] || test_skip_all "not root: cannot mount a small tmpfs to fill"
mkdir -p small && mount -t tmpfs -o size=1m tmpfs small 2>mount.err ||
	test_skip_all "cannot mount a tmpfs: $(cat mount.err)"

mread() {
	python3 "$LING_ROOT/tests/tools/megatron_read.py" "$@"
}

# gen FIRST LAST: text records with ids r-FIRST .. r-LAST.
gen() {
	awk -v a="$1" -v b="$2" 'BEGIN { for (i = a; i <= b; i++)
		printf "{\"id\":\"r-%d\",\"text\":\"record %d: the quick brown fox %d jumps over the lazy dog\"}\n", i, i, i * 7 }'
}

# snapshot DIR OUT: every shard of DIR read back, and the manifest.
snapshot() {
	for f in "$1"/*.idx; do
		echo "== ${f##*/}" && mread "${f%.idx}" || return 1
	done >"$2" &&
	cat "$1/manifest.json" >>"$2"
}

test_expect_success 'setup: a dataset on the small disk, and the same built on a roomy one' '
	gen 1 1000 >night1.jsonl &&
	gen 1001 60000 >night2.jsonl &&
	tokenize build -q -t "$GPT2" --out small/ds night1.jsonl &&
	snapshot small/ds before &&
	mkdir roomy &&
	tokenize build -q -t "$GPT2" --out roomy/ds night1.jsonl &&
	tokenize build -q -t "$GPT2" --out roomy/ds --append night2.jsonl &&
	snapshot roomy/ds clean
'

test_expect_success 'the disk fills mid-build: exit 1, no space named, a summary that says nothing was added' '
	test_must_fail_with 1 tokenize build -t "$GPT2" --out small/ds --append night2.jsonl 2>err &&
	grep "No space left on device" err &&
	grep "^tokenize: read [0-9]*, rejected 0; failed: nothing added to small/ds$" err &&
	! grep "wrote" err
'

test_expect_success 'the dataset is as it was, and readable' '
	snapshot small/ds after &&
	test_cmp before after &&
	ls small/ds >files &&
	sed -n "s/^ *\"name\": \"\(.*\)\",\$/\1/p" small/ds/manifest.json >names &&
	for n in $(cat names); do printf "%s\n" $n.bin $n.idx $n.mask.bin $n.mask.idx; done >expect &&
	echo manifest.json >>expect &&
	sort expect >expect.sorted && sort files >files.sorted &&
	test_cmp expect.sorted files.sorted
'

test_expect_success 'with room again, the rerun gives what a run without the full disk gave' '
	mount -o remount,size=64m small &&
	tokenize build -q -t "$GPT2" --out small/ds --append night2.jsonl &&
	snapshot small/ds rerun &&
	test_cmp clean rerun
'

test_expect_success 'cleanup: unmount' '
	umount small
'

test_done
