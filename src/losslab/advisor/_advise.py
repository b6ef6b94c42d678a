"""``advise``: inspect a target, state the course's decision guide for it, and measure candidate
losses on the data by cross-validation.

Inspection (each statistic is named in the output):

* task: scikit-learn's ``type_of_target`` (continuous: regression; binary; multiclass), unless
  given;
* regression: statistics of the residuals of a least-squares fit on the (standardised) features,
  so that signal is not mistaken for tails. Robust scale = 1.4826 MAD. Outlier share: residuals
  with a modified z-score |0.6745 (r - median) / MAD| > 3.5 (Iglewicz & Hoaglin). Tail ratio:
  (q99 - q1) / (q75 - q25) divided by its Gaussian value 3.449 (1 for Gaussian noise; heavy
  tails above 1.5);
* classification: class counts and the minority share (imbalanced below 20 % for two classes,
  or a majority / minority ratio above 4);
* costs: under-prediction against over-prediction (regression), or a missed positive against a
  false alarm (binary), when given.

Tournament: every candidate loss is trained by ``LossRegressor`` / ``LossClassifier`` inside a
scikit-learn pipeline (``StandardScaler`` fitted inside each fold; for regression the target is
also scaled by its median and IQR inside each fold, so hyperparameters such as Huber's delta
= 1 IQR mean the same on every table) and scored by ``cross_validate`` (shuffled K-fold,
stratified for classes). Default metrics: MAE for regression (the typical error in the target's
units), balanced accuracy (mean recall over classes) for classification; with costs, the
business cost decides the ranking.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .._core import validation as V
from .._io import progress as progress_bar
from ._table import TableError, check_arrays, check_target

__all__ = ["Advice", "advise", "inspect_target", "decision_guide"]

METRICS = {
    "regression": {"mae": ("neg_mean_absolute_error", -1), "rmse": ("neg_root_mean_squared_error", -1),
                   "r2": ("r2", 1), "median_ae": ("neg_median_absolute_error", -1)},
    "binary": {"balanced_accuracy": ("balanced_accuracy", 1), "f1": ("f1", 1),
               "roc_auc": ("roc_auc", 1), "average_precision": ("average_precision", 1),
               "accuracy": ("accuracy", 1), "recall": ("recall", 1), "precision": ("precision", 1)},
    "multiclass": {"balanced_accuracy": ("balanced_accuracy", 1), "accuracy": ("accuracy", 1),
                   "f1_macro": ("f1_macro", 1)},
}
DEFAULT_METRIC = {"regression": "mae", "binary": "balanced_accuracy",
                  "multiclass": "balanced_accuracy"}


def inspect_target(X, y, task="auto", cost_under=None, cost_over=None) -> dict:
    """What the target looks like (see the module docstring for each statistic)."""
    from sklearn.utils.multiclass import type_of_target

    kind = type_of_target(y)
    detected = {"continuous": "regression", "binary": "binary", "multiclass": "multiclass"}.get(kind)
    if task == "auto":
        if detected is None:
            raise TableError(f"cannot tell the task from the target (scikit-learn sees "
                             f"{kind!r}); pass task='regression', 'binary' or 'multiclass'")
        task = detected
    out = {"task": task, "detected_task": detected, "rows": int(len(y)),
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
        r = yv - A @ np.linalg.lstsq(A, yv, rcond=None)[0]
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
            "target_median": float(np.median(yv)), "target_iqr": float(np.subtract(*np.quantile(yv, [0.75, 0.25]))),
        })
        out["heavy_tailed"] = bool(out["outlier_share"] > 0.01 or out["tail_ratio"] > 1.5)
    else:
        values, counts = np.unique(y, return_counts=True)
        out["classes"] = {str(v): int(c) for v, c in zip(values, counts)}
        out["minority_share"] = float(counts.min() / counts.sum())
        out["imbalance_ratio"] = float(counts.max() / counts.min())
        out["imbalanced"] = bool(out["minority_share"] < 0.2 if len(values) == 2
                                 else out["imbalance_ratio"] > 4)
    return out


def decision_guide(info: dict) -> dict:
    """The course's decision tree for this situation: the losses it suggests, and why."""
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


def _candidates(info, y):
    """(label, estimator kind, loss name, loss params) for the task."""
    task, costs = info["task"], info["costs"]
    if task == "regression":
        out = [("mse", "mse", {}), ("mae", "mae", {}), ("huber", "huber", {"delta": 1.0}),
               ("log_cosh", "log_cosh", {})]
        if costs:
            tau = costs["under"] / (costs["under"] + costs["over"])
            out += [("asymmetric_mse", "asymmetric_mse", {"under": costs["ratio"], "over": 1.0}),
                    ("asymmetric_huber", "asymmetric_huber",
                     {"under": costs["ratio"], "over": 1.0, "delta": 1.0}),
                    ("quantile", "quantile", {"quantile": tau})]
        return out
    if task == "binary":
        classes, counts = np.unique(y, return_counts=True)
        pw = float(counts[0] / counts[1])
        out = [("bce", "bce", {}), ("bce (class-weighted)", "bce", {"pos_weight": pw}),
               ("focal", "focal", {"gamma": 2.0, "alpha": None}), ("hinge", "hinge", {})]
        if costs:
            out.append(("bce (cost-weighted)", "bce", {"pos_weight": costs["ratio"]}))
        return out
    return [("sparse_cce", "sparse_cce", {}),
            ("categorical_focal", "categorical_focal", {"gamma": 2.0}),
            ("multi_margin", "multi_margin", {}), ("poly1", "poly1", {})]


def _business_scorer(task, cu, co, classes=None):
    from sklearn.metrics import make_scorer

    if task == "regression":
        def cost(y, p):
            e = np.asarray(y, dtype=np.float64) - p
            return float(np.mean(cu * np.maximum(e, 0) + co * np.maximum(-e, 0)))
    else:
        positive = classes[1]

        def cost(y, p):
            y, p = np.asarray(y), np.asarray(p)
            missed = (y == positive) & (p != positive)
            false_alarm = (y != positive) & (p == positive)
            return float(np.mean(cu * missed + co * false_alarm))
    return make_scorer(cost, greater_is_better=False)


@dataclass
class Advice:
    """What ``advise`` found: ``inspection``, ``guide`` (the rule of thumb), ``table`` (one row per
    candidate, ranked), ``recommendation``, ``agreement`` (a sentence), ``metric``, ``seconds``."""

    inspection: dict
    guide: dict
    table: list
    recommendation: str
    agreement: str
    metric: str
    cv: int
    seconds: float = 0.0
    notes: list = field(default_factory=list)

    def to_dict(self) -> dict:
        from .._io import json_types

        return json_types({k: getattr(self, k) for k in ("inspection", "guide", "table",
                                                      "recommendation", "agreement", "metric",
                                                      "cv", "seconds", "notes")})


def advise(X, y, *, task: str = "auto", cost_under=None, cost_over=None, metric=None, cv: int = 5,
           seed: int = 0, progress: bool = False) -> Advice:
    """Inspect the target, state the decision guide, and run a cross-validated tournament of
    candidate losses (see the module docstring). Returns an ``Advice``."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.model_selection import KFold, StratifiedKFold, cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import RobustScaler, StandardScaler

    from ..estimators import LossClassifier, LossRegressor

    V.check_choice(task, "task", ("auto", "regression", "binary", "multiclass"))
    cv = V.check_scalar(cv, "cv", ge=2, integer=True)
    for name, c in (("cost_under", cost_under), ("cost_over", cost_over)):
        if c is not None:
            V.check_scalar(c, name, gt=0)
    t0 = time.perf_counter()
    X, y = check_arrays(X, y)
    info = inspect_target(X, y, task, cost_under, cost_over)
    task = info["task"]
    check_target(y, cv, task)
    if task == "multiclass" and info["costs"]:
        raise TableError("costs apply to regression (under/over-prediction) and binary "
                         "classification (missed positive/false alarm), not to multiclass")
    metric = metric or DEFAULT_METRIC[task]
    if metric not in METRICS[task]:
        raise TableError(f"metric {metric!r} does not apply to {task}; choose one of "
                         f"{', '.join(METRICS[task])}")
    scorer_name, sign = METRICS[task][metric]
    scoring = {"metric": scorer_name}
    classes = np.unique(y)
    if info["costs"]:
        scoring["cost"] = _business_scorer(task, info["costs"]["under"], info["costs"]["over"],
                                           classes)
    splitter = (KFold(cv, shuffle=True, random_state=seed) if task == "regression"
                else StratifiedKFold(cv, shuffle=True, random_state=seed))
    guide = decision_guide(info)
    rows = []
    cands = _candidates(info, y)
    with progress_bar(len(cands), "tournament", enabled=progress) as bar:
        for label, loss, params in cands:
            if task == "regression":
                est = TransformedTargetRegressor(
                    regressor=make_pipeline(StandardScaler(), LossRegressor(
                        loss, loss_params=params, random_state=seed)),
                    transformer=RobustScaler())
            else:
                est = make_pipeline(StandardScaler(), LossClassifier(
                    loss, loss_params=params, random_state=seed))
            res = cross_validate(est, X, y, cv=splitter, scoring=scoring, error_score="raise")
            m = sign * res["test_metric"]
            row = {"candidate": label, "loss": loss, "params": params,
                   "metric_mean": float(m.mean()), "metric_std": float(m.std(ddof=1)),
                   "fit_seconds": float(res["fit_time"].mean())}
            if info["costs"]:
                c = -res["test_cost"]
                row.update({"cost_mean": float(c.mean()), "cost_std": float(c.std(ddof=1))})
            rows.append(row)
            bar.advance(description=label)
    if info["costs"]:
        rows.sort(key=lambda r: r["cost_mean"])
        key, better = "cost_mean", "lower"
    else:
        lower = metric in ("mae", "rmse", "median_ae")
        rows.sort(key=lambda r: r["metric_mean"] if lower else -r["metric_mean"])
        key, better = "metric_mean", "lower" if lower else "higher"
    best = rows[0]
    rule = guide["losses"]
    std_key = "cost_std" if key == "cost_mean" else "metric_std"
    in_rule = [r for r in rows if r["candidate"] in rule or r["loss"] in rule]
    what = "business cost" if key == "cost_mean" else metric
    if best["candidate"] in rule or best["loss"] in rule:
        agreement = (f"The measurement agrees with the rule of thumb: {best['candidate']} has the "
                     f"best {what} ({best[key]:.4g} ± {best[std_key]:.2g} over {cv} folds).")
    else:
        ref = in_rule[0] if in_rule else None
        gap = "" if ref is None else (
            f"; the rule's best, {ref['candidate']}, scored {ref[key]:.4g} ± {ref[std_key]:.2g}"
            + (" (within one standard deviation)" if abs(ref[key] - best[key]) <= best[std_key] else ""))
        agreement = (f"The measurement disagrees with the rule of thumb ({', '.join(rule)}): "
                     f"{best['candidate']} has the best {what} ({best[key]:.4g} ± "
                     f"{best[std_key]:.2g}){gap}.")
    notes = [f"ranked by {what} ({better} is better), mean ± standard deviation over {cv} folds"]
    return Advice(info, guide, rows, best["candidate"], agreement, metric, cv,
                  time.perf_counter() - t0, notes)
