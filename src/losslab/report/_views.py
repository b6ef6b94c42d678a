"""The report's slider views: Plotly figures whose frames are computed in the run by losslab, one
frame per hyperparameter value, so that a learner can drag the slider in a static page.

* Huber's delta: the value and the gradient along the error, with MSE's halved square and its
  gradient for reference; the gradient is clipped at +-delta.
* Focal's gamma: the loss along the probability of the true class p_t, and its ratio to cross
  entropy, (1 - p_t)^gamma: how much an easy example still counts.
* The pinball loss's quantile: the exact quantile-regression line (``LossRegressor``, linear
  programming) on skewed, heteroscedastic points, and the share of points below it.
"""

from __future__ import annotations

import numpy as np

from .._core import get

__all__ = ["huber_delta_view", "focal_gamma_view", "quantile_view"]


def _slider(fig, values, param, start, fmt="{:g}"):
    """Add the frames' slider: one step per value, drawn at once (no animation); the figure
    starts at ``values[start]``."""
    steps = [{"method": "animate", "label": fmt.format(v),
              "args": [[fmt.format(v)], {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
                                         "transition": {"duration": 0}}]} for v in values]
    fig.update_layout(sliders=[{"active": start, "steps": steps, "pad": {"t": 50},
                                "currentvalue": {"prefix": f"{param} = "}}],
                      margin={"l": 50, "r": 20, "t": 60, "b": 20})
    return fig


def _family_view(x, curves, values, start, param, name, colour, references, titles,
                 xlabel, ranges, title):
    """Two panels of one loss family: ``curves(value)`` gives (left, right) curves along x,
    one frame per value; ``references`` are dotted gray (label, left or None, right or None)
    curves drawn under them."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=titles)
    n_ref = 0
    for label, *ys in references:
        shown = False
        for col, y in enumerate(ys, start=1):
            if y is not None:
                fig.add_trace(go.Scatter(x=x, y=y, name=label, legendgroup=label,
                                         showlegend=not shown,
                                         line={"dash": "dot", "color": "gray"}), row=1, col=col)
                shown, n_ref = True, n_ref + 1
    for col, y in enumerate(curves(values[start]), start=1):
        fig.add_trace(go.Scatter(x=x, y=y, name=name, legendgroup=name, showlegend=col == 1,
                                 line={"color": colour, "width": 3}), row=1, col=col)
    fig.frames = [go.Frame(name=f"{v:g}", data=[go.Scatter(y=y) for y in curves(v)],
                           traces=[n_ref, n_ref + 1]) for v in values]
    fig.update_xaxes(title_text=xlabel)
    for col, yrange in enumerate(ranges, start=1):
        fig.update_yaxes(range=yrange, row=1, col=col)
    fig.update_layout(title=title, height=430)
    return _slider(fig, values, param, start)


def huber_delta_view(deltas=(0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0)):
    e = np.linspace(-4, 4, 161)
    zero = np.zeros_like(e)

    def curves(delta):
        loss = get("huber", delta=delta)
        return (np.asarray(loss(zero, e, reduction="none")),
                np.asarray(loss.gradient(zero, e, reduction="none")))

    return _family_view(
        e, curves, deltas, deltas.index(1.0), "delta", "Huber", "#1f77b4",
        [("½ e² (MSE / 2)", 0.5 * e ** 2, e)], ("value", "gradient d value / d y_pred"),
        "error e = y_pred - y_true", ([0, 8.5], [-4.2, 4.2]),
        "Huber's delta: quadratic inside |e| < delta, linear outside (the gradient is clipped "
        "at ±delta)")


def focal_gamma_view(gammas=(0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0)):
    p = np.linspace(0.01, 0.99, 99)
    ones = np.ones_like(p)
    ce = np.asarray(get("bce")(ones, p, reduction="none"))

    def curves(gamma):
        v = np.asarray(get("focal", gamma=gamma, alpha=None)(ones, p, reduction="none"))
        return v, v / ce

    # cross-entropy is drawn dotted: start at gamma 2, where focal differs from it
    return _family_view(
        p, curves, gammas, gammas.index(2.0), "gamma", "focal", "#d62728",
        [("cross-entropy (gamma = 0)", ce, None)],
        ("loss of an example of the positive class", "focal / cross-entropy = (1 - p_t)^gamma"),
        "p_t, the predicted probability of the true class", ([0, 4.7], [0, 1.05]),
        "Focal's gamma: easy examples (p_t near 1) fade from the loss")


def quantile_view(quantiles=tuple(np.round(np.arange(0.05, 0.96, 0.05), 2)), n=150, seed=0):
    """(figure, rows): the fitted quantile lines and, per quantile, the share of points below."""
    import plotly.graph_objects as go

    from ..estimators import LossRegressor

    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0, 10, n))
    y = 2 + 1.2 * x + rng.gamma(2.0, 0.4 + 0.25 * x) - 0.8 * (0.4 + 0.25 * x)
    grid = np.array([0.0, 10.0])
    lines, rows = {}, []
    for q in quantiles:
        est = LossRegressor("quantile", loss_params={"quantile": float(q)}).fit(x[:, None], y)
        below = float(np.mean(y < est.predict(x[:, None])))
        lines[q] = (est.predict(grid[:, None]), below)
        rows.append({"quantile": float(q), "slope": float(est.coef_[0]),
                     "intercept": float(est.intercept_), "share_below": below})
    start = len(quantiles) // 2
    first = quantiles[start]
    fig = go.Figure([go.Scatter(x=x, y=y, mode="markers", name="points",
                                marker={"size": 5, "color": "#7f7f7f", "opacity": 0.7}),
                     go.Scatter(x=grid, y=lines[first][0], mode="lines", name="quantile line",
                                line={"color": "#2ca02c", "width": 3})])

    def title(q):
        return (f"quantile {q:g}: {lines[q][1]:.0%} of the points lie below the exact pinball "
                f"fit (its target: {q:.0%})")

    fig.frames = [go.Frame(name=f"{q:g}", data=[go.Scatter(y=lines[q][0])], traces=[1],
                           layout={"title": {"text": title(q)}}) for q in quantiles]
    fig.update_layout(title=title(first), height=450, xaxis_title="x", yaxis_title="y")
    return _slider(fig, quantiles, "quantile", start), rows
