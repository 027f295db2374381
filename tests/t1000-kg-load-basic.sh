#!/bin/sh
test_description='kg-load: formats, idempotence, terms as written, graphs, deletes, compressed input'
. "$(dirname "$0")/lib.sh"

cat >small.nt <<'NT'
<http://ex.org/alien> <http://ex.org/directed_by> <http://ex.org/ridley_scott> .
<http://ex.org/alien> <http://www.w3.org/2000/01/rdf-schema#label> "Alien"@EN .
<http://ex.org/ridley_scott> <http://www.w3.org/2000/01/rdf-schema#label> "Ridley Scott"@en .
<http://ex.org/ridley_scott> <http://ex.org/born_in> <http://ex.org/south_shields> .
<http://ex.org/south_shields> <http://www.w3.org/2000/01/rdf-schema#label> "South Shields" .
<http://ex.org/cafe> <http://www.w3.org/2000/01/rdf-schema#label> "Cafe\u0301" .
<http://ex.org/alien> <http://ex.org/year> "1979"^^<http://www.w3.org/2001/XMLSchema#gYear> .
NT

test_expect_success 'load N-Triples into a new store' '
	kg-load --store kg small.nt 2>err &&
	grep "kg-load: read 7, wrote 7, rejected 0" err
'

test_expect_success 'dump gives the triples back as written (no NFC), language tags lowercase' '
	kg-query --store kg --dump | sort >dump &&
	sed -e "s/@EN/@en/" -e "s/Cafe\\\\u0301/Cafe$(printf "\314\201")/" small.nt | sort >expect &&
	test_cmp expect dump
'

test_expect_success 'loading the same file again changes nothing' '
	kg-load --store kg small.nt 2>err &&
	grep "wrote 0" err &&
	kg-query --store kg --dump | sort >dump2 &&
	test_cmp dump dump2 &&
	kg-stat --store kg --json >stat &&
	grep "\"quads\":7," stat
'

test_expect_success 'gzip and zstd input give the same store' '
	gzip -c small.nt >small.nt.gz &&
	zstd -q -c small.nt >small.nt.zst &&
	kg-load --store kgz small.nt.gz 2>err && grep "wrote 7" err &&
	kg-load --store kgz small.nt.zst 2>err && grep "wrote 0" err &&
	kg-query --store kgz --dump | sort >dumpz &&
	test_cmp dump dumpz
'

test_expect_success 'stdin with --format' '
	kg-load --store kgs --format ntriples - <small.nt 2>err && grep "wrote 7" err
'

test_expect_success 'Turtle and N-Quads by extension' '
	cat >g.ttl <<-TTL &&
	@prefix ex: <http://ex.org/> .
	ex:alien ex:directed_by ex:ridley_scott ; ex:genre ex:horror, ex:scifi .
	TTL
	printf "<http://ex.org/a> <http://ex.org/p> \"x\" <http://ex.org/g1> .\n" >q.nq &&
	kg-load --store kgt g.ttl q.nq 2>err &&
	grep "read 4, wrote 4" err &&
	kg-query --store kgt --dump >dump &&
	grep -F "<http://ex.org/a> <http://ex.org/p> \"x\" <http://ex.org/g1> ." dump &&
	grep -F "<http://ex.org/alien> <http://ex.org/genre> <http://ex.org/scifi> ." dump
'

test_expect_success '--graph puts triples into a named graph' '
	kg-load --store kgg --graph http://ex.org/graph1 small.nt 2>err &&
	kg-query --store kgg --dump >dump &&
	test $(grep -c " <http://ex.org/graph1> .$" dump) = 7
'

test_expect_success 'delimited triples with --tsv-labels (MetaQA style)' '
	printf "Kismet|directed_by|William Dieterle\nKismet|release_year|1944\n" >kb.txt &&
	kg-load --store kgm --format tsv --delimiter "|" --tsv-labels kb.txt 2>err &&
	grep "read 6, wrote 5" err &&
	kg-query --store kgm "?f <directed_by> ?d" >out &&
	echo "{\"f\":\"<urn:kg:Kismet>\",\"d\":\"<urn:kg:William%20Dieterle>\"}" >expect &&
	test_cmp expect out
'

test_expect_success 'blank nodes: same file twice is idempotent, two files stay apart' '
	printf "_:b1 <http://ex.org/p> \"one\" .\n" >b1.nt &&
	printf "_:b1 <http://ex.org/p> \"two\" .\n" >b2.nt &&
	kg-load --store kgb b1.nt b1.nt b2.nt 2>err &&
	grep "read 3, wrote 2" err &&
	kg-query --store kgb --dump | cut -d" " -f1 | sort -u >subjects &&
	test $(wc -l <subjects) = 2
'

test_expect_success '--delete removes quads and their counts' '
	head -2 small.nt >two.nt &&
	kg-load --store kg --delete two.nt 2>err &&
	grep "deleted 2" err &&
	kg-query --store kg --dump | sort >dump3 &&
	sed -e "s/@EN/@en/" -e "s/Cafe\\\\u0301/Cafe$(printf "\314\201")/" small.nt | tail -n +3 | sort >expect3 &&
	test_cmp expect3 dump3 &&
	kg-stat --store kg --json >stat &&
	grep "\"quads\":5," stat &&
	kg-load --store kg --delete two.nt 2>err &&
	grep "deleted 0" err
'

test_expect_success 'a UTF-8 byte order mark at the start is skipped' '
	printf "\357\273\277" >bom.nt && cat small.nt >>bom.nt &&
	kg-load --store kgbom bom.nt 2>err && grep "wrote 7" err
'

test_expect_success 'a 20 MB literal loads and dumps back whole' '
	awk "BEGIN { printf \"<http://ex.org/big> <http://ex.org/text> \\\"\"; for (i = 0; i < 200000; i++) printf \"%0100d\", i; print \"\\\" .\" }" >huge.nt &&
	kg-load --store kghuge huge.nt 2>err && grep "wrote 1" err &&
	kg-query --store kghuge --dump >dump &&
	test_cmp huge.nt dump
'

test_expect_success '--batch applies as it goes: a later error keeps the batches before it' '
	{ cat small.nt && echo "<http://ex.org/x> <http://ex.org/p> bad ." && cat small.nt; } >batched.nt &&
	test_must_fail_with 1 kg-load --store kgbatch --batch 3 batched.nt 2>err &&
	grep "batched.nt:8:" err &&
	kg-stat --store kgbatch --json >stat &&
	grep "\"quads\":6," stat &&
	kg-load --store kgbatch --batch 3 small.nt 2>err &&
	grep "read 7, wrote 1," err
'

test_expect_success 'usage errors exit 2, missing files exit 1' '
	test_must_fail_with 2 kg-load small.nt &&
	test_must_fail_with 2 kg-load --store kg --format nonsense small.nt &&
	test_must_fail_with 2 kg-load --store kg --max-errors -3 small.nt &&
	test_must_fail_with 1 kg-load --store kg no-such-file.nt 2>err &&
	grep "kg-load: no-such-file.nt: cannot open" err
'

test_expect_success 'a directory that is not a store is refused' '
	mkdir notastore && echo hello >notastore/file &&
	test_must_fail_with 1 kg-load --store notastore small.nt 2>err &&
	grep "not a ling store" err &&
	test_cmp notastore/file - <<-EOF
	hello
	EOF
'

test_expect_success 'loads leave no file per run in the store (no LOG.old, no empty old WAL)' '
	printf "<http://e/a> <http://e/p> <http://e/b> .\n" >one.nt &&
	kg-load --store grow one.nt &&
	kg-load --store grow one.nt &&
	ls grow >second &&
	for i in 1 2 3 4 5 6 7 8 9 10; do
		kg-load -q --store grow one.nt || return 1
	done &&
	ls grow >files &&
	cat files &&
	! grep "LOG\.old" files &&
	test $(grep -c "\.log$" files) = 1 &&
	test $(wc -l <files) = $(wc -l <second) &&
	kg-query --store grow --dump >out &&
	test_cmp one.nt out
'

test_done
