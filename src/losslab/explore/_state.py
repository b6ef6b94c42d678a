"""The explorer's state as an address: ``?page=loss&loss=huber&delta=2``,
``?page=landscape&surface=saddle&optimizer=adam&lr=0.05``. Each page writes its own keys;
opening an address restores them (absent keys keep their defaults, unknown or invalid values are
ignored, numbers are clamped into their controls' ranges)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from . import _compute as C

PAGES = ("loss", "regression", "classification", "landscape")

# page -> [(key, default, kind, (low, high) or choices)]
FIELDS = {
    "loss": [("x", 2.0, float, None), ("overlay", ("mse", "mae"), list, None)],
    "regression": [("outliers", 4, int, (0, 10)), ("size", 30.0, float, (0.0, 60.0)),
                   ("quantile", 0.5, float, (0.05, 0.95))],
    "classification": [("ratio", 10, int, (1, 50)), ("separation", 2.0, float, (0.5, 5.0)),
                       ("gamma", 2.0, float, (0.0, 5.0)), ("alpha", 0.75, float, (0.05, 0.95)),
                       ("threshold", 0.5, float, (0.05, 0.95))],
    "landscape": [("surface", "double_well", str, C.SURFACE_CHOICES), ("steps", 100, int, (10, 300)),
                  ("optimizer", "gd", str, C.OPTIMIZERS), ("lr", 0.05, float, (0.001, 0.5)),
                  ("optimizer2", "momentum", str, C.OPTIMIZERS),
                  ("lr2", 0.05, float, (0.001, 0.5))],
}
LOSS_DEFAULT = "huber"
BETA_DEFAULT = 0.9


def defaults() -> dict:
    """The whole state at its defaults."""
    st = {"page": "loss", "loss": LOSS_DEFAULT, "params": {}, "beta": BETA_DEFAULT,
          "beta2": BETA_DEFAULT}
    for fields in FIELDS.values():
        for key, default, _, _ in fields:
            st[key] = list(default) if isinstance(default, tuple) else default
    st["start"] = list(C.default_start(st["surface"]))
    return st


def _parse(value, kind, limits):
    try:
        if kind is str:
            return value if value in limits else None
        v = kind(float(value)) if kind is int else float(value)
    except (TypeError, ValueError):
        return None
    if v != v:  # NaN
        return None
    if limits is not None:
        v = min(max(v, limits[0]), limits[1])
    return v


def parse(search: str | None, current: dict) -> dict:
    """``current`` with what the address ``search`` (``?key=value&...``) says."""
    st = {**current, "params": dict(current.get("params", {}))}
    q = dict(parse_qsl((search or "").lstrip("?")))
    if not q:
        return st
    page = q.get("page")
    if page in PAGES:
        st["page"] = page
    for fields in FIELDS.values():
        for key, _, kind, limits in fields:
            if key not in q:
                continue
            if kind is list:
                st[key] = [v for v in q[key].split(",") if v]
            else:
                v = _parse(q[key], kind, limits)
                if v is not None:
                    st[key] = v
    if q.get("loss") in {n for ns in C.grouped().values() for n in ns}:
        if q["loss"] != st["loss"]:
            st["params"] = {}
            if "x" not in q:
                st["x"] = C.default_x(q["loss"])
        st["loss"] = q["loss"]
    lo, hi = C.axis(st["loss"])[1]
    st["x"] = min(max(float(st["x"]), lo), hi)
    for param, c, _ in C.controls(st["loss"]):
        if param in q:
            v = _parse(q[param], float, (c.low, c.high))
            if v is not None:
                st["params"][param] = c.clamp(v)
    st["overlay"] = [o for o in st["overlay"] if o in C.overlays(st["loss"])]
    for which, opt_key in (("beta", "optimizer"), ("beta2", "optimizer2")):
        name = C.BETA_NAME[st[opt_key]]
        key = name + ("2" if which == "beta2" else "") if name else None
        if key and key in q:
            v = _parse(q[key], float, (0.0, 0.999))
            if v is not None:
                st[which] = v
    if "surface" in q and st["surface"] != current.get("surface"):
        st["start"] = list(C.default_start(st["surface"]))
    if "x0" in q and "y0" in q:
        x0, y0 = _parse(q["x0"], float, None), _parse(q["y0"], float, None)
        if x0 is not None and y0 is not None:
            (a, b), (c, d) = C.surface(st["surface"])[1]
            st["start"] = [min(max(x0, a), b), min(max(y0, c), d)]
    return st


def _fmt(v):
    return C.num(v, 6) if isinstance(v, float) else str(v)


def encode(st: dict) -> str:
    """The address (``?page=...``) of the current page's state."""
    page = st["page"]
    items = [("page", page)]
    if page == "loss":
        items.append(("loss", st["loss"]))
        for param, c, start in C.controls(st["loss"]):
            items.append((param, _fmt(float(st["params"].get(param, start)))))
    for key, _, kind, _ in FIELDS[page]:
        v = st[key]
        items.append((key, ",".join(v) if kind is list else _fmt(v)))
    if page == "landscape":
        for which, opt_key, suffix in (("beta", "optimizer", ""), ("beta2", "optimizer2", "2")):
            name = C.BETA_NAME[st[opt_key]]
            if name:
                items.append((name + suffix, _fmt(float(st[which]))))
        items += [("x0", _fmt(float(st["start"][0]))), ("y0", _fmt(float(st["start"][1])))]
    return "?" + urlencode(items, safe=",")
