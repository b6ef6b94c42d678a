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


def _along(loss, curve, x):
    """(value, slope, curvature) at the points x of one probe curve."""
    from dataclasses import replace

    return cards.along(loss, replace(curve, x=np.asarray(x, dtype=np.float64)))


SMOOTH_CASES = [(n, p) for n, p in VARIANT_CASES if ll.get(n).info.single_input]


@pytest.mark.parametrize("name,params", SMOOTH_CASES,
                         ids=[f"{n}-{p}" if p else n for n, p in SMOOTH_CASES])
def test_slope_and_curvature_along_the_probe_match_central_differences(name, params):
    # Oracle: 4-point central differences (h = 1e-3, float64) of the drawn value give the
    # slope, and of the drawn slope the curvature, at 9 points of the probe's range; a point is
    # used only where the one-sided first and second differences agree (no kink of the value or
    # of its slope within 2h). Tolerance 1e-6
    # relative to the curve's scale (the stencil's error is O(h^4) times the 5th derivative).
    loss = ll.get(name, **params)
    curve = loss.probe().curves[0]
    lo, hi = curve.x[0], curve.x[-1]
    xs = lo + (hi - lo) * np.linspace(0.0737, 0.9311, 9)
    h = 1e-3
    stencil = np.array([-2, -1, 1, 2]) * h
    pts = (xs[:, None] + stencil[None, :]).ravel()
    v, g, c = _along(loss, curve, np.concatenate([xs, pts]))
    v0, g0 = v[:9], g[:9]
    vs, gs = v[9:].reshape(9, 4), g[9:].reshape(9, 4)
    fd_g = (vs[:, 0] - 8 * vs[:, 1] + 8 * vs[:, 2] - vs[:, 3]) / (12 * h)
    left, right = (v0 - vs[:, 1]) / h, (vs[:, 2] - v0) / h
    second_l = (v0 - 2 * vs[:, 1] + vs[:, 0]) / h ** 2
    second_r = (vs[:, 3] - 2 * vs[:, 2] + v0) / h ** 2
    smooth = ((np.abs(left - right) < 1e-2 * (1 + np.abs(fd_g)))
              & (np.abs(second_l - second_r) < 5e-2 * (1 + np.abs(second_l))))
    gscale = 1 + np.max(np.abs(g0))
    checked = 0
    for i in np.flatnonzero(smooth):
        assert abs(g0[i] - fd_g[i]) <= 1e-6 * gscale, (name, xs[i], g0[i], fd_g[i])
        checked += 1
    assert checked >= 6, f"{name}: only {checked} smooth points"
    if c is None:
        # only where the inputs are not affine in x or the loss has no exact second derivative
        # along it: cosine distance (an angle), dice and tversky (no Hessian-vector product)
        assert not curve.affine or not loss.info.hvp, name
        return
    fd_c = (gs[:, 0] - 8 * gs[:, 1] + 8 * gs[:, 2] - gs[:, 3]) / (12 * h)
    gl, gr = (g0 - gs[:, 1]) / h, (gs[:, 2] - g0) / h
    smooth2 = smooth & (np.abs(gl - gr) < 1e-2 * (1 + np.abs(fd_c)))
    cscale = 1 + np.max(np.abs(c[:9]))
    for i in np.flatnonzero(smooth2):
        assert abs(c[i] - fd_c[i]) <= 1e-6 * cscale, (name, xs[i], c[i], fd_c[i])
    assert smooth2.sum() >= 5, name


def test_controls_are_valid_ranges_that_hold_the_default():
    # every declared control: a hyperparameter of the loss; the loss accepts its ends and every
    # shown value; the default (or the control's start when the default is None) lies inside;
    # the range is a whole number of steps
    seen = 0
    for name in ll.names():
        cls = ll.loss_class(name)
        defaults = ll.get(name).get_params()
        for param, c in cls.controls.items():
            seen += 1
            assert param in defaults, (name, param)
            assert c.low < c.high and c.step > 0, (name, param)
            n_steps = (c.high - c.low) / c.step
            assert abs(n_steps - round(n_steps)) < 1e-9, (name, param)
            for value in (c.low, c.high, *c.shown):
                assert c.low <= value <= c.high, (name, param, value)
                ll.get(name, **{param: value})  # raises on an invalid value
            start = defaults[param] if defaults[param] is not None else c.start
            assert start is not None and c.low <= start <= c.high, (name, param, start)
    assert seen >= 25


SHAPE_CASES = [n for n in ll.names() if ll.get(n).info.single_input]


@pytest.mark.parametrize("name", SHAPE_CASES)
def test_every_hyperparameter_that_changes_the_curve_is_a_control(name):
    # a numeric hyperparameter (not a numerical floor such as eps) that changes the probe's
    # curve when moved by 20 % must be declared as a control, so that the explorer offers it
    loss = ll.get(name)
    curve = loss.probe().curves[0]
    v0 = cards.along(loss, curve, order=1)[0]
    for param, default in loss.get_params().items():
        if param == "eps" or isinstance(default, bool) or not isinstance(default, (int, float)):
            continue
        moved = default * 1.2 if default else 0.1
        try:
            other = ll.get(name, **{param: moved})
        except (ValueError, TypeError):
            continue
        v1 = cards.along(other, other.probe().curves[0], order=1)[0]
        if v1.shape == v0.shape and np.allclose(v0, v1, rtol=1e-9, atol=1e-12):
            continue
        assert param in loss.controls, f"{name}.{param} changes the curve but is no control"


def test_what_each_loss_estimates_is_declared():
    # every registered loss says what it estimates; the advisor's checks read it (quantile's
    # ideal share below is its own quantile)
    for name in ll.names():
        assert ll.get(name).info.estimates, name
    assert ll.get("quantile", quantile=0.8).estimand() == ("the 0.8-quantile", "share_below", 0.8)
    assert ll.get("bce", pos_weight=3.0).estimand()[0] == "a probability reweighted by pos_weight"
    assert ll.get("mae").estimand() == ("the conditional median", "share_below", 0.5)
