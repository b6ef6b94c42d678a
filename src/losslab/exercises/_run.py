"""Checking a learner's file in a child process (what the command line does): the file is
imported there, its function checked with a time limit per call, and the whole run bounded by a
time limit of its own, so that no learner's code can hang or crash the checker or the grader.

``python -m losslab.exercises._run NAME FILE FUNCTION SEED`` prints the result as JSON.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

RUN_LIMIT = 120.0  # seconds for one learner's whole check, import included


def _child(name, path, function, seed):
    import importlib.util

    from ._check import CheckResult, check

    try:
        spec = importlib.util.spec_from_file_location("learner_answer", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except BaseException as exc:  # noqa: BLE001 - a learner's file that cannot load is a finding
        res = CheckResult(name, seed, False, 0.0, {}, [
            f"{Path(path).name} could not be loaded: {type(exc).__name__}: {exc}"])
        return res.to_dict()
    fn = getattr(module, function, None)
    if not callable(fn):
        found = sorted(k for k, v in vars(module).items() if callable(v) and not k.startswith("_"))
        res = CheckResult(name, seed, False, 0.0, {}, [
            f"{Path(path).name} defines no function {function!r} (it defines: "
            f"{', '.join(found) or 'none'})"])
        return res.to_dict()
    return check(name, fn, seed).to_dict()


def check_file(name: str, path, *, function: str | None = None, seed=None,
               limit: float = RUN_LIMIT) -> dict:
    """Check the function ``function`` (default: the exercise's name) of the learner's file
    ``path`` in a child process; the result as a dict (``CheckResult.to_dict``)."""
    from ._check import get_exercise

    get_exercise(name)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no file {str(path)!r}")
    function = function or name
    cmd = [sys.executable, "-m", "losslab.exercises._run", name, str(path), function,
           json.dumps(seed)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return {"exercise": name, "seed": seed, "passed": False, "score": 0.0, "groups": {},
                "findings": [f"the check of {path.name} did not finish within {limit:g} s"]}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"exercise": name, "seed": seed, "passed": False, "score": 0.0, "groups": {},
                "findings": [f"the learner's process ended with code {proc.returncode}: "
                             f"{tail[0]}"]}
    return json.loads(lines[-1])


def grade_folder(folder, name: str, out, *, function: str | None = None) -> list:
    """Check every ``*.py`` file of ``folder`` (one per learner; the file's name is the
    learner's id and seed) and write ``out`` as CSV: learner, score, passed, findings."""
    folder = Path(folder)
    files = sorted(p for p in folder.glob("*.py") if p.is_file())
    if not files:
        raise ValueError(f"{str(folder)!r} holds no .py files to grade")
    rows = []
    for path in files:
        res = check_file(name, path, function=function, seed=path.stem)
        rows.append({"learner": path.stem, "score": f"{res['score']:.3f}",
                     "passed": "yes" if res["passed"] else "no",
                     "findings": " | ".join(res["findings"])})
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["learner", "score", "passed", "findings"])
        w.writeheader()
        w.writerows(rows)
    return rows


if __name__ == "__main__":
    name, path, function, seed = sys.argv[1:5]
    print(json.dumps(_child(name, path, function, json.loads(seed))))
