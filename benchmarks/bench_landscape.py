"""Time losslab's landscapes against the ways people compute them today, in the same run.

1. The course's code (section 7.3: a Python double loop over a 100 x 100 (w, b) grid, MSE of a
   linear model) against ``ll.landscape`` (exact quadratic path) on the same grid and data, at
   n = 50 and n = 100,000. The values are compared too.
2. BCE (on logits) and Huber on a linear model with d = 200, n = 50,000, 51 x 51 plane: a
   per-point loop (forward pass and loss at every grid point) against the projected path.
3. An MLP (20 inputs, two hidden layers of 150: 26,101 parameters), n = 10,000, 31 x 31 filter-
   normalised plane: a serial loop over grid points (as the ``loss-landscapes`` package: set the
   parameters, one forward pass over the data, the loss) against the first-layer path.
4. Peak memory (tracemalloc) of a 1000 x 1000 grid with a 16 MiB chunk budget.

``speed-up`` = baseline time / losslab time (best of 5 and 20 runs for case 1, one run each
otherwise). Usage: python benchmarks/bench_landscape.py [--quick]
(--quick shrinks the per-point baselines to a sample of grid points and scales their time).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

import losslab as ll
from losslab import landscapes as L
from losslab import models


def _t(fn, repeat=1):
    """(best time of ``repeat`` runs, result)."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def course_loop(X, y, w_range, b_range):
    """The course's code, verbatim in substance (meshgrid, then J[j, i] in a double loop)."""
    W, B = np.meshgrid(w_range, b_range)
    J = np.zeros_like(W)
    for i in range(len(w_range)):
        for j in range(len(b_range)):
            y_pred = W[j, i] * X + B[j, i]
            J[j, i] = np.mean((y_pred - y) ** 2)
    return J


def per_point(model, loss, X, y, plane, a, b, sample=None):
    """Forward pass and loss at each grid point (``method="generic"``); with ``sample`` only that
    many points, evenly spread, and the time scaled to the whole grid."""
    if sample is None:
        return _t(lambda: L.landscape(model, loss, X, y, plane=plane, alpha=a, beta=b,
                                      method="generic"))
    ai = a[np.linspace(0, len(a) - 1, sample).astype(int)]
    t, ls = _t(lambda: L.landscape(model, loss, X, y, plane=plane, alpha=ai, beta=b[:1],
                                   method="generic"))
    return t * (len(a) * len(b)) / sample, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    w_range, b_range = np.linspace(-1, 5, 100), np.linspace(-2, 4, 100)
    for n in (50, 100_000):
        X = rng.standard_normal(n)
        y = 2 * X + 1 + 0.3 * rng.standard_normal(n)
        t_loop, J = _t(lambda: course_loop(X, y, w_range, b_range), 5)
        model = models.Linear(1)
        plane = L.axes(model, "W", "b")
        t_ll, ls = _t(lambda: ll.landscape(model, "mse", X[:, None], y, plane=plane,
                                           alpha=w_range, beta=b_range), 20)
        err = float(np.max(np.abs(ls.values.T - J) / J))
        rows.append((f"course (w, b) 100x100 MSE, n={n:,}", "course double loop", t_loop, t_ll,
                     f"{ls.method}, max rel diff {err:.1e}"))
    d, n = 200, 50_000
    X = rng.standard_normal((n, d)) / np.sqrt(d)
    y_reg = X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)
    y_bin = (y_reg > 0).astype(float)
    a = b = np.linspace(-1, 1, 51)
    for name, loss, target in (("bce (logits)", ll.get("bce", from_logits=True), y_bin),
                               ("huber", ll.get("huber"), y_reg)):
        model = models.Linear(d)
        model.params["W"] = rng.standard_normal((d, 1))
        plane = L.gaussian(model, seed=1)
        t_fast, fast = _t(lambda: ll.landscape(model, loss, X, target, plane=plane, alpha=a, beta=b))
        t_slow, slow = per_point(model, loss, X, target, plane, a, b, 60 if args.quick else None)
        note = fast.method
        if slow is not None:
            note += f", max rel diff {float(np.max(np.abs(fast.values - slow.values) / slow.values)):.1e}"
        rows.append((f"linear d=200 n=50,000 51x51 {name}", "per-point loop", t_slow, t_fast, note))
    X = rng.standard_normal((10_000, 20))
    y = np.sin(X[:, 0]) + 0.1 * rng.standard_normal(10_000)
    mlp = models.MLP(20, (150, 150), seed=0)
    plane = L.filter_normalized(mlp, seed=0)
    a = b = np.linspace(-1, 1, 31)
    t_fast, fast = _t(lambda: ll.landscape(mlp, "mse", X, y, plane=plane, alpha=a, beta=b))
    t_slow, slow = per_point(mlp, "mse", X, y, plane, a, b, 60 if args.quick else None)
    note = f"{fast.method}, {mlp.n_params:,} parameters"
    if slow is not None:
        note += f", max rel diff {float(np.max(np.abs(fast.values - slow.values) / slow.values)):.1e}"
    rows.append(("MLP n=10,000 31x31", "serial loop (loss-landscapes style)", t_slow, t_fast, note))
    print(f"{'benchmark':<42}{'baseline':<38}{'baseline s':>11}{'losslab s':>11}{'speed-up':>10}  notes")
    for label, base, tb, tl, note in rows:
        print(f"{label:<42}{base:<38}{tb:>11.3f}{tl:>11.4f}{tb / tl:>9.0f}x  {note}")
    # peak memory of a 1000 x 1000 grid
    budget = 16 * 2 ** 20
    X = rng.standard_normal((2000, 5))
    y = rng.standard_normal(2000)
    model = models.Linear(5)
    plane = L.gaussian(model, seed=0)
    g = np.linspace(-1, 1, 1000)
    tracemalloc.start()
    t, ls = _t(lambda: ll.landscape(model, "huber", X, y, plane=plane, alpha=g, beta=g,
                                    chunk_bytes=budget))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out_bytes = ls.values.nbytes
    print(f"1000x1000 grid, huber, n=2,000 (projected, {t:.1f} s): peak traced memory "
          f"{peak / 2 ** 20:.1f} MiB = the {out_bytes / 2 ** 20:.1f} MiB result + "
          f"{(peak - out_bytes) / 2 ** 20:.1f} MiB working memory, budget {budget / 2 ** 20:.0f} MiB"
          f" ({ls.meta['chunk_points']} points per chunk)")


if __name__ == "__main__":
    main()
