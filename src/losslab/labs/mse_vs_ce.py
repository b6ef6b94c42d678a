"""Lab 4, MSE against cross-entropy for a sigmoid classifier.

With p = sigmoid(z) and a positive label, the gradient with respect to the logit is
2 (p - 1) p (1 - p) for sigmoid + MSE and p - 1 for sigmoid + BCE. When the model is confidently
wrong (z << 0) the first vanishes like e^z while the second tends to -1: MSE's model barely moves.

Here both gradients come from the losses themselves (``mse.gradient`` through the sigmoid's
derivative, ``bce(from_logits=True).gradient``), on a grid of logits; then the same logistic model
is trained both ways from the same confidently wrong start (weights -4 (1, 1) / sqrt 2 on two
blobs centred at -(1.5, 1.5) and +(1.5, 1.5), from scikit-learn's ``make_blobs``), with the same
full-batch gradient descent (lr 1.0, 400 epochs). Reported: accuracy and cost per epoch, the
epochs each needs to reach 95 % training accuracy, and the gradient norm at the start.
"""

from __future__ import annotations

import numpy as np

from .. import optim
from .._core import numerics as N
from .._core import get
from ..models import Logistic
from ..training import train
from ._result import LabResult

LOGITS = (-10.0, -5.0, -2.0, 0.0, 2.0, 5.0)
EPOCHS, LR = 400, 1.0


def logit_gradients(z):
    """d loss / d z for a positive label: (MSE through the sigmoid, BCE on the logit)."""
    z = np.asarray(z, dtype=np.float64)
    p, q = N.sigmoid_pair(np, z)
    ones = np.ones_like(z)
    g_mse = get("mse").gradient(ones, p, reduction="none") * p * q
    g_bce = get("bce", from_logits=True).gradient(ones, z, reduction="none")
    return g_mse, g_bce


def run(seed: int = 0) -> LabResult:
    from sklearn.datasets import make_blobs

    g_mse, g_bce = logit_gradients(LOGITS)
    table = [{"logit": z, "p": float(N.sigmoid_pair(np, np.float64(z))[0]),
              "grad_sigmoid_mse": float(a), "grad_sigmoid_bce": float(b),
              "ratio_bce_to_mse": float(b / a)} for z, a, b in zip(LOGITS, g_mse, g_bce)]
    X, y = make_blobs(400, centers=[(-1.5, -1.5), (1.5, 1.5)], cluster_std=1.0,
                      random_state=seed)
    y = y.astype(float)
    start = {"W": np.full((2, 1), -4.0 / np.sqrt(2.0)), "b": np.zeros(1)}
    runs = {}
    for name, model, loss in (
            ("sigmoid + MSE", Logistic(2, output="sigmoid"), get("mse")),
            ("sigmoid + BCE", Logistic(2), get("bce", from_logits=True))):
        model.params = {k: v.copy() for k, v in start.items()}
        _, g0 = model.value_and_grad(loss, X, y)
        hist = train(model, loss, X, y, optimizer=optim.GradientDescent(LR), epochs=EPOCHS,
                     metrics=("accuracy",), seed=seed)
        acc = np.asarray(hist.metrics["accuracy"])
        reached = np.flatnonzero(acc >= 0.95)
        runs[name] = {"initial_accuracy": float(acc[0]), "final_accuracy": float(acc[-1]),
                      "epochs_to_95": int(reached[0]) if reached.size else None,
                      "initial_gradient_norm": float(np.sqrt(sum(np.sum(v ** 2)
                                                                 for v in g0.values()))),
                      "cost": hist.loss, "accuracy": acc.tolist()}
    m, b = runs["sigmoid + MSE"], runs["sigmoid + BCE"]
    t10 = next(r for r in table if r["logit"] == -10.0)

    def epochs(r):
        return f"{r['epochs_to_95']} epochs" if r["epochs_to_95"] is not None else \
            f"not within {EPOCHS} epochs"

    claims = [
        f"At logit -10 with label 1 (p = {t10['p']:.1e}, confidently wrong) the gradient is "
        f"{t10['grad_sigmoid_mse']:.2e} for sigmoid + MSE and {t10['grad_sigmoid_bce']:.4f} for "
        f"sigmoid + BCE: {t10['ratio_bce_to_mse']:.0f} times larger.",
        f"From the same confidently wrong start (training accuracy {m['initial_accuracy']:.1%}), "
        f"the gradient norm is {m['initial_gradient_norm']:.2e} with MSE and "
        f"{b['initial_gradient_norm']:.2e} with BCE.",
        f"Gradient descent (lr {LR:g}) reaches 95% accuracy in {epochs(b)} with BCE and "
        f"{epochs(m)} with MSE; after {EPOCHS} epochs: {b['final_accuracy']:.1%} against "
        f"{m['final_accuracy']:.1%}.",
    ]
    numbers = {"gradients": table, "training": {k: {kk: vv for kk, vv in v.items()
                                                    if kk not in ("cost", "accuracy")}
                                                for k, v in runs.items()}}
    setup = {"data": "make_blobs(400, centers=[(-1.5, -1.5), (1.5, 1.5)], cluster_std=1)",
             "start": "W = -4 (1, 1) / sqrt(2), b = 0 (confidently wrong)",
             "optimizer": f"full-batch gradient descent, lr {LR}, {EPOCHS} epochs"}
    curves = {"runs": runs}
    return LabResult("mse_vs_ce", "Sigmoid + MSE against sigmoid + cross-entropy", seed,
                     numbers, {"logit_gradients": table}, claims, setup, curves, _draw)


def _draw(result):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(15, 4.5), layout="constrained")
    ax0, ax1, ax2 = fig.subplots(1, 3)
    z = np.linspace(-10, 10, 401)
    g_mse, g_bce = logit_gradients(z)
    ax0.plot(z, np.abs(g_mse), label="|d/dz| sigmoid + MSE")
    ax0.plot(z, np.abs(g_bce), label="|d/dz| sigmoid + BCE")
    ax0.set_yscale("log")
    ax0.set_xlabel("logit z (label 1)")
    ax0.set_title("Gradient with respect to the logit")
    ax0.legend(fontsize=8)
    for name, r in result.curves["runs"].items():
        ax1.plot(r["accuracy"], label=name)
        ax2.plot(r["cost"], label=name)
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("training accuracy")
    ax1.set_title("Accuracy from a confidently wrong start")
    ax1.legend(fontsize=8)
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("cost (each its own loss)")
    ax2.set_yscale("log")
    ax2.set_title("Training cost")
    ax2.legend(fontsize=8)
    return fig
