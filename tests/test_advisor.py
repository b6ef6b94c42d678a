"""The advisor: inspection statistics, the decision guide, the tournament on the demonstration
tables, and every bad input rejected with a clear message and a non-zero exit code."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import losslab as ll
from losslab.advisor import TableError, decision_guide, demo_table, detect_task, inspect_target
from losslab.cli import app


@pytest.mark.parametrize("demo,expected", [
    ("delivery", {"huber", "mae", "log_cosh"}),                  # robust
    ("demand", {"asymmetric_mse", "asymmetric_huber", "quantile"}),  # asymmetric or quantile
])
def test_demo_tables_get_the_right_kind_of_loss(demo, expected):
    X, y, features, meta = demo_table(demo, n=1500)
    costs = meta["costs"] or (None, None)
    advice = ll.advise(X, y, cost_under=costs[0], cost_over=costs[1], models="linear")
    assert advice.recommendation in expected and advice.verdict == "agrees"
    assert advice.table[0]["candidate"] == advice.recommendation
    assert advice.table[0]["verdict"] == "best"
    assert len(advice.table) >= 4 and all(r["fit_seconds"] > 0 for r in advice.table)
    values = [r["metric_mean"] for r in advice.table]
    assert values == sorted(values)  # MAE and cost: lower is better
    # the plain MSE is measurably worse: its paired interval excludes 0
    mse = next(r for r in advice.table if r["candidate"] == "mse")
    assert mse["verdict"] == "worse" and mse["diff_low"] > 0
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
    with pytest.raises(TableError, match="models must be among linear, mlp, boosting"):
        ll.advise(X, y, models="forest")
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
     ["--target", "y"], "non-numeric feature column: 'city' \\(e.g. 'Paris' at line 2\\); encode"),
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
    assert res.exit_code == 0 and "recommendation:" in res.output and "business cost" in res.output
    res = CliRunner().invoke(app, ["advise", "--demo", "nope"])
    assert res.exit_code == 2 and "unknown demo" in res.output


# ---- the task, read from the target --------------------------------------------------------


def _write(tmp_path, X, y, name):
    header = ",".join([f"x{i}" for i in range(X.shape[1])] + ["target"])
    lines = [header] + [",".join(f"{v:.6g}" for v in row) + f",{t:g}" for row, t in zip(X, y)]
    path = tmp_path / f"{name}.csv"
    path.write_text("\n".join(lines))
    return str(path)


@pytest.mark.parametrize("name,task", [("diabetes", "regression"), ("breast_cancer", "binary"),
                                       ("wine", "multiclass")])
def test_scikit_learn_tables_are_read_as_their_task(tmp_path, name, task):
    import sklearn.datasets as D

    X, y = getattr(D, f"load_{name}")(return_X_y=True)
    path = _write(tmp_path, X[:, :6], y, name)
    res = CliRunner().invoke(app, ["advise", path, "--target", "target", "--json", "--cv", "3",
                                   "--repeats", "1", "--models", "linear"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["inspection"]["task"] == data["inspection"]["detected_task"] == task


def test_detect_task_rules():
    assert detect_task(np.arange(100) * 1.5)[0] == "regression"
    assert detect_task(np.r_[np.arange(25, 347), np.arange(25, 347)].astype(float))[0] == \
        "regression"  # diabetes-like: whole numbers, many values
    assert detect_task(np.array([0.0, 1.0] * 10))[0] == "binary"
    assert detect_task(np.array(["a", "b", "c"] * 5))[0] == "multiclass"
    assert detect_task(np.tile(np.arange(7), 5))[0] == "multiclass"
    assert detect_task(np.tile(np.arange(30), 5))[0] == "regression"


# ---- classification judged on what the loss changes ------------------------------------------


def _imbalanced(rate, n=2000, seed=0):
    from sklearn.datasets import make_classification

    X, y = make_classification(n, 6, n_informative=4, n_redundant=1, weights=[1 - rate],
                               class_sep=0.8, flip_y=0.0, random_state=seed)
    return X, y


@pytest.mark.parametrize("table", ["fraud", 0.01, 0.05])
def test_imbalanced_tables_are_not_judged_at_threshold_one_half(table):
    from sklearn.metrics import balanced_accuracy_score

    from losslab.estimators import LossClassifier

    if table == "fraud":
        X, y, _, _ = demo_table("fraud", n=2000)
    else:
        X, y = _imbalanced(table, n=int(60 / table))  # 60 positives
    if table == "fraud":  # at the default threshold 0.5, BCE predicts no fraud at all
        at_half = LossClassifier("bce", alpha=1 / len(y)).fit(X, y).predict(X)
        assert balanced_accuracy_score(y, at_half) == pytest.approx(0.5, abs=0.01)
    advice = ll.advise(X, y, cv=3, repeats=1, models="linear,boosting")
    assert advice.metric == "average_precision"
    for row in advice.table:
        assert "average_precision" in row["metrics"] and row["threshold"] is not None
        if row["loss"] != "hinge":
            assert "log_loss" in row["metrics"] and row["check"]["name"] == "calibration_error"
        if row["constant_splits"]:  # a loss whose optimum is constant is named as such
            assert any(row["candidate"] in n and "constant score" in n for n in advice.notes)
        elif row["metrics"]["roc_auc"] > 0.6:
            # a model that ranks better than chance gets a threshold that uses it
            assert row["metrics"]["balanced_accuracy"] > 0.55, row


def test_thresholds_and_costs_tuned_inside_the_training_folds():
    X, y = _imbalanced(0.05, n=1500)
    advice = ll.advise(X, y, cost_under=20.0, cost_over=1.0, cv=3, repeats=1, models="linear")
    assert advice.metric == "cost"
    # a missed positive costs 20 false alarms: the tuned probability threshold is far below 0.5
    bce = next(r for r in advice.table if r["candidate"] == "bce")
    assert bce["threshold"] < 0.2
    assert any("tuned inside each training fold for cost" in n for n in advice.notes)


# ---- uncertainty -----------------------------------------------------------------------------


def test_a_gap_inside_the_noise_is_indistinguishable():
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    advice = ll.advise(X, y, models="linear")
    rows = {r["candidate"]: r for r in advice.table}
    best = advice.table[0]
    other = rows["mse"] if best["candidate"] != "mse" else rows["huber"]
    assert abs(other["metric_mean"] - best["metric_mean"]) < 0.1
    assert other["verdict"] == "indistinguishable" and other["diff_low"] <= 0 <= other["diff_high"]
    assert advice.verdict in ("agrees", "cannot tell")
    data = advice.to_dict()
    assert {"diff_mean", "diff_low", "diff_high", "verdict"} <= set(data["table"][1])


def test_a_planted_difference_is_reported_as_one():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(1200, 3))
    y = X @ [2.0, -1.0, 0.5] + rng.standard_t(1.2, size=1200) * 2  # heavy tails
    advice = ll.advise(X, y, models="linear")
    rows = {r["candidate"]: r for r in advice.table}
    assert advice.table[0]["candidate"] in ("mae", "huber", "log_cosh")
    assert rows["mse"]["verdict"] == "worse" and rows["mse"]["diff_low"] > 0


# ---- model families ------------------------------------------------------------------------


def test_boosting_family_uses_losslab_objectives_with_the_init_score():
    X, y, _, _ = demo_table("delivery", n=800)
    advice = ll.advise(X, y, cv=3, repeats=1, models="linear,boosting")
    families = {r["family"] for r in advice.table}
    assert families == {"linear", "boosting"} and set(advice.best_by_family) == families
    assert advice.same_best_across_families in (True, False)
    assert any("family" in n or "same in every family" in n for n in advice.notes)
    from losslab.estimators import LossGBMRegressor

    est = LossGBMRegressor("huber", loss_params={"delta": 2.0}).fit(X, y)
    # oracle: the loss's exact optimal constant is where the trees start
    assert float(est.init_score_) == pytest.approx(ll.get("huber", delta=2.0).init_score(y),
                                                   rel=1e-12)


def test_without_lightgbm_the_advisor_runs_and_says_so(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "lightgbm", None)  # import lightgbm now fails
    X, y, _, _ = demo_table("delivery", n=300)
    advice = ll.advise(X, y, cv=3, repeats=1)
    assert {r["family"] for r in advice.table} == {"linear"}
    assert any("LightGBM is not installed" in n for n in advice.notes)


def test_html_page_and_figures(tmp_path):
    X, y = _imbalanced(0.1, n=600)
    out = tmp_path / "advice.html"
    res = CliRunner().invoke(app, ["advise", _write(tmp_path, X, y, "t"), "--target", "target",
                                   "--cv", "3", "--repeats", "1", "--html", str(out)])
    assert res.exit_code == 0, res.output
    page = out.read_text()
    assert page.count("data:image/png;base64,") == 2  # precision-recall and reliability
    assert "average_precision" in page and "diff to best" in page and "<script" not in page


# ---- bad tables: exit 2, one line, no traceback ------------------------------------------------


@pytest.mark.parametrize("text,args,message", [
    ("a,a,b,target\n" + "\n".join(f"{i},{i},{i % 3},{i % 2}" for i in range(30)),
     ["--target", "target"], "column name 'a' appears twice"),
    ("a,b,target\n1e306,1,0\n" + "\n".join(f"{i},{i},{i % 2}" for i in range(30)),
     ["--target", "target"], "feature column 'a' has 1 value that cannot be computed with "
                             r"\(first: 1e\+306 at line 2\)"),
    ("a,b,target\n1,2,1e300\n" + "\n".join(f"{i},{i},{i * 0.5}" for i in range(30)),
     ["--target", "target"], "target column 'target' has 1 value"),
    ("a,b,target\n" + "\n".join(f"{i},{i % 4},{i * 0.37:.2f}" for i in range(40)),
     ["--target", "target", "--task", "binary"],
     "the target is not binary: it has 40 distinct values"),
    ("a,b,target\n" + "\n".join(f"{i},{i % 4},{25 + i}" for i in range(40)),
     ["--target", "target", "--task", "multiclass"],
     "class 25 has 1 row, fewer than the 5 folds.*looks like regression"),
    ("a,b,target\n" + "\n".join(f"{i},{i % 4},{int(i < 3)}" for i in range(40)),
     ["--target", "target"], "class 1 has 3 rows, fewer than the 5 folds"),
])
def test_more_bad_tables_fail_on_one_line(tmp_path, text, args, message):
    import re

    path = _csv(tmp_path, text)
    res = CliRunner().invoke(app, ["advise", path] + args)
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1, res.output
    assert re.search(message, lines[0]), res.output


# ---- small and awkward tables, and the advisor's words ----------------------------------------


def _sklearn_head(tmp_path, loader, n):
    frame = loader(as_frame=True).frame.head(n)
    path = tmp_path / f"{loader.__name__}_{n}.csv"
    frame.to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize("loader_name", ["load_breast_cancer", "load_diabetes"])
@pytest.mark.parametrize("n", [30, 40, 60])
def test_small_tables_never_crash_with_lightgbm_installed(tmp_path, loader_name, n):
    pytest.importorskip("lightgbm")
    import sklearn.datasets as D

    path = _sklearn_head(tmp_path, getattr(D, loader_name), n)
    res = CliRunner().invoke(app, ["advise", path, "--target", "target", "--format", "json"])
    # before: LightGBMError "Check failed: (train_data->num_features()) > (0)" and exit 1
    assert res.exit_code in (0, 2), res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    if res.exit_code == 0:
        data = json.loads(res.output)
        fams = {r["family"] for r in data["table"]}
        left_out = [n for n in data["notes"] if n.startswith("the boosting family is left out")]
        # boosting either ran or is left out with the reason and the size it needs
        assert "boosting" in fams or (left_out and "rows" in left_out[0]), data["notes"]
    else:
        assert "fewer than the 5 folds" in res.output  # the class too small for the folds


def test_gbm_without_a_possible_split_is_the_optimal_constant_as_the_builtin():
    pytest.importorskip("lightgbm")
    import lightgbm as lgb

    from losslab.estimators import LossGBMRegressor

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(24, 3)), rng.normal(size=24)
    with pytest.warns(UserWarning, match="no tree can grow: the model is the loss's optimal"):
        model = LossGBMRegressor("mse").fit(X, y)
    # oracle: LightGBM's built-in squared error on the same rows (no split either), and the mean
    builtin = lgb.train({"objective": "regression", "verbose": -1}, lgb.Dataset(X, y), 5)
    assert np.allclose(model.predict(X), y.mean(), rtol=1e-15, atol=0)
    # LightGBM reads labels as float32, so its constant is the mean to float32's rounding
    assert np.allclose(builtin.predict(X), y.mean(), rtol=1e-7, atol=0)
    assert np.ptp(builtin.predict(X)) == 0.0


def test_mlp_non_convergence_is_counted_not_streamed(tmp_path):
    import warnings

    X, y = make_regression_table()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        advice = ll.advise(X, y, models="mlp", cv=2, repeats=1)
    assert not [w for w in caught if "epochs" in str(w.message)]
    row = advice.table[0]
    assert row["fits"] == 2 and 0 <= row["unconverged_fits"] <= 2
    assert "unconverged_fits" in advice.to_dict()["table"][0]
    if any(r["unconverged_fits"] for r in advice.table):
        assert any("fits stopped before converging" in n for n in advice.notes)


def make_regression_table(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X @ [1.0, -2.0, 0.5] + rng.normal(size=n)


def test_verdicts_follow_the_intervals():
    from losslab.advisor import judge, recommendation_text, tied_with

    def row(cand, loss, verdict, mean=0.5, lo=-0.1, hi=0.1):
        return {"family": "linear", "candidate": cand, "loss": loss, "verdict": verdict,
                "metric_mean": mean, "metric_std": 0.1, "diff_mean": 0.01, "diff_low": lo,
                "diff_high": hi}

    # the rule names plain bce; the best is the class-weighted variant and plain bce is worse:
    # before, "agrees" (matched on the loss, not the candidate)
    rows = [row("bce (class-weighted)", "bce", "best"), row("bce", "bce", "worse", lo=0.01)]
    verdict, text = judge({"losses": ["bce"]}, rows, rows[0], "average_precision", 5, 2)
    assert verdict == "disagrees" and "worse by" in text
    # tied with the rule's loss: agrees, and says so
    rows[1] = row("bce", "bce", "indistinguishable")
    verdict, text = judge({"losses": ["bce"]}, rows, rows[0], "average_precision", 5, 2)
    assert verdict == "agrees" and "cannot be told apart" in text
    assert tied_with(rows, rows[0]) == ["bce"]

    class A:
        recommendation, recommendation_family, tied = "bce (class-weighted)", "linear", ["bce"]

    assert "cannot be told apart from bce" in recommendation_text(A)


def test_advisor_words_in_the_terminal_and_the_pipe_are_one(tmp_path):
    path = tmp_path / "t.csv"
    rng = np.random.default_rng(1)
    lines = ["a,b,y"] + [f"{rng.normal():.4f},{rng.normal():.4f},{i % 2}" for i in range(60)]
    path.write_text("\n".join(lines))
    records = CliRunner().invoke(app, ["advise", str(path), "--target", "y", "--models",
                                       "linear", "--format", "records"])
    table = CliRunner().invoke(app, ["advise", str(path), "--target", "y", "--models",
                                     "linear", "--format", "table"], env={"COLUMNS": "200"})
    for out in (records, table):
        assert out.exit_code == 0, out.output
        assert "tie (CI" not in out.output
        # integer classes stay integers
        assert "classes = 0: 30, 1: 30" in out.output
        # the guide's reason is a sentence
        assert "decision guide: bce. Balanced classes" in out.output
    # pure noise: every candidate ties, and the recommendation says so
    assert "cannot be told apart from" in records.output


def test_table_reader_reports_every_problem_and_reads_only_plain_numbers(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b,y\n1,1_000,0\n2,,1\n3,4,1\n-nan,5,0\n")
    with pytest.raises(TableError) as err:
        ll.advisor.read_csv(path, "yy")
    msg = str(err.value)
    assert msg.startswith("3 problems in")
    assert "no column 'yy'; did you mean 'y'?" in msg
    assert "2 missing values" in msg and "line 5" in msg  # -nan is missing, not "infinite"
    assert "'1_000' at line 2" in msg
    for digits in ("١٢", "１２"):  # Arabic-Indic and full-width digits are text, not numbers
        path.write_text(f"a,y\n1,0\n{digits},1\n" + "3,0\n" * 10)
        with pytest.raises(TableError, match="non-numeric feature column"):
            ll.advisor.read_csv(path, "y")


def test_a_tab_separated_file_is_read_and_a_stray_text_target_cell_is_named(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("x0\tx1\ttarget\n" + "".join(f"{i}\t{i % 3}\t{i % 2}\n" for i in range(40)))
    X, y, features = ll.advisor.read_csv(path, "target")
    assert features == ["x0", "x1"] and X.shape == (40, 2)
    path = tmp_path / "t.csv"
    path.write_text("a,y\n" + "".join(f"{i},{0.01 * i:.3f}\n" for i in range(300)) + "301,oops\n")
    with pytest.raises(TableError, match=r"holds numbers except 1 cell \('oops' at line 302\)"):
        ll.advisor.read_csv(path, "y")


def test_a_two_valued_fractional_target_is_binary(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = np.where(X[:, 0] + 0.5 * rng.normal(size=60) > 0, 1.5, 0.5)
    advice = ll.advise(X, y, models="linear", cv=3, repeats=1)  # before: sklearn's "continuous"
    assert advice.inspection["task"] == "binary"
    assert advice.inspection["classes"] == {"0.5": int(np.sum(y == 0.5)),
                                            "1.5": int(np.sum(y == 1.5))}
    assert advice.table[0]["metrics"]["roc_auc"] > 0.7  # 1.5 is the positive class


def test_more_features_than_rows_reads_the_target_not_an_interpolating_fit():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 1000))
    y = X[:, 0] + rng.standard_t(2, size=300)
    info = inspect_target(X, y)
    # before: a residual standard deviation of 8e-14 (the fit interpolates every row)
    assert info["residual_std"] > 0.5
    assert info["residuals_of"].startswith("the target's median")
    assert inspect_target(X[:, :3], y)["residuals_of"] == "a least-squares fit on the features"


def test_more_features_than_training_rows_is_said():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 80))
    y = X[:, 0] + rng.normal(size=60)
    advice = ll.advise(X, y, models="linear", cv=3, repeats=1)
    assert any("80 features for training folds of 40 rows" in n for n in advice.notes)
    few = ll.advise(X[:, :3], y, models="linear", cv=3, repeats=1)
    assert not any("can interpolate a training fold" in n for n in few.notes)
