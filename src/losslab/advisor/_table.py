"""Reading a user's table (CSV) and checking it before anything is trained.

Every problem gets one message that names what is wrong, where, and what to do: a file that
cannot be read, duplicated column names, a target column that does not exist (with close names),
missing values (how many, in which columns and rows), non-numeric feature columns (which, with
an example value), values that are infinite or so large that their squares overflow (beyond
1e150: scaling and variances would turn them into NaN), a target with a single value or class,
too few rows for the folds.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from pathlib import Path

import numpy as np

__all__ = ["TableError", "read_csv", "check_arrays", "check_target"]

MISSING = {"", "na", "n/a", "nan", "-nan", "+nan", "null", "none", "?", "-"}
# Beyond this magnitude a value's square overflows float64 once summed over a table's rows:
# standardising a column or a squared error would give inf or NaN.
HUGE = 1e150
# A number as CSV files write it, in ASCII: Python's float() also takes "1_000" and
# Arabic-Indic or full-width digits, which a spreadsheet would show as text.
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|infinity)", re.I | re.A)
DELIMITERS = ",\t;|"
WHERE = "\x00"  # where a one-problem message names the file


class TableError(ValueError):
    """A table that cannot be used as given; the message says why and what to do."""


def _float(v):
    if not NUMBER.fullmatch(v.strip()):
        return None
    return float(v)


def _sniff(text: str) -> str:
    """The delimiter: a comma unless the header row splits on tab, semicolon or pipe and a comma
    does not."""
    header = text.splitlines()[0] if text else ""
    counts = {d: header.count(d) for d in DELIMITERS}
    if counts[","] == 0 and any(counts[d] for d in "\t;|"):
        return max("\t;|", key=counts.get)
    return ","


def read_csv(path, target: str):
    """(X float array, y array, feature names) from a CSV with a header row (comma-separated,
    or tab-, semicolon- or pipe-separated when the header row says so).

    Features must be numeric; the target may be numbers or class labels (strings). Every
    problem of the table is reported at once, in one ``TableError``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
        delimiter = _sniff(text)
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise TableError(f"cannot read {str(path)!r}: {exc}") from None
    rows = [r for r in rows if any(c.strip() for c in r)]
    if len(rows) < 2:
        raise TableError(f"{str(path)!r} has no data rows (a header row and at least one row "
                         "of values are needed)")
    header = [h.strip() for h in rows[0]]
    body = rows[1:]
    bad_len = [i + 2 for i, r in enumerate(body) if len(r) != len(header)]
    if bad_len:
        raise TableError(f"{len(bad_len)} rows do not have {len(header)} fields (first at line "
                         f"{bad_len[0]} of {str(path)!r})")
    problems = []
    seen = {}
    for j, h in enumerate(header):
        if h in seen:
            problems.append(f"column name {h!r} appears twice (columns {seen[h] + 1} and "
                            f"{j + 1}): rename one, every column must have its own name")
        seen.setdefault(h, j)
    if target not in header:
        lower = {h.lower(): h for h in header}
        close = [lower[c] for c in difflib.get_close_matches(target.lower(), list(lower), n=3,
                                                             cutoff=0.5)]
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        problems.append(f"no column {target!r}{WHERE}{hint} (the columns are: "
                        f"{', '.join(header)})")
    cols = {}
    for j, h in enumerate(header):
        cols.setdefault(h, [r[j].strip() for r in body])
    missing = {h: [i + 2 for i, v in enumerate(vals) if v.lower() in MISSING]
               for h, vals in cols.items()}
    missing = {h: lines for h, lines in missing.items() if lines}
    if missing:
        total = sum(len(v) for v in missing.values())
        where = "; ".join(f"column {h!r}: {len(v)} (line{'s' if len(v) > 1 else ''} "
                          f"{', '.join(map(str, v[:5]))}{', ...' if len(v) > 5 else ''})"
                          for h, v in missing.items())
        problems.append(f"{total} missing value{'s' if total > 1 else ''}{WHERE}: {where}; "
                        "drop those rows or fill them in (impute) first")
    features = [h for h in dict.fromkeys(header) if h != target]
    if not features:
        problems.append(f"no feature columns besides the target {target!r}")
    text_cols = {}
    for h in features:
        for i, v in enumerate(cols[h]):
            if v.lower() not in MISSING and _float(v) is None:
                text_cols[h] = (v, i + 2)
                break
    if text_cols:
        listed = ", ".join(f"{h!r} (e.g. {v!r} at line {line})"
                           for h, (v, line) in text_cols.items())
        problems.append(f"non-numeric feature column{'s' if len(text_cols) > 1 else ''}: "
                        f"{listed}; encode categories as numbers (one-hot columns for unordered "
                        "categories), write numbers in plain digits (1000, 1.5e3), or drop those "
                        "columns")
    ys = cols.get(target, [])
    yf = [_float(v) for v in ys]
    odd = [(i + 2, v) for i, (v, f) in enumerate(zip(ys, yf))
           if f is None and v.lower() not in MISSING]
    if target in cols and odd and len(odd) < len(ys) / 2:
        listed = ", ".join(f"{v!r} at line {line}" for line, v in odd[:5])
        problems.append(f"the target column {target!r} holds numbers except {len(odd)} "
                        f"cell{'s' if len(odd) > 1 else ''} ({listed}{', ...' if len(odd) > 5 else ''})"
                        ": fix or drop those rows")
    if not problems:
        X = np.array([[float(v) for v in cols[h]] for h in features]).T
        y = np.array(yf, dtype=np.float64) if not odd else np.array(ys)
        for j, h in enumerate(features):
            problems += _magnitude_problems(X[:, j], f"feature column {h!r}",
                                            lambda i: f"line {i + 2}")
        if y.dtype.kind == "f":
            problems += _magnitude_problems(y, f"target column {target!r}",
                                            lambda i: f"line {i + 2}")
    if problems:
        if delimiter == "," and len(header) == 1 and any(d in header[0] for d in "\t;| "):
            problems.insert(0, f"the file has one column named {header[0]!r}: is it separated "
                               "by something other than commas, tabs, semicolons or pipes?")
        if len(problems) == 1:  # one problem: the path where the sentence names it
            text = problems[0]
            raise TableError(text.replace(WHERE, f" in {str(path)!r}") if WHERE in text
                             else f"{str(path)!r}: {text}")
        raise TableError(f"{len(problems)} problems in {str(path)!r}: " + " ".join(
            f"({k}) {p.replace(WHERE, '')}." for k, p in enumerate(problems, 1)))
    return X, y, features


def _magnitude_problems(values, what, where):
    bad = ~np.isfinite(values) | (np.abs(np.where(np.isfinite(values), values, 0.0)) > HUGE)
    if not np.any(bad):
        return []
    i = int(np.flatnonzero(bad)[0])
    kind = ("NaN" if np.isnan(values[i]) else "infinite" if not np.isfinite(values[i])
            else f"{values[i]:.3g}")
    return [f"{what} has {int(bad.sum())} value{'s' if bad.sum() > 1 else ''} that cannot be "
            f"computed with (first: {kind} at {where(i)}): values must be finite and within "
            f"+-{HUGE:.0e}, since their squares overflow; rescale the column (e.g. to "
            "thousands) or take its logarithm"]


def _check_magnitude(values, what, where):
    """Infinite values, or values beyond HUGE, refused with the first place they occur."""
    problems = _magnitude_problems(values, what, where)
    if problems:
        raise TableError(problems[0])


def check_arrays(X, y):
    """Shapes, types and finiteness of a table given as arrays; returns (X float64, y)."""
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2:
        raise TableError(f"X must be a 2-D table (rows, features), got shape {X.shape}")
    if X.dtype.kind not in "biuf":
        raise TableError("X must be numeric: encode categories as numbers (one-hot) or drop them")
    if len(X) != len(y):
        raise TableError(f"X has {len(X)} rows but y has {len(y)}")
    Xf = X.astype(np.float64)
    nan = np.isnan(Xf)
    if np.any(nan):
        rows = np.flatnonzero(np.any(nan, axis=1))
        raise TableError(f"{int(nan.sum())} missing values in X (rows "
                         f"{', '.join(map(str, rows[:5]))}{', ...' if len(rows) > 5 else ''}): "
                         "drop those rows or impute them")
    for j in range(Xf.shape[1]):
        _check_magnitude(Xf[:, j], f"feature column {j}", lambda i: f"row {i}")
    if y.dtype.kind == "f":
        if np.any(np.isnan(y)):
            raise TableError(f"{int(np.isnan(y).sum())} missing values in the target: drop "
                             "those rows")
        _check_magnitude(y, "the target", lambda i: f"row {i}")
    values = np.unique(y)
    if len(values) < 2:
        only = values[0].item() if hasattr(values[0], "item") else values[0]
        raise TableError(f"the target has a single value ({only!r}) in all {len(y)} rows: there "
                         "is nothing to learn")
    return X.astype(np.float64), y


def check_target(y, cv: int, task: str, detected: str | None = None) -> None:
    """The target can be learnt and split into ``cv`` folds for ``task`` (``detected``: the task
    the target looks like, named in the messages when it differs)."""
    values, counts = np.unique(y, return_counts=True)
    given = "" if detected in (None, task) else (
        f" (task {task!r} was given; the target looks like {detected}: {len(values)} distinct "
        "values)")
    if task == "regression":
        if y.dtype.kind not in "biuf":
            raise TableError("a regression target must be numeric; for class labels use "
                             "task='binary' or 'multiclass'")
        if len(y) < 2 * cv:
            raise TableError(f"{len(y)} rows are too few for {cv}-fold cross-validation (at least "
                             f"{2 * cv} are needed)")
        return
    if task == "binary" and len(values) != 2:
        raise TableError(f"the target is not binary: it has {len(values)} distinct values"
                         f"{given or ''}; pass task='multiclass' or 'regression', or drop the "
                         "task to detect it")
    if counts.min() < cv:
        rare = values[np.argmin(counts)]
        rare = rare.item() if hasattr(rare, "item") else rare
        if isinstance(rare, float) and rare.is_integer():
            rare = int(rare)  # class codes read from a CSV as 25.0 are shown as 25
        n_small = int(np.count_nonzero(counts < cv))
        raise TableError(f"class {rare!r} has {counts.min()} row{'s' if counts.min() > 1 else ''}, "
                         f"fewer than the {cv} folds ({n_small} of {len(values)} classes are "
                         f"that small){given}: lower cv, merge rare classes or add rows"
                         + ("; or drop the task to detect it" if given else ""))
