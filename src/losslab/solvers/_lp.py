"""Piecewise-linear losses solved exactly: the dual linear (or quadratic) programme, by HiGHS.

For one output, with sample coefficients ``c_i`` (1/n, or w_i / sum w), standardised features
``x_i`` (with a trailing 1 for the intercept) and the loss written as a maximum over a box,

* residual losses ``max(a_i r_i, -b_i r_i)``, r = y - x beta (``mae``: a = b = 1; ``quantile``:
  a = q, b = 1 - q; ``mape``: a = b = 100 / max(|y|, eps)): ``lambda_i`` in
  ``[-b_i c_i, a_i c_i]`` and target ``t_i = y_i``;
* the hinge ``max(0, 1 - y_i x_i beta)`` with y in {-1, +1}: ``lambda_i = y_i mu_i``,
  mu_i in ``[0, c_i]``, and target ``t_i = y_i``;

the problem ``min_beta sum_i max_lambda_i lambda_i (t_i - x_i beta)`` has the dual
``max t^T lambda  s.t.  X^T lambda = 0`` over the box: ``d + 1`` equality rows and one bounded
variable per sample (the primal form has ``2 n`` slacks and ``n`` rows). The coefficients are
the dual values of the equality rows (SciPy's ``linprog(method="highs")``). With the penalty
``sum_j pen_j / 2 W_j^2`` the problem is a quadratic programme, solved in its primal form
(``x_i beta + u_i - v_i = t_i``, costs ``hi_i u_i - lo_i v_i``) by ``highspy``, then made exact
on its active set (``_polish``): HiGHS's QP tolerances alone leave the objective about 1e-8
relative above the optimum. In both cases the intercept is then set to its exact minimiser
given the weights (a weighted quantile of the breakpoints). Outputs are independent
(the losses are elementwise), so each is one programme.
"""

from __future__ import annotations

import numpy as np

LP_LOSSES = ("mae", "quantile", "mape", "hinge", "categorical_hinge", "multi_margin")


def lp_form(loss):
    """(kind, slopes) of a piecewise-linear loss: ``("residual", (a, b))`` for
    ``max(a r, -b r)`` with r = y - z, or ``("margin", m)`` for ``max(0, m - y z)``; None for a
    loss that is not piecewise linear as configured."""
    p = loss.get_params()
    if loss.name == "mae":
        return "residual", (1.0, 1.0)
    if loss.name == "quantile":
        return "residual", (p["quantile"], 1.0 - p["quantile"])
    if loss.name == "mape":
        return "residual", "mape"
    if loss.name == "hinge":
        return "margin", 1.0
    if loss.name == "categorical_hinge" or (loss.name == "multi_margin" and p["p"] == 1):
        return "pieces", None
    return None


def solve_lp(problem, loss, y, sample_weight, alpha, max_iter):
    """theta (standardised, as ``_Problem`` lays it out), total iterations, converged, message."""
    kind, slopes = lp_form(loss)
    if kind == "pieces":
        return solve_pieces(problem, loss, y, alpha, max_iter)
    n, d, m = problem.n, problem.d, problem.m
    z0 = np.zeros((n,) if problem.single else (n, m))
    coef = np.reshape(np.asarray(problem.prepared.coefficients(z0), dtype=np.float64), (n, m))
    targets = np.reshape(np.asarray(y, dtype=np.float64), (n, m))
    B = np.zeros((d + 1, m))
    iterations, messages, ok = 0, [], True
    for k in range(m):
        t, c = targets[:, k], coef[:, k]
        if kind == "residual":
            if slopes == "mape":
                a = b = 100.0 / np.maximum(np.abs(t), loss.get_params()["eps"])
            else:
                a, b = slopes
            lo, hi = -b * c, a * c
        else:
            t = np.where(t == 0, -1.0, t)  # {0, 1} labels are {-1, +1}
            lo, hi = np.minimum(0.0, t * c), np.maximum(0.0, t * c)
        beta, nit, status = _solve_dual(problem.Xa, t, lo, hi, problem.pen[:d, k], alpha,
                                        max_iter)
        B[:, k] = beta
        iterations += nit
        ok = ok and status == "Optimal"
        messages.append(status)
    return B.ravel(), iterations, ok, "HiGHS: " + ", ".join(sorted(set(messages)))


def _solve_dual(Xa, t, lo, hi, pen, alpha, max_iter):
    """(beta, iterations, status) of one output: the dual LP by SciPy's HiGHS, or with a
    penalty the primal QP by highspy."""
    d = Xa.shape[1] - 1
    if alpha > 0 and d > 0:
        beta, nit, status = _primal_qp(Xa, t, lo, hi, pen, max_iter)
    else:
        from scipy.optimize import linprog

        options = {} if max_iter is None else {"maxiter": int(max_iter)}
        res = linprog(-t, A_eq=Xa.T, b_eq=np.zeros(Xa.shape[1]), bounds=np.column_stack([lo, hi]),
                      method="highs", options=options)
        status = "Optimal" if res.status == 0 else res.message
        eqlin = getattr(res, "eqlin", None)
        marginals = None if eqlin is None else getattr(eqlin, "marginals", None)
        marginals = None if marginals is None else np.asarray(marginals, dtype=np.float64)
        nit = int(getattr(res, "nit", 0) or 0)
        if marginals is None or marginals.shape != (Xa.shape[1],) or \
                not np.all(np.isfinite(marginals)):
            # stopped (max_iter) before HiGHS had a dual point: the weights stay at 0 and the
            # intercept at its exact minimiser; the estimator warns that the solver stopped
            beta = np.zeros(d + 1)
            beta[d] = _best_intercept(t, lo, hi)
            return beta, nit, status
        beta = -marginals  # the equality rows' duals
    beta[d] = _best_intercept(t - Xa[:, :d] @ beta[:d], lo, hi)
    return beta, nit, status


def _primal_qp(Xa, t, lo, hi, pen, max_iter):
    """min sum_i xi_i + sum_j pen_j / 2 W_j^2  s.t.  xi_i >= hi_i r_i, xi_i >= lo_i r_i,
    xi >= 0, r = t - X beta: the penalised problem (a QP with a diagonal hessian on the
    weights) by highspy, in epigraph form: one slack per sample, a row for each non-zero slope.
    (The form with a positive and a negative part per residual, u - v = r, left HiGHS's QP
    solver cycling on small separable hinge problems.)"""
    from scipy.sparse import coo_matrix

    n, p = Xa.shape
    n_cols = p + n
    # row for slope s of sample i: xi_i - s (t_i - x_i beta) >= 0  <=>  s x_i beta + xi_i >= s t_i
    side_rows = []
    for slope in (hi, lo):
        idx = np.flatnonzero(slope != 0)
        side_rows.append((idx, slope[idx]))
    idx = np.concatenate([r[0] for r in side_rows])
    slope = np.concatenate([r[1] for r in side_rows])
    m = idx.size
    rows = np.concatenate([np.repeat(np.arange(m), p), np.arange(m)])
    cols = np.concatenate([np.tile(np.arange(p), m), p + idx])
    vals = np.concatenate([(slope[:, None] * Xa[idx]).ravel(), np.ones(m)])
    A = coo_matrix((vals, (rows, cols)), shape=(m, n_cols))
    beta, nit, status = _weights_qp(A, np.concatenate([np.zeros(p), np.ones(n)]),
                                    slope * t[idx], np.full(m, np.inf), pen, p, max_iter)
    if beta.size != p or not np.all(np.isfinite(beta)):
        beta = np.zeros(p)
    beta, verified = _polish(Xa, t, lo, hi, pen, beta)
    if verified:  # the optimality conditions hold, whatever HiGHS's status says
        return beta, nit, "Optimal"
    # not verified: the form with u - v = r (better on some badly scaled problems), time-bound
    other, nit2, status2 = _primal_qp_split(Xa, t, lo, hi, pen, max_iter)
    if status2 == "Optimal" or _qp_objective(Xa, t, lo, hi, pen, other) < \
            _qp_objective(Xa, t, lo, hi, pen, beta):
        return other, nit + nit2, status2
    return beta, nit, status


QP_TIME_LIMIT = 60.0  # seconds


def _qp_objective(Xa, t, lo, hi, pen, b):
    res = t - Xa @ b
    return float(np.sum(np.maximum(hi * res, lo * res)) + 0.5 * np.sum(pen * b[:-1] * b[:-1]))


def _primal_qp_split(Xa, t, lo, hi, pen, max_iter):
    """min sum_i hi_i u_i - lo_i v_i + sum_j pen_j / 2 W_j^2  s.t.  x_i beta + u_i - v_i = t_i,
    u, v >= 0: the penalised problem (a QP with a diagonal hessian on the weights) by highspy."""
    from scipy.sparse import coo_matrix

    n, p = Xa.shape
    rows = np.concatenate([np.tile(np.arange(n), p), np.arange(n), np.arange(n)])
    cols = np.concatenate([np.repeat(np.arange(p), n), p + np.arange(n), p + n + np.arange(n)])
    vals = np.concatenate([Xa.T.ravel(), np.ones(n), -np.ones(n)])
    A = coo_matrix((vals, (rows, cols)), shape=(n, p + 2 * n))
    t = np.asarray(t, dtype=np.float64)
    beta, nit, status = _weights_qp(A, np.concatenate([np.zeros(p), hi, -lo]), t, t, pen, p,
                                    max_iter, time_limit=QP_TIME_LIMIT)  # it can cycle
    beta, verified = _polish(Xa, t, lo, hi, pen, beta)
    return beta, nit, "Optimal" if verified else status


def _weights_qp(A, cost, row_lower, row_upper, pen, p, max_iter, time_limit=None):
    """highspy on min cost.x + sum_j pen_j / 2 x_j^2 (the first p - 1 columns: the weights)
    subject to row_lower <= A x <= row_upper, the first p columns free and the others >= 0.
    Returns (x[:p], iterations, HiGHS's status)."""
    highspy = _highspy()
    A = A.tocsc()
    n_rows, n_cols = A.shape
    d = p - 1
    inf = highspy.kHighsInf
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    if max_iter is not None:
        h.setOptionValue("qp_iteration_limit", int(max_iter))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, n_rows
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_ = np.concatenate([np.full(p, -inf), np.zeros(n_cols - p)])
    lp.col_upper_ = np.full(n_cols, inf)
    lp.row_lower_ = np.asarray(row_lower, dtype=np.float64)
    lp.row_upper_ = np.where(np.isinf(row_upper), inf, np.asarray(row_upper, dtype=np.float64))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(np.float64)
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n_cols, n_rows
    h.passModel(lp)
    hess = highspy.HighsHessian()
    hess.dim_ = n_cols
    hess.format_ = highspy.HessianFormat.kTriangular
    hess.start_ = np.concatenate([np.arange(d + 1), np.full(n_cols - d, d)]).astype(np.int32)
    hess.index_ = np.arange(d, dtype=np.int32)
    hess.value_ = np.asarray(pen, dtype=np.float64)
    h.passHessian(hess)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    x = np.asarray(h.getSolution().col_value, dtype=np.float64)[:p].copy()
    if x.size != p or not np.all(np.isfinite(x)):
        x = np.zeros(p)
    return x, int(max(h.getInfo().qp_iteration_count, 0)), status


def _polish(Xa, t, lo, hi, pen, beta):
    """The exact solution on the QP's active set: the samples fitted exactly (S) keep r_i = 0
    and a free lambda_i; the others have lambda_i at the bound their residual's sign picks. The
    optimality conditions ``P beta = X_S^T lambda_S + X_N^T lambda_N`` and ``X_S beta = t_S``
    are one square linear system. Its solution is kept when it is consistent (lambda_S inside
    its box, the other residuals keep their signs) and not worse; otherwise the QP's.
    Returns (beta, verified): verified when the kept solution satisfies those optimality
    conditions (the problem is convex, so it is the optimum)."""
    n, p = Xa.shape
    d = p - 1
    r = t - Xa @ beta
    P = np.zeros(p)
    P[:d] = pen

    def objective(b):
        res = t - Xa @ b
        return float(np.sum(np.maximum(hi * res, lo * res)) + 0.5 * np.sum(P * b * b))

    # the active set read from the QP's residuals at a few thresholds; the system is solved by
    # least squares, since repeated rows (weights given as repetitions) make it singular: the
    # coefficients stay unique and the repeated rows' multipliers split evenly
    for tol in (1e-6, 1e-9, 1e-4):
        near = np.abs(r) <= tol * (1.0 + np.abs(t))
        S = np.flatnonzero(near)
        lam_n = np.where(r > 0, hi, lo)[~near]
        k = S.size
        A = np.zeros((p + k, p + k))
        A[:p, :p] = np.diag(P)
        A[:p, p:] = -Xa[S].T
        A[p:, :p] = Xa[S]
        rhs = np.concatenate([Xa[~near].T @ lam_n, t[S]])
        sol = np.linalg.lstsq(A, rhs, rcond=None)[0]
        if np.linalg.norm(A @ sol - rhs) > 1e-9 * (1.0 + np.linalg.norm(rhs)):
            continue  # the guessed active set admits no solution
        new, lam_s = sol[:p], sol[p:]
        r_new = t[~near] - Xa[~near] @ new
        slack = 1e-9 * (hi[S] - lo[S])
        ok = (np.all(lam_s >= lo[S] - slack) and np.all(lam_s <= hi[S] + slack)
              and np.all(np.sign(r_new) * np.sign(r[~near]) >= 0))
        if ok and objective(new) <= objective(beta) * (1 + 1e-12) + 1e-300:
            return new, True
    return beta, False


_BANNER_SHOWN = []


def _highspy():
    """highspy, its one-time banner (printed by the C++ library on first use) kept off stdout."""
    import highspy

    if not _BANNER_SHOWN:
        import os
        import sys

        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _BANNER_SHOWN.append(True)
    return highspy


def _best_intercept(breaks, lo, hi):
    """The exact minimiser over b of sum_i max_{lambda_i in [lo_i, hi_i]} lambda_i (e_i - b): a
    convex piecewise-linear function of b whose slope starts at -sum(hi) and rises by
    hi_i - lo_i at each breakpoint e_i, so its minimiser is a weighted quantile."""
    jump = hi - lo
    order = np.argsort(breaks, kind="stable")
    cum = np.cumsum(jump[order])
    k = int(np.searchsorted(cum, np.sum(hi) * (1 - 1e-15), side="left"))
    return float(breaks[order][min(k, breaks.size - 1)])


# ---------------------------------------------------------------------------------------------
# multiclass piecewise-linear losses: a primal LP over sums of maxima of affine pieces
# ---------------------------------------------------------------------------------------------


def _terms(loss, y, n_classes):
    """The loss of each sample as a sum of terms ``cost_j * max(0, max_r (const_r + a_r . z))``:
    (sample index, pieces a (T, R, K), constants (T, R), per-term factor) for every term."""
    n = y.shape[0]
    eye = np.eye(n_classes)
    if loss.name == "categorical_hinge":
        # Keras: max(0, max_c((1 - y_c) s_c) - sum_c y_c s_c + 1): one term, K pieces
        Y = np.asarray(y, dtype=np.float64)
        a = (1.0 - Y)[:, :, None] * eye[None, :, :] - Y[:, None, :]
        return np.arange(n), a, np.ones((n, n_classes)), np.ones(n)
    # multi_margin (p = 1): sum_{c != y} w_y max(0, margin - z_y + z_c) / C: K - 1 terms
    p = loss.get_params()
    labels = np.asarray(y).astype(np.int64)
    w = np.ones(n) if p["class_weight"] is None else np.asarray(p["class_weight"])[labels]
    rows, cls = np.nonzero(eye[labels] == 0)
    a = (eye[cls] - eye[labels[rows]])[:, None, :]
    return rows, a, np.full((rows.size, 1), p["margin"]), w[rows] / n_classes


def solve_pieces(problem, loss, y, alpha, max_iter):
    """min sum_j c_j f_j t_j + penalty  s.t.  t_j >= 0, t_j >= const + a . (x_i B): the exact
    optimum of categorical_hinge and multi_margin (p = 1) for a linear model with K outputs."""
    import scipy.sparse as sp

    n, d, K = problem.n, problem.d, problem.m
    p = d + 1
    coef = np.asarray(problem.prepared.coefficients(np.zeros((n, K))), dtype=np.float64)
    rows, a, const, factor = _terms(loss, y, K)
    T, R = a.shape[0], a.shape[1]
    cost_t = coef[rows] * factor
    # constraint (j, r): sum_k a_jrk x_i . B[:, k] - t_j <= -const_jr
    A = a.reshape(T * R, K)
    nz_row, nz_k = np.nonzero(A)
    sample = rows[nz_row // R]
    data = (A[nz_row, nz_k][:, None] * problem.Xa[sample]).ravel()
    row_idx = np.repeat(nz_row, p)
    col_idx = (np.arange(p)[None, :] * K + nz_k[:, None]).ravel()  # B.ravel() is (p, K) row-major
    n_b = p * K
    M = sp.csr_matrix((data, (row_idx, col_idx)), shape=(T * R, n_b))
    M = sp.hstack([M, -sp.csr_matrix((np.ones(T * R), (np.arange(T * R), np.repeat(np.arange(T), R))),
                                     shape=(T * R, T))], format="csr")
    c = np.concatenate([np.zeros(n_b), cost_t])
    b_ub = -const.ravel()
    if alpha > 0 and d > 0:
        x, nit, status = _qp_pieces(M, b_ub, c, problem.pen[:d].ravel(), n_b, max_iter)
        # (no active-set polish here: HiGHS's QP tolerance, about 1e-8 relative, stands)
    else:
        from scipy.optimize import linprog

        bounds = [(None, None)] * n_b + [(0, None)] * T
        options = {} if max_iter is None else {"maxiter": int(max_iter)}
        res = linprog(c, A_ub=M, b_ub=b_ub, bounds=bounds, method="highs", options=options)
        x = res.x if res.x is not None else np.zeros(n_b + T)
        nit, status = int(res.nit), "Optimal" if res.status == 0 else res.message
    return x[:n_b], nit, status == "Optimal", f"HiGHS: {status}"


def _qp_pieces(M, b_ub, c, pen, n_b, max_iter):
    """The same programme with the penalty on the weights' entries, by highspy."""
    highspy = _highspy()
    M = M.tocsc()
    n_rows, n_cols = M.shape
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    if max_iter is not None:
        h.setOptionValue("qp_iteration_limit", int(max_iter))
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, n_rows
    lp.col_cost_ = c
    lp.col_lower_ = np.concatenate([np.full(n_b, -inf), np.zeros(n_cols - n_b)])
    lp.col_upper_ = np.full(n_cols, inf)
    lp.row_lower_ = np.full(n_rows, -inf)
    lp.row_upper_ = b_ub
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = M.indptr.astype(np.int32)
    lp.a_matrix_.index_ = M.indices.astype(np.int32)
    lp.a_matrix_.value_ = M.data.astype(np.float64)
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n_cols, n_rows
    h.passModel(lp)
    diag = np.zeros(n_cols)
    diag[:pen.size] = pen  # pen is laid out as B[:d] (d, K) row-major: the weights' entries
    cols = np.flatnonzero(diag)
    hess = highspy.HighsHessian()
    hess.dim_ = n_cols
    hess.format_ = highspy.HessianFormat.kTriangular
    start = np.zeros(n_cols + 1, dtype=np.int32)
    start[1:] = np.cumsum(diag > 0)
    hess.start_ = start
    hess.index_ = cols.astype(np.int32)
    hess.value_ = diag[cols]
    h.passHessian(hess)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    x = np.asarray(h.getSolution().col_value, dtype=np.float64)
    return x, int(max(h.getInfo().qp_iteration_count, 0)), status
