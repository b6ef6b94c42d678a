"""The optimal constant prediction of a loss: ``loss.init_score(y_true, sample_weight=None)``.

This is what a boosting library starts from (``base_margin`` / ``init_score``) and where a linear
solver starts its intercept. It is computed exactly:

* closed forms where they exist: the weighted mean (``mse``), the weighted quantile (``mae``,
  ``quantile``), the log of the weighted mean (``poisson_nll`` on log-rates), the log-odds
  (``bce`` on logits, with ``pos_weight`` and label smoothing), the log of the weighted class
  frequencies (``cce`` / ``sparse_cce`` on logits, centred to sum to 0);
* otherwise, for losses convex in one prediction per output, the root of the summed derivative
  by safeguarded Newton steps inside a bracket that halves (``log_cosh``, ``huber``,
  ``asymmetric_mse``, ...): to the last bit of float64.

One constant per output column: a float for 1-D targets, an array of shape ``y_true.shape[1:]``
for several outputs, one score per class (shape (n_classes,)) for class-index targets.
"""

from __future__ import annotations

import numpy as np

from . import _validation as V


def _weighted_quantile(y, w, q):
    """The smallest value m with weight(y <= m) >= q * total: a minimiser of the pinball loss."""
    order = np.argsort(y, kind="stable")
    cum = np.cumsum(w[order])
    k = int(np.searchsorted(cum, q * cum[-1] * (1 - 1e-15), side="left"))
    return float(y[order][min(k, y.size - 1)])


def _weights(w, n):
    """The sample weights (ones when None), checked once by the validation layer."""
    w = V.check_sample_weight(w, n)
    return np.ones(n) if w is None else w


def _finite_logit(num, den, what):
    if num <= 0 or den <= 0:
        raise ValueError(f"the optimal constant is infinite: {what}")
    return float(np.log(num) - np.log(den))


def init_score(loss, y_true, sample_weight=None, n_classes=None):
    """See the module docstring."""
    if not loss.info.single_input:
        raise TypeError(f"{loss.name} takes {', '.join(loss.inputs)}; init_score is for losses "
                        "of (y_true, y_pred)")
    params = loss.get_params()
    prepared = loss.prepare(y_true, sample_weight=sample_weight)
    y = np.asarray(y_true)
    w = _weights(sample_weight, y.shape[0])
    name = loss.name
    if loss.shape_rule in ("class_index", "rows"):
        if loss.shape_rule == "class_index":
            k = int(np.max(y)) + 1 if n_classes is None else V.check_scalar(
                n_classes, "n_classes", ge=2, integer=True)
            shape = (y.shape[0], k)
        else:
            shape = y.shape
        if name in ("cce", "sparse_cce") and params.get("from_logits"):
            # the optimum of sum_i c_i sum_k a_ik (-log p_k): p proportional to the weighted,
            # smoothed, class-weighted targets; A per sample does not change the argmax
            targets = _class_targets(loss, y, shape, w)
            if np.any(targets <= 0):
                raise ValueError("the optimal constant is infinite: a class has no samples "
                                 f"({int(np.count_nonzero(targets <= 0))} of {shape[1]})")
            scores = np.log(targets)
            return scores - scores.mean()
        raise ValueError(f"{name} has no optimal constant here (only cce and sparse_cce on "
                         "logits, among the multiclass losses)")
    y = y.astype(np.float64)
    if y.ndim > 1:
        cols = y.reshape(y.shape[0], -1)
        out = [init_score(loss, cols[:, j], w) for j in range(cols.shape[1])]
        return np.asarray(out).reshape(y.shape[1:])
    if name == "mse":
        return float(np.average(y, weights=w))
    if name in ("mae", "quantile", "mape"):
        q = params.get("quantile", 0.5)
        ww = w if name != "mape" else w / np.maximum(np.abs(y), params["eps"])
        return _weighted_quantile(y, ww, q)
    if name == "poisson_nll" and params["log_input"]:
        mean = np.average(y, weights=w)
        return _finite_logit(mean, 1.0, "every count is 0")
    if name == "bce" and params["from_logits"] and np.ndim(params["pos_weight"] or 1.0) == 0:
        s = params["label_smoothing"]
        ys = y * (1.0 - s) + 0.5 * s
        pw = params["pos_weight"] or 1.0
        return _finite_logit(pw * np.sum(w * ys), np.sum(w * (1.0 - ys)),
                             "every label is 0 or every label is 1")
    if loss.info.domains["y_pred"] is not None:
        hint = " (use from_logits=True)" if "from_logits" in params else ""
        raise ValueError(f"{name} takes y_pred in {loss.info.domains['y_pred']}; init_score is "
                         f"a raw score{hint}")
    if not loss.convex.startswith("yes"):
        raise ValueError(f"{name} is not convex ({loss.convex}): its best constant is not unique")
    return _root_of_derivative(prepared, y)


def _class_targets(loss, y, shape, w):
    """sum_i w_i a_ik: the weighted, smoothed, class-weighted targets per class."""
    params = loss.get_params()
    k = shape[1]
    if loss.shape_rule == "class_index":
        keep = np.ones(y.shape[0], dtype=bool)
        if params.get("ignore_index") is not None:
            keep = y != params["ignore_index"]
        onehot = np.zeros(shape)
        onehot[np.flatnonzero(keep), y[keep].astype(np.int64)] = 1.0
        w = w * keep
    else:
        onehot = y.astype(np.float64)
    s = params["label_smoothing"]
    a = onehot * (1.0 - s) + s / k * (onehot.sum(axis=1, keepdims=True) > 0)
    if params["class_weight"] is not None:
        a = a * np.asarray(params["class_weight"])
    return w @ a


def _root_of_derivative(prepared, y):
    """The constant c where the summed derivative changes sign, to the last bit: Newton steps
    where they stay inside the bracket, halvings elsewhere."""
    def slope(c):
        g = prepared.gradient(np.full(y.shape, c))
        return float(np.sum(g))

    def curvature(c):
        return float(np.sum(prepared.hessian(np.full(y.shape, c))))

    lo, hi = float(np.min(y)), float(np.max(y))
    span = max(1.0, hi - lo)
    lo, hi = lo - span, hi + span
    for _ in range(200):  # widen until the derivative changes sign
        if slope(lo) <= 0:
            break
        lo -= 2 * (hi - lo)
    for _ in range(200):
        if slope(hi) >= 0:
            break
        hi += 2 * (hi - lo)
    c = float(np.average(y, weights=None))
    c = min(max(c, lo), hi)
    for _ in range(200):
        g = slope(c)
        if g == 0:
            return c
        if g > 0:
            hi = c
        else:
            lo = c
        h = curvature(c)
        step = c - g / h if h > 0 else None
        nxt = step if step is not None and lo < step < hi else 0.5 * (lo + hi)
        if abs(nxt - c) <= 2 * np.spacing(abs(c)) or hi - lo <= 4 * np.spacing(
                max(abs(lo), abs(hi))):
            return nxt
        c = nxt
    return c
