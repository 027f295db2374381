#!/usr/bin/env python3
"""megatron_read.py PREFIX [--header]: an independent reader of a Megatron-LM
MMIDIDX pair (PREFIX.idx, PREFIX.bin), written from the layout in
megatron/core/datasets/indexed_dataset.py (FORMATS.md section 4.1) with the
standard library only, to check what tok_shard writes.

Prints one line per sequence, its items separated by spaces. With --header,
first prints "dtype=NAME sequences=S documents=D doc_idx=0,1,..." on one line.
Exits 1 (with a message on stderr) when the pair is inconsistent.
"""
import struct
import sys

DTYPES = {1: ("u8", "B"), 2: ("i8", "b"), 3: ("i16", "h"), 4: ("i32", "i"),
          5: ("i64", "q"), 6: ("f64", "d"), 7: ("f32", "f"), 8: ("u16", "H")}


def fail(msg):
    sys.stderr.write("megatron_read.py: %s\n" % msg)
    sys.exit(1)


def main(argv):
    if len(argv) not in (2, 3) or (len(argv) == 3 and argv[2] != "--header"):
        sys.stderr.write("usage: megatron_read.py PREFIX [--header]\n")
        return 2
    prefix = argv[1]
    with open(prefix + ".idx", "rb") as f:
        idx = f.read()
    with open(prefix + ".bin", "rb") as f:
        data = f.read()
    if len(idx) < 34 or idx[:9] != b"MMIDIDX\x00\x00":
        fail("bad magic")
    (version,) = struct.unpack_from("<Q", idx, 9)
    if version != 1:
        fail("version %d" % version)
    code = idx[17]
    if code not in DTYPES:
        fail("dtype code %d" % code)
    name, fmt = DTYPES[code]
    size = struct.calcsize("<" + fmt)
    seqs, docs = struct.unpack_from("<QQ", idx, 18)
    off = 34
    need = off + 4 * seqs + 8 * seqs + 8 * docs
    if len(idx) != need:
        fail("idx is %d bytes, expected %d" % (len(idx), need))
    lengths = struct.unpack_from("<%di" % seqs, idx, off)
    off += 4 * seqs
    pointers = struct.unpack_from("<%dq" % seqs, idx, off)
    off += 8 * seqs
    doc_idx = struct.unpack_from("<%dq" % docs, idx, off)
    if not doc_idx or doc_idx[0] != 0 or doc_idx[-1] != seqs:
        fail("doc_idx %r does not run from 0 to %d" % (doc_idx[:5], seqs))
    expect = 0
    for i in range(seqs):
        if pointers[i] != expect:
            fail("sequence %d starts at byte %d, expected %d" % (i, pointers[i], expect))
        expect += lengths[i] * size
    if expect != len(data):
        fail("bin is %d bytes, the index describes %d" % (len(data), expect))
    out = []
    if len(argv) == 3:
        out.append("dtype=%s sequences=%d documents=%d doc_idx=%s"
                   % (name, seqs, docs, ",".join(str(d) for d in doc_idx)))
    for i in range(seqs):
        items = struct.unpack_from("<%d%s" % (lengths[i], fmt), data, pointers[i])
        out.append(" ".join(str(v) for v in items))
    sys.stdout.write("".join(line + "\n" for line in out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
