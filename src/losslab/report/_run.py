"""``losslab report``: the whole lab in one run, written as one self-contained HTML file, a JSON
of every number it shows, and the PNG figures.

Sections follow the course's chapter: the loss zoo (verification and cards), regression losses
and outliers, classification and imbalance, asymmetric business losses, optimisers, the cost
landscape and its critical points, neural-network landscapes (with PyTorch; the report says so
when it is missing), how to choose (the advisor on the demonstration tables). Every number and
sentence comes from this run. Files are written under a temporary name and renamed into place,
so an interrupted run leaves no half-written file under a final name.
"""

from __future__ import annotations

import base64
import io
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .._core import names
from .._io import json_types, progress as progress_bar, write_atomic

__all__ = ["build_report"]

_CSS = ("body{font-family:sans-serif;max-width:1150px;margin:auto;padding:1em;color:#222}"
        "table{border-collapse:collapse;font-size:12px;margin:0.5em 0}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}th{background:#eee}"
        "img{max-width:100%}figure{margin:0.5em 0}figcaption{font-size:12px;color:#555}"
        ".note{font-size:12px;color:#444;margin-top:0}"
        ".meta{color:#555;font-size:13px}li{margin:0.2em 0}h2{border-bottom:2px solid #ddd}")


# ---- blocks: what a section holds (the template lays them out) -----------------------------------

def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}={_fmt(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return ", ".join(_fmt(x) for x in v)
    return "" if v is None else str(v)


def _text(kind, text):
    return {"kind": kind, "text": text}


def _claims(items):
    return {"kind": "claims", "lines": list(items)}


# column keys -> the heading a learner reads (other keys: underscores become spaces)
_HEADINGS = {
    "mae": "MAE", "rmse": "RMSE", "r2": "R²", "cost": "business cost", "f1": "F1",
    "average_precision": "average precision", "log_loss": "log loss", "roc_auc": "ROC AUC",
    "balanced_accuracy": "balanced accuracy", "tau": "tau (quantile)", "p_t": "p_t",
    "fd gradient": "gradient vs central differences", "fd hessian": "hessian vs central differences",
    "value": "value vs PyTorch", "gradient": "gradient vs PyTorch",
    "r2_leaky": "R² (scaler fitted on all data)", "r2_correct": "R² (scaler fitted on the training split)",
    "rmse_leaky": "RMSE (leaky)", "rmse_correct": "RMSE (correct)",
    "gd_lr0.1": "gd at lr 0.1", "gd_lr0.1_steps_to_1e-6": "gd at lr 0.1: steps to 1e-6",
}


def _heading(key) -> str:
    return _HEADINGS.get(key, str(key).replace("_", " "))


def _table(rows, columns=None, max_rows=60, note="", headings=None):
    """A table block: ``columns`` are the rows' keys, shown under readable headings; ``note``:
    the sentence under it that says how to read it."""
    columns = columns or (list(rows[0]) if rows else [])
    headings = headings or {}
    return {"kind": "table", "columns": [headings.get(c) or _heading(c) for c in columns],
            "rows": [[_fmt(r.get(c)) for c in columns] for r in rows[:max_rows]],
            "more": max(0, len(rows) - max_rows), "note": note}


# (lab, table) -> the sentence under it: what a learner would otherwise misread
_TABLE_NOTES = {
    ("gradients", "gradients"): "Each loss and its gradient at one error e = y_pred - y_true: "
    "MSE's gradient grows with the error, MAE's is its sign, Huber's is clipped at delta.",
    ("gradients", "focal"): "down weighting vs bce: the focal loss divided by cross-entropy at "
    "the same p_t, (1 - p_t)^gamma; near p_t = 1 (an easy example) it tends to 0.",
    ("outliers", "fits"): "Each line was trained by gradient descent (Adam); the exact columns "
    "are an independent solver's minimiser and gap to exact is the distance between the two: "
    "a small gap says the training converged, so the differences between losses are the "
    "losses', not the optimiser's.",
    ("optimizers", "runs"): "Every optimiser at every learning rate of its grid; steps to tol "
    "is empty when the tolerance was not reached within the step budget, diverged at names "
    "the step where the value blew up.",
    ("optimizers", "regression"): "final relative excess: (J - J*) / J*, the training cost above "
    "the least-squares optimum after the last epoch; epochs count passes over the data, "
    "updates count parameter steps (stochastic gd makes 200 per epoch).",
    ("scaling", "scales"): "c multiplies the feature: the hessian's eigenvalues scale with c², "
    "so one learning rate that suits c = 1 diverges at large c (diverged at) while Adam, whose "
    "step does not depend on the gradient's scale, reaches the same minimiser.",
    ("leakage", "splits"): "leaky: the scaler was fitted on all rows before the split; correct: "
    "on the training split only. The leaky R² is optimistic on drifting data.",
    ("mse_vs_ce", "logit_gradients"): "The gradient with respect to the logit of a confidently "
    "wrong prediction: MSE through a sigmoid vanishes as p tends to 0, cross-entropy's does not "
    "(ratio bce to mse).",
    ("imbalance", "held_out"): "Metrics on the held-out half at probability 0.5 (the lab's "
    "fixed threshold): a recall of 0 means the model predicts no positives at 0.5, not that "
    "it ranks them badly; average precision does not depend on the threshold.",
    ("asymmetric", "held_out"): "under prediction rate: the share of held-out cases where the "
    "actual exceeds the prediction (a stock-out, a late delivery); the business cost charges 3 "
    "per unit under and 1 per unit over, so lower is better.",
}


def _details(summary, blocks):
    return {"kind": "details", "summary": summary, "blocks": blocks}


def _gzip64(text: str) -> str:
    from .._io import gzip64

    return gzip64(text)


def _plotly(fig, caption=""):
    """An interactive view: the figure's JSON (with its frames, for sliders), gzipped; the page
    draws it once plotly.js is unpacked."""
    return {"kind": "plotly", "caption": caption, "gz": _gzip64(fig.to_json())}


def _png(fig, dpi, colors=64) -> bytes:
    """The figure as a PNG of ``colors`` palette colours: a fifth of the bytes of matplotlib's
    RGBA PNG (the default report's 54 figures: 1.1 MB instead of 5.5 MB), and no visible change
    on line plots, contours and shaded surfaces."""
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    img = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    out = io.BytesIO()
    img.quantize(colors, method=Image.Quantize.FASTOCTREE).save(out, format="png", optimize=True)
    return out.getvalue()


@dataclass
class _Context:
    """What every part function gets: the settings, and where its numbers and figures go. A
    part may run in a worker process: it writes no file, the figures travel back as bytes."""

    quick: bool
    seed: int
    has_torch: bool
    results: dict = field(default_factory=dict)
    pngs: dict = field(default_factory=dict)

    def figure(self, fig, name, caption="", dpi=90):
        """Keep ``figures/NAME.png`` and return the block that embeds it."""
        png = _png(fig, dpi)
        self.pngs[name] = png
        return {"kind": "figure", "name": name, "caption": caption,
                "png": base64.b64encode(png).decode()}


# ---- one function per part of the report -----------------------------------------------------

def _verification(ctx):
    from .. import verify

    rep = verify(n_cases=10 if ctx.quick else 100, seed=ctx.seed)
    ctx.results["verification"] = rep.to_dict()
    worst = {k: max((getattr(r, k) or 0.0) for r in rep.rows)
             for k in ("value_error", "gradient_error", "fd_gradient_error", "fd_hessian_error")}
    return [_text("para", f"{sum(r.ok for r in rep.rows)} of {len(rep.rows)} losses agree with "
                  f"their references ({rep.n_cases} random cases each; PyTorch "
                  f"{rep.torch_version or 'not installed: finite differences only'}). Worst "
                  f"relative errors: value {worst['value_error']:.1e}, gradient "
                  f"{worst['gradient_error']:.1e} against PyTorch; gradient "
                  f"{worst['fd_gradient_error']:.1e}, hessian {worst['fd_hessian_error']:.1e} "
                  "against central differences."),
            _table([{"loss": r.name, "oracle": r.oracle, "comparisons": r.comparisons,
                     "value": r.value_error, "gradient": r.gradient_error,
                     "fd gradient": r.fd_gradient_error, "fd hessian": r.fd_hessian_error,
                     "ok": "ok" if r.ok else "FAIL"} for r in rep.rows],
                   note="Worst relative errors, max |losslab - reference| / max |reference|, "
                   "over every case." + (
                       " An empty cell means that reference has no counterpart of the loss, "
                       "and central differences then check it alone."
                       if any(r.value_error is None or r.gradient_error is None
                              or r.fd_gradient_error is None or r.fd_hessian_error is None
                              for r in rep.rows) else ""))]


def _mathml(tex):
    """LaTeX as MathML (latex2mathml), which browsers render natively: no LaTeX source in the
    page, and no script."""
    from latex2mathml.converter import convert
    from markupsafe import Markup

    return Markup(convert(tex))


def _card_fields(name):
    """The card's fields, the formulas rendered (MathML) in place of their LaTeX source."""
    from . import cards

    rows = []
    for key, value in cards.card_rows(name):
        if key.endswith("(LaTeX)"):
            rows.append((key.replace(" (LaTeX)", ", as a formula"), _mathml(value)))
        else:
            rows.append((key, value))
    return rows


def _gallery(ctx):
    from . import cards

    blocks = [_text("h3", "Gallery: every loss along its probe"),
              ctx.figure(cards.gallery_figure(), "gallery", "Value of each loss along one "
                         "variable (error, probability, score, angle or distance; see each card)")]
    card_blocks = []
    for name in names():
        card_blocks += [_text("h4", name), {"kind": "fields", "rows": _card_fields(name)}]
        if not ctx.quick:
            # 60 dpi: one card a small picture, so that the page of every card stays light
            card_blocks.append(ctx.figure(cards.card_figure(name), f"card-{name}", dpi=60))
    return blocks + [_details(f"the {len(names())} loss cards", card_blocks)]


def _labs(*lab_names, view=None):
    """The part that runs these labs; ``view``: the name of a slider view drawn after them."""
    def run(ctx):
        from .. import labs

        blocks = [] if view is None else _view(ctx, view)
        for name in lab_names:
            r = labs.run(name, seed=ctx.seed)
            ctx.results.setdefault("labs", {})[name] = r.to_dict()
            blocks += [_text("h3", r.title), _claims(r.claims),
                       ctx.figure(r.figure(), f"lab-{name}", r.title)]
            blocks += [_details(f"table: {key.replace('_', ' ')} ({len(rows)} rows)",
                                [_table(rows, note=_TABLE_NOTES.get((name, key), ""))])
                       for key, rows in r.tables.items()]
        return blocks

    return run


_VIEW_TEXT = {
    "huber_delta": "Drag delta: Huber is MSE's half square inside |e| < delta and linear "
                   "outside, so a point's pull on the fit (the gradient) never exceeds delta.",
    "focal_gamma": "Drag gamma: at 0 focal is cross-entropy; as gamma grows, examples the model "
                   "already gets right (p_t near 1) contribute almost nothing, and the loss "
                   "concentrates on the hard ones.",
    "quantile": "Drag the quantile: the exact pinball-loss line climbs through the points, and "
                "the share of points below it follows the quantile asked for.",
}


def _view(ctx, name):
    """A slider view (precomputed frames) with the sentence that says what to watch."""
    from . import _views

    if name == "quantile":
        fig, rows = _views.quantile_view(seed=ctx.seed)
        ctx.results.setdefault("views", {})[name] = rows
    else:
        fig = getattr(_views, f"{name}_view")()
    return [_text("para", _VIEW_TEXT[name]), _plotly(fig)]


def _landscapes(ctx):
    from ..labs import landscapes as cases

    blocks, land = [], {}
    for r, interactive in cases.report_runs(ctx.quick, ctx.seed):
        land[r.name] = r.to_dict()
        blocks += [_text("h3", r.title), _claims(r.claims),
                   ctx.figure(r.figure(), r.name, r.title, dpi=80)]
        if interactive:
            fig = r.curves["landscape"].plotly_figure(
                paths=r.curves.get("paths"), title=r.title, log=r.curves.get("log", False),
                max_points=61)  # the surface at up to 61 x 61 points: a light page
            blocks.append(_plotly(fig, r.title))
    ctx.results["landscapes"] = land
    return blocks


def _neural(ctx):
    if not ctx.has_torch:
        ctx.results["neural"] = {"skipped": "PyTorch is not installed"}
        return [_text("para", "PyTorch is not installed, so this section was not run: install "
                      "the extra (pip install 'losslab[torch]') and run the report again.")]
    from ..labs import landscapes as cases

    r = cases.report_neural(ctx.quick, ctx.seed)
    ctx.results["neural"] = r.to_dict()
    return [_claims(r.claims), ctx.figure(r.figure(), r.name, r.title),
            _table(r.tables["networks"], note="hessian min/max eigenvalue: the extreme "
                   "curvatures at the trained minimum (Lanczos on exact Hessian-vector "
                   "products); abs min over max near 0 means nearly convex there; slice "
                   "nonconvex fraction: the share of the plotted plane where the surface "
                   "curves downwards.")]


def _advisor_headings(a):
    lower = a.lower_is_better
    return {a.metric: f"{_heading(a.metric)}, held out: mean ± sd "
                      f"({'lower' if lower else 'higher'} is better)",
            "diff to best [95% CI]": "difference to the family's best [95% interval]",
            "threshold": "tuned threshold (median)", "fit s": "fit seconds"}


def _advisor_note(a):
    text = (f"Each row is one candidate loss trained in one model family and scored on held-out "
            f"folds ({a.cv}-fold cross-validation x {a.repeats}, the same splits for every "
            "candidate); 'indistinguishable' means the 95% interval of the paired difference "
            "to the family's best contains 0: this data cannot tell the two apart.")
    if any(r["threshold"] is not None for r in a.table):
        text += (" Threshold metrics (balanced accuracy) are measured at the threshold tuned "
                 "inside each training fold, not at 0.5.")
    if any(r["constant_splits"] for r in a.table):
        text += (" A candidate that predicts one constant score (see the notes) scores the "
                 "base rate in average precision and 0.5 in ROC AUC and balanced accuracy.")
    return text


def _advisor(ctx):
    import matplotlib.pyplot as plt

    from ..advisor import advise, demo_table

    blocks, adv = [], {}
    for demo in ("delivery", "fraud", "demand"):
        X, y, features, meta = demo_table(demo, n=1000 if ctx.quick else 3000, seed=ctx.seed)
        costs = meta["costs"] or (None, None)
        a = advise(X, y, cost_under=costs[0], cost_over=costs[1], cv=3 if ctx.quick else 5,
                   repeats=1 if ctx.quick else 2, seed=ctx.seed)
        adv[demo] = a.to_dict()
        columns = a.columns()
        blocks += [_text("h3", f"{demo}: recommendation {a.recommendation} "
                               f"({a.recommendation_family})"),
                   _text("para", f"Recommendation: {a.recommendation_text}."),
                   _text("para", "Decision guide: " + ", ".join(a.guide["losses"]) + ". "
                         + " ".join(a.guide["reasons"])),
                   _text("para", f"{a.agreement} (verdict: {a.verdict})"),
                   _table([dict(zip(columns, cells)) for cells in a.cells()], columns,
                          headings=_advisor_headings(a), note=_advisor_note(a)),
                   _claims(a.notes)]
        for name, fig in a.figures().items():
            blocks.append(ctx.figure(fig, f"advisor_{demo}_{name}",
                                     f"{demo}: {name.replace('_', '-')} per model family"))
            plt.close(fig)
    ctx.results["advisor"] = adv
    return blocks


# (step, section key, section title, section introduction, the part's function), in order
_SECTIONS = {
    "zoo": ("The loss zoo", "{n} losses, each with an analytic gradient and hessian, checked in "
            "this run against PyTorch autograd and central differences."),
    "regression": ("Regression losses and outliers", ""),
    "classification": ("Classification and imbalance", ""),
    "asymmetric": ("Asymmetric business losses", ""),
    "optimizers": ("Optimisers, scaling and honest evaluation", ""),
    "landscape": ("The cost landscape and its critical points", ""),
    "neural": ("Neural-network landscapes (Li et al.)", ""),
    "choose": ("How to choose: the advisor on three tables", "For each table: what the target "
               "looks like, what the course's decision guide says, and a repeated cross-validated "
               "tournament of candidate losses in the linear and boosted model families, with "
               "paired 95% intervals of each difference to the best."),
}
_STEPS = [
    ("verification", "zoo", _verification),
    ("gallery", "zoo", _gallery),
    ("regression", "regression", _labs("gradients", "outliers", view="huber_delta")),
    ("classification", "classification", _labs("mse_vs_ce", "imbalance", view="focal_gamma")),
    ("asymmetric", "asymmetric", _labs("asymmetric", view="quantile")),
    ("optimizers", "optimizers", _labs("optimizers", "scaling", "leakage")),
    ("landscapes", "landscape", _landscapes),
    ("neural", "neural", _neural),
    ("advisor", "choose", _advisor),
]


def _render(sections, title, meta) -> str:
    import jinja2
    from plotly.offline import get_plotlyjs

    env = jinja2.Environment(loader=jinja2.PackageLoader("losslab.report", "templates"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    # plotly.js once, gzipped (4.8 MB -> 1.5 MB; 2.0 MB as base64), unpacked by the browser's
    # own DecompressionStream: the page stays one file and works offline
    interactive = any(b["kind"] == "plotly" for s in sections for b in _walk(s["blocks"]))
    return env.get_template("report.html.j2").render(
        title=title, meta=meta, css=_CSS, sections=sections,
        plotly_gz=_gzip64(get_plotlyjs()) if interactive else None)


def _walk(blocks):
    for b in blocks:
        yield b
        if b["kind"] == "details":
            yield from _walk(b["blocks"])


def build_report(out="losslab-report", *, quick: bool = False, seed: int = 0,
                 progress: bool = True, log=None, workers=None) -> dict:
    """Run the lab and write ``report.html``, ``report.json`` and ``figures/*.png`` into
    ``out``; returns the paths and the seconds each part took. ``log(line)`` is told when each
    part finishes (the command line prints it when the output is not a terminal).

    ``workers``: the parts (verification, gallery, each lab group, landscapes, the neural
    networks, the advisor) run on that many local processes, each with one BLAS thread; 1 runs
    them in this process. Default: the number of cores, at most 4. Every part seeds itself, so
    the numbers do not depend on ``workers``.

    Atomic as a whole: the report is built in a hidden folder beside ``out``, marked complete,
    and swapped in at the end: on Linux one atomic exchange of the two folders (``renameat2``
    with ``RENAME_EXCHANGE``), elsewhere two renames. A run that finds no report at ``out`` but a
    complete one beside it (left by a run killed between the two renames) restores the newest
    first; hidden folders are removed only when the run that made them is gone. So an
    interrupted run, or an interrupted run after that, always leaves one complete report, never
    a mix of two runs, and two runs into one folder never delete each other's work."""
    from .._core import validation

    workers = min(4, os.cpu_count() or 1) if workers is None else \
        validation.check_scalar(workers, "workers", ge=1, integer=True)
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    recover(target)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.build-{os.getpid()}-",
                                 dir=target.parent))
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(work, 0o777 & ~mask)  # mkdtemp's 0700 would become the report folder's mode
    try:
        res = _build(work, quick, seed, progress, log, workers)
        (work / COMPLETE).write_text(f"{time.time()!r}\n")
        if target.exists() and exchange(work, target):
            shutil.rmtree(work, ignore_errors=True)  # now the previous report
        else:
            old = None
            if target.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-{os.getpid()}-",
                                            dir=target.parent))
                old.rmdir()
                target.rename(old)
            work.rename(target)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    (target / COMPLETE).unlink(missing_ok=True)  # in place: the marker has done its work
    res.update(html=target / "report.html", json=target / "report.json",
               figures=target / "figures")
    return res


COMPLETE = ".complete"  # written last into a finished build: the folder is a whole report


def exchange(a: Path, b: Path) -> bool:
    """Swap two folders atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False where the
    system cannot, and then nothing was changed."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    AT_FDCWD, RENAME_EXCHANGE = -100, 2
    ok = renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0
    return ok


def _owner_alive(folder: Path) -> bool:
    """Whether the process named in a hidden folder's name (``.R.build-PID-xxxx``) still runs."""
    try:
        pid = int(folder.name.split("-")[1])
    except (IndexError, ValueError):
        return False  # an earlier version's name: no owner recorded
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(target: Path) -> None:
    """Before a run: if there is no report at ``target`` but a complete one beside it, put the
    newest back; then remove the hidden folders of runs that are gone."""
    siblings = [p for p in target.parent.glob(f".{target.name}.*") if p.is_dir()]
    if not (target / "report.html").exists():
        complete = [p for p in siblings if (p / COMPLETE).exists() or
                    (".old-" in p.name and (p / "report.html").exists())]
        if complete:
            newest = max(complete, key=lambda p: p.stat().st_mtime)
            if target.exists():
                shutil.rmtree(target, ignore_errors=True)
            newest.rename(target)
            siblings.remove(newest)
    for stale in siblings:
        if not _owner_alive(stale):
            shutil.rmtree(stale, ignore_errors=True)


# the parts' relative costs (seconds of a quick run on one core): the longest start first
_COST = {"optimizers": 8, "verification": 6, "regression": 5, "advisor": 5, "landscapes": 4,
         "neural": 4, "gallery": 3, "classification": 3, "asymmetric": 2}


def _run_part(step, quick, seed, has_torch):
    """One part of the report: (blocks, numbers, figures, seconds). Module-level and given only
    plain values, so that a worker process can run it."""
    part = next(fn for name, _, fn in _STEPS if name == step)
    ctx = _Context(quick, seed, has_torch)
    t0 = time.perf_counter()
    blocks = part(ctx)
    return blocks, ctx.results, ctx.pngs, time.perf_counter() - t0


def _merge(into, results):
    for key, value in results.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _parts(quick, seed, has_torch, workers):
    """Yield (step, result of ``_run_part``) as each part finishes: in-process one after the
    other, or on ``workers`` processes (loky), the longest parts first. An interrupt stops the
    workers at once."""
    steps = [name for name, _, _ in _STEPS]
    if workers <= 1:
        for step in steps:
            yield step, _run_part(step, quick, seed, has_torch)
        return
    import signal
    import threading
    from concurrent.futures import FIRST_COMPLETED, wait

    from joblib.externals.loky.process_executor import ProcessPoolExecutor

    from .._io import worker_setup

    # Ctrl-C sets a flag that the loop reads between short waits. A KeyboardInterrupt raised
    # wherever the main thread happens to be was lost or late: loky blocks SIGINT in the main
    # thread while it starts processes, and a signal taken by another thread does not wake a
    # main thread blocked on a lock.
    interrupted = []
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.append(True)) if main else None
    one = {v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    pool, ok = None, False
    try:
        _quiet_trackers()
        pool = ProcessPoolExecutor(max_workers=workers, env=one, initializer=worker_setup)
        # one part per worker at a time, the next submitted as one finishes: nothing waits in
        # the pool's queue, so an interrupt has only running parts to kill (loky's shutdown
        # with queued work raised a KeyError in its manager thread)
        todo = sorted(steps, key=lambda s: -_COST.get(s, 1))
        running = {}
        while todo or running:
            while todo and len(running) < workers:
                step = todo.pop(0)
                running[pool.submit(_run_part, step, quick, seed, has_torch)] = step
            if interrupted:
                raise KeyboardInterrupt
            done, _ = wait(running, timeout=0.1, return_when=FIRST_COMPLETED)
            for f in done:
                yield running.pop(f), f.result()
        ok = True
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)
        if pool is not None:  # on an interrupt or an error: the workers are killed, then reaped
            if not ok:
                _quiet_pool_manager()
            pool.shutdown(wait=True, kill_workers=not ok)


def _quiet_trackers() -> None:
    """Start the resource trackers (multiprocessing's and loky's) with stderr on /dev/null: they
    outlive a report killed with SIGKILL and then print "There appear to be N leaked semlock
    objects" while they clean those up, which is noise for a run that was killed on purpose.
    A tracker already running is left as it is."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(2)
    try:
        sys.stderr.flush()
        os.dup2(devnull, 2)
        from multiprocessing import resource_tracker

        resource_tracker.ensure_running()
        from joblib.externals.loky.backend import resource_tracker as loky_tracker

        loky_tracker.ensure_running()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _quiet_pool_manager() -> None:
    """An abandoned pool's manager thread may raise while its workers are killed (loky's
    "KeyError: 8", "Exception in thread ExecutorManagerThread"): the run is being given up, so
    those go nowhere; every other thread's exception is printed as before."""
    import threading

    previous = threading.excepthook
    if getattr(previous, "losslab_quiet", False):
        return

    def hook(args):
        name = getattr(args.thread, "name", "") or ""
        if "ExecutorManagerThread" in name or "QueueFeederThread" in name:
            return
        previous(args)

    hook.losslab_quiet = True
    threading.excepthook = hook


def _build(out, quick, seed, progress, log, workers):
    (out / "figures").mkdir(parents=True, exist_ok=True)
    import importlib.util

    try:  # found, not imported: the parts that need it import it (in the workers)
        has_torch = importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        has_torch = False
    results, blocks, timings, n_figures = {}, {}, {}, 0
    t_start = time.perf_counter()
    with progress_bar(len(_STEPS), "report", enabled=progress) as bar:
        for step, (part_blocks, numbers, pngs, seconds) in _parts(quick, seed, has_torch, workers):
            blocks[step], timings[step] = part_blocks, seconds
            _merge(results, numbers)
            for name, png in pngs.items():
                write_atomic(out / "figures" / f"{name}.png", png)
            n_figures += len(pngs)
            bar.describe(step)
            bar.advance()
            if log is not None:
                log(f"{step}: done in {seconds:.1f} s")
    sections = {}
    for step, key, _ in _STEPS:
        if key not in sections:
            title, intro = _SECTIONS[key]
            sections[key] = {"key": key, "title": title, "intro": intro.format(n=len(names())),
                             "blocks": []}
        sections[key]["blocks"] += blocks[step]
    total = time.perf_counter() - t_start
    results["timings_seconds"] = {**timings, "total": total}
    results["settings"] = {"quick": quick, "seed": seed, "python": platform.python_version(),
                           "torch": has_torch, "workers": workers}
    from .. import __version__

    meta = (f"losslab {__version__}, seed {seed}{', quick' if quick else ''}; run in "
            f"{total:.0f} s on Python {platform.python_version()} ({workers} process"
            f"{'es' if workers > 1 else ''}); every number below was computed in this run.")
    html_path, json_path = out / "report.html", out / "report.json"
    page = _render(list(sections.values()), "losslab report", meta)
    write_atomic(json_path, (json.dumps(json_types(results), indent=1, allow_nan=False) + "\n").encode())
    write_atomic(html_path, page.encode())
    return {"html": html_path, "json": json_path, "figures": out / "figures",
            "n_figures": n_figures, "seconds": total, "timings": timings}
