#!/usr/bin/env python3
"""sample-variety.py: how varied the wording of kg2samples output is.

Usage: sample-variety.py [--per N] [--top K] [--json] samples.jsonl...

For each block of N samples (default 2000; a shorter last block is left
out unless it is the only one) it counts:

  - distinct question openers: the first two and the first three words of
    the first user message;
  - distinct answer openers: the same for the last assistant message;
  - the share of the most frequent answer frame: the last assistant message
    with every entity name replaced by "X".

Entity names are the sample's answers, the string arguments of its calls
and the names its calls return (meta.calls for instruction samples), so a
question that starts with a name ("Ridley Scott directed ...") does not
count as a new opener: only the wording around names does. Words are
lowercased and stripped of punctuation. Prints the means over the blocks
(and the top frames), or with --json one object. Python 3 standard
library only.
"""
import argparse
import collections
import json
import re
import sys

WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?|X", re.UNICODE)


def names_of(sample):
    """The entity names a sample mentions, longest first."""
    names = set(sample.get("answer") or [])
    calls = []
    for m in sample["messages"]:
        for c in m.get("tool_calls") or []:
            calls.append(c["function"]["arguments"])
        if m.get("role") == "tool":
            calls.append(None)
            try:
                names.update(x for x in json.loads(m["content"]) if isinstance(x, str))
            except ValueError:
                pass
    for c in sample["meta"].get("calls") or []:
        calls.append(c["arguments"])
        try:
            names.update(x for x in json.loads(c["result"]) if isinstance(x, str))
        except ValueError:
            pass
    for args in calls:
        if args is None:
            continue
        try:
            obj = json.loads(args)
        except ValueError:
            continue
        for v in obj.values() if isinstance(obj, dict) else []:
            if isinstance(v, str):
                names.add(v)
            elif isinstance(v, list):
                for x in v:
                    if isinstance(x, list):
                        names.update(y for y in x if isinstance(y, str))
                    elif isinstance(x, str):
                        names.add(x)
    return sorted((n for n in names if len(n) >= 2), key=len, reverse=True)


def mask(text, names):
    for n in names:
        text = text.replace(n, "\x00")
    return text.replace("\x00", "X")


def opener(text, k):
    words = WORD.findall(text)
    words = [w if w == "X" else w.lower() for w in words]
    return " ".join(words[:k]) if len(words) >= k else None


def texts(sample):
    msgs = sample["messages"]
    user = next((m["content"] for m in msgs if m["role"] == "user"), "")
    final = next((m["content"] for m in reversed(msgs) if m["role"] == "assistant" and not m.get("tool_calls")), "")
    return user or "", final or ""


def measure(block):
    q2, q3, a2, a3 = set(), set(), set(), set()
    frames = collections.Counter()
    for s in block:
        names = names_of(s)
        user, final = texts(s)
        user, final = mask(user, names), mask(final, names)
        for k, dst in ((2, q2), (3, q3)):
            o = opener(user, k)
            if o:
                dst.add(o)
        for k, dst in ((2, a2), (3, a3)):
            o = opener(final, k)
            if o:
                dst.add(o)
        frames[final] += 1
    top = frames.most_common(5)
    return {"q2": len(q2), "q3": len(q3), "a2": len(a2), "a3": len(a3),
            "top_frame_share": top[0][1] / len(block) if top else 0.0,
            "top_frames": [(f, c) for f, c in top]}


def main():
    ap = argparse.ArgumentParser(description="Wording variety of kg2samples output.")
    ap.add_argument("--per", type=int, default=2000, help="samples per block (default: 2000)")
    ap.add_argument("--top", type=int, default=5, help="frames to show (default: 5)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("samples", nargs="+")
    opts = ap.parse_args()
    samples = []
    for path in opts.samples:
        with open(path, encoding="utf-8") as f:
            samples.extend(json.loads(line) for line in f if line.strip())
    if not samples:
        sys.exit("sample-variety: no samples")
    blocks = [samples[i:i + opts.per] for i in range(0, len(samples), opts.per)]
    if len(blocks) > 1 and len(blocks[-1]) < opts.per:
        blocks.pop()
    got = [measure(b) for b in blocks]
    mean = {k: sum(g[k] for g in got) / len(got) for k in ("q2", "q3", "a2", "a3", "top_frame_share")}
    if opts.json:
        mean["blocks"] = len(got)
        mean["per"] = opts.per
        print(json.dumps(mean))
        return 0
    print("blocks of %d samples: %d" % (opts.per, len(got)))
    print("question openers: %.1f two-word, %.1f three-word" % (mean["q2"], mean["q3"]))
    print("answer openers: %.1f two-word, %.1f three-word" % (mean["a2"], mean["a3"]))
    print("most frequent answer frame: %.1f%% of answers" % (100 * mean["top_frame_share"]))
    for f, c in got[0]["top_frames"][:opts.top]:
        print("  %5d  %s" % (c, f.replace("\n", "\\n")[:100]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
