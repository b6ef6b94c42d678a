"""``losslab.verify`` (this module is ``losslab.verification``): every loss against PyTorch and against finite differences.

For each registered loss, ``verify`` draws ``n_cases`` random cases (cycling through the
hyperparameter settings the loss declares, ``verify_settings``) and, in float64:

* compares value and gradient with the loss's PyTorch oracle (autograd) for every reduction
  (``none``, ``sum``, ``mean``), without and with per-sample weights;
* compares the gradient and the hessian diagonal with 4-point central differences (the first
  ``n_fd`` cases).

Errors are norm-wise relative: max|ours - reference| / max|reference|. Tolerances:
``TORCH_RTOL = 1e-10`` (float64 agreement with PyTorch) and ``FD_RTOL = 1e-7`` for finite
differences, whose own error is about 1e-10 of the derivative's scale (measured worst over the
catalogue: 2e-10 for gradients, 1e-9 for hessians). Hessians are compared on the scale
max(|hessian|, |gradient|), because the stencil's round-off grows with the gradient and exact
zeros (piecewise-linear losses) would otherwise be compared against pure round-off.

PyTorch is imported only here, and only when ``verify`` runs.
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass, field

import numpy as np

from .._core import get, loss_class, names as _names
from ._finite_diff import STEP as FD_STEP, numerical_gradient, numerical_hessian, relative_error
from ._references import oracle_for

TORCH_RTOL = 1e-10
FD_RTOL = 1e-7
FD_FLOOR = 1e-6  # derivatives smaller than this in every entry are compared absolutely

__all__ = ["verify", "VerificationRow", "VerificationReport", "TORCH_RTOL", "FD_RTOL", "FD_FLOOR", "FD_STEP",
           "oracle_for", "numerical_gradient", "numerical_hessian", "relative_error", "case_inputs"]


@dataclass
class VerificationRow:
    name: str
    oracle: str
    cases: int
    comparisons: int
    value_error: float | None
    gradient_error: float | None
    fd_gradient_error: float
    fd_hessian_error: float | None  # None: the loss provides no hessian
    hessian: str
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass
class VerificationReport:
    rows: list[VerificationRow]
    torch_version: str | None
    n_cases: int
    seed: int

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def _repr_html_(self) -> str:
        """In a notebook: one row per loss setting, its largest errors and its verdict."""
        from .._core import html as H

        cols = ["loss", "oracle", "cases", "value error", "gradient error", "fd gradient error",
                "fd hessian error", "ok"]
        rows = [[r.name, r.oracle, r.cases, r.value_error if r.value_error is not None else "-",
                 r.gradient_error if r.gradient_error is not None else "-",
                 r.fd_gradient_error,
                 r.fd_hessian_error if r.fd_hessian_error is not None else "-",
                 "yes" if r.ok else "; ".join(r.failures)] for r in self.rows]
        verdict = "every check passed" if self.ok else "some checks FAILED"
        return H.section(f"losslab verify: {len(self.rows)} settings, {verdict} "
                         f"(PyTorch {self.torch_version or 'not installed'}, seed {self.seed})",
                         H.table(rows, cols, max_rows=200))

    def to_dict(self) -> dict:
        return {"ok": self.ok, "torch_version": self.torch_version, "n_cases": self.n_cases,
                "seed": self.seed, "torch_rtol": TORCH_RTOL, "fd_rtol": FD_RTOL,
                "rows": [asdict(r) | {"ok": r.ok} for r in self.rows]}


def case_inputs(loss, rng, case):
    n = int(rng.integers(2, 25))
    """The inputs of verification case ``case``: ``loss.sample_inputs`` for 2 to 24 samples, and
    every fourth case of an elementwise loss on a 2-D array."""
    if loss.shape_rule == "same" and case % 4 == 3:  # elementwise losses on 2-D arrays too
        inputs = loss.sample_inputs(rng, 3 * n)
        return tuple(np.asarray(a).reshape(n, 3) for a in inputs)
    return tuple(loss.sample_inputs(rng, n))


def _as_tuple(g):
    return g if isinstance(g, tuple) else (g,)


def _torch_side(torch, oracle, loss, inputs, weights, reduction):
    """The oracle's value and autograd gradients, with losslab's meaning of weights."""
    wrt = [loss.inputs.index(n) for n in loss.differentiable]
    tensors = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=i in wrt)
               for i, a in enumerate(inputs)]
    if weights is None:
        out = oracle(torch, loss, *tensors, reduction)
    else:
        per = oracle(torch, loss, *tensors, "none")
        w = torch.as_tensor(weights, dtype=torch.float64).reshape(
            (per.shape[0],) + (1,) * (per.ndim - 1)).expand_as(per)
        if reduction == "none":
            out = per * w
        else:
            mask = loss.sample_mask(*inputs)  # ignored samples leave the mean
            if mask is not None:
                w = w * torch.as_tensor(np.asarray(mask, dtype=np.float64)).reshape(w.shape)
            if reduction == "sum":
                out = (per * w).sum()
            else:
                total = w.sum()
                out = (per * w).sum() / total if total > 0 else (per * w).sum() * 0
    out.sum().backward()
    grads = tuple((tensors[i].grad if tensors[i].grad is not None else torch.zeros_like(tensors[i])).numpy()
                  for i in wrt)
    return out.detach().numpy(), grads


def _verify_one(name, n_cases, n_fd, seed, torch):
    cls = loss_class(name)
    settings = cls.verify_settings
    oracle = oracle_for(cls)
    row = VerificationRow(name=name, oracle=(cls.torch_reference or "-") if torch else "PyTorch not installed",
                          cases=n_cases, comparisons=0, value_error=0.0 if torch else None,
                          gradient_error=0.0 if torch else None, fd_gradient_error=0.0,
                          fd_hessian_error=0.0, hessian="")
    for case in range(n_cases):
        params = settings[case % len(settings)]
        loss = get(name, **params)
        kinds = set(filter(None, row.hessian.split(" / "))) | {loss.info.hessian}
        row.hessian = " / ".join(sorted(kinds))
        rng = np.random.default_rng([seed, zlib.crc32(name.encode()), case])
        inputs = case_inputs(loss, rng, case)
        weights = rng.uniform(0.1, 2.0, size=loss.n_samples(*inputs))
        where = f"{loss!r}, case {case}"
        if torch is not None and oracle is not None:
            for w in (None, weights):
                for reduction in ("none", "sum", "mean"):
                    ours_v, ours_g = loss.value_and_gradient(*inputs, sample_weight=w, reduction=reduction)
                    ref_v, ref_g = _torch_side(torch, oracle, loss, inputs, w, reduction)
                    ev = relative_error(ours_v, ref_v)
                    eg = max(relative_error(a, b) for a, b in zip(_as_tuple(ours_g), ref_g))
                    row.value_error = max(row.value_error, ev)
                    row.gradient_error = max(row.gradient_error, eg)
                    row.comparisons += 1
                    for what, err in (("value", ev), ("gradient", eg)):
                        if not err <= TORCH_RTOL:
                            row.failures.append(
                                f"{what} vs PyTorch: relative error {err:.2e} > {TORCH_RTOL:g} "
                                f"({where}, reduction={reduction!r}, weights={w is not None})")
        if case < n_fd:
            grads = _as_tuple(loss.gradient(*inputs, reduction="none"))
            has_hessian = loss.info.hessian != "none"
            hessians = _as_tuple(loss.hessian(*inputs, reduction="none")) if has_hessian else grads
            for input_name, g, h in zip(loss.differentiable, grads, hessians):
                k = loss.inputs.index(input_name)
                eg = relative_error(g, numerical_gradient(loss, inputs, k), FD_FLOOR)
                # The stencil's round-off on a hessian is about eps |gradient| / h, so the hessian
                # is compared on the scale max(|hessian|, |gradient|) (exact zeros would otherwise
                # divide round-off by nothing).
                g_scale = max(FD_FLOOR, float(np.max(np.abs(g))))
                eh = (relative_error(h, numerical_hessian(loss, inputs, k), g_scale)
                      if has_hessian else 0.0)
                row.fd_gradient_error = max(row.fd_gradient_error, eg)
                row.fd_hessian_error = max(row.fd_hessian_error, eh) if has_hessian else None
                for what, err in ((f"gradient ({input_name})", eg), (f"hessian ({input_name})", eh)):
                    if not err <= FD_RTOL:
                        row.failures.append(f"{what} vs finite differences: relative error "
                                            f"{err:.2e} > {FD_RTOL:g} ({where})")
    return row


def verify(names=None, *, n_cases: int = 100, n_fd: int = 20, seed: int = 0,
           use_torch: bool = True, progress=None) -> VerificationReport:
    """Check the given losses (default: all) against PyTorch and finite differences.

    ``progress`` is an optional callable receiving each loss name as it starts.
    Returns a report whose ``ok`` is False if any comparison exceeded its tolerance.
    """
    selected = _names() if names is None else [get(n).name for n in names]
    torch = None
    if use_torch:
        try:
            import torch  # noqa: F811
        except ImportError:
            torch = None
    rows = []
    for name in selected:
        if progress is not None:
            progress(name)
        rows.append(_verify_one(name, n_cases, min(n_fd, n_cases), seed, torch))
    return VerificationReport(rows=rows, torch_version=None if torch is None else torch.__version__,
                              n_cases=n_cases, seed=seed)
