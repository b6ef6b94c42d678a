"""Loss cards: a loss's metadata as text, and its value and gradient drawn along one variable.

Every registered loss gets a *probe*: a one-parameter family of inputs x -> inputs(x), with
its tangent d inputs / dx, chosen by what the loss compares:

* regression losses: the error e = y_pred - y_true (y_true = 1);
* binary losses on probabilities: the predicted probability p, for y = 1 and y = 0; on logits
  or scores: the score, for y = 1 and y = 0 (or -1);
* multiclass losses: the probability (or logit) of the true class among three, the other two
  sharing the rest (or at logit 0);
* overlap losses: the probability predicted on a mask's pixels (1 - p off the mask);
* embedding and ranking losses: the angle, distance or score difference they act on;
* Gaussian NLL: the error of the mean, for several variances; NT-Xent: the angle between a
  positive pair; CTC: the probability of the target symbol.

The curve's gradient is d value / dx = <loss gradient, tangent>, from the loss's own analytic
gradient (no finite differences). Hyperparameters that change the shape (delta, quantile, gamma,
...) are drawn at several values.
"""

from __future__ import annotations

import numpy as np

from .._core import Loss, get, names

__all__ = ["probe", "card_rows", "card_text", "card_figure", "gallery_figure", "VARIANTS"]

# loss -> (hyperparameter, values drawn)
VARIANTS = {
    "huber": ("delta", (0.5, 1.0, 2.0)), "smooth_l1": ("beta", (0.5, 1.0, 2.0)),
    "quantile": ("quantile", (0.1, 0.5, 0.9)), "asymmetric_mse": ("under", (1.0, 2.0, 3.0)),
    "asymmetric_huber": ("under", (1.0, 2.0, 3.0)), "focal": ("gamma", (0.0, 1.0, 2.0, 5.0)),
    "categorical_focal": ("gamma", (0.0, 1.0, 2.0, 5.0)), "poly1": ("epsilon", (-1.0, 0.0, 1.0)),
    "tversky": ("alpha", (0.3, 0.5, 0.7)), "contrastive": ("margin", (0.5, 1.0, 2.0)),
    "triplet": ("margin", (0.5, 1.0, 2.0)), "gaussian_nll": None, "ntxent": ("temperature", (0.1, 0.5, 1.0)),
}


def _domain_ok(domain, x):
    if domain is None or not hasattr(domain, "violations"):
        return np.ones(np.shape(x), dtype=bool)
    bad = domain.violations(np, x)
    return ~bad if bad is not None else np.ones(np.shape(x), dtype=bool)


def _single(loss):
    """(xlabel, [(label, x, inputs(x), tangents(x))]) for a loss of (y_true, y_pred)."""
    rule, task = loss.shape_rule, loss.info.task
    dom = loss.info.domains["y_pred"]
    prob = hasattr(dom, "low") and dom.low == 0 and dom.high == 1
    out = []
    if rule == "same" and task == "regression":
        e = np.linspace(-3, 3, 241)
        # inside the domain with a margin of 0.5 (msle's log1p(y_pred) is steep near -1)
        ok = _domain_ok(dom, 1.0 + e) & _domain_ok(dom, 0.5 + e) & \
            _domain_ok(loss.info.domains["y_true"], np.ones_like(e))
        e = e[ok]
        out.append(("y_true = 1", e, lambda x: (np.ones_like(x), 1.0 + x), lambda x: np.ones_like(x)))
        return "error y_pred - y_true", out
    if rule == "same" and task == "binary":
        if prob:
            p = np.linspace(0.02, 0.98, 193)
            for y in (1.0, 0.0):
                out.append((f"y = {y:g}", p, lambda x, y=y: (np.full_like(x, y), x),
                            lambda x: np.ones_like(x)))
            return "predicted probability p", out
        s = np.linspace(-4, 4, 241)
        labels = loss.info.domains["y_true"]
        neg = -1.0 if "-1" in str(labels) else 0.0
        for y in (1.0, neg):
            out.append((f"y = {y:g}", s, lambda x, y=y: (np.full_like(x, y), x),
                        lambda x: np.ones_like(x)))
        return "score (logit or margin)", out
    if rule in ("class_index", "rows") and task in ("multiclass", "multilabel"):
        k = 2 if task == "multilabel" else 3
        if prob:
            x = np.linspace(0.02, 0.98, 193)
            rows = lambda x: np.column_stack([x] + [(1 - x) / (k - 1)] * (k - 1))  # noqa: E731
            tan = lambda x: np.column_stack([np.ones_like(x)] + [np.full_like(x, -1.0 / (k - 1))] * (k - 1))  # noqa: E731
            xlabel = "probability of the true class"
        else:
            x = np.linspace(-5, 5, 201)
            rows = lambda x: np.column_stack([x] + [np.zeros_like(x)] * (k - 1))  # noqa: E731
            tan = lambda x: np.column_stack([np.ones_like(x)] + [np.zeros_like(x)] * (k - 1))  # noqa: E731
            xlabel = "score (logit) of the true class, others at 0"
        if rule == "class_index":
            target = lambda x: np.zeros(len(x), dtype=np.int64)  # noqa: E731
        else:
            target = lambda x: np.tile(np.eye(k)[0], (len(x), 1))  # noqa: E731
        out.append(("true class 0", x, lambda x: (target(x), rows(x)), tan))
        return xlabel, out
    if rule == "samples":
        p = np.linspace(0.02, 0.98, 193)
        mask = np.array([1.0, 1.0, 0.0, 0.0])
        out.append(("mask of 2 of 4 pixels", p,
                    lambda x: (np.tile(mask, (len(x), 1)), mask * x[:, None] + (1 - mask) * (1 - x[:, None])),
                    lambda x: np.tile(2 * mask - 1, (len(x), 1))))
        return "probability predicted on the mask (1 - p off it)", out
    if rule == "rows":  # embeddings compared by angle
        t = np.linspace(0, np.pi, 181)
        out.append(("unit vectors", t, lambda x: (np.tile([1.0, 0.0], (len(x), 1)),
                                                  np.column_stack([np.cos(x), np.sin(x)])),
                    lambda x: np.column_stack([-np.sin(x), np.cos(x)])))
        return "angle between y_true and y_pred (radians)", out
    raise ValueError(f"no probe for {loss.name}")  # pragma: no cover - every loss has one


def _multi(loss):
    """(xlabel, [(label, x, inputs(x), tangents(x) per differentiable input)])."""
    name = loss.name
    if name == "cosine_embedding":
        t = np.linspace(0, np.pi, 181)
        mk = lambda x, y: (np.tile([1.0, 0.0], (len(x), 1)), np.column_stack([np.cos(x), np.sin(x)]), np.full(len(x), y))  # noqa: E731
        tan = lambda x: (np.zeros((len(x), 2)), np.column_stack([-np.sin(x), np.cos(x)]))  # noqa: E731
        return "angle between x1 and x2", [(f"y = {y:+g}", t, lambda x, y=y: mk(x, y), tan) for y in (1, -1)]
    if name == "contrastive":
        d = np.linspace(0.01, 3, 200)
        mk = lambda x, y: (np.zeros((len(x), 2)), np.column_stack([x, np.zeros_like(x)]), np.full(len(x), y))  # noqa: E731
        tan = lambda x: (np.zeros((len(x), 2)), np.column_stack([np.ones_like(x), np.zeros_like(x)]))  # noqa: E731
        return "distance between x1 and x2", [(lbl, d, lambda x, y=y: mk(x, y), tan)
                                             for lbl, y in (("similar (y = 1)", 1.0), ("dissimilar (y = 0)", 0.0))]
    if name == "triplet":
        d = np.linspace(0.01, 3, 200)
        mk = lambda x: (np.zeros((len(x), 2)), np.tile([1.0, 0.0], (len(x), 1)), np.column_stack([np.zeros_like(x), x]))  # noqa: E731
        tan = lambda x: (np.zeros((len(x), 2)), np.zeros((len(x), 2)), np.column_stack([np.zeros_like(x), np.ones_like(x)]))  # noqa: E731
        return "distance anchor-negative (anchor-positive = 1)", [("", d, mk, tan)]
    if name == "margin_ranking":
        s = np.linspace(-3, 3, 241)
        mk = lambda x, y: (x, np.zeros_like(x), np.full(len(x), y))  # noqa: E731
        tan = lambda x: (np.ones_like(x), np.zeros_like(x))  # noqa: E731
        return "score difference x1 - x2", [(f"y = {y:+g}", s, lambda x, y=y: mk(x, y), tan) for y in (1, -1)]
    if name == "gaussian_nll":
        e = np.linspace(-3, 3, 241)
        out = []
        for v in (0.5, 1.0, 2.0):
            out.append((f"var = {v:g}", e, lambda x, v=v: (np.zeros_like(x), x, np.full_like(x, v)),
                        lambda x: (np.ones_like(x), np.zeros_like(x))))
        return "error of the mean", out
    if name == "ctc":
        p = np.linspace(0.02, 0.98, 193)

        def mk(x):
            n = len(x)
            lp = np.stack([np.log1p(-x), np.log(x)], axis=1)[None]  # (T=1, N, C=2)
            return lp, np.ones((n, 1), dtype=np.int64), np.ones(n, dtype=np.int64), np.ones(n, dtype=np.int64)

        tan = lambda x: (np.stack([-1 / (1 - x), 1 / x], axis=1)[None],)  # noqa: E731
        return "probability of the target symbol (one step)", [("", p, mk, tan)]
    if name == "ntxent":
        return "angle within the positive pair", "ntxent"
    raise ValueError(f"no probe for {name}")  # pragma: no cover


def _ntxent_curve(loss, t):
    vals, grads = [], []
    for th in t:
        E = np.array([[1.0, 0.0, 0.0], [np.cos(th), np.sin(th), 0.0], [0.0, 0.0, 1.0],
                      [0.0, 0.2, 0.98]])
        labels = np.array([0, 0, 1, 1])
        v, g = loss.value_and_gradient(E, labels, reduction="sum")
        vals.append(float(v))
        grads.append(float(g[0][1] @ np.array([-np.sin(th), np.cos(th), 0.0])))
    return np.array(vals), np.array(grads)


def probe(loss: Loss):
    """(xlabel, [(label, x, value(x), d value / dx)]) for one loss instance."""
    if not loss.info.single_input:
        xlabel, specs = _multi(loss)
        if specs == "ntxent":
            t = np.linspace(0.0, np.pi, 91)
            v, g = _ntxent_curve(loss, t)
            return xlabel, [("sum over the batch", t, v, g)]
    else:
        xlabel, specs = _single(loss)
    curves = []
    for label, x, inputs, tangent in specs:
        ins = inputs(x)
        v, g = loss.value_and_gradient(*ins, reduction="none")
        g = g if isinstance(g, tuple) else (g,)
        t = tangent(x)
        t = t if isinstance(t, tuple) else (t,)
        dx = np.zeros(len(x))
        for gi, ti in zip(g, t):
            prod = np.asarray(gi) * ti
            if prod.ndim >= 2 and prod.shape[0] != len(x):  # CTC: (T, N, C), batch axis 1
                prod = np.moveaxis(prod, 1, 0)
            dx += prod.reshape(len(x), -1).sum(axis=1)
        curves.append((label, x, np.asarray(v, dtype=np.float64).reshape(len(x), -1).sum(axis=1), dx))
    return xlabel, curves


def variants(name):
    spec = VARIANTS.get(name)
    if not spec:
        return [({}, "")]
    param, values = spec
    return [({param: v}, f"{param}={v:g}") for v in values]


def card_rows(loss) -> list[tuple[str, str]]:
    """The card's fields, as (field, value) pairs: what ``losslab show`` prints."""
    loss = get(loss) if isinstance(loss, str) else loss
    info = loss.info
    two_inputs = info.inputs == ("y_true", "y_pred")
    return [
        ("repr", repr(loss)),
        ("aliases", ", ".join(info.aliases) or "-"),
        ("task", info.task),
        ("loss", info.formula),
        ("loss (LaTeX)", info.formula_latex),
        ("gradient", info.gradient),
        ("gradient (LaTeX)", info.gradient_latex),
        ("inputs", ", ".join(info.inputs) + f" (differentiable: {', '.join(info.differentiable)})"),
        ("y_true" if two_inputs else "other inputs", info.y_true_domain),
        ("y_pred" if two_inputs else "differentiable inputs", info.y_pred_domain),
        ("activation", info.activation),
        (f"convex in {' and '.join(info.differentiable)}", info.convex),
        ("not differentiable", info.nondifferentiable),
        ("hessian", info.hessian),
        ("unreduced value", ("one per sample (sums the class axis)" if two_inputs else
                             "one per sample") if info.reduces_class_axis else "one per element"),
        ("outliers", info.outlier_sensitivity),
        ("noise model", info.noise_model or "-"),
        ("convention", info.convention),
        ("references", "\n".join(info.references)),
    ]


def card_text(name) -> str:
    """The card as plain text, one field per line."""
    return "\n".join(f"{k}: {v}" for k, v in card_rows(name))


def distinct_curves(name):
    """(x-axis label, [(legend label, x, value, gradient)]) over the loss's variants, each curve
    once: a curve that is the same for every value of the hyperparameter (contrastive's similar
    pairs do not depend on the margin) is drawn once and labelled "every ..." instead of being
    drawn on top of itself."""
    drawn, xlabel = [], ""
    spec = VARIANTS.get(name)
    for params, plabel in variants(name):
        xlabel, curves = probe(get(name, **params))
        for label, x, v, g in curves:
            same = next((d for d in drawn if d[0] == label and d[2].shape == x.shape
                         and np.array_equal(d[2], x) and np.allclose(d[3], v, rtol=1e-12,
                                                                      atol=1e-12)), None)
            if same is not None:
                same[1] = ", ".join(s for s in (label, f"every {spec[0]}" if spec else "") if s)
                continue
            drawn.append([label, ", ".join(s for s in (label, plabel) if s) or name, x, v, g])
    return xlabel, [(lab, x, v, g) for _, lab, x, v, g in drawn]


def _draw(ax_v, ax_g, name):
    xlabel, curves = distinct_curves(name)
    for lab, x, v, g in curves:
        line, = ax_v.plot(x, v, label=lab)
        ax_g.plot(x, g, color=line.get_color(), label=lab)
    for ax, what in ((ax_v, "value"), (ax_g, "gradient d value / dx")):
        ax.set_xlabel(xlabel)
        ax.set_ylabel(what)
        ax.axhline(0, color="gray", lw=0.5)
    ax_v.legend(fontsize=7)
    return xlabel


def card_figure(name: str):
    """Value and gradient of one loss along its probe (a ``matplotlib.figure.Figure``)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4), layout="constrained")
    ax_v, ax_g = fig.subplots(1, 2)
    _draw(ax_v, ax_g, get(name).name)
    fig.suptitle(f"{get(name).name}: {get(name).info.formula}", fontsize=9)
    return fig


def gallery_figure(loss_names=None, cols: int = 3):
    """The value curves of many losses on one page (the report's loss zoo), each panel with a
    legend naming its curves (the label, and the hyperparameter value drawn)."""
    from matplotlib.figure import Figure

    loss_names = list(loss_names or names())
    rows = -(-len(loss_names) // cols)
    fig = Figure(figsize=(4.4 * cols, 3.6 * rows))
    # fixed margins, not a layout engine: the same page, drawn in a third of the time
    height = 3.6 * rows  # margins in inches: room for the first titles and the last labels
    fig.subplots_adjust(left=0.035, right=0.995, bottom=0.5 / height, top=1 - 0.35 / height,
                        wspace=0.28, hspace=0.5 if rows > 1 else 0.3)
    axes = np.atleast_2d(fig.subplots(rows, cols))
    for ax, name in zip(axes.ravel(), loss_names):
        xlabel, curves = distinct_curves(name)
        labels = [lab for lab, *_ in curves]
        for lab, x, v, _ in curves:
            ax.plot(x, v, lw=1.4, label=lab)
        ax.set_title(name, fontsize=12, fontweight="bold")
        ax.set_xlabel(xlabel, fontsize=9)
        ax.tick_params(labelsize=8.5)
        wide = len(labels) > 4 and max(map(len, labels)) <= 18
        # three panels a row: on a report page of about 1000 px this is 11-12 px text
        ax.legend(fontsize=8.5, ncols=2 if wide else 1, handlelength=1.4,
                  borderpad=0.3, labelspacing=0.2, columnspacing=0.8, framealpha=0.7)
    for ax in axes.ravel()[len(loss_names):]:
        ax.set_visible(False)
    return fig
