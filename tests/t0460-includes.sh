#!/bin/sh
test_description='include rules (STYLE.md dependency rule): mains use their stage'"'"'s public header,
stages no later stage and no internal header of an earlier one, common/ no stage, libraries no
CLI header (tests/tools/check-includes.sh)'
. "$(dirname "$0")/lib.sh"

check=$LING_ROOT/tests/tools/check-includes.sh

test_expect_success 'the tree keeps the include rules' '
	sh "$check" "$LING_ROOT" >out 2>&1 &&
	test_cmp /dev/null out
'

# A tree that keeps the rules: a two-stage miniature of the real one.
add() {
	mkdir -p "$(dirname "t/$1")" &&
	shift_file=$1 && shift &&
	for inc; do printf "#include \"%s\"\n" "$inc"; done >"t/$shift_file"
}

test_expect_success 'setup: a small tree that keeps the rules passes' '
	add common/ling_err.h &&
	add common/ling_num.h &&
	add common/ling_cli.h ling_num.h &&
	add common/ling_num.c ling_num.h ling_err.h &&
	add kg/kg.h ../common/ling_err.h &&
	add kg/kg_x_internal.h kg.h &&
	add kg/kg_a.c kg.h kg_x_internal.h ../common/ling_num.h &&
	add kg/kg_load_main.c kg.h ../common/ling_cli.h &&
	add synth/synth.h ../common/ling_err.h &&
	add synth/synth_internal.h synth.h ../kg/kg.h &&
	add synth/synth_b.c synth_internal.h &&
	add synth/kg2samples_main.c synth.h ../common/ling_cli.h ../common/ling_num.h &&
	add dedup/dedup.h &&
	add dedup/dedup_x.c dedup.h ../common/ling_num.h &&
	add tests/tools/tool.c kg/kg.h synth/synth.h common/ling_cli.h &&
	add tests/unit/test_kg.c kg/kg.h kg/kg_x_internal.h &&
	sh "$check" "$PWD/t" >out 2>&1 &&
	test_cmp /dev/null out
'

# breaks FILE INCLUDE WHY: with FILE including INCLUDE too, the check fails and says WHY about it.
breaks() {
	rm -rf b && cp -R t b &&
	printf "#include \"%s\"\n" "$2" >>"b/$1" &&
	test_must_fail_with 1 sh "$check" "$PWD/b" >out 2>&1 &&
	cat out &&
	echo "check-includes: $1: includes $2: $3" >expect &&
	test_cmp expect out
}

test_expect_success '(a) a main includes an internal header of its stage' '
	breaks kg/kg_load_main.c kg_x_internal.h "not a public header of kg (kg.h)" &&
	breaks synth/kg2samples_main.c synth_internal.h "not a public header of synth (synth.h)"
'

test_expect_success '(a) a main includes an internal header of another stage' '
	breaks synth/kg2samples_main.c ../kg/kg_x_internal.h "not a public header of kg (kg.h)"
'

test_expect_success '(b) a stage includes a later stage, or an earlier one'"'"'s internal header' '
	breaks kg/kg_a.c ../synth/synth.h "stage synth comes after stage kg" &&
	breaks kg/kg.h ../synth/synth_internal.h "stage synth comes after stage kg" &&
	breaks kg/kg_load_main.c ../synth/synth.h "stage synth comes after stage kg" &&
	breaks synth/synth_b.c ../kg/kg_x_internal.h "not a public header of kg (kg.h)"
'

test_expect_success '(c) common/ includes a stage header' '
	breaks common/ling_num.c ../kg/kg.h "common/ depends on no stage"
'

test_expect_success '(d) a library includes a CLI header' '
	breaks kg/kg_a.c ../common/ling_cli.h \
		"a CLI header in a library (ling_num.h, ling_file.h are the library side)" &&
	breaks synth/synth_internal.h ../common/ling_cli.h \
		"a CLI header in a library (ling_num.h, ling_file.h are the library side)" &&
	breaks dedup/dedup_x.c ../common/ling_cli.h \
		"a CLI header in a library (ling_num.h, ling_file.h are the library side)"
'

test_expect_success 'tests/tools are mains of no stage; tests/unit may see internals' '
	breaks tests/tools/tool.c kg/kg_x_internal.h "not a public header of kg (kg.h)" &&
	cp -R t u && printf "#include \"synth/synth_internal.h\"\n" >>u/tests/unit/test_kg.c &&
	sh "$check" "$PWD/u"
'

test_expect_success 'every violation is listed, and a tree without sources is an error' '
	rm -rf b && cp -R t b &&
	printf "#include \"kg_x_internal.h\"\n" >>b/kg/kg_load_main.c &&
	printf "#include \"../kg/kg.h\"\n" >>b/common/ling_num.c &&
	test_must_fail_with 1 sh "$check" "$PWD/b" >out &&
	test $(wc -l <out) = 2 &&
	mkdir empty &&
	test_must_fail_with 2 sh "$check" "$PWD/empty" 2>err &&
	grep "no source files" err
'

test_done
