"""Losses of several inputs (and the per-sample overlap and embedding losses): the contract,
the edges the issue names, bad input, and equivalences."""

import numpy as np
import pytest
import torch

import losslab as ll


def test_inputs_by_position_or_by_name():
    loss = ll.get("triplet")
    rng = np.random.default_rng(0)
    a, p, n = rng.normal(size=(3, 5, 4))
    v1, g1 = loss.value_and_gradient(a, p, n)
    v2, g2 = loss.value_and_gradient(anchor=a, negative=n, positive=p)
    assert float(v1) == float(v2) and len(g1) == 3
    for x, y in zip(g1, g2):
        np.testing.assert_array_equal(x, y)
    assert loss.info.inputs == ("anchor", "positive", "negative")
    assert ll.get("cosine_embedding").info.differentiable == ("x1", "x2")


def test_input_errors_name_the_inputs():
    loss = ll.get("contrastive")
    x = np.zeros((3, 2))
    with pytest.raises(TypeError, match="missing input.*y; its inputs are x1, x2, y"):
        loss(x, x)
    with pytest.raises(TypeError, match="has no input 'z'"):
        loss(x, x, z=[1, 0, 1])
    with pytest.raises(TypeError, match="got input 'x2' twice"):
        loss(x, x, [1, 0, 1], x2=x)
    with pytest.raises(ValueError, match=r"y must be in \{0, 1\} \(1 similar, 0 dissimilar\); 1 of 3 values are not"):
        loss(x, x, [1, 0, 2])
    with pytest.raises(ValueError, match=r"y must hold one label per pair; got y \(2,\) and x1 \(3, 2\)"):
        loss(x, x, [1, 0])
    with pytest.raises(ValueError, match=r"x1 and x2 must have the same shape"):
        loss(x, np.zeros((3, 3)), [1, 0, 1])
    with pytest.raises(ValueError, match=r"y must be in \{-1, \+1\}"):
        ll.get("cosine_embedding")(x, x, [1, 0, 1])
    with pytest.raises(ValueError, match=r"var must be in \[0, inf\) \(variances\); 1 of 2 values are not"):
        ll.get("gaussian_nll")([0.0, 1.0], [0.0, 1.0], [1.0, -1.0])
    with pytest.raises(ValueError, match=r"x2 must be finite; 1 of 6 values"):
        loss(x, np.where(np.arange(6).reshape(3, 2) == 1, np.nan, 0.0), [1, 0, 1])


def test_zero_vectors_stay_finite():
    z = np.zeros((2, 3))
    x = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]])
    cd = ll.get("cosine_distance")
    for args in ((z, x), (x, z), (z, z)):
        v, g = cd.value_and_gradient(*args, reduction="none")
        assert np.all(np.isfinite(v)) and np.all(np.isfinite(g))
    np.testing.assert_allclose(cd(x, z, reduction="none"), [1.0, 1.0])  # no direction: cos 0
    ce = ll.get("cosine_embedding")
    v, (g1, g2) = ce.value_and_gradient(z, x, [1, -1])
    assert np.isfinite(v) and np.all(np.isfinite(g1)) and np.all(np.isfinite(g2))
    # torch agrees at the zero vector too (its 1e-12 inside the norms)
    t = torch.nn.functional.cosine_embedding_loss(torch.tensor(z), torch.tensor(x), torch.tensor([1.0, -1.0]))
    assert float(v) == pytest.approx(float(t), rel=1e-14)


def test_anchor_equal_to_positive():
    # Oracle: torch.triplet_margin_loss (eps=1e-6 keeps the distance positive); with eps=0 the
    # distance is 0 and losslab uses the subgradient 0.
    a = np.array([[1.0, 2.0], [0.5, -1.0]])
    n = np.array([[3.0, 2.0], [0.5, 2.0]])
    for p in (1.0, 2.0, 3.0):
        loss = ll.get("triplet", p=p, margin=5.0)
        v, grads = loss.value_and_gradient(a, a.copy(), n)
        ta, tp, tn = (torch.tensor(t, requires_grad=True) for t in (a, a.copy(), n))
        out = torch.nn.functional.triplet_margin_loss(ta, tp, tn, margin=5.0, p=p)
        out.backward()
        assert float(v) == pytest.approx(float(out.detach()), rel=1e-12)
        for ours, ref in zip(grads, (ta.grad, tp.grad, tn.grad)):
            np.testing.assert_allclose(ours, ref.numpy(), rtol=1e-9, atol=1e-12)
    v, grads = ll.get("triplet", eps=0.0, margin=5.0).value_and_gradient(a, a.copy(), n)
    assert np.isfinite(v) and all(np.all(np.isfinite(g)) for g in grads)


def test_contrastive_dissimilar_pair_at_distance_zero_uses_subgradient_zero():
    x = np.array([[1.0, 1.0]])
    v, (g1, g2) = ll.get("contrastive", margin=2.0).value_and_gradient(x, x.copy(), [0])
    assert float(v) == 2.0  # 1/2 * margin^2
    assert not np.any(g1) and not np.any(g2)


def test_empty_masks():
    dice = ll.get("dice")
    empty = np.zeros((2, 4, 4))
    assert float(dice(empty, empty)) == 0.0  # nothing to find, nothing found: perfect
    some = np.full((2, 4, 4), 0.5)
    assert float(dice(empty, some)) == pytest.approx(1.0, abs=2e-8)  # 1 - eps / (sum p + eps)
    v, g = dice.value_and_gradient(empty, empty)
    assert np.all(np.isfinite(g))
    assert float(ll.get("tversky")(empty, empty)) == 0.0


def test_tversky_half_half_is_dice():
    rng = np.random.default_rng(1)
    y, p = (rng.random((4, 3, 5)) < 0.5).astype(float), rng.random((4, 3, 5))
    t = ll.get("tversky", alpha=0.5, beta=0.5, smooth=0.25, eps=1e-7)
    d = ll.get("dice", smooth=0.5, eps=2e-7)
    for m in ("__call__", "gradient", "hessian"):
        np.testing.assert_allclose(getattr(t, m)(y, p, reduction="none"),
                                   getattr(d, m)(y, p, reduction="none"), rtol=1e-12)


def test_dice_axis_gives_one_value_per_sample_and_channel():
    rng = np.random.default_rng(2)
    y, p = (rng.random((4, 3, 5)) < 0.5).astype(float), rng.random((4, 3, 5))
    per_channel = ll.get("dice", axis=2)(y, p, reduction="none")
    assert per_channel.shape == (4, 3)
    for c in range(3):  # oracle: dice of each channel on its own
        np.testing.assert_allclose(per_channel[:, c], ll.get("dice")(y[:, c:c + 1], p[:, c:c + 1], reduction="none"),
                                   rtol=1e-14)
    with pytest.raises(ValueError, match="axis must be None or non-batch axes"):
        ll.get("dice", axis=0)


def test_cosine_distance_matches_torch_cosine_similarity():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    ours = ll.get("cosine_distance")(a, b, reduction="none")
    ref = 1 - torch.nn.functional.cosine_similarity(torch.tensor(a), torch.tensor(b), dim=-1)
    np.testing.assert_allclose(ours, ref.numpy(), rtol=1e-13)


def test_gaussian_nll_small_variance_is_clamped_like_torch():
    y, mu, var = np.array([0.0, 1.0]), np.array([0.5, 1.0]), np.array([0.0, 1e-9])
    v, (gm, gv) = ll.get("gaussian_nll").value_and_gradient(y, mu, var)
    tmu, tvar = torch.tensor(mu, requires_grad=True), torch.tensor(var, requires_grad=True)
    out = torch.nn.functional.gaussian_nll_loss(tmu, torch.tensor(y), tvar)
    out.backward()
    assert float(v) == pytest.approx(float(out.detach()), rel=1e-14)
    np.testing.assert_allclose(gm, tmu.grad.numpy(), rtol=1e-14)
    np.testing.assert_allclose(gv, tvar.grad.numpy(), rtol=1e-14)


def _optax_ntxent(e, labels, t):
    """optax.ntxent transcribed in NumPy: the mean over all positive pairs."""
    z = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), np.finfo(float).eps)
    s = z @ z.T / t
    same = labels[:, None] == labels[None, :]
    pos, neg = same & ~np.eye(len(labels), dtype=bool), ~same
    total = 0.0
    for i, j in zip(*np.nonzero(pos)):
        total += -s[i, j] + np.log(np.exp(s[i, j]) + np.exp(s[i][neg[i]]).sum())
    return total / pos.sum()


def test_ntxent_equals_optax_with_equal_groups_and_says_how_it_differs_otherwise():
    rng = np.random.default_rng(4)
    e = rng.normal(size=(6, 3))
    pairs = np.array([0, 0, 1, 1, 2, 2])
    loss = ll.get("ntxent", temperature=0.5)
    assert float(loss(e, pairs)) == pytest.approx(_optax_ntxent(e, pairs, 0.5), rel=1e-13)
    groups = np.array([0, 0, 0, 1, 1, 2])  # unequal: optax weights anchors by their positives
    per_anchor = loss(e, groups, reduction="none")
    assert per_anchor[5] == 0.0  # no positive: no value, and out of the mean
    assert float(loss(e, groups)) == pytest.approx(per_anchor[:5].mean(), rel=1e-14)
    assert float(loss(e, groups)) != pytest.approx(_optax_ntxent(e, groups, 0.5), rel=1e-6)


def test_ntxent_has_no_hessian_and_says_so():
    loss = ll.get("ntxent")
    assert loss.info.hessian == "none"
    with pytest.raises(TypeError, match="ntxent provides no hessian"):
        loss.hessian(np.ones((4, 2)), [0, 0, 1, 1])
    v, (g,) = loss.value_and_gradient(np.ones((4, 2)), [0, 1, 2, 3])  # no positives at all
    assert float(v) == 0.0 and not np.any(g)


def _ctc_case(seed=0, n=4):
    return ll.get("ctc").sample_inputs(np.random.default_rng(seed), n)


def test_ctc_matches_torch_values_and_its_gradient_after_the_softmax_jacobian():
    # torch.ctc_loss returns d/d(logits of a log_softmax) = exp(lp) - occupancy; losslab the
    # exact d/d(log_probs) = -occupancy. Oracle: torch, with g - exp(lp) sum_c g applied to ours.
    lp, targets, il, tl = _ctc_case()
    loss = ll.get("ctc")
    v, (g,) = loss.value_and_gradient(lp, targets, il, tl, reduction="sum")
    t = torch.tensor(lp, requires_grad=True)
    ref = torch.nn.functional.ctc_loss(t, torch.tensor(targets), torch.tensor(il), torch.tensor(tl),
                                       reduction="sum")
    ref.backward()
    assert float(v) == pytest.approx(float(ref.detach()), rel=1e-13)
    frames = (np.arange(lp.shape[0])[:, None] < il[None, :])[:, :, None]
    projected = g - np.exp(lp) * g.sum(axis=2, keepdims=True)
    np.testing.assert_allclose(projected * frames, t.grad.numpy() * frames, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(-g.sum(axis=2), frames[:, :, 0] * 1.0, rtol=1e-12)  # occupancy sums to 1


def test_ctc_concatenated_targets_equal_padded():
    lp, targets, il, tl = _ctc_case(1)
    flat = np.concatenate([targets[i, :tl[i]] for i in range(len(tl))])
    loss = ll.get("ctc")
    np.testing.assert_allclose(loss(lp, flat, il, tl, reduction="none"),
                               loss(lp, targets, il, tl, reduction="none"), rtol=1e-15)
    ref = torch.nn.functional.ctc_loss(torch.tensor(lp), torch.tensor(flat), torch.tensor(il),
                                       torch.tensor(tl), reduction="none")
    np.testing.assert_allclose(loss(lp, flat, il, tl, reduction="none"), ref.numpy(), rtol=1e-13)


def test_ctc_impossible_alignment():
    lp, targets, il, tl = _ctc_case(2)
    targets[0, :3] = [1, 1, 1]  # three repeats need at least 5 frames
    tl[0], il[0] = 3, 4
    v, (g,) = ll.get("ctc").value_and_gradient(lp, targets, il, tl, reduction="none")
    assert v[0] == np.inf and np.all(np.isfinite(v[1:]))
    assert np.all(np.isfinite(g)) and not np.any(g[:, 0])  # zero gradient, not NaN
    ref = torch.nn.functional.ctc_loss(torch.tensor(lp), torch.tensor(targets), torch.tensor(il),
                                       torch.tensor(tl), reduction="none")
    assert float(ref[0]) == np.inf
    v0 = ll.get("ctc", zero_infinity=True)(lp, targets, il, tl, reduction="none")
    assert v0[0] == 0.0 and v0[1] == v[1]


def test_ctc_bad_input():
    lp, targets, il, tl = _ctc_case(3)
    loss = ll.get("ctc")
    bad = targets.copy()
    bad[0, 0] = 0
    with pytest.raises(ValueError, match=r"other than blank=0; 1 of \d+ labels are not"):
        loss(lp, bad, il, tl)
    with pytest.raises(ValueError, match=r"input_lengths must be in \[1, 10\]; 1 of 4 values are not"):
        loss(lp, targets, np.array([11, 5, 5, 5]), tl)
    with pytest.raises(ValueError, match=r"log_probs must be in \(-inf, 0\] \(log-probabilities\)"):
        loss(lp + 1.0, targets, il, tl)
    with pytest.raises(ValueError, match=r"log_probs must have shape \(T, N, C\)"):
        loss(lp[0], targets, il, tl)
    with pytest.raises(TypeError, match="ctc provides no hessian"):
        loss.hessian(lp, targets, il, tl)
