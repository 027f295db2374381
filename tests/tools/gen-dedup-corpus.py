#!/usr/bin/env python3
"""Test and benchmark input for dedup (tests/t3100, tests/t3200, bench/dedup.sh).

  gen-dedup-corpus.py pairs [--pairs N] [--levels 0.5,0.9] [--seed S] OUT.jsonl TRUTH.tsv
      Pairs of records whose texts have a given Jaccard similarity of their
      word 5-gram sets, built to that similarity (not to an edit rate): a base
      paragraph A of real text, and B = A with runs of words replaced so that
      exactly the wanted share of shingles survives. TRUTH.tsv lists
      level, the measured Jaccard, and the ids of A and B. The records are
      shuffled, each A before its B.

  gen-dedup-corpus.py corpus [--docs N] [--words W] [--dups F] [--near F] [--seed S] OUT.jsonl
      N records {"id","text"} of about W words drawn from the vocabulary of
      real text (Zipf-like, by frequency), with a share F of exact copies
      (changed in case and spacing) and of near copies (two words replaced)
      of earlier records.

Real text is the man pages of the machine (/usr/share/man/man1, roff markup
dropped) when there are enough, otherwise the Markdown files of this
repository; either way only lower-case words [a-z]+, so that the texts are
already in dedup's near-duplicate normal form and the 5-gram sets computed
here are dedup's. Deterministic for a given machine and seed. Stdlib only.
"""
import argparse
import glob
import gzip
import json
import os
import random
import re
import sys

NGRAM = 5
WORD = re.compile(r"[a-z]+")
ROFF_ESCAPE = re.compile(r"\\(f[BIRP]|f\[[A-Z]*\]|\(..|\[[^\]]*\]|s[-+]?\d|.)")


def man_words(limit):
    """Words of the man pages in section 1, in file order, up to limit."""
    words = []
    for path in sorted(glob.glob("/usr/share/man/man1/*.1.gz")):
        try:
            with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
                text = f.read()
        except (OSError, EOFError):
            continue
        for line in text.splitlines():
            if line.startswith((".", "'")):
                continue
            line = ROFF_ESCAPE.sub(" ", line).lower()
            words.extend(WORD.findall(line))
        if len(words) >= limit:
            break
    return words


def repo_words():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    words = []
    for path in sorted(glob.glob(os.path.join(root, "**", "*.md"), recursive=True)):
        with open(path, encoding="utf-8", errors="replace") as f:
            words.extend(WORD.findall(f.read().lower()))
    return words


def markov_words(seed_words, n, rng):
    """n words from an order-1 Markov chain over seed_words."""
    follow = {}
    for a, b in zip(seed_words, seed_words[1:]):
        follow.setdefault(a, []).append(b)
    keys = sorted(follow)
    out, w = [], rng.choice(keys)
    for _ in range(n):
        nxt = follow.get(w)
        w = rng.choice(nxt) if nxt else rng.choice(keys)
        out.append(w)
    return out


def source_words(need, rng):
    words = man_words(need)
    if len(words) >= need:
        return words, "man pages"
    return markov_words(repo_words(), need, rng), "text generated from the repository's Markdown"


def shingles(words):
    if len(words) < NGRAM:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + NGRAM]) for i in range(len(words) - NGRAM + 1)}


def jaccard(a, b):
    return len(a & b) / len(a | b) if a or b else 1.0


def split(total, parts, rng):
    """total as parts positive integers (total >= parts >= 1)."""
    cuts = sorted(rng.sample(range(1, total), parts - 1))
    return [b - a for a, b in zip([0] + cuts, cuts + [total])]


def near_copy(base, target, vocab, rng, tries=200, tol=0.01):
    """base with runs of words replaced so that J(5-grams) is within tol of target, or None."""
    sa = shingles(base)
    n = len(base)
    # Replacing an inner run of m words kills m + 4 shingles and makes as many new ones, a run
    # at the start kills m: J = (S - K) / (S + K) for K killed, so K = S (1 - J) / (1 + J).
    kill = max(1, round(len(sa) * (1 - target) / (1 + target)))
    for _ in range(tries):
        inner = rng.randint(0, min(4, kill // NGRAM))
        edge = kill - NGRAM * inner if inner == 0 else rng.randint(0, kill - NGRAM * inner)
        lengths = split(kill - edge - (NGRAM - 1) * inner, inner, rng) if inner else []
        # Place the inner runs left to right with random gaps of at least NGRAM words.
        slack = n - edge - sum(lengths) - NGRAM * (len(lengths) + 1)
        if slack < 0:
            continue
        b = list(base)
        for k in range(edge):
            b[k] = rng.choice(vocab)
        gaps = sorted(rng.randint(0, slack) for _ in lengths)
        pos, prev = edge + NGRAM, 0
        for m, g in zip(lengths, gaps):
            pos += g - prev
            prev = g
            for k in range(pos, pos + m):
                b[k] = rng.choice(vocab)
            pos += m + NGRAM
        j = jaccard(sa, shingles(b))
        if abs(j - target) <= tol:
            return b, j
    return None


def cmd_pairs(args):
    rng = random.Random(args.seed)
    levels = [float(x) for x in args.levels.split(",")]
    want = len(levels) * args.pairs * 5 // 4  # some paragraphs fail to make a pair
    need = want * args.max_words * 3
    words, origin = source_words(need, rng)
    vocab = sorted(set(words))
    seen = set()
    bases = []
    pos = 0
    # Base paragraphs: consecutive runs of real text that share few 5-grams with earlier ones
    # (man pages repeat their boilerplate): J < 0.06 between any two.
    while len(bases) < want and pos < len(words):
        n = rng.randint(args.min_words, args.max_words)
        chunk = words[pos:pos + n]
        pos += n
        if len(chunk) < n:
            break
        sh = shingles(chunk)
        if len(sh & seen) > 0.1 * len(sh) or len(sh) < 0.9 * (n - NGRAM + 1):
            continue
        seen |= sh
        bases.append(chunk)
    if len(bases) < len(levels) * args.pairs:
        sys.exit("gen-dedup-corpus: not enough distinct text (%d paragraphs)" % len(bases))
    pairs = []
    k = 0
    for level in levels:
        made = 0
        while made < args.pairs:
            base = bases[k]
            k += 1
            got = near_copy(base, level, vocab, rng)
            if got is None:
                if k >= len(bases):
                    sys.exit("gen-dedup-corpus: cannot build pairs at J=%.2f" % level)
                continue
            b, j = got
            pairs.append((level, j, "p%.2f-%d-a" % (level, made), base, "p%.2f-%d-b" % (level, made), b))
            made += 1
            if k >= len(bases) and made < args.pairs:
                sys.exit("gen-dedup-corpus: not enough paragraphs for J=%.2f" % level)
    rng.shuffle(pairs)
    with open(args.out, "w") as out, open(args.truth, "w") as truth:
        for level, j, ida, a, idb, b in pairs:
            out.write(json.dumps({"id": ida, "text": " ".join(a)}) + "\n")
            out.write(json.dumps({"id": idb, "text": " ".join(b)}) + "\n")
            truth.write("%.2f\t%.4f\t%s\t%s\n" % (level, j, ida, idb))
    print("gen-dedup-corpus: %d pairs from %s" % (len(pairs), origin), file=sys.stderr)


def cmd_corpus(args):
    rng = random.Random(args.seed)
    words, origin = source_words(200000, rng)
    counts = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    vocab = sorted(counts, key=lambda w: (-counts[w], w))
    # Zipf-like weights by rank keep the texts word-like without repeating real paragraphs.
    weights = [1.0 / (r + 10) for r in range(len(vocab))]
    cum, acc = [], 0.0
    for wt in weights:
        acc += wt
        cum.append(acc)
    kept = []
    with open(args.out, "w") as out:
        for i in range(args.docs):
            r = rng.random()
            if kept and r < args.dups:
                text = rng.choice(kept)
                text = "  ".join(text.split(" ")).upper() if rng.random() < 0.5 else text + " "
            elif kept and r < args.dups + args.near:
                ws = rng.choice(kept).split(" ")
                for _ in range(2):
                    ws[rng.randrange(len(ws))] = rng.choice(vocab)
                text = " ".join(ws)
            else:
                n = max(1, int(rng.gauss(args.words, args.words / 4)))
                text = " ".join(rng.choices(vocab, cum_weights=cum, k=n))
                if len(kept) < 100000:
                    kept.append(text)
                else:
                    kept[rng.randrange(len(kept))] = text
            out.write('{"id":"d%d","text":%s}\n' % (i, json.dumps(text)))
    print("gen-dedup-corpus: %d records, words from %s" % (args.docs, origin), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pairs")
    p.add_argument("--pairs", type=int, default=200)
    p.add_argument("--levels", default="0.3,0.4,0.5,0.6,0.7,0.8,0.9,0.95")
    p.add_argument("--min-words", type=int, default=100)
    p.add_argument("--max-words", type=int, default=200)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("out")
    p.add_argument("truth")
    c = sub.add_parser("corpus")
    c.add_argument("--docs", type=int, default=10000)
    c.add_argument("--words", type=int, default=150)
    c.add_argument("--dups", type=float, default=0.05)
    c.add_argument("--near", type=float, default=0.05)
    c.add_argument("--seed", type=int, default=7)
    c.add_argument("out")
    args = ap.parse_args()
    cmd_pairs(args) if args.cmd == "pairs" else cmd_corpus(args)


if __name__ == "__main__":
    main()
