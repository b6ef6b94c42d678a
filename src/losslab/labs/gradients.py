"""Lab 5, gradients: the course's gradient table and the curves behind it.

* MSE (e^2), MAE (|e|) and Huber (delta = 1) and their derivatives with respect to the prediction
  at errors e = y_pred - y_true from -3 to 3, computed by the losses (``reduction="none"``).
  MSE's gradient grows with the error, MAE's is its sign (0 at 0, the subgradient losslab
  documents), Huber's is the error clipped to [-delta, delta].
* Focal loss -(1 - p_t)^gamma log p_t against the probability of the true class p_t for gamma in
  {0, 0.5, 1, 2, 5}, and the factor by which it down-weights an example relative to BCE.
"""

from __future__ import annotations

import numpy as np

from .._core import get
from ._result import LabResult

ERRORS = tuple(float(e) for e in np.arange(-3.0, 3.5, 0.5))
GAMMAS = (0.0, 0.5, 1.0, 2.0, 5.0)
P_TRUE = (0.1, 0.5, 0.9, 0.95, 0.99)
LOSSES = {"MSE": ("mse", {}), "MAE": ("mae", {}), "Huber(delta=1)": ("huber", {"delta": 1.0})}


def _curves(errors):
    e = np.asarray(errors, dtype=np.float64)
    zeros = np.zeros_like(e)
    out = {}
    for label, (name, params) in LOSSES.items():
        loss = get(name, **params)
        out[label] = (loss(zeros, e, reduction="none"), loss.gradient(zeros, e, reduction="none"))
    return out


def focal_values(p_true, gamma):
    """Focal loss of a positive example predicted with probability p_true (alpha = None)."""
    p = np.asarray(p_true, dtype=np.float64)
    return get("focal", gamma=gamma, alpha=None)(np.ones_like(p), p, reduction="none")


def run(seed: int = 0) -> LabResult:
    curves = _curves(ERRORS)
    table = []
    for i, e in enumerate(ERRORS):
        row = {"error": e}
        for label, (v, g) in curves.items():
            row[f"{label} loss"] = float(v[i])
            row[f"{label} gradient"] = float(g[i])
        table.append(row)
    focal = []
    bce = focal_values(P_TRUE, 0.0)
    for gamma in GAMMAS:
        vals = focal_values(P_TRUE, gamma)
        for p, v, b in zip(P_TRUE, vals, bce):
            focal.append({"gamma": gamma, "p_t": p, "focal": float(v),
                          "down_weighting_vs_bce": float(b / v)})
    at = {(r["gamma"], r["p_t"]): r for r in focal}
    g3 = {label: float(g[ERRORS.index(3.0)]) for label, (_, g) in curves.items()}
    claims = [
        f"At error 3 the gradient is {g3['MSE']:g} for MSE, {g3['MAE']:g} for MAE and "
        f"{g3['Huber(delta=1)']:g} for Huber(delta=1): a large error pulls MSE "
        f"{g3['MSE'] / g3['MAE']:g} times harder than MAE.",
        f"At error 0.5 Huber's gradient equals the error ({table[ERRORS.index(0.5)]['Huber(delta=1) gradient']:g}),"
        f" half of MSE's ({table[ERRORS.index(0.5)]['MSE gradient']:g}): Huber is e^2 / 2 inside delta.",
        "Focal loss at p_t = 0.95: " + ", ".join(
            f"gamma {g:g}: {at[(g, 0.95)]['focal']:.3g}" for g in GAMMAS)
        + f"; with gamma = 2 an easy example (p_t = 0.99) weighs "
          f"{at[(2.0, 0.99)]['down_weighting_vs_bce']:.0f} times less than under BCE, a hard one "
          f"(p_t = 0.1) {at[(2.0, 0.1)]['down_weighting_vs_bce']:.2f} times less.",
    ]
    return LabResult("gradients", "Gradients of MSE, MAE, Huber; focal loss against p_t", seed,
                     {"table": table, "focal": focal}, {"gradients": table, "focal": focal},
                     claims, {"errors": list(ERRORS), "focal": "alpha=None"}, {}, _draw)


def _draw(result):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(15, 4.5), layout="constrained")
    ax0, ax1, ax2 = fig.subplots(1, 3)
    e = np.linspace(-3, 3, 601)
    for label, (v, g) in _curves(e).items():
        ax0.plot(e, v, label=label)
        ax1.plot(e, g, label=label)
    table = result.tables["gradients"]
    for label in LOSSES:
        ax1.plot([r["error"] for r in table], [r[f"{label} gradient"] for r in table], "k.", ms=4)
    ax0.set_title("Loss against the error y_pred - y_true")
    ax1.set_title("Gradient d loss / d y_pred (dots: the table)")
    for ax in (ax0, ax1):
        ax.set_xlabel("error")
        ax.legend(fontsize=8)
    p = np.linspace(0.01, 1.0, 400)
    for gamma in GAMMAS:
        ax2.plot(p, focal_values(p, gamma), label=f"gamma = {gamma:g}")
    ax2.set_xlabel("p_t (probability of the true class)")
    ax2.set_ylabel("focal loss")
    ax2.set_title("Focal loss against p_t")
    ax2.legend(fontsize=8)
    return fig
