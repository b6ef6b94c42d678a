"""Lab 2, imbalance: BCE, class-weighted BCE and focal loss on imbalanced binary problems.

Two problems from scikit-learn's ``make_classification`` (4000 samples, 8 features, 4
informative, one cluster per class, class_sep 0.4): 95/5 and 1:10 (positives : negatives). Each is split in half,
stratified; features are standardised with statistics of the training half only. One logistic
model per loss, trained on logits with full-batch Adam (lr 0.05, 300 epochs) from zero weights:

* BCE; class-weighted BCE with pos_weight = negatives / positives (of the training half);
* focal loss (Lin et al. 2017) with gamma in {0, 0.5, 1, 2, 5} and no alpha, so that gamma = 0
  is BCE and only the focusing term changes.

Held-out recall, precision and F1 at the model's own threshold (probability 0.5) and average
precision (threshold-free), all from scikit-learn; precision-recall curves.
"""

from __future__ import annotations

import numpy as np

from .. import optim
from .._core import get
from ..models import Logistic
from ..training import train
from ._result import LabResult

GAMMAS = (0.0, 0.5, 1.0, 2.0, 5.0)
PROBLEMS = {"95/5": 0.95, "1:10": 10 / 11}
EPOCHS, LR = 300, 0.05


def _problem(weight_negative, seed):
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = make_classification(4000, 8, n_informative=4, n_redundant=2, weights=[weight_negative],
                               class_sep=0.4, n_clusters_per_class=1, flip_y=0.0,
                               random_state=seed)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.5, stratify=y, random_state=seed)
    scaler = StandardScaler().fit(Xtr)
    return scaler.transform(Xtr), scaler.transform(Xte), ytr.astype(float), yte.astype(float)


def _losses(ytr):
    pos_weight = float(np.sum(ytr == 0) / np.sum(ytr == 1))
    out = {"BCE": get("bce", from_logits=True),
           "weighted BCE": get("bce", from_logits=True, pos_weight=pos_weight)}
    for g in GAMMAS:
        out[f"focal gamma={g:g}"] = get("focal", gamma=g, alpha=None, from_logits=True)
    return out, pos_weight


def run(seed: int = 0) -> LabResult:
    from sklearn.metrics import (average_precision_score, f1_score, precision_recall_curve,
                                 precision_score, recall_score)

    rows, numbers, curves = [], {}, {}
    for pname, wneg in PROBLEMS.items():
        Xtr, Xte, ytr, yte = _problem(wneg, seed)
        losses, pos_weight = _losses(ytr)
        numbers[pname] = {"n_train": len(ytr), "positives_train": int(ytr.sum()),
                          "positives_test": int(yte.sum()), "pos_weight": pos_weight}
        params = {}
        for lname, loss in losses.items():
            model = Logistic(Xtr.shape[1])
            train(model, loss, Xtr, ytr, optimizer=optim.Adam(LR), epochs=EPOCHS, seed=seed)
            params[lname] = model.ravel()
            scores = model.scores(Xte)
            pred = scores > 0
            row = {"problem": pname, "loss": lname,
                   "recall": recall_score(yte, pred, zero_division=0.0),
                   "precision": precision_score(yte, pred, zero_division=0.0),
                   "f1": f1_score(yte, pred, zero_division=0.0),
                   "average_precision": average_precision_score(yte, scores),
                   "predicted_positive_rate": float(np.mean(pred))}
            rows.append(row)
            numbers[pname][lname] = {k: float(v) for k, v in row.items()
                                     if k not in ("problem", "loss")}
            p, r, _ = precision_recall_curve(yte, scores)
            curves[(pname, lname)] = (r, p)
        numbers[pname]["focal0_vs_bce_max_param_diff"] = float(
            np.max(np.abs(params["focal gamma=0"] - params["BCE"])))
    claims = []
    for pname in PROBLEMS:
        n = numbers[pname]
        b, w = n["BCE"], n["weighted BCE"]
        best_focal = max((f"focal gamma={g:g}" for g in GAMMAS), key=lambda k: n[k]["recall"])
        aps = [n[k]["average_precision"] for k in n if isinstance(n[k], dict)]
        claims.append(
            f"{pname} ({n['positives_test']} positives in {len(yte)} held-out samples): BCE "
            f"recalls {b['recall']:.3f} of positives at precision {b['precision']:.3f}; weighted "
            f"BCE (pos_weight {n['pos_weight']:.1f}) recalls {w['recall']:.3f} at precision "
            f"{w['precision']:.3f}; the best focal loss for recall ({best_focal}) recalls "
            f"{n[best_focal]['recall']:.3f} at precision {n[best_focal]['precision']:.3f}.")
        claims.append(
            f"{pname}: average precision, which does not depend on the threshold, spans "
            f"{min(aps):.3f} to {max(aps):.3f} over the seven losses, while recall spans "
            f"{min(n[k]['recall'] for k in n if isinstance(n[k], dict)):.3f} to "
            f"{max(n[k]['recall'] for k in n if isinstance(n[k], dict)):.3f}.")
        claims.append(
            f"{pname}: focal loss with gamma = 0 is BCE: the trained weights differ by at most "
            f"{n['focal0_vs_bce_max_param_diff']:.1e}.")
    setup = {"data": "make_classification(4000, 8, n_informative=4, n_redundant=2, n_clusters_per_class=1, "
                     "class_sep=0.4), split 50/50 stratified, standardised on the training half",
             "model": "Logistic (logits), from zero weights",
             "optimizer": f"full-batch Adam, lr {LR}, {EPOCHS} epochs",
             "threshold": "probability 0.5 (logit 0)",
             "focal": "alpha=None, gamma in " + str(list(GAMMAS))}
    return LabResult("imbalance", "Imbalance: BCE vs weighted BCE vs focal loss", seed, numbers,
                     {"held_out": rows}, claims, setup, {"pr": curves}, _draw)


def _draw(result):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 9), layout="constrained")
    axes = fig.subplots(2, 2)
    shown = ("BCE", "weighted BCE", "focal gamma=2", "focal gamma=5")
    for i, pname in enumerate(PROBLEMS):
        ax = axes[0, i]
        for lname in shown:
            r, p = result.curves["pr"][(pname, lname)]
            ap = result.numbers[pname][lname]["average_precision"]
            ax.plot(r, p, label=f"{lname} (AP {ap:.3f})")
        ax.set_title(f"{pname}: precision-recall on held-out data")
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.legend(fontsize=8)
        ax = axes[1, i]
        rows = [r for r in result.tables["held_out"] if r["problem"] == pname]
        x = np.arange(len(rows))
        for j, metric in enumerate(("recall", "precision", "f1", "average_precision")):
            ax.bar(x + (j - 1.5) * 0.2, [r[metric] for r in rows], width=0.2, label=metric)
        ax.set_xticks(x, [r["loss"].replace("focal gamma=", "focal γ=") for r in rows],
                      rotation=30, fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(f"{pname}: held-out metrics at probability 0.5")
        ax.legend(fontsize=8, ncols=4)
    return fig
