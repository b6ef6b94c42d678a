"""The course's exercises: a correct answer written independently (NumPy, from the statements:
``exercise_answers/right.py``) passes every exercise for several learners; a wrong answer
written to make exactly one mistake (``exercise_answers/wrong/``) fails with that mistake
named; the checker never raises on the learner's behalf; the command line checks files in a
child process and grades a folder."""

from __future__ import annotations

import csv
import importlib.util
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import losslab.exercises as E

ANSWERS = Path(__file__).parent / "exercise_answers"
WRONG = sorted((ANSWERS / "wrong").glob("*.py"))


def _load(path):
    spec = importlib.util.spec_from_file_location(f"answer_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


RIGHT = _load(ANSWERS / "right.py")


def test_the_bank_holds_the_chapters_exercises():
    names = E.names()
    assert len(names) >= 40
    for loss in ("mse", "mae", "huber", "log_cosh", "quantile", "bce", "bce_logits", "cce",
                 "sparse_cce", "hinge", "squared_hinge", "exponential", "logistic", "focal"):
        assert loss in names and f"{loss}_gradient" in names, loss
    for other in ("bce_logit_gradient", "multi_task", "asymmetric_mse", "mse_hessian"):
        assert other in names
    for name in names:  # every exercise names the chapter it comes from, and its signature
        text = E.show(name)
        assert "From: " in text and f"def {name}(" in text


@pytest.mark.parametrize("name", E.names())
def test_an_independent_correct_answer_passes_for_every_learner(name):
    fn = getattr(RIGHT, name)
    for seed in (None, 1, "alice"):
        res = E.check(name, fn, seed)
        assert res.passed and res.score == 1.0 and not res.findings, (seed, str(res))


@pytest.mark.parametrize("path", WRONG, ids=[p.stem for p in WRONG])
def test_each_mistake_is_named(path):
    mod = _load(path)
    res = E.check(mod.EXERCISE, getattr(mod, mod.EXERCISE), seed=path.stem)
    assert not res.passed and res.score < 1.0
    assert any(mod.FINDING in f for f in res.findings), res.findings


def test_the_diagnoses_cover_every_mistake_the_course_names():
    # one wrong answer per diagnosis: the list, each held by a file in wrong/
    findings = {_load(p).FINDING for p in WRONG}
    for needed in ("sign flipped", "a sum instead of a mean", "a missing factor 2",
                   "a missing factor 1/2 in the quadratic branch", "the wrong branch at the kink",
                   "forgetting epsilon", "softmax applied twice",
                   "logits where probabilities are expected", "exchanged",
                   "the gradient of the per-sample loss", "the class sum over the wrong axis",
                   "returned shape ()"):
        assert needed in findings, needed


def test_partial_credit_names_its_groups():
    # right except at the kink: 4 of the 5 groups
    res = E.check("hinge_gradient", _load(ANSWERS / "wrong" / "hinge_kink.py").hinge_gradient)
    assert res.groups["kinks"][0] < res.groups["kinks"][1]
    assert res.groups["ordinary"][0] == res.groups["ordinary"][1]
    assert res.score == pytest.approx(4 / 5)


def test_each_learner_gets_their_own_values():
    ex = E.get_exercise("huber_gradient")
    deltas = {ex.params_for(f"learner{i}")["delta"] for i in range(30)}
    assert len(deltas) >= 3
    assert ex.params_for("alice") == ex.params_for("alice")  # reproducible
    a = ex.params_for("alice")["delta"]
    assert f"delta = {a!r}" in E.show("huber_gradient", seed="alice")
    # an answer that ignores the learner's delta (another learner's value written in) fails
    other = next(d for d in ex.params.get("delta") if d != a)

    def copied(y_true, y_pred, delta=1.0):
        return RIGHT.huber_gradient(y_true, y_pred, delta=other)

    assert not E.check("huber_gradient", copied, seed="alice").passed
    assert E.check("huber_gradient", RIGHT.huber_gradient, seed="alice").passed


@pytest.mark.parametrize("answer,finding", [
    (lambda y_true, y_pred: "abc", "not a number or an array"),
    (lambda y_true, y_pred: None, "not a number or an array"),
    (lambda y_true, y_pred: np.full(3, np.nan), "returned shape"),
    (lambda y_true, y_pred: float("inf"), "NaN or inf"),
    (lambda y_true: 0.0, "raised TypeError"),
])
def test_check_never_raises_for_the_learner(answer, finding):
    res = E.check("mse", answer)
    assert not res.passed and any(finding in f for f in res.findings), res.findings


def test_a_function_that_loops_is_stopped_outside_the_main_thread_too():
    def forever(y_true, y_pred):
        while True:
            pass

    box = {}
    before = threading.active_count()
    t = threading.Thread(target=lambda: box.update(res=E.check("mse", forever, time_limit=0.5)))
    t.start()
    t.join(30)
    assert not t.is_alive()
    assert any("did not return within 0.5 s" in f for f in box["res"].findings)
    # the learner's loop was stopped, not left running in the background
    assert threading.active_count() == before


def test_an_unknown_exercise_is_a_clear_error():
    with pytest.raises(ValueError, match="did you mean 'mse'"):
        E.check("msee", RIGHT.mse)


# ---- the command line -------------------------------------------------------------------------
def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "losslab.cli", "exercise", *map(str, args)],
                          capture_output=True, text=True, timeout=120, cwd=cwd)


@pytest.mark.timeout(180)
def test_exercise_check_exits_0_right_and_1_with_the_finding():
    out = _cli("check", "mse_gradient", ANSWERS / "right.py")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "passed, score 1.00" in out.stdout
    for stem in ("sign_flipped", "missing_factor_2", "per_sample_gradient", "wrong_shape"):
        path = ANSWERS / "wrong" / f"{stem}.py"
        mod = _load(path)
        out = _cli("check", mod.EXERCISE, path)
        assert out.returncode == 1, out.stdout + out.stderr
        assert mod.FINDING in out.stdout, out.stdout
    out = _cli("check", "mse", ANSWERS / "wrong" / "loops_forever.py", "--format", "json")
    assert out.returncode == 1 and "did not return within 2 s" in out.stdout
    out = _cli("check", "msee", ANSWERS / "right.py")
    assert out.returncode == 2 and "unknown exercise 'msee'" in out.stderr
    out = _cli("check", "mse", "no-such-file.py")
    assert out.returncode == 2 and "no file" in out.stderr


@pytest.mark.timeout(180)
def test_exercise_list_and_show():
    out = _cli("list", "--format", "csv")
    assert out.returncode == 0
    rows = list(csv.reader(out.stdout.splitlines()))
    assert rows[0] == ["exercise", "asks for", "from"] and len(rows) - 1 >= 40
    out = _cli("show", "quantile", "--seed", "alice")
    assert out.returncode == 0 and "Your hyperparameters: quantile = " in out.stdout


@pytest.mark.timeout(240)
def test_exercise_grade_writes_the_csv_of_a_mixed_folder(tmp_path):
    subs = tmp_path / "submissions"
    subs.mkdir()
    shutil.copy(ANSWERS / "right.py", subs / "alice.py")
    shutil.copy(ANSWERS / "wrong" / "sign_flipped.py", subs / "bob.py")
    shutil.copy(ANSWERS / "wrong" / "wrong_shape.py", subs / "carol.py")
    (subs / "dave.py").write_text("def mse_gradient(:\n")
    (subs / "erin.py").write_text("def something_else():\n    return 1\n")
    (subs / "frank.py").write_text("import os\nos._exit(3)\n")
    out_csv = tmp_path / "grades.csv"
    out = _cli("grade", subs, "--exercise", "mse_gradient", "--out", out_csv)
    assert out.returncode == 0, out.stdout + out.stderr
    rows = {r["learner"]: r for r in csv.DictReader(out_csv.open())}
    assert set(rows) == {"alice", "bob", "carol", "dave", "erin", "frank"}
    assert rows["alice"]["passed"] == "yes" and rows["alice"]["score"] == "1.000"
    assert rows["bob"]["passed"] == "no" and "sign flipped" in rows["bob"]["findings"]
    assert "returned shape" in rows["carol"]["findings"]
    assert "SyntaxError" in rows["dave"]["findings"]
    assert "defines no function 'mse_gradient'" in rows["erin"]["findings"]
    assert "ended with code 3" in rows["frank"]["findings"]
    assert "6 submissions, 1 passed" in out.stdout
