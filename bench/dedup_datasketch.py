#!/usr/bin/env python3
"""The datasketch peer of `dedup` for bench/dedup.sh: the same JSONL input, the
same normalisation (datatrove's: lower case, numbers to 0, punctuation to
spaces), word 5-grams, MinHash with 112 permutations and MinHashLSH with 14
bands of 8 rows, candidates confirmed at estimated Jaccard >= 0.8, plus exact
duplicates by a hash of the case-folded, space-collapsed text. Prints the
unique records on stdout, like dedup.

usage: dedup_datasketch.py [--ngram N] [--bands B] [--rows R] [--threshold T] FILE
"""
import argparse
import json
import re
import sys
import unicodedata

from datasketch import MinHash, MinHashLSH

NUMBERS = re.compile(r"\d+(\.\d+)?")
PUNCT = re.compile(r"[^\w\s]|_")
SPACES = re.compile(r"\s+")


def simplify(text):
    text = NUMBERS.sub("0", text.lower())
    text = PUNCT.sub(" ", text)
    text = SPACES.sub(" ", text).strip()
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    return text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ngram", type=int, default=5)
    ap.add_argument("--bands", type=int, default=14)
    ap.add_argument("--rows", type=int, default=8)
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("file")
    a = ap.parse_args()
    num_perm = a.bands * a.rows
    lsh = MinHashLSH(num_perm=num_perm, params=(a.bands, a.rows))
    proto = MinHash(num_perm=num_perm, seed=1)
    perms, scheme = proto.permutations, proto.scheme
    sigs = {}
    exact = set()
    out = sys.stdout
    n = 0
    with open(a.file, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            text = rec.get("text", "")
            key = hash(SPACES.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip())
            if key in exact:
                continue
            words = simplify(text).split(" ")
            k = min(a.ngram, len(words))
            shingles = [" ".join(words[i:i + k]).encode() for i in range(len(words) - k + 1)]
            m = MinHash(num_perm=num_perm, permutations=perms, scheme=scheme)
            m.update_batch(shingles)
            if any(m.jaccard(sigs[c]) >= a.threshold for c in lsh.query(m)):
                continue
            exact.add(key)
            sigs[n] = m
            lsh.insert(n, m)
            n += 1
            out.write(line)


if __name__ == "__main__":
    main()
