"""Lab 8, leakage: a scaler fitted before the train/test split against one fitted after it.

Fitting a preprocessing step on all the data lets the test set's statistics into training. Here
the step is ``StandardScaler`` and the model a ridge-penalised linear ``LossRegressor`` (MSE,
alpha 0.1, solved to its optimum by Newton's method; the target in hundreds), so the scaling
changes what is learnt: the penalty acts on the scaled weights. Two settings, each repeated over 10 splits drawn from ``seed``:

* ``iid``: scikit-learn's ``make_regression`` (400 samples, 10 features, noise 20) with feature
  scales from 1 to 1000, random 70/30 splits;
* ``drift``: the same, but features drift upwards over time (the target stays the same linear
  function of them) and the test set is the last 30 % (a forecasting split): the scaler fitted on
  everything has seen the future's means.

Reported: held-out R^2 and RMSE (scikit-learn) for the leaky and the correct pipeline, the gap
(leaky minus correct) with its mean and standard deviation over the splits, and how far the leaky
scaler's means moved, in training standard deviations. The gap can have either sign: leakage
makes an evaluation untrustworthy, not necessarily flattering.
"""

from __future__ import annotations

import numpy as np

from ._result import LabResult

REPEATS, N, TEST = 10, 400, 0.3


def _data(setting, rng):
    from sklearn.datasets import make_regression

    X, y, coef = make_regression(N, 10, noise=20.0, coef=True,
                                 random_state=int(rng.integers(2 ** 31)))
    if setting == "drift":
        t = np.linspace(0.0, 1.0, N)[:, None]
        drifted = X + 3.0 * t * rng.uniform(0.5, 1.5, size=10)  # features drift with time
        y = y + (drifted - X) @ coef  # the target stays the same linear function of them
        X = drifted
    return X * np.logspace(0, 3, 10), y / 100.0  # a fixed unit change, not a data statistic


def _split(setting, rng):
    idx = np.arange(N)
    n_test = int(TEST * N)
    if setting == "drift":
        return idx[:-n_test], idx[-n_test:]
    perm = rng.permutation(N)
    return perm[n_test:], perm[:n_test]


def run(seed: int = 0) -> LabResult:
    from sklearn.metrics import r2_score, root_mean_squared_error
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ..estimators import LossRegressor

    def model(rs):
        return LossRegressor("mse", alpha=0.1, random_state=rs)

    rng = np.random.default_rng(seed)
    rows, numbers = [], {}
    for setting in ("iid", "drift"):
        for rep in range(REPEATS):
            X, y = _data(setting, rng)
            tr, te = _split(setting, rng)
            leaky_scaler = StandardScaler().fit(X)  # before the split: sees the test rows
            leaky = model(rep).fit(leaky_scaler.transform(X[tr]), y[tr])
            pred_leaky = leaky.predict(leaky_scaler.transform(X[te]))
            proper = make_pipeline(StandardScaler(), model(rep)).fit(X[tr], y[tr])
            pred = proper.predict(X[te])
            shift = np.abs(leaky_scaler.mean_ - proper[0].mean_) / proper[0].scale_
            rows.append({"setting": setting, "split": rep,
                         "r2_leaky": r2_score(y[te], pred_leaky), "r2_correct": r2_score(y[te], pred),
                         "rmse_leaky": root_mean_squared_error(y[te], pred_leaky),
                         "rmse_correct": root_mean_squared_error(y[te], pred),
                         "scaler_mean_shift_in_sd": float(np.mean(shift))})
        sel = [r for r in rows if r["setting"] == setting]
        gap = np.array([r["r2_leaky"] - r["r2_correct"] for r in sel])
        rgap = np.array([r["rmse_leaky"] - r["rmse_correct"] for r in sel])
        numbers[setting] = {
            "r2_leaky_mean": float(np.mean([r["r2_leaky"] for r in sel])),
            "r2_correct_mean": float(np.mean([r["r2_correct"] for r in sel])),
            "r2_gap_mean": float(gap.mean()), "r2_gap_sd": float(gap.std(ddof=1)),
            "rmse_gap_mean": float(rgap.mean()), "rmse_gap_sd": float(rgap.std(ddof=1)),
            "leaky_better_in": int(np.sum(gap > 0)),
            "scaler_mean_shift_in_sd": float(np.mean([r["scaler_mean_shift_in_sd"] for r in sel])),
        }
    claims = []
    for setting, n in numbers.items():
        se = n["r2_gap_sd"] / np.sqrt(REPEATS)
        verdict = ("within noise" if abs(n["r2_gap_mean"]) < 2 * se else
                   ("the leaky pipeline looks better" if n["r2_gap_mean"] > 0 else
                    "the leaky pipeline does worse"))
        claims.append(
            f"{setting}: held-out R^2 {n['r2_leaky_mean']:.4f} with the scaler fitted before the "
            f"split against {n['r2_correct_mean']:.4f} after it; gap {n['r2_gap_mean']:+.4f} "
            f"(sd {n['r2_gap_sd']:.4f} over {REPEATS} splits, {verdict}); the leaky scaler's "
            f"means moved by {n['scaler_mean_shift_in_sd']:.3f} training standard deviations.")
    setup = {"model": "StandardScaler + LossRegressor(mse, alpha=0.1, exact Newton solve)",
             "iid": "make_regression(400, 10, noise=20), feature scales 1 to 1000, random 70/30",
             "drift": "features drift upwards with time; test = last 30 %",
             "repeats": REPEATS}
    return LabResult("leakage", "Leakage: scaling before or after the split", seed, numbers,
                     {"splits": rows}, claims, setup, {}, _draw)


def _draw(result):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 4.5), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, setting in zip(axes, ("iid", "drift")):
        sel = [r for r in result.tables["splits"] if r["setting"] == setting]
        a = [r["r2_correct"] for r in sel]
        b = [r["r2_leaky"] for r in sel]
        ax.scatter(a, b, s=18)
        lo, hi = min(a + b), max(a + b)
        ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="equal")
        n = result.numbers[setting]
        ax.set_title(f"{setting}: gap {n['r2_gap_mean']:+.4f} (sd {n['r2_gap_sd']:.4f})")
        ax.set_xlabel("held-out R^2, scaler fitted after the split")
        ax.set_ylabel("held-out R^2, scaler fitted before the split")
        ax.legend(fontsize=8)
    return fig
