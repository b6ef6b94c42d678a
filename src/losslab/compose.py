"""Losses people compose or write themselves.

* ``asymmetric(loss, under=, over=)``: any elementwise regression loss, weighted by the sign of the
  error (``asymmetric_mse`` and ``asymmetric_huber`` are instances).
* ``weighted_sum(cls=..., box=(..., 2.0), ...)``: a multi-task loss of named heads, with a value,
  a per-head breakdown and per-head gradients.
* ``custom(fn, gradient=None, hessian=None, name=...)``: a user's elementwise NumPy function of
  (y_true, y_pred) as a full loss; without a gradient, one is derived numerically.
* ``check_gradient(loss, *inputs)``: the worst disagreement between a loss's gradient (and
  hessian) and central differences, and where it happens.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ._core import Loss, get, numerics as M, validation as V

from .losses.regression import Asymmetric

__all__ = ["asymmetric", "weighted_sum", "WeightedSum", "custom", "CustomLoss",
           "check_gradient", "GradientCheck"]


def asymmetric(loss, *, under, over=1.0) -> Asymmetric:
    """``loss`` (a name or an elementwise regression Loss) weighted by ``under`` where the
    prediction is too low and ``over`` where it is too high.

    >>> import losslab as ll
    >>> loss = ll.asymmetric("mse", under=3.0)
    >>> float(loss([10.0, 10.0], [8.0, 12.0]))
    8.0
    """
    return Asymmetric(base=loss, under=under, over=over)


# ---------------------------------------------------------------------------------------------
# multi-task losses
# ---------------------------------------------------------------------------------------------


class WeightedSum:
    """A multi-task loss: ``sum_h weight_h * loss_h(y_true[h], y_pred[h])`` over named heads.

    ``y_true`` and ``y_pred`` are mappings from head name to that head's arrays. Every head is
    reduced with the same ``reduction`` and ``sample_weight`` (one weight per sample, shared by
    the heads), so ``"mean"`` is the weighted sum of the heads' means, each normalised as the head
    itself normalises. ``reduction="none"`` returns a dict of each head's weighted unreduced
    values. ``gradient`` and ``hessian`` return dicts of each head's (weighted) derivative with
    respect to that head's predictions; ``breakdown`` the weighted value of each head and the
    total.
    """

    def __init__(self, heads: Mapping):
        if not heads:
            raise ValueError("weighted_sum needs at least one head")
        self.losses, self.weights = {}, {}
        for name, spec in heads.items():
            loss, weight = spec if isinstance(spec, tuple) else (spec, 1.0)
            loss = get(loss)
            if len(loss.inputs) != 2:
                raise ValueError(f"head {name!r}: weighted_sum takes (y_true, y_pred) losses, got "
                                 f"{loss.name} with inputs {loss.inputs}")
            self.losses[name] = loss
            self.weights[name] = V.check_scalar(weight, f"weight of head {name!r}", ge=0)

    def __repr__(self) -> str:
        heads = ", ".join(f"{h}=({self.losses[h]!r}, {self.weights[h]!r})" for h in self.losses)
        return f"WeightedSum({heads})"

    def _check_heads(self, y_true, y_pred):
        for what, d in (("y_true", y_true), ("y_pred", y_pred)):
            if not isinstance(d, Mapping):
                raise TypeError(f"{what} must map head names to arrays, got {type(d).__name__}")
            missing = [h for h in self.losses if h not in d]
            extra = [h for h in d if h not in self.losses]
            if missing or extra:
                raise ValueError(f"{what} must have the heads {', '.join(self.losses)}; "
                                 f"missing {missing or 'none'}, unknown {extra or 'none'}")

    def _each(self, method, y_true, y_pred, sample_weight, reduction):
        self._check_heads(y_true, y_pred)
        out = {}
        for h, loss in self.losses.items():
            out[h] = getattr(loss, method)(y_true[h], y_pred[h], sample_weight=sample_weight,
                                           reduction=reduction)
        return out

    def __call__(self, y_true, y_pred, *, sample_weight=None, reduction="mean"):
        values = self._each("__call__", y_true, y_pred, sample_weight, reduction)
        weighted = {h: self.weights[h] * v for h, v in values.items()}
        return weighted if reduction == "none" else sum(weighted.values())

    def breakdown(self, y_true, y_pred, *, sample_weight=None, reduction="mean") -> dict:
        """Each head's weighted value, and their sum under "total"."""
        V.check_choice(reduction, "reduction", ("mean", "sum"))
        values = self._each("__call__", y_true, y_pred, sample_weight, reduction)
        parts = {h: self.weights[h] * float(v) for h, v in values.items()}
        parts["total"] = math.fsum(parts.values())
        return parts

    def gradient(self, y_true, y_pred, *, sample_weight=None, reduction="mean") -> dict:
        grads = self._each("gradient", y_true, y_pred, sample_weight, reduction)
        return {h: self.weights[h] * g for h, g in grads.items()}

    def value_and_gradient(self, y_true, y_pred, *, sample_weight=None, reduction="mean"):
        self._check_heads(y_true, y_pred)
        values, grads = {}, {}
        for h, loss in self.losses.items():
            v, g = loss.value_and_gradient(y_true[h], y_pred[h], sample_weight=sample_weight,
                                           reduction=reduction)
            values[h], grads[h] = self.weights[h] * v, self.weights[h] * g
        return (values if reduction == "none" else sum(values.values())), grads

    def hessian(self, y_true, y_pred, *, sample_weight=None, reduction="mean") -> dict:
        hess = self._each("hessian", y_true, y_pred, sample_weight, reduction)
        return {h: self.weights[h] * v for h, v in hess.items()}


def weighted_sum(**heads) -> WeightedSum:
    """A multi-task loss from named heads: each a loss (or name), or a (loss, weight) pair.

    >>> import losslab as ll
    >>> det = ll.weighted_sum(cls=ll.get("sparse_cce", from_logits=True),
    ...                       box=("smooth_l1", 2.0))
    >>> det.weights
    {'cls': 1.0, 'box': 2.0}
    """
    return WeightedSum(heads)


# ---------------------------------------------------------------------------------------------
# a user's own loss
# ---------------------------------------------------------------------------------------------

def _stencil(f, y_true, y_pred):
    """4-point central difference of an elementwise function, every element at once. The step is
    1e-3 max(1, |y_pred|): the hessian of a loss given without derivatives is a stencil of this
    stencil, whose round-off grows as eps / h^2 (see ``numerics.fd_step``)."""
    h = M.fd_step(y_pred, 1e-3)
    return M.stencil(lambda p: f(y_true, p), y_pred, h) / (12 * h)


class CustomLoss(Loss):
    """A user's elementwise NumPy function of (y_true, y_pred), as a full loss.

    ``fn(y_true, y_pred)`` returns the unreduced values; ``gradient`` and ``hessian`` (optional,
    same signature) their elementwise derivatives in y_pred. Without them losslab takes 4-point
    central differences (the verification's stencil, with h = 1e-3 max(1, |y_pred|)): about
    1e-10 relative for smooth functions, meaningless at kinks. ``check_gradient`` measures a supplied gradient against the same
    differences. Reductions, weights, validation, other array namespaces (through NumPy), exports
    and composition work as for any built-in loss.
    """

    shape_rule = "same"
    convex = "unknown"
    outlier_sensitivity = "unknown"
    convention = "user-defined"
    references = ("user-defined",)
    formula_latex = ""
    gradient_latex = ""

    def __init__(self, *, fn, gradient=None, hessian=None, name=None, task="regression",
                 check_finite=True):
        super().__init__(check_finite=check_finite)
        if not callable(fn):
            raise TypeError(f"fn must be a function of (y_true, y_pred), got {type(fn).__name__}")
        for what, f in (("gradient", gradient), ("hessian", hessian)):
            if f is not None and not callable(f):
                raise TypeError(f"{what} must be a function of (y_true, y_pred) or None")
        self.fn, self.gradient_fn, self.hessian_fn = fn, gradient, hessian
        self.name = name or getattr(fn, "__name__", "custom")
        self.task = V.check_choice(task, "task", ("regression", "binary"))
        self.summary = f"User-defined loss {self.name!r}."
        self.formula = f"{self.name}(y_true, y_pred) (user function)"
        self.gradient_formula = ("user-supplied" if gradient is not None else
                                 "numerical: 4-point central differences, h = 1e-3 max(1, |y_pred|); "
                                 "about 1e-10 relative for smooth functions")
        self.hessian_kind = "exact"  # elementwise: the diagonal is the whole hessian

    def get_params(self) -> dict:
        return {"fn": self.fn, "gradient": self.gradient_fn, "hessian": self.hessian_fn,
                "name": self.name, "task": self.task}

    def __repr__(self) -> str:
        grad = "supplied" if self.gradient_fn is not None else "numerical"
        return f"CustomLoss(name={self.name!r}, gradient={grad})"

    def sample_inputs(self, rng, n=8):
        y = rng.normal(0.0, 2.0, size=n)
        return y, y + rng.uniform(0.05, 3.0, size=n) * rng.choice([-1.0, 1.0], size=n)

    def _call(self, f, y_true, y_pred, what):
        out = np.asarray(f(y_true, y_pred), dtype=y_pred.dtype)
        if out.shape != y_pred.shape:
            raise ValueError(f"the custom {what} of {self.name!r} must return one value per element, "
                             f"shape {y_pred.shape}; got {out.shape}")
        return out

    def _kernel(self, xp, inputs, order):
        y_true, y_pred = inputs
        if xp is not np:  # the user's function is NumPy: round-trip through host memory
            import array_api_compat

            dev = array_api_compat.device(y_pred)
            v, g, h = self._kernel(np, (np.asarray(y_true), np.asarray(y_pred)), order)
            back = [None if a is None else xp.asarray(a, device=dev) for a in (v, g, h)]
            return tuple(back)
        value = self._call(self.fn, y_true, y_pred, "loss")
        grad = hess = None
        if order >= 1:
            if self.gradient_fn is not None:
                grad = self._call(self.gradient_fn, y_true, y_pred, "gradient")
            else:
                grad = _stencil(self.fn, y_true, y_pred).astype(y_pred.dtype)
        if order >= 2:
            if self.hessian_fn is not None:
                hess = self._call(self.hessian_fn, y_true, y_pred, "hessian")
            else:
                g = self.gradient_fn or (lambda t, p: _stencil(self.fn, t, p))
                hess = _stencil(g, y_true, y_pred).astype(y_pred.dtype)
        return value, grad, hess


def custom(fn, gradient=None, hessian=None, *, name=None, task="regression") -> CustomLoss:
    """A full loss from a user's elementwise function; see ``CustomLoss``.

    >>> import numpy as np, losslab as ll
    >>> quartic = ll.custom(lambda y, p: (p - y) ** 4, gradient=lambda y, p: 4 * (p - y) ** 3,
    ...                     name="quartic")
    >>> float(quartic([0.0], [2.0]))
    16.0
    >>> ll.check_gradient(quartic, [0.0, 1.0], [2.0, -1.0]).ok
    True
    """
    return CustomLoss(fn=fn, gradient=gradient, hessian=hessian, name=name, task=task)


# ---------------------------------------------------------------------------------------------
# checking a gradient
# ---------------------------------------------------------------------------------------------


@dataclass
class GradientCheck:
    """The result of ``check_gradient``: the worst relative disagreement and where it is."""

    ok: bool
    gradient_error: float  # max |analytic - numerical| / max |numerical|
    where: tuple  # (input name, index) of the worst gradient entry
    analytic: float
    numerical: float
    hessian_error: float | None
    rtol: float

    def __str__(self) -> str:
        h = "" if self.hessian_error is None else f"; hessian error {self.hessian_error:.2e}"
        status = "ok" if self.ok else "MISMATCH"
        return (f"{status}: gradient error {self.gradient_error:.2e} (tolerance {self.rtol:g}), "
                f"worst at {self.where[0]}{list(self.where[1])}: analytic {self.analytic:.10g}, "
                f"numerical {self.numerical:.10g}{h}")


def check_gradient(loss, *inputs, rtol: float = 1e-6) -> GradientCheck:
    """Compare a loss's gradient (and hessian, where it has one) with 4-point central differences
    of its value at the given inputs, in float64; report the worst entry.

    Inputs are passed as the loss takes them, e.g. ``check_gradient(loss, y_true, y_pred)``.
    Keep them away from kinks, where no derivative exists to check.
    """
    from .verification import numerical_gradient, numerical_hessian, relative_error

    loss = get(loss)
    inputs = [np.asarray(a, dtype=np.float64) if np.asarray(a).dtype.kind == "f" else np.asarray(a)
              for a in inputs]
    grads = loss.gradient(*inputs, reduction="none")
    grads = grads if isinstance(grads, tuple) else (grads,)
    has_h = loss.info.hessian != "none"
    hessians = loss.hessian(*inputs, reduction="none") if has_h else None
    hessians = hessians if isinstance(hessians, tuple) or hessians is None else (hessians,)
    worst = (-1.0, None, 0.0, 0.0)
    h_err = 0.0 if has_h else None
    g_err = 0.0
    for i, name in enumerate(loss.differentiable):
        k = loss.inputs.index(name)
        num = numerical_gradient(loss, inputs, k)
        g = np.asarray(grads[i], dtype=np.float64)
        g_err = max(g_err, relative_error(g, num, 1e-12))
        idx = np.unravel_index(int(np.argmax(np.abs(g - num))), g.shape)
        if abs(g[idx] - num[idx]) > worst[0]:
            worst = (abs(g[idx] - num[idx]), (name, tuple(int(j) for j in idx)), g[idx], num[idx])
        if has_h:
            scale = max(1e-12, float(np.max(np.abs(g))))
            h_err = max(h_err, relative_error(hessians[i], numerical_hessian(loss, inputs, k), scale))
    ok = g_err <= rtol and (h_err is None or h_err <= rtol)
    return GradientCheck(ok=ok, gradient_error=g_err, where=worst[1], analytic=float(worst[2]),
                         numerical=float(worst[3]), hessian_error=h_err, rtol=rtol)
