#!/bin/sh
test_description='kg-query: patterns and joins, labels, neighbourhoods, dump'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: a small film graph' '
	cat >films.ttl <<-TTL &&
	@prefix ex: <http://ex.org/> .
	@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
	@prefix schema: <http://schema.org/> .
	ex:alien a ex:Film ; ex:directed_by ex:scott ; rdfs:label "Alien"@en, "Alien – Das unheimliche Wesen"@de .
	ex:blade_runner a ex:Film ; ex:directed_by ex:scott ; ex:starring ex:ford ; rdfs:label "Blade Runner"@en .
	ex:witness a ex:Film ; ex:directed_by ex:weir ; ex:starring ex:ford ; rdfs:label "Witness"@en .
	ex:scott a ex:Person ; rdfs:label "Ridley Scott"@en ; ex:born_in ex:south_shields .
	ex:weir a ex:Person ; schema:name "Peter Weir" .
	ex:ford a ex:Person ; rdfs:label "Harrison Ford"@en .
	ex:south_shields rdfs:label "South Shields"@en .
	ex:strasse rdfs:label "Hauptstraße"@de .
	TTL
	kg-load --store kg films.ttl
'

test_expect_success 'one pattern with two variables' '
	kg-query --store kg "?film <http://ex.org/directed_by> ?who" | sort >out &&
	cat >expect <<-EOF &&
	{"film":"<http://ex.org/alien>","who":"<http://ex.org/scott>"}
	{"film":"<http://ex.org/blade_runner>","who":"<http://ex.org/scott>"}
	{"film":"<http://ex.org/witness>","who":"<http://ex.org/weir>"}
	EOF
	test_cmp expect out
'

test_expect_success 'a join: where were the directors of Ford films born' '
	kg-query --store kg "?film <http://ex.org/starring> <http://ex.org/ford>" \
		"?film <http://ex.org/directed_by> ?d" "?d <http://ex.org/born_in> ?place" >out &&
	cat >expect <<-EOF &&
	{"film":"<http://ex.org/blade_runner>","d":"<http://ex.org/scott>","place":"<http://ex.org/south_shields>"}
	EOF
	test_cmp expect out
'

test_expect_success 'prefixed names, a, and literals with language tags' '
	kg-query --store kg "?x a <http://ex.org/Person>" "?x rdfs:label \"Ridley Scott\"@en" >out &&
	echo "{\"x\":\"<http://ex.org/scott>\"}" >expect &&
	test_cmp expect out
'

test_expect_success '--output nt writes the matched triples' '
	kg-query --store kg -o nt "<http://ex.org/scott> ?p ?o" | sort >out &&
	grep -c . out >n && echo 3 >expect && test_cmp expect n &&
	grep -F "<http://ex.org/scott> <http://ex.org/born_in> <http://ex.org/south_shields> ." out
'

test_expect_success '--output nt with a join writes the quads of complete solutions only' '
	kg-query --store kg -o nt "?film <http://ex.org/starring> ?actor" "?film <http://ex.org/directed_by> <http://ex.org/scott>" >out &&
	cat >expect <<-EOF &&
	<http://ex.org/blade_runner> <http://ex.org/starring> <http://ex.org/ford> .
	<http://ex.org/blade_runner> <http://ex.org/directed_by> <http://ex.org/scott> .
	EOF
	test_cmp expect out
'

test_expect_success 'a graph variable binds the default graph to null' '
	kg-query --store kg "<http://ex.org/weir> ?p ?o ?g" >out &&
	grep -F "\"g\":null" out
'

test_expect_success 'pattern terms match as written (no NFC), language tags and prefixed datatypes as loaded' '
	printf "<http://ex.org/c> <http://ex.org/name> \"Caf\\u00E9\"@fr .\n<http://ex.org/c> <http://ex.org/year> \"1979\"^^<http://www.w3.org/2001/XMLSchema#gYear> .\n" >lit.nt &&
	kg-load --store kgl lit.nt &&
	kg-query --store kgl "?x ?p \"Caf\\u00E9\"@FR" >out &&
	grep -F "<http://ex.org/c>" out &&
	kg-query --store kgl "?x ?p \"Cafe\\u0301\"@fr" >out &&
	test_cmp /dev/null out &&
	kg-query --store kgl "?x ?p \"1979\"^^xsd:gYear" >out &&
	grep -F "<http://ex.org/year>" out
'

test_expect_success 'a constant the store lacks matches nothing, exit 0' '
	kg-query --store kg "?x <http://ex.org/nope> ?y" >out &&
	test_cmp /dev/null out
'

test_expect_success '--limit' '
	kg-query --store kg --limit 2 "?s ?p ?o" >out &&
	test $(wc -l <out) = 2
'

test_expect_success '--limit ends a join at once: 4 patterns over a 60-node clique (60^5 solutions)' '
	awk "BEGIN { for (i = 0; i < 60; i++) for (j = 0; j < 60; j++) printf \"<urn:n%d> <urn:p> <urn:n%d> .\\n\", i, j }" >clique.nt &&
	kg-load --store clique clique.nt &&
	# A join that went on after its 5 solutions needs minutes of CPU; this one needs none.
	(ulimit -t 5; kg-query --store clique --limit 5 "?a ?b ?c" "?c ?d ?e" "?e ?f ?g" "?g ?h ?i" >out) &&
	test $(wc -l <out) = 5 &&
	test $(sort -u out | wc -l) = 5 &&
	(ulimit -t 5; kg-query --store clique --limit 3 -o nt "?a ?b ?c" "?c ?d ?e" "?e ?f ?g" "?g ?h ?i" >out) &&
	test $(wc -l <out) = 12
'

test_expect_success '--limit bounds a neighbourhood' '
	kg-query --store kg --neighbours "Witness" --hops 2 --limit 1 >out &&
	test $(wc -l <out) = 1 &&
	kg-query --store kg --neighbours "Witness" --hops 2 --limit 3 -o nt >out &&
	test $(wc -l <out) = 3
'

test_expect_success 'label lookup folds case (ICU), across languages' '
	kg-query --store kg --label "BLADE runner" >out &&
	echo "{\"entity\":\"<http://ex.org/blade_runner>\",\"label\":\"Blade Runner\",\"lang\":\"en\",\"degree\":4}" >expect &&
	test_cmp expect out &&
	kg-query --store kg --label "hauptstrasse" >out &&
	grep -F "<http://ex.org/strasse>" out &&
	kg-query --store kg --label "peter weir" >out &&
	grep -F "<http://ex.org/weir>" out
'

test_expect_success 'label lookup by language' '
	kg-query --store kg --label "alien" --lang en >en &&
	grep -F "<http://ex.org/alien>" en &&
	kg-query --store kg --label "alien" --lang de >de &&
	test_cmp /dev/null de
'

test_expect_success 'neighbourhood of an entity by label, 1 and 2 hops' '
	kg-query --store kg --neighbours "Witness" --hops 1 -o nt >h1 &&
	test $(wc -l <h1) = 4 &&
	kg-query --store kg --neighbours "Witness" --hops 2 -o nt >h2 &&
	grep -F "<http://ex.org/blade_runner> <http://ex.org/starring> <http://ex.org/ford> ." h2 &&
	kg-query --store kg --neighbours "<http://ex.org/witness>" --hops 1 >j1 &&
	grep -F "\"hop\":1" j1
'

test_expect_success 'unknown entity is an error; bad usage exits 2' '
	test_must_fail_with 1 kg-query --store kg --neighbours "Nobody Here" 2>err &&
	grep "no entity" err &&
	test_must_fail_with 2 kg-query --store kg &&
	test_must_fail_with 2 kg-query --store kg "?x ?y" &&
	test_must_fail_with 2 kg-query --store kg "?x nope:thing ?y" &&
	test_must_fail_with 2 kg-query --store kg --dump "?x ?y ?z" &&
	test_must_fail_with 1 kg-query --store no-such-store --dump
'

test_expect_success 'a variable name that is not UTF-8 (a JSON key of every row) is a usage error' '
	test_must_fail_with 2 kg-query --store kg "$(printf "?\\377x ?p ?o")" >out 2>err &&
	grep -F "a variable name is not valid UTF-8" err &&
	test_cmp /dev/null out &&
	kg-query --store kg "?$(printf "\\303\\251") <http://ex.org/born_in> <http://ex.org/south_shields>" >out &&
	printf "{\"\\303\\251\":\"<http://ex.org/scott>\"}\\n" >expect &&
	test_cmp expect out
'

test_expect_success '--dump writes N-Quads that load back to the same store' '
	kg-query --store kg --dump >dump.nq &&
	kg-load --store kg2 dump.nq &&
	kg-query --store kg2 --dump | sort >again &&
	sort dump.nq >sorted &&
	test $(wc -l <sorted) = 21 &&
	test_cmp sorted again
'

test_expect_success 'a label holding NUL: escaped in every output, round trip, never cut' '
	cat >nul.nt <<-\EOF &&
	<http://ex.org/n> <http://www.w3.org/2000/01/rdf-schema#label> "ab\u0000cd"@en .
	<http://ex.org/a> <http://www.w3.org/2000/01/rdf-schema#label> "ab"@en .
	<http://ex.org/n> <http://ex.org/rel> <http://ex.org/a> .
	EOF
	kg-load --store nul nul.nt &&
	kg-query --store nul --dump | sort >dump &&
	sort nul.nt >expect &&
	test_cmp expect dump &&
	kg-load --store nul2 --format nquads dump &&
	kg-query --store nul2 --dump | sort >dump2 &&
	test_cmp dump dump2 &&
	kg-query --store nul "<http://ex.org/n> rdfs:label ?l" >out &&
	cat >expect <<-\EOF &&
	{"l":"\"ab\\u0000cd\"@en"}
	EOF
	test_cmp expect out &&
	kg-query --store nul "?x rdfs:label \"ab\\u0000cd\"@en" >out &&
	echo "{\"x\":\"<http://ex.org/n>\"}" >expect &&
	test_cmp expect out &&
	kg-query --store nul --label ab >out &&
	echo "{\"entity\":\"<http://ex.org/a>\",\"label\":\"ab\",\"lang\":\"en\",\"degree\":2}" >expect &&
	test_cmp expect out &&
	kg-query --store nul --min-facts 1 --call find_entities_by_rel "{\"rel\":\"ab\"}" >out &&
	echo "[\"<http://ex.org/n>\"]" >expect &&
	test_cmp expect out &&
	kg-query --store nul --min-facts 1 --call get_rel "{\"entity\":\"<http://ex.org/n>\"}" >out &&
	echo "[\"ab\"]" >expect &&
	test_cmp expect out
'

test_done
