"""Deviances of the Tweedie family with a log link, as the boosting libraries and scikit-learn's
generalised linear models use them: ``y_pred`` is the raw score ``r = log(mu)``.

The value is the half unit deviance, ``d(y, mu) / 2``: zero at ``mu = y``, so that a perfect
prediction costs nothing. scikit-learn's ``HalfTweedieLoss`` / ``HalfGammaLoss`` leave out the
terms that do not depend on the prediction; the two differ by exactly that constant
(``constant_to_optimal_zero``), and their gradients and hessians are equal (a test pins both).

With ``mu = exp(r)`` and power ``p``:

* value ``y^(2-p) / ((1-p)(2-p)) - y mu^(1-p) / (1-p) + mu^(2-p) / (2-p)``, with the limits
  ``y log(y / mu) - y + mu`` at p = 1 (Poisson) and ``log(mu / y) + y / mu - 1`` at p = 2
  (gamma);
* gradient ``mu^(2-p) - y mu^(1-p)``; hessian ``(2-p) mu^(2-p) - (1-p) y mu^(1-p)``, the same
  formulas at every p (no special case).
"""

from __future__ import annotations

import numpy as np

from .._core import Control, Probe, ProbeCurve, register, validation as V
from .regression import _Regression


class _LogLink(_Regression):
    activation = "exp"
    estimates = "the conditional mean (y_pred is its log)"
    estimate_check = ("mean_residual", None)
    outlier_sensitivity = "medium: large targets weigh by mu^(1-p)"
    convex = "yes (in the log of the mean, for 1 <= power <= 2)"

    def _activation_text(self):
        return "exp (y_pred is the log of the mean)"

    def _error_kinks(self):
        return ()

    def probe(self):
        """Along the raw score (the log of the mean), for a target of 1."""
        x = np.linspace(-3.0, 3.0, 241)
        return Probe("raw score y_pred = log(mu) (y_true = 1)", [
            ProbeCurve("y_true = 1", x, lambda x: (np.ones_like(x), x), np.ones_like)])

    def sample_inputs(self, rng, n=8):
        y_true = rng.gamma(2.0, 1.5, size=n)
        if self._zero_targets_allowed():
            y_true[rng.random(n) < 0.2] = 0.0
        return y_true, rng.normal(0.8, 0.7, size=n)

    def _zero_targets_allowed(self) -> bool:
        return True

    def _y_true_domain(self):
        if self._zero_targets_allowed():
            return V.Interval(0.0, None, note="non-negative targets")
        return V.Interval(0.0, None, low_open=True, note="positive targets")

    def _deviance(self, xp, y, r, p, order):
        # Without cancellation near mu = y (see the module docstring for the plain formulas):
        # with s = log(mu / y), a = 1 - p <= 0 <= b = 2 - p and h(x) = (e^x - 1 - x) / x^2,
        #   value = y^b s^2 (b h(b s) - a h(a s))   (two non-negative terms; y > 0)
        #         = mu^b / b                          (y = 0, p < 2)
        #   gradient = mu^a (mu - y) = mu^a y expm1(s) (y > 0), hessian = mu^a (b mu - a y).
        a, b = 1.0 - p, 2.0 - p
        pos = y > 0
        ys = xp.where(pos, y, 1.0)
        s = r - xp.log(ys)
        inside = s * s * (b * _h(xp, b * s) - a * _h(xp, a * s))
        value = xp.where(pos, xp.exp(b * xp.log(ys)) * inside,
                         xp.exp(b * r) / b if b > 0 else 0.0 * r)
        grad = hess = None
        if order >= 1:
            ma = xp.exp(a * r)
            grad = xp.where(pos, ma * ys * xp.expm1(s), xp.exp(b * r))
            if order >= 2:
                hess = ma * (b * xp.exp(r) - a * y)
        return value, grad, hess


def _h(xp, x):
    """(e^x - 1 - x) / x^2, to full precision: its series where |x| < 0.1 (nine terms, the
    tenth under 3e-17 of it), the closed form elsewhere (relative error under 4e-15)."""
    small = xp.abs(x) < 0.1
    xs = xp.where(small, 1.0, x)
    closed = (xp.expm1(xs) - xs) / (xs * xs)
    series = 0.0 * x
    term_coeffs = [1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320,
                   1.0 / 362880, 1.0 / 3628800]
    for c in reversed(term_coeffs):
        series = series * x + c
    return xp.where(small, series, closed)


@register
class Tweedie(_LogLink):
    """Tweedie deviance with a log link, power ``p`` in [1, 2]: Poisson at 1, gamma at 2, the
    compound Poisson-gamma (a mass at zero and a skewed positive part) in between.

    See the module docstring for the formulas. ``y_true >= 0`` (``> 0`` at p = 2); ``y_pred`` is
    ``log(mu)``.

    >>> import losslab as ll
    >>> float(ll.get("tweedie", power=1.5)([2.0], [np.log(2.0)]))
    0.0
    """

    name = "tweedie"
    controls = {"power": Control(1.0, 2.0, 0.05, shown=(1.0, 1.5, 1.9))}
    verify_settings = ({"power": 1.5}, {"power": 1.0}, {"power": 1.2}, {"power": 1.8},
                       {"power": 2.0})
    torch_reference = "formula (half Tweedie deviance in torch ops)"
    summary = "Tweedie deviance (log link): counts, amounts and zero-inflated positive targets."
    formula = ("y^(2-p)/((1-p)(2-p)) - y mu^(1-p)/(1-p) + mu^(2-p)/(2-p), mu = exp(y_pred)")
    formula_latex = (r"\frac{y^{2-p}}{(1-p)(2-p)}-\frac{y\,\mu^{1-p}}{1-p}+\frac{\mu^{2-p}}{2-p},"
                     r"\ \mu=e^{\hat y}")
    gradient_formula = "mu^(2-p) - y mu^(1-p)"
    gradient_latex = r"\mu^{2-p}-y\,\mu^{1-p}"
    noise_model = "Tweedie (exponential dispersion, variance mu^p)"
    convention = ("half unit deviance, log link (scikit-learn HalfTweedieLoss plus its "
                  "constant_to_optimal_zero; XGBoost reg:tweedie and LightGBM tweedie optimise "
                  "the same up to that constant)")
    references = ("Jorgensen, The Theory of Dispersion Models (1997)",
                  "scikit-learn sklearn/_loss/loss.py, HalfTweedieLoss")

    def __init__(self, *, power=1.5, check_finite=True):
        super().__init__(check_finite=check_finite)
        self.power = V.check_scalar(power, "power", ge=1, le=2)

    def _zero_targets_allowed(self):
        return self.power < 2.0

    def _kernel(self, xp, inputs, order):
        y_true, y_pred = inputs
        return self._deviance(xp, y_true, y_pred, float(self.power), order)


@register
class Gamma(_LogLink):
    """Gamma deviance with a log link: ``log(mu / y) + y / mu - 1``, ``mu = exp(y_pred)``.

    Gradient ``1 - y / mu``; hessian ``y / mu``. ``y_true > 0``. Equal to
    ``tweedie(power=2)``.

    >>> import losslab as ll
    >>> float(ll.get("gamma")([3.0], [np.log(3.0)]))
    0.0
    """

    name = "gamma"
    aliases = ("gamma_deviance",)
    verify_settings = ({},)
    torch_reference = "formula log(mu / y) + y / mu - 1"
    summary = "Gamma deviance (log link): positive targets whose spread grows with their mean."
    formula = "log(mu / y) + y / mu - 1, mu = exp(y_pred)"
    formula_latex = r"\log\frac{\mu}{y}+\frac{y}{\mu}-1,\ \mu=e^{\hat y}"
    gradient_formula = "1 - y / mu"
    gradient_latex = r"1-\frac{y}{\mu}"
    noise_model = "gamma (constant coefficient of variation)"
    convention = ("half gamma deviance, log link (scikit-learn HalfGammaLoss plus its "
                  "constant_to_optimal_zero; XGBoost reg:gamma, LightGBM gamma)")
    references = ("McCullagh & Nelder, Generalized Linear Models, 2nd ed. (1989), ch. 8",
                  "scikit-learn sklearn/_loss/loss.py, HalfGammaLoss")

    def __init__(self, *, check_finite=True):
        super().__init__(check_finite=check_finite)

    def _zero_targets_allowed(self):
        return False

    def _kernel(self, xp, inputs, order):
        y_true, y_pred = inputs
        return self._deviance(xp, y_true, y_pred, 2.0, order)
