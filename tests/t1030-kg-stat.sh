#!/bin/sh
test_description='kg-stat: counts kept by loads and deletes'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' '
	cat >g.ttl <<-TTL &&
	@prefix ex: <http://ex.org/> .
	@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
	ex:a a ex:Film ; rdfs:label "A"@en, "A"@fr ; ex:p ex:b .
	ex:b a ex:Person ; rdfs:label "B"@en .
	ex:c a ex:Film .
	TTL
	kg-load --store kg g.ttl
'

test_expect_success 'JSON totals' '
	kg-stat --store kg --json >out &&
	grep "\"quads\":7," out &&
	grep "\"entities\":5," out &&
	grep "\"predicates\":3," out &&
	grep -F "{\"name\":\"<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>\",\"count\":3}" out &&
	grep -F "\"label_languages\":[{\"name\":\"en\",\"count\":2},{\"name\":\"fr\",\"count\":1}]" out &&
	grep -F "\"top_types\":[{\"name\":\"<http://ex.org/Film>\",\"count\":2},{\"name\":\"<http://ex.org/Person>\",\"count\":1}]" out
'

test_expect_success 'text report' '
	kg-stat --store kg >out &&
	grep "^quads       7$" out &&
	grep "^predicates  3$" out &&
	grep "^languages   2$" out
'

test_expect_success 'deletes bring the counts down' '
	printf "<http://ex.org/c> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://ex.org/Film> .\n" >del.nt &&
	kg-load --store kg --delete del.nt &&
	kg-stat --store kg --json >out &&
	grep "\"quads\":6," out &&
	grep "\"entities\":4," out &&
	grep -F "{\"name\":\"<http://ex.org/Film>\",\"count\":1}" out
'

test_expect_success 'errors' '
	test_must_fail_with 2 kg-stat &&
	test_must_fail_with 1 kg-stat --store nowhere 2>err &&
	grep "kg-stat: nowhere: no such store" err
'

test_done
