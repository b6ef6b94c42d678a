"""Lab 6, optimisers: every optimiser on four problems, with steps to tolerance and divergence.

Problems (f, its gradient, a start, a tolerance):

* ``linear regression``: MSE on 200 samples, 5 standardised features (scikit-learn's
  ``make_regression``, noise 10), a linear model from zero; batch, stochastic (batch size 1) and
  mini-batch (32) gradient descent at one learning rate (0.05), and every other optimiser
  full-batch at a fixed learning rate. Tolerance: training cost within 1e-3 (relative) of the
  least-squares minimum, counted in updates. At a constant learning rate stochastic and mini-batch
  descent settle into a noise floor above it.
* ``ill-conditioned quadratic``: f = (x^2 + 50 y^2) / 2 from (-8, 2), condition number 50;
  tolerance f <= 1e-8. Plain gradient descent converges only for lr < 2 / L = 0.04.
* ``saddle``: f = x^2 + (y^2 - 1)^2 / 4, a saddle at (0, 0) between minima at (0, +-1). From
  (1, 0) exactly, the gradient never leaves the line y = 0; from (1, 1e-6) it can; tolerance:
  within 0.01 of a minimum.
* ``rosenbrock``: f = (1 - x)^2 + 100 (y - x^2)^2 from (-1.2, 1); tolerance: within 1e-3 of (1, 1).

Each optimiser gets the learning rate, from a small grid per problem, that reaches the tolerance
in the fewest steps (its best showing); the grid and every run are in the JSON. AdamW's decoupled
weight decay (0.01) moves its fixed point off the minimum, which a tight tolerance can show.
"""

from __future__ import annotations

import numpy as np

from .. import optim
from .._core import get
from ..models import Linear
from ..training import train
from ._result import LabResult

EPOCHS_REGRESSION = 150
REGRESSION_TOL = 1e-3
OPTIMIZERS = ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")


def quadratic(v):
    x, y = v
    return 0.5 * (x * x + 50.0 * y * y), np.array([x, 50.0 * y])


def saddle(v):
    x, y = v
    return x * x + 0.25 * (y * y - 1.0) ** 2, np.array([2.0 * x, y * (y * y - 1.0)])


def rosenbrock(v):
    x, y = v
    return ((1 - x) ** 2 + 100.0 * (y - x * x) ** 2,
            np.array([-2.0 * (1 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)]))


PROBLEMS = {
    # name: (function, start, steps, learning-rate grid, "f" or point target, tolerance)
    "ill-conditioned quadratic": (quadratic, (-8.0, 2.0), 1000, (0.003, 0.01, 0.03, 0.1, 0.3),
                                  "f", 1e-8),
    "saddle": (saddle, (1.0, 1e-6), 2000, (0.01, 0.03, 0.1, 0.3), "minimum", 0.01),
    "rosenbrock": (rosenbrock, (-1.2, 1.0), 5000, (0.001, 0.003, 0.01, 0.03), "point", 1e-3),
}


def _reach(path, kind, tol):
    if kind == "f":
        return path.steps_to(tol)
    if kind == "point":
        return path.steps_within((1.0, 1.0), tol)
    a, b = path.steps_within((0.0, 1.0), tol), path.steps_within((0.0, -1.0), tol)
    hits = [h for h in (a, b) if h is not None]
    return min(hits) if hits else None


def _small_problems(seed):
    rows, paths = [], {}
    for pname, (fun, start, steps, grid, kind, tol) in PROBLEMS.items():
        for oname in OPTIMIZERS:
            best = None
            for lr in grid:
                path = optim.minimize(fun, start, optim.get(oname, lr=lr), steps=steps)
                hit = _reach(path, kind, tol)
                rows.append({"problem": pname, "optimizer": oname, "lr": lr, "steps_to_tol": hit,
                             "diverged_at": path.diverged_at, "final_value": path.values[-1]})
                key = (hit is None, hit if hit is not None else path.values[-1])
                if best is None or key < best[0]:
                    best = (key, lr, path)
            paths[(pname, oname)] = (best[1], best[2])
    # The saddle from exactly (1, 0): plain and momentum descent stall; gradient noise escapes.
    fun, _, steps, _, kind, tol = PROBLEMS["saddle"]
    for label, oname, noise in (("gd from (1, 0)", "gd", 0.0),
                                ("momentum from (1, 0)", "momentum", 0.0),
                                ("gd + noise 0.05 from (1, 0)", "gd", 0.05)):
        path = optim.minimize(fun, (1.0, 0.0), optim.get(oname, lr=0.1), steps=steps,
                              noise=noise, seed=seed)
        rows.append({"problem": "saddle, exact start", "optimizer": label, "lr": 0.1,
                     "steps_to_tol": _reach(path, kind, tol), "diverged_at": path.diverged_at,
                     "final_value": path.values[-1],
                     "final_distance_to_saddle": float(np.linalg.norm(path.points[-1]))})
        paths[("saddle, exact start", label)] = (0.1, path)
    # Divergence: gradient descent on the quadratic just below and above lr = 2 / L.
    for lr in (0.039, 0.041, 0.1):
        path = optim.minimize(quadratic, (-8.0, 2.0), optim.GradientDescent(lr), steps=1000)
        rows.append({"problem": "quadratic, lr near 2/L", "optimizer": "gd", "lr": lr,
                     "steps_to_tol": path.steps_to(1e-8), "diverged_at": path.diverged_at,
                     "final_value": path.values[-1], "message": path.message})
    return rows, paths


def _regression(seed):
    from sklearn.datasets import make_regression
    from sklearn.preprocessing import StandardScaler

    X, y = make_regression(200, 5, noise=10.0, random_state=seed)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    A = np.column_stack([X, np.ones(len(y))])
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    j_star = float(np.mean((A @ coef - y) ** 2))
    variants = [("batch gd", "gd", 0.05, None), ("stochastic gd", "gd", 0.05, 1),
                ("mini-batch gd", "gd", 0.05, 32)]
    variants += [(o, o, lr, None) for o, lr in (("momentum", 0.05), ("nesterov", 0.05),
                                                ("adagrad", 0.5), ("rmsprop", 0.01),
                                                ("adam", 0.05), ("adamw", 0.05))]
    rows, curves = [], {}
    for label, oname, lr, batch in variants:
        hist = train(Linear(5), get("mse"), X, y, optimizer=optim.get(oname, lr=lr), epochs=EPOCHS_REGRESSION,
                     batch_size=batch, seed=seed)
        excess = (np.asarray(hist.loss) - j_star) / j_star
        hit = np.flatnonzero(excess <= REGRESSION_TOL)
        steps_per_epoch = hist.steps // hist.epochs
        rows.append({"optimizer": label, "lr": lr, "batch_size": batch or len(y),
                     "epochs_to_tol": int(hit[0]) if hit.size else None,
                     "updates_to_tol": int(hit[0]) * steps_per_epoch if hit.size else None,
                     "final_relative_excess": float(excess[-1])})
        curves[label] = np.maximum(excess, 1e-16)
    return rows, curves, j_star


def run(seed: int = 0) -> LabResult:
    rows, paths = _small_problems(seed)
    reg_rows, reg_curves, j_star = _regression(seed)
    best = {}
    for (pname, oname), (lr, path) in paths.items():
        if pname in PROBLEMS:
            fun, start, steps, grid, kind, tol = PROBLEMS[pname]
            best.setdefault(pname, {})[oname] = {"lr": lr, "steps_to_tol": _reach(path, kind, tol)}
    numbers = {"best_learning_rate": best, "regression": {"least_squares_cost": j_star,
                                                          "runs": reg_rows}}

    def fmt(pname):
        parts = []
        for oname, r in sorted(best[pname].items(),
                               key=lambda kv: (kv[1]["steps_to_tol"] is None,
                                               kv[1]["steps_to_tol"] or 0)):
            s = r["steps_to_tol"]
            parts.append(f"{oname} {s if s is not None else 'not reached'}")
        return ", ".join(parts)

    exact = {r["optimizer"]: r for r in rows if r["problem"] == "saddle, exact start"}
    div = {r["lr"]: r for r in rows if r["problem"] == "quadratic, lr near 2/L"}
    reg = {r["optimizer"]: r for r in reg_rows}
    claims = [f"Steps to tolerance, best learning rate each, {p}: {fmt(p)}." for p in PROBLEMS]
    claims.append(
        f"From (1, 0) exactly, gradient descent ends {exact['gd from (1, 0)']['final_distance_to_saddle']:.1e}"
        f" from the saddle (stalled: the gradient has no y-component on y = 0), and so does "
        f"momentum ({exact['momentum from (1, 0)']['final_distance_to_saddle']:.1e}); with gradient "
        f"noise of 0.05 gradient descent reaches a minimum in "
        f"{exact['gd + noise 0.05 from (1, 0)']['steps_to_tol']} steps.")
    claims.append(
        f"On the quadratic (L = 50), gradient descent with lr 0.039 reaches f <= 1e-8 in "
        f"{div[0.039]['steps_to_tol']} steps; with lr 0.041 > 2 / L it "
        f"{div[0.041]['message']}; with lr 0.1 it {div[0.1]['message']}.")
    claims.append(
        f"Linear regression, updates to reach {REGRESSION_TOL:g} of the least-squares cost: " + ", ".join(
            f"{k} {v['updates_to_tol'] if v['updates_to_tol'] is not None else 'not reached'}"
            for k, v in reg.items())
        + f" (stochastic gd at a constant lr ends {reg['stochastic gd']['final_relative_excess']:.1e}"
          " above the minimum: its noise does not average out).")
    setup = {name: {"start": list(p[1]), "steps": p[2], "lr_grid": list(p[3]),
                    "tolerance": f"{p[4]} {p[5]:g}"} for name, p in PROBLEMS.items()}
    setup["regression"] = (f"make_regression(200, 5, noise=10), standardised; {EPOCHS_REGRESSION} "
                           "epochs; batch, stochastic and mini-batch gd at the same lr 0.05")
    return LabResult("optimizers", "Optimisers on regression, a bowl, a saddle and Rosenbrock",
                     seed, numbers, {"runs": rows, "regression": reg_rows}, claims, setup,
                     {"paths": paths, "regression": reg_curves}, _draw)


def _contour(ax, fun, xlim, ylim, levels, log=False):
    xs, ys = np.linspace(*xlim, 200), np.linspace(*ylim, 200)
    XX, YY = np.meshgrid(xs, ys, indexing="xy")
    ZZ = np.vectorize(lambda a, b: fun((a, b))[0])(XX, YY)
    ax.contour(XX, YY, np.log10(ZZ + 1e-12) if log else ZZ, levels=levels, cmap="viridis",
               linewidths=0.6)


def _draw(result):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 10), layout="constrained")
    axes = fig.subplots(2, 2)
    paths = result.curves["paths"]
    panels = [(axes[0, 0], "ill-conditioned quadratic", quadratic, (-9, 9), (-3, 3), 20, False,
               ("gd", "momentum", "adam")),
              (axes[0, 1], "rosenbrock", rosenbrock, (-1.6, 1.6), (-0.5, 1.6), 20, True,
               ("gd", "nesterov", "adam"))]
    for ax, pname, fun, xl, yl, lv, log, shown in panels:
        _contour(ax, fun, xl, yl, lv, log)
        for oname in shown:
            lr, path = paths[(pname, oname)]
            ax.plot(path.points[:, 0], path.points[:, 1], ".-", ms=2, lw=0.8,
                    label=f"{oname} (lr {lr:g})")
        ax.set_title(f"{pname}: paths")
        ax.legend(fontsize=8)
    ax = axes[1, 0]
    _contour(ax, saddle, (-1.2, 1.2), (-1.5, 1.5), 20)
    for key in (("saddle", "gd"), ("saddle", "momentum"), ("saddle, exact start", "gd from (1, 0)"),
                ("saddle, exact start", "gd + noise 0.05 from (1, 0)")):
        lr, path = paths[key]
        ax.plot(path.points[:, 0], path.points[:, 1], ".-", ms=2, lw=0.8,
                label=f"{key[1]} (lr {lr:g})" + (" from (1, 1e-6)" if key[0] == "saddle" else ""))
    ax.plot([0], [0], "rx", ms=10)
    ax.set_title("saddle x^2 + (y^2 - 1)^2 / 4: escape or stall")
    ax.legend(fontsize=7)
    ax = axes[1, 1]
    for label, curve in result.curves["regression"].items():
        ax.semilogy(curve, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("(J - J*) / J*")
    ax.set_title("linear regression: relative excess cost")
    ax.legend(fontsize=7)
    return fig
