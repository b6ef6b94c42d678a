"""NumPy models with a forward and a backward pass, trained with any loss that fits them.

A model owns its parameters (``model.params``, a dict of float64 arrays) and computes

* ``forward(X)``: the output the loss sees, shape (n,) for one output, (n, k) for k outputs;
* ``value_and_grad(loss, X, y)``: the cost and its gradient with respect to every parameter.

The backward pass starts from ``loss.gradient`` with respect to the model's output, so any loss
whose ``y_pred`` has the model's output shape trains the model. The output *head* decides what the
loss sees: ``"identity"`` (raw scores, logits), ``"sigmoid"``, ``"softmax"``, or ``"auto"`` (the
default), which applies a sigmoid or softmax exactly when the loss expects probabilities
(``y_pred`` in [0, 1], e.g. ``bce`` without ``from_logits``) and raw scores otherwise.

Functions of explicit parameters (``forward(X, params=...)``, ``value_and_grad(..., params=...)``)
leave ``model.params`` untouched; the landscape and training code use them.
"""

from __future__ import annotations

import abc
import copy

import numpy as np

from .._core import PreparedLoss
from .._core import numerics as N
from .._core import validation as V

__all__ = ["Model", "Linear", "Logistic", "Softmax", "MLP", "apply_head", "head_for"]

_HEADS = ("auto", "identity", "sigmoid", "softmax")


def head_for(loss, n_outputs: int, output: str = "auto") -> str:
    """The head a model with ``n_outputs`` outputs uses in front of ``loss``."""
    if output != "auto":
        return output
    domain = loss.info.domains["y_pred"]
    if isinstance(domain, V.Interval) and domain.low == 0 and domain.high == 1:
        if n_outputs > 1 and loss.shape_rule in ("rows", "class_index"):
            return "softmax"
        return "sigmoid"
    return "identity"


def apply_head(head: str, z):
    """The output a loss sees from raw scores ``z`` (n, k): ``"identity"`` (or ``"auto"``) keeps
    them, ``"sigmoid"`` and ``"softmax"`` (over the last axis) map them to probabilities."""
    if head in ("identity", "auto"):
        return z
    if head == "sigmoid":
        return N.sigmoid(np, z)
    return N.softmax(np, z, axis=-1)


def _head_backward(head, out, g):
    """d cost / d z from d cost / d out, for out = head(z) (out is the head's output)."""
    if head == "identity":
        return g
    if head == "sigmoid":
        return g * out * (1.0 - out)
    return out * (g - np.sum(g * out, axis=1, keepdims=True))


class Model(abc.ABC):
    """Base class: parameters, the head, the loss-driven backward pass, flat views."""

    task: str = "regression"

    def __init__(self, n_features: int, n_outputs: int, *, output: str, seed):
        self.n_features = V.check_scalar(n_features, "n_features", ge=1, integer=True)
        self.n_outputs = V.check_scalar(n_outputs, "n_outputs", ge=1, integer=True)
        self.output = V.check_choice(output, "output", _HEADS)
        if self.output == "softmax" and self.n_outputs < 2:
            raise ValueError("output='softmax' needs n_outputs >= 2")
        self.seed = seed
        self.params = self.init_params(np.random.default_rng(seed))

    # ---- to write in each model --------------------------------------------------------------
    @abc.abstractmethod
    def init_params(self, rng) -> dict:
        """Fresh parameters (float64 arrays)."""

    @abc.abstractmethod
    def _forward(self, params, X):
        """(z, cache): pre-head outputs of shape (n, n_outputs) and what backward needs."""

    @abc.abstractmethod
    def _backward(self, params, cache, dz) -> dict:
        """d cost / d params from d cost / d z, shape (n, n_outputs)."""

    # ---- shared --------------------------------------------------------------------------------
    def _weights(self) -> tuple[str, ...]:
        """Names of the weight matrices (the parameters an L2 penalty applies to)."""
        return tuple(k for k in self.params if k.startswith("W"))

    def _shape_out(self, a):
        return a[:, 0] if self.n_outputs == 1 else a

    def scores(self, X, params=None, *, check_input: bool = True):
        """Raw outputs before the head (logits for a classifier), shape (n,) or (n, k).
        ``check_input=False`` skips the checks of X (for callers that checked it once)."""
        if check_input:
            X = V.check_X(X, self.n_features)
        return self._shape_out(self._forward(self.params if params is None else params, X)[0])

    def forward(self, X, params=None, *, loss=None, check_input: bool = True):
        """The output ``loss`` sees: the head of ``head_for(loss)`` applied to the raw scores."""
        if check_input:
            X = V.check_X(X, self.n_features)
        head = self.output if loss is None else head_for(loss, self.n_outputs, self.output)
        z, _ = self._forward(self.params if params is None else params, X)
        return self._shape_out(apply_head(head, z))

    __call__ = forward

    def value_and_grad(self, loss, X, y=None, *, sample_weight=None, params=None, l2: float = 0.0,
                       check_input: bool = True):
        """(cost, gradient dict): cost = loss(y, forward(X), "mean") + l2/2 * sum of squared weights.

        ``loss`` may be a prepared loss (``loss.prepare(y, sample_weight=w)``): its targets and
        weights were checked once, and ``y`` and ``sample_weight`` are then not given."""
        params = self.params if params is None else params
        if check_input:
            X = V.check_X(X, self.n_features)
        prepared = isinstance(loss, PreparedLoss)
        if prepared and (y is not None or sample_weight is not None):
            raise TypeError("a prepared loss holds its targets and weights: pass neither y nor "
                            "sample_weight")
        head = head_for(loss.loss if prepared else loss, self.n_outputs, self.output)
        with np.errstate(over="ignore", invalid="ignore"):
            z, cache = self._forward(params, X)
        bad = int(np.count_nonzero(~np.isfinite(z)))
        if bad:
            raise FloatingPointError(f"the model's output is not finite: {bad} of {z.size} values "
                                     "overflowed")
        out = apply_head(head, z)
        if prepared:
            value, g = loss.value_and_gradient(self._shape_out(out))
        else:
            value, g = loss.value_and_gradient(y, self._shape_out(out), sample_weight=sample_weight)
        g = np.asarray(g, dtype=np.float64).reshape(out.shape)
        grads = self._backward(params, cache, _head_backward(head, out, g))
        value = float(value)
        if l2:
            for k in self._weights():
                value += 0.5 * l2 * float(np.sum(params[k] ** 2))
                grads[k] = grads[k] + l2 * params[k]
        return value, grads

    # ---- flat views (for trajectories and landscapes) ------------------------------------------
    @property
    def n_params(self) -> int:
        return sum(v.size for v in self.params.values())

    def ravel(self, params=None) -> np.ndarray:
        """All parameters as one vector, in ``params``' key order."""
        params = self.params if params is None else params
        return np.concatenate([np.ravel(v) for v in params.values()])

    def unravel(self, vector) -> dict:
        """The inverse of ``ravel``: a parameter dict (new arrays) from a vector."""
        vector = np.asarray(vector, dtype=np.float64)
        if vector.shape != (self.n_params,):
            raise ValueError(f"vector must have shape ({self.n_params},), got {vector.shape}")
        out, i = {}, 0
        for k, v in self.params.items():
            out[k] = vector[i:i + v.size].reshape(v.shape).copy()
            i += v.size
        return out

    def copy(self):
        """A deep copy (parameters included)."""
        return copy.deepcopy(self)

    def get_params(self) -> dict:
        return {k: v for k, v in vars(self).items() if k != "params"}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_params().items())})"


class Linear(Model):
    """z = X W + b; W (n_features, n_outputs), b (n_outputs,). Parameters start at zero.

    >>> m = Linear(1)
    >>> m.params["W"][0, 0] = 2.0; m.params["b"][0] = 3.0
    >>> m.forward([[1.0], [2.0]]).tolist()
    [5.0, 7.0]
    """

    def __init__(self, n_features: int, n_outputs: int = 1, *, output: str = "auto", seed=0):
        super().__init__(n_features, n_outputs, output=output, seed=seed)

    def init_params(self, rng) -> dict:
        return {"W": np.zeros((self.n_features, self.n_outputs)), "b": np.zeros(self.n_outputs)}

    def _forward(self, params, X):
        return X @ params["W"] + params["b"], X

    def _backward(self, params, cache, dz):
        return {"W": cache.T @ dz, "b": np.sum(dz, axis=0)}


class Logistic(Linear):
    """Binary logistic model: one logit z = X w + b; the head is a sigmoid when the loss wants a
    probability (``bce``), the logit itself when it takes logits or scores (``bce`` with
    ``from_logits=True``, ``hinge``).
    """

    task = "binary"

    def __init__(self, n_features: int, *, output: str = "auto", seed=0):
        super().__init__(n_features, 1, output=output, seed=seed)

    def get_params(self) -> dict:
        p = super().get_params()
        p.pop("n_outputs")
        return p


class Softmax(Linear):
    """Multinomial model: logits z = X W + b with one column per class; softmax head for losses on
    probability rows (``cce``), raw logits for ``from_logits=True`` and score losses."""

    task = "multiclass"

    def __init__(self, n_features: int, n_classes: int, *, output: str = "auto", seed=0):
        self.n_classes = V.check_scalar(n_classes, "n_classes", ge=2, integer=True)
        super().__init__(n_features, n_classes, output=output, seed=seed)

    def get_params(self) -> dict:
        p = super().get_params()
        p.pop("n_outputs")
        return p


class MLP(Model):
    """Multilayer perceptron: h_0 = X; a_i = h_{i-1} W_i + b_i; h_i = act(a_i), or with
    ``residual=True`` h_i = h_{i-1} + act(a_i) wherever widths allow (every hidden layer after
    the first of the same width); z = h_L W_out + b_out.

    Weights are drawn He-normal (std sqrt(2 / fan_in)) for ReLU and Glorot-normal
    (std sqrt(2 / (fan_in + fan_out))) for tanh and the output layer; biases start at zero. ReLU's
    derivative at 0 is taken as 0 (as PyTorch). ``task`` says what the outputs mean.
    """

    def __init__(self, n_features: int, hidden=(32,), n_outputs: int = 1, *,
                 activation: str = "relu", residual: bool = False, output: str = "auto",
                 task: str = "regression", seed=0):
        hidden = (hidden,) if isinstance(hidden, int) else tuple(hidden)
        for i, h in enumerate(hidden):
            V.check_scalar(h, f"hidden[{i}]", ge=1, integer=True)
        self.hidden = tuple(int(h) for h in hidden)
        self.activation = V.check_choice(activation, "activation", ("relu", "tanh"))
        self.residual = V.check_bool(residual, "residual")
        self.task = V.check_choice(task, "task", ("regression", "binary", "multiclass"))
        super().__init__(n_features, n_outputs, output=output, seed=seed)

    def init_params(self, rng) -> dict:
        params, fan_in = {}, self.n_features
        for i, width in enumerate(self.hidden):
            std = np.sqrt(2.0 / fan_in) if self.activation == "relu" else np.sqrt(2.0 / (fan_in + width))
            params[f"W{i}"] = rng.normal(0.0, std, size=(fan_in, width))
            params[f"b{i}"] = np.zeros(width)
            fan_in = width
        params["W_out"] = rng.normal(0.0, np.sqrt(2.0 / (fan_in + self.n_outputs)),
                                     size=(fan_in, self.n_outputs))
        params["b_out"] = np.zeros(self.n_outputs)
        return params

    def has_skip(self, i) -> bool:
        """Whether hidden layer ``i`` adds its input to its activation (a residual connection)."""
        return self.residual and i > 0 and self.hidden[i] == self.hidden[i - 1]

    def _forward(self, params, X):
        hs, acts = [X], []
        h = X
        for i in range(len(self.hidden)):
            a = h @ params[f"W{i}"] + params[f"b{i}"]
            f = np.maximum(a, 0.0) if self.activation == "relu" else np.tanh(a)
            h = h + f if self.has_skip(i) else f
            acts.append((a, f))
            hs.append(h)
        return h @ params["W_out"] + params["b_out"], (hs, acts)

    def _backward(self, params, cache, dz):
        hs, acts = cache
        grads = {"W_out": hs[-1].T @ dz, "b_out": np.sum(dz, axis=0)}
        dh = dz @ params["W_out"].T
        for i in reversed(range(len(self.hidden))):
            a, f = acts[i]
            da = dh * (a > 0) if self.activation == "relu" else dh * (1.0 - f * f)
            grads[f"W{i}"] = hs[i].T @ da
            grads[f"b{i}"] = np.sum(da, axis=0)
            dx = da @ params[f"W{i}"].T
            dh = dh + dx if self.has_skip(i) else dx
        return {k: grads[k] for k in params}
