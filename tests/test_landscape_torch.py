"""Neural-network landscapes with PyTorch: the same surface as losslab's NumPy MLP, batched
(vmap) equal to one-at-a-time, the module never modified, filter normalisation per output unit,
exact Hessian-vector products."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import losslab as ll
from losslab import landscapes as L
from losslab import models


def _pair(seed=0):
    """A torch MLP and losslab's MLP with the same weights (losslab stores W as (in, out))."""
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16),
                              torch.nn.Tanh(), torch.nn.Linear(16, 3)).double()
    m = models.MLP(4, (16, 16), 3, activation="tanh")
    sd = net.state_dict()
    m.params = {"W0": sd["0.weight"].numpy().T.copy(), "b0": sd["0.bias"].numpy().copy(),
                "W1": sd["2.weight"].numpy().T.copy(), "b1": sd["2.bias"].numpy().copy(),
                "W_out": sd["4.weight"].numpy().T.copy(), "b_out": sd["4.bias"].numpy().copy()}
    return net, m


def _to_losslab_order(net, m, vec):
    """A torch flat vector (rows = output units) in losslab's flat order (columns)."""
    p = {}
    i = 0
    for name, t in net.named_parameters():
        size = t.numel()
        p[name] = vec[i:i + size].reshape(tuple(t.shape))
        i += size
    return m.ravel({"W0": p["0.weight"].T, "b0": p["0.bias"], "W1": p["2.weight"].T,
                    "b1": p["2.bias"], "W_out": p["4.weight"].T, "b_out": p["4.bias"]})


def test_torch_landscape_equals_numpy_mlp_and_batching_is_exact(rng):
    # Oracle: losslab's NumPy MLP with the same weights and plane (sparse_cce on logits is
    # torch's cross_entropy); 1e-12 relative. vmap and the loop agree to 1e-12.
    net, m = _pair()
    X, y = rng.normal(size=(50, 4)), rng.integers(0, 3, 50)
    plane = L.torch_plane(net, kind="filter", seed=3)
    a, b = np.linspace(-1, 1, 5), np.linspace(-0.5, 0.5, 4)
    f = torch.nn.functional.cross_entropy
    looped = L.torch_landscape(net, f, X, y, plane=plane, alpha=a, beta=b, batch=False)
    batched = L.torch_landscape(net, f, X, y, plane=plane, alpha=a, beta=b, batch=True)
    auto = L.torch_landscape(net, f, X, y, plane=plane, alpha=a, beta=b)
    np.testing.assert_allclose(batched.values, looped.values, rtol=1e-12)
    np.testing.assert_allclose(auto.values, looped.values, rtol=1e-12)
    assert auto.meta["batched"] in (True, False)
    assert set(auto.meta["pilot_seconds_per_point"]) == {"loop", "vmap"}
    np_plane = L.Plane(_to_losslab_order(net, m, plane.center), _to_losslab_order(net, m, plane.d1),
                       _to_losslab_order(net, m, plane.d2), "filter-normalized")
    ours = L.landscape(m, ll.get("sparse_cce", from_logits=True), X, y, plane=np_plane, alpha=a,
                       beta=b)
    np.testing.assert_allclose(looped.values, ours.values, rtol=1e-12)
    # filter normalisation: each output unit (row of a Linear weight) has the centre's norm
    d = _to_losslab_order(net, m, plane.d1)
    for name in ("W0", "W1", "W_out"):
        np.testing.assert_allclose(np.linalg.norm(m.unravel(d)[name], axis=0),
                                   np.linalg.norm(m.params[name], axis=0), rtol=1e-12)
        assert not np.any(m.unravel(d)["b0"])


def test_module_is_never_modified_and_conv_filters_normalise(rng):
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                              torch.nn.Flatten(), torch.nn.Linear(4 * 4 * 4, 2)).double()
    net.train()
    X = rng.normal(size=(8, 1, 6, 6))
    y = rng.integers(0, 2, 8)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    plane = L.torch_plane(net, seed=0)
    L.torch_landscape(net, torch.nn.functional.cross_entropy, X, y, plane=plane,
                      alpha=np.linspace(-1, 1, 3), beta=np.linspace(-1, 1, 3))
    assert net.training  # the flag is restored
    for k, v in net.state_dict().items():  # weights and batch-norm statistics untouched
        assert torch.equal(v, before[k]), k
    # Conv2d weight (out, in, kh, kw): one filter per output channel has the centre's norm;
    # batch-norm weight and bias (1-D) do not move with bias="zero"
    i = 0
    for name, p in net.named_parameters():
        size = p.numel()
        d = plane.d1[i:i + size].reshape(tuple(p.shape))
        c = plane.center[i:i + size].reshape(tuple(p.shape))
        if p.dim() >= 2:
            red = tuple(range(1, p.dim()))
            np.testing.assert_allclose(np.sqrt((d ** 2).sum(axis=red)),
                                       np.sqrt((c ** 2).sum(axis=red)), rtol=1e-12)
        else:
            assert not np.any(d), name
        i += size


def test_torch_hvp_is_the_exact_hessian(rng):
    # Oracle: torch.autograd.functional.hessian of the same cost (dense), eigenvalues by NumPy.
    net, _ = _pair(2)
    X, y = rng.normal(size=(30, 4)), rng.integers(0, 3, 30)
    f = torch.nn.functional.cross_entropy
    hvp = L.torch_hvp(net, f, X, y)
    theta = torch.tensor(L.flat_parameters(net))
    shapes = [(n, p.shape) for n, p in net.named_parameters()]

    def cost(vec):
        params, i = {}, 0
        for n, s in shapes:
            k = int(np.prod(s))
            params[n] = vec[i:i + k].reshape(s)
            i += k
        return f(torch.func.functional_call(net, params, (torch.tensor(X),)), torch.tensor(y))

    H = torch.autograd.functional.hessian(cost, theta).numpy()
    v = rng.normal(size=theta.numel())
    np.testing.assert_allclose(hvp(v), H @ v, rtol=1e-10, atol=1e-12)
    lam = np.linalg.eigvalsh((H + H.T) / 2)
    lo, hi = L.hessian_extremes(hvp, theta.numel(), k=1)
    np.testing.assert_allclose([lo[0], hi[0]], [lam[0], lam[-1]], rtol=1e-6, atol=1e-8)


def test_skip_connection_case_runs_small():
    from losslab.labs.landscapes import skip_case

    r = skip_case(n=5, depth=3, width=8, epochs=30)
    rows = {row["network"]: row for row in r.tables["networks"]}
    assert set(rows) == {"with skip connections", "without skip connections"}
    for row in rows.values():
        assert row["hessian_min_eigenvalue"] <= row["hessian_max_eigenvalue"]
        assert 0 <= row["slice_nonconvex_fraction"] <= 1
    fig = r.figure()
    assert len(fig.axes) == 3  # two surfaces and their one colour bar
    # the compared panels share their z range and colour scale (covering both surfaces)
    (z0, z1), (w0, w1) = fig.axes[0].get_zlim(), fig.axes[1].get_zlim()
    assert (z0, z1) == (w0, w1)
    values = [ls.values for ls in r.curves["landscapes"].values()]
    assert z0 == min(v.min() for v in values) and z1 == max(v.max() for v in values)


def test_torch_bad_input():
    net, _ = _pair()
    with pytest.raises(ValueError, match="batch must be 'auto', True or False"):
        L.torch_landscape(net, torch.nn.functional.cross_entropy, np.zeros((2, 4)), [0, 1],
                          plane=L.torch_plane(net), alpha=[0.0], beta=[0.0], batch="yes")
    with pytest.raises(ValueError, match="needs final"):
        L.torch_plane(net, kind="interpolation")
