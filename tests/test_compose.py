"""Composed and user-written losses: asymmetric, weighted_sum, custom, check_gradient."""

import pickle

import numpy as np
import pytest
import torch

import losslab as ll
from losslab.losses.regression import Asymmetric


def _rng():
    return np.random.default_rng(11)


@pytest.mark.parametrize("name,kw,base", [
    ("asymmetric_mse", {"under": 3.0, "over": 1.0}, ll.get("mse")),
    ("asymmetric_huber", {"delta": 0.7, "under": 2.0, "over": 0.5}, ll.get("huber", delta=0.7)),
])
def test_core_asymmetric_losses_are_instances_of_asymmetric(name, kw, base):
    rng = _rng()
    y, p = rng.normal(size=40), rng.normal(size=40) * 2
    core = ll.get(name, **kw)
    built = ll.asymmetric(base, under=kw["under"], over=kw["over"])
    assert isinstance(core, Asymmetric) and isinstance(built, Asymmetric)
    for m in ("__call__", "gradient", "hessian"):
        np.testing.assert_array_equal(getattr(core, m)(y, p, reduction="none"),
                                      getattr(built, m)(y, p, reduction="none"))


@pytest.mark.parametrize("base", ["mae", "quantile", "log_cosh", "msle", "poisson_nll", "mape"])
def test_asymmetric_of_any_elementwise_regression_loss(base):
    # Oracle: the base loss times the side weight (closed form), and central differences.
    loss = ll.asymmetric(base, under=4.0, over=0.5)
    y, p = loss.sample_inputs(np.random.default_rng(3), 30)
    w = np.where(p - y < 0, 4.0, 0.5)
    np.testing.assert_allclose(loss(y, p, reduction="none"), w * ll.get(base)(y, p, reduction="none"),
                               rtol=1e-15)
    check = ll.check_gradient(loss, y, p)
    assert check.ok, str(check)
    assert loss.info.name == f"asymmetric({base})"
    assert pickle.loads(pickle.dumps(loss)) == loss


def test_asymmetric_rejects_what_it_cannot_weigh():
    with pytest.raises(ValueError, match="needs an elementwise regression loss"):
        ll.asymmetric("bce", under=2.0)
    with pytest.raises(ValueError, match="needs an elementwise regression loss"):
        ll.asymmetric("gaussian_nll", under=2.0)
    with pytest.raises(ValueError, match="under must be > 0, got -1.0"):
        ll.asymmetric("mse", under=-1.0)


def test_the_course_detector_as_a_weighted_sum_against_pytorch():
    # Classification cross-entropy + box smooth L1 + KL to a teacher, weights 1, 2, 0.5.
    # Oracle: the same sum built from torch.nn.functional, differentiated by autograd.
    rng = _rng()
    n, c = 8, 5
    y_cls, x_cls = rng.integers(0, c, n), rng.normal(size=(n, c))
    y_box, x_box = rng.normal(size=(n, 4)), rng.normal(size=(n, 4))
    teacher, x_kl = rng.dirichlet(np.ones(c), n), rng.normal(size=(n, c))
    det = ll.weighted_sum(cls=ll.get("sparse_cce", from_logits=True), box=("smooth_l1", 2.0),
                          kl=(ll.get("kl_div", from_logits=True), 0.5))
    y_true = {"cls": y_cls, "box": y_box, "kl": teacher}
    y_pred = {"cls": x_cls, "box": x_box, "kl": x_kl}
    value, grads = det.value_and_gradient(y_true, y_pred)
    F = torch.nn.functional
    t = {k: torch.tensor(v, requires_grad=True) for k, v in y_pred.items()}
    ref = (F.cross_entropy(t["cls"], torch.tensor(y_cls)) + 2.0 * F.smooth_l1_loss(t["box"], torch.tensor(y_box))
           + 0.5 * F.kl_div(F.log_softmax(t["kl"], -1), torch.tensor(teacher), reduction="batchmean"))
    ref.backward()
    assert float(value) == pytest.approx(float(ref.detach()), rel=1e-13)
    for k in y_pred:
        np.testing.assert_allclose(grads[k], t[k].grad.numpy(), rtol=1e-12, atol=1e-16)
    parts = det.breakdown(y_true, y_pred)
    assert parts["total"] == pytest.approx(float(value), rel=1e-14)
    assert parts["box"] == pytest.approx(2.0 * float(ll.get("smooth_l1")(y_box, x_box)), rel=1e-15)
    hess = det.hessian(y_true, y_pred)
    np.testing.assert_allclose(hess["box"], 2.0 * ll.get("smooth_l1").hessian(y_box, x_box), rtol=1e-15)
    # one weight per sample, shared by the heads
    w = rng.uniform(0.5, 2.0, n)
    assert float(det(y_true, y_pred, sample_weight=w)) == pytest.approx(
        sum(det.weights[h] * float(det.losses[h](y_true[h], y_pred[h], sample_weight=w)) for h in y_pred),
        rel=1e-14)
    assert set(det(y_true, y_pred, reduction="none")) == {"cls", "box", "kl"}


def test_weighted_sum_errors():
    det = ll.weighted_sum(a="mse", b=("mae", 2.0))
    with pytest.raises(ValueError, match=r"y_pred must have the heads a, b; missing \['b'\], unknown \['c'\]"):
        det({"a": [1.0], "b": [1.0]}, {"a": [1.0], "c": [1.0]})
    with pytest.raises(TypeError, match="y_true must map head names to arrays"):
        det([1.0], {"a": [1.0], "b": [1.0]})
    with pytest.raises(ValueError, match="weight of head 'b' must be >= 0"):
        ll.weighted_sum(a="mse", b=("mae", -1.0))
    with pytest.raises(ValueError, match="takes \\(y_true, y_pred\\) losses"):
        ll.weighted_sum(a="triplet")
    assert "b=(MAE(), 2.0)" in repr(det)


def test_custom_loss_with_a_numerical_gradient_is_accurate():
    # Oracle: closed form. log cosh has gradient tanh and hessian 1 - tanh^2.
    loss = ll.custom(lambda y, p: np.log(np.cosh(p - y)), name="my_log_cosh")
    y, p = np.linspace(-2, 2, 21), np.linspace(3, -1, 21)
    g = loss.gradient(y, p, reduction="none")
    np.testing.assert_allclose(g, np.tanh(p - y), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(loss.hessian(y, p, reduction="none"), 1 - np.tanh(p - y) ** 2,
                               rtol=1e-7, atol=1e-9)  # differences of differences: ~1e-8
    assert "numerical" in loss.info.gradient and "1e-10" in loss.info.gradient
    np.testing.assert_allclose(loss(y, p), ll.get("log_cosh")(y, p), rtol=1e-14)


def test_custom_loss_with_a_supplied_gradient_works_everywhere():
    loss = ll.custom(lambda y, p: (p - y) ** 4, gradient=lambda y, p: 4 * (p - y) ** 3,
                     hessian=lambda y, p: 12 * (p - y) ** 2, name="quartic")
    y, p = np.array([0.0, 1.0, -1.0]), np.array([1.0, 3.0, -1.5])
    assert ll.check_gradient(loss, y, p).ok
    w = np.array([1.0, 2.0, 3.0])
    assert float(loss(y, p, sample_weight=w)) == pytest.approx(((p - y) ** 4 * w).sum() / w.sum())
    np.testing.assert_allclose(loss.gradient(y, p, reduction="sum"), 4 * (p - y) ** 3)
    tg = loss.gradient(torch.tensor(y), torch.tensor(p))  # other namespaces, through NumPy
    assert isinstance(tg, torch.Tensor)
    asym = ll.asymmetric(loss, under=2.0)
    assert ll.check_gradient(asym, y, p).ok
    multi = ll.weighted_sum(q=loss, m="mse")
    assert float(multi({"q": y, "m": y}, {"q": p, "m": p})) == pytest.approx(
        float(loss(y, p)) + float(ll.get("mse")(y, p)))
    with pytest.raises(ValueError, match="y_pred must be finite"):
        loss(y, [1.0, np.nan, 0.0])


def test_check_gradient_reports_the_worst_entry_and_where():
    wrong = ll.custom(lambda y, p: (p - y) ** 2, gradient=lambda y, p: 2 * (p - y) + 0.1 * (p > 2),
                      name="wrong_above_2")
    check = ll.check_gradient(wrong, [0.0, 0.0, 0.0], [1.0, 2.5, -3.0])
    assert not check.ok
    assert check.where == ("y_pred", (1,))
    assert check.analytic == pytest.approx(5.1) and check.numerical == pytest.approx(5.0, rel=1e-9)
    assert "MISMATCH" in str(check) and "y_pred[1]" in str(check)
    assert ll.check_gradient("triplet", *ll.get("triplet").sample_inputs(np.random.default_rng(0), 5)).ok


def test_custom_loss_errors():
    with pytest.raises(TypeError, match="fn must be a function"):
        ll.custom(3.0)
    bad_shape = ll.custom(lambda y, p: np.sum(p - y), name="scalar")
    with pytest.raises(ValueError, match="must return one value per element"):
        bad_shape([1.0, 2.0], [1.0, 2.0])


def test_custom_loss_exports_like_a_built_in_one():
    # Oracle: torch autograd of the same quartic, written in torch ops.
    loss = ll.custom(lambda y, p: (p - y) ** 4, gradient=lambda y, p: 4 * (p - y) ** 3,
                     hessian=lambda y, p: 12 * (p - y) ** 2, name="quartic")
    x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    t = torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64)
    loss.to_torch()(x, t).backward()
    np.testing.assert_allclose(x.grad.numpy(), (4 * (x - t) ** 3 / 3).detach().numpy(), rtol=1e-14)
    g, h = loss.as_lightgbm_objective()(t.numpy(), x.detach().numpy())
    np.testing.assert_allclose(h, 12 * (x - t).detach().numpy() ** 2)
