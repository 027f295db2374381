#!/bin/sh
test_description='kg-load on real KGs: FB15k-237 with labels, the DBpedia ontology, MetaQA'
. "$(dirname "$0")/lib.sh"

# serdi writes non-ASCII as \u escapes; kg-parse rewrites its output in the same
# N-Triples form as our dump, so the two can be compared line by line.
canonical() {
	kg-parse -q --format ntriples - | sort
}

if command -v serdi >/dev/null; then test_set_prereq SERDI; fi

test_expect_success SERDI 'FB15k-237 slice: kg-query --dump equals serdi, sorted' '
	zstd -dc "$LING_DATA/fb15k-slice.nt.zst" >fb.nt &&
	kg-load --store fb fb.nt 2>err &&
	grep "read 15335, wrote 15335, rejected 0" err &&
	kg-query --store fb --dump | sort >ours &&
	serdi -i ntriples -o ntriples fb.nt | canonical >theirs &&
	test $(wc -l <theirs) = 15335 &&
	test_cmp theirs ours
'

test_expect_success 'FB15k-237 slice: labels answer lookups' '
	kg-stat --store fb --json >stat &&
	grep "\"quads\":15335," stat &&
	grep -F "\"label_languages\":[{\"name\":\"en\"" stat
'

test_expect_success SERDI 'DBpedia ontology, Turtle: dump equals serdi, 34680 triples' '
	zstd -dc "$LING_DATA/dbo-snapshots.ttl.zst" >dbo.ttl &&
	kg-load --store dbo-ttl dbo.ttl 2>err &&
	grep "wrote 34680," err &&
	kg-query --store dbo-ttl --dump | sort >ours &&
	serdi -i turtle -o ntriples dbo.ttl | canonical >theirs &&
	test_cmp theirs ours
'

test_expect_success 'DBpedia ontology, RDF/XML (streamed): the same graph as the Turtle' '
	zstd -dc "$LING_DATA/dbo-snapshots.owl.zst" >dbo.owl &&
	kg-load --store dbo-xml dbo.owl 2>err &&
	grep "wrote 34680," err &&
	kg-query --store dbo-xml --dump | sort >xml &&
	kg-query --store dbo-ttl --dump | sort >ttl &&
	test_cmp ttl xml
'

test_expect_success 'DBpedia ontology: labels in many languages' '
	kg-stat --store dbo-ttl --json >stat &&
	grep -F "{\"name\":\"en\",\"count\":4199}" stat &&
	grep -F "{\"name\":\"de\",\"count\":2117}" stat &&
	kg-query --store dbo-ttl --label "MOVIE" --lang en >film &&
	grep -F "<http://dbpedia.org/ontology/Film>" film
'

test_expect_success 'the embedded MetaQA KB loads as delimited triples' '
	kg-load --store metaqa --format tsv --delimiter "|" --tsv-labels "$LING_ROOT/data/metaqa-kb.txt.zst" 2>err &&
	grep "rejected 0" err &&
	kg-stat --store metaqa --json >stat &&
	grep "\"predicates\":10," stat &&
	kg-query --store metaqa "<urn:kg:Kismet> <directed_by> ?d" >out &&
	grep -F "William%20Dieterle" out
'

test_done
