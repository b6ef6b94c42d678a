"""What a picture of a loss needs to know, declared by the loss itself.

* ``Control``: how one hyperparameter is varied in pictures and the explorer: its range, its
  step and the values a card draws side by side. Every loss declares one per numeric
  hyperparameter that changes the curve's shape (``Loss.controls``); a test checks that each
  range is valid for the loss and holds its default.
* ``Probe``: a one-parameter family of inputs, x -> inputs(x), with its tangent d inputs / dx,
  and the x axis's title: what the loss's curve is drawn along. The default (``default_probe``)
  is chosen from the loss's declared task, shape rule and domains:

  - regression losses: the error e = y_pred - y_true (y_true = 1), inside the domain;
  - binary losses on probabilities: the predicted probability p, for y = 1 and y = 0; on logits
    or scores: the score, for y = 1 and y = 0 (or -1);
  - multiclass and multilabel losses: the probability (or logit) of the true class among three
    (two labels), the other classes sharing the rest (or at logit 0);
  - overlap losses: the probability predicted on a mask's pixels (1 - p off the mask);
  - embeddings compared by angle: the angle between y_true and y_pred.

  Losses of several inputs, and any loss the default does not describe, override
  ``Loss.probe``.

Along x, the curve's slope is <gradient, tangent> and, where the inputs are affine in x, its
curvature is tangent^T H tangent, both from the loss's own analytic derivatives
(``report.cards.along``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Control:
    """A hyperparameter as a control: values from ``low`` to ``high`` in steps of ``step``.

    ``shown``: the values a loss card draws side by side (empty: the card draws the default
    only). ``start``: where a control starts when the loss's default is not a number (``None``,
    e.g. bce's ``pos_weight``, which means 1); otherwise the control starts at the default.
    """

    low: float
    high: float
    step: float
    shown: tuple = ()
    start: float | None = None
    integer: bool = False

    def clamp(self, value) -> float:
        """``value`` moved into [low, high] (an integer for integer controls)."""
        v = min(max(float(value), self.low), self.high)
        return float(round(v)) if self.integer else v


@dataclass(frozen=True)
class ProbeCurve:
    """One curve of a probe: ``inputs(x)`` gives the loss's inputs (a tuple, in ``inputs``
    order) and ``tangent(x)`` their derivative with respect to x, one array per differentiable
    input. ``affine``: the inputs are affine in x, so that the curvature along x is exactly
    tangent^T H tangent. ``evaluate(loss, x) -> (value, slope)``, where given, replaces the
    generic evaluation (a loss whose value is a sum over a batch)."""

    label: str
    x: np.ndarray
    inputs: Callable | None = None
    tangent: Callable | None = None
    affine: bool = True
    evaluate: Callable | None = None


@dataclass(frozen=True)
class Probe:
    """The x axis's title and the curves drawn along it (the first is the explorer's)."""

    xlabel: str
    curves: list = field(default_factory=list)


def _domain_ok(domain, x):
    if domain is None or not hasattr(domain, "violations"):
        return np.ones(np.shape(x), dtype=bool)
    bad = domain.violations(np, x)
    return ~bad if bad is not None else np.ones(np.shape(x), dtype=bool)


def _ones(x):
    return np.ones_like(x)


def default_probe(loss) -> Probe:
    """The probe chosen from ``loss``'s task, shape rule and domains (see the module
    docstring); a ValueError for a loss it does not describe."""
    info = loss.info
    rule, task = loss.shape_rule, info.task
    dom = info.domains.get("y_pred")
    prob = getattr(dom, "low", None) == 0 and getattr(dom, "high", None) == 1
    if rule == "same" and task == "regression":
        e = np.linspace(-3, 3, 241)
        # inside the domain with a margin of 0.5 (msle's log1p(y_pred) is steep near -1)
        ok = (_domain_ok(dom, 1.0 + e) & _domain_ok(dom, 0.5 + e)
              & _domain_ok(info.domains["y_true"], np.ones_like(e)))
        e = e[ok]
        return Probe("error y_pred - y_true", [
            ProbeCurve("y_true = 1", e, lambda x: (np.ones_like(x), 1.0 + x), _ones)])
    if rule == "same" and task == "binary":
        if prob:
            p = np.linspace(0.02, 0.98, 193)
            return Probe("predicted probability p", [
                ProbeCurve(f"y = {y:g}", p, lambda x, y=y: (np.full_like(x, y), x), _ones)
                for y in (1.0, 0.0)])
        s = np.linspace(-4, 4, 241)
        neg = -1.0 if "-1" in str(info.domains["y_true"]) else 0.0
        return Probe("score (logit or margin) for the label", [
            ProbeCurve(f"y = {y:g}", s, lambda x, y=y: (np.full_like(x, y), x), _ones)
            for y in (1.0, neg)])
    if rule in ("class_index", "rows") and task in ("multiclass", "multilabel"):
        k = 2 if task == "multilabel" else 3
        if prob:
            x = np.linspace(0.02, 0.98, 193)

            def rows(x):
                return np.column_stack([x] + [(1 - x) / (k - 1)] * (k - 1))

            def tan(x):
                return np.column_stack([np.ones_like(x)] + [np.full_like(x, -1.0 / (k - 1))]
                                       * (k - 1))
            xlabel = "probability of the true class"
        else:
            x = np.linspace(-5, 5, 201)

            def rows(x):
                return np.column_stack([x] + [np.zeros_like(x)] * (k - 1))

            def tan(x):
                return np.column_stack([np.ones_like(x)] + [np.zeros_like(x)] * (k - 1))
            xlabel = ("score (logit) of the true class, the others at 0" if task == "multiclass"
                      else "score (logit) of a present label, the other at 0")
        if rule == "class_index":
            def target(x):
                return np.zeros(len(x), dtype=np.int64)
        else:
            def target(x):
                return np.tile(np.eye(k)[0], (len(x), 1))
        label = "true class 0 of 3" if task == "multiclass" else "labels (1, 0)"
        return Probe(xlabel, [ProbeCurve(label, x, lambda x: (target(x), rows(x)), tan)])
    if rule == "samples":
        p = np.linspace(0.02, 0.98, 193)
        mask = np.array([1.0, 1.0, 0.0, 0.0])
        return Probe("probability predicted on the mask (1 - p off it)", [
            ProbeCurve("mask of 2 of 4 pixels", p,
                       lambda x: (np.tile(mask, (len(x), 1)),
                                  mask * x[:, None] + (1 - mask) * (1 - x[:, None])),
                       lambda x: np.tile(2 * mask - 1, (len(x), 1)))])
    if rule == "rows":  # embeddings compared by angle
        t = np.linspace(0, np.pi, 181)
        return Probe("angle between y_true and y_pred (radians)", [
            ProbeCurve("unit vectors", t,
                       lambda x: (np.tile([1.0, 0.0], (len(x), 1)),
                                  np.column_stack([np.cos(x), np.sin(x)])),
                       lambda x: np.column_stack([-np.sin(x), np.cos(x)]), affine=False)])
    raise ValueError(f"{loss.name} declares no probe and the default does not describe it")


def _flat(a, n):
    """(n, -1) view of a per-sample array (CTC's (T, N, C) has its batch on axis 1)."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim >= 2 and a.shape[0] != n:
        a = np.moveaxis(a, 1, 0)
    return a.reshape(n, -1)


def along(loss, curve, *, order: int = 2):
    """(value, slope, curvature) of ``loss`` along one probe curve, each an array over
    ``curve.x``. The curvature is None where it is not exact from the loss's derivatives (the
    inputs are not affine in x, or the loss offers neither an exact hessian, nor
    Hessian-vector products, nor a tangent along one coordinate)."""
    x = curve.x
    n = len(x)
    if curve.evaluate is not None:
        v, g = curve.evaluate(loss, x)
        return v, g, None
    ins = curve.inputs(x)
    v, g = loss.value_and_gradient(*ins, reduction="none")
    g = g if isinstance(g, tuple) else (g,)
    t = curve.tangent(x)
    t = t if isinstance(t, tuple) else (t,)
    slope = sum(_flat(np.asarray(gi) * ti, n).sum(axis=1) for gi, ti in zip(g, t))
    value = _flat(v, n).sum(axis=1)
    if order < 2 or not curve.affine or len(t) != 1:
        return value, slope, None
    t0 = np.asarray(t[0], dtype=np.float64)
    info = loss.info
    if loss.shape_rule == "same" and info.hessian == "exact":
        h = loss.hessian(*ins, reduction="none")
        return value, slope, _flat(np.asarray(h) * t0 * t0, n).sum(axis=1)
    if info.hvp:
        hv = loss.hvp(*ins, v=t0, reduction="sum")
        hv = hv[0] if isinstance(hv, tuple) else hv
        return value, slope, _flat(np.asarray(hv) * t0, n).sum(axis=1)
    if info.hessian in ("exact", "diagonal") and np.all((t0 != 0).reshape(n, -1).sum(axis=1) <= 1):
        h = loss.hessian(*ins, reduction="none")
        h = h[0] if isinstance(h, tuple) else h
        return value, slope, _flat(np.asarray(h) * t0 * t0, n).sum(axis=1)
    return value, slope, None
