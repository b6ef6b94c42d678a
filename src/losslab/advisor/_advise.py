"""``advise``: inspect a target, state the course's decision guide for it, and measure candidate
losses on the data, in the model families people deploy, with the uncertainty of each
comparison.

* the task is read from the target (``_inspect.detect_task``) unless given, and the task used is
  the one reported;
* the tournament (``_tournament``) fits every candidate loss in every requested family
  (``linear``, ``mlp``, ``boosting``) on the same repeated cross-validation splits;
* default ranking metrics: MAE for regression (the typical error in the target's units),
  average precision for classification (threshold-free: what the loss changes is the ranking and
  the calibration of the scores; the threshold is a separate decision, tuned inside each training
  fold for the threshold metrics and reported); with costs, the business cost at the tuned
  threshold;
* each candidate's difference to its family's best comes with a 95 % interval (corrected
  resampled t-test); the rule of thumb is judged "agrees", "disagrees" or "cannot tell" from
  those intervals.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .._core import validation as V
from .._io import progress as progress_bar
from . import _tournament as T
from ._inspect import decision_guide, detect_task, inspect_target, label_text
from ._table import TableError, check_arrays, check_target

__all__ = ["Advice", "advise", "inspect_target", "decision_guide", "detect_task", "judge",
           "tied_with", "recommendation_text"]

@dataclass
class Advice:
    """What ``advise`` found: ``inspection``, ``guide`` (the rule of thumb), ``table`` (one row
    per candidate and family, ranked within each family), ``recommendation`` and its family,
    ``verdict`` on the rule of thumb ("agrees", "disagrees", "cannot tell") and ``agreement``
    (a sentence), ``metric``, ``cv`` x ``repeats`` splits, ``seconds``, ``notes``."""

    inspection: dict
    guide: dict
    table: list
    recommendation: str
    recommendation_family: str
    verdict: str
    agreement: str
    metric: str
    cv: int
    repeats: int
    families: list
    best_by_family: dict
    same_best_across_families: bool | None
    seconds: float = 0.0
    notes: list = field(default_factory=list)
    tied: list = field(default_factory=list)
    oof: dict = field(default_factory=dict, repr=False)
    oof_target: np.ndarray | None = field(default=None, repr=False)
    classes: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        from .._io import json_types

        keys = ("inspection", "guide", "table", "recommendation", "recommendation_family",
                "tied", "recommendation_text", "verdict", "agreement", "metric", "cv", "repeats", "families", "best_by_family",
                "same_best_across_families", "seconds", "notes")
        return json_types({k: getattr(self, k) for k in keys})

    # ---- presentation ---------------------------------------------------------------------------
    def records(self) -> list:
        """The table as flat records of plain numbers (``--format csv``): one per candidate and
        family, the ranking metric's mean and standard deviation, the paired difference to the
        family's best with its 95% interval, the verdict, the tuned threshold, every measured
        metric, what the loss estimates and the check of it."""
        metrics = list(dict.fromkeys(m for r in self.table for m in r["metrics"]))
        out = []
        for r in self.table:
            rec = {"family": r["family"], "candidate": r["candidate"], "metric": self.metric,
                   "mean": r["metric_mean"], "std": r["metric_std"], "diff_to_best": r["diff_mean"],
                   "diff_low": r["diff_low"], "diff_high": r["diff_high"], "verdict": r["verdict"],
                   "threshold": r["threshold"]}
            rec.update({m: r["metrics"].get(m) for m in metrics})
            rec.update({"estimates": r["estimates"], "check": r["check"]["name"],
                        "check_value": r["check"]["value"], "check_ideal": r["check"]["ideal"],
                        "fit_seconds": r["fit_seconds"]})
            out.append(rec)
        return out

    @property
    def recommendation_text(self) -> str:
        """The recommendation as a sentence, naming the losses it cannot be told apart from."""
        return recommendation_text(self)

    @property
    def lower_is_better(self) -> bool:
        """Whether a lower ``metric`` ranks a candidate higher (errors, log loss, costs)."""
        return self.metric in T.LOWER_IS_BETTER

    def columns(self, compact: bool = False) -> list:
        """Column names of ``cells``; ``compact`` (a terminal) leaves out what the losses
        estimate (``estimates`` prints it once per loss) and the fit times."""
        extra = [m for m in ("average_precision", "log_loss", "balanced_accuracy", "rmse")
                 if m != self.metric and any(m in r["metrics"] for r in self.table)]
        if compact:
            extra = extra[:2]
        if any(r["threshold"] is not None for r in self.table):
            extra.append("threshold")
        cols = ["family", "candidate", self.metric, "diff to best [95% CI]", "verdict"] + extra
        return cols + (["check"] if compact else ["estimates", "check", "fit s"])

    def cells(self, compact: bool = False) -> list:
        """The table as strings, one list per row (``columns`` names them)."""
        names = self.columns(compact)
        out = []
        for r in self.table:
            ci = "" if r["verdict"] == "best" else (
                f"{r['diff_mean']:+.3g} [{r['diff_low']:+.3g}, {r['diff_high']:+.3g}]")
            verdict = r["verdict"]
            row = [r["family"], r["candidate"], f"{r['metric_mean']:.4g} ± {r['metric_std']:.2g}",
                   ci, verdict]
            for m in names[5:]:
                if m in ("estimates", "check", "fit s"):
                    continue
                v = r["threshold"] if m == "threshold" else r["metrics"].get(m)
                row.append("-" if v is None else f"{v:.3g}")
            chk = r["check"]
            check = "-" if chk["value"] is None else (
                f"{chk['name'].replace('_', ' ')} {chk['value']:.3g}"
                + ("" if chk["ideal"] is None else f" (ideal {chk['ideal']:g})"))
            row += [check] if compact else [r["estimates"], check, f"{r['fit_seconds']:.2f}"]
            out.append(row)
        return out

    def estimates(self) -> dict:
        """{candidate: the statistic its loss estimates}."""
        return {r["candidate"]: r["estimates"] for r in self.table}

    def figures(self) -> dict:
        """{name: matplotlib Figure}: precision-recall curves and reliability diagrams per
        family (classification)."""
        from ._figures import figures

        return figures(self)

    def _repr_html_(self) -> str:
        """In a notebook: the recommendation, how sure it is, and the ranked table."""
        from .._core import html as H

        notes = "".join(f"<li>{H.escape(n)}</li>" for n in self.notes)
        return H.section("losslab advise", f"<p>{H.escape(self.recommendation_text)}</p>",
                         f"<p>{H.escape(self.agreement)}</p>",
                         H.table(self.cells(), self.columns()),
                         f"<ul>{notes}</ul>" if notes else "")

    def to_html(self, title: str = "losslab advise") -> str:
        """A self-contained HTML page (figures inline)."""
        from ._figures import html_page

        return html_page(self, title)

    def write_html(self, path, title: str = "losslab advise"):
        from .._io import write_atomic

        write_atomic(path, self.to_html(title).encode("utf-8"))
        return path


def advise(X, y, *, task: str = "auto", cost_under=None, cost_over=None, metric=None, cv: int = 5,
           repeats: int = 2, models=None, seed: int = 0, progress: bool = False) -> Advice:
    """Inspect the target, state the decision guide, and run the tournament of candidate losses
    (see the module docstring). ``models``: families among ``"linear"``, ``"mlp"``,
    ``"boosting"`` (default: linear, and boosting when LightGBM is installed). Returns an
    ``Advice``."""
    V.check_choice(task, "task", ("auto", "regression", "binary", "multiclass"))
    cv = V.check_scalar(cv, "cv", ge=2, integer=True)
    repeats = V.check_scalar(repeats, "repeats", ge=1, integer=True)
    for name, c in (("cost_under", cost_under), ("cost_over", cost_over)):
        if c is not None:
            V.check_scalar(c, name, gt=0)
    notes = []
    families = _families(models, notes)
    t0 = time.perf_counter()
    X, y = check_arrays(X, y)
    info = inspect_target(X, y, task, cost_under, cost_over)
    task = info["task"]
    check_target(y, cv, task, info["detected_task"])
    if task != "regression" and y.dtype.kind == "f":
        # class labels written as numbers: whole numbers become integer codes, others (0.5 and
        # 1.5) their text, ordered as the numbers are, so the larger value stays the positive
        values = np.unique(y)
        if np.all(values == np.round(values)):
            y = y.astype(np.int64)
        else:
            width = len(str(len(values)))
            names = {v: f"{k:0{width}d}:{label_text(v)}" for k, v in enumerate(values)}
            y = np.array([names[v] for v in y])
    if task == "multiclass" and info["costs"]:
        raise TableError("costs apply to regression (under/over-prediction) and binary "
                         "classification (missed positive/false alarm), not to multiclass")
    if metric is None:
        metric = "cost" if info["costs"] else T.DEFAULT_METRIC[task]
    elif metric not in T.METRICS[task]:
        raise TableError(f"metric {metric!r} does not apply to {task}; choose one of "
                         f"{', '.join(T.METRICS[task])}")
    threshold_objective = ("cost" if info["costs"] else
                           metric if metric in T.THRESHOLD_METRICS else "balanced_accuracy")
    guide = decision_guide(info)
    split_list = T.splits(y, task, cv, repeats, seed)
    families = _families_for_size(families, task, split_list, cv, notes)
    cands, more = T.candidates(info, y, families)
    notes += more
    classes = None if task == "regression" else np.unique(y)
    results = {}
    with progress_bar(len(cands) * len(split_list), "tournament", enabled=progress,
                      unit="fits ") as bar:
        for c in cands:
            bar.describe(f"{c.family}: {c.label}")
            results[(c.family, c.label)] = T.run_candidate(
                c, X, y, task, split_list, cv, seed, threshold_objective, info["costs"], classes,
                advance=bar.advance)
    rows = _rows(cands, results, task, metric, cv)
    best_by_family = {f: next(r["candidate"] for r in rows if r["family"] == f)
                      for f in families if any(r["family"] == f for r in rows)}
    lower = metric in T.LOWER_IS_BETTER
    top = sorted((r for r in rows if r["verdict"] == "best"),
                 key=lambda r: r["metric_mean"] if lower else -r["metric_mean"])[0]
    verdict, agreement = judge(guide, rows, top, metric, cv, repeats)
    tied = tied_with(rows, top)
    for r in rows:
        if r["constant_splits"]:
            notes.append(f"{r['candidate']} ({r['family']}) predicts one constant score in "
                         f"{r['constant_splits']} of {len(split_list)} splits: the loss's own "
                         "optimum ignores the features there (e.g. an unweighted hinge on rare "
                         "positives), not a threshold effect; its ranking metrics are those of "
                         "a constant")
    for r in rows:
        if r["unconverged_fits"]:
            notes.append(f"{r['candidate']} ({r['family']}): {r['unconverged_fits']} of "
                         f"{r['fits']} fits stopped before converging (their solver's max_iter); "
                         "its scores are those of the stopped fits")
        for text in r["fit_warnings"]:
            notes.append(f"{r['candidate']} ({r['family']}): {text}")
    n_train = T.smallest_training_set(split_list, "regression")
    if X.shape[1] >= n_train and any(f in families for f in ("linear", "mlp")):
        notes.append(f"the table has {X.shape[1]} features for training folds of {n_train} rows: "
                     "linear fits can interpolate a training fold, so their held-out scores vary "
                     "widely between splits and wide intervals make candidates "
                     "indistinguishable; reduce the features (or add rows) before trusting the "
                     "linear family's ranking")
    same = (len(set(best_by_family.values())) == 1) if len(best_by_family) > 1 else None
    if same is not None:
        notes.append("the best loss is the same in every family" if same else
                     "the best loss differs between families: "
                     + ", ".join(f"{f}: {b}" for f, b in best_by_family.items()))
    what = "business cost" if metric == "cost" else metric
    notes.insert(0, f"ranked by {what} ({'lower' if lower else 'higher'} is better) within each "
                    f"family; mean ± standard deviation over {cv} folds x {repeats} repeats; "
                    "differences to the family's best with 95% intervals (corrected resampled "
                    "t-test: the same splits for every candidate)")
    if task == "binary":
        notes.append(f"threshold metrics at a threshold tuned inside each training fold for "
                     f"{threshold_objective.replace('_', ' ')} (the threshold column: its median, "
                     "as a probability where the loss models one, else on the score)")
    advice = Advice(info, guide, rows, top["candidate"], top["family"], verdict, agreement, metric,
                    cv, repeats, families, best_by_family, same, time.perf_counter() - t0, notes,
                    tied=tied)
    advice.oof = {k: v[1] for k, v in results.items()}
    advice.oof_target, advice.classes = y, classes
    return advice


def _families(models, notes):
    from .._extras import install_hint

    if models is None:
        models = ("linear", "boosting") if T.boosting_available() else ("linear",)
        if "boosting" not in models:
            notes.append("LightGBM is not installed: the boosting family is left out "
                         f"({install_hint('lightgbm')})")
    if isinstance(models, str):
        models = [m.strip() for m in models.split(",") if m.strip()]
    models = list(dict.fromkeys(models))
    bad = [m for m in models if m not in T.FAMILIES]
    if bad or not models:
        raise TableError(f"models must be among {', '.join(T.FAMILIES)} (comma-separated); got "
                         f"{', '.join(map(repr, bad)) or 'none'}")
    if "boosting" in models and not T.boosting_available():
        models.remove("boosting")
        notes.append("LightGBM is not installed: the boosting family is left out "
                     f"({install_hint('lightgbm')})")
        if not models:
            from .._extras import MissingExtra

            raise MissingExtra("the boosting family needs lightgbm, which is not installed: "
                               f"{install_hint('lightgbm')}; or add linear or mlp to --models")
    return models


def _families_for_size(families, task, split_list, cv, notes):
    """The boosting family is left out (with a note) when its smallest training set cannot
    grow one split: LightGBM keeps ``min_child_samples`` (20) rows on each side of a split."""
    if "boosting" not in families:
        return families
    leaf = T.GBM_MIN_CHILD_SAMPLES
    smallest = T.smallest_training_set(split_list, task)
    if smallest >= 2 * leaf:
        return families
    need = T.rows_for_training_set(2 * leaf, task, cv)
    why = (f"its smallest training set has {smallest} rows "
           + ("(the inner folds that tune the threshold) " if task == "binary" else "")
           + f"and a tree needs {2 * leaf} ({leaf} on each side of a split); with {cv} folds "
           f"boosting takes part from about {need} rows")
    rest = [f for f in families if f != "boosting"]
    if not rest:
        raise TableError(f"too few rows for the boosting family: {why}. Add linear or mlp to "
                         "models, or lower cv")
    notes.append(f"the boosting family is left out: {why}")
    return rest


def _rows(cands, results, task, metric, cv):
    lower = metric in T.LOWER_IS_BETTER
    rows = []
    for family in dict.fromkeys(c.family for c in cands):
        fam = [c for c in cands if c.family == family]
        values = {c.label: results[(family, c.label)][0][metric] for c in fam}
        intervals = T.paired_intervals(values, lower, cv)
        fam_rows = []
        for c in fam:
            per_split, _, fit_s, fit_warnings = results[(family, c.label)]
            best, mean, lo, hi = intervals[c.label]
            statistic, check, ideal = T.estimate_of(c, task)
            verdict = "best" if c.label == best else ("indistinguishable" if lo <= 0.0
                                                      else "worse")
            fam_rows.append({
                "family": family, "candidate": c.label, "loss": c.loss, "params": c.params,
                "metric_mean": float(np.mean(per_split[metric])),
                "metric_std": float(np.std(per_split[metric], ddof=1))
                if len(per_split[metric]) > 1 else 0.0,
                "diff_mean": mean, "diff_low": lo, "diff_high": hi, "verdict": verdict,
                "metrics": {k: float(np.mean(v)) for k, v in per_split.items()
                            if k in T.METRICS[task] or k == "cost"},
                "estimates": statistic,
                "check": {"name": check, "ideal": ideal,
                          "value": float(np.mean(per_split[check])) if check in per_split
                          else None},
                "threshold": float(np.median(per_split["threshold"])) if "threshold" in per_split
                else None,
                "fit_seconds": fit_s,
                "fits": int(len(per_split[metric]) * (1 + (task == "binary") * T.INNER_FOLDS)),
                "unconverged_fits": fit_warnings["unconverged"],
                "fit_warnings": fit_warnings["warnings"],
                "constant_splits": int(np.sum(per_split["constant"]))})
        fam_rows.sort(key=lambda r: r["metric_mean"] if lower else -r["metric_mean"])
        rows += fam_rows
    return rows


def judge(guide, rows, top, metric, cv, repeats):
    """The rule of thumb against the measurement, in the recommended family: "agrees" when a
    loss the rule names is the best or cannot be told apart from it (its interval holds 0),
    "disagrees" when every loss it names is worse, "cannot tell" when it names none there."""
    rule = guide["losses"]
    fam = [r for r in rows if r["family"] == top["family"]]
    in_rule = [r for r in fam if r["candidate"] in rule]
    what = "business cost" if metric == "cost" else metric
    best_txt = (f"{top['candidate']} ({top['family']}) has the best {what} "
                f"({top['metric_mean']:.4g} ± {top['metric_std']:.2g} over {cv} x {repeats} "
                "splits)")
    if top["candidate"] in rule:
        return "agrees", f"The measurement agrees with the rule of thumb: {best_txt}."
    if not in_rule:
        return "cannot tell", (f"The rule of thumb ({', '.join(rule)}) has no candidate in the "
                               f"{top['family']} family; {best_txt}.")
    close = [r for r in in_rule if r["verdict"] == "indistinguishable"]
    if close:
        r = close[0]
        return "agrees", (f"The measurement agrees with the rule of thumb ({', '.join(rule)}): "
                          f"{best_txt}, and the rule's {r['candidate']} cannot be told apart "
                          f"from it (difference {r['diff_mean']:.3g}, 95% interval "
                          f"[{r['diff_low']:.3g}, {r['diff_high']:.3g}], which includes 0).")
    r = in_rule[0]
    return "disagrees", (f"The measurement disagrees with the rule of thumb ({', '.join(rule)}): "
                         f"{best_txt}; the rule's best, {r['candidate']}, is worse by "
                         f"{r['diff_mean']:.3g} (95% interval [{r['diff_low']:.3g}, "
                         f"{r['diff_high']:.3g}]).")


def tied_with(rows, top) -> list:
    """The candidates of the recommended family that cannot be told apart from it."""
    return [r["candidate"] for r in rows if r["family"] == top["family"]
            and r["verdict"] == "indistinguishable"]


def recommendation_text(advice) -> str:
    """The recommendation as one sentence: the best mean, and the losses it cannot be told
    apart from (then the data do not choose between them)."""
    head = f"{advice.recommendation} ({advice.recommendation_family})"
    if not advice.tied:
        return f"{head}: better than every other candidate of its family (95% intervals)"
    return (f"{head} has the best mean, but cannot be told apart from "
            f"{', '.join(advice.tied)} (their 95% intervals include 0): on these data any of "
            "them is as good a choice")
