#!/usr/bin/env python3
"""An independent safetensors reader and writer for tests/unit/test_train_st.c.

Written from the format description (8-byte little-endian header length, JSON header
{name: {dtype, shape, data_offsets}, "__metadata__": {...}}, data) and from what HF's
save_pretrained writes (keys in string order, header padded with spaces to 8 bytes, shards
model-0000i-of-0000N.safetensors and model.safetensors.index.json with indent 2 and sorted
keys). The `lib` variants use the real `safetensors` package with torch instead; they exit 77
when it cannot be imported.

  safetensors_peer.py read PATH        prints every tensor of a file or checkpoint directory
  safetensors_peer.py read-lib PATH    the same through safetensors.torch.load_file
  safetensors_peer.py write DIR DTYPE SHARD_BYTES       a checkpoint of the fixed test tensors
  safetensors_peer.py write-lib DIR DTYPE SHARD_BYTES   the same through safetensors.torch.save_file

Printed form, one tensor per line in name order: NAME DTYPE [d0,d1,...] BITS... where BITS are
the raw little-endian element values in hex (8 digits for F32, 4 for BF16).
"""
import json
import os
import struct
import sys

# The fixed test tensors: names and shapes (in model order, which decides the shards).
TENSORS = [
    ("model.word_embeddings.weight", [5, 4]),
    ("model.layers.0.attention.query_key_value.weight", [8, 4]),
    ("model.layers.0.mlp.experts.0.down_proj.weight", [4, 3]),
    ("model.norm.weight", [4]),
    ("specials", [10]),
    ("lm_head.weight", [5, 4]),
]
# fp32 bit patterns: denormals, rounding ties both ways, inf, NaNs, -0, the largest finite value.
SPECIALS = [0x00000001, 0x00018000, 0x3F808000, 0x3F818000, 0x7F800000, 0xFF800000,
            0x7FC00001, 0x80000000, 0x7F7FFFFF, 0xFF800001]


def value_bits(k, i):
    """fp32 bits of element i of tensor k: a formula the C test computes the same way."""
    if TENSORS[k][0] == "specials":
        return SPECIALS[i]
    v = ((i * 37 + k * 11) % 101 - 50) / 7.0 * 2.0 ** ((i % 9) - 4)
    return struct.unpack("<I", struct.pack("<f", v))[0]


def bf16_bits(u):
    """Round fp32 bits to bf16, nearest with ties to even; NaN stays a (quiet) NaN."""
    if (u & 0x7FFFFFFF) > 0x7F800000:
        return (u >> 16) | 0x40
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) & 0xFFFF


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def tensor_bytes(k, dtype):
    n = numel(TENSORS[k][1])
    bits = [value_bits(k, i) for i in range(n)]
    if dtype == "F32":
        return struct.pack("<%dI" % n, *bits)
    return struct.pack("<%dH" % n, *[bf16_bits(b) for b in bits])


def write_file(path, items, dtype):
    """items: [(k, name)]; data in name order, as the reference writer lays it out."""
    header = {"__metadata__": {"format": "pt"}}
    data = b""
    for k, name in sorted(items, key=lambda x: x[1]):
        blob = tensor_bytes(k, dtype)
        header[name] = {"dtype": dtype, "shape": TENSORS[k][1], "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def write_file_lib(path, items, dtype):
    import torch
    from safetensors.torch import save_file
    out = {}
    for k, name in items:
        n = numel(TENSORS[k][1])
        t = torch.tensor([struct.unpack("<i", struct.pack("<I", value_bits(k, i)))[0] for i in range(n)],
                         dtype=torch.int32).view(torch.float32).reshape(TENSORS[k][1])
        out[name] = t.to(torch.bfloat16) if dtype == "BF16" else t
    save_file(out, path, metadata={"format": "pt"})


def shard_plan(dtype, max_bytes):
    """transformers' shard_checkpoint: a new shard when the next tensor would not fit."""
    shards, size = [[]], 0
    for k, (name, shape) in enumerate(TENSORS):
        b = numel(shape) * (4 if dtype == "F32" else 2)
        if max_bytes and size > 0 and size + b > max_bytes:
            shards.append([])
            size = 0
        shards[-1].append((k, name))
        size += b
    return shards


def write_ckpt(out, dtype, max_bytes, writer):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump({"model_type": "bailing_moe"}, f)
    shards = shard_plan(dtype, max_bytes)
    if len(shards) == 1:
        writer(os.path.join(out, "model.safetensors"), shards[0], dtype)
        return
    weight_map, total = {}, 0
    for i, items in enumerate(shards):
        fname = "model-%05d-of-%05d.safetensors" % (i + 1, len(shards))
        writer(os.path.join(out, fname), items, dtype)
        for k, name in items:
            weight_map[name] = fname
            total += len(tensor_bytes(k, dtype))
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        f.write(json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2, sort_keys=True) + "\n")


def files_of(path):
    """The .safetensors files of a checkpoint path, and the tensor names each must hold (None: any)."""
    if not os.path.isdir(path):
        return {path: None}
    single = os.path.join(path, "model.safetensors")
    if os.path.exists(single):
        return {single: None}
    with open(os.path.join(path, "model.safetensors.index.json")) as f:
        index = json.load(f)
    files = {}
    for name, fname in index["weight_map"].items():
        files.setdefault(os.path.join(path, fname), set()).add(name)
    return files


def read_file(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    meta = header.pop("__metadata__", {})
    if meta.get("format") != "pt":
        raise SystemExit("%s: metadata format is %r, not pt" % (path, meta.get("format")))
    if n % 8:
        raise SystemExit("%s: header length %d is not a multiple of 8" % (path, n))
    out, at = {}, 0
    for name, e in sorted(header.items(), key=lambda x: x[1]["data_offsets"]):
        begin, end = e["data_offsets"]
        if begin != at:
            raise SystemExit("%s: tensor %s starts at %d, not %d" % (path, name, begin, at))
        size = {"F32": 4, "BF16": 2}[e["dtype"]]
        if end - begin != numel(e["shape"]) * size:
            raise SystemExit("%s: tensor %s has the wrong size" % (path, name))
        fmt = "<%d%s" % (numel(e["shape"]), "I" if size == 4 else "H")
        out[name] = (e["dtype"], e["shape"], struct.unpack(fmt, data[begin:end]))
        at = end
    if at != len(data):
        raise SystemExit("%s: %d bytes of data, tensors cover %d" % (path, len(data), at))
    keys = list(json.loads(blob[8:8 + n]).keys())
    if keys != sorted(keys):
        raise SystemExit("%s: header keys are not sorted" % path)
    return out


def read_file_lib(path):
    import torch
    from safetensors import safe_open
    out = {}
    with safe_open(path, framework="pt") as f:
        if f.metadata().get("format") != "pt":
            raise SystemExit("%s: metadata format is not pt" % path)
        for name in f.keys():
            t = f.get_tensor(name)
            if t.dtype == torch.float32:
                bits = [b & 0xFFFFFFFF for b in t.reshape(-1).view(torch.int32).tolist()]
                out[name] = ("F32", list(t.shape), bits)
            else:
                bits = [b & 0xFFFF for b in t.reshape(-1).view(torch.int16).tolist()]
                out[name] = ("BF16", list(t.shape), bits)
    return out


def read(path, reader):
    tensors = {}
    for fpath, names in files_of(path).items():
        got = reader(fpath)
        if names is not None and set(got) != names:
            raise SystemExit("%s: holds %s, the index says %s" % (fpath, sorted(got), sorted(names)))
        tensors.update(got)
    for name in sorted(tensors):
        dtype, shape, bits = tensors[name]
        width = 8 if dtype == "F32" else 4
        print(name, dtype, "[" + ",".join(str(d) for d in shape) + "]",
              " ".join("%0*x" % (width, b) for b in bits))


def have_lib():
    try:
        import safetensors.torch  # noqa: F401
        import torch  # noqa: F401
    except Exception as e:
        print("safetensors or torch cannot be imported: %s" % e, file=sys.stderr)
        sys.exit(77)


def main():
    cmd = sys.argv[1]
    if cmd.endswith("-lib"):
        have_lib()
    if cmd in ("read", "read-lib"):
        read(sys.argv[2], read_file_lib if cmd == "read-lib" else read_file)
    elif cmd in ("write", "write-lib"):
        dtype = {"f32": "F32", "bf16": "BF16"}[sys.argv[3]]
        write_ckpt(sys.argv[2], dtype, int(sys.argv[4]), write_file_lib if cmd == "write-lib" else write_file)
    else:
        raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    main()
