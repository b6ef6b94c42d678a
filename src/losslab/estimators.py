"""scikit-learn estimators that train with any losslab loss: ``LossRegressor`` and
``LossClassifier`` (linear models, or MLPs with ``hidden_layer_sizes``), and
``LossGBMRegressor`` / ``LossGBMClassifier`` (LightGBM trees on the loss's gradient and hessian).

They follow scikit-learn's API (``fit``, ``predict``, ``score``, ``sample_weight``, ``get_params``),
work in pipelines, grid searches and cross-validation, and pass ``parametrize_with_checks``. This
module imports scikit-learn; ``import losslab`` does not import it.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import models as _models
from ._core import get as get_loss
from ._core import numerics as N
from ._core import names as loss_names
from .training import train

__all__ = ["LossRegressor", "LossClassifier", "LossGBMRegressor", "LossGBMClassifier"]


def _losses_for(tasks):
    out = []
    for n in loss_names():
        loss = get_loss(n)
        if loss.task in tasks and loss.info.single_input:
            out.append(n)
    return out


def _build_loss(est, default, tasks):
    """The estimator's loss: ``est.loss`` (or ``default``) with ``est.loss_params``, on logits
    where it can be, and of a task the estimator takes."""
    params = dict(est.loss_params or {})
    name = default if est.loss is None else est.loss
    if not isinstance(name, str):
        raise TypeError(f"loss must be a loss name, got {type(name).__name__}")
    loss_cls_params = get_loss(name).get_params()
    if "from_logits" in loss_cls_params:
        params.setdefault("from_logits", True)  # the model produces logits: stable
    loss = get_loss(name, **params)
    if loss.task not in tasks or not loss.info.single_input:
        raise ValueError(
            f"loss {name!r} is a {loss.task} loss; {type(est).__name__} takes "
            f"{' or '.join(tasks)} losses: {', '.join(_losses_for(tasks))}")
    return loss


def _classes(est, X, y, sample_weight):
    """Checked (X, y, weights) of a classifier's fit, its ``classes_`` set, and the class codes;
    at least two classes."""
    X, y = validate_data(est, X, y, dtype=np.float64)
    check_classification_targets(y)
    sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
    encoder = LabelEncoder().fit(y)
    est.classes_ = encoder.classes_
    if len(est.classes_) < 2:
        raise ValueError(f"{type(est).__name__} needs samples of at least 2 classes in the data, "
                         f"but the data contains only one class: {est.classes_[0]!r}")
    return X, y, sample_weight, encoder.transform(y)


class SeparationWarning(UserWarning):
    """The training data are separable and the unpenalised loss has no optimum."""


def _infimum_at_infinity(loss, k) -> bool:
    """Whether the loss keeps falling as every training margin grows (cross-entropy, focal,
    logistic, exponential), measured on the loss: then separable data have no optimum. Margin
    losses (hinge) reach 0 at a finite margin, and label smoothing turns back up."""
    probabilities = getattr(loss, "from_logits", True) is False  # a sigmoid/softmax head

    def at(z):  # the loss of one row whose true class leads every other by the margin z
        if loss.task == "binary":
            out = np.full(1, z)
            return float(loss(np.ones(1), N.sigmoid(np, out) if probabilities else out))
        out = np.eye(1, k) * z
        out = N.softmax(np, out, axis=1) if probabilities else out
        target = np.zeros(1, dtype=np.int64) if loss.shape_rule == "class_index" else np.eye(1, k)
        return float(loss(target, out))

    try:
        low, high = at(10.0), at(20.0)
    except (ValueError, TypeError):  # a loss this check cannot evaluate: say nothing
        return False
    return 0.0 < high < low


def linearly_separable(X, y, sample_weight=None) -> bool:
    """Whether a linear model classifies every row (with a positive weight) correctly: an LP
    (HiGHS) for (W, b) with each row's class score at least 1 above every other class's (two
    classes: y (w.x + b) >= 1), feasible exactly when the classes are linearly separable. Then
    cross-entropy-like losses without a penalty have no optimum (it lies at infinity)."""
    X = np.asarray(X, dtype=np.float64)
    classes, codes = np.unique(np.asarray(y), return_inverse=True)
    active = np.ones(len(codes), dtype=bool) if sample_weight is None else \
        np.asarray(sample_weight, dtype=np.float64) > 0
    return _separating_hyperplane_exists(X, codes, len(classes), active)


def _separating_hyperplane_exists(X, codes, k, active) -> bool:
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    X, codes = X[active], codes[active]
    n, d = X.shape
    Xb = np.column_stack([X, np.ones(n)])
    if k == 2:
        s = np.where(codes == 1, 1.0, -1.0)
        A = -(s[:, None] * Xb)
        res = linprog(np.zeros(d + 1), A_ub=A, b_ub=-np.ones(n), bounds=(None, None),
                      method="highs")
        return res.status == 0
    rows, cols, vals = [], [], []
    r = 0
    for i in range(n):
        for j in range(k):
            if j == codes[i]:
                continue
            for c, sign in ((codes[i], -1.0), (j, 1.0)):  # -(score_yi - score_j) <= -1
                rows += [r] * (d + 1)
                cols += list(range(c * (d + 1), (c + 1) * (d + 1)))
                vals += list(sign * Xb[i])
            r += 1
    A = coo_matrix((vals, (rows, cols)), shape=(r, k * (d + 1))).tocsr()
    res = linprog(np.zeros(k * (d + 1)), A_ub=A, b_ub=-np.ones(r), bounds=(None, None),
                  method="highs")
    return res.status == 0


def _warn_if_separable(est, loss, X, codes, sample_weight, k, one_vs_rest):
    """With alpha=0: warn when the training rows are separable and the loss's optimum lies at
    infinity, so that the coefficients are wherever the solver stopped (detected: the fitted
    model separates the rows, or an LP finds a hyperplane that does)."""
    if one_vs_rest or not _infimum_at_infinity(loss, k):
        return
    active = sample_weight > 0
    scores = est.decision_function(X)
    if scores.ndim == 1:
        sep = np.all(np.where(codes == 1, scores, -scores)[active] > 0)
    else:
        true = scores[np.arange(len(codes)), codes]
        other = np.where(np.eye(k, dtype=bool)[codes], -np.inf, scores).max(axis=1)
        sep = np.all((true - other)[active] > 0)
    how = "the fitted model classifies every training row correctly"
    if not sep and int(active.sum()) * (k - 1) <= 200_000:
        sep = _separating_hyperplane_exists(X, codes, k, active)
        how = "a linear programme finds a hyperplane that classifies every training row"
    if not sep:
        return
    big = float(np.max(np.abs(est.coef_))) if np.size(est.coef_) else 0.0
    warnings.warn(f"{type(est).__name__}(alpha=0): the training data are linearly separable "
                  f"({how}), so {loss.name}'s optimum lies at infinity: the coefficients (largest "
                  f"|coef| {big:.3g}) are where the solver stopped, and probabilities go to 0 and "
                  "1. Use a penalty: alpha='auto' (the default, 1/n: LogisticRegression's C=1) "
                  "or any alpha > 0", SeparationWarning, stacklevel=3)


def _models_probabilities(est):
    """Whether the estimator's loss models probabilities (it has ``from_logits``)."""
    name = "bce" if est.loss is None else est.loss
    return hasattr(get_loss(name), "from_logits")


_EXACT = ("newton", "lbfgs", "lp")
_FIRST_ORDER_MAX_ITER = 200
_FIRST_ORDER_TOL = 1e-6
_EXACT_TOL = 1e-10


class _LossEstimator(BaseEstimator):
    """Shared fitting: build the loss and the model; solve a linear model exactly, or train."""

    _tasks: tuple = ()

    def _make_loss(self, default):
        return _build_loss(self, default, self._tasks)

    def _solver(self):
        """The solver this fit uses: an exact one for linear models, else a first-order one."""
        from .optim import names as optimizer_names

        first_order = tuple(optimizer_names())
        solver = self.solver
        if solver not in ("auto",) + _EXACT + first_order:
            raise ValueError(f"solver must be 'auto', one of the exact solvers "
                             f"{', '.join(_EXACT)} (linear models), or a first-order optimiser "
                             f"({', '.join(first_order)}); got {solver!r}")
        if self.hidden_layer_sizes:
            if solver in _EXACT:
                raise ValueError(f"solver={solver!r} solves linear models; an MLP "
                                 "(hidden_layer_sizes) trains with a first-order optimiser: "
                                 f"{', '.join(first_order)}")
            return "adam" if solver == "auto" else solver
        if self.early_stopping and solver in ("auto",) + _EXACT:
            return "adam" if solver == "auto" else solver  # validated below
        return solver

    def _build_model(self, n_features, n_outputs, task, seed):
        if self.hidden_layer_sizes:
            return _models.MLP(n_features, self.hidden_layer_sizes, n_outputs,
                               activation=self.activation, residual=self.residual, task=task,
                               seed=seed)
        if task == "binary":
            return _models.Logistic(n_features, seed=seed)
        if task == "multiclass":
            return _models.Softmax(n_features, n_outputs, seed=seed)
        return _models.Linear(n_features, n_outputs, seed=seed)

    def _fit(self, loss, X, y, sample_weight, n_outputs, task):
        rng = check_random_state(self.random_state)
        model = self._build_model(X.shape[1], n_outputs, task,
                                  int(rng.randint(np.iinfo(np.int32).max)))
        solver = self._solver()
        if self.early_stopping and solver in _EXACT:
            raise ValueError("early_stopping holds out data for a first-order optimiser; an exact "
                             f"solver ({solver!r}) reaches the optimum of the training objective")
        self.loss_ = loss
        self.model_ = model
        self.alpha_ = self._alpha(sample_weight, loss, n_outputs)
        if solver in _EXACT or solver == "auto":
            self._solve(model, loss, X, y, sample_weight, n_outputs, solver)
        else:
            self._train(model, loss, X, y, sample_weight, rng, solver)
        if isinstance(model, _models.Linear):
            self.coef_ = model.params["W"].T.copy()
            self.intercept_ = model.params["b"].copy()
            if model.n_outputs == 1:
                self.coef_, self.intercept_ = self.coef_[0], float(self.intercept_[0])

    def _alpha(self, sample_weight, loss, n_outputs):
        """The L2 strength of this fit: ``alpha``, or for ``"auto"``: 1 / sum(sample_weight)
        (1/n unweighted) where the loss's optimum can lie at infinity (cross-entropy, focal,
        logistic, exponential: ``_infimum_at_infinity``), which is scikit-learn's
        ``LogisticRegression(C=1)`` (its objective C sum(w l) + ||W||^2 / 2, divided by
        C sum(w), is losslab's weighted mean loss plus alpha / 2 ||W||^2 with
        alpha = 1 / (C sum(w))); 0 for losses whose optimum is finite (margin losses reach 0 at
        a finite margin, regression losses), which stay exact linear programmes or Newton."""
        if isinstance(self.alpha, str):
            if self.alpha != "auto":
                raise ValueError(f"alpha must be a number >= 0 or 'auto', got {self.alpha!r}")
            if self._tasks == ("regression",) or \
                    not _infimum_at_infinity(loss, max(int(n_outputs), 2)):
                return 0.0
            return 1.0 / float(np.sum(sample_weight))
        alpha = float(self.alpha)
        if not np.isfinite(alpha) or alpha < 0:
            raise ValueError(f"alpha must be a finite number >= 0 or 'auto', got {self.alpha!r}")
        return alpha

    def _solve(self, model, loss, X, y, sample_weight, n_outputs, solver):
        from .solvers import fit_linear

        tol = _EXACT_TOL if self.tol is None else self.tol
        head = _models.head_for(loss, n_outputs)
        fit = fit_linear(loss, X, y, sample_weight=sample_weight, alpha=self.alpha_,
                         n_outputs=n_outputs, head=head, solver=solver, max_iter=self.max_iter,
                         tol=tol)
        model.params["W"] = fit.coef
        model.params["b"] = fit.intercept
        self.solver_, self.n_iter_, self.objective_ = fit.solver, fit.n_iter, fit.objective
        self.history_ = None
        if not fit.converged:
            warnings.warn(f"{type(self).__name__}: the {fit.solver} solver stopped before "
                          f"reaching tol={tol:g} ({fit.message}); raise max_iter",
                          ConvergenceWarning, stacklevel=4)

    def _train(self, model, loss, X, y, sample_weight, rng, solver):
        seed = int(rng.randint(np.iinfo(np.int32).max))
        validation, w = None, sample_weight
        if self.early_stopping:
            idx = np.arange(X.shape[0])
            stratify = y if (getattr(self, "_stratify", False) and y.ndim == 1) else None
            tr, va = train_test_split(idx, test_size=self.validation_fraction, random_state=seed,
                                      stratify=stratify)
            validation = (X[va], y[va], sample_weight[va])
            X, y, w = X[tr], y[tr], sample_weight[tr]
        from .optim import get as get_optimizer

        max_iter = _FIRST_ORDER_MAX_ITER if self.max_iter is None else self.max_iter
        tol = _FIRST_ORDER_TOL if self.tol is None else self.tol
        opt = get_optimizer(solver, lr=self.learning_rate)
        self.history_ = train(model, loss, X, y, optimizer=opt, epochs=max_iter,
                              batch_size=self.batch_size, sample_weight=w,
                              validation_data=validation, early_stopping=self.early_stopping,
                              patience=self.patience, tol=None if self.early_stopping else tol,
                              l2=self.alpha_, seed=seed, progress=False)
        self.solver_, self.n_iter_ = solver, self.history_.epochs
        self.objective_ = float(self.history_.loss[-1])
        if not (self.history_.converged or self.history_.stopped_early):
            warnings.warn(f"{type(self).__name__}: {solver} ran all max_iter={max_iter} epochs "
                          f"without the cost settling (tol={tol:g})"
                          + ("" if self.hidden_layer_sizes else
                             "; solver='auto' solves a linear model to its optimum"),
                          ConvergenceWarning, stacklevel=4)


_COMMON_DOC = """
    Parameters
    ----------
    loss : a losslab loss name (``losslab.names()``).
    loss_params : dict of the loss's hyperparameters, e.g. ``{"delta": 2.0}``.
    hidden_layer_sizes : () for a linear model, else the widths of an MLP's hidden layers.
    activation, residual : the MLP's activation ("relu" or "tanh") and skip connections.
    solver : ``"auto"`` (the default): a linear model is solved to its optimum by the exact solver
        for its loss (``losslab.solvers.solver_for``: ``"newton"`` with the loss's exact hessian,
        ``"lp"`` (HiGHS) for piecewise-linear losses, ``"lbfgs"`` otherwise); an MLP trains with
        ``"adam"``. Or name one of those, or a first-order optimiser of ``losslab.optim``
        (``"sgd"``, ``"momentum"``, ``"adam"``, ...), which trains for ``max_iter`` epochs.
    learning_rate, batch_size : the first-order optimiser's learning rate and batch
        (``None``: all samples each step).
    max_iter : the solver's iteration limit (``None``: 100 Newton iterations, 2000 L-BFGS
        iterations, no limit for HiGHS, 200 epochs for a first-order optimiser).
    alpha : L2 penalty on the weights (not the biases): alpha / 2 * ||W||^2 added to the
        (weighted) mean loss. The regressor's default is 0 (least squares, Huber, ... exactly);
        the classifier's is ``"auto"``: for losses whose optimum can lie at infinity
        (cross-entropy, focal, logistic, exponential: without a penalty, data that a hyperplane
        separates have no optimum) 1 / sum(sample_weight), i.e. 1/n, which is scikit-learn's
        ``LogisticRegression(C=1)``; for margin losses (hinge, ...), whose optimum is finite, 0:
        they stay exact linear programmes. ``LossClassifier(alpha=0)`` with a loss of the first
        kind detects separable data (the fitted model, or a linear programme, exhibits the
        separating hyperplane) and warns (``SeparationWarning``).
    tol : exact solvers stop when J is exact to ``tol`` relative (``None``: 1e-10); first-order
        ones when the training cost has not improved by tol * max(1, |J|) for ``patience``
        epochs (``None``: 1e-6). A solver that stops first raises ``ConvergenceWarning``.
    early_stopping, validation_fraction : (first-order solvers) hold out this fraction and stop on
        its loss instead, keeping the best epoch's parameters.
    random_state : seeds the initial weights, the shuffling and the validation split.

    Attributes
    ----------
    model_ : the fitted ``losslab.models`` model; loss_ : the loss; alpha_ : the penalty used
    (``"auto"`` resolved); solver_ : the solver used;
    n_iter_ : its iterations (epochs for a first-order optimiser); objective_ : the training
    objective J at the solution; history_ : the first-order ``History`` (None for exact
    solvers); coef_, intercept_ : for linear models, on the user's feature scale;
    n_features_in_.
"""


class LossRegressor(RegressorMixin, _LossEstimator):
    """A regressor trained with any losslab regression loss (``mse``, ``huber``, ``quantile``, ...).

    ``predict`` returns the model's output, or exp of it for losses on a log-rate
    (``poisson_nll``). ``score`` is R^2 (scikit-learn's).
    """ + _COMMON_DOC

    _tasks = ("regression",)

    def __init__(self, loss="mse", *, loss_params=None, hidden_layer_sizes=(), activation="relu",
                 residual=False, solver="auto", learning_rate=0.01, max_iter=None,
                 batch_size=None, alpha=0.0, tol=None, patience=10, early_stopping=False,
                 validation_fraction=0.1, random_state=None):
        self.loss = loss
        self.loss_params = loss_params
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.residual = residual
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.alpha = alpha
        self.tol = tol
        self.patience = patience
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None):
        X, y = validate_data(self, X, y, y_numeric=True, multi_output=True, dtype=np.float64)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        loss = self._make_loss("mse")
        self._y_ndim = y.ndim
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        self._fit(loss, X, y, sample_weight, n_outputs, "regression")
        return self

    def predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        out = self.model_.forward(X, loss=self.loss_)
        if self.loss_.info.activation.startswith("exp"):
            out = np.exp(out)
        return out[:, None] if self._y_ndim == 2 and out.ndim == 1 else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        try:
            domain = self._make_loss("mse").info.domains["y_true"]
        except (TypeError, ValueError):
            domain = None
        # Losses of counts or logs (poisson_nll, msle) take targets above a bound.
        tags.target_tags.positive_only = getattr(domain, "low", None) is not None
        return tags


class LossClassifier(ClassifierMixin, _LossEstimator):
    """A classifier trained with any losslab classification loss (``bce``, ``focal``, ``hinge``,
    ``cce``, ``categorical_focal``, ``poly1``, ...).

    ``loss=None`` is cross-entropy: ``bce`` for two classes, ``sparse_cce`` for more. A binary loss
    on more than two classes trains one-vs-rest: one score per class, each against "this class or
    not". Losses that take ``from_logits`` are
    trained on logits (``from_logits=True`` unless ``loss_params`` says otherwise).
    ``decision_function`` returns the raw scores (logits or margins; for two classes one score,
    positive for ``classes_[1]``, as scikit-learn); ``predict_proba`` exists for
    losses that model probabilities (cross-entropy, focal, poly1, KL), as sigmoid or softmax of
    the scores. ``score`` is accuracy.
    """ + _COMMON_DOC

    _tasks = ("binary", "multiclass")
    _stratify = True

    def __init__(self, loss=None, *, loss_params=None, hidden_layer_sizes=(), activation="relu",
                 residual=False, solver="auto", learning_rate=0.01, max_iter=None,
                 batch_size=None, alpha="auto", tol=None, patience=10, early_stopping=False,
                 validation_fraction=0.1, random_state=None):
        self.loss = loss
        self.loss_params = loss_params
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.residual = residual
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.alpha = alpha
        self.tol = tol
        self.patience = patience
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None):
        X, y, sample_weight, codes = _classes(self, X, y, sample_weight)
        k = len(self.classes_)
        loss = self._make_loss("bce" if k == 2 else "sparse_cce")
        self._one_vs_rest = loss.task == "binary" and k > 2
        if self._one_vs_rest:
            # One score per class, each trained with the binary loss against "this class or not":
            # the loss applied elementwise to (n, k) scores and one-hot targets is one-vs-rest.
            target, n_outputs, task = np.eye(k)[codes], k, "multiclass"
        elif loss.task == "binary":
            target, n_outputs, task = codes.astype(np.float64), 1, "binary"
        else:
            n_outputs, task = k, "multiclass"
            target = codes if loss.shape_rule == "class_index" else np.eye(k)[codes]
        self._fit(loss, X, target, sample_weight, n_outputs, task)
        if self.alpha_ == 0.0 and not self.hidden_layer_sizes:
            _warn_if_separable(self, loss, X, codes, sample_weight, k, self._one_vs_rest)
        return self

    def decision_function(self, X):
        """Raw scores: shape (n,) for a binary loss (positive class = ``classes_[1]``), else (n, k)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        scores = self.model_.scores(X)
        if scores.ndim == 2 and scores.shape[1] == 2:
            return scores[:, 1] - scores[:, 0]  # two classes: one score, as scikit-learn
        return scores

    def predict(self, X):
        scores = self.decision_function(X)
        idx = (scores > 0).astype(np.int64) if scores.ndim == 1 else np.argmax(scores, axis=1)
        return self.classes_[idx]

    def _models_probabilities(self):
        return _models_probabilities(self)

    @available_if(_models_probabilities)
    def predict_proba(self, X):
        """Class probabilities, shape (n, k): sigmoid (binary) or softmax of the scores."""
        check_is_fitted(self)
        scores = self.model_.scores(validate_data(self, X, reset=False, dtype=np.float64))
        if scores.ndim == 1 or self._one_vs_rest:
            p = N.sigmoid(np, scores)
            if scores.ndim == 1:
                return np.column_stack([1.0 - p, p])
            return p / p.sum(axis=1, keepdims=True)  # one-vs-rest, normalised (as scikit-learn)
        return N.softmax(np, scores, axis=1)

    @available_if(_models_probabilities)
    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))


# ---------------------------------------------------------------------------------------------
# gradient-boosted trees (LightGBM) trained with a losslab loss
# ---------------------------------------------------------------------------------------------


class _LossGBM(BaseEstimator):
    """Shared fitting of LightGBM with ``loss.as_lightgbm_objective()``, started at the loss's
    optimal constant (``init_score``), so that a loss with a built-in counterpart starts where
    the built-in does."""

    _tasks: tuple = ()

    def __init__(self, loss=None, *, loss_params=None, n_estimators=100, learning_rate=0.1,
                 num_leaves=15, min_child_samples=20, hessian="exact", n_jobs=1,
                 random_state=None):
        self.loss = loss
        self.loss_params = loss_params
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.hessian = hessian
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _make_loss(self, default):
        return _build_loss(self, default, self._tasks)

    def _boost(self, loss, X, y, sample_weight, n_classes=None):
        from ._extras import require

        lgb = require("lightgbm", type(self).__name__)
        obj = loss.as_lightgbm_objective(hessian=self.hessian)
        try:
            start = obj.init_score(y, sample_weight)
        except ValueError:  # no finite optimal constant (e.g. a class without samples)
            start = np.zeros((len(y), n_classes) if n_classes else len(y))
        params = {"objective": obj, "learning_rate": self.learning_rate,
                  "num_leaves": self.num_leaves, "min_child_samples": self.min_child_samples,
                  "verbose": -1, "num_threads": self.n_jobs, "deterministic": True,
                  "seed": 0 if self.random_state is None else int(self.random_state)}
        if n_classes:
            params["num_class"] = n_classes
        self.init_score_ = np.asarray(start[0], dtype=np.float64)
        self.loss_ = loss
        self.booster_, self.n_iter_ = None, 0
        if not splittable(X, self.min_child_samples):
            # LightGBM's built-in objectives stop with no split here; a custom objective makes it
            # abort ("Check failed: num_features() > 0"). Do what the built-ins do, and say so.
            warnings.warn(f"{type(self).__name__}: no feature of the {len(X)} rows can be split "
                          f"with min_child_samples={self.min_child_samples} rows on each side, so "
                          "no tree can grow: the model is the loss's optimal constant (as "
                          "LightGBM's built-in objectives give); lower min_child_samples or add "
                          "rows", UserWarning, stacklevel=3)
            return
        data = lgb.Dataset(X, label=y, weight=sample_weight, init_score=start)
        self.booster_ = lgb.train(params, data, num_boost_round=self.n_estimators)
        self.n_iter_ = self.n_estimators

    def _raw(self, X):
        check_is_fitted(self, "init_score_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        if self.booster_ is None:  # no split was possible: the optimal constant
            return np.broadcast_to(self.init_score_, (len(X),) + self.init_score_.shape).copy()
        return self.booster_.predict(X, raw_score=True) + self.init_score_


def splittable(X, min_child_samples: int) -> bool:
    """Whether some feature has a threshold with at least ``min_child_samples`` rows on each
    side (LightGBM's pre-filter keeps only such features; with none, no tree can grow)."""
    X = np.asarray(X)
    n, m = len(X), max(int(min_child_samples), 1)
    if n < 2 * m:
        return False
    xs = np.sort(X, axis=0)
    # a boundary between distinct values after the k-th row, m <= k <= n - m
    return bool(np.any(xs[m:n - m + 1] > xs[m - 1:n - m]))


_GBM_DOC = """
    Parameters
    ----------
    loss, loss_params : a losslab loss name (None: mse for the regressor, bce or sparse_cce for
        the classifier) and its hyperparameters.
    n_estimators, learning_rate, num_leaves, min_child_samples : LightGBM's boosting rounds,
        shrinkage, leaves per tree and samples per leaf.
    hessian : ``"exact"`` (losslab's) or ``"library"`` (the built-in objective's convention).
    n_jobs, random_state : LightGBM's threads and seed.
"""


class LossGBMRegressor(RegressorMixin, _LossGBM):
    """Gradient-boosted trees (LightGBM) fitted with any losslab regression loss that has a
    hessian; ``predict`` is the boosted score (exp of it for log-rate losses).""" + _GBM_DOC

    _tasks = ("regression",)


    def fit(self, X, y, sample_weight=None):
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        self._boost(self._make_loss("mse"), X, y, sample_weight)
        return self

    def predict(self, X):
        out = self._raw(X)
        return np.exp(out) if self.loss_.info.activation.startswith("exp") else out


class LossGBMClassifier(ClassifierMixin, _LossGBM):
    """Gradient-boosted trees (LightGBM) fitted with a losslab classification loss on margins:
    a binary loss for two classes (``bce`` by default), a class-index loss for more
    (``sparse_cce``, ``multi_margin``, ``poly1``). ``predict_proba`` exists for losses that model
    probabilities.""" + _GBM_DOC

    _tasks = ("binary", "multiclass")


    def fit(self, X, y, sample_weight=None):
        X, y, sample_weight, codes = _classes(self, X, y, sample_weight)
        k = len(self.classes_)
        loss = self._make_loss("bce" if k == 2 else "sparse_cce")
        if (loss.task == "binary") != (k == 2) or (k > 2 and loss.shape_rule != "class_index"):
            raise ValueError(f"LossGBMClassifier takes a binary loss for 2 classes and a "
                             f"class-index loss (sparse_cce, multi_margin, poly1) for more; "
                             f"{loss.name} on {k} classes is neither")
        self._boost(loss, X, codes.astype(np.float64) if k == 2 else codes, sample_weight,
                    None if k == 2 else k)
        return self

    def decision_function(self, X):
        return self._raw(X)

    def predict(self, X):
        s = self.decision_function(X)
        return self.classes_[(s > 0).astype(np.int64) if s.ndim == 1 else np.argmax(s, axis=1)]

    def _models_probabilities(self):
        return _models_probabilities(self)

    @available_if(_models_probabilities)
    def predict_proba(self, X):
        s = self.decision_function(X)
        if s.ndim == 1:
            p = N.sigmoid(np, s)
            return np.column_stack([1.0 - p, p])
        return N.softmax(np, s, axis=1)
