"""Regression losses: elementwise functions of the error e = y_pred - y_true.

Every loss here is elementwise: ``reduction="none"`` returns one value per element, the hessian
is exact (a diagonal matrix), and ``sample_weight`` may have one weight per sample (first axis) or
one per element.
"""

from __future__ import annotations

import math

import numpy as np

from .._core import Control, Loss, MultiInputLoss, Probe, ProbeCurve, register, numerics as M, validation as V


_REAL = V.Interval()


class _Regression(Loss):
    """Shared defaults of the elementwise regression losses."""

    task = "regression"
    activation = "identity"
    shape_rule = "same"

    def _error_kinks(self) -> tuple[float, ...]:
        """|e| values where the loss or its derivatives are not smooth (kept away from in sampling)."""
        return (0.0,)

    def sample_inputs(self, rng, n=8):
        """Valid float64 inputs whose errors stay at least 0.02 away from every kink."""
        y_true = rng.normal(0.0, 2.0, size=n)
        e = rng.uniform(0.05, 3.0, size=n) * rng.choice([-1.0, 1.0], size=n)
        for k in self._error_kinks():
            near = abs(abs(e) - k) < 0.02
            e[near] += 0.05 * (e[near] / abs(e[near]))
        return y_true, y_true + e


def _piecewise(xp, e, under, over):
    """under where e < 0, over elsewhere (the asymmetric weight of the course's business losses)."""
    return over + (under - over) * xp.astype(e < 0, e.dtype)


@register
class MSE(_Regression):
    """Mean squared error.

    Domain: y_true, y_pred real, same shape.

    Unreduced: ``l = (y_pred - y_true)**2``; gradient ``2 e``; hessian ``2``.
    Reductions: ``"mean"`` averages over every element (torch ``mse_loss``, Keras averages over the
    last axis first, which is the same number for equal-length rows).

    Example::

        >>> import losslab as ll
        >>> float(ll.get("mse")([3.0], [5.0]))
        4.0
    """

    name = "mse"
    estimates = "the conditional mean"
    estimate_check = ("mean_residual", 0.0)
    verify_settings = ({},)
    torch_reference = "F.mse_loss"
    aliases = ("l2", "squared_error", "mean_squared_error")
    summary = "Mean squared error: the Gaussian negative log-likelihood up to constants."
    formula = "(y_pred - y_true)^2"
    formula_latex = r"(\hat y - y)^2"
    gradient_formula = "2 (y_pred - y_true)"
    gradient_latex = r"2(\hat y - y)"
    outlier_sensitivity = "high: the gradient grows linearly with the error"
    noise_model = "Gaussian"
    convention = "torch mse_loss / scikit-learn mean_squared_error (no 1/2 factor)"
    references = ("Gauss (1809), Theoria motus corporum coelestium",)

    def __init__(self, *, check_finite=True):
        super().__init__(check_finite=check_finite)

    def _error_kinks(self):
        return ()

    def _kernel(self, xp, inputs, order):
        y_true, y_pred = inputs
        e = y_pred - y_true
        value = e * e
        grad = e * 2.0 if order >= 1 else None
        hess = xp.full(e.shape, 2.0, dtype=e.dtype) if order >= 2 else None
        return value, grad, hess


@register
class MAE(_Regression):
    """Mean absolute error.

    Unreduced ``l = |y_pred - y_true|``; gradient ``sign(e)``, with the subgradient 0 at e = 0
    (as torch's autograd of ``l1_loss``); hessian 0 (exact away from e = 0).

    Example::

        >>> import losslab as ll
        >>> float(ll.get("mae")([3.0], [5.0]))
        2.0
    """

    name = "mae"
    estimates = "the conditional median"
    estimate_check = ("share_below", 0.5)
    verify_settings = ({},)
    torch_reference = "F.l1_loss"
    aliases = ("l1", "absolute_error", "mean_absolute_error")
    summary = "Mean absolute error: robust to outliers, estimates the conditional median."
    formula = "|y_pred - y_true|"
    formula_latex = r"|\hat y - y|"
    gradient_formula = "sign(y_pred - y_true), 0 at y_pred = y_true"
    gradient_latex = r"\operatorname{sign}(\hat y - y)"
    nondifferentiable = "at y_pred = y_true; the subgradient 0 is used"
    outlier_sensitivity = "low: the gradient is bounded by 1"
    noise_model = "Laplace"
    convention = "torch l1_loss (subgradient sign(0) = 0)"
    references = ("Laplace (1774); Koenker, Quantile Regression (2005)",)

    def __init__(self, *, check_finite=True):
        super().__init__(check_finite=check_finite)

    def _kernel(self, xp, inputs, order):
        y_true, y_pred = inputs
        e = y_pred - y_true
        value = xp.abs(e)
        grad = xp.sign(e) if order >= 1 else None
        hess = xp.zeros_like(e) if order >= 2 else None
        return value, grad, hess


@register
class Huber(_Regression):
    """Huber loss.

    Unreduced: ``0.5 e**2`` where ``|e| < delta``, else ``delta (|e| - 0.5 delta)``.
    Gradient ``clip(e, -delta, delta)``; hessian 1 where ``|e| < delta``, else 0 (torch's branch:
    at ``|e| = delta`` exactly the linear branch, whose value and gradient coincide).
    Equivalences: ``Huber(delta) = beta * SmoothL1(beta=delta)``; delta -> inf gives MSE / 2.

    Example (the course's Example 1)::

        >>> import losslab as ll
        >>> float(ll.get("huber", delta=1.5)([3.0], [5.0]))
        1.875
    """

    name = "huber"
    controls = {"delta": Control(0.1, 3.0, 0.1, shown=(0.5, 1.0, 2.0))}
    estimates = "a robust mean (between median and mean)"
    estimate_check = ("median_residual", 0.0)
    verify_settings = ({"delta": 1.0}, {"delta": 0.3}, {"delta": 2.5})
    torch_reference = "F.huber_loss"
    summary = "Quadratic for small errors, linear beyond delta: MSE's efficiency, MAE's robustness."
    formula = "0.5 e^2 if |e| < delta else delta (|e| - 0.5 delta), e = y_pred - y_true"
    formula_latex = (r"\begin{cases}\tfrac12 e^2 & |e|<\delta\\"
                     r" \delta(|e|-\tfrac12\delta) & \text{otherwise}\end{cases}")
    gradient_formula = "clip(e, -delta, delta)"
    gradient_latex = r"\operatorname{clip}(e,-\delta,\delta)"
    nondifferentiable = "twice-differentiable except at |e| = delta, where the hessian jumps (0 used)"
    outlier_sensitivity = "low: the gradient is bounded by delta"
    noise_model = "Huber's least-favourable density (Gaussian centre, Laplace tails)"
    convention = "torch huber_loss (delta scales the linear part; Keras Huber is the same)"
    references = ("Huber, Robust Estimation of a Location Parameter, Ann. Math. Stat. 35 (1964)",)

    def __init__(self, *, delta=1.0, check_finite=True):
        super().__init__(check_finite=check_finite)
        self.delta = V.check_scalar(delta, "delta", gt=0)

    def _error_kinks(self):
        return (self.delta,)

    def _kernel(self, xp, inputs, order):
        y_true, y_pred = inputs
        d = self.delta
        e = y_pred - y_true
        a = xp.abs(e)
        c = xp.minimum(a, d)  # |gradient|: both branches in one formula, c (|e| - c / 2)
        value = c * (a - 0.5 * c)
        grad = xp.clip(e, -d, d) if order >= 1 else None
        hess = xp.astype(a < d, e.dtype) if order >= 2 else None
        return value, grad, hess


@register
class SmoothL1(_Regression):
    """Smooth L1 loss.

    Unreduced: ``0.5 e**2 / beta`` where ``|e| < beta``, else ``|e| - 0.5 beta``; ``beta = 0`` is
    exactly MAE. Gradient ``clip(e / beta, -1, 1)``; hessian ``1 / beta`` inside, 0 outside.
    Equivalence: ``SmoothL1(beta) = Huber(delta=beta) / beta``.
    """

    name = "smooth_l1"
    controls = {"beta": Control(0.1, 3.0, 0.1, shown=(0.5, 1.0, 2.0))}
    estimates = "a robust mean (between median and mean)"
    estimate_check = ("median_residual", 0.0)
    verify_settings = ({"beta": 1.0}, {"beta": 0.4}, {"beta": 0.0})
    torch_reference = "F.smooth_l1_loss"
    summary = "Huber rescaled so that its linear part has slope 1 (Fast R-CNN's box loss)."
    formula = "0.5 e^2 / beta if |e| < beta else |e| - 0.5 beta"
    formula_latex = (r"\begin{cases}\tfrac{e^2}{2\beta} & |e|<\beta\\"
                     r" |e|-\tfrac12\beta & \text{otherwise}\end{cases}")
    gradient_formula = "clip(e / beta, -1, 1); sign(e) when beta = 0"
    gradient_latex = r"\operatorname{clip}(e/\beta,-1,1)"
    nondifferentiable = "hessian jumps at |e| = beta (0 used); beta = 0: kink at e = 0, subgradient 0"
    outlier_sensitivity = "low: the gradient is bounded by 1"
    noise_model = "Huber's least-favourable density (Gaussian centre, Laplace tails)"
    convention = "torch smooth_l1_loss (beta=0 means L1)"
    references = ("Girshick, Fast R-CNN, ICCV 2015, arXiv:1504.08083",)

    def __init__(self, *, beta=1.0, check_finite=True):
        super().__init__(check_finite=check_finite)
        self.beta = V.check_scalar(beta, "beta", ge=0)

    def _error_kinks(self):
        return (self.beta,) if self.beta > 0 else (0.0,)

    def _kernel(self, xp, inputs, order):
        y_true, y_pred = inputs
        b = self.beta
        e = y_pred - y_true
        a = xp.abs(e)
        if b == 0.0:
            value = a
            grad = xp.sign(e) if order >= 1 else None
            hess = xp.zeros_like(e) if order >= 2 else None
            return value, grad, hess
        c = xp.minimum(a, b)
        value = c * (a - 0.5 * c) * (1.0 / b)  # Huber(delta=beta) / beta
        grad = xp.clip(e * (1.0 / b), -1.0, 1.0) if order >= 1 else None
        hess = xp.astype(a < b, e.dtype) * (1.0 / b) if order >= 2 else None
        return value, grad, hess


@register
class LogCosh(_Regression):
    """Log-cosh loss, computed as ``|e| + log1p(exp(-2|e|)) - log 2`` (cosh overflows past 710).

    Gradient ``tanh(e)``; hessian ``sech(e)**2 = 4 exp(-2|e|) / (1 + exp(-2|e|))**2`` (accurate
    where ``1 - tanh**2`` cancels).
    """

    name = "log_cosh"
    estimates = "a robust mean (between median and mean)"
    estimate_check = ("median_residual", 0.0)
    verify_settings = ({},)
    torch_reference = "formula log(cosh(e))"
    aliases = ("logcosh",)
    summary = "A smooth Huber: ~e^2/2 near zero, ~|e| - log 2 far away; twice differentiable."
    formula = "log(cosh(y_pred - y_true))"
    formula_latex = r"\log\cosh(\hat y - y)"
    gradient_formula = "tanh(y_pred - y_true)"
    gradient_latex = r"\tanh(\hat y - y)"
    outlier_sensitivity = "low: the gradient is bounded by 1"
    noise_model = "hyperbolic-secant density (sech(e) / pi)"
    convention = "Keras LogCosh (same formula; Keras writes the stable form too)"
    references = ("Chen et al., Log Hyperbolic Cosine Loss ..., 2019 (TechRxiv)",)

    def __init__(self, *, check_finite=True):
        super().__init__(check_finite=check_finite)

    def _error_kinks(self):
        return ()

    def _kernel(self, xp, inputs, order):
        y_true, y_pred = inputs
        e = y_pred - y_true
        value = M.logcosh(xp, e)
        grad = xp.tanh(e) if order >= 1 else None
        hess = None
        if order >= 2:
            z = xp.exp(-2.0 * xp.abs(e))
            hess = 4.0 * z / ((1.0 + z) * (1.0 + z))
        return value, grad, hess


@register
class Quantile(_Regression):
    """Quantile (pinball) loss.

    Unreduced: ``quantile * (y_true - y_pred)`` if ``y_true >= y_pred`` else
    ``(1 - quantile) * (y_pred - y_true)``. Gradient ``-quantile`` for e < 0, ``1 - quantile`` for
    e > 0, and the subgradient 0 at e = 0 (so that 2 * quantile(0.5) = MAE holds for gradients
    too). Equivalence: ``2 * Quantile(quantile=0.5) = MAE``.
    """

    name = "quantile"
    controls = {"quantile": Control(0.05, 0.95, 0.05, shown=(0.1, 0.5, 0.9))}
    estimates = "the {quantile:.3g}-quantile"
    estimate_check = ("share_below", "quantile")
    verify_settings = ({"quantile": 0.5}, {"quantile": 0.1}, {"quantile": 0.9})
    torch_reference = "formula max(q d, (q-1) d)"
    aliases = ("pinball",)
    summary = "Pinball loss: its minimiser is the conditional quantile; asymmetric for q != 0.5."
    formula = "q (y_true - y_pred) if y_true >= y_pred else (1 - q)(y_pred - y_true)"
    formula_latex = r"\max\{q(y-\hat y),\,(q-1)(y-\hat y)\}"
    gradient_formula = "-q if e < 0, 1 - q if e > 0, 0 at e = 0"
    gradient_latex = r"\begin{cases}-q & e<0\\ 1-q & e>0\end{cases}"
    nondifferentiable = "at y_pred = y_true; the subgradient 0 is used"
    outlier_sensitivity = "low: the gradient is bounded by max(q, 1 - q)"
    noise_model = "asymmetric Laplace"
    convention = "scikit-learn mean_pinball_loss(alpha=quantile); torch has no built-in"
    references = ("Koenker & Bassett, Regression Quantiles, Econometrica 46 (1978)",)

    def __init__(self, *, quantile=0.5, check_finite=True):
        super().__init__(check_finite=check_finite)
        self.quantile = V.check_scalar(quantile, "quantile", gt=0, lt=1)

    def _kernel(self, xp, inputs, order):
        y_true, y_pred = inputs
        q = self.quantile
        e = y_pred - y_true
        value = xp.where(e > 0, (1.0 - q) * e, -q * e)
        grad = None
        if order >= 1:
            grad = (1.0 - q) * xp.astype(e > 0, e.dtype) - q * xp.astype(e < 0, e.dtype)
        hess = xp.zeros_like(e) if order >= 2 else None
        return value, grad, hess


@register
class MSLE(_Regression):
    """Mean squared logarithmic error: ``(log1p(y_pred) - log1p(y_true))**2``.

    Domain: both > -1. Gradient ``2 d / (1 + y_pred)`` with ``d = log1p(y_pred) - log1p(y_true)``;
    hessian ``2 (1 - d) / (1 + y_pred)**2``. Not convex in y_pred (the hessian is negative for
    d > 1).
    """

    name = "msle"
    estimates = "exp(E[log(1 + y)]) - 1: a mean on the log scale (below the mean)"
    estimate_check = ("share_below", None)
    verify_settings = ({},)
    torch_reference = "formula (log1p p - log1p y)^2"
    aliases = ("mean_squared_log_error",)
    summary = "Squared error of log(1 + y): relative errors, for positive targets spanning scales."
    formula = "(log1p(y_pred) - log1p(y_true))^2"
    formula_latex = r"(\log(1+\hat y) - \log(1+y))^2"
    gradient_formula = "2 (log1p(y_pred) - log1p(y_true)) / (1 + y_pred)"
    gradient_latex = r"\frac{2(\log(1+\hat y)-\log(1+y))}{1+\hat y}"
    convex = "no (convex only where log1p(y_pred) - log1p(y_true) <= 1)"
    outlier_sensitivity = "medium: large targets are compressed by the log"
    noise_model = "log-normal on 1 + y"
    convention = "scikit-learn mean_squared_log_error (values > -1); Keras MSLE clips at 0 instead"
    references = ("scikit-learn user guide, 'Mean squared logarithmic error'",)

    def __init__(self, *, check_finite=True):
        super().__init__(check_finite=check_finite)

    def _y_true_domain(self):
        return V.Interval(-1.0, None, low_open=True)

    def _y_pred_domain(self):
        return V.Interval(-1.0, None, low_open=True)

    def _error_kinks(self):
        return ()

    def sample_inputs(self, rng, n=8):
        return rng.uniform(0.0, 10.0, size=n), rng.uniform(0.0, 10.0, size=n)

    def _kernel(self, xp, inputs, order):
        y_true, y_pred = inputs
        lp = xp.log1p(y_pred)
        d = lp - xp.log1p(y_true)
        value = d * d
        grad = hess = None
        if order >= 1:
            inv = 1.0 / (1.0 + y_pred)
            grad = 2.0 * d * inv
            if order >= 2:
                hess = 2.0 * (1.0 - d) * inv * inv
        return value, grad, hess


@register
class MAPE(_Regression):
    """Mean absolute percentage error, in percent.

    Unreduced ``100 |e| / max(|y_true|, eps)``; gradient ``100 sign(e) / max(|y_true|, eps)``
    (subgradient 0 at e = 0); hessian 0. ``eps=1e-7`` is Keras's backend epsilon, so values match
    Keras ``MeanAbsolutePercentageError``; scikit-learn returns a fraction, not percent, and uses
    machine epsilon.
    """

    name = "mape"
    estimates = "a median weighted by 1 / |y| (below the median)"
    estimate_check = ("share_below", None)
    verify_settings = ({},)
    torch_reference = "formula (Keras)"
    aliases = ("mean_absolute_percentage_error",)
    summary = "Absolute error relative to the target, in percent; explodes near y_true = 0."
    formula = "100 |y_pred - y_true| / max(|y_true|, eps)"
    formula_latex = r"100\,\frac{|\hat y - y|}{\max(|y|,\epsilon)}"
    gradient_formula = "100 sign(y_pred - y_true) / max(|y_true|, eps)"
    gradient_latex = r"\frac{100\,\operatorname{sign}(\hat y - y)}{\max(|y|,\epsilon)}"
    nondifferentiable = "at y_pred = y_true; the subgradient 0 is used"
    outlier_sensitivity = "high for targets near 0; otherwise bounded gradient"
    convention = "Keras MeanAbsolutePercentageError (percent, eps=1e-7); scikit-learn gives a fraction"
    references = ("de Myttenaere et al., Mean Absolute Percentage Error for regression models, "
                  "Neurocomputing 192 (2016)",)

    def __init__(self, *, eps=1e-7, check_finite=True):
        super().__init__(check_finite=check_finite)
        self.eps = V.check_scalar(eps, "eps", gt=0)

    def sample_inputs(self, rng, n=8):
        y_true, y_pred = super().sample_inputs(rng, n)
        return y_true + 0.5 * (2 * (y_true >= 0) - 1), y_pred + 0.5 * (2 * (y_true >= 0) - 1)

    def _kernel(self, xp, inputs, order):
        y_true, y_pred = inputs
        scale = 100.0 / xp.maximum(xp.abs(y_true), self.eps)
        e = y_pred - y_true
        value = xp.abs(e) * scale
        grad = xp.sign(e) * scale if order >= 1 else None
        hess = xp.zeros_like(e) if order >= 2 else None
        return value, grad, hess


@register
class PoissonNLL(_Regression):
    """Poisson negative log-likelihood.

    ``log_input=True`` (y_pred is the log-rate x): ``exp(x) - y x``; gradient ``exp(x) - y``;
    hessian ``exp(x)``. ``log_input=False`` (y_pred is the rate r >= 0): ``r - y log(r + eps)``;
    gradient ``1 - y / (r + eps)``; hessian ``y / (r + eps)**2``. ``full=True`` adds the Stirling
    term ``y log y - y + 0.5 log(2 pi y)`` for y > 1 (constant in y_pred), as torch does.
    """

    name = "poisson_nll"
    estimates = "the conditional mean (a rate; its log when log_input)"
    estimate_check = ("mean_residual", 0.0)
    verify_settings = ({}, {"full": True}, {"log_input": False}, {"log_input": False, "full": True})
    torch_reference = "F.poisson_nll_loss"
    aliases = ("poisson",)
    task = "regression"
    summary = "Negative log-likelihood of counts under a Poisson model (log link by default)."
    formula = "exp(x) - y x  (log_input=True);  r - y log(r + eps)  (log_input=False)"
    formula_latex = r"e^{x} - y x \quad\text{or}\quad r - y\log(r+\epsilon)"
    gradient_formula = "exp(x) - y  (log_input=True);  1 - y / (r + eps)  (log_input=False)"
    gradient_latex = r"e^{x} - y \quad\text{or}\quad 1 - \frac{y}{r+\epsilon}"
    outlier_sensitivity = "medium: variance grows with the mean"
    noise_model = "Poisson"
    convention = "torch poisson_nll_loss (eps only when log_input=False; Stirling term for y > 1)"
    references = ("McCullagh & Nelder, Generalized Linear Models (1989)",)

    def probe(self):
        """Along the prediction itself (a log-rate or a rate), for a count of 1 (y_pred is no
        error, so it is not drawn on the other regression losses' error axis)."""
        if self.log_input:
            x, xlabel = np.linspace(-3.0, 3.0, 241), "predicted log-rate y_pred (y_true = 1)"
        else:
            x, xlabel = np.linspace(0.05, 4.0, 237), "predicted rate y_pred (y_true = 1)"
        return Probe(xlabel, [ProbeCurve("y_true = 1", x, lambda x: (np.ones_like(x), x),
                                         np.ones_like)])

    def __init__(self, *, log_input=True, full=False, eps=1e-8, check_finite=True):
        super().__init__(check_finite=check_finite)
        self.log_input = V.check_bool(log_input, "log_input")
        self.full = V.check_bool(full, "full")
        self.eps = V.check_scalar(eps, "eps", gt=0)

    def _activation_text(self):
        return "exp (y_pred is a log-rate)" if self.log_input else "identity (y_pred is a rate >= 0)"

    def _y_true_domain(self):
        return V.Interval(0.0, None, note="counts")

    def _y_pred_domain(self):
        return None if self.log_input else V.Interval(0.0, None, note="rates; pass log_input=True for log-rates")

    def sample_inputs(self, rng, n=8):
        y_true = rng.poisson(3.0, size=n).astype(float)
        y_pred = rng.normal(1.0, 0.7, size=n) if self.log_input else rng.uniform(0.2, 6.0, size=n)
        return y_true, y_pred

    def _kernel(self, xp, inputs, order):
        y_true, y_pred = inputs
        grad = hess = None
        if self.log_input:
            ex = xp.exp(y_pred)
            value = ex - y_true * y_pred
            if order >= 1:
                grad = ex - y_true
            if order >= 2:
                hess = ex + 0.0
        else:
            r = y_pred + self.eps
            value = y_pred - y_true * xp.log(r)
            if order >= 1:
                grad = 1.0 - y_true / r
            if order >= 2:
                hess = y_true / (r * r)
        if self.full:
            big = y_true > 1
            safe = xp.where(big, y_true, 2.0)
            stirling = safe * xp.log(safe) - safe + 0.5 * xp.log(2.0 * math.pi * safe)
            value = value + xp.where(big, stirling, 0.0)
        return value, grad, hess


class Asymmetric(_Regression):
    """Any elementwise regression loss weighted by the sign of the error: ``under`` where the
    prediction is too low (e = y_pred - y_true < 0), ``over`` otherwise.

    Value, gradient and hessian are the base loss's, times ``w(e)``; ``w`` is constant on each
    side, so this is exact wherever the base loss is (at e = 0 the base losses vanish with their
    gradients, or use the subgradient 0). Build one with ``losslab.asymmetric(loss, under=...,
    over=...)``; ``asymmetric_mse`` and ``asymmetric_huber`` are instances.
    """

    name = "asymmetric"
    summary = "A regression loss that costs `under` times more below the target than `over` above."
    formula = "w(e) l(e), w = under if e < 0 else over"
    formula_latex = r"w(e)\,\ell(e)"
    gradient_formula = "w(e) l'(e)"
    gradient_latex = r"w(e)\,\ell'(e)"
    convention = "the course's business losses: the base loss weighted by the sign of the error"
    references = ("Granger, Prediction with a generalized cost of error function, "
                  "J. Oper. Res. Soc. 20 (1969)",)

    def __init__(self, *, base, under=2.0, over=1.0, check_finite=True):
        super().__init__(check_finite=check_finite)
        from .._core import get

        base = get(base)
        if base.task != "regression" or base.shape_rule != "same" or len(base.inputs) != 2:
            raise ValueError(
                f"asymmetric needs an elementwise regression loss (y_true, y_pred), got {base!r} "
                f"(task {base.task!r})")
        self.base = base
        self.under = V.check_scalar(under, "under", gt=0)
        self.over = V.check_scalar(over, "over", gt=0)
        if type(self) is Asymmetric:  # a composite: describe it by its base
            self.name = f"asymmetric({base.name})"
            self.aliases = ()
            self.summary = f"{base.name} weighted by the sign of the error (under={under}, over={over})."
            self.formula = f"w(e) * [{base.formula}], w = under if e < 0 else over"
            self.gradient_formula = f"w(e) * [{base.gradient_formula}]"
            self.nondifferentiable = base.nondifferentiable
            self.outlier_sensitivity = base.outlier_sensitivity
            self.references = base.references + self.references

    def _y_true_domain(self):
        return self.base._y_true_domain()

    def _y_pred_domain(self):
        return self.base._y_pred_domain()

    def _error_kinks(self):
        return tuple(sorted(set(self.base._error_kinks()) | {0.0}))

    def sample_inputs(self, rng, n=8):
        y_true, y_pred = self.base.sample_inputs(rng, n)
        e = y_pred - y_true
        return y_true, y_true + np.where(np.abs(e) < 0.02, 0.05 * np.sign(e + 1e-300), e)

    def _kernel(self, xp, inputs, order):
        y_true, y_pred = inputs
        value, grad, hess = self.base._kernel(xp, inputs, order)
        w = _piecewise(xp, y_pred - y_true, self.under, self.over)
        return (w * value, None if grad is None else w * grad, None if hess is None else w * hess)


@register
class AsymmetricMSE(Asymmetric):
    """Squared error weighted by the sign of the error: ``under`` for under-prediction (e < 0),
    ``over`` otherwise (the course's demand-forecasting loss); ``asymmetric(mse)``.

    Gradient ``2 w e``; hessian ``2 w`` (``over`` at e = 0, where the loss is differentiable).

    Example (the course's section 11)::

        >>> import losslab as ll
        >>> float(ll.get("asymmetric_mse", under=3.0)([10.0, 10.0], [8.0, 12.0]))
        8.0
    """

    name = "asymmetric_mse"
    controls = {"under": Control(0.25, 5.0, 0.25, shown=(1.0, 2.0, 3.0)),
                "over": Control(0.25, 5.0, 0.25)}
    estimates = "an expectile (an asymmetric mean)"
    estimate_check = ("share_below", None)
    verify_settings = ({}, {"under": 1.0, "over": 4.0})
    torch_reference = "formula (course's AsymmetricMSE)"
    summary = "Squared error that costs `under` times more when the forecast is too low."
    formula = "w e^2, w = under if e < 0 else over, e = y_pred - y_true"
    formula_latex = r"w(e)\,e^2,\; w(e)=\begin{cases}u & e<0\\ o & e\ge 0\end{cases}"
    gradient_formula = "2 w e"
    gradient_latex = r"2\,w(e)\,e"
    nondifferentiable = "differentiable; the hessian jumps at e = 0 (2 * over used)"
    outlier_sensitivity = "high: quadratic on both sides"
    noise_model = "split (two-piece) Gaussian"
    convention = "the course's AsymmetricMSE (under=3, over=1); asymmetric(mse); no library built-in"

    def __init__(self, *, under=3.0, over=1.0, check_finite=True):
        super().__init__(base=MSE(check_finite=check_finite), under=under, over=over,
                         check_finite=check_finite)


@register
class AsymmetricHuber(Asymmetric):
    """Huber loss weighted by the sign of the error: ``under`` for e < 0, ``over`` otherwise
    (the course's delivery-time loss); ``asymmetric(huber(delta))``. Gradient
    ``w clip(e, -delta, delta)``; hessian ``w`` inside ``|e| < delta``, 0 outside.
    """

    name = "asymmetric_huber"
    controls = {"under": Control(0.25, 5.0, 0.25, shown=(1.0, 2.0, 3.0)),
                "over": Control(0.25, 5.0, 0.25), "delta": Control(0.1, 3.0, 0.1)}
    estimates = "an asymmetric robust mean"
    estimate_check = ("share_below", None)
    verify_settings = ({}, {"delta": 0.5, "under": 1.0, "over": 3.0})
    torch_reference = "w(e) * F.huber_loss"
    summary = "Huber loss that costs `under` times more when the prediction is too low."
    formula = "w huber_delta(e), w = under if e < 0 else over"
    formula_latex = r"w(e)\,H_\delta(e)"
    gradient_formula = "w clip(e, -delta, delta)"
    gradient_latex = r"w(e)\operatorname{clip}(e,-\delta,\delta)"
    nondifferentiable = "differentiable; the hessian jumps at e = 0 and |e| = delta"
    outlier_sensitivity = "low: the gradient is bounded by max(under, over) * delta"
    noise_model = None
    convention = "the course's delivery-time loss (delta=1, under=2, over=1); asymmetric(huber)"
    references = ("Huber (1964); Granger (1969)",)

    def __init__(self, *, delta=1.0, under=2.0, over=1.0, check_finite=True):
        super().__init__(base=Huber(delta=delta, check_finite=check_finite), under=under,
                         over=over, check_finite=check_finite)
        self.delta = self.base.delta


@register
class GaussianNLL(MultiInputLoss):
    """Gaussian negative log-likelihood with a predicted variance, torch ``gaussian_nll_loss``.

    Inputs ``(y_true, mean, var)`` of one shape; elementwise
    ``0.5 (log v + (mean - y)**2 / v)`` with ``v = max(var, eps)`` (plus ``0.5 log(2 pi)`` when
    ``full=True``). Derivatives: ``d/dmean = (mean - y) / v``, ``d/dvar = 0.5 (1/v - (mean - y)**2 / v**2)``;
    hessians ``1 / v`` and ``0.5 (2 (mean - y)**2 / v**3 - 1 / v**2)``. As in torch, the clamp at
    eps does not stop the gradient (it is taken at v).
    """

    name = "gaussian_nll"
    estimates = "the conditional mean and variance"
    verify_settings = ({}, {"full": True})
    torch_reference = "F.gaussian_nll_loss"
    aliases = ("heteroscedastic_nll",)
    task = "regression"
    inputs = ("y_true", "mean", "var")
    differentiable = ("mean", "var")
    summary = "Negative log-likelihood of a Gaussian whose mean and variance are both predicted."
    formula = "0.5 (log(max(var, eps)) + (mean - y_true)^2 / max(var, eps))"
    formula_latex = r"\tfrac12\left(\log v + \frac{(\mu - y)^2}{v}\right),\ v=\max(\sigma^2,\epsilon)"
    gradient_formula = "((mean - y) / v,  0.5 (1/v - (mean - y)^2 / v^2))"
    gradient_latex = r"\left(\frac{\mu-y}{v},\ \tfrac12\left(\frac1v-\frac{(\mu-y)^2}{v^2}\right)\right)"
    activation = "identity for the mean; softplus or exp for the variance"
    convex = "no (convex in the mean for a fixed variance, not jointly in (mean, var))"
    outlier_sensitivity = "high, but a large predicted variance absorbs it"
    noise_model = "Gaussian with predicted variance"
    hessian_kind = "diagonal"  # the (mean, var) cross terms are not returned
    convention = "torch gaussian_nll_loss (eps=1e-6 clamp, gradient through the clamp)"
    references = ("Nix & Weigend, Estimating the mean and variance of the target probability "
                  "distribution, ICNN 1994",)

    def probe(self):
        e = np.linspace(-3, 3, 241)
        return Probe("error of the mean", [
            ProbeCurve(f"var = {v:g}", e, lambda x, v=v: (np.zeros_like(x), x, np.full_like(x, v)),
                       lambda x: (np.ones_like(x), np.zeros_like(x))) for v in (0.5, 1.0, 2.0)])

    def __init__(self, *, full=False, eps=1e-6, check_finite=True):
        super().__init__(check_finite=check_finite)
        self.full = V.check_bool(full, "full")
        self.eps = V.check_scalar(eps, "eps", gt=0)

    def _input_domains(self):
        return {"var": V.Interval(0.0, None, note="variances")}

    def _value_shape(self, arrays):
        return tuple(arrays[1].shape)

    def sample_inputs(self, rng, n=8):
        y = rng.normal(size=n)
        return y, y + rng.normal(0, 1, size=n), rng.uniform(0.2, 3.0, size=n)

    def _kernel(self, xp, inputs, order):
        y, mean, var = inputs
        v = xp.maximum(var, self.eps)
        r = mean - y
        value = 0.5 * (xp.log(v) + r * r / v)
        if self.full:
            value = value + 0.5 * math.log(2 * math.pi)
        grads = hess = None
        if order >= 1:
            grads = (r / v, 0.5 * (1.0 / v - r * r / (v * v)))
            if order >= 2:
                hess = (1.0 / v, 0.5 * (2.0 * r * r / (v * v * v) - 1.0 / (v * v)))
        return value, grads, hess
