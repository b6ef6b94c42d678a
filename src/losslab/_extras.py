"""Optional extras: one place that imports them and says, in one line, how to install one.

``require("dash", "explore", "losslab explore")`` returns the module or raises
``MissingExtra`` (an ``ImportError``) whose message names what needs it and the command that
installs it; the command line prints that line and exits 2.
"""

from __future__ import annotations

import importlib

__all__ = ["EXTRAS", "MissingExtra", "require"]

# module -> (the extra that installs it, the package to name when installed alone)
EXTRAS = {
    "dash": ("explore", "dash"),
    "lightgbm": ("boosting", "lightgbm"),
    "xgboost": ("boosting", "xgboost"),
    "distributed": ("distributed", "dask[distributed]"),
    "dask": ("distributed", "dask[distributed]"),
    "ray": ("distributed", "ray"),
    "xarray": ("distributed", "xarray"),
    "torch": ("torch", "torch==2.13.0"),
    "ipywidgets": ("notebook", "ipywidgets"),
    "anywidget": ("notebook", "anywidget"),
}


class MissingExtra(ImportError):
    """An optional dependency that is not installed; the message is one line with the fix."""


def install_hint(module: str) -> str:
    extra, package = EXTRAS[module]
    return f"pip install 'losslab[{extra}]' (or: pip install '{package}')"


def require(module: str, what: str):
    """The imported ``module``, or ``MissingExtra`` naming ``what`` needs it and how to install
    it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if exc.name is not None and exc.name.split(".")[0] != module.split(".")[0]:
            raise  # the extra is there but one of its own dependencies is broken: show that
        raise MissingExtra(f"{what} needs {module.split('.')[0]}, which is not installed: "
                           f"{install_hint(module.split('.')[0])}") from None
