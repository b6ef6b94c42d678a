"""``minimize``: run an optimiser on a function of a parameter vector and keep its whole path.

For the small problems of the optimiser experiments and landscape pictures (two parameters, a
quadratic, Rosenbrock's valley); models and data go through ``losslab.train``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._core import validation as V
from ._optimizers import get

__all__ = ["Path", "minimize"]


@dataclass
class Path:
    """The iterates (``points``, shape (steps + 1, d)) and their values; ``diverged_at`` is the
    first step whose value or gradient was not finite or passed the divergence threshold
    (``None`` if the run stayed finite), and ``message`` says so in words."""

    points: np.ndarray
    values: np.ndarray
    diverged_at: int | None
    message: str

    def steps_to(self, tol: float, target: float = 0.0):
        """The first step at which value - target <= tol, or None if never reached."""
        hit = np.flatnonzero(self.values - target <= tol)
        return int(hit[0]) if hit.size else None

    def steps_within(self, point, radius: float):
        """The first step whose iterate is within ``radius`` of ``point``, or None."""
        d = np.linalg.norm(self.points - np.asarray(point, dtype=np.float64), axis=1)
        hit = np.flatnonzero(d <= radius)
        return int(hit[0]) if hit.size else None


def minimize(fun, x0, optimizer, *, steps: int, noise: float = 0.0, seed=0,
             divergence_threshold: float = 1e10) -> Path:
    """Apply ``optimizer`` to ``fun(x) -> (value, gradient)`` for ``steps`` updates from ``x0``.

    ``noise`` adds N(0, noise^2) to every gradient component (the noise of a stochastic gradient),
    drawn from ``numpy.random.default_rng(seed)``. The run stops early, and says at which step,
    when it diverges: a value or gradient that is not finite, or a value above
    ``divergence_threshold`` times max(1, |f(x0)|).
    """
    opt = get(optimizer)
    steps = V.check_scalar(steps, "steps", ge=0, integer=True)
    noise = V.check_scalar(noise, "noise", ge=0)
    x = np.array(x0, dtype=np.float64)
    if x.ndim != 1 or not np.all(np.isfinite(x)):
        raise ValueError(f"x0 must be a finite 1-D vector, got {x0!r}")
    rng = np.random.default_rng(seed)
    state = opt.init(x)
    value, grad = fun(x)
    limit = divergence_threshold * max(1.0, abs(float(value)))
    points, values = [x], [float(value)]
    diverged, message = None, f"{steps} steps, finite throughout"
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            g = np.asarray(grad, dtype=np.float64)
            if noise:
                g = g + noise * rng.standard_normal(g.shape)
            x, state = opt.update(x, g, state)
            value, grad = fun(x)
            value = float(value)
            if not (math.isfinite(value) and np.all(np.isfinite(grad)) and abs(value) <= limit):
                diverged = t
                message = (f"diverged at step {t}: the value reached {value:.3g} (lr="
                           f"{opt.learning_rate(t - 1):g} with {type(opt).__name__})")
                break
            points.append(x)
            values.append(value)
    return Path(np.asarray(points), np.asarray(values), diverged, message)
