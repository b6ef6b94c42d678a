"""Agreement with external references: PyTorch, scikit-learn, closed forms, the course's worked examples."""

import math

import numpy as np
import pytest
import torch
from sklearn import metrics

import losslab as ll
from losslab.verification import FD_RTOL, TORCH_RTOL, verify


@pytest.mark.parametrize("name", ll.names())
def test_verify_against_pytorch_and_finite_differences(name):
    # Oracle: PyTorch 2.13 autograd (built-in loss or the reference formula in torch ops), 100
    # random cases, every reduction, with and without weights; central differences.
    # Tolerances: 1e-10 (PyTorch, float64) and 1e-7 (finite differences), norm-wise relative.
    report = verify([name], n_cases=100)
    row = report.rows[0]
    assert row.ok, row.failures[:3]
    assert row.comparisons == 600
    assert row.value_error <= TORCH_RTOL
    if ll.get(name).info.hessian == "none":  # ntxent, ctc: exact gradients, no hessian
        assert row.fd_hessian_error is None
    else:
        assert row.fd_hessian_error <= FD_RTOL


def test_verify_detects_a_wrong_gradient(monkeypatch):
    # The verifier must be able to fail: break MSE's gradient by 1e-6 and it has to notice.
    cls = ll.loss_class("mse")
    original = cls.value_and_gradient

    def broken(self, *args, **kwargs):
        v, g = original(self, *args, **kwargs)
        return v, g * (1 + 1e-6)

    monkeypatch.setattr(cls, "value_and_gradient", broken)
    row = verify(["mse"], n_cases=4).rows[0]
    assert not row.ok and "gradient vs PyTorch" in row.failures[0]


def _rng():
    return np.random.default_rng(7)


def test_scikit_learn_metrics():
    # Oracle: scikit-learn metrics (float64, 1e-13 relative).
    rng = _rng()
    y, p = rng.uniform(0, 5, 200), rng.uniform(0, 5, 200)
    w = rng.uniform(0.1, 2, 200)
    np.testing.assert_allclose(ll.get("mse")(y, p), metrics.mean_squared_error(y, p), rtol=1e-13)
    np.testing.assert_allclose(ll.get("mse")(y, p, sample_weight=w),
                               metrics.mean_squared_error(y, p, sample_weight=w), rtol=1e-13)
    np.testing.assert_allclose(ll.get("mae")(y, p, sample_weight=w),
                               metrics.mean_absolute_error(y, p, sample_weight=w), rtol=1e-13)
    np.testing.assert_allclose(ll.get("msle")(y, p), metrics.mean_squared_log_error(y, p),
                               rtol=1e-13)
    for q in (0.1, 0.5, 0.9):
        np.testing.assert_allclose(ll.get("quantile", quantile=q)(y, p, sample_weight=w),
                                   metrics.mean_pinball_loss(y, p, alpha=q, sample_weight=w),
                                   rtol=1e-13)
    # MAPE: scikit-learn returns a fraction, losslab percent (Keras); targets away from 0.
    np.testing.assert_allclose(ll.get("mape")(y + 1, p), 100 * metrics.mean_absolute_percentage_error(y + 1, p),
                               rtol=1e-13)
    labels = rng.integers(0, 2, 200).astype(float)
    prob = rng.uniform(0.01, 0.99, 200)
    np.testing.assert_allclose(ll.get("bce")(labels, prob, sample_weight=w),
                               metrics.log_loss(labels, prob, sample_weight=w), rtol=1e-13)
    rows = rng.dirichlet(np.ones(3), 50)
    cls = rng.integers(0, 3, 50)
    np.testing.assert_allclose(ll.get("sparse_cce")(cls, rows),
                               metrics.log_loss(cls, rows, labels=[0, 1, 2]), rtol=1e-13)
    np.testing.assert_allclose(ll.get("hinge")(2 * labels - 1, prob - 0.5),
                               metrics.hinge_loss(2 * labels - 1, prob - 0.5), rtol=1e-13)


def test_poisson_matches_the_closed_form_nll():
    # Oracle: scipy.stats.poisson.logpmf with full=True (Stirling term for y > 1 is an
    # approximation, so only y in {0, 1}, where torch's full term is 0, is exact).
    from scipy import stats

    y = np.array([0.0, 1.0, 0.0, 1.0])
    rate = np.array([0.5, 2.0, 3.0, 0.1])
    ours = ll.get("poisson_nll", log_input=False, eps=1e-300)(y, rate, reduction="none")
    np.testing.assert_allclose(ours, -stats.poisson.logpmf(y, rate), rtol=1e-14)


# ---------------------------------------------------------------------------------------------
# Known equivalences (also written in the docstrings)
# ---------------------------------------------------------------------------------------------


def assert_same_loss(a, b, y_true, y_pred, rtol, scale=1.0):
    """a equals scale * b in value, gradient and hessian, unreduced."""
    for m in ("__call__", "gradient", "hessian"):
        np.testing.assert_allclose(getattr(a, m)(y_true, y_pred, reduction="none"),
                                   scale * getattr(b, m)(y_true, y_pred, reduction="none"),
                                   rtol=rtol, err_msg=m)


def test_smooth_l1_is_huber_over_beta():
    rng = _rng()
    y, p = rng.normal(size=50), rng.normal(size=50) * 2
    for beta in (0.3, 1.0, 2.5):
        assert_same_loss(ll.get("smooth_l1", beta=beta), ll.get("huber", delta=beta), y, p,
                         rtol=1e-14, scale=1 / beta)


def test_two_pinball_half_is_mae():
    rng = _rng()
    y, p = rng.normal(size=50), rng.normal(size=50)
    q, m = ll.get("quantile", quantile=0.5), ll.get("mae")
    np.testing.assert_allclose(2 * q(y, p, reduction="none"), m(y, p, reduction="none"), rtol=1e-15)
    np.testing.assert_allclose(2 * q.gradient(y, p), m.gradient(y, p), rtol=1e-15)


@pytest.mark.parametrize("from_logits", [False, True])
def test_focal_with_gamma_0_and_no_alpha_is_bce(from_logits):
    rng = _rng()
    y = rng.integers(0, 2, 100).astype(float)
    p = rng.normal(0, 3, 100) if from_logits else rng.uniform(0.01, 0.99, 100)
    assert_same_loss(ll.get("focal", gamma=0.0, alpha=None, from_logits=from_logits),
                     ll.get("bce", from_logits=from_logits), y, p, rtol=1e-13)


def test_poly1_with_epsilon_0_is_cross_entropy():
    rng = _rng()
    c, x = rng.integers(0, 4, 30), rng.normal(0, 2, (30, 4))
    assert_same_loss(ll.get("poly1", epsilon=0.0), ll.get("sparse_cce", from_logits=True), c, x,
                     rtol=1e-13)


def test_label_smoothing_zero_is_plain_cross_entropy():
    rng = _rng()
    c, x = rng.integers(0, 4, 30), rng.normal(0, 2, (30, 4))
    a = ll.get("sparse_cce", from_logits=True, label_smoothing=0.0)
    onehot = ll.get("cce", from_logits=True)
    np.testing.assert_allclose(a(c, x), onehot(np.eye(4)[c], x), rtol=1e-15)
    np.testing.assert_allclose(a.gradient(c, x), onehot.gradient(np.eye(4)[c], x), rtol=1e-15)


def test_two_class_softmax_is_bce_on_the_logit_difference():
    rng = _rng()
    c, x = rng.integers(0, 2, 40), rng.normal(0, 3, (40, 2))
    soft, bce = ll.get("sparse_cce", from_logits=True), ll.get("bce", from_logits=True)
    d = x[:, 1] - x[:, 0]
    # logsumexp(x) - x_t carries an absolute error of about eps |x| (torch's log_softmax too), so
    # small losses are compared absolutely at 4 eps max|x|.
    atol = 4 * np.finfo(float).eps * np.abs(x).max()
    np.testing.assert_allclose(soft(c, x, reduction="none"), bce(c, d, reduction="none"),
                               rtol=1e-13, atol=atol)
    g = soft.gradient(c, x, reduction="none")
    np.testing.assert_allclose(g[:, 1], bce.gradient(c, d, reduction="none"), rtol=1e-13, atol=atol)
    np.testing.assert_allclose(g[:, 0], -g[:, 1], rtol=1e-13, atol=atol)


def test_logistic_is_bce_with_logits_on_pm1_labels():
    rng = _rng()
    y, f = rng.integers(0, 2, 40), rng.normal(0, 3, 40)
    np.testing.assert_allclose(ll.get("logistic")(2 * y - 1, f, reduction="none"),
                               ll.get("bce", from_logits=True)(y, f, reduction="none"), rtol=1e-13)


def test_kl_div_is_cross_entropy_minus_entropy():
    rng = _rng()
    p, q = rng.dirichlet(np.ones(5), 20), rng.dirichlet(np.ones(5), 20)
    entropy = -(p * np.log(p)).sum(axis=1)
    np.testing.assert_allclose(ll.get("kl_div")(p, q, reduction="none"),
                               ll.get("cce")(p, q, reduction="none") - entropy, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# The course's worked examples whose printed values are right, and corrected figures for those
# that are not (each recomputed here from its reference)
# ---------------------------------------------------------------------------------------------


def test_course_example_1_regression_by_hand():
    # Chapter 1, Example 1: y = 3, y_pred = 5: MSE 4.0, MAE 2.0, Huber(1.5) 1.875; grads 4, 1, 1.5.
    for name, kw, value, grad in [("mse", {}, 4.0, 4.0), ("mae", {}, 2.0, 1.0),
                                  ("huber", {"delta": 1.5}, 1.875, 1.5)]:
        loss = ll.get(name, **kw)
        assert float(loss([3.0], [5.0])) == value
        assert float(loss.gradient([3.0], [5.0])[0]) == grad


def test_course_b2_huber_values():
    e = np.array([-3, -0.5, 0, 0.5, 3.0])
    np.testing.assert_allclose(ll.get("huber")(np.zeros(5), e, reduction="none"),
                               [2.5, 0.125, 0, 0.125, 2.5], rtol=1e-15)


def test_course_b4_cross_entropy_and_its_logit_gradient():
    p = np.array([[0.7, 0.2, 0.1]])
    y = np.array([[1.0, 0.0, 0.0]])
    assert float(ll.get("cce")(y, p)) == pytest.approx(0.3567, abs=5e-5)
    g = ll.get("cce", from_logits=True).gradient(y, np.log(p))  # post-softmax gradient p - y
    np.testing.assert_allclose(g, [[-0.3, 0.2, 0.1]], rtol=1e-13)


def test_course_b5_and_section_4_7_focal_values():
    # Closed form (1 - p_t)^gamma (-log p_t); exercise B5's values to their printed digits.
    focal = {g: ll.get("focal", gamma=g, alpha=None) for g in (0.0, 1.0, 2.0, 5.0)}
    for g, printed in [(0.0, 0.0513), (1.0, 0.00257), (2.0, 0.000128), (5.0, 1.6e-8)]:
        assert float(focal[g]([1.0], [0.95])) == pytest.approx(printed, rel=6e-3)
    for g in focal:
        for pt in (0.95, 0.5, 0.1):
            assert float(focal[g]([1.0], [pt])) == pytest.approx((1 - pt) ** g * -math.log(pt), rel=1e-14)
    # Section 4.7's table prints 2.073 (gamma 1) and 1.353 (gamma 5) at p_t = 0.1; the closed
    # form gives 2.0723 and 1.3597, which these two lines pin down.
    assert round(float(focal[1.0]([1.0], [0.1])), 4) == 2.0723
    assert round(float(focal[5.0]([1.0], [0.1])), 4) == 1.3597


def test_course_a3_and_asymmetric_mse_example():
    assert float(ll.get("bce")([1.0], [0.01])) == pytest.approx(4.605, abs=5e-4)
    assert float(ll.get("asymmetric_mse", under=3.0)([10.0, 10.0], [8.0, 12.0])) == 8.0


def test_course_b7_mse_cost_gradient_for_a_line():
    # {(1,2), (2,5), (3,7)}, y = w x + b at w=2, b=0: dJ/dw = -10/3, dJ/db = -4/3 (chain rule).
    x, y = np.array([1.0, 2.0, 3.0]), np.array([2.0, 5.0, 7.0])
    g = ll.get("mse").gradient(y, 2 * x)
    assert float(g @ x) == pytest.approx(-10 / 3, rel=1e-15)
    assert float(g.sum()) == pytest.approx(-4 / 3, rel=1e-15)


def test_corrected_pytorch_equivalents():
    # Chapter 1, section 7.4 prints MSE 0.1450, Huber 0.0950, BCE 0.2899, CE 0.2286, focal 0.0210;
    # PyTorch gives the values below (checked against it directly at the end).
    y_pred, y_true = np.array([2.5, 0.3, 1.8, 4.2]), np.array([3.0, 0.0, 2.0, 4.0])
    assert round(float(ll.get("mse")(y_true, y_pred)), 4) == 0.1050
    assert round(float(ll.get("mae")(y_true, y_pred)), 4) == 0.3000
    assert round(float(ll.get("huber")(y_true, y_pred)), 4) == 0.0525
    prob, lab = np.array([0.9, 0.2, 0.7, 0.4]), np.array([1.0, 0.0, 1.0, 0.0])
    assert round(float(ll.get("bce")(lab, prob)), 4) == 0.2990
    logits = np.array([[2.0, 0.5, -1.0], [-1.0, 3.0, 0.5]])
    assert round(float(ll.get("sparse_cce", from_logits=True)([0, 1], logits)), 4) == 0.1685
    assert round(float(ll.get("focal", gamma=2.0, alpha=0.25, eps=1e-7)(lab, prob)), 4) == 0.0191
    # ... and PyTorch agrees with the same numbers, directly.
    t = torch.nn.functional
    assert float(t.cross_entropy(torch.tensor(logits), torch.tensor([0, 1]))) == pytest.approx(
        float(ll.get("sparse_cce", from_logits=True)([0, 1], logits)), rel=1e-14)


def test_every_registered_loss_has_an_oracle_and_names_it():
    # The verification data lives with the registry entry: each class declares its settings and
    # what its oracle is, and an oracle is enrolled for that class. Nothing is keyed by a string.
    from losslab.verification import oracle_for

    for name in ll.names():
        cls = ll.loss_class(name)
        assert oracle_for(cls) is not None, name
        assert cls.torch_reference, name
        assert cls.verify_settings and all(isinstance(s, dict) for s in cls.verify_settings), name
        for params in cls.verify_settings:
            ll.get(name, **params)  # every declared setting builds


def test_the_verification_table_shows_each_oracle():
    row = verify(["huber"], n_cases=2).rows[0]
    assert row.oracle == ll.loss_class("huber").torch_reference
