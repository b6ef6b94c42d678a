"""Loss cards: a loss's metadata as text, and its value and gradient drawn along one variable.

What a curve is drawn along is the loss's own declaration (``Loss.probe``: a one-parameter
family of inputs x -> inputs(x) with its tangent, and the axis's title), and the values drawn
side by side are its controls' ``shown`` values (``Loss.controls``). Along x:

* the slope is d value / dx = <loss gradient, tangent>, from the loss's own analytic gradient;
* the curvature, where the inputs are affine in x, is tangent^T H tangent: the exact hessian
  for elementwise losses, the loss's exact Hessian-vector product for the others, or its
  diagonal where the tangent moves one coordinate (no finite differences anywhere).
"""

from __future__ import annotations

import numpy as np

from .._core import Loss, along, get, names
from .._core import card_rows as loss_card_rows

__all__ = ["probe", "along", "card_rows", "card_text", "card_figure", "gallery_figure",
           "variants", "distinct_curves"]


def probe(loss: Loss):
    """(xlabel, [(label, x, value(x), d value / dx)]) for one loss instance, along its
    declared probe."""
    pr = loss.probe()
    return pr.xlabel, [(c.label, c.x, *along(loss, c, order=1)[:2]) for c in pr.curves]


def variants(name):
    """[(hyperparameters, legend suffix)]: the loss at each ``shown`` value of its first
    control that declares some, else at its defaults."""
    cls_controls = get(name).controls
    for param, control in cls_controls.items():
        if control.shown:
            return [({param: v}, f"{param}={v:g}") for v in control.shown]
    return [({}, "")]


def card_rows(loss) -> list[tuple[str, str]]:
    """The card's fields, as (field, value) pairs, of a loss or a loss name: what ``losslab
    show`` prints."""
    return loss_card_rows(get(loss) if isinstance(loss, str) else loss)


def card_text(name) -> str:
    """The card as plain text, one field per line."""
    return "\n".join(f"{k}: {v}" for k, v in card_rows(name))


def distinct_curves(name):
    """(x-axis label, [(legend label, x, value, gradient)]) over the loss's variants, each curve
    once: a curve that is the same for every value of the hyperparameter (contrastive's similar
    pairs do not depend on the margin) is drawn once and labelled "every ..." instead of being
    drawn on top of itself."""
    drawn, xlabel = [], ""
    shown = variants(name)
    param = next(iter(shown[0][0]), None)
    for params, plabel in shown:
        xlabel, curves = probe(get(name, **params))
        for label, x, v, g in curves:
            same = next((d for d in drawn if d[0] == label and d[2].shape == x.shape
                         and np.array_equal(d[2], x) and np.allclose(d[3], v, rtol=1e-12,
                                                                      atol=1e-12)), None)
            if same is not None:
                same[1] = ", ".join(s for s in (label, f"every {param}" if param else "") if s)
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
