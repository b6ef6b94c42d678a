"""The robust and deviance losses against outside references: scikit-learn's private ``_loss``
module and its generalised linear models (Tweedie, gamma), the closed forms of Barron's general
loss at its special alphas (Cauchy, Geman-McClure, Welsch), the expectile's defining equation
solved by SciPy, and limits that tie the new losses to older ones."""

from __future__ import annotations

import numpy as np
import pytest

import losslab as ll


@pytest.fixture
def counts():
    rng = np.random.default_rng(0)
    y = rng.gamma(2.0, 1.5, 200)
    y[:40] = 0.0
    return y, rng.normal(0.8, 0.9, 200)


@pytest.mark.parametrize("power", [1.0, 1.2, 1.5, 1.8, 1.99])
def test_tweedie_matches_scikit_learns_half_tweedie_loss(counts, power):
    from sklearn._loss.loss import HalfTweedieLoss

    y, raw = counts
    ours = ll.get("tweedie", power=power)
    sk = HalfTweedieLoss(power=power)
    g, h = sk.gradient_hessian(y, raw)
    # oracle: scikit-learn's gradient and hessian (log link), to 1e-12 relative
    np.testing.assert_allclose(ours.gradient(y, raw, reduction="none"), g, rtol=1e-12)
    np.testing.assert_allclose(ours.hessian(y, raw, reduction="none"), h, rtol=1e-12)
    # the value: scikit-learn's loss plus its constant_to_optimal_zero (the terms that do not
    # depend on the prediction); that sum cancels near mu = y, so the tolerance is 1e-12 of the
    # size of its largest term
    ref = sk.loss(y, raw) + sk.constant_to_optimal_zero(y)
    scale = np.abs(sk.loss(y, raw)) + np.abs(sk.constant_to_optimal_zero(y)) + 1.0
    np.testing.assert_allclose(ours(y, raw, reduction="none"), ref, rtol=0, atol=1e-12 * scale.max())
    assert np.all(ours(y, raw, reduction="none") >= 0)  # a deviance: 0 at mu = y


def test_gamma_matches_scikit_learns_half_gamma_loss(counts):
    from sklearn._loss.loss import HalfGammaLoss

    y, raw = counts
    y = y + 0.5
    sk = HalfGammaLoss()
    g, h = sk.gradient_hessian(y, raw)
    gamma = ll.get("gamma")
    np.testing.assert_allclose(gamma.gradient(y, raw, reduction="none"), g, rtol=1e-12)
    np.testing.assert_allclose(gamma.hessian(y, raw, reduction="none"), h, rtol=1e-12)
    ref = sk.loss(y, raw) + sk.constant_to_optimal_zero(y)
    np.testing.assert_allclose(gamma(y, raw, reduction="none"), ref, rtol=1e-12, atol=1e-13)
    # gamma is tweedie at power 2 (the same deviance, to rounding)
    np.testing.assert_allclose(gamma(y, raw, reduction="none"),
                               ll.get("tweedie", power=2.0)(y, raw, reduction="none"),
                               rtol=1e-14, atol=1e-15)


def test_tweedie_is_continuous_in_its_power_and_is_poisson_at_one(counts):
    y, raw = counts
    # the limits p -> 1 and p -> 2 are taken exactly: the value moves by O(dp)
    for p in (1.0, 2.0):
        yy = y + (0.5 if p == 2.0 else 0.0)
        near = ll.get("tweedie", power=p + (1e-7 if p == 1.0 else -1e-7))(yy, raw, reduction="none")
        at = ll.get("tweedie", power=p)(yy, raw, reduction="none")
        np.testing.assert_allclose(near, at, rtol=1e-5, atol=1e-6)
    # at p = 1 the gradient is torch's poisson_nll_loss's (log_input): exp(r) - y (tweedie
    # writes it mu^a y expm1(s) to avoid cancellation: equal to rounding)
    np.testing.assert_allclose(ll.get("tweedie", power=1.0).gradient(y, raw, reduction="none"),
                               ll.get("poisson_nll").gradient(y, raw, reduction="none"),
                               rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name,params,sk", [
    ("tweedie", {"power": 1.5}, "TweedieRegressor(power=1.5, link='log')"),
    ("gamma", {}, "GammaRegressor()"),
])
def test_linear_fits_reach_scikit_learns_glm_optimum(name, params, sk):
    from sklearn.linear_model import GammaRegressor, TweedieRegressor

    rng = np.random.default_rng(1)
    n = 3000
    X = rng.normal(size=(n, 4))
    mu = np.exp(0.3 * X[:, 0] - 0.2 * X[:, 1] + 0.1 * X[:, 3] + 0.5)
    y = rng.gamma(2.0, mu / 2.0)
    if name == "tweedie":
        y[rng.random(n) < 0.2] = 0.0
    ref = (TweedieRegressor(power=1.5, link="log", alpha=0.0, tol=1e-12, max_iter=10_000)
           if name == "tweedie" else GammaRegressor(alpha=0.0, tol=1e-12, max_iter=10_000))
    ref.fit(X, y)
    est = ll.LossRegressor(name, loss_params=params or None).fit(X, y)
    loss = ll.get(name, **params)

    def objective(coef, intercept):
        return float(loss(y, X @ coef + intercept))

    # oracle: scikit-learn's GLM (lbfgs at tol 1e-12, no penalty); the objectives agree to 1e-8
    j_ours, j_ref = objective(est.coef_, est.intercept_), objective(ref.coef_, ref.intercept_)
    assert j_ours <= j_ref * (1 + 1e-8)
    assert abs(j_ours - j_ref) <= 1e-8 * j_ref
    assert est.solver_ == "newton"


def _barron(x, alpha, c):
    """Barron's general loss at its special alphas, as the paper writes them (CVPR 2019,
    the cases of eq. 2): alpha = 0, -2 and -inf."""
    z = (x / c) ** 2
    if alpha == 0:
        return np.log(0.5 * z + 1)
    if alpha == -2:
        return 2 * z / (z + 4)
    return 1 - np.exp(-0.5 * z)


@pytest.mark.parametrize("name,alpha", [("cauchy", 0.0), ("geman_mcclure", -2.0),
                                        ("welsch", -np.inf)])
def test_redescending_losses_are_barrons_general_loss_at_its_special_alphas(name, alpha):
    x = np.linspace(-6, 6, 121)
    for c in (0.5, 1.0, 2.5):
        ours = ll.get(name, c=c)(np.zeros_like(x), x, reduction="none")
        # oracle: the closed form of the paper, to 1e-14 relative
        np.testing.assert_allclose(ours, _barron(x, alpha, c), rtol=1e-14, atol=1e-16)


@pytest.mark.parametrize("name,turn", [("cauchy", np.sqrt(2.0)), ("geman_mcclure", 2 / np.sqrt(3)),
                                       ("welsch", 1.0)])
def test_redescending_losses_turn_where_their_hessian_changes_sign(name, turn):
    c = 1.7
    loss = ll.get(name, c=c)
    at = np.array([turn * c * (1 - 1e-6), turn * c * (1 + 1e-6)])
    h = loss.hessian(np.zeros(2), at, reduction="none")
    assert h[0] > 0 > h[1]  # the closed-form turning point: the gradient's maximum
    g_far = loss.gradient([0.0], [1e4 * c], reduction="none")[0]
    assert 0 <= g_far < 1e-3  # a far outlier pulls (almost) nothing


def test_pseudo_huber_sits_between_mse_and_huber_and_matches_its_limits():
    e = np.linspace(-5, 5, 101)
    zero = np.zeros_like(e)
    ph = ll.get("pseudo_huber", delta=1.0)(zero, e, reduction="none")
    # closed form, written out: delta^2 (sqrt(1 + (e/delta)^2) - 1)
    np.testing.assert_allclose(ph, np.sqrt(1 + e * e) - 1, rtol=1e-14, atol=1e-16)
    # delta -> inf: e^2 / 2; it never exceeds e^2 / 2, and stays above Huber minus delta^2 / 2
    big = ll.get("pseudo_huber", delta=1e4)(zero, e, reduction="none")
    np.testing.assert_allclose(big, 0.5 * e * e, rtol=1e-6)
    assert np.all(ph <= 0.5 * e * e + 1e-15)
    assert np.all(ph >= ll.get("huber", delta=1.0)(zero, e, reduction="none") - 0.5)


def test_expectile_estimates_the_expectile():
    from scipy.optimize import brentq

    rng = np.random.default_rng(3)
    y = rng.lognormal(0.0, 0.8, 500)
    for tau in (0.1, 0.5, 0.8):
        # oracle: the tau-expectile m solves sum_i |tau - 1(y_i < m)| (y_i - m) = 0 (SciPy)
        def eq(m):
            w = np.where(y > m, tau, 1 - tau)
            return float(np.sum(w * (y - m)))

        m = brentq(eq, y.min(), y.max(), xtol=1e-14)
        assert ll.get("expectile", tau=tau).init_score(y) == pytest.approx(m, rel=1e-12)
    # at tau = 0.5 the loss is MSE / 2, and the expectile the mean
    x = rng.normal(size=20)
    assert float(ll.get("expectile", tau=0.5)(np.zeros(20), x)) == pytest.approx(
        0.5 * float(ll.get("mse")(np.zeros(20), x)), rel=1e-15)


def test_brier_is_scikit_learns_brier_score_loss_and_a_proper_score():
    from sklearn.metrics import brier_score_loss

    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 300)
    p = rng.uniform(0, 1, 300)
    w = rng.uniform(0.5, 2.0, 300)
    # oracle: scikit-learn's brier_score_loss, with and without sample weights, to 1e-15
    assert float(ll.get("brier")(y, p)) == pytest.approx(brier_score_loss(y, p), rel=1e-15)
    assert float(ll.get("brier")(y, p, sample_weight=w)) == pytest.approx(
        brier_score_loss(y, p, sample_weight=w), rel=1e-14)
    z = np.log(p / (1 - p))
    assert float(ll.get("brier", from_logits=True)(y, z)) == pytest.approx(
        brier_score_loss(y, p), rel=1e-12)
    # proper: for labels drawn with probability q, the expected score is least at p = q
    q = 0.3
    grid = np.linspace(0.01, 0.99, 99)
    expected = q * (1 - grid) ** 2 + (1 - q) * grid ** 2
    ours = [q * float(ll.get("brier")([1.0], [g])) + (1 - q) * float(ll.get("brier")([0.0], [g]))
            for g in grid]
    np.testing.assert_allclose(ours, expected, rtol=1e-14)
    assert grid[int(np.argmin(ours))] == pytest.approx(q)
