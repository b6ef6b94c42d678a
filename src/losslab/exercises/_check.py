"""Checking a learner's function: run it on the hidden cases, score it by group, and name the
mistake when the answers match one.

The learner's function never crashes the checker: an exception, a wrong type or shape, a NaN
and a call that runs past the time limit are each reported as a finding. The time limit uses
``SIGALRM`` in the main thread (a pure-Python loop is interrupted); elsewhere the call runs in a
helper thread, stopped by an exception raised in it when it runs over. ``losslab exercise check`` runs the learner's
file in a child process with a time limit on top.
"""

from __future__ import annotations

import signal
import threading
import traceback
import warnings
from dataclasses import dataclass, field

import numpy as np

from ._bank import EXERCISES, Exercise
from ._cases import cases

RTOL = {"float32": 2e-4}  # the float32 group; every other group 1e-6 (relative), see _close
# absolute slack where probabilities are exactly 0 or 1: a learner's clip at eps = 1e-7 adds
# about eps per saturated term, which the statements allow
ATOL = {"saturated": 1e-6}
TIME_LIMIT = 2.0


@dataclass
class CheckResult:
    """What ``check`` found: ``passed`` (every group right), ``score`` (the share of groups
    right, 0..1), ``groups`` (group -> (right cases, cases)), ``findings`` (sentences),
    the exercise's ``name`` and the learner's ``seed``."""

    name: str
    seed: object
    passed: bool
    score: float
    groups: dict = field(default_factory=dict)
    findings: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"exercise": self.name, "seed": self.seed, "passed": self.passed,
                "score": self.score, "groups": {k: list(v) for k, v in self.groups.items()},
                "findings": list(self.findings)}

    def __str__(self) -> str:
        head = (f"{self.name}: {'passed' if self.passed else 'not passed'}, score "
                f"{self.score:.2f}")
        groups = ", ".join(f"{g} {a}/{b}" for g, (a, b) in self.groups.items())
        return "\n".join([head, f"cases: {groups}"] + [f"- {f}" for f in self.findings])

    def _repr_html_(self) -> str:
        from .._core import html as H

        colour = "#1b7f3b" if self.passed else "#b00020"
        items = "".join(f"<li>{H.escape(f)}</li>" for f in self.findings)
        rows = [(g, a, b) for g, (a, b) in self.groups.items()]
        return H.section(f"{self.name}: {'passed' if self.passed else 'not passed'}",
                         f"<p style='color:{colour}'>score {self.score:.2f}</p>",
                         H.table(rows, ["cases", "right", "of"]),
                         f"<ul>{items}</ul>" if items else "")


class _TimeLimit(Exception):
    pass


def _raise(signum, frame):
    raise _TimeLimit()


def call_with_limit(fn, args, kwargs, limit):
    """(result, None) or (None, ("exception", text) | ("timeout", limit))."""
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        old = signal.signal(signal.SIGALRM, _raise)
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            return fn(*args, **kwargs), None
        except _TimeLimit:
            return None, ("timeout", limit)
        except Exception as exc:  # noqa: BLE001 - the learner's error is a finding
            return None, ("exception", _describe(exc))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
    box = {}

    def run():
        try:
            box["out"] = fn(*args, **kwargs)
        except _TimeLimit:
            pass
        except Exception as exc:  # noqa: BLE001
            box["err"] = _describe(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(limit)
    if t.is_alive():
        _stop(t)
        return None, ("timeout", limit)
    if "err" in box:
        return None, ("exception", box["err"])
    return box.get("out"), None


def _stop(thread) -> None:
    """Stop a learner's call that ran over in a helper thread: raise an exception in it (the
    interpreter delivers it at its next bytecode, so a pure-Python loop ends), so that it does
    not keep the interpreter busy after the check. A call stuck in C code cannot be stopped."""
    import ctypes

    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident),
                                               ctypes.py_object(_TimeLimit))
    thread.join(1.0)


def _describe(exc) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" (line {tb[-1].lineno})" if tb else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _as_array(out):
    if out is None:
        return None, "returned None, which is not a number or an array (a missing return?)"
    try:
        return np.asarray(out, dtype=np.float64), None
    except (TypeError, ValueError) as exc:
        return None, f"returned {type(out).__name__}, which is not a number or an array ({exc})"


def _close(a, r, group) -> bool:
    if a is None or np.shape(a) != np.shape(r):
        return False
    if not np.all(np.isfinite(a)):
        return False
    rtol = RTOL.get(group, 1e-6)
    scale = 1.0 + float(np.max(np.abs(r))) if np.size(r) else 1.0
    return bool(np.allclose(a, r, rtol=rtol, atol=max(1e-9 * scale, ATOL.get(group, 0.0))))


def _copy(inputs):
    return tuple(np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in inputs)


def _f64(inputs):
    return tuple(np.asarray(a, dtype=np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
                 else (float(a) if isinstance(a, np.floating) else a) for a in inputs)


def check(name, fn, seed=None, *, time_limit: float = TIME_LIMIT) -> CheckResult:
    """Check the learner's function ``fn`` on exercise ``name`` with the hidden cases of learner
    ``seed`` (an integer or a learner id; None: the exercise's first hyperparameters and seed
    0). Never raises on the learner's behalf: what went wrong is in ``findings``."""
    ex = get_exercise(name)
    if not callable(fn):
        raise TypeError(f"fn must be the learner's function, got {type(fn).__name__}")
    params = ex.params_for(seed)
    all_cases = cases(ex, params, 0 if seed is None else seed)
    results = []  # (group, inputs, answer array or None, reference, problem or None)
    findings = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        refs = [np.asarray(ex.reference(_f64(inputs), params), dtype=np.float64)
                for _, inputs in all_cases]
    timed_out = False
    raised = {}
    for (group, inputs), ref in zip(all_cases, refs):
        if timed_out:
            results.append((group, inputs, None, ref, "not run after a time-out"))
            continue
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out, err = call_with_limit(fn, _copy(inputs), dict(params), time_limit)
        if err is not None:
            kind, detail = err
            if kind == "timeout":
                timed_out = True
                findings.append(f"did not return within {detail:g} s on {_a(group)} case: an "
                                "endless loop? (the remaining cases were not run)")
            else:
                raised.setdefault(detail, []).append(group)
            results.append((group, inputs, None, ref, kind))
            continue
        a, problem = _as_array(out)
        if problem is None and np.shape(a) != np.shape(ref):
            problem = (f"returned shape {np.shape(a)} where {ex.returns} of shape "
                       f"{np.shape(ref)} is asked ({_a(group)} case)")
        results.append((group, inputs, a, ref, problem))
    for detail, where in raised.items():
        findings.append(f"raised {detail} on {len(where)} of {len(all_cases)} cases "
                        f"({', '.join(dict.fromkeys(where))})")
    groups = {}
    for group, _, a, ref, problem in results:
        right = problem is None and _close(a, ref, group)
        got = groups.setdefault(group, [0, 0])
        got[0] += right
        got[1] += 1
    failed = [g for g, (a, b) in groups.items() if a < b]
    findings += _diagnose(ex, params, results, failed)
    score = sum(a == b for a, b in groups.values()) / len(groups)
    seen, unique = set(), []
    for f in findings:
        if f not in seen:
            seen.add(f)
            unique.append(f)
    return CheckResult(ex.name, seed, not failed, float(score),
                       {g: tuple(v) for g, v in groups.items()}, unique)


def _diagnose(ex: Exercise, params, results, failed) -> list:
    if not failed:
        return []
    out = []
    shapes = [p for _, _, _, _, p in results if p and p.startswith(("returned shape", "returned "))]
    if shapes:
        out.append(shapes[0])
    answered = [(g, x, a, r) for g, x, a, r, p in results if p is None]
    # a known mistake: the answers match what that mistake gives, on every answered case
    # where the mistake's answer is finite, and they are not the reference (the saturated and
    # extreme cases are left out: there the numbers depend on how one clips)
    plain = [c for c in answered if c[0] not in ("saturated", "extreme logits")]
    for text, mutant in ex.mutants:
        matched, differs = 0, False
        for g, x, a, r in plain:
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    m = np.asarray(mutant(_f64(x), params), dtype=np.float64)
            except Exception:  # noqa: BLE001 - a mutant that does not apply to this case
                continue
            if np.shape(m) != np.shape(a) or not np.all(np.isfinite(m)):
                continue
            if not _close(a, m, g):
                matched = -1
                break
            matched += 1
            differs = differs or not _close(a, r, g)
        if matched >= 2 and differs:
            out.append(text)
    nonfinite = {g for g, _, a, r in answered
                 if a is not None and not np.all(np.isfinite(a)) and np.all(np.isfinite(r))}
    if "saturated" in nonfinite:
        out.append("not finite where a probability is exactly 0 or 1 (a right prediction): "
                   "clip p to [eps, 1 - eps] before the log, or skip the terms whose weight is "
                   "0 (forgetting epsilon)")
    if "extreme logits" in nonfinite:
        out.append("not finite at extreme logits (|z| = 800): exp overflows; use a stable form "
                   "(log-sum-exp, log1p(exp(-|z|)) + max(z, 0))")
    other = nonfinite - {"saturated", "extreme logits"}
    if other:
        out.append(f"NaN or inf on {', '.join(sorted(other))} cases, where the answer is finite")
    rest = [g for g in failed if g not in ("saturated", "extreme logits") or g not in nonfinite]
    if set(failed) == {"kinks"} and ex.kinks:
        out.append(f"right everywhere except exactly at the kink: {ex.kinks}")
    elif set(failed) == {"float32"}:
        out.append("right in float64 but not in float32: the answer loses precision in single "
                   "precision (compute in float64, or use a stable form)")
    elif set(failed) == {"shapes"}:
        out.append("right on 1-D batches but not on one sample or on 2-D arrays: use "
                   "elementwise operations and average over every element")
    if not out and rest:
        g, x, a, r = next(((g, x, a, r) for g, x, a, r in answered if g in rest
                           and not _close(a, r, g)), (None, None, None, None))
        if g is not None:
            out.append(f"wrong on {', '.join(rest)} cases, with no known mistake matching: on "
                       f"{_a(g)} case the answer is {_short(a)}, the reference {_short(r)}")
    return out


def _a(group) -> str:
    return ("an " if group[0] in "aeiou" else "a ") + group


def _short(a) -> str:
    a = np.asarray(a)
    if a.size == 1:
        return f"{float(a):.6g}"
    flat = ", ".join(f"{v:.4g}" for v in a.ravel()[:3])
    return f"[{flat}{', ...' if a.size > 3 else ''}] (shape {a.shape})"


def names() -> list:
    """Every exercise's name, in the bank's order."""
    return list(EXERCISES)


def get_exercise(name) -> Exercise:
    if name not in EXERCISES:
        import difflib

        close = difflib.get_close_matches(str(name), list(EXERCISES), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"unknown exercise {name!r}{hint} ('losslab exercise list' shows all "
                         f"{len(EXERCISES)})")
    return EXERCISES[name]


def reference(name, seed=None):
    """The reference answer as a Python function of the exercise's inputs (for instructors and
    for the companion notebooks' worked answers)."""
    ex = get_exercise(name)

    def answer(*inputs, **params):
        p = {**ex.params_for(seed), **params}
        return ex.reference(_f64(tuple(np.asarray(v) if not np.isscalar(v) else v
                                       for v in inputs)), p)
    answer.__name__ = ex.name
    return answer
