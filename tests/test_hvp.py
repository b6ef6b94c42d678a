"""Hessian-vector products, optimal constants and per-column pos_weight.

* ``loss.hvp`` against central differences of the gradient along v (oracle: the 4-point
  stencil of ``numerics.stencil`` on ``loss.gradient``, float64; tolerance 1e-7 relative to the
  largest |gradient|, as the hessian tests), for every registered setting with ``info.hvp``,
  every reduction, with and without sample weights.
* ``loss.init_score`` against SciPy's bounded scalar minimiser (xatol 1e-12) and closed forms.
* ``bce(pos_weight=array)`` against torch's ``binary_cross_entropy_with_logits``.
"""

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

import losslab as ll

from conftest import as_tuple, cases_where, make, wrt

RTOL = 1e-7


def _directional(loss, inputs, vs, kw, h=1e-4):
    """Central differences of the gradient along v: sum_j c_j g(x + j h v) / h (4 points)."""
    diff = wrt(loss)
    coeffs = ((-2, 1 / 12), (-1, -8 / 12), (1, 8 / 12), (2, -1 / 12))
    out = None
    for j, c in coeffs:
        moved = list(inputs)
        for k, v in zip(diff, vs):
            moved[k] = inputs[k] + j * h * v
        g = as_tuple(loss.gradient(*moved, **kw))
        out = [c * gi / h for gi in g] if out is None else [o + c * gi / h for o, gi in zip(out, g)]
    return out


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("case", cases_where(lambda loss: loss.info.hvp))
def test_hvp_matches_central_differences_of_the_gradient(case, reduction, weighted):
    loss = make(case)
    rng = np.random.default_rng(7)
    inputs = loss.sample_inputs(rng, 12)
    vs = tuple(rng.normal(size=np.shape(inputs[k])) for k in wrt(loss))
    kw = {"reduction": reduction}
    if weighted:
        kw["sample_weight"] = rng.uniform(0.2, 2.0, size=loss.n_samples(*inputs))
    hv = as_tuple(loss.hvp(*inputs, v=vs if len(vs) > 1 else vs[0], **kw))
    numeric = _directional(loss, inputs, vs, kw)
    scale = max(1e-6, max(float(np.max(np.abs(g))) for g in as_tuple(loss.gradient(*inputs, **kw))))
    for a, b in zip(hv, numeric):
        assert a.shape == b.shape
        err = float(np.max(np.abs(a - b))) / max(scale, float(np.max(np.abs(b))))
        assert err < RTOL, f"{loss!r}: hvp off by {err:.2e}"


def test_softmax_hvp_is_the_full_hessian_times_v(rng):
    # Oracle: the closed form A (diag(p) - p p^T) v per row, A the row's summed targets.
    loss = ll.get("cce", from_logits=True, label_smoothing=0.1, class_weight=[1.0, 2.0, 0.5])
    y = rng.dirichlet(np.ones(3), size=5)
    x = rng.normal(size=(5, 3))
    v = rng.normal(size=(5, 3))
    a = (y * 0.9 + 0.1 / 3) * np.array([1.0, 2.0, 0.5])
    p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    expected = np.stack([a[i].sum() * (np.diag(p[i]) - np.outer(p[i], p[i])) @ v[i]
                         for i in range(5)]) / 5
    np.testing.assert_allclose(loss.hvp(y, x, v=v), expected, rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("case", cases_where(lambda loss: not loss.info.hvp))
def test_losses_without_exact_hvp_refuse_it(case):
    loss = make(case)
    inputs = loss.sample_inputs(np.random.default_rng(0), 4)
    vs = tuple(np.zeros(np.shape(inputs[k])) for k in wrt(loss))
    with pytest.raises(TypeError, match=f"{loss.name} has no exact Hessian-vector product"):
        loss.hvp(*inputs, v=vs if len(vs) > 1 else vs[0])


def test_hvp_argument_errors(rng):
    loss = ll.get("mse")
    with pytest.raises(ValueError, match=r"v must have the shape of y_pred, \(3,\); got \(2,\)"):
        loss.hvp([0.0, 1.0, 2.0], [1.0, 1.0, 1.0], v=[1.0, 2.0])
    with pytest.raises(ValueError, match="v must be finite; 1 of 3 values are NaN"):
        loss.hvp([0.0, 1.0, 2.0], [1.0, 1.0, 1.0], v=[1.0, np.nan, 2.0])


@pytest.mark.parametrize("name,params", [
    ("mse", {}), ("huber", {"delta": 0.7}), ("log_cosh", {}), ("asymmetric_mse", {}),
    ("mae", {}), ("quantile", {"quantile": 0.85}), ("smooth_l1", {}), ("asymmetric_huber", {}),
    ("mape", {}), ("poisson_nll", {}), ("hinge", {}), ("squared_hinge", {}), ("logistic", {}),
    ("exponential", {}), ("bce", {"from_logits": True, "pos_weight": 2.5})])
def test_init_score_is_the_optimal_constant(rng, name, params):
    loss = ll.get(name, **params)
    n = 301
    if loss.task == "binary":
        y = (rng.random(n) < 0.3).astype(float)
    elif name == "poisson_nll":
        y = rng.poisson(2.5, size=n).astype(float)
    else:
        y = rng.standard_t(3, size=n) * 2 + 1
    w = rng.uniform(0.1, 2.0, size=n)
    c = loss.init_score(y, w)

    def f(t):
        return float(loss(y, np.full(n, t), sample_weight=w))

    # oracle: SciPy's bounded scalar minimiser (xatol 1e-12); the constant is no worse than it
    ref = minimize_scalar(f, bounds=(-20, 20), method="bounded", options={"xatol": 1e-12})
    assert f(c) <= ref.fun + 1e-13 * abs(ref.fun)


def test_init_score_closed_forms(rng):
    y = rng.normal(size=50)
    w = rng.uniform(0.5, 1.5, size=50)
    assert ll.get("mse").init_score(y, w) == pytest.approx(np.average(y, weights=w), rel=1e-15)
    labels = rng.integers(0, 3, size=60)
    scores = ll.get("sparse_cce", from_logits=True).init_score(labels)
    freq = np.bincount(labels) / 60  # oracle: softmax of the scores is the class frequency
    np.testing.assert_allclose(np.exp(scores) / np.exp(scores).sum(), freq, rtol=1e-14)
    assert scores.sum() == pytest.approx(0.0, abs=1e-14)
    b = (rng.random(40) < 0.25).astype(float)
    p = b.mean()
    assert ll.get("bce", from_logits=True).init_score(b) == pytest.approx(np.log(p / (1 - p)),
                                                                          rel=1e-14)
    two = ll.get("mse").init_score(np.column_stack([y, 2 * y]))
    np.testing.assert_allclose(two, [y.mean(), 2 * y.mean()], rtol=1e-14)
    with pytest.raises(ValueError, match="the optimal constant is infinite: every label is 0"):
        ll.get("bce", from_logits=True).init_score(np.zeros(5))
    with pytest.raises(ValueError, match="bce takes y_pred in .*from_logits=True"):
        ll.get("bce").init_score(b)
    with pytest.raises(ValueError, match="focal is not convex"):
        ll.get("focal", from_logits=True, alpha=None).init_score(b)


def test_bce_per_column_pos_weight_matches_torch(rng):
    torch = pytest.importorskip("torch")
    pw = np.array([0.5, 2.0, 3.0, 1.0])
    loss = ll.get("bce", from_logits=True, pos_weight=pw)
    y = (rng.random((7, 4)) < 0.4).astype(float)
    x = rng.normal(0, 2, size=(7, 4))
    w = rng.uniform(0.2, 2.0, size=7)
    for reduction in ("mean", "sum", "none"):
        xt = torch.tensor(x, requires_grad=True)
        ref = torch.nn.functional.binary_cross_entropy_with_logits(
            xt, torch.tensor(y), pos_weight=torch.tensor(pw), reduction="none")
        ref = ref * torch.tensor(w)[:, None]
        ref = {"mean": ref.sum() / (w.sum() * 4), "sum": ref.sum(), "none": ref}[reduction]
        (g,) = torch.autograd.grad(ref.sum(), xt)
        # oracle: torch, value and autograd gradient, 1e-14
        np.testing.assert_allclose(loss(y, x, sample_weight=w, reduction=reduction),
                                   ref.detach().numpy(), rtol=1e-14)
        if reduction != "none":
            np.testing.assert_allclose(loss.gradient(y, x, sample_weight=w, reduction=reduction),
                                       g.numpy(), rtol=1e-13, atol=1e-16)
    g_ll = loss.gradient(y, x, reduction="none")
    # hessian against central differences of the gradient (4-point stencil, 1e-7)
    from losslab.verification import numerical_hessian, relative_error

    h = loss.hessian(y, x, reduction="none")
    assert relative_error(h, numerical_hessian(loss, (y, x), 1), max(1e-6, np.abs(g_ll).max())) < RTOL
    with pytest.raises(ValueError, match=r"pos_weight has 4 entries, one per column of y_pred "
                                         r"\(its last axis\), but y_pred has shape \(7, 3\)"):
        loss(y[:, :3], x[:, :3])
    with pytest.raises(ValueError, match="pos_weight must be > 0; 1 of 2 values are 0"):
        ll.get("bce", pos_weight=[1.0, 0.0])
