"""Taking losslab's losses to where people train: PyTorch modules and gradient-boosting objectives.

* ``to_torch(loss)`` (also ``loss.to_torch()``): a ``torch.nn.Module`` whose backward is losslab's
  analytic gradient, not autograd's.
* ``boosting_objective(loss, library)`` (also ``loss.as_xgboost_objective()`` and
  ``loss.as_lightgbm_objective()``): the (gradient, hessian) callable XGBoost and LightGBM take
  as a custom objective, on raw margins.

Both take a ``Loss`` (build one from a name with ``losslab.get``) and read only its public
methods and ``loss.info``.

PyTorch, XGBoost and LightGBM are imported only when these are called.
"""

from __future__ import annotations

import numpy as np

from . import _validation as V

__all__ = ["to_torch", "boosting_objective", "BoostingObjective"]


# ---------------------------------------------------------------------------------------------
# PyTorch
# ---------------------------------------------------------------------------------------------


def to_torch(loss, *, reduction: str = "mean"):
    """A ``torch.nn.Module`` computing ``loss`` with losslab's value and analytic derivatives.

    Call it as torch's losses are called: ``module(input, target, sample_weight=None)`` for
    losses of (y_true, y_pred); ``module(*inputs)`` in ``loss.info.inputs`` order for losses of
    several inputs. Gradients flow to every differentiable input; the others get none.

    The backward pass is itself differentiable: double backward (``create_graph=True``,
    ``gradgradcheck``, Hessian-vector products of a network's cost) uses the loss's exact
    Hessian-vector product (``loss.hvp``), so the loss's own curvature ``J^T H_loss J`` is in
    a network's hessian. A loss without an exact product (``loss.info.hvp`` False) raises a
    clear error on double backward; a third derivative is refused. The functions carry
    ``torch.func`` rules: ``vmap`` (one evaluation per batch entry), ``grad``, and forward mode
    (``jvp``, hence ``torch.func.hessian``). Works on any device and float dtype the loss's
    array-API path supports (the computation stays in torch).
    """
    from .._extras import require

    torch = require("torch", f"{loss.name}.to_torch()")

    _check_loss(loss)
    V.check_reduction(reduction)
    if reduction == "none" and getattr(loss, "coupled", False):
        raise ValueError(f"{loss.name}.to_torch(reduction='none') is not supported: its per-sample "
                         "values share inputs, so their gradients do not separate; use 'mean' or 'sum'")
    return _module_class(torch)(loss, reduction)


_MODULE_CLASS = []


def _module_class(torch):
    """The ``torch.nn.Module`` class of exported losses, made once torch is imported (so that
    importing losslab does not import torch); module-level, so exported losses pickle (to
    process pools, Dask and Ray workers)."""
    if _MODULE_CLASS:
        return _MODULE_CLASS[0]

    class LossModule(torch.nn.Module):
        """A losslab loss as a torch module: ``module(input, target, sample_weight=None)``."""

        def __init__(self, loss, reduction="mean"):
            super().__init__()
            self.loss = loss
            self.reduction = reduction
            self._functions = None

        def __reduce__(self):  # rebuilt from the loss where it is unpickled
            return (_rebuild_module, (self.loss, self.reduction))

        def forward(self, *inputs, sample_weight=None):
            loss = self.loss
            if self._functions is None:
                self._functions = _torch_functions(torch, loss, self.reduction)
            if loss.inputs == ("y_true", "y_pred"):
                if len(inputs) != 2:
                    raise TypeError(f"{loss.name} module takes (input, target), got {len(inputs)} "
                                    "arrays")
                inputs = (inputs[1], inputs[0])  # torch's (input, target) -> (y_true, y_pred)
            _refuse_untracked_grads(torch, loss, inputs, sample_weight)
            return self._functions.value(sample_weight, *inputs)

        def extra_repr(self) -> str:
            return f"{self.loss!r}, reduction={self.reduction!r}"

    LossModule.__module__ = __name__
    LossModule.__qualname__ = "LossModule"
    _MODULE_CLASS.append(LossModule)
    return LossModule


def _refuse_untracked_grads(torch, loss, inputs, sample_weight):
    """The module differentiates only ``loss.differentiable``: an input outside it (a target,
    labels, lengths) or a weight that requires grad would silently get no gradient, where
    ``F.mse_loss`` gives its target one; refuse it by name instead, when autograd is on."""
    if not torch.is_grad_enabled():
        return
    shown = {"y_true": "target", "y_pred": "input"} if loss.inputs == ("y_true", "y_pred") else {}
    named = list(zip(loss.inputs, inputs)) + [("sample_weight", sample_weight)]
    bad = [shown.get(n, n) for n, x in named if n not in loss.differentiable
           and isinstance(x, torch.Tensor) and x.requires_grad]
    if bad:
        raise ValueError(
            f"{loss.name}.to_torch() differentiates with respect to "
            f"{', '.join(shown.get(n, n) for n in loss.differentiable)} only, but "
            f"{' and '.join(bad)} require{'s' if len(bad) == 1 else ''} grad and would get "
            f"none: pass {' and '.join(b + '.detach()' for b in bad)}, or a loss whose "
            "differentiable inputs include it")


def _rebuild_module(loss, reduction):
    import torch

    return _module_class(torch)(loss, reduction)


def _torch_functions(torch, loss, reduction):
    """The autograd functions of one exported loss: Value (forward: value and gradient; backward:
    the gradient through Grad) and Grad (forward: the gradient; backward: the exact HVP)."""
    from types import SimpleNamespace

    wrt = [loss.inputs.index(n) for n in loss.differentiable]
    batch_axes = loss.info.batch_axes
    n_in = len(loss.inputs)

    def detached(sw, inputs):
        return (None if sw is None else sw.detach()), [x.detach() for x in inputs]

    def per_value(k, go, g):
        """grad_out (shaped like the unreduced value for "none") broadcast onto input k."""
        if reduction != "none":
            return go
        b = batch_axes[loss.inputs[k]]
        return go.reshape((1,) * b + tuple(go.shape) + (1,) * (g.ndim - b - go.ndim))

    def looped(fn, info, in_dims, args):
        """A vmap rule: fn applied to each batch entry, stacked on dim 0."""
        outs = []
        for i in range(info.batch_size):
            outs.append(fn(*[a if d is None or a is None else a.select(d, i)
                             for a, d in zip(args, in_dims)]))
        if isinstance(outs[0], tuple):
            stacked = tuple(torch.stack([o[j] for o in outs]) for j in range(len(outs[0])))
            return stacked, (0,) * len(stacked)
        return torch.stack(outs), 0

    class Grad(torch.autograd.Function):
        """inputs -> the gradient (w.r.t. the differentiable inputs); backward: H v."""

        @staticmethod
        def forward(sample_weight, *args):
            inputs, cached = args[:n_in], args[n_in:]
            if cached:
                return tuple(g.clone() for g in cached)
            sw, arrays = detached(sample_weight, inputs)
            grads = loss.gradient(*arrays, sample_weight=sw, reduction=reduction)
            return grads if isinstance(grads, tuple) else (grads,)

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs[1:1 + n_in])
            ctx.save_for_forward(*inputs[1:1 + n_in])
            ctx.sample_weight = inputs[0]

        @staticmethod
        def backward(ctx, *vs):
            inputs = ctx.saved_tensors
            vs = [torch.zeros_like(inputs[k]) if v is None else v for k, v in zip(wrt, vs)]
            hv = HVP.apply(ctx.sample_weight, *inputs, *vs)
            out = [None] * len(ctx.needs_input_grad)
            for k, h in zip(wrt, hv):
                out[1 + k] = h
            return tuple(out)

        @staticmethod
        def jvp(ctx, sample_weight_t, *tangents):
            inputs = ctx.saved_tensors
            vs = [tangents[k] for k in wrt]
            return HVP.apply(ctx.sample_weight, *inputs, *vs)

        @staticmethod
        def vmap(info, in_dims, sample_weight, *args):
            return looped(lambda s, *a: Grad.apply(s, *a), info, in_dims, (sample_weight,) + args)

    def hvp(sample_weight, inputs, vs):
        """H v of the reduced loss, one tensor per differentiable input (detached)."""
        if not loss.info.hvp:
            raise RuntimeError(
                f"second derivatives of {loss.name}: it has no exact Hessian-vector product "
                f"(info.hessian is '{loss.info.hessian}'; its cross terms are not computed), so "
                "they would be wrong; use first derivatives")
        sw, arrays = detached(sample_weight, inputs)
        vs = [v.detach() for v in vs]
        hv = loss.hvp(*arrays, v=tuple(vs) if len(vs) > 1 else vs[0], sample_weight=sw,
                      reduction=reduction)
        return hv if isinstance(hv, tuple) else (hv,)

    class HVP(torch.autograd.Function):
        """(inputs, v) -> H v, for forward-mode second derivatives (``torch.func.hessian``)."""

        @staticmethod
        def forward(sample_weight, *args):
            return hvp(sample_weight, args[:n_in], args[n_in:])

        @staticmethod
        def setup_context(ctx, inputs, output):
            pass

        @staticmethod
        def backward(ctx, *grads):
            raise RuntimeError(f"the export has exact first and second derivatives; third derivatives of {loss.name} are not available")

        @staticmethod
        def jvp(ctx, *tangents):
            raise RuntimeError(f"the export has exact first and second derivatives; third derivatives of {loss.name} are not available")

        @staticmethod
        def vmap(info, in_dims, sample_weight, *args):
            return looped(lambda s, *a: HVP.apply(s, *a), info, in_dims, (sample_weight,) + args)

    class Value(torch.autograd.Function):
        """inputs -> (value, gradients); only the value is differentiable."""

        @staticmethod
        def forward(sample_weight, *inputs):
            sw, arrays = detached(sample_weight, inputs)
            value, grads = loss.value_and_gradient(*arrays, sample_weight=sw, reduction=reduction)
            grads = grads if isinstance(grads, tuple) else (grads,)
            value = value if isinstance(value, torch.Tensor) else torch.as_tensor(value)
            return (value,) + tuple(grads)

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs[1:], *output[1:])
            ctx.save_for_forward(*inputs[1:], *output[1:])
            ctx.sample_weight = inputs[0]
            ctx.mark_non_differentiable(*output[1:])

        @staticmethod
        def backward(ctx, grad_value, *unused):
            saved = ctx.saved_tensors
            inputs, cached = saved[:n_in], saved[n_in:]
            grads = Grad.apply(ctx.sample_weight, *inputs, *cached)
            out = [None] * (1 + n_in)
            for k, g in zip(wrt, grads):
                out[1 + k] = per_value(k, grad_value, g) * g
            return tuple(out)

        @staticmethod
        def jvp(ctx, sample_weight_t, *tangents):
            saved = ctx.saved_tensors
            grads = saved[n_in:]
            total = None
            for k, g in zip(wrt, grads):
                t = tangents[k]
                if t is None:
                    continue
                term = g * t
                if reduction == "none":
                    keep = _value_axes(loss, k, term.ndim, ctx.value_ndim)
                    term = term.sum(dim=tuple(a for a in range(term.ndim) if a not in keep)) \
                        if len(keep) < term.ndim else term
                else:
                    term = term.sum()
                total = term if total is None else total + term
            return (total,) + (None,) * len(grads)  # the gradients are not differentiable

        @staticmethod
        def vmap(info, in_dims, sample_weight, *inputs):
            return looped(lambda s, *a: Value.apply(s, *a), info, in_dims,
                          (sample_weight,) + inputs)

    class ValueWithJvp(Value):
        @staticmethod
        def setup_context(ctx, inputs, output):
            Value.setup_context(ctx, inputs, output)
            ctx.value_ndim = output[0].ndim

    def value(sample_weight, *inputs):
        return ValueWithJvp.apply(sample_weight, *inputs)[0]

    return SimpleNamespace(value=value, Value=ValueWithJvp, Grad=Grad, HVP=HVP)


def _value_axes(loss, k, ndim, value_ndim):
    """The axes of input k that index the unreduced values: the batch axis for per-sample
    losses, every axis for elementwise ones."""
    if value_ndim == ndim:
        return tuple(range(ndim))
    b = loss.info.batch_axes[loss.inputs[k]]
    return tuple(range(b, b + value_ndim))


# ---------------------------------------------------------------------------------------------
# gradient boosting
# ---------------------------------------------------------------------------------------------


# The built-in objective each loss corresponds to, and that objective's convention: a factor on
# the gradient and hessian (XGBoost and LightGBM write squared error as (y - p)^2 / 2), a factor
# on the hessian alone, and the hessian's floor.
_BUILTINS = {
    ("xgboost", "mse"): ("reg:squarederror", 0.5, 1.0, 0.0),
    ("xgboost", "bce"): ("binary:logistic", 1.0, 1.0, 1e-16),
    ("xgboost", "sparse_cce"): ("multi:softprob", 1.0, 2.0, 1e-16),
    ("lightgbm", "mse"): ("regression", 0.5, 1.0, 0.0),
    ("lightgbm", "bce"): ("binary", 1.0, 1.0, 0.0),
    ("lightgbm", "sparse_cce"): ("multiclass", 1.0, "K/(K-1)", 0.0),
}


class BoostingObjective:
    """A custom objective for XGBoost or LightGBM: returns (gradient, hessian) per sample.

    Called as ``obj(predt, dtrain)`` by ``xgboost.train`` and ``obj(preds, train_data)`` by
    ``lightgbm.train`` (labels and weights come from the data set), or as
    ``obj(y_true, y_pred[, weight])`` by the scikit-learn interfaces. Predictions are raw margins
    (logits); multiclass losses take margins of shape (n_samples, n_classes), as XGBoost >= 2 and
    LightGBM >= 4 pass them; a flat or transposed array is refused rather than misread.

    ``hessian="exact"``: losslab's gradient and hessian (diagonal), with a positive surrogate
    where the true one is not usable: where it is exactly 0 (MAE, pinball, hinge, Huber's linear
    part) it is replaced by 1, as scikit-learn and LightGBM do for the absolute error; elsewhere
    it is ``max(h, min_hessian)``, since a Newton step needs a positive curvature and focal losses
    are not convex. ``hessian="library"``: the convention of the library's built-in objective
    for this loss (``builtin``), so that with ``init_score`` as the starting margin the custom
    objective reproduces the built-in: squared error halved (grad ``p - y``, hess 1), the
    logistic hessian floored at 1e-16 (XGBoost), the softmax hessian doubled (XGBoost,
    ``2 p (1 - p)``) or scaled by ``K / (K - 1)`` (LightGBM).
    """

    def __init__(self, loss, library: str, min_hessian: float, hessian: str = "exact"):
        self.loss, self.library, self.min_hessian = loss, library, min_hessian
        self.hessian = hessian
        self.builtin = _BUILTINS.get((library, loss.name), (None,))[0] \
            if _library_form(loss) else None

    def __repr__(self) -> str:
        return (f"BoostingObjective({self.loss!r}, library={self.library!r}, "
                f"hessian={self.hessian!r}, min_hessian={self.min_hessian})")

    def init_score(self, y, sample_weight=None):
        """The margin the built-in objective starts from, to pass as ``base_margin`` (XGBoost)
        or ``init_score`` (LightGBM): the loss's optimal constant (``loss.init_score``), one row
        per sample. For multiclass LightGBM starts at the log class frequencies and XGBoost at
        those centred; both are optimal (softmax ignores a shift), and the one the library uses
        is returned, so that margins agree, not only probabilities."""
        y = np.asarray(y)
        k = None
        if self.loss.shape_rule == "class_index":
            k = int(np.max(y)) + 1
        c = np.asarray(self.loss.init_score(y, sample_weight, **({"n_classes": k} if k else {})),
                       dtype=np.float64)
        if k and self.library == "lightgbm":
            c = c - np.log(np.sum(np.exp(c)))  # the log frequencies: a log-softmax
        return np.broadcast_to(c, (y.shape[0],) + c.shape).copy()

    def _check_layout(self, preds, n):
        if self.loss.shape_rule != "class_index":
            if preds.shape[:1] != (n,):
                raise ValueError(f"preds has shape {preds.shape} for {n} labels")
            return preds
        if preds.ndim != 2:
            raise ValueError(
                f"multiclass preds must have shape (n_samples, n_classes) = ({n}, K); got "
                f"shape {preds.shape}. A flat array is ambiguous (LightGBM < 4 passed it "
                "class-major, XGBoost < 2 sample-major): reshape it to (n_samples, n_classes)")
        if preds.shape[0] != n:
            hint = " (class-major: transpose it)" if preds.shape[1] == n else ""
            raise ValueError(f"multiclass preds must have shape (n_samples, n_classes) = ({n}, K); "
                             f"got {preds.shape}{hint}")
        return preds

    def __call__(self, a, b, weight=None):
        if hasattr(b, "get_label"):  # native API: (predictions, data set)
            preds, y = np.asarray(a, dtype=np.float64), np.asarray(b.get_label())
            w = b.get_weight()
            weight = None if w is None or np.size(w) == 0 else np.asarray(w, dtype=np.float64)
        else:  # scikit-learn API: (y_true, y_pred[, weight])
            y, preds = np.asarray(a), np.asarray(b, dtype=np.float64)
        preds = self._check_layout(preds, len(y))
        g = self.loss.gradient(y, preds, reduction="none")
        h = self.loss.hessian(y, preds, reduction="none")
        if self.hessian == "library":
            _, scale, h_factor, floor = _BUILTINS[(self.library, self.loss.name)]
            if h_factor == "K/(K-1)":
                h_factor = preds.shape[1] / (preds.shape[1] - 1)
            g, h = g * scale, np.maximum(h * (scale * h_factor), floor)
        else:
            h = np.where(h == 0, 1.0, np.maximum(h, self.min_hessian))
        if weight is not None:
            weight = np.asarray(weight, dtype=np.float64).reshape((-1,) + (1,) * (g.ndim - 1))
            g, h = g * weight, h * weight
        return g, h


def _library_form(loss) -> bool:
    """The settings a built-in objective has: logits, no smoothing, weights or pos_weight."""
    p = loss.get_params()
    return (p.get("from_logits", True) and not p.get("label_smoothing")
            and p.get("pos_weight") is None and p.get("class_weight") is None
            and p.get("ignore_index") is None)


def _check_loss(loss):
    """Exports take a Loss (``losslab.get(name, ...)`` builds one from a name)."""
    if not (hasattr(loss, "value_and_gradient") and hasattr(loss, "info")):
        raise TypeError(f"loss must be a losslab Loss (losslab.get(name) builds one), got "
                        f"{type(loss).__name__}")


def boosting_objective(loss, library: str = "xgboost", *, min_hessian: float = 1e-6,
                       hessian: str = "exact") -> BoostingObjective:
    """The custom objective of ``loss`` for ``library`` ("xgboost" or "lightgbm"); ``hessian``
    is ``"exact"`` or ``"library"`` (the built-in objective's convention; see
    ``BoostingObjective``)."""
    _check_loss(loss)
    V.check_choice(library, "library", ("xgboost", "lightgbm"))
    V.check_choice(hessian, "hessian", ("exact", "library"))
    min_hessian = V.check_scalar(min_hessian, "min_hessian", gt=0)
    if loss.inputs != ("y_true", "y_pred"):
        raise ValueError(f"{loss.name} takes {loss.inputs}; a boosting objective needs a loss of "
                         "(y_true, y_pred)")
    if loss.info.hessian == "none":
        raise ValueError(f"{loss.name} has no hessian, which {library} needs")
    domain = loss.info.domains["y_pred"]
    if domain is not None:
        hint = " (construct it with from_logits=True)" if hasattr(loss, "from_logits") else ""
        raise ValueError(f"a {library} objective works on raw margins, but {loss.name} takes y_pred "
                         f"in {domain}{hint}")
    if loss.shape_rule in ("rows", "samples"):
        raise ValueError(f"{loss.name} takes rows of targets; {library} gives one label per sample "
                         "(use the class-index form, e.g. sparse_cce)")
    if hessian == "library" and ((library, loss.name) not in _BUILTINS or not _library_form(loss)):
        known = ", ".join(f"{n} ({b[0]})" for (lib, n), b in _BUILTINS.items() if lib == library)
        raise ValueError(f"hessian='library' follows a built-in objective of {library}; {loss!r} "
                         f"has none. Built-ins: {known}, each on logits without smoothing or "
                         "class weights")
    return BoostingObjective(loss, library, min_hessian, hessian)
