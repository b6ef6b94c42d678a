"""The course's landscape cases, for ``losslab landscape CASE``: each returns a ``LabResult``
whose figure is the landscape (3D surface and contour with paths) and whose numbers are computed
in the run; ``save_case`` adds the interactive HTML view.

* ``course``: the course's section 7.3: the (w, b) cost surface of a linear model on its data
  (legacy NumPy seed 42: x ~ N(0, 1), y = 2x + 1 + 0.3 noise, 50 points), w in [-1, 5], b in
  [-2, 4], 100 x 100, with gradient descent's path. The course marks (2, 1) as "the true
  minimum"; the minimum of this data's cost is the least-squares point, reported here.
* one of the demonstration surfaces (``bowl``, ``saddle``, ``monkey_saddle``, ``double_well``,
  ``plateau``, ``rosenbrock``): critical points found and classified, and the paths of gradient
  descent, momentum and noisy gradient descent from one start; for the saddle of the double well,
  the steps each spends near the saddle and the step it reaches a minimum.
* ``csv``: a user's CSV and target column with a linear model: trained with Adam, then the (w, b)
  plane for one feature or the plane of the training trajectory's principal components.
* ``skip`` (PyTorch): the course's research exercise: the same deep MLP with and without skip
  connections, trained on the same data, on filter-normalised planes, with Hessian extremes.
"""

from __future__ import annotations

import numpy as np

from .. import optim
from .._core import get as get_loss
from .. import landscapes as L
from ..landscapes import SURFACES, axes, filter_normalized, get_surface, landscape, pca
from ..models import Linear
from ..training import train
from ._result import LabResult

CASES = ("course",) + tuple(SURFACES) + ("csv", "skip")


def _draw_landscape(result):
    ls = result.curves["landscape"]
    return ls.figure(paths=result.curves.get("paths"), log=result.curves.get("log", False),
                     critical_points=result.curves.get("critical_points"),
                     title=result.title)


def course_case(loss: str = "mse", n: int = 100, seed: int = 0, executor=None,
                store=None) -> LabResult:
    rs = np.random.RandomState(42)
    X = rs.randn(50)
    y = 2 * X + 1 + 0.3 * rs.randn(50)
    model, lossobj = Linear(1), get_loss(loss)
    plane = axes(model, "W", "b")
    w_range, b_range = np.linspace(-1, 5, n), np.linspace(-2, 4, n)
    ls = landscape(model, lossobj, X[:, None], y, plane=plane, alpha=w_range, beta=b_range,
                   executor=executor, store=store, progress=executor is not None)
    hist = train(Linear(1), lossobj, X[:, None], y, optimizer=optim.GradientDescent(0.1),
                 epochs=60, record="epoch", seed=seed)
    (w_min, b_min), j_min = ls.argmin()
    A = np.column_stack([X, np.ones_like(X)])
    numbers = {"grid": [n, n], "method": ls.method, "seconds": ls.seconds,
               "grid_minimum": {"w": w_min, "b": b_min, "J": j_min},
               "gd_final": {"w": float(hist.params["W"][0, 0]), "b": float(hist.params["b"][0]),
                            "J": hist.loss[-1]}}
    claims = [f"{loss} on the course's data: the lowest of the {n} x {n} grid points is "
              f"(w, b) = ({w_min:.3f}, {b_min:.3f}), J = {j_min:.4f} (method {ls.method}, "
              f"{ls.seconds * 1e3:.1f} ms)."]
    if loss == "mse":
        ls_coef = np.linalg.lstsq(A, y, rcond=None)[0]
        j_star = float(np.mean((A @ ls_coef - y) ** 2))
        numbers["least_squares"] = {"w": float(ls_coef[0]), "b": float(ls_coef[1]), "J": j_star}
        claims.append(f"The exact minimum is the least-squares point ({ls_coef[0]:.4f}, "
                      f"{ls_coef[1]:.4f}), J* = {j_star:.5f}, not the course's (2, 1), where "
                      f"J = {float(np.mean((2 * X + 1 - y) ** 2)):.5f}.")
    claims.append(f"Gradient descent (lr 0.1, 60 epochs) from (0, 0) ends at "
                  f"({numbers['gd_final']['w']:.4f}, {numbers['gd_final']['b']:.4f}), "
                  f"J = {numbers['gd_final']['J']:.5f}.")
    return LabResult(f"landscape-course-{loss}", f"{loss} cost over (w, b), course data", seed,
                     numbers, {"grid_minimum": [numbers["grid_minimum"]]}, claims,
                     {"data": "seed 42, x ~ N(0, 1), y = 2x + 1 + 0.3 noise, 50 points",
                      "grid": "w in [-1, 5], b in [-2, 4]"},
                     {"landscape": ls, "paths": {"gradient descent": hist}}, _draw_landscape)


def surface_case(name: str, n: int = 121, seed: int = 0) -> LabResult:

    s = get_surface(name)
    ls = L.surface_landscape(s, n=n)
    cps = L.find_critical_points(s, s.gradient, s.hessian, s.bounds)
    starts = {"bowl": (1.5, 1.8), "saddle": (1.8, 1e-3), "monkey_saddle": (1.2, 0.3),
              "double_well": (1e-9, 1.2), "plateau": (1.6, 1.2), "rosenbrock": (-1.2, 1.0)}
    lr = {"rosenbrock": 0.001, "plateau": 0.01}.get(name, 0.05)
    steps = {"rosenbrock": 3000}.get(name, 200)
    (x0, x1), (y0, y1) = s.bounds
    paths, rows = {}, []
    for label, opt, noise in (("gradient descent", optim.GradientDescent(lr), 0.0),
                              ("momentum 0.9", optim.Momentum(lr, momentum=0.9), 0.0),
                              ("gradient descent + noise 0.1", optim.GradientDescent(lr), 0.1)):
        p = optim.minimize(s.value_and_grad, starts[name], opt, steps=steps, noise=noise,
                           seed=seed)
        inside = np.flatnonzero((p.points[:, 0] < x0) | (p.points[:, 0] > x1) |
                                (p.points[:, 1] < y0) | (p.points[:, 1] > y1))
        cut = p.points[: inside[0]] if inside.size else p.points
        paths[label] = cut
        row = {"optimizer": label, "lr": lr, "steps": steps, "final": p.points[-1].tolist(),
               "final_value": float(p.values[-1]), "left_the_picture_at": int(inside[0]) if
               inside.size else None, "diverged_at": p.diverged_at}
        saddles = [c for c in cps if c.kind == "saddle"]
        if saddles:
            d = np.linalg.norm(p.points - np.asarray(saddles[0].point), axis=1)
            row["steps_within_0.1_of_saddle"] = int(np.sum(d < 0.1))
            mins = [c for c in cps if c.kind == "minimum"]
            hits = [i for i in (p.steps_within(m.point, 1e-3) for m in mins) if i is not None]
            row["reaches_a_minimum_at"] = min(hits) if hits else None
        rows.append(row)
    kinds = {}
    for c in cps:
        kinds[c.kind] = kinds.get(c.kind, 0) + 1
    claims = [f"{name} ({s.formula}): {len(cps)} critical point(s) found by Newton's method from "
              "a 7 x 7 grid of starts: " + ", ".join(f"{v} {k}" for k, v in kinds.items())
              + (" (a flat region: every point of it is critical)" if name == "plateau" else "")
              + "; " + "; ".join(f"({c.point[0]:.3g}, {c.point[1]:.3g}) {c.kind}, eigenvalues "
                                f"{np.round(c.eigenvalues, 4).tolist()}" for c in cps[:4]) + "."]
    for r in rows:
        extra = ""
        if "steps_within_0.1_of_saddle" in r:
            reach = r["reaches_a_minimum_at"]
            extra = (f"; {r['steps_within_0.1_of_saddle']} steps within 0.1 of the saddle; "
                     + (f"reaches a minimum at step {reach}" if reach is not None else
                        f"no minimum within {r['steps']} steps"))
        if r["left_the_picture_at"] is not None:
            extra += f"; left the picture at step {r['left_the_picture_at']}"
        claims.append(f"{r['optimizer']} (lr {r['lr']:g}) from {starts[name]}: ends at "
                      f"({r['final'][0]:.4g}, {r['final'][1]:.4g}), f = {r['final_value']:.4g}"
                      + extra + ".")
    log = name == "rosenbrock"
    return LabResult(f"landscape-{name}", f"{name}: {s.formula}", seed,
                     {"critical_points": [c.__dict__ for c in cps], "paths": rows},
                     {"critical_points": [c.__dict__ for c in cps], "paths": rows}, claims,
                     {"grid": [n, n], "bounds": s.bounds, "start": starts[name]},
                     {"landscape": ls, "paths": paths, "critical_points": cps, "log": log},
                     _draw_landscape)


def csv_case(path, target: str, loss: str = "mse", n: int = 61, seed: int = 0, executor=None,
             store=None) -> LabResult:
    import csv

    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise ValueError(f"{path}: no data rows")
    if target not in rows[0]:
        raise ValueError(f"{path}: no column {target!r}; the columns are {list(rows[0])}")
    features = [c for c in rows[0] if c != target]
    try:
        X = np.array([[float(r[c]) for c in features] for r in rows])
        y = np.array([float(r[target]) for r in rows])
    except ValueError as exc:
        raise ValueError(f"{path}: every value must be a number ({exc})") from None
    mu, sd = X.mean(axis=0), X.std(axis=0)
    sd[sd == 0] = 1.0
    Xs = (X - mu) / sd  # standardised with the file's own statistics (this is not a test set)
    model, lossobj = Linear(X.shape[1]), get_loss(loss)
    hist = train(model, lossobj, Xs, y, optimizer=optim.Adam(0.1), epochs=300, record="epoch",
                 seed=seed)
    theta = model.ravel()
    if X.shape[1] == 1:
        plane = axes(model, "W", "b")
        w, b = theta
        span = max(1.0, abs(w), abs(b))
        a, bb = np.linspace(w - span, w + span, n), np.linspace(b - span, b + span, n)
        kind = "(w, b) axes"
    else:
        plane = pca(hist.trajectory)
        coords = plane.info["coordinates"]
        lo, hi = coords.min(axis=0), coords.max(axis=0)
        pad = 0.25 * (hi - lo) + 1e-3
        a, bb = np.linspace(lo[0] - pad[0], hi[0] + pad[0], n), np.linspace(lo[1] - pad[1], hi[1] + pad[1], n)
        kind = "trajectory PCA plane"
    ls = landscape(model, lossobj, Xs, y, plane=plane, alpha=a, beta=bb, executor=executor,
                   store=store, progress=executor is not None)
    numbers = {"samples": len(y), "features": features, "final_cost": hist.loss[-1],
               "plane": kind, "method": ls.method}
    claims = [f"{path}: {len(y)} rows, features {features} (standardised), target {target!r}; "
              f"{loss} after 300 Adam epochs: {hist.loss[-1]:.6g}; landscape on the {kind} "
              f"({ls.method}, {ls.seconds * 1e3:.1f} ms)."]
    if plane.kind == "pca":
        ev = plane.info["explained_variance_ratio"]
        numbers["explained_variance_ratio"] = ev
        numbers["max_distance_from_plane"] = float(np.max(plane.info["distance"]))
        claims.append(f"The two principal components explain {ev[0]:.1%} and {ev[1]:.1%} of the "
                      f"trajectory's variance; the checkpoints lie at most "
                      f"{numbers['max_distance_from_plane']:.3g} from the plane.")
    return LabResult("landscape-csv", f"{loss} landscape of a linear model on {path}", seed,
                     numbers, {"summary": [numbers]}, claims, {"csv": str(path), "target": target},
                     {"landscape": ls, "paths": {"Adam": hist}}, _draw_landscape)


def _deep_mlp(width, depth, residual, seed):
    import torch

    class DeepMLP(torch.nn.Module):
        """Linear(2, width), ``depth`` blocks h <- h + relu(L h) (skip) or relu(L h), Linear(width, 2)."""

        def __init__(self):
            super().__init__()
            self.inp = torch.nn.Linear(2, width)
            self.blocks = torch.nn.ModuleList(torch.nn.Linear(width, width) for _ in range(depth))
            self.out = torch.nn.Linear(width, 2)
            self.residual = residual

        def forward(self, x):
            h = torch.relu(self.inp(x))
            for layer in self.blocks:
                f = torch.relu(layer(h))
                h = h + f if self.residual else f
            return self.out(h)

    torch.manual_seed(seed)
    return DeepMLP().double()


def skip_case(n: int = 25, seed: int = 0, depth: int = 12, width: int = 24,
              epochs: int = 400, executor=None, store=None) -> LabResult:
    """The same deep MLP with and without skip connections: train on make_moons, then compare
    filter-normalised planes around each minimum and the Hessian's extreme eigenvalues."""
    from .._extras import require

    torch = require("torch", "the skip-connection landscape")
    from sklearn.datasets import make_moons

    from ..landscapes import torch_hvp, torch_landscape, torch_plane

    X, y = make_moons(400, noise=0.2, random_state=seed)
    tX, ty = torch.tensor(X), torch.tensor(y)
    loss_fn = torch.nn.functional.cross_entropy
    rows, landscapes = [], {}
    grid = np.linspace(-1.0, 1.0, n)
    for residual in (False, True):
        net = _deep_mlp(width, depth, residual, seed)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        for _ in range(epochs):
            opt.zero_grad()
            loss_fn(net(tX), ty).backward()
            opt.step()
        with torch.no_grad():
            logits = net(tX)
            final = float(loss_fn(logits, ty))
            acc = float((logits.argmax(1) == ty).double().mean())
        plane = torch_plane(net, kind="filter", seed=seed)
        part = None if store is None else _suffixed(store, "skip" if residual else "plain")
        ls = torch_landscape(net, loss_fn, X, y, plane=plane, alpha=grid, beta=grid,
                             executor=executor, store=part, progress=executor is not None)
        hvp = torch_hvp(net, loss_fn, X, y)
        (lam_min,), (lam_max,) = L.hessian_extremes(hvp, plane.center.size, k=1, tol=1e-6)
        Z = ls.values
        d2a = Z[2:, 1:-1] - 2 * Z[1:-1, 1:-1] + Z[:-2, 1:-1]
        d2b = Z[1:-1, 2:] - 2 * Z[1:-1, 1:-1] + Z[1:-1, :-2]
        dab = (Z[2:, 2:] - Z[2:, :-2] - Z[:-2, 2:] + Z[:-2, :-2]) / 4
        # a grid point is non-convex in the slice when its 2 x 2 finite-difference Hessian has a
        # negative eigenvalue: trace < 0 or determinant < 0
        nonconvex = float(np.mean((d2a + d2b < 0) | (d2a * d2b - dab * dab < 0)))
        label = "with skip connections" if residual else "without skip connections"
        rows.append({"network": label, "parameters": int(plane.center.size),
                     "train_loss": final, "train_accuracy": acc,
                     "hessian_min_eigenvalue": float(lam_min), "hessian_max_eigenvalue": float(lam_max),
                     "abs_min_over_max": float(abs(lam_min) / lam_max),
                     "slice_nonconvex_fraction": nonconvex,
                     "slice_loss_at_corners_mean": float(np.mean(Z[[0, 0, -1, -1], [0, -1, 0, -1]])),
                     "batched": ls.meta["batched"], "seconds": ls.seconds})
        landscapes[label] = ls
    a, b = rows
    claims = [f"{r['network']}: {depth} hidden blocks of {width} units ({r['parameters']} "
              f"parameters), trained loss {r['train_loss']:.4f}, accuracy {r['train_accuracy']:.1%}; "
              f"Hessian eigenvalues from {r['hessian_min_eigenvalue']:.3g} to "
              f"{r['hessian_max_eigenvalue']:.3g} (|min/max| {r['abs_min_over_max']:.3g}); on the "
              f"filter-normalised plane {r['slice_nonconvex_fraction']:.1%} of the grid is "
              f"locally non-convex, mean loss at the corners {r['slice_loss_at_corners_mean']:.3g}."
              for r in rows]
    claims.append(f"Largest curvature without / with skip connections: "
                  f"{a['hessian_max_eigenvalue']:.3g} / {b['hessian_max_eigenvalue']:.3g}; "
                  f"non-convex share of the plane: {a['slice_nonconvex_fraction']:.1%} / "
                  f"{b['slice_nonconvex_fraction']:.1%}.")

    def draw(result):
        from matplotlib.figure import Figure

        fig = Figure(figsize=(13, 5.5), layout="constrained")
        shown = result.curves["landscapes"]
        # one z scale and one colour scale for both panels: the two surfaces are compared
        lo = min(float(np.min(ls.values)) for ls in shown.values())
        hi = max(float(np.max(ls.values)) for ls in shown.values())
        axes = []
        for k, (label, ls) in enumerate(shown.items()):
            ax = fig.add_subplot(1, 2, k + 1, projection="3d")
            A, B = np.meshgrid(ls.alpha, ls.beta, indexing="ij")
            surf = ax.plot_surface(A, B, ls.values, cmap="viridis", linewidth=0, vmin=lo, vmax=hi)
            ax.set_zlim(lo, hi)
            ax.set_title(label)
            ax.set_xlabel("alpha")
            ax.set_ylabel("beta")
            ax.set_zlabel("loss")
            axes.append(ax)
        fig.colorbar(surf, ax=axes, shrink=0.6, label="loss (the same scale in both panels)")
        return fig

    return LabResult("landscape-skip", "Skip connections and the loss landscape (Li et al.)",
                     seed, {"networks": rows}, {"networks": rows}, claims,
                     {"data": "make_moons(400, noise=0.2)", "training": f"Adam lr 1e-3, {epochs} "
                      "full-batch epochs", "plane": "filter-normalised, bias directions zero",
                      "grid": [n, n]}, {"landscapes": landscapes}, draw)


def _suffixed(store, tag):
    """PATH.zarr -> PATH-tag.zarr: one store per landscape of a case that draws two."""
    from pathlib import Path

    p = Path(store)
    return p.with_name(f"{p.stem}-{tag}{p.suffix}")


def save_case(result: LabResult, out, html: bool = True) -> dict:
    """Write the case's PNG and JSON (``LabResult.save``) and, for a single landscape, its HTML."""
    from pathlib import Path

    paths = result.save(out)
    ls = result.curves.get("landscape")
    if html and ls is not None:
        target = Path(out) / f"{result.name}.html"
        ls.to_html(target, paths=result.curves.get("paths"), title=result.title,
                   log=result.curves.get("log", False))
        paths["html"] = target
    return paths


# the cases whose grid is a model's cost (options --workers, --scheduler, --store apply)
GRID_CASES = ("course", "csv", "skip")


def check_case(case: str, *, grid_options: bool = False) -> None:
    """Raise ValueError naming the cases (with a "did you mean") for an unknown ``case``, or
    saying which cases take them when ``grid_options`` (an executor or a store) are given for a
    case that has no model grid."""
    if case not in CASES:
        import difflib

        close = difflib.get_close_matches(case, list(CASES), n=2, cutoff=0.6)
        hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"unknown case {case!r}{hint} The cases are: {', '.join(CASES)}")
    if grid_options and case not in GRID_CASES:
        raise ValueError(f"--workers, --scheduler and --store apply to the "
                         f"{', '.join(GRID_CASES)} cases; {case!r} is an analytic surface")


def run_case(case: str, *, loss: str = "mse", csv=None, target=None, n=None, seed: int = 0,
             executor=None, store=None) -> LabResult:
    """Run one case by name (what ``losslab landscape CASE`` runs): the options that do not
    apply to ``case`` are refused with a ValueError that says which cases they apply to."""
    check_case(case, grid_options=executor is not None or store is not None)
    kw = {} if n is None else {"n": n}
    if case in GRID_CASES:
        kw.update(store=store, executor=executor)
    if case == "course":
        return course_case(loss, seed=seed, **kw)
    if case == "csv":
        if csv is None or target is None:
            raise ValueError("case csv needs --csv FILE and --target COLUMN")
        return csv_case(csv, target, loss, seed=seed, **kw)
    if case == "skip":
        return skip_case(seed=seed, **kw)
    return surface_case(case, seed=seed, **kw)


# The report's landscape section: (case, loss or None) and whether it also gets the
# interactive view; grid sizes for the quick and the full report.
REPORT_RUNS = (("course", "mse", True), ("course", "mae", False), ("double_well", None, True),
               ("saddle", None, False), ("monkey_saddle", None, False), ("plateau", None, False),
               ("rosenbrock", None, False))


def report_runs(quick: bool = False, seed: int = 0) -> list[tuple[LabResult, bool]]:
    """The report's landscape cases: [(result, draw its interactive view)]."""
    n, m = (60, 61) if quick else (100, 121)
    out = []
    for case, loss, interactive in REPORT_RUNS:
        r = course_case(loss, n=n, seed=seed) if case == "course" else surface_case(case, n=m,
                                                                                    seed=seed)
        out.append((r, interactive))
    return out


def report_neural(quick: bool = False, seed: int = 0) -> LabResult:
    """The report's neural-network landscape (the skip case; smaller when ``quick``)."""
    return skip_case(seed=seed, **({"n": 11, "depth": 6, "epochs": 200} if quick else {}))
