"""The advisor: inspection statistics, the decision guide, the tournament on the demonstration
tables, and every bad input rejected with a clear message and a non-zero exit code."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import losslab as ll
from losslab.advisor import TableError, decision_guide, demo_table, inspect_target
from losslab.cli import app


@pytest.mark.parametrize("demo,expected", [
    ("delivery", {"huber", "mae", "log_cosh"}),                  # robust
    ("fraud", {"bce (class-weighted)", "focal"}),                  # imbalance-aware
    ("demand", {"asymmetric_mse", "asymmetric_huber", "quantile"}),  # asymmetric or quantile
])
def test_demo_tables_get_the_right_kind_of_loss(demo, expected):
    X, y, features, meta = demo_table(demo)
    costs = meta["costs"] or (None, None)
    advice = ll.advise(X, y, cost_under=costs[0], cost_over=costs[1])
    assert advice.recommendation in expected
    assert advice.table[0]["candidate"] == advice.recommendation
    assert len(advice.table) >= 4 and all(r["fit_seconds"] > 0 for r in advice.table)
    key = "cost_mean" if meta["costs"] else "metric_mean"
    values = [r[key] for r in advice.table]
    lower_better = meta["costs"] or advice.metric == "mae"
    assert values == sorted(values, reverse=not lower_better)
    json.dumps(advice.to_dict())  # every number is JSON


def test_inspection_statistics():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 2))
    gaussian = X @ [1.0, 2.0] + rng.normal(size=4000)
    info = inspect_target(X, gaussian)
    assert info["task"] == "regression" and not info["heavy_tailed"]
    assert info["tail_ratio"] == pytest.approx(1.0, abs=0.1)   # Gaussian residuals: 1 by design
    assert info["residual_robust_scale"] == pytest.approx(1.0, abs=0.05)
    heavy = X @ [1.0, 2.0] + rng.standard_t(1.5, size=4000)
    assert inspect_target(X, heavy)["heavy_tailed"]
    labels = np.array(["a"] * 950 + ["b"] * 50)
    info = inspect_target(X[:1000], labels)
    assert info["task"] == "binary" and info["minority_share"] == 0.05 and info["imbalanced"]
    assert decision_guide(info)["losses"] == ["bce (class-weighted)", "focal"]
    info = inspect_target(X[:300], np.repeat([0, 1, 2], 100))
    assert info["task"] == "multiclass" and not info["imbalanced"]
    assert decision_guide(info)["losses"] == ["sparse_cce"]


def test_advisor_arguments_are_checked():
    X, y, _, _ = demo_table("delivery", n=200)
    with pytest.raises(TableError, match="give both cost_under and cost_over"):
        ll.advise(X, y, cost_under=2.0)
    with pytest.raises(TableError, match="metric 'f1' does not apply to regression"):
        ll.advise(X, y, metric="f1")
    with pytest.raises(ValueError, match="cost_over must be > 0"):
        ll.advise(X, y, cost_under=1.0, cost_over=-1.0)
    with pytest.raises(TableError, match="the target has a single value"):
        ll.advise(X, np.full(len(y), 3.0))
    with pytest.raises(TableError, match="a regression target must be numeric"):
        ll.advise(X, np.array(["x"] * 100 + ["y"] * 100), task="regression")


def _csv(tmp_path, text, name="t.csv"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def _rows(n, f=lambda i: f"{i % 7},{(i * 3) % 5},{i % 2}"):
    return "\n".join(f(i) for i in range(n))


@pytest.mark.parametrize("make,args,message", [
    (lambda t: _csv(t, "a,b,label\n" + _rows(40)), ["--target", "lable"],
     "no column 'lable' in .*did you mean 'label'\\?"),
    (lambda t: _csv(t, "a,b,y\n" + _rows(40, lambda i: f"{i},{i % 3},1")), ["--target", "y"],
     "the target has a single value"),
    (lambda t: _csv(t, "a,city,y\n" + _rows(40, lambda i: f"{i},Paris,{i % 2}")),
     ["--target", "y"], "non-numeric feature column: 'city' \\(e.g. 'Paris'\\). Encode"),
    (lambda t: _csv(t, "a,b,y\n1,,0\n2,3,1\n3,NA,0\n4,5,\n"), ["--target", "y"],
     "3 missing values in .*column 'b': 2 \\(lines 2, 4\\); column 'y': 1 \\(line 5\\)"),
    (lambda t: _csv(t, "a,b,y\n" + _rows(6)), ["--target", "y"],
     "has 3 rows, fewer than the 5 folds"),
    (lambda t: _csv(t, "a,b,y\n" + _rows(6, lambda i: f"{i},{i},{i * 1.5}")), ["--target", "y"],
     "6 rows are too few for 5-fold cross-validation"),
    (lambda t: str(t / "missing.csv"), ["--target", "y"], "cannot read .*missing.csv"),
    (lambda t: _csv(t, "a,b,y\n"), ["--target", "y"], "has no data rows"),
    (lambda t: _csv(t, "\x89PNG\x00\x01garbage".encode("latin-1").decode("latin-1")),
     ["--target", "y"], "no column 'y'|has no data rows|cannot read"),
])
def test_bad_tables_fail_cleanly(tmp_path, make, args, message):
    path = make(tmp_path)
    res = CliRunner().invoke(app, ["advise", path] + args)
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    import re

    assert re.search(message, re.sub(r"\s+", " ", res.output)), res.output


def test_advise_command_and_json(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 2))
    y = np.where(X[:, 0] + 0.3 * rng.normal(size=120) > 0, "yes", "no")
    lines = ["x1,x2,buy"] + [f"{a:.4f},{b:.4f},{c}" for (a, b), c in zip(X, y)]
    path = _csv(tmp_path, "\n".join(lines))
    res = CliRunner().invoke(app, ["advise", path, "--target", "buy", "--json", "--cv", "3"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["inspection"]["task"] == "binary" and data["features"] == ["x1", "x2"]
    assert data["recommendation"] == data["table"][0]["candidate"]
    res = CliRunner().invoke(app, ["advise", "--demo", "demand", "--cv", "3"])
    assert res.exit_code == 0 and "recommendation:" in res.output and "cost_mean" in res.output
    res = CliRunner().invoke(app, ["advise", "--demo", "nope"])
    assert res.exit_code == 2 and "unknown demo" in res.output
