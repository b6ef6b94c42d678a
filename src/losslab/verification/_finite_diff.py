"""Central finite differences for gradients and hessian diagonals, the oracle every loss meets.

The 4-point stencil f'(x) ~ (f(x-2h) - 8 f(x-h) + 8 f(x+h) - f(x+2h)) / (12 h) has truncation
error O(h^4); with h = 1e-4 max(1, |x|) in float64 it agrees with an exact derivative to about
1e-10 of the derivative's scale. Elementwise losses are differentiated for every element at once
(each unreduced value depends on its own element only); losses that reduce a class axis, one
class column at a time (each sample's value depends on its own row only).
"""

from __future__ import annotations

import numpy as np

STEP = 1e-4


def _columns(loss, y_pred):
    """Index sets that can be perturbed together: all elements, or one class column at a time."""
    if loss.reduces_class_axis:
        for j in range(y_pred.shape[-1]):
            mask = np.zeros_like(y_pred, dtype=bool)
            mask[..., j] = True
            yield mask, j
    else:
        yield np.ones_like(y_pred, dtype=bool), None


def _stencil(f, y_pred, mask):
    h = STEP * np.maximum(1.0, np.abs(y_pred)) * mask
    vals = [f(y_pred + k * h) for k in (-2, -1, 1, 2)]
    return (vals[0] - 8 * vals[1] + 8 * vals[2] - vals[3]), h


def numerical_gradient(loss, y_true, y_pred):
    """d l_i / d y_pred, elementwise, for the unreduced loss (reduction="none")."""
    y_pred = np.asarray(y_pred, dtype=np.float64)
    out = np.zeros_like(y_pred)

    def value(x):
        return np.asarray(loss(y_true, x, reduction="none"))

    for mask, j in _columns(loss, y_pred):
        num, h = _stencil(value, y_pred, mask)
        if j is None:
            out = num / (12 * h)
        else:
            out[..., j] = num / (12 * h[..., j])
    return out


def numerical_hessian(loss, y_true, y_pred):
    """d2 l_i / d y_pred2 on the diagonal, as the central difference of the analytic gradient."""
    y_pred = np.asarray(y_pred, dtype=np.float64)
    out = np.zeros_like(y_pred)

    def grad(x):
        return np.asarray(loss.gradient(y_true, x, reduction="none"))

    for mask, j in _columns(loss, y_pred):
        num, h = _stencil(grad, y_pred, mask)
        if j is None:
            out = num / (12 * h)
        else:
            out[..., j] = num[..., j] / (12 * h[..., j])
    return out


def relative_error(actual, expected, floor: float = 0.0) -> float:
    """max|actual - expected| / max(max|expected|, floor): the error relative to the scale of the
    reference (norm-wise, so that entries that are exactly 0 do not divide by 0)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    diff = float(np.max(np.abs(actual - expected))) if actual.size else 0.0
    if diff == 0.0:
        return 0.0
    scale = max(float(np.max(np.abs(expected))), floor)
    return diff / scale if scale > 0 else float("inf")
