#!/usr/bin/python3
"""bailing_ref.py: an independent PyTorch reference of BailingMoeForCausalLM (model_type "bailing_moe").

What it is: the check that ling-train's C forward and backward compute what Hugging Face's
modeling_bailing_moe.py computes. It is written only from the architecture notes (the design
notes' description of HF's modeling code, which doc/model.md restates) and the trainer's
interface, never from the C code, so that a shared misreading cannot hide. Plain torch ops and autograd, float64 by
default (--dtype float32 for speed), no packages beyond Debian's python3-torch (torch 1.13) and
the standard library. It also carries its own safetensors reader and writer (struct + json).

What it models: embeddings (the pad_token_id row gets no gradient), pre-norm RMSNorm with eps
under the root, a fused query_key_value split [all Q | all K | all V] with contiguous GQA groups,
NeoX rotate_half RoPE with positions restarting at each packed document, a causal and
same-document attention mask, dense SwiGLU layers below first_k_dense_replace, a softmax router
over all experts then top-k (renormalised when norm_topk_prob, with the gradient flowing through
the renormalisation), SwiGLU experts, one shared expert of width moe_intermediate_size * shared,
a final norm, NormHead (W[:, j] / (||W[:, j]|| + 1e-7), the norm detached) and an untied head.
Loss: shifted cross-entropy over the targets whose mask is 1; --aux adds 0.015 * balance +
1e-4 * z-loss per MoE layer (balance = E * sum_i f_i P_i, f constant; z = mean logsumexp^2,
both over every token of the batch).

Run it with /usr/bin/python3 (the interpreter that has torch):
  bailing_ref.py forward --checkpoint DIR --tokens T.json [--mask M.json] [--docs D.json] [--aux]
                         [--grads OUT.safetensors] [--dtype float64|float32]
  bailing_ref.py save --config CFG --seed N --out DIR [--dtype f32|bf16] [--shards K]
  bailing_ref.py compare A B [--rtol 1e-4] [--exact]        (files or checkpoint dirs)
  bailing_ref.py compare-json A.json B.json [--rtol 1e-4]  (two `forward` lines)
  bailing_ref.py load-check --checkpoint DIR [--like DIR2]
  bailing_ref.py pick --tokens T.json [--docs D.json] [--min-margin 1e-3] DIR...
  bailing_ref.py selfcheck                                 (gradcheck, fp32 vs fp64, log V, packing)
  bailing_ref.py bench --config CFG --batch B --seq T [--iters N] [--threads 2]
  bailing_ref.py bench-report NAME BxT REF.json REF.time OURS.json OURS.time   (for bench/train.sh)
Exit status: 0 ok, 1 data error or disagreement, 2 usage.
"""

import argparse
import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn.functional as F

BALANCE_COEF = 0.015
ZLOSS_COEF = 1e-4
NORM_HEAD_EPS = 1e-7


class RefError(Exception):
    """A data error: reported as `bailing_ref: what is wrong`, exit 1."""


# ----------------------------------------------------------------------------------------------
# safetensors: 8-byte little-endian header length, a JSON header {name: {dtype, shape,
# data_offsets}} plus __metadata__, then the raw little-endian data.

ST_DTYPES = {"F32": (torch.float32, 4), "BF16": (torch.bfloat16, 2), "F16": (torch.float16, 2),
             "F64": (torch.float64, 8)}


def st_read_file(path):
    """Returns {name: tensor} in the file's own dtype (F32, BF16, F16, F64)."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise RefError("%s: shorter than the 8-byte header length" % path)
    (hlen,) = struct.unpack("<Q", blob[:8])
    if hlen > len(blob) - 8:
        raise RefError("%s: header length %d past the end of the file" % (path, hlen))
    try:
        header = json.loads(blob[8:8 + hlen].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise RefError("%s: bad JSON header: %s" % (path, e))
    data = memoryview(blob)[8 + hlen:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in ST_DTYPES:
            raise RefError("%s: %s: dtype %s not supported" % (path, name, info["dtype"]))
        dtype, size = ST_DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        count = 1
        for d in info["shape"]:
            count *= d
        if end - begin != count * size or end > len(data) or begin < 0:
            raise RefError("%s: %s: data offsets %d..%d do not fit shape %s of %s"
                           % (path, name, begin, end, info["shape"], info["dtype"]))
        raw = bytearray(data[begin:end])
        t = torch.frombuffer(raw, dtype=dtype) if count else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).clone()
    return out


def st_tensor_bytes(t, dtype_name):
    """The little-endian bytes of t in F32 or BF16 (bf16 rounds to nearest even, as torch does)."""
    t = t.detach().contiguous()
    if dtype_name == "F32":
        return t.to(torch.float32).numpy().tobytes()
    if dtype_name == "BF16":
        return t.to(torch.bfloat16).view(torch.int16).numpy().tobytes()
    raise ValueError(dtype_name)


def st_write_file(path, tensors, dtype_name):
    """Writes [(name, tensor)] as one safetensors file: header keys sorted (data in the same
    order), __metadata__ {"format": "pt"}, the header padded with spaces to 8 bytes. Atomic."""
    header = {"__metadata__": {"format": "pt"}}
    chunks = []
    offset = 0
    for name, t in sorted(tensors, key=lambda nt: nt[0]):
        b = st_tensor_bytes(t, dtype_name)
        header[name] = {"dtype": dtype_name, "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in chunks:
            f.write(b)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def st_read_any(path):
    """Reads a .safetensors file, or a checkpoint dir with model.safetensors or
    model.safetensors.index.json + shards. Returns {name: tensor}."""
    if not os.path.isdir(path):
        return st_read_file(path)
    single = os.path.join(path, "model.safetensors")
    index = os.path.join(path, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            weight_map = json.load(f)["weight_map"]
        out = {}
        for shard in sorted(set(weight_map.values())):
            part = st_read_file(os.path.join(path, shard))
            for name, t in part.items():
                if weight_map.get(name) != shard:
                    raise RefError("%s: %s is in %s but the index maps it to %s"
                                   % (path, name, shard, weight_map.get(name)))
                if name in out:
                    raise RefError("%s: %s is in two shards" % (path, name))
                out[name] = t
        missing = set(weight_map) - set(out)
        if missing:
            raise RefError("%s: index names %s, which no shard holds" % (path, sorted(missing)[0]))
        return out
    if os.path.exists(single):
        return st_read_file(single)
    raise RefError("%s: neither model.safetensors nor model.safetensors.index.json" % path)


# ----------------------------------------------------------------------------------------------
# config.json, read as HF's BailingMoeConfig reads it (with the DeepSeek-style aliases).

def read_config(path):
    if os.path.isdir(path):
        path = os.path.join(path, "config.json")
    with open(path) as f:
        raw = json.load(f)
    return parse_config(raw, path)


def parse_config(raw, where="config"):
    def need(*keys):
        for k in keys:
            if k in raw and raw[k] is not None:
                return raw[k]
        raise RefError("%s: missing key %s" % (where, keys[0]))

    def get(default, *keys):
        for k in keys:
            if k in raw and raw[k] is not None:
                return raw[k]
        return default

    c = {}
    c["V"] = need("vocab_size")
    c["H"] = need("hidden_size")
    c["L"] = need("num_hidden_layers")
    c["nh"] = need("num_attention_heads")
    c["nkv"] = need("num_key_value_heads")
    c["hd"] = get(c["H"] // c["nh"], "head_dim")
    c["E"] = get(0, "num_experts", "n_routed_experts")
    c["S"] = get(0, "num_shared_experts", "n_shared_experts")
    c["k"] = get(0, "num_experts_per_tok")
    c["Ie"] = get(0, "moe_intermediate_size")
    c["I"] = get(0, "intermediate_size")
    c["first_dense"] = get(0, "first_k_dense_replace") if c["E"] else c["L"]
    c["norm_topk"] = bool(get(False, "norm_topk_prob"))
    c["norm_head"] = bool(get(False, "norm_head"))
    c["theta"] = float(get(10000.0, "rope_theta"))
    c["eps"] = float(get(1e-5, "rms_norm_eps"))
    c["pad"] = get(None, "pad_token_id")
    c["init_range"] = float(get(0.02, "initializer_range"))
    if get(False, "tie_word_embeddings"):
        raise RefError("%s: tie_word_embeddings true is not supported" % where)
    if get(True, "use_bias"):
        raise RefError("%s: use_bias true (HF's default when absent) is not supported" % where)
    if get(False, "use_qkv_bias"):
        raise RefError("%s: use_qkv_bias true is not supported" % where)
    if c["H"] % c["nh"] and "head_dim" not in raw:
        raise RefError("%s: num_attention_heads does not divide hidden_size" % where)
    if c["nkv"] <= 0 or c["nh"] % c["nkv"]:
        raise RefError("%s: num_key_value_heads must divide num_attention_heads" % where)
    if c["first_dense"] < c["L"]:
        if not (0 < c["k"] <= c["E"]) or c["Ie"] <= 0:
            raise RefError("%s: MoE layers need 0 < num_experts_per_tok <= num_experts and "
                           "moe_intermediate_size" % where)
    if c["first_dense"] > 0 and c["I"] <= 0:
        raise RefError("%s: dense layers need intermediate_size" % where)
    if c["pad"] is not None and not 0 <= c["pad"] < c["V"]:
        c["pad"] = None  # HF's Embedding would reject it; treat as no pad row
    c["raw"] = raw
    return c


def is_moe(c, i):
    return i >= c["first_dense"]


def param_shapes(c):
    """[(HF name, shape)] in HF's state_dict order."""
    H, hd = c["H"], c["hd"]
    out = [("model.word_embeddings.weight", (c["V"], H))]
    for i in range(c["L"]):
        p = "model.layers.%d." % i
        out.append((p + "attention.query_key_value.weight", ((c["nh"] + 2 * c["nkv"]) * hd, H)))
        out.append((p + "attention.dense.weight", (H, c["nh"] * hd)))
        if is_moe(c, i):
            for e in range(c["E"]):
                q = p + "mlp.experts.%d." % e
                out += [(q + "gate_proj.weight", (c["Ie"], H)), (q + "up_proj.weight", (c["Ie"], H)),
                        (q + "down_proj.weight", (H, c["Ie"]))]
            out.append((p + "mlp.gate.weight", (c["E"], H)))
            if c["S"]:
                w = c["Ie"] * c["S"]
                q = p + "mlp.shared_experts."
                out += [(q + "gate_proj.weight", (w, H)), (q + "up_proj.weight", (w, H)),
                        (q + "down_proj.weight", (H, w))]
        else:
            q = p + "mlp."
            out += [(q + "gate_proj.weight", (c["I"], H)), (q + "up_proj.weight", (c["I"], H)),
                    (q + "down_proj.weight", (H, c["I"]))]
        out.append((p + "input_layernorm.weight", (H,)))
        out.append((p + "post_attention_layernorm.weight", (H,)))
    out.append(("model.norm.weight", (H,)))
    out.append(("lm_head.weight", (c["V"], H)))
    return out


def init_params(c, seed, dtype=torch.float64):
    """Norm weights 1, the rest N(0, initializer_range), the pad row zero (HF's _init_weights).
    (HF itself leaves mlp.gate.weight at its kaiming-uniform default; any init serves a check.)"""
    g = torch.Generator().manual_seed(seed)
    params = {}
    for name, shape in param_shapes(c):
        if name.endswith("layernorm.weight") or name == "model.norm.weight":
            t = torch.ones(shape, dtype=torch.float64)
        else:
            t = torch.randn(shape, generator=g, dtype=torch.float64) * c["init_range"]
        if name == "model.word_embeddings.weight" and c["pad"] is not None:
            t[c["pad"]] = 0
        params[name] = t.to(dtype)
    return params


def load_params(c, path, dtype, where=None):
    """Loads the checkpoint's tensors by HF name and shape: every one the model has, nothing else."""
    tensors = st_read_any(path)
    where = where or path
    want = param_shapes(c)
    names = set()
    params = {}
    for name, shape in want:
        names.add(name)
        if name not in tensors:
            raise RefError("%s: missing tensor %s" % (where, name))
        t = tensors[name]
        if tuple(t.shape) != tuple(shape):
            raise RefError("%s: %s has shape %s, the config wants %s" % (where, name, list(t.shape), list(shape)))
        params[name] = t.to(dtype)
    extra = sorted(set(tensors) - names)
    if extra:
        raise RefError("%s: unexpected tensor %s (%d extra)" % (where, extra[0], len(extra)))
    return params


# ----------------------------------------------------------------------------------------------
# The model. Shapes: B batch, T tokens, H hidden, nh/nkv heads, hd head dim, E experts, k top-k.

def rms_norm(x, w, eps):
    # HF: in fp32 (here in the working dtype, fp32 or fp64): x * rsqrt(mean(x^2) + eps), then * w
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def doc_positions(docs):
    """docs [B,T] non-decreasing ids -> positions restarting at 0 at each document's first token."""
    B, T = docs.shape
    pos = torch.zeros(B, T, dtype=torch.long)
    for b in range(B):
        start = 0
        for t in range(T):
            if t > 0 and docs[b, t] != docs[b, t - 1]:
                start = t
            pos[b, t] = t - start
    return pos


def attention(c, x, w_qkv, w_dense, pos, allowed):
    """x [B,T,H] -> [B,T,H]. allowed [B,T,T] bool (query t may see key s)."""
    B, T, _ = x.shape
    nh, nkv, hd = c["nh"], c["nkv"], c["hd"]
    qkv = (x @ w_qkv.t()).view(B, T, nh + 2 * nkv, hd)
    q, k, v = qkv.split([nh, nkv, nkv], dim=2)          # [B,T,nh|nkv|nkv,hd]
    q, k, v = (t.transpose(1, 2) for t in (q, k, v))     # [B,heads,T,hd]
    inv_freq = 1.0 / (c["theta"] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    ang = pos.to(torch.float64)[:, :, None] * inv_freq[None, None, :]   # [B,T,hd/2]
    ang = torch.cat((ang, ang), dim=-1).to(x.dtype)[:, None]            # [B,1,T,hd]
    cos, sin = ang.cos(), ang.sin()
    q = q * cos + rotate_half(q) * sin
    k = k * cos + rotate_half(k) * sin
    group = nh // nkv
    k = k.repeat_interleave(group, dim=1)                # query head h uses kv head h // group
    v = v.repeat_interleave(group, dim=1)
    scores = (q / math.sqrt(hd)) @ k.transpose(-1, -2)   # [B,nh,T,T]
    scores = scores.masked_fill(~allowed[:, None], float("-inf"))
    probs = torch.softmax(scores, dim=-1)
    out = (probs @ v).transpose(1, 2).reshape(B, T, nh * hd)
    return out @ w_dense.t()


def swiglu(x, wg, wu, wd):
    return (F.silu(x @ wg.t()) * (x @ wu.t())) @ wd.t()


def moe(c, x, P, p, stats):
    """x [N,H] -> [N,H]: routed experts (top-k of a softmax over all E) plus the shared expert."""
    logits = x @ P[p + "mlp.gate.weight"].t()             # [N,E]
    probs = torch.softmax(logits, dim=-1)
    topw, topi = torch.topk(probs, c["k"], dim=-1)        # [N,k]
    if c["k"] > 1 and c["norm_topk"]:
        topw = topw / topw.sum(dim=-1, keepdim=True)
    out = torch.zeros_like(x)
    for e in range(c["E"]):
        tok, slot = (topi == e).nonzero(as_tuple=True)
        if tok.numel() == 0:
            continue
        q = p + "mlp.experts.%d." % e
        y = swiglu(x[tok], P[q + "gate_proj.weight"], P[q + "up_proj.weight"], P[q + "down_proj.weight"])
        out = out.index_add(0, tok, y * topw[tok, slot][:, None])
    if c["S"]:
        q = p + "mlp.shared_experts."
        out = out + swiglu(x, P[q + "gate_proj.weight"], P[q + "up_proj.weight"], P[q + "down_proj.weight"])
    # Aux statistics over every token (TRAIN_SPEC: counted tokens = all tokens of the batch).
    N, E, k = x.shape[0], c["E"], c["k"]
    f = torch.bincount(topi.reshape(-1), minlength=E).to(x.dtype) / (N * k)   # constant
    stats["balance"].append(E * (f * probs.mean(dim=0)).sum())
    stats["z"].append(torch.logsumexp(logits, dim=-1).pow(2).mean())
    srt = torch.sort(logits, dim=-1, descending=True).values
    stats["margin"].append(float((srt[:, k - 1] - srt[:, k]).min()) if k < E else float("inf"))
    return out


def head_weight(c, w):
    if not c["norm_head"]:
        return w
    norm = w.norm(p=2, dim=0, keepdim=True).detach() + NORM_HEAD_EPS   # over the vocab: per column
    return w / norm


def model_forward(c, P, tokens, docs):
    """tokens, docs [B,T] long -> logits [B,T,V], stats (balance, z, margin per MoE layer)."""
    B, T = tokens.shape
    pad = c["pad"] if c["pad"] is not None else None
    x = F.embedding(tokens, P["model.word_embeddings.weight"], padding_idx=pad)
    pos = doc_positions(docs)
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    allowed = causal[None] & (docs[:, :, None] == docs[:, None, :])
    stats = {"balance": [], "z": [], "margin": []}
    for i in range(c["L"]):
        p = "model.layers.%d." % i
        h = rms_norm(x, P[p + "input_layernorm.weight"], c["eps"])
        x = x + attention(c, h, P[p + "attention.query_key_value.weight"], P[p + "attention.dense.weight"],
                          pos, allowed)
        h = rms_norm(x, P[p + "post_attention_layernorm.weight"], c["eps"])
        if is_moe(c, i):
            y = moe(c, h.reshape(B * T, -1), P, p, stats).view(B, T, -1)
        else:
            y = swiglu(h, P[p + "mlp.gate_proj.weight"], P[p + "mlp.up_proj.weight"], P[p + "mlp.down_proj.weight"])
        x = x + y
    x = rms_norm(x, P["model.norm.weight"], c["eps"])
    logits = x @ head_weight(c, P["lm_head.weight"]).t()
    return logits, stats


def masked_ce(logits, tokens, mask):
    """Mean over b, t < T-1 of CE(logits[b,t], tokens[b,t+1]) where mask[b,t+1] == 1."""
    logp = torch.log_softmax(logits[:, :-1], dim=-1)
    nll = -logp.gather(-1, tokens[:, 1:, None]).squeeze(-1)
    counted = mask[:, 1:].to(logits.dtype)
    n = int(counted.sum())
    return (nll * counted).sum() / max(n, 1), n


def loss_fn(c, P, tokens, mask, docs, aux):
    logits, stats = model_forward(c, P, tokens, docs)
    ce, n = masked_ce(logits, tokens, mask)
    loss = ce
    if aux and stats["balance"]:
        loss = ce + BALANCE_COEF * sum(stats["balance"]) + ZLOSS_COEF * sum(stats["z"])
    return loss, ce, n, logits, stats


# ----------------------------------------------------------------------------------------------
# Inputs

def read_int_matrix(path, what):
    try:
        with open(path) as f:
            m = json.load(f)
    except (OSError, ValueError) as e:
        raise RefError("%s: %s" % (path, e))
    if not isinstance(m, list) or not m or not all(isinstance(r, list) for r in m):
        raise RefError("%s: %s must be a JSON array of arrays" % (path, what))
    if len({len(r) for r in m}) != 1 or len(m[0]) < 2:
        raise RefError("%s: %s rows must have one length of at least 2" % (path, what))
    return torch.tensor(m, dtype=torch.long)


def read_batch(c, a):
    tokens = read_int_matrix(a.tokens, "tokens")
    if int(tokens.min()) < 0 or int(tokens.max()) >= c["V"]:
        raise RefError("%s: token id %d outside the vocabulary of %d"
                       % (a.tokens, int(tokens.max()), c["V"]))
    mask = read_int_matrix(a.mask, "mask") if getattr(a, "mask", None) else torch.ones_like(tokens)
    docs = read_int_matrix(a.docs, "docs") if getattr(a, "docs", None) else torch.zeros_like(tokens)
    for m, f in ((mask, getattr(a, "mask", None)), (docs, getattr(a, "docs", None))):
        if m.shape != tokens.shape:
            raise RefError("%s: shape %s differs from the tokens' %s" % (f, list(m.shape), list(tokens.shape)))
    if bool((docs[:, 1:] < docs[:, :-1]).any()):
        raise RefError("%s: document ids must not decrease along a row" % a.docs)
    return tokens, mask, docs


def fmt(x):
    return "%.9g" % x


def dtype_of(name):
    return {"float64": torch.float64, "float32": torch.float32}[name]


# ----------------------------------------------------------------------------------------------
# Subcommands

def cmd_forward(a):
    dtype = dtype_of(a.dtype)
    c = read_config(a.checkpoint)
    P = load_params(c, a.checkpoint, dtype)
    for t in P.values():
        t.requires_grad_(True)
    tokens, mask, docs = read_batch(c, a)
    loss, ce, n, logits, stats = loss_fn(c, P, tokens, mask, docs, a.aux)
    out = '{"loss":%s,"tokens":%d,"n_params":%d,"logits_first":[%s]' % (
        fmt(float(loss)), n, sum(t.numel() for t in P.values()),
        ",".join(fmt(float(v)) for v in logits[0, 0, :8]))
    if a.aux:
        out += ',"ce":%s,"balance":[%s],"z":[%s]' % (
            fmt(float(ce)), ",".join(fmt(float(v)) for v in stats["balance"]),
            ",".join(fmt(float(v)) for v in stats["z"]))
    if a.margin:
        out += ',"router_margin":%s' % fmt(min(stats["margin"], default=float("inf")))
    print(out + "}")
    if a.grads:
        loss.backward()
        grads = [(name, t.grad if t.grad is not None else torch.zeros_like(t)) for name, t in P.items()]
        st_write_file(a.grads, grads, "F32")
    return 0


def config_text(raw, bf16):
    """config.json as HF's save_pretrained writes it: every key the model needs set explicitly."""
    cfg = dict(raw)
    cfg.setdefault("architectures", ["BailingMoeForCausalLM"])
    cfg.setdefault("model_type", "bailing_moe")
    cfg["torch_dtype"] = "bfloat16" if bf16 else "float32"
    cfg.setdefault("transformers_version", "4.44.0")
    return json.dumps(cfg, indent=2, sort_keys=True) + "\n"


def cmd_save(a):
    c = read_config(a.config)
    params = init_params(c, a.seed)
    st_dtype = {"f32": "F32", "bf16": "BF16"}[a.dtype]
    tmp = a.out.rstrip("/") + ".tmp"
    os.makedirs(tmp, exist_ok=True)
    with open(os.path.join(tmp, "config.json"), "w") as f:
        f.write(config_text(c["raw"], a.dtype == "bf16"))
    gen = {"_from_model_config": True, "transformers_version": "4.44.0"}
    for key in ("bos_token_id", "eos_token_id", "pad_token_id"):
        if key in c["raw"]:
            gen[key] = c["raw"][key]
    with open(os.path.join(tmp, "generation_config.json"), "w") as f:
        f.write(json.dumps(gen, indent=2, sort_keys=True) + "\n")
    items = list(params.items())
    if a.shards <= 1:
        st_write_file(os.path.join(tmp, "model.safetensors"), items, st_dtype)
    else:
        # Contiguous groups of the state_dict order, of about equal bytes (HF's max_shard_size split).
        size = 4 if st_dtype == "F32" else 2
        total = sum(t.numel() * size for _, t in items)
        groups, acc = [[] for _ in range(a.shards)], 0
        for name, t in items:
            g = min(a.shards - 1, acc * a.shards // total)
            groups[g].append((name, t))
            acc += t.numel() * size
        groups = [g for g in groups if g]
        weight_map = {}
        for j, g in enumerate(groups):
            fname = "model-%05d-of-%05d.safetensors" % (j + 1, len(groups))
            st_write_file(os.path.join(tmp, fname), g, st_dtype)
            for name, _ in g:
                weight_map[name] = fname
        index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
        with open(os.path.join(tmp, "model.safetensors.index.json"), "w") as f:
            f.write(json.dumps(index, indent=2) + "\n")
    if os.path.isdir(a.out):
        for name in os.listdir(a.out):
            os.unlink(os.path.join(a.out, name))
        os.rmdir(a.out)
    os.replace(tmp, a.out)
    return 0


def cmd_compare(a):
    A, B = st_read_any(a.a), st_read_any(a.b)
    if set(A) != set(B):
        only = sorted(set(A) ^ set(B))[0]
        print("compare: %s is only in %s" % (only, a.a if only in A else a.b))
        return 1
    worst, worst_name, bad = -1.0, None, 0
    for name in sorted(A):
        x, y = A[name], B[name]
        if x.shape != y.shape:
            print("compare: %s: shape %s vs %s" % (name, list(x.shape), list(y.shape)))
            return 1
        if a.exact:
            # bf16 is widened exactly to fp32; compare the fp32 bit patterns (-0 != 0, NaN == NaN).
            xb, yb = x.to(torch.float32).view(torch.int32), y.to(torch.float32).view(torch.int32)
            diff = int((xb != yb).sum())
            err = float(diff)
            if diff:
                bad += 1
        else:
            x64, y64 = x.to(torch.float64), y.to(torch.float64)
            ny = float(y64.norm())
            nd = float((x64 - y64).norm())
            err = nd / ny if ny > 0 else (0.0 if nd == 0 else float("inf"))
            if not err < a.rtol:
                bad += 1
        if err > worst:
            worst, worst_name = err, name
    what = "differing elements" if a.exact else "relative error"
    print("compare: %d tensors, %d disagree; worst %s %s %s" % (len(A), bad, worst_name, what, fmt(worst)))
    return 1 if bad else 0


def cmd_compare_json(a):
    with open(a.a) as f:
        x = json.loads(f.read().strip().splitlines()[-1])
    with open(a.b) as f:
        y = json.loads(f.read().strip().splitlines()[-1])
    bad = 0
    for key in ("tokens", "n_params"):
        if key in y and x.get(key) != y[key]:
            print("compare-json: %s: %s vs %s" % (key, x.get(key), y[key]))
            bad += 1
    for key in ("loss", "ce", "logits_first", "balance", "z"):
        if key not in y:
            continue
        if key not in x:
            print("compare-json: %s missing in %s" % (key, a.a))
            bad += 1
            continue
        u = torch.tensor(x[key], dtype=torch.float64).reshape(-1)
        v = torch.tensor(y[key], dtype=torch.float64).reshape(-1)
        if u.shape != v.shape:
            print("compare-json: %s: %d values vs %d" % (key, u.numel(), v.numel()))
            bad += 1
            continue
        nv, nd = float(v.norm()), float((u - v).norm())
        err = nd / nv if nv > 0 else (0.0 if nd == 0 else float("inf"))
        ok = err < a.rtol
        bad += not ok
        print("compare-json: %s relative error %s%s" % (key, fmt(err), "" if ok else " (over %g)" % a.rtol))
    return 1 if bad else 0


# Keys whose HF defaults are traps (papers.md 1a): a checkpoint writer must set each explicitly.
EXPLICIT_KEYS = ("use_bias", "num_key_value_heads", "moe_intermediate_size", "pad_token_id", "rms_norm_eps",
                 "rope_theta", "norm_head", "attention_dropout", "first_k_dense_replace", "tie_word_embeddings")


def cmd_load_check(a):
    c = read_config(a.checkpoint)
    missing = [k for k in EXPLICIT_KEYS if k not in c["raw"]]
    if missing:
        raise RefError("%s/config.json: key %s is not set (HF's default would be used)" % (a.checkpoint, missing[0]))
    if c["raw"].get("model_type") != "bailing_moe":
        raise RefError("%s/config.json: model_type is %r, not bailing_moe" % (a.checkpoint, c["raw"].get("model_type")))
    P = load_params(c, a.checkpoint, torch.float64)
    if a.like:
        other = st_read_any(a.like)
        mine = {n: tuple(t.shape) for n, t in P.items()}
        theirs = {n: tuple(t.shape) for n, t in other.items()}
        if mine != theirs:
            diff = sorted(set(mine.items()) ^ set(theirs.items()))[0]
            raise RefError("%s and %s differ in tensor %s %s" % (a.checkpoint, a.like, diff[0], list(diff[1])))
    print("load-check: %s: %d tensors, %d parameters, names and shapes as HF's model"
          % (a.checkpoint, len(P), sum(t.numel() for t in P.values())))
    return 0


def cmd_pick(a):
    """Prints the first checkpoint whose router top-k choices have logit margins >= --min-margin
    on the batch, with its --docs and also without (one document per row)."""
    for d in a.dirs:
        c = read_config(d)
        P = load_params(c, d, torch.float64)
        tokens, _, docs = read_batch(c, a)
        margin = float("inf")
        for dd in (docs, torch.zeros_like(docs)):
            with torch.no_grad():
                _, stats = model_forward(c, P, tokens, dd)
            margin = min([margin] + stats["margin"])
        print("pick: %s: router margin %s" % (d, fmt(margin)), file=sys.stderr)
        if margin >= a.min_margin:
            print(d)
            return 0
    return 1


# ----------------------------------------------------------------------------------------------
# selfcheck: the reference checked against itself and against finite differences.

TINY = {"vocab_size": 11, "hidden_size": 8, "num_hidden_layers": 2, "num_attention_heads": 2,
        "num_key_value_heads": 1, "head_dim": 4, "num_experts": 4, "num_experts_per_tok": 2,
        "num_shared_experts": 1, "moe_intermediate_size": 4, "intermediate_size": 6,
        "first_k_dense_replace": 1, "norm_topk_prob": True, "norm_head": False, "rope_theta": 10000.0,
        "rms_norm_eps": 1e-6, "pad_token_id": 0, "initializer_range": 0.5, "tie_word_embeddings": False,
        "use_bias": False, "use_qkv_bias": False}


def selfcheck_batch():
    tokens = torch.tensor([[3, 5, 7, 1, 9, 2, 0], [4, 4, 8, 10, 6, 2, 5]])
    mask = torch.tensor([[1, 1, 1, 0, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1]])
    docs = torch.tensor([[0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 1, 1, 1]])
    return tokens, mask, docs


def check(ok, what, value):
    print("selfcheck: %-58s %s %s" % (what, fmt(value), "ok" if ok else "FAILED"))
    return 0 if ok else 1


def gradcheck_model(c, seed, names_to_check):
    """torch.autograd.gradcheck of the aux loss in float64 w.r.t. the named parameters."""
    P = init_params(c, seed)
    tokens, mask, docs = selfcheck_batch()
    with torch.no_grad():
        _, stats = model_forward(c, P, tokens, docs)
    if min(stats["margin"]) < 1e-3:
        return None
    names = list(names_to_check(P))

    def f(*ts):
        Q = dict(P)
        Q.update(zip(names, ts))
        return loss_fn(c, Q, tokens, mask, docs, True)[0]

    inputs = tuple(P[n].clone().requires_grad_(True) for n in names)
    return torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-7, rtol=1e-5, raise_exception=False)


def cmd_selfcheck(a):
    fails = 0
    # 1. Finite differences (every parameter, aux losses on, no NormHead: its gradient is detached).
    # No pad row here: its zero gradient is by design not the derivative (checked in 3).
    c = parse_config(dict(TINY, pad_token_id=None))
    done = False
    for seed in range(1, 50):
        r = gradcheck_model(c, seed, lambda P: list(P))
        if r is not None:
            fails += check(r, "gradcheck, all %d parameters, aux on (seed %d)" % (
                sum(t.numel() for t in init_params(c, seed).values()), seed), 0.0)
            done = True
            break
    fails += check(done, "found a tiny init without router near-ties", 0.0)
    # 2. NormHead: every other parameter by finite differences; lm_head = dL/dWn / (||W[:,j]|| + 1e-7).
    cn = parse_config(dict(TINY, norm_head=True, pad_token_id=None))
    for seed in range(1, 50):
        r = gradcheck_model(cn, seed, lambda P: [n for n in P if n != "lm_head.weight"])
        if r is None:
            continue
        fails += check(r, "gradcheck with norm_head, all but lm_head (seed %d)" % seed, 0.0)
        P = init_params(cn, seed)
        tokens, mask, docs = selfcheck_batch()
        for t in P.values():
            t.requires_grad_(True)
        loss_fn(cn, P, tokens, mask, docs, False)[0].backward()
        W = P["lm_head.weight"].detach()
        norm = W.norm(dim=0, keepdim=True) + NORM_HEAD_EPS
        Wn = (W / norm).requires_grad_(True)
        Q = {n: t.detach() for n, t in P.items()}
        c_plain = dict(cn, norm_head=False)
        Q["lm_head.weight"] = Wn
        loss_fn(c_plain, Q, tokens, mask, docs, False)[0].backward()
        want = Wn.grad / norm
        err = float((P["lm_head.weight"].grad - want).norm() / want.norm())
        fails += check(err < 1e-12, "norm_head: lm_head grad = grad(normalised W) / norm, rel err", err)
        full = W.clone().requires_grad_(True)
        Q["lm_head.weight"] = full / (full.norm(dim=0, keepdim=True) + NORM_HEAD_EPS)
        loss_fn(c_plain, Q, tokens, mask, docs, False)[0].backward()
        gap = float((P["lm_head.weight"].grad - full.grad).norm() / full.grad.norm())
        fails += check(gap > 1e-3, "norm_head: detached grad differs from the true derivative by", gap)
        break
    # 3. The pad row gets no gradient although the pad token is in the batch.
    c = parse_config(dict(TINY))
    P = init_params(c, 3)
    P["model.word_embeddings.weight"][0] = 0.3
    for t in P.values():
        t.requires_grad_(True)
    tokens, mask, docs = selfcheck_batch()
    loss_fn(c, P, tokens, mask, docs, True)[0].backward()
    g = P["model.word_embeddings.weight"].grad
    fails += check(float(g[0].abs().max()) == 0 and float(g[3].abs().max()) > 0,
                   "pad row 0 gradient exactly zero (|max|)", float(g[0].abs().max()))
    # 4. A uniform model (zero head) has loss log V.
    P = init_params(c, 3)
    P["lm_head.weight"].zero_()
    loss = float(loss_fn(c, P, tokens, mask, docs, False)[0])
    fails += check(abs(loss - math.log(c["V"])) < 1e-12, "zero head: loss - log(V)", loss - math.log(c["V"]))
    # 5. Packing: a document packed after another gives the logits it gives alone in its own row.
    P = init_params(c, 5)
    packed, _ = model_forward(c, P, tokens[1:2], docs[1:2])
    alone, _ = model_forward(c, P, tokens[1:2, 3:], torch.zeros(1, 4, dtype=torch.long))
    first, _ = model_forward(c, P, tokens[1:2, :3], torch.zeros(1, 3, dtype=torch.long))
    err = float((packed[0, 3:] - alone[0]).abs().max() + (packed[0, :3] - first[0]).abs().max())
    fails += check(err < 1e-12, "packed documents = each document alone, max |diff|", err)
    # 6. float32 against float64 on the parity-sized config.
    here = os.path.dirname(os.path.abspath(__file__))
    cfg_path = os.path.join(here, "..", "data", "train-parity-config.json")
    cp = read_config(cfg_path)
    P64 = init_params(cp, 1)
    P32 = {n: t.to(torch.float32) for n, t in P64.items()}
    g = torch.Generator().manual_seed(7)
    tokens = torch.randint(0, cp["V"], (2, 24), generator=g)
    mask = torch.ones_like(tokens)
    docs = torch.zeros_like(tokens)
    docs[1, 10:] = 1
    res = {}
    for name, P in (("f64", P64), ("f32", P32)):
        for t in P.values():
            t.requires_grad_(True)
        loss = loss_fn(cp, P, tokens, mask, docs, True)[0]
        loss.backward()
        res[name] = (float(loss), {n: t.grad.to(torch.float64) for n, t in P.items()})
    lerr = abs(res["f32"][0] - res["f64"][0]) / abs(res["f64"][0])
    gerr = max(float((res["f32"][1][n] - v).norm() / max(float(v.norm()), 1e-30)) for n, v in res["f64"][1].items())
    fails += check(lerr < 1e-6, "parity config, float32 vs float64: loss rel err", lerr)
    fails += check(gerr < 1e-4, "parity config, float32 vs float64: worst gradient rel err", gerr)
    print("selfcheck: %s" % ("all ok" if not fails else "%d FAILED" % fails))
    return 1 if fails else 0


# ----------------------------------------------------------------------------------------------
# bench: one forward+backward in float32 on N threads, after a warm-up.

def step_flops(c, B, T):
    """Matrix-product FLOPs of one forward+backward (3x forward): 2 per multiply-add, attention
    scores and values counted in full (T*T), experts at their routed (active) width."""
    H, hd, nh, nkv = c["H"], c["hd"], c["nh"], c["nkv"]
    N = B * T
    f = 0
    for i in range(c["L"]):
        f += 2 * N * H * (nh + 2 * nkv) * hd + 2 * N * nh * hd * H
        f += 2 * 2 * B * nh * T * T * hd
        if is_moe(c, i):
            f += 2 * N * H * c["E"] + 2 * N * 3 * H * c["Ie"] * (c["k"] + c["S"])
        else:
            f += 2 * N * 3 * H * c["I"]
    f += 2 * N * H * c["V"]
    return 3 * f


def cmd_bench(a):
    torch.set_num_threads(a.threads)
    c = read_config(a.config)
    P = init_params(c, 1, torch.float32)
    for t in P.values():
        t.requires_grad_(True)
    g = torch.Generator().manual_seed(1)
    tokens = torch.randint(0, c["V"], (a.batch, a.seq), generator=g)
    mask = torch.ones_like(tokens)
    docs = torch.zeros_like(tokens)

    def step():
        for t in P.values():
            t.grad = None
        loss = loss_fn(c, P, tokens, mask, docs, False)[0]
        loss.backward()
        return float(loss)

    step()
    times = []
    for _ in range(a.iters):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    sec = sorted(times)[len(times) // 2]
    flops = step_flops(c, a.batch, a.seq)
    print(json.dumps({"impl": "torch-%s" % torch.__version__, "threads": a.threads, "seconds": round(sec, 6),
                      "flops": flops, "gflops": round(flops / sec / 1e9, 3),
                      "n_params": sum(t.numel() for t in P.values())}))
    return 0


def cmd_bench_train(a):
    """Whole training steps in float32: random B x T batches (one document a row, drawn in the step
    as a loader would), forward, backward, clipping to 1.0 and torch.optim.AdamW (betas
    0.9/0.95, weight decay 0.1), after one warm-up step; prints tokens/s of the median timed step (the machine is shared:
    the median is steadier than the mean)."""
    torch.set_num_threads(a.threads)
    c = read_config(a.config)
    P = init_params(c, 1, torch.float32)
    params = list(P.values())
    for t in params:
        t.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=a.lr, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    g = torch.Generator().manual_seed(1)

    def step():
        tokens = torch.randint(0, c["V"], (a.batch, a.seq), generator=g)
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(c, P, tokens, torch.ones_like(tokens), torch.zeros_like(tokens), True)[0]
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return float(loss)

    step()
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        loss = step()
        times.append(time.perf_counter() - t0)
    sec = sorted(times)[len(times) // 2]
    print(json.dumps({"impl": "torch-%s" % torch.__version__, "threads": a.threads, "steps": a.steps,
                      "seconds_median_step": round(sec, 6), "tokens_per_s": round(a.batch * a.seq / sec, 1),
                      "gflops": round(step_flops(c, a.batch, a.seq) / sec / 1e9, 3),
                      "last_loss": round(loss, 6), "n_params": sum(t.numel() for t in params)}))
    return 0


def time_v_maxrss_mib(path):
    """Maximum resident set size from a `/usr/bin/time -v` report, in MiB."""
    with open(path) as f:
        for line in f:
            if "Maximum resident set size" in line:
                return int(line.rsplit(":", 1)[1]) / 1024.0
    return float("nan")


def pick_key(d, want, avoid=()):
    """The first key of d naming all of `want` and none of `avoid` (ling-train bench's key names
    are its own: seconds, GFLOP/s and the sgemm peak are found by the words in them)."""
    for key, value in d.items():
        k = key.lower()
        if all(w in k for w in want) and not any(w in k for w in avoid) and isinstance(value, (int, float)):
            return float(value)
    return None


def cmd_bench_report(a):
    with open(a.ref_json) as f:
        ref = json.loads(f.read().strip().splitlines()[-1])
    with open(a.ours_json) as f:
        ours = json.loads(f.read().strip().splitlines()[-1])
    ours_s = pick_key(ours, ("sec",), ("flop",)) or pick_key(ours, ("time",)) or pick_key(ours, ("_s",), ("flop",))
    ours_gf = pick_key(ours, ("gflop",), ("peak", "sgemm", "blas"))
    peak = pick_key(ours, ("sgemm",)) or pick_key(ours, ("peak", "gflop"))
    flops = ref["flops"]
    if ours_gf is None and ours_s:
        ours_gf = flops / ours_s / 1e9
    print("%s: one forward+backward of batch %s, 2 threads each" % (a.name, a.shape))
    print("  reference (%s, float32): %.3f s, %.1f GFLOP/s (%.3g GFLOP by this script's count), peak RSS %.0f MiB"
          % (ref["impl"], ref["seconds"], ref["gflops"], flops / 1e9, time_v_maxrss_mib(a.ref_time)))
    if ours_s:
        print("  ling-train:                    %.3f s, %.1f GFLOP/s (%.1f by this script's count), peak RSS %.0f MiB"
              % (ours_s, ours_gf or float("nan"), flops / ours_s / 1e9, time_v_maxrss_mib(a.ours_time)))
        print("  speed-up over the reference: %.2fx (goal >= 2x)" % (ref["seconds"] / ours_s))
    else:
        print("  ling-train: no time found in its line")
    if peak and ours_gf:
        print("  ling-train FLOP rate / sgemm peak %.1f GFLOP/s: %.0f%% (goal >= 50%%)" % (peak, 100 * ours_gf / peak))
    print("  ling-train bench said: %s" % json.dumps(ours, separators=(",", ":")))
    return 0


# ----------------------------------------------------------------------------------------------

def main(argv):
    ap = argparse.ArgumentParser(prog="bailing_ref.py", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("forward")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--tokens", required=True)
    p.add_argument("--mask")
    p.add_argument("--docs")
    p.add_argument("--aux", action="store_true")
    p.add_argument("--grads")
    p.add_argument("--margin", action="store_true", help="add the smallest router top-k logit margin")
    p.add_argument("--dtype", default="float64", choices=("float64", "float32"))
    p = sub.add_parser("save")
    p.add_argument("--config", required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--dtype", default="f32", choices=("f32", "bf16"))
    p.add_argument("--shards", type=int, default=1)
    p = sub.add_parser("compare")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--rtol", type=float, default=1e-4)
    p.add_argument("--exact", action="store_true")
    p = sub.add_parser("compare-json")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--rtol", type=float, default=1e-4)
    p = sub.add_parser("load-check")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--like")
    p = sub.add_parser("pick")
    p.add_argument("--tokens", required=True)
    p.add_argument("--docs")
    p.add_argument("--min-margin", type=float, default=1e-3)
    p.add_argument("dirs", nargs="+")
    sub.add_parser("selfcheck")
    p = sub.add_parser("bench")
    p.add_argument("--config", required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--seq", type=int, required=True)
    p.add_argument("--iters", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p = sub.add_parser("bench-train")
    p.add_argument("--config", required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--seq", type=int, required=True)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--threads", type=int, default=2)
    p = sub.add_parser("bench-report")
    for arg in ("name", "shape", "ref_json", "ref_time", "ours_json", "ours_time"):
        p.add_argument(arg)
    a = ap.parse_args(argv)
    cmds = {"forward": cmd_forward, "save": cmd_save, "compare": cmd_compare, "compare-json": cmd_compare_json,
            "load-check": cmd_load_check, "pick": cmd_pick, "selfcheck": cmd_selfcheck, "bench": cmd_bench,
            "bench-train": cmd_bench_train, "bench-report": cmd_bench_report}
    try:
        return cmds[a.cmd](a)
    except RefError as e:
        print("bailing_ref: %s" % e, file=sys.stderr)
        return 1
    except (OSError, KeyError, ValueError) as e:
        print("bailing_ref: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    sys.exit(main(sys.argv[1:]))
