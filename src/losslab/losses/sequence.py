"""Sequence losses: connectionist temporal classification (CTC)."""

from __future__ import annotations

import numpy as np

from .._core import MultiInputLoss, Probe, ProbeCurve, register, validation as V, arrays as A



@register
class CTC(MultiInputLoss):
    """Connectionist temporal classification, torch ``ctc_loss``.

    Inputs: ``log_probs`` (T, N, C) log-probabilities (time first, as torch), ``targets`` (N, S)
    padded or 1-D concatenated class indices (never ``blank``), ``input_lengths`` (N,) and
    ``target_lengths`` (N,). The unreduced value is ``-log p(target_n | x_n)`` per sample,
    summed over all alignments by the forward recursion in log space; the backward recursion
    gives each label's occupancy gamma, and the gradient is the exact partial derivative with
    respect to ``log_probs`` as passed: ``-sum_{s: l'_s = c} gamma_t(s)``, 0 past a sample's
    input length.

    PyTorch's ``ctc_loss`` returns instead the gradient with respect to the logits of a
    log-softmax (``exp(log_probs) - occupancy``); the two agree after the softmax Jacobian
    (``g - exp(log_probs) * sum_c g``), which the tests check.

    Impossible alignments (input too short for the target): value +inf, as torch, or 0 with
    ``zero_infinity=True``; their gradient is 0 (torch's is NaN without zero_infinity).
    ``"mean"`` is the mean over samples (torch's ``"mean"`` first divides each loss by its
    target length). No hessian is provided (``info.hessian == "none"``).
    """

    name = "ctc"
    estimates = "the probability of the target sequence over all alignments"
    verify_settings = ({}, {"zero_infinity": True})
    torch_reference = "forward recursion in torch ops"
    aliases = ("connectionist_temporal_classification",)
    task = "sequence"
    inputs = ("log_probs", "targets", "input_lengths", "target_lengths")
    differentiable = ("log_probs",)
    integer_inputs = ("targets", "input_lengths", "target_lengths")
    batch_axes = (1, 0, 0, 0)
    hessian_kind = "none"
    summary = "Negative log-likelihood of a label sequence, summed over all its alignments."
    formula = "-log sum_{alignments pi -> l} prod_t y_t(pi_t)"
    formula_latex = r"-\log\sum_{\pi\in\mathcal B^{-1}(l)}\prod_t y^t_{\pi_t}"
    gradient_formula = "-sum_{s: l'_s = c} exp(alpha_t(s) + beta_t(s) - lp_t(l'_s) - log p)"
    gradient_latex = r"-\sum_{s:l'_s=c}\frac{\alpha_t(s)\beta_t(s)}{y^t_c\,p(l|x)}"
    activation = "log_softmax over the classes (log_probs are log-probabilities)"
    convex = "no"
    nondifferentiable = "nowhere where the alignment is possible"
    outlier_sensitivity = "n/a"
    noise_model = "the CTC alignment model"
    convention = ("torch ctc_loss (time-first, blank=0); exact gradient w.r.t. log_probs; mean over "
                  "samples, not divided by target lengths")
    references = ("Graves, Fernandez, Gomez, Schmidhuber, Connectionist temporal classification, "
                  "ICML 2006",)

    def probe(self):
        p = np.linspace(0.02, 0.98, 193)

        def mk(x):
            n = len(x)
            lp = np.stack([np.log1p(-x), np.log(x)], axis=1)[None]  # (T=1, N, C=2)
            one = np.ones(n, dtype=np.int64)
            return lp, np.ones((n, 1), dtype=np.int64), one, one

        def tan(x):
            return (np.stack([-1 / (1 - x), 1 / x], axis=1)[None],)
        return Probe("probability of the target symbol (one step)",
                     [ProbeCurve("", p, mk, tan, affine=False)])

    def __init__(self, *, blank=0, zero_infinity=False, check_finite=True):
        super().__init__(check_finite=check_finite)
        self.blank = V.check_scalar(blank, "blank", integer=True, ge=0)
        self.zero_infinity = V.check_bool(zero_infinity, "zero_infinity")

    def _input_domains(self):
        return {"log_probs": V.Interval(None, 0.0, note="log-probabilities")}

    def _check_shapes(self, arrays):
        lp, targets, in_len, tg_len = arrays
        if lp.ndim != 3:
            raise ValueError(f"log_probs must have shape (T, N, C), got {tuple(lp.shape)}")
        t_max, n, c = lp.shape
        for name, a in (("input_lengths", in_len), ("target_lengths", tg_len)):
            if tuple(a.shape) != (n,):
                raise ValueError(f"{name} must have shape (N,) = ({n},), got {tuple(a.shape)}")
        if not (targets.ndim == 2 and targets.shape[0] == n) and targets.ndim != 1:
            raise ValueError(f"targets must be (N, S) padded or 1-D concatenated, got {tuple(targets.shape)}")
        il = A.host(in_len)
        n_bad = int(np.count_nonzero((il < 1) | (il > t_max)))
        if n_bad:
            raise ValueError(f"input_lengths must be in [1, {t_max}]; {n_bad} of {n} values are not")
        tl = A.host(tg_len)
        limit = targets.shape[1] if targets.ndim == 2 else targets.shape[0]
        n_bad = int(np.count_nonzero((tl < 0) | (tl > limit)))
        if n_bad:
            raise ValueError(f"target_lengths must be in [0, {limit}]; {n_bad} of {n} values are not")
        if targets.ndim == 1 and int(tl.sum()) != targets.shape[0]:
            raise ValueError(f"concatenated targets must hold sum(target_lengths) = {int(tl.sum())} "
                             f"labels, got {targets.shape[0]}")
        if not 0 <= self.blank < c:
            raise ValueError(f"blank={self.blank} is not a class of log_probs with {c} classes")

    def _standardise(self, xp, arrays):
        """Targets as a padded (N, S) NumPy array of labels, checked against blank and C."""
        lp, targets, in_len, tg_len = arrays
        t_np, tl = A.host(targets), A.host(tg_len)
        if t_np.ndim == 1:
            padded = np.full((tl.shape[0], max(1, int(tl.max(initial=0)))), self.blank, dtype=np.int64)
            offsets = np.concatenate([[0], np.cumsum(tl)])
            for i in range(tl.shape[0]):  # per sample, only to lay out the labels
                padded[i, :tl[i]] = t_np[offsets[i]:offsets[i + 1]]
            t_np = padded
        used = np.arange(t_np.shape[1])[None, :] < tl[:, None]
        c = lp.shape[2]
        n_bad = int(np.count_nonzero(used & ((t_np < 0) | (t_np >= c) | (t_np == self.blank))))
        if n_bad:
            raise ValueError(f"targets must be class indices in [0, {c}) other than blank={self.blank}; "
                             f"{n_bad} of {int(used.sum())} labels are not")
        return [lp, t_np, A.host(in_len), tl]

    def sample_inputs(self, rng, n=8):
        n = min(n, 6)
        t_max, c = 10, 5
        x = rng.normal(0, 1.0, size=(t_max, n, c))
        lp = x - np.log(np.exp(x).sum(axis=2, keepdims=True))
        tl = rng.integers(1, 4, size=n)
        targets = rng.integers(1, c, size=(n, 3))
        in_len = rng.integers(2 * tl.max() + 1, t_max + 1, size=n)
        return lp, targets, in_len, tl

    def _kernel(self, xp, inputs, order):
        lp, targets, in_len, tl = inputs
        lp_np = A.host(lp).astype(np.float64)
        value, grad = _ctc(lp_np, targets, in_len, tl, self.blank, order >= 1)
        impossible = ~np.isfinite(value)
        if self.zero_infinity:
            value = np.where(impossible, 0.0, value)
        dtype = lp.dtype
        if xp is np:
            return value.astype(dtype), (None if grad is None else (grad.astype(dtype),)), None
        import array_api_compat

        dev = array_api_compat.device(lp)
        back = xp.asarray(value, dtype=dtype, device=dev)
        return back, (None if grad is None else (xp.asarray(grad, dtype=dtype, device=dev),)), None


def _lse3(a, b, c):
    return np.logaddexp(np.logaddexp(a, b), c)


def _ctc(lp, targets, in_len, tl, blank, want_grad):
    """Forward-backward in log space, vectorised over the batch; the loop runs over time."""
    t_max, n, c = lp.shape
    s_max = targets.shape[1]
    length = 2 * s_max + 1
    ext = np.full((n, length), blank, dtype=np.int64)  # l': blank, l1, blank, l2, ..., blank
    ext[:, 1::2] = targets
    ext_len = 2 * tl + 1
    valid = np.arange(length)[None, :] < ext_len[:, None]
    skip = np.zeros((n, length), dtype=bool)  # s -> s + 2 across a blank, between different labels
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    rows = np.arange(n)[:, None]
    emit = lp[:, rows, ext]  # (T, N, L): log y_t(l'_s)
    neg = -np.inf
    alpha = np.full((t_max, n, length), neg)
    alpha[0, :, 0] = emit[0, :, 0]
    alpha[0, :, 1] = np.where(tl > 0, emit[0, :, 1], neg)
    alpha[0] = np.where(valid, alpha[0], neg)
    with np.errstate(invalid="ignore"):
        for t in range(1, t_max):
            prev = alpha[t - 1]
            one = np.concatenate([np.full((n, 1), neg), prev[:, :-1]], axis=1)
            two = np.where(skip, np.concatenate([np.full((n, 2), neg), prev[:, :-2]], axis=1), neg)
            step = np.where(valid, emit[t] + _lse3(prev, one, two), neg)
            alpha[t] = np.where((t < in_len)[:, None], step, prev)
        last = in_len - 1
        a_end = alpha[last, np.arange(n)]  # (N, L) at each sample's last frame
        end1 = a_end[np.arange(n), ext_len - 1]
        end2 = np.where(ext_len >= 2, a_end[np.arange(n), np.maximum(ext_len - 2, 0)], neg)
        log_p = np.logaddexp(end1, end2)
    value = -log_p
    if not want_grad:
        return value, None
    beta = np.full((t_max, n, length), neg)
    cols = np.arange(length)[None, :]
    init = np.where((cols == ext_len[:, None] - 1) | (cols == ext_len[:, None] - 2), 1.0, 0.0) > 0
    with np.errstate(invalid="ignore"):
        for t in range(t_max - 1, -1, -1):
            if t + 1 < t_max:
                nxt = beta[t + 1]
                one = np.concatenate([nxt[:, 1:], np.full((n, 1), neg)], axis=1)
                skip_next = np.concatenate([skip[:, 2:], np.zeros((n, 2), dtype=bool)], axis=1)
                two = np.where(skip_next, np.concatenate([nxt[:, 2:], np.full((n, 2), neg)], axis=1), neg)
                rec = emit[t] + _lse3(nxt, one, two)
            else:
                rec = np.full((n, length), neg)
            start = np.where(init & valid, emit[t], neg)
            here = np.where((t == last)[:, None], start, np.where((t < last)[:, None], rec, neg))
            beta[t] = np.where(valid, here, neg)
        possible = np.isfinite(log_p)
        log_gamma = alpha + beta - emit - np.where(possible, log_p, 0.0)[None, :, None]
        gamma = np.where(np.isfinite(log_gamma) & possible[None, :, None], np.exp(log_gamma), 0.0)
    frames = (np.arange(t_max)[:, None] < in_len[None, :])[:, :, None]
    gamma = gamma * frames
    onehot = (ext[:, :, None] == np.arange(c)[None, None, :]).astype(np.float64)  # (N, L, C)
    grad = -np.einsum("tnl,nlc->tnc", gamma, onehot)
    return value, grad
