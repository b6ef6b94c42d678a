"""Losses of more than one input (embeddings, overlaps, sequences, ...): a declaration only.

A ``MultiInputLoss`` names its inputs in order (``inputs``) and the ones it is differentiable in
(``differentiable``); they go through the same pipeline as every loss (``_prepared``) and can be
passed by position or by name::

    loss(x1, x2, y)                      # value
    loss.gradient(x1, x2, y)             # (d/dx1, d/dx2): one array per differentiable input
    loss.hessian(x1=x1, x2=x2, y=y)      # the diagonals, likewise
    loss.prepare(y=y).value(x1, x2)      # the fixed inputs by name, the differentiable by position

``reduction`` and ``sample_weight`` keep their meaning: the unreduced value has one entry per
sample (or per element, for elementwise losses such as ``gaussian_nll``), ``sample_weight`` one
weight per sample. Each input declares which of its axes is the batch axis (``batch_axes``; CTC's
log-probabilities are (T, N, C)), so that per-sample scales reach every derivative.
"""

from __future__ import annotations

from typing import ClassVar

from . import _validation as V
from ._base import Loss


class MultiInputLoss(Loss):
    """Base class of losses of several arrays; see the module docstring."""

    inputs: ClassVar[tuple[str, ...]]
    differentiable: ClassVar[tuple[str, ...]]
    shape_rule = "multi"

    def _input_domains(self) -> dict:
        """name -> Interval / LabelSet / None (declared by each loss)."""
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

    def _check_shapes(self, arrays):
        """Default: every input has the same shape."""
        for a, n in zip(arrays[1:], self.inputs[1:]):
            V.check_same_shape(arrays[0], a, self.inputs[0], n)

    def _value_shape(self, arrays):
        name = self.differentiable[0]
        first = arrays[self.inputs.index(name)]
        return (first.shape[self._batch_axis(name)],)


class _Text(str):
    """A domain described in words (for info), with no validation behind it."""

    note = ""
