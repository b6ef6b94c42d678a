"""The loss explorer's main view as a notebook widget (Jupyter, VS Code, Colab): the loss,
its own hyperparameters as sliders (named, with the ranges its declaration gives), a point on
the axis, and the value, slope and curvature panels, every number computed by losslab in the
kernel. Built on ipywidgets, with a Plotly ``FigureWidget`` (anywidget) updated in place.

>>> from losslab.explore import LossExplorer      # doctest: +SKIP
>>> LossExplorer("huber", delta=2.0)              # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from .._extras import require
from . import _compute as C

__all__ = ["LossExplorer"]

PANELS = ("loss", "slope d loss / dx", "curvature d\u00b2 loss / dx\u00b2")


class LossExplorer:
    """The explorer's loss view in a notebook. ``loss``: a registered loss of (y_true,
    y_pred); keywords: its hyperparameters (clamped into their controls' ranges); ``x``: the
    point read out; ``overlay``: other losses of the same task and axis drawn alongside.

    ``widget`` is the ipywidgets box the notebook displays; ``figure`` the Plotly
    ``FigureWidget``; ``set(loss=..., x=..., **params)`` changes the view from code, as the
    controls do."""

    def __init__(self, loss: str = "huber", *, x: float | None = None, overlay=(), **params):
        ipw = require("ipywidgets", "the notebook widget")
        require("anywidget", "the notebook widget's figure")
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        self._ipw = ipw
        groups = C.grouped()
        options = [(f"{task}: {n}", n) for task, ns in groups.items() for n in ns]
        if loss not in dict((v, k) for k, v in options):
            raise ValueError(f"loss must be one of the explorer's losses of (y_true, y_pred), "
                             f"got {loss!r}; they are: {', '.join(v for _, v in options)}")
        self.name = loss
        self.loss_box = ipw.Dropdown(options=options, value=loss, description="loss")
        self.params_box = ipw.VBox()
        self.x_slider = ipw.FloatSlider(description="point x", continuous_update=True)
        self.overlay_box = ipw.SelectMultiple(description="overlay", rows=4)
        self.readout = ipw.HTML()
        fig = make_subplots(rows=1, cols=3, subplot_titles=PANELS)
        self.figure = go.FigureWidget(fig)
        self.figure.update_layout(height=330, margin={"t": 40, "b": 40, "l": 40, "r": 10})
        self.widget = ipw.VBox([ipw.HBox([self.loss_box, self.overlay_box]), self.params_box,
                                self.x_slider, self.readout, self.figure])
        self._sliders = {}
        self._quiet = False
        self._build(loss, params, x, overlay)
        self.loss_box.observe(self._on_loss, names="value")
        self.x_slider.observe(self._on_change, names="value")
        self.overlay_box.observe(self._on_change, names="value")

    # ---- the controls ------------------------------------------------------------------------
    def _build(self, name, params, x, overlay):
        ipw = self._ipw
        self._quiet = True
        try:
            self.name = name
            sliders = {}
            for param, c, start in C.controls(name):
                value = c.clamp(params.get(param, start)) if params else start
                cls = ipw.IntSlider if c.integer else ipw.FloatSlider
                s = cls(value=value, min=c.low, max=c.high, step=c.step, description=param,
                        continuous_update=True)
                s.observe(self._on_change, names="value")
                sliders[param] = s
            self._sliders = sliders
            self.params_box.children = tuple(sliders.values())
            xlabel, (lo, hi), step = C.axis(name)
            self.x_slider.min, self.x_slider.max = -1e300, 1e300  # widen before narrowing
            self.x_slider.min, self.x_slider.max, self.x_slider.step = lo, hi, step
            self.x_slider.value = min(max(float(x if x is not None else (lo + hi) / 2 + (hi - lo) / 6), lo), hi)
            self.x_slider.description = "point x"
            choices = C.overlays(name)
            self.overlay_box.options = choices
            self.overlay_box.value = tuple(o for o in overlay if o in choices)
        finally:
            self._quiet = False
        self.update()

    def _on_loss(self, change):
        self._build(change["new"], {}, None, self.overlay_box.value)

    def _on_change(self, _change):
        if not self._quiet:
            self.update()

    @property
    def params(self) -> dict:
        """The hyperparameters the sliders hold."""
        return {k: s.value for k, s in self._sliders.items()}

    def set(self, loss: str | None = None, *, x: float | None = None, overlay=None, **params):
        """Change the view from code, as the controls do."""
        if loss is not None and loss != self.name:
            self.loss_box.value = loss  # rebuilds with the new loss's defaults
        self._quiet = True
        try:
            for k, v in params.items():
                if k not in self._sliders:
                    raise ValueError(f"{self.name} has no control {k!r}; its controls: "
                                     f"{', '.join(self._sliders) or 'none'}")
                self._sliders[k].value = v
            if x is not None:
                self.x_slider.value = x
            if overlay is not None:
                self.overlay_box.value = tuple(overlay)
        finally:
            self._quiet = False
        self.update()
        return self

    # ---- drawing -----------------------------------------------------------------------------
    def update(self):
        """Recompute every curve with losslab and redraw the figure in place."""
        import plotly.graph_objects as go

        traces = []
        names = [self.name] + [o for o in self.overlay_box.value if o != self.name]
        xlabel = ""
        for i, n in enumerate(names):
            c = C.curves(n, self.params if n == self.name else None)
            xlabel = c["xlabel"] if i == 0 else xlabel
            for col, key in enumerate(("value", "slope", "curvature"), start=1):
                ys = c[key]
                if ys is None:
                    continue
                traces.append((col, go.Scatter(
                    x=c["x"], y=ys, mode="lines", name=n, legendgroup=n,
                    showlegend=col == 1, line={"color": C.colour(n), "width": 3 if i == 0 else 1.5})))
        p = C.point(self.name, self.params, self.x_slider.value)
        with self.figure.batch_update():
            self.figure.data = []
            for col, tr in traces:
                self.figure.add_trace(tr, row=1, col=col)
            for col, key in enumerate(("value", "slope", "curvature"), start=1):
                if p[key] is not None:
                    self.figure.add_trace(go.Scatter(
                        x=[p["x"]], y=[p[key]], mode="markers", name="point x",
                        legendgroup="point", showlegend=col == 1,
                        marker={"color": "black", "size": 9}), row=1, col=col)
            for col, title in enumerate(PANELS, start=1):
                self.figure.update_xaxes(title_text=xlabel, row=1, col=col)
                self.figure.update_yaxes(title_text=title, row=1, col=col)
        curv = "n/a" if p["curvature"] is None else C.num(p["curvature"])
        self.readout.value = (f"<b>{self.name}</b> at x = {C.num(p['x'], 4)} ({p['label']}): "
                              f"value {C.num(p['value'])}, slope {C.num(p['slope'])}, "
                              f"curvature {curv}")
        return self

    def _ipython_display_(self):
        """Shown as its widget (the notebook displays ``widget``)."""
        from IPython.display import display

        display(self.widget)
