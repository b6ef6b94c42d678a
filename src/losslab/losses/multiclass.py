"""Multiclass and multilabel losses: rows of class scores, shape (n_samples, n_classes).

The unreduced value is one number per sample (a sum over the class axis); ``sample_weight`` has one
weight per sample. Kernels here see class-major arrays, (n_classes, n_samples), and sum over
axis 0; ``Loss`` transposes in and out (see ``_core/_math.py`` for why).

Softmax losses are written as a sum over classes of a function of one probability,
``l = sum_c g_c(p_c)``, described by two "log-derivatives" that every such loss provides:
``u_c = p g_c'(p)`` and ``wq2_c = p u_c'(p) (1 - p)**2``. From them one chain rule gives:

* logits x, p = softmax(x): gradient ``u - p U`` (U = sum u); hessian diagonal
  ``w q**2 + p**2 (sum_{c != j} w_c) - p q U`` (q = 1 - p), arranged so that no term overflows
  where p rounds to 1 (see ``_softmax_derivatives``);
* probabilities p (used as given, not renormalised): gradient ``u / p``; hessian
  ``(w - u) / p**2`` (exact: the loss is separable in p).
"""

from __future__ import annotations

import abc

import numpy as np

from .._core import Control, Loss, register, arrays as AR, numerics as M, validation as V

from .binary import _clip_eps, _pow

_ROWS = V.Interval(0.0, 1.0, note="probability rows; pass from_logits=True for logits")


def _vector(xp, arr, like):
    """A per-class weight column (C, 1) (stored as NumPy) in the namespace, dtype and device of
    ``like``."""
    if xp is np:
        return arr.astype(like.dtype, copy=False)[:, None]
    import array_api_compat

    # a writable copy: the stored vector is read-only, which some frameworks refuse to wrap
    return xp.asarray(arr.copy()[:, None], dtype=like.dtype, device=array_api_compat.device(like))


def _check_n_classes(vec, name, n_classes):
    if vec is not None and vec.shape[0] != n_classes:
        raise ValueError(f"{name} has {vec.shape[0]} entries but y_pred has {n_classes} classes")


def _one_hot(xp, labels, n_classes, dtype):
    """Class-major one-hot (C, N) of integer labels (N,)."""
    return xp.astype(xp.arange(n_classes)[:, None] == labels[None, :], dtype)


def _softmax_state(xp, x, need_q):
    """log p, p, 1 - p (only if asked), and what the hessian needs, each to full precision."""
    m, e, is_max, rest = M.softmax_parts(xp, x)
    total = 1.0 + rest
    log_p = (x - m) - xp.log1p(rest)
    p = e / total
    q = xp.where(is_max > 0, rest / total, 1.0 - p) if need_q else None
    return log_p, p, q, (e, is_max, rest)


def _softmax_derivatives(xp, p, q, parts, u, wq2, order):
    """Gradient and hessian diagonal w.r.t. logits of sum_c g_c(softmax(x)_c).

    H_jj = w_j q_j^2 + p_j^2 sum_{c != j} w_c - p_j q_j U, with w = wq2 / q^2. Only at a row's
    single maximum can q underflow and w overflow; there the terms p_j^2 w_max are evaluated as
    (p_j / q_max)^2 (w_max q_max^2), where p_j / q_max = e_j / rest. With tied maxima q >= 1/2
    and every w is finite.
    """
    big_u = M.class_sum(xp, u)
    grad = u - p * big_u
    hess = None
    if order >= 2:
        hess = -(p * q) * big_u
        if wq2 is not None:
            e, is_max, rest = parts
            single = is_max * xp.astype(M.class_sum(xp, is_max) == 1.0, p.dtype)
            q_safe = xp.where(single > 0, 1.0, q)
            w = xp.where(single > 0, 0.0, wq2 / (q_safe * q_safe))
            # p_j / q_max = e_j / rest off the maxima (<= 1 there); 0 at the maxima, where
            # 1 / rest could overflow.
            ratio = (e - is_max) / xp.where(rest > 0, rest, 1.0)
            hess = (hess + wq2 + p * p * (M.class_sum(xp, w) - w)
                    + ratio * ratio * M.class_sum(xp, single * wq2))
    return grad, hess


def _probability_derivatives(xp, p, q, u, wq2, order):
    """Gradient u / p and exact hessian (w - u) / p^2 of sum_c g_c(p_c) w.r.t. probabilities."""
    grad = u / p
    hess = None
    if order >= 2:
        w = 0.0 if wq2 is None else wq2 / (q * q)
        hess = (w - u) / (p * p)
    return grad, hess


class _RowsLoss(Loss):
    """Losses on (n_samples, n_classes) rows with a softmax (logits) or probability input."""

    task = "multiclass"
    shape_rule = "rows"
    from_logits = False
    _needs_q = True  # whether the class-wise function uses 1 - p (else only for the hessian)

    @property
    def hessian_kind(self):  # type: ignore[override]
        # With logits the softmax couples the classes: only the diagonal is returned. With
        # probabilities used as given the loss is separable, so the diagonal is the whole hessian.
        return "diagonal" if self.from_logits else "exact"

    def _activation_text(self):
        if self.from_logits:
            return "none: y_pred are logits (softmax applied inside, in log space)"
        return "softmax (y_pred are probability rows, used as given)"

    def _y_pred_domain(self):
        return None if self.from_logits else _ROWS

    @abc.abstractmethod
    def _per_class(self, xp, y, log_p, p, q, order):
        """(value per class, u, wq2 or None) of the class-wise function g_c; see module docstring."""

    def _targets(self, xp, y_true, y_pred):
        """Per-class targets (N, C) the class-wise function uses."""
        return y_true

    def _kernel(self, xp, inputs, order):
        y_true, y_pred = inputs
        y = self._targets(xp, y_true, y_pred)
        if self.from_logits:
            log_p, p, q, parts = _softmax_state(xp, y_pred, self._needs_q or order >= 2)
        else:
            eps = _clip_eps(xp, getattr(self, "eps", None), y_pred.dtype)
            p = xp.clip(y_pred, eps, 1.0 - eps)
            log_p = xp.log(p)
            q = 1.0 - p if self._needs_q or order >= 2 else None
        per_class, u, wq2 = self._per_class(xp, y, log_p, p, q, order)
        value = M.class_sum(xp, per_class)[0, ...]
        grad = hess = None
        if order >= 1:
            if self.from_logits:
                grad, hess = _softmax_derivatives(xp, p, q, parts, u, wq2, order)
            else:
                grad, hess = _probability_derivatives(xp, p, q, u, wq2, order)
        return value, grad, hess

    def _random_logits(self, rng, n, n_classes):
        return rng.normal(0.0, 2.0, size=(n, n_classes))

    def _random_rows(self, rng, n, n_classes):
        x = self._random_logits(rng, n, n_classes)
        if self.from_logits:
            return x
        e = np.exp(x - x.max(axis=1, keepdims=True))
        # mixed with the uniform distribution: every entry >= 0.1 / C, rows still sum to 1
        return 0.9 * e / e.sum(axis=1, keepdims=True) + 0.1 / n_classes


class _CrossEntropyTerms:
    """g_c(p) = -a_c log p (a = weighted, smoothed targets): u = -a, w = 0."""

    _needs_q = False

    @staticmethod
    def _ce(xp, a, log_p):
        return -a * log_p, -a, None

    @property
    def has_hvp(self) -> bool:
        return True  # with logits the full hessian is A (diag(p) - p p^T): its product is exact

    def _hvp_kernel(self, xp, arrays, vectors):
        if not self.from_logits:
            return super()._hvp_kernel(xp, arrays, vectors)
        y_true, y_pred = arrays
        x = AR.transpose(xp, y_pred)
        y_true = AR.transpose(xp, y_true) if y_true.ndim == 2 else y_true
        v = AR.transpose(xp, vectors[0])
        big_a = M.class_sum(xp, self._targets(xp, y_true, x))
        p = _softmax_state(xp, x, False)[1]
        pv = p * v
        return (AR.transpose(xp, big_a * (pv - p * M.class_sum(xp, pv))),)


@register
class CCE(_CrossEntropyTerms, _RowsLoss):
    """Categorical cross-entropy with one-hot or probability targets.

    Domain: y_true rows in [0, 1] (one-hot or probabilities), shape (N, C); y_pred probability
    rows (used as given, clipped to ``[eps, 1 - eps]``) or logits with ``from_logits=True``.

    Unreduced per sample: ``-sum_c w_c y'_c log p_c`` with smoothed targets
    ``y' = y (1 - s) + s / C`` and class weights ``w`` (``class_weight``, 1 when None).
    Gradient w.r.t. logits ``p A - a`` (``a = w y'``, ``A = sum a``); hessian diagonal
    ``A p (1 - p)``. W.r.t. probabilities: ``-a / p``, hessian ``a / p**2`` (exact).

    Conventions where libraries disagree: ``"mean"`` always divides by the number of samples (or
    the sum of ``sample_weight``), as Keras; torch's ``cross_entropy(weight=...)`` with class-index
    targets divides by the summed class weights of the targets instead. Probabilities are not
    renormalised (Keras divides each row by its sum; torch NLL does not): on rows that sum to 1
    the values agree. Equivalences: ``label_smoothing=0`` is plain cross-entropy; with C = 2 and
    logits it equals ``bce(from_logits=True)`` on ``x1 - x0``.

    Example (the course's exercise B4: -log 0.7)::

        >>> import losslab as ll
        >>> round(float(ll.get("cce")([[1.0, 0.0, 0.0]], [[0.7, 0.2, 0.1]])), 4)
        0.3567
    """

    name = "cce"
    controls = {"label_smoothing": Control(0.0, 0.5, 0.05)}
    estimates = "calibrated class probabilities"
    estimate_check = ("calibration_error", 0.0)
    verify_settings = ({},
                       {"from_logits": True},
                       {"from_logits": True, "label_smoothing": 0.1},
                       {"from_logits": True, "class_weight": [1.0, 2.0, 0.5, 3.0]},
                       {"label_smoothing": 0.2, "class_weight": [0.5, 1.0, 1.5, 2.0]})
    torch_reference = "F.cross_entropy (probs: formula)"
    aliases = ("categorical_cross_entropy", "cross_entropy", "categorical_crossentropy")
    summary = "Categorical cross-entropy: the multinomial negative log-likelihood."
    formula = "-sum_c w_c y_c log p_c"
    formula_latex = r"-\sum_c w_c y_c \log p_c"
    gradient_formula = "p sum_c(w_c y_c) - w y  w.r.t. logits;  -w y / p  w.r.t. probabilities"
    gradient_latex = r"p\sum_c w_c y_c - w\odot y"
    outlier_sensitivity = "high for mislabelled points"
    noise_model = "categorical"
    convention = ("torch cross_entropy with probability targets; smoothing y(1-s)+s/C; mean divides "
                  "by N (Keras), not by summed class weights (torch)")
    references = ("Good, Rational decisions, JRSS B 14 (1952); "
                  "Szegedy et al., Rethinking the Inception Architecture (label smoothing), "
                  "CVPR 2016, arXiv:1512.00567",)

    def __init__(self, *, from_logits=False, label_smoothing=0.0, class_weight=None, eps=None,
                 check_finite=True):
        super().__init__(check_finite=check_finite)
        self.from_logits = V.check_bool(from_logits, "from_logits")
        self.label_smoothing = V.check_scalar(label_smoothing, "label_smoothing", ge=0, le=1)
        self.class_weight = V.check_weight_vector(class_weight, "class_weight")
        self.eps = V.check_scalar(eps, "eps", gt=0, lt=0.5, allow_none=True)

    def _y_true_domain(self):
        return V.Interval(0.0, 1.0, note="one-hot or probability rows")

    def sample_inputs(self, rng, n=8):
        n_classes = 4 if self.class_weight is None else self.class_weight.shape[0]
        y_true = rng.dirichlet(np.ones(n_classes), size=n)
        hard = rng.random(n) < 0.5
        y_true[hard] = np.eye(n_classes)[rng.integers(0, n_classes, size=int(hard.sum()))]
        return y_true, self._random_rows(rng, n, n_classes)

    def _targets(self, xp, y_true, y_pred):
        n_classes = y_pred.shape[0]
        _check_n_classes(self.class_weight, "class_weight", n_classes)
        a = y_true
        if self.label_smoothing:
            a = a * (1.0 - self.label_smoothing) + self.label_smoothing / n_classes
        if self.class_weight is not None:
            a = a * _vector(xp, self.class_weight, y_pred)
        return a

    def _per_class(self, xp, a, log_p, p, q, order):
        return self._ce(xp, a, log_p)


@register
class SparseCCE(CCE):
    """Categorical cross-entropy with integer class targets (N,) and rows of scores (N, C).

    Same loss as ``cce`` on the one-hot targets. ``ignore_index``: samples whose target equals it
    contribute 0 and leave the denominator of ``"mean"`` (torch's convention); when every target
    is ignored, ``"mean"`` returns 0 with a zero gradient (torch returns NaN). Float targets are
    accepted when they hold whole numbers.
    """

    name = "sparse_cce"
    verify_settings = ({},
                       {"from_logits": True},
                       {"from_logits": True, "label_smoothing": 0.1},
                       {"from_logits": True, "class_weight": [1.0, 2.0, 0.5, 3.0]},
                       {"from_logits": True, "ignore_index": 1},
                       {"from_logits": True, "ignore_index": -100, "label_smoothing": 0.2},
                       {"class_weight": [0.5, 1.0, 1.5, 2.0], "ignore_index": 2})
    torch_reference = "F.cross_entropy / F.nll_loss"
    aliases = ("sparse_categorical_cross_entropy", "sparse_categorical_crossentropy", "nll")
    shape_rule = "class_index"
    integer_inputs = ("y_true",)

    def __init__(self, *, from_logits=False, label_smoothing=0.0, class_weight=None,
                 ignore_index=None, eps=None, check_finite=True):
        super().__init__(from_logits=from_logits, label_smoothing=label_smoothing,
                         class_weight=class_weight, eps=eps, check_finite=check_finite)
        self.ignore_index = V.check_scalar(ignore_index, "ignore_index", integer=True,
                                           allow_none=True)

    def _y_true_domain(self):
        return V.ClassIndex()

    def sample_inputs(self, rng, n=8):
        n_classes = 4 if self.class_weight is None else self.class_weight.shape[0]
        labels = rng.integers(0, n_classes, size=n)
        if self.ignore_index is not None:
            labels[rng.random(n) < 0.2] = self.ignore_index
        return labels, self._random_rows(rng, n, n_classes)

    def _sample_mask(self, xp, arrays):
        return None if self.ignore_index is None else arrays[0] != self.ignore_index

    def _targets(self, xp, y_true, y_pred):
        one_hot = _one_hot(xp, y_true, y_pred.shape[0], y_pred.dtype)
        if self.ignore_index is not None:
            keep = xp.astype(y_true != self.ignore_index, y_pred.dtype)[None, :]
            smoothed = super()._targets(xp, one_hot, y_pred)
            return smoothed * keep
        return super()._targets(xp, one_hot, y_pred)


@register
class CategoricalFocal(_RowsLoss):
    """Categorical focal loss, Keras ``CategoricalFocalCrossentropy``.

    Unreduced per sample ``-sum_c alpha y_c (1 - p_c)**gamma log p_c``. With ``q = 1 - p`` and
    ``r = -log(p) / q`` (-> 1 as q -> 0) the class-wise log-derivatives are
    ``u = -alpha y q**gamma (gamma p r + 1)`` and
    ``w q**2 = alpha y gamma p q**gamma ((1 - gamma) p log p + q (log p + 2))``; the shared softmax
    chain rule turns them into the gradient and hessian diagonal, finite for every gamma >= 0 at
    saturated logits. ``alpha=None`` disables alpha. Keras clips the softmax output to
    ``[1e-7, 1 - 1e-7]`` even for logits (so its gradient vanishes at saturation); losslab works
    in log space for logits and clips only probabilities.
    """

    name = "categorical_focal"
    controls = {"gamma": Control(0.0, 5.0, 0.25, shown=(0.0, 1.0, 2.0, 5.0)),
                "alpha": Control(0.05, 0.95, 0.05, start=0.5)}
    estimates = "a ranking score (probabilities pulled towards the middle)"
    estimate_check = ("calibration_error", 0.0)
    verify_settings = ({},
                       {"from_logits": True},
                       {"gamma": 0.5, "from_logits": True},
                       {"gamma": 0.0, "alpha": None, "from_logits": True},
                       {"gamma": 3.0})
    torch_reference = "formula (Keras)"
    aliases = ("categorical_focal_cross_entropy", "softmax_focal")
    summary = "Multiclass focal loss: cross-entropy scaled by (1 - p)^gamma per class."
    formula = "-sum_c alpha y_c (1 - p_c)^gamma log p_c"
    formula_latex = r"-\sum_c \alpha\,y_c(1-p_c)^\gamma\log p_c"
    gradient_formula = "u - p sum(u), u = -alpha y q^gamma (gamma p r + 1), r = -log(p)/q (logits)"
    gradient_latex = r"u - p\textstyle\sum_c u_c"
    convex = "no for gamma > 0"
    outlier_sensitivity = "high for mislabelled points"
    noise_model = "categorical (at gamma = 0)"
    convention = "Keras CategoricalFocalCrossentropy (alpha=0.25, gamma=2); Lin et al. 2017"
    references = ("Lin et al., Focal Loss for Dense Object Detection, ICCV 2017, arXiv:1708.02002",)

    def __init__(self, *, gamma=2.0, alpha=0.25, from_logits=False, eps=None, check_finite=True):
        super().__init__(check_finite=check_finite)
        self.gamma = V.check_scalar(gamma, "gamma", ge=0, le=1e3, why=(
            "beyond it (1 - p)**gamma is below 1e-300 for every p above 0.5, so the loss and its "
            "derivatives are 0 or overflow"))
        self.alpha = V.check_scalar(alpha, "alpha", ge=0, allow_none=True)
        self.from_logits = V.check_bool(from_logits, "from_logits")
        self.eps = V.check_scalar(eps, "eps", gt=0, lt=0.5, allow_none=True)

    def _y_true_domain(self):
        return V.Interval(0.0, 1.0, note="one-hot rows")

    def sample_inputs(self, rng, n=8):
        labels = rng.integers(0, 4, size=n)
        return np.eye(4)[labels], self._random_rows(rng, n, 4)

    def _per_class(self, xp, y, log_p, p, q, order):
        g = self.gamma
        ay = y if self.alpha is None else self.alpha * y
        qg = _pow(xp, q, g)
        value = -ay * qg * log_p
        r = xp.where(q > 0, -log_p / xp.where(q > 0, q, 1.0), 1.0)
        u = -ay * qg * (g * p * r + 1.0)
        wq2 = None
        if order >= 2 and g:
            wq2 = ay * g * p * qg * ((1.0 - g) * p * log_p + q * (log_p + 2.0))
        return value, u, wq2


@register
class KLDiv(_RowsLoss):
    """Kullback-Leibler divergence ``KL(p || q) = sum_c p_c log(p_c / q_c)`` per sample.

    y_true = p (probability rows, 0 log 0 = 0), y_pred = q: probability rows, or logits of q with
    ``from_logits=True``. Gradient ``-p / q`` (probabilities) or ``q sum(p) - p`` (logits).
    ``"mean"`` is the mean over samples, i.e. torch's ``reduction="batchmean"`` (torch's
    ``"mean"`` divides by N * C and is not the KL divergence).
    """

    name = "kl_div"
    estimates = "the target distribution"
    verify_settings = ({}, {"from_logits": True})
    torch_reference = "F.kl_div"
    aliases = ("kl_divergence", "kld", "kullback_leibler")
    summary = "Kullback-Leibler divergence of the predicted distribution from the true one."
    formula = "sum_c p_c log(p_c / q_c)"
    formula_latex = r"\sum_c p_c\log\frac{p_c}{q_c}"
    gradient_formula = "-p / q  w.r.t. q;  q sum(p) - p  w.r.t. logits"
    gradient_latex = r"-p/q"
    outlier_sensitivity = "high where q -> 0 under p > 0"
    noise_model = "categorical (equals cross-entropy minus the entropy of p)"
    convention = "torch kl_div(log q, p, reduction='batchmean'); Keras KLDivergence clips p too"
    references = ("Kullback & Leibler, On information and sufficiency, Ann. Math. Stat. 22 (1951)",)
    _needs_q = False

    def __init__(self, *, from_logits=False, eps=None, check_finite=True):
        super().__init__(check_finite=check_finite)
        self.from_logits = V.check_bool(from_logits, "from_logits")
        self.eps = V.check_scalar(eps, "eps", gt=0, lt=0.5, allow_none=True)

    def _y_true_domain(self):
        return V.Interval(0.0, 1.0, note="probability rows")

    def sample_inputs(self, rng, n=8):
        y_true = rng.dirichlet(np.ones(4), size=n)
        y_true[rng.random(n) < 0.2, 0] = 0.0  # exercise 0 log 0 = 0
        return y_true, self._random_rows(rng, n, 4)

    def _per_class(self, xp, y, log_p, p, q, order):
        return M.xlogy(xp, y, y) - y * log_p, -y, None


@register
class Poly1(_RowsLoss):
    """Poly-1 cross-entropy: ``CE + epsilon (1 - p_t)`` on logits with integer targets.

    Class-wise ``g_t(p) = -log p + epsilon (1 - p)``: ``u = -(1 + epsilon p)``,
    ``w = -epsilon p``. Equivalence: ``epsilon=0`` is cross-entropy (``sparse_cce`` with logits).
    """

    name = "poly1"
    controls = {"epsilon": Control(-1.0, 5.0, 0.25, shown=(-1.0, 0.0, 1.0))}
    estimates = "class probabilities (calibrated at epsilon = 0)"
    estimate_check = ("calibration_error", 0.0)
    verify_settings = ({}, {"epsilon": 0.0}, {"epsilon": 2.0}, {"epsilon": -0.5})
    torch_reference = "F.cross_entropy + formula"
    aliases = ("poly1_cross_entropy", "poly_loss")
    summary = "Cross-entropy plus epsilon (1 - p_t): a one-parameter polynomial correction."
    formula = "-log p_t + epsilon (1 - p_t)"
    formula_latex = r"-\log p_t + \epsilon(1-p_t)"
    gradient_formula = "p - onehot(t) - epsilon p_t (onehot(t) - p)  w.r.t. logits"
    gradient_latex = r"p - e_t - \epsilon p_t(e_t - p)"
    convex = "no in general (convex in the logits at epsilon = 0, where it is cross-entropy)"
    outlier_sensitivity = "high for mislabelled points"
    noise_model = "categorical (at epsilon = 0)"
    convention = "optax poly_loss_cross_entropy (epsilon=2.0 there; 1.0 here as in the paper's Poly-1)"
    references = ("Leng et al., PolyLoss, ICLR 2022, arXiv:2204.12511",)
    shape_rule = "class_index"
    integer_inputs = ("y_true",)
    from_logits = True

    def __init__(self, *, epsilon=1.0, check_finite=True):
        super().__init__(check_finite=check_finite)
        self.epsilon = V.check_scalar(epsilon, "epsilon", ge=-1)

    def _y_true_domain(self):
        return V.ClassIndex()

    def sample_inputs(self, rng, n=8):
        return rng.integers(0, 4, size=n), self._random_logits(rng, n, 4)

    def _targets(self, xp, y_true, y_pred):
        return _one_hot(xp, y_true, y_pred.shape[0], y_pred.dtype)

    def _per_class(self, xp, y, log_p, p, q, order):
        e = self.epsilon
        value = y * (e * q - log_p)
        u = -y * (1.0 + e * p)
        wq2 = -e * y * p * q * q if order >= 2 and e else None
        return value, u, wq2


@register
class MultiMargin(Loss):
    """Multiclass hinge loss, torch ``multi_margin_loss``.

    Unreduced per sample ``sum_{c != y} w_y max(0, margin - x_y + x_c)**p / C`` (p in {1, 2}).
    Gradient: ``w_y p h_c**(p-1) / C`` for each violating class c (h_c > 0), minus their sum at
    class y; the subgradient 0 is used at h_c = 0 (torch's ``> 0``). Hessian: 0 for p = 1; for
    p = 2 the diagonal ``2 w_y / C`` per violating class and its sum at y.
    """

    name = "multi_margin"
    controls = {"p": Control(1, 2, 1, integer=True), "margin": Control(0.1, 3.0, 0.1)}
    estimates = "a margin (no probability)"
    verify_settings = ({},
                       {"p": 2},
                       {"margin": 0.5, "class_weight": [1.0, 2.0, 0.5, 3.0]},
                       {"p": 2, "class_weight": [0.5, 1.0, 1.5, 2.0]})
    torch_reference = "F.multi_margin_loss"
    aliases = ("multiclass_hinge", "multi_margin_hinge")
    task = "multiclass"
    shape_rule = "class_index"
    integer_inputs = ("y_true",)
    summary = "Crammer-Singer-style multiclass hinge, averaged over classes (torch's MultiMargin)."
    formula = "sum_{c != y} w_y max(0, margin - x_y + x_c)^p / C"
    formula_latex = r"\frac1C\sum_{c\ne y} w_y\max(0,m-x_y+x_c)^p"
    gradient_formula = "w_y p h_c^(p-1) / C on violating classes, minus their sum at y"
    gradient_latex = r"\frac{w_y p h_c^{p-1}}{C}[h_c>0]"
    activation = "identity (y_pred are raw class scores)"
    nondifferentiable = "where a margin h_c = 0 (p = 1); the subgradient 0 is used"
    outlier_sensitivity = "medium (p = 1), high (p = 2)"
    convention = "torch multi_margin_loss (divides by C; weight indexes the target class)"
    references = ("Weston & Watkins, Support vector machines for multi-class pattern recognition, "
                  "ESANN 1999",)

    def __init__(self, *, p=1, margin=1.0, class_weight=None, check_finite=True):
        super().__init__(check_finite=check_finite)
        self.p = V.check_choice(V.check_scalar(p, "p", integer=True), "p", (1, 2))
        self.margin = V.check_scalar(margin, "margin")
        self.class_weight = V.check_weight_vector(class_weight, "class_weight")

    @property
    def hessian_kind(self):  # type: ignore[override]
        return "exact" if self.p == 1 else "diagonal"

    def _y_true_domain(self):
        return V.ClassIndex()

    def sample_inputs(self, rng, n=8):
        labels = rng.integers(0, 4, size=n)
        x = rng.normal(0.0, 1.5, size=(n, 4))
        h = self.margin - x[np.arange(n), labels][:, None] + x
        x = x + 0.1 * (np.abs(h) < 0.05)  # keep margins away from the kink at 0
        x[np.arange(n), labels] = x[np.arange(n), labels] - 0.1 * (np.abs(h) < 0.05).any(axis=1)
        return labels, x

    def _kernel(self, xp, inputs, order):
        y_true, x = inputs
        n_classes = x.shape[0]
        _check_n_classes(self.class_weight, "class_weight", n_classes)
        t = _one_hot(xp, y_true, n_classes, x.dtype)
        x_t = M.class_sum(xp, x * t)
        h = (self.margin - x_t + x) * (1.0 - t)  # 0 on the target class
        active = xp.astype((h > 0) & (t == 0), x.dtype)
        scale = 1.0 / n_classes
        if self.class_weight is not None:
            scale = M.class_sum(xp, t * _vector(xp, self.class_weight, x)) / n_classes
        hp = h * active
        value = M.class_sum(xp, (hp * hp if self.p == 2 else hp) * scale)[0, ...]
        grad = hess = None
        if order >= 1:
            g = (2.0 * hp if self.p == 2 else active) * scale
            grad = g - t * M.class_sum(xp, g)
            if order >= 2:
                if self.p == 1:
                    hess = xp.zeros_like(x)
                else:
                    d = 2.0 * active * scale
                    hess = d + t * M.class_sum(xp, d)
        return value, grad, hess


@register
class CategoricalHinge(Loss):
    """Keras ``CategoricalHinge``: ``max(0, neg - pos + 1)`` with ``pos = sum(y * y_pred)`` and
    ``neg = max((1 - y) * y_pred)``.

    y_true one-hot rows, y_pred raw scores. Gradient where the loss is positive:
    ``(1 - y_j) [j = argmax((1 - y) y_pred)] - y_j`` (ties: the first maximum), else 0; hessian 0.
    As in Keras, ``neg`` includes the 0 that the target entry contributes.
    """

    name = "categorical_hinge"
    estimates = "a margin (no probability)"
    verify_settings = ({},)
    torch_reference = "formula (Keras)"
    task = "multiclass"
    shape_rule = "rows"
    summary = "Hinge on the gap between the true class score and the best other score (Keras)."
    formula = "max(0, max_c((1 - y_c) s_c) - sum_c y_c s_c + 1)"
    formula_latex = r"\max\left(0, \max_c (1-y_c)s_c - \sum_c y_c s_c + 1\right)"
    gradient_formula = "(1 - y_j)[j = argmax] - y_j where the loss is positive"
    gradient_latex = r"[\ell>0]\left((1-y_j)[j=j^*] - y_j\right)"
    activation = "identity (y_pred are raw class scores)"
    nondifferentiable = "where the loss is 0 at the hinge or two scores tie; subgradient 0 / first max"
    outlier_sensitivity = "medium: linear in the violation"
    convention = "Keras CategoricalHinge"
    references = ("Crammer & Singer, On the algorithmic implementation of multiclass kernel-based "
                  "vector machines, JMLR 2 (2001)",)

    def __init__(self, *, check_finite=True):
        super().__init__(check_finite=check_finite)

    def _y_true_domain(self):
        return V.LabelSet((0, 1), note="one-hot rows")

    def sample_inputs(self, rng, n=8):
        labels = rng.integers(0, 4, size=n)
        y = np.eye(4)[labels]
        s = rng.normal(0.0, 1.0, size=(n, 4))
        for _ in range(10):  # keep away from the hinge (loss exactly 0) and from ties
            neg = ((1 - y) * s).max(axis=1)
            pos = (y * s).sum(axis=1)
            close = np.abs(neg - pos + 1) < 0.05
            if not close.any():
                break
            s[close] += rng.normal(0.0, 0.3, size=(int(close.sum()), 4))
        return y, s

    def _kernel(self, xp, inputs, order):
        y, s = inputs
        other = (1.0 - y) * s
        neg = xp.max(other, axis=0)
        pos = M.class_sum(xp, y * s)[0, ...]
        margin = neg - pos + 1.0
        value = xp.maximum(margin, 0.0)
        grad = hess = None
        if order >= 1:
            n_classes = s.shape[0]
            top = _one_hot(xp, xp.argmax(other, axis=0), n_classes, s.dtype)
            on = xp.astype(margin > 0, s.dtype)[None, :]
            grad = on * ((1.0 - y) * top - y)
            if order >= 2:
                hess = xp.zeros_like(s)
        return value, grad, hess


@register
class MultilabelSoftMargin(Loss):
    """torch ``multilabel_soft_margin_loss``: independent logistic losses averaged over classes.

    y_true in {0, 1}, shape (N, C); y_pred logits. Per sample
    ``(1/C) sum_c w_c (y softplus(-x) + (1 - y) softplus(x))``; gradient
    ``w_c (sigmoid(x) - y) / C``; hessian ``w_c sigmoid(x) sigmoid(-x) / C`` (exact: separable).
    """

    name = "multilabel_soft_margin"
    estimates = "calibrated label probabilities"
    estimate_check = ("calibration_error", 0.0)
    verify_settings = ({}, {"class_weight": [1.0, 2.0, 0.5, 3.0]})
    torch_reference = "F.multilabel_soft_margin_loss"
    aliases = ("multilabel_bce",)
    task = "multilabel"
    shape_rule = "rows"
    summary = "One logistic loss per label, averaged over labels (multi-label classification)."
    formula = "(1/C) sum_c w_c (y_c softplus(-x_c) + (1 - y_c) softplus(x_c))"
    formula_latex = r"\frac1C\sum_c w_c\left(y_c\log(1+e^{-x_c}) + (1-y_c)\log(1+e^{x_c})\right)"
    gradient_formula = "w_c (sigmoid(x_c) - y_c) / C"
    gradient_latex = r"\frac{w_c(\sigma(x_c)-y_c)}{C}"
    activation = "none: y_pred are logits (one sigmoid per label)"
    outlier_sensitivity = "high for mislabelled points"
    noise_model = "independent Bernoulli per label"
    convention = "torch multilabel_soft_margin_loss (averages over classes, then samples)"
    references = ("PyTorch documentation, MultiLabelSoftMarginLoss",)

    def __init__(self, *, class_weight=None, check_finite=True):
        super().__init__(check_finite=check_finite)
        self.class_weight = V.check_weight_vector(class_weight, "class_weight")

    def _y_true_domain(self):
        return V.LabelSet((0, 1), note="multi-hot rows")

    def sample_inputs(self, rng, n=8):
        n_classes = 4 if self.class_weight is None else self.class_weight.shape[0]
        return (rng.integers(0, 2, size=(n, n_classes)).astype(float),
                rng.normal(0.0, 2.5, size=(n, n_classes)))

    def _kernel(self, xp, inputs, order):
        y, x = inputs
        n_classes = x.shape[0]
        _check_n_classes(self.class_weight, "class_weight", n_classes)
        scale = 1.0 / n_classes
        if self.class_weight is not None:
            scale = _vector(xp, self.class_weight, x) / n_classes
        sp_pos, sp_neg, s_pos, s_neg = M.logistic_parts(xp, x)
        value = M.class_sum(xp, (y * sp_neg + (1.0 - y) * sp_pos) * scale)[0, ...]
        grad = hess = None
        if order >= 1:
            grad = (s_pos - y) * scale
            if order >= 2:
                hess = s_pos * s_neg * scale
        return value, grad, hess
