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


def test_examples_exist_for_the_seeds_checked_values():
    # A wrong sign or formula would change these printed values (each doctest is run above).
    for name in ("mse", "mae", "huber", "bce", "focal", "cce", "asymmetric_mse"):
        assert ">>>" in ll.loss_class(name).__doc__, name


def test_readme_catalogue_lists_every_registered_loss():
    readme = (pathlib.Path(__file__).parents[1] / "README.md").read_text()
    for name in ll.names():
        assert f"`{name}`" in readme, name
