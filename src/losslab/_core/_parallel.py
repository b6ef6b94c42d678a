"""Row-chunked evaluation on several threads, for large NumPy inputs.

NumPy's ufuncs release the GIL, so the kernel of a loss can run on disjoint row blocks at once.
Each worker evaluates the kernel on its block, applies the reduction's scale to it and writes its
part of the preallocated outputs; the partial sums are added at the end. The result equals the
one-thread result up to the order of the final summation (a few ulps of the reduced value).

``LOSSLAB_NUM_THREADS`` sets the number of threads (1 switches this off); by default it is the
number of cores, at most 8. Inputs under 2**17 elements run on one thread.
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

MIN_ELEMENTS = 1 << 17
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def n_threads() -> int:
    env = os.environ.get("LOSSLAB_NUM_THREADS")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise ValueError(f"LOSSLAB_NUM_THREADS must be a positive integer, got {env!r}") from None
    return max(1, min(8, os.cpu_count() or 1))


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=n_threads(), thread_name_prefix="losslab")
        return _pool


def worth_it(y_pred) -> bool:
    k = n_threads()
    return k > 1 and y_pred.size >= MIN_ELEMENTS and y_pred.shape[0] >= 2 * k


def _rows(a, lo, hi):
    """Rows lo:hi of an array, or the value itself for scalars and None."""
    if isinstance(a, np.ndarray) and a.ndim and a.shape[0] > 1:
        return a[lo:hi]
    return a


def evaluate(loss, y_true, y_pred, scale, reduction, order):
    k = n_threads()
    n = y_pred.shape[0]
    bounds = [(i * n // k, (i + 1) * n // k) for i in range(k)]
    value_shape = loss._value_shape(y_pred)
    grad = np.empty_like(y_pred) if order >= 1 else None
    hess = np.empty_like(y_pred) if order >= 2 else None
    values = np.empty(value_shape, dtype=y_pred.dtype) if reduction == "none" else None

    def work(lo, hi):
        v, g, h = loss._run_kernel(np, y_true[lo:hi], y_pred[lo:hi], order)
        v, g, h = loss._apply_scale(np, v, g, h, _rows(scale, lo, hi), reduction)
        if g is not None:
            grad[lo:hi] = g
        if h is not None:
            hess[lo:hi] = h
        if values is not None:
            values[lo:hi] = v
            return 0.0
        return v

    futures = [_executor().submit(work, lo, hi) for lo, hi in bounds]
    partial = [f.result() for f in futures]
    value = values if values is not None else np.sum(partial, dtype=y_pred.dtype)
    return value, grad, hess


__all__ = ["evaluate", "worth_it", "n_threads", "MIN_ELEMENTS"]
