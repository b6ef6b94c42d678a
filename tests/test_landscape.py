"""Landscapes: alignment, grids of any shape, exact paths against brute force, resumable chunks,
directions, critical points, Hessian tools, pictures and the command line.

Oracles: brute force (one forward pass and the loss per grid point: ``method="generic"``, itself
``loss(y, model.forward(X, params))``), closed forms (quadratics, eigenvalues of dense Hessians
from NumPy), SciPy's statistical tests for random directions.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import losslab as ll
from losslab import landscapes as L
from losslab import models
from losslab.cli import app
from conftest import cases_where, make


def _fits(loss):
    if isinstance(loss, ll.MultiInputLoss):
        return False
    return loss.sample_inputs(np.random.default_rng(0), 4)[1].ndim <= 2


LANDSCAPE_CASES = cases_where(_fits)


def _random_linear(loss, rng, n=15):
    y, yp = loss.sample_inputs(rng, n)
    k = 1 if yp.ndim == 1 else yp.shape[1]
    model = models.Linear(k, k)
    model.params = {"W": np.eye(k) + 0.01 * rng.normal(size=(k, k)), "b": 0.01 * rng.normal(size=k)}
    return model, yp.reshape(n, k), y


@pytest.mark.parametrize("case", LANDSCAPE_CASES)
def test_projected_path_equals_brute_force_for_every_loss(case, rng):
    # The projected path (three products with the data, then O(n k) per point) against one
    # forward pass per grid point; 1e-12 relative. Small steps keep outputs in each domain.
    loss = make(case)
    model, X, y = _random_linear(loss, rng)
    w = rng.uniform(0.5, 2.0, size=X.shape[0])
    plane = L.gaussian(model, seed=1)
    plane = L.Plane(plane.center, 0.01 * plane.d1, 0.01 * plane.d2, "gaussian")
    a, b = np.linspace(-1, 1, 4), np.linspace(-1, 1, 3)
    fast = L.landscape(model, loss, X, y, plane=plane, alpha=a, beta=b, sample_weight=w)
    slow = L.landscape(model, loss, X, y, plane=plane, alpha=a, beta=b, sample_weight=w,
                       method="generic")
    assert fast.method in ("projected", "exact-quadratic")
    np.testing.assert_allclose(fast.values, slow.values, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("loss", ["mse", "huber"])
def test_first_layer_path_equals_brute_force(loss, activation, residual, rng):
    X, y = rng.normal(size=(40, 5)), rng.normal(size=40)
    model = models.MLP(5, (6, 6, 4), activation=activation, residual=residual, seed=3)
    plane = L.filter_normalized(model, seed=2, bias="filter")
    a, b = np.linspace(-1, 1, 5), np.linspace(-0.5, 0.5, 4)
    fast = L.landscape(model, loss, X, y, plane=plane, alpha=a, beta=b, chunk_bytes=10_000)
    slow = L.landscape(model, loss, X, y, plane=plane, alpha=a, beta=b, method="generic")
    assert fast.method == "first-layer" and fast.meta["chunk_points"] < 20
    np.testing.assert_allclose(fast.values, slow.values, rtol=1e-12)


def test_exact_quadratic_equals_brute_force_and_the_closed_form(rng):
    X = rng.normal(size=(100, 3))
    Y = rng.normal(size=(100, 2))
    model = models.Linear(3, 2)
    plane = L.gaussian(model, seed=0)
    a, b = np.linspace(-2, 2, 9), np.linspace(-1, 3, 6)
    w = rng.uniform(0.1, 1, size=100)
    exact = L.landscape(model, "mse", X, Y, plane=plane, alpha=a, beta=b, sample_weight=w)
    brute = L.landscape(model, "mse", X, Y, plane=plane, alpha=a, beta=b, sample_weight=w,
                        method="generic")
    assert exact.method == "exact-quadratic"
    np.testing.assert_allclose(exact.values, brute.values, rtol=1e-12)


def test_symmetric_bowl_lands_at_the_grid_centre():
    # Alignment: a linear model whose cost is a symmetric bowl around its minimiser (orthogonal,
    # equally scaled columns, the plane centred on the least-squares point): the grid minimum
    # is the centre point, and values mirror exactly in both axes, row by row.
    n = 64
    X = np.column_stack([np.tile([1.0, -1.0], n // 2), np.repeat([1.0, -1.0], n // 2)])
    y = X @ [0.7, -0.3] + 0.01 * np.sin(np.arange(n))
    model = models.Linear(2)
    model.params = {"W": np.linalg.lstsq(X, y, rcond=None)[0].reshape(2, 1), "b": np.zeros(1)}
    e = np.eye(3)
    plane = L.Plane(model.ravel(), e[0], e[1], "axes")
    a, b = np.linspace(-1, 1, 21), np.linspace(-1, 1, 21)
    ls = L.landscape(model, "mse", X, y, plane=plane, alpha=a, beta=b)
    assert ls.argmin()[0] == (0.0, 0.0)
    np.testing.assert_allclose(ls.values, ls.values[::-1, :], rtol=1e-13)
    np.testing.assert_allclose(ls.values, ls.values[:, ::-1], rtol=1e-13)
    np.testing.assert_allclose(ls.values, ls.values.T, rtol=1e-13)  # equal curvature: symmetric
    # the closed form: J* + a^2 + b^2 (each column has mean square 1)
    j_star = np.mean((X @ model.params["W"][:, 0] - y) ** 2)
    A, B = np.meshgrid(a, b, indexing="ij")
    np.testing.assert_allclose(ls.values, j_star + A ** 2 + B ** 2, rtol=1e-12)


def test_non_square_grid_round_trips(rng):
    X, y = rng.normal(size=(30, 2)), rng.normal(size=30)
    model = models.Linear(2)
    plane = L.axes(model, "W[0, 0]", "b")
    a, b = np.linspace(-1, 2, 7), np.array([-3.0, 0.5, 4.0])
    ls = L.landscape(model, "huber", X, y, plane=plane, alpha=a, beta=b)
    assert ls.values.shape == (7, 3)
    for i, j in [(0, 0), (6, 2), (3, 1), (1, 2)]:
        params = {"W": np.array([[a[i]], [0.0]]), "b": np.array([b[j]])}
        expected = float(ll.get("huber")(y, model.forward(X, params=params)))
        assert ls.values[i, j] == pytest.approx(expected, rel=1e-13)
    back = json.loads(json.dumps(ls.to_dict()))
    np.testing.assert_array_equal(np.array(back["values"]), ls.values)
    assert back["alpha"] == a.tolist() and back["beta"] == b.tolist()
    fig = ls.figure(kind="contour")
    marker = [ln for ln in fig.axes[0].get_lines() if ln.get_label().startswith("grid minimum")][0]
    assert (marker.get_xdata()[0], marker.get_ydata()[0]) == ls.argmin()[0]


def test_model_is_unchanged(rng):
    X, y = rng.normal(size=(20, 3)), rng.normal(size=20)
    for model in (models.Linear(3), models.MLP(3, (4, 4), residual=True)):
        before = {k: v.copy() for k, v in model.params.items()}
        plane = L.filter_normalized(model, seed=0)
        L.landscape(model, "mse", X, y, plane=plane, alpha=np.linspace(-1, 1, 3),
                    beta=np.linspace(-1, 1, 3))
        L.model_hessian(model, ll.get("mse"), X, y)
        for k in before:
            np.testing.assert_array_equal(model.params[k], before[k])


def test_directions_distribution_and_normalisation(rng):
    from scipy import stats

    model = models.MLP(6, (50, 40), 3, seed=1)
    g = L.gaussian(model, seed=5)
    assert stats.kstest(g.d1, "norm").pvalue > 1e-3 and stats.kstest(g.d2, "norm").pvalue > 1e-3
    assert abs(np.corrcoef(g.d1, g.d2)[0, 1]) < 0.05
    model.params["b0"] = rng.normal(size=50)
    for bias in ("zero", "filter", "keep"):
        f = L.filter_normalized(model, seed=5, bias=bias)
        for d in (f.d1, f.d2):
            p = model.unravel(d)
            for name in ("W0", "W1", "W_out"):  # each output unit's column has theta's norm
                np.testing.assert_allclose(np.linalg.norm(p[name], axis=0),
                                           np.linalg.norm(model.params[name], axis=0), rtol=1e-12)
            if bias == "zero":
                assert not np.any(p["b0"]) and not np.any(p["b_out"])
            elif bias == "filter":
                assert np.linalg.norm(p["b0"]) == pytest.approx(np.linalg.norm(model.params["b0"]))
                assert not np.any(p["b_out"])  # a zero bias: nothing to scale to
            else:
                assert stats.kstest(p["b0"], "norm").pvalue > 1e-4
        assert not np.array_equal(f.d1, f.d2)
    # reproducible for a seed
    np.testing.assert_array_equal(L.filter_normalized(model, seed=5).d1,
                                  L.filter_normalized(model, seed=5).d1)


def test_interpolation_and_pca_planes(rng):
    a, b = rng.normal(size=7), rng.normal(size=7)
    line = L.interpolation(a, b)
    np.testing.assert_allclose(line.point(0.0), a)
    np.testing.assert_allclose(line.point(1.0), b)
    np.testing.assert_allclose(line.point(1.5), b + 0.5 * (b - a))  # extrapolation
    # a trajectory inside a plane: two components explain everything, distances are 0
    u, v = rng.normal(size=10), rng.normal(size=10)
    t = np.linspace(0, 1, 12)
    traj = 3.0 + np.outer(np.cos(3 * t), u) + np.outer(t ** 2, v)
    plane = L.pca(traj)
    assert sum(plane.info["explained_variance_ratio"]) == pytest.approx(1.0, abs=1e-12)
    assert np.max(plane.info["distance"]) < 1e-12
    coords, _ = plane.project(traj)
    np.testing.assert_allclose(plane.points(coords), traj, atol=1e-12)
    noisy = traj + 0.01 * rng.normal(size=traj.shape)
    p2 = L.pca(noisy)
    assert 0 < p2.info["distance"].max() < 0.1 and sum(p2.info["explained_variance_ratio"]) < 1
    with pytest.raises(ValueError, match="same point"):
        L.interpolation(a, a)


def test_resumed_equals_uninterrupted(tmp_path, rng, monkeypatch):
    X, y = rng.normal(size=(50, 3)), rng.normal(size=50)
    model = models.MLP(3, (8,), seed=0)
    plane = L.filter_normalized(model, seed=1)
    a, b = np.linspace(-1, 1, 13), np.linspace(-1, 1, 11)
    kw = dict(plane=plane, alpha=a, beta=b, chunk_bytes=30_000)
    whole = L.landscape(model, "huber", X, y, **kw)
    assert whole.meta["chunks"] > 3  # many chunks, each a block of rows
    # A run killed mid-grid leaves some finished chunks: made here by deleting all but three
    # chunks of a finished store.
    store = tmp_path / "grid.zarr"
    L.landscape(model, "huber", X, y, store=store, **kw)
    chunks = sorted((store / "values" / "c").glob("*/0"), key=lambda p: int(p.parent.name))
    assert len(chunks) == whole.meta["chunks"]
    for path in chunks[3:]:
        path.unlink()
    resumed = L.landscape(model, "huber", X, y, store=store, **kw)
    np.testing.assert_array_equal(resumed.values, whole.values)
    # two workers sharing a store
    shared = tmp_path / "shared.zarr"
    part = L.landscape(model, "huber", X, y, store=shared, worker=(0, 2), **kw)
    assert not part.complete and part.missing > 0
    with pytest.raises(ValueError, match="incomplete"):
        part.argmin()
    L.landscape(model, "huber", X, y, store=shared, worker=(1, 2), **kw)
    done = L.landscape(model, "huber", X, y, store=shared, **kw)
    np.testing.assert_array_equal(done.values, whole.values)
    with pytest.raises(L.StoreError, match="holds chunks of a different landscape"):
        L.landscape(model, "mse", X, y, store=store, **kw)


@pytest.mark.parametrize("name", list(L.SURFACES))
def test_demonstration_surfaces_are_classified(name):
    s = L.get_surface(name)
    for point, kind in s.critical:
        assert L.classify(np.linalg.eigvalsh(s.hessian(point))) == kind
        assert np.linalg.norm(s.gradient(point)) < 1e-12
    found = L.find_critical_points(s, s.gradient, s.hessian, s.bounds)
    isolated = [c for c in s.critical if name != "plateau"]
    for point, kind in isolated:
        match = [c for c in found if np.linalg.norm(np.subtract(c.point, point)) < 1e-6]
        assert len(match) == 1 and match[0].kind == kind, (point, kind, found)
    if name == "plateau":
        assert found and all(c.kind == "degenerate" for c in found)
    # gradient and hessian against central differences (closed forms written by hand)
    p = np.array([0.37, -0.61])
    h = 1e-5
    fd = [(s(p + h * e) - s(p - h * e)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(s.gradient(p), fd, rtol=1e-7, atol=1e-8)
    fdh = np.array([(s.gradient(p + h * e) - s.gradient(p - h * e)) / (2 * h) for e in np.eye(2)])
    np.testing.assert_allclose(s.hessian(p), fdh, rtol=1e-6, atol=1e-6)


def test_classify_rules():
    assert L.classify([1.0, 2.0]) == "minimum"
    assert L.classify([-1.0, -2.0]) == "maximum"
    assert L.classify([-1.0, 0.0, 2.0]) == "saddle"
    assert L.classify([0.0, 2.0]) == "degenerate"
    assert L.classify([1e-13, 2.0]) == "degenerate"


def test_hessian_tools_against_exact_eigenvalues(rng):
    # Oracle: numpy.linalg.eigvalsh of a dense Hessian.
    X, y = rng.normal(size=(60, 4)), rng.normal(size=60)
    model = models.Linear(4)
    model.params = {"W": rng.normal(size=(4, 1)), "b": np.array([0.3])}
    loss = ll.get("log_cosh")
    H = L.model_hessian(model, loss, X, y)  # exact: A^T diag(h) A / n
    hvp = L.model_hvp(model, loss, X, y)
    Hfd = np.column_stack([hvp(e) for e in np.eye(5)])
    np.testing.assert_allclose(Hfd, H, rtol=1e-7, atol=1e-9 * np.abs(H).max())
    mlp = models.MLP(4, (5,), activation="tanh", seed=2)
    Hm = L.model_hessian(mlp, ll.get("mse"), X, y)
    lam = np.linalg.eigvalsh(Hm)
    lo, hi = L.hessian_extremes(L.model_hvp(mlp, ll.get("mse"), X, y), mlp.n_params, k=2)
    np.testing.assert_allclose(lo, lam[:2], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(hi, lam[-2:], rtol=1e-5)
    # Hutchinson: unbiased; within 4 standard errors of the exact trace
    A = rng.normal(size=(30, 30))
    S = A @ A.T / 30
    est, se = L.hutchinson_trace(lambda v: S @ v, 30, samples=400, seed=1)
    assert abs(est - np.trace(S)) < 4 * se
    # SLQ: with as many steps as the dimension, one vector's nodes are the eigenvalues
    nodes, weights = L.spectral_density(lambda v: S @ v, 30, steps=30, vectors=1)
    np.testing.assert_allclose(np.sort(nodes), np.linalg.eigvalsh(S), rtol=1e-9, atol=1e-12)
    assert weights.sum() == pytest.approx(1.0)
    # and with few steps, its first two moments estimate tr(S)/n and tr(S^2)/n (statistical
    # tolerance: 400 vectors, about 3 standard errors)
    nodes, weights = L.spectral_density(lambda v: S @ v, 30, steps=6, vectors=400, seed=2)
    lam = np.linalg.eigvalsh(S)
    assert nodes @ weights == pytest.approx(lam.mean(), rel=0.05)
    assert (nodes ** 2) @ weights == pytest.approx((lam ** 2).mean(), rel=0.1)
    grid = np.linspace(lam.min() - 1, lam.max() + 1, 2001)
    dens = L.density(nodes, weights, grid, sigma=0.05)
    assert np.trapezoid(dens, grid) == pytest.approx(1.0, rel=1e-3)


def test_slice_curvature_matches_the_grid(rng):
    # The 2 x 2 curvature of the plotted slice from Hessian-vector products equals the second
    # differences of the landscape at its centre (a quadratic cost: exact to rounding).
    X, y = rng.normal(size=(40, 2)), rng.normal(size=40)
    model = models.Linear(2)
    plane = L.gaussian(model, seed=3)
    hvp = L.model_hvp(model, ll.get("mse"), X, y)
    C = L.slice_curvature(hvp, plane.d1, plane.d2)
    h = 1e-2
    ls = L.landscape(model, "mse", X, y, plane=plane, alpha=np.array([-h, 0, h]),
                     beta=np.array([-h, 0, h]))
    Z = ls.values
    fd = np.array([[(Z[2, 1] - 2 * Z[1, 1] + Z[0, 1]) / h ** 2,
                    (Z[2, 2] - Z[2, 0] - Z[0, 2] + Z[0, 0]) / (4 * h * h)],
                   [0, (Z[1, 2] - 2 * Z[1, 1] + Z[1, 0]) / h ** 2]])
    fd[1, 0] = fd[0, 1]
    np.testing.assert_allclose(C, fd, rtol=1e-6)


def test_bad_input(rng):
    X, y = rng.normal(size=(10, 2)), rng.normal(size=10)
    model = models.Linear(2)
    plane = L.gaussian(model)
    with pytest.raises(ValueError, match="alpha must be finite; 1 of 3 values are not"):
        L.landscape(model, "mse", X, y, plane=plane, alpha=[0, np.nan, 1], beta=[0, 1])
    with pytest.raises(ValueError, match="needs beta"):
        L.landscape(model, "mse", X, y, plane=plane, alpha=[0, 1])
    with pytest.raises(ValueError, match="plane has 4 parameters, the model 3"):
        L.landscape(model, "mse", X, y, plane=L.gaussian(np.zeros(4)), alpha=[0], beta=[0])
    with pytest.raises(ValueError, match="'exact-quadratic' is for MSE"):
        L.landscape(model, "mae", X, y, plane=plane, alpha=[0], beta=[0], method="exact-quadratic")
    with pytest.raises(ValueError, match="unknown parameter 'V'"):
        L.axes(model, "V", "b")
    with pytest.raises(ValueError, match="unknown surface"):
        L.get_surface("volcano")


def test_pictures_and_html(tmp_path):
    ls = L.surface_landscape("double_well", n=41)
    s = L.get_surface("double_well")
    path = ll.optim.minimize(s.value_and_grad, (0.1, 1.0), ll.optim.GradientDescent(0.05), steps=50)
    fig = ls.figure(paths={"gd": path}, log=True)
    assert len(fig.axes) == 2
    contour_line = [ln for ln in fig.axes[1].get_lines() if ln.get_label() == "gd"][0]
    np.testing.assert_array_equal(contour_line.get_xdata(), path.points[:, 0])
    out = ls.to_html(tmp_path / "dw.html", paths={"gd": path})
    text = out.read_text()
    assert "<script src=" not in text.split("plotly.js")[0][-200:] and "Plotly.newPlot" in text
    # plotly.js and the figure are embedded gzipped (about 2 MB where the plain page is 5 MB)
    import base64
    import gzip
    import re

    blobs = dict(re.findall(r'<script type="application/octet-stream" id="([a-z-]+)">([^<]+)<',
                            text))
    plotly_js = gzip.decompress(base64.b64decode(blobs["plotly-gz"])).decode()
    figure = gzip.decompress(base64.b64decode(blobs["figure-gz"])).decode()
    assert "x=%{x:.4g}" in figure and len(plotly_js) > 1_000_000
    assert 1_000_000 < len(text) < 2_500_000
    line = L.function_landscape(lambda P: (P ** 2).sum(axis=1), L.interpolation(np.zeros(2), np.ones(2)),
                                np.linspace(-0.5, 1.5, 21))
    assert len(line.figure().axes) == 1
    np.testing.assert_allclose(line.values, 2 * np.linspace(-0.5, 1.5, 21) ** 2, rtol=1e-14)


def test_landscape_command(tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["landscape", "course", "--out", str(tmp_path), "--grid", "30"])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "landscape-course-mse.json").read_text())
    ls_point = data["numbers"]["least_squares"]
    assert ls_point["w"] == pytest.approx(2.0309, abs=1e-4)
    assert (tmp_path / "landscape-course-mse.html").exists()
    res = runner.invoke(app, ["landscape", "double_well", "--out", str(tmp_path), "--no-html"])
    assert res.exit_code == 0 and "saddle" in res.output
    data = json.loads((tmp_path / "landscape-double_well.json").read_text())
    paths = {r["optimizer"]: r for r in data["numbers"]["paths"]}
    # plain descent lingers near the saddle; momentum and noise leave it sooner
    assert paths["gradient descent"]["steps_within_0.1_of_saddle"] > \
        paths["momentum 0.9"]["steps_within_0.1_of_saddle"]
    assert paths["gradient descent"]["steps_within_0.1_of_saddle"] > \
        paths["gradient descent + noise 0.1"]["steps_within_0.1_of_saddle"]
    csv = tmp_path / "d.csv"
    csv.write_text("x,y\n1,3\n2,5\n3,7.5\n4,9\n")
    res = runner.invoke(app, ["landscape", "csv", "--csv", str(csv), "--target", "y", "--out",
                              str(tmp_path), "--no-html"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["landscape", "csv", "--csv", str(csv), "--target", "z"])
    assert res.exit_code == 2 and "'z'; the columns are" in res.output
    res = runner.invoke(app, ["landscape", "volcano"])
    assert res.exit_code == 2 and "unknown case" in res.output


def test_training_history_draws_on_its_plane(rng):
    # A linear model's whole trajectory lies in the (w, b) axes plane (distance 0), and the
    # drawn path is the trajectory's (w, b) coordinates.
    X = rng.normal(size=(40, 1))
    y = 2 * X[:, 0] + 1
    model = models.Linear(1)
    hist = ll.train(model, "mse", X, y, optimizer=ll.optim.GradientDescent(0.1), epochs=30,
                    record="epoch")
    plane = L.axes(model, "W", "b")
    ls = L.landscape(model, "mse", X, y, plane=plane, alpha=np.linspace(-1, 3, 9),
                     beta=np.linspace(-1, 3, 9))
    coords, dist = ls.project(hist.trajectory)
    np.testing.assert_allclose(coords, hist.trajectory, atol=1e-15)
    assert np.max(dist) == 0
    fig = ls.figure(kind="contour", paths={"gd": hist})
    drawn = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "gd"][0]
    np.testing.assert_array_equal(drawn.get_xdata(), hist.trajectory[:, 0])
