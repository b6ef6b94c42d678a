"""The registry: the single source of truth for which losses exist.

The command line, the verification table, the README's catalogue and every generic test read it.
A loss joins all of them by being decorated with ``@register``; the class carries everything
the registry entry needs, the verification's settings and oracle name included
(``verify_settings``, ``torch_reference``). ``import losslab`` imports ``losslab.losses``, which
registers the whole catalogue.
"""

from __future__ import annotations

import difflib

from ._base import Loss

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


def names() -> list[str]:
    """Canonical names of every registered loss, sorted."""
    return sorted(_LOSSES)


def aliases() -> dict[str, str]:
    """Alias -> canonical name."""
    return dict(sorted(_ALIASES.items()))


def loss_class(name: str) -> type:
    """The class registered under ``name`` (or an alias of it)."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    key = _key(name)
    key = _ALIASES.get(key, key)
    if key in _LOSSES:
        return _LOSSES[key]
    known = sorted([*_LOSSES, *_ALIASES])
    raise UnknownLoss(name, difflib.get_close_matches(key, known, n=4, cutoff=0.5), len(_LOSSES))


class UnknownLoss(ValueError):
    """A name that is no registered loss: ``name``, the close ``suggestions`` and how many losses
    there are (``count``), so that each interface can say where the list is."""

    def __init__(self, name, suggestions, count, where="losslab.names() lists"):
        self.name, self.suggestions, self.count = name, list(suggestions), int(count)
        hint = (f"; did you mean {', '.join(repr(c) for c in self.suggestions)}?"
                if self.suggestions else "")
        super().__init__(f"unknown loss {name!r}{hint} ({where} all {self.count})")


def get(name, **params):
    """A loss by name, with hyperparameters as keywords: ``get("huber", delta=1.5)``.

    A Loss instance passes through unchanged (with no keywords), so that functions can accept
    either a name or a loss.
    """
    if isinstance(name, Loss):
        if params:
            raise TypeError("hyperparameters can only be given with a loss name, not a Loss instance")
        return name
    cls = loss_class(name)
    allowed = set(cls._param_names()) | {"check_finite"}
    unknown = [k for k in params if k not in allowed]
    if unknown:
        import difflib

        k = unknown[0]
        close = difflib.get_close_matches(k, sorted(allowed), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else "."
        listed = ", ".join(n for n in cls._param_names()) or "none"
        raise TypeError(f"{cls.name} has no hyperparameter {k!r}{hint} Its hyperparameters: "
                        f"{listed} (and check_finite)")
    return cls(**params)
