"""Neural-network landscapes for any ``torch.nn.Module`` (PyTorch is an optional extra).

* ``torch_plane``: filter-normalised (Li et al. 2018), Gaussian or interpolation planes in the
  module's flat parameter space (``named_parameters`` order). A filter is a slice along dim 0 of
  a parameter with two or more dimensions: one output unit of ``Linear.weight`` (out, in), one
  output channel of ``Conv2d.weight`` (out, in, kh, kw). One-dimensional parameters (biases,
  and normalisation layers' weights and biases) follow ``bias``: ``"zero"`` (the paper's
  default), ``"filter"`` or ``"keep"``.
* ``torch_landscape``: the cost ``loss_fn(module(X), y)`` on the plane's grid. The data is moved to
  the module's device once; parameters are swapped in with ``torch.func.functional_call``, so the
  module itself is never modified (it is evaluated in eval mode and its training flag restored;
  buffers are copied, so batch-norm statistics do not move). Grid points are evaluated one at a
  time, or a chunk at once with ``torch.func.vmap``; ``batch="auto"`` decides by a short pilot
  run timing both on the first chunk (on a CPU batching is often slower).
* ``torch_hvp``: exact Hessian-vector products (double backward), for ``hessian_extremes``,
  ``hutchinson_trace`` and ``spectral_density``.
"""

from __future__ import annotations

import time

import numpy as np

from .._core import validation as V
from ._directions import Plane, _normalize_filters
from ._evaluate import Landscape, _check_coords, _run_grid

__all__ = ["torch_plane", "torch_landscape", "torch_hvp", "flat_parameters"]


def _torch():
    import torch

    return torch


def flat_parameters(module) -> np.ndarray:
    """The module's trainable parameters as one float64 vector (``named_parameters`` order)."""
    return np.concatenate([p.detach().cpu().double().numpy().ravel()
                           for _, p in module.named_parameters() if p.requires_grad])


def _shapes(module):
    return [(n, tuple(p.shape)) for n, p in module.named_parameters() if p.requires_grad]


def torch_plane(module, *, kind: str = "filter", seed=0, dims: int = 2, bias: str = "zero",
                final=None) -> Plane:
    """A plane through the module's parameters: ``kind`` is ``"filter"`` (filter-normalised),
    ``"gaussian"``, or ``"interpolation"`` (from the module's parameters to ``final``, a module of
    the same architecture or a flat vector; a line)."""
    V.check_choice(kind, "kind", ("filter", "gaussian", "interpolation"))
    V.check_choice(bias, "bias", ("zero", "filter", "keep"))
    dims = V.check_choice(dims, "dims", (1, 2))
    c = flat_parameters(module)
    if kind == "interpolation":
        if final is None:
            raise ValueError("kind='interpolation' needs final (a module or a flat vector)")
        f = flat_parameters(final) if hasattr(final, "named_parameters") else \
            np.asarray(final, dtype=np.float64)
        if f.shape != c.shape:
            raise ValueError(f"final has {f.size} parameters, the module {c.size}")
        return Plane(c, f - c, None, "interpolation", ("alpha (0: module, 1: final)",))
    rng = np.random.default_rng(seed)
    layers, i = [], 0
    for _, shape in _shapes(module):
        size = int(np.prod(shape)) if shape else 1
        layers.append((slice(i, i + size), shape, len(shape) >= 2))
        i += size
    out = []
    for _ in range(dims):
        d = rng.standard_normal(c.size)
        # a filter is a slice along dim 0 (PyTorch stores weights as (out, in, ...))
        out.append(_normalize_filters(d, c, layers, bias, filter_axis=0) if kind == "filter"
                   else d)
    return Plane(c, out[0], out[1] if dims == 2 else None,
                 "filter-normalized" if kind == "filter" else "gaussian",
                 info={"bias": bias, "seed": seed})


class _TorchCost:
    """cost(flat vector) = loss_fn(functional_call(module, params(vector), X), y), no mutation."""

    def __init__(self, module, loss_fn, X, y):
        torch = _torch()
        self.module, self.loss_fn = module, loss_fn
        ref = next(iter(module.parameters()))
        self.device, self.dtype = ref.device, ref.dtype
        self.X = torch.as_tensor(X, device=self.device)
        if self.X.is_floating_point():
            self.X = self.X.to(self.dtype)
        self.y = torch.as_tensor(y, device=self.device)
        if self.y.is_floating_point():
            self.y = self.y.to(self.dtype)
        self.shapes = _shapes(module)
        self.buffers = {n: b.detach().clone() for n, b in module.named_buffers()}

    def params(self, vec):
        out, i = {}, 0
        for n, shape in self.shapes:
            size = int(np.prod(shape)) if shape else 1
            out[n] = vec[i:i + size].reshape(shape)
            i += size
        return out

    def __call__(self, vec):
        from torch.func import functional_call

        out = functional_call(self.module, (self.params(vec), self.buffers), (self.X,))
        return self.loss_fn(out, self.y)

    def tensor(self, a):
        return _torch().as_tensor(np.asarray(a), device=self.device, dtype=self.dtype)


class _TorchEvaluator:
    def __init__(self, cost: _TorchCost, plane: Plane, batch):
        self.cost, self.plane, self.batch = cost, plane, batch
        self.center = cost.tensor(plane.center)
        self.dirs = [cost.tensor(plane.d1)] + ([cost.tensor(plane.d2)] if plane.d2 is not None else [])
        self.pilot = None

    def bytes_per_point(self):
        return 1

    def _vectors(self, coords):
        c = self.cost.tensor(coords)
        v = self.center[None, :] + c[:, :1] * self.dirs[0][None, :]
        if len(self.dirs) == 2:
            v = v + c[:, 1:2] * self.dirs[1][None, :]
        return v

    def _loop(self, V_):
        torch = _torch()
        with torch.no_grad():
            return torch.stack([self.cost(v) for v in V_]).double().cpu().numpy()

    def _vmap(self, V_):
        torch = _torch()
        with torch.no_grad():
            return torch.func.vmap(self.cost)(V_).double().cpu().numpy()

    def decide(self, coords):
        """Settle ``batch="auto"`` by the pilot run on these grid points."""
        self.batch = self._decide(self._vectors(coords))

    def values(self, coords):
        V_ = self._vectors(coords)
        if self.batch == "auto":
            self.batch = self._decide(V_)
        return self._vmap(V_) if self.batch else self._loop(V_)

    def _decide(self, V_):
        times = {}
        for name, fn in (("loop", self._loop), ("vmap", self._vmap)):
            try:
                fn(V_[:2])  # warm-up
                t0 = time.perf_counter()
                fn(V_)
                times[name] = time.perf_counter() - t0
            except Exception as exc:  # vmap cannot batch every module: fall back to the loop
                if name == "loop":
                    raise
                times[name] = float("inf")
                self.vmap_error = f"{type(exc).__name__}: {exc}"
        self.pilot = {k: v / len(V_) for k, v in times.items()}
        return times["vmap"] < times["loop"]


class TorchSpec:
    """What a worker needs to build a torch landscape's evaluator (picklable): the module, the
    loss function, the data (as NumPy), the plane and the batching decided by the caller. The
    worker evaluates on its own device (CUDA when it has one)."""

    def __init__(self, module, loss_fn, X, y, plane, batch):
        import copy

        self.module = copy.deepcopy(module).cpu()
        self.loss_fn, self.plane, self.batch = loss_fn, plane, batch
        self.X, self.y = np.asarray(X), np.asarray(y)

    def build(self):
        torch = _torch()
        module = self.module
        if torch.cuda.is_available():
            module = module.cuda()
        module.eval()
        cost = _TorchCost(module, self.loss_fn, self.X, self.y)
        return _TorchEvaluator(cost, self.plane, self.batch)


def torch_landscape(module, loss_fn, X, y, *, plane: Plane, alpha, beta=None, batch="auto",
                    chunk_points: int = 32, store=None, worker=None, executor=None,
                    progress: bool = False) -> Landscape:
    """The cost of a ``torch.nn.Module`` on ``plane``'s grid (see the module docstring).

    ``loss_fn(output, y)`` returns a scalar tensor (e.g. ``torch.nn.functional.cross_entropy``
    or ``losslab_loss.to_torch()``). ``batch``: ``"auto"`` (pilot run), ``True`` (vmap) or
    ``False`` (one point at a time). Returns a ``Landscape`` whose ``meta`` records the choice
    and the pilot's seconds per point. ``store``, ``worker``, ``executor`` and ``progress`` as
    in ``landscape``: with an executor the batching is decided here (by the pilot) and every
    worker uses it, so the values equal the serial run's.
    """
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    if batch not in ("auto", True, False):
        raise ValueError(f"batch must be 'auto', True or False, got {batch!r}")
    alpha = _check_coords(alpha, "alpha")
    beta = None if beta is None else _check_coords(beta, "beta")
    if (beta is None) != (plane.d2 is None):
        raise ValueError("a plane with two directions needs beta; a line takes no beta")
    cost = _TorchCost(module, loss_fn, X, y)
    if plane.center.size != sum(int(np.prod(s)) if s else 1 for _, s in cost.shapes):
        raise ValueError("plane does not match the module's parameters")
    ev = _TorchEvaluator(cost, plane, batch)
    was_training = module.training
    module.eval()
    t0 = time.perf_counter()
    try:
        from ._evaluate import _fingerprint

        fp = _fingerprint(plane.fingerprint(), alpha, beta, repr(module), repr(loss_fn),
                          cost.X.cpu().numpy(), cost.y.cpu().numpy())
        spec = None
        if executor is not None:
            if ev.batch == "auto":  # decide once, here, so that every worker batches alike
                ev.decide(np.zeros((min(4, alpha.size), 1 if beta is None else 2)))
            spec = TorchSpec(module, loss_fn, cost.X.cpu().numpy(), cost.y.cpu().numpy(),
                             plane, ev.batch)
        values, missing, cp, info = _run_grid(
            ev, alpha, beta, chunk_points, store, worker, fp, spec=spec, executor=executor,
            progress=progress, description=f"{type(module).__name__} with {loss_fn!r} on "
                                           f"{len(cost.X)} rows")
    finally:
        module.train(was_training)
    meta = {"batched": bool(ev.batch) if ev.batch != "auto" else None, "pilot_seconds_per_point":
            ev.pilot, "chunk_points": cp, "device": str(cost.device), **info}
    if hasattr(ev, "vmap_error"):
        meta["vmap_error"] = ev.vmap_error
    return Landscape(plane, alpha, beta, values, "torch", getattr(loss_fn, "__name__",
                                                                  repr(loss_fn)),
                     time.perf_counter() - t0, missing, meta)


def torch_hvp(module, loss_fn, X, y, *, theta=None):
    """v -> H v (NumPy vectors) of the module's cost at ``theta`` (default its parameters), exact:
    the gradient's directional derivative by double backward."""
    torch = _torch()
    cost = _TorchCost(module, loss_fn, X, y)
    center = cost.tensor(flat_parameters(module) if theta is None else theta)
    was_training = module.training

    def hvp(v):
        module.eval()
        try:
            vec = center.clone().requires_grad_(True)
            (g,) = torch.autograd.grad(cost(vec), vec, create_graph=True)
            (hv,) = torch.autograd.grad(g @ cost.tensor(v), vec)
        finally:
            module.train(was_training)
        return hv.detach().double().cpu().numpy()
    return hvp
