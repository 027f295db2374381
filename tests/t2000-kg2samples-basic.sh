#!/bin/sh
test_description='kg2samples: every category, JSON lines, determinism, shards, threads, formats, templates, errors'
. "$(dirname "$0")/lib.sh"

CATEGORIES='1p 2p 3p 2i 3i ip pi 2u up 2in 3in inp pin pni parallel multiple irrelevance multi_turn fact list count compare describe'

# The category counts of a summary line, as "name count" lines.
summary_counts() {
	sed -n 's/^kg2samples: wrote [0-9]* (\([^)]*\)).*/\1/p' "$1" | tr ',' '\n' | sed 's/^ *//'
}

# The same counted from the samples themselves (python3 parses every line, so a bad one fails).
sample_counts() {
	python3 -c '
import json, sys
counts = {}
for line in open(sys.argv[1], encoding="utf-8"):
    d = json.loads(line)
    counts[d["category"]] = counts.get(d["category"], 0) + 1
order = sys.argv[2].split()
for c in order:
    if c in counts:
        print(c, counts[c])
' "$1" "$CATEGORIES"
}

test_expect_success 'setup: the FB15k-237 subgraph and the MetaQA KB in stores' '
	kg-load -q --store fb "$LING_DATA/fb15k237-subgraph.nt.zst" &&
	kg-load -q --store mq --format tsv --delimiter "|" --tsv-labels "$LING_ROOT/data/metaqa-kb.txt.zst" &&
	if test -f "$LING_DATA/metaqa-schema.ttl"
	then
		kg-load -q --store mq "$LING_DATA/metaqa-schema.ttl"
	fi
'

test_expect_success 'FB15k-237: all 14 patterns and every other category, counted in the summary' '
	kg2samples --store fb --count 690 --seed 1 >out.jsonl 2>err &&
	cat err &&
	test $(grep -c "^kg2samples: " err) = 1 &&
	grep "^kg2samples: wrote 690 (.*), rejected [0-9]* (.*)$" err &&
	for c in $CATEGORIES
	do
		summary_counts err | grep "^$c [1-9][0-9]*$" || { echo "no $c"; exit 1; }
	done &&
	test $(wc -l <out.jsonl) = 690 &&
	summary_counts err >expect &&
	sample_counts out.jsonl >actual &&
	test_cmp expect actual
'

test_expect_success 'every line is one JSON object with the keys of the contract, in order' '
	python3 -c "
import json, sys
keys = [\"id\", \"kind\", \"category\", \"pattern\", \"tools\", \"messages\", \"answer\", \"meta\"]
ids = set()
for n, line in enumerate(open(sys.argv[1], encoding=\"utf-8\"), 1):
    d = json.loads(line)
    assert list(d) == keys, (n, list(d))
    assert d[\"id\"] not in ids, n
    ids.add(d[\"id\"])
    assert d[\"id\"].startswith(\"kg:\" + d[\"category\"] + \":\"), n
    assert d[\"meta\"][\"seed\"] == 1 and d[\"meta\"][\"index\"] == n - 1, n
    assert d[\"messages\"][0][\"role\"] == \"system\" and d[\"messages\"][-1][\"role\"] == \"assistant\", n
    assert d[\"answer\"] == sorted(set(d[\"answer\"]), key=lambda s: s.encode()), n
    if d[\"kind\"] == \"tool_use\" and d[\"category\"] != \"irrelevance\":
        assert d[\"answer\"] and any(\"tool_calls\" in m for m in d[\"messages\"]), n
" out.jsonl
'

test_expect_success 'the answer is the union of the last tool-calling turn, which the final reply names' '
	python3 -c "
import json, sys
n = 0
for line in open(sys.argv[1], encoding=\"utf-8\"):
    d = json.loads(line)
    if d[\"kind\"] != \"tool_use\" or d[\"category\"] == \"irrelevance\":
        continue
    msgs = d[\"messages\"]
    last = max(i for i, m in enumerate(msgs) if \"tool_calls\" in m)
    ids = [c[\"id\"] for c in msgs[last][\"tool_calls\"]]
    got = set()
    for m in msgs:
        if m[\"role\"] == \"tool\" and m[\"tool_call_id\"] in ids:
            got |= set(json.loads(m[\"content\"]))
    assert sorted(got) == sorted(d[\"answer\"]), d[\"id\"]
    for a in d[\"answer\"]:
        assert a in msgs[-1][\"content\"], (d[\"id\"], a)
    n += 1
assert n > 500, n
" out.jsonl
'

test_expect_success 'the same seed gives the same bytes, another seed other samples' '
	kg2samples -q --store fb --count 690 --seed 1 >again.jsonl &&
	cmp out.jsonl again.jsonl &&
	kg2samples -q --store fb --count 690 --seed 2 >seed2.jsonl &&
	! cmp -s out.jsonl seed2.jsonl &&
	test $(sort out.jsonl seed2.jsonl | uniq -d | wc -l) = 0
'

test_expect_success 'shards 0..2 of 3 put together are the whole run; so is a run on 3 threads' '
	for i in 0 1 2
	do
		kg2samples -q --store fb --count 690 --seed 1 --shard $i/3 >shard$i.jsonl || exit 1
	done &&
	test -s shard0.jsonl && test -s shard1.jsonl && test -s shard2.jsonl &&
	cat shard0.jsonl shard1.jsonl shard2.jsonl >shards.jsonl &&
	cmp out.jsonl shards.jsonl &&
	kg2samples -q --store fb --count 690 --seed 1 -j 3 >threads.jsonl &&
	cmp out.jsonl threads.jsonl
'

test_expect_success '--patterns and --mix choose the categories' '
	kg2samples --store fb --count 60 --patterns 2in,pni >p.jsonl 2>err &&
	grep "^kg2samples: wrote 60 (2in [0-9]*, pni [0-9]*)" err &&
	test $(grep -c "\"category\":\"2in\"" p.jsonl) -gt 10 &&
	test $(grep -c "\"category\":\"pni\"" p.jsonl) -gt 10 &&
	kg2samples --store fb --count 60 --mix all=0,instruction=1 >m.jsonl 2>err &&
	test $(grep -c "\"kind\":\"instruction\"" m.jsonl) = 60 &&
	grep "\"tools\":\[\]" m.jsonl >/dev/null &&
	kg2samples --store fb --count 40 --mix all=0,irrelevance=1 >i.jsonl 2>err &&
	grep "^kg2samples: wrote 40 (irrelevance 40)" err &&
	! grep tool_calls i.jsonl &&
	test $(grep -c "\"answer\":\[\]" i.jsonl) = 40
'

test_expect_success 'multiple offers many tools; --max-tools bounds them' '
	kg2samples -q --store fb --count 20 --patterns multiple --max-tools 12 >mt.jsonl &&
	python3 -c "
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    assert len(d[\"tools\"]) == 12, len(d[\"tools\"])
" mt.jsonl
'

test_expect_success '--format hermes: calls as <tool_call> text, results as <tool_response>' '
	kg2samples -q --store fb --count 50 --seed 1 --patterns 2p,2i --format hermes >h.jsonl &&
	test $(wc -l <h.jsonl) = 50 &&
	! grep "\"tool_calls\"" h.jsonl &&
	python3 -c "
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    calls = [m for m in d[\"messages\"] if m[\"role\"] == \"assistant\" and \"<tool_call>\" in m[\"content\"]]
    assert calls, d[\"id\"]
    for m in calls:
        for part in m[\"content\"].split(\"<tool_call>\\n\")[1:]:
            c = json.loads(part.split(\"\\n</tool_call>\")[0])
            assert set(c) == {\"name\", \"arguments\"} and isinstance(c[\"arguments\"], dict)
    tools = [m for m in d[\"messages\"] if m[\"role\"] == \"tool\"]
    assert tools and all(m[\"content\"].startswith(\"<tool_response>\\n\") for m in tools)
" h.jsonl
'

# tools_once.py HERMES OPENAI: hermes has the tools once, in its system prompt's <tools> block
# (the openai sample's tools, one per line), and no "tools"; openai has them only in "tools".
cat >tools_once.py <<\EOF
import json, sys
n = 0
for h, o in zip(open(sys.argv[1]), open(sys.argv[2])):
    h, o = json.loads(h), json.loads(o)
    assert "tools" not in h, h["id"]
    system = h["messages"][0]["content"]
    assert system.startswith(o["messages"][0]["content"])
    assert '"function"' not in o["messages"][0]["content"], o["id"]
    if not o["tools"]:
        assert "<tools>" not in system
        continue
    block = system.split("<tools>\n")[1].split("\n</tools>")[0].split("\n")
    assert [json.loads(t) for t in block] == o["tools"], h["id"]
    assert system.count("<tools>\n") == 1 and "<tool_call></tool_call> XML tags" in system
    n += 1
assert n > 20, n
EOF

test_expect_success '--format hermes: the tools once, in the system prompt as a <tools> block; openai: only in "tools"' '
	kg2samples -q --store fb --count 60 --seed 2 --format hermes >h2.jsonl &&
	kg2samples -q --store fb --count 60 --seed 2 >o2.jsonl &&
	python3 tools_once.py h2.jsonl o2.jsonl
'

test_expect_success 'openai: calling turns have content "" (never null), for chat templates' '
	! grep "\"content\":null" o2.jsonl &&
	grep "\"content\":\"\",\"tool_calls\"" o2.jsonl >/dev/null
'

# bfcl_check.py Q GT: the BFCL v4 shape of question and ground-truth lines, ids CATEGORY_INDEX.
cat >bfcl_check.py <<\EOF
import json, sys
qs = [json.loads(l) for l in open(sys.argv[1])]
gt = [json.loads(l) for l in open(sys.argv[2])]
types = {"string", "integer", "float", "boolean", "array", "dict", "tuple", "any"}
def walk(schema):
    assert schema["type"] in types, schema
    for p in schema.get("properties", {}).values():
        walk(p)
    if "items" in schema:
        walk(schema["items"])
assert len(qs) == len(gt)
for q, g in zip(qs, gt):
    assert q["id"] == g["id"] and set(q) == {"id", "question", "function"}, q["id"]
    cat, index = q["id"].rsplit("_", 1)
    assert index.isdigit() and cat in ("simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance")
    assert len(q["question"]) == 1 and q["question"][0][0]["role"] == "user"
    names = {f["name"] for f in q["function"]}
    for f in q["function"]:
        assert f["parameters"]["type"] == "dict" and "required" in f["parameters"]
        walk(f["parameters"])
    calls = g["ground_truth"]
    for call in calls:
        (name, args), = call.items()
        assert name in names and name != "search_entities" and all(isinstance(v, list) for v in args.values())
    assert (cat == "irrelevance") == (not calls)
    assert cat == "irrelevance" or (cat in ("simple_python", "parallel")) == (len(q["function"]) == 1)
    assert cat.startswith("parallel") == (len(calls) > 1)
EOF

test_expect_success '--format bfcl: BFCL v4 questions on stdout, the ground truth in --bfcl-answers' '
	kg2samples -q --store fb --count 40 --seed 1 --format bfcl --bfcl-answers gt.jsonl >q.jsonl &&
	test $(wc -l <q.jsonl) = 40 && test $(wc -l <gt.jsonl) = 40 &&
	python3 bfcl_check.py q.jsonl gt.jsonl &&
	test_must_fail_with 2 kg2samples --store fb --format bfcl 2>err &&
	grep "^kg2samples: --format bfcl needs --bfcl-answers FILE or --bfcl-dir DIR" err &&
	test_must_fail_with 2 kg2samples --store fb --format bfcl --bfcl-answers a --bfcl-dir d 2>err &&
	grep "^kg2samples: --bfcl-answers and --bfcl-dir exclude each other" err
'

test_expect_success '--format bfcl --bfcl-dir: BFCL_v4_CATEGORY.json and possible_answer/, the same lines' '
	kg2samples -q --store fb --count 200 --seed 1 --format bfcl --bfcl-answers gt200.jsonl >q200.jsonl &&
	python3 bfcl_check.py q200.jsonl gt200.jsonl &&
	kg2samples -q --store fb --count 200 --seed 1 --format bfcl --bfcl-dir bf >out &&
	test ! -s out &&
	for c in simple_python multiple parallel parallel_multiple irrelevance
	do
		grep "^{\"id\":\"${c}_[0-9]" q200.jsonl >expect.q &&
		test_cmp expect.q bf/BFCL_v4_$c.json || return 1
		if test $c = irrelevance
		then
			test ! -e bf/possible_answer/BFCL_v4_$c.json || return 1
		else
			grep "^{\"id\":\"${c}_[0-9]" gt200.jsonl >expect.gt &&
			test_cmp expect.gt bf/possible_answer/BFCL_v4_$c.json || return 1
		fi
	done &&
	! grep "multi_turn\|kg:" q200.jsonl &&
	kg2samples -q --store fb --count 10 --seed 1 --patterns irrelevance --format bfcl --bfcl-dir bf &&
	test ! -e bf/BFCL_v4_multiple.json &&
	test ! -e bf/possible_answer/BFCL_v4_multiple.json &&
	test $(wc -l <bf/BFCL_v4_irrelevance.json) = 10 &&
	test_must_fail_with 2 kg2samples --store fb --format bfcl --bfcl-dir fb 2>err &&
	grep "^kg2samples: --bfcl-dir fb is the store" err &&
	test_must_fail_with 2 kg2samples --store fb --format bfcl --bfcl-dir q.jsonl 2>err &&
	grep "^kg2samples: --bfcl-dir q.jsonl is not a directory" err
'

test_expect_success '--templates: a user template file changes the wording' '
	kg2samples -q --store fb --count 200 --seed 1 --patterns 1p,2p,2i >plain.jsonl &&
	kg2samples -q --store fb --count 200 --seed 1 --patterns 1p,2p,2i \
		--templates "$LING_DATA/templates-example.json" >templ.jsonl &&
	! cmp -s plain.jsonl templ.jsonl &&
	grep -E "Quick question: what is the|Starting from .*, follow|You are the example assistant" templ.jsonl >/dev/null &&
	! grep -E "Quick question: what is the|Starting from .*, follow|You are the example assistant" plain.jsonl
'

test_expect_success 'MetaQA KB: all 14 patterns and every other category' '
	kg2samples --store mq --count 690 --seed 3 >mq.jsonl 2>err &&
	cat err &&
	for c in $CATEGORIES
	do
		summary_counts err | grep "^$c [1-9][0-9]*$" || { echo "no $c"; exit 1; }
	done &&
	summary_counts err >expect &&
	sample_counts mq.jsonl >actual &&
	test_cmp expect actual
'

test_expect_success '--stats and -q' '
	kg2samples -q --stats --store fb --count 10 >/dev/null 2>err &&
	! grep "wrote" err &&
	grep "^kg2samples: stats: [0-9]* entities ([0-9]* named), [0-9]* relations" err &&
	grep "^kg2samples: stats: .* samples/s$" err
'

test_expect_success 'usage errors exit 2, with nothing on stdout' '
	for args in "" "--store fb extra" "--store fb --count x" "--store fb --count -1" \
		"--store fb --shard 3/3" "--store fb --shard 1" "--store fb --patterns nope" \
		"--store fb --patterns 1p=2" "--store fb --mix 1p" "--store fb --mix 1p=x" \
		"--store fb --mix all=0" "--store fb --format xml" "--store fb --max-answers 0" \
		"--store fb --threads 0" "--store fb --bfcl-answers x"
	do
		test_must_fail_with 2 kg2samples $args >out 2>err || { echo "args: $args"; exit 1; }
		test ! -s out && grep "^kg2samples: " err || { echo "args: $args"; exit 1; }
	done
'

test_expect_success 'a missing store, or a bad template file, is exit 1' '
	test_must_fail_with 1 kg2samples --store nowhere >out 2>err &&
	test ! -s out &&
	grep "^kg2samples: " err &&
	printf "{\"questions\": 7}\n" >bad.json &&
	test_must_fail_with 1 kg2samples --store fb --templates bad.json >out 2>err &&
	test ! -s out &&
	grep "^kg2samples: .*bad.json" err
'

test_expect_success '--lang: names in that language, else the English label' '
	cat >lang.ttl <<-\EOF &&
	@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
	@prefix ex: <http://example.org/> .
	ex:alien ex:directed_by ex:scott ; rdfs:label "Alien"@en , "Alien – Das unheimliche Wesen"@de .
	ex:gladiator ex:directed_by ex:scott ; rdfs:label "Gladiator"@en .
	ex:scott rdfs:label "Ridley Scott"@en .
	EOF
	kg-load --store langkg lang.ttl 2>/dev/null &&
	kg2samples --store langkg --min-facts 1 --patterns 1p --count 40 --lang de >de.jsonl 2>/dev/null &&
	grep -q "Alien – Das unheimliche Wesen" de.jsonl &&
	grep -q "\"Gladiator\"" de.jsonl &&
	! grep -q "\"Alien\"" de.jsonl &&
	kg2samples --store langkg --min-facts 1 --patterns 1p --count 40 --lang en >en.jsonl 2>/dev/null &&
	grep -q "\"Alien\"" en.jsonl &&
	! grep -q "Das unheimliche" en.jsonl
'

test_done
