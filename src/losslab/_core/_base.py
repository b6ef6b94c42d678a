"""The contract every loss follows: value, gradient, fused value-and-gradient, hessian, info.

A loss subclass declares its metadata as class attributes and implements one method,
``_kernel(xp, y_true, y_pred, order)``, which returns the *unreduced* value and, next to it, its
derivatives with respect to ``y_pred`` exactly as passed (logits when ``from_logits=True``).
Losses over a class axis receive class-major arrays, (n_classes, n_samples), and return
class-major derivatives (see ``_math``: it keeps NumPy's loops long); users never see that layout.

* ``order=0``: ``(value, None, None)``
* ``order=1``: ``(value, gradient, None)``
* ``order=2``: ``(value, gradient, hessian_diagonal)``

Everything else (converting inputs, validation, sample weights, reductions, the array namespace)
happens here, once, for every loss. Kernels must return fresh arrays (never an input array), because
the reduction scales gradients in place on the NumPy fast path.

Reductions (the same for every loss):

* ``"none"``: the unreduced values, times ``sample_weight`` when given; the gradient is the
  elementwise derivative of that.
* ``"sum"``: sum(w * l).
* ``"mean"``: mean(l) without weights; sum(w * l) / sum(w) with weights (scikit-learn's
  convention). Samples a loss ignores (``ignore_index``) get weight 0 and leave the denominator.
  When nothing is left to average (every target ignored) the value is 0 and the gradient 0.

The gradient and hessian of a reduced value carry the same normalisation as the value.
"""

from __future__ import annotations

import abc
import inspect
import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from . import _validation as V

try:  # array_api_compat is a hard dependency; imported lazily-cheap (no framework import).
    import array_api_compat as _compat
except ImportError:  # pragma: no cover - declared dependency
    _compat = None


@dataclass(frozen=True)
class LossInfo:
    """Metadata of a loss, as data. Every field is filled for every registered loss."""

    name: str
    aliases: tuple[str, ...]
    task: str  # regression | binary | multiclass | multilabel
    summary: str
    formula: str  # unreduced loss, plain text
    formula_latex: str
    gradient: str  # derivative of the unreduced loss w.r.t. y_pred, plain text
    gradient_latex: str
    y_true_domain: str
    y_pred_domain: str
    activation: str  # output activation the loss pairs with
    convex: str  # convexity in y_pred as passed
    nondifferentiable: str  # where, and which subgradient is used
    outlier_sensitivity: str
    noise_model: str | None  # maximum-likelihood noise model, where there is one
    hessian: str  # "exact" or "diagonal"
    reduces_class_axis: bool  # unreduced value per sample (True) or per element (False)
    convention: str  # which library the defaults follow, and where libraries disagree
    references: tuple[str, ...]
    hyperparameters: dict = field(default_factory=dict)
    inputs: tuple[str, ...] = ("y_true", "y_pred")  # the arrays the loss takes, in order
    differentiable: tuple[str, ...] = ("y_pred",)  # those the derivatives are taken with respect to


def _is_numpy(x) -> bool:
    return isinstance(x, (np.ndarray, np.generic))


def _is_foreign_array(x) -> bool:
    """An Array-API array that is not NumPy (PyTorch, JAX, CuPy, array-api-strict, ...)."""
    if x is None or _is_numpy(x) or isinstance(x, (list, tuple, int, float)):
        return False
    return _compat is not None and _compat.is_array_api_obj(x)


def _namespace(*arrays):
    """NumPy itself for NumPy inputs and Python sequences (the fast path), else the array's namespace."""
    for a in arrays:
        if _is_foreign_array(a):
            return _compat.array_namespace(a), a
    return np, None


def _to_namespace(xp, x, like, name):
    """Bring an input into namespace ``xp`` (on the device of ``like``), rejecting non-numeric data."""
    if xp is np:
        try:
            arr = np.asarray(x)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be a numeric array, got {type(x).__name__}: {exc}") from None
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
        return arr
    if _compat.is_array_api_obj(x) and not _is_numpy(x):
        arr = x
    else:
        host = np.asarray(x)
        if host.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold real numbers, got dtype {host.dtype}")
        arr = xp.asarray(host, device=_compat.device(like) if like is not None else None)
    if not (xp.isdtype(arr.dtype, "real floating") or xp.isdtype(arr.dtype, "integral")
            or xp.isdtype(arr.dtype, "bool")):
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    return arr


def _float_dtype(xp, arr):
    """The floating dtype computations run in: the input's own, or float64 for integer input."""
    if xp.isdtype(arr.dtype, "real floating"):
        if xp is np and arr.dtype == np.float16:
            return np.float32
        return arr.dtype
    return xp.float64


class Loss(abc.ABC):
    """Base class of every losslab loss. See the module docstring for the contract."""

    # ---- metadata declared by each subclass (data, not code) --------------------------------
    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    task: ClassVar[str]
    summary: ClassVar[str]
    formula: ClassVar[str]
    formula_latex: ClassVar[str]
    gradient_formula: ClassVar[str]
    gradient_latex: ClassVar[str]
    activation: ClassVar[str] = "identity"
    convex: ClassVar[str] = "yes"
    nondifferentiable: ClassVar[str] = "nowhere"
    outlier_sensitivity: ClassVar[str] = "n/a"
    noise_model: ClassVar[str | None] = None
    hessian_kind: ClassVar[str] = "exact"
    convention: ClassVar[str] = ""
    references: ClassVar[tuple[str, ...]] = ()
    # shape rule: "same" (y_true and y_pred alike), "class_index" (y_true (N,), y_pred (N, C)),
    # "rows" (both (N, C), the loss sums over the last axis), "samples" (both (N, ...), the loss
    # reduces every non-batch axis: one value per sample)
    shape_rule: ClassVar[str] = "same"
    # PyTorch counterpart used by ``losslab verify`` (documentation; the check lives in verify/)
    torch_reference: ClassVar[str | None] = None
    inputs: ClassVar[tuple[str, ...]] = ("y_true", "y_pred")
    differentiable: ClassVar[tuple[str, ...]] = ("y_pred",)

    def __init__(self, *, check_finite: bool = True):
        self.check_finite = V.check_bool(check_finite, "check_finite")

    # ---- domains (may depend on hyperparameters such as from_logits) ------------------------
    def _y_true_domain(self):
        return None

    def _y_pred_domain(self):
        return None

    @property
    def reduces_class_axis(self) -> bool:
        return self.shape_rule in ("class_index", "rows", "samples")

    # ---- hyperparameters, repr, equality, pickling -------------------------------------------
    @classmethod
    def _param_names(cls) -> tuple[str, ...]:
        sig = inspect.signature(cls.__init__)
        return tuple(
            p.name for p in sig.parameters.values()
            if p.kind is p.KEYWORD_ONLY and p.name != "check_finite"
        )

    def get_params(self) -> dict:
        """The hyperparameters, as passed to the constructor (keyword -> value)."""
        out = {}
        for n in self._param_names():
            v = getattr(self, n)
            out[n] = tuple(float(x) for x in v) if isinstance(v, np.ndarray) else v
        return out

    def __repr__(self) -> str:
        parts = [f"{k}={v!r}" for k, v in self.get_params().items()]
        if not self.check_finite:
            parts.append("check_finite=False")
        return f"{type(self).__name__}({', '.join(parts)})"

    def __eq__(self, other) -> bool:
        return (type(self) is type(other) and self.get_params() == other.get_params()
                and self.check_finite == other.check_finite)

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted((k, repr(v)) for k, v in self.get_params().items()))))

    @property
    def info(self) -> LossInfo:
        return LossInfo(
            name=self.name,
            aliases=tuple(self.aliases),
            task=self.task,
            summary=self.summary,
            formula=self.formula,
            formula_latex=self.formula_latex,
            gradient=self.gradient_formula,
            gradient_latex=self.gradient_latex,
            y_true_domain=self._domain_text(self._y_true_domain()),
            y_pred_domain=self._domain_text(self._y_pred_domain()),
            activation=self._activation_text(),
            convex=self.convex,
            nondifferentiable=self.nondifferentiable,
            outlier_sensitivity=self.outlier_sensitivity,
            noise_model=self.noise_model,
            hessian=self.hessian_kind,
            reduces_class_axis=self.reduces_class_axis,
            convention=self.convention,
            references=tuple(self.references),
            hyperparameters=self.get_params(),
            inputs=tuple(self.inputs),
            differentiable=tuple(self.differentiable),
        )

    def _activation_text(self) -> str:
        return self.activation

    @staticmethod
    def _domain_text(domain) -> str:
        if domain is None:
            return "real numbers"
        text = str(domain)
        note = getattr(domain, "note", "")
        return f"{text} ({note})" if note else text

    # ---- the public contract -------------------------------------------------------------------
    def __call__(self, y_true, y_pred, *, sample_weight=None, reduction="mean"):
        """The loss value: unreduced (``"none"``), ``"sum"`` or ``"mean"`` (weighted mean)."""
        return self._evaluate(y_true, y_pred, sample_weight, reduction, 0)[0]

    def gradient(self, y_true, y_pred, *, sample_weight=None, reduction="mean"):
        """d value / d y_pred, with the shape of ``y_pred``."""
        return self._evaluate(y_true, y_pred, sample_weight, reduction, 1)[1]

    def value_and_gradient(self, y_true, y_pred, *, sample_weight=None, reduction="mean"):
        """(value, gradient) from one pass over the data."""
        value, grad, _ = self._evaluate(y_true, y_pred, sample_weight, reduction, 1)
        return value, grad

    def hessian(self, y_true, y_pred, *, sample_weight=None, reduction="mean"):
        """Diagonal of d2 value / d y_pred2, with the shape of ``y_pred`` (see ``info.hessian``)."""
        return self._evaluate(y_true, y_pred, sample_weight, reduction, 2)[2]

    # ---- export (imports the framework only when called) --------------------------------------
    def to_torch(self, *, reduction="mean"):
        """A ``torch.nn.Module`` whose backward is this loss's analytic gradient (see
        ``losslab.export.to_torch``)."""
        from ..export import to_torch

        return to_torch(self, reduction=reduction)

    def as_xgboost_objective(self, *, min_hessian=1e-6):
        """(gradient, hessian) callable for XGBoost, on raw margins (``losslab.export``)."""
        from ..export import boosting_objective

        return boosting_objective(self, "xgboost", min_hessian=min_hessian)

    def as_lightgbm_objective(self, *, min_hessian=1e-6):
        """(gradient, hessian) callable for LightGBM, on raw margins (``losslab.export``)."""
        from ..export import boosting_objective

        return boosting_objective(self, "lightgbm", min_hessian=min_hessian)

    # ---- machinery -----------------------------------------------------------------------------
    @abc.abstractmethod
    def _kernel(self, xp, y_true, y_pred, order):
        """(value, gradient, hessian) of the unreduced loss; see the module docstring."""

    def _convert_y_true(self, xp, y_true, dtype):
        """Cast y_true for the kernel; losses with integer labels override this."""
        return xp.astype(y_true, dtype, copy=False)

    def _prepare(self, y_true, y_pred):
        """Convert and validate the inputs; returns (xp, y_true, y_pred)."""
        xp, like = _namespace(y_pred, y_true)
        y_pred = _to_namespace(xp, y_pred, like, "y_pred")
        y_true = _to_namespace(xp, y_true, like, "y_true")
        dtype = _float_dtype(xp, y_pred)
        if xp.isdtype(y_pred.dtype, "bool"):
            raise TypeError("y_pred must hold real numbers, got dtype bool")
        y_pred = xp.astype(y_pred, dtype, copy=False)
        if math.prod(y_pred.shape) == 0:
            raise ValueError(f"y_pred must not be empty, got shape {tuple(y_pred.shape)}")
        self._check_shapes(y_true, y_pred)
        if self.check_finite:
            V.check_finite(xp, y_pred, "y_pred")
            if not xp.isdtype(y_true.dtype, "integral") and not xp.isdtype(y_true.dtype, "bool"):
                V.check_finite(xp, y_true, "y_true")
        y_true = self._convert_y_true(xp, y_true, dtype)
        V.check_domain(xp, y_true, "y_true", self._y_true_domain(), **self._domain_kwargs(y_pred))
        V.check_domain(xp, y_pred, "y_pred", self._y_pred_domain())
        return xp, self._standardise_y_true(xp, y_true), y_pred

    def _standardise_y_true(self, xp, y_true):
        """Map validated targets to the form the kernel uses (e.g. {0, 1} -> {-1, +1})."""
        return y_true

    def _domain_kwargs(self, y_pred):
        return {}

    def _check_shapes(self, y_true, y_pred):
        rule = self.shape_rule
        if rule == "same":
            V.check_same_shape(y_true, y_pred, "y_true", "y_pred")
            return
        if rule == "samples":
            V.check_same_shape(y_true, y_pred, "y_true", "y_pred")
            if y_pred.ndim < 2:
                raise ValueError("y_pred must have a batch axis and at least one more, shape "
                                 f"(n_samples, ...), got {tuple(y_pred.shape)}")
            return
        if y_pred.ndim != 2:
            raise ValueError(
                f"y_pred must have shape (n_samples, n_classes), got {tuple(y_pred.shape)}")
        if y_pred.shape[1] < 2:
            raise ValueError(f"y_pred must have at least 2 classes, got shape {tuple(y_pred.shape)}")
        if rule == "rows":
            V.check_same_shape(y_true, y_pred, "y_true", "y_pred")
        elif tuple(y_true.shape) != (y_pred.shape[0],):
            raise ValueError(
                "y_true must hold one class index per row of y_pred; "
                f"got y_true {tuple(y_true.shape)} and y_pred {tuple(y_pred.shape)}")

    def _value_shape(self, y_pred):
        return tuple(y_pred.shape[:1]) if self.reduces_class_axis else tuple(y_pred.shape)

    def _sample_mask(self, xp, y_true):
        """Boolean array over the unreduced values: which samples count (None: all)."""
        return None

    def _batch_size(self, inputs) -> int:
        """Number of samples in a tuple of inputs (the batch axis of the first differentiable)."""
        name = self.differentiable[0]
        axis = self._batch_axis(name) if hasattr(self, "_batch_axis") else 0
        return int(inputs[self.inputs.index(name)].shape[axis])

    def _inputs_mask(self, xp, inputs):
        """The sample mask from the tuple of inputs (as verification and tests hold them)."""
        return self._sample_mask(xp, inputs[0])

    def _weights(self, xp, sample_weight, y_pred, value_shape):
        w = _to_namespace(xp, sample_weight, y_pred, "sample_weight")
        w = xp.astype(w, y_pred.dtype, copy=False)
        if tuple(w.shape) != value_shape:
            if w.ndim == 1 and w.shape[0] == value_shape[0]:
                w = xp.reshape(w, (value_shape[0],) + (1,) * (len(value_shape) - 1))
            else:
                raise ValueError(
                    "sample_weight must have one weight per sample, shape "
                    f"({value_shape[0]},), or the shape of the unreduced loss {value_shape}; "
                    f"got {tuple(w.shape)}")
        V.check_finite(xp, w, "sample_weight")
        n_neg = V.count(xp, w < 0)
        if n_neg:
            raise ValueError(
                f"sample_weight must be >= 0; {n_neg} of {math.prod(w.shape)} values are negative")
        return w

    def _evaluate(self, y_true, y_pred, sample_weight, reduction, order):
        V.check_reduction(reduction)
        xp, y_true, y_pred = self._prepare(y_true, y_pred)
        value_shape = self._value_shape(y_pred)
        w = None if sample_weight is None else self._weights(xp, sample_weight, y_pred, value_shape)
        scale = self._scale_for(xp, w, self._sample_mask(xp, y_true), reduction, value_shape,
                                y_pred.dtype)
        if scale is _NOTHING_TO_AVERAGE:  # every target ignored: 0, with zero derivatives
            zero = xp.zeros_like(y_pred)
            return (xp.sum(zero), zero if order >= 1 else None, zero if order >= 2 else None)
        if xp is np and y_pred.size >= 2 * BLOCK_ELEMENTS:
            return self._evaluate_blocked(y_true, y_pred, scale, reduction, order)
        value, grad, hess = self._run_kernel(xp, y_true, y_pred, order)
        return self._apply_scale(xp, value, grad, hess, scale, reduction)

    def _evaluate_blocked(self, y_true, y_pred, scale, reduction, order):
        def run(block, s):
            v, g, h = self._run_kernel(np, block[0], block[1], order)
            v, g, h = self._apply_scale(np, v, g, h, s, reduction)
            return v, (g,), (h,)

        value, grads, hess = _blocked(run, (y_true, y_pred), (y_pred,), scale, reduction,
                                      self._value_shape(y_pred), order)
        return value, grads[0], hess[0]

    def _run_kernel(self, xp, y_true, y_pred, order):
        """Call the kernel; losses over a class axis get class-major (C, N) arrays and return
        class-major derivatives, which are put back in the caller's (N, C) layout here."""
        if self.shape_rule not in ("class_index", "rows"):
            return self._kernel(xp, y_true, y_pred, order)
        y_true = _transpose(xp, y_true) if y_true.ndim == 2 else y_true
        value, grad, hess = self._kernel(xp, y_true, _transpose(xp, y_pred), order)
        return value, _transpose(xp, grad), _transpose(xp, hess)

    def _scale_for(self, xp, w, mask, reduction, value_shape, dtype):
        """What multiplies each unreduced value: None (1), a float, or an array broadcastable to
        the unreduced values; or _NOTHING_TO_AVERAGE for a mean over no samples."""
        user_weights = w is not None
        if mask is not None:
            m = xp.astype(mask, dtype)
            w = m if w is None else w * m
        if reduction != "mean":
            return w  # "sum" and "none": the weights themselves (may be None)
        if w is None:
            return 1.0 / math.prod(value_shape)
        total = float(xp.sum(w * xp.ones(value_shape, dtype=dtype)))
        if total == 0.0:
            if user_weights and mask is None:
                raise ValueError("sample_weight must have a positive sum for reduction='mean', got 0")
            return _NOTHING_TO_AVERAGE
        return w / total

    def _apply_scale(self, xp, value, grad, hess, scale, reduction):
        """The reduction: scale the unreduced values and their derivatives, sum unless "none"."""
        value = _reduce_value(xp, value, scale, reduction)
        if scale is not None:
            grad_ndim = (grad if grad is not None else hess if hess is not None else value).ndim
            s = scale
            if not isinstance(s, float) and s.ndim < grad_ndim:
                s = self._expand_scale(xp, s, grad_ndim)
            grad = None if grad is None else _scale(xp, grad, s)
            hess = None if hess is None else _scale(xp, hess, s)
        return value, grad, hess

    def _expand_scale(self, xp, s, ndim):
        """Give a per-sample (or per-value) scale the derivatives' number of axes: the axes the
        loss reduced are appended (losses that reduce other axes override this)."""
        return xp.reshape(s, tuple(s.shape) + (1,) * (ndim - s.ndim))


_NOTHING_TO_AVERAGE = object()


def _reduce_value(xp, value, scale, reduction):
    """Unreduced values times scale (None: 1; a float; or an array), summed unless "none"."""
    if reduction == "none":
        return value if scale is None else value * scale
    if scale is None:
        return xp.sum(value)
    if isinstance(scale, float):
        return xp.sum(value) * scale
    return xp.sum(value * scale)

def _blocked(run, inputs, outputs_like, scale, reduction, value_shape, order):
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
    return value, grads if grads is not None else (None,), hess if hess is not None else (None,)


# Rows are processed in blocks of about this many elements on the NumPy path (512 KiB of
# float64 per temporary: they stay in cache). Measured on 10**6 elements, 2**15 to 2**17 were
# within 10% of each other; whole-array temporaries (no blocks) were 2.5x slower.
BLOCK_ELEMENTS = 1 << 16


def _transpose(xp, a):
    """Swap the two axes; contiguous on NumPy, so that the kernel's loops run long."""
    if a is None:
        return None
    if xp is np:
        return np.ascontiguousarray(a.T)
    return xp.permute_dims(a, (1, 0))


def _scale(xp, a, s):
    """a * s, in place on the NumPy fast path (kernels return fresh arrays)."""
    if xp is np and isinstance(a, np.ndarray) and a.flags.writeable and (
            isinstance(s, float) or np.broadcast_shapes(s.shape, a.shape) == a.shape):
        np.multiply(a, s, out=a)
        return a
    return a * s

