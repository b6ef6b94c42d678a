"""The evaluation pipeline, written once: a loss with its fixed inputs prepared.

``loss.prepare(y_true, sample_weight=..., reduction=...)`` validates and converts the inputs that
do not change between calls (targets, labels, lengths, weights) once, and returns a
``PreparedLoss``. Its ``value``, ``gradient``, ``value_and_gradient`` and ``hessian`` take the
differentiable inputs (``loss.info.differentiable``, by position) and equal the loss's own
methods exactly: those methods *are* a prepared loss used once. ``values(stack)`` evaluates a
stack of K predictions, shape ``(K, *y_pred.shape)``, in calls of about 2**16 elements, which is
what a landscape, a line search or a distributed worker needs. A prepared loss pickles.

The steps of one evaluation:

1. fixed inputs (at ``prepare``): converted to the array namespace, checked finite, non-empty,
   integer where the loss keeps integers, and in their domain where the domain does not depend
   on the predictions; weights checked finite, non-negative, and not all zero for a weighted mean;
2. binding (once per namespace, dtype and shape of the differentiable inputs, then cached): the
   fixed inputs cast to the computation dtype, shapes checked, class indices checked against the
   number of classes, targets standardised, and the reduction's scale fixed;
3. each call: differentiable inputs converted, checked finite and in their domain; the kernel;
   the reduction (value and derivatives scaled alike); float16 results cast back to float16.
"""

from __future__ import annotations

import math

import numpy as np

from . import _arrays as A
from . import _validation as V


class _NothingToAverage:
    """The scale of a mean over no samples (every target ignored): the value and derivatives are 0."""


NOTHING = _NothingToAverage()


class PreparedLoss:
    """A loss with its fixed inputs validated and converted once; see the module docstring."""

    def __init__(self, loss, fixed: dict, sample_weight=None, reduction="mean"):
        V.check_reduction(reduction)
        self.loss = loss
        self.reduction = reduction
        self.fixed_names = tuple(n for n in loss.inputs if n not in loss.differentiable)
        xp, like = A.namespace(*fixed.values(), sample_weight)
        domains = loss._input_domains()
        self._fixed = {}
        for name in self.fixed_names:
            self._fixed[name] = _convert_fixed(loss, xp, like, name, fixed[name], domains.get(name))
        self._weight = None
        if sample_weight is not None:
            w = A.to_namespace(xp, sample_weight, like, "sample_weight")
            if xp.isdtype(w.dtype, "bool"):
                raise TypeError("sample_weight must hold real numbers, got dtype bool")
            w = xp.astype(w, xp.float64 if xp.isdtype(w.dtype, "integral") else w.dtype, copy=False)
            V.check_finite(xp, w, "sample_weight")
            n_neg = V.count(xp, w < 0)
            if n_neg:
                raise ValueError(f"sample_weight must be >= 0; {n_neg} of {A.size(w)} values are "
                                 "negative")
            if reduction == "mean" and not bool(xp.any(w > 0)):
                raise ValueError("sample_weight must have a positive sum for reduction='mean'; all "
                                 f"{A.size(w)} weights are 0")
            self._weight = w
        self._cache = None
        self._tiled = None
        self._plan = None
        # predictions that are probabilities (y_pred in [0, 1]) are checked for looking like
        # labels: all exactly 0 or 1 (labels passed as predictions, or the arguments swapped)
        domain = domains.get("y_pred")
        self._probabilities = (isinstance(domain, V.Interval) and domain.low == 0
                               and domain.high == 1 and "y_true" in self._fixed)

    def _warn_if_labels(self, xp, y_pred):
        """A UserWarning when every probability is exactly 0 or 1: saying whether the arguments
        look swapped (targets strictly between 0 and 1) or labels were passed as predictions."""
        if V.count(xp, (y_pred > 0) & (y_pred < 1)):
            return
        import warnings

        y_true = self._fixed["y_true"]
        soft = xp.isdtype(y_true.dtype, "real floating") and V.count(
            xp, (y_true > 0) & (y_true < 1))
        if soft:
            why = ("y_true holds values strictly between 0 and 1 while y_pred holds only 0s and "
                   "1s: the arguments look swapped (losslab takes (y_true, y_pred); torch takes "
                   "(input, target))")
        else:
            why = ("y_pred holds only 0s and 1s: these look like labels, not predicted "
                   "probabilities (pass the model's probabilities, or logits with "
                   "from_logits=True)")
        warnings.warn(f"{self.loss.name}: {why}", UserWarning, stacklevel=5)

    # ---- pickling: the cache holds a namespace module, so it is rebuilt after unpickling --------
    def __getstate__(self):
        state = dict(self.__dict__)
        state["_cache"] = None
        state["_tiled"] = None
        state["_plan"] = None
        return state

    def __repr__(self) -> str:
        names = ", ".join(self.fixed_names) or "no fixed inputs"
        weights = "" if self._weight is None else ", weighted"
        return f"PreparedLoss({self.loss!r}, {names}{weights}, reduction={self.reduction!r})"

    # ---- the public contract -----------------------------------------------------------------
    def value(self, *y_pred):
        """The loss value at the differentiable inputs (``loss.info.differentiable`` order)."""
        return self.evaluate(y_pred, 0)[0]

    def gradient(self, *y_pred):
        """Its derivative with respect to each differentiable input (an array when there is one)."""
        return self.loss._unpack(self.evaluate(y_pred, 1)[1])

    def value_and_gradient(self, *y_pred):
        value, grads, _ = self.evaluate(y_pred, 1)
        return value, self.loss._unpack(grads)

    def hessian(self, *y_pred):
        """The hessian diagonal (see ``loss.info.hessian``), shaped like each input."""
        self.loss._check_has_hessian()
        return self.loss._unpack(self.evaluate(y_pred, 2)[2])

    def hvp(self, *y_pred, v):
        """The Hessian-vector product: ``d/dt gradient(y_pred + t v)`` at t = 0, exact, with the
        reduction's normalisation. ``v`` has the shape of ``y_pred`` (a tuple, one per
        differentiable input, for losses of several inputs). Elementwise losses give
        ``hessian * v``; softmax cross-entropy on logits gives ``A (p v - p (p . v))`` per row.
        Losses whose hessian is only a diagonal (``loss.info.hvp`` False) refuse it."""
        loss = self.loss
        loss._check_has_hvp()
        vs = tuple(v) if len(loss.differentiable) > 1 else (v,)
        if len(vs) != len(loss.differentiable):
            raise TypeError(f"v must hold one array per differentiable input "
                            f"({', '.join(loss.differentiable)}), got {len(vs)}")
        xp, like = A.namespace(*y_pred, *vs, *self._fixed.values())
        diff = self._diff_inputs(xp, like, y_pred)
        out_dtype = _half(xp, y_pred[0])
        arrays, scale, vshape = self._bind(xp, like, diff)
        diff = [self._check_diff(xp, a, n) for a, n in zip(diff, loss.differentiable)]
        vectors = []
        for vec, a, n in zip(vs, diff, loss.differentiable):
            vec = A.to_namespace(xp, vec, like, "v")
            vec = xp.astype(vec, a.dtype, copy=False)
            if tuple(vec.shape) != tuple(a.shape):
                raise ValueError(f"v must have the shape of {n}, {tuple(a.shape)}; got "
                                 f"{tuple(vec.shape)}")
            V.check_finite(xp, vec, "v")
            vectors.append(vec)
        if scale is NOTHING:
            return loss._unpack(tuple(xp.zeros_like(a) for a in diff))
        arrays = list(arrays)
        for a, n in zip(diff, loss.differentiable):
            arrays[loss.inputs.index(n)] = a
        out = loss._hvp_kernel(xp, tuple(arrays), tuple(vectors))
        if scale is not None:
            out = tuple(A.scale_inplace(xp, h, _expand(loss, xp, scale, n, h.ndim, len(vshape)))
                        for h, n in zip(out, loss.differentiable))
        if out_dtype is not None:
            out = tuple(xp.astype(h, out_dtype) for h in out)
        return loss._unpack(out)

    def coefficients(self, *y_pred):
        """The weight of each unreduced value in the reduced one, shaped like the unreduced value:
        1/N for a plain ``"mean"``, w/sum(w) with weights, 0 for samples the loss ignores, the
        weights (or 1) for ``"sum"`` and ``"none"``. The reduced value is
        ``sum(coefficients * unreduced)``. Without weights the result is a read-only broadcast
        of one number."""
        xp, like = A.namespace(*y_pred, *self._fixed.values())
        diff = self._diff_inputs(xp, like, y_pred)
        _, scale, vshape = self._bind(xp, like, diff)
        dtype = diff[0].dtype
        if scale is NOTHING:
            return xp.zeros(vshape, dtype=dtype)
        if scale is None or isinstance(scale, float):  # one number for every value: no copies
            return xp.broadcast_to(xp.asarray(1.0 if scale is None else scale, dtype=dtype),
                                   vshape)
        return xp.ones(vshape, dtype=dtype) * scale

    def values(self, *stacks):
        """The K values of K predictions: each stack has shape ``(K, *input.shape)``.

        Equals ``[self.value(s[k]) for k in range(K)]`` (up to the order of summation), with the
        targets tiled so that one kernel call covers about 2**16 elements. ``reduction="none"``
        gives shape ``(K, *unreduced.shape)``.
        """
        loss = self.loss
        if len(stacks) != len(loss.differentiable):
            raise TypeError(f"values takes {len(loss.differentiable)} stack(s) "
                            f"({', '.join(loss.differentiable)}), got {len(stacks)}")
        # A landscape calls this thousands of times with stacks of one dtype and point shape:
        # the plan (binding, reduction weights, block size) is kept for NumPy stacks of that kind.
        key = (tuple((s.dtype.str, s.shape[1:]) for s in stacks)
               if all(type(s) is np.ndarray and s.ndim >= 1 for s in stacks) else None)
        plan = self._plan[1] if key is not None and self._plan is not None and \
            self._plan[0] == key else None
        if plan is None:
            xp, like = A.namespace(*stacks, *self._fixed.values())
            stacks = [A.to_namespace(xp, s, like, f"stack of {n}")
                      for s, n in zip(stacks, loss.differentiable)]
        else:
            xp = np
        if any(s.ndim < 1 or s.shape[0] != stacks[0].shape[0] for s in stacks) or stacks[0].shape[0] == 0:
            raise ValueError("values takes non-empty stacks with the same first axis K; got shapes "
                             f"{[tuple(s.shape) for s in stacks]}")
        k_points = stacks[0].shape[0]
        if plan is None:
            tileable = (xp is np and not loss.coupled
                        and not any(loss._batch_axis(n) for n in loss.inputs))
            if not tileable:
                return xp.stack([self.value(*[s[k] for s in stacks]) for k in range(k_points)])
            plan = self._values_plan(xp, like, stacks)
            if key is not None:
                self._plan = (key, plan)
        dtypes, out_dtype, arrays, scale, vshape, flat_scale, per_call = plan
        diff_names = loss.differentiable
        full = [self._check_diff(xp, s, n, domain_name=n) for s, n in zip(stacks, diff_names)]
        full = [xp.astype(s, dtypes[i], copy=False) for i, s in enumerate(full)]
        if scale is NOTHING:
            shape = (k_points,) + (vshape if self.reduction == "none" else ())
            return np.zeros(shape, dtype=out_dtype)
        n_values = math.prod(vshape)
        out = np.empty((k_points, n_values) if self.reduction == "none" else k_points,
                       dtype=np.float64)
        tiled = self._tiles(arrays)
        for lo in range(0, k_points, per_call):
            hi = min(k_points, lo + per_call)
            g = hi - lo
            if g not in tiled:
                tiled[g] = [a if n in diff_names else (a if g == 1 else np.concatenate([a] * g, axis=0))
                            for a, n in zip(arrays, loss.inputs)]
            block = list(tiled[g])
            for s, n in zip(full, diff_names):
                i = loss.inputs.index(n)
                block[i] = s[lo:hi].reshape((g * s.shape[1],) + tuple(s.shape[2:]))
            vals = loss._run_kernel(np, tuple(block), 0)[0]
            vals = np.asarray(vals, dtype=np.float64).reshape(g, n_values)
            if self.reduction == "none":
                out[lo:hi] = vals if flat_scale is None else vals * flat_scale
            elif flat_scale is None:
                out[lo:hi] = vals.sum(axis=1)
            elif isinstance(flat_scale, float):
                out[lo:hi] = vals.sum(axis=1) * flat_scale
            else:
                out[lo:hi] = vals @ flat_scale
        if self.reduction == "none":
            out = out.reshape((k_points,) + vshape)
        return out.astype(out_dtype, copy=False)

    def _values_plan(self, xp, like, stacks):
        """What ``values`` needs besides the stacks: the computation dtypes, the output dtype,
        the bound fixed inputs, the reduction's scale (flattened), the unreduced shape and how
        many points one kernel call takes."""
        first = self._diff_inputs(xp, like, [s[0] for s in stacks])
        out_dtype = _half(xp, stacks[0]) or first[0].dtype
        arrays, scale, vshape = self._bind(xp, like, first)
        flat_scale = (None if scale is None or scale is NOTHING else scale
                      if isinstance(scale, float)
                      else np.ascontiguousarray(np.broadcast_to(scale, vshape)).ravel())
        per_call = max(1, A.BLOCK_ELEMENTS // max(1, A.size(first[0])))
        return (tuple(a.dtype for a in first), out_dtype, arrays, scale, vshape, flat_scale,
                per_call)

    def _tiles(self, arrays):
        """The fixed inputs repeated g times, by g, kept while the binding is the same."""
        if self._tiled is None or self._tiled[0] is not arrays:
            self._tiled = (arrays, {})
        return self._tiled[1]

    # ---- the pipeline ------------------------------------------------------------------------
    def evaluate(self, diff_raw, order):
        """(value, derivatives, hessians) with one derivative per differentiable input (None
        below ``order``): the one evaluation every method of every loss goes through."""
        loss = self.loss
        if len(diff_raw) != len(loss.differentiable):
            raise TypeError(f"{loss.name} takes {len(loss.differentiable)} differentiable input(s) "
                            f"({', '.join(loss.differentiable)}), got {len(diff_raw)}")
        xp, like = A.namespace(*diff_raw, *self._fixed.values())
        diff = self._diff_inputs(xp, like, diff_raw)
        out_dtype = _half(xp, diff_raw[0])
        arrays, scale, vshape = self._bind(xp, like, diff)
        diff = [self._check_diff(xp, a, n) for a, n in zip(diff, loss.differentiable)]
        if self._probabilities and A.size(diff[0]) > 1:
            self._warn_if_labels(xp, diff[0])
        arrays = list(arrays)
        for a, n in zip(diff, loss.differentiable):
            arrays[loss.inputs.index(n)] = a
        arrays = tuple(arrays)
        if scale is NOTHING:  # no sample counts: 0, with zero derivatives
            zeros = tuple(xp.zeros_like(a) for a in diff)
            value = xp.zeros(vshape, dtype=diff[0].dtype) if self.reduction == "none" else \
                xp.sum(xp.zeros(vshape, dtype=diff[0].dtype))
            out = value, zeros if order >= 1 else None, zeros if order >= 2 else None
        elif loss.coupled:
            c = xp.ones(vshape, dtype=diff[0].dtype)
            if scale is not None:
                c = c * scale
            value, grads, hess = loss._kernel(xp, arrays + (c,), order)
            value = (value if scale is None else value * scale) if self.reduction == "none" \
                else xp.sum(value * c)
            out = value, grads, hess
        elif (xp is np and A.size(diff[0]) >= 2 * A.BLOCK_ELEMENTS
              and not any(loss._batch_axis(n) for n in loss.inputs)):
            value, grads, hess = A.blocked(
                lambda block, s: self._scaled_kernel(np, tuple(block), s, vshape, order),
                arrays, diff, scale, self.reduction, vshape, order)
            out = value, grads, hess
        else:
            out = self._scaled_kernel(xp, arrays, scale, vshape, order)
        return _cast(xp, out, out_dtype)

    def _diff_inputs(self, xp, like, raw):
        """Differentiable inputs in the namespace, as floats (bool refused: a prediction is not a
        truth value), non-empty."""
        out = []
        dtype = None
        for a, name in zip(raw, self.loss.differentiable):
            arr = A.to_namespace(xp, a, like, name)
            if xp.isdtype(arr.dtype, "bool"):
                raise TypeError(f"{name} must hold real numbers, got dtype bool")
            if A.size(arr) == 0:
                raise ValueError(f"{name} must not be empty, got shape {tuple(arr.shape)}")
            dtype = A.float_dtype(xp, arr) if dtype is None else dtype
            out.append(xp.astype(arr, dtype, copy=False) if arr.dtype != dtype else arr)
        return out

    def _check_diff(self, xp, a, name, domain_name=None):
        loss = self.loss
        if loss.check_finite:
            V.check_finite(xp, a, name)
        V.check_domain(xp, a, name, loss._input_domains().get(domain_name or name))
        return a

    def _bind(self, xp, like, diff):
        """The fixed inputs in the computation dtype and namespace, shapes checked, targets
        standardised and the reduction's scale: cached per namespace, dtype and shapes."""
        loss = self.loss
        key = (xp.__name__, str(diff[0].dtype), tuple(tuple(a.shape) for a in diff),
               None if like is None else str(A.device(like)))
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        dtype = diff[0].dtype
        arrays = []
        diff_iter = iter(diff)
        for name in loss.inputs:
            if name in loss.differentiable:
                arrays.append(next(diff_iter))
                continue
            a = self._fixed[name]
            if A.namespace(a)[0] is not xp:
                a = A.to_namespace(xp, A.host(a, name), like, name)
            if name not in loss.integer_inputs:
                a = xp.astype(a, dtype, copy=False)
            arrays.append(a)
        loss._check_shapes(tuple(arrays))
        domains = loss._input_domains()
        for name, a in zip(loss.inputs, arrays):
            domain = domains.get(name)
            if isinstance(domain, V.ClassIndex):
                V.check_domain(xp, a, name, domain, **loss._class_index_kwargs(arrays))
        arrays = tuple(loss._standardise(xp, list(arrays)))
        vshape = loss._value_shape(arrays)
        w = None if self._weight is None else _weights(xp, self._weight, vshape, dtype, like)
        scale = _scale_for(xp, w, loss._sample_mask(xp, arrays), self.reduction, vshape, dtype)
        bound = (arrays, scale, vshape)
        self._cache = (key, bound)
        return bound

    def _scaled_kernel(self, xp, arrays, scale, vshape, order):
        """Kernel, then the reduction: the value and each derivative scaled alike."""
        loss = self.loss
        value, grads, hess = loss._run_kernel(xp, arrays, order)
        value = _reduce_value(xp, value, scale, self.reduction)
        if scale is not None:
            grads = None if grads is None else tuple(
                A.scale_inplace(xp, g, _expand(loss, xp, scale, n, g.ndim, len(vshape)))
                for g, n in zip(grads, loss.differentiable))
            hess = None if hess is None else tuple(
                A.scale_inplace(xp, h, _expand(loss, xp, scale, n, h.ndim, len(vshape)))
                for h, n in zip(hess, loss.differentiable))
        return value, grads, hess


def _convert_fixed(loss, xp, like, name, a, domain):
    """A fixed input (targets, labels, lengths) converted and checked once, in its own dtype."""
    arr = A.to_namespace(xp, a, like, name)
    if A.size(arr) == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(arr.shape)}")
    if name == "y_true" and loss.shape_rule == "rows" and arr.ndim == 1:
        raise ValueError(f"y_true has shape {tuple(arr.shape)}: {loss.name} takes rows of "
                         "targets (one-hot or probabilities), shape (n_samples, n_classes); for "
                         "one class index per sample use sparse_cce (ll.get('sparse_cce'))")
    is_float = xp.isdtype(arr.dtype, "real floating")
    if loss.check_finite and is_float:
        V.check_finite(xp, arr, name)
    if name in loss.integer_inputs:
        kind = "integer class indices" if isinstance(domain, V.ClassIndex) else "integers"
        arr = V.check_integers(xp, arr, name, kind)
    elif not is_float:
        arr = xp.astype(arr, xp.float64)  # bool and integer targets: their real values
    if domain is not None and not isinstance(domain, V.ClassIndex):
        V.check_domain(xp, arr, name, domain)
    return arr


def _weights(xp, w, vshape, dtype, like):
    if A.namespace(w)[0] is not xp:
        w = A.to_namespace(xp, A.host(w, "sample_weight"), like, "sample_weight")
    w = xp.astype(w, dtype, copy=False)
    if tuple(w.shape) != vshape:
        if w.ndim == 1 and w.shape[0] == vshape[0]:
            w = xp.reshape(w, (vshape[0],) + (1,) * (len(vshape) - 1))
        else:
            raise ValueError(
                "sample_weight must have one weight per sample, shape "
                f"({vshape[0]},), or the shape of the unreduced loss {vshape}; got {tuple(w.shape)}")
    return w


def _scale_for(xp, w, mask, reduction, vshape, dtype):
    """What multiplies each unreduced value: None (1), a float, or an array broadcastable to the
    unreduced values; or NOTHING for a mean over no samples (every target ignored)."""
    if mask is not None:
        m = xp.astype(mask, dtype)
        w = m if w is None else w * m
    if reduction != "mean":
        return w  # "sum" and "none": the weights themselves (may be None)
    if w is None:
        return 1.0 / math.prod(vshape)
    ones = xp.ones(vshape, dtype=dtype)
    with np.errstate(over="ignore"):  # an overflowing sum is handled just below
        total = float(xp.sum(w * ones))
    if total == 0.0:
        return NOTHING
    if not math.isfinite(total):  # huge weights: their sum overflows, their ratios do not
        w = w / xp.max(w)
        total = float(xp.sum(w * ones))
    return w / total


def _reduce_value(xp, value, scale, reduction):
    """Unreduced values times scale (None: 1; a float; or an array), summed unless "none". A sum
    of finite values that overflows is taken again after scaling (a mean of 3e38s in float32)."""
    if reduction == "none":
        return value if scale is None else value * scale
    if scale is None:
        return xp.sum(value)
    if isinstance(scale, float):
        with np.errstate(over="ignore"):  # an overflowing sum is taken again, scaled first
            total = xp.sum(value) * scale
        if not math.isfinite(float(total)) and math.isfinite(float(xp.max(xp.abs(value)))):
            total = xp.sum(value * scale)
        return total
    return xp.sum(value * scale)


def _expand(loss, xp, s, name, ndim, value_ndim):
    """A per-sample (or per-value) scale given the derivative's number of axes."""
    if isinstance(s, float) or s.ndim >= ndim:
        return s
    return loss._expand_scale(xp, s, name, ndim)


def _half(xp, raw):
    """float16 when a NumPy input is float16 (computed in float32, returned as float16)."""
    return np.float16 if xp is np and getattr(raw, "dtype", None) == np.float16 else None


def _cast(xp, out, dtype):
    """float16 inputs computed in float32 come back as float16."""
    if dtype is None:
        return out
    value, grads, hess = out

    def c(a):
        return None if a is None else np.asarray(a).astype(dtype)

    return (c(value), None if grads is None else tuple(c(g) for g in grads),
            None if hess is None else tuple(c(h) for h in hess))
