"""Docstring examples run, and the README's catalogue table is the registry's."""

import doctest
import importlib
import pathlib
import pkgutil

import pytest

import losslab as ll

MODULES = ["losslab"] + [f"losslab.{m.name}" for m in pkgutil.walk_packages(ll.__path__)
                         if not m.name.startswith("_")] + ["losslab._core._math"]


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module):
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_examples_exist_for_the_course_checked_values():
    # A wrong sign or formula would change these printed values (each doctest is run above).
    for name in ("mse", "mae", "huber", "bce", "focal", "cce", "asymmetric_mse"):
        assert ">>>" in ll.loss_class(name).__doc__, name




def _readme():
    return (pathlib.Path(__file__).parents[1] / "README.md").read_text()


def test_readme_catalogue_is_generated_from_the_registry():
    from losslab.cli import catalogue_markdown

    text = _readme()
    block = text.split("<!-- catalogue:start -->\n")[1].split("\n<!-- catalogue:end -->")[0]
    assert block == catalogue_markdown()


def test_ci_runs_the_readme_test_command():
    readme = _readme()
    ci = (pathlib.Path(__file__).parents[1] / ".ci" / "run").read_text()
    test_line = [ln for ln in readme.splitlines() if "pip install -e '.[test]'" in ln]
    assert len(test_line) == 1 and test_line[0] in ci.splitlines()


def _run_readme_block(heading):
    """Execute the first Python block under a README heading; returns its namespace."""
    code = _readme().split(heading)[1].split("```python\n")[1].split("```")[0]
    namespace = {}
    exec(compile(code, f"README {heading}", "exec"), namespace)
    return namespace


def test_readme_tour_runs(capsys):
    namespace = _run_readme_block("## A tour")
    assert float(namespace["huber"]([3.0], [5.0])) == 1.875  # the value the comment states
    assert "torch" in capsys.readouterr().out


def test_readme_training_example_runs():
    namespace = _run_readme_block("## The training lab")
    hist = namespace["history"]
    assert hist.epochs == 50 and hist.trajectory.shape == (51, namespace["model"].n_params)
    assert hist.loss[-1] < hist.loss[0]
    np = namespace["np"]
    np.testing.assert_allclose(namespace["clf"].predict_proba(namespace["X"][:2]).sum(axis=1), 1.0)


def test_readme_landscape_example_runs():
    namespace = _run_readme_block("## Cost landscapes")
    surface = namespace["surface"]
    assert surface.values.shape == (21, 21) and surface.method == "first-layer"
    assert namespace["low"][0] <= namespace["high"][0]
    assert len(namespace["path_plane"].info["distance"]) == 41


def test_readme_main_command_runs_the_report():
    main = [ln for ln in _readme().splitlines() if "pip install -e '.[lab]'" in ln]
    assert len(main) == 1 and main[0].endswith("&& losslab report")


def test_the_main_commands_extra_installs_what_the_report_and_explorer_use():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    from losslab._extras import EXTRAS

    project = tomllib.loads((pathlib.Path(__file__).parents[1] / "pyproject.toml").read_text())
    lab = [r.split(">")[0].split("=")[0].split("<")[0] for r in
           project["project"]["optional-dependencies"]["lab"]]
    # the report: neural landscapes (torch) and the advisor's boosting family (lightgbm);
    # losslab explore (dash)
    for module in ("torch", "lightgbm", "dash"):
        assert module in lab, module
        assert EXTRAS[module][0] in project["project"]["optional-dependencies"]


def test_readme_advisor_example_runs():
    advice = _run_readme_block("## Choosing a loss")["advice"]
    assert advice.recommendation in ("asymmetric_mse", "asymmetric_huber", "quantile")


def _python_blocks():
    text = _readme()
    return [block.split("```")[0] for block in text.split("```python\n")[1:]]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("index", range(len(_python_blocks())))
def test_every_readme_python_block_runs_alone(index, tmp_path):
    # as a user would paste it: a fresh interpreter, nothing defined beforehand
    import subprocess
    import sys

    code = _python_blocks()[index]
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, timeout=280)
    assert res.returncode == 0, f"README block {index}:\n{code}\n{res.stderr[-3000:]}"
