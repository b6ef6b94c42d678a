"""Embedding and similarity losses: vectors on the last axis, one value per sample.

``cosine_distance`` takes (y_true, y_pred) like the core losses. The pair and triplet losses take
several differentiable arrays (``MultiInputLoss``): ``gradient`` returns one array per
differentiable input, in order, and ``hessian`` their diagonals.
"""

from __future__ import annotations

import numpy as np

from .._core import Control, Loss, MultiInputLoss, Probe, ProbeCurve, register, numerics as M, validation as V


_PM1 = V.LabelSet((-1, 1), shown="{-1, +1}", note="+1 similar, -1 dissimilar")
_01 = V.LabelSet((0, 1), note="1 similar, 0 dissimilar")


def _dot(xp, a, b):
    """Row-wise dot product of (N, D) arrays, keeping the axis: (N, 1)."""
    return M.trailing_sum(xp, a * b)


@register
class CosineDistance(Loss):
    """Cosine distance ``1 - <u, v>`` with ``u = y_true / max(|y_true|, eps)`` and
    ``v = y_pred / max(|y_pred|, eps)``, per sample over the last axis (optax
    ``cosine_distance``).

    With ``n = |y_pred|`` and ``c = <u, y_pred> / n``: gradient ``-(u - c y_pred / n) / n``;
    hessian diagonal ``(2 u_j p_j + c n - 3 c p_j**2 / n) / n**2 ...`` written out in the code.
    Where ``|y_pred| <= eps`` the norm is the constant eps: gradient ``-u / eps``, hessian 0.
    A zero y_true makes the loss 1 with a zero gradient.
    """

    name = "cosine_distance"
    estimates = "the direction of the target"
    verify_settings = ({},)
    torch_reference = "formula (optax)"
    aliases = ("cosine",)
    task = "embedding"
    shape_rule = "rows"
    summary = "One minus the cosine similarity of two vectors: direction only, not length."
    formula = "1 - <y_true, y_pred> / (max(|y_true|, eps) max(|y_pred|, eps))"
    formula_latex = r"1 - \frac{\langle y, \hat y\rangle}{\max(\|y\|,\epsilon)\max(\|\hat y\|,\epsilon)}"
    gradient_formula = "-(u - c y_pred / |y_pred|) / |y_pred|, u = y_true / |y_true|, c = cos"
    gradient_latex = r"-\frac{u - c\,\hat y/\|\hat y\|}{\|\hat y\|}"
    activation = "identity (y_pred is an embedding)"
    hessian_kind = "diagonal"
    convex = "no"
    outlier_sensitivity = "low: bounded in [0, 2]"
    convention = "optax cosine_distance (each norm clamped at eps); torch clamps each norm too"
    references = ("optax documentation, cosine_distance",)

    def __init__(self, *, eps=1e-8, check_finite=True):
        super().__init__(check_finite=check_finite)
        self.eps = V.check_scalar(eps, "eps", gt=0)

    def sample_inputs(self, rng, n=8):
        return rng.normal(size=(n, 4)), rng.normal(size=(n, 4))

    def _kernel(self, xp, inputs, order):
        y, p = inputs
        # class-major: vectors along axis 0, samples along axis 1. Each vector is divided by
        # k = max(1, max|x|) first (``row_scale``), so no squared norm overflows: with p = k p',
        # |p| = k n', and the gradient and hessian carry 1/k and 1/k^2.
        eps = self.eps
        ny, ky = M.scaled_norm(xp, y, axis=0)
        u = M.unscale(y, ky) / xp.maximum(ny, eps / ky)
        n1, k = M.scaled_norm(xp, p, axis=0)
        q = M.unscale(p, k)
        clamped = n1 <= eps / k
        n = xp.maximum(n1, eps / k)  # the clamped norm, divided by k
        s = xp.sum(u * q, axis=0, keepdims=True)
        value = xp.clip(1.0 - (s / n)[0, ...], 0.0, 2.0)  # a cosine rounded past +-1
        grad = hess = None
        if order >= 1:
            free = 1.0 - xp.astype(clamped, p.dtype)  # 0 where the norm is the constant eps
            n3 = n * n * n
            grad = M.unscale(-u / n + free * s * q / n3, k)
            if order >= 2:
                hess = M.unscale(M.unscale(
                    free * (2.0 * u * q / n3 + s / n3 - 3.0 * s * q * q / (n3 * n * n)), k), k)
        return value, grad, hess


def _cosine_terms(xp, x1, x2, eps, order):
    """torch's cosine of cosine_embedding_loss, c = <x1, x2> / sqrt((|x1|^2 + eps)(|x2|^2 + eps)),
    with its gradients and hessian diagonals in x1 and x2. Each row is divided by
    k = max(1, max|x|) first (``row_scale``): with x = k x', |x|^2 + eps = k^2 (|x'|^2 + eps/k^2),
    so no squared norm overflows; the derivatives carry 1/k and 1/k^2."""
    k1, k2 = M.row_scale(xp, x1), M.row_scale(xp, x2)
    y1, y2 = M.unscale(x1, k1), M.unscale(x2, k2)
    a = _dot(xp, y1, y1) + eps / k1 / k1
    b = _dot(xp, y2, y2) + eps / k2 / k2
    d = xp.sqrt(a) * xp.sqrt(b)
    c = _dot(xp, y1, y2) / d
    out = [c[..., 0]]
    if order >= 1:
        out.append((M.unscale(y2 / d - c * y1 / a, k1), M.unscale(y1 / d - c * y2 / b, k2)))
    if order >= 2:
        h1 = -2.0 * y1 * y2 / (a * d) + 3.0 * c * y1 * y1 / (a * a) - c / a
        h2 = -2.0 * y1 * y2 / (b * d) + 3.0 * c * y2 * y2 / (b * b) - c / b
        out.append((M.unscale(M.unscale(h1, k1), k1), M.unscale(M.unscale(h2, k2), k2)))
    return out


class _Pair(MultiInputLoss):
    """Two embeddings (N, D) and a label per pair (N,)."""

    task = "embedding"
    activation = "identity (the inputs are embeddings)"
    inputs = ("x1", "x2", "y")
    differentiable = ("x1", "x2")

    def _check_shapes(self, arrays):
        x1, x2, y = arrays
        V.check_same_shape(x1, x2, "x1", "x2")
        if x1.ndim != 2:
            raise ValueError(f"x1 and x2 must have shape (n_samples, n_features), got {tuple(x1.shape)}")
        if tuple(y.shape) != (x1.shape[0],):
            raise ValueError(f"y must hold one label per pair; got y {tuple(y.shape)} and x1 {tuple(x1.shape)}")


@register
class CosineEmbedding(_Pair):
    """torch ``cosine_embedding_loss``: ``1 - cos(x1, x2)`` for y = +1,
    ``max(0, cos(x1, x2) - margin)`` for y = -1, with torch's cosine
    ``<x1, x2> / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12))`` (finite for zero vectors).
    The subgradient 0 is used where cos = margin exactly.
    """

    name = "cosine_embedding"
    controls = {"margin": Control(-0.9, 0.9, 0.1)}
    estimates = "embeddings whose cosine orders pairs"
    verify_settings = ({}, {"margin": 0.3}, {"margin": -0.2})
    torch_reference = "F.cosine_embedding_loss"
    summary = "Pull similar pairs to cosine 1, push dissimilar pairs below a cosine margin."
    formula = "1 - cos(x1, x2) if y = 1; max(0, cos(x1, x2) - margin) if y = -1"
    formula_latex = r"\begin{cases}1-\cos(x_1,x_2) & y=1\\ \max(0,\cos(x_1,x_2)-m) & y=-1\end{cases}"
    gradient_formula = "-+ d cos / dx, d cos / dx1 = x2 / D - cos x1 / (|x1|^2 + eps)"
    gradient_latex = r"\mp\frac{\partial\cos}{\partial x}"
    hessian_kind = "diagonal"
    convex = "no"
    nondifferentiable = "at cos = margin for y = -1; the subgradient 0 is used"
    outlier_sensitivity = "low: bounded"
    convention = "torch cosine_embedding_loss (eps 1e-12 inside the norms)"
    references = ("PyTorch documentation, CosineEmbeddingLoss",)
    EPS = 1e-12

    def probe(self):
        t = np.linspace(0, np.pi, 181)

        def mk(x, y):
            return (np.tile([1.0, 0.0], (len(x), 1)), np.column_stack([np.cos(x), np.sin(x)]),
                    np.full(len(x), y))

        def tan(x):
            return np.zeros((len(x), 2)), np.column_stack([-np.sin(x), np.cos(x)])
        return Probe("angle between x1 and x2", [
            ProbeCurve(f"y = {y:+g}", t, lambda x, y=y: mk(x, y), tan, affine=False)
            for y in (1, -1)])

    def __init__(self, *, margin=0.0, check_finite=True):
        super().__init__(check_finite=check_finite)
        self.margin = V.check_scalar(margin, "margin", ge=-1, le=1)

    def _input_domains(self):
        return {"y": _PM1}

    def sample_inputs(self, rng, n=8):
        x1, x2 = rng.normal(size=(n, 4)), rng.normal(size=(n, 4))
        y = rng.choice([-1.0, 1.0], size=n)
        return x1, x2, y

    def _kernel(self, xp, inputs, order):
        x1, x2, y = inputs
        terms = _cosine_terms(xp, x1, x2, self.EPS, order)
        c = terms[0]
        pos = xp.astype(y == 1, x1.dtype)
        active = (1.0 - pos) * xp.astype(c - self.margin > 0, x1.dtype)
        # a cosine rounded above 1 (identical vectors) would give a loss of -1e-16: 1 - c >= 0
        value = pos * xp.maximum(1.0 - c, 0.0) + active * (c - self.margin)
        sign = (active - pos)[:, None]  # -1 for similar pairs, +1 for active dissimilar ones
        grads = None if order < 1 else tuple(sign * g for g in terms[1])
        hess = None if order < 2 else tuple(sign * h for h in terms[2])
        return value, grads, hess


@register
class Contrastive(_Pair):
    """Contrastive loss ``1/2 [y d**2 + (1 - y) max(0, margin - d)**2]`` with the Euclidean
    distance ``d = |x1 - x2|`` (Hadsell, Chopra, LeCun 2006; y = 1 for similar pairs).

    Gradient in x1 (x2 gets the opposite): ``y (x1 - x2) - (1 - y) max(0, margin - d) (x1 - x2) / d``.
    At d = 0 for a dissimilar pair the direction is undefined: the subgradient 0 is used.
    """

    name = "contrastive"
    controls = {"margin": Control(0.1, 3.0, 0.1, shown=(0.5, 1.0, 2.0))}
    estimates = "embeddings whose distances separate pairs"
    verify_settings = ({}, {"margin": 2.0})
    torch_reference = "formula (Hadsell et al.)"
    aliases = ("contrastive_loss",)
    summary = "Pull similar pairs together, push dissimilar pairs at least `margin` apart."
    formula = "1/2 [y d^2 + (1 - y) max(0, margin - d)^2], d = |x1 - x2|"
    formula_latex = r"\tfrac12\left[y d^2 + (1-y)\max(0, m - d)^2\right]"
    gradient_formula = "y (x1 - x2) - (1 - y) max(0, m - d) (x1 - x2) / d  (w.r.t. x1)"
    gradient_latex = r"y\,\delta - (1-y)\max(0,m-d)\,\delta/d"
    hessian_kind = "diagonal"
    convex = "no (the dissimilar term is not convex)"
    nondifferentiable = "at d = 0 for dissimilar pairs; the subgradient 0 is used"
    outlier_sensitivity = "high for similar pairs far apart (quadratic)"
    convention = "Hadsell, Chopra, LeCun 2006 with the 1/2 factor; y = 1 means similar"
    references = ("Hadsell, Chopra, LeCun, Dimensionality reduction by learning an invariant "
                  "mapping, CVPR 2006",)

    def probe(self):
        d = np.linspace(0.01, 3, 200)

        def mk(x, y):
            return (np.zeros((len(x), 2)), np.column_stack([x, np.zeros_like(x)]),
                    np.full(len(x), y))

        def tan(x):
            return np.zeros((len(x), 2)), np.column_stack([np.ones_like(x), np.zeros_like(x)])
        return Probe("distance between x1 and x2", [
            ProbeCurve(lbl, d, lambda x, y=y: mk(x, y), tan)
            for lbl, y in (("similar (y = 1)", 1.0), ("dissimilar (y = 0)", 0.0))])

    def __init__(self, *, margin=1.0, check_finite=True):
        super().__init__(check_finite=check_finite)
        self.margin = V.check_scalar(margin, "margin", gt=0, le=1e150, why=(
            "the loss squares (margin - distance), which overflows beyond it"))

    def _input_domains(self):
        return {"y": _01}

    def sample_inputs(self, rng, n=8):
        x1 = rng.normal(size=(n, 3))
        x2 = x1 + rng.normal(0, 0.4, size=(n, 3))
        return x1, x2, rng.integers(0, 2, size=n).astype(float)

    def _kernel(self, xp, inputs, order):
        x1, x2, y = inputs
        delta = x1 - x2
        nd, k = M.scaled_norm(xp, delta)  # |delta| = k nd without squaring huge entries
        d = k * nd
        yk = y[:, None]
        slack = xp.maximum(self.margin - d, 0.0)
        value = (0.5 * (yk * d * d + (1.0 - yk) * slack * slack))[:, 0]
        grads = hess = None
        if order >= 1:
            d_safe = xp.where(d > 0, d, 1.0)
            push = (1.0 - yk) * xp.where(d > 0, slack / d_safe, 0.0)  # 0 at d = 0
            g1 = yk * delta - push * delta
            grads = (g1, -g1)
            if order >= 2:
                on = (1.0 - yk) * xp.astype((slack > 0) & (d > 0), x1.dtype)
                r = delta / d_safe
                u2 = r * r
                h = yk + on * (u2 - slack / d_safe + slack * u2 / d_safe)
                hess = (h, h + 0.0)
        return value, grads, hess


def _pnorm_terms(xp, v, p, order):
    """|v|_p over the last axis with its gradient and hessian diagonal, for any p >= 1 (odd p
    included: |v_i|, never v_i**p). Where the norm is 0 the derivatives are taken as 0."""
    # Computed on v' = v / k, k = max(1, max|v|) (``row_scale``): |v|_p = k |v'|_p never
    # overflows in the powers; the gradient is scale-free and the hessian carries 1/k.
    k = M.row_scale(xp, v)
    v = M.unscale(v, k)
    a = xp.abs(v)
    if p == 2:  # closed forms for the common norms: no general powers
        norm = xp.sqrt(_dot(xp, v, v))
    elif p == 1:
        norm = M.trailing_sum(xp, a)
    else:
        norm = M.trailing_sum(xp, a ** p) ** (1.0 / p)
    out = [(k * norm)[..., 0]]
    if order >= 1:
        safe = xp.where(norm > 0, norm, 1.0)
        live = xp.astype(norm > 0, v.dtype)
        if p == 2:
            out.append(live * v / safe)
        elif p == 1:
            out.append(live * xp.sign(v))
        else:
            r = a / safe  # |v_i| / |v|_p in [0, 1]
            out.append(live * xp.sign(v) * r ** (p - 1))
        if order >= 2 and p == 2:
            out.append(M.unscale(live * (1.0 - v * v / (safe * safe)) / safe, k))
        elif order >= 2:
            r = a / safe
            # (p - 1) (|v_i|^(p-2) |v|^(1-p) - |v_i|^(2p-2) |v|^(1-2p)), written with r
            if p == 1:
                out.append(xp.zeros_like(v))
            else:
                r_safe = xp.where(a > 0, r, 1.0)
                term = xp.where(a > 0, r_safe ** (p - 2), 0.0 if p > 2 else 1.0)
                out.append(M.unscale(live * (p - 1) * (term - r ** (2 * p - 2)) / safe, k))
    return out


@register
class Triplet(MultiInputLoss):
    """torch ``triplet_margin_loss``: ``max(0, d(a, p) - d(a, n) + margin)`` with
    ``d(x, y) = |x - y + eps|_p`` (torch's pairwise_distance adds eps to the difference).
    ``swap=True`` uses ``min(d(a, n), d(p, n))`` as the negative distance (Balntas et al. 2016).

    The p-norm's gradient is ``sign(v) |v|**(p-1) / |v|_p**(p-1)``, correct for every p >= 1
    (implementations that write ``v**p`` are wrong for odd p). The subgradient 0 is used where the
    loss is at its hinge.
    """

    name = "triplet"
    controls = {"margin": Control(0.1, 3.0, 0.1, shown=(0.5, 1.0, 2.0))}
    estimates = "embeddings whose distances order triplets"
    verify_settings = ({},
                       {"p": 1.0},
                       {"p": 3.0},
                       {"swap": True},
                       {"p": 1.5, "margin": 0.5, "swap": True})
    torch_reference = "F.triplet_margin_loss"
    aliases = ("triplet_margin",)
    task = "embedding"
    inputs = ("anchor", "positive", "negative")
    differentiable = ("anchor", "positive", "negative")
    summary = "Anchor closer to the positive than to the negative, by a margin."
    formula = "max(0, |a - p + eps|_p - |a - n + eps|_p + margin)"
    formula_latex = r"\max(0, \|a-p+\epsilon\|_p - \|a-n+\epsilon\|_p + m)"
    gradient_formula = "grad|v|_p = sign(v) |v|^(p-1) / |v|_p^(p-1), chained through each distance"
    gradient_latex = r"\nabla\|v\|_p = \operatorname{sign}(v)\,|v|^{p-1}/\|v\|_p^{p-1}"
    activation = "identity (the inputs are embeddings)"
    hessian_kind = "diagonal"
    convex = "no"
    nondifferentiable = "at the hinge (loss exactly 0) and where a distance is 0; subgradient 0"
    outlier_sensitivity = "medium: linear in the distances"
    convention = "torch triplet_margin_loss (eps added to the difference, swap as Balntas et al.)"
    references = ("Schroff, Kalenichenko, Philbin, FaceNet, CVPR 2015, arXiv:1503.03832",
                  "Balntas et al., Learning local feature descriptors with triplets, BMVC 2016")

    def probe(self):
        d = np.linspace(0.01, 3, 200)

        def mk(x):
            return (np.zeros((len(x), 2)), np.tile([1.0, 0.0], (len(x), 1)),
                    np.column_stack([np.zeros_like(x), x]))

        def tan(x):
            return (np.zeros((len(x), 2)), np.zeros((len(x), 2)),
                    np.column_stack([np.zeros_like(x), np.ones_like(x)]))
        return Probe("distance anchor-negative (anchor-positive = 1)",
                     [ProbeCurve("", d, mk, tan)])

    def __init__(self, *, margin=1.0, p=2.0, eps=1e-6, swap=False, check_finite=True):
        super().__init__(check_finite=check_finite)
        self.margin = V.check_scalar(margin, "margin", gt=0, le=1e150, why=(
            "beyond it margin + distance overflows for distances the inputs can have"))
        self.p = V.check_scalar(p, "p", ge=1, le=100, why=(
            "the p-norm raises each difference to the power p, which overflows or underflows "
            "beyond it (torch's pairwise_distance gives inf or 0 there too)"))
        self.eps = V.check_scalar(eps, "eps", ge=0)
        self.swap = V.check_bool(swap, "swap")

    def _check_shapes(self, arrays):
        super()._check_shapes(arrays)
        if arrays[0].ndim != 2:
            raise ValueError(f"anchor must have shape (n_samples, n_features), got {tuple(arrays[0].shape)}")

    def sample_inputs(self, rng, n=8):
        """Rows kept away from every kink: components of a - p, a - n, p - n at least 0.1 from 0
        (the p-norm's kink for p = 1, its steep hessian for p < 2), the hinge (|z| >= 0.05), and
        with swap the switch between d(a, n) and d(p, n) (at least 0.05 apart)."""
        def dist(v):
            return (np.abs(v + self.eps) ** self.p).sum(axis=1) ** (1 / self.p)

        rows = []
        while sum(len(r[0]) for r in rows) < n:
            a = rng.normal(size=(4 * n, 3))
            d1, d2 = rng.normal(0, 0.6, size=(4 * n, 3)), rng.normal(0, 0.9, size=(4 * n, 3))
            pos, neg = a - d1, a - d2
            d_an, d_pn = dist(a - neg), dist(pos - neg)
            d_neg = np.minimum(d_an, d_pn) if self.swap else d_an
            ok = ((np.abs(d1) >= 0.1) & (np.abs(d2) >= 0.1) & (np.abs(d2 - d1) >= 0.1)).all(axis=1)
            ok &= np.abs(dist(a - pos) - d_neg + self.margin) >= 0.05
            if self.swap:
                ok &= np.abs(d_an - d_pn) >= 0.05
            rows.append((a[ok], pos[ok], neg[ok]))
        return tuple(np.concatenate([r[i] for r in rows])[:n] for i in range(3))

    def _kernel(self, xp, inputs, order):
        a, pos, neg = inputs
        p = self.p
        ap = _pnorm_terms(xp, a - pos + self.eps, p, order)
        an = _pnorm_terms(xp, a - neg + self.eps, p, order)
        d_neg = an[0]
        use_pn = None
        if self.swap:
            pn = _pnorm_terms(xp, pos - neg + self.eps, p, order)
            use_pn = xp.astype(pn[0] < an[0], a.dtype)
            d_neg = xp.minimum(an[0], pn[0])
        z = ap[0] - d_neg + self.margin
        value = xp.maximum(z, 0.0)
        grads = hess = None
        if order >= 1:
            on = xp.astype(z > 0, a.dtype)[:, None]
            if use_pn is None:
                grads = (on * (ap[1] - an[1]), -on * ap[1], on * an[1])
            else:
                k = use_pn[:, None]
                grads = (on * (ap[1] - (1 - k) * an[1]),
                         on * (-ap[1] - k * pn[1]),
                         on * ((1 - k) * an[1] + k * pn[1]))
            if order >= 2:
                if use_pn is None:
                    hess = (on * (ap[2] - an[2]), on * ap[2], -on * an[2])
                else:
                    hess = (on * (ap[2] - (1 - k) * an[2]),
                            on * (ap[2] - k * pn[2]),
                            -on * ((1 - k) * an[2] + k * pn[2]))
        return value, grads, hess


@register
class MarginRanking(MultiInputLoss):
    """torch ``margin_ranking_loss``: ``max(0, -y (x1 - x2) + margin)``, elementwise, with
    y = +1 when x1 should rank higher. Gradient ``-+y`` where active (subgradient 0 at the hinge);
    hessian 0."""

    name = "margin_ranking"
    controls = {"margin": Control(0.0, 2.0, 0.1)}
    estimates = "scores that order pairs"
    verify_settings = ({}, {"margin": 0.5})
    torch_reference = "F.margin_ranking_loss"
    aliases = ("ranking_hinge",)
    task = "ranking"
    inputs = ("x1", "x2", "y")
    differentiable = ("x1", "x2")
    summary = "Hinge on score differences: x1 should beat x2 by a margin when y = +1."
    formula = "max(0, -y (x1 - x2) + margin)"
    formula_latex = r"\max(0, -y(x_1-x_2)+m)"
    gradient_formula = "(-y, +y) where -y (x1 - x2) + margin > 0, else 0"
    gradient_latex = r"(-y, y)\,[-y(x_1-x_2)+m>0]"
    activation = "identity (raw scores)"
    nondifferentiable = "at the hinge; the subgradient 0 is used"
    outlier_sensitivity = "medium: linear"
    convention = "torch margin_ranking_loss"
    references = ("Herbrich, Graepel, Obermayer, Large margin rank boundaries for ordinal "
                  "regression (2000)",)

    def probe(self):
        s = np.linspace(-3, 3, 241)

        def mk(x, y):
            return x, np.zeros_like(x), np.full(len(x), y)

        def tan(x):
            return np.ones_like(x), np.zeros_like(x)
        return Probe("score difference x1 - x2", [
            ProbeCurve(f"y = {y:+g}", s, lambda x, y=y: mk(x, y), tan) for y in (1, -1)])

    def __init__(self, *, margin=0.0, check_finite=True):
        super().__init__(check_finite=check_finite)
        self.margin = V.check_scalar(margin, "margin")

    def _input_domains(self):
        return {"y": _PM1}

    def _value_shape(self, arrays):
        return tuple(arrays[0].shape)

    def sample_inputs(self, rng, n=8):
        x1, x2 = rng.normal(size=n), rng.normal(size=n)
        y = rng.choice([-1.0, 1.0], size=n)
        z = -y * (x1 - x2) + self.margin
        x1 = x1 + 0.1 * (abs(z) < 0.05) * -y  # keep away from the hinge
        return x1, x2, y

    def _kernel(self, xp, inputs, order):
        x1, x2, y = inputs
        z = -y * (x1 - x2) + self.margin
        value = xp.maximum(z, 0.0)
        grads = hess = None
        if order >= 1:
            on = xp.astype(z > 0, x1.dtype)
            grads = (-y * on, y * on)
            if order >= 2:
                hess = (xp.zeros_like(x1), xp.zeros_like(x2))
        return value, grads, hess


@register
class NTXent(MultiInputLoss):
    """NT-Xent (normalised temperature-scaled cross-entropy), optax ``ntxent``.

    Inputs: ``embeddings`` (N, D) and integer ``labels`` (N,) naming groups of positives. With
    ``z_i = e_i / max(|e_i|, eps)`` (eps the dtype's machine epsilon, as optax) and
    ``s_ij = <z_i, z_j> / temperature``, each positive pair (i, j), i != j, costs
    ``l_ij = -s_ij + log(exp(s_ij) + sum_{k in neg(i)} exp(s_ik))``. The unreduced value is one
    per anchor: the mean of l_ij over its positives; anchors without a positive do not count (they
    leave the mean's denominator). optax averages over all positive pairs, which is the same
    number when every sample has the same number of positives (SimCLR's two views).

    Every sample's value depends on every embedding, so ``gradient`` returns the derivative of
    sum_i c_i l_i (c: the reduction's weights), also for ``reduction="none"``. No hessian is
    provided (``info.hessian == "none"``).
    """

    name = "ntxent"
    controls = {"temperature": Control(0.05, 1.0, 0.05, shown=(0.1, 0.5, 1.0))}
    estimates = "embeddings that pick the positive among the batch"
    verify_settings = ({}, {"temperature": 0.5}, {"temperature": 2.0})
    torch_reference = "formula (optax, per anchor)"
    aliases = ("nt_xent", "simclr")
    task = "embedding"
    inputs = ("embeddings", "labels")
    differentiable = ("embeddings",)
    integer_inputs = ("labels",)
    coupled = True
    hessian_kind = "none"
    summary = "Contrastive cross-entropy over cosine similarities: each positive against all negatives."
    formula = "mean_{j in pos(i)} [-s_ij + log(exp(s_ij) + sum_{k in neg(i)} exp(s_ik))], s = cos / T"
    formula_latex = (r"\frac{1}{|P_i|}\sum_{j\in P_i}\Big[-s_{ij} + \log\big(e^{s_{ij}} + "
                     r"\sum_{k\in N_i} e^{s_{ik}}\big)\Big]")
    gradient_formula = "through s = Z Z^T / T: dL/dZ = (G + G^T) Z / T, then the normalisation"
    gradient_latex = r"\frac{\partial L}{\partial Z} = (G + G^\top) Z / T"
    activation = "identity (the inputs are embeddings; they are normalised inside)"
    convex = "no"
    outlier_sensitivity = "n/a (bounded similarities)"
    convention = ("optax ntxent (eps = machine epsilon); per-anchor mean over positives, equal to "
                  "optax when every sample has the same number of positives")
    references = ("Chen, Kornblith, Norouzi, Hinton, A Simple Framework for Contrastive Learning "
                  "of Visual Representations, ICML 2020, arXiv:2002.05709",)

    def probe(self):
        """Along the angle within a positive pair of a batch of four unit embeddings (the
        value is the batch's sum, so each point is one evaluation)."""
        def evaluate(loss, t):
            vals, slopes = [], []
            for th in t:
                E = np.array([[1.0, 0.0, 0.0], [np.cos(th), np.sin(th), 0.0], [0.0, 0.0, 1.0],
                              [0.0, 0.2, 0.98]])
                v, g = loss.value_and_gradient(E, np.array([0, 0, 1, 1]), reduction="sum")
                vals.append(float(v))
                slopes.append(float(g[0][1] @ np.array([-np.sin(th), np.cos(th), 0.0])))
            return np.array(vals), np.array(slopes)
        return Probe("angle within the positive pair", [
            ProbeCurve("sum over the batch", np.linspace(0.0, np.pi, 91), affine=False,
                       evaluate=evaluate)])

    def __init__(self, *, temperature=0.07, check_finite=True):
        super().__init__(check_finite=check_finite)
        self.temperature = V.check_scalar(temperature, "temperature", gt=0)

    def _check_shapes(self, arrays):
        e, labels = arrays
        if e.ndim != 2:
            raise ValueError(f"embeddings must have shape (n_samples, n_features), got {tuple(e.shape)}")
        if tuple(labels.shape) != (e.shape[0],):
            raise ValueError("labels must hold one group label per embedding; "
                             f"got labels {tuple(labels.shape)} and embeddings {tuple(e.shape)}")

    def _masks(self, xp, labels, dtype):
        same = labels[:, None] == labels[None, :]
        n = labels.shape[0]
        eye = xp.arange(n)[:, None] == xp.arange(n)[None, :]
        return xp.astype(same & ~eye, dtype), xp.astype(~same, dtype)

    def _sample_mask(self, xp, arrays):
        labels = arrays[1]
        pos, _ = self._masks(xp, labels, xp.float64 if xp.isdtype(labels.dtype, "integral") else labels.dtype)
        return xp.sum(pos, axis=1) > 0  # anchors with at least one positive

    def sample_inputs(self, rng, n=8):
        n = max(n, 4) // 2 * 2
        return rng.normal(size=(n, 3)), np.repeat(np.arange(n // 2), 2)

    def _kernel(self, xp, inputs, order):
        e, labels, c = inputs  # c: the reduction's per-sample coefficients (coupled)
        t = self.temperature
        eps = float(xp.finfo(e.dtype).eps)
        pos, neg = self._masks(xp, labels, e.dtype)
        norm_raw = xp.sqrt(xp.sum(e * e, axis=1, keepdims=True))
        norm = xp.maximum(norm_raw, eps)
        z = e / norm
        s = (z @ z.T) / t
        # shift each anchor's row by its largest score over positives and negatives
        usable = (pos + neg) > 0
        m = xp.max(xp.where(usable, s, -xp.inf), axis=1, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0.0)
        ex = xp.exp(xp.where(usable, s - m, -xp.inf))  # 0 where neither positive nor negative
        neg_sum = xp.sum(ex * neg, axis=1, keepdims=True)
        den = neg_sum + ex  # per pair (i, j): exp(s_ij - m_i) + sum over negatives
        den_safe = xp.where(pos > 0, den, 1.0)
        pair = pos * (-(s - m) + xp.log(den_safe))  # l_ij, 0 off the positives
        n_pos = xp.sum(pos, axis=1)
        n_pos_safe = xp.where(n_pos > 0, n_pos, 1.0)
        value = xp.sum(pair, axis=1) / n_pos_safe
        grads = None
        if order >= 1:
            a = (c / n_pos_safe)[:, None]  # dL/dl_ij for each pair of anchor i
            inv = pos / den_safe  # 1 / den_ij on the positives
            g = a * pos * (ex / den_safe - 1.0)  # dL/ds_ij, j positive
            g = g + a * neg * ex * xp.sum(inv, axis=1, keepdims=True)  # dL/ds_ik, k negative
            dz = (g + g.T) @ z / t
            live = xp.astype(norm_raw > eps, e.dtype)  # below eps the norm is a constant
            de = (dz - live * xp.sum(dz * z, axis=1, keepdims=True) * z) / norm
            grads = (de,)
        return value, grads, None
