"""The experiments of the course as reproducible runs ("labs").

Each lab is a function ``run(seed=0) -> LabResult``; ``losslab lab NAME`` runs one from the
command line and writes its figure and a JSON of every number. Runs are deterministic for a seed
and take seconds on two cores. This package imports matplotlib and scikit-learn when a lab runs.

>>> import losslab as ll
>>> ll.labs.names()[:3]
['outliers', 'imbalance', 'asymmetric']
"""

from __future__ import annotations

import importlib
import time

from ._result import LabResult

__all__ = ["LabResult", "names", "describe", "run"]

# name -> one-line description (the module of the same name holds ``run``)
_LABS = {
    "outliers": "MSE vs MAE vs Huber on data with outliers: cancelling, and one-sided",
    "imbalance": "BCE, class-weighted BCE and focal loss on 95/5 and 1:10 problems",
    "asymmetric": "asymmetric MSE / Huber and the quantile loss for demand and delivery times",
    "mse_vs_ce": "sigmoid + MSE against sigmoid + BCE when the model is confidently wrong",
    "gradients": "the course's gradient table, loss and gradient curves, focal loss vs p_t",
    "optimizers": "every optimiser on regression, an ill-conditioned bowl, a saddle, Rosenbrock",
    "scaling": "c * loss: the same minimiser for c > 0, a maximiser for c < 0",
    "leakage": "scaling fitted before the train/test split against after it",
}


def names() -> list[str]:
    """The labs, in the course's order."""
    return list(_LABS)


def describe(name: str) -> str:
    _check(name)
    return _LABS[name]


def _check(name):
    if name not in _LABS:
        raise ValueError(f"unknown lab {name!r}; the labs are: {', '.join(_LABS)}")


def run(name: str, *, seed: int = 0) -> LabResult:
    """Run one lab with ``seed`` and return its result."""
    _check(name)
    module = importlib.import_module(f".{name}", __name__)
    t0 = time.perf_counter()
    result = module.run(seed=seed)
    result.seconds = time.perf_counter() - t0
    return result
