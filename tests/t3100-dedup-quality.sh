#!/bin/sh
test_description='dedup: detection of near duplicates built at a given Jaccard similarity of their 5-gram sets'
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || test_skip_all 'no python3 for the pair generator'

# 200 pairs at each level: a paragraph of real text (man pages, or text generated from the
# repository's Markdown where there are none) and a copy whose 5-gram set has Jaccard J with it.
test_expect_success 'setup: near-duplicate pairs at J = 0.3 ... 0.95' '
	python3 "$LING_ROOT/tests/tools/gen-dedup-corpus.py" pairs --pairs 200 \
		--levels 0.3,0.4,0.5,0.6,0.7,0.8,0.9,0.95 pairs.jsonl truth.tsv 2>gen.err &&
	test_comment "$(cat gen.err)" &&
	test $(wc -l <truth.tsv) = 1600
'

# evaluate TRUTH EXPLAIN: per level, the share of pairs whose copy was dropped as a duplicate of its
# own paragraph, next to 1 - (1 - J^8)^14; and the false positives: a paragraph dropped, or a copy
# matched to the wrong record.
cat >evaluate.py <<'EOF'
import json, math, sys
truth, level = {}, {}
for line in open(sys.argv[1]):
    lv, j, a, b = line.split()
    truth[b], level[b] = a, float(lv)
found, wrong = {}, 0
for line in open(sys.argv[2]):
    m = json.loads(line)
    if m["id"] in truth and truth[m["id"]] == m["dup_of"]["id"]:
        found[level[m["id"]]] = found.get(level[m["id"]], 0) + 1
    else:
        wrong += 1
for lv in sorted(set(level.values())):
    n = sum(1 for b in level if level[b] == lv)
    theory = 1 - (1 - lv ** 8) ** 14
    print("%.2f %d %.4f %.4f" % (lv, n, found.get(lv, 0) / n, theory))
print("wrong %d" % wrong)
EOF

test_expect_success 'run: threshold 0.8, and 0 (every LSH candidate counts)' '
	dedup --explain=explain.jsonl pairs.jsonl >out 2>err &&
	dedup --threshold 0 --explain=explain0.jsonl pairs.jsonl >/dev/null 2>err0 &&
	python3 evaluate.py truth.tsv explain.jsonl >curve &&
	python3 evaluate.py truth.tsv explain0.jsonl >curve0 &&
	join curve curve0 | awk "
		BEGIN { print \"J     pairs  detected  LSH candidates  1-(1-J^8)^14\" }
		/^wrong/ { next }
		{ printf \"%.2f  %5d  %8.3f  %14.3f  %12.3f\n\", \$1, \$2, \$3, \$6, \$4 }" >table &&
	while read -r line; do test_comment "$line"; done <table &&
	test_comment "$(grep wrong curve | sed "s/wrong/false matches at threshold 0.8:/")"
'

test_expect_success 'recall >= 0.95 for pairs with J >= 0.9' '
	awk "\$1 >= 0.9 && \$1 != \"wrong\" { n += \$2; hit += \$2 * \$3 } END { r = hit / n; print \"recall\", r; exit !(r >= 0.95) }" curve
'

test_expect_success 'false positives <= 0.5% for pairs with J <= 0.5, and no wrong matches' '
	awk "\$1 <= 0.5 && \$1 != \"wrong\" { n += \$2; hit += \$2 * \$3 } END { r = hit / n; print \"fp\", r; exit !(r <= 0.005) }" curve &&
	grep "^wrong 0$" curve &&
	grep "^wrong 0$" curve0
'

test_expect_success 'the LSH candidates follow the banding curve 1-(1-J^8)^14' '
	# Within four standard deviations of a binomial of 200, plus 0.03 for the spread of J.
	awk "\$1 != \"wrong\" { sd = sqrt(\$4 * (1 - \$4) / \$2); d = \$3 - \$4; if (d < 0) d = -d;
		if (d > 4 * sd + 0.03) { print \"off at J =\", \$1, \$3, \$4; bad = 1 } } END { exit bad }" curve0
'

test_expect_success 'no paragraph is taken for a duplicate of another paragraph' '
	grep -c "\"p[0-9.]*-[0-9]*-a\"" out >paragraphs &&
	test "$(cat paragraphs)" = 1600
'

test_done
