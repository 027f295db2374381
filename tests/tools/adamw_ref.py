#!/usr/bin/python3
"""adamw_ref.py: the torch side of tests/t5200-train-optim.sh.

    adamw_ref.py gen SEED STEPS CLIP >case     a case in tests/tools/train_adamw's input form
    adamw_ref.py run <case >out                the same steps with torch.optim.AdamW (and
                                               torch.nn.utils.clip_grad_norm_ when CLIP > 0),
                                               printed as train_adamw prints them
    adamw_ref.py compare GOT WANT RTOL         every number of GOT within RTOL (relative) of WANT;
                                               prints the largest relative difference

The parameter groups are as train_optim decides: weight decay on every tensor
but norm weights (names ending in "norm.weight") and biases (".bias").
"""
import math
import random
import sys

NAMES = [  # name, slab, numel
    ("model.word_embeddings.weight", 0, 96),
    ("model.layers.0.input_layernorm.weight", 1, 8),
    ("model.layers.0.attention.query_key_value.weight", 1, 192),
    ("model.layers.0.mlp.experts.0.up_proj.weight", 1, 64),
    ("model.layers.0.attention.dense.bias", 1, 8),
    ("model.norm.weight", 2, 8),
    ("lm_head.weight", 2, 96),
]


def decays(name):
    return not (name.endswith("norm.weight") or name.endswith(".bias"))


def gen(seed, steps, clip):
    rng = random.Random(seed)
    size = sum(n for _, _, n in NAMES)
    out = ["adamw 0.9 0.95 1e-8 0.1 %s" % clip, "tensors %d" % len(NAMES)]
    out += ["%s %d %d" % t for t in NAMES]
    out.append("params " + " ".join("%.9g" % rng.gauss(0, 1) for _ in range(size)))
    for s in range(steps):
        lr = 1e-3 * (0.5 + 0.5 * math.cos(math.pi * s / steps)) + 1e-5
        # Gradient scales from 1e-6 (where eps matters) to 10 (where clipping does);
        # the expert gets no gradient on some steps (a token-less expert).
        grads = []
        for name, _, n in NAMES:
            scale = 10 ** rng.uniform(-6, 1)
            if "experts" in name and s % 3 == 1:
                scale = 0.0
            grads += [rng.gauss(0, scale) for _ in range(n)]
        out.append("step %.9g " % lr + " ".join("%.9g" % g for g in grads))
    print("\n".join(out))


def parse_case(words):
    it = iter(words)
    assert next(it) == "adamw"
    beta1, beta2, eps, wd, clip = (float(next(it)) for _ in range(5))
    assert next(it) == "tensors"
    tensors = [(next(it), int(next(it)), int(next(it))) for _ in range(int(next(it)))]
    size = sum(n for _, _, n in tensors)
    assert next(it) == "params"
    params = [float(next(it)) for _ in range(size)]
    steps = []
    for word in it:
        assert word == "step"
        lr = float(next(it))
        steps.append((lr, [float(next(it)) for _ in range(size)]))
    return (beta1, beta2, eps, wd, clip), tensors, params, steps


def fmt(label, values):
    return label + "".join(" %.9g" % v for v in values)


def run():
    import torch

    (beta1, beta2, eps, wd, clip), tensors, flat, steps = parse_case(sys.stdin.read().split())
    params, at = [], 0
    for _, _, n in tensors:
        params.append(torch.nn.Parameter(torch.tensor(flat[at:at + n], dtype=torch.float32)))
        at += n
    groups = [
        {"params": [p for p, t in zip(params, tensors) if decays(t[0])], "weight_decay": wd},
        {"params": [p for p, t in zip(params, tensors) if not decays(t[0])], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=1.0, betas=(beta1, beta2), eps=eps)
    lines = []
    for lr, grads in steps:
        at = 0
        for p in params:
            n = p.numel()
            p.grad = torch.tensor(grads[at:at + n], dtype=torch.float32)
            at += n
        if clip > 0:
            norm = float(torch.nn.utils.clip_grad_norm_(params, clip))
        else:
            norm = float(torch.cat([p.grad for p in params]).double().norm())
        lines.append("norm %.9g" % norm)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.step()
    lines.append(fmt("param", (v for p in params for v in p.detach().tolist())))
    for key in ("exp_avg", "exp_avg_sq"):
        for p, t in zip(params, tensors):
            lines.append(fmt("%s.%s" % (key, t[0]), opt.state[p][key].tolist()))
    lines.append("step %d" % int(opt.state[params[0]]["step"]))
    print("\n".join(lines))


def compare(got_path, want_path, rtol):
    got = [l.split() for l in open(got_path)]
    want = [l.split() for l in open(want_path)]
    if [g[0] for g in got] != [w[0] for w in want] or any(len(g) != len(w) for g, w in zip(got, want)):
        sys.exit("compare: the outputs differ in their lines or lengths")
    worst, where, bad = 0.0, "", 0
    for g, w in zip(got, want):
        for i, (a, b) in enumerate(zip(map(float, g[1:]), map(float, w[1:]))):
            # Relative to the value; an absolute floor of 1e-12 for moments of near-zero gradients.
            diff = abs(a - b) / max(abs(b), 1e-12 / rtol)
            if diff > worst:
                worst, where = diff, "%s[%d]: got %.9g want %.9g" % (g[0], i, a, b)
            bad += diff > rtol
    print("largest relative difference %.3g at %s" % (worst, where))
    if bad:
        sys.exit("compare: %d numbers differ by more than %g" % (bad, rtol))


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "gen" and len(sys.argv) == 5:
        gen(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    elif cmd == "run" and len(sys.argv) == 2:
        run()
    elif cmd == "compare" and len(sys.argv) == 5:
        compare(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
