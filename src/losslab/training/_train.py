"""``train``: fit a model with any loss and any optimiser, and keep the history.

Every run is reproducible: the model's parameters start from the model (its ``seed``), and the
order of the samples in each epoch comes from ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from .._core import _validation as V
from .._core._base import Loss
from .._core._multi import MultiInputLoss
from .._core._registry import get as get_loss
from ..models._models import Model, _check_X, head_for
from ..optim import _optimizers as O
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


def _check_y(y, n, name="y"):
    try:
        arr = np.asarray(y)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array: {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} holds non-numeric values (dtype {arr.dtype}); ll.train needs "
                        "numbers: encode class labels as 0, ..., k - 1 (LossClassifier does this)")
    if arr.ndim == 0 or arr.shape[0] != n:
        got = "a scalar" if arr.ndim == 0 else f"{arr.shape[0]}"
        raise ValueError(f"X and {name} must have the same number of samples: X has {n}, "
                         f"{name} has {got}")
    if arr.dtype.kind == "f":
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        if bad:
            raise ValueError(f"{name} must be finite (no NaN or inf); {bad} of {arr.size} values "
                             "are not")
    return arr


def _check_weight(w, n, name="sample_weight"):
    if w is None:
        return None
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), one weight per sample, got {w.shape}")
    bad = int(np.count_nonzero(~np.isfinite(w) | (w < 0)))
    if bad:
        raise ValueError(f"{name} must be finite and >= 0; {bad} of {n} values are not")
    if not np.any(w > 0):
        raise ValueError(f"{name} must have at least one positive weight")
    return w


def check_targets(model: Model, loss: Loss, y) -> None:
    """Raise a clear error when ``loss`` cannot compare ``y`` with the model's output."""
    if isinstance(loss, MultiInputLoss):
        raise TypeError(f"{loss.name} takes {len(loss.inputs)} inputs {loss.inputs}; ll.train "
                        "trains losses of (y_true, y_pred)")
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
    if rule in ("rows", "samples") and k < 2 and rule == "rows":
        raise ValueError(f"{loss.name} compares rows of class scores; the model has 1 output")
    if y.shape != out_shape:
        hint = ""
        if y.ndim == 1 and k > 1:
            hint = (f"; y looks like class labels: one-hot encode it, or use a loss that takes "
                    "class indices (sparse_cce, multi_margin, poly1)")
        raise ValueError(f"{loss.name} compares y with the model's output element by element: y "
                         f"must have shape {out_shape}, got {y.shape}{hint}")


def _resolve_loss(loss):
    if isinstance(loss, str):
        return get_loss(loss)
    if not isinstance(loss, Loss):
        raise TypeError(f"loss must be a loss name or a losslab Loss, got {type(loss).__name__}")
    return loss


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
    # ---- check everything before the first step ---------------------------------------------
    if not isinstance(model, Model):
        raise TypeError(f"model must be a losslab model, got {type(model).__name__}")
    loss = _resolve_loss(loss)
    opt = O.get(optimizer)
    epochs = V.check_scalar(epochs, "epochs", ge=1, integer=True)
    patience = V.check_scalar(patience, "patience", ge=1, integer=True)
    min_delta = V.check_scalar(min_delta, "min_delta", ge=0)
    tol = V.check_scalar(tol, "tol", ge=0, allow_none=True)
    l2 = V.check_scalar(l2, "l2", ge=0)
    divergence_threshold = V.check_scalar(divergence_threshold, "divergence_threshold", gt=1)
    V.check_bool(shuffle, "shuffle")
    V.check_bool(early_stopping, "early_stopping")
    V.check_choice(record, "record", (None, "epoch", "step"))
    X = _check_X(X, model.n_features)
    n = X.shape[0]
    y = _check_y(y, n)
    w = _check_weight(sample_weight, n)
    if batch_size is None:
        batch_size = n
    batch_size = min(V.check_scalar(batch_size, "batch_size", ge=1, integer=True), n)
    check_targets(model, loss, y)
    task = M.task_of(model, loss)
    metrics = M.check_metrics(metrics, task)
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise TypeError("validation_data must be (X_val, y_val) or (X_val, y_val, w_val)")
        Xv = _check_X(validation_data[0], model.n_features, "X_val")
        yv = _check_y(validation_data[1], Xv.shape[0], "y_val")
        wv = _check_weight(validation_data[2], Xv.shape[0], "w_val") if len(validation_data) == 3 else None
        check_targets(model, loss, yv)
    elif early_stopping:
        raise ValueError("early_stopping=True needs validation_data")
    head = head_for(loss, model.n_outputs, model.output)

    def cost(params, Xa, ya, wa, what):
        try:
            return model.value_and_grad(loss, Xa, ya, sample_weight=wa, params=params, l2=l2,
                                        check_input=False)
        except ValueError as exc:
            raise ValueError(f"{what} does not fit loss {loss.name!r}: {exc}") from None

    def evaluate(params, Xa, ya, wa, what):
        value, _ = cost(params, Xa, ya, wa, what)
        scores = model._shape_out(model._forward(params, Xa)[0])
        pred = None
        if task == "regression" and metrics:
            from ..models._models import _apply_head

            pred = model._shape_out(_apply_head(head, model._forward(params, Xa)[0]))
            if loss.info.activation.startswith("exp"):
                pred = np.exp(pred)
        return value, M.compute(metrics, task, ya, scores, pred)

    history = History()
    params = {k: v.copy() for k, v in model.params.items()}
    j0, m0 = evaluate(params, X, y, w, "y")
    history.loss.append(j0)
    for m in metrics:
        history.metrics[m] = [m0[m]]
    if validation_data is not None:
        v0, vm0 = evaluate(params, Xv, yv, wv, "y_val")
        history.val_loss.append(v0)
        for m in metrics:
            history.val_metrics[m] = [vm0[m]]
    limit = divergence_threshold * max(1.0, abs(j0))
    traj = [model.ravel(params)] if record else None
    if record:
        history.trajectory_steps.append(0)

    # ---- the loop ------------------------------------------------------------------------------
    rng = np.random.default_rng(seed)
    state = opt.init(params)
    best = (math.inf, 0, params)
    monitor_best, stall = math.inf, 0
    bar = _progress(progress, epochs)
    t0 = time.perf_counter()
    try:
        for epoch in range(1, epochs + 1):
            order = rng.permutation(n) if shuffle and batch_size < n else np.arange(n)
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                full = idx.size == n
                Xb, yb = (X, y) if full else (X[idx], y[idx])
                wb = None if w is None else (w if full else w[idx])
                if wb is not None and not np.any(wb > 0):
                    continue  # a batch of zero weights carries no gradient
                step = history.steps + 1
                try:
                    value, grads = cost(params, Xb, yb, wb, "y")
                except FloatingPointError as exc:
                    _diverged(f"{exc}", history.steps, epoch, history, opt, params, model)
                gnorm_bad = not all(np.all(np.isfinite(g)) for g in grads.values())
                if not math.isfinite(value) or gnorm_bad:
                    _diverged("the cost or its gradient is not finite", history.steps, epoch,
                              history, opt, params, model)
                if value > limit:
                    _diverged(f"the cost reached {value:.3g}, more than {divergence_threshold:g} "
                              f"times its initial value {j0:.3g}", history.steps, epoch, history,
                              opt, params, model)
                history.step_loss.append(value)
                params, state = opt.update(params, grads, state)
                history.steps = step
                if record == "step":
                    traj.append(model.ravel(params))
                    history.trajectory_steps.append(step)
            try:
                j, mj = evaluate(params, X, y, w, "y")
            except FloatingPointError as exc:
                _diverged(f"{exc}", history.steps, epoch, history, opt, params, model)
            if not math.isfinite(j) or j > limit:
                _diverged(f"the cost reached {j:.3g}", history.steps, epoch,
                          history, opt, params, model)
            history.loss.append(j)
            history.epochs = epoch
            for m in metrics:
                history.metrics[m].append(mj[m])
            if record == "epoch":
                traj.append(model.ravel(params))
                history.trajectory_steps.append(history.steps)
            monitored = j
            if validation_data is not None:
                vj, vmj = evaluate(params, Xv, yv, wv, "y_val")
                history.val_loss.append(vj)
                for m in metrics:
                    history.val_metrics[m].append(vmj[m])
                if early_stopping:
                    monitored = vj
            if bar is not None:
                bar[0].update(bar[1], advance=1, description=f"loss {j:.4g}")
            if early_stopping:
                if monitored < best[0] - min_delta:
                    best = (monitored, epoch, params)
                    stall = 0
                else:
                    stall += 1
                if stall >= patience:
                    history.stopped_early = True
                    break
            elif tol is not None:
                if monitored < monitor_best - tol * max(1.0, abs(monitored)):
                    stall = 0
                else:
                    stall += 1
                monitor_best = min(monitor_best, monitored)
                if stall >= patience:
                    history.converged = True
                    break
    finally:
        if bar is not None:
            bar[0].stop()
    if early_stopping and best[1] > 0:
        params = best[2]
        history.best_epoch = best[1]
    else:
        history.best_epoch = history.epochs
    history.seconds = time.perf_counter() - t0
    history.trajectory = None if traj is None else np.asarray(traj)
    history.params = {k: v.copy() for k, v in params.items()}
    model.params = params
    return history


def _diverged(reason, step, epoch, history, opt, params, model):
    history.params = {k: v.copy() for k, v in params.items()}
    lr = opt.learning_rate(max(step - 1, 0))
    raise DivergenceError(
        f"training diverged at step {step} (epoch {epoch}): after that update {reason}; lower the "
        "learning rate "
        f"(lr={lr:g} with {type(opt).__name__}). model.params was left unchanged.",
        step=step, epoch=epoch, history=history)


def _progress(progress, epochs):
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(),
                   TextColumn("epoch {task.completed}/{task.total}"), TimeRemainingColumn(),
                   transient=True)
    task = bar.add_task("training", total=epochs)
    bar.start()
    return bar, task
