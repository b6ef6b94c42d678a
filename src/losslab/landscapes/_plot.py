"""Pictures of landscapes: matplotlib figures (contour with paths, 3D surface with a contour
below, 1-D curves, log scale) and a self-contained interactive HTML view (Plotly).

Paths are given as ``{label: trajectory}``: a ``History`` (its ``trajectory`` is projected onto
the landscape's plane), an ``optim.Path`` or an array of parameter vectors (projected too; for a
demonstration surface, whose plane is the (x, y) axes, the points are their own coordinates).
"""

from __future__ import annotations

import numpy as np

__all__ = ["figure", "to_html", "plotly_figure", "path_coordinates"]


def path_coordinates(ls, path):
    """(coords (T, dims), distance from the plane (T,)) of a trajectory-like object."""
    if hasattr(path, "trajectory") and path.trajectory is not None:
        thetas = path.trajectory
    elif hasattr(path, "points"):
        thetas = path.points
    else:
        thetas = np.asarray(path, dtype=np.float64)
    thetas = np.atleast_2d(np.asarray(thetas, dtype=np.float64))
    if thetas.shape[1] != ls.plane.center.size:
        raise ValueError(f"a path has {thetas.shape[1]} parameters, the landscape's plane "
                         f"{ls.plane.center.size}")
    return ls.plane.project(thetas)


def _shown(values, log):
    if not log:
        return values, "J"
    low = float(np.min(values))
    if low > 0:
        return np.log10(values), "log10 J"
    shift = np.max(values) * 1e-12 + 1e-300
    return np.log10(values - low + shift), "log10 (J - min J)"


class _Thinned:
    """A landscape's grid at every k-th point (for drawing only)."""

    def __init__(self, ls, ia, ib):
        self.alpha, self.values, self.plane, self.dims = ls.alpha[ia], ls.values[ia], ls.plane, ls.dims
        self.beta = None if ls.beta is None else ls.beta[ib]
        if ib is not None:
            self.values = self.values[:, ib]


def _every(n, m):
    if n <= m:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, m)).astype(int))


def _thinned(ls, m):
    if m < 2:
        raise ValueError(f"max_points must be at least 2, got {m}")
    return _Thinned(ls, _every(ls.alpha.size, m), None if ls.beta is None else _every(ls.beta.size, m))


def _interp(ls, coords):
    from scipy.interpolate import RegularGridInterpolator

    f = RegularGridInterpolator((ls.alpha, ls.beta), ls.values, bounds_error=False,
                                fill_value=None)
    return f(coords)


def figure(ls, *, kind: str = "both", paths=None, log: bool = False, levels: int = 30,
           critical_points=None, title=None):
    """A ``matplotlib.figure.Figure`` of the landscape (no GUI backend is needed)."""
    from matplotlib.figure import Figure

    paths = paths or {}
    z, zlabel = _shown(ls.values, log)
    if ls.dims == 1:
        fig = Figure(figsize=(7, 4.5), layout="constrained")
        ax = fig.subplots()
        ax.plot(ls.alpha, z, lw=1.5)
        for label, p in paths.items():
            c, _ = path_coordinates(ls, p)
            ax.plot(c[:, 0], np.interp(c[:, 0], ls.alpha, z), ".-", ms=3, label=label)
        ax.set_xlabel(ls.plane.labels[0])
        ax.set_ylabel(zlabel)
        ax.set_title(title or ls.loss)
        if paths:
            ax.legend(fontsize=8)
        return fig
    if kind not in ("both", "contour", "surface"):
        raise ValueError(f"kind must be 'both', 'contour' or 'surface', got {kind!r}")
    A, B = np.meshgrid(ls.alpha, ls.beta, indexing="ij")
    fig = Figure(figsize=(13 if kind == "both" else 7, 5.5), layout="constrained")
    axes = []
    if kind in ("both", "surface"):
        ax3 = fig.add_subplot(1, 2 if kind == "both" else 1, 1, projection="3d")
        ax3.plot_surface(A, B, z, cmap="viridis", alpha=0.85, linewidth=0)
        ax3.contour(A, B, z, levels=levels, cmap="viridis", offset=float(np.min(z)),
                    linewidths=0.6)
        for label, p in paths.items():
            c, _ = path_coordinates(ls, p)
            zz = _interp(ls, c)
            ax3.plot(c[:, 0], c[:, 1], _shown(zz, log)[0] if log else zz, ".-", ms=2, lw=1)
        ax3.set_xlabel(ls.plane.labels[0])
        ax3.set_ylabel(ls.plane.labels[1])
        ax3.set_zlabel(zlabel)
        axes.append(ax3)
    if kind in ("both", "contour"):
        ax = fig.add_subplot(1, 2 if kind == "both" else 1, 2 if kind == "both" else 1)
        # matplotlib wants Z[y, x]; values are [alpha, beta] ("ij"): pass the transpose.
        cs = ax.contour(ls.alpha, ls.beta, z.T, levels=levels, cmap="viridis", linewidths=0.8)
        ax.clabel(cs, inline=True, fontsize=6)
        for label, p in paths.items():
            c, _ = path_coordinates(ls, p)
            ax.plot(c[:, 0], c[:, 1], ".-", ms=2, lw=1, label=label)
            ax.plot(c[-1, 0], c[-1, 1], "k.", ms=6)
        for cp in critical_points or ():
            ax.plot(cp.point[0], cp.point[1], {"minimum": "g*", "maximum": "r^", "saddle": "mx",
                                               "degenerate": "ko"}[cp.kind], ms=9)
        (a_min, b_min), _ = ls.argmin()
        ax.plot(a_min, b_min, "r+", ms=10, label=f"grid minimum ({a_min:.3g}, {b_min:.3g})")
        ax.set_xlabel(ls.plane.labels[0])
        ax.set_ylabel(ls.plane.labels[1])
        ax.legend(fontsize=7, loc="upper right", framealpha=0.6)
        axes.append(ax)
    fig.suptitle(title or f"{ls.loss} ({ls.plane.kind} plane, {ls.method})", fontsize=10)
    return fig


def to_html(ls, path, *, paths=None, title=None, log: bool = False):
    """Write a self-contained HTML file (Plotly, its JavaScript included, gzipped: about 2 MB
    where the plain page is 5 MB) with the surface and a contour view, hover values, and the
    paths overlaid; returns the path."""
    from .._io import plotly_page, write_atomic

    fig = plotly_figure(ls, paths=paths, title=title, log=log)
    write_atomic(path, plotly_page(fig, title or f"losslab landscape: {ls.loss}").encode())
    return path


def plotly_figure(ls, *, paths=None, title=None, log: bool = False, max_points=None):
    """The interactive view as a ``plotly.graph_objects.Figure``. ``max_points``: draw at most
    that many grid points along each axis (every k-th, the ends kept), for a lighter page; the
    values drawn are the grid's own, and the paths are drawn in full."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    paths = paths or {}
    grid = ls if max_points is None else _thinned(ls, int(max_points))
    z, zlabel = _shown(grid.values, log)
    title = title or f"{ls.loss} ({ls.plane.kind} plane)"
    xl = ls.plane.labels[0]
    if ls.dims == 1:
        fig = go.Figure(go.Scatter(x=grid.alpha, y=z, mode="lines", name=zlabel,
                                   hovertemplate=f"{xl}=%{{x:.4g}}<br>{zlabel}=%{{y:.6g}}"))
        for label, p in paths.items():
            c, _ = path_coordinates(ls, p)
            heights = np.interp(c[:, 0], ls.alpha, _shown(ls.values, log)[0])
            fig.add_trace(go.Scatter(x=c[:, 0], y=heights,
                                     mode="lines+markers", name=label))
        fig.update_layout(title=title, xaxis_title=xl, yaxis_title=zlabel)
    else:
        yl = ls.plane.labels[1]
        hover = f"{xl}=%{{x:.4g}}<br>{yl}=%{{y:.4g}}<br>{zlabel}=%{{z:.6g}}<extra></extra>"
        fig = make_subplots(rows=1, cols=2, specs=[[{"type": "surface"}, {"type": "xy"}]],
                            subplot_titles=("surface", "contour"))
        # Plotly's z[row, col] has rows along y: the transpose of the "ij" values.
        fig.add_trace(go.Surface(x=grid.alpha, y=grid.beta, z=z.T, colorscale="Viridis",
                                 hovertemplate=hover, showscale=False), row=1, col=1)
        fig.add_trace(go.Contour(x=grid.alpha, y=grid.beta, z=z.T, colorscale="Viridis",
                                 hovertemplate=hover, ncontours=30,
                                 colorbar={"title": {"text": zlabel, "side": "right"},
                                           "x": 1.0, "xanchor": "left", "len": 0.8}),
                      row=1, col=2)
        colours = ("#d62728", "#ff7f0e", "#e377c2", "#17becf", "#bcbd22", "#8c564b",
                   "#1f77b4", "#2ca02c", "#9467bd", "#7f7f7f")
        for i, (label, p) in enumerate(paths.items()):
            c, _ = path_coordinates(ls, p)
            zz = _interp(ls, c)
            zz = _shown(zz, log)[0] if log else zz
            colour = colours[i % len(colours)]
            # one legend entry per path: both views share it (clicking hides the path in both)
            fig.add_trace(go.Scatter3d(x=c[:, 0], y=c[:, 1], z=zz, mode="lines+markers",
                                       marker={"size": 2, "color": colour},
                                       line={"color": colour}, name=label, legendgroup=label),
                          row=1, col=1)
            fig.add_trace(go.Scatter(x=c[:, 0], y=c[:, 1], mode="lines+markers",
                                     marker={"size": 3, "color": colour}, line={"color": colour},
                                     name=label, legendgroup=label, showlegend=False),
                          row=1, col=2)
        # the legend under the plots, clear of the colour bar on the right; the camera a
        # little further out than Plotly's default, so that the tick labels stay in view
        fig.update_layout(
            title=title, margin={"l": 10, "r": 10, "t": 60, "b": 10},
            legend={"orientation": "h", "x": 0.5, "xanchor": "center", "y": -0.08,
                    "yanchor": "top"},
            scene={"xaxis_title": xl, "yaxis_title": yl, "zaxis_title": zlabel,
                   "aspectmode": "manual", "aspectratio": {"x": 1, "y": 1, "z": 0.7},
                   "camera": {"eye": {"x": 1.55, "y": -1.55, "z": 1.05}},
                   "domain": {"x": [0.0, 0.46]}})
        fig.update_xaxes(title_text=xl, row=1, col=2, domain=[0.54, 0.94])
        fig.update_yaxes(title_text=yl, row=1, col=2)
    return fig
