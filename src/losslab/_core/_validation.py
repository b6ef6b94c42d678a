"""One place for every check of user input, so that every message has the same form.

Hyperparameters: ``"delta must be > 0, got -1.0"``.
Arrays: the argument, the rule, and how many values broke it:
``"y_pred must be in [0, 1] (probabilities; pass from_logits=True for logits); 3 of 100 values are not"``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

# --------------------------------------------------------------------------------------------
# Hyperparameters
# --------------------------------------------------------------------------------------------


def check_scalar(
    value,
    name: str,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    allow_none: bool = False,
    integer: bool = False,
) -> float | int | None:
    """Validate a real hyperparameter and return it as a Python float (or int)."""
    if value is None:
        if allow_none:
            return None
        raise TypeError(f"{name} must be a real number, got None")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        kind = "an integer" if integer else "a real number"
        raise TypeError(f"{name} must be {kind}, got {value!r} of type {type(value).__name__}")
    if integer:
        if not float(value).is_integer():
            raise ValueError(f"{name} must be an integer, got {value!r}")
        value = int(value)
    else:
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value!r}")
    for bound, op, ok in (
        (gt, ">", lambda v, b: v > b),
        (ge, ">=", lambda v, b: v >= b),
        (lt, "<", lambda v, b: v < b),
        (le, "<=", lambda v, b: v <= b),
    ):
        if bound is not None and not ok(value, bound):
            raise ValueError(f"{name} must be {op} {bound:g}, got {value!r}")
    return value


def check_bool(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_choice(value, name: str, choices) -> object:
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {listed}, got {value!r}")
    return value


def check_weight_vector(value, name: str, *, allow_none: bool = True):
    """A per-class weight vector: 1-D, finite, non-negative. Stored as a read-only float64 array."""
    if value is None:
        if allow_none:
            return None
        raise TypeError(f"{name} must be a sequence of weights, got None")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a sequence of real numbers, got {value!r}") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence, got shape {arr.shape}")
    bad = int(np.count_nonzero(~np.isfinite(arr) | (arr < 0)))
    if bad:
        raise ValueError(f"{name} must be finite and >= 0; {bad} of {arr.size} values are not")
    arr = arr.copy()
    arr.flags.writeable = False
    return arr


# --------------------------------------------------------------------------------------------
# Domains as data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """The real interval a loss accepts for one argument; None means unbounded."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    note: str = ""

    def __str__(self) -> str:
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        left = "(" if self.low is None or self.low_open else "["
        right = ")" if self.high is None or self.high_open else "]"
        return f"{left}{lo}, {hi}{right}"

    def contains_range(self, lo: float, hi: float) -> bool:
        """Whether every value in [lo, hi] lies in the interval."""
        if self.low is not None and (lo <= self.low if self.low_open else lo < self.low):
            return False
        if self.high is not None and (hi >= self.high if self.high_open else hi > self.high):
            return False
        return True

    def violations(self, xp, x):
        bad = None
        if self.low is not None:
            bad = (x <= self.low) if self.low_open else (x < self.low)
        if self.high is not None:
            hb = (x >= self.high) if self.high_open else (x > self.high)
            bad = hb if bad is None else (bad | hb)
        return bad


@dataclass(frozen=True)
class LabelSet:
    """A finite set of admissible label values (for example {0, 1} or {-1, +1})."""

    values: tuple
    note: str = ""
    shown: str = ""  # how to write the set when it is not simply its values

    def __str__(self) -> str:
        if self.shown:
            return self.shown
        return "{" + ", ".join(f"{v:+g}" if v < 0 else f"{v:g}" for v in self.values) + "}"

    def violations(self, xp, x):
        ok = None
        for v in self.values:
            eq = x == v
            ok = eq if ok is None else (ok | eq)
        return ~ok


@dataclass(frozen=True)
class ClassIndex:
    """Integer class indices in [0, n_classes); ``n_classes`` comes from y_pred's last axis."""

    note: str = ""

    def __str__(self) -> str:
        return "integers in [0, n_classes)"


def count(xp, mask) -> int:
    """Number of True values in a boolean array of any namespace, as a Python int."""
    return int(xp.sum(xp.astype(mask, xp.int64)))


def check_domain(xp, x, name: str, domain, *, n_classes: int | None = None, ignore_index=None):
    if domain is None:
        return
    size = math.prod(x.shape)
    if isinstance(domain, ClassIndex):
        if int(xp.min(x)) >= 0 and int(xp.max(x)) < n_classes:
            return  # fast path: two reductions
        bad = (x < 0) | (x >= n_classes)
        if ignore_index is not None:
            bad = bad & (x != ignore_index)
        rule = f"integers in [0, {n_classes}) (class indices for {n_classes} classes)"
        if ignore_index is not None:
            rule += f" or ignore_index={ignore_index}"
    else:
        if isinstance(domain, Interval) and domain.contains_range(float(xp.min(x)), float(xp.max(x))):
            return  # fast path: two reductions
        bad = domain.violations(xp, x)
        rule = f"in {domain}"
        if domain.note:
            rule += f" ({domain.note})"
    if bad is None or not bool(xp.any(bad)):
        return
    n_bad = count(xp, bad)
    if n_bad:
        raise ValueError(f"{name} must be {rule}; {n_bad} of {size} values are not")


def check_finite(xp, x, name: str):
    # Fast path: one sum. NaN or +-inf anywhere makes it non-finite; a finite sum proves every
    # value finite. Only an overflowing sum of finite values takes the exact scan needlessly.
    if math.isfinite(float(xp.sum(x))):
        return
    n_bad = count(xp, ~xp.isfinite(x))
    if n_bad:
        size = math.prod(x.shape)
        raise ValueError(
            f"{name} must be finite; {n_bad} of {size} values are NaN or infinite "
            "(construct the loss with check_finite=False to skip this scan)"
        )


def check_same_shape(a, b, name_a: str, name_b: str):
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape (no broadcasting); "
            f"got {name_a} {tuple(a.shape)} and {name_b} {tuple(b.shape)}"
        )


def check_reduction(reduction) -> str:
    return check_choice(reduction, "reduction", ("mean", "sum", "none"))
