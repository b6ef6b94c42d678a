"""Critical points and curvature: classification from Hessian eigenvalues, Newton's search for
stationary points, Hessian-vector products, Lanczos extremes, Hutchinson's trace and stochastic
Lanczos quadrature for the spectral density.

Classification of a stationary point from the eigenvalues lambda of its Hessian, with
``tol`` = ``rtol`` * max |lambda| (or ``atol`` when that is larger):

* ``minimum``: every lambda > tol; ``maximum``: every lambda < -tol;
* ``saddle``: some lambda > tol and some < -tol (whatever the others);
* ``degenerate``: otherwise (a zero eigenvalue decides nothing at second order: the monkey
  saddle, a flat plateau).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._core import validation as V

__all__ = ["CriticalPoint", "classify", "find_critical_points", "model_hvp", "model_hessian",
           "hessian_extremes", "hutchinson_trace", "spectral_density", "slice_curvature"]


def classify(eigenvalues, *, rtol: float = 1e-8, atol: float = 1e-10) -> str:
    """``minimum``, ``maximum``, ``saddle`` or ``degenerate`` (see the module docstring)."""
    lam = np.asarray(eigenvalues, dtype=np.float64).ravel()
    if lam.size == 0 or not np.all(np.isfinite(lam)):
        raise ValueError("eigenvalues must be a non-empty array of finite numbers")
    tol = max(atol, rtol * float(np.max(np.abs(lam))))
    pos, neg = np.any(lam > tol), np.any(lam < -tol)
    if pos and neg:
        return "saddle"
    if np.all(lam > tol):
        return "minimum"
    if np.all(lam < -tol):
        return "maximum"
    return "degenerate"


@dataclass(frozen=True)
class CriticalPoint:
    point: tuple
    value: float
    gradient_norm: float
    eigenvalues: tuple
    kind: str


def find_critical_points(fun, grad, hess, bounds, *, starts: int = 7, tol: float = 1e-10,
                         max_iter: int = 500, merge: float = 1e-5) -> list[CriticalPoint]:
    """Stationary points of a function of a few parameters inside ``bounds`` (one (lo, hi) per
    parameter): Newton's method on the gradient (least-squares steps where the Hessian is
    singular) from a ``starts`` x ... grid of starting points; points closer than ``merge`` are
    one; each is classified from its exact Hessian."""
    bounds = np.asarray(bounds, dtype=np.float64)
    axes = [np.linspace(lo, hi, starts) for lo, hi in bounds]
    found: list[CriticalPoint] = []
    for start in np.array(np.meshgrid(*axes, indexing="ij")).reshape(len(axes), -1).T:
        x = start.copy()
        for _ in range(max_iter):
            g = np.asarray(grad(x), dtype=np.float64)
            if not np.any(g):
                break
            step = np.linalg.lstsq(np.asarray(hess(x), dtype=np.float64), -g, rcond=None)[0]
            x = x + step
            # Newton converges only linearly to a degenerate point (the monkey saddle): keep
            # going until the step itself vanishes, so the point is located to rounding and
            # its Hessian is not mistaken for a nearby one's.
            if np.linalg.norm(step) <= 1e-15 * (1.0 + np.linalg.norm(x)):
                break
            if not np.all(np.isfinite(x)) or np.any(x < bounds[:, 0] - 1) or np.any(x > bounds[:, 1] + 1):
                break
        g = np.asarray(grad(x), dtype=np.float64)
        inside = np.all(x >= bounds[:, 0]) and np.all(x <= bounds[:, 1])
        if not (np.all(np.isfinite(x)) and np.linalg.norm(g) <= tol and inside):
            continue
        if any(np.linalg.norm(np.asarray(c.point) - x) < merge for c in found):
            continue
        lam = np.linalg.eigvalsh(np.asarray(hess(x), dtype=np.float64))
        found.append(CriticalPoint(tuple(float(v) for v in x), float(fun(x)),
                                   float(np.linalg.norm(g)), tuple(lam.tolist()), classify(lam)))
    return sorted(found, key=lambda c: c.point)


# ---- Hessians of a model's cost ---------------------------------------------------------------

def _cost_grad(model, loss, X, y, sample_weight):
    def g(theta):
        _, grads = model.value_and_grad(loss, X, y, sample_weight=sample_weight,
                                        params=model.unravel(theta))
        return model.ravel(grads)
    return g


def model_hvp(model, loss, X, y, *, theta=None, sample_weight=None, executor=None,
              shards=None):
    """v -> H v at ``theta`` (default the model's parameters) for the model's cost: a central
    difference of the exact gradient, (g(theta + h v) - g(theta - h v)) / 2h with
    h = 1e-4 max(1, |theta|) / |v| (relative error about 1e-8 for smooth costs).

    ``executor`` (as in ``landscape``: a number of processes, a ``concurrent.futures``
    executor, a Dask ``Client`` or ``"ray"``) splits the data into ``shards`` (default: 2 per
    worker, at least 1) evaluated by the workers, each receiving the model, loss and data once;
    the cost is the weighted mean of the shards' means, so the product equals the serial one
    up to the order of summation. ``hessian_extremes``, ``hutchinson_trace`` and
    ``spectral_density`` then run on the workers through this ``hvp``."""
    from ..training import resolve_loss

    loss = resolve_loss(loss)
    theta = model.ravel() if theta is None else np.asarray(theta, dtype=np.float64)
    scale = 1e-4 * max(1.0, float(np.linalg.norm(theta)))
    if executor is None:
        g = _cost_grad(model, loss, X, y, sample_weight)

        def difference(v, h):  # 2h H v, from the whole data here
            return g(theta + h * v) - g(theta - h * v)
    else:
        difference = _sharded_difference(model, loss, X, y, sample_weight, theta, executor,
                                         shards)

    def hvp(v):
        v = np.asarray(v, dtype=np.float64).ravel()
        nv = float(np.linalg.norm(v))
        if nv == 0.0:
            return np.zeros_like(v)
        h = scale / nv
        return difference(v, h) / (2 * h)
    return hvp


def _sharded_difference(model, loss, X, y, sample_weight, theta, executor, shards):
    """g(theta + h v) - g(theta - h v) summed over data shards evaluated on ``executor``."""
    from ..training import check_data
    from . import _distributed as D
    from ._evaluate import _fingerprint

    X, y, w = check_data(model, loss, X, y, sample_weight)
    n = X.shape[0]
    kind = D.kind_of(executor)
    if shards is None:
        shards = 2 * (int(executor) if kind == "pool" else 2)
    shards = V.check_scalar(shards, "shards", ge=1, integer=True)
    edges = np.linspace(0, n, min(shards, n) + 1).astype(int)
    weight = np.ones(n) if w is None else np.asarray(w, dtype=np.float64)
    total = float(weight.sum())
    parts = [(int(lo), int(hi), float(weight[lo:hi].sum()) / total)
             for lo, hi in zip(edges[:-1], edges[1:]) if weight[lo:hi].sum() > 0]
    key = _fingerprint("hvp", repr(model), theta, repr(loss), X, y, w)
    task = D.GridTask(key, _HvpSpec(model, loss, X, y, w, theta), None, None)

    def difference(v, h):
        out = D.map_tasks(task, [(lo, hi, share, v, h) for lo, hi, share in parts], executor)
        return np.sum(out, axis=0)
    return difference
    return hvp


class _HvpSpec:
    """A shard's Hessian-vector product (picklable): the model, loss, data and theta."""

    def __init__(self, model, loss, X, y, w, theta):
        self.model, self.loss, self.X, self.y, self.w, self.theta = model, loss, X, y, w, theta

    def build(self):
        return self

    def run(self, item):
        lo, hi, share, v, h = item
        w = None if self.w is None else self.w[lo:hi]
        g = _cost_grad(self.model, self.loss, self.X[lo:hi], self.y[lo:hi], w)
        return share * (g(self.theta + h * v) - g(self.theta - h * v))


def model_hessian(model, loss, X, y, *, theta=None, sample_weight=None):
    """The full Hessian of a small model's cost. Exact for a one-output linear model with a
    loss whose hessian is exact and no output head (H = A^T diag(s h) A, A = [X, 1]); otherwise
    the central differences of ``model_hvp`` on each unit vector, symmetrised."""
    from ..models import Linear, head_for

    theta = model.ravel() if theta is None else np.asarray(theta, dtype=np.float64)
    if (isinstance(model, Linear) and model.n_outputs == 1 and loss.info.hessian == "exact"
            and head_for(loss, 1, model.output) == "identity"):
        X = np.asarray(X, dtype=np.float64).reshape(len(y), -1)
        A = np.column_stack([X, np.ones(len(X))])
        pred = A @ theta
        h = np.asarray(loss.hessian(y, pred, sample_weight=sample_weight), dtype=np.float64)
        return (A * h[:, None]).T @ A
    hvp = model_hvp(model, loss, X, y, theta=theta, sample_weight=sample_weight)
    n = theta.size
    H = np.column_stack([hvp(np.eye(n)[i]) for i in range(n)])
    return (H + H.T) / 2


def slice_curvature(hvp, d1, d2):
    """The 2x2 Hessian of the plotted slice, [[d1'Hd1, d1'Hd2], [d2'Hd1, d2'Hd2]]: the second
    derivatives of J(center + a d1 + b d2) in (a, b) at the centre."""
    h1, h2 = hvp(d1), hvp(d2)
    c12 = (float(d1 @ h2) + float(d2 @ h1)) / 2
    return np.array([[float(d1 @ h1), c12], [c12, float(d2 @ h2)]])


def hessian_extremes(hvp, n: int, *, k: int = 1, tol: float = 1e-8, seed=0):
    """The k smallest and k largest Hessian eigenvalues by Lanczos (SciPy's ``eigsh`` on a
    ``LinearOperator`` of ``hvp``): returns (smallest, largest), each ascending."""
    from scipy.sparse.linalg import LinearOperator, eigsh

    n = V.check_scalar(n, "n", ge=2, integer=True)
    k = V.check_scalar(k, "k", ge=1, integer=True)
    if k >= n:
        raise ValueError(f"k must be < n ({n}) for Lanczos; use model_hessian for small models")
    op = LinearOperator((n, n), matvec=lambda v: hvp(np.asarray(v, dtype=np.float64).ravel()),
                        dtype=np.float64)
    v0 = np.random.default_rng(seed).standard_normal(n)
    lo = eigsh(op, k=k, which="SA", tol=tol, v0=v0, return_eigenvectors=False)
    hi = eigsh(op, k=k, which="LA", tol=tol, v0=v0, return_eigenvectors=False)
    return np.sort(lo), np.sort(hi)


def hutchinson_trace(hvp, n: int, *, samples: int = 100, seed=0):
    """Hutchinson's estimator tr(H) ~ mean of v'Hv over Rademacher v: (estimate, standard error)."""
    samples = V.check_scalar(samples, "samples", ge=2, integer=True)
    rng = np.random.default_rng(seed)
    q = np.array([float(v @ hvp(v)) for v in rng.choice([-1.0, 1.0], size=(samples, n))])
    return float(q.mean()), float(q.std(ddof=1) / np.sqrt(samples))


def _lanczos(hvp, v, m):
    """m steps of Lanczos with full reorthogonalisation: the tridiagonal (alpha, beta)."""
    n = v.size
    Q = np.zeros((m, n))
    alpha, beta = np.zeros(m), np.zeros(max(m - 1, 0))
    q = v / np.linalg.norm(v)
    for j in range(m):
        Q[j] = q
        w = hvp(q)
        alpha[j] = q @ w
        w = w - Q[:j + 1].T @ (Q[:j + 1] @ w)
        w = w - Q[:j + 1].T @ (Q[:j + 1] @ w)  # twice is enough (Parlett)
        if j == m - 1:
            break
        b = np.linalg.norm(w)
        if b < 1e-12:  # an invariant subspace: the spectrum seen from v is exhausted
            return alpha[:j + 1], beta[:j]
        beta[j] = b
        q = w / b
    return alpha, beta


def spectral_density(hvp, n: int, *, steps: int = 30, vectors: int = 10, seed=0):
    """Stochastic Lanczos quadrature (Ubaru, Chen & Saad 2017; Ghorbani et al. 2019): for each
    random unit vector, ``steps`` Lanczos steps give Gauss quadrature nodes (Ritz values) and
    weights (squared first components). Returns (nodes, weights), weights summing to 1: the
    spectral measure (1/n) sum delta(lambda_i) is approximated by sum w_k delta(node_k), exact
    for polynomials of degree < 2 steps in expectation. ``density(nodes, weights, grid, sigma)``
    smooths it."""
    steps = V.check_scalar(steps, "steps", ge=1, integer=True)
    vectors = V.check_scalar(vectors, "vectors", ge=1, integer=True)
    rng = np.random.default_rng(seed)
    nodes, weights = [], []
    for _ in range(vectors):
        a, b = _lanczos(hvp, rng.standard_normal(n), min(steps, n))
        T = np.diag(a) + np.diag(b, 1) + np.diag(b, -1)
        theta, U = np.linalg.eigh(T)
        nodes.append(theta)
        weights.append(U[0] ** 2 / vectors)
    return np.concatenate(nodes), np.concatenate(weights)


def density(nodes, weights, grid, sigma):
    """A Gaussian-smoothed spectral density on ``grid`` from SLQ nodes and weights."""
    grid = np.asarray(grid, dtype=np.float64)
    z = (grid[:, None] - nodes[None, :]) / sigma
    return (np.exp(-0.5 * z * z) @ weights) / (sigma * np.sqrt(2 * np.pi))
