"""Optimisers: small, pure, with explicit state.

An optimiser is an object with two methods (the ``init``/``update`` pair of optax)::

    state = opt.init(params)
    params, state = opt.update(params, grads, state)

``params`` and ``grads`` are one NumPy array, or a dict of arrays with the same keys (a model's
parameters). ``update`` never modifies its arguments: it returns new parameters and a new state.
The state is an ``OptState(step, slots)``: ``step`` counts the updates already made and ``slots``
holds each parameter's buffers (momentum, squared-gradient averages, ...).

Every update rule is written in the class docstring, in the order it is computed, with g the
gradient, p the parameter and t the 1-based step number. Each one reproduces ``torch.optim``'s
single-tensor implementation step for step (the tests compare 100 steps in float64 to 1e-12).
``lr`` may be a number or a schedule (``losslab.optim.schedules``): lr_t = schedule(t - 1).
"""

from __future__ import annotations

import abc
from typing import NamedTuple

import numpy as np

from .._core import validation as V
from ._schedules import as_schedule

__all__ = ["OptState", "Optimizer", "GradientDescent", "Momentum", "AdaGrad", "RMSProp", "Adam",
           "AdamW", "get", "names"]


class OptState(NamedTuple):
    """Optimiser state: updates made so far, and per-parameter buffers (name -> {slot: array})."""

    step: int
    slots: dict


def _as_dict(tree, name):
    if isinstance(tree, dict):
        return tree, True
    if isinstance(tree, np.ndarray) or np.isscalar(tree):
        return {"": np.asarray(tree, dtype=np.float64) if np.isscalar(tree) else tree}, False
    raise TypeError(f"{name} must be a NumPy array or a dict of arrays, got {type(tree).__name__}")


class Optimizer(abc.ABC):
    """Base class: the bookkeeping of ``init``/``update``; subclasses write ``_update_one``."""

    _slot_names: tuple[str, ...] = ()
    name = "optimizer"

    def __init__(self, lr):
        if callable(lr):
            self.lr = lr
        else:
            self.lr = V.check_scalar(lr, "lr", gt=0)
        self._schedule = as_schedule(self.lr)

    def learning_rate(self, step: int) -> float:
        """The learning rate used by update number ``step + 1`` (``step`` updates already made)."""
        return float(self._schedule(step))

    def init(self, params) -> OptState:
        """Zero buffers shaped like ``params``; step 0."""
        tree, _ = _as_dict(params, "params")
        slots = {k: {s: np.zeros_like(np.asarray(v, dtype=np.result_type(v, np.float32)))
                     for s in self._slot_names} for k, v in tree.items()}
        return OptState(0, slots)

    def update(self, params, grads, state: OptState):
        """One step: returns (new_params, new_state). Nothing passed in is modified."""
        ptree, is_dict = _as_dict(params, "params")
        gtree, _ = _as_dict(grads, "grads")
        if ptree.keys() != gtree.keys():
            raise ValueError(f"grads must have the keys of params {sorted(ptree)}, got {sorted(gtree)}")
        t = state.step + 1
        lr = self.learning_rate(state.step)
        if not lr >= 0:  # a schedule may end at 0 (cosine decay); never below, never NaN
            raise ValueError(f"the learning rate must be >= 0, got {lr!r} at step {t}")
        new_p, new_slots = {}, {}
        for k, p in ptree.items():
            g = gtree[k]
            if np.shape(g) != np.shape(p):
                raise ValueError(f"grads[{k!r}] must have shape {np.shape(p)}, got {np.shape(g)}")
            new_p[k], new_slots[k] = self._update_one(p, g, dict(state.slots[k]), t, lr)
        out = new_p if is_dict else new_p[""]
        return out, OptState(t, new_slots)

    @abc.abstractmethod
    def _update_one(self, p, g, slots, t, lr):
        """(new parameter, new slots) for one array; must not modify its arguments."""

    def get_params(self) -> dict:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_params().items())})"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.get_params() == other.get_params()

    __hash__ = None


class GradientDescent(Optimizer):
    """Plain gradient descent: ``g <- g + weight_decay p``; ``p <- p - lr g``.

    Batch, stochastic and mini-batch gradient descent are this rule applied to gradients of the
    whole data set, of one sample, or of a batch: that is ``ll.train``'s ``batch_size``
    (``None``, ``1`` or ``B``). ``torch.optim.SGD(momentum=0)``.
    """

    name = "gd"

    def __init__(self, lr=0.01, *, weight_decay: float = 0.0):
        super().__init__(lr)
        self.weight_decay = V.check_scalar(weight_decay, "weight_decay", ge=0)

    def _update_one(self, p, g, slots, t, lr):
        if self.weight_decay:
            g = g + self.weight_decay * p
        return p - lr * g, slots


class Momentum(Optimizer):
    """Gradient descent with momentum, classical or Nesterov, in PyTorch's convention.

    ``g <- g + weight_decay p``;
    ``b <- g`` at the first step, then ``b <- momentum b + (1 - dampening) g``;
    classical: ``p <- p - lr b``; Nesterov: ``p <- p - lr (g + momentum b)``.

    The textbook form ``v <- beta v - lr g; p <- p + v`` is the same iteration with v = -lr b
    when lr is constant and dampening is 0 (a test shows they coincide step for step); with a
    schedule the two differ, because PyTorch applies the current lr to the whole buffer.
    ``torch.optim.SGD(momentum=..., nesterov=...)``.
    """

    _slot_names = ("buffer",)
    name = "momentum"

    def __init__(self, lr=0.01, *, momentum: float = 0.9, nesterov: bool = False,
                 dampening: float = 0.0, weight_decay: float = 0.0):
        super().__init__(lr)
        self.momentum = V.check_scalar(momentum, "momentum", gt=0, lt=1)
        self.nesterov = V.check_bool(nesterov, "nesterov")
        self.dampening = V.check_scalar(dampening, "dampening", ge=0, lt=1)
        if self.nesterov and self.dampening:
            raise ValueError("Nesterov momentum requires dampening = 0, got "
                             f"{self.dampening!r}")
        self.weight_decay = V.check_scalar(weight_decay, "weight_decay", ge=0)

    def _update_one(self, p, g, slots, t, lr):
        if self.weight_decay:
            g = g + self.weight_decay * p
        b = g.copy() if t == 1 else self.momentum * slots["buffer"] + (1 - self.dampening) * g
        step = g + self.momentum * b if self.nesterov else b
        return p - lr * step, {"buffer": b}


class AdaGrad(Optimizer):
    """AdaGrad (Duchi et al. 2011), as ``torch.optim.Adagrad``.

    ``g <- g + weight_decay p``; ``lr_t <- lr / (1 + (t - 1) lr_decay)``;
    ``s <- s + g^2`` (s starts at ``initial_accumulator_value``);
    ``p <- p - lr_t g / (sqrt(s) + eps)``  (eps outside the square root, default 1e-10).
    """

    _slot_names = ("sum",)
    name = "adagrad"

    def __init__(self, lr=0.01, *, lr_decay: float = 0.0, eps: float = 1e-10,
                 initial_accumulator_value: float = 0.0, weight_decay: float = 0.0):
        super().__init__(lr)
        self.lr_decay = V.check_scalar(lr_decay, "lr_decay", ge=0)
        self.eps = V.check_scalar(eps, "eps", gt=0)
        self.initial_accumulator_value = V.check_scalar(
            initial_accumulator_value, "initial_accumulator_value", ge=0)
        self.weight_decay = V.check_scalar(weight_decay, "weight_decay", ge=0)

    def init(self, params) -> OptState:
        state = super().init(params)
        for slot in state.slots.values():
            slot["sum"] = slot["sum"] + self.initial_accumulator_value
        return state

    def _update_one(self, p, g, slots, t, lr):
        if self.weight_decay:
            g = g + self.weight_decay * p
        clr = lr / (1 + (t - 1) * self.lr_decay)
        s = slots["sum"] + g * g
        return p - clr * (g / (np.sqrt(s) + self.eps)), {"sum": s}


class RMSProp(Optimizer):
    """RMSProp (Hinton, Coursera lecture 6e), as ``torch.optim.RMSprop``.

    ``g <- g + weight_decay p``; ``v <- alpha v + (1 - alpha) g^2``;
    centered: ``a <- a + (1 - alpha)(g - a)``, ``d <- sqrt(v - a^2) + eps``; else
    ``d <- sqrt(v) + eps`` (eps outside the square root, default 1e-8);
    without momentum ``p <- p - lr g / d``; with it ``b <- momentum b + g / d``, ``p <- p - lr b``.
    """

    _slot_names = ("square_avg", "grad_avg", "buffer")
    name = "rmsprop"

    def __init__(self, lr=0.01, *, alpha: float = 0.99, eps: float = 1e-8, momentum: float = 0.0,
                 centered: bool = False, weight_decay: float = 0.0):
        super().__init__(lr)
        self.alpha = V.check_scalar(alpha, "alpha", ge=0, lt=1)
        self.eps = V.check_scalar(eps, "eps", gt=0)
        self.momentum = V.check_scalar(momentum, "momentum", ge=0, lt=1)
        self.centered = V.check_bool(centered, "centered")
        self.weight_decay = V.check_scalar(weight_decay, "weight_decay", ge=0)

    def _update_one(self, p, g, slots, t, lr):
        if self.weight_decay:
            g = g + self.weight_decay * p
        v = self.alpha * slots["square_avg"] + (1 - self.alpha) * (g * g)
        a = slots["grad_avg"]
        if self.centered:
            a = a + (1 - self.alpha) * (g - a)
            d = np.sqrt(v - a * a) + self.eps
        else:
            d = np.sqrt(v) + self.eps
        b = slots["buffer"]
        if self.momentum:
            b = self.momentum * b + g / d
            new_p = p - lr * b
        else:
            new_p = p - lr * (g / d)
        return new_p, {"square_avg": v, "grad_avg": a, "buffer": b}


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015, arXiv:1412.6980) with bias correction, as ``torch.optim.Adam``.

    ``g <- g + weight_decay p`` (an L2 penalty; see ``AdamW`` for decoupled decay);
    ``m <- beta1 m + (1 - beta1) g``; ``v <- beta2 v + (1 - beta2) g^2``;
    amsgrad: ``v_max <- max(v_max, v)`` and v_max replaces v below;
    ``p <- p - (lr / (1 - beta1^t)) m / (sqrt(v) / sqrt(1 - beta2^t) + eps)``.
    eps sits outside the square root, added to the bias-corrected sqrt(v_hat) (default 1e-8).
    """

    _slot_names = ("m", "v", "v_max")
    name = "adam"

    def __init__(self, lr=0.001, *, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False):
        super().__init__(lr)
        self.beta1 = V.check_scalar(beta1, "beta1", ge=0, lt=1)
        self.beta2 = V.check_scalar(beta2, "beta2", ge=0, lt=1)
        self.eps = V.check_scalar(eps, "eps", gt=0)
        self.weight_decay = V.check_scalar(weight_decay, "weight_decay", ge=0)
        self.amsgrad = V.check_bool(amsgrad, "amsgrad")

    def _decay(self, p, g, lr):
        return p, (g + self.weight_decay * p if self.weight_decay else g)

    def _update_one(self, p, g, slots, t, lr):
        p, g = self._decay(p, g, lr)
        m = slots["m"] + (1 - self.beta1) * (g - slots["m"])
        v = self.beta2 * slots["v"] + (1 - self.beta2) * (g * g)
        v_max = np.maximum(slots["v_max"], v) if self.amsgrad else slots["v_max"]
        bc1 = 1 - self.beta1 ** t
        bc2_sqrt = (1 - self.beta2 ** t) ** 0.5
        denom = np.sqrt(v_max if self.amsgrad else v) / bc2_sqrt + self.eps
        return p - (lr / bc1) * (m / denom), {"m": m, "v": v, "v_max": v_max}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019, arXiv:1711.05101), as
    ``torch.optim.AdamW``: first ``p <- p (1 - lr weight_decay)``, then the Adam step of
    ``Adam`` with the raw gradient. Default weight_decay 0.01, as PyTorch.
    """

    name = "adamw"

    def __init__(self, lr=0.001, *, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.01, amsgrad: bool = False):
        super().__init__(lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)

    def _decay(self, p, g, lr):
        return (p * (1 - lr * self.weight_decay) if self.weight_decay else p), g


_OPTIMIZERS = {
    "gd": GradientDescent,
    "sgd": GradientDescent,
    "momentum": Momentum,
    "nesterov": Momentum,
    "adagrad": AdaGrad,
    "rmsprop": RMSProp,
    "adam": Adam,
    "adamw": AdamW,
}


def names() -> list[str]:
    """The optimiser names ``get`` accepts."""
    return list(_OPTIMIZERS)


def get(name, **kwargs) -> Optimizer:
    """An optimiser by name (``"gd"``/``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"adagrad"``,
    ``"rmsprop"``, ``"adam"``, ``"adamw"``), or an ``Optimizer`` passed through.

    >>> get("nesterov", lr=0.1)
    Momentum(lr=0.1, momentum=0.9, nesterov=True, dampening=0.0, weight_decay=0.0)
    """
    if isinstance(name, Optimizer):
        if kwargs:
            raise TypeError("keyword arguments apply to an optimiser named by a string, not to "
                            f"an Optimizer instance ({name!r})")
        return name
    if not isinstance(name, str):
        raise TypeError(f"optimizer must be a name or an Optimizer, got {type(name).__name__}")
    key = name.lower()
    if key not in _OPTIMIZERS:
        V.check_choice(key, "optimizer", tuple(_OPTIMIZERS))
    if key == "nesterov":
        kwargs.setdefault("nesterov", True)
    return _OPTIMIZERS[key](**kwargs)
