#!/bin/sh
test_description='dedup: exact and near duplicates, fields, dry run, explain, stats, bad input, state across runs'
. "$(dirname "$0")/lib.sh"

# Records 2 and 3 repeat record 1 (case and spacing; punctuation and the last word), record 5 repeats record 4's chat
# (punctuation, and a tool call's id and arguments, which are not its text).
cat >in.jsonl <<'EOF'
{"id":"a","text":"The quick brown fox jumps over the lazy dog by the river bank this morning while the farmer watches from the old wooden fence near his barn"}
{"id":"b","text":"the  QUICK brown fox jumps over the lazy dog by the river bank this morning while the farmer watches from the old wooden fence near his barn"}
{"id":"c","text":"The quick brown fox jumps over the lazy dog, by the river bank this morning! While the farmer watches from the old wooden fence near his house"}
{"id":"d","messages":[{"role":"user","content":"Where was the director of Alien born?"},{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"get_director","arguments":"{}"}}]},{"role":"assistant","content":"Ridley Scott was born in South Shields."}]}
{"id":"e","messages":[{"role":"user","content":"Where was the director of Alien born??"},{"role":"assistant","tool_calls":[{"id":"x9","type":"function","function":{"name":"get_director","arguments":"{\"film\":\"Alien\"}"}}]},{"role":"assistant","content":"Ridley Scott was born in South Shields."}]}
{"id":"f","text":"Something entirely different, with nothing to do with foxes or rivers at all"}
EOF

test_expect_success 'exact and near duplicates are dropped, the first kept, in order' '
	dedup in.jsonl >out 2>err &&
	grep "^dedup: read 6, wrote 3, rejected 0, dropped 3 (exact 1, near 2)$" err &&
	sed -n "1p;4p;6p" in.jsonl >expect &&
	test_cmp expect out
'

test_expect_success 'stdin, and the same with - and with gzip input' '
	dedup <in.jsonl >out-stdin 2>/dev/null &&
	test_cmp out out-stdin &&
	gzip -c in.jsonl >in.jsonl.gz &&
	dedup - <in.jsonl.gz >out-gz 2>/dev/null &&
	test_cmp out out-gz
'

test_expect_success 'the default text of a chat sample: message contents and tool names' '
	# Call ids and arguments do not count; another tool name does (--threshold 1: exact only, nearly).
	sed -n 4p in.jsonl >chat.jsonl &&
	sed -n 4p in.jsonl | sed "s/\"c1\"/\"c2\"/" >>chat.jsonl &&
	sed -n 4p in.jsonl | sed "s/{}/{\\\\\"film\\\\\":1}/" >>chat.jsonl &&
	sed -n 4p in.jsonl | sed "s/get_director/get_producer/" >>chat.jsonl &&
	test $(sort -u chat.jsonl | wc -l) = 4 &&
	dedup --threshold 1 chat.jsonl >out 2>err &&
	grep "wrote 2, rejected 0, dropped 2 (exact 2, near 0)" err &&
	sed -n "1p;4p" chat.jsonl >expect &&
	test_cmp expect out
'

test_expect_success '--threshold 1 keeps near duplicates, --threshold 0.5 drops more' '
	dedup --threshold 1 in.jsonl >/dev/null 2>err &&
	grep "dropped 2 (exact 1, near 1)" err &&
	dedup -t 0.5 in.jsonl >/dev/null 2>err &&
	grep "dropped 3" err
'

test_expect_success '--field chooses the text' '
	cat >f.jsonl <<-\EOF &&
	{"title":"Alpha","body":[{"text":"one"},{"text":"two"}],"text":"first"}
	{"title":"ALPHA","body":[{"text":"one"},{"text":"two"}],"text":"second"}
	{"title":"Alpha","body":[{"text":"one"},{"text":"three"}],"text":"first"}
	EOF
	dedup --field title --field "body[].text" f.jsonl >out 2>err &&
	grep "wrote 2, rejected 0, dropped 1 (exact 1, near 0)" err &&
	dedup -f text f.jsonl >out 2>err &&
	grep "wrote 2, rejected 0, dropped 1 (exact 1, near 0)" err &&
	test_must_fail_with 2 dedup --field "a..b" f.jsonl 2>err &&
	grep "^dedup: bad path" err
'

test_expect_success 'records without text are deduplicated on the whole line' '
	printf "{\"x\":1}\n{\"x\":1}\n{\"x\":2}\n{}\n" >notext.jsonl &&
	dedup --stats notext.jsonl >out 2>err &&
	grep "wrote 3, rejected 0, dropped 1 (exact 1, near 0)" err &&
	grep "no text 4" err
'

test_expect_success '--dry-run writes every record, marking the duplicates' '
	dedup --dry-run in.jsonl >out 2>err &&
	grep "^dedup: read 6, wrote 6, rejected 0, marked 3 (exact 1, near 2)$" err &&
	test $(grep -c "\"dup_of\"" out) = 3 &&
	sed -n 2p in.jsonl | sed "s/}\$/,\"dup_of\":{\"run\":1,\"source\":\"in.jsonl\",\"line\":1,\"id\":\"a\",\"kind\":\"exact\",\"similarity\":1}}/" >expect2 &&
	sed -n 2p out >line2 &&
	test_cmp expect2 line2 &&
	sed -n 5p out | grep "\"dup_of\":{\"run\":1,\"source\":\"in.jsonl\",\"line\":4,\"id\":\"d\",\"kind\":\"near\"" &&
	grep -v dup_of out >kept &&
	dedup in.jsonl 2>/dev/null >expect &&
	test_cmp expect kept
'

test_expect_success '--dry-run replaces a dup_of the record has already' '
	printf "{\"text\":\"same words here\"}\n{\"dup_of\":\"old\",\"text\":\"same words here\"}\n" >d.jsonl &&
	dedup --dry-run d.jsonl >out 2>/dev/null &&
	sed -n 2p out >line &&
	grep "^{\"dup_of\":{\"run\":1,\"source\":\"d.jsonl\",\"line\":1,\"id\":null,\"kind\":\"exact\",\"similarity\":1},\"text\":\"same words here\"}$" line
'

test_expect_success '--explain says which record each duplicate matched' '
	dedup --explain in.jsonl >/dev/null 2>err &&
	grep "^dedup: explain: {\"source\":\"in.jsonl\",\"line\":2,\"id\":\"b\",\"kind\":\"exact\",\"similarity\":1,\"dup_of\":{\"run\":1,\"source\":\"in.jsonl\",\"line\":1,\"id\":\"a\"}}$" err &&
	grep "^dedup: explain: {\"source\":\"in.jsonl\",\"line\":3,\"id\":\"c\",\"kind\":\"near\",\"similarity\":0\.[0-9]*,\"dup_of\":{\"run\":1,\"source\":\"in.jsonl\",\"line\":1,\"id\":\"a\"}}$" err &&
	dedup --explain=explain.jsonl in.jsonl >/dev/null 2>err &&
	test $(wc -l <explain.jsonl) = 3 &&
	! grep explain err &&
	python3 -c "import json,sys; [json.loads(l) for l in open(\"explain.jsonl\")]"
'

test_expect_success '--stats prints the counts of each kind' '
	dedup --stats in.jsonl >/dev/null 2>err &&
	grep "^dedup: stats: kept 3, exact 1, near 2, no text 0, rejected 0$" err &&
	grep "^dedup: stats: candidates [0-9]* (confirmed 2, below threshold [0-9]*), run 1, records in the state 3$" err &&
	grep "^dedup: stats: .* records/s" err
'

test_expect_success 'a bad JSON line: positioned error, exit 1' '
	{ head -2 in.jsonl && echo "{\"text\": oops}" && tail -3 in.jsonl; } >bad.jsonl &&
	test_must_fail_with 1 dedup bad.jsonl >out 2>err &&
	grep "^dedup: bad.jsonl:3:[0-9]*: bad JSON: " err &&
	grep "rejected 1" err
'

test_expect_success '--max-errors skips bad lines and reports each' '
	{ cat bad.jsonl && echo "[1,2]" && printf "{\"text\":\"caf\\351\"}\n"; } >bad3.jsonl &&
	dedup --max-errors 3 bad3.jsonl >out 2>err &&
	grep "^dedup: bad3.jsonl:3:" err &&
	grep "^dedup: bad3.jsonl:7:1: a record must be a JSON object$" err &&
	grep "^dedup: bad3.jsonl:8:[0-9]*: bad JSON: unable to decode byte 0xe9" err &&
	grep "read 8, wrote 3, rejected 3" err &&
	test_must_fail_with 1 dedup -e 2 bad3.jsonl >out 2>err &&
	grep "rejected 3" err
'

test_expect_success 'blank lines are skipped but counted in positions' '
	printf "{\"text\":\"a b\"}\n\n  \n{\"text\":\n" >blank.jsonl &&
	test_must_fail_with 1 dedup blank.jsonl >out 2>err &&
	grep "^dedup: blank.jsonl:4:" err &&
	grep "read 2," err
'

test_expect_success 'a state remembers across runs' '
	head -3 in.jsonl >night1.jsonl &&
	tail -4 in.jsonl >night2.jsonl &&
	dedup --state st night1.jsonl >out1 2>err1 &&
	grep "wrote 1," err1 &&
	dedup --state st --confirm 2>err &&
	grep "^dedup: confirmed 1 records$" err &&
	dedup --state st --explain night2.jsonl >out2 2>err2 &&
	grep "read 4, wrote 2, rejected 0, dropped 2 (exact 0, near 2)" err2 &&
	grep "\"source\":\"night2.jsonl\",\"line\":1,\"id\":\"c\",\"kind\":\"near\",.*\"dup_of\":{\"run\":1,\"source\":\"night1.jsonl\",\"line\":1,\"id\":\"a\"}" err2 &&
	cat out1 out2 >both &&
	dedup in.jsonl >expect 2>/dev/null &&
	test_cmp expect both &&
	dedup --state st --confirm 2>err &&
	dedup --state st --stats night2.jsonl >out3 2>err3 &&
	test ! -s out3 &&
	grep "run 3, records in the state 3" err3
'

test_expect_success 'a state made with other parameters is refused' '
	test_must_fail_with 1 dedup --state st --ngram 3 night1.jsonl >out 2>err &&
	grep "^dedup: st: the state was made with other parameters (ngram=5 bands=14 rows=8 threshold=0.8" err &&
	test_must_fail_with 1 dedup --state st --bands 16 --rows 7 night1.jsonl 2>err &&
	test_must_fail_with 1 dedup --state st --threshold 0.9 night1.jsonl 2>err &&
	grep "threshold=0.9" err
'

test_expect_success '--dry-run with a state changes nothing' '
	echo "{\"text\":\"a new record for the dry run\"}" >new.jsonl &&
	dedup --state st --dry-run new.jsonl >out 2>err &&
	grep "wrote 1," err &&
	dedup --state st new.jsonl >out 2>err &&
	grep "wrote 1," err &&
	test_must_fail_with 1 dedup --state no-such-state --dry-run new.jsonl 2>err &&
	grep "no such state" err
'

test_expect_success '--out writes segments committed with the state' '
	dedup --state st-out --out segs night1.jsonl >stdout 2>err &&
	test ! -s stdout &&
	dedup --state st-out --out segs night2.jsonl 2>err &&
	ls segs >list &&
	printf "part-00000000.jsonl\npart-00000001.jsonl\n" >expect-list &&
	test_cmp expect-list list &&
	cat segs/part-* >both &&
	test_cmp expect both
'

test_expect_success 'usage errors exit 2; a missing input exits 1 before the state is made' '
	test_must_fail_with 2 dedup --threshold 1.5 in.jsonl 2>err &&
	grep "^dedup: --threshold" err &&
	test_must_fail_with 2 dedup --bands 0 in.jsonl &&
	test_must_fail_with 2 dedup --rows 300 --bands 4 in.jsonl &&
	test_must_fail_with 2 dedup --threads 0 in.jsonl &&
	test_must_fail_with 2 dedup --out o in.jsonl 2>err &&
	grep "needs --state" err &&
	test_must_fail_with 2 dedup --state s --out o --dry-run in.jsonl &&
	test_must_fail_with 1 dedup --state never no-such.jsonl 2>err &&
	grep "^dedup: no-such.jsonl: cannot open" err &&
	test ! -e never
'

test_expect_success 'a directory that is not a state is refused' '
	mkdir notastate && echo hello >notastate/file &&
	test_must_fail_with 1 dedup --state notastate in.jsonl 2>err &&
	grep "not a dedup state" err
'

test_expect_success '--help and --version' '
	dedup --help >out &&
	grep "^usage: dedup \[options\] \[FILE...\]$" out &&
	grep "at least once" out &&
	dedup --version >out &&
	grep "^dedup (ling) [0-9]" out
'

test_done
