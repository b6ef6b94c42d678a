"""Binary classification losses: elementwise in y_pred, so the hessian is exact.

Probability losses (``bce``, ``focal``) take probabilities by default and logits with
``from_logits=True``; gradient and hessian are then taken with respect to the logits, computed in
logit space (log-sigmoid, softplus) so that they stay finite and accurate at logits of +-1e4.
Margin losses (``hinge``, ``squared_hinge``, ``exponential``, ``logistic``) take a raw score and
targets in {-1, +1} ({0, 1} is accepted and mapped to {-1, +1}).
"""

from __future__ import annotations

import numpy as np

from .._core import Control, Loss, register, numerics as M, validation as V


_PROBABILITY = V.Interval(0.0, 1.0, note="probabilities; pass from_logits=True for logits")


def _pow(xp, q, gamma):
    """q ** gamma with exact shortcuts for the common integer exponents (and 0 ** 0 = 1)."""
    if gamma == 0:
        return xp.ones_like(q)
    if gamma == 1:
        return q + 0.0
    if gamma == 2:
        return q * q
    return q ** gamma


def _clip_eps(xp, eps, dtype):
    """The probability clip: ``eps`` if given, else the dtype's machine epsilon."""
    return float(xp.finfo(dtype).eps) if eps is None else eps


class _ProbabilityLoss(Loss):
    """Shared parts of the losses that take probabilities or, with from_logits=True, logits."""

    task = "binary"

    def _activation_text(self):
        if self.from_logits:
            return "none: y_pred are logits (the sigmoid is applied inside, in log space)"
        return "sigmoid (y_pred are probabilities)"

    def _y_pred_domain(self):
        return None if self.from_logits else _PROBABILITY

    def _random_probabilities(self, rng, n):
        logits = rng.normal(0.0, 2.5, size=n)
        return logits if self.from_logits else 1.0 / (1.0 + np.exp(-np.clip(logits, -3.5, 3.5)))


class _SoftLabels(_ProbabilityLoss):
    """Probability losses that take hard or soft labels in [0, 1] (bce, brier)."""

    def _y_true_domain(self):
        return V.Interval(0.0, 1.0, note="labels or soft labels")

    def sample_inputs(self, rng, n=8):
        y_true = rng.integers(0, 2, size=n).astype(float)
        soft = rng.random(n) < 0.25
        y_true[soft] = rng.random(int(soft.sum()))
        return y_true, self._random_probabilities(rng, n)


@register
class BCE(_SoftLabels):
    """Binary cross-entropy.

    Domain: y_true in [0, 1] (soft labels allowed); y_pred probabilities in [0, 1], or logits with
    ``from_logits=True``.

    ``pos_weight`` is a number or, for multi-label data of shape (N, C), one weight per column
    (broadcast over the last axis, torch's rule). Unreduced, with ``pw = pos_weight`` (1 when None) and smoothed targets
    ``y' = y (1 - s) + s / 2`` (``s = label_smoothing``, Keras's convention):

    * probabilities: ``-(pw y' log p + (1 - y') log(1 - p))``, p clipped to ``[eps, 1 - eps]``;
      gradient ``-pw y'/p + (1 - y')/(1 - p)`` (``(p - y')/(p (1 - p))`` when pw = 1), taken at
      the clipped p so that it stays informative at p = 0 or 1.
    * logits x: ``pw y' softplus(-x) + (1 - y') softplus(x)``; gradient
      ``(1 - y') sigmoid(x) - pw y' sigmoid(-x)``; hessian
      ``(pw y' + 1 - y') sigmoid(x) sigmoid(-x)``.

    Conventions where libraries disagree: ``eps=None`` clips at the dtype's machine epsilon
    (2.2e-16 in float64, 1.2e-7 in float32); Keras clips at 1e-7 and torch ``binary_cross_entropy``
    instead clamps each log at -100. Inside ``[eps, 1 - eps]`` all three agree exactly.
    Equivalences: ``focal(gamma=0, alpha=None) = bce``; ``bce(from_logits=True)`` on
    ``x1 - x0`` equals two-class softmax cross-entropy on ``(x0, x1)``.

    Example (the course's exercise A3)::

        >>> import losslab as ll
        >>> round(float(ll.get("bce")([1.0], [0.01])), 4)
        4.6052
    """

    name = "bce"
    controls = {"pos_weight": Control(0.1, 10.0, 0.1, start=1.0),
                "label_smoothing": Control(0.0, 0.5, 0.05)}
    estimates = "a calibrated probability"
    estimate_check = ("calibration_error", 0.0)
    verify_settings = ({},
                       {"from_logits": True},
                       {"pos_weight": 3.0},
                       {"from_logits": True, "pos_weight": 0.5},
                       {"label_smoothing": 0.1},
                       {"from_logits": True, "label_smoothing": 0.2, "pos_weight": 2.0})
    torch_reference = "F.binary_cross_entropy(_with_logits)"
    aliases = ("binary_cross_entropy", "log_loss", "binary_crossentropy")
    summary = "Binary cross-entropy: the Bernoulli negative log-likelihood."
    formula = "-(pw y log p + (1 - y) log(1 - p))"
    formula_latex = r"-\left(w_+ y\log p + (1-y)\log(1-p)\right)"
    gradient_formula = "(p - y) / (p (1 - p)) for probabilities; sigmoid(x) - y for logits (pw = 1)"
    gradient_latex = r"\frac{p-y}{p(1-p)}\ \text{or}\ \sigma(x)-y"
    convex = "yes"
    outlier_sensitivity = "high for mislabelled points: unbounded as p -> wrong extreme"
    noise_model = "Bernoulli"
    convention = ("torch binary_cross_entropy / _with_logits(pos_weight); label smoothing "
                  "y(1-s)+s/2 as Keras; eps=None clips at machine epsilon")
    references = ("Cox, The regression analysis of binary sequences, JRSS B 20 (1958)",)

    def estimand(self):
        if self.pos_weight is not None:
            return ("a probability reweighted by pos_weight", "calibration_error", 0.0)
        return super().estimand()

    def __init__(self, *, from_logits=False, pos_weight=None, label_smoothing=0.0, eps=None,
                 check_finite=True):
        super().__init__(check_finite=check_finite)
        self.from_logits = V.check_bool(from_logits, "from_logits")
        self.pos_weight = _check_pos_weight(pos_weight)
        self.label_smoothing = V.check_scalar(label_smoothing, "label_smoothing", ge=0, le=1)
        self.eps = V.check_scalar(eps, "eps", gt=0, lt=0.5, allow_none=True)

    def _kernel(self, xp, inputs, order):
        y, y_pred = inputs
        s = self.label_smoothing
        if s:
            y = y * (1.0 - s) + 0.5 * s
        pw = _pos_weight(xp, self.pos_weight, y_pred)
        ypw = y if pw is None else y * pw  # weight of the positive term
        grad = hess = None
        if self.from_logits:
            x = y_pred
            if order == 0:  # the value alone: softplus(+-x) = max(+-x, 0) + log1p(exp(-|x|))
                t = xp.log1p(xp.exp(-xp.abs(x)))
                return ypw * (xp.maximum(-x, 0.0) + t) + (1.0 - y) * (xp.maximum(x, 0.0) + t), \
                    None, None
            # -log(1 - sigmoid(x)), -log(sigmoid(x)), and the sigmoids, from one exp
            sp_pos, sp_neg, sig, sig_neg = M.logistic_parts(xp, x)
            value = ypw * sp_neg + (1.0 - y) * sp_pos
            if order >= 1:
                grad = (1.0 - y) * sig - ypw * sig_neg
                if order >= 2:
                    hess = (ypw + 1.0 - y) * sig * sig_neg
            return value, grad, hess
        eps = _clip_eps(xp, self.eps, y_pred.dtype)
        p = xp.clip(y_pred, eps, 1.0 - eps)
        one_p = 1.0 - p
        value = -(ypw * xp.log(p) + (1.0 - y) * xp.log1p(-p))
        if order >= 1:
            if pw is None:
                grad = (p - y) / (p * one_p)
            else:
                grad = (1.0 - y) / one_p - ypw / p
            if order >= 2:
                hess = ypw / (p * p) + (1.0 - y) / (one_p * one_p)
        return value, grad, hess


@register
class Brier(_SoftLabels):
    """Brier score as a loss: the squared error of a predicted probability.

    Unreduced, with ``p = y_pred`` (or ``p = sigmoid(y_pred)`` with ``from_logits=True``):
    ``(p - y)^2``. On probabilities: gradient ``2 (p - y)``, hessian 2. On logits: gradient
    ``2 (p - y) p (1 - p)``, hessian ``2 p (1 - p) (p (1 - p) + (p - y)(1 - 2 p))`` (negative
    where a confident prediction is wrong: not convex in the logit). A strictly proper scoring
    rule: its minimiser is the true probability. The mean equals scikit-learn's
    ``brier_score_loss``.

    >>> import losslab as ll
    >>> float(ll.get("brier")([1.0, 0.0], [0.8, 0.4]))
    0.1
    """

    name = "brier"
    aliases = ("brier_score",)
    estimates = "a calibrated probability"
    estimate_check = ("calibration_error", 0.0)
    verify_settings = ({}, {"from_logits": True})
    torch_reference = "formula (p - y)^2 (p = sigmoid(y_pred) on logits)"
    summary = "The squared error of a probability: a proper scoring rule that never explodes."
    formula = "(p - y)^2, p = y_pred (or sigmoid(y_pred) with from_logits=True)"
    formula_latex = r"(p-y)^2"
    gradient_formula = "2 (p - y) (times p (1 - p) on logits)"
    gradient_latex = r"2(p-y)"
    convex = "yes in the probability; no in the logit"
    outlier_sensitivity = "bounded: at most 1 per sample, even when confidently wrong"
    convention = "scikit-learn brier_score_loss (binary, mean over samples); Brier's 1950 form"
    references = ("Brier, Verification of Forecasts Expressed in Terms of Probability, "
                  "Monthly Weather Review 78 (1950)",)

    def __init__(self, *, from_logits=False, check_finite=True):
        super().__init__(check_finite=check_finite)
        self.from_logits = V.check_bool(from_logits, "from_logits")

    def _kernel(self, xp, inputs, order):
        y, y_pred = inputs
        grad = hess = None
        if not self.from_logits:
            d = y_pred - y
            value = d * d
            if order >= 1:
                grad = 2.0 * d
            if order >= 2:
                hess = xp.full(d.shape, 2.0, dtype=d.dtype)
            return value, grad, hess
        p, q = M.sigmoid_pair(xp, y_pred)  # sigmoid(x) and 1 - sigmoid(x), each accurate
        d = p - y
        value = d * d
        if order >= 1:
            pq = p * q
            grad = 2.0 * d * pq
            if order >= 2:
                hess = 2.0 * pq * (pq + d * (q - p))
        return value, grad, hess


def _check_pos_weight(value):
    """None, a positive number, or one positive weight per column (torch's per-class rule)."""
    if value is None or np.ndim(value) == 0:
        return V.check_scalar(value, "pos_weight", gt=0, allow_none=True)
    arr = V.check_weight_vector(value, "pos_weight")
    n_zero = int(np.count_nonzero(arr == 0))
    if n_zero:
        raise ValueError(f"pos_weight must be > 0; {n_zero} of {arr.size} values are 0")
    return arr


def _pos_weight(xp, pw, y_pred):
    """pos_weight in the computation's namespace: a number, or a vector along the last axis."""
    if pw is None or isinstance(pw, float):
        return pw
    if pw.shape[0] != 1 and (y_pred.ndim < 2 or y_pred.shape[-1] != pw.shape[0]):
        raise ValueError(f"pos_weight has {pw.shape[0]} entries, one per column of y_pred (its "
                         f"last axis), but y_pred has shape {tuple(y_pred.shape)}")
    if xp is np:
        return pw.astype(y_pred.dtype, copy=False)
    import array_api_compat

    return xp.asarray(pw.copy(), dtype=y_pred.dtype, device=array_api_compat.device(y_pred))


@register
class Focal(_ProbabilityLoss):
    """Binary focal loss.

    Domain: y_true in {0, 1}; y_pred probabilities, or logits with ``from_logits=True``.

    Unreduced ``-alpha_t (1 - p_t)**gamma log p_t`` with ``p_t = p`` if y = 1 else ``1 - p`` and
    ``alpha_t = alpha`` if y = 1 else ``1 - alpha`` (``alpha=None``: 1). With ``q = 1 - p_t``,
    ``s = 2y - 1``:

    * logits: gradient ``s alpha_t (gamma q**gamma p_t log p_t - q**(gamma + 1))``; hessian
      ``alpha_t q**gamma p_t (-gamma**2 p_t log p_t + gamma q log p_t + (2 gamma + 1) q)``.
      No negative power of q appears, so both stay finite for any gamma >= 0 at saturated logits.
    * probabilities (clipped to ``[eps, 1 - eps]``): gradient
      ``s alpha_t (gamma q**(gamma-1) log p_t - q**gamma / p_t)``; hessian
      ``alpha_t (gamma (1 - gamma) q**(gamma-2) log p_t + 2 gamma q**(gamma-1)/p_t + q**gamma/p_t**2)``.

    Equivalence: ``gamma=0, alpha=None`` is exactly ``bce``. The logit form matches torchvision's
    ``sigmoid_focal_loss``; the probability form is the course's FocalLoss (Lin et al. 2017).

    Example (the course's exercise B5: p_t = 0.95, alpha = 1, gamma = 2)::

        >>> import losslab as ll
        >>> round(float(ll.get("focal", gamma=2.0, alpha=None)([1.0], [0.95])), 6)
        0.000128
    """

    name = "focal"
    controls = {"gamma": Control(0.0, 5.0, 0.25, shown=(0.0, 1.0, 2.0, 5.0)),
                "alpha": Control(0.05, 0.95, 0.05, start=0.5)}
    estimates = "a ranking score (probabilities pulled towards the middle)"
    estimate_check = ("calibration_error", 0.0)
    verify_settings = ({},
                       {"from_logits": True},
                       {"gamma": 0.5, "alpha": None},
                       {"gamma": 0.5, "from_logits": True},
                       {"gamma": 0.0, "alpha": 0.75},
                       {"gamma": 5.0})
    torch_reference = "formula (torchvision / Lin et al.)"
    aliases = ("sigmoid_focal", "binary_focal")
    summary = "Cross-entropy scaled by (1 - p_t)^gamma: easy, confident examples count less."
    formula = "-alpha_t (1 - p_t)^gamma log(p_t)"
    formula_latex = r"-\alpha_t (1-p_t)^\gamma \log p_t"
    gradient_formula = "s alpha_t (gamma q^gamma p_t log p_t - q^(gamma+1)) w.r.t. logits, q = 1 - p_t"
    gradient_latex = r"s\,\alpha_t\left(\gamma q^\gamma p_t\log p_t - q^{\gamma+1}\right)"
    convex = "no for gamma > 0 (convex at gamma = 0, where it is BCE)"
    outlier_sensitivity = "high for mislabelled points: hard examples are up-weighted"
    noise_model = "Bernoulli (at gamma = 0)"
    convention = ("Lin et al. 2017; logits as torchvision sigmoid_focal_loss (alpha=0.25, gamma=2); "
                  "alpha=None disables alpha (torchvision uses alpha < 0)")
    references = ("Lin, Goyal, Girshick, He, Dollar, Focal Loss for Dense Object Detection, "
                  "ICCV 2017, arXiv:1708.02002",)

    def __init__(self, *, gamma=2.0, alpha=0.25, from_logits=False, eps=None, check_finite=True):
        super().__init__(check_finite=check_finite)
        self.gamma = V.check_scalar(gamma, "gamma", ge=0, le=1e3, why=(
            "beyond it (1 - p)**gamma is below 1e-300 for every p above 0.5, so the loss and its "
            "derivatives are 0 or overflow"))
        self.alpha = V.check_scalar(alpha, "alpha", ge=0, le=1, allow_none=True)
        self.from_logits = V.check_bool(from_logits, "from_logits")
        self.eps = V.check_scalar(eps, "eps", gt=0, lt=0.5, allow_none=True)

    def _y_true_domain(self):
        return V.LabelSet((0, 1), note="binary labels")

    def sample_inputs(self, rng, n=8):
        return rng.integers(0, 2, size=n).astype(float), self._random_probabilities(rng, n)

    def _kernel(self, xp, inputs, order):
        y, y_pred = inputs
        g = self.gamma
        sign = 2.0 * y - 1.0
        a = 1.0 if self.alpha is None else (1.0 - self.alpha) + (2.0 * self.alpha - 1.0) * y
        grad = hess = None
        if self.from_logits:
            z = sign * y_pred
            _, sp_neg, p_t, q = M.logistic_parts(xp, z)  # one exp: p_t, 1 - p_t, softplus(-z)
            log_pt = -sp_neg
            qg = _pow(xp, q, g)
            value = -a * qg * log_pt
            if order >= 1:
                grad = sign * a * (g * qg * p_t * log_pt - qg * q)
                if order >= 2:
                    hess = a * qg * p_t * (-g * g * p_t * log_pt + g * q * log_pt + (2 * g + 1) * q)
            return value, grad, hess
        eps = _clip_eps(xp, self.eps, y_pred.dtype)
        p = xp.clip(y_pred, eps, 1.0 - eps)
        pos = y == 1
        p_t = xp.where(pos, p, 1.0 - p)
        q = xp.where(pos, 1.0 - p, p)
        log_pt = xp.where(pos, xp.log(p), xp.log1p(-p))
        qg = _pow(xp, q, g)
        value = -a * qg * log_pt
        if order >= 1:
            qg1 = _pow(xp, q, g - 1.0) if g else None
            d_pt = -qg / p_t if not g else g * qg1 * log_pt - qg / p_t
            grad = sign * a * d_pt
            if order >= 2:
                h = qg / (p_t * p_t)
                if g:
                    h = h + 2.0 * g * qg1 / p_t + g * (1.0 - g) * _pow(xp, q, g - 2.0) * log_pt
                hess = a * h
        return value, grad, hess


class _Margin(Loss):
    """Margin losses of m = y * y_pred with y in {-1, +1}; {0, 1} labels are mapped to {-1, +1}."""

    task = "binary"
    activation = "identity (y_pred is a raw score; the sign is the predicted class)"

    def _y_true_domain(self):
        return V.LabelSet((-1, 0, 1), shown="{-1, +1} or {0, 1}", note="{0, 1} is mapped to {-1, +1}")

    def _standardise(self, xp, arrays):
        y, y_pred = arrays
        return [self._pm1(xp, y), y_pred]

    @staticmethod
    def _pm1(xp, y):
        n_zero = V.count(xp, y == 0)
        if n_zero:
            n_neg = V.count(xp, y == -1)
            if n_neg:
                raise ValueError(
                    "y_true must use one label set, {-1, +1} or {0, 1}; "
                    f"got {n_neg} values of -1 and {n_zero} values of 0")
            return 2.0 * y - 1.0
        return y

    def sample_inputs(self, rng, n=8):
        y = rng.choice([-1.0, 1.0], size=n)
        m = rng.uniform(-2.0, 3.0, size=n)
        m[abs(m - 1.0) < 0.05] += 0.1  # keep away from the kink at margin 1
        return y, m * y


@register
class Hinge(_Margin):
    """Hinge loss ``max(0, 1 - y y_pred)``; gradient ``-y`` where the margin is below 1, else 0
    (the subgradient 0 is used at margin exactly 1, as torch's relu); hessian 0."""

    name = "hinge"
    estimates = "a margin (no probability)"
    verify_settings = ({},)
    torch_reference = "formula clamp(1 - y f, 0)"
    summary = "The SVM loss: zero once a point is on the right side with margin 1."
    formula = "max(0, 1 - y y_pred)"
    formula_latex = r"\max(0, 1 - y\hat y)"
    gradient_formula = "-y if y y_pred < 1 else 0"
    gradient_latex = r"-y\,[y\hat y < 1]"
    nondifferentiable = "at y y_pred = 1; the subgradient 0 is used"
    outlier_sensitivity = "medium: linear in the violation"
    convention = "scikit-learn's hinge (SGDClassifier); Keras Hinge converts {0,1} labels too"
    references = ("Cortes & Vapnik, Support-vector networks, Machine Learning 20 (1995)",)

    def __init__(self, *, check_finite=True):
        super().__init__(check_finite=check_finite)

    def _kernel(self, xp, inputs, order):
        y, f = inputs
        m = 1.0 - y * f
        value = xp.maximum(m, 0.0)
        grad = -y * xp.astype(m > 0, f.dtype) if order >= 1 else None
        hess = xp.zeros_like(f) if order >= 2 else None
        return value, grad, hess


@register
class SquaredHinge(_Margin):
    """Squared hinge ``max(0, 1 - y y_pred)**2``; gradient ``-2 y max(0, 1 - y y_pred)``;
    hessian 2 where the margin is below 1 (0 at and beyond it)."""

    name = "squared_hinge"
    estimates = "2 p - 1, clipped to [-1, 1] (a probability after (s + 1) / 2)"
    verify_settings = ({},)
    torch_reference = "formula clamp(1 - y f, 0)^2"
    summary = "Squared SVM loss: differentiable, penalises violations quadratically."
    formula = "max(0, 1 - y y_pred)^2"
    formula_latex = r"\max(0, 1 - y\hat y)^2"
    gradient_formula = "-2 y max(0, 1 - y y_pred)"
    gradient_latex = r"-2y\max(0,1-y\hat y)"
    nondifferentiable = "differentiable; the hessian jumps at y y_pred = 1 (0 used)"
    outlier_sensitivity = "high: quadratic in the violation"
    convention = "Keras SquaredHinge; scikit-learn LinearSVC(loss='squared_hinge')"
    references = ("Cortes & Vapnik (1995)",)

    def __init__(self, *, check_finite=True):
        super().__init__(check_finite=check_finite)

    def _kernel(self, xp, inputs, order):
        y, f = inputs
        m = xp.maximum(1.0 - y * f, 0.0)
        value = m * m
        grad = -2.0 * y * m if order >= 1 else None
        hess = 2.0 * xp.astype(m > 0, f.dtype) if order >= 2 else None
        return value, grad, hess


@register
class Exponential(_Margin):
    """Exponential loss ``exp(-y y_pred)`` (AdaBoost); gradient ``-y exp(-y y_pred)``; hessian
    ``exp(-y y_pred)``."""

    name = "exponential"
    estimates = "half the log-odds (a probability after a sigmoid of 2 s)"
    verify_settings = ({},)
    torch_reference = "formula exp(-y f)"
    summary = "AdaBoost's loss: exponentially large for confident mistakes."
    formula = "exp(-y y_pred)"
    formula_latex = r"e^{-y\hat y}"
    gradient_formula = "-y exp(-y y_pred)"
    gradient_latex = r"-y\,e^{-y\hat y}"
    outlier_sensitivity = "very high: exponential in the violation"
    noise_model = "none proper; its minimiser is half the log-odds"
    convention = "scikit-learn GradientBoostingClassifier(loss='exponential') margin form"
    references = ("Freund & Schapire, J. Comput. Syst. Sci. 55 (1997); "
                  "Friedman, Hastie, Tibshirani, Additive logistic regression, Ann. Stat. 28 (2000)",)

    def __init__(self, *, check_finite=True):
        super().__init__(check_finite=check_finite)

    def sample_inputs(self, rng, n=8):
        y = rng.choice([-1.0, 1.0], size=n)
        return y, y * rng.uniform(-2.0, 3.0, size=n)

    def _kernel(self, xp, inputs, order):
        y, f = inputs
        value = xp.exp(-y * f)
        grad = -y * value if order >= 1 else None
        hess = value + 0.0 if order >= 2 else None
        return value, grad, hess


@register
class Logistic(_Margin):
    """Logistic loss ``log(1 + exp(-y y_pred))`` = ``softplus(-y y_pred)``; gradient
    ``-y sigmoid(-y y_pred)``; hessian ``sigmoid(m) sigmoid(-m)``. Equals BCE with logits on {0, 1}
    labels; torch ``soft_margin_loss``."""

    name = "logistic"
    estimates = "the log-odds (a calibrated probability after a sigmoid)"
    estimate_check = ("calibration_error", 0.0)
    verify_settings = ({},)
    torch_reference = "F.soft_margin_loss"
    aliases = ("soft_margin",)
    summary = "Logistic regression's loss in margin form (BCE with logits, labels in {-1, +1})."
    formula = "log(1 + exp(-y y_pred))"
    formula_latex = r"\log(1+e^{-y\hat y})"
    gradient_formula = "-y sigmoid(-y y_pred)"
    gradient_latex = r"-y\,\sigma(-y\hat y)"
    outlier_sensitivity = "medium: linear for confident mistakes"
    noise_model = "Bernoulli (logit link)"
    convention = "torch soft_margin_loss"
    references = ("Cox (1958); Friedman, Hastie, Tibshirani (2000)",)

    def __init__(self, *, check_finite=True):
        super().__init__(check_finite=check_finite)

    def sample_inputs(self, rng, n=8):
        y = rng.choice([-1.0, 1.0], size=n)
        return y, y * rng.uniform(-4.0, 4.0, size=n)

    def _kernel(self, xp, inputs, order):
        y, f = inputs
        m = y * f
        _, value, s_pos, s_neg = M.logistic_parts(xp, m)  # softplus(-m) and the sigmoids
        grad = hess = None
        if order >= 1:
            grad = -y * s_neg
            if order >= 2:
                hess = s_pos * s_neg
        return value, grad, hess
