#!/bin/sh
test_description='kg2samples output replayed by the independent checker (tests/tools/check-samples.py through kg-query --calls)'
. "$(dirname "$0")/lib.sh"

# The checker shares no code with the generator: it parses each line with
# Python's json, validates arguments against the offered schemas, replays
# every call through kg-query (RocksDB, not kg2samples' in-memory snapshot)
# and recomputes the answers.
CHECK=$LING_ROOT/tests/tools/check-samples.py
SHARED=$LING_ROOT/../shared/data
test -r "$SHARED/fb15k-237/FB15k-237.tar.gz" && test -r "$LING_ROOT/../shared/tools/fb15k237_to_nt.py" &&
	test_set_prereq SHARED

# check_samples STORE FILE: replays FILE against STORE, with the store's dump for the evidence.
check_samples() {
	kg-query --store "$1" --dump >"$1.nq" &&
	python3 "$CHECK" --kg-query "$(command -v kg-query)" --store "$1" --dump "$1.nq" "$2" >"$2.check" 2>&1 ||
	{ cat "$2.check"; return 1; }
	cat "$2.check" >&2
	grep -q '^[0-9]* passed, 0 failed$' "$2.check"
}

# every_category FILE: the summary line of kg2samples (on stderr in FILE) names every category.
every_category() {
	for c in 1p 2p 3p 2i 3i ip pi 2u up 2in 3in inp pin pni parallel multiple irrelevance multi_turn \
		fact list count compare describe; do
		grep -q "[(,] \{0,1\}$c [1-9]" "$1" || { echo "no $c samples in: $(cat "$1")"; return 1; }
	done
}

test_expect_success 'FB15k-237 subgraph: 3000 samples of every category pass the checker' '
	kg-load --store fb "$LING_DATA/fb15k237-subgraph.nt.zst" 2>/dev/null &&
	kg2samples --store fb --seed 11 --count 3000 >fb.jsonl 2>fb.err &&
	test $(wc -l <fb.jsonl) -eq 3000 &&
	every_category fb.err &&
	check_samples fb fb.jsonl
'

test_expect_success 'MetaQA KB with its schema: 3000 samples of every category pass the checker' '
	kg-load --store mq --delimiter "|" --tsv-labels "$LING_ROOT/data/metaqa-kb.txt.zst" \
		"$LING_DATA/metaqa-schema.ttl" 2>/dev/null &&
	kg2samples --store mq --seed 5 --count 3000 >mq.jsonl 2>mq.err &&
	test $(wc -l <mq.jsonl) -eq 3000 &&
	every_category mq.err &&
	grep "rejected .*path revisits [1-9].*answer in question [1-9]" mq.err &&
	check_samples mq mq.jsonl
'

# The calls of samples that ask for a few answers pass "limit" (and some "sort"), as escaped arguments text.
test_expect_success 'some 1p samples ask for a few answers: calls with limit and sort, checked above' '
	for f in fb.jsonl mq.jsonl; do
		grep "\"category\":\"1p\"" $f | grep -c "\\\\\"limit\\\\\":[0-9]" >n.$f &&
		test $(cat n.$f) -ge 3 &&
		grep -q "\\\\\"sort\\\\\":\\\\\"reverse_alphabetical\\\\\",\\\\\"limit\\\\\":" $f || return 1
	done
'

test_expect_success SHARED 'full FB15k-237 with labels: 3000 samples of every category pass the checker' '
	python3 "$LING_ROOT/../shared/tools/fb15k237_to_nt.py" "$SHARED/fb15k-237/FB15k-237.tar.gz" \
		"$SHARED/fb15k-237/entity2wikidata.json" >fbfull.nt &&
	kg-load --store fbfull fbfull.nt 2>/dev/null &&
	rm fbfull.nt &&
	kg2samples --store fbfull --seed 7 --count 3000 >full.jsonl 2>full.err &&
	test $(wc -l <full.jsonl) -eq 3000 &&
	every_category full.err &&
	check_samples fbfull full.jsonl
'

# The literals fixture: value tools with typed arguments (integers, years, numbers, dates, texts),
# answers that are values, and samples that resolve the user's spelling with search_entities.
test_expect_success 'literals: 2000 samples with typed values and searches pass the checker' '
	kg-load --store lit "$LING_DATA/literals.ttl" 2>/dev/null &&
	kg2samples --store lit --seed 1 --count 2000 --allow-short >lit.jsonl 2>lit.err &&
	test $(wc -l <lit.jsonl) -ge 1980 &&
	every_category lit.err &&
	check_samples lit lit.jsonl &&
	cat >lit-stats.py <<-\EOF &&
	import json, re, sys
	VALUE_TOOLS = {"find_films_by_release_year": "int", "find_cities_by_population": "int",
	               "find_films_by_runtime": "int", "find_people_by_height": "num",
	               "find_people_by_birth_date": "date", "find_cities_by_nickname": "str"}
	FORWARD = {"get_film_release_year", "get_city_population", "get_film_runtime", "get_person_height",
	           "get_person_birth_date", "get_city_nickname"}
	TYPED = {"int": lambda x: type(x) is int, "num": lambda x: type(x) in (int, float),
	         "date": lambda x: re.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", x), "str": lambda x: type(x) is str}
	kinds = dict.fromkeys(TYPED, 0)
	values = searched = instr = ranges = 0
	for line in open(sys.argv[1], encoding="utf-8"):
	    d = json.loads(line)
	    msgs = d["messages"]
	    turns = [m["tool_calls"] for m in msgs if m.get("tool_calls")]
	    for c in (c["function"] for t in turns for c in t):
	        k = VALUE_TOOLS.get(c["name"])
	        if k:
	            args = json.loads(c["arguments"])
	            v = next(iter(args.values()))  # the value first, then "to", "sort", "limit"
	            assert TYPED[k](v) and ("to" not in args or TYPED[k](args["to"])), c
	            kinds[k] += 1
	            ranges += "to" in args
	    if turns and d["category"] != "multi_turn" and all(c["function"]["name"] in FORWARD for c in turns[-1]):
	        values += 1
	    if d["kind"] == "instruction" and any(c["name"] in FORWARD for c in d["meta"]["calls"]):
	        instr += 1
	    if turns and turns[0][0]["function"]["name"] == "search_entities":
	        asked = json.loads(turns[0][0]["function"]["arguments"])["name"]
	        (found,) = json.loads(msgs[3]["content"])
	        assert asked == asked.lower() and asked in msgs[1]["content"], d["id"]
	        assert found != asked and found.lower() == asked, d["id"]
	        assert any(json.dumps(found, ensure_ascii=False) in c["function"]["arguments"] for c in turns[1]), d["id"]
	        searched += 1
	print("int %(int)d num %(num)d date %(date)d str %(str)d" % kinds, "values", values, "search", searched,
	      "instruction", instr, "ranges", ranges)
	assert kinds["int"] >= 100 and kinds["num"] >= 20 and kinds["date"] >= 20 and kinds["str"] >= 10, kinds
	assert values >= 50 and searched >= 20 and instr >= 10 and ranges >= 5, (values, searched, instr, ranges)
	EOF
	python3 lit-stats.py lit.jsonl
'

test_expect_success 'FB15k-237 subgraph: about one in ten pattern and multi_turn samples searches first' '
	python3 -c "
import json, sys
eligible = searched = 0
for line in open(sys.argv[1], encoding=\"utf-8\"):
    d = json.loads(line)
    if d[\"kind\"] != \"tool_use\" or d[\"category\"] in (\"parallel\", \"multiple\", \"irrelevance\"):
        continue
    eligible += 1
    first = next(m for m in d[\"messages\"] if m.get(\"tool_calls\"))[\"tool_calls\"][0][\"function\"]
    searched += first[\"name\"] == \"search_entities\"
print(searched, eligible)
assert 0.04 * eligible <= searched <= 0.12 * eligible, (searched, eligible)
" fb.jsonl
'

# Wording variety (tests/tools/sample-variety.py): distinct question and answer openers per 2000
# samples, and the share of the most frequent answer frame (main before issue 13 gave 67 and 67
# two-word openers and a top frame of 6.3% on this store; now about 230, 180 and 1%).
test_expect_success 'MetaQA KB: varied questions and answers' '
	python3 "$LING_ROOT/tests/tools/sample-variety.py" --json mq.jsonl >variety.json &&
	cat variety.json &&
	python3 -c "
import json, sys
v = json.load(open(sys.argv[1]))
assert v[\"q2\"] >= 150 and v[\"q3\"] >= 300 and v[\"a2\"] >= 120 and v[\"a3\"] >= 200, v
assert v[\"top_frame_share\"] <= 0.03, v
" variety.json
'

# A 1p sample made degenerate: its anchor renamed to its answer in the question and the call (the
# call then replays wrong too, but the checker must say first that the question names the answer).
test_expect_success 'a question that names its answer fails the checker as degenerate' '
	python3 -c "
import json, sys
for line in open(sys.argv[1], encoding=\"utf-8\"):
    d = json.loads(line)
    if d[\"category\"] != \"1p\" or len(d[\"answer\"]) != 1:
        continue
    call = d[\"messages\"][2][\"tool_calls\"][0][\"function\"]
    args = json.loads(call[\"arguments\"])
    (key, anchor), = args.items()
    if not isinstance(anchor, str) or anchor not in d[\"messages\"][1][\"content\"]:
        continue
    args[key] = d[\"answer\"][0]
    call[\"arguments\"] = json.dumps(args, ensure_ascii=False, separators=(\",\", \":\"))
    d[\"messages\"][1][\"content\"] = d[\"messages\"][1][\"content\"].replace(anchor, d[\"answer\"][0])
    print(json.dumps(d, ensure_ascii=False, separators=(\",\", \":\")))
    break
" mq.jsonl >degenerate.jsonl &&
	test -s degenerate.jsonl &&
	! check_samples mq degenerate.jsonl 2>/dev/null &&
	grep "^FAIL .*degenerate: the answer .* is named in the question" degenerate.jsonl.check
'

test_expect_success 'a sample with a wrong answer fails the checker (the check can fail)' '
	grep -m1 "\"answer\":\[\"" mq.jsonl | sed "s/\"answer\":\[\"/\"answer\":[\"Zz/" >tampered.jsonl &&
	test -s tampered.jsonl &&
	! grep -qxF -f tampered.jsonl mq.jsonl &&
	! check_samples mq tampered.jsonl 2>/dev/null
'

test_expect_success 'content null on a calling turn, or tools pasted into the system prompt, fail the checker' '
	grep -m1 "\"content\":\"\",\"tool_calls\"" mq.jsonl >calling.jsonl &&
	check_samples mq calling.jsonl >out &&
	sed "s/\"content\":\"\",\"tool_calls\"/\"content\":null,\"tool_calls\"/" calling.jsonl >null.jsonl &&
	! check_samples mq null.jsonl >out &&
	grep "content is not a string" out &&
	python3 -c "
import json, sys
s = json.loads(open(sys.argv[1]).read())
s[\"messages\"][0][\"content\"] += \"\\n\\nTools:\\n\" + json.dumps(s[\"tools\"])
print(json.dumps(s, ensure_ascii=False, separators=(\",\", \":\")))
" calling.jsonl >pasted.jsonl &&
	! check_samples mq pasted.jsonl >out &&
	grep "the system prompt lists the tool" out
'

test_done
