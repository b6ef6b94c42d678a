"""Valid but extreme inputs stay finite, and the stable primitives stay accurate."""

import math

import numpy as np
import pytest

import losslab as ll
from losslab._core import numerics as M

LOGIT_LOSSES = [
    ("bce", {"from_logits": True}), ("bce", {"from_logits": True, "pos_weight": 3.0}),
    ("focal", {"from_logits": True}), ("focal", {"from_logits": True, "gamma": 0.5}),
    ("focal", {"from_logits": True, "gamma": 0.0}), ("logistic", {}),
    ("cce", {"from_logits": True}), ("cce", {"from_logits": True, "label_smoothing": 0.1}),
    ("sparse_cce", {"from_logits": True}), ("categorical_focal", {"from_logits": True}),
    ("categorical_focal", {"from_logits": True, "gamma": 0.5}), ("kl_div", {"from_logits": True}),
    ("poly1", {}), ("multilabel_soft_margin", {}),
]


def _extreme_inputs(loss, big, dtype):
    if loss.info.task in ("binary",) and not loss.reduces_class_axis:
        y = np.array([0, 1, 0, 1] * 2, dtype=dtype)
        if loss.name == "logistic":
            y = 2 * y - 1
        return y, np.array([big, big, -big, -big, big, -big, 0, 1], dtype=dtype)
    x = np.array([[big, -big, 0.0], [-big, big, -big], [0.0, 0.0, big], [big, big, -big]], dtype=dtype)
    labels = np.array([0, 0, 2, 1])
    if loss.shape_rule == "class_index":
        return labels, x
    if loss.info.task == "multilabel":
        return (x > 0).astype(dtype), x
    y = np.eye(3, dtype=dtype)[labels]
    return y, x


@pytest.mark.parametrize("dtype,big", [(np.float64, 1e4), (np.float32, 100.0)])
@pytest.mark.parametrize("name,kw", LOGIT_LOSSES, ids=[f"{n}-{kw}" for n, kw in LOGIT_LOSSES])
def test_extreme_logits_stay_finite(name, kw, dtype, big):
    loss = ll.get(name, **kw)
    y, x = _extreme_inputs(loss, big, dtype)
    for out in (loss(y, x, reduction="none"), loss.gradient(y, x), loss.hessian(y, x)):
        assert out.dtype == dtype
        assert np.all(np.isfinite(out)), out


def test_extreme_logits_have_the_right_values():
    # Oracle: closed forms. A confident mistake by 1e4 costs 1e4; a confident success ~ e^-1e4.
    bce = ll.get("bce", from_logits=True)
    np.testing.assert_allclose(bce([1.0, 0.0], [-1e4, 1e4], reduction="none"), [1e4, 1e4], rtol=1e-15)
    np.testing.assert_allclose(bce.gradient([1.0, 0.0], [-1e4, 1e4], reduction="none"), [-1.0, 1.0])
    assert float(bce([1.0], [40.0], reduction="none")[0]) == pytest.approx(math.exp(-40), rel=1e-14)
    ce = ll.get("sparse_cce", from_logits=True)
    assert float(ce([1], [[1e4, -1e4]])) == pytest.approx(2e4, rel=1e-15)
    g = ce.gradient([1], [[1e4, -1e4]], reduction="sum")
    np.testing.assert_allclose(g, [[1.0, -1.0]])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,kw", [("bce", {}), ("bce", {"pos_weight": 2.0}), ("focal", {}),
                                     ("focal", {"gamma": 0.5}), ("focal", {"gamma": 0.0, "alpha": None}),
                                     ("cce", {}), ("categorical_focal", {}),
                                     ("categorical_focal", {"gamma": 0.3}), ("kl_div", {})])
def test_probabilities_of_exactly_0_and_1_stay_finite(name, kw, dtype):
    loss = ll.get(name, **kw)
    if loss.reduces_class_axis:
        y = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=dtype)
        p = np.array([[1, 0, 0], [1, 0, 0], [0.5, 0.5, 0]], dtype=dtype)
    else:
        y = np.array([1, 0, 1, 0], dtype=dtype)
        p = np.array([1, 0, 0, 1], dtype=dtype)
    for out in (loss(y, p, reduction="none"), loss.gradient(y, p), loss.hessian(y, p)):
        assert out.dtype == dtype and np.all(np.isfinite(out))


def test_focal_with_gamma_below_1_at_saturation_is_finite_and_tends_to_0():
    # Near p_t -> 1 the gradient behaves like q^gamma -> 0 (no 0 * inf).
    loss = ll.get("focal", gamma=0.3, from_logits=True)
    g = loss.gradient([1.0, 1.0, 0.0], [50.0, 800.0, -800.0], reduction="none")
    assert np.all(np.isfinite(g)) and np.all(np.abs(g) < 1e-5)


def test_large_errors_stay_finite_in_log_cosh():
    loss = ll.get("log_cosh")
    v = loss([0.0], [1e6], reduction="none")
    assert float(v[0]) == pytest.approx(1e6 - math.log(2), rel=1e-15)
    assert float(loss.gradient([0.0], [1e6])[0]) == 1.0


# ---- the primitives, at extreme inputs, against closed forms ---------------------------------


def test_logistic_parts_keep_relative_precision():
    # Oracle: closed forms. softplus(-40) = log1p(e^-40) ~ e^-40, where softplus(40) - 40
    # cancels to 0; sigmoid(-40) ~ e^-40, where 1 - sigmoid(40) cancels to 0.
    x = np.array([-1e4, -800.0, -40.0, 0.0, 40.0, 800.0, 1e4])
    sp, sp_neg, s, s_neg = M.logistic_parts(np, x)
    e40 = math.exp(-40)
    np.testing.assert_allclose(sp, [0.0, 0.0, math.log1p(e40), math.log(2), 40 + e40, 800.0, 1e4],
                               rtol=1e-15, atol=0)
    np.testing.assert_allclose(sp_neg, sp[::-1], rtol=1e-15, atol=0)
    np.testing.assert_allclose(s, [0.0, 0.0, e40 / (1 + e40), 0.5, 1 / (1 + e40), 1.0, 1.0], rtol=1e-15)
    np.testing.assert_allclose(s_neg, s[::-1], rtol=1e-15)
    np.testing.assert_array_equal(M.sigmoid_pair(np, x)[1], s_neg)


def test_logsumexp_and_one_minus_softmax():
    # The helpers take class-major arrays (classes on axis 0): two samples of three classes.
    x = np.array([[1e4, 0.0, -50.0], [0.0, -50.0, -1e4]]).T
    np.testing.assert_allclose(M.logsumexp(np, x), [1e4, math.log1p(math.exp(-50))], rtol=1e-15)
    log_p = M.log_softmax(np, x)
    assert log_p[0, 1] == pytest.approx(-math.log1p(math.exp(-50)), rel=1e-15)  # not 0
    assert log_p[0, 0] == 0.0 and log_p[2, 0] == -1e4 - 50.0
    q = M.one_minus_softmax(np, x)
    # Sample 2: 1 - p_max = (e^-50 + e^-1e4) / (1 + e^-50 + ...) = e^-50 / (1 + e^-50): a naive
    # 1 - p gives exactly 0 here.
    assert q[0, 1] == pytest.approx(math.exp(-50) / (1 + math.exp(-50)), rel=1e-14)
    assert q[1, 1] == 1.0


def test_softmax_with_tied_maxima_is_exact():
    # All-zero logits (a fresh model): p = 1/C, log p = -log C, 1 - p = (C-1)/C, for C = 2..5.
    for c in range(2, 6):
        x = np.zeros((c, 1))
        np.testing.assert_allclose(M.log_softmax(np, x), -math.log(c), rtol=1e-15)
        np.testing.assert_allclose(M.one_minus_softmax(np, x), (c - 1) / c, rtol=1e-15)
    np.testing.assert_allclose(M.logsumexp(np, np.array([[3.0], [3.0], [1.0]])),
                               [3 + math.log(2 + math.exp(-2))], rtol=1e-15)


def test_xlogy_and_logcosh():
    np.testing.assert_array_equal(M.xlogy(np, np.array([0.0, 0.0]), np.array([0.0, 1.0])), [0.0, 0.0])
    np.testing.assert_allclose(M.logcosh(np, np.array([0.0, 1.0, 800.0])),
                               [0.0, math.log(math.cosh(1.0)), 800 - math.log(2)], rtol=1e-15, atol=1e-300)


# ---- float32 embeddings far from 1, hyperparameters that would break finiteness ----------------


@pytest.mark.parametrize("scale", [1e19, 1e20, 1e30])
def test_float32_embeddings_far_from_one(scale):
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(4, 3)) * scale).astype(np.float32)
    # closed forms: cos(x, -x) = -1, cos(x, x) = 1; before: 1.0 and NaN from 1e19-1e20
    assert ll.get("cosine_distance")(X, -X) == pytest.approx(2.0, rel=1e-6)
    assert ll.get("cosine_distance")(X, X) == pytest.approx(0.0, abs=1e-6)
    assert 0.0 <= ll.get("cosine_embedding")(X, X, np.ones(4)) <= 1e-6
    assert ll.get("contrastive")(X, -X, np.zeros(4)) == 0.0  # far apart: past the margin
    # triplet(a, -a, a/2): d(a, p) = 2|a|, d(a, n) = |a|/2; the anchor's gradient is
    # u - u = 0 and the positive's -u (u = a / |a|); before: inf, and the two swapped
    loss = ll.get("triplet")
    a = X
    value = float(loss(a, -a, a / 2))
    norms = np.linalg.norm(a.astype(np.float64), axis=1)
    assert value == pytest.approx(np.mean(1.5 * norms + 1.0), rel=1e-5)
    g_a, g_p, g_n = loss.gradient(a, -a, a / 2)
    u = a.astype(np.float64) / norms[:, None] / len(a)
    np.testing.assert_allclose(g_a, 0.0, atol=1e-6)
    np.testing.assert_allclose(g_p, -u, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(g_n, u, rtol=1e-5, atol=1e-7)


def test_cosine_losses_are_never_negative():
    rng = np.random.default_rng(1)
    for dtype in (np.float32, np.float64):
        X = rng.normal(size=(200, 7)).astype(dtype)
        vals = ll.get("cosine_embedding")(X, X, np.ones(200), reduction="none")
        assert np.all(vals >= 0.0)  # before: -2.2e-16 where the cosine rounded above 1
        assert np.all(ll.get("cosine_distance")(X, X, reduction="none") >= 0.0)


@pytest.mark.parametrize("name, params, rule", [
    ("focal", {"gamma": 1e300}, "gamma must be <= 1000"),
    ("categorical_focal", {"gamma": 1e4}, "gamma must be <= 1000"),
    ("tversky", {"alpha": 1e300}, "alpha must be <= 1e\\+06"),
    ("tversky", {"beta": 1e7}, "beta must be <= 1e\\+06"),
    ("contrastive", {"margin": 1e300}, "margin must be <= 1e\\+150"),
    ("triplet", {"p": 1e300}, "p must be <= 100"),
    ("dice", {"axis": (1, 1)}, "axis must name each axis once"),
])
def test_hyperparameters_that_break_finiteness_are_refused(name, params, rule):
    with pytest.raises(ValueError, match=rule):
        ll.get(name, **params)


@pytest.mark.parametrize("scale", [1e122, 1e200, 1e300])
def test_triplet_with_swap_far_from_one_in_float64(scale):
    rng = np.random.default_rng(2)
    a = rng.normal(size=(4, 3)) * scale
    loss = ll.get("triplet", swap=True)
    # closed form for (a, a/2, -a): d(a, p) = |a|/2, d(a, n) = 2|a|, d(p, n) = 1.5|a|, so the
    # swapped negative distance is 1.5|a| and the hinge is 0 (inactive): value and grads 0
    assert float(loss(a, a / 2, -a)) == 0.0
    # (a, -a, a/2): d(a, p) = 2|a|, min(d(a, n), d(p, n)) = |a|/2: value 1.5|a| + margin
    norms = np.linalg.norm(a / scale, axis=1) * scale
    assert float(loss(a, -a, a / 2)) == pytest.approx(np.mean(1.5 * norms + 1.0), rel=1e-12)
    for part in (loss.gradient(a, -a, a / 2), loss.hessian(a, -a, a / 2)):
        assert all(np.all(np.isfinite(x)) for x in part)
