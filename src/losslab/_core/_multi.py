"""The contract of losses with more than one input (embeddings, overlaps, sequences, ...).

A ``MultiInputLoss`` names its inputs in order (``inputs``) and the ones it is differentiable in
(``differentiable``). They can be passed by position or by name::

    loss(x1, x2, y)                      # value
    loss.gradient(x1, x2, y)             # (d/dx1, d/dx2): one array per differentiable input
    loss.hessian(x1=x1, x2=x2, y=y)      # the diagonals, likewise

``reduction`` and ``sample_weight`` keep the core meaning: the unreduced value has one entry per
sample (or per element, for elementwise losses such as ``gaussian_nll``), ``sample_weight`` one
weight per sample. Each input declares which of its axes is the batch axis (``batch_axes``; CTC's
log-probabilities are (T, N, C)), so that per-sample scales reach every derivative.

The kernel receives the validated inputs in order and returns
``(value, gradients, hessians)`` with one entry per differentiable input (None below ``order``).
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from . import _base
from . import _validation as V
from ._base import (_NOTHING_TO_AVERAGE, Loss, _float_dtype, _namespace, _reduce_value,
                    _to_namespace)


class MultiInputLoss(Loss):
    """Base class of losses of several arrays; see the module docstring."""

    inputs: ClassVar[tuple[str, ...]]
    differentiable: ClassVar[tuple[str, ...]]
    batch_axes: ClassVar[tuple[int, ...] | None] = None  # per input; None: all 0
    integer_inputs: ClassVar[tuple[str, ...]] = ()  # kept as integers (labels, lengths)
    # Coupled losses (one sample's value depends on other samples' inputs, e.g. ntxent): the
    # kernel receives the per-sample coefficients c of the reduction and returns the derivatives
    # of sum_i c_i l_i itself, since scaling rows afterwards would be wrong.
    coupled: ClassVar[bool] = False
    shape_rule = "multi"

    @property
    def reduces_class_axis(self) -> bool:
        return True  # the unreduced value is per sample unless _value_shape says otherwise

    # ---- metadata ---------------------------------------------------------------------------
    def _input_domains(self) -> dict:
        """name -> Interval / LabelSet / None."""
        return {}

    def _y_true_domain(self):  # shown in info: the non-differentiable inputs
        domains = self._input_domains()
        parts = []
        for n in self.inputs:
            if n in self.differentiable:
                continue
            d = domains.get(n)
            text = (self._domain_text(d) if d is not None
                    else "integers" if n in self.integer_inputs else "real numbers")
            parts.append(f"{n}: {text}")
        return _Text("; ".join(parts) or "none (every input is differentiable)")

    def _y_pred_domain(self):
        parts = [f"{n}: {self._domain_text(self._input_domains().get(n))}" for n in self.differentiable]
        return _Text("; ".join(parts))

    # ---- the public contract -----------------------------------------------------------------
    def __call__(self, *arrays, sample_weight=None, reduction="mean", **named):
        return self._evaluate_multi(arrays, named, sample_weight, reduction, 0)[0]

    def gradient(self, *arrays, sample_weight=None, reduction="mean", **named):
        return self._evaluate_multi(arrays, named, sample_weight, reduction, 1)[1]

    def value_and_gradient(self, *arrays, sample_weight=None, reduction="mean", **named):
        value, grads, _ = self._evaluate_multi(arrays, named, sample_weight, reduction, 1)
        return value, grads

    def hessian(self, *arrays, sample_weight=None, reduction="mean", **named):
        if self.hessian_kind == "none":
            raise TypeError(f"{self.name} provides no hessian (info.hessian is 'none'); its gradient "
                            "is exact")
        return self._evaluate_multi(arrays, named, sample_weight, reduction, 2)[2]

    def _inputs_mask(self, xp, arrays):
        """Boolean array over the samples: which ones count (None: all)."""
        return None

    # ---- machinery ------------------------------------------------------------------------------
    def _collect(self, arrays, named):
        if len(arrays) > len(self.inputs):
            raise TypeError(f"{self.name} takes {len(self.inputs)} inputs "
                            f"({', '.join(self.inputs)}), got {len(arrays)}")
        values = dict(zip(self.inputs, arrays))
        for k, v in named.items():
            if k not in self.inputs:
                raise TypeError(f"{self.name} has no input {k!r}; its inputs are {', '.join(self.inputs)}")
            if k in values:
                raise TypeError(f"{self.name} got input {k!r} twice")
            values[k] = v
        missing = [n for n in self.inputs if n not in values]
        if missing:
            raise TypeError(f"{self.name} is missing input(s) {', '.join(missing)}; "
                            f"its inputs are {', '.join(self.inputs)}")
        return [values[n] for n in self.inputs]

    def _prepare_multi(self, arrays):
        xp, like = _namespace(*arrays)
        converted = [_to_namespace(xp, a, like, n) for a, n in zip(arrays, self.inputs)]
        first = converted[self.inputs.index(self.differentiable[0])]
        if xp.isdtype(first.dtype, "bool"):
            raise TypeError(f"{self.differentiable[0]} must hold real numbers, got dtype bool")
        dtype = _float_dtype(xp, first)
        out = []
        for a, n in zip(converted, self.inputs):
            if math.prod(a.shape) == 0:
                raise ValueError(f"{n} must not be empty, got shape {tuple(a.shape)}")
            if n in self.integer_inputs:
                a = _integers(xp, a, n)
            else:
                a = xp.astype(a, dtype, copy=False)
                if self.check_finite:
                    V.check_finite(xp, a, n)
            out.append(a)
        self._check_shapes_multi(out)
        for a, n in zip(out, self.inputs):
            V.check_domain(xp, a, n, self._input_domains().get(n))
        return xp, self._standardise(xp, out)

    def _check_shapes_multi(self, arrays):
        """Default: every input has the same shape."""
        for a, n in zip(arrays[1:], self.inputs[1:]):
            V.check_same_shape(arrays[0], a, self.inputs[0], n)

    def _standardise(self, xp, arrays):
        return arrays

    def _value_shape_multi(self, arrays):
        first = arrays[self.inputs.index(self.differentiable[0])]
        return (first.shape[self._batch_axis(self.differentiable[0])],)

    def _batch_axis(self, name):
        return 0 if self.batch_axes is None else self.batch_axes[self.inputs.index(name)]

    def _evaluate_multi(self, arrays, named, sample_weight, reduction, order):
        V.check_reduction(reduction)
        xp, arrays = self._prepare_multi(self._collect(arrays, named))
        value_shape = self._value_shape_multi(arrays)
        like = arrays[self.inputs.index(self.differentiable[0])]
        w = None if sample_weight is None else self._weights(xp, sample_weight, like, value_shape)
        scale = self._scale_for(xp, w, self._inputs_mask(xp, arrays), reduction, value_shape,
                                like.dtype)
        if scale is _NOTHING_TO_AVERAGE:  # no sample counts: 0, with zero derivatives
            zeros = tuple(xp.zeros_like(arrays[self.inputs.index(n)]) for n in self.differentiable)
            return (xp.sum(xp.zeros(value_shape, dtype=like.dtype)),
                    zeros if order >= 1 else None, zeros if order >= 2 else None)
        if self.coupled:
            c = xp.ones(value_shape, dtype=like.dtype)
            if scale is not None:
                c = c * scale
            value, grads, hess = self._kernel(xp, arrays, order, c)
            if reduction == "none":
                return (value if scale is None else value * scale), grads, hess
            return xp.sum(value * c), grads, hess
        if xp is np and self.batch_axes is None and like.size >= 2 * _base.BLOCK_ELEMENTS:
            differentiable = [arrays[self.inputs.index(n)] for n in self.differentiable]
            value, grads, hess = _base._blocked(
                lambda block, s: self._evaluate_block(np, block, s, reduction, value_shape, order),
                arrays, differentiable, scale, reduction, value_shape, order)
            return value, (grads if order >= 1 else None), (hess if order >= 2 else None)
        return self._evaluate_block(xp, arrays, scale, reduction, value_shape, order)

    def _evaluate_block(self, xp, arrays, scale, reduction, value_shape, order):
        """Kernel, then the reduction's scaling of the value and of each derivative."""
        value, grads, hess = self._kernel(xp, arrays, order)
        value = _reduce_value(xp, value, scale, reduction)
        if scale is not None:
            grads = None if grads is None else tuple(
                self._scaled(xp, g, scale, n, len(value_shape)) for g, n in zip(grads, self.differentiable))
            hess = None if hess is None else tuple(
                self._scaled(xp, h, scale, n, len(value_shape)) for h, n in zip(hess, self.differentiable))
        return value, grads, hess

    def _scaled(self, xp, a, scale, name, value_ndim):
        if isinstance(scale, float):
            return a * scale
        b = self._batch_axis(name)
        shape = (1,) * b + tuple(scale.shape) + (1,) * (a.ndim - b - value_ndim)
        return a * xp.reshape(scale, shape)


class _Text(str):
    """A domain described in words (for info), with no validation behind it."""

    note = ""


def _integers(xp, a, name):
    """Integer labels or lengths; whole-number floats are accepted."""
    if xp.isdtype(a.dtype, "integral"):
        return xp.astype(a, xp.int64)
    if xp.isdtype(a.dtype, "bool"):
        raise TypeError(f"{name} must hold integers, got dtype bool")
    n_bad = V.count(xp, a != xp.round(a))
    if n_bad:
        raise ValueError(f"{name} must hold integers; {n_bad} of {math.prod(a.shape)} values are not "
                         "whole numbers")
    return xp.astype(a, xp.int64)
