"""Metrics by name, computed by scikit-learn (imported only when a metric is asked for).

The model's raw scores decide the predictions: a binary model predicts the positive class where
its score (logit or margin) is > 0, i.e. where the probability is > 0.5 (as scikit-learn); a multiclass model
predicts the arg-max; a regression model's prediction is its output (``exp`` of it for losses on a
log-rate such as ``poisson_nll``). Ranking metrics (ROC-AUC, average precision) use the scores.
"""

from __future__ import annotations

import numpy as np

from .._core import numerics as N
from .._core import validation as V

# name -> (kind, scikit-learn function, keyword arguments for multiclass problems)
METRICS = {
    "accuracy": ("label", "accuracy_score", {}),
    "precision": ("label", "precision_score", {"average": "macro", "zero_division": 0.0}),
    "recall": ("label", "recall_score", {"average": "macro", "zero_division": 0.0}),
    "f1": ("label", "f1_score", {"average": "macro", "zero_division": 0.0}),
    "roc_auc": ("score", "roc_auc_score", {"multi_class": "ovr"}),
    "average_precision": ("score", "average_precision_score", {"average": "macro"}),
    "mae": ("regression", "mean_absolute_error", {}),
    "rmse": ("regression", "root_mean_squared_error", {}),
    "r2": ("regression", "r2_score", {}),
}


def task_of(model, loss) -> str:
    """regression | binary | multiclass: the model's task, or the loss's for a regression model."""
    if model.task != "regression":
        return model.task
    task = loss.info.task
    return task if task in ("binary", "multiclass") else "regression"


def check_metrics(metrics, task) -> tuple[str, ...]:
    if isinstance(metrics, str):
        metrics = (metrics,)
    out = []
    for m in metrics:
        V.check_choice(m, "metric", tuple(METRICS))
        kind = METRICS[m][0]
        if (kind == "regression") != (task == "regression"):
            raise ValueError(f"metric {m!r} does not apply to a {task} problem")
        out.append(m)
    return tuple(out)


def binary_targets(y):
    y = np.asarray(y)
    return (y > 0) if np.min(y) < 0 else (y >= 0.5)


def class_targets(y):
    y = np.asarray(y)
    return np.argmax(y, axis=1) if y.ndim == 2 else y.astype(np.int64)


def compute(metrics, task, y, scores, prediction) -> dict:
    """{metric: value} from targets, raw scores and (regression) predictions."""
    if not metrics:
        return {}
    import sklearn.metrics as skm

    out = {}
    if task == "binary":
        yt = binary_targets(y).astype(np.int64)
        labels = (scores > 0).astype(np.int64)
        ranks = scores
    elif task == "multiclass":
        yt = class_targets(y)
        labels = np.argmax(scores, axis=1)
        ranks = N.softmax(np, scores, axis=1)
    for m in metrics:
        kind, fname, kwargs = METRICS[m]
        fn = getattr(skm, fname)
        try:
            if kind == "regression":
                value = fn(np.asarray(y, dtype=np.float64), prediction)
            elif task == "binary":
                value = fn(yt, labels if kind == "label" else ranks,
                           **({"zero_division": 0.0} if "zero_division" in kwargs else {}))
            elif kind == "label":
                value = fn(yt, labels, **kwargs)
            elif fname == "average_precision_score":
                onehot = np.eye(ranks.shape[1])[yt]
                value = fn(onehot, ranks, **kwargs)
            else:
                value = fn(yt, ranks, labels=np.arange(ranks.shape[1]), **kwargs)
        except ValueError as exc:
            raise ValueError(f"metric {m!r} cannot be computed on these targets: {exc}") from None
        out[m] = float(value)
    return out
