"""Lab 7, scaling a loss: c * J has the same minimiser for every c > 0; for c < 0 it has none.

Data: the course's small regression (legacy NumPy seed 42: x ~ N(0, 1), y = 2x + 1 + 0.3 noise,
50 points); a linear model y = w x + b with the MSE cost J(w, b). For c in {0.1, 1, 10}, Adam
(lr 0.1 cosine-decayed to 0 over 2000 steps; Adam's step does not depend on the gradient's scale)
minimises c * J; each minimiser is compared with least squares. With the *same* plain gradient
descent (lr 0.1), c scales the step: c = 10 diverges, c = 0.1 is ten times slower. The Hessian of
c * J at the least-squares point is c times (2 / n) A^T A: positive definite for c > 0 (a
minimum), negative definite for c < 0 (a maximum, so descent runs away: c = -1 diverges).
"""

from __future__ import annotations

import numpy as np

from .. import optim
from .._core import get
from ..models import Linear
from ._result import LabResult

SCALES = (0.1, 1.0, 10.0, -1.0)


def course_data():
    rs = np.random.RandomState(42)
    X = rs.randn(50)
    y = 2 * X + 1 + 0.3 * rs.randn(50)
    return X, y


def run(seed: int = 0) -> LabResult:
    X, y = course_data()
    model, loss = Linear(1), get("mse")

    def scaled(c):
        def fun(v):
            value, grads = model.value_and_grad(loss, X[:, None], y, params=model.unravel(v))
            return c * value, c * model.ravel(grads)
        return fun

    A = np.column_stack([X, np.ones_like(X)])
    ls = np.linalg.lstsq(A, y, rcond=None)[0]
    hess = 2.0 / len(y) * A.T @ A
    rows, paths = [], {}
    for c in SCALES:
        row = {"c": c, "hessian_eigenvalues": np.linalg.eigvalsh(c * hess).tolist()}
        row["stationary_point"] = "minimum" if c > 0 else "maximum"
        if c > 0:
            path = optim.minimize(scaled(c), (0.0, 0.0),
                                  optim.Adam(optim.CosineDecay(0.1, t_max=2000)), steps=2000)
            row["adam_minimiser"] = path.points[-1].tolist()
            row["distance_to_least_squares"] = float(np.linalg.norm(path.points[-1] - ls))
        gd = optim.minimize(scaled(c), (0.0, 0.0), optim.GradientDescent(0.1), steps=300)
        row["gd_lr0.1_steps_to_1e-6"] = gd.steps_within(ls, 1e-6)
        row["gd_lr0.1"] = gd.message
        row["gd_diverged_at"] = gd.diverged_at
        paths[c] = gd
        rows.append(row)
    by = {r["c"]: r for r in rows}
    worst = max(r["distance_to_least_squares"] for r in rows if r["c"] > 0)
    claims = [
        f"Adam minimises c * J to the least-squares line (w, b) = ({ls[0]:.4f}, {ls[1]:.4f}) for "
        f"c = 0.1, 1 and 10: the largest distance is {worst:.1e}.",
        f"The Hessian of c * J has eigenvalues {np.round(by[1.0]['hessian_eigenvalues'], 3).tolist()}"
        f" times c: at c = -1 they are {np.round(by[-1.0]['hessian_eigenvalues'], 3).tolist()}, so "
        "the same point becomes a maximum.",
        f"Plain gradient descent with lr 0.1 reaches within 1e-6 of the minimiser in "
        f"{by[1.0]['gd_lr0.1_steps_to_1e-6']} steps at c = 1 and "
        f"{by[0.1]['gd_lr0.1_steps_to_1e-6'] if by[0.1]['gd_lr0.1_steps_to_1e-6'] is not None else 'more than 300'}"
        f" at c = 0.1; at c = 10 it {by[10.0]['gd_lr0.1']}; at c = -1 it {by[-1.0]['gd_lr0.1']}: "
        "the learning rate absorbs a positive constant, not a negative one.",
    ]
    numbers = {"least_squares": ls.tolist(), "scales": rows}
    return LabResult("scaling", "Scaling a loss by c", seed, numbers, {"scales": rows}, claims,
                     {"data": "course regression, seed 42, 50 points", "model": "Linear(1)"},
                     {"data": (X, y), "least_squares": ls,
                      "gd_paths": {c: p.points for c, p in paths.items()}}, _draw)


def _draw(result):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 4.5), layout="constrained")
    ax0, ax1 = fig.subplots(1, 2)
    X, y = result.curves["data"]
    w_star, b_star = result.curves["least_squares"]
    w = np.linspace(w_star - 2, w_star + 2, 401)
    J = np.mean((np.outer(w, X) + b_star - y) ** 2, axis=1)
    for c in SCALES:  # the scales the lab runs and its text names
        ax0.plot(w, c * J, label=f"c = {c:g}")
        k = int(np.argmin(c * J))
        ax0.plot(w[k], c * J[k], "ko", ms=4)
    ax0.axvline(w_star, color="gray", ls=":", lw=1)
    # c spans 0.1 to 10 and -1: a symmetric log axis keeps every curve's shape visible; ticks
    # at 0 and at powers of ten outside the linear band (inside it their labels overlap)
    lin = 0.1 * float(np.min(J))
    ax0.set_yscale("symlog", linthresh=lin)
    top = max(abs(c) for c in SCALES) * float(np.max(J))
    powers = 10.0 ** np.arange(np.ceil(np.log10(lin * 10)), np.ceil(np.log10(top)) + 1)
    ax0.set_yticks(np.concatenate([-powers[::-1], [0.0], powers]))
    ax0.set_xlabel("w (b at its least-squares value)")
    ax0.set_ylabel("c * J(w) (symmetric log scale)")
    ax0.set_title("c * J: dots mark each curve's lowest point on the grid")
    ax0.legend(fontsize=8)
    for c, pts in result.curves["gd_paths"].items():
        ax1.semilogy(np.linalg.norm(pts - result.curves["least_squares"], axis=1) + 1e-16,
                     label=f"c = {c:g}")
    ax1.set_xlabel("gradient-descent step (lr 0.1)")
    ax1.set_ylabel("distance to the least-squares point")
    ax1.set_title("Same learning rate, scaled loss")
    ax1.legend(fontsize=8)
    return fig
