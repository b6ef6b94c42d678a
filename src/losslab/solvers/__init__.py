"""Solvers that take a linear model to the optimum of its loss: Newton with the loss's exact
hessian, L-BFGS on its exact gradient, and HiGHS for piecewise-linear losses. ``LossRegressor``
and ``LossClassifier`` use them by default for linear models (see ``_linear`` for the problem
and the methods). SciPy and highspy are imported only when a fit runs."""

from ._linear import SOLVERS, LinearFit, fit_linear, linear_objective, solver_for

__all__ = ["SOLVERS", "LinearFit", "fit_linear", "linear_objective", "solver_for"]
