"""What the explorer's pages compute, as plain functions (no Dash): the app's callbacks and the
notebook widget call them, and the tests check them against independent references.

Everything about a loss comes from its declarations: which losses are offered (every
registered loss of ``(y_true, y_pred)``, grouped by task), their controls (``Loss.controls``),
the axis a curve is drawn along (``Loss.probe``) and its exact slope and curvature
(``report.cards.along``).
"""

from __future__ import annotations

import math

import numpy as np
from sklearn import metrics as M
from sklearn.model_selection import train_test_split

from .. import optim
from .._core import get as get_loss
from .._core import loss_class, names
from ..estimators import LossClassifier, LossRegressor
from ..landscapes import SURFACES, get_surface
from ..report.cards import along

TASK_ORDER = ("regression", "binary", "multiclass", "multilabel", "segmentation", "embedding")
# one colour per loss, the same on every panel: Plotly's qualitative palettes (D3's ten, then
# Dark24's), indexed by the loss's place in its task: no two losses of a task, the only ones
# drawn together, share one (a test holds every task to that)
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#17becf", "#bcbd22", "#7f7f7f", "#2E91E5", "#E15F99", "#1CA71C", "#FB0D0D",
           "#DA16FF", "#222A2A", "#B68100", "#750D86", "#EB663B", "#511CFB", "#00A08B",
           "#FB00D1", "#FC0080", "#B2828D", "#6C7C32", "#778AAE", "#862A16", "#A777F1")


def num(value, digits: int = 6) -> str:
    """A number for people: ``digits`` significant digits, and never ``-0``."""
    v = float(value)
    if v == 0 or abs(v) < 10.0 ** (-12):
        v = 0.0
    return f"{v + 0.0:.{digits}g}"


def grouped() -> dict:
    """{task: [loss names]}: every registered loss of (y_true, y_pred), by task."""
    out = {}
    for name in names():
        info = get_loss(name).info
        if info.single_input:
            out.setdefault(info.task, []).append(name)
    return {t: out[t] for t in sorted(out, key=lambda t: (TASK_ORDER + (t,)).index(t))}


def several_inputs() -> list:
    """The losses of other inputs (pairs, triplets, sequences): the page links their cards."""
    return [n for n in names() if not get_loss(n).info.single_input]


def colour(name: str) -> str:
    task = get_loss(name).info.task
    return PALETTE[grouped()[task].index(name) % len(PALETTE)]


def controls(name: str) -> list:
    """[(hyperparameter, Control, start)] of a loss, in its declared order."""
    cls = loss_class(name)
    defaults = get_loss(name).get_params()
    out = []
    for param, c in cls.controls.items():
        start = defaults[param] if defaults[param] is not None else c.start
        out.append((param, c, float(start)))
    return out


def make_loss(name: str, params=None):
    """The loss as the explorer draws it: the given hyperparameters clamped into their
    controls' ranges (a control may still hold the previous loss's value for a moment), and on
    logits where the loss offers ``from_logits``, so that every classification loss shares the
    score axis."""
    cls = loss_class(name)
    kw = {}
    for param, c in cls.controls.items():
        if params and params.get(param) is not None:
            kw[param] = c.clamp(params[param])
            if c.integer:
                kw[param] = int(kw[param])
    if "from_logits" in cls._param_names():
        kw["from_logits"] = True
    return get_loss(name, **kw)


def axis(name: str) -> tuple:
    """(x-axis title, x range (lo, hi), slider step) the loss is drawn along."""
    pr = make_loss(name).probe()
    x = pr.curves[0].x
    lo, hi = float(x[0]), float(x[-1])
    return pr.xlabel, (lo, hi), _step(hi - lo)


def _step(span):
    """A round step (1, 2 or 5 times a power of ten) that cuts ``span`` into 30 to 75 steps."""
    unit = 10.0 ** math.floor(math.log10(span / 40))
    return float(next(m * unit for m in (5, 2, 1) if span / (m * unit) >= 30))


def default_x(name: str) -> float:
    """Where the point starts on a loss's axis: at 2 where the axis holds it (an error of 2, a
    score of 2), else three quarters along the axis."""
    _, (lo, hi), step = axis(name)
    if lo < 2.0 < hi:
        return 2.0
    return float(round((lo + 0.75 * (hi - lo)) / step) * step)


def overlays(name: str) -> list:
    """The other losses drawn on the same axis: the same task and the same x-axis title."""
    task, xlabel = get_loss(name).info.task, axis(name)[0]
    return [n for n in grouped()[task] if n != name and axis(n)[0] == xlabel]


def curves(name: str, params=None, x=None) -> dict:
    """The loss's value, slope and curvature along its axis (``x``: the probe's own points
    unless given), with the axis's title and the curve's label (``y = 1`` ...)."""
    from dataclasses import replace

    loss = make_loss(name, params)
    pr = loss.probe()
    curve = pr.curves[0]
    if x is not None:
        curve = replace(curve, x=np.asarray(x, dtype=np.float64))
    v, g, h = along(loss, curve)
    return {"name": name, "loss": loss, "xlabel": pr.xlabel, "label": curve.label, "x": curve.x,
            "value": np.asarray(v), "slope": np.asarray(g),
            "curvature": None if h is None else np.asarray(h)}


def point(name: str, params, x0: float) -> dict:
    """The value, slope and curvature at one point of the axis."""
    lo, hi = axis(name)[1]
    x0 = min(max(float(x0), lo), hi)
    c = curves(name, params, np.array([x0]))
    return {"x": x0, "value": float(c["value"][0]), "slope": float(c["slope"][0]),
            "curvature": None if c["curvature"] is None else float(c["curvature"][0]),
            "label": c["label"], "xlabel": c["xlabel"]}


# ---- focal family -------------------------------------------------------------------------
FOCAL_FAMILY = (0.0, 0.5, 1.0, 2.0, 5.0)


def focal_family(gamma, p):
    """{gamma: focal loss of a positive example predicted p_t = p} for the family's gammas and
    ``gamma`` (alpha None, from probabilities)."""
    ones = np.ones_like(p)
    return {g: np.asarray(get_loss("focal", gamma=g, alpha=None)(ones, p, reduction="none"))
            for g in sorted(set(FOCAL_FAMILY) | {float(gamma)})}


# ---- regression playground -----------------------------------------------------------------
def playground_points(n_outliers, size):
    """The regression playground's points: 40 on y = 1.5 x + 2 with unit noise (seed 0), the
    last ``n_outliers`` of them lifted by ``size``."""
    rng = np.random.default_rng(0)
    x = np.linspace(0, 10, 40)
    y = 1.5 * x + 2 + rng.normal(0, 1.0, x.size)
    if n_outliers:
        y[-int(n_outliers):] += size
    return np.column_stack([x, y])


def regression_fits(points, quantile):
    """The fitted (slope, intercept) of MSE, MAE, Huber and the quantile loss on ``points``
    (n, 2), each at its exact optimum (``LossRegressor``'s solvers)."""
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    x, y = points[:, 0], points[:, 1]
    fits = {}
    for label, loss, params in (("MSE", "mse", None), ("MAE", "mae", None),
                                ("Huber", "huber", None),
                                (f"quantile {quantile:.2f}", "quantile", {"quantile": quantile})):
        est = LossRegressor(loss, loss_params=params).fit(x[:, None], y)
        fits[label] = (float(est.coef_[0]), float(est.intercept_))
    return fits


def edited_points(points, relayout):
    """``points`` after the drags that ``relayout`` (Plotly's relayoutData) reports: a point
    drawn as shape i moved to the centre of its new box."""
    points = [list(p) for p in points]
    moved = {}
    for key, value in (relayout or {}).items():
        if key.startswith("shapes[") and "]." in key:
            i, coord = key[len("shapes["):].split("].")
            moved.setdefault(int(i), {})[coord] = float(value)
    for i, box in moved.items():
        if 0 <= i < len(points) and {"x0", "x1", "y0", "y1"} <= box.keys():
            points[i] = [(box["x0"] + box["x1"]) / 2, (box["y0"] + box["y1"]) / 2]
    return points


# ---- classification playground -------------------------------------------------------------
CLASSIFIERS = ("BCE", "BCE (class-weighted)", "focal")


def classification_data(ratio, separation, n=1100, seed=0):
    """A 2-D problem: positives ~ N((s/2, s/4), I) and ``ratio`` times as many negatives ~
    N((-s/2, -s/4), I), ``s`` = ``separation``; split in stratified halves (seed 0)."""
    ratio, s = float(ratio), float(separation)
    n_pos = max(4, int(round(n / (1.0 + ratio))))
    n_neg = max(4, int(round(n_pos * ratio)))
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(0, 1, (n_pos, 2)) + [s / 2, s / 4],
                   rng.normal(0, 1, (n_neg, 2)) - [s / 2, s / 4]])
    y = np.r_[np.ones(n_pos, dtype=int), np.zeros(n_neg, dtype=int)]
    return train_test_split(X, y, test_size=0.5, stratify=y, random_state=seed)


def classification(ratio=10, separation=2.0, gamma=2.0, alpha=0.75, threshold=0.5):
    """The three linear classifiers (BCE, class-weighted BCE, focal from logits with ``gamma``
    and ``alpha``, the positives' weight) fitted on the training half; their boundaries at
    ``threshold`` and held-out numbers."""
    X_tr, X_te, y_tr, y_te = classification_data(ratio, separation)
    pos_weight = float((y_tr == 0).sum() / (y_tr == 1).sum())
    specs = {"BCE": ("bce", {}), "BCE (class-weighted)": ("bce", {"pos_weight": pos_weight}),
             "focal": ("focal", {"gamma": float(gamma), "alpha": float(alpha)})}
    logit_t = math.log(threshold / (1 - threshold))
    out = {}
    for label, (loss, params) in specs.items():
        est = LossClassifier(loss, loss_params=params).fit(X_tr, y_tr)
        w, b = np.asarray(est.coef_, dtype=float).ravel(), float(np.ravel(est.intercept_)[0])
        s_tr, s_te = est.decision_function(X_tr), est.decision_function(X_te)
        p_te = 1.0 / (1.0 + np.exp(-s_te))
        # the threshold that maximises F1 on the training half
        prec, rec, thr = M.precision_recall_curve(y_tr, s_tr)
        f1 = 2 * prec[:-1] * rec[:-1] / np.maximum(prec[:-1] + rec[:-1], 1e-300)
        tuned = float(thr[int(np.argmax(f1))])
        out[label] = {
            "w": w, "b": b, "boundary_offset": (logit_t - b) / float(np.linalg.norm(w)),
            "recall": float(M.recall_score(y_te, s_te >= logit_t, zero_division=0.0)),
            "precision": float(M.precision_score(y_te, s_te >= logit_t, zero_division=0.0)),
            "tuned_threshold": float(1.0 / (1.0 + np.exp(-tuned))),
            "recall_tuned": float(M.recall_score(y_te, s_te >= tuned, zero_division=0.0)),
            "average_precision": float(M.average_precision_score(y_te, s_te)),
            "log_loss": float(M.log_loss(y_te, np.clip(p_te, 1e-15, 1 - 1e-15))),
            "mean_probability": float(p_te.mean()),
        }
    return {"fits": out, "train": (X_tr, y_tr), "test": (X_te, y_te), "pos_weight": pos_weight,
            "prevalence": float(y_te.mean()), "threshold": float(threshold),
            "gamma": float(gamma), "alpha": float(alpha)}


def classification_why(res) -> str:
    """Why the boundaries differ (or do not), worded from the numbers of this fit."""
    f, t = res["fits"], res["threshold"]
    plain, weighted, focal = (f[k]["boundary_offset"] for k in CLASSIFIERS)
    where = lambda d: "towards the negatives" if d < 0 else "into the positives"  # noqa: E731
    shift = plain - weighted
    out = [f"Positives are {res['prevalence']:.1%} of the held-out half."]
    if abs(shift) < 0.05:
        out.append("With balanced classes, weighting changes nothing: the BCE and class-weighted "
                   "boundaries coincide.")
    else:
        out.append(
            f"Unweighted BCE is calibrated (mean predicted probability "
            f"{f['BCE']['mean_probability']:.3f} against that base rate), so few positives "
            f"reach p = {t:g}: its boundary lies {abs(shift):.2f} units further "
            f"{where(shift)} than the class-weighted one. Weighting each positive by "
            f"{res['pos_weight']:.3g} buys recall {f['BCE (class-weighted)']['recall']:.2f} "
            f"against {f['BCE']['recall']:.2f} with a miscalibrated probability (log loss "
            f"{f['BCE (class-weighted)']['log_loss']:.3f} against {f['BCE']['log_loss']:.3f}).")
    lo, hi = sorted((plain, weighted))
    if abs(focal - plain) < 0.05:
        out.append(f"Focal's boundary lies on BCE's: gamma {res['gamma']:g} down-weights the easy "
                   "examples of both classes alike; its alpha is what moves the boundary.")
    elif lo <= focal <= hi:
        out.append(f"Focal (gamma {res['gamma']:g}, alpha {res['alpha']:g} on the positives) "
                   f"lies between the two, {abs(focal - plain):.2f} units from BCE's.")
    else:
        out.append(f"Focal (gamma {res['gamma']:g}, alpha {res['alpha']:g} on the positives) "
                   f"lies {abs(focal - plain):.2f} units from BCE's boundary, "
                   f"{where(focal - plain)}" + (": an alpha under 0.5 weights the positives down." if
                                 res["alpha"] < 0.5 and focal > plain else "."))
    aps = [f[k]["average_precision"] for k in CLASSIFIERS]
    out.append(f"The ranking barely depends on the loss (average precision {min(aps):.3f} to "
               f"{max(aps):.3f}): a threshold tuned on the training half recovers most of the "
               "difference in recall." if max(aps) - min(aps) < 0.02 else
               f"Average precision ranges from {min(aps):.3f} to {max(aps):.3f}.")
    return " ".join(out)


# ---- landscape -----------------------------------------------------------------------------
SURFACE_CHOICES = ("course",) + tuple(SURFACES)
OPTIMIZERS = ("gd", "momentum", "adam")
# what the second hyperparameter of each optimiser is called (None: it has none)
BETA_NAME = {"gd": None, "momentum": "momentum", "adam": "beta1"}


def make_optimizer(kind, lr, beta):
    if kind == "momentum":
        return optim.Momentum(float(lr), momentum=float(beta))
    if kind == "adam":
        return optim.Adam(float(lr), beta1=float(beta))
    return optim.GradientDescent(float(lr))


def _course():
    rs = np.random.RandomState(42)
    X = rs.randn(50)
    y = 2 * X + 1 + 0.3 * rs.randn(50)
    prepared = get_loss("mse").prepare(y)

    def f(theta):
        w, b = theta
        value, g = prepared.value_and_gradient(w * X + b)
        return float(value), np.array([float(g @ X), float(g.sum())])

    A = np.column_stack([X, np.ones_like(X)])
    w, b = np.linalg.lstsq(A, y, rcond=None)[0]
    return f, ((-1.0, 5.0), (-2.0, 4.0)), (((float(w), float(b)), "minimum"),), \
        "MSE of a line on the course's data, over (w, b)", ("w (slope)", "b (intercept)")


def surface(name):
    """(f(theta) -> (value, gradient), bounds, critical points, title, axis titles)."""
    if name == "course":
        return _course()
    s = get_surface(name)
    return s.value_and_grad, s.bounds, s.critical, f"{name}: {s.formula}", ("x", "y")


# where both optimisers start on each surface until a click on the picture moves the start:
# on the double well momentum overshoots into the other well while gradient descent settles in
# the near one; on the saddle both start close to its stable direction, so that they stall by the
# saddle before escaping
STARTS = {"course": (0.0, 0.0), "bowl": (1.5, 1.8), "saddle": (1.8, 0.01),
          "monkey_saddle": (1.2, 0.3), "double_well": (-1.6, 1.3), "plateau": (1.6, 1.2),
          "rosenbrock": (-1.2, 1.0)}


def default_start(name):
    if name in STARTS:
        return STARTS[name]
    (x0, x1), (y0, y1) = get_surface(name).bounds
    return (round(x0 + 0.1 * (x1 - x0), 3), round(y1 - 0.15 * (y1 - y0), 3))


def optimizer_run(name, start, kind, lr, beta, steps=100):
    """One optimiser's path from ``start``, cut where it leaves the view: (points inside the
    view, values, message, whether it left the view or diverged)."""
    f, bounds, *_ = surface(name)
    path = optim.minimize(f, start, make_optimizer(kind, lr, beta), steps=int(steps))
    pts, vals = np.asarray(path.points), np.asarray(path.values)
    (x0, x1), (y0, y1) = bounds
    inside = (pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0) & (pts[:, 1] <= y1)
    left = int(np.argmin(inside)) if not inside.all() else None
    beta_name = BETA_NAME[kind]
    what = f"{kind}, lr {num(lr, 3)}" + (f", {beta_name} {num(beta, 3)}" if beta_name else "")
    if left is not None:
        message = (f"{what}: left the view at step {left} (value {num(vals[left], 4)})"
                   + (f" and diverged at step {path.diverged_at}" if path.diverged_at else "")
                   + ": the steps grow instead of shrinking; lower the learning rate")
        return pts[:left + 1], vals[:left + 1], message, True
    if path.diverged_at is not None:
        return pts, vals, f"{what}: {path.message}", True
    message = (f"{what}: {len(pts) - 1} steps, final value {num(vals[-1], 5)} at "
               f"({num(pts[-1, 0], 4)}, {num(pts[-1, 1], 4)})")
    return pts, vals, message, False


def grid(name, n=81):
    """(gx, gy, Z) of a surface over its bounds."""
    f, bounds, *_ = surface(name)
    (x0, x1), (y0, y1) = bounds
    gx, gy = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    if name == "course":
        Z = np.array([[f(np.array([a, b]))[0] for a in gx] for b in gy])
    else:
        X, Y = np.meshgrid(gx, gy)
        Z = get_surface(name)(np.stack([X, Y], axis=-1))
    return gx, gy, Z
