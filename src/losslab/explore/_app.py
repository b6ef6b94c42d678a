"""The Dash app behind ``losslab explore`` (see the package docstring)."""

from __future__ import annotations

import json

import numpy as np
from sklearn.datasets import make_classification
from sklearn.metrics import average_precision_score, precision_recall_curve

from .. import optim
from .._core import get as get_loss
from ..estimators import LossClassifier, LossRegressor
from ..landscapes import get_surface

# Everything the callbacks use is imported here, once, before the server starts: Dash runs the
# first callbacks of all pages at once in threads, and concurrent first imports of a package
# (scikit-learn's circular imports) fail with "partially initialized module".

# loss -> (its main hyperparameter, slider range and step, the default), or None
LOSSES = {
    "huber": ("delta", 0.1, 3.0, 0.1, 1.0),
    "smooth_l1": ("beta", 0.1, 3.0, 0.1, 1.0),
    "quantile": ("quantile", 0.05, 0.95, 0.05, 0.5),
    "mse": None, "mae": None, "log_cosh": None,
    "bce": None,
    "focal": ("gamma", 0.0, 5.0, 0.5, 2.0),
    "hinge": None, "squared_hinge": None, "logistic": None, "exponential": None,
}
REGRESSION = ("huber", "smooth_l1", "quantile", "mse", "mae", "log_cosh")


def _loss(name, value):
    spec = LOSSES[name]
    # a slider may still hold the previous loss's value for a moment: clamp it into range
    params = {} if spec is None else {spec[0]: min(max(float(value), spec[1]), spec[2])}
    if name == "focal":
        params["alpha"] = None
    if name in ("bce", "focal"):
        params["from_logits"] = True
    return get_loss(name, **params)


def curves(name, value, x):
    """(value, gradient, hessian) of the loss along x: the error y_pred - y_true (regression,
    y_true = 0) or the score for the positive label (classification, y_true = 1)."""
    loss = _loss(name, value)
    y = np.zeros_like(x) if name in REGRESSION else np.ones_like(x)
    v = loss(y, x, reduction="none")
    g = loss.gradient(y, x, reduction="none")
    h = loss.hessian(y, x, reduction="none")
    return np.asarray(v), np.asarray(g), np.asarray(h)


FOCAL_FAMILY = (0.0, 0.5, 1.0, 2.0, 5.0)


def focal_family(gamma, p):
    """{gamma: focal loss of a positive example predicted p_t = p} for the family's gammas and
    ``gamma`` (alpha None, from probabilities)."""
    ones = np.ones_like(p)
    return {g: np.asarray(get_loss("focal", gamma=g, alpha=None)(ones, p, reduction="none"))
            for g in sorted(set(FOCAL_FAMILY) | {float(gamma)})}


def point_value(name, value, x0):
    v, g, h = curves(name, value, np.array([float(x0)]))
    return float(v[0]), float(g[0]), float(h[0])


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


def classification_curves(ratio, gamma, n=1500):
    """PR curves and average precision of BCE, class-weighted BCE and focal (held out)."""
    share = 1.0 / (1.0 + float(ratio))
    X, y = make_classification(n, 4, n_informative=3, n_redundant=0, weights=[1 - share],
                               class_sep=0.8, random_state=0)
    half = n // 2
    out = {}
    for label, loss, params in (("BCE", "bce", {}),
                                ("BCE (class-weighted)", "bce",
                                 {"pos_weight": float(max(1.0, (y[:half] == 0).sum())
                                                      / max(1.0, (y[:half] == 1).sum()))}),
                                (f"focal (gamma {gamma:g})", "focal",
                                 {"gamma": float(gamma), "alpha": None})):
        est = LossClassifier(loss, loss_params=params, alpha=1.0 / half).fit(X[:half], y[:half])
        s = est.decision_function(X[half:])
        p, r, _ = precision_recall_curve(y[half:], s)
        out[label] = (r, p, float(average_precision_score(y[half:], s)))
    return out, float(np.mean(y[half:]))


def optimizer_path(surface, optimizer, lr, momentum, steps=60):
    """The path of ``optimizer`` on a surface: 'course' (the (w, b) MSE of the course's data)
    or a demonstration surface's name."""
    if optimizer == "momentum":
        opt = optim.Momentum(lr, momentum=momentum)
    elif optimizer == "adam":
        opt = optim.Adam(lr)
    else:
        opt = optim.GradientDescent(lr)
    if surface == "course":
        f, bounds, start, critical = _course(), ((-1, 5), (-2, 4)), (0.0, 0.0), None
    else:
        s = get_surface(surface)
        f, bounds, critical = s.value_and_grad, s.bounds, s.critical
        (x0, x1), (y0, y1) = bounds
        start = (x0 + 0.15 * (x1 - x0), y1 - 0.2 * (y1 - y0))
    path = optim.minimize(f, start, opt, steps=steps)
    return path, bounds, critical, f


def _course():
    rs = np.random.RandomState(42)
    X = rs.randn(50)
    y = 2 * X + 1 + 0.3 * rs.randn(50)
    mse = get_loss("mse")
    p = mse.prepare(y)

    def f(theta):
        w, b = theta
        value, g = p.value_and_gradient(w * X + b)
        return float(value), np.array([float(g @ X), float(g.sum())])
    return f


def make_app():
    import dash
    from dash import Input, Output, State, dcc, html

    app = dash.Dash(__name__, title="losslab explore")
    landscapes = ["course", "bowl", "saddle", "monkey_saddle", "double_well", "rosenbrock"]

    def slider(id_, lo, hi, step, value):
        return dcc.Slider(id=id_, min=lo, max=hi, step=step, value=value,
                          marks=None, tooltip={"always_visible": True})

    app.layout = html.Div([
        html.H2("losslab explore"),
        dcc.Tabs([
            dcc.Tab(label="Loss explorer", children=[
                html.Label("loss"),
                dcc.Dropdown(list(LOSSES), "huber", id="loss-name", clearable=False),
                html.Label("hyperparameter"),
                slider("loss-param", 0.1, 3.0, 0.1, 1.0),
                html.Label("point x"),
                slider("loss-x", -3.0, 3.0, 0.25, 2.0),
                html.Label("overlay"),
                dcc.Checklist(list(LOSSES), ["mse", "mae"], id="loss-overlay", inline=True),
                html.Div(id="loss-readout", **{"data-testid": "loss-readout"}),
                dcc.Graph(id="loss-graph"),
                html.H4("focal loss against p_t: the family"),
                html.Div(id="focal-readout"),
                dcc.Graph(id="focal-graph"),
            ]),
            dcc.Tab(label="Regression playground", children=[
                html.Label("outliers"), slider("reg-outliers", 0, 10, 1, 4),
                html.Label("outlier size"), slider("reg-size", 0.0, 60.0, 5.0, 30.0),
                html.Label("quantile"), slider("reg-quantile", 0.05, 0.95, 0.05, 0.5),
                dcc.Store(id="reg-points", data=[]),
                html.P("Drag a point to move it; click the plot to add one."),
                html.Div(id="reg-readout"),
                dcc.Graph(id="reg-graph", config={"edits": {"shapePosition": True}}),
            ]),
            dcc.Tab(label="Classification playground", children=[
                html.Label("negatives per positive"), slider("cls-ratio", 1, 50, 1, 10),
                html.Label("focal gamma"), slider("cls-gamma", 0.0, 5.0, 0.5, 2.0),
                html.Div(id="cls-readout"),
                dcc.Graph(id="cls-graph"),
            ]),
            dcc.Tab(label="Landscape", children=[
                dcc.Dropdown(landscapes, "saddle", id="land-surface", clearable=False),
                dcc.RadioItems(["gd", "momentum", "adam"], "momentum", id="land-opt",
                               inline=True),
                html.Label("learning rate"), slider("land-lr", 0.01, 0.5, 0.01, 0.05),
                html.Label("momentum"), slider("land-mom", 0.0, 0.99, 0.01, 0.9),
                html.Div(id="land-readout"),
                dcc.Graph(id="land-graph"),
            ]),
        ]),
    ], style={"maxWidth": "1100px", "margin": "auto", "fontFamily": "sans-serif"})

    @app.callback(Output("loss-param", "min"), Output("loss-param", "max"),
                  Output("loss-param", "step"), Output("loss-param", "value"),
                  Output("loss-param", "disabled"), Input("loss-name", "value"))
    def _param_range(name):
        spec = LOSSES[name]
        if spec is None:
            return 0.0, 1.0, 0.1, 0.5, True
        return spec[1], spec[2], spec[3], spec[4], False

    @app.callback(Output("loss-graph", "figure"), Output("loss-readout", "children"),
                  Input("loss-name", "value"), Input("loss-param", "value"),
                  Input("loss-x", "value"), Input("loss-overlay", "value"))
    def _loss_page(name, value, x0, overlay):
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        x = np.linspace(-3, 3, 301)
        fig = make_subplots(rows=1, cols=3, subplot_titles=("value", "gradient", "hessian"))
        for other in [name] + [o for o in overlay or [] if o != name]:
            v, g, h = curves(other, value if other == name else _default(other), x)
            width = 3 if other == name else 1.5
            for col, ys in enumerate((v, g, h), start=1):
                fig.add_trace(go.Scatter(x=x, y=ys, name=other, legendgroup=other,
                                         showlegend=col == 1, line={"width": width}),
                              row=1, col=col)
        fig.update_layout(height=380, margin={"t": 40})
        v0, g0, h0 = point_value(name, value, x0)
        what = "error y_pred - y_true" if name in REGRESSION else "score for label 1"
        text = (f"{name} at {what} = {float(x0):g}: value {v0:.6g}, gradient {g0:.6g}, "
                f"hessian {h0:.6g}")
        return fig, html.Span(text, id="loss-values", **{"data-value": repr(v0)})

    @app.callback(Output("focal-graph", "figure"), Output("focal-readout", "children"),
                  Input("loss-name", "value"), Input("loss-param", "value"))
    def _focal_family(name, value):
        import plotly.graph_objects as go

        # the chosen gamma when focal is the loss, else the common default 2
        gamma = min(max(float(value), 0.0), 5.0) if name == "focal" else 2.0
        p = np.linspace(0.01, 1.0, 199)
        fig = go.Figure()
        for g, v in focal_family(gamma, p).items():
            chosen = g == gamma
            fig.add_trace(go.Scatter(x=p, y=v, mode="lines", name=f"gamma {g:g}"
                                     + (" (chosen)" if chosen else ""),
                                     line={"width": 4 if chosen else 1.5,
                                           "dash": "solid" if chosen else "dot"}))
        fig.update_layout(height=360, margin={"t": 20}, yaxis={"range": [0, 4.7]},
                          xaxis_title="p_t, the predicted probability of the true class",
                          yaxis_title="focal loss")
        at = focal_family(gamma, np.array([0.9]))[gamma][0]
        text = (f"gamma {gamma:g}: an easy example (p_t = 0.9) costs {at:.4g}, "
                f"{at / -np.log(0.9):.3g} of its cross-entropy")
        return fig, html.Span(text, id="focal-values", **{"data-easy": repr(float(at))})

    @app.callback(Output("reg-points", "data"), Input("reg-outliers", "value"),
                  Input("reg-size", "value"), Input("reg-graph", "clickData"),
                  Input("reg-graph", "relayoutData"), State("reg-points", "data"))
    def _points(n_out, size, click, relayout, points):
        # the sliders make new data; a click on the plot adds a point; a drag moves one
        trigger = dash.ctx.triggered_id
        if trigger == "reg-graph" and points:
            prop = dash.ctx.triggered[0]["prop_id"]
            if prop.endswith("clickData") and click and click.get("points"):
                pt = click["points"][0]
                return points + [[float(pt["x"]), float(pt["y"])]]
            if prop.endswith("relayoutData"):
                return edited_points(points, relayout)
            return dash.no_update
        return playground_points(n_out, size).tolist()

    @app.callback(Output("reg-graph", "figure"), Output("reg-readout", "children"),
                  Input("reg-points", "data"), Input("reg-quantile", "value"))
    def _regression(points, q):
        import plotly.graph_objects as go

        pts = np.asarray(points, dtype=float).reshape(-1, 2)
        fits = regression_fits(pts, q)
        xr = (-0.5, 10.5)
        yr = (min(-5.0, float(pts[:, 1].min()) - 3), max(60.0, float(pts[:, 1].max()) + 3))
        # an invisible grid over the plot: a click anywhere on it adds a point there
        gx, gy = np.linspace(*xr, 111), np.linspace(*yr, 131)
        fig = go.Figure(go.Heatmap(x=gx, y=gy, z=np.zeros((gy.size, gx.size)), opacity=0,
                                   showscale=False, hoverinfo="none", name="click to add"))
        xs = np.array(xr)
        for label, (a, b) in fits.items():
            fig.add_trace(go.Scatter(x=xs, y=a * xs + b, mode="lines", name=label))
        # each point a small circle that can be dragged (editable shapes)
        rx, ry = 0.012 * (xr[1] - xr[0]), 0.012 * (yr[1] - yr[0])
        fig.update_layout(
            height=460, margin={"t": 20}, xaxis={"range": xr, "fixedrange": True},
            yaxis={"range": yr, "fixedrange": True}, dragmode=False,
            shapes=[{"type": "circle", "x0": px - rx, "x1": px + rx, "y0": py - ry,
                     "y1": py + ry, "fillcolor": "#444", "line": {"color": "#444"}}
                    for px, py in pts])
        text = "; ".join(f"{k} slope {a:.4f}, intercept {b:.4f}" for k, (a, b) in fits.items())
        return fig, html.Span(text, id="reg-values",
                              **{"data-mse-slope": repr(fits["MSE"][0]),
                                 "data-points": json.dumps(pts.tolist())})

    @app.callback(Output("cls-graph", "figure"), Output("cls-readout", "children"),
                  Input("cls-ratio", "value"), Input("cls-gamma", "value"))
    def _classification(ratio, gamma):
        import plotly.graph_objects as go

        out, prevalence = classification_curves(ratio, gamma)
        fig = go.Figure()
        for label, (r, p, ap) in out.items():
            fig.add_trace(go.Scatter(x=r, y=p, mode="lines", name=f"{label}: AP {ap:.3f}"))
        fig.add_hline(y=prevalence, line_dash="dash", annotation_text="chance")
        fig.update_layout(height=420, xaxis_title="recall", yaxis_title="precision",
                          margin={"t": 20})
        text = "; ".join(f"{k}: average precision {ap:.4f}" for k, (_, _, ap) in out.items())
        return fig, html.Span(text, id="cls-values",
                              **{"data-ap": repr(out["BCE"][2])})

    @app.callback(Output("land-graph", "figure"), Output("land-readout", "children"),
                  Input("land-surface", "value"), Input("land-opt", "value"),
                  Input("land-lr", "value"), Input("land-mom", "value"))
    def _landscape(surface, opt, lr, mom):
        import plotly.graph_objects as go

        path, bounds, critical, f = optimizer_path(surface, opt, lr, mom)
        (x0, x1), (y0, y1) = bounds
        gx, gy = np.linspace(x0, x1, 81), np.linspace(y0, y1, 81)
        Z = np.array([[f(np.array([a, b]))[0] for a in gx] for b in gy])
        fig = go.Figure(go.Contour(x=gx, y=gy, z=np.log1p(Z - Z.min()), showscale=False,
                                   name="log(1 + J - min J)"))
        pts = np.asarray(path.points)
        fig.add_trace(go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="lines+markers", name=opt,
                                 marker={"size": 4}))
        if critical:
            for (cx, cy), kind in critical:
                fig.add_trace(go.Scatter(x=[cx], y=[cy], mode="markers", name=kind,
                                         marker={"size": 12, "symbol": "x"}))
        fig.update_layout(height=480, margin={"t": 20})
        final = float(path.values[-1])
        text = (f"{opt}, lr {lr:g}, momentum {mom:g}: {len(pts) - 1} steps, final value "
                f"{final:.6g} at ({pts[-1, 0]:.4g}, {pts[-1, 1]:.4g})"
                + (f"; {path.message}" if path.diverged_at is not None else ""))
        return fig, html.Span(text, id="land-values", **{"data-final": repr(final)})

    return app


def _default(name):
    spec = LOSSES[name]
    return 0.0 if spec is None else spec[4]


def serve(port: int = 8050, host: str = "127.0.0.1", open_browser: bool = True):
    """Serve the app (blocking) and open it in the browser unless asked not to."""
    app = make_app()
    if open_browser:
        import threading
        import webbrowser

        threading.Timer(1.0, webbrowser.open, args=(f"http://{host}:{port}/",)).start()
    quiet_server()
    app.logger.setLevel("WARNING")  # Dash's own "Dash is running on ..." line
    app.run(host=host, port=port, debug=False)


def quiet_server() -> None:
    """The command prints its own address line: keep Flask's banner (" * Serving Flask app",
    " * Debug mode"), werkzeug's development-server warning (with raw ANSI codes off a
    terminal) and its line per request off the console; errors still show."""
    import logging

    import flask.cli

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    flask.cli.show_server_banner = lambda *args, **kwargs: None
