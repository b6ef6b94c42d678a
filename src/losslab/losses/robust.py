"""Robust and asymmetric regression losses beyond Huber: pseudo-Huber (Charbonnier), the
redescending Cauchy, Geman-McClure and Welsch losses, and expectiles.

Cauchy, Geman-McClure and Welsch are written in Barron's normalisation ("A General and Adaptive
Robust Loss Function", CVPR 2019), in which they are the general loss at alpha = 0, -2 and -inf:
``log(z / 2 + 1)``, ``2 z / (z + 4)`` and ``1 - exp(-z / 2)`` with ``z = (e / c)^2``. The three
are not convex: their gradients rise, then fall back towards 0 (they "redescend"), so a far
outlier pulls (almost) nothing; their hessians are negative beyond ``|e| = sqrt(2) c``
(Cauchy), ``2 c / sqrt(3)`` (Geman-McClure) and ``c`` (Welsch).
"""

from __future__ import annotations

from .._core import Control, register, validation as V
from .regression import _Regression


@register
class PseudoHuber(_Regression):
    """Pseudo-Huber (Charbonnier) loss: a smooth Huber.

    Unreduced: ``delta^2 (sqrt(1 + (e / delta)^2) - 1)``; gradient ``e / sqrt(1 + (e/delta)^2)``
    (bounded by delta); hessian ``(1 + (e / delta)^2)^(-3/2)``, exact everywhere (XGBoost's
    ``reg:pseudohubererror`` with ``huber_slope = delta``).

    >>> import losslab as ll
    >>> round(float(ll.get("pseudo_huber", delta=1.0)([0.0], [3.0])), 6)
    2.162278
    """

    name = "pseudo_huber"
    aliases = ("charbonnier",)
    controls = {"delta": Control(0.1, 3.0, 0.1, shown=(0.5, 1.0, 2.0))}
    estimates = "a robust mean (between median and mean)"
    estimate_check = ("median_residual", 0.0)
    verify_settings = ({"delta": 1.0}, {"delta": 0.3}, {"delta": 2.5})
    torch_reference = "formula delta^2 (sqrt(1 + (e / delta)^2) - 1)"
    summary = "A smooth Huber: ~e^2/2 near zero, ~delta |e| far away, with an exact hessian."
    formula = "delta^2 (sqrt(1 + (e / delta)^2) - 1), e = y_pred - y_true"
    formula_latex = r"\delta^2\left(\sqrt{1+(e/\delta)^2}-1\right)"
    gradient_formula = "e / sqrt(1 + (e / delta)^2)"
    gradient_latex = r"\frac{e}{\sqrt{1+(e/\delta)^2}}"
    outlier_sensitivity = "low: the gradient is bounded by delta"
    noise_model = "hyperbolic (a smooth Laplace-Gaussian mixture)"
    convention = "XGBoost reg:pseudohubererror (huber_slope = delta); Charbonnier at delta = 1"
    references = ("Charbonnier et al., Two deterministic half-quadratic regularization "
                  "algorithms for computed imaging, ICIP 1994",
                  "Hartley & Zisserman, Multiple View Geometry, 2nd ed. (2003), A6.8")

    def __init__(self, *, delta=1.0, check_finite=True):
        super().__init__(check_finite=check_finite)
        self.delta = V.check_scalar(delta, "delta", gt=0)

    def _error_kinks(self):
        return ()

    def _kernel(self, xp, inputs, order):
        y_true, y_pred = inputs
        d = self.delta
        e = y_pred - y_true
        u = e * (1.0 / d)
        root = xp.sqrt(1.0 + u * u)
        # d^2 (root - 1) = e^2 / (root + 1): no cancellation for small e
        value = e * e / (root + 1.0)
        grad = e / root if order >= 1 else None
        hess = 1.0 / (root * root * root) if order >= 2 else None
        return value, grad, hess


class _Redescending(_Regression):
    """Barron's normalisation: a function of ``z = (e / c)^2`` (see the module docstring)."""

    convex = "no (the hessian is negative for large |e|: it redescends)"
    outlier_sensitivity = "very low: the gradient returns to 0 for large errors"
    estimates = "a robust location (the mode of the bulk, for a far enough outlier)"
    estimate_check = ("median_residual", 0.0)
    controls = {"c": Control(0.1, 3.0, 0.1, shown=(0.5, 1.0, 2.0))}
    verify_settings = ({"c": 1.0}, {"c": 0.4}, {"c": 2.0})
    references = ("Barron, A General and Adaptive Robust Loss Function, CVPR 2019",)

    def __init__(self, *, c=1.0, check_finite=True):
        super().__init__(check_finite=check_finite)
        self.c = V.check_scalar(c, "c", gt=0)

    def _error_kinks(self):
        return ()


@register
class Cauchy(_Redescending):
    """Cauchy (Lorentzian) loss: ``log(1 + (e / c)^2 / 2)``.

    Gradient ``2 e / (2 c^2 + e^2)``; hessian ``2 (2 c^2 - e^2) / (2 c^2 + e^2)^2``. Barron's
    general loss at alpha = 0.

    >>> import losslab as ll
    >>> round(float(ll.get("cauchy", c=1.0)([0.0], [2.0])), 6)
    1.098612
    """

    name = "cauchy"
    aliases = ("lorentzian",)
    torch_reference = "formula log(1 + (e / c)^2 / 2)"
    summary = "Log of a quadratic: the negative log-likelihood of Cauchy noise; redescending."
    formula = "log(1 + (e / c)^2 / 2)"
    formula_latex = r"\log\left(1+\tfrac12(e/c)^2\right)"
    gradient_formula = "2 e / (2 c^2 + e^2)"
    gradient_latex = r"\frac{2e}{2c^2+e^2}"
    noise_model = "Cauchy (Student t with one degree of freedom), scale sqrt(2) c"
    convention = "Barron (2019) at alpha = 0 (other texts use log(1 + (e / c)^2))"

    def _kernel(self, xp, inputs, order):
        y_true, y_pred = inputs
        c2 = self.c * self.c
        e = y_pred - y_true
        s = 2.0 * c2 + e * e
        value = xp.log1p(e * e / (2.0 * c2))
        grad = 2.0 * e / s if order >= 1 else None
        hess = 2.0 * (2.0 * c2 - e * e) / (s * s) if order >= 2 else None
        return value, grad, hess


@register
class GemanMcClure(_Redescending):
    """Geman-McClure loss: ``2 z / (z + 4)``, ``z = (e / c)^2``; bounded by 2.

    Gradient ``16 e / (c^2 (z + 4)^2)``; hessian ``16 (4 - 3 z) / (c^2 (z + 4)^3)``. Barron's
    general loss at alpha = -2.

    >>> import losslab as ll
    >>> float(ll.get("geman_mcclure", c=1.0)([0.0], [2.0]))
    1.0
    """

    name = "geman_mcclure"
    torch_reference = "formula 2 z / (z + 4), z = (e / c)^2"
    summary = "A bounded loss (at most 2): far outliers cost a constant and pull nothing."
    formula = "2 (e / c)^2 / ((e / c)^2 + 4)"
    formula_latex = r"\frac{2(e/c)^2}{(e/c)^2+4}"
    gradient_formula = "16 e / (c^2 ((e / c)^2 + 4)^2)"
    gradient_latex = r"\frac{16e}{c^2\left((e/c)^2+4\right)^2}"
    noise_model = None
    convention = "Barron (2019) at alpha = -2 (Geman & McClure wrote e^2 / (e^2 + c^2))"

    def _kernel(self, xp, inputs, order):
        y_true, y_pred = inputs
        c2 = self.c * self.c
        e = y_pred - y_true
        z = e * e / c2
        q = z + 4.0
        value = 2.0 * z / q
        grad = 16.0 * e / (c2 * q * q) if order >= 1 else None
        hess = 16.0 * (4.0 - 3.0 * z) / (c2 * q * q * q) if order >= 2 else None
        return value, grad, hess


@register
class Welsch(_Redescending):
    """Welsch (Leclerc) loss: ``1 - exp(-(e / c)^2 / 2)``; bounded by 1.

    Gradient ``(e / c^2) exp(-z / 2)``; hessian ``(1 - z) exp(-z / 2) / c^2``, ``z = (e/c)^2``.
    Barron's general loss as alpha -> -inf.

    >>> import losslab as ll
    >>> round(float(ll.get("welsch", c=1.0)([0.0], [1.0])), 6)
    0.393469
    """

    name = "welsch"
    aliases = ("leclerc",)
    torch_reference = "formula 1 - exp(-(e / c)^2 / 2)"
    summary = "One minus a Gaussian bump: bounded by 1; the correntropy loss."
    formula = "1 - exp(-(e / c)^2 / 2)"
    formula_latex = r"1-\exp\left(-\tfrac12(e/c)^2\right)"
    gradient_formula = "(e / c^2) exp(-(e / c)^2 / 2)"
    gradient_latex = r"\frac{e}{c^2}\,e^{-\frac12(e/c)^2}"
    noise_model = None
    convention = "Barron (2019) as alpha -> -inf (the correntropy induced loss)"

    def _kernel(self, xp, inputs, order):
        y_true, y_pred = inputs
        c2 = self.c * self.c
        e = y_pred - y_true
        z = e * e / c2
        g = xp.exp(-0.5 * z)
        value = -xp.expm1(-0.5 * z)
        grad = e * g / c2 if order >= 1 else None
        hess = (1.0 - z) * g / c2 if order >= 2 else None
        return value, grad, hess


@register
class Expectile(_Regression):
    """Expectile loss (asymmetric least squares): ``w e^2`` with ``w = tau`` where the
    prediction is too low (``y_true > y_pred``) and ``1 - tau`` elsewhere.

    Gradient ``2 w e``; hessian ``2 w``. Its minimiser is the tau-expectile (the mean at tau =
    0.5, where the loss is MSE / 2); the weight is a step, so the hessian jumps at e = 0 (the
    "over" side's ``2 (1 - tau)`` is used there).

    >>> import losslab as ll
    >>> float(ll.get("expectile", tau=0.8)([1.0, 1.0], [0.0, 2.0]))
    0.5
    """

    name = "expectile"
    controls = {"tau": Control(0.05, 0.95, 0.05, shown=(0.1, 0.5, 0.9))}
    estimates = "the {tau:.3g}-expectile (an asymmetric mean)"
    estimate_check = ("share_below", None)
    verify_settings = ({"tau": 0.5}, {"tau": 0.8}, {"tau": 0.1})
    torch_reference = "formula |tau - 1(y_true < y_pred)| e^2"
    summary = "Asymmetric least squares: the expectile, a mean that leans towards one tail."
    formula = "w e^2, w = tau if y_true > y_pred else 1 - tau, e = y_pred - y_true"
    formula_latex = r"\lvert\tau-\mathbb{1}(y<\hat y)\rvert\,(\hat y-y)^2"
    gradient_formula = "2 w e"
    gradient_latex = r"2\lvert\tau-\mathbb{1}(y<\hat y)\rvert\,(\hat y-y)"
    nondifferentiable = "twice-differentiable except at e = 0, where the hessian jumps"
    outlier_sensitivity = "high: the gradient grows linearly with the error"
    noise_model = "asymmetric Gaussian"
    convention = "Newey & Powell (1987) asymmetric least squares; tau = 0.5 gives MSE / 2"
    references = ("Newey & Powell, Asymmetric Least Squares Estimation and Testing, "
                  "Econometrica 55 (1987)",)

    def __init__(self, *, tau=0.5, check_finite=True):
        super().__init__(check_finite=check_finite)
        self.tau = V.check_scalar(tau, "tau", gt=0, lt=1)

    def _kernel(self, xp, inputs, order):
        y_true, y_pred = inputs
        e = y_pred - y_true
        w = (1.0 - self.tau) + (2.0 * self.tau - 1.0) * xp.astype(e < 0, e.dtype)
        value = w * e * e
        grad = 2.0 * w * e if order >= 1 else None
        hess = 2.0 * w if order >= 2 else None
        return value, grad, hess
