"""The Dash app behind ``losslab explore`` (see the package docstring).

Every number on the page is computed by ``_compute`` (losslab's own losses, estimators and
optimisers); this module lays the pages out and wires the controls. One callback, ``sync``,
owns the page's state: it restores the controls from the address, and writes the address from
the controls, so that every view can be shared by its link.
"""

from __future__ import annotations

import json

import numpy as np

from . import _compute as C
from . import _state as S

# Everything the callbacks use is imported above, once, before the server starts: Dash runs the
# first callbacks of all pages at once in threads, and concurrent first imports of a package
# (scikit-learn's circular imports) fail with "partially initialized module".

SLOTS = 3  # the most controls a loss declares (asymmetric_huber, tversky)
PAGE_LABELS = {"loss": "Loss explorer", "regression": "Regression playground",
               "classification": "Classification playground", "landscape": "Landscape"}
PATH_COLOURS = ("#1f77b4", "#d62728")
KIND_SYMBOLS = {"minimum": "star", "saddle": "x", "maximum": "triangle-up",
                "degenerate": "diamond"}
CLASSIFIER_COLOURS = {"BCE": "#1f77b4", "BCE (class-weighted)": "#d62728", "focal": "#2ca02c"}

# (state key, component id, property) of every control whose value is part of the state
SYNC = ([("page", "page", "value"), ("loss", "loss-name", "value")]
        + [(f"p{i}", f"loss-p{i}", "value") for i in range(SLOTS)]
        + [("x", "loss-x", "value"), ("overlay", "loss-overlay", "value"),
           ("outliers", "reg-outliers", "value"), ("size", "reg-size", "value"),
           ("quantile", "reg-quantile", "value"), ("ratio", "cls-ratio", "value"),
           ("separation", "cls-separation", "value"), ("gamma", "cls-gamma", "value"),
           ("alpha", "cls-alpha", "value"), ("threshold", "cls-threshold", "value"),
           ("surface", "land-surface", "value"), ("steps", "land-steps", "value"),
           ("optimizer", "land-opt", "value"), ("lr", "land-lr", "value"),
           ("beta", "land-beta", "value"), ("optimizer2", "land-opt2", "value"),
           ("lr2", "land-lr2", "value"), ("beta2", "land-beta2", "value"),
           ("start", "land-start", "data")])


def loss_options():
    """The loss menu: every loss of (y_true, y_pred), under a heading per task."""
    out = []
    for task, ns in C.grouped().items():
        out.append({"label": f"\u2014 {task} \u2014", "value": f"task:{task}", "disabled": True})
        out += [{"label": n, "value": n} for n in ns]
    return out


def _marks(lo, hi, integer=False):
    fmt = (lambda v: str(int(v))) if integer else (lambda v: C.num(v, 3))
    return {lo: fmt(lo), hi: fmt(hi)}


def slot_config(name):
    """Per slot: (shown, label, low, high, step, marks, start) for the loss's controls."""
    ctl = C.controls(name)
    out = []
    for i in range(SLOTS):
        if i < len(ctl):
            param, c, start = ctl[i]
            out.append((True, param, c.low, c.high, c.step, _marks(c.low, c.high, c.integer),
                        start))
        else:
            out.append((False, "", 0.0, 1.0, 0.1, {}, 0.0))
    return out


def loss_figure(name, params, x0, overlay):
    """The loss page's figure (value, slope and curvature along the loss's axis; overlays of
    the same task and axis) and the readout's numbers."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    panels = ("loss", "slope d loss / dx", "curvature d\u00b2 loss / dx\u00b2")
    fig = make_subplots(rows=1, cols=3, subplot_titles=panels, horizontal_spacing=0.08)
    allowed = C.overlays(name)
    drawn = [name] + [o for o in overlay or [] if o in allowed]
    main = None
    for n in drawn:
        c = C.curves(n, params if n == name else None)
        main = main or c
        for col, key in enumerate(("value", "slope", "curvature"), start=1):
            if c[key] is None:
                continue
            fig.add_trace(go.Scatter(x=c["x"], y=c[key], mode="lines", name=n, legendgroup=n,
                                     showlegend=col == 1,
                                     line={"color": C.colour(n), "width": 3 if n == name else 1.6}),
                          row=1, col=col)
    p = C.point(name, params, x0)
    for col, key in enumerate(("value", "slope", "curvature"), start=1):
        if p[key] is not None:
            fig.add_trace(go.Scatter(x=[p["x"]], y=[p[key]], mode="markers", name="point x",
                                     legendgroup="point x", showlegend=col == 1,
                                     marker={"color": "black", "size": 9}), row=1, col=col)
    if main["curvature"] is None:
        lo, hi = fig.layout.xaxis3.domain
        fig.add_annotation(text="no exact curvature along this axis:<br>the loss offers no "
                           "Hessian-vector product<br>here, or the axis is not a line",
                           xref="paper", yref="paper", x=(lo + hi) / 2, y=0.5, showarrow=False)
    for col, title in enumerate(panels, start=1):
        fig.update_xaxes(title_text=main["xlabel"], row=1, col=col)
        fig.update_yaxes(title_text=title, row=1, col=col)
    fig.update_layout(height=400, margin={"t": 40, "b": 50}, legend={"title": "loss"})
    return fig, p


def landscape_figure(surface, steps, runs, start):
    """The surface, both optimisers' paths from ``start`` (cut where they leave the view),
    and the critical points (one legend entry per kind)."""
    import plotly.graph_objects as go

    f, bounds, critical, title, (xt, yt) = C.surface(surface)
    gx, gy, Z = C.grid(surface)
    fig = go.Figure(go.Contour(
        x=gx, y=gy, z=np.log1p(Z - Z.min()), name="surface", ncontours=25, showscale=True,
        colorscale="Viridis", hovertemplate=f"{xt} %{{x:.3f}}<br>{yt} %{{y:.3f}}<extra></extra>",
        colorbar={"title": {"text": "log(1 + J \u2212 min J)", "side": "right"}}))
    results = []
    for i, (kind, lr, beta) in enumerate(runs):
        pts, vals, message, bad = C.optimizer_run(surface, start, kind, lr, beta, steps)
        results.append((pts, vals, message, bad))
        label = f"{'AB'[i]}: {kind}"
        fig.add_trace(go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="lines+markers", name=label,
                                 line={"color": PATH_COLOURS[i], "width": 2},
                                 marker={"size": 4, "color": PATH_COLOURS[i]}))
    fig.add_trace(go.Scatter(x=[start[0]], y=[start[1]], mode="markers", name="start",
                             marker={"size": 12, "color": "white", "line": {"width": 2,
                                                                             "color": "black"}}))
    kinds = {}
    for (cx, cy), kind in critical or ():
        kinds.setdefault(kind, []).append((cx, cy))
    for kind, pts in kinds.items():
        arr = np.asarray(pts, dtype=float)
        fig.add_trace(go.Scatter(x=arr[:, 0], y=arr[:, 1], mode="markers", name=kind,
                                 marker={"size": 13, "symbol": KIND_SYMBOLS.get(kind, "circle"),
                                         "color": "black", "line": {"width": 1,
                                                                    "color": "white"}}))
    (x0, x1), (y0, y1) = bounds
    fig.update_layout(height=520, margin={"t": 40}, title={"text": title, "x": 0.02},
                      xaxis={"range": [x0, x1], "title": {"text": xt}, "fixedrange": True},
                      yaxis={"range": [y0, y1], "title": {"text": yt}, "fixedrange": True},
                      legend={"x": 1.18, "y": 1})
    return fig, results


def classification_figure(res):
    import plotly.graph_objects as go

    X, y = res["train"]
    fig = go.Figure()
    for label, cls, colour in (("negatives (training half)", 0, "#9e9e9e"),
                               ("positives (training half)", 1, "#ff7f0e")):
        m = y == cls
        fig.add_trace(go.Scatter(x=X[m, 0], y=X[m, 1], mode="markers", name=label,
                                 marker={"size": 5 if cls == 0 else 7, "color": colour,
                                         "opacity": 0.55 if cls == 0 else 0.9}))
    lo = np.floor(np.min(X, axis=0)) - 0.5
    hi = np.ceil(np.max(X, axis=0)) + 0.5
    t = np.linspace(lo[0], hi[0], 2)
    logit_t = float(np.log(res["threshold"] / (1 - res["threshold"])))
    for label in C.CLASSIFIERS:
        fit = res["fits"][label]
        w, b = fit["w"], fit["b"]
        if abs(w[1]) > 1e-12:
            xs, ys = t, (logit_t - b - w[0] * t) / w[1]
        else:
            xs, ys = np.full(2, (logit_t - b) / w[0]), np.array([lo[1], hi[1]])
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=f"{label} boundary",
                                 line={"color": CLASSIFIER_COLOURS[label], "width": 3,
                                       "dash": "dash" if label == "focal" else "solid"}))
    fig.update_layout(height=480, margin={"t": 30},
                      xaxis={"range": [lo[0], hi[0]], "title": {"text": "feature 1"}},
                      yaxis={"range": [lo[1], hi[1]], "title": {"text": "feature 2"},
                             "scaleanchor": "x"},
                      title={"text": f"boundaries at p = {res['threshold']:g}", "x": 0.02})
    return fig


def regression_figure(pts, fits):
    import plotly.graph_objects as go

    xr = (-0.5, 10.5)
    yr = (min(-5.0, float(pts[:, 1].min()) - 3), max(60.0, float(pts[:, 1].max()) + 3))
    # an invisible grid over the plot: a click anywhere on it adds a point there
    gx, gy = np.linspace(*xr, 111), np.linspace(*yr, 131)
    fig = go.Figure(go.Heatmap(x=gx, y=gy, z=np.zeros((gy.size, gx.size)), opacity=0,
                               showscale=False, hoverinfo="none", name="click to add"))
    xs = np.array(xr)
    colours = {"MSE": "#1f77b4", "MAE": "#d62728", "Huber": "#2ca02c"}
    for label, (a, b) in fits.items():
        q = label.startswith("quantile")
        fig.add_trace(go.Scatter(x=xs, y=a * xs + b, mode="lines", name=label,
                                 line={"color": "#9467bd" if q else colours[label],
                                       "width": 2.5, "dash": "dash" if q else "solid"}))
    # each point a small circle that can be dragged (editable shapes), drawn under the lines;
    # the plotting area is about 2.5 times as wide as it is high, so these radii are round
    rx, ry = 0.005 * (xr[1] - xr[0]), 0.0125 * (yr[1] - yr[0])
    fig.update_layout(
        height=460, margin={"t": 20}, dragmode=False,
        xaxis={"range": xr, "fixedrange": True, "title": {"text": "x"}},
        yaxis={"range": yr, "fixedrange": True, "title": {"text": "y"}},
        shapes=[{"type": "circle", "x0": px - rx, "x1": px + rx, "y0": py - ry,
                 "y1": py + ry, "fillcolor": "rgba(90, 90, 90, 0.55)", "layer": "below",
                 "line": {"color": "#333", "width": 1}} for px, py in pts])
    return fig


def make_app():
    import dash
    from dash import Input, Output, State, dcc, html

    app = dash.Dash(__name__, title="losslab explore")
    st0 = S.defaults()

    def slider(id_, lo, hi, step, value, integer=False):
        return dcc.Slider(id=id_, min=lo, max=hi, step=step, value=value,
                          marks=_marks(lo, hi, integer),
                          tooltip={"always_visible": True, "placement": "bottom"})

    def field(label, control, label_id=None):
        kw = {"id": label_id} if label_id else {}
        return html.Div([html.Label(label, style={"fontWeight": "600"}, **kw), control],
                        style={"marginBottom": "28px"})

    others = C.several_inputs()
    x_title, (x_lo, x_hi), x_step = C.axis(st0["loss"])
    loss_tab = dcc.Tab(label=PAGE_LABELS["loss"], value="loss", children=[
        field("loss (every loss of y_true and y_pred, by task)",
              dcc.Dropdown(loss_options(), st0["loss"], id="loss-name", clearable=False)),
        *[html.Div([html.Label(label, id=f"loss-p{i}-label", style={"fontWeight": "600"}),
                    dcc.Slider(id=f"loss-p{i}", min=lo, max=hi, step=step, value=start,
                               marks=marks, tooltip={"always_visible": True,
                                                     "placement": "bottom"})],
                   id=f"loss-p{i}-box",
                   style={"marginBottom": "28px", "display": "block" if shown else "none"})
          for i, (shown, label, lo, hi, step, marks, start)
          in enumerate(slot_config(st0["loss"]))],
        field(f"point x: {x_title}", slider("loss-x", x_lo, x_hi, x_step, st0["x"]),
              "loss-x-label"),
        field("overlay (losses of the same task, drawn along the same axis)",
              dcc.Checklist(id="loss-overlay", options=C.overlays(st0["loss"]),
                            value=st0["overlay"], inline=True,
                            inputStyle={"marginLeft": "10px"})),
        html.Div(id="loss-readout"),
        dcc.Graph(id="loss-graph"),
        html.P(["Losses of several inputs are not drawn along one axis here: ",
                *[x for n in others for x in (html.A(n, href=f"/card/{n}", target="_blank"), " ")],
                "(each link opens its card)."], id="loss-others"),
        html.H4("focal loss against p_t: the family"),
        html.Div(id="focal-readout"),
        dcc.Graph(id="focal-graph"),
    ])
    reg_tab = dcc.Tab(label=PAGE_LABELS["regression"], value="regression", children=[
        html.P("40 points on y = 1.5 x + 2 with unit noise (seed 0); the outliers are the "
               "last points, lifted. Each line is its loss's exact optimum."),
        field("outliers", slider("reg-outliers", 0, 10, 1, st0["outliers"], True)),
        field("outlier size", slider("reg-size", 0.0, 60.0, 5.0, st0["size"])),
        field("quantile", slider("reg-quantile", 0.05, 0.95, 0.05, st0["quantile"])),
        dcc.Store(id="reg-points", data=[]),
        html.P("Drag a point to move it; click the plot to add one."),
        html.Div(id="reg-readout"),
        dcc.Graph(id="reg-graph", config={"edits": {"shapePosition": True}}),
    ])
    cls_tab = dcc.Tab(label=PAGE_LABELS["classification"], value="classification", children=[
        field("negatives per positive", slider("cls-ratio", 1, 50, 1, st0["ratio"], True)),
        field("class separation (distance between the class means)",
              slider("cls-separation", 0.5, 5.0, 0.25, st0["separation"])),
        field("focal gamma", slider("cls-gamma", 0.0, 5.0, 0.25, st0["gamma"])),
        field("focal alpha (the positives' weight)",
              slider("cls-alpha", 0.05, 0.95, 0.05, st0["alpha"])),
        field("threshold on the predicted probability",
              slider("cls-threshold", 0.05, 0.95, 0.05, st0["threshold"])),
        html.Div(id="cls-readout"),
        dcc.Graph(id="cls-graph"),
        html.Div(id="cls-table"),
    ])

    def optimizer_box(suffix, letter, opt, lr, beta):
        return html.Div([
            html.H4(f"optimiser {letter}"),
            dcc.RadioItems(list(C.OPTIMIZERS), opt, id=f"land-opt{suffix}", inline=True,
                           inputStyle={"marginLeft": "10px"}),
            field("learning rate", slider(f"land-lr{suffix}", 0.001, 0.5, 0.001, lr)),
            field("momentum", slider(f"land-beta{suffix}", 0.0, 0.99, 0.01, beta),
                  f"land-beta{suffix}-label"),
        ], style={"flex": "1", "padding": "0 12px"})

    land_tab = dcc.Tab(label=PAGE_LABELS["landscape"], value="landscape", children=[
        field("surface", dcc.Dropdown(list(C.SURFACE_CHOICES), st0["surface"],
                                      id="land-surface", clearable=False)),
        field("steps", slider("land-steps", 10, 300, 10, st0["steps"], True)),
        html.Div([optimizer_box("", "A", st0["optimizer"], st0["lr"], st0["beta"]),
                  optimizer_box("2", "B", st0["optimizer2"], st0["lr2"], st0["beta2"])],
                 style={"display": "flex"}),
        dcc.Store(id="land-start", data=st0["start"]),
        html.P("Click the surface to start both optimisers there."),
        html.Div(id="land-readout"),
        dcc.Graph(id="land-graph"),
    ])

    app.layout = html.Div([
        dcc.Location(id="url", refresh=False),
        dcc.Store(id="url-written", data=None),
        html.H2("losslab explore"),
        html.Div([html.Span("Link to this view: "),
                  dcc.Input(id="share-link", readOnly=True, style={"width": "70%"}),
                  dcc.Clipboard(target_id="share-link", title="copy link",
                                style={"display": "inline-block", "marginLeft": "8px"})],
                 style={"marginBottom": "10px"}),
        dcc.Tabs(id="page", value=st0["page"], children=[loss_tab, reg_tab, cls_tab, land_tab]),
    ], style={"maxWidth": "1150px", "margin": "auto", "fontFamily": "sans-serif"})

    # ---- the state: restored from the address, written to it -------------------------------
    config_outputs = []
    for i in range(SLOTS):
        config_outputs += [Output(f"loss-p{i}-box", "style"), Output(f"loss-p{i}-label", "children"),
                           Output(f"loss-p{i}", "min"), Output(f"loss-p{i}", "max"),
                           Output(f"loss-p{i}", "step"), Output(f"loss-p{i}", "marks")]
    config_outputs += [Output("loss-x", "min"), Output("loss-x", "max"), Output("loss-x", "step"),
                       Output("loss-x", "marks"), Output("loss-x-label", "children"),
                       Output("loss-overlay", "options"),
                       Output("land-beta-label", "children"), Output("land-beta", "disabled"),
                       Output("land-beta2-label", "children"), Output("land-beta2", "disabled")]

    n_out = 1 + len(SYNC) + len(config_outputs)

    @app.callback(Output("url", "search"), *[Output(c, p) for _, c, p in SYNC], *config_outputs,
                  Output("url-written", "data"),
                  Input("url", "search"), *[Input(c, p) for _, c, p in SYNC],
                  Input("land-graph", "clickData"), State("url-written", "data"))
    def sync(search, *values):
        click, written = values[-2], values[-1]
        ui = dict(zip([k for k, _, _ in SYNC], values[:-2]))
        trigger = dash.ctx.triggered_id
        if trigger == "url" and search == written:
            # the echo of the address this callback wrote: the controls may have moved on since,
            # and restoring it would pull them back
            return [dash.no_update] * (n_out + 1)
        current = _state_from_ui(ui)
        if trigger in (None, "url"):
            new = S.parse(search, current)
            loss_changed = True
        else:
            new = current
            loss_changed = trigger == "loss-name"
            if loss_changed:
                new["params"] = {}
                new["x"] = C.default_x(new["loss"])
                new["overlay"] = [o for o in new["overlay"] if o in C.overlays(new["loss"])]
            if trigger == "land-surface":
                new["start"] = list(C.default_start(new["surface"]))
            if trigger == "land-graph" and click and click.get("points"):
                pt = click["points"][0]
                if "x" in pt and "y" in pt:
                    new["start"] = [float(pt["x"]), float(pt["y"])]
        address = S.encode(new)
        out = [address if address != (search or "") else dash.no_update]
        target = _ui_from_state(new)
        for key, _, _ in SYNC:
            out.append(target[key] if target[key] != ui[key] else dash.no_update)
        if loss_changed:
            for shown, label, lo, hi, step, marks, _ in slot_config(new["loss"]):
                out += [{"marginBottom": "28px", "display": "block" if shown else "none"},
                        label, lo, hi, step, marks]
            xlabel, (lo, hi), step = C.axis(new["loss"])
            out += [lo, hi, step, _marks(lo, hi), f"point x: {xlabel}",
                    [{"label": o, "value": o} for o in C.overlays(new["loss"])]]
        else:
            out += [dash.no_update] * (6 * SLOTS + 6)
        for opt_key in ("optimizer", "optimizer2"):
            name = C.BETA_NAME[new[opt_key]]
            out += [name or "momentum (not used by gradient descent)", name is None]
        out.append(address)
        return out

    app.clientside_callback(
        "function(search) { return window.location.origin + window.location.pathname "
        "+ (search || ''); }", Output("share-link", "value"), Input("url", "search"))

    # ---- the loss explorer ---------------------------------------------------------------------
    @app.callback(Output("loss-graph", "figure"), Output("loss-readout", "children"),
                  Input("loss-name", "value"), *[Input(f"loss-p{i}", "value") for i in range(SLOTS)],
                  Input("loss-x", "value"), Input("loss-overlay", "value"))
    def _loss_page(name, *rest):
        slots, x0, overlay = rest[:SLOTS], rest[SLOTS], rest[SLOTS + 1]
        params = _params(name, slots)
        fig, p = loss_figure(name, params, x0, overlay)
        curvature = "n/a" if p["curvature"] is None else C.num(p["curvature"])
        shown = ", ".join(f"{k} {C.num(v, 4)}" for k, v in params.items())
        text = (f"{name}{f' ({shown})' if shown else ''} at x = {C.num(p['x'], 4)} "
                f"({p['label']}): value {C.num(p['value'])}, slope {C.num(p['slope'])}, "
                f"curvature {curvature}")
        return fig, html.Span(text, id="loss-values", **{
            "data-value": repr(p["value"]), "data-slope": repr(p["slope"]),
            "data-loss": name, "data-params": json.dumps(params)})

    @app.callback(Output("focal-graph", "figure"), Output("focal-readout", "children"),
                  Input("loss-name", "value"), *[Input(f"loss-p{i}", "value") for i in range(SLOTS)])
    def _focal_family(name, *slots):
        import plotly.graph_objects as go

        # the chosen gamma when the loss has one, else the common default 2
        gamma = float(_params(name, slots).get("gamma", 2.0))
        p = np.linspace(0.01, 1.0, 199)
        fig = go.Figure()
        for g, v in C.focal_family(gamma, p).items():
            chosen = g == gamma
            fig.add_trace(go.Scatter(x=p, y=v, mode="lines", name=f"gamma {g:g}"
                                     + (" (chosen)" if chosen else ""),
                                     line={"width": 4 if chosen else 1.5,
                                           "dash": "solid" if chosen else "dot"}))
        fig.update_layout(height=360, margin={"t": 20}, yaxis={"range": [0, 4.7]},
                          xaxis_title="p_t, the predicted probability of the true class",
                          yaxis_title="focal loss (alpha none)")
        at = C.focal_family(gamma, np.array([0.9]))[gamma][0]
        text = (f"gamma {gamma:g}: an easy example (p_t = 0.9) costs {C.num(at, 4)}, "
                f"{C.num(at / -np.log(0.9), 3)} of its cross-entropy")
        return fig, html.Span(text, id="focal-values", **{"data-easy": repr(float(at))})

    # ---- the regression playground -------------------------------------------------------------
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
                return C.edited_points(points, relayout)
            return dash.no_update
        return C.playground_points(n_out, size).tolist()

    @app.callback(Output("reg-graph", "figure"), Output("reg-readout", "children"),
                  Input("reg-points", "data"), Input("reg-quantile", "value"))
    def _regression(points, q):
        pts = np.asarray(points, dtype=float).reshape(-1, 2)
        fits = C.regression_fits(pts, q)
        text = "; ".join(f"{k} slope {C.num(a, 5)}, intercept {C.num(b, 5)}"
                         for k, (a, b) in fits.items())
        return regression_figure(pts, fits), html.Span(text, id="reg-values", **{
            "data-mse-slope": repr(fits["MSE"][0]), "data-points": json.dumps(pts.tolist())})

    # ---- the classification playground ---------------------------------------------------------
    @app.callback(Output("cls-graph", "figure"), Output("cls-readout", "children"),
                  Output("cls-table", "children"), Input("cls-ratio", "value"),
                  Input("cls-separation", "value"), Input("cls-gamma", "value"),
                  Input("cls-alpha", "value"), Input("cls-threshold", "value"))
    def _classification(ratio, separation, gamma, alpha, threshold):
        res = C.classification(ratio, separation, gamma, alpha, threshold)
        (X_tr, y_tr), (X_te, y_te) = res["train"], res["test"]
        split = (f"{len(y_tr) + len(y_te)} points, {int(y_tr.sum() + y_te.sum())} positive; "
                 f"each loss fitted (a linear model, LossClassifier) on a stratified half "
                 f"({len(y_tr)} points), every number below measured on the other half "
                 f"({len(y_te)}).")
        cols = ["loss", f"recall at p = {threshold:g}", f"precision at p = {threshold:g}",
                "tuned threshold (best F1 on training)", "recall at tuned", "average precision",
                "log loss"]
        rows = [[k, f["recall"], f["precision"], f["tuned_threshold"], f["recall_tuned"],
                 f["average_precision"], f["log_loss"]] for k, f in res["fits"].items()]
        table = html.Table([html.Thead(html.Tr([html.Th(c) for c in cols])),
                            html.Tbody([html.Tr([html.Td(r[0])] + [html.Td(C.num(v, 3))
                                                                   for v in r[1:]])
                                        for r in rows])], style={"fontSize": "0.9em"})
        offsets = {k: f["boundary_offset"] for k, f in res["fits"].items()}
        readout = html.Div([html.P(split), html.P(C.classification_why(res))],
                           id="cls-values", **{
                               "data-offsets": json.dumps(offsets),
                               "data-ap": repr(res["fits"]["BCE"]["average_precision"])})
        return classification_figure(res), readout, table

    # ---- the landscape ---------------------------------------------------------------------------
    @app.callback(Output("land-graph", "figure"), Output("land-readout", "children"),
                  Input("land-surface", "value"), Input("land-steps", "value"),
                  Input("land-opt", "value"), Input("land-lr", "value"),
                  Input("land-beta", "value"), Input("land-opt2", "value"),
                  Input("land-lr2", "value"), Input("land-beta2", "value"),
                  Input("land-start", "data"))
    def _landscape(surface, steps, opt, lr, beta, opt2, lr2, beta2, start):
        fig, results = landscape_figure(surface, steps, [(opt, lr, beta), (opt2, lr2, beta2)],
                                        start)
        lines = []
        for letter, (pts, vals, message, bad) in zip("AB", results):
            lines.append(html.Li(f"{letter}: {message}",
                                 style={"color": "#b00020", "fontWeight": "600"} if bad else {}))
        return fig, html.Ul(lines, id="land-values", **{
            "data-final": repr(float(results[0][1][-1])),
            "data-final2": repr(float(results[1][1][-1])),
            "data-diverged": json.dumps([bool(r[3]) for r in results]),
            "data-start": json.dumps([float(v) for v in start])})

    @app.server.route("/card/<name>")
    def _card(name):
        from .._core import UnknownLoss, card_html, get

        try:
            loss = get(name)
        except UnknownLoss as exc:
            return str(exc), 404
        return (f"<!doctype html><html><head><meta charset='utf-8'><title>{loss.name}</title>"
                f"</head><body style='font-family:sans-serif;max-width:900px;margin:auto'>"
                f"{card_html(loss)}</body></html>")

    return app


def _params(name, slots):
    """{hyperparameter: value} of ``name`` from the slots' values, clamped into range."""
    out = {}
    for (param, c, start), value in zip(C.controls(name), slots):
        v = c.clamp(start if value is None else value)
        out[param] = int(v) if c.integer else v
    return out


SLOT_KEYS = {f"p{i}" for i in range(SLOTS)}


def _state_from_ui(ui):
    st = {k: ui[k] for k, _, _ in SYNC if k not in SLOT_KEYS}
    st["params"] = _params(ui["loss"], [ui[f"p{i}"] for i in range(SLOTS)])
    st["overlay"] = list(ui["overlay"] or [])
    st["start"] = list(ui["start"] or C.default_start(ui["surface"]))
    return st


def _ui_from_state(st):
    ui = {k: st[k] for k, _, _ in SYNC if k not in SLOT_KEYS}
    ctl = C.controls(st["loss"])
    for i in range(SLOTS):
        if i < len(ctl):
            param, c, start = ctl[i]
            ui[f"p{i}"] = st["params"].get(param, start)
        else:
            ui[f"p{i}"] = 0.0
    ui["overlay"] = list(st["overlay"])
    ui["start"] = list(st["start"])
    return ui


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
