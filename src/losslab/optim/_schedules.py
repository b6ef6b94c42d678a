"""Learning-rate schedules: the learning rate as a function of the step count ``t = 0, 1, 2, ...``.

A schedule is any callable ``schedule(t) -> float``; every optimiser accepts one wherever it takes
``lr``. The three below follow ``torch.optim.lr_scheduler`` when that scheduler is stepped once per
optimiser step (``t`` counts the steps already taken).
"""

from __future__ import annotations

import math

from .._core import validation as V

__all__ = ["Constant", "StepDecay", "ExponentialDecay", "CosineDecay", "as_schedule"]


class _Schedule:
    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(vars(self).items()))))


class Constant(_Schedule):
    """lr_t = lr."""

    def __init__(self, lr: float):
        self.lr = V.check_scalar(lr, "lr", gt=0)

    def __call__(self, t: int) -> float:
        return self.lr


class StepDecay(_Schedule):
    """lr_t = lr * gamma ** floor(t / step_size)  (``torch.optim.lr_scheduler.StepLR``).

    >>> StepDecay(0.1, step_size=10, gamma=0.5)(25)
    0.025
    """

    def __init__(self, lr: float, *, step_size: int, gamma: float = 0.1):
        self.lr = V.check_scalar(lr, "lr", gt=0)
        self.step_size = V.check_scalar(step_size, "step_size", ge=1, integer=True)
        self.gamma = V.check_scalar(gamma, "gamma", gt=0, le=1)

    def __call__(self, t: int) -> float:
        return self.lr * self.gamma ** (t // self.step_size)


class ExponentialDecay(_Schedule):
    """lr_t = lr * gamma ** t  (``torch.optim.lr_scheduler.ExponentialLR``)."""

    def __init__(self, lr: float, *, gamma: float):
        self.lr = V.check_scalar(lr, "lr", gt=0)
        self.gamma = V.check_scalar(gamma, "gamma", gt=0, le=1)

    def __call__(self, t: int) -> float:
        return self.lr * self.gamma ** t


class CosineDecay(_Schedule):
    """lr_t = eta_min + (lr - eta_min) (1 + cos(pi t / t_max)) / 2 for t <= t_max, then eta_min.

    The closed form of ``torch.optim.lr_scheduler.CosineAnnealingLR`` (which PyTorch computes
    recursively; the two agree to rounding) without its restart after ``t_max``.
    """

    def __init__(self, lr: float, *, t_max: int, eta_min: float = 0.0):
        self.lr = V.check_scalar(lr, "lr", gt=0)
        self.t_max = V.check_scalar(t_max, "t_max", ge=1, integer=True)
        self.eta_min = V.check_scalar(eta_min, "eta_min", ge=0)
        if self.eta_min > self.lr:
            raise ValueError(f"eta_min must be <= lr ({self.lr:g}), got {self.eta_min!r}")

    def __call__(self, t: int) -> float:
        if t >= self.t_max:
            return self.eta_min
        return self.eta_min + (self.lr - self.eta_min) * (1 + math.cos(math.pi * t / self.t_max)) / 2


def as_schedule(lr) -> _Schedule:
    """A number becomes ``Constant(lr)``; a callable is used as given."""
    if callable(lr):
        return lr
    return Constant(lr)
