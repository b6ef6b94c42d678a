"""Models: the backward pass against PyTorch autograd and central differences, for every loss.

Oracles: PyTorch 2.13 autograd on the same network in float64 (1e-10 relative, measured worst
about 1e-15), and 4-point central differences of the cost in every parameter (1e-7 relative to
the largest gradient; the stencil's own error is about 1e-10).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import losslab as ll
from losslab.models import MLP, Linear, Logistic, Softmax, head_for
from losslab.training import check_targets
from losslab.verification import FD_STEP as STEP
from conftest import cases_where, make

TORCH_RTOL = 1e-10
FD_RTOL = 1e-7


def _fits_a_model(loss):
    if isinstance(loss, ll.MultiInputLoss):
        return False
    y_true, y_pred = loss.sample_inputs(np.random.default_rng(0), 4)
    return y_pred.ndim <= 2


MODEL_CASES = cases_where(_fits_a_model)


def _model_for(loss, rng, n=12):
    """A linear model whose output is a valid y_pred for ``loss`` (features = valid predictions,
    W = I + small noise), so every case is evaluated inside the loss's domain."""
    y_true, y_pred = loss.sample_inputs(rng, n)
    k = 1 if y_pred.ndim == 1 else y_pred.shape[1]
    X = y_pred.reshape(n, k)
    model = Linear(k, k, seed=0)
    model.params = {"W": np.eye(k) + 0.01 * rng.normal(size=(k, k)), "b": 0.01 * rng.normal(size=k)}
    return model, X, y_true


def _flat_cost(model, loss, X, y, w=None):
    return lambda v: model.value_and_grad(loss, X, y, params=model.unravel(v), sample_weight=w)[0]


def _central_differences(f, v):
    g = np.empty_like(v)
    for i in range(v.size):
        h = STEP * max(1.0, abs(v[i]))
        e = np.zeros_like(v)
        e[i] = h
        g[i] = (f(v - 2 * e) - 8 * f(v - e) + 8 * f(v + e) - f(v + 2 * e)) / (12 * h)
    return g


@pytest.mark.parametrize("case", MODEL_CASES)
def test_every_loss_trains_a_linear_model_exact_gradient(case, rng):
    loss = make(case)
    model, X, y = _model_for(loss, rng)
    check_targets(model, loss, y)
    w = rng.uniform(0.5, 2.0, size=X.shape[0])
    value, grads = model.value_and_grad(loss, X, y, sample_weight=w)
    # The cost is the loss of the model's output (oracle: the loss itself).
    assert value == pytest.approx(float(loss(y, model.forward(X, loss=loss), sample_weight=w)),
                                  rel=1e-14)
    # Oracle 1: central differences of the cost in every parameter.
    fd = _central_differences(_flat_cost(model, loss, X, y, w), model.ravel())
    ours = model.ravel(grads)
    np.testing.assert_allclose(ours, fd, rtol=0, atol=FD_RTOL * max(1.0, np.max(np.abs(fd))))
    # Oracle 2: torch autograd through the same linear map and head, seeded with the loss's
    # gradient with respect to the output (itself checked against torch in test_references).
    head = head_for(loss, model.n_outputs, model.output)
    out = model.forward(X, loss=loss)
    G = np.asarray(loss.gradient(y, out, sample_weight=w)).reshape(X.shape[0], -1)
    tW = torch.tensor(model.params["W"], requires_grad=True)
    tb = torch.tensor(model.params["b"], requires_grad=True)
    z = torch.tensor(X) @ tW + tb
    tout = {"identity": z, "sigmoid": torch.sigmoid(z), "softmax": torch.softmax(z, dim=1)}[head]
    (tout * torch.tensor(G)).sum().backward()
    np.testing.assert_allclose(grads["W"], tW.grad.numpy(), rtol=TORCH_RTOL,
                               atol=TORCH_RTOL * np.max(np.abs(tW.grad.numpy())))
    np.testing.assert_allclose(grads["b"], tb.grad.numpy(), rtol=TORCH_RTOL,
                               atol=TORCH_RTOL * np.max(np.abs(tb.grad.numpy())))


def _torch_mlp(model, X):
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in model.params.items()}
    h = torch.tensor(X)
    for i in range(len(model.hidden)):
        a = h @ tp[f"W{i}"] + tp[f"b{i}"]
        f = torch.relu(a) if model.activation == "relu" else torch.tanh(a)
        h = h + f if model.has_skip(i) else f
    return h @ tp["W_out"] + tp["b_out"], tp


TORCH_LOSSES = {
    # name -> (losslab loss, n_outputs, head, target maker, torch loss of (output, target))
    "mse": (lambda: ll.get("mse"), 2, lambda z: z,
            lambda rng, n: rng.normal(size=(n, 2)), torch.nn.functional.mse_loss),
    "huber": (lambda: ll.get("huber", delta=0.5), 1, lambda z: z[:, 0],
              lambda rng, n: rng.normal(size=n), lambda o, t: torch.nn.functional.huber_loss(o, t, delta=0.5)),
    "bce": (lambda: ll.get("bce"), 1, lambda z: torch.sigmoid(z[:, 0]),
            lambda rng, n: rng.integers(0, 2, n).astype(float), torch.nn.functional.binary_cross_entropy),
    "sparse_cce_logits": (lambda: ll.get("sparse_cce", from_logits=True), 3, lambda z: z,
                          lambda rng, n: rng.integers(0, 3, n), torch.nn.functional.cross_entropy),
    "cce_probabilities": (lambda: ll.get("cce"), 3, lambda z: torch.softmax(z, dim=1),
                          lambda rng, n: np.eye(3)[rng.integers(0, 3, n)],
                          lambda o, t: -(t * torch.log(o)).sum(dim=1).mean()),
}


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("residual", [False, True], ids=["plain", "residual"])
@pytest.mark.parametrize("lname", list(TORCH_LOSSES))
def test_mlp_matches_torch_autograd(lname, residual, activation, rng):
    # Oracle: the same network and loss written in torch, autograd in float64; 1e-10 relative.
    make_loss, k, torch_head, target, torch_loss = TORCH_LOSSES[lname]
    loss = make_loss()
    X = rng.normal(size=(30, 5))
    y = target(rng, 30)
    model = MLP(5, (8, 8, 6), k, activation=activation, residual=residual, seed=7)
    value, grads = model.value_and_grad(loss, X, y)
    z, tp = _torch_mlp(model, X)
    ty = torch.tensor(y)
    tl = torch_loss(torch_head(z), ty)
    tl.backward()
    assert value == pytest.approx(tl.item(), rel=TORCH_RTOL)
    for key, t in tp.items():
        ref = t.grad.numpy()
        np.testing.assert_allclose(grads[key], ref, rtol=TORCH_RTOL,
                                   atol=TORCH_RTOL * max(1e-300, np.max(np.abs(ref))), err_msg=key)


def test_mlp_l2_and_finite_differences(rng):
    # Oracle: central differences, including the L2 term on weights (not biases).
    X = rng.normal(size=(15, 3))
    y = rng.normal(size=15)
    model = MLP(3, (5, 5), activation="tanh", residual=True, seed=1)
    loss = ll.get("log_cosh")
    f = lambda v: model.value_and_grad(loss, X, y, params=model.unravel(v), l2=0.3)[0]
    _, grads = model.value_and_grad(loss, X, y, l2=0.3)
    fd = _central_differences(f, model.ravel())
    np.testing.assert_allclose(model.ravel(grads), fd, rtol=0, atol=FD_RTOL * np.max(np.abs(fd)))


def test_heads_follow_the_loss():
    assert head_for(ll.get("bce"), 1) == "sigmoid"
    assert head_for(ll.get("bce", from_logits=True), 1) == "identity"
    assert head_for(ll.get("cce"), 3) == "softmax"
    assert head_for(ll.get("sparse_cce", from_logits=True), 3) == "identity"
    assert head_for(ll.get("hinge"), 1) == "identity"
    assert head_for(ll.get("mse"), 1) == "identity"
    assert head_for(ll.get("mse"), 1, "sigmoid") == "sigmoid"
    assert head_for(ll.get("multilabel_soft_margin"), 4) == "identity"


def test_models_shapes_flat_views_and_purity(rng):
    X = rng.normal(size=(7, 4))
    for model in (Linear(4), Linear(4, 3), Logistic(4), Softmax(4, 5), MLP(4, (6, 6), 2)):
        out = model.forward(X)
        assert out.shape == ((7,) if model.n_outputs == 1 else (7, model.n_outputs))
        v = model.ravel()
        assert v.shape == (model.n_params,)
        back = model.unravel(v + 1.0)
        np.testing.assert_array_equal(model.ravel(back), v + 1.0)
        np.testing.assert_array_equal(model.ravel(), v)  # unravel made new arrays
        before = {k: a.copy() for k, a in model.params.items()}
        model.forward(X, params=back)
        for k2 in before:
            np.testing.assert_array_equal(model.params[k2], before[k2])
    assert MLP(3, (4,), seed=1).ravel().tolist() == MLP(3, (4,), seed=1).ravel().tolist()
    assert "residual=True" in repr(MLP(3, (4, 4), residual=True))


def test_model_input_errors():
    m = Linear(3)
    with pytest.raises(ValueError, match="X has 2 features, but the model expects 3"):
        m.forward(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"X must be finite; 2 of 6 values are NaN or infinite"):
        m.forward(np.array([[1.0, np.nan, 0.0], [np.inf, 0.0, 0.0]]))
    with pytest.raises(TypeError, match="X must hold real numbers"):
        m.forward(np.array([["a", "b", "c"]]))
    with pytest.raises(ValueError, match="n_features must be >= 1"):
        Linear(0)
    with pytest.raises(ValueError, match="activation must be one of"):
        MLP(2, activation="gelu")
    with pytest.raises(ValueError, match="output='softmax' needs n_outputs >= 2"):
        Linear(2, output="softmax")
