"""Loss cards: every loss has a probe whose drawn gradient is the derivative of its drawn value,
and `losslab show --plot` writes the picture."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import losslab as ll
from losslab.cli import app
from losslab.report import cards

VARIANT_CASES = [(n, p) for n in ll.names() for p, _ in cards.variants(n)]


@pytest.mark.parametrize("name,params", VARIANT_CASES,
                         ids=[f"{n}-{p}" if p else n for n, p in VARIANT_CASES])
def test_probe_gradient_is_the_derivative_of_the_value(name, params):
    # Oracle: the fundamental theorem of calculus on the drawn curves: the integral of the
    # analytic gradient along the probe (trapezoid rule) equals the change of the value. The
    # values are continuous, so this holds to the rule's error: O(h^2) where the gradient is
    # smooth (2e-3 of the value's range) plus h times the jump at each kink (mae, hinge, ...).
    # A wrong sign or factor in a gradient accumulates over the range and fails.
    xlabel, curves = cards.probe(ll.get(name, **params))
    assert xlabel and curves
    for label, x, v, g in curves:
        assert np.all(np.isfinite(v)) and np.all(np.isfinite(g)), (name, label)
        integral = np.concatenate([[0.0], np.cumsum(np.diff(x) * (g[1:] + g[:-1]) / 2)])
        scale = max(np.ptp(v), 1e-12)
        jumps = np.abs(np.diff(g)) * np.diff(x)
        kink_error = np.sum(jumps[jumps > 0.05 * np.max(np.abs(g)) * np.max(np.diff(x))])
        np.testing.assert_allclose(v - v[0], integral, atol=2e-3 * scale + kink_error, rtol=0,
                                   err_msg=f"{name} {label}")


def test_card_rows_and_text():
    rows = dict(cards.card_rows("huber"))
    for field in ("loss", "gradient", "y_true", "y_pred", "activation", "convex in y_pred",
                  "outliers", "noise model", "convention", "references"):
        assert rows[field], field
    assert "delta" in cards.card_text("huber")


def test_show_plot(tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["show", "focal", "--plot", str(tmp_path / "focal.png")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "focal.png").read_bytes()[:4] == b"\x89PNG"
    assert "gamma" in res.output and "references" in res.output
    res = runner.invoke(app, ["show", "huber", "--plot", str(tmp_path / "missing" / "x.png")])
    assert res.exit_code == 2 and "cannot write" in res.output
    fig = cards.card_figure("huber")
    assert [ln.get_label() for ln in fig.axes[0].get_lines()][:3] == [
        "y_true = 1, delta=0.5", "y_true = 1, delta=1", "y_true = 1, delta=2"]


def test_gallery_has_every_loss():
    fig = cards.gallery_figure()
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ll.names()
