"""Time losslab's value_and_gradient against PyTorch (CPU forward + autograd backward).

Each loss runs on 10**6 float64 elements (elementwise losses: a vector of 10**6; losses over a
class axis: 250,000 rows of 4 classes), reduction="mean", in one process, same inputs. The PyTorch
side is the loss's verification oracle (``losslab.verification.oracle_for``): the torch built-in
where one exists, else the reference formula in torch ops. Times are the median of ``--repeat``
runs after a warm-up. ``speed-up`` = torch time / losslab time (> 1: losslab is faster).

Usage: python benchmarks/bench_losses.py [--repeat 7] [--size 1000000] [--json FILE] [NAME ...]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import numpy as np
import torch

import losslab as ll
from losslab.verification import oracle_for

# The settings benchmarked: each loss's default, plus the logit form where a loss has one.
# ntxent (N x N similarities) and ctc (a recursion over time) are not elementwise-sized work.
VARIANTS = [(n, {}) for n in ll.names() if n not in ("ntxent", "ctc")] + [
    ("bce", {"from_logits": True}), ("focal", {"from_logits": True}),
    ("cce", {"from_logits": True}), ("sparse_cce", {"from_logits": True}),
    ("categorical_focal", {"from_logits": True}), ("kl_div", {"from_logits": True}),
]


def _median_time(fn, repeat):
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench(name, params, size, repeat):
    loss = ll.get(name, **params)
    fast = ll.get(name, **params, check_finite=False)
    probe = loss.sample_inputs(np.random.default_rng(0), 8)
    first = loss.inputs.index(loss.differentiable[0])
    per_sample = int(np.prod(np.shape(probe[first])[1:]))
    inputs = loss.sample_inputs(np.random.default_rng(0), size // per_sample)
    wrt = [loss.inputs.index(d) for d in loss.differentiable]
    tensors = [torch.as_tensor(np.asarray(a, dtype=np.float64)) for a in inputs]
    oracle = oracle_for(loss)

    def torch_step():
        ts = [t.detach().requires_grad_(i in wrt) for i, t in enumerate(tensors)]
        out = oracle(torch, loss, *ts, "mean")
        out.backward()
        return out, [ts[i].grad for i in wrt]

    t_torch = _median_time(torch_step, repeat)
    t_ll = _median_time(lambda: loss.value_and_gradient(*inputs), repeat)
    t_fast = _median_time(lambda: fast.value_and_gradient(*inputs), repeat)
    # the two agree (a benchmark of a wrong answer is no benchmark)
    v, g = loss.value_and_gradient(*inputs)
    tv, tg = torch_step()
    tv = float(tv.detach())
    assert abs(float(v) - tv) <= 1e-10 * max(1.0, abs(tv)), name
    for ours, ref in zip(g if isinstance(g, tuple) else (g,), tg):
        ref = ref.numpy()
        assert np.max(np.abs(ours - ref)) <= 1e-10 * max(1e-300, float(np.max(np.abs(ref)))), name
    return {"loss": repr(loss).replace(", eps=None", ""), "elements": int(np.size(inputs[first])),
            "torch_ms": 1e3 * t_torch, "losslab_ms": 1e3 * t_ll, "losslab_nocheck_ms": 1e3 * t_fast,
            "speedup": t_torch / t_ll, "speedup_nocheck": t_torch / t_fast}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--size", type=int, default=10**6)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    variants = [v for v in VARIANTS if not args.names or v[0] in args.names]
    print(f"losslab {ll.__version__}, numpy {np.__version__}, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), {platform.processor() or platform.machine()}")
    print(f"value_and_gradient, reduction='mean', float64, median of {args.repeat}")
    head = f"{'loss':58s} {'elements':>9s} {'torch ms':>9s} {'losslab ms':>10s} {'speed-up':>8s} {'no-check ms':>11s} {'speed-up':>8s}"
    print(head)
    print("-" * len(head))
    rows = []
    for name, params in variants:
        r = bench(name, params, args.size, args.repeat)
        rows.append(r)
        print(f"{r['loss'][:58]:58s} {r['elements']:9d} {r['torch_ms']:9.2f} {r['losslab_ms']:10.2f} "
              f"{r['speedup']:7.2f}x {r['losslab_nocheck_ms']:11.2f} {r['speedup_nocheck']:7.2f}x")
    sp = [r["speedup"] for r in rows]
    print(f"speed-up (torch / losslab, with the finiteness scan): median {statistics.median(sp):.2f}x, "
          f"min {min(sp):.2f}x, max {max(sp):.2f}x; {sum(s >= 1 for s in sp)} of {len(sp)} at least as fast")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
