"""Lab 1, outliers: one linear model trained with MSE, MAE and Huber on data with outliers.

Two data sets share the course's line y = 2x + 3 and noise:

* ``course``: the course's own data (legacy NumPy seed 42, 50 points on [0, 10], five outliers
  with offsets +15, -12, +18, -10, +20). Those offsets nearly cancel, so MSE is *not* pulled far
  from the true line (the course's printed fits were not converged).
* ``one-sided``: the same x and outlier positions with offsets +15, +12, +18, +10, +20 and fresh
  noise from ``seed``: outliers that do not cancel, where the losses part ways.

Convergence criterion: full-batch Adam from (0, 0), learning rate 0.1 decayed to 0 by a cosine
schedule over 3000 epochs. The trained parameters are compared with exact minimisers computed
independently (least squares for MSE; a linear programme, scikit-learn's QuantileRegressor with
HiGHS, for MAE; SciPy's BFGS on ``scipy.special.huber`` for Huber); ``gap`` is the distance.
"""

from __future__ import annotations

import numpy as np

from .. import optim
from .._core import get
from ..models import Linear
from ..training import train
from ._result import LabResult

TRUE_SLOPE, TRUE_INTERCEPT = 2.0, 3.0
OUTLIERS = np.array([10, 20, 30, 40, 45])
EPOCHS, LR = 3000, 0.1
LOSSES = {"MSE": ("mse", {}), "MAE": ("mae", {}), "Huber": ("huber", {"delta": 2.0})}


def course_data():
    """The course lab's data, exactly (NumPy's legacy generator with seed 42)."""
    rs = np.random.RandomState(42)
    X = np.linspace(0, 10, 50)
    y = 2 * X + 3 + rs.randn(50) * 1.5
    y[OUTLIERS] += np.array([15, -12, 18, -10, 20])
    return X, y


def one_sided_data(seed):
    rng = np.random.default_rng(seed)
    X = np.linspace(0, 10, 50)
    y = 2 * X + 3 + rng.normal(0.0, 1.5, size=50)
    y[OUTLIERS] += np.array([15, 12, 18, 10, 20])
    return X, y


def exact_minimiser(name, X, y, delta=2.0):
    """(slope, intercept) minimising the mean loss, by a solver independent of losslab."""
    A = np.column_stack([X, np.ones_like(X)])
    if name == "MSE":
        return np.linalg.lstsq(A, y, rcond=None)[0]
    if name == "MAE":
        from sklearn.linear_model import QuantileRegressor

        q = QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs").fit(X[:, None], y)
        return np.array([q.coef_[0], q.intercept_])
    from scipy.optimize import minimize
    from scipy.special import huber

    def f(theta):
        r = A @ theta - y
        return np.mean(huber(delta, r)), A.T @ np.clip(r, -delta, delta) / len(y)

    start = np.linalg.lstsq(A, y, rcond=None)[0]
    return minimize(f, start, jac=True, method="BFGS", options={"gtol": 1e-13}).x


def run(seed: int = 0) -> LabResult:
    datasets = {"course": course_data(), "one-sided": one_sided_data(seed)}
    clean = np.setdiff1d(np.arange(50), OUTLIERS)
    rows, numbers, curves = [], {}, {}
    for dname, (X, y) in datasets.items():
        true_line = TRUE_SLOPE * X + TRUE_INTERCEPT
        offsets = y[OUTLIERS] - true_line[OUTLIERS]
        numbers[dname] = {"outlier_offsets_sum": float(np.sum(offsets)),
                          "outlier_offsets_abs_sum": float(np.sum(np.abs(offsets)))}
        for lname, (key, params) in LOSSES.items():
            loss = get(key, **params)
            model = Linear(1)
            hist = train(model, loss, X[:, None], y, epochs=EPOCHS,
                         optimizer=optim.Adam(optim.CosineDecay(LR, t_max=EPOCHS)), seed=seed)
            slope, intercept = float(model.params["W"][0, 0]), float(model.params["b"][0])
            exact = exact_minimiser(lname, X, y, params.get("delta", 2.0))
            fit = slope * X + intercept
            j_star = float(loss(y, exact[0] * X + exact[1]))
            row = {
                "data": dname, "loss": lname, "slope": slope, "intercept": intercept,
                "distance_to_true_line": float(np.sqrt(np.mean((fit - true_line) ** 2))),
                "rmse_clean_points": float(np.sqrt(np.mean((fit[clean] - y[clean]) ** 2))),
                "exact_slope": float(exact[0]), "exact_intercept": float(exact[1]),
                "gap_to_exact": float(np.hypot(slope - exact[0], intercept - exact[1])),
                "final_cost": hist.loss[-1], "exact_cost": j_star,
            }
            rows.append(row)
            numbers[dname][lname] = {k: v for k, v in row.items() if k not in ("data", "loss")}
            curves[(dname, lname)] = np.maximum(np.asarray(hist.loss) - j_star, 1e-16)
    by = {(r["data"], r["loss"]): r for r in rows}
    c, o = "course", "one-sided"
    d = {k: by[k]["distance_to_true_line"] for k in by}
    worst_gap = max(r["gap_to_exact"] for r in rows)
    worst_cost = max(abs(r["final_cost"] - r["exact_cost"]) / r["exact_cost"] for r in rows)
    claims = [
        f"On the course's data the outliers' offsets from the true line sum to "
        f"{numbers[c]['outlier_offsets_sum']:+.1f} against {numbers[c]['outlier_offsets_abs_sum']:.1f}"
        f" in absolute value: they largely cancel, and MSE's line "
        f"(y = {by[c, 'MSE']['slope']:.3f}x + {by[c, 'MSE']['intercept']:.3f}) is "
        f"{d[c, 'MSE']:.3f} from the true line, against {d[c, 'MAE']:.3f} for MAE and "
        f"{d[c, 'Huber']:.3f} for Huber.",
        f"With one-sided outliers (offsets summing to {numbers[o]['outlier_offsets_sum']:+.1f}) "
        f"MSE's line is {d[o, 'MSE']:.3f} from the true line: "
        f"{d[o, 'MSE'] / d[o, 'MAE']:.1f}x MAE's {d[o, 'MAE']:.3f} and "
        f"{d[o, 'MSE'] / d[o, 'Huber']:.1f}x Huber's {d[o, 'Huber']:.3f}.",
        f"On the clean points MSE's RMSE is {by[o, 'MSE']['rmse_clean_points']:.3f}, MAE's "
        f"{by[o, 'MAE']['rmse_clean_points']:.3f}, Huber's {by[o, 'Huber']['rmse_clean_points']:.3f} "
        "(one-sided data).",
        f"Converged: every fit's cost is within {worst_cost:.1e} (relative) of the exact minimum, "
        f"and its (slope, intercept) within {worst_gap:.1e} of the exact minimiser.",
    ]
    setup = {"model": "Linear(1): y = w x + b, from w = b = 0",
             "optimizer": f"full-batch Adam, lr {LR} cosine-decayed to 0 over {EPOCHS} epochs",
             "convergence": "gap_to_exact: distance to the minimiser from an independent solver",
             "losses": {k: {"name": v[0], **v[1]} for k, v in LOSSES.items()},
             "true_line": "y = 2x + 3", "outlier_indices": OUTLIERS.tolist()}
    return LabResult("outliers", "Outliers: MSE vs MAE vs Huber", seed, numbers,
                     {"fits": rows}, claims, setup,
                     {"data": datasets, "curves": curves, "rows": rows}, _draw)


def _draw(result):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 8), layout="constrained")
    axes = fig.subplots(2, 2)
    colors = {"MSE": "tab:blue", "MAE": "tab:red", "Huber": "tab:green"}
    xs = np.linspace(0, 10, 100)
    for i, (dname, (X, y)) in enumerate(result.curves["data"].items()):
        ax = axes[i, 0]
        mask = np.zeros(len(X), bool)
        mask[OUTLIERS] = True
        ax.scatter(X[~mask], y[~mask], c="gray", s=14, alpha=0.6, label="data")
        ax.scatter(X[mask], y[mask], c="k", marker="x", s=60, label="outliers")
        for row in result.curves["rows"]:
            if row["data"] == dname:
                ax.plot(xs, row["slope"] * xs + row["intercept"], color=colors[row["loss"]],
                        label=f"{row['loss']}: {row['slope']:.3f}x + {row['intercept']:.3f}")
        ax.plot(xs, TRUE_SLOPE * xs + TRUE_INTERCEPT, "k--", lw=1, label="true: 2x + 3")
        ax.set_title(f"{dname} data: fitted lines")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.legend(fontsize=8)
        ax = axes[i, 1]
        for lname in LOSSES:
            ax.semilogy(result.curves["curves"][(dname, lname)], color=colors[lname], label=lname)
        ax.set_title(f"{dname} data: cost minus exact minimum")
        ax.set_xlabel("epoch")
        ax.set_ylabel("J(theta) - J*")
        ax.legend(fontsize=8)
    return fig
