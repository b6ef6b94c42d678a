"""The tournament: every candidate loss, in every model family, fitted and scored on the same
repeated cross-validation splits.

* Families: ``linear`` (``LossRegressor`` / ``LossClassifier``, solved exactly), ``mlp`` (the same
  with one hidden layer of 32, Adam) and ``boosting`` (``LossGBMRegressor`` /
  ``LossGBMClassifier``: LightGBM on the loss's gradient and hessian, started at its optimal
  constant). Features are standardised inside each fold for the linear and MLP families; a
  regression target is scaled by its median and IQR inside each fold, so that hyperparameters
  such as Huber's delta = 1 IQR mean the same on every table. Linear and MLP classifiers carry
  scikit-learn's default ridge strength (alpha = 1/n, LogisticRegression's C = 1): without it a
  separable table sends the weights, and the held-out log loss, to infinity.
* Splits: ``repeats`` times shuffled K-fold (stratified for classes), the same splits for every
  candidate, so that candidates are compared split by split.
* Scores on each held-out fold. Regression: MAE, RMSE, R^2, median absolute error. Binary:
  threshold-free average precision, ROC-AUC, log loss and Brier score (for losses that model
  probabilities), and balanced accuracy, F1 and accuracy at a decision threshold tuned inside the
  training fold: the training fold's own out-of-fold scores (3 stratified inner folds) choose
  the threshold that maximises the threshold metric, or minimises the business cost, and the
  model refitted on the whole training fold uses it (a single inner hold-out left a few
  positives to tune on at 1 % prevalence). Multiclass: macro one-vs-rest average precision, log loss, balanced
  accuracy, accuracy, macro F1 (argmax). With costs, the business cost.
* What each loss estimates, checked on the held-out folds: the share of targets below the
  prediction (the median: 0.5; the tau-quantile: tau), the mean residual (the mean: 0), the median
  residual (robust losses), the expected calibration error of the probabilities (10 bins).
* Uncertainty (``paired_intervals``): for each candidate, the split-by-split difference of the
  ranking metric to the family's best, its mean and a 95 % interval from the corrected
  resampled t-test (Nadeau & Bengio 2003: the variance is inflated by n_test / n_train because
  training sets overlap). An interval that contains 0 means "cannot be told apart from the best".
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

FAMILIES = ("linear", "mlp", "boosting")
LOWER_IS_BETTER = {"mae", "rmse", "median_ae", "log_loss", "brier", "cost"}
THRESHOLD_METRICS = ("balanced_accuracy", "f1", "accuracy")
METRICS = {
    "regression": ("mae", "rmse", "r2", "median_ae"),
    "binary": ("average_precision", "roc_auc", "log_loss", "brier", "balanced_accuracy", "f1",
               "accuracy"),
    "multiclass": ("average_precision", "log_loss", "balanced_accuracy", "accuracy", "f1_macro"),
}
DEFAULT_METRIC = {"regression": "mae", "binary": "average_precision",
                  "multiclass": "average_precision"}


@dataclass
class Candidate:
    label: str
    loss: str
    params: dict
    family: str


def boosting_available() -> bool:
    try:
        import lightgbm  # noqa: F401
    except ImportError:
        return False
    return True


def candidates(info, y, families):
    """(candidates, notes): the losses to try, per family, for the task."""
    task, costs = info["task"], info["costs"]
    if task == "regression":
        base = [("mse", "mse", {}), ("mae", "mae", {}), ("huber", "huber", {"delta": 1.0}),
                ("log_cosh", "log_cosh", {})]
        if costs:
            tau = costs["under"] / (costs["under"] + costs["over"])
            base += [("asymmetric_mse", "asymmetric_mse", {"under": costs["ratio"], "over": 1.0}),
                     ("asymmetric_huber", "asymmetric_huber",
                      {"under": costs["ratio"], "over": 1.0, "delta": 1.0}),
                     ("quantile", "quantile", {"quantile": tau})]
    elif task == "binary":
        _, counts = np.unique(y, return_counts=True)
        base = [("bce", "bce", {}),
                ("bce (class-weighted)", "bce", {"pos_weight": float(counts[0] / counts[1])}),
                ("focal", "focal", {"gamma": 2.0, "alpha": None}), ("hinge", "hinge", {})]
        if costs:
            base.append(("bce (cost-weighted)", "bce", {"pos_weight": costs["ratio"]}))
    else:
        base = [("sparse_cce", "sparse_cce", {}),
                ("categorical_focal", "categorical_focal", {"gamma": 2.0}),
                ("multi_margin", "multi_margin", {}), ("poly1", "poly1", {})]
    out, notes = [], []
    for family in families:
        for label, loss, params in base:
            if family == "boosting" and loss == "categorical_focal":
                notes.append("categorical_focal takes probability rows, not the class-index "
                             "margins LightGBM gives: left out of the boosting family")
                continue
            out.append(Candidate(label, loss, params, family))
    return out, notes


def make_estimator(c: Candidate, task: str, seed: int, n_train: int):
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import RobustScaler, StandardScaler

    from ..estimators import LossClassifier, LossGBMClassifier, LossGBMRegressor, LossRegressor

    if c.family == "boosting":
        cls = LossGBMRegressor if task == "regression" else LossGBMClassifier
        est = cls(c.loss, loss_params=c.params, random_state=seed)
    else:
        cls = LossRegressor if task == "regression" else LossClassifier
        kw = {"hidden_layer_sizes": (32,), "max_iter": 200, "learning_rate": 0.01} \
            if c.family == "mlp" else {}
        if task != "regression" and c.loss not in ("hinge", "multi_margin"):
            # scikit-learn's default ridge strength (LogisticRegression's C = 1 is alpha = 1/n):
            # without it a separable table sends the weights, and the log loss, to infinity.
            kw["alpha"] = 1.0 / n_train
        elif task != "regression":
            # margin losses model no probability and stay linear programmes (fast, exact)
            kw["alpha"] = 0.0
        est = make_pipeline(StandardScaler(), cls(c.loss, loss_params=c.params, random_state=seed,
                                                  **kw))
    if task == "regression":
        return TransformedTargetRegressor(regressor=est, transformer=RobustScaler())
    return est


GBM_MIN_CHILD_SAMPLES = 20  # LightGBM's default rows per leaf, which the boosting family uses
INNER_FOLDS = 3  # binary: the training fold's own out-of-fold scores tune the threshold


def smallest_training_set(split_list, task) -> int:
    """The fewest rows any fit of the tournament trains on (binary: the inner folds)."""
    n = min(len(tr) for tr, _ in split_list)
    return n - -(-n // INNER_FOLDS) if task == "binary" else n


def rows_for_training_set(need: int, task: str, cv: int) -> int:
    """The fewest table rows whose smallest training set (as ``smallest_training_set``) has at
    least ``need`` rows with ``cv`` folds (class stratification can move it by a row or two)."""
    n = need
    while True:
        train = n - -(-n // cv)
        if (train - -(-train // INNER_FOLDS) if task == "binary" else train) >= need:
            return n
        n += 1


def splits(y, task, cv, repeats, seed):
    from sklearn.model_selection import RepeatedKFold, RepeatedStratifiedKFold

    cls = RepeatedKFold if task == "regression" else RepeatedStratifiedKFold
    splitter = cls(n_splits=cv, n_repeats=repeats, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y))


# ---- scoring -----------------------------------------------------------------------------------


def _scores(model, X):
    return np.asarray(model.decision_function(X), dtype=np.float64)


def _proba(model, X):
    return np.asarray(model.predict_proba(X)) if hasattr(model, "predict_proba") else None


def best_threshold(y_pos, s, objective, costs=None):
    """The score threshold (predict positive where s >= t) that is best on (y_pos, s)."""
    from sklearn.metrics import roc_curve

    fpr, tpr, thr = roc_curve(y_pos, s)
    P, N = float(np.sum(y_pos)), float(len(y_pos) - np.sum(y_pos))
    tp, fp = tpr * P, fpr * N
    fn, tn = P - tp, N - fp
    if objective == "cost":
        value = -(costs["under"] * fn + costs["over"] * fp)
    elif objective == "balanced_accuracy":
        value = 0.5 * (tpr + 1.0 - fpr)
    elif objective == "f1":
        value = np.where(tp > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1e-300), 0.0)
    else:
        value = (tp + tn) / (P + N)
    finite = np.isfinite(thr)
    i = int(np.argmax(np.where(finite, value, -np.inf)))
    return float(thr[i])


def expected_calibration_error(y_true_onehot, proba, bins=10):
    """Top-label expected calibration error: sum over 10 confidence bins of
    |accuracy - confidence| weighted by the bin's share (binary: on the positive class)."""
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim == 2 and proba.shape[1] == 2:
        conf, hit = proba[:, 1], y_true_onehot[:, 1]
    else:
        top = np.argmax(proba, axis=1)
        conf = proba[np.arange(len(top)), top]
        hit = y_true_onehot[np.arange(len(top)), top]
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if np.any(m):
            total += m.mean() * abs(hit[m].mean() - conf[m].mean())
    return float(total)


def estimate_of(c: Candidate, task):
    """(what the loss estimates, the check's name, its ideal value): the loss's own
    declaration (``Loss.estimand``)."""
    from .._core import get

    return get(c.loss, **c.params).estimand()


def score_split(task, y_test, pred, scores, proba, threshold, classes, costs):
    """The held-out metrics of one split (see the module docstring)."""
    from sklearn import metrics as M

    out = {}
    if task == "regression":
        y = np.asarray(y_test, dtype=np.float64)
        e = y - pred
        out.update(mae=float(np.mean(np.abs(e))), rmse=float(np.sqrt(np.mean(e * e))),
                   r2=float(M.r2_score(y, pred)), median_ae=float(np.median(np.abs(e))),
                   mean_residual=float(np.mean(e)), median_residual=float(np.median(e)),
                   share_below=float(np.mean(y <= pred)))
        if costs:
            out["cost"] = float(np.mean(costs["under"] * np.maximum(e, 0)
                                        + costs["over"] * np.maximum(-e, 0)))
        return out
    onehot = (np.asarray(y_test)[:, None] == np.asarray(classes)[None, :]).astype(np.float64)
    if task == "binary":
        pos = onehot[:, 1]
        hard = (scores >= threshold).astype(np.float64)
        out.update(average_precision=float(M.average_precision_score(pos, scores)),
                   roc_auc=float(M.roc_auc_score(pos, scores)),
                   balanced_accuracy=float(M.balanced_accuracy_score(pos, hard)),
                   f1=float(M.f1_score(pos, hard, zero_division=0.0)),
                   accuracy=float(M.accuracy_score(pos, hard)))
        if costs:
            missed = (pos == 1) & (hard == 0)
            alarm = (pos == 0) & (hard == 1)
            out["cost"] = float(np.mean(costs["under"] * missed + costs["over"] * alarm))
        if proba is not None:
            p1 = np.clip(proba[:, 1], 1e-15, 1 - 1e-15)
            out.update(log_loss=float(M.log_loss(pos, p1, labels=[0, 1])),
                       brier=float(M.brier_score_loss(pos, p1)),
                       calibration_error=expected_calibration_error(onehot, proba),
                       threshold=float(1.0 / (1.0 + math.exp(-threshold))) if abs(threshold) < 700
                       else float(threshold > 0))
        else:
            out["threshold"] = float(threshold)
        return out
    hard = np.argmax(scores, axis=1)
    codes = np.argmax(onehot, axis=1)
    out.update(average_precision=float(M.average_precision_score(onehot, scores,
                                                                 average="macro")),
               balanced_accuracy=float(M.balanced_accuracy_score(codes, hard)),
               accuracy=float(M.accuracy_score(codes, hard)),
               f1_macro=float(M.f1_score(codes, hard, average="macro", zero_division=0.0)))
    if proba is not None:
        out.update(log_loss=float(M.log_loss(codes, np.clip(proba, 1e-15, 1.0),
                                             labels=list(range(len(classes))))),
                   calibration_error=expected_calibration_error(onehot, proba))
    return out


def run_candidate(c, X, y, task, split_list, cv, seed, threshold_objective, costs, classes,
                  advance=None):
    """Per-split metrics (dict of lists), out-of-fold predictions of the first repeat, and the
    mean fit seconds."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        warnings.simplefilter("always", UserWarning)
        out = _run_candidate(c, X, y, task, split_list, cv, seed, threshold_objective, costs,
                             classes, advance)
    # what the fits warned about becomes part of the result (counted, one line each), never a
    # stream of identical warnings on the terminal
    unconverged = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    for w in caught:
        if not issubclass(w.category, (ConvergenceWarning, UserWarning)):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    other = sorted({str(w.message).split(":")[0] + ": " + str(w.message).split(":", 1)[-1].strip()
                    for w in caught if not issubclass(w.category, ConvergenceWarning)
                    and issubclass(w.category, UserWarning)})
    return out + ({"unconverged": unconverged, "warnings": other},)


def _run_candidate(c, X, y, task, split_list, cv, seed, threshold_objective, costs, classes,
                   advance=None):
    from sklearn.model_selection import StratifiedKFold

    per_split, fit_seconds = {}, []
    oof = {"scores": None, "proba": None, "pred": None}
    for s_i, (tr, te) in enumerate(split_list):
        t0 = time.perf_counter()
        threshold = 0.0
        if task == "binary":  # out-of-fold scores of the training fold (3 inner folds)
            inner = StratifiedKFold(3, shuffle=True, random_state=seed + s_i)
            oof_scores = np.empty(len(tr))
            for a, b in inner.split(tr, y[tr]):
                m = make_estimator(c, task, seed, len(a)).fit(X[tr[a]], y[tr[a]])
                oof_scores[b] = _scores(m, X[tr[b]])
            threshold = best_threshold((y[tr] == classes[1]).astype(float), oof_scores,
                                       threshold_objective, costs)
        model = make_estimator(c, task, seed, len(tr)).fit(X[tr], y[tr])
        fit_seconds.append(time.perf_counter() - t0)
        if task == "regression":
            pred, scores, proba = model.predict(X[te]), None, None
        else:
            scores, proba, pred = _scores(model, X[te]), _proba(model, X[te]), None
        res = score_split(task, y[te], pred, scores, proba, threshold, classes, costs)
        out = pred if scores is None else scores
        res["constant"] = float(np.ptp(out) <= 1e-12 * max(1.0, float(np.max(np.abs(out)))))
        for k, v in res.items():
            per_split.setdefault(k, []).append(v)
        if s_i < cv:  # the first repeat predicts every row once
            for key, val in (("scores", scores), ("proba", proba), ("pred", pred)):
                if val is not None:
                    if oof[key] is None:
                        oof[key] = np.zeros((len(y),) + val.shape[1:])
                    oof[key][te] = val
        if advance is not None:
            advance()
    return {k: np.asarray(v) for k, v in per_split.items()}, oof, float(np.mean(fit_seconds))


def paired_intervals(values: dict, lower_better: bool, cv: int, level: float = 0.95):
    """For each candidate: (best, mean difference to the best, low, high), differences oriented
    so that positive means worse, and the interval of the corrected resampled t-test."""
    from scipy import stats

    means = {k: float(np.mean(v)) for k, v in values.items()}
    best = min(means, key=means.get) if lower_better else max(means, key=means.get)
    out = {}
    for k, v in values.items():
        d = (v - values[best]) if lower_better else (values[best] - v)
        S = len(d)
        mean = float(np.mean(d))
        if k == best or S < 2:
            out[k] = (best, mean, mean, mean)
            continue
        var = float(np.var(d, ddof=1))
        se = math.sqrt((1.0 / S + 1.0 / (cv - 1)) * var)
        t = float(stats.t.ppf(0.5 + level / 2, S - 1))
        out[k] = (best, mean, mean - t * se, mean + t * se)
    return out
