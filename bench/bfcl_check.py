#!/usr/bin/env python3
"""bfcl_check.py DIR...: runs bfcl-eval's own loader and AST checker over the
BFCL v4 files that `kg2samples --format bfcl --bfcl-dir DIR` wrote.

For each DIR/BFCL_v4_CATEGORY.json: the category must be one of BFCL's
(bfcl_eval.constants.category_mapping.ALL_CATEGORIES); questions and
possible answers load with bfcl_eval.utils.load_file(sort_by_id=True), their
ids pair up and extract_test_category_from_id gives the file's category.
Each ground truth is then answered as a prompting model would: the calls
written as Python text ([f(a='x')], BFCL's own output format), decoded by
BFCL's default_decode_ast_prompting and judged by its ast_checker, once with
the first allowed value of each argument, once with every string lowercased
(BFCL compares strings without case, so a name spelled as a user types it
counts), and once with a wrong value (a control that must be refused).
Prints one line per category and a total; exits 1 unless every ground truth
is accepted and every control refused.
"""
import json
import os
import sys

from bfcl_eval.constants.category_mapping import ALL_CATEGORIES
from bfcl_eval.constants.enums import Language, ReturnFormat
from bfcl_eval.constants.model_config import MODEL_CONFIG_MAPPING
from bfcl_eval.eval_checker.ast_eval.ast_checker import ast_checker
from bfcl_eval.model_handler.utils import default_decode_ast_prompting
from bfcl_eval.utils import extract_test_category, extract_test_category_from_id, load_file

MODEL = next(iter(MODEL_CONFIG_MAPPING))  # only read for function names with dots; ours have none


def first_allowed(values):
    for v in values:
        if v != "":
            return True, v
    return False, None  # optional, left out


def calls_text(truth, change):
    """The ground truth's calls as Python text, each argument its first allowed value passed through change."""
    out = []
    for call in truth:
        (name, params), = call.items()
        args = []
        for p, values in params.items():
            given, v = first_allowed(values)
            if given:
                args.append("%s=%r" % (p, change(v)))
        out.append("%s(%s)" % (name, ", ".join(args)))
    return "[" + ", ".join(out) + "]"


def lower(v):
    return v.lower() if isinstance(v, str) else v


def wrong(v):
    if isinstance(v, bool):
        return not v
    if isinstance(v, (int, float)):
        return v + 7
    if isinstance(v, str):
        return v + " Jr"
    return v


def judge(entry, truth, cat, text):
    try:
        decoded = default_decode_ast_prompting(text, ReturnFormat.PYTHON)
    except Exception as e:  # a decoding failure is a refusal
        return False, "decode: %s" % e
    r = ast_checker(entry["function"], decoded, truth, Language.PYTHON, cat, MODEL)
    return r["valid"], r.get("error")


def check_dir(d):
    totals = [0, 0, 0]  # entries, accepted (both spellings), controls refused
    for fname in sorted(os.listdir(d)):
        if not fname.endswith(".json"):
            continue
        cat = extract_test_category(fname)
        assert cat in ALL_CATEGORIES, "%s: %s is not a BFCL category" % (fname, cat)
        entries = load_file(os.path.join(d, fname), sort_by_id=True)
        ids = [e["id"] for e in entries]
        assert len(set(ids)) == len(ids), "%s: repeated ids" % fname
        for i in ids:
            assert extract_test_category_from_id(i) == cat, "%s: id %s" % (fname, i)
        if cat == "irrelevance":  # BFCL has no possible answers here: any call is wrong
            print("%s %-18s %6d loaded (no possible answers in BFCL)" % (d, cat, len(entries)))
            totals[0] += len(entries)
            totals[1] += len(entries)
            totals[2] += len(entries)
            continue
        answers = load_file(os.path.join(d, "possible_answer", fname), sort_by_id=True)
        assert [a["id"] for a in answers] == ids, "%s: question and answer ids differ" % fname
        ok = refused = 0
        for entry, ans in zip(entries, answers):
            truth = ans["ground_truth"]
            good, err = judge(entry, truth, cat, calls_text(truth, lambda v: v))
            low, err2 = judge(entry, truth, cat, calls_text(truth, lower))
            bad, _ = judge(entry, truth, cat, calls_text(truth, wrong))
            if good and low:
                ok += 1
            elif ok + refused < 1000:
                print("REFUSED %s: %s %s" % (entry["id"], json.dumps(truth), err or err2), file=sys.stderr)
            refused += not bad
        print("%s %-18s %6d ground truths, %6d accepted, %6d wrong controls refused" %
              (d, cat, len(entries), ok, refused))
        totals[0] += len(entries)
        totals[1] += ok
        totals[2] += refused
    print("%s total: %d of %d accepted (%.1f%%), %d of %d controls refused" %
          (d, totals[1], totals[0], 100.0 * totals[1] / max(totals[0], 1), totals[2], totals[0]))
    return totals[1] == totals[0] and totals[2] == totals[0] and totals[0] > 0


def main(argv):
    if len(argv) < 2:
        sys.stderr.write("usage: bfcl_check.py DIR...\n")
        return 2
    good = True
    for d in argv[1:]:
        good = check_dir(d) and good
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
