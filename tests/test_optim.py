"""Optimisers and schedules against torch.optim, step for step.

Oracle: ``torch.optim`` (2.13, float64, single-tensor path) fed the same gradients. Tolerance:
1e-12 relative to the largest parameter, over 100 steps (measured worst: about 8e-16).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import losslab as ll
from losslab import optim

RTOL = 1e-12

# (losslab optimiser, torch class, torch keyword arguments): every option each one has.
PAIRS = [
    (optim.GradientDescent(0.1), torch.optim.SGD, dict(lr=0.1)),
    (optim.GradientDescent(0.1, weight_decay=0.1), torch.optim.SGD, dict(lr=0.1, weight_decay=0.1)),
    (optim.Momentum(0.05), torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
    (optim.Momentum(0.05, momentum=0.5, dampening=0.3), torch.optim.SGD,
     dict(lr=0.05, momentum=0.5, dampening=0.3)),
    (optim.Momentum(0.05, nesterov=True, weight_decay=0.01), torch.optim.SGD,
     dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (optim.AdaGrad(0.1), torch.optim.Adagrad, dict(lr=0.1)),
    (optim.AdaGrad(0.1, lr_decay=0.01, initial_accumulator_value=0.1, weight_decay=0.01),
     torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1,
                               weight_decay=0.01)),
    (optim.RMSProp(0.01), torch.optim.RMSprop, dict(lr=0.01)),
    (optim.RMSProp(0.01, centered=True, momentum=0.5, weight_decay=0.1), torch.optim.RMSprop,
     dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
    (optim.Adam(0.01), torch.optim.Adam, dict(lr=0.01)),
    (optim.Adam(0.01, beta1=0.5, beta2=0.9, eps=1e-6, amsgrad=True, weight_decay=0.1),
     torch.optim.Adam, dict(lr=0.01, betas=(0.5, 0.9), eps=1e-6, amsgrad=True, weight_decay=0.1)),
    (optim.AdamW(0.01), torch.optim.AdamW, dict(lr=0.01)),
    (optim.AdamW(0.01, weight_decay=0.3, amsgrad=True), torch.optim.AdamW,
     dict(lr=0.01, weight_decay=0.3, amsgrad=True)),
]


def _quadratic(seed=0, d=6):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(d, d))
    A = A @ A.T / d + np.eye(d)
    c = rng.normal(size=d)
    return lambda p, t: A @ p - c + 0.1 * np.sin(t)  # a gradient that depends on the iterate


@pytest.mark.parametrize("ours,torch_cls,kwargs", PAIRS, ids=[repr(p[0]) for p in PAIRS])
def test_matches_torch_step_for_step(ours, torch_cls, kwargs):
    grad = _quadratic()
    p = {"w": np.full(6, 0.5), "b": np.array([1.0, -2.0])}
    state = ours.init(p)
    tw = torch.tensor(p["w"], requires_grad=True)
    tb = torch.tensor(p["b"], requires_grad=True)
    topt = torch_cls([tw, tb], **kwargs)
    for t in range(100):
        g = {"w": grad(p["w"], t), "b": np.cos(t) * p["b"] + 1.0}
        p, state = ours.update(p, g, state)
        tw.grad = torch.tensor(grad(tw.detach().numpy(), t))
        tb.grad = torch.tensor(np.cos(t) * tb.detach().numpy() + 1.0)
        topt.step()
        for ref, key in ((tw, "w"), (tb, "b")):
            r = ref.detach().numpy()
            np.testing.assert_allclose(p[key], r, rtol=0, atol=RTOL * np.max(np.abs(r)),
                                       err_msg=f"step {t + 1}, {key}")
    assert state.step == 100


def test_textbook_momentum_coincides_with_pytorch_convention():
    # The course writes momentum as v <- beta v - lr g; theta <- theta + v. losslab (and PyTorch)
    # keep b <- beta b + g; theta <- theta - lr b. With constant lr these are one iteration
    # (v = -lr b). Oracle: the textbook loop written out here; 100 steps, 1e-12 relative.
    grad = _quadratic(seed=3)
    lr, beta = 0.05, 0.9
    theta_book, v = np.zeros(6), np.zeros(6)
    opt = optim.Momentum(lr, momentum=beta)
    theta, state = np.zeros(6), opt.init(np.zeros(6))
    for t in range(100):
        v = beta * v - lr * grad(theta_book, t)
        theta_book = theta_book + v
        theta, state = opt.update(theta, grad(theta, t), state)
        np.testing.assert_allclose(theta, theta_book, rtol=0,
                                   atol=RTOL * np.max(np.abs(theta_book)))
        np.testing.assert_allclose(-lr * state.slots[""]["buffer"], v, rtol=0,
                                   atol=RTOL * np.max(np.abs(v)))


@pytest.mark.parametrize("ours,make_torch", [
    (optim.StepDecay(0.1, step_size=7, gamma=0.5),
     lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.5)),
    (optim.ExponentialDecay(0.1, gamma=0.97),
     lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.97)),
    (optim.CosineDecay(0.1, t_max=100, eta_min=0.001),
     lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=100, eta_min=0.001)),
], ids=["step", "exponential", "cosine"])
def test_schedules_match_torch_schedulers(ours, make_torch):
    # Oracle: torch's scheduler stepped once per optimiser step; parameters compared after 100
    # Adam steps and the learning rate at every step (1e-12 relative; torch's cosine is recursive).
    grad = _quadratic(seed=1)
    opt = optim.Adam(ours)
    p, state = np.zeros(6), opt.init(np.zeros(6))
    tp = torch.zeros(6, dtype=torch.float64, requires_grad=True)
    topt = torch.optim.Adam([tp], lr=0.1)
    sched = make_torch(topt)
    for t in range(100):
        assert opt.learning_rate(t) == pytest.approx(topt.param_groups[0]["lr"], rel=1e-12)
        p, state = opt.update(p, grad(p, t), state)
        tp.grad = torch.tensor(grad(tp.detach().numpy(), t))
        topt.step()
        sched.step()
    np.testing.assert_allclose(p, tp.detach().numpy(), rtol=RTOL)


def test_update_is_pure():
    opt = optim.Adam(0.1)
    p = {"w": np.ones(3)}
    g = {"w": np.full(3, 2.0)}
    state = opt.init(p)
    p2, state2 = opt.update(p, g, state)
    np.testing.assert_array_equal(p["w"], 1.0)
    np.testing.assert_array_equal(g["w"], 2.0)
    np.testing.assert_array_equal(state.slots["w"]["m"], 0.0)
    assert state.step == 0 and state2.step == 1
    assert not np.shares_memory(p2["w"], p["w"])


def test_first_adam_step_is_lr_times_sign():
    # Closed form: after one step with bias correction, m_hat / sqrt(v_hat) = g / |g|, so the step
    # is lr * sign(g) (up to eps).
    opt = optim.Adam(0.01, eps=1e-300)
    p, _ = opt.update(np.zeros(3), np.array([5.0, -0.001, 2e3]), opt.init(np.zeros(3)))
    np.testing.assert_allclose(p, [-0.01, 0.01, -0.01], rtol=1e-15)


def test_get_by_name_and_validation():
    assert isinstance(optim.get("adam"), optim.Adam)
    assert optim.get("nesterov").nesterov is True
    assert optim.get("sgd", lr=0.5) == optim.GradientDescent(0.5)
    assert set(optim.names()) >= {"gd", "sgd", "momentum", "nesterov", "adagrad", "rmsprop",
                                  "adam", "adamw"}
    with pytest.raises(ValueError, match="lr must be > 0, got -0.1"):
        optim.Adam(-0.1)
    with pytest.raises(ValueError, match="lr must be > 0, got 0.0"):
        optim.GradientDescent(0.0)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        optim.get("adamax")
    with pytest.raises(ValueError, match="momentum must be < 1"):
        optim.Momentum(0.1, momentum=1.0)
    with pytest.raises(ValueError, match="Nesterov momentum requires dampening = 0"):
        optim.Momentum(0.1, nesterov=True, dampening=0.1)
    with pytest.raises(ValueError, match="keys of params"):
        opt = optim.Adam()
        opt.update({"a": np.zeros(2)}, {"b": np.zeros(2)}, opt.init({"a": np.zeros(2)}))
    with pytest.raises(ValueError, match="eta_min must be <= lr"):
        optim.CosineDecay(0.1, t_max=10, eta_min=0.2)
    assert "eps" in repr(optim.RMSProp())
