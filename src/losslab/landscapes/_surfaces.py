"""Demonstration surfaces of two parameters, with exact gradients, Hessians and known critical
points (each classification is tested).

=============  ==========================  =====================================================
name           f(x, y)                     critical points
=============  ==========================  =====================================================
bowl           x^2 + y^2                   minimum at (0, 0)
saddle         x^2 - y^2                   saddle at (0, 0)
monkey_saddle  x^3 - 3 x y^2               degenerate at (0, 0) (zero Hessian: three valleys)
double_well    (x^2 - 1)^2 + y^2           minima at (-1, 0) and (1, 0); saddle at (0, 0)
plateau        max(0, x^2 + y^2 - 1)^2     degenerate on the whole unit disc (flat: gradient and
                                           Hessian vanish, descent started there never moves)
rosenbrock     (1 - x)^2 + 100 (y - x^2)^2 minimum at (1, 1) in a curved, flat-bottomed valley
=============  ==========================  =====================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Surface", "SURFACES", "get_surface"]


@dataclass(frozen=True)
class Surface:
    name: str
    formula: str
    bounds: tuple  # ((x_lo, x_hi), (y_lo, y_hi)) for pictures
    critical: tuple  # ((x, y), kind) of the isolated critical points
    _f: object
    _g: object
    _h: object

    def __call__(self, points):
        """Values at points of shape (..., 2) (vectorised)."""
        p = np.asarray(points, dtype=np.float64)
        return self._f(p[..., 0], p[..., 1])

    def gradient(self, point):
        x, y = np.asarray(point, dtype=np.float64)
        return np.asarray(self._g(x, y), dtype=np.float64)

    def hessian(self, point):
        x, y = np.asarray(point, dtype=np.float64)
        return np.asarray(self._h(x, y), dtype=np.float64)

    def value_and_grad(self, point):
        """(value, gradient): the function ``losslab.optim.minimize`` takes."""
        return float(self(point)), self.gradient(point)


def _plateau_f(x, y):
    return np.maximum(0.0, x * x + y * y - 1.0) ** 2


def _plateau_g(x, y):
    m = max(0.0, x * x + y * y - 1.0)
    return [4 * x * m, 4 * y * m]


def _plateau_h(x, y):
    m = max(0.0, x * x + y * y - 1.0)
    on = 1.0 if m > 0 else 0.0
    return [[4 * m + 8 * x * x * on, 8 * x * y * on], [8 * x * y * on, 4 * m + 8 * y * y * on]]


SURFACES = {s.name: s for s in (
    Surface("bowl", "x^2 + y^2", ((-2, 2), (-2, 2)), (((0.0, 0.0), "minimum"),),
            lambda x, y: x * x + y * y, lambda x, y: [2 * x, 2 * y],
            lambda x, y: [[2.0, 0.0], [0.0, 2.0]]),
    Surface("saddle", "x^2 - y^2", ((-2, 2), (-2, 2)), (((0.0, 0.0), "saddle"),),
            lambda x, y: x * x - y * y, lambda x, y: [2 * x, -2 * y],
            lambda x, y: [[2.0, 0.0], [0.0, -2.0]]),
    Surface("monkey_saddle", "x^3 - 3 x y^2", ((-1.5, 1.5), (-1.5, 1.5)),
            (((0.0, 0.0), "degenerate"),),
            lambda x, y: x ** 3 - 3 * x * y * y, lambda x, y: [3 * x * x - 3 * y * y, -6 * x * y],
            lambda x, y: [[6 * x, -6 * y], [-6 * y, -6 * x]]),
    Surface("double_well", "(x^2 - 1)^2 + y^2", ((-1.8, 1.8), (-1.5, 1.5)),
            (((-1.0, 0.0), "minimum"), ((1.0, 0.0), "minimum"), ((0.0, 0.0), "saddle")),
            lambda x, y: (x * x - 1) ** 2 + y * y, lambda x, y: [4 * x * (x * x - 1), 2 * y],
            lambda x, y: [[12 * x * x - 4, 0.0], [0.0, 2.0]]),
    Surface("plateau", "max(0, x^2 + y^2 - 1)^2", ((-2, 2), (-2, 2)),
            (((0.0, 0.0), "degenerate"), ((0.5, -0.3), "degenerate")),
            _plateau_f, _plateau_g, _plateau_h),
    Surface("rosenbrock", "(1 - x)^2 + 100 (y - x^2)^2", ((-2, 2), (-1, 3)),
            (((1.0, 1.0), "minimum"),),
            lambda x, y: (1 - x) ** 2 + 100 * (y - x * x) ** 2,
            lambda x, y: [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)],
            lambda x, y: [[2 - 400 * (y - x * x) + 800 * x * x, -400 * x], [-400 * x, 200.0]]),
)}


def get_surface(name: str) -> Surface:
    if name not in SURFACES:
        raise ValueError(f"unknown surface {name!r}; the surfaces are: {', '.join(SURFACES)}")
    return SURFACES[name]
