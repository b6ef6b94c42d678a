"""The registry: the single source of truth for which losses exist.

The command line, the verification table, the README's catalogue and every generic test read it.
A loss joins all of them by being decorated with ``@register``.
"""

from __future__ import annotations

import difflib

_LOSSES: dict[str, type] = {}
_ALIASES: dict[str, str] = {}


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def register(cls):
    """Class decorator: enrol a Loss subclass under ``cls.name`` and its ``cls.aliases``."""
    for key in (cls.name, *cls.aliases):
        if key in _LOSSES or key in _ALIASES:
            raise RuntimeError(f"loss name {key!r} is registered twice")
    _LOSSES[cls.name] = cls
    for alias in cls.aliases:
        _ALIASES[alias] = cls.name
    return cls


def _ensure_loaded() -> None:
    if not _LOSSES:
        from .. import losses  # noqa: F401  (importing registers every loss)


def names() -> list[str]:
    """Canonical names of every registered loss, sorted."""
    _ensure_loaded()
    return sorted(_LOSSES)


def aliases() -> dict[str, str]:
    """Alias -> canonical name."""
    _ensure_loaded()
    return dict(sorted(_ALIASES.items()))


def loss_class(name: str) -> type:
    """The class registered under ``name`` (or an alias of it)."""
    _ensure_loaded()
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    key = _key(name)
    key = _ALIASES.get(key, key)
    if key in _LOSSES:
        return _LOSSES[key]
    known = sorted([*_LOSSES, *_ALIASES])
    close = difflib.get_close_matches(key, known, n=4, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(f"unknown loss {name!r}{hint} (losslab.names() lists all {len(_LOSSES)})")


def get(name, **params):
    """A loss by name, with hyperparameters as keywords: ``get("huber", delta=1.5)``.

    A Loss instance passes through unchanged (with no keywords), so that functions can accept
    either a name or a loss.
    """
    from ._base import Loss

    if isinstance(name, Loss):
        if params:
            raise TypeError("hyperparameters can only be given with a loss name, not a Loss instance")
        return name
    return loss_class(name)(**params)
