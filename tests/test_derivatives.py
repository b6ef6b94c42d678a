"""Gradients and hessians against central differences (oracle: 4-point stencil, float64).

Tolerance 1e-7, norm-wise relative (max|analytic - numerical| / max|numerical|); the stencil's
own error is about 1e-10 of the derivative's scale with h = 1e-4 max(1, |x|). Hessians are
compared on the scale max(|hessian|, |gradient|), since the stencil's round-off grows with the
gradient (see losslab/verification/__init__.py). Random inputs keep 0.02 away from every kink.
"""

import numpy as np
import pytest

import losslab as ll

from conftest import as_tuple, cases_where, make, wrt
from losslab.verification import numerical_gradient, numerical_hessian, relative_error

RTOL = 1e-7


def test_the_stencil_itself_on_a_known_function():
    # Oracle: closed form. d/dx sum(sin x) = cos x; the "hessian" of an elementwise sin is -sin x.
    sin = ll.custom(lambda y, p: np.sin(p), gradient=lambda y, p: np.cos(p), name="sin")
    x = np.linspace(-3, 3, 11)
    y = np.zeros_like(x)
    assert relative_error(numerical_gradient(sin, (y, x), 1), np.cos(x)) < 1e-11
    assert relative_error(numerical_hessian(sin, (y, x), 1), -np.sin(x)) < 1e-11


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_matches_central_differences(case, seed):
    loss = make(case)
    inputs = loss.sample_inputs(np.random.default_rng(seed), 16)
    grads = as_tuple(loss.gradient(*inputs, reduction="none"))
    for g, k in zip(grads, wrt(loss)):
        assert g.shape == np.shape(inputs[k])
        err = relative_error(g, numerical_gradient(loss, inputs, k), 1e-6)
        assert err < RTOL, f"{loss!r}: gradient in {loss.inputs[k]} off by {err:.2e}"


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("case", cases_where(lambda loss: loss.info.hessian != "none"))
def test_hessian_matches_central_differences_of_the_gradient(case, seed):
    loss = make(case)
    inputs = loss.sample_inputs(np.random.default_rng(seed), 16)
    grads = as_tuple(loss.gradient(*inputs, reduction="none"))
    hessians = as_tuple(loss.hessian(*inputs, reduction="none"))
    for g, h, k in zip(grads, hessians, wrt(loss)):
        assert h.shape == np.shape(inputs[k])
        scale = max(1e-6, float(np.max(np.abs(g))))
        err = relative_error(h, numerical_hessian(loss, inputs, k), scale)
        assert err < RTOL, f"{loss!r}: hessian in {loss.inputs[k]} off by {err:.2e}"


def test_softmax_hessian_diagonal_matches_the_full_jacobian():
    # Oracle: the full hessian of one sample by central differences of the gradient; the loss
    # returns its diagonal (info.hessian == "diagonal").
    import losslab as ll

    for name, kw in [("cce", {}), ("categorical_focal", {"gamma": 0.5}), ("poly1", {}),
                     ("kl_div", {})]:
        kw = kw | ({} if name == "poly1" else {"from_logits": True})
        loss = ll.get(name, **kw)
        y_true, x = loss.sample_inputs(np.random.default_rng(3), 1)
        n = x.shape[1]
        full = np.zeros((n, n))
        for j in range(n):
            hj = 1e-5
            e = np.zeros_like(x)
            e[0, j] = hj
            full[:, j] = ((loss.gradient(y_true, x + e, reduction="sum")
                           - loss.gradient(y_true, x - e, reduction="sum")) / (2 * hj))[0]
        diag = loss.hessian(y_true, x, reduction="sum")[0]
        np.testing.assert_allclose(diag, np.diag(full), rtol=1e-7, atol=1e-9 * np.abs(full).max())
        off = np.abs(full - np.diag(np.diag(full))).max()
        assert off > 0.1 * np.abs(diag).max()  # off-diagonals exist: the diagonal is not all


KINKS = [
    # (loss, y_true, y_pred, documented subgradient at the kink, documented hessian there)
    ("mae", {}, 1.0, 1.0, 0.0, 0.0),
    ("quantile", {"quantile": 0.2}, 1.0, 1.0, 0.0, 0.0),
    ("mape", {}, 2.0, 2.0, 0.0, 0.0),
    ("smooth_l1", {"beta": 0.0}, 1.0, 1.0, 0.0, 0.0),
    ("hinge", {}, 1.0, 1.0, 0.0, 0.0),
    ("hinge", {}, -1.0, -1.0, 0.0, 0.0),
    ("squared_hinge", {}, 1.0, 1.0, 0.0, 0.0),
    ("huber", {"delta": 1.0}, 0.0, 1.0, 1.0, 0.0),  # |e| = delta: linear branch, as torch
    ("asymmetric_mse", {"under": 3.0, "over": 1.0}, 1.0, 1.0, 0.0, 2.0),  # e = 0: 2 * over
]


@pytest.mark.parametrize("name,kw,y_true,y_pred,grad,hess", KINKS)
def test_documented_subgradient_at_kinks(name, kw, y_true, y_pred, grad, hess):
    import losslab as ll

    loss = ll.get(name, **kw)
    assert float(loss.gradient([y_true], [y_pred])[0]) == grad
    assert float(loss.hessian([y_true], [y_pred])[0]) == hess


def test_multi_margin_subgradient_at_a_zero_margin():
    import losslab as ll

    # margin - x_y + x_c = 1 - 1 + 0 = 0 exactly for class 1: torch's "> 0" gives no gradient.
    g = ll.get("multi_margin").gradient([0], [[1.0, 0.0, -5.0]], reduction="sum")
    np.testing.assert_array_equal(g, [[0.0, 0.0, 0.0]])


@pytest.mark.parametrize("name,kw", [("categorical_focal", {"from_logits": True, "gamma": 2.0}),
                                     ("categorical_focal", {"from_logits": True, "gamma": 0.5}),
                                     ("cce", {"from_logits": True}), ("poly1", {})])
def test_derivatives_at_tied_logits(name, kw):
    # All-zero logits (a fresh model) tie every class: the softmax is smooth there, but the
    # numerics take their tie branch. Oracle: central differences, as above.
    import losslab as ll

    loss = ll.get(name, **kw)
    x = np.zeros((3, 4))
    x[2, :2] = 1.5  # a row with two tied maxima among four
    y = [0, 1, 3] if loss.shape_rule == "class_index" else np.eye(4)[[0, 1, 3]]
    g = loss.gradient(y, x, reduction="none")
    assert relative_error(g, numerical_gradient(loss, (y, x), 1), 1e-6) < RTOL
    h = loss.hessian(y, x, reduction="none")
    assert relative_error(h, numerical_hessian(loss, (y, x), 1), float(np.abs(g).max())) < RTOL
