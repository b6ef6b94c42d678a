"""Numerically stable primitives, written once for every array namespace.

Every function takes the array namespace ``xp`` first (NumPy itself on the fast path, or any
Array-API namespace through ``array_api_compat``) and uses only functions of the Array-API standard.
Each one says which naive formula it replaces and why; ``tests/test_math.py`` checks each at
extreme inputs against an arbitrary-precision or closed-form reference.
"""

from __future__ import annotations

import math

LOG2 = math.log(2.0)


def softplus(xp, x):
    """log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|)).

    exp(x) overflows for x > 709 in float64 (88 in float32); exp(-|x|) never does.
    """
    return xp.maximum(x, 0.0) + xp.log1p(xp.exp(-xp.abs(x)))


def softplus_pair(xp, x):
    """(softplus(x), softplus(-x)) from one exp, each to full relative precision.

    softplus(-x) written as softplus(x) - x cancels to 0 for large x, where its true value
    exp(-x) is tiny but not zero.
    """
    t = xp.log1p(xp.exp(-xp.abs(x)))
    return xp.maximum(x, 0.0) + t, xp.maximum(-x, 0.0) + t


def log_sigmoid(xp, x):
    """log(sigmoid(x)) = -softplus(-x); stays accurate where sigmoid(x) rounds to 0 or 1."""
    return -softplus(xp, -x)


def sigmoid(xp, x):
    """1 / (1 + exp(-x)) with no overflow: both branches are written with exp(-|x|) <= 1."""
    z = xp.exp(-xp.abs(x))
    r = 1.0 / (1.0 + z)
    return xp.where(x >= 0, r, z * r)


def sigmoid_pair(xp, x):
    """(sigmoid(x), sigmoid(-x)), each to full relative precision.

    Computing 1 - sigmoid(x) loses every digit once sigmoid(x) rounds to 1; sigmoid(-x) does not.
    """
    z = xp.exp(-xp.abs(x))
    r = 1.0 / (1.0 + z)
    small = z * r
    pos = x >= 0
    return xp.where(pos, r, small), xp.where(pos, small, r)


def _shifted_lse(xp, x):
    """(m, log1p(rest)) with m the row maximum and rest the sum of the other exp(x - m)."""
    m = xp.max(x, axis=-1, keepdims=True)
    first_max = xp.arange(x.shape[-1]) == xp.argmax(x, axis=-1, keepdims=True)
    rest = xp.sum(xp.where(first_max, 0.0, xp.exp(x - m)), axis=-1, keepdims=True)
    return m, xp.log1p(rest)


def logsumexp(xp, x, keepdims=False):
    """log(sum(exp(x))) over the last axis, as m + log1p(sum of the other exp(x - m)).

    Shifting by the maximum m prevents overflow; summing the other terms apart from the maximum's
    exp(0) = 1 and taking log1p keeps the tail: log(1 + 2e-22) rounds to 0, log1p does not.
    """
    m, tail = _shifted_lse(xp, x)
    out = m + tail
    return out if keepdims else xp.squeeze(out, axis=-1)


def log_softmax(xp, x):
    """(x - m) - log1p(rest) along the last axis: exact where softmax(x) underflows to 0, and for
    the maximum of a confident row, where x - logsumexp(x) would round log p = -2e-22 to 0."""
    m, tail = _shifted_lse(xp, x)
    return (x - m) - tail


def xlogy(xp, x, y):
    """x * log(y) with the convention 0 * log(0) = 0 (as scipy.special.xlogy)."""
    safe = xp.where(x == 0, 1.0, y)
    return xp.where(x == 0, 0.0, x * xp.log(safe))


def logcosh(xp, x):
    """log(cosh(x)) = |x| + log1p(exp(-2|x|)) - log 2; cosh overflows for |x| > 710."""
    a = xp.abs(x)
    return a + xp.log1p(xp.exp(-2.0 * a)) - LOG2


def one_minus_softmax(xp, x, log_p):
    """1 - softmax(x) along the last axis, to full relative precision also where p is close to 1.

    For the row maximum, 1 - p loses every digit once p rounds to 1; there it is computed as
    exp(logsumexp over the other entries - logsumexp over all), which has no cancellation.
    For the other entries p <= 1/2, so 1 - p is exact enough. Returns (q, is_max, log_q_max_others)
    where the last is logsumexp over the entries other than the row maximum (needed by callers that
    form ratios p_j / q_max without underflow).
    """
    n_classes = x.shape[-1]
    idx = xp.argmax(x, axis=-1, keepdims=True)
    is_max = xp.arange(n_classes) == idx
    others = xp.where(is_max, -math.inf, x)
    lse_others = logsumexp(xp, others, keepdims=True)
    lse_all = logsumexp(xp, x, keepdims=True)
    q_max = xp.exp(lse_others - lse_all)
    q = xp.where(is_max, q_max, 1.0 - xp.exp(log_p))
    return q, is_max, lse_others
