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
    """A ``torch.nn.Module`` computing ``loss`` with losslab's value and analytic gradient.

    Call it as torch's losses are called: ``module(input, target, sample_weight=None)`` for
    losses of (y_true, y_pred); ``module(*inputs)`` in ``loss.info.inputs`` order for losses of
    several inputs. Gradients flow to every differentiable input; the others get none. Works on
    any device the loss's array-API path supports (the computation stays in torch).
    """
    import torch

    _check_loss(loss)
    V.check_reduction(reduction)
    if reduction == "none" and getattr(loss, "coupled", False):
        raise ValueError(f"{loss.name}.to_torch(reduction='none') is not supported: its per-sample "
                         "values share inputs, so their gradients do not separate; use 'mean' or 'sum'")
    two_inputs = len(loss.inputs) == 2 and loss.inputs == ("y_true", "y_pred")
    wrt = [loss.inputs.index(n) for n in loss.differentiable]
    batch_axes = loss.info.batch_axes

    class _Function(torch.autograd.Function):
        @staticmethod
        def forward(ctx, sample_weight, *inputs):
            arrays = [x.detach() for x in inputs]
            sw = None if sample_weight is None else sample_weight.detach()
            value, grads = loss.value_and_gradient(*arrays, sample_weight=sw, reduction=reduction)
            grads = grads if isinstance(grads, tuple) else (grads,)
            ctx.save_for_backward(*grads)
            ctx.n_inputs = len(inputs)
            return value if isinstance(value, torch.Tensor) else torch.as_tensor(value)

        @staticmethod
        def backward(ctx, grad_out):
            out = [None] * (1 + ctx.n_inputs)
            for k, g in zip(wrt, ctx.saved_tensors):
                if reduction == "none":
                    go = grad_out.reshape(grad_out.shape + (1,) * (g.ndim - grad_out.ndim))
                    b = batch_axes[loss.inputs[k]]
                    if b:
                        go = grad_out.reshape((1,) * b + tuple(grad_out.shape)
                                              + (1,) * (g.ndim - b - grad_out.ndim))
                    out[1 + k] = go * g
                else:
                    out[1 + k] = grad_out * g
            return tuple(out)

    class LossModule(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.loss = loss
            self.reduction = reduction

        def forward(self, *inputs, sample_weight=None):
            if two_inputs:
                if len(inputs) != 2:
                    raise TypeError(f"{loss.name} module takes (input, target), got {len(inputs)} arrays")
                inputs = (inputs[1], inputs[0])  # torch's (input, target) -> losslab's (y_true, y_pred)
            return _Function.apply(sample_weight, *inputs)

        def extra_repr(self) -> str:
            return f"{loss!r}, reduction={reduction!r}"

    return LossModule()


# ---------------------------------------------------------------------------------------------
# gradient boosting
# ---------------------------------------------------------------------------------------------


class BoostingObjective:
    """A custom objective for XGBoost or LightGBM: returns (gradient, hessian) per sample.

    Called as ``obj(predt, dtrain)`` by ``xgboost.train`` and ``obj(preds, train_data)`` by
    ``lightgbm.train`` (labels and weights come from the data set), or as
    ``obj(y_true, y_pred[, weight])`` by the scikit-learn interfaces. Predictions are raw margins
    (logits); multiclass losses take (n_samples, n_classes) margins.

    The hessian is a positive surrogate where the true one is not usable: where it is exactly 0
    (MAE, pinball, hinge, Huber's linear part) it is replaced by 1, as scikit-learn and LightGBM
    do for the absolute error; elsewhere it is ``max(h, min_hessian)``, since a Newton step needs
    a positive curvature and focal losses are not convex.
    """

    def __init__(self, loss, library: str, min_hessian: float):
        self.loss, self.library, self.min_hessian = loss, library, min_hessian

    def __repr__(self) -> str:
        return f"BoostingObjective({self.loss!r}, library={self.library!r}, min_hessian={self.min_hessian})"

    def __call__(self, a, b, weight=None):
        if hasattr(b, "get_label"):  # native API: (predictions, data set)
            preds, y = np.asarray(a, dtype=np.float64), np.asarray(b.get_label())
            w = b.get_weight()
            weight = None if w is None or np.size(w) == 0 else np.asarray(w, dtype=np.float64)
        else:  # scikit-learn API: (y_true, y_pred[, weight])
            y, preds = np.asarray(a), np.asarray(b, dtype=np.float64)
        shape = preds.shape
        if self.loss.shape_rule == "class_index":
            preds = preds.reshape(len(y), -1)
        g = self.loss.gradient(y, preds, reduction="none")
        h = self.loss.hessian(y, preds, reduction="none")
        h = np.where(h == 0, 1.0, np.maximum(h, self.min_hessian))
        if weight is not None:
            weight = np.asarray(weight, dtype=np.float64).reshape((-1,) + (1,) * (g.ndim - 1))
            g, h = g * weight, h * weight
        return g.reshape(shape), h.reshape(shape)


def _check_loss(loss):
    """Exports take a Loss (``losslab.get(name, ...)`` builds one from a name)."""
    if not (hasattr(loss, "value_and_gradient") and hasattr(loss, "info")):
        raise TypeError(f"loss must be a losslab Loss (losslab.get(name) builds one), got "
                        f"{type(loss).__name__}")


def boosting_objective(loss, library: str = "xgboost", *, min_hessian: float = 1e-6) -> BoostingObjective:
    """The custom objective of ``loss`` for ``library`` ("xgboost" or "lightgbm")."""
    _check_loss(loss)
    V.check_choice(library, "library", ("xgboost", "lightgbm"))
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
    return BoostingObjective(loss, library, min_hessian)
