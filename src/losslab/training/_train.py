"""``train``: fit a model with any loss and any optimiser, and keep the history.

Every run is reproducible: the model's parameters start from the model (its ``seed``), and the
order of the samples in each epoch comes from ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .._core import Loss
from .._core import get as get_loss
from .._core import validation as V
from .._io import progress as progress_bar
from ..models import Model, apply_head, head_for
from ..optim import get as get_optimizer
from . import _metrics as M

__all__ = ["train", "History", "DivergenceError", "check_targets"]


class DivergenceError(RuntimeError):
    """Training diverged. ``step`` is the update after which the cost (or the model's output)
    stopped being finite or passed the threshold, ``epoch`` the epoch it belongs to; ``history``
    holds the record of the finite steps before it."""

    def __init__(self, message, *, step, epoch, history):
        super().__init__(message)
        self.step = step
        self.epoch = epoch
        self.history = history


@dataclass
class History:
    """What ``train`` measured. Per-epoch lists start with the value at initialisation (epoch 0).

    * ``loss``: the training cost J(theta) on all of X after each epoch (with the L2 term);
    * ``step_loss``: the cost of each batch, before its update;
    * ``val_loss``, ``metrics`` and ``val_metrics`` ({name: per-epoch list}) when asked for;
    * ``trajectory``: the parameters as vectors (``model.ravel``), after each epoch or step when
      ``record`` asked for them, with ``trajectory_steps`` saying after how many updates;
    * ``converged`` (the ``tol`` rule was met), ``stopped_early`` (validation patience ran out),
      ``best_epoch`` (the epoch whose parameters were kept), ``epochs`` run, ``steps`` made.
    """

    loss: list = field(default_factory=list)
    step_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    val_metrics: dict = field(default_factory=dict)
    trajectory: np.ndarray | None = None
    trajectory_steps: list = field(default_factory=list)
    epochs: int = 0
    steps: int = 0
    converged: bool = False
    stopped_early: bool = False
    best_epoch: int = 0
    seconds: float = 0.0
    params: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain Python types, for JSON."""
        out = {k: getattr(self, k) for k in ("loss", "step_loss", "val_loss", "metrics",
                                             "val_metrics", "trajectory_steps", "epochs", "steps",
                                             "converged", "stopped_early", "best_epoch", "seconds")}
        out["trajectory"] = None if self.trajectory is None else self.trajectory.tolist()
        out["params"] = {k: np.asarray(v).tolist() for k, v in self.params.items()}
        return out


def check_targets(model: Model, loss: Loss, y) -> None:
    """Raise a clear error when ``loss`` cannot compare ``y`` with the model's output."""
    if not loss.info.single_input:
        raise TypeError(f"{loss.name} takes {len(loss.info.inputs)} inputs {loss.info.inputs}; "
                        "ll.train trains losses of (y_true, y_pred)")
    k, n = model.n_outputs, y.shape[0]
    out_shape = (n,) if k == 1 else (n, k)
    rule = loss.shape_rule
    if rule == "class_index":
        if k < 2:
            raise ValueError(f"{loss.name} compares class indices with one score per class; the "
                             f"model has {k} output: use a model with n_outputs >= 2 (Softmax)")
        if y.ndim != 1:
            raise ValueError(f"{loss.name} takes y as class indices of shape ({n},), got "
                             f"{y.shape}")
        return
    if rule == "rows" and k < 2:
        raise ValueError(f"{loss.name} compares rows of class scores; the model has 1 output")
    if y.shape != out_shape:
        hint = ""
        if y.ndim == 1 and k > 1:
            hint = (f"; y looks like class labels: one-hot encode it, or use a loss that takes "
                    "class indices (sparse_cce, multi_margin, poly1)")
        raise ValueError(f"{loss.name} compares y with the model's output element by element: y "
                         f"must have shape {out_shape}, got {y.shape}{hint}")


def resolve_loss(loss) -> Loss:
    """A loss from a name or a ``Loss`` (anything else is refused)."""
    if isinstance(loss, str):
        return get_loss(loss)
    if not isinstance(loss, Loss):
        raise TypeError(f"loss must be a loss name or a losslab Loss, got {type(loss).__name__}")
    return loss


def check_data(model: Model, loss: Loss, X, y, sample_weight=None, *, names=("X", "y",
               "sample_weight")):
    """(X, y, w) checked against the model and the loss: X float64 with the model's features, y
    with one target per row that the loss can compare with the model's output, w one weight per
    row (or None)."""
    X = V.check_X(X, model.n_features, names[0])
    y = V.check_y(y, X.shape[0], names[1], x_name=names[0])
    w = V.check_sample_weight(sample_weight, X.shape[0], names[2])
    check_targets(model, loss, y)
    return X, y, w


# ---- the parts of a run: validated settings, the cost, callbacks, the epoch loop ---------------

@dataclass
class _Setup:
    """Everything ``train`` checked before the first step."""

    model: Model
    loss: Loss
    opt: object
    X: np.ndarray
    y: np.ndarray
    w: np.ndarray | None
    val: tuple | None
    epochs: int
    batch_size: int
    metrics: tuple
    task: str
    l2: float
    shuffle: bool
    record: str | None


def _setup(model, loss, X, y, *, optimizer, epochs, batch_size, sample_weight, validation_data,
           metrics, early_stopping, l2, shuffle, record) -> _Setup:
    if not isinstance(model, Model):
        raise TypeError(f"model must be a losslab model, got {type(model).__name__}")
    loss = resolve_loss(loss)
    opt = get_optimizer(optimizer)
    epochs = V.check_scalar(epochs, "epochs", ge=1, integer=True)
    l2 = V.check_scalar(l2, "l2", ge=0)
    V.check_bool(shuffle, "shuffle")
    V.check_bool(early_stopping, "early_stopping")
    V.check_choice(record, "record", (None, "epoch", "step"))
    X, y, w = check_data(model, loss, X, y, sample_weight)
    n = X.shape[0]
    batch_size = n if batch_size is None else batch_size
    batch_size = min(V.check_scalar(batch_size, "batch_size", ge=1, integer=True), n)
    task = M.task_of(model, loss)
    metrics = M.check_metrics(metrics, task)
    val = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise TypeError("validation_data must be (X_val, y_val) or (X_val, y_val, w_val)")
        wv = validation_data[2] if len(validation_data) == 3 else None
        val = check_data(model, loss, validation_data[0], validation_data[1], wv,
                         names=("X_val", "y_val", "w_val"))
    elif early_stopping:
        raise ValueError("early_stopping=True needs validation_data")
    return _Setup(model, loss, opt, X, y, w, val, epochs, batch_size, metrics, task, l2, shuffle,
                  record)


class _Objective:
    """The cost of a run and its measurements: value and parameter gradient on a batch, and the
    epoch's record (cost and metrics) on a whole data set. The loss is prepared once on the
    training targets (and on the validation targets), so full-batch steps and the per-epoch
    records never check the targets again; a mini-batch prepares its own slice.

    In full-batch training the record after epoch t and the step of epoch t + 1 need the same
    pass (value and gradient at the same parameters): the record keeps its gradient for that
    step, so each epoch costs one pass, not two."""

    def __init__(self, s: _Setup):
        self.s = s
        self._kept = None  # (params, (value, grads)) of the last full training pass
        self.head = head_for(s.loss, s.model.n_outputs, s.model.output)
        self.train = self._prepare(s.y, s.w, "y")
        self.val = None if s.val is None else self._prepare(s.val[1], s.val[2], "y_val")

    def _prepare(self, y, w, what):
        try:
            return self.s.loss.prepare(y, sample_weight=w)
        except ValueError as exc:
            raise ValueError(f"{what} does not fit loss {self.s.loss.name!r}: {exc}") from None

    def value_and_grad(self, params, X, prepared, what="y"):
        s = self.s
        try:
            return s.model.value_and_grad(prepared, X, params=params, l2=s.l2, check_input=False)
        except ValueError as exc:
            raise ValueError(f"{what} does not fit loss {s.loss.name!r}: {exc}") from None

    def batch(self, params, idx):
        """Value and gradient on the rows ``idx`` (None: all rows, with the prepared loss)."""
        s = self.s
        if idx is None:
            kept, self._kept = self._kept, None
            if kept is not None and kept[0] is params:  # the record's pass at these parameters
                return kept[1]
            return self.value_and_grad(params, s.X, self.train)
        w = None if s.w is None else s.w[idx]
        return self.value_and_grad(params, s.X[idx], self._prepare(s.y[idx], w, "y"))

    def measure(self, params, validation=False):
        """(cost, {metric: value}) of ``params`` on the training or the validation data."""
        s = self.s
        X, y = (s.val[0], s.val[1]) if validation else (s.X, s.y)
        what = "y_val" if validation else "y"
        out = self.value_and_grad(params, X, self.val if validation else self.train, what)
        if not validation and s.batch_size >= s.X.shape[0]:
            self._kept = (params, out)
        value = out[0]
        if not s.metrics:
            return value, {}
        scores = s.model.scores(X, params, check_input=False)
        pred = None
        if s.task == "regression":
            pred = apply_head(self.head, scores)
            if s.loss.info.activation.startswith("exp"):
                pred = np.exp(pred)
        return value, M.compute(s.metrics, s.task, y, scores, pred)


class _Stop(Exception):
    """Raised by a callback to end the run after the current epoch."""


class _EarlyStopping:
    """Stop when the validation cost has not improved by more than ``min_delta`` for
    ``patience`` epochs; keep the best epoch's parameters."""

    def __init__(self, patience, min_delta):
        self.patience, self.min_delta = patience, min_delta
        self.best, self.best_epoch, self.best_params, self.stall = math.inf, 0, None, 0

    def on_epoch(self, history, epoch, params):
        monitored = history.val_loss[-1]
        if monitored < self.best - self.min_delta:
            self.best, self.best_epoch, self.best_params, self.stall = monitored, epoch, params, 0
        else:
            self.stall += 1
        if self.stall >= self.patience:
            history.stopped_early = True
            raise _Stop

    def on_end(self, history, params):
        if self.best_epoch > 0:
            history.best_epoch = self.best_epoch
            return self.best_params
        return params


class _Convergence:
    """The ``tol`` rule (scikit-learn's): stop when the training cost has not improved by more
    than ``tol * max(1, |J|)`` for ``patience`` epochs."""

    def __init__(self, tol, patience):
        self.tol, self.patience, self.best, self.stall = tol, patience, math.inf, 0

    def on_epoch(self, history, epoch, params):
        j = history.loss[-1]
        self.stall = 0 if j < self.best - self.tol * max(1.0, abs(j)) else self.stall + 1
        self.best = min(self.best, j)
        if self.stall >= self.patience:
            history.converged = True
            raise _Stop

    def on_end(self, history, params):
        return params


class _Divergence:
    """A cost or gradient that is not finite, or a cost above ``threshold * max(1, J0)``, raises
    ``DivergenceError`` naming the update; the model's parameters are left unchanged."""

    def __init__(self, threshold, j0, opt):
        self.threshold, self.limit, self.opt = threshold, threshold * max(1.0, abs(j0)), opt
        self.j0 = j0

    def check_step(self, value, grads, history, epoch, params):
        if not math.isfinite(value) or not all(np.all(np.isfinite(g)) for g in grads.values()):
            self.fail("the cost or its gradient is not finite", history, epoch, params)
        if value > self.limit:
            self.fail(f"the cost reached {value:.3g}, more than {self.threshold:g} times its "
                      f"initial value {self.j0:.3g}", history, epoch, params)

    def check_epoch(self, j, history, epoch, params):
        if not math.isfinite(j) or j > self.limit:
            self.fail(f"the cost reached {j:.3g}", history, epoch, params)

    def fail(self, reason, history, epoch, params):
        step = history.steps
        history.params = {k: v.copy() for k, v in params.items()}
        lr = self.opt.learning_rate(max(step - 1, 0))
        raise DivergenceError(
            f"training diverged at step {step} (epoch {epoch}): after that update {reason}; lower "
            f"the learning rate (lr={lr:g} with {type(self.opt).__name__}). model.params was left "
            "unchanged.", step=step, epoch=epoch, history=history)


def _record_epoch(history, s: _Setup, objective, params, guard, epoch):
    """Append the epoch's cost and metrics (training, then validation) to ``history``."""
    if guard is None:  # the initial record: nothing to compare with yet
        j, mj = objective.measure(params)
    else:
        try:
            j, mj = objective.measure(params)
        except FloatingPointError as exc:
            guard.fail(str(exc), history, epoch, params)
        guard.check_epoch(j, history, epoch, params)
    history.loss.append(j)
    for m in s.metrics:
        history.metrics.setdefault(m, []).append(mj[m])
    if s.val is not None:
        vj, vmj = objective.measure(params, validation=True)
        history.val_loss.append(vj)
        for m in s.metrics:
            history.val_metrics.setdefault(m, []).append(vmj[m])
    return j


def _epoch(s: _Setup, objective, params, state, order, history, guard, epoch, traj):
    """One pass over the data in batches of ``s.batch_size``: (params, state)."""
    n = s.X.shape[0]
    for start in range(0, n, s.batch_size):
        idx = order[start:start + s.batch_size]
        full = idx.size == n
        if not full and s.w is not None and not np.any(s.w[idx] > 0):
            continue  # a batch of zero weights carries no gradient
        try:
            value, grads = objective.batch(params, None if full else idx)
        except FloatingPointError as exc:
            guard.fail(str(exc), history, epoch, params)
        guard.check_step(value, grads, history, epoch, params)
        history.step_loss.append(value)
        params, state = s.opt.update(params, grads, state)
        history.steps += 1
        if s.record == "step":
            traj.append(s.model.ravel(params))
            history.trajectory_steps.append(history.steps)
    return params, state


def train(model: Model, loss, X, y, *, optimizer="adam", epochs: int = 100, batch_size=None,
          sample_weight=None, validation_data=None, metrics=(), early_stopping: bool = False,
          patience: int = 10, min_delta: float = 0.0, tol=None, l2: float = 0.0,
          shuffle: bool = True, seed=0, record=None, progress=None,
          divergence_threshold: float = 1e10) -> History:
    """Train ``model`` on (X, y) with ``loss``; ``model.params`` ends at the trained parameters.

    Parameters
    ----------
    optimizer : a name (``losslab.optim.get``) or an ``Optimizer``.
    batch_size : ``None`` for batch gradient descent (all samples each step), 1 for stochastic,
        B for mini-batches (the last batch of an epoch may be smaller). Larger than n means n.
    validation_data : ``(X_val, y_val)`` or ``(X_val, y_val, w_val)``; its cost and metrics are
        recorded each epoch.
    metrics : names from scikit-learn (``accuracy``, ``precision``, ``recall``, ``f1``,
        ``roc_auc``, ``average_precision``, ``mae``, ``rmse``, ``r2``), computed each epoch.
    early_stopping : stop when the validation cost has not improved by more than ``min_delta``
        for ``patience`` epochs, and keep the best epoch's parameters.
    tol : convergence rule on the training cost: stop when it has not improved by more than
        ``tol * max(1, |J|)`` for ``patience`` epochs (``History.converged``).
    l2 : adds l2 / 2 * sum of squared weights (not biases) to the cost.
    record : ``None``, ``"epoch"`` or ``"step"``: keep the parameter trajectory.
    progress : a progress bar (rich) on standard error; ``None`` shows it in a terminal only.
    divergence_threshold : the run is declared diverged, and ``DivergenceError`` raised, when a
        cost or gradient is not finite or the cost exceeds this multiple of max(1, initial cost).
    """
    s = _setup(model, loss, X, y, optimizer=optimizer, epochs=epochs, batch_size=batch_size,
               sample_weight=sample_weight, validation_data=validation_data, metrics=metrics,
               early_stopping=early_stopping, l2=l2, shuffle=shuffle, record=record)
    patience = V.check_scalar(patience, "patience", ge=1, integer=True)
    min_delta = V.check_scalar(min_delta, "min_delta", ge=0)
    tol = V.check_scalar(tol, "tol", ge=0, allow_none=True)
    divergence_threshold = V.check_scalar(divergence_threshold, "divergence_threshold", gt=1)
    objective = _Objective(s)
    history = History()
    params = {k: v.copy() for k, v in model.params.items()}
    j0 = _record_epoch(history, s, objective, params, None, 0)  # epoch 0: the initial cost
    guard = _Divergence(divergence_threshold, j0, s.opt)
    stopper = (_EarlyStopping(patience, min_delta) if early_stopping
               else _Convergence(tol, patience) if tol is not None else None)
    traj = [model.ravel(params)] if record else None
    if record:
        history.trajectory_steps.append(0)
    rng = np.random.default_rng(seed)
    n = s.X.shape[0]
    state = s.opt.init(params)
    t0 = time.perf_counter()
    with progress_bar(s.epochs, "training", enabled=progress, unit="epoch ") as bar:
        for epoch in range(1, s.epochs + 1):
            order = rng.permutation(n) if s.shuffle and s.batch_size < n else np.arange(n)
            params, state = _epoch(s, objective, params, state, order, history, guard, epoch,
                                   traj)
            j = _record_epoch(history, s, objective, params, guard, epoch)
            history.epochs = epoch
            if record == "epoch":
                traj.append(model.ravel(params))
                history.trajectory_steps.append(history.steps)
            bar.advance(description=f"loss {j:.4g}")
            if stopper is not None:
                try:
                    stopper.on_epoch(history, epoch, params)
                except _Stop:
                    break
    history.best_epoch = history.epochs
    if stopper is not None:
        params = stopper.on_end(history, params)
    history.seconds = time.perf_counter() - t0
    history.trajectory = None if traj is None else np.asarray(traj)
    history.params = {k: v.copy() for k, v in params.items()}
    model.params = params
    return history
