"""Numerically stable primitives, written once for every array namespace.

Every function takes the array namespace ``xp`` first (NumPy itself on the fast path, or any
Array-API namespace through ``array_api_compat``) and uses only functions of the Array-API standard.
Each one says which naive formula it replaces and why; ``tests/test_math.py`` checks each at
extreme inputs against an arbitrary-precision or closed-form reference.
"""

from __future__ import annotations

import math

import numpy as np

LOG2 = math.log(2.0)


def sigmoid_pair(xp, x):
    """(sigmoid(x), sigmoid(-x)), each to full relative precision.

    Computing 1 - sigmoid(x) loses every digit once sigmoid(x) rounds to 1; sigmoid(-x) does not.
    """
    _, _, s_pos, s_neg = logistic_parts(xp, x, softplus_too=False)
    return s_pos, s_neg


def logistic_parts(xp, x, softplus_too=True):
    """softplus(x), softplus(-x), sigmoid(x), sigmoid(-x) from one exp(-|x|), each accurate.

    With z = exp(-|x|) <= 1 and r = 1 / (1 + z): the sigmoid is r on its own side of 0 and z r
    on the other. The side is chosen by mask arithmetic, (pos + (1 - pos) z) r, which is exact
    for pos in {0, 1} and avoids a branchy select (3x slower in NumPy). softplus(+-x) =
    max(+-x, 0) + log1p(z).
    """
    z = xp.exp(-xp.abs(x))
    r = 1.0 / (1.0 + z)
    pos = xp.astype(x >= 0, x.dtype)
    neg = 1.0 - pos
    s_pos = (pos + neg * z) * r
    s_neg = (neg + pos * z) * r
    if not softplus_too:
        return None, None, s_pos, s_neg
    t = xp.log1p(z)
    return pos * x + t, t - neg * x, s_pos, s_neg


def trailing_sum(xp, a, start=1):
    """Sum over axes start..end, keeping them (size 1). NumPy reduces short trailing axes with
    a loop per row (6x slower for 3 columns); a product with a vector of ones does not."""
    if xp is np and a.dtype.kind == "f" and a.ndim > start and math.prod(a.shape[start:]) <= 4096:
        k = math.prod(a.shape[start:])
        out = a.reshape(a.shape[:start] + (k,)) @ np.ones(k, dtype=a.dtype)
        return out.reshape(a.shape[:start] + (1,) * (a.ndim - start))
    return xp.sum(a, axis=tuple(range(start, a.ndim)), keepdims=True)


# ---- class-major helpers ----------------------------------------------------------------------
# Losses over a class axis run their kernels on (n_classes, n_samples) arrays: broadcasting one
# number per sample against a class-major array runs long contiguous loops, where the (N, C)
# layout runs a loop of length C per row (3x slower in NumPy for C = 4). ``Loss`` transposes in
# and out; the functions below take the classes on axis 0.


def class_sum(xp, a):
    """Sum over the classes (axis 0), keeping the axis: shape (1, N)."""
    return xp.sum(a, axis=0, keepdims=True)


def class_max(xp, a):
    """Maximum over the classes (axis 0), keeping the axis: shape (1, N)."""
    return xp.max(a, axis=0, keepdims=True)


def softmax_parts(xp, x):
    """(m, e, is_max, rest) of class-major logits x (C, N): everything a stable softmax needs.

    m is each sample's maximum, e = exp(x - m) (so e = 1 exactly at the maxima), is_max marks
    the maxima (as 0.0 / 1.0), and rest = sum(e) - 1 computed without that subtraction: the
    maxima's exact ones are removed first and added back as (number of maxima - 1). Then

    * log softmax(x) = (x - m) - log1p(rest): keeps log p = -2e-22 for a confident sample, where
      x - logsumexp(x) rounds it to 0;
    * softmax(x) = e / (1 + rest);
    * 1 - softmax(x) at a maximum = rest / (1 + rest), with no cancellation where p rounds to 1.
    """
    m = class_max(xp, x)
    e = xp.exp(x - m)
    is_max = xp.astype(x == m, x.dtype)
    rest = class_sum(xp, e - is_max) + (class_sum(xp, is_max) - 1.0)
    return m, e, is_max, rest


def logsumexp(xp, x):
    """log(sum(exp(x))) over the classes (axis 0) of class-major x, as m + log1p(rest) (see
    softmax_parts): no overflow, and the tail survives: log(1 + 2e-22) rounds to 0, log1p not."""
    m, _, _, rest = softmax_parts(xp, x)
    return (m + xp.log1p(rest))[0, ...]


def log_softmax(xp, x):
    """(x - m) - log1p(rest) over the classes (axis 0): exact where softmax(x) underflows to 0,
    and for the maximum of a confident sample."""
    m, _, _, rest = softmax_parts(xp, x)
    return (x - m) - xp.log1p(rest)


def xlogy(xp, x, y):
    """x * log(y) with the convention 0 * log(0) = 0 (as scipy.special.xlogy): where x = 0 the
    log is taken of y + 1 > 0 and multiplied by 0, with no select."""
    return x * xp.log(y + xp.astype(x == 0, y.dtype))


def logcosh(xp, x):
    """log(cosh(x)) = |x| + log1p(exp(-2|x|)) - log 2; cosh overflows for |x| > 710."""
    a = xp.abs(x)
    return a + xp.log1p(xp.exp(-2.0 * a)) - LOG2


def one_minus_softmax(xp, x):
    """1 - softmax(x) over the classes (axis 0), to full relative precision also where p rounds
    to 1: at a maximum 1 - p = rest / (1 + rest) (see softmax_parts); elsewhere p <= 1/2."""
    _, e, is_max, rest = softmax_parts(xp, x)
    total = 1.0 + rest
    return xp.where(is_max > 0, rest / total, 1.0 - e / total)


SAFE_MAGNITUDE = 1e50  # below it no power up to |v|^5 (the cosine hessian) overflows


def safe_magnitude(xp, dtype) -> float:
    """Entries below this need no scaling: SAFE_MAGNITUDE (1e50) in float64; in a narrower
    float, a tenth of the largest value whose fifth power is finite (float32: about 5e6, since
    its squares overflow from 1.8e19)."""
    try:
        top = float(xp.finfo(dtype).max)
    except (TypeError, ValueError, AttributeError):
        return SAFE_MAGNITUDE
    return min(SAFE_MAGNITUDE, top ** 0.2 / 10.0)


def row_scale(xp, v, axis=-1):
    """max(1, max |v|) along ``axis`` (kept), or 1.0 when every |v| < 1e50 (checked with two
    reductions; then no norm to the fifth power overflows and nothing needs scaling). Dividing a vector
    by it before a dot product keeps its squared norm finite for any finite entries (|v|^2
    overflows from about 1e154), and leaves small vectors untouched (eps terms keep their
    meaning)."""
    if max(float(xp.max(v)), -float(xp.min(v))) < safe_magnitude(xp, v.dtype):
        return 1.0
    return xp.maximum(xp.max(xp.abs(v), axis=axis, keepdims=True), 1.0)


def unscale(v, k):
    """v / k, skipping the pass when k is the scalar 1.0 (see ``row_scale``)."""
    return v if isinstance(k, float) and k == 1.0 else v / k


def scaled_norm(xp, v, axis=-1):
    """(|v|_2 / k, k) with k = ``row_scale``: the Euclidean norm without overflow, kept as two
    factors so that callers can form ratios such as v / |v| without ever computing |v|^2."""
    k = row_scale(xp, v, axis)
    w = unscale(v, k)
    sq = trailing_sum(xp, w * w, w.ndim - 1) if axis in (-1, w.ndim - 1) else \
        xp.sum(w * w, axis=axis, keepdims=True)
    return xp.sqrt(sq), k


# ---- sample-major helpers for the layers above (models, estimators, metrics) -------------------


def softmax(xp, x, axis=-1):
    """softmax over ``axis`` (the classes; the last by default), stable for any finite logits."""
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def sigmoid(xp, x):
    """1 / (1 + exp(-x)), stable at both ends (see ``sigmoid_pair``)."""
    return sigmoid_pair(xp, x)[0]


# ---- finite differences (the one stencil: the verification's oracle and custom losses' fallback)

FD_STEP = 1e-4  # relative step: h = FD_STEP max(1, |x|)


def fd_step(x, rel=FD_STEP):
    """The step of the stencil at x: rel max(1, |x|). With 1e-4 in float64, truncation O(h^4) is
    ~1e-16 and round-off O(eps / h) ~1e-12 relative: about 1e-10 of the derivative's scale. A
    stencil applied to a stencil (a hessian without any analytic derivative) has round-off
    O(eps / h^2) and wants rel = 1e-3."""
    return rel * np.maximum(1.0, np.abs(x))


def stencil(f, x, h):
    """Numerator of the 4-point central difference, f'(x) ~ stencil(f, x, h) / (12 h):
    f(x - 2h) - 8 f(x - h) + 8 f(x + h) - f(x + 2h). ``h`` may be 0 where x is not moved."""
    vals = [np.asarray(f(x + s * h), dtype=np.float64) for s in (-2, -1, 1, 2)]
    return vals[0] - 8 * vals[1] + 8 * vals[2] - vals[3]
