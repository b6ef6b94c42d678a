"""Time losslab's exact linear solvers against scikit-learn's dedicated ones, in the same run.

On n = 100,000 samples and d = 20 features (``--n``, ``--d``), each pair fits the same objective:

* ``LossClassifier()`` (bce on logits, Newton) against ``LogisticRegression(C=inf)`` (lbfgs);
* ``LossClassifier()`` on 5 classes (sparse_cce, Newton) against the multinomial
  ``LogisticRegression(C=inf)``;
* ``LossRegressor("poisson_nll")`` (Newton) against ``PoissonRegressor(alpha=0)`` (lbfgs);
* ``LossRegressor("quantile", quantile=0.8)`` (HiGHS, dual LP) against
  ``QuantileRegressor(alpha=0, solver="highs")`` (primal LP); on ``--n-lp`` samples (default
  20,000: scikit-learn's primal takes minutes at 100,000).
* ``LossRegressor("huber")`` (Newton) against ``HuberRegressor(alpha=0)`` (lbfgs; its objective
  also fits a scale, so only the time is comparable).

scikit-learn runs with its default tolerances; losslab with its own (the objective exact to 1e-10
relative). Each line prints both times, the ratio (scikit-learn time / losslab time: above 1 means
losslab is faster), and the training objective J at both solutions (lower is better).
Times are medians of ``--repeat`` fits.
Usage: python benchmarks/bench_solvers.py [--n 100000] [--d 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import (HuberRegressor, LogisticRegression, PoissonRegressor,
                                  QuantileRegressor)

from losslab.estimators import LossClassifier, LossRegressor
from losslab.solvers import linear_objective


def _timed(fit, repeat):
    times, model = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        model = fit()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--n-lp", type=int, default=20_000)
    ap.add_argument("--d", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n, d = args.n, args.d
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 3.0, size=d)
    beta = rng.normal(size=d) / np.sqrt(d)
    z = X @ beta
    y_bin = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    logits = X[:, :5] * 0.8
    y_cls = (logits + rng.gumbel(size=(n, 5))).argmax(axis=1)
    y_count = rng.poisson(np.exp(0.3 * z / max(1.0, z.std()) + 1.0)).astype(float)
    y_reg = z + rng.standard_t(2, size=n)
    m = args.n_lp
    cases = [
        ("binary cross-entropy", LossClassifier, {}, LogisticRegression, {"C": np.inf},
         X, y_bin),
        ("multinomial (5 classes)", LossClassifier, {}, LogisticRegression, {"C": np.inf},
         X, y_cls),
        ("poisson", LossRegressor, {"loss": "poisson_nll"}, PoissonRegressor, {"alpha": 0.0},
         X, y_count),
        (f"quantile 0.8 (n={m})", LossRegressor, {"loss": "quantile",
                                                  "loss_params": {"quantile": 0.8}},
         QuantileRegressor, {"quantile": 0.8, "alpha": 0.0, "solver": "highs"}, X[:m], y_reg[:m]),
        ("huber (time only)", LossRegressor, {"loss": "huber"}, HuberRegressor, {"alpha": 0.0},
         X, y_reg),
    ]
    print(f"n={n}, d={d}; medians of {args.repeat} fits")
    print(f"{'problem':<26}{'losslab s':>11}{'sklearn s':>11}{'ratio':>8}"
          f"{'J losslab':>16}{'J sklearn':>16}")
    for label, ours_cls, ours_kw, ref_cls, ref_kw, Xc, yc in cases:
        t_ours, ours = _timed(lambda: ours_cls(**ours_kw).fit(Xc, yc), args.repeat)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", FutureWarning)
            t_ref, ref = _timed(lambda: ref_cls(**ref_kw).fit(Xc, yc), args.repeat)
        if label.startswith("huber"):
            j_ref = float("nan")
        else:
            coef = ref.coef_.T if ref.coef_.ndim == 2 and ref.coef_.shape[0] > 1 else ref.coef_.ravel()
            target = yc
            if label.startswith("binary"):
                target = yc.astype(float)
            j_ref = linear_objective(ours.loss_, Xc, target, coef, np.ravel(ref.intercept_))
        print(f"{label:<26}{t_ours:>11.3f}{t_ref:>11.3f}{t_ref / t_ours:>8.2f}"
              f"{ours.objective_:>16.10f}{j_ref:>16.10f}")


if __name__ == "__main__":
    main()
