"""Reading the target as a person would: the task, the statistics the decision guide uses, and
the course's decision guide itself.

Task detection (``detect_task``), in order:

* text or boolean labels: two values are binary, more are multiclass;
* numbers with exactly two distinct values: binary;
* whole numbers with at most ``MAX_CLASSES`` (20) distinct values: multiclass (class codes; pass
  ``task="regression"`` for small counts);
* anything else (fractions, or many distinct values such as diabetes' 214 integer-valued
  targets): regression.

Inspection (each statistic is named in the output):

* regression: statistics of the residuals of a least-squares fit on the (standardised) features,
  so that signal is not mistaken for tails. Robust scale = 1.4826 MAD. Outlier share: residuals
  with a modified z-score |0.6745 (r - median) / MAD| > 3.5 (Iglewicz & Hoaglin). Tail ratio:
  (q99 - q1) / (q75 - q25) divided by its Gaussian value 3.449 (1 for Gaussian noise; heavy
  tails above 1.5);
* classification: class counts and the minority share (imbalanced below 20 % for two classes,
  or a majority / minority ratio above 4);
* costs: under-prediction against over-prediction (regression), or a missed positive against a
  false alarm (binary), when given.
"""

from __future__ import annotations

import numpy as np

from ._table import TableError

__all__ = ["MAX_CLASSES", "detect_task", "inspect_target", "decision_guide"]

MAX_CLASSES = 20


def detect_task(y) -> tuple[str, str]:
    """(task, why): see the module docstring."""
    y = np.asarray(y)
    values = np.unique(y)
    k = len(values)
    if y.dtype.kind not in "iuf":
        kind = "boolean" if y.dtype.kind == "b" else "text"
        return ("binary" if k == 2 else "multiclass"), f"{kind} labels with {k} distinct values"
    if k == 2:
        return "binary", "two distinct values"
    whole = bool(np.all(np.isfinite(values)) and np.all(values == np.round(values)))
    if whole and k <= MAX_CLASSES:
        return "multiclass", (f"whole numbers with {k} distinct values (at most {MAX_CLASSES}: "
                              "read as class codes; pass task='regression' for counts)")
    what = "whole numbers" if whole else "numbers with fractions"
    return "regression", f"{what} with {k} distinct values"


def inspect_target(X, y, task="auto", cost_under=None, cost_over=None) -> dict:
    """What the target looks like (see the module docstring for each statistic)."""
    detected, why = detect_task(y)
    if task == "auto":
        task = detected
    out = {"task": task, "detected_task": detected, "detected_because": why, "rows": int(len(y)),
           "features": int(np.shape(X)[1]), "costs": None}
    if cost_under is not None or cost_over is not None:
        if cost_under is None or cost_over is None:
            raise TableError("give both cost_under and cost_over, or neither")
        out["costs"] = {"under": float(cost_under), "over": float(cost_over),
                        "ratio": float(cost_under) / float(cost_over)}
    if task == "regression":
        if np.asarray(y).dtype.kind not in "biuf":
            raise TableError("a regression target must be numeric; for class labels use "
                             "task='binary' or 'multiclass'")
        yv = np.asarray(y, dtype=np.float64)
        Xs = (X - X.mean(axis=0)) / np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
        A = np.column_stack([Xs, np.ones(len(yv))])
        coef, _, rank, _ = np.linalg.lstsq(A, yv, rcond=None)
        if len(yv) - rank >= len(yv) / 2:
            r = yv - A @ coef
            out["residuals_of"] = "a least-squares fit on the features"
        else:
            # with rank(A) close to the rows (more features than rows) the fit interpolates:
            # its residuals (~1e-14) say nothing about the noise, so read the target itself
            r = yv - np.median(yv)
            out["residuals_of"] = (f"the target's median: {int(rank)} independent features for "
                                   f"{len(yv)} rows would fit the noise, leaving residuals of "
                                   "zero")
        med = float(np.median(r))
        mad = float(np.median(np.abs(r - med)))
        q = np.quantile(r, [0.01, 0.25, 0.75, 0.99])
        iqr = float(q[2] - q[1])
        mz = 0.6745 * (r - med) / mad if mad > 0 else np.zeros_like(r)
        out.update({
            "residual_robust_scale": 1.4826 * mad,
            "residual_std": float(np.std(r)),
            "outlier_share": float(np.mean(np.abs(mz) > 3.5)),
            "tail_ratio": float((q[3] - q[0]) / iqr / 3.449) if iqr > 0 else float("inf"),
            "skew_quartile": float((q[2] + q[1] - 2 * med) / iqr) if iqr > 0 else 0.0,
            "target_median": float(np.median(yv)),
            "target_iqr": float(np.subtract(*np.quantile(yv, [0.75, 0.25]))),
        })
        out["heavy_tailed"] = bool(out["outlier_share"] > 0.01 or out["tail_ratio"] > 1.5)
    else:
        values, counts = np.unique(y, return_counts=True)
        out["classes"] = {label_text(v): int(c) for v, c in zip(values, counts)}
        out["minority_share"] = float(counts.min() / counts.sum())
        out["imbalance_ratio"] = float(counts.max() / counts.min())
        out["imbalanced"] = bool(out["minority_share"] < 0.2 if len(values) == 2
                                 else out["imbalance_ratio"] > 4)
    return out


def label_text(v) -> str:
    """A class label as a person wrote it: class codes read as 1.0 are shown as 1."""
    v = v.item() if hasattr(v, "item") else v
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def decision_guide(info: dict) -> dict:
    """The course's decision tree for this situation: the losses it suggests, and why (each
    reason a sentence)."""
    guide = _guide(info)
    guide["reasons"] = [r[:1].upper() + r[1:] + ("" if r.endswith(".") else ".")
                        for r in guide["reasons"]]
    return guide


def _guide(info: dict) -> dict:
    task, costs = info["task"], info["costs"]
    if task == "regression":
        if costs:
            tau = costs["under"] / (costs["under"] + costs["over"])
            return {"losses": ["asymmetric_mse", "asymmetric_huber", "quantile"],
                    "reasons": [f"under-prediction costs {costs['under']:g} and over-prediction "
                                f"{costs['over']:g}: the loss should weigh errors the same way "
                                "(asymmetric MSE / Huber with under/over = "
                                f"{costs['ratio']:g}), or estimate the quantile "
                                f"tau = {tau:.3g} that a linear cost makes optimal"]}
        if info["heavy_tailed"]:
            return {"losses": ["huber", "mae", "log_cosh"],
                    "reasons": [f"{info['outlier_share']:.1%} of residuals are outliers "
                                f"(modified z > 3.5) and the tail ratio is "
                                f"{info['tail_ratio']:.2f} (Gaussian: 1): squared errors let "
                                "them dominate; Huber or MAE bound their pull"]}
        return {"losses": ["mse"], "reasons": ["residuals look Gaussian (outlier share "
                                               f"{info['outlier_share']:.1%}, tail ratio "
                                               f"{info['tail_ratio']:.2f}): MSE is the maximum-"
                                               "likelihood loss for Gaussian noise"]}
    if task == "binary":
        if costs:
            return {"losses": ["bce (cost-weighted)", "bce (class-weighted)", "focal"],
                    "reasons": [f"a missed positive costs {costs['under']:g} and a false alarm "
                                f"{costs['over']:g}: weigh the positive term by their ratio"]}
        if info["imbalanced"]:
            return {"losses": ["bce (class-weighted)", "focal"],
                    "reasons": [f"the minority class is {info['minority_share']:.1%} of rows: "
                                "plain BCE favours the majority; weigh the positives by "
                                "negatives/positives, or focus on hard examples (focal)"]}
        return {"losses": ["bce"], "reasons": ["balanced classes: binary cross-entropy is the "
                                                "maximum-likelihood loss of a Bernoulli label"]}
    if info["imbalanced"]:
        return {"losses": ["categorical_focal"],
                "reasons": [f"the largest class has {info['imbalance_ratio']:.1f} times the rows "
                            "of the smallest: focal loss down-weights the easy majority"]}
    return {"losses": ["sparse_cce"], "reasons": ["balanced classes: categorical cross-entropy "
                                                  "is the maximum-likelihood loss"]}
