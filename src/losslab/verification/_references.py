"""PyTorch oracles, one per registered loss, and the hyperparameter settings each is checked at.

Each oracle takes ``(torch, loss, *inputs, reduction)`` with float64 tensors (the differentiable
inputs require grad) and returns the value that losslab's ``loss(y_true, y_pred, reduction=...)`` must
equal. Where PyTorch has the loss built in, the oracle calls it, with torch's own reduction
wherever torch's meaning coincides with losslab's; where it has none (or for a mode it lacks),
the oracle writes the reference formula in torch ops, and autograd differentiates it. ``ORACLE``
names which, for the verification table.
"""

from __future__ import annotations

# Hyperparameter settings each loss is verified at (every value here is cycled through the cases).
SETTINGS: dict[str, list[dict]] = {
    "mse": [{}],
    "mae": [{}],
    "huber": [{"delta": 1.0}, {"delta": 0.3}, {"delta": 2.5}],
    "smooth_l1": [{"beta": 1.0}, {"beta": 0.4}, {"beta": 0.0}],
    "log_cosh": [{}],
    "quantile": [{"quantile": 0.5}, {"quantile": 0.1}, {"quantile": 0.9}],
    "msle": [{}],
    "mape": [{}],
    "poisson_nll": [{}, {"full": True}, {"log_input": False}, {"log_input": False, "full": True}],
    "asymmetric_mse": [{}, {"under": 1.0, "over": 4.0}],
    "asymmetric_huber": [{}, {"delta": 0.5, "under": 1.0, "over": 3.0}],
    "bce": [{}, {"from_logits": True}, {"pos_weight": 3.0}, {"from_logits": True, "pos_weight": 0.5},
            {"label_smoothing": 0.1}, {"from_logits": True, "label_smoothing": 0.2, "pos_weight": 2.0}],
    "focal": [{}, {"from_logits": True}, {"gamma": 0.5, "alpha": None},
              {"gamma": 0.5, "from_logits": True}, {"gamma": 0.0, "alpha": 0.75}, {"gamma": 5.0}],
    "hinge": [{}],
    "squared_hinge": [{}],
    "exponential": [{}],
    "logistic": [{}],
    "cce": [{}, {"from_logits": True}, {"from_logits": True, "label_smoothing": 0.1},
            {"from_logits": True, "class_weight": [1.0, 2.0, 0.5, 3.0]},
            {"label_smoothing": 0.2, "class_weight": [0.5, 1.0, 1.5, 2.0]}],
    "sparse_cce": [{}, {"from_logits": True}, {"from_logits": True, "label_smoothing": 0.1},
                   {"from_logits": True, "class_weight": [1.0, 2.0, 0.5, 3.0]},
                   {"from_logits": True, "ignore_index": 1},
                   {"from_logits": True, "ignore_index": -100, "label_smoothing": 0.2},
                   {"class_weight": [0.5, 1.0, 1.5, 2.0], "ignore_index": 2}],
    "categorical_focal": [{}, {"from_logits": True}, {"gamma": 0.5, "from_logits": True},
                          {"gamma": 0.0, "alpha": None, "from_logits": True}, {"gamma": 3.0}],
    "kl_div": [{}, {"from_logits": True}],
    "multi_margin": [{}, {"p": 2}, {"margin": 0.5, "class_weight": [1.0, 2.0, 0.5, 3.0]},
                     {"p": 2, "class_weight": [0.5, 1.0, 1.5, 2.0]}],
    "categorical_hinge": [{}],
    "poly1": [{}, {"epsilon": 0.0}, {"epsilon": 2.0}, {"epsilon": -0.5}],
    "multilabel_soft_margin": [{}, {"class_weight": [1.0, 2.0, 0.5, 3.0]}],
    "dice": [{}, {"smooth": 1.0}, {"axis": (2,)}],
    "tversky": [{}, {"alpha": 0.7, "beta": 0.3}, {"alpha": 0.2, "beta": 0.8, "smooth": 0.5}],
    "cosine_distance": [{}],
    "cosine_embedding": [{}, {"margin": 0.3}, {"margin": -0.2}],
    "contrastive": [{}, {"margin": 2.0}],
    "triplet": [{}, {"p": 1.0}, {"p": 3.0}, {"swap": True}, {"p": 1.5, "margin": 0.5, "swap": True}],
    "margin_ranking": [{}, {"margin": 0.5}],
    "gaussian_nll": [{}, {"full": True}],
    "ntxent": [{}, {"temperature": 0.5}, {"temperature": 2.0}],
    "ctc": [{}, {"zero_infinity": True}],
}


def _mean_or(torch, per_sample, reduction):
    """losslab's reduction of a per-sample torch tensor (used only where torch has no built-in)."""
    if reduction == "none":
        return per_sample
    return per_sample.sum() if reduction == "sum" else per_sample.mean()


def _pm1(torch, y):
    return torch.where(y == 0, -torch.ones_like(y), y)


def _vec(torch, arr):
    return None if arr is None else torch.tensor(arr, dtype=torch.float64)


def _mse(torch, loss, yt, yp, r):
    return torch.nn.functional.mse_loss(yp, yt, reduction=r)


def _mae(torch, loss, yt, yp, r):
    return torch.nn.functional.l1_loss(yp, yt, reduction=r)


def _huber(torch, loss, yt, yp, r):
    return torch.nn.functional.huber_loss(yp, yt, reduction=r, delta=loss.delta)


def _smooth_l1(torch, loss, yt, yp, r):
    return torch.nn.functional.smooth_l1_loss(yp, yt, reduction=r, beta=loss.beta)


def _log_cosh(torch, loss, yt, yp, r):
    return _mean_or(torch, torch.log(torch.cosh(yp - yt)), r)


def _quantile(torch, loss, yt, yp, r):
    d, q = yt - yp, loss.quantile
    return _mean_or(torch, torch.maximum(q * d, (q - 1.0) * d), r)


def _msle(torch, loss, yt, yp, r):
    return _mean_or(torch, (torch.log1p(yp) - torch.log1p(yt)) ** 2, r)


def _mape(torch, loss, yt, yp, r):
    return _mean_or(torch, 100.0 * (yp - yt).abs() / yt.abs().clamp(min=loss.eps), r)


def _poisson_nll(torch, loss, yt, yp, r):
    return torch.nn.functional.poisson_nll_loss(
        yp, yt, log_input=loss.log_input, full=loss.full, eps=loss.eps, reduction=r)


def _asym_weight(torch, loss, yt, yp):
    e = yp - yt
    return torch.where(e < 0, torch.full_like(e, loss.under), torch.full_like(e, loss.over))


def _asymmetric_mse(torch, loss, yt, yp, r):
    return _mean_or(torch, _asym_weight(torch, loss, yt, yp) * (yp - yt) ** 2, r)


def _asymmetric_huber(torch, loss, yt, yp, r):
    h = torch.nn.functional.huber_loss(yp, yt, reduction="none", delta=loss.delta)
    return _mean_or(torch, _asym_weight(torch, loss, yt, yp) * h, r)


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


def _hinge(torch, loss, yt, yp, r):
    return _mean_or(torch, torch.clamp(1 - _pm1(torch, yt) * yp, min=0), r)


def _squared_hinge(torch, loss, yt, yp, r):
    return _mean_or(torch, torch.clamp(1 - _pm1(torch, yt) * yp, min=0) ** 2, r)


def _exponential(torch, loss, yt, yp, r):
    return _mean_or(torch, torch.exp(-_pm1(torch, yt) * yp), r)


def _logistic(torch, loss, yt, yp, r):
    return torch.nn.functional.soft_margin_loss(yp, _pm1(torch, yt), reduction=r)


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


def _categorical_focal(torch, loss, yt, yp, r):
    logp = torch.log_softmax(yp, -1) if loss.from_logits else torch.log(yp)
    p = logp.exp()
    alpha = 1.0 if loss.alpha is None else loss.alpha
    return _mean_or(torch, -(alpha * yt * (1 - p) ** loss.gamma * logp).sum(-1), r)


def _kl_div(torch, loss, yt, yp, r):
    logq = torch.log_softmax(yp, -1) if loss.from_logits else torch.log(yp)
    if r == "none":
        return torch.nn.functional.kl_div(logq, yt, reduction="none").sum(-1)
    return torch.nn.functional.kl_div(logq, yt, reduction="batchmean" if r == "mean" else "sum")


def _multi_margin(torch, loss, yt, yp, r):
    return torch.nn.functional.multi_margin_loss(
        yp, yt.long(), p=loss.p, margin=loss.margin, weight=_vec(torch, loss.class_weight),
        reduction=r)


def _categorical_hinge(torch, loss, yt, yp, r):
    pos = (yt * yp).sum(-1)
    neg = ((1 - yt) * yp).amax(-1)
    return _mean_or(torch, torch.clamp(neg - pos + 1, min=0), r)


def _poly1(torch, loss, yt, yp, r):
    labels = yt.long()
    ce = torch.nn.functional.cross_entropy(yp, labels, reduction="none")
    p_t = torch.softmax(yp, -1).gather(-1, labels[:, None])[:, 0]
    return _mean_or(torch, ce + loss.epsilon * (1 - p_t), r)


def _multilabel_soft_margin(torch, loss, yt, yp, r):
    return torch.nn.functional.multilabel_soft_margin_loss(
        yp, yt, weight=_vec(torch, loss.class_weight), reduction=r)


def _overlap_sums(torch, loss, y, p):
    axes = tuple(range(1, p.ndim)) if loss.axis is None else loss.axis
    return axes, (lambda a: a.sum(dim=axes))


def _dice(torch, loss, yt, yp, r):
    _, s = _overlap_sums(torch, loss, yt, yp)
    c = loss.smooth + loss.eps
    return _mean_or(torch, 1 - (2 * s(yt * yp) + c) / (s(yt) + s(yp) + c), r)


def _tversky(torch, loss, yt, yp, r):
    _, s = _overlap_sums(torch, loss, yt, yp)
    c = loss.smooth + loss.eps
    tp, fp, fn = s(yt * yp), s((1 - yt) * yp), s(yt * (1 - yp))
    return _mean_or(torch, 1 - (tp + c) / (tp + loss.alpha * fp + loss.beta * fn + c), r)


def _cosine_distance(torch, loss, yt, yp, r):  # optax's formula in torch ops
    u = yt / yt.norm(dim=-1, keepdim=True).clamp(min=loss.eps)
    v = yp / yp.norm(dim=-1, keepdim=True).clamp(min=loss.eps)
    return _mean_or(torch, 1 - (u * v).sum(-1), r)


def _cosine_embedding(torch, loss, x1, x2, y, r):
    return torch.nn.functional.cosine_embedding_loss(x1, x2, y, margin=loss.margin, reduction=r)


def _contrastive(torch, loss, x1, x2, y, r):
    d = (x1 - x2).norm(dim=-1)
    return _mean_or(torch, 0.5 * (y * d ** 2 + (1 - y) * torch.clamp(loss.margin - d, min=0) ** 2), r)


def _triplet(torch, loss, a, p, n, r):
    return torch.nn.functional.triplet_margin_loss(a, p, n, margin=loss.margin, p=loss.p,
                                                   eps=loss.eps, swap=loss.swap, reduction=r)


def _margin_ranking(torch, loss, x1, x2, y, r):
    return torch.nn.functional.margin_ranking_loss(x1, x2, y, margin=loss.margin, reduction=r)


def _gaussian_nll(torch, loss, y, mean, var, r):
    return torch.nn.functional.gaussian_nll_loss(mean, y, var, full=loss.full, eps=loss.eps,
                                                 reduction=r)


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


ORACLES = {
    "mse": _mse, "mae": _mae, "huber": _huber, "smooth_l1": _smooth_l1, "log_cosh": _log_cosh,
    "quantile": _quantile, "msle": _msle, "mape": _mape, "poisson_nll": _poisson_nll,
    "asymmetric_mse": _asymmetric_mse, "asymmetric_huber": _asymmetric_huber, "bce": _bce,
    "focal": _focal, "hinge": _hinge, "squared_hinge": _squared_hinge,
    "exponential": _exponential, "logistic": _logistic, "cce": _cce, "sparse_cce": _sparse_cce,
    "categorical_focal": _categorical_focal, "kl_div": _kl_div, "multi_margin": _multi_margin,
    "categorical_hinge": _categorical_hinge, "poly1": _poly1,
    "multilabel_soft_margin": _multilabel_soft_margin,
    "dice": _dice, "tversky": _tversky, "cosine_distance": _cosine_distance,
    "cosine_embedding": _cosine_embedding, "contrastive": _contrastive, "triplet": _triplet,
    "margin_ranking": _margin_ranking, "gaussian_nll": _gaussian_nll, "ntxent": _ntxent,
    "ctc": _ctc,
}

# What each oracle is: a torch built-in, or the reference formula written in torch ops.
ORACLE = {
    "mse": "F.mse_loss", "mae": "F.l1_loss", "huber": "F.huber_loss",
    "smooth_l1": "F.smooth_l1_loss", "log_cosh": "formula log(cosh(e))",
    "quantile": "formula max(q d, (q-1) d)", "msle": "formula (log1p p - log1p y)^2",
    "mape": "formula (Keras)", "poisson_nll": "F.poisson_nll_loss",
    "asymmetric_mse": "formula (course's AsymmetricMSE)",
    "asymmetric_huber": "w(e) * F.huber_loss", "bce": "F.binary_cross_entropy(_with_logits)",
    "focal": "formula (torchvision / Lin et al.)", "hinge": "formula clamp(1 - y f, 0)",
    "squared_hinge": "formula clamp(1 - y f, 0)^2", "exponential": "formula exp(-y f)",
    "logistic": "F.soft_margin_loss", "cce": "F.cross_entropy (probs: formula)",
    "sparse_cce": "F.cross_entropy / F.nll_loss", "categorical_focal": "formula (Keras)",
    "kl_div": "F.kl_div", "multi_margin": "F.multi_margin_loss",
    "categorical_hinge": "formula (Keras)", "poly1": "F.cross_entropy + formula",
    "multilabel_soft_margin": "F.multilabel_soft_margin_loss",
    "dice": "formula (V-Net soft Dice)", "tversky": "formula (Salehi et al.)",
    "cosine_distance": "formula (optax)", "cosine_embedding": "F.cosine_embedding_loss",
    "contrastive": "formula (Hadsell et al.)", "triplet": "F.triplet_margin_loss",
    "margin_ranking": "F.margin_ranking_loss", "gaussian_nll": "F.gaussian_nll_loss",
    "ntxent": "formula (optax, per anchor)",
    "ctc": "forward recursion in torch ops",
}
