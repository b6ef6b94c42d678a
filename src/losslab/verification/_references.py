"""PyTorch oracles, one per registered loss, and the hyperparameter settings each is checked at.

Each oracle takes ``(torch, loss, *inputs, reduction)`` with float64 tensors (the differentiable
inputs require grad) and returns the value that losslab's ``loss(y_true, y_pred, reduction=...)`` must
equal. Where PyTorch has the loss built in, the oracle calls it, with torch's own reduction
wherever torch's meaning coincides with losslab's; where it has none (or for a mode it lacks),
the oracle writes the reference formula in torch ops, and autograd differentiates it. The loss's
``torch_reference`` names which, for the verification table; its ``verify_settings`` list the
hyperparameters it is checked at.
"""

from __future__ import annotations

from .._core import loss_class

_ORACLES: dict[type, object] = {}


def _oracle(name):
    """Decorator: the PyTorch oracle of the registered loss ``name``, kept with its class (the
    registry's entry); the class itself declares the settings (``verify_settings``) and what the
    oracle is (``torch_reference``)."""

    def enrol(fn):
        _ORACLES[loss_class(name)] = fn
        return fn

    return enrol


def oracle_for(loss):
    """The oracle of a loss (an instance or a class), or None where it has none."""
    cls = loss if isinstance(loss, type) else type(loss)
    return _ORACLES.get(cls)


def _mean_or(torch, per_sample, reduction):
    """losslab's reduction of a per-sample torch tensor (used only where torch has no built-in)."""
    if reduction == "none":
        return per_sample
    return per_sample.sum() if reduction == "sum" else per_sample.mean()


def _pm1(torch, y):
    return torch.where(y == 0, -torch.ones_like(y), y)


def _vec(torch, arr):
    return None if arr is None else torch.tensor(arr, dtype=torch.float64)


@_oracle("mse")
def _mse(torch, loss, yt, yp, r):
    return torch.nn.functional.mse_loss(yp, yt, reduction=r)


@_oracle("mae")
def _mae(torch, loss, yt, yp, r):
    return torch.nn.functional.l1_loss(yp, yt, reduction=r)


@_oracle("huber")
def _huber(torch, loss, yt, yp, r):
    return torch.nn.functional.huber_loss(yp, yt, reduction=r, delta=loss.delta)


@_oracle("smooth_l1")
def _smooth_l1(torch, loss, yt, yp, r):
    return torch.nn.functional.smooth_l1_loss(yp, yt, reduction=r, beta=loss.beta)


@_oracle("log_cosh")
def _log_cosh(torch, loss, yt, yp, r):
    return _mean_or(torch, torch.log(torch.cosh(yp - yt)), r)


@_oracle("quantile")
def _quantile(torch, loss, yt, yp, r):
    d, q = yt - yp, loss.quantile
    return _mean_or(torch, torch.maximum(q * d, (q - 1.0) * d), r)


@_oracle("msle")
def _msle(torch, loss, yt, yp, r):
    return _mean_or(torch, (torch.log1p(yp) - torch.log1p(yt)) ** 2, r)


@_oracle("mape")
def _mape(torch, loss, yt, yp, r):
    return _mean_or(torch, 100.0 * (yp - yt).abs() / yt.abs().clamp(min=loss.eps), r)


@_oracle("poisson_nll")
def _poisson_nll(torch, loss, yt, yp, r):
    return torch.nn.functional.poisson_nll_loss(
        yp, yt, log_input=loss.log_input, full=loss.full, eps=loss.eps, reduction=r)


@_oracle("pseudo_huber")
def _pseudo_huber(torch, loss, yt, yp, r):
    d = loss.delta
    return _mean_or(torch, d * d * (torch.sqrt(1 + ((yp - yt) / d) ** 2) - 1), r)


@_oracle("cauchy")
def _cauchy(torch, loss, yt, yp, r):
    return _mean_or(torch, torch.log(1 + 0.5 * ((yp - yt) / loss.c) ** 2), r)


@_oracle("geman_mcclure")
def _geman_mcclure(torch, loss, yt, yp, r):
    z = ((yp - yt) / loss.c) ** 2
    return _mean_or(torch, 2 * z / (z + 4), r)


@_oracle("welsch")
def _welsch(torch, loss, yt, yp, r):
    return _mean_or(torch, 1 - torch.exp(-0.5 * ((yp - yt) / loss.c) ** 2), r)


@_oracle("expectile")
def _expectile(torch, loss, yt, yp, r):
    w = torch.where(yt > yp, torch.full_like(yt, loss.tau), torch.full_like(yt, 1 - loss.tau))
    return _mean_or(torch, w * (yp - yt) ** 2, r)


def _half_tweedie(torch, y, raw, p):
    mu = torch.exp(raw)
    if p == 1.0:
        return torch.special.xlogy(y, y) - y * raw - y + mu
    if p == 2.0:
        return torch.log(mu / y) + y / mu - 1
    return (torch.where(y > 0, y, torch.ones_like(y)) ** (2 - p) * (y > 0) / ((1 - p) * (2 - p))
            - y * mu ** (1 - p) / (1 - p) + mu ** (2 - p) / (2 - p))


@_oracle("tweedie")
def _tweedie(torch, loss, yt, yp, r):
    return _mean_or(torch, _half_tweedie(torch, yt, yp, float(loss.power)), r)


@_oracle("gamma")
def _gamma(torch, loss, yt, yp, r):
    return _mean_or(torch, _half_tweedie(torch, yt, yp, 2.0), r)


@_oracle("brier")
def _brier(torch, loss, yt, yp, r):
    p = torch.sigmoid(yp) if loss.from_logits else yp
    return _mean_or(torch, (p - yt) ** 2, r)


def _asym_weight(torch, loss, yt, yp):
    e = yp - yt
    return torch.where(e < 0, torch.full_like(e, loss.under), torch.full_like(e, loss.over))


@_oracle("asymmetric_mse")
def _asymmetric_mse(torch, loss, yt, yp, r):
    return _mean_or(torch, _asym_weight(torch, loss, yt, yp) * (yp - yt) ** 2, r)


@_oracle("asymmetric_huber")
def _asymmetric_huber(torch, loss, yt, yp, r):
    h = torch.nn.functional.huber_loss(yp, yt, reduction="none", delta=loss.delta)
    return _mean_or(torch, _asym_weight(torch, loss, yt, yp) * h, r)


@_oracle("bce")
def _bce(torch, loss, yt, yp, r):
    F = torch.nn.functional
    s = loss.label_smoothing
    y = yt * (1.0 - s) + 0.5 * s  # Keras-style smoothing of the targets
    pw = None if loss.pos_weight is None else torch.tensor(loss.pos_weight, dtype=torch.float64)
    if loss.from_logits:
        return F.binary_cross_entropy_with_logits(yp, y, pos_weight=pw, reduction=r)
    if pw is None:
        return F.binary_cross_entropy(yp, y, reduction=r)
    # pos_weight with probabilities: torch's logit form, differentiated through logit(p).
    return F.binary_cross_entropy_with_logits(torch.logit(yp), y, pos_weight=pw, reduction=r)


@_oracle("focal")
def _focal(torch, loss, yt, yp, r):
    F = torch.nn.functional
    if loss.from_logits:  # torchvision.ops.sigmoid_focal_loss, transcribed
        p = torch.sigmoid(yp)
        ce = F.binary_cross_entropy_with_logits(yp, yt, reduction="none")
        p_t = p * yt + (1 - p) * (1 - yt)
        out = ce * ((1 - p_t) ** loss.gamma)
    else:  # the course's FocalLoss (Lin et al. 2017), inputs inside (eps, 1 - eps)
        p_t = torch.where(yt == 1, yp, 1 - yp)
        out = -((1 - p_t) ** loss.gamma) * torch.log(p_t)
    if loss.alpha is not None:
        out = out * (loss.alpha * yt + (1 - loss.alpha) * (1 - yt))
    return _mean_or(torch, out, r)


@_oracle("hinge")
def _hinge(torch, loss, yt, yp, r):
    return _mean_or(torch, torch.clamp(1 - _pm1(torch, yt) * yp, min=0), r)


@_oracle("squared_hinge")
def _squared_hinge(torch, loss, yt, yp, r):
    return _mean_or(torch, torch.clamp(1 - _pm1(torch, yt) * yp, min=0) ** 2, r)


@_oracle("exponential")
def _exponential(torch, loss, yt, yp, r):
    return _mean_or(torch, torch.exp(-_pm1(torch, yt) * yp), r)


@_oracle("logistic")
def _logistic(torch, loss, yt, yp, r):
    return torch.nn.functional.soft_margin_loss(yp, _pm1(torch, yt), reduction=r)


@_oracle("cce")
def _cce(torch, loss, yt, yp, r):
    F = torch.nn.functional
    w = _vec(torch, loss.class_weight)
    if loss.from_logits:
        # torch's mean with probability targets divides by N, as losslab's does.
        return F.cross_entropy(yp, yt, weight=w, label_smoothing=loss.label_smoothing, reduction=r)
    s, c = loss.label_smoothing, yp.shape[-1]
    a = yt * (1 - s) + s / c
    if w is not None:
        a = a * w
    return _mean_or(torch, -(a * torch.log(yp)).sum(-1), r)


@_oracle("sparse_cce")
def _sparse_cce(torch, loss, yt, yp, r):
    F = torch.nn.functional
    w = _vec(torch, loss.class_weight)
    labels = yt.long()
    ignore = -100 if loss.ignore_index is None else loss.ignore_index
    logp = yp if loss.from_logits else torch.log(yp)
    # torch's "mean" with class weights divides by the summed weights of the targets; losslab's
    # divides by the number of (non-ignored) targets, so that case is reduced here from "none".
    # When every target is ignored torch's mean is 0/0 = NaN; losslab returns 0 (documented).
    all_ignored = bool((labels == ignore).all())
    native = r if ((w is None and not all_ignored) or r != "mean") else "none"
    if loss.from_logits:
        out = F.cross_entropy(logp, labels, weight=w, ignore_index=ignore,
                              label_smoothing=loss.label_smoothing, reduction=native)
    elif loss.label_smoothing == 0:
        out = F.nll_loss(logp, labels, weight=w, ignore_index=ignore, reduction=native)
    else:  # smoothing with probabilities: torch has no built-in, so the formula
        s, c = loss.label_smoothing, yp.shape[-1]
        kept = (labels != ignore).to(yp.dtype)[:, None]
        a = (F.one_hot(labels.clamp(0, c - 1), c) * (1 - s) + s / c) * kept
        out = -((a if w is None else a * w) * logp).sum(-1)
        native = "none"
    if native != r and r == "sum":
        out = out.sum()
    elif native != r:
        kept = (labels != ignore).sum()
        out = out.sum() / kept if kept > 0 else out.sum() * 0
    return out


@_oracle("categorical_focal")
def _categorical_focal(torch, loss, yt, yp, r):
    logp = torch.log_softmax(yp, -1) if loss.from_logits else torch.log(yp)
    p = logp.exp()
    alpha = 1.0 if loss.alpha is None else loss.alpha
    return _mean_or(torch, -(alpha * yt * (1 - p) ** loss.gamma * logp).sum(-1), r)


@_oracle("kl_div")
def _kl_div(torch, loss, yt, yp, r):
    logq = torch.log_softmax(yp, -1) if loss.from_logits else torch.log(yp)
    if r == "none":
        return torch.nn.functional.kl_div(logq, yt, reduction="none").sum(-1)
    return torch.nn.functional.kl_div(logq, yt, reduction="batchmean" if r == "mean" else "sum")


@_oracle("multi_margin")
def _multi_margin(torch, loss, yt, yp, r):
    return torch.nn.functional.multi_margin_loss(
        yp, yt.long(), p=loss.p, margin=loss.margin, weight=_vec(torch, loss.class_weight),
        reduction=r)


@_oracle("categorical_hinge")
def _categorical_hinge(torch, loss, yt, yp, r):
    pos = (yt * yp).sum(-1)
    neg = ((1 - yt) * yp).amax(-1)
    return _mean_or(torch, torch.clamp(neg - pos + 1, min=0), r)


@_oracle("poly1")
def _poly1(torch, loss, yt, yp, r):
    labels = yt.long()
    ce = torch.nn.functional.cross_entropy(yp, labels, reduction="none")
    p_t = torch.softmax(yp, -1).gather(-1, labels[:, None])[:, 0]
    return _mean_or(torch, ce + loss.epsilon * (1 - p_t), r)


@_oracle("multilabel_soft_margin")
def _multilabel_soft_margin(torch, loss, yt, yp, r):
    return torch.nn.functional.multilabel_soft_margin_loss(
        yp, yt, weight=_vec(torch, loss.class_weight), reduction=r)


def _overlap_sums(torch, loss, y, p):
    axes = tuple(range(1, p.ndim)) if loss.axis is None else loss.axis
    return axes, (lambda a: a.sum(dim=axes))


@_oracle("dice")
def _dice(torch, loss, yt, yp, r):
    _, s = _overlap_sums(torch, loss, yt, yp)
    c = loss.smooth + loss.eps
    return _mean_or(torch, 1 - (2 * s(yt * yp) + c) / (s(yt) + s(yp) + c), r)


@_oracle("tversky")
def _tversky(torch, loss, yt, yp, r):
    _, s = _overlap_sums(torch, loss, yt, yp)
    c = loss.smooth + loss.eps
    tp, fp, fn = s(yt * yp), s((1 - yt) * yp), s(yt * (1 - yp))
    return _mean_or(torch, 1 - (tp + c) / (tp + loss.alpha * fp + loss.beta * fn + c), r)


@_oracle("cosine_distance")
def _cosine_distance(torch, loss, yt, yp, r):  # optax's formula in torch ops
    u = yt / yt.norm(dim=-1, keepdim=True).clamp(min=loss.eps)
    v = yp / yp.norm(dim=-1, keepdim=True).clamp(min=loss.eps)
    return _mean_or(torch, 1 - (u * v).sum(-1), r)


@_oracle("cosine_embedding")
def _cosine_embedding(torch, loss, x1, x2, y, r):
    return torch.nn.functional.cosine_embedding_loss(x1, x2, y, margin=loss.margin, reduction=r)


@_oracle("contrastive")
def _contrastive(torch, loss, x1, x2, y, r):
    d = (x1 - x2).norm(dim=-1)
    return _mean_or(torch, 0.5 * (y * d ** 2 + (1 - y) * torch.clamp(loss.margin - d, min=0) ** 2), r)


@_oracle("triplet")
def _triplet(torch, loss, a, p, n, r):
    return torch.nn.functional.triplet_margin_loss(a, p, n, margin=loss.margin, p=loss.p,
                                                   eps=loss.eps, swap=loss.swap, reduction=r)


@_oracle("margin_ranking")
def _margin_ranking(torch, loss, x1, x2, y, r):
    return torch.nn.functional.margin_ranking_loss(x1, x2, y, margin=loss.margin, reduction=r)


@_oracle("gaussian_nll")
def _gaussian_nll(torch, loss, y, mean, var, r):
    return torch.nn.functional.gaussian_nll_loss(mean, y, var, full=loss.full, eps=loss.eps,
                                                 reduction=r)


@_oracle("ntxent")
def _ntxent(torch, loss, e, labels, r):
    """optax's ntxent in torch ops, kept per anchor (the mean over its positives)."""
    eps = torch.finfo(e.dtype).eps
    z = e / e.norm(dim=-1, keepdim=True).clamp(min=eps)
    s = z @ z.T / loss.temperature
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool)
    pos, neg = same & ~eye, ~same
    neg_lse = torch.logsumexp(s.masked_fill(~neg, -torch.inf), dim=1, keepdim=True)
    pair = -s + torch.logaddexp(s, neg_lse.expand_as(s))
    n_pos = pos.sum(1)
    per_anchor = (pair * pos).sum(1) / n_pos.clamp(min=1)
    if r == "none":
        return per_anchor
    return per_anchor.sum() if r == "sum" else per_anchor.sum() / (n_pos > 0).sum()


@_oracle("ctc")
def _ctc(torch, loss, lp, targets, in_len, tl, r):
    """The CTC forward recursion in torch ops (log space), so that autograd gives the exact
    derivative with respect to log_probs (torch's ctc_loss returns it w.r.t. softmax logits).
    Unreachable states hold -1e30, not -inf: logsumexp over all -inf back-propagates NaN in torch,
    and exp(-1e30) is exactly 0, so values are unchanged for possible alignments."""
    t_max, n, _ = lp.shape
    targets, in_len, tl = targets.long(), in_len.long(), tl.long()
    s_max = targets.shape[1]
    length = 2 * s_max + 1
    ext = torch.full((n, length), loss.blank, dtype=torch.long)
    ext[:, 1::2] = targets
    ext_len = 2 * tl + 1
    valid = torch.arange(length)[None, :] < ext_len[:, None]
    skip = torch.zeros((n, length), dtype=torch.bool)
    skip[:, 2:] = (ext[:, 2:] != loss.blank) & (ext[:, 2:] != ext[:, :-2])
    emit = lp.gather(2, ext[None].expand(t_max, n, length))
    ninf = torch.full((n, length), -1e30, dtype=lp.dtype)
    first = torch.where(torch.arange(length)[None, :] < torch.minimum(ext_len, torch.tensor(2))[:, None],
                        emit[0], ninf)
    alphas = [torch.where(valid, first, ninf)]
    for t in range(1, t_max):
        prev = alphas[-1]
        one = torch.cat([ninf[:, :1], prev[:, :-1]], 1)
        two = torch.where(skip, torch.cat([ninf[:, :2], prev[:, :-2]], 1), ninf)
        step = torch.where(valid, emit[t] + torch.logsumexp(torch.stack([prev, one, two]), 0), ninf)
        alphas.append(torch.where((t < in_len)[:, None], step, prev))
    alpha = torch.stack(alphas)[in_len - 1, torch.arange(n)]
    end = torch.stack([alpha[torch.arange(n), ext_len - 1],
                       torch.where(ext_len >= 2, alpha[torch.arange(n), (ext_len - 2).clamp(min=0)],
                                   torch.tensor(-1e30, dtype=lp.dtype))])
    nll = -torch.logsumexp(end, 0)
    if loss.zero_infinity:
        nll = torch.where(torch.isfinite(nll), nll, torch.zeros_like(nll))
    return _mean_or(torch, nll, r)
