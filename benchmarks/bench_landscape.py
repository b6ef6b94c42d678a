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
5. Scaling (``--scaling``): grids of about 20 s serial, on 2 local processes and on a Dask
   LocalCluster of 2 single-threaded workers, with the speed-up and the parallel efficiency
   (speed-up / 2), in the same run: the projected path of a linear model (NumPy on one core in
   a single process) and the first-layer path of an MLP (BLAS-bound: the serial run uses the
   machine's BLAS threads, each worker one). Also the per-task overhead (empty chunks of one
   point) and the cost of shipping the data to the workers, for the README's plan.

``speed-up`` = baseline time / losslab time (best of 5 and 20 runs for case 1, one run each
otherwise). Usage: python benchmarks/bench_landscape.py [--quick] [--scaling]
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
    ap.add_argument("--scaling", action="store_true", help="only the scaling rows (section 5)")
    args = ap.parse_args()
    if args.scaling:
        return scaling()
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


def scaling(workers=2):
    import pickle

    from threadpoolctl import threadpool_info

    from distributed import Client, LocalCluster

    rng = np.random.default_rng(0)
    blas = max((i.get("num_threads", 1) for i in threadpool_info()), default=1)
    print(f"scaling on {workers} workers; serial BLAS threads {blas}, workers 1 each")
    n, d = 60_000, 20
    X = rng.standard_normal((n, d))
    y = X[:, 0] + rng.standard_t(2, size=n)
    lin = models.Linear(d, seed=0)
    lin.params["W"] = rng.standard_normal((d, 1)) * 0.3
    Xm = rng.standard_normal((8_000, 20))
    ym = np.sin(Xm[:, 0]) + 0.1 * rng.standard_normal(8_000)
    mlp = models.MLP(20, (128, 128), seed=0)
    cases = [("projected: huber d=20, n=60,000, 241x241", lin, "huber", X, y,
              L.gaussian(lin, seed=1), np.linspace(-1, 1, 241)),
             ("first-layer: MLP 20-128-128, n=8,000, 61x61", mlp, "mse", Xm, ym,
              L.filter_normalized(mlp, seed=1), np.linspace(-1, 1, 61))]
    rows = []
    for label, model, loss, Xc, yc, plane, g in cases:  # serial and local processes first
        kw = dict(plane=plane, alpha=g, beta=g, chunk_bytes=4 * 2 ** 20)
        t_s, s_ls = _t(lambda: ll.landscape(model, loss, Xc, yc, **kw))
        t_p, p_ls = _t(lambda: ll.landscape(model, loss, Xc, yc, executor=workers, **kw))
        rows.append([label, kw, model, loss, Xc, yc, t_s, s_ls, t_p, p_ls])
    # then a Dask LocalCluster (its idle processes would otherwise share the two cores)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=50) as cluster, Client(cluster) as client:
        print(f"{'grid':<46}{'serial s':>10}{'pool s':>9}{'x':>6}{'eff':>6}{'dask s':>9}{'x':>6}"
              f"{'eff':>6}  identical")
        for label, kw, model, loss, Xc, yc, t_s, s_ls, t_p, p_ls in rows:
            t_d, d_ls = _t(lambda: ll.landscape(model, loss, Xc, yc, executor=client, **kw))
            same = np.array_equal(s_ls.values, p_ls.values) and np.array_equal(s_ls.values,
                                                                               d_ls.values)
            print(f"{label:<46}{t_s:>10.1f}{t_p:>9.1f}{t_s / t_p:>6.2f}{t_s / t_p / workers:>6.2f}"
                  f"{t_d:>9.1f}{t_s / t_d:>6.2f}{t_s / t_d / workers:>6.2f}  {same} "
                  f"({p_ls.meta['chunks']} chunks)")
        # per-task overhead: chunks of one point of a tiny problem
        small = models.Linear(2)
        Xs, ys = rng.standard_normal((10, 2)), rng.standard_normal(10)
        g = np.linspace(-1, 1, 20)
        kw = dict(plane=L.gaussian(small, seed=0), alpha=g, beta=g, chunk_bytes=1)
        ll.landscape(small, "huber", Xs, ys, executor=client, **kw)  # warm
        t, ls = _t(lambda: ll.landscape(small, "huber", Xs, ys, executor=client, **kw))
        print(f"per-task overhead (Dask, {ls.meta['chunks']} one-row chunks of 20 points): "
              f"{t / ls.meta['chunks'] * 1e3:.2f} ms per task")
        big = rng.standard_normal((2_000_000, 10))
        payload = len(pickle.dumps(big))
        t0 = time.perf_counter()
        f = client.scatter(big, broadcast=True)
        f.result()
        t = time.perf_counter() - t0
        print(f"shipping data: {payload / 2 ** 20:.0f} MiB broadcast to {workers} workers in "
              f"{t:.2f} s ({payload * workers / t / 2 ** 20:.0f} MiB/s)")


if __name__ == "__main__":
    main()
