"""Arrays in any namespace: which namespace a call runs in, conversion of inputs, the float dtype,
and the blocked NumPy loop for large inputs. Used only by the evaluation pipeline."""

from __future__ import annotations

import math

import numpy as np

from . import _validation as V

try:  # array_api_compat is a hard dependency; importing it imports no framework.
    import array_api_compat as _compat
except ImportError:  # pragma: no cover - declared dependency
    _compat = None

# Rows are processed in blocks of about this many elements on the NumPy path (512 KiB of
# float64 per temporary: they stay in cache). Measured on 10**6 elements, 2**15 to 2**17 were
# within 10% of each other; whole-array temporaries (no blocks) were 2.5x slower.
BLOCK_ELEMENTS = 1 << 16

# Floating dtypes the kernels are written for; others (bfloat16, float8) are refused by name.
_FLOAT_NAMES = ("float16", "float32", "float64")


def is_numpy(x) -> bool:
    return isinstance(x, (np.ndarray, np.generic))


def is_foreign(x) -> bool:
    """An Array-API array that is not NumPy (PyTorch, JAX, CuPy, array-api-strict, ...)."""
    if x is None or is_numpy(x) or isinstance(x, (list, tuple, int, float)):
        return False
    return _compat is not None and _compat.is_array_api_obj(x)


def namespace(*arrays):
    """(xp, like): NumPy for NumPy inputs and Python sequences (the fast path), else the first
    foreign array's namespace and that array (its device is where the others go)."""
    for a in arrays:
        if is_foreign(a):
            return _compat.array_namespace(a), a
    return np, None


def device(a):
    return _compat.device(a)


def to_namespace(xp, x, like, name):
    """Bring an input into namespace ``xp`` (on the device of ``like``), rejecting non-numeric
    data. Foreign arrays that require grad are detached: losslab returns its own derivatives."""
    if xp is np:
        if is_foreign(x):
            x = host(x, name)
        return V.as_numeric(x, name)
    if _compat.is_array_api_obj(x) and not is_numpy(x):
        arr = x
        if getattr(arr, "requires_grad", False):
            arr = arr.detach()
    else:
        h = np.asarray(x)
        if h.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold real numbers, got dtype {h.dtype}")
        arr = xp.asarray(h, device=_compat.device(like) if like is not None else None)
    if xp.isdtype(arr.dtype, "real floating"):
        if not any(arr.dtype == getattr(xp, n, None) for n in _FLOAT_NAMES):
            raise TypeError(f"{name} has dtype {arr.dtype}, which losslab does not compute in; "
                            "use float16, float32 or float64")
    elif not (xp.isdtype(arr.dtype, "integral") or xp.isdtype(arr.dtype, "bool")):
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    return arr


def host(a, name="array"):
    """A NumPy view or copy of any CPU array (DLPack where the namespace refuses __array__)."""
    if isinstance(a, np.ndarray):
        return a
    if getattr(a, "requires_grad", False):
        a = a.detach()
    try:
        return np.from_dlpack(a)
    except (TypeError, RuntimeError, BufferError, AttributeError):
        pass
    try:
        return np.asarray(a)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise TypeError(f"{name} cannot be brought to host memory ({type(a).__name__}, dtype "
                        f"{getattr(a, 'dtype', '?')}): {exc}") from None


def float_dtype(xp, arr):
    """The floating dtype computations run in: the input's own (float16 in float32 on NumPy,
    whose float16 loops are slow and lose range), or float64 for integer input."""
    if xp.isdtype(arr.dtype, "real floating"):
        if xp is np and arr.dtype == np.float16:
            return np.float32
        return arr.dtype
    return xp.float64


def transpose(xp, a):
    """Swap the two axes; contiguous on NumPy, so that the kernel's loops run long."""
    if a is None:
        return None
    if xp is np:
        return np.ascontiguousarray(a.T)
    return xp.permute_dims(a, (1, 0))


def scale_inplace(xp, a, s):
    """a * s, in place on the NumPy fast path (kernels return fresh arrays)."""
    if xp is np and isinstance(a, np.ndarray) and a.flags.writeable and (
            isinstance(s, float) or np.broadcast_shapes(s.shape, a.shape) == a.shape):
        np.multiply(a, s, out=a)
        return a
    return a * s


def blocked(run, inputs, outputs_like, scale, reduction, value_shape, order):
    """The NumPy path for large inputs: ``run(block_inputs, block_scale)`` evaluates rows lo:hi
    (kernel and scaling) and returns (value, grads, hessians), the derivatives as tuples shaped
    like ``outputs_like``; they are written into preallocated outputs. Temporaries then stay small
    (in cache, and in the heap): one pass over 10**6 elements with whole-array temporaries
    allocates and page-faults a fresh 8 MB for each intermediate, which costs more than the
    arithmetic. The result equals the one-block result up to the order of the final summation.
    """
    like = outputs_like[0]
    n = like.shape[0]
    rows = max(1, BLOCK_ELEMENTS // max(1, like.size // n))
    grads = tuple(np.empty_like(a) for a in outputs_like) if order >= 1 else None
    hess = tuple(np.empty_like(a) for a in outputs_like) if order >= 2 else None
    values = np.empty(value_shape, dtype=like.dtype) if reduction == "none" else None
    total = 0.0
    per_row = isinstance(scale, np.ndarray) and scale.ndim and scale.shape[0] == n
    for lo in range(0, n, rows):
        hi = min(n, lo + rows)
        v, g, h = run([a[lo:hi] for a in inputs], scale[lo:hi] if per_row else scale)
        for out, part in ((grads, g), (hess, h)):
            if out is not None:
                for o, p_ in zip(out, part):
                    o[lo:hi] = p_
        if values is not None:
            values[lo:hi] = v
        else:
            total += float(v)
    value = values if values is not None else like.dtype.type(total)
    return value, grads, hess


def size(a) -> int:
    return math.prod(a.shape)
