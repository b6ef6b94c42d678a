"""Optimisers and learning-rate schedules (pure, explicit state; see ``_optimizers``)."""

from ._optimizers import (AdaGrad, Adam, AdamW, GradientDescent, Momentum, Optimizer, OptState,
                          RMSProp, get, names)
from ._run import Path, minimize
from ._schedules import Constant, CosineDecay, ExponentialDecay, StepDecay

__all__ = ["AdaGrad", "Adam", "AdamW", "Constant", "CosineDecay", "ExponentialDecay",
           "GradientDescent", "Momentum", "Optimizer", "OptState", "Path", "RMSProp", "StepDecay", "get",
           "minimize", "names"]
