#!/bin/sh
test_description='Megatron MMIDIDX shards written by tok_shard read back by an independent reader'
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null && test_set_prereq PYTHON

# mread PREFIX [--header]: the independent stdlib reader (tests/tools/megatron_read.py).
mread() {
	python3 "$LING_ROOT/tests/tools/megatron_read.py" "$@"
}

test_expect_success PYTHON 'u16 tokens round trip, with an empty document' '
	printf "10 11 12\n\n20 21\n65535 0 50256\n" >docs &&
	shardgen write s16 u16 <docs &&
	test -f s16.bin && test -f s16.idx &&
	! test -e s16.bin.tmp && ! test -e s16.idx.tmp &&
	mread s16 >actual &&
	test_cmp docs actual &&
	shardgen read s16 >actual &&
	test_cmp docs actual
'

test_expect_success PYTHON 'the header: u16 dtype, doc_idx 0..N' '
	echo "dtype=u16 sequences=4 documents=5 doc_idx=0,1,2,3,4" >expect &&
	mread s16 --header | head -n 1 >actual &&
	test_cmp expect actual
'

test_expect_success PYTHON 'the FORMATS.md example, one document per sequence, byte for byte' '
	printf "10 11 12\n20 21\n22\n" | shardgen write tiny u16 &&
	od -An -tx1 -v tiny.bin | tr -s " \n" "  " >actual &&
	printf "%s" " 0a 00 0b 00 0c 00 14 00 15 00 16 00 " >expect &&
	test_cmp expect actual &&
	test $(wc -c <tiny.idx) -eq 102 &&
	od -An -tx1 -v -N 34 tiny.idx | tr -s " \n" "  " >actual &&
	printf "%s" " 4d 4d 49 44 49 44 58 00 00 01 00 00 00 00 00 00 00 08 03 00 00 00 00 00 00 00 04 00 00 00 00 00 00 00 " >expect &&
	test_cmp expect actual
'

test_expect_success PYTHON 'i32 tokens round trip (ids past 65535)' '
	printf "65536 100000 2147483647\n128000\n\n0\n" >docs &&
	shardgen write s32 i32 <docs &&
	mread s32 --header >actual &&
	{ echo "dtype=i32 sequences=4 documents=5 doc_idx=0,1,2,3,4" && cat docs; } >expect &&
	test_cmp expect actual
'

test_expect_success PYTHON 'u8 loss-mask shard parallel to its token shard' '
	printf "1 0 1\n\n0 0\n1 1 1\n" >mask &&
	shardgen write s16.mask u8 <mask &&
	mread s16.mask --header >actual &&
	{ echo "dtype=u8 sequences=4 documents=5 doc_idx=0,1,2,3,4" && cat mask; } >expect &&
	test_cmp expect actual &&
	test $(wc -c <s16.mask.bin) -eq 8 &&
	mread s16 | awk "{ print NF }" >ntok &&
	mread s16.mask | awk "{ print NF }" >nmask &&
	test_cmp ntok nmask
'

test_expect_success PYTHON 'many documents' '
	awk "BEGIN { for (i = 0; i < 3000; i++) { s = \"\"; for (j = 0; j < i % 23; j++) s = s (j ? \" \" : \"\") (i * 31 + j) % 65000; print s } }" >docs &&
	shardgen write many u16 <docs &&
	mread many >actual &&
	test_cmp docs actual
'

test_expect_success 'an id too large for the dtype is refused, and nothing is left' '
	echo "1 256" >docs &&
	test_must_fail shardgen write big u8 <docs 2>err &&
	grep "does not fit u8" err &&
	! test -e big.bin && ! test -e big.idx && ! test -e big.bin.tmp && ! test -e big.idx.tmp
'

test_expect_success 'a truncated .idx is a data error, not a crash' '
	head -c 60 s16.idx >cut.idx && cp s16.bin cut.bin &&
	test_must_fail_with 1 shardgen read cut 2>err &&
	grep "cut.idx: index of 60 bytes does not hold" err
'

test_expect_success 'a truncated .bin is a data error' '
	cp s16.idx cutb.idx && head -c 9 s16.bin >cutb.bin &&
	test_must_fail_with 1 shardgen read cutb 2>err &&
	grep "cutb.bin: sequence 2 .* lies outside the data file of 9 bytes" err
'

test_expect_success 'a bad magic is a data error' '
	{ printf "XMIDIDX" && tail -c +8 s16.idx; } >magic.idx && cp s16.bin magic.bin &&
	test_must_fail_with 1 shardgen read magic 2>err &&
	grep "bad magic" err
'

test_done
