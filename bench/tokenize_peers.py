#!/usr/bin/env python3
"""The peers of `tokenize encode` for bench/tokenize.sh: pip's `tokenizers` (Rust) and `tiktoken`.

  tokenize_peers.py convert-tiktoken RANKS ENCODING OUT.json
      writes a Hugging Face tokenizer.json with the vocabulary of a tiktoken rank file (one merge
      per token, found by BPE over the lower ranks, as transformers' TikTokenConverter does), so
      that `tokenizers` and our tool encode cl100k from the same vocabulary.
  tokenize_peers.py corpus OUT.jsonl [MIN_BYTES]
      the bench text of FORMATS.md 5.1: the licences and vim help files of the machine, the first
      5,000,000 bytes made valid UTF-8 (topped up with FB15k-237 entity descriptions if the files
      are missing), as newline-aligned records of about 4 KiB: {"text": ...} per line.
  tokenize_peers.py ids IMPL TOKENIZER INPUT.jsonl
      prints {"ids":[...]} per line, as `tokenize encode --jsonl` does, to compare the outputs.
  tokenize_peers.py bench IMPL TOKENIZER INPUT.jsonl [--runs N]
      IMPL is `tokenizers` (TOKENIZER = tokenizer.json) or `tiktoken` (TOKENIZER = a .tiktoken
      file, or a byte-level tokenizer.json whose ids are its ranks, as Qwen's are). Encodes the
      "text" of every line, without special tokens, on one thread, N times after a warm-up, and
      prints one JSON line: {"seconds": median, "runs": [...], "tokens": N, "bytes": N}.
      Only the encoding is timed: loading and JSON parsing are not.

No network: the tiktoken Encoding is built from the local file.
"""
import base64
import glob
import json
import os
import statistics
import sys
import time

# Single thread for the Rust side of both peers (set before they are imported).
os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

CL100K = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
          r"\s*[\r\n]+|\s+(?!\S)|\s+")
O200K = (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|"
         r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|"
         r"\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")
ENCODINGS = {
    "cl100k_base": (CL100K, {"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
                             "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276}),
    "o200k_base": (O200K, {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}),
}


def byte_table():
    """GPT-2 bytes_to_unicode (FORMATS.md fact 3)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, n = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + n)
            n += 1
    return table


def load_ranks(path):
    ranks = {}
    with open(path, "rb") as f:
        for line in f:
            if line.strip():
                tok, rank = line.split()
                ranks[base64.b64decode(tok)] = int(rank)
    return ranks


def split_token(ranks, token, max_rank):
    """The two parts that BPE over ranks below max_rank leaves of token."""
    parts = [bytes([b]) for b in token]
    while True:
        best = None
        for i in range(len(parts) - 1):
            r = ranks.get(parts[i] + parts[i + 1])
            if r is not None and r < max_rank and (best is None or r < best[0]):
                best = (r, i)
        if best is None:
            return parts
        i = best[1]
        parts[i:i + 2] = [parts[i] + parts[i + 1]]


def convert_tiktoken(ranks_path, encoding, out):
    pattern, specials = ENCODINGS[encoding]
    ranks = load_ranks(ranks_path)
    table = byte_table()
    uni = lambda b: "".join(table[x] for x in b)
    vocab = {uni(tok): rank for tok, rank in sorted(ranks.items(), key=lambda kv: kv[1])}
    merges = []
    for tok, rank in sorted(ranks.items(), key=lambda kv: kv[1]):
        if len(tok) == 1:
            continue
        parts = split_token(ranks, tok, rank)
        assert len(parts) == 2, (tok, parts)
        merges.append([uni(parts[0]), uni(parts[1])])
    doc = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for s, i in specials.items()],
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
    os.replace(tmp, out)


def tiktoken_encoding(path):
    import tiktoken
    if ".tiktoken" in path:
        from tiktoken.load import load_tiktoken_bpe
        name = os.path.basename(path).split(".")[0]
        pattern, specials = ENCODINGS[name]
        return tiktoken.Encoding(name, pat_str=pattern, mergeable_ranks=load_tiktoken_bpe(path),
                                 special_tokens=specials)
    # A byte-level tokenizer.json whose ids are tiktoken ranks (Qwen2/3): its Split regex and vocab.
    doc = json.load(open(path, encoding="utf-8"))
    pre = doc["pre_tokenizer"]
    splits = [p for p in pre.get("pretokenizers", [pre]) if p["type"] == "Split"]
    inv = {c: b for b, c in byte_table().items()}
    ranks = {bytes(inv[c] for c in tok): i for tok, i in doc["model"]["vocab"].items()}
    specials = {a["content"]: a["id"] for a in doc.get("added_tokens", [])}
    return tiktoken.Encoding(os.path.basename(os.path.dirname(path)) or "hf", pat_str=splits[0]["pattern"]["Regex"],
                             mergeable_ranks=ranks, special_tokens=specials)


def corpus(out, size=5_000_000):
    files = sorted(glob.glob("/usr/share/common-licenses/*")) + sorted(glob.glob("/usr/share/vim/vim*/doc/*.txt"))
    data = b""
    for f in files:
        if len(data) >= size:
            break
        if os.path.isfile(f):
            data += open(f, "rb").read()
    text = data[:size].decode("utf-8", errors="ignore")
    if len(text.encode("utf-8")) < size:
        here = os.path.dirname(os.path.abspath(__file__))
        ents = json.load(open(os.path.join(here, "../../shared/data/fb15k-237/entity2wikidata.json"), encoding="utf-8"))
        extra = "\n".join("%s: %s." % (e.get("label", ""), e.get("description", "")) for e in ents.values())
        text = (text + extra).encode("utf-8")[:size].decode("utf-8", errors="ignore")
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        i = 0
        while i < len(text):
            j = text.find("\n", i + 4000)
            j = len(text) if j < 0 else j + 1
            f.write(json.dumps({"text": text[i:j]}, ensure_ascii=False) + "\n")
            i = j
    os.replace(tmp, out)


def encoder(impl, tok_path, lengths=False):
    """A function from a list of texts to their lists of ids (or only their lengths)."""
    if impl == "tokenizers":
        from tokenizers import Tokenizer
        tk = Tokenizer.from_file(tok_path)
        if lengths:  # len(Encoding) does not build a Python list of the ids
            return lambda texts: [len(e) for e in tk.encode_batch(texts, add_special_tokens=False)]
        return lambda texts: [e.ids for e in tk.encode_batch(texts, add_special_tokens=False)]
    if impl == "tiktoken":
        enc = tiktoken_encoding(tok_path)
        return lambda texts: [len(enc.encode_ordinary(t)) if lengths else enc.encode_ordinary(t) for t in texts]
    sys.exit("tokenize_peers: unknown implementation " + impl)


def ids(impl, tok_path, input_path):
    texts = [json.loads(line)["text"] for line in open(input_path, encoding="utf-8")]
    out = sys.stdout
    for v in encoder(impl, tok_path)(texts):
        out.write('{"ids":[' + ",".join(map(str, v)) + "]}\n")


def bench(impl, tok_path, input_path, runs):
    texts = [json.loads(line)["text"] for line in open(input_path, encoding="utf-8")]
    nbytes = sum(len(t.encode("utf-8")) for t in texts)
    encode = encoder(impl, tok_path, lengths=True)

    def run():
        return sum(encode(texts))
    tokens = run()  # warm-up (and the cache of the Rust side, as our run has its own)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"impl": impl, "seconds": statistics.median(times), "runs": times, "tokens": tokens,
                      "bytes": nbytes}))


def main(argv):
    if len(argv) in (2, 3) and argv[0] == "corpus":
        corpus(argv[1], *(int(a) for a in argv[2:]))
    elif len(argv) == 4 and argv[0] == "ids":
        ids(argv[1], argv[2], argv[3])
    elif len(argv) == 4 and argv[0] == "convert-tiktoken":
        convert_tiktoken(argv[1], argv[2], argv[3])
    elif len(argv) in (4, 6) and argv[0] == "bench":
        runs = int(argv[5]) if len(argv) == 6 and argv[4] == "--runs" else 5
        bench(argv[1], argv[2], argv[3], runs)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
