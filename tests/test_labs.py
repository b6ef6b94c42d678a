"""The labs: each runs, is deterministic for a seed, writes its figure and JSON, reports numbers
that agree with independent references and with what its figure draws."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import losslab as ll
from losslab.cli import app

ALL = ll.labs.names()


@pytest.fixture(scope="module")
def results():
    return {name: ll.labs.run(name, seed=0) for name in ALL}


def test_the_eight_labs_exist():
    assert ALL == ["outliers", "imbalance", "asymmetric", "mse_vs_ce", "gradients", "optimizers",
                   "scaling", "leakage"]
    with pytest.raises(ValueError, match="unknown lab 'nope'; the labs are: outliers,"):
        ll.labs.run("nope")


@pytest.mark.parametrize("name", ALL)
def test_lab_result_is_complete_and_saves(results, name, tmp_path):
    r = results[name]
    assert r.name == name and r.claims and r.tables and r.numbers
    paths = r.save(tmp_path)
    data = json.loads(paths["json"].read_text())
    assert data["lab"] == name and data["claims"] == r.claims
    assert paths["figure"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # every claim is built from numbers of this run: no claim is empty or a template
    assert all("{" not in c for c in r.claims)


@pytest.mark.parametrize("name", ["gradients", "scaling", "mse_vs_ce", "imbalance"])
def test_deterministic_for_a_seed(results, name):
    again = ll.labs.run(name, seed=0).to_dict()
    first = results[name].to_dict()
    again.pop("seconds"), first.pop("seconds")
    assert again == first


def test_outliers_matches_independent_minimisers(results):
    # Oracles: numpy lstsq (MSE), scikit-learn QuantileRegressor/HiGHS (MAE), SciPy BFGS on
    # scipy.special.huber (Huber, delta 2) on the course's data; the corrected values of the
    # course's errata are 2.003x + 3.268, 1.968x + 2.799, 1.897x + 3.139.
    from losslab.labs.outliers import course_data, exact_minimiser

    X, y = course_data()
    fits = {(r["data"], r["loss"]): r for r in results["outliers"].tables["fits"]}
    for loss, expected, tol in (("MSE", (2.003, 3.268), 1e-9), ("MAE", (1.968, 2.799), 1e-4),
                                ("Huber", (1.897, 3.139), 1e-7)):
        row = fits[("course", loss)]
        exact = exact_minimiser(loss, X, y)
        # MAE's cost is piecewise linear: Adam with a decaying rate ends within 1e-4 of the
        # linear programme's vertex; the smooth costs are solved to 1e-9 / 1e-7.
        np.testing.assert_allclose([row["slope"], row["intercept"]], exact, atol=tol)
        assert (round(row["slope"], 3), round(row["intercept"], 3)) == expected
    one = {k[1]: v for k, v in fits.items() if k[0] == "one-sided"}
    assert one["MSE"]["distance_to_true_line"] > 1.5 * max(one["MAE"]["distance_to_true_line"],
                                                           one["Huber"]["distance_to_true_line"])


def test_outliers_figure_draws_the_reported_lines(results):
    r = results["outliers"]
    fig = r.figure()
    drawn = 0
    for ax, dname in zip(fig.axes[0::2], ("course", "one-sided")):
        for line in ax.get_lines():
            label = line.get_label()
            for row in r.tables["fits"]:
                if row["data"] == dname and label.startswith(row["loss"] + ":"):
                    x, yv = line.get_xdata(), line.get_ydata()
                    np.testing.assert_allclose(yv, row["slope"] * x + row["intercept"], rtol=1e-12)
                    drawn += 1
    assert drawn == 6


def test_gradients_lab_matches_the_course_checks(results):
    # Closed forms checked by the course's errata: Huber(1) at -3, -0.5, 0, 0.5, 3 is
    # 2.5, 0.125, 0, 0.125, 2.5; focal at p_t = 0.95 is 0.0513, 0.00256, 0.000128, 1.6e-8 for
    # gamma 0, 1, 2, 5 (closed form -(1 - p)^gamma log p, 1e-12 relative).
    r = results["gradients"]
    table = {row["error"]: row for row in r.tables["gradients"]}
    assert [table[e]["Huber(delta=1) loss"] for e in (-3, -0.5, 0, 0.5, 3)] == \
        [2.5, 0.125, 0.0, 0.125, 2.5]
    for e, row in table.items():
        assert row["MSE gradient"] == 2 * e and row["MAE gradient"] == np.sign(e)
        assert row["Huber(delta=1) gradient"] == np.clip(e, -1, 1)
    for row in r.tables["focal"]:
        p, g = row["p_t"], row["gamma"]
        assert row["focal"] == pytest.approx(-(1 - p) ** g * np.log(p), rel=1e-12)
    f95 = {row["gamma"]: row["focal"] for row in r.tables["focal"] if row["p_t"] == 0.95}
    assert [round(f95[g], k) for g, k in ((0, 4), (1, 5), (2, 6))] == [0.0513, 0.00256, 0.000128]
    assert f95[5] == pytest.approx(1.6e-8, rel=0.01)  # the course prints 2 significant digits
    fig = r.figure()
    dots = [ln for ln in fig.axes[1].get_lines() if ln.get_linestyle() == "None"]
    assert len(dots) == 3


def test_mse_vs_ce_gradients_are_the_closed_forms(results):
    # d/dz of (sigmoid(z) - 1)^2 is 2 (p - 1) p (1 - p); of BCE on the logit, p - 1 (1e-12).
    for row in results["mse_vs_ce"].tables["logit_gradients"]:
        p = 1 / (1 + np.exp(-row["logit"]))
        assert row["grad_sigmoid_mse"] == pytest.approx(2 * (p - 1) * p * (1 - p), rel=1e-12)
        assert row["grad_sigmoid_bce"] == pytest.approx(p - 1, rel=1e-12)
    t = results["mse_vs_ce"].numbers["training"]
    assert t["sigmoid + BCE"]["epochs_to_95"] < t["sigmoid + MSE"]["epochs_to_95"]


def test_imbalance_numbers(results):
    r = results["imbalance"]
    for pname in ("95/5", "1:10"):
        n = r.numbers[pname]
        assert n["focal0_vs_bce_max_param_diff"] < 1e-12  # focal with gamma 0 is BCE
        assert n["pos_weight"] == pytest.approx((n["n_train"] - n["positives_train"])
                                                / n["positives_train"])
        assert n["weighted BCE"]["recall"] > n["BCE"]["recall"]
    fig = r.figure()
    bars = fig.axes[2].patches
    rows = [row for row in r.tables["held_out"] if row["problem"] == "95/5"]
    assert [b.get_height() for b in bars[:len(rows)]] == [row["recall"] for row in rows]


def test_asymmetric_under_prediction_falls_with_alpha(results):
    rows = results["asymmetric"].tables["held_out"]
    for problem, kind in (("demand", "asymmetric_mse"), ("demand", "quantile"),
                          ("delivery", "asymmetric_huber")):
        rates = [r["under_prediction_rate"] for r in rows
                 if r["problem"] == problem and r["loss"] == kind]
        assert rates == sorted(rates, reverse=True) and len(rates) == 4
    q = [r for r in rows if r["loss"] == "quantile"]
    for r in q:  # a quantile model under-predicts about 1 - tau of held-out cases
        assert abs(r["under_prediction_rate"] - (1 - r["tau"])) < 0.03


def test_asymmetric_quantile_fits_are_exact(results):
    # oracle: scikit-learn's QuantileRegressor (HiGHS, no penalty) on the lab's data and split;
    # the business cost of its held-out predictions equals the lab's to 1e-6 (relative): both
    # are the exact minimiser (unique here: 3000 points in general position)
    from sklearn.linear_model import QuantileRegressor
    from sklearn.preprocessing import StandardScaler

    from losslab.labs import asymmetric

    X, y = asymmetric.demand_data(0)
    n = asymmetric.N
    scaler = StandardScaler().fit(X[:n])
    Xtr, Xte = scaler.transform(X[:n]), scaler.transform(X[n:])
    for r in (r for r in results["asymmetric"].tables["held_out"] if r["loss"] == "quantile"):
        ref = QuantileRegressor(quantile=r["tau"], alpha=0.0, solver="highs").fit(Xtr, y[:n])
        cost = asymmetric.business_cost(y[n:], ref.predict(Xte))
        assert r["business_cost"] == pytest.approx(cost, rel=1e-6)
        assert r["solver"] == "lp"


def test_optimizers_lab_divergence_threshold_and_saddle(results):
    rows = results["optimizers"].tables["runs"]
    near = {r["lr"]: r for r in rows if r["problem"] == "quadratic, lr near 2/L"}
    # closed form: gradient descent on a quadratic with largest curvature L = 50 converges iff
    # lr < 2 / L = 0.04
    assert near[0.039]["diverged_at"] is None and near[0.039]["steps_to_tol"] is not None
    assert near[0.041]["diverged_at"] is not None and near[0.1]["diverged_at"] is not None
    exact = {r["optimizer"]: r for r in rows if r["problem"] == "saddle, exact start"}
    assert exact["gd from (1, 0)"]["steps_to_tol"] is None
    assert exact["gd + noise 0.05 from (1, 0)"]["steps_to_tol"] is not None


def test_scaling_lab(results):
    n = results["scaling"].numbers
    by = {r["c"]: r for r in n["scales"]}
    for c in (0.1, 1.0, 10.0):
        assert by[c]["distance_to_least_squares"] < 1e-10
        assert min(by[c]["hessian_eigenvalues"]) > 0
    assert max(by[-1.0]["hessian_eigenvalues"]) < 0 and by[-1.0]["gd_diverged_at"] is not None


def test_leakage_lab_uses_scikit_learn_metrics(results):
    r = results["leakage"]
    for setting in ("iid", "drift"):
        sel = [row for row in r.tables["splits"] if row["setting"] == setting]
        gap = np.mean([row["r2_leaky"] - row["r2_correct"] for row in sel])
        assert r.numbers[setting]["r2_gap_mean"] == pytest.approx(gap, rel=1e-12)
    assert r.numbers["drift"]["scaler_mean_shift_in_sd"] > 10 * r.numbers["iid"]["scaler_mean_shift_in_sd"]


def test_lab_command_writes_figure_and_json(tmp_path):
    res = CliRunner().invoke(app, ["lab", "gradients", "--out", str(tmp_path), "--seed", "3"])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "gradients.json").read_text())
    assert data["seed"] == 3 and (tmp_path / "gradients.png").exists()
    assert "Focal loss at p_t = 0.95" in res.output
    listing = CliRunner().invoke(app, ["lab"])
    assert listing.exit_code == 0 and "leakage" in listing.output
    bad = CliRunner().invoke(app, ["lab", "nope"])
    assert bad.exit_code == 2 and "unknown lab 'nope'" in bad.output
