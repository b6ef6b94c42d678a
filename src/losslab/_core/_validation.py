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
    why: str = "",
) -> float | int | None:
    """Validate a real hyperparameter and return it as a Python float (or int); ``why`` is
    added to the message of a broken upper bound (what goes wrong beyond it)."""
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
            raise ValueError(f"{name} must be {op} {bound:g}, got {value!r}"
                             + (f": {why}" if why and op in ("<", "<=") else ""))
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
    with np.errstate(over="ignore", invalid="ignore"):
        total = float(xp.sum(x))
    if math.isfinite(total):
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


def check_integers(xp, a, name: str, kind: str = "integers"):
    """Integer inputs (class indices, labels, lengths) as int64; whole-number floats are accepted,
    booleans are not (a truth value is not a class index)."""
    if xp.isdtype(a.dtype, "integral"):
        return xp.astype(a, xp.int64)
    if xp.isdtype(a.dtype, "bool"):
        raise TypeError(f"{name} must hold {kind}, got dtype bool")
    n_bad = count(xp, a != xp.round(a))
    if n_bad:
        raise ValueError(f"{name} must hold {kind}; {n_bad} of {math.prod(a.shape)} values are not "
                         "whole numbers")
    return xp.astype(a, xp.int64)


# --------------------------------------------------------------------------------------------
# Data tables: features X, targets y, per-sample weights (models, training, estimators, advisor)
# --------------------------------------------------------------------------------------------


def _finite_message(name: str, n_bad: int, size: int) -> str:
    return f"{name} must be finite; {n_bad} of {size} values are NaN or infinite"


def as_numeric(x, name: str, hint: str = "") -> np.ndarray:
    """``x`` as a NumPy array of booleans, integers or floats, or a TypeError naming ``name``."""
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array, got {type(x).__name__}: {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}{hint}")
    return arr


def check_X(X, n_features: int | None = None, name: str = "X") -> np.ndarray:
    """A feature table as float64 of shape (n_samples, n_features): numeric, non-empty, finite.
    A 1-D array is one feature when ``n_features`` is 1."""
    X = as_numeric(X, name)
    if X.ndim == 1 and n_features == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"{name} must have shape (n_samples, n_features), got {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} must have at least one sample, got shape {X.shape}")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{name} has {X.shape[1]} features, but the model expects {n_features}")
    X = X.astype(np.float64, copy=False)
    with np.errstate(over="ignore", invalid="ignore"):
        total = float(np.sum(X))
    if not math.isfinite(total):
        bad = int(np.count_nonzero(~np.isfinite(X)))
        if bad:
            raise ValueError(_finite_message(name, bad, X.size))
    return X


def check_y(y, n_samples: int, name: str = "y", *, x_name: str = "X") -> np.ndarray:
    """Targets with one entry per sample: numeric (labels encoded as numbers), finite."""
    arr = as_numeric(y, name, hint=": encode class labels as 0, ..., k - 1 (LossClassifier "
                                   "does this)")
    if arr.ndim == 0 or arr.shape[0] != n_samples:
        got = "a scalar" if arr.ndim == 0 else f"{arr.shape[0]}"
        raise ValueError(f"{x_name} and {name} must have the same number of samples: {x_name} has "
                         f"{n_samples}, {name} has {got}")
    with np.errstate(over="ignore", invalid="ignore"):
        total = float(np.sum(arr)) if arr.dtype.kind == "f" else 0.0
    if not math.isfinite(total):
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        if bad:
            raise ValueError(_finite_message(name, bad, arr.size))
    return arr


def check_sample_weight(w, n_samples: int, name: str = "sample_weight"):
    """One finite, non-negative weight per sample, not all zero (None passes through)."""
    if w is None:
        return None
    if isinstance(w, np.ndarray) and w.dtype == bool:
        raise TypeError(f"{name} must hold real numbers, got dtype bool")
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (n_samples,):
        raise ValueError(f"{name} must have shape ({n_samples},), one weight per sample, got "
                         f"{w.shape}")
    bad = int(np.count_nonzero(~np.isfinite(w)))
    if bad:
        raise ValueError(_finite_message(name, bad, n_samples))
    bad = int(np.count_nonzero(w < 0))
    if bad:
        raise ValueError(f"{name} must be >= 0; {bad} of {n_samples} values are negative")
    if not np.any(w > 0):
        raise ValueError(f"{name} must have a positive sum; all {n_samples} weights are 0")
    return w
