"""Overlap losses for segmentation and detection: masks or probability maps, one value per sample.

``y_true`` (masks in [0, 1]) and ``y_pred`` (probability maps) have the same shape (N, ...). By
default the sums run over every non-batch axis; ``axis`` picks other axes (for example (2, 3) of
(N, C, H, W) for one value per sample and class). Each sample's value depends on all of its
pixels, so the hessian returned is the diagonal.

Empty masks: ``eps`` is added to numerator and denominator (MONAI's convention), so an empty
mask predicted empty costs 0 and an empty mask predicted non-empty costs close to 1.
"""

from __future__ import annotations

import numpy as np

from .._core import Control, Loss, register, numerics as M, validation as V


_MASK = V.Interval(0.0, 1.0, note="masks or soft masks")
_MAP = V.Interval(0.0, 1.0, note="probability maps")


def _check_axis(axis):
    if axis is None:
        return None
    is_int = isinstance(axis, (int, np.integer)) and not isinstance(axis, bool)
    if not is_int and not isinstance(axis, (tuple, list)):
        raise TypeError(f"axis must be None, an int or a tuple of ints, got {axis!r} of type "
                        f"{type(axis).__name__}")
    axes = (axis,) if is_int else tuple(axis)
    if not axes or not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) and a >= 1
                           for a in axes):
        raise ValueError(f"axis must be None or non-batch axes (integers >= 1), got {axis!r}")
    if len(set(int(a) for a in axes)) != len(axes):
        raise ValueError(f"axis must name each axis once, got {axis!r}")
    return tuple(sorted(int(a) for a in axes))


class _Overlap(Loss):
    """Shared parts of the overlap losses: axes, shapes, scale broadcasting, sampling."""

    task = "segmentation"
    shape_rule = "samples"
    activation = "sigmoid or softmax (y_pred are probabilities per pixel)"
    hessian_kind = "diagonal"
    convex = "no"
    outlier_sensitivity = "low: bounded in [0, 1] per sample"

    def _y_true_domain(self):
        return _MASK

    def _y_pred_domain(self):
        return _MAP

    def _axes(self, ndim):
        return tuple(range(1, ndim)) if self.axis is None else self.axis

    def _check_shapes(self, arrays):
        super()._check_shapes(arrays)
        y_pred = arrays[1]
        if self.axis is not None and max(self.axis) >= y_pred.ndim:
            raise ValueError(f"axis {self.axis} is out of range for y_pred of shape {tuple(y_pred.shape)}")

    def _value_shape(self, arrays):
        y_pred = arrays[1]
        axes = self._axes(y_pred.ndim)
        return tuple(d for i, d in enumerate(y_pred.shape) if i not in axes)

    def _expand_scale(self, xp, s, name, ndim):
        for a in self._axes(ndim):
            s = xp.expand_dims(s, axis=a)
        return s

    def _sums(self, xp, a, ndim):
        if self.axis is None:
            return M.trailing_sum(xp, a)
        return xp.sum(a, axis=self._axes(ndim), keepdims=True)

    def sample_inputs(self, rng, n=8):
        y = (rng.random((n, 3, 4)) < 0.4).astype(float)
        y[::5] = 0.0  # some empty masks
        return y, rng.uniform(0.05, 0.95, size=(n, 3, 4))


@register
class Dice(_Overlap):
    """Dice loss ``1 - (2 sum(y p) + smooth + eps) / (sum(y) + sum(p) + smooth + eps)``.

    With ``N = 2 sum(y p) + smooth + eps`` and ``D = sum(y) + sum(p) + smooth + eps``: gradient
    ``-(2 y D - N) / D**2``; hessian diagonal ``4 y / D**2 - 2 N / D**3``.
    Equivalence: ``tversky(alpha=0.5, beta=0.5, smooth=s, eps=e)`` is
    ``dice(smooth=2 s, eps=2 e)``.
    """

    name = "dice"
    controls = {"smooth": Control(0.0, 2.0, 0.1)}
    estimates = "a mask that maximises the overlap (no probability)"
    verify_settings = ({}, {"smooth": 1.0}, {"axis": (2,)})
    torch_reference = "formula (V-Net soft Dice)"
    aliases = ("dice_loss", "soft_dice")
    summary = "One minus the soft Dice coefficient (F1 of the overlap), per sample."
    formula = "1 - (2 sum(y p) + s + eps) / (sum(y) + sum(p) + s + eps)"
    formula_latex = r"1 - \frac{2\sum y p + s + \epsilon}{\sum y + \sum p + s + \epsilon}"
    gradient_formula = "-(2 y D - N) / D^2"
    gradient_latex = r"-\frac{2yD - N}{D^2}"
    convention = ("V-Net soft Dice (Milletari et al. 2016); eps in numerator and denominator as "
                  "MONAI, so empty/empty costs 0")
    references = ("Milletari, Navab, Ahmadi, V-Net, 3DV 2016, arXiv:1606.04797",
                  "Sudre et al., Generalised Dice overlap, DLMIA 2017, arXiv:1707.03237")

    def __init__(self, *, smooth=0.0, eps=1e-7, axis=None, check_finite=True):
        super().__init__(check_finite=check_finite)
        self.smooth = V.check_scalar(smooth, "smooth", ge=0)
        self.eps = V.check_scalar(eps, "eps", gt=0)
        self.axis = _check_axis(axis)

    def _kernel(self, xp, inputs, order):
        y, p = inputs
        c = self.smooth + self.eps
        num = 2.0 * self._sums(xp, y * p, p.ndim) + c
        den = self._sums(xp, y + p, p.ndim) + c
        value = xp.reshape(1.0 - num / den, self._value_shape(inputs))
        grad = hess = None
        if order >= 1:
            grad = -(2.0 * y * den - num) / (den * den)
            if order >= 2:
                hess = 4.0 * y / (den * den) - 2.0 * num / (den * den * den)
        return value, grad, hess


@register
class Tversky(_Overlap):
    """Tversky loss ``1 - (TP + s + eps) / (TP + alpha FP + beta FN + s + eps)``.

    ``TP = sum(y p)``, ``FP = sum((1 - y) p)``, ``FN = sum(y (1 - p))``: alpha weights false
    positives, beta false negatives (Salehi et al. 2017). With ``N`` and ``D`` the numerator and
    denominator and ``g = y + alpha (1 - y) - beta y`` (dD/dp): gradient ``-(y D - N g) / D**2``;
    hessian diagonal ``2 (y D - N g) g / D**3``. ``alpha = beta = 0.5`` is dice with smooth and
    eps doubled (both fractions are then 2 TP / (sum y + sum p) with the same constants).
    """

    name = "tversky"
    controls = {"alpha": Control(0.0, 1.0, 0.05, shown=(0.3, 0.5, 0.7)),
                "beta": Control(0.0, 1.0, 0.05), "smooth": Control(0.0, 2.0, 0.1)}
    estimates = "a mask weighing false positives (alpha) against false negatives (beta)"
    verify_settings = ({}, {"alpha": 0.7, "beta": 0.3}, {"alpha": 0.2, "beta": 0.8, "smooth": 0.5})
    torch_reference = "formula (Salehi et al.)"
    aliases = ("tversky_loss",)
    summary = "Dice with separate weights for false positives (alpha) and false negatives (beta)."
    formula = "1 - (TP + s + eps) / (TP + alpha FP + beta FN + s + eps)"
    formula_latex = r"1 - \frac{TP + s + \epsilon}{TP + \alpha FP + \beta FN + s + \epsilon}"
    gradient_formula = "-(y D - N g) / D^2, g = y + alpha (1 - y) - beta y"
    gradient_latex = r"-\frac{yD - Ng}{D^2}"
    convention = "Salehi et al. 2017 (alpha on false positives, beta on false negatives)"
    references = ("Salehi, Erdogmus, Gholipour, Tversky loss function for image segmentation, "
                  "MLMI 2017, arXiv:1706.05721",)

    def __init__(self, *, alpha=0.5, beta=0.5, smooth=0.0, eps=1e-7, axis=None, check_finite=True):
        super().__init__(check_finite=check_finite)
        self.alpha = V.check_scalar(alpha, "alpha", ge=0, le=1e6, why=(
            "a weight of false positives; beyond it the index's denominator "
            "overflows or loses the true positives to rounding"))
        self.beta = V.check_scalar(beta, "beta", ge=0, le=1e6, why=(
            "a weight of false negatives; beyond it the index's denominator "
            "overflows or loses the true positives to rounding"))
        self.smooth = V.check_scalar(smooth, "smooth", ge=0)
        self.eps = V.check_scalar(eps, "eps", gt=0)
        self.axis = _check_axis(axis)

    def _kernel(self, xp, inputs, order):
        y, p = inputs
        a, b, c = self.alpha, self.beta, self.smooth + self.eps
        tp = self._sums(xp, y * p, p.ndim)
        fp = self._sums(xp, (1.0 - y) * p, p.ndim)
        fn = self._sums(xp, y * (1.0 - p), p.ndim)
        num = tp + c
        den = tp + a * fp + b * fn + c
        value = xp.reshape(1.0 - num / den, self._value_shape(inputs))
        grad = hess = None
        if order >= 1:
            g = y + a * (1.0 - y) - b * y
            u = y * den - num * g
            grad = -u / (den * den)
            if order >= 2:
                hess = 2.0 * u * g / (den * den * den)
        return value, grad, hess
