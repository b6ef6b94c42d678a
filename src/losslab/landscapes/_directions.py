"""Planes through parameter space: a centre and one or two directions, as flat vectors.

Vectors live in a model's flat parameter space (``model.ravel()`` order). A point of a plane is
``center + alpha * d1 + beta * d2``.

* ``axes``: coordinate axes of named parameters: the course's (w, b) grid; the centre has those
  parameters at 0, so alpha and beta are the parameters' own values.
* ``gaussian``: directions drawn from N(0, I).
* ``filter_normalized``: Li et al. (NeurIPS 2018, arXiv:1712.09913): a Gaussian direction scaled
  so that each filter (each output unit of a layer: a column of a weight matrix W of shape
  (fan_in, fan_out)) has the norm of the same filter of the centre. Biases (1-D parameters; in
  PyTorch models also normalisation layers' weights) follow ``bias``: ``"zero"`` (the paper's
  default: the direction does not move them), ``"filter"`` (each bias vector scaled as one
  filter, to the norm of the centre's bias) or ``"keep"`` (left Gaussian).
* ``interpolation``: the line from initial to final weights, d1 = final - initial, centred on
  the initial weights (alpha = 0: initial, 1: final; outside [0, 1]: extrapolation).
* ``pca``: the plane of a training trajectory's two principal components, centred on its last
  point, with the explained variance and each checkpoint's coordinates and distance from the plane.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from .._core import validation as V

__all__ = ["Plane", "axes", "gaussian", "filter_normalized", "interpolation", "pca"]


@dataclass(frozen=True, eq=False)
class Plane:
    """``center + alpha d1 (+ beta d2)``; ``d2`` is None for a line."""

    center: np.ndarray
    d1: np.ndarray
    d2: np.ndarray | None
    kind: str
    labels: tuple = ("alpha", "beta")
    info: dict = field(default_factory=dict)

    @property
    def dims(self) -> int:
        return 1 if self.d2 is None else 2

    def point(self, a, b=0.0) -> np.ndarray:
        """The parameter vector at coordinates (a, b)."""
        p = self.center + a * self.d1
        return p if self.d2 is None else p + b * self.d2

    def points(self, coords) -> np.ndarray:
        """Parameter vectors for coordinates of shape (G, dims): shape (G, n_params)."""
        coords = np.asarray(coords, dtype=np.float64).reshape(-1, self.dims)
        out = self.center[None, :] + coords[:, :1] * self.d1[None, :]
        if self.d2 is not None:
            out = out + coords[:, 1:2] * self.d2[None, :]
        return out

    def project(self, thetas):
        """Coordinates (T, dims) of parameter vectors in the plane (least squares) and each
        vector's distance from the plane."""
        thetas = np.atleast_2d(np.asarray(thetas, dtype=np.float64))
        D = self.d1[:, None] if self.d2 is None else np.column_stack([self.d1, self.d2])
        diff = thetas - self.center[None, :]
        coords = np.linalg.lstsq(D, diff.T, rcond=None)[0].T
        resid = diff - coords @ D.T
        return coords, np.linalg.norm(resid, axis=1)

    def fingerprint(self) -> str:
        import hashlib

        h = hashlib.sha256()
        for a in (self.center, self.d1, self.d2):
            if a is not None:
                h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
        h.update(self.kind.encode())
        return h.hexdigest()


def _flat(model_or_theta):
    if hasattr(model_or_theta, "ravel") and hasattr(model_or_theta, "params"):
        return model_or_theta.ravel().astype(np.float64)
    theta = np.asarray(model_or_theta, dtype=np.float64)
    if theta.ndim != 1:
        raise ValueError(f"parameters must be a model or a 1-D vector, got shape {theta.shape}")
    return theta.copy()


def _index_of(model, spec) -> tuple[int, str]:
    """Flat index of a parameter given as an int, "W[0, 0]", "b[0]" or "b" (one element)."""
    if isinstance(spec, (int, np.integer)):
        n = model.n_params
        if not 0 <= spec < n:
            raise ValueError(f"parameter index must be in [0, {n}), got {spec}")
        return int(spec), f"theta[{spec}]"
    m = re.fullmatch(r"\s*(\w+)\s*(?:\[([\d,\s]+)\])?\s*", str(spec))
    if not m or m.group(1) not in model.params:
        raise ValueError(f"unknown parameter {spec!r}; the model has {list(model.params)}")
    name = m.group(1)
    arr = model.params[name]
    idx = tuple(int(i) for i in m.group(2).split(",")) if m.group(2) else ()
    if not idx:
        if arr.size != 1:
            raise ValueError(f"parameter {name!r} has {arr.size} elements: give an index, "
                             f"e.g. {name}[{', '.join('0' * 1 for _ in arr.shape)}]")
        idx = (0,) * arr.ndim
    if len(idx) == 1 and arr.ndim == 2 and arr.shape[1] == 1:
        idx = (idx[0], 0)
    try:
        flat_in = int(np.ravel_multi_index(idx, arr.shape))
    except ValueError:
        raise ValueError(f"index {idx} is out of range for {name!r} of shape {arr.shape}") from None
    offset = 0
    for k, v in model.params.items():
        if k == name:
            break
        offset += v.size
    label = name if arr.size == 1 else f"{name}[{', '.join(map(str, idx))}]"
    return offset + flat_in, label


def axes(model, first, second=None, *, center=None) -> Plane:
    """Coordinate axes of one or two named parameters (``"W[0, 0]"``, ``"b"``, or flat indices).

    The centre is ``center`` (default: the model's parameters) with these coordinates set to 0,
    so that alpha and beta are the parameters' values: the course's (w, b) grid is
    ``axes(Linear(1), "W", "b")`` with alpha = w and beta = b.
    """
    c = _flat(model if center is None else center)
    i, li = _index_of(model, first)
    d1 = np.zeros_like(c)
    d1[i] = 1.0
    c[i] = 0.0
    d2, labels = None, (li,)
    if second is not None:
        j, lj = _index_of(model, second)
        if j == i:
            raise ValueError("the two axes must be different parameters")
        d2 = np.zeros_like(c)
        d2[j] = 1.0
        c[j] = 0.0
        labels = (li, lj)
    return Plane(c, d1, d2, "axes", labels)


def gaussian(model, *, seed=0, dims: int = 2, center=None) -> Plane:
    """Directions with independent N(0, 1) entries (not normalised)."""
    dims = V.check_choice(dims, "dims", (1, 2))
    c = _flat(model if center is None else center)
    rng = np.random.default_rng(seed)
    d1 = rng.standard_normal(c.size)
    d2 = rng.standard_normal(c.size) if dims == 2 else None
    return Plane(c, d1, d2, "gaussian")


def _layers(model):
    """(slice in the flat vector, shape, is_weight) of each parameter, in ravel order."""
    out, i = [], 0
    for k, v in model.params.items():
        out.append((slice(i, i + v.size), v.shape, v.ndim >= 2))
        i += v.size
    return out


def _normalize_filters(d, theta, layers, bias, filter_axis):
    d = d.copy()
    for sl, shape, is_weight in layers:
        dv, tv = d[sl].reshape(shape), theta[sl].reshape(shape)
        if is_weight:
            # one filter per output unit: reduce over every axis but the filter axis
            red = tuple(a for a in range(len(shape)) if a != filter_axis)
            dn = np.sqrt(np.sum(dv * dv, axis=red, keepdims=True))
            tn = np.sqrt(np.sum(tv * tv, axis=red, keepdims=True))
            dv = dv * (tn / np.where(dn > 0, dn, 1.0))
        elif bias == "zero":
            dv = np.zeros_like(dv)
        elif bias == "filter":
            dn, tn = np.linalg.norm(dv), np.linalg.norm(tv)
            dv = dv * (tn / dn if dn > 0 else 0.0)
        d[sl] = dv.ravel()
    return d


def filter_normalized(model, *, seed=0, dims: int = 2, bias: str = "zero", center=None) -> Plane:
    """Li et al.'s filter-normalised Gaussian directions (see the module docstring).

    For a losslab model a filter is a column of a weight matrix (fan_in, fan_out): the weights
    into one output unit, the same unit as a row of ``torch.nn.Linear.weight``.
    """
    dims = V.check_choice(dims, "dims", (1, 2))
    bias = V.check_choice(bias, "bias", ("zero", "filter", "keep"))
    c = _flat(model if center is None else center)
    rng = np.random.default_rng(seed)
    layers = _layers(model)
    ds = [_normalize_filters(rng.standard_normal(c.size), c, layers, bias, filter_axis=1)
          for _ in range(dims)]
    return Plane(c, ds[0], ds[1] if dims == 2 else None, "filter-normalized",
                 info={"bias": bias, "seed": seed})


def interpolation(initial, final) -> Plane:
    """The line initial -> final: alpha = 0 at ``initial``, 1 at ``final``."""
    a, b = _flat(initial), _flat(final)
    if a.shape != b.shape:
        raise ValueError(f"initial and final must have the same size, got {a.size} and {b.size}")
    if not np.any(a != b):
        raise ValueError("initial and final are the same point: there is no line between them")
    return Plane(a, b - a, None, "interpolation", ("alpha (0: initial, 1: final)",))


def pca(trajectory, *, center=None) -> Plane:
    """The plane of a trajectory's two principal components (of the checkpoints minus the
    centre, default the last checkpoint, as Li et al.), each direction of unit norm.

    ``info`` holds ``explained_variance_ratio`` (of the two components, over all components),
    ``coordinates`` (T, 2) of every checkpoint and ``distance`` (T,) from the plane.
    """
    T = np.asarray(trajectory, dtype=np.float64)
    if T.ndim != 2 or T.shape[0] < 3:
        raise ValueError("trajectory must have shape (checkpoints >= 3, n_params), got "
                         f"{T.shape}")
    c = T[-1].copy() if center is None else _flat(center)
    M = T - c[None, :]
    _, s, vt = np.linalg.svd(M, full_matrices=False)
    var = s ** 2
    if var.size < 2 or var[1] == 0:
        raise ValueError("the trajectory spans fewer than two directions")
    plane = Plane(c, vt[0].copy(), vt[1].copy(), "pca", ("PC1", "PC2"))
    coords, dist = plane.project(T)
    plane.info.update({"explained_variance_ratio": (var[:2] / var.sum()).tolist(),
                       "coordinates": coords, "distance": dist})
    return plane
