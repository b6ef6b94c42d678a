"""Linear models solved to their optimum with the loss's own derivatives.

The problem (the objective ``LossRegressor`` and ``LossClassifier`` minimise)::

    J(W, b) = loss(y, head(X W + b), reduction="mean", sample_weight=w) + alpha / 2 * ||W||^2

Internally the features are standardised (``X_s = (X - mean) / std``, moments weighted by
``sample_weight``; constant columns keep std 1), which changes the conditioning and not the problem: the penalty becomes
``alpha / 2 * sum_j (W_s[j] / std_j)^2``, and the coefficients are mapped back
(``W = W_s / std``, ``b = b_s - mean @ W``), so ``J`` at the returned coefficients is ``J`` of
the user's problem.

Solvers:

* ``"newton"``: Newton's method with a line search (``_newton``) on the exact gradient and the
  exact hessian, assembled from the loss's hessian (elementwise losses: one weighted Gram matrix
  ``X^T diag(h) X`` per output) or from its exact Hessian-vector products (softmax cross-entropy:
  the per-sample ``K x K`` blocks ``A (diag(p) - p p^T)``, then ``K (K + 1) / 2`` Gram matrices).
  Converges quadratically; minimum-norm steps handle the singular hessians of unpenalised
  softmax and of more features than samples, damped steps those of Huber's linear part.
* ``"lbfgs"``: SciPy's L-BFGS-B on the exact gradient, for losses whose hessian is only a
  diagonal or that see a sigmoid / softmax head (probabilities).
* ``"lp"``: piecewise-linear losses as linear programmes solved by HiGHS (scikit-learn's
  ``QuantileRegressor`` solves the primal of the first kind): ``mae``, ``quantile``, ``mape``
  and ``hinge`` in their dual form (one variable per sample, ``d + 1`` equality rows);
  ``categorical_hinge`` and ``multi_margin`` (p = 1) as sums of maxima of affine pieces; with
  ``alpha > 0`` quadratic programmes (``highspy``). See ``_lp``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._core import validation as V
from ._lp import LP_LOSSES, lp_form, solve_lp

__all__ = ["LinearFit", "fit_linear", "linear_objective", "solver_for", "SOLVERS"]

SOLVERS = ("newton", "lbfgs", "lp")
MAX_NEWTON = 2000  # parameters up to which "auto" forms the dense hessian
_DEFAULT_MAX_ITER = {"newton": 100, "lbfgs": 2000, "lp": None}


@dataclass
class LinearFit:
    """The solution: ``coef`` (n_features, n_outputs), ``intercept`` (n_outputs,), the objective
    ``J`` there, iterations, whether ``tol`` was met, the solver and its message."""

    coef: np.ndarray
    intercept: np.ndarray
    objective: float
    n_iter: int
    converged: bool
    solver: str
    message: str


def solver_for(loss, head: str = "identity") -> str:
    """The exact solver for a linear model with ``loss`` behind ``head``: ``"lp"`` for the
    piecewise-linear losses, ``"newton"`` where the hessian (or its product) is exact and the
    loss convex, else ``"lbfgs"`` (a non-convex loss, such as the redescending ones, has
    negative curvature where Newton's step is no descent: L-BFGS finds a local minimum)."""
    if head != "identity":
        return "lbfgs"
    if loss.name in LP_LOSSES and lp_form(loss) is not None:
        return "lp"
    if loss.info.hvp and loss.info.convex.startswith("yes"):
        return "newton"
    return "lbfgs"


def linear_objective(loss, X, y, coef, intercept, *, sample_weight=None, alpha=0.0,
                     head="identity") -> float:
    """``J(W, b)`` of the module docstring, on the user's scale (what every solver minimises)."""
    X = np.asarray(X, dtype=np.float64)
    W = np.asarray(coef, dtype=np.float64).reshape(X.shape[1], -1)
    z = _apply_head(head, X @ W + np.asarray(intercept, dtype=np.float64).reshape(-1))
    z = z[:, 0] if W.shape[1] == 1 and np.ndim(y) == 1 else z
    value = float(loss(y, z, sample_weight=sample_weight))
    return value + 0.5 * alpha * float(np.sum(W * W))


def _apply_head(head, z):
    from ..models import apply_head

    return apply_head(head, z)


class _Problem:
    """J and its derivatives in the standardised coordinates theta = B.ravel(), B = [W_s; b_s]
    of shape (d + 1, m)."""

    def __init__(self, loss, X, y, sample_weight, alpha, n_outputs, head, scale):
        self.loss, self.head = loss, head
        self.prepared = loss.prepare(y, sample_weight=sample_weight)
        n, d = X.shape
        self.n, self.d, self.m = n, d, n_outputs
        if scale and d:
            # weighted moments: repeating a sample and doubling its weight give one problem
            w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
            if w is not None and not np.any(w > 0):
                w = None
            self.mean = np.average(X, axis=0, weights=w)
            std = np.sqrt(np.average((X - self.mean) ** 2, axis=0, weights=w))
            self.std = np.where(std > 1e-12 * np.maximum(1.0, np.abs(self.mean)), std, 1.0)
        else:
            self.mean, self.std = np.zeros(d), np.ones(d)
        self.Xa = np.empty((n, d + 1))
        np.subtract(X, self.mean, out=self.Xa[:, :d])
        self.Xa[:, :d] /= self.std
        self.Xa[:, d] = 1.0
        self.pen = np.zeros((d + 1, n_outputs))
        self.pen[:d] = (alpha / self.std ** 2)[:, None]
        self.single = n_outputs == 1 and np.ndim(y) == 1
        self.y, self.sample_weight = y, sample_weight
        self._last_vg = self._last_h = self._curvature = None
        # the hessian diagonal is the whole hessian: Gram matrices of X weighted by it
        self.elementwise = loss.info.hessian == "exact" and loss.info.hvp

    def B(self, theta):
        return theta.reshape(self.d + 1, self.m)

    def scores(self, theta):
        z = self.Xa @ self.B(theta)
        return z[:, 0] if self.single else z

    def _kept(self, slot, compute, theta):
        """``compute(theta)``, kept in ``slot`` for the next call at the same theta (SciPy and
        the line search ask twice)."""
        kept = getattr(self, slot)
        if kept is not None and np.array_equal(kept[0], theta):
            return kept[1]
        out = compute(theta)
        setattr(self, slot, (theta.copy(), out))
        return out

    def value_and_grad(self, theta):
        return self._kept("_last_vg", self._value_and_grad, theta)

    def _value_and_grad(self, theta):
        B = self.B(theta)
        z = self.scores(theta)
        if self.head == "identity":
            if self.elementwise:  # one pass gives the hessian the next Newton step needs
                value, (g,), (h,) = self.prepared.evaluate((z,), 2)
                self._curvature = (theta.copy(), np.reshape(h, (self.n, self.m)))
            else:
                value, g = self.prepared.value_and_gradient(z)
            g = np.reshape(g, (self.n, self.m))
        else:
            from ..models import Linear

            model = Linear(self.d + 1, self.m, output=self.head)
            params = {"W": B, "b": np.zeros(self.m)}
            value, grads = model.value_and_grad(self.prepared, self.Xa, params=params,
                                                check_input=False)
            return float(value) + 0.5 * float(np.sum(self.pen * B * B)), \
                grads["W"].ravel() + (self.pen * B).ravel()
        grad = self.Xa.T @ g + self.pen * B
        return float(value) + 0.5 * float(np.sum(self.pen * B * B)), grad.ravel()

    def hessian(self, theta):
        return self._kept("_last_h", self._hessian, theta)

    def _hessian(self, theta):
        z = self.scores(theta)
        n, m, p = self.n, self.m, self.d + 1
        Xa = self.Xa
        H = np.zeros((p, m, p, m))
        if self.elementwise:  # one Gram matrix per output
            if self._curvature is not None and np.array_equal(self._curvature[0], theta):
                h = self._curvature[1]
            else:
                h = np.reshape(self.prepared.hessian(z), (n, m))
            for k in range(m):
                H[:, k, :, k] = Xa.T @ (Xa * h[:, k:k + 1])
        else:  # the per-sample blocks from m exact Hessian-vector products
            blocks = np.empty((n, m, m))
            for k in range(m):
                e = np.zeros((n, m))
                e[:, k] = 1.0
                blocks[:, :, k] = np.reshape(self.prepared.hvp(z, v=e), (n, m))
            pairs = [(k, j) for k in range(m) for j in range(k, m)]
            weights = np.stack([blocks[:, k, j] for k, j in pairs], axis=1)  # (n, pairs)
            grams = np.zeros((p, p, len(pairs)))
            # all Gram matrices X^T diag(w) X from wide products, a block of rows at a time:
            # one GEMM of width p * pairs runs several times faster than one per pair
            rows = max(1, (1 << 21) // (p * len(pairs)))
            for lo in range(0, n, rows):
                Xc = Xa[lo:lo + rows]
                right = (Xc[:, :, None] * weights[lo:lo + rows, None, :]).reshape(len(Xc), -1)
                grams += (Xc.T @ right).reshape(p, p, len(pairs))
            for i, (k, j) in enumerate(pairs):
                H[:, k, :, j] = grams[:, :, i]
                if j != k:
                    H[:, j, :, k] = grams[:, :, i].T
        H = H.reshape(p * m, p * m)
        H[np.diag_indices_from(H)] += self.pen.ravel()
        return H

    def to_user(self, theta):
        B = self.B(theta)
        W = B[:self.d] / self.std[:, None]
        b = B[self.d] - self.mean @ W
        return W, b

    def start(self):
        """Zero weights and the optimal constant as intercept, where the loss has one."""
        theta = np.zeros((self.d + 1) * self.m)
        if self.head != "identity":
            return theta
        try:
            c = self.loss.init_score(self.y, self.sample_weight,
                                     **({"n_classes": self.m}
                                        if self.loss.shape_rule == "class_index" else {}))
        except (ValueError, TypeError):
            return theta
        theta.reshape(self.d + 1, self.m)[self.d] = np.ravel(c)
        return theta


def fit_linear(loss, X, y, *, sample_weight=None, alpha: float = 0.0, n_outputs=None,
               head: str = "identity", solver: str = "auto", max_iter=None, tol: float = 1e-10,
               scale: bool = True) -> LinearFit:
    """Minimise ``J`` (module docstring) for a linear model: ``X`` (n, d), targets ``y`` as the
    loss takes them, ``n_outputs`` scores per sample (default: 1 for 1-D targets, else the
    targets' columns). ``solver``: ``"auto"`` (``solver_for``), ``"newton"``, ``"lbfgs"`` or
    ``"lp"``. ``tol``: the relative accuracy of J at which Newton and L-BFGS stop (see ``_solve_smooth``);
    ``max_iter`` bounds the iterations."""
    X = V.check_X(X)
    alpha = V.check_scalar(alpha, "alpha", ge=0)
    tol = V.check_scalar(tol, "tol", gt=0)
    V.check_choice(solver, "solver", ("auto",) + SOLVERS)
    V.check_choice(head, "head", ("identity", "sigmoid", "softmax"))
    if n_outputs is None:
        n_outputs = 1 if np.ndim(y) == 1 else np.shape(y)[1]
    chosen = solver_for(loss, head) if solver == "auto" else solver
    if solver == "auto" and chosen == "newton" and (X.shape[1] + 1) * n_outputs > MAX_NEWTON:
        chosen = "lbfgs"  # a dense hessian of more than MAX_NEWTON**2 entries: quasi-Newton
    if chosen == "lp" and (head != "identity" or lp_form(loss) is None):
        raise ValueError(f"solver='lp' solves piecewise-linear losses on raw scores "
                         f"({', '.join(LP_LOSSES)}, multi_margin with p=1); {loss.name} "
                         f"{'with these settings ' if loss.name in LP_LOSSES else ''}is not one")
    if chosen == "newton" and lp_form(loss) is not None:
        raise ValueError(f"{loss.name} is piecewise linear: its hessian is 0 wherever it "
                         "exists, so Newton cannot move; use solver='lp'")
    if chosen == "newton" and (head != "identity" or not loss.info.hvp):
        raise ValueError(f"solver='newton' needs the exact hessian of the loss on raw scores; "
                         f"{loss.name} has a {loss.info.hessian} hessian"
                         + (f" behind a {head} head" if head != "identity" else "")
                         + ": use solver='lbfgs'")
    if max_iter is None:
        max_iter = _DEFAULT_MAX_ITER[chosen]
    elif chosen != "lp":
        max_iter = V.check_scalar(max_iter, "max_iter", ge=1, integer=True)
    problem = _Problem(loss, X, y, sample_weight, alpha, n_outputs, head, scale)
    if chosen == "lp":
        theta, n_iter, converged, message = solve_lp(problem, loss, y, sample_weight, alpha,
                                                     max_iter)
    else:
        theta, n_iter, converged, message = _solve_smooth(problem, chosen, max_iter, tol)
    W, b = problem.to_user(theta)
    if n_outputs > 1 and loss.shape_rule in ("class_index", "rows") and _shift_invariant(problem,
                                                                                       theta):
        # softmax-type losses see only differences of scores: of the equivalent solutions the
        # one whose scores sum to 0 over the classes is reported (the minimum-norm one)
        W = W - W.mean(axis=1, keepdims=True)
        b = b - b.mean()
    value = linear_objective(loss, X, y, W, b, sample_weight=sample_weight, alpha=alpha,
                             head=head)
    return LinearFit(W, b, value, int(n_iter), bool(converged), chosen, message)


def _solve_smooth(problem, solver, max_iter, tol):
    """Newton or L-BFGS-B (SciPy). See ``_newton``; L-BFGS stops when its relative progress
    per step falls below ``tol`` or the gradient vanishes."""
    theta0 = problem.start()
    if solver == "newton":
        return _newton(problem, theta0, max_iter, tol)
    from scipy.optimize import minimize

    with np.errstate(over="ignore"):
        res = minimize(problem.value_and_grad, theta0, jac=True, method="L-BFGS-B",
                       options={"gtol": 1e-12, "ftol": tol, "maxiter": max_iter, "maxcor": 30,
                                "maxls": 50})
    return res.x, res.nit, res.status == 0, f"L-BFGS-B after {res.nit} iterations: {res.message}"


STEP_TOL = 1e-8  # about sqrt(eps): one more Newton step then leaves an error near rounding


def _newton(problem, theta, max_iter, tol):
    """Newton's method with the exact hessian and a backtracking (Armijo) line search.

    The step is the minimum-norm solution of ``H s = -g`` (least squares through the SVD), so a
    singular hessian (unpenalised softmax, fewer samples than features) moves only where the
    objective curves, and the fit does not depend on the path: weighted and repeated samples
    give the same coefficients. Where ``g`` is not in the range of ``H`` (Huber with residuals in
    its linear part) the step is damped, ``(H + mu I) s = -g``, with mu growing until the line
    search succeeds (Levenberg-Marquardt). It stops when one more Newton step would lower J by at
    most ``tol * |J|`` (half the squared Newton decrement ``g^T H^+ g``; floored at 1e-12 of the
    starting J, since a perfect fit has J = 0) and that step, taken, was at most ``STEP_TOL``
    of the coefficients (in the standardised coordinates): a test on the gradient's norm alone
    stops early on flat problems (iris: 2e-7 above the optimum at a gradient norm of 8e-9), and
    the decrement alone on ill-conditioned ones (statsmodels' star98 binomial table: 3
    iterations, coefficients 2e-9 from the optimum).
    """
    f, g = problem.value_and_grad(theta)
    floor = 1e-12 * abs(f)
    # rounding leaves a part of g outside the range of a singular H (softmax's shift): parts
    # below 1e-11 of the starting gradient count as rounding
    noise = 1e-11 * float(np.linalg.norm(g))
    dec = np.inf
    for it in range(max_iter + 1):
        H = problem.hessian(theta)
        step = -np.linalg.lstsq(H, g, rcond=1e-13)[0]
        in_range = np.linalg.norm(H @ step + g) <= max(1e-8 * np.linalg.norm(g), noise, 1e-300)
        dec = 0.5 * float(-g @ step) if in_range else np.inf
        if dec <= tol * max(abs(f), floor, 1e-300):
            # J is exact to tol; the coefficients may not be (an ill-conditioned H lets J be
            # 1e-10 exact with coefficients 1e-9 off). The step is taken too, and Newton
            # converging quadratically, it makes them exact to rounding once it is itself below
            # STEP_TOL of the coefficients; a longer step is taken and the loop goes on.
            try:
                f_new, g_new = problem.value_and_grad(theta + step)
            except (ValueError, FloatingPointError):
                f_new = np.inf
            small = np.linalg.norm(step) <= STEP_TOL * max(np.linalg.norm(theta), 1.0)
            if f_new <= f:
                theta, f, g = theta + step, f_new, g_new
            if small or not f_new <= f or it == max_iter:
                return theta, it, True, (f"Newton: predicted further decrease {dec:.3g} "
                                         f"<= tol x |J| after {it} iterations, last step "
                                         f"{np.linalg.norm(step):.3g}")
            continue
        if it == max_iter:
            break
        mu = 0.0 if in_range else 1e-8 * max(float(np.max(np.abs(np.diag(H)))), 1e-300)
        accepted = False
        for _ in range(60):
            if mu:
                step = -np.linalg.solve(H + mu * np.eye(H.shape[0]), g)
            slope = float(g @ step)
            t = 1.0
            while t > 1e-12 and slope < 0:
                candidate = theta + t * step
                try:
                    with np.errstate(over="ignore", invalid="ignore"):
                        f_new, g_new = problem.value_and_grad(candidate)
                except (ValueError, FloatingPointError):
                    f_new = np.inf
                if np.isfinite(f_new) and f_new <= f + 1e-4 * t * slope:
                    accepted = True
                    break
                t *= 0.5
            if accepted:
                break
            mu = max(10.0 * mu, 1e-8 * max(float(np.max(np.abs(np.diag(H)))), 1.0))
        if not accepted:
            return theta, it, False, (f"Newton: no step lowers J any more (predicted decrease "
                                      f"{dec:.3g}) after {it} iterations")
        theta, f, g = candidate, f_new, g_new
    return theta, max_iter, False, (f"Newton: predicted further decrease {dec:.3g} after "
                                    f"{max_iter} iterations")


def _shift_invariant(problem, theta):
    """Whether adding one number to every class score leaves the loss unchanged (softmax
    cross-entropy, poly1, multi_margin), measured on the fitted scores."""
    z = problem.scores(theta)
    shift = 10.0 * (1.0 + float(np.max(np.abs(z))))  # large: a hinge's kink at 0 is passed
    try:
        a = float(problem.prepared.value(z))
        shifted = [float(problem.prepared.value(z + s)) for s in (1.0, shift, -shift)]
    except (ValueError, FloatingPointError):
        return False
    return all(abs(a - b) <= 1e-12 * max(abs(a), 1e-300) for b in shifted)
