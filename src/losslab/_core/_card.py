"""A loss's card: its metadata as (field, value) rows (what ``losslab show`` prints) and as
HTML (what a notebook shows for a loss object: the rows, the formulas as MathML, and its value
and slope drawn along its probe at the instance's own hyperparameters)."""

from __future__ import annotations

import numpy as np

from . import _html as H
from ._curves import along

__all__ = ["card_rows", "card_html"]


def card_rows(loss) -> list[tuple[str, str]]:
    """The card's fields of a loss instance, as (field, value) pairs: what ``losslab show``
    prints."""
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
        ("estimates", info.estimates),
        ("outliers", info.outlier_sensitivity),
        ("noise model", info.noise_model or "-"),
        ("convention", info.convention),
        ("references", "\n".join(info.references)),
    ]


def _plot(loss):
    """Value and slope of the loss along its probe (a small matplotlib figure)."""
    from matplotlib.figure import Figure

    pr = loss.probe()
    fig = Figure(figsize=(7.2, 2.5), layout="constrained")
    ax_v, ax_g = fig.subplots(1, 2)
    for curve in pr.curves:
        v, g, _ = along(loss, curve, order=1)
        line, = ax_v.plot(curve.x, v, label=curve.label or loss.name)
        ax_g.plot(curve.x, g, color=line.get_color())
    for ax, what in ((ax_v, "loss"), (ax_g, "slope d loss / dx")):
        ax.set_xlabel(pr.xlabel, fontsize=8)
        ax.set_ylabel(what, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.axhline(0, color="gray", lw=0.5)
    if len(pr.curves) > 1 or pr.curves[0].label:
        ax_v.legend(fontsize=7)
    return fig


def card_html(loss) -> str:
    """The card as an HTML fragment: the fields, formulas as MathML, hyperparameters with
    their ranges, and the value and slope along the loss's probe."""
    info = loss.info
    rows = []
    for key, value in card_rows(loss):
        if key.endswith("(LaTeX)"):
            rows.append(f"<tr><th>{H.escape(key.replace(' (LaTeX)', ''))}</th>"
                        f"<td>{H.mathml(value)}</td></tr>")
        elif key not in ("loss", "gradient"):
            text = H.escape(value).replace("\n", "<br/>")
            rows.append(f"<tr><th>{H.escape(key)}</th><td>{text}</td></tr>")
    params = loss.get_params()
    if params:
        prow = []
        for name, value in params.items():
            c = info.controls.get(name)
            rng = f"{c.low:g} to {c.high:g}" if c is not None else ""
            prow.append((name, repr(value), rng))
        ptable = "<h5>hyperparameters</h5>" + H.table(prow, ["name", "value", "range drawn"])
    else:
        ptable = ""
    try:
        picture = H.figure(_plot(loss))
    except (ValueError, np.linalg.LinAlgError) as exc:  # a probe the instance cannot draw
        picture = f"<p>(no picture: {H.escape(exc)})</p>"
    return H.section(f"{info.name}: {info.summary}", f"<table>{''.join(rows)}</table>", ptable,
                     picture)
