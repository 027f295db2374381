#!/bin/sh
test_description='ling-eval: held-out samples, MetaQA files and perplexity scored end to end on a real checkpoint; bad input'
. "$(dirname "$0")/lib.sh"

command -v shardgen >/dev/null && test_set_prereq SHARDGEN

# A random checkpoint of the tiny preset with a tokenizer trained on the samples: it answers
# badly, but through the whole loop (render, generate, parse, execute, score).
test_expect_success 'setup: a MetaQA slice store, samples, a tokenizer and a checkpoint' '
	zstd -dc "$LING_ROOT/data/metaqa-kb.txt.zst" | head -n 3000 >mq.txt &&
	kg-load -q --store mq --delimiter "|" --tsv-labels mq.txt "$LING_DATA/metaqa-schema.ttl" &&
	kg2samples -q --store mq --count 200 --seed 1 >train.jsonl &&
	kg2samples -q --store mq --count 40 --seed 2 -p tool_use >held.jsonl &&
	tokenize train -q --vocab-size 600 --special "<|endoftext|>" --special "<|im_start|>" \
		--special "<|im_end|>" -o tok.json train.jsonl &&
	ling-train init --preset tiny --out m0 &&
	sed -e "s/\"vocab_size\": 97/\"vocab_size\": 600/" \
	    -e "s/\"max_position_embeddings\": 512/\"max_position_embeddings\": 4096/" m0/config.json >cfg.json &&
	ling-train init --config cfg.json --seed 3 --out ckpt &&
	cp tok.json ckpt/tokenizer.json
'

O="--checkpoint ckpt --store mq --max-new-tokens 12 --max-rounds 1"

test_expect_success 'samples: the report counts every sample once and its tallies add up' '
	ling-eval $O --samples held.jsonl --limit 10 --report r.json --dump d.jsonl 2>err &&
	grep "^held.jsonl: 10 asked, 0 bad lines" err &&
	grep "^  all  *10 " err &&
	python3 -c "
import json, sys
r = json.load(open(\"r.json\"))
assert r[\"format\"] == \"ling-eval-report\" and r[\"checkpoint\"] == \"ckpt\" and r[\"template\"] == \"qwen\", r
import hashlib
assert r[\"checkpoint_sha256\"][\"model.safetensors\"] == hashlib.sha256(open(\"ckpt/model.safetensors\", \"rb\").read()).hexdigest()
assert r[\"store_uuid\"] == json.loads(open(\"held.jsonl\").readline())[\"meta\"][\"store\"], r[\"store_uuid\"]
f = r[\"samples\"][0]
assert f[\"records\"] == 40 and f[\"asked\"] == 10 and f[\"bad_lines\"] == 0, f
assert f[\"asked\"] + sum(f[\"skipped\"].values()) == 40 and f[\"skipped\"][\"missing_tools\"] == 0, f
assert len(f[\"sha256\"]) == 64
s = f[\"scores\"]
assert s[\"n\"] == 10 and sum(s[\"ast_verdicts\"].values()) == 10, s
for key in (\"by_category\", \"by_pattern\"):
    assert sum(t[\"n\"] for t in f[key].values()) == 10, key
    for k in (\"ast_correct\", \"exec_correct\", \"answer_correct\"):
        assert sum(t[k] for t in f[key].values()) == s[k], (key, k)
assert r[\"metaqa\"] == [] and r[\"perplexity\"] is None
"
'

test_expect_success 'samples: the dump holds each question, its turns and a verdict that agrees with them' '
	test $(wc -l <d.jsonl) -eq 10 &&
	python3 -c "
import json
held = [json.loads(l) for l in open(\"held.jsonl\")]
r = json.load(open(\"r.json\"))[\"samples\"][0]
lines = [json.loads(l) for l in open(\"d.jsonl\")]
assert [d[\"line\"] for d in lines] == sorted(set(d[\"line\"] for d in lines)), \"not in file order\"
exec_ok = 0
for d in lines:
    s = held[d[\"line\"] - 1]
    assert d[\"id\"] == s[\"id\"] and d[\"gold_answer\"] == s[\"answer\"]
    assert d[\"question\"] == [m for m in s[\"messages\"] if m[\"role\"] == \"user\"][0][\"content\"]
    calling = [t for t in d[\"turns\"] if t[\"calls\"]]
    got = set()
    if calling:
        t = calling[-1]
        for ok, res in zip(t[\"ok\"], t[\"results\"]):
            if ok:
                got |= set(json.loads(res))
    assert sorted(got) == d[\"predicted\"], d
    assert d[\"verdict\"][\"exec\"] == (bool(calling) and sorted(got) == sorted(set(s[\"answer\"]))), d
    if not calling:
        assert d[\"verdict\"][\"ast\"] == \"no_call\", d
    exec_ok += d[\"verdict\"][\"exec\"]
assert exec_ok == r[\"scores\"][\"exec_correct\"]
"
'

test_expect_success 'samples: two model copies give the same dump and scores as one' '
	ling-eval $O --samples held.jsonl --limit 10 --jobs 2 --threads 1 -q --report r2.json --dump d2.jsonl &&
	test_cmp d.jsonl d2.jsonl &&
	python3 -c "
import json
a, b = (json.load(open(f))[\"samples\"][0] for f in (\"r.json\", \"r2.json\"))
for f in (a, b):
    del f[\"seconds\"]
assert a == b
"
'

test_expect_success 'samples: --limit spreads the questions asked over the file' '
	ling-eval $O --samples held.jsonl --limit 3 -q --report l.json --dump l.jsonl &&
	python3 -c "
import json
lines = [json.loads(l)[\"line\"] for l in open(\"l.jsonl\")]
assert len(lines) == 3 and lines[0] < 5 and 10 < lines[1] < lines[2] and lines[2] > 20, lines
assert json.load(open(\"l.json\"))[\"samples\"][0][\"skipped\"][\"limit\"] > 30
"
'

# MetaQA's layout (D/vanilla/qa_X.txt beside D/qa_X_qtype.txt), with questions written here.
test_expect_success 'setup: a MetaQA-style question file and its question types' '
	mkdir -p q/vanilla &&
	{
		printf "%s\t%s\n" "name the one who directed [Kismet]" "William Dieterle" \
			"which films had [William Dieterle] as their director" "Kismet" &&
		echo "a line without its tab" &&
		printf "%s\t%s\n" "who directed [Kismet] in the end" "Nobody In Particular"
	} >q/vanilla/qa_x.txt &&
	printf "%s\n" movie_to_director director_to_movie movie_to_director movie_to_director >q/qa_x_qtype.txt
'

test_expect_success 'metaqa: a bad line ends the run with its file and line' '
	test_must_fail_with 1 ling-eval $O --metaqa q/vanilla/qa_x.txt --report m.json 2>err &&
	grep "^ling-eval: q/vanilla/qa_x.txt:3: not a MetaQA line: not one TAB" err &&
	test ! -e m.json
'

test_expect_success 'metaqa: with --max-errors the bad line is counted; types and the reachable subset' '
	ling-eval $O --metaqa q/vanilla/qa_x.txt -e 1 --report m.json --dump md.jsonl 2>err &&
	grep "^ling-eval: q/vanilla/qa_x.txt:3: not a MetaQA line" err &&
	grep "^q/vanilla/qa_x.txt: 3 asked, 1 bad lines" err &&
	python3 -c "
import json
f = json.load(open(\"m.json\"))[\"metaqa\"][0]
assert f[\"records\"] == 4 and f[\"bad_lines\"] == 1 and f[\"asked\"] == 3, f
assert f[\"qtype_file\"] == \"q/qa_x_qtype.txt\", f
assert f[\"reachable\"][\"n\"] == 2 and f[\"reach_unknown\"] == 0, f
assert f[\"by_qtype\"][\"movie_to_director\"][\"n\"] == 2 and f[\"by_qtype\"][\"director_to_movie\"][\"n\"] == 1
d = [json.loads(l) for l in open(\"md.jsonl\")]
assert [x[\"line\"] for x in d] == [1, 2, 4]
assert d[0][\"question\"] == \"name the one who directed Kismet\" and d[0][\"entity\"] == \"Kismet\"
assert [x[\"reachable\"] for x in d] == [True, True, False]
assert [x[\"qtype\"] for x in d] == [\"movie_to_director\", \"director_to_movie\", \"movie_to_director\"]
"
'

test_expect_success 'a samples file with a bad line: an error at its line, or a counted skip' '
	head -n 1 held.jsonl >bad.jsonl &&
	echo "{\"id\": \"kg:1p:1\", \"messages\": [" >>bad.jsonl &&
	sed -n 2p held.jsonl >>bad.jsonl &&
	test_must_fail_with 1 ling-eval $O --samples bad.jsonl --report b.json 2>err &&
	grep "^ling-eval: bad.jsonl:2:[0-9]*: not a tool-use sample: bad JSON" err &&
	ling-eval $O --samples bad.jsonl -e 1 --report b.json 2>err &&
	grep "^bad.jsonl: 2 asked, 1 bad lines" err
'

test_expect_success 'a store without the tools the samples offer: each sample skipped and counted' '
	kg-load -q --store bare --delimiter "|" --tsv-labels mq.txt &&
	ling-eval --checkpoint ckpt --store bare --samples held.jsonl --report s.json 2>err &&
	grep "^ling-eval: held.jsonl:1: sample kg:[^ ]* offers the tool .*, which the store lacks (skipped)" err &&
	test $(grep -c "which the store lacks" err) -eq 5 &&
	n=$(grep -c . held.jsonl) &&
	python3 -c "
import json
f = json.load(open(\"s.json\"))[\"samples\"][0]
assert f[\"asked\"] == 0 and f[\"skipped\"][\"missing_tools\"] + f[\"skipped\"][\"multi_turn\"] == $n, f
assert f[\"skipped\"][\"missing_tools\"] > 0, f
"
'

test_expect_success 'usage errors: a tool the store lacks, nothing to score, outputs naming inputs' '
	test_must_fail_with 2 ling-eval $O --metaqa q/vanilla/qa_x.txt --tools nope 2>err &&
	grep "^ling-eval: no tool .nope. in the store" err &&
	test_must_fail_with 2 ling-eval --checkpoint ckpt 2>err &&
	grep "^ling-eval: nothing to score" err &&
	test_must_fail_with 2 ling-eval $O --samples - <held.jsonl 2>err &&
	grep "^ling-eval: --samples and --metaqa read files, not standard input" err &&
	test_must_fail_with 2 ling-eval $O --samples held.jsonl --report held.jsonl 2>err &&
	grep "^ling-eval: an output file names an input" err &&
	test_must_fail_with 1 ling-eval --checkpoint nowhere --store mq --samples held.jsonl 2>err &&
	grep "^ling-eval: " err
'

test_expect_success 'a checkpoint whose vocabulary the tokenizer overflows: a clear error, nothing written' '
	test_must_fail_with 1 ling-eval --checkpoint m0 --tokenizer tok.json --store mq --samples held.jsonl \
		--report v.json --dump v.jsonl 2>err &&
	grep "^ling-eval: tok.json: the tokenizer has 600 token ids, more than the model.s vocab_size 97" err &&
	test ! -e v.json && test ! -e v.jsonl && test -z "$(ls v.jsonl.tmp.* 2>/dev/null)"
'

# One document whose loss ling-train forward gives: the masked perplexity is that loss, exponentiated.
test_expect_success SHARDGEN 'perplexity: the masked loss of a document is ling-train forward'"'"'s' '
	mkdir ds &&
	echo "5 17 33 2 90 14 7 3" >valid.tok && echo "0 0 0 1 1 0 1 1" >valid.msk &&
	shardgen write ds/valid-000000 u16 <valid.tok &&
	shardgen write ds/valid-000000.mask u8 <valid.msk &&
	cat >ds/manifest.json <<-EOF &&
	{"format": "ling-dataset", "version": 1, "tokenizer": {"path": "tok.json", "vocab_size": 600},
	 "shards": [{"name": "valid-000000", "split": "valid", "mask": "valid-000000.mask", "documents": 1, "tokens": 8}]}
	EOF
	echo "[[5,17,33,2,90,14,7,3]]" >tk.json && echo "[[0,0,0,1,1,0,1,1]]" >mk.json &&
	ling-train forward --checkpoint ckpt --tokens tk.json --mask mk.json >fwd &&
	ling-eval --checkpoint ckpt --data ds --report p.json 2>err &&
	grep "^ds (valid, masked tokens): 4 tokens" err &&
	ling-eval --checkpoint ckpt --data ds --unmasked -q --report pu.json &&
	python3 -c "
import json, math
fwd = json.load(open(\"fwd\"))
p = json.load(open(\"p.json\"))[\"perplexity\"]
u = json.load(open(\"pu.json\"))[\"perplexity\"]
assert p[\"documents\"] == 1 and p[\"tokens\"] == 4 and u[\"tokens\"] == 7, (p, u)
assert abs(p[\"nll\"] - fwd[\"loss\"]) < 1e-4, (p, fwd)
assert abs(p[\"perplexity\"] - math.exp(p[\"nll\"])) < 1e-6 * p[\"perplexity\"]
assert abs(p[\"bits_per_byte\"] - p[\"nll\"] * 4 / math.log(2) / p[\"bytes\"]) < 1e-9
"
'

test_expect_success SHARDGEN 'perplexity: bytes are those of the scored text, characters cut between tokens counted once' '
	mkdir ds8 &&
	echo "{\"text\":\"a\u00e9\u20ac\u6f22\"}" | tokenize encode --jsonl --tokenizer tok.json >ids.json &&
	sed -e "s/.*\[//" -e "s/\].*//" -e "s/,/ /g" ids.json >doc.tok &&
	test $(wc -w <doc.tok) -gt 4 &&
	shardgen write ds8/valid-000000 u16 <doc.tok &&
	cat >ds8/manifest.json <<-EOF &&
	{"format": "ling-dataset", "version": 1, "tokenizer": {"path": "tok.json", "vocab_size": 600},
	 "shards": [{"name": "valid-000000", "split": "valid", "documents": 1, "tokens": 9}]}
	EOF
	ling-eval --checkpoint ckpt --data ds8 --unmasked -q --report p8.json &&
	python3 -c "
import json
p = json.load(open(\"p8.json\"))[\"perplexity\"]
assert p[\"bytes\"] == len(\"\u00e9\u20ac\u6f22\".encode()) == 8, p
"
'

test_expect_success 'perplexity: a split the dataset lacks is an error' '
	test_must_fail_with 1 ling-eval --checkpoint ckpt --data ds --split test --report p.json 2>err &&
	grep "^ling-eval: ds/manifest.json: the dataset has no document in split .test." err
'

test_done
