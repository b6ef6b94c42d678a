"""Taking losslab's losses to where people train: PyTorch modules and gradient-boosting objectives
(implemented in the core, next to ``Loss.to_torch`` and ``Loss.as_*_objective``)."""

from ._core import BoostingObjective, boosting_objective, to_torch

__all__ = ["to_torch", "boosting_objective", "BoostingObjective"]
