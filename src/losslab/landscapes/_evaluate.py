"""Evaluate a model's cost on a line or plane of its parameters: ``landscape``.

Grid convention (documented, tested): ``alpha`` and ``beta`` are explicit 1-D coordinate arrays of
any lengths; ``values[i, j] = J(center + alpha[i] d1 + beta[j] d2)`` ("ij" indexing, alpha along
the first axis). A 1-D landscape has ``values[i] = J(center + alpha[i] d1)``. Note that
matplotlib's ``contour(X, Y, Z)`` wants Z[y, x]: losslab's plots pass ``values.T``.

Methods, chosen by ``method="auto"``:

* ``"exact-quadratic"``: a linear model (outputs linear in its parameters) with MSE. The cost on a
  plane is a quadratic in (alpha, beta) whose six coefficients come from one pass over the data;
  each grid point then costs O(1).
* ``"projected"``: a linear model (``Linear``, ``Logistic``, ``Softmax``) with any loss. The
  outputs on the plane are f(center) + alpha f(d1) + beta f(d2): three products with the data,
  once; a grid point costs O(n k) instead of O(n d k).
* ``"first-layer"``: an MLP. Its first layer's pre-activations are linear in the parameters, so
  they are projected the same way; the rest of the network runs for a chunk of grid points at
  once (batched matrix products).
* ``"generic"``: one forward pass per grid point (the reference the others are tested against).

Grid points are evaluated in chunks (whole rows of alpha) whose working memory is bounded by
``chunk_bytes``, so the peak memory does not grow with the grid. With ``store=PATH`` finished
chunks go to a checked Zarr store and a restarted run computes only the missing or damaged ones
(see ``_store``); ``executor=`` runs the chunks on local processes, Dask or Ray (see
``_distributed``).
The model is never modified.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field

import numpy as np

from .._core import validation as V
from ..models import MLP, Linear, Model, apply_head, head_for
from ..training import check_data, resolve_loss
from ._directions import Plane

__all__ = ["Landscape", "landscape", "function_landscape"]

DEFAULT_CHUNK_BYTES = 64 * 2 ** 20


@dataclass
class Landscape:
    """A cost surface: ``values[i, j] = J(plane.point(alpha[i], beta[j]))`` (see the module)."""

    plane: Plane
    alpha: np.ndarray
    beta: np.ndarray | None
    values: np.ndarray
    method: str
    loss: str
    seconds: float = 0.0
    missing: int = 0
    meta: dict = field(default_factory=dict)

    @property
    def dims(self) -> int:
        return 1 if self.beta is None else 2

    @property
    def complete(self) -> bool:
        return self.missing == 0

    def argmin(self):
        """(coordinates, value) of the lowest grid point."""
        self._check_complete()
        k = int(np.argmin(self.values))
        idx = np.unravel_index(k, self.values.shape)
        coords = (self.alpha[idx[0]],) if self.dims == 1 else (self.alpha[idx[0]], self.beta[idx[1]])
        return tuple(float(c) for c in coords), float(self.values[idx])

    def project(self, trajectory):
        """Coordinates of parameter vectors (a ``History.trajectory``) in this plane, and their
        distances from it."""
        return self.plane.project(trajectory)

    def _check_complete(self):
        if self.missing:
            raise ValueError(f"this landscape is incomplete: {self.missing} grid points are not "
                             "computed yet (a worker's share); run the remaining workers")

    def figure(self, kind: str = "both", **kwargs):
        """A matplotlib figure: ``"contour"``, ``"surface"`` (3D with a contour below),
        ``"both"``, or for a 1-D landscape the curve (see ``losslab.landscapes._plot``)."""
        from . import _plot

        self._check_complete()
        return _plot.figure(self, kind=kind, **kwargs)

    def to_html(self, path, **kwargs):
        """A self-contained interactive HTML view (Plotly), with hover values and paths."""
        from . import _plot

        self._check_complete()
        return _plot.to_html(self, path, **kwargs)

    def plotly_figure(self, **kwargs):
        """The interactive view as a Plotly ``Figure`` (what ``to_html`` writes)."""
        from . import _plot

        self._check_complete()
        return _plot.plotly_figure(self, **kwargs)

    def _repr_html_(self) -> str:
        """In a notebook: the surface (contour and 3D) and its numbers."""
        from .._core import html as H

        if self.missing:
            return H.section(f"Landscape of {self.loss} (incomplete)",
                             f"<p>{self.missing} grid points are not computed yet.</p>")
        shape = " x ".join(str(n) for n in self.values.shape)
        coords, low = self.argmin()
        rows = [("grid", shape), ("method", self.method), ("seconds", float(self.seconds)),
                ("lowest grid point", ", ".join(f"{c:.4g}" for c in coords)),
                ("lowest value", float(low)), ("highest value", float(np.max(self.values)))]
        return H.section(f"Landscape of {self.loss} over the plane {self.plane.kind}",
                         H.table(rows, ["", ""]), H.figure(self.figure()))

    def to_dict(self) -> dict:
        return {"alpha": self.alpha.tolist(), "beta": None if self.beta is None else self.beta.tolist(),
                "values": np.where(np.isfinite(self.values), self.values, np.nan).tolist(),
                "method": self.method, "loss": self.loss, "plane": self.plane.kind,
                "labels": list(self.plane.labels), "seconds": self.seconds}


# ---- evaluators: values(coords (G, dims)) -> (G,) ---------------------------------------------

class _Data:
    """The data and loss of a landscape, and the loss's value for many grid points at once.

    Costs come from the loss prepared once on the targets (``loss.prepare(y, sample_weight=w)``):
    its ``values`` evaluates a stack of grid points' outputs with the loss's own kernel, in calls
    of about 2^16 elements, reduced with the loss's own "mean" weights, with the outputs checked
    for finiteness and for the loss's domain on every call, as ``loss(...)`` would.
    """

    BLOCK = 2 ** 16

    def __init__(self, model, loss, X, y, w):
        self.model, self.loss, self.X, self.y, self.w = model, loss, X, y, w
        self.k = model.n_outputs
        self.head = head_for(loss, self.k, model.output)

    def output(self, z):
        """What the loss sees from pre-head outputs z (n, k): the head, then (n,) for k = 1."""
        out = apply_head(self.head, z)
        return out[:, 0] if self.k == 1 else out

    def prepare(self, out0):
        """Prepare the loss on the targets, checked against the outputs at the centre."""
        self.prepared = self.loss.prepare(self.y, sample_weight=self.w, reduction="mean")
        self.coefficients = np.asarray(self.prepared.coefficients(out0))
        if not np.any(self.coefficients):
            raise ValueError("every target is ignored: the cost is 0 everywhere")
        self.per_call = max(1, self.BLOCK // max(1, out0.size))

    def cost_from_z(self, z):
        """Costs of G pre-head outputs z (G, n, k), each equal to ``loss(y, out, w, "mean")``."""
        G, n = z.shape[0], z.shape[1]
        if self.head != "identity":  # a saturating head would hide an overflow: check z first
            self._check_finite(z)
        out = apply_head(self.head, z.reshape(G * n, self.k)).reshape(G, n, self.k)
        try:  # with the identity head the prepared loss's own finiteness check sees z itself
            return self.prepared.values(out[:, :, 0] if self.k == 1 else out)
        except ValueError:
            self._check_finite(z)
            raise

    @staticmethod
    def _check_finite(z):
        if not np.isfinite(np.sum(z)):
            bad = int(np.count_nonzero(~np.isfinite(z)))
            raise ValueError(f"the model's output overflows at some grid points ({bad} values "
                             "are not finite): use a smaller grid range")


class _Generic:
    method = "generic"

    def __init__(self, data: _Data, plane: Plane):
        self.d, self.plane = data, plane

    def bytes_per_point(self):
        return 8 * self.d.X.shape[0] * max(self.d.k, 1) * 8

    def values(self, coords):
        m, d = self.d.model, self.d
        out = np.empty(len(coords))
        for g, theta in enumerate(self.plane.points(coords)):
            pred = m.forward(d.X, params=m.unravel(theta), loss=d.loss)
            out[g] = float(d.loss(d.y, pred, sample_weight=d.w))
        return out


class _Projected:
    method = "projected"

    def __init__(self, data: _Data, plane: Plane):
        self.d, self.plane = data, plane
        m, X = data.model, data.X
        vecs = [m.unravel(v) for v in (plane.center, plane.d1) +
                ((plane.d2,) if plane.d2 is not None else ())]
        k = m.n_outputs
        # one product with the data for the centre and both directions: X [W_c W_1 W_2] + b
        P = X @ np.concatenate([v["W"] for v in vecs], axis=1)
        outs = [P[:, i * k:(i + 1) * k] + v["b"] for i, v in enumerate(vecs)]
        self.p0, self.p = outs[0], outs[1:]
        data.prepare(data.output(self.p0))

    def bytes_per_point(self):
        return 8 * self.p0.size * 6

    def values(self, coords):
        # outputs for one kernel call's worth of points at a time, into reused buffers
        per = self.d.per_call
        z = np.empty((min(per, len(coords)),) + self.p0.shape)
        tmp = np.empty_like(z) if len(self.p) == 2 else None
        out = np.empty(len(coords))
        for lo in range(0, len(coords), per):
            c = coords[lo:lo + per]
            g = len(c)
            zb, tb = z[:g], (None if tmp is None else tmp[:g])
            np.multiply(c[:, 0, None, None], self.p[0][None], out=zb)
            zb += self.p0[None]
            if tb is not None:
                np.multiply(c[:, 1, None, None], self.p[1][None], out=tb)
                zb += tb
            out[lo:lo + g] = self.d.cost_from_z(zb)
        return out


class _ExactQuadratic:
    """MSE on a linear model: on the plane, residuals are r0 + a p1 + b p2 with
    r0 = X W_c + b_c - Y and p_v = X W_v + b_v = A U_v (A = [X, 1], U_v = [W_v; b_v]), so

        J(a, b) = S00 + 2a S01 + 2b S02 + a^2 S11 + 2ab S12 + b^2 S22

    with S00 = sum s r0^2, S0j = sum_o U_jo' (A' (s r0_o)) and Sij = sum_o U_io' G U_jo,
    G = A' diag(s) A (s: the loss's "mean" weights). One blocked pass over the data; each grid
    point then costs O(1). The centre's residuals are computed directly (not expanded through the Gram
    matrix), so the cost at and near the centre keeps full relative precision.
    """

    method = "exact-quadratic"

    def __init__(self, data: _Data, plane: Plane):
        m, X = data.model, data.X
        n, d = X.shape
        k = m.n_outputs
        data.prepare(data.y)  # validates y and fixes the weights (MSE: any real output)
        coef = data.coefficients.reshape(n, -1)  # each value's weight in the mean
        vecs = [m.unravel(v) if v is not None else None
                for v in (plane.center, plane.d1, plane.d2)]
        # One blocked pass (rows of 8192: the temporaries stay in cache and are reused instead
        # of fresh, page-faulting arrays of n values): the centre's residuals r0, S00 = s r0'r0,
        # g = A' (s r0) and G = A' diag(s) A with A = [X, 1].
        uniform = data.w is None  # MSE ignores no sample: without weights, one coefficient
        sc = float(coef.flat[0]) if uniform else None
        s = None if uniform else coef[:, 0]  # per-sample weights
        Y = data.y.reshape(n, k)
        Wc, bc = vecs[0]["W"], vecs[0]["b"]
        s00, g, G = 0.0, np.zeros((d + 1, k)), np.zeros((d + 1, d + 1))
        for lo in range(0, n, 8192):
            xb = X[lo:lo + 8192]
            r = xb @ Wc
            r += bc
            r -= Y[lo:lo + 8192]
            if s is None:
                sr, sx = r, xb
            else:
                sb = s[lo:lo + 8192]
                sr, sx = r * sb[:, None], xb * sb[:, None]
            s00 += float(np.sum(sr * r))
            g[:d] += xb.T @ sr
            g[d] += sr.sum(axis=0)
            G[:d, :d] += sx.T @ xb
            G[:d, d] += sx.sum(axis=0)
            G[d, d] += float(sb.sum()) if s is not None else float(xb.shape[0])
        G[d, :d] = G[:d, d]
        if s is None:
            s00, g, G = s00 * sc, g * sc, G * sc
        U = [None if v is None else np.vstack([v["W"], v["b"][None, :]]) for v in vecs]
        S = np.zeros((3, 3))
        S[0, 0] = s00
        for j in (1, 2):
            if U[j] is not None:
                S[0, j] = S[j, 0] = float(np.sum(U[j] * g))
                for i in (1, 2):
                    if U[i] is not None:
                        S[i, j] = float(np.sum(U[i] * (G @ U[j])))
        self.S = S

    def bytes_per_point(self):
        return 64

    def outer(self, alpha, beta):
        """The whole grid at once (O(1) per point, no coordinate arrays)."""
        a = alpha[:, None]
        b = 0.0 if beta is None else beta[None, :]
        S = self.S
        v = (S[0, 0] + 2 * a * S[0, 1] + 2 * b * S[0, 2] + a * a * S[1, 1]
             + 2 * a * b * S[1, 2] + b * b * S[2, 2])
        return v[:, 0] if beta is None else v

    def values(self, coords):
        a = coords[:, 0]
        b = coords[:, 1] if coords.shape[1] == 2 else 0.0
        S = self.S
        return (S[0, 0] + 2 * a * S[0, 1] + 2 * b * S[0, 2] + a * a * S[1, 1]
                + 2 * a * b * S[1, 2] + b * b * S[2, 2])


class _FirstLayer:
    """An MLP, one grid point at a time, in a feature-major layout (h of shape (width, n)) with
    preallocated buffers and in-place activations. The first layer's pre-activations are linear
    in (W0, b0): with many inputs (d > 32) they are projected once for the centre and both
    directions and each point costs 2 n h instead of n h d; with few inputs recomputing
    X W0 is cheaper (a matrix product beats two memory-bound axpys), and is done."""

    method = "first-layer"
    PROJECT_ABOVE = 32

    def __init__(self, data: _Data, plane: Plane):
        self.d, self.plane = data, plane
        m, X = data.model, data.X
        self.vecs = [m.unravel(v) for v in (plane.center, plane.d1) +
                     ((plane.d2,) if plane.d2 is not None else ())]
        self.XT = np.ascontiguousarray(X.T)
        self.project = m.n_features > self.PROJECT_ABOVE
        if self.project:
            self.A = [v["W0"].T @ self.XT + v["b0"][:, None] for v in self.vecs]
        n = X.shape[0]
        self.bufs = [np.empty((w, n)) for w in m.hidden]
        self.tmp = [np.empty((w, n)) for w in m.hidden]
        data.prepare(m.forward(X, self.vecs[0], loss=data.loss, check_input=False))

    def bytes_per_point(self):
        return 8 * self.d.X.shape[0] * self.d.model.n_outputs * 4

    def _param(self, name, a, b):
        v = self.vecs
        out = v[0][name] + a * v[1][name]
        return out + b * v[2][name] if len(v) == 3 else out

    def _act(self, buf):
        if self.d.model.activation == "relu":
            np.maximum(buf, 0.0, out=buf)
        else:
            np.tanh(buf, out=buf)

    def _point(self, a, b):
        m = self.d.model
        h = self.bufs[0]
        if self.project:
            np.multiply(self.A[1], a, out=h)
            h += self.A[0]
            if len(self.A) == 3:
                np.multiply(self.A[2], b, out=self.tmp[0])
                h += self.tmp[0]
        else:
            np.matmul(self._param("W0", a, b).T, self.XT, out=h)
            h += self._param("b0", a, b)[:, None]
        self._act(h)
        for i in range(1, len(m.hidden)):
            nxt = self.tmp[i] if m.has_skip(i) else self.bufs[i]
            np.matmul(self._param(f"W{i}", a, b).T, h, out=nxt)
            nxt += self._param(f"b{i}", a, b)[:, None]
            self._act(nxt)
            if m.has_skip(i):
                np.add(h, nxt, out=self.bufs[i])
            h = self.bufs[i]
        return (self._param("W_out", a, b).T @ h + self._param("b_out", a, b)[:, None]).T

    def values(self, coords):
        z = np.stack([self._point(c[0], c[1] if len(c) == 2 else 0.0) for c in coords])
        return self.d.cost_from_z(z)


_EVALUATORS = {"exact-quadratic": _ExactQuadratic, "projected": _Projected,
               "first-layer": _FirstLayer, "generic": _Generic}


def _fingerprint(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, np.ndarray):
            h.update(str(p.dtype).encode() + str(p.shape).encode())
            h.update(np.ascontiguousarray(p).tobytes())
        else:
            h.update(repr(p).encode())
    return h.hexdigest()


def _check_coords(a, name):
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of coordinates, got shape {a.shape}")
    bad = int(np.count_nonzero(~np.isfinite(a)))
    if bad:
        raise ValueError(f"{name} must be finite; {bad} of {a.size} values are not")
    return a


class ModelSpec:
    """What a worker needs to build a model landscape's evaluator (picklable)."""

    def __init__(self, method, model, loss, X, y, w, plane):
        self.method, self.model, self.loss = method, model, loss
        self.X, self.y, self.w, self.plane = X, y, w, plane

    def build(self):
        data = _Data(self.model, self.loss, self.X, self.y, self.w)
        return _EVALUATORS[self.method](data, self.plane)


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux: MemAvailable), or None."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def check_grid_memory(shape) -> None:
    """Refuse, before allocating, a grid whose values alone (float64, held in memory while the
    chunks are computed) need more memory than is available."""
    n_points = int(np.prod([int(n) for n in shape], dtype=object))
    need = 8 * n_points
    have = available_memory()
    if have is not None and need > have:
        grid = " x ".join(f"{int(n):,}" for n in shape)
        raise MemoryError(f"a {grid} grid ({n_points:,} points) needs at least "
                          f"{need / 2 ** 30:.1f} GiB for its values, more than the "
                          f"{have / 2 ** 30:.1f} GiB available: use fewer points per axis")


def _run_grid(evaluator, alpha, beta, chunk_bytes, store, worker, fingerprint, *, spec=None,
              executor=None, progress=False, description=""):
    """The grid's values, chunk by chunk: from the store where a chunk is there and sound, else
    computed (here, or by ``executor`` from ``spec``) and written to the store."""
    from .._io import progress as progress_bar
    from . import _distributed as D
    from ._store import Layout, open_store, report_bad

    n_a = alpha.size
    shape = (n_a,) if beta is None else (n_a, beta.size)
    n_points = int(np.prod(shape))
    check_grid_memory(shape)
    chunk_points = max(1, int(chunk_bytes // max(1, evaluator.bytes_per_point())))
    kind = D.kind_of(executor)
    if store is None and worker is None and kind == "serial" and hasattr(evaluator, "outer"):
        return evaluator.outer(alpha, beta), 0, n_points, {}
    if store is not None:
        grid = " x ".join(str(n) for n in shape)
        plan = open_store(store, fingerprint, shape, chunk_points,
                          (alpha,) if beta is None else (alpha, beta),
                          description=f"{description}, grid {grid}" if description else "")
    else:
        plan = Layout(shape, chunk_points)
    if worker is not None:
        k, K = worker
        V.check_scalar(K, "worker count", ge=1, integer=True)
        if not 0 <= k < K:
            raise ValueError(f"worker must be (k, K) with 0 <= k < K, got {worker!r}")
    values = np.full(n_points, np.nan)
    missing, todo, recomputed = 0, [], []
    for c in range(plan.n_chunks):
        lo, hi = plan.bounds(c)
        if store is not None:
            status, got = plan.check(c)
            if status == "done":
                values[lo:hi] = got
                continue
            if status == "bad":
                report_bad(plan, c, got, recomputed)
        if worker is not None and c % worker[1] != worker[0]:
            missing += hi - lo
            continue
        todo.append((c, lo, hi))
    writer = None if store is None else plan.writer
    if kind == "serial":  # the evaluator at hand: no spec needed
        task = D.GridTask(None, _Ready(evaluator), alpha, beta)
    else:
        task = D.GridTask(fingerprint or _fingerprint(id(spec), time.time()), spec, alpha, beta)

    def done(c, vals):
        lo, hi = plan.bounds(c)
        values[lo:hi] = vals

    with progress_bar(len(todo), "grid", enabled=progress, unit="chunks ") as bar:
        retried = D.run_chunks(task, todo, executor, writer, done, bar)
    info = {"recomputed": recomputed, "retried": retried, "chunks": plan.n_chunks,
            "executor": kind}
    return values.reshape(shape), missing, plan.chunk_points, info


class _Ready:
    """The in-process 'spec': the evaluator already built."""

    def __init__(self, ev):
        self.ev = ev

    def build(self):
        return self.ev


def landscape(model: Model, loss, X, y, *, plane: Plane, alpha, beta=None, sample_weight=None,
              method: str = "auto", chunk_bytes: int = DEFAULT_CHUNK_BYTES, store=None,
              worker=None, executor=None, progress: bool = False) -> Landscape:
    """The cost ``loss(y, model(X; theta), sample_weight, "mean")`` on ``plane`` at the grid
    ``alpha`` (x ``beta`` for a plane). See the module docstring for grids and methods.

    ``store``: a path for resumable, shareable runs (a Zarr store, see ``_store``);
    ``worker=(k, K)``: compute only chunks k, k + K, ... of a shared store (the result has
    ``missing`` > 0 until every worker has run); ``executor``: where the chunks run (a number
    of local processes, a ``concurrent.futures`` executor, a ``dask.distributed.Client`` or
    ``"ray"``; see ``_distributed``); the values equal the serial run's bit for bit.
    ``progress``: a bar of chunks done (and retried) on standard error.
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a losslab model, got {type(model).__name__}")
    loss = resolve_loss(loss)
    X, y, w = check_data(model, loss, X, y, sample_weight)
    if not isinstance(plane, Plane):
        raise TypeError("plane must be a losslab.landscapes Plane (axes, gaussian, "
                        "filter_normalized, interpolation, pca)")
    if plane.center.size != model.n_params:
        raise ValueError(f"plane has {plane.center.size} parameters, the model {model.n_params}")
    alpha = _check_coords(alpha, "alpha")
    if (beta is None) != (plane.d2 is None):
        raise ValueError("a plane with two directions needs beta; a line takes no beta")
    beta = None if beta is None else _check_coords(beta, "beta")
    chunk_bytes = V.check_scalar(chunk_bytes, "chunk_bytes", ge=1, integer=True)
    V.check_choice(method, "method", ("auto", "exact-quadratic", "projected", "first-layer",
                                      "generic"))
    linear = isinstance(model, Linear)
    if method == "auto":
        if linear:
            is_mse = loss.name == "mse" and head_for(loss, model.n_outputs, model.output) in (
                "identity", "auto")
            method = "exact-quadratic" if is_mse else "projected"
        elif isinstance(model, MLP) and model.hidden:
            method = "first-layer"
        else:
            method = "generic"
    if method in ("exact-quadratic", "projected") and not linear:
        raise ValueError(f"method {method!r} needs a linear model (Linear, Logistic, Softmax)")
    if method == "exact-quadratic" and loss.name != "mse":
        raise ValueError("method 'exact-quadratic' is for MSE; use 'projected' for other losses")
    if method == "first-layer" and not (isinstance(model, MLP) and model.hidden):
        raise ValueError("method 'first-layer' needs an MLP with a hidden layer")
    data = _Data(model, loss, X, y, w)
    t0 = time.perf_counter()
    evaluator = _EVALUATORS[method](data, plane)
    fp = _fingerprint(plane.fingerprint(), alpha, beta, repr(loss), X, y, w, repr(model),
                      model.ravel(), method)
    spec = ModelSpec(method, model, loss, X, y, w, plane)
    values, missing, chunk_points, info = _run_grid(
        evaluator, alpha, beta, chunk_bytes, store, worker, fp, spec=spec, executor=executor,
        progress=progress, description=f"{loss!r} of {type(model).__name__}({model.n_features}"
                                       f" features) on {len(X)} rows, {method}")
    return Landscape(plane, alpha, beta, values, method, loss.name, time.perf_counter() - t0,
                     missing, {"chunk_points": chunk_points, "loss": repr(loss), **info})


def function_landscape(fun, plane: Plane, alpha, beta=None, *, label="f",
                       chunk_points: int = 65536) -> Landscape:
    """A landscape of any function of the parameters; ``fun`` takes an array of parameter
    vectors, shape (G, n_params), and returns (G,) values (vectorised), in chunks of points."""
    alpha = _check_coords(alpha, "alpha")
    beta = None if beta is None else _check_coords(beta, "beta")

    class _Fun:
        method = "function"

        def bytes_per_point(self):
            return 1

        def values(self, coords):
            return fun(plane.points(coords))

    t0 = time.perf_counter()
    values, missing, _, _ = _run_grid(_Fun(), alpha, beta, chunk_points, None, None, "")
    return Landscape(plane, alpha, beta, values, "function", label, time.perf_counter() - t0,
                     missing)
