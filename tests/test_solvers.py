"""Linear estimators reach the optimum of their objective: each fit is compared with an
independent reference on the same objective J = mean loss + alpha/2 ||W||^2 (scikit-learn's
dedicated solvers, NumPy least squares, SciPy's L-BFGS), on raw features of very different
scales and on standardised ones, with and without sample weights. Tolerance: J within 1e-8
relative of the reference's J (the reference may stop above the optimum, so losslab must be no
worse by more than that; where the reference is exact it is also no better by more than that)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, PoissonRegressor, QuantileRegressor
from sklearn.preprocessing import StandardScaler

import losslab as ll
from losslab.estimators import LossClassifier, LossRegressor
from losslab.solvers import fit_linear, linear_objective, solver_for

REL = 1e-8
SCALES = np.array([1.0, 100.0, 0.01])
OFFSETS = np.array([0.0, 500.0, -3.0])


def _features(rng, n, scaled):
    X = rng.normal(size=(n, 3)) * SCALES + OFFSETS
    return StandardScaler().fit_transform(X) if scaled else X


def _cases(scaled_and_weighted=((False, False), (True, False), (False, True), (True, True))):
    return pytest.mark.parametrize("scaled,weighted", scaled_and_weighted,
                                   ids=lambda v: str(v))


def _weights(rng, n, weighted):
    return rng.uniform(0.1, 3.0, size=n) if weighted else None


def _assert_at_optimum(ours, ref, exact_reference=False):
    assert ours <= ref + REL * abs(ref), (ours, ref)
    if exact_reference:
        assert ours >= ref - REL * abs(ref), (ours, ref)


def _lbfgs_reference(loss, X, y, w, alpha=0.0):
    """SciPy L-BFGS on the same objective (gtol 1e-12), from the least-squares start."""
    A = np.column_stack([X, np.ones(len(X))])

    def fun(theta):
        z = A @ theta
        value, g = loss.value_and_gradient(y, z, sample_weight=w)
        grad = A.T @ g
        grad[:-1] += alpha * theta[:-1]
        return float(value) + 0.5 * alpha * theta[:-1] @ theta[:-1], grad

    start = np.linalg.lstsq(A, y, rcond=None)[0]
    res = minimize(fun, start, jac=True, method="L-BFGS-B",
                   options={"gtol": 1e-12, "ftol": 0.0, "maxiter": 100000, "maxcor": 50})
    return res.fun


@_cases()
def test_least_squares(rng, scaled, weighted):
    X = _features(rng, 400, scaled)
    y = X @ np.array([2.0, -0.03, 40.0]) + 7.0 + rng.normal(size=400)
    w = _weights(rng, 400, weighted)
    est = LossRegressor("mse").fit(X, y, sample_weight=w)
    # oracle: NumPy least squares on the sqrt(w)-weighted design (exact)
    sw = np.sqrt(np.ones(400) if w is None else w)
    A = np.column_stack([X, np.ones(400)])
    beta = np.linalg.lstsq(A * sw[:, None], y * sw, rcond=None)[0]
    ref = linear_objective(est.loss_, X, y, beta[:3], beta[3:], sample_weight=w)
    _assert_at_optimum(est.objective_, ref, exact_reference=True)
    np.testing.assert_allclose(np.r_[est.coef_, est.intercept_], beta, rtol=1e-9)
    assert est.solver_ == "newton" and est.n_iter_ <= 3


@pytest.mark.parametrize("loss,params", [("mae", {}), ("quantile", {"quantile": 0.8}),
                                         ("quantile", {"quantile": 0.1})])
@_cases()
def test_pinball_losses_match_quantile_regressor(rng, loss, params, scaled, weighted):
    X = _features(rng, 300, scaled)
    y = X @ np.array([1.0, 0.02, -30.0]) + 3.0 + rng.standard_t(2, size=300)
    w = _weights(rng, 300, weighted)
    est = LossRegressor(loss, loss_params=params).fit(X, y, sample_weight=w)
    q = params.get("quantile", 0.5)
    ref = QuantileRegressor(quantile=q, alpha=0.0, solver="highs").fit(X, y, sample_weight=w)
    # oracle: scikit-learn's QuantileRegressor (HiGHS on the primal LP): exact
    ref_j = linear_objective(est.loss_, X, y, ref.coef_, [ref.intercept_], sample_weight=w)
    _assert_at_optimum(est.objective_, ref_j, exact_reference=True)
    assert est.solver_ == "lp"


@_cases()
def test_poisson_matches_poisson_regressor(rng, scaled, weighted):
    X = _features(rng, 500, scaled)
    Xs = StandardScaler().fit_transform(X)
    y = rng.poisson(np.exp(Xs @ np.array([0.3, -0.2, 0.5]) + 1.0)).astype(float)
    w = _weights(rng, 500, weighted)
    est = LossRegressor("poisson_nll").fit(X, y, sample_weight=w)
    # oracle: scikit-learn's PoissonRegressor(alpha=0) (its half deviance differs from the
    # Poisson NLL exp(z) - y z by a constant, so its optimum is the same)
    ref = PoissonRegressor(alpha=0.0, tol=1e-14, max_iter=100000).fit(X, y, sample_weight=w)
    ref_j = linear_objective(est.loss_, X, y, ref.coef_, [ref.intercept_], sample_weight=w)
    _assert_at_optimum(est.objective_, ref_j)
    np.testing.assert_allclose(est.predict(X[:5]), ref.predict(X[:5]), rtol=1e-6)


@_cases()
def test_binary_and_multinomial_cross_entropy_match_logistic_regression(rng, scaled, weighted):
    X = _features(rng, 400, scaled)
    Xs = StandardScaler().fit_transform(X)
    logits = Xs @ rng.normal(size=(3, 3))
    labels = np.array([rng.choice(3, p=np.exp(r) / np.exp(r).sum()) for r in logits])
    w = _weights(rng, 400, weighted)
    for y, loss in ((labels == 1, "bce"), (labels, "sparse_cce")):
        est = LossClassifier(loss, alpha=0).fit(X, y, sample_weight=w)
        ref = LogisticRegression(C=np.inf, tol=1e-14, max_iter=100000).fit(Xs, y, sample_weight=w)
        # oracle: LogisticRegression without penalty (lbfgs), fitted on standardised features
        # (its own problem is the same up to the reparametrisation); J compared on X
        scale = StandardScaler().fit(X)
        coef = (ref.coef_ / scale.scale_).T
        intercept = ref.intercept_ - scale.mean_ @ coef
        target = y.astype(float) if loss == "bce" else y
        if loss == "bce":
            coef, intercept = coef[:, 0], intercept
        ref_j = linear_objective(est.loss_, X, target, coef, intercept, sample_weight=w)
        _assert_at_optimum(est.objective_, ref_j)
        assert abs(est.objective_ - ref_j) <= 1e-7 * ref_j


@pytest.mark.parametrize("loss", ["huber", "log_cosh", "asymmetric_mse"])
@_cases()
def test_smooth_robust_losses_match_lbfgs(rng, loss, scaled, weighted):
    X = _features(rng, 400, scaled)
    y = X @ np.array([1.5, 0.01, 20.0]) + 2.0 + 3.0 * rng.standard_t(2, size=400)
    w = _weights(rng, 400, weighted)
    est = LossRegressor(loss).fit(X, y, sample_weight=w)
    # oracle: SciPy L-BFGS-B on the same objective, gtol 1e-12
    ref = _lbfgs_reference(est.loss_, X, y, w)
    _assert_at_optimum(est.objective_, ref)
    assert est.solver_ == "newton"


def test_penalised_fits_reach_the_penalised_optimum(rng):
    X = _features(rng, 300, False)
    y = X @ np.array([1.5, 0.01, 20.0]) + 2.0 + rng.standard_t(3, size=300)
    for loss in ("huber", "mse", "log_cosh"):
        est = LossRegressor(loss, alpha=0.3).fit(X, y)
        _assert_at_optimum(est.objective_, _lbfgs_reference(est.loss_, X, y, None, alpha=0.3))
    # pinball with a penalty: a QP; oracle: Powell's derivative-free search started there
    # cannot lower it
    est = LossRegressor("quantile", loss_params={"quantile": 0.3}, alpha=0.3).fit(X, y)
    fun = lambda t: linear_objective(est.loss_, X, y, t[:3], t[3:], alpha=0.3)  # noqa: E731
    res = minimize(fun, np.r_[est.coef_, est.intercept_], method="Powell",
                   options={"xtol": 1e-12, "ftol": 1e-15})
    _assert_at_optimum(est.objective_, res.fun, exact_reference=True)


def test_max_iter_one_raises_convergence_warning(rng):
    X = rng.uniform(0, 10, size=(100, 1))
    y = 1.5 * X[:, 0] + rng.normal(size=100)
    y[:10] += 40
    with pytest.warns(ConvergenceWarning, match="the newton solver stopped before reaching "
                                                "tol=1e-10"):
        LossRegressor("huber", max_iter=1).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LossRegressor("huber").fit(X, y)  # the default converges, silently


def test_first_order_solvers_warn_when_they_run_out_of_epochs(rng):
    X = rng.normal(size=(50, 2))
    y = X @ [1.0, 2.0]
    with pytest.warns(ConvergenceWarning, match="adam ran all max_iter=5 epochs"):
        LossRegressor(solver="adam", max_iter=5).fit(X, y)


def test_the_course_outlier_experiment_reads_true(rng):
    # One feature in [0, 10], slope 1.5, intercept 2, one-sided outliers (+30 on the points
    # beyond x = 9, about 10%): Huber and MAE stay within 0.1 of the true slope, least squares
    # is pulled away; each at its optimum.
    X = rng.uniform(0, 10, size=(300, 1))
    y = 1.5 * X[:, 0] + 2 + rng.normal(0, 0.5, size=300)
    y[X[:, 0] > 9] += 30
    fits = {loss: LossRegressor(loss).fit(X, y) for loss in ("mse", "huber", "mae")}
    assert abs(fits["huber"].coef_ - 1.5) < 0.1 and abs(fits["mae"].coef_ - 1.5) < 0.1
    assert abs(fits["mse"].coef_ - 1.5) > 0.3
    A = np.column_stack([X, np.ones(300)])
    beta = np.linalg.lstsq(A, y, rcond=None)[0]  # oracle for least squares: exact
    np.testing.assert_allclose(np.r_[fits["mse"].coef_, fits["mse"].intercept_], beta, rtol=1e-10)
    _assert_at_optimum(fits["huber"].objective_, _lbfgs_reference(fits["huber"].loss_, X, y, None))
    ref = QuantileRegressor(quantile=0.5, alpha=0.0).fit(X, y)
    _assert_at_optimum(fits["mae"].objective_, linear_objective(
        fits["mae"].loss_, X, y, ref.coef_, [ref.intercept_]), exact_reference=True)


def test_iris_reaches_logistic_regressions_log_loss():
    from sklearn.datasets import load_iris
    from sklearn.metrics import log_loss

    X, y = load_iris(return_X_y=True)
    est = LossClassifier(alpha=0).fit(X, y)
    ref = LogisticRegression(C=np.inf, tol=1e-14, max_iter=100000).fit(X, y)
    # oracle: scikit-learn's log_loss of LogisticRegression without penalty (0.0397)
    assert log_loss(y, est.predict_proba(X)) <= log_loss(y, ref.predict_proba(X)) * (1 + REL)
    assert est.decision_function(X).sum(axis=1) == pytest.approx(0.0, abs=1e-9)  # centred


@pytest.mark.parametrize("loss,solver", [("mse", "newton"), ("huber", "newton"),
                                         ("mae", "lp"), ("hinge", "lp"),
                                         ("categorical_hinge", "lp"), ("sparse_cce", "newton"),
                                         ("poly1", "lbfgs"), ("categorical_focal", "lbfgs")])
def test_solver_for(loss, solver):
    params = {"from_logits": True} if loss in ("sparse_cce", "categorical_focal") else {}
    assert solver_for(ll.get(loss, **params)) == solver


def test_piecewise_linear_classifiers_reach_the_lp_optimum(rng):
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    for loss, target in (("categorical_hinge", np.eye(3)[y]), ("multi_margin", y)):
        for alpha in (0.0, 0.1):
            est = LossClassifier(loss, alpha=alpha).fit(X, y)
            fun = lambda t: linear_objective(  # noqa: E731
                est.loss_, X, target, t[:12].reshape(4, 3), t[12:], alpha=alpha)
            start = np.r_[est.coef_.T.ravel(), est.intercept_]
            # oracle: Powell's search from the solution finds nothing lower
            res = minimize(fun, start, method="Powell", options={"xtol": 1e-12, "ftol": 1e-15})
            _assert_at_optimum(est.objective_, res.fun, exact_reference=True)


def test_fit_linear_errors(rng):
    X = rng.normal(size=(20, 2))
    y = rng.normal(size=20)
    with pytest.raises(ValueError, match="solver='newton' needs the exact hessian of the loss on "
                                         "raw scores; poly1 has a diagonal hessian"):
        fit_linear(ll.get("poly1"), X, rng.integers(0, 3, 20), n_outputs=3, solver="newton")
    with pytest.raises(ValueError, match="solver must be one of"):
        fit_linear(ll.get("mse"), X, y, solver="simplex")
    with pytest.raises(ValueError, match="X must be finite; 1 of 40 values are NaN"):
        fit_linear(ll.get("mse"), np.where(np.arange(40).reshape(20, 2) == 3, np.nan, X), y)


# ---- the classifier's default penalty and separable data --------------------------------------


def test_default_classifier_is_logistic_regressions_default():
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    est = LossClassifier().fit(X, y)
    assert est.alpha_ == pytest.approx(1.0 / len(y), rel=1e-15)
    # oracle: LogisticRegression() (L2, C = 1) refined to tol 1e-14; the same objective up to
    # the factor C n, so losslab's J at sklearn's solution is >= its own optimum
    ref = LogisticRegression(tol=1e-14, max_iter=100000).fit(X, y)
    ref_j = linear_objective(est.loss_, X, y.astype(float), ref.coef_[0], ref.intercept_,
                             alpha=est.alpha_)
    _assert_at_optimum(est.objective_, ref_j, exact_reference=True)
    np.testing.assert_allclose(est.coef_, ref.coef_[0], rtol=1e-5)  # sklearn's lbfgs tolerance
    # before: max |coef| 1.1e6 and 97.9% of probabilities exactly 0 or 1
    p = est.predict_proba(X)[:, 1]
    assert np.max(np.abs(est.coef_)) < 10 and np.mean((p == 0) | (p == 1)) == 0.0
    # margin losses have a finite optimum on separable data: "auto" leaves them unpenalised
    # (exact linear programmes); losses whose optimum runs to infinity get 1/n
    assert LossClassifier("hinge").fit(X, y).alpha_ == 0.0
    assert LossClassifier("focal").fit(X, y).alpha_ == pytest.approx(1.0 / len(y), rel=1e-15)


def test_unpenalised_fit_on_separable_data_warns():
    from sklearn.datasets import load_breast_cancer, load_iris

    from losslab.estimators import SeparationWarning, linearly_separable

    X, y = load_breast_cancer(return_X_y=True)
    with pytest.warns(SeparationWarning, match="linearly separable .* optimum lies at infinity"):
        LossClassifier(alpha=0).fit(X, y)
    # hinge reaches zero loss at a finite margin: separable data have an optimum, no warning
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", SeparationWarning)
        LossClassifier("hinge", alpha=0).fit(X, y)
        Xi, yi = load_iris(return_X_y=True)  # versicolor and virginica overlap: not separable
        LossClassifier("sparse_cce", alpha=0).fit(Xi, yi)
    # the LP itself, against constructions with a known answer
    rng = np.random.default_rng(0)
    blobs = np.concatenate([rng.normal(size=(30, 2)) + c for c in ([0, 0], [10, 0], [0, 10])])
    assert linearly_separable(blobs, np.repeat(["a", "b", "c"], 30))
    assert linearly_separable(X, y)
    assert not linearly_separable(Xi, yi)
    xor = np.array([[0, 0], [1, 1], [0, 1], [1, 0]], dtype=float)
    assert not linearly_separable(xor, [0, 0, 1, 1])
    # a row with weight 0 does not count: without the two crossing points XOR's rest separates
    assert linearly_separable(xor, [0, 0, 1, 1], sample_weight=[1, 0, 1, 0])


@pytest.mark.timeout(60)
def test_penalised_hinge_qp_does_not_cycle():
    from sklearn.datasets import make_blobs
    from scipy.optimize import minimize

    # before: HiGHS's QP on the u - v form cycled for ever on these 21 rows (alpha = 1/21)
    X, y = make_blobs(random_state=0, n_samples=21)
    X -= X.min()
    est = LossClassifier("hinge", alpha=1 / 21).fit(X, y == 0)
    # oracle: Powell's derivative-free search from the solution cannot lower J
    fun = lambda t: linear_objective(est.loss_, X, (y == 0).astype(float), t[:2], t[2:],  # noqa
                                     alpha=1 / 21)
    res = minimize(fun, np.r_[est.coef_, est.intercept_], method="Powell",
                   options={"xtol": 1e-12, "ftol": 1e-15})
    _assert_at_optimum(est.objective_, res.fun, exact_reference=True)


def test_newton_reaches_the_optimum_of_an_ill_conditioned_binomial_glm():
    sm = pytest.importorskip("statsmodels.api")
    from losslab.solvers import fit_linear

    data = sm.datasets.star98.load_pandas()
    Y = data.endog.to_numpy(float)  # successes, failures per school district
    X = data.exog.to_numpy(float)
    trials = Y.sum(axis=1)
    # oracle: statsmodels' binomial GLM (IRLS), refined to a deviance change of 1e-14
    ref = sm.GLM(Y, sm.add_constant(X), family=sm.families.Binomial()).fit(
        tol=1e-14, maxiter=200).params
    fit = fit_linear(ll.get("bce", from_logits=True), X, Y[:, 0] / trials, sample_weight=trials)
    ours = np.r_[fit.intercept, fit.coef.ravel()]
    # before: the decrement alone stopped after 3 iterations, 2.1e-9 from the optimum
    np.testing.assert_allclose(ours, ref, rtol=1e-11, atol=0)
    assert fit.converged


@pytest.mark.parametrize("loss", ["mae", "quantile", "mape"])
@pytest.mark.parametrize("max_iter", [1, 5, 10, 20])
def test_a_small_lp_max_iter_warns_instead_of_crashing(rng, loss, max_iter):
    from sklearn.exceptions import ConvergenceWarning
    import warnings

    X = rng.normal(size=(200, 3))
    y = X @ [1.0, 2.0, 3.0] + rng.standard_t(2, size=200)
    y = np.abs(y) + 1 if loss == "mape" else y
    with warnings.catch_warnings(record=True) as caught:  # before: IndexError from _lp.py
        warnings.simplefilter("always")
        est = LossRegressor(loss, max_iter=max_iter).fit(X, y)
    assert np.all(np.isfinite(est.coef_)) and np.isfinite(est.intercept_)
    stopped = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert stopped or est.n_iter_ <= max_iter
