#!/bin/sh
test_description='kg-query --tools, --call and --calls; tests/tools/check-samples.py on hand-made samples'
. "$(dirname "$0")/lib.sh"

CHECK=$LING_ROOT/tests/tools/check-samples.py

# The tool names of a --tools listing, one per line.
tool_names() {
	sed 's/^{"type":"function","function":{"name":"\([a-z0-9_]*\)".*/\1/'
}

test_expect_success 'setup: the FB15k-237 slice, a MetaQA slice with and without its schema' '
	kg-load --store fb "$LING_DATA/fb15k-slice.nt.zst" 2>/dev/null &&
	zstd -dc "$LING_ROOT/data/metaqa-kb.txt.zst" | head -n 3000 >mq.txt &&
	kg-load --store mq --delimiter "|" --tsv-labels mq.txt "$LING_DATA/metaqa-schema.ttl" 2>/dev/null &&
	kg-load --store mq0 --delimiter "|" --tsv-labels mq.txt 2>/dev/null
'

test_expect_success '--tools on MetaQA with its schema: names from the labels, domains and ranges' '
	kg-query --store mq --tools >tools &&
	tool_names <tools >names &&
	cat >expect <<-EOF &&
	get_film_director
	find_films_by_director
	get_film_genre
	find_films_by_genre
	get_film_tag
	find_films_by_tag
	get_film_language
	find_films_by_language
	get_film_release_year
	find_films_by_release_year
	get_film_actor
	find_films_by_actor
	get_film_writer
	find_films_by_writer
	intersection
	union
	difference
	search_entities
	EOF
	test_cmp expect names &&
	grep -Fx "{\"type\":\"function\",\"function\":{\"name\":\"find_films_by_director\",\"description\":\"Returns the films whose director is the given person, as a list of names.\",\"parameters\":{\"type\":\"object\",\"properties\":{\"director\":{\"type\":\"string\",\"description\":\"The name of the person.\"},\"sort\":{\"type\":\"string\",\"enum\":[\"alphabetical\",\"reverse_alphabetical\"],\"description\":\"Order of the names (default: alphabetical).\"},\"limit\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"Return at most this many names, the first in that order.\"}},\"required\":[\"director\"],\"additionalProperties\":false}}}" tools
'

test_expect_success '--tools: a relation with few values lists them as an enum, descriptions say a list is returned' '
	kg-query --store mq --tools >tools &&
	grep -F "\"name\":\"find_films_by_genre\"," tools |
		grep -F "\"genre\":{\"type\":\"string\",\"description\":\"The name of the genre.\",\"enum\":[\"Action\",\"Adventure\"," &&
	grep -F "\"name\":\"find_films_by_language\"," tools | grep -F "\"enum\":[\"Danish\",\"Dutch\",\"English\"," &&
	grep -F "\"name\":\"find_films_by_actor\"," tools >actor &&
	! grep -F "\"actor\":{\"type\":\"string\",\"description\":\"The name of the person.\",\"enum\"" actor &&
	grep -F "\"name\":\"get_film_genre\"," tools >fwd &&
	! grep -F "\"film\":{\"type\":\"string\",\"description\":\"The name of the film.\",\"enum\"" fwd &&
	grep -F "\"description\":\"Returns the actors of a film, as a list of names.\"" tools &&
	grep -F "\"release_year\":{\"type\":\"string\",\"description\":\"The year, as written in the data, e.g. \\\"" tools &&
	! grep -F "The name of the year" tools &&
	grep -c "\"required\":\[\"[a-z_]*\"\],\"additionalProperties\"" tools >n &&
	echo 17 >expect && test_cmp expect n &&
	grep -c "\"limit\":{\"type\":\"integer\",\"minimum\":1," tools >n &&
	echo 14 >expect && test_cmp expect n
'

test_expect_success '--tools without the schema: names from the local names; --min-facts' '
	kg-query --store mq0 --tools | tool_names >names &&
	grep -Fx get_director names &&
	grep -Fx find_entities_by_director names &&
	grep -Fx get_genre names &&
	grep -Fx find_entities_by_starred_actors names &&
	! grep imdb names &&
	kg-query --store mq0 --tools --min-facts 2 | tool_names >names2 &&
	grep -Fx get_imdb_votes names2 &&
	test $(wc -l <names2) -eq 22
'

test_expect_success '--tools on FB15k-237: Freebase paths, unique names' '
	kg-query --store fb --tools >tools &&
	tool_names <tools >names &&
	grep -Fx get_person_place_of_birth names &&
	grep -Fx find_people_by_place_of_birth names &&
	grep -Fx get_actor_film names &&
	grep -Fx find_locations_that_contain names &&
	grep -Fx get_film_producer names &&
	test $(wc -l <names) -eq 136 &&
	sort names | uniq -d >dups &&
	test_cmp /dev/null dups &&
	! grep -qv "^[a-z][a-z0-9_]*\$" names &&
	awk "length > 64" names >long &&
	test_cmp /dev/null long
'

test_expect_success '--call: forward and inverse on MetaQA' '
	kg-query --store mq --call get_film_director "{\"film\":\"Kismet\"}" >out &&
	echo "[\"William Dieterle\"]" >expect &&
	test_cmp expect out &&
	kg-query --store mq --call find_films_by_director "{\"director\":\"William Dieterle\"}" >out &&
	grep -F "\"Kismet\"" out &&
	kg-query --store mq --call get_film_release_year "{\"film\":\"Kismet\"}" >out &&
	echo "[\"1944\"]" >expect &&
	test_cmp expect out
'

test_expect_success '--call on FB15k-237: names in, names out, sorted by bytes' '
	kg-query --store fb --call get_person_place_of_birth "{\"person\":\"Eva Mendes\"}" >out &&
	echo "[\"Miami\"]" >expect &&
	test_cmp expect out &&
	kg-query --store fb --call find_people_by_place_of_birth "{\"place_of_birth\":\"London\"}" >out &&
	echo "[\"Jeremy Thomas\",\"Virginia Woolf\"]" >expect &&
	test_cmp expect out &&
	kg-query --store fb --lang de --call get_person_place_of_birth "{\"person\":\"Eva Mendes\"}" >out &&
	echo "[\"Miami\"]" >expect &&
	test_cmp expect out
'

test_expect_success '--call: an entity without a label is named by its IRI, both ways' '
	kg-query --store fb --call get_location_contains "{\"location\":\"London\"}" >out &&
	echo "[\"<http://rdf.freebase.com/ns/m.0hsb3>\"]" >expect &&
	test_cmp expect out &&
	kg-query --store fb --call find_locations_that_contain "{\"entity\":\"<http://rdf.freebase.com/ns/m.0hsb3>\"}" >out &&
	echo "[\"London\"]" >expect &&
	test_cmp expect out
'

test_expect_success '--call: sort and limit' '
	kg-query --store mq --call find_films_by_director "{\"director\":\"Akira Kurosawa\"}" >all &&
	kg-query --store mq --call find_films_by_director "{\"director\":\"Akira Kurosawa\",\"limit\":2}" >out &&
	python3 -c "import json,sys; a=json.load(open(\"all\")); b=json.load(open(\"out\")); sys.exit(not (len(a) > 2 and b == a[:2]))" &&
	kg-query --store mq --call find_films_by_director "{\"director\":\"Akira Kurosawa\",\"sort\":\"reverse_alphabetical\"}" >out &&
	python3 -c "import json,sys; a=json.load(open(\"all\")); b=json.load(open(\"out\")); sys.exit(not (b == a[::-1]))" &&
	kg-query --store mq --call find_films_by_director "{\"limit\":1,\"sort\":\"reverse_alphabetical\",\"director\":\"Akira Kurosawa\"}" >out &&
	python3 -c "import json,sys; a=json.load(open(\"all\")); b=json.load(open(\"out\")); sys.exit(not (b == a[-1:]))" &&
	kg-query --store mq --call find_films_by_director "{\"director\":\"Akira Kurosawa\",\"limit\":3}" >out &&
	test_cmp all out &&
	kg-query --store mq --call get_film_director "{\"film\":\"Kismet\",\"limit\":100}" >out &&
	echo "[\"William Dieterle\"]" >expect && test_cmp expect out
'

test_expect_success '--call: bad options, and a value outside the enum, are exit 1 with the reason' '
	test_must_fail_with 1 kg-query --store mq --call find_films_by_director "{\"director\":\"William Dieterle\",\"limit\":0}" 2>err &&
	echo "kg-query: find_films_by_director: argument '"'"'limit'"'"' must be an integer of 1 or more" >expect &&
	test_cmp expect err &&
	test_must_fail_with 1 kg-query --store mq --call find_films_by_director "{\"director\":\"William Dieterle\",\"sort\":\"descending\"}" 2>err &&
	echo "kg-query: find_films_by_director: argument '"'"'sort'"'"' must be \"alphabetical\" or \"reverse_alphabetical\"" >expect &&
	test_cmp expect err &&
	test_must_fail_with 1 kg-query --store mq --call find_films_by_director "{\"director\":\"William Dieterle\",\"to\":\"x\"}" 2>err &&
	echo "kg-query: find_films_by_director: unexpected argument '"'"'to'"'"'" >expect &&
	test_cmp expect err &&
	test_must_fail_with 1 kg-query --store mq --call find_films_by_genre "{\"genre\":\"drama\"}" 2>err &&
	echo "kg-query: find_films_by_genre: argument '"'"'genre'"'"' must be one of the 20 values its enum lists" >expect &&
	test_cmp expect err &&
	test_must_fail_with 1 kg-query --store mq --call search_entities "{\"name\":\"kismet\",\"limit\":1}" 2>err &&
	echo "kg-query: search_entities: unexpected argument '"'"'limit'"'"'" >expect &&
	test_cmp expect err
'

test_expect_success '--call: logic tools and search' '
	kg-query --store mq --call intersection "{\"sets\":[[\"b\",\"a\",\"c\"],[\"c\",\"b\",\"d\"]]}" >out &&
	echo "[\"b\",\"c\"]" >expect && test_cmp expect out &&
	kg-query --store mq --call union "{\"sets\":[[\"b\"],[\"a\",\"b\"]]}" >out &&
	echo "[\"a\",\"b\"]" >expect && test_cmp expect out &&
	kg-query --store mq --call difference "{\"items\":[\"b\",\"a\"],\"exclude\":[\"b\"]}" >out &&
	echo "[\"a\"]" >expect && test_cmp expect out &&
	kg-query --store mq --call search_entities "{\"name\":\"KISMET\"}" >out &&
	echo "[\"Kismet\"]" >expect && test_cmp expect out
'

test_expect_success '--call errors: exit 1 with the reason, nothing on stdout' '
	test_must_fail_with 1 kg-query --store mq --call get_film_directr "{\"film\":\"Kismet\"}" >out 2>err &&
	test_cmp /dev/null out &&
	echo "kg-query: unknown tool '"'"'get_film_directr'"'"'" >expect && test_cmp expect err &&
	test_must_fail_with 1 kg-query --store mq --call get_film_director "{\"film\":\"kismet\"}" 2>err &&
	echo "kg-query: get_film_director: no entity is named \"kismet\"" >expect && test_cmp expect err &&
	test_must_fail_with 1 kg-query --store mq --call get_film_director "{\"movie\":\"Kismet\"}" 2>err &&
	echo "kg-query: get_film_director: unexpected argument '"'"'movie'"'"'" >expect && test_cmp expect err &&
	test_must_fail_with 1 kg-query --store mq --call get_film_director "{\"film\":7}" 2>err &&
	grep -F "must be a string" err &&
	test_must_fail_with 1 kg-query --store mq --call get_film_director "{\"film\":" 2>err &&
	grep -F "arguments are not JSON" err &&
	test_must_fail_with 1 kg-query --store mq --call union "{\"sets\":[[\"a\"]]}" 2>err &&
	grep -F "two or more" err
'

test_expect_success '--call usage errors: exit 2' '
	test_must_fail_with 2 kg-query --store mq --call get_film_director 2>err &&
	grep -F "ARGS_JSON" err &&
	test_must_fail_with 2 kg-query --store mq --call get_film_director "{}" "{}" 2>err &&
	test_must_fail_with 2 kg-query --store mq --tools --dump 2>err &&
	test_must_fail_with 2 kg-query --store mq --tools --min-facts 0 2>err &&
	grep -F -- "--min-facts" err
'

test_expect_success '--calls: one answer per line, errors inline, string or object arguments' '
	cat >calls.jsonl <<-\EOF &&
	{"name":"get_film_director","arguments":"{\"film\":\"Kismet\"}"}
	{"name":"get_film_director","arguments":{"film":"Kismet"}}

	not json
	{"name":"no_such_tool","arguments":"{}"}
	{"name":"get_film_director"}
	{"name":"get_film_director","arguments":"{\"film\":\"Nobody\"}"}
	{"name":"intersection","arguments":"{\"sets\":[[\"x\"],[\"x\"]]}"}
	EOF
	kg-query --store mq --calls calls.jsonl >out 2>err &&
	cat >expect <<-\EOF &&
	{"result":"[\"William Dieterle\"]"}
	{"result":"[\"William Dieterle\"]"}
	{"error":"line 4: bad JSON: '"'"'['"'"' or '"'"'{'"'"' expected near '"'"'not'"'"'"}
	{"error":"unknown tool '"'"'no_such_tool'"'"'"}
	{"error":"line 6: \"arguments\" must be a string or an object"}
	{"error":"get_film_director: no entity is named \"Nobody\""}
	{"result":"[\"x\"]"}
	EOF
	test_cmp expect out &&
	echo "kg-query: 7 calls, 4 failed" >expect &&
	test_cmp expect err &&
	kg-query --store mq --calls - <calls.jsonl >out2 2>/dev/null &&
	test_cmp out out2
'

test_expect_success '--calls: an error message cut at its length limit inside a UTF-8 sequence stays valid JSON' '
	long=$(printf "%0300d" 0 | sed "s/0/é/g") &&
	printf "{\"name\":\"get_film_director\",\"arguments\":{\"film\":\"%s\"}}\n" "$long" "x$long" >long.jsonl &&
	kg-query --store mq --calls long.jsonl >out 2>err &&
	echo "kg-query: 2 calls, 2 failed" >expect &&
	test_cmp expect err &&
	test $(wc -l <out) = 2 &&
	grep -c "^{\"error\":\"get_film_director: no entity is named \\\\\"x*\\(é\\)*\"}\$" out >count &&
	echo 2 >expect &&
	test_cmp expect count &&
	iconv -f UTF-8 -t UTF-8 out >/dev/null
'

test_expect_success '--calls: a missing file is exit 1' '
	test_must_fail_with 1 kg-query --store mq --calls nothere.jsonl 2>err &&
	grep -F "nothere.jsonl" err
'

# Hand-made samples in the documented shape, with results from real kg-query --call runs.
test_expect_success 'setup: samples for the checker' '
	cat >mk-samples.py <<-\EOF &&
	import json, subprocess, sys
	kq, store, out = sys.argv[1], sys.argv[2], sys.argv[3]
	def dumps(v):
	    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))
	def run(*args):
	    return subprocess.run([kq, "--store", store] + list(args), capture_output=True, text=True, check=True).stdout
	catalogue = {}
	for line in run("--tools").splitlines():
	    t = json.loads(line)
	    catalogue[t["function"]["name"]] = t
	def call(name, args):
	    a = dumps(args)
	    return a, run("--call", name, a).rstrip("\n")
	def first(name, args):
	    return json.loads(call(name, args)[1])[0]
	samples = []
	def sample(category, pattern, offered, turns, kind="tool_use", evidence=(), meta_calls=(), answer=None):
	    msgs = [{"role": "system", "content": "You answer with the tools."}]
	    cid, last = 1, []
	    for question, steps, text in turns:
	        msgs.append({"role": "user", "content": question})
	        for step in steps:
	            calls, tools = [], []
	            last = []
	            for name, args in step:
	                a, r = call(name, args)
	                calls.append({"id": "call_%d" % cid, "type": "function", "function": {"name": name, "arguments": a}})
	                tools.append({"role": "tool", "tool_call_id": "call_%d" % cid, "name": name, "content": r})
	                last += json.loads(r)
	                cid += 1
	            msgs.append({"role": "assistant", "content": "", "tool_calls": calls})
	            msgs.extend(tools)
	        msgs.append({"role": "assistant", "content": text})
	    mc = []
	    for name, args in meta_calls:
	        a, r = call(name, args)
	        mc.append({"name": name, "arguments": a, "result": r})
	        last = json.loads(r)
	    if answer is None:
	        answer = sorted(set(last), key=lambda s: s.encode())
	    meta = {"seed": 7, "index": len(samples), "store": "test", "lang": "en", "evidence": [list(t) for t in evidence]}
	    if kind == "instruction":
	        meta["calls"] = mc
	    samples.append({"id": "kg:%s:%016x" % (category, 0xabc0 + len(samples)), "kind": kind, "category": category,
	                    "pattern": pattern, "tools": [catalogue[n] for n in offered], "messages": msgs,
	                    "answer": answer, "meta": meta})
	d = first("get_film_director", {"film": "Kismet"})
	year = first("get_film_release_year", {"film": "Kismet"})
	K, D, Y = "urn:kg:Kismet", "urn:kg:directed_by", "urn:kg:William%20Dieterle"
	sample("1p", "1p", ["get_film_director", "get_film_writer"],
	       [("Who directed Kismet?", [[("get_film_director", {"film": "Kismet"})]], "Kismet was directed by %s." % d)],
	       evidence=[(K, D, Y)])
	films = json.loads(call("find_films_by_director", {"director": d})[1])
	# (not "the films of the director of Kismet": that path comes back to Kismet, a degenerate question)
	langs = sorted(set(l for f in films for l in json.loads(call("get_film_language", {"film": f})[1])))
	sample("2p", "2p", ["find_films_by_director", "get_film_language"],
	       [("In which languages are the films %s directed?" % d,
	         [[("find_films_by_director", {"director": d})], [("get_film_language", {"film": f}) for f in films]],
	         "The films %s directed are in %s." % (d, ", ".join(langs)))])
	both = sorted(set(films) & set(json.loads(call("find_films_by_release_year", {"release_year": year})[1])))
	sample("2i", "2i", ["find_films_by_director", "find_films_by_release_year", "intersection"],
	       [("Which films from %s did %s direct?" % (year, d),
	         [[("find_films_by_director", {"director": d}), ("find_films_by_release_year", {"release_year": year})],
	          [("intersection", {"sets": [films, json.loads(call("find_films_by_release_year", {"release_year": year})[1])]})]],
	         "%s directed %s in %s." % (d, ", ".join(both), year))])
	w = first("get_film_writer", {"film": "Kismet"})
	sample("parallel", "1p", ["get_film_director", "get_film_writer"],
	       [("Who directed and who wrote Kismet?",
	         [[("get_film_director", {"film": "Kismet"}), ("get_film_writer", {"film": "Kismet"})]],
	         "%s directed Kismet and %s wrote it." % (d, w))])
	sample("irrelevance", None, ["get_film_director"],
	       [("What is the weather in Paris?", [], "None of the tools I have can tell the weather.")], answer=[])
	sample("multi_turn", "1p", ["get_film_director", "get_film_release_year"],
	       [("Who directed Kismet?", [[("get_film_director", {"film": "Kismet"})]], "%s directed it." % d),
	        ("And when was it released?", [[("get_film_release_year", {"film": "Kismet"})]], "It came out in %s." % year)])
	sample("fact", "1p", [], [("Who directed Kismet?", [], "Kismet was directed by %s." % d)], kind="instruction",
	       meta_calls=[("get_film_director", {"film": "Kismet"})], evidence=[(K, D, Y)])
	sample("describe", None, [], [("Tell me about Kismet.", [], "Kismet is a film from %s." % year)], kind="instruction",
	       answer=[])
	# degenerate, for check (g): the paths come back to Kismet, which the first one also answers
	sample("2p", "2p", ["get_film_director", "find_films_by_director"],
	       [("Which films did the director of Kismet make?",
	         [[("get_film_director", {"film": "Kismet"})], [("find_films_by_director", {"director": d})]],
	         "The director of Kismet, %s, made %s." % (d, ", ".join(films)))])
	genres = sorted(set(g for f in films for g in json.loads(call("get_film_genre", {"film": f})[1])))
	sample("3p", "3p", ["get_film_director", "find_films_by_director", "get_film_genre"],
	       [("What genres are the films by the director of Kismet?",
	         [[("get_film_director", {"film": "Kismet"})], [("find_films_by_director", {"director": d})],
	          [("get_film_genre", {"film": f}) for f in films]],
	         "They are %s." % ", ".join(genres))])
	with open(out.replace("good", "degenerate"), "w", encoding="utf-8") as f:
	    f.write(dumps(samples[-2]) + "\n" + dumps(samples[-1]) + "\n")
	del samples[-2:]
	with open(out, "w", encoding="utf-8") as f:
	    for s in samples:
	        f.write(dumps(s) + "\n")
	EOF
	python3 mk-samples.py "$(command -v kg-query)" mq good.jsonl &&
	test $(wc -l <good.jsonl) -eq 8 &&
	kg-query --store mq --dump >mq.nq
'

test_expect_success 'check-samples: good samples pass, with per-category counts' '
	python3 "$CHECK" --kg-query "$(command -v kg-query)" --store mq --dump mq.nq good.jsonl >out &&
	cat >expect <<-EOF &&
	1p           1 passed, 0 failed
	2i           1 passed, 0 failed
	2p           1 passed, 0 failed
	describe     1 passed, 0 failed
	fact         1 passed, 0 failed
	irrelevance  1 passed, 0 failed
	multi_turn   1 passed, 0 failed
	parallel     1 passed, 0 failed
	11 calls replayed
	8 passed, 0 failed
	EOF
	test_cmp expect out
'

# Breaks line $1 of good.jsonl with the Python statement $2 (on s, the sample) into bad.jsonl.
break_sample() {
	python3 - "$1" "$2" <<-\EOF
	import json, sys
	n, stmt = int(sys.argv[1]), sys.argv[2]
	lines = open("good.jsonl", encoding="utf-8").read().splitlines()
	s = json.loads(lines[n - 1])
	exec(stmt)
	lines[n - 1] = json.dumps(s, ensure_ascii=False, separators=(",", ":"))
	open("bad.jsonl", "w", encoding="utf-8").write("\n".join(lines) + "\n")
	EOF
}

# Runs the checker on bad.jsonl: it must exit 1, fail one sample, and say why ($1, a fixed string).
check_fails_with() {
	test_must_fail_with 1 python3 "$CHECK" --kg-query "$(command -v kg-query)" --store mq --dump mq.nq bad.jsonl >out &&
	grep -F "7 passed, 1 failed" out &&
	grep -F "FAIL kg:" out | grep -F -- "$1"
}

test_expect_success 'check-samples: an answer the question names, a path back to the anchor: degenerate' '
	test_must_fail_with 1 python3 "$CHECK" --kg-query "$(command -v kg-query)" --store mq --dump mq.nq \
		degenerate.jsonl >out &&
	grep -F "0 passed, 2 failed" out &&
	grep -F "FAIL kg:2p:" out | grep -F "degenerate: the answer '"'"'Kismet'"'"' is named in the question" &&
	grep -F "FAIL kg:3p:" out |
		grep -F "degenerate: call_2 returns '"'"'Kismet'"'"', which the question names and an earlier call took"
'

test_expect_success 'check-samples: a wrong tool result fails the replay' '
	break_sample 6 "s[\"messages\"][3][\"content\"] = \"[\\\"Michael Curtiz\\\"]\"" &&
	check_fails_with "get_film_director returns [\"William Dieterle\"], the sample records [\"Michael Curtiz\"]"
'

test_expect_success 'check-samples: an answer that is not the last turn'"'"'s results' '
	break_sample 2 "s[\"answer\"] = s[\"answer\"][1:]" &&
	check_fails_with "is not the union of the last turn"
'

test_expect_success 'check-samples: arguments that break the schema' '
	break_sample 1 "s[\"messages\"][2][\"tool_calls\"][0][\"function\"][\"arguments\"] = \"{\\\"film\\\":\\\"Kismet\\\",\\\"year\\\":1944}\"" &&
	check_fails_with "unexpected property '"'"'year'"'"'"
'

test_expect_success 'check-samples: arguments that are not compact JSON' '
	break_sample 1 "s[\"messages\"][2][\"tool_calls\"][0][\"function\"][\"arguments\"] = \"{\\\"film\\\": \\\"Kismet\\\"}\"" &&
	check_fails_with "not compact JSON"
'

test_expect_success 'check-samples: a call to a tool that is not offered' '
	break_sample 1 "s[\"tools\"] = s[\"tools\"][1:]" &&
	check_fails_with "which is not an offered tool"
'

test_expect_success 'check-samples: an offered tool that differs from the catalogue' '
	break_sample 1 "s[\"tools\"][1][\"function\"][\"description\"] = \"Returns something.\"" &&
	check_fails_with "differs from the store"
'

test_expect_success 'check-samples: malformed shapes' '
	break_sample 3 "del s[\"meta\"]" &&
	check_fails_with "the sample has keys" &&
	break_sample 4 "s[\"messages\"][3][\"role\"] = \"user\"" &&
	check_fails_with "expected the tool message of call_1" &&
	break_sample 4 "s[\"messages\"][2][\"tool_calls\"][1][\"id\"] = \"call_3\"" &&
	check_fails_with "expected call_2" &&
	break_sample 6 "s[\"category\"] = \"2p\"" &&
	check_fails_with "does not name the category" &&
	break_sample 6 "s[\"messages\"] = s[\"messages\"][:5]" &&
	check_fails_with "1 user turns in a multi_turn sample" &&
	break_sample 5 "s[\"messages\"].insert(2, {\"role\": \"assistant\", \"content\": \"\", \"tool_calls\": []})" &&
	check_fails_with "tool_calls is empty"
'

test_expect_success 'check-samples: answers missing from the final message, evidence not in the store' '
	break_sample 1 "s[\"messages\"][-1][\"content\"] = \"Someone directed it.\"" &&
	check_fails_with "is not in the final assistant message" &&
	break_sample 1 "s[\"meta\"][\"evidence\"] = [[\"urn:kg:Kismet\", \"urn:kg:directed_by\", \"urn:kg:Nobody\"]]" &&
	check_fails_with "is not in the store"
'

test_expect_success 'check-samples: instruction samples: meta.calls replayed, answer checked' '
	break_sample 7 "s[\"meta\"][\"calls\"][0][\"result\"] += \" \"" &&
	check_fails_with "meta.calls[0]: get_film_director returns [\"William Dieterle\"], the sample records [\"William Dieterle\"] " &&
	break_sample 7 "s[\"answer\"] = [\"Someone Else\"]" &&
	check_fails_with "answer lacks names of the last call" &&
	break_sample 5 "s[\"answer\"] = [\"x\"]" &&
	check_fails_with "an irrelevance sample has a non-empty answer"
'

test_expect_success 'check-samples: a line that is not JSON, and a repeated id' '
	cp good.jsonl bad.jsonl &&
	echo "{\"id\":" >>bad.jsonl &&
	test_must_fail_with 1 python3 "$CHECK" --kg-query "$(command -v kg-query)" --store mq bad.jsonl >out &&
	grep -F "FAIL bad.jsonl:9: not JSON" out &&
	grep -F "8 passed, 1 failed" out &&
	test_must_fail_with 1 python3 "$CHECK" --kg-query "$(command -v kg-query)" --store mq good.jsonl good.jsonl >out &&
	grep -F "8 passed, 8 failed" out &&
	grep -F "is used twice" out
'

# Literal relations: tests/data/literals.ttl has dates, decimals, integers, years and texts.
test_expect_success 'setup: the literals store' '
	kg-load --store lit "$LING_DATA/literals.ttl" 2>/dev/null
'

test_expect_success '--tools on literals: value tools with parameters typed from the datatypes' '
	kg-query --store lit --tools >tools &&
	tool_names <tools >names &&
	cat >expect <<-EOF &&
	get_person_birth_date
	find_people_by_birth_date
	get_person_place_of_birth
	find_people_by_place_of_birth
	get_city_country
	find_cities_by_country
	get_film_director
	find_films_by_director
	get_person_height
	find_people_by_height
	get_city_nickname
	find_cities_by_nickname
	get_city_population
	find_cities_by_population
	get_film_release_year
	find_films_by_release_year
	get_film_runtime
	find_films_by_runtime
	intersection
	union
	difference
	search_entities
	EOF
	test_cmp expect names &&
	grep -Fx "{\"type\":\"function\",\"function\":{\"name\":\"find_cities_by_population\",\"description\":\"Returns the cities whose population is the given number, as a list of names.\",\"parameters\":{\"type\":\"object\",\"properties\":{\"population\":{\"type\":\"integer\",\"description\":\"The population, an integer. With to: the first of a range.\"},\"to\":{\"type\":\"integer\",\"description\":\"The last population of the range that starts at population (optional: without it, only population).\"},\"sort\":{\"type\":\"string\",\"enum\":[\"alphabetical\",\"reverse_alphabetical\"],\"description\":\"Order of the names (default: alphabetical).\"},\"limit\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"Return at most this many names, the first in that order.\"}},\"required\":[\"population\"],\"additionalProperties\":false}}}" tools &&
	grep -F "\"name\":\"find_films_by_release_year\"," tools | grep -F "\"release_year\":{\"type\":\"integer\",\"description\":\"The release year, e.g. 1999. With to: the first of a range.\"},\"to\":{\"type\":\"integer\"," &&
	grep -F "\"name\":\"find_people_by_birth_date\"," tools | grep -F "\"to\":{\"type\":\"string\",\"format\":\"date\"," &&
	grep -F "\"name\":\"get_film_release_year\"," tools | grep -F "\"sort\":{\"type\":\"string\",\"enum\":[\"ascending\",\"descending\"]" &&
	grep -F "\"name\":\"find_people_by_height\"," tools | grep -F "\"height\":{\"type\":\"number\"," &&
	grep -F "\"name\":\"find_people_by_birth_date\"," tools | grep -F "\"birth_date\":{\"type\":\"string\",\"format\":\"date\"," &&
	grep -F "\"name\":\"find_cities_by_nickname\"," tools | grep -F "\"nickname\":{\"type\":\"string\"," &&
	grep -F "\"name\":\"get_person_height\"," tools | grep -F "\"person\":{\"type\":\"string\","
'

test_expect_success '--call on literals: values out as strings, typed values in' '
	kg-query --store lit --call get_city_population "{\"city\":\"London\"}" >out &&
	echo "[\"8799800\"]" >expect && test_cmp expect out &&
	kg-query --store lit --call find_cities_by_population "{\"population\":8799800}" >out &&
	echo "[\"London\"]" >expect && test_cmp expect out &&
	kg-query --store lit --call find_films_by_release_year "{\"release_year\":1999}" >out &&
	echo "[\"American Beauty\",\"Fight Club\",\"The Virgin Suicides\"]" >expect && test_cmp expect out &&
	kg-query --store lit --call get_film_release_year "{\"film\":\"Gladiator\"}" >out &&
	echo "[\"2000\"]" >expect && test_cmp expect out &&
	kg-query --store lit --call find_films_by_release_year "{\"release_year\":2000}" >out &&
	echo "[\"Crouching Tiger, Hidden Dragon\",\"Gladiator\",\"Memento\"]" >expect && test_cmp expect out &&
	kg-query --store lit --call get_person_height "{\"person\":\"Guillermo del Toro\"}" >out &&
	echo "[\"1.8\"]" >expect && test_cmp expect out &&
	kg-query --store lit --call find_people_by_height "{\"height\":1.8}" >out &&
	echo "[\"Bong Joon-ho\",\"David Fincher\",\"Guillermo del Toro\",\"Peter Weir\"]" >expect && test_cmp expect out &&
	kg-query --store lit --call get_person_birth_date "{\"person\":\"Martin Scorsese\"}" >out &&
	echo "[\"1942-11-17\"]" >expect && test_cmp expect out &&
	kg-query --store lit --call find_people_by_birth_date "{\"birth_date\":\"1942-11-17\"}" >out &&
	echo "[\"Martin Scorsese\"]" >expect && test_cmp expect out &&
	kg-query --store lit --call find_cities_by_nickname "{\"nickname\":\"The Big Apple\"}" >out &&
	echo "[\"New York City\"]" >expect && test_cmp expect out &&
	kg-query --store lit --call find_films_by_runtime "{\"runtime\":1}" >out &&
	echo "[]" >expect && test_cmp expect out
'

test_expect_success '--call on literals: ranges of years, numbers and dates; values sorted by value' '
	kg-query --store lit --call find_films_by_release_year "{\"release_year\":1999,\"to\":2000}" >out &&
	echo "[\"American Beauty\",\"Crouching Tiger, Hidden Dragon\",\"Fight Club\",\"Gladiator\",\"Memento\",\"The Virgin Suicides\"]" >expect &&
	test_cmp expect out &&
	kg-query --store lit --call find_films_by_release_year "{\"release_year\":1999,\"to\":2000,\"sort\":\"reverse_alphabetical\",\"limit\":2}" >out &&
	echo "[\"The Virgin Suicides\",\"Memento\"]" >expect && test_cmp expect out &&
	kg-query --store lit --call find_people_by_height "{\"height\":1.75,\"to\":1.8}" >range &&
	grep -F "\"Peter Weir\"" range &&
	kg-query --store lit --call find_people_by_birth_date "{\"birth_date\":\"1942-01-01\",\"to\":\"1942-12-31\"}" >out &&
	grep -F "\"Martin Scorsese\"" out &&
	kg-query --store lit --call find_films_by_release_year "{\"release_year\":1850,\"to\":1851}" >out &&
	echo "[]" >expect && test_cmp expect out &&
	test_must_fail_with 1 kg-query --store lit --call find_films_by_release_year "{\"release_year\":2000,\"to\":1999}" 2>err &&
	echo "kg-query: find_films_by_release_year: argument '"'"'to'"'"' must not be less than '"'"'release_year'"'"'" >expect &&
	test_cmp expect err &&
	test_must_fail_with 1 kg-query --store lit --call find_films_by_release_year "{\"release_year\":1999,\"to\":\"2000\"}" 2>err &&
	grep -F "argument '"'"'to'"'"' must be an integer (a year)" err &&
	test_must_fail_with 1 kg-query --store lit --call find_cities_by_nickname "{\"nickname\":\"The Big Apple\",\"to\":\"Z\"}" 2>err &&
	grep -F "unexpected argument '"'"'to'"'"'" err &&
	kg-query --store lit --call get_city_population "{\"city\":\"London\",\"sort\":\"descending\",\"limit\":1}" >out &&
	echo "[\"8799800\"]" >expect && test_cmp expect out
'

test_expect_success '--call on literals: a value of the wrong type is exit 1' '
	test_must_fail_with 1 kg-query --store lit --call find_films_by_release_year "{\"release_year\":\"1999\"}" >out 2>err &&
	test_cmp /dev/null out &&
	echo "kg-query: find_films_by_release_year: argument '"'"'release_year'"'"' must be an integer (a year)" >expect &&
	test_cmp expect err &&
	test_must_fail_with 1 kg-query --store lit --call find_cities_by_population "{\"population\":8799800.5}" 2>err &&
	echo "kg-query: find_cities_by_population: argument '"'"'population'"'"' must be an integer" >expect &&
	test_cmp expect err &&
	test_must_fail_with 1 kg-query --store lit --call find_people_by_height "{\"height\":\"1.8\"}" 2>err &&
	grep -F "must be a number" err &&
	test_must_fail_with 1 kg-query --store lit --call find_people_by_birth_date "{\"birth_date\":\"1942-02-30\"}" 2>err &&
	grep -F "must be a date as YYYY-MM-DD" err &&
	test_must_fail_with 1 kg-query --store lit --call find_cities_by_nickname "{\"nickname\":7}" 2>err &&
	grep -F "must be a string" err
'

test_expect_success '--calls on literals: typed values in string or object arguments' '
	cat >calls.jsonl <<-\EOF &&
	{"name":"find_films_by_runtime","arguments":"{\"runtime\":117}"}
	{"name":"find_films_by_runtime","arguments":{"runtime":117}}
	{"name":"find_films_by_runtime","arguments":{"runtime":117.0}}
	{"name":"search_entities","arguments":{"name":"ridley scott"}}
	EOF
	kg-query --store lit --calls calls.jsonl >out 2>err &&
	cat >expect <<-\EOF &&
	{"result":"[\"Alien\",\"Blade Runner\"]"}
	{"result":"[\"Alien\",\"Blade Runner\"]"}
	{"error":"find_films_by_runtime: argument '"'"'runtime'"'"' must be an integer"}
	{"result":"[\"Ridley Scott\"]"}
	EOF
	test_cmp expect out
'

test_expect_success 'check-samples: typed arguments and the date format' '
	cat >lit-samples.py <<-\EOF &&
	import json, subprocess, sys
	kq, store, out, day = sys.argv[1:5]
	def dumps(v):
	    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))
	def run(*args):
	    return subprocess.run([kq, "--store", store] + list(args), capture_output=True, text=True).stdout
	tools = {json.loads(l)["function"]["name"]: json.loads(l) for l in run("--tools").splitlines()}
	calls = [("search_entities", {"name": "martin scorsese"}), ("find_people_by_birth_date", {"birth_date": day}),
	         ("find_films_by_release_year", {"release_year": 1999})]
	msgs = [{"role": "system", "content": "Use the tools."},
	        {"role": "user", "content": "Who was born on %s, and which films came out in 1999?" % day}]
	last = []
	for i, (name, args) in enumerate(calls, 1):
	    a = dumps(args)
	    r = run("--call", name, a).strip() or "[]"
	    msgs.append({"role": "assistant", "content": "",
	                 "tool_calls": [{"id": "call_%d" % i, "type": "function", "function": {"name": name, "arguments": a}}]})
	    msgs.append({"role": "tool", "tool_call_id": "call_%d" % i, "name": name, "content": r})
	    last = json.loads(r)
	msgs.append({"role": "assistant", "content": "They are %s." % ", ".join(last)})
	s = {"id": "kg:2p:%016x" % 1, "kind": "tool_use", "category": "2p", "pattern": "2p",
	     "tools": [tools[n] for n, _ in calls], "messages": msgs, "answer": sorted(last, key=lambda x: x.encode()),
	     "meta": {"seed": 1, "index": 0, "store": "test", "lang": "en", "evidence": []}}
	open(out, "w", encoding="utf-8").write(dumps(s) + "\n")
	EOF
	python3 lit-samples.py "$(command -v kg-query)" lit lit-good.jsonl 1942-11-17 &&
	python3 "$CHECK" --kg-query "$(command -v kg-query)" --store lit lit-good.jsonl >out &&
	grep -Fx "1 passed, 0 failed" out &&
	python3 lit-samples.py "$(command -v kg-query)" lit lit-bad.jsonl 1942-02-30 &&
	test_must_fail_with 1 python3 "$CHECK" --kg-query "$(command -v kg-query)" --store lit lit-bad.jsonl >out &&
	grep -F "arguments.birth_date is not a date" out &&
	sed "s/{\\\\\"release_year\\\\\":1999}/{\\\\\"release_year\\\\\":\\\\\"1999\\\\\"}/" lit-good.jsonl >lit-str.jsonl &&
	! cmp -s lit-good.jsonl lit-str.jsonl &&
	test_must_fail_with 1 python3 "$CHECK" --kg-query "$(command -v kg-query)" --store lit lit-str.jsonl >out &&
	grep -F "arguments.release_year must be of type integer" out
'


# One 1p sample whose call is $1 (JSON arguments of find_films_by_release_year, or of the tool named by $3) into
# $2; with a 4th argument, the recorded result is that JSON text instead of kg-query's.
test_expect_success 'setup: samples with optional arguments' '
	cat >opt-sample.py <<-\EOF
	import json, subprocess, sys
	kq, store, args, out = sys.argv[1:5]
	name = sys.argv[5] if len(sys.argv) > 5 else "find_films_by_release_year"
	def dumps(v):
	    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))
	def run(*a):
	    return subprocess.run([kq, "--store", store] + list(a), capture_output=True, text=True).stdout
	tools = {json.loads(l)["function"]["name"]: json.loads(l) for l in run("--tools").splitlines()}
	r = sys.argv[6] if len(sys.argv) > 6 else (run("--call", name, args).strip() or "[]")
	names = json.loads(r)
	msgs = [{"role": "system", "content": "Use the tools."}, {"role": "user", "content": "Name a few."},
	        {"role": "assistant", "content": "",
	         "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": name, "arguments": args}}]},
	        {"role": "tool", "tool_call_id": "call_1", "name": name, "content": r},
	        {"role": "assistant", "content": "Some are %s." % ", ".join(names)}]
	s = {"id": "kg:1p:%016x" % 1, "kind": "tool_use", "category": "1p", "pattern": "1p",
	     "tools": [tools[name]], "messages": msgs, "answer": sorted(set(names), key=lambda x: x.encode()),
	     "meta": {"seed": 1, "index": 0, "store": "test", "lang": "en", "evidence": []}}
	open(out, "w", encoding="utf-8").write(dumps(s) + "\n")
	EOF
'

check_opt() {
	python3 opt-sample.py "$(command -v kg-query)" lit "$@" &&
	python3 "$CHECK" --kg-query "$(command -v kg-query)" --store lit "$2" >out
}

test_expect_success 'check-samples: sort, limit and ranges validate and replay' '
	check_opt "{\"release_year\":1999,\"to\":2000,\"sort\":\"reverse_alphabetical\",\"limit\":2}" s1.jsonl &&
	grep -Fx "1 passed, 0 failed" out &&
	grep -F "[\\\"The Virgin Suicides\\\",\\\"Memento\\\"]" s1.jsonl &&
	check_opt "{\"film\":\"Gladiator\",\"sort\":\"descending\",\"limit\":1}" s2.jsonl get_film_release_year &&
	grep -Fx "1 passed, 0 failed" out
'

test_expect_success 'check-samples: a result in the wrong order, or longer than the limit, fails on its own' '
	test_must_fail_with 1 check_opt "{\"release_year\":1999,\"to\":2000,\"sort\":\"reverse_alphabetical\",\"limit\":2}" b1.jsonl \
		find_films_by_release_year "[\"Memento\",\"The Virgin Suicides\"]" &&
	grep -F "the result is not in reverse_alphabetical order" out &&
	test_must_fail_with 1 check_opt "{\"release_year\":1999,\"limit\":2}" b2.jsonl find_films_by_release_year \
		"[\"American Beauty\",\"Fight Club\",\"The Virgin Suicides\"]" &&
	grep -F "3 names, more than the limit 2" out &&
	test_must_fail_with 1 check_opt "{\"city\":\"London\",\"sort\":\"ascending\"}" b3.jsonl get_city_population \
		"[\"10\",\"9\"]" &&
	grep -F "the result is not in ascending order" out
'

test_expect_success 'check-samples: a limit below its minimum, a value outside the enum, a range that ends first' '
	test_must_fail_with 1 check_opt "{\"release_year\":1999,\"limit\":0}" b4.jsonl find_films_by_release_year "[]" &&
	grep -F "arguments.limit is less than the minimum 1" out &&
	test_must_fail_with 1 check_opt "{\"release_year\":2000,\"to\":1999}" b5.jsonl find_films_by_release_year "[]" &&
	grep -F "the range ends before it starts" out &&
	test_must_fail_with 1 check_opt "{\"release_year\":1999,\"sort\":\"descending\"}" b6.jsonl find_films_by_release_year "[]" &&
	grep -F "arguments.sort is not one of" out &&
	kg-query --store mq --tools | grep -F "\"name\":\"find_films_by_genre\"," >/dev/null &&
	python3 opt-sample.py "$(command -v kg-query)" mq "{\"genre\":\"Drama\",\"limit\":3}" g1.jsonl find_films_by_genre &&
	python3 "$CHECK" --kg-query "$(command -v kg-query)" --store mq g1.jsonl >out &&
	grep -Fx "1 passed, 0 failed" out &&
	python3 opt-sample.py "$(command -v kg-query)" mq "{\"genre\":\"drama\"}" g2.jsonl find_films_by_genre "[]" &&
	test_must_fail_with 1 python3 "$CHECK" --kg-query "$(command -v kg-query)" --store mq g2.jsonl >out &&
	grep -F "arguments.genre is not one of" out
'

test_done
