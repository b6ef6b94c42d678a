"""The course's exercises, checked: each a statement from a chapter, hidden cases drawn for each
learner, a reference answer computed by losslab, and a diagnosis that names the mistake.

>>> import losslab.exercises as ex
>>> len(ex.names()) >= 40
True
>>> def mse(y_true, y_pred):
...     import numpy as np
...     return float(np.mean((np.asarray(y_pred) - np.asarray(y_true)) ** 2))
>>> ex.check("mse", mse).passed
True

``check(name, fn, seed=None)`` returns a ``CheckResult`` (``passed``, ``score``, ``groups``,
``findings``); ``show(name, seed)`` the statement with the learner's own hyperparameters.
From the command line: ``losslab exercise list | show | check | grade``.
"""

from ._bank import EXERCISES, Exercise
from ._check import CheckResult, check, get_exercise, names, reference
from ._run import check_file, grade_folder

__all__ = ["CheckResult", "EXERCISES", "Exercise", "check", "check_file", "get_exercise",
           "grade_folder", "names", "reference", "show"]


def show(name: str, seed=None) -> str:
    """The exercise's statement, with learner ``seed``'s hyperparameters and its signature."""
    return get_exercise(name).text(seed)
