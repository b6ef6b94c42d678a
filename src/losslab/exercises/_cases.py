"""The hidden cases an exercise is checked on, drawn from the learner's seed, in named groups:

* ``ordinary``: valid values away from every kink, three batch sizes;
* ``kinks``: values exactly at the exercise's kink (e = 0, |e| = delta, a margin of 1);
* ``saturated``: probabilities exactly 0 and 1 on correct predictions (finite in every
  convention; a log without clipping gives NaN there);
* ``extreme logits``: logits of +-800 (finite for a stable formula, overflow for a naive one);
* ``shapes``: one sample, and 2-D arrays for elementwise losses;
* ``float32``: the ordinary inputs in float32.
"""

from __future__ import annotations

import numpy as np

from ._bank import Exercise, seed_int

GROUPS = ("ordinary", "kinks", "saturated", "extreme logits", "shapes", "float32")


def _onehot(idx, c):
    return np.eye(c)[idx]


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _draw(ex: Exercise, params, rng, n, shape2=False, mode="ordinary"):
    """One case's inputs (a tuple, in ``ex.inputs`` order)."""
    k = ex.kind
    size = (n, 3) if shape2 else (n,)
    if k == "regression":
        if ex.name.startswith("msle"):
            yt = rng.uniform(0.0, 5.0, size)
            return yt, rng.uniform(0.0, 5.0, size)
        yt = rng.normal(0.0, 2.0, size)
        e = rng.uniform(0.05, 3.0, size) * rng.choice([-1.0, 1.0], size)
        kinks = [p for key, p in params.items() if key in ("delta", "beta")]
        for kink in kinks:  # away from the kinks in ordinary cases
            near = np.abs(np.abs(e) - kink) < 0.05
            e[near] += 0.1 * np.sign(e[near])
        if mode == "kinks":
            points = [0.0] + [s * kk for kk in kinks for s in (-1.0, 1.0)]
            e.flat[: len(points) * 2] = np.resize(points, min(e.size, len(points) * 2))
        return yt, yt + e
    if k in ("prob", "logit", "margin"):
        labels = (-1.0, 1.0) if k == "margin" else (0.0, 1.0)
        y = rng.choice(labels, size)
        if k == "prob":
            p = rng.uniform(0.02, 0.98, size)
            if mode == "saturated":
                m = rng.random(size) < 0.5
                m.flat[0] = True
                p[m] = y[m]
            return y, p
        if k == "logit":
            z = rng.normal(0.0, 3.0, size)
            if mode == "extreme logits":
                z = rng.choice([-800.0, 800.0], size)
            return y, z
        s = rng.normal(0.0, 2.0, size)
        s[np.abs(np.abs(s) - 1.0) < 0.05] += 0.2
        if mode == "kinks":
            s.flat[: max(1, s.size // 2)] = y.flat[: max(1, s.size // 2)]  # margins of 1
        if mode == "extreme logits":
            s = rng.choice([-800.0, 800.0], size)
        return y, s
    if k in ("rows", "rows_logit", "rows_soft", "index"):
        c = int(rng.integers(3, 6))
        idx = rng.integers(0, c, n)
        z = rng.normal(0.0, 2.0, (n, c))
        if k == "rows_logit":
            if mode == "extreme logits":
                z = rng.choice([-800.0, 800.0], (n, c))
            return _onehot(idx, c), z
        p = _softmax(z)
        if mode == "saturated" and k != "rows_soft":  # KL: zeros in the target, not in q
            m = rng.random(n) < 0.5
            m[0] = True
            p[m] = _onehot(idx[m], c)
        if k == "index":
            return idx, p
        if k == "rows_soft":
            t = _softmax(rng.normal(0.0, 2.0, (n, c)))
            if mode == "saturated":
                t[: max(1, n // 2)] = _onehot(idx[: max(1, n // 2)], c)
            return t, p
        return _onehot(idx, c), p
    if k == "line":
        x = rng.normal(0.0, 1.0, n)
        y = 2.0 * x + 1.0 + 0.3 * rng.normal(0.0, 1.0, n)
        return x, y, float(rng.normal(0.0, 1.5)), float(rng.normal(0.0, 1.5))
    if k == "multitask":
        y = rng.choice([0.0, 1.0], n)
        z = rng.normal(0.0, 3.0, n)
        if mode == "extreme logits":
            z = rng.choice([-800.0, 800.0], n)
        bt = rng.normal(0.0, 1.0, (n, 4))
        return y, z, bt, bt + rng.normal(0.0, 1.5, (n, 4))
    raise ValueError(f"no cases for the kind {k!r}")  # pragma: no cover


def _f32(inputs):
    return tuple(np.asarray(a, dtype=np.float32) if isinstance(a, np.ndarray)
                 and a.dtype.kind == "f" else (np.float32(a) if isinstance(a, float) else a)
                 for a in inputs)


def cases(ex: Exercise, params, seed) -> list:
    """[(group, inputs)] for one learner (``seed``): the same list on every machine."""
    rng = np.random.default_rng(seed_int(seed, ex.name + ":cases"))
    out = []
    for n in (int(rng.integers(3, 9)), int(rng.integers(9, 40)), 5):
        out.append(("ordinary", _draw(ex, params, rng, n)))
    if ex.kinks:
        out.append(("kinks", _draw(ex, params, rng, 8, mode="kinks")))
    if ex.kind in ("prob", "rows", "rows_soft", "index"):
        out.append(("saturated", _draw(ex, params, rng, 8, mode="saturated")))
    if ex.kind in ("logit", "rows_logit", "multitask") or (ex.kind == "margin" and ex.extreme):
        out.append(("extreme logits", _draw(ex, params, rng, 6, mode="extreme logits")))
    out.append(("shapes", _draw(ex, params, rng, 1)))
    if ex.kind in ("regression", "prob", "logit", "margin"):
        out.append(("shapes", _draw(ex, params, rng, 4, shape2=True)))
    out.append(("float32", _f32(_draw(ex, params, rng, 7))))
    return out
