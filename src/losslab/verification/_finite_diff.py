"""Central finite differences for gradients and hessian diagonals, the oracle every loss meets.

The 4-point stencil f'(x) ~ (f(x-2h) - 8 f(x-h) + 8 f(x+h) - f(x+2h)) / (12 h) has truncation
error O(h^4); with h = 1e-4 max(1, |x|) in float64 it agrees with an exact derivative to about
1e-10 of the derivative's scale. Inputs are a tuple, as the loss takes them; ``k`` is the index of
the input to differentiate. Losses with one value per element are differentiated for every
element at once (each value depends on its own element only); losses with one value per sample,
one non-batch coordinate at a time across all samples at once (each sample's value depends on
its own slice only).
"""

from __future__ import annotations

import numpy as np

from .._core import numerics as M

STEP = M.FD_STEP


def _slices(shape, elementwise, batch_axis=0):
    """Index sets that can be perturbed together: every element, or one non-batch coordinate
    across the batch axis."""
    if elementwise:
        yield np.ones(shape, dtype=bool), None
        return
    rest = shape[:batch_axis] + shape[batch_axis + 1:]
    for j in np.ndindex(rest):
        mask = np.zeros(shape, dtype=bool)
        index = j[:batch_axis] + (slice(None),) + j[batch_axis:]
        mask[index] = True
        yield mask, index


def _batch_axis(loss, k):
    return loss.info.batch_axes[loss.inputs[k]]


def _replace(inputs, k, x):
    out = list(inputs)
    out[k] = x
    return out


def _component(loss, grads, k):
    """The derivative with respect to input k, from a single array or a tuple of them."""
    if not isinstance(grads, tuple):
        return np.asarray(grads)
    return np.asarray(grads[loss.differentiable.index(loss.inputs[k])])


def _central(f, x, mask):
    h = M.fd_step(x) * mask
    return M.stencil(f, x, h), h


def _coupled_gradient(f, x):
    """Element by element: for losses whose samples share inputs (f returns a scalar or array)."""
    out = None
    for idx in np.ndindex(x.shape):
        mask = np.zeros(x.shape, dtype=bool)
        mask[idx] = True
        num, h = _central(f, x, mask)
        d = np.asarray(num) / (12 * h[idx])
        if out is None:
            out = np.zeros(x.shape + np.shape(d))
        out[idx] = d
    return out


def numerical_gradient(loss, inputs, k):
    """d l_i / d inputs[k], elementwise, for the unreduced loss (reduction="none"); for coupled
    losses (one sample's value depends on others' inputs) the gradient of the summed loss."""
    x = np.asarray(inputs[k], dtype=np.float64)
    if loss.coupled:
        return _coupled_gradient(lambda xk: float(loss(*_replace(inputs, k, xk), reduction="sum")), x)

    def value(xk):
        return np.asarray(loss(*_replace(inputs, k, xk), reduction="none"))

    elementwise = value(x).shape == x.shape
    # one value entry per sample moved (the others are computed identically): sum them
    return _assemble(value, x, elementwise, _batch_axis(loss, k),
                     lambda num, index: num.reshape(num.shape[0], -1).sum(axis=1))


def numerical_hessian(loss, inputs, k):
    """d2 l_i / d inputs[k]^2 on the diagonal: central differences of the analytic gradient."""
    x = np.asarray(inputs[k], dtype=np.float64)

    def grad(xk):
        return _component(loss, loss.gradient(*_replace(inputs, k, xk), reduction="none"), k)

    if loss.coupled:
        full = _coupled_gradient(grad, x)  # full[idx] = d grad / d x[idx]
        return np.array([full[idx][idx] for idx in np.ndindex(x.shape)]).reshape(x.shape)

    elementwise = np.asarray(loss(*inputs, reduction="none")).shape == x.shape
    return _assemble(grad, x, elementwise, _batch_axis(loss, k), lambda num, index: num[index])


def _assemble(f, x, elementwise, batch_axis, entry):
    """Derivatives of ``f`` at ``x``, one stencil per slice of entries moved together; ``entry``
    picks each moved slice's own differences from the stencil's output."""
    out = np.zeros_like(x)
    for mask, index in _slices(x.shape, elementwise, batch_axis):
        num, h = _central(f, x, mask)
        if index is None:
            out = num / (12 * h)
        else:
            out[index] = entry(num, index) / (12 * h[index])
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
